/* status_table.h: the daemon_status table (docs/schema.md, 001 and 007):
 * one row per node, the heartbeat (Kad columns: 045; port forwarding: 046;
 * free space: 036). */
#ifndef MT_DAEMON_STORE_STATUS_TABLE_H
#define MT_DAEMON_STORE_STATUS_TABLE_H

#include <stdbool.h>
#include <time.h>

#include "daemon/store/db_worker.h"

/* What the heartbeat says of the daemon. */
typedef struct store_status {
    const char *node, *version, *socket;
    long long pid, tcp_port, udp_port;
    time_t started_at;
    bool stopped;                       /* the last one, at shutdown */
    long long queued, lag_ms, dropped;  /* the database writer's queue (dbw_status_t) */
    const char *kad_state;              /* kad.h's kad_state() */
    long long kad_contacts;
    long long status_interval;          /* seconds between heartbeats (048) */
    const char *pf_state;               /* portmap.h's portmap_state() */
    const char *pf_method, *pf_address, *pf_error; /* NULL: none */
    const char *free_space;             /* JSON object (036); NULL: {} */
} store_status_t;

/* store_status_write: upserts the node's row (strings copied); keyed, so
 * only the newest heartbeat waits while PostgreSQL is away. */
void store_status_write(dbw_t *db, const store_status_t *st);

#endif
