/* rc4.h: the RC4 stream cipher of protocol obfuscation (ed2k-protocol.md
 * §9), kept in 32-bit words: the state lookups and swaps of its loop run
 * faster than over bytes (nettle's arcfour), and a whole transfer passes
 * through it. Same keystream as any RC4. */
#ifndef MT_ED2K_RC4_H
#define MT_ED2K_RC4_H

#include <stddef.h>
#include <stdint.h>

typedef struct ed2k_rc4 {
    uint32_t s[256];
    uint32_t i, j;
} ed2k_rc4_t;

/* ed2k_rc4_set_key: c keyed with key_len (1..256) bytes of key. */
void ed2k_rc4_set_key(ed2k_rc4_t *c, const uint8_t *key, size_t key_len);

/* ed2k_rc4_crypt: n bytes of src XORed with the next n bytes of the
 * keystream into dst; dst and src may be the same buffer. */
void ed2k_rc4_crypt(ed2k_rc4_t *c, uint8_t *dst, const uint8_t *src, size_t n);

/* ed2k_rc4_keystream: the next n keystream bytes into out. */
void ed2k_rc4_keystream(ed2k_rc4_t *c, uint8_t *out, size_t n);

/* ed2k_rc4_skip: the next n keystream bytes thrown away (the discard of
 * §9.2, padding). */
void ed2k_rc4_skip(ed2k_rc4_t *c, size_t n);

#endif
