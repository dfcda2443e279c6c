/* control.c: control-socket server. Each client is a bufferevent; lines
 * are parsed with lib/ctl and every bad line gets an error reply without
 * disturbing other clients or the daemon. Idle clients are closed after a
 * few seconds, and make room for newcomers when every slot is taken. A
 * client that sent `subscribe` also gets the topics' event lines
 * (ctlsrv_publish), and is dropped rather than waited for when it falls
 * behind. */
#include "config.h"

#include "ctl/proto.h"
#include "daemon/ctl/control.h"
#include "daemon/net/listener.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

/* A client that stops reading replies is not read from past this much
 * output (on_read, on_write). */
#define CTLSRV_MAX_OUTPUT (8 * 1024 * 1024)

typedef struct ctl_conn {
    struct ctl_conn *prev, *next;
    ctlsrv_t *srv;
    struct bufferevent *bev;
    bool discarding;   /* inside an over-long line: drop until newline */
    bool closing;      /* close once the output is flushed */
    int64_t idle_since; /* monotonic ms since when idle; -1: a request in progress */
    uint64_t idle_order; /* orders clients that became idle in the same ms */
    uint64_t topics;     /* subscribed topics (bit i: topic i); 0: not a subscriber */
} ctl_conn_t;

struct ctlsrv {
    struct event_base *base;
    listener_t *listener; /* backs off when descriptors run out */
    char *path;
    const ctlsrv_command_t *commands;
    size_t n_commands;
    void *ctx;
    ctl_conn_t *clients;
    size_t n_clients;
    size_t max_clients;
    int idle_ms, evict_idle_ms;
    uint64_t idle_count; /* clients that became idle so far */
    const char *const *topic_names; /* ctlsrv_set_topics */
    size_t n_topics;
    size_t n_subscribers;
    size_t sub_max_output;  /* a subscriber's backlog bound (bytes) */
    uint64_t sub_dropped;   /* subscribers dropped for their backlog so far */
    uint64_t sub_unlogged;  /* ... not yet logged (drop_ev logs them) */
    struct event *drop_ev;  /* logs drops outside the publish that made them */
};

static void
conn_free(ctl_conn_t *c)
{
    ctlsrv_t *srv = c->srv;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    srv->n_clients--;
    if (c->topics != 0)
        srv->n_subscribers--;
    bufferevent_free(c->bev);
    free(c);
}

/* ------------------------------------------------------- idleness */

/* in_progress: a request is under way: part of a line has arrived (or an
 * over-long one is being skipped), or replies wait to be written. */
static bool
in_progress(const ctl_conn_t *c)
{
    return c->discarding || evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 ||
           evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;
}

/* settle: after any activity, starts or stops the idle clock and sets the
 * timeout that applies: idle_ms while idle, the stall time otherwise. */
static void
settle(ctl_conn_t *c)
{
    if (c->closing)
        return;
    struct timeval stall = { CTLSRV_STALL_SECONDS, 0 };
    if (c->topics != 0) {
        /* a subscriber is never idle: it waits for events, and is never
         * closed to make room; one that reads nothing for
         * CTLSRV_SUB_STALL_SECONDS while lines wait is closed */
        struct timeval wstall = { CTLSRV_SUB_STALL_SECONDS, 0 };
        c->idle_since = -1;
        bufferevent_set_timeouts(c->bev, NULL, &wstall);
        return;
    }
    if (in_progress(c)) {
        c->idle_since = -1;
        bufferevent_set_timeouts(c->bev, &stall, &stall);
        return;
    }
    if (c->idle_since < 0) {
        c->idle_since = clock_mono_ms();
        c->idle_order = ++c->srv->idle_count;
    }
    int ms = c->srv->idle_ms;
    struct timeval idle = { ms / 1000, (ms % 1000) * 1000 };
    bufferevent_set_timeouts(c->bev, &idle, &stall);
}

/* unread_bytes: bytes the client sent that the loop has not read yet (a
 * request that just arrived makes a client busy, not idle). */
