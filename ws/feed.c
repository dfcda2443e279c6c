/* feed.c: what muleteer-ws knows of the daemon (wsd.h). Daemon commands
 * go over one control-socket client of a worker thread (task.c: the
 * refreshes run as tasks, one at a time); the daemon's events arrive
 * on a second connection that sent `subscribe` (docs/control-protocol.md),
 * adopted into the loop. An event about downloads asks for a refresh
 * WSD_EVENT_DELAY_MS later (a burst makes one), and every WSD_CYCLE_MS a
 * refresh runs anyway while clients are connected: the downloads are
 * read again and what changed goes to every client as one numbered
 * batch-update (../shared/amutorrent-protocol.md §2.1). Nothing runs
 * while no client is connected. */
#include "config.h"

#include "ws/wsd.h"
#include "ws/delta.h"
#include "ws/item.h"
#include "db/db.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define EV_MAX_LINE (1024 * 1024)

/* --------------------------------------------------------- the stats */

/* kad_status: aMuTorrent's kad object from the daemon's kad-status
 * (state off, connecting, "connected (open)" or "connected (firewalled)":
 * yellow "Firewalled" as aMuTorrent shows it); red "Disconnected" without
 * it. */
static json_object *
kad_status(json_object *kad_in, bool daemon_up)
{
    json_object *kad = json_object_new_object(), *v = NULL;
    const char *state = daemon_up && kad_in != NULL && json_object_object_get_ex(kad_in, "state", &v)
                            ? json_object_get_string(v) : "off";
    bool up = strncmp(state, "connected", 9) == 0, trying = strcmp(state, "connecting") == 0;
    bool fw = up && strstr(state, "firewalled") != NULL;
    json_object_object_add(kad, "status", json_object_new_string(up && !fw ? "green" : up || trying ? "yellow" : "red"));
    json_object_object_add(kad, "text", json_object_new_string(fw ? "Firewalled" : up ? "Connected" : trying ? "Connecting" : "Disconnected"));
    json_object_object_add(kad, "connected", json_object_new_boolean(up));
    json_object_object_add(kad, "firewalledTcp", json_object_new_boolean(fw));
    return kad;
}

static json_object *
network_status(json_object *server, json_object *kad_in, bool daemon_up)
{
    json_object *ns = json_object_new_object(), *ed = json_object_new_object();
    json_object *v = NULL;
    const char *state = server != NULL && json_object_object_get_ex(server, "state", &v)
                            ? json_object_get_string(v) : "disconnected";
    bool up = daemon_up && strcmp(state, "connected") == 0;
    bool lowid = up && json_object_object_get_ex(server, "lowid", &v) && json_object_get_boolean(v);
    json_object_object_add(ed, "status", json_object_new_string(!up ? "red" : lowid ? "yellow" : "green"));
    json_object_object_add(ed, "text", json_object_new_string(!up ? "Disconnected" : lowid ? "Low ID" : "High ID"));
    json_object_object_add(ed, "connected", json_object_new_boolean(up));
    const char *name = up && json_object_object_get_ex(server, "name", &v) && v != NULL ? json_object_get_string(v) : NULL;
    json_object_object_add(ed, "serverName", name != NULL ? json_object_new_string(name) : NULL);
    json_object_object_add(ed, "serverPing", NULL);
    if (up) {
        json_object *h = NULL, *p = NULL;
        json_object_object_get_ex(server, "host", &h);
        json_object_object_get_ex(server, "port", &p);
        char *a = xasprintf("%s:%d", h != NULL ? json_object_get_string(h) : "", p != NULL ? json_object_get_int(p) : 0);
        json_object_object_add(ed, "serverAddress", json_object_new_string(a));
        free(a);
    } else {
        json_object_object_add(ed, "serverAddress", NULL);
    }
    json_object_object_add(ed, "listenPort", json_object_new_int64((int64_t)0));
    json_object_object_add(ns, "ed2k", ed);
    json_object_object_add(ns, "kad", kad_status(kad_in, daemon_up));
    return ns;
}

static json_object *
capabilities(void)
{
    static const char *const yes[] = { "search", "sharedFiles", "cancelDeletesFiles", "categories",
                                       "logs", "renameFile", "fileRatingComment" };
    static const char *const no[] = { "categoryChangeAutoMoves", "nativeMove", "trackers", "multiFile" };
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        json_object_object_add(o, yes[i], json_object_new_boolean(true));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        json_object_object_add(o, no[i], json_object_new_boolean(false));
    return o;
}

