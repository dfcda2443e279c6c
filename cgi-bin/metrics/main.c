/* main.c: cgi-bin/metrics, the /api/metrics FastCGI program: its route
 * table (speed-history, history, stats, dashboard), the authentication
 * every route needs, the strict reading of range= and node=, the answers
 * kept while their charts are unchanged (common/cgicache.h), and JSON
 * errors for everything that fails. Runs under FastCGI or as a plain CGI
 * program (docs/web-api.md). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cgicache.h"
#include "common/cgijson.h"
#include "metrics/metrics.h"
#include "util/log.h"
#include "util/xalloc.h"

#define G HTTP_M_GET

static int mx_speed_history(http_request_t *req, http_response_t *resp, void *ctx);
static int mx_history(http_request_t *req, http_response_t *resp, void *ctx);
static int mx_stats(http_request_t *req, http_response_t *resp, void *ctx);
static int mx_dashboard(http_request_t *req, http_response_t *resp, void *ctx);

static const http_route_t routes[] = {
    { G, "/api/metrics/speed-history", mx_speed_history, WEBAUTH_CAP_VIEW_STATISTICS },
    { G, "/api/metrics/history", mx_history, WEBAUTH_CAP_VIEW_STATISTICS },
    { G, "/api/metrics/stats", mx_stats, WEBAUTH_CAP_VIEW_STATISTICS },
    { G, "/api/metrics/dashboard", mx_dashboard, WEBAUTH_CAP_VIEW_STATISTICS },
};

/* The longest node name accepted in node= (node_name's own limit). */
#define MX_NODE_MAX 255

/* ---------------------------------------------------------- parameters */

/* one_param: the query parameter name, NULL when absent; -1 after a 400
 * when it is given more than once. */
static int
one_param(http_request_t *req, http_response_t *resp, const char *name, const char **v)
{
    *v = NULL;
    size_t n = http_request_count_param(req, HTTP_SRC_QUERY, name);
    if (n > 1)
        return cgijson_bad_param(resp, name, "given more than once"), -1;
    if (n == 1)
        *v = http_request_query(req, name);
    return 0;
}

/* A request's parameters: the range (24h when absent, as aMuTorrent),
 * the node (NULL: all nodes added up) and the starts of the range's two
 * charts now. */
typedef struct {
    const mx_range_t *range;
    const char *node;
    int64_t speed_from, hist_from;
} mx_args_t;

/* args: reads range= and node=; -1 after a 400 naming the parameter. */
static int
args(http_request_t *req, http_response_t *resp, mx_args_t *a)
{
    const char *range, *node;
    if (one_param(req, resp, "range", &range) != 0 || one_param(req, resp, "node", &node) != 0)
        return -1;
    a->range = mx_range_find(range != NULL ? range : "24h");
    if (a->range == NULL)
        return cgijson_bad_param(resp, "range", "range must be 24h, 7d or 30d"), -1;
    if (node != NULL && (*node == '\0' || strlen(node) > MX_NODE_MAX))
        return cgijson_bad_param(resp, "node", "node must be a node name (1 to 255 bytes)"), -1;
    a->node = node;
    int64_t now_s = (int64_t)time(NULL);
    a->speed_from = mx_window_start(a->range, a->range->speed_res, now_s);
    a->hist_from = mx_window_start(a->range, a->range->hist_res, now_s);
    return 0;
}

/* ------------------------------------------------------------ answers */

/* begin_json: a 200 JSON answer whose body the caller writes. */
static struct evbuffer *
begin_json(http_response_t *resp)
{
    http_response_set_status(resp, 200);
    http_response_set_header(resp, "Content-Type", "application/json");
    http_response_set_header(resp, "Cache-Control", "no-store");
    struct evbuffer *b = http_response_body(resp);
    evbuffer_drain(b, evbuffer_get_length(b));
    return b;
}

/* speed / history: a chart of the request's range, into s. */
static int
speed(mx_t *m, http_response_t *resp, const mx_args_t *a, mx_series_t *s)
{
    mx_series_init(s, a->range->speed_res);
    return mx_query_speed(m, resp, a->range, a->node, a->speed_from, s);
}

static int
history(mx_t *m, http_response_t *resp, const mx_args_t *a, mx_series_t *s)
{
    mx_series_init(s, a->range->hist_res);
    return mx_query_history(m, resp, a->range, a->node, a->hist_from, s);
}

/* The charts a route shows. */
enum { USES_SPEED = 1, USES_HISTORY = 2 };

/* A route's body from the database: 0 with a 200 answer written, -1
 * after answering an error. */
typedef int (*render_fn)(mx_t *m, http_response_t *resp, const mx_args_t *a);

/* answer: the route's answer for the request: the one this process
 * keeps when the charts' rows (their generation) and windows are the
 * same, else rendered by render and kept. The generation is read before
 * the charts, so that a kept answer is never older than its key. */
