/* info.c: the read routes of /api/v2 (torrents/info, properties, files,
 * categories, tags, transfer/info) and what sync/maindata reads (sync.c
 * makes the deltas), answered from the
 * PostgreSQL tables the daemon keeps. Each download row is turned into
 * qBittorrent's JSON by PostgreSQL itself (row_to_json over a column list
 * named like qBittorrent's keys), so a large list costs one query and no
 * per-field work here. Rendered torrents/info answers are kept for up to
 * a second while download_changes says no row changed (the cache below):
 * Arr clients and web pages poll the same list over and over. */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbit/qbit.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

typedef struct {
    const char *key;  /* qBittorrent's JSON key, also the SQL alias */
    const char *expr; /* over the CTE "d" below */
} col_t;

#define EPOCH(x) "floor(extract(epoch FROM " x "))::bigint"
#define DONE_EXPR "d.done"
#define ETA_EXPR                                                                          \
    "CASE WHEN d.state <> 'completed' AND d.dl_speed > 0 THEN"                             \
    " least(ceil((d.size - d.done)::float8 / d.dl_speed), 8640000)::bigint ELSE 8640000 END"
#define RATIO_EXPR                                                                        \
    "CASE WHEN d.done > 0 THEN least(d.uploaded_bytes::float8 / d.done, 9999) ELSE 0 END"
#define SEEDING_EXPR                                                                      \
    "CASE WHEN d.state = 'completed' AND d.completed_at IS NOT NULL THEN"                  \
    " greatest(d.now_s - " EPOCH("d.completed_at") ", 0) ELSE 0 END"
#define ACTIVE_EXPR "greatest(d.now_s - " EPOCH("d.added_at") ", 0)"
#define HASH40_EXPR "d.hash || '" QBIT_HASH_PAD "'"

/* torrents/info: every key of qBittorrent 4.5.2's example, same JSON
 * types, plus the 5.x keys comment and the two inactive-seeding ones. */
static const col_t info_cols[] = {
    { "added_on", EPOCH("d.added_at") },
    { "amount_left", "d.size - d.done" },
    { "auto_tmm", "false" },
    { "availability",
      "CASE WHEN d.state = 'completed' THEN -1::float8 ELSE d.complete_sources::float8 END" },
    { "category", "coalesce(d.category, '')" },
    /* qBittorrent 5's torrent comment: where an errored download says why */
    { "comment", "coalesce(d.error, '')" },
    { "completed", DONE_EXPR },
    { "completion_on", "coalesce(" EPOCH("d.completed_at") ", 0)" },
    { "content_path", "d.content_path" },
    { "dl_limit", "0" },
    { "dlspeed", "d.dl_speed" },
    { "download_path", "''" },
    { "downloaded", DONE_EXPR },
    { "downloaded_session", DONE_EXPR },
    { "eta", ETA_EXPR },
    { "f_l_piece_prio", "false" },
    { "force_start", "d.force_start" },
    { "hash", HASH40_EXPR },
    { "inactive_seeding_time_limit", "-2" },
    { "infohash_v1", HASH40_EXPR },
    { "infohash_v2", "''" },
    { "last_activity", EPOCH("coalesce(d.last_activity, d.added_at)") },
    { "magnet_uri", "'magnet:?xt=urn:btih:' || d.hash || '" QBIT_HASH_PAD
                    "&xt=urn:ed2k:' || d.hash || '&xl=' || d.size || '&dn=' ||"
                    " d.name_uri" },
    { "max_inactive_seeding_time", "-1" },
    { "max_ratio", "CASE WHEN d.ratio_limit = -2 THEN 0 ELSE d.ratio_limit END" },
    { "max_seeding_time",
      "CASE WHEN d.seeding_time_limit = -2 THEN -1 ELSE d.seeding_time_limit END" },
    { "name", "d.name" },
    { "num_complete", "d.complete_sources" },
    { "num_incomplete", "greatest(d.sources - d.complete_sources, 0)" },
    { "num_leechs", "greatest(d.sources - d.complete_sources, 0)" },
    { "num_seeds", "d.complete_sources" },
    { "priority", "d.queue_pos" },
    { "progress",
      "CASE WHEN d.state = 'completed' THEN 1::float8 ELSE d.done::float8 / d.size END" },
    { "ratio", RATIO_EXPR },
    { "ratio_limit", "d.ratio_limit" },
    { "save_path", "d.save_path" },
    { "seeding_time", SEEDING_EXPR },
    { "seeding_time_limit", "d.seeding_time_limit" },
    { "seen_complete", "CASE WHEN d.state = 'completed' THEN coalesce(" EPOCH("d.completed_at")
                       ", 0) WHEN d.complete_sources > 0 THEN d.now_s ELSE 0 END" },
    { "seq_dl", "false" },
    { "size", "d.size" },
    { "state", "d.qstate" },
    { "super_seeding", "false" },
    { "tags", "array_to_string(d.tags, ', ')" },
    { "time_active", ACTIVE_EXPR },
    { "total_size", "d.size" },
    { "tracker", "''" },
    { "trackers_count", "0" },
    { "up_limit", "0" },
    { "uploaded", "d.uploaded_bytes" },
    { "uploaded_session", "d.uploaded_bytes" },
    { "upspeed", "d.ul_speed" },
};

