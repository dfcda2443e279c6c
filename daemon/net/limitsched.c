/* limitsched.c: the alternative limits' schedule on the daemon's loop
 * (limitsched.h): one libevent timer set to the next boundary, which
 * switches the mode only when the scheduled state changes. */
#include "config.h"

#include "daemon/net/limitsched.h"
#include "daemon/core/daemon.h"
#include "daemon/net/peer.h"
#include "daemon/net/speedlimit.h"
#include "util/bug.h"
#include "util/conf.h"
#include "util/log.h"
#include "util/sched.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The longest wait between two evaluations: a wall clock set back or on
 * is noticed within this many seconds. Evaluating without a boundary
 * changes nothing (a manual switch holds). */
#define LSCHED_MAX_WAIT 3600

struct lsched {
    struct muleteerd *d;
    struct event *timer;
    bool enabled;
    bool active;  /* the schedule's state at the last evaluation */
    time_t next;  /* its next boundary, 0: none */
};

/* set_mode: the alternative pair in force or not, saved like a manual
 * switch so that a restart keeps it. */
static void
set_mode(struct muleteerd *d, bool alt)
{
    speedlimit_t l;
    peer_mgr_get_limits(d->peers, &l);
    if (l.alt == alt)
        return;
    l.alt = alt;
    char *file = peer_mgr_alt_mode_file(d);
    mt_error_t *err = NULL;
    if (speedlimit_save_mode(file, alt, &err) != 0) {
        log_warn("schedule: the mode holds until the daemon stops: %s", err->message);
        mt_error_free(err);
    }
    free(file);
    peer_mgr_set_limits(d->peers, &l);
    log_info("schedule: alternative speed limits %s", alt ? "on" : "off");
}

/* evaluate: the schedule's state now; the mode follows it when force or
 * when the state changed since the last evaluation; the timer is set to
 * the next boundary. */
static void
evaluate(lsched_t *s, bool force)
{
    evtimer_del(s->timer);
    bool was_enabled = s->enabled, was_active = s->active;
    s->enabled = conf_get_bool(s->d->conf, "scheduler_enabled");
    if (!s->enabled)
        return; /* the mode stays as it is, as qBittorrent leaves it */
    sched_t sc;
    mt_error_t *err = NULL;
    if (MT_BUG(sched_parse(conf_get_str(s->d->conf, "schedule"), &sc, &err) != 0)) {
        mt_error_free(err); /* the configuration checked it */
        s->enabled = false;
        return;
    }
    time_t now = time(NULL);
    sched_eval(&sc, now, &s->active, &s->next);
    if (force || !was_enabled || s->active != was_active)
        set_mode(s->d, s->active);
    time_t wait = s->next == 0 || s->next - now > LSCHED_MAX_WAIT ? LSCHED_MAX_WAIT : s->next - now;
    struct timeval tv = { .tv_sec = wait < 1 ? 1 : wait };
    evtimer_add(s->timer, &tv);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evaluate(arg, false);
}

lsched_t *
lsched_new(struct muleteerd *d)
{
    lsched_t *s = xcalloc(1, sizeof *s);
    s->d = d;
    s->timer = evtimer_new(d->base, on_timer, s);
    evaluate(s, true);
    return s;
}

void
lsched_free(lsched_t *s)
{
    if (s == NULL)
        return;
    event_free(s->timer);
    free(s);
}

void
lsched_reload(lsched_t *s)
{
    evaluate(s, true);
}

bool
lsched_state(const lsched_t *s, bool *active, time_t *next)
{
    *active = s->enabled && s->active;
    *next = s->enabled ? s->next : 0;
    return s->enabled;
}

void
lsched_apply_timezone(const char *tz)
{
    if (tz == NULL || *tz == '\0')
        return;
    /* a zone name is a file of the system's time zone database; glibc
     * would quietly use UTC for an unknown one */
    if (tz[0] != ':' && strpbrk(tz, "0123456789") == NULL) {
        char *path = xasprintf("/usr/share/zoneinfo/%s", tz);
        if (access(path, R_OK) != 0)
            log_warn("schedule_timezone: no time zone \"%s\" in /usr/share/zoneinfo; UTC is used",
                     tz);
        free(path);
    }
    setenv("TZ", tz, 1);
    tzset();
    log_info("local time zone: %s", tz);
}
