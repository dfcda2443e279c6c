/* users.c: the web API's user accounts in PostgreSQL (users.h): web_users
 * rows, created, changed, removed and listed with bound parameters. */
#include "config.h"

#include "webauth/users.h"
#include "db/db.h"
#include "util/xalloc.h"
#include "webauth/caps.h"
#include "webauth/password.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* The columns of a webauth_user_t, in read_user's order. */
#define USER_COLUMNS                                                                  \
    "id, username, is_admin, disabled, capabilities::text,"                          \
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"       \
    " to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"    \
    " api_key_hash IS NOT NULL"

static void
read_user(PGresult *r, int row, webauth_user_t *u)
{
    u->id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
    u->username = xstrdup(PQgetvalue(r, row, 1));
    u->is_admin = strcmp(PQgetvalue(r, row, 2), "t") == 0;
    u->disabled = strcmp(PQgetvalue(r, row, 3), "t") == 0;
    u->caps = webauth_caps_from_pg(PQgetvalue(r, row, 4));
    u->created_at = xstrdup(PQgetvalue(r, row, 5));
    u->last_login_at = PQgetisnull(r, row, 6) ? NULL : xstrdup(PQgetvalue(r, row, 6));
    u->has_api_key = strcmp(PQgetvalue(r, row, 7), "t") == 0;
}

void
webauth_user_clear(webauth_user_t *u)
{
    if (u == NULL)
        return;
    free(u->username);
    free(u->created_at);
    free(u->last_login_at);
    memset(u, 0, sizeof *u);
}

void
webauth_users_free(webauth_user_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        webauth_user_clear(&list[i]);
    free(list);
}

/* hash_password: the stored string of a new password, or NULL with err. */
static char *
hash_password(const char *password, mt_error_t **err)
{
    if (password == NULL || *password == '\0') {
        mt_error_set(err, MT_ERR_INVALID, "the password must not be empty");
        return NULL;
    }
    char *h = webauth_password_hash(password);
    if (h == NULL)
        mt_error_set(err, MT_ERR_INTERNAL, "no random bytes for a salt");
    return h;
}

int
webauth_user_add(PGconn *db, const char *username, const char *password, bool is_admin,
                 uint32_t caps, long long *id, mt_error_t **err)
{
    if (!webauth_username_is_valid(username)) {
        mt_error_set(err, MT_ERR_INVALID,
                     "a user name is 3 to 32 letters, digits or underscores");
        return -1;
    }
    char *hash = hash_password(password, err);
    if (hash == NULL)
        return -1;
    char *pgcaps = webauth_caps_to_pg(caps & WEBAUTH_CAPS_ALL);
    const char *p[] = { username, hash, is_admin ? "t" : "f", pgcaps };
    PGresult *r = db_query(db,
                           "INSERT INTO web_users (username, password, is_admin, capabilities)"
                           " VALUES ($1, $2, $3::boolean, $4::text[])"
                           " ON CONFLICT ((lower(username))) DO NOTHING RETURNING id",
                           4, p, err);
    free(hash);
    free(pgcaps);
    if (r == NULL)
        return -1;
    int rc = 0;
    if (PQntuples(r) != 1) {
        mt_error_set(err, MT_ERR_EXISTS, "the user %s exists", username);
        rc = -1;
    } else if (id != NULL) {
        *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    return rc;
}

/* sid_hash_hex: the lower-case hex SHA-256 of a secret: web_sessions' key
 * of a session id (auth.c's rule), web_users' of an API key. */
static void
sid_hash_hex(const char *sid, char out[2 * SHA256_DIGEST_SIZE + 1])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t d[SHA256_DIGEST_SIZE];
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, strlen(sid), (const uint8_t *)sid);
    sha256_digest(&ctx, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * sizeof d] = '\0';
}

