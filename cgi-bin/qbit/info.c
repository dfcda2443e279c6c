/* info.c: the read routes of /api/v2 (torrents/info, properties, files,
 * categories, tags, transfer/info) and what sync/maindata reads (sync.c
 * makes the deltas), answered from the
 * PostgreSQL tables the daemon keeps. Each download row is turned into
 * qBittorrent's JSON by PostgreSQL itself (row_to_json over a column list
 * named like qBittorrent's keys); for torrents/info only the columns that
 * move with the time or the other rows are asked for each time, the rest
 * of a row's JSON is kept by the process per row version (rowcache.h).
 * The whole list in the default order is kept by the process as a copy of
 * the rows (infomodel.h) that fetches only the rows changed since it last
 * looked and computes the time's columns in C, rendered at most once a
 * second while no row changes; the answers in its order are cut from it
 * (infolist.h). Other
 * rendered torrents/info answers are kept for up to a second while
 * download_changes says no row changed (the cache below), large ones as
 * files the web server sends itself (cgifile.h): Arr clients and web
 * pages poll the same list over and over. */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cgifile.h"
#include "qbit/infolist.h"
#include "qbit/infomodel.h"
#include "qbit/qbit.h"
#include "qbit/rowcache.h"
#include "util/bug.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

typedef struct {
    const char *key;  /* qBittorrent's JSON key, also the SQL alias */
    const char *expr; /* over the CTE "d" below */
} col_t;

/* date_part's double, not extract's numeric: a third of the cost, and
 * exact for microsecond timestamps (their spacing is far above a double's
 * at today's epochs) */
#define EPOCH(x) "floor(date_part('epoch', " x "))::bigint"
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
/* the hash a client knows a download by: the btih it was added with, or
 * the padded MD4 (docs/qbittorrent-api.md, "Hashes") */
#define HASH40_EXPR "coalesce(d.btih, d.hash || '" QBIT_HASH_PAD "')"

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
    { "dl_limit", "d.dl_limit" },
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
    { "magnet_uri", "'magnet:?xt=urn:btih:' || " HASH40_EXPR
                    " || '&xt=urn:ed2k:' || d.hash || '&xl=' || d.size || '&dn=' ||"
                    " d.name_uri" },
    { "max_inactive_seeding_time", "-1" },
    { "max_ratio", "CASE WHEN d.ratio_limit = -2 THEN 0 ELSE d.ratio_limit END" },
    { "max_seeding_time",
      "CASE WHEN d.seeding_time_limit = -2 THEN -1 ELSE d.seeding_time_limit END" },
    { "name", "d.name" },
    /* not qBittorrent's: the node whose daemon has the download
     * (docs/cluster.md); clients ignore keys they do not know */
    { "node", "d.node" },
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
    { "up_limit", "d.up_limit" },
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
    { "dl_limit", "CASE WHEN d.dl_limit > 0 THEN d.dl_limit ELSE -1 END" },
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
    { "up_limit", "CASE WHEN d.up_limit > 0 THEN d.up_limit ELSE -1 END" },
    { "up_speed", "d.ul_speed" },
    { "up_speed_avg", "d.uploaded_bytes / greatest(" ACTIVE_EXPR ", 1)" },
};

#define N_COLS(a) (sizeof(a) / sizeof((a)[0]))

/* state_case: the SQL CASE giving the qBittorrent state of a row, built
 * from the same table as qbit_state() (so the unit tests cover it). */
static void
state_case(struct evbuffer *b)
{
    /* A completed download is seeding until the daemon stops sharing it
     * when its share limits are reached (share_stopped), as qBittorrent
     * stops a torrent then; stopped, it is stoppedUP. */
    evbuffer_add_printf(
        b, "CASE WHEN x.state = 'completed' AND NOT x.share_stopped"
           " THEN CASE WHEN x.ul_speed > 0 THEN '%s' ELSE '%s' END",
        qbit_seed_state(false, true), qbit_seed_state(false, false));
    /* a finished download being re-checked (qBittorrent's checkingUP) */
    evbuffer_add_printf(b, " WHEN x.state = 'checking' AND x.completed_at IS NOT NULL"
                           " THEN 'checkingUP'");
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
    const char *owner;    /* $7: only the downloads it added (added_by), NULL = anyone's */
    const char *node;     /* $8: only this node's downloads, NULL = every node's */
} filter_t;

/* sort_key: the ORDER BY expression of a sort column. qBittorrent sorts
 * text in natural order (case ignored, "Episode 2" before "Episode 10"):
 * sql/014_natural_sort.sql. Hashes and magnets are identifiers of fixed
 * form and sort by their bytes (digit runs in hex are no numbers). */
