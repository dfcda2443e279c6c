/* check_finished.c: unit tests for the download attributes (daemon/transfer/dlattr.c:
 * tags and share limits) and the finished downloads' file
 * (daemon/transfer/finished.c: finished.json read back, hostile files survived). */
#include "config.h"

#include <check.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/core/worker.h"
#include "daemon/transfer/shared.h"
#include "daemon/transfer/dlattr.h"
#include "daemon/transfer/finished.h"
#include "daemon/transfer/taglist.h"
#include "ed2k/hash.h"
#include "util/conf.h"
#include "util/file.h"
#include "util/xalloc.h"

static char dir[64];

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/check_finished.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- tags ---- */

static void
norm_ok(const char *in, const char *want)
{
    mt_error_t *err = NULL;
    char *t = dla_tag_normalize(in, strlen(in), &err);
    ck_assert_msg(t != NULL, "\"%s\" refused: %s", in, err != NULL ? err->message : "?");
    ck_assert_str_eq(t, want);
    free(t);
}

static void
norm_bad(const char *in, size_t len)
{
    mt_error_t *err = NULL;
    char *t = dla_tag_normalize(in, len, &err);
    ck_assert_msg(t == NULL, "\"%s\" accepted", in);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err->message, "invalid tag"));
    mt_error_free(err);
}

START_TEST(test_tag_normalize)
{
    norm_ok("tv", "tv");
    norm_ok("  tv shows\t", "tv shows");
    norm_ok("\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9");
    char max[DLA_TAG_MAX_LEN + 2];
    memset(max, 'm', sizeof max);
    max[DLA_TAG_MAX_LEN] = '\0';
    norm_ok(max, max);
    max[DLA_TAG_MAX_LEN] = 'm';
    max[DLA_TAG_MAX_LEN + 1] = '\0';
    norm_bad(max, strlen(max));
    norm_bad("", 0);
    norm_bad("   ", 3);
    norm_bad("a,b", 3);
    norm_bad("a\x01" "b", 3);
    norm_bad("a\x7f", 2);
    norm_bad("a\xc2\x85", 3);    /* C1 control */
    norm_bad("a\xff", 2);        /* not UTF-8 */
    norm_bad("a\xc0\xaf", 3);    /* overlong */
    norm_bad("a\xed\xa0\x80", 4); /* surrogate */
    norm_bad("a\0b", 3);
    norm_bad("a\nb", 3);
}
END_TEST

START_TEST(test_tag_sets)
{
    dla_tags_t t = { 0 }, u = { 0 };
    mt_error_t *err = NULL;
    ck_assert_int_eq(dla_tags_add(&t, "b", 1, NULL), 0);
    ck_assert_int_eq(dla_tags_add(&t, " a ", 3, NULL), 0);
    ck_assert_int_eq(dla_tags_add(&t, "b", 1, NULL), 0);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_str_eq(t.v[0], "a");
    ck_assert_str_eq(t.v[1], "b");
    ck_assert(dla_tags_has(&t, "a") && !dla_tags_has(&t, "c"));
    char *j = dla_tags_join(&t);
    ck_assert_str_eq(j, "a,b");
    free(j);
    ck_assert(dla_tags_remove(&t, "a"));
    ck_assert(!dla_tags_remove(&t, "a"));
    ck_assert_uint_eq(t.n, 1);
    for (int i = 0; i < DLA_MAX_TAGS - 1; i++) {
        char n[8];
        snprintf(n, sizeof n, "t%d", i);
        ck_assert_int_eq(dla_tags_add(&t, n, strlen(n), NULL), 0);
    }
    ck_assert_uint_eq(t.n, DLA_MAX_TAGS);
    ck_assert_int_eq(dla_tags_add(&t, "b", 1, NULL), 0); /* known: fine */
    ck_assert_int_eq(dla_tags_add(&t, "one more", 8, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "at most 32"));
    mt_error_clear(&err);
    for (size_t i = 1; i < t.n; i++)
        ck_assert_int_lt(strcmp(t.v[i - 1], t.v[i]), 0);
    /* add_all changes nothing when it fails */
    ck_assert_int_eq(dla_tags_add(&u, "zz", 2, NULL), 0);
    ck_assert_int_eq(dla_tags_add_all(&t, &u, &err), -1);
    mt_error_clear(&err);
    ck_assert_uint_eq(t.n, DLA_MAX_TAGS);
    ck_assert(!dla_tags_has(&t, "zz"));
    dla_tags_copy(&u, &t);
    ck_assert(dla_tags_equal(&u, &t));
    dla_tags_clear(&t);
    ck_assert(!dla_tags_equal(&u, &t));
    dla_tags_clear(&u);
    dla_tags_clear(&t);
}
END_TEST

