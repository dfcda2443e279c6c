/* cmd_ipfilter.c: the control commands of the IP filter: ipfilter (what
 * is loaded, from where and when, bad lines, hits) and ipfilter-reload
 * (load the configured list again; the answer comes before the load ends:
 * state "loading", and `loads` counts up when it has). */
#include "config.h"

#include "daemon/ctl/cmd_ipfilter.h"
#include "daemon/core/daemon.h"
#include "daemon/net/ipblock.h"

int
ipfilter_cmd_status(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    *result = ipblock_to_json(d->ipfilter);
    return 0;
}

int
ipfilter_cmd_reload(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    muleteerd_t *d = ctx;
    if (ipblock_reload(d->ipfilter, err) != 0)
        return -1;
    *result = ipblock_to_json(d->ipfilter);
    return 0;
}
