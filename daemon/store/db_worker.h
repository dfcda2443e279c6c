/* db_worker.h: the daemon's PostgreSQL writer. One thread owns the
 * connection, runs queued jobs in order, reconnects with backoff and runs
 * migrations after every connect, so the event loop never blocks on the
 * database and the daemon keeps running while PostgreSQL is down. */
#ifndef MT_DAEMON_DB_WORKER_H
#define MT_DAEMON_DB_WORKER_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/error.h"

typedef struct dbw dbw_t;

/* A job runs on the worker thread with a live connection. It returns 0, or
 * -1 with err set; a job that fails because the connection broke is kept
 * and run again after the reconnect, any other failure is logged and the
 * job dropped. */
typedef int (*dbw_job_fn)(PGconn *conn, void *arg, mt_error_t **err);

typedef struct {
    bool connected;
    int schema_version;      /* after the last successful migration */
    char last_error[256];    /* empty when the last attempt succeeded */
    time_t state_since;      /* wall time of the last connect/disconnect */
    size_t queued;
    int64_t lag_ms;          /* age of the oldest queued job */
    uint64_t jobs_done, jobs_failed, jobs_dropped;
} dbw_status_t;

/* dbw_new: a stopped worker for conninfo; max_queue bounds pending jobs
 * (when full, the oldest job is dropped and counted). */
dbw_t *dbw_new(const char *conninfo, int connect_timeout_s, size_t max_queue);
/* dbw_start: starts the thread; -1 if it cannot be created. */
int dbw_start(dbw_t *w, mt_error_t **err);
/* dbw_submit: queues a job; takes ownership of arg, released with free_fn
 * (may be NULL) after the job ran or was dropped. A non-NULL key replaces
 * a pending job with the same key (the newest state wins). Thread-safe. */
void dbw_submit(dbw_t *w, const char *key, dbw_job_fn fn, void *arg, void (*free_fn)(void *));
/* dbw_stop: lets pending jobs run for at most drain_ms while connected,
 * then stops and joins the thread. */
void dbw_stop(dbw_t *w, int drain_ms);
void dbw_free(dbw_t *w);
void dbw_get_status(dbw_t *w, dbw_status_t *out);

#endif
