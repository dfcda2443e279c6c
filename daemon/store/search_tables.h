/* search_tables.h: the searches and search_results tables (docs/schema.md,
 * 002): what the search module hands over, written by the database
 * worker. */
#ifndef MT_DAEMON_STORE_SEARCH_TABLES_H
#define MT_DAEMON_STORE_SEARCH_TABLES_H

#include "daemon/store/db_worker.h"

/* store_search_write: upserts one search (search: a JSON object with id,
 * expression, normalized, scope, state, error, results, servers_asked,
 * started_at, finished_at) and, when results is not NULL, its results (a
 * JSON array of {search_id, hash, name, size, sources, complete_sources,
 * file_type, extension, artist, album, title, codec, length_s, bitrate}).
 * The strings are copied. Not keyed: batches of results never replace each
 * other. */
void store_search_write(dbw_t *db, const char *node, const char *search, const char *results);
/* store_searches_prune: deletes the node's searches (and their results)
 * started more than days ago. */
void store_searches_prune(dbw_t *db, const char *node, long days);

#endif
