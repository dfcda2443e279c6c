/* command_table.c: the SQL of the daemon's side of the command relay
 * (command_table.h): one statement per step, each a single transaction. */
#include "config.h"

#include "daemon/store/command_table.h"
#include "db/db.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One statement: the expiry of the late rows, then the claim of the first
 * queued one (FOR UPDATE SKIP LOCKED: a second claimer never waits on, or
 * takes, a row being claimed). The expiry is a CTE of the same statement
 * (PostgreSQL runs a data-modifying CTE whether or not it is read), and a
 * row past its deadline is never claimed. */
static const char claim_sql[] =
    "WITH late AS ("
    " UPDATE commands SET state = 'expired', done_at = now(),"
    "  error = jsonb_build_object('code', 'unavailable', 'message',"
    "   'not started before its deadline')"
    " WHERE node = $1 AND state = 'queued' AND deadline <= now() RETURNING id),"
    " next AS ("
    " SELECT id FROM commands WHERE node = $1 AND state = 'queued' AND deadline > now()"
    " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " UPDATE commands c SET state = 'claimed', claimed_at = now(), claimed_by = $2"
    " FROM next WHERE c.id = next.id RETURNING c.id, c.command, c.args::text";

int
cmdtab_claim(PGconn *conn, const char *node, const char *run, cmdtab_row_t *row,
             mt_error_t **err)
{
    memset(row, 0, sizeof *row);
    const char *params[] = { node, run };
    PGresult *r = db_query(conn, claim_sql, 2, params, err);
    if (r == NULL)
        return -1;
    int n = PQntuples(r);
    if (n > 0) {
        row->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        row->command = xstrdup(PQgetvalue(r, 0, 1));
        row->args = xstrdup(PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    return n > 0 ? 1 : 0;
}

void
cmdtab_row_clear(cmdtab_row_t *row)
{
    free(row->command);
    free(row->args);
    memset(row, 0, sizeof *row);
}

int
cmdtab_answer(PGconn *conn, long long id, const char *run, const char *result,
              const char *error_code, const char *error_message, mt_error_t **err)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    const char *params[] = { idtext, run, result, error_code ? error_code : "internal",
                             error_message ? error_message : "failed" };
    PGresult *r = db_query(conn,
                           "UPDATE commands SET done_at = now(),"
                           " state = CASE WHEN $3::jsonb IS NULL THEN 'failed' ELSE 'done' END,"
                           " result = $3::jsonb,"
                           " error = CASE WHEN $3::jsonb IS NULL THEN"
                           "  jsonb_build_object('code', $4::text, 'message', $5::text) END"
                           " WHERE id = $1 AND state = 'claimed' AND claimed_by = $2",
                           5, params, err);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}

int
cmdtab_recover(PGconn *conn, const char *node, const char *run, int *n, mt_error_t **err)
{
    const char *params[] = { node, run };
    PGresult *r = db_query(conn,
                           "UPDATE commands SET state = 'failed', done_at = now(),"
                           " error = jsonb_build_object('code', 'unavailable', 'message',"
                           "  'the node''s daemon stopped while running it; its effect is unknown')"
                           " WHERE node = $1 AND state = 'claimed' AND claimed_by IS DISTINCT FROM $2",
                           2, params, err);
    if (r == NULL)
        return -1;
    if (n != NULL)
        *n = atoi(PQcmdTuples(r));
    PQclear(r);
    return 0;
}

int
cmdtab_purge(PGconn *conn, const char *node, int keep_s, mt_error_t **err)
{
    char keep[24];
    snprintf(keep, sizeof keep, "%d", keep_s);
    const char *params[] = { node, keep };
    PGresult *r = db_query(conn,
                           "DELETE FROM commands WHERE node = $1 AND done_at IS NOT NULL"
                           " AND done_at < now() - make_interval(secs => $2::int)",
                           2, params, err);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}
