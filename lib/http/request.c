/* request.c: builds an http_request_t from CGI variables and the body:
 * strict percent-decoding, url-encoded and multipart forms, cookies, auth.
 * All strings live in a per-request arena freed in one go. */
#include "config.h"

#include "http/request.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_BODY (8u * 1024 * 1024)
#define DEFAULT_MAX_PARAMS 1000
#define DEFAULT_MAX_NAME_LEN 256
#define DEFAULT_MAX_COOKIE_BYTES 8192
#define DEFAULT_MAX_PARTS 100
#define DEFAULT_MAX_PART_HEADER 8192

/* Longest multipart boundary allowed by RFC 2046 section 5.1.1. */
#define MAX_BOUNDARY 70
/* Longest header name http_request_header() maps to a variable. */
#define MAX_HEADER_NAME 128

#define ARENA_CHUNK 8192

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
} arena_chunk_t;

typedef struct {
    const char *name;
    const char *value;
} kv_t;

typedef struct {
    http_param_t *v;
    size_t n, cap;
} pvec_t;

struct http_request {
    arena_chunk_t *arena;
    http_limits_t limits;

    kv_t *env;
    size_t n_env;

    const char *method;
    const char *path;
    const char *remote_addr;
    const char *media_type;

    uint8_t *body;
    size_t body_len;

    /* Form parameters first, then query parameters: [0, n_form) is the
     * form, [n_form, n_params) the query, the whole array HTTP_SRC_ANY. */
    http_param_t *params;
    size_t n_params, n_form;
    size_t n_counted; /* parameters seen so far, for max_params */

    kv_t *cookies;
    size_t n_cookies;

    const char *basic_user, *basic_pass;
    const char *bearer;

    kv_t *path_params;
    size_t n_path_params, cap_path_params;
};

http_limits_t
http_limits_default(void)
{
    http_limits_t l = {
        .max_body = DEFAULT_MAX_BODY,
        .max_params = DEFAULT_MAX_PARAMS,
        .max_name_len = DEFAULT_MAX_NAME_LEN,
        .max_cookie_bytes = DEFAULT_MAX_COOKIE_BYTES,
        .max_parts = DEFAULT_MAX_PARTS,
        .max_part_header = DEFAULT_MAX_PART_HEADER,
    };
    return l;
}

/* ---- arena ---- */

static char *
arena_alloc(http_request_t *req, size_t n)
{
    arena_chunk_t *c = req->arena;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
        arena_chunk_t *nc = xmalloc(sizeof *nc + cap);
        nc->used = 0;
        nc->cap = cap;
        if (c != NULL && cap != ARENA_CHUNK) {
            /* A large block: keep filling the current small chunk. */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            req->arena = nc;
        }
        nc->used = n;
        return nc->data;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

static char *
arena_strndup(http_request_t *req, const char *s, size_t n)
{
    char *p = arena_alloc(req, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- character classes and small helpers ---- */

static int
is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static const char *
skip_ows(const char *p, const char *end)
{
    while (p < end && is_ows(*p))
        p++;
    return p;
}

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* quote_for_msg: a printable, bounded copy of untrusted bytes for an error
 * message (which may reach an HTTP body). */
static const char *
quote_for_msg(char *out, size_t outsz, const char *s, size_t n)
{
    size_t o = 0;
    const size_t max = outsz - 4; /* room for "..." and NUL */
    for (size_t i = 0; i < n; i++) {
        if (o >= max) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    out[o] = '\0';
    return out;
}

#define MSG_NAME_BUF 72

enum { DECODE_OK = 0, DECODE_BAD_ESCAPE = -1, DECODE_NUL = -2 };

/* pct_decode: strict percent-decoding of s[0..n) into out (room for n + 1
 * bytes): '%' must be followed by two hex digits, %00 and raw NUL bytes
 * are refused, '+' becomes a space when plus_is_space. */
static int
pct_decode(const char *s, size_t n, int plus_is_space, char *out, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return DECODE_BAD_ESCAPE;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return DECODE_BAD_ESCAPE;
            c = (unsigned char)(hi << 4 | lo);
            if (c == 0)
                return DECODE_NUL;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '\0') {
            return DECODE_NUL;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    *outlen = o;
    return DECODE_OK;
}

/* ---- environment ---- */

static void
copy_env(http_request_t *req, char *const *envp)
{
    size_t n = 0;
    if (envp != NULL)
        while (envp[n] != NULL)
            n++;
    req->env = xcalloc(n ? n : 1, sizeof *req->env);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(envp[i], '=');
        if (eq == NULL || eq == envp[i])
            continue;
        kv_t *kv = &req->env[req->n_env++];
        kv->name = arena_strndup(req, envp[i], (size_t)(eq - envp[i]));
        size_t vlen = strlen(eq + 1);
        kv->value = arena_strndup(req, eq + 1, vlen);
    }
}

const char *
http_request_env(const http_request_t *req, const char *name)
{
    if (req == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < req->n_env; i++)
        if (strcmp(req->env[i].name, name) == 0)
            return req->env[i].value;
    return NULL;
}

/* ---- parameters ---- */

static void
pvec_push(pvec_t *v, const http_param_t *p)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->v = xreallocarray(v->v, v->cap, sizeof *v->v);
    }
    v->v[v->n++] = *p;
}

static int
count_param(http_request_t *req, mt_error_t **err)
{
    if (req->n_counted >= req->limits.max_params) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "too many parameters (limit %zu)",
                     req->limits.max_params);
        return -1;
    }
    req->n_counted++;
    return 0;
}

