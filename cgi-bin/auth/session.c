/* session.c: the web API's sessions, as aMuTorrent's UI uses them: login
 * (the amule.sid cookie, 24 h or 30 days with rememberMe; failures
 * throttled per address), logout, the public status and the change of
 * one's own password (PUT /api/auth/profile). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "webauth/caps.h"
#include "webauth/password.h"
#include "webauth/users.h"

/* too_many: 429 with Retry-After for an address whose ban has `left`
 * seconds to run. */
static int
too_many(http_response_t *resp, int left)
{
    if (left < 1)
        left = 1;
    char secs[16], msg[128];
    snprintf(secs, sizeof secs, "%d", left);
    int minutes = (left + 59) / 60;
    snprintf(msg, sizeof msg, "Too many failed attempts. Please try again in %d minute%s.", minutes,
             minutes == 1 ? "" : "s");
    http_response_set_header(resp, "Retry-After", secs);
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "retryAfter", json_object_new_int(left));
    return wa_result(resp, 429, false, "too_many_requests", msg, extra);
}

/* failed: 401 with the delay the address should wait before its next
 * attempt (retryDelay, in milliseconds), or 429 when this failure got it
 * banned. */
static int
failed(wa_t *w, PGconn *db, http_response_t *resp, const char *addr)
{
    int failures = 0, left = 0;
    mt_error_t *err = NULL;
    if (webauth_failures(db, &w->auth, addr, &failures, &left, &err) != 0)
        mt_error_free(err);
    log_info("failed web login from %s", addr);
    if (left > 0)
        return too_many(resp, left);
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "retryDelay",
                           json_object_new_int(webauth_retry_delay_ms(failures)));
    return wa_result(resp, 401, false, "unauthorized", "Invalid username or password", extra);
}

int
wa_login(http_request_t *req, http_response_t *resp, void *ctx)
{
    wa_t *w = ctx;
    const char *addr = http_request_remote_addr(req);
    if (webauth_is_off(&w->auth, addr))
        return wa_result(resp, 200, true, NULL, "Authentication is disabled", NULL);
    const char *user = wa_field(w, req, "username");
    const char *pass = wa_field(w, req, "password");
    if (pass == NULL || *pass == '\0')
        return cgijson_bad_param(resp, "password", "a password is required");
    bool remember = wa_flag(w, req, "rememberMe", NULL);
    int lifetime = remember ? WA_SESSION_REMEMBER : WA_SESSION_DAY;

    PGconn *db = cgidb_conn(w->env, resp);
    if (db == NULL)
        return 0;
    char *sid = NULL;
    mt_error_t *err = NULL;
    int rc = webauth_login_for(db, &w->auth, addr, user, pass, lifetime, &sid, &err);
    if (rc < 0) {
        log_warn("login: %s", err != NULL ? err->message : "database error");
        mt_error_free(err);
        return cgijson_error(resp, 503, "unavailable", CGIDB_UNAVAILABLE);
    }
    if (rc == WEBAUTH_LOGIN_BANNED) {
        int failures = 0, left = 0;
        if (webauth_failures(db, &w->auth, addr, &failures, &left, &err) != 0)
            mt_error_free(err);
        return too_many(resp, left);
    }
    if (rc != WEBAUTH_LOGIN_OK)
        return failed(w, db, resp, addr);
    char *cookie = wa_cookie_set(sid, lifetime, wa_is_https(req));
    http_response_add_header(resp, "Set-Cookie", cookie);
    free(cookie);
    free(sid);
    return wa_result(resp, 200, true, NULL, "Login successful", NULL);
}

int
wa_logout(http_request_t *req, http_response_t *resp, void *ctx)
{
    wa_t *w = ctx;
    const char *sid = http_request_cookie(req, WEBAUTH_WEB_COOKIE);
    if (sid != NULL && *sid != '\0') {
        PGconn *db = cgidb_conn(w->env, resp);
        if (db == NULL)
            return 0;
        mt_error_t *err = NULL;
        if (webauth_logout(db, sid, &err) != 0) {
            mt_error_free(err);
            return cgijson_error(resp, 503, "unavailable", CGIDB_UNAVAILABLE);
        }
    }
    char *cookie = wa_cookie_clear(wa_is_https(req));
    http_response_add_header(resp, "Set-Cookie", cookie);
    free(cookie);
    return wa_result(resp, 200, true, NULL, "Logout successful", NULL);
}

/* has_users: whether any account exists besides the admin of
 * web_password; false when the database cannot tell. */
static bool
has_users(wa_t *w)
{
    mt_error_t *err = NULL;
    PGconn *db = cgienv_db(w->env, &err);
    long long n = 0;
    if (db == NULL || webauth_users_count(db, &n, &err) != 0)
        mt_error_free(err);
    return n > 0;
}

