/* dbsync.c: the downloads table and the transfer samples. Each second the
 * rows of downloads and finished downloads whose state changed go to the
 * database worker in one multi-row upsert; after the database comes back,
 * every row is written again and rows of downloads the daemon no longer
 * has (active or finished) are deleted. A
 * sample every sample_interval seconds carries the bytes moved since the
 * last one; PostgreSQL adds them to the node's last totals, so totals
 * never go backwards, across restarts and crashes too. */
#include "config.h"

#include "daemon/dbsync.h"
#include "daemon/bus.h"
#include "daemon/daemon.h"
#include "daemon/category.h"
#include "daemon/download.h"
#include "daemon/finished.h"
#include "daemon/partfile.h"
#include "daemon/peer.h"
#include "daemon/shared.h"
#include "ed2k/hash.h"
#include "daemon/upload.h"
#include "db/db.h"
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
          bool force_start, time_t last_activity)
{
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
    const char *incoming = cat_incoming(s->d->categories, pf_category(pf));
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
    add_attrs(r, pf_tags(pf), pf_ratio_limit(pf), pf_seeding_time_limit(pf), pf_force_start(pf),
              pf_last_activity(pf));
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
    json_object_object_add(r, "error", NULL);
    json_object_object_add(r, "added_by",
                           json_object_new_string(fin_added_by(f) != NULL ? fin_added_by(f) : ""));
    json_object_object_add(r, "added_via",
                           json_object_new_string(fin_added_via(f) != NULL ? fin_added_via(f) : ""));
    add_attrs(r, fin_tags(f), fin_ratio_limit(f), fin_seeding_time_limit(f), fin_force_start(f),
              fin_last_activity(f));
    return r;
}

/* ---------------------------------------------------------------- jobs */

typedef struct {
    char *node;
    char *rows;     /* JSON array */
    bool full;      /* delete the rows of downloads not in rows */
    bool keep_completed; /* ... but not completed ones (finished.h: import pending) */
    char *delete_hex;
} rows_job_t;

static void
rows_job_free(void *arg)
{
    rows_job_t *j = arg;
    free(j->node);
    free(j->rows);
    free(j->delete_hex);
    free(j);
}

#define ROWS_SQL                                                                               \
    "INSERT INTO downloads (node, hash, name, size, category, priority, state, done_bytes,"     \
    " verified_bytes, uploaded_bytes, dl_speed, ul_speed, sources, complete_sources,"         \
    " transferring_sources, added_at,"                                                         \
    " completed_at, save_path, content_path, error, added_by, added_via, tags, ratio_limit,"   \
    " seeding_time_limit, force_start, last_activity, updated_at)"                             \
    " SELECT $1, hash, name, size, category, priority, state, done_bytes, verified_bytes,"     \
    "  uploaded_bytes, dl_speed, ul_speed, sources, complete_sources, transferring_sources, to_timestamp(added_at),"     \
    "  to_timestamp(NULLIF(completed_at, 0)), save_path, content_path, error, added_by,"       \
    "  added_via, ARRAY(SELECT json_array_elements_text(tags)), ratio_limit,"                  \
    "  seeding_time_limit, force_start, to_timestamp(NULLIF(last_activity, 0)), now()"         \
    " FROM json_to_recordset($2::json) AS x(hash text, name text, size bigint, category text," \
    "  priority smallint, state text, done_bytes bigint, verified_bytes bigint,"               \
    "  uploaded_bytes bigint, dl_speed bigint, ul_speed bigint, sources int, complete_sources int, transferring_sources int,"          \
    "  added_at bigint, completed_at bigint, save_path text, content_path text, error text,"   \
    "  added_by text, added_via text, tags json, ratio_limit double precision,"                \
    "  seeding_time_limit int, force_start boolean, last_activity bigint)"                     \
    " ON CONFLICT (node, hash) DO UPDATE SET name = EXCLUDED.name, size = EXCLUDED.size,"      \
    "  category = EXCLUDED.category, priority = EXCLUDED.priority, state = EXCLUDED.state,"    \
    "  done_bytes = EXCLUDED.done_bytes, verified_bytes = EXCLUDED.verified_bytes,"            \
    "  uploaded_bytes = EXCLUDED.uploaded_bytes, dl_speed = EXCLUDED.dl_speed,"                \
    "  ul_speed = EXCLUDED.ul_speed, sources = EXCLUDED.sources,"                              \
    "  complete_sources = EXCLUDED.complete_sources,"                                          \
    "  transferring_sources = EXCLUDED.transferring_sources, added_at = EXCLUDED.added_at,"    \
    "  completed_at = EXCLUDED.completed_at, save_path = EXCLUDED.save_path,"                  \
    "  content_path = EXCLUDED.content_path, error = EXCLUDED.error,"                          \
    "  added_by = EXCLUDED.added_by, added_via = EXCLUDED.added_via, tags = EXCLUDED.tags,"    \
    "  ratio_limit = EXCLUDED.ratio_limit, seeding_time_limit = EXCLUDED.seeding_time_limit,"  \
    "  force_start = EXCLUDED.force_start, last_activity = EXCLUDED.last_activity,"            \
    "  updated_at = now()"

