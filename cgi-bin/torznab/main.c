/* main.c: cgi-bin/torznab, the Torznab indexer FastCGI program: its route
 * table (/indexer/<name>/api), the key check, the strict reading of the
 * parameters, t=caps, and Torznab <error> answers for everything that
 * fails, with the Newznab codes the Arrs read. Runs under FastCGI or as a
 * plain CGI program (docs/torznab.md). */
#include "config.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "torznab/torznab.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "webauth/auth.h"
#include "webauth/caps.h"
#include "webauth/password.h"

#define G HTTP_M_GET

static int tz_api(http_request_t *req, http_response_t *resp, void *ctx);

static const http_route_t routes[] = {
    { G, "/indexer/{name}/api", tz_api, 0 },
};

/* ------------------------------------------------------------ answers */

int
tz_answer_doc(http_response_t *resp, int status, const tz_doc_t *doc)
{
    http_response_set_status(resp, status);
    http_response_set_header(resp, "Content-Type", "application/rss+xml; charset=utf-8");
    http_response_set_header(resp, "X-Content-Type-Options", "nosniff");
    http_response_set_header(resp, "Cache-Control", "no-store");
    struct evbuffer *b = http_response_body(resp);
    evbuffer_drain(b, evbuffer_get_length(b));
    return evbuffer_add(b, doc->xml, doc->len);
}

int
tz_error(http_response_t *resp, int status, int code, const char *description)
{
    tz_doc_t doc = { 0 };
    if (tz_error_doc(code, description, &doc) != 0) {
        http_response_set_status(resp, 500);
        return -1;
    }
    int rc = tz_answer_doc(resp, status, &doc);
    tz_doc_clear(&doc);
    return rc;
}

/* answer: the program's cgienv_answer_fn: cgi-bin/common's failures (the
 * configuration, PostgreSQL, the daemon) as Torznab errors. */
static int
answer(http_response_t *resp, int status, const char *message)
{
    int code = status == 401 ? TZ_ERR_KEY
               : status == 404 ? TZ_ERR_NO_ITEM
               : status >= 400 && status < 500 ? TZ_ERR_BAD
                                               : TZ_ERR_UNAVAILABLE;
    return tz_error(resp, status, code, message);
}

/* ---------------------------------------------------------------- key */

/* account_key_ok: key is the API key or the password of an account
 * allowed to search (webauth_key_user, webauth_password_user; looked up on every request, so that a removed
 * or disabled account stops at once). */
static bool
account_key_ok(tz_t *t, const char *key)
{
    mt_error_t *err = NULL;
    PGconn *db = cgienv_db(t->env, &err);
    int rc = db != NULL ? webauth_key_user(db, key, WEBAUTH_CAP_SEARCH, NULL, &err) : -1;
    if (rc == 0)
        rc = webauth_password_user(db, key, WEBAUTH_CAP_SEARCH, NULL, &err);
    if (rc < 0)
        log_warn("torznab key: %s", err != NULL ? err->message : "database error");
    mt_error_free(err);
    return rc == 1;
}

/* key_ok: key is the api_key, or the web password (aMuTorrent tells its
 * users to paste that into the Arr's API key field), or the API key or
 * password of an account with the search capability. Constant-time
 * comparisons; a PBKDF2 web_password is derived once per process for the
 * key that matched it. */
static bool
key_ok(tz_t *t, const char *key)
{
    const conf_t *conf = cgienv_conf(t->env);
    if (key == NULL || *key == '\0')
        return false;
    if (webauth_key_equal(key, conf_get_str(conf, "api_key")))
        return true;
    const char *pw = conf_get_str(conf, "web_password");
    if (*pw != '\0') {
        if (t->password_key != NULL && webauth_key_equal(key, t->password_key))
            return true;
        if (webauth_password_verify(pw, key) == 1) {
            free(t->password_key);
            t->password_key = xstrdup(key);
            return true;
        }
    }
    return account_key_ok(t, key);
}

/* raw_query: the request's query string as sent (not decoded). */
static const char *
raw_query(http_request_t *req)
{
    const char *uri = http_request_env(req, "REQUEST_URI");
    if (uri != NULL) {
        const char *q = strchr(uri, '?');
        return q != NULL ? q + 1 : "";
    }
    const char *qs = http_request_env(req, "QUERY_STRING");
    return qs != NULL ? qs : "";
}

