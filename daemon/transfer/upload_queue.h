/* upload_queue.h: the upload queue's decisions, without the network (the
 * time is passed in): who waits in which order, who gets a free slot, when
 * a slot ends and where its client goes, the queue's limit. upload.c
 * embeds an entry in each client and does the talking. */
#ifndef MT_DAEMON_UPLOAD_QUEUE_H
#define MT_DAEMON_UPLOAD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ed2k/hash.h"

#define UL_MAX_QUEUE 2000          /* clients waiting at most */
#define UL_SLOT_BYTES (ED2K_PARTSIZE + 20 * 1024) /* one part per slot, as eMule */
#define UL_SLOT_IDLE_TIMEOUT 120   /* a slot with no block request for so long */
#define UL_QUEUE_FORGET 3600       /* a queued client not heard of for so long */
#define UL_NO_CONNECT_PAUSE 120    /* a client we could not reach for its slot */
#define UL_FAST_ASK 590            /* a re-ask sooner than this is counted */

typedef enum { UL_NONE = 0, UL_QUEUED, UL_SLOT } ul_state_t;

/* One client's place. The fields are read by upload.c; they change
 * through the ul_* calls (last_seen and last_request are set by upload.c
 * when the client is heard). Zeroed is "nowhere". */
typedef struct ul_entry {
    struct ul_entry *next;     /* in the queue or the slot list */
    ul_state_t state;
    uint64_t seq;              /* order of arrival: ties of queued_at */
    time_t queued_at;          /* joined the queue (again) */
    time_t last_seen;          /* last asked for its file */
    time_t slot_since, last_request;
    time_t no_connect_until;   /* we failed to reach it for its slot */
    uint64_t read_in_slot;     /* bytes of the file read for it in its slot */
    uint32_t fast_asks;        /* re-asks sooner than UL_FAST_ASK (counted only) */
    double credit;             /* its credit modifier (credits.h), 1..10; 0 is 1 */
} ul_entry_t;

/* The queue (waiting clients, in their order) and the slots (in the
 * order they were given). Zeroed is empty. */
typedef struct ul_queue {
    ul_entry_t *queue, *slots;
    size_t n_queue, n_slots;
    uint64_t next_seq;
    time_t now;                /* the time the last ul_join/ul_fill/ul_end_slot passed */
} ul_queue_t;

/* What a client's request for a slot (OP_STARTUPLOADREQ) did. */
typedef enum {
    UL_JOIN_QUEUED,  /* it joined the queue, at the back */
    UL_JOIN_WAITING, /* it was queued already: it keeps its place */
    UL_JOIN_IN_SLOT, /* it has a slot */
    UL_JOIN_FULL,    /* the queue holds UL_MAX_QUEUE: not queued */
} ul_join_t;

/* ul_waits_before: the queue's list order: whoever has waited longer (since
 * it joined, or since its last slot or the turn it missed) comes first; the
 * same second, the order of arrival. */
bool ul_waits_before(const ul_entry_t *a, const ul_entry_t *b);
/* ul_score: e's score at now as eMule counts it: the seconds waited times
 * its credit modifier. */
double ul_score(const ul_entry_t *e, time_t now);
/* ul_scores_before: the order slots are given in: the higher score first;
 * equal scores (all modifiers 1: equal waits) in the list order. */
bool ul_scores_before(const ul_entry_t *a, const ul_entry_t *b, time_t now);

/* ul_join: e asks for a slot at now (a re-ask within UL_FAST_ASK counted
 * in fast_asks). A client already queued keeps its place. */
ul_join_t ul_join(ul_queue_t *uq, ul_entry_t *e, time_t now);
/* ul_leave: e leaves the queue or its slot (it said it is done, or it is
 * forgotten); no slot is given here (ul_fill). */
void ul_leave(ul_queue_t *uq, ul_entry_t *e);
/* ul_rank: e's place in the queue by score (ul_scores_before) as of the
 * queue's last time (uq->now), from 1; 0 when it is not queued. */
size_t ul_rank(const ul_queue_t *uq, const ul_entry_t *e);

/* How ul_fill reaches the clients (upload.c: the peers; a test: fakes). */
typedef struct ul_slot_ops {
    /* connected: whether e's client is connected now. */
    bool (*connected)(void *ctx, const ul_entry_t *e);
    /* open: e was given a slot: tell its client, or connect to it. False
     * when it cannot be reached now: it goes to the back of the queue and
     * is not tried for UL_NO_CONNECT_PAUSE. Must not call ul_* itself. */
    bool (*open)(void *ctx, ul_entry_t *e);
    void *ctx;
} ul_slot_ops_t;

/* ul_fill: gives free slots (up to max_slots) to the queued clients in
 * their score order (ul_scores_before), skipping those we could not reach lately unless they are
 * connected; each is tried at most once per call. */
void ul_fill(ul_queue_t *uq, size_t max_slots, time_t now, const ul_slot_ops_t *ops);
/* ul_end_slot: e's slot ends at now; with requeue it goes to the back of
 * the queue (its part's worth was sent, or its connection closed), else
 * out. The free slot is given by the next ul_fill. */
void ul_end_slot(ul_queue_t *uq, ul_entry_t *e, bool requeue, time_t now);
/* ul_unreachable: we could not reach e for its slot: not tried again for
 * UL_NO_CONNECT_PAUSE (unless it connects). */
void ul_unreachable(ul_entry_t *e, time_t now);

/* ul_slot_used_up: e had its part's worth (UL_SLOT_BYTES read) and
 * somebody waits: it reads no more and ends once that is sent. A slot
 * nobody else wants is not ended (aMule). */
bool ul_slot_used_up(const ul_queue_t *uq, const ul_entry_t *e);
/* ul_slot_is_idle: e asked for nothing for UL_SLOT_IDLE_TIMEOUT and has
 * nothing in progress (busy: blocks pending, being read or sent). */
bool ul_slot_is_idle(const ul_entry_t *e, time_t now, bool busy);
/* ul_is_stale: a queued e not heard of for UL_QUEUE_FORGET and not
 * connected: it is forgotten. */
bool ul_is_stale(const ul_entry_t *e, time_t now, bool connected);

#endif
