/* check_control.c: unit tests for the daemon's control-socket server
 * (daemon/ctl/control.c) on a real libevent loop and real Unix sockets. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/ctl/control.h"
#include "daemon/ctl/evstream.h"
#include "util/xalloc.h"

static int calls;

static int
cmd_echo(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)ctx;
    calls++;
    json_object *fail = NULL;
    if (json_object_object_get_ex(args, "fail", &fail)) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "no such thing: %s", json_object_get_string(fail));
        return -1;
    }
    *result = json_object_get(args);
    return 0;
}

/* A reply longer than the 8 MiB of waiting output a client may leave. */
#define BIG_REPLY (12 * 1024 * 1024)

static int
cmd_big(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)ctx;
    (void)args;
    (void)err;
    char *s = xmalloc(BIG_REPLY + 1);
    memset(s, 'b', BIG_REPLY);
    s[BIG_REPLY] = '\0';
    *result = json_object_new_string(s);
    free(s);
    return 0;
}

static const ctlsrv_command_t commands[] = {
    { "echo", cmd_echo, "returns its arguments" },
    { "big", cmd_big, "returns a long string" },
};

static char dir[64];
static char path[128];
static struct event_base *base;
static ctlsrv_t *srv;

static void
setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof dir, "/tmp/check_control.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/run/d.sock", dir);
    base = event_base_new();
    mt_error_t *err = NULL;
    srv = ctlsrv_new(base, path, commands, sizeof commands / sizeof commands[0], NULL, &err);
    ck_assert_msg(srv != NULL, "ctlsrv_new: %s", err ? err->message : "?");
    calls = 0;
}

static void
teardown(void)
{
    ctlsrv_free(srv);
    event_base_free(base);
    char *run = xasprintf("%s/run", dir);
    rmdir(run);
    free(run);
    rmdir(dir);
}

static int
client(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void
send_str(int fd, const char *s)
{
    ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Runs the loop until fd has received a newline-terminated line count
 * `lines` times (or 2 s pass); returns what arrived. */
static char *
recv_lines(int fd, int lines)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = xmalloc(cap);
    for (int i = 0; i < 400; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (cap - len < 65536)
            buf = xrealloc(buf, cap *= 2);
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n > 0) {
            len += (size_t)n;
            i = 0; /* 2 s without data, not in all */
        }
        int seen = 0;
        for (size_t k = 0; k < len; k++)
            seen += buf[k] == '\n';
        if (seen >= lines)
            break;
        if (n == 0)
            break;
        usleep(5000);
    }
    buf[len] = '\0';
    return buf;
}

START_TEST(test_reply_and_errors)
{
    int fd = client();
    /* split across writes, CRLF, a blank line, then a pipelined pair */
    send_str(fd, "{\"id\":1,\"cmd\":\"ec");
    event_base_loop(base, EVLOOP_NONBLOCK);
    send_str(fd, "ho\",\"args\":{\"x\":1}}\r\n\n{\"id\":2,\"cmd\":\"echo\",\"args\":{\"fail\":\"f\"}}\n"
                 "{\"id\":3,\"cmd\":\"zzz\"}\n{\"id\":4,\"cmd\":\"help\"}\n");
    char *out = recv_lines(fd, 4);
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":1,\"result\":{\"x\":1}}\n"));
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":2,\"error\":{\"code\":\"not_found\",\"message\":\"no such thing: f\"}}\n"));
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":3,\"error\":{\"code\":\"unknown_command\""));
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":4,\"result\":{\"commands\":[{\"name\":\"echo\""));
    /* replies come in request order */
    ck_assert(strstr(out, "\"id\":1") < strstr(out, "\"id\":2"));
    ck_assert(strstr(out, "\"id\":2") < strstr(out, "\"id\":3"));
    free(out);
    close(fd);
}
END_TEST

START_TEST(test_fire_and_forget)
{
    int fd = client();
    send_str(fd, "{\"cmd\":\"echo\"}\n{\"cmd\":\"echo\",\"args\":{\"fail\":1}}\n{\"id\":9,\"cmd\":\"echo\"}\n");
    char *out = recv_lines(fd, 2);
    /* the successful id-less request got no reply; the failing one did */
    ck_assert_int_eq(calls, 3);
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":null,\"error\":{\"code\":\"not_found\""));
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":9,\"result\":{}}"));
    ck_assert_ptr_null(strstr(out, "{\"id\":null,\"result\""));
    free(out);
    close(fd);
}
END_TEST

