/* qbit.h: internals of cgi-bin/qbit, the qBittorrent-Web-API-compatible
 * /api/v2 program: its context, what its handlers share besides
 * cgi-bin/common (qBittorrent's answers and parameters) and the handlers
 * of its route table. */
#ifndef MT_CGI_QBIT_H
#define MT_CGI_QBIT_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "common/cgictl.h"
#include "common/cgidb.h"
#include "common/cgienv.h"
#include "http/http.h"
#include "qbit/logic.h"
#include "webauth/auth.h"
#include "webauth/caps.h"

/* What Muleteer claims to be (see ../shared/arr-contract.md §1.8): the
 * qBittorrent 5.0 line, whose state and action names it uses. */
#define QBIT_APP_VERSION "v5.0.0"
#define QBIT_WEBAPI_VERSION "2.11.2"

/* eD2K parts play the role of pieces in properties and files;
 * QBIT_PIECE_SIZE_SQL is the same number in SQL text. */
#define QBIT_PIECE_SIZE 9728000
#define QBIT_STR_(x) #x
#define QBIT_STR(x) QBIT_STR_(x)
#define QBIT_PIECE_SIZE_SQL QBIT_STR(QBIT_PIECE_SIZE)

/* Route flags: who may call a route. */
enum {
    QBIT_AUTH = 0,   /* a session, HTTP Basic or the API key */
    QBIT_PUBLIC = 1, /* no login needed (auth/login only) */
};
/* QBIT_NEEDS(caps): a route whose caller needs these capabilities
 * (webauth/caps.h; an admin has them all); others get 403. */
#define QBIT_NEEDS(caps) ((unsigned)(caps) << 1)
#define QBIT_NEEDED(flags) ((uint32_t)((flags) >> 1) & (WEBAUTH_CAPS_ALL | QBIT_CAP_ADMIN))
/* A capability no account lacks but an admin has: settings of the whole
 * client (preferences, the global speed limits) are for admins only, as
 * aMuTorrent's are. */
#define QBIT_CAP_ADMIN (1u << 30)
/* QBIT_EDITS: a route that changes the downloads its hashes name: a
 * caller without edit_all_downloads reaches only the ones it added
 * (qbit_t's owner); the others are skipped as unknown hashes are. Read
 * routes reach what view_all_downloads allows. A bit above the shifted
 * capabilities. */
#define QBIT_EDITS (1u << 24)

/* The 403 text qBittorrent gives a banned address (transcripts 45-46). */
#define QBIT_BANNED "Your IP address has been banned after too many failed authentication attempts."

typedef struct {
    cgienv_t *env; /* configuration, database, daemon (cgi-bin/common) */
    webauth_conf_t auth;
    /* per request, freed after it (main.c's request_end) */
    char *user; /* who is calling ("api" for the API key) */
    uint32_t caps; /* the caller's capabilities (WEBAUTH_CAPS_ALL for an admin) */
    /* whose downloads the route reaches: NULL everyone's, else user's own
     * (added_by); view_owner is what the caller may see (main.c's scope) */
    const char *owner;
    const char *view_owner;
    /* whose node's downloads (docs/cluster.md): the request's `node`
     * parameter, NULL for every node's; and the node the current action
     * goes to (NULL: this program's own, over the control socket) */
    const char *node;
    const char *target;
} qbit_t;

/* QBIT_NODE_IN: an SQL condition that col is in the request's nodes, p
 * being the parameter bound to q->node ($1, this program's node, is named
 * so that its type is known when p makes it otherwise unused). */
#define QBIT_NODE_IN(col, p) "(" p "::text IS NULL OR " col " = " p "::text) AND $1::text <> ''"

/* qbit_call: cgictl_call_node to q->target (qbit_query: cgidb_query with
 * $1 bound to it; qbit_wait: cgidb_wait likewise). */
int qbit_call(qbit_t *q, http_response_t *resp, const char *cmd, json_object *args,
              json_object **result, mt_error_t **err);
PGresult *qbit_query(qbit_t *q, http_response_t *resp, const char *sql, int n,
                     const char *const *params);
void qbit_wait(qbit_t *q, const char *sql, const char *const *params, int n);

/* Sets the headers real qBittorrent puts on every API answer. */
void qbit_common_headers(http_response_t *resp);
/* Answers a short text/plain body the way qBittorrent does; also the
 * program's cgienv_answer_fn, so the 503s and 400s of cgi-bin/common
 * come in this form. */
