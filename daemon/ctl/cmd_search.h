/* cmd_search.h: the control commands on searches (cmd_search.c). */
#ifndef MT_DAEMON_CTL_CMD_SEARCH_H
#define MT_DAEMON_CTL_CMD_SEARCH_H

#include <json-c/json.h>

#include "util/error.h"

int search_cmd_search(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int search_cmd_results(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int search_cmd_stop(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int search_cmd_more(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int search_cmd_list(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
