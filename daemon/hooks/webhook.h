/* webhook.h: the webhook sender (docs/hooks.md): a thread of its own that
 * POSTs event bodies to the configured URLs with libcurl, retrying with
 * exponential back-off, from a bounded queue. The loop only queues: it
 * never waits on the network. */
#ifndef MT_DAEMON_WEBHOOK_H
#define MT_DAEMON_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

typedef struct webhook webhook_t;

/* What one delivery follows (copied at webhook_send). */
typedef struct {
    unsigned timeout_s;  /* one request's time limit */
    unsigned retries;    /* attempts after the first */
    unsigned backoff_ms; /* before the first retry, doubled each time (at most a minute) */
    size_t max_queued;   /* deliveries waiting or between attempts */
} webhook_opts_t;

typedef struct {
    uint64_t queued;    /* deliveries accepted */
    uint64_t delivered; /* answered 2xx */
    uint64_t failed;    /* given up after the last retry */
    uint64_t retried;   /* attempts after a failure */
    uint64_t dropped;   /* refused: the queue was full */
    size_t pending;     /* in the queue now */
} webhook_stats_t;

/* webhook_new: starts the sender thread (curl_global_init must have run). */
webhook_t *webhook_new(void);
/* webhook_free: stops the thread (a request in flight is aborted);
 * deliveries still queued are dropped and logged. Accepts NULL. */
void webhook_free(webhook_t *w);

/* webhook_send: queues body (JSON) for every URL of urls (separated by
 * blanks or commas), signed with secret when it is not empty; event goes
 * into X-Muleteer-Event. Returns how many deliveries were queued; the rest
 * were dropped (counted) because the queue was full. */
size_t webhook_send(webhook_t *w, const char *urls, const char *secret, const char *event,
                    const char *body, const webhook_opts_t *o);

/* webhook_get_stats: the counters so far. */
void webhook_get_stats(webhook_t *w, webhook_stats_t *out);

#endif
