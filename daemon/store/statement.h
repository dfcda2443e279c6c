/* statement.h: the job most tables need: one SQL statement run by the
 * database worker with the node as $1 and a text (usually a JSON array of
 * rows) as $2. */
#ifndef MT_DAEMON_STORE_STATEMENT_H
#define MT_DAEMON_STORE_STATEMENT_H

#include "daemon/store/db_worker.h"

/* store_statement: queues sql (a string that outlives the job: a literal)
 * with node and text copied; key as dbw_submit's (NULL: in order with the
 * other unkeyed jobs; a key: replaces a pending job with that key). */
void store_statement(dbw_t *db, const char *key, const char *sql, const char *node,
                     const char *text);

#endif