static json_object *
make_stats(wsd_t *w, json_object *server, json_object *kad)
{
    json_object *st = json_object_new_object(), *speeds = json_object_new_object();
    json_object *sp = json_object_new_object(), *insts = json_object_new_object(), *in = json_object_new_object();
    json_object_object_add(st, "prowlarrEnabled", json_object_new_boolean(false));
    json_object_object_add(sp, "uploadSpeed", json_object_new_int64((int64_t)w->up_rate));
    json_object_object_add(sp, "downloadSpeed", json_object_new_int64((int64_t)w->down_rate));
    json_object_object_add(speeds, w->instance_id, sp);
    json_object_object_add(st, "instanceSpeeds", speeds);
    json_object_object_add(in, "order", json_object_new_int(0));
    json_object_object_add(in, "type", json_object_new_string("amule"));
    json_object_object_add(in, "networkType", json_object_new_string("ed2k"));
    json_object_object_add(in, "name", json_object_new_string(w->instance_name));
    json_object_object_add(in, "connected", json_object_new_boolean(w->daemon_up));
    json_object_object_add(in, "color", NULL);
    json_object_object_add(in, "capabilities", capabilities());
    json_object_object_add(in, "networkStatus", network_status(server, kad, w->daemon_up));
    json_object_object_add(in, "error", w->daemon_up ? NULL : json_object_new_string("muleteerd is not running"));
    json_object_object_add(in, "errorTime", NULL);
    json_object_object_add(insts, w->instance_id, in);
    json_object_object_add(st, "instances", insts);
    return st;
}

/* ------------------------------------------------------ batch-update */

void
wsd_refresh_categories(wsd_t *w)
{
    json_object *r = NULL, *list = NULL;
    if (wsd_call(w, "categories", NULL, &r, NULL) != 0)
        return;
    if (json_object_object_get_ex(r, "categories", &list) && json_object_is_type(list, json_type_array)) {
        wsd_msg_unref(w->snap_msg); /* the snapshot names them */
        w->snap_msg = NULL;
        json_object_put(w->categories);
        w->categories = json_object_get(list);
        w->categories_dirty = false;
    }
    json_object_put(r);
}

json_object *
wsd_categories_message(wsd_t *w)
{
    json_object *o = json_object_new_object(), *paths = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("categories-update"));
    json_object_object_add(o, "data", ws_category_list(w->categories));
    json_object_object_add(paths, w->instance_id,
                           json_object_new_string(conf_get_str(w->conf, "incoming_dir")));
    json_object_object_add(o, "clientDefaultPaths", paths);
    json_object_object_add(o, "hasPathWarnings", json_object_new_boolean(false));
    return o;
}

/* load_ratings: file_ratings of this node, hash -> {comment, rating};
 * the last ones known stay while PostgreSQL is away */
static void
load_ratings(wsd_t *w)
{
    const char *p[] = { conf_get_str(w->conf, "node_name") };
    PGresult *r = wsd_db_query(w, "SELECT hash, comment, rating FROM file_ratings WHERE node = $1", 1, p, NULL);
    if (r == NULL)
        return;
    json_object *map = json_object_new_object();
    for (int i = 0; i < PQntuples(r); i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "comment", json_object_new_string(PQgetvalue(r, i, 1)));
        json_object_object_add(o, "rating", json_object_new_int(atoi(PQgetvalue(r, i, 2))));
        json_object_object_add(map, PQgetvalue(r, i, 0), o);
    }
    PQclear(r);
    json_object_put(w->ratings);
    w->ratings = map;
}

/* the comment and rating of each item that has some */
static void
apply_ratings(wsd_t *w, json_object *items)
{
    if (w->ratings == NULL || items == NULL)
        return;
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        json_object *it = json_object_array_get_idx(items, i), *h = NULL, *r = NULL, *v = NULL;
        if (!json_object_object_get_ex(it, "hash", &h) ||
            !json_object_object_get_ex(w->ratings, json_object_get_string(h), &r))
            continue;
        json_object_object_get_ex(r, "comment", &v);
        json_object_object_add(it, "comment", json_object_get(v));
        json_object_object_get_ex(r, "rating", &v);
        json_object_object_add(it, "rating", json_object_get(v));
    }
}

/* ------------------------------------------------------- the owners */

static void
set_owner(json_object **map, const char *hash, const char *user)
{
    if (*map == NULL)
        *map = json_object_new_object();
    json_object_object_add(*map, hash, json_object_new_string(user != NULL ? user : ""));
}

