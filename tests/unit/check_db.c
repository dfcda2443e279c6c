/* check_db.c: unit tests for lib/db (connection helpers, prepared
 * statements and the migrations runner) against a real, private PostgreSQL cluster started for the test
 * by tools/pgcluster.sh. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "db/migrate.h"
#include "db/prep.h"
#include "pgtest.h"
#include "util/xalloc.h"

static void
cluster_up(void)
{
    pgtest_up("check_db");
}

static void
cluster_down(void)
{
    pgtest_down();
}

/* A fresh database per test, so tests do not see each other's schema. */
static PGconn *
fresh_db(const char *name)
{
    pgtest_createdb(name);
    char *ci = pgtest_conninfo(name);
    mt_error_t *err = NULL;
    PGconn *c = db_connect(ci, "check_db", 5, &err);
    ck_assert_msg(c != NULL, "connect: %s", err ? err->message : "?");
    free(ci);
    return c;
}

static int
count(PGconn *c, const char *sql)
{
    PGresult *r = db_query(c, sql, 0, NULL, NULL);
    ck_assert_ptr_nonnull(r);
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

START_TEST(test_connect_errors)
{
    mt_error_t *err = NULL;
    char *ci = xasprintf("host=%s/nowhere dbname=x", pgtest_dir());
    ck_assert_ptr_null(db_connect(ci, "t", 2, &err));
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err->message, "cannot connect to PostgreSQL"));
    ck_assert_ptr_null(strchr(err->message, '\n'));
    mt_error_clear(&err);
    free(ci);
    ck_assert_ptr_null(db_connect("this is = not valid", "t", 2, &err));
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    mt_error_clear(&err);
}
END_TEST

