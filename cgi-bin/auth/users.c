/* users.c: /api/users, the accounts' CRUD for admins: list, create,
 * change (password, admin flag, capabilities, disabled) and delete, in
 * aMuTorrent's shapes ({id, username, isAdmin, disabled, capabilities,
 * createdAt, lastLoginAt}). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "util/log.h"
#include "webauth/caps.h"
#include "webauth/users.h"

json_object *
wa_caps_json(uint32_t caps)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < WEBAUTH_N_CAPS; i++)
        if (caps & (1u << i))
            json_object_array_add(a, json_object_new_string(webauth_cap_name(i)));
    return a;
}

static json_object *
user_json(const webauth_user_t *u)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(u->id));
    json_object_object_add(o, "username", json_object_new_string(u->username));
    json_object_object_add(o, "isAdmin", json_object_new_boolean(u->is_admin));
    json_object_object_add(o, "disabled", json_object_new_boolean(u->disabled));
    json_object_object_add(o, "hasPassword", json_object_new_boolean(true));
    json_object_object_add(o, "hasApiKey", json_object_new_boolean(u->has_api_key));
    json_object_object_add(o, "capabilities",
                           wa_caps_json(u->is_admin ? WEBAUTH_CAPS_ALL : u->caps));
    json_object_object_add(o, "createdAt", json_object_new_string(u->created_at));
    json_object_object_add(o, "lastLoginAt",
                           u->last_login_at != NULL ? json_object_new_string(u->last_login_at)
                                                    : NULL);
    return o;
}

/* db_failed: the answer to a failed webauth_users call. */
static int
db_failed(http_response_t *resp, mt_error_t *err)
{
    int code = err != NULL ? err->code : MT_ERR_DB;
    int rc;
    if (code == MT_ERR_NOT_FOUND)
        rc = cgijson_error(resp, 404, "not_found", "No such user");
    else if (code == MT_ERR_EXISTS)
        rc = cgijson_error(resp, 409, "conflict", err->message);
    else if (code == MT_ERR_INVALID)
        rc = cgijson_error(resp, 400, "bad_parameter", err->message);
    else {
        log_warn("users: %s", err != NULL ? err->message : "database error");
        rc = cgijson_error(resp, 503, "unavailable", CGIDB_UNAVAILABLE);
    }
    mt_error_free(err);
    return rc;
}

/* caps_parse: the capabilities field: a JSON array of names, or a form
 * list "search,add_downloads". 0 when absent (*present false); -1 after
 * answering 400 for an unknown name or a wrong type. */
static int
caps_parse(wa_t *w, http_request_t *req, http_response_t *resp, uint32_t *caps, bool *present)
{
    *caps = 0;
    *present = false;
    json_object *o = wa_body(w, req), *v = NULL;
    if (o != NULL) {
        if (!json_object_object_get_ex(o, "capabilities", &v) || v == NULL)
            return 0;
        *present = true;
        if (!json_object_is_type(v, json_type_array)) {
            cgijson_bad_param(resp, "capabilities", "a list of capability names");
            return -1;
        }
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *e = json_object_array_get_idx(v, i);
            uint32_t c = json_object_is_type(e, json_type_string)
                             ? webauth_cap_of(json_object_get_string(e))
                             : 0;
            if (c == 0) {
                cgijson_bad_param(resp, "capabilities", "unknown capability");
                return -1;
            }
            *caps |= c;
        }
        return 0;
    }
    const char *s = http_request_param(req, "capabilities");
    if (s == NULL)
        return 0;
    *present = true;
    if (webauth_caps_parse(s, caps, NULL) != 0) {
        cgijson_bad_param(resp, "capabilities", "unknown capability");
        return -1;
    }
    return 0;
}

/* caps_of: caps_parse, and then the set refused as aMuTorrent's userAPI
 * refuses it (webauth_caps_problem): -1 after answering 400 naming
 * capabilities. Both a new account's set and a PUT's (which replaces the
 * set) go through it. */
static int
caps_of(wa_t *w, http_request_t *req, http_response_t *resp, uint32_t *caps, bool *present)
{
    if (caps_parse(w, req, resp, caps, present) != 0)
        return -1;
    const char *why = *present ? webauth_caps_problem(*caps) : NULL;
    if (why != NULL) {
        cgijson_bad_param(resp, "capabilities", why);
        return -1;
    }
    return 0;
}

/* answer_user: 200 (or status) with the account id as it is now. */
static int
answer_user(PGconn *db, http_response_t *resp, long long id, int status)
{
    webauth_user_t u;
    mt_error_t *err = NULL;
    int found = webauth_user_get(db, id, &u, &err);
    if (found <= 0) {
        if (found == 0)
            mt_error_set(&err, MT_ERR_NOT_FOUND, "no user");
        return db_failed(resp, err);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(true));
    json_object_object_add(o, "user", user_json(&u));
    webauth_user_clear(&u);
    http_response_json(resp, status, o);
    json_object_put(o);
    return 0;
}

