/* search_tables.c: the SQL of the searches and search_results tables
 * (search_tables.h), run by the database worker. */
#include "config.h"

#include "daemon/store/search_tables.h"
#include "db/db.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    char *node;
    char *search;   /* JSON object of the search row */
    char *results;  /* JSON array of results, or NULL */
} search_job_t;

static void
search_job_free(void *arg)
{
    search_job_t *j = arg;
    free(j->node);
    free(j->search);
    free(j->results);
    free(j);
}

static int write_results(PGconn *conn, search_job_t *j, mt_error_t **err);

static int
search_job_run(PGconn *conn, void *arg, mt_error_t **err)
{
    search_job_t *j = arg;
    const char *p1[] = { j->node, j->search };
    PGresult *res = db_query(
        conn,
        "INSERT INTO searches (node, id, expression, normalized, scope, state, error, results,"
        " servers_asked, started_at, finished_at)"
        " SELECT $1, id, expression, normalized, scope, state, error, results, servers_asked,"
        "  to_timestamp(started_at), to_timestamp(NULLIF(finished_at, 0))"
        " FROM json_to_record($2::json) AS x(id bigint, expression text, normalized text,"
        "  scope text, state text, error text, results int, servers_asked int,"
        "  started_at bigint, finished_at bigint)"
        " ON CONFLICT (node, id) DO UPDATE SET state = EXCLUDED.state, error = EXCLUDED.error,"
        "  results = EXCLUDED.results, servers_asked = EXCLUDED.servers_asked,"
        "  finished_at = EXCLUDED.finished_at",
        2, p1, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    if (j->results != NULL && write_results(conn, j, err) != 0)
        return -1;
    /* the Torznab indexer waits on this (docs/torznab.md): the payload is
     * the search's id */
    res = db_query(conn, "SELECT pg_notify('search_results', ($1::json ->> 'id'))", 1,
                   (const char *[]){ j->search }, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

/* write_results: the job's results, merged into search_results. */
static int
write_results(PGconn *conn, search_job_t *j, mt_error_t **err)
{
    const char *p2[] = { j->node, j->results };
    PGresult *res = db_query(
        conn,
        "INSERT INTO search_results (node, search_id, hash, name, size, sources,"
        " complete_sources, file_type, extension, artist, album, title, codec, length_s, bitrate,"
        " origins)"
        " SELECT $1, search_id, hash, name, size, sources, complete_sources, file_type,"
        "  extension, artist, album, title, codec, NULLIF(length_s, 0), NULLIF(bitrate, 0),"
        "  ARRAY(SELECT json_array_elements_text(COALESCE(origins, '[]'::json)))"
        " FROM json_to_recordset($2::json) AS x(search_id bigint, hash text, name text,"
        "  size bigint, sources int, complete_sources int, file_type text, extension text,"
        "  artist text, album text, title text, codec text, length_s int, bitrate int,"
        "  origins json)"
        " ON CONFLICT (node, search_id, hash) DO UPDATE SET sources = EXCLUDED.sources,"
        "  complete_sources = EXCLUDED.complete_sources, origins = EXCLUDED.origins,"
        "  updated_at = now()",
        2, p2, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

void
store_search_write(dbw_t *db, const char *node, const char *search, const char *results)
{
    search_job_t *j = xcalloc(1, sizeof *j);
    j->node = xstrdup(node);
    j->search = xstrdup(search);
    j->results = results != NULL ? xstrdup(results) : NULL;
    dbw_submit(db, NULL, search_job_run, j, search_job_free);
}

typedef struct {
    char *node;
    char days[24];
} prune_t;

static void
prune_free(void *arg)
{
    prune_t *p = arg;
    free(p->node);
    free(p);
}

static int
prune_run(PGconn *conn, void *arg, mt_error_t **err)
{
    prune_t *p = arg;
    const char *params[] = { p->node, p->days };
    PGresult *res = db_query(conn,
                             "DELETE FROM searches WHERE node = $1 AND started_at <"
                             " now() - make_interval(days => $2::int)",
                             2, params, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

void
store_searches_prune(dbw_t *db, const char *node, long days)
{
    prune_t *p = xcalloc(1, sizeof *p);
    p->node = xstrdup(node);
    snprintf(p->days, sizeof p->days, "%ld", days);
    dbw_submit(db, "search_prune", prune_run, p, prune_free);
}