/* torrents/properties: the keys of 4.5.2's answer. */
static const col_t prop_cols[] = {
    { "addition_date", EPOCH("d.added_at") },
    { "comment", "coalesce(d.error, '')" },
    { "completion_date", "coalesce(" EPOCH("d.completed_at") ", -1)" },
    { "created_by", "''" },
    { "creation_date", "-1" },
    { "dl_limit", "-1" },
    { "dl_speed", "d.dl_speed" },
    { "dl_speed_avg", "d.done / greatest(coalesce(" EPOCH("d.completed_at") ", d.now_s) - "
                      EPOCH("d.added_at") ", 1)" },
    { "download_path", "''" },
    { "eta", ETA_EXPR },
    { "hash", HASH40_EXPR },
    { "infohash_v1", HASH40_EXPR },
    { "infohash_v2", "''" },
    { "is_private", "false" },
    { "last_seen", "CASE WHEN d.state = 'completed' THEN coalesce(" EPOCH("d.completed_at")
                   ", -1) WHEN d.complete_sources > 0 THEN d.now_s ELSE -1 END" },
    { "name", "d.name" },
    { "nb_connections", "d.transferring_sources" },
    { "nb_connections_limit", "d.max_sources" },
    { "peers", "greatest(d.sources - d.complete_sources, 0)" },
    { "peers_total", "greatest(d.sources - d.complete_sources, 0)" },
    { "piece_size", QBIT_PIECE_SIZE_SQL },
    { "pieces_have", "CASE WHEN d.state = 'completed'"
                     " THEN (d.size + " QBIT_PIECE_SIZE_SQL " - 1) / " QBIT_PIECE_SIZE_SQL
                     " ELSE d.verified_bytes / " QBIT_PIECE_SIZE_SQL " END" },
    { "pieces_num", "(d.size + " QBIT_PIECE_SIZE_SQL " - 1) / " QBIT_PIECE_SIZE_SQL },
    { "reannounce", "0" },
    { "save_path", "d.save_path" },
    { "seeding_time", SEEDING_EXPR },
    { "seeds", "d.complete_sources" },
    { "seeds_total", "d.complete_sources" },
    { "share_ratio", RATIO_EXPR },
    { "time_elapsed", ACTIVE_EXPR },
    { "total_downloaded", DONE_EXPR },
    { "total_downloaded_session", DONE_EXPR },
    { "total_size", "d.size" },
    { "total_uploaded", "d.uploaded_bytes" },
    { "total_uploaded_session", "d.uploaded_bytes" },
    { "total_wasted", "0" },
    { "up_limit", "-1" },
    { "up_speed", "d.ul_speed" },
    { "up_speed_avg", "d.uploaded_bytes / greatest(" ACTIVE_EXPR ", 1)" },
};