static int
check_name_len(http_request_t *req, const char *what, size_t len, mt_error_t **err)
{
    if (len > req->limits.max_name_len) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "%s parameter name too long (%zu bytes, limit %zu)",
                     what, len, req->limits.max_name_len);
        return -1;
    }
    return 0;
}

/* parse_urlencoded: "a=1&b=2" as sent in a query string or an
 * application/x-www-form-urlencoded body. Empty pairs ("a&&b", a trailing
 * '&') and pairs with an empty name are skipped; "a" alone is a parameter
 * with an empty value. what names the source in messages. */
static int
parse_urlencoded(http_request_t *req, const char *s, size_t n, const char *what, pvec_t *out,
                 mt_error_t **err)
{
    const char *p = s, *end = s + n;
    char qbuf[MSG_NAME_BUF];
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        const char *ne = eq ? eq : pe;
        if (ne > p) {
            if (count_param(req, err) < 0)
                return -1;
            size_t nlen, vlen;
            char *name = arena_alloc(req, (size_t)(ne - p) + 1);
            int rc = pct_decode(p, (size_t)(ne - p), 1, name, &nlen);
            if (rc != DECODE_OK) {
                mt_error_set(err, MT_ERR_INVALID, "%s in %s parameter name \"%s\"",
                             rc == DECODE_NUL ? "NUL byte (%00)" : "bad percent-escape", what,
                             quote_for_msg(qbuf, sizeof qbuf, p, (size_t)(ne - p)));
                return -1;
            }
            if (check_name_len(req, what, nlen, err) < 0)
                return -1;
            if (!mt_utf8_is_valid(name, nlen)) {
                mt_error_set(err, MT_ERR_INVALID, "invalid UTF-8 in %s parameter name \"%s\"",
                             what, quote_for_msg(qbuf, sizeof qbuf, name, nlen));
                return -1;
            }
            const char *vs = eq ? eq + 1 : pe;
            char *value = arena_alloc(req, (size_t)(pe - vs) + 1);
            rc = pct_decode(vs, (size_t)(pe - vs), 1, value, &vlen);
            if (rc != DECODE_OK) {
                mt_error_set(err, MT_ERR_INVALID, "%s in %s parameter \"%s\"",
                             rc == DECODE_NUL ? "NUL byte (%00)" : "bad percent-escape", what,
                             quote_for_msg(qbuf, sizeof qbuf, name, nlen));
                return -1;
            }
            if (!mt_utf8_is_valid(value, vlen)) {
                mt_error_set(err, MT_ERR_INVALID, "invalid UTF-8 in %s parameter \"%s\"", what,
                             quote_for_msg(qbuf, sizeof qbuf, name, nlen));
                return -1;
            }
            http_param_t prm = { name, value, vlen, NULL, NULL };
            pvec_push(out, &prm);
        }
        p = amp ? amp + 1 : end;
    }
    return 0;
}

/* ---- header parameters (Content-Type, Content-Disposition) ---- */

typedef int (*hparam_fn)(void *ud, const char *name, size_t name_len, const char *value,
                         size_t value_len);

/* parse_header_params: the "; name=value" list after a media type or a
 * disposition type. Values are tokens or quoted strings; inside quotes
 * only \" and \\ are escapes, so a Windows path such as "C:\dir\a.txt"
 * keeps its backslashes. A trailing ';' is tolerated. */
static int
parse_header_params(http_request_t *req, const char *p, const char *end, hparam_fn fn, void *ud)
{
    for (;;) {
        p = skip_ows(p, end);
        if (p == end)
            return 0;
        if (*p != ';')
            return -1;
        p = skip_ows(p + 1, end);
        if (p == end)
            return 0;
        const char *name = p;
        while (p < end && is_tchar((unsigned char)*p))
            p++;
        size_t nlen = (size_t)(p - name);
        if (nlen == 0)
            return -1;
        p = skip_ows(p, end);
        if (p == end || *p != '=')
            return -1;
        p = skip_ows(p + 1, end);
        char *val;
        size_t vlen = 0;
        if (p < end && *p == '"') {
            p++;
            val = arena_alloc(req, (size_t)(end - p) + 1);
            for (;;) {
                if (p == end)
                    return -1; /* unterminated quoted string */
                char c = *p++;
                if (c == '"')
                    break;
                if (c == '\\' && p < end && (*p == '"' || *p == '\\'))
                    c = *p++;
                val[vlen++] = c;
            }
            val[vlen] = '\0';
        } else {
            const char *v = p;
            while (p < end && *p != ';' && *p != '"' && (unsigned char)*p > 0x20 && *p != 0x7f)
                p++;
            if (p == v)
                return -1;
            vlen = (size_t)(p - v);
            val = arena_strndup(req, v, vlen);
        }
        if (fn(ud, name, nlen, val, vlen) != 0)
            return -1;
    }
}

