/* task.c: muleteer-ws's blocking work kept off libwebsockets' loop
 * (wsd.h). A task (a client's actions, a refresh, a session check, the
 * end of a search) runs as a coroutine on the loop thread; where it would
 * block, on a daemon command or a database query, it hands the call to a
 * worker thread (one owns the control-socket client, one the database
 * connection) and yields. The loop goes on serving every other client;
 * the worker's answer is queued under a lock, lws_cancel_service wakes
 * the loop, and LWS_CALLBACK_EVENT_WAIT_CANCELLED resumes the task where
 * it stopped. Tasks touch the server's state only on the loop thread, so
 * the handlers stay single-threaded code; what they must not assume is
 * that the state is unchanged across a daemon call. */
#include "config.h"

#include "ws/wsd.h"
#include "db/db.h"
#include "util/bug.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define TASK_ASAN 1
#else
#define TASK_ASAN 0
#endif

/* a task's stack: json-c and the handlers need little; AddressSanitizer
 * makes frames larger. Pages are touched only as used. */
#define TASK_STACK (512 * 1024)

typedef struct wsd_task wsd_task_t;

/* one call handed to a worker; it lives on the stack of whoever waits */
typedef struct job {
    struct job *next;
    wsd_work_fn_t fn;
    void *arg;
    wsd_task_t *task; /* resumed when done; NULL: a waiter outside any task */
    bool finished;
} job_t;

struct wsd_task {
    wsd_task_t *next; /* in the ready list or a lock's waiters */
    ucontext_t ctx;
    void *stack;
    size_t stack_size;
    wsd_t *w;
    wsd_task_fn_t fn;
    void *arg;
    bool bounded, done;
    void *fake_stack; /* AddressSanitizer's, while switched away */
};

typedef struct {
    wsd_t *w;
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t *head, *tail;
    size_t n;
    bool stop;
} worker_t;

struct wsd_tasks {
    worker_t workers[WSD_N_WORKERS];
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv; /* for a waiter outside any task */
    job_t *done_head, *done_tail;
    wsd_task_t *ready_head, *ready_tail; /* loop thread only */
    size_t n_tasks, n_bounded;
    bool closing;
    ucontext_t loop_ctx;
    wsd_task_t *current;
    const void *loop_bottom; /* the loop's stack, for AddressSanitizer */
    size_t loop_size;
};

/* ------------------------------------------------------------ workers */

static void *
worker_main(void *arg)
{
    worker_t *wk = arg;
    struct wsd_tasks *ts = wk->w->tasks;
    pthread_mutex_lock(&wk->mu);
    for (;;) {
        while (wk->head == NULL && !wk->stop)
            pthread_cond_wait(&wk->cv, &wk->mu);
        if (wk->head == NULL)
            break;
        job_t *j = wk->head;
        wk->head = j->next;
        if (wk->head == NULL)
            wk->tail = NULL;
        wk->n--;
        pthread_mutex_unlock(&wk->mu);
        j->fn(wk->w, j->arg);
        pthread_mutex_lock(&ts->done_mu);
        j->next = NULL;
        if (j->task == NULL) {
            j->finished = true;
            pthread_cond_broadcast(&ts->done_cv);
        } else if (ts->done_tail != NULL) {
            ts->done_tail->next = j;
            ts->done_tail = j;
        } else {
            ts->done_head = ts->done_tail = j;
        }
        pthread_mutex_unlock(&ts->done_mu);
        lws_cancel_service(wk->w->lws);
        pthread_mutex_lock(&wk->mu);
    }
    pthread_mutex_unlock(&wk->mu);
    return NULL;
}

int
wsd_tasks_start(wsd_t *w)
{
    struct wsd_tasks *ts = xcalloc(1, sizeof *ts);
    w->tasks = ts;
    pthread_mutex_init(&ts->done_mu, NULL);
    pthread_cond_init(&ts->done_cv, NULL);
    for (int i = 0; i < WSD_N_WORKERS; i++) {
        worker_t *wk = &ts->workers[i];
        wk->w = w;
        pthread_mutex_init(&wk->mu, NULL);
        pthread_cond_init(&wk->cv, NULL);
        if (pthread_create(&wk->thread, NULL, worker_main, wk) != 0) {
            log_error("ws: cannot start a worker thread");
            return -1;
        }
        wk->running = true;
    }
    return 0;
}

/* ------------------------------------------------------------- tasks */

static void
task_free(struct wsd_tasks *ts, wsd_task_t *t)
{
    ts->n_tasks--;
    if (t->bounded)
        ts->n_bounded--;
    munmap(t->stack, t->stack_size);
    free(t);
}

/* from the loop into t, until t yields or ends */
static void
resume(struct wsd_tasks *ts, wsd_task_t *t)
{
    if (MT_BUG(ts->current != NULL))
        return;
    ts->current = t;
#if TASK_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, t->stack, t->stack_size);
#endif
    swapcontext(&ts->loop_ctx, &t->ctx);
#if TASK_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    ts->current = NULL;
    if (t->done)
        task_free(ts, t);
}

