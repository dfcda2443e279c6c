/* server.h: the connection to one eD2K server (ed2k-protocol.md §3): login,
 * our client id (HighID or LowID), publishing shared files and downloads,
 * asking for sources, and connecting out when a LowID callback is
 * requested. */
#ifndef MT_DAEMON_SERVER_H
#define MT_DAEMON_SERVER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct muleteerd;
typedef struct srvconn srvconn_t;

srvconn_t *srv_new(struct muleteerd *d);
void srv_free(srvconn_t *s);
/* srv_connect: (re)connects to host:port (a name or a dotted IPv4; the name
 * is resolved on a worker). Any current connection is dropped. */
int srv_connect(srvconn_t *s, const char *host, uint16_t port, mt_error_t **err);
/* srv_disconnect: drops the connection and stops reconnecting. */
void srv_disconnect(srvconn_t *s);
/* srv_tick: once a second: timeouts, reconnects, re-offers, source
 * requests. */
void srv_tick(srvconn_t *s);
bool srv_is_connected(const srvconn_t *s);
json_object *srv_to_json(const srvconn_t *s);

/* Control commands. */
int srv_cmd_connect(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int srv_cmd_disconnect(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int srv_cmd_server(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
