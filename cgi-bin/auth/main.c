/* main.c: cgi-bin/auth, the web API's sessions and users: its route
 * table (/api/auth/..., /api/users), the check of the caller before each
 * route, and what the handlers share (the body as JSON or form,
 * aMuTorrent's {success, message} answers). Runs under FastCGI or as a
 * plain CGI program (docs/web-api.md). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "util/log.h"

#define G HTTP_M_GET
#define P HTTP_M_POST
#define U HTTP_M_PUT
#define D HTTP_M_DELETE

static const http_route_t routes[] = {
    { P, "/api/auth/login", wa_login, WA_PUBLIC },
    { P, "/api/auth/logout", wa_logout, WA_PUBLIC },
    { G, "/api/auth/status", wa_status, WA_PUBLIC },
    { U, "/api/auth/profile", wa_profile, WA_AUTH },
    { G, "/api/users", wa_users_list, WA_ADMIN },
    { P, "/api/users", wa_users_create, WA_ADMIN },
    { U, "/api/users/{id}", wa_users_update, WA_ADMIN },
    { D, "/api/users/{id}", wa_users_delete, WA_ADMIN },
    { P, "/api/users/{id}/api-key", wa_users_api_key, WA_ADMIN },
};

/* ------------------------------------------------------------ the body */

json_object *
wa_body(wa_t *w, http_request_t *req)
{
    if (!w->body_read) {
        w->body_read = true;
        const char *type = http_request_media_type(req);
        if (type != NULL && strcmp(type, "application/json") == 0) {
            mt_error_t *err = NULL;
            w->body = http_request_json(req, &err);
            mt_error_free(err);
            if (w->body != NULL && !json_object_is_type(w->body, json_type_object)) {
                json_object_put(w->body);
                w->body = NULL;
            }
        }
    }
    return w->body;
}

const char *
wa_field(wa_t *w, http_request_t *req, const char *name)
{
    json_object *o = wa_body(w, req), *v = NULL;
    if (o != NULL)
        return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string)
                   ? json_object_get_string(v)
                   : NULL;
    return http_request_param(req, name);
}

bool
wa_flag(wa_t *w, http_request_t *req, const char *name, bool *present)
{
    json_object *o = wa_body(w, req), *v = NULL;
    if (present != NULL)
        *present = false;
    if (o != NULL) {
        if (!json_object_object_get_ex(o, name, &v) || v == NULL)
            return false;
        if (present != NULL)
            *present = true;
        return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
    }
    const char *s = http_request_param(req, name);
    if (s == NULL)
        return false;
    if (present != NULL)
        *present = true;
    return strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcasecmp(s, "on") == 0 ||
           strcasecmp(s, "yes") == 0;
}

/* ------------------------------------------------------------ answers */

int
wa_result(http_response_t *resp, int status, bool ok, const char *code, const char *message,
          json_object *extra)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(ok));
    json_object_object_add(o, "message", json_object_new_string(message));
    if (!ok) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "code", json_object_new_string(code));
        json_object_object_add(e, "message", json_object_new_string(message));
        json_object_object_add(o, "error", e);
    }
    if (extra != NULL) {
        json_object_object_foreach(extra, k, v) json_object_object_add(o, k, json_object_get(v));
        json_object_put(extra);
    }
    http_response_set_header(resp, "Cache-Control", "no-store");
    http_response_json(resp, status, o);
    json_object_put(o);
    return 0;
}

bool
wa_is_https(http_request_t *req)
{
    const char *h = http_request_env(req, "HTTPS");
    if (h != NULL && strcasecmp(h, "on") == 0)
        return true;
    const char *s = http_request_env(req, "REQUEST_SCHEME");
    return s != NULL && strcasecmp(s, "https") == 0;
}

/* -------------------------------------------------------------- hooks */

/* Runs before every request: a changed configuration file, configuration
 * errors, then who calls (not for public routes, nor for unknown ones,
 * which are a JSON 404 for everyone). */
static int
before(const http_route_t *route, http_request_t *req, http_response_t *resp, void *ctx)
{
    wa_t *w = ctx;
    if (cgienv_request_begin(w->env))
        webauth_conf_from(&w->auth, cgienv_conf(w->env));
    if (cgienv_answer_conf_error(w->env, resp))
        return 1;
    http_response_set_header(resp, "Cache-Control", "no-store");
    if (route == NULL || (route->flags & WA_PUBLIC))
        return 0;
    if (cgijson_identify(w->env, &w->auth, req, resp, &w->who) != 0)
        return 1;
    if ((route->flags & WA_ADMIN) && !w->who.is_admin) {
        cgijson_error(resp, 403, "forbidden", "Only an admin may manage users");
        return 1;
    }
    return 0;
}

/* After every request: what it kept goes. */
static void
request_end(void *ctx)
{
    wa_t *w = ctx;
    webauth_ident_clear(&w->who);
    json_object_put(w->body);
    w->body = NULL;
    w->body_read = false;
    cgienv_request_end(w->env);
}

int
main(void)
{
    wa_t w = { .env = cgienv_new("auth", cgijson_answer) };
    webauth_conf_from(&w.auth, cgienv_conf(w.env));
    http_router_t router = {
        .routes = routes,
        .n_routes = HTTP_N_ROUTES(routes),
        .before = before,
        .not_found = cgijson_not_found,
        .method_not_allowed = cgijson_method_not_allowed,
    };
    http_app_t app = {
        .name = "auth",
        .router = &router,
        .limits = http_limits_default(),
        .ctx = &w,
        .on_bad_request = cgijson_bad_request,
        .on_request_end = request_end,
    };
    app.limits.max_body = 65536;
    int rc = http_serve(&app);
    cgienv_free(w.env);
    return rc;
}
