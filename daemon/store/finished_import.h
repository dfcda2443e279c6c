/* finished_import.h: reading back, once, the completed rows that versions
 * before finished.json left in the downloads table (finished.c imports
 * them as finished records). The read runs on the database worker; the
 * loop polls for its outcome. */
#ifndef MT_DAEMON_STORE_FINISHED_IMPORT_H
#define MT_DAEMON_STORE_FINISHED_IMPORT_H

#include "daemon/store/db_worker.h"

typedef struct store_read store_read_t;

typedef enum {
    STORE_READ_PENDING = 0,
    STORE_READ_DONE,
    STORE_READ_FAILED, /* not for want of a connection: it will not work better later */
} store_read_state_t;

/* store_completed_rows: asks for the node's completed rows, shaped as
 * finished.json records (a JSON array). Free with store_read_free (also
 * before it is done: the worker keeps its own reference). */
store_read_t *store_completed_rows(dbw_t *db, const char *node);
/* store_read_poll: the outcome so far; DONE gives the text once (*text:
 * caller frees). */
store_read_state_t store_read_poll(store_read_t *r, char **text);
void store_read_free(store_read_t *r);

#endif
