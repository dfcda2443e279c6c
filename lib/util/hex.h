/* hex.h: hexadecimal text: the one reader of a hex digit and the one
 * writer of bytes as lower-case hex, for hashes, ids and escapes. */
#ifndef MT_UTIL_HEX_H
#define MT_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* mt_hex_digit: the value (0 to 15) of the hex digit c, of either case,
 * or -1 when c is none (any other value, EOF and negative chars too). */
int mt_hex_digit(int c);

/* mt_hex_encode: the n bytes at in as 2n lower-case hex digits, then a
 * NUL: out holds 2n + 1 bytes. */
void mt_hex_encode(const void *in, size_t n, char *out);

/* mt_hex_decode: exactly 2n hex digits of either case (the len bytes at
 * s, no NUL needed) into the n bytes at out. -1 when len is not 2n or a
 * byte is not a hex digit; out is then left as it was. */
int mt_hex_decode(const char *s, size_t len, uint8_t *out, size_t n);

#endif
