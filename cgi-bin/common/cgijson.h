/* cgijson.h: what the JSON route families of the web API (aMuTorrent's
 * /api/auth, /api/users, /api/metrics, /api/history, /api/config, ...)
 * share: their error object, their JSON answers and the authentication
 * check that runs before their routes. */
#ifndef MT_CGI_CGIJSON_H
#define MT_CGI_CGIJSON_H

#include <json-c/json.h>

#include "common/cgienv.h"
#include "http/http.h"
#include "webauth/auth.h"
#include "webauth/caps.h"

/* cgijson_error: status with {"error": {"code": code, "message":
 * message}}; code is a short stable word (e.g. "bad_parameter",
 * "unauthorized", "not_found", "unavailable"). Returns 0. */
int cgijson_error(http_response_t *resp, int status, const char *code, const char *message);

/* cgijson_answer: a cgienv_answer_fn (cgienv_new's answer): the error
 * object with the code that goes with the status. */
int cgijson_answer(http_response_t *resp, int status, const char *message);

/* cgijson_bad_param: 400 naming the parameter: {"error": {"code":
 * "bad_parameter", "message": "...", "parameter": name}}. */
int cgijson_bad_param(http_response_t *resp, const char *name, const char *why);

/* The answers a JSON program gives outside its routes, for its
 * http_router_t (not_found, method_not_allowed) and http_app_t
 * (on_bad_request): 404 naming the path, 405 with Allow, and 400 (the
 * parser's message) or 413 for a request that does not parse. */
int cgijson_not_found(http_request_t *req, http_response_t *resp, void *ctx);
int cgijson_method_not_allowed(http_request_t *req, http_response_t *resp, unsigned allowed,
                               void *ctx);
void cgijson_bad_request(http_response_t *resp, const mt_error_t *err, void *ctx);

/* cgijson_ok: 200 with o (not consumed). */
int cgijson_ok(http_response_t *resp, json_object *o);

/* cgijson_auth: who calls (webauth_check: a session cookie, the API key
 * as Bearer or X-API-Key, HTTP Basic). 0 with *user (malloc'ed, the
 * caller frees it); 1 after answering 401 (nothing valid; 403 for a
 * banned address) or 503 (the database is away and no API key was
 * given). */
int cgijson_auth(cgienv_t *env, const webauth_conf_t *ac, http_request_t *req,
                 http_response_t *resp, char **user);

/* cgijson_identify: cgijson_auth telling the account and capabilities
 * too (webauth_identify) into *id, which the caller clears with
 * webauth_ident_clear. When authentication is switched off for the
 * caller's address (webauth_is_off) the caller is the admin, named
 * web_username, with method WEBAUTH_OFF. 0, or 1 after answering as
 * cgijson_auth does. */
int cgijson_identify(cgienv_t *env, const webauth_conf_t *ac, http_request_t *req,
                     http_response_t *resp, webauth_ident_t *id);

/* A need of cgijson_require beyond the capabilities: the caller is an
 * admin (settings of the whole client, as aMuTorrent's are). */
#define CGIJSON_ADMIN (1u << 30)

/* cgijson_forbidden: 403 {"error": {"code": "forbidden", "message":
 * "Insufficient permissions"}} (aMuTorrent's words), for a caller who
 * lacks a capability. Returns 0. */
int cgijson_forbidden(http_response_t *resp);

/* cgijson_require: cgijson_identify, then the caller must have every
 * capability of need (webauth/caps.h bits, plus CGIJSON_ADMIN; 0: none;
 * an admin has them all): 0, or 1 after answering 401, 403 or 503 as
 * cgijson_identify does, or cgijson_forbidden. The caller clears *id
 * with webauth_ident_clear either way. */
int cgijson_require(cgienv_t *env, const webauth_conf_t *ac, http_request_t *req,
                    http_response_t *resp, uint32_t need, webauth_ident_t *id);

#endif