static void
sort_key(struct evbuffer *b, const col_t *sort)
{
    static const char *const text_keys[] = {
        "category", "comment", "content_path", "download_path", "name",
        "save_path", "state",  "tags",         "tracker",
    };
    for (size_t i = 0; i < N_COLS(text_keys); i++)
        if (strcmp(sort->key, text_keys[i]) == 0) {
            evbuffer_add_printf(b, "mt_natural_key(%s) COLLATE mt_natural", sort->expr);
            return;
        }
    evbuffer_add_printf(b, "(%s)", sort->expr);
}

/* json_select: the select-list item rendering cols[0..n) of a row as one
 * JSON object (row_to_json keeps their order), without "hash" when
 * skip_hash. */
static void
json_select(struct evbuffer *b, const col_t *cols, size_t n, bool skip_hash)
{
    evbuffer_add_printf(b, "(SELECT row_to_json(t)::text FROM (SELECT ");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (skip_hash && strcmp(cols[i].key, "hash") == 0)
            continue;
        evbuffer_add_printf(b, "%s%s AS \"%s\"", first ? "" : ", ", cols[i].expr, cols[i].key);
        first = false;
    }
    evbuffer_add_printf(b, ") t)");
}

/* build_query: SELECT d.hash || '/' || d.node (the row's key: the same
 * file may be downloaded on several nodes), <select> FROM the nodes' downloads,
 * filtered, sorted by a column of cols (already checked) or by age. The
 * select list sees the CTE "d": the row, its version (row_ver) and the
 * computed columns the expressions use. */
static char *
build_query(const char *select, const col_t *sort, bool reverse, long long max_sources)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "WITH d AS (SELECT x.*, x.xmin::text AS row_ver, ");
    state_case(b);
    evbuffer_add_printf(
        b, " AS qstate, CASE WHEN x.state = 'completed' THEN 0 ELSE row_number() OVER"
           " (PARTITION BY x.node, x.state = 'completed'"
           " ORDER BY x.priority DESC, x.added_at, x.hash)"
           " END AS queue_pos,"
           " CASE WHEN x.state = 'completed' THEN x.size ELSE x.done_bytes END AS done,"
           " floor(extract(epoch FROM now()))::bigint AS now_s, %lld AS max_sources"
           " FROM downloads x WHERE " QBIT_NODE_IN("x.node", "$8") ")"
           " SELECT d.hash || '/' || d.node, %s",
        max_sources, select);
    evbuffer_add_printf(
        b, " FROM d WHERE ($2::text[] IS NULL OR d.qstate = ANY($2::text[]))"
           " AND ($3::int = 0 OR ($3::int = 1) = (d.dl_speed > 0 OR d.ul_speed > 0))"
           " AND ($4::text IS NULL OR coalesce(d.category, '') = $4::text)"
           " AND ($5::text IS NULL OR ($5::text = '' AND cardinality(d.tags) = 0)"
           " OR $5::text = ANY(d.tags))"
           " AND ($6::text[] IS NULL OR d.hash = ANY($6::text[]))"
           " AND ($7::text IS NULL OR d.added_by = $7::text)");
    if (sort != NULL) {
        evbuffer_add_printf(b, " ORDER BY ");
        sort_key(b, sort);
        evbuffer_add_printf(b, " %s, d.hash, d.node", reverse ? "DESC" : "ASC");
    } else
        evbuffer_add_printf(b, " ORDER BY d.added_at %s, d.hash, d.node",
                            reverse ? "DESC" : "ASC");
    evbuffer_add(b, "", 1);
    char *sql = xstrdup((const char *)evbuffer_pullup(b, -1));
    evbuffer_free(b);
    return sql;
}

/* run_select: the row query with filters and a select list; NULL after
 * answering 503. */
static PGresult *
run_select(qbit_t *q, http_response_t *resp, const char *select, const filter_t *f,
           const col_t *sort, bool reverse)
{
    char *sql = build_query(select, sort, reverse,
                            conf_get_int(cgienv_conf(q->env), "max_sources_per_file"));
    char activity[4];
    snprintf(activity, sizeof activity, "%d", f->activity);
    const char *params[] = { f->states,  activity, f->category, f->tag,
                             f->hashes,  f->owner, f->node };
    PGresult *r = cgidb_query(q->env, resp, sql, 7, params);
    free(sql);
    return r;
}

/* run_rows: the row query with filters, each row's JSON of cols; NULL
 * after answering 503. */
static PGresult *
run_rows(qbit_t *q, http_response_t *resp, const col_t *cols, size_t n, bool skip_hash,
         const filter_t *f, const col_t *sort, bool reverse)
{
    struct evbuffer *b = evbuffer_new();
    json_select(b, cols, n, skip_hash);
    evbuffer_add(b, "", 1);
    PGresult *r = run_select(q, resp, (const char *)evbuffer_pullup(b, -1), f, sort, reverse);
    evbuffer_free(b);
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
 * seeding_time). A large one is kept as a file the web server sends
 * (cgifile.h) when it can, else in memory. */
#define CACHE_MS 1000
#define CACHE_SLOTS 8
#define CACHE_MAX_BYTES (64u * 1024 * 1024)
#define CACHE_FILE_MIN (64u * 1024)

