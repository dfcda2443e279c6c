/* utf8.h: the one strict UTF-8 decoder of Muleteer, used wherever text
 * from outside is checked: control-socket strings, HTTP parameters, eD2K
 * names, part-file metadata, categories. */
#ifndef MT_UTIL_UTF8_H
#define MT_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* mt_utf8_next: decodes the strict UTF-8 character at s (len bytes left)
 * into *cp; returns its length in bytes (1 to 4), or 0 when the bytes
 * there are not one (an overlong form, a surrogate, a code point above
 * U+10FFFF, a stray or missing continuation byte, a sequence cut short)
 * or len is 0. */
size_t mt_utf8_next(const void *s, size_t len, uint32_t *cp);

/* mt_utf8_is_valid: len bytes of strict UTF-8 (the rules of
 * mt_utf8_next). NUL bytes are valid: callers that keep C strings check
 * for them themselves. */
bool mt_utf8_is_valid(const void *s, size_t len);

/* mt_utf8_is_control: cp is a control character: C0 (below U+0020), DEL
 * (U+007F) or C1 (U+0080 to U+009F). */
bool mt_utf8_is_control(uint32_t cp);

#endif
