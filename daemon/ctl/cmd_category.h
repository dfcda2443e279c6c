/* cmd_category.h: the control commands on categories (cmd_category.c). */
#ifndef MT_DAEMON_CMD_CATEGORY_H
#define MT_DAEMON_CMD_CATEGORY_H

#include <json-c/json.h>

#include "util/error.h"

int cat_cmd_list(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cat_cmd_add(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cat_cmd_edit(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cat_cmd_remove(void *ctx, json_object *args, json_object **result, mt_error_t **err);
/* cat_cmd_set: category-set {categories: [{name, incoming_path}], dry_run}:
 * every category added or its path changed, or none (category.h's
 * cat_apply_set); with dry_run only checked. A refusal's message starts
 * with "categories[I].name: " or "categories[I].incoming_path: ". */
int cat_cmd_set(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
