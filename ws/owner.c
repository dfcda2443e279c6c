/* owner.c: whose downloads a WebSocket client sees and changes (owner.h). */
#include "config.h"

#include "ws/owner.h"

#include <string.h>

bool
ws_view_is_full(const ws_view_t *v)
{
    return v->view_owner == NULL && v->all_owned;
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

/* a new object holding the same members, ownedByMe set */
static json_object *
with_owned(json_object *item, bool owned)
{
    json_object *o = json_object_new_object();
    json_object_object_foreach(item, k, val)
        json_object_object_add(o, k, json_object_get(val));
    json_object_object_add(o, "ownedByMe", json_object_new_boolean(owned));
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
        if (!ws_view_sees(v, owners, h))
            continue;
        json_object_array_add(out, with_owned(it, v->all_owned || owned_by(owners, h, v->user)));
    }
    return out;
}

/* the patches (or removed keys "<instanceId>:<hash>") of what v sees */
static json_object *
seen_only(json_object *arr, json_object *owners, const ws_view_t *v, bool keys)
{
    json_object *out = json_object_new_array();
    size_t n = arr != NULL ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *x = json_object_array_get_idx(arr, i);
        const char *h = NULL;
        if (keys) {
            const char *k = json_object_get_string(x), *colon = strrchr(k, ':');
            h = colon != NULL ? colon + 1 : k;
        } else {
            h = hash_of(x);
        }
        if (ws_view_sees(v, owners, h))
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
        json_object_object_add(nd, "removed", seen_only(x, owners, v, true));
        x = NULL;
        json_object_object_get_ex(delta, "changed", &x);
        json_object_object_add(nd, "changed", seen_only(x, owners, v, false));
        json_object_object_add(d, "delta", nd);
        json_object_object_add(out, "data", d);
    } else {
        json_object_object_add(out, "data", json_object_get(data));
    }
    return out;
}
