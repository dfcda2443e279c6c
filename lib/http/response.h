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

/* Sink for http_response_write: returns 0, or -1 to stop writing. */
typedef int (*http_write_fn)(void *ctx, const void *buf, size_t len);

/* http_response_write: emits the response as a CGI program's output:
 *   Status: 200 OK\r\n
 *   <headers in the order set>\r\n
 *   Content-Length: N\r\n
 *   \r\n
 *   <body>
 * A non-empty body without a Content-Type gets application/octet-stream
 * (RFC 3875 requires one). 204 and 304 answers carry neither body nor
 * Content-Length. Returns 0, or -1 if write_fn failed. */
int http_response_write(const http_response_t *resp, http_write_fn write_fn, void *ctx);

#endif
