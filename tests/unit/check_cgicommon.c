/* check_cgicommon.c: unit tests for cgi-bin/common: daemon failures as
 * HTTP statuses, calls to a fake daemon on a Unix socket (answered through
 * the program's answer function, refusals left to the caller), the
 * request's clean-up, the 503 when PostgreSQL is away, the configuration
 * error and the reload of a changed configuration file, the wait
 * deadline, the JSON programs' answers outside their routes (cgijson).
 * No network, no PostgreSQL. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cgictl.h"
#include "common/cgidb.h"
#include "common/cgienv.h"
#include "common/cgijson.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* ---- the program's answer function, recorded ---- */

static int answers;
static int answer_status;
static char answer_message[256];

static int
record_answer(http_response_t *resp, int status, const char *message)
{
    answers++;
    answer_status = status;
    snprintf(answer_message, sizeof answer_message, "%s", message != NULL ? message : "");
    return http_response_text(resp, status, message);
}

static void
reset_answers(void)
{
    answers = 0;
    answer_status = 0;
    answer_message[0] = '\0';
}

/* ---- a configuration file ---- */

static char conf_file[64];

/* env_with: a cgienv over a configuration file holding text. */
static cgienv_t *
env_with(const char *text, cgienv_answer_fn answer)
{
    snprintf(conf_file, sizeof conf_file, "/tmp/check_cgicommon.XXXXXX");
    int fd = mkstemp(conf_file);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("MULETEER_CONF", conf_file, 1);
    cgienv_t *env = cgienv_new("check_cgicommon", answer);
    unlink(conf_file);
    return env;
}

/* ---- the status mappings ---- */

START_TEST(test_failure_status)
{
    /* no error reply: the daemon was not reached */
    ck_assert_int_eq(cgictl_failure_status(0), 503);
    /* the daemon could not read the request, whatever the command */
    ck_assert_int_eq(cgictl_failure_status(CTL_E_PARSE), 400);
    ck_assert_int_eq(cgictl_failure_status(CTL_E_INVALID_REQUEST), 400);
    ck_assert_int_eq(cgictl_failure_status(CTL_E_LINE_TOO_LONG), 400);
    /* refusals of the command are the caller's */
    const ctl_errcode_t theirs[] = { CTL_E_UNKNOWN_COMMAND, CTL_E_INVALID_ARGS, CTL_E_NOT_FOUND,
                                     CTL_E_EXISTS, CTL_E_UNAVAILABLE, CTL_E_BUSY,
                                     CTL_E_INTERNAL };
    for (size_t i = 0; i < sizeof theirs / sizeof theirs[0]; i++)
        ck_assert_msg(cgictl_failure_status(theirs[i]) == 0, "%s", ctl_errcode_name(theirs[i]));
}
END_TEST

/* The table of docs/control-protocol.md, through the mt_error code the
 * client reports each protocol code with. */
START_TEST(test_refusal_status)
{
    const struct {
        const char *code;
        int status;
    } table[] = {
        { "parse_error", 400 }, { "invalid_request", 400 }, { "line_too_long", 400 },
        { "unknown_command", 400 }, { "invalid_args", 400 }, { "not_found", 404 },
        { "exists", 409 }, { "unavailable", 503 }, { "busy", 503 }, { "internal", 500 },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        ctl_errcode_t code = ctl_errcode_parse(table[i].code);
        ck_assert_int_ne(code, 0);
        mt_error_t *err = NULL;
        mt_error_set(&err, ctl_errcode_to_mt(code), "refused");
        ck_assert_msg(cgictl_refusal_status(err) == table[i].status, "%s: %d, not %d",
                      table[i].code, cgictl_refusal_status(err), table[i].status);
        mt_error_free(err);
    }
    /* a code the client does not know is "internal" */
    mt_error_t *err = NULL;
    mt_error_set(&err, ctl_errcode_to_mt((ctl_errcode_t)99), "?");
    ck_assert_int_eq(cgictl_refusal_status(err), 500);
    mt_error_free(err);
    ck_assert_int_eq(cgictl_refusal_status(NULL), 500);
}
END_TEST

/* ---- a fake daemon ---- */

static char sock_dir[64];
static char sock_path[128];

/* read_line: one request line from c; 0 at EOF, -1 on error. */
static int
read_line(int c)
{
    char ch;
    for (;;) {
        ssize_t n = read(c, &ch, 1);
        if (n <= 0)
            return (int)n;
        if (ch == '\n')
            return 1;
    }
}

