/* category.h: download categories (name, incoming path, priority, colour,
 * comment), kept in $state_dir/categories.json and the categories table,
 * created, changed, renamed and removed through the control socket. A
 * category's incoming directory is where its completed downloads go. */
#ifndef MT_DAEMON_CATEGORY_H
#define MT_DAEMON_CATEGORY_H

#include <json-c/json.h>
#include <stdbool.h>

#include "util/error.h"

struct muleteerd;
typedef struct categories categories_t;

categories_t *cat_new(struct muleteerd *d);
void cat_free(categories_t *c);
/* cat_incoming: the incoming directory of a category (NULL or unknown:
 * the daemon's incoming_dir). */
const char *cat_incoming(const categories_t *c, const char *name);
/* cat_complete_dir: where a completed download of category name is moved:
 * its incoming directory, checked again against incoming_dir and
 * download_roots with the symbolic links as they are now (a link may have
 * been changed since the category was made), else incoming_dir (logged). */
const char *cat_complete_dir(const categories_t *c, const char *name);
bool cat_exists(const categories_t *c, const char *name);
/* cat_ensure: creates a category with the default path when it does not
 * exist (as qBittorrent does when a download names one). */
int cat_ensure(categories_t *c, const char *name, mt_error_t **err);
/* cat_tick: writes the table after changes and after a database outage. */
void cat_tick(categories_t *c);

int cat_cmd_list(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cat_cmd_add(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cat_cmd_edit(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cat_cmd_remove(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
