/* users.h: the web API's user accounts in PostgreSQL (web_users,
 * sql/021_web_users.sql): create, change, remove and list them. Used by
 * cgi-bin/web (/api/users, PUT /api/auth/profile) and `muleteer user`.
 * Every statement binds its values; passwords are stored as PBKDF2
 * strings (webauth/password.h), never in clear. */
#ifndef MT_WEBAUTH_USERS_H
#define MT_WEBAUTH_USERS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct {
    long long id;
    char *username;
    bool is_admin;
    bool disabled;
    uint32_t caps;       /* as stored; an admin has all whatever it says */
    char *created_at;    /* ISO 8601, UTC */
    char *last_login_at; /* ISO 8601, UTC, or NULL */
    bool has_api_key;
} webauth_user_t;

/* webauth_user_add: a new account. password is hashed here. *id (if not
 * NULL) gets its id. Errors: MT_ERR_INVALID (a name outside
 * webauth_username_is_valid, an empty password), MT_ERR_EXISTS (the name
 * is taken, whatever its case), MT_ERR_INTERNAL (no randomness for the
 * salt), MT_ERR_DB. */
int webauth_user_add(PGconn *db, const char *username, const char *password, bool is_admin,
                     uint32_t caps, long long *id, mt_error_t **err);

/* What webauth_user_update changes: a NULL or unset field is kept. */
typedef struct {
    const char *password; /* new password (hashed here); sessions of the
                           * account other than keep_sid_hash end */
    bool set_admin, is_admin;
    bool set_caps;
    uint32_t caps;
    bool set_disabled, disabled;
    const char *keep_session; /* a session id (cookie value) that survives a
                               * password change, or NULL */
} webauth_user_change_t;

/* webauth_user_update: changes account id. MT_ERR_NOT_FOUND when there
 * is none, MT_ERR_INVALID for an empty password, MT_ERR_DB. */
int webauth_user_update(PGconn *db, long long id, const webauth_user_change_t *ch,
                        mt_error_t **err);

/* webauth_user_remove: deletes account id and its sessions (downloads it
 * added keep its name in added_by). MT_ERR_NOT_FOUND, MT_ERR_DB. */
int webauth_user_remove(PGconn *db, long long id, mt_error_t **err);

/* webauth_user_new_api_key: gives account id a new API key (32 random
 * bytes as 64 hex digits; the old one stops working) into *key, which
 * the caller frees: it is shown once, only its SHA-256 is stored.
 * MT_ERR_NOT_FOUND, MT_ERR_INTERNAL (no randomness), MT_ERR_DB. */
int webauth_user_new_api_key(PGconn *db, long long id, char **key, mt_error_t **err);

/* webauth_user_find: the id of the account named name (without regard to
 * case) into *id: 0 and *id 0 when there is none. -1 with MT_ERR_DB. */
int webauth_user_find(PGconn *db, const char *name, long long *id, mt_error_t **err);

/* webauth_user_get: one account into *u (webauth_user_clear frees it):
 * 1, or 0 when there is none; -1 with MT_ERR_DB. */
int webauth_user_get(PGconn *db, long long id, webauth_user_t *u, mt_error_t **err);

/* webauth_users_list: every account, oldest first, into a new array of
 * *n (webauth_users_free frees it; NULL when none). -1 with MT_ERR_DB. */
int webauth_users_list(PGconn *db, webauth_user_t **out, size_t *n, mt_error_t **err);

/* webauth_users_count: how many accounts exist. -1 with MT_ERR_DB. */
int webauth_users_count(PGconn *db, long long *n, mt_error_t **err);

void webauth_user_clear(webauth_user_t *u);
void webauth_users_free(webauth_user_t *list, size_t n);

#endif
