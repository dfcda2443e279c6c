/* action.c: the client messages' decoder (action.h). Every field is
 * checked for its type and form here, so the server's handlers see only
 * valid hashes and strings; the daemon checks what only it can (links,
 * category names). Strings are strict UTF-8 (json-c reads them; the
 * control client refuses anything else before sending). */
#include "config.h"

#include "ws/action.h"
#include "util/hex.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    ws_action_kind_t kind;
    bool legacy;
} action_def_t;

static const action_def_t actions[] = {
    { "requestFullSnapshot", WSA_SNAPSHOT, false },
    { "getDownloads", WSA_GET_DOWNLOADS, true },
    { "getStats", WSA_GET_STATS, true },
    { "getCategories", WSA_GET_CATEGORIES, false },
    { "batchPause", WSA_PAUSE, false },
    { "batchResume", WSA_RESUME, false },
    { "batchStop", WSA_STOP, false },
    { "batchDelete", WSA_DELETE, false },
    { "addEd2kLinks", WSA_ADD_LINKS, false },
    { "pauseDownload", WSA_PAUSE, true },
    { "resumeDownload", WSA_RESUME, true },
    { "delete", WSA_DELETE, true },
    { "addEd2kLink", WSA_ADD_LINKS, true },
    { "createCategory", WSA_CAT_CREATE, false },
    { "updateCategory", WSA_CAT_UPDATE, false },
    { "deleteCategory", WSA_CAT_DELETE, false },
    { "batchSetFileCategory", WSA_SET_CATEGORY, false },
    { "setFileCategory", WSA_SET_CATEGORY, true },
    { "getServersList", WSA_SERVERS, false },
    { "getServers", WSA_SERVERS, true },
    { "serverDoAction", WSA_SERVER_ACTION, false },
    { "connectServer", WSA_SERVER_ACTION, true },
    { "disconnectServer", WSA_SERVER_ACTION, true },
    { "removeServer", WSA_SERVER_ACTION, true },
    { "getServerInfo", WSA_SERVER_INFO, false },
    { "getLog", WSA_LOG, false },
    { "getAppLog", WSA_APP_LOG, false },
    { "renameFile", WSA_RENAME, false },
    { "refreshSharedFiles", WSA_REFRESH_SHARED, false },
    { "reloadSharedFiles", WSA_REFRESH_SHARED, true },
    { "subscribe", WSA_SEGMENTS, false },
    { "unsubscribe", WSA_SEGMENTS, false },
    { "search", WSA_SEARCH, false },
    { "getPreviousSearchResults", WSA_PREV_SEARCH, false },
    { "batchDownloadSearchResults", WSA_DOWNLOAD, false },
    { "download", WSA_DOWNLOAD, true },
    { "getShared", WSA_GET_SHARED, true },
    { "getUploadingQueue", WSA_GET_UPLOADS, true },
    { "getStatsTree", WSA_STATS_TREE, false },
    { "checkDeletePermissions", WSA_CHECK_DELETE, false },
    { "batchMoveFiles", WSA_MOVE, false },
    { "checkMoveToPermissions", WSA_CHECK_MOVE_TO, false },
    { "checkMovePermissions", WSA_CHECK_MOVE, false },
    { "setFileRatingComment", WSA_RATE, false },
    /* Muleteer's own (aMuTorrent has no download priority action) */
    { "batchSetPriority", WSA_SET_PRIORITY, false },
};

const char *
ws_action_reply_type(ws_action_kind_t kind)
{
    switch (kind) {
    case WSA_PAUSE: return "batch-pause-complete";
    case WSA_RESUME: return "batch-resume-complete";
    case WSA_STOP: return "batch-stop-complete";
    case WSA_DELETE: return "batch-delete-complete";
    case WSA_MOVE: return "batch-move-complete";
    case WSA_SET_CATEGORY: return "batch-category-changed";
    case WSA_DOWNLOAD: return "batch-download-complete";
    case WSA_SET_PRIORITY: return "batch-priority-complete";
    default: return NULL;
    }
}

void
ws_action_clear(ws_action_t *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n_hashes; i++)
        free(a->hashes[i]);
    for (size_t i = 0; i < a->n_links; i++)
        free(a->links[i]);
    free(a->hashes);
    free(a->links);
    free(a->category);
    free(a->cat_name);
    free(a->title);
    free(a->path);
    free(a->comment);
    free(a->address);
    free(a->new_name);
    free(a->query);
    memset(a, 0, sizeof *a);
    a->category_id = -1;
    a->colour = -1;
    a->priority = -1;
}

