/* status.c: the daemon's self-description, answered on the control socket
 * and written to daemon_status by the database worker. */
#include "config.h"

#include "daemon/ctl/status.h"
#include "daemon/ctl/control.h"
#include "daemon/ed2k/server.h"
#include "daemon/net/ipblock.h"
#include "daemon/net/peer.h"
#include "daemon/net/portmap.h"
#include "daemon/store/db_worker.h"
#include "daemon/kad/kad.h"
#include "daemon/store/status_table.h"
#include "daemon/transfer/category.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/shared.h"
#include "daemon/transfer/upload.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* add_free: name: the bytes free for us in dir's file system, when that
 * can be told. */
static void
add_free(json_object *o, const char *name, const char *dir)
{
    struct statvfs sv;
    if (dir != NULL && statvfs(dir, &sv) == 0)
        json_object_object_add(o, name,
                               json_object_new_int64((int64_t)((uint64_t)sv.f_bavail *
                                                               sv.f_frsize)));
}

/* free_space: daemon_status.free_space (036): the bytes free in
 * incoming_dir ("") and in each category's incoming path, by name: where
 * /api/v2 puts a new download (docs/cluster.md). A new string. */
static char *
free_space(muleteerd_t *d)
{
    json_object *o = json_object_new_object();
    add_free(o, "", conf_get_str(d->conf, "incoming_dir"));
    json_object *cats = d->categories != NULL ? cat_list_json(d->categories) : NULL;
    for (size_t i = 0; cats != NULL && i < json_object_array_length(cats); i++) {
        const char *name =
            json_object_get_string(json_object_object_get(json_object_array_get_idx(cats, i),
                                                          "name"));
        if (name != NULL && *name != '\0')
            add_free(o, name, cat_incoming(d->categories, name));
    }
    json_object_put(cats);
    char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

void
status_publish(muleteerd_t *d, bool stopped)
{
    char *space = free_space(d);
    dbw_status_t ds;
    dbw_get_status(d->db, &ds);
    store_status_t r = {
        .node = conf_get_str(d->conf, "node_name"),
        .version = PACKAGE_VERSION,
        .socket = conf_get_str(d->conf, "control_socket"),
        .pid = (long long)getpid(),
        .tcp_port = conf_get_int(d->conf, "tcp_port"),
        .udp_port = conf_get_int(d->conf, "udp_port"),
        .started_at = d->started_at,
        .stopped = stopped,
        .queued = (long long)ds.queued,
        .lag_ms = (long long)ds.lag_ms,
        .dropped = (long long)ds.jobs_dropped,
        .kad_state = kad_state(d->kad),
        .kad_contacts = (long long)kad_contact_count(d->kad),
        .status_interval = conf_get_int(d->conf, "status_interval"),
        .pf_state = portmap_state(d->portmap),
        .pf_method = portmap_method(d->portmap),
        .pf_address = portmap_external_ip(d->portmap),
        .pf_error = portmap_last_error(d->portmap),
        .free_space = space,
    };
    store_status_write(d->db, &r);
    free(space);
}

static json_object *
iso_time(time_t t)
{
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_object_new_string(buf);
}

int
status_cmd_status(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
    json_object_object_add(o, "node", json_object_new_string(conf_get_str(d->conf, "node_name")));
    json_object_object_add(o, "pid", json_object_new_int64((int64_t)getpid()));
    json_object_object_add(o, "started_at", iso_time(d->started_at));
    json_object_object_add(o, "uptime", json_object_new_int64(now.tv_sec - d->started_mono.tv_sec));
    json_object_object_add(o, "config_file", json_object_new_string(d->conf_file));
    json_object_object_add(o, "control_socket",
                           json_object_new_string(conf_get_str(d->conf, "control_socket")));
    json_object_object_add(o, "control_clients",
                           json_object_new_int64((int64_t)ctlsrv_client_count(d->ctl)));
    json_object_object_add(o, "tcp_port", json_object_new_int64(conf_get_int(d->conf, "tcp_port")));
    json_object_object_add(o, "udp_port", json_object_new_int64(conf_get_int(d->conf, "udp_port")));

    dbw_status_t ds;
    dbw_get_status(d->db, &ds);
    json_object *db = json_object_new_object();
    json_object_object_add(db, "connected", json_object_new_boolean(ds.connected));
    json_object_object_add(db, "schema_version", json_object_new_int(ds.schema_version));
    json_object_object_add(db, "error", ds.last_error[0] ? json_object_new_string(ds.last_error)
                                                         : NULL);
    json_object_object_add(db, "since", iso_time(ds.state_since));
    json_object_object_add(db, "queued", json_object_new_int64((int64_t)ds.queued));
    json_object_object_add(db, "lag_ms", json_object_new_int64(ds.lag_ms));
    json_object_object_add(db, "jobs_done", json_object_new_int64((int64_t)ds.jobs_done));
    json_object_object_add(db, "jobs_failed", json_object_new_int64((int64_t)ds.jobs_failed));
    json_object_object_add(db, "jobs_dropped", json_object_new_int64((int64_t)ds.jobs_dropped));
    json_object_object_add(o, "database", db);
    json_object_object_add(o, "server", srv_to_json(d->server));
    if (d->kad != NULL) {
        json_object *k = json_object_new_object();
        json_object_object_add(k, "state", json_object_new_string(kad_state(d->kad)));
        json_object_object_add(k, "contacts",
                               json_object_new_int64((int64_t)kad_contact_count(d->kad)));
        json_object_object_add(o, "kad", k);
    }
    if (d->ipfilter != NULL) {
        json_object *f = ipblock_to_json(d->ipfilter);
        json_object *h = NULL;
        json_object_object_get_ex(f, "hits", &h);
        json_object *s = json_object_new_object();
        json_object_object_add(s, "ranges", json_object_get(json_object_object_get(f, "ranges")));
        json_object_object_add(s, "hits", json_object_get(json_object_object_get(h, "total")));
        json_object_object_add(o, "ipfilter", s);
        json_object_put(f);
    }
    json_object_object_add(o, "port_forwarding", portmap_to_json(d->portmap));
    {
        json_object *t = json_object_new_object();
        json_object_object_add(t, "connections", json_object_new_int64((int64_t)peer_mgr_connections(d->peers)));
        json_object_object_add(t, "downloads", json_object_new_int64((int64_t)dlq_count(d->downloads)));
        json_object_object_add(t, "shared_files", json_object_new_int64((int64_t)shared_count(d->shared)));
        json_object_object_add(t, "download_rate", json_object_new_int64((int64_t)dlq_rate(d->downloads)));
        json_object_object_add(t, "upload_rate", json_object_new_int64((int64_t)ulq_rate(d->uploads)));
        json_object_object_add(t, "upload_slots", json_object_new_int64((int64_t)ulq_slots_used(d->uploads)));
        json_object_object_add(t, "upload_queue", json_object_new_int64((int64_t)ulq_queue_length(d->uploads)));
        json_object_object_add(o, "transfers", t);
    }
    *result = o;
    return 0;
}

int
status_cmd_ping(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)ctx;
    (void)args;
    (void)err;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "pong", json_object_new_boolean(1));
    *result = o;
    return 0;
}
