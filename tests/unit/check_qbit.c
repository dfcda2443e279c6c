/* check_qbit.c: unit tests for the pure rules of cgi-bin/qbit (logic.c):
 * hash parsing, the links and magnets torrents/add accepts, state names,
 * category names, booleans and tag lists; and the row cache of
 * torrents/info (rowcache.c). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbit/logic.h"
#include "qbit/rowcache.h"

#define MD4 "0123456789abcdef0123456789abcdef"

START_TEST(test_hash_parse)
{
    char md4[33];
    ck_assert_int_eq(qbit_hash_parse(MD4 "00000000", md4), QBIT_HASH_OK);
    ck_assert_str_eq(md4, MD4);
    ck_assert_int_eq(qbit_hash_parse(MD4, md4), QBIT_HASH_OK);
    ck_assert_int_eq(qbit_hash_parse("0123456789ABCDEF0123456789ABCDEF00000000", md4), QBIT_HASH_OK);
    ck_assert_str_eq(md4, MD4);
    ck_assert_int_eq(qbit_hash_parse(MD4 "00000001", md4), QBIT_HASH_FOREIGN);
    ck_assert_int_eq(qbit_hash_parse("xyz", md4), QBIT_HASH_MALFORMED);
    ck_assert_int_eq(qbit_hash_parse("", md4), QBIT_HASH_MALFORMED);
    ck_assert_int_eq(qbit_hash_parse(NULL, md4), QBIT_HASH_MALFORMED);
    ck_assert_int_eq(qbit_hash_parse(MD4 "0000000", md4), QBIT_HASH_MALFORMED);
    ck_assert_int_eq(qbit_hash_parse("g123456789abcdef0123456789abcdef", md4), QBIT_HASH_MALFORMED);
    ck_assert_int_eq(qbit_hash_parse(" " MD4, md4), QBIT_HASH_MALFORMED);
}
END_TEST

START_TEST(test_hashes_parse)
{
    qbit_hashes_t h;
    ck_assert_int_eq(qbit_hashes_parse("all", &h), 0);
    ck_assert(h.all);
    ck_assert_int_eq(qbit_hashes_parse(MD4 "00000000|xyz|FEDCBA9876543210FEDCBA9876543210|" MD4, &h), 0);
    ck_assert(!h.all);
    ck_assert_uint_eq(h.n, 2);
    ck_assert_str_eq(h.md4[0], MD4);
    ck_assert_str_eq(h.md4[1], "fedcba9876543210fedcba9876543210");
    ck_assert_int_eq(qbit_hashes_parse("xyz", &h), 0);
    ck_assert_uint_eq(h.n, 0);
    ck_assert_int_eq(qbit_hashes_parse("", &h), -1);
    ck_assert_int_eq(qbit_hashes_parse(NULL, &h), -1);
    /* 100 entries are fine, 101 are not */
    char buf[101 * 41];
    buf[0] = '\0';
    for (int i = 0; i < 100; i++)
        strcat(strcat(buf, i ? "|" : ""), MD4);
    ck_assert_int_eq(qbit_hashes_parse(buf, &h), 0);
    ck_assert_uint_eq(h.n, 1);
    strcat(buf, "|" MD4);
    ck_assert_int_eq(qbit_hashes_parse(buf, &h), -1);
}
END_TEST

static void
expect_link(const char *in, const char *want)
{
    mt_error_t *err = NULL;
    char *out = qbit_link_to_ed2k(in, &err);
    if (want == NULL) {
        ck_assert_msg(out == NULL, "accepted %s as %s", in, out);
        ck_assert_ptr_nonnull(err);
        mt_error_free(err);
        return;
    }
    ck_assert_msg(out != NULL, "refused %s: %s", in, err ? err->message : "?");
    ck_assert_str_eq(out, want);
    free(out);
}

