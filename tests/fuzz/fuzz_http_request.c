/* fuzz_http_request.c: libFuzzer target for lib/http: request parsing
 * (path, query, forms, multipart, cookies, auth), routing and responses.
 *
 * Input layout, fields separated by NUL bytes (which no CGI variable can
 * hold):  METHOD \0 REQUEST_URI \0 CONTENT_TYPE \0 HTTP_COOKIE \0
 *         HTTP_AUTHORIZATION \0 CONTENT_LENGTH \0 body...
 * Missing trailing fields are unset; an empty field is unset too (an empty
 * REQUEST_URI switches to SCRIPT_NAME/PATH_INFO/QUERY_STRING). The body is
 * the rest and may hold NUL bytes. With a CONTENT_LENGTH field the body is
 * also served through http_serve_one() from memory. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "http/http.h"
#include "util/log.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { F_METHOD, F_URI, F_CTYPE, F_COOKIE, F_AUTH, F_CLEN, N_FIELDS };

static const char *const field_vars[N_FIELDS] = {
    "REQUEST_METHOD", "REQUEST_URI", "CONTENT_TYPE", "HTTP_COOKIE", "HTTP_AUTHORIZATION",
    "CONTENT_LENGTH",
};

static int
handler(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)ctx;
    const char *name = http_request_path_param(req, "name");
    http_response_text(resp, 200, name ? name : "ok");
    /* Echoing request data into headers must never inject a line. */
    const char *cookie = http_request_cookie(req, "SID");
    if (cookie != NULL)
        http_response_set_header(resp, "X-Sid", cookie);
    const char *q = http_request_param(req, "h");
    if (q != NULL)
        http_response_add_header(resp, q, "v");
    return 0;
}

static int
before(const http_route_t *route, http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)ctx;
    if (route != NULL && (route->flags & 1) && http_request_cookie(req, "SID") == NULL) {
        http_response_text(resp, 403, "Forbidden");
        return 1;
    }
    return 0;
}

static const http_route_t routes[] = {
    { HTTP_M_GET | HTTP_M_POST, "/api/v2/app/webapiVersion", handler, 1 },
    { HTTP_M_POST, "/api/v2/torrents/add", handler, 1 },
    { HTTP_M_GET, "/indexer/{name}/api", handler, 0 },
    { HTTP_M_PUT | HTTP_M_DELETE, "/x/{a}/{b}", handler, 0 },
};

static const http_router_t router = {
    .routes = routes,
    .n_routes = HTTP_N_ROUTES(routes),
    .before = before,
};

/* Output sink checking that the header block is well formed: CRLF line
 * ends only, and nothing after the blank line but the body. */
typedef struct {
    char head[65536];
    size_t head_len;
    int in_body;
} sink_t;

static int
sink_write(void *ctx, const void *buf, size_t len)
{
    sink_t *s = ctx;
    if (!s->in_body) {
        if (len > sizeof s->head - s->head_len)
            abort();
        memcpy(s->head + s->head_len, buf, len);
        s->head_len += len;
        s->in_body = 1; /* http_response_write emits all headers at once */
        if (s->head_len < 4 || memcmp(s->head + s->head_len - 4, "\r\n\r\n", 4) != 0)
            abort();
        for (size_t i = 0; i + 4 < s->head_len; i++) {
            char c = s->head[i];
            if (c == '\0' || (c == '\n' && (i == 0 || s->head[i - 1] != '\r')) ||
                (c == '\r' && s->head[i + 1] != '\n'))
                abort();
            if (c == '\n' && i + 1 < s->head_len - 2 && s->head[i + 1] == '\r')
                abort(); /* blank line before the end */
        }
    }
    return 0;
}

typedef struct {
    const uint8_t *p;
    size_t left;
} mem_reader_t;

static ssize_t
mem_read(void *ctx, void *buf, size_t len)
{
    mem_reader_t *r = ctx;
    if (len > r->left)
        len = r->left;
    memcpy(buf, r->p, len);
    r->p += len;
    r->left -= len;
    return (ssize_t)len;
}

