/* item.c: the daemon's downloads as aMuTorrent's items (item.h). The UI
 * reads `progress` as a percentage (aMule's path sends it as a string
 * such as "25.00"), `status` as "active" or "paused", and priorities as
 * aMule's codes (0 low, 1 normal, 2 high). */
#include "config.h"

#include "ws/item.h"
#include "util/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *
str_of(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int64_t
int_of(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v) || v == NULL)
        return 0;
    return json_object_get_int64(v);
}

static double
real_of(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v) || v == NULL)
        return 0;
    return json_object_get_double(v);
}

static bool
is_hex32(const char *h)
{
    if (h == NULL || strlen(h) != 32)
        return false;
    for (size_t i = 0; i < 32; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return false;
    return true;
}

void
ws_instance_id(const char *node, char *buf, size_t n)
{
    snprintf(buf, n, "amule-%s", node != NULL && node[0] != '\0' ? node : "muleteer");
    for (char *p = buf; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            *p = '-';
}

static int
priority_code(const char *p)
{
    if (p != NULL && strcmp(p, "low") == 0)
        return 0;
    if (p != NULL && strcmp(p, "high") == 0)
        return 2;
    return 1;
}

/* categoryId: the category's place in the daemon's list, 1-based; 0 none */
static int
category_id(json_object *categories, const char *name)
{
    if (categories == NULL || name == NULL)
        return 0;
    for (size_t i = 0; i < json_object_array_length(categories); i++) {
        const char *n = str_of(json_object_array_get_idx(categories, i), "name");
        if (n != NULL && strcmp(n, name) == 0)
            return (int)i + 1;
    }
    return 0;
}

/* "nick (1.2.3.4:4662)" -> address and port */
static void
peer_address(const char *desc, char *addr, size_t n, int *port)
{
    addr[0] = '\0';
    *port = 0;
    const char *open = desc != NULL ? strrchr(desc, '(') : NULL;
    const char *colon = open != NULL ? strrchr(open, ':') : NULL;
    if (open == NULL || colon == NULL || (size_t)(colon - open - 1) >= n)
        return;
    memcpy(addr, open + 1, (size_t)(colon - open - 1));
    addr[colon - open - 1] = '\0';
    *port = atoi(colon + 1);
}

static json_object *
peers_of(json_object *dl)
{
    json_object *list = json_object_new_array(), *src = NULL;
    if (!json_object_object_get_ex(dl, "peers", &src) || !json_object_is_type(src, json_type_array))
        return list;
    for (size_t i = 0; i < json_object_array_length(src); i++) {
        json_object *p = json_object_array_get_idx(src, i), *o = json_object_new_object();
        char addr[64];
        int port = 0;
        const char *desc = str_of(p, "peer");
        peer_address(desc, addr, sizeof addr, &port);
        json_object_object_add(o, "role", json_object_new_string("download"));
        json_object_object_add(o, "id", json_object_new_string(desc != NULL ? desc : ""));
        json_object_object_add(o, "userName", json_object_new_string(str_of(p, "name") ? str_of(p, "name") : ""));
        json_object_object_add(o, "address", json_object_new_string(addr));
        json_object_object_add(o, "port", json_object_new_int(port));
        json_object_object_add(o, "software",
                               json_object_new_string(str_of(p, "software") ? str_of(p, "software") : ""));
        json_object_object_add(o, "downloadTotal", json_object_new_int64(int_of(p, "received")));
        json_object_object_add(o, "remoteQueueRank", json_object_new_int64(int_of(p, "rank")));
        json_object_object_add(o, "downloadState",
                               json_object_new_string(str_of(p, "state") ? str_of(p, "state") : ""));
        json_object *c = NULL;
        bool complete = json_object_object_get_ex(p, "complete", &c) && json_object_get_boolean(c);
        json_object_object_add(o, "completedPercent", complete ? json_object_new_int(100) : NULL);
        json_object_array_add(list, o);
    }
    return list;
}

static json_object *
sources_of(json_object *dl)
{
    json_object *s = NULL, *o = json_object_new_object();
    json_object_object_get_ex(dl, "sources", &s);
    json_object_object_add(o, "total", json_object_new_int64(s != NULL ? int_of(s, "total") : 0));
    json_object_object_add(o, "connected",
                           json_object_new_int64(s != NULL ? int_of(s, "transferring") : 0));
    json_object_object_add(o, "seeders", json_object_new_int(0));
    json_object_object_add(o, "a4af", json_object_new_int(0));
    json_object_object_add(o, "notCurrent", json_object_new_int(0));
    return o;
}

static json_object *
iso_time(int64_t t)
{
    if (t <= 0)
        return NULL;
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return json_object_new_string(buf);
}

json_object *
ws_item_from_download(json_object *dl, bool finished, const char *instance_id,
                      json_object *categories)
{
    const char *hash = str_of(dl, "hash");
    if (!is_hex32(hash))
        return NULL;
    const char *name = str_of(dl, "name") ? str_of(dl, "name") : "";
    const char *state = str_of(dl, "state") ? str_of(dl, "state") : "";
    const char *cat = str_of(dl, "category");
    int64_t size = int_of(dl, "size"), done = int_of(dl, "done"), rate = int_of(dl, "rate");
    int64_t uploaded = int_of(dl, "uploaded");
    json_object *o = json_object_new_object();
    json_object_object_add(o, "hash", json_object_new_string(hash));
    json_object_object_add(o, "instanceId", json_object_new_string(instance_id));
    json_object_object_add(o, "client", json_object_new_string("amule"));
    json_object_object_add(o, "networkType", json_object_new_string("ed2k"));
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "rawName", json_object_new_string(name));
    json_object_object_add(o, "size", json_object_new_int64(size));
    json_object_object_add(o, "sizeDownloaded", json_object_new_int64(finished ? size : done));
    if (finished) {
        json_object_object_add(o, "progress", json_object_new_int(100));
    } else {
        char pct[16];
        snprintf(pct, sizeof pct, "%.2f", real_of(dl, "progress") * 100.0);
        json_object_object_add(o, "progress", json_object_new_string(pct));
    }
    json_object_object_add(o, "downloadSpeed", json_object_new_int64(finished ? 0 : rate));
    json_object_object_add(o, "uploadSpeed", json_object_new_int(0));
    json_object_object_add(o, "eta", !finished && rate > 0 && size > done
                                         ? json_object_new_double((double)(size - done) / (double)rate)
                                         : NULL);
    const char *status = "active";
    if (strcmp(state, "paused") == 0 || strcmp(state, "stopped") == 0)
        status = "paused";
    else if (strcmp(state, "moving") == 0)
        status = "moving";
    else if (finished && str_of(dl, "sharing") != NULL && strcmp(str_of(dl, "sharing"), "stopped") == 0)
        status = "paused";
    json_object_object_add(o, "status", json_object_new_string(status));
    json_object_object_add(o, "downloading", json_object_new_boolean(!finished));
    json_object_object_add(o, "shared", json_object_new_boolean(finished));
    json_object_object_add(o, "complete", json_object_new_boolean(finished));
    json_object_object_add(o, "seeding", json_object_new_boolean(finished && strcmp(status, "active") == 0));
    json_object_object_add(o, "category", json_object_new_string(cat != NULL ? cat : "Default"));
    json_object_object_add(o, "categoryId", json_object_new_int(category_id(categories, cat)));
    json_object_object_add(o, "sources", finished ? json_object_new_object() : sources_of(dl));
    json_object_object_add(o, "peers", finished ? json_object_new_array() : peers_of(dl));
    json_object_object_add(o, "downloadPriority",
                           json_object_new_int(priority_code(str_of(dl, "priority"))));
    json_object_object_add(o, "uploadPriority", NULL);
    json_object_object_add(o, "partStatus", finished ? NULL : ws_part_status(dl));
    json_object_object_add(o, "lastSeenComplete", json_object_new_int(0));
    char *link = xasprintf("ed2k://|file|%s|%lld|%s|/", name, (long long)size, hash);
    json_object_object_add(o, "ed2kLink", json_object_new_string(link));
    free(link);
    json_object_object_add(o, "uploadTotal", json_object_new_int64(uploaded));
    json_object_object_add(o, "ratio",
                           json_object_new_double(size > 0 ? (double)uploaded / (double)size : 0));
    json_object_object_add(o, "comment", json_object_new_string(""));
    json_object_object_add(o, "rating", json_object_new_int(0));
    const char *dir = str_of(dl, "save_path");
    json_object_object_add(o, "directory", dir != NULL ? json_object_new_string(dir) : NULL);
    json_object_object_add(o, "addedAt", iso_time(int_of(dl, "added_at")));
    json_object_object_add(o, "nameResolving", json_object_new_boolean(false));
    json_object_object_add(o, "ownedByMe", json_object_new_boolean(true));
    return o;
}

static void
add_all(json_object *out, json_object *answer, const char *key, bool finished,
        const char *instance_id, json_object *categories)
{
    json_object *list = NULL;
    if (answer == NULL || !json_object_object_get_ex(answer, key, &list) ||
        !json_object_is_type(list, json_type_array))
        return;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *it = ws_item_from_download(json_object_array_get_idx(list, i), finished,
                                                instance_id, categories);
        if (it != NULL)
            json_object_array_add(out, it);
    }
}

