/* pgtest.h: a private PostgreSQL cluster for unit tests that need a real
 * database (check_db, check_auth), run by tools/pgcluster.sh in a
 * temporary directory: start it in an unchecked fixture, make a fresh
 * database per test. Any failure aborts the test program. */
#ifndef MT_TESTS_PGTEST_H
#define MT_TESTS_PGTEST_H

/* pgtest_up: creates and starts the cluster under /tmp/<prefix>.XXXXXX
 * (MT_SRCDIR locates tools/pgcluster.sh). pgtest_down stops it and
 * removes the directory. */
void pgtest_up(const char *prefix);
void pgtest_down(void);

/* pgtest_createdb: creates database name (owned by the muleteer role). */
void pgtest_createdb(const char *name);
/* pgtest_conninfo: "host=<socket dir> dbname=<name> user=muleteer"
 * (caller frees). */
char *pgtest_conninfo(const char *name);
/* pgtest_dir: the cluster's temporary directory. */
const char *pgtest_dir(void);

#endif
