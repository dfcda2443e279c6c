/* auth.c: who is calling a FastCGI program: sessions (SID cookie, rows in
 * web_sessions), Bearer API keys and HTTP Basic, with per-address bans
 * after failed logins (auth_failures) that refuse every method while they
 * last. Every process sees the same rows. */
#include "config.h"

#include "webauth/auth.h"
#include "db/db.h"
#include "db/prep.h"
#include "util/utf8.h"
#include "util/xalloc.h"
#include "webauth/caps.h"
#include "webauth/password.h"

#include <errno.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* A session id: SID_BYTES random bytes as lower-case hex. */
#define SID_BYTES 32
#define SID_LEN (2 * SID_BYTES)

void
webauth_conf_from(webauth_conf_t *ac, const conf_t *conf)
{
    ac->username = conf_get_str(conf, "web_username");
    ac->password = conf_get_str(conf, "web_password");
    ac->api_key = conf_get_str(conf, "api_key");
    ac->session_timeout = (int)conf_get_int(conf, "web_session_timeout");
    ac->max_failures = (int)conf_get_int(conf, "web_max_auth_failures");
    ac->ban_seconds = (int)conf_get_int(conf, "web_ban_duration");
    ac->enabled = conf_get_bool(conf, "web_auth_enabled");
    ac->off_remote = conf_get_bool(conf, "web_auth_off_remote");
}

bool
webauth_is_off(const webauth_conf_t *ac, const char *addr)
{
    return !ac->enabled && (ac->off_remote || webauth_addr_is_loopback(addr));
}

void
webauth_ident_clear(webauth_ident_t *id)
{
    if (id == NULL)
        return;
    free(id->user);
    memset(id, 0, sizeof *id);
}

/* ---- helpers ---- */

/* query: db_query_prepared (the same texts on every request), with any failure reported as MT_ERR_UNAVAILABLE (to a
 * caller, authentication without its tables is a service that is down). */
static PGresult *
query(PGconn *db, const char *sql, int n, const char *const *params, mt_error_t **err)
{
    mt_error_t *e = NULL;
    PGresult *r = db_query_prepared(db, sql, n, params, &e);
    if (r == NULL) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "authentication needs the database: %s",
                     e != NULL ? e->message : "unknown error");
        mt_error_free(e);
    }
    return r;
}

static void
to_hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* sid_key: the database key of a session id, the hex SHA-256 of the id. */
static void
sid_key(const char *sid, char out[2 * SHA256_DIGEST_SIZE + 1])
{
    uint8_t d[SHA256_DIGEST_SIZE];
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, strlen(sid), (const uint8_t *)sid);
    sha256_digest(&ctx, sizeof d, d);
    to_hex(d, sizeof d, out);
}

/* sid_is_wellformed: the shape of the ids webauth_login hands out, so a
 * junk cookie costs no query. */
static bool
sid_is_wellformed(const char *sid)
{
    size_t n = 0;
    for (; sid[n] != '\0'; n++)
        if (!((sid[n] >= '0' && sid[n] <= '9') || (sid[n] >= 'a' && sid[n] <= 'f')))
            return false;
    return n == SID_LEN;
}

static char *
new_sid(mt_error_t **err)
{
    uint8_t b[SID_BYTES];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            mt_error_set(err, MT_ERR_INTERNAL, "getrandom: %s", strerror(errno));
            return NULL;
        }
        got += (size_t)r;
    }
    char *sid = xmalloc(SID_LEN + 1);
    to_hex(b, sizeof b, sid);
    explicit_bzero(b, sizeof b);
    return sid;
}

/* ---- the verified-credentials cache ----
 * A PBKDF2 run takes tens of milliseconds on purpose; clients that send
 * Basic on every request would pay it every time. The cache keeps the
 * SHA-256 of the last "stored string, password" that matched, so the
 * same password against the same configured one skips it, whatever user
 * name comes with it (Sonarr and Radarr taking turns). A wrong password
 * never hits (it is not cached), and a changed web_password changes the
 * key. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t cache_key[SHA256_DIGEST_SIZE];
static bool cache_set;

static void
cache_key_of(const char *stored, const char *pass, uint8_t out[SHA256_DIGEST_SIZE])
{
    /* Neither holds a NUL byte, so a NUL separator is unambiguous. */
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, strlen(stored) + 1, (const uint8_t *)stored);
    sha256_update(&ctx, strlen(pass), (const uint8_t *)pass);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

