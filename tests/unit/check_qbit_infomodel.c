/* check_qbit_infomodel.c: unit tests for the process's copy of the
 * torrents/info rows (cgi-bin/qbit/infomodel.c): the JSON it renders for a
 * second, the computed columns (queue position, seeding and active time,
 * seen complete, state), the order, and rows replaced and removed. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbit/infomodel.h"

/* The shape of info.c's rows, shortened: a run, priority, a run,
 * seeding_time, seen_complete, state, time_active, a run. */
static const qbit_infopart_t parts[] = {
    { false, 0, NULL },
    { true, QBIT_DYN_QUEUE_POS, "priority" },
    { false, 0, NULL },
    { true, QBIT_DYN_SEEDING_TIME, "seeding_time" },
    { true, QBIT_DYN_SEEN_COMPLETE, "seen_complete" },
    { true, QBIT_DYN_STATE, "state" },
    { true, QBIT_DYN_TIME_ACTIVE, "time_active" },
    { false, 0, NULL },
};

#define NOW 1000000

typedef struct {
    int id;
    int64_t added_s;
    int64_t completed_s;
    long long priority;
    bool finished, complete_source, active;
    const char *state, *category;
} spec_t;

static void
put(qbit_infomodel_t *m, const spec_t *s)
{
    char md4[33], a[32], b[32], c[32];
    snprintf(md4, sizeof md4, "%032x", s->id);
    snprintf(a, sizeof a, "{\"a\":%d}", s->id);
    snprintf(b, sizeof b, "{\"b\":%d,\"c\":1}", s->id);
    snprintf(c, sizeof c, "{\"z\":\"%s\"}", s->category);
    const char *segs[] = { a, b, c };
    size_t len[] = { strlen(a), strlen(b), strlen(c) };
    qbit_inforow_t r = {
        .md4 = md4, .added_us = s->added_s * 1000000, .added_s = s->added_s,
        .completed_s = s->completed_s, .priority = s->priority, .finished = s->finished,
        .complete_source = s->complete_source, .active = s->active, .state = s->state,
        .category = s->category, .segs = segs, .seg_len = len,
    };
    qbit_infomodel_put(m, &r);
}

static char *
render(qbit_infomodel_t *m, int64_t now)
{
    qbit_infolist_t *l = qbit_infomodel_render(m, now);
    size_t len;
    const char *body = qbit_infolist_body(l, &len);
    char *s = strndup(body, len);
    qbit_infolist_free(l);
    return s;
}

static void
expect(qbit_infomodel_t *m, int64_t now, const char *want)
{
    char *got = render(m, now);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_one_row)
{
    qbit_infomodel_t *m = qbit_infomodel_new(parts, sizeof parts / sizeof parts[0]);
    expect(m, NOW, "[]");
    put(m, &(spec_t){ 1, NOW - 100, -1, 0, false, true, true, "downloading", "tv" });
    expect(m, NOW,
           "[{\"a\":1,\"priority\":1,\"b\":1,\"c\":1,\"seeding_time\":0,"
           "\"seen_complete\":1000000,\"state\":\"downloading\",\"time_active\":100,"
           "\"z\":\"tv\"}]");
    /* the next second: only the time moves */
    expect(m, NOW + 1,
           "[{\"a\":1,\"priority\":1,\"b\":1,\"c\":1,\"seeding_time\":0,"
           "\"seen_complete\":1000001,\"state\":\"downloading\",\"time_active\":101,"
           "\"z\":\"tv\"}]");
    ck_assert_uint_eq(qbit_infomodel_count(m), 1);
    qbit_infomodel_free(m);
}
END_TEST

START_TEST(test_finished)
{
    qbit_infomodel_t *m = qbit_infomodel_new(parts, sizeof parts / sizeof parts[0]);
    put(m, &(spec_t){ 1, NOW - 100, NOW - 40, 1, true, true, false, "stalledUP", "" });
    expect(m, NOW,
           "[{\"a\":1,\"priority\":0,\"b\":1,\"c\":1,\"seeding_time\":40,"
           "\"seen_complete\":999960,\"state\":\"stalledUP\",\"time_active\":100,"
           "\"z\":\"\"}]");
    /* finished with no completion time; a clock behind the row's times */
    put(m, &(spec_t){ 1, NOW + 5, -1, 1, true, false, false, "stoppedUP", "" });
    expect(m, NOW,
           "[{\"a\":1,\"priority\":0,\"b\":1,\"c\":1,\"seeding_time\":0,"
           "\"seen_complete\":0,\"state\":\"stoppedUP\",\"time_active\":0,"
           "\"z\":\"\"}]");
    /* unfinished without a complete source: never seen complete */
    put(m, &(spec_t){ 1, NOW - 5, -1, 1, false, false, false, "stalledDL", "" });
    expect(m, NOW,
           "[{\"a\":1,\"priority\":1,\"b\":1,\"c\":1,\"seeding_time\":0,"
           "\"seen_complete\":0,\"state\":\"stalledDL\",\"time_active\":5,"
           "\"z\":\"\"}]");
    qbit_infomodel_free(m);
}
END_TEST

