/* response.c: status, validated headers and an evbuffer body, written out
 * as CGI output for the web server to turn into an HTTP/1.1 answer. */
#include "config.h"

#include "http/response.h"
#include "util/xalloc.h"

#include <event2/buffer.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *name;
    char *value;
} header_t;

struct http_response {
    int status;
    int status_set;
    int head_only;
    header_t *headers;
    size_t n_headers, cap_headers;
    struct evbuffer *body;
    /* a streamed body's rest (http_response_stream); NULL otherwise */
    http_body_fn stream;
    void *stream_ctx;
    void (*stream_free)(void *ctx);
};

static const struct {
    int code;
    const char *reason;
} reasons[] = {
    { 200, "OK" },
    { 201, "Created" },
    { 202, "Accepted" },
    { 203, "Non-Authoritative Information" },
    { 204, "No Content" },
    { 205, "Reset Content" },
    { 206, "Partial Content" },
    { 300, "Multiple Choices" },
    { 301, "Moved Permanently" },
    { 302, "Found" },
    { 303, "See Other" },
    { 304, "Not Modified" },
    { 307, "Temporary Redirect" },
    { 308, "Permanent Redirect" },
    { 400, "Bad Request" },
    { 401, "Unauthorized" },
    { 402, "Payment Required" },
    { 403, "Forbidden" },
    { 404, "Not Found" },
    { 405, "Method Not Allowed" },
    { 406, "Not Acceptable" },
    { 408, "Request Timeout" },
    { 409, "Conflict" },
    { 410, "Gone" },
    { 411, "Length Required" },
    { 412, "Precondition Failed" },
    { 413, "Content Too Large" },
    { 414, "URI Too Long" },
    { 415, "Unsupported Media Type" },
    { 416, "Range Not Satisfiable" },
    { 417, "Expectation Failed" },
    { 421, "Misdirected Request" },
    { 422, "Unprocessable Content" },
    { 425, "Too Early" },
    { 426, "Upgrade Required" },
    { 428, "Precondition Required" },
    { 429, "Too Many Requests" },
    { 431, "Request Header Fields Too Large" },
    { 451, "Unavailable For Legal Reasons" },
    { 500, "Internal Server Error" },
    { 501, "Not Implemented" },
    { 502, "Bad Gateway" },
    { 503, "Service Unavailable" },
    { 504, "Gateway Timeout" },
    { 505, "HTTP Version Not Supported" },
};

const char *
http_response_reason(int code)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == code)
            return reasons[i].reason;
    /* RFC 9110 section 15: an unknown code is read as the x00 of its
     * class; its phrase is only informative. */
    switch (code / 100) {
    case 2:
        return "Success";
    case 3:
        return "Redirection";
    case 4:
        return "Client Error";
    default:
        return "Server Error";
    }
}

/* drop_stream: forgets the streamed body's function, freeing its ctx. */
static void
drop_stream(http_response_t *resp)
{
    if (resp->stream_free != NULL)
        resp->stream_free(resp->stream_ctx);
    resp->stream = NULL;
    resp->stream_ctx = NULL;
    resp->stream_free = NULL;
}

http_response_t *
http_response_new(void)
{
    http_response_t *resp = xcalloc(1, sizeof *resp);
    resp->status = 200;
    resp->body = evbuffer_new();
    if (resp->body == NULL)
        abort(); /* evbuffer_new fails only when malloc does */
    return resp;
}

static void
clear_headers(http_response_t *resp)
{
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    resp->n_headers = 0;
}

void
http_response_free(http_response_t *resp)
{
    if (resp == NULL)
        return;
    clear_headers(resp);
    free(resp->headers);
    drop_stream(resp);
    evbuffer_free(resp->body);
    free(resp);
}

static void
clear_body(http_response_t *resp)
{
    evbuffer_drain(resp->body, evbuffer_get_length(resp->body));
    drop_stream(resp);
}

