/* periodic.h: the daemon's periodic jobs (after Tor's periodic.c): one
 * table of {name, interval, fn} in main.c, each run from a libevent timer
 * on the loop thread. */
#ifndef MT_DAEMON_PERIODIC_H
#define MT_DAEMON_PERIODIC_H

#include <event2/event.h>

typedef struct periodic periodic_t;

typedef struct {
    const char *name;
    int interval_ms;           /* default interval */
    void (*fn)(void *ctx);
    int run_at_start;          /* non-zero: also run once right away */
} periodic_job_t;

/* periodic_new: schedules every job of the table (which must outlive the
 * result) on base; ctx is passed to each fn. */
periodic_t *periodic_new(struct event_base *base, const periodic_job_t *jobs, size_t n,
                         void *ctx);
/* periodic_set_interval: changes a job's interval (e.g. after a config
 * reload); -1 if no job has that name. */
int periodic_set_interval(periodic_t *p, const char *name, int interval_ms);
void periodic_free(periodic_t *p);

#endif
