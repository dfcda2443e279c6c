/* status_table.c: the SQL of the daemon_status heartbeat
 * (status_table.h), run by the database worker. */
#include "config.h"

#include "daemon/store/status_table.h"
#include "db/db.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    char *node, *version, *socket;
    long long pid, tcp_port, udp_port;
    time_t started_at;
    bool stopped;
    long long queued, lag_ms, dropped;
    char *kad_state;
    long long kad_contacts;
    long long status_interval;
    char *pf_state, *pf_method, *pf_address, *pf_error; /* NULL: SQL NULL */
    char *free_space;
} status_row_t;

static void
row_free(void *arg)
{
    status_row_t *r = arg;
    free(r->node);
    free(r->version);
    free(r->socket);
    free(r->kad_state);
    free(r->pf_state);
    free(r->pf_method);
    free(r->pf_address);
    free(r->pf_error);
    free(r->free_space);
    free(r);
}

static int
row_write(PGconn *conn, void *arg, mt_error_t **err)
{
    status_row_t *r = arg;
    char pid[24], started[24], tcp[8], udp[8], queued[24], lag[24], dropped[24], kadn[24];
    char interval[24];
    snprintf(interval, sizeof interval, "%lld", r->status_interval > 0 ? r->status_interval : 5);
    snprintf(kadn, sizeof kadn, "%lld", r->kad_contacts);
    snprintf(queued, sizeof queued, "%lld", r->queued);
    snprintf(lag, sizeof lag, "%lld", r->lag_ms);
    snprintf(dropped, sizeof dropped, "%lld", r->dropped);
    snprintf(pid, sizeof pid, "%lld", r->pid);
    snprintf(started, sizeof started, "%lld", (long long)r->started_at);
    snprintf(tcp, sizeof tcp, "%lld", r->tcp_port);
    snprintf(udp, sizeof udp, "%lld", r->udp_port);
    const char *params[] = { r->node, r->version, pid, started, tcp, udp, r->socket,
                             r->stopped ? "t" : "f", queued, lag, dropped, r->kad_state, kadn,
                             interval, r->pf_state, r->pf_method, r->pf_address, r->pf_error,
                             r->free_space };
    PGresult *res = db_query(
        conn,
        "INSERT INTO daemon_status (node, version, pid, started_at, heartbeat, stopped_at,"
        " tcp_port, udp_port, control_socket, db_queued, db_lag_ms, db_dropped, kad_state,"
        " kad_contacts, status_interval, port_forwarding, port_forwarding_method,"
        " port_forwarding_address, port_forwarding_error, free_space)"
        " VALUES ($1, $2, $3, to_timestamp($4), now(), CASE WHEN $8::bool THEN now() END,"
        " $5, $6, $7, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19::jsonb)"
        " ON CONFLICT (node) DO UPDATE SET version = EXCLUDED.version, pid = EXCLUDED.pid,"
        " started_at = EXCLUDED.started_at, heartbeat = EXCLUDED.heartbeat,"
        " stopped_at = EXCLUDED.stopped_at, tcp_port = EXCLUDED.tcp_port,"
        " udp_port = EXCLUDED.udp_port, control_socket = EXCLUDED.control_socket,"
        " db_queued = EXCLUDED.db_queued, db_lag_ms = EXCLUDED.db_lag_ms,"
        " db_dropped = EXCLUDED.db_dropped, kad_state = EXCLUDED.kad_state,"
        " kad_contacts = EXCLUDED.kad_contacts, status_interval = EXCLUDED.status_interval,"
        " port_forwarding = EXCLUDED.port_forwarding,"
        " port_forwarding_method = EXCLUDED.port_forwarding_method,"
        " port_forwarding_address = EXCLUDED.port_forwarding_address,"
        " port_forwarding_error = EXCLUDED.port_forwarding_error,"
        " free_space = EXCLUDED.free_space",
        19, params, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

void
store_status_write(dbw_t *db, const store_status_t *st)
{
    status_row_t *r = xcalloc(1, sizeof *r);
    r->node = xstrdup(st->node);
    r->version = xstrdup(st->version);
    r->socket = xstrdup(st->socket);
    r->pid = st->pid;
    r->tcp_port = st->tcp_port;
    r->udp_port = st->udp_port;
    r->started_at = st->started_at;
    r->stopped = st->stopped;
    r->queued = st->queued;
    r->lag_ms = st->lag_ms;
    r->dropped = st->dropped;
    r->kad_state = xstrdup(st->kad_state != NULL ? st->kad_state : "off");
    r->kad_contacts = st->kad_contacts;
    r->status_interval = st->status_interval;
    r->pf_state = xstrdup(st->pf_state != NULL ? st->pf_state : "off");
    r->pf_method = st->pf_method != NULL ? xstrdup(st->pf_method) : NULL;
    r->pf_address = st->pf_address != NULL ? xstrdup(st->pf_address) : NULL;
    r->pf_error = st->pf_error != NULL ? xstrdup(st->pf_error) : NULL;
    r->free_space = xstrdup(st->free_space != NULL ? st->free_space : "{}");
    dbw_submit(db, "daemon_status", row_write, r, row_free);
}
