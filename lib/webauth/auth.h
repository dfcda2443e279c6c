/* auth.h: web authentication shared by every FastCGI program: sessions in
 * PostgreSQL behind a SID cookie, HTTP Basic, Bearer API keys and bans
 * after failed logins. Needs libpq and lib/db; the password strings it
 * checks are webauth/password.h's, which need neither.
 *
 * Where things live: web_sessions and auth_failures (sql/010_web_auth.sql,
 * docs/schema.md). A session id never reaches the database in clear: rows
 * are keyed by the SHA-256 (hex) of the id. Every statement binds its
 * values as parameters; nothing from a request is pasted into SQL text. */
#ifndef MT_WEBAUTH_AUTH_H
#define MT_WEBAUTH_AUTH_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"
#include "util/conf.h"
#include "util/error.h"

/* The names of the cookie holding the session id: /api/v2's (as
 * qBittorrent names it) and the web API's (as aMuTorrent names it). */
#define WEBAUTH_COOKIE "SID"
#define WEBAUTH_WEB_COOKIE "amule.sid"
/* The identity of a caller that used the API key. */
#define WEBAUTH_API_USER "api"
/* Longest user name a session or a Basic caller is known by, in bytes. */
#define WEBAUTH_MAX_USER 64

typedef struct {
    const char *username;      /* web_username: the name of a caller who gives none */
    const char *password;      /* web_password as configured: a "pbkdf2-sha256$..." string or
                                * plain text; "" = password logins disabled */
    const char *api_key;       /* "" = no API key */
    int session_timeout;       /* seconds, sliding */
    int max_failures;          /* failed logins before a ban */
    int ban_seconds;           /* 0 = no bans (failures are not counted) */
    bool enabled;              /* web_auth_enabled: false switches the web API's checks off */
    bool off_remote;           /* web_auth_off_remote: ... for other addresses than loopback too */
} webauth_conf_t;

/* webauth_conf_from: fills ac from conf's web_username, web_password,
 * api_key, web_session_timeout, web_max_auth_failures and
 * web_ban_duration, web_auth_enabled and web_auth_off_remote. The strings belong to conf: ac is valid while conf
 * lives and is not reloaded. */
void webauth_conf_from(webauth_conf_t *ac, const conf_t *conf);

/* webauth_is_off: authentication is switched off for a caller at addr
 * (REMOTE_ADDR): web_auth_enabled is no, and addr is loopback or
 * web_auth_off_remote is yes. Such a caller is the admin. Only the web
 * API's programs honour it (cgijson_auth, cgi-bin/web); /api/v2 and
 * Torznab always check. */
bool webauth_is_off(const webauth_conf_t *ac, const char *addr);

typedef enum {
    WEBAUTH_NONE = 0,
    WEBAUTH_SESSION,
    WEBAUTH_BASIC,
    WEBAUTH_API_KEY,
    WEBAUTH_OFF, /* authentication switched off (webauth_is_off) */
} webauth_method_t;

/* Who a caller is. The admin is whoever knows web_password or the API
 * key (user_id 0), or an account of web_users with is_admin; every other
 * account has the capabilities its row gives (webauth/caps.h). */
typedef struct {
    webauth_method_t method;
    char *user;        /* malloc'ed; NULL for WEBAUTH_NONE */
    long long user_id; /* web_users.id, or 0 */
    bool is_admin;
    uint32_t caps; /* WEBAUTH_CAPS_ALL for an admin */
} webauth_ident_t;

/* webauth_ident_clear: frees id->user and zeroes *id; accepts NULL. */
void webauth_ident_clear(webauth_ident_t *id);

/* webauth_identify: webauth_check, telling also the account and its
 * capabilities: a session of an account, or HTTP Basic with an account's
 * name and password, is that account (while it is not disabled); the
 * rest is the admin. id is cleared first; the caller clears it after. */
int webauth_identify(PGconn *db, const webauth_conf_t *ac, const http_request_t *req,
                     webauth_ident_t *id, mt_error_t **err);

/* webauth_check: who is calling. Tries, in order:
 * - the SID or amule.sid cookie: a live session (one SQL statement, which also pushes
 *   the expiry to now + session_timeout once more than a tenth of the
 *   timeout has passed since the last renewal), whose user is the name
 *   given at login;
 * - "Authorization: Bearer KEY" (else an "X-API-Key: KEY" header) equal
 *   to api_key: user WEBAUTH_API_USER; else an account's own API key
 *   (webauth_key_user): that account;
 * - HTTP Basic with an account's name and password (that account), or
 *   any other user name and the web password, the user being
 *   webauth_user_name of the name sent. This is a login attempt
 *   from REMOTE_ADDR like webauth_login: refused while that address is
 *   banned, and a wrong password counts as a failure. A per-process cache
 *   of the last matching credentials spares clients that send Basic on
 *   every request (Radarr) a PBKDF2 run each time.
 * While REMOTE_ADDR is banned (webauth_banned) every method is refused:
 * a session opened before the ban and the API key give WEBAUTH_NONE
 * too, until the ban ends (one more query for valid credentials).
 * Returns 0 and sets *method (WEBAUTH_NONE when nothing valid) and *user
 * (a malloc'ed copy the caller frees; NULL for NONE). Returns -1 with err
 * (MT_ERR_UNAVAILABLE, naming the cause) when the database failed; *method
 * is then WEBAUTH_NONE and *user NULL. The API key needs no database: a
 * valid Bearer key gives 0 and WEBAUTH_API_KEY even then (no ban can be
 * looked up, nor counted, without it). */
