/* admin.c: the actions of muleteer-ws (wsd.h) beyond the downloads:
 * categories (create, update, delete, a file's category), the server
 * list and connection, the logs, a rename, a rescan of the shared files.
 * Each is one or two daemon commands and the reply aMuTorrent's lists
 * name (docs/websocket.md); a change to the categories is broadcast to
 * every client before the reply. */
#include "config.h"

#include "ws/wsd.h"
#include "db/db.h"
#include "webauth/caps.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void
send_typed(wsd_t *w, wsd_client_t *c, const char *type, const char *key, json_object *v,
           bool with_instance)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, key, v);
    if (with_instance)
        json_object_object_add(o, "instanceId", json_object_new_string(w->instance_id));
    wsd_send_json(w, c, o);
    json_object_put(o);
}

static void
send_result(wsd_t *w, wsd_client_t *c, const char *type, const char *message)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, "success", json_object_new_boolean(true));
    json_object_object_add(o, "message", json_object_new_string(message));
    wsd_send_json(w, c, o);
    json_object_put(o);
}

static void
broadcast_categories(wsd_t *w)
{
    wsd_refresh_categories(w);
    json_object *m = wsd_categories_message(w);
    wsd_broadcast_json(w, m);
    json_object_put(m);
}

/* ------------------------------------------------------- categories */

/* a category's name from an id (1-based in the daemon's list; 0 is
 * "Default"), or NULL; a copy (the caller frees it), since the list may
 * be read again during a daemon call */
static char *
category_name_of(wsd_t *w, long id)
{
    if (w->categories == NULL)
        wsd_refresh_categories(w);
    if (id == 0)
        return xstrdup("Default");
    if (w->categories == NULL || id < 0 || (size_t)id > json_object_array_length(w->categories))
        return NULL;
    json_object *n = NULL;
    json_object_object_get_ex(json_object_array_get_idx(w->categories, (size_t)id - 1), "name", &n);
    return n != NULL ? xstrdup(json_object_get_string(n)) : NULL;
}

static bool
category_exists(wsd_t *w, const char *name)
{
    wsd_refresh_categories(w);
    size_t n = w->categories != NULL ? json_object_array_length(w->categories) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *v = NULL;
        if (json_object_object_get_ex(json_object_array_get_idx(w->categories, i), "name", &v) &&
            strcmp(json_object_get_string(v), name) == 0)
            return true;
    }
    return false;
}

/* the daemon's arguments of a category's fields; aMule's priorities
 * (0 normal, 1 high, 2 low, 3 auto) on the daemon's -100..100 */
static void
category_args(json_object *args, const ws_action_t *a)
{
    if (a->path != NULL && a->path[0] != '\0')
        json_object_object_add(args, "incoming_path", json_object_new_string(a->path));
    if (a->comment != NULL)
        json_object_object_add(args, "comment", json_object_new_string(a->comment));
    if (a->colour >= 0)
        json_object_object_add(args, "colour", json_object_new_int64(a->colour));
    if (a->priority >= 0)
        json_object_object_add(args, "priority",
                               json_object_new_int(a->priority == 1 ? 10 : a->priority == 2 ? -10 : 0));
}

static void
cat_change(wsd_t *w, wsd_client_t *c, const char *cmd, json_object *args, const char *reply,
           const char *done)
{
    mt_error_t *err = NULL;
    json_object *r = NULL;
    if (wsd_call(w, cmd, args, &r, &err) != 0) {
        wsd_send_error(w, c, err->message);
        mt_error_free(err);
        return;
    }
    json_object_put(r);
    broadcast_categories(w);
    wsd_refresh(w, false); /* the items' categoryId may have moved */
    send_result(w, c, reply, done);
}

static void handle_category(wsd_t *w, wsd_client_t *c, const ws_action_t *a, const char *name);

void
wsd_handle_category(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    char *by_id = NULL;
    if (a->kind != WSA_CAT_CREATE && (a->cat_name == NULL || a->cat_name[0] == '\0'))
        by_id = category_name_of(w, a->category_id);
    handle_category(w, c, a, by_id != NULL ? by_id : a->cat_name);
    free(by_id);
}

