/* category_table.h: the categories table (docs/schema.md): the node's
 * categories as category.c hands them over, written by the database
 * worker. */
#ifndef MT_DAEMON_STORE_CATEGORY_TABLE_H
#define MT_DAEMON_STORE_CATEGORY_TABLE_H

#include "daemon/store/db_worker.h"

/* store_categories_write: replaces the node's rows with rows, a JSON array
 * of {name, incoming_path, priority, colour, comment, created}; keyed, so
 * only the newest list waits while PostgreSQL is away. */
void store_categories_write(dbw_t *db, const char *node, const char *rows);

#endif
