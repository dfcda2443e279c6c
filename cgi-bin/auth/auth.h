/* auth.h: internals of cgi-bin/auth, the web API's sessions and users
 * (/api/auth/..., /api/users): its context, what its handlers share (the
 * request body as JSON or form, aMuTorrent's {success, message} answers,
 * the caller) and the handlers of its route table. */
#ifndef MT_CGI_AUTH_H
#define MT_CGI_AUTH_H

#include <json-c/json.h>
#include <stdbool.h>

#include "auth/cookie.h"
#include "common/cgidb.h"
#include "common/cgienv.h"
#include "common/cgijson.h"
#include "http/http.h"
#include "webauth/auth.h"

/* Route flags: who may call a route. */
enum {
    WA_PUBLIC = 1, /* anyone (login, logout, status) */
    WA_AUTH = 2,   /* any caller cgijson_identify accepts */
    WA_ADMIN = 4,  /* an admin only (403 for the others) */
};

/* Session lifetimes of the web API's logins (aMuTorrent's). */
#define WA_SESSION_DAY (24 * 3600)
#define WA_SESSION_REMEMBER (30 * 24 * 3600)

typedef struct {
    cgienv_t *env; /* configuration, database (cgi-bin/common) */
    webauth_conf_t auth;
    /* per request, cleared after it (main.c's request_end) */
    webauth_ident_t who;  /* the caller of a WA_AUTH or WA_ADMIN route */
    json_object *body;    /* the JSON body, parsed on first use */
    bool body_read;
} wa_t;

/* wa_field: the string field name of the body: a JSON object's string
 * member, else a form or query parameter; NULL when absent. A JSON body
 * that does not parse has no fields. */
const char *wa_field(wa_t *w, http_request_t *req, const char *name);
/* wa_body: the JSON body when it is an object (owned by w), else NULL. */
json_object *wa_body(wa_t *w, http_request_t *req);
/* wa_flag: a boolean field: JSON true, or a form value "true", "1",
 * "on" or "yes"; *present tells whether it was given at all (may be
 * NULL). */
bool wa_flag(wa_t *w, http_request_t *req, const char *name, bool *present);

/* wa_result: status with aMuTorrent's {"success": ok, "message": ...};
 * a failure also carries the web API's {"error": {code, message}}. extra
 * (consumed, may be NULL) is merged in. Returns 0. */
int wa_result(http_response_t *resp, int status, bool ok, const char *code, const char *message,
              json_object *extra);

/* wa_is_https: the request came over HTTPS (HTTPS=on from the web server,
 * or REQUEST_SCHEME https). */
bool wa_is_https(http_request_t *req);

/* session.c */
int wa_login(http_request_t *req, http_response_t *resp, void *ctx);
int wa_logout(http_request_t *req, http_response_t *resp, void *ctx);
int wa_status(http_request_t *req, http_response_t *resp, void *ctx);
int wa_profile(http_request_t *req, http_response_t *resp, void *ctx);

/* users.c */
int wa_users_list(http_request_t *req, http_response_t *resp, void *ctx);
int wa_users_create(http_request_t *req, http_response_t *resp, void *ctx);
int wa_users_update(http_request_t *req, http_response_t *resp, void *ctx);
int wa_users_delete(http_request_t *req, http_response_t *resp, void *ctx);
int wa_users_api_key(http_request_t *req, http_response_t *resp, void *ctx);
/* wa_caps_json: the names of caps as a JSON array (new reference). */
json_object *wa_caps_json(uint32_t caps);

#endif