int qbit_text(http_response_t *resp, int status, const char *text);
/* Answers a JSON value (not consumed). */
int qbit_json(http_response_t *resp, json_object *o);
/* Answers raw JSON text. */
int qbit_json_text(http_response_t *resp, const char *text, size_t len);

/* qbit_param: a required parameter, or NULL after answering 400. */
const char *qbit_param(http_request_t *req, http_response_t *resp, const char *name);
/* qbit_hashes: parses the required `hashes` parameter and resolves its
 * btihs (qbit_hashes_resolve); -1 after answering 400 (missing, empty or
 * more than 100) or 503. out->all is set for "all" (the caller lists the
 * downloads: qbit_all_hashes). */
int qbit_hashes(qbit_t *q, http_request_t *req, http_response_t *resp, qbit_hashes_t *out);
/* qbit_hashes_resolve: adds to h->md4 the MD4 of every download of the
 * request's nodes (q->node) added with one of h->btih (a download is named by its btih, its
 * padded MD4 or its bare MD4 alike). For a caller limited to its own
 * downloads (q->owner) h->md4 keeps only those: the others are as
 * unknown. 0, or -1 after answering 503. */
int qbit_hashes_resolve(qbit_t *q, http_response_t *resp, qbit_hashes_t *h);
/* qbit_hash_lookup: the MD4 named by a single `hash` value (a btih, a
 * padded or a bare MD4) into md4: 1; 0 when it names no download of this
 * node (a btih no download has) or is malformed; -1 after answering 503.
 * An MD4 is not checked against the database (the caller's query is). */
int qbit_hash_lookup(qbit_t *q, http_response_t *resp, const char *hash, char md4[33]);
/* qbit_all_hashes: every MD4 of the request's nodes' downloads (q->node;
 * completed too) and its node, only the caller's own when it is limited
 * to them (q->owner); NULL after answering 503. The caller frees with
 * PQclear. */
PGresult *qbit_all_hashes(qbit_t *q, http_response_t *resp);

/* app.c */
int qbit_app_version(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_app_webapi_version(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_app_build_info(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_app_preferences(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_app_set_preferences(http_request_t *req, http_response_t *resp, void *ctx);
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
/* What sync/maindata reads (each NULL, or -1, after answering 503):
 * qbit_categories_object: {name: {name, savePath}}; qbit_tags_array: the
 * tags; qbit_transfer_object: transfer/info's keys with the all-time
 * totals (new objects, the caller puts them); qbit_maindata_torrents:
 * calls fn with each download's hash (40 hex), its torrents/info JSON
 * object without "hash" and who added it (added_by), of every account
 * (all valid during the call only). */
json_object *qbit_categories_object(qbit_t *q, http_response_t *resp);
json_object *qbit_tags_array(qbit_t *q, http_response_t *resp);
json_object *qbit_transfer_object(qbit_t *q, http_response_t *resp);
typedef void (*qbit_torrent_fn)(const char *id, const char *json, size_t len, const char *owner,
                                void *arg);
int qbit_maindata_torrents(qbit_t *q, http_response_t *resp, qbit_torrent_fn fn, void *arg);

/* sync.c: sync/maindata, deltas by rid shared through PostgreSQL */
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
int qbit_torrents_set_download_limit(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_set_upload_limit(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_download_limit(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_upload_limit(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_create_tags(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_delete_tags(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_rename(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_set_location(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_recheck(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_reannounce(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_file_prio(http_request_t *req, http_response_t *resp, void *ctx);

/* pieces.c: per-download reads answered from the daemon or empty */
int qbit_torrents_trackers(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_webseeds(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_piece_states(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_torrents_piece_hashes(http_request_t *req, http_response_t *resp, void *ctx);

/* speed.c: the global and alternative speed limits */
int qbit_transfer_download_limit(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_transfer_upload_limit(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_transfer_set_download_limit(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_transfer_set_upload_limit(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_transfer_speed_limits_mode(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_transfer_toggle_speed_limits_mode(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_transfer_set_speed_limits_mode(http_request_t *req, http_response_t *resp, void *ctx);

/* log.c: the daemon's recent log and peer bans */
int qbit_log_main(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_log_peers(http_request_t *req, http_response_t *resp, void *ctx);

#endif