static int
rows_job_run(PGconn *conn, void *arg, mt_error_t **err)
{
    rows_job_t *j = arg;
    PGresult *res;
    if (j->rows != NULL) {
        const char *params[] = { j->node, j->rows };
        res = db_query(conn, ROWS_SQL, 2, params, err);
        if (res == NULL)
            return -1;
        PQclear(res);
    }
    if (j->full) {
        const char *params[] = { j->node, j->rows != NULL ? j->rows : "[]" };
        res = db_query(conn,
                       j->keep_completed
                           ? "DELETE FROM downloads d WHERE d.node = $1 AND d.state <> 'completed'"
                             " AND NOT EXISTS (SELECT 1 FROM json_to_recordset($2::json) AS"
                             " x(hash text) WHERE x.hash = d.hash)"
                           : "DELETE FROM downloads d WHERE d.node = $1"
                             " AND NOT EXISTS (SELECT 1 FROM json_to_recordset($2::json) AS"
                             " x(hash text) WHERE x.hash = d.hash)",
                       2, params, err);
        if (res == NULL)
            return -1;
        PQclear(res);
    }
    if (j->delete_hex != NULL) {
        const char *params[] = { j->node, j->delete_hex };
        res = db_query(conn, "DELETE FROM downloads WHERE node = $1 AND hash = $2", 2, params, err);
        if (res == NULL)
            return -1;
        PQclear(res);
    }
    return 0;
}

static void
submit_rows(dbsync_t *s, json_object *arr, bool full, const char *delete_hex)
{
    rows_job_t *j = xcalloc(1, sizeof *j);
    j->node = xstrdup(conf_get_str(s->d->conf, "node_name"));
    if (arr != NULL && json_object_array_length(arr) > 0)
        j->rows = xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    j->full = full;
    j->keep_completed = s->d->finished == NULL || fin_keeps_legacy_rows(s->d->finished);
    j->delete_hex = delete_hex != NULL ? xstrdup(delete_hex) : NULL;
    /* a full sync replaces a pending full sync; deltas keep their order */
    dbw_submit(s->d->db, full ? "downloads_full" : NULL, rows_job_run, j, rows_job_free);
}

typedef struct {
    char node[256];
    char at[32], interval[24], dl_rate[24], ul_rate[24], dl_delta[24], ul_delta[24];
    char active[16], sources[16];
} sample_job_t;

