/* search.h: eD2K searches (ed2k-protocol.md §3.5, §4): the user's
 * expression parsed and sent to the connected server over TCP (with "more
 * results") and to the other known servers over UDP; results merged by
 * hash, kept in memory for the control socket and written to the
 * searches / search_results tables as they arrive. */
#ifndef MT_DAEMON_SEARCH_H
#define MT_DAEMON_SEARCH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct muleteerd;
struct sl_server;
struct ed2k_search_result;
typedef struct searches searches_t;

/* search_new: takes the server connection's search results
 * (srv_set_search_sink) and follows its loss on the bus: d->server must
 * exist. */
searches_t *search_new(struct muleteerd *d);
void search_free(searches_t *s);
/* search_tick: once a second: the next UDP requests, timeouts, the
 * database. */
void search_tick(searches_t *s);

/* search_start: parses query (search.md's language) and sends it: to the
 * connected server over TCP, and for a global search (!local) to the other
 * servers of the list over UDP. The search's row (caller puts it), or NULL:
 * MT_ERR_INVALID with the parser's message, MT_ERR_UNAVAILABLE when no
 * server can be asked. */
json_object *search_start(searches_t *ss, const char *query, bool global, mt_error_t **err);
/* The searches in memory, by id (MT_ERR_NOT_FOUND for an older one):
 * search_check: 0 when it is there; search_results_json: {search, results (offset, at most limit), more_available};
 * search_stop: stops it; search_more: asks the server for the next page
 * (MT_ERR_INVALID when it has none now, MT_ERR_UNAVAILABLE when not
 * connected). Each returns the search's row (caller puts it) or NULL. */
int search_check(searches_t *ss, int64_t id, mt_error_t **err);
json_object *search_results_json(searches_t *ss, int64_t id, size_t offset, size_t limit,
                                 mt_error_t **err);
json_object *search_stop(searches_t *ss, int64_t id, mt_error_t **err);
json_object *search_more(searches_t *ss, int64_t id, mt_error_t **err);
/* search_kad_start_fn: starts a Kad keyword search for search id with
 * keywords (the words of the expression's first string term) and tree
 * (the whole expression, §3.5); 0 when it started: its results then come
 * through search_kad_results. */
typedef int (*search_kad_start_fn)(void *ctx, int64_t id, const char *keywords,
                                   const uint8_t *tree, size_t tree_len);
/* search_set_kad: searches also ask Kad through start (NULL: they do not).
 * A search that Kad answers may start with no server at all, and ends
 * once Kad is done too. */
void search_set_kad(searches_t *ss, search_kad_start_fn start, void *ctx);
/* search_kad_results: Kad results of search id (ss is the searches_t),
 * merged with the servers' under the origin "kad"; the strings of r are
 * taken. done: Kad has finished with this search. Fits kad_results_fn. */
void search_kad_results(void *ss, int64_t id, struct ed2k_search_result *r, size_t n, bool done);
/* search_list_json: the rows of the searches in memory, an array. */
json_object *search_list_json(const searches_t *ss);

#endif
