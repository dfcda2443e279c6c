/* db_worker.c: the database thread: a mutex-protected job queue, a
 * reconnect loop with exponential backoff, and migrations on connect. */
#include "config.h"

#include "daemon/store/db_worker.h"
#include "db/db.h"
#include "db/migrate.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dbw_job {
    struct dbw_job *next;
    char *key;
    dbw_job_fn fn;
    void *arg;
    void (*free_fn)(void *);
    struct timespec queued_at;
    int attempts; /* runs that ended with a broken connection */
} dbw_job_t;

struct dbw {
    char *conninfo;
    int connect_timeout_s;
    size_t max_queue;

    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    dbw_job_t *head, *tail;
    size_t n_jobs;
    bool stopping;
    struct timespec drain_deadline;

    PGconn *conn; /* worker thread only */
    dbw_status_t status; /* under lock */
};

static void
job_free(dbw_job_t *j)
{
    if (j == NULL)
        return;
    if (j->free_fn != NULL)
        j->free_fn(j->arg);
    free(j->key);
    free(j);
}

dbw_t *
dbw_new(const char *conninfo, int connect_timeout_s, size_t max_queue)
{
    dbw_t *w = xcalloc(1, sizeof *w);
    w->conninfo = xstrdup(conninfo);
    w->connect_timeout_s = connect_timeout_s;
    w->max_queue = max_queue ? max_queue : 10000;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    snprintf(w->status.last_error, sizeof w->status.last_error, "not connected yet");
    w->status.state_since = time(NULL);
    return w;
}

static int64_t
ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static bool
past(const struct timespec *deadline)
{
    return ms_since(deadline) >= 0;
}

static struct timespec
after_ms(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

/* Called with the lock held. */
static void
set_state(dbw_t *w, bool connected, const char *error)
{
    if (w->status.connected != connected)
        w->status.state_since = time(NULL);
    w->status.connected = connected;
    snprintf(w->status.last_error, sizeof w->status.last_error, "%s", error ? error : "");
}

/* Connects and migrates; lock not held. */
static int
try_connect(dbw_t *w)
{
    mt_error_t *err = NULL;
    PGconn *c = db_connect(w->conninfo, "muleteerd", w->connect_timeout_s, &err);
    int version = 0, applied = 0;
    if (c != NULL && db_migrate(c, db_migrations, db_n_migrations, &applied, &err) == 0 &&
        db_schema_version(c, &version, &err) == 0) {
        w->conn = c;
        pthread_mutex_lock(&w->lock);
        bool was = w->status.connected;
        w->status.schema_version = version;
        set_state(w, true, NULL);
        pthread_mutex_unlock(&w->lock);
        if (applied > 0)
            log_info("database: applied %d migration(s), schema at version %d", applied, version);
        if (!was)
            log_info("database: connected (schema version %d)", version);
        return 0;
    }
    PQfinish(c);
    pthread_mutex_lock(&w->lock);
    bool changed = strcmp(w->status.last_error, err->message) != 0;
    set_state(w, false, err->message);
    pthread_mutex_unlock(&w->lock);
    if (changed)
        log_warn("database: %s (retrying)", err->message);
    mt_error_free(err);
    return -1;
}

static void *
worker_main(void *arg)
{
    dbw_t *w = arg;
    int backoff_ms = 250;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        if (w->stopping && (w->head == NULL || w->conn == NULL || past(&w->drain_deadline)))
            break;
        if (w->conn == NULL) {
            pthread_mutex_unlock(&w->lock);
            int rc = try_connect(w);
            pthread_mutex_lock(&w->lock);
            if (rc == 0) {
                backoff_ms = 250;
                continue;
            }
            if (w->stopping)
                break;
            struct timespec until = after_ms(backoff_ms);
            backoff_ms = backoff_ms >= 4000 ? 5000 : backoff_ms * 2;
            while (!w->stopping &&
                   pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
                ;
            continue;
        }
        if (w->head == NULL) {
            pthread_cond_wait(&w->cond, &w->lock);
            continue;
        }
        dbw_job_t *j = w->head;
        w->head = j->next;
        if (w->head == NULL)
            w->tail = NULL;
        w->n_jobs--;
        pthread_mutex_unlock(&w->lock);

        mt_error_t *err = NULL;
        int rc = j->fn(w->conn, j->arg, &err);
        bool broken = rc != 0 && db_is_broken(w->conn);

        pthread_mutex_lock(&w->lock);
        if (rc == 0) {
            w->status.jobs_done++;
            job_free(j);
        } else if (broken) {
            /* Keep the job at the head and reconnect, unless this job
             * keeps breaking the connection. */
            log_warn("database: connection lost: %s", err ? err->message : "?");
            set_state(w, false, err ? err->message : "connection lost");
            if (++j->attempts >= 5) {
                log_error("database: dropping a job that failed %d times", j->attempts);
                w->status.jobs_failed++;
                job_free(j);
            } else {
                j->next = w->head;
                w->head = j;
                if (w->tail == NULL)
                    w->tail = j;
                w->n_jobs++;
            }
            pthread_mutex_unlock(&w->lock);
            PQfinish(w->conn);
            w->conn = NULL;
            pthread_mutex_lock(&w->lock);
        } else {
            log_error("database: job failed: %s", err ? err->message : "?");
            w->status.jobs_failed++;
            job_free(j);
        }
        mt_error_free(err);
    }
    pthread_mutex_unlock(&w->lock);
    PQfinish(w->conn);
    w->conn = NULL;
    return NULL;
}

int
dbw_start(dbw_t *w, mt_error_t **err)
{
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        mt_error_set(err, MT_ERR_INTERNAL, "cannot start the database thread: %s", strerror(rc));
        return -1;
    }
    w->started = true;
    return 0;
}

