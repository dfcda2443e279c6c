/* text.h: the text rules of the eD2K world (§0): strings are UTF-8, may
 * start with a BOM, and fall back to Latin-1 when they are not valid UTF-8. */
#ifndef MT_ED2K_TEXT_H
#define MT_ED2K_TEXT_H

#include <stddef.h>

/* ed2k_text_to_utf8: what aMule makes of wire or link text: a leading UTF-8
 * BOM is dropped; valid UTF-8 (mt_utf8_is_valid) is kept as is, anything
 * else is read as Latin-1 (ISO-8859-1) and converted. Returns a new NUL-terminated string
 * (caller frees) and its length in *outlen when outlen is not NULL. */
char *ed2k_text_to_utf8(const void *s, size_t len, size_t *outlen);

#endif
