/* routing.h: the Kad routing table as eMule and aMule build it (§10.3): a
 * binary tree of zones over the XOR distance to our id, each leaf a bin of
 * at most K contacts, split while the zone is near us. Pure: no I/O. */
#ifndef MT_DAEMON_KAD_ROUTING_H
#define MT_DAEMON_KAD_ROUTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ed2k/kadpkt.h"

/* K contacts per bin; a bin at level < KAD_KBASE, or whose zone index (the
 * distance prefix of its level's length, as a number) is < KAD_KK, splits
 * when full (aMule's CRoutingZone::CanSplit). */
#define KAD_K 10
#define KAD_KBASE 4
#define KAD_KK 5
/* Contacts of one /24 per bin, and in the whole table (aMule's
 * CRoutingBin); LAN addresses are exempt. */
#define KAD_SUBNET_PER_BIN 2
#define KAD_SUBNET_PER_TABLE 10

typedef struct kad_rt kad_rt_t;

/* One contact of the table. Fields other than c are the table user's: the
 * table only sets them on adding (verified as given, the times to now). */
typedef struct kad_rt_contact {
    kad_contact_t c;
    kad_id_t distance;          /* c.id XOR our id */
    bool verified;              /* answered a HELLO from its address */
    time_t added, last_seen;    /* monotonic seconds */
    time_t hello_at;            /* when we last sent it a HELLO_REQ, 0: never */
    time_t req_at;              /* when we last sent it a KADEMLIA2_REQ, 0: never */
    unsigned hellos;            /* HELLO_REQs sent without an answer */
    uint32_t udp_key, udp_key_ip;
} kad_rt_contact_t;

typedef enum {
    KAD_RT_ADDED,
    KAD_RT_UPDATED, /* the id was there: address and version taken, seen now */
    KAD_RT_FULL,    /* its bin is full and may not split */
    KAD_RT_REFUSED, /* our own id, a Kad 1 version, no address, or the
                       address limits (one contact per IP, /24 caps) */
} kad_rt_result_t;

/* kad_rt_new: an empty table around our id. Free with kad_rt_free. */
kad_rt_t *kad_rt_new(const kad_id_t *me);
void kad_rt_free(kad_rt_t *rt);
const kad_id_t *kad_rt_me(const kad_rt_t *rt);

/* kad_rt_add: adds c (or refreshes the contact with its id), verified as
 * given (an update never unverifies), at monotonic time now. lan: the
 * address is a LAN or loopback one (exempt from the /24 caps; the
 * one-per-IP rule then counts IP and UDP port together). *out, when not
 * NULL, gets the contact (ADDED, UPDATED) or NULL. */
kad_rt_result_t kad_rt_add(kad_rt_t *rt, const kad_contact_t *c, bool verified, bool lan,
                           time_t now, kad_rt_contact_t **out);
/* kad_rt_find: the contact with that id, or NULL. */
kad_rt_contact_t *kad_rt_find(const kad_rt_t *rt, const kad_id_t *id);
/* kad_rt_find_addr: the contact at ip and UDP port, or NULL. */
kad_rt_contact_t *kad_rt_find_addr(const kad_rt_t *rt, uint32_t ip, uint16_t udp_port);
/* kad_rt_remove: drops the contact with that id (the pointer dies);
 * bins are not merged back. Returns whether it was there. */
bool kad_rt_remove(kad_rt_t *rt, const kad_id_t *id);

/* kad_rt_closest: up to max contacts closest to target by XOR distance,
 * nearest first, into out (pointers into the table); only verified ones
 * when verified_only. Returns how many. */
size_t kad_rt_closest(const kad_rt_t *rt, const kad_id_t *target, bool verified_only,
                      kad_rt_contact_t **out, size_t max);

size_t kad_rt_count(const kad_rt_t *rt);
size_t kad_rt_count_verified(const kad_rt_t *rt);
/* kad_rt_bins: leaves of the tree; kad_rt_depth: the deepest level. */
size_t kad_rt_bins(const kad_rt_t *rt);
unsigned kad_rt_depth(const kad_rt_t *rt);

/* kad_rt_foreach: calls fn for each contact; fn must not add or remove. */
void kad_rt_foreach(const kad_rt_t *rt, void (*fn)(void *ctx, kad_rt_contact_t *c), void *ctx);

#endif
