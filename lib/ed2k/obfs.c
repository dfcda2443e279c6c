/* obfs.c: TCP obfuscation (ed2k-protocol.md §9.2, §9.3): key derivation
 * with nettle's MD5, the Diffie-Hellman exchange with GMP, the handshake
 * decoders of all four sides, and the RC4 stream (rc4.h) with its
 * 1024-byte discard. */
#include "config.h"

#include "ed2k/obfs.h"

#include <gmp.h>
#include <nettle/md5.h>
#include <string.h>

#define OBFS_DISCARD 1024 /* keystream bytes thrown away per direction (§9) */

/* Decoder steps. */
enum {
    STEP_R_HEAD = 0, /* responder: <marker><R u32>, plain */
    STEP_R_BODY,     /* responder: enc<magic><supported><preferred><padlen> */
    STEP_R_PAD,      /* responder: enc<padding> */
    STEP_I_BODY,     /* initiator: enc<magic><selected><padlen> */
    STEP_I_PAD,      /* initiator: enc<padding> */
    STEP_DC_DH,      /* §9.3 client: <B 96>, plain */
    STEP_DC_BODY,    /* §9.3 client: enc<magic><supported><preferred><padlen> */
    STEP_DC_PAD,     /* §9.3 client: enc<padding> */
    STEP_DS_HEAD,    /* §9.3 server: <marker><A 96><padlen>, plain */
    STEP_DS_CPAD,    /* §9.3 server: <padding>, plain */
    STEP_DS_BODY,    /* §9.3 server: enc<magic><selected><padlen> */
    STEP_DS_PAD,     /* §9.3 server: enc<padding> */
    STEP_DONE,
    STEP_FAILED,
};

/* The 768-bit prime of the server handshake (§9.3), big-endian; g = 2. */
static const uint8_t dh_prime[ED2K_OBFS_DH_BYTES] = {
    0xF2, 0xBF, 0x52, 0xC5, 0x5F, 0x58, 0x7A, 0xDD, 0x53, 0x71, 0xA9, 0x36, 0xE8, 0x86, 0xEB, 0x3C,
    0x62, 0x17, 0xA3, 0x3E, 0xC3, 0x4C, 0xB4, 0x0D, 0xC7, 0x3A, 0x41, 0xA6, 0x43, 0xAF, 0xFC, 0xE7,
    0x21, 0xFC, 0x28, 0x63, 0x66, 0x53, 0x5B, 0xDB, 0xCE, 0x25, 0x9F, 0x22, 0x86, 0xDA, 0x4A, 0x91,
    0xB2, 0x07, 0xCB, 0xAA, 0x52, 0x55, 0xD4, 0xF6, 0x1C, 0xCE, 0xAE, 0xD4, 0x5A, 0xD5, 0xE0, 0x74,
    0x7D, 0xF7, 0x78, 0x18, 0x28, 0x10, 0x5F, 0x34, 0x0F, 0x76, 0x23, 0x87, 0xF8, 0x8B, 0x28, 0x91,
    0x42, 0xFB, 0x42, 0x68, 0x8F, 0x05, 0x15, 0x0F, 0x54, 0x8B, 0x5F, 0x43, 0x6A, 0xF7, 0x0D, 0xF3,
};

