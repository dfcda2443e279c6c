/* confrt.h: the configuration keys that may change while the programs run
 * (the daemon's config-set command, PATCH /api/config): which they are,
 * their kind, and the checks a value passes before anything is changed
 * or written. */
#ifndef MT_UTIL_CONFRT_H
#define MT_UTIL_CONFRT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

typedef enum {
    CONFRT_INT,  /* an integer in conf.c's range */
    CONFRT_BOOL, /* yes or no */
    CONFRT_NAME, /* one path segment: a URL name (torznab_name) */
    CONFRT_DIRS, /* ':'-separated absolute directories */
    CONFRT_CMD,  /* a command line (util/argv.h), or empty: none */
    CONFRT_URLS, /* http(s) addresses separated by blanks or commas */
    CONFRT_SOURCE, /* "", an absolute file path or an http(s) URL (ipfilter) */
    CONFRT_SCHED, /* the limit schedule's rules (util/sched.h) */
    CONFRT_PORTFWD, /* off, upnp, natpmp or auto (port_forwarding) */
} confrt_kind_t;

typedef struct {
    const char *key;  /* the configuration key (conf.c) */
    confrt_kind_t kind;
} confrt_key_t;

/* confrt_keys: the run-time keys, n of them; static, in a stable order. */
const confrt_key_t *confrt_keys(size_t *n);

/* confrt_find: the run-time key named key, or NULL when there is none
 * (an unknown key, or one that needs a restart or is a secret). */
const confrt_key_t *confrt_find(const char *key);

/* confrt_check: value (as the configuration file would hold it) is valid
 * for the run-time key k: conf.c's check, plus those of its kind. The
 * message (MT_ERR_INVALID) starts with the key. */
int confrt_check(const confrt_key_t *k, const char *value, mt_error_t **err);

#endif
