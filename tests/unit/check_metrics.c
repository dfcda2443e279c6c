/* check_metrics.c: unit tests for the pure side of cgi-bin/metrics
 * (series.c): the ranges and their bucket sizes, where a chart starts on
 * the UTC epoch's grid, the statistics of a chart, and the JSON written
 * for speed, history, stats and the dashboard's breakdown. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/series.h"

/* text: what out holds, as a string the caller frees; drains out. */
static char *
text(struct evbuffer *out)
{
    size_t n = evbuffer_get_length(out);
    char *s = malloc(n + 1);
    evbuffer_remove(out, s, n);
    s[n] = '\0';
    return s;
}

START_TEST(test_ranges)
{
    const mx_range_t *r = mx_range_find("24h");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->seconds, 86400);
    ck_assert_int_eq(r->speed_res, 15);
    ck_assert_int_eq(r->hist_res, 900);
    r = mx_range_find("7d");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->speed_res, 900);
    ck_assert_int_eq(r->hist_res, 7200);
    ck_assert_int_eq(r->hist_rollup, 3600);
    r = mx_range_find("30d");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->speed_res, 3600);
    ck_assert_int_eq(r->hist_res, 21600);
    ck_assert_int_eq(r->hist_rollup, 21600);
    const char *bad[] = { "", "24H", "1h", "24h ", "7", "30days", "d" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(mx_range_find(bad[i]) == NULL, "%s", bad[i]);
    ck_assert_ptr_null(mx_range_find(NULL));
}
END_TEST

START_TEST(test_window_start)
{
    const mx_range_t *d = mx_range_find("24h");
    /* 2026-12-07 12:00:07 UTC: 24 h earlier is 2026-12-06 12:00:07, in
     * the 15 s bucket (12:00:00, 12:00:15] */
    int64_t now = 1796644807;
    ck_assert_int_eq(mx_window_start(d, 15, now), 1796644807 - 86400 - 7);
    /* exactly on an edge: the bucket that ends there */
    ck_assert_int_eq(mx_window_start(d, 15, 1796644800), 1796644800 - 86400 - 15);
    const mx_range_t *m = mx_range_find("30d");
    ck_assert_int_eq(mx_window_start(m, 21600, now) % 21600, 0);
    ck_assert(mx_window_start(m, 21600, now) <= now - 30 * 86400);
    ck_assert(mx_window_start(m, 21600, now) > now - 30 * 86400 - 21600);
}
END_TEST

START_TEST(test_stats)
{
    mx_series_t s;
    mx_series_init(&s, 900);
    mx_stats_t st;
    mx_stats_of(&s, &st);
    ck_assert_uint_eq(st.total_dl + st.avg_dl + st.peak_dl, 0);
    mx_bucket_t a = { 900, 9000, 1800, 50, 7 }, b = { 2700, 0, 0, 0, 0 },
                c = { 3600, 18001, 900, 40, 9 };
    mx_series_add(&s, &a);
    mx_series_add(&s, &b);
    mx_series_add(&s, &c);
    mx_stats_of(&s, &st);
    ck_assert_uint_eq(st.total_dl, 27001);
    ck_assert_uint_eq(st.total_ul, 2700);
    ck_assert_uint_eq(st.avg_dl, 27001 / 2700);  /* three buckets present */
    ck_assert_uint_eq(st.avg_ul, 1);
    ck_assert_uint_eq(st.peak_dl, 50);
    ck_assert_uint_eq(st.peak_ul, 9);
    mx_series_clear(&s);
    ck_assert_uint_eq(s.n, 0);
    ck_assert_int_eq(s.res, 900);
}
END_TEST

START_TEST(test_json)
{
    struct evbuffer *out = evbuffer_new();
    const mx_range_t *r = mx_range_find("7d");
    mx_series_t s;
    mx_series_init(&s, 7200);
    mx_bucket_t a = { 7200, 72001, 7200, 11, 3 };
    mx_series_add(&s, &a);
    mx_write_data(out, r, &s, MX_SPEED, false);
    char *t = text(out);
    ck_assert_str_eq(t, "{\"range\":\"7d\",\"data\":[{\"timestamp\":7200000,\"uploadSpeed\":1,"
                        "\"downloadSpeed\":10}]}");
    free(t);
    mx_write_data(out, r, &s, MX_HISTORY, false);
    t = text(out);
    ck_assert_str_eq(t, "{\"range\":\"7d\",\"data\":[{\"timestamp\":7200000,\"uploadSpeed\":1,"
                        "\"downloadSpeed\":10,\"uploadedDelta\":7200,\"downloadedDelta\":72001}]}");
    free(t);
    mx_write_data(out, r, &s, MX_HISTORY, true);
    t = text(out);
    ck_assert_ptr_nonnull(strstr(t, ",\"ed2kUploadSpeed\":1,\"ed2kDownloadSpeed\":10,"
                                    "\"ed2kUploadedDelta\":7200,\"ed2kDownloadedDelta\":72001,"
                                    "\"bittorrentUploadSpeed\":0"));
    free(t);
    mx_series_clear(&s);
    mx_write_data(out, r, &s, MX_SPEED, true);
    t = text(out);
    ck_assert_str_eq(t, "{\"range\":\"7d\",\"data\":[]}");
    free(t);
    mx_stats_t st = { 1, 2, 3, 4, 5, 6 };
    mx_write_stats(out, r, &st);
    t = text(out);
    ck_assert_str_eq(t, "{\"range\":\"7d\",\"totalUploaded\":1,\"totalDownloaded\":2,"
                        "\"avgUploadSpeed\":3,\"avgDownloadSpeed\":4,\"peakUploadSpeed\":5,"
                        "\"peakDownloadSpeed\":6,\"ed2k\":{\"totalUploaded\":1,"
                        "\"totalDownloaded\":2,\"avgUploadSpeed\":3,\"avgDownloadSpeed\":4,"
                        "\"peakUploadSpeed\":5,\"peakDownloadSpeed\":6},\"bittorrent\":{"
                        "\"totalUploaded\":0,\"totalDownloaded\":0,\"avgUploadSpeed\":0,"
                        "\"avgDownloadSpeed\":0,\"peakUploadSpeed\":0,\"peakDownloadSpeed\":0}}");
    free(t);
    evbuffer_free(out);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ranges);
    tcase_add_test(tc, test_window_start);
    tcase_add_test(tc, test_stats);
    tcase_add_test(tc, test_json);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
