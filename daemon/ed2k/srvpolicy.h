/* srvpolicy.h: the eD2K server connection's timing decisions, kept pure
 * (no network, no clock, no randomness of their own) so they can be
 * tested: the retry back-off and what ends it, and the pacing of source
 * requests (OP_GETSOURCES, ed2k-protocol.md §3.6, §5.10). */
#ifndef MT_DAEMON_SRVPOLICY_H
#define MT_DAEMON_SRVPOLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* A back-off: `step` failures in a row, no attempt before `until`
 * (monotonic seconds; 0: any time). Zeroed is "no failure". */
typedef struct {
    unsigned step;
    time_t until;
} srvpol_backoff_t;

/* srvpol_base: the pause after `step` failures in a row, without jitter:
 * 0 for step 0, else min doubled step - 1 times, at most max. */
long srvpol_base(long min, long max, unsigned step);
/* srvpol_delay: srvpol_base plus a jitter of up to a quarter of it, taken
 * from rnd (any random number), so that clients that failed together do
 * not come back together. */
long srvpol_delay(long min, long max, unsigned step, uint32_t rnd);
/* srvpol_fail: one more failure at `now`: the step grows and the next
 * attempt waits srvpol_delay. Returns that delay. *grew (optional) tells
 * whether the pause grew, false once it stays at max: callers log once
 * per step, not once per attempt. */
long srvpol_fail(srvpol_backoff_t *b, long min, long max, time_t now, uint32_t rnd, bool *grew);
/* srvpol_reset: the failures are over (a session lasted). */
void srvpol_reset(srvpol_backoff_t *b);
/* srvpol_ready: whether an attempt may be made at `now`. */
bool srvpol_ready(const srvpol_backoff_t *b, time_t now);

/* srvpol_session_lasted: whether a session that began at `since` counts
 * as good at `now`: it gave something useful (sources, search results),
 * or it stayed up min_session seconds. A login alone is not enough: a
 * server that closes the connection right after it, or on the first
 * request it does not like, keeps failing. */
bool srvpol_session_lasted(time_t since, time_t now, long min_session, bool useful);

/* srvpol_reask_due: whether a download last asked at `last` (0: never)
 * may be asked again at `now`, at most every `interval` seconds. */
bool srvpol_reask_due(time_t last, time_t now, long interval);

/* A rate limit (a token bucket in the form of a theoretical arrival time,
 * GCRA): at most `burst` at once, then one per `every` seconds. Zeroed is
 * a full bucket. */
typedef struct {
    time_t tat;
} srvpol_pace_t;

/* srvpol_pace_take: whether one more may be sent at `now`; if so it is
 * counted. */
bool srvpol_pace_take(srvpol_pace_t *p, time_t now, long every, unsigned burst);

#endif
