/* dbsync.c: the downloads table and the transfer samples. Each second the
 * rows of downloads and finished downloads whose state changed go to the
 * database worker in one multi-row upsert; after the database comes back,
 * every row is written again and rows of downloads the daemon no longer
 * has (active or finished) are deleted. A
 * sample every sample_interval seconds carries the bytes moved since the
 * last one; PostgreSQL adds them to the node's last totals, so totals
 * never go backwards, across restarts and crashes too. */
#include "config.h"

#include "daemon/transfer/dbsync.h"
#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/net/peer.h"
#include "daemon/store/db_worker.h"
#include "daemon/store/download_tables.h"
#include "daemon/transfer/category.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/finished.h"
#include "daemon/transfer/partfile.h"
#include "daemon/transfer/shared.h"
#include "daemon/transfer/upload.h"
#include "ed2k/hash.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <event2/buffer.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dbsync {
    muleteerd_t *d;
    json_object *sent;        /* hex -> the row last handed to the worker */
    json_object *ul_prev;     /* hex -> [uploaded bytes, monotonic ms] a second ago */
    json_object *ul_speed;    /* hex -> bytes/s computed then */
    bool was_connected;
    bool need_full;
    int64_t last_sample_ms;   /* monotonic */
    int64_t next_prune_ms;    /* monotonic */
    uint64_t shared_gen;      /* shared files' generation last written */
    uint64_t shared_stats;    /* their upload statistics last written */
    int64_t next_shared_ms;   /* at most every 5 s */
    uint64_t last_down, last_up;
};

/* ----------------------------------------------------------- the rows */

/* db_state: the downloads.state value for the state the control socket
 * shows. */
static const char *
db_state(const char *s)
{
    static const char *const ok[] = { "queued", "downloading", "stalled", "paused", "stopped",
                                      "checking", "moving", "completed", "error", "missing" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(s, ok[i]) == 0)
            return ok[i];
    return "stalled";
}

static int64_t
jnum(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) && v != NULL ? json_object_get_int64(v) : 0;
}

static const char *
jstr(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) && v != NULL ? json_object_get_string(v) : NULL;
}

static json_object *
opt_str(const char *s)
{
    return s != NULL ? json_object_new_string(s) : NULL;
}

/* ul_speed: a file's upload speed, the growth of its upload count up
 * since the last tick (the last value when asked again within a second). */
static int64_t
ul_speed_of(dbsync_t *s, const char *hex, uint64_t up)
{
    int64_t now_ms = clock_mono_ms(), ul_speed = 0;
    json_object *prev = NULL;
    if (json_object_object_get_ex(s->ul_prev, hex, &prev)) {
        int64_t pb = json_object_get_int64(json_object_array_get_idx(prev, 0));
        int64_t pt = json_object_get_int64(json_object_array_get_idx(prev, 1));
        if (now_ms > pt && (int64_t)up >= pb)
            ul_speed = ((int64_t)up - pb) * 1000 / (now_ms - pt);
        if (now_ms - pt < 900)
            ul_speed = -1; /* too soon: keep the last value (below) */
    }
    if (ul_speed >= 0) {
        json_object *cur = json_object_new_array();
        json_object_array_add(cur, json_object_new_int64((int64_t)up));
        json_object_array_add(cur, json_object_new_int64(now_ms));
        json_object_object_add(s->ul_prev, hex, cur);
        json_object_object_add(s->ul_speed, hex, json_object_new_int64(ul_speed));
    }
    json_object *last_speed = NULL;
    json_object_object_get_ex(s->ul_speed, hex, &last_speed);
    return last_speed != NULL ? json_object_get_int64(last_speed) : 0;
}

/* add_attrs: the columns of dlattr.h and last_activity (0: never). */
static void
add_attrs(json_object *r, const dla_tags_t *tags, double ratio_limit, int seeding_time_limit,
          bool force_start, time_t last_activity, int64_t dl_limit, int64_t up_limit)
{
    json_object_object_add(r, "dl_limit", json_object_new_int64(dl_limit));
    json_object_object_add(r, "up_limit", json_object_new_int64(up_limit));
    json_object_object_add(r, "tags", dla_tags_to_json(tags));
    json_object_object_add(r, "ratio_limit", json_object_new_double(ratio_limit));
    json_object_object_add(r, "seeding_time_limit", json_object_new_int(seeding_time_limit));
    json_object_object_add(r, "force_start", json_object_new_boolean(force_start));
    json_object_object_add(r, "last_activity", json_object_new_int64((int64_t)last_activity));
}

