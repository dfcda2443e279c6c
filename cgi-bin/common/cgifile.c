/* cgifile.c: answers sent by the web server from a file (cgifile.h): one
 * new file per body, written at once or piece by piece and never
 * rewritten once answered with (the server may be sending it), named
 * after the process, removed a while after it is released, and the files
 * a dead process of the same program left behind removed at start. */
#include "config.h"

#include "common/cgifile.h"

#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/xalloc.h"

/* The web server opens the file when it reads the answer's headers, a
 * moment after they are written; a released file stays this long. */
#define LINGER_MS 250
#define PREFIX "body-"

typedef struct {
    char *path;
    int64_t at_ms;
} released_t;

static const char *dir;
static bool checked;
static unsigned long long seq;
static released_t *released;
static size_t n_released, cap_released;

/* clean_dead: the files of processes that are gone. */
static void
clean_dead(void)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid;
        if (sscanf(e->d_name, PREFIX "%ld-", &pid) != 1 || pid <= 0)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
}

bool
cgifile_enabled(void)
{
    if (!checked) {
        checked = true;
        const char *d = getenv("MULETEER_XSENDFILE_DIR");
        if (d != NULL && d[0] == '/') {
            mkdir(d, 0750); /* the first process creates it */
            dir = d;
            clean_dead();
        }
    }
    return dir != NULL;
}

struct cgifile {
    char *path;
    int fd;
};

cgifile_t *
cgifile_open(void)
{
    if (!cgifile_enabled())
        return NULL;
    char *path = xasprintf("%s/" PREFIX "%ld-%llu.json", dir, (long)getpid(), ++seq);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
        log_warn("%s: %s; answering without it", path, strerror(errno));
        free(path);
        return NULL;
    }
    cgifile_t *f = xcalloc(1, sizeof *f);
    f->path = path;
    f->fd = fd;
    return f;
}

/* write_all: body's bytes to fd (body unchanged); false on an error. */
static bool
write_all(int fd, struct evbuffer *body)
{
    int n = evbuffer_peek(body, -1, NULL, NULL, 0);
    struct evbuffer_iovec *v = xcalloc(n > 0 ? (size_t)n : 1, sizeof *v);
    evbuffer_peek(body, -1, NULL, v, n);
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        const char *p = v[i].iov_base;
        size_t left = v[i].iov_len;
        while (left > 0) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                ok = false;
                break;
            }
            p += w;
            left -= (size_t)w;
        }
    }
    free(v);
    return ok;
}

int
cgifile_append(cgifile_t *f, struct evbuffer *body)
{
    if (!write_all(f->fd, body)) {
        log_warn("%s: %s", f->path, strerror(errno));
        return -1;
    }
    evbuffer_drain(body, evbuffer_get_length(body));
    return 0;
}

char *
cgifile_finish(cgifile_t *f)
{
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0) {
        log_warn("%s: %s; answering without it", f->path, strerror(errno));
        cgifile_abandon(f);
        return NULL;
    }
    char *path = f->path;
    free(f);
    return path;
}

void
cgifile_abandon(cgifile_t *f)
{
    if (f == NULL)
        return;
    if (f->fd >= 0)
        close(f->fd);
    unlink(f->path);
    free(f->path);
    free(f);
}

char *
cgifile_write(struct evbuffer *body)
{
    cgifile_t *f = cgifile_open();
    if (f == NULL)
        return NULL;
    if (!write_all(f->fd, body)) {
        log_warn("%s: %s; answering without it", f->path, strerror(errno));
        cgifile_abandon(f);
        return NULL;
    }
    return cgifile_finish(f);
}

void
cgifile_answer(http_response_t *resp, const char *path)
{
    struct evbuffer *b = http_response_body(resp);
    evbuffer_drain(b, evbuffer_get_length(b));
    http_response_set_header(resp, "X-Sendfile", path);
}

void
cgifile_answer_ranges(http_response_t *resp, const char *path, const cgifile_range_t *r,
                      size_t n)
{
    struct evbuffer *b = http_response_body(resp);
    evbuffer_drain(b, evbuffer_get_length(b));
    /* lighttpd's X-Sendfile2: "<url-encoded path> <first>-<last>", comma
     * separated */
    struct evbuffer *h = evbuffer_new();
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            evbuffer_add(h, ", ", 2);
        for (const char *p = path; *p != '\0'; p++) {
            unsigned char c = (unsigned char)*p;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                strchr("/._-", c) != NULL)
                evbuffer_add(h, p, 1);
            else
                evbuffer_add_printf(h, "%%%02X", c);
        }
        evbuffer_add_printf(h, " %zu-%zu", r[i].off, r[i].off + r[i].len - 1);
    }
    evbuffer_add(h, "", 1);
    http_response_set_header(resp, "X-Sendfile2", (const char *)evbuffer_pullup(h, -1));
    evbuffer_free(h);
}

void
cgifile_sweep(int64_t now_ms)
{
    size_t keep = 0;
    for (size_t i = 0; i < n_released; i++) {
        if (now_ms - released[i].at_ms >= LINGER_MS) {
            unlink(released[i].path);
            free(released[i].path);
        } else {
            released[keep++] = released[i];
        }
    }
    n_released = keep;
}

void
cgifile_release(char *path, int64_t now_ms)
{
    if (path == NULL)
        return;
    if (n_released == cap_released) {
        cap_released = cap_released > 0 ? cap_released * 2 : 16;
        released = xrealloc(released, cap_released * sizeof *released);
    }
    released[n_released++] = (released_t){ path, now_ms };
    cgifile_sweep(now_ms);
}
