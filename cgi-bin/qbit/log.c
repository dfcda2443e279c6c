/* log.c: log/main and log/peers, the daemon's recent log lines and peer
 * bans (its `log` and `peer-log` commands) in qBittorrent's shapes: ids
 * counting from 0, timestamps in milliseconds, what came after
 * last_known_id. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "qbit/qbit.h"

/* entries: the `entries` of the daemon's cmd answer after id since (a new
 * reference); NULL after answering. */
static json_object *
entries(qbit_t *q, http_response_t *resp, const char *cmd, long long since)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "since", json_object_new_int64(since < -1 ? -1 : since));
    json_object *res = NULL;
    mt_error_t *err = NULL;
    int rc = cgictl_call(q->env, resp, cmd, args, &res, &err);
    json_object_put(args);
    if (rc == CGICTL_REFUSED)
        qbit_text(resp, 500, "Internal Server Error");
    mt_error_free(err);
    json_object *a = NULL;
    if (rc == CGICTL_OK && json_object_object_get_ex(res, "entries", &a) &&
        json_object_is_type(a, json_type_array))
        json_object_get(a);
    else if (rc == CGICTL_OK) {
        a = NULL;
        qbit_text(resp, 500, "Internal Server Error");
    }
    json_object_put(res);
    return a;
}

/* last_known_id: qBittorrent's parameter: an int, -1 when absent or not
 * one. */
static long long
last_known_id(http_request_t *req)
{
    long long id = -1;
    if (qbit_int_parse(http_request_param(req, "last_known_id"), &id) != 0 || id < INT32_MIN ||
        id > INT32_MAX)
        id = -1;
    return id;
}

/* wanted: a type switch (normal, info, warning, critical): true unless
 * "false" (qBittorrent's parseBool with true as the default). */
static bool
wanted(http_request_t *req, const char *name)
{
    bool v = true;
    if (qbit_bool_parse(http_request_param(req, name), &v) != 0)
        v = true;
    return v;
}

static json_object *
member(json_object *o, const char *key)
{
    json_object *v = NULL;
    json_object_object_get_ex(o, key, &v);
    return json_object_get(v);
}

/* log/main: [{id, message, timestamp, type}] of the types asked for. */
int
qbit_log_main(http_request_t *req, http_response_t *resp, void *ctx)
{
    int mask = (wanted(req, "normal") ? QBIT_LOG_NORMAL : 0) |
               (wanted(req, "info") ? QBIT_LOG_INFO : 0) |
               (wanted(req, "warning") ? QBIT_LOG_WARNING : 0) |
               (wanted(req, "critical") ? QBIT_LOG_CRITICAL : 0);
    json_object *in = entries(ctx, resp, "log", last_known_id(req));
    if (in == NULL)
        return 0;
    json_object *out = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(in); i++) {
        json_object *e = json_object_array_get_idx(in, i), *lv = NULL;
        json_object_object_get_ex(e, "level", &lv);
        int type = qbit_log_type(json_object_get_string(lv));
        if (!(type & mask))
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", member(e, "id"));
        json_object_object_add(o, "message", member(e, "text"));
        json_object_object_add(o, "timestamp", member(e, "time_ms"));
        json_object_object_add(o, "type", json_object_new_int(type));
        json_object_array_add(out, o);
    }
    json_object_put(in);
    int rc = qbit_json(resp, out);
    json_object_put(out);
    return rc;
}

/* log/peers: [{id, ip, timestamp, blocked, reason}]: the peers the daemon
 * banned (blocked false, as qBittorrent lists a ban, with the reason). */
int
qbit_log_peers(http_request_t *req, http_response_t *resp, void *ctx)
{
    json_object *in = entries(ctx, resp, "peer-log", last_known_id(req));
    if (in == NULL)
        return 0;
    json_object *out = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(in); i++) {
        json_object *e = json_object_array_get_idx(in, i);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", member(e, "id"));
        json_object_object_add(o, "ip", member(e, "ip"));
        json_object_object_add(o, "timestamp", member(e, "time_ms"));
        json_object_object_add(o, "blocked", member(e, "blocked"));
        json_object_object_add(o, "reason", member(e, "reason"));
        json_object_array_add(out, o);
    }
    json_object_put(in);
    int rc = qbit_json(resp, out);
    json_object_put(out);
    return rc;
}
