/* command.c: sending a command to another node's daemon through the
 * commands table: the liveness check, the insert keyed for exactly-once,
 * the LISTEN/NOTIFY wait for the answer (docs/cluster.md). */
#include "config.h"

#include "db/command.h"
#include "db/db.h"
#include "util/random.h"
#include "util/xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The answer is looked at again at least this often, even without a
 * notification (one lost while the connection was busy). */
#define CMD_RECHECK_MS 500

static long long
mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int
db_cmd_node_alive(PGconn *conn, const char *node, mt_error_t **err)
{
    const char *params[] = { node };
    PGresult *r = db_query(conn,
                           "SELECT stopped_at IS NULL AND heartbeat > now()"
                           " - make_interval(secs => 3 * status_interval),"
                           " stopped_at IS NOT NULL,"
                           " floor(extract(epoch FROM now() - heartbeat))::bigint,"
                           " 3 * status_interval"
                           " FROM daemon_status WHERE node = $1",
                           1, params, err);
    if (r == NULL)
        return -1;
    int rc = 1;
    if (PQntuples(r) == 0) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "no node named \"%s\" (none in daemon_status)", node);
        rc = 0;
    } else if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
        if (strcmp(PQgetvalue(r, 0, 1), "t") == 0)
            mt_error_set(err, MT_ERR_UNAVAILABLE, "node \"%s\" is offline (its daemon stopped)",
                         node);
        else
            mt_error_set(err, MT_ERR_UNAVAILABLE,
                         "node \"%s\" is offline (its last heartbeat is %s s old, more than %s s)",
                         node, PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

/* find_key: the id of the command already queued with cmd's key, 0 when
 * none; -1 when the key belongs to another node or command, or on error. */
static long long
find_key(PGconn *conn, const db_cmd_t *cmd, const char *key, mt_error_t **err)
{
    const char *params[] = { key };
    PGresult *r = db_query(conn, "SELECT id, node, command FROM commands WHERE client_key = $1",
                           1, params, err);
    if (r == NULL)
        return -1;
    long long id = 0;
    if (PQntuples(r) > 0) {
        if (strcmp(PQgetvalue(r, 0, 1), cmd->node) != 0 ||
            strcmp(PQgetvalue(r, 0, 2), cmd->command) != 0) {
            mt_error_set(err, MT_ERR_EXISTS,
                         "command key \"%s\" was used already, for %s on node \"%s\"", key,
                         PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 1));
            id = -1;
        } else {
            id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        }
    }
    PQclear(r);
    return id;
}

/* queue: inserts the row (nothing when the key raced in meanwhile) and
 * returns its id, or the first one's; -1 with err. */
static long long
queue(PGconn *conn, const db_cmd_t *cmd, const char *key, mt_error_t **err)
{
    char timeout[24];
    snprintf(timeout, sizeof timeout, "%d", cmd->timeout_ms);
    const char *params[] = { key, cmd->node, cmd->command, cmd->args ? cmd->args : "{}",
                             timeout };
    PGresult *r = db_query(conn,
                           "INSERT INTO commands (client_key, node, command, args, deadline)"
                           " VALUES ($1, $2, $3, $4::jsonb,"
                           " now() + make_interval(secs => $5::double precision / 1000))"
                           " ON CONFLICT (client_key) DO NOTHING RETURNING id",
                           5, params, err);
    if (r == NULL)
        return -1;
    long long id = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    if (id == 0)
        id = find_key(conn, cmd, key, err);
    return id;
}

/* Answer states of a row. */
enum { ROW_PENDING, ROW_ANSWERED, ROW_ERROR };

/* look: the row's state: ROW_PENDING while queued or claimed, else
 * ROW_ANSWERED with *rc and *answer/err filled as db_cmd_send returns
 * them; ROW_ERROR on a database error. */
