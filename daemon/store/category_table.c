/* category_table.c: the SQL of the categories table (category_table.h),
 * run by the database worker. */
#include "config.h"

#include "daemon/store/category_table.h"
#include "daemon/store/statement.h"

/* The node's categories replaced by the rows of $2. */
static const char CATEGORIES_SQL[] =
    "WITH r AS (SELECT * FROM json_to_recordset($2::json) AS x(name text, incoming_path text,"
    "  priority int, colour int, comment text, created bigint)),"
    " gone AS (DELETE FROM categories c WHERE c.node = $1 AND NOT EXISTS"
    "  (SELECT 1 FROM r WHERE r.name = c.name))"
    " INSERT INTO categories (node, name, incoming_path, priority, colour, comment, created_at)"
    " SELECT $1, name, incoming_path, priority, colour, comment, to_timestamp(created) FROM r"
    " ON CONFLICT (node, name) DO UPDATE SET incoming_path = EXCLUDED.incoming_path,"
    "  priority = EXCLUDED.priority, colour = EXCLUDED.colour, comment = EXCLUDED.comment";

void
store_categories_write(dbw_t *db, const char *node, const char *rows)
{
    store_statement(db, "categories", CATEGORIES_SQL, node, rows);
}