/* parse: the tags of JSON text, or NULL with the error message in *msg. */
static char *
parse(const char *json, char **msg)
{
    json_object *v = json_tokener_parse(json);
    dla_tags_t t = { 0 };
    mt_error_t *err = NULL;
    char *out = NULL;
    *msg = NULL;
    if (dla_tags_parse(v, "tags", &t, &err) == 0) {
        out = dla_tags_join(&t);
    } else {
        ck_assert_uint_eq(t.n, 0);
        *msg = xstrdup(err->message);
        mt_error_free(err);
    }
    dla_tags_clear(&t);
    json_object_put(v);
    return out;
}

START_TEST(test_tag_parse)
{
    static const struct {
        const char *json, *want, *msg;
    } cases[] = {
        { "\"b, a,,a , \"", "a,b", NULL },
        { "\"\"", "", NULL },
        { "\" , ,\"", "", NULL },
        { "[\"x\", \" y \", \"x\"]", "x,y", NULL },
        { "[]", "", NULL },
        { "null", "", NULL },
        { "[\"a,b\"]", NULL, "\"tags\": invalid tag \"a,b\"" },
        { "[\"\"]", NULL, "\"tags\": invalid tag" },
        { "[1]", NULL, "\"tags\" must be an array of strings" },
        { "5", NULL, "\"tags\" must be an array of strings or a comma-separated string" },
        { "{}", NULL, "\"tags\" must be" },
        { "\"ok,bad\\u0001tag\"", NULL, "invalid tag" },
        { "[\"a\\u0000b\"]", NULL, "NUL" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *msg;
        char *got = parse(cases[i].json, &msg);
        if (cases[i].want != NULL) {
            ck_assert_msg(got != NULL, "%s refused: %s", cases[i].json, msg);
            ck_assert_str_eq(got, cases[i].want);
        } else {
            ck_assert_msg(got == NULL, "%s accepted", cases[i].json);
            ck_assert_msg(strstr(msg, cases[i].msg) != NULL, "%s: \"%s\" lacks \"%s\"",
                          cases[i].json, msg, cases[i].msg);
        }
        free(got);
        free(msg);
    }
}
END_TEST

START_TEST(test_rate_limits)
{
    int64_t out = -7;
    mt_error_t *err = NULL;
    json_object *v = json_object_new_int64(102400);
    ck_assert_int_eq(dla_parse_rate_limit(v, "dl_limit", &out, NULL), 0);
    ck_assert_int_eq(out, 102400);
    json_object_put(v);
    v = json_object_new_int64(0);
    ck_assert_int_eq(dla_parse_rate_limit(v, "dl_limit", &out, NULL), 0);
    ck_assert_int_eq(out, 0);
    json_object_put(v);
    json_object *bad[] = { json_object_new_int64(-1), json_object_new_int64(2147483648LL),
                           json_object_new_double(1.5), json_object_new_string("100"), NULL };
    for (size_t i = 0; i < 5; i++) {
        out = 42;
        ck_assert_int_eq(dla_parse_rate_limit(bad[i], "up_limit", &out, &err), -1);
        ck_assert_int_eq(out, 42);
        ck_assert_int_eq(err->code, MT_ERR_INVALID);
        ck_assert_ptr_nonnull(strstr(err->message, "\"up_limit\""));
        mt_error_free(err);
        err = NULL;
        json_object_put(bad[i]);
    }
    ck_assert_uint_eq(dla_rate_share(0, 3), 0);
    ck_assert_uint_eq(dla_rate_share(100000, 0), 0);
    ck_assert_uint_eq(dla_rate_share(100000, 1), 100000);
    ck_assert_uint_eq(dla_rate_share(100000, 3), 33333);
    ck_assert_uint_eq(dla_rate_share(2, 5), 1);
}
END_TEST

START_TEST(test_limits)
{
    ck_assert(dla_ratio_limit_is_valid(-2));
    ck_assert(dla_ratio_limit_is_valid(-1));
    ck_assert(dla_ratio_limit_is_valid(0));
    ck_assert(dla_ratio_limit_is_valid(1.25));
    ck_assert(dla_ratio_limit_is_valid(9998));
    ck_assert(!dla_ratio_limit_is_valid(-1.5));
    ck_assert(!dla_ratio_limit_is_valid(-3));
    ck_assert(!dla_ratio_limit_is_valid(9998.001));
    ck_assert(!dla_ratio_limit_is_valid(NAN));
    ck_assert(!dla_ratio_limit_is_valid(INFINITY));
    ck_assert(dla_seeding_time_limit_is_valid(-2));
    ck_assert(dla_seeding_time_limit_is_valid(-1));
    ck_assert(dla_seeding_time_limit_is_valid(0));
    ck_assert(dla_seeding_time_limit_is_valid(525600));
    ck_assert(!dla_seeding_time_limit_is_valid(525601));
    ck_assert(!dla_seeding_time_limit_is_valid(-3));
    ck_assert(!dla_seeding_time_limit_is_valid(INT64_MIN));

    double r = 0;
    int m = 0;
    mt_error_t *err = NULL;
    json_object *v = json_object_new_int(3);
    ck_assert_int_eq(dla_parse_ratio_limit(v, "ratio_limit", &r, NULL), 0);
    ck_assert(r == 3.0);
    ck_assert_int_eq(dla_parse_seeding_time_limit(v, "seeding_time_limit", &m, NULL), 0);
    ck_assert_int_eq(m, 3);
    json_object_put(v);
    v = json_object_new_double(0.5);
    ck_assert_int_eq(dla_parse_ratio_limit(v, "ratio_limit", &r, NULL), 0);
    ck_assert(r == 0.5);
    ck_assert_int_eq(dla_parse_seeding_time_limit(v, "seeding_time_limit", &m, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "\"seeding_time_limit\""));
    mt_error_clear(&err);
    json_object_put(v);
    v = json_object_new_string("1");
    ck_assert_int_eq(dla_parse_ratio_limit(v, "ratio_limit", &r, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "\"ratio_limit\""));
    mt_error_clear(&err);
    json_object_put(v);
    ck_assert_int_eq(dla_parse_ratio_limit(NULL, "ratio_limit", &r, &err), -1);
    mt_error_clear(&err);
    ck_assert(r == 0.5); /* unchanged on error */

    ck_assert(dla_text_is_valid("ok", 2, 2));
    ck_assert(!dla_text_is_valid("ok", 2, 1));
    ck_assert(!dla_text_is_valid("o\tk", 3, 10));
    ck_assert(!dla_text_is_valid(NULL, 0, 10));
}
END_TEST

/* ---- finished.json ---- */

static conf_t *
test_conf(void)
{
    conf_t *c = conf_new();
    ck_assert_int_eq(conf_set(c, "state_dir", dir, NULL), 0);
    return c;
}

static char *
state_file(const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

static void
write_state(const char *name, const char *text)
{
    char *p = state_file(name);
    ck_assert_int_eq(mt_file_write_atomic(p, text, strlen(text), 0600, NULL), 0);
    free(p);
}

static bool
state_exists(const char *name)
{
    char *p = state_file(name);
    bool ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

/* daemon_up: what finished.c works with: a loop, workers, the bus and a
 * shared-file list that has scanned its (empty) directory once. */
static void
daemon_up(muleteerd_t *d)
{
    d->conf = test_conf();
    d->base = event_base_new();
    d->workers = worker_pool_new(d->base, 1);
    d->bus = bus_new();
    char *share = state_file("share"), *cache = state_file("known.json");
    mkdir(share, 0755);
    d->shared = shared_new(d->base, d->workers, cache, share, NULL);
    shared_rescan(d->shared, NULL, NULL);
    for (int i = 0; i < 500 && !shared_has_scanned(d->shared); i++)
        worker_pool_drain(d->workers, 20);
    ck_assert(shared_has_scanned(d->shared));
    free(share);
    free(cache);
}

static void
daemon_down(muleteerd_t *d)
{
    shared_free(d->shared);
    worker_pool_free(d->workers);
    bus_free(d->bus);
    event_base_free(d->base);
    conf_free(d->conf);
}

#define H1 "11111111111111111111111111111111"
#define H2 "22222222222222222222222222222222"
#define REC(hash, extra)                                                                         \
    "{\"hash\": \"" hash "\", \"name\": \"f.bin\", \"size\": 100, \"save_path\": \"/srv/in\","  \
    " \"content_path\": \"/srv/in/f.bin\"" extra "}"

START_TEST(test_finished_round_trip)
{
    muleteerd_t d = { 0 };
    daemon_up(&d);
    /* no file: nothing, and nothing to import without a database */
    finished_t *f = finished_new(&d);
    ck_assert_uint_eq(fin_count(f), 0);
    ck_assert(!fin_keeps_legacy_rows(f));
    finished_free(f);

    write_state("finished.json",
                "{\"version\": 1, \"imported\": true, \"finished\": ["
                REC(H2, ", \"category\": \"tv\", \"tags\": [\"b\", \"a\"], \"ratio_limit\": 1.5,"
                        " \"seeding_time_limit\": 60, \"force_start\": true, \"priority\": 7,"
                        " \"added_at\": 100, \"completed_at\": 200, \"added_by\": \"sonarr\","
                        " \"added_via\": \"api-v2\", \"downloaded\": 150, \"uploaded\": 30,"
                        " \"last_activity\": 300, \"missing\": true,"
                        " \"download_id\": \"00112233445566778899aabbccddeeff\"") ","
                REC(H1, "") "]}");
    f = finished_new(&d);
    ck_assert_uint_eq(fin_count(f), 2);
    ck_assert(!state_exists("finished.json.bad"));
    /* sorted by hash */
    ck_assert_str_eq(fin_hex(fin_get(f, 0)), H1);
    uint8_t h[16];
    ck_assert_int_eq(ed2k_hash_from_hex(H2, h), 0);
    fin_rec_t *r = fin_find(f, h);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(fin_category(r), "tv");
    ck_assert_uint_eq(fin_tags(r)->n, 2);
    ck_assert_str_eq(fin_tags(r)->v[0], "a");
    ck_assert(fin_ratio_limit(r) == 1.5);
    ck_assert_int_eq(fin_seeding_time_limit(r), 60);
    ck_assert(fin_force_start(r));
    ck_assert_int_eq(fin_priority(r), 1); /* high */
    ck_assert_int_eq(fin_added_at(r), 100);
    ck_assert_int_eq(fin_completed_at(r), 200);
    ck_assert_str_eq(fin_added_by(r), "sonarr");
    ck_assert_str_eq(fin_added_via(r), "api-v2");
    ck_assert_uint_eq(fin_downloaded(r), 150);
    ck_assert_uint_eq(fin_uploaded(r), 30);
    ck_assert_int_eq(fin_last_activity(r), 300);
    ck_assert(fin_is_missing(r));
    ck_assert_str_eq(fin_state(r), "missing");
    ck_assert_str_eq(fin_save_path(r), "/srv/in");
    ck_assert_str_eq(fin_content_path(r), "/srv/in/f.bin");
    /* the other one has the defaults */
    fin_rec_t *r1 = fin_get(f, 0);
    ck_assert_ptr_null(fin_category(r1));
    ck_assert(fin_ratio_limit(r1) == DLA_LIMIT_GLOBAL);
    ck_assert_int_eq(fin_seeding_time_limit(r1), DLA_LIMIT_GLOBAL);
    ck_assert_str_eq(fin_state(r1), "completed");
    /* a record of an older version gets a download id, kept from then on */
    ck_assert_str_eq(fin_download_id(r), "00112233445566778899aabbccddeeff");
    ck_assert(dla_id_is_valid(fin_download_id(r1)));
    char id1[DLA_ID_LEN + 1];
    memcpy(id1, fin_download_id(r1), sizeof id1);

    json_object *j = fin_to_json(r);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "state")), "missing");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "priority")), "high");
    ck_assert(json_object_get_boolean(json_object_object_get(j, "finished")));
    ck_assert_int_eq(json_object_array_length(json_object_object_get(j, "tags")), 2);
    json_object_put(j);

    /* changes, saved at once */
    dla_tags_t t = { 0 };
    ck_assert_int_eq(dla_tags_add(&t, "z", 1, NULL), 0);
    ck_assert_int_eq(fin_set_tags(f, r1, &t, NULL), 0);
    dla_tags_clear(&t);
    ck_assert_int_eq(fin_set_category(f, r1, "films", NULL), 0);
    ck_assert_int_eq(fin_set_share_limits(f, r1, -1, 5, NULL), 0);
    ck_assert_int_eq(fin_set_share_limits(f, r1, -7, 5, NULL), -1);
    ck_assert_int_eq(fin_set_force_start(f, r1, true, NULL), 0);
    ck_assert_int_eq(fin_set_priority(f, r1, -1, NULL), 0);
    ck_assert_uint_eq(fin_category_renamed(f, "tv", "series"), 1);
    fin_on_upload(f, h, 1000);
    ck_assert_uint_eq(fin_uploaded(r), 1030);
    ck_assert_int_gt(fin_last_activity(r), 300);
    finished_free(f); /* saves the counters */

    f = finished_new(&d);
    ck_assert_uint_eq(fin_count(f), 2);
    r1 = fin_get(f, 0);
    ck_assert_str_eq(fin_category(r1), "films");
    ck_assert_str_eq(fin_tags(r1)->v[0], "z");
    ck_assert(fin_ratio_limit(r1) == -1);
    ck_assert_int_eq(fin_seeding_time_limit(r1), 5);
    ck_assert(fin_force_start(r1));
    ck_assert_int_eq(fin_priority(r1), -1);
    ck_assert_str_eq(fin_download_id(r1), id1);
    r = fin_find(f, h);
    ck_assert_str_eq(fin_category(r), "series");
    ck_assert_str_eq(fin_download_id(r), "00112233445566778899aabbccddeeff");
    ck_assert_uint_eq(fin_uploaded(r), 1030);
    /* removal without a shared list: the file is never touched */
    bool removed = true;
    ck_assert_int_eq(fin_remove(f, r, true, &removed, NULL), 0);
    ck_assert(!removed);
    ck_assert_uint_eq(fin_count(f), 1);
    ck_assert_ptr_null(fin_find(f, h));
    finished_free(f);
    f = finished_new(&d);
    ck_assert_uint_eq(fin_count(f), 1);
    finished_free(f);
    daemon_down(&d);
}
END_TEST

