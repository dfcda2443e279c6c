/* http_echo.c: a minimal program on http_serve for tests: it answers with
 * the request's method, path, parameters and credentials as JSON, and
 * notes each end of a request in $HTTP_ECHO_END_LOG when that is set. */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "http/http.h"

static json_object *
params_json(const http_request_t *req, http_source_t src)
{
    size_t n;
    const http_param_t *p = http_request_params(req, src, &n);
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(p[i].name));
        json_object_object_add(o, "value",
                               json_object_new_string_len(p[i].value, (int)p[i].value_len));
        json_object_object_add(o, "len", json_object_new_int64((int64_t)p[i].value_len));
        if (p[i].filename != NULL)
            json_object_object_add(o, "filename", json_object_new_string(p[i].filename));
        if (p[i].content_type != NULL)
            json_object_object_add(o, "content_type", json_object_new_string(p[i].content_type));
        json_object_array_add(arr, o);
    }
    return arr;
}

static void
add_opt_string(json_object *o, const char *key, const char *value)
{
    if (value != NULL)
        json_object_object_add(o, key, json_object_new_string(value));
}

static int
echo(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)ctx;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "method", json_object_new_string(http_request_method(req)));
    json_object_object_add(o, "path", json_object_new_string(http_request_path(req)));
    json_object_object_add(o, "query", params_json(req, HTTP_SRC_QUERY));
    json_object_object_add(o, "form", params_json(req, HTTP_SRC_FORM));
    add_opt_string(o, "sid", http_request_cookie(req, "SID"));
    add_opt_string(o, "id", http_request_path_param(req, "id"));
    const char *user, *pass;
    if (http_request_basic_auth(req, &user, &pass) == 0) {
        add_opt_string(o, "user", user);
        add_opt_string(o, "pass", pass);
    }
    add_opt_string(o, "bearer", http_request_bearer(req));
    http_response_json(resp, 200, o);
    json_object_put(o);
    return 0;
}

static int
fail(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    http_response_printf(resp, "partial output that must not be sent");
    return -1;
}

static int
fixed(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    return http_response_text(resp, 200, "hello\n");
}

static const http_route_t routes[] = {
    { HTTP_M_GET | HTTP_M_POST, "/echo", echo, 0 },
    { HTTP_M_GET, "/items/{id}", echo, 0 },
    { HTTP_M_GET, "/fail", fail, 0 },
    { HTTP_M_GET, "/hello", fixed, 0 },
};

/* on_request_end: appends "end" and the pid to $HTTP_ECHO_END_LOG, so
 * check_http sees the hook run once per request in a real process. */
static void
request_end(void *ctx)
{
    (void)ctx;
    const char *path = getenv("HTTP_ECHO_END_LOG");
    if (path == NULL || *path == '\0')
        return;
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return;
    fprintf(f, "end %ld\n", (long)getpid());
    fclose(f);
}

static const http_router_t router = {
    .routes = routes,
    .n_routes = HTTP_N_ROUTES(routes),
};

int
main(void)
{
    http_app_t app = {
        .name = "http_echo",
        .router = &router,
        .limits = http_limits_default(),
        .on_request_end = request_end,
    };
    app.limits.max_body = 1024 * 1024;
    return http_serve(&app);
}
