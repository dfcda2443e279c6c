/* action.h: the WebSocket protocol's client messages, decoded and
 * checked: one text frame, a JSON object with an "action" and that
 * action's fields (docs/websocket.md). Pure: no socket, no daemon, no
 * database, so the unit test and the fuzz target drive it alone. */
#ifndef MT_WS_ACTION_H
#define MT_WS_ACTION_H

#include <stdbool.h>
#include <stddef.h>

/* Most items one batch action may name (aMuTorrent's own bound). */
#define WSA_MAX_ITEMS 1000
/* Most links one addEd2kLinks may carry. */
#define WSA_MAX_LINKS 1000

typedef enum {
    WSA_SNAPSHOT = 0,   /* requestFullSnapshot */
    WSA_GET_DOWNLOADS,  /* getDownloads (the older list) */
    WSA_GET_STATS,      /* getStats (the older list) */
    WSA_GET_CATEGORIES, /* getCategories */
    WSA_PAUSE,          /* batchPause, pauseDownload */
    WSA_RESUME,         /* batchResume, resumeDownload */
    WSA_STOP,           /* batchStop */
    WSA_DELETE,         /* batchDelete, delete */
    WSA_ADD_LINKS,      /* addEd2kLinks, addEd2kLink */
} ws_action_kind_t;

typedef struct {
    ws_action_kind_t kind;
    const char *name; /* the action as sent (static string) */
    bool legacy;      /* the older list's form (one fileHash, one link) */
    char **hashes;    /* 32 lower-case hex digits each */
    size_t n_hashes;
    char **links;     /* as sent (the daemon checks them) */
    size_t n_links;
    char *category;   /* addEd2kLinks' categoryName; NULL: none */
    long category_id; /* addEd2kLink's categoryId; -1: none */
    bool delete_files;
} ws_action_t;

/* ws_action_parse: decodes one client frame of len bytes. 0 and *a
 * filled (clear it with ws_action_clear), or -1 and *msg set to the
 * message the client gets in {"type":"error"} (malloc'ed; the caller
 * frees it): "Invalid JSON", "Missing action", "Unknown action: X", or
 * the field that is wrong. Never fails otherwise, whatever the bytes. */
int ws_action_parse(const char *text, size_t len, ws_action_t *a, char **msg);
void ws_action_clear(ws_action_t *a);

/* ws_action_reply_type: the type of the reply to a batch action
 * ("batch-pause-complete", ...); NULL for the others. */
const char *ws_action_reply_type(ws_action_kind_t kind);

#endif
