/* query.c: the SQL of /api/metrics (metrics.h). A chart is one statement
 * returning its buckets in order, only those holding samples. All nodes
 * and one node are two statements, so that each is planned for its own
 * index: the primary keys (node, ...) for one node, transfer_samples_time_idx
 * and transfer_rollups_time_idx (resolution_s, bucket_start) for all. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cgidb.h"
#include "metrics/metrics.h"
#include "util/log.h"

/* The 15-second chart from the raw samples: a bucket's bytes are its
 * samples' rates times their intervals (what the daemon measured; the
 * totals of the rollups also take the growth of dl_total, which differs
 * by less than a byte a second). The bucket number is
 * sql/006's muleteer_bucket_start, in integer microseconds. $1 the
 * window's start (unix seconds), $2 the bucket (s), $3 the node. */
#define RAW_SELECT \
    "SELECT (round(extract(epoch FROM sampled_at) * 1000000)::bigint - 1)" \
    "        / ($2::bigint * 1000000) * $2::bigint AS b," \
    "       sum(dl_rate * interval_ms) AS dl, sum(ul_rate * interval_ms) AS ul," \
    "       max(dl_rate), max(ul_rate)" \
    "  FROM transfer_samples" \
    " WHERE sampled_at > to_timestamp($1::double precision)"
static const char raw_all[] = RAW_SELECT " GROUP BY 1 ORDER BY 1";
static const char raw_node[] = RAW_SELECT " AND node = $3 GROUP BY 1 ORDER BY 1";

/* Charts from the rollups: $1 the window's start, $2 the rollup
 * resolution, $3 the chart's bucket (a multiple of $2: 2-hour buckets are
 * two hourly rollups), $4 the node. Several nodes' rollups of one bucket
 * are added first (their peaks too: the highest total speed cannot be
 * more), then grouped into the chart's buckets (the highest peak). */
#define ROLLUP_SELECT(where) \
    "SELECT g, sum(dl), sum(ul), max(dp), max(up) FROM (" \
    " SELECT extract(epoch FROM bucket_start)::bigint / $3::bigint * $3::bigint AS g," \
    "        sum(dl_bytes) AS dl, sum(ul_bytes) AS ul, sum(dl_peak) AS dp, sum(ul_peak) AS up" \
    "   FROM transfer_rollups" \
    "  WHERE resolution_s = $2::integer AND bucket_start >= to_timestamp($1::double precision)" \
    where \
    "  GROUP BY bucket_start) x" \
    " GROUP BY g ORDER BY g"
static const char rollup_all[] = ROLLUP_SELECT("");
static const char rollup_node[] = ROLLUP_SELECT(" AND node = $4");

/* run: the statement with its parameters; the rows into s. Column 0 the
 * bucket start, 1-2 bytes (divided by div), 3-4 peaks. */
static int
run(mx_t *m, http_response_t *resp, const char *sql, int n, const char *const *params,
    uint64_t div, mx_series_t *s)
{
    PGconn *db = cgidb_conn(m->env, resp);
    if (db == NULL)
        return -1;
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        log_warn("metrics: %s", PQerrorMessage(db));
        PQclear(res);
        cgienv_answer(m->env, resp, 503, CGIDB_UNAVAILABLE);
        return -1;
    }
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++) {
        mx_bucket_t b = {
            .start_s = strtoll(PQgetvalue(res, i, 0), NULL, 10),
            .dl_bytes = strtoull(PQgetvalue(res, i, 1), NULL, 10) / div,
            .ul_bytes = strtoull(PQgetvalue(res, i, 2), NULL, 10) / div,
            .dl_peak = strtoull(PQgetvalue(res, i, 3), NULL, 10),
            .ul_peak = strtoull(PQgetvalue(res, i, 4), NULL, 10),
        };
        mx_series_add(s, &b);
    }
    PQclear(res);
    return 0;
}

/* rollups: the chart of res-second buckets made of rollup rollups. */
static int
rollups(mx_t *m, http_response_t *resp, int rollup, int res, const char *node, int64_t from_s,
        mx_series_t *s)
{
    char from[24], r[12], g[12];
    snprintf(from, sizeof from, "%" PRId64, from_s);
    snprintf(r, sizeof r, "%d", rollup);
    snprintf(g, sizeof g, "%d", res);
    const char *params[] = { from, r, g, node };
    return node != NULL ? run(m, resp, rollup_node, 4, params, 1, s)
                        : run(m, resp, rollup_all, 3, params, 1, s);
}

int
mx_query_speed(mx_t *m, http_response_t *resp, const mx_range_t *r, const char *node,
               int64_t from_s, mx_series_t *s)
{
    if (r->speed_res != 15) /* 7 and 30 days: the rollups, never the samples */
        return rollups(m, resp, r->speed_res, r->speed_res, node, from_s, s);
    char from[24], res[12];
    snprintf(from, sizeof from, "%" PRId64, from_s);
    snprintf(res, sizeof res, "%d", r->speed_res);
    const char *params[] = { from, res, node };
    /* rate (bytes/s) x interval (ms): bytes x 1000 */
    return node != NULL ? run(m, resp, raw_node, 3, params, 1000, s)
                        : run(m, resp, raw_all, 2, params, 1000, s);
}

int
mx_query_history(mx_t *m, http_response_t *resp, const mx_range_t *r, const char *node,
                 int64_t from_s, mx_series_t *s)
{
    return rollups(m, resp, r->hist_rollup, r->hist_res, node, from_s, s);
}
