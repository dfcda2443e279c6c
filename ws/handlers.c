/* handlers.c: the actions of muleteer-ws (wsd.h), each checked against
 * the caller's capabilities (webauth/caps.h, aMuTorrent's map), carried
 * out with the daemon's commands, followed by a batch-update of what
 * changed (broadcast before the reply, as aMuTorrent does) and answered
 * in the message type the action's list names (docs/websocket.md). They
 * run in the client's task (task.c): across a daemon call, the items and
 * categories may be replaced, so nothing of them is held over one. */
#include "config.h"

#include "ws/wsd.h"
#include "ws/item.h"
#include "webauth/caps.h"
#include "util/xalloc.h"

#include <string.h>

static uint32_t
needed_cap(ws_action_kind_t k)
{
    switch (k) {
    case WSA_PAUSE:
    case WSA_RESUME:
    case WSA_STOP:
    case WSA_SET_PRIORITY: return WEBAUTH_CAP_PAUSE_RESUME;
    case WSA_DELETE: return WEBAUTH_CAP_REMOVE_DOWNLOADS;
    case WSA_ADD_LINKS: return WEBAUTH_CAP_ADD_DOWNLOADS;
    case WSA_CAT_CREATE:
    case WSA_CAT_UPDATE:
    case WSA_CAT_DELETE: return WEBAUTH_CAP_MANAGE_CATEGORIES;
    case WSA_SET_CATEGORY: return WEBAUTH_CAP_ASSIGN_CATEGORIES;
    case WSA_SERVERS:
    case WSA_SERVER_ACTION:
    case WSA_SERVER_INFO: return WEBAUTH_CAP_VIEW_SERVERS;
    case WSA_LOG:
    case WSA_APP_LOG: return WEBAUTH_CAP_VIEW_LOGS;
    case WSA_RENAME: return WEBAUTH_CAP_RENAME_FILES;
    case WSA_REFRESH_SHARED: return WEBAUTH_CAP_VIEW_SHARED;
    case WSA_SEARCH:
    case WSA_PREV_SEARCH: return WEBAUTH_CAP_SEARCH;
    case WSA_DOWNLOAD: return WEBAUTH_CAP_ADD_DOWNLOADS;
    case WSA_GET_SHARED: return WEBAUTH_CAP_VIEW_SHARED;
    case WSA_GET_UPLOADS: return WEBAUTH_CAP_VIEW_UPLOADS;
    case WSA_STATS_TREE: return WEBAUTH_CAP_VIEW_STATISTICS;
    case WSA_MOVE: return WEBAUTH_CAP_MOVE_FILES;
    case WSA_RATE: return WEBAUTH_CAP_SET_COMMENT;
    default: return 0;
    }
}

static void
send_typed(wsd_t *w, wsd_client_t *c, const char *type, const char *key, json_object *v)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, key, v);
    wsd_send_json(w, c, o);
    json_object_put(o);
}

/* the name the items cache knows for hash, or NULL */
static const char *
item_name(wsd_t *w, const char *hash)
{
    size_t n = w->items != NULL ? json_object_array_length(w->items) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(w->items, i), *h = NULL, *nm = NULL;
        if (json_object_object_get_ex(it, "hash", &h) && strcmp(json_object_get_string(h), hash) == 0 &&
            json_object_object_get_ex(it, "name", &nm))
            return json_object_get_string(nm);
    }
    return NULL;
}

