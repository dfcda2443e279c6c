/* cmd_server.c: the control commands on the eD2K server connection and the
 * server list (connect, disconnect, server, servers, server-add,
 * server-remove, servers-import): arguments checked, the modules asked, the
 * answer built. */
#include "config.h"

#include "daemon/ctl/cmd_server.h"
#include "daemon/core/daemon.h"
#include "daemon/ed2k/server.h"
#include "daemon/ed2k/serverlist.h"

#include <stdbool.h>
#include <string.h>

int
srv_cmd_connect(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    json_object *h = NULL, *p = NULL;
    bool has_host = json_object_object_get_ex(args, "host", &h) && h != NULL;
    bool has_port = json_object_object_get_ex(args, "port", &p) && p != NULL;
    if (!has_host && !has_port) {
        if (srv_connect_auto(d->server, err) != 0)
            return -1;
    } else if (!has_host || !json_object_is_type(h, json_type_string) || !has_port ||
               !json_object_is_type(p, json_type_int) || json_object_get_int64(p) < 1 ||
               json_object_get_int64(p) > 65535) {
        mt_error_set(err, MT_ERR_INVALID,
                     "connect needs \"host\" (string) and \"port\" (1-65535), or neither for the best server of the list");
        return -1;
    } else if (srv_connect(d->server, json_object_get_string(h),
                           (uint16_t)json_object_get_int64(p), err) != 0) {
        return -1;
    }
    *result = srv_to_json(d->server);
    return 0;
}

int
srv_cmd_disconnect(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    srv_disconnect(d->server);
    *result = srv_to_json(d->server);
    return 0;
}

int
srv_cmd_server(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    *result = srv_to_json(d->server);
    return 0;
}

static int
get_addr(json_object *args, const char **address, uint16_t *port, mt_error_t **err)
{
    json_object *a = NULL, *p = NULL;
    if (!json_object_object_get_ex(args, "address", &a) || !json_object_is_type(a, json_type_string) ||
        !json_object_object_get_ex(args, "port", &p) || !json_object_is_type(p, json_type_int) ||
        json_object_get_int64(p) < 1 || json_object_get_int64(p) > 65535) {
        mt_error_set(err, MT_ERR_INVALID, "needs \"address\" (string) and \"port\" (1-65535)");
        return -1;
    }
    *address = json_object_get_string(a);
    *port = (uint16_t)json_object_get_int64(p);
    return 0;
}

int
sl_cmd_servers(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    *result = sl_to_json(d->serverlist);
    return 0;
}

/* options: a server's "priority" and "static" arguments (SL_PRIO_UNSET,
 * -1: not given). */
static int
options(json_object *args, int *priority, int *is_static, mt_error_t **err)
{
    json_object *v = NULL;
    *priority = SL_PRIO_UNSET;
    *is_static = -1;
    if (json_object_object_get_ex(args, "priority", &v) && v != NULL) {
        const char *p = json_object_get_string(v);
        if (strcmp(p, "low") == 0)
            *priority = SL_PRIO_LOW;
        else if (strcmp(p, "normal") == 0)
            *priority = SL_PRIO_NORMAL;
        else if (strcmp(p, "high") == 0)
            *priority = SL_PRIO_HIGH;
        else {
            mt_error_set(err, MT_ERR_INVALID, "priority must be low, normal or high");
            return -1;
        }
    }
    if (json_object_object_get_ex(args, "static", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_boolean)) {
            mt_error_set(err, MT_ERR_INVALID, "static must be true or false");
            return -1;
        }
        *is_static = json_object_get_boolean(v);
    }
    return 0;
}

int
sl_cmd_server_add(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    const char *address;
    uint16_t port;
    int priority, is_static;
    if (get_addr(args, &address, &port, err) != 0 || options(args, &priority, &is_static, err) != 0)
        return -1;
    json_object *o = sl_add_server(d->serverlist, address, port, priority, is_static, err);
    if (o == NULL)
        return -1;
    *result = o;
    return 0;
}

int
sl_cmd_server_remove(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    const char *address;
    uint16_t port;
    if (get_addr(args, &address, &port, err) != 0 ||
        sl_remove(d->serverlist, address, port, err) != 0)
        return -1;
    *result = json_object_new_object();
    json_object_object_add(*result, "removed", json_object_new_boolean(true));
    return 0;
}

int
sl_cmd_servers_import(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    json_object *src = NULL;
    if (!json_object_object_get_ex(args, "source", &src) || !json_object_is_type(src, json_type_string) ||
        json_object_get_string_len(src) == 0 || json_object_get_string_len(src) > 4096) {
        mt_error_set(err, MT_ERR_INVALID,
                     "servers-import needs \"source\": a server.met path, an http(s) URL or an ed2k server link");
        return -1;
    }
    json_object *o = sl_import_source(d->serverlist, json_object_get_string(src), err);
    if (o == NULL)
        return -1;
    *result = o;
    return 0;
}
