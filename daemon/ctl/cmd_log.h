/* cmd_log.h: the daemon's recent log and peer log for the control socket
 * (`log`, `peer-log`): two bounded rings (core/logring.h) fed from the
 * bus, the log lines (log_line) and the peers banned (peer_banned). */
#ifndef MT_DAEMON_CTL_CMD_LOG_H
#define MT_DAEMON_CTL_CMD_LOG_H

#include <json-c/json.h>

#include "daemon/core/daemon.h"
#include "util/error.h"

#define CMD_LOG_LINES 2000     /* log lines kept */
#define CMD_LOG_PEERS 1000     /* peer entries kept */
#define CMD_LOG_MAX_TEXT 1024  /* bytes of one line kept */

/* cmd_log_start: makes the rings and subscribes them to d->bus, from
 * where the log is tapped (core/logtap.h) on. cmd_log_stop unsubscribes
 * and frees them (safe when never started). */
void cmd_log_start(muleteerd_t *d);
void cmd_log_stop(muleteerd_t *d);

int cmd_log(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_peer_log(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