/* from the current task back to the loop; returns when it is resumed */
static void
yield(struct wsd_tasks *ts, bool dying)
{
    wsd_task_t *t = ts->current;
#if TASK_ASAN
    __sanitizer_start_switch_fiber(dying ? NULL : &t->fake_stack, ts->loop_bottom, ts->loop_size);
#else
    (void)dying;
#endif
    swapcontext(&t->ctx, &ts->loop_ctx);
#if TASK_ASAN
    __sanitizer_finish_switch_fiber(t->fake_stack, &ts->loop_bottom, &ts->loop_size);
#endif
}

/* makecontext passes only ints: the task is the current one */
static struct wsd_tasks *entry_tasks;

static void
task_entry(void)
{
    struct wsd_tasks *ts = entry_tasks;
    wsd_task_t *t = ts->current;
#if TASK_ASAN
    __sanitizer_finish_switch_fiber(NULL, &ts->loop_bottom, &ts->loop_size);
#endif
    t->fn(t->w, t->arg);
    t->done = true;
    yield(ts, true); /* never returns: resume() frees the task */
}

static void
make_ready(wsd_t *w, wsd_task_t *t)
{
    struct wsd_tasks *ts = w->tasks;
    t->next = NULL;
    if (ts->ready_tail != NULL)
        ts->ready_tail->next = t;
    else
        ts->ready_head = t;
    ts->ready_tail = t;
    lws_cancel_service(w->lws); /* wsd_tasks_poll runs it */
}

int
wsd_task_spawn(wsd_t *w, wsd_task_fn_t fn, void *arg, bool bounded)
{
    struct wsd_tasks *ts = w->tasks;
    if (ts == NULL || ts->closing || (bounded && ts->n_bounded >= WSD_MAX_TASKS))
        return -1;
    void *stack = mmap(NULL, TASK_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                       -1, 0);
    if (stack == MAP_FAILED) {
        log_warn("ws: no memory for a task's stack");
        return -1;
    }
    /* the lowest page guards against an overflow */
    mprotect(stack, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE);
    wsd_task_t *t = xcalloc(1, sizeof *t);
    t->stack = stack;
    t->stack_size = TASK_STACK;
    t->w = w;
    t->fn = fn;
    t->arg = arg;
    t->bounded = bounded;
    getcontext(&t->ctx);
    t->ctx.uc_stack.ss_sp = stack;
    t->ctx.uc_stack.ss_size = TASK_STACK;
    t->ctx.uc_link = NULL;
    entry_tasks = ts;
    makecontext(&t->ctx, task_entry, 0);
    ts->n_tasks++;
    if (bounded)
        ts->n_bounded++;
    if (ts->current == NULL)
        resume(ts, t); /* at once, up to its first daemon call */
    else
        make_ready(w, t); /* a task may not switch to another */
    return 0;
}

void
wsd_tasks_poll(wsd_t *w)
{
    struct wsd_tasks *ts = w->tasks;
    if (ts == NULL || ts->current != NULL)
        return;
    for (;;) {
        pthread_mutex_lock(&ts->done_mu);
        job_t *done = ts->done_head;
        ts->done_head = ts->done_tail = NULL;
        pthread_mutex_unlock(&ts->done_mu);
        while (done != NULL) {
            job_t *next = done->next; /* done is gone once its task runs on */
            wsd_task_t *t = done->task;
            t->next = NULL;
            if (ts->ready_tail != NULL)
                ts->ready_tail->next = t;
            else
                ts->ready_head = t;
            ts->ready_tail = t;
            done = next;
        }
        if (ts->ready_head == NULL)
            return;
        while (ts->ready_head != NULL) {
            wsd_task_t *t = ts->ready_head;
            ts->ready_head = t->next;
            if (ts->ready_head == NULL)
                ts->ready_tail = NULL;
            resume(ts, t);
        }
    }
}

int
wsd_offload(wsd_t *w, wsd_worker_kind_t kind, wsd_work_fn_t fn, void *arg)
{
    struct wsd_tasks *ts = w->tasks;
    worker_t *wk = &ts->workers[kind];
    job_t j = { .fn = fn, .arg = arg, .task = ts->current };
    pthread_mutex_lock(&wk->mu);
    /* a task waits for one call at most: the queue holds one a client and
     * the loop's own few; the bound is a guard */
    if (wk->n >= w->max_clients + WSD_WORK_QUEUE || wk->stop || !wk->running) {
        pthread_mutex_unlock(&wk->mu);
        return -1;
    }
    if (wk->tail != NULL)
        wk->tail->next = &j;
    else
        wk->head = &j;
    wk->tail = &j;
    wk->n++;
    pthread_cond_signal(&wk->cv);
    pthread_mutex_unlock(&wk->mu);
    if (j.task != NULL) {
        yield(ts, false); /* wsd_tasks_poll resumes it with the answer */
        return 0;
    }
    /* outside a task (nothing should call from there): wait, as before */
    MT_BUG(j.task == NULL);
    pthread_mutex_lock(&ts->done_mu);
    while (!j.finished)
        pthread_cond_wait(&ts->done_cv, &ts->done_mu);
    pthread_mutex_unlock(&ts->done_mu);
    return 0;
}

