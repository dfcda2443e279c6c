/* status.h: what the daemon says about itself: the "status" and "ping"
 * control commands and the daemon_status row kept fresh in PostgreSQL. */
#ifndef MT_DAEMON_STATUS_H
#define MT_DAEMON_STATUS_H

#include <json-c/json.h>
#include <stdbool.h>

#include "daemon/core/daemon.h"
#include "util/error.h"

/* status_publish: queues an upsert of this daemon's daemon_status row with
 * a fresh heartbeat; stopped marks a clean shutdown. */
void status_publish(muleteerd_t *d, bool stopped);

int status_cmd_status(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int status_cmd_ping(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