static bool
password_ok(const char *stored, const char *pass)
{
    uint8_t key[SHA256_DIGEST_SIZE];
    cache_key_of(stored, pass, key);
    pthread_mutex_lock(&cache_lock);
    bool hit = cache_set && memeql_sec(key, cache_key, sizeof key);
    pthread_mutex_unlock(&cache_lock);
    if (hit)
        return true;
    if (!webauth_password_verify(stored, pass))
        return false;
    pthread_mutex_lock(&cache_lock);
    memcpy(cache_key, key, sizeof key);
    cache_set = true;
    pthread_mutex_unlock(&cache_lock);
    return true;
}

/* credentials_ok: the password against the configuration. The user name
 * is not checked: any name goes with the web password (qBittorrent
 * clients such as Sonarr and Radarr each send their own), and names the
 * caller for attribution only (webauth_user_name). */
static bool
credentials_ok(const webauth_conf_t *ac, const char *pass)
{
    if (ac->password == NULL || ac->password[0] == '\0')
        return false; /* password logins are disabled */
    return password_ok(ac->password, pass);
}

/* The account a password was checked against: id 0 is the admin of
 * web_password. */
typedef struct {
    long long id;
    bool is_admin;
    uint32_t caps;
    char name[WEBAUTH_MAX_USER + 1];
} account_t;

static void
account_admin(account_t *a)
{
    memset(a, 0, sizeof *a);
    a->is_admin = true;
    a->caps = WEBAUTH_CAPS_ALL;
}

/* credentials: 1 when pass is the password of user: the account of that
 * name when there is one (a disabled one refuses every password), else
 * web_password (credentials_ok). *acct tells which. 0 when wrong, -1
 * with err when the database failed. */
static int
credentials(PGconn *db, const webauth_conf_t *ac, const char *user, const char *pass,
            account_t *acct, mt_error_t **err)
{
    account_admin(acct);
    if (webauth_username_is_valid(user)) {
        const char *p[] = { user };
        PGresult *r = query(db,
                            "SELECT id, username, password, is_admin, capabilities::text, disabled"
                            "  FROM web_users WHERE lower(username) = lower($1)",
                            1, p, err);
        if (r == NULL)
            return -1;
        if (PQntuples(r) == 1) {
            acct->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
            snprintf(acct->name, sizeof acct->name, "%s", PQgetvalue(r, 0, 1));
            acct->is_admin = strcmp(PQgetvalue(r, 0, 3), "t") == 0;
            acct->caps = acct->is_admin ? WEBAUTH_CAPS_ALL : webauth_caps_from_pg(PQgetvalue(r, 0, 4));
            bool ok = strcmp(PQgetvalue(r, 0, 5), "t") != 0 && password_ok(PQgetvalue(r, 0, 2), pass);
            PQclear(r);
            return ok ? 1 : 0;
        }
        PQclear(r);
    }
    return credentials_ok(ac, pass) ? 1 : 0;
}

const char *
webauth_user_name(const webauth_conf_t *ac, const char *given)
{
    const char *fallback = ac->username != NULL ? ac->username : "";
    if (given == NULL || given[0] == '\0')
        return fallback;
    size_t len = strlen(given);
    if (len > WEBAUTH_MAX_USER)
        return fallback;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t n = mt_utf8_next(given + i, len - i, &cp);
        if (n == 0 || mt_utf8_is_control(cp))
            return fallback;
        i += n;
    }
    return given;
}

/* ---- bans ---- */

/* ban_state: *banned when addr is banned now; *has_row when it has a
 * failure row at all (so a success knows whether there is a count to
 * reset). */
static int
ban_state(PGconn *db, const char *addr, bool *banned, bool *has_row, mt_error_t **err)
{
    const char *p[] = { addr };
    PGresult *r = query(db,
                        "SELECT coalesce(banned_until > now(), false) FROM auth_failures"
                        " WHERE remote_addr = $1",
                        1, p, err);
    if (r == NULL)
        return -1;
    *has_row = PQntuples(r) == 1;
    *banned = *has_row && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return 0;
}

