/* server_tables.h: the servers and server_messages tables (docs/schema.md,
 * 002): the server list as the serverlist module hands it over, and each
 * line a server sends, written by the database worker. */
#ifndef MT_DAEMON_STORE_SERVER_TABLES_H
#define MT_DAEMON_STORE_SERVER_TABLES_H

#include "daemon/store/db_worker.h"

/* store_server_message: one OP_SERVERMESSAGE line (level: info, warning or
 * error; text without control characters). Strings are copied. */
void store_server_message(dbw_t *db, const char *node, const char *address, int port,
                          const char *level, const char *text);
/* store_servers_write: replaces the node's rows of the servers table with
 * rows, a JSON array of the server list (serverlist.c's rows); keyed, so
 * only the newest list waits while PostgreSQL is away. */
void store_servers_write(dbw_t *db, const char *node, const char *rows);

#endif
