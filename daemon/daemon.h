/* daemon.h: the state of one running muleteerd, shared by the daemon's
 * modules (all on the loop thread unless a field says otherwise). */
#ifndef MT_DAEMON_DAEMON_H
#define MT_DAEMON_DAEMON_H

#include <event2/event.h>
#include <time.h>

#include "daemon/control.h"
#include "daemon/db_worker.h"
#include "daemon/periodic.h"
#include "util/conf.h"

typedef struct muleteerd {
    struct event_base *base;
    conf_t *conf;
    char *conf_file;
    time_t started_at;            /* wall clock, for what is stored and shown */
    struct timespec started_mono; /* monotonic, for uptime */
    dbw_t *db;
    ctlsrv_t *ctl;
    periodic_t *periodic;
    struct event *sig_term, *sig_int, *sig_hup;
} muleteerd_t;

#endif
