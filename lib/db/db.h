/* db.h: small libpq helpers shared by muleteerd and the FastCGI programs:
 * connecting with Muleteer's defaults and running statements with errors
 * reported through mt_error_t. */
#ifndef MT_DB_DB_H
#define MT_DB_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "util/error.h"

/* db_connect: connects with conninfo (a libpq key=value string or a
 * postgresql:// URI). Muleteer's defaults (application_name, connect
 * timeout, UTF-8 client encoding, UTC time zone) apply unless conninfo sets
 * them. Fails with MT_ERR_UNAVAILABLE and libpq's message. The caller
 * closes the connection with PQfinish. */
PGconn *db_connect(const char *conninfo, const char *app_name, int timeout_s,
                   mt_error_t **err);

/* db_exec: runs one or more statements without parameters and discards any
 * rows. -1 with MT_ERR_DB (statement failed) or MT_ERR_UNAVAILABLE (the
 * connection is gone). */
int db_exec(PGconn *conn, const char *sql, mt_error_t **err);

/* db_query: runs one statement with text parameters (values may be NULL
 * for SQL NULL). Returns the result (free with PQclear) or NULL with the
 * same errors as db_exec. */
PGresult *db_query(PGconn *conn, const char *sql, int nparams,
                   const char *const *params, mt_error_t **err);

/* db_check_result: 0 when r (of a statement on conn) succeeded, else -1
 * with the errors of db_exec. r stays the caller's. */
int db_check_result(PGconn *conn, PGresult *r, mt_error_t **err);

/* db_is_broken: true when conn is NULL or its connection is lost, so the
 * caller must reconnect. */
bool db_is_broken(PGconn *conn);

#endif
