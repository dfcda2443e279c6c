/* check_qbit_sync.c: unit tests for the delta computation of
 * sync/maindata (cgi-bin/qbit/syncdiff.c): changed members of flat
 * objects as text, fingerprints that ignore the time-only fields, the
 * categories' and tags' differences, and the `torrents` part of a delta
 * from stored versions. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "qbit/syncdiff.h"

/* text: the evbuffer's bytes as a string (a new one), the buffer emptied. */
static char *
text(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    return s;
}

static void
expect_flat(const char *before, const char *now, int count, const char *want)
{
    struct evbuffer *b = evbuffer_new();
    int rc = qbit_sync_flat_diff(before, strlen(before), now, strlen(now), b);
    char *got = text(b);
    ck_assert_msg(rc == count, "%s -> %s: %d members, not %d", before, now, rc, count);
    ck_assert_str_eq(got, want);
    free(got);
    evbuffer_free(b);
}

START_TEST(test_flat_diff)
{
    /* only the changed members, their bytes as rendered, in now's order */
    expect_flat("{\"a\":1,\"b\":\"x\",\"c\":0.5}", "{\"a\":1,\"b\":\"y\",\"c\":0.5}", 1,
                "{\"b\":\"y\"}");
    expect_flat("{\"a\":1,\"b\":2}", "{\"a\":3,\"b\":4}", 2, "{\"a\":3,\"b\":4}");
    expect_flat("{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":2}", 0, "{}");
    /* a number written another way is another value as text */
    expect_flat("{\"p\":0.5}", "{\"p\":0.50}", 1, "{\"p\":0.50}");
    /* a member before lacks is new; one now lacks is not reported */
    expect_flat("{\"a\":1}", "{\"a\":1,\"z\":true}", 1, "{\"z\":true}");
    expect_flat("{\"a\":1,\"gone\":2}", "{\"a\":1}", 0, "{}");
    /* another order still pairs members by key */
    expect_flat("{\"b\":2,\"a\":1}", "{\"a\":1,\"b\":3}", 1, "{\"b\":3}");
    /* strings holding quotes, commas, braces and escapes are one value */
    expect_flat("{\"n\":\"a\\\",}{[\",\"s\":1}", "{\"n\":\"a\\\",}{[\",\"s\":2}", 1, "{\"s\":2}");
    expect_flat("{\"n\":\"a\\\\\",\"s\":1}", "{\"n\":\"b\\\\\",\"s\":1}", 1, "{\"n\":\"b\\\\\"}");
    /* a nested value is compared whole */
    expect_flat("{\"o\":{\"x\":[1,2]},\"k\":null}", "{\"o\":{\"x\":[1,3]},\"k\":null}", 1,
                "{\"o\":{\"x\":[1,3]}}");
    /* whitespace between tokens is allowed */
    expect_flat(" { \"a\" : 1 , \"b\" : 2 } ", "{\"a\":1,\"b\":5}", 1, "{\"b\":5}");
    expect_flat("{}", "{}", 0, "{}");
    /* not objects, or broken ones: -1 and nothing written */
    expect_flat("[1]", "{\"a\":1}", -1, "");
    expect_flat("{\"a\":1}", "{\"a\":", -1, "");
    expect_flat("{\"a\":1", "{\"a\":1}", -1, "");
    expect_flat("{\"a\" 1}", "{\"a\":1}", -1, "");
    expect_flat("{\"a\":1}", "{\"a\":1} x", -1, "");
    expect_flat("{\"a\":\"open}", "{\"a\":1}", -1, "");
    expect_flat("{\"a\":1,}", "{\"a\":1}", -1, "");
}
END_TEST

static void
expect_merge(const char *base, const char *over, int rc, const char *want)
{
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(qbit_sync_flat_merge(base, strlen(base), over, strlen(over), b), rc);
    char *got = text(b);
    ck_assert_str_eq(got, want);
    free(got);
    evbuffer_free(b);
}

START_TEST(test_flat_merge)
{
    /* over's values replace base's, in base's order */
    expect_merge("{\"a\":1,\"b\":\"x\",\"c\":0.5}", "{\"c\":0.75,\"a\":2}", 0,
                 "{\"a\":2,\"b\":\"x\",\"c\":0.75}");
    expect_merge("{\"a\":1,\"b\":2}", "{}", 0, "{\"a\":1,\"b\":2}");
    /* keys base lacks come at the end */
    expect_merge("{\"a\":1}", "{\"z\":[1,2],\"a\":3}", 0, "{\"a\":3,\"z\":[1,2]}");
    expect_merge("{}", "{\"a\":1}", 0, "{\"a\":1}");
    expect_merge("{\"a\":1}", "{\"a\"", -1, "");
    expect_merge("nope", "{}", -1, "");
    /* a base and its diff give the later text back, byte for byte */
    const char *base = "{\"dlspeed\":0,\"name\":\"a \\\"b\\\"\",\"progress\":0.1,\"state\":\"stalledDL\"}";
    const char *now = "{\"dlspeed\":5000,\"name\":\"a \\\"b\\\"\",\"progress\":0.25,\"state\":\"downloading\"}";
    struct evbuffer *d = evbuffer_new(), *m = evbuffer_new();
    ck_assert_int_eq(qbit_sync_flat_diff(base, strlen(base), now, strlen(now), d), 3);
    char *ds = text(d);
    ck_assert_int_eq(qbit_sync_flat_merge(base, strlen(base), ds, strlen(ds), m), 0);
    char *ms = text(m);
    ck_assert_str_eq(ms, now);
    free(ds);
    free(ms);
    evbuffer_free(d);
    evbuffer_free(m);
}
END_TEST

