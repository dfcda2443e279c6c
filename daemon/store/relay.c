/* relay.c: the command relay's thread: connect with backoff, LISTEN,
 * fail what a previous run left claimed, then claim, run on the loop and
 * answer, one command at a time; an answer whose write broke is written
 * after the reconnect. */
#include "config.h"

#include "daemon/store/command_table.h"
#include "daemon/store/relay.h"
#include "db/db.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The queue is looked at again at least this often without a
 * notification (deadlines pass without one). */
#define RELAY_IDLE_MS 1000
#define RELAY_PURGE_S 600

struct relay {
    struct event_base *base;
    char *conninfo, *node, *run;
    int connect_timeout_s;
    relay_exec_fn exec;
    void *ctx;

    pthread_t thread;
    bool started;
    int wake[2]; /* relay_free writes to wake[1]: the thread stops waiting */
    struct event *run_ev; /* the loop's side: runs the claimed command */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;           /* under lock */
    cmdtab_row_t row;        /* the command in hand (thread, then loop) */
    relay_answer_t answer;   /* filled by the loop */
    bool ran;                /* under lock: the loop filled answer */
    bool unwritten;          /* thread: answer not written yet (a broken write) */

    PGconn *conn;            /* thread only */
    char last_error[256];    /* thread only: logged once */
};

static void
answer_clear(relay_answer_t *a)
{
    free(a->result);
    free(a->error_code);
    free(a->error_message);
    memset(a, 0, sizeof *a);
}