int
webauth_banned(PGconn *db, const webauth_conf_t *ac, const char *addr, bool *banned,
               mt_error_t **err)
{
    bool has_row = false;
    *banned = false;
    if (ac->ban_seconds <= 0)
        return 0; /* no bans */
    return ban_state(db, addr != NULL ? addr : "", banned, &has_row, err);
}

/* count_failure: one more failed attempt from addr. The count starts again
 * when the previous failure is older than ban_seconds or a ban has run
 * out; reaching max_failures bans the address for ban_seconds. */
static int
count_failure(PGconn *db, const webauth_conf_t *ac, const char *addr, mt_error_t **err)
{
    if (ac->ban_seconds <= 0)
        return 0; /* no bans: nothing to count toward */
    char max[16], secs[16];
    snprintf(max, sizeof max, "%d", ac->max_failures > 0 ? ac->max_failures : 1);
    snprintf(secs, sizeof secs, "%d", ac->ban_seconds);
    const char *p[] = { addr, max, secs };
    PGresult *r = query(
        db,
        "INSERT INTO auth_failures AS f (remote_addr, failures, last_failure, banned_until)"
        " VALUES ($1, 1, now(),"
        "         CASE WHEN 1 >= $2::int THEN now() + $3::int * interval '1 second' END)"
        " ON CONFLICT (remote_addr) DO UPDATE SET"
        "  failures = CASE WHEN f.last_failure <= now() - $3::int * interval '1 second'"
        "                    OR f.banned_until <= now() THEN 1 ELSE f.failures + 1 END,"
        "  last_failure = now(),"
        "  banned_until = CASE WHEN (CASE WHEN f.last_failure <= now() - $3::int * interval '1 second'"
        "                                   OR f.banned_until <= now() THEN 1"
        "                                 ELSE f.failures + 1 END) >= $2::int"
        "                      THEN now() + $3::int * interval '1 second' END",
        3, p, err);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}

/* attempt: pass from addr, as a login or a Basic header. Returns
 * an WEBAUTH_LOGIN_* outcome or -1; *had_failures tells a success that
 * addr had a failure row to reset. */
static int
attempt(PGconn *db, const webauth_conf_t *ac, const char *addr, const char *user,
        const char *pass, account_t *acct, bool *had_failures, mt_error_t **err)
{
    bool banned = false, has_row = false;
    *had_failures = false;
    if (ac->ban_seconds > 0 && ban_state(db, addr, &banned, &has_row, err) != 0)
        return -1;
    if (banned)
        return WEBAUTH_LOGIN_BANNED;
    int ok = credentials(db, ac, user, pass, acct, err);
    if (ok < 0)
        return -1;
    if (ok == 0)
        return count_failure(db, ac, addr, err) != 0 ? -1 : WEBAUTH_LOGIN_FAILED;
    *had_failures = has_row;
    return WEBAUTH_LOGIN_OK;
}

static int
reset_failures(PGconn *db, const char *addr, mt_error_t **err)
{
    const char *p[] = { addr };
    PGresult *r = query(db, "DELETE FROM auth_failures WHERE remote_addr = $1", 1, p, err);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}

/* ---- sessions ---- */

/* session_user: the caller of a live session whose id is sid (its user,
 * account and capabilities in *id), renewed when due; id->user stays
 * NULL when there is none. One statement: the SELECT, and an UPDATE that
 * runs only when the expiry is outside [now + 0.9 lifetime, now +
 * lifetime], i.e. more than a tenth of the lifetime after the last
 * renewal (or the lifetime was shortened since). The lifetime is the
 * session's own, else the timeout. A session of a disabled account is
 * no session. *banned: whether addr is banned now, read by the same
 * statement. */
