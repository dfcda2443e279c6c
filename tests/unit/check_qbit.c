/* check_qbit.c: unit tests for the pure rules of cgi-bin/qbit (logic.c,
 * prefs.c): hash parsing, the links and magnets torrents/add accepts,
 * state names, category names, booleans and tag lists, what
 * app/setPreferences sends the daemon; and the row cache of
 * torrents/info (rowcache.c). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbit/logic.h"
#include "qbit/prefs.h"
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

/* Foreign hashes (40 hex digits without the padding) are kept apart, in
 * lower case, to be looked up as btihs; padded and bare MD4s are MD4s. */
START_TEST(test_hashes_btih)
{
    qbit_hashes_t h;
    ck_assert_int_eq(qbit_hashes_parse("C12FE1C06BBA254A9DC9F519B335AA7C1367A88A|" MD4 "00000000|"
                                       "c12fe1c06bba254a9dc9f519b335aa7c1367a88a|" MD4 "|xyz|"
                                       "4444444444444444444444444444444444444444",
                                       &h),
                     0);
    ck_assert_uint_eq(h.n, 1);
    ck_assert_str_eq(h.md4[0], MD4);
    ck_assert_uint_eq(h.n_btih, 2);
    ck_assert_str_eq(h.btih[0], "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
    ck_assert_str_eq(h.btih[1], "4444444444444444444444444444444444444444");
    ck_assert_int_eq(qbit_hashes_parse(MD4 "00000000|" MD4, &h), 0);
    ck_assert_uint_eq(h.n_btih, 0);
    ck_assert_int_eq(qbit_hashes_parse("all", &h), 0);
    ck_assert_uint_eq(h.n_btih, 0);
    /* 41 digits, or a non-hex character, is nothing */
    ck_assert_int_eq(qbit_hashes_parse("c12fe1c06bba254a9dc9f519b335aa7c1367a88a0|"
                                       "g12fe1c06bba254a9dc9f519b335aa7c1367a88a", &h), 0);
    ck_assert_uint_eq(h.n + h.n_btih, 0);
}
END_TEST

static void
expect_btih(const char *in, const char *want_link, const char *want_btih)
{
    mt_error_t *err = NULL;
    char btih[41] = "junk";
    char *out = qbit_link_parse(in, btih, &err);
    if (want_link == NULL) {
        ck_assert_msg(out == NULL, "accepted %s as %s", in, out);
        ck_assert_str_eq(btih, "");
        mt_error_free(err);
        return;
    }
    ck_assert_msg(out != NULL, "refused %s: %s", in, err ? err->message : "?");
    ck_assert_str_eq(out, want_link);
    ck_assert_str_eq(btih, want_btih);
    free(out);
}

/* A magnet with a btih beside its eD2K hash: the link, and the btih the
 * download is to be listed under. */
START_TEST(test_link_btih)
{
    const char *want = "ed2k://|file|Show.S01E05.avi|734003200|" MD4 "|/";
    const char *bt = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
    expect_btih("magnet:?xt=urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A&xt=urn:ed2k:" MD4
                "&dn=Show.S01E05.avi&xl=734003200",
                want, bt);
    /* either order; base32 (either case) converted to hex */
    expect_btih("magnet:?xt=urn:ed2k:" MD4 "&xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK"
                "&dn=Show.S01E05.avi&xl=734003200",
                want, bt);
    expect_btih("magnet:?xt=urn:btih:yex6dqdlxisuvhoj6um3gnnkpqjwpkek&xt=urn:ed2k:" MD4
                "&dn=Show.S01E05.avi&xl=734003200",
                want, bt);
    /* the first btih counts */
    expect_btih("magnet:?xt=urn:btih:" "c12fe1c06bba254a9dc9f519b335aa7c1367a88a&xt=urn:btih:"
                "4444444444444444444444444444444444444444&xt=urn:ed2k:" MD4
                "&dn=Show.S01E05.avi&xl=734003200",
                want, bt);
    /* a padded btih is the MD4, not a btih; so is a link without one */
    expect_btih("magnet:?xt=urn:btih:" MD4 "00000000&xt=urn:ed2k:" MD4
                "&dn=Show.S01E05.avi&xl=734003200",
                want, "");
    expect_btih("magnet:?xt=urn:ed2k:" MD4 "&dn=Show.S01E05.avi&xl=734003200", want, "");
    expect_btih("ed2k://|file|Show.S01E05.avi|734003200|" MD4 "|/", want, "");
    /* not base32 (0, 1, 8, 9), or the wrong length: ignored */
    expect_btih("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1&xt=urn:ed2k:" MD4
                "&dn=Show.S01E05.avi&xl=734003200",
                want, "");
    expect_btih("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a8&xt=urn:ed2k:" MD4
                "&dn=Show.S01E05.avi&xl=734003200",
                want, "");
    /* a refused magnet gives no btih */
    expect_btih("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=x&xl=10", NULL,
                "");
    expect_btih("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&xt=urn:ed2k:" MD4
                "&dn=x",
                NULL, "");
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
    expect_link(" ed2k://|NodesList|http%3A%2F%2Fx.example%2Fnodes.dat|/ ",
                "ed2k://|nodeslist|http://x.example/nodes.dat|/");
    expect_link("ed2k://|nodeslist|ftp://x.example/nodes.dat|/", NULL);
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

START_TEST(test_ints_limits_log_types)
{
    long long v = 7;
    ck_assert_int_eq(qbit_int_parse("12", &v), 0);
    ck_assert_int_eq(v, 12);
    ck_assert_int_eq(qbit_int_parse(" -3 ", &v), 0);
    ck_assert_int_eq(v, -3);
    ck_assert_int_eq(qbit_int_parse("+5", &v), 0);
    ck_assert_int_eq(v, 5);
    v = 7;
    ck_assert_int_eq(qbit_int_parse("", &v), -1);
    ck_assert_int_eq(qbit_int_parse("abc", &v), -1);
    ck_assert_int_eq(qbit_int_parse("1.5", &v), -1);
    ck_assert_int_eq(qbit_int_parse("12x", &v), -1);
    ck_assert_int_eq(qbit_int_parse("-", &v), -1);
    ck_assert_int_eq(qbit_int_parse("99999999999999999999", &v), -1);
    ck_assert_int_eq(qbit_int_parse(NULL, &v), -1);
    ck_assert_int_eq(v, 7);
    /* qBittorrent keeps KiB/s: 0 and below unlimited, up to 1 KiB is 1 */
    ck_assert_int_eq(qbit_limit_kib(-1), 0);
    ck_assert_int_eq(qbit_limit_kib(0), 0);
    ck_assert_int_eq(qbit_limit_kib(1), 1);
    ck_assert_int_eq(qbit_limit_kib(1024), 1);
    ck_assert_int_eq(qbit_limit_kib(1025), 1);
    ck_assert_int_eq(qbit_limit_kib(2047), 1);
    ck_assert_int_eq(qbit_limit_kib(2048), 2);
    ck_assert_int_eq(qbit_limit_kib(102400), 100);
    ck_assert_int_eq(qbit_log_type("info"), QBIT_LOG_NORMAL);
    ck_assert_int_eq(qbit_log_type("debug"), QBIT_LOG_INFO);
    ck_assert_int_eq(qbit_log_type("warn"), QBIT_LOG_WARNING);
    ck_assert_int_eq(qbit_log_type("error"), QBIT_LOG_CRITICAL);
    ck_assert_int_eq(qbit_log_type("other"), QBIT_LOG_NORMAL);
    ck_assert_int_eq(QBIT_LOG_NORMAL | QBIT_LOG_INFO | QBIT_LOG_WARNING | QBIT_LOG_CRITICAL, 15);
}
END_TEST

/* prefs_is: the JSON text of one part of what json gives (NULL: none). */
static char *
prefs_part(const char *json, int part)
{
    qbit_prefs_t p;
    ck_assert_int_eq(qbit_prefs_parse(json, &p, NULL), 0);
    json_object *o = part == 0 ? p.limits : part == 1 ? p.alt_limits : part == 2 ? p.share
                                                                               : p.settings;
    char *s = o != NULL ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) : NULL;
    qbit_prefs_clear(&p);
    return s;
}

static void
prefs_is(const char *json, int part, const char *want)
{
    char *got = prefs_part(json, part);
    if (want == NULL)
        ck_assert_msg(got == NULL, "%s gave %s", json, got);
    else
        ck_assert_msg(got != NULL && strcmp(got, want) == 0, "%s gave %s, not %s", json,
                      got != NULL ? got : "nothing", want);
    free(got);
}

/* sched_args: the config-set arguments setPreferences' json gives over
 * the schedule current (NULL: none), as JSON text; the caller frees. */
static char *
sched_args(const char *json, const char *current, bool enabled)
{
    qbit_prefs_t p;
    ck_assert_int_eq(qbit_prefs_parse(json, &p, NULL), 0);
    json_object *o = qbit_prefs_schedule(&p, current, enabled);
    char *s = o != NULL ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) : NULL;
    json_object_put(o);
    qbit_prefs_clear(&p);
    return s;
}

