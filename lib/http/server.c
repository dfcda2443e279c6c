/* server.c: the FastCGI accept loop (libfcgi, one request at a time) and
 * its plain-CGI fallback, with body limits enforced before reading. */
#include "config.h"

#include "http/server.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcgiapp.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Body bytes read and thrown away after answering, so that a server still
 * sending a refused body does not see its writes fail before it reads the
 * answer. Past this the connection is simply closed. */
#define DRAIN_MAX ((size_t)16 * 1024 * 1024)
#define DRAIN_UNTIL_EOF SIZE_MAX

static const char *
env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    if (envp == NULL)
        return NULL;
    for (size_t i = 0; envp[i] != NULL; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

static const char *
app_name(const http_app_t *app)
{
    return app->name ? app->name : "http";
}

static void
bad_request(const http_app_t *app, http_response_t *resp, const mt_error_t *err)
{
    http_response_reset(resp);
    if (app->on_bad_request != NULL)
        app->on_bad_request(resp, err, app->ctx);
    if (!http_response_status_is_set(resp)) {
        int status = err->code == MT_ERR_TOO_LARGE ? 413 : 400;
        http_response_text(resp, status, err->message);
    }
}

int
http_handle(const http_app_t *app, char *const *envp, const uint8_t *body, size_t body_len,
            http_response_t *resp)
{
    const char *method = env_get(envp, "REQUEST_METHOD");
    http_response_set_head_only(resp, method != NULL && strcmp(method, "HEAD") == 0);
    mt_error_t *err = NULL;
    http_request_t *req = http_request_new(envp, body, body_len, &app->limits, &err);
    if (req == NULL) {
        if (err == NULL)
            mt_error_set(&err, MT_ERR_INVALID, "bad request");
        log_info("%s: bad request: %s", app_name(app), err->message);
        bad_request(app, resp, err);
        mt_error_free(err);
        return 0;
    }
    int rc = http_router_dispatch(app->router, req, resp, app->ctx);
    if (rc < 0)
        log_error("%s: %s %s: handler failed, answered %d", app_name(app),
                  http_request_method(req), http_request_path(req), http_response_status(resp));
    else
        log_debug("%s: %s %s: %d", app_name(app), http_request_method(req),
                  http_request_path(req), http_response_status(resp));
    http_request_free(req);
    return rc < 0 ? -1 : 0;
}

/* parse_content_length: 1 and *len for a valid CONTENT_LENGTH, 0 when
 * absent or empty (nginx passes an empty one without a body), -1 when it
 * is not a plain decimal number. */
static int
parse_content_length(const char *s, unsigned long long *len)
{
    if (s == NULL || *s == '\0')
        return 0;
    unsigned long long v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        if (v > (ULLONG_MAX - 9) / 10)
            return -1;
        v = v * 10 + (unsigned long long)(*c - '0');
    }
    *len = v;
    return 1;
}

