/* cmd_server.h: the control commands on the server connection and the
 * server list (cmd_server.c). */
#ifndef MT_DAEMON_CTL_CMD_SERVER_H
#define MT_DAEMON_CTL_CMD_SERVER_H

#include <json-c/json.h>

#include "util/error.h"

int srv_cmd_connect(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int srv_cmd_disconnect(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int srv_cmd_server(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int sl_cmd_servers(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int sl_cmd_server_add(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int sl_cmd_server_remove(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int sl_cmd_servers_import(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