int
wa_users_list(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    wa_t *w = ctx;
    PGconn *db = cgidb_conn(w->env, resp);
    if (db == NULL)
        return 0;
    webauth_user_t *list = NULL;
    size_t n = 0;
    mt_error_t *err = NULL;
    if (webauth_users_list(db, &list, &n, &err) != 0)
        return db_failed(resp, err);
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, user_json(&list[i]));
    webauth_users_free(list, n);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "users", a);
    int rc = cgijson_ok(resp, o);
    json_object_put(o);
    return rc;
}

int
wa_users_create(http_request_t *req, http_response_t *resp, void *ctx)
{
    wa_t *w = ctx;
    const char *name = wa_field(w, req, "username");
    const char *pass = wa_field(w, req, "password");
    if (!webauth_username_is_valid(name))
        return cgijson_bad_param(resp, "username",
                                 "3 to 32 letters, digits or underscores");
    if (pass == NULL || *pass == '\0')
        return cgijson_bad_param(resp, "password", "a password is required");
    uint32_t caps = 0;
    bool has_caps = false;
    if (caps_of(w, req, resp, &caps, &has_caps) != 0)
        return 0;
    bool admin = wa_flag(w, req, "isAdmin", NULL);
    PGconn *db = cgidb_conn(w->env, resp);
    if (db == NULL)
        return 0;
    long long id = 0;
    mt_error_t *err = NULL;
    if (webauth_user_add(db, name, pass, admin, caps, &id, &err) != 0)
        return db_failed(resp, err);
    log_info("user %s added by %s", name, w->who.user != NULL ? w->who.user : "?");
    return answer_user(db, resp, id, 201);
}

/* path_id: the {id} of the path, or -1 after answering 400. */
static long long
path_id(http_request_t *req, http_response_t *resp)
{
    const char *s = http_request_path_param(req, "id");
    char *end = NULL;
    errno = 0;
    long long id = s != NULL && *s >= '0' && *s <= '9' ? strtoll(s, &end, 10) : 0;
    if (id <= 0 || errno != 0 || end == NULL || *end != '\0') {
        cgijson_bad_param(resp, "id", "a user id");
        return -1;
    }
    return id;
}

int
wa_users_update(http_request_t *req, http_response_t *resp, void *ctx)
{
    wa_t *w = ctx;
    long long id = path_id(req, resp);
    if (id < 0)
        return 0;
    webauth_user_change_t ch = { 0 };
    ch.password = wa_field(w, req, "password");
    if (ch.password != NULL && *ch.password == '\0')
        return cgijson_bad_param(resp, "password", "the password must not be empty");
    if (caps_of(w, req, resp, &ch.caps, &ch.set_caps) != 0)
        return 0;
    ch.is_admin = wa_flag(w, req, "isAdmin", &ch.set_admin);
    ch.disabled = wa_flag(w, req, "disabled", &ch.set_disabled);
    PGconn *db = cgidb_conn(w->env, resp);
    if (db == NULL)
        return 0;
    mt_error_t *err = NULL;
    if (webauth_user_update(db, id, &ch, &err) != 0)
        return db_failed(resp, err);
    return answer_user(db, resp, id, 200);
}

int
wa_users_delete(http_request_t *req, http_response_t *resp, void *ctx)
{
    wa_t *w = ctx;
    long long id = path_id(req, resp);
    if (id < 0)
        return 0;
    if (id == w->who.user_id)
        return cgijson_error(resp, 409, "conflict", "An admin cannot delete its own account");
    PGconn *db = cgidb_conn(w->env, resp);
    if (db == NULL)
        return 0;
    mt_error_t *err = NULL;
    if (webauth_user_remove(db, id, &err) != 0)
        return db_failed(resp, err);
    return wa_result(resp, 200, true, NULL, "User deleted", NULL);
}

/* POST /api/users/<id>/api-key: a new API key for the account, shown this
 * once ({success, apiKey}); the old one stops working. */
int
wa_users_api_key(http_request_t *req, http_response_t *resp, void *ctx)
{
    wa_t *w = ctx;
    long long id = path_id(req, resp);
    if (id < 0)
        return 0;
    PGconn *db = cgidb_conn(w->env, resp);
    if (db == NULL)
        return 0;
    char *key = NULL;
    mt_error_t *err = NULL;
    if (webauth_user_new_api_key(db, id, &key, &err) != 0)
        return db_failed(resp, err);
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "apiKey", json_object_new_string(key));
    explicit_bzero(key, strlen(key));
    free(key);
    return wa_result(resp, 200, true, NULL, "New API key", extra);
}
