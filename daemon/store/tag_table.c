/* tag_table.c: the SQL of the tags table (tag_table.h), run by the
 * database worker. */
#include "config.h"

#include "daemon/store/tag_table.h"
#include "daemon/store/statement.h"

/* The node's tags replaced by the names of $2. */
static const char TAGS_SQL[] =
    "WITH r AS (SELECT DISTINCT value AS name FROM json_array_elements_text($2::json)),"
    " gone AS (DELETE FROM tags t WHERE t.node = $1 AND NOT EXISTS"
    "  (SELECT 1 FROM r WHERE r.name = t.name))"
    " INSERT INTO tags (node, name) SELECT $1, name FROM r ON CONFLICT (node, name) DO NOTHING";

void
store_tags_write(dbw_t *db, const char *node, const char *names)
{
    store_statement(db, "tags", TAGS_SQL, node, names);
}
