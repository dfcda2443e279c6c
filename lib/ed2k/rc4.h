/* rc4.h: the RC4 stream cipher of protocol obfuscation (ed2k-protocol.md
 * §9), over nettle's ARCFOUR: a state that can be copied (the keystream
 * thread of rc4ahead.h continues one), the keystream alone, and a skip. */
#ifndef MT_ED2K_RC4_H
#define MT_ED2K_RC4_H

#include <nettle/arcfour.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ed2k_rc4 {
    struct arcfour_ctx ctx;
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