typedef struct {
    char *key;
    long long generation;
    int64_t at_ms;
    char *body; /* or */
    char *path;
    size_t len;
} cache_entry_t;

static cache_entry_t cache[CACHE_SLOTS];
static size_t cache_bytes;

/* generation: the change counter of the nodes listed (node, NULL for
 * every node: their sum, which grows with any of them), 0 when they have
 * none yet, and in mark (32 bytes) the mark of this statement's snapshot
 * (sql/032_download_change_log.sql); *others: whether another node than
 * this program's has written downloads rows. -1 after answering 503. */
static long long
generation(qbit_t *q, http_response_t *resp, const char *node, char *mark, bool *others)
{
    const char *params[] = { node };
    PGresult *r = cgidb_query(q->env, resp,
                              "SELECT (SELECT sum(generation) FROM download_changes WHERE "
                              QBIT_NODE_IN("node", "$2") "),"
                              " pg_snapshot_xmin(pg_current_snapshot())::text,"
                              " EXISTS (SELECT 1 FROM download_changes WHERE node <> $1)",
                              1, params);
    if (r == NULL)
        return -1;
    long long g = strtoll(PQgetvalue(r, 0, 0), NULL, 10); /* NULL: "" */
    snprintf(mark, 32, "%s", PQgetvalue(r, 0, 1));
    *others = *PQgetvalue(r, 0, 2) == 't';
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
    cgifile_release(e->path, clock_mono_ms());
    memset(e, 0, sizeof *e);
}

/* cache_store: keeps the answer body (its bytes, or path: a cgifile_write
 * file, then taken) for key. */
static void
cache_store(const char *key, long long gen, int64_t now, struct evbuffer *body, char *path)
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
    if (cache_bytes + len > CACHE_MAX_BYTES) {
        cgifile_release(path, now);
        return;
    }
    slot->key = xstrdup(key);
    slot->generation = gen;
    slot->at_ms = now;
    slot->len = len;
    slot->path = path;
    if (path == NULL) {
        slot->body = xmalloc(len > 0 ? len : 1);
        evbuffer_copyout(body, slot->body, len);
    }
    cache_bytes += len;
}

/* ------------------------------------------------ the torrents/info rows */

/* A listing is assembled from the parts of info_cols, in order: runs of
 * columns that depend on the row alone, rendered by PostgreSQL once per
 * row version and kept by each process (rowcache.h), and the columns that
 * depend on the time or on the other rows (their expressions use now_s,
 * queue_pos or qstate), asked for on every listing. The bytes are those
 * of one row_to_json over info_cols. */
typedef struct {
    size_t first, n;
    bool dynamic;
} part_t;

static part_t parts[N_COLS(info_cols)];
static size_t n_parts, n_static;
static qbit_rowcache_t *row_cache;
static char *list_select;  /* row_ver, then each dynamic column's value */
static char *fetch_select; /* row_ver, then each static run's JSON object */

static bool
col_is_dynamic(const col_t *c)
{
    return strstr(c->expr, "now_s") != NULL || strstr(c->expr, "queue_pos") != NULL ||
           strstr(c->expr, "qstate") != NULL || strstr(c->expr, "now()") != NULL;
}

static void
parts_init(void)
{
    if (n_parts > 0)
        return;
    for (size_t i = 0; i < N_COLS(info_cols); i++) {
        bool dyn = col_is_dynamic(&info_cols[i]);
        if (!dyn && n_parts > 0 && !parts[n_parts - 1].dynamic) {
            parts[n_parts - 1].n++;
            continue;
        }
        parts[n_parts++] = (part_t){ i, 1, dyn };
        n_static += !dyn;
    }
    struct evbuffer *ls = evbuffer_new(), *fs = evbuffer_new();
    evbuffer_add_printf(ls, "d.row_ver");
    evbuffer_add_printf(fs, "d.row_ver");
    for (size_t p = 0; p < n_parts; p++) {
        if (parts[p].dynamic) {
            evbuffer_add_printf(ls, ", %s", info_cols[parts[p].first].expr);
        } else {
            evbuffer_add(fs, ", ", 2);
            json_select(fs, &info_cols[parts[p].first], parts[p].n, false);
        }
    }
    evbuffer_add(ls, "", 1);
    evbuffer_add(fs, "", 1);
    list_select = xstrdup((const char *)evbuffer_pullup(ls, -1));
    fetch_select = xstrdup((const char *)evbuffer_pullup(fs, -1));
    evbuffer_free(ls);
    evbuffer_free(fs);
    row_cache = qbit_rowcache_new(n_static, CACHE_MAX_BYTES);
}

/* fetch_missing: the static parts of the listed rows [from, to) of r
 * this process has not rendered at their version; -1 after answering 503. */