int
webauth_user_update(PGconn *db, long long id, const webauth_user_change_t *ch,
                    mt_error_t **err)
{
    char *hash = NULL, *pgcaps = NULL;
    if (ch->password != NULL && (hash = hash_password(ch->password, err)) == NULL)
        return -1;
    if (ch->set_caps)
        pgcaps = webauth_caps_to_pg(ch->caps & WEBAUTH_CAPS_ALL);
    char uid[24], keep[2 * SHA256_DIGEST_SIZE + 1] = "";
    snprintf(uid, sizeof uid, "%lld", id);
    if (ch->keep_session != NULL)
        sid_hash_hex(ch->keep_session, keep);
    const char *p[] = {
        uid,
        hash,
        ch->set_admin ? (ch->is_admin ? "t" : "f") : NULL,
        pgcaps,
        ch->set_disabled ? (ch->disabled ? "t" : "f") : NULL,
        keep,
    };
    /* A new password ends the account's other sessions; disabling it ends
     * them all (a session of a disabled account is refused anyway). */
    PGresult *r = db_query(
        db,
        "WITH u AS ("
        "  UPDATE web_users SET password = coalesce($2, password),"
        "         is_admin = coalesce($3::boolean, is_admin),"
        "         capabilities = coalesce($4::text[], capabilities),"
        "         disabled = coalesce($5::boolean, disabled), updated_at = now()"
        "   WHERE id = $1::bigint RETURNING id),"
        " gone AS ("
        "  DELETE FROM web_sessions WHERE user_id IN (SELECT id FROM u)"
        "     AND (($2::text IS NOT NULL AND sid_hash <> $6) OR $5::boolean))"
        " SELECT id FROM u",
        6, p, err);
    if (hash != NULL)
        explicit_bzero(hash, strlen(hash));
    free(hash);
    free(pgcaps);
    if (r == NULL)
        return -1;
    int rc = 0;
    if (PQntuples(r) != 1) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "no user %lld", id);
        rc = -1;
    }
    PQclear(r);
    return rc;
}

int
webauth_user_new_api_key(PGconn *db, long long id, char **key, mt_error_t **err)
{
    *key = NULL;
    uint8_t b[32];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            mt_error_set(err, MT_ERR_INTERNAL, "getrandom: %s", strerror(errno));
            return -1;
        }
        got += (size_t)r;
    }
    static const char digits[] = "0123456789abcdef";
    char *k = xmalloc(2 * sizeof b + 1);
    for (size_t i = 0; i < sizeof b; i++) {
        k[2 * i] = digits[b[i] >> 4];
        k[2 * i + 1] = digits[b[i] & 15];
    }
    k[2 * sizeof b] = '\0';
    explicit_bzero(b, sizeof b);
    char uid[24], h[2 * SHA256_DIGEST_SIZE + 1];
    snprintf(uid, sizeof uid, "%lld", id);
    sid_hash_hex(k, h);
    const char *p[] = { uid, h };
    PGresult *r = db_query(db,
                           "UPDATE web_users SET api_key_hash = $2, updated_at = now()"
                           " WHERE id = $1::bigint RETURNING id",
                           2, p, err);
    if (r == NULL) {
        free(k);
        return -1;
    }
    int found = PQntuples(r) == 1;
    PQclear(r);
    if (!found) {
        free(k);
        mt_error_set(err, MT_ERR_NOT_FOUND, "no user %lld", id);
        return -1;
    }
    *key = k;
    return 0;
}

int
webauth_user_remove(PGconn *db, long long id, mt_error_t **err)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", id);
    const char *p[] = { uid };
    PGresult *r = db_query(db, "DELETE FROM web_users WHERE id = $1::bigint RETURNING id", 1, p,
                           err);
    if (r == NULL)
        return -1;
    int rc = 0;
    if (PQntuples(r) != 1) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "no user %lld", id);
        rc = -1;
    }
    PQclear(r);
    return rc;
}

int
webauth_user_find(PGconn *db, const char *name, long long *id, mt_error_t **err)
{
    *id = 0;
    const char *p[] = { name != NULL ? name : "" };
    PGresult *r = db_query(db, "SELECT id FROM web_users WHERE lower(username) = lower($1)", 1,
                           p, err);
    if (r == NULL)
        return -1;
    if (PQntuples(r) == 1)
        *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

int
webauth_user_get(PGconn *db, long long id, webauth_user_t *u, mt_error_t **err)
{
    memset(u, 0, sizeof *u);
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", id);
    const char *p[] = { uid };
    PGresult *r = db_query(db, "SELECT " USER_COLUMNS " FROM web_users WHERE id = $1::bigint", 1,
                           p, err);
    if (r == NULL)
        return -1;
    int found = PQntuples(r) == 1;
    if (found)
        read_user(r, 0, u);
    PQclear(r);
    return found;
}

int
webauth_users_list(PGconn *db, webauth_user_t **out, size_t *n, mt_error_t **err)
{
    *out = NULL;
    *n = 0;
    PGresult *r = db_query(db, "SELECT " USER_COLUMNS " FROM web_users ORDER BY created_at, id",
                           0, NULL, err);
    if (r == NULL)
        return -1;
    int rows = PQntuples(r);
    if (rows > 0) {
        *out = xcalloc((size_t)rows, sizeof **out);
        for (int i = 0; i < rows; i++)
            read_user(r, i, &(*out)[i]);
        *n = (size_t)rows;
    }
    PQclear(r);
    return 0;
}

int
webauth_users_count(PGconn *db, long long *n, mt_error_t **err)
{
    *n = 0;
    PGresult *r = db_query(db, "SELECT count(*) FROM web_users", 0, NULL, err);
    if (r == NULL)
        return -1;
    *n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}
