/* kadcrypt.c: Kad, eD2K client and server datagram obfuscation (kadcrypt.h,
 * §9.4, §9.5) over nettle's MD5 and RC4: nothing of the keystream is
 * discarded for UDP. */
#include "config.h"

#include "ed2k/kadcrypt.h"

#include <nettle/arcfour.h>
#include <nettle/md5.h>
#include <string.h>

#include "util/random.h"

bool
kad_crypt_is_plain(uint8_t b)
{
    return b == 0xE3 || b == 0xC5 || b == 0xD4 || b == 0xE4 || b == 0xE5 || b == 0xA3 ||
           b == 0xB2;
}

bool
kad_crypt_is_kad(uint8_t marker)
{
    return (marker & 0x01) == 0;
}

static uint32_t
le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

uint32_t
kad_verify_key(uint32_t udp_key, uint32_t ip)
{
    uint8_t in[8] = { (uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8), (uint8_t)ip };
    put_le32(in + 4, udp_key);
    uint8_t d[MD5_DIGEST_SIZE];
    struct md5_ctx m;
    md5_init(&m);
    md5_update(&m, sizeof in, in);
    md5_digest(&m, sizeof d, d);
    uint32_t x = le32(d) ^ le32(d + 4) ^ le32(d + 8) ^ le32(d + 12);
    return x % 0xFFFFFFFEu + 1;
}

/* rc4_for: the RC4 state of one key: MD5(id wire form, or the verify key
 * u32 LE) followed by R. */
static void
rc4_for(struct arcfour_ctx *rc4, bool by_key, const kad_id_t *id, uint32_t key, const uint8_t r[2])
{
    uint8_t in[18];
    size_t n;
    if (by_key) {
        put_le32(in, key);
        n = 4;
    } else {
        kad_id_to_wire(id, in);
        n = 16;
    }
    memcpy(in + n, r, 2);
    uint8_t d[MD5_DIGEST_SIZE];
    struct md5_ctx m;
    md5_init(&m);
    md5_update(&m, n + 2, in);
    md5_digest(&m, sizeof d, d);
    arcfour_set_key(rc4, sizeof d, d);
}

/* try_key: decrypts with one key; -1 unless the magic matches and the
 * lengths hold. */
static int
try_key(const uint8_t *in, size_t len, bool by_key, const kad_id_t *me, uint32_t my_key,
        uint8_t *out, size_t *out_len, uint32_t *rk, uint32_t *sk)
{
    struct arcfour_ctx rc4;
    rc4_for(&rc4, by_key, me, my_key, in + 1);
    uint8_t head[5];
    arcfour_crypt(&rc4, sizeof head, head, in + 3);
    if (le32(head) != KAD_CRYPT_MAGIC)
        return -1;
    size_t pad = head[4], at = 3 + sizeof head;
    if (len < at + pad + 8)
        return -1;
    uint8_t skip[255], keys[8];
    arcfour_crypt(&rc4, pad, skip, in + at);
    at += pad;
    arcfour_crypt(&rc4, sizeof keys, keys, in + at);
    at += sizeof keys;
    *rk = le32(keys);
    *sk = le32(keys + 4);
    arcfour_crypt(&rc4, len - at, out, in + at);
    *out_len = len - at;
    return 0;
}

int
kad_crypt_decrypt(const uint8_t *in, size_t len, const kad_id_t *me, uint32_t my_key,
                  uint8_t *out, size_t *out_len, uint32_t *receiver_key, uint32_t *sender_key,
                  mt_error_t **err)
{
    if (len < KAD_CRYPT_HEADER_LEN || kad_crypt_is_plain(in[0]) || !kad_crypt_is_kad(in[0])) {
        mt_error_set(err, MT_ERR_PROTOCOL, "not an obfuscated Kad datagram");
        return -1;
    }
    bool by_key = (in[0] & 0x02) != 0;
    if (try_key(in, len, by_key, me, my_key, out, out_len, receiver_key, sender_key) == 0 ||
        try_key(in, len, !by_key, me, my_key, out, out_len, receiver_key, sender_key) == 0)
        return 0;
    mt_error_set(err, MT_ERR_PROTOCOL, "obfuscated Kad datagram: no key fits");
    return -1;
}

