/* clock.h: the monotonic clock in whole seconds and milliseconds, for
 * timers and timeouts (wall time is only for what is stored or shown). */
#ifndef MT_UTIL_CLOCK_H
#define MT_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* clock_mono_s: seconds of CLOCK_MONOTONIC. */
static inline time_t
clock_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* clock_mono_ms: milliseconds of CLOCK_MONOTONIC. */
static inline int64_t
clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
