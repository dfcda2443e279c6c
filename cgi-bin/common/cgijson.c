/* cgijson.c: the JSON error object, JSON answers and the authentication
 * check of the web API's route families (cgijson.h). */
#include "config.h"

#include <stdlib.h>

#include "common/cgijson.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "webauth/caps.h"

#include <string.h>

static json_object *
error_object(const char *code, const char *message)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_string(code));
    json_object_object_add(e, "message", json_object_new_string(message != NULL ? message : ""));
    return e;
}

static int
answer_error(http_response_t *resp, int status, json_object *e)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", e);
    http_response_json(resp, status, o);
    json_object_put(o);
    return 0;
}

int
cgijson_error(http_response_t *resp, int status, const char *code, const char *message)
{
    return answer_error(resp, status, error_object(code, message));
}

/* code_of: the error code that goes with an HTTP status. */
static const char *
code_of(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "too_large";
    case 429: return "too_many_requests";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "error";
    }
}

int
cgijson_answer(http_response_t *resp, int status, const char *message)
{
    return cgijson_error(resp, status, code_of(status), message);
}

int
cgijson_bad_param(http_response_t *resp, const char *name, const char *why)
{
    json_object *e = error_object("bad_parameter", why);
    json_object_object_add(e, "parameter", json_object_new_string(name));
    return answer_error(resp, 400, e);
}

int
cgijson_not_found(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)ctx;
    char *msg = xasprintf("No such route: %s", http_request_path(req));
    cgijson_error(resp, 404, "not_found", msg);
    free(msg);
    return 0;
}

int
cgijson_method_not_allowed(http_request_t *req, http_response_t *resp, unsigned allowed,
                           void *ctx)
{
    (void)req;
    (void)ctx;
    http_router_set_allow(resp, allowed);
    return cgijson_error(resp, 405, "method_not_allowed", "Method not allowed");
}

void
cgijson_bad_request(http_response_t *resp, const mt_error_t *err, void *ctx)
{
    (void)ctx;
    if (err->code == MT_ERR_TOO_LARGE)
        cgijson_error(resp, 413, "too_large", "Request too large");
    else
        cgijson_error(resp, 400, "bad_request", err->message);
}

int
cgijson_ok(http_response_t *resp, json_object *o)
{
    return http_response_json(resp, 200, o);
}

int
cgijson_identify(cgienv_t *env, const webauth_conf_t *ac, http_request_t *req,
                 http_response_t *resp, webauth_ident_t *id)
{
    memset(id, 0, sizeof *id);
    if (webauth_is_off(ac, http_request_remote_addr(req))) {
        id->method = WEBAUTH_OFF;
        id->user = xstrdup(ac->username != NULL ? ac->username : "");
        id->is_admin = true;
        id->caps = WEBAUTH_CAPS_ALL;
        return 0;
    }
    mt_error_t *err = NULL;
    PGconn *db = cgienv_db(env, &err); /* the API key works without it */
    mt_error_free(err);
    err = NULL;
    if (webauth_identify(db, ac, req, id, &err) != 0) {
        log_warn("auth: %s", err != NULL ? err->message : "database error");
        mt_error_free(err);
        cgijson_error(resp, 503, "unavailable", "Database unavailable");
        return 1;
    }
    if (id->method != WEBAUTH_NONE)
        return 0;
    bool banned = false;
    webauth_banned(db, ac, http_request_remote_addr(req), &banned, NULL);
    if (banned)
        cgijson_error(resp, 403, "banned",
                      "This address is banned after too many failed logins");
    else
        cgijson_error(resp, 401, "unauthorized",
                      "Authentication required: a session, or the API key in X-API-Key");
    return 1;
}

int
cgijson_auth(cgienv_t *env, const webauth_conf_t *ac, http_request_t *req,
             http_response_t *resp, char **user)
{
    webauth_ident_t id;
    int rc = cgijson_identify(env, ac, req, resp, &id);
    *user = id.user; /* handed over */
    return rc;
}

int
cgijson_forbidden(http_response_t *resp)
{
    return cgijson_error(resp, 403, "forbidden", "Insufficient permissions");
}

int
cgijson_require(cgienv_t *env, const webauth_conf_t *ac, http_request_t *req,
                http_response_t *resp, uint32_t need, webauth_ident_t *id)
{
    if (cgijson_identify(env, ac, req, resp, id) != 0)
        return 1;
    uint32_t have = id->caps | (id->is_admin ? CGIJSON_ADMIN : 0);
    if ((have & need) == need)
        return 0;
    log_info("auth: %s lacks a capability for %s %s", id->user != NULL ? id->user : "?",
             http_request_method(req), http_request_path(req));
    cgijson_forbidden(resp);
    return 1;
}