#define N_COLS(a) (sizeof(a) / sizeof((a)[0]))

/* state_case: the SQL CASE giving the qBittorrent state of a row, built
 * from the same table as qbit_state() (so the unit tests cover it). */
static void
state_case(struct evbuffer *b)
{
    /* A completed download has reached its share limits (qBittorrent
     * stops it then) when the ratio limit in force is reached -- the
     * global one (-2) is 0, reached at once -- or its seeding time is.
     * Before that (its own goal, or -1 for none) it is still seeding. */
    evbuffer_add_printf(
        b, "CASE WHEN x.state = 'completed' AND x.ratio_limit <> -2"
           " AND NOT (x.ratio_limit >= 0 AND x.uploaded_bytes >= x.ratio_limit * x.size)"
           " AND NOT (x.seeding_time_limit >= 0 AND"
           " coalesce(x.completed_at, now()) <= now() - x.seeding_time_limit * interval '1 minute')"
           " THEN CASE WHEN x.ul_speed > 0 THEN '%s' ELSE '%s' END",
        qbit_seed_state(false, true), qbit_seed_state(false, false));
    evbuffer_add_printf(b, " WHEN x.force_start AND x.state IN ('downloading', 'stalled',"
                           " 'queued') THEN '%s'",
                        qbit_state("downloading", true));
    for (size_t i = 0; i < qbit_n_db_states; i++)
        evbuffer_add_printf(b, " WHEN x.state = '%s' THEN '%s'", qbit_db_states[i],
                            qbit_state(qbit_db_states[i], false));
    evbuffer_add_printf(b, " ELSE 'unknown' END");
}

/* The filter parameters of the row query ($1 is the node). */
typedef struct {
    const char *states;   /* $2: a text[] literal of qBittorrent states, or NULL */
    int activity;         /* $3: 0 any, 1 active, 2 inactive */
    const char *category; /* $4: exact, "" = uncategorised, NULL = any */
    const char *tag;      /* $5: "" = untagged, NULL = any */
    char *hashes;         /* $6: a text[] literal of MD4s, or NULL */
} filter_t;

/* build_query: SELECT [hash,] json FROM the node's downloads, filtered,
 * sorted by a column of cols (already checked) or by age. */
static char *
build_query(const col_t *cols, size_t n, bool skip_hash, const col_t *sort, bool reverse,
            long long max_sources)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "WITH d AS (SELECT x.*, ");
    state_case(b);
    evbuffer_add_printf(
        b, " AS qstate, CASE WHEN x.state = 'completed' THEN 0 ELSE row_number() OVER"
           " (PARTITION BY x.state = 'completed' ORDER BY x.priority DESC, x.added_at, x.hash)"
           " END AS queue_pos,"
           " CASE WHEN x.state = 'completed' THEN x.size ELSE x.done_bytes END AS done,"
           " floor(extract(epoch FROM now()))::bigint AS now_s, %lld AS max_sources"
           " FROM downloads x WHERE x.node = $1)"
           " SELECT d.hash, (SELECT row_to_json(t)::text FROM (SELECT ",
        max_sources);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (skip_hash && strcmp(cols[i].key, "hash") == 0)
            continue;
        evbuffer_add_printf(b, "%s%s AS \"%s\"", first ? "" : ", ", cols[i].expr, cols[i].key);
        first = false;
    }
    evbuffer_add_printf(
        b, ") t) FROM d WHERE ($2::text[] IS NULL OR d.qstate = ANY($2::text[]))"
           " AND ($3::int = 0 OR ($3::int = 1) = (d.dl_speed > 0 OR d.ul_speed > 0))"
           " AND ($4::text IS NULL OR coalesce(d.category, '') = $4::text)"
           " AND ($5::text IS NULL OR ($5::text = '' AND cardinality(d.tags) = 0)"
           " OR $5::text = ANY(d.tags))"
           " AND ($6::text[] IS NULL OR d.hash = ANY($6::text[]))");
    if (sort != NULL)
        evbuffer_add_printf(b, " ORDER BY (%s) %s, d.hash", sort->expr, reverse ? "DESC" : "ASC");
    else
        evbuffer_add_printf(b, " ORDER BY d.added_at %s, d.hash", reverse ? "DESC" : "ASC");
    evbuffer_add(b, "", 1);
    char *sql = xstrdup((const char *)evbuffer_pullup(b, -1));
    evbuffer_free(b);
    return sql;
}

