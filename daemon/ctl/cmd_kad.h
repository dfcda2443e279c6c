/* cmd_kad.h: the control commands of the Kad node (cmd_kad.c). */
#ifndef MT_DAEMON_CTL_CMD_KAD_H
#define MT_DAEMON_CTL_CMD_KAD_H

#include <json-c/json.h>

#include "util/error.h"

int kad_cmd_status(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int kad_cmd_import(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int kad_cmd_bootstrap(void *ctx, json_object *args, json_object **result, mt_error_t **err);
/* kad_cmd_lookup: kad-lookup {target: 32 hex digits} starts a node lookup,
 * {lookup: N} reads lookup N; both answer with kad_probe_to_json. */
int kad_cmd_lookup(void *ctx, json_object *args, json_object **result, mt_error_t **err);

struct muleteerd;
/* kad_cmd_import_link: kad-import's answer for an ed2k nodeslist link (the
 * node and {import}: its URL is being fetched); MT_ERR_INVALID for a bad
 * link or another type. Also what add answers for such a link. */
int kad_cmd_import_link(struct muleteerd *d, const char *text, json_object **result,
                        mt_error_t **err);
/* kad_cmd_connect, kad_cmd_disconnect: kad-connect and kad-disconnect (no
 * arguments): the node as kad-status shows it. */
int kad_cmd_connect(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int kad_cmd_disconnect(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