static void
handle_category(wsd_t *w, wsd_client_t *c, const ws_action_t *a, const char *name)
{
    if (a->kind != WSA_CAT_CREATE && (name == NULL || name[0] == '\0')) {
        wsd_send_error(w, c, "no such category");
        return;
    }
    if (a->kind != WSA_CAT_CREATE && strcmp(name, "Default") == 0) {
        wsd_send_error(w, c, "the Default category cannot be changed or deleted");
        return;
    }
    json_object *args = json_object_new_object();
    if (a->kind == WSA_CAT_CREATE) {
        json_object_object_add(args, "name", json_object_new_string(a->title));
        category_args(args, a);
        cat_change(w, c, "category-add", args, "category-created", "Category created");
    } else if (a->kind == WSA_CAT_UPDATE) {
        json_object_object_add(args, "name", json_object_new_string(name));
        if (a->title != NULL && a->title[0] != '\0' && strcmp(a->title, name) != 0)
            json_object_object_add(args, "new_name", json_object_new_string(a->title));
        category_args(args, a);
        cat_change(w, c, "category-edit", args, "category-updated", "Category updated");
    } else {
        json_object_object_add(args, "name", json_object_new_string(name));
        cat_change(w, c, "category-remove", args, "category-deleted", "Category deleted");
    }
    json_object_put(args);
}

static void set_category(wsd_t *w, wsd_client_t *c, const ws_action_t *a, const char *name);

/* batchSetFileCategory: the category is made when missing; "Default" is none */
void
wsd_handle_set_category(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    char *by_id = a->legacy ? category_name_of(w, a->category_id) : NULL;
    set_category(w, c, a, a->legacy ? by_id : a->category);
    free(by_id);
}

static void
set_category(wsd_t *w, wsd_client_t *c, const ws_action_t *a, const char *name)
{
    if (name == NULL) {
        wsd_send_error(w, c, "categoryId: no such category");
        return;
    }
    bool none = name[0] == '\0' || strcmp(name, "Default") == 0;
    if (!none && !category_exists(w, name)) {
        json_object *args = json_object_new_object(), *r = NULL;
        mt_error_t *err = NULL;
        json_object_object_add(args, "name", json_object_new_string(name));
        int rc = wsd_call(w, "category-add", args, &r, &err);
        json_object_put(args);
        json_object_put(r);
        if (rc != 0) {
            wsd_send_error(w, c, err->message);
            mt_error_free(err);
            return;
        }
        broadcast_categories(w);
    }
    json_object *results = json_object_new_array();
    size_t ok = 0;
    for (size_t i = 0; i < a->n_hashes; i++) {
        json_object *args = json_object_new_object(), *r = NULL, *res = json_object_new_object();
        mt_error_t *err = NULL;
        json_object_object_add(args, "hash", json_object_new_string(a->hashes[i]));
        json_object_object_add(args, "category", none ? NULL : json_object_new_string(name));
        json_object_object_add(res, "fileHash", json_object_new_string(a->hashes[i]));
        const char *denied = wsd_may_edit(w, c, a->hashes[i]);
        if (denied != NULL) {
            json_object_object_add(res, "success", json_object_new_boolean(false));
            json_object_object_add(res, "error", json_object_new_string(denied));
            json_object_object_add(res, "denied", json_object_new_boolean(true));
        } else if (wsd_call(w, "set-category", args, &r, &err) == 0) {
            ok++;
            json_object_object_add(res, "success", json_object_new_boolean(true));
        } else {
            json_object_object_add(res, "success", json_object_new_boolean(false));
            json_object_object_add(res, "error", json_object_new_string(err->message));
            mt_error_free(err);
        }
        json_object_object_add(res, "instanceId", json_object_new_string(w->instance_id));
        json_object_array_add(results, res);
        json_object_put(args);
        json_object_put(r);
    }
    wsd_refresh(w, false);
    json_object *o = json_object_new_object();
    char *msg = xasprintf("%zu of %zu moved to %s", ok, a->n_hashes, none ? "Default" : name);
    json_object_object_add(o, "type", json_object_new_string(ws_action_reply_type(WSA_SET_CATEGORY)));
    json_object_object_add(o, "results", results);
    json_object_object_add(o, "message", json_object_new_string(msg));
    free(msg);
    wsd_send_json(w, c, o);
    json_object_put(o);
}

