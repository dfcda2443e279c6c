/* query.c: the SQL of /api/metrics (metrics.h). A chart is one statement
 * (the rollups' buckets in order, or the raw samples of the window), and
 * only buckets holding samples become the chart's. All nodes
 * and one node are two statements, so that each is planned for its own
 * index: the primary keys (node, ...) for one node, transfer_samples_time_idx
 * (sampled_at, sql/022) and transfer_rollups_time_cover_idx (resolution_s,
 * bucket_start, with the figures: index-only, sql/030) for all. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cgidb.h"
#include "metrics/metrics.h"
#include "util/log.h"
#include "util/xalloc.h"

/* The 15-second chart reads the raw samples as they are, in binary, and
 * adds them up here (PostgreSQL grouping 17,280 rows of 3 nodes takes
 * twice as long as sending them): a bucket's bytes are its samples' rates
 * times their intervals (what the daemon measured; the rollups' totals
 * also take the growth of dl_total, which differs by less than a byte a
 * second). $1 the window's start (unix seconds), $2 the node. */
#define RAW_SELECT \
    "SELECT sampled_at, interval_ms, dl_rate, ul_rate FROM transfer_samples" \
    " WHERE sampled_at > to_timestamp($1::double precision)"
static const char raw_all[] = RAW_SELECT;
static const char raw_node[] = RAW_SELECT " AND node = $2";

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

/* The change counters of sql/027: every change to the charts' tables
 * raises one node's generation, so the sum of all nodes' grows too. */
static const char gen_all[] = "SELECT coalesce(sum(generation), 0)::bigint FROM metrics_changes";
static const char gen_node[] =
    "SELECT coalesce(sum(generation), 0)::bigint FROM metrics_changes WHERE node = $1";

/* run: the statement with its parameters; the rows into s. Column 0 the
 * bucket start, 1-2 bytes, 3-4 peaks. */
static int
run(mx_t *m, http_response_t *resp, const char *sql, int n, const char *const *params,
    mx_series_t *s)
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
            .dl_bytes = strtoull(PQgetvalue(res, i, 1), NULL, 10),
            .ul_bytes = strtoull(PQgetvalue(res, i, 2), NULL, 10),
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
    return node != NULL ? run(m, resp, rollup_node, 4, params, s)
                        : run(m, resp, rollup_all, 3, params, s);
}

/* PostgreSQL's binary timestamptz: microseconds since 2000-01-01 UTC. */
#define PG_EPOCH_US INT64_C(946684800000000)

