/* category_table.c: the SQL of the categories table (category_table.h),
 * run by the database worker. */
#include "config.h"

#include "daemon/store/category_table.h"
#include "db/db.h"
#include "util/xalloc.h"

#include <stdlib.h>

typedef struct {
    char *node, *rows;
} cat_job_t;

static void
cat_job_free(void *arg)
{
    cat_job_t *j = arg;
    free(j->node);
    free(j->rows);
    free(j);
}

static int
cat_job_run(PGconn *conn, void *arg, mt_error_t **err)
{
    cat_job_t *j = arg;
    const char *params[] = { j->node, j->rows };
    PGresult *res = db_query(
        conn,
        "WITH r AS (SELECT * FROM json_to_recordset($2::json) AS x(name text, incoming_path text,"
        "  priority int, colour int, comment text, created bigint)),"
        " gone AS (DELETE FROM categories c WHERE c.node = $1 AND NOT EXISTS"
        "  (SELECT 1 FROM r WHERE r.name = c.name))"
        " INSERT INTO categories (node, name, incoming_path, priority, colour, comment, created_at)"
        " SELECT $1, name, incoming_path, priority, colour, comment, to_timestamp(created) FROM r"
        " ON CONFLICT (node, name) DO UPDATE SET incoming_path = EXCLUDED.incoming_path,"
        "  priority = EXCLUDED.priority, colour = EXCLUDED.colour, comment = EXCLUDED.comment",
        2, params, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

void
store_categories_write(dbw_t *db, const char *node, const char *rows)
{
    cat_job_t *j = xcalloc(1, sizeof *j);
    j->node = xstrdup(node);
    j->rows = xstrdup(rows);
    dbw_submit(db, "categories", cat_job_run, j, cat_job_free);
}