static int
fetch_missing(qbit_t *q, http_response_t *resp, PGresult *r, long long from, long long to,
              const char *node)
{
    struct evbuffer *b = evbuffer_new();
    for (long long i = from; i < to; i++)
        if (qbit_rowcache_get(row_cache, PQgetvalue(r, (int)i, 0), PQgetvalue(r, (int)i, 1)) ==
            NULL)
            evbuffer_add_printf(b, "%s%.32s", evbuffer_get_length(b) == 0 ? "{" : ",",
                                PQgetvalue(r, (int)i, 0)); /* its MD4 */
    if (evbuffer_get_length(b) == 0) {
        evbuffer_free(b);
        return 0;
    }
    evbuffer_add(b, "}", 2);
    filter_t f = { .hashes = (char *)evbuffer_pullup(b, -1), .node = node };
    PGresult *m = run_select(q, resp, fetch_select, &f, NULL, false);
    evbuffer_free(b);
    if (m == NULL)
        return -1;
    const char *segs[N_COLS(info_cols)];
    size_t len[N_COLS(info_cols)];
    for (int i = 0; i < PQntuples(m); i++) {
        for (size_t k = 0; k < n_static; k++) {
            segs[k] = PQgetvalue(m, i, (int)k + 2);
            len[k] = (size_t)PQgetlength(m, i, (int)k + 2);
        }
        qbit_rowcache_put(row_cache, PQgetvalue(m, i, 0), PQgetvalue(m, i, 1), segs, len);
    }
    PQclear(m);
    return 0;
}

/* The type OIDs of PostgreSQL's catalog (pg_type.dat) a value may have. */
enum { PG_BOOL = 16, PG_INT8 = 20, PG_INT2 = 21, PG_INT4 = 23, PG_FLOAT4 = 700,
       PG_FLOAT8 = 701, PG_NUMERIC = 1700 };

/* add_json_value: field (i, c) of r as row_to_json writes a value of its
 * type: numbers as they are (but NaN and infinities as strings), booleans
 * as true/false, everything else as a string escaped as PostgreSQL's
 * escape_json does. */
static void
add_json_value(struct evbuffer *b, PGresult *r, int i, int c)
{
    if (PQgetisnull(r, i, c)) {
        evbuffer_add(b, "null", 4);
        return;
    }
    const char *v = PQgetvalue(r, i, c);
    size_t len = (size_t)PQgetlength(r, i, c);
    switch (PQftype(r, c)) {
    case PG_INT8:
    case PG_INT2:
    case PG_INT4:
    case PG_FLOAT4:
    case PG_FLOAT8:
    case PG_NUMERIC:
        if (strcmp(v, "NaN") != 0 && strcmp(v, "Infinity") != 0 && strcmp(v, "-Infinity") != 0) {
            evbuffer_add(b, v, len);
            return;
        }
        break;
    case PG_BOOL:
        evbuffer_add_printf(b, "%s", *v == 't' ? "true" : "false");
        return;
    default:
        break;
    }
    evbuffer_add(b, "\"", 1);
    for (const char *p = v; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        switch (ch) {
        case '"': evbuffer_add(b, "\\\"", 2); break;
        case '\\': evbuffer_add(b, "\\\\", 2); break;
        case '\b': evbuffer_add(b, "\\b", 2); break;
        case '\f': evbuffer_add(b, "\\f", 2); break;
        case '\n': evbuffer_add(b, "\\n", 2); break;
        case '\r': evbuffer_add(b, "\\r", 2); break;
        case '\t': evbuffer_add(b, "\\t", 2); break;
        default:
            if (ch < 0x20)
                evbuffer_add_printf(b, "\\u%04x", ch);
            else
                evbuffer_add(b, p, 1);
        }
    }
    evbuffer_add(b, "\"", 1);
}

/* add_row: row i of the listing r as JSON, after a comma unless *first;
 * nothing when its row was deleted before its parts could be fetched. */
static void
add_row(struct evbuffer *b, PGresult *r, int i, bool *first)
{
    /* a row changed again between the two queries: its newer parts */
    const char *const *segs = qbit_rowcache_get(row_cache, PQgetvalue(r, i, 0), NULL);
    if (segs == NULL)
        return;
    evbuffer_add(b, *first ? "{" : ",{", *first ? 1 : 2);
    *first = false;
    for (size_t p = 0, s = 0, d = 2; p < n_parts; p++) {
        if (p > 0)
            evbuffer_add(b, ",", 1);
        if (parts[p].dynamic) {
            evbuffer_add_printf(b, "\"%s\":", info_cols[parts[p].first].key);
            add_json_value(b, r, i, (int)d++);
        } else {
            const char *seg = segs[s++]; /* {...}: its members */
            size_t len = strlen(seg);
            if (len >= 2)
                evbuffer_add(b, seg + 1, len - 2);
        }
    }
    evbuffer_add(b, "}", 1);
}

static void json_headers(http_response_t *resp);

/* ------------------------------------------ the whole list, once a second */