/* A record keeps the btih its download was added with; an invalid one
 * makes the record invalid. */
START_TEST(test_finished_btih)
{
    muleteerd_t d = { 0 };
    daemon_up(&d);
    write_state("finished.json",
                "{\"version\": 1, \"imported\": true, \"finished\": ["
                REC(H2, ", \"btih\": \"c12fe1c06bba254a9dc9f519b335aa7c1367a88a\"") ","
                REC(H1, ", \"btih\": null") ","
                REC("33333333333333333333333333333333",
                    ", \"btih\": \"C12FE1C06BBA254A9DC9F519B335AA7C1367A88A\"") ","
                REC("44444444444444444444444444444444", ", \"btih\": 7") "]}");
    finished_t *f = finished_new(&d);
    ck_assert_uint_eq(fin_count(f), 2);
    uint8_t h[16];
    ck_assert_int_eq(ed2k_hash_from_hex(H2, h), 0);
    fin_rec_t *r = fin_find(f, h);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(fin_btih(r), "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
    ck_assert_ptr_eq(fin_find_btih(f, "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"), r);
    ck_assert_ptr_null(fin_find_btih(f, "4444444444444444444444444444444444444444"));
    ck_assert_ptr_null(fin_btih(fin_get(f, 0)));
    json_object *j = fin_to_json(r);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "btih")),
                     "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
    json_object_put(j);
    /* saved again (a change), read back */
    ck_assert_int_eq(fin_set_force_start(f, r, true, NULL), 0);
    finished_free(f);
    f = finished_new(&d);
    r = fin_find(f, h);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(fin_btih(r), "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
    finished_free(f);
    daemon_down(&d);
}
END_TEST