void
wsd_note_owner(wsd_t *w, const char *hash, const char *user)
{
    set_owner(&w->owners, hash, user);
    set_owner(&w->owners_noted, hash, user); /* the database's row may still be an older one's */
}

/* load_owners: who added each download of this node (downloads.added_by,
 * written by the daemon), over those already known, except those added
 * here until their row agrees; a download added elsewhere is nobody's
 * until its row is there, and owners_gained tells the refresh that a
 * client limited to its own may now see more (or less). */
static void
load_owners(wsd_t *w)
{
    const char *p[] = { conf_get_str(w->conf, "node_name") };
    PGresult *r = wsd_db_query(w, "SELECT hash, coalesce(added_by, '') FROM downloads WHERE node = $1", 1, p,
                               NULL);
    if (r == NULL)
        return;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *h = PQgetvalue(r, i, 0), *by = PQgetvalue(r, i, 1);
        const char *noted = ws_owner_of(w->owners_noted, h), *known = ws_owner_of(w->owners, h);
        if (noted != NULL) {
            if (strcmp(noted, by) == 0)
                json_object_object_del(w->owners_noted, h); /* the row caught up */
            continue;
        }
        if (known != NULL && strcmp(known, by) == 0)
            continue;
        set_owner(&w->owners, h, by); /* new, or the same file added again by another */
        w->owners_gained = true;
    }
    PQclear(r);
}

const char *
wsd_may_edit(wsd_t *w, wsd_client_t *c, const char *hash)
{
    ws_view_t v;
    wsd_client_view(c, &v);
    if (v.edit_owner == NULL)
        return NULL;
    if (v.view_owner != NULL && !ws_view_sees(&v, w->owners, hash))
        return "no such download";
    return ws_view_edits(&v, w->owners, hash) ? NULL : "Permission denied";
}

/* read: the items and stats now, from the daemon. false when it is away
 * (the stats say so; the items stay what they were). */
static bool
read_daemon(wsd_t *w, json_object **items, json_object **stats)
{
    json_object *dls = NULL, *server = NULL, *kad = NULL;
    if (w->categories == NULL || w->categories_dirty)
        wsd_refresh_categories(w);
    w->daemon_up = wsd_call(w, "downloads", NULL, &dls, NULL) == 0;
    if (w->daemon_up) {
        wsd_call(w, "server", NULL, &server, NULL);
        wsd_call(w, "kad-status", NULL, &kad, NULL); /* unavailable: Kad off */
    }
    *stats = make_stats(w, server, kad);
    *items = w->daemon_up ? ws_items_from_downloads(dls, w->instance_id, w->categories) : NULL;
    load_ratings(w);
    apply_ratings(w, *items);
    load_owners(w);
    json_object_put(dls);
    json_object_put(server);
    json_object_put(kad);
    return w->daemon_up;
}

static json_object *
snapshot_message(wsd_t *w, bool with_seq)
{
    json_object *o = json_object_new_object(), *data = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("batch-update"));
    json_object_object_add(data, "stats", json_object_get(w->stats));
    json_object_object_add(data, "items", w->items != NULL ? json_object_get(w->items) : json_object_new_array());
    if (with_seq)
        json_object_object_add(data, "seq", json_object_new_int64((int64_t)w->seq));
    json_object_object_add(data, "categories", ws_category_list(w->categories));
    json_object_object_add(o, "data", data);
    return o;
}

/* ------------------------------------------------------ segment data */

static bool
listed(json_object *hashes, const char *h)
{
    if (hashes == NULL)
        return true;
    for (size_t i = 0; i < json_object_array_length(hashes); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(hashes, i)), h) == 0)
            return true;
    return false;
}

