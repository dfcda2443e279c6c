/* rc4.c: RC4 (rc4.h) as nettle's ARCFOUR; the keystream is ARCFOUR over
 * zero bytes. */
#include "config.h"

#include "ed2k/rc4.h"

#include <string.h>

void
ed2k_rc4_set_key(ed2k_rc4_t *c, const uint8_t *key, size_t key_len)
{
    arcfour_set_key(&c->ctx, key_len, key);
}

void
ed2k_rc4_crypt(ed2k_rc4_t *c, uint8_t *dst, const uint8_t *src, size_t n)
{
    arcfour_crypt(&c->ctx, n, dst, src);
}

void
ed2k_rc4_keystream(ed2k_rc4_t *c, uint8_t *out, size_t n)
{
    memset(out, 0, n);
    arcfour_crypt(&c->ctx, n, out, out);
}

void
ed2k_rc4_skip(ed2k_rc4_t *c, size_t n)
{
    uint8_t scratch[256];
    while (n > 0) {
        size_t k = n < sizeof scratch ? n : sizeof scratch;
        ed2k_rc4_keystream(c, scratch, k);
        n -= k;
    }
}