START_TEST(test_set_preferences_schedule)
{
    char *s = sched_args("{\"dl_limit\": 1}", "08:00-20:00 every", false);
    ck_assert_ptr_null(s);
    s = sched_args("{\"scheduler_enabled\": true, \"schedule_from_hour\": 22, "
                   "\"schedule_to_hour\": \"6\", \"scheduler_days\": 1}",
                   "08:00-20:00 every", false);
    ck_assert_str_eq(s, "{\"scheduler_enabled\":true,\"schedule\":\"22:00-06:00 weekdays\"}");
    free(s);
    /* one key: the rest of the first rule and the other rules are kept */
    s = sched_args("{\"schedule_to_min\": 30}", "01:15-02:00 sat; 09:00-10:00 mon,tue", true);
    ck_assert_str_eq(s, "{\"scheduler_enabled\":true,\"schedule\":\"01:15-02:30 sat; "
                        "09:00-10:00 mon,tue\"}");
    free(s);
    /* out of range: brought in; Sunday is 9 */
    s = sched_args("{\"schedule_from_hour\": 99, \"schedule_from_min\": -5, "
                   "\"scheduler_days\": 9, \"scheduler_enabled\": \"false\"}",
                   "", true);
    ck_assert_str_eq(s, "{\"scheduler_enabled\":false,\"schedule\":\"23:00-20:00 sun\"}");
    free(s);
}
END_TEST

