/* logtap.h: the daemon's log lines on the bus (log_line): every line the
 * log writes, from any thread, is queued and published on the loop
 * thread. Subscribers to log_line must not log. */
#ifndef MT_DAEMON_CORE_LOGTAP_H
#define MT_DAEMON_CORE_LOGTAP_H

#include <event2/event.h>

#include "daemon/core/bus.h"

#define LOGTAP_MAX_QUEUED 256 /* lines waiting for the loop; more are counted and dropped */

typedef struct logtap logtap_t;

/* logtap_new: hooks into the log (util/log.h) until logtap_free. */
logtap_t *logtap_new(struct event_base *base, bus_t *bus);
void logtap_free(logtap_t *t);

#endif