static uint64_t
be_get(const char *p, int len)
{
    uint64_t v = 0;
    for (int i = 0; i < len; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

/* A sample in binary: sampled_at, interval_ms, dl_rate, ul_rate. */
typedef struct {
    int64_t bucket;      /* sql/006's muleteer_bucket_start, in buckets since the epoch */
    uint64_t dl_x1000, ul_x1000, dl_rate, ul_rate;
} raw_row_t;

/* raw_row: row i of res; false for a row not of the expected shape. */
static bool
raw_row(const PGresult *res, int i, int bucket_s, raw_row_t *r)
{
    static const int len[] = { 8, 4, 8, 8 };
    for (int c = 0; c < 4; c++)
        if (PQgetisnull(res, i, c) || PQgetlength(res, i, c) != len[c])
            return false;
    int64_t us = (int64_t)be_get(PQgetvalue(res, i, 0), 8) + PG_EPOCH_US;
    uint64_t iv = be_get(PQgetvalue(res, i, 1), 4);
    r->dl_rate = be_get(PQgetvalue(res, i, 2), 8);
    r->ul_rate = be_get(PQgetvalue(res, i, 3), 8);
    if (us < 1 || iv > INT32_MAX || r->dl_rate > INT64_MAX / INT32_MAX ||
        r->ul_rate > INT64_MAX / INT32_MAX)
        return false;
    /* buckets are (start, start + res]: an instant on an edge belongs to
     * the bucket that ends there */
    r->bucket = (us - 1) / ((int64_t)bucket_s * 1000000);
    r->dl_x1000 = r->dl_rate * iv;
    r->ul_x1000 = r->ul_rate * iv;
    return true;
}

/* raw: the chart of bucket_s-second buckets from the samples after from_s:
 * the rows go into a dense array of the window's buckets, then the
 * buckets holding samples into s. */
static int
raw(mx_t *m, http_response_t *resp, int bucket_s, const char *node, int64_t from_s,
    mx_series_t *s)
{
    PGconn *db = cgidb_conn(m->env, resp);
    if (db == NULL)
        return -1;
    char from[24];
    snprintf(from, sizeof from, "%" PRId64, from_s);
    const char *params[] = { from, node };
    PGresult *res = PQexecParams(db, node != NULL ? raw_node : raw_all, node != NULL ? 2 : 1,
                                 NULL, params, NULL, NULL, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 4) {
        log_warn("metrics: %s", PQerrorMessage(db));
        PQclear(res);
        cgienv_answer(m->env, resp, 503, CGIDB_UNAVAILABLE);
        return -1;
    }
    int rows = PQntuples(res);
    int64_t first = from_s / bucket_s, last = first - 1;
    raw_row_t r;
    for (int i = 0; i < rows; i++)
        if (raw_row(res, i, bucket_s, &r) && r.bucket > last)
            last = r.bucket;
    size_t n = (size_t)(last - first + 1);
    mx_bucket_t *b = xcalloc(n ? n : 1, sizeof *b);
    uint32_t *count = xcalloc(n ? n : 1, sizeof *count);
    for (int i = 0; i < rows; i++) {
        if (!raw_row(res, i, bucket_s, &r) || r.bucket < first)
            continue;
        mx_bucket_t *x = &b[r.bucket - first];
        count[r.bucket - first]++;
        x->dl_bytes += r.dl_x1000; /* bytes x 1000 until the end */
        x->ul_bytes += r.ul_x1000;
        if (r.dl_rate > x->dl_peak)
            x->dl_peak = r.dl_rate;
        if (r.ul_rate > x->ul_peak)
            x->ul_peak = r.ul_rate;
    }
    PQclear(res);
    for (size_t k = 0; k < n; k++) {
        if (count[k] == 0)
            continue; /* not running: left out */
        b[k].start_s = (first + (int64_t)k) * bucket_s;
        b[k].dl_bytes /= 1000;
        b[k].ul_bytes /= 1000;
        mx_series_add(s, &b[k]);
    }
    free(b);
    free(count);
    return 0;
}

long long
mx_query_generation(mx_t *m, http_response_t *resp, const char *node)
{
    PGconn *db = cgidb_conn(m->env, resp);
    if (db == NULL)
        return -1;
    const char *params[] = { node };
    PGresult *res = PQexecParams(db, node != NULL ? gen_node : gen_all, node != NULL ? 1 : 0,
                                 NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        log_warn("metrics: %s", PQerrorMessage(db));
        PQclear(res);
        cgienv_answer(m->env, resp, 503, CGIDB_UNAVAILABLE);
        return -1;
    }
    long long g = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return g;
}

int
mx_query_speed(mx_t *m, http_response_t *resp, const mx_range_t *r, const char *node,
               int64_t from_s, mx_series_t *s)
{
    if (r->speed_res != 15) /* 7 and 30 days: the rollups, never the samples */
        return rollups(m, resp, r->speed_res, r->speed_res, node, from_s, s);
    return raw(m, resp, r->speed_res, node, from_s, s);
}

int
mx_query_history(mx_t *m, http_response_t *resp, const mx_range_t *r, const char *node,
                 int64_t from_s, mx_series_t *s)
{
    return rollups(m, resp, r->hist_rollup, r->hist_res, node, from_s, s);
}
