/* logtap.c: log lines to the bus (logtap.h). The log's hook runs on the
 * thread that logged: it copies the line into a bounded queue and wakes
 * the loop, which publishes the queued lines in order. */
#include "config.h"

#include "daemon/core/logtap.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int level;
    char *text;
} line_t;

struct logtap {
    bus_t *bus;
    struct event *wake;
    pthread_mutex_t lock;
    line_t q[LOGTAP_MAX_QUEUED]; /* under lock */
    size_t n;                    /* under lock */
    unsigned long dropped;       /* under lock: lines the full queue refused */
};

static void
on_line(void *ctx, log_level_t level, const char *text, size_t len)
{
    logtap_t *t = ctx;
    pthread_mutex_lock(&t->lock);
    bool wake = t->n == 0 && t->dropped == 0;
    if (t->n < LOGTAP_MAX_QUEUED)
        t->q[t->n++] = (line_t){ (int)level, xstrndup(text, len) };
    else
        t->dropped++;
    pthread_mutex_unlock(&t->lock);
    if (wake)
        event_active(t->wake, EV_READ, 0);
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    logtap_t *t = arg;
    line_t q[LOGTAP_MAX_QUEUED];
    pthread_mutex_lock(&t->lock);
    size_t n = t->n;
    unsigned long dropped = t->dropped;
    memcpy(q, t->q, n * sizeof q[0]);
    t->n = 0;
    t->dropped = 0;
    pthread_mutex_unlock(&t->lock);
    for (size_t i = 0; i < n; i++) {
        bus_publish_log_line(t->bus, &(bus_log_t){ .level = q[i].level, .text = q[i].text });
        free(q[i].text);
    }
    if (dropped > 0) {
        char text[96];
        snprintf(text, sizeof text, "(%lu log line%s not published: too many at once)", dropped,
                 dropped == 1 ? "" : "s");
        bus_publish_log_line(t->bus, &(bus_log_t){ .level = LOG_LEVEL_WARN, .text = text });
    }
}

logtap_t *
logtap_new(struct event_base *base, bus_t *bus)
{
    logtap_t *t = xcalloc(1, sizeof *t);
    t->bus = bus;
    pthread_mutex_init(&t->lock, NULL);
    t->wake = event_new(base, -1, 0, on_wake, t);
    log_set_hook(on_line, t);
    return t;
}

void
logtap_free(logtap_t *t)
{
    if (t == NULL)
        return;
    log_set_hook(NULL, NULL);
    event_free(t->wake);
    for (size_t i = 0; i < t->n; i++)
        free(t->q[i].text);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
