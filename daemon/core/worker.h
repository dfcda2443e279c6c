/* worker.h: the daemon's pool of worker threads for blocking work (hashing,
 * fsync and atomic saves, moving completed files). A job runs on a worker;
 * its completion callback runs afterwards on the event-loop thread. */
#ifndef MT_DAEMON_WORKER_H
#define MT_DAEMON_WORKER_H

#include <event2/event.h>
#include <stddef.h>

typedef struct worker_pool worker_pool_t;

/* run: on a worker thread; must not touch loop-owned state.
 * done: on the loop thread after run returned (also when the pool is being
 * freed: cancelled is then non-zero and run may not have run). done owns
 * arg. */
typedef void (*worker_run_fn)(void *arg);
typedef void (*worker_done_fn)(void *arg, int cancelled);

/* worker_pool_new: n_threads threads (at least 1) delivering completions
 * on base; needs evthread_use_pthreads() called before base was made. */
worker_pool_t *worker_pool_new(struct event_base *base, int n_threads);
/* worker_submit: queues a job (loop thread only). Jobs run in submission
 * order per pool, several at once. */
void worker_submit(worker_pool_t *pool, worker_run_fn run, worker_done_fn done, void *arg);
/* worker_pending: jobs queued or running or with completions not yet
 * delivered. */
size_t worker_pending(const worker_pool_t *pool);
/* worker_pool_drain: runs the loop until every job is done or timeout_ms
 * passes; returns the number still pending. */
size_t worker_pool_drain(worker_pool_t *pool, int timeout_ms);
/* worker_pool_free: stops the threads after their current jobs; queued
 * jobs are not run and get done(arg, 1). */
void worker_pool_free(worker_pool_t *pool);

#endif
