/* check_auth.c: unit tests for lib/webauth: password strings and
 * constant-time comparisons, then sessions, Basic, Bearer and bans (which
 * refuse every method while they last) against a private PostgreSQL
 * cluster started by tools/pgcluster.sh. */
#include "config.h"

#include <check.h>
#include <nettle/base64.h>
#include <nettle/pbkdf2.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/migrate.h"
#include "pgtest.h"
#include "webauth/caps.h"
#include "webauth/users.h"
#include "util/conf.h"
#include "util/xalloc.h"
#include "webauth/auth.h"
#include "webauth/password.h"

/* Made with Python's hashlib.pbkdf2_hmac('sha256', b'hunter2',
 * bytes(range(16)), N, 32): an independent known answer. */
#define KNOWN_1000 \
    "pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0ODw==$9VUOiRGfWTzTZixtfaW9P3qQ4lzS3CIfWKYWbHcnU9M="
#define KNOWN_1 \
    "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA="

/* ---- password strings ---- */

START_TEST(test_password_round_trip)
{
    char *h = webauth_password_hash("correct horse");
    ck_assert_ptr_nonnull(h);
    ck_assert_msg(strncmp(h, "pbkdf2-sha256$100000$", 21) == 0, "format: %s", h);
    /* 16-byte salt (24 base64 characters), 32-byte hash (44). */
    const char *salt = h + 21, *d = strchr(salt, '$');
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq((int)(d - salt), 24);
    ck_assert_int_eq((int)strlen(d + 1), 44);
    ck_assert_int_eq(webauth_password_is_hashed(h), 1);
    ck_assert_int_eq(webauth_password_verify(h, "correct horse"), 1);
    ck_assert_int_eq(webauth_password_verify(h, "correct horsE"), 0);
    ck_assert_int_eq(webauth_password_verify(h, "correct horse "), 0);
    ck_assert_int_eq(webauth_password_verify(h, ""), 0);
    ck_assert_int_eq(webauth_password_verify(h, NULL), 0);
    /* A new salt each time. */
    char *h2 = webauth_password_hash("correct horse");
    ck_assert_str_ne(h, h2);
    ck_assert_int_eq(webauth_password_verify(h2, "correct horse"), 1);
    free(h);
    free(h2);
    /* The empty password can be hashed and checked too. */
    h = webauth_password_hash("");
    ck_assert_int_eq(webauth_password_verify(h, ""), 1);
    ck_assert_int_eq(webauth_password_verify(h, "x"), 0);
    free(h);
}
END_TEST

START_TEST(test_password_known_answer)
{
    ck_assert_int_eq(webauth_password_verify(KNOWN_1000, "hunter2"), 1);
    ck_assert_int_eq(webauth_password_verify(KNOWN_1000, "hunter3"), 0);
    /* The iteration count is taken from the string. */
    ck_assert_int_eq(webauth_password_verify(KNOWN_1, "hunter2"), 1);
    char *swapped = xstrdup(KNOWN_1000);
    memcpy(strstr(swapped, "$1000$"), "$1001$", 6);
    ck_assert_int_eq(webauth_password_verify(swapped, "hunter2"), 0);
    free(swapped);
}
END_TEST

START_TEST(test_password_plain)
{
    ck_assert_int_eq(webauth_password_verify("s3cret", "s3cret"), 1);
    ck_assert_int_eq(webauth_password_verify("s3cret", "s3creT"), 0);
    ck_assert_int_eq(webauth_password_verify("s3cret", "s3cret "), 0);
    ck_assert_int_eq(webauth_password_verify("s3cret", "s3cre"), 0);
    ck_assert_int_eq(webauth_password_verify("s3cret", ""), 0);
    ck_assert_int_eq(webauth_password_is_hashed("s3cret"), 0);
    /* Empty means disabled: nothing matches, not even "". */
    ck_assert_int_eq(webauth_password_verify("", ""), 0);
    ck_assert_int_eq(webauth_password_verify(NULL, ""), 0);
    /* Without the '$' it is just a plain password that happens to look like
     * the prefix. */
    ck_assert_int_eq(webauth_password_verify("pbkdf2-sha256", "pbkdf2-sha256"), 1);
}
END_TEST

START_TEST(test_password_malformed)
{
    static const char *const bad[] = {
        /* iterations */
        "pbkdf2-sha256$0$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$-1$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$+1$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$01$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$ 1$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$1e3$AAECAwQFBgcICQoLDA0ODw==$9VUOiRGfWTzTZixtfaW9P3qQ4lzS3CIfWKYWbHcnU9M=",
        "pbkdf2-sha256$10000001$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$99999999999999999999$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        /* salt: bad character, no padding, blank inside, filler bits set,
         * 15 and 17 bytes */
        "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0OD!==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0ODw$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$1$AAECAwQFBgcI CQoLDA0ODw=$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0ODx==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0O$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0ODxA=$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=",
        /* hash: filler bits set, 31 and 33 bytes, URL-safe alphabet,
         * trailing data */
        "pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0ODw==$9VUOiRGfWTzTZixtfaW9P3qQ4lzS3CIfWKYWbHcnU9N=",
        "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+g==",
        "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vAA",
        "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0ODw==$agw5Fd--iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR-vA=",
        "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA=$",
        "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0ODw==$agw5Fd++iqqa5x5dvH02ifmCDvjnoVibfSlIxNIR+vA= ",
        /* fields missing */
        "pbkdf2-sha256$1$AAECAwQFBgcICQoLDA0ODw==",
        "pbkdf2-sha256$1",
        "pbkdf2-sha256$",
        "pbkdf2-sha256$1$$",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(webauth_password_verify(bad[i], "hunter2") == 0, "matched: %s", bad[i]);
        ck_assert_msg(webauth_password_is_hashed(bad[i]) == 0, "well-formed: %s", bad[i]);
        /* Never taken as plain text either. */
        ck_assert_msg(webauth_password_verify(bad[i], bad[i]) == 0, "plain: %s", bad[i]);
    }
    ck_assert_int_eq(webauth_password_is_hashed(KNOWN_1), 1);
}
END_TEST

START_TEST(test_key_equal)
{
    ck_assert_int_eq(webauth_key_equal("abc", "abc"), 1);
    ck_assert_int_eq(webauth_key_equal("abc", "abd"), 0);
    ck_assert_int_eq(webauth_key_equal("abc", "abcd"), 0);
    ck_assert_int_eq(webauth_key_equal("abcd", "abc"), 0);
    ck_assert_int_eq(webauth_key_equal("abc", "ABC"), 0);
    ck_assert_int_eq(webauth_key_equal("", ""), 0);
    ck_assert_int_eq(webauth_key_equal("", "abc"), 0);
    ck_assert_int_eq(webauth_key_equal(NULL, "abc"), 0);
    ck_assert_int_eq(webauth_key_equal("abc", NULL), 0);
    char a[2001], b[2001];
    memset(a, 'k', 2000);
    a[2000] = '\0';
    memcpy(b, a, sizeof a);
    ck_assert_int_eq(webauth_key_equal(a, b), 1);
    b[1999] = 'j';
    ck_assert_int_eq(webauth_key_equal(a, b), 0);
}
END_TEST