static int
session_user(PGconn *db, const webauth_conf_t *ac, const char *sid, const char *addr,
             webauth_ident_t *id, bool *banned, mt_error_t **err)
{
    char key[2 * SHA256_DIGEST_SIZE + 1], secs[16];
    sid_key(sid, key);
    snprintf(secs, sizeof secs, "%d", ac->session_timeout > 0 ? ac->session_timeout : 1);
    const char *p[] = { key, secs, addr != NULL ? addr : "" };
    PGresult *r = query(
        db,
        "WITH s AS ("
        "  SELECT w.sid_hash, coalesce(u.username, w.username) AS username, w.expires_at,"
        "         coalesce(w.lifetime, $2::int) AS life, coalesce(w.user_id, 0) AS user_id,"
        "         coalesce(u.is_admin, true) AS is_admin,"
        "         coalesce(u.capabilities, '{}')::text AS caps"
        "    FROM web_sessions w LEFT JOIN web_users u ON u.id = w.user_id"
        "   WHERE w.sid_hash = $1 AND w.expires_at > now()"
        "     AND NOT coalesce(u.disabled, false)),"
        " renewed AS ("
        "  UPDATE web_sessions w"
        "     SET last_seen = now(), expires_at = now() + s.life * interval '1 second'"
        "    FROM s"
        "   WHERE w.sid_hash = s.sid_hash"
        "     AND NOT (s.expires_at BETWEEN now() + s.life * interval '0.9 second'"
        "                               AND now() + s.life * interval '1 second'))"
        " SELECT username, user_id, is_admin, caps,"
        "        EXISTS (SELECT 1 FROM auth_failures"
        "                 WHERE remote_addr = $3 AND banned_until > now())"
        "   FROM s",
        3, p, err);
    if (r == NULL)
        return -1;
    /* the caller's ban in the same round trip: no second query on every
     * request (bans are off when ban_seconds <= 0) */
    *banned = PQntuples(r) == 1 && ac->ban_seconds > 0 && strcmp(PQgetvalue(r, 0, 4), "t") == 0;
    if (PQntuples(r) == 1) {
        id->user = xstrdup(PQgetvalue(r, 0, 0));
        id->user_id = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
        id->is_admin = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
        id->caps = id->is_admin ? WEBAUTH_CAPS_ALL : webauth_caps_from_pg(PQgetvalue(r, 0, 3));
    }
    PQclear(r);
    return 0;
}

/* unless_banned: valid credentials (*id) from addr are refused
 * (WEBAUTH_NONE) while addr is banned: a ban stops every method, not
 * only logins. When the ban cannot be looked up, -1 with err, unless
 * db_optional (the API key, which works without the database: then
 * nothing can be banned or looked up either). */
static int
unless_banned(PGconn *db, const webauth_conf_t *ac, const char *addr, bool db_optional,
              webauth_ident_t *id, mt_error_t **err)
{
    bool banned = false;
    mt_error_t *e = NULL;
    int rc = webauth_banned(db, ac, addr, &banned, &e);
    if (rc != 0 && db_optional) {
        mt_error_free(e);
        return 0;
    }
    if (rc != 0 || banned)
        webauth_ident_clear(id);
    if (rc != 0) {
        mt_error_propagate(err, e);
        return -1;
    }
    return 0;
}

int
webauth_identify(PGconn *db, const webauth_conf_t *ac, const http_request_t *req,
                 webauth_ident_t *id, mt_error_t **err)
{
    memset(id, 0, sizeof *id);
    mt_error_t *db_err = NULL;
    const char *addr = http_request_remote_addr(req);

    /* /api/v2's cookie, then the web API's (aMuTorrent's name): one
     * table of sessions behind both */
    static const char *const cookies[] = { WEBAUTH_COOKIE, WEBAUTH_WEB_COOKIE };
    for (size_t i = 0; i < sizeof cookies / sizeof cookies[0] && db_err == NULL; i++) {
        const char *sid = http_request_cookie(req, cookies[i]);
        bool banned = false;
        if (sid != NULL && sid_is_wellformed(sid) &&
            session_user(db, ac, sid, addr, id, &banned, &db_err) == 0 && id->user != NULL) {
            id->method = WEBAUTH_SESSION;
            if (banned) /* as unless_banned: a ban stops every method */
                webauth_ident_clear(id);
            return 0;
        }
    }

    /* The API key needs no database: it still works when a session could
     * not be looked up. */
    const char *key = http_request_bearer(req);
    if (key == NULL)
        key = http_request_header(req, "X-API-Key");
    if (key != NULL && webauth_key_equal(key, ac->api_key)) {
        mt_error_free(db_err);
        id->method = WEBAUTH_API_KEY;
        id->user = xstrdup(WEBAUTH_API_USER);
        id->is_admin = true;
        id->caps = WEBAUTH_CAPS_ALL;
        return unless_banned(db, ac, addr, true, id, err);
    }
    if (db_err != NULL) {
        mt_error_propagate(err, db_err);
        return -1;
    }
    if (key != NULL) {
        int rc = webauth_key_user(db, key, 0, id, err);
        if (rc < 0)
            return -1;
        if (rc == 1)
            return unless_banned(db, ac, addr, false, id, err);
    }

    const char *u = NULL, *pw = NULL;
    if (http_request_basic_auth(req, &u, &pw) == 0) {
        bool reset = false;
        account_t acct;
        int rc = attempt(db, ac, addr, u, pw, &acct, &reset, err);
        if (rc < 0)
            return -1;
        if (rc == WEBAUTH_LOGIN_OK) {
            if (reset && reset_failures(db, addr, err) != 0)
                return -1;
            id->method = WEBAUTH_BASIC;
            id->user = xstrdup(acct.id != 0 ? acct.name : webauth_user_name(ac, u));
            id->user_id = acct.id;
            id->is_admin = acct.is_admin;
            id->caps = acct.caps;
        }
    }
    return 0;
}

