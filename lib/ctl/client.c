/* client.c: blocking control-socket client with a per-call deadline; reads
 * replies line by line and never trusts their size. */
#include "config.h"

#include "ctl/client.h"
#include "util/conf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct ctl_client {
    int fd;
    char *path;      /* to reconnect after the daemon closed an idle connection */
    int timeout_ms;
    long long next_id;
    char *buf; /* received bytes not yet consumed */
    size_t len, cap;
    ctl_errcode_t last_error;
};

static long long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until deadline; 0 ready, -1 error
 * (err set). */
static int
wait_fd(int fd, short events, long long deadline, mt_error_t **err)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            mt_error_set(err, MT_ERR_TIMEOUT, "the daemon did not answer in time");
            return -1;
        }
        struct pollfd p = { .fd = fd, .events = events };
        int n = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            mt_error_set(err, MT_ERR_IO, "poll: %s", strerror(errno));
            return -1;
        }
        if (n > 0)
            return 0;
    }
}

/* open_socket: a connected, non-blocking socket to the daemon at path, or
 * -1 with err set. */
static int
open_socket(const char *path, int timeout_ms, mt_error_t **err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        mt_error_set(err, MT_ERR_INVALID, "socket path too long (%zu bytes, at most %zu): %s",
                     strlen(path), sizeof sa.sun_path - 1, path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        mt_error_set(err, MT_ERR_IO, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno == EAGAIN || errno == EINPROGRESS) {
            /* A Unix listener with a full backlog; wait for room. */
            if (wait_fd(fd, POLLOUT, now_ms() + timeout_ms, err) == 0) {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                if (soerr == 0)
                    return fd;
                errno = soerr;
            } else {
                close(fd);
                return -1;
            }
        }
        if (errno == EACCES || errno == EPERM) {
            /* The daemon may well be running: this user may not use it. */
            mt_error_set(err, MT_ERR_PERMISSION,
                         "permission denied on the control socket %s (it is for muleteerd's "
                         "user and group: run as that user or join its group)",
                         path);
        } else {
            mt_error_set(err, MT_ERR_UNAVAILABLE,
                         "muleteerd is not running (cannot connect to %s: %s)", path,
                         strerror(errno));
        }
        close(fd);
        return -1;
    }
    return fd;
}

ctl_client_t *
ctl_client_connect(const char *path, int timeout_ms, mt_error_t **err)
{
    int fd = open_socket(path, timeout_ms, err);
    if (fd < 0)
        return NULL;
    ctl_client_t *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    c->path = xstrdup(path);
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    c->next_id = 1;
    return c;
}

void
ctl_client_free(ctl_client_t *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->path);
    free(c->buf);
    free(c);
}

static int
send_all(ctl_client_t *c, const char *data, size_t len, long long deadline, mt_error_t **err)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(c->fd, POLLOUT, deadline, err) != 0)
                return -1;
            continue;
        }
        mt_error_set(err, MT_ERR_UNAVAILABLE, "lost the connection to muleteerd: %s",
                     strerror(errno));
        return -1;
    }
    return 0;
}

/* Reads one line into a new string (without the newline). */
static char *
read_line(ctl_client_t *c, size_t *len_out, long long deadline, mt_error_t **err)
{
    size_t scanned = 0; /* bytes of c->buf known to hold no newline */
    for (;;) {
        char *nl = c->len > scanned ? memchr(c->buf + scanned, '\n', c->len - scanned) : NULL;
        scanned = c->len;
        if (nl != NULL) {
            size_t l = (size_t)(nl - c->buf);
            char *line = xmalloc(l + 1); /* may hold NULs: the parser checks */
            memcpy(line, c->buf, l);
            line[l] = '\0';
            memmove(c->buf, nl + 1, c->len - l - 1);
            c->len -= l + 1;
            *len_out = l;
            return line;
        }
        if (c->len >= CTL_MAX_REPLY) {
            mt_error_set(err, MT_ERR_PROTOCOL, "reply longer than %d bytes", CTL_MAX_REPLY - 1);
            return NULL;
        }
        if (c->cap - c->len < 4096) {
            c->cap = c->cap ? c->cap * 2 : 8192;
            c->buf = xrealloc(c->buf, c->cap);
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        if (n == 0) {
            mt_error_set(err, MT_ERR_UNAVAILABLE, "muleteerd closed the connection");
            return NULL;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_fd(c->fd, POLLIN, deadline, err) != 0)
                return NULL;
            continue;
        }
        mt_error_set(err, MT_ERR_UNAVAILABLE, "lost the connection to muleteerd: %s",
                     strerror(errno));
        return NULL;
    }
}