static int
name_is(const char *name, size_t len, const char *want)
{
    return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

typedef struct {
    const char *boundary;
    size_t boundary_len;
} ctype_params_t;

static int
ctype_param(void *ud, const char *name, size_t nlen, const char *value, size_t vlen)
{
    ctype_params_t *cp = ud;
    if (name_is(name, nlen, "boundary") && cp->boundary == NULL) {
        cp->boundary = value;
        cp->boundary_len = vlen;
    }
    return 0;
}

/* ---- multipart/form-data (RFC 7578 over RFC 2046 section 5.1.1) ---- */

typedef struct {
    const char *name;
    size_t name_len;
    const char *filename;
    const char *filename_ext; /* filename*, RFC 5987 */
    size_t filename_ext_len;
} disposition_t;

static int
disposition_param(void *ud, const char *name, size_t nlen, const char *value, size_t vlen)
{
    disposition_t *d = ud;
    if (name_is(name, nlen, "name")) {
        if (d->name == NULL) {
            d->name = value;
            d->name_len = vlen;
        }
    } else if (name_is(name, nlen, "filename")) {
        if (d->filename == NULL)
            d->filename = value;
    } else if (name_is(name, nlen, "filename*")) {
        if (d->filename_ext == NULL) {
            d->filename_ext = value;
            d->filename_ext_len = vlen;
        }
    }
    return 0;
}

/* decode_ext_filename: filename*=UTF-8''name%20with%20spaces (RFC 5987),
 * which .NET writes beside filename. Only UTF-8 is understood; anything
 * else gives NULL and the part simply has no file name from it. */
static const char *
decode_ext_filename(http_request_t *req, const char *v, size_t n)
{
    if (n < 7 || strncasecmp(v, "utf-8'", 6) != 0)
        return NULL;
    const char *q = memchr(v + 6, '\'', n - 6);
    if (q == NULL)
        return NULL;
    q++;
    size_t len;
    char *out = arena_alloc(req, n + 1);
    if (pct_decode(q, (size_t)(v + n - q), 0, out, &len) != DECODE_OK)
        return NULL;
    return out;
}

typedef struct {
    int seen_disposition;
    disposition_t disp;
    const char *content_type;
} part_t;

static int
parse_part_header(http_request_t *req, part_t *part, size_t idx, const char *line, size_t len,
                  mt_error_t **err)
{
    const char *end = line + len, *p = line;
    while (p < end && is_tchar((unsigned char)*p))
        p++;
    if (p == line || p == end || *p != ':') {
        mt_error_set(err, MT_ERR_INVALID, "malformed header line in multipart part %zu", idx);
        return -1;
    }
    const char *hname = line;
    size_t hlen = (size_t)(p - line);
    const char *v = skip_ows(p + 1, end);
    const char *ve = end;
    while (ve > v && is_ows(ve[-1]))
        ve--;
    for (const char *c = v; c < ve; c++) {
        unsigned char uc = (unsigned char)*c;
        if ((uc < 0x20 && uc != '\t') || uc == 0x7f) {
            mt_error_set(err, MT_ERR_INVALID, "control character in a header of multipart part %zu",
                         idx);
            return -1;
        }
    }
    if (name_is(hname, hlen, "Content-Disposition")) {
        if (part->seen_disposition) {
            mt_error_set(err, MT_ERR_INVALID, "multipart part %zu has two Content-Disposition headers",
                         idx);
            return -1;
        }
        part->seen_disposition = 1;
        const char *t = v;
        while (t < ve && is_tchar((unsigned char)*t))
            t++;
        if (!name_is(v, (size_t)(t - v), "form-data")) {
            mt_error_set(err, MT_ERR_INVALID, "multipart part %zu is not form-data", idx);
            return -1;
        }
        if (parse_header_params(req, t, ve, disposition_param, &part->disp) < 0) {
            mt_error_set(err, MT_ERR_INVALID, "malformed Content-Disposition in multipart part %zu",
                         idx);
            return -1;
        }
    } else if (name_is(hname, hlen, "Content-Type")) {
        if (part->content_type == NULL)
            part->content_type = arena_strndup(req, v, (size_t)(ve - v));
    }
    /* Other headers (Content-Transfer-Encoding, deprecated by RFC 7578
     * section 4.7) are ignored. */
    return 0;
}

static const uint8_t *
find_bytes(const uint8_t *hay, size_t hay_len, const char *needle, size_t needle_len)
{
    return memmem(hay, hay_len, needle, needle_len);
}

/* find_delimiter: the next "CRLF--boundary" at or after from that really
 * is a delimiter: followed by "--", blanks or CR, or the end of the body
 * (a truncated body, reported by the caller). As in Go's mime/multipart,
 * "CRLF--boundaryX" is data: RFC 2046 forbids senders to write it, so a
 * reader that meets it is better off not cutting the data there. at_start
 * also accepts the dash-boundary without CRLF at from. Returns the end of
 * the data before the delimiter (NULL if none) and sets *after to the byte
 * after the boundary string. */
static int
ends_delimiter(const uint8_t *a, const uint8_t *end)
{
    if (a == end || *a == ' ' || *a == '\t' || *a == '\r' || *a == '\n')
        return 1;
    return *a == '-' && (a + 1 == end || a[1] == '-');
}

static const uint8_t *
find_delimiter(const uint8_t *from, const uint8_t *end, const char *delim, size_t dlen,
               int at_start, const uint8_t **after)
{
    if (at_start && (size_t)(end - from) >= dlen - 2 && memcmp(from, delim + 2, dlen - 2) == 0) {
        const uint8_t *a = from + dlen - 2;
        if (ends_delimiter(a, end)) {
            *after = a;
            return from;
        }
    }
    while ((size_t)(end - from) >= dlen) {
        const uint8_t *q = find_bytes(from, (size_t)(end - from), delim, dlen);
        if (q == NULL)
            return NULL;
        const uint8_t *a = q + dlen;
        if (ends_delimiter(a, end)) {
            *after = a;
            return q;
        }
        from = q + 1;
    }
    return NULL;
}

/* check_part_text: the text of a multipart part is UTF-8: its name, its
 * file name, and its value unless it is a file (a file name, or a
 * Content-Type other than text/...: RFC 7578 section 4.4 makes text/plain
 * the default). */
static int
check_part_text(const part_t *part, const char *filename, const uint8_t *value, size_t len,
                size_t idx, mt_error_t **err)
{
    char qbuf[MSG_NAME_BUF];
    const char *name = quote_for_msg(qbuf, sizeof qbuf, part->disp.name, part->disp.name_len);
    if (!mt_utf8_is_valid(part->disp.name, part->disp.name_len)) {
        mt_error_set(err, MT_ERR_INVALID, "invalid UTF-8 in the name of multipart part %zu", idx);
        return -1;
    }
    if (filename != NULL && !mt_utf8_is_valid(filename, strlen(filename))) {
        mt_error_set(err, MT_ERR_INVALID, "invalid UTF-8 in the file name of form parameter \"%s\"",
                     name);
        return -1;
    }
    bool is_file = filename != NULL ||
                   (part->content_type != NULL && strncasecmp(part->content_type, "text/", 5) != 0);
    if (!is_file && !mt_utf8_is_valid(value, len)) {
        mt_error_set(err, MT_ERR_INVALID, "invalid UTF-8 in form parameter \"%s\"", name);
        return -1;
    }
    return 0;
}

/* parse_multipart: the body is
 *   [preamble CRLF] --boundary *WSP CRLF part
 *   *(CRLF --boundary *WSP CRLF part) CRLF --boundary-- [epilogue]
 * where each part is header lines, an empty line, and bytes up to the next
 * delimiter. The CRLF before a delimiter belongs to the delimiter, not to
 * the data; a boundary string that does not start a line is data. Header
 * lines end in CRLF only (RFC 7578 section 4.1 and RFC 2046). */
static int
parse_multipart(http_request_t *req, const char *boundary, size_t blen, pvec_t *out,
                mt_error_t **err)
{
    const uint8_t *body = req->body, *end = body + req->body_len, *p;
    char delim[4 + MAX_BOUNDARY + 1];
    size_t dlen = 4 + blen;
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen);
    delim[dlen] = '\0';

    if (find_delimiter(body, end, delim, dlen, 1, &p) == NULL) {
        mt_error_set(err, MT_ERR_INVALID, "multipart body has no boundary line");
        return -1;
    }

    for (size_t idx = 1;; idx++) {
        /* p is just past "--boundary". */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return 0; /* close delimiter; the epilogue is ignored */
        while (p < end && is_ows((char)*p))
            p++;
        if (p == end) {
            mt_error_set(err, MT_ERR_INVALID, "multipart body ends without closing boundary");
            return -1;
        }
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
            mt_error_set(err, MT_ERR_INVALID, "malformed multipart boundary line before part %zu",
                         idx);
            return -1;
        }
        p += 2;
        if (idx > req->limits.max_parts) {
            mt_error_set(err, MT_ERR_TOO_LARGE, "too many multipart parts (limit %zu)",
                         req->limits.max_parts);
            return -1;
        }
        if (count_param(req, err) < 0)
            return -1;

        part_t part;
        memset(&part, 0, sizeof part);
        size_t hdr_bytes = 0;
        for (;;) {
            size_t room = req->limits.max_part_header - hdr_bytes;
            size_t span = (size_t)(end - p);
            if (span > room)
                span = room;
            const uint8_t *nl = find_bytes(p, span, "\r\n", 2);
            if (nl == NULL) {
                if (span < (size_t)(end - p)) {
                    mt_error_set(err, MT_ERR_TOO_LARGE,
                                 "headers of multipart part %zu too large (limit %zu bytes)", idx,
                                 req->limits.max_part_header);
                } else {
                    mt_error_set(err, MT_ERR_INVALID,
                                 "multipart body ends without closing boundary");
                }
                return -1;
            }
            size_t linelen = (size_t)(nl - p);
            hdr_bytes += linelen + 2;
            if (linelen == 0) {
                p = nl + 2;
                break;
            }
            if (parse_part_header(req, &part, idx, (const char *)p, linelen, err) < 0)
                return -1;
            p = nl + 2;
        }
        if (part.disp.name == NULL || part.disp.name_len == 0) {
            mt_error_set(err, MT_ERR_INVALID, "multipart part %zu has no form-data name", idx);
            return -1;
        }
        if (check_name_len(req, "form", part.disp.name_len, err) < 0)
            return -1;
        /* A part may end right after its headers ("...CRLF" CRLF--b): the
         * empty line's CRLF is then the delimiter's, so search from it. */
        const uint8_t *after;
        const uint8_t *q = find_delimiter(p - 2, end, delim, dlen, 0, &after);
        if (q == NULL) {
            mt_error_set(err, MT_ERR_INVALID, "multipart body ends without closing boundary");
            return -1;
        }
        if (q < p)
            q = p; /* no data */
        const char *filename = part.disp.filename;
        if (filename == NULL && part.disp.filename_ext != NULL)
            filename = decode_ext_filename(req, part.disp.filename_ext, part.disp.filename_ext_len);
        if (check_part_text(&part, filename, p, (size_t)(q - p), idx, err) < 0)
            return -1;
        http_param_t prm = {
            .name = part.disp.name,
            .value = arena_strndup(req, (const char *)p, (size_t)(q - p)),
            .value_len = (size_t)(q - p),
            .filename = filename,
            .content_type = part.content_type,
        };
        pvec_push(out, &prm);
        p = after;
    }
}

