/* download_tables.h: the downloads, transfer_samples and shared_files
 * tables and the retention job (docs/schema.md, 004-009): what the
 * database sync (dbsync.c) hands over, written by the database worker. */
#ifndef MT_DAEMON_STORE_DOWNLOAD_TABLES_H
#define MT_DAEMON_STORE_DOWNLOAD_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/store/db_worker.h"

/* store_downloads_write: upserts rows (a JSON array of download rows, or
 * NULL); full: also deletes the node's rows of downloads not in rows (but
 * not completed ones when keep_completed: an import of them is pending);
 * delete_hex (or NULL): deletes that download's row. A full write
 * replaces a pending full write; the others keep their order. */
void store_downloads_write(dbw_t *db, const char *node, const char *rows, bool full,
                           bool keep_completed, const char *delete_hex);

/* One transfer sample: the bytes moved since the previous one; PostgreSQL
 * adds them to the node's last totals. */
typedef struct store_sample {
    int64_t at_ms;       /* wall time, ms since the epoch */
    int64_t interval_ms; /* since the previous sample */
    uint64_t dl_rate, ul_rate, dl_delta, ul_delta;
    size_t active, sources;
} store_sample_t;
void store_sample_write(dbw_t *db, const char *node, const store_sample_t *sm);

/* store_prune: muleteer_prune (006) with these retentions in days
 * (history_days 0: history kept); logs what went. */
void store_prune(dbw_t *db, const char *node, long long samples_days, long long m1_days,
                 long long coarse_days, long long history_days);

/* store_shared_files_write: replaces the node's shared_files rows with
 * rows, a JSON array of {hash, path, name, size, aich, mtime, uploaded,
 * requests}. */
void store_shared_files_write(dbw_t *db, const char *node, const char *rows);

#endif
