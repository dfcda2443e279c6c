/* item.h: a download as aMuTorrent's web UI reads it (its "unified item",
 * ed2k flavour: ../shared/amutorrent-protocol.md §2.2), made from the
 * daemon's `downloads` answer (docs/control-protocol.md). Pure. */
#ifndef MT_WS_ITEM_H
#define MT_WS_ITEM_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* ws_item_from_download: the item of one entry of `downloads.downloads`
 * (finished false) or `downloads.finished` (finished true), for instance
 * instance_id. categories is `categories.categories` (its order gives
 * categoryId: 0 is none, "Default"; i + 1 the i-th) or NULL. A new
 * object (the caller puts it), or NULL when dl has no valid hash. */
json_object *ws_item_from_download(json_object *dl, bool finished, const char *instance_id,
                                   json_object *categories);

/* ws_items_from_downloads: every item of a `downloads` answer, active
 * first, as an array (a new object). */
json_object *ws_items_from_downloads(json_object *answer, const char *instance_id,
                                     json_object *categories);

/* The eD2K part size (docs/partfile.md). */
#define WS_PART_SIZE 9728000ULL

/* ws_gap_status: aMule's gapStatus of a download from the daemon's
 * `parts` states (0 missing, 1 partly there, 2 verified): the byte
 * ranges not yet verified, as a flat array [start1, end1, start2, ...]
 * with inclusive ends, neighbours merged; a part partly there counts as
 * missing. What an older daemon's `parts` answer without `gaps` gives;
 * ws_range_status is exact. A new array. */
json_object *ws_gap_status(json_object *states, uint64_t size);

/* ws_part_status: aMule's partStatus of a download: per part, how many
 * sources have it, from the daemon's `availability`; a new array, or
 * NULL when dl has none. */
json_object *ws_part_status(json_object *dl);

/* ws_range_status: aMule's gapStatus or reqStatus from the daemon's
 * `parts` gaps or requested ranges: flat half-open ranges [s, e, ...]
 * become aMule's flat ranges with inclusive ends [s, e - 1, ...]; ranges
 * empty, beyond size or out of order are left out. A new array. */
json_object *ws_range_status(json_object *ranges, uint64_t size);

/* ws_category_list: `categories.categories` as aMuTorrent's Category
 * objects, "Default" first (§4 Payload shapes); a new array. */
json_object *ws_category_list(json_object *categories);

/* ws_instance_id: "amule-" and node made of [A-Za-z0-9._-] (anything else
 * becomes '-'), into buf of size n. */
void ws_instance_id(const char *node, char *buf, size_t n);

#endif
