/* secident.c: secure user identification with nettle's RSA (hogweed): the
 * key pair and its state file, the SubjectPublicKeyInfo blob, PKCS #1 v1.5
 * SHA-1 signatures over a peer's key and challenge, and their packets. */
#include "config.h"

#include "ed2k/secident.h"

#include <errno.h>
#include <nettle/asn1.h>
#include <nettle/bignum.h>
#include <nettle/buffer.h>
#include <nettle/rsa.h>
#include <nettle/sha1.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/opcodes.h"
#include "ed2k/packet.h"
#include "util/file.h"
#include "util/random.h"
#include "util/xalloc.h"

struct ed2k_secident_key {
    struct rsa_public_key pub;
    struct rsa_private_key priv;
    uint8_t blob[ED2K_SECIDENT_MAX_KEY + 48];
    size_t blob_len;
};

/* rsaEncryption's AlgorithmIdentifier: OID 1.2.840.113549.1.1.1, NULL. */
static const uint8_t rsa_alg_id[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                      0x0d, 0x01, 0x01, 0x01, 0x05, 0x00 };

/* ---- DER of the public key ---- */

/* der_head: a tag and a definite length (short or 0x81 form: the blob is
 * small) at out; the bytes written. */
static size_t
der_head(uint8_t *out, uint8_t tag, size_t len)
{
    out[0] = tag;
    if (len < 0x80) {
        out[1] = (uint8_t)len;
        return 2;
    }
    out[1] = 0x81;
    out[2] = (uint8_t)len;
    return 3;
}

static size_t
der_head_len(size_t len)
{
    return len < 0x80 ? 2 : 3;
}

/* der_integer: a non-negative INTEGER (a leading 0 when the top bit is
 * set, as DER wants). */
static size_t
der_integer(uint8_t *out, const mpz_t x)
{
    size_t n = nettle_mpz_sizeinbase_256_s(x);
    size_t h = der_head(out, 0x02, n);
    nettle_mpz_get_str_256(n, out + h, x);
    return h + n;
}

static size_t
der_integer_len(const mpz_t x)
{
    size_t n = nettle_mpz_sizeinbase_256_s(x);
    return der_head_len(n) + n;
}

/* make_blob: SEQUENCE { AlgorithmIdentifier, BIT STRING { SEQUENCE { n, e } } },
 * what Crypto++'s X509PublicKey::DEREncode writes and eMule sends. */
static int
make_blob(ed2k_secident_key_t *k)
{
    size_t rsapub = der_integer_len(k->pub.n) + der_integer_len(k->pub.e);
    size_t seq = der_head_len(rsapub) + rsapub;
    size_t bits = 1 + seq;
    size_t body = sizeof rsa_alg_id + der_head_len(bits) + bits;
    size_t total = der_head_len(body) + body;
    if (total > ED2K_SECIDENT_MAX_KEY)
        return -1;
    uint8_t *o = k->blob;
    o += der_head(o, 0x30, body);
    memcpy(o, rsa_alg_id, sizeof rsa_alg_id);
    o += sizeof rsa_alg_id;
    o += der_head(o, 0x03, bits);
    *o++ = 0; /* no unused bits */
    o += der_head(o, 0x30, rsapub);
    o += der_integer(o, k->pub.n);
    o += der_integer(o, k->pub.e);
    k->blob_len = (size_t)(o - k->blob);
    return 0;
}

/* parse_blob: the n and e of a SubjectPublicKeyInfo into pub (initialised
 * by the caller); false when it is anything else. */
static bool
parse_blob(const uint8_t *blob, size_t len, struct rsa_public_key *pub)
{
    if (blob == NULL || len == 0 || len > ED2K_SECIDENT_MAX_KEY)
        return false;
    struct asn1_der_iterator i;
    if (asn1_der_iterator_first(&i, len, blob) != ASN1_ITERATOR_CONSTRUCTED ||
        i.type != ASN1_SEQUENCE || asn1_der_decode_constructed_last(&i) != ASN1_ITERATOR_CONSTRUCTED ||
        i.type != ASN1_SEQUENCE || i.length < 11 || memcmp(i.data, rsa_alg_id + 2, 11) != 0)
        return false;
    if (asn1_der_iterator_next(&i) != ASN1_ITERATOR_PRIMITIVE || i.type != ASN1_BITSTRING ||
        asn1_der_decode_bitstring_last(&i) != ASN1_ITERATOR_CONSTRUCTED)
        return false;
    return rsa_public_key_from_der_iterator(pub, 1024, &i) != 0;
}

bool
ed2k_secident_key_is_valid(const uint8_t *blob, size_t len)
{
    struct rsa_public_key pub;
    rsa_public_key_init(&pub);
    bool ok = parse_blob(blob, len, &pub);
    rsa_public_key_clear(&pub);
    return ok;
}

