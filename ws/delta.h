/* delta.h: what changed between two lists of items, as aMuTorrent's
 * batch-update delta (../shared/amutorrent-protocol.md §2.1): items
 * added, keys removed ("<instanceId>:<hash>"), and patches holding hash,
 * instanceId and only the members that changed. Pure. */
#ifndef MT_WS_DELTA_H
#define MT_WS_DELTA_H

#include <json-c/json.h>
#include <stdbool.h>

typedef struct {
    json_object *added;   /* array of items */
    json_object *removed; /* array of keys */
    json_object *changed; /* array of patches */
    bool snapshot;        /* more than half the items were added or changed */
} ws_delta_t;

/* ws_delta_compute: from prev to next (arrays of items, as
 * ws_items_from_downloads makes them; prev may be NULL: everything is
 * added). Fills *d with new arrays; free them with ws_delta_clear. */
void ws_delta_compute(json_object *prev, json_object *next, ws_delta_t *d);
void ws_delta_clear(ws_delta_t *d);
/* ws_delta_is_empty: nothing added, removed or changed. */
bool ws_delta_is_empty(const ws_delta_t *d);

#endif