static int
fail(char **msg, const char *field, const char *text)
{
    *msg = field != NULL ? xasprintf("%s: %s", field, text) : xstrdup(text);
    return -1;
}

/* a string member: NULL when absent or null; *bad when of another type */
static const char *
get_str(json_object *o, const char *key, bool *bad)
{
    json_object *v = NULL;
    *bad = false;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return NULL;
    if (!json_object_is_type(v, json_type_string)) {
        *bad = true;
        return NULL;
    }
    return json_object_get_string(v);
}

/* hash: 32 hex digits in either case, kept in lower case */
static char *
parse_hash(const char *s)
{
    if (s == NULL || strlen(s) != 32)
        return NULL;
    char *h = xstrdup(s);
    for (size_t i = 0; i < 32; i++) {
        int d = mt_hex_digit((unsigned char)h[i]);
        if (d < 0) {
            free(h);
            return NULL;
        }
        h[i] = "0123456789abcdef"[d];
    }
    return h;
}

static int
add_hash(ws_action_t *a, const char *s, const char *field, char **msg)
{
    char *h = parse_hash(s);
    if (h == NULL)
        return fail(msg, field, "32 hex digits expected");
    a->hashes = xrealloc(a->hashes, (a->n_hashes + 1) * sizeof *a->hashes);
    a->hashes[a->n_hashes++] = h;
    return 0;
}

static int
add_link(ws_action_t *a, const char *s, char **msg)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 8192 || !mt_utf8_is_valid(s, strlen(s)))
        return fail(msg, "links", "a non-empty ed2k link expected");
    a->links = xrealloc(a->links, (a->n_links + 1) * sizeof *a->links);
    a->links[a->n_links++] = xstrdup(s);
    return 0;
}

/* batch actions: items:[{fileHash, ...}], 1 to WSA_MAX_ITEMS */
static int
parse_items(ws_action_t *a, json_object *o, char **msg)
{
    json_object *items = NULL;
    if (!json_object_object_get_ex(o, "items", &items) ||
        !json_object_is_type(items, json_type_array))
        return fail(msg, "items", "an array of items expected");
    size_t n = json_object_array_length(items);
    if (n == 0 || n > WSA_MAX_ITEMS)
        return fail(msg, "items", "1 to 1000 items expected");
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        bool bad = false;
        const char *h = json_object_is_type(it, json_type_object) ? get_str(it, "fileHash", &bad) : NULL;
        if (add_hash(a, h, "items[].fileHash", msg) != 0)
            return -1;
    }
    return 0;
}

/* an optional string member into *out (a copy); -1 for another type or
 * a string over max bytes */
static int
opt_str(json_object *o, const char *key, size_t max, char **out, char **msg)
{
    bool bad = false;
    const char *v = get_str(o, key, &bad);
    if (bad || (v != NULL && strlen(v) > max))
        return fail(msg, key, "a string expected");
    if (v != NULL)
        *out = xstrdup(v);
    return 0;
}

/* an optional integer member in [lo, hi] into *out; absent leaves it */
static int
opt_int(json_object *o, const char *key, long lo, long hi, long *out, char **msg)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < lo ||
        json_object_get_int64(v) > hi)
        return fail(msg, key, "an integer in range expected");
    *out = (long)json_object_get_int64(v);
    return 0;
}

/* color: "#rrggbb", or aMule's BGR integer; kept as 0xRRGGBB */
static int
parse_colour(ws_action_t *a, json_object *o, char **msg)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, "color", &v) || v == NULL)
        return 0;
    if (json_object_is_type(v, json_type_int)) {
        int64_t bgr = json_object_get_int64(v);
        if (bgr < 0 || bgr > 0xffffff)
            return fail(msg, "color", "\"#rrggbb\" or a colour number expected");
        a->colour = (long)(((bgr & 0xff) << 16) | (bgr & 0xff00) | ((bgr >> 16) & 0xff));
        return 0;
    }
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    long rgb = 0;
    if (strlen(s) != 7 || s[0] != '#')
        return fail(msg, "color", "\"#rrggbb\" or a colour number expected");
    for (int i = 1; i < 7; i++) {
        int d = mt_hex_digit((unsigned char)s[i]);
        if (d < 0)
            return fail(msg, "color", "\"#rrggbb\" or a colour number expected");
        rgb = rgb * 16 + d;
    }
    a->colour = rgb;
    return 0;
}

/* a category's fields: flat (the current list), or inside "category" (the
 * older one) */
