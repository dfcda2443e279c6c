/* log.h: leveled logging to stderr or a file, one line per message with a
 * UTC timestamp; safe to call from any thread. A message identical to the
 * previous one (same level and text) is not written again: it is counted,
 * and "last message repeated N times" is written when another message
 * comes, or once per window (10 s) while the repeats go on, so a loop
 * that logs cannot fill the disk. */
#ifndef MT_UTIL_LOG_H
#define MT_UTIL_LOG_H

#include <stddef.h>

#include "util/error.h"

typedef enum {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
} log_level_t;

/* log_open: sends messages to path (appending), or to stderr when path is
 * NULL or empty. The path is kept so log_reopen() can follow a rotation. */
int log_open(const char *path, mt_error_t **err);
/* log_reopen: reopens the file given to log_open (after logrotate). */
int log_reopen(mt_error_t **err);
void log_close(void);
void log_set_level(log_level_t level);
log_level_t log_get_level(void);
/* log_level_parse: "error", "warn", "info" or "debug"; -1 otherwise. */
int log_level_parse(const char *s, log_level_t *out);
/* log_set_ident: the program name printed on every line. */
void log_set_ident(const char *ident);

/* log_set_repeat_window: how long repeats of one message are only counted
 * before their count is written (milliseconds; 0 writes every message). */
void log_set_repeat_window(long ms);
/* log_tick: writes the count of repeats held back for a window or longer;
 * call it now and then (the daemon does, every second) so the count does
 * not wait for the next message. */
void log_tick(void);

/* A hook that sees every message written (not the repeats held back):
 * its level and text (no prefix, no newline), on the thread that logged,
 * after the line is written. It must not log itself. NULL removes it. */
typedef void (*log_hook_fn)(void *ctx, log_level_t level, const char *text, size_t len);
void log_set_hook(log_hook_fn fn, void *ctx);

void log_msg(log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
