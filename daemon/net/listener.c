/* listener.c: accepting connections on the daemon's loop without spinning
 * when descriptors run out (the peer listener and the control socket).
 *
 * When the process has no descriptor left, accept() fails with EMFILE
 * (ENFILE: the whole system) while the connection stays in the kernel's
 * backlog, so the socket stays readable and a level-triggered loop calls
 * the error callback again at once, for ever: one core and hundreds of
 * thousands of log lines a second. Two measures:
 * - Back-off, for every accept error: the listener is disabled and enabled
 *   again after a pause that doubles from 100 ms up to 5 s, and is 100 ms
 *   again after a successful accept. This alone bounds the cost, whatever
 *   the error and whoever holds the descriptors (worker threads open files
 *   too), at the price of connections waiting a few seconds at most once
 *   descriptors are free again.
 * - A spare descriptor (the trick libev's and libuv's documentation
 *   describe): each listener keeps /dev/null open; on EMFILE or ENFILE it
 *   closes it, accepts and closes a waiting connection, opens the spare
 *   again, and so on while connections wait (a bounded number per error).
 *   Clients we cannot serve learn it at once (the connection closes)
 *   instead of hanging in the backlog, and the backlog is empty when
 *   accepting resumes. It is best effort: another thread may take the
 *   freed slot first; then accept fails again and the back-off does the
 *   work, and the spare is opened again when the listener resumes. */
#include "config.h"

#include "daemon/net/listener.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTENER_PAUSE_MIN_MS 100
#define LISTENER_PAUSE_MAX_MS 5000
#define LISTENER_MAX_SHED 256 /* waiting connections closed per error, at most */

struct listener {
    struct evconnlistener *lev;
    struct event *resume_ev;
    listener_accept_fn fn;
    void *ctx;
    char name[16];
    int spare_fd; /* /dev/null, or -1 when it could not be opened again */
    int pause_ms; /* the next pause after an error */
};

static int
open_spare(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Closes connections waiting in the backlog, each accepted on the
 * descriptor the spare frees; returns how many. */
static size_t
shed_backlog(listener_t *l)
{
    evutil_socket_t lfd = evconnlistener_get_fd(l->lev);
    size_t n = 0;
    while (n < LISTENER_MAX_SHED && l->spare_fd >= 0) {
        close(l->spare_fd);
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            close(fd);
        l->spare_fd = open_spare();
        if (fd < 0)
            break; /* the backlog is empty, or another thread took the slot */
        n++;
    }
    return n;
}

static void
on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen,
          void *arg)
{
    (void)lev;
    listener_t *l = arg;
    l->pause_ms = LISTENER_PAUSE_MIN_MS;
    l->fn(fd, sa, salen, l->ctx);
}

static void
on_error(struct evconnlistener *lev, void *arg)
{
    listener_t *l = arg;
    int e = EVUTIL_SOCKET_ERROR();
    size_t shed = 0;
    if (e == EMFILE || e == ENFILE)
        shed = shed_backlog(l);
    evconnlistener_disable(lev);
    struct timeval tv = { l->pause_ms / 1000, (l->pause_ms % 1000) * 1000 };
    evtimer_add(l->resume_ev, &tv);
    if (shed > 0)
        log_warn("%s: accept failed: %s; %zu waiting connection(s) closed; accepting again in "
                 "%d ms",
                 l->name, strerror(e), shed, l->pause_ms);
    else
        log_warn("%s: accept failed: %s; accepting again in %d ms", l->name, strerror(e),
                 l->pause_ms);
    l->pause_ms = l->pause_ms * 2 < LISTENER_PAUSE_MAX_MS ? l->pause_ms * 2
                                                          : LISTENER_PAUSE_MAX_MS;
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    listener_t *l = arg;
    if (l->spare_fd < 0)
        l->spare_fd = open_spare();
    evconnlistener_enable(l->lev);
}

static listener_t *
listener_alloc(struct event_base *base, const char *name, listener_accept_fn fn, void *ctx)
{
    listener_t *l = xcalloc(1, sizeof *l);
    l->fn = fn;
    l->ctx = ctx;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->pause_ms = LISTENER_PAUSE_MIN_MS;
    l->spare_fd = open_spare();
    l->resume_ev = evtimer_new(base, on_resume, l);
    return l;
}

static listener_t *
listener_finish(listener_t *l)
{
    if (l->lev == NULL) {
        listener_free(l);
        return NULL;
    }
    evconnlistener_set_error_cb(l->lev, on_error);
    return l;
}

listener_t *
listener_new(struct event_base *base, evutil_socket_t fd, const char *name, listener_accept_fn fn,
             void *ctx)
{
    listener_t *l = listener_alloc(base, name, fn, ctx);
    /* Backlog 0: the socket is already listening. */
    l->lev = evconnlistener_new(base, on_accept, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                0, fd);
    return listener_finish(l);
}

listener_t *
listener_new_bind(struct event_base *base, const struct sockaddr *sa, int salen, int backlog,
                  const char *name, listener_accept_fn fn, void *ctx, mt_error_t **err)
{
    listener_t *l = listener_alloc(base, name, fn, ctx);
    l->lev = evconnlistener_new_bind(
        base, on_accept, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
        backlog, sa, salen);
    if (l->lev == NULL)
        mt_error_set(err, MT_ERR_IO, "%s", strerror(errno));
    return listener_finish(l);
}

void
listener_free(listener_t *l)
{
    if (l == NULL)
        return;
    if (l->lev != NULL)
        evconnlistener_free(l->lev);
    event_free(l->resume_ev);
    if (l->spare_fd >= 0)
        close(l->spare_fd);
    free(l);
}