size_t
kad_crypt_encrypt_r(const uint8_t *in, size_t len, const kad_id_t *to, bool by_key,
                    uint32_t receiver_key, uint32_t sender_key, const uint8_t r[3], uint8_t *out)
{
    /* A marker that is no plain protocol byte, bit 0 clear, bit 1 = key. */
    uint8_t marker = (uint8_t)((r[0] & 0xFC) | (by_key ? 0x02 : 0));
    while (kad_crypt_is_plain(marker))
        marker = (uint8_t)(marker + 4);
    out[0] = marker;
    out[1] = r[1];
    out[2] = r[2];
    uint8_t plain[13];
    put_le32(plain, KAD_CRYPT_MAGIC);
    plain[4] = 0;
    put_le32(plain + 5, receiver_key);
    put_le32(plain + 9, sender_key);
    struct arcfour_ctx rc4;
    rc4_for(&rc4, by_key, to, receiver_key, out + 1);
    arcfour_crypt(&rc4, sizeof plain, out + 3, plain);
    arcfour_crypt(&rc4, len, out + KAD_CRYPT_HEADER_LEN, in);
    return len + KAD_CRYPT_HEADER_LEN;
}

size_t
kad_crypt_encrypt(const uint8_t *in, size_t len, const kad_id_t *to, bool by_key,
                  uint32_t receiver_key, uint32_t sender_key, uint8_t *out)
{
    uint8_t rnd[3] = { 0 };
    (void)mt_random_bytes(rnd, sizeof rnd, NULL);
    return kad_crypt_encrypt_r(in, len, to, by_key, receiver_key, sender_key, rnd, out);
}

/* ed2k_rc4_for: the RC4 state of a client datagram: MD5(hash, IP in
 * network order, 0x5B, R). */
static void
ed2k_rc4_for(struct arcfour_ctx *rc4, const uint8_t hash[16], uint32_t ip, const uint8_t r[2])
{
    uint8_t in[16 + 4 + 1 + 2];
    memcpy(in, hash, 16);
    put_le32(in + 16, ip); /* eD2K form: the first octet first */
    in[20] = ED2K_UDP_CRYPT_KEY_BYTE;
    memcpy(in + 21, r, 2);
    uint8_t d[MD5_DIGEST_SIZE];
    struct md5_ctx m;
    md5_init(&m);
    md5_update(&m, sizeof in, in);
    md5_digest(&m, sizeof d, d);
    arcfour_set_key(rc4, sizeof d, d);
}

int
ed2k_udp_crypt_decrypt(const uint8_t *in, size_t len, const uint8_t own_hash[16],
                       uint32_t from_ip, uint8_t *out, size_t *out_len, mt_error_t **err)
{
    if (len < ED2K_UDP_CRYPT_HEADER_LEN || kad_crypt_is_plain(in[0]) || kad_crypt_is_kad(in[0])) {
        mt_error_set(err, MT_ERR_PROTOCOL, "not an obfuscated client datagram");
        return -1;
    }
    struct arcfour_ctx rc4;
    ed2k_rc4_for(&rc4, own_hash, from_ip, in + 1);
    uint8_t head[5];
    arcfour_crypt(&rc4, sizeof head, head, in + 3);
    size_t at = 3 + sizeof head, pad = head[4];
    if (le32(head) != KAD_CRYPT_MAGIC || len < at + pad) {
        mt_error_set(err, MT_ERR_PROTOCOL, "obfuscated client datagram: %s",
                     le32(head) != KAD_CRYPT_MAGIC ? "wrong magic" : "padding past the end");
        return -1;
    }
    uint8_t skip[255];
    arcfour_crypt(&rc4, pad, skip, in + at);
    at += pad;
    arcfour_crypt(&rc4, len - at, out, in + at);
    *out_len = len - at;
    return 0;
}