START_TEST(test_links)
{
    const char *want = "ed2k://|file|Show.S01E05.avi|734003200|" MD4 "|/";
    /* ed2k links, normalised */
    expect_link("ed2k://|file|Show.S01E05.avi|734003200|0123456789ABCDEF0123456789ABCDEF|/", want);
    expect_link("  ed2k://|file|Show.S01E05.avi|734003200|" MD4 "|/\r", want);
    /* magnets: urn:ed2k, urn:ed2khash, a padded btih; any order */
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&xl=734003200&dn=Show.S01E05.avi", want);
    expect_link("magnet:?dn=Show.S01E05.avi&xl=734003200&xt=urn:ed2khash:" MD4, want);
    expect_link("magnet:?xt=urn:btih:" MD4 "00000000&xl=734003200&dn=Show.S01E05.avi&tr=http%3A%2F%2Fx", want);
    /* the Arr shape: padded btih and ed2k together; a foreign btih is ignored */
    expect_link("magnet:?xt=urn:btih:" MD4 "00000000&xt=urn:ed2k:" MD4 "&xl=734003200&dn=Show.S01E05.avi", want);
    expect_link("magnet:?xt=urn:btih:4444444444444444444444444444444444444444&xt=urn:ed2k:"
                "0123456789ABCDEF0123456789ABCDEF&xl=734003200&dn=Show.S01E05.avi&tr=http%253A", want);
    /* names: percent-decoded, '+' is a space, '/' made safe */
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&xl=10&dn=a%20b+c", "ed2k://|file|a%20b%20c|10|" MD4 "|/");
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&xl=10&dn=..%2Fetc%2Fpasswd", "ed2k://|file|.._etc_passwd|10|" MD4 "|/");
    /* refused */
    expect_link("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x", NULL);
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&dn=x", NULL);          /* no size */
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&xl=10", NULL);         /* no name */
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&xl=0&dn=x", NULL);     /* zero size */
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&xl=-5&dn=x", NULL);
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&xl=1e3&dn=x", NULL);
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&xl=274877906945&dn=x", NULL); /* over 256 GiB */
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&xl=10&dn=%zz", NULL);
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&xl=10&dn=a%00b", NULL);
    expect_link("magnet:?xt=urn:ed2k:" MD4 "&xt=urn:ed2k:fedcba9876543210fedcba9876543210&xl=10&dn=x", NULL);
    expect_link("magnet:?xt=urn:ed2k:0123&xl=10&dn=x", NULL);
    expect_link("ed2k://|server|1.2.3.4|4661|/", NULL);
    expect_link("ed2k://|file|x|10|nothex|/", NULL);
    expect_link("http://example.com/a.torrent", NULL);
    expect_link("garbage", NULL);
    expect_link("", NULL);
}
END_TEST

START_TEST(test_states)
{
    ck_assert_str_eq(qbit_state("downloading", false), "downloading");
    ck_assert_str_eq(qbit_state("stalled", false), "stalledDL");
    ck_assert_str_eq(qbit_state("queued", false), "queuedDL");
    ck_assert_str_eq(qbit_state("checking", false), "checkingDL");
    ck_assert_str_eq(qbit_state("moving", false), "moving");
    ck_assert_str_eq(qbit_state("paused", false), "stoppedDL");
    ck_assert_str_eq(qbit_state("stopped", false), "stoppedDL");
    ck_assert_str_eq(qbit_state("error", false), "error");
    ck_assert_str_eq(qbit_state("missing", false), "missingFiles");
    ck_assert_str_eq(qbit_state("completed", false), "stoppedUP");
    ck_assert_str_eq(qbit_state("downloading", true), "forcedDL");
    ck_assert_str_eq(qbit_state("stalled", true), "forcedDL");
    ck_assert_str_eq(qbit_state("paused", true), "stoppedDL");
    ck_assert_str_eq(qbit_state("completed", true), "stoppedUP");
    ck_assert_str_eq(qbit_state("bogus", false), "unknown");
    ck_assert_str_eq(qbit_state(NULL, false), "unknown");
    ck_assert_str_eq(qbit_seed_state(true, true), "stoppedUP");
    ck_assert_str_eq(qbit_seed_state(true, false), "stoppedUP");
    ck_assert_str_eq(qbit_seed_state(false, true), "uploading");
    ck_assert_str_eq(qbit_seed_state(false, false), "stalledUP");
    /* every database state has a real qBittorrent name */
    for (size_t i = 0; i < qbit_n_db_states; i++)
        ck_assert_str_ne(qbit_state(qbit_db_states[i], false), "unknown");
}
END_TEST

START_TEST(test_categories)
{
    ck_assert(qbit_category_valid("tv-sonarr"));
    ck_assert(qbit_category_valid("tv/sub"));
    ck_assert(qbit_category_valid("Filme & Serien"));
    ck_assert(qbit_category_valid("caf\xc3\xa9"));
    ck_assert(!qbit_category_valid(""));
    ck_assert(!qbit_category_valid(NULL));
    ck_assert(!qbit_category_valid("bad//name"));
    ck_assert(!qbit_category_valid("/lead"));
    ck_assert(!qbit_category_valid("trail/"));
    ck_assert(!qbit_category_valid("back\\slash"));
    ck_assert(!qbit_category_valid("a/../b"));
    ck_assert(!qbit_category_valid(".."));
    ck_assert(!qbit_category_valid("a/."));
    ck_assert(!qbit_category_valid("tab\there"));
    ck_assert(!qbit_category_valid("caf\xe9"));
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert(!qbit_category_valid(big));
    big[255] = '\0';
    ck_assert(qbit_category_valid(big));
}
END_TEST