int webauth_check(PGconn *db, const webauth_conf_t *ac, const http_request_t *req,
                  webauth_method_t *method, char **user, mt_error_t **err);

/* webauth_banned: *banned when addr (NULL is taken as "") is banned now
 * (never when bans are off: ban_seconds 0). -1 with err
 * (MT_ERR_UNAVAILABLE) when the database failed. A caller that refused a
 * request can use it to answer a banned address as such. */
int webauth_banned(PGconn *db, const webauth_conf_t *ac, const char *addr, bool *banned,
                   mt_error_t **err);

/* Outcomes of webauth_login. */
enum { WEBAUTH_LOGIN_OK = 0, WEBAUTH_LOGIN_FAILED = 1, WEBAUTH_LOGIN_BANNED = 2 };

/* webauth_login: a login attempt from addr (NULL is taken as "").
 * Returns:
 * The user name chooses the password: an account's name (web_users,
 * without regard to case) wants that account's password (a disabled
 * account never logs in) and the session is the account's; any other
 * name goes with web_password, and the session remembers
 * webauth_user_name(ac, user) as its user (the admin).
 * - WEBAUTH_LOGIN_OK: *sid_out gets a new session id (malloc'ed, 64
 *   lower-case hex characters: 256 bits from getrandom()); the address's
 *   failure count is reset;
 * - WEBAUTH_LOGIN_FAILED: wrong password, or password logins are
 *   disabled (web_password empty); counted toward a ban: after
 *   max_failures failures, each within ban_seconds of the previous one,
 *   the address is banned for ban_seconds;
 * - WEBAUTH_LOGIN_BANNED: addr is banned; nothing is checked or counted;
 * - -1 with err (MT_ERR_UNAVAILABLE) when the database failed, or
 *   (MT_ERR_INTERNAL) when the system gave no randomness.
 * Each call also deletes expired sessions and stale failure rows. */
int webauth_login(PGconn *db, const webauth_conf_t *ac, const char *addr, const char *user,
                  const char *pass, char **sid_out, mt_error_t **err);

/* webauth_login_for: webauth_login with the session's own lifetime in
 * seconds (sliding, as web_session_timeout is for the others); 0 is
 * web_session_timeout. */
int webauth_login_for(PGconn *db, const webauth_conf_t *ac, const char *addr, const char *user,
                      const char *pass, int lifetime, char **sid_out, mt_error_t **err);

/* webauth_failures: the failed logins counted for addr (0 when none, or
 * when bans are off) and, while it is banned, the seconds the ban has
 * left (*ban_left, else 0). -1 with err (MT_ERR_UNAVAILABLE). */
int webauth_failures(PGconn *db, const webauth_conf_t *ac, const char *addr, int *failures,
                     int *ban_left, mt_error_t **err);

/* webauth_verify_password: 1 when pass is the password of the caller id
 * (its account's, or web_password for the admin of user_id 0), 0 when
 * not, -1 with err when the database failed. */
int webauth_verify_password(PGconn *db, const webauth_conf_t *ac, const webauth_ident_t *id,
                            const char *pass, mt_error_t **err);

/* webauth_user_name: the name a caller who gave `given` (NULL is taken as
 * "") is known by: given itself when it is 1 to WEBAUTH_MAX_USER bytes of
 * UTF-8 without control characters (it ends up in a download's added_by
 * and in history), else ac->username (web_username, possibly ""). The
 * result is given or ac->username, not a copy. */
const char *webauth_user_name(const webauth_conf_t *ac, const char *given);

/* webauth_logout: deletes the session of this id; an unknown, NULL or
 * empty id is no error. -1 with err (MT_ERR_UNAVAILABLE) when the
 * database failed. */
int webauth_logout(PGconn *db, const char *sid, mt_error_t **err);

/* webauth_key_user: 1 when key is the API key of an account (not
 * disabled) that has every capability of need (0: none needed); *id (may
 * be NULL) gets the account (its name malloc'ed in id->user, the caller
 * clears it) with method WEBAUTH_API_KEY. 0 when none, -1 with err
 * (MT_ERR_UNAVAILABLE). One indexed query: the key's SHA-256 is looked
 * up. */
int webauth_key_user(PGconn *db, const char *key, uint32_t need, webauth_ident_t *id,
                     mt_error_t **err);

/* webauth_password_user: 1 when pass is the password of an account (not
 * disabled) that has every capability of need, for callers that send a
 * key without a name (Torznab's apikey); *user_id (may be NULL) gets its
 * id. 0 when none matches, -1 with err (MT_ERR_UNAVAILABLE). Each
 * candidate costs a PBKDF2 run, except the last one that matched. */
int webauth_password_user(PGconn *db, const char *pass, uint32_t need, long long *user_id,
                          mt_error_t **err);

#endif
