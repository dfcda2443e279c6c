/* metrics.h: cgi-bin/metrics, the /api/metrics FastCGI program
 * (docs/web-api.md): the program's state and the queries that fill its
 * charts from transfer_samples (the 24-hour speed chart) and
 * transfer_rollups (everything else). */
#ifndef MT_CGI_METRICS_METRICS_H
#define MT_CGI_METRICS_METRICS_H

#include <stdint.h>

#include "common/cgienv.h"
#include "http/http.h"
#include "metrics/series.h"
#include "webauth/auth.h"

typedef struct {
    cgienv_t *env;
    webauth_conf_t auth;
} mx_t;

/* mx_query_generation: the generation of metrics_changes (sql/027) for
 * node (NULL: all nodes), which grows with every change to the rows the
 * charts are made of; -1 after answering 503. Read it before the charts:
 * an answer is then at least as new as its generation. */
long long mx_query_generation(mx_t *m, http_response_t *resp, const char *node);

/* mx_query_speed: r's speed chart from window start from_s, for node
 * (NULL: all nodes added up) into s (initialised by the caller with
 * r->speed_res). -1 after answering 503 (the database). */
int mx_query_speed(mx_t *m, http_response_t *resp, const mx_range_t *r, const char *node,
                   int64_t from_s, mx_series_t *s);

/* mx_query_history: r's history chart (r->hist_res buckets made of the
 * r->hist_rollup rollups), as mx_query_speed. */
int mx_query_history(mx_t *m, http_response_t *resp, const mx_range_t *r, const char *node,
                     int64_t from_s, mx_series_t *s);

#endif