/* run_rows: the row query with filters; NULL after answering 503. */
static PGresult *
run_rows(qbit_t *q, http_response_t *resp, const col_t *cols, size_t n, bool skip_hash,
         const filter_t *f, const col_t *sort, bool reverse)
{
    char *sql = build_query(cols, n, skip_hash, sort, reverse,
                            conf_get_int(cgienv_conf(q->env), "max_sources_per_file"));
    char activity[4];
    snprintf(activity, sizeof activity, "%d", f->activity);
    const char *params[] = { f->states, activity, f->category, f->tag, f->hashes };
    PGresult *r = cgidb_query(q->env, resp, sql, 5, params);
    free(sql);
    return r;
}

/* hashes_literal: a text[] literal of the parsed MD4s ("{a,b}"). */
static char *
hashes_literal(const qbit_hashes_t *h)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, "{", 1);
    for (size_t i = 0; i < h->n; i++)
        evbuffer_add_printf(b, "%s%s", i > 0 ? "," : "", h->md4[i]);
    evbuffer_add(b, "}", 2);
    char *s = xstrdup((const char *)evbuffer_pullup(b, -1));
    evbuffer_free(b);
    return s;
}

/* filter_states: the qBittorrent states a `filter` value selects (a text[]
 * literal), with *activity for active/inactive; NULL for all (unknown
 * filters select everything, as in qBittorrent). */
static const char *
filter_states(const char *filter, int *activity)
{
    static const struct {
        const char *name, *states;
    } map[] = {
        { "downloading", "{downloading,stalledDL,queuedDL,checkingDL,forcedDL,stoppedDL,metaDL}" },
        { "seeding", "{uploading,stalledUP,checkingUP,queuedUP,forcedUP}" },
        { "completed", "{uploading,stalledUP,checkingUP,queuedUP,forcedUP,stoppedUP}" },
        { "paused", "{stoppedDL,stoppedUP}" },
        { "stopped", "{stoppedDL,stoppedUP}" },
        { "resumed", "{downloading,stalledDL,queuedDL,checkingDL,forcedDL,moving,error,"
                     "missingFiles,unknown}" },
        { "running", "{downloading,stalledDL,queuedDL,checkingDL,forcedDL,moving,error,"
                     "missingFiles,unknown}" },
        { "stalled", "{stalledDL,stalledUP}" },
        { "stalled_downloading", "{stalledDL}" },
        { "stalled_uploading", "{stalledUP}" },
        { "checking", "{checkingDL,checkingUP}" },
        { "moving", "{moving}" },
        { "errored", "{error,missingFiles,unknown}" },
    };
    *activity = 0;
    if (filter == NULL)
        return NULL;
    if (strcmp(filter, "active") == 0) {
        *activity = 1;
        return NULL;
    }
    if (strcmp(filter, "inactive") == 0) {
        *activity = 2;
        return NULL;
    }
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(filter, map[i].name) == 0)
            return map[i].states;
    return NULL;
}

