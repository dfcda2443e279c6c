/* pgtest.c: the private PostgreSQL cluster of the unit tests (see
 * pgtest.h), driven through tools/pgcluster.sh. */
#include "config.h"

#include "pgtest.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];
static char *pgcluster;

/* run: "tools/pgcluster.sh SUBCOMMAND DIR [ARG]"; aborts on failure. */
static void
run(const char *subcommand, const char *arg)
{
    char *cmd = xasprintf("%s %s %s %s", pgcluster, subcommand, tmpdir, arg);
    int rc = system(cmd);
    if (rc != 0) {
        fprintf(stderr, "# command failed (%d): %s\n", rc, cmd);
        abort();
    }
    free(cmd);
}

void
pgtest_up(const char *prefix)
{
    const char *src = getenv("MT_SRCDIR");
    pgcluster = xasprintf("%s/tools/pgcluster.sh", src != NULL ? src : ".");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/%s.XXXXXX", prefix);
    if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 0755) != 0)
        abort();
    run("init", "");
    run("start", "");
}

void
pgtest_down(void)
{
    run("stop", "immediate");
    char *cmd = xasprintf("rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "# could not remove %s\n", tmpdir);
    free(cmd);
    free(pgcluster);
    pgcluster = NULL;
}

void
pgtest_createdb(const char *name)
{
    run("createdb", name);
}

char *
pgtest_conninfo(const char *name)
{
    return xasprintf("host=%s/pg dbname=%s user=muleteer", tmpdir, name);
}

const char *
pgtest_dir(void)
{
    return tmpdir;
}