/* fake_daemon: accepts a connection and plays script: a reply line is
 * written after reading one request line; "CLOSE" reads a request and
 * exits without answering; "EOF" waits for the client to close the
 * connection (exit status 3 when a request comes instead) and accepts the
 * next one. */
static pid_t
fake_daemon(const char *const *script)
{
    snprintf(sock_dir, sizeof sock_dir, "/tmp/check_cgicommon.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(sock_dir));
    snprintf(sock_path, sizeof sock_path, "%s/s.sock", sock_dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, sock_path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        alarm(10);
        int c = accept(fd, NULL, NULL);
        for (size_t i = 0; script[i] != NULL; i++) {
            if (strcmp(script[i], "EOF") == 0) {
                if (read_line(c) != 0)
                    _exit(3);
                close(c);
                c = accept(fd, NULL, NULL);
                continue;
            }
            if (read_line(c) <= 0)
                _exit(4);
            if (strcmp(script[i], "CLOSE") == 0)
                _exit(0);
            if (write(c, script[i], strlen(script[i])) < 0)
                _exit(1);
        }
        read_line(c); /* until the client goes */
        _exit(0);
    }
    close(fd);
    return pid;
}

/* finish: the fake daemon's exit status once it ended (killed after 5 s). */
static int
finish(pid_t pid)
{
    int ws = 0;
    for (int i = 0; i < 500; i++) {
        if (waitpid(pid, &ws, WNOHANG) == pid)
            break;
        if (i == 499) {
            kill(pid, SIGKILL);
            waitpid(pid, &ws, 0);
        }
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    unlink(sock_path);
    rmdir(sock_dir);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static cgienv_t *
env_for_fake(void)
{
    char *text = xasprintf("control_socket = %s\n", sock_path);
    cgienv_t *env = env_with(text, record_answer);
    free(text);
    return env;
}

/* call: cgictl_call on a fresh response; *status gets its status (0 when
 * nothing was answered). */
static int
call(cgienv_t *env, const char *cmd, json_object **res, mt_error_t **err, int *status)
{
    http_response_t *resp = http_response_new();
    int rc = cgictl_call(env, resp, cmd, NULL, res, err);
    *status = http_response_status_is_set(resp) ? http_response_status(resp) : 0;
    http_response_free(resp);
    return rc;
}

START_TEST(test_call_outcomes)
{
    const char *script[] = {
        "{\"id\":1,\"result\":{\"pong\":true}}\n",
        "{\"id\":2,\"error\":{\"code\":\"not_found\",\"message\":\"no such download\"}}\n",
        "{\"id\":3,\"error\":{\"code\":\"exists\",\"message\":\"already there\"}}\n",
        "{\"id\":4,\"error\":{\"code\":\"invalid_args\",\"message\":\"link: bad\"}}\n",
        "{\"id\":null,\"error\":{\"code\":\"parse_error\",\"message\":\"malformed JSON\"}}\n",
        "{\"id\":null,\"error\":{\"code\":\"line_too_long\",\"message\":\"too long\"}}\n",
        "CLOSE",
        NULL,
    };
    pid_t pid = fake_daemon(script);
    cgienv_t *env = env_for_fake();
    reset_answers();
    json_object *res = NULL;
    mt_error_t *err = NULL;
    int status;

    ck_assert_int_eq(call(env, "ping", &res, &err, &status), CGICTL_OK);
    ck_assert_ptr_nonnull(res);
    json_object_put(res);
    ck_assert_int_eq(status, 0);

    /* refusals: told to the caller, nothing answered */
    ck_assert_int_eq(call(env, "pause", NULL, &err, &status), CGICTL_REFUSED);
    ck_assert_int_eq(err->code, MT_ERR_NOT_FOUND);
    ck_assert_str_eq(err->message, "no such download");
    ck_assert_int_eq(cgictl_refusal_status(err), 404);
    mt_error_clear(&err);
    ck_assert_int_eq(call(env, "category-add", NULL, &err, &status), CGICTL_REFUSED);
    ck_assert_int_eq(cgictl_refusal_status(err), 409);
    mt_error_clear(&err);
    /* without err: the refusal is freed */
    ck_assert_int_eq(call(env, "add", NULL, NULL, &status), CGICTL_REFUSED);
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(answers, 0);

    /* what the daemon could not read: 400, answered */
    ck_assert_int_eq(call(env, "add", NULL, &err, &status), CGICTL_ANSWERED);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(status, 400);
    ck_assert_int_eq(answers, 1);
    ck_assert_int_eq(answer_status, 400);
    ck_assert_str_eq(answer_message, CGICTL_BAD_REQUEST);
    ck_assert_int_eq(call(env, "add", NULL, &err, &status), CGICTL_ANSWERED);
    ck_assert_int_eq(status, 400);
    ck_assert_int_eq(answers, 2);

    /* the daemon went away mid-call: 503, answered */
    ck_assert_int_eq(call(env, "pause", NULL, &err, &status), CGICTL_ANSWERED);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(status, 503);
    ck_assert_int_eq(answer_status, 503);
    ck_assert_str_eq(answer_message, CGICTL_UNAVAILABLE);
    ck_assert_int_eq(finish(pid), 0);
    /* and is still away */
    ck_assert_int_eq(call(env, "pause", NULL, &err, &status), CGICTL_ANSWERED);
    ck_assert_int_eq(status, 503);
    ck_assert_int_eq(answers, 4);
    cgienv_free(env);
}
END_TEST

/* cgienv_request_end closes the request's daemon connection: the next
 * request makes a new one. */
START_TEST(test_request_end_closes)
{
    const char *script[] = {
        "{\"id\":1,\"result\":1}\n",
        "{\"id\":2,\"result\":2}\n",
        "EOF",
        "{\"id\":1,\"result\":3}\n",
        NULL,
    };
    pid_t pid = fake_daemon(script);
    cgienv_t *env = env_for_fake();
    json_object *res = NULL;
    int status;
    /* one request, two calls on one connection */
    ck_assert_int_eq(call(env, "a", &res, NULL, &status), CGICTL_OK);
    ck_assert_int_eq(json_object_get_int(res), 1);
    json_object_put(res);
    ck_assert_int_eq(call(env, "b", &res, NULL, &status), CGICTL_OK);
    ck_assert_int_eq(json_object_get_int(res), 2);
    json_object_put(res);
    cgienv_request_end(env);
    /* the next request: a new connection (ids start again) */
    ck_assert_int_eq(call(env, "c", &res, NULL, &status), CGICTL_OK);
    ck_assert_int_eq(json_object_get_int(res), 3);
    json_object_put(res);
    cgienv_request_end(env);
    ck_assert_int_eq(finish(pid), 0);
    cgienv_free(env);
}
END_TEST

/* No daemon: 503 in the program's format, or text/plain without one. */
START_TEST(test_daemon_unreachable)
{
    cgienv_t *env = env_with("control_socket = /tmp/check_cgicommon-no-such.sock\n",
                             record_answer);
    reset_answers();
    int status;
    mt_error_t *err = NULL;
    ck_assert_int_eq(call(env, "ping", NULL, &err, &status), CGICTL_ANSWERED);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(status, 503);
    ck_assert_int_eq(answers, 1);
    ck_assert_str_eq(answer_message, CGICTL_UNAVAILABLE);
    cgienv_free(env);

    env = env_with("control_socket = /tmp/check_cgicommon-no-such.sock\n", NULL);
    http_response_t *resp = http_response_new();
    ck_assert_int_eq(cgictl_call(env, resp, "ping", NULL, NULL, NULL), CGICTL_ANSWERED);
    ck_assert_int_eq(http_response_status(resp), 503);
    ck_assert_str_eq(http_response_get_header(resp, "Content-Type"), "text/plain; charset=UTF-8");
    http_response_free(resp);
    cgienv_free(env);
}
END_TEST

/* PostgreSQL away (a socket directory that does not exist): 503 in the
 * program's format; a wait returns at once. */
START_TEST(test_database_unavailable)
{
    cgienv_t *env = env_with("database = host=/tmp/check_cgicommon-no-such-dir dbname=x\n"
                             "node_name = n1\n",
                             record_answer);
    reset_answers();
    ck_assert_str_eq(cgienv_node(env), "n1");
    http_response_t *resp = http_response_new();
    ck_assert_ptr_null(cgidb_conn(env, resp));
    ck_assert_int_eq(http_response_status(resp), 503);
    ck_assert_int_eq(answers, 1);
    ck_assert_str_eq(answer_message, CGIDB_UNAVAILABLE);
    http_response_free(resp);
    resp = http_response_new();
    const char *p[] = { "x" };
    ck_assert_ptr_null(cgidb_query(env, resp, "SELECT 1 WHERE $1 = $2", 1, p));
    ck_assert_int_eq(http_response_status(resp), 503);
    ck_assert_int_eq(answers, 2);
    http_response_free(resp);
    int64_t t0 = clock_mono_ms();
    cgidb_wait(env, "SELECT 1 WHERE $1 = $2", p, 1);
    ck_assert_int_lt(clock_mono_ms() - t0, 1000);
    ck_assert_int_eq(answers, 2); /* a wait answers nothing */
    cgienv_free(env);
}
END_TEST

/* cgictl_call_node: this node (or none) goes to the control socket,
 * another one through the database (away here: 503 saying so). */
START_TEST(test_call_node_routes)
{
    cgienv_t *env = env_with("database = host=/tmp/check_cgicommon-no-such-dir dbname=x\n"
                             "node_name = n1\n"
                             "control_socket = /tmp/check_cgicommon-no-such.sock\n",
                             record_answer);
    const char *nodes[] = { NULL, "n1", "n2" };
    for (size_t i = 0; i < 3; i++) {
        reset_answers();
        http_response_t *resp = http_response_new();
        mt_error_t *err = NULL;
        ck_assert_int_eq(cgictl_call_node(env, resp, nodes[i], NULL, "ping", NULL, NULL, &err),
                         CGICTL_ANSWERED);
        ck_assert_ptr_null(err);
        ck_assert_int_eq(http_response_status(resp), 503);
        ck_assert_int_eq(answers, 1);
        if (i < 2)
            ck_assert_str_eq(answer_message, CGICTL_UNAVAILABLE);
        else
            ck_assert_msg(strstr(answer_message, "PostgreSQL") != NULL, "%s", answer_message);
        http_response_free(resp);
    }
    cgienv_free(env);
}
END_TEST

START_TEST(test_conf_error)
{
    cgienv_t *env = env_with("no_such_key = 1\n", record_answer);
    reset_answers();
    ck_assert_ptr_nonnull(cgienv_error(env));
    http_response_t *resp = http_response_new();
    ck_assert(cgienv_answer_conf_error(env, resp));
    ck_assert_int_eq(http_response_status(resp), 500);
    ck_assert_int_eq(answers, 1);
    ck_assert_msg(strstr(answer_message, "no_such_key") != NULL, "%s", answer_message);
    http_response_free(resp);
    cgienv_free(env);

    env = env_with("node_name = n1\n", record_answer);
    reset_answers();
    ck_assert_ptr_null(cgienv_error(env));
    resp = http_response_new();
    ck_assert(!cgienv_answer_conf_error(env, resp));
    ck_assert(!http_response_status_is_set(resp));
    ck_assert_int_eq(answers, 0);
    http_response_free(resp);
    cgienv_free(env);
}
END_TEST

/* write_conf: path's content becomes text, as `muleteer passwd` writes it
 * (a new file renamed over the old one) or in place. */
static void
write_conf(const char *path, const char *text, bool by_rename)
{
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(by_rename ? tmp : path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
    if (by_rename)
        ck_assert_int_eq(rename(tmp, path), 0);
}

/* A changed configuration file is loaded at the next request's start,
 * an unchanged one is not read again, and a broken one leaves the last
 * good configuration in use. */
START_TEST(test_conf_reload)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/check_cgicommon.XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    /* same length before and after: only the inode tells them apart */
    write_conf(path, "web_password = old-pw\n", false);
    setenv("MULETEER_CONF", path, 1);
    cgienv_t *env = cgienv_new("check_cgicommon", record_answer);
    ck_assert_str_eq(conf_get_str(cgienv_conf(env), "web_password"), "old-pw");
    ck_assert(!cgienv_request_begin(env));

    write_conf(path, "web_password = new-pw\n", true);
    ck_assert(cgienv_request_begin(env));
    ck_assert_str_eq(conf_get_str(cgienv_conf(env), "web_password"), "new-pw");
    ck_assert(!cgienv_request_begin(env));

    /* edited in place (another length) */
    write_conf(path, "web_password = edited\nnode_name = n2\n", false);
    ck_assert(cgienv_request_begin(env));
    ck_assert_str_eq(conf_get_str(cgienv_conf(env), "web_password"), "edited");
    ck_assert_str_eq(cgienv_node(env), "n2");

    /* broken: the last good one stays, and no error is answered */
    write_conf(path, "no_such_key = 1\n", true);
    ck_assert(!cgienv_request_begin(env));
    ck_assert_ptr_null(cgienv_error(env));
    ck_assert_str_eq(conf_get_str(cgienv_conf(env), "web_password"), "edited");
    /* fixed again: loaded */
    write_conf(path, "web_password = fixed\n", true);
    ck_assert(cgienv_request_begin(env));
    ck_assert_str_eq(conf_get_str(cgienv_conf(env), "web_password"), "fixed");
    /* gone: nothing changes */
    unlink(path);
    ck_assert(!cgienv_request_begin(env));
    ck_assert_str_eq(conf_get_str(cgienv_conf(env), "web_password"), "fixed");
    cgienv_free(env);

    /* A program started with a broken file serves once it is fixed. */
    write_conf(path, "no_such_key = 1\n", false);
    env = cgienv_new("check_cgicommon", record_answer);
    ck_assert_ptr_nonnull(cgienv_error(env));
    write_conf(path, "web_password = at-last\n", true);
    ck_assert(cgienv_request_begin(env));
    ck_assert_ptr_null(cgienv_error(env));
    ck_assert_str_eq(conf_get_str(cgienv_conf(env), "web_password"), "at-last");
    cgienv_free(env);
    unlink(path);
}
END_TEST

/* The waits of one request share one deadline, CGIENV_WAIT_MS after its
 * first use; the next request has its own. */
START_TEST(test_request_deadline)
{
    cgienv_t *env = env_with("node_name = n1\n", record_answer);
    int64_t t0 = clock_mono_ms();
    int64_t d = cgienv_request_deadline(env);
    ck_assert_int_ge(d, t0 + CGIENV_WAIT_MS);
    ck_assert_int_le(d, clock_mono_ms() + CGIENV_WAIT_MS);
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    ck_assert_int_eq(cgienv_request_deadline(env), d);
    cgienv_request_end(env);
    ck_assert_int_gt(cgienv_request_deadline(env), d);
    cgienv_free(env);
}
END_TEST

/* body_text: the response's body as a string (valid until resp changes). */
static const char *
body_text(http_response_t *resp)
{
    struct evbuffer *b = http_response_body(resp);
    evbuffer_add(b, "", 1);
    return (const char *)evbuffer_pullup(b, -1);
}

/* The JSON programs' answers outside their routes: 404 naming the path,
 * 405 with Allow, 400 with the parser's message, 413. */
START_TEST(test_json_answers)
{
    char *env[] = { (char *)"REQUEST_METHOD=GET", (char *)"REQUEST_URI=/api/history/nope",
                    (char *)"REMOTE_ADDR=127.0.0.1", NULL };
    mt_error_t *err = NULL;
    http_request_t *req = http_request_new(env, NULL, 0, NULL, &err);
    ck_assert_ptr_nonnull(req);
    http_response_t *resp = http_response_new();
    cgijson_not_found(req, resp, NULL);
    ck_assert_int_eq(http_response_status(resp), 404);
    ck_assert_str_eq(body_text(resp),
                     "{\"error\":{\"code\":\"not_found\",\"message\":\"No such route: "
                     "/api/history/nope\"}}");
    http_response_free(resp);

    resp = http_response_new();
    cgijson_method_not_allowed(req, resp, HTTP_M_GET, NULL);
    ck_assert_int_eq(http_response_status(resp), 405);
    ck_assert_ptr_nonnull(http_response_get_header(resp, "Allow"));
    ck_assert_ptr_nonnull(strstr(body_text(resp), "\"code\":\"method_not_allowed\""));
    http_response_free(resp);

    mt_error_t bad = { .code = MT_ERR_INVALID, .message = (char *)"bad escape in q" };
    resp = http_response_new();
    cgijson_bad_request(resp, &bad, NULL);
    ck_assert_int_eq(http_response_status(resp), 400);
    ck_assert_ptr_nonnull(strstr(body_text(resp), "\"message\":\"bad escape in q\""));
    http_response_free(resp);

    mt_error_t big = { .code = MT_ERR_TOO_LARGE, .message = (char *)"too large" };
    resp = http_response_new();
    cgijson_bad_request(resp, &big, NULL);
    ck_assert_int_eq(http_response_status(resp), 413);
    ck_assert_ptr_nonnull(strstr(body_text(resp), "\"code\":\"too_large\""));
    http_response_free(resp);
    http_request_free(req);
}
END_TEST

static Suite *
cgicommon_suite(void)
{
    Suite *s = suite_create("cgicommon");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, test_failure_status);
    tcase_add_test(tc, test_refusal_status);
    suite_add_tcase(s, tc);
    tc = tcase_create("calls");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_call_outcomes);
    tcase_add_test(tc, test_request_end_closes);
    tcase_add_test(tc, test_daemon_unreachable);
    suite_add_tcase(s, tc);
    tc = tcase_create("env");
    tcase_add_test(tc, test_database_unavailable);
    tcase_add_test(tc, test_call_node_routes);
    tcase_add_test(tc, test_conf_error);
    tcase_add_test(tc, test_conf_reload);
    tcase_add_test(tc, test_request_deadline);
    tcase_add_test(tc, test_json_answers);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(cgicommon_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