START_TEST(test_set_preferences)
{
    qbit_prefs_t p;
    /* not a JSON object: refused */
    ck_assert_int_eq(qbit_prefs_parse("{", &p, NULL), -1);
    ck_assert_int_eq(qbit_prefs_parse("[1]", &p, NULL), -1);
    ck_assert_int_eq(qbit_prefs_parse("{} x", &p, NULL), -1);
    ck_assert_int_eq(qbit_prefs_parse("", &p, NULL), -1);
    /* unknown keys: nothing to do */
    prefs_is("{\"locale\": \"de\", \"dht\": false}", 0, NULL);
    prefs_is("{\"locale\": \"de\"}", 2, NULL);
    /* speeds: bytes/s rounded up to KiB/s, 0 or less unlimited */
    prefs_is("{\"dl_limit\": 102400, \"up_limit\": 1000}", 0,
             "{\"max_download\":100,\"max_upload\":1}");
    prefs_is("{\"dl_limit\": -1}", 0, "{\"max_download\":0}");
    prefs_is("{\"up_limit\": \"2048\"}", 0, "{\"max_upload\":2}");
    prefs_is("{\"alt_dl_limit\": 10240, \"alt_up_limit\": 0}", 1,
             "{\"alt_max_download\":10,\"alt_max_upload\":0}");
    prefs_is("{\"alt_dl_limit\": 10240}", 0, NULL);
    /* share limits only with their *_enabled key, as qBittorrent */
    prefs_is("{\"max_ratio\": 2}", 2, NULL);
    prefs_is("{\"max_ratio_enabled\": true, \"max_ratio\": 1.5}", 2, "{\"max_ratio\":1.5}");
    prefs_is("{\"max_ratio_enabled\": true}", 2, "{\"max_ratio\":0.0}");
    prefs_is("{\"max_ratio_enabled\": false, \"max_ratio\": 3}", 2, "{\"max_ratio\":-1.0}");
    prefs_is("{\"max_ratio_enabled\": true, \"max_ratio\": -5}", 2, "{\"max_ratio\":-1.0}");
    prefs_is("{\"max_ratio_enabled\": 1, \"max_ratio\": 1e9}", 2, "{\"max_ratio\":9998.0}");
    prefs_is("{\"max_seeding_time_enabled\": true, \"max_seeding_time\": 1}", 2,
             "{\"max_seeding_time\":1}");
    prefs_is("{\"max_seeding_time_enabled\": \"false\", \"max_seeding_time\": 1}", 2,
             "{\"max_seeding_time\":-1}");
    /* actions: 1, 2, 3 as they are, anything else stop */
    prefs_is("{\"max_ratio_act\": 3}", 2, "{\"max_ratio_act\":3}");
    prefs_is("{\"max_ratio_act\": 2}", 2, "{\"max_ratio_act\":2}");
    prefs_is("{\"max_ratio_act\": 7}", 2, "{\"max_ratio_act\":0}");
    prefs_is("{\"max_ratio_act\": \"x\"}", 2, "{\"max_ratio_act\":0}");
    /* connections, upload slots, the port */
    prefs_is("{\"max_connec\": 500, \"max_uploads\": 8, \"listen_port\": 4663}", 3,
             "{\"max_connections\":500,\"upload_slots\":8,\"tcp_port\":4663}");
    prefs_is("{\"max_connec\": -1, \"max_uploads\": -1}", 3,
             "{\"max_connections\":10000,\"upload_slots\":100}");
    prefs_is("{\"max_connec\": 3, \"max_uploads\": 1000}", 3,
             "{\"max_connections\":10,\"upload_slots\":100}");
    prefs_is("{\"listen_port\": 0}", 3, NULL);
    prefs_is("{\"listen_port\": 70000, \"save_path\": \"/tmp\"}", 3, NULL);
}
END_TEST

