/* secident.h: eMule's secure user identification (ed2k-protocol.md §5.9):
 * the RSA-384 key pair, the public key blob peers exchange, the signature
 * over a peer's key and challenge, and the three packets that carry them. */
#ifndef MT_ED2K_SECIDENT_H
#define MT_ED2K_SECIDENT_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define ED2K_SECIDENT_BITS 384   /* what eMule and aMule generate */
#define ED2K_SECIDENT_MAX_KEY 80 /* eMule's MAXPUBKEYSIZE: longer keys are refused */
#define ED2K_SECIDENT_MAX_SIG 250

/* OP_SECIDENTSTATE's state byte. */
#define ED2K_SECIDENT_SIG_NEEDED 1
#define ED2K_SECIDENT_KEY_AND_SIG_NEEDED 2

/* The signature's "challenge IP kind" (v2 signatures): whose IP the signer
 * put in. Kind 0 is a v1 signature without an IP. */
#define ED2K_CIP_REMOTECLIENT 10 /* the verifier's IP as the signer sees it */
#define ED2K_CIP_LOCALCLIENT 20  /* the signer's own IP (its HighID) */
#define ED2K_CIP_NONECLIENT 30   /* IP 0 */

typedef struct ed2k_secident_key ed2k_secident_key_t;

/* ed2k_secident_generate: a new ED2K_SECIDENT_BITS key pair (e = 17, as
 * Crypto++ makes eMule's: its blob is the 76 bytes peers usually see).
 * Caller frees with ed2k_secident_free. NULL with MT_ERR_IO when no
 * randomness. */
ed2k_secident_key_t *ed2k_secident_generate(mt_error_t **err);
/* ed2k_secident_from_text / _to_text: the key pair as nettle's canonical
 * s-expression (what the state file holds). to_text: a new buffer, caller
 * frees. from_text: MT_ERR_INVALID when it is not one. */
ed2k_secident_key_t *ed2k_secident_from_text(const uint8_t *text, size_t len, mt_error_t **err);
uint8_t *ed2k_secident_to_text(const ed2k_secident_key_t *k, size_t *len);
/* ed2k_secident_load_or_create: the key pair in path, or a new one written
 * there (mode 0600, atomically) when the file does not exist. A file that
 * exists but is not a key is an error, never overwritten. */
ed2k_secident_key_t *ed2k_secident_load_or_create(const char *path, mt_error_t **err);
void ed2k_secident_free(ed2k_secident_key_t *k);

/* ed2k_secident_pubkey: the public key as peers expect it: the DER
 * X.509 SubjectPublicKeyInfo (rsaEncryption) that Crypto++ writes, 76 bytes
 * for 384 bits. Owned by k. */
const uint8_t *ed2k_secident_pubkey(const ed2k_secident_key_t *k, size_t *len);

/* ed2k_secident_sign: k's signature (PKCS #1 v1.5 with SHA-1) over
 * their_key | challenge (u32 LE) [| ip (u32 LE) | ip_kind] -- the part in
 * brackets only when ip_kind is not 0 (v2). Writes the signature (the
 * modulus' length) to sig, at most cap bytes; its length, or 0 on error. */
size_t ed2k_secident_sign(const ed2k_secident_key_t *k, const uint8_t *their_key, size_t their_len,
                          uint32_t challenge, uint8_t ip_kind, uint32_t ip, uint8_t *sig,
                          size_t cap);
/* ed2k_secident_verify: whether sig is the signature of the owner of
 * their_key (a DER blob as received) over my_key | challenge [| ip |
 * ip_kind]. False for a malformed key or signature. */
bool ed2k_secident_verify(const uint8_t *their_key, size_t their_len, const uint8_t *my_key,
                          size_t my_len, uint32_t challenge, uint8_t ip_kind, uint32_t ip,
                          const uint8_t *sig, size_t sig_len);
/* ed2k_secident_key_is_valid: whether blob is an RSA SubjectPublicKeyInfo
 * of at most ED2K_SECIDENT_MAX_KEY bytes. */
bool ed2k_secident_key_is_valid(const uint8_t *blob, size_t len);

/* The packets (OP_EMULEPROT): OP_SECIDENTSTATE <state u8><challenge u32>,
 * OP_PUBLICKEY <len u8><key>, OP_SIGNATURE <len u8><sig>[<ip kind u8>].
 * Decoders: MT_ERR_PROTOCOL on a malformed payload; the pointers returned
 * point into payload. A signature's ip kind is 0 when absent; it is
 * accepted only when v2 is allowed (the peer advertised secident bit 1). */
void ed2k_secidentstate_encode(struct evbuffer *out, uint8_t state, uint32_t challenge);
int ed2k_secidentstate_decode(const uint8_t *payload, size_t len, uint8_t *state,
                              uint32_t *challenge, mt_error_t **err);
void ed2k_publickey_encode(struct evbuffer *out, const uint8_t *key, size_t len);
int ed2k_publickey_decode(const uint8_t *payload, size_t len, const uint8_t **key,
                          size_t *key_len, mt_error_t **err);
void ed2k_signature_encode(struct evbuffer *out, const uint8_t *sig, size_t len,
                           uint8_t ip_kind);
int ed2k_signature_decode(const uint8_t *payload, size_t len, bool v2_allowed,
                          const uint8_t **sig, size_t *sig_len, uint8_t *ip_kind,
                          mt_error_t **err);

#endif
