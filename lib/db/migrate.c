/* migrate.c: applies sql/NNN_name.sql migrations in order, records each in
 * schema_migrations with an MD5 of its text, and refuses edited history. */
#include "config.h"

#include "db/db.h"
#include "db/migrate.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Advisory lock key: "mule" in ASCII. */
#define MIGRATE_LOCK_KEY "1836412005"

static const char create_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

int
db_schema_version(PGconn *conn, int *version, mt_error_t **err)
{
    *version = 0;
    PGresult *r = db_query(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0,
                           NULL, err);
    if (r == NULL)
        return -1;
    int exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!exists)
        return 0;
    r = db_query(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, err);
    if (r == NULL)
        return -1;
    *version = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

/* Checks recorded migrations against the compiled-in ones. */
static int
check_history(PGconn *conn, const db_migration_t *m, size_t n, mt_error_t **err)
{
    PGresult *r = db_query(conn, "SELECT version, name, checksum FROM schema_migrations"
                                 " ORDER BY version", 0, NULL, err);
    if (r == NULL)
        return -1;
    int rc = 0;
    for (int row = 0; row < PQntuples(r) && rc == 0; row++) {
        int version = atoi(PQgetvalue(r, row, 0));
        const db_migration_t *known = NULL;
        for (size_t i = 0; i < n; i++)
            if (m[i].version == version)
                known = &m[i];
        if (known == NULL) {
            mt_error_set(err, MT_ERR_DB,
                         "the database has migration %s, which this version of Muleteer does "
                         "not know; it is older than the database schema",
                         PQgetvalue(r, row, 1));
            rc = -1;
            break;
        }
        const char *params[] = { known->sql, PQgetvalue(r, row, 2) };
        PGresult *c = db_query(conn, "SELECT md5($1) = $2", 2, params, err);
        if (c == NULL) {
            rc = -1;
            break;
        }
        if (strcmp(PQgetvalue(c, 0, 0), "t") != 0) {
            mt_error_set(err, MT_ERR_DB,
                         "migration %s was changed after it was applied; add a new "
                         "migration instead of editing an old one",
                         known->name);
            rc = -1;
        }
        PQclear(c);
    }
    PQclear(r);
    return rc;
}

static int
is_applied(PGconn *conn, int version, int *applied, mt_error_t **err)
{
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *params[] = { v };
    PGresult *r = db_query(conn, "SELECT 1 FROM schema_migrations WHERE version = $1", 1,
                           params, err);
    if (r == NULL)
        return -1;
    *applied = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

static int
apply_one(PGconn *conn, const db_migration_t *m, mt_error_t **err)
{
    if (db_exec(conn, "BEGIN", err) != 0)
        return -1;
    if (db_exec(conn, m->sql, err) != 0)
        goto fail;
    char v[16];
    snprintf(v, sizeof v, "%d", m->version);
    const char *params[] = { v, m->name, m->sql };
    PGresult *r = db_query(conn, "INSERT INTO schema_migrations (version, name, checksum)"
                                 " VALUES ($1, $2, md5($3))", 3, params, err);
    if (r == NULL)
        goto fail;
    PQclear(r);
    if (db_exec(conn, "COMMIT", err) != 0)
        goto fail;
    return 0;
fail:
    mt_error_prefix(err, "migration %s failed", m->name);
    db_exec(conn, "ROLLBACK", NULL);
    return -1;
}

int
db_migrate(PGconn *conn, const db_migration_t *m, size_t n, int *applied, mt_error_t **err)
{
    if (applied != NULL)
        *applied = 0;
    if (db_exec(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err) != 0) {
        mt_error_prefix(err, "cannot lock the schema for migration");
        return -1;
    }
    int rc = 0;
    if (db_exec(conn, create_table_sql, err) != 0 || check_history(conn, m, n, err) != 0) {
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        int done = 0;
        if (is_applied(conn, m[i].version, &done, err) != 0) {
            rc = -1;
            break;
        }
        if (done)
            continue;
        if (apply_one(conn, &m[i], err) != 0) {
            rc = -1;
            break;
        }
        if (applied != NULL)
            (*applied)++;
    }
out:
    db_exec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", NULL);
    return rc;
}
