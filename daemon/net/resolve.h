/* resolve.h: host name lookups (getaddrinfo) on a worker thread, with the
 * answer delivered on the loop thread; dotted IPv4 is answered at once. */
#ifndef MT_DAEMON_RESOLVE_H
#define MT_DAEMON_RESOLVE_H

#include <stdint.h>

#include "daemon/core/worker.h"

/* The answer: ip in eD2K form when error is NULL, else error says why
 * (also when the pool is shutting down: "cancelled"). */
typedef void (*resolve_fn)(void *ctx, uint32_t ip, const char *error);

/* resolve_ipv4: looks host up (IPv4 only); done runs on the loop thread,
 * possibly before resolve_ipv4 returns for a literal address. */
void resolve_ipv4(worker_pool_t *pool, const char *host, resolve_fn done, void *ctx);

#endif
