/* taglist.c: the node's tag list (taglist.h): names validated as a
 * download's tags, $state_dir/tags.json rewritten atomically on each
 * change (rare and small), and the tags table replaced as a whole after
 * a change or an outage, as category.c does for the categories. */
#include "config.h"

#include "daemon/transfer/taglist.h"
#include "daemon/core/daemon.h"
#include "daemon/store/db_worker.h"
#include "daemon/store/tag_table.h"
#include "daemon/transfer/dlattr.h"
#include "util/file.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct taglist {
    muleteerd_t *d;
    char **v; /* sorted (byte order), unique */
    size_t n;
    char *file;
    bool dirty_file; /* a change whose save failed */
    bool dirty_db;
    bool was_connected;
};

/* find: the index of tag, or where it would go (*found false). */
static size_t
find(const taglist_t *t, const char *tag, bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->v[mid], tag);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

bool
tagl_has(const taglist_t *t, const char *tag)
{
    bool found;
    find(t, tag, &found);
    return found;
}

size_t
tagl_count(const taglist_t *t)
{
    return t->n;
}

json_object *
tagl_to_json(const taglist_t *t)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < t->n; i++)
        json_object_array_add(arr, json_object_new_string(t->v[i]));
    return arr;
}

/* insert: adds a valid, normalized tag (taken) unless there; false when
 * it was there (tag freed) or the list is full. */
static bool
insert(taglist_t *t, char *tag)
{
    bool found;
    size_t at = find(t, tag, &found);
    if (found || t->n >= TAGL_MAX) {
        free(tag);
        return false;
    }
    t->v = xreallocarray(t->v, t->n + 1, sizeof *t->v);
    memmove(&t->v[at + 1], &t->v[at], (t->n - at) * sizeof *t->v);
    t->v[at] = tag;
    t->n++;
    return true;
}

static int
save(taglist_t *t, mt_error_t **err)
{
    json_object *arr = tagl_to_json(t);
    const char *text = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY);
    int rc = mt_file_write_atomic(t->file, text, strlen(text), 0600, err);
    json_object_put(arr);
    t->dirty_file = rc != 0;
    t->dirty_db = true;
    return rc;
}

int
tagl_add(taglist_t *t, const char *tag, mt_error_t **err)
{
    char *norm = dla_tag_normalize(tag, strlen(tag), err);
    if (norm == NULL)
        return -1;
    if (tagl_has(t, norm)) {
        free(norm);
        return t->dirty_file ? save(t, err) : 0;
    }
    if (t->n >= TAGL_MAX) {
        free(norm);
        mt_error_set(err, MT_ERR_INVALID, "the tag list is full (%d tags)", TAGL_MAX);
        return -1;
    }
    insert(t, norm);
    return save(t, err);
}

int
tagl_remove(taglist_t *t, const char *tag, bool *removed, mt_error_t **err)
{
    *removed = false;
    char *norm = dla_tag_normalize(tag, strlen(tag), err);
    if (norm == NULL)
        return -1;
    bool found;
    size_t at = find(t, norm, &found);
    free(norm);
    if (!found)
        return t->dirty_file ? save(t, err) : 0;
    free(t->v[at]);
    memmove(&t->v[at], &t->v[at + 1], (t->n - at - 1) * sizeof *t->v);
    t->n--;
    *removed = true;
    return save(t, err);
}

static void
load(taglist_t *t)
{
    json_object *arr = json_object_from_file(t->file);
    if (arr == NULL) {
        if (access(t->file, F_OK) == 0) {
            char *bad = xasprintf("%s.bad", t->file);
            log_warn("tags: %s is unreadable; kept aside as %s", t->file, bad);
            rename(t->file, bad);
            free(bad);
        }
        return;
    }
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
        char *norm = s != NULL ? dla_tag_normalize(s, strlen(s), NULL) : NULL;
        if (norm == NULL) {
            log_warn("tags: skipping a bad entry in %s", t->file);
            continue;
        }
        insert(t, norm);
    }
    json_object_put(arr);
}

void
tagl_tick(taglist_t *t)
{
    dbw_status_t st;
    dbw_get_status(t->d->db, &st);
    if (st.connected && !t->was_connected)
        t->dirty_db = true;
    t->was_connected = st.connected;
    if (!t->dirty_db || !st.connected)
        return;
    json_object *arr = tagl_to_json(t);
    store_tags_write(t->d->db, conf_get_str(t->d->conf, "node_name"),
                     json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    json_object_put(arr);
    t->dirty_db = false;
}

taglist_t *
tagl_new(muleteerd_t *d)
{
    taglist_t *t = xcalloc(1, sizeof *t);
    t->d = d;
    t->file = xasprintf("%s/tags.json", conf_get_str(d->conf, "state_dir"));
    load(t);
    t->dirty_db = true;
    return t;
}

void
tagl_free(taglist_t *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    free(t->file);
    free(t);
}
