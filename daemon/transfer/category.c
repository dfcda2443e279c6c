/* category.c: download categories: validation, incoming directories
 * (confined to incoming_dir and download_roots, created, and refused when
 * not writable), $state_dir/categories.json (rewritten atomically on each
 * change: changes are rare and small) and the categories table (replaced
 * as a whole after a change or an outage). Each change is published on the
 * bus: the downloads and finished downloads that carry a category follow
 * its renaming or removal. */
#include "config.h"

#include "daemon/transfer/category.h"
#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/store/category_table.h"
#include "daemon/store/db_worker.h"
#include "util/file.h"
#include "util/log.h"
#include "util/path.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


typedef struct cat {
    char *name, *path, *comment;
    int priority;
    int colour;          /* 0xRRGGBB */
    time_t created;
} cat_t;

struct categories {
    muleteerd_t *d;
    cat_t *v;
    size_t n;
    char *file;
    bool dirty_db;
    bool was_connected;
};

static void
cat_clear(cat_t *c)
{
    free(c->name);
    free(c->path);
    free(c->comment);
}

static cat_t *
find(const categories_t *c, const char *name)
{
    for (size_t i = 0; name != NULL && i < c->n; i++)
        if (strcmp(c->v[i].name, name) == 0)
            return &c->v[i];
    return NULL;
}

bool
cat_exists(const categories_t *c, const char *name)
{
    return find(c, name) != NULL;
}

const char *
cat_incoming(const categories_t *c, const char *name)
{
    const cat_t *k = find(c, name);
    return k != NULL ? k->path : conf_get_str(c->d->conf, "incoming_dir");
}

/* ------------------------------------------------------------ checking */

static int
check_name(const char *name, mt_error_t **err)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (len == 0 || len > CAT_MAX_NAME || !mt_utf8_is_valid(name, len)) {
        mt_error_set(err, MT_ERR_INVALID, "a category name is 1-%d bytes of UTF-8", CAT_MAX_NAME);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7F || name[i] == '\\') {
            mt_error_set(err, MT_ERR_INVALID, "a category name has no control characters or '\\\\'");
            return -1;
        }
    /* '/' makes subcategories, as in qBittorrent, but no empty, "." or ".."
     * parts: the name also names a directory */
    const char *p = name;
    while (*p != '\0') {
        const char *e = strchr(p, '/');
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
            mt_error_set(err, MT_ERR_INVALID,
                         "\"%s\": a category name cannot have empty, \".\" or \"..\" parts", name);
            return -1;
        }
        p += n + (e != NULL ? 1 : 0);
        if (e != NULL && *p == '\0') {
            mt_error_set(err, MT_ERR_INVALID, "\"%s\": a category name cannot end with '/'", name);
            return -1;
        }
    }
    return 0;
}

/* mkdirs: mkdir -p, mode 0750. */
static int
mkdirs(const char *path)
{
    char *copy = xstrdup(path);
    for (char *p = copy + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0750) != 0 && errno != EEXIST) {
            free(copy);
            return -1;
        }
        *p = '/';
    }
    int rc = mkdir(copy, 0750) != 0 && errno != EEXIST ? -1 : 0;
    free(copy);
    return rc;
}

/* confine: path (relative: under incoming_dir) as an absolute, normalized
 * path inside incoming_dir or one of download_roots, its symbolic links
 * resolved for the check (util/path.h); a new string, or NULL with err
 * naming the argument. Creates nothing. */
static char *
confine(const categories_t *c, const char *path, mt_error_t **err)
{
    const char *incoming = conf_get_str(c->d->conf, "incoming_dir");
    char *list = xstrdup(conf_get_str(c->d->conf, "download_roots"));
    const char **roots = xcalloc(strlen(list) / 2 + 2, sizeof *roots);
    size_t n = 0;
    roots[n++] = incoming;
    char *save = NULL;
    for (char *r = strtok_r(list, ":", &save); r != NULL; r = strtok_r(NULL, ":", &save))
        roots[n++] = r;
    mt_error_t *e = NULL;
    char *out = mt_path_confine(path, incoming, roots, n, &e);
    if (out == NULL) {
        mt_error_set(err, e->code == MT_ERR_IO ? MT_ERR_IO : MT_ERR_INVALID, "incoming_path: %s",
                     e->message);
        mt_error_free(e);
    }
    free(roots);
    free(list);
    return out;
}

/* check_path: path as a directory inside the roots (see confine) that the
 * daemon creates if need be and can write to. The absolute, normalized
 * path (a new string), or NULL with err. */