static int
answer(http_request_t *req, http_response_t *resp, mx_t *m, const char *route, int uses,
       render_fn render)
{
    mx_args_t a;
    if (args(req, resp, &a) != 0)
        return 0;
    long long gen = mx_query_generation(m, resp, a.node);
    if (gen < 0)
        return 0;
    /* the node last: the fields before it have fixed forms */
    char *key = xasprintf("%s|%s|%lld|%lld|%s%s", route, a.range->name,
                          uses & USES_SPEED ? (long long)a.speed_from : -1LL,
                          uses & USES_HISTORY ? (long long)a.hist_from : -1LL,
                          a.node != NULL ? "=" : "*", a.node != NULL ? a.node : "");
    begin_json(resp);
    if (!cgicache_answer(resp, key, gen) && render(m, resp, &a) == 0)
        cgicache_store(resp, key, gen);
    free(key);
    return 0;
}

/* ------------------------------------------------------------- routes */

static int
render_speed(mx_t *m, http_response_t *resp, const mx_args_t *a)
{
    mx_series_t s;
    int rc = speed(m, resp, a, &s);
    if (rc == 0)
        mx_write_data(begin_json(resp), a->range, &s, MX_SPEED, false);
    mx_series_clear(&s);
    return rc;
}

static int
render_history(mx_t *m, http_response_t *resp, const mx_args_t *a)
{
    mx_series_t s;
    int rc = history(m, resp, a, &s);
    if (rc == 0)
        mx_write_data(begin_json(resp), a->range, &s, MX_HISTORY, false);
    mx_series_clear(&s);
    return rc;
}

static int
render_stats(mx_t *m, http_response_t *resp, const mx_args_t *a)
{
    mx_series_t s;
    int rc = history(m, resp, a, &s);
    if (rc == 0) {
        mx_stats_t st;
        mx_stats_of(&s, &st);
        mx_write_stats(begin_json(resp), a->range, &st);
    }
    mx_series_clear(&s);
    return rc;
}

/* The one route aMuTorrent's UI calls: {"speedData", "historicalData",
 * "historicalStats"}, buckets with the ed2k and bittorrent breakdown. */
static int
render_dashboard(mx_t *m, http_response_t *resp, const mx_args_t *a)
{
    mx_series_t sp, hi;
    mx_series_init(&hi, a->range->hist_res);
    int rc = speed(m, resp, a, &sp);
    if (rc == 0)
        rc = history(m, resp, a, &hi);
    if (rc == 0) {
        mx_stats_t st;
        mx_stats_of(&hi, &st);
        struct evbuffer *b = begin_json(resp);
        evbuffer_add(b, "{\"speedData\":", 13);
        mx_write_data(b, a->range, &sp, MX_SPEED, true);
        evbuffer_add(b, ",\"historicalData\":", 18);
        mx_write_data(b, a->range, &hi, MX_HISTORY, true);
        evbuffer_add(b, ",\"historicalStats\":", 19);
        mx_write_stats(b, a->range, &st);
        evbuffer_add(b, "}", 1);
    }
    mx_series_clear(&sp);
    mx_series_clear(&hi);
    return rc;
}

static int
mx_speed_history(http_request_t *req, http_response_t *resp, void *ctx)
{
    return answer(req, resp, ctx, "speed", USES_SPEED, render_speed);
}

static int
mx_history(http_request_t *req, http_response_t *resp, void *ctx)
{
    return answer(req, resp, ctx, "history", USES_HISTORY, render_history);
}

static int
mx_stats(http_request_t *req, http_response_t *resp, void *ctx)
{
    return answer(req, resp, ctx, "stats", USES_HISTORY, render_stats);
}

static int
mx_dashboard(http_request_t *req, http_response_t *resp, void *ctx)
{
    return answer(req, resp, ctx, "dashboard", USES_SPEED | USES_HISTORY, render_dashboard);
}

/* -------------------------------------------------------------- hooks */

/* before: the configuration (reloaded when changed), then who calls:
 * every route needs a session, the API key or HTTP Basic, of a caller
 * with the capabilities in the route's flags (view_statistics, as
 * aMuTorrent's metrics routes need). */
static int
before(const http_route_t *route, http_request_t *req, http_response_t *resp, void *ctx)
{
    mx_t *m = ctx;
    if (cgienv_request_begin(m->env))
        webauth_conf_from(&m->auth, cgienv_conf(m->env));
    if (cgienv_answer_conf_error(m->env, resp))
        return 1;
    if (route == NULL)
        return 0;
    webauth_ident_t id;
    int rc = cgijson_require(m->env, &m->auth, req, resp, route->flags, &id);
    webauth_ident_clear(&id);
    return rc;
}

static void
request_end(void *ctx)
{
    mx_t *m = ctx;
    cgienv_request_end(m->env);
}

int
main(void)
{
    mx_t m = { .env = cgienv_new("metrics", cgijson_answer) };
    webauth_conf_from(&m.auth, cgienv_conf(m.env));
    http_router_t router = {
        .routes = routes,
        .n_routes = HTTP_N_ROUTES(routes),
        .before = before,
        .not_found = cgijson_not_found,
        .method_not_allowed = cgijson_method_not_allowed,
    };
    http_app_t app = {
        .name = "metrics",
        .router = &router,
        .limits = http_limits_default(),
        .ctx = &m,
        .on_bad_request = cgijson_bad_request,
        .on_request_end = request_end,
    };
    app.limits.max_body = 65536;
    int rc = http_serve(&app);
    cgienv_free(m.env);
    return rc;
}