static int
parse_category(ws_action_t *a, json_object *o, bool need_title, char **msg)
{
    json_object *inner = NULL;
    if (a->legacy || (json_object_object_get_ex(o, "category", &inner) &&
                      json_object_is_type(inner, json_type_object)))
        o = inner;
    if (o == NULL || !json_object_is_type(o, json_type_object))
        return fail(msg, "category", "an object expected");
    long prio = -1;
    if (opt_str(o, "title", 255, &a->title, msg) != 0 || opt_str(o, "path", 4096, &a->path, msg) != 0 ||
        opt_str(o, "comment", 4096, &a->comment, msg) != 0 || parse_colour(a, o, msg) != 0 ||
        opt_int(o, "priority", 0, 3, &prio, msg) != 0)
        return -1;
    a->priority = (int)prio;
    if (need_title && (a->title == NULL || a->title[0] == '\0'))
        return fail(msg, "title", "a category name expected");
    return 0;
}

/* the category a change names: name (the current list) or id (the older) */
static int
parse_category_ref(ws_action_t *a, json_object *o, char **msg)
{
    if (opt_str(o, "name", 255, &a->cat_name, msg) != 0 ||
        opt_int(o, "id", 0, 1000000, &a->category_id, msg) != 0)
        return -1;
    if ((a->cat_name == NULL || a->cat_name[0] == '\0') && a->category_id < 0)
        return fail(msg, "name", "a category name expected");
    return 0;
}

/* "ip:port" of the older server actions */
static int
parse_server_address(ws_action_t *a, json_object *o, char **msg)
{
    bool bad = false;
    const char *s = get_str(o, "serverAddress", &bad);
    const char *colon = s != NULL ? strrchr(s, ':') : NULL;
    char *end = NULL;
    long port = colon != NULL ? strtol(colon + 1, &end, 10) : 0;
    if (colon == NULL || colon == s || end == colon + 1 || *end != '\0' || port < 1 || port > 65535 ||
        (size_t)(colon - s) > 255)
        return fail(msg, "serverAddress", "\"host:port\" expected");
    a->address = xstrndup(s, (size_t)(colon - s));
    a->port = (int)port;
    return 0;
}

static int
parse_server_action(ws_action_t *a, json_object *o, char **msg)
{
    if (a->legacy) {
        if (strcmp(a->name, "disconnectServer") == 0) {
            a->server_action = WSA_SRV_DISCONNECT;
            return 0;
        }
        a->server_action = strcmp(a->name, "connectServer") == 0 ? WSA_SRV_CONNECT : WSA_SRV_REMOVE;
        return parse_server_address(a, o, msg);
    }
    bool bad = false;
    const char *act = get_str(o, "serverAction", &bad);
    if (act != NULL && strcmp(act, "connect") == 0)
        a->server_action = WSA_SRV_CONNECT;
    else if (act != NULL && strcmp(act, "disconnect") == 0)
        a->server_action = WSA_SRV_DISCONNECT;
    else if (act != NULL && strcmp(act, "remove") == 0)
        a->server_action = WSA_SRV_REMOVE;
    else
        return fail(msg, "serverAction", "connect, disconnect or remove expected");
    if (a->server_action == WSA_SRV_DISCONNECT)
        return 0;
    long port = -1;
    if (opt_str(o, "ip", 255, &a->address, msg) != 0 || opt_int(o, "port", 1, 65535, &port, msg) != 0)
        return -1;
    if (a->address == NULL || a->address[0] == '\0')
        return fail(msg, "ip", "a server address expected");
    if (port < 0)
        return fail(msg, "port", "an integer in range expected");
    a->port = (int)port;
    return 0;
}