/* read_full: reads up to len bytes; returns how many arrived. */
static size_t
read_full(http_read_fn read_fn, void *ctx, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read_fn(ctx, buf + got, len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

static void
drain(http_read_fn read_fn, void *ctx, size_t amount)
{
    uint8_t buf[8192];
    size_t left = amount < DRAIN_MAX ? amount : DRAIN_MAX;
    while (left > 0) {
        ssize_t n = read_fn(ctx, buf, left < sizeof buf ? left : sizeof buf);
        if (n <= 0)
            break;
        left -= (size_t)n;
    }
}

/* read_body: reads the body announced by CONTENT_LENGTH. On failure sets
 * err; *to_drain says how much may be left unread in the stream. */
static int
read_body(char *const *envp, size_t max_body, http_read_fn read_fn, void *ctx, int framed,
          uint8_t **body, size_t *body_len, size_t *to_drain, mt_error_t **err)
{
    unsigned long long cl = 0;
    const char *cls = env_get(envp, "CONTENT_LENGTH");
    int have = parse_content_length(cls, &cl);
    *body = NULL;
    *body_len = 0;
    *to_drain = framed ? DRAIN_UNTIL_EOF : 0;
    if (have < 0) {
        mt_error_set(err, MT_ERR_INVALID, "invalid CONTENT_LENGTH");
        return -1;
    }
    if (have == 0) {
        if (framed) {
            uint8_t probe;
            if (read_fn(ctx, &probe, 1) > 0) {
                mt_error_set(err, MT_ERR_INVALID, "request body without CONTENT_LENGTH");
                return -1;
            }
        }
        return 0;
    }
    if (cl > max_body) {
        if (!framed)
            *to_drain = cl > SIZE_MAX ? SIZE_MAX : (size_t)cl;
        mt_error_set(err, MT_ERR_TOO_LARGE, "request body too large (%llu bytes, limit %zu)", cl,
                     max_body);
        return -1;
    }
    size_t want = (size_t)cl;
    uint8_t *buf = xmalloc(want + 1);
    size_t got = read_full(read_fn, ctx, buf, want);
    if (got < want) {
        free(buf);
        mt_error_set(err, MT_ERR_INVALID,
                     "request body shorter than CONTENT_LENGTH (%zu of %zu bytes)", got, want);
        return -1;
    }
    *body = buf;
    *body_len = want;
    return 0;
}

static size_t
effective_max_body(const http_app_t *app)
{
    return app->limits.max_body ? app->limits.max_body : http_limits_default().max_body;
}

static http_observer_fn observer;
static void *observer_ctx;

void
http_observe(http_observer_fn fn, void *ctx)
{
    observer = fn;
    observer_ctx = ctx;
}

static uint64_t
now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int
http_serve_one(const http_app_t *app, char *const *envp, http_read_fn read_fn, void *read_ctx,
               int framed, http_write_fn write_fn, void *write_ctx)
{
    uint64_t started = observer != NULL ? now_usec() : 0;
    http_response_t *resp = http_response_new();
    uint8_t *body;
    size_t body_len, to_drain;
    mt_error_t *err = NULL;
    if (read_body(envp, effective_max_body(app), read_fn, read_ctx, framed, &body, &body_len,
                  &to_drain, &err) == 0) {
        http_handle(app, envp, body, body_len, resp);
    } else {
        const char *method = env_get(envp, "REQUEST_METHOD");
        log_info("%s: bad request: %s", app_name(app), err->message);
        bad_request(app, resp, err);
        http_response_set_head_only(resp, method != NULL && strcmp(method, "HEAD") == 0);
        mt_error_free(err);
    }
    int rc = http_response_write(resp, write_fn, write_ctx);
    if (rc == HTTP_WRITE_CUT)
        log_warn("%s: the streamed answer failed half-way; cutting it short", app_name(app));
    else if (rc < 0)
        log_debug("%s: could not write the answer (client gone?)", app_name(app));
    if (observer != NULL)
        observer(observer_ctx, http_response_status(resp), now_usec() - started);
    if (app->on_request_end != NULL)
        app->on_request_end(app->ctx);
    if (to_drain > 0)
        drain(read_fn, read_ctx, to_drain);
    free(body);
    http_response_free(resp);
    return rc;
}

/* ---- plain CGI: environ, stdin, stdout ---- */

static ssize_t
cgi_read(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, len);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

static int
cgi_write(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- FastCGI ---- */

static ssize_t
fcgi_read(void *ctx, void *buf, size_t len)
{
    FCGX_Stream *in = ctx;
    int n = FCGX_GetStr(buf, len > INT_MAX ? INT_MAX : (int)len, in);
    if (n == 0 && FCGX_GetError(in) != 0)
        return -1;
    return n;
}

static int
fcgi_write(void *ctx, const void *buf, size_t len)
{
    FCGX_Stream *out = ctx;
    const char *p = buf;
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        if (FCGX_PutStr(p, chunk, out) != chunk)
            return -1;
        p += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

/* abort_request: a streamed answer failed half-way (HTTP_WRITE_CUT):
 * the connection to the web server is shut down before FCGX_Finish_r can
 * send FCGI_END_REQUEST. The server sees its backend die mid-answer:
 * lighttpd and nginx then close the client's connection without the
 * final chunk (or answer 502 when nothing was sent yet), so no client
 * takes the part for the whole. FCGX_Finish_r's writes fail (SIGPIPE is
 * ignored) and it closes the socket. */
static void
abort_request(FCGX_Request *r)
{
    shutdown(r->ipcFd, SHUT_RDWR);
}

static volatile sig_atomic_t serving_request;
static volatile sig_atomic_t stop_requested;

static void
on_stop_signal(int sig)
{
    (void)sig;
    if (!serving_request)
        _exit(0);
    stop_requested = 1;
}

int
http_serve(const http_app_t *app)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    if (FCGX_Init() != 0) {
        log_error("%s: cannot initialise libfcgi", app_name(app));
        return 1;
    }
    if (FCGX_IsCGI()) {
        extern char **environ;
        /* A CGI program's output ends where it exits: a stream cut short
         * cannot be told from a whole one, but the exit status says it. */
        int rc = http_serve_one(app, environ, cgi_read, NULL, 0, cgi_write, NULL);
        return rc == HTTP_WRITE_CUT ? 1 : 0;
    }

    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    FCGX_Request r;
    if (FCGX_InitRequest(&r, 0, 0) != 0) {
        log_error("%s: cannot initialise a FastCGI request", app_name(app));
        return 1;
    }
    int status = 0;
    while (!stop_requested) {
        if (FCGX_Accept_r(&r) < 0) {
            if (!stop_requested) {
                log_error("%s: FastCGI accept failed", app_name(app));
                status = 1;
            }
            break;
        }
        serving_request = 1;
        /* r.envp and the streams belong to libfcgi and die with
         * FCGX_Finish_r; the request copies what it keeps. */
        int rc = http_serve_one(app, r.envp, fcgi_read, r.in, 1, fcgi_write, r.out);
        if (rc == HTTP_WRITE_CUT)
            abort_request(&r);
        FCGX_Finish_r(&r);
        serving_request = 0;
    }
    FCGX_Free(&r, 1);
    return status;
}