void
http_response_stream(http_response_t *resp, http_body_fn fn, void *ctx,
                     void (*free_ctx)(void *ctx))
{
    drop_stream(resp);
    resp->stream = fn;
    resp->stream_ctx = ctx;
    resp->stream_free = free_ctx;
}

void
http_response_reset(http_response_t *resp)
{
    if (resp == NULL)
        return;
    clear_headers(resp);
    clear_body(resp);
    resp->status = 200;
    resp->status_set = 0;
}

int
http_response_set_status(http_response_t *resp, int code)
{
    if (resp == NULL || code < 200 || code > 599)
        return -1;
    resp->status = code;
    resp->status_set = 1;
    return 0;
}

int
http_response_status(const http_response_t *resp)
{
    return resp ? resp->status : 0;
}

int
http_response_status_is_set(const http_response_t *resp)
{
    return resp ? resp->status_set : 0;
}

static int
valid_name(const char *name)
{
    if (name == NULL || *name == '\0')
        return 0;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        if ((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))
            continue;
        if (strchr("!#$%&'*+-.^_`|~", *c) == NULL)
            return 0;
    }
    /* The server writes these itself. */
    return strcasecmp(name, "Status") != 0 && strcasecmp(name, "Content-Length") != 0;
}

static int
valid_value(const char *value)
{
    if (value == NULL)
        return 0;
    for (const unsigned char *c = (const unsigned char *)value; *c; c++)
        if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
            return 0;
    return 1;
}

int
http_response_add_header(http_response_t *resp, const char *name, const char *value)
{
    if (resp == NULL || !valid_name(name) || !valid_value(value))
        return -1;
    if (resp->n_headers == resp->cap_headers) {
        resp->cap_headers = resp->cap_headers ? resp->cap_headers * 2 : 8;
        resp->headers = xreallocarray(resp->headers, resp->cap_headers, sizeof *resp->headers);
    }
    resp->headers[resp->n_headers].name = xstrdup(name);
    resp->headers[resp->n_headers].value = xstrdup(value);
    resp->n_headers++;
    return 0;
}

void
http_response_remove_header(http_response_t *resp, const char *name)
{
    if (resp == NULL || name == NULL)
        return;
    size_t o = 0;
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0) {
            free(resp->headers[i].name);
            free(resp->headers[i].value);
        } else {
            resp->headers[o++] = resp->headers[i];
        }
    }
    resp->n_headers = o;
}

int
http_response_set_header(http_response_t *resp, const char *name, const char *value)
{
    if (resp == NULL || !valid_name(name) || !valid_value(value))
        return -1;
    /* Replace the first in place so the header keeps its position (with
     * the caller's spelling of the name). */
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0) {
            char *n = xstrdup(name), *v = xstrdup(value);
            free(resp->headers[i].name);
            free(resp->headers[i].value);
            resp->headers[i].name = n;
            resp->headers[i].value = v;
            size_t o = i + 1;
            for (size_t j = i + 1; j < resp->n_headers; j++) {
                if (strcasecmp(resp->headers[j].name, name) == 0) {
                    free(resp->headers[j].name);
                    free(resp->headers[j].value);
                } else {
                    resp->headers[o++] = resp->headers[j];
                }
            }
            resp->n_headers = o;
            return 0;
        }
    }
    return http_response_add_header(resp, name, value);
}

