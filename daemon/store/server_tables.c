/* server_tables.c: the SQL of the servers and server_messages tables
 * (server_tables.h), run by the database worker. */
#include "config.h"

#include "daemon/store/server_tables.h"
#include "daemon/store/statement.h"
#include "db/db.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    char *node, *address, *level, *text;
    int port;
} msg_row_t;

static void
msg_row_free(void *arg)
{
    msg_row_t *m = arg;
    free(m->node);
    free(m->address);
    free(m->level);
    free(m->text);
    free(m);
}

static int
msg_row_write(PGconn *conn, void *arg, mt_error_t **err)
{
    msg_row_t *m = arg;
    char port[8];
    snprintf(port, sizeof port, "%d", m->port);
    const char *params[] = { m->node, m->address, port, m->level, m->text };
    PGresult *res = db_query(conn,
                             "INSERT INTO server_messages (node, address, port, level, message)"
                             " VALUES ($1, $2, $3, $4, $5)",
                             5, params, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

void
store_server_message(dbw_t *db, const char *node, const char *address, int port,
                     const char *level, const char *text)
{
    msg_row_t *m = xcalloc(1, sizeof *m);
    m->node = xstrdup(node);
    m->address = xstrdup(address);
    m->port = port;
    m->level = xstrdup(level);
    m->text = xstrdup(text);
    dbw_submit(db, NULL, msg_row_write, m, msg_row_free);
}

/* The node's servers replaced by the rows of $2. */
static const char SERVERS_SQL[] =
    "WITH r AS (SELECT * FROM json_to_recordset($2::json) AS x(address text, port int,"
    "  name text, description text, version text, users bigint, files bigint,"
    "  max_users bigint, lowid_users bigint, soft_files bigint, hard_files bigint,"
    "  tcp_flags bigint, udp_flags bigint, ping_ms int, failures int, last_seen bigint,"
    "  is_static bool, priority text, source text, connected bool)),"
    " gone AS (DELETE FROM servers s WHERE s.node = $1 AND NOT EXISTS"
    "  (SELECT 1 FROM r WHERE r.address = s.address AND r.port = s.port))"
    " INSERT INTO servers (node, address, port, name, description, version, users, files,"
    "  max_users, lowid_users, soft_file_limit, hard_file_limit, tcp_flags, udp_flags,"
    "  ping_ms, failures, last_seen, is_static, priority, source, connected, updated_at)"
    " SELECT $1, address, port, name, description, version, users, files, max_users,"
    "  lowid_users, soft_files, hard_files, tcp_flags, udp_flags, NULLIF(ping_ms, 0),"
    "  failures, to_timestamp(NULLIF(last_seen, 0)), is_static, priority, source,"
    "  connected, now() FROM r"
    " ON CONFLICT (node, address, port) DO UPDATE SET name = EXCLUDED.name,"
    "  description = EXCLUDED.description, version = EXCLUDED.version,"
    "  users = EXCLUDED.users, files = EXCLUDED.files, max_users = EXCLUDED.max_users,"
    "  lowid_users = EXCLUDED.lowid_users, soft_file_limit = EXCLUDED.soft_file_limit,"
    "  hard_file_limit = EXCLUDED.hard_file_limit, tcp_flags = EXCLUDED.tcp_flags,"
    "  udp_flags = EXCLUDED.udp_flags, ping_ms = EXCLUDED.ping_ms,"
    "  failures = EXCLUDED.failures, last_seen = EXCLUDED.last_seen,"
    "  is_static = EXCLUDED.is_static, priority = EXCLUDED.priority,"
    "  source = EXCLUDED.source, connected = EXCLUDED.connected, updated_at = now()";

void
store_servers_write(dbw_t *db, const char *node, const char *rows)
{
    store_statement(db, "servers", SERVERS_SQL, node, rows);
}
