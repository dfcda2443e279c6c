/* hex.c: hexadecimal digits read and written (hex.h). */
#include "config.h"

#include "util/hex.h"

int
mt_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void
mt_hex_encode(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *b = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int
mt_hex_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n)
        return -1;
    /* Check every digit first, so a bad one leaves out untouched. */
    for (size_t i = 0; i < len; i++)
        if (mt_hex_digit((unsigned char)s[i]) < 0)
            return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(mt_hex_digit((unsigned char)s[2 * i]) << 4 |
                           mt_hex_digit((unsigned char)s[2 * i + 1]));
    return 0;
}