/* ---------------------------------------------------------- servers */

static json_object *
server_entry(json_object *s)
{
    json_object *o = json_object_new_object(), *v = NULL;
    const char *ip = json_object_object_get_ex(s, "ip", &v) && v != NULL ? json_object_get_string(v) : NULL;
    if (ip == NULL || ip[0] == '\0')
        ip = json_object_object_get_ex(s, "address", &v) && v != NULL ? json_object_get_string(v) : "";
    int port = json_object_object_get_ex(s, "port", &v) ? json_object_get_int(v) : 0;
    char *addr = xasprintf("%s:%d", ip, port);
    json_object_object_add(o, "_value", json_object_new_string(addr));
    free(addr);
    static const struct {
        const char *tag, *key;
    } map[] = {
        { "EC_TAG_SERVER_NAME", "name" },       { "EC_TAG_SERVER_DESC", "description" },
        { "EC_TAG_SERVER_USERS", "users" },     { "EC_TAG_SERVER_USERS_MAX", "max_users" },
        { "EC_TAG_SERVER_FILES", "files" },     { "EC_TAG_SERVER_PING", "ping_ms" },
        { "EC_TAG_SERVER_VERSION", "version" },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (json_object_object_get_ex(s, map[i].key, &v))
            json_object_object_add(o, map[i].tag, json_object_get(v));
    return o;
}

static void
servers_list(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    json_object *r = NULL, *list = NULL, *out = json_object_new_array();
    mt_error_t *err = NULL;
    if (wsd_call(w, "servers", NULL, &r, &err) != 0) {
        wsd_send_error(w, c, err->message);
        mt_error_free(err);
        json_object_put(out);
        return;
    }
    if (json_object_object_get_ex(r, "servers", &list) && json_object_is_type(list, json_type_array))
        for (size_t i = 0; i < json_object_array_length(list); i++)
            json_object_array_add(out, server_entry(json_object_array_get_idx(list, i)));
    json_object_put(r);
    if (a->legacy) {
        send_typed(w, c, "servers-update", "data", out, false);
        return;
    }
    /* always an array, even of one (aMule's tag tree would give an object) */
    json_object *data = json_object_new_object();
    json_object_object_add(data, "EC_TAG_SERVER", out);
    send_typed(w, c, "servers-update", "data", data, true);
}

static void
server_action(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    json_object *args = json_object_new_object(), *r = NULL;
    const char *cmd = "disconnect";
    if (a->server_action == WSA_SRV_CONNECT) {
        cmd = "connect";
        json_object_object_add(args, "host", json_object_new_string(a->address));
        json_object_object_add(args, "port", json_object_new_int(a->port));
    } else if (a->server_action == WSA_SRV_REMOVE) {
        cmd = "server-remove";
        json_object_object_add(args, "address", json_object_new_string(a->address));
        json_object_object_add(args, "port", json_object_new_int(a->port));
    }
    mt_error_t *err = NULL;
    int rc = wsd_call(w, cmd, args, &r, &err);
    json_object_put(args);
    json_object_put(r);
    if (rc != 0) {
        wsd_send_error(w, c, err->message);
        mt_error_free(err);
    }
    wsd_refresh(w, false); /* the network status */
    send_typed(w, c, "server-action", "data", json_object_new_boolean(rc == 0), true);
}

static void
server_info(wsd_t *w, wsd_client_t *c)
{
    json_object *r = NULL, *msgs = NULL;
    mt_error_t *err = NULL;
    if (wsd_call(w, "server", NULL, &r, &err) != 0) {
        wsd_send_error(w, c, err->message);
        mt_error_free(err);
        return;
    }
    size_t cap = 1, len = 0;
    char *text = xcalloc(1, 1);
    if (json_object_object_get_ex(r, "messages", &msgs) && json_object_is_type(msgs, json_type_array))
        for (size_t i = 0; i < json_object_array_length(msgs); i++) {
            const char *m = json_object_get_string(json_object_array_get_idx(msgs, i));
            size_t n = strlen(m);
            text = xrealloc(text, cap += n + 1);
            memcpy(text + len, m, n);
            len += n;
            text[len++] = '\n';
            text[len] = '\0';
        }
    json_object_put(r);
    json_object *data = json_object_new_object();
    json_object_object_add(data, "EC_TAG_STRING", json_object_new_string(text));
    free(text);
    send_typed(w, c, "server-info-update", "data", data, true);
}

/* ------------------------------------------------------------- logs */

static int
level_rank(const char *l)
{
    static const char *const levels[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++)
        if (l != NULL && strcmp(l, levels[i]) == 0)
            return i;
    return 3;
}

static void
iso_ms(int64_t ms, char *buf, size_t n, bool iso)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (iso) {
        size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + k, n - k, ".%03dZ", (int)(ms % 1000));
    } else {
        strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
    }
}

