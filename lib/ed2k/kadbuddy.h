/* kadbuddy.h: the datagrams and TCP payloads of Kad buddies (ed2k-protocol.md
 * §10, "buddy system for firewalled nodes"): KADEMLIA_FINDBUDDY_REQ/RES,
 * KADEMLIA_CALLBACK_REQ over UDP and OP_CALLBACK (0xC5 0x99) over TCP. */
#ifndef MT_ED2K_KADBUDDY_H
#define MT_ED2K_KADBUDDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/kadid.h"
#include "util/error.h"

struct evbuffer;

#define KAD_OP_FINDBUDDY_REQ 0x51
#define KAD_OP_FINDBUDDY_RES 0x5A
#define KAD_OP_CALLBACK_REQ 0x52

/* Payload bytes before the optional connect options of FINDBUDDY_REQ/RES,
 * and of a CALLBACK_REQ; OP_CALLBACK adds the requester's IP (38). */
#define KAD_BUDDY_MSG_LEN 34
#define KAD_CALLBACK_LEN 38

/* KADEMLIA_FINDBUDDY_REQ and _RES (same layout). buddy_id is the
 * firewalled node's Kad id complemented (all bits flipped): the request
 * carries it, the answer echoes it, and the firewalled node checks the echo
 * against its own id. user_hash is the sender's user hash (digest order),
 * tcp_port its client TCP port. connect_options (bit 0 supports, bit 1
 * requests, bit 2 requires obfuscation) follows in aMule 2.3's answer to
 * obfuscated requests; has_options says whether it was there. */
typedef struct kad_buddy_msg {
    kad_id_t buddy_id;
    uint8_t user_hash[16];
    uint16_t tcp_port;
    bool has_options;
    uint8_t connect_options;
} kad_buddy_msg_t;

/* KADEMLIA_CALLBACK_REQ (UDP, to the buddy of a firewalled source) and
 * OP_CALLBACK (TCP, from that buddy to the firewalled node): the buddy id,
 * the file wanted (digest order), the requester's IP (Kad form, only in
 * OP_CALLBACK: the buddy adds the address it saw) and its TCP port. */
typedef struct kad_callback {
    kad_id_t buddy_id;
    uint8_t file_hash[16];
    uint32_t ip;
    uint16_t tcp_port;
} kad_callback_t;

/* kad_buddy_id_of: the buddy id of a node id (its complement, as aMule's
 * CUInt128(true) XOR id). */
void kad_buddy_id_of(kad_id_t *out, const kad_id_t *node_id);

/* Decoders: MT_ERR_PROTOCOL on a short payload (fewer than
 * KAD_BUDDY_MSG_LEN, resp. KAD_CALLBACK_LEN bytes); later bytes ignored. */
int kad_buddy_msg_decode(const uint8_t *p, size_t len, kad_buddy_msg_t *out, mt_error_t **err);
int kad_callback_req_decode(const uint8_t *p, size_t len, kad_callback_t *out, mt_error_t **err);
/* kad_callback_decode: the payload of a TCP OP_CALLBACK. */
int kad_callback_decode(const uint8_t *p, size_t len, kad_callback_t *out, mt_error_t **err);

/* kad_buddy_msg_encode: a whole datagram (0xE4, opcode, payload); opcode
 * KAD_OP_FINDBUDDY_REQ or KAD_OP_FINDBUDDY_RES; the connect options byte is
 * written when m->has_options. */
void kad_buddy_msg_encode(struct evbuffer *out, uint8_t opcode, const kad_buddy_msg_t *m);
/* kad_callback_req_encode: a whole KADEMLIA_CALLBACK_REQ datagram (c->ip
 * is not sent). */
void kad_callback_req_encode(struct evbuffer *out, const kad_callback_t *c);
/* kad_callback_write: the OP_CALLBACK payload (no TCP header). */
void kad_callback_write(struct evbuffer *out, const kad_callback_t *c);

#endif
