/* search.c: searches for muleteer-ws (wsd.h). One search at a time, as
 * aMuTorrent runs them: `search` starts the daemon's search and
 * broadcasts search-lock true. As the daemon's search_result events come
 * (a server's page, a UDP answer), the results so far go to every client
 * allowed to search as search-results, at most every WSD_SEARCH_PUSH_MS
 * and when they changed, each one the whole list so far (aMuTorrent's UI replaces its list with
 * each); when the search_ended event arrives (or after WSD_SEARCH_MAX_S)
 * the final search-results, then search-lock false. The last results are
 * kept for getPreviousSearchResults and for downloading from them
 * (batchDownloadSearchResults, the older `download`). */
#include "config.h"

#include "ws/wsd.h"
#include "webauth/caps.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static json_object *
typed(const char *type)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(type));
    return o;
}

static void
broadcast_lock(wsd_t *w, bool locked)
{
    json_object *o = typed("search-lock");
    json_object_object_add(o, "locked", json_object_new_boolean(locked));
    wsd_broadcast_cap_json(w, o, WEBAUTH_CAP_SEARCH);
    json_object_put(o);
}

static int
by_sources(const void *a, const void *b)
{
    json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b, *vx = NULL, *vy = NULL;
    json_object_object_get_ex(x, "sourceCount", &vx);
    json_object_object_get_ex(y, "sourceCount", &vy);
    int64_t sx = json_object_get_int64(vx), sy = json_object_get_int64(vy);
    return sx < sy ? 1 : sx > sy ? -1 : 0;
}

/* the daemon's results as aMuTorrent's SearchResult, most sources first */
static json_object *
results_of(json_object *answer)
{
    json_object *list = NULL, *out = json_object_new_array();
    if (!json_object_object_get_ex(answer, "results", &list) || !json_object_is_type(list, json_type_array))
        return out;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *r = json_object_array_get_idx(list, i), *o = json_object_new_object(), *v = NULL;
        const char *name = json_object_object_get_ex(r, "name", &v) ? json_object_get_string(v) : "";
        json_object_object_get_ex(r, "hash", &v);
        json_object_object_add(o, "fileHash", json_object_get(v));
        json_object_object_add(o, "fileName", json_object_new_string(name));
        json_object_object_add(o, "rawFileName", json_object_new_string(name));
        json_object_object_get_ex(r, "size", &v);
        json_object_object_add(o, "fileSize", json_object_get(v));
        json_object_object_get_ex(r, "sources", &v);
        json_object_object_add(o, "sourceCount", json_object_get(v));
        json_object_object_get_ex(r, "complete_sources", &v);
        json_object_object_add(o, "sourceCountXfer", json_object_get(v));
        json_object_object_add(o, "status", json_object_new_int(0));
        /* Muleteer's own member: where it was found (server, udp, kad) */
        if (json_object_object_get_ex(r, "origins", &v))
            json_object_object_add(o, "origins", json_object_get(v));
        json_object_array_add(out, o);
    }
    json_object_array_sort(out, by_sources);
    return out;
}

/* the daemon's results of search id so far (a new array; empty when the
 * daemon cannot say) */
static json_object *
fetch_results(wsd_t *w, int64_t id)
{
    json_object *args = json_object_new_object(), *r = NULL;
    json_object_object_add(args, "id", json_object_new_int64(id));
    json_object_object_add(args, "limit", json_object_new_int(5000));
    mt_error_t *err = NULL;
    if (wsd_call(w, "search-results", args, &r, &err) != 0) {
        log_warn("ws: the results of search %lld: %s", (long long)id, err->message);
        mt_error_free(err);
    }
    json_object_put(args);
    json_object *list = results_of(r);
    json_object_put(r);
    return list;
}

static void
broadcast_results(wsd_t *w)
{
    json_object *o = typed("search-results");
    json_object_object_add(o, "data", json_object_get(w->search_results));
    json_object_object_add(o, "instanceId", json_object_new_string(w->instance_id));
    wsd_broadcast_cap_json(w, o, WEBAUTH_CAP_SEARCH);
    json_object_put(o);
}

/* finish: the final results and the unlock (in a task); search id ends
 * once, whichever of its end event and its time limit comes first */