json_object *
ws_items_from_downloads(json_object *answer, const char *instance_id, json_object *categories)
{
    json_object *out = json_object_new_array();
    add_all(out, answer, "downloads", false, instance_id, categories);
    add_all(out, answer, "finished", true, instance_id, categories);
    return out;
}

/* aMule keeps colours as BGR integers; the daemon as 0xRRGGBB */
static json_object *
category_obj(const char *name, int64_t rgb, const char *path, const char *comment, int64_t prio)
{
    json_object *o = json_object_new_object();
    char hex[8];
    snprintf(hex, sizeof hex, "#%06llx", (unsigned long long)(rgb & 0xffffff));
    int64_t bgr = ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff);
    json_object_object_add(o, "title", json_object_new_string(name));
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "color", json_object_new_int64(bgr));
    json_object_object_add(o, "hexColor", json_object_new_string(hex));
    json_object_object_add(o, "path", json_object_new_string(path != NULL ? path : ""));
    json_object_object_add(o, "pathMappings", NULL);
    json_object_object_add(o, "comment", json_object_new_string(comment != NULL ? comment : ""));
    json_object_object_add(o, "priority", json_object_new_int64(prio));
    json_object_object_add(o, "pathWarnings", NULL);
    return o;
}

json_object *
ws_category_list(json_object *categories)
{
    json_object *out = json_object_new_array();
    json_object_array_add(out, category_obj("Default", 0xcccccc, "", "", 0));
    if (categories == NULL || !json_object_is_type(categories, json_type_array))
        return out;
    for (size_t i = 0; i < json_object_array_length(categories); i++) {
        json_object *c = json_object_array_get_idx(categories, i);
        const char *name = str_of(c, "name");
        if (name == NULL)
            continue;
        /* the daemon's priority is -100..100: aMule's 0 normal, 1 high, 2 low */
        int64_t p = int_of(c, "priority");
        json_object_array_add(out, category_obj(name, int_of(c, "colour"), str_of(c, "incoming_path"),
                                                str_of(c, "comment"), p > 0 ? 1 : p < 0 ? 2 : 0));
    }
    return out;
}