static bool
parse_ll(const char *s, long long *out)
{
    if (s == NULL || *s == '\0')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* ------------------------------------------------- the torrents/info cache */

/* A rendered answer is reused while its query is the same, no downloads
 * row of the node has changed (download_changes.generation) and it is
 * less than CACHE_MS old (some fields count seconds: time_active,
 * seeding_time). */
#define CACHE_MS 1000
#define CACHE_SLOTS 8
#define CACHE_MAX_BYTES (64u * 1024 * 1024)

typedef struct {
    char *key;
    long long generation;
    int64_t at_ms;
    char *body;
    size_t len;
} cache_entry_t;

static cache_entry_t cache[CACHE_SLOTS];
static size_t cache_bytes;

/* generation: the node's change counter, 0 when it has none yet; -1 after
 * answering 503. */
static long long
generation(qbit_t *q, http_response_t *resp)
{
    PGresult *r = cgidb_query(q->env, resp,
                              "SELECT generation FROM download_changes WHERE node = $1", 0, NULL);
    if (r == NULL)
        return -1;
    long long g = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return g;
}

static cache_entry_t *
cache_find(const char *key, long long gen, int64_t now)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].key != NULL && strcmp(cache[i].key, key) == 0 &&
            cache[i].generation == gen && now - cache[i].at_ms < CACHE_MS)
            return &cache[i];
    return NULL;
}

static void
cache_drop(cache_entry_t *e)
{
    cache_bytes -= e->len;
    free(e->key);
    free(e->body);
    memset(e, 0, sizeof *e);
}

static void
cache_store(const char *key, long long gen, int64_t now, struct evbuffer *body)
{
    size_t len = evbuffer_get_length(body);
    cache_entry_t *slot = NULL;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (cache[i].key != NULL && strcmp(cache[i].key, key) == 0) {
            slot = &cache[i]; /* replace the stale answer to the same query */
            break;
        }
        if (slot == NULL || (slot->key != NULL && (cache[i].key == NULL ||
                                                   cache[i].at_ms < slot->at_ms)))
            slot = &cache[i]; /* else the free or the oldest slot */
    }
    if (slot->key != NULL)
        cache_drop(slot);
    /* old entries go first when the total would grow too big */
    for (size_t i = 0; i < CACHE_SLOTS && cache_bytes + len > CACHE_MAX_BYTES; i++)
        if (cache[i].key != NULL)
            cache_drop(&cache[i]);
    if (cache_bytes + len > CACHE_MAX_BYTES)
        return;
    slot->key = xstrdup(key);
    slot->generation = gen;
    slot->at_ms = now;
    slot->len = len;
    slot->body = xmalloc(len > 0 ? len : 1);
    evbuffer_copyout(body, slot->body, len);
    cache_bytes += len;
}

/* info_key: the parameters that shape a torrents/info answer, each marked
 * present or absent (a new string). */
static char *
info_key(http_request_t *req)
{
    static const char *const names[] = { "filter", "category", "tag", "hashes",
                                         "sort",   "reverse",  "limit", "offset" };
    struct evbuffer *b = evbuffer_new();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = http_request_param(req, names[i]);
        if (v != NULL)
            evbuffer_add_printf(b, "%s=%zu:%s\n", names[i], strlen(v), v);
    }
    evbuffer_add(b, "", 1);
    char *key = xstrdup((const char *)evbuffer_pullup(b, -1));
    evbuffer_free(b);
    return key;
}

static void
json_headers(http_response_t *resp)
{
    qbit_common_headers(resp);
    http_response_set_status(resp, 200);
    http_response_set_header(resp, "Content-Type", "application/json");
}