size_t
ed2k_udp_crypt_encrypt(const uint8_t *in, size_t len, const uint8_t to_hash[16], uint32_t own_ip,
                       const uint8_t r[3], uint8_t *out)
{
    uint8_t marker = (uint8_t)(r[0] | 0x01); /* bit 0 set: an eD2K datagram */
    while (kad_crypt_is_plain(marker))
        marker = (uint8_t)(marker + 2);
    out[0] = marker;
    out[1] = r[1];
    out[2] = r[2];
    uint8_t head[5];
    put_le32(head, KAD_CRYPT_MAGIC);
    head[4] = 0;
    struct arcfour_ctx rc4;
    ed2k_rc4_for(&rc4, to_hash, own_ip, out + 1);
    arcfour_crypt(&rc4, sizeof head, out + 3, head);
    arcfour_crypt(&rc4, len, out + ED2K_UDP_CRYPT_HEADER_LEN, in);
    return len + ED2K_UDP_CRYPT_HEADER_LEN;
}

/* srv_rc4_for: the RC4 state of a server datagram: MD5(key u32 LE, the
 * direction byte, R). */
static void
srv_rc4_for(struct arcfour_ctx *rc4, uint32_t base_key, uint8_t dir, const uint8_t r[2])
{
    uint8_t in[4 + 1 + 2];
    put_le32(in, base_key);
    in[4] = dir;
    memcpy(in + 5, r, 2);
    uint8_t d[MD5_DIGEST_SIZE];
    struct md5_ctx m;
    md5_init(&m);
    md5_update(&m, sizeof in, in);
    md5_digest(&m, sizeof d, d);
    arcfour_set_key(rc4, sizeof d, d);
}

size_t
ed2k_srv_crypt_encrypt(const uint8_t *in, size_t len, uint32_t base_key, uint8_t dir,
                       const uint8_t r[3], uint8_t *out)
{
    out[0] = r[0] == 0xE3 ? 0x01 : r[0]; /* 0xE3 would read as a plain datagram */
    out[1] = r[1];
    out[2] = r[2];
    uint8_t head[5];
    put_le32(head, ED2K_SRV_CRYPT_MAGIC);
    head[4] = 0;
    struct arcfour_ctx rc4;
    srv_rc4_for(&rc4, base_key, dir, out + 1);
    arcfour_crypt(&rc4, sizeof head, out + 3, head);
    arcfour_crypt(&rc4, len, out + ED2K_SRV_CRYPT_HEADER_LEN, in);
    return len + ED2K_SRV_CRYPT_HEADER_LEN;
}

int
ed2k_srv_crypt_decrypt(const uint8_t *in, size_t len, uint32_t base_key, uint8_t dir,
                       uint8_t *out, size_t *out_len, mt_error_t **err)
{
    if (len <= ED2K_SRV_CRYPT_HEADER_LEN || in[0] == 0xE3) {
        mt_error_set(err, MT_ERR_PROTOCOL, "not an obfuscated server datagram");
        return -1;
    }
    struct arcfour_ctx rc4;
    srv_rc4_for(&rc4, base_key, dir, in + 1);
    uint8_t head[5];
    arcfour_crypt(&rc4, sizeof head, head, in + 3);
    size_t pad = head[4] & 15, at = ED2K_SRV_CRYPT_HEADER_LEN;
    if (le32(head) != ED2K_SRV_CRYPT_MAGIC || len - at <= pad) {
        mt_error_set(err, MT_ERR_PROTOCOL, "obfuscated server datagram: %s",
                     le32(head) != ED2K_SRV_CRYPT_MAGIC ? "wrong magic" : "padding past the end");
        return -1;
    }
    uint8_t skip[15];
    arcfour_crypt(&rc4, pad, skip, in + at);
    at += pad;
    arcfour_crypt(&rc4, len - at, out, in + at);
    *out_len = len - at;
    return 0;
}
