/* rc4.c: RC4 over a table of 32-bit words (rc4.h); the byte loop kept
 * plain so the compiler schedules it well. */
#include "config.h"

#include "ed2k/rc4.h"

void
ed2k_rc4_set_key(ed2k_rc4_t *c, const uint8_t *key, size_t key_len)
{
    for (uint32_t i = 0; i < 256; i++)
        c->s[i] = i;
    uint32_t j = 0;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t t = c->s[i];
        j = (j + t + key[i % key_len]) & 255;
        c->s[i] = c->s[j];
        c->s[j] = t;
    }
    c->i = c->j = 0;
}

void
ed2k_rc4_crypt(ed2k_rc4_t *c, uint8_t *dst, const uint8_t *src, size_t n)
{
    uint32_t i = c->i, j = c->j, *s = c->s;
    for (size_t k = 0; k < n; k++) {
        i = (i + 1) & 255;
        uint32_t si = s[i];
        j = (j + si) & 255;
        uint32_t sj = s[j];
        s[i] = sj;
        s[j] = si;
        dst[k] = (uint8_t)(src[k] ^ s[(si + sj) & 255]);
    }
    c->i = i;
    c->j = j;
}

void
ed2k_rc4_keystream(ed2k_rc4_t *c, uint8_t *out, size_t n)
{
    uint32_t i = c->i, j = c->j, *s = c->s;
    for (size_t k = 0; k < n; k++) {
        i = (i + 1) & 255;
        uint32_t si = s[i];
        j = (j + si) & 255;
        uint32_t sj = s[j];
        s[i] = sj;
        s[j] = si;
        out[k] = (uint8_t)s[(si + sj) & 255];
    }
    c->i = i;
    c->j = j;
}

void
ed2k_rc4_skip(ed2k_rc4_t *c, size_t n)
{
    uint32_t i = c->i, j = c->j, *s = c->s;
    for (size_t k = 0; k < n; k++) {
        i = (i + 1) & 255;
        uint32_t si = s[i];
        j = (j + si) & 255;
        s[i] = s[j];
        s[j] = si;
    }
    c->i = i;
    c->j = j;
}
