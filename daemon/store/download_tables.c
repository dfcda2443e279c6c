/* download_tables.c: the SQL of the downloads, transfer_samples and
 * shared_files tables and of the retention job (download_tables.h), run by
 * the database worker. */
#include "config.h"

#include "daemon/store/download_tables.h"
#include "daemon/store/statement.h"
#include "db/db.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>

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
    " seeding_time_limit, force_start, last_activity, btih, share_stopped, dl_limit, up_limit,"  \
    " updated_at)"                                                                              \
    " SELECT $1, hash, name, size, category, priority, state, done_bytes, verified_bytes,"     \
    "  uploaded_bytes, dl_speed, ul_speed, sources, complete_sources, transferring_sources, to_timestamp(added_at),"     \
    "  to_timestamp(NULLIF(completed_at, 0)), save_path, content_path, error, added_by,"       \
    "  added_via, ARRAY(SELECT json_array_elements_text(tags)), ratio_limit,"                  \
    "  seeding_time_limit, force_start, to_timestamp(NULLIF(last_activity, 0)), btih,"          \
    "  coalesce(share_stopped, false), coalesce(dl_limit, 0), coalesce(up_limit, 0), now()"     \
    " FROM json_to_recordset($2::json) AS x(hash text, name text, size bigint, category text," \
    "  priority smallint, state text, done_bytes bigint, verified_bytes bigint,"               \
    "  uploaded_bytes bigint, dl_speed bigint, ul_speed bigint, sources int, complete_sources int, transferring_sources int,"          \
    "  added_at bigint, completed_at bigint, save_path text, content_path text, error text,"   \
    "  added_by text, added_via text, tags json, ratio_limit double precision,"                \
    "  seeding_time_limit int, force_start boolean, last_activity bigint, btih text,"           \
    "  share_stopped boolean, dl_limit bigint, up_limit bigint)"                                \
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
    "  btih = EXCLUDED.btih, share_stopped = EXCLUDED.share_stopped,"                           \
    "  dl_limit = EXCLUDED.dl_limit, up_limit = EXCLUDED.up_limit,"                            \
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

void
store_downloads_write(dbw_t *db, const char *node, const char *rows, bool full,
                      bool keep_completed, const char *delete_hex)
{
    rows_job_t *j = xcalloc(1, sizeof *j);
    j->node = xstrdup(node);
    j->rows = rows != NULL ? xstrdup(rows) : NULL;
    j->full = full;
    j->keep_completed = keep_completed;
    j->delete_hex = delete_hex != NULL ? xstrdup(delete_hex) : NULL;
    dbw_submit(db, full ? "downloads_full" : NULL, rows_job_run, j, rows_job_free);
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

void
store_sample_write(dbw_t *db, const char *node, const store_sample_t *sm)
{
    sample_job_t *j = xcalloc(1, sizeof *j);
    snprintf(j->node, sizeof j->node, "%s", node);
    snprintf(j->at, sizeof j->at, "%lld.%03lld", (long long)(sm->at_ms / 1000),
             (long long)(sm->at_ms % 1000));
    snprintf(j->interval, sizeof j->interval, "%lld", (long long)sm->interval_ms);
    snprintf(j->dl_rate, sizeof j->dl_rate, "%llu", (unsigned long long)sm->dl_rate);
    snprintf(j->ul_rate, sizeof j->ul_rate, "%llu", (unsigned long long)sm->ul_rate);
    snprintf(j->dl_delta, sizeof j->dl_delta, "%llu", (unsigned long long)sm->dl_delta);
    snprintf(j->ul_delta, sizeof j->ul_delta, "%llu", (unsigned long long)sm->ul_delta);
    snprintf(j->active, sizeof j->active, "%zu", sm->active);
    snprintf(j->sources, sizeof j->sources, "%zu", sm->sources);
    dbw_submit(db, NULL, sample_job_run, j, free);
}

typedef struct {
    char node[256];
    char raw[24], m1[24], coarse[24], history[24];
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

void
store_prune(dbw_t *db, const char *node, long long samples_days, long long m1_days,
            long long coarse_days, long long history_days)
{
    prune_job_t *j = xcalloc(1, sizeof *j);
    snprintf(j->node, sizeof j->node, "%s", node);
    snprintf(j->raw, sizeof j->raw, "%lld", samples_days);
    snprintf(j->m1, sizeof j->m1, "%lld", m1_days);
    snprintf(j->coarse, sizeof j->coarse, "%lld", coarse_days);
    if (history_days > 0)
        snprintf(j->history, sizeof j->history, "%lld", history_days);
    dbw_submit(db, "prune", prune_job_run, j, free);
}

/* The shared files, replaced as a whole (by path) when the list or its
 * statistics changed, at most every 5 seconds: the rows of $2. */
static const char SHARED_FILES_SQL[] =
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
    "  EXCLUDED.uploaded_bytes, EXCLUDED.requests)";

void
store_shared_files_write(dbw_t *db, const char *node, const char *rows)
{
    store_statement(db, "shared_files", SHARED_FILES_SQL, node, rows);
}
