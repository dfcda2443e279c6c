/* statement.c: one statement with the node and a text as parameters, run
 * by the database worker (statement.h). */
#include "config.h"

#include "daemon/store/statement.h"
#include "db/db.h"
#include "util/xalloc.h"

#include <stdlib.h>

typedef struct {
    const char *sql;
    char *node, *text;
} statement_t;

static void
statement_free(void *arg)
{
    statement_t *j = arg;
    free(j->node);
    free(j->text);
    free(j);
}

static int
statement_run(PGconn *conn, void *arg, mt_error_t **err)
{
    statement_t *j = arg;
    const char *params[] = { j->node, j->text };
    PGresult *res = db_query(conn, j->sql, 2, params, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

void
store_statement(dbw_t *db, const char *key, const char *sql, const char *node, const char *text)
{
    statement_t *j = xcalloc(1, sizeof *j);
    j->sql = sql;
    j->node = xstrdup(node);
    j->text = xstrdup(text);
    dbw_submit(db, key, statement_run, j, statement_free);
}