bool
ed2k_obfs_is_plain_marker(uint8_t b)
{
    return b == 0xE3 || b == 0xD4 || b == 0xC5;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void
ed2k_obfs_key(const uint8_t hash[16], uint8_t key_byte, uint32_t key_part, uint8_t out[16])
{
    uint8_t in[21];
    memcpy(in, hash, 16);
    in[16] = key_byte;
    put_u32(in + 17, key_part);
    struct md5_ctx md5;
    md5_init(&md5);
    md5_update(&md5, sizeof in, in);
    md5_digest(&md5, MD5_DIGEST_SIZE, out);
}

/* rc4_setup: ctx keyed for one direction, its first 1024 bytes dropped. */
static void
rc4_setup(ed2k_rc4_t *ctx, const uint8_t hash[16], uint8_t key_byte, uint32_t key_part)
{
    uint8_t key[16];
    ed2k_obfs_key(hash, key_byte, key_part, key);
    ed2k_rc4_set_key(ctx, key, sizeof key);
    ed2k_rc4_skip(ctx, OBFS_DISCARD);
}

/* dh_powm: out = base^exp mod p as 96 bytes big-endian (left-padded);
 * base NULL means g = 2. */
static void
dh_powm(uint8_t out[ED2K_OBFS_DH_BYTES], const uint8_t *base, const uint8_t exp[16])
{
    mpz_t b, e, m, r;
    mpz_inits(b, e, m, r, NULL);
    if (base != NULL)
        mpz_import(b, ED2K_OBFS_DH_BYTES, 1, 1, 1, 0, base);
    else
        mpz_set_ui(b, 2);
    mpz_import(e, 16, 1, 1, 1, 0, exp);
    mpz_import(m, ED2K_OBFS_DH_BYTES, 1, 1, 1, 0, dh_prime);
    mpz_powm(r, b, e, m);
    size_t n = (mpz_sizeinbase(r, 2) + 7) / 8;
    memset(out, 0, ED2K_OBFS_DH_BYTES);
    if (mpz_sgn(r) != 0)
        mpz_export(out + ED2K_OBFS_DH_BYTES - n, NULL, 1, 1, 1, 0, r);
    mpz_clears(b, e, m, r, NULL);
}

/* dh_keys: both directions keyed from the shared secret S = peer^secret
 * mod p: MD5(S || 34) for the client's sending side, MD5(S || 203) for the
 * server's (§9.3), each with the 1024-byte discard. */
static void
dh_keys(ed2k_obfs_t *o, const uint8_t peer_value[ED2K_OBFS_DH_BYTES], bool client)
{
    uint8_t buf[ED2K_OBFS_DH_BYTES + 1];
    dh_powm(buf, peer_value, o->dh_secret);
    memset(o->dh_secret, 0, sizeof o->dh_secret);
    uint8_t key[16];
    struct md5_ctx md5;
    for (int i = 0; i < 2; i++) {
        buf[ED2K_OBFS_DH_BYTES] = i == 0 ? ED2K_OBFS_KEY_REQUESTER : ED2K_OBFS_KEY_SERVER;
        md5_init(&md5);
        md5_update(&md5, sizeof buf, buf);
        md5_digest(&md5, sizeof key, key);
        ed2k_rc4_t *ctx = (i == 0) == client ? &o->send : &o->recv;
        ed2k_rc4_set_key(ctx, key, sizeof key);
        ed2k_rc4_skip(ctx, OBFS_DISCARD);
    }
}

size_t
ed2k_obfs_dh_client_start(ed2k_obfs_t *o, const uint8_t secret[16], const ed2k_obfs_random_t *rnd,
                          uint8_t out[1 + ED2K_OBFS_DH_BYTES + 1 + 15])
{
    memset(o, 0, sizeof *o);
    o->initiator = true;
    memcpy(o->dh_secret, secret, 16);
    o->rnd = *rnd;
    o->rnd.pad_len %= 16;
    out[0] = rnd->marker;
    dh_powm(out + 1, NULL, secret);
    out[1 + ED2K_OBFS_DH_BYTES] = o->rnd.pad_len;
    memcpy(out + 2 + ED2K_OBFS_DH_BYTES, rnd->pad, o->rnd.pad_len);
    o->step = STEP_DC_DH;
    o->want = ED2K_OBFS_DH_BYTES;
    return 2 + ED2K_OBFS_DH_BYTES + o->rnd.pad_len;
}

void
ed2k_obfs_dh_server_init(ed2k_obfs_t *o, const uint8_t secret[16], const ed2k_obfs_random_t *rnd)
{
    memset(o, 0, sizeof *o);
    memcpy(o->dh_secret, secret, 16);
    o->rnd = *rnd;
    o->step = STEP_DS_HEAD;
    o->want = 1 + ED2K_OBFS_DH_BYTES + 1;
}

size_t
ed2k_obfs_initiator_start(ed2k_obfs_t *o, const uint8_t peer_hash[16],
                          const ed2k_obfs_random_t *rnd, uint8_t out[ED2K_OBFS_MAX_HANDSHAKE])
{
    memset(o, 0, sizeof *o);
    o->initiator = true;
    rc4_setup(&o->send, peer_hash, ED2K_OBFS_KEY_REQUESTER, rnd->key_part);
    rc4_setup(&o->recv, peer_hash, ED2K_OBFS_KEY_SERVER, rnd->key_part);
    out[0] = rnd->marker;
    put_u32(out + 1, rnd->key_part);
    uint8_t *body = out + 5;
    put_u32(body, ED2K_OBFS_MAGIC);
    body[4] = ED2K_OBFS_METHOD_OBFUSCATION; /* supported */
    body[5] = ED2K_OBFS_METHOD_OBFUSCATION; /* preferred */
    body[6] = rnd->pad_len;
    memcpy(body + 7, rnd->pad, rnd->pad_len);
    size_t n = 7 + (size_t)rnd->pad_len;
    ed2k_rc4_crypt(&o->send, body, body, n);
    o->step = STEP_I_BODY;
    o->want = 6;
    return 5 + n;
}

void
ed2k_obfs_responder_init(ed2k_obfs_t *o, const uint8_t own_hash[16], const ed2k_obfs_random_t *rnd)
{
    memset(o, 0, sizeof *o);
    o->initiator = false;
    memcpy(o->own_hash, own_hash, 16);
    o->rnd = *rnd;
    o->step = STEP_R_HEAD;
    o->want = 5;
}

/* build_reply: the responder's answer, encrypted (§9.2). */
static size_t
build_reply(ed2k_obfs_t *o, uint8_t *reply)
{
    put_u32(reply, ED2K_OBFS_MAGIC);
    reply[4] = ED2K_OBFS_METHOD_OBFUSCATION; /* selected */
    reply[5] = o->rnd.pad_len;
    memcpy(reply + 6, o->rnd.pad, o->rnd.pad_len);
    size_t n = 6 + (size_t)o->rnd.pad_len;
    ed2k_rc4_crypt(&o->send, reply, reply, n);
    return n;
}

/* build_dh_client_reply: the client's last part of §9.3, encrypted:
 * <magic><method selected><padlen 0..15><padding>. */
static size_t
build_dh_client_reply(ed2k_obfs_t *o, uint8_t *reply)
{
    put_u32(reply, ED2K_OBFS_MAGIC);
    reply[4] = ED2K_OBFS_METHOD_OBFUSCATION;
    reply[5] = o->rnd.pad_len;
    memcpy(reply + 6, o->rnd.pad, o->rnd.pad_len);
    size_t n = 6 + (size_t)o->rnd.pad_len;
    ed2k_rc4_crypt(&o->send, reply, reply, n);
    return n;
}

/* build_dh_server_reply: <B 96> then enc<magic><supported><preferred>
 * <padlen><padding>, and the keys from the client's A (in o->hdr + 1). */
static size_t
build_dh_server_reply(ed2k_obfs_t *o, uint8_t *reply)
{
    uint8_t secret[16];
    memcpy(secret, o->dh_secret, 16);
    dh_powm(reply, NULL, secret);
    dh_keys(o, o->hdr + 1, false);
    uint8_t *body = reply + ED2K_OBFS_DH_BYTES;
    put_u32(body, ED2K_OBFS_MAGIC);
    body[4] = ED2K_OBFS_METHOD_OBFUSCATION; /* supported */
    body[5] = ED2K_OBFS_METHOD_OBFUSCATION; /* preferred */
    body[6] = o->rnd.pad_len;
    memcpy(body + 7, o->rnd.pad, o->rnd.pad_len);
    size_t n = 7 + (size_t)o->rnd.pad_len;
    ed2k_rc4_crypt(&o->send, body, body, n);
    return ED2K_OBFS_DH_BYTES + n;
}

/* fixed_part: checks the header collected in o->hdr at the end of a step. */
static ed2k_obfs_status_t
fixed_part(ed2k_obfs_t *o, mt_error_t **err)
{
    switch (o->step) {
    case STEP_DC_DH:
        dh_keys(o, o->hdr, true);
        o->step = STEP_DC_BODY;
        o->want = 7;
        return ED2K_OBFS_NEED_MORE;
    case STEP_DS_HEAD:
        o->pad_left = o->hdr[1 + ED2K_OBFS_DH_BYTES];
        o->step = STEP_DS_CPAD;
        o->want = 0;
        return ED2K_OBFS_NEED_MORE;
    case STEP_R_HEAD: {
        uint32_t r = get_u32(o->hdr + 1);
        rc4_setup(&o->recv, o->own_hash, ED2K_OBFS_KEY_REQUESTER, r);
        rc4_setup(&o->send, o->own_hash, ED2K_OBFS_KEY_SERVER, r);
        o->step = STEP_R_BODY;
        o->want = 7;
        return ED2K_OBFS_NEED_MORE;
    }
    case STEP_R_BODY:
    case STEP_I_BODY:
    case STEP_DC_BODY:
    case STEP_DS_BODY: {
        if (get_u32(o->hdr) != ED2K_OBFS_MAGIC) {
            mt_error_set(err, MT_ERR_PROTOCOL, "obfuscation handshake: wrong magic value");
            return ED2K_OBFS_ERROR;
        }
        /* the answering sides name one method: it must be obfuscation */
        bool selects = o->step == STEP_I_BODY || o->step == STEP_DS_BODY;
        if (selects && o->hdr[4] != ED2K_OBFS_METHOD_OBFUSCATION) {
            mt_error_set(err, MT_ERR_UNSUPPORTED, "obfuscation handshake: method %u selected",
                         (unsigned)o->hdr[4]);
            return ED2K_OBFS_ERROR;
        }
        o->pad_left = selects ? o->hdr[5] : o->hdr[6];
        o->step = o->step == STEP_R_BODY    ? STEP_R_PAD
                  : o->step == STEP_I_BODY  ? STEP_I_PAD
                  : o->step == STEP_DC_BODY ? STEP_DC_PAD
                                            : STEP_DS_PAD;
        o->want = 0;
        return ED2K_OBFS_NEED_MORE;
    }
    }
    return ED2K_OBFS_ERROR;
}

ed2k_obfs_status_t
ed2k_obfs_feed(ed2k_obfs_t *o, const uint8_t *in, size_t len, size_t *used,
               uint8_t reply[ED2K_OBFS_MAX_SERVER_MSG], size_t *reply_len, mt_error_t **err)
{
    size_t i = 0;
    *reply_len = 0;
    if (o->step == STEP_FAILED || o->step == STEP_DONE) {
        *used = 0;
        if (o->step == STEP_FAILED)
            mt_error_set(err, MT_ERR_PROTOCOL, "obfuscation handshake already failed");
        return o->step == STEP_DONE ? ED2K_OBFS_DONE : ED2K_OBFS_ERROR;
    }
    for (;;) {
        if (o->step == STEP_R_PAD || o->step == STEP_I_PAD || o->step == STEP_DC_PAD ||
            o->step == STEP_DS_PAD || o->step == STEP_DS_CPAD) {
            size_t n = len - i < o->pad_left ? len - i : o->pad_left;
            if (o->step != STEP_DS_CPAD) /* the client's first padding is plain */
                ed2k_rc4_skip(&o->recv, n); /* keeps the stream in step */
            i += n;
            o->pad_left -= n;
            if (o->pad_left > 0)
                break;
            if (o->step == STEP_DS_CPAD) {
                *reply_len = build_dh_server_reply(o, reply);
                o->step = STEP_DS_BODY;
                o->want = 6;
                continue;
            }
            if (o->step == STEP_R_PAD)
                *reply_len = build_reply(o, reply);
            else if (o->step == STEP_DC_PAD)
                *reply_len = build_dh_client_reply(o, reply);
            o->step = STEP_DONE;
            *used = i;
            return ED2K_OBFS_DONE;
        }
        while (o->have < o->want && i < len) {
            uint8_t b = in[i++];
            if (o->step != STEP_R_HEAD && o->step != STEP_DC_DH && o->step != STEP_DS_HEAD)
                ed2k_rc4_crypt(&o->recv, &b, &b, 1);
            o->hdr[o->have++] = b;
        }
        if (o->have < o->want)
            break;
        o->have = 0;
        ed2k_obfs_status_t st = fixed_part(o, err);
        if (st == ED2K_OBFS_ERROR) {
            o->step = STEP_FAILED;
            *used = i;
            return st;
        }
    }
    *used = i;
    return ED2K_OBFS_NEED_MORE;
}

/* stream: n bytes of one direction through its cipher: from the
 * keystream thread once there is one, else from the state, which gets a
 * thread when the direction turns out to be a bulk transfer. */
static void
stream(ed2k_obfs_t *o, ed2k_rc4_t *rc4, ed2k_rc4_ahead_t **ahead, uint64_t *moved, uint8_t *dst,
       const uint8_t *src, size_t n)
{
    if (*ahead != NULL) {
        ed2k_rc4_ahead_crypt(*ahead, dst, src, n);
        return;
    }
    ed2k_rc4_crypt(rc4, dst, src, n);
    *moved += n;
    if (o->may_ahead && *moved >= ED2K_OBFS_AHEAD_AFTER)
        *ahead = ed2k_rc4_ahead_start(rc4); /* NULL: the state goes on */
}

void
ed2k_obfs_encrypt(ed2k_obfs_t *o, uint8_t *dst, const uint8_t *src, size_t n)
{
    stream(o, &o->send, &o->ahead_send, &o->sent, dst, src, n);
}

void
ed2k_obfs_decrypt(ed2k_obfs_t *o, uint8_t *dst, const uint8_t *src, size_t n)
{
    stream(o, &o->recv, &o->ahead_recv, &o->received, dst, src, n);
}

void
ed2k_obfs_allow_ahead(ed2k_obfs_t *o)
{
    o->may_ahead = true;
}

void
ed2k_obfs_clear(ed2k_obfs_t *o)
{
    if (o == NULL)
        return;
    ed2k_rc4_ahead_free(o->ahead_send);
    ed2k_rc4_ahead_free(o->ahead_recv);
    o->ahead_send = o->ahead_recv = NULL;
    o->may_ahead = false;
}
