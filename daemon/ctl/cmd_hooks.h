/* cmd_hooks.h: the control commands of the hooks (cmd_hooks.c): `hooks`
 * (the counters of the programs and webhooks) and `hooks-test` (an event
 * fired by hand, docs/hooks.md). */
#ifndef MT_DAEMON_CMD_HOOKS_H
#define MT_DAEMON_CMD_HOOKS_H

#include <json-c/json.h>

#include "util/error.h"

int hooks_cmd_stats(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int hooks_cmd_test(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
