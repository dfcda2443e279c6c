/* buddy.h: Kad buddies, the minimal form aMule uses (ed2k-protocol.md §10,
 * "buddy system"): when open, one firewalled node may take us as its buddy
 * (FINDBUDDY_RES, its TCP connection kept, CALLBACK_REQ relayed to it as
 * OP_CALLBACK); when firewalled, we look for a buddy (FINDBUDDY_REQ to the
 * nodes closest to our id's complement), keep its connection with
 * OP_BUDDYPING, publish it with our sources (type 3), and connect to whoever
 * it relays an OP_CALLBACK from. */
#ifndef MT_DAEMON_KAD_BUDDY_H
#define MT_DAEMON_KAD_BUDDY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ed2k/kadbuddy.h"
#include "ed2k/kadpkt.h"
#include "ed2k/tag.h"

struct evbuffer;
struct muleteerd;
typedef struct kad_buddy kad_buddy_t;

/* A firewalled node sends FINDBUDDY_REQ to KAD_BUDDY_ASK nodes at a time,
 * at most every KAD_BUDDY_SEARCH_EVERY s while it has no buddy, and takes
 * answers for KAD_BUDDY_ASK_TTL s. The buddy's connection is pinged every
 * KAD_BUDDY_PING_EVERY s (aMule: 10 min); a buddy answers one ping per
 * KAD_BUDDY_PONG_MIN s (aMule: 3 min). A node we answered has
 * KAD_BUDDY_INCOMING_TTL s to connect. */
#define KAD_BUDDY_ASK 5
#define KAD_BUDDY_SEARCH_EVERY 60
#define KAD_BUDDY_ASK_TTL 60
#define KAD_BUDDY_PING_EVERY 600
#define KAD_BUDDY_PONG_MIN 180
#define KAD_BUDDY_INCOMING_TTL 120

/* The node's hooks: send (a whole datagram in b to ip, Kad form, and port;
 * b is emptied) and closest (up to max contacts of the table closest to
 * target, verified ones; how many). */
typedef struct kad_buddy_hooks {
    void (*send)(void *ctx, uint32_t ip, uint16_t port, struct evbuffer *b);
    size_t (*closest)(void *ctx, const kad_id_t *target, kad_contact_t *out, size_t max);
    void *ctx;
} kad_buddy_hooks_t;

/* kad_buddy_new: the buddy side of node me; with d->peers (NULL in unit
 * tests) a peer handler keeps the buddy connection and hears OP_BUDDYPING,
 * OP_BUDDYPONG and OP_CALLBACK. Free with kad_buddy_free (NULL is fine). */
kad_buddy_t *kad_buddy_new(struct muleteerd *d, const kad_id_t *me, const kad_buddy_hooks_t *h);
void kad_buddy_free(kad_buddy_t *b);

/* kad_buddy_tick: open (Kad connected, open) lets us serve as a buddy;
 * firewalled (connected, firewalled) makes us look for one. A change of
 * role drops the buddy we had. Pings, expiry, searches. */
void kad_buddy_tick(kad_buddy_t *b, bool open, bool firewalled, time_t now);

/* Datagrams from ip:port (Kad form). Each returns 1 when it acted, 0 when
 * it was ignored (not our role, not asked for, a buddy already), -1 when
 * malformed. kad_buddy_on_find_req: answered with FINDBUDDY_RES when we
 * are open and have no buddy; the node may then connect as our buddy.
 * kad_buddy_on_find_res: an answer to our FINDBUDDY_REQ naming our id:
 * we connect to it. kad_buddy_on_callback_req: relayed to our buddy as
 * OP_CALLBACK with ip. */
int kad_buddy_on_find_req(kad_buddy_t *b, uint32_t ip, uint16_t port, const uint8_t *p,
                          size_t len, time_t now);
int kad_buddy_on_find_res(kad_buddy_t *b, uint32_t ip, uint16_t port, const uint8_t *p,
                          size_t len, time_t now);
int kad_buddy_on_callback_req(kad_buddy_t *b, uint32_t ip, uint16_t port, const uint8_t *p,
                              size_t len);

/* kad_buddy_is_served: we are firewalled and have a connected buddy.
 * kad_buddy_source_tags: then adds to t what a source publish says about
 * it (aMule's: TAG_SOURCETYPE 3, or 5 over 4 GiB, TAG_SERVERIP and
 * TAG_SERVERPORT of the buddy, TAG_BUDDYHASH our buddy id in hex) and
 * returns true; false (t untouched) otherwise. */
bool kad_buddy_is_served(const kad_buddy_t *b);
bool kad_buddy_source_tags(const kad_buddy_t *b, ed2k_taglist_t *t, uint64_t size);

/* kad_buddy_ask_callback: a KADEMLIA_CALLBACK_REQ to the buddy at ip:port
 * (Kad form) of a firewalled source whose buddy id is buddy_id: "have the
 * source of file_hash connect to our TCP port". */
void kad_buddy_ask_callback(kad_buddy_t *b, uint32_t ip, uint16_t port, const kad_id_t *buddy_id,
                            const uint8_t file_hash[16]);

/* kad_buddy_on_source: a source search's answer of type 3 or 5 (firewalled,
 * with a buddy: TAG_SERVERIP in eD2K form and TAG_SERVERPORT name the
 * buddy, TAG_BUDDYHASH its buddy id) for file_hash: a CALLBACK_REQ to that
 * buddy, so the source connects to us. False when t is not such an answer
 * or names no usable buddy. */
bool kad_buddy_on_source(kad_buddy_t *b, const ed2k_taglist_t *t, const uint8_t file_hash[16]);

/* kad_buddy_to_json: "buddy" {state ("none", "answered", "connecting",
 * "connected"), role ("ours": we are firewalled, "theirs": we serve), ip,
 * tcp_port, udp_port} and counters added to o. */
void kad_buddy_to_json(const kad_buddy_t *b, json_object *o);

#endif
