/* check_rangeset.c: unit tests for daemon/transfer/rangeset.c: merging, splitting,
 * coverage and gaps, 64-bit offsets, and a randomized bitmap model. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/transfer/rangeset.h"

/* Asserts the set holds exactly the n ranges in r (pairs). */
static void
expect(const rangeset_t *rs, const uint64_t *r, size_t n)
{
    ck_assert_uint_eq(rangeset_count(rs), n);
    for (size_t i = 0; i < n; i++) {
        uint64_t s, e;
        rangeset_get(rs, i, &s, &e);
        ck_assert_uint_eq(s, r[2 * i]);
        ck_assert_uint_eq(e, r[2 * i + 1]);
    }
}

START_TEST(test_add_merges)
{
    rangeset_t *rs = rangeset_new();
    rangeset_add(rs, 10, 20);
    rangeset_add(rs, 30, 40);
    rangeset_add(rs, 0, 5);
    expect(rs, (uint64_t[]){ 0, 5, 10, 20, 30, 40 }, 3);
    rangeset_add(rs, 5, 10); /* touches both neighbours */
    expect(rs, (uint64_t[]){ 0, 20, 30, 40 }, 2);
    rangeset_add(rs, 25, 26);
    rangeset_add(rs, 22, 23);
    expect(rs, (uint64_t[]){ 0, 20, 22, 23, 25, 26, 30, 40 }, 4);
    rangeset_add(rs, 15, 35); /* swallows three ranges */
    expect(rs, (uint64_t[]){ 0, 40 }, 1);
    rangeset_add(rs, 3, 7); /* inside: no change */
    rangeset_add(rs, 7, 7); /* empty */
    rangeset_add(rs, 9, 3); /* reversed: empty */
    expect(rs, (uint64_t[]){ 0, 40 }, 1);
    rangeset_add(rs, 40, 41);
    expect(rs, (uint64_t[]){ 0, 41 }, 1);
    ck_assert_uint_eq(rangeset_total(rs), 41);
    rangeset_clear(rs);
    ck_assert_uint_eq(rangeset_count(rs), 0);
    ck_assert_uint_eq(rangeset_total(rs), 0);
    rangeset_free(rs);
    rangeset_free(NULL);
}
END_TEST

START_TEST(test_remove_splits)
{
    rangeset_t *rs = rangeset_new();
    rangeset_add(rs, 0, 100);
    rangeset_remove(rs, 40, 60);
    expect(rs, (uint64_t[]){ 0, 40, 60, 100 }, 2);
    rangeset_remove(rs, 0, 10);
    rangeset_remove(rs, 90, 200);
    expect(rs, (uint64_t[]){ 10, 40, 60, 90 }, 2);
    rangeset_remove(rs, 40, 60); /* already a gap */
    rangeset_remove(rs, 50, 50);
    expect(rs, (uint64_t[]){ 10, 40, 60, 90 }, 2);
    rangeset_remove(rs, 30, 70); /* trims both */
    expect(rs, (uint64_t[]){ 10, 30, 70, 90 }, 2);
    rangeset_add(rs, 100, 110);
    rangeset_remove(rs, 0, 105); /* removes two, trims one */
    expect(rs, (uint64_t[]){ 105, 110 }, 1);
    rangeset_remove(rs, 0, UINT64_MAX);
    ck_assert_uint_eq(rangeset_count(rs), 0);
    rangeset_free(rs);
}
END_TEST

