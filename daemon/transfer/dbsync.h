/* dbsync.h: what the daemon keeps in PostgreSQL about its transfers (issue
 * 6, docs/schema.md): the downloads table (active and finished downloads),
 * synchronised every second with only the rows that changed and in full
 * after every reconnect, and the transfer samples. Writes go through the
 * database worker. */
#ifndef MT_DAEMON_DBSYNC_H
#define MT_DAEMON_DBSYNC_H

#include <stdint.h>

struct muleteerd;
typedef struct dbsync dbsync_t;

/* dbs_new: also subscribes to dl_deleted: the row of a deleted download
 * (active or finished) goes at once. */
dbsync_t *dbs_new(struct muleteerd *d);
void dbs_free(dbsync_t *s);
/* dbs_tick: once a second: changed download rows (a download that
 * completed becomes its finished record's row: finished.h), a transfer
 * sample when its interval is due, a full re-sync after the database came
 * back. */
void dbs_tick(dbsync_t *s);

#endif
