/* obfs.c: client-to-client TCP obfuscation (ed2k-protocol.md §9.2): key
 * derivation with nettle's MD5, the handshake decoder of both sides, and
 * the RC4 (nettle's ARCFOUR) stream with its 1024-byte discard. */
#include "config.h"

#include "ed2k/obfs.h"

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
    STEP_DONE,
    STEP_FAILED,
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
rc4_setup(struct arcfour_ctx *ctx, const uint8_t hash[16], uint8_t key_byte, uint32_t key_part)
{
    uint8_t key[16];
    ed2k_obfs_key(hash, key_byte, key_part, key);
    arcfour_set_key(ctx, sizeof key, key);
    uint8_t junk[OBFS_DISCARD];
    memset(junk, 0, sizeof junk);
    arcfour_crypt(ctx, sizeof junk, junk, junk);
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
    arcfour_crypt(&o->send, n, body, body);
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
    arcfour_crypt(&o->send, n, reply, reply);
    return n;
}

/* fixed_part: checks the header collected in o->hdr at the end of a step. */
static ed2k_obfs_status_t
fixed_part(ed2k_obfs_t *o, mt_error_t **err)
{
    switch (o->step) {
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
        if (get_u32(o->hdr) != ED2K_OBFS_MAGIC) {
            mt_error_set(err, MT_ERR_PROTOCOL, "obfuscation handshake: wrong magic value");
            return ED2K_OBFS_ERROR;
        }
        if (o->step == STEP_I_BODY && o->hdr[4] != ED2K_OBFS_METHOD_OBFUSCATION) {
            mt_error_set(err, MT_ERR_UNSUPPORTED, "obfuscation handshake: method %u selected",
                         (unsigned)o->hdr[4]);
            return ED2K_OBFS_ERROR;
        }
        o->pad_left = o->step == STEP_R_BODY ? o->hdr[6] : o->hdr[5];
        o->step = o->step == STEP_R_BODY ? STEP_R_PAD : STEP_I_PAD;
        o->want = 0;
        return ED2K_OBFS_NEED_MORE;
    }
    return ED2K_OBFS_ERROR;
}

ed2k_obfs_status_t
ed2k_obfs_feed(ed2k_obfs_t *o, const uint8_t *in, size_t len, size_t *used,
               uint8_t reply[ED2K_OBFS_MAX_HANDSHAKE], size_t *reply_len, mt_error_t **err)
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
        if (o->step == STEP_R_PAD || o->step == STEP_I_PAD) {
            size_t n = len - i < o->pad_left ? len - i : o->pad_left;
            uint8_t junk[256];
            arcfour_crypt(&o->recv, n, junk, in + i); /* keeps the stream in step */
            i += n;
            o->pad_left -= n;
            if (o->pad_left > 0)
                break;
            if (o->step == STEP_R_PAD)
                *reply_len = build_reply(o, reply);
            o->step = STEP_DONE;
            *used = i;
            return ED2K_OBFS_DONE;
        }
        while (o->have < o->want && i < len) {
            uint8_t b = in[i++];
            if (o->step != STEP_R_HEAD)
                arcfour_crypt(&o->recv, 1, &b, &b);
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

void
ed2k_obfs_encrypt(ed2k_obfs_t *o, uint8_t *dst, const uint8_t *src, size_t n)
{
    arcfour_crypt(&o->send, n, dst, src);
}

void
ed2k_obfs_decrypt(ed2k_obfs_t *o, uint8_t *dst, const uint8_t *src, size_t n)
{
    arcfour_crypt(&o->recv, n, dst, src);
}