int
qbit_torrents_info(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    filter_t f = { 0 };
    f.states = filter_states(http_request_param(req, "filter"), &f.activity);
    f.category = http_request_param(req, "category");
    f.tag = http_request_param(req, "tag");
    const char *hv = http_request_param(req, "hashes");
    bool none = false;
    if (hv != NULL) {
        qbit_hashes_t h;
        if (qbit_hashes_parse(hv, &h) != 0 && *hv != '\0')
            return qbit_text(resp, 400, "Bad Request");
        if (!h.all && *hv != '\0') {
            if (h.n == 0)
                none = true; /* unknown or malformed: nothing */
            else
                f.hashes = hashes_literal(&h);
        }
    }
    if (none)
        return qbit_json_text(resp, "[]", 2);

    long long gen = generation(q, resp);
    if (gen < 0) {
        free(f.hashes);
        return 0;
    }
    char *key = info_key(req);
    int64_t now = clock_mono_ms();
    cache_entry_t *hit = cache_find(key, gen, now);
    if (hit != NULL) {
        free(key);
        free(f.hashes);
        json_headers(resp);
        /* no copy: the entry outlives this answer (it is written before
         * the next request can replace it) */
        evbuffer_add_reference(http_response_body(resp), hit->body, hit->len, NULL, NULL);
        return 0;
    }

    const col_t *sort = NULL;
    const char *sv = http_request_param(req, "sort");
    for (size_t i = 0; sv != NULL && i < N_COLS(info_cols); i++)
        if (strcmp(sv, info_cols[i].key) == 0)
            sort = &info_cols[i];
    bool reverse = false;
    qbit_bool_parse(http_request_param(req, "reverse"), &reverse);
    long long limit = 0, offset = 0;
    parse_ll(http_request_param(req, "limit"), &limit);
    parse_ll(http_request_param(req, "offset"), &offset);

    PGresult *r = run_rows(q, resp, info_cols, N_COLS(info_cols), false, &f, sort, reverse);
    free(f.hashes);
    if (r == NULL) {
        free(key);
        return 0;
    }
    long long n = PQntuples(r);
    /* qBittorrent: a negative offset counts from the end */
    if (offset < 0)
        offset = n + offset < 0 ? 0 : n + offset;
    long long end = limit > 0 && offset + limit < n ? offset + limit : n;
    json_headers(resp);
    struct evbuffer *b = http_response_body(resp);
    evbuffer_add(b, "[", 1);
    for (long long i = offset; i < end; i++) {
        if (i > offset)
            evbuffer_add(b, ",", 1);
        evbuffer_add(b, PQgetvalue(r, (int)i, 1), (size_t)PQgetlength(r, (int)i, 1));
    }
    evbuffer_add(b, "]", 1);
    PQclear(r);
    cache_store(key, gen, now, b);
    free(key);
    return 0;
}

/* one_row: the row of one hash (the `hash` parameter) with cols; NULL
 * after answering (400 missing, 404 unknown or malformed, 503). */
static PGresult *
one_row(qbit_t *q, http_request_t *req, http_response_t *resp, const col_t *cols, size_t n)
{
    const char *hv = qbit_param(req, resp, "hash");
    if (hv == NULL)
        return NULL;
    char md4[33];
    if (qbit_hash_parse(hv, md4) != QBIT_HASH_OK) {
        qbit_text(resp, 404, "Not Found");
        return NULL;
    }
    char lit[40];
    snprintf(lit, sizeof lit, "{%s}", md4);
    filter_t f = { .hashes = lit };
    PGresult *r = run_rows(q, resp, cols, n, false, &f, NULL, false);
    if (r != NULL && PQntuples(r) == 0) {
        PQclear(r);
        qbit_text(resp, 404, "Not Found");
        return NULL;
    }
    return r;
}

int
qbit_torrents_properties(http_request_t *req, http_response_t *resp, void *ctx)
{
    PGresult *r = one_row(ctx, req, resp, prop_cols, N_COLS(prop_cols));
    if (r == NULL)
        return 0;
    qbit_json_text(resp, PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1));
    PQclear(r);
    return 0;
}

/* torrents/files: an eD2K download is one file; its parts are the
 * pieces. `indexes` (pipe-separated) selects entries, as in qBittorrent. */