START_TEST(test_long_line)
{
    int fd = client();
    size_t n = 200000;
    char *big = xmalloc(n);
    memset(big, 'a', n);
    size_t off = 0;
    /* feed it in pieces while the loop runs, as a slow client would */
    while (off < n) {
        ssize_t w = write(fd, big + off, n - off > 8192 ? 8192 : n - off);
        if (w > 0)
            off += (size_t)w;
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    free(big);
    send_str(fd, "\n{\"id\":5,\"cmd\":\"echo\"}\n");
    char *out = recv_lines(fd, 2);
    ck_assert_ptr_nonnull(strstr(out, "\"code\":\"line_too_long\""));
    /* exactly one error for the whole long line, and the next line works */
    ck_assert_ptr_null(strstr(strstr(out, "line_too_long") + 1, "line_too_long"));
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":5,\"result\":{}}"));
    free(out);
    close(fd);
}
END_TEST

START_TEST(test_long_reply)
{
    int fd = client();
    send_str(fd, "{\"id\":1,\"cmd\":\"big\"}\n");
    /* the client reads slowly at first: the reply waits in the server */
    for (int i = 0; i < 20; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    send_str(fd, "{\"id\":2,\"cmd\":\"echo\"}\n");
    char *out = recv_lines(fd, 2);
    ck_assert_uint_gt(strlen(out), BIG_REPLY);
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":2,\"result\":{}}\n"));
    free(out);
    close(fd);
}
END_TEST

START_TEST(test_client_limit)
{
    /* 64 clients that all just arrived: none has been idle long enough
     * to make room, so the 65th and later are told the daemon is busy */
    ctlsrv_set_limits(srv, 64, 0, 0);
    int fds[70];
    for (int i = 0; i < 70; i++) {
        fds[i] = client();
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    for (int i = 0; i < 5; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_le(ctlsrv_client_count(srv), 64);
    char *out = recv_lines(fds[69], 1);
    ck_assert_ptr_nonnull(strstr(out, "\"code\":\"busy\""));
    free(out);
    /* the first clients still work */
    send_str(fds[0], "{\"id\":1,\"cmd\":\"echo\"}\n");
    out = recv_lines(fds[0], 1);
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":1,\"result\":{}}"));
    free(out);
    for (int i = 0; i < 70; i++)
        close(fds[i]);
    for (int i = 0; i < 10; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(ctlsrv_client_count(srv), 0);
}
END_TEST

/* is_closed: the server closed fd (EOF), after running the loop a little. */
static bool
is_closed(int fd)
{
    for (int i = 0; i < 5; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Runs the loop for ms milliseconds. */
static void
run_for(int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(10000);
    }
}

/* More idle clients than the limit: a newcomer is answered at once, the
 * clients idle the longest make room for it, and a client in the middle
 * of a request is never the one dropped. */
START_TEST(test_idle_clients_make_room)
{
    enum { N = CTLSRV_MAX_CLIENTS };
    static int fds[N + 3];
    for (int i = 0; i < N; i++) {
        fds[i] = client();
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    run_for(50);
    ck_assert_uint_eq(ctlsrv_client_count(srv), N);
    /* the oldest client starts a request and stops half-way */
    send_str(fds[0], "{\"id\":1,\"cmd\":\"ec");
    run_for(CTLSRV_EVICT_IDLE_MS + 300);
    for (int k = 0; k < 3; k++) {
        fds[N + k] = client();
        send_str(fds[N + k], "{\"id\":7,\"cmd\":\"echo\",\"args\":{\"n\":1}}\n");
        char *out = recv_lines(fds[N + k], 1);
        ck_assert_msg(strstr(out, "{\"id\":7,\"result\":{\"n\":1}}") != NULL,
                      "newcomer %d got: %s", k, out);
        free(out);
    }
    ck_assert_uint_le(ctlsrv_client_count(srv), N);
    /* the three idle the longest went (fds[1..3]); fds[0], busy, stayed */
    for (int i = 1; i <= 3; i++)
        ck_assert_msg(is_closed(fds[i]), "client %d still open", i);
    ck_assert(!is_closed(fds[4]));
    ck_assert(!is_closed(fds[0]));
    send_str(fds[0], "ho\"}\n");
    char *out = recv_lines(fds[0], 1);
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":1,\"result\":{}}"));
    free(out);
    for (int i = 0; i < N + 3; i++)
        close(fds[i]);
    run_for(50);
    ck_assert_uint_eq(ctlsrv_client_count(srv), 0);
}
END_TEST

/* An idle client is closed after the idle time; one in the middle of a
 * request is not. */
START_TEST(test_idle_timeout)
{
    ctlsrv_set_limits(srv, 0, 300, 0);
    int idle = client(), busy = client(), answered = client();
    send_str(busy, "{\"id\":1,");
    send_str(answered, "{\"id\":2,\"cmd\":\"echo\"}\n");
    char *out = recv_lines(answered, 1);
    ck_assert_ptr_nonnull(strstr(out, "\"id\":2"));
    free(out);
    run_for(600);
    ck_assert(is_closed(idle));
    ck_assert(is_closed(answered)); /* idle again once answered */
    ck_assert(!is_closed(busy));
    ck_assert_uint_eq(ctlsrv_client_count(srv), 1);
    send_str(busy, "\"cmd\":\"echo\"}\n");
    out = recv_lines(busy, 1);
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":1,\"result\":{}}"));
    free(out);
    close(idle);
    close(busy);
    close(answered);
}
END_TEST