static void
do_batch(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    const char *cmd = a->kind == WSA_PAUSE ? "pause" : a->kind == WSA_RESUME ? "resume"
                      : a->kind == WSA_STOP ? "stop" : a->kind == WSA_SET_PRIORITY ? "priority"
                      : "delete";
    json_object *results = json_object_new_array();
    size_t ok = 0;
    char *first_error = NULL;
    for (size_t i = 0; i < a->n_hashes; i++) {
        json_object *args = json_object_new_object(), *r = NULL, *res = json_object_new_object();
        json_object_object_add(args, "hash", json_object_new_string(a->hashes[i]));
        if (a->kind == WSA_DELETE)
            json_object_object_add(args, "delete_files", json_object_new_boolean(a->delete_files));
        if (a->kind == WSA_SET_PRIORITY)
            json_object_object_add(args, "priority", json_object_new_string(a->dl_priority));
        mt_error_t *err = NULL;
        const char *name = item_name(w, a->hashes[i]);
        json_object_object_add(res, "fileHash", json_object_new_string(a->hashes[i]));
        if (name != NULL)
            json_object_object_add(res, "fileName", json_object_new_string(name));
        const char *denied = wsd_may_edit(w, c, a->hashes[i]);
        if (denied != NULL) {
            /* another account's download: skipped, as aMuTorrent skips it */
            json_object_object_add(res, "success", json_object_new_boolean(false));
            json_object_object_add(res, "error", json_object_new_string(denied));
            json_object_object_add(res, "denied", json_object_new_boolean(true));
            if (first_error == NULL)
                first_error = xstrdup(denied);
        } else if (wsd_call(w, cmd, args, &r, &err) == 0) {
            ok++;
            json_object_object_add(res, "success", json_object_new_boolean(true));
        } else {
            json_object_object_add(res, "success", json_object_new_boolean(false));
            json_object_object_add(res, "error", json_object_new_string(err->message));
            if (first_error == NULL)
                first_error = xstrdup(err->message);
            mt_error_free(err);
        }
        json_object_object_add(res, "instanceId", json_object_new_string(w->instance_id));
        json_object_object_add(res, "instanceName", json_object_new_string(w->instance_name));
        json_object_array_add(results, res);
        json_object_put(args);
        json_object_put(r);
    }
    wsd_refresh(w, false);
    if (a->legacy) {
        /* the older list: one file, a success or an error */
        if (first_error != NULL)
            wsd_send_error(w, c, first_error);
        else
            send_typed(w, c, "success", "message", json_object_new_string("Done"));
        json_object_put(results);
    } else {
        json_object *o = json_object_new_object();
        char *msg = xasprintf("%zu of %zu done", ok, a->n_hashes);
        json_object_object_add(o, "type", json_object_new_string(ws_action_reply_type(a->kind)));
        json_object_object_add(o, "results", results);
        json_object_object_add(o, "message", json_object_new_string(msg));
        free(msg);
        wsd_send_json(w, c, o);
        json_object_put(o);
    }
    free(first_error);
}

/* the category of addEd2kLink's categoryId: 0 none, n the n-th (a copy
 * in *name: the list may be read again during a daemon call) */
static int
category_by_id(wsd_t *w, long id, char **name)
{
    *name = NULL;
    if (id <= 0)
        return 0;
    if (w->categories == NULL)
        wsd_refresh_categories(w);
    if (w->categories == NULL || (size_t)id > json_object_array_length(w->categories))
        return -1;
    json_object *n = NULL;
    json_object_object_get_ex(json_object_array_get_idx(w->categories, (size_t)id - 1), "name", &n);
    *name = n != NULL ? xstrdup(json_object_get_string(n)) : NULL;
    return 0;
}

