/* search.h: eD2K searches (ed2k-protocol.md §3.5, §4): the user's
 * expression parsed and sent to the connected server over TCP (with "more
 * results") and to the other known servers over UDP; results merged by
 * hash, kept in memory for the control socket and written to the
 * searches / search_results tables as they arrive. */
#ifndef MT_DAEMON_SEARCH_H
#define MT_DAEMON_SEARCH_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct muleteerd;
struct sl_server;
typedef struct searches searches_t;

/* search_new: takes the server connection's search results
 * (srv_set_search_sink) and follows its loss on the bus: d->server must
 * exist. */
searches_t *search_new(struct muleteerd *d);
void search_free(searches_t *s);
/* search_tick: once a second: the next UDP requests, timeouts, the
 * database. */
void search_tick(searches_t *s);

/* Control commands. */
int search_cmd_search(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int search_cmd_results(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int search_cmd_stop(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int search_cmd_more(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int search_cmd_list(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
