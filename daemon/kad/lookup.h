/* lookup.h: one iterative Kademlia lookup (§10.3): the closest contacts
 * to a target found by asking ALPHA of them at a time with KADEMLIA2_REQ
 * and moving on to the closer ones they name. Pure: sends through a hook. */
#ifndef MT_DAEMON_KAD_LOOKUP_H
#define MT_DAEMON_KAD_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/kadpkt.h"

/* Requests in flight at once, contacts wanted, how long an asked contact
 * has to answer, and how many candidates a lookup remembers. */
#define KAD_LOOKUP_ALPHA 3
#define KAD_LOOKUP_K 10
#define KAD_LOOKUP_TIMEOUT_MS 3000
#define KAD_LOOKUP_CANDIDATES 64

typedef struct kad_lookup kad_lookup_t;

/* The hook that sends a KADEMLIA2_REQ of type for target to contact to.
 * The lookup counts it as asked whatever the hook does. */
typedef void (*kad_lookup_send_fn)(void *ctx, const kad_contact_t *to, const kad_id_t *target,
                                   uint8_t type);

/* kad_lookup_new: a lookup for target asking with request type (e.g.
 * KAD_REQ_FIND_NODE); me (our own id) is never a candidate. Free with
 * kad_lookup_free (NULL is fine). */
kad_lookup_t *kad_lookup_new(const kad_id_t *target, const kad_id_t *me, uint8_t type,
                             kad_lookup_send_fn send, void *ctx);
void kad_lookup_free(kad_lookup_t *l);
const kad_id_t *kad_lookup_target(const kad_lookup_t *l);

/* kad_lookup_add: contacts known (from the table, or named in an answer)
 * become candidates; duplicates (same id, or same address) are ignored,
 * and past KAD_LOOKUP_CANDIDATES the farthest are forgotten. */
void kad_lookup_add(kad_lookup_t *l, const kad_contact_t *c, size_t n);

/* kad_lookup_step: at monotonic time now_ms, requests that waited
 * KAD_LOOKUP_TIMEOUT_MS fail, then the closest not yet asked of the K
 * closest live candidates are asked until ALPHA are in flight. */
void kad_lookup_step(kad_lookup_t *l, int64_t now_ms);

/* kad_lookup_answer: a KADEMLIA2_RES for our target from ip:udp_port (Kad
 * form) naming contacts; returns false (and ignores it) unless that
 * address was asked and has not answered yet. The contacts become
 * candidates and the lookup steps on. */
bool kad_lookup_answer(kad_lookup_t *l, uint32_t ip, uint16_t udp_port, const kad_contact_t *c,
                       size_t n, int64_t now_ms);

/* kad_lookup_is_done: none of the K closest live candidates is left to ask
 * or awaited: no closer contact can turn up. */
bool kad_lookup_is_done(const kad_lookup_t *l);

/* kad_lookup_closest: up to max contacts that answered, nearest to the
 * target first. Returns how many. */
size_t kad_lookup_closest(const kad_lookup_t *l, kad_contact_t *out, size_t max);

/* Counts for status and the benchmark: requests sent, answers taken,
 * requests that timed out. */
unsigned kad_lookup_sent(const kad_lookup_t *l);
unsigned kad_lookup_answered(const kad_lookup_t *l);
unsigned kad_lookup_timeouts(const kad_lookup_t *l);

/* kad_in_tolerance: whether a and b are close enough for a search or a
 * publish to go from one to the other: the top 32 bits of their distance
 * below 2^24 (SEARCHTOLERANCE, §10.3). */
bool kad_in_tolerance(const kad_id_t *a, const kad_id_t *b);

#endif