static int
look(PGconn *conn, const char *idtext, const char *node, int *rc, char **answer,
     mt_error_t **err)
{
    const char *params[] = { idtext };
    PGresult *r = db_query(conn,
                           "SELECT state, result::text, coalesce(error->>'code', 'internal'),"
                           " coalesce(error->>'message', 'failed')"
                           " FROM commands WHERE id = $1",
                           1, params, err);
    if (r == NULL)
        return ROW_ERROR;
    int out = ROW_ANSWERED;
    const char *state = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    if (strcmp(state, "queued") == 0 || strcmp(state, "claimed") == 0) {
        out = ROW_PENDING;
    } else if (strcmp(state, "done") == 0) {
        *answer = xstrdup(PQgetisnull(r, 0, 1) ? "{}" : PQgetvalue(r, 0, 1));
        *rc = DB_CMD_OK;
    } else if (strcmp(state, "failed") == 0) {
        *answer = xstrdup(PQgetvalue(r, 0, 2));
        mt_error_set(err, MT_ERR_INTERNAL, "%s", PQgetvalue(r, 0, 3));
        *rc = DB_CMD_REFUSED;
    } else if (strcmp(state, "expired") == 0) {
        mt_error_set(err, MT_ERR_TIMEOUT, "node \"%s\": %s", node, PQgetvalue(r, 0, 3));
        *rc = DB_CMD_FAILED;
    } else {
        mt_error_set(err, MT_ERR_NOT_FOUND, "the command's row is gone (answered too long ago)");
        *rc = DB_CMD_FAILED;
    }
    PQclear(r);
    return out;
}

/* give_up: after the wait, expires the row when it is still queued (it
 * will then never run) and says which case it was. */
static void
give_up(PGconn *conn, const char *idtext, const db_cmd_t *cmd, mt_error_t **err)
{
    const char *params[] = { idtext };
    PGresult *r = db_query(conn,
                           "UPDATE commands SET state = 'expired', done_at = now(),"
                           " error = jsonb_build_object('code', 'unavailable', 'message',"
                           " 'not started before its deadline') WHERE id = $1 AND state = 'queued'"
                           " RETURNING id",
                           1, params, NULL);
    bool expired = r != NULL && PQntuples(r) > 0;
    PQclear(r);
    if (expired)
        mt_error_set(err, MT_ERR_TIMEOUT,
                     "node \"%s\" did not take %s within %d ms; it will not run", cmd->node,
                     cmd->command, cmd->timeout_ms);
    else
        mt_error_set(err, MT_ERR_TIMEOUT,
                     "node \"%s\" did not answer %s within %d ms; it started and may still "
                     "take effect", cmd->node, cmd->command, cmd->timeout_ms);
}

/* wait_notify: waits up to ms for something on conn, then drops the
 * notifications that came. -1 when the connection broke. */
static int
wait_notify(PGconn *conn, int ms)
{
    struct pollfd p = { .fd = PQsocket(conn), .events = POLLIN };
    if (p.fd < 0)
        return -1;
    int n = poll(&p, 1, ms);
    if (n < 0 && errno != EINTR)
        return -1;
    if (n > 0 && PQconsumeInput(conn) == 0)
        return -1;
    PGnotify *note;
    while ((note = PQnotifies(conn)) != NULL)
        PQfreemem(note);
    return 0;
}

static int
wait_answer(PGconn *conn, long long id, const db_cmd_t *cmd, char **answer, mt_error_t **err)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    long long until = mono_ms() + cmd->timeout_ms;
    int rc = DB_CMD_FAILED;
    for (;;) {
        int st = look(conn, idtext, cmd->node, &rc, answer, err);
        if (st == ROW_ANSWERED)
            return rc;
        if (st == ROW_ERROR)
            return DB_CMD_FAILED;
        long long left = until - mono_ms();
        if (left <= 0) {
            give_up(conn, idtext, cmd, err);
            return DB_CMD_FAILED;
        }
        if (wait_notify(conn, (int)(left < CMD_RECHECK_MS ? left : CMD_RECHECK_MS)) != 0) {
            mt_error_set(err, MT_ERR_UNAVAILABLE,
                         "lost PostgreSQL while waiting for node \"%s\"'s answer", cmd->node);
            return DB_CMD_FAILED;
        }
    }
}

int
db_cmd_send(PGconn *conn, const db_cmd_t *cmd, char **answer, mt_error_t **err)
{
    *answer = NULL;
    char random_key[33];
    const char *key = cmd->key;
    if (key == NULL) {
        if (mt_random_hex(random_key, 16, err) != 0)
            return DB_CMD_FAILED;
        key = random_key;
    }
    /* listening first: the answer's notification cannot come before it */
    if (db_exec(conn, "LISTEN muleteer_command_done", err) != 0)
        return DB_CMD_FAILED;
    int rc = DB_CMD_FAILED;
    long long id = find_key(conn, cmd, key, err);
    if (id == 0 && db_cmd_node_alive(conn, cmd->node, err) == 1)
        id = queue(conn, cmd, key, err);
    if (id > 0)
        rc = wait_answer(conn, id, cmd, answer, err);
    if (!db_is_broken(conn))
        db_exec(conn, "UNLISTEN muleteer_command_done", NULL);
    return rc;
}
