/* hooks.c: programs and webhooks on download events (hooks.h). A program
 * is spawned with posix_spawnp in a process group of its own, stdin from
 * /dev/null and stdout and stderr into a pipe the loop reads into the log;
 * SIGCHLD (a libevent signal event) reaps it, a timer kills its group
 * after hook_timeout seconds. At most hook_max_running run at once; the
 * others wait in a queue of at most hook_max_queued, beyond which an
 * event's program is dropped and counted. */
#include "config.h"

#include "daemon/hooks/hookbody.h"
#include "daemon/hooks/hooks.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/partfile.h"
#include "util/bug.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* A full disk is said once a minute at most: every download writing to it
 * hits it at about the same time. */
#define DISK_FULL_QUIET 60
/* The longest line of a program's output put into the log. */
#define LINE_MAX_LOGGED 400

typedef struct run {
    hooks_t *h;
    char *event;
    char **argv, **envp;
    pid_t pid;   /* 0: queued */
    int out_fd;  /* the pipe's read end; -1 when closed */
    struct event *out_ev, *timer;
    char line[LINE_MAX_LOGGED + 1];
    size_t line_len;
    size_t logged; /* bytes of output logged */
    bool killed;
    struct run *next;
} run_t;

struct hooks {
    muleteerd_t *d;
    struct event *sigchld;
    run_t *running, *queue, **queue_tail;
    hooks_stats_t st;
    webhook_t *web;
    time_t disk_full_at; /* monotonic: the last disk_full event */
};

static const char *const outcome_names[] = { "none", "started", "queued", "dropped", "failed" };

const char *
hooks_outcome_name(hooks_outcome_t o)
{
    return (unsigned)o < sizeof outcome_names / sizeof outcome_names[0] ? outcome_names[o] : "?";
}

/* ------------------------------------------------------------ output */

static void
flush_line(run_t *r)
{
    if (r->line_len == 0)
        return;
    r->line[r->line_len] = '\0';
    log_info("hook %s [%ld]: %s", r->event, (long)r->pid, r->line);
    r->line_len = 0;
}

/* take_output: n bytes the program wrote: whole lines logged, up to
 * hook_max_output bytes in all; the rest counted. */
static void
take_output(run_t *r, const char *p, size_t n)
{
    size_t max = (size_t)conf_get_int(r->h->d->conf, "hook_max_output");
    for (size_t i = 0; i < n; i++) {
        if (r->logged >= max) {
            r->h->st.output_dropped += n - i;
            return;
        }
        r->logged++;
        if (p[i] == '\n') {
            flush_line(r);
        } else if (r->line_len < LINE_MAX_LOGGED) {
            r->line[r->line_len++] = p[i] == '\r' || p[i] == '\0' ? ' ' : p[i];
        }
    }
}

static void
close_output(run_t *r)
{
    if (r->out_ev != NULL) {
        event_free(r->out_ev);
        r->out_ev = NULL;
    }
    if (r->out_fd >= 0) {
        close(r->out_fd);
        r->out_fd = -1;
    }
    flush_line(r);
}