START_TEST(test_socket_file)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_int_eq(st.st_mode & 0777, 0660);
    /* a second server on the same path refuses: the first one answers */
    mt_error_t *err = NULL;
    ck_assert_ptr_null(ctlsrv_new(base, path, commands, 1, NULL, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "already running"));
    mt_error_clear(&err);
    /* a stale socket (nobody listening) is replaced */
    ctlsrv_free(srv);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
    srv = ctlsrv_new(base, path, commands, sizeof commands / sizeof commands[0], NULL, &err);
    ck_assert_ptr_nonnull(srv);
    /* a regular file at the path is never deleted */
    char *other = xasprintf("%s/file", dir);
    FILE *f = fopen(other, "w");
    fclose(f);
    ck_assert_ptr_null(ctlsrv_new(base, other, commands, 1, NULL, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "is not a socket"));
    mt_error_clear(&err);
    ck_assert_int_eq(access(other, F_OK), 0);
    unlink(other);
    free(other);
    /* too long a path */
    char longp[200];
    memset(longp, 'x', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    ck_assert_ptr_null(ctlsrv_new(base, longp, commands, 1, NULL, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "too long"));
    mt_error_clear(&err);
}
END_TEST

START_TEST(test_free_removes_socket)
{
    int fd = client();
    for (int i = 0; i < 20 && ctlsrv_client_count(srv) == 0; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    ck_assert_int_eq(ctlsrv_client_count(srv), 1);
    ctlsrv_free(srv);
    srv = NULL;
    ck_assert_int_ne(access(path, F_OK), 0);
    /* libevent closes a freed bufferevent's socket from the loop */
    for (int i = 0; i < 5; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    char c;
    fcntl(fd, F_SETFL, 0);
    ck_assert_int_eq(read(fd, &c, 1), 0); /* the client sees EOF */
    close(fd);
    mt_error_t *err = NULL;
    srv = ctlsrv_new(base, path, commands, sizeof commands / sizeof commands[0], NULL, &err);
    ck_assert_ptr_nonnull(srv);
}
END_TEST

static const char *const topics[] = { "alpha", "beta" };

/* `subscribe`: the reply names the topics; a subscriber gets the lines of
 * its topics only, is never closed for idleness, and bad arguments are
 * refused without making the client a subscriber. */
START_TEST(test_subscribe)
{
    ctlsrv_set_limits(srv, 0, 200, 0);
    int none = client();
    send_str(none, "{\"id\":1,\"cmd\":\"subscribe\"}\n");
    char *out = recv_lines(none, 1);
    ck_assert_ptr_nonnull(strstr(out, "\"code\":\"invalid_args\""));
    free(out);
    close(none);

    ctlsrv_set_topics(srv, topics, 2);
    int all = client(), beta = client(), bad = client();
    send_str(all, "{\"id\":1,\"cmd\":\"subscribe\"}\n");
    send_str(beta, "{\"id\":2,\"cmd\":\"subscribe\",\"args\":{\"events\":[\"beta\"]}}\n");
    send_str(bad, "{\"id\":3,\"cmd\":\"subscribe\",\"args\":{\"events\":[\"gamma\"]}}\n");
    out = recv_lines(all, 1);
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":1,\"result\":{\"subscribed\":[\"alpha\",\"beta\"]}}"));
    free(out);
    out = recv_lines(beta, 1);
    ck_assert_ptr_nonnull(strstr(out, "{\"id\":2,\"result\":{\"subscribed\":[\"beta\"]}}"));
    free(out);
    out = recv_lines(bad, 1);
    ck_assert_ptr_nonnull(strstr(out, "events[0]: no such event"));
    free(out);
    ck_assert_uint_eq(ctlsrv_subscriber_count(srv), 2);
    ck_assert(ctlsrv_wants(srv, 0));
    ck_assert(!ctlsrv_wants(srv, 5));

    ck_assert_uint_eq(ctlsrv_publish(srv, 0, "{\"a\":1}", 7), 1);
    ck_assert_uint_eq(ctlsrv_publish(srv, 1, "{\"b\":2}", 7), 2);
    out = recv_lines(all, 2);
    ck_assert_str_eq(out, "{\"a\":1}\n{\"b\":2}\n");
    free(out);
    out = recv_lines(beta, 1);
    ck_assert_str_eq(out, "{\"b\":2}\n");
    free(out);

    /* past the idle time the subscribers stay, the other client goes */
    run_for(400);
    ck_assert(is_closed(bad));
    ck_assert(!is_closed(all));
    ck_assert(!is_closed(beta));
    close(all);
    close(beta);
    close(bad);
    run_for(50);
    ck_assert_uint_eq(ctlsrv_subscriber_count(srv), 0);
    ck_assert(!ctlsrv_wants(srv, 1));
}
END_TEST

