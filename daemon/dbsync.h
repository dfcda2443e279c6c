/* dbsync.h: what the daemon keeps in PostgreSQL about its transfers (issue
 * 6, docs/schema.md): the live downloads table, synchronised every second
 * with only the rows that changed and in full after every reconnect, and
 * the transfer samples. Writes go through the database worker. */
#ifndef MT_DAEMON_DBSYNC_H
#define MT_DAEMON_DBSYNC_H

#include <stdint.h>

struct muleteerd;
struct download;
typedef struct dbsync dbsync_t;

dbsync_t *dbs_new(struct muleteerd *d);
void dbs_free(dbsync_t *s);
/* dbs_tick: once a second: changed download rows, a transfer sample when
 * its interval is due, a full re-sync after the database came back. */
void dbs_tick(dbsync_t *s);
/* dbs_download_completed: the download's last row (state completed, the
 * file's path); it leaves the live list but its row stays. */
void dbs_download_completed(dbsync_t *s, const struct download *dl, const char *path);
/* dbs_download_deleted: its row goes. */
void dbs_download_deleted(dbsync_t *s, const char *hex);

#endif
