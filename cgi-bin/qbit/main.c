/* main.c: cgi-bin/qbit, the /api/v2 FastCGI program: its route table, the
 * authentication and CSRF checks that run before every route, the
 * qBittorrent-style answers for unknown paths, wrong methods and bad
 * requests, and the qBittorrent answers and parameters the handlers
 * share. Runs under FastCGI or as a plain CGI program. */
#include "config.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qbit/qbit.h"
#include "util/log.h"

#define GP (HTTP_M_GET | HTTP_M_POST)
#define P HTTP_M_POST

/* Action names are camelCase, matched exactly; the all-lowercase spelling
 * of each is accepted too (see not_found). */
static const http_route_t routes[] = {
    { P, "/api/v2/auth/login", qbit_auth_login, QBIT_PUBLIC },
    { P, "/api/v2/auth/logout", qbit_auth_logout, QBIT_AUTH },
    { GP, "/api/v2/app/version", qbit_app_version, QBIT_AUTH },
    { GP, "/api/v2/app/webapiVersion", qbit_app_webapi_version, QBIT_AUTH },
    { GP, "/api/v2/app/buildInfo", qbit_app_build_info, QBIT_AUTH },
    { GP, "/api/v2/app/preferences", qbit_app_preferences, QBIT_AUTH },
    { P, "/api/v2/app/setPreferences", qbit_app_set_preferences, QBIT_NEEDS(QBIT_CAP_ADMIN) },
    { GP, "/api/v2/app/defaultSavePath", qbit_app_default_save_path, QBIT_AUTH },
    { GP, "/api/v2/transfer/info", qbit_transfer_info, QBIT_AUTH },
    { GP, "/api/v2/sync/maindata", qbit_sync_maindata, QBIT_AUTH },
    { GP, "/api/v2/torrents/info", qbit_torrents_info, QBIT_AUTH },
    { GP, "/api/v2/torrents/properties", qbit_torrents_properties, QBIT_AUTH },
    { GP, "/api/v2/torrents/files", qbit_torrents_files, QBIT_AUTH },
    { GP, "/api/v2/torrents/categories", qbit_torrents_categories, QBIT_AUTH },
    { GP, "/api/v2/torrents/tags", qbit_torrents_tags, QBIT_AUTH },
    { P, "/api/v2/torrents/add", qbit_torrents_add, QBIT_NEEDS(WEBAUTH_CAP_ADD_DOWNLOADS) },
    { P, "/api/v2/torrents/delete", qbit_torrents_delete, QBIT_NEEDS(WEBAUTH_CAP_REMOVE_DOWNLOADS) | QBIT_EDITS },
    { P, "/api/v2/torrents/pause", qbit_torrents_pause, QBIT_NEEDS(WEBAUTH_CAP_PAUSE_RESUME) | QBIT_EDITS },
    { P, "/api/v2/torrents/stop", qbit_torrents_pause, QBIT_NEEDS(WEBAUTH_CAP_PAUSE_RESUME) | QBIT_EDITS },
    { P, "/api/v2/torrents/resume", qbit_torrents_resume, QBIT_NEEDS(WEBAUTH_CAP_PAUSE_RESUME) | QBIT_EDITS },
    { P, "/api/v2/torrents/start", qbit_torrents_resume, QBIT_NEEDS(WEBAUTH_CAP_PAUSE_RESUME) | QBIT_EDITS },
    { P, "/api/v2/torrents/createCategory", qbit_torrents_create_category, QBIT_NEEDS(WEBAUTH_CAP_MANAGE_CATEGORIES) },
    { P, "/api/v2/torrents/editCategory", qbit_torrents_edit_category, QBIT_NEEDS(WEBAUTH_CAP_MANAGE_CATEGORIES) },
    { P, "/api/v2/torrents/removeCategories", qbit_torrents_remove_categories, QBIT_NEEDS(WEBAUTH_CAP_MANAGE_CATEGORIES) },
    { P, "/api/v2/torrents/setCategory", qbit_torrents_set_category, QBIT_NEEDS(WEBAUTH_CAP_ASSIGN_CATEGORIES) | QBIT_EDITS },
    { P, "/api/v2/torrents/setShareLimits", qbit_torrents_set_share_limits, QBIT_EDITS },
    { P, "/api/v2/torrents/topPrio", qbit_torrents_top_prio, QBIT_EDITS },
    { P, "/api/v2/torrents/bottomPrio", qbit_torrents_bottom_prio, QBIT_EDITS },
    { P, "/api/v2/torrents/increasePrio", qbit_torrents_increase_prio, QBIT_EDITS },
    { P, "/api/v2/torrents/decreasePrio", qbit_torrents_decrease_prio, QBIT_EDITS },
    { P, "/api/v2/torrents/setForceStart", qbit_torrents_set_force_start, QBIT_EDITS },
    { P, "/api/v2/torrents/addTags", qbit_torrents_add_tags, QBIT_EDITS },
    { P, "/api/v2/torrents/removeTags", qbit_torrents_remove_tags, QBIT_EDITS },
    { GP, "/api/v2/torrents/pieceStates", qbit_torrents_piece_states, QBIT_AUTH },
    { GP, "/api/v2/torrents/pieceHashes", qbit_torrents_piece_hashes, QBIT_AUTH },
    { GP, "/api/v2/torrents/trackers", qbit_torrents_trackers, QBIT_AUTH },
    { GP, "/api/v2/torrents/webseeds", qbit_torrents_webseeds, QBIT_AUTH },
    { GP, "/api/v2/transfer/downloadLimit", qbit_transfer_download_limit, QBIT_AUTH },
    { GP, "/api/v2/transfer/uploadLimit", qbit_transfer_upload_limit, QBIT_AUTH },
    { P, "/api/v2/transfer/setDownloadLimit", qbit_transfer_set_download_limit, QBIT_NEEDS(QBIT_CAP_ADMIN) },
    { P, "/api/v2/transfer/setUploadLimit", qbit_transfer_set_upload_limit, QBIT_NEEDS(QBIT_CAP_ADMIN) },
    { GP, "/api/v2/transfer/speedLimitsMode", qbit_transfer_speed_limits_mode, QBIT_AUTH },
    { P, "/api/v2/transfer/toggleSpeedLimitsMode", qbit_transfer_toggle_speed_limits_mode, QBIT_NEEDS(QBIT_CAP_ADMIN) },
    { P, "/api/v2/transfer/setSpeedLimitsMode", qbit_transfer_set_speed_limits_mode, QBIT_NEEDS(QBIT_CAP_ADMIN) },
    { GP, "/api/v2/log/main", qbit_log_main, QBIT_NEEDS(WEBAUTH_CAP_VIEW_LOGS) },
    { GP, "/api/v2/log/peers", qbit_log_peers, QBIT_NEEDS(WEBAUTH_CAP_VIEW_LOGS) },
    { P, "/api/v2/torrents/setDownloadLimit", qbit_torrents_set_download_limit, QBIT_EDITS },
    { P, "/api/v2/torrents/setUploadLimit", qbit_torrents_set_upload_limit, QBIT_EDITS },
    { GP, "/api/v2/torrents/downloadLimit", qbit_torrents_download_limit, QBIT_AUTH },
    { GP, "/api/v2/torrents/uploadLimit", qbit_torrents_upload_limit, QBIT_AUTH },
    { P, "/api/v2/torrents/createTags", qbit_torrents_create_tags, QBIT_NEEDS(WEBAUTH_CAP_MANAGE_CATEGORIES) },
    { P, "/api/v2/torrents/deleteTags", qbit_torrents_delete_tags, QBIT_NEEDS(WEBAUTH_CAP_MANAGE_CATEGORIES) },
    { P, "/api/v2/torrents/rename", qbit_torrents_rename, QBIT_NEEDS(WEBAUTH_CAP_RENAME_FILES) | QBIT_EDITS },
    { P, "/api/v2/torrents/setLocation", qbit_torrents_set_location, QBIT_NEEDS(WEBAUTH_CAP_MOVE_FILES) | QBIT_EDITS },
    { P, "/api/v2/torrents/recheck", qbit_torrents_recheck, QBIT_EDITS },
    { P, "/api/v2/torrents/reannounce", qbit_torrents_reannounce, QBIT_EDITS },
    { P, "/api/v2/torrents/filePrio", qbit_torrents_file_prio, QBIT_EDITS },
};

