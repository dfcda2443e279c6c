/* cgidb.h: PostgreSQL for the handlers of every FastCGI program: the
 * connection or a 503 in the route's format, queries over this node's
 * rows, and waiting until a change the daemon made shows in the database
 * (read-your-writes). */
#ifndef MT_CGI_CGIDB_H
#define MT_CGI_CGIDB_H

#include <libpq-fe.h>

#include "common/cgienv.h"
#include "http/response.h"

/* The message of the 503 answered when PostgreSQL cannot be used. */
#define CGIDB_UNAVAILABLE "Database unavailable"

/* cgidb_conn: the database, or NULL after answering 503 (logged). */
PGconn *cgidb_conn(cgienv_t *env, http_response_t *resp);

/* The most parameters a query takes besides the node. */
#define CGIDB_MAX_PARAMS 7

/* cgidb_query: a query returning rows, $1 bound to the node and $2... to
 * params (n of them, at most CGIDB_MAX_PARAMS). NULL after answering 503
 * (database down or the query failed; logged); the caller PQclears the
 * result. */
PGresult *cgidb_query(cgienv_t *env, http_response_t *resp, const char *sql, int n,
                      const char *const *params);
/* cgidb_query_node: cgidb_query with $1 bound to node (NULL: this
 * program's node). */
PGresult *cgidb_query_node(cgienv_t *env, http_response_t *resp, const char *node,
                           const char *sql, int n, const char *const *params);

/* cgidb_wait: waits (polling every 50 ms, until the request's deadline:
 * cgienv_request_deadline) for sql, a query over $1 = the node and params
 * (n, at most CGIDB_MAX_PARAMS), to return a row: a change the daemon made
 * reaches PostgreSQL within about a second, and a client that reads right
 * after changing (Sonarr creates a category, then lists them) must see
 * it. Returns quietly on timeout or a database error: the change was made
 * either way. */
void cgidb_wait(cgienv_t *env, const char *sql, const char *const *params, int n);

/* cgidb_wait_node: cgidb_wait with $1 bound to node (NULL: this program's
 * node): a change made by another node's daemon (cgictl_call_node). */
void cgidb_wait_node(cgienv_t *env, const char *node, const char *sql,
                     const char *const *params, int n);

#endif
