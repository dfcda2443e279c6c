/* obfs.h: the TCP obfuscation layer (ed2k-protocol.md §9.1-9.3): the
 * client-to-client handshake on both sides and the client-to-server one
 * (Diffie-Hellman) on both sides, as state machines over byte buffers, and
 * the RC4 stream cipher (rc4.h) for the rest of the connection. */
#ifndef MT_ED2K_OBFS_H
#define MT_ED2K_OBFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/rc4.h"
#include "ed2k/rc4ahead.h"
#include "util/error.h"

#define ED2K_OBFS_MAGIC 0x835E6FC4u   /* the sync value, LE on the wire */
#define ED2K_OBFS_KEY_REQUESTER 34    /* key byte of the initiator's sending direction */
#define ED2K_OBFS_KEY_SERVER 203      /* key byte of the responder's sending direction */
#define ED2K_OBFS_METHOD_OBFUSCATION 0
/* The longest handshake message: marker, random key part, magic, two
 * method bytes, pad length, 255 bytes of padding. */
#define ED2K_OBFS_MAX_HANDSHAKE (1 + 4 + 4 + 2 + 1 + 255)
/* The server handshake (§9.3): the 768-bit prime's size, and the longest
 * message: the server's <B 96> and its encrypted part. */
#define ED2K_OBFS_DH_BYTES 96
#define ED2K_OBFS_MAX_SERVER_MSG (ED2K_OBFS_DH_BYTES + 4 + 2 + 1 + 255)

/* The "cryptopts" bits of source lists, callbacks and links (§3.6) and the
 * crypt bits of a hello's MISCOPTIONS2, shifted down (§2.3). */
#define ED2K_CRYPT_SUPPORTED 0x01
#define ED2K_CRYPT_REQUESTED 0x02
#define ED2K_CRYPT_REQUIRED 0x04
#define ED2K_CRYPT_HAS_HASH 0x80

/* The random parts of one handshake, chosen by the caller (the daemon from
 * getrandom, the tests fixed). marker is the initiator's first byte: it
 * must not be a protocol byte (ed2k_obfs_is_plain_marker). */
typedef struct ed2k_obfs_random {
    uint8_t marker;
    uint32_t key_part;  /* R of §9.2 (initiator only) */
    uint8_t pad_len;
    uint8_t pad[255];
} ed2k_obfs_random_t;

typedef enum {
    ED2K_OBFS_NEED_MORE = 0, /* every byte given was taken; more needed */
    ED2K_OBFS_DONE,          /* handshake complete: the rest is the stream */
    ED2K_OBFS_ERROR,         /* not a valid handshake: close the connection */
} ed2k_obfs_status_t;

/* One connection's obfuscation state. Plain struct so that it can live
 * inside the connection; fields are private to obfs.c. */
typedef struct ed2k_obfs {
    ed2k_rc4_t send, recv;
    struct ed2k_rc4_ahead *ahead_send, *ahead_recv; /* see ed2k_obfs_allow_ahead */
    uint64_t sent, received; /* stream bytes ciphered before that */
    bool may_ahead;
    bool initiator;
    int step;            /* where the handshake decoder stands */
    uint8_t hdr[ED2K_OBFS_DH_BYTES + 2]; /* the fixed part being read */
    size_t have, want;   /* bytes of hdr read / needed in this step */
    size_t pad_left;     /* padding bytes still to skip */
    uint8_t own_hash[16];
    uint8_t dh_secret[16]; /* server handshake: our 128-bit exponent */
    ed2k_obfs_random_t rnd;
} ed2k_obfs_t;

/* ed2k_obfs_is_plain_marker: whether a connection's first byte starts a
 * plain eD2K packet (0xE3, 0xD4, 0xC5: §9.1). */
bool ed2k_obfs_is_plain_marker(uint8_t b);

/* ed2k_obfs_initiator_start: sets o up for an outgoing connection to the
 * client whose user hash is peer_hash and writes the first message (at most
 * ED2K_OBFS_MAX_HANDSHAKE bytes) into out; returns its length. Then feed
 * what the peer sends to ed2k_obfs_feed; send nothing else before DONE
 * (aMule drops a responder that gets data beyond the handshake). */
