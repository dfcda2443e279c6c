/* tag_table.h: the tags table (docs/schema.md): the node's tag list as
 * taglist.c hands it over, written by the database worker. */
#ifndef MT_DAEMON_STORE_TAG_TABLE_H
#define MT_DAEMON_STORE_TAG_TABLE_H

#include "daemon/store/db_worker.h"

/* store_tags_write: replaces the node's rows with names, a JSON array of
 * strings; keyed, so only the newest list waits while PostgreSQL is away. */
void store_tags_write(dbw_t *db, const char *node, const char *names);

#endif
