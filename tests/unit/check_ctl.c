/* check_ctl.c: unit tests for lib/ctl: request/reply codec, argument
 * readers and the blocking client against an in-process fake daemon. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl/args.h"
#include "ctl/client.h"
#include "ctl/proto.h"
#include "util/xalloc.h"

static ctl_request_t *
parse_ok(const char *line)
{
    ctl_request_t *req = NULL;
    mt_error_t *err = NULL;
    int rc = ctl_request_parse(line, strlen(line), &req, NULL, &err);
    ck_assert_msg(rc == 0, "parse of %s failed: %s", line, err ? err->message : "?");
    return req;
}

static void
parse_bad(const char *line, size_t len, ctl_errcode_t code, const char *needle,
          const char *expect_id)
{
    ctl_request_t *req = NULL;
    mt_error_t *err = NULL;
    json_object *id = NULL;
    int rc = ctl_request_parse(line, len, &req, &id, &err);
    ck_assert_msg(rc == -1, "parse of \"%.*s\" succeeded", (int)(len > 60 ? 60 : len), line);
    ck_assert_ptr_null(req);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->code, code);
    ck_assert_msg(strstr(err->message, needle) != NULL, "\"%s\" lacks \"%s\"", err->message,
                  needle);
    if (expect_id == NULL) {
        ck_assert_ptr_null(id);
    } else {
        ck_assert_ptr_nonnull(id);
        ck_assert_str_eq(json_object_to_json_string(id), expect_id);
    }
    json_object_put(id);
    mt_error_free(err);
}

START_TEST(test_request_parse)
{
    ctl_request_t *r = parse_ok("{\"id\":7,\"cmd\":\"status\"}");
    ck_assert_str_eq(ctl_request_cmd(r), "status");
    ck_assert_int_eq(json_object_get_int(ctl_request_id(r)), 7);
    ck_assert(json_object_is_type(ctl_request_args(r), json_type_object));
    ctl_request_free(r);

    r = parse_ok("  {\"cmd\":\"ping\",\"id\":\"abc\",\"args\":{\"x\":[1,2]}}\r");
    ck_assert_str_eq(json_object_get_string(ctl_request_id(r)), "abc");
    ck_assert_int_eq(json_object_object_length(ctl_request_args(r)), 1);
    ctl_request_free(r);

    /* No id is allowed (fire and forget); args null is allowed. */
    r = parse_ok("{\"cmd\":\"ping\",\"args\":null}");
    ck_assert_ptr_null(ctl_request_id(r));
    ctl_request_free(r);
}
END_TEST

START_TEST(test_request_errors)
{
    const char *s;
    parse_bad("", 0, CTL_E_PARSE, "malformed JSON", NULL);
    parse_bad("{", 1, CTL_E_PARSE, "malformed JSON", NULL);
    parse_bad("{\"id\":1,\"cmd\":\"ping\"} x", 23, CTL_E_PARSE, "malformed JSON", NULL);
    parse_bad("{id:1}  ", 8, CTL_E_PARSE, "malformed JSON", NULL);
    parse_bad("[1,2]", 5, CTL_E_INVALID_REQUEST, "must be a JSON object", NULL);
    s = "{\"id\":3}";
    parse_bad(s, strlen(s), CTL_E_INVALID_REQUEST, "\"cmd\" must be a string", "3");
    s = "{\"id\":3,\"cmd\":5}";
    parse_bad(s, strlen(s), CTL_E_INVALID_REQUEST, "\"cmd\" must be a string", "3");
    s = "{\"id\":\"q\",\"cmd\":\"nope nope\"}";
    parse_bad(s, strlen(s), CTL_E_UNKNOWN_COMMAND, "unknown command", "\"q\"");
    s = "{\"id\":1,\"cmd\":\"ping\",\"args\":[1]}";
    parse_bad(s, strlen(s), CTL_E_INVALID_REQUEST, "\"args\" must be an object", "1");
    s = "{\"id\":1.5,\"cmd\":\"ping\"}";
    parse_bad(s, strlen(s), CTL_E_INVALID_REQUEST, "\"id\" must be", NULL);
    s = "{\"id\":1,\"cmd\":\"ping\",\"extra\":1}";
    parse_bad(s, strlen(s), CTL_E_INVALID_REQUEST, "unknown member \"extra\"", "1");
    /* NUL inside the line */
    parse_bad("{\"id\":1,\0\"cmd\":\"ping\"}", 22, CTL_E_PARSE, "NUL", NULL);
    /* invalid UTF-8 */
    s = "{\"id\":1,\"cmd\":\"ping\",\"args\":{\"a\":\"\xff\"}}";
    parse_bad(s, strlen(s), CTL_E_PARSE, "malformed JSON", NULL);
    /* too long */
    char *big = xmalloc(CTL_MAX_LINE + 10);
    memset(big, ' ', CTL_MAX_LINE + 10);
    parse_bad(big, CTL_MAX_LINE + 10, CTL_E_LINE_TOO_LONG, "longer than", NULL);
    free(big);
    /* nesting deeper than the tokenizer allows */
    char deep[400];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    parse_bad(deep, sizeof deep, CTL_E_PARSE, "malformed JSON", NULL);
}
END_TEST

