/* text.h: the text rules of the eD2K world (§0): strings are UTF-8, may
 * start with a BOM, and fall back to Latin-1 when they are not valid UTF-8. */
#ifndef MT_ED2K_TEXT_H
#define MT_ED2K_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ed2k_utf8_next: decodes the strict UTF-8 character at s (len bytes
 * left) into *cp; returns its length in bytes, or 0 when the bytes there
 * are not one (overlong, surrogate, above U+10FFFF, cut short) or len is 0. */
size_t ed2k_utf8_next(const void *s, size_t len, uint32_t *cp);

/* ed2k_utf8_is_valid: strict UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF). NUL bytes are valid. */
bool ed2k_utf8_is_valid(const void *s, size_t len);

/* ed2k_text_to_utf8: what aMule makes of wire or link text: a leading UTF-8
 * BOM is dropped; valid UTF-8 is kept as is, anything else is read as
 * Latin-1 (ISO-8859-1) and converted. Returns a new NUL-terminated string
 * (caller frees) and its length in *outlen when outlen is not NULL. */
char *ed2k_text_to_utf8(const void *s, size_t len, size_t *outlen);

#endif