static void
finish(wsd_t *w, int64_t id)
{
    if (id < 0 || id != w->search_id)
        return;
    lws_sul_cancel(&w->sul_search);
    lws_sul_cancel(&w->sul_search_push);
    w->search_push_due = false;
    w->search_id = -1;
    w->search_starting = true; /* no new search before this one's unlock */
    json_object *list = fetch_results(w, id);
    w->search_starting = false;
    json_object_put(w->search_results);
    w->search_results = list;
    broadcast_results(w);
    broadcast_lock(w, false);
}

static void
finish_task(wsd_t *w, void *arg)
{
    finish(w, (int64_t)(intptr_t)arg);
}

static void
on_search_timeout(lws_sorted_usec_list_t *sul)
{
    wsd_t *w = lws_container_of(sul, wsd_t, sul_search);
    wsd_task_spawn(w, finish_task, (void *)(intptr_t)w->search_id, false);
}

void
wsd_search_ended(wsd_t *w, int64_t id)
{
    if (id >= 0 && id == w->search_id)
        wsd_task_spawn(w, finish_task, (void *)(intptr_t)id, false);
}

/* push_task: the results of the search under way so far, to every client
 * allowed to search, when they differ from the last push (more results,
 * or another server's counts added) */
static void
push_task(wsd_t *w, void *arg)
{
    int64_t id = (int64_t)(intptr_t)arg;
    if (id != w->search_id)
        return;
    json_object *list = fetch_results(w, id);
    size_t n = json_object_array_length(list);
    if (id != w->search_id || n == 0 || (w->search_pushed > 0 && json_object_equal(list, w->search_results))) {
        json_object_put(list); /* ended meanwhile (its final push is made), or nothing new */
        return;
    }
    w->search_pushed = n;
    json_object_put(w->search_results);
    w->search_results = list;
    broadcast_results(w);
}

static void
on_search_push(lws_sorted_usec_list_t *sul)
{
    wsd_t *w = lws_container_of(sul, wsd_t, sul_search_push);
    w->search_push_due = false;
    if (w->search_id >= 0)
        wsd_task_spawn(w, push_task, (void *)(intptr_t)w->search_id, false);
}

static void
push_soon(wsd_t *w)
{
    if (w->search_push_due)
        return;
    w->search_push_due = true;
    lws_sul_schedule(w->lws, 0, &w->sul_search_push, on_search_push, (lws_usec_t)WSD_SEARCH_PUSH_MS * 1000);
}

void
wsd_search_result(wsd_t *w, int64_t id)
{
    if (id >= 0 && id == w->search_id)
        push_soon(w);
}

static void
start(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    if (w->search_id >= 0 || w->search_starting) {
        wsd_send_error(w, c, "A search is already in progress");
        return;
    }
    json_object *args = json_object_new_object(), *r = NULL, *v = NULL;
    json_object_object_add(args, "query", json_object_new_string(a->query));
    json_object_object_add(args, "scope", json_object_new_string(a->local ? "local" : "global"));
    mt_error_t *err = NULL;
    w->search_starting = true; /* another client's search waits for this one's id */
    int rc = wsd_call(w, "search", args, &r, &err);
    w->search_starting = false;
    json_object_put(args);
    if (rc != 0) {
        /* as aMuTorrent: the error, then search-lock false, which is what
         * ends the asking UI's "Searching..." (it locks itself on send) */
        char msg[512];
        snprintf(msg, sizeof msg, "Search failed: %s", err->message);
        wsd_send_error(w, c, msg);
        mt_error_free(err);
        broadcast_lock(w, false);
        return;
    }
    json_object_object_get_ex(r, "id", &v);
    w->search_id = json_object_get_int64(v);
    w->search_pushed = 0;
    bool running = json_object_object_get_ex(r, "state", &v) && strcmp(json_object_get_string(v), "running") == 0;
    json_object_put(r);
    broadcast_lock(w, true);
    if (!running) {
        finish(w, w->search_id); /* an identical search that already ended */
        return;
    }
    lws_sul_schedule(w->lws, 0, &w->sul_search, on_search_timeout, (lws_usec_t)WSD_SEARCH_MAX_S * LWS_US_PER_SEC);
    /* results the daemon had before it answered (their events came first) */
    push_soon(w);
}

