/* check_ed2k_rc4.c: unit tests for lib/ed2k/rc4: the keystream of
 * RFC 6229's first key and nettle's ARCFOUR used directly over random
 * keys, in one piece and split at odd places, in place or not; the
 * keystream computed ahead (rc4ahead) equal to it across its ring's wrap,
 * and an obfuscated stream that switches to it midway. */
#include "config.h"

#include <check.h>
#include <nettle/arcfour.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/obfs.h"
#include "ed2k/rc4.h"
#include "ed2k/rc4ahead.h"

/* RFC 6229, key 0x0102030405: keystream bytes 0-15 and 1024-1039
 * (offsets 0 and 1024 of its table). */
START_TEST(test_rfc6229)
{
    static const uint8_t key[5] = { 1, 2, 3, 4, 5 };
    static const uint8_t at0[16] = { 0xb2, 0x39, 0x63, 0x05, 0xf0, 0x3d, 0xc0, 0x27,
                                     0xcc, 0xc3, 0x52, 0x4a, 0x0a, 0x11, 0x18, 0xa8 };
    static const uint8_t at1024[16] = { 0x30, 0xab, 0xbc, 0xc7, 0xc2, 0x0b, 0x01, 0x60,
                                        0x9f, 0x23, 0xee, 0x2d, 0x5f, 0x6b, 0xb7, 0xdf };
    ed2k_rc4_t c;
    uint8_t zero[16] = { 0 }, out[16];
    ed2k_rc4_set_key(&c, key, sizeof key);
    ed2k_rc4_crypt(&c, out, zero, sizeof out);
    ck_assert_mem_eq(out, at0, sizeof at0);
    ed2k_rc4_skip(&c, 1024 - 16);
    ed2k_rc4_crypt(&c, out, zero, sizeof out);
    ck_assert_mem_eq(out, at1024, sizeof at1024);
}
END_TEST

START_TEST(test_as_nettle)
{
    srandom(6229);
    enum { N = 70000 };
    uint8_t *src = malloc(N), *want = malloc(N), *got = malloc(N);
    for (int round = 0; round < 20; round++) {
        uint8_t key[40];
        size_t klen = 1 + (size_t)(random() % (long)sizeof key);
        for (size_t i = 0; i < klen; i++)
            key[i] = (uint8_t)random();
        for (size_t i = 0; i < N; i++)
            src[i] = (uint8_t)random();
        struct arcfour_ctx ref;
        arcfour_set_key(&ref, klen, key);
        arcfour_crypt(&ref, N, want, src);
        ed2k_rc4_t c;
        ed2k_rc4_set_key(&c, key, klen);
        /* odd pieces, in place for odd rounds, a skip in the middle */
        memcpy(got, src, N);
        size_t at = 0;
        while (at < N) {
            size_t n = 1 + (size_t)(random() % 9000);
            if (n > N - at)
                n = N - at;
            if (round == 3 && at > 1000 && at < 20000) {
                ed2k_rc4_skip(&c, n);
                memcpy(got + at, want + at, n);
            } else if (round % 2) {
                ed2k_rc4_crypt(&c, got + at, got + at, n);
            } else {
                ed2k_rc4_crypt(&c, got + at, src + at, n);
            }
            at += n;
        }
        ck_assert_mem_eq(got, want, N);
    }
    free(src);
    free(want);
    free(got);
}
END_TEST

START_TEST(test_ahead)
{
    enum { N = 5 << 20 }; /* the ring (1 MiB) wraps five times */
    uint8_t *src = malloc(N), *want = malloc(N), *got = malloc(N);
    srandom(2);
    for (size_t i = 0; i < N; i++)
        src[i] = (uint8_t)random();
    static const uint8_t key[16] = "ahead of the loo";
    ed2k_rc4_t c;
    ed2k_rc4_set_key(&c, key, sizeof key);
    ed2k_rc4_skip(&c, 1024);
    ed2k_rc4_ahead_t *a = ed2k_rc4_ahead_start(&c);
    ck_assert_ptr_nonnull(a);
    ed2k_rc4_crypt(&c, want, src, N);
    for (size_t at = 0; at < N;) {
        size_t n = 1 + (size_t)(random() % 300000);
        if (n > N - at)
            n = N - at;
        ed2k_rc4_ahead_crypt(a, got + at, src + at, n);
        at += n;
    }
    ck_assert_mem_eq(got, want, N);
    ed2k_rc4_ahead_free(a);
    /* freed while its thread waits for room, and NULL */
    a = ed2k_rc4_ahead_start(&c);
    ed2k_rc4_ahead_crypt(a, got, src, 10);
    ed2k_rc4_ahead_free(a);
    ed2k_rc4_ahead_free(NULL);
    free(src);
    free(want);
    free(got);
}
END_TEST

/* Two ends of one obfuscated connection, the sender allowed to go ahead:
 * past ED2K_OBFS_AHEAD_AFTER bytes the stream still reads back equal. */
START_TEST(test_obfs_goes_ahead)
{
    static const uint8_t hash[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    ed2k_obfs_random_t r = { .marker = 0x42, .key_part = 7, .pad_len = 3 };
    ed2k_obfs_t a, b;
    uint8_t first[ED2K_OBFS_MAX_SERVER_MSG], reply[ED2K_OBFS_MAX_SERVER_MSG];
    size_t n = ed2k_obfs_initiator_start(&a, hash, &r, first), used = 0, rlen = 0;
    ed2k_obfs_responder_init(&b, hash, &r);
    ck_assert_int_eq(ed2k_obfs_feed(&b, first, n, &used, reply, &rlen, NULL), ED2K_OBFS_DONE);
    ck_assert_int_eq(ed2k_obfs_feed(&a, reply, rlen, &used, first, &n, NULL), ED2K_OBFS_DONE);
    ed2k_obfs_allow_ahead(&a);
    enum { N = ED2K_OBFS_AHEAD_AFTER + (3 << 20) };
    uint8_t *src = malloc(N), *wire = malloc(N), *back = malloc(N);
    for (size_t i = 0; i < N; i++)
        src[i] = (uint8_t)(i * 7 + (i >> 9));
    for (size_t at = 0; at < N;) {
        size_t m = N - at < 70001 ? N - at : 70001;
        ed2k_obfs_encrypt(&a, wire + at, src + at, m);
        at += m;
    }
    ck_assert_ptr_nonnull(a.ahead_send);
    ck_assert_ptr_null(b.ahead_recv);
    ed2k_obfs_decrypt(&b, back, wire, N);
    ck_assert_mem_eq(back, src, N);
    ed2k_obfs_clear(&a);
    ed2k_obfs_clear(&b);
    ck_assert_ptr_null(a.ahead_send);
    free(src);
    free(wire);
    free(back);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_rc4");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rfc6229);
    tcase_add_test(tc, test_as_nettle);
    tcase_add_test(tc, test_ahead);
    tcase_add_test(tc, test_obfs_goes_ahead);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