/* ------------------------------------------------------------ answers */

void
qbit_common_headers(http_response_t *resp)
{
    http_response_set_header(resp, "Content-Security-Policy",
                             "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
                             "data:; script-src 'self' 'unsafe-inline'; object-src 'none'; "
                             "form-action 'self'; frame-ancestors 'self';");
    http_response_set_header(resp, "Referrer-Policy", "same-origin");
    http_response_set_header(resp, "X-Content-Type-Options", "nosniff");
    http_response_set_header(resp, "X-Frame-Options", "SAMEORIGIN");
    http_response_set_header(resp, "X-XSS-Protection", "1; mode=block");
}

int
qbit_text(http_response_t *resp, int status, const char *text)
{
    qbit_common_headers(resp);
    return http_response_text(resp, status, text);
}

int
qbit_json(http_response_t *resp, json_object *o)
{
    qbit_common_headers(resp);
    return http_response_json(resp, 200, o);
}

int
qbit_json_text(http_response_t *resp, const char *text, size_t len)
{
    qbit_common_headers(resp);
    http_response_set_status(resp, 200);
    http_response_set_header(resp, "Content-Type", "application/json");
    struct evbuffer *b = http_response_body(resp);
    evbuffer_drain(b, evbuffer_get_length(b));
    return evbuffer_add(b, text, len);
}

