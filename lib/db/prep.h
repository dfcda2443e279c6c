/* prep.h: statements that a connection runs again and again, prepared on
 * it once. The FastCGI programs ask the same few statements on every
 * request (the session lookup, the change counter); with PQexecParams
 * PostgreSQL parses and plans each of them every time, which was a third
 * of the machine's CPU under load. A text seen a second time on a
 * connection is prepared there and run with PQexecPrepared from then on;
 * a text run once costs no extra round trip.
 *
 * The kept statements belong to the connection (libpq instance data,
 * freed with it; forgotten after PQreset). Not for texts built with
 * values in them: those are one-shot and only pass through. */
#ifndef MT_DB_PREP_H
#define MT_DB_PREP_H

#include <libpq-fe.h>

#include "util/error.h"

/* db_query_prepared: as db_query (db.h): one statement with text
 * parameters, the result or NULL with MT_ERR_DB / MT_ERR_UNAVAILABLE. A
 * kept statement that the server no longer has (DISCARD ALL) or whose
 * result type a migration changed is prepared again, and the statement
 * run once more when no transaction is open. */
PGresult *db_query_prepared(PGconn *conn, const char *sql, int nparams,
                            const char *const *params, mt_error_t **err);

/* db_prepared_count: how many statements conn keeps prepared (tests). */
int db_prepared_count(PGconn *conn);

#endif
