/* kadpkt.h: the Kad 2 datagrams of bootstrap and routing (ed2k-protocol.md
 * §10.1-10.2): bootstrap, hello (and its ack), find-node request and answer,
 * ping and pong, the firewall checks (§10.4). Bounded decoders and encoders
 * of whole datagrams. */
#ifndef MT_ED2K_KADPKT_H
#define MT_ED2K_KADPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/kadid.h"
#include "ed2k/packet.h"
#include "util/error.h"

struct evbuffer;

/* The Kad version Muleteer announces: aMule 2.3.3's (§10). Contacts below
 * KAD_VERSION_MIN speak Kad 1 and are ignored. */
#define KAD_VERSION 8
/* The first Kad version that reads obfuscated datagrams (§9.4): aMule
 * obfuscates to contacts of this version and later. */
#define KAD_VERSION_CRYPT 6
#define KAD_VERSION_MIN 2

/* Opcodes (§10.1). */
#define KAD_OP_BOOTSTRAP_REQ 0x01
#define KAD_OP_BOOTSTRAP_RES 0x09
#define KAD_OP_HELLO_REQ 0x11
#define KAD_OP_HELLO_RES 0x19
#define KAD_OP_REQ 0x21
#define KAD_OP_HELLO_RES_ACK 0x22
#define KAD_OP_RES 0x29
#define KAD_OP_SEARCH_KEY_REQ 0x33
#define KAD_OP_SEARCH_SOURCE_REQ 0x34
#define KAD_OP_SEARCH_NOTES_REQ 0x35
#define KAD_OP_SEARCH_RES 0x3B
#define KAD_OP_PUBLISH_KEY_REQ 0x43
#define KAD_OP_PUBLISH_SOURCE_REQ 0x44
#define KAD_OP_PUBLISH_NOTES_REQ 0x45
#define KAD_OP_PUBLISH_RES 0x4B
#define KAD_OP_FIREWALLED_REQ 0x50
#define KAD_OP_FIREWALLED2_REQ 0x53
#define KAD_OP_FIREWALLED_RES 0x58
#define KAD_OP_FIREWALLED_ACK_RES 0x59
#define KAD_OP_PING 0x60
#define KAD_OP_PONG 0x61
#define KAD_OP_FIREWALLUDP 0x62

/* KADEMLIA2_REQ types: how many contacts are wanted (low 5 bits). */
#define KAD_REQ_FIND_VALUE 0x02
#define KAD_REQ_STORE 0x04
#define KAD_REQ_FIND_NODE 0x0B
#define KAD_REQ_COUNT_MASK 0x1F

/* Hello tags (§10.2) and the bits of TAG_KADMISCOPTIONS. */
#define KAD_TAG_SOURCEUPORT 0xFC
#define KAD_TAG_KADMISCOPTIONS 0xF2
#define KAD_MISC_UDP_FIREWALLED 0x01
#define KAD_MISC_TCP_FIREWALLED 0x02
#define KAD_MISC_WANT_ACK 0x04

/* The most contacts a decoded list holds: a KADEMLIA2_RES can carry at most
 * 31 (the request's type is a 5-bit count), a bootstrap answer 20 (aMule
 * sends no more). Longer lists are refused. */
#define KAD_CONTACTS_MAX 32
#define KAD_BOOTSTRAP_CONTACTS 20
/* Bytes of one contact on the wire (§10). */
#define KAD_CONTACT_WIRE_LEN 25
/* What a packed (0xE5) datagram may inflate to. */
#define KAD_INFLATE_LIMIT 50000

/* A contact as carried in Kad packets. ip is the IPv4 address as the
 * host-order number a<<24|b<<16|c<<8|d (the Kad form, §0). */
typedef struct kad_contact {
    kad_id_t id;
    uint32_t ip;
    uint16_t udp_port, tcp_port;
    uint8_t version;
} kad_contact_t;

/* KADEMLIA2_BOOTSTRAP_RES: the answering node and contacts it knows. */
typedef struct kad_bootstrap_res {
    kad_id_t id;
    uint16_t tcp_port;
    uint8_t version;
    size_t count;
    kad_contact_t contacts[KAD_CONTACTS_MAX];
} kad_bootstrap_res_t;

/* KADEMLIA2_HELLO_REQ and _RES: the sender. source_udp_port is
 * TAG_SOURCEUPORT (0: absent), misc_options TAG_KADMISCOPTIONS (0: absent). */
typedef struct kad_hello {
    kad_id_t id;
    uint16_t tcp_port;
    uint8_t version;
    uint16_t source_udp_port;
    uint8_t misc_options;
} kad_hello_t;

/* KADEMLIA2_REQ: type (count wanted in the low 5 bits), the target, and the
 * id the sender believes the receiver has. */
typedef struct kad_req {
    uint8_t type;
    kad_id_t target;
    kad_id_t receiver;
} kad_req_t;

/* KADEMLIA2_RES: contacts close to target. */
typedef struct kad_res {
    kad_id_t target;
    size_t count;
    kad_contact_t contacts[KAD_CONTACTS_MAX];
} kad_res_t;

/* KADEMLIA_FIREWALLED_REQ (Kad < 7: the TCP port only) and
 * KADEMLIA_FIREWALLED2_REQ (the TCP port, the user hash, the connect
 * options): "connect to my TCP port and tell me the address you see".
 * user_hash is the digest (the wire carries it as a 128-bit id, §0). */
typedef struct kad_fw_req {
    uint16_t tcp_port;
    bool v2; /* FIREWALLED2_REQ: user_hash and connect_options are set */
    uint8_t user_hash[16];
    uint8_t connect_options;
} kad_fw_req_t;