void
wsd_send_segments(wsd_t *w, wsd_client_t *c, json_object *hashes)
{
    json_object *changed = json_object_new_array();
    /* held: a refresh may replace w->items during a daemon call */
    json_object *items = json_object_get(w->items);
    size_t n = items != NULL ? json_object_array_length(items) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i), *h = NULL, *dl = NULL, *sz = NULL;
        json_object_object_get_ex(it, "hash", &h);
        json_object_object_get_ex(it, "downloading", &dl);
        json_object_object_get_ex(it, "size", &sz);
        if (!json_object_get_boolean(dl) || !listed(hashes, json_object_get_string(h)))
            continue;
        json_object *args = json_object_new_object(), *r = NULL, *states = NULL;
        json_object_object_add(args, "hash", json_object_get(h));
        if (wsd_call(w, "parts", args, &r, NULL) == 0 && json_object_object_get_ex(r, "states", &states)) {
            uint64_t size = (uint64_t)json_object_get_int64(sz);
            json_object *p = json_object_new_object(), *gaps = NULL, *req = NULL;
            json_object_object_add(p, "hash", json_object_get(h));
            json_object_object_add(p, "instanceId", json_object_new_string(w->instance_id));
            json_object_object_add(p, "gapStatus", json_object_object_get_ex(r, "gaps", &gaps)
                                                       ? ws_range_status(gaps, size)
                                                       : ws_gap_status(states, size));
            json_object_object_add(p, "reqStatus", json_object_object_get_ex(r, "requested", &req)
                                                       ? ws_range_status(req, size) : NULL);
            json_object_array_add(changed, p);
        }
        json_object_put(args);
        json_object_put(r);
    }
    json_object_put(items);
    json_object *o = json_object_new_object(), *data = json_object_new_object(), *delta = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("batch-update"));
    json_object_object_add(delta, "added", json_object_new_array());
    json_object_object_add(delta, "removed", json_object_new_array());
    json_object_object_add(delta, "changed", changed);
    json_object_object_add(data, "delta", delta); /* no seq: a supplement */
    json_object_object_add(o, "data", data);
    if (c != NULL)
        wsd_send_items_json(w, c, o);
    else if (json_object_array_length(changed) > 0)
        wsd_broadcast_items_json(w, o, NULL, true);
    json_object_put(o);
}

/* the downloads whose data or status changed in d: their segments are
 * sent again (a paused one asks for nothing any more) */
static void
segments_after(wsd_t *w, const ws_delta_t *d)
{
    json_object *hashes = json_object_new_array(), *h = NULL;
    for (size_t i = 0; i < json_object_array_length(d->changed); i++) {
        json_object *p = json_object_array_get_idx(d->changed, i);
        if ((json_object_object_get_ex(p, "sizeDownloaded", NULL) || json_object_object_get_ex(p, "status", NULL)) &&
            json_object_object_get_ex(p, "hash", &h))
            json_object_array_add(hashes, json_object_get(h));
    }
    for (size_t i = 0; i < json_object_array_length(d->added); i++)
        if (json_object_object_get_ex(json_object_array_get_idx(d->added, i), "hash", &h))
            json_object_array_add(hashes, json_object_get(h));
    if (json_object_array_length(hashes) > 0)
        wsd_send_segments(w, NULL, hashes);
    json_object_put(hashes);
}

static void refresh_locked(wsd_t *w, bool force_snapshot);

void
wsd_refresh(wsd_t *w, bool force_snapshot)
{
    wsd_lock(w, &w->refresh_lock);
    refresh_locked(w, force_snapshot);
    wsd_unlock(w, &w->refresh_lock);
}

static void
refresh_locked(wsd_t *w, bool force_snapshot)
{
    json_object *items = NULL, *stats = NULL;
    read_daemon(w, &items, &stats);
    json_object_put(w->stats);
    w->stats = stats;
    if (items == NULL)
        items = w->items != NULL ? json_object_get(w->items) : json_object_new_array();
    ws_delta_t d;
    ws_delta_compute(w->items, items, &d);
    bool snapshot = force_snapshot || !w->items_fresh || d.snapshot;
    json_object_put(w->shared_only);
    w->shared_only = ws_shared_only(w->items, items);
    json_object_put(w->items);
    w->items = items;
    w->items_fresh = true;
    w->seq++;
    json_object *o;
    if (snapshot) {
        o = snapshot_message(w, true);
    } else {
        json_object *data = json_object_new_object(), *delta = json_object_new_object();
        o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("batch-update"));
        json_object_object_add(delta, "seq", json_object_new_int64((int64_t)w->seq));
        json_object_object_add(delta, "added", json_object_get(d.added));
        json_object_object_add(delta, "removed", json_object_get(d.removed));
        json_object_object_add(delta, "changed", json_object_get(d.changed));
        json_object_object_add(data, "stats", json_object_get(w->stats));
        json_object_object_add(data, "delta", delta);
        json_object_object_add(o, "data", data);
    }
    /* a download whose owner became known: the clients limited to their
     * own get a snapshot, which adds it for its owner */
    json_object *partial = !snapshot && w->owners_gained ? snapshot_message(w, true) : NULL;
    w->owners_gained = false;
    wsd_broadcast_items_json(w, o, partial, false);
    json_object_put(partial);
    json_object_put(o);
    if (wsd_segment_clients(w) > 0)
        segments_after(w, &d);
    ws_delta_clear(&d);
}

