/* periodic.c: libevent persistent timers for the periodic job table. */
#include "config.h"

#include "daemon/core/periodic.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const periodic_job_t *job;
    struct event *ev;
    periodic_t *owner;
} periodic_entry_t;

struct periodic {
    periodic_entry_t *entries;
    size_t n;
    void *ctx;
};

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    periodic_entry_t *e = arg;
    e->job->fn(e->owner->ctx);
}

static void
schedule(periodic_entry_t *e, int interval_ms)
{
    struct timeval tv = { interval_ms / 1000, (interval_ms % 1000) * 1000 };
    evtimer_add(e->ev, &tv);
}

periodic_t *
periodic_new(struct event_base *base, const periodic_job_t *jobs, size_t n, void *ctx)
{
    periodic_t *p = xcalloc(1, sizeof *p);
    p->entries = xcalloc(n, sizeof *p->entries);
    p->n = n;
    p->ctx = ctx;
    for (size_t i = 0; i < n; i++) {
        periodic_entry_t *e = &p->entries[i];
        e->job = &jobs[i];
        e->owner = p;
        e->ev = event_new(base, -1, EV_PERSIST, on_timer, e);
        schedule(e, jobs[i].interval_ms);
        if (jobs[i].run_at_start)
            event_active(e->ev, EV_TIMEOUT, 0);
    }
    return p;
}

int
periodic_set_interval(periodic_t *p, const char *name, int interval_ms)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->entries[i].job->name, name) == 0) {
            evtimer_del(p->entries[i].ev);
            schedule(&p->entries[i], interval_ms);
            return 0;
        }
    }
    return -1;
}

void
periodic_free(periodic_t *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        event_free(p->entries[i].ev);
    free(p->entries);
    free(p);
}