/* row_of: the downloads row of a download (without node and updated_at). */
static json_object *
row_of(dbsync_t *s, const download_t *dl)
{
    json_object *j = dl_to_json(dl);
    partfile_t *pf = dl_partfile(dl);
    json_object *src = NULL;
    json_object_object_get_ex(j, "sources", &src);
    const char *incoming = pf_save_path(pf) != NULL ? pf_save_path(pf)
                                                    : cat_incoming(s->d->categories, pf_category(pf));
    json_object *r = json_object_new_object();
    json_object_object_add(r, "hash", json_object_new_string(jstr(j, "hash")));
    json_object_object_add(r, "name", json_object_new_string(pf_name(pf)));
    json_object_object_add(r, "size", json_object_new_int64((int64_t)pf_size(pf)));
    json_object_object_add(r, "category", opt_str(pf_category(pf)));
    json_object_object_add(r, "priority", json_object_new_int(pf_priority(pf)));
    json_object_object_add(r, "state", json_object_new_string(db_state(jstr(j, "state"))));
    json_object_object_add(r, "done_bytes", json_object_new_int64(jnum(j, "done")));
    json_object_object_add(r, "verified_bytes", json_object_new_int64(jnum(j, "verified")));
    json_object_object_add(r, "dl_speed", json_object_new_int64(jnum(j, "rate")));
    uint64_t up = pf_uploaded_bytes(pf);
    json_object_object_add(r, "uploaded_bytes", json_object_new_int64((int64_t)up));
    json_object_object_add(r, "ul_speed",
                           json_object_new_int64(ul_speed_of(s, jstr(j, "hash"), up)));
    json_object_object_add(r, "sources", json_object_new_int64(jnum(src, "total")));
    json_object_object_add(r, "complete_sources", json_object_new_int64(jnum(src, "complete")));
    json_object_object_add(r, "transferring_sources",
                           json_object_new_int64(jnum(src, "transferring")));
    json_object_object_add(r, "added_at", json_object_new_int64((int64_t)pf_added_at(pf)));
    json_object_object_add(r, "completed_at", json_object_new_int64(0));
    json_object_object_add(r, "save_path", json_object_new_string(incoming));
    char *content = xasprintf("%s/%s", incoming, pf_name(pf));
    json_object_object_add(r, "content_path", json_object_new_string(content));
    free(content);
    json_object_object_add(r, "error", opt_str(jstr(j, "error")));
    json_object_object_add(r, "added_by", json_object_new_string(pf_added_by(pf) != NULL ? pf_added_by(pf) : ""));
    json_object_object_add(r, "added_via", json_object_new_string(pf_added_via(pf) != NULL ? pf_added_via(pf) : ""));
    json_object_object_add(r, "btih", opt_str(pf_btih(pf)));
    add_attrs(r, pf_tags(pf), pf_ratio_limit(pf), pf_seeding_time_limit(pf), pf_force_start(pf),
              pf_last_activity(pf), pf_dl_limit(pf), pf_up_limit(pf));
    json_object_put(j);
    return r;
}

/* row_of_finished: the row of a finished download: state completed (or
 * missing), its final paths, its upload counters. */