/* OP_FWCHECKUDPREQ (TCP, 0xC5 0xA7): the ports a node wants
 * KADEMLIA2_FIREWALLUDP datagrams on, and its verify key for us. */
typedef struct kad_fw_udp_req {
    uint16_t intern_port, extern_port;
    uint32_t udp_key;
} kad_fw_udp_req_t;

/* kad_datagram_open: a datagram of the client UDP port as a Kad packet:
 * protocol 0xE4, or 0xE5 inflated (at most KAD_INFLATE_LIMIT bytes) and
 * turned into 0xE4. Caller frees *out with ed2k_packet_free. MT_ERR_PROTOCOL
 * for another protocol byte, a datagram under 2 bytes or bad zlib data;
 * MT_ERR_TOO_LARGE past the inflate limit. */
int kad_datagram_open(const uint8_t *data, size_t len, ed2k_packet_t **out, mt_error_t **err);

/* Decoders of the payload (after protocol and opcode). Every one checks
 * each length against what is left and fails with MT_ERR_PROTOCOL on a
 * short payload, or MT_ERR_TOO_LARGE on a list longer than
 * KAD_CONTACTS_MAX; *out is then undefined. Bytes after the fields are
 * ignored (later versions may append some). Contacts are returned as read:
 * filtering them (version, address) is the caller's policy. */
int kad_bootstrap_res_decode(const uint8_t *p, size_t len, kad_bootstrap_res_t *out,
                             mt_error_t **err);
/* kad_hello_decode: HELLO_REQ and HELLO_RES (same layout). Tags other than
 * the two known ones are skipped; an unreadable tag list is an error. */
int kad_hello_decode(const uint8_t *p, size_t len, kad_hello_t *out, mt_error_t **err);
/* kad_hello_ack_decode: HELLO_RES_ACK: the sender's id (its tags ignored). */
int kad_hello_ack_decode(const uint8_t *p, size_t len, kad_id_t *out, mt_error_t **err);
int kad_req_decode(const uint8_t *p, size_t len, kad_req_t *out, mt_error_t **err);
int kad_res_decode(const uint8_t *p, size_t len, kad_res_t *out, mt_error_t **err);
/* kad_pong_decode: the UDP port the answerer saw us send from. */
int kad_pong_decode(const uint8_t *p, size_t len, uint16_t *udp_port, mt_error_t **err);

/* kad_fw_req_decode: the payload of opcode KAD_OP_FIREWALLED_REQ or
 * KAD_OP_FIREWALLED2_REQ (MT_ERR_PROTOCOL for another opcode). */
int kad_fw_req_decode(uint8_t opcode, const uint8_t *p, size_t len, kad_fw_req_t *out,
                      mt_error_t **err);
/* kad_fw_res_decode: KADEMLIA_FIREWALLED_RES: our IP as the answerer saw
 * it (Kad form). */
int kad_fw_res_decode(const uint8_t *p, size_t len, uint32_t *ip, mt_error_t **err);
/* kad_fw_udp_decode: KADEMLIA2_FIREWALLUDP: error (0: the answerer did not
 * know us, so the datagram proves our port open) and the port it went to. */
int kad_fw_udp_decode(const uint8_t *p, size_t len, uint8_t *error, uint16_t *port,
                      mt_error_t **err);
/* kad_fw_udp_req_decode: the payload of a TCP OP_FWCHECKUDPREQ. */
int kad_fw_udp_req_decode(const uint8_t *p, size_t len, kad_fw_udp_req_t *out, mt_error_t **err);

/* Encoders: each appends a whole datagram (0xE4, opcode, payload) to out.
 * Lists longer than KAD_CONTACTS_MAX are cut there. */
void kad_bootstrap_req_encode(struct evbuffer *out);
void kad_bootstrap_res_encode(struct evbuffer *out, const kad_bootstrap_res_t *r);
/* kad_hello_encode: opcode KAD_OP_HELLO_REQ or KAD_OP_HELLO_RES; writes
 * TAG_SOURCEUPORT when source_udp_port is not 0 and TAG_KADMISCOPTIONS when
 * misc_options is not 0. */
void kad_hello_encode(struct evbuffer *out, uint8_t opcode, const kad_hello_t *h);
void kad_hello_ack_encode(struct evbuffer *out, const kad_id_t *id);
void kad_req_encode(struct evbuffer *out, const kad_req_t *r);
void kad_res_encode(struct evbuffer *out, const kad_res_t *r);
void kad_ping_encode(struct evbuffer *out);
void kad_pong_encode(struct evbuffer *out, uint16_t udp_port);

/* kad_fw_req_encode: FIREWALLED2_REQ when r->v2, else FIREWALLED_REQ. */
void kad_fw_req_encode(struct evbuffer *out, const kad_fw_req_t *r);
void kad_fw_res_encode(struct evbuffer *out, uint32_t ip);
/* kad_fw_ack_encode: KADEMLIA_FIREWALLED_ACK_RES (empty; to Kad < 7). */
void kad_fw_ack_encode(struct evbuffer *out);
void kad_fw_udp_encode(struct evbuffer *out, uint8_t error, uint16_t port);
/* kad_fw_udp_req_write: the OP_FWCHECKUDPREQ payload (no TCP header). */
void kad_fw_udp_req_write(struct evbuffer *out, const kad_fw_udp_req_t *r);

/* kad_contact_equal: every field equal. */
bool kad_contact_equal(const kad_contact_t *a, const kad_contact_t *b);

#endif