/* The node's whole list in the default order, rendered at most once per
 * (generation, second) by each process (infolist.h): the variants of
 * torrents/info that keep that order (filter, category, hashes, limit,
 * offset) are cut from it in C. It is rendered in C from the process's
 * copy of the rows (infomodel.h), which asks PostgreSQL only for the rows
 * written or deleted since it last looked (sql/032_download_change_log.sql)
 * and computes the columns that move with the time or the other rows
 * itself: a new second needs no query. Its body is kept as a file too:
 * the whole list, or a few runs of it, are then sent by the web server
 * from there (X-Sendfile, X-Sendfile2). */
#define SNAP_MAX_RANGES 8
/* read every row again after this long without looking: download_gone
 * keeps the deletions an hour */
#define MODEL_FULL_MS (30 * 60 * 1000)

static qbit_infolist_t *snap;
static long long snap_gen = -1;
static int64_t snap_s;
static char *snap_path; /* the body's file, or NULL */

static qbit_infomodel_t *model;
static long long model_gen = -1;
static char model_mark[32]; /* the snapshot mark it is current to; "" none */
static int64_t model_at;   /* when it last looked (monotonic ms) */
static char *model_sql[2]; /* every row; the rows changed since $2 */
static size_t n_model_segs;

/* The computed columns, by their key in info_cols. */
static const struct {
    const char *key;
    qbit_dyn_t dyn;
} dyn_keys[] = {
    { "priority", QBIT_DYN_QUEUE_POS },
    { "seeding_time", QBIT_DYN_SEEDING_TIME },
    { "seen_complete", QBIT_DYN_SEEN_COMPLETE },
    { "state", QBIT_DYN_STATE },
    { "time_active", QBIT_DYN_TIME_ACTIVE },
};

/* model_init: the model of info_cols' parts and its two queries: the
 * plain values the computed columns and the filters use, then each
 * row-only run's JSON object, of the node's rows (those changed since
 * the mark $2). */
static void
model_init(void)
{
    qbit_infopart_t mp[N_COLS(info_cols)];
    struct evbuffer *segs = evbuffer_new();
    for (size_t p = 0; p < n_parts; p++) {
        mp[p] = (qbit_infopart_t){ .dynamic = parts[p].dynamic };
        if (!parts[p].dynamic) {
            evbuffer_add(segs, ", ", 2);
            json_select(segs, &info_cols[parts[p].first], parts[p].n, false);
            continue;
        }
        mp[p].key = info_cols[parts[p].first].key;
        size_t k = 0;
        while (k < N_COLS(dyn_keys) && strcmp(dyn_keys[k].key, mp[p].key) != 0)
            k++;
        if (MT_BUG(k == N_COLS(dyn_keys)))
            k = 0; /* a computed column without its C: caught by the tests */
        mp[p].dyn = dyn_keys[k].dyn;
    }
    evbuffer_add(segs, "", 1);
    model = qbit_infomodel_new(mp, n_parts);
    n_model_segs = n_static;
    struct evbuffer *b = evbuffer_new();
    for (int since = 0; since < 2; since++) {
        evbuffer_add_printf(b, "WITH d AS (SELECT x.*, ");
        state_case(b);
        evbuffer_add_printf(
            b, " AS qstate, CASE WHEN x.state = 'completed' THEN x.size ELSE x.done_bytes END"
               " AS done FROM downloads x WHERE x.node = $1%s)"
               " SELECT d.hash, (extract(epoch FROM d.added_at) * 1000000)::bigint, %s,"
               " coalesce(%s, -1), d.priority, d.state = 'completed', d.complete_sources > 0,"
               " (d.dl_speed > 0 OR d.ul_speed > 0), d.qstate, coalesce(d.category, '')%s"
               " FROM d",
            since ? " AND x.changed_xid >= $2::xid8" : "", EPOCH("d.added_at"),
            EPOCH("d.completed_at"), (const char *)evbuffer_pullup(segs, -1));
        evbuffer_add(b, "", 1);
        model_sql[since] = xstrdup((const char *)evbuffer_pullup(b, -1));
        evbuffer_drain(b, evbuffer_get_length(b));
    }
    evbuffer_free(b);
    evbuffer_free(segs);
}

/* model_put: row i of a model query into the model. */
static void
model_put(PGresult *r, int i)
{
    const char *segs[N_COLS(info_cols)];
    size_t len[N_COLS(info_cols)];
    for (size_t k = 0; k < n_model_segs; k++) {
        segs[k] = PQgetvalue(r, i, (int)k + 10);
        len[k] = (size_t)PQgetlength(r, i, (int)k + 10);
    }
    qbit_inforow_t row = {
        .md4 = PQgetvalue(r, i, 0),
        .added_us = strtoll(PQgetvalue(r, i, 1), NULL, 10),
        .added_s = strtoll(PQgetvalue(r, i, 2), NULL, 10),
        .completed_s = strtoll(PQgetvalue(r, i, 3), NULL, 10),
        .priority = strtoll(PQgetvalue(r, i, 4), NULL, 10),
        .finished = *PQgetvalue(r, i, 5) == 't',
        .complete_source = *PQgetvalue(r, i, 6) == 't',
        .active = *PQgetvalue(r, i, 7) == 't',
        .state = PQgetvalue(r, i, 8),
        .category = PQgetvalue(r, i, 9),
        .segs = segs,
        .seg_len = len,
    };
    qbit_infomodel_put(model, &row);
}

