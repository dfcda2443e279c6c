/* ratelimit.h: token buckets for the global upload and download limits;
 * a limit of 0 means unlimited. Refilled from the monotonic clock. */
#ifndef MT_DAEMON_RATELIMIT_H
#define MT_DAEMON_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct ratelimit ratelimit_t;

/* ratelimit_new: rate in bytes per second (0: unlimited); burst is how
 * many bytes may accumulate (at least one packet's worth). */
ratelimit_t *ratelimit_new(uint64_t rate, uint64_t burst);
void ratelimit_free(ratelimit_t *rl);
void ratelimit_set_rate(ratelimit_t *rl, uint64_t rate, uint64_t burst);
uint64_t ratelimit_rate(const ratelimit_t *rl);
/* ratelimit_available: bytes that may be spent now (SIZE_MAX if
 * unlimited). */
size_t ratelimit_available(ratelimit_t *rl);
/* ratelimit_spend: records n bytes spent (may go into debt). */
void ratelimit_spend(ratelimit_t *rl, size_t n);
/* ratelimit_wait_ms: milliseconds until at least want bytes are
 * available (0 if they are now). */
int ratelimit_wait_ms(ratelimit_t *rl, size_t want);

#endif
