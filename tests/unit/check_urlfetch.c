/* check_urlfetch.c: unit tests for daemon/net/urlfetch.c against a small
 * HTTP server on loopback (a thread answering canned replies by path): a
 * body fetched, a 404, a body over the bound, a redirect followed and one
 * to another scheme refused, a URL that is not http(s), and the body handed
 * back on the loop thread by urlfetch_start. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/core/worker.h"
#include "daemon/net/urlfetch.h"
#include "util/xalloc.h"

static int lfd = -1;
static uint16_t port;
static pthread_t server;

/* reply: the canned answer to a request line's path. */
static char *
reply(const char *path)
{
    if (strcmp(path, "/ok") == 0)
        return xstrdup("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    if (strcmp(path, "/big") == 0) {
        char *r = xmalloc(64 + 2000 + 1);
        int n = snprintf(r, 64, "HTTP/1.0 200 OK\r\nContent-Length: 2000\r\n\r\n");
        memset(r + n, 'x', 2000);
        r[n + 2000] = '\0';
        return r;
    }
    if (strcmp(path, "/redir") == 0)
        return xasprintf("HTTP/1.0 302 Found\r\nLocation: http://127.0.0.1:%u/ok\r\n"
                         "Content-Length: 0\r\n\r\n", port);
    if (strcmp(path, "/redir-ftp") == 0)
        return xstrdup("HTTP/1.0 302 Found\r\nLocation: ftp://127.0.0.1/x\r\n"
                       "Content-Length: 0\r\n\r\n");
    return xstrdup("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

static void *
serve(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0)
            return NULL; /* the socket was shut down */
        char req[2048];
        size_t n = 0;
        ssize_t r;
        while (n < sizeof req - 1 && (r = read(c, req + n, sizeof req - 1 - n)) > 0) {
            n += (size_t)r;
            req[n] = '\0';
            if (strstr(req, "\r\n\r\n") != NULL)
                break;
        }
        req[n] = '\0';
        char path[256] = "";
        sscanf(req, "GET %255s", path);
        char *out = reply(path);
        ssize_t w = write(c, out, strlen(out));
        (void)w;
        free(out);
        close(c);
    }
}

static void
setup(void)
{
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(lfd, 8), 0);
    socklen_t len = sizeof a;
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&server, NULL, serve, NULL), 0);
}

static void
teardown(void)
{
    shutdown(lfd, SHUT_RDWR);
    pthread_join(server, NULL);
    close(lfd);
    lfd = -1;
}

static const urlfetch_limits_t lim = { .max_bytes = 1000, .timeout_s = 10 };

/* get: urlfetch_get of path on the server; the body (a string, caller
 * frees) or NULL with *err. */
static char *
get(const char *path, mt_error_t **err)
{
    char *url = xasprintf("http://127.0.0.1:%u%s", port, path);
    struct evbuffer *b = evbuffer_new();
    int rc = urlfetch_get(url, &lim, b, err);
    char *body = NULL;
    if (rc == 0) {
        size_t n = evbuffer_get_length(b);
        body = xmalloc(n + 1);
        evbuffer_remove(b, body, n);
        body[n] = '\0';
    }
    evbuffer_free(b);
    free(url);
    return body;
}

START_TEST(test_is_url)
{
    ck_assert(urlfetch_is_url("http://x"));
    ck_assert(urlfetch_is_url("HTTPS://x"));
    ck_assert(!urlfetch_is_url("ftp://x"));
    ck_assert(!urlfetch_is_url("/etc/passwd"));
    ck_assert(!urlfetch_is_url("file:///etc/passwd"));
    ck_assert(!urlfetch_is_url(NULL));
}
END_TEST

START_TEST(test_get)
{
    mt_error_t *err = NULL;
    char *body = get("/ok", &err);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(body, "hello");
    free(body);
    body = get("/redir", &err);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(body, "hello");
    free(body);
}
END_TEST

START_TEST(test_errors)
{
    mt_error_t *err = NULL;
    ck_assert_ptr_null(get("/missing", &err));
    ck_assert_int_eq(err->code, MT_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err->message, "/missing: HTTP status 404"));
    mt_error_clear(&err);

    ck_assert_ptr_null(get("/big", &err));
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(err->message, "/big: the file is too big (over 1000 bytes)"));
    mt_error_clear(&err);

    ck_assert_ptr_null(get("/redir-ftp", &err));
    ck_assert_int_eq(err->code, MT_ERR_IO);
    ck_assert_msg(strstr(err->message, "cannot fetch http://127.0.0.1:") != NULL &&
                  strstr(err->message, "\"ftp\"") != NULL, "%s", err->message);
    mt_error_clear(&err);

    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(urlfetch_get("ftp://127.0.0.1/x", &lim, b, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    evbuffer_free(b);
}
END_TEST

/* ---- urlfetch_start: the body on the loop thread ---- */

typedef struct seen {
    int calls;
    bool cancelled;
    char body[64];
    char error[256];
    pthread_t thread;
} seen_t;

static void
done(void *ctx, struct evbuffer *body, const mt_error_t *err, bool cancelled)
{
    seen_t *s = ctx;
    s->calls++;
    s->cancelled = cancelled;
    s->thread = pthread_self();
    if (body != NULL) {
        size_t n = evbuffer_get_length(body);
        if (n >= sizeof s->body)
            n = sizeof s->body - 1;
        evbuffer_remove(body, s->body, n);
        s->body[n] = '\0';
    }
    if (err != NULL)
        snprintf(s->error, sizeof s->error, "%s", err->message);
}

START_TEST(test_start)
{
    evthread_use_pthreads();
    struct event_base *base = event_base_new();
    worker_pool_t *pool = worker_pool_new(base, 1);
    seen_t ok = { 0 }, missing = { 0 };
    char *url = xasprintf("http://127.0.0.1:%u/ok", port);
    char *url404 = xasprintf("http://127.0.0.1:%u/missing", port);
    ck_assert_int_eq(urlfetch_start(pool, url, &lim, done, &ok, NULL), 0);
    ck_assert_int_eq(urlfetch_start(pool, url404, &lim, done, &missing, NULL), 0);
    mt_error_t *err = NULL;
    ck_assert_int_eq(urlfetch_start(pool, "ftp://x/y", &lim, done, &ok, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_free(err);
    ck_assert_uint_eq(worker_pool_drain(pool, 10000), 0);
    ck_assert_int_eq(ok.calls, 1);
    ck_assert(!ok.cancelled);
    ck_assert_str_eq(ok.body, "hello");
    ck_assert_str_eq(ok.error, "");
    ck_assert(pthread_equal(ok.thread, pthread_self()));
    ck_assert_int_eq(missing.calls, 1);
    ck_assert_str_eq(missing.body, "");
    ck_assert_ptr_nonnull(strstr(missing.error, "HTTP status 404"));
    worker_pool_free(pool);
    event_base_free(base);
    free(url);
    free(url404);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("urlfetch");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_is_url);
    tcase_add_test(tc, test_get);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_start);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