int
qbit_torrents_files(http_request_t *req, http_response_t *resp, void *ctx)
{
    static const col_t file_cols[] = {
        { "name", "d.name" },
        { "size", "d.size" },
        { "done", DONE_EXPR },
        { "completed", "d.state = 'completed'" },
        { "complete_sources", "d.complete_sources" },
    };
    PGresult *r = one_row(ctx, req, resp, file_cols, N_COLS(file_cols));
    if (r == NULL)
        return 0;
    json_object *row = json_tokener_parse(PQgetvalue(r, 0, 1));
    PQclear(r);
    if (row == NULL)
        return -1;
    int64_t size = json_object_get_int64(json_object_object_get(row, "size"));
    int64_t done = json_object_get_int64(json_object_object_get(row, "done"));
    bool completed = json_object_get_boolean(json_object_object_get(row, "completed"));
    int64_t seeds = json_object_get_int64(json_object_object_get(row, "complete_sources"));
    json_object *arr = json_object_new_array();
    const char *iv = http_request_param(req, "indexes");
    bool want0 = iv == NULL || strcmp(iv, "") == 0;
    for (const char *p = iv; p != NULL && !want0;) {
        want0 = strncmp(p, "0", 1) == 0 && (p[1] == '|' || p[1] == '\0');
        p = strchr(p, '|');
        if (p != NULL)
            p++;
    }
    if (want0 && size > 0) {
        json_object *e = json_object_new_object();
        double progress = completed ? 1.0 : (double)done / (double)size;
        json_object_object_add(e, "availability",
                               json_object_new_double(completed ? -1.0 : (double)seeds));
        json_object_object_add(e, "index", json_object_new_int(0));
        json_object_object_add(e, "is_seed", json_object_new_boolean(completed));
        json_object_object_add(e, "name", json_object_get(json_object_object_get(row, "name")));
        json_object *range = json_object_new_array();
        json_object_array_add(range, json_object_new_int(0));
        json_object_array_add(range, json_object_new_int64((size + QBIT_PIECE_SIZE - 1) /
                                                               QBIT_PIECE_SIZE - 1));
        json_object_object_add(e, "piece_range", range);
        json_object_object_add(e, "priority", json_object_new_int(1));
        json_object_object_add(e, "progress", json_object_new_double(progress));
        json_object_object_add(e, "size", json_object_new_int64(size));
        json_object_array_add(arr, e);
    }
    json_object_put(row);
    int rc = qbit_json(resp, arr);
    json_object_put(arr);
    return rc;
}

/* qbit_categories_object: {name: {name, savePath}} of this node; NULL after
 * answering 503. */
json_object *
qbit_categories_object(qbit_t *q, http_response_t *resp)
{
    PGresult *r = cgidb_query(
        q->env, resp, "SELECT name, incoming_path FROM categories WHERE node = $1 ORDER BY name", 0,
        NULL);
    if (r == NULL)
        return NULL;
    json_object *o = json_object_new_object();
    for (int i = 0; i < PQntuples(r); i++) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "name", json_object_new_string(PQgetvalue(r, i, 0)));
        json_object_object_add(c, "savePath", json_object_new_string(PQgetvalue(r, i, 1)));
        json_object_object_add(o, PQgetvalue(r, i, 0), c);
    }
    PQclear(r);
    return o;
}

json_object *
qbit_tags_array(qbit_t *q, http_response_t *resp)
{
    PGresult *r = cgidb_query(q->env, resp,
                              "SELECT DISTINCT unnest(tags) AS tag FROM downloads"
                              " WHERE node = $1 ORDER BY tag",
                              0, NULL);
    if (r == NULL)
        return NULL;
    json_object *a = json_object_new_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_object_array_add(a, json_object_new_string(PQgetvalue(r, i, 0)));
    PQclear(r);
    return a;
}

int
qbit_torrents_categories(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    json_object *o = qbit_categories_object(ctx, resp);
    if (o == NULL)
        return 0;
    int rc = qbit_json(resp, o);
    json_object_put(o);
    return rc;
}

int
qbit_torrents_tags(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    json_object *a = qbit_tags_array(ctx, resp);
    if (a == NULL)
        return 0;
    int rc = qbit_json(resp, a);
    json_object_put(a);
    return rc;
}

/* qbit_transfer_object: transfer/info's keys (also sync/maindata's
 * server_state): speeds and this session's totals from the transfer
 * samples, the connection state from the daemon (disconnected when it is
 * not running); NULL after answering 503 for the database. */
