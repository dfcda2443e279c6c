/* check_promfmt.c: the Prometheus text format of /metrics (escaping of
 * label values and help texts, counters in OpenMetrics, histograms, names),
 * who may read it (metrics_allow), and the request counters' slot files
 * (cgi-bin/common/cgistats.c). */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cgistats.h"
#include "prom/access.h"
#include "prom/promfmt.h"

/* text: what f holds, as a string the caller frees; f emptied. */
static char *
text(promfmt_t *f)
{
    size_t n = evbuffer_get_length(f->out);
    char *s = malloc(n + 1);
    evbuffer_remove(f->out, s, n);
    s[n] = '\0';
    return s;
}

static promfmt_t
fmt(promfmt_mode_t mode)
{
    return (promfmt_t){ .out = evbuffer_new(), .mode = mode };
}

START_TEST(test_label_escaping)
{
    promfmt_t f = fmt(PROMFMT_TEXT);
    promfmt_label_t l[2] = { { "family", "a\"b\\c\nd" }, { "x", "plain é" } };
    promfmt_sample(&f, "m_total", l, 2, 3);
    char *s = text(&f);
    ck_assert_str_eq(s, "m_total{family=\"a\\\"b\\\\c\\nd\",x=\"plain é\"} 3\n");
    free(s);
    evbuffer_free(f.out);
}
END_TEST

START_TEST(test_help_escaping)
{
    promfmt_t f = fmt(PROMFMT_TEXT);
    promfmt_family(&f, "m", PROMFMT_GAUGE, "a \\ b\nc \"q\"");
    char *s = text(&f);
    ck_assert_str_eq(s, "# HELP m a \\\\ b\\nc \"q\"\n# TYPE m gauge\n");
    free(s);
    evbuffer_free(f.out);
}
END_TEST

START_TEST(test_values)
{
    promfmt_t f = fmt(PROMFMT_TEXT);
    promfmt_sample(&f, "a", NULL, 0, 18446744073709551616.0); /* 2^64: exponent */
    promfmt_sample(&f, "b", NULL, 0, 9007199254740992.0);
    promfmt_sample(&f, "c", NULL, 0, 0.25);
    promfmt_sample(&f, "d", NULL, 0, NAN);
    promfmt_sample(&f, "e", NULL, 0, INFINITY);
    promfmt_sample(&f, "f", NULL, 0, 615 / 1e6);  /* not 0.00061499999999999999 */
    promfmt_sample(&f, "g", NULL, 0, 0.1 + 0.2); /* needs 17 digits */
    char *s = text(&f);
    ck_assert_str_eq(s, "a 1.8446744073709552e+19\nb 9007199254740992\nc 0.25\nd NaN\ne +Inf\n"
                        "f 0.000615\ng 0.30000000000000004\n");
    free(s);
    evbuffer_free(f.out);
}
END_TEST

START_TEST(test_bad_names_left_out)
{
    promfmt_t f = fmt(PROMFMT_TEXT);
    promfmt_label_t bad = { "a:b", "v" };
    promfmt_sample(&f, "1abc", NULL, 0, 1);
    promfmt_sample(&f, "ok", &bad, 1, 1);
    promfmt_family(&f, "x y", PROMFMT_GAUGE, "h");
    ck_assert(f.bad);
    ck_assert_uint_eq(evbuffer_get_length(f.out), 0);
    ck_assert(promfmt_name_ok("ns:metric_1", false));
    ck_assert(!promfmt_name_ok("ns:metric_1", true));
    ck_assert(!promfmt_name_ok("", false));
    evbuffer_free(f.out);
}
END_TEST

START_TEST(test_openmetrics_counter)
{
    promfmt_t f = fmt(PROMFMT_OPENMETRICS);
    promfmt_family(&f, "m_total", PROMFMT_COUNTER, "h");
    promfmt_sample(&f, "m_total", NULL, 0, 1);
    promfmt_end(&f);
    char *s = text(&f);
    ck_assert_str_eq(s, "# HELP m h\n# TYPE m counter\nm_total 1\n# EOF\n");
    free(s);
    f.mode = PROMFMT_TEXT;
    promfmt_family(&f, "m_total", PROMFMT_COUNTER, "h");
    promfmt_end(&f);
    s = text(&f);
    ck_assert_str_eq(s, "# HELP m_total h\n# TYPE m_total counter\n");
    free(s);
    evbuffer_free(f.out);
    ck_assert_int_eq(promfmt_mode_for_accept(NULL), PROMFMT_TEXT);
    ck_assert_int_eq(promfmt_mode_for_accept("text/plain;version=0.0.4"), PROMFMT_TEXT);
    ck_assert_int_eq(promfmt_mode_for_accept("application/openmetrics-text;version=1.0.0,"
                                             "text/plain;q=0.5"),
                     PROMFMT_OPENMETRICS);
}
END_TEST