START_TEST(test_coverage_and_gaps)
{
    rangeset_t *rs = rangeset_new();
    rangeset_add(rs, 10, 20);
    rangeset_add(rs, 30, 40);
    ck_assert(rangeset_contains(rs, 10, 20));
    ck_assert(rangeset_contains(rs, 12, 18));
    ck_assert(!rangeset_contains(rs, 9, 12));
    ck_assert(!rangeset_contains(rs, 15, 35));
    ck_assert(!rangeset_contains(rs, 40, 41));
    ck_assert(rangeset_contains(rs, 50, 50)); /* empty range */
    ck_assert(rangeset_intersects(rs, 0, 11));
    ck_assert(!rangeset_intersects(rs, 20, 30));
    ck_assert(!rangeset_intersects(rs, 0, 10));
    ck_assert(rangeset_intersects(rs, 39, 100));
    ck_assert_uint_eq(rangeset_covered(rs, 0, 100), 20);
    ck_assert_uint_eq(rangeset_covered(rs, 15, 35), 10);
    ck_assert_uint_eq(rangeset_covered(rs, 20, 30), 0);
    ck_assert_uint_eq(rangeset_covered(rs, 35, 35), 0);
    uint64_t s, e;
    ck_assert(rangeset_first_gap(rs, 0, 100, &s, &e));
    ck_assert_uint_eq(s, 0);
    ck_assert_uint_eq(e, 10);
    ck_assert(rangeset_first_gap(rs, 10, 100, &s, &e));
    ck_assert_uint_eq(s, 20);
    ck_assert_uint_eq(e, 30);
    ck_assert(rangeset_first_gap(rs, 25, 28, &s, &e));
    ck_assert_uint_eq(s, 25);
    ck_assert_uint_eq(e, 28);
    ck_assert(rangeset_first_gap(rs, 35, 100, &s, &e));
    ck_assert_uint_eq(s, 40);
    ck_assert_uint_eq(e, 100);
    ck_assert(!rangeset_first_gap(rs, 12, 20, &s, &e));
    ck_assert(!rangeset_first_gap(rs, 30, 40, &s, &e));
    ck_assert(!rangeset_first_gap(rs, 5, 5, &s, &e));
    rangeset_t *empty = rangeset_new();
    ck_assert(rangeset_first_gap(empty, 7, 9, &s, &e));
    ck_assert_uint_eq(s, 7);
    ck_assert_uint_eq(e, 9);
    ck_assert(!rangeset_contains(empty, 0, 1));
    rangeset_free(empty);
    rangeset_free(rs);
}
END_TEST

START_TEST(test_copy_equal_union)
{
    rangeset_t *a = rangeset_new();
    rangeset_add(a, 1, 5);
    rangeset_add(a, 8, 9);
    rangeset_t *b = rangeset_copy(a);
    ck_assert(rangeset_equal(a, b));
    rangeset_add(b, 5, 8);
    ck_assert(!rangeset_equal(a, b));
    expect(a, (uint64_t[]){ 1, 5, 8, 9 }, 2); /* the copy is independent */
    expect(b, (uint64_t[]){ 1, 9 }, 1);
    rangeset_t *c = rangeset_new();
    rangeset_add(c, 20, 30);
    rangeset_add_set(c, a);
    rangeset_add_set(c, c);
    expect(c, (uint64_t[]){ 1, 5, 8, 9, 20, 30 }, 3);
    rangeset_t *d = rangeset_copy(NULL);
    ck_assert_uint_eq(rangeset_count(d), 0);
    rangeset_free(a);
    rangeset_free(b);
    rangeset_free(c);
    rangeset_free(d);
}
END_TEST

START_TEST(test_64bit)
{
    const uint64_t big = 1ULL << 38;
    rangeset_t *rs = rangeset_new();
    rangeset_add(rs, big - 184320, big);
    rangeset_add(rs, (1ULL << 32) - 10, (1ULL << 32) + 10);
    ck_assert_uint_eq(rangeset_total(rs), 184320 + 20);
    ck_assert(rangeset_contains(rs, big - 1, big));
    ck_assert(rangeset_contains(rs, 0xFFFFFFFFULL, 0x100000001ULL));
    uint64_t s, e;
    ck_assert(rangeset_first_gap(rs, (1ULL << 32) - 20, big, &s, &e));
    ck_assert_uint_eq(s, (1ULL << 32) - 20);
    ck_assert_uint_eq(e, (1ULL << 32) - 10);
    ck_assert(rangeset_first_gap(rs, (1ULL << 32), big, &s, &e));
    ck_assert_uint_eq(s, (1ULL << 32) + 10);
    ck_assert_uint_eq(e, big - 184320);
    rangeset_remove(rs, big - 100, big - 50);
    ck_assert_uint_eq(rangeset_count(rs), 3);
    ck_assert_uint_eq(rangeset_covered(rs, big - 184320, big), 184320 - 50);
    rangeset_add(rs, UINT64_MAX - 5, UINT64_MAX);
    ck_assert(rangeset_contains(rs, UINT64_MAX - 1, UINT64_MAX));
    rangeset_free(rs);
}
END_TEST

START_TEST(test_many_ranges)
{
    /* 20,000 disjoint ranges inserted in a scrambled order, then merged. */
    rangeset_t *rs = rangeset_new();
    const size_t n = 20000;
    for (size_t k = 0; k < n; k++) {
        size_t i = (k * 7919) % n; /* 7919 is prime, so this visits all */
        rangeset_add(rs, i * 10, i * 10 + 5);
    }
    ck_assert_uint_eq(rangeset_count(rs), n);
    ck_assert_uint_eq(rangeset_total(rs), n * 5);
    for (size_t i = 0; i < n; i++) {
        uint64_t s, e;
        rangeset_get(rs, i, &s, &e);
        if (s != i * 10 || e != i * 10 + 5)
            ck_abort_msg("range %zu is [%llu,%llu)", i, (unsigned long long)s,
                         (unsigned long long)e);
    }
    for (size_t i = 0; i < n; i++)
        rangeset_add(rs, i * 10 + 5, i * 10 + 10);
    expect(rs, (uint64_t[]){ 0, n * 10 }, 1);
    rangeset_free(rs);
}
END_TEST

