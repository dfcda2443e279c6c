/* check_credits.c: unit tests for daemon/transfer/credits: aMule's score
 * modifier at and around its thresholds, credits honoured only for
 * identified peers, the first verified key, the state file and expiry
 * (at load and in a running daemon, on a clock passed in). */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/transfer/credits.h"

#define MIB 1048576ull
#define NOW 1800000000

static const uint8_t h1[16] = { 1, 2, 3 };
static const uint8_t h2[16] = { 9, 8, 7 };

START_TEST(test_ratio)
{
    /* under 1,000,000 bytes downloaded: no bonus, whatever was uploaded */
    ck_assert_double_eq(credits_ratio(999999, 0), 1.0);
    ck_assert_double_eq(credits_ratio(0, 0), 1.0);
    /* just over: nothing uploaded gives 10, capped by sqrt(MiB + 2) */
    ck_assert_double_eq_tol(credits_ratio(1000000, 0), sqrt(1000000.0 / MIB + 2), 1e-9);
    ck_assert_double_eq_tol(credits_ratio(1000000, 0), 1.718626, 1e-6);
    /* 10 MiB each way: 2*10/10 = 2 (the cap is sqrt(12) = 3.46) */
    ck_assert_double_eq_tol(credits_ratio(10 * MIB, 10 * MIB), 2.0, 1e-9);
    /* 50 MiB down, 10 MiB up: 10, capped at sqrt(52) = 7.21 */
    ck_assert_double_eq_tol(credits_ratio(50 * MIB, 10 * MIB), sqrt(52.0), 1e-9);
    /* uploaded more than twice what we got: clamped to 1 */
    ck_assert_double_eq(credits_ratio(10 * MIB, 40 * MIB), 1.0);
    /* much downloaded: clamped to 10 */
    ck_assert_double_eq(credits_ratio(1024 * MIB, 1 * MIB), 10.0);
    ck_assert_double_eq(credits_ratio(100 * MIB, 0), 10.0);
}
END_TEST

START_TEST(test_modifier_needs_ident)
{
    credits_t *c = credits_new();
    credits_add_downloaded(c, h1, 10 * MIB, NOW);
    credits_add_uploaded(c, h1, 10 * MIB, NOW);
    ck_assert_double_eq(credits_modifier(c, h1, false), 1.0);
    ck_assert_double_eq_tol(credits_modifier(c, h1, true), 2.0, 1e-9);
    ck_assert_double_eq(credits_modifier(c, h2, true), 1.0);
    credits_free(c);
}
END_TEST

START_TEST(test_verified)
{
    credits_t *c = credits_new();
    uint8_t k1[76], k2[76];
    memset(k1, 1, sizeof k1);
    memset(k2, 2, sizeof k2);
    credits_add_downloaded(c, h1, 5 * MIB, NOW);
    /* the first key verified for a hash clears what came before it */
    ck_assert(credits_verified(c, h1, k1, 76, NOW));
    ck_assert_uint_eq(credits_find(c, h1)->downloaded, 0);
    credits_add_downloaded(c, h1, 5 * MIB, NOW);
    ck_assert(credits_verified(c, h1, k1, 76, NOW));
    ck_assert_uint_eq(credits_find(c, h1)->downloaded, 5 * MIB);
    /* another key for the same hash: refused, counts kept */
    ck_assert(!credits_verified(c, h1, k2, 76, NOW));
    ck_assert_uint_eq(credits_find(c, h1)->downloaded, 5 * MIB);
    ck_assert(!credits_verified(c, h2, k2, 0, NOW));
    credits_free(c);
}
END_TEST

START_TEST(test_merge)
{
    credits_t *c = credits_new();
    time_t now = 1700000000;
    uint8_t a[16], b[16], key[76];
    memset(a, 0xa1, sizeof a);
    memset(b, 0xb2, sizeof b);
    memset(key, 0x5c, sizeof key);
    credits_add_uploaded(c, a, 100, now);
    credits_add_downloaded(c, a, 5000, now);
    /* a known hash keeps the larger counts and gets a key it lacked */
    credit_t in = { .uploaded = 700, .downloaded = 10, .last_seen = now - 10, .key_len = 76 };
    memcpy(in.hash, a, 16);
    memcpy(in.key, key, sizeof key);
    ck_assert(credits_merge(c, &in, now));
    credit_t *r = credits_find(c, a);
    ck_assert_uint_eq(r->uploaded, 700);
    ck_assert_uint_eq(r->downloaded, 5000);
    ck_assert_int_eq(r->last_seen, now);
    ck_assert_uint_eq(r->key_len, 76);
    ck_assert_mem_eq(r->key, key, sizeof key);
    /* merging the same file again changes nothing; smaller counts neither */
    ck_assert(credits_merge(c, &in, now));
    ck_assert_uint_eq(credits_find(c, a)->uploaded, 700);
    in.uploaded = 50;
    ck_assert(credits_merge(c, &in, now));
    ck_assert_uint_eq(credits_find(c, a)->uploaded, 700);
    ck_assert_uint_eq(credits_find(c, a)->downloaded, 5000);
    /* a new hash is copied with its own last_seen; an expired one is not */
    credit_t nb = { .uploaded = 1, .downloaded = 2000000, .last_seen = now - 3600 };
    memcpy(nb.hash, b, 16);
    ck_assert(credits_merge(c, &nb, now));
    r = credits_find(c, b);
    ck_assert_uint_eq(r->downloaded, 2000000);
    ck_assert_int_eq(r->last_seen, now - 3600);
    ck_assert_uint_eq(r->key_len, 0);
    nb.hash[0] = 0;
    nb.last_seen = now - CREDITS_EXPIRE - 1;
    ck_assert(!credits_merge(c, &nb, now));
    ck_assert_ptr_null(credits_find(c, nb.hash));
    ck_assert_uint_eq(credits_count(c), 2);
    credits_free(c);
}
END_TEST