const char *
http_response_get_header(const http_response_t *resp, const char *name)
{
    if (resp == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < resp->n_headers; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

struct evbuffer *
http_response_body(http_response_t *resp)
{
    return resp ? resp->body : NULL;
}

size_t
http_response_body_length(const http_response_t *resp)
{
    return resp ? evbuffer_get_length(resp->body) : 0;
}

int
http_response_text(http_response_t *resp, int status, const char *text)
{
    if (http_response_set_status(resp, status) < 0)
        return -1;
    http_response_set_header(resp, "Content-Type", "text/plain; charset=UTF-8");
    clear_body(resp);
    if (text != NULL && evbuffer_add(resp->body, text, strlen(text)) != 0)
        abort();
    return 0;
}

int
http_response_json(http_response_t *resp, int status, struct json_object *obj)
{
    if (http_response_set_status(resp, status) < 0)
        return -1;
    http_response_set_header(resp, "Content-Type", "application/json");
    clear_body(resp);
    size_t len;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (s == NULL)
        abort(); /* json-c returns NULL only when out of memory */
    if (evbuffer_add(resp->body, s, len) != 0)
        abort();
    return 0;
}

int
http_response_printf(http_response_t *resp, const char *fmt, ...)
{
    if (resp == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = evbuffer_add_vprintf(resp->body, fmt, ap);
    va_end(ap);
    return n < 0 ? -1 : 0;
}

void
http_response_set_head_only(http_response_t *resp, int head_only)
{
    if (resp != NULL)
        resp->head_only = head_only != 0;
}

/* write_buffer: b's bytes, chunk by chunk, without linearising it. 0 or
 * -1 when write_fn failed. */
static int
write_buffer(struct evbuffer *b, http_write_fn write_fn, void *ctx)
{
    int n = evbuffer_peek(b, -1, NULL, NULL, 0);
    if (n <= 0)
        return 0;
    struct evbuffer_iovec *v = xcalloc((size_t)n, sizeof *v);
    evbuffer_peek(b, -1, NULL, v, n);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        if (v[i].iov_len > 0)
            rc = write_fn(ctx, v[i].iov_base, v[i].iov_len);
    free(v);
    return rc != 0 ? -1 : 0;
}

/* write_stream: the streamed body's parts as its function makes them;
 * 0, -1 when write_fn failed, HTTP_WRITE_CUT when the function did. */
static int
write_stream(const http_response_t *resp, http_write_fn write_fn, void *ctx)
{
    struct evbuffer *part = evbuffer_new();
    if (part == NULL)
        abort();
    int rc;
    for (;;) {
        int more = resp->stream(resp->stream_ctx, part);
        if (more == HTTP_BODY_FAILED) {
            rc = HTTP_WRITE_CUT;
            break;
        }
        if (write_buffer(part, write_fn, ctx) != 0) {
            rc = -1;
            break;
        }
        evbuffer_drain(part, evbuffer_get_length(part));
        if (more == HTTP_BODY_DONE) {
            rc = 0;
            break;
        }
    }
    evbuffer_free(part);
    return rc;
}

int
http_response_write(const http_response_t *resp, http_write_fn write_fn, void *ctx)
{
    if (resp == NULL || write_fn == NULL)
        return -1;
    struct evbuffer *h = evbuffer_new();
    if (h == NULL)
        abort();
    int no_body = resp->status == 204 || resp->status == 304;
    size_t body_len = evbuffer_get_length(resp->body);
    evbuffer_add_printf(h, "Status: %d %s\r\n", resp->status, http_response_reason(resp->status));
    int has_ctype = 0;
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->headers[i].name, "Content-Type") == 0)
            has_ctype = 1;
        evbuffer_add_printf(h, "%s: %s\r\n", resp->headers[i].name, resp->headers[i].value);
    }
    bool streamed = !no_body && resp->stream != NULL;
    if (!no_body) {
        if (!has_ctype && (body_len > 0 || streamed))
            evbuffer_add_printf(h, "Content-Type: application/octet-stream\r\n");
        if (!streamed)
            evbuffer_add_printf(h, "Content-Length: %zu\r\n", body_len);
    }
    evbuffer_add(h, "\r\n", 2);
    size_t hlen = evbuffer_get_length(h);
    int rc = write_fn(ctx, evbuffer_pullup(h, -1), hlen);
    evbuffer_free(h);
    if (rc != 0)
        return -1;
    if (no_body || resp->head_only)
        return 0;
    if (write_buffer(resp->body, write_fn, ctx) != 0)
        return -1;
    return streamed ? write_stream(resp, write_fn, ctx) : 0;
}