/* Overlong forms, surrogates and code points above U+10FFFF pass JSON
 * parsers; the codec refuses them (and U+0000) with the argument named,
 * and the id, so the caller's call ends at once. */
START_TEST(test_request_text)
{
    static const struct {
        const char *line;
        ctl_errcode_t code;
        const char *needle;
        const char *id;
    } cases[] = {
        { "{\"id\":1,\"cmd\":\"category-add\",\"args\":{\"name\":\"tv\",\"incoming_path\":\"/x\xc0\xaf\"}}",
          CTL_E_INVALID_ARGS, "incoming_path: invalid UTF-8", "1" },
        { "{\"id\":2,\"cmd\":\"category-add\",\"args\":{\"name\":\"tv\",\"comment\":\"\xed\xa0\x80\"}}",
          CTL_E_INVALID_ARGS, "comment: invalid UTF-8", "2" },
        { "{\"id\":3,\"cmd\":\"add\",\"args\":{\"tags\":[\"ok\",\"\xf4\x90\x80\x80\"]}}",
          CTL_E_INVALID_ARGS, "tags[1]: invalid UTF-8", "3" },
        { "{\"id\":4,\"cmd\":\"x\",\"args\":{\"a\":{\"b\":[1,{\"c\":\"\xe0\x80\xaf\"}]}}}",
          CTL_E_INVALID_ARGS, "a.b[1].c: invalid UTF-8", "4" },
        { "{\"id\":5,\"cmd\":\"x\",\"args\":{\"name\":\"a\\u0000b\"}}",
          CTL_E_INVALID_ARGS, "name: contains U+0000", "5" },
        { "{\"id\":6,\"cmd\":\"x\",\"args\":{\"a\":{\"\xc0\xaf\":1}}}",
          CTL_E_INVALID_ARGS, "a: a member name has invalid UTF-8", "6" },
        { "{\"id\":7,\"cmd\":\"x\",\"\xed\xa0\x80\":1}",
          CTL_E_INVALID_REQUEST, "member name is not valid UTF-8", "7" },
        /* an id that is not text is no id to answer with */
        { "{\"id\":\"\xc0\xaf\",\"cmd\":\"x\"}", CTL_E_INVALID_REQUEST, "\"id\" must be", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        parse_bad(cases[i].line, strlen(cases[i].line), cases[i].code, cases[i].needle,
                  cases[i].id);
    /* JSON escapes of lone surrogates become U+FFFD: valid text */
    ctl_request_t *r = parse_ok("{\"id\":1,\"cmd\":\"x\",\"args\":{\"a\":\"\\ud800\","
                                "\"b\":\"caf\xc3\xa9 \\ud83d\\ude00\"}}");
    ctl_request_free(r);
    /* ctl_check_text on its own; NULL and non-strings are fine */
    mt_error_t *err = NULL;
    ck_assert_int_eq(ctl_check_text(NULL, &err), 0);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "n", json_object_new_int(5));
    json_object_object_add(o, "ok", json_object_new_string("\xc3\xa9"));
    ck_assert_int_eq(ctl_check_text(o, &err), 0);
    json_object_object_add(o, "bad", json_object_new_string("\xed\xa0\x80"));
    ck_assert_int_eq(ctl_check_text(o, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    ck_assert_str_eq(err->message, "bad: invalid UTF-8");
    mt_error_clear(&err);
    json_object_put(o);
    json_object *str = json_object_new_string("\xf4\x90\x80\x80");
    ck_assert_int_eq(ctl_check_text(str, &err), -1);
    ck_assert_str_eq(err->message, "args: invalid UTF-8");
    mt_error_clear(&err);
    json_object_put(str);
}
END_TEST

START_TEST(test_reply_roundtrip)
{
    json_object *id = json_object_new_int(42);
    json_object *res = json_tokener_parse("{\"pong\":true}");
    char *line = ctl_reply_result(id, res);
    ck_assert_str_eq(line, "{\"id\":42,\"result\":{\"pong\":true}}\n");
    ctl_reply_t *r = NULL;
    ck_assert_int_eq(ctl_reply_parse(line, strlen(line) - 1, &r, NULL), 0);
    ck_assert(!ctl_reply_is_error(r));
    ck_assert_int_eq(json_object_get_int(ctl_reply_id(r)), 42);
    json_object *b = NULL;
    ck_assert(json_object_object_get_ex(ctl_reply_result_obj(r), "pong", &b));
    ctl_reply_free(r);
    free(line);

    line = ctl_reply_error(NULL, CTL_E_UNKNOWN_COMMAND, "unknown command \"x\"");
    ck_assert_str_eq(line, "{\"id\":null,\"error\":{\"code\":\"unknown_command\","
                           "\"message\":\"unknown command \\\"x\\\"\"}}\n");
    ck_assert_int_eq(ctl_reply_parse(line, strlen(line) - 1, &r, NULL), 0);
    ck_assert(ctl_reply_is_error(r));
    ck_assert_int_eq(ctl_reply_error_code(r), CTL_E_UNKNOWN_COMMAND);
    ck_assert_str_eq(ctl_reply_error_message(r), "unknown command \"x\"");
    ctl_reply_free(r);
    free(line);

    mt_error_t *err = NULL;
    ck_assert_int_eq(ctl_reply_parse("{\"id\":1}", 8, &r, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    mt_error_clear(&err);
    const char *both = "{\"id\":1,\"result\":1,\"error\":{}}";
    ck_assert_int_eq(ctl_reply_parse(both, strlen(both), &r, &err), -1);
    mt_error_clear(&err);
    const char *noc = "{\"id\":1,\"error\":{\"message\":\"m\"}}";
    ck_assert_int_eq(ctl_reply_parse(noc, strlen(noc), &r, &err), -1);
    mt_error_clear(&err);

    line = ctl_request_encode(9, "status", NULL);
    ck_assert_str_eq(line, "{\"id\":9,\"cmd\":\"status\"}\n");
    free(line);

    json_object_put(id);
    json_object_put(res);
    ck_assert_str_eq(ctl_errcode_name(CTL_E_LINE_TOO_LONG), "line_too_long");
    ck_assert_int_eq(ctl_errcode_parse("busy"), CTL_E_BUSY);
    ck_assert_int_eq(ctl_errcode_parse("zzz"), 0);
    /* file errors are neither bugs nor bad arguments */
    ck_assert_str_eq(ctl_errcode_name(ctl_errcode_from_mt(MT_ERR_IO)), "io_error");
    ck_assert_str_eq(ctl_errcode_name(ctl_errcode_from_mt(MT_ERR_NO_SPACE)), "no_space");
    ck_assert_int_eq(ctl_errcode_to_mt(ctl_errcode_parse("no_space")), MT_ERR_NO_SPACE);
    ck_assert_int_eq(ctl_errcode_to_mt(ctl_errcode_parse("io_error")), MT_ERR_IO);
}
END_TEST

/* expect_err: the call failed with MT_ERR_INVALID and exactly msg. */
static void
expect_err(int rc, mt_error_t **err, const char *msg)
{
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(*err);
    ck_assert_int_eq((*err)->code, MT_ERR_INVALID);
    ck_assert_str_eq((*err)->message, msg);
    mt_error_clear(err);
}

/* The argument readers: absent and null are the same, a wrong type or
 * value is an invalid_args message naming the argument. */
START_TEST(test_args)
{
    json_object *a = json_tokener_parse(
        "{\"s\":\"abc\",\"n\":null,\"b\":true,\"f\":false,\"i\":7,\"big\":12345678901,"
        "\"neg\":-3,\"d\":1.5,\"o\":{},\"e\":\"\"}");
    ck_assert_ptr_nonnull(a);
    mt_error_t *err = NULL;
    /* get */
    ck_assert_ptr_null(ctl_arg_get(a, "n"));
    ck_assert_ptr_null(ctl_arg_get(a, "absent"));
    ck_assert_ptr_null(ctl_arg_get(NULL, "s"));
    ck_assert_str_eq(json_object_get_string(ctl_arg_get(a, "s")), "abc");
    /* strings */
    const char *s = "x";
    ck_assert_int_eq(ctl_arg_str(a, "s", true, &s, 3, &err), 0);
    ck_assert_str_eq(s, "abc");
    ck_assert_int_eq(ctl_arg_str(a, "e", true, &s, 3, &err), 0);
    ck_assert_str_eq(s, "");
    s = "x";
    ck_assert_int_eq(ctl_arg_str(a, "n", false, &s, 3, &err), 0);
    ck_assert_ptr_null(s);
    s = "x";
    ck_assert_int_eq(ctl_arg_str(a, "absent", false, &s, 3, &err), 0);
    ck_assert_ptr_null(s);
    ck_assert_ptr_null(err);
    expect_err(ctl_arg_str(a, "absent", true, &s, 3, &err), &err, "missing argument \"absent\"");
    expect_err(ctl_arg_str(a, "n", true, &s, 3, &err), &err, "missing argument \"n\"");
    expect_err(ctl_arg_str(a, "s", false, &s, 2, &err), &err,
               "\"s\" must be a string of at most 2 bytes");
    expect_err(ctl_arg_str(a, "i", false, &s, 100, &err), &err,
               "\"i\" must be a string of at most 100 bytes");
    ck_assert_ptr_null(s);
    /* booleans */
    bool b = false;
    ck_assert_int_eq(ctl_arg_bool(a, "b", &b, &err), 0);
    ck_assert(b);
    ck_assert_int_eq(ctl_arg_bool(a, "f", &b, &err), 0);
    ck_assert(!b);
    b = true;
    ck_assert_int_eq(ctl_arg_bool(a, "n", &b, &err), 0);
    ck_assert(!b);
    b = true;
    ck_assert_int_eq(ctl_arg_bool(a, "absent", &b, &err), 0);
    ck_assert(!b);
    expect_err(ctl_arg_bool(a, "i", &b, &err), &err, "\"i\" must be true or false");
    expect_err(ctl_arg_bool(a, "s", &b, &err), &err, "\"s\" must be true or false");
    /* integers */
    bool has = true;
    int64_t v = 99;
    ck_assert_int_eq(ctl_arg_int(a, "absent", 0, 10, &has, &v, &err), 0);
    ck_assert(!has);
    ck_assert_int_eq(v, 99);
    has = true;
    ck_assert_int_eq(ctl_arg_int(a, "n", 0, 10, &has, &v, &err), 0);
    ck_assert(!has);
    ck_assert_int_eq(ctl_arg_int(a, "i", 7, 7, &has, &v, &err), 0);
    ck_assert(has);
    ck_assert_int_eq(v, 7);
    ck_assert_int_eq(ctl_arg_int(a, "big", 0, INT64_MAX, &has, &v, &err), 0);
    ck_assert_int_eq(v, 12345678901LL);
    ck_assert_int_eq(ctl_arg_int(a, "neg", -3, 0, &has, &v, &err), 0);
    ck_assert_int_eq(v, -3);
    v = 99;
    expect_err(ctl_arg_int(a, "i", 0, 6, &has, &v, &err), &err, "\"i\" must be an integer 0-6");
    expect_err(ctl_arg_int(a, "i", 8, 9, &has, &v, &err), &err, "\"i\" must be an integer 8-9");
    expect_err(ctl_arg_int(a, "neg", 0, 255, &has, &v, &err), &err,
               "\"neg\" must be an integer 0-255");
    expect_err(ctl_arg_int(a, "d", 0, 255, &has, &v, &err), &err, "\"d\" must be an integer 0-255");
    expect_err(ctl_arg_int(a, "s", 0, 255, &has, &v, &err), &err, "\"s\" must be an integer 0-255");
    expect_err(ctl_arg_int(a, "o", 0, 255, &has, &v, &err), &err, "\"o\" must be an integer 0-255");
    ck_assert(!has);
    ck_assert_int_eq(v, 99);
    json_object_put(a);
}
END_TEST

/* A fake daemon: accepts one connection and plays a script of replies. */
static char sock_dir[64];
static char sock_path[128];

static pid_t
fake_daemon(const char *const *script)
{
    snprintf(sock_dir, sizeof sock_dir, "/tmp/check_ctl.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(sock_dir));
    snprintf(sock_path, sizeof sock_path, "%s/s.sock", sock_dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, sock_path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int c = accept(fd, NULL, NULL);
        char buf[4096];
        for (size_t i = 0; script[i] != NULL; i++) {
            if (strcmp(script[i], "DROP") == 0) {
                /* close the idle connection; the client comes back */
                close(c);
                c = accept(fd, NULL, NULL);
                continue;
            }
            /* wait for a request line before each reply */
            size_t got = 0;
            while (got < sizeof buf) {
                ssize_t n = read(c, buf + got, 1);
                if (n <= 0)
                    _exit(0);
                if (buf[got++] == '\n')
                    break;
            }
            if (strcmp(script[i], "SLEEP") == 0) {
                sleep(5);
                continue;
            }
            if (strcmp(script[i], "CLOSE") == 0)
                _exit(0);
            if (strncmp(script[i], "BIG ", 4) == 0) {
                /* "BIG <id>": a 5,000,000-character string result */
                static char big[5000000];
                memset(big, 'a', sizeof big);
                char head[64];
                int hl = snprintf(head, sizeof head, "{\"id\":%s,\"result\":\"", script[i] + 4);
                if (write(c, head, (size_t)hl) < 0 || write(c, big, sizeof big) < 0 ||
                    write(c, "\"}\n", 3) < 0)
                    _exit(1);
                continue;
            }
            if (write(c, script[i], strlen(script[i])) < 0)
                _exit(1);
        }
        sleep(1);
        _exit(0);
    }
    close(fd);
    return pid;
}

static void
reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unlink(sock_path);
    rmdir(sock_dir);
}

START_TEST(test_client_calls)
{
    const char *script[] = {
        "{\"id\":1,\"result\":{\"pong\":true}}\n",
        /* an unrelated line first (no id), then the reply split in two */
        "{\"id\":null,\"result\":{\"event\":1}}\n{\"id\":2,\"error\":{\"code\":\"not_found\",\"message\":\"no such download\"}}\n",
        "{\"id\":3,\"result\":5}\n",
        NULL,
    };
    pid_t pid = fake_daemon(script);
    mt_error_t *err = NULL;
    ctl_client_t *c = ctl_client_connect(sock_path, 2000, &err);
    ck_assert_ptr_nonnull(c);
    json_object *res = NULL;
    ck_assert_int_eq(ctl_client_call(c, "ping", NULL, &res, &err), 0);
    ck_assert_ptr_nonnull(res);
    json_object_put(res);
    ck_assert_int_eq(ctl_client_call(c, "status", NULL, &res, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_NOT_FOUND);
    ck_assert_str_eq(err->message, "no such download");
    ck_assert_int_eq(ctl_client_last_error(c), CTL_E_NOT_FOUND);
    mt_error_clear(&err);
    ck_assert_int_eq(ctl_client_call(c, "x", NULL, &res, &err), 0);
    ck_assert_int_eq(json_object_get_int(res), 5);
    json_object_put(res);
    ctl_client_free(c);
    reap(pid);
}
END_TEST

/* Long replies (every shared file, every download) are far over the
 * request limit; they arrive in many reads. */
START_TEST(test_client_long_reply)
{
    const char *script[] = { "BIG 1", "{\"id\":2,\"result\":7}\n", NULL };
    pid_t pid = fake_daemon(script);
    mt_error_t *err = NULL;
    ctl_client_t *c = ctl_client_connect(sock_path, 5000, &err);
    ck_assert_ptr_nonnull(c);
    json_object *res = NULL;
    ck_assert_msg(ctl_client_call(c, "shared", NULL, &res, &err) == 0, "call: %s",
                  err != NULL ? err->message : "?");
    ck_assert_int_eq(json_object_get_string_len(res), 5000000);
    json_object_put(res);
    ck_assert_int_eq(ctl_client_call(c, "x", NULL, &res, &err), 0);
    ck_assert_int_eq(json_object_get_int(res), 7);
    json_object_put(res);
    ctl_client_free(c);
    reap(pid);
}
END_TEST

START_TEST(test_client_failures)
{
    mt_error_t *err = NULL;
    /* nobody listening */
    ck_assert_ptr_null(ctl_client_connect("/tmp/definitely-not-a-socket.sock", 500, &err));
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err->message, "muleteerd is not running"));
    mt_error_clear(&err);
    /* path too long for sun_path */
    char longp[300];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    ck_assert_ptr_null(ctl_client_connect(longp, 500, &err));
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);

    /* silent daemon: timeout; then the client is unusable */
    const char *silent[] = { "SLEEP", NULL };
    pid_t pid = fake_daemon(silent);
    ctl_client_t *c = ctl_client_connect(sock_path, 300, &err);
    ck_assert_ptr_nonnull(c);
    json_object *res = NULL;
    ck_assert_int_eq(ctl_client_call(c, "ping", NULL, &res, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TIMEOUT);
    mt_error_clear(&err);
    ck_assert_int_eq(ctl_client_call(c, "ping", NULL, &res, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    mt_error_clear(&err);
    ctl_client_free(c);
    reap(pid);

    /* daemon closes mid-call; garbage reply */
    const char *closing[] = { "CLOSE", NULL };
    pid = fake_daemon(closing);
    c = ctl_client_connect(sock_path, 2000, &err);
    ck_assert_int_eq(ctl_client_call(c, "ping", NULL, &res, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    mt_error_clear(&err);
    ctl_client_free(c);
    reap(pid);

    const char *garbage[] = { "this is not json\n", NULL };
    pid = fake_daemon(garbage);
    c = ctl_client_connect(sock_path, 2000, &err);
    ck_assert_int_eq(ctl_client_call(c, "ping", NULL, &res, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    mt_error_clear(&err);
    ctl_client_free(c);
    reap(pid);
}
END_TEST

static long long
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An error reply without an id (the daemon could not read the request's
 * id: invalid UTF-8, an over-long line) ends the call at once; the
 * connection stays usable. */
START_TEST(test_client_idless_error)
{
    const char *script[] = {
        "{\"id\":null,\"error\":{\"code\":\"parse_error\",\"message\":\"malformed JSON: "
        "invalid utf-8 string\"}}\n",
        "{\"id\":null,\"error\":{\"code\":\"line_too_long\",\"message\":\"line longer than "
        "65535 bytes\"}}\n",
        "{\"id\":3,\"result\":{\"pong\":true}}\n",
        NULL,
    };
    pid_t pid = fake_daemon(script);
    mt_error_t *err = NULL;
    ctl_client_t *c = ctl_client_connect(sock_path, 10000, &err);
    ck_assert_ptr_nonnull(c);
    json_object *res = NULL;
    long long t0 = mono_ms();
    ck_assert_int_eq(ctl_client_call(c, "ping", NULL, &res, &err), -1);
    ck_assert_int_lt(mono_ms() - t0, 2000); /* not the 10 s timeout */
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err->message, "invalid utf-8"));
    ck_assert_int_eq(ctl_client_last_error(c), CTL_E_PARSE);
    mt_error_clear(&err);
    ck_assert_int_eq(ctl_client_call(c, "ping", NULL, &res, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    ck_assert_int_eq(ctl_client_last_error(c), CTL_E_LINE_TOO_LONG);
    mt_error_clear(&err);
    ck_assert_int_lt(mono_ms() - t0, 4000);
    ck_assert_int_eq(ctl_client_call(c, "ping", NULL, &res, &err), 0);
    ck_assert_ptr_nonnull(res);
    json_object_put(res);
    ctl_client_free(c);
    reap(pid);
}
END_TEST

/* What the daemon would refuse is refused before it is sent; the next
 * request goes through on the same connection. */
START_TEST(test_client_refuses)
{
    /* refused requests use up no id: the next one is still 1 */
    const char *script[] = { "{\"id\":1,\"result\":1}\n", NULL };
    pid_t pid = fake_daemon(script);
    mt_error_t *err = NULL;
    ctl_client_t *c = ctl_client_connect(sock_path, 2000, &err);
    ck_assert_ptr_nonnull(c);
    json_object *res = NULL;
    json_object *args = json_object_new_object();
    json_object_object_add(args, "incoming_path", json_object_new_string("/srv/\xed\xa0\x80"));
    ck_assert_int_eq(ctl_client_call(c, "category-add", args, &res, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    ck_assert_str_eq(err->message, "incoming_path: invalid UTF-8");
    ck_assert_int_eq(ctl_client_last_error(c), CTL_E_INVALID_ARGS);
    mt_error_clear(&err);
    json_object_put(args);
    char *big = xmalloc(CTL_MAX_LINE + 1);
    memset(big, 'a', CTL_MAX_LINE);
    big[CTL_MAX_LINE] = '\0';
    args = json_object_new_object();
    json_object_object_add(args, "incoming_path", json_object_new_string(big));
    free(big);
    ck_assert_int_eq(ctl_client_call(c, "category-add", args, &res, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    ck_assert_int_eq(ctl_client_last_error(c), CTL_E_LINE_TOO_LONG);
    mt_error_clear(&err);
    json_object_put(args);
    /* a line of exactly 65,535 bytes before its newline is sent */
    const char *frame = "{\"id\":1,\"cmd\":\"ping\",\"args\":{\"a\":\"\"}}";
    size_t fill = CTL_MAX_LINE - 1 - strlen(frame);
    big = xmalloc(fill + 1);
    memset(big, 'a', fill);
    big[fill] = '\0';
    args = json_object_new_object();
    json_object_object_add(args, "a", json_object_new_string(big));
    free(big);
    ck_assert_msg(ctl_client_call(c, "ping", args, &res, &err) == 0, "call: %s",
                  err != NULL ? err->message : "?");
    ck_assert_int_eq(json_object_get_int(res), 1);
    json_object_put(res);
    json_object_put(args);
    ctl_client_free(c);
    reap(pid);
}
END_TEST

/* The daemon closes idle connections (and drops idle ones to make room):
 * the next call reconnects instead of failing. */
START_TEST(test_client_reconnects)
{
    const char *script[] = { "{\"id\":1,\"result\":1}\n", "DROP", "{\"id\":2,\"result\":2}\n",
                             NULL };
    pid_t pid = fake_daemon(script);
    mt_error_t *err = NULL;
    ctl_client_t *c = ctl_client_connect(sock_path, 2000, &err);
    ck_assert_ptr_nonnull(c);
    json_object *res = NULL;
    ck_assert_int_eq(ctl_client_call(c, "ping", NULL, &res, &err), 0);
    json_object_put(res);
    usleep(200000); /* the fake daemon closes the connection meanwhile */
    ck_assert_msg(ctl_client_call(c, "ping", NULL, &res, &err) == 0, "call: %s",
                  err != NULL ? err->message : "?");
    ck_assert_int_eq(json_object_get_int(res), 2);
    json_object_put(res);
    ctl_client_free(c);
    reap(pid);
}
END_TEST

/* A socket this user may not use is a permission error naming it, not
 * "muleteerd is not running". */
START_TEST(test_client_permission)
{
    const char *script[] = { NULL };
    pid_t pid = fake_daemon(script);
    ck_assert_int_eq(chmod(sock_path, 0600), 0);
    pid_t child = fork();
    if (child == 0) {
        /* as root, become nobody, for whom the socket is closed; as
         * anyone else, close the socket to ourselves */
        if (geteuid() == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(10);
        } else if (chmod(sock_path, 0) != 0) {
            _exit(11);
        }
        mt_error_t *err = NULL;
        ctl_client_t *c = ctl_client_connect(sock_path, 500, &err);
        if (c != NULL)
            _exit(12);
        if (err->code != MT_ERR_PERMISSION)
            _exit(13);
        if (strstr(err->message, "permission denied") == NULL ||
            strstr(err->message, sock_path) == NULL ||
            strstr(err->message, "not running") != NULL)
            _exit(14);
        _exit(0);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(child, &st, 0), child);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
    reap(pid);
}
END_TEST

START_TEST(test_socket_path)
{
    char dir[] = "/tmp/check_ctl_var.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("MULETEER_VAR", dir, 1);
    char *p = ctl_socket_path();
    char *want = xasprintf("%s/run/muleteerd.sock", dir);
    ck_assert_str_eq(p, want);
    free(p);
    free(want);
    char *conf = xasprintf("%s/muleteer.conf", dir);
    FILE *f = fopen(conf, "w");
    fputs("control_socket = /tmp/elsewhere.sock\n", f);
    fclose(f);
    p = ctl_socket_path();
    ck_assert_str_eq(p, "/tmp/elsewhere.sock");
    free(p);
    unsetenv("MULETEER_VAR");
    p = ctl_socket_path();
    ck_assert_str_eq(p, "var/run/muleteerd.sock");
    free(p);
    unlink(conf);
    free(conf);
    rmdir(dir);
}
END_TEST

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("ctl");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_request_parse);
    tcase_add_test(tc, test_request_errors);
    tcase_add_test(tc, test_request_text);
    tcase_add_test(tc, test_reply_roundtrip);
    tcase_add_test(tc, test_args);
    tcase_add_test(tc, test_client_calls);
    tcase_add_test(tc, test_client_long_reply);
    tcase_add_test(tc, test_client_failures);
    tcase_add_test(tc, test_client_idless_error);
    tcase_add_test(tc, test_client_refuses);
    tcase_add_test(tc, test_client_reconnects);
    tcase_add_test(tc, test_client_permission);
    tcase_add_test(tc, test_socket_path);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
