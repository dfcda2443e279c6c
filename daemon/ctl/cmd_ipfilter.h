/* cmd_ipfilter.h: the control commands of the IP filter (cmd_ipfilter.c). */
#ifndef MT_DAEMON_CTL_CMD_IPFILTER_H
#define MT_DAEMON_CTL_CMD_IPFILTER_H

#include <json-c/json.h>

#include "util/error.h"

int ipfilter_cmd_status(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int ipfilter_cmd_reload(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