static int
unread_bytes(const ctl_conn_t *c)
{
    int n = 0;
    if (ioctl(bufferevent_getfd(c->bev), FIONREAD, &n) != 0)
        return 0;
    return n;
}

/* make_room: closes the client idle the longest, if one has been idle for
 * at least evict_idle_ms. Returns whether one was closed. */
static bool
make_room(ctlsrv_t *srv)
{
    int64_t limit = clock_mono_ms() - srv->evict_idle_ms;
    ctl_conn_t *oldest = NULL;
    for (ctl_conn_t *c = srv->clients; c != NULL; c = c->next) {
        if (c->closing || c->idle_since < 0 || c->idle_since > limit || in_progress(c) ||
            unread_bytes(c) > 0)
            continue;
        if (oldest == NULL || c->idle_order < oldest->idle_order)
            oldest = c;
    }
    if (oldest == NULL)
        return false;
    log_debug("control: closing a client idle for %lld ms to make room for a new one",
              (long long)(clock_mono_ms() - oldest->idle_since));
    conn_free(oldest);
    return true;
}

/* ------------------------------------------------------------ lines */

static void
send_line(ctl_conn_t *c, char *line)
{
    bufferevent_write(c->bev, line, strlen(line));
    free(line);
}

static void
send_error(ctl_conn_t *c, json_object *id, ctl_errcode_t code, const char *msg)
{
    send_line(c, ctl_reply_error(id, code, msg));
}

static int
cmd_help(ctlsrv_t *srv, json_object **result)
{
    json_object *list = json_object_new_array();
    for (size_t i = 0; i < srv->n_commands; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(srv->commands[i].name));
        json_object_object_add(o, "summary", json_object_new_string(srv->commands[i].summary));
        json_object_array_add(list, o);
    }
    json_object *sub = json_object_new_object();
    json_object_object_add(sub, "name", json_object_new_string("subscribe"));
    json_object_object_add(sub, "summary",
                           json_object_new_string("stream the daemon's events as lines: {events}"));
    json_object_array_add(list, sub);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "commands", list);
    *result = o;
    return 0;
}

/* cmd_subscribe: makes c a subscriber of args.events (names from
 * ctlsrv_set_topics; absent or null: every topic), replacing what it had.
 * Its events follow its reply on the same connection. */
static int
cmd_subscribe(ctl_conn_t *c, json_object *args, json_object **result, mt_error_t **err)
{
    ctlsrv_t *srv = c->srv;
    json_object *list = NULL;
    uint64_t topics = 0;
    if (json_object_object_get_ex(args, "events", &list) && list != NULL) {
        if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0) {
            mt_error_set(err, MT_ERR_INVALID, "events: a non-empty array of event names");
            return -1;
        }
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            json_object *e = json_object_array_get_idx(list, i);
            const char *name = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "";
            size_t t = 0;
            while (t < srv->n_topics && strcmp(srv->topic_names[t], name) != 0)
                t++;
            if (t == srv->n_topics) {
                mt_error_set(err, MT_ERR_INVALID, "events[%zu]: no such event (see \"subscribe\" in "
                                                   "docs/control-protocol.md)", i);
                return -1;
            }
            topics |= UINT64_C(1) << t;
        }
    } else {
        topics = srv->n_topics >= 64 ? UINT64_MAX : (UINT64_C(1) << srv->n_topics) - 1;
    }
    if (topics == 0) {
        mt_error_set(err, MT_ERR_INVALID, "this daemon publishes no events");
        return -1;
    }
    if (c->topics == 0)
        srv->n_subscribers++;
    c->topics = topics;
    json_object *names = json_object_new_array();
    for (size_t t = 0; t < srv->n_topics; t++)
        if (topics & (UINT64_C(1) << t))
            json_object_array_add(names, json_object_new_string(srv->topic_names[t]));
    *result = json_object_new_object();
    json_object_object_add(*result, "subscribed", names);
    return 0;
}

