/* log.c: the process-wide logger. Each message is formatted in full and
 * written with one write(2), so lines from threads never interleave. */
#include "config.h"

#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = STDERR_FILENO;
static char *log_path;
static log_level_t log_level = LOG_LEVEL_INFO;
static char log_ident[32] = "muleteer";

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static int
open_file(const char *path, mt_error_t **err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        mt_error_set(err, MT_ERR_IO, "cannot open log file %s: %s", path,
                     strerror(errno));
    return fd;
}

int
log_open(const char *path, mt_error_t **err)
{
    int fd = STDERR_FILENO;
    if (path != NULL && *path != '\0') {
        fd = open_file(path, err);
        if (fd < 0)
            return -1;
    }
    pthread_mutex_lock(&log_lock);
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = fd;
    free(log_path);
    log_path = (path != NULL && *path != '\0') ? xstrdup(path) : NULL;
    pthread_mutex_unlock(&log_lock);
    return 0;
}

int
log_reopen(mt_error_t **err)
{
    pthread_mutex_lock(&log_lock);
    int rc = 0;
    if (log_path != NULL) {
        int fd = open_file(log_path, err);
        if (fd < 0) {
            rc = -1;
        } else {
            close(log_fd);
            log_fd = fd;
        }
    }
    pthread_mutex_unlock(&log_lock);
    return rc;
}

void
log_close(void)
{
    pthread_mutex_lock(&log_lock);
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = STDERR_FILENO;
    free(log_path);
    log_path = NULL;
    pthread_mutex_unlock(&log_lock);
}

void
log_set_level(log_level_t level)
{
    log_level = level;
}

log_level_t
log_get_level(void)
{
    return log_level;
}

int
log_level_parse(const char *s, log_level_t *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void
log_set_ident(const char *ident)
{
    snprintf(log_ident, sizeof log_ident, "%s", ident);
}

void
log_msg(log_level_t level, const char *fmt, ...)
{
    if (level > log_level)
        return;

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);

    char line[2048];
    int n = snprintf(line, sizeof line,
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s[%ld] %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), log_ident,
                     (long)getpid(), level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2; /* truncated */
    /* Control characters from untrusted text never reach the log raw. */
    for (size_t i = (size_t)n; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f)
            line[i] = '?';
    }
    line[len++] = '\n';

    pthread_mutex_lock(&log_lock);
    ssize_t off = 0;
    while ((size_t)off < len) {
        ssize_t w = write(log_fd, line + off, len - (size_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += w;
    }
    pthread_mutex_unlock(&log_lock);
}
