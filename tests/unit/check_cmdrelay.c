/* check_cmdrelay.c: the command relay's SQL protocol (docs/cluster.md)
 * against a real, private PostgreSQL: the caller's side (lib/db's
 * db_cmd_send) and the daemon's (store/command_table.c, and the relay's
 * thread on a real event loop): claim order, exactly-once, deadlines,
 * offline nodes, rows a dead daemon left claimed. */
#include "config.h"

#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/store/command_table.h"
#include "daemon/store/relay.h"
#include "db/command.h"
#include "db/db.h"
#include "db/migrate.h"
#include "pgtest.h"
#include "util/xalloc.h"

static void
cluster_up(void)
{
    pgtest_up("check_cmdrelay");
}

static void
cluster_down(void)
{
    pgtest_down();
}

static char *
fresh_db(const char *name)
{
    pgtest_createdb(name);
    char *ci = pgtest_conninfo(name);
    mt_error_t *err = NULL;
    PGconn *c = db_connect(ci, "check", 5, &err);
    ck_assert_msg(c != NULL, "connect: %s", err ? err->message : "?");
    int applied = 0;
    ck_assert_int_eq(db_migrate(c, db_migrations, db_n_migrations, &applied, &err), 0);
    PQfinish(c);
    return ci;
}

static PGconn *
conn(const char *ci)
{
    mt_error_t *err = NULL;
    PGconn *c = db_connect(ci, "check", 5, &err);
    ck_assert_msg(c != NULL, "connect: %s", err ? err->message : "?");
    return c;
}

static void
exec(PGconn *c, const char *sql)
{
    mt_error_t *err = NULL;
    ck_assert_msg(db_exec(c, sql, &err) == 0, "%s: %s", sql, err ? err->message : "?");
}

