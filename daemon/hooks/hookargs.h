/* hookargs.h: what a hook program is given (docs/hooks.md): the command
 * of a hook_* key split into an argument vector without a shell, the
 * %-substitutions made in each argument, and the MULETEER_* environment.
 * Pure: unit-tested in tests/unit/check_hookargs.c. */
#ifndef MT_DAEMON_HOOKARGS_H
#define MT_DAEMON_HOOKARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/argv.h"
#include "util/error.h"

/* The most arguments a command may have. */
#define HOOK_MAX_ARGS MT_ARGV_MAX

/* An event as the hooks see it; the strings are the caller's (NULL: not
 * known, given as ""). */
typedef struct {
    const char *event; /* "added", "completed", "failed", "disk_full" */
    int64_t time;      /* Unix time */
    const char *hash;  /* 32 lower-case hex digits */
    const char *name;
    uint64_t size;
    const char *path;     /* completed: the file; else the part file's data */
    const char *category; /* "": none */
    const char *added_by;
    const char *error;    /* failed, disk_full: why */
    bool test;            /* fired by `hooks-test` */
} hook_event_t;

/* hook_split: the command's words (util/argv.h's mt_argv_split, at most
 * HOOK_MAX_ARGS): blanks separate words; '...' keeps everything
 * inside; "..." keeps everything but \" and \\, which stand for " and \;
 * outside quotes \ keeps the next character. A new NULL-terminated vector
 * (free with hook_strv_free) of *argc words. MT_ERR_INVALID for an empty
 * command, an unterminated quote, a trailing \ or more than HOOK_MAX_ARGS
 * words. */
char **hook_split(const char *cmd, size_t *argc, mt_error_t **err);

/* hook_subst: arg with each %-sequence replaced: %e event, %h hash, %n
 * name, %s size, %p path, %c category, %u added by, %r error, %t time
 * (Unix), %% a '%'; any other % stays as it is. One argument stays one
 * argument whatever the values hold. Caller frees. */
char *hook_subst(const char *arg, const hook_event_t *ev);

/* hook_argv: hook_split then hook_subst on every word; NULL with err as
 * hook_split's. Free with hook_strv_free. */
char **hook_argv(const char *cmd, const hook_event_t *ev, mt_error_t **err);

/* hook_env: the environment of a hook program: base (NULL-terminated,
 * e.g. environ) without any MULETEER_* variable, then MULETEER_EVENT,
 * MULETEER_HASH, MULETEER_NAME, MULETEER_SIZE, MULETEER_PATH,
 * MULETEER_CATEGORY, MULETEER_ADDED_BY, MULETEER_ERROR, MULETEER_TIME and
 * MULETEER_TEST (1 for a test event, else 0). Free with hook_strv_free. */
char **hook_env(const hook_event_t *ev, char *const *base);

/* hook_strv_free: a vector of these functions; accepts NULL. */
void hook_strv_free(char **v);

#endif