static void
do_add(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    char *by_id = NULL;
    if (a->legacy && category_by_id(w, a->category_id, &by_id) != 0) {
        wsd_send_error(w, c, "categoryId: no such category");
        return;
    }
    const char *category = by_id != NULL ? by_id : a->category;
    json_object *results = json_object_new_array();
    for (size_t i = 0; i < a->n_links; i++) {
        const char *link = a->links[i];
        bool server = strncmp(link, "ed2k://|server", 14) == 0;
        json_object *args = json_object_new_object(), *r = NULL, *res = json_object_new_object();
        if (server) {
            json_object_object_add(args, "source", json_object_new_string(link));
        } else {
            json_object_object_add(args, "link", json_object_new_string(link));
            if (category != NULL)
                json_object_object_add(args, "category", json_object_new_string(category));
            json_object_object_add(args, "added_via", json_object_new_string("websocket"));
            /* who added it decides who sees it (owner.h); track_username
             * only says whether the history shows it */
            const webauth_ident_t *id = wsd_client_ident(c);
            json_object_object_add(args, "added_by", json_object_new_string(id->user != NULL ? id->user : ""));
        }
        mt_error_t *err = NULL;
        int rc = wsd_call(w, server ? "servers-import" : "add", args, &r, &err);
        json_object *h = NULL;
        if (rc == 0 && !server && json_object_object_get_ex(r, "hash", &h))
            wsd_note_owner(w, json_object_get_string(h), wsd_client_ident(c)->user);
        json_object_object_add(res, "link", json_object_new_string(link));
        json_object_object_add(res, "success", json_object_new_boolean(rc == 0));
        if (rc != 0) {
            json_object_object_add(res, "error", json_object_new_string(err->message));
            mt_error_free(err);
        }
        json_object_array_add(results, res);
        json_object_put(args);
        json_object_put(r);
    }
    wsd_refresh(w, false);
    send_typed(w, c, "ed2k-added", "results", results);
    free(by_id);
}

void
wsd_handle(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    uint32_t need = needed_cap(a->kind);
    if (need != 0 && !(wsd_client_ident(c)->caps & need)) {
        wsd_send_error(w, c, "Insufficient permissions");
        return;
    }
    switch (a->kind) {
    case WSA_SNAPSHOT:
        wsd_snapshot_to(w, c);
        return;
    case WSA_GET_DOWNLOADS:
        if (!w->items_fresh)
            wsd_refresh(w, true);
    {
        ws_view_t v;
        wsd_client_view(c, &v);
        send_typed(w, c, "downloads-update", "data",
                   !ws_view_is_full(&v) ? ws_view_items(w->items, w->owners, &v)
                   : w->items != NULL   ? json_object_get(w->items)
                                        : json_object_new_array());
        return;
    }
    case WSA_GET_STATS:
        if (w->stats == NULL)
            wsd_refresh(w, true);
        send_typed(w, c, "stats-update", "data", json_object_get(w->stats));
        return;
    case WSA_GET_CATEGORIES: {
        wsd_refresh_categories(w);
        json_object *m = wsd_categories_message(w);
        wsd_send_json(w, c, m);
        json_object_put(m);
        return;
    }
    case WSA_PAUSE:
    case WSA_RESUME:
    case WSA_STOP:
    case WSA_DELETE:
    case WSA_SET_PRIORITY:
        do_batch(w, c, a);
        return;
    case WSA_ADD_LINKS:
        do_add(w, c, a);
        return;
    case WSA_CAT_CREATE:
    case WSA_CAT_UPDATE:
    case WSA_CAT_DELETE:
        wsd_handle_category(w, c, a);
        return;
    case WSA_SET_CATEGORY:
        wsd_handle_set_category(w, c, a);
        return;
    case WSA_SERVERS:
    case WSA_SERVER_ACTION:
    case WSA_SERVER_INFO:
    case WSA_LOG:
    case WSA_APP_LOG:
    case WSA_RENAME:
    case WSA_REFRESH_SHARED:
    case WSA_SEGMENTS:
    case WSA_GET_SHARED:
    case WSA_GET_UPLOADS:
    case WSA_STATS_TREE:
    case WSA_CHECK_DELETE:
    case WSA_MOVE:
    case WSA_CHECK_MOVE_TO:
    case WSA_CHECK_MOVE:
    case WSA_RATE:
        wsd_handle_admin(w, c, a);
        return;
    case WSA_SEARCH:
    case WSA_PREV_SEARCH:
    case WSA_DOWNLOAD:
        wsd_handle_search(w, c, a);
        return;
    }
}