static char *
value(PGconn *c, const char *sql)
{
    PGresult *r = db_query(c, sql, 0, NULL, NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(PQntuples(r), 1);
    char *v = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static void
assert_value(PGconn *c, const char *sql, const char *want)
{
    char *v = value(c, sql);
    ck_assert_msg(strcmp(v, want) == 0, "%s: %s, not %s", sql, v, want);
    free(v);
}

/* alive: a node whose heartbeat is age seconds old (interval 1 s: stale
 * after 3), stopped or not. */
static void
node(PGconn *c, const char *name, int age, bool stopped)
{
    char *sql = xasprintf(
        "INSERT INTO daemon_status (node, version, pid, started_at, heartbeat, stopped_at,"
        " tcp_port, udp_port, control_socket, status_interval)"
        " VALUES ('%s', 'x', 1, now(), now() - interval '%d s', %s, 1, 1, '/s', 1)"
        " ON CONFLICT (node) DO UPDATE SET heartbeat = EXCLUDED.heartbeat,"
        " stopped_at = EXCLUDED.stopped_at",
        name, age, stopped ? "now()" : "NULL");
    exec(c, sql);
    free(sql);
}

static void
queue_raw(PGconn *c, const char *key, const char *to, const char *cmd, const char *deadline)
{
    char *sql = xasprintf("INSERT INTO commands (client_key, node, command, args, deadline)"
                          " VALUES ('%s', '%s', '%s', '{\"k\": \"%s\"}', now() + interval '%s')",
                          key, to, cmd, key, deadline);
    exec(c, sql);
    free(sql);
}

START_TEST(test_claim_order)
{
    char *ci = fresh_db("claim_order");
    PGconn *c = conn(ci), *c2 = conn(ci);
    queue_raw(c, "a", "B", "pause", "1 min");
    queue_raw(c, "x", "C", "pause", "1 min"); /* another node's */
    queue_raw(c, "b", "B", "resume", "1 min");
    queue_raw(c, "c", "B", "delete", "1 min");
    mt_error_t *err = NULL;
    cmdtab_row_t row;
    /* a claim held in an open transaction is skipped, not waited for */
    exec(c2, "BEGIN");
    exec(c2, "SELECT id FROM commands WHERE client_key = 'a' FOR UPDATE");
    ck_assert_int_eq(cmdtab_claim(c, "B", "run1", &row, &err), 1);
    ck_assert_str_eq(row.command, "resume");
    cmdtab_row_clear(&row);
    exec(c2, "ROLLBACK");
    const char *want[] = { "pause", "delete" };
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(cmdtab_claim(c, "B", "run1", &row, &err), 1);
        ck_assert_str_eq(row.command, want[i]);
        ck_assert_ptr_nonnull(strstr(row.args, "\"k\""));
        ck_assert_int_eq(cmdtab_answer(c, row.id, "run1", "{\"ok\": true}", NULL, NULL, &err), 0);
        cmdtab_row_clear(&row);
    }
    ck_assert_int_eq(cmdtab_claim(c, "B", "run1", &row, &err), 0);
    assert_value(c, "SELECT state FROM commands WHERE client_key = 'x'", "queued");
    assert_value(c, "SELECT state || ' ' || result::text FROM commands WHERE client_key = 'c'",
                 "done {\"ok\": true}");
    /* an answer for a row claimed by another run is not written */
    assert_value(c, "SELECT state FROM commands WHERE client_key = 'b'", "claimed");
    ck_assert_int_eq(cmdtab_answer(c, 3, "other", "{}", NULL, NULL, &err), 0);
    assert_value(c, "SELECT state FROM commands WHERE client_key = 'b'", "claimed");
    PQfinish(c);
    PQfinish(c2);
    free(ci);
}
END_TEST

/* A daemon in a thread: claims one command for B and answers it. */
typedef struct {
    const char *ci;
    int answered;
    const char *error_code; /* NULL: answers {"ran": N} */
} fake_node_t;

static void *
fake_node(void *arg)
{
    fake_node_t *f = arg;
    PGconn *c = conn(f->ci);
    mt_error_t *err = NULL;
    cmdtab_row_t row;
    for (int i = 0; i < 500; i++) {
        int got = cmdtab_claim(c, "B", "run1", &row, &err);
        if (got == 1) {
            char res[32];
            snprintf(res, sizeof res, "{\"ran\": %d}", ++f->answered);
            cmdtab_answer(c, row.id, "run1", f->error_code ? NULL : res, f->error_code,
                          "no such download", &err);
            cmdtab_row_clear(&row);
            break;
        }
        usleep(10000);
    }
    PQfinish(c);
    return NULL;
}

START_TEST(test_exactly_once)
{
    char *ci = fresh_db("exactly_once");
    PGconn *c = conn(ci);
    node(c, "B", 0, false);
    fake_node_t f = { .ci = ci };
    pthread_t t;
    pthread_create(&t, NULL, fake_node, &f);
    db_cmd_t cmd = { .node = "B", .key = "k1", .command = "add",
                     .args = "{\"link\": \"ed2k://x\"}", .timeout_ms = 5000 };
    char *answer = NULL;
    mt_error_t *err = NULL;
    ck_assert_int_eq(db_cmd_send(c, &cmd, &answer, &err), DB_CMD_OK);
    pthread_join(t, NULL);
    ck_assert_str_eq(answer, "{\"ran\": 1}");
    free(answer);
    /* the same key again: the first answer, no second row, no second run */
    ck_assert_int_eq(db_cmd_send(c, &cmd, &answer, &err), DB_CMD_OK);
    ck_assert_str_eq(answer, "{\"ran\": 1}");
    free(answer);
    assert_value(c, "SELECT count(*) FROM commands", "1");
    ck_assert_int_eq(f.answered, 1);
    /* the key for another command is refused */
    db_cmd_t other = cmd;
    other.command = "delete";
    ck_assert_int_eq(db_cmd_send(c, &other, &answer, &err), DB_CMD_FAILED);
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    mt_error_free(err);
    err = NULL;
    /* a refusal comes back with the node's code and message */
    fake_node_t g = { .ci = ci, .error_code = "not_found" };
    pthread_create(&t, NULL, fake_node, &g);
    cmd.key = "k2";
    ck_assert_int_eq(db_cmd_send(c, &cmd, &answer, &err), DB_CMD_REFUSED);
    pthread_join(t, NULL);
    ck_assert_str_eq(answer, "not_found");
    ck_assert_str_eq(err->message, "no such download");
    free(answer);
    mt_error_free(err);
    /* nothing left listening on the caller's connection */
    assert_value(c, "SELECT count(*) FROM pg_listening_channels()", "0");
    PQfinish(c);
    free(ci);
}
END_TEST

START_TEST(test_deadline)
{
    char *ci = fresh_db("deadline");
    PGconn *c = conn(ci);
    node(c, "B", 0, false);
    /* a row past its deadline is expired, never claimed */
    queue_raw(c, "late", "B", "pause", "-1 s");
    queue_raw(c, "fine", "B", "resume", "1 min");
    mt_error_t *err = NULL;
    cmdtab_row_t row;
    ck_assert_int_eq(cmdtab_claim(c, "B", "run1", &row, &err), 1);
    ck_assert_str_eq(row.command, "resume");
    cmdtab_row_clear(&row);
    assert_value(c, "SELECT state FROM commands WHERE client_key = 'late'", "expired");
    /* nobody claims: the caller gives up in time and the row will not run */
    db_cmd_t cmd = { .node = "B", .key = "k", .command = "pause", .timeout_ms = 300 };
    char *answer = NULL;
    ck_assert_int_eq(db_cmd_send(c, &cmd, &answer, &err), DB_CMD_FAILED);
    ck_assert_int_eq(err->code, MT_ERR_TIMEOUT);
    ck_assert_ptr_nonnull(strstr(err->message, "will not run"));
    mt_error_free(err);
    err = NULL;
    assert_value(c, "SELECT state FROM commands WHERE client_key = 'k'", "expired");
    ck_assert_int_eq(cmdtab_claim(c, "B", "run1", &row, &err), 0);
    /* claimed but not answered in time: it may still take effect */
    queue_raw(c, "k3", "B", "stop", "1 min");
    ck_assert_int_eq(cmdtab_claim(c, "B", "run1", &row, &err), 1);
    cmdtab_row_clear(&row);
    cmd.key = "k3";
    cmd.command = "stop";
    ck_assert_int_eq(db_cmd_send(c, &cmd, &answer, &err), DB_CMD_FAILED);
    ck_assert_int_eq(err->code, MT_ERR_TIMEOUT);
    ck_assert_ptr_nonnull(strstr(err->message, "may still"));
    mt_error_free(err);
    PQfinish(c);
    free(ci);
}
END_TEST

START_TEST(test_offline)
{
    char *ci = fresh_db("offline");
    PGconn *c = conn(ci);
    db_cmd_t cmd = { .node = "B", .command = "status", .timeout_ms = 5000 };
    char *answer = NULL;
    mt_error_t *err = NULL;
    /* unknown */
    ck_assert_int_eq(db_cmd_send(c, &cmd, &answer, &err), DB_CMD_FAILED);
    ck_assert_int_eq(err->code, MT_ERR_NOT_FOUND);
    mt_error_free(err);
    err = NULL;
    /* stale heartbeat: refused at once, nothing queued */
    node(c, "B", 10, false);
    ck_assert_int_eq(db_cmd_send(c, &cmd, &answer, &err), DB_CMD_FAILED);
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    ck_assert_msg(strstr(err->message, "node \"B\" is offline") != NULL, "%s", err->message);
    mt_error_free(err);
    err = NULL;
    /* stopped */
    node(c, "B", 0, true);
    ck_assert_int_eq(db_cmd_node_alive(c, "B", &err), 0);
    ck_assert_ptr_nonnull(strstr(err->message, "stopped"));
    mt_error_free(err);
    err = NULL;
    assert_value(c, "SELECT count(*) FROM commands", "0");
    /* within the window (3 intervals): alive */
    node(c, "B", 2, false);
    ck_assert_int_eq(db_cmd_node_alive(c, "B", &err), 1);
    PQfinish(c);
    free(ci);
}
END_TEST

START_TEST(test_recover)
{
    char *ci = fresh_db("recover");
    PGconn *c = conn(ci);
    queue_raw(c, "a", "B", "add", "1 min");
    queue_raw(c, "b", "B", "add", "1 min");
    mt_error_t *err = NULL;
    cmdtab_row_t row;
    ck_assert_int_eq(cmdtab_claim(c, "B", "old", &row, &err), 1);
    cmdtab_row_clear(&row);
    ck_assert_int_eq(cmdtab_claim(c, "B", "new", &row, &err), 1);
    cmdtab_row_clear(&row);
    int n = 0;
    ck_assert_int_eq(cmdtab_recover(c, "B", "new", &n, &err), 0);
    ck_assert_int_eq(n, 1);
    assert_value(c, "SELECT state || ' ' || (error->>'code') FROM commands WHERE client_key = 'a'",
                 "failed unavailable");
    assert_value(c, "SELECT state FROM commands WHERE client_key = 'b'", "claimed");
    /* retention: old answers go, the rest stays */
    exec(c, "UPDATE commands SET done_at = now() - interval '2 days' WHERE client_key = 'a'");
    ck_assert_int_eq(cmdtab_purge(c, "B", 3600, &err), 0);
    assert_value(c, "SELECT string_agg(client_key, ',') FROM commands", "b");
    PQfinish(c);
    free(ci);
}
END_TEST

/* The relay's thread on a real loop, with a hook that echoes. */
static void
echo_exec(void *ctx, const char *command, const char *args, relay_answer_t *out)
{
    int *runs = ctx;
    (*runs)++;
    if (strcmp(command, "fail") == 0) {
        out->error_code = xstrdup("invalid_args");
        out->error_message = xstrdup("hash: missing");
        return;
    }
    out->result = xasprintf("{\"command\": \"%s\", \"args\": %s}", command, args);
}

typedef struct {
    const char *ci;
    const char *command;
    int rc;
    char *answer;
    struct event_base *base;
    volatile int done;
} caller_t;

static void *
caller(void *arg)
{
    caller_t *k = arg;
    PGconn *c = conn(k->ci);
    db_cmd_t cmd = { .node = "B", .command = k->command, .args = "{\"n\": 1}",
                     .timeout_ms = 5000 };
    mt_error_t *err = NULL;
    k->rc = db_cmd_send(c, &cmd, &k->answer, &err);
    mt_error_free(err);
    PQfinish(c);
    k->done = 1;
    return NULL;
}

static void
on_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    caller_t *k = arg;
    if (k->done)
        event_base_loopbreak(k->base);
}

