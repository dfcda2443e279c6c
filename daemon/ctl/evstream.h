/* evstream.h: the daemon's event bus on the control socket: every bus
 * event becomes one JSON line for the clients that sent `subscribe`
 * (docs/control-protocol.md, "Events"); nothing is built while nobody
 * subscribed to that event. */
#ifndef MT_DAEMON_CTL_EVSTREAM_H
#define MT_DAEMON_CTL_EVSTREAM_H

#include <json-c/json.h>

#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"

/* evstream_start: names the bus events as the control socket's topics and
 * subscribes to every event of d->bus, publishing on d->ctl (both made).
 * evstream_stop unsubscribes (before d->ctl is freed). */
void evstream_start(muleteerd_t *d);
void evstream_stop(muleteerd_t *d);

/* evstream_line: the line of one event (without newline): {"event": name,
 * "data": {...}}. Pure apart from the download and peer accessors it
 * reads; the caller frees the string. Exposed for the unit test. */
char *evstream_line(bus_event_t ev, const void *payload);

#endif
