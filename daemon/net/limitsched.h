/* limitsched.h: the schedule of the alternative speed limits: while a rule
 * of `schedule` (util/sched.h) is active, with scheduler_enabled, the
 * alternative pair is in force. One timer at the next boundary of the
 * local wall clock; a manual switch of the mode (the `limits` command)
 * holds until that boundary, as qBittorrent's scheduler does. */
#ifndef MT_DAEMON_NET_LIMITSCHED_H
#define MT_DAEMON_NET_LIMITSCHED_H

#include <stdbool.h>
#include <time.h>

struct muleteerd;
typedef struct lsched lsched_t;

/* lsched_new: starts the schedule of d (d->peers must exist): when
 * enabled, the mode the schedule gives is put in force now. Freed with
 * lsched_free (NULL accepted). */
lsched_t *lsched_new(struct muleteerd *d);
void lsched_free(lsched_t *s);

/* lsched_reload: scheduler_enabled or schedule changed: evaluated again,
 * and when enabled the schedule's mode is put in force at once. */
void lsched_reload(lsched_t *s);

/* lsched_state: false when the schedule is off; else *active (the
 * alternative pair is scheduled now) and *next (wall time of the next
 * boundary, 0: none). */
bool lsched_state(const lsched_t *s, bool *active, time_t *next);

/* lsched_apply_timezone: schedule_timezone (when set) becomes the
 * process's TZ. Call once at start, before any thread. */
void lsched_apply_timezone(const char *tz);

#endif