static void
run_through_relay(caller_t *k)
{
    pthread_t t;
    pthread_create(&t, NULL, caller, k);
    struct event *check = event_new(k->base, -1, EV_PERSIST, on_check, k);
    struct timeval every = { 0, 20000 };
    event_add(check, &every);
    event_base_dispatch(k->base);
    event_free(check);
    pthread_join(t, NULL);
}

START_TEST(test_relay_thread)
{
    char *ci = fresh_db("relay_thread");
    PGconn *c = conn(ci);
    node(c, "B", 0, false);
    /* a row a previous run left claimed is failed when the relay starts */
    queue_raw(c, "dead", "B", "add", "1 min");
    exec(c, "UPDATE commands SET state = 'claimed', claimed_by = 'gone'");
    evthread_use_pthreads();
    struct event_base *base = event_base_new();
    int runs = 0;
    relay_t *r = relay_new(base, ci, 5, "B", echo_exec, &runs);
    mt_error_t *err = NULL;
    ck_assert_int_eq(relay_start(r, &err), 0);
    caller_t k = { .ci = ci, .command = "pause", .base = base };
    run_through_relay(&k);
    ck_assert_int_eq(k.rc, DB_CMD_OK);
    ck_assert_str_eq(k.answer, "{\"args\": {\"n\": 1}, \"command\": \"pause\"}");
    free(k.answer);
    caller_t f = { .ci = ci, .command = "fail", .base = base };
    run_through_relay(&f);
    ck_assert_int_eq(f.rc, DB_CMD_REFUSED);
    ck_assert_str_eq(f.answer, "invalid_args");
    free(f.answer);
    ck_assert_int_eq(runs, 2);
    assert_value(c, "SELECT state FROM commands WHERE client_key = 'dead'", "failed");
    relay_free(r);
    event_base_free(base);
    PQfinish(c);
    free(ci);
}
END_TEST

static Suite *
cmdrelay_suite(void)
{
    Suite *s = suite_create("cmdrelay");
    TCase *tc = tcase_create("sql");
    tcase_add_unchecked_fixture(tc, cluster_up, cluster_down);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_claim_order);
    tcase_add_test(tc, test_exactly_once);
    tcase_add_test(tc, test_deadline);
    tcase_add_test(tc, test_offline);
    tcase_add_test(tc, test_recover);
    tcase_add_test(tc, test_relay_thread);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(cmdrelay_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