/* A randomized comparison with a bitmap over 512 positions. CHECK is a
 * ck_assert that costs nothing when it passes (ck_assert reports every call
 * to the test runner, too slow for a loop of this size). */
#define CHECK(c)                                                                                  \
    do {                                                                                          \
        if (!(c))                                                                                 \
            ck_abort_msg("%s:%d: failed: %s", __FILE__, __LINE__, #c);                            \
    } while (0)
#define MODEL_N 512

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void
check_model(const rangeset_t *rs, const uint8_t *bits, uint64_t base)
{
    /* Ranges are sorted, disjoint, non-adjacent and match the bitmap. */
    uint8_t seen[MODEL_N] = { 0 };
    uint64_t prev_end = 0;
    for (size_t i = 0; i < rangeset_count(rs); i++) {
        uint64_t s, e;
        rangeset_get(rs, i, &s, &e);
        /* (ck_assert reports to the runner on every call: keep it out of
         * hot loops) */
        if (s >= e || (i > 0 && s <= prev_end))
            ck_abort_msg("range %zu [%llu,%llu) is empty, unsorted or touches the previous", i,
                         (unsigned long long)s, (unsigned long long)e);
        prev_end = e;
        for (uint64_t x = s; x < e; x++)
            seen[x - base] = 1;
    }
    if (memcmp(seen, bits, MODEL_N) != 0)
        ck_abort_msg("the set differs from the bitmap model");
    uint64_t a = rng() % MODEL_N, b = rng() % (MODEL_N + 1);
    if (a > b) {
        uint64_t t = a;
        a = b;
        b = t;
    }
    uint64_t cov = 0;
    for (uint64_t x = a; x < b; x++)
        cov += bits[x];
    CHECK(rangeset_covered(rs, base + a, base + b) == cov);
    CHECK(rangeset_contains(rs, base + a, base + b) == (cov == b - a));
    CHECK(rangeset_intersects(rs, base + a, base + b) == (cov > 0));
    uint64_t gs, ge;
    bool has_gap = rangeset_first_gap(rs, base + a, base + b, &gs, &ge);
    CHECK(has_gap == (cov < b - a));
    if (has_gap) {
        uint64_t x = a;
        while (bits[x])
            x++;
        CHECK(gs == base + x);
        while (x < b && !bits[x])
            x++;
        CHECK(ge == base + x);
    }
}

START_TEST(test_random_model)
{
    /* Near 2^38 and at 0, to exercise 64-bit arithmetic as well. */
    const uint64_t bases[] = { 0, (1ULL << 38) - MODEL_N };
    for (size_t bi = 0; bi < 2; bi++) {
        uint64_t base = bases[bi];
        uint8_t bits[MODEL_N] = { 0 };
        rangeset_t *rs = rangeset_new();
        for (int step = 0; step < 20000; step++) {
            uint64_t a = rng() % MODEL_N, len = rng() % 40;
            uint64_t b = a + len > MODEL_N ? MODEL_N : a + len;
            if (rng() % 3 == 0) {
                rangeset_remove(rs, base + a, base + b);
                memset(bits + a, 0, b - a);
            } else {
                rangeset_add(rs, base + a, base + b);
                memset(bits + a, 1, b - a);
            }
            check_model(rs, bits, base);
            if (step % 1000 == 999) {
                rangeset_t *c = rangeset_copy(rs);
                ck_assert(rangeset_equal(c, rs));
                rangeset_free(c);
            }
        }
        uint64_t total = 0;
        for (size_t i = 0; i < MODEL_N; i++)
            total += bits[i];
        ck_assert_uint_eq(rangeset_total(rs), total);
        rangeset_free(rs);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("rangeset");
    TCase *tc = tcase_create("rangeset");
    tcase_add_test(tc, test_add_merges);
    tcase_add_test(tc, test_remove_splits);
    tcase_add_test(tc, test_coverage_and_gaps);
    tcase_add_test(tc, test_copy_equal_union);
    tcase_add_test(tc, test_64bit);
    tcase_add_test(tc, test_many_ranges);
    tcase_add_test(tc, test_random_model);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