static char *
check_path(const categories_t *c, const char *path, mt_error_t **err)
{
    if (path == NULL || *path == '\0' || strlen(path) >= PATH_MAX) {
        mt_error_set(err, MT_ERR_INVALID, "incoming_path: a directory path of 1-%d bytes",
                     PATH_MAX - 1);
        return NULL;
    }
    for (const char *p = path; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20) {
            mt_error_set(err, MT_ERR_INVALID, "incoming_path: no control characters");
            return NULL;
        }
    char *dir = confine(c, path, err);
    if (dir == NULL)
        return NULL;
    struct stat st;
    if (mkdirs(dir) != 0 || stat(dir, &st) != 0) {
        mt_error_set(err, MT_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (!S_ISDIR(st.st_mode)) {
        mt_error_set(err, MT_ERR_INVALID, "%s is not a directory", dir);
        goto fail;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        mt_error_set(err, MT_ERR_IO, "cannot write to %s: %s", dir, strerror(errno));
        goto fail;
    }
    return dir;
fail:
    free(dir);
    return NULL;
}

char *
cat_check_dir(const categories_t *c, const char *path, mt_error_t **err)
{
    return check_path(c, path, err);
}

const char *
cat_complete_dir(const categories_t *c, const char *name)
{
    const cat_t *k = find(c, name);
    const char *incoming = conf_get_str(c->d->conf, "incoming_dir");
    if (k == NULL)
        return incoming;
    mt_error_t *err = NULL;
    char *dir = confine(c, k->path, &err);
    if (dir == NULL) {
        log_warn("categories: \"%s\": %s; its completed downloads go to %s", k->name,
                 err->message, incoming);
        mt_error_free(err);
        return incoming;
    }
    free(dir);
    return k->path;
}

/* ----------------------------------------------------------- the file */

static json_object *
cat_json(const cat_t *k)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(k->name));
    json_object_object_add(o, "incoming_path", json_object_new_string(k->path));
    json_object_object_add(o, "priority", json_object_new_int(k->priority));
    json_object_object_add(o, "colour", json_object_new_int(k->colour));
    json_object_object_add(o, "comment", json_object_new_string(k->comment != NULL ? k->comment : ""));
    json_object_object_add(o, "created", json_object_new_int64((int64_t)k->created));
    return o;
}

static json_object *
all_json(const categories_t *c)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < c->n; i++)
        json_object_array_add(arr, cat_json(&c->v[i]));
    return arr;
}

static int
save(categories_t *c, mt_error_t **err)
{
    json_object *arr = all_json(c);
    const char *text = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY);
    int rc = mt_file_write_atomic(c->file, text, strlen(text), 0600, err);
    json_object_put(arr);
    c->dirty_db = true;
    return rc;
}

/* loaded_path: the incoming path of a category read from the file; one
 * outside the roots (saved by an older version, or download_roots changed
 * since) is not used: its downloads go to incoming_dir. A new string. */
static char *
loaded_path(const categories_t *c, const char *name, const char *path)
{
    mt_error_t *err = NULL;
    char *dir = confine(c, path, &err);
    if (dir != NULL) {
        free(dir);
        return xstrdup(path);
    }
    const char *incoming = conf_get_str(c->d->conf, "incoming_dir");
    log_warn("categories: \"%s\": %s; using %s instead", name, err->message, incoming);
    mt_error_free(err);
    return xstrdup(incoming);
}

static char *
default_path(const categories_t *c, const char *name)
{
    return xasprintf("%s/%s", conf_get_str(c->d->conf, "incoming_dir"), name);
}

/* path_text_ok: what check_path asks of a path's text: strict UTF-8
 * without C0 control characters. */
static bool
path_text_ok(const char *s)
{
    if (s == NULL || !mt_utf8_is_valid(s, strlen(s)))
        return false;
    for (const char *p = s; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20)
            return false;
    return true;
}

/* load_entry: one category of the file, checked as a command would check
 * it. A file written by an older version may hold what is refused today
 * (invalid UTF-8 in a path or a comment, an out-of-range number), which
 * would make every write of the categories table fail: such a field is
 * replaced by its default (the file keeps the old value until the next
 * change rewrites it, so the warning comes at every start until then). */