int
webauth_check(PGconn *db, const webauth_conf_t *ac, const http_request_t *req,
              webauth_method_t *method, char **user, mt_error_t **err)
{
    webauth_ident_t id;
    int rc = webauth_identify(db, ac, req, &id, err);
    *method = id.method;
    *user = id.user; /* handed over */
    return rc;
}

int
webauth_login(PGconn *db, const webauth_conf_t *ac, const char *addr, const char *user,
              const char *pass, char **sid_out, mt_error_t **err)
{
    return webauth_login_for(db, ac, addr, user, pass, 0, sid_out, err);
}

int
webauth_login_for(PGconn *db, const webauth_conf_t *ac, const char *addr, const char *user,
                  const char *pass, int lifetime, char **sid_out, mt_error_t **err)
{
    *sid_out = NULL;
    if (addr == NULL)
        addr = "";
    if (user == NULL)
        user = "";
    if (pass == NULL)
        pass = "";

    /* Housekeeping: expired sessions, and failure rows that count for
     * nothing any more (too old to add to a count, no ban running). */
    char ban[16];
    snprintf(ban, sizeof ban, "%d", ac->ban_seconds > 0 ? ac->ban_seconds : 0);
    const char *pc[] = { ban };
    PGresult *r = query(db,
                        "WITH gone AS (DELETE FROM web_sessions WHERE expires_at <= now())"
                        " DELETE FROM auth_failures"
                        "  WHERE last_failure <= now() - $1::int * interval '1 second'"
                        "    AND (banned_until IS NULL OR banned_until <= now())",
                        1, pc, err);
    if (r == NULL)
        return -1;
    PQclear(r);

    bool reset = false;
    account_t acct;
    int rc = attempt(db, ac, addr, user, pass, &acct, &reset, err);
    if (rc != WEBAUTH_LOGIN_OK)
        return rc;

    char *sid = new_sid(err);
    if (sid == NULL)
        return -1;
    char key[2 * SHA256_DIGEST_SIZE + 1], secs[16], life[16], uid[24];
    sid_key(sid, key);
    snprintf(secs, sizeof secs, "%d",
             lifetime > 0 ? lifetime : ac->session_timeout > 0 ? ac->session_timeout : 1);
    snprintf(life, sizeof life, "%d", lifetime);
    snprintf(uid, sizeof uid, "%lld", acct.id);
    /* The session remembers the name given (an account's as stored):
     * what it adds is attributed to it. */
    const char *name = acct.id != 0 ? acct.name : webauth_user_name(ac, user);
    const char *p[] = { key, name, addr, secs, lifetime > 0 ? life : NULL,
                        acct.id != 0 ? uid : NULL };
    r = query(db,
              "WITH reset AS (DELETE FROM auth_failures WHERE remote_addr = $3),"
              " seen AS (UPDATE web_users SET last_login_at = now() WHERE id = $6::bigint)"
              " INSERT INTO web_sessions"
              "   (sid_hash, username, remote_addr, created_at, last_seen, expires_at,"
              "    lifetime, user_id)"
              " VALUES ($1, $2, $3, now(), now(), now() + $4::int * interval '1 second',"
              "         $5::int, $6::bigint)",
              6, p, err);
    if (r == NULL) {
        free(sid);
        return -1;
    }
    PQclear(r);
    *sid_out = sid;
    return WEBAUTH_LOGIN_OK;
}

