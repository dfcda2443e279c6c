/* cmd_kad.c: the control commands of the Kad node: kad-status (the node,
 * its URL imports, and its contacts with {contacts: true}) and
 * kad-bootstrap {address, port}, kad-import {source: a nodes.dat path, an
 * http(s) URL or an ed2k nodeslist link}, kad-lookup {target} or {lookup},
 * kad-connect and kad-disconnect: arguments checked, the node asked, the
 * answer built. */
#include "config.h"

#include "daemon/ctl/cmd_kad.h"
#include "daemon/core/daemon.h"
#include "daemon/kad/kad.h"
#include "daemon/net/net.h"
#include "daemon/net/urlfetch.h"
#include "ed2k/link.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

int
kad_cmd_status(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)err;
    muleteerd_t *d = ctx;
    json_object *c = NULL;
    bool contacts = args != NULL && json_object_object_get_ex(args, "contacts", &c) &&
                    json_object_get_boolean(c);
    *result = kad_to_json(d->kad, contacts);
    json_object_object_add(*result, "imports", kad_imports_to_json(d->kad));
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

/* import_url: a URL import started: the node and {import}. */
static int
import_url(muleteerd_t *d, const char *url, json_object **result, mt_error_t **err)
{
    json_object *imp = kad_import_url(d->kad, url, err);
    if (imp == NULL)
        return -1;
    *result = kad_to_json(d->kad, false);
    json_object_object_add(*result, "import", imp);
    return 0;
}

int
kad_cmd_import_link(muleteerd_t *d, const char *text, json_object **result, mt_error_t **err)
{
    ed2k_link_t *link = NULL;
    if (ed2k_link_parse(text, &link, err) != 0)
        return -1;
    int rc = -1;
    if (link->type == ED2K_LINK_NODESLIST)
        rc = import_url(d, link->url, result, err);
    else
        mt_error_set(err, MT_ERR_INVALID, "not an ed2k nodeslist link (ed2k://|nodeslist|URL|/)");
    ed2k_link_free(link);
    return rc;
}

int
kad_cmd_import(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    json_object *s = NULL;
    if (!json_object_object_get_ex(args, "source", &s) ||
        !json_object_is_type(s, json_type_string)) {
        mt_error_set(err, MT_ERR_INVALID, "kad-import needs \"source\": a nodes.dat path, an "
                     "http(s) URL or an ed2k nodeslist link");
        return -1;
    }
    const char *source = json_object_get_string(s);
    if (urlfetch_is_url(source))
        return import_url(d, source, result, err);
    if (strncasecmp(source, "ed2k://", 7) == 0)
        return kad_cmd_import_link(d, source, result, err);
    size_t added = 0, total = 0;
    if (kad_import(d->kad, source, &added, &total, err) != 0)
        return -1;
    *result = kad_to_json(d->kad, false);
    json_object_object_add(*result, "added", json_object_new_int64((int64_t)added));
    json_object_object_add(*result, "total", json_object_new_int64((int64_t)total));
    return 0;
}

int
kad_cmd_lookup(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    json_object *t = NULL, *n = NULL;
    kad_id_t target;
    unsigned number = 0;
    if (args != NULL && json_object_object_get_ex(args, "lookup", &n) &&
        json_object_is_type(n, json_type_int) && json_object_get_int64(n) > 0 &&
        json_object_get_int64(n) <= UINT_MAX) {
        number = (unsigned)json_object_get_int64(n);
    } else if (args != NULL && json_object_object_get_ex(args, "target", &t) &&
               json_object_is_type(t, json_type_string) &&
               strlen(json_object_get_string(t)) == KAD_ID_HEX_LEN &&
               kad_id_from_hex(&target, json_object_get_string(t)) == 0) {
        if (kad_probe_start(d->kad, &target, &number, err) != 0)
            return -1;
    } else {
        mt_error_set(err, MT_ERR_INVALID,
                     "kad-lookup needs \"target\" (a Kad id, 32 hex digits) or \"lookup\" (the "
                     "number of a lookup started so)");
        return -1;
    }
    *result = kad_probe_to_json(d->kad, number);
    if (*result == NULL) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "no Kad lookup %u (the last 64 are kept)", number);
        return -1;
    }
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
