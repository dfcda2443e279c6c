/* argv.h: a command line split into words as a POSIX shell splits them,
 * with no expansion at all: what a configuration value holds never
 * becomes syntax. Shared by the daemon's hooks (which run the words) and
 * the run-time configuration checks (which refuse a line that does not
 * split). */
#ifndef MT_UTIL_ARGV_H
#define MT_UTIL_ARGV_H

#include <stddef.h>

#include "util/error.h"

/* The most words a command line may have. */
#define MT_ARGV_MAX 64

/* mt_argv_split: cmd's words: blanks separate words; '...' keeps
 * everything inside; "..." keeps everything but \" and \\, which stand
 * for " and \; outside quotes \ keeps the next character. A new
 * NULL-terminated vector (free with mt_strv_free) of *argc words
 * (argc may be NULL). MT_ERR_INVALID for an empty command or an empty
 * first word, an unterminated quote, a trailing \ or more than max
 * words. */
char **mt_argv_split(const char *cmd, size_t max, size_t *argc, mt_error_t **err);

/* mt_strv_free: a NULL-terminated vector of allocated strings; accepts
 * NULL. */
void mt_strv_free(char **v);

#endif
