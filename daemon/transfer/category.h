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
/* cat_check_dir: path (relative: under incoming_dir) as a directory
 * inside incoming_dir or download_roots, with its symbolic links resolved
 * for the check, created when missing and writable: what a category's
 * incoming path must be, also for a download's own location. The
 * absolute, normalized path (a new string), or NULL with MT_ERR_INVALID
 * (outside the roots, not a directory) or MT_ERR_IO. */
char *cat_check_dir(const categories_t *c, const char *path, mt_error_t **err);
bool cat_exists(const categories_t *c, const char *name);
/* cat_ensure: creates a category with the default path when it does not
 * exist (as qBittorrent does when a download names one). */
int cat_ensure(categories_t *c, const char *name, mt_error_t **err);
/* cat_tick: writes the table after changes and after a database outage. */
void cat_tick(categories_t *c);

/* Changes, each saved (categories.json) and published on the bus. cat_add:
 * a new category (path NULL or "": incoming_dir/NAME; a relative one is
 * under incoming_dir; confined to incoming_dir and download_roots, and
 * created): MT_ERR_INVALID for a bad name or path, MT_ERR_EXISTS,
 * MT_ERR_TOO_LARGE past CAT_MAX; cat_added. cat_edit: the members of ch
 * that are set (NULL / has_* false: unchanged): MT_ERR_NOT_FOUND, and the
 * errors of cat_add; cat_changed. cat_remove: MT_ERR_NOT_FOUND;
 * cat_removed. MT_ERR_IO when the change was made but not saved. */
#define CAT_MAX 1000
#define CAT_MAX_NAME 255
int cat_add(categories_t *c, const char *name, const char *path, int priority, int colour,
            const char *comment, mt_error_t **err);
typedef struct cat_change {
    const char *new_name, *path, *comment;
    bool has_priority, has_colour;
    int priority, colour;
} cat_change_t;
int cat_edit(categories_t *c, const char *name, const cat_change_t *ch, mt_error_t **err);
int cat_remove(categories_t *c, const char *name, mt_error_t **err);
/* One member of a set of categories to add or change together: a name
 * that is not a category yet is added (path NULL: the default path), one
 * that is gets path (NULL: unchanged). */
typedef struct cat_item {
    const char *name, *path;
} cat_item_t;
/* cat_check_set: whether every item of v[0..n) would be accepted, all of
 * them together (the names, CAT_MAX counting the new ones, each path as
 * cat_add checks it, which creates the directory when missing); the list
 * is not changed. 0, or -1 with err and *bad the index of the first item
 * refused. cat_apply_set: the same check, then every item applied
 * (cat_add, cat_edit), or none when the check fails. */
int cat_check_set(const categories_t *c, const cat_item_t *v, size_t n, size_t *bad,
                  mt_error_t **err);
int cat_apply_set(categories_t *c, const cat_item_t *v, size_t n, size_t *bad,
                  mt_error_t **err);
/* cat_to_json: {name, incoming_path, priority, colour, comment, created},
 * NULL when there is no such category; cat_list_json: all of them, an
 * array. The caller puts them. */
json_object *cat_to_json(const categories_t *c, const char *name);
json_object *cat_list_json(const categories_t *c);

#endif