static void
exercise(const http_request_t *req)
{
    const char *names[] = { "a", "urls", "torrents", "category", "hash", "", "h" };
    http_request_method(req);
    if (http_request_path(req)[0] != '/')
        abort();
    http_request_remote_addr(req);
    http_request_media_type(req);
    http_request_header(req, "Content-Type");
    http_request_header(req, "cookie");
    http_request_header(req, "X-Api-Key");
    http_request_env(req, "QUERY_STRING");
    size_t blen;
    http_request_body(req, &blen);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        http_request_query(req, names[i]);
        http_request_form(req, names[i]);
        http_request_param(req, names[i]);
        http_request_has_param(req, names[i]);
        http_request_cookie(req, names[i]);
        http_request_count_param(req, HTTP_SRC_ANY, names[i]);
    }
    static const http_source_t srcs[] = { HTTP_SRC_QUERY, HTTP_SRC_FORM, HTTP_SRC_ANY };
    for (size_t s = 0; s < 3; s++) {
        size_t n;
        const http_param_t *p = http_request_params(req, srcs[s], &n);
        for (size_t i = 0; i < n; i++) {
            if (p[i].value[p[i].value_len] != '\0' || p[i].name == NULL)
                abort();
            /* text parameters are strict UTF-8; only files keep any bytes */
            bool is_file = p[i].filename != NULL ||
                           (p[i].content_type != NULL &&
                            strncasecmp(p[i].content_type, "text/", 5) != 0);
            if (!mt_utf8_is_valid(p[i].name, strlen(p[i].name)) ||
                (!is_file && !mt_utf8_is_valid(p[i].value, p[i].value_len)))
                abort();
            const http_param_t *f = http_request_find_param(req, srcs[s], p[i].name, NULL);
            if (f == NULL || strcmp(f->name, p[i].name) != 0)
                abort();
            while (f != NULL)
                f = http_request_find_param(req, srcs[s], p[i].name, f);
        }
    }
    const char *user, *pass;
    if (http_request_basic_auth(req, &user, &pass) == 0 && (user == NULL || pass == NULL))
        abort();
    http_request_bearer(req);
    json_object *j = http_request_json(req, NULL);
    json_object_put(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    if (!initialised) {
        log_set_level(LOG_LEVEL_ERROR);
        initialised = 1;
    }
    char *fields[N_FIELDS] = { NULL };
    size_t pos = 0;
    int n_fields = 0;
    for (; n_fields < N_FIELDS; n_fields++) {
        const uint8_t *nul = memchr(data + pos, '\0', size - pos);
        if (nul == NULL)
            break;
        size_t len = (size_t)(nul - (data + pos));
        if (len > 0) {
            fields[n_fields] = malloc(len + 1);
            memcpy(fields[n_fields], data + pos, len);
            fields[n_fields][len] = '\0';
        }
        pos += len + 1;
    }
    const uint8_t *body = data + pos;
    size_t body_len = size - pos;

    char *envp[N_FIELDS + 6];
    size_t ne = 0;
    for (int i = 0; i < N_FIELDS; i++) {
        if (fields[i] == NULL)
            continue;
        size_t l = strlen(field_vars[i]) + strlen(fields[i]) + 2;
        envp[ne] = malloc(l);
        snprintf(envp[ne], l, "%s=%s", field_vars[i], fields[i]);
        ne++;
    }
    size_t first_static = ne;
    if (fields[F_URI] == NULL) {
        envp[ne++] = (char *)"SCRIPT_NAME=/indexer";
        envp[ne++] = (char *)"PATH_INFO=/x/api";
        envp[ne++] = (char *)"QUERY_STRING=t=caps&apikey=k+1%20";
    }
    envp[ne++] = (char *)"REMOTE_ADDR=127.0.0.1";
    envp[ne] = NULL;

    http_limits_t limits = {
        .max_body = 32 * 1024,
        .max_params = 64,
        .max_name_len = 64,
        .max_cookie_bytes = 1024,
        .max_parts = 16,
        .max_part_header = 1024,
    };
    mt_error_t *err = NULL;
    http_request_t *req = http_request_new(envp, body, body_len, &limits, &err);
    if (req == NULL) {
        if (err == NULL || err->message == NULL ||
            (err->code != MT_ERR_INVALID && err->code != MT_ERR_TOO_LARGE))
            abort();
        mt_error_free(err);
    } else {
        if (err != NULL)
            abort();
        exercise(req);
        http_response_t *resp = http_response_new();
        http_router_dispatch(&router, req, resp, NULL);
        sink_t *sink = calloc(1, sizeof *sink);
        http_response_write(resp, sink_write, sink);
        free(sink);
        http_response_free(resp);
        http_request_free(req);
    }

    if (fields[F_CLEN] != NULL) {
        http_app_t app = { .name = "fuzz", .router = &router, .limits = limits };
        for (int framed = 0; framed <= 1; framed++) {
            mem_reader_t rd = { body, body_len };
            sink_t *sink = calloc(1, sizeof *sink);
            http_serve_one(&app, envp, mem_read, &rd, framed, sink_write, sink);
            free(sink);
        }
    }

    for (size_t i = 0; i < first_static; i++)
        free(envp[i]);
    for (int i = 0; i < N_FIELDS; i++)
        free(fields[i]);
    return 0;
}