static void
load_entry(categories_t *c, json_object *o)
{
    json_object *v;
    const char *name = json_object_object_get_ex(o, "name", &v) ? json_object_get_string(v) : NULL;
    const char *path =
        json_object_object_get_ex(o, "incoming_path", &v) ? json_object_get_string(v) : NULL;
    if (check_name(name, NULL) != 0 || path == NULL || path[0] != '/' || find(c, name) != NULL) {
        log_warn("categories: skipping a bad entry in %s", c->file);
        return;
    }
    c->v = xreallocarray(c->v, c->n + 1, sizeof *c->v);
    cat_t *k = &c->v[c->n++];
    memset(k, 0, sizeof *k);
    k->name = xstrdup(name);
    if (path_text_ok(path) && strlen(path) < PATH_MAX) {
        k->path = loaded_path(c, name, path);
    } else {
        k->path = default_path(c, name);
        log_warn("categories: \"%s\": its incoming path in %s is not valid UTF-8 text; using %s", name,
                 c->file, k->path);
    }
    const char *comment =
        json_object_object_get_ex(o, "comment", &v) ? json_object_get_string(v) : "";
    if (comment != NULL && mt_utf8_is_valid(comment, strlen(comment)) && strlen(comment) <= 4096) {
        k->comment = xstrdup(comment);
    } else {
        k->comment = xstrdup("");
        log_warn("categories: \"%s\": its comment in %s is not valid UTF-8; dropped", name,
                 c->file);
    }
    int64_t prio = json_object_object_get_ex(o, "priority", &v) ? json_object_get_int64(v) : 0;
    k->priority = prio >= -100 && prio <= 100 ? (int)prio : 0;
    k->colour = json_object_object_get_ex(o, "colour", &v) ? json_object_get_int(v) & 0xFFFFFF : 0;
    int64_t created = json_object_object_get_ex(o, "created", &v) ? json_object_get_int64(v) : -1;
    /* PostgreSQL's to_timestamp refuses what is far out of range */
    k->created = created >= 0 && created <= INT64_C(253402300799) ? (time_t)created : time(NULL);
}

static void
load(categories_t *c)
{
    json_object *arr = json_object_from_file(c->file);
    if (arr == NULL) {
        if (access(c->file, F_OK) == 0) {
            char *bad = xasprintf("%s.bad", c->file);
            log_warn("categories: %s is unreadable; kept aside as %s", c->file, bad);
            rename(c->file, bad);
            free(bad);
        }
        return;
    }
    for (size_t i = 0; json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr) &&
                       c->n < CAT_MAX;
         i++)
        load_entry(c, json_object_array_get_idx(arr, i));
    json_object_put(arr);
}

/* ------------------------------------------------------------ database */

void
cat_tick(categories_t *c)
{
    dbw_status_t st;
    dbw_get_status(c->d->db, &st);
    if (st.connected && !c->was_connected)
        c->dirty_db = true;
    c->was_connected = st.connected;
    if (!c->dirty_db || !st.connected)
        return;
    json_object *arr = all_json(c);
    store_categories_write(c->d->db, conf_get_str(c->d->conf, "node_name"),
                           json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    json_object_put(arr);
    c->dirty_db = false;
}

/* ---------------------------------------------------------------- life */

categories_t *
cat_new(muleteerd_t *d)
{
    categories_t *c = xcalloc(1, sizeof *c);
    c->d = d;
    c->file = xasprintf("%s/categories.json", conf_get_str(d->conf, "state_dir"));
    load(c);
    c->dirty_db = true;
    return c;
}

void
cat_free(categories_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        cat_clear(&c->v[i]);
    free(c->v);
    free(c->file);
    free(c);
}

int
cat_add(categories_t *c, const char *name, const char *path, int priority, int colour,
        const char *comment, mt_error_t **err)
{
    if (check_name(name, err) != 0)
        return -1;
    if (find(c, name) != NULL) {
        mt_error_set(err, MT_ERR_EXISTS, "category \"%s\" exists already", name);
        return -1;
    }
    if (c->n >= CAT_MAX) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "at most %d categories", CAT_MAX);
        return -1;
    }
    char *def = path != NULL && *path != '\0' ? NULL : default_path(c, name);
    char *p = check_path(c, def != NULL ? def : path, err);
    free(def);
    if (p == NULL)
        return -1;
    c->v = xreallocarray(c->v, c->n + 1, sizeof *c->v);
    cat_t *k = &c->v[c->n++];
    memset(k, 0, sizeof *k);
    k->name = xstrdup(name);
    k->path = p;
    k->priority = priority;
    k->colour = colour;
    k->comment = xstrdup(comment != NULL ? comment : "");
    k->created = time(NULL);
    log_info("categories: added \"%s\" (%s)", name, p);
    int rc = save(c, err);
    bus_publish_cat_added(c->d->bus,
                          &(bus_category_t){ .name = k->name, .old_name = k->name, .path = k->path });
    return rc;
}