/* parse_body_form: decides from Content-Type whether the body is a form. */
static int
parse_body_form(http_request_t *req, const char *ctype, pvec_t *out, mt_error_t **err)
{
    const char *end = ctype + strlen(ctype);
    const char *p = skip_ows(ctype, end);
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *te = semi ? semi : end;
    while (te > p && is_ows(te[-1]))
        te--;
    char *mt = arena_strndup(req, p, (size_t)(te - p));
    for (char *c = mt; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    req->media_type = mt;

    int is_urlenc = strcmp(mt, "application/x-www-form-urlencoded") == 0;
    int is_multipart = strcmp(mt, "multipart/form-data") == 0;
    if (!is_urlenc && !is_multipart)
        return 0;
    ctype_params_t cp = { NULL, 0 };
    if (semi != NULL && parse_header_params(req, semi, end, ctype_param, &cp) < 0) {
        mt_error_set(err, MT_ERR_INVALID, "malformed Content-Type parameters");
        return -1;
    }
    if (is_urlenc)
        return parse_urlencoded(req, (const char *)req->body, req->body_len, "form", out, err);
    if (cp.boundary == NULL) {
        mt_error_set(err, MT_ERR_INVALID, "multipart/form-data without a boundary");
        return -1;
    }
    if (cp.boundary_len == 0 || cp.boundary_len > MAX_BOUNDARY) {
        mt_error_set(err, MT_ERR_INVALID, "bad multipart boundary (1 to %d characters)",
                     MAX_BOUNDARY);
        return -1;
    }
    return parse_multipart(req, cp.boundary, cp.boundary_len, out, err);
}

/* ---- cookies ---- */

static int
parse_cookies(http_request_t *req, const char *h, mt_error_t **err)
{
    size_t len = strlen(h);
    if (len > req->limits.max_cookie_bytes) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "Cookie header too large (%zu bytes, limit %zu)", len,
                     req->limits.max_cookie_bytes);
        return -1;
    }
    size_t cap = 1;
    for (const char *c = h; *c; c++)
        if (*c == ';')
            cap++;
    req->cookies = xcalloc(cap, sizeof *req->cookies);
    const char *p = h, *end = h + len;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq != NULL) {
            const char *ns = skip_ows(p, eq), *ne = eq;
            while (ne > ns && is_ows(ne[-1]))
                ne--;
            const char *vs = skip_ows(eq + 1, pe), *ve = pe;
            while (ve > vs && is_ows(ve[-1]))
                ve--;
            if (ve - vs >= 2 && vs[0] == '"' && ve[-1] == '"') {
                vs++;
                ve--;
            }
            if (ne > ns) {
                kv_t *kv = &req->cookies[req->n_cookies++];
                kv->name = arena_strndup(req, ns, (size_t)(ne - ns));
                kv->value = arena_strndup(req, vs, (size_t)(ve - vs));
            }
        }
        p = semi ? semi + 1 : end;
    }
    return 0;
}

