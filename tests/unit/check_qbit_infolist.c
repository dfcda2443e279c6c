/* check_qbit_infolist.c: unit tests for the rendered torrents/info list
 * (cgi-bin/qbit/infolist.c): the answers to filter, category, hashes,
 * limit and offset cut from the whole list as byte ranges, their bytes and
 * how few ranges they take. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbit/infolist.h"

/* list4: rows {"i":0}..{"i":3}: 0 and 2 downloading in category "tv",
 * 1 stalledUP uncategorised, 3 stoppedDL in "tv"; 0 and 1 transfer. */
static qbit_infolist_t *
list4(void)
{
    static const char *const state[] = { "downloading", "stalledUP", "downloading", "stoppedDL" };
    qbit_infolist_t *l = qbit_infolist_new();
    for (int i = 0; i < 4; i++) {
        char json[16], md4[33];
        snprintf(json, sizeof json, "{\"i\":%d}", i);
        snprintf(md4, sizeof md4, "%032d", i);
        qbit_infolist_add(l, json, strlen(json), md4, state[i], i < 2, i == 1 ? "" : "tv");
    }
    return l;
}

/* answer: the bytes of sel's answer; *n the ranges it took. */
static char *
answer(const qbit_infolist_t *l, const qbit_infosel_t *sel, size_t *n)
{
    size_t blen, total = 0;
    const char *body = qbit_infolist_body(l, &blen);
    qbit_range_t *r = qbit_infolist_select(l, sel, n);
    char *s = malloc(blen + 1);
    for (size_t i = 0; i < *n; i++) {
        ck_assert_uint_le(r[i].off + r[i].len, blen);
        memcpy(s + total, body + r[i].off, r[i].len);
        total += r[i].len;
    }
    s[total] = '\0';
    free(r);
    return s;
}

static void
expect(const qbit_infolist_t *l, const qbit_infosel_t *sel, const char *want, size_t ranges)
{
    size_t n;
    char *got = answer(l, sel, &n);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(n, ranges);
    free(got);
}

START_TEST(test_body)
{
    qbit_infolist_t *l = qbit_infolist_new();
    size_t len;
    ck_assert(memcmp(qbit_infolist_body(l, &len), "[]", 2) == 0);
    ck_assert_uint_eq(len, 2);
    qbit_infosel_t all = { 0 };
    expect(l, &all, "[]", 1);
    qbit_infolist_free(l);
    l = list4();
    const char *b = qbit_infolist_body(l, &len);
    ck_assert_uint_eq(len, strlen("[{\"i\":0},{\"i\":1},{\"i\":2},{\"i\":3}]"));
    ck_assert(memcmp(b, "[{\"i\":0},{\"i\":1},{\"i\":2},{\"i\":3}]", len) == 0);
    qbit_infolist_free(l);
}
END_TEST

START_TEST(test_limit_offset)
{
    qbit_infolist_t *l = list4();
    /* the whole list, or a run of it, is one range of the body */
    expect(l, &(qbit_infosel_t){ 0 }, "[{\"i\":0},{\"i\":1},{\"i\":2},{\"i\":3}]", 1);
    expect(l, &(qbit_infosel_t){ .limit = 1000000000 },
           "[{\"i\":0},{\"i\":1},{\"i\":2},{\"i\":3}]", 1);
    expect(l, &(qbit_infosel_t){ .limit = 2 }, "[{\"i\":0},{\"i\":1}]", 2);
    expect(l, &(qbit_infosel_t){ .offset = 1, .limit = 2 }, "[{\"i\":1},{\"i\":2}]", 3);
    expect(l, &(qbit_infosel_t){ .offset = 2 }, "[{\"i\":2},{\"i\":3}]", 2);
    /* a negative offset counts from the end, past the start is 0 */
    expect(l, &(qbit_infosel_t){ .offset = -1 }, "[{\"i\":3}]", 2);
    expect(l, &(qbit_infosel_t){ .offset = -9, .limit = 1 }, "[{\"i\":0}]", 2);
    expect(l, &(qbit_infosel_t){ .offset = 4 }, "[]", 2);
    expect(l, &(qbit_infosel_t){ .offset = 99, .limit = 3 }, "[]", 2);
    qbit_infolist_free(l);
}
END_TEST

START_TEST(test_filters)
{
    qbit_infolist_t *l = list4();
    static const char *const dl[] = { "downloading", "stoppedDL" };
    expect(l, &(qbit_infosel_t){ .states = dl, .n_states = 2 },
           "[{\"i\":0},{\"i\":2},{\"i\":3}]", 2);
    expect(l, &(qbit_infosel_t){ .states = dl, .n_states = 2, .offset = 1 },
           "[{\"i\":2},{\"i\":3}]", 2);
    expect(l, &(qbit_infosel_t){ .activity = 1 }, "[{\"i\":0},{\"i\":1}]", 2);
    expect(l, &(qbit_infosel_t){ .activity = 2 }, "[{\"i\":2},{\"i\":3}]", 2);
    expect(l, &(qbit_infosel_t){ .category = "" }, "[{\"i\":1}]", 3);
    expect(l, &(qbit_infosel_t){ .category = "tv", .limit = 2 }, "[{\"i\":0},{\"i\":2}]", 3);
    expect(l, &(qbit_infosel_t){ .category = "movies" }, "[]", 2);
    static const char *const md4[] = { "00000000000000000000000000000003",
                                       "00000000000000000000000000000001",
                                       "0000000000000000000000000000000f" };
    expect(l, &(qbit_infosel_t){ .md4 = md4, .n_md4 = 3 }, "[{\"i\":1},{\"i\":3}]", 3);
    expect(l, &(qbit_infosel_t){ .md4 = md4, .n_md4 = 0 }, "[]", 2);
    expect(l, &(qbit_infosel_t){ .md4 = md4, .n_md4 = 3, .category = "" }, "[{\"i\":1}]", 3);
    qbit_infolist_free(l);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("qbit_infolist");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_body);
    tcase_add_test(tc, test_limit_offset);
    tcase_add_test(tc, test_filters);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