static int
parse_more(ws_action_t *a, json_object *o, char **msg)
{
    bool bad = false;
    switch (a->kind) {
    case WSA_CAT_CREATE:
        return parse_category(a, o, true, msg);
    case WSA_CAT_UPDATE:
        if (parse_category_ref(a, o, msg) != 0)
            return -1;
        return parse_category(a, o, false, msg);
    case WSA_CAT_DELETE:
        return parse_category_ref(a, o, msg);
    case WSA_SET_CATEGORY:
        if (a->legacy) {
            if (add_hash(a, get_str(o, "fileHash", &bad), "fileHash", msg) != 0)
                return -1;
            if (opt_int(o, "categoryId", 0, 1000000, &a->category_id, msg) != 0)
                return -1;
            if (a->category_id < 0)
                return fail(msg, "categoryId", "a category number expected");
            return 0;
        }
        if (parse_items(a, o, msg) != 0 || opt_str(o, "categoryName", 255, &a->category, msg) != 0)
            return -1;
        if (a->category == NULL)
            return fail(msg, "categoryName", "a category name expected");
        return 0;
    case WSA_SERVER_ACTION:
        return parse_server_action(a, o, msg);
    case WSA_APP_LOG: {
        long limit = 2000;
        char *lvl = NULL;
        if (opt_int(o, "limit", 1, 2000, &limit, msg) != 0 || opt_str(o, "minLevel", 16, &lvl, msg) != 0)
            return -1;
        a->limit = (int)limit;
        static const char *const levels[] = { "error", "warn", "info", "debug" };
        for (size_t i = 0; lvl != NULL && i < 4; i++)
            if (strcmp(lvl, levels[i]) == 0)
                a->min_level = levels[i];
        bool unknown = lvl != NULL && a->min_level == NULL;
        free(lvl);
        if (unknown)
            return fail(msg, "minLevel", "error, warn, info or debug expected");
        return 0;
    }
    case WSA_RENAME:
        if (add_hash(a, get_str(o, "fileHash", &bad), "fileHash", msg) != 0 ||
            opt_str(o, "newName", 1024, &a->new_name, msg) != 0)
            return -1;
        if (a->new_name == NULL || a->new_name[0] == '\0')
            return fail(msg, "newName", "a file name expected");
        return 0;
    case WSA_CHECK_DELETE:
        return parse_items(a, o, msg);
    case WSA_MOVE:
    case WSA_CHECK_MOVE_TO:
        if (parse_items(a, o, msg) != 0 || opt_str(o, "destPath", 4096, &a->path, msg) != 0)
            return -1;
        if (a->path == NULL || a->path[0] == '\0')
            return fail(msg, "destPath", "a directory expected");
        return 0;
    case WSA_RATE: {
        long rating = -1;
        if (add_hash(a, get_str(o, "fileHash", &bad), "fileHash", msg) != 0 ||
            opt_str(o, "comment", 1024, &a->comment, msg) != 0 ||
            opt_int(o, "rating", 0, 5, &rating, msg) != 0)
            return -1;
        if (a->comment == NULL)
            return fail(msg, "comment", "a string expected");
        if (rating < 0)
            return fail(msg, "rating", "an integer in range expected");
        a->rating = (int)rating;
        return 0;
    }
    case WSA_CHECK_MOVE:
        if (parse_items(a, o, msg) != 0 || opt_str(o, "categoryName", 255, &a->category, msg) != 0)
            return -1;
        if (a->category == NULL)
            return fail(msg, "categoryName", "a category name expected");
        return 0;
    case WSA_SEARCH: {
        const char *type = get_str(o, "type", &bad);
        if (opt_str(o, "query", 1024, &a->query, msg) != 0)
            return -1;
        if (a->query == NULL || a->query[0] == '\0')
            return fail(msg, "query", "the words to search for expected");
        if (bad || (type != NULL && strcmp(type, "global") != 0 && strcmp(type, "kad") != 0 &&
                    strcmp(type, "local") != 0))
            return fail(msg, "type", "global, kad or local expected");
        a->local = type != NULL && strcmp(type, "local") == 0;
        return 0;
    }
    case WSA_DOWNLOAD: {
        if (a->legacy)
            return add_hash(a, get_str(o, "fileHash", &bad), "fileHash", msg);
        json_object *list = NULL;
        if (!json_object_object_get_ex(o, "fileHashes", &list) || !json_object_is_type(list, json_type_array) ||
            json_object_array_length(list) == 0 || json_object_array_length(list) > WSA_MAX_ITEMS)
            return fail(msg, "fileHashes", "an array of 1 to 1000 hashes expected");
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            json_object *h = json_object_array_get_idx(list, i);
            if (add_hash(a, json_object_is_type(h, json_type_string) ? json_object_get_string(h) : NULL,
                         "fileHashes[]", msg) != 0)
                return -1;
        }
        const char *cat = get_str(o, "categoryName", &bad);
        if (bad)
            return fail(msg, "categoryName", "a category name expected");
        if (cat != NULL && cat[0] != '\0' && strcmp(cat, "Default") != 0)
            a->category = xstrdup(cat);
        return 0;
    }
    case WSA_SET_PRIORITY: {
        if (parse_items(a, o, msg) != 0)
            return -1;
        const char *p = get_str(o, "priority", &bad);
        static const char *const names[] = { "low", "normal", "high" };
        for (size_t i = 0; p != NULL && i < 3; i++)
            if (strcmp(p, names[i]) == 0)
                a->dl_priority = names[i];
        if (a->dl_priority == NULL)
            return fail(msg, "priority", "low, normal or high expected");
        return 0;
    }
    case WSA_SEGMENTS: {
        const char *ch = get_str(o, "channel", &bad);
        if (ch == NULL || strcmp(ch, "segmentData") != 0)
            return fail(msg, "channel", "\"segmentData\" expected");
        a->subscribe = strcmp(a->name, "subscribe") == 0;
        return 0;
    }
    default:
        return 0;
    }
}