/* ---- the key pair ---- */

static ed2k_secident_key_t *
key_new(void)
{
    ed2k_secident_key_t *k = xcalloc(1, sizeof *k);
    rsa_public_key_init(&k->pub);
    rsa_private_key_init(&k->priv);
    return k;
}

void
ed2k_secident_free(ed2k_secident_key_t *k)
{
    if (k == NULL)
        return;
    rsa_public_key_clear(&k->pub);
    rsa_private_key_clear(&k->priv);
    free(k);
}

struct rnd {
    bool failed;
};

static void
rnd_fill(void *ctx, size_t len, uint8_t *dst)
{
    struct rnd *r = ctx;
    if (mt_random_bytes(dst, len, NULL) != 0)
        r->failed = true;
}

ed2k_secident_key_t *
ed2k_secident_generate(mt_error_t **err)
{
    ed2k_secident_key_t *k = key_new();
    struct rnd r = { false };
    mpz_set_ui(k->pub.e, 17); /* Crypto++'s default: a 76-byte blob */
    if (!rsa_generate_keypair(&k->pub, &k->priv, &r, rnd_fill, NULL, NULL, ED2K_SECIDENT_BITS, 0) ||
        r.failed || make_blob(k) != 0) {
        mt_error_set(err, MT_ERR_IO, "cannot generate the secure ident key");
        ed2k_secident_free(k);
        return NULL;
    }
    return k;
}

ed2k_secident_key_t *
ed2k_secident_from_text(const uint8_t *text, size_t len, mt_error_t **err)
{
    ed2k_secident_key_t *k = key_new();
    if (!rsa_keypair_from_sexp(&k->pub, &k->priv, 1024, len, text) ||
        make_blob(k) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "not a secure ident key (an RSA s-expression)");
        ed2k_secident_free(k);
        return NULL;
    }
    return k;
}

uint8_t *
ed2k_secident_to_text(const ed2k_secident_key_t *k, size_t *len)
{
    struct nettle_buffer b;
    nettle_buffer_init(&b);
    if (!rsa_keypair_to_sexp(&b, NULL, &k->pub, &k->priv))
        abort(); /* only out of memory */
    uint8_t *out = xmalloc(b.size);
    memcpy(out, b.contents, b.size);
    *len = b.size;
    nettle_buffer_clear(&b);
    return out;
}

ed2k_secident_key_t *
ed2k_secident_load_or_create(const char *path, mt_error_t **err)
{
    mt_error_t *e = NULL;
    size_t len;
    uint8_t *text = mt_file_read(path, 16384, &len, &e);
    if (text != NULL) {
        ed2k_secident_key_t *k = ed2k_secident_from_text(text, len, err);
        free(text);
        return k;
    }
    if (e->code != MT_ERR_NOT_FOUND) {
        mt_error_propagate(err, e);
        return NULL;
    }
    mt_error_free(e);
    ed2k_secident_key_t *k = ed2k_secident_generate(err);
    if (k == NULL)
        return NULL;
    text = ed2k_secident_to_text(k, &len);
    int rc = mt_file_write_atomic(path, text, len, 0600, err);
    memset(text, 0, len);
    free(text);
    if (rc != 0) {
        ed2k_secident_free(k);
        return NULL;
    }
    return k;
}

const uint8_t *
ed2k_secident_pubkey(const ed2k_secident_key_t *k, size_t *len)
{
    *len = k->blob_len;
    return k->blob;
}

/* ---- signatures ---- */

/* hash_message: SHA-1 of key | challenge [| ip | ip_kind], all LE. */
static void
hash_message(struct sha1_ctx *h, const uint8_t *key, size_t key_len, uint32_t challenge,
             uint8_t ip_kind, uint32_t ip)
{
    uint8_t tail[9] = { (uint8_t)challenge, (uint8_t)(challenge >> 8), (uint8_t)(challenge >> 16),
                        (uint8_t)(challenge >> 24), (uint8_t)ip, (uint8_t)(ip >> 8),
                        (uint8_t)(ip >> 16), (uint8_t)(ip >> 24), ip_kind };
    sha1_init(h);
    sha1_update(h, key_len, key);
    sha1_update(h, ip_kind != 0 ? 9 : 4, tail);
}

size_t
ed2k_secident_sign(const ed2k_secident_key_t *k, const uint8_t *their_key, size_t their_len,
                   uint32_t challenge, uint8_t ip_kind, uint32_t ip, uint8_t *sig, size_t cap)
{
    if (k->pub.size > cap || their_len > ED2K_SECIDENT_MAX_KEY)
        return 0;
    struct sha1_ctx h;
    hash_message(&h, their_key, their_len, challenge, ip_kind, ip);
    struct rnd r = { false };
    mpz_t s;
    mpz_init(s);
    size_t n = 0;
    if (rsa_sha1_sign_tr(&k->pub, &k->priv, &r, rnd_fill, &h, s) && !r.failed) {
        nettle_mpz_get_str_256(k->pub.size, sig, s);
        n = k->pub.size;
    }
    mpz_clear(s);
    return n;
}