/* --------------------------------------------------------- parameters */

const char *
qbit_param(http_request_t *req, http_response_t *resp, const char *name)
{
    const char *v = http_request_param(req, name);
    if (v == NULL)
        qbit_text(resp, 400, "Bad Request");
    return v;
}

int
qbit_hashes(qbit_t *q, http_request_t *req, http_response_t *resp, qbit_hashes_t *out)
{
    const char *v = qbit_param(req, resp, "hashes");
    if (v == NULL)
        return -1;
    if (qbit_hashes_parse(v, out) != 0) {
        qbit_text(resp, 400, "Bad Request");
        return -1;
    }
    return qbit_hashes_resolve(q, resp, out);
}

/* text_array_of: a text[] literal of n strings of width w at v ("{a,b}"),
 * into b. */
static const char *
text_array_of(struct evbuffer *b, const char *v, size_t w, size_t n)
{
    evbuffer_add(b, "{", 1);
    for (size_t i = 0; i < n; i++)
        evbuffer_add_printf(b, "%s%s", i > 0 ? "," : "", v + i * w);
    evbuffer_add(b, "}", 2);
    return (const char *)evbuffer_pullup(b, -1);
}

int
qbit_hashes_resolve(qbit_t *q, http_response_t *resp, qbit_hashes_t *h)
{
    if (h->all || (h->n_btih == 0 && q->owner == NULL))
        return 0;
    struct evbuffer *bt = evbuffer_new(), *md = evbuffer_new();
    /* a caller limited to its own downloads: the MD4s it gave are
     * checked too, and only its own stay */
    const char *params[] = { text_array_of(bt, h->btih[0], sizeof h->btih[0], h->n_btih),
                             text_array_of(md, h->md4[0], sizeof h->md4[0], h->n), q->owner,
                             q->node };
    PGresult *r = q->owner == NULL
                      ? cgidb_query(q->env, resp,
                                    "SELECT DISTINCT hash FROM downloads"
                                    " WHERE " QBIT_NODE_IN("node", "$3")
                                    " AND btih = ANY($2::text[])",
                                    2, (const char *[]){ params[0], q->node })
                      : cgidb_query(q->env, resp,
                                    "SELECT DISTINCT hash FROM downloads WHERE "
                                    QBIT_NODE_IN("node", "$5")
                                    " AND (btih = ANY($2::text[]) OR hash = ANY($3::text[]))"
                                    " AND added_by = $4",
                                    4, params);
    evbuffer_free(bt);
    evbuffer_free(md);
    if (r == NULL)
        return -1;
    if (q->owner != NULL)
        h->n = 0;
    for (int i = 0; i < PQntuples(r) && h->n < QBIT_MAX_HASHES; i++) {
        const char *md4 = PQgetvalue(r, i, 0);
        bool dup = strlen(md4) != 32;
        for (size_t k = 0; k < h->n && !dup; k++)
            dup = strcmp(h->md4[k], md4) == 0;
        if (!dup)
            memcpy(h->md4[h->n++], md4, 33);
    }
    PQclear(r);
    return 0;
}

int
qbit_hash_lookup(qbit_t *q, http_response_t *resp, const char *hash, char md4[33])
{
    qbit_hashes_t h;
    /* one hash, not a list: a '|' makes it malformed */
    if (hash == NULL || strchr(hash, '|') != NULL || strcmp(hash, "all") == 0 ||
        qbit_hashes_parse(hash, &h) != 0)
        return 0;
    if (qbit_hashes_resolve(q, resp, &h) != 0)
        return -1;
    if (h.n == 0)
        return 0;
    memcpy(md4, h.md4[0], 33);
    return 1;
}

