/* cgicache.h: rendered answers a FastCGI process keeps and sends again
 * while what they were made of has not changed: each under a key the
 * program builds from the request and a generation it reads from the
 * database (metrics_changes, history_changes); large ones as files the web
 * server sends itself (X-Sendfile, cgifile.h). */
#ifndef MT_CGI_COMMON_CGICACHE_H
#define MT_CGI_COMMON_CGICACHE_H

#include <event2/buffer.h>
#include <stdbool.h>

#include "http/response.h"

/* cgicache_answer: when an answer for key at generation gen is kept,
 * resp's body becomes it (its bytes, or its file) and true; false
 * otherwise. The caller has set the status and headers. */
bool cgicache_answer(http_response_t *resp, const char *key, long long gen);

/* cgicache_store: keeps resp's body (a complete 200 answer) for key at
 * generation gen, replacing any older one for key (the least recently
 * used entry goes when all are taken); a large body is written to a file
 * and resp answers from it. */
void cgicache_store(http_response_t *resp, const char *key, long long gen);

#endif
