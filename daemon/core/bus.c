/* bus.c: the event bus (bus.h): per event kind, the subscribers in the
 * order they subscribed; a publish calls each of them with the payload,
 * casting the stored function back to its typed form. */
#include "config.h"

#include "daemon/core/bus.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <stdlib.h>

typedef struct {
    bus_any_fn fn; /* NULL: unsubscribed during a delivery */
    void *ctx;
} sub_t;

typedef struct {
    sub_t *v;
    size_t n;
    uint64_t published;
} subs_t;

struct bus {
    subs_t subs[BUS_N_EVENTS];
    int depth;        /* deliveries under way (nested publishes) */
    bool removed;     /* some sub_t were cleared during a delivery */
};

static const char *const names[] = {
#define BUS_NAME_(U, l, T) #l,
    BUS_EVENTS(BUS_NAME_)
#undef BUS_NAME_
};

bus_t *
bus_new(void)
{
    return xcalloc(1, sizeof(bus_t));
}

void
bus_free(bus_t *b)
{
    if (b == NULL)
        return;
    for (int i = 0; i < BUS_N_EVENTS; i++)
        free(b->subs[i].v);
    free(b);
}

const char *
bus_event_name(bus_event_t ev)
{
    return (unsigned)ev < BUS_N_EVENTS ? names[ev] : "?";
}

uint64_t
bus_published(const bus_t *b, bus_event_t ev)
{
    return (unsigned)ev < BUS_N_EVENTS ? b->subs[ev].published : 0;
}

void
bus_subscribe_(bus_t *b, bus_event_t ev, bus_any_fn fn, void *ctx)
{
    if (b == NULL || (unsigned)ev >= BUS_N_EVENTS || fn == NULL)
        return;
    subs_t *s = &b->subs[ev];
    s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
    s->v[s->n++] = (sub_t){ fn, ctx };
}

static void
compact(bus_t *b)
{
    for (int i = 0; i < BUS_N_EVENTS; i++) {
        subs_t *s = &b->subs[i];
        size_t k = 0;
        for (size_t j = 0; j < s->n; j++)
            if (s->v[j].fn != NULL)
                s->v[k++] = s->v[j];
        s->n = k;
    }
    b->removed = false;
}

void
bus_unsubscribe_ctx(bus_t *b, const void *ctx)
{
    if (b == NULL)
        return;
    for (int i = 0; i < BUS_N_EVENTS; i++)
        for (size_t j = 0; j < b->subs[i].n; j++)
            if (b->subs[i].v[j].ctx == ctx) {
                b->subs[i].v[j].fn = NULL;
                b->removed = true;
            }
    if (b->depth == 0)
        compact(b);
}

/* deliver: one subscriber, its function cast back to the typed form it
 * was given as (calling it through another type would be undefined). */
static void
deliver(const sub_t *s, bus_event_t ev, const void *payload)
{
    switch (ev) {
#define BUS_CASE_(U, l, T)                                  \
    case BUS_##U:                                           \
        ((bus_##l##_fn)s->fn)(s->ctx, (const T *)payload);  \
        break;
        BUS_EVENTS(BUS_CASE_)
#undef BUS_CASE_
    case BUS_N_EVENTS:
        break;
    }
}

void
bus_publish_(bus_t *b, bus_event_t ev, const void *payload)
{
    if ((unsigned)ev >= BUS_N_EVENTS)
        return;
    if (b->depth >= BUS_MAX_DEPTH) {
        log_error("bus: %s published %d deep in other deliveries; dropped", names[ev],
                  b->depth);
        return;
    }
    subs_t *s = &b->subs[ev];
    s->published++;
    b->depth++;
    /* Subscribers added meanwhile hear the next event, not this one; the
     * array may move when they do, so it is indexed afresh each time. */
    size_t n = s->n;
    for (size_t i = 0; i < n; i++) {
        sub_t sub = s->v[i];
        if (sub.fn != NULL)
            deliver(&sub, ev, payload);
    }
    b->depth--;
    if (b->depth == 0 && b->removed)
        compact(b);
}