const char *
http_request_cookie(const http_request_t *req, const char *name)
{
    if (req == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < req->n_cookies; i++)
        if (strcmp(req->cookies[i].name, name) == 0)
            return req->cookies[i].value;
    return NULL;
}

/* ---- Authorization ---- */

static int
b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* b64_decode_strict: RFC 4648 base64 with padding and no whitespace; the
 * unused bits of the last group must be zero. out needs n / 4 * 3 + 1. */
static int
b64_decode_strict(const char *s, size_t n, uint8_t *out, size_t *outlen)
{
    if (n == 0 || n % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)s[i + j];
            if (c == '=') {
                if (i + 4 != n || j < 2)
                    return -1;
                v[j] = 0;
                pad++;
            } else {
                if (pad)
                    return -1;
                v[j] = b64val(c);
                if (v[j] < 0)
                    return -1;
            }
        }
        if ((pad == 2 && (v[1] & 0x0f) != 0) || (pad == 1 && (v[2] & 0x03) != 0))
            return -1;
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (uint8_t)(w >> 16);
        if (pad < 2)
            out[o++] = (uint8_t)(w >> 8);
        if (pad < 1)
            out[o++] = (uint8_t)w;
    }
    *outlen = o;
    return 0;
}

static int
is_token68(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                     (s[i] >= '0' && s[i] <= '9') || strchr("-._~+/", s[i]) != NULL))
        i++;
    if (i == 0)
        return 0;
    while (i < n && s[i] == '=')
        i++;
    return i == n;
}