void
wsd_lock(wsd_t *w, wsd_lock_t *l)
{
    struct wsd_tasks *ts = w->tasks;
    if (!l->held) {
        l->held = true;
        return;
    }
    wsd_task_t *t = ts->current;
    if (MT_BUG(t == NULL))
        return; /* cannot wait outside a task: goes on, as before */
    t->next = NULL;
    if (l->tail != NULL)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
    yield(ts, false); /* wsd_unlock hands the lock over */
}

void
wsd_unlock(wsd_t *w, wsd_lock_t *l)
{
    wsd_task_t *t = l->head;
    if (t == NULL) {
        l->held = false;
        return;
    }
    l->head = t->next;
    if (l->head == NULL)
        l->tail = NULL;
    make_ready(w, t); /* it holds the lock now */
}

void
wsd_tasks_stop(wsd_t *w)
{
    struct wsd_tasks *ts = w->tasks;
    if (ts == NULL)
        return;
    ts->closing = true;
    /* the tasks under way end with their daemon calls (each bounded by
     * WSD_CTL_TIMEOUT_MS) */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    now = t0;
    while (ts->n_tasks > 0 && now.tv_sec - t0.tv_sec < WSD_CTL_TIMEOUT_MS / 1000 + 2) {
        if (lws_service(w->lws, 0) < 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
    }
    if (ts->n_tasks > 0)
        log_warn("ws: %zu task(s) still waiting at the stop", ts->n_tasks);
    for (int i = 0; i < WSD_N_WORKERS; i++) {
        worker_t *wk = &ts->workers[i];
        pthread_mutex_lock(&wk->mu);
        wk->stop = true;
        pthread_cond_signal(&wk->cv);
        pthread_mutex_unlock(&wk->mu);
        if (wk->running)
            pthread_join(wk->thread, NULL);
        wk->running = false;
    }
}

void
wsd_tasks_free(wsd_t *w)
{
    struct wsd_tasks *ts = w->tasks;
    if (ts == NULL)
        return;
    for (int i = 0; i < WSD_N_WORKERS; i++) {
        pthread_mutex_destroy(&ts->workers[i].mu);
        pthread_cond_destroy(&ts->workers[i].cv);
    }
    pthread_mutex_destroy(&ts->done_mu);
    pthread_cond_destroy(&ts->done_cv);
    free(ts);
    w->tasks = NULL;
}

/* ------------------------------------------------ daemon and database */

typedef struct {
    const char *cmd;
    json_object *args;
    json_object **result;
    mt_error_t **err;
    int rc;
} call_job_t;

/* on the control worker: the one client of the commands */
static void
call_work(wsd_t *w, void *arg)
{
    call_job_t *j = arg;
    j->rc = -1;
    if (w->ctl == NULL) {
        w->ctl = ctl_client_connect(conf_get_str(w->conf, "control_socket"), WSD_CTL_TIMEOUT_MS, j->err);
        if (w->ctl == NULL)
            return;
    }
    /* the client reconnects by itself when the daemon closed it for
     * idleness; a call that failed on the way is not repeated (it may
     * have been carried out) */
    if (ctl_client_call(w->ctl, j->cmd, j->args, j->result, j->err) == 0) {
        j->rc = 0;
        return;
    }
    if (ctl_client_last_error(w->ctl) == 0) {
        ctl_client_free(w->ctl); /* a broken connection: a new one next time */
        w->ctl = NULL;
    }
}

int
wsd_call(wsd_t *w, const char *cmd, json_object *args, json_object **result, mt_error_t **err)
{
    call_job_t j = { .cmd = cmd, .args = args, .result = result, .err = err, .rc = -1 };
    if (result != NULL)
        *result = NULL;
    if (wsd_offload(w, WSD_WORKER_CTL, call_work, &j) != 0) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "muleteer-ws is busy; try again");
        return -1;
    }
    return j.rc;
}

typedef struct {
    const char *sql;
    int n;
    const char *const *params;
    mt_error_t **err;
    PGresult *res;
} query_job_t;

/* on the database worker: the one connection, reconnected when broken */
static void
query_work(wsd_t *w, void *arg)
{
    query_job_t *j = arg;
    PGconn *db = wsd_db(w);
    if (db == NULL) {
        mt_error_set(j->err, MT_ERR_UNAVAILABLE, "the database is not reachable");
        return;
    }
    j->res = db_query(db, j->sql, j->n, j->params, j->err);
}

PGresult *
wsd_db_query(wsd_t *w, const char *sql, int n, const char *const *params, mt_error_t **err)
{
    query_job_t j = { .sql = sql, .n = n, .params = params, .err = err, .res = NULL };
    if (wsd_offload(w, WSD_WORKER_DB, query_work, &j) != 0) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "muleteer-ws is busy; try again");
        return NULL;
    }
    return j.res;
}
