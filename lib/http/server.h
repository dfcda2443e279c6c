/* server.h: the serving loop every FastCGI program runs: accept a request,
 * read its body within limits, dispatch, write the answer, free it all.
 *
 * A program is a route table plus main() { return http_serve(&app); }.
 * Under a FastCGI server (lighttpd's bin-path, spawn-fcgi for nginx,
 * mod_fcgid for Apache; fd 0 is then the listening socket) it serves one
 * request at a time until the server stops it; run any other way it is a
 * plain CGI program answering the one request in its environment. */
#ifndef MT_HTTP_SERVER_H
#define MT_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "util/error.h"

typedef struct {
    const char *name;              /* for logs */
    const http_router_t *router;
    http_limits_t limits;          /* zero fields take the defaults */
    void *ctx;                     /* passed to every handler and hook */
    /* Optional: turns a parse error (MT_ERR_INVALID or MT_ERR_TOO_LARGE,
     * the message saying what was wrong) into a response in the program's
     * own format. Default, or when it leaves the status unset: 400 or 413
     * text/plain with the message. */
    void (*on_bad_request)(http_response_t *resp, const mt_error_t *err, void *ctx);
    /* Optional: runs once after every request, when its answer has been
     * written (or writing it failed), whatever the answer was: a
     * handler's, a failed handler's 500, a refused request's 400 or 413,
     * a hook's. The one place where a program frees what it kept for the
     * request (a daemon connection, the caller's name), so that no
     * handler has to. Run by http_serve_one, so by http_serve under
     * FastCGI and as plain CGI; not by http_handle. */
    void (*on_request_end)(void *ctx);
} http_app_t;

/* http_observe: fn runs after every request http_serve_one serves (so
 * under FastCGI and as plain CGI), once its answer is written, with the
 * answer's status and the microseconds from the start of reading the
 * request's body to the end of writing the answer: how a program counts
 * its own requests (cgi-bin/common/cgistats.h). One observer per process;
 * NULL removes it. */
typedef void (*http_observer_fn)(void *ctx, int status, uint64_t usec);
void http_observe(http_observer_fn fn, void *ctx);

/* http_serve: runs the program; returns the process exit status. SIGPIPE
 * is ignored (a client that went away is only a failed write). Under
 * FastCGI, SIGTERM or SIGINT ends the loop after the current request (at
 * once when idle). */
int http_serve(const http_app_t *app);

/* http_handle: one request whose body is already in memory: parses it,
 * dispatches it, and leaves the answer in resp (a parse error becomes the
 * bad-request answer). Returns 0, or -1 when the handler failed (resp is
 * then its answer or a 500). For tests and for http_serve_one. */
int http_handle(const http_app_t *app, char *const *envp, const uint8_t *body, size_t body_len,
                http_response_t *resp);

/* Source of body bytes for http_serve_one: returns the count read, 0 at
 * the end of the body, -1 on error. */
typedef ssize_t (*http_read_fn)(void *ctx, void *buf, size_t len);

/* http_serve_one: one request from a stream, as http_serve does it:
 * CONTENT_LENGTH is checked before anything is read (invalid: 400; over
 * limits.max_body: 413), exactly that many bytes are read (fewer: 400),
 * the request is handled and the answer written with write_fn. framed
 * says the body stream has its own end (FastCGI's stdin records): a body
 * there without CONTENT_LENGTH is a 400, and unread body bytes are
 * drained (up to 16 MiB) after the answer so the server's writes never
 * fail. A plain CGI stdin (framed = 0) is read only as far as
 * CONTENT_LENGTH. app->on_request_end runs after the answer is written,
 * before any draining. Returns 0, -1 when writing the answer failed, or
 * HTTP_WRITE_CUT when a streamed body (http_response_stream) failed
 * half-way: http_serve then closes the FastCGI connection without ending
 * the request (the server cuts the client's answer short), and as plain
 * CGI exits with status 1. */
int http_serve_one(const http_app_t *app, char *const *envp, http_read_fn read_fn, void *read_ctx,
                   int framed, http_write_fn write_fn, void *write_ctx);

#endif