START_TEST(test_finished_hostile)
{
    muleteerd_t d = { 0 };
    daemon_up(&d);
    /* invalid records are skipped; the valid ones stay */
    const char *mixed =
        "{\"version\": 1, \"imported\": true, \"finished\": ["
        REC(H1, "") ","
        REC("zz", "") ","
        REC("33333333333333333333333333333333", ", \"name\": \"a/b\"") ","
        REC("44444444444444444444444444444444", ", \"size\": 0") ","
        REC("55555555555555555555555555555555", ", \"size\": 274877906945") ","
        REC("66666666666666666666666666666666", ", \"content_path\": \"rel/x\"") ","
        REC("77777777777777777777777777777777", ", \"content_path\": \"/a/../etc/passwd\"") ","
        REC("88888888888888888888888888888888", ", \"save_path\": 5") ","
        REC("99999999999999999999999999999999", ", \"tags\": [\"a,b\"]") ","
        REC("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ", \"ratio_limit\": 12000") ","
        REC("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", ", \"seeding_time_limit\": \"1\"") ","
        REC("cccccccccccccccccccccccccccccccc", ", \"added_at\": 99999999999999999999") ","
        REC("dddddddddddddddddddddddddddddddd", ", \"completed_at\": -1") ","
        REC("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", ", \"uploaded\": -1") ","
        REC("ffffffffffffffffffffffffffffffff", ", \"category\": \"a\\u0007\"") ","
        REC("abababababababababababababababab", ", \"force_start\": \"yes\"") ","
        REC("acacacacacacacacacacacacacacacac", ", \"download_id\": \"XYZ\"") ","
        "{\"name\": \"nohash.bin\"}, \"text\", 42, null, [[[1]]], {},"
        REC(H1, ", \"name\": \"duplicate.bin\"") "]}";
    write_state("finished.json", mixed);
    finished_t *f = finished_new(&d);
    ck_assert_uint_eq(fin_count(f), 1);
    ck_assert_str_eq(fin_hex(fin_get(f, 0)), H1);
    ck_assert_str_eq(fin_name(fin_get(f, 0)), "f.bin");
    ck_assert(state_exists("finished.json.bad"));
    fin_tick(f); /* rewrites the file with the valid record */
    finished_free(f);
    size_t len = 0;
    char *p = state_file("finished.json");
    char *text = (char *)mt_file_read(p, 1 << 20, &len, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_null(strstr(text, "zz"));
    ck_assert_ptr_null(strstr(text, "duplicate"));
    free(text);
    free(p);

    /* files that are no finished.json at all: renamed aside, nothing kept */
    static const char *const junk[] = {
        "",
        "not json",
        "{\"version\": 1, \"finished\": [] } trailing",
        "{\"version\": 2, \"finished\": []}",
        "{\"version\": 1, \"finished\": {}}",
        "{\"finished\": []}",
        "[1, 2, 3]",
        "{\"version\": 1, \"finished\": [[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]}",
        "{\"version\": 1, \"finished\": [\"\xff\"]}",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        char *bad = state_file("finished.json.bad");
        unlink(bad);
        free(bad);
        write_state("finished.json", junk[i]);
        f = finished_new(&d);
        ck_assert_msg(fin_count(f) == 0, "junk %zu gave records", i);
        ck_assert_msg(state_exists("finished.json.bad"), "junk %zu not kept aside", i);
        ck_assert_msg(!state_exists("finished.json"), "junk %zu still in place", i);
        finished_free(f);
    }
    /* a directory where the file should be */
    char *p2 = state_file("finished.json");
    ck_assert_int_eq(mkdir(p2, 0700), 0);
    f = finished_new(&d);
    ck_assert_uint_eq(fin_count(f), 0);
    finished_free(f);
    free(p2);
    daemon_down(&d);
}
END_TEST

/* The share limits applied to records (fin_check_share_limits) with a
 * fake clock: stop (withheld, saved, published), resume, remove. */
START_TEST(test_share_limits)
{
    muleteerd_t d = { 0 };
    daemon_up(&d);
    write_state("finished.json",
                "{\"version\": 1, \"imported\": true, \"finished\": ["
                REC(H1, ", \"completed_at\": 1000, \"downloaded\": 100, \"uploaded\": 50") ","
                REC(H2, ", \"completed_at\": 1000, \"downloaded\": 100, \"uploaded\": 99,"
                        " \"ratio_limit\": 1, \"seeding_time_limit\": -1, \"force_start\": true") "]}");
    ck_assert_int_eq(conf_set(d.conf, "max_ratio", "0.5", NULL), 0);
    finished_t *f = finished_new(&d);
    uint8_t h1[16], h2[16];
    ck_assert_int_eq(ed2k_hash_from_hex(H1, h1), 0);
    ck_assert_int_eq(ed2k_hash_from_hex(H2, h2), 0);
    /* H1 reaches the global ratio 0.5: it stops; H2 has its own limit,
     * not reached (forced or not) */
    ck_assert_uint_eq(fin_check_share_limits(f, 1000), 1);
    ck_assert(fin_sharing_stopped(fin_find(f, h1)));
    ck_assert(!fin_sharing_stopped(fin_find(f, h2)));
    ck_assert(shared_is_withheld(d.shared, h1));
    ck_assert(!shared_is_withheld(d.shared, h2));
    ck_assert_uint_eq(bus_published(d.bus, BUS_FIN_SHARING), 1);
    json_object *j = fin_to_json(fin_find(f, h1));
    ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "sharing")), "stopped");
    json_object_put(j);
    /* nothing more to do */
    ck_assert_uint_eq(fin_check_share_limits(f, 100000), 0);
    /* kept across a restart */
    finished_free(f);
    shared_set_withheld(d.shared, NULL, 0);
    f = finished_new(&d);
    ck_assert(fin_sharing_stopped(fin_find(f, h1)));
    ck_assert(shared_is_withheld(d.shared, h1));
    /* resumed, shared again (and stopped again by the next check) */
    ck_assert_int_eq(fin_set_sharing(f, fin_find(f, h1), false, "resumed", NULL), 0);
    ck_assert(!shared_is_withheld(d.shared, h1));
    ck_assert_uint_eq(bus_published(d.bus, BUS_FIN_SHARING), 2);
    ck_assert_uint_eq(fin_check_share_limits(f, 1000), 1);
    ck_assert(shared_is_withheld(d.shared, h1));
    /* one minute of seeding, then removed */
    ck_assert_int_eq(conf_set(d.conf, "max_ratio", "-1", NULL), 0);
    ck_assert_int_eq(conf_set(d.conf, "max_seeding_time", "1", NULL), 0);
    ck_assert_int_eq(conf_set(d.conf, "max_ratio_act", "1", NULL), 0);
    ck_assert_uint_eq(fin_check_share_limits(f, 1059), 0);
    ck_assert_uint_eq(fin_count(f), 2);
    ck_assert_uint_eq(fin_check_share_limits(f, 1060), 1);
    ck_assert_uint_eq(fin_count(f), 1);
    ck_assert_ptr_null(fin_find(f, h1));
    ck_assert(!shared_is_withheld(d.shared, h1));
    ck_assert_uint_eq(bus_published(d.bus, BUS_DL_DELETED), 1);
    /* H2, forced, once it reaches its own ratio 1 */
    ck_assert_uint_eq(fin_check_share_limits(f, 1060), 0);
    fin_on_upload(f, h2, 1);
    ck_assert_uint_eq(fin_check_share_limits(f, 1060), 1);
    ck_assert_uint_eq(fin_count(f), 0);
    finished_free(f);
    daemon_down(&d);
}
END_TEST