/* positions: "id:priority-column" of each row of the list, in order. */
static void
positions(qbit_infomodel_t *m, char *out, size_t size)
{
    char *body = render(m, NOW);
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = strstr(body, "{\"a\":"); p != NULL; p = strstr(p + 1, "{\"a\":")) {
        int id, pos;
        ck_assert_int_eq(sscanf(p, "{\"a\":%d,\"priority\":%d", &id, &pos), 2);
        len += (size_t)snprintf(out + len, size - len, "%s%d:%d", len > 0 ? " " : "", id, pos);
    }
    free(body);
}

START_TEST(test_queue_order)
{
    qbit_infomodel_t *m = qbit_infomodel_new(parts, sizeof parts / sizeof parts[0]);
    /* listed by age (then hash); queued by priority, age, hash */
    put(m, &(spec_t){ 3, 30, -1, 0, false, false, false, "queuedDL", "" });
    put(m, &(spec_t){ 1, 10, -1, 0, false, false, false, "queuedDL", "" });
    put(m, &(spec_t){ 2, 20, 25, 0, true, false, false, "stalledUP", "" });
    put(m, &(spec_t){ 5, 30, -1, 1, false, false, false, "queuedDL", "" });
    put(m, &(spec_t){ 4, 40, -1, -1, false, false, false, "queuedDL", "" });
    char got[256];
    positions(m, got, sizeof got);
    ck_assert_str_eq(got, "1:2 2:0 3:3 5:1 4:4");
    /* a priority raised: the queue moves, the list does not */
    put(m, &(spec_t){ 4, 40, -1, 2, false, false, false, "queuedDL", "" });
    positions(m, got, sizeof got);
    ck_assert_str_eq(got, "1:3 2:0 3:4 5:2 4:1");
    /* a download finished: out of the queue */
    put(m, &(spec_t){ 5, 30, 50, 1, true, false, false, "stalledUP", "" });
    positions(m, got, sizeof got);
    ck_assert_str_eq(got, "1:2 2:0 3:3 5:0 4:1");
    qbit_infomodel_free(m);
}
END_TEST

START_TEST(test_remove)
{
    qbit_infomodel_t *m = qbit_infomodel_new(parts, sizeof parts / sizeof parts[0]);
    for (int i = 1; i <= 3; i++)
        put(m, &(spec_t){ i, i, -1, 0, false, false, false, "queuedDL", "" });
    ck_assert(qbit_infomodel_remove(m, "00000000000000000000000000000002"));
    ck_assert(!qbit_infomodel_remove(m, "00000000000000000000000000000002"));
    ck_assert_uint_eq(qbit_infomodel_count(m), 2);
    char got[256];
    positions(m, got, sizeof got);
    ck_assert_str_eq(got, "1:1 3:2");
    /* back again, and the filters' inputs follow the rows */
    put(m, &(spec_t){ 2, 2, -1, 0, false, false, true, "downloading", "tv" });
    positions(m, got, sizeof got);
    ck_assert_str_eq(got, "1:1 2:2 3:3");
    qbit_infolist_t *l = qbit_infomodel_render(m, NOW);
    qbit_infosel_t sel = { .activity = 1 };
    size_t n;
    qbit_range_t *rs = qbit_infolist_select(l, &sel, &n);
    size_t blen;
    const char *body = qbit_infolist_body(l, &blen);
    ck_assert_uint_eq(n, 3);
    ck_assert(strncmp(body + rs[1].off, "{\"a\":2,", 7) == 0);
    free(rs);
    qbit_infolist_free(l);
    qbit_infomodel_clear(m);
    ck_assert_uint_eq(qbit_infomodel_count(m), 0);
    expect(m, NOW, "[]");
    qbit_infomodel_free(m);
}
END_TEST

/* many rows in and out: the table grows and is rebuilt, none is lost */
START_TEST(test_many)
{
    qbit_infomodel_t *m = qbit_infomodel_new(parts, sizeof parts / sizeof parts[0]);
    for (int round = 0; round < 3; round++) {
        for (int i = 1; i <= 5000; i++)
            put(m, &(spec_t){ i, 5001 - i, -1, 0, false, false, false, "queuedDL", "" });
        for (int i = 2; i <= 5000; i += 2) {
            char md4[33];
            snprintf(md4, sizeof md4, "%032x", i);
            ck_assert(qbit_infomodel_remove(m, md4));
        }
        ck_assert_uint_eq(qbit_infomodel_count(m), 2500);
        char *body = render(m, NOW);
        /* the oldest is the highest id; odd ids only, each once */
        ck_assert(strncmp(body, "[{\"a\":4999,\"priority\":1,", 24) == 0);
        ck_assert_ptr_null(strstr(body, "{\"a\":4998,"));
        ck_assert_ptr_nonnull(strstr(body, "{\"a\":1,\"priority\":2500,"));
        free(body);
    }
    qbit_infomodel_free(m);
}
END_TEST

static Suite *
infomodel_suite(void)
{
    Suite *s = suite_create("qbit_infomodel");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_one_row);
    tcase_add_test(tc, test_finished);
    tcase_add_test(tc, test_queue_order);
    tcase_add_test(tc, test_remove);
    tcase_add_test(tc, test_many);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(infomodel_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
