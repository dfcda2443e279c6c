/* cgidb.c: the database access every FastCGI handler shares: a 503 in the
 * route's format when PostgreSQL is away, node-bound queries, waits for a
 * change to show. */
#include "config.h"

#include "common/cgidb.h"
#include "db/prep.h"
#include "util/clock.h"
#include "util/log.h"

#include <stdbool.h>
#include <time.h>

PGconn *
cgidb_conn(cgienv_t *env, http_response_t *resp)
{
    mt_error_t *err = NULL;
    PGconn *db = cgienv_db(env, &err);
    if (db == NULL) {
        log_warn("database: %s", err != NULL ? err->message : "unavailable");
        mt_error_free(err);
        cgienv_answer(env, resp, 503, CGIDB_UNAVAILABLE);
    }
    return db;
}

/* bind: all[0] = the node, then the n params; false when n is too many. */
static bool
bind(cgienv_t *env, const char *all[CGIDB_MAX_PARAMS + 1], const char *const *params, int n)
{
    if (n < 0 || n > CGIDB_MAX_PARAMS)
        return false;
    all[0] = cgienv_node(env);
    for (int i = 0; i < n; i++)
        all[i + 1] = params[i];
    return true;
}

PGresult *
cgidb_query(cgienv_t *env, http_response_t *resp, const char *sql, int n,
            const char *const *params)
{
    return cgidb_query_node(env, resp, NULL, sql, n, params);
}

PGresult *
cgidb_query_node(cgienv_t *env, http_response_t *resp, const char *node, const char *sql, int n,
                 const char *const *params)
{
    const char *all[CGIDB_MAX_PARAMS + 1];
    if (n < 0)
        n = 0;
    if (n > CGIDB_MAX_PARAMS)
        n = CGIDB_MAX_PARAMS;
    bind(env, all, params, n);
    if (node != NULL)
        all[0] = node;
    PGconn *db = cgidb_conn(env, resp);
    if (db == NULL)
        return NULL;
    /* the same few texts on every request: prepared once per connection */
    mt_error_t *err = NULL;
    PGresult *r = db_query_prepared(db, sql, n + 1, all, &err);
    if (r != NULL && PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        r = NULL;
        mt_error_set(&err, MT_ERR_DB, "the statement returned no rows");
    }
    if (r == NULL) {
        log_warn("database: %s", err != NULL ? err->message : "unknown error");
        mt_error_free(err);
        cgienv_answer(env, resp, 503, CGIDB_UNAVAILABLE);
    }
    return r;
}

void
cgidb_wait(cgienv_t *env, const char *sql, const char *const *params, int n)
{
    cgidb_wait_node(env, NULL, sql, params, n);
}

void
cgidb_wait_node(cgienv_t *env, const char *node, const char *sql, const char *const *params,
                int n)
{
    const char *all[CGIDB_MAX_PARAMS + 1];
    if (!bind(env, all, params, n))
        return;
    if (node != NULL)
        all[0] = node;
    int64_t deadline = cgienv_request_deadline(env);
    for (;;) {
        mt_error_t *err = NULL;
        PGconn *db = cgienv_db(env, &err);
        mt_error_free(err);
        if (db == NULL)
            return;
        PGresult *r = db_query_prepared(db, sql, n + 1, all, NULL);
        bool found = r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
        bool failed = r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK;
        PQclear(r);
        if (found || failed || clock_mono_ms() >= deadline)
            return;
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}