START_TEST(test_action_params)
{
    /* setDownloadLimit/setUploadLimit's limit: 0 is none */
    ck_assert_int_eq(qbit_rate_limit_parse("51200"), 51200);
    ck_assert_int_eq(qbit_rate_limit_parse("0"), 0);
    ck_assert_int_eq(qbit_rate_limit_parse("-1"), 0);
    ck_assert_int_eq(qbit_rate_limit_parse("abc"), 0);
    ck_assert_int_eq(qbit_rate_limit_parse("12k"), 0);
    ck_assert_int_eq(qbit_rate_limit_parse(""), 0);
    ck_assert_int_eq(qbit_rate_limit_parse(NULL), 0);
    ck_assert_int_eq(qbit_rate_limit_parse("2147483646"), 2147483646);
    ck_assert_int_eq(qbit_rate_limit_parse("2147483647"), 0);
    ck_assert_int_eq(qbit_rate_limit_parse("99999999999999999999"), 0);

    /* rename's name: trimmed, line breaks become spaces */
    char *s = qbit_torrent_name("  a\r\nb\rc\nd \t");
    ck_assert_str_eq(s, "a b c d");
    free(s);
    s = qbit_torrent_name(" \r\n ");
    ck_assert_str_eq(s, "");
    free(s);
    s = qbit_trimmed("\t /srv/x y \n");
    ck_assert_str_eq(s, "/srv/x y");
    free(s);
    s = qbit_trimmed("/a\nb");
    ck_assert_str_eq(s, "/a\nb"); /* inside: kept */
    free(s);

    /* filePrio */
    int p = -5;
    ck_assert_int_eq(qbit_file_prio_parse("0", &p), 0);
    ck_assert_int_eq(p, 0);
    ck_assert_int_eq(qbit_file_prio_parse("7", &p), 0);
    ck_assert_int_eq(p, 7);
    ck_assert_int_eq(qbit_file_prio_parse("6", &p), 0);
    ck_assert_int_eq(qbit_file_prio_parse("1", &p), 0);
    ck_assert_int_eq(qbit_file_prio_parse("2", &p), -2);
    ck_assert_int_eq(qbit_file_prio_parse("-1", &p), -2);
    ck_assert_int_eq(qbit_file_prio_parse("high", &p), -1);
    ck_assert_int_eq(qbit_file_prio_parse("", &p), -1);
    ck_assert_int_eq(qbit_file_prio_parse("1.0", &p), -1);
    ck_assert_int_eq(qbit_file_ids_check("0"), 0);
    ck_assert_int_eq(qbit_file_ids_check("0|0"), 0);
    ck_assert_int_eq(qbit_file_ids_check("1"), 409);
    ck_assert_int_eq(qbit_file_ids_check("0|x"), 400);
    ck_assert_int_eq(qbit_file_ids_check("1|x"), 409); /* the first bad id decides */
    ck_assert_int_eq(qbit_file_ids_check("x|1"), 400);
    ck_assert_int_eq(qbit_file_ids_check(""), 400);
    ck_assert_int_eq(qbit_file_ids_check("-1"), 409);
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
    tcase_add_test(tc, test_hashes_btih);
    tcase_add_test(tc, test_link_btih);
    tcase_add_test(tc, test_states);
    tcase_add_test(tc, test_categories);
    tcase_add_test(tc, test_bools_and_tags);
    tcase_add_test(tc, test_ints_limits_log_types);
    tcase_add_test(tc, test_set_preferences);
    tcase_add_test(tc, test_set_preferences_schedule);
    tcase_add_test(tc, test_action_params);
    tcase_add_test(tc, test_rowcache);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