/* model_update: the model brought to generation gen: the rows written
 * since it last looked (every row the first time or after a long pause),
 * the rows deleted since dropped. mark: the snapshot mark of a statement
 * run before these (generation's). -1 after answering 503. */
static int
model_update(qbit_t *q, http_response_t *resp, long long gen, const char *mark, int64_t now)
{
    if (model == NULL)
        model_init();
    if (model_gen == gen && model_mark[0] != '\0')
        return 0;
    bool since = model_mark[0] != '\0' && now - model_at < MODEL_FULL_MS;
    const char *params[] = { model_mark };
    PGresult *r = cgidb_query(q->env, resp, model_sql[since], since ? 1 : 0, params);
    if (r == NULL)
        return -1;
    if (!since)
        qbit_infomodel_clear(model);
    for (int i = 0; i < PQntuples(r); i++)
        model_put(r, i);
    PQclear(r);
    if (since) {
        r = cgidb_query(q->env, resp,
                        "SELECT g.hash FROM download_gone g WHERE g.node = $1"
                        " AND g.xid >= $2::xid8 AND NOT EXISTS (SELECT 1 FROM downloads x"
                        " WHERE x.node = $1 AND x.hash = g.hash)",
                        1, params);
        if (r == NULL)
            return -1;
        for (int i = 0; i < PQntuples(r); i++)
            qbit_infomodel_remove(model, PQgetvalue(r, i, 0));
        PQclear(r);
    }
    snprintf(model_mark, sizeof model_mark, "%s", mark);
    model_gen = gen;
    model_at = now;
    return 0;
}

/* snapshot: the list for gen and this second, rendered when the kept one
 * is not; NULL after answering 503. */
static const qbit_infolist_t *
snapshot(qbit_t *q, http_response_t *resp, long long gen, const char *mark, int64_t now)
{
    int64_t now_s = (int64_t)time(NULL);
    if (snap != NULL && snap_gen == gen && snap_s == now_s)
        return snap;
    if (model_update(q, resp, gen, mark, now) != 0)
        return NULL;
    qbit_infolist_t *l = qbit_infomodel_render(model, now_s);
    size_t blen;
    const char *body = qbit_infolist_body(l, &blen);
    char *path = NULL;
    if (blen >= CACHE_FILE_MIN) {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_reference(b, body, blen, NULL, NULL);
        path = cgifile_write(b);
        evbuffer_free(b);
    }
    qbit_infolist_free(snap);
    cgifile_release(snap_path, now);
    snap = l;
    snap_path = path;
    snap_gen = gen;
    snap_s = now_s;
    return snap;
}

/* states_split: the states of a filter_states literal ("{a,b}") into
 * v (a copy in buf); their count. */
static size_t
states_split(const char *lit, char *buf, size_t size, const char **v, size_t max)
{
    snprintf(buf, size, "%s", lit + 1);
    buf[strcspn(buf, "}")] = '\0';
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t != NULL && n < max;
         t = strtok_r(NULL, ",", &save))
        v[n++] = t;
    return n;
}

/* answer_ranges: resp's body made of the ranges rs[0..n) of the list's
 * body: sent from its file when there is one and they are few, else
 * copied. Whether the body was copied (it may then be kept). */
static bool
answer_ranges(http_response_t *resp, const qbit_range_t *rs, size_t n)
{
    size_t blen, total = 0;
    const char *body = qbit_infolist_body(snap, &blen);
    for (size_t i = 0; i < n; i++)
        total += rs[i].len;
    if (snap_path != NULL && total >= CACHE_FILE_MIN && n <= SNAP_MAX_RANGES) {
        if (n == 1 && rs[0].len == blen) {
            cgifile_answer(resp, snap_path);
        } else {
            cgifile_range_t cr[SNAP_MAX_RANGES];
            for (size_t i = 0; i < n; i++)
                cr[i] = (cgifile_range_t){ rs[i].off, rs[i].len };
            cgifile_answer_ranges(resp, snap_path, cr, n);
        }
        return false;
    }
    struct evbuffer *b = http_response_body(resp);
    for (size_t i = 0; i < n; i++)
        evbuffer_add(b, body + rs[i].off, rs[i].len);
    return true;
}

/* info_from_snapshot: answers torrents/info from the whole list; -1 when
 * that is not possible (a 503 is then answered). */