START_TEST(test_query_helpers)
{
    PGconn *c = fresh_db("t_query");
    mt_error_t *err = NULL;
    const char *p[] = { "21", NULL };
    PGresult *r = db_query(c, "SELECT $1::int * 2, $2::text IS NULL", 2, p, &err);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "42");
    ck_assert_str_eq(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    /* the session runs in UTC */
    ck_assert_int_eq(count(c, "SELECT (current_setting('TimeZone') = 'UTC')::int"), 1);
    ck_assert_int_eq(db_exec(c, "SELECT * FROM no_such_table", &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_DB);
    ck_assert_ptr_nonnull(strstr(err->message, "no_such_table"));
    mt_error_clear(&err);
    /* A terminated backend is a broken connection, not a statement error. */
    db_exec(c, "SELECT pg_terminate_backend(pg_backend_pid())", NULL);
    ck_assert_int_eq(db_exec(c, "SELECT 1", &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    ck_assert(db_is_broken(c));
    mt_error_clear(&err);
    PQfinish(c);
    ck_assert(db_is_broken(NULL));
}
END_TEST

/* prepared: how many statements the server holds for this session */
static int
server_prepared(PGconn *c)
{
    return count(c, "SELECT count(*) FROM pg_prepared_statements");
}

START_TEST(test_query_prepared)
{
    PGconn *c = fresh_db("t_prep");
    mt_error_t *err = NULL;
    static const char sql[] = "SELECT $1::int + 1";
    const char *p[] = { "41" };
    /* the first run passes through; the second prepares; later ones reuse */
    for (int i = 0; i < 3; i++) {
        PGresult *r = db_query_prepared(c, sql, 1, p, &err);
        ck_assert_ptr_nonnull(r);
        ck_assert_str_eq(PQgetvalue(r, 0, 0), "42");
        PQclear(r);
        ck_assert_int_eq(db_prepared_count(c), i == 0 ? 0 : 1);
        ck_assert_int_eq(server_prepared(c), i == 0 ? 0 : 1);
    }
    /* a copy of the text (another address) is the same statement */
    char *copy = xstrdup(sql);
    PGresult *r = db_query_prepared(c, copy, 1, p, &err);
    ck_assert_ptr_nonnull(r);
    PQclear(r);
    free(copy);
    ck_assert_int_eq(server_prepared(c), 1);

    /* gone from the server (DISCARD ALL): prepared again, answered */
    ck_assert_int_eq(db_exec(c, "DISCARD ALL", NULL), 0);
    r = db_query_prepared(c, sql, 1, p, &err);
    ck_assert_msg(r != NULL, "after DISCARD: %s", err ? err->message : "?");
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "42");
    PQclear(r);
    ck_assert_int_eq(server_prepared(c), 1);

    /* a migration changes the result type: prepared again, new columns */
    ck_assert_int_eq(db_exec(c, "CREATE TABLE t (a int); INSERT INTO t VALUES (7)", NULL), 0);
    static const char star[] = "SELECT * FROM t";
    for (int i = 0; i < 2; i++) {
        r = db_query_prepared(c, star, 0, NULL, &err);
        ck_assert_ptr_nonnull(r);
        PQclear(r);
    }
    ck_assert_int_eq(db_exec(c, "ALTER TABLE t ADD COLUMN b text DEFAULT 'x'", NULL), 0);
    r = db_query_prepared(c, star, 0, NULL, &err);
    ck_assert_msg(r != NULL, "after ALTER: %s", err ? err->message : "?");
    ck_assert_int_eq(PQnfields(r), 2);
    ck_assert_str_eq(PQgetvalue(r, 0, 1), "x");
    PQclear(r);

    /* a statement's own error is the caller's, as db_query's */
    static const char bad[] = "SELECT 1 / $1::int";
    const char *zero[] = { "0" };
    for (int i = 0; i < 2; i++) {
        ck_assert_ptr_null(db_query_prepared(c, bad, 1, zero, &err));
        ck_assert_int_eq(err->code, MT_ERR_DB);
        ck_assert_ptr_nonnull(strstr(err->message, "division by zero"));
        mt_error_clear(&err);
    }

    /* a broken connection: unavailable, not a statement error */
    db_exec(c, "SELECT pg_terminate_backend(pg_backend_pid())", NULL);
    ck_assert_ptr_null(db_query_prepared(c, sql, 1, p, &err));
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    mt_error_clear(&err);
    /* PQreset: a new session, none kept */
    PQreset(c);
    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    ck_assert_int_eq(db_prepared_count(c), 0);
    r = db_query_prepared(c, sql, 1, p, &err);
    ck_assert_msg(r != NULL, "after reset: %s", err ? err->message : "?");
    PQclear(r);
    PQfinish(c);
}
END_TEST

/* Many one-shot texts never crowd out the kept ones, nor fill the table. */
START_TEST(test_query_prepared_one_shot)
{
    PGconn *c = fresh_db("t_prep_once");
    static const char kept[] = "SELECT 2";
    for (int i = 0; i < 2; i++)
        PQclear(db_query_prepared(c, kept, 0, NULL, NULL));
    for (int i = 0; i < 1000; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d", 1000 + i);
        PGresult *r = db_query_prepared(c, sql, 0, NULL, NULL);
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(atoi(PQgetvalue(r, 0, 0)), 1000 + i);
        PQclear(r);
    }
    ck_assert_int_eq(db_prepared_count(c), 1);
    ck_assert_int_eq(server_prepared(c), 1);
    PQfinish(c);
}
END_TEST

START_TEST(test_migrate_real_schema)
{
    PGconn *c = fresh_db("t_real");
    int applied = -1, version = -1;
    mt_error_t *err = NULL;
    ck_assert_int_eq(db_schema_version(c, &version, &err), 0);
    ck_assert_int_eq(version, 0);
    ck_assert_msg(db_migrate(c, db_migrations, db_n_migrations, &applied, &err) == 0,
                  "migrate: %s", err ? err->message : "");
    ck_assert_int_eq(applied, (int)db_n_migrations);
    ck_assert_int_eq(db_schema_version(c, &version, &err), 0);
    ck_assert_int_eq(version, db_migrations[db_n_migrations - 1].version);
    /* The first migration's tables exist. */
    const char *tables[] = { "daemon_status", "categories", "downloads", "history",
                             "transfer_samples" };
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        const char *p[] = { tables[i] };
        PGresult *r = db_query(c, "SELECT to_regclass($1) IS NOT NULL", 1, p, &err);
        ck_assert_str_eq(PQgetvalue(r, 0, 0), "t");
        PQclear(r);
    }
    /* Running again applies nothing. */
    ck_assert_int_eq(db_migrate(c, db_migrations, db_n_migrations, &applied, &err), 0);
    ck_assert_int_eq(applied, 0);
    ck_assert_int_eq(count(c, "SELECT count(*) FROM schema_migrations"), (int)db_n_migrations);
    /* The schema rejects bad rows. */
    ck_assert_int_eq(db_exec(c, "INSERT INTO downloads (node, hash, name, size, state) VALUES"
                                " ('n', 'XYZ', 'f', 1, 'queued')", &err), -1);
    mt_error_clear(&err);
    ck_assert_int_eq(db_exec(c, "INSERT INTO history (node, hash, name, size, status, started_at)"
                                " VALUES ('n', repeat('a', 32), 'f', 1, 'bogus', now())", &err), -1);
    mt_error_clear(&err);
    PQfinish(c);
}
END_TEST

/* sorted: the names of v(n) in the order of ORDER BY key, tie-broken by
 * n bytewise, joined by '|'. */
static char *
sorted(PGconn *c, const char *key)
{
    char *sql = xasprintf("SELECT string_agg(n, '|' ORDER BY %s, n COLLATE \"C\") FROM (VALUES"
                          " ('Show 10'), ('x100'), ('show 2'), ('Banana'), ('x9y'),"
                          " ('Show 1'), ('apple'), ('x10y')) v(n)",
                          key);
    mt_error_t *err = NULL;
    PGresult *r = db_query(c, sql, 0, NULL, &err);
    ck_assert_msg(r != NULL, "%s: %s", key, err != NULL ? err->message : "");
    char *out = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    free(sql);
    return out;
}

/* 014: the natural order of qBittorrent (case ignored, numbers as
 * numbers), with ICU and by the padded key of servers without it. */
START_TEST(test_natural_order)
{
    PGconn *c = fresh_db("t_natural");
    int applied = -1;
    mt_error_t *err = NULL;
    ck_assert_msg(db_migrate(c, db_migrations, db_n_migrations, &applied, &err) == 0,
                  "migrate: %s", err ? err->message : "");
    static const char want[] = "apple|Banana|Show 1|show 2|Show 10|x9y|x10y|x100";
    const char *keys[] = { "mt_natural_key(n) COLLATE mt_natural", "mt_natural_pad(n) COLLATE \"C\"" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *got = sorted(c, keys[i]);
        ck_assert_msg(strcmp(got, want) == 0, "ORDER BY %s: %s", keys[i], got);
        free(got);
    }
    /* bytewise, for contrast: the order the collation is there to fix */
    char *got = sorted(c, "n COLLATE \"C\"");
    ck_assert_str_eq(got, "Banana|Show 1|Show 10|apple|show 2|x100|x10y|x9y");
    free(got);
    /* the pad key: lower case, runs padded to 40 digits, longer ones kept */
    PGresult *r = db_query(c, "SELECT mt_natural_pad('Ep 7b') = 'ep ' || repeat('0', 39) || '7b',"
                              " mt_natural_pad(repeat('9', 41)) = repeat('9', 41),"
                              " mt_natural_pad('') = '', mt_natural_pad(NULL) IS NULL",
                           0, NULL, &err);
    ck_assert_ptr_nonnull(r);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(strcmp(PQgetvalue(r, 0, i), "t") == 0, "pad check %d", i);
    PQclear(r);
    PQfinish(c);
}
END_TEST

static const db_migration_t good[] = {
    { 1, "001_a.sql", "CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);" },
    { 2, "002_b.sql", "CREATE TABLE b (y int);" },
};
static const db_migration_t bad_second[] = {
    { 1, "001_a.sql", "CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);" },
    { 2, "002_b.sql", "CREATE TABLE b (y int);" },
    { 3, "003_c.sql", "CREATE TABLE c (z int); INSERT INTO c VALUES ('not a number');" },
};
static const db_migration_t edited[] = {
    { 1, "001_a.sql", "CREATE TABLE a (x bigint);" },
    { 2, "002_b.sql", "CREATE TABLE b (y int);" },
};
static const db_migration_t older[] = {
    { 1, "001_a.sql", "CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);" },
};

START_TEST(test_migrate_failures)
{
    PGconn *c = fresh_db("t_fail");
    int applied = 0;
    mt_error_t *err = NULL;
    ck_assert_int_eq(db_migrate(c, bad_second, 3, &applied, &err), -1);
    ck_assert_int_eq(applied, 2);
    ck_assert_ptr_nonnull(strstr(err->message, "migration 003_c.sql failed"));
    ck_assert_ptr_nonnull(strstr(err->message, "not a number"));
    mt_error_clear(&err);
    /* Nothing of the failed migration is kept; the others are. */
    ck_assert_int_eq(count(c, "SELECT count(*) FROM schema_migrations"), 2);
    ck_assert_int_eq(count(c, "SELECT (to_regclass('c') IS NULL)::int"), 1);
    ck_assert_int_eq(count(c, "SELECT count(*) FROM a"), 1);

    ck_assert_int_eq(db_migrate(c, edited, 2, &applied, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "migration 001_a.sql was changed"));
    mt_error_clear(&err);

    ck_assert_int_eq(db_migrate(c, older, 1, &applied, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "002_b.sql"));
    ck_assert_ptr_nonnull(strstr(err->message, "older than the database schema"));
    mt_error_clear(&err);

    ck_assert_int_eq(db_migrate(c, good, 2, &applied, &err), 0);
    ck_assert_int_eq(applied, 0);
    /* The lock is released after a failure: another session can migrate. */
    ck_assert_int_eq(count(c, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 0);
    PQfinish(c);
}
END_TEST

struct racer {
    char *conninfo;
    int applied;
    int rc;
};

static void *
race(void *arg)
{
    struct racer *r = arg;
    PGconn *c = db_connect(r->conninfo, "race", 5, NULL);
    r->rc = c == NULL ? -1 : db_migrate(c, db_migrations, db_n_migrations, &r->applied, NULL);
    PQfinish(c);
    return NULL;
}

START_TEST(test_migrate_concurrent)
{
    PGconn *c = fresh_db("t_race");
    PQfinish(c);
    struct racer r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i].conninfo = pgtest_conninfo("t_race");
        r[i].applied = 0;
        r[i].rc = 0;
        pthread_create(&th[i], NULL, race, &r[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(r[i].rc, 0);
        total += r[i].applied;
        free(r[i].conninfo);
    }
    ck_assert_int_eq(total, (int)db_n_migrations);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("postgresql");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, cluster_up, cluster_down);
    tcase_add_test(tc, test_connect_errors);
    tcase_add_test(tc, test_query_helpers);
    tcase_add_test(tc, test_query_prepared);
    tcase_add_test(tc, test_query_prepared_one_shot);
    tcase_add_test(tc, test_migrate_real_schema);
    tcase_add_test(tc, test_natural_order);
    tcase_add_test(tc, test_migrate_failures);
    tcase_add_test(tc, test_migrate_concurrent);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