/* parse_authorization: fills basic_user/basic_pass or bearer; anything
 * malformed leaves them NULL (an error here is not a bad request: the
 * program decides whether it needs credentials). */
static void
parse_authorization(http_request_t *req)
{
    const char *h = http_request_env(req, "HTTP_AUTHORIZATION");
    if (h == NULL)
        return;
    const char *end = h + strlen(h);
    const char *p = skip_ows(h, end), *scheme = p;
    while (p < end && is_tchar((unsigned char)*p))
        p++;
    size_t slen = (size_t)(p - scheme);
    if (slen == 0 || p == end || *p != ' ')
        return;
    while (p < end && *p == ' ')
        p++;
    const char *ce = end;
    while (ce > p && is_ows(ce[-1]))
        ce--;
    size_t clen = (size_t)(ce - p);
    if (clen == 0)
        return;
    if (name_is(scheme, slen, "Basic")) {
        uint8_t *dec = (uint8_t *)arena_alloc(req, clen / 4 * 3 + 1);
        size_t dlen;
        if (b64_decode_strict(p, clen, dec, &dlen) < 0)
            return;
        if (memchr(dec, '\0', dlen) != NULL)
            return;
        uint8_t *colon = memchr(dec, ':', dlen);
        if (colon == NULL)
            return;
        req->basic_user = arena_strndup(req, (const char *)dec, (size_t)(colon - dec));
        req->basic_pass = arena_strndup(req, (const char *)colon + 1, (size_t)(dec + dlen - colon - 1));
    } else if (name_is(scheme, slen, "Bearer")) {
        if (is_token68(p, clen))
            req->bearer = arena_strndup(req, p, clen);
    }
}

int
http_request_basic_auth(const http_request_t *req, const char **user, const char **pass)
{
    if (req == NULL || req->basic_user == NULL)
        return -1;
    if (user != NULL)
        *user = req->basic_user;
    if (pass != NULL)
        *pass = req->basic_pass;
    return 0;
}

const char *
http_request_bearer(const http_request_t *req)
{
    return req ? req->bearer : NULL;
}

/* ---- method and path ---- */

static int
parse_method(http_request_t *req, mt_error_t **err)
{
    const char *m = http_request_env(req, "REQUEST_METHOD");
    if (m == NULL || *m == '\0') {
        mt_error_set(err, MT_ERR_INVALID, "missing REQUEST_METHOD");
        return -1;
    }
    for (const char *c = m; *c; c++) {
        if (!is_tchar((unsigned char)*c)) {
            mt_error_set(err, MT_ERR_INVALID, "bad request method");
            return -1;
        }
    }
    req->method = m;
    return 0;
}

/* parse_path: sets path and returns the raw query string (NULL if none). */
static int
parse_path(http_request_t *req, const char **query, size_t *query_len, mt_error_t **err)
{
    const char *uri = http_request_env(req, "REQUEST_URI");
    *query = NULL;
    *query_len = 0;
    if (uri == NULL) {
        /* Servers pass SCRIPT_NAME and PATH_INFO already decoded. */
        const char *sn = http_request_env(req, "SCRIPT_NAME");
        const char *pi = http_request_env(req, "PATH_INFO");
        size_t snl = sn ? strlen(sn) : 0, pil = pi ? strlen(pi) : 0;
        char *path = arena_alloc(req, snl + pil + 1);
        memcpy(path, sn ? sn : "", snl);
        memcpy(path + snl, pi ? pi : "", pil);
        path[snl + pil] = '\0';
        if (path[0] == '\0') {
            mt_error_set(err, MT_ERR_INVALID, "no request path (neither REQUEST_URI nor SCRIPT_NAME)");
            return -1;
        }
        if (path[0] != '/') {
            mt_error_set(err, MT_ERR_INVALID, "request path must start with '/'");
            return -1;
        }
        req->path = path;
        const char *qs = http_request_env(req, "QUERY_STRING");
        if (qs != NULL) {
            *query = qs;
            *query_len = strlen(qs);
        }
        return 0;
    }
    const char *p = uri, *end = uri + strlen(uri);
    /* An absolute-form target (RFC 9112 section 3.2.2) names the path after
     * the authority. */
    if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
        p = strstr(p, "//") + 2;
        while (p < end && *p != '/' && *p != '?')
            p++;
    }
    const char *qm = memchr(p, '?', (size_t)(end - p));
    const char *pe = qm ? qm : end;
    if (qm != NULL) {
        *query = qm + 1;
        *query_len = (size_t)(end - qm - 1);
    }
    if (pe == p && p != uri) {
        req->path = "/"; /* "http://host" or "http://host?q" */
        return 0;
    }
    if (pe == p || *p != '/') {
        mt_error_set(err, MT_ERR_INVALID, "request path must start with '/'");
        return -1;
    }
    char *path = arena_alloc(req, (size_t)(pe - p) + 1);
    size_t plen;
    int rc = pct_decode(p, (size_t)(pe - p), 0, path, &plen);
    if (rc != DECODE_OK) {
        mt_error_set(err, MT_ERR_INVALID, "%s in request path",
                     rc == DECODE_NUL ? "NUL byte (%00)" : "bad percent-escape");
        return -1;
    }
    req->path = path;
    return 0;
}

