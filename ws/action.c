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
};

const char *
ws_action_reply_type(ws_action_kind_t kind)
{
    switch (kind) {
    case WSA_PAUSE: return "batch-pause-complete";
    case WSA_RESUME: return "batch-resume-complete";
    case WSA_STOP: return "batch-stop-complete";
    case WSA_DELETE: return "batch-delete-complete";
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
    memset(a, 0, sizeof *a);
    a->category_id = -1;
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
        return 0;
    }
}

int
ws_action_parse(const char *text, size_t len, ws_action_t *a, char **msg)
{
    memset(a, 0, sizeof *a);
    a->category_id = -1;
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