/* read_output: reads what is there; false at the end of the pipe. */
static bool
read_output(run_t *r)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(r->out_fd, buf, sizeof buf);
        if (n > 0) {
            take_output(r, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

static void
on_output(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    run_t *r = arg;
    if (!read_output(r))
        close_output(r);
}

/* ------------------------------------------------------------ programs */

static void
run_free(run_t *r)
{
    if (r == NULL)
        return;
    close_output(r);
    if (r->timer != NULL)
        event_free(r->timer);
    hook_strv_free(r->argv);
    hook_strv_free(r->envp);
    free(r->event);
    free(r);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    run_t *r = arg;
    log_warn("hook %s [%ld]: still running after %lld s: killed", r->event, (long)r->pid,
             conf_get_int(r->h->d->conf, "hook_timeout"));
    r->killed = true;
    kill(-r->pid, SIGKILL); /* its process group: what a shell started too */
    kill(r->pid, SIGKILL);
}

/* spawn: starts r's program; -1 (logged) when it cannot start. */
static int
spawn(hooks_t *h, run_t *r)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        log_error("hook %s: no pipe for its output: %s", r->event, strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* none of the daemon's sockets or files */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all); /* SIGPIPE is ignored here */
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    int e = posix_spawnp(&r->pid, r->argv[0], &fa, &attr, r->argv, r->envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (e != 0) {
        close(fds[0]);
        r->pid = 0;
        log_warn("hook %s: cannot run %s: %s", r->event, r->argv[0], strerror(e));
        return -1;
    }
    r->out_fd = fds[0];
    evutil_make_socket_nonblocking(r->out_fd);
    r->out_ev = event_new(h->d->base, r->out_fd, EV_READ | EV_PERSIST, on_output, r);
    event_add(r->out_ev, NULL);
    r->timer = evtimer_new(h->d->base, on_timeout, r);
    struct timeval tv = { .tv_sec = (time_t)conf_get_int(h->d->conf, "hook_timeout") };
    evtimer_add(r->timer, &tv);
    h->st.started++;
    log_info("hook %s [%ld]: started %s", r->event, (long)r->pid, r->argv[0]);
    return 0;
}

/* start_queued: spawns queued programs while there is room. */
static void
start_queued(hooks_t *h)
{
    size_t max = (size_t)conf_get_int(h->d->conf, "hook_max_running");
    while (h->queue != NULL && h->st.running < max) {
        run_t *r = h->queue;
        h->queue = r->next;
        if (h->queue == NULL)
            h->queue_tail = &h->queue;
        if (!MT_BUG(h->st.queued == 0))
            h->st.queued--;
        if (spawn(h, r) != 0) {
            h->st.failed++;
            run_free(r);
            continue;
        }
        r->next = h->running;
        h->running = r;
        h->st.running++;
    }
}

/* finished: r's program exited with wait status st. */
static void
finished(hooks_t *h, run_t *r, int st)
{
    if (r->out_fd >= 0)
        read_output(r); /* what it wrote last; a child it left may keep the pipe */
    close_output(r);
    if (r->killed) {
        h->st.killed++;
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        h->st.succeeded++;
        log_info("hook %s [%ld]: done", r->event, (long)r->pid);
    } else {
        h->st.failed++;
        if (WIFEXITED(st))
            log_warn("hook %s [%ld]: exited with status %d", r->event, (long)r->pid,
                     WEXITSTATUS(st));
        else
            log_warn("hook %s [%ld]: ended by signal %d", r->event, (long)r->pid,
                     WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    }
    run_free(r);
}

/* reap: every program of ours that ended. */
static void
reap(hooks_t *h)
{
    for (run_t **pp = &h->running; *pp != NULL;) {
        run_t *r = *pp;
        int st;
        pid_t p = waitpid(r->pid, &st, WNOHANG);
        if (p == r->pid || (p < 0 && errno == ECHILD)) {
            *pp = r->next;
            if (!MT_BUG(h->st.running == 0))
                h->st.running--;
            finished(h, r, p == r->pid ? st : 0);
        } else {
            pp = &r->next;
        }
    }
    start_queued(h);
}

static void
on_sigchld(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    reap(arg);
}

/* run_program: the event's program, started or queued. */
static hooks_outcome_t
run_program(hooks_t *h, const hook_event_t *ev)
{
    char *key = xasprintf("hook_%s", ev->event);
    const char *cmd = conf_get_str(h->d->conf, key);
    free(key);
    if (cmd[0] == '\0')
        return HOOKS_NONE;
    if (h->st.queued >= (size_t)conf_get_int(h->d->conf, "hook_max_queued") &&
        h->st.running >= (size_t)conf_get_int(h->d->conf, "hook_max_running")) {
        h->st.dropped++;
        log_warn("hook %s: dropped, %zu program(s) running and %zu waiting", ev->event,
                 h->st.running, h->st.queued);
        return HOOKS_DROPPED;
    }
    mt_error_t *err = NULL;
    char **argv = hook_argv(cmd, ev, &err);
    if (argv == NULL) {
        h->st.failed++;
        log_warn("hook_%s: %s", ev->event, err->message);
        mt_error_free(err);
        return HOOKS_FAILED;
    }
    run_t *r = xcalloc(1, sizeof *r);
    r->h = h;
    r->event = xstrdup(ev->event);
    r->argv = argv;
    r->envp = hook_env(ev, environ);
    r->out_fd = -1;
    *h->queue_tail = r;
    h->queue_tail = &r->next;
    h->st.queued++;
    uint64_t started = h->st.started, failed = h->st.failed;
    start_queued(h);
    return h->st.started > started ? HOOKS_STARTED
           : h->st.failed > failed ? HOOKS_FAILED
                                   : HOOKS_QUEUED;
}

hooks_outcome_t
hooks_fire(hooks_t *h, const hook_event_t *ev, size_t *webhooks)
{
    hooks_outcome_t o = run_program(h, ev);
    size_t n = 0;
    const conf_t *c = h->d->conf;
    const char *urls = conf_get_str(c, "webhook_urls");
    if (urls[0] != '\0') {
        char *body = hook_body_json(ev, conf_get_str(c, "node_name"));
        webhook_opts_t wo = {
            .timeout_s = (unsigned)conf_get_int(c, "webhook_timeout"),
            .retries = (unsigned)conf_get_int(c, "webhook_retries"),
            .backoff_ms = (unsigned)conf_get_int(c, "webhook_backoff") * 1000,
            .max_queued = (size_t)conf_get_int(c, "webhook_max_queued"),
        };
        n = webhook_send(h->web, urls, conf_get_str(c, "webhook_secret"), ev->event, body, &wo);
        free(body);
    }
    if (webhooks != NULL)
        *webhooks = n;
    return o;
}

/* ------------------------------------------------------------ the bus */

static void
fire_dl(hooks_t *h, const char *event, const bus_dl_info_t *info, const char *path,
        const char *error)
{
    hook_event_t ev = {
        .event = event,
        .time = (int64_t)time(NULL),
        .hash = info->hex,
        .name = info->name,
        .size = info->size,
        .path = path,
        .category = info->category,
        .added_by = info->added_by,
        .error = error,
    };
    hooks_fire(h, &ev, NULL);
}

/* part_path: the download's part file (its data, in temp_dir), NULL
 * when the event has no download. */
static const char *
part_path(const struct download *dl)
{
    return dl != NULL ? pf_data_path(dl_partfile(dl)) : NULL;
}

static void
on_added(void *ctx, const bus_dl_added_t *ev)
{
    fire_dl(ctx, "added", ev->info, part_path(ev->dl), NULL);
}

static void
on_completed(void *ctx, const bus_dl_completed_t *ev)
{
    fire_dl(ctx, "completed", ev->info, ev->path, NULL);
}

static void
on_failed(void *ctx, const bus_dl_state_ev_t *ev)
{
    fire_dl(ctx, "failed", ev->info, part_path(ev->dl), ev->error);
}

/* on_state: storage trouble is a failure, or a full disk (once a minute). */
static void
on_state(void *ctx, const bus_dl_state_ev_t *ev)
{
    hooks_t *h = ctx;
    if (ev->to != BUS_DLS_ERROR || ev->from == BUS_DLS_ERROR)
        return;
    if (!ev->no_space) {
        fire_dl(h, "failed", ev->info, part_path(ev->dl), ev->error);
        return;
    }
    time_t now = clock_mono_s();
    if (h->disk_full_at != 0 && now - h->disk_full_at < DISK_FULL_QUIET)
        return;
    h->disk_full_at = now;
    fire_dl(h, "disk_full", ev->info, part_path(ev->dl), ev->error);
}

hooks_t *
hooks_new(muleteerd_t *d)
{
    hooks_t *h = xcalloc(1, sizeof *h);
    h->d = d;
    h->queue_tail = &h->queue;
    h->web = webhook_new();
    h->sigchld = evsignal_new(d->base, SIGCHLD, on_sigchld, h);
    evsignal_add(h->sigchld, NULL);
    bus_on_dl_added(d->bus, on_added, h);
    bus_on_dl_completed(d->bus, on_completed, h);
    bus_on_dl_failed(d->bus, on_failed, h);
    bus_on_dl_state(d->bus, on_state, h);
    return h;
}

void
hooks_free(hooks_t *h)
{
    if (h == NULL)
        return;
    bus_unsubscribe_ctx(h->d->bus, h);
    while (h->queue != NULL) {
        run_t *r = h->queue;
        h->queue = r->next;
        run_free(r);
    }
    for (run_t *r = h->running, *next; r != NULL; r = next) {
        next = r->next;
        log_warn("hook %s [%ld]: killed at shutdown", r->event, (long)r->pid);
        kill(-r->pid, SIGKILL);
        kill(r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
        run_free(r);
    }
    if (h->sigchld != NULL)
        event_free(h->sigchld);
    webhook_free(h->web);
    free(h);
}

void
hooks_get_stats(hooks_t *h, hooks_stats_t *out, webhook_stats_t *ws)
{
    *out = h->st;
    if (ws != NULL)
        webhook_get_stats(h->web, ws);
}