/* name_ok: the indexer name of the path is the configured one or an alias. */
static bool
name_ok(tz_t *t, const char *name)
{
    return name != NULL && (strcmp(name, conf_get_str(cgienv_conf(t->env), "torznab_name")) == 0 ||
                            strcmp(name, TZ_ALIAS_AMULE) == 0 ||
                            strcmp(name, TZ_ALIAS_EMULEBB) == 0);
}

/* --------------------------------------------------------------- caps */

/* caps: the same document for every request, built on the first. */
static int
caps(tz_t *t, http_response_t *resp)
{
    if (t->caps.xml == NULL && tz_caps_doc("Muleteer", &t->caps) != 0)
        return tz_error(resp, 500, TZ_ERR_UNAVAILABLE, "Internal error building the caps");
    return tz_answer_doc(resp, 200, &t->caps);
}

/* ---------------------------------------------------------------- api */

/* The one route: the name, the parameters, the key, then the function. A
 * key is looked for in X-API-Key first, then in apikey. */
static int
tz_api(http_request_t *req, http_response_t *resp, void *ctx)
{
    tz_t *t = ctx;
    if (!name_ok(t, http_request_path_param(req, "name")))
        return tz_error(resp, 404, TZ_ERR_NO_ITEM, "No such indexer");
    const char *raw = raw_query(req);
    tz_error_t err;
    if (tzq_parse(raw, strlen(raw), &t->q, &err) != 0)
        return tz_error(resp, 400, err.code, err.message);
    const char *key = http_request_header(req, "X-API-Key");
    if (key == NULL || *key == '\0')
        key = t->q.apikey;
    if (!key_ok(t, key))
        return tz_error(resp, 401, TZ_ERR_KEY,
                        key == NULL || *key == '\0' ? "Missing parameter (apikey)"
                                                    : "Incorrect user credentials");
    if (t->q.fn == TZ_FN_CAPS)
        return caps(t, resp);
    return tz_search(t, req, resp);
}

/* -------------------------------------------------------------- hooks */

static int
before(const http_route_t *route, http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)route;
    (void)req;
    tz_t *t = ctx;
    if (cgienv_request_begin(t->env)) {
        /* a changed configuration file: a new api_key or web_password
         * (muleteer passwd) counts from this request on */
        free(t->password_key);
        t->password_key = NULL;
    }
    return cgienv_answer_conf_error(t->env, resp) ? 1 : 0;
}

static int
not_found(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    return tz_error(resp, 404, TZ_ERR_NO_ITEM, "No such item (the indexer is at /indexer/<name>/api)");
}

static int
method_not_allowed(http_request_t *req, http_response_t *resp, unsigned allowed, void *ctx)
{
    (void)req;
    (void)ctx;
    http_router_set_allow(resp, allowed);
    return tz_error(resp, 405, TZ_ERR_NO_FUNCTION, "Method not allowed (use GET)");
}

static void
bad_request(http_response_t *resp, const mt_error_t *err, void *ctx)
{
    (void)ctx;
    if (err->code == MT_ERR_TOO_LARGE)
        tz_error(resp, 413, TZ_ERR_BAD, "Request too large");
    else
        tz_error(resp, 400, TZ_ERR_BAD, "Incorrect parameter (bad percent-encoding, control character or UTF-8)");
}

static void
request_end(void *ctx)
{
    tz_t *t = ctx;
    tzq_clear(&t->q);
    cgienv_request_end(t->env);
}

int
main(void)
{
    tz_t t = { .env = cgienv_new("torznab", answer) };
    http_router_t router = {
        .routes = routes,
        .n_routes = HTTP_N_ROUTES(routes),
        .before = before,
        .not_found = not_found,
        .method_not_allowed = method_not_allowed,
    };
    http_app_t app = {
        .name = "torznab",
        .router = &router,
        .limits = http_limits_default(),
        .ctx = &t,
        .on_bad_request = bad_request,
        .on_request_end = request_end,
    };
    app.limits.max_body = 65536;
    int rc = http_serve(&app);
    free(t.password_key);
    tz_doc_clear(&t.caps);
    cgienv_free(t.env);
    return rc;
}
