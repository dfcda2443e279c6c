/* response.h: the answer a handler builds (status, headers, body) and its
 * serialisation in CGI form ("Status:" line, headers, blank line, body). */
#ifndef MT_HTTP_RESPONSE_H
#define MT_HTTP_RESPONSE_H

#include <stddef.h>

struct evbuffer;
struct json_object;

typedef struct http_response http_response_t;

/* http_response_new: an empty 200 response with no headers. Free with
 * http_response_free(), which accepts NULL. */
http_response_t *http_response_new(void);
void http_response_free(http_response_t *resp);
/* http_response_reset: back to the state http_response_new() returns
 * (keeps the HEAD flag). */
void http_response_reset(http_response_t *resp);

/* http_response_set_status: sets the status (200 to 599); the reason
 * phrase comes from a table. -1 for a code out of range. */
int http_response_set_status(http_response_t *resp, int code);
/* http_response_status: the status, 200 unless set. */
int http_response_status(const http_response_t *resp);
/* http_response_status_is_set: 1 once a status was set explicitly (the
 * server uses it to turn a failed handler into a 500). */
int http_response_status_is_set(const http_response_t *resp);
/* http_response_reason: the reason phrase for a code ("Not Found"). */
const char *http_response_reason(int code);

/* http_response_set_header: replaces every header of that name (case
 * insensitive) with one; http_response_add_header appends another
 * (Set-Cookie). Both copy their arguments and return -1, adding nothing,
 * when the name is not an HTTP token or the value holds CR, LF or another
 * control character but tab: a header can never inject a line. Status and
 * Content-Length are refused too; http_response_write() emits them. */
int http_response_set_header(http_response_t *resp, const char *name, const char *value);
int http_response_add_header(http_response_t *resp, const char *name, const char *value);
/* http_response_get_header: the first value of a header, or NULL. */
const char *http_response_get_header(const http_response_t *resp, const char *name);
/* http_response_remove_header: drops every header of that name. */
void http_response_remove_header(http_response_t *resp, const char *name);

/* http_response_body: the body buffer, to append to with evbuffer_add*()
 * or to inspect. Owned by the response. */
struct evbuffer *http_response_body(http_response_t *resp);
/* http_response_body_length: bytes in the body. */
size_t http_response_body_length(const http_response_t *resp);

/* http_response_text: status, Content-Type "text/plain; charset=UTF-8" and
 * the body replaced by text (NULL means empty). -1 for a bad status. */
int http_response_text(http_response_t *resp, int status, const char *text);
/* http_response_json: status, Content-Type "application/json" and the
 * body replaced by obj serialised compactly (no spaces, '/' not escaped;
 * NULL gives "null"). Does not take ownership of obj: the caller still
 * drops its reference. -1 for a bad status. */
int http_response_json(http_response_t *resp, int status, struct json_object *obj);
/* http_response_printf: appends formatted text to the body (status and
 * headers unchanged). */
int http_response_printf(http_response_t *resp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* http_response_set_head_only: for a HEAD request, http_response_write()
 * emits the headers (with the Content-Length the body would have) and no
 * body. The server sets it from the request method. */
void http_response_set_head_only(http_response_t *resp, int head_only);

/* A body made while it is being sent, for answers too large to hold (a
 * CSV export of a million rows): after the headers and whatever the body
 * buffer already holds, http_response_write calls fn again and again;
 * each call appends the next part to out (empty; written and emptied
 * before the next call) and returns HTTP_BODY_MORE, HTTP_BODY_DONE after
 * the last part, or HTTP_BODY_FAILED when the rest cannot be made (a
 * database error half-way). */
enum { HTTP_BODY_FAILED = -1, HTTP_BODY_DONE = 0, HTTP_BODY_MORE = 1 };
typedef int (*http_body_fn)(void *ctx, struct evbuffer *out);

/* http_response_stream: the rest of resp's body comes from fn(ctx), so
 * the answer goes out without a Content-Length (the web server then
 * sends it chunked, or closes the connection at its end). free_ctx (may
 * be NULL) runs on ctx exactly once: when the response is freed or
 * reset, or its body replaced (http_response_text, _json), whether or
 * not fn ran or finished. A HEAD answer never calls fn. Under FastCGI
 * a stream that fails is cut short (http_serve_one returns
 * HTTP_WRITE_CUT and the connection is closed without ending the
 * request), so the client can never take the part for the whole. */
void http_response_stream(http_response_t *resp, http_body_fn fn, void *ctx,
                          void (*free_ctx)(void *ctx));

/* Sink for http_response_write: returns 0, or -1 to stop writing. */
typedef int (*http_write_fn)(void *ctx, const void *buf, size_t len);

/* What http_response_write returns when a streamed body failed after
 * the headers had gone out (http_response_stream). */
#define HTTP_WRITE_CUT (-2)

/* http_response_write: emits the response as a CGI program's output:
 *   Status: 200 OK\r\n
 *   <headers in the order set>\r\n
 *   Content-Length: N\r\n
 *   \r\n
 *   <body>
 * A non-empty body without a Content-Type gets application/octet-stream
 * (RFC 3875 requires one). 204 and 304 answers carry neither body nor
 * Content-Length; a streamed body (http_response_stream) has no
 * Content-Length either. Returns 0, -1 if write_fn failed, or
 * HTTP_WRITE_CUT when the stream's function failed. */
int http_response_write(const http_response_t *resp, http_write_fn write_fn, void *ctx);

#endif
