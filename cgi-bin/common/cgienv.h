/* cgienv.h: what every FastCGI program needs besides lib/http: its
 * configuration (muleteer.conf), a PostgreSQL connection opened on demand
 * and kept across requests, the daemon's control socket, the way the
 * program answers a failure in its route's format, and the state one
 * request keeps (its daemon connection, its wait deadline) until
 * cgienv_request_end. */
#ifndef MT_CGI_CGIENV_H
#define MT_CGI_CGIENV_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctl/client.h"
#include "http/response.h"
#include "util/conf.h"
#include "util/error.h"

typedef struct cgienv cgienv_t;

/* How a program answers a failure in its route's format (qBittorrent's
 * plain text, a JSON error object, Torznab's <error>): an HTTP status and
 * a short message for people ("Database unavailable"). The common helpers
 * (cgidb, cgictl) answer through it. Returns what a handler returns. */
typedef int (*cgienv_answer_fn)(http_response_t *resp, int status, const char *message);

/* cgienv_new: loads the configuration from $MULETEER_CONF, else
 * $MULETEER_VAR/muleteer.conf, else var/muleteer.conf. Never fails: a
 * configuration error is kept and reported by cgienv_error() so that each
 * request can answer it in its route's format (instead of the process
 * exiting and the web server respawning it in a loop). answer may be
 * NULL: failures are then answered as text/plain. */
cgienv_t *cgienv_new(const char *program, cgienv_answer_fn answer);
/* cgienv_request_begin: notices a changed configuration file (one stat()
 * per call: its inode, size and times) and loads it, so that a new
 * web_password (muleteer passwd) or a hand edit takes effect without a
 * restart. A program's before hook calls it first, before anything reads
 * the configuration. Returns true when the configuration was replaced:
 * what the program derived from the old one (pointers into it
 * included) must be derived again from cgienv_conf. A file that does not
 * load leaves the last good configuration in use (logged), or, when
 * none ever loaded, becomes the error cgienv_error reports; a missing
 * file changes nothing. The database connection is dropped when the
 * database setting changed. */
bool cgienv_request_begin(cgienv_t *env);

/* cgienv_free: also ends a request still open; accepts NULL. */
void cgienv_free(cgienv_t *env);

/* cgienv_error: the configuration error, or NULL when it loaded. */
const mt_error_t *cgienv_error(const cgienv_t *env);
/* cgienv_conf: the configuration (defaults when it failed to load); valid
 * until cgienv_request_begin returns true. */
const conf_t *cgienv_conf(const cgienv_t *env);
/* cgienv_node: this daemon's node name (rows of other nodes are not ours). */
const char *cgienv_node(const cgienv_t *env);

/* cgienv_answer: answers status and message through the program's answer
 * function. Returns its value. */
int cgienv_answer(const cgienv_t *env, http_response_t *resp, int status, const char *message);
/* cgienv_answer_conf_error: when the configuration did not load, answers
 * 500 with the error (it names the key or the file) and returns true; a
 * program's before hook calls it first. */
bool cgienv_answer_conf_error(const cgienv_t *env, http_response_t *resp);

/* cgienv_db: the database connection, (re)connected when needed; NULL with
 * MT_ERR_UNAVAILABLE when PostgreSQL cannot be reached. Owned by env. */
PGconn *cgienv_db(cgienv_t *env, mt_error_t **err);

/* cgienv_ctl: a new connection to the daemon, every call on it bounded by
 * CGIENV_CTL_TIMEOUT_MS; NULL with MT_ERR_UNAVAILABLE when the daemon is
 * not running. The caller frees it with ctl_client_free. */
ctl_client_t *cgienv_ctl(cgienv_t *env, mt_error_t **err);
#define CGIENV_CTL_TIMEOUT_MS 10000

/* ---- the current request ---- */

/* cgienv_request_ctl: the request's connection to the daemon, made on
 * first use (cgienv_ctl) and kept until cgienv_request_end; NULL as
 * cgienv_ctl. Owned by env. */
ctl_client_t *cgienv_request_ctl(cgienv_t *env, mt_error_t **err);
/* cgienv_request_ctl_drop: closes the request's daemon connection (it
 * broke); the next cgienv_request_ctl makes a new one. */
void cgienv_request_ctl_drop(cgienv_t *env);

/* How long, in all, one request's waits for its changes to show in
 * PostgreSQL may last (cgidb_wait). */
#define CGIENV_WAIT_MS 3000
/* cgienv_request_deadline: the monotonic time (clock_mono_ms) after which
 * the request waits no more: CGIENV_WAIT_MS after its first call. */
int64_t cgienv_request_deadline(cgienv_t *env);

/* cgienv_request_end: frees what the request kept (its daemon
 * connection, its deadline). A program calls it from its http_app_t
 * on_request_end hook, so it runs after every request. */
void cgienv_request_end(cgienv_t *env);

#endif
