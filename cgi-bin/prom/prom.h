/* prom.h: cgi-bin/prom, the Prometheus endpoint /metrics: the program's
 * context and the rendering of the daemon's counters and the programs'
 * request counters (docs/metrics.md). */
#ifndef MT_CGI_PROM_H
#define MT_CGI_PROM_H

#include <json-c/json.h>

#include "common/cgienv.h"
#include "common/cgistats.h"
#include "prom/access.h"
#include "prom/promfmt.h"
#include "webauth/auth.h"

typedef struct prom {
    cgienv_t *env;
    webauth_conf_t auth;
    prom_allow_t allow;
} prom_t;

/* prom_render_daemon: the daemon's families from its `metrics` answer m;
 * with m NULL (the daemon did not answer) only muleteer_up 0. */
void prom_render_daemon(promfmt_t *f, json_object *m);
/* prom_render_http: muleteer_http_requests_total and
 * muleteer_http_request_duration_seconds of each route family. */
void prom_render_http(promfmt_t *f, const cgistats_family_t *fam, size_t n);

#endif