/* ---- the node's tag list ---- */

static char *
tag_list_text(const taglist_t *t)
{
    json_object *a = tagl_to_json(t);
    char *s = xstrdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
    json_object_put(a);
    return s;
}

START_TEST(test_tag_list)
{
    muleteerd_t d = { .conf = test_conf() };
    taglist_t *t = tagl_new(&d);
    ck_assert_uint_eq(tagl_count(t), 0);
    mt_error_t *err = NULL;
    ck_assert_int_eq(tagl_add(t, " beta ", &err), 0);
    ck_assert_int_eq(tagl_add(t, "alpha", &err), 0);
    ck_assert_int_eq(tagl_add(t, "alpha", &err), 0); /* there already: fine */
    ck_assert_int_eq(tagl_add(t, "a,b", &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_free(err);
    err = NULL;
    ck_assert_int_eq(tagl_add(t, "  ", &err), -1);
    mt_error_free(err);
    err = NULL;
    char *s = tag_list_text(t);
    ck_assert_str_eq(s, "[\"alpha\",\"beta\"]");
    free(s);
    ck_assert(tagl_has(t, "beta"));
    bool removed = false;
    ck_assert_int_eq(tagl_remove(t, "beta", &removed, NULL), 0);
    ck_assert(removed);
    ck_assert_int_eq(tagl_remove(t, "nosuch", &removed, NULL), 0);
    ck_assert(!removed);
    ck_assert_int_eq(tagl_add(t, "gamma", NULL), 0);
    tagl_free(t);

    /* the list comes back from tags.json, bad entries skipped */
    t = tagl_new(&d);
    s = tag_list_text(t);
    ck_assert_str_eq(s, "[\"alpha\",\"gamma\"]");
    free(s);
    tagl_free(t);
    write_state("tags.json", "[\"z\", 7, \"a,b\", \" y \", \"z\"]");
    t = tagl_new(&d);
    s = tag_list_text(t);
    ck_assert_str_eq(s, "[\"y\",\"z\"]");
    free(s);
    tagl_free(t);
    /* an unreadable file is kept aside */
    write_state("tags.json", "{not json");
    t = tagl_new(&d);
    ck_assert_uint_eq(tagl_count(t), 0);
    ck_assert(state_exists("tags.json.bad"));
    tagl_free(t);
    conf_free(d.conf);
}
END_TEST

/* ---- moving and re-checking a finished file ---- */

static void
wait_checked(muleteerd_t *d, const fin_rec_t *r)
{
    for (int i = 0; i < 500 && fin_is_checking(r); i++)
        worker_pool_drain(d->workers, 20);
    ck_assert(!fin_is_checking(r));
}

START_TEST(test_finished_move_recheck)
{
    muleteerd_t d = { 0 };
    daemon_up(&d);
    char *in = state_file("in"), *other = state_file("other");
    ck_assert_int_eq(mkdir(in, 0755), 0);
    ck_assert_int_eq(mkdir(other, 0755), 0);
    char *file = xasprintf("%s/f.bin", in);
    uint8_t data[20000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    ck_assert_int_eq(mt_file_write_atomic(file, data, sizeof data, 0644, NULL), 0);
    ed2k_hash_result_t res;
    memset(&res, 0, sizeof res);
    ck_assert_int_eq(ed2k_hash_file(file, &res, NULL), 0);
    char hex[33];
    ed2k_hash_to_hex(res.file_hash, hex);
    ed2k_hash_result_clear(&res);
    char *text = xasprintf("{\"version\": 1, \"imported\": true, \"finished\": [{\"hash\": \"%s\","
                           " \"name\": \"f.bin\", \"size\": 20000, \"save_path\": \"%s\","
                           " \"content_path\": \"%s\", \"up_limit\": 5000}]}",
                           hex, in, file);
    write_state("finished.json", text);
    free(text);
    finished_t *f = finished_new(&d);
    d.finished = f;
    fin_rec_t *r = fin_get(f, 0);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(fin_up_limit(r), 5000);
    ck_assert_int_eq(fin_dl_limit(r), 0);

    /* renamed in its directory */
    mt_error_t *err = NULL;
    ck_assert_int_eq(fin_move(f, r, NULL, "g.bin", &err), 0);
    char *g = xasprintf("%s/g.bin", in);
    ck_assert_int_eq(access(file, F_OK), -1);
    ck_assert_int_eq(access(g, F_OK), 0);
    ck_assert_str_eq(fin_name(r), "g.bin");
    ck_assert_str_eq(fin_content_path(r), g);
    /* moved to another directory */
    ck_assert_int_eq(fin_move(f, r, other, NULL, &err), 0);
    char *g2 = xasprintf("%s/g.bin", other);
    ck_assert_int_eq(access(g2, F_OK), 0);
    ck_assert_str_eq(fin_save_path(r), other);
    ck_assert_str_eq(fin_content_path(r), g2);
    /* never over another file: nothing changes */
    ck_assert_int_eq(mt_file_write_atomic(g, "x", 1, 0644, NULL), 0);
    ck_assert_int_eq(fin_move(f, r, in, NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    mt_error_free(err);
    err = NULL;
    ck_assert_str_eq(fin_content_path(r), g2);
    ck_assert_int_eq(access(g2, F_OK), 0);

    /* re-check: the intact file is completed, a changed one an error */
    ck_assert_int_eq(fin_recheck(f, r, NULL), 0);
    ck_assert_str_eq(fin_state(r), "checking");
    wait_checked(&d, r);
    ck_assert_str_eq(fin_state(r), "completed");
    ck_assert_ptr_null(fin_error(r));
    data[100] ^= 1;
    ck_assert_int_eq(mt_file_write_atomic(g2, data, sizeof data, 0644, NULL), 0);
    ck_assert_int_eq(fin_recheck(f, r, NULL), 0);
    wait_checked(&d, r);
    ck_assert_str_eq(fin_state(r), "error");
    ck_assert_ptr_nonnull(fin_error(r));
    /* a file found corrupt stays so over a restart (never shared again
     * until a re-check finds it whole) */
    finished_free(f);
    f = finished_new(&d);
    r = fin_get(f, 0);
    ck_assert_str_eq(fin_state(r), "error");
    ck_assert_ptr_nonnull(fin_error(r));
    data[100] ^= 1;
    ck_assert_int_eq(mt_file_write_atomic(g2, data, sizeof data, 0644, NULL), 0);
    ck_assert_int_eq(fin_recheck(f, r, NULL), 0);
    wait_checked(&d, r);
    ck_assert_str_eq(fin_state(r), "completed");

    /* the new place is what finished.json keeps */
    finished_free(f);
    f = finished_new(&d);
    r = fin_get(f, 0);
    ck_assert_str_eq(fin_state(r), "completed");
    ck_assert_str_eq(fin_content_path(r), g2);
    ck_assert_str_eq(fin_name(r), "g.bin");
    ck_assert_int_eq(fin_up_limit(r), 5000);
    finished_free(f);
    free(g);
    free(g2);
    free(file);
    free(in);
    free(other);
    daemon_down(&d);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("finished");
    TCase *tc = tcase_create("finished");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_tag_normalize);
    tcase_add_test(tc, test_rate_limits);
    tcase_add_test(tc, test_tag_sets);
    tcase_add_test(tc, test_tag_parse);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_finished_round_trip);
    tcase_add_test(tc, test_finished_hostile);
    tcase_add_test(tc, test_finished_btih);
    tcase_add_test(tc, test_share_limits);
    tcase_add_test(tc, test_tag_list);
    tcase_add_test(tc, test_finished_move_recheck);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