size_t ed2k_obfs_initiator_start(ed2k_obfs_t *o, const uint8_t peer_hash[16],
                                 const ed2k_obfs_random_t *rnd, uint8_t out[ED2K_OBFS_MAX_HANDSHAKE]);

/* ed2k_obfs_responder_init: sets o up for an incoming connection whose first
 * byte was not a plain marker; own_hash is our user hash, rnd gives the
 * answer's padding (its marker and key_part are unused). Feed every byte
 * the peer sent, the marker included. */
void ed2k_obfs_responder_init(ed2k_obfs_t *o, const uint8_t own_hash[16],
                              const ed2k_obfs_random_t *rnd);

/* ed2k_obfs_dh_client_start: sets o up for a connection to a server's
 * obfuscation port (§9.3) with secret as the 128-bit exponent a (random,
 * big-endian) and writes <marker><g^a mod p, 96 bytes><padlen><padding>
 * (rnd->pad_len is taken modulo 16) into out; returns its length. Feed
 * the server's answer to ed2k_obfs_feed: on DONE its reply (the client's
 * last handshake part) goes out first, then the login, encrypted. */
size_t ed2k_obfs_dh_client_start(ed2k_obfs_t *o, const uint8_t secret[16],
                                 const ed2k_obfs_random_t *rnd,
                                 uint8_t out[1 + ED2K_OBFS_DH_BYTES + 1 + 15]);

/* ed2k_obfs_dh_server_init: the server side of §9.3, for a connection whose
 * first byte was not a plain marker (test servers): secret is the
 * exponent b, rnd the padding of its answer. Feed every byte, the marker
 * included: after the client's first message, ed2k_obfs_feed gives the
 * answer to send (status NEED_MORE); DONE comes after the client's part. */
void ed2k_obfs_dh_server_init(ed2k_obfs_t *o, const uint8_t secret[16],
                              const ed2k_obfs_random_t *rnd);

/* ed2k_obfs_feed: takes handshake bytes from in. *used is how many it took
 * (on DONE, the bytes after them are already stream data, to decrypt).
 * When the side must answer, the answer is written to reply (at most
 * ED2K_OBFS_MAX_SERVER_MSG bytes) and *reply_len set, else *reply_len is
 * 0: the client-to-client responder answers with DONE, the server side of
 * §9.3 in the middle, the client side of §9.3 with DONE. ERROR sets err (a
 * wrong magic: the peer used another key, or is not obfuscating at all). */
ed2k_obfs_status_t ed2k_obfs_feed(ed2k_obfs_t *o, const uint8_t *in, size_t len, size_t *used,
                                  uint8_t reply[ED2K_OBFS_MAX_SERVER_MSG], size_t *reply_len,
                                  mt_error_t **err);

/* ed2k_obfs_encrypt / ed2k_obfs_decrypt: the stream after the handshake,
 * n bytes from src to dst (they may be the same buffer). */
void ed2k_obfs_encrypt(ed2k_obfs_t *o, uint8_t *dst, const uint8_t *src, size_t n);
void ed2k_obfs_decrypt(ed2k_obfs_t *o, uint8_t *dst, const uint8_t *src, size_t n);

/* A direction that has moved this many bytes of stream is a bulk
 * transfer: with ed2k_obfs_allow_ahead, its keystream is then computed
 * ahead on a thread (rc4ahead.h). */
#define ED2K_OBFS_AHEAD_AFTER (4u << 20)

/* ed2k_obfs_allow_ahead: lets o's directions switch to a keystream thread
 * after ED2K_OBFS_AHEAD_AFTER bytes (call after the _start/_init that set
 * o up); o must then be cleared with ed2k_obfs_clear. */
void ed2k_obfs_allow_ahead(ed2k_obfs_t *o);

/* ed2k_obfs_clear: stops o's keystream threads, if any; accepts NULL. */
void ed2k_obfs_clear(ed2k_obfs_t *o);

/* ed2k_obfs_key: the RC4 key of one direction, MD5(hash || key byte ||
 * R LE) (§9.2); exposed for the tests' fixed vectors. */
void ed2k_obfs_key(const uint8_t hash[16], uint8_t key_byte, uint32_t key_part, uint8_t out[16]);

#endif
