/* delta.c: the batch-update delta (delta.h). Items are matched by their
 * key (instanceId ":" hash); a patch compares member by member with
 * json_object_equal, and `peers` is sent whole when it changed (the UI
 * also takes the added/removed/changed form; the whole array is the
 * simpler of the two it accepts). */
#include "config.h"

#include "ws/delta.h"
#include "util/xalloc.h"

#include <string.h>

static char *
key_of(json_object *item)
{
    json_object *h = NULL, *i = NULL;
    json_object_object_get_ex(item, "hash", &h);
    json_object_object_get_ex(item, "instanceId", &i);
    return xasprintf("%s:%s", i != NULL ? json_object_get_string(i) : "",
                     h != NULL ? json_object_get_string(h) : "");
}

/* index: key -> item, borrowed references */
static json_object *
index_of(json_object *items)
{
    json_object *idx = json_object_new_object();
    size_t n = items != NULL ? json_object_array_length(items) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        char *k = key_of(it);
        json_object_object_add(idx, k, json_object_get(it));
        free(k);
    }
    return idx;
}

static json_object *
patch_of(json_object *old, json_object *now)
{
    json_object *patch = NULL;
    json_object_object_foreach(now, k, v)
    {
        json_object *ov = NULL;
        bool had = json_object_object_get_ex(old, k, &ov);
        if (had && json_object_equal(ov, v))
            continue;
        if (patch == NULL)
            patch = json_object_new_object();
        json_object_object_add(patch, k, json_object_get(v));
    }
    if (patch != NULL) {
        json_object *h = NULL, *i = NULL;
        json_object_object_get_ex(now, "hash", &h);
        json_object_object_get_ex(now, "instanceId", &i);
        json_object_object_add(patch, "hash", json_object_get(h));
        json_object_object_add(patch, "instanceId", json_object_get(i));
    }
    return patch;
}

void
ws_delta_compute(json_object *prev, json_object *next, ws_delta_t *d)
{
    d->added = json_object_new_array();
    d->removed = json_object_new_array();
    d->changed = json_object_new_array();
    json_object *before = index_of(prev), *after = index_of(next);
    size_t n = next != NULL ? json_object_array_length(next) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(next, i), *old = NULL;
        char *k = key_of(it);
        if (!json_object_object_get_ex(before, k, &old)) {
            json_object_array_add(d->added, json_object_get(it));
        } else {
            json_object *p = patch_of(old, it);
            if (p != NULL)
                json_object_array_add(d->changed, p);
        }
        free(k);
    }
    json_object_object_foreach(before, k, v)
    {
        (void)v;
        if (!json_object_object_get_ex(after, k, NULL))
            json_object_array_add(d->removed, json_object_new_string(k));
    }
    size_t moved = json_object_array_length(d->added) + json_object_array_length(d->changed);
    d->snapshot = n > 0 && moved * 2 > n;
    json_object_put(before);
    json_object_put(after);
}

void
ws_delta_clear(ws_delta_t *d)
{
    json_object_put(d->added);
    json_object_put(d->removed);
    json_object_put(d->changed);
    memset(d, 0, sizeof *d);
}

bool
ws_delta_is_empty(const ws_delta_t *d)
{
    return json_object_array_length(d->added) == 0 && json_object_array_length(d->removed) == 0 &&
           json_object_array_length(d->changed) == 0;
}
