/* cache.h: cgi-bin/metrics' rendered answers, kept by each process and
 * sent again while the charts' tables have not changed (metrics_changes,
 * sql/040) and the window has not moved; large ones as files the web
 * server sends itself (X-Sendfile, common/cgifile.h). */
#ifndef MT_CGI_METRICS_CACHE_H
#define MT_CGI_METRICS_CACHE_H

#include <event2/buffer.h>
#include <stdbool.h>

#include "http/response.h"

/* mx_cache_answer: when an answer for key at generation gen is kept,
 * resp's body becomes it (its bytes, or its file) and true; false
 * otherwise. The caller has set the status and headers. */
bool mx_cache_answer(http_response_t *resp, const char *key, long long gen);

/* mx_cache_store: keeps resp's body (a complete 200 answer) for key at
 * generation gen, replacing any older one for key (the least recently
 * used entry goes when all are taken); a large body is written to a file
 * and resp answers from it. */
void mx_cache_store(http_response_t *resp, const char *key, long long gen);

#endif