START_TEST(test_user_name)
{
    webauth_conf_t ac = { .username = "admin" };
    ck_assert_str_eq(webauth_user_name(&ac, "sonarr"), "sonarr");
    ck_assert_str_eq(webauth_user_name(&ac, "Radarr 4 \xe2\x80\x94 tv"), "Radarr 4 \xe2\x80\x94 tv");
    /* none given: web_username */
    ck_assert_str_eq(webauth_user_name(&ac, ""), "admin");
    ck_assert_str_eq(webauth_user_name(&ac, NULL), "admin");
    /* what cannot be shown as a download's added_by: web_username too */
    ck_assert_str_eq(webauth_user_name(&ac, "a\tb"), "admin");
    ck_assert_str_eq(webauth_user_name(&ac, "a\x7f"), "admin");
    ck_assert_str_eq(webauth_user_name(&ac, "\xc2\x85"), "admin");
    ck_assert_str_eq(webauth_user_name(&ac, "bad \xff utf-8"), "admin");
    ck_assert_str_eq(webauth_user_name(&ac, "cut \xe2\x80"), "admin");
    char name[WEBAUTH_MAX_USER + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    ck_assert_str_eq(webauth_user_name(&ac, name), "admin");
    name[WEBAUTH_MAX_USER] = '\0';
    ck_assert_str_eq(webauth_user_name(&ac, name), name);
    ac.username = "";
    ck_assert_str_eq(webauth_user_name(&ac, ""), "");
    ac.username = NULL;
    ck_assert_str_eq(webauth_user_name(&ac, NULL), "");
}
END_TEST

START_TEST(test_conf_from)
{
    conf_t *c = conf_new();
    webauth_conf_t ac;
    webauth_conf_from(&ac, c);
    ck_assert_str_eq(ac.username, "admin");
    ck_assert_str_eq(ac.password, "");
    ck_assert_str_eq(ac.api_key, "");
    ck_assert_int_eq(ac.session_timeout, 3600);
    ck_assert_int_eq(ac.max_failures, 5);
    ck_assert_int_eq(ac.ban_seconds, 3600);
    mt_error_t *err = NULL;
    ck_assert_int_eq(conf_load_string(c,
                                      "web_username =\n"
                                      "web_password = " KNOWN_1 "\n"
                                      "api_key = k3y\n"
                                      "web_session_timeout = 60\n"
                                      "web_max_auth_failures = 1000\n"
                                      "web_ban_duration = 0\n",
                                      "t.conf", &err),
                     0);
    webauth_conf_from(&ac, c);
    ck_assert_str_eq(ac.username, "");
    ck_assert_str_eq(ac.password, KNOWN_1);
    ck_assert_str_eq(ac.api_key, "k3y");
    ck_assert_int_eq(ac.session_timeout, 60);
    ck_assert_int_eq(ac.max_failures, 1000);
    ck_assert_int_eq(ac.ban_seconds, 0);
    static const char *const refused[][2] = {
        { "web_session_timeout", "59" },     { "web_session_timeout", "2592001" },
        { "web_max_auth_failures", "0" },    { "web_max_auth_failures", "1001" },
        { "web_ban_duration", "-1" },        { "web_ban_duration", "31536001" },
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ck_assert_msg(conf_set(c, refused[i][0], refused[i][1], &err) == -1, "%s = %s accepted",
                      refused[i][0], refused[i][1]);
        ck_assert_ptr_nonnull(strstr(err->message, refused[i][0]));
        mt_error_clear(&err);
    }
    ck_assert_int_eq(conf_set(c, "web_session_timeout", "2592000", &err), 0);
    ck_assert_int_eq(conf_set(c, "web_ban_duration", "31536000", &err), 0);
    conf_free(c);
}
END_TEST

/* ---- PostgreSQL ---- */

static void
cluster_up(void)
{
    pgtest_up("check_auth");
}

static void
cluster_down(void)
{
    pgtest_down();
}

static PGconn *
connect_to(const char *name)
{
    char *ci = pgtest_conninfo(name);
    mt_error_t *err = NULL;
    PGconn *c = db_connect(ci, "check_auth", 5, &err);
    ck_assert_msg(c != NULL, "connect: %s", err ? err->message : "?");
    free(ci);
    return c;
}

/* A fresh, migrated database per test, so tests do not see each other's
 * sessions and bans. */
static PGconn *
fresh_db(const char *name)
{
    pgtest_createdb(name);
    PGconn *c = connect_to(name);
    mt_error_t *err = NULL;
    ck_assert_msg(db_migrate(c, db_migrations, db_n_migrations, NULL, &err) == 0, "migrate: %s",
                  err ? err->message : "?");
    return c;
}

/* sql1: the one value of a query (a new string), with up to two text
 * parameters. */
static char *
sql1(PGconn *c, const char *sql, const char *p1, const char *p2)
{
    const char *p[] = { p1, p2 };
    int n = p2 != NULL ? 2 : p1 != NULL ? 1 : 0;
    mt_error_t *err = NULL;
    PGresult *r = db_query(c, sql, n, p, &err);
    ck_assert_msg(r != NULL, "%s: %s", sql, err ? err->message : "?");
    ck_assert_msg(PQntuples(r) == 1, "%s: %d rows", sql, PQntuples(r));
    char *v = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static int
sql_int(PGconn *c, const char *sql, const char *p1)
{
    char *v = sql1(c, sql, p1, NULL);
    int n = atoi(v);
    free(v);
    return n;
}

static void
sql_exec(PGconn *c, const char *sql, const char *p1)
{
    const char *p[] = { p1 };
    mt_error_t *err = NULL;
    PGresult *r = db_query(c, sql, p1 != NULL ? 1 : 0, p, &err);
    ck_assert_msg(r != NULL, "%s: %s", sql, err ? err->message : "?");
    PQclear(r);
}

/* A request as a FastCGI program gets it: cookie, Authorization header
 * and client address (any may be NULL). */
static http_request_t *
request(const char *cookie, const char *authorization, const char *addr)
{
    char *env[6];
    size_t n = 0;
    env[n++] = xstrdup("REQUEST_METHOD=GET");
    env[n++] = xstrdup("REQUEST_URI=/api/v2/app/version");
    if (cookie != NULL)
        env[n++] = xasprintf("HTTP_COOKIE=%s", cookie);
    if (authorization != NULL && strncmp(authorization, "X-API-Key: ", 11) == 0)
        env[n++] = xasprintf("HTTP_X_API_KEY=%s", authorization + 11); /* the other header */
    else if (authorization != NULL)
        env[n++] = xasprintf("HTTP_AUTHORIZATION=%s", authorization);
    env[n++] = xasprintf("REMOTE_ADDR=%s", addr != NULL ? addr : "127.0.0.1");
    env[n] = NULL;
    mt_error_t *err = NULL;
    http_request_t *req = http_request_new(env, NULL, 0, NULL, &err);
    ck_assert_msg(req != NULL, "request: %s", err ? err->message : "?");
    for (size_t i = 0; i < n; i++)
        free(env[i]);
    return req;
}

static char *
basic(const char *user, const char *pass)
{
    char *up = xasprintf("%s:%s", user, pass);
    size_t n = strlen(up);
    char *out = xmalloc(6 + BASE64_ENCODE_RAW_LENGTH(n) + 1);
    memcpy(out, "Basic ", 6);
    base64_encode_raw(out + 6, n, (const uint8_t *)up);
    out[6 + BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
    free(up);
    return out;
}

/* check: webauth_check on a request built from the arguments; returns
 * the method and puts the user (or NULL) in *user. Fails the test on a
 * database error. */
static webauth_method_t
check(PGconn *db, const webauth_conf_t *ac, const char *cookie, const char *authorization,
      const char *addr, char **user)
{
    http_request_t *req = request(cookie, authorization, addr);
    webauth_method_t m = (webauth_method_t)-1;
    char *u = (char *)"unset";
    mt_error_t *err = NULL;
    int rc = webauth_check(db, ac, req, &m, &u, &err);
    ck_assert_msg(rc == 0, "webauth_check: %s", err ? err->message : "?");
    ck_assert_ptr_null(err);
    if (m == WEBAUTH_NONE)
        ck_assert_ptr_null(u);
    else
        ck_assert_ptr_nonnull(u);
    http_request_free(req);
    if (user != NULL)
        *user = u;
    else
        free(u);
    return m;
}

static char *
sid_cookie(const char *sid)
{
    return xasprintf("lang=en; SID=%s; theme=dark", sid);
}

static int
login(PGconn *db, const webauth_conf_t *ac, const char *addr, const char *user,
      const char *pass, char **sid)
{
    char *s = (char *)"unset";
    mt_error_t *err = NULL;
    int rc = webauth_login(db, ac, addr, user, pass, &s, &err);
    ck_assert_msg(rc >= 0, "webauth_login: %s", err ? err->message : "?");
    ck_assert_ptr_null(err);
    if (rc == WEBAUTH_LOGIN_OK)
        ck_assert_ptr_nonnull(s);
    else
        ck_assert_ptr_null(s);
    if (sid != NULL)
        *sid = s;
    else
        free(s);
    return rc;
}

static webauth_conf_t
conf_with(const char *password)
{
    webauth_conf_t ac = {
        .username = "admin",
        .password = password,
        .api_key = "0123456789abcdef0123456789abcdef",
        .session_timeout = 3600,
        .max_failures = 5,
        .ban_seconds = 3600,
    };
    return ac;
}

START_TEST(test_session_life)
{
    PGconn *db = fresh_db("t_life");
    webauth_conf_t ac = conf_with(KNOWN_1000);
    char *sid = NULL, *sid2 = NULL, *user = NULL;
    ck_assert_int_eq(login(db, &ac, "10.0.0.1", "admin", "hunter2", &sid), WEBAUTH_LOGIN_OK);
    /* 64 hex characters: cookie-safe, 256 random bits. */
    ck_assert_int_eq((int)strlen(sid), 64);
    ck_assert_int_eq((int)strspn(sid, "0123456789abcdef"), 64);
    ck_assert_int_eq(login(db, &ac, "10.0.0.1", "admin", "hunter2", &sid2), WEBAUTH_LOGIN_OK);
    ck_assert_str_ne(sid, sid2);

    /* The row: keyed by the SHA-256 of the id, never the id itself. */
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM web_sessions", NULL), 2);
    ck_assert_int_eq(sql_int(db,
                             "SELECT count(*) FROM web_sessions WHERE username = 'admin'"
                             " AND remote_addr = '10.0.0.1'"
                             " AND sid_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')"
                             " AND expires_at BETWEEN now() + interval '3590 s'"
                             "                    AND now() + interval '3601 s'",
                             sid),
                     1);
    ck_assert_int_eq(sql_int(db,
                             "SELECT count(*) FROM web_sessions s"
                             " WHERE position($1 in s::text) > 0",
                             sid),
                     0);

    char *cookie = sid_cookie(sid);
    ck_assert_int_eq(check(db, &ac, cookie, NULL, NULL, &user), WEBAUTH_SESSION);
    ck_assert_str_eq(user, "admin");
    free(user);
    /* The web API's cookie name (aMuTorrent's) reaches the same session. */
    char *web = xasprintf("theme=dark; amule.sid=%s", sid);
    ck_assert_int_eq(check(db, &ac, web, NULL, NULL, &user), WEBAUTH_SESSION);
    ck_assert_str_eq(user, "admin");
    free(user);
    free(web);
    /* Junk and unknown ids are nobody. */
    ck_assert_int_eq(check(db, &ac, "SID=zzz", NULL, NULL, NULL), WEBAUTH_NONE);
    char *other = xasprintf("SID=%.63s0", sid2);
    if (strcmp(other + 4, sid2) == 0)
        other[67] = '1';
    ck_assert_int_eq(check(db, &ac, other, NULL, NULL, NULL), WEBAUTH_NONE);
    free(other);
    char *upper = xasprintf("SID=%s", sid);
    for (char *p = upper + 4; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    ck_assert_int_eq(check(db, &ac, upper, NULL, NULL, NULL), WEBAUTH_NONE);
    free(upper);
    ck_assert_int_eq(check(db, &ac, NULL, NULL, NULL, NULL), WEBAUTH_NONE);

    /* Logout kills this session only. */
    mt_error_t *err = NULL;
    ck_assert_int_eq(webauth_logout(db, sid, &err), 0);
    ck_assert_int_eq(check(db, &ac, cookie, NULL, NULL, NULL), WEBAUTH_NONE);
    char *cookie2 = sid_cookie(sid2);
    ck_assert_int_eq(check(db, &ac, cookie2, NULL, NULL, NULL), WEBAUTH_SESSION);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM web_sessions", NULL), 1);
    ck_assert_int_eq(webauth_logout(db, sid, &err), 0);
    ck_assert_int_eq(webauth_logout(db, NULL, &err), 0);
    ck_assert_int_eq(webauth_logout(db, "", &err), 0);
    ck_assert_int_eq(webauth_logout(db, "not-a-session", &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM web_sessions", NULL), 1);

    /* A session keeps the name it was opened with, whatever web_username
     * says now (it only names callers who give none). */
    webauth_conf_t renamed = ac;
    renamed.username = "root";
    ck_assert_int_eq(check(db, &renamed, cookie2, NULL, NULL, &user), WEBAUTH_SESSION);
    ck_assert_str_eq(user, "admin");
    free(user);

    free(cookie);
    free(cookie2);
    free(sid);
    free(sid2);
    PQfinish(db);
}
END_TEST

START_TEST(test_session_expiry)
{
    PGconn *db = fresh_db("t_expiry");
    webauth_conf_t ac = conf_with("plain pw");
    char *sid = NULL, *sid2 = NULL;
    ck_assert_int_eq(login(db, &ac, "10.0.0.2", "admin", "plain pw", &sid), WEBAUTH_LOGIN_OK);
    char *cookie = sid_cookie(sid);
    ck_assert_int_eq(check(db, &ac, cookie, NULL, NULL, NULL), WEBAUTH_SESSION);
    sql_exec(db, "UPDATE web_sessions SET expires_at = now() - interval '1 s'", NULL);
    ck_assert_int_eq(check(db, &ac, cookie, NULL, NULL, NULL), WEBAUTH_NONE);
    /* An expired session is not revived by being asked for ... */
    ck_assert_int_eq(sql_int(db, "SELECT (expires_at < now())::int FROM web_sessions", NULL), 1);
    /* ... and the next login deletes it. */
    ck_assert_int_eq(login(db, &ac, "10.0.0.2", "admin", "plain pw", &sid2), WEBAUTH_LOGIN_OK);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM web_sessions", NULL), 1);
    ck_assert_int_eq(sql_int(db,
                             "SELECT count(*) FROM web_sessions"
                             " WHERE sid_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')",
                             sid2),
                     1);

    /* A session not used for its timeout ends (1 s here; the
     * configuration allows 60 s at least). */
    free(cookie);
    cookie = sid_cookie(sid2);
    webauth_conf_t short_ac = ac;
    short_ac.session_timeout = 1;
    free(sid);
    ck_assert_int_eq(login(db, &short_ac, "10.0.0.2", "admin", "plain pw", &sid),
                     WEBAUTH_LOGIN_OK);
    char *cookie1 = sid_cookie(sid);
    ck_assert_int_eq(check(db, &short_ac, cookie1, NULL, NULL, NULL), WEBAUTH_SESSION);
    sleep(2);
    ck_assert_int_eq(check(db, &short_ac, cookie1, NULL, NULL, NULL), WEBAUTH_NONE);
    free(cookie1);
    free(cookie);
    free(sid);
    free(sid2);
    PQfinish(db);
}
END_TEST

START_TEST(test_session_sliding)
{
    PGconn *db = fresh_db("t_sliding");
    webauth_conf_t ac = conf_with("plain pw");
    ac.session_timeout = 600;
    char *sid = NULL;
    ck_assert_int_eq(login(db, &ac, "10.0.0.3", "admin", "plain pw", &sid), WEBAUTH_LOGIN_OK);
    char *cookie = sid_cookie(sid);

    /* Renewed less than a tenth of the timeout ago: the check writes
     * nothing. */
    sql_exec(db,
             "UPDATE web_sessions SET expires_at = date_trunc('second', now()) + interval '590 s',"
             " last_seen = '2001-01-01Z'",
             NULL);
    char *before = sql1(db, "SELECT expires_at FROM web_sessions", NULL, NULL);
    ck_assert_int_eq(check(db, &ac, cookie, NULL, NULL, NULL), WEBAUTH_SESSION);
    char *after = sql1(db, "SELECT expires_at FROM web_sessions", NULL, NULL);
    ck_assert_str_eq(before, after);
    ck_assert_int_eq(sql_int(db, "SELECT extract(year FROM last_seen)::int FROM web_sessions",
                             NULL),
                     2001);
    free(before);
    free(after);

    /* Older than that: pushed to now + timeout, last_seen now. */
    sql_exec(db, "UPDATE web_sessions SET expires_at = now() + interval '100 s'", NULL);
    ck_assert_int_eq(check(db, &ac, cookie, NULL, NULL, NULL), WEBAUTH_SESSION);
    ck_assert_int_eq(sql_int(db,
                             "SELECT (expires_at BETWEEN now() + interval '590 s'"
                             "                       AND now() + interval '601 s'"
                             "        AND last_seen > now() - interval '5 s')::int"
                             " FROM web_sessions",
                             NULL),
                     1);

    /* A timeout shortened in the configuration applies at once. */
    sql_exec(db, "UPDATE web_sessions SET expires_at = now() + interval '30 days'", NULL);
    ck_assert_int_eq(check(db, &ac, cookie, NULL, NULL, NULL), WEBAUTH_SESSION);
    ck_assert_int_eq(sql_int(db,
                             "SELECT (expires_at <= now() + interval '601 s')::int"
                             " FROM web_sessions",
                             NULL),
                     1);
    free(cookie);
    free(sid);
    PQfinish(db);
}
END_TEST

START_TEST(test_login_credentials)
{
    PGconn *db = fresh_db("t_creds");
    webauth_conf_t ac = conf_with(KNOWN_1000);
    char *sid = NULL, *user = NULL;
    ck_assert_int_eq(login(db, &ac, "10.0.1.1", "admin", "hunter3", NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(login(db, &ac, "10.0.1.2", "root", "hunter3", NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(login(db, &ac, "10.0.1.3", "Admin", "Hunter2", NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(login(db, &ac, "10.0.1.4", "", "", NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(login(db, &ac, "10.0.1.5", NULL, NULL, NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM web_sessions", NULL), 0);
    /* Each failure was counted against its address. */
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM auth_failures WHERE failures = 1", NULL), 5);

    /* Only the password counts: any name gets in with it, and the session
     * carries the name given, whatever web_username is. */
    static const char *const names[][2] = {
        { "sonarr", "sonarr" }, { "radarr", "radarr" }, { "Admin", "Admin" },
        { "root", "root" },     { "", "admin" },        { NULL, "admin" },
        { "caf\xc3\xa9", "caf\xc3\xa9" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ck_assert_int_eq(login(db, &ac, "10.0.1.6", names[i][0], "hunter2", &sid),
                         WEBAUTH_LOGIN_OK);
        char *cookie = sid_cookie(sid);
        ck_assert_int_eq(check(db, &ac, cookie, NULL, NULL, &user), WEBAUTH_SESSION);
        ck_assert_msg(strcmp(user, names[i][1]) == 0, "login as \"%s\": session user \"%s\"",
                      names[i][0] != NULL ? names[i][0] : "(null)", user);
        free(user);
        free(cookie);
        free(sid);
    }
    /* web_username empty: any name, and the session carries it. */
    webauth_conf_t any = ac;
    any.username = "";
    ck_assert_int_eq(login(db, &any, "10.0.1.6", "sonarr", "hunter2", &sid), WEBAUTH_LOGIN_OK);
    char *cookie = sid_cookie(sid);
    ck_assert_int_eq(check(db, &any, cookie, NULL, NULL, &user), WEBAUTH_SESSION);
    ck_assert_str_eq(user, "sonarr");
    free(user);
    free(cookie);
    free(sid);

    /* web_password empty: password logins are off, whatever is sent. */
    webauth_conf_t off = ac;
    off.password = "";
    ck_assert_int_eq(login(db, &off, "10.0.1.7", "admin", "", NULL), WEBAUTH_LOGIN_FAILED);
    char *b = basic("admin", "");
    ck_assert_int_eq(check(db, &off, NULL, b, "10.0.1.7", NULL), WEBAUTH_NONE);
    free(b);

    /* A plain-text web_password (a hand-edited file) works too. */
    webauth_conf_t plain = ac;
    plain.password = "hunter2";
    ck_assert_int_eq(login(db, &plain, "10.0.1.8", "admin", "hunter2", NULL), WEBAUTH_LOGIN_OK);
    ck_assert_int_eq(login(db, &plain, "10.0.1.8", "admin", "hunter", NULL),
                     WEBAUTH_LOGIN_FAILED);
    PQfinish(db);
}
END_TEST

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_basic_and_bearer)
{
    PGconn *db = fresh_db("t_basic");
    /* Many iterations, so a PBKDF2 run is slow enough to tell from a cache
     * hit. */
    static const char slow_pw[] = "slow and steady";
    uint8_t salt[16], hash[32];
    for (int i = 0; i < 16; i++)
        salt[i] = (uint8_t)(0xa0 + i);
    pbkdf2_hmac_sha256(strlen(slow_pw), (const uint8_t *)slow_pw, 2000000, sizeof salt, salt,
                       sizeof hash, hash);
    char s64[25], h64[45];
    base64_encode_raw(s64, sizeof salt, salt);
    s64[24] = '\0';
    base64_encode_raw(h64, sizeof hash, hash);
    h64[44] = '\0';
    char *stored = xasprintf("pbkdf2-sha256$2000000$%s$%s", s64, h64);
    webauth_conf_t ac = conf_with(NULL);
    ac.password = stored;
    char *user = NULL;

    char *good = basic("admin", slow_pw);
    double t0 = now_s();
    ck_assert_int_eq(check(db, &ac, NULL, good, "10.0.2.1", &user), WEBAUTH_BASIC);
    double t1 = now_s();
    ck_assert_str_eq(user, "admin");
    free(user);
    ck_assert_int_eq(check(db, &ac, NULL, good, "10.0.2.1", NULL), WEBAUTH_BASIC);
    double t2 = now_s();
    ck_assert_msg((t2 - t1) * 5 < (t1 - t0), "no cache: first %.3f s, second %.3f s", t1 - t0,
                  t2 - t1);

    /* The cache never lets a wrong password through. */
    char *wrong = basic("admin", "slow and steadY");
    ck_assert_int_eq(check(db, &ac, NULL, wrong, "10.0.2.2", NULL), WEBAUTH_NONE);
    char *wrong_user = basic("root", "slow and steady ");
    ck_assert_int_eq(check(db, &ac, NULL, wrong_user, "10.0.2.2", NULL), WEBAUTH_NONE);
    ck_assert_int_eq(sql_int(db, "SELECT failures FROM auth_failures WHERE remote_addr = $1",
                             "10.0.2.2"),
                     2);
    /* Any name goes with the password, and is the caller's name; the
     * cache serves it too (Sonarr and Radarr taking turns pay no PBKDF2
     * run each). */
    char *other_user = basic("radarr", slow_pw);
    double t3 = now_s();
    ck_assert_int_eq(check(db, &ac, NULL, other_user, "10.0.2.1", &user), WEBAUTH_BASIC);
    double t4 = now_s();
    ck_assert_str_eq(user, "radarr");
    free(user);
    free(other_user);
    ck_assert_msg((t4 - t3) * 5 < (t1 - t0), "no cache for another name: first %.3f s, then %.3f s",
                  t1 - t0, t4 - t3);
    /* A changed web_password is not served from the cache (which holds
     * these credentials again first). */
    ck_assert_int_eq(check(db, &ac, NULL, good, "10.0.2.1", NULL), WEBAUTH_BASIC);
    webauth_conf_t changed = ac;
    changed.password = KNOWN_1;
    ck_assert_int_eq(check(db, &changed, NULL, good, "10.0.2.1", NULL), WEBAUTH_NONE);

    /* Bearer: the API key, identity "api". */
    ck_assert_int_eq(check(db, &ac, NULL, "Bearer 0123456789abcdef0123456789abcdef", NULL, &user),
                     WEBAUTH_API_KEY);
    ck_assert_str_eq(user, "api");
    free(user);
    ck_assert_int_eq(check(db, &ac, NULL, "Bearer 0123456789abcdef0123456789abcdeF", NULL, NULL),
                     WEBAUTH_NONE);
    ck_assert_int_eq(check(db, &ac, NULL, "Bearer 0123456789abcdef", NULL, NULL), WEBAUTH_NONE);
    /* The same key in an X-API-Key header (the web API, aMuTorrent). */
    ck_assert_int_eq(
        check(db, &ac, NULL, "X-API-Key: 0123456789abcdef0123456789abcdef", NULL, &user),
        WEBAUTH_API_KEY);
    ck_assert_str_eq(user, "api");
    free(user);
    ck_assert_int_eq(check(db, &ac, NULL, "X-API-Key: 0123456789abcdef0123456789abcdeF", NULL,
                           NULL),
                     WEBAUTH_NONE);
    webauth_conf_t nokey = ac;
    nokey.api_key = "";
    ck_assert_int_eq(check(db, &nokey, NULL, "Bearer x", NULL, NULL), WEBAUTH_NONE);
    /* The API key works without the database. */
    http_request_t *req = request(NULL, "Bearer 0123456789abcdef0123456789abcdef", NULL);
    webauth_method_t m;
    mt_error_t *err = NULL;
    ck_assert_int_eq(webauth_check(NULL, &ac, req, &m, &user, &err), 0);
    ck_assert_int_eq(m, WEBAUTH_API_KEY);
    free(user);
    http_request_free(req);

    /* A valid session comes first: bad Basic beside it is not even
     * tried (nothing counted). */
    char *sid = NULL;
    ac.password = "plain";
    ck_assert_int_eq(login(db, &ac, "10.0.2.3", "admin", "plain", &sid), WEBAUTH_LOGIN_OK);
    char *cookie = sid_cookie(sid);
    ck_assert_int_eq(check(db, &ac, cookie, wrong, "10.0.2.3", NULL), WEBAUTH_SESSION);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM auth_failures WHERE remote_addr = $1",
                             "10.0.2.3"),
                     0);
    free(cookie);
    free(sid);
    free(good);
    free(wrong);
    free(wrong_user);
    free(stored);
    PQfinish(db);
}
END_TEST

START_TEST(test_bans)
{
    PGconn *db = fresh_db("t_bans");
    webauth_conf_t ac = conf_with("right");
    const char *a = "192.0.2.1", *b = "192.0.2.2";
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(login(db, &ac, a, "admin", "wrong", NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(sql_int(db, "SELECT (banned_until IS NULL)::int FROM auth_failures"
                                 " WHERE remote_addr = $1", a),
                     1);
    ck_assert_int_eq(login(db, &ac, a, "admin", "wrong", NULL), WEBAUTH_LOGIN_FAILED);
    /* Five failures: banned, even with the right password, and for Basic. */
    ck_assert_int_eq(login(db, &ac, a, "admin", "right", NULL), WEBAUTH_LOGIN_BANNED);
    ck_assert_int_eq(login(db, &ac, a, "admin", "wrong", NULL), WEBAUTH_LOGIN_BANNED);
    char *good = basic("admin", "right");
    ck_assert_int_eq(check(db, &ac, NULL, good, a, NULL), WEBAUTH_NONE);
    ck_assert_int_eq(sql_int(db,
                             "SELECT (failures = 5 AND banned_until BETWEEN now() + interval '3590 s'"
                             " AND now() + interval '3601 s')::int FROM auth_failures"
                             " WHERE remote_addr = $1",
                             a),
                     1);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM web_sessions", NULL), 0);
    /* Another address is not banned. */
    ck_assert_int_eq(login(db, &ac, b, "admin", "right", NULL), WEBAUTH_LOGIN_OK);
    ck_assert_int_eq(check(db, &ac, NULL, good, b, NULL), WEBAUTH_BASIC);

    /* The ban runs out: the right password works and clears the count. */
    sql_exec(db, "UPDATE auth_failures SET banned_until = now() - interval '1 s'", NULL);
    ck_assert_int_eq(login(db, &ac, a, "admin", "right", NULL), WEBAUTH_LOGIN_OK);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM auth_failures WHERE remote_addr = $1", a),
                     0);

    /* A success resets the count: 4 + success + 4 is no ban. */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(login(db, &ac, a, "admin", "wrong", NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(login(db, &ac, a, "admin", "right", NULL), WEBAUTH_LOGIN_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(login(db, &ac, a, "admin", "wrong", NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(login(db, &ac, a, "admin", "right", NULL), WEBAUTH_LOGIN_OK);
    /* ... and so does a success over Basic. */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(login(db, &ac, a, "admin", "wrong", NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(check(db, &ac, NULL, good, a, NULL), WEBAUTH_BASIC);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM auth_failures WHERE remote_addr = $1", a),
                     0);

    /* Failures over Basic count toward the same ban. */
    char *bad = basic("admin", "wrong");
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(check(db, &ac, NULL, bad, "192.0.2.3", NULL), WEBAUTH_NONE);
    ck_assert_int_eq(login(db, &ac, "192.0.2.3", "admin", "right", NULL), WEBAUTH_LOGIN_BANNED);

    /* An old failure does not add to a new count. */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(login(db, &ac, "192.0.2.4", "admin", "wrong", NULL),
                         WEBAUTH_LOGIN_FAILED);
    sql_exec(db, "UPDATE auth_failures SET last_failure = now() - interval '2 hours'"
                 " WHERE remote_addr = $1", "192.0.2.4");
    ck_assert_int_eq(login(db, &ac, "192.0.2.4", "admin", "wrong", NULL), WEBAUTH_LOGIN_FAILED);
    /* (the login's housekeeping dropped the stale row first) */
    ck_assert_int_eq(sql_int(db, "SELECT failures FROM auth_failures WHERE remote_addr = $1",
                             "192.0.2.4"),
                     1);
    /* Same through Basic, which does no housekeeping: the upsert restarts
     * the count itself. */
    sql_exec(db, "UPDATE auth_failures SET failures = 4, last_failure = now() - interval '2 hours'"
                 " WHERE remote_addr = $1", "192.0.2.4");
    ck_assert_int_eq(check(db, &ac, NULL, bad, "192.0.2.4", NULL), WEBAUTH_NONE);
    ck_assert_int_eq(sql_int(db, "SELECT (failures = 1 AND banned_until IS NULL)::int"
                                 " FROM auth_failures WHERE remote_addr = $1", "192.0.2.4"),
                     1);
    /* After a ban runs out, counting starts again from one. */
    sql_exec(db, "UPDATE auth_failures SET banned_until = now() - interval '1 s'"
                 " WHERE remote_addr = $1", "192.0.2.3");
    ck_assert_int_eq(check(db, &ac, NULL, bad, "192.0.2.3", NULL), WEBAUTH_NONE);
    ck_assert_int_eq(sql_int(db, "SELECT (failures = 1 AND banned_until IS NULL)::int"
                                 " FROM auth_failures WHERE remote_addr = $1", "192.0.2.3"),
                     1);

    /* web_max_auth_failures = 1: the first failure bans. */
    webauth_conf_t strict = ac;
    strict.max_failures = 1;
    ck_assert_int_eq(login(db, &strict, "192.0.2.5", "admin", "wrong", NULL),
                     WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(login(db, &strict, "192.0.2.5", "admin", "right", NULL),
                     WEBAUTH_LOGIN_BANNED);

    /* web_ban_duration = 0: no bans, nothing counted. */
    webauth_conf_t lax = ac;
    lax.ban_seconds = 0;
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(login(db, &lax, "192.0.2.6", "admin", "wrong", NULL),
                         WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(login(db, &lax, "192.0.2.6", "admin", "right", NULL), WEBAUTH_LOGIN_OK);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM auth_failures WHERE remote_addr = $1",
                             "192.0.2.6"),
                     0);
    free(good);
    free(bad);
    PQfinish(db);
}
END_TEST

START_TEST(test_ban_refuses_every_method)
{
    PGconn *db = fresh_db("t_ban_all");
    webauth_conf_t ac = conf_with("right");
    const char *a = "198.51.100.1", *b = "198.51.100.2";
    const char *key = "Bearer 0123456789abcdef0123456789abcdef";
    char *sid = NULL;
    ck_assert_int_eq(login(db, &ac, a, "admin", "right", &sid), WEBAUTH_LOGIN_OK);
    char *cookie = sid_cookie(sid);
    char *good = basic("admin", "right");
    ck_assert_int_eq(check(db, &ac, cookie, NULL, a, NULL), WEBAUTH_SESSION);
    ck_assert_int_eq(check(db, &ac, NULL, key, a, NULL), WEBAUTH_API_KEY);
    bool banned = true;
    ck_assert_int_eq(webauth_banned(db, &ac, a, &banned, NULL), 0);
    ck_assert(!banned);

    /* Banned by wrong passwords from the same address... */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(login(db, &ac, a, "admin", "wrong", NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(webauth_banned(db, &ac, a, &banned, NULL), 0);
    ck_assert(banned);
    /* ... every method is refused there: the session opened before the
     * ban, the API key, Basic, and a login */
    char *user = (char *)"unset";
    ck_assert_int_eq(check(db, &ac, cookie, NULL, a, &user), WEBAUTH_NONE);
    ck_assert_ptr_null(user);
    ck_assert_int_eq(check(db, &ac, NULL, key, a, &user), WEBAUTH_NONE);
    ck_assert_ptr_null(user);
    ck_assert_int_eq(check(db, &ac, cookie, key, a, NULL), WEBAUTH_NONE);
    ck_assert_int_eq(check(db, &ac, NULL, good, a, NULL), WEBAUTH_NONE);
    ck_assert_int_eq(login(db, &ac, a, "admin", "right", NULL), WEBAUTH_LOGIN_BANNED);
    /* the refusals did not end the session nor add failures */
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM web_sessions", NULL), 1);
    ck_assert_int_eq(sql_int(db, "SELECT failures FROM auth_failures WHERE remote_addr = $1", a),
                     5);
    /* Another address is not banned: the same session and key work there. */
    ck_assert_int_eq(check(db, &ac, cookie, NULL, b, NULL), WEBAUTH_SESSION);
    ck_assert_int_eq(check(db, &ac, NULL, key, b, NULL), WEBAUTH_API_KEY);
    ck_assert_int_eq(webauth_banned(db, &ac, b, &banned, NULL), 0);
    ck_assert(!banned);
    /* Without bans (web_ban_duration 0) a ban row counts for nothing. */
    webauth_conf_t lax = ac;
    lax.ban_seconds = 0;
    ck_assert_int_eq(check(db, &lax, cookie, NULL, a, NULL), WEBAUTH_SESSION);
    ck_assert_int_eq(webauth_banned(db, &lax, a, &banned, NULL), 0);
    ck_assert(!banned);

    /* The ban ends: the session and the key work again. */
    sql_exec(db, "UPDATE auth_failures SET banned_until = now() - interval '1 s'", NULL);
    ck_assert_int_eq(check(db, &ac, cookie, NULL, a, &user), WEBAUTH_SESSION);
    ck_assert_str_eq(user, "admin");
    free(user);
    ck_assert_int_eq(check(db, &ac, NULL, key, a, NULL), WEBAUTH_API_KEY);

    /* The API key works without the database (no ban can be looked up);
     * a session needs it. */
    http_request_t *req = request(NULL, key, a);
    webauth_method_t m;
    mt_error_t *err = NULL;
    ck_assert_int_eq(webauth_check(NULL, &ac, req, &m, &user, &err), 0);
    ck_assert_int_eq(m, WEBAUTH_API_KEY);
    free(user);
    http_request_free(req);
    ck_assert_int_eq(webauth_banned(NULL, &ac, a, &banned, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    mt_error_clear(&err);
    free(good);
    free(cookie);
    free(sid);
    PQfinish(db);
}
END_TEST

START_TEST(test_report_role_cannot_read)
{
    PGconn *db = fresh_db("t_report");
    webauth_conf_t ac = conf_with("pw");
    ck_assert_int_eq(login(db, &ac, "10.0.3.1", "admin", "pw", NULL), WEBAUTH_LOGIN_OK);
    ck_assert_int_eq(login(db, &ac, "10.0.3.2", "admin", "no", NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(sql_int(db,
                             "SELECT (has_table_privilege('muleteer_report', 'web_sessions', 'SELECT')"
                             " OR has_table_privilege('muleteer_report', 'auth_failures', 'SELECT'))::int",
                             NULL),
                     0);
    /* The role works (it reads history) but gets nothing of these. */
    sql_exec(db, "SET ROLE muleteer_report", NULL);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM history", NULL), 0);
    mt_error_t *err = NULL;
    ck_assert_int_eq(db_exec(db, "SELECT * FROM web_sessions", &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "permission denied"));
    mt_error_clear(&err);
    ck_assert_int_eq(db_exec(db, "SELECT * FROM auth_failures", &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "permission denied"));
    mt_error_clear(&err);
    sql_exec(db, "RESET ROLE", NULL);
    PQfinish(db);
}
END_TEST

START_TEST(test_database_failures)
{
    /* No migrations: the tables are missing. */
    pgtest_createdb("t_bare");
    PGconn *bare = connect_to("t_bare");
    webauth_conf_t ac = conf_with("pw");
    char *sid = NULL, *user = NULL;
    mt_error_t *err = NULL;
    ck_assert_int_eq(webauth_login(bare, &ac, "10.0.4.1", "admin", "pw", &sid, &err), -1);
    ck_assert_ptr_null(sid);
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    mt_error_clear(&err);
    ck_assert_int_eq(webauth_logout(bare, "x", &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    mt_error_clear(&err);
    PQfinish(bare);

    /* A connection that is gone. */
    PGconn *db = fresh_db("t_gone");
    ck_assert_int_eq(login(db, &ac, "10.0.4.1", "admin", "pw", &sid), WEBAUTH_LOGIN_OK);
    char *cookie = sid_cookie(sid);
    db_exec(db, "SELECT pg_terminate_backend(pg_backend_pid())", NULL);
    http_request_t *req = request(cookie, NULL, NULL);
    webauth_method_t m = WEBAUTH_SESSION;
    user = (char *)"unset";
    ck_assert_int_eq(webauth_check(db, &ac, req, &m, &user, &err), -1);
    ck_assert_int_eq(m, WEBAUTH_NONE);
    ck_assert_ptr_null(user);
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err->message, "database"));
    mt_error_clear(&err);
    http_request_free(req);
    char *b = basic("admin", "pw");
    req = request(NULL, b, NULL);
    ck_assert_int_eq(webauth_check(db, &ac, req, &m, &user, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    mt_error_clear(&err);
    http_request_free(req);
    char *sid2 = NULL;
    ck_assert_int_eq(webauth_login(db, &ac, "10.0.4.1", "admin", "pw", &sid2, &err), -1);
    ck_assert_ptr_null(sid2);
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    mt_error_clear(&err);
    free(b);
    free(cookie);
    free(sid);
    PQfinish(db);
}
END_TEST

/* ---- accounts, lifetimes and the switch-off (migration 030) ---- */

START_TEST(test_is_off)
{
    webauth_conf_t ac = conf_with("pw");
    ac.enabled = true;
    ck_assert(!webauth_is_off(&ac, "127.0.0.1"));
    ac.enabled = false;
    ck_assert(webauth_is_off(&ac, "127.0.0.1"));
    ck_assert(webauth_is_off(&ac, "::1"));
    ck_assert(!webauth_is_off(&ac, "192.0.2.7"));
    ck_assert(!webauth_is_off(&ac, NULL));
    ac.off_remote = true;
    ck_assert(webauth_is_off(&ac, "192.0.2.7"));
    ac.enabled = true;
    ck_assert(!webauth_is_off(&ac, "192.0.2.7"));
}
END_TEST

/* identify: webauth_identify on a request built from the arguments. */
static webauth_ident_t
identify(PGconn *db, const webauth_conf_t *ac, const char *cookie, const char *authorization)
{
    http_request_t *req = request(cookie, authorization, "10.0.9.9");
    webauth_ident_t id;
    mt_error_t *err = NULL;
    int rc = webauth_identify(db, ac, req, &id, &err);
    ck_assert_msg(rc == 0, "webauth_identify: %s", err ? err->message : "?");
    http_request_free(req);
    return id;
}

START_TEST(test_accounts)
{
    PGconn *db = fresh_db("t_accounts");
    webauth_conf_t ac = conf_with("admin-pw");
    long long bob = 0;
    mt_error_t *err = NULL;
    ck_assert_int_eq(webauth_user_add(db, "bob", "bob-pw", false,
                                      WEBAUTH_CAP_SEARCH | WEBAUTH_CAP_ADD_DOWNLOADS, &bob, &err),
                     0);
    ck_assert_int_gt(bob, 0);
    ck_assert_int_eq(webauth_user_add(db, "BOB", "x", false, 0, NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    mt_error_clear(&err);
    ck_assert_int_eq(webauth_user_add(db, "b'; --", "x", false, 0, NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    /* the password is stored hashed */
    ck_assert_int_eq(sql_int(db, "SELECT (password LIKE 'pbkdf2-sha256$%')::int FROM web_users"
                                 " WHERE username = 'bob'", NULL), 1);

    /* An account's name wants its own password, never web_password. */
    ck_assert_int_eq(login(db, &ac, "10.0.9.1", "bob", "admin-pw", NULL), WEBAUTH_LOGIN_FAILED);
    ck_assert_int_eq(login(db, &ac, "10.0.9.2", "bob", "wrong", NULL), WEBAUTH_LOGIN_FAILED);
    char *sid = NULL;
    ck_assert_int_eq(login(db, &ac, "10.0.9.3", "Bob", "bob-pw", &sid), WEBAUTH_LOGIN_OK);
    char *cookie = sid_cookie(sid);
    webauth_ident_t id = identify(db, &ac, cookie, NULL);
    ck_assert_int_eq(id.method, WEBAUTH_SESSION);
    ck_assert_str_eq(id.user, "bob"); /* as stored */
    ck_assert_int_eq(id.user_id, bob);
    ck_assert(!id.is_admin);
    ck_assert_uint_eq(id.caps, WEBAUTH_CAP_SEARCH | WEBAUTH_CAP_ADD_DOWNLOADS);
    webauth_ident_clear(&id);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM web_users WHERE last_login_at IS NOT NULL",
                             NULL), 1);

    /* Basic with the account; the admin with any other name */
    char *b = basic("bob", "bob-pw");
    id = identify(db, &ac, NULL, b);
    ck_assert_int_eq(id.method, WEBAUTH_BASIC);
    ck_assert_int_eq(id.user_id, bob);
    ck_assert_uint_eq(id.caps, WEBAUTH_CAP_SEARCH | WEBAUTH_CAP_ADD_DOWNLOADS);
    webauth_ident_clear(&id);
    free(b);
    b = basic("sonarr", "admin-pw");
    id = identify(db, &ac, NULL, b);
    ck_assert_int_eq(id.method, WEBAUTH_BASIC);
    ck_assert_int_eq(id.user_id, 0);
    ck_assert(id.is_admin);
    ck_assert_uint_eq(id.caps, WEBAUTH_CAPS_ALL);
    webauth_ident_clear(&id);
    free(b);

    /* Torznab's key: the password of an account with the capability */
    long long who = 0;
    ck_assert_int_eq(webauth_password_user(db, "bob-pw", WEBAUTH_CAP_SEARCH, &who, &err), 1);
    ck_assert_int_eq(who, bob);
    ck_assert_int_eq(webauth_password_user(db, "bob-pw", WEBAUTH_CAP_PAUSE_RESUME, NULL, &err), 0);
    ck_assert_int_eq(webauth_password_user(db, "nope", WEBAUTH_CAP_SEARCH, NULL, &err), 0);

    /* Changed capabilities count at once; disabling refuses the session. */
    webauth_user_change_t ch = { .set_caps = true, .caps = WEBAUTH_CAP_REMOVE_DOWNLOADS };
    ck_assert_int_eq(webauth_user_update(db, bob, &ch, &err), 0);
    id = identify(db, &ac, cookie, NULL);
    ck_assert_uint_eq(id.caps, WEBAUTH_CAP_REMOVE_DOWNLOADS);
    webauth_ident_clear(&id);
    webauth_user_change_t off = { .set_disabled = true, .disabled = true };
    ck_assert_int_eq(webauth_user_update(db, bob, &off, &err), 0);
    id = identify(db, &ac, cookie, NULL);
    ck_assert_int_eq(id.method, WEBAUTH_NONE);
    ck_assert_int_eq(login(db, &ac, "10.0.9.4", "bob", "bob-pw", NULL), WEBAUTH_LOGIN_FAILED);
    off.disabled = false;
    ck_assert_int_eq(webauth_user_update(db, bob, &off, &err), 0);
    free(cookie);
    free(sid);

    /* Removing the account ends its sessions. */
    ck_assert_int_eq(login(db, &ac, "10.0.9.5", "bob", "bob-pw", &sid), WEBAUTH_LOGIN_OK);
    cookie = sid_cookie(sid);
    ck_assert_int_eq(webauth_user_remove(db, bob, &err), 0);
    id = identify(db, &ac, cookie, NULL);
    ck_assert_int_eq(id.method, WEBAUTH_NONE);
    ck_assert_int_eq(webauth_user_remove(db, bob, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_NOT_FOUND);
    mt_error_clear(&err);
    free(cookie);
    free(sid);

    /* muleteer_report never reads the accounts */
    ck_assert_int_eq(sql_int(db, "SELECT has_table_privilege('muleteer_report', 'web_users',"
                                 " 'SELECT')::int", NULL), 0);
    PQfinish(db);
}
END_TEST

START_TEST(test_session_lifetime)
{
    PGconn *db = fresh_db("t_lifetime");
    webauth_conf_t ac = conf_with("pw"); /* web_session_timeout 3600 */
    char *sid = NULL;
    mt_error_t *err = NULL;
    ck_assert_int_eq(webauth_login_for(db, &ac, "10.0.8.1", "admin", "pw", 2592000, &sid, &err),
                     WEBAUTH_LOGIN_OK);
    const char *q = "SELECT round(extract(epoch FROM expires_at - now()))::int FROM web_sessions";
    int left = sql_int(db, q, NULL);
    ck_assert_int_ge(left, 2592000 - 5);
    ck_assert_int_le(left, 2592000);
    /* A renewal keeps the session's own lifetime, not the timeout. */
    sql_exec(db, "UPDATE web_sessions SET expires_at = now() + interval '1 day'", NULL);
    char *cookie = xasprintf("amule.sid=%s", sid);
    webauth_ident_t id = identify(db, &ac, cookie, NULL);
    ck_assert_int_eq(id.method, WEBAUTH_SESSION);
    webauth_ident_clear(&id);
    left = sql_int(db, q, NULL);
    ck_assert_int_ge(left, 2592000 - 5);
    /* Expired is gone, whatever the lifetime. */
    sql_exec(db, "UPDATE web_sessions SET expires_at = now() - interval '1 second'", NULL);
    id = identify(db, &ac, cookie, NULL);
    ck_assert_int_eq(id.method, WEBAUTH_NONE);
    free(cookie);
    free(sid);
    PQfinish(db);
}
END_TEST

START_TEST(test_account_api_key)
{
    PGconn *db = fresh_db("t_account_key");
    webauth_conf_t ac = conf_with("admin-pw");
    long long bob = 0;
    mt_error_t *err = NULL;
    ck_assert_int_eq(webauth_user_add(db, "bob", "bob-pw", false, WEBAUTH_CAP_SEARCH, &bob, &err),
                     0);
    char *key = NULL;
    ck_assert_int_eq(webauth_user_new_api_key(db, bob, &key, &err), 0);
    ck_assert_int_eq((int)strlen(key), 64);
    /* only its hash is stored */
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM web_users WHERE api_key_hash = $1", key),
                     0);
    char *hdr = xasprintf("X-API-Key: %s", key);
    webauth_ident_t id = identify(db, &ac, NULL, hdr);
    ck_assert_int_eq(id.method, WEBAUTH_API_KEY);
    ck_assert_str_eq(id.user, "bob");
    ck_assert_int_eq(id.user_id, bob);
    ck_assert_uint_eq(id.caps, WEBAUTH_CAP_SEARCH);
    webauth_ident_clear(&id);
    char *bearer = xasprintf("Bearer %s", key);
    id = identify(db, &ac, NULL, bearer);
    ck_assert_int_eq(id.user_id, bob);
    webauth_ident_clear(&id);
    ck_assert_int_eq(webauth_key_user(db, key, WEBAUTH_CAP_SEARCH, NULL, &err), 1);
    ck_assert_int_eq(webauth_key_user(db, key, WEBAUTH_CAP_REMOVE_DOWNLOADS, NULL, &err), 0);
    /* a new key replaces the old one */
    char *key2 = NULL;
    ck_assert_int_eq(webauth_user_new_api_key(db, bob, &key2, &err), 0);
    ck_assert_str_ne(key, key2);
    id = identify(db, &ac, NULL, hdr);
    ck_assert_int_eq(id.method, WEBAUTH_NONE);
    ck_assert_int_eq(webauth_key_user(db, key2, 0, NULL, &err), 1);
    char *none = (char *)"unset";
    ck_assert_int_eq(webauth_user_new_api_key(db, 424242, &none, &err), -1);
    ck_assert_ptr_null(none);
    ck_assert_int_eq(err->code, MT_ERR_NOT_FOUND);
    mt_error_clear(&err);
    free(hdr);
    free(bearer);
    free(key);
    free(key2);
    PQfinish(db);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("password");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_password_round_trip);
    tcase_add_test(tc, test_password_known_answer);
    tcase_add_test(tc, test_password_plain);
    tcase_add_test(tc, test_password_malformed);
    tcase_add_test(tc, test_key_equal);
    tcase_add_test(tc, test_user_name);
    tcase_add_test(tc, test_conf_from);
    tcase_add_test(tc, test_is_off);
    suite_add_tcase(s, tc);

    tc = tcase_create("postgresql");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, cluster_up, cluster_down);
    tcase_add_test(tc, test_session_life);
    tcase_add_test(tc, test_session_expiry);
    tcase_add_test(tc, test_session_sliding);
    tcase_add_test(tc, test_login_credentials);
    tcase_add_test(tc, test_basic_and_bearer);
    tcase_add_test(tc, test_bans);
    tcase_add_test(tc, test_ban_refuses_every_method);
    tcase_add_test(tc, test_report_role_cannot_read);
    tcase_add_test(tc, test_database_failures);
    tcase_add_test(tc, test_accounts);
    tcase_add_test(tc, test_session_lifetime);
    tcase_add_test(tc, test_account_api_key);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