static void
handle_line(ctl_conn_t *c, const char *line, size_t len)
{
    ctlsrv_t *srv = c->srv;
    ctl_request_t *req = NULL;
    json_object *id = NULL;
    mt_error_t *err = NULL;
    if (ctl_request_parse(line, len, &req, &id, &err) != 0) {
        log_debug("control: bad request: %s", err->message);
        send_error(c, id, (ctl_errcode_t)err->code, err->message);
        mt_error_free(err);
        json_object_put(id);
        return;
    }
    const char *name = ctl_request_cmd(req);
    json_object *result = NULL;
    int rc = -1;
    bool found = false;
    if (strcmp(name, "help") == 0) {
        found = true;
        rc = cmd_help(srv, &result);
    } else if (strcmp(name, "subscribe") == 0) {
        found = true;
        rc = cmd_subscribe(c, ctl_request_args(req), &result, &err);
    } else {
        for (size_t i = 0; i < srv->n_commands; i++) {
            if (strcmp(srv->commands[i].name, name) == 0) {
                found = true;
                rc = srv->commands[i].fn(srv->ctx, ctl_request_args(req), &result, &err);
                break;
            }
        }
    }
    if (!found) {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown command \"%s\" (try \"help\")", name);
        send_error(c, ctl_request_id(req), CTL_E_UNKNOWN_COMMAND, msg);
    } else if (rc != 0) {
        send_error(c, ctl_request_id(req),
                   err != NULL ? ctl_errcode_from_mt(err->code) : CTL_E_INTERNAL,
                   err != NULL ? err->message : "command failed");
    } else if (ctl_request_id(req) != NULL) {
        send_line(c, ctl_reply_result(ctl_request_id(req), result));
    }
    /* A request without an id is fire-and-forget: no reply on success. */
    json_object_put(result);
    mt_error_free(err);
    ctl_request_free(req);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
    ctl_conn_t *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!c->closing) {
        size_t avail = evbuffer_get_length(in);
        if (avail == 0)
            break;
        size_t eol_len = 0;
        struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
        if (c->discarding) {
            if (eol.pos < 0) {
                evbuffer_drain(in, avail);
                break;
            }
            evbuffer_drain(in, (size_t)eol.pos + 1);
            c->discarding = false;
            continue;
        }
        if (eol.pos < 0) {
            if (avail >= CTL_MAX_LINE) {
                send_error(c, NULL, CTL_E_LINE_TOO_LONG, "line longer than 65535 bytes; "
                                                         "skipped up to the next newline");
                evbuffer_drain(in, avail);
                c->discarding = true;
            }
            break;
        }
        size_t len = (size_t)eol.pos;
        if (len >= CTL_MAX_LINE) {
            send_error(c, NULL, CTL_E_LINE_TOO_LONG, "line longer than 65535 bytes");
            evbuffer_drain(in, len + 1);
            continue;
        }
        char *line = xmalloc(len + 1);
        evbuffer_remove(in, line, len);
        evbuffer_drain(in, 1);
        line[len] = '\0';
        /* Blank lines (a human pressing Enter) are ignored. */
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i < len)
            handle_line(c, line, len);
        free(line);
        /* A client that pipelines without reading its replies is not read
         * from until they drain (on_write): memory stays bounded. */
        if (evbuffer_get_length(bufferevent_get_output(bev)) > CTLSRV_MAX_OUTPUT) {
            bufferevent_disable(bev, EV_READ);
            break;
        }
    }
    settle(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
    ctl_conn_t *c = arg;
    if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        conn_free(c);
    } else if (!c->closing && !(bufferevent_get_enabled(bev) & EV_READ)) {
        bufferevent_enable(bev, EV_READ);
        on_read(bev, c); /* requests that arrived meanwhile */
    } else {
        settle(c); /* the replies are out: idle from now */
    }
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    ctl_conn_t *c = arg;
    if (what & BEV_EVENT_TIMEOUT)
        log_debug("control: closing %s client", c->idle_since >= 0 ? "an idle" : "a stalled");
    else if (what & BEV_EVENT_ERROR)
        log_debug("control: client error: %s", strerror(EVUTIL_SOCKET_ERROR()));
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        conn_free(c);
}

