/* series.h: the pure side of /api/metrics: the three ranges and their
 * bucket sizes, a chart as an array of UTC-aligned buckets, the range's
 * totals, averages and peaks, and the JSON aMuTorrent reads, written
 * straight into an evbuffer (a 24-hour chart has 5,761 buckets). No
 * PostgreSQL, no FastCGI: tests/unit/check_metrics links it alone. */
#ifndef MT_CGI_METRICS_SERIES_H
#define MT_CGI_METRICS_SERIES_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One range of ?range=: its length, the bucket of its speed chart and of
 * its history chart, and the rollup resolution the history buckets are
 * made of (hist_res is a multiple of it). speed_res 15 reads the raw
 * samples; every other size reads transfer_rollups. */
typedef struct {
    const char *name;    /* "24h", "7d", "30d" */
    int64_t seconds;
    int speed_res;       /* 15, 900, 3600 */
    int hist_res;        /* 900, 7200, 21600 */
    int hist_rollup;     /* 900, 3600, 21600 */
} mx_range_t;

/* mx_range_find: the range called name, NULL for anything else (NULL
 * included). */
const mx_range_t *mx_range_find(const char *name);

/* mx_window_start: the start of the first bucket of res seconds a chart
 * of r shows at now_s (unix seconds): the bucket, aligned to the UTC
 * epoch, that holds now_s - r->seconds. */
int64_t mx_window_start(const mx_range_t *r, int res, int64_t now_s);

/* One bucket (start, start + res]: the bytes of the samples ending in it
 * (all nodes added up, or one node's), and the highest sample rates
 * (with several nodes, the nodes' peaks of one rollup bucket added). */
typedef struct {
    int64_t start_s;
    uint64_t dl_bytes, ul_bytes;
    uint64_t dl_peak, ul_peak;
} mx_bucket_t;

/* A chart: buckets in time order, only those with samples (the daemon
 * was running), of res seconds. */
typedef struct {
    int res;
    mx_bucket_t *b;
    size_t n, cap;
} mx_series_t;

void mx_series_init(mx_series_t *s, int res);
/* mx_series_add: appends a bucket (copied). */
void mx_series_add(mx_series_t *s, const mx_bucket_t *b);
void mx_series_clear(mx_series_t *s);

/* What stats?range= answers, from a history chart. */
typedef struct {
    uint64_t total_ul, total_dl;
    uint64_t avg_ul, avg_dl;     /* totals over the time of the buckets present */
    uint64_t peak_ul, peak_dl;   /* the highest bucket peak */
} mx_stats_t;

/* mx_stats_of: the totals of s's buckets; the averages divide them by the
 * buckets' time (n x res: the time the daemon was running, to a bucket),
 * rounded down; 0 without buckets. */
void mx_stats_of(const mx_series_t *s, mx_stats_t *st);

/* Which fields a bucket gets. */
typedef enum {
    MX_SPEED,            /* timestamp, uploadSpeed, downloadSpeed */
    MX_HISTORY,          /* ... uploadedDelta, downloadedDelta */
} mx_kind_t;

/* mx_write_data: {"range": r->name, "data": [bucket, ...]} into out. A
 * bucket's speeds are its bytes over res, rounded down; its timestamp is
 * the start of the bucket in ms. With breakdown (the dashboard), each
 * bucket also has the same figures as ed2k* and zeros as bittorrent*. */
void mx_write_data(struct evbuffer *out, const mx_range_t *r, const mx_series_t *s,
                   mx_kind_t kind, bool breakdown);

/* mx_write_stats: {"range", "totalUploaded", "totalDownloaded",
 * "avgUploadSpeed", "avgDownloadSpeed", "peakUploadSpeed",
 * "peakDownloadSpeed", "ed2k": {the same six}, "bittorrent": {six
 * zeros}} into out. */
void mx_write_stats(struct evbuffer *out, const mx_range_t *r, const mx_stats_t *st);

#endif
