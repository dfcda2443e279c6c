/* db.c: connection set-up and statement helpers over libpq; every error
 * message is trimmed so it can go straight into a log line or a reply. */
#include "config.h"

#include "db/db.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libpq messages end in a newline and may span lines; keep the first. */
static void
set_pq_error(mt_error_t **err, int code, const char *prefix, const char *msg)
{
    if (msg == NULL || *msg == '\0')
        msg = "unknown error";
    size_t n = strcspn(msg, "\n");
    if (prefix != NULL)
        mt_error_set(err, code, "%s: %.*s", prefix, (int)n, msg);
    else
        mt_error_set(err, code, "%.*s", (int)n, msg);
}

/* Server notices ("relation already exists, skipping") are not errors. */
static void
notice_to_log(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgresql: %.*s", (int)strcspn(message, "\n"), message);
}

PGconn *
db_connect(const char *conninfo, const char *app_name, int timeout_s, mt_error_t **err)
{
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", timeout_s > 0 ? timeout_s : 5);
    /* Our defaults come first: values in conninfo (expanded from "dbname")
     * override them. client_encoding comes last: Muleteer speaks UTF-8. */
    const char *keys[] = { "application_name", "connect_timeout", "dbname",
                           "client_encoding", NULL };
    const char *vals[] = { app_name != NULL ? app_name : "muleteer", timeout, conninfo,
                           "UTF8", NULL };
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "cannot connect to PostgreSQL: out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        set_pq_error(err, MT_ERR_UNAVAILABLE, "cannot connect to PostgreSQL",
                     PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, notice_to_log, NULL);
    PGresult *r = PQexec(conn, "SET TIME ZONE 'UTC'");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        set_pq_error(err, MT_ERR_DB, "cannot set the time zone", PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(conn);
        return NULL;
    }
    PQclear(r);
    return conn;
}

bool
db_is_broken(PGconn *conn)
{
    return conn == NULL || PQstatus(conn) != CONNECTION_OK;
}

int
db_check_result(PGconn *conn, PGresult *r, mt_error_t **err)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY)
        return 0;
    int code = db_is_broken(conn) ? MT_ERR_UNAVAILABLE : MT_ERR_DB;
    const char *msg = r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(conn);
    if (msg == NULL || *msg == '\0')
        msg = PQerrorMessage(conn);
    set_pq_error(err, code, NULL, msg);
    return -1;
}

int
db_exec(PGconn *conn, const char *sql, mt_error_t **err)
{
    if (db_is_broken(conn)) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "not connected to PostgreSQL");
        return -1;
    }
    PGresult *r = PQexec(conn, sql);
    int rc = db_check_result(conn, r, err);
    PQclear(r);
    return rc;
}

PGresult *
db_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
         mt_error_t **err)
{
    if (db_is_broken(conn)) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "not connected to PostgreSQL");
        return NULL;
    }
    PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (db_check_result(conn, r, err) != 0) {
        PQclear(r);
        return NULL;
    }
    return r;
}
