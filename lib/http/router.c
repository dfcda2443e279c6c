/* router.c: matches a request path against "{name}" patterns, checks the
 * method, and runs the before hook and the route's handler. */
#include "config.h"

#include "http/router.h"

#include <stdio.h>
#include <string.h>

/* Captures of one pattern; more "{name}" segments than this never match. */
#define MAX_CAPTURES 8

typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} capture_t;

unsigned
http_method_bit(const char *method)
{
    static const struct {
        const char *name;
        unsigned bit;
    } methods[] = {
        { "GET", HTTP_M_GET },       { "POST", HTTP_M_POST },   { "PUT", HTTP_M_PUT },
        { "DELETE", HTTP_M_DELETE }, { "HEAD", HTTP_M_HEAD },   { "PATCH", HTTP_M_PATCH },
    };
    if (method == NULL)
        return 0;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].name, method) == 0)
            return methods[i].bit;
    return 0;
}

void
http_router_set_allow(http_response_t *resp, unsigned methods)
{
    static const struct {
        const char *name;
        unsigned bit;
    } order[] = {
        { "GET", HTTP_M_GET },   { "HEAD", HTTP_M_HEAD },     { "POST", HTTP_M_POST },
        { "PUT", HTTP_M_PUT },   { "DELETE", HTTP_M_DELETE }, { "PATCH", HTTP_M_PATCH },
    };
    if (methods & HTTP_M_GET)
        methods |= HTTP_M_HEAD;
    char buf[64] = "";
    size_t o = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(methods & order[i].bit))
            continue;
        int n = snprintf(buf + o, sizeof buf - o, "%s%s", o ? ", " : "", order[i].name);
        if (n > 0)
            o += (size_t)n;
    }
    http_response_set_header(resp, "Allow", buf);
}

/* match_pattern: 1 when path matches pattern, with the captures in caps. */
static int
match_pattern(const char *pattern, const char *path, capture_t *caps, size_t *n_caps)
{
    const char *p = pattern, *s = path;
    *n_caps = 0;
    while (*p != '\0') {
        if (*p == '{' && p > pattern && p[-1] == '/') {
            const char *close = strchr(p, '}');
            if (close != NULL && (close[1] == '/' || close[1] == '\0') && close > p + 1) {
                const char *se = s;
                while (*se != '\0' && *se != '/')
                    se++;
                if (se == s || *n_caps == MAX_CAPTURES)
                    return 0;
                caps[*n_caps] = (capture_t){ p + 1, (size_t)(close - p - 1), s, (size_t)(se - s) };
                (*n_caps)++;
                p = close + 1;
                s = se;
                continue;
            }
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    return *s == '\0';
}

const http_route_t *
http_router_match(const http_router_t *router, unsigned method_bit, const char *path,
                  http_request_t *req, unsigned *allowed)
{
    unsigned allow = 0;
    const http_route_t *found = NULL;
    capture_t caps[MAX_CAPTURES], found_caps[MAX_CAPTURES];
    size_t n_caps = 0, n_found = 0;
    if (router != NULL && path != NULL) {
        for (size_t i = 0; i < router->n_routes; i++) {
            const http_route_t *r = &router->routes[i];
            if (r->pattern == NULL || !match_pattern(r->pattern, path, caps, &n_caps))
                continue;
            allow |= r->methods;
            unsigned m = r->methods;
            if (m & HTTP_M_GET)
                m |= HTTP_M_HEAD;
            if (found == NULL && (m & method_bit)) {
                found = r;
                memcpy(found_caps, caps, n_caps * sizeof caps[0]);
                n_found = n_caps;
            }
        }
    }
    if (allowed != NULL)
        *allowed = allow;
    if (req != NULL)
        http_request_clear_path_params(req);
    if (found != NULL && req != NULL) {
        for (size_t i = 0; i < n_found; i++) {
            char name[64];
            size_t nl = found_caps[i].name_len < sizeof name - 1 ? found_caps[i].name_len
                                                                  : sizeof name - 1;
            memcpy(name, found_caps[i].name, nl);
            name[nl] = '\0';
            http_request_set_path_param(req, name, found_caps[i].value, found_caps[i].value_len);
        }
    }
    return found;
}

static int
finish(int rc, http_response_t *resp)
{
    if (rc != 0 && !http_response_status_is_set(resp)) {
        http_response_reset(resp);
        http_response_text(resp, 500, "Internal Server Error");
    }
    return rc;
}

int
http_router_dispatch(const http_router_t *router, http_request_t *req, http_response_t *resp,
                     void *ctx)
{
    unsigned allowed = 0;
    const http_route_t *route = http_router_match(
        router, http_method_bit(http_request_method(req)), http_request_path(req), req, &allowed);
    if (router != NULL && router->before != NULL) {
        int rc = router->before(route, req, resp, ctx);
        if (rc != 0) {
            /* Stopping without a status is a hook bug: answer 500 rather
             * than an empty 200. */
            if (!http_response_status_is_set(resp))
                return finish(-1, resp);
            return rc < 0 ? -1 : 0;
        }
    }
    if (route != NULL) {
        if (route->handler == NULL)
            return finish(-1, resp);
        return finish(route->handler(req, resp, ctx), resp);
    }
    if (allowed == 0) {
        if (router != NULL && router->not_found != NULL)
            return finish(router->not_found(req, resp, ctx), resp);
        http_response_text(resp, 404, "Not Found");
        return 0;
    }
    if (router != NULL && router->method_not_allowed != NULL)
        return finish(router->method_not_allowed(req, resp, allowed, ctx), resp);
    http_response_text(resp, 405, "Method Not Allowed");
    http_router_set_allow(resp, allowed);
    return 0;
}
