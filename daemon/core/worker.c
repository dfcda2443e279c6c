/* worker.c: a fixed pool of pthreads with one job queue; finished jobs go
 * to a second queue that an event on the loop thread empties. */
#include "config.h"

#include "daemon/core/worker.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

typedef struct job {
    struct job *next;
    worker_run_fn run;
    worker_done_fn done;
    void *arg;
} job_t;

struct worker_pool {
    struct event_base *base;
    pthread_t *threads;
    int n_threads;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job_t *todo_head, *todo_tail;
    job_t *done_head, *done_tail;
    size_t pending; /* loop thread only */
    bool stopping;
    struct event *done_ev;
};

static void
push(job_t **head, job_t **tail, job_t *j)
{
    j->next = NULL;
    if (*tail != NULL)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

static job_t *
pop(job_t **head, job_t **tail)
{
    job_t *j = *head;
    if (j != NULL) {
        *head = j->next;
        if (*head == NULL)
            *tail = NULL;
    }
    return j;
}

static void *
thread_main(void *arg)
{
    worker_pool_t *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stopping && p->todo_head == NULL)
            pthread_cond_wait(&p->cond, &p->lock);
        if (p->stopping)
            break;
        job_t *j = pop(&p->todo_head, &p->todo_tail);
        pthread_mutex_unlock(&p->lock);
        j->run(j->arg);
        pthread_mutex_lock(&p->lock);
        push(&p->done_head, &p->done_tail, j);
        event_active(p->done_ev, EV_READ, 0);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void
on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker_pool_t *p = arg;
    pthread_mutex_lock(&p->lock);
    job_t *list = p->done_head;
    p->done_head = p->done_tail = NULL;
    pthread_mutex_unlock(&p->lock);
    while (list != NULL) {
        job_t *j = list;
        list = j->next;
        p->pending--;
        j->done(j->arg, 0);
        free(j);
    }
}

worker_pool_t *
worker_pool_new(struct event_base *base, int n_threads)
{
    worker_pool_t *p = xcalloc(1, sizeof *p);
    p->base = base;
    p->n_threads = n_threads > 0 ? n_threads : 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->done_ev = event_new(base, -1, 0, on_done, p);
    p->threads = xcalloc((size_t)p->n_threads, sizeof *p->threads);
    for (int i = 0; i < p->n_threads; i++)
        if (pthread_create(&p->threads[i], NULL, thread_main, p) != 0)
            abort(); /* out of threads at start-up: nothing sensible to do */
    return p;
}

void
worker_submit(worker_pool_t *p, worker_run_fn run, worker_done_fn done, void *arg)
{
    job_t *j = xcalloc(1, sizeof *j);
    j->run = run;
    j->done = done;
    j->arg = arg;
    p->pending++;
    pthread_mutex_lock(&p->lock);
    push(&p->todo_head, &p->todo_tail, j);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

size_t
worker_pending(const worker_pool_t *p)
{
    return p->pending;
}

size_t
worker_pool_drain(worker_pool_t *p, int timeout_ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (p->pending > 0) {
        struct timeval tv = { 0, 20000 };
        event_base_loopexit(p->base, &tv);
        event_base_dispatch(p->base);
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (ms >= timeout_ms)
            break;
    }
    return p->pending;
}

void
worker_pool_free(worker_pool_t *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    /* Finished jobs get their normal completion; queued ones are cancelled. */
    on_done(-1, 0, p);
    job_t *j;
    while ((j = pop(&p->todo_head, &p->todo_tail)) != NULL) {
        p->pending--;
        j->done(j->arg, 1);
        free(j);
    }
    event_free(p->done_ev);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->threads);
    free(p);
}