START_TEST(test_bools_and_tags)
{
    bool b = false;
    ck_assert_int_eq(qbit_bool_parse("True", &b), 0);
    ck_assert(b);
    ck_assert_int_eq(qbit_bool_parse("false", &b), 0);
    ck_assert(!b);
    ck_assert_int_eq(qbit_bool_parse("TRUE", &b), 0);
    ck_assert(b);
    ck_assert_int_eq(qbit_bool_parse("1", &b), -1);
    ck_assert_int_eq(qbit_bool_parse("", &b), -1);
    ck_assert_int_eq(qbit_bool_parse(NULL, &b), -1);

    char *buf;
    const char *tags[4];
    ck_assert_int_eq(qbit_tags_parse(" sonarr, tv ,,sonarr", &buf, tags, 4), 2);
    ck_assert_str_eq(tags[0], "sonarr");
    ck_assert_str_eq(tags[1], "tv");
    free(buf);
    ck_assert_int_eq(qbit_tags_parse("", &buf, tags, 4), 0);
    free(buf);
    ck_assert_int_eq(qbit_tags_parse("a,b,c,d,e", &buf, tags, 4), -1);
    free(buf);
    ck_assert_int_eq(qbit_tags_parse("ok,bad\x01", &buf, tags, 4), -1);
    free(buf);
    char big[80];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(qbit_tags_parse(big, &buf, tags, 4), -1);
    free(buf);
}
END_TEST

/* the row cache: versions, replacement, growth past its first table, and
 * starting over when full */
START_TEST(test_rowcache)
{
    qbit_rowcache_t *c = qbit_rowcache_new(2, 1 << 20);
    const char *segs[2] = { "{\"a\":1}", "{\"b\":\"x\"}" };
    size_t len[2] = { strlen(segs[0]), strlen(segs[1]) };
    ck_assert_ptr_null(qbit_rowcache_get(c, MD4, "7"));
    qbit_rowcache_put(c, MD4, "7", segs, len);
    const char *const *got = qbit_rowcache_get(c, MD4, "7");
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got[0], "{\"a\":1}");
    ck_assert_str_eq(got[1], "{\"b\":\"x\"}");
    ck_assert_ptr_null(qbit_rowcache_get(c, MD4, "8")); /* another version */
    ck_assert_ptr_nonnull(qbit_rowcache_get(c, MD4, NULL));
    const char *segs2[2] = { "{\"a\":2}", "{}" };
    size_t len2[2] = { 7, 2 };
    qbit_rowcache_put(c, MD4, "8", segs2, len2);
    ck_assert_uint_eq(qbit_rowcache_count(c), 1);
    ck_assert_ptr_null(qbit_rowcache_get(c, MD4, "7"));
    ck_assert_str_eq(qbit_rowcache_get(c, MD4, "8")[0], "{\"a\":2}");
    /* thousands of keys: every one found at its version after growing */
    char key[40];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "%032x", i);
        qbit_rowcache_put(c, key, "1", segs, len);
    }
    ck_assert_uint_eq(qbit_rowcache_count(c), 5001);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "%032x", i);
        ck_assert_ptr_nonnull(qbit_rowcache_get(c, key, "1"));
    }
    /* replaced in place after growth: the keys past it still found */
    snprintf(key, sizeof key, "%032x", 17);
    qbit_rowcache_put(c, key, "2", segs2, len2);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "%032x", i);
        ck_assert_ptr_nonnull(qbit_rowcache_get(c, key, i == 17 ? "2" : "1"));
    }
    qbit_rowcache_free(c);

    /* full: it starts over with the new row alone */
    c = qbit_rowcache_new(2, 200);
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "%032x", i);
        qbit_rowcache_put(c, key, "1", segs, len);
    }
    ck_assert_uint_lt(qbit_rowcache_count(c), 10);
    ck_assert_ptr_nonnull(qbit_rowcache_get(c, key, "1"));
    qbit_rowcache_free(c);
    qbit_rowcache_free(NULL);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("qbit");
    TCase *tc = tcase_create("logic");
    tcase_add_test(tc, test_hash_parse);
    tcase_add_test(tc, test_hashes_parse);
    tcase_add_test(tc, test_links);
    tcase_add_test(tc, test_states);
    tcase_add_test(tc, test_categories);
    tcase_add_test(tc, test_bools_and_tags);
    tcase_add_test(tc, test_rowcache);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
