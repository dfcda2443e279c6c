/* owner.c: whose downloads a WebSocket client sees and changes (owner.h). */
#include "config.h"

#include "ws/owner.h"

#include <stdio.h>
#include <string.h>

bool
ws_view_is_full(const ws_view_t *v)
{
    return v->view_owner == NULL && v->all_owned && !v->hide_shared && !v->hide_uploads;
}

const char *
ws_owner_of(json_object *owners, const char *hash)
{
    json_object *o = NULL;
    if (owners == NULL || hash == NULL || !json_object_object_get_ex(owners, hash, &o))
        return NULL;
    return json_object_get_string(o);
}

static bool
owned_by(json_object *owners, const char *hash, const char *user)
{
    const char *by = ws_owner_of(owners, hash);
    return by != NULL && user != NULL && strcmp(by, user) == 0;
}

bool
ws_view_sees(const ws_view_t *v, json_object *owners, const char *hash)
{
    return v->view_owner == NULL || owned_by(owners, hash, v->view_owner);
}

bool
ws_view_edits(const ws_view_t *v, json_object *owners, const char *hash)
{
    return v->edit_owner == NULL || owned_by(owners, hash, v->edit_owner);
}

static const char *
hash_of(json_object *item)
{
    json_object *h = NULL;
    return json_object_object_get_ex(item, "hash", &h) ? json_object_get_string(h) : NULL;
}

/* a shared file: an item (or patch) whose downloading is false */
static bool
is_shared_only(json_object *item)
{
    json_object *d = NULL;
    return json_object_object_get_ex(item, "downloading", &d) && json_object_is_type(d, json_type_boolean) &&
           !json_object_get_boolean(d);
}

json_object *
ws_shared_only(json_object *prev, json_object *next)
{
    json_object *map = json_object_new_object();
    json_object *lists[] = { prev, next };
    for (size_t l = 0; l < 2; l++) {
        size_t n = lists[l] != NULL ? json_object_array_length(lists[l]) : 0;
        for (size_t i = 0; i < n; i++) {
            json_object *it = json_object_array_get_idx(lists[l], i);
            if (is_shared_only(it) && hash_of(it) != NULL)
                json_object_object_add(map, hash_of(it), json_object_new_boolean(true));
        }
    }
    return map;
}

static bool
in_shared_only(const ws_view_t *v, const char *hash)
{
    return v->shared_only != NULL && hash != NULL && json_object_object_get_ex(v->shared_only, hash, NULL);
}

/* the peers of an item or patch without the upload ones; a new array */
static json_object *
peers_without_uploads(json_object *peers)
{
    json_object *out = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(peers); i++) {
        json_object *p = json_object_array_get_idx(peers, i), *role = NULL;
        if (json_object_object_get_ex(p, "role", &role) && json_object_is_type(role, json_type_string) &&
            strcmp(json_object_get_string(role), "upload") == 0)
            continue;
        json_object_array_add(out, json_object_get(p));
    }
    return out;
}

/* a new object holding the same members, ownedByMe set (when owned is
 * 0 or 1; -1 leaves it as it is), upload peers gone when v hides them */
static json_object *
with_owned(json_object *item, int owned, const ws_view_t *v)
{
    json_object *o = json_object_new_object();
    json_object_object_foreach(item, k, val)
    {
        if (v->hide_uploads && strcmp(k, "peers") == 0 && json_object_is_type(val, json_type_array))
            json_object_object_add(o, k, peers_without_uploads(val));
        else
            json_object_object_add(o, k, json_object_get(val));
    }
    if (owned >= 0)
        json_object_object_add(o, "ownedByMe", json_object_new_boolean(owned != 0));
    return o;
}