PGresult *
qbit_all_hashes(qbit_t *q, http_response_t *resp)
{
    const char *params[] = { q->owner, q->node };
    return cgidb_query(q->env, resp,
                       "SELECT hash, node FROM downloads WHERE " QBIT_NODE_IN("node", "$3")
                       " AND ($2::text IS NULL OR added_by = $2) ORDER BY added_at, node",
                       2, params);
}

int
qbit_call(qbit_t *q, http_response_t *resp, const char *cmd, json_object *args,
          json_object **result, mt_error_t **err)
{
    return cgictl_call_node(q->env, resp, q->target, NULL, cmd, args, result, err);
}

PGresult *
qbit_query(qbit_t *q, http_response_t *resp, const char *sql, int n, const char *const *params)
{
    return cgidb_query_node(q->env, resp, q->target, sql, n, params);
}

void
qbit_wait(qbit_t *q, const char *sql, const char *const *params, int n)
{
    cgidb_wait_node(q->env, q->target, sql, params, n);
}

/* -------------------------------------------------------------- hooks */

/* host_of: the host[:port] part of an absolute URL (Origin, Referer) into
 * out; "" when there is none. */
static void
host_of(const char *url, char *out, size_t size)
{
    out[0] = '\0';
    const char *p = strstr(url, "://");
    if (p == NULL)
        return;
    p += 3;
    size_t n = strcspn(p, "/?#");
    if (n >= size)
        n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* cross_site: qBittorrent's CSRF rule: an Origin or Referer naming another
 * host than the request's Host header is refused (401). Clients that send
 * neither (the Arrs) pass. */
static bool
cross_site(http_request_t *req)
{
    const char *host = http_request_header(req, "Host");
    if (host == NULL || *host == '\0')
        return false;
    const char *hdrs[] = { "Origin", "Referer" };
    for (size_t i = 0; i < 2; i++) {
        const char *v = http_request_header(req, hdrs[i]);
        if (v == NULL || *v == '\0')
            continue;
        char h[256];
        host_of(v, h, sizeof h);
        if (strcasecmp(h, host) != 0)
            return true;
    }
    return false;
}

/* may_call: the caller has the capabilities route needs (an account of
 * web_users may lack some: a user without remove_downloads cannot
 * delete). */
static bool
may_call(const qbit_t *q, const http_route_t *route)
{
    uint32_t need = QBIT_NEEDED(route->flags);
    return (q->caps & need) == need;
}

/* scope: whose downloads a route reaches for the caller (q->owner):
 * those it may change for a QBIT_EDITS route, else those it may see. */
static void
scope(qbit_t *q, const http_route_t *route)
{
    q->owner = route != NULL && (route->flags & QBIT_EDITS)
                   ? webauth_owner_of(q->user, q->caps, WEBAUTH_CAP_EDIT_ALL_DOWNLOADS)
                   : q->view_owner;
}

/* Runs before every request, matched or not: a changed configuration
 * file, configuration errors, CSRF, then authentication (qBittorrent
 * answers 403 before 404, so unknown paths are hidden from callers who
 * are not logged in). A banned address gets 403 on every route, whatever
 * credentials it sends. */
static int
before(const http_route_t *route, http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    if (cgienv_request_begin(q->env))
        webauth_conf_from(&q->auth, cgienv_conf(q->env)); /* a new web_password, ... */
    if (cgienv_answer_conf_error(q->env, resp))
        return 1;
    if (cross_site(req)) {
        qbit_text(resp, 401, "Unauthorized");
        return 1;
    }
    /* public routes need no login, also for the wrong method (405) */
    if (route == NULL) {
        for (size_t i = 0; i < HTTP_N_ROUTES(routes); i++)
            if ((routes[i].flags & QBIT_PUBLIC) &&
                strcmp(routes[i].pattern, http_request_path(req)) == 0)
                return 0;
    } else if (route->flags & QBIT_PUBLIC) {
        return 0;
    }
    /* The API key works without the database; everything else needs it. */
    mt_error_t *err = NULL;
    PGconn *db = cgienv_db(q->env, &err);
    mt_error_free(err);
    err = NULL;
    webauth_ident_t id;
    int rc = webauth_identify(db, &q->auth, req, &id, &err);
    webauth_method_t method = id.method;
    q->user = id.user; /* handed over */
    q->caps = id.caps | (id.is_admin ? QBIT_CAP_ADMIN : 0);
    q->view_owner = webauth_owner_of(q->user, q->caps, WEBAUTH_CAP_VIEW_ALL_DOWNLOADS);
    scope(q, route);
    const char *node = http_request_param(req, "node");
    q->node = q->target = node != NULL && *node != '\0' ? node : NULL;
    if (rc != 0) {
        log_warn("auth: %s", err != NULL ? err->message : "database error");
        mt_error_free(err);
        qbit_text(resp, 503, CGIDB_UNAVAILABLE);
        return 1;
    }
    if (method == WEBAUTH_NONE) {
        /* a banned address is told so, whatever it sent (a session or the
         * API key too), as qBittorrent tells it on login */
        bool banned = false;
        webauth_banned(db, &q->auth, http_request_remote_addr(req), &banned, NULL);
        qbit_text(resp, 403, banned ? QBIT_BANNED : "Forbidden");
        return 1;
    }
    if (route != NULL && !may_call(q, route)) {
        qbit_text(resp, 403, "Forbidden");
        return 1;
    }
    return 0;
}

/* No exact match: the all-lowercase alias of an action, else 404. */
static int
not_found(http_request_t *req, http_response_t *resp, void *ctx)
{
    const char *path = http_request_path(req);
    unsigned bit = http_method_bit(http_request_method(req));
    if (bit == HTTP_M_HEAD)
        bit = HTTP_M_GET;
    for (size_t i = 0; i < HTTP_N_ROUTES(routes); i++) {
        if (strcasecmp(routes[i].pattern, path) != 0)
            continue;
        /* only the lowercase spelling is an alias, not any mixed case */
        for (const char *c = path; *c != '\0'; c++)
            if (*c >= 'A' && *c <= 'Z')
                return qbit_text(resp, 404, "Not Found");
        if (!(routes[i].methods & bit)) {
            http_router_set_allow(resp, routes[i].methods);
            return qbit_text(resp, 405, "Method Not Allowed");
        }
        if (!may_call(ctx, &routes[i]))
            return qbit_text(resp, 403, "Forbidden");
        scope(ctx, &routes[i]);
        return routes[i].handler(req, resp, ctx);
    }
    return qbit_text(resp, 404, "Not Found");
}

/* qBittorrent: the wrong one of GET/POST is a 405; any other method is a
 * 400 with an empty body and the connection closed. */
static int
method_not_allowed(http_request_t *req, http_response_t *resp, unsigned allowed, void *ctx)
{
    (void)ctx;
    const char *m = http_request_method(req);
    if (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0 || strcmp(m, "HEAD") == 0) {
        http_router_set_allow(resp, allowed);
        return qbit_text(resp, 405, "Method Not Allowed");
    }
    http_response_set_status(resp, 400);
    http_response_set_header(resp, "Connection", "close");
    return 0;
}

static void
bad_request(http_response_t *resp, const mt_error_t *err, void *ctx)
{
    (void)ctx;
    qbit_text(resp, err->code == MT_ERR_TOO_LARGE ? 413 : 400,
              err->code == MT_ERR_TOO_LARGE ? "Payload Too Large" : "Bad Request");
}

/* After every request: what it kept goes (the caller's name, the daemon
 * connection, the wait deadline). */
static void
request_end(void *ctx)
{
    qbit_t *q = ctx;
    free(q->user);
    q->user = NULL;
    q->caps = 0;
    q->owner = q->view_owner = NULL;
    q->node = q->target = NULL;
    cgienv_request_end(q->env);
}

int
main(void)
{
    qbit_t q = { .env = cgienv_new("qbit", qbit_text) };
    webauth_conf_from(&q.auth, cgienv_conf(q.env));
    http_router_t router = {
        .routes = routes,
        .n_routes = HTTP_N_ROUTES(routes),
        .before = before,
        .not_found = not_found,
        .method_not_allowed = method_not_allowed,
    };
    http_app_t app = {
        .name = "qbit",
        .router = &router,
        .limits = http_limits_default(),
        .ctx = &q,
        .on_bad_request = bad_request,
        .on_request_end = request_end,
    };
    app.limits.max_body = (size_t)conf_get_int(cgienv_conf(q.env), "http_max_body");
    int rc = http_serve(&app);
    cgienv_free(q.env);
    return rc;
}
