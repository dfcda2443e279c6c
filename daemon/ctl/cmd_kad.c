/* cmd_kad.c: the control commands of the Kad node: kad-status (the node,
 * and its contacts with {contacts: true}) and kad-bootstrap {address,
 * port}, kad-import {source: a nodes.dat path}, kad-connect and
 * kad-disconnect: arguments checked, the node asked, the answer built. */
#include "config.h"

#include "daemon/ctl/cmd_kad.h"
#include "daemon/core/daemon.h"
#include "daemon/kad/kad.h"
#include "daemon/net/net.h"

#include <stdbool.h>

int
kad_cmd_status(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)err;
    muleteerd_t *d = ctx;
    json_object *c = NULL;
    bool contacts = args != NULL && json_object_object_get_ex(args, "contacts", &c) &&
                    json_object_get_boolean(c);
    *result = kad_to_json(d->kad, contacts);
    return 0;
}

int
kad_cmd_bootstrap(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    json_object *a = NULL, *p = NULL;
    uint32_t ip;
    if (!json_object_object_get_ex(args, "address", &a) ||
        !json_object_is_type(a, json_type_string) ||
        net_ip_parse(json_object_get_string(a), &ip) != 0 ||
        !json_object_object_get_ex(args, "port", &p) || !json_object_is_type(p, json_type_int) ||
        json_object_get_int64(p) < 1 || json_object_get_int64(p) > 65535) {
        mt_error_set(err, MT_ERR_INVALID,
                     "kad-bootstrap needs \"address\" (an IPv4 address) and \"port\" (the "
                     "node's UDP port, 1-65535)");
        return -1;
    }
    if (kad_bootstrap(d->kad, ip, (uint16_t)json_object_get_int64(p), err) != 0)
        return -1;
    *result = kad_to_json(d->kad, false);
    return 0;
}

int
kad_cmd_import(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    json_object *s = NULL;
    if (!json_object_object_get_ex(args, "source", &s) ||
        !json_object_is_type(s, json_type_string)) {
        mt_error_set(err, MT_ERR_INVALID, "kad-import needs \"source\": a nodes.dat path");
        return -1;
    }
    size_t added = 0, total = 0;
    if (kad_import(d->kad, json_object_get_string(s), &added, &total, err) != 0)
        return -1;
    *result = kad_to_json(d->kad, false);
    json_object_object_add(*result, "added", json_object_new_int64((int64_t)added));
    json_object_object_add(*result, "total", json_object_new_int64((int64_t)total));
    return 0;
}

int
kad_cmd_connect(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    muleteerd_t *d = ctx;
    if (kad_connect(d->kad, err) != 0)
        return -1;
    *result = kad_to_json(d->kad, false);
    return 0;
}

int
kad_cmd_disconnect(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    muleteerd_t *d = ctx;
    if (kad_disconnect(d->kad, err) != 0)
        return -1;
    *result = kad_to_json(d->kad, false);
    return 0;
}
