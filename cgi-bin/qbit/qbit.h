/* qbit.h: internals of cgi-bin/qbit, the qBittorrent-Web-API-compatible
 * /api/v2 program: its context, the helpers its handlers share (database,
 * daemon, parameters, answers) and the handlers of its route table. */
#ifndef MT_CGI_QBIT_H
#define MT_CGI_QBIT_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "common/cgienv.h"
#include "http/http.h"
#include "qbit/logic.h"
#include "webauth/auth.h"

/* What Muleteer claims to be (see ../shared/arr-contract.md §1.8): the
 * qBittorrent 5.0 line, whose state and action names it uses. */
#define QBIT_APP_VERSION "v5.0.0"
#define QBIT_WEBAPI_VERSION "2.11.2"

/* eD2K parts play the role of pieces in properties and files. */
#define QBIT_PIECE_SIZE 9728000

/* Route flags: who may call a route. */
enum {
    QBIT_AUTH = 0,   /* a session, HTTP Basic or the API key */
    QBIT_PUBLIC = 1, /* no login needed (auth/login only) */
};

/* The 403 text qBittorrent gives a banned address (transcripts 45-46). */
#define QBIT_BANNED "Your IP address has been banned after too many failed authentication attempts."

typedef struct {
    cgienv_t *env;
    webauth_conf_t auth;
    /* per request, reset by the before hook */
    char *user;         /* who is calling ("api" for the API key) */
    ctl_client_t *ctl;  /* the daemon, connected on first use */
    int64_t deadline;   /* monotonic ms: how long qbit_wait_db may wait */
} qbit_t;

/* How long a change may wait for PostgreSQL to show it (see qbit_wait_db). */
#define QBIT_WAIT_MS 3000

/* Sets the headers real qBittorrent puts on every API answer. */
void qbit_common_headers(http_response_t *resp);
/* Answers a short text/plain body the way qBittorrent does. */
int qbit_text(http_response_t *resp, int status, const char *text);
/* Answers a JSON value (not consumed). */
int qbit_json(http_response_t *resp, json_object *o);
/* Answers raw JSON text. */
int qbit_json_text(http_response_t *resp, const char *text, size_t len);

/* qbit_db: the database, or NULL after answering 503. */
PGconn *qbit_db(qbit_t *q, http_response_t *resp);
/* qbit_node: this daemon's node name (rows of other nodes are not ours). */
const char *qbit_node(qbit_t *q);
/* qbit_query: a query returning rows, $1 bound to the node and $2... to
 * params (n of them, at most 7). NULL after answering 503 (database down
 * or the query failed); the caller PQclears the result. */
PGresult *qbit_query(qbit_t *q, http_response_t *resp, const char *sql, int n,
                     const char *const *params);

/* qbit_call: a control command to the daemon. 0 with *result (may be
 * NULL when not wanted); -1 with *err for the daemon's refusal of the
 * command (err->code tells which: MT_ERR_NOT_FOUND, MT_ERR_EXISTS,
 * MT_ERR_INVALID...); -2 after answering: 503 when the daemon cannot be
 * reached (or does not answer in time), 400 when the request could not be
 * read at all (parse_error, invalid_request, line_too_long: e.g. a
 * parameter too long for a control line). */
int qbit_call(qbit_t *q, http_response_t *resp, const char *cmd, json_object *args,
              json_object **result, mt_error_t **err);

/* qbit_wait_db: waits (polling, until the request's deadline) for sql, a
 * query over $1 = the node and params, to return a row: a change the
 * daemon made reaches PostgreSQL within about a second, and a client that
 * reads right after changing (Sonarr creates a category, then lists them)
 * must see it. Returns quietly on timeout or a database error: the change
 * was made either way. */
void qbit_wait_db(qbit_t *q, const char *sql, const char *const *params, int n);

/* qbit_param: a required parameter, or NULL after answering 400. */
const char *qbit_param(http_request_t *req, http_response_t *resp, const char *name);
/* qbit_hashes: parses the required `hashes` parameter; -1 after answering
 * 400 (missing, empty or more than 100). With "all", out->md4 gets every
 * download of this node (up to the array size per call: see handlers). */
int qbit_hashes(http_request_t *req, http_response_t *resp, qbit_hashes_t *out);
/* qbit_all_hashes: every MD4 of this node's downloads (completed too);
 * NULL after answering 503. The caller frees with PQclear. */
PGresult *qbit_all_hashes(qbit_t *q, http_response_t *resp);

/* app.c */
int qbit_app_version(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_app_webapi_version(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_app_build_info(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_app_preferences(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_app_default_save_path(http_request_t *req, http_response_t *resp, void *ctx);

/* auth.c */
int qbit_auth_login(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_auth_logout(http_request_t *req, http_response_t *resp, void *ctx);

/* info.c: reads */
int qbit_torrents_info(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_properties(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_files(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_categories(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_tags(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_transfer_info(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_sync_maindata(http_request_t *req, http_response_t *resp, void *ctx);

/* actions.c: mutations, through the daemon */
int qbit_torrents_add(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_delete(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_pause(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_resume(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_create_category(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_edit_category(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_remove_categories(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_set_category(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_set_share_limits(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_top_prio(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_bottom_prio(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_increase_prio(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_decrease_prio(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_set_force_start(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_add_tags(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_remove_tags(http_request_t *req, http_response_t *resp, void *ctx);

#endif
