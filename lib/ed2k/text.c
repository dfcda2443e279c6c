/* text.c: the Latin-1 fallback used for names in tags and links (the
 * strict UTF-8 decoder itself is util/utf8). */
#include "config.h"

#include "ed2k/text.h"

#include <stdint.h>
#include <string.h>

#include "util/utf8.h"
#include "util/xalloc.h"

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
    if (mt_utf8_is_valid(p, len)) {
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