int
cat_ensure(categories_t *c, const char *name, mt_error_t **err)
{
    if (name == NULL || *name == '\0' || find(c, name) != NULL)
        return 0;
    return cat_add(c, name, NULL, 0, 0, NULL, err);
}

/* ------------------------------------------------------------ changes */

int
cat_edit(categories_t *c, const char *name, const cat_change_t *ch, mt_error_t **err)
{
    cat_t *k = find(c, name);
    if (k == NULL) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "no category \"%s\"", name != NULL ? name : "");
        return -1;
    }
    const char *new_name = ch->new_name;
    bool renaming = new_name != NULL && strcmp(new_name, k->name) != 0;
    if (renaming && check_name(new_name, err) != 0)
        return -1;
    if (renaming && find(c, new_name) != NULL) {
        mt_error_set(err, MT_ERR_EXISTS, "category \"%s\" exists already", new_name);
        return -1;
    }
    char *dir = NULL;
    if (ch->path != NULL && *ch->path != '\0' && (dir = check_path(c, ch->path, err)) == NULL)
        return -1;
    char *old_name = xstrdup(k->name);
    if (renaming) {
        log_info("categories: \"%s\" renamed \"%s\"", k->name, new_name);
        free(k->name);
        k->name = xstrdup(new_name);
    }
    if (dir != NULL) {
        free(k->path);
        k->path = dir;
    }
    if (ch->comment != NULL) {
        free(k->comment);
        k->comment = xstrdup(ch->comment);
    }
    if (ch->has_priority)
        k->priority = ch->priority;
    if (ch->has_colour)
        k->colour = ch->colour;
    /* the downloads that carry the old name carry the new one */
    bus_publish_cat_changed(c->d->bus,
                            &(bus_category_t){ .name = k->name, .old_name = old_name, .path = k->path });
    free(old_name);
    return save(c, err);
}

/* ------------------------------------------------------------- sets */

/* set_has: an earlier item of v[0..i) names name. */
static bool
set_has(const cat_item_t *v, size_t i, const char *name)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(v[j].name, name) == 0)
            return true;
    return false;
}

int
cat_check_set(const categories_t *c, const cat_item_t *v, size_t n, size_t *bad,
              mt_error_t **err)
{
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        *bad = i;
        if (check_name(v[i].name, err) != 0)
            return -1;
        bool exists = find(c, v[i].name) != NULL || set_has(v, i, v[i].name);
        if (!exists && c->n + ++added > CAT_MAX) {
            mt_error_set(err, MT_ERR_TOO_LARGE, "at most %d categories", CAT_MAX);
            return -1;
        }
        if (exists && v[i].path == NULL)
            continue;
        char *def = v[i].path == NULL || *v[i].path == '\0' ? default_path(c, v[i].name) : NULL;
        char *dir = check_path(c, def != NULL ? def : v[i].path, err);
        free(def);
        if (dir == NULL)
            return -1;
        free(dir);
    }
    return 0;
}

int
cat_apply_set(categories_t *c, const cat_item_t *v, size_t n, size_t *bad, mt_error_t **err)
{
    if (cat_check_set(c, v, n, bad, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        *bad = i;
        int rc = 0;
        if (find(c, v[i].name) == NULL)
            rc = cat_add(c, v[i].name, v[i].path, 0, 0, NULL, err);
        else if (v[i].path != NULL)
            rc = cat_edit(c, v[i].name, &(cat_change_t){ .path = v[i].path }, err);
        if (rc != 0) /* checked: only a failed save, or the disk changed meanwhile */
            return -1;
    }
    return 0;
}

int
cat_remove(categories_t *c, const char *name, mt_error_t **err)
{
    cat_t *k = find(c, name);
    if (k == NULL) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "no category \"%s\"", name != NULL ? name : "");
        return -1;
    }
    /* the downloads that carry it carry none from now on */
    bus_publish_cat_removed(c->d->bus, &(bus_category_t){ .name = k->name, .old_name = k->name });
    log_info("categories: removed \"%s\"", k->name);
    cat_clear(k);
    size_t idx = (size_t)(k - c->v);
    memmove(&c->v[idx], &c->v[idx + 1], (c->n - idx - 1) * sizeof *c->v);
    c->n--;
    return save(c, err);
}

json_object *
cat_to_json(const categories_t *c, const char *name)
{
    const cat_t *k = find(c, name);
    return k != NULL ? cat_json(k) : NULL;
}

json_object *
cat_list_json(const categories_t *c)
{
    return all_json(c);
}
