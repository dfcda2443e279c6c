/* ratelimit.c: token bucket arithmetic in bytes, refilled on demand. */
#include "config.h"

#include "daemon/ratelimit.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <stdint.h>
#include <time.h>

struct ratelimit {
    uint64_t rate, burst;
    double tokens;
    struct timespec last;
};

static void
refill(ratelimit_t *rl)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - rl->last.tv_sec) + (now.tv_nsec - rl->last.tv_nsec) / 1e9;
    rl->last = now;
    if (rl->rate == 0 || dt <= 0)
        return;
    rl->tokens += dt * (double)rl->rate;
    if (rl->tokens > (double)rl->burst)
        rl->tokens = (double)rl->burst;
}

ratelimit_t *
ratelimit_new(uint64_t rate, uint64_t burst)
{
    ratelimit_t *rl = xcalloc(1, sizeof *rl);
    clock_gettime(CLOCK_MONOTONIC, &rl->last);
    ratelimit_set_rate(rl, rate, burst);
    rl->tokens = (double)rl->burst;
    return rl;
}

void
ratelimit_free(ratelimit_t *rl)
{
    free(rl);
}

void
ratelimit_set_rate(ratelimit_t *rl, uint64_t rate, uint64_t burst)
{
    refill(rl);
    rl->rate = rate;
    rl->burst = burst > 0 ? burst : 1;
    if (rl->tokens > (double)rl->burst)
        rl->tokens = (double)rl->burst;
}

uint64_t
ratelimit_rate(const ratelimit_t *rl)
{
    return rl->rate;
}

size_t
ratelimit_available(ratelimit_t *rl)
{
    if (rl->rate == 0)
        return SIZE_MAX;
    refill(rl);
    return rl->tokens > 0 ? (size_t)rl->tokens : 0;
}

void
ratelimit_spend(ratelimit_t *rl, size_t n)
{
    if (rl->rate == 0)
        return;
    refill(rl);
    rl->tokens -= (double)n;
}

int
ratelimit_wait_ms(ratelimit_t *rl, size_t want)
{
    if (rl->rate == 0)
        return 0;
    refill(rl);
    if (rl->tokens >= (double)want)
        return 0;
    double need = (double)want - rl->tokens;
    double ms = need * 1000.0 / (double)rl->rate;
    return ms > 1e6 ? 1000000 : (int)ms + 1;
}
