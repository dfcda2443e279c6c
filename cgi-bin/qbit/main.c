/* main.c: cgi-bin/qbit, the /api/v2 FastCGI program: its route table and
 * the qBittorrent-style answers for unknown paths, wrong methods and bad
 * requests. Runs under FastCGI or as a plain CGI program. */
#include "config.h"

#include <string.h>

#include "qbit/qbit.h"

static const http_route_t routes[] = {
    { HTTP_M_GET | HTTP_M_POST, "/api/v2/app/version", qbit_app_version, QBIT_PUBLIC },
    { HTTP_M_GET | HTTP_M_POST, "/api/v2/app/webapiVersion", qbit_app_webapi_version, QBIT_PUBLIC },
    { HTTP_M_GET | HTTP_M_POST, "/api/v2/app/buildInfo", qbit_app_build_info, QBIT_PUBLIC },
};

void
qbit_common_headers(http_response_t *resp)
{
    http_response_set_header(resp, "Content-Security-Policy",
                             "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
                             "data:; script-src 'self' 'unsafe-inline'; object-src 'none'; "
                             "form-action 'self'; frame-ancestors 'self';");
    http_response_set_header(resp, "Referrer-Policy", "same-origin");
    http_response_set_header(resp, "X-Content-Type-Options", "nosniff");
    http_response_set_header(resp, "X-Frame-Options", "SAMEORIGIN");
    http_response_set_header(resp, "X-XSS-Protection", "1; mode=block");
}

int
qbit_text(http_response_t *resp, int status, const char *text)
{
    qbit_common_headers(resp);
    return http_response_text(resp, status, text);
}

/* A configuration error is answered on every route, in the API's own
 * format, rather than by a crashing process. */
static int
before(const http_route_t *route, http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)route;
    (void)req;
    qbit_t *q = ctx;
    const mt_error_t *cerr = cgienv_error(q->env);
    if (cerr != NULL) {
        qbit_text(resp, 500, cerr->message);
        return 1;
    }
    return 0;
}

static int
not_found(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    return qbit_text(resp, 404, "Not Found");
}

/* qBittorrent: the wrong one of GET/POST is a 405; any other method is a
 * 400 with an empty body and the connection closed. */
static int
method_not_allowed(http_request_t *req, http_response_t *resp, unsigned allowed, void *ctx)
{
    (void)ctx;
    const char *m = http_request_method(req);
    if (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0 || strcmp(m, "HEAD") == 0) {
        http_router_set_allow(resp, allowed);
        return qbit_text(resp, 405, "Method Not Allowed");
    }
    http_response_set_status(resp, 400);
    http_response_set_header(resp, "Connection", "close");
    return 0;
}

static void
bad_request(http_response_t *resp, const mt_error_t *err, void *ctx)
{
    (void)ctx;
    qbit_text(resp, err->code == MT_ERR_TOO_LARGE ? 413 : 400,
              err->code == MT_ERR_TOO_LARGE ? "Payload Too Large" : "Bad Request");
}

int
main(void)
{
    qbit_t q = { .env = cgienv_new("qbit") };
    http_router_t router = {
        .routes = routes,
        .n_routes = HTTP_N_ROUTES(routes),
        .before = before,
        .not_found = not_found,
        .method_not_allowed = method_not_allowed,
    };
    http_app_t app = {
        .name = "qbit",
        .router = &router,
        .limits = http_limits_default(),
        .ctx = &q,
        .on_bad_request = bad_request,
    };
    app.limits.max_body = (size_t)conf_get_int(cgienv_conf(q.env), "http_max_body");
    int rc = http_serve(&app);
    cgienv_free(q.env);
    return rc;
}
