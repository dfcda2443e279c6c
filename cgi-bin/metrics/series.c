/* series.c: the ranges of /api/metrics, charts as arrays of buckets, the
 * range's statistics and aMuTorrent's JSON for them (series.h). */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/series.h"
#include "util/xalloc.h"

/* The bucket sizes of issue 16 (aMuTorrent's lib/timeRange.js, but 15 s
 * for the 24-hour speed chart: the daemon samples every 15 s). */
static const mx_range_t ranges[] = {
    { "24h", 86400, 15, 900, 900 },
    { "7d", 7 * 86400, 900, 7200, 3600 },
    { "30d", 30 * 86400, 3600, 21600, 21600 },
};

const mx_range_t *
mx_range_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (strcmp(name, ranges[i].name) == 0)
            return &ranges[i];
    return NULL;
}

int64_t
mx_window_start(const mx_range_t *r, int res, int64_t now_s)
{
    /* buckets are (start, start + res]: an instant on an edge belongs to
     * the bucket that ends there (sql/006's muleteer_bucket_start) */
    int64_t t = now_s - r->seconds;
    if (t < 1)
        return 0;
    return (t - 1) / res * res;
}

void
mx_series_init(mx_series_t *s, int res)
{
    memset(s, 0, sizeof *s);
    s->res = res;
}

void
mx_series_add(mx_series_t *s, const mx_bucket_t *b)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->b = xrealloc(s->b, s->cap * sizeof *s->b);
    }
    s->b[s->n++] = *b;
}

void
mx_series_clear(mx_series_t *s)
{
    free(s->b);
    mx_series_init(s, s->res);
}

void
mx_stats_of(const mx_series_t *s, mx_stats_t *st)
{
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < s->n; i++) {
        const mx_bucket_t *b = &s->b[i];
        st->total_dl += b->dl_bytes;
        st->total_ul += b->ul_bytes;
        if (b->dl_peak > st->peak_dl)
            st->peak_dl = b->dl_peak;
        if (b->ul_peak > st->peak_ul)
            st->peak_ul = b->ul_peak;
    }
    uint64_t secs = (uint64_t)s->n * (uint64_t)s->res;
    if (secs > 0) {
        st->avg_dl = st->total_dl / secs;
        st->avg_ul = st->total_ul / secs;
    }
}

/* A bucket's text before it goes into the evbuffer in one piece: a
 * 24-hour dashboard writes 5,761 buckets of 11 numbers, where printf
 * would cost more than the query. */
typedef struct {
    char s[1024]; /* 13 names (222 bytes), 13 numbers of at most 20 digits, punctuation */
    size_t n;
} line_t;

static void
put(line_t *l, const char *s)
{
    size_t k = strlen(s);
    memcpy(l->s + l->n, s, k);
    l->n += k;
}

/* put_num: name and v as ,"name":v (the comma when not first). */
static void
put_num(line_t *l, const char *name, uint64_t v)
{
    char d[20];
    int k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    if (l->n > 1)
        l->s[l->n++] = ',';
    l->s[l->n++] = '"';
    put(l, name);
    l->s[l->n++] = '"';
    l->s[l->n++] = ':';
    while (k > 0)
        l->s[l->n++] = d[--k];
}

/* write_bucket: one bucket's object. */
static void
write_bucket(struct evbuffer *out, const mx_bucket_t *b, int res, mx_kind_t kind, bool breakdown)
{
    uint64_t us = b->ul_bytes / (uint64_t)res, ds = b->dl_bytes / (uint64_t)res;
    line_t l = { .s = "{", .n = 1 };
    put_num(&l, "timestamp", (uint64_t)b->start_s * 1000);
    put_num(&l, "uploadSpeed", us);
    put_num(&l, "downloadSpeed", ds);
    if (kind == MX_HISTORY) {
        put_num(&l, "uploadedDelta", b->ul_bytes);
        put_num(&l, "downloadedDelta", b->dl_bytes);
    }
    if (breakdown) {
        put_num(&l, "ed2kUploadSpeed", us);
        put_num(&l, "ed2kDownloadSpeed", ds);
        if (kind == MX_HISTORY) {
            put_num(&l, "ed2kUploadedDelta", b->ul_bytes);
            put_num(&l, "ed2kDownloadedDelta", b->dl_bytes);
        }
        put_num(&l, "bittorrentUploadSpeed", 0);
        put_num(&l, "bittorrentDownloadSpeed", 0);
        if (kind == MX_HISTORY) {
            put_num(&l, "bittorrentUploadedDelta", 0);
            put_num(&l, "bittorrentDownloadedDelta", 0);
        }
    }
    l.s[l.n++] = '}';
    evbuffer_add(out, l.s, l.n);
}

void
mx_write_data(struct evbuffer *out, const mx_range_t *r, const mx_series_t *s, mx_kind_t kind,
              bool breakdown)
{
    evbuffer_add_printf(out, "{\"range\":\"%s\",\"data\":[", r->name);
    for (size_t i = 0; i < s->n; i++) {
        if (i > 0)
            evbuffer_add(out, ",", 1);
        write_bucket(out, &s->b[i], s->res, kind, breakdown);
    }
    evbuffer_add(out, "]}", 2);
}

/* write_six: the six figures of a stats object, without braces. */
static void
write_six(struct evbuffer *out, const mx_stats_t *st)
{
    evbuffer_add_printf(out, "\"totalUploaded\":%" PRIu64 ",\"totalDownloaded\":%" PRIu64
                        ",\"avgUploadSpeed\":%" PRIu64 ",\"avgDownloadSpeed\":%" PRIu64
                        ",\"peakUploadSpeed\":%" PRIu64 ",\"peakDownloadSpeed\":%" PRIu64,
                        st->total_ul, st->total_dl, st->avg_ul, st->avg_dl, st->peak_ul,
                        st->peak_dl);
}

void
mx_write_stats(struct evbuffer *out, const mx_range_t *r, const mx_stats_t *st)
{
    static const mx_stats_t zero;
    evbuffer_add_printf(out, "{\"range\":\"%s\",", r->name);
    write_six(out, st);
    evbuffer_add(out, ",\"ed2k\":{", 9);
    write_six(out, st);
    evbuffer_add(out, "},\"bittorrent\":{", 16);
    write_six(out, &zero);
    evbuffer_add(out, "}}", 2);
}