void
dbw_submit(dbw_t *w, const char *key, dbw_job_fn fn, void *arg, void (*free_fn)(void *))
{
    pthread_mutex_lock(&w->lock);
    if (key != NULL) {
        for (dbw_job_t *j = w->head; j != NULL; j = j->next) {
            if (j->key != NULL && strcmp(j->key, key) == 0) {
                if (j->free_fn != NULL)
                    j->free_fn(j->arg);
                j->fn = fn;
                j->arg = arg;
                j->free_fn = free_fn;
                pthread_mutex_unlock(&w->lock);
                return;
            }
        }
    }
    if (w->n_jobs >= w->max_queue) {
        dbw_job_t *old = w->head;
        w->head = old->next;
        if (w->head == NULL)
            w->tail = NULL;
        w->n_jobs--;
        w->status.jobs_dropped++;
        job_free(old);
        if (w->status.jobs_dropped == 1 || w->status.jobs_dropped % 1000 == 0)
            log_warn("database: queue full (%zu jobs), dropped %llu so far", w->max_queue,
                     (unsigned long long)w->status.jobs_dropped);
    }
    dbw_job_t *j = xcalloc(1, sizeof *j);
    j->key = key != NULL ? xstrdup(key) : NULL;
    j->fn = fn;
    j->arg = arg;
    j->free_fn = free_fn;
    clock_gettime(CLOCK_MONOTONIC, &j->queued_at);
    if (w->tail != NULL)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->n_jobs++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

void
dbw_stop(dbw_t *w, int drain_ms)
{
    if (w == NULL || !w->started)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    w->drain_deadline = after_ms(drain_ms);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->started = false;
}

void
dbw_free(dbw_t *w)
{
    if (w == NULL)
        return;
    dbw_stop(w, 0);
    while (w->head != NULL) {
        dbw_job_t *j = w->head;
        w->head = j->next;
        job_free(j);
    }
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w->conninfo);
    free(w);
}

void
dbw_get_status(dbw_t *w, dbw_status_t *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->status;
    out->queued = w->n_jobs;
    out->lag_ms = w->head != NULL ? ms_since(&w->head->queued_at) : 0;
    pthread_mutex_unlock(&w->lock);
}