static void
logs(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    json_object *args = json_object_new_object(), *r = NULL, *entries = NULL;
    json_object_object_add(args, "limit", json_object_new_int(a->kind == WSA_APP_LOG ? a->limit : 2000));
    mt_error_t *err = NULL;
    int rc = wsd_call(w, "log", args, &r, &err);
    json_object_put(args);
    if (rc != 0) {
        wsd_send_error(w, c, err->message);
        mt_error_free(err);
        return;
    }
    json_object_object_get_ex(r, "entries", &entries);
    size_t n = entries != NULL && json_object_is_type(entries, json_type_array)
                   ? json_object_array_length(entries) : 0;
    json_object *list = json_object_new_array();
    size_t cap = 1, len = 0;
    char *text = xcalloc(1, 1);
    int most = a->min_level != NULL ? level_rank(a->min_level) : 3;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(entries, i), *v = NULL;
        const char *lvl = json_object_object_get_ex(e, "level", &v) ? json_object_get_string(v) : "info";
        const char *msg = json_object_object_get_ex(e, "text", &v) ? json_object_get_string(v) : "";
        int64_t ms = json_object_object_get_ex(e, "time_ms", &v) ? json_object_get_int64(v) : 0;
        char ts[40];
        if (a->kind == WSA_APP_LOG) {
            if (level_rank(lvl) > most)
                continue;
            json_object *o = json_object_new_object();
            iso_ms(ms, ts, sizeof ts, true);
            json_object_object_add(o, "ts", json_object_new_string(ts));
            json_object_object_add(o, "level", json_object_new_string(lvl));
            json_object_object_add(o, "source", json_object_new_string("muleteerd"));
            json_object_object_add(o, "message", json_object_new_string(msg));
            json_object_array_add(list, o);
        } else {
            iso_ms(ms, ts, sizeof ts, false);
            char *line = xasprintf("%s: %s\n", ts, msg);
            size_t k = strlen(line);
            text = xrealloc(text, cap += k);
            memcpy(text + len, line, k + 1);
            len += k;
            free(line);
        }
    }
    json_object_put(r);
    if (a->kind == WSA_APP_LOG) {
        json_object *o = json_object_new_object(), *sources = json_object_new_array();
        json_object_array_add(sources, json_object_new_string("muleteerd"));
        json_object_object_add(o, "type", json_object_new_string("app-log-update"));
        json_object_object_add(o, "data", list);
        json_object_object_add(o, "sources", sources);
        wsd_send_json(w, c, o);
        json_object_put(o);
    } else {
        json_object *data = json_object_new_object();
        json_object_object_add(data, "EC_TAG_STRING", json_object_new_string(text));
        send_typed(w, c, "log-update", "data", data, true);
        json_object_put(list);
    }
    free(text);
}

/* ------------------------------------------------ files, segment data */

static void
rename_file(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    json_object *args = json_object_new_object(), *r = NULL, *o = json_object_new_object();
    json_object_object_add(args, "hash", json_object_new_string(a->hashes[0]));
    json_object_object_add(args, "name", json_object_new_string(a->new_name));
    mt_error_t *err = NULL;
    const char *denied = wsd_may_edit(w, c, a->hashes[0]);
    if (denied != NULL)
        mt_error_set(&err, MT_ERR_PERMISSION, "%s", denied);
    int rc = denied != NULL ? -1 : wsd_call(w, "rename", args, &r, &err);
    json_object_put(args);
    json_object_put(r);
    wsd_refresh(w, false);
    json_object_object_add(o, "type", json_object_new_string("rename-complete"));
    json_object_object_add(o, "success", json_object_new_boolean(rc == 0));
    if (rc != 0)
        json_object_object_add(o, "error", json_object_new_string(err->message));
    mt_error_free(err);
    wsd_send_json(w, c, o);
    json_object_put(o);
}