START_TEST(test_fingerprint)
{
    static const char *const skip[] = { "time_active", "seeding_time", NULL };
    char a[QBIT_SYNC_FP_LEN + 1], b[QBIT_SYNC_FP_LEN + 1];
    const char *t1 = "{\"name\":\"x\",\"time_active\":10,\"state\":\"stalledDL\",\"seeding_time\":0}";
    const char *t2 = "{\"name\":\"x\",\"time_active\":11,\"state\":\"stalledDL\",\"seeding_time\":5}";
    const char *t3 = "{\"name\":\"x\",\"time_active\":11,\"state\":\"stoppedDL\",\"seeding_time\":5}";
    ck_assert_int_eq(qbit_sync_fingerprint(t1, strlen(t1), skip, a), 0);
    ck_assert_uint_eq(strlen(a), QBIT_SYNC_FP_LEN);
    /* only skipped members moved: the same */
    ck_assert_int_eq(qbit_sync_fingerprint(t2, strlen(t2), skip, b), 0);
    ck_assert_str_eq(a, b);
    /* another member moved: different */
    ck_assert_int_eq(qbit_sync_fingerprint(t3, strlen(t3), skip, b), 0);
    ck_assert_str_ne(a, b);
    /* without the skip list every member counts */
    ck_assert_int_eq(qbit_sync_fingerprint(t1, strlen(t1), NULL, a), 0);
    ck_assert_int_eq(qbit_sync_fingerprint(t2, strlen(t2), NULL, b), 0);
    ck_assert_str_ne(a, b);
    /* a key that only starts like a skipped one is not skipped */
    const char *u1 = "{\"time_active_x\":1}", *u2 = "{\"time_active_x\":2}";
    ck_assert_int_eq(qbit_sync_fingerprint(u1, strlen(u1), skip, a), 0);
    ck_assert_int_eq(qbit_sync_fingerprint(u2, strlen(u2), skip, b), 0);
    ck_assert_str_ne(a, b);
    /* a value cannot slide into the next key */
    const char *v1 = "{\"a\":\"1\",\"b\":2}", *v2 = "{\"a\":\"1\\\",\\\"b\\\":2\"}";
    ck_assert_int_eq(qbit_sync_fingerprint(v1, strlen(v1), NULL, a), 0);
    ck_assert_int_eq(qbit_sync_fingerprint(v2, strlen(v2), NULL, b), 0);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(qbit_sync_fingerprint("{\"a\":", 5, NULL, a), -1);
    ck_assert_int_eq(qbit_sync_fingerprint("nope", 4, NULL, a), -1);
}
END_TEST