bool
ed2k_secident_verify(const uint8_t *their_key, size_t their_len, const uint8_t *my_key,
                     size_t my_len, uint32_t challenge, uint8_t ip_kind, uint32_t ip,
                     const uint8_t *sig, size_t sig_len)
{
    struct rsa_public_key pub;
    rsa_public_key_init(&pub);
    bool ok = false;
    if (parse_blob(their_key, their_len, &pub) && sig_len > 0 && sig_len <= pub.size &&
        my_len <= ED2K_SECIDENT_MAX_KEY) {
        struct sha1_ctx h;
        hash_message(&h, my_key, my_len, challenge, ip_kind, ip);
        mpz_t s;
        mpz_init(s);
        nettle_mpz_set_str_256_u(s, sig_len, sig);
        ok = rsa_sha1_verify(&pub, &h, s) != 0;
        mpz_clear(s);
    }
    rsa_public_key_clear(&pub);
    return ok;
}

/* ---- packets ---- */

static int
perr(mt_error_t **err, const char *what)
{
    mt_error_set(err, MT_ERR_PROTOCOL, "%s", what);
    return -1;
}

void
ed2k_secidentstate_encode(struct evbuffer *out, uint8_t state, uint32_t challenge)
{
    uint8_t b[5] = { state, (uint8_t)challenge, (uint8_t)(challenge >> 8),
                     (uint8_t)(challenge >> 16), (uint8_t)(challenge >> 24) };
    if (ed2k_packet_append(out, ED2K_PROT_EMULE, ED2K_OP_SECIDENTSTATE, b, sizeof b, NULL) != 0)
        abort(); /* cannot happen: 5 bytes */
}

int
ed2k_secidentstate_decode(const uint8_t *payload, size_t len, uint8_t *state,
                          uint32_t *challenge, mt_error_t **err)
{
    if (len != 5)
        return perr(err, "OP_SECIDENTSTATE: not 5 bytes");
    *state = payload[0];
    *challenge = (uint32_t)payload[1] | (uint32_t)payload[2] << 8 | (uint32_t)payload[3] << 16 |
                 (uint32_t)payload[4] << 24;
    return 0;
}

static void
send_counted(struct evbuffer *out, uint8_t op, const uint8_t *data, size_t len, int trailer)
{
    uint8_t b[1 + 255 + 1];
    b[0] = (uint8_t)len;
    memcpy(b + 1, data, len);
    size_t n = 1 + len;
    if (trailer >= 0)
        b[n++] = (uint8_t)trailer;
    if (ed2k_packet_append(out, ED2K_PROT_EMULE, op, b, n, NULL) != 0)
        abort(); /* cannot happen: under 300 bytes */
}

void
ed2k_publickey_encode(struct evbuffer *out, const uint8_t *key, size_t len)
{
    if (len > ED2K_SECIDENT_MAX_KEY)
        abort(); /* our own key: always 76 bytes */
    send_counted(out, ED2K_OP_PUBLICKEY, key, len, -1);
}

int
ed2k_publickey_decode(const uint8_t *payload, size_t len, const uint8_t **key, size_t *key_len,
                      mt_error_t **err)
{
    if (len < 2 || len > ED2K_SECIDENT_MAX_SIG || payload[0] != len - 1)
        return perr(err, "OP_PUBLICKEY: length byte does not match");
    *key = payload + 1;
    *key_len = len - 1;
    return 0;
}

void
ed2k_signature_encode(struct evbuffer *out, const uint8_t *sig, size_t len, uint8_t ip_kind)
{
    if (len > ED2K_SECIDENT_MAX_SIG)
        abort(); /* our own signature: 48 bytes */
    send_counted(out, ED2K_OP_SIGNATURE, sig, len, ip_kind != 0 ? ip_kind : -1);
}

int
ed2k_signature_decode(const uint8_t *payload, size_t len, bool v2_allowed, const uint8_t **sig,
                      size_t *sig_len, uint8_t *ip_kind, mt_error_t **err)
{
    if (len < 2 || len > ED2K_SECIDENT_MAX_SIG)
        return perr(err, "OP_SIGNATURE: bad length");
    if (payload[0] == len - 1) {
        *ip_kind = 0;
    } else if (payload[0] == len - 2 && v2_allowed) {
        *ip_kind = payload[len - 1];
    } else {
        return perr(err, "OP_SIGNATURE: length byte does not match");
    }
    *sig = payload + 1;
    *sig_len = payload[0];
    return 0;
}