static void
refresh_shared(wsd_t *w, wsd_client_t *c)
{
    json_object *r = NULL;
    mt_error_t *err = NULL;
    if (wsd_call(w, "rescan", NULL, &r, &err) != 0) {
        wsd_send_error(w, c, err->message);
        mt_error_free(err);
        return;
    }
    json_object_put(r);
    send_typed(w, c, "shared-files-refreshed", "message",
               json_object_new_string("Shared files are being scanned again"), false);
    wsd_refresh(w, false);
}

/* ------------------------------------------ shared files, uploads */

static json_object *
call_or_error(wsd_t *w, wsd_client_t *c, const char *cmd)
{
    json_object *r = NULL;
    mt_error_t *err = NULL;
    if (wsd_call(w, cmd, NULL, &r, &err) != 0) {
        wsd_send_error(w, c, err->message);
        mt_error_free(err);
        return NULL;
    }
    return r;
}

/* copies the members named in map (daemon name -> protocol name) */
static json_object *
renamed(json_object *from, const char *const (*map)[2], size_t n)
{
    json_object *o = json_object_new_object(), *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (json_object_object_get_ex(from, map[i][0], &v))
            json_object_object_add(o, map[i][1], json_object_get(v));
    return o;
}

static void
list_reply(wsd_t *w, wsd_client_t *c, const char *cmd, const char *key, const char *type,
           const char *const (*map)[2], size_t n)
{
    json_object *r = call_or_error(w, c, cmd), *list = NULL, *out = json_object_new_array();
    if (r == NULL) {
        json_object_put(out);
        return;
    }
    if (json_object_object_get_ex(r, key, &list) && json_object_is_type(list, json_type_array))
        for (size_t i = 0; i < json_object_array_length(list); i++)
            json_object_array_add(out, renamed(json_object_array_get_idx(list, i), map, n));
    json_object_put(r);
    send_typed(w, c, type, "data", out, false);
}

static void
shared_files(wsd_t *w, wsd_client_t *c)
{
    static const char *const map[][2] = { { "hash", "fileHash" }, { "name", "fileName" },
                                          { "path", "filePath" }, { "size", "fileSize" },
                                          { "requests", "requestsCount" }, { "withheld", "withheld" } };
    list_reply(w, c, "shared", "files", "shared-update", map, sizeof map / sizeof map[0]);
}

/* the list under key of the daemon's answer r, renamed */
static json_object *
renamed_list(json_object *r, const char *key, const char *const (*map)[2], size_t n)
{
    json_object *list = NULL, *out = json_object_new_array();
    if (json_object_object_get_ex(r, key, &list) && json_object_is_type(list, json_type_array))
        for (size_t i = 0; i < json_object_array_length(list); i++)
            json_object_array_add(out, renamed(json_object_array_get_idx(list, i), map, n));
    return out;
}

/* uploads-update: the slots as data (aMuTorrent's older list), and
 * Muleteer's own "queue", the clients waiting for a slot in their order */
static void
uploads(wsd_t *w, wsd_client_t *c)
{
    static const char *const slot_map[][2] = { { "peer", "userName" }, { "hash", "fileHash" },
                                               { "sent", "uploadSession" } };
    static const char *const queue_map[][2] = { { "peer", "userName" }, { "hash", "fileHash" },
                                                { "rank", "queueRank" }, { "waiting", "waitingSeconds" } };
    json_object *r = call_or_error(w, c, "uploads");
    if (r == NULL)
        return;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("uploads-update"));
    json_object_object_add(o, "data", renamed_list(r, "slots", slot_map, sizeof slot_map / sizeof slot_map[0]));
    json_object_object_add(o, "queue",
                           renamed_list(r, "waiting", queue_map, sizeof queue_map / sizeof queue_map[0]));
    json_object_put(r);
    wsd_send_json(w, c, o);
    json_object_put(o);
}

