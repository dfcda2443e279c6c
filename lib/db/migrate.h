/* migrate.h: the forward-only migrations runner shared by muleteerd (at
 * start-up and after every reconnect) and run.sh (muleteerd --migrate). */
#ifndef MT_DB_MIGRATE_H
#define MT_DB_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "util/error.h"

typedef struct {
    int version;      /* NNN of sql/NNN_name.sql */
    const char *name; /* file name */
    const char *sql;
} db_migration_t;

/* Every migration in sql/, in order, compiled in by build-aux/embed-sql.sh. */
extern const db_migration_t db_migrations[];
extern const size_t db_n_migrations;

/* db_migrate: applies, in order and each in its own transaction, the
 * migrations not yet recorded in schema_migrations, under an advisory lock
 * so concurrent runners wait for each other. *applied (may be NULL) gets
 * the number applied. Fails (MT_ERR_DB) naming the file when a migration
 * fails (nothing of it is kept), when a recorded migration's text has
 * changed since it was applied, or when the database has a migration this
 * program does not know (it is older than the schema). */
int db_migrate(PGconn *conn, const db_migration_t *migrations, size_t n, int *applied,
               mt_error_t **err);

/* db_schema_version: the highest applied version, 0 when none is. */
int db_schema_version(PGconn *conn, int *version, mt_error_t **err);

#endif
