/* cgienv.h: what every FastCGI program needs besides lib/http: its
 * configuration (muleteer.conf), a PostgreSQL connection opened on demand
 * and kept across requests, and the daemon's control socket. */
#ifndef MT_CGI_CGIENV_H
#define MT_CGI_CGIENV_H

#include <libpq-fe.h>

#include "ctl/client.h"
#include "util/conf.h"
#include "util/error.h"

typedef struct cgienv cgienv_t;

/* cgienv_new: loads the configuration from $MULETEER_CONF, else
 * $MULETEER_VAR/muleteer.conf, else var/muleteer.conf. Never fails: a
 * configuration error is kept and reported by cgienv_error() so that each
 * request can answer it in its route's format (instead of the process
 * exiting and the web server respawning it in a loop). */
cgienv_t *cgienv_new(const char *program);
void cgienv_free(cgienv_t *env);

/* cgienv_error: the configuration error, or NULL when it loaded. */
const mt_error_t *cgienv_error(const cgienv_t *env);
/* cgienv_conf: the configuration (defaults when it failed to load). */
const conf_t *cgienv_conf(const cgienv_t *env);

/* cgienv_db: the database connection, (re)connected when needed; NULL with
 * MT_ERR_UNAVAILABLE when PostgreSQL cannot be reached. Owned by env. */
PGconn *cgienv_db(cgienv_t *env, mt_error_t **err);

/* cgienv_ctl: a new connection to the daemon for one request; NULL with
 * MT_ERR_UNAVAILABLE when the daemon is not running. The caller frees it
 * with ctl_client_free. */
ctl_client_t *cgienv_ctl(cgienv_t *env, mt_error_t **err);

#endif