static int
info_from_snapshot(qbit_t *q, http_response_t *resp, const filter_t *f, const qbit_hashes_t *h,
                   long long limit, long long offset, long long gen, const char *mark,
                   int64_t now, const char *key)
{
    if (snapshot(q, resp, gen, mark, now) == NULL)
        return -1;
    char buf[512];
    const char *states[32];
    qbit_infosel_t sel = { .activity = f->activity, .category = f->category,
                           .limit = limit, .offset = offset };
    if (f->states != NULL) {
        sel.n_states = states_split(f->states, buf, sizeof buf, states, 32);
        sel.states = states;
    }
    const char *md4[QBIT_MAX_HASHES];
    if (f->hashes != NULL) {
        for (size_t i = 0; i < h->n; i++)
            md4[i] = h->md4[i];
        sel.md4 = md4;
        sel.n_md4 = h->n;
    }
    size_t n;
    qbit_range_t *rs = qbit_infolist_select(snap, &sel, &n);
    json_headers(resp);
    if (answer_ranges(resp, rs, n)) {
        struct evbuffer *b = http_response_body(resp);
        char *path = evbuffer_get_length(b) >= CACHE_FILE_MIN ? cgifile_write(b) : NULL;
        cache_store(key, gen, now, b, path);
        if (path != NULL)
            cgifile_answer(resp, path);
    }
    free(rs);
    return 0;
}

/* info_key: the parameters that shape a torrents/info answer, each marked
 * present or absent, and whose downloads it lists (a new string). */
