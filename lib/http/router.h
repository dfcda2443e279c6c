/* router.h: a FastCGI program's routes as a data table and the one
 * dispatcher that picks a handler by path and method. */
#ifndef MT_HTTP_ROUTER_H
#define MT_HTTP_ROUTER_H

#include <stddef.h>

#include "http/request.h"
#include "http/response.h"

/* A handler fills resp and returns 0, or -1 on failure: a failure that
 * left the status unset becomes "500 Internal Server Error". */
typedef int (*http_handler_fn)(http_request_t *req, http_response_t *resp, void *ctx);

/* Method bits for http_route_t.methods. A route allowing GET answers HEAD
 * too (same handler, body dropped by http_response_write). */
enum {
    HTTP_M_GET = 1,
    HTTP_M_POST = 2,
    HTTP_M_PUT = 4,
    HTTP_M_DELETE = 8,
    HTTP_M_HEAD = 16,
    HTTP_M_PATCH = 32,
};

/* One route. pattern is an exact path; a segment written "{name}"
 * captures one non-empty segment, read with http_request_path_param()
 * (e.g. "/indexer/{name}/api"). Matching is case-sensitive and byte-exact:
 * no trailing-slash or dot-segment folding. flags is the program's own
 * (e.g. an auth level read by the before hook). */
typedef struct {
    unsigned methods;
    const char *pattern;
    http_handler_fn handler;
    unsigned flags;
} http_route_t;

/* A route table and its hooks; any hook may be NULL.
 * - before: runs before the handler of the matched route. route is NULL
 *   when nothing matches (the request is about to get a 404 or 405), so
 *   an auth check can also hide unknown paths (qBittorrent answers 403
 *   before 404). Returning non-zero stops the request with whatever the
 *   hook put in resp (set a status: an unset one gives 500).
 * - not_found: no pattern matches the path. Default: 404 "Not Found".
 * - method_not_allowed: a pattern matches but not for this method;
 *   allowed has the methods the path accepts. Default: 405 "Method Not
 *   Allowed" with an Allow header.
 * The default answers are text/plain. */
typedef struct {
    const http_route_t *routes;
    size_t n_routes;
    int (*before)(const http_route_t *route, http_request_t *req, http_response_t *resp,
                  void *ctx);
    int (*not_found)(http_request_t *req, http_response_t *resp, void *ctx);
    int (*method_not_allowed)(http_request_t *req, http_response_t *resp, unsigned allowed,
                              void *ctx);
} http_router_t;

/* Number of entries in a static route array. */
#define HTTP_N_ROUTES(a) (sizeof(a) / sizeof((a)[0]))

/* http_method_bit: the HTTP_M_* bit for a method name (case-sensitive, as
 * HTTP methods are), or 0 for any other method. */
unsigned http_method_bit(const char *method);

/* http_router_set_allow: sets "Allow: GET, HEAD, POST" from a method mask
 * (HEAD added when GET is there). */
void http_router_set_allow(http_response_t *resp, unsigned methods);

/* http_router_match: the first route whose pattern matches path and whose
 * methods include method_bit (GET routes also match HEAD), or NULL. When
 * req is not NULL, the captured segments of the returned route are stored
 * in it. *allowed (may be NULL) gets the methods of every route matching
 * the path, for an Allow header; 0 means no pattern matched. */
const http_route_t *http_router_match(const http_router_t *router, unsigned method_bit,
                                      const char *path, http_request_t *req, unsigned *allowed);

/* http_router_dispatch: matches the request, runs before and the handler
 * (or not_found / method_not_allowed). Returns what the handler or hook
 * returned; on -1 the response is a 500 unless a status was set. */
int http_router_dispatch(const http_router_t *router, http_request_t *req, http_response_t *resp,
                         void *ctx);

#endif