static char *
json(json_object *o)
{
    char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

START_TEST(test_members_and_keys)
{
    json_object *before = json_tokener_parse(
        "{\"tv\":{\"name\":\"tv\",\"savePath\":\"/a\"},\"old\":{\"name\":\"old\",\"savePath\":\"\"},"
        "\"same\":{\"name\":\"same\",\"savePath\":\"/s\"}}");
    json_object *now = json_tokener_parse(
        "{\"tv\":{\"name\":\"tv\",\"savePath\":\"/b\"},\"same\":{\"name\":\"same\",\"savePath\":\"/s\"},"
        "\"new\":{\"name\":\"new\",\"savePath\":\"\"}}");
    /* a changed category brings only its changed fields, a new one all */
    char *d = json(qbit_sync_diff_members(before, now));
    ck_assert_str_eq(d, "{\"tv\":{\"savePath\":\"\\/b\"},\"new\":{\"name\":\"new\",\"savePath\":\"\"}}");
    free(d);
    d = json(qbit_sync_diff_keys(before, now));
    ck_assert_str_eq(d, "[\"old\"]");
    free(d);
    /* nothing before: everything is new, nothing removed */
    d = json(qbit_sync_diff_members(NULL, now));
    ck_assert_str_eq(d, json_object_to_json_string_ext(now, JSON_C_TO_STRING_PLAIN));
    free(d);
    d = json(qbit_sync_diff_keys(NULL, now));
    ck_assert_str_eq(d, "[]");
    free(d);
    /* flat maps (the server state): changed values of any type */
    json_object *s1 = json_tokener_parse("{\"dl_info_speed\":0,\"connection_status\":\"connected\","
                                         "\"queueing\":true,\"ratio\":0.5}");
    json_object *s2 = json_tokener_parse("{\"dl_info_speed\":1200,\"connection_status\":\"connected\","
                                         "\"queueing\":false,\"ratio\":0.5}");
    d = json(qbit_sync_diff_members(s1, s2));
    ck_assert_str_eq(d, "{\"dl_info_speed\":1200,\"queueing\":false}");
    free(d);
    d = json(qbit_sync_diff_members(s2, s2));
    ck_assert_str_eq(d, "{}");
    free(d);
    /* a value whose type changed is sent */
    json_object *t1 = json_tokener_parse("{\"x\":1}"), *t2 = json_tokener_parse("{\"x\":\"1\"}");
    d = json(qbit_sync_diff_members(t1, t2));
    ck_assert_str_eq(d, "{\"x\":\"1\"}");
    free(d);
    json_object_put(t1);
    json_object_put(t2);
    json_object_put(s1);
    json_object_put(s2);
    json_object_put(before);
    json_object_put(now);
}
END_TEST

START_TEST(test_lists)
{
    json_object *before = json_tokener_parse("[\"sonarr\",\"tv\",\"old\"]");
    json_object *now = json_tokener_parse("[\"new\",\"sonarr\",\"tv\"]");
    json_object *added, *removed;
    qbit_sync_diff_list(before, now, &added, &removed);
    char *a = json(added), *r = json(removed);
    ck_assert_str_eq(a, "[\"new\"]");
    ck_assert_str_eq(r, "[\"old\"]");
    free(a);
    free(r);
    qbit_sync_diff_list(now, now, &added, &removed);
    a = json(added);
    r = json(removed);
    ck_assert_str_eq(a, "[]");
    ck_assert_str_eq(r, "[]");
    free(a);
    free(r);
    qbit_sync_diff_list(NULL, now, &added, &removed);
    a = json(added);
    r = json(removed);
    ck_assert_str_eq(a, "[\"new\",\"sonarr\",\"tv\"]");
    ck_assert_str_eq(r, "[]");
    free(a);
    free(r);
    json_object_put(before);
    json_object_put(now);
}
END_TEST

#define H1 "1111111111111111111111111111111100000000"
#define H2 "2222222222222222222222222222222200000000"
#define H3 "3333333333333333333333333333333300000000"
#define H4 "4444444444444444444444444444444400000000"
#define H5 "5555555555555555555555555555555500000000"

static qbit_sync_version_t
ver(const char *id, bool current, const char *body)
{
    return (qbit_sync_version_t){ id, current, body, strlen(body) };
}

START_TEST(test_torrents_delta)
{
    qbit_sync_version_t v[] = {
        /* H1 paused: its state and speed changed, nothing else */
        ver(H1, false, "{\"dlspeed\":300,\"name\":\"a\",\"state\":\"downloading\"}"),
        ver(H1, true, "{\"dlspeed\":0,\"name\":\"a\",\"state\":\"stoppedDL\"}"),
        /* H2 new since the client's rid: whole */
        ver(H2, true, "{\"dlspeed\":0,\"name\":\"b\",\"state\":\"stalledDL\"}"),
        /* H3 deleted */
        ver(H3, false, "{\"dlspeed\":0,\"name\":\"c\",\"state\":\"stalledDL\"}"),
        /* H4 changed and changed back: nothing */
        ver(H4, false, "{\"dlspeed\":0,\"name\":\"d\"}"),
        ver(H4, true, "{\"dlspeed\":0,\"name\":\"d\"}"),
        /* H5: a body the scanner refuses is sent whole (the one in
         * force may come first) */
        ver(H5, true, "{\"name\":\"e\"}"),
        ver(H5, false, "{broken"),
    };
    struct evbuffer *t = evbuffer_new(), *r = evbuffer_new();
    size_t nr = 99;
    size_t nt = qbit_sync_torrents_delta(v, sizeof v / sizeof v[0], t, r, &nr);
    char *ts = text(t), *rs = text(r);
    ck_assert_uint_eq(nt, 3);
    ck_assert_str_eq(ts, "\"" H1 "\":{\"dlspeed\":0,\"state\":\"stoppedDL\"},"
                         "\"" H2 "\":{\"dlspeed\":0,\"name\":\"b\",\"state\":\"stalledDL\"},"
                         "\"" H5 "\":{\"name\":\"e\"}");
    ck_assert_uint_eq(nr, 1);
    ck_assert_str_eq(rs, "\"" H3 "\"");
    free(ts);
    free(rs);
    /* nothing changed: nothing written */
    nt = qbit_sync_torrents_delta(v, 0, t, r, &nr);
    ck_assert_uint_eq(nt, 0);
    ck_assert_uint_eq(nr, 0);
    ck_assert_uint_eq(evbuffer_get_length(t) + evbuffer_get_length(r), 0);
    evbuffer_free(t);
    evbuffer_free(r);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("qbit_sync");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_flat_diff);
    tcase_add_test(tc, test_flat_merge);
    tcase_add_test(tc, test_fingerprint);
    tcase_add_test(tc, test_members_and_keys);
    tcase_add_test(tc, test_lists);
    tcase_add_test(tc, test_torrents_delta);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
