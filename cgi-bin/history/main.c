/* main.c: cgi-bin/history, the /api/history routes of aMuTorrent's web
 * API (history.fcgi): its route table, the authentication that runs
 * before every route (cgijson_auth) and JSON error objects for everything
 * that fails. Runs under FastCGI or as a plain CGI program
 * (docs/web-api.md). */
#include "config.h"

#include <stdlib.h>

#include "history/history.h"
#include "util/log.h"

#define G HTTP_M_GET
#define D HTTP_M_DELETE

/* Each route's flags are the capabilities its caller needs, as
 * aMuTorrent's historyAPI.js asks them. */
#define VIEW WEBAUTH_CAP_VIEW_HISTORY
#define CLEAR WEBAUTH_CAP_CLEAR_HISTORY

/* Fixed paths first: the router takes the first pattern that matches. */
static const http_route_t routes[] = {
    { G, "/api/history", hist_list, VIEW },
    { G, "/api/history/all", hist_all, VIEW },
    { G, "/api/history/stats", hist_stats, VIEW },
    { G, "/api/history/export", hist_export, VIEW },
    { G, "/api/history/{hash}", hist_get, VIEW },
    { D, "/api/history/{hash}", hist_delete, CLEAR },
};

bool
hist_track_username(const hist_t *h)
{
    return conf_get_bool(cgienv_conf(h->env), "track_username");
}

/* before: the configuration (reloaded when its file changed), then the
 * caller: every path, known or not, needs a session or the API key, and
 * a route the capabilities of its flags (403 without). A caller without
 * view_all_downloads sees, and deletes, only the history of the
 * downloads it added (h->owner). */
static int
before(const http_route_t *route, http_request_t *req, http_response_t *resp, void *ctx)
{
    hist_t *h = ctx;
    if (cgienv_request_begin(h->env))
        webauth_conf_from(&h->auth, cgienv_conf(h->env));
    if (cgienv_answer_conf_error(h->env, resp))
        return 1;
    webauth_ident_t id;
    int rc = cgijson_require(h->env, &h->auth, req, resp, route != NULL ? route->flags : 0, &id);
    h->user = id.user; /* handed over */
    h->owner = webauth_owner_of(h->user, id.caps, WEBAUTH_CAP_VIEW_ALL_DOWNLOADS);
    return rc;
}

static void
request_end(void *ctx)
{
    hist_t *h = ctx;
    free(h->user);
    h->user = NULL;
    h->owner = NULL;
    cgienv_request_end(h->env);
}

int
main(void)
{
    hist_t h = { .env = cgienv_new("history", cgijson_answer) };
    webauth_conf_from(&h.auth, cgienv_conf(h.env));
    http_router_t router = {
        .routes = routes,
        .n_routes = HTTP_N_ROUTES(routes),
        .before = before,
        .not_found = cgijson_not_found,
        .method_not_allowed = cgijson_method_not_allowed,
    };
    http_app_t app = {
        .name = "history",
        .router = &router,
        .limits = http_limits_default(),
        .ctx = &h,
        .on_bad_request = cgijson_bad_request,
        .on_request_end = request_end,
    };
    app.limits.max_body = 4096;
    int rc = http_serve(&app);
    cgienv_free(h.env);
    return rc;
}
