/* urlfetch.h: one HTTP(S) GET off the event loop, for the lists Muleteer
 * downloads (server.met, IP filters, nodes.dat): libcurl on a worker,
 * bounded in size, time and redirects, http and https only. */
#ifndef MT_DAEMON_NET_URLFETCH_H
#define MT_DAEMON_NET_URLFETCH_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/core/worker.h"
#include "util/error.h"

/* The bounds of one fetch: the body's largest size (compressed or not:
 * what arrives after decoding), and the whole transfer's time. Connecting
 * takes at most 15 s of it; at most 5 redirects, to http(s) only. */
typedef struct urlfetch_limits {
    size_t max_bytes;
    long timeout_s;
} urlfetch_limits_t;

/* urlfetch_is_url: whether s starts with http:// or https:// (any case). */
bool urlfetch_is_url(const char *s);

/* urlfetch_get: fetches url into body, blocking: call it on a worker
 * thread only. 0 when the server answered 200; else -1 with err:
 * MT_ERR_INVALID (not an http(s) URL), MT_ERR_TOO_LARGE (over max_bytes),
 * MT_ERR_NOT_FOUND (HTTP 404), MT_ERR_TIMEOUT, MT_ERR_IO (any other
 * failure or status). Messages read "cannot fetch URL: why". body may hold
 * part of the answer after a failure. */
int urlfetch_get(const char *url, const urlfetch_limits_t *lim, struct evbuffer *body,
                 mt_error_t **err);

/* urlfetch_done_fn: on the loop thread once the fetch is over: body (the
 * answer, owned by the fetch and freed after the call: drain what you
 * keep) when err is NULL, else err (freed after the call). cancelled: the
 * worker pool is going away; body and err are then NULL and the callee
 * only frees its ctx. */
typedef void (*urlfetch_done_fn)(void *ctx, struct evbuffer *body, const mt_error_t *err,
                                 bool cancelled);

/* urlfetch_start: fetches url on a worker of pool; done is called on the
 * loop thread. -1 with MT_ERR_INVALID (done is then never called) when url
 * is not an http(s) URL. */
int urlfetch_start(worker_pool_t *pool, const char *url, const urlfetch_limits_t *lim,
                   urlfetch_done_fn done, void *ctx, mt_error_t **err);

#endif
