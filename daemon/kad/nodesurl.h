/* nodesurl.h: nodes.dat imports from http(s) URLs for the Kad node (kad
 * import URL, ed2k://|nodeslist|URL|/ links, kad_nodes_url on a first
 * start): each fetched with urlfetch, then handed to an import function;
 * the ten latest kept with their outcome. */
#ifndef MT_DAEMON_KAD_NODESURL_H
#define MT_DAEMON_KAD_NODESURL_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/core/worker.h"
#include "util/error.h"

typedef struct nodesurl nodesurl_t;

/* The largest nodes.dat fetched (eMule's hold a few hundred contacts of
 * 25 bytes) and the time a fetch may take. */
#define NODESURL_MAX_BYTES (1u << 20)
#define NODESURL_TIMEOUT_S 60

/* nodesurl_import_fn: adds the contacts of the nodes.dat image data (read
 * from url); *added new of *total. 0, or -1 with err (a bad image). */
typedef int (*nodesurl_import_fn)(void *ctx, const uint8_t *data, size_t len, const char *url,
                                  size_t *added, size_t *total, mt_error_t **err);

/* nodesurl_new: imports that fetch on pool's workers and import with fn. */
nodesurl_t *nodesurl_new(worker_pool_t *pool, nodesurl_import_fn fn, void *ctx);
/* nodesurl_free: NULL is fine. Fetches still running must have ended
 * (the pool drained or freed) first. */
void nodesurl_free(nodesurl_t *n);
/* nodesurl_start: starts fetching url; the import's description {url,
 * state: "fetching", added, total, error, started} (caller puts it), or
 * NULL with MT_ERR_INVALID (not an http(s) URL) or MT_ERR_UNAVAILABLE (no
 * workers). The outcome shows in nodesurl_to_json: state "done" or
 * "failed" with error ("cannot fetch URL: HTTP status 404", "URL is not a
 * nodes.dat: ..."). */
json_object *nodesurl_start(nodesurl_t *n, const char *url, mt_error_t **err);
/* nodesurl_to_json: the ten latest imports, newest first (caller puts). */
json_object *nodesurl_to_json(const nodesurl_t *n);

#endif
