/* cmd_config.h: the control commands on the run-time configuration
 * (cmd_config.c): `config` shows the keys of util/confrt.h in force,
 * `config-set` changes them, applies them at once and writes them to the
 * configuration file. */
#ifndef MT_DAEMON_CMD_CONFIG_H
#define MT_DAEMON_CMD_CONFIG_H

#include <json-c/json.h>

#include "util/error.h"

int cfg_cmd_config(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cfg_cmd_config_set(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