static json_object *
row_of_finished(dbsync_t *s, const fin_rec_t *f)
{
    json_object *r = json_object_new_object();
    int64_t size = (int64_t)fin_size(f);
    json_object_object_add(r, "hash", json_object_new_string(fin_hex(f)));
    json_object_object_add(r, "name", json_object_new_string(fin_name(f)));
    json_object_object_add(r, "size", json_object_new_int64(size));
    json_object_object_add(r, "category", opt_str(fin_category(f)));
    json_object_object_add(r, "priority", json_object_new_int(fin_priority(f)));
    json_object_object_add(r, "state", json_object_new_string(fin_state(f)));
    json_object_object_add(r, "done_bytes", json_object_new_int64(size));
    json_object_object_add(r, "verified_bytes", json_object_new_int64(size));
    json_object_object_add(r, "dl_speed", json_object_new_int64(0));
    uint64_t up = fin_uploaded(f);
    json_object_object_add(r, "uploaded_bytes", json_object_new_int64((int64_t)up));
    json_object_object_add(r, "ul_speed", json_object_new_int64(ul_speed_of(s, fin_hex(f), up)));
    json_object_object_add(r, "sources", json_object_new_int64(0));
    json_object_object_add(r, "complete_sources", json_object_new_int64(0));
    json_object_object_add(r, "transferring_sources", json_object_new_int64(0));
    json_object_object_add(r, "added_at", json_object_new_int64((int64_t)fin_added_at(f)));
    json_object_object_add(r, "completed_at", json_object_new_int64((int64_t)fin_completed_at(f)));
    json_object_object_add(r, "save_path", json_object_new_string(fin_save_path(f)));
    json_object_object_add(r, "content_path", json_object_new_string(fin_content_path(f)));
    json_object_object_add(r, "error", opt_str(fin_error(f)));
    json_object_object_add(r, "added_by",
                           json_object_new_string(fin_added_by(f) != NULL ? fin_added_by(f) : ""));
    json_object_object_add(r, "added_via",
                           json_object_new_string(fin_added_via(f) != NULL ? fin_added_via(f) : ""));
    json_object_object_add(r, "btih", opt_str(fin_btih(f)));
    add_attrs(r, fin_tags(f), fin_ratio_limit(f), fin_seeding_time_limit(f), fin_force_start(f),
              fin_last_activity(f), fin_dl_limit(f), fin_up_limit(f));
    json_object_object_add(r, "share_stopped", json_object_new_boolean(fin_sharing_stopped(f)));
    return r;
}

/* ---------------------------------------------------------------- jobs */

static void
submit_rows(dbsync_t *s, json_object *arr, bool full, const char *delete_hex)
{
    store_downloads_write(s->d->db, conf_get_str(s->d->conf, "node_name"),
                          arr != NULL && json_object_array_length(arr) > 0
                              ? json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN)
                              : NULL,
                          full, fin_keeps_legacy_rows(s->d->finished), delete_hex);
}

static void
prune(dbsync_t *s)
{
    conf_t *c = s->d->conf;
    store_prune(s->d->db, conf_get_str(c, "node_name"), conf_get_int(c, "retention_samples_days"),
                conf_get_int(c, "retention_1m_days"), conf_get_int(c, "retention_coarse_days"),
                conf_get_int(c, "retention_history_days"));
}

static void
sync_shared(dbsync_t *s, bool force, int64_t now_ms)
{
    shared_t *sh = s->d->shared;
    uint64_t gen = shared_generation(sh), stats = 0;
    size_t n = shared_count(sh);
    for (size_t i = 0; i < n; i++) {
        const shared_file_t *f = shared_get(sh, i);
        stats += f->uploaded + f->requests;
    }
    if (!force && (now_ms < s->next_shared_ms || (gen == s->shared_gen && stats == s->shared_stats)))
        return;
    s->next_shared_ms = now_ms + 5000;
    s->shared_gen = gen;
    s->shared_stats = stats;
    /* written row by row: 10,000 files are a few MB of JSON */
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, "[", 1);
    char hex[ED2K_HASH_HEX_LEN + 1];
    for (size_t i = 0; i < n; i++) {
        const shared_file_t *f = shared_get(sh, i);
        json_object *o = json_object_new_object();
        ed2k_hash_to_hex(f->hash, hex);
        json_object_object_add(o, "hash", json_object_new_string(hex));
        json_object_object_add(o, "path", json_object_new_string(f->path));
        json_object_object_add(o, "name", json_object_new_string(f->name));
        json_object_object_add(o, "size", json_object_new_int64((int64_t)f->size));
        char aich[64];
        ed2k_base32_encode(f->aich, ED2K_AICH_LEN, aich);
        json_object_object_add(o, "aich", json_object_new_string(aich));
        json_object_object_add(o, "mtime", json_object_new_int64(f->mtime));
        json_object_object_add(o, "uploaded", json_object_new_int64((int64_t)f->uploaded));
        json_object_object_add(o, "requests", json_object_new_int64(f->requests));
        if (i > 0)
            evbuffer_add(b, ",", 1);
        evbuffer_add_printf(b, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
    }
    evbuffer_add(b, "]", 2); /* with the NUL */
    store_shared_files_write(s->d->db, conf_get_str(s->d->conf, "node_name"),
                             (const char *)evbuffer_pullup(b, -1));
    evbuffer_free(b);
}

/* ---------------------------------------------------------------- tick */