/* ---- construction ---- */

static void
normalize_limits(http_limits_t *l, const http_limits_t *given)
{
    *l = http_limits_default();
    if (given == NULL)
        return;
    if (given->max_body)
        l->max_body = given->max_body;
    if (given->max_params)
        l->max_params = given->max_params;
    if (given->max_name_len)
        l->max_name_len = given->max_name_len;
    if (given->max_cookie_bytes)
        l->max_cookie_bytes = given->max_cookie_bytes;
    if (given->max_parts)
        l->max_parts = given->max_parts;
    if (given->max_part_header)
        l->max_part_header = given->max_part_header;
}

http_request_t *
http_request_new(char *const *envp, const uint8_t *body, size_t body_len,
                 const http_limits_t *limits, mt_error_t **err)
{
    http_request_t *req = xcalloc(1, sizeof *req);
    normalize_limits(&req->limits, limits);
    pvec_t query = { NULL, 0, 0 }, form = { NULL, 0, 0 };

    if (body_len > req->limits.max_body) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "request body too large (%zu bytes, limit %zu)",
                     body_len, req->limits.max_body);
        goto fail;
    }
    copy_env(req, envp);
    req->body = xmalloc(body_len + 1);
    if (body_len > 0)
        memcpy(req->body, body, body_len);
    req->body[body_len] = '\0';
    req->body_len = body_len;

    if (parse_method(req, err) < 0)
        goto fail;
    const char *qs;
    size_t qs_len;
    if (parse_path(req, &qs, &qs_len, err) < 0)
        goto fail;
    if (qs != NULL && parse_urlencoded(req, qs, qs_len, "query", &query, err) < 0)
        goto fail;
    const char *ctype = http_request_env(req, "CONTENT_TYPE");
    if (ctype != NULL && *ctype != '\0' && parse_body_form(req, ctype, &form, err) < 0)
        goto fail;
    const char *cookie = http_request_env(req, "HTTP_COOKIE");
    if (cookie != NULL && parse_cookies(req, cookie, err) < 0)
        goto fail;
    parse_authorization(req);
    const char *ra = http_request_env(req, "REMOTE_ADDR");
    req->remote_addr = ra ? ra : "";

    req->n_form = form.n;
    req->n_params = form.n + query.n;
    req->params = xcalloc(req->n_params ? req->n_params : 1, sizeof *req->params);
    if (form.n)
        memcpy(req->params, form.v, form.n * sizeof *form.v);
    if (query.n)
        memcpy(req->params + form.n, query.v, query.n * sizeof *query.v);
    free(form.v);
    free(query.v);
    return req;

fail:
    free(form.v);
    free(query.v);
    http_request_free(req);
    return NULL;
}

void
http_request_free(http_request_t *req)
{
    if (req == NULL)
        return;
    arena_chunk_t *c = req->arena;
    while (c != NULL) {
        arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    free(req->env);
    free(req->body);
    free(req->params);
    free(req->cookies);
    free(req->path_params);
    free(req);
}

/* ---- accessors ---- */

const char *
http_request_method(const http_request_t *req)
{
    return req ? req->method : NULL;
}

const char *
http_request_path(const http_request_t *req)
{
    return req ? req->path : NULL;
}

const char *
http_request_remote_addr(const http_request_t *req)
{
    return req ? req->remote_addr : NULL;
}

const char *
http_request_media_type(const http_request_t *req)
{
    return req ? req->media_type : NULL;
}

const char *
http_request_header(const http_request_t *req, const char *name)
{
    if (req == NULL || name == NULL)
        return NULL;
    size_t n = strlen(name);
    if (n == 0 || n > MAX_HEADER_NAME)
        return NULL;
    if (strcasecmp(name, "Content-Type") == 0)
        return http_request_env(req, "CONTENT_TYPE");
    if (strcasecmp(name, "Content-Length") == 0)
        return http_request_env(req, "CONTENT_LENGTH");
    char key[5 + MAX_HEADER_NAME + 1] = "HTTP_";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!is_tchar(c))
            return NULL;
        if (c >= 'a' && c <= 'z')
            c = (unsigned char)(c - 'a' + 'A');
        else if (c == '-')
            c = '_';
        key[5 + i] = (char)c;
    }
    key[5 + n] = '\0';
    return http_request_env(req, key);
}