START_TEST(test_histogram)
{
    promfmt_t f = fmt(PROMFMT_TEXT);
    const double b[2] = { 0.1, 1 };
    const unsigned long long c[3] = { 2, 0, 1 };
    promfmt_label_t l = { "family", "q\"x" };
    promfmt_histogram(&f, "h", &l, 1, b, 2, c, 3.5);
    char *s = text(&f);
    ck_assert_str_eq(s, "h_bucket{family=\"q\\\"x\",le=\"0.1\"} 2\n"
                        "h_bucket{family=\"q\\\"x\",le=\"1\"} 2\n"
                        "h_bucket{family=\"q\\\"x\",le=\"+Inf\"} 3\n"
                        "h_sum{family=\"q\\\"x\"} 3.5\n"
                        "h_count{family=\"q\\\"x\"} 3\n");
    free(s);
    evbuffer_free(f.out);
}
END_TEST

START_TEST(test_access)
{
    ck_assert_int_eq(prom_allow_parse("loopback"), PROM_ALLOW_LOOPBACK);
    ck_assert_int_eq(prom_allow_parse("key"), PROM_ALLOW_KEY);
    ck_assert_int_eq(prom_allow_parse("public"), PROM_ALLOW_PUBLIC);
    ck_assert_int_eq(prom_allow_parse("yes"), PROM_ALLOW_INVALID);
    ck_assert(prom_is_loopback("127.0.0.1"));
    ck_assert(prom_is_loopback("127.4.5.6"));
    ck_assert(prom_is_loopback("::1"));
    ck_assert(prom_is_loopback("::ffff:127.0.0.1"));
    ck_assert(!prom_is_loopback("128.0.0.1"));
    ck_assert(!prom_is_loopback("10.0.0.1"));
    ck_assert(!prom_is_loopback("::ffff:10.0.0.1"));
    ck_assert(!prom_is_loopback(""));
    ck_assert(!prom_is_loopback("127.0.0.1.evil"));
    ck_assert(!prom_needs_credentials(PROM_ALLOW_LOOPBACK, "127.0.0.1"));
    ck_assert(prom_needs_credentials(PROM_ALLOW_LOOPBACK, "192.168.1.2"));
    ck_assert(prom_needs_credentials(PROM_ALLOW_KEY, "127.0.0.1"));
    ck_assert(!prom_needs_credentials(PROM_ALLOW_PUBLIC, "192.168.1.2"));
}
END_TEST

/* Two processes' slots of one program, and another program: summed by
 * program; a reopened slot goes on from its counts. */
START_TEST(test_slots)
{
    char dir[] = "/tmp/check_promfmt.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sub[64];
    snprintf(sub, sizeof sub, "%s/run/metrics", dir);
    cgistats_t *a = cgistats_open(sub, "qbit");
    cgistats_t *b = cgistats_open(sub, "qbit"); /* slot 0 is locked: slot 1 */
    cgistats_t *c = cgistats_open(sub, "torznab");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(c);
    cgistats_record(a, 200, 300);     /* 0.0003 s: first bucket */
    cgistats_record(b, 404, 3000);    /* 0.003 s: le 0.005 */
    cgistats_record(b, 503, 20000000); /* 20 s: +Inf */
    cgistats_observe(c, 200, 1000);   /* 0.001 s: le 0.001 */
    cgistats_free(b);
    b = cgistats_open(sub, "qbit"); /* slot 1 again: counts kept */
    cgistats_record(b, 200, 1);
    cgistats_family_t *fam = NULL;
    size_t n = 0;
    ck_assert_int_eq(cgistats_read_dir(sub, &fam, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(fam[0].name, "qbit");
    ck_assert_str_eq(fam[1].name, "torznab");
    ck_assert_uint_eq(fam[0].sum.by_class[2], 2);
    ck_assert_uint_eq(fam[0].sum.by_class[4], 1);
    ck_assert_uint_eq(fam[0].sum.by_class[5], 1);
    ck_assert_uint_eq(fam[0].sum.usec_sum, 300 + 3000 + 20000000 + 1);
    ck_assert_uint_eq(fam[0].sum.buckets[0], 2);
    ck_assert_uint_eq(fam[0].sum.buckets[3], 1);
    ck_assert_uint_eq(fam[0].sum.buckets[CGISTATS_N_BOUNDS], 1);
    ck_assert_uint_eq(fam[1].sum.by_class[2], 1);
    ck_assert_uint_eq(fam[1].sum.buckets[1], 1);
    free(fam);
    cgistats_free(a);
    cgistats_free(b);
    cgistats_free(c);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(cgistats_read_dir(sub, &fam, &n), -1);
    ck_assert_uint_eq(n, 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("promfmt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_label_escaping);
    tcase_add_test(tc, test_help_escaping);
    tcase_add_test(tc, test_values);
    tcase_add_test(tc, test_bad_names_left_out);
    tcase_add_test(tc, test_openmetrics_counter);
    tcase_add_test(tc, test_histogram);
    tcase_add_test(tc, test_access);
    tcase_add_test(tc, test_slots);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