static bool
is_stopping(relay_t *r)
{
    pthread_mutex_lock(&r->lock);
    bool s = r->stopping;
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* pause_ms: waits ms or until relay_free. */
static void
pause_ms(relay_t *r, int ms)
{
    struct pollfd p = { .fd = r->wake[0], .events = POLLIN };
    poll(&p, 1, ms);
}

/* ------------------------------------------------------ the loop side */

static void
on_run(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    relay_t *r = arg;
    relay_answer_t a = { 0 };
    r->exec(r->ctx, r->row.command, r->row.args, &a);
    if (a.result == NULL && a.error_code == NULL)
        a.error_code = xstrdup("internal");
    pthread_mutex_lock(&r->lock);
    r->answer = a;
    r->ran = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* run_on_loop: hands the claimed row to the loop and waits for its
 * answer; false when the relay stops first. */
static bool
run_on_loop(relay_t *r)
{
    pthread_mutex_lock(&r->lock);
    r->ran = false;
    pthread_mutex_unlock(&r->lock);
    event_active(r->run_ev, EV_TIMEOUT, 0);
    pthread_mutex_lock(&r->lock);
    while (!r->ran && !r->stopping)
        pthread_cond_wait(&r->cond, &r->lock);
    bool ran = r->ran;
    pthread_mutex_unlock(&r->lock);
    return ran;
}

/* ---------------------------------------------------- the thread side */

static void
note_error(relay_t *r, const char *what, mt_error_t *err)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", what, err != NULL ? err->message : "failed");
    if (strcmp(msg, r->last_error) != 0)
        log_warn("command relay: %s (retrying)", msg);
    snprintf(r->last_error, sizeof r->last_error, "%s", msg);
    mt_error_free(err);
}

static void
drop_conn(relay_t *r)
{
    PQfinish(r->conn);
    r->conn = NULL;
}

/* write_answer: writes the answer in hand; on failure it stays in hand. */
static int
write_answer(relay_t *r)
{
    mt_error_t *err = NULL;
    relay_answer_t *a = &r->answer;
    if (cmdtab_answer(r->conn, r->row.id, r->run, a->result, a->error_code, a->error_message,
                      &err) != 0) {
        if (!db_is_broken(r->conn)) {
            /* not the connection: writing it again would fail again */
            log_error("command relay: cannot answer command #%lld: %s", r->row.id,
                      err != NULL ? err->message : "?");
            mt_error_free(err);
            r->unwritten = false;
            answer_clear(a);
            cmdtab_row_clear(&r->row);
            return 0;
        }
        note_error(r, "answering a command", err);
        r->unwritten = true;
        return -1;
    }
    r->unwritten = false;
    answer_clear(a);
    cmdtab_row_clear(&r->row);
    return 0;
}

/* has_table: the commands table exists (true on an error: the next
 * statement reports it). */
static bool
has_table(PGconn *conn)
{
    PGresult *res = db_query(conn, "SELECT to_regclass('commands') IS NOT NULL", 0, NULL, NULL);
    if (res == NULL)
        return true;
    bool yes = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return yes;
}

/* connect_and_recover: a fresh connection that listens, with the rows a
 * dead run left claimed failed and an answer still in hand written. */
static int
connect_and_recover(relay_t *r)
{
    mt_error_t *err = NULL;
    int failed = 0;
    r->conn = db_connect(r->conninfo, "muleteerd-relay", r->connect_timeout_s, &err);
    if (r->conn != NULL && !has_table(r->conn)) {
        /* a new database: the writer's migrations have not made it yet */
        log_debug("command relay: no commands table yet, waiting for the migrations");
        drop_conn(r);
        return -1;
    }
    if (r->conn == NULL || db_exec(r->conn, "LISTEN muleteer_commands", &err) != 0 ||
        cmdtab_recover(r->conn, r->node, r->run, &failed, &err) != 0) {
        note_error(r, "database", err);
        drop_conn(r);
        return -1;
    }
    if (failed > 0)
        log_warn("command relay: %d command(s) were being run when this node's daemon stopped: "
                 "failed, their effect unknown", failed);
    if (r->unwritten && write_answer(r) != 0) {
        drop_conn(r);
        return -1;
    }
    if (r->last_error[0] != '\0')
        log_info("command relay: listening for node %s's commands again", r->node);
    else
        log_debug("command relay: listening for node %s's commands", r->node);
    r->last_error[0] = '\0';
    return 0;
}

/* wait_queue: waits for a notification, relay_free or ms. -1 when the
 * connection broke. */
static int
wait_queue(relay_t *r, int ms)
{
    struct pollfd p[2] = { { .fd = PQsocket(r->conn), .events = POLLIN },
                           { .fd = r->wake[0], .events = POLLIN } };
    int n = poll(p, 2, ms);
    if (n < 0 && errno != EINTR)
        return -1;
    if (n > 0 && (p[0].revents & (POLLIN | POLLERR | POLLHUP)) && PQconsumeInput(r->conn) == 0)
        return -1;
    PGnotify *note;
    while ((note = PQnotifies(r->conn)) != NULL)
        PQfreemem(note);
    return db_is_broken(r->conn) ? -1 : 0;
}

/* step: claims and runs one command. 1 when one ran, 0 when none was
 * queued, -1 when the connection must be made again. */
static int
step(relay_t *r)
{
    mt_error_t *err = NULL;
    int got = cmdtab_claim(r->conn, r->node, r->run, &r->row, &err);
    if (got < 0) {
        note_error(r, "claiming a command", err);
        return -1;
    }
    if (got == 0)
        return 0;
    log_debug("command relay: running %s (#%lld)", r->row.command, r->row.id);
    if (!run_on_loop(r)) {
        cmdtab_row_clear(&r->row); /* left claimed: the next start fails it */
        return 0;
    }
    return write_answer(r) == 0 ? 1 : -1;
}

static void *
relay_main(void *arg)
{
    relay_t *r = arg;
    int backoff_ms = 250;
    time_t last_purge = 0;
    while (!is_stopping(r)) {
        if (r->conn == NULL && connect_and_recover(r) != 0) {
            pause_ms(r, backoff_ms);
            backoff_ms = backoff_ms >= 4000 ? 5000 : backoff_ms * 2;
            continue;
        }
        backoff_ms = 250;
        int rc = step(r);
        if (rc == 0 && time(NULL) - last_purge >= RELAY_PURGE_S) {
            mt_error_t *err = NULL;
            if (cmdtab_purge(r->conn, r->node, RELAY_KEEP_S, &err) != 0)
                note_error(r, "deleting old commands", err);
            last_purge = time(NULL);
        }
        if (rc == 0 && wait_queue(r, RELAY_IDLE_MS) != 0)
            rc = -1;
        if (rc < 0)
            drop_conn(r);
    }
    drop_conn(r);
    return NULL;
}

relay_t *
relay_new(struct event_base *base, const char *conninfo, int connect_timeout_s, const char *node,
          relay_exec_fn exec, void *ctx)
{
    relay_t *r = xcalloc(1, sizeof *r);
    r->base = base;
    r->conninfo = xstrdup(conninfo);
    r->node = xstrdup(node);
    /* this run of the daemon: its claims are its own after a reconnect */
    r->run = xasprintf("%ld:%lld", (long)getpid(), (long long)time(NULL));
    r->connect_timeout_s = connect_timeout_s;
    r->exec = exec;
    r->ctx = ctx;
    r->wake[0] = r->wake[1] = -1;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->run_ev = event_new(base, -1, 0, on_run, r);
    return r;
}

int
relay_start(relay_t *r, mt_error_t **err)
{
    if (pipe2(r->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        mt_error_set(err, MT_ERR_INTERNAL, "command relay: pipe: %s", strerror(errno));
        return -1;
    }
    int rc = pthread_create(&r->thread, NULL, relay_main, r);
    if (rc != 0) {
        mt_error_set(err, MT_ERR_INTERNAL, "cannot start the command relay's thread: %s",
                     strerror(rc));
        return -1;
    }
    r->started = true;
    return 0;
}

void
relay_free(relay_t *r)
{
    if (r == NULL)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->lock);
        r->stopping = true;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        if (write(r->wake[1], "x", 1) < 0)
            log_debug("command relay: wake: %s", strerror(errno));
        pthread_join(r->thread, NULL);
    }
    for (int i = 0; i < 2; i++)
        if (r->wake[i] >= 0)
            close(r->wake[i]);
    event_free(r->run_ev);
    cmdtab_row_clear(&r->row);
    answer_clear(&r->answer);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r->conninfo);
    free(r->node);
    free(r->run);
    free(r);
}
