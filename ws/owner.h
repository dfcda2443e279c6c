/* owner.h: whose downloads a WebSocket client sees and changes
 * (docs/websocket.md "Own downloads"), as the web API decides it
 * (docs/web-api.md "Own downloads", webauth_owner_of): an account
 * without view_all_downloads sees only the downloads it added
 * (downloads.added_by), one without edit_all_downloads changes only
 * those; ownedByMe is aMuTorrent's: true on every item for an admin, else
 * true on the caller's own. The owners are a map hash -> added_by.
 * Likewise an account without view_shared gets no shared file (an item
 * with downloading false: a finished download), one without
 * view_uploads no upload peer (role "upload") (docs/websocket.md
 * "Shared files and uploads"). Pure. */
#ifndef MT_WS_OWNER_H
#define MT_WS_OWNER_H

#include <json-c/json.h>
#include <stdbool.h>

typedef struct {
    const char *user;       /* the caller's name ("" for none) */
    const char *view_owner; /* NULL: sees every download, else only user's */
    const char *edit_owner; /* NULL: changes every download, else only user's */
    bool all_owned;         /* ownedByMe on every item (an admin) */
    bool hide_shared;       /* no view_shared: no shared-file item */
    bool hide_uploads;      /* no view_uploads: no upload peer */
    /* hash -> true for the items that are shared files now or were
     * before this refresh (downloading false): their patches and removed
     * keys are held back when hide_shared, and a patch saying a download
     * stopped downloading (it finished) becomes its removal. NULL: none. */
    json_object *shared_only;
} ws_view_t;

/* ws_view_is_full: sees everything with ownedByMe true, so the messages
 * shared by every client need no change for it. */
bool ws_view_is_full(const ws_view_t *v);
/* ws_owner_of: who added hash, or NULL when unknown. */
const char *ws_owner_of(json_object *owners, const char *hash);
/* ws_view_sees, ws_view_edits: v may see, change the download hash (an
 * unknown owner is nobody's). */
bool ws_view_sees(const ws_view_t *v, json_object *owners, const char *hash);
bool ws_view_edits(const ws_view_t *v, json_object *owners, const char *hash);
/* ws_shared_only: the map of ws_view_t.shared_only for a refresh from
 * prev to next (arrays of items; either may be NULL). A new object. */
json_object *ws_shared_only(json_object *prev, json_object *next);
/* ws_view_items: the items of the array v sees, each a shallow copy
 * with its ownedByMe (and without upload peers when hide_uploads). A new
 * array. */
json_object *ws_view_items(json_object *items, json_object *owners, const ws_view_t *v);
/* ws_view_message: a batch-update message (a snapshot's data.items, or
 * a delta's data.delta added, removed and changed) as v gets it; other
 * members shared. A new reference. */
json_object *ws_view_message(json_object *msg, json_object *owners, const ws_view_t *v);

#endif