static char *
info_key(http_request_t *req, const char *owner, const char *node)
{
    static const char *const names[] = { "filter", "category", "tag", "hashes",
                                         "sort",   "reverse",  "limit", "offset" };
    struct evbuffer *b = evbuffer_new();
    if (owner != NULL)
        evbuffer_add_printf(b, "owner=%zu:%s\n", strlen(owner), owner);
    if (node != NULL)
        evbuffer_add_printf(b, "node=%zu:%s\n", strlen(node), node);
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
    f.owner = q->owner;
    const char *hv = http_request_param(req, "hashes");
    bool none = false;
    qbit_hashes_t h = { 0 };
    if (hv != NULL) {
        if (qbit_hashes_parse(hv, &h) != 0 && *hv != '\0')
            return qbit_text(resp, 400, "Bad Request");
        if (*hv != '\0' && qbit_hashes_resolve(q, resp, &h) != 0)
            return 0;
        if (!h.all && *hv != '\0') {
            if (h.n == 0)
                none = true; /* unknown or malformed: nothing */
            else
                f.hashes = hashes_literal(&h);
        }
    }
    if (none)
        return qbit_json_text(resp, "[]", 2);

    char mark[32];
    bool others = false;
    f.node = q->node;
    long long gen = generation(q, resp, f.node, mark, &others);
    if (gen < 0) {
        free(f.hashes);
        return 0;
    }
    /* this program's node alone (asked for, or the only one): the
     * process's copy of its rows can answer */
    bool own = f.node != NULL ? strcmp(f.node, cgienv_node(q->env)) == 0 : !others;
    char *key = info_key(req, q->owner, f.node);
    int64_t now = clock_mono_ms();
    cgifile_sweep(now);
    cache_entry_t *hit = cache_find(key, gen, now);
    if (hit != NULL) {
        free(key);
        free(f.hashes);
        json_headers(resp);
        if (hit->path != NULL)
            cgifile_answer(resp, hit->path);
        else /* no copy: the entry outlives this answer (it is written
              * before the next request can replace it) */
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

    parts_init();
    /* the default order, no tag, everyone's downloads: cut from the whole
     * list; one account's own downloads take the query below */
    if (own && sort == NULL && !reverse && f.tag == NULL && f.owner == NULL) {
        info_from_snapshot(q, resp, &f, &h, limit, offset, gen, mark, now, key);
        free(f.hashes);
        free(key);
        return 0;
    }
    PGresult *r = run_select(q, resp, list_select, &f, sort, reverse);
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
    if (fetch_missing(q, resp, r, offset, end, f.node) != 0) {
        PQclear(r);
        free(key);
        return 0;
    }
    json_headers(resp);
    struct evbuffer *b = http_response_body(resp);
    evbuffer_add(b, "[", 1);
    bool first = true;
    for (long long i = offset; i < end; i++)
        add_row(b, r, (int)i, &first);
    evbuffer_add(b, "]", 1);
    PQclear(r);
    char *path = evbuffer_get_length(b) >= CACHE_FILE_MIN ? cgifile_write(b) : NULL;
    cache_store(key, gen, now, b, path);
    if (path != NULL)
        cgifile_answer(resp, path); /* still valid: released files linger */
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
    int found = qbit_hash_lookup(q, resp, hv, md4);
    if (found <= 0) {
        if (found == 0)
            qbit_text(resp, 404, "Not Found");
        return NULL;
    }
    char lit[40];
    snprintf(lit, sizeof lit, "{%s}", md4);
    filter_t f = { .hashes = lit, .owner = q->owner, .node = q->node };
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
        /* qBittorrent's file priorities: 0 (not downloaded) while paused
         * or stopped, else 1, or 6 for a high priority download */
        { "file_prio", "CASE WHEN d.state IN ('paused', 'stopped') THEN 0"
                       " WHEN d.priority > 0 THEN 6 ELSE 1 END" },
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
        json_object_object_add(e, "priority",
                               json_object_get(json_object_object_get(row, "file_prio")));
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
                              "SELECT tag FROM (SELECT unnest(tags) AS tag FROM downloads"
                              " WHERE node = $1 UNION SELECT name FROM tags WHERE node = $1) t"
                              " ORDER BY tag",
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
 * samples, Kad's contact count as dht_nodes, the connection state and the
 * limits in force from the daemon
 * (disconnected with the configured limits when it is not running), and
 * use_alt_speed_limits; NULL after answering 503 for the database. */
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
        " coalesce((SELECT dl_total FROM last), 0), coalesce((SELECT ul_total FROM last), 0),"
        " coalesce((SELECT kad_contacts FROM daemon_status WHERE node = $1), 0)",
        0, NULL);
    if (r == NULL)
        return NULL;
    long long v[7];
    for (int i = 0; i < 7; i++)
        v[i] = strtoll(PQgetvalue(r, 0, i), NULL, 10);
    PQclear(r);
    const char *status = "disconnected";
    mt_error_t *err = NULL;
    json_object *srv = NULL, *lim = NULL;
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
    err = NULL;
    /* the limits in force (the alternative pair while its mode is on);
     * the configured ones when the daemon is not running */
    const conf_t *conf = cgienv_conf(q->env);
    long long dl_limit = conf_get_int(conf, "max_download");
    long long up_limit = conf_get_int(conf, "max_upload");
    bool alt = false;
    if (c != NULL && ctl_client_call(c, "limits", NULL, &lim, &err) == 0) {
        json_object *v = NULL;
        if (json_object_object_get_ex(lim, "download_limit", &v))
            dl_limit = json_object_get_int64(v);
        if (json_object_object_get_ex(lim, "upload_limit", &v))
            up_limit = json_object_get_int64(v);
        alt = json_object_object_get_ex(lim, "alt_mode", &v) && json_object_get_boolean(v);
    }
    json_object_put(lim);
    mt_error_free(err);
    ctl_client_free(c);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "connection_status", json_object_new_string(status));
    /* qBittorrent's DHT nodes: Kad's routing table (daemon_status) */
    json_object_object_add(o, "dht_nodes", json_object_new_int64(v[6]));
    json_object_object_add(o, "dl_info_data", json_object_new_int64(v[2]));
    json_object_object_add(o, "dl_info_speed", json_object_new_int64(v[0]));
    json_object_object_add(o, "dl_rate_limit", json_object_new_int64(dl_limit * 1024));
    json_object_object_add(o, "up_info_data", json_object_new_int64(v[3]));
    json_object_object_add(o, "up_info_speed", json_object_new_int64(v[1]));
    json_object_object_add(o, "up_rate_limit", json_object_new_int64(up_limit * 1024));
    json_object_object_add(o, "alltime_dl", json_object_new_int64(v[4]));
    json_object_object_add(o, "alltime_ul", json_object_new_int64(v[5]));
    json_object_object_add(o, "use_alt_speed_limits", json_object_new_boolean(alt));
    return o;
}

int
qbit_transfer_info(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    json_object *o = qbit_transfer_object(ctx, resp);
    if (o == NULL)
        return 0;
    /* transfer/info has no all-time totals nor the mode; maindata's
     * server_state has */
    json_object_object_del(o, "alltime_dl");
    json_object_object_del(o, "alltime_ul");
    json_object_object_del(o, "use_alt_speed_limits");
    int rc = qbit_json(resp, o);
    json_object_put(o);
    return rc;
}

int
qbit_maindata_torrents(qbit_t *q, http_response_t *resp, qbit_torrent_fn fn, void *arg)
{
    /* this node's rows: sync/maindata's deltas are per node (sync.c) */
    filter_t f = { .node = cgienv_node(q->env) };
    /* d.hash, the hash the download is listed under (its btih or the
     * padded MD4), its JSON without "hash", who added it */
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "%s, d.added_by, ", HASH40_EXPR);
    json_select(b, info_cols, N_COLS(info_cols), true);
    evbuffer_add(b, "", 1);
    PGresult *r = run_select(q, resp, (const char *)evbuffer_pullup(b, -1), &f, NULL, false);
    evbuffer_free(b);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        fn(PQgetvalue(r, i, 1), PQgetvalue(r, i, 3), (size_t)PQgetlength(r, i, 3),
           PQgetvalue(r, i, 2), arg);
    PQclear(r);
    return 0;
}