static void
on_accept(evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    (void)sa;
    (void)salen;
    ctlsrv_t *srv = arg;
    struct bufferevent *bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        evutil_closesocket(fd);
        return;
    }
    /* Every slot taken: an idle client makes room (oldest idle first). */
    if (srv->n_clients >= srv->max_clients)
        make_room(srv);
    ctl_conn_t *c = xcalloc(1, sizeof *c);
    c->srv = srv;
    c->bev = bev;
    c->idle_since = -1;
    c->next = srv->clients;
    if (srv->clients != NULL)
        srv->clients->prev = c;
    srv->clients = c;
    srv->n_clients++;
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    if (srv->n_clients > srv->max_clients) {
        send_error(c, NULL, CTL_E_BUSY, "too many control clients, all of them busy");
        c->closing = true;
        struct timeval t = { CTLSRV_STALL_SECONDS, 0 };
        bufferevent_set_timeouts(bev, &t, &t);
        bufferevent_enable(bev, EV_WRITE);
        return;
    }
    settle(c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* on_drop_log: logs the subscribers dropped by ctlsrv_publish, which may
 * run inside a log line's delivery and so must not log itself. */
static void
on_drop_log(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ctlsrv_t *srv = arg;
    if (srv->sub_unlogged > 0)
        log_info("control: dropped %llu event subscriber(s) that fell more than %zu bytes behind",
                 (unsigned long long)srv->sub_unlogged, srv->sub_max_output);
    srv->sub_unlogged = 0;
}

/* Creates the directory holding the socket, and its parents. */
static int
make_parent_dirs(const char *path, mt_error_t **err)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; rc == 0; p++) {
            if (*p == '/' || *p == '\0') {
                char saved = *p;
                *p = '\0';
                if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
                    mt_error_set(err, MT_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
                    rc = -1;
                }
                *p = saved;
                if (saved == '\0')
                    break;
            }
        }
    }
    free(dir);
    return rc;
}

ctlsrv_t *
ctlsrv_new(struct event_base *base, const char *path, const ctlsrv_command_t *commands,
           size_t n_commands, void *ctx, mt_error_t **err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        mt_error_set(err, MT_ERR_INVALID,
                     "control_socket path is too long for a Unix socket (%zu bytes, at most %zu): %s",
                     strlen(path), sizeof sa.sun_path - 1, path);
        return NULL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (make_parent_dirs(path, err) != 0)
        return NULL;

    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            mt_error_set(err, MT_ERR_EXISTS, "%s exists and is not a socket", path);
            return NULL;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
            close(probe);
            mt_error_set(err, MT_ERR_EXISTS,
                         "another muleteerd is already running (it answers on %s)", path);
            return NULL;
        }
        if (probe >= 0)
            close(probe);
        unlink(path); /* stale socket left by a killed daemon */
    }

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        mt_error_set(err, MT_ERR_IO, "socket: %s", strerror(errno));
        return NULL;
    }
    mode_t old = umask(0117);
    int brc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    int bind_errno = errno;
    umask(old);
    if (brc != 0 || chmod(path, 0660) != 0 || listen(fd, 32) != 0) {
        mt_error_set(err, MT_ERR_IO, "cannot listen on %s: %s", path,
                     strerror(brc != 0 ? bind_errno : errno));
        close(fd);
        return NULL;
    }
    ctlsrv_t *srv = xcalloc(1, sizeof *srv);
    srv->base = base;
    srv->path = xstrdup(path);
    srv->commands = commands;
    srv->n_commands = n_commands;
    srv->ctx = ctx;
    ctlsrv_set_limits(srv, 0, 0, 0);
    srv->sub_max_output = CTLSRV_SUB_MAX_OUTPUT;
    srv->drop_ev = event_new(base, -1, 0, on_drop_log, srv);
    srv->listener = listener_new(base, fd, "control", on_accept, srv);
    if (srv->listener == NULL) {
        mt_error_set(err, MT_ERR_IO, "cannot watch %s", path);
        close(fd);
        unlink(path);
        event_free(srv->drop_ev);
        free(srv->path);
        free(srv);
        return NULL;
    }
    return srv;
}

