/* cmd_category.c: the control commands on categories (categories,
 * category-add, category-edit, category-remove, category-set): arguments
 * checked, the change made through category.h, the answer built. */
#include "config.h"

#include "daemon/ctl/cmd_category.h"
#include "daemon/core/daemon.h"
#include "daemon/transfer/category.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/finished.h"
#include "daemon/transfer/partfile.h"
#include "ctl/args.h"
#include "util/xalloc.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>


/* opt_int: an optional integer argument lo..hi into *out (an int). */
static int
opt_int(json_object *args, const char *key, int lo, int hi, bool *has, int *out, mt_error_t **err)
{
    int64_t v = 0;
    if (ctl_arg_int(args, key, lo, hi, has, &v, err) != 0)
        return -1;
    if (*has)
        *out = (int)v;
    return 0;
}

int
cat_cmd_list(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    *result = json_object_new_object();
    json_object_object_add(*result, "categories", cat_list_json(d->categories));
    return 0;
}

int
cat_cmd_add(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    const char *name, *path, *comment;
    bool hp, hc;
    int prio = 0, colour = 0;
    if (ctl_arg_str(args, "name", false, &name, CAT_MAX_NAME + 1, err) != 0 ||
        ctl_arg_str(args, "incoming_path", false, &path, PATH_MAX, err) != 0 ||
        ctl_arg_str(args, "comment", false, &comment, 4096, err) != 0 ||
        opt_int(args, "priority", -100, 100, &hp, &prio, err) != 0 ||
        opt_int(args, "colour", 0, 0xFFFFFF, &hc, &colour, err) != 0)
        return -1;
    if (cat_add(d->categories, name, path, prio, colour, comment, err) != 0)
        return -1;
    *result = cat_to_json(d->categories, name);
    return 0;
}

int
cat_cmd_edit(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    const char *name;
    cat_change_t ch = { 0 };
    if (ctl_arg_str(args, "name", false, &name, CAT_MAX_NAME + 1, err) != 0 ||
        ctl_arg_str(args, "new_name", false, &ch.new_name, CAT_MAX_NAME + 1, err) != 0 ||
        ctl_arg_str(args, "incoming_path", false, &ch.path, PATH_MAX, err) != 0 ||
        ctl_arg_str(args, "comment", false, &ch.comment, 4096, err) != 0 ||
        opt_int(args, "priority", -100, 100, &ch.has_priority, &ch.priority, err) != 0 ||
        opt_int(args, "colour", 0, 0xFFFFFF, &ch.has_colour, &ch.colour, err) != 0)
        return -1;
    if (cat_edit(d->categories, name, &ch, err) != 0)
        return -1;
    *result = cat_to_json(d->categories, ch.new_name != NULL ? ch.new_name : name);
    return 0;
}

/* carrying: how many downloads, active or finished, carry category name. */
static size_t
carrying(const muleteerd_t *d, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < dlq_count(d->downloads); i++) {
        const char *c = pf_category(dl_partfile(dlq_get(d->downloads, i)));
        n += c != NULL && strcmp(c, name) == 0;
    }
    for (size_t i = 0; i < fin_count(d->finished); i++) {
        const char *c = fin_category(fin_get(d->finished, i));
        n += c != NULL && strcmp(c, name) == 0;
    }
    return n;
}

int
cat_cmd_remove(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    const char *name;
    if (ctl_arg_str(args, "name", false, &name, CAT_MAX_NAME + 1, err) != 0)
        return -1;
    size_t cleared = name != NULL && cat_exists(d->categories, name) ? carrying(d, name) : 0;
    if (cat_remove(d->categories, name, err) != 0)
        return -1;
    *result = json_object_new_object();
    json_object_object_add(*result, "removed", json_object_new_boolean(true));
    json_object_object_add(*result, "downloads", json_object_new_int64((int64_t)cleared));
    return 0;
}

/* set_items: the categories argument as items pointing into args; NULL
 * with err (naming the element) when it is not an array of {name,
 * incoming_path} strings. Caller frees. */
static cat_item_t *
set_items(json_object *args, size_t *n, mt_error_t **err)
{
    json_object *a = ctl_arg_get(args, "categories");
    if (a == NULL || !json_object_is_type(a, json_type_array)) {
        mt_error_set(err, MT_ERR_INVALID, "\"categories\" must be an array of {name, incoming_path}");
        return NULL;
    }
    *n = json_object_array_length(a);
    if (*n > CAT_MAX) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "categories: at most %d categories", CAT_MAX);
        return NULL;
    }
    cat_item_t *v = xcalloc(*n > 0 ? *n : 1, sizeof *v);
    for (size_t i = 0; i < *n; i++) {
        json_object *e = json_object_array_get_idx(a, i);
        mt_error_t *e2 = NULL;
        if (!json_object_is_type(e, json_type_object) ||
            ctl_arg_str(e, "name", true, &v[i].name, CAT_MAX_NAME + 1, &e2) != 0 ||
            ctl_arg_str(e, "incoming_path", false, &v[i].path, PATH_MAX, &e2) != 0) {
            mt_error_set(err, MT_ERR_INVALID, "categories[%zu].name: %s", i,
                         e2 != NULL ? e2->message : "expected an object {name, incoming_path}");
            mt_error_free(e2);
            free(v);
            return NULL;
        }
    }
    return v;
}

int
cat_cmd_set(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    bool dry_run;
    size_t n, bad = 0;
    if (ctl_arg_bool(args, "dry_run", &dry_run, err) != 0)
        return -1;
    cat_item_t *v = set_items(args, &n, err);
    if (v == NULL)
        return -1;
    mt_error_t *e = NULL;
    int rc = dry_run ? cat_check_set(d->categories, v, n, &bad, &e)
                     : cat_apply_set(d->categories, v, n, &bad, &e);
    free(v);
    if (rc != 0) {
        /* the member the refusal is about: check_path's messages start
         * with incoming_path or name the directory */
        const char *m = e != NULL ? e->message : "refused";
        bool on_name = e != NULL && (e->code == MT_ERR_EXISTS || e->code == MT_ERR_TOO_LARGE ||
                                     strstr(m, "category name") != NULL);
        if (!on_name && strncmp(m, "incoming_path: ", 15) == 0)
            m += 15;
        mt_error_set(err, e != NULL ? e->code : MT_ERR_IO, "categories[%zu].%s: %s", bad,
                     on_name ? "name" : "incoming_path", m);
        mt_error_free(e);
        return -1;
    }
    *result = json_object_new_object();
    json_object_object_add(*result, "categories", cat_list_json(d->categories));
    json_object_object_add(*result, "applied", json_object_new_boolean(!dry_run));
    return 0;
}
