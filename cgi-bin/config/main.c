/* main.c: cgi-bin/config, the web API's /api/config (with check-path), /api/version and
 * /api/item routes: the route table, the authentication that runs before
 * the routes that are not public, and JSON error objects for everything
 * that fails. Runs under FastCGI or as a plain CGI program. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config/cfgapi.h"

#define G HTTP_M_GET
#define P HTTP_M_POST

static const http_route_t routes[] = {
    /* aMuTorrent: "settings is not a capability, it's admin-only", reads
     * as well as writes (configAPI.js) */
    { G, "/api/config", cfgapi_config_get, CFGAPI_ADMIN },
    { HTTP_M_PATCH, "/api/config", cfgapi_config_patch, CFGAPI_ADMIN },
    { G, "/api/config/status", cfgapi_config_status, CFGAPI_PUBLIC },
    { G, "/api/version", cfgapi_version, CFGAPI_PUBLIC },
    { P, "/api/version/seen", cfgapi_version_seen, CFGAPI_AUTH },
    { G, "/api/item/detail/{hash}", cfgapi_item_detail, CFGAPI_AUTH },
    /* aMuTorrent's category form asks it: whoever may manage categories
     * (aMuTorrent: an admin, who has every capability) */
    { P, "/api/config/check-path", cfgapi_check_path, CFGAPI_CATEGORIES },
};

/* before: a changed configuration file, its errors, then the caller of
 * every route that is not public (unknown paths too, so that they are
 * hidden from callers without credentials): an admin for CFGAPI_ADMIN
 * (403 for another account), manage_categories for CFGAPI_CATEGORIES;
 * c->owner limits what one without
 * view_all_downloads sees to its own downloads. */
static int
before(const http_route_t *route, http_request_t *req, http_response_t *resp, void *ctx)
{
    cfgapi_t *c = ctx;
    if (cgienv_request_begin(c->env))
        webauth_conf_from(&c->auth, cgienv_conf(c->env)); /* a new api_key, ... */
    if (cgienv_answer_conf_error(c->env, resp))
        return 1;
    if (route != NULL && (route->flags & CFGAPI_PUBLIC))
        return 0;
    uint32_t need = route != NULL && (route->flags & CFGAPI_ADMIN) ? CGIJSON_ADMIN : 0;
    if (route != NULL && (route->flags & CFGAPI_CATEGORIES))
        need |= WEBAUTH_CAP_MANAGE_CATEGORIES;
    webauth_ident_t id;
    int rc = cgijson_require(c->env, &c->auth, req, resp, need, &id);
    c->is_admin = id.is_admin;
    c->user = id.user; /* handed over */
    c->owner = webauth_owner_of(c->user, id.caps, WEBAUTH_CAP_VIEW_ALL_DOWNLOADS);
    return rc;
}

static void
request_end(void *ctx)
{
    cfgapi_t *c = ctx;
    free(c->user);
    c->user = NULL;
    c->owner = NULL;
    c->is_admin = false;
    cgienv_request_end(c->env);
}

int
main(void)
{
    cfgapi_t c = { .env = cgienv_new("config", cgijson_answer) };
    webauth_conf_from(&c.auth, cgienv_conf(c.env));
    http_router_t router = {
        .routes = routes,
        .n_routes = HTTP_N_ROUTES(routes),
        .before = before,
        .not_found = cgijson_not_found,
        .method_not_allowed = cgijson_method_not_allowed,
    };
    http_app_t app = {
        .name = "config",
        .router = &router,
        .limits = http_limits_default(),
        .ctx = &c,
        .on_bad_request = cgijson_bad_request,
        .on_request_end = request_end,
    };
    app.limits.max_body = 65536;
    int rc = http_serve(&app);
    cgienv_free(c.env);
    return rc;
}
