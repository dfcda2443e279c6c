/* auth.c: the auth/ scope of /api/v2: login (sessions in PostgreSQL, the
 * ban after repeated failures) and logout, answered as qBittorrent 4.5.2
 * answers them (200 "Ok." / 200 "Fails." / 403 while banned). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "qbit/qbit.h"
#include "util/log.h"
#include "util/xalloc.h"

int
qbit_auth_login(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    PGconn *db = cgidb_conn(q->env, resp);
    if (db == NULL)
        return 0;
    mt_error_t *err = NULL;
    /* A caller that already has a valid session is told "Ok." whatever
     * the credentials, and keeps its cookie (qBittorrent does this). */
    const char *sid = http_request_cookie(req, "SID");
    if (sid != NULL) {
        webauth_method_t method = WEBAUTH_NONE;
        char *user = NULL;
        if (webauth_check(db, &q->auth, req, &method, &user, &err) != 0) {
            mt_error_free(err);
            return qbit_text(resp, 503, CGIDB_UNAVAILABLE);
        }
        free(user);
        if (method == WEBAUTH_SESSION)
            return qbit_text(resp, 200, "Ok.");
    }
    const char *u = http_request_param(req, "username");
    const char *p = http_request_param(req, "password");
    const char *addr = http_request_remote_addr(req);
    char *new_sid = NULL;
    int rc = webauth_login(db, &q->auth, addr, u != NULL ? u : "", p != NULL ? p : "",
                           &new_sid, &err);
    if (rc < 0) {
        log_warn("login: %s", err != NULL ? err->message : "database error");
        mt_error_free(err);
        return qbit_text(resp, 503, CGIDB_UNAVAILABLE);
    }
    if (rc == WEBAUTH_LOGIN_BANNED)
        return qbit_text(resp, 403, QBIT_BANNED);
    if (rc != WEBAUTH_LOGIN_OK) {
        log_info("failed login from %s", addr);
        return qbit_text(resp, 200, "Fails.");
    }
    char *cookie = xasprintf("SID=%s; HttpOnly; path=/; SameSite=Strict", new_sid);
    http_response_add_header(resp, "Set-Cookie", cookie);
    free(cookie);
    free(new_sid);
    return qbit_text(resp, 200, "Ok.");
}

int
qbit_auth_logout(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    const char *sid = http_request_cookie(req, "SID");
    if (sid != NULL) {
        PGconn *db = cgidb_conn(q->env, resp);
        if (db == NULL)
            return 0;
        mt_error_t *err = NULL;
        if (webauth_logout(db, sid, &err) != 0) {
            mt_error_free(err);
            return qbit_text(resp, 503, CGIDB_UNAVAILABLE);
        }
    }
    /* the cookie expires "yesterday", as qBittorrent writes it */
    char date[64];
    time_t t = time(NULL) - 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d-%b-%Y %H:%M:%S GMT", &tm);
    char cookie[128];
    snprintf(cookie, sizeof cookie, "SID=; expires=%s; path=/", date);
    http_response_add_header(resp, "Set-Cookie", cookie);
    return qbit_text(resp, 200, NULL);
}