void
wsd_snapshot_to(wsd_t *w, wsd_client_t *c)
{
    if (!w->items_fresh) {
        /* the first client: read the daemon; the snapshot goes to every
         * client, this one included */
        wsd_refresh(w, true);
        return;
    }
    ws_view_t v;
    wsd_client_view(c, &v);
    if (!ws_view_is_full(&v)) {
        json_object *o = snapshot_message(w, true);
        wsd_send_items_json(w, c, o);
        json_object_put(o);
        return;
    }
    /* one text for every client that asks during this seq */
    if (w->snap_msg == NULL || w->snap_seq != w->seq) {
        json_object *o = snapshot_message(w, true);
        wsd_msg_unref(w->snap_msg);
        w->snap_msg = wsd_msg_from_json(o);
        w->snap_seq = w->seq;
        json_object_put(o);
    }
    wsd_send_msg(w, c, w->snap_msg);
}

static void
cycle_task(wsd_t *w, void *arg)
{
    (void)arg;
    wsd_refresh(w, false);
    w->cycle_busy = false;
}

static void
on_cycle(lws_sorted_usec_list_t *sul)
{
    wsd_t *w = lws_container_of(sul, wsd_t, sul_cycle);
    if (wsd_ready_clients(w) == 0) {
        w->items_fresh = false; /* nobody listens: the next one starts afresh */
    } else if (!w->cycle_busy) {
        /* a refresh still under way (a slow daemon) makes this one */
        w->cycle_busy = true;
        if (wsd_task_spawn(w, cycle_task, NULL, false) != 0)
            w->cycle_busy = false;
    }
    lws_sul_schedule(w->lws, 0, &w->sul_cycle, on_cycle, (lws_usec_t)WSD_CYCLE_MS * 1000);
}

static void
event_task(wsd_t *w, void *arg)
{
    (void)arg;
    if (w->categories_dirty) {
        wsd_refresh_categories(w);
        json_object *m = wsd_categories_message(w);
        wsd_broadcast_json(w, m);
        json_object_put(m);
    }
    wsd_refresh(w, false);
    w->event_busy = false;
}

static void
on_event_due(lws_sorted_usec_list_t *sul)
{
    wsd_t *w = lws_container_of(sul, wsd_t, sul_event);
    w->event_pending = false;
    if (wsd_ready_clients(w) == 0 || !w->items_fresh)
        return;
    if (w->event_busy) {
        /* the last one's refresh is under way: this one after it */
        w->event_pending = true;
        lws_sul_schedule(w->lws, 0, &w->sul_event, on_event_due, (lws_usec_t)WSD_EVENT_DELAY_MS * 1000);
        return;
    }
    w->event_busy = true;
    if (wsd_task_spawn(w, event_task, NULL, false) != 0)
        w->event_busy = false;
}

/* ------------------------------------------------------ event stream */

static const char *const wanted_events[] = {
    "dl_added", "dl_state", "dl_progress", "dl_completed", "dl_failed", "dl_deleted",
    "fin_sharing", "src_found", "src_lost", "srv_connected", "srv_lost", "cat_added",
    "cat_changed", "cat_removed", "tick", "search_result", "search_ended",
};

static void
on_event_line(wsd_t *w, const char *line, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, line, (int)len), *ev = NULL, *data = NULL;
    json_tokener_free(tok);
    if (o == NULL || !json_object_object_get_ex(o, "event", &ev)) {
        json_object_put(o); /* the reply to `subscribe` */
        return;
    }
    const char *name = json_object_get_string(ev);
    json_object_object_get_ex(o, "data", &data);
    if (strcmp(name, "tick") == 0) {
        json_object *v = NULL;
        if (json_object_object_get_ex(data, "down_rate", &v))
            w->down_rate = (uint64_t)json_object_get_int64(v);
        if (json_object_object_get_ex(data, "up_rate", &v))
            w->up_rate = (uint64_t)json_object_get_int64(v);
        if (json_object_object_get_ex(data, "down_total", &v))
            w->down_total = (uint64_t)json_object_get_int64(v);
        if (json_object_object_get_ex(data, "up_total", &v))
            w->up_total = (uint64_t)json_object_get_int64(v);
        json_object_put(o);
        return;
    }
    if (strcmp(name, "search_ended") == 0 || strcmp(name, "search_result") == 0) {
        json_object *v = NULL;
        if (json_object_object_get_ex(data, "id", &v)) {
            if (strcmp(name, "search_ended") == 0)
                wsd_search_ended(w, json_object_get_int64(v));
            else
                wsd_search_result(w, json_object_get_int64(v));
        }
        json_object_put(o);
        return;
    }
    if (strncmp(name, "cat_", 4) == 0)
        w->categories_dirty = true;
    if (!w->event_pending) {
        w->event_pending = true;
        lws_sul_schedule(w->lws, 0, &w->sul_event, on_event_due, (lws_usec_t)WSD_EVENT_DELAY_MS * 1000);
    }
    json_object_put(o);
}

