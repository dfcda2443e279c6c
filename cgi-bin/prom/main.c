/* main.c: cgi-bin/prom, the Prometheus endpoint: GET /metrics answers the
 * daemon's counters (its `metrics` command, asked at each scrape) and the
 * route families' request counters (slot files under metrics_dir), in the
 * Prometheus text format or OpenMetrics; who may read it is metrics_allow
 * (docs/metrics.md). Runs under FastCGI or as a plain CGI program. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/cgijson.h"
#include "prom/prom.h"
#include "util/log.h"

static int metrics(http_request_t *req, http_response_t *resp, void *ctx);

static const http_route_t routes[] = {
    { HTTP_M_GET | HTTP_M_HEAD, "/metrics", metrics, 0 },
};

/* daemon_metrics: the daemon's answer to `metrics`, or NULL when it is not
 * running or does not answer (the scrape still answers: muleteer_up 0). */
static json_object *
daemon_metrics(prom_t *p)
{
    mt_error_t *err = NULL;
    json_object *m = NULL;
    ctl_client_t *c = cgienv_request_ctl(p->env, &err);
    if (c != NULL && ctl_client_call(c, "metrics", NULL, &m, &err) != 0) {
        cgienv_request_ctl_drop(p->env);
        m = NULL;
    }
    if (err != NULL)
        log_debug("metrics: the daemon did not answer: %s", err->message);
    mt_error_free(err);
    return m;
}

static int
metrics(http_request_t *req, http_response_t *resp, void *ctx)
{
    prom_t *p = ctx;
    promfmt_t f = { .out = http_response_body(resp),
                    .mode = promfmt_mode_for_accept(http_request_header(req, "Accept")) };
    json_object *m = daemon_metrics(p);
    prom_render_daemon(&f, m);
    json_object_put(m);
    cgistats_family_t *fam = NULL;
    size_t n = 0;
    cgistats_read_dir(conf_get_str(cgienv_conf(p->env), "metrics_dir"), &fam, &n);
    prom_render_http(&f, fam, n);
    free(fam);
    promfmt_end(&f);
    if (f.bad)
        log_warn("metrics: a sample with an invalid name was left out");
    http_response_set_status(resp, 200);
    http_response_set_header(resp, "Content-Type", f.mode == PROMFMT_OPENMETRICS
                                                       ? PROMFMT_OPENMETRICS_TYPE
                                                       : PROMFMT_TEXT_TYPE);
    http_response_set_header(resp, "Cache-Control", "no-store");
    return 0;
}

/* -------------------------------------------------------------- hooks */

static void
derive(prom_t *p)
{
    webauth_conf_from(&p->auth, cgienv_conf(p->env));
    p->allow = prom_allow_parse(conf_get_str(cgienv_conf(p->env), "metrics_allow"));
}

static int
before(const http_route_t *route, http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)route;
    prom_t *p = ctx;
    if (cgienv_request_begin(p->env))
        derive(p);
    if (cgienv_answer_conf_error(p->env, resp))
        return 1;
    if (p->allow == PROM_ALLOW_INVALID) {
        cgijson_error(resp, 500, "configuration", "metrics_allow must be loopback, key or public");
        return 1;
    }
    if (!prom_needs_credentials(p->allow, http_request_remote_addr(req)))
        return 0;
    /* an account's credentials are worth its view_statistics */
    webauth_ident_t id;
    int rc = cgijson_require(p->env, &p->auth, req, resp, WEBAUTH_CAP_VIEW_STATISTICS, &id);
    webauth_ident_clear(&id);
    return rc;
}

static void
request_end(void *ctx)
{
    prom_t *p = ctx;
    cgienv_request_end(p->env);
}

int
main(void)
{
    prom_t p = { .env = cgienv_new("prom", cgijson_answer) };
    derive(&p);
    http_router_t router = {
        .routes = routes,
        .n_routes = HTTP_N_ROUTES(routes),
        .before = before,
        .not_found = cgijson_not_found,
        .method_not_allowed = cgijson_method_not_allowed,
    };
    http_app_t app = {
        .name = "prom",
        .router = &router,
        .limits = http_limits_default(),
        .ctx = &p,
        .on_bad_request = cgijson_bad_request,
        .on_request_end = request_end,
    };
    app.limits.max_body = 4096;
    int rc = http_serve(&app);
    cgienv_free(p.env);
    return rc;
}