/* ------------------------------------------------------ stats tree */

static json_object *
node(const char *label, json_object *value)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "_value", json_object_new_string(label));
    if (value != NULL)
        json_object_object_add(o, "EC_TAG_STAT_NODE_VALUE", value);
    return o;
}

static json_object *
branch(const char *label, json_object **kids, size_t n)
{
    json_object *o = node(label, NULL), *list = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(list, kids[i]);
    json_object_object_add(o, "EC_TAG_STATTREE_NODE", list);
    return o;
}

static json_object *
bytes_text(uint64_t b, bool rate)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    char buf[48];
    snprintf(buf, sizeof buf, u == 0 ? "%.0f %s%s" : "%.2f %s%s", v, units[u], rate ? "/s" : "");
    return json_object_new_string(buf);
}

static int64_t
member_int(json_object *o, const char *k)
{
    json_object *v = NULL;
    return o != NULL && json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

/* the statistics aMule's tree shows, from the daemon's `status` and the
 * tick events' totals (the UI fills the %s and %i of each label) */
static void
stats_tree(wsd_t *w, wsd_client_t *c)
{
    json_object *st = call_or_error(w, c, "status"), *tr = NULL;
    if (st == NULL)
        return;
    json_object_object_get_ex(st, "transfers", &tr);
    char up[32];
    int64_t s = member_int(st, "uptime");
    snprintf(up, sizeof up, "%lldd %02lld:%02lld:%02lld", (long long)(s / 86400), (long long)(s / 3600 % 24),
             (long long)(s / 60 % 60), (long long)(s % 60));
    json_object *transfer[] = {
        node("Downloaded Data (Session): %s", bytes_text(w->down_total, false)),
        node("Uploaded Data (Session): %s", bytes_text(w->up_total, false)),
        node("Download Speed: %s", bytes_text((uint64_t)member_int(tr, "download_rate"), true)),
        node("Upload Speed: %s", bytes_text((uint64_t)member_int(tr, "upload_rate"), true)),
    };
    json_object *conn[] = {
        node("Active Connections: %i", json_object_new_int64(member_int(tr, "connections"))),
        node("Upload Slots: %i", json_object_new_int64(member_int(tr, "upload_slots"))),
        node("Waiting Uploads: %i", json_object_new_int64(member_int(tr, "upload_queue"))),
    };
    json_object *files[] = {
        node("Downloads: %i", json_object_new_int64(member_int(tr, "downloads"))),
        node("Shared Files: %i", json_object_new_int64(member_int(tr, "shared_files"))),
    };
    json_object *top[] = {
        node("Uptime: %s", json_object_new_string(up)),
        branch("Transfer", transfer, sizeof transfer / sizeof transfer[0]),
        branch("Connection", conn, sizeof conn / sizeof conn[0]),
        branch("Files", files, sizeof files / sizeof files[0]),
    };
    json_object *root = json_object_new_object(), *list = json_object_new_array();
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        json_object_array_add(list, top[i]);
    json_object_object_add(root, "EC_TAG_STATTREE_NODE", list);
    json_object_put(st);
    send_typed(w, c, "stats-tree-update", "data", root, true);
}

/* ------------------------------------------------ delete permissions */

/* a download of the items that c sees (owner.h: another account's is
 * unknown to one limited to its own, a shared file to one without
 * view_shared) */
static bool
item_known(wsd_t *w, wsd_client_t *c, const char *hash)
{
    ws_view_t v;
    wsd_client_view(c, &v);
    if (!ws_view_sees(&v, w->owners, hash))
        return false;
    size_t n = w->items != NULL ? json_object_array_length(w->items) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(w->items, i), *h = NULL, *dl = NULL;
        if (json_object_object_get_ex(it, "hash", &h) && strcmp(json_object_get_string(h), hash) == 0)
            return !v.hide_shared ||
                   (json_object_object_get_ex(it, "downloading", &dl) && json_object_get_boolean(dl));
    }
    return false;
}