/* closed_while_idle: the daemon closed the connection while no call was
 * waiting (its idle timeout, or room made for a new client): nothing was
 * sent since, so the next request can go on a new connection. */
static bool
closed_while_idle(ctl_client_t *c)
{
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    if (c->len > 0 || poll(&p, 1, 0) <= 0)
        return false;
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* refuse: a request that is not sent, as the daemon would refuse it. */
static int
refuse(ctl_client_t *c, ctl_errcode_t code, const mt_error_t *why, mt_error_t **err)
{
    c->last_error = code;
    mt_error_set(err, ctl_errcode_to_mt(code), "%s", why->message);
    return -1;
}

int
ctl_client_call(ctl_client_t *c, const char *cmd, json_object *args,
                json_object **result, mt_error_t **err)
{
    *result = NULL;
    c->last_error = 0;
    if (c->fd < 0) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "not connected to muleteerd");
        return -1;
    }
    /* What the daemon would refuse is refused here, at once and with the
     * argument named (docs/control-protocol.md). */
    mt_error_t *why = NULL;
    if (ctl_check_text(args, &why) != 0) {
        int rc = refuse(c, CTL_E_INVALID_ARGS, why, err);
        mt_error_free(why);
        return rc;
    }
    char *line = ctl_request_encode(c->next_id, cmd, args);
    if (strlen(line) > CTL_MAX_LINE) { /* the line and its newline */
        mt_error_set(&why, MT_ERR_TOO_LARGE, "request longer than %d bytes", CTL_MAX_LINE - 1);
        int rc = refuse(c, CTL_E_LINE_TOO_LONG, why, err);
        mt_error_free(why);
        free(line);
        return rc;
    }
    if (closed_while_idle(c)) {
        int fd = open_socket(c->path, c->timeout_ms, err);
        if (fd < 0) {
            free(line);
            goto broken;
        }
        close(c->fd);
        c->fd = fd;
    }
    long long deadline = now_ms() + c->timeout_ms;
    long long id = c->next_id++;
    int rc = send_all(c, line, strlen(line), deadline, err);
    free(line);
    if (rc != 0)
        goto broken;
    for (;;) {
        size_t len;
        char *reply_line = read_line(c, &len, deadline, err);
        if (reply_line == NULL)
            goto broken;
        ctl_reply_t *reply = NULL;
        rc = ctl_reply_parse(reply_line, len, &reply, err);
        free(reply_line);
        if (rc != 0)
            goto broken;
        json_object *rid = ctl_reply_id(reply);
        /* An error without an id is the daemon refusing a line before it
         * could read the id (not JSON, invalid UTF-8, too long). Only one
         * request is ever waiting on this connection: it is ours. */
        bool idless_error = rid == NULL && ctl_reply_is_error(reply);
        if (!idless_error && (rid == NULL || !json_object_is_type(rid, json_type_int) ||
                              json_object_get_int64(rid) != id)) {
            /* Not ours (an event, or a reply to an abandoned call). */
            ctl_reply_free(reply);
            continue;
        }
        if (ctl_reply_is_error(reply)) {
            c->last_error = ctl_reply_error_code(reply);
            mt_error_set(err, ctl_errcode_to_mt(c->last_error), "%s",
                         ctl_reply_error_message(reply));
            ctl_reply_free(reply);
            return -1;
        }
        *result = ctl_reply_take_result(reply);
        ctl_reply_free(reply);
        return 0;
    }
broken:
    /* After a timeout or a framing error the stream position is unknown. */
    close(c->fd);
    c->fd = -1;
    return -1;
}

ctl_errcode_t
ctl_client_last_error(const ctl_client_t *c)
{
    return c->last_error;
}

char *
ctl_socket_path(void)
{
    /* The file in the state directory, not $MULETEER_CONF
     * (docs/configuration.md). */
    const char *var = conf_var_dir();
    char *conf_file = xasprintf("%s/muleteer.conf", var);
    char *path = NULL;
    if (access(conf_file, R_OK) == 0) {
        conf_t *conf = conf_new();
        if (conf_load_file(conf, conf_file, NULL) == 0)
            path = xstrdup(conf_get_str(conf, "control_socket"));
        conf_free(conf);
    }
    free(conf_file);
    if (path == NULL)
        path = xasprintf("%s/run/muleteerd.sock", var);
    return path;
}