int
webauth_logout(PGconn *db, const char *sid, mt_error_t **err)
{
    if (sid == NULL || *sid == '\0')
        return 0;
    char key[2 * SHA256_DIGEST_SIZE + 1];
    sid_key(sid, key);
    const char *p[] = { key };
    PGresult *r = query(db, "DELETE FROM web_sessions WHERE sid_hash = $1", 1, p, err);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}

int
webauth_failures(PGconn *db, const webauth_conf_t *ac, const char *addr, int *failures,
                 int *ban_left, mt_error_t **err)
{
    *failures = 0;
    *ban_left = 0;
    if (ac->ban_seconds <= 0)
        return 0;
    const char *p[] = { addr != NULL ? addr : "" };
    PGresult *r = query(db,
                        "SELECT failures, coalesce(ceil(extract(epoch FROM banned_until - now())),"
                        "                          0)::int"
                        "  FROM auth_failures WHERE remote_addr = $1",
                        1, p, err);
    if (r == NULL)
        return -1;
    if (PQntuples(r) == 1) {
        *failures = atoi(PQgetvalue(r, 0, 0));
        int left = atoi(PQgetvalue(r, 0, 1));
        *ban_left = left > 0 ? left : 0;
    }
    PQclear(r);
    return 0;
}

int
webauth_verify_password(PGconn *db, const webauth_conf_t *ac, const webauth_ident_t *id,
                        const char *pass, mt_error_t **err)
{
    if (pass == NULL)
        return 0;
    if (id->user_id == 0)
        return credentials_ok(ac, pass) ? 1 : 0;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", id->user_id);
    const char *p[] = { uid };
    PGresult *r = query(db, "SELECT password FROM web_users WHERE id = $1::bigint", 1, p, err);
    if (r == NULL)
        return -1;
    int ok = PQntuples(r) == 1 && webauth_password_verify(PQgetvalue(r, 0, 0), pass) == 1;
    PQclear(r);
    return ok ? 1 : 0;
}

int
webauth_password_user(PGconn *db, const char *pass, uint32_t need, long long *user_id,
                      mt_error_t **err)
{
    if (pass == NULL || *pass == '\0')
        return 0;
    char *caps = webauth_caps_to_pg(need);
    const char *p[] = { caps };
    PGresult *r = query(db,
                        "SELECT id, password FROM web_users"
                        " WHERE NOT disabled AND (is_admin OR capabilities @> $1::text[])"
                        " ORDER BY id",
                        1, p, err);
    free(caps);
    if (r == NULL)
        return -1;
    int found = 0;
    for (int i = 0; i < PQntuples(r) && !found; i++) {
        if (password_ok(PQgetvalue(r, i, 1), pass)) {
            found = 1;
            if (user_id != NULL)
                *user_id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        }
    }
    PQclear(r);
    return found;
}

int
webauth_key_user(PGconn *db, const char *key, uint32_t need, webauth_ident_t *id,
                 mt_error_t **err)
{
    if (key == NULL || *key == '\0')
        return 0;
    char h[2 * SHA256_DIGEST_SIZE + 1];
    sid_key(key, h); /* the same SHA-256 hex as a session id's */
    char *caps = webauth_caps_to_pg(need);
    const char *p[] = { h, caps };
    PGresult *r = query(db,
                        "SELECT id, username, is_admin, capabilities::text FROM web_users"
                        " WHERE api_key_hash = $1 AND NOT disabled"
                        "   AND (is_admin OR capabilities @> $2::text[])",
                        2, p, err);
    free(caps);
    if (r == NULL)
        return -1;
    int found = PQntuples(r) == 1;
    if (found && id != NULL) {
        webauth_ident_clear(id);
        id->method = WEBAUTH_API_KEY;
        id->user_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        id->user = xstrdup(PQgetvalue(r, 0, 1));
        id->is_admin = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
        id->caps = id->is_admin ? WEBAUTH_CAPS_ALL : webauth_caps_from_pg(PQgetvalue(r, 0, 3));
    }
    PQclear(r);
    return found;
}