static int
sample_job_run(PGconn *conn, void *arg, mt_error_t **err)
{
    sample_job_t *j = arg;
    const char *params[] = { j->node, j->at, j->interval, j->dl_rate, j->ul_rate,
                             j->dl_delta, j->ul_delta, j->active, j->sources };
    PGresult *res = db_query(
        conn,
        "INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total,"
        " ul_total, active_transfers, connected_sources)"
        " SELECT $1, to_timestamp($2::double precision), $3, $4, $5,"
        "  COALESCE(last.dl_total, 0) + $6::bigint, COALESCE(last.ul_total, 0) + $7::bigint, $8, $9"
        " FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT dl_total, ul_total FROM transfer_samples"
        "  WHERE node = $1 ORDER BY sampled_at DESC LIMIT 1) AS last ON true"
        " ON CONFLICT (node, sampled_at) DO NOTHING",
        9, params, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

typedef struct {
    char node[256];
    char raw[16], m1[16], coarse[16], history[16];
} prune_job_t;

/* prune_job_run: muleteer_prune (006) with the configured retention. */
static int
prune_job_run(PGconn *conn, void *arg, mt_error_t **err)
{
    prune_job_t *j = arg;
    const char *params[] = { j->node, j->raw, j->m1, j->coarse, j->history[0] ? j->history : NULL };
    PGresult *res = db_query(conn,
                             "SELECT * FROM muleteer_prune($1, make_interval(days => $2::int),"
                             " make_interval(days => $3::int), make_interval(days => $4::int),"
                             " make_interval(days => $5::int))",
                             5, params, err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1)
        log_info("database: pruned %s samples, %s 1-minute and %s coarser rollups, %s history rows",
                 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                 PQgetvalue(res, 0, 3));
    PQclear(res);
    return 0;
}

static void
prune(dbsync_t *s)
{
    conf_t *c = s->d->conf;
    prune_job_t *j = xcalloc(1, sizeof *j);
    snprintf(j->node, sizeof j->node, "%s", conf_get_str(c, "node_name"));
    snprintf(j->raw, sizeof j->raw, "%lld", conf_get_int(c, "retention_samples_days"));
    snprintf(j->m1, sizeof j->m1, "%lld", conf_get_int(c, "retention_1m_days"));
    snprintf(j->coarse, sizeof j->coarse, "%lld", conf_get_int(c, "retention_coarse_days"));
    if (conf_get_int(c, "retention_history_days") > 0)
        snprintf(j->history, sizeof j->history, "%lld", conf_get_int(c, "retention_history_days"));
    dbw_submit(s->d->db, "prune", prune_job_run, j, free);
}

/* The shared files, replaced as a whole (by path) when the list or its
 * statistics changed, at most every 5 seconds. */
typedef struct {
    char *node, *rows;
} shared_job_t;

static void
shared_job_free(void *arg)
{
    shared_job_t *j = arg;
    free(j->node);
    free(j->rows);
    free(j);
}

static int
shared_job_run(PGconn *conn, void *arg, mt_error_t **err)
{
    shared_job_t *j = arg;
    const char *params[] = { j->node, j->rows };
    PGresult *res = db_query(
        conn,
        "WITH r AS (SELECT * FROM json_to_recordset($2::json) AS x(hash text, path text, name text,"
        "  size bigint, aich text, mtime bigint, uploaded bigint, requests int)),"
        " gone AS (DELETE FROM shared_files f WHERE f.node = $1 AND NOT EXISTS"
        "  (SELECT 1 FROM r WHERE r.path = f.path))"
        " INSERT INTO shared_files (node, hash, path, name, size, aich, modified_at, uploaded_bytes,"
        "  requests, updated_at)"
        " SELECT $1, hash, path, name, size, aich, to_timestamp(mtime), uploaded, requests, now()"
        " FROM r ON CONFLICT (node, path) DO UPDATE SET hash = EXCLUDED.hash,"
        "  name = EXCLUDED.name, size = EXCLUDED.size, aich = EXCLUDED.aich,"
        "  modified_at = EXCLUDED.modified_at, uploaded_bytes = EXCLUDED.uploaded_bytes,"
        "  requests = EXCLUDED.requests, updated_at = now()"
        " WHERE (shared_files.hash, shared_files.size, shared_files.uploaded_bytes,"
        "  shared_files.requests) IS DISTINCT FROM (EXCLUDED.hash, EXCLUDED.size,"
        "  EXCLUDED.uploaded_bytes, EXCLUDED.requests)",
        2, params, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
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
    shared_job_t *j = xcalloc(1, sizeof *j);
    j->node = xstrdup(conf_get_str(s->d->conf, "node_name"));
    j->rows = xstrdup((const char *)evbuffer_pullup(b, -1));
    evbuffer_free(b);
    dbw_submit(s->d->db, "shared_files", shared_job_run, j, shared_job_free);
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
    sample_job_t *j = xcalloc(1, sizeof *j);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(j->node, sizeof j->node, "%s", conf_get_str(s->d->conf, "node_name"));
    snprintf(j->at, sizeof j->at, "%lld.%03ld", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
    snprintf(j->interval, sizeof j->interval, "%lld", (long long)elapsed);
    snprintf(j->dl_rate, sizeof j->dl_rate, "%llu", (unsigned long long)(dd * 1000 / (uint64_t)elapsed));
    snprintf(j->ul_rate, sizeof j->ul_rate, "%llu", (unsigned long long)(du * 1000 / (uint64_t)elapsed));
    snprintf(j->dl_delta, sizeof j->dl_delta, "%llu", (unsigned long long)dd);
    snprintf(j->ul_delta, sizeof j->ul_delta, "%llu", (unsigned long long)du);
    snprintf(j->active, sizeof j->active, "%zu", active + ulq_slots_used(s->d->uploads));
    snprintf(j->sources, sizeof j->sources, "%zu", peer_mgr_connections(s->d->peers));
    dbw_submit(s->d->db, NULL, sample_job_run, j, free);
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