void
ctlsrv_free(ctlsrv_t *srv)
{
    if (srv == NULL)
        return;
    while (srv->clients != NULL)
        conn_free(srv->clients);
    listener_free(srv->listener);
    event_free(srv->drop_ev);
    unlink(srv->path);
    free(srv->path);
    free(srv);
}

int
ctlsrv_call(ctlsrv_t *srv, const char *name, json_object *args, json_object **result,
            mt_error_t **err)
{
    *result = NULL;
    for (size_t i = 0; i < srv->n_commands; i++)
        if (strcmp(srv->commands[i].name, name) == 0)
            return srv->commands[i].fn(srv->ctx, args, result, err);
    mt_error_set(err, MT_ERR_UNSUPPORTED, "unknown command \"%s\"", name);
    return -1;
}

size_t
ctlsrv_client_count(const ctlsrv_t *srv)
{
    return srv->n_clients;
}

void
ctlsrv_set_limits(ctlsrv_t *srv, size_t max_clients, int idle_ms, int evict_idle_ms)
{
    srv->max_clients = max_clients > 0 ? max_clients : CTLSRV_MAX_CLIENTS;
    srv->idle_ms = idle_ms > 0 ? idle_ms : CTLSRV_IDLE_MS;
    srv->evict_idle_ms = evict_idle_ms > 0 ? evict_idle_ms : CTLSRV_EVICT_IDLE_MS;
}

const char *
ctlsrv_path(const ctlsrv_t *srv)
{
    return srv->path;
}

void
ctlsrv_set_topics(ctlsrv_t *srv, const char *const *names, size_t n)
{
    srv->topic_names = names;
    srv->n_topics = n < 64 ? n : 64;
}

void
ctlsrv_set_sub_max_output(ctlsrv_t *srv, size_t bytes)
{
    srv->sub_max_output = bytes > 0 ? bytes : CTLSRV_SUB_MAX_OUTPUT;
}

bool
ctlsrv_wants(const ctlsrv_t *srv, unsigned topic)
{
    if (srv == NULL || srv->n_subscribers == 0 || topic >= 64)
        return false;
    for (const ctl_conn_t *c = srv->clients; c != NULL; c = c->next)
        if (c->topics & (UINT64_C(1) << topic))
            return true;
    return false;
}

size_t
ctlsrv_publish(ctlsrv_t *srv, unsigned topic, const char *line, size_t len)
{
    size_t sent = 0;
    if (srv == NULL || srv->n_subscribers == 0 || topic >= 64)
        return 0;
    ctl_conn_t *next = NULL;
    for (ctl_conn_t *c = srv->clients; c != NULL; c = next) {
        next = c->next;
        if (c->closing || !(c->topics & (UINT64_C(1) << topic)))
            continue;
        struct evbuffer *out = bufferevent_get_output(c->bev);
        /* never wait for a subscriber: one this far behind is dropped */
        if (evbuffer_get_length(out) + len + 1 > srv->sub_max_output) {
            srv->sub_dropped++;
            srv->sub_unlogged++;
            conn_free(c);
            continue;
        }
        evbuffer_add(out, line, len);
        evbuffer_add(out, "\n", 1);
        sent++;
    }
    if (srv->sub_unlogged > 0)
        event_active(srv->drop_ev, EV_TIMEOUT, 0);
    return sent;
}

size_t
ctlsrv_subscriber_count(const ctlsrv_t *srv)
{
    return srv->n_subscribers;
}

uint64_t
ctlsrv_subscribers_dropped(const ctlsrv_t *srv)
{
    return srv->sub_dropped;
}
