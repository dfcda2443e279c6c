/* check_hookargs.c: unit tests of what a hook is given
 * (daemon/hooks/hookargs.c, hookbody.c): the command split without a
 * shell, the %-substitutions, the environment, the webhook's JSON body and
 * its HMAC-SHA256 signature. */
#include "config.h"

#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/hooks/hookargs.h"
#include "daemon/hooks/hookbody.h"

static const hook_event_t ev = {
    .event = "completed",
    .time = 1700000000,
    .hash = "0123456789abcdef0123456789abcdef",
    .name = "a b; $(rm -rf ~) \"q\".mkv",
    .size = 3000000,
    .path = "/srv/incoming/a b.mkv",
    .category = "tv",
    .added_by = "sonarr",
    .error = NULL,
};

/* joined: the words of v separated by '|'. */
static char joined[1024];
static const char *
join(char **v)
{
    joined[0] = '\0';
    for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
        if (i > 0)
            strcat(joined, "|");
        strcat(joined, v[i]);
    }
    return joined;
}

START_TEST(test_split_quotes)
{
    size_t n = 0;
    char **v = hook_split("  /bin/prog  'one two' \"th\\\"ree\" fo\\ ur a'b'\"c\"  ", &n, NULL);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(join(v), "/bin/prog|one two|th\"ree|fo ur|abc");
    hook_strv_free(v);
    /* no expansion of any kind: $, ~, *, ; are plain characters */
    v = hook_split("/bin/echo $HOME ~ * ; |", &n, NULL);
    ck_assert_str_eq(join(v), "/bin/echo|$HOME|~|*|;||");
    hook_strv_free(v);
    v = hook_split("/bin/sh -c 'echo \"$MULETEER_NAME\" >>/tmp/x'", &n, NULL);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(v[2], "echo \"$MULETEER_NAME\" >>/tmp/x");
    hook_strv_free(v);
}
END_TEST

START_TEST(test_split_errors)
{
    mt_error_t *err = NULL;
    ck_assert_ptr_null(hook_split("", NULL, &err));
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    ck_assert_ptr_null(hook_split("   ", NULL, NULL));
    ck_assert_ptr_null(hook_split("''", NULL, NULL));
    ck_assert_ptr_null(hook_split("/bin/x 'open", NULL, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "unterminated"));
    mt_error_clear(&err);
    ck_assert_ptr_null(hook_split("/bin/x \"open", NULL, NULL));
    ck_assert_ptr_null(hook_split("/bin/x trailing\\", NULL, NULL));
    char many[HOOK_MAX_ARGS * 2 + 8] = "";
    for (int i = 0; i <= HOOK_MAX_ARGS; i++)
        strcat(many, "a ");
    ck_assert_ptr_null(hook_split(many, NULL, NULL));
    many[strlen(many) - 2] = '\0'; /* HOOK_MAX_ARGS words: fine */
    char **v = hook_split(many, NULL, NULL);
    ck_assert_ptr_nonnull(v);
    hook_strv_free(v);
}
END_TEST

START_TEST(test_subst)
{
    char *s = hook_subst("%e:%h:%n:%s:%p:%c:%u:%r:%t:%%:%x:%", &ev);
    ck_assert_str_eq(s, "completed:0123456789abcdef0123456789abcdef:a b; $(rm -rf ~) \"q\".mkv:"
                        "3000000:/srv/incoming/a b.mkv:tv:sonarr::1700000000:%:%x:%");
    free(s);
    s = hook_subst("%%n", &ev);
    ck_assert_str_eq(s, "%n");
    free(s);
}
END_TEST

START_TEST(test_argv_one_word_per_value)
{
    /* a name with blanks and quotes stays one argument: substitution comes
     * after splitting */
    char **v = hook_argv("/usr/bin/notify --name=%n %p '%c %s'", &ev, NULL);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v[0], "/usr/bin/notify");
    ck_assert_str_eq(v[1], "--name=a b; $(rm -rf ~) \"q\".mkv");
    ck_assert_str_eq(v[2], "/srv/incoming/a b.mkv");
    ck_assert_str_eq(v[3], "tv 3000000");
    ck_assert_ptr_null(v[4]);
    hook_strv_free(v);
}
END_TEST

START_TEST(test_env)
{
    char *base[] = { "PATH=/usr/bin", "MULETEER_NAME=stale", "HOME=/root", NULL };
    char **v = hook_env(&ev, base);
    ck_assert_str_eq(join(v), "PATH=/usr/bin|HOME=/root|MULETEER_EVENT=completed|"
                              "MULETEER_HASH=0123456789abcdef0123456789abcdef|"
                              "MULETEER_NAME=a b; $(rm -rf ~) \"q\".mkv|MULETEER_SIZE=3000000|"
                              "MULETEER_PATH=/srv/incoming/a b.mkv|MULETEER_CATEGORY=tv|"
                              "MULETEER_ADDED_BY=sonarr|MULETEER_ERROR=|"
                              "MULETEER_TIME=1700000000|MULETEER_TEST=0");
    hook_strv_free(v);
}
END_TEST

static const char *
field(json_object *o, const char *k)
{
    json_object *v = NULL;
    ck_assert(json_object_object_get_ex(o, k, &v));
    return v == NULL ? NULL : json_object_get_string(v);
}

START_TEST(test_body)
{
    char *body = hook_body_json(&ev, "node-1");
    json_object *o = json_tokener_parse(body);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(field(o, "event"), "completed");
    ck_assert_str_eq(field(o, "time"), "2023-11-14T22:13:20Z");
    ck_assert_str_eq(field(o, "timestamp"), "1700000000");
    ck_assert_str_eq(field(o, "node"), "node-1");
    ck_assert_str_eq(field(o, "test"), "false");
    json_object *dl = NULL;
    ck_assert(json_object_object_get_ex(o, "download", &dl));
    ck_assert_str_eq(field(dl, "hash"), ev.hash);
    ck_assert_str_eq(field(dl, "name"), ev.name);
    ck_assert_int_eq(json_object_get_int64(json_object_object_get(dl, "size")), 3000000);
    ck_assert_str_eq(field(dl, "path"), ev.path);
    ck_assert_str_eq(field(dl, "category"), "tv");
    ck_assert_str_eq(field(dl, "added_by"), "sonarr");
    ck_assert_ptr_null(field(dl, "error")); /* null, not "" */
    ck_assert_int_eq(json_object_object_length(dl), 7);
    json_object_put(o);
    free(body);
}
END_TEST

START_TEST(test_signature)
{
    /* RFC 4231, test case 2 */
    char sig[HOOK_SIGNATURE_LEN];
    const char *data = "what do ya want for nothing?";
    hook_signature("Jefe", data, strlen(data), sig);
    ck_assert_str_eq(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("hookargs");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_split_quotes);
    tcase_add_test(tc, test_split_errors);
    tcase_add_test(tc, test_subst);
    tcase_add_test(tc, test_argv_one_word_per_value);
    tcase_add_test(tc, test_env);
    tcase_add_test(tc, test_body);
    tcase_add_test(tc, test_signature);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