static void
sync_rows(dbsync_t *s, bool full)
{
    dlq_t *q = s->d->downloads;
    finished_t *fin = s->d->finished;
    json_object *changed = json_object_new_array();
    json_object *now_sent = json_object_new_object();
    size_t n_dl = dlq_count(q), n_fin = fin != NULL ? fin_count(fin) : 0;
    for (size_t i = 0; i < n_dl + n_fin; i++) {
        json_object *row = i < n_dl ? row_of(s, dlq_get(q, i))
                                    : row_of_finished(s, fin_get(fin, i - n_dl));
        const char *hex = json_object_get_string(json_object_object_get(row, "hash"));
        const char *text = json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN);
        json_object *prev = NULL;
        bool same = json_object_object_get_ex(s->sent, hex, &prev) &&
                    strcmp(json_object_get_string(prev), text) == 0;
        json_object_object_add(now_sent, hex, json_object_new_string(text));
        if (full || !same)
            json_object_array_add(changed, row);
        else
            json_object_put(row);
    }
    /* downloads that left without a hook (should not happen): their rows
     * are cleaned by the next full sync */
    json_object_put(s->sent);
    s->sent = now_sent;
    if (full || json_object_array_length(changed) > 0)
        submit_rows(s, changed, full, NULL);
    json_object_put(changed);
}

static void
take_sample(dbsync_t *s, int64_t now_ms)
{
    uint64_t down = 0, up = 0;
    peer_mgr_totals(s->d->peers, &down, &up);
    int64_t elapsed = now_ms - s->last_sample_ms;
    if (elapsed <= 0)
        return;
    uint64_t dd = down - s->last_down, du = up - s->last_up;
    s->last_down = down;
    s->last_up = up;
    s->last_sample_ms = now_ms;
    size_t active = 0;
    dlq_t *q = s->d->downloads;
    for (size_t i = 0; i < dlq_count(q); i++) {
        json_object *j = dl_to_json(dlq_get(q, i));
        json_object *src = NULL;
        if (json_object_object_get_ex(j, "sources", &src) && jnum(src, "transferring") > 0)
            active++;
        json_object_put(j);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    store_sample_t sm = {
        .at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
        .interval_ms = elapsed,
        .dl_rate = dd * 1000 / (uint64_t)elapsed,
        .ul_rate = du * 1000 / (uint64_t)elapsed,
        .dl_delta = dd,
        .ul_delta = du,
        .active = active + ulq_slots_used(s->d->uploads),
        .sources = peer_mgr_connections(s->d->peers),
    };
    store_sample_write(s->d->db, conf_get_str(s->d->conf, "node_name"), &sm);
}

/* A download (active or finished) was deleted: its row goes at once. */
static void
on_deleted(void *ctx, const bus_dl_deleted_t *ev)
{
    dbsync_t *s = ctx;
    const char *hex = ev->info->hex;
    json_object_object_del(s->sent, hex);
    json_object_object_del(s->ul_prev, hex);
    json_object_object_del(s->ul_speed, hex);
    submit_rows(s, NULL, false, hex);
}

dbsync_t *
dbs_new(muleteerd_t *d)
{
    dbsync_t *s = xcalloc(1, sizeof *s);
    s->d = d;
    s->sent = json_object_new_object();
    s->ul_prev = json_object_new_object();
    s->ul_speed = json_object_new_object();
    s->need_full = true;
    s->last_sample_ms = clock_mono_ms();
    s->next_prune_ms = s->last_sample_ms + 60000; /* a minute after start, then hourly */
    bus_on_dl_deleted(d->bus, on_deleted, s);
    return s;
}

void
dbs_free(dbsync_t *s)
{
    if (s == NULL)
        return;
    bus_unsubscribe_ctx(s->d->bus, s);
    json_object_put(s->sent);
    json_object_put(s->ul_prev);
    json_object_put(s->ul_speed);
    free(s);
}

void
dbs_tick(dbsync_t *s)
{
    dbw_status_t st;
    dbw_get_status(s->d->db, &st);
    if (!st.connected)
        s->need_full = true; /* what is queued now may be dropped: write all again */
    int64_t now_ms = clock_mono_ms();
    if (st.connected) {
        sync_rows(s, s->need_full);
        sync_shared(s, s->need_full, now_ms);
        s->need_full = false;
    }
    if (now_ms >= s->next_prune_ms) {
        s->next_prune_ms = now_ms + 3600 * 1000;
        prune(s);
    }
    /* the tick is about a second; a little early is on time */
    if (now_ms - s->last_sample_ms >= conf_get_int(s->d->conf, "sample_interval") * 1000 - 200)
        take_sample(s, now_ms);
}