static int
parse_fields(ws_action_t *a, json_object *o, char **msg)
{
    bool bad = false;
    switch (a->kind) {
    case WSA_PAUSE:
    case WSA_RESUME:
    case WSA_STOP:
    case WSA_DELETE:
        if (a->legacy && add_hash(a, get_str(o, "fileHash", &bad), "fileHash", msg) != 0)
            return -1;
        if (!a->legacy && parse_items(a, o, msg) != 0)
            return -1;
        if (a->kind == WSA_DELETE) {
            json_object *df = NULL;
            if (json_object_object_get_ex(o, "deleteFiles", &df) && df != NULL) {
                if (!json_object_is_type(df, json_type_boolean))
                    return fail(msg, "deleteFiles", "true or false expected");
                a->delete_files = json_object_get_boolean(df);
            }
        }
        return 0;
    case WSA_ADD_LINKS:
        if (a->legacy) {
            json_object *cid = NULL;
            if (add_link(a, get_str(o, "link", &bad), msg) != 0)
                return -1;
            if (json_object_object_get_ex(o, "categoryId", &cid) && cid != NULL) {
                if (!json_object_is_type(cid, json_type_int) || json_object_get_int64(cid) < 0 ||
                    json_object_get_int64(cid) > 1000000)
                    return fail(msg, "categoryId", "a category number expected");
                a->category_id = (long)json_object_get_int64(cid);
            }
            return 0;
        } else {
            json_object *links = NULL;
            if (!json_object_object_get_ex(o, "links", &links) ||
                !json_object_is_type(links, json_type_array) ||
                json_object_array_length(links) == 0 ||
                json_object_array_length(links) > WSA_MAX_LINKS)
                return fail(msg, "links", "an array of 1 to 1000 links expected");
            for (size_t i = 0; i < json_object_array_length(links); i++) {
                json_object *l = json_object_array_get_idx(links, i);
                if (add_link(a, json_object_is_type(l, json_type_string) ? json_object_get_string(l) : NULL,
                             msg) != 0)
                    return -1;
            }
            const char *cat = get_str(o, "categoryName", &bad);
            if (bad)
                return fail(msg, "categoryName", "a category name expected");
            if (cat != NULL && cat[0] != '\0' && strcmp(cat, "Default") != 0)
                a->category = xstrdup(cat);
            return 0;
        }
    default:
        return parse_more(a, o, msg);
    }
}

int
ws_action_parse(const char *text, size_t len, ws_action_t *a, char **msg)
{
    memset(a, 0, sizeof *a);
    a->category_id = -1;
    a->colour = -1;
    a->priority = -1;
    *msg = NULL;
    if (len > (size_t)INT32_MAX || !mt_utf8_is_valid(text, len))
        return fail(msg, NULL, "Invalid JSON");
    json_tokener *tok = json_tokener_new_ex(32);
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    size_t end = json_tokener_get_error(tok) == json_tokener_success ? json_tokener_get_parse_end(tok) : 0;
    while (end > 0 && end < len && (text[end] == ' ' || text[end] == '\n' || text[end] == '\r' ||
                                    text[end] == '\t'))
        end++;
    bool ok = end == len;
    json_tokener_free(tok);
    if (!ok || o == NULL) {
        json_object_put(o);
        return fail(msg, NULL, "Invalid JSON");
    }
    bool bad = false;
    const char *name = json_object_is_type(o, json_type_object) ? get_str(o, "action", &bad) : NULL;
    int rc = -1;
    if (name == NULL) {
        fail(msg, NULL, "Missing action");
    } else {
        size_t i = 0;
        while (i < sizeof actions / sizeof actions[0] && strcmp(actions[i].name, name) != 0)
            i++;
        if (i == sizeof actions / sizeof actions[0]) {
            /* the name goes back to the client: at most 64 bytes of it */
            char shown[65];
            snprintf(shown, sizeof shown, "%s", name);
            if (!mt_utf8_is_valid(shown, strlen(shown)))
                snprintf(shown, sizeof shown, "?");
            fail(msg, "Unknown action", shown);
        } else {
            a->kind = actions[i].kind;
            a->name = actions[i].name;
            a->legacy = actions[i].legacy;
            rc = parse_fields(a, o, msg);
        }
    }
    json_object_put(o);
    if (rc != 0)
        ws_action_clear(a);
    return rc;
}