static void
delete_permissions(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    bool may = (wsd_client_ident(c)->caps & WEBAUTH_CAP_REMOVE_DOWNLOADS) != 0;
    if (!w->items_fresh)
        wsd_refresh(w, true);
    json_object *results = json_object_new_array();
    for (size_t i = 0; i < a->n_hashes; i++) {
        json_object *r = json_object_new_object();
        bool known = item_known(w, c, a->hashes[i]);
        const char *reason = !may ? "no_permission" : !known ? "not_found" : "ok";
        json_object_object_add(r, "fileHash", json_object_new_string(a->hashes[i]));
        json_object_object_add(r, "clientType", json_object_new_string("amule"));
        json_object_object_add(r, "canDelete", json_object_new_boolean(may && known));
        json_object_object_add(r, "reason", json_object_new_string(reason));
        json_object_array_add(results, r);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("delete-permissions"));
    json_object_object_add(o, "results", results);
    json_object_object_add(o, "isDocker", json_object_new_boolean(false));
    wsd_send_json(w, c, o);
    json_object_put(o);
}

/* ------------------------------------------------------------ moves */

/* batchMoveFiles: set-location for each (a finished file moves now, an
 * active download completes there) */
static void
move_files(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    json_object *results = json_object_new_array();
    size_t ok = 0;
    for (size_t i = 0; i < a->n_hashes; i++) {
        json_object *args = json_object_new_object(), *r = NULL, *res = json_object_new_object();
        mt_error_t *err = NULL;
        json_object_object_add(args, "hash", json_object_new_string(a->hashes[i]));
        json_object_object_add(args, "location", json_object_new_string(a->path));
        const char *denied = wsd_may_edit(w, c, a->hashes[i]);
        if (denied != NULL)
            mt_error_set(&err, MT_ERR_PERMISSION, "%s", denied);
        int rc = denied != NULL ? -1 : wsd_call(w, "set-location", args, &r, &err);
        json_object_object_add(res, "fileHash", json_object_new_string(a->hashes[i]));
        json_object_object_add(res, "success", json_object_new_boolean(rc == 0));
        if (rc != 0)
            json_object_object_add(res, "error", json_object_new_string(err->message));
        else
            ok++;
        mt_error_free(err);
        json_object_array_add(results, res);
        json_object_put(args);
        json_object_put(r);
    }
    wsd_refresh(w, false);
    json_object *o = json_object_new_object();
    char *msg = xasprintf("%zu of %zu moved", ok, a->n_hashes);
    json_object_object_add(o, "type", json_object_new_string(ws_action_reply_type(WSA_MOVE)));
    json_object_object_add(o, "results", results);
    json_object_object_add(o, "message", json_object_new_string(msg));
    free(msg);
    wsd_send_json(w, c, o);
    json_object_put(o);
}

/* the directory a category's files go to (a copy: the caller frees it);
 * NULL for an unknown one */
static char *
category_path(wsd_t *w, const char *name)
{
    if (name[0] == '\0' || strcmp(name, "Default") == 0)
        return xstrdup(conf_get_str(w->conf, "incoming_dir"));
    wsd_refresh_categories(w);
    size_t n = w->categories != NULL ? json_object_array_length(w->categories) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *cat = json_object_array_get_idx(w->categories, i), *v = NULL, *p = NULL;
        if (json_object_object_get_ex(cat, "name", &v) && strcmp(json_object_get_string(v), name) == 0 &&
            json_object_object_get_ex(cat, "incoming_path", &p))
            return xstrdup(json_object_get_string(p));
    }
    return NULL;
}

/* checkMoveToPermissions, checkMovePermissions: whether the caller may
 * move each file (its capability, the file known); the directory itself
 * is judged by the daemon when the move is made */