static void on_events_retry(lws_sorted_usec_list_t *sul);

static void
events_lost(wsd_t *w)
{
    w->events = NULL;
    w->ev_len = 0;
    w->daemon_up = false;
    w->categories_dirty = true;
    lws_sul_schedule(w->lws, 0, &w->sul_events_retry, on_events_retry, LWS_US_PER_SEC);
}

int
wsd_events_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    wsd_t *w = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return -1; /* not a WebSocket protocol: nobody upgrades to it */
    case LWS_CALLBACK_RAW_RX_FILE: {
        char buf[65536];
        ssize_t n = read(lws_get_socket_fd(wsi), buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return -1;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                on_event_line(w, w->ev_buf, w->ev_len);
                w->ev_len = 0;
            } else if (w->ev_len < EV_MAX_LINE) {
                w->ev_buf[w->ev_len++] = buf[i];
            }
        }
        return 0;
    }
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (w->events == wsi && !w->stopping) {
            log_warn("ws: the daemon's event stream closed; connecting again");
            events_lost(w);
        }
        return 0;
    default:
        return 0;
    }
}

/* connect_events: a new control connection that subscribes */
static int
connect_events(wsd_t *w)
{
    const char *path = conf_get_str(w->conf, "control_socket");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    json_object *req = json_object_new_object(), *args = json_object_new_object(), *evs = json_object_new_array();
    for (size_t i = 0; i < sizeof wanted_events / sizeof wanted_events[0]; i++)
        json_object_array_add(evs, json_object_new_string(wanted_events[i]));
    json_object_object_add(args, "events", evs);
    json_object_object_add(req, "id", json_object_new_int(1));
    json_object_object_add(req, "cmd", json_object_new_string("subscribe"));
    json_object_object_add(req, "args", args);
    char *line = xasprintf("%s\n", json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
    json_object_put(req);
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
              write(fd, line, strlen(line)) == (ssize_t)strlen(line);
    free(line);
    if (!ok || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    lws_sock_file_fd_type u;
    u.filefd = fd;
    w->events = lws_adopt_descriptor_vhost(w->vhost, LWS_ADOPT_RAW_FILE_DESC, u,
                                           "muleteer-daemon-events", NULL);
    if (w->events == NULL) {
        close(fd);
        return -1;
    }
    return 0;
}

static void
on_events_retry(lws_sorted_usec_list_t *sul)
{
    wsd_t *w = lws_container_of(sul, wsd_t, sul_events_retry);
    if (connect_events(w) != 0) {
        lws_sul_schedule(w->lws, 0, &w->sul_events_retry, on_events_retry, LWS_US_PER_SEC);
        return;
    }
    log_info("ws: subscribed to the daemon's events");
    /* whatever happened meanwhile: a snapshot at the next refresh */
    w->items_fresh = false;
}

void
wsd_feed_start(wsd_t *w)
{
    w->ev_buf = xmalloc(EV_MAX_LINE);
    on_events_retry(&w->sul_events_retry);
    lws_sul_schedule(w->lws, 0, &w->sul_cycle, on_cycle, (lws_usec_t)WSD_CYCLE_MS * 1000);
}

void
wsd_feed_stop(wsd_t *w)
{
    ctl_client_free(w->ctl);
    w->ctl = NULL;
    json_object_put(w->items);
    json_object_put(w->categories);
    json_object_put(w->ratings);
    json_object_put(w->owners);
    json_object_put(w->owners_noted);
    json_object_put(w->shared_only);
    json_object_put(w->stats);
    wsd_msg_unref(w->snap_msg);
    w->snap_msg = NULL;
    free(w->ev_buf);
}
