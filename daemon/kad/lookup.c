/* lookup.c: the iterative Kademlia lookup (lookup.h): candidates kept
 * sorted by distance to the target, ALPHA requests in flight, timeouts. */
#include "config.h"

#include "daemon/kad/lookup.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

typedef enum { CAND_NEW, CAND_ASKED, CAND_ANSWERED, CAND_FAILED } cand_state_t;

typedef struct cand {
    kad_contact_t c;
    cand_state_t state;
    int64_t asked_at;
} cand_t;

struct kad_lookup {
    kad_id_t target, me;
    uint8_t type;
    kad_lookup_send_fn send;
    void *ctx;
    cand_t cand[KAD_LOOKUP_CANDIDATES]; /* nearest first */
    size_t n;
    unsigned sent, answered, timeouts;
};

kad_lookup_t *
kad_lookup_new(const kad_id_t *target, const kad_id_t *me, uint8_t type, kad_lookup_send_fn send,
               void *ctx)
{
    kad_lookup_t *l = xcalloc(1, sizeof *l);
    l->target = *target;
    l->me = *me;
    l->type = type;
    l->send = send;
    l->ctx = ctx;
    return l;
}

void
kad_lookup_free(kad_lookup_t *l)
{
    free(l);
}

const kad_id_t *
kad_lookup_target(const kad_lookup_t *l)
{
    return &l->target;
}

static bool
known(const kad_lookup_t *l, const kad_contact_t *c)
{
    for (size_t i = 0; i < l->n; i++)
        if (kad_id_equal(&l->cand[i].c.id, &c->id) ||
            (l->cand[i].c.ip == c->ip && l->cand[i].c.udp_port == c->udp_port))
            return true;
    return false;
}

/* insert: c in distance order; the farthest falls off a full list. */
static void
insert(kad_lookup_t *l, const kad_contact_t *c)
{
    size_t at = 0;
    while (at < l->n && kad_id_distance_cmp(&l->target, &l->cand[at].c.id, &c->id) < 0)
        at++;
    if (at == KAD_LOOKUP_CANDIDATES)
        return;
    size_t move = l->n - at - (l->n == KAD_LOOKUP_CANDIDATES ? 1 : 0);
    memmove(&l->cand[at + 1], &l->cand[at], move * sizeof l->cand[0]);
    l->cand[at] = (cand_t){ .c = *c, .state = CAND_NEW };
    if (l->n < KAD_LOOKUP_CANDIDATES)
        l->n++;
}

void
kad_lookup_add(kad_lookup_t *l, const kad_contact_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!kad_id_equal(&c[i].id, &l->me) && c[i].version >= KAD_VERSION_MIN && !known(l, &c[i]))
            insert(l, &c[i]);
}

/* window: indices of the K closest live (not failed) candidates, in order;
 * returns how many. */
static size_t
window(const kad_lookup_t *l, size_t idx[KAD_LOOKUP_K])
{
    size_t w = 0;
    for (size_t i = 0; i < l->n && w < KAD_LOOKUP_K; i++)
        if (l->cand[i].state != CAND_FAILED)
            idx[w++] = i;
    return w;
}

static unsigned
in_flight(const kad_lookup_t *l)
{
    unsigned f = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->cand[i].state == CAND_ASKED)
            f++;
    return f;
}

void
kad_lookup_step(kad_lookup_t *l, int64_t now_ms)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->cand[i].state == CAND_ASKED && now_ms - l->cand[i].asked_at >= KAD_LOOKUP_TIMEOUT_MS) {
            l->cand[i].state = CAND_FAILED;
            l->timeouts++;
        }
    unsigned flying = in_flight(l);
    size_t idx[KAD_LOOKUP_K];
    size_t w = window(l, idx);
    for (size_t j = 0; j < w && flying < KAD_LOOKUP_ALPHA; j++) {
        cand_t *c = &l->cand[idx[j]];
        if (c->state != CAND_NEW)
            continue;
        c->state = CAND_ASKED;
        c->asked_at = now_ms;
        flying++;
        l->sent++;
        l->send(l->ctx, &c->c, &l->target, l->type);
    }
}

bool
kad_lookup_answer(kad_lookup_t *l, uint32_t ip, uint16_t udp_port, const kad_contact_t *c,
                  size_t n, int64_t now_ms)
{
    size_t i = 0;
    while (i < l->n && !(l->cand[i].c.ip == ip && l->cand[i].c.udp_port == udp_port))
        i++;
    if (i == l->n || l->cand[i].state != CAND_ASKED)
        return false;
    l->cand[i].state = CAND_ANSWERED;
    l->answered++;
    kad_lookup_add(l, c, n);
    kad_lookup_step(l, now_ms);
    return true;
}

bool
kad_lookup_is_done(const kad_lookup_t *l)
{
    size_t idx[KAD_LOOKUP_K];
    size_t w = window(l, idx);
    for (size_t j = 0; j < w; j++)
        if (l->cand[idx[j]].state != CAND_ANSWERED)
            return false;
    return true;
}

size_t
kad_lookup_closest(const kad_lookup_t *l, kad_contact_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n && n < max; i++)
        if (l->cand[i].state == CAND_ANSWERED)
            out[n++] = l->cand[i].c;
    return n;
}

unsigned
kad_lookup_sent(const kad_lookup_t *l)
{
    return l->sent;
}

unsigned
kad_lookup_answered(const kad_lookup_t *l)
{
    return l->answered;
}

unsigned
kad_lookup_timeouts(const kad_lookup_t *l)
{
    return l->timeouts;
}

bool
kad_in_tolerance(const kad_id_t *a, const kad_id_t *b)
{
    return (a->w[0] ^ b->w[0]) < (1u << 24);
}
