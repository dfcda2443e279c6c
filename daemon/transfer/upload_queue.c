/* upload_queue.c: the upload queue and its slots as plain lists with the
 * time passed in: the waiting order, slots given in that order, slots
 * ended and their clients queued again. upload.c talks to the peers. */
#include "config.h"

#include "daemon/transfer/upload_queue.h"

#include <stdlib.h>

#include "util/bug.h"
#include "util/xalloc.h"

/* list_remove: takes e out of the list at *head; false when it is not there. */
static bool
list_remove(ul_entry_t **head, size_t *n, ul_entry_t *e)
{
    for (ul_entry_t **pp = head; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            e->next = NULL;
            (*n)--;
            return true;
        }
    }
    return false;
}

bool
ul_waits_before(const ul_entry_t *a, const ul_entry_t *b)
{
    if (a->queued_at != b->queued_at)
        return a->queued_at < b->queued_at;
    return a->seq < b->seq;
}

double
ul_score(const ul_entry_t *e, time_t now)
{
    double waited = now > e->queued_at ? (double)(now - e->queued_at) : 0.0;
    return waited * (e->credit > 0 ? e->credit : 1.0);
}

bool
ul_scores_before(const ul_entry_t *a, const ul_entry_t *b, time_t now)
{
    double sa = ul_score(a, now), sb = ul_score(b, now);
    if (sa != sb)
        return sa > sb;
    return ul_waits_before(a, b);
}

/* enqueue: e joins the queue at now, in its order (at the back: nobody
 * joined later). */
static void
enqueue(ul_queue_t *uq, ul_entry_t *e, time_t now)
{
    e->state = UL_QUEUED;
    e->queued_at = now;
    e->seq = uq->next_seq++;
    ul_entry_t **pp = &uq->queue;
    while (*pp != NULL && ul_waits_before(*pp, e))
        pp = &(*pp)->next;
    e->next = *pp;
    *pp = e;
    uq->n_queue++;
}

ul_join_t
ul_join(ul_queue_t *uq, ul_entry_t *e, time_t now)
{
    if (e->state == UL_QUEUED && now - e->last_seen < UL_FAST_ASK)
        e->fast_asks++; /* aMule bans after a few; we only count */
    e->last_seen = now;
    uq->now = now;
    if (e->state == UL_SLOT)
        return UL_JOIN_IN_SLOT;
    if (e->state == UL_QUEUED)
        return UL_JOIN_WAITING;
    if (uq->n_queue >= UL_MAX_QUEUE)
        return UL_JOIN_FULL;
    enqueue(uq, e, now);
    return UL_JOIN_QUEUED;
}

void
ul_leave(ul_queue_t *uq, ul_entry_t *e)
{
    bool listed = e->state == UL_SLOT     ? list_remove(&uq->slots, &uq->n_slots, e)
                  : e->state == UL_QUEUED ? list_remove(&uq->queue, &uq->n_queue, e)
                                          : true;
    (void)MT_BUG(!listed); /* recovered: it is nowhere now */
    e->state = UL_NONE;
}

size_t
ul_rank(const ul_queue_t *uq, const ul_entry_t *e)
{
    if (e->state != UL_QUEUED)
        return 0;
    size_t r = 1;
    bool listed = false;
    for (const ul_entry_t *o = uq->queue; o != NULL; o = o->next) {
        if (o == e)
            listed = true;
        else if (ul_scores_before(o, e, uq->now))
            r++;
    }
    return listed ? r : 0;
}

/* grant: the queued e gets a slot; back to the queue when it cannot be
 * reached. */
static void
grant(ul_queue_t *uq, ul_entry_t *e, size_t max_slots, time_t now, const ul_slot_ops_t *ops)
{
    /* a slot goes to a queued client, never past the limit */
    if (MT_BUG(e->state != UL_QUEUED) || MT_BUG(uq->n_slots >= max_slots))
        return;
    if (MT_BUG(!list_remove(&uq->queue, &uq->n_queue, e)))
        return;
    e->state = UL_SLOT;
    e->slot_since = now;
    e->last_request = now;
    e->read_in_slot = 0;
    ul_entry_t **pp = &uq->slots;
    while (*pp != NULL)
        pp = &(*pp)->next;
    *pp = e;
    e->next = NULL;
    uq->n_slots++;
    if (ops->open(ops->ctx, e))
        return;
    /* cannot reach it now (a LowID, or limits): back to the queue */
    if (MT_BUG(e->state != UL_SLOT) || MT_BUG(!list_remove(&uq->slots, &uq->n_slots, e)))
        return;
    ul_unreachable(e, now);
    enqueue(uq, e, now);
}

/* by_score: the queued entries in score order at now, for ul_fill (a
 * new array of uq->n_queue, caller frees). Insertion sort: stable, and
 * the list is nearly in order already. */
static ul_entry_t **
by_score(const ul_queue_t *uq, time_t now)
{
    ul_entry_t **v = xcalloc(uq->n_queue + 1, sizeof *v);
    size_t n = 0;
    for (ul_entry_t *e = uq->queue; e != NULL && n < uq->n_queue; e = e->next) {
        size_t i = n++;
        while (i > 0 && ul_scores_before(e, v[i - 1], now)) {
            v[i] = v[i - 1];
            i--;
        }
        v[i] = e;
    }
    return v;
}

void
ul_fill(ul_queue_t *uq, size_t max_slots, time_t now, const ul_slot_ops_t *ops)
{
    uq->now = now;
    if (uq->n_slots >= max_slots || uq->n_queue == 0)
        return;
    size_t n = uq->n_queue;
    ul_entry_t **v = by_score(uq, now);
    /* each tried once: one sent to the back by grant is not met again */
    for (size_t i = 0; i < n && uq->n_slots < max_slots; i++) {
        ul_entry_t *e = v[i];
        if (e->state == UL_QUEUED && (ops->connected(ops->ctx, e) || now >= e->no_connect_until))
            grant(uq, e, max_slots, now, ops);
    }
    free(v);
}

void
ul_end_slot(ul_queue_t *uq, ul_entry_t *e, bool requeue, time_t now)
{
    uq->now = now;
    if (MT_BUG(e->state != UL_SLOT))
        return;
    (void)MT_BUG(!list_remove(&uq->slots, &uq->n_slots, e));
    e->state = UL_NONE;
    if (requeue)
        enqueue(uq, e, now);
}

void
ul_unreachable(ul_entry_t *e, time_t now)
{
    e->no_connect_until = now + UL_NO_CONNECT_PAUSE;
}

bool
ul_slot_used_up(const ul_queue_t *uq, const ul_entry_t *e)
{
    return e->read_in_slot >= UL_SLOT_BYTES && uq->n_queue > 0;
}

bool
ul_slot_is_idle(const ul_entry_t *e, time_t now, bool busy)
{
    return !busy && now - e->last_request > UL_SLOT_IDLE_TIMEOUT;
}

bool
ul_is_stale(const ul_entry_t *e, time_t now, bool connected)
{
    return !connected && now - e->last_seen > UL_QUEUE_FORGET;
}