json_object *
qbit_transfer_object(qbit_t *q, http_response_t *resp)
{
    PGresult *r = cgidb_query(
        q->env, resp,
        "WITH last AS (SELECT * FROM transfer_samples WHERE node = $1"
        "              ORDER BY sampled_at DESC LIMIT 1),"
        " start AS (SELECT s.dl_total, s.ul_total FROM transfer_samples s, daemon_status ds"
        "           WHERE s.node = $1 AND ds.node = $1 AND s.sampled_at <= ds.started_at"
        "           ORDER BY s.sampled_at DESC LIMIT 1)"
        " SELECT coalesce((SELECT dl_rate FROM last), 0), coalesce((SELECT ul_rate FROM last), 0),"
        " greatest(coalesce((SELECT dl_total FROM last), 0) - coalesce((SELECT dl_total FROM start), 0), 0),"
        " greatest(coalesce((SELECT ul_total FROM last), 0) - coalesce((SELECT ul_total FROM start), 0), 0),"
        " coalesce((SELECT dl_total FROM last), 0), coalesce((SELECT ul_total FROM last), 0)",
        0, NULL);
    if (r == NULL)
        return NULL;
    long long v[6];
    for (int i = 0; i < 6; i++)
        v[i] = strtoll(PQgetvalue(r, 0, i), NULL, 10);
    PQclear(r);
    const char *status = "disconnected";
    mt_error_t *err = NULL;
    json_object *srv = NULL;
    ctl_client_t *c = cgienv_ctl(q->env, &err);
    mt_error_free(err);
    err = NULL;
    if (c != NULL && ctl_client_call(c, "server", NULL, &srv, &err) == 0) {
        json_object *st = NULL, *low = NULL;
        if (json_object_object_get_ex(srv, "state", &st) &&
            strcmp(json_object_get_string(st), "connected") == 0)
            status = json_object_object_get_ex(srv, "lowid", &low) && json_object_get_boolean(low)
                         ? "firewalled"
                         : "connected";
    }
    json_object_put(srv);
    mt_error_free(err);
    ctl_client_free(c);
    const conf_t *conf = cgienv_conf(q->env);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "connection_status", json_object_new_string(status));
    json_object_object_add(o, "dht_nodes", json_object_new_int(0));
    json_object_object_add(o, "dl_info_data", json_object_new_int64(v[2]));
    json_object_object_add(o, "dl_info_speed", json_object_new_int64(v[0]));
    json_object_object_add(o, "dl_rate_limit",
                           json_object_new_int64(conf_get_int(conf, "max_download") * 1024));
    json_object_object_add(o, "up_info_data", json_object_new_int64(v[3]));
    json_object_object_add(o, "up_info_speed", json_object_new_int64(v[1]));
    json_object_object_add(o, "up_rate_limit",
                           json_object_new_int64(conf_get_int(conf, "max_upload") * 1024));
    json_object_object_add(o, "alltime_dl", json_object_new_int64(v[4]));
    json_object_object_add(o, "alltime_ul", json_object_new_int64(v[5]));
    return o;
}

int
qbit_transfer_info(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    json_object *o = qbit_transfer_object(ctx, resp);
    if (o == NULL)
        return 0;
    /* transfer/info has no all-time totals; maindata's server_state has */
    json_object_object_del(o, "alltime_dl");
    json_object_object_del(o, "alltime_ul");
    int rc = qbit_json(resp, o);
    json_object_put(o);
    return rc;
}

int
qbit_maindata_torrents(qbit_t *q, http_response_t *resp, qbit_torrent_fn fn, void *arg)
{
    filter_t f = { 0 };
    PGresult *r = run_rows(q, resp, info_cols, N_COLS(info_cols), true, &f, NULL, false);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        char id[41];
        snprintf(id, sizeof id, "%s" QBIT_HASH_PAD, PQgetvalue(r, i, 0));
        fn(id, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1), arg);
    }
    PQclear(r);
    return 0;
}