json_object *
ws_view_items(json_object *items, json_object *owners, const ws_view_t *v)
{
    json_object *out = json_object_new_array();
    size_t n = items != NULL ? json_object_array_length(items) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        const char *h = hash_of(it);
        if (!ws_view_sees(v, owners, h) || (v->hide_shared && is_shared_only(it)))
            continue;
        json_object_array_add(out, with_owned(it, v->all_owned || owned_by(owners, h, v->user), v));
    }
    return out;
}

/* a delta's changed patches as v gets them; a download v saw finish
 * (a shared file v may not see) goes into removed as its key */
static json_object *
patches_seen(json_object *arr, json_object *owners, const ws_view_t *v, json_object *removed)
{
    json_object *out = json_object_new_array();
    size_t n = arr != NULL ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *x = json_object_array_get_idx(arr, i), *inst = NULL;
        const char *h = hash_of(x);
        if (!ws_view_sees(v, owners, h))
            continue;
        if (v->hide_shared && (is_shared_only(x) || in_shared_only(v, h))) {
            if (is_shared_only(x) && h != NULL) {
                json_object_object_get_ex(x, "instanceId", &inst);
                char key[256];
                snprintf(key, sizeof key, "%s:%s", inst != NULL ? json_object_get_string(inst) : "", h);
                json_object_array_add(removed, json_object_new_string(key));
            }
            continue;
        }
        json_object_array_add(out, v->hide_uploads ? with_owned(x, -1, v) : json_object_get(x));
    }
    return out;
}

/* the removed keys ("<instanceId>:<hash>") of what v sees */
static json_object *
keys_seen(json_object *arr, json_object *owners, const ws_view_t *v)
{
    json_object *out = json_object_new_array();
    size_t n = arr != NULL ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *x = json_object_array_get_idx(arr, i);
        const char *k = json_object_get_string(x), *colon = strrchr(k, ':');
        const char *h = colon != NULL ? colon + 1 : k;
        if (ws_view_sees(v, owners, h) && !(v->hide_shared && in_shared_only(v, h)))
            json_object_array_add(out, json_object_get(x));
    }
    return out;
}

/* a shallow copy of o without the member skip */
static json_object *
copy_but(json_object *o, const char *skip)
{
    json_object *c = json_object_new_object();
    json_object_object_foreach(o, k, val)
        if (strcmp(k, skip) != 0)
            json_object_object_add(c, k, json_object_get(val));
    return c;
}

json_object *
ws_view_message(json_object *msg, json_object *owners, const ws_view_t *v)
{
    json_object *data = NULL, *items = NULL, *delta = NULL, *x = NULL;
    if (!json_object_object_get_ex(msg, "data", &data) || !json_object_is_type(data, json_type_object))
        return json_object_get(msg);
    json_object *out = copy_but(msg, "data");
    if (json_object_object_get_ex(data, "items", &items)) {
        json_object *d = copy_but(data, "items");
        json_object_object_add(d, "items", ws_view_items(items, owners, v));
        json_object_object_add(out, "data", d);
    } else if (json_object_object_get_ex(data, "delta", &delta)) {
        json_object *d = copy_but(data, "delta"), *nd = json_object_new_object();
        json_object_object_foreach(delta, k, val)
            if (strcmp(k, "added") != 0 && strcmp(k, "removed") != 0 && strcmp(k, "changed") != 0)
                json_object_object_add(nd, k, json_object_get(val));
        json_object_object_get_ex(delta, "added", &x);
        json_object_object_add(nd, "added", ws_view_items(x, owners, v));
        x = NULL;
        json_object_object_get_ex(delta, "removed", &x);
        json_object *removed = keys_seen(x, owners, v);
        x = NULL;
        json_object_object_get_ex(delta, "changed", &x);
        json_object *changed = patches_seen(x, owners, v, removed);
        json_object_object_add(nd, "removed", removed);
        json_object_object_add(nd, "changed", changed);
        json_object_object_add(d, "delta", nd);
        json_object_object_add(out, "data", d);
    } else {
        json_object_object_add(out, "data", json_object_get(data));
    }
    return out;
}
