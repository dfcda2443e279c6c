/* text.c: UTF-8 validation and the Latin-1 fallback used for names in tags
 * and links. */
#include "config.h"

#include "ed2k/text.h"

#include <string.h>

#include "util/xalloc.h"

bool
ed2k_utf8_is_valid(const void *s, size_t len)
{
    const uint8_t *p = s;
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF
            || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

char *
ed2k_text_to_utf8(const void *s, size_t len, size_t *outlen)
{
    const uint8_t *p = s;
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        p += 3;
        len -= 3;
    }
    char *out;
    size_t n;
    if (ed2k_utf8_is_valid(p, len)) {
        out = xmalloc(len + 1);
        if (len > 0)
            memcpy(out, p, len);
        n = len;
    } else {
        out = xmalloc(len * 2 + 1);
        n = 0;
        for (size_t i = 0; i < len; i++) {
            if (p[i] < 0x80) {
                out[n++] = (char)p[i];
            } else {
                out[n++] = (char)(0xC0 | p[i] >> 6);
                out[n++] = (char)(0x80 | (p[i] & 0x3F));
            }
        }
    }
    out[n] = '\0';
    if (outlen != NULL)
        *outlen = n;
    return out;
}