int
wa_status(http_request_t *req, http_response_t *resp, void *ctx)
{
    wa_t *w = ctx;
    const char *addr = http_request_remote_addr(req);
    bool off = webauth_is_off(&w->auth, addr);
    webauth_ident_t id = { 0 };
    if (!off) {
        mt_error_t *err = NULL;
        PGconn *db = cgienv_db(w->env, &err);
        mt_error_free(err);
        err = NULL;
        if (webauth_identify(db, &w->auth, req, &id, &err) != 0) {
            mt_error_free(err); /* not logged in, as far as anyone can tell */
            webauth_ident_clear(&id);
        }
    } else {
        id.method = WEBAUTH_OFF;
        id.user = xstrdup(w->auth.username != NULL ? w->auth.username : "");
        id.is_admin = true;
        id.caps = WEBAUTH_CAPS_ALL;
    }
    bool authed = id.method != WEBAUTH_NONE;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "authEnabled", json_object_new_boolean(!off));
    json_object_object_add(o, "authenticated", json_object_new_boolean(authed));
    json_object_object_add(o, "username", authed ? json_object_new_string(id.user) : NULL);
    json_object_object_add(o, "isAdmin", json_object_new_boolean(authed && id.is_admin));
    json_object_object_add(o, "capabilities", authed ? wa_caps_json(id.caps)
                                                     : json_object_new_array());
    json_object_object_add(o, "hasUsers", json_object_new_boolean(has_users(w)));
    json_object_object_add(o, "sso", json_object_new_boolean(false));
    /* how the switch-off is set, so that an admin can see it */
    json_object_object_add(o, "authDisabledFor",
                           json_object_new_string(w->auth.enabled      ? "none"
                                                  : w->auth.off_remote ? "all"
                                                                       : "loopback"));
    webauth_ident_clear(&id);
    http_response_set_header(resp, "Cache-Control", "no-store");
    int rc = cgijson_ok(resp, o);
    json_object_put(o);
    return rc;
}

/* set_admin_password: web_password in the configuration file, for the
 * admin who has no account. */
static int
set_admin_password(wa_t *w, http_response_t *resp, const char *pass)
{
    const char *path = conf_path(cgienv_conf(w->env));
    if (path == NULL)
        return wa_result(resp, 409, false, "conflict",
                         "No configuration file to hold the password", NULL);
    char *hash = webauth_password_hash(pass);
    if (hash == NULL)
        return wa_result(resp, 500, false, "internal", "No random bytes for a salt", NULL);
    const char *keys[] = { "web_password" };
    const char *values[] = { hash };
    mt_error_t *err = NULL;
    int rc = conf_file_update(path, keys, values, 1, &err);
    free(hash);
    if (rc != 0) {
        log_warn("profile: %s", err != NULL ? err->message : "cannot write");
        mt_error_free(err);
        return wa_result(resp, 409, false, "conflict",
                         "The configuration file cannot be written", NULL);
    }
    return wa_result(resp, 200, true, NULL, "Password changed", NULL);
}

int
wa_profile(http_request_t *req, http_response_t *resp, void *ctx)
{
    wa_t *w = ctx;
    const char *cur = wa_field(w, req, "currentPassword");
    const char *pass = wa_field(w, req, "newPassword");
    if (cur == NULL)
        return cgijson_bad_param(resp, "currentPassword", "the current password is required");
    if (pass == NULL || *pass == '\0')
        return cgijson_bad_param(resp, "newPassword", "a new password is required");
    if (w->who.method == WEBAUTH_OFF || w->who.method == WEBAUTH_API_KEY)
        return wa_result(resp, 409, false, "conflict",
                         "Log in as a user to change its password", NULL);
    PGconn *db = cgidb_conn(w->env, resp);
    if (db == NULL)
        return 0;
    mt_error_t *err = NULL;
    int ok = webauth_verify_password(db, &w->auth, &w->who, cur, &err);
    if (ok < 0) {
        mt_error_free(err);
        return cgijson_error(resp, 503, "unavailable", CGIDB_UNAVAILABLE);
    }
    if (ok == 0)
        return wa_result(resp, 403, false, "wrong_password", "The current password is wrong",
                         NULL);
    if (w->who.user_id == 0)
        return set_admin_password(w, resp, pass);
    webauth_user_change_t ch = {
        .password = pass,
        .keep_session = http_request_cookie(req, WEBAUTH_WEB_COOKIE),
    };
    if (webauth_user_update(db, w->who.user_id, &ch, &err) != 0) {
        int status = err != NULL && err->code == MT_ERR_NOT_FOUND ? 404 : 503;
        mt_error_free(err);
        return cgijson_error(resp, status, status == 404 ? "not_found" : "unavailable",
                             status == 404 ? "No such user" : CGIDB_UNAVAILABLE);
    }
    return wa_result(resp, 200, true, NULL, "Password changed", NULL);
}
