/* cmd_config.c: `config` and `config-set`, the run-time keys of
 * util/confrt.h over the control socket: every value checked before
 * anything changes, applied at once, and written to the configuration file
 * (conf_file_update) so that it outlives a restart. */
#include "config.h"

#include "daemon/ctl/cmd_config.h"
#include "daemon/core/daemon.h"
#include "daemon/ed2k/server.h"
#include "daemon/net/ipblock.h"
#include "daemon/net/limitsched.h"
#include "daemon/net/peer.h"
#include "daemon/net/portmap.h"
#include "daemon/transfer/shared.h"
#include "util/bug.h"
#include "util/conf.h"
#include "util/confrt.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <string.h>

/* The rate limits live in the peer manager (the `limits` command changes
 * them without the file): what is in force is read there. */
static const char *const limit_keys[] = { "max_upload", "max_download", "alt_max_upload",
                                          "alt_max_download" };

static uint64_t *
limit_field(speedlimit_t *l, const char *key)
{
    uint64_t *f[] = { &l->up, &l->down, &l->alt_up, &l->alt_down };
    for (size_t i = 0; i < 4; i++)
        if (strcmp(limit_keys[i], key) == 0)
            return f[i];
    return NULL;
}

/* config_json: every run-time key with its value in force. */
static json_object *
config_json(muleteerd_t *d)
{
    speedlimit_t l;
    peer_mgr_get_limits(d->peers, &l);
    size_t n = 0;
    const confrt_key_t *keys = confrt_keys(&n);
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < n; i++) {
        const char *key = keys[i].key;
        json_object *v;
        uint64_t *lim = limit_field(&l, key);
        if (lim != NULL)
            v = json_object_new_int64((int64_t)(*lim / 1024));
        else if (keys[i].kind == CONFRT_INT)
            v = json_object_new_int64(conf_get_int(d->conf, key));
        else if (keys[i].kind == CONFRT_BOOL)
            v = json_object_new_boolean(conf_get_bool(d->conf, key));
        else
            v = json_object_new_string(conf_get_str(d->conf, key));
        json_object_object_add(o, key, v);
    }
    return o;
}

int
cfg_cmd_config(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    *result = config_json(ctx);
    return 0;
}

/* value_text: v as the configuration file writes it for k; -1 when its
 * JSON type does not fit (integers for CONFRT_INT, booleans for
 * CONFRT_BOOL, strings otherwise). */
static int
value_text(const confrt_key_t *k, json_object *v, char **out, mt_error_t **err)
{
    const char *want = NULL;
    if (k->kind == CONFRT_INT) {
        if (json_object_is_type(v, json_type_int))
            *out = xasprintf("%lld", (long long)json_object_get_int64(v));
        else
            want = "an integer";
    } else if (k->kind == CONFRT_BOOL) {
        if (json_object_is_type(v, json_type_boolean))
            *out = xstrdup(json_object_get_boolean(v) ? "yes" : "no");
        else
            want = "true or false";
    } else if (json_object_is_type(v, json_type_string)) {
        *out = xstrdup(json_object_get_string(v));
    } else {
        want = "a string";
    }
    if (want != NULL) {
        mt_error_set(err, MT_ERR_INVALID, "%s: must be %s", k->key, want);
        return -1;
    }
    return 0;
}

/* apply: what a changed key needs beyond the configuration in memory,
 * which the modules read where they use it. */
static void
apply(muleteerd_t *d, const char *key, speedlimit_t *l, bool *limits, bool *dirs, bool *sched)
{
    uint64_t *lim = limit_field(l, key);
    if (lim != NULL) {
        *lim = (uint64_t)conf_get_int(d->conf, key) * 1024;
        *limits = true;
    } else if (strcmp(key, "shared_dirs") == 0) {
        *dirs = true;
    } else if (strcmp(key, "scheduler_enabled") == 0 || strcmp(key, "schedule") == 0) {
        *sched = true;
    } else if (strcmp(key, "server_autoconnect") == 0) {
        srv_set_autoconnect(d->server, conf_get_bool(d->conf, key));
    } else if (strncmp(key, "ipfilter", 8) == 0) {
        ipblock_conf_changed(d->ipfilter); /* a new source or level: loaded again */
    } else if (strncmp(key, "port_forwarding", 15) == 0) {
        portmap_reload(d->portmap, d); /* removed, then mapped with the new settings */
    }
}

/* config-set: {key: value, ...} with keys of util/confrt.h. All are
 * checked first; one refused value changes nothing. */
int
cfg_cmd_config_set(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    size_t cap = args != NULL && json_object_is_type(args, json_type_object)
                     ? (size_t)json_object_object_length(args)
                     : 0;
    const char **keys = xcalloc(cap + 1, sizeof *keys);
    char **values = xcalloc(cap + 1, sizeof *values);
    size_t n = 0;
    int rc = 0;
    if (cap > 0) {
        json_object_object_foreach(args, key, v)
        {
            const confrt_key_t *k = confrt_find(key);
            if (k == NULL) {
                mt_error_set(err, MT_ERR_INVALID,
                             "%s: not a configuration key that can change at run time", key);
                rc = -1;
                break;
            }
            if (v == NULL || value_text(k, v, &values[n], err) != 0) {
                if (v == NULL)
                    mt_error_set(err, MT_ERR_INVALID, "%s: must not be null", key);
                rc = -1;
                break;
            }
            keys[n] = k->key;
            if (confrt_check(k, values[n++], err) != 0) {
                rc = -1;
                break;
            }
        }
    }
    if (rc == 0) {
        mt_error_t *e = NULL;
        bool saved = n > 0;
        if (n > 0 && (d->conf_file == NULL ||
                      conf_file_update(d->conf_file, keys, (const char *const *)values, n, &e) != 0)) {
            saved = false;
            log_warn("config-set: the change holds until the daemon stops; not saved: %s",
                     e != NULL ? e->message : "no configuration file");
        }
        speedlimit_t l;
        peer_mgr_get_limits(d->peers, &l);
        bool limits = false, dirs = false, sched = false;
        for (size_t i = 0; i < n; i++) {
            mt_error_t *se = NULL;
            if (MT_BUG(conf_set(d->conf, keys[i], values[i], &se) != 0)) { /* checked above */
                mt_error_free(se);
                continue;
            }
            apply(d, keys[i], &l, &limits, &dirs, &sched);
            log_info("config-set: %s = %s", keys[i], values[i]);
        }
        if (limits)
            peer_mgr_set_limits(d->peers, &l);
        if (sched) /* after the limits: it may switch the mode */
            lsched_reload(d->limit_schedule);
        if (dirs)
            shared_set_dirs(d->shared, conf_get_str(d->conf, "shared_dirs"),
                            conf_get_str(d->conf, "incoming_dir"));
        json_object *o = config_json(d);
        json_object_object_add(o, "saved", json_object_new_boolean(saved));
        if (e != NULL)
            json_object_object_add(o, "save_error", json_object_new_string(e->message));
        mt_error_free(e);
        *result = o;
    }
    for (size_t i = 0; i < n; i++)
        free(values[i]);
    free(values);
    free(keys);
    return rc;
}
