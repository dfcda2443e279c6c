/* log.c: the process-wide logger. Each message is formatted in full and
 * written with one write(2), so lines from threads never interleave; a
 * message repeated word for word is written once and then counted, as
 * syslogd does ("last message repeated N times"). */
#include "config.h"

#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
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

/* The longest line written; longer messages are cut. */
#define LOG_LINE_MAX 2048
#define LOG_REPEAT_WINDOW_MS_DEFAULT 10000

/* Repeat reduction: the last message written (level and text, without the
 * timestamp), and how many identical ones came since without being
 * written. One message is remembered, so memory stays bounded whatever is
 * logged; a summary is written when another message comes, and at least
 * once per window while the repeats go on (log_tick writes it when they
 * have stopped). All under log_lock. */
static struct {
    bool valid;
    log_level_t level;
    size_t len;
    char text[LOG_LINE_MAX];
    unsigned long long repeats;
    struct timespec since; /* monotonic: when written, or summarised last */
} log_last;
static long log_repeat_window_ms = LOG_REPEAT_WINDOW_MS_DEFAULT;
static log_hook_fn log_hook; /* under log_lock */
static void *log_hook_ctx;

static int
open_file(const char *path, mt_error_t **err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        mt_error_set(err, MT_ERR_IO, "cannot open log file %s: %s", path,
                     strerror(errno));
    return fd;
}

/* The line prefix: UTC timestamp, program, pid and level. */
static size_t
format_prefix(char *buf, size_t cap, log_level_t level)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s[%ld] %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000), log_ident, (long)getpid(),
                     level_names[level]);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Writes len bytes to the log; the caller holds log_lock. */
static void
write_locked(const char *line, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(log_fd, line + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

static long
ms_since(const struct timespec *t, const struct timespec *now)
{
    return (long)(now->tv_sec - t->tv_sec) * 1000 + (now->tv_nsec - t->tv_nsec) / 1000000;
}

/* Writes the count of the repeats not written, if any; caller holds
 * log_lock. */
static void
flush_repeats_locked(const struct timespec *now)
{
    if (!log_last.valid || log_last.repeats == 0)
        return;
    char line[256];
    size_t n = format_prefix(line, sizeof line, log_last.level);
    int m = snprintf(line + n, sizeof line - n, "last message repeated %llu time%s\n",
                     log_last.repeats, log_last.repeats == 1 ? "" : "s");
    if (m > 0)
        write_locked(line, n + (size_t)m < sizeof line ? n + (size_t)m : sizeof line - 1);
    log_last.repeats = 0;
    log_last.since = *now;
}

/* Forgets the last message (a new destination), writing its count first. */
static void
reset_repeats_locked(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    flush_repeats_locked(&now);
    log_last.valid = false;
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
    reset_repeats_locked();
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
            reset_repeats_locked();
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
    reset_repeats_locked();
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
log_set_repeat_window(long ms)
{
    pthread_mutex_lock(&log_lock);
    reset_repeats_locked();
    log_repeat_window_ms = ms > 0 ? ms : 0;
    pthread_mutex_unlock(&log_lock);
}

void
log_tick(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&log_lock);
    if (log_last.valid && log_last.repeats > 0 &&
        ms_since(&log_last.since, &now) >= log_repeat_window_ms)
        flush_repeats_locked(&now);
    pthread_mutex_unlock(&log_lock);
}

/* A repeat of the last message is counted instead of written; the count is
 * written once a window has passed. Returns whether msg was one. The
 * caller holds log_lock. */
static bool
is_repeat_locked(log_level_t level, const char *text, size_t len, const struct timespec *now)
{
    if (log_repeat_window_ms == 0)
        return false;
    if (log_last.valid && log_last.level == level && log_last.len == len &&
        memcmp(log_last.text, text, len) == 0) {
        log_last.repeats++;
        if (ms_since(&log_last.since, now) >= log_repeat_window_ms)
            flush_repeats_locked(now);
        return true;
    }
    flush_repeats_locked(now);
    log_last.valid = true;
    log_last.level = level;
    log_last.len = len;
    memcpy(log_last.text, text, len);
    log_last.repeats = 0;
    log_last.since = *now;
    return false;
}

void
log_msg(log_level_t level, const char *fmt, ...)
{
    if (level > log_level)
        return;

    char line[LOG_LINE_MAX];
    size_t n = format_prefix(line, sizeof line, level);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    size_t len = n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2; /* truncated */
    /* Control characters from untrusted text never reach the log raw. */
    for (size_t i = n; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f)
            line[i] = '?';
    }
    line[len++] = '\n';

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&log_lock);
    bool written = !is_repeat_locked(level, line + n, len - n, &now);
    if (written)
        write_locked(line, len);
    log_hook_fn hook = written ? log_hook : NULL;
    void *hook_ctx = log_hook_ctx;
    pthread_mutex_unlock(&log_lock);
    if (hook != NULL)
        hook(hook_ctx, level, line + n, len - n - 1);
}

void
log_set_hook(log_hook_fn fn, void *ctx)
{
    pthread_mutex_lock(&log_lock);
    log_hook = fn;
    log_hook_ctx = ctx;
    pthread_mutex_unlock(&log_lock);
}