START_TEST(test_file)
{
    char dir[] = "/tmp/check_credits.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/credits.dat", dir);
    credits_t *c = credits_new();
    ck_assert_int_eq(credits_load(c, path, NOW, NULL), 0); /* missing: empty */
    uint8_t k[76];
    memset(k, 7, sizeof k);
    credits_add_uploaded(c, h1, 123, NOW - CREDITS_EXPIRE + 10);
    credits_verified(c, h1, k, 76, NOW - CREDITS_EXPIRE + 10);
    credits_add_downloaded(c, h1, 456, NOW - CREDITS_EXPIRE + 10);
    credits_add_uploaded(c, h2, 789, NOW - CREDITS_EXPIRE - 10);
    for (int i = 0; i < 300; i++) {
        uint8_t h[16] = { (uint8_t)i, (uint8_t)(i >> 8), 0xff };
        credits_add_uploaded(c, h, (uint64_t)i, NOW);
    }
    ck_assert_int_eq(credits_save(c, path, NULL), 0);
    credits_t *d = credits_new();
    ck_assert_int_eq(credits_load(d, path, NOW, NULL), 0);
    /* h2 was not seen for more than 150 days: gone */
    ck_assert_uint_eq(credits_count(d), 301);
    ck_assert_ptr_null(credits_find(d, h2));
    const credit_t *cr = credits_find(d, h1);
    ck_assert_ptr_nonnull(cr);
    ck_assert_uint_eq(cr->downloaded, 456);
    ck_assert_uint_eq(cr->uploaded, 0); /* cleared when the key came */
    ck_assert_uint_eq(cr->key_len, 76);
    ck_assert_mem_eq(cr->key, k, 76);
    ck_assert_int_eq(cr->last_seen, NOW - CREDITS_EXPIRE + 10);
    /* a damaged file is refused */
    FILE *f = fopen(path, "r+");
    fseek(f, 0, SEEK_END);
    fputc(0, f);
    fclose(f);
    credits_t *e = credits_new();
    mt_error_t *err = NULL;
    ck_assert_int_eq(credits_load(e, path, NOW, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_free(err);
    ck_assert_uint_eq(credits_count(e), 0);
    unlink(path);
    rmdir(dir);
    credits_free(c);
    credits_free(d);
    credits_free(e);
}
END_TEST

/* A daemon that runs for months drops what it has not seen for 150 days
 * at its saves, not only at its next start: the clock is passed in. */
START_TEST(test_expire_running)
{
    credits_t *c = credits_new();
    time_t t = NOW;
    credits_add_downloaded(c, h1, 5 * MIB, t);
    credits_add_uploaded(c, h2, 1 * MIB, t);
    ck_assert_uint_eq(credits_expire(c, t + CREDITS_EXPIRE), 0); /* exactly 150 days: kept */
    t += 100 * 24 * 3600;
    credits_add_downloaded(c, h2, 1, t); /* h2 seen again 100 days later */
    t += 60 * 24 * 3600;                 /* h1 unseen for 160 days, h2 for 60 */
    ck_assert_uint_eq(credits_expire(c, t), 1);
    ck_assert_uint_eq(credits_count(c), 1);
    ck_assert_ptr_null(credits_find(c, h1));
    ck_assert_ptr_nonnull(credits_find(c, h2));
    ck_assert_uint_eq(credits_find(c, h2)->uploaded, 1 * MIB);
    /* many records in one bucket chain: each judged on its own */
    for (int i = 0; i < 2000; i++) {
        uint8_t h[16] = { (uint8_t)i, (uint8_t)(i >> 8), 0xee };
        credits_add_uploaded(c, h, 1, i % 2 == 0 ? t : t - CREDITS_EXPIRE - 1);
    }
    ck_assert_uint_eq(credits_expire(c, t), 1000);
    ck_assert_uint_eq(credits_count(c), 1001);
    for (int i = 0; i < 2000; i++) {
        uint8_t h[16] = { (uint8_t)i, (uint8_t)(i >> 8), 0xee };
        ck_assert(i % 2 == 0 ? credits_find(c, h) != NULL : credits_find(c, h) == NULL);
    }
    ck_assert_uint_eq(credits_expire(c, t + CREDITS_EXPIRE + 1), 1001);
    ck_assert_uint_eq(credits_count(c), 0);
    credits_free(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("credits");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ratio);
    tcase_add_test(tc, test_modifier_needs_ident);
    tcase_add_test(tc, test_verified);
    tcase_add_test(tc, test_file);
    tcase_add_test(tc, test_merge);
    tcase_add_test(tc, test_expire_running);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