static void
move_permissions(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    bool may = (wsd_client_ident(c)->caps & WEBAUTH_CAP_MOVE_FILES) != 0;
    char *dest = a->kind == WSA_CHECK_MOVE ? category_path(w, a->category) : xstrdup(a->path);
    if (!w->items_fresh)
        wsd_refresh(w, true);
    json_object *results = json_object_new_array();
    bool all = dest != NULL;
    for (size_t i = 0; i < a->n_hashes; i++) {
        json_object *r = json_object_new_object();
        bool known = item_known(w, c, a->hashes[i]);
        const char *reason = !may ? "no_permission" : !known ? "not_found" : dest == NULL ? "no_path" : "ok";
        json_object_object_add(r, "fileHash", json_object_new_string(a->hashes[i]));
        json_object_object_add(r, "canMove", json_object_new_boolean(strcmp(reason, "ok") == 0));
        json_object_object_add(r, "reason", json_object_new_string(reason));
        all = all && strcmp(reason, "ok") == 0;
        json_object_array_add(results, r);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(a->kind == WSA_CHECK_MOVE ? "move-permissions"
                                                                                     : "move-to-permissions"));
    json_object_object_add(o, "results", results);
    json_object_object_add(o, "canMove", json_object_new_boolean(all));
    json_object_object_add(o, "destPath", dest != NULL ? json_object_new_string(dest) : NULL);
    if (a->kind == WSA_CHECK_MOVE)
        json_object_object_add(o, "destError", dest == NULL ? json_object_new_string("no such category") : NULL);
    json_object_object_add(o, "isDocker", json_object_new_boolean(false));
    wsd_send_json(w, c, o);
    json_object_put(o);
    free(dest);
}

/* ---------------------------------------------- comment and rating */

/* setFileRatingComment: kept in file_ratings (031); an empty comment with
 * rating 0 removes the row */
static void
rate_file(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    char rating[8];
    snprintf(rating, sizeof rating, "%d", a->rating);
    const char *p[] = { conf_get_str(w->conf, "node_name"), a->hashes[0], a->comment, rating };
    mt_error_t *err = NULL;
    PGresult *r = NULL;
    const char *denied = wsd_may_edit(w, c, a->hashes[0]);
    if (denied != NULL) {
        mt_error_set(&err, MT_ERR_PERMISSION, "%s", denied);
    } else if (a->comment[0] == '\0' && a->rating == 0) {
        r = wsd_db_query(w, "DELETE FROM file_ratings WHERE node = $1 AND hash = $2", 2, p, &err);
    } else {
        r = wsd_db_query(w,
                     "INSERT INTO file_ratings (node, hash, comment, rating) VALUES ($1, $2, $3, $4)"
                     " ON CONFLICT (node, hash) DO UPDATE SET comment = excluded.comment,"
                     " rating = excluded.rating, updated_at = now()",
                     4, p, &err);
    }
    PQclear(r);
    wsd_refresh(w, false);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("rating-comment-complete"));
    json_object_object_add(o, "success", json_object_new_boolean(err == NULL));
    if (err != NULL)
        json_object_object_add(o, "error", json_object_new_string(err->message));
    mt_error_free(err);
    wsd_send_json(w, c, o);
    json_object_put(o);
}

void
wsd_handle_admin(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    switch (a->kind) {
    case WSA_SERVERS: servers_list(w, c, a); return;
    case WSA_SERVER_ACTION: server_action(w, c, a); return;
    case WSA_SERVER_INFO: server_info(w, c); return;
    case WSA_LOG:
    case WSA_APP_LOG: logs(w, c, a); return;
    case WSA_RENAME: rename_file(w, c, a); return;
    case WSA_REFRESH_SHARED: refresh_shared(w, c); return;
    case WSA_GET_SHARED: shared_files(w, c); return;
    case WSA_GET_UPLOADS: uploads(w, c); return;
    case WSA_STATS_TREE: stats_tree(w, c); return;
    case WSA_CHECK_DELETE: delete_permissions(w, c, a); return;
    case WSA_MOVE: move_files(w, c, a); return;
    case WSA_RATE: rate_file(w, c, a); return;
    case WSA_CHECK_MOVE_TO:
    case WSA_CHECK_MOVE: move_permissions(w, c, a); return;
    case WSA_SEGMENTS:
        /* aMuTorrent answers a subscription with the segments at once */
        wsd_client_set_segments(c, a->subscribe);
        if (a->subscribe) {
            if (!w->items_fresh)
                wsd_refresh(w, true);
            wsd_send_segments(w, c, NULL);
        }
        return;
    default: return;
    }
}