const uint8_t *
http_request_body(const http_request_t *req, size_t *len)
{
    static const uint8_t empty[1];
    if (req == NULL) {
        if (len != NULL)
            *len = 0;
        return empty;
    }
    if (len != NULL)
        *len = req->body_len;
    return req->body;
}

struct json_object *
http_request_json(const http_request_t *req, mt_error_t **err)
{
    if (req == NULL || req->body_len == 0) {
        mt_error_set(err, MT_ERR_INVALID, "empty body where JSON was expected");
        return NULL;
    }
    if (req->body_len > (size_t)INT32_MAX) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "JSON body too large");
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new_ex(64);
    if (tok == NULL)
        abort();
    json_object *obj = json_tokener_parse_ex(tok, (const char *)req->body, (int)req->body_len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success || obj == NULL) {
        /* json_tokener_continue: the body ended inside a value. A bare
         * "null" parses to a NULL object, which a program never wants. */
        json_object_put(obj);
        mt_error_set(err, MT_ERR_INVALID, "invalid JSON body: %s",
                     jerr == json_tokener_success ? "null" :
                     jerr == json_tokener_continue ? "unexpected end of data" :
                     json_tokener_error_desc(jerr));
        return NULL;
    }
    for (size_t i = used; i < req->body_len; i++) {
        char c = (char)req->body[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            json_object_put(obj);
            mt_error_set(err, MT_ERR_INVALID, "invalid JSON body: data after the value");
            return NULL;
        }
    }
    return obj;
}

static void
src_range(const http_request_t *req, http_source_t src, size_t *lo, size_t *hi)
{
    switch (src) {
    case HTTP_SRC_FORM:
        *lo = 0;
        *hi = req->n_form;
        break;
    case HTTP_SRC_QUERY:
        *lo = req->n_form;
        *hi = req->n_params;
        break;
    case HTTP_SRC_ANY:
    default:
        *lo = 0;
        *hi = req->n_params;
        break;
    }
}

const http_param_t *
http_request_params(const http_request_t *req, http_source_t src, size_t *n)
{
    if (req == NULL) {
        if (n != NULL)
            *n = 0;
        return NULL;
    }
    size_t lo, hi;
    src_range(req, src, &lo, &hi);
    if (n != NULL)
        *n = hi - lo;
    return req->params + lo;
}

const http_param_t *
http_request_find_param(const http_request_t *req, http_source_t src, const char *name,
                        const http_param_t *prev)
{
    if (req == NULL || name == NULL)
        return NULL;
    size_t lo, hi;
    src_range(req, src, &lo, &hi);
    size_t start = lo;
    if (prev != NULL) {
        if (prev < req->params + lo || prev >= req->params + hi)
            return NULL;
        start = (size_t)(prev - req->params) + 1;
    }
    for (size_t i = start; i < hi; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return &req->params[i];
    return NULL;
}

size_t
http_request_count_param(const http_request_t *req, http_source_t src, const char *name)
{
    size_t n = 0;
    for (const http_param_t *p = http_request_find_param(req, src, name, NULL); p != NULL;
         p = http_request_find_param(req, src, name, p))
        n++;
    return n;
}

static const char *
first_value(const http_request_t *req, http_source_t src, const char *name)
{
    const http_param_t *p = http_request_find_param(req, src, name, NULL);
    return p ? p->value : NULL;
}

const char *
http_request_query(const http_request_t *req, const char *name)
{
    return first_value(req, HTTP_SRC_QUERY, name);
}

const char *
http_request_form(const http_request_t *req, const char *name)
{
    return first_value(req, HTTP_SRC_FORM, name);
}

const char *
http_request_param(const http_request_t *req, const char *name)
{
    return first_value(req, HTTP_SRC_ANY, name);
}

int
http_request_has_param(const http_request_t *req, const char *name)
{
    return http_request_find_param(req, HTTP_SRC_ANY, name, NULL) != NULL;
}

/* ---- path parameters ---- */

const char *
http_request_path_param(const http_request_t *req, const char *name)
{
    if (req == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < req->n_path_params; i++)
        if (strcmp(req->path_params[i].name, name) == 0)
            return req->path_params[i].value;
    return NULL;
}

void
http_request_set_path_param(http_request_t *req, const char *name, const char *value,
                            size_t value_len)
{
    if (req == NULL || name == NULL || value == NULL)
        return;
    const char *v = arena_strndup(req, value, value_len);
    for (size_t i = 0; i < req->n_path_params; i++) {
        if (strcmp(req->path_params[i].name, name) == 0) {
            req->path_params[i].value = v;
            return;
        }
    }
    if (req->n_path_params == req->cap_path_params) {
        req->cap_path_params = req->cap_path_params ? req->cap_path_params * 2 : 4;
        req->path_params = xreallocarray(req->path_params, req->cap_path_params,
                                         sizeof *req->path_params);
    }
    kv_t *kv = &req->path_params[req->n_path_params++];
    kv->name = arena_strndup(req, name, strlen(name));
    kv->value = v;
}

void
http_request_clear_path_params(http_request_t *req)
{
    if (req != NULL)
        req->n_path_params = 0;
}
