/* srvround.h: which server the automatic mode tries next, kept pure (the
 * servers as an array, the time and the randomness passed in) so it can
 * be tested: rounds over the list in sl_pick's order, each server once a
 * round and only out of its own back-off, the server of a session that
 * lasted and broke last in the next round, and a pause after a whole
 * round failed (ed2k/server.c applies it; servers.md). */
#ifndef MT_DAEMON_SRVROUND_H
#define MT_DAEMON_SRVROUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/ed2k/serverlist.h"
#include "daemon/ed2k/srvpolicy.h"

#define SRVROUND_MAX_TRIED 64 /* a round ends after so many at most */

/* One round of automatic tries. Zeroed is a new round, no pause. */
typedef struct srvround {
    const sl_server_t *tried[SRVROUND_MAX_TRIED]; /* this round's (NULL: removed since) */
    size_t n_tried;
    srvpol_backoff_t pause;                       /* after whole rounds that failed */
} srvround_t;

/* srvround_next: the server to try at now among the n of v: the best (sl_pick_among)
 * not tried yet in this round and out of its back-off; when there is
 * none, a new round begins among them all. It counts as tried. NULL
 * when none may be tried now: *wait (optional) is then when the first
 * back-off ends (0: none is waiting). */
sl_server_t *srvround_next(srvround_t *r, sl_server_t *const *v, size_t n, time_t now,
                           time_t *wait);
/* srvround_restart: a new round. last (or NULL): the server of a session
 * that lasted and broke, which counts as tried so the others come
 * first. */
void srvround_restart(srvround_t *r, const sl_server_t *last);
/* srvround_failed: an attempt failed at now, with n servers in the list.
 * When every one was tried in this round (or SRVROUND_MAX_TRIED), and
 * there is more than one, the round is over: the next begins after a
 * pause, min doubling to max for each such round in a row, jittered by rnd
 * (srvpol_fail; *grew, optional, as there). Returns that pause, or 0 when
 * the round goes on. */
long srvround_failed(srvround_t *r, size_t n, long min, long max, time_t now, uint32_t rnd,
                     bool *grew);
/* srvround_good: a session lasted: no more pause. */
void srvround_good(srvround_t *r);
/* srvround_forget: e leaves the list (it stays counted in this round). */
void srvround_forget(srvround_t *r, const sl_server_t *e);

#endif
