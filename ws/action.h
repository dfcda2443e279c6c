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
    WSA_CAT_CREATE,     /* createCategory */
    WSA_CAT_UPDATE,     /* updateCategory */
    WSA_CAT_DELETE,     /* deleteCategory */
    WSA_SET_CATEGORY,   /* batchSetFileCategory, setFileCategory */
    WSA_SERVERS,        /* getServersList, getServers */
    WSA_SERVER_ACTION,  /* serverDoAction, connectServer, disconnectServer, removeServer */
    WSA_SERVER_INFO,    /* getServerInfo */
    WSA_LOG,            /* getLog */
    WSA_APP_LOG,        /* getAppLog */
    WSA_RENAME,         /* renameFile */
    WSA_REFRESH_SHARED, /* refreshSharedFiles, reloadSharedFiles */
    WSA_SEGMENTS,       /* subscribe, unsubscribe (channel segmentData) */
    WSA_SEARCH,         /* search */
    WSA_PREV_SEARCH,    /* getPreviousSearchResults */
    WSA_DOWNLOAD,       /* batchDownloadSearchResults, download */
    WSA_GET_SHARED,     /* getShared (the older list) */
    WSA_GET_UPLOADS,    /* getUploadingQueue (the older list) */
    WSA_STATS_TREE,     /* getStatsTree */
    WSA_CHECK_DELETE,   /* checkDeletePermissions */
    WSA_MOVE,           /* batchMoveFiles (destPath in path) */
    WSA_CHECK_MOVE_TO,  /* checkMoveToPermissions (destPath in path) */
    WSA_CHECK_MOVE,     /* checkMovePermissions (categoryName in category) */
    WSA_RATE,           /* setFileRatingComment (comment, rating) */
    WSA_SET_PRIORITY,   /* batchSetPriority (Muleteer's own: items, priority) */
} ws_action_kind_t;

/* serverDoAction's serverAction */
typedef enum { WSA_SRV_CONNECT = 0, WSA_SRV_DISCONNECT, WSA_SRV_REMOVE } ws_server_action_t;

typedef struct {
    ws_action_kind_t kind;
    const char *name; /* the action as sent (static string) */
    bool legacy;      /* the older list's form (one fileHash, one link) */
    char **hashes;    /* 32 lower-case hex digits each */
    size_t n_hashes;
    char **links;     /* as sent (the daemon checks them) */
    size_t n_links;
    char *category;   /* addEd2kLinks' categoryName; NULL: none */
    long category_id; /* addEd2kLink's, setFileCategory's categoryId; the
                       * older updateCategory's and deleteCategory's id;
                       * -1: none */
    bool delete_files;
    /* categories: name (the current one), title (the new one), path,
     * comment, colour as 0xRRGGBB (-1: not given), aMule's priority
     * (0 normal, 1 high, 2 low, 3 auto; -1: not given) */
    char *cat_name, *title, *path, *comment;
    long colour;
    int priority;
    /* servers: address and port; serverDoAction's action */
    char *address;
    int port;
    ws_server_action_t server_action;
    /* renameFile */
    char *new_name;
    /* getAppLog: lines at most, the least level ("error", "warn", "info",
     * "debug"; NULL: all) */
    int limit;
    const char *min_level;
    bool subscribe; /* subscribe (true) or unsubscribe */
    /* search: the words, and whether only the connected server is asked
     * (type "local"; "global" and "kad" ask every server) */
    char *query;
    bool local;
    /* setFileRatingComment: 0-5 */
    int rating;
    /* batchSetPriority: "low", "normal" or "high" (a static string) */
    const char *dl_priority;
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