/* one search result as an ed2k link ('|' cannot be in a link's name) */
static char *
link_of(wsd_t *w, const char *hash)
{
    size_t n = w->search_results != NULL ? json_object_array_length(w->search_results) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(w->search_results, i), *h = NULL, *nm = NULL, *sz = NULL;
        if (!json_object_object_get_ex(r, "fileHash", &h) || strcasecmp(json_object_get_string(h), hash) != 0)
            continue;
        json_object_object_get_ex(r, "fileName", &nm);
        json_object_object_get_ex(r, "fileSize", &sz);
        char *name = xstrdup(json_object_get_string(nm));
        for (char *p = name; *p != '\0'; p++)
            if (*p == '|')
                *p = '_';
        char *link = xasprintf("ed2k://|file|%s|%lld|%s|/", name, (long long)json_object_get_int64(sz), hash);
        free(name);
        return link;
    }
    return NULL;
}

static void
download(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    json_object *results = json_object_new_array();
    size_t ok = 0;
    char *first_error = NULL;
    for (size_t i = 0; i < a->n_hashes; i++) {
        json_object *res = json_object_new_object();
        char *link = link_of(w, a->hashes[i]);
        mt_error_t *err = NULL;
        int rc = -1;
        if (link == NULL) {
            mt_error_set(&err, MT_ERR_NOT_FOUND, "not among the last search's results");
        } else {
            json_object *args = json_object_new_object(), *r = NULL;
            json_object_object_add(args, "link", json_object_new_string(link));
            if (a->category != NULL)
                json_object_object_add(args, "category", json_object_new_string(a->category));
            json_object_object_add(args, "added_via", json_object_new_string("websocket"));
            /* copied: a session check may renew c's identity during the call */
            char *user = xstrdup(wsd_client_ident(c)->user != NULL ? wsd_client_ident(c)->user : "");
            json_object_object_add(args, "added_by", json_object_new_string(user));
            rc = wsd_call(w, "add", args, &r, &err);
            if (rc == 0)
                wsd_note_owner(w, a->hashes[i], user);
            free(user);
            json_object_put(args);
            json_object_put(r);
        }
        json_object_object_add(res, "fileHash", json_object_new_string(a->hashes[i]));
        json_object_object_add(res, "success", json_object_new_boolean(rc == 0));
        if (rc != 0) {
            json_object_object_add(res, "error", json_object_new_string(err->message));
            if (first_error == NULL)
                first_error = xstrdup(err->message);
        } else {
            ok++;
        }
        mt_error_free(err);
        free(link);
        json_object_array_add(results, res);
    }
    wsd_refresh(w, false);
    if (a->legacy) {
        if (first_error != NULL)
            wsd_send_error(w, c, first_error);
        else {
            json_object *o = typed("success");
            json_object_object_add(o, "message", json_object_new_string("Download started"));
            wsd_send_json(w, c, o);
            json_object_put(o);
        }
        json_object_put(results);
    } else {
        json_object *o = typed("batch-download-complete");
        char *msg = xasprintf("%zu of %zu downloads started", ok, a->n_hashes);
        json_object_object_add(o, "results", results);
        json_object_object_add(o, "message", json_object_new_string(msg));
        free(msg);
        wsd_send_json(w, c, o);
        json_object_put(o);
    }
    free(first_error);
}

void
wsd_handle_search(wsd_t *w, wsd_client_t *c, const ws_action_t *a)
{
    if (a->kind == WSA_SEARCH) {
        start(w, c, a);
    } else if (a->kind == WSA_PREV_SEARCH) {
        json_object *o = typed("previous-search-results");
        json_object_object_add(o, "data", w->search_results != NULL ? json_object_get(w->search_results)
                                                                    : json_object_new_array());
        json_object_object_add(o, "instanceId", json_object_new_string(w->instance_id));
        wsd_send_json(w, c, o);
        json_object_put(o);
    } else {
        download(w, c, a);
    }
}

void
wsd_search_free(wsd_t *w)
{
    json_object_put(w->search_results);
    w->search_results = NULL;
}