json_object *
ws_part_status(json_object *dl)
{
    json_object *a = NULL;
    if (!json_object_object_get_ex(dl, "availability", &a) || !json_object_is_type(a, json_type_array))
        return NULL;
    json_object *out = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        int64_t n = json_object_get_int64(json_object_array_get_idx(a, i));
        json_object_array_add(out, json_object_new_int64(n < 0 ? 0 : n));
    }
    return out;
}

json_object *
ws_range_status(json_object *ranges, uint64_t size)
{
    json_object *out = json_object_new_array();
    size_t n = ranges != NULL && json_object_is_type(ranges, json_type_array)
                   ? json_object_array_length(ranges) : 0;
    int64_t last = -1;
    for (size_t i = 0; i + 1 < n; i += 2) {
        int64_t s = json_object_get_int64(json_object_array_get_idx(ranges, i));
        int64_t e = json_object_get_int64(json_object_array_get_idx(ranges, i + 1));
        if (e > (int64_t)size)
            e = (int64_t)size;
        if (s < 0 || s >= e || s <= last)
            continue; /* empty, out of the file or out of order */
        json_object_array_add(out, json_object_new_int64(s));
        json_object_array_add(out, json_object_new_int64(e - 1));
        last = e - 1;
    }
    return out;
}

json_object *
ws_gap_status(json_object *states, uint64_t size)
{
    json_object *out = json_object_new_array();
    size_t n = states != NULL && json_object_is_type(states, json_type_array)
                   ? json_object_array_length(states) : 0;
    int64_t start = -1, end = -1;
    for (size_t i = 0; i < n && (uint64_t)i * WS_PART_SIZE < size; i++) {
        if (json_object_get_int(json_object_array_get_idx(states, i)) == 2)
            continue;
        int64_t s = (int64_t)(i * WS_PART_SIZE);
        int64_t e = (int64_t)((uint64_t)(i + 1) * WS_PART_SIZE < size ? (i + 1) * WS_PART_SIZE : size) - 1;
        if (start >= 0 && s == end + 1) {
            end = e;
            continue;
        }
        if (start >= 0) {
            json_object_array_add(out, json_object_new_int64(start));
            json_object_array_add(out, json_object_new_int64(end));
        }
        start = s;
        end = e;
    }
    if (start >= 0) {
        json_object_array_add(out, json_object_new_int64(start));
        json_object_array_add(out, json_object_new_int64(end));
    }
    return out;
}
