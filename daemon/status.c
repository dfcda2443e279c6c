/* status.c: the daemon's self-description, answered on the control socket
 * and written to daemon_status by the database worker. */
#include "config.h"

#include "daemon/status.h"
#include "daemon/download.h"
#include "daemon/peer.h"
#include "daemon/server.h"
#include "daemon/shared.h"
#include "daemon/upload.h"
#include "db/db.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char *node, *version, *socket;
    long long pid, tcp_port, udp_port;
    time_t started_at;
    bool stopped;
    long long queued, lag_ms, dropped;
} status_row_t;

static void
row_free(void *arg)
{
    status_row_t *r = arg;
    free(r->node);
    free(r->version);
    free(r->socket);
    free(r);
}

static int
row_write(PGconn *conn, void *arg, mt_error_t **err)
{
    status_row_t *r = arg;
    char pid[24], started[24], tcp[8], udp[8], queued[24], lag[24], dropped[24];
    snprintf(queued, sizeof queued, "%lld", r->queued);
    snprintf(lag, sizeof lag, "%lld", r->lag_ms);
    snprintf(dropped, sizeof dropped, "%lld", r->dropped);
    snprintf(pid, sizeof pid, "%lld", r->pid);
    snprintf(started, sizeof started, "%lld", (long long)r->started_at);
    snprintf(tcp, sizeof tcp, "%lld", r->tcp_port);
    snprintf(udp, sizeof udp, "%lld", r->udp_port);
    const char *params[] = { r->node, r->version, pid, started, tcp, udp, r->socket,
                             r->stopped ? "t" : "f", queued, lag, dropped };
    PGresult *res = db_query(
        conn,
        "INSERT INTO daemon_status (node, version, pid, started_at, heartbeat, stopped_at,"
        " tcp_port, udp_port, control_socket, db_queued, db_lag_ms, db_dropped)"
        " VALUES ($1, $2, $3, to_timestamp($4), now(), CASE WHEN $8::bool THEN now() END,"
        " $5, $6, $7, $9, $10, $11)"
        " ON CONFLICT (node) DO UPDATE SET version = EXCLUDED.version, pid = EXCLUDED.pid,"
        " started_at = EXCLUDED.started_at, heartbeat = EXCLUDED.heartbeat,"
        " stopped_at = EXCLUDED.stopped_at, tcp_port = EXCLUDED.tcp_port,"
        " udp_port = EXCLUDED.udp_port, control_socket = EXCLUDED.control_socket,"
        " db_queued = EXCLUDED.db_queued, db_lag_ms = EXCLUDED.db_lag_ms,"
        " db_dropped = EXCLUDED.db_dropped",
        11, params, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

void
status_publish(muleteerd_t *d, bool stopped)
{
    status_row_t *r = xcalloc(1, sizeof *r);
    r->node = xstrdup(conf_get_str(d->conf, "node_name"));
    r->version = xstrdup(PACKAGE_VERSION);
    r->socket = xstrdup(conf_get_str(d->conf, "control_socket"));
    r->pid = (long long)getpid();
    r->tcp_port = conf_get_int(d->conf, "tcp_port");
    r->udp_port = conf_get_int(d->conf, "udp_port");
    r->started_at = d->started_at;
    r->stopped = stopped;
    dbw_status_t ds;
    dbw_get_status(d->db, &ds);
    r->queued = (long long)ds.queued;
    r->lag_ms = (long long)ds.lag_ms;
    r->dropped = (long long)ds.jobs_dropped;
    dbw_submit(d->db, "daemon_status", row_write, r, row_free);
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
    if (d->server != NULL)
        json_object_object_add(o, "server", srv_to_json(d->server));
    if (d->peers != NULL) {
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