/* A subscriber that does not read is dropped once its backlog would pass
 * the bound; publishing never waits for it, and a reading subscriber
 * keeps everything. */
START_TEST(test_slow_subscriber_dropped)
{
    ctlsrv_set_topics(srv, topics, 2);
    ctlsrv_set_sub_max_output(srv, 64 * 1024);
    int slow = client(), fast = client();
    int small = 4096;
    setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    send_str(slow, "{\"id\":1,\"cmd\":\"subscribe\"}\n");
    send_str(fast, "{\"id\":2,\"cmd\":\"subscribe\"}\n");
    free(recv_lines(slow, 1));
    free(recv_lines(fast, 1));
    char line[1001];
    memset(line, 'x', 1000);
    line[1000] = '\0';
    line[0] = '"';
    line[999] = '"';
    size_t got = 0;
    for (int i = 0; i < 2000; i++) {
        ctlsrv_publish(srv, 0, line, 1000);
        if (i % 20 == 0) {
            char *out = recv_lines(fast, 1);
            for (char *p = out; *p != '\0'; p++)
                got += *p == '\n';
            free(out);
        }
    }
    ck_assert_uint_eq(ctlsrv_subscriber_count(srv), 1);
    ck_assert_uint_eq(ctlsrv_subscribers_dropped(srv), 1);
    /* what the kernel held for it is there, then the end */
    char *out = recv_lines(slow, 1000000);
    free(out);
    ck_assert(is_closed(slow));
    out = recv_lines(fast, 1000000);
    for (char *p = out; *p != '\0'; p++)
        got += *p == '\n';
    free(out);
    ck_assert_uint_eq(got, 2000);
    close(slow);
    close(fast);
}
END_TEST

/* The event lines of `subscribe`: the bus's name and the payload's fields. */
START_TEST(test_event_lines)
{
    bus_category_t cat = { .name = "tv", .old_name = "series", .path = "/in/tv" };
    char *line = evstream_line(BUS_CAT_CHANGED, &cat);
    ck_assert_str_eq(line, "{\"event\":\"cat_changed\",\"data\":{\"name\":\"tv\","
                           "\"old_name\":\"series\",\"path\":\"/in/tv\"}}");
    free(line);
    bus_dl_info_t info = { .hex = "0123456789abcdef0123456789abcdef", .name = "a \"b\"",
                           .size = 5, .downloaded = 3 };
    bus_dl_state_ev_t st = { .info = &info, .from = BUS_DLS_ACTIVE, .to = BUS_DLS_PAUSED };
    line = evstream_line(BUS_DL_STATE, &st);
    ck_assert_str_eq(line, "{\"event\":\"dl_state\",\"data\":{\"hash\":"
                           "\"0123456789abcdef0123456789abcdef\",\"name\":\"a \\\"b\\\"\","
                           "\"size\":5,\"category\":null,\"downloaded\":3,\"uploaded\":0,"
                           "\"completed\":false,\"from\":\"active\",\"to\":\"paused\","
                           "\"error\":null}}");
    free(line);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("control");
    TCase *tc = tcase_create("server");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reply_and_errors);
    tcase_add_test(tc, test_fire_and_forget);
    tcase_add_test(tc, test_long_line);
    tcase_add_test(tc, test_long_reply);
    tcase_add_test(tc, test_client_limit);
    tcase_add_test(tc, test_idle_clients_make_room);
    tcase_add_test(tc, test_idle_timeout);
    tcase_add_test(tc, test_socket_file);
    tcase_add_test(tc, test_free_removes_socket);
    tcase_add_test(tc, test_subscribe);
    tcase_add_test(tc, test_slow_subscriber_dropped);
    tcase_add_test(tc, test_event_lines);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
