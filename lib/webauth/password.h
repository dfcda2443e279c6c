/* password.h: the PBKDF2 password strings of web_password and
 * constant-time comparisons of passwords and API keys. Needs only nettle,
 * not libpq: the muleteer CLI (hash-password, passwd) links it alone. */
#ifndef MT_WEBAUTH_PASSWORD_H
#define MT_WEBAUTH_PASSWORD_H

/* Defaults and bounds of the password strings:
 * "pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>", standard
 * base64 with padding, a 16-byte salt and a 32-byte PBKDF2-HMAC-SHA256. */
#define WEBAUTH_PBKDF2_ITERATIONS 100000
#define WEBAUTH_PBKDF2_MAX_ITERATIONS 10000000
#define WEBAUTH_PBKDF2_PREFIX "pbkdf2-sha256$"

/* webauth_password_hash: a new password string for password, with a
 * random salt and WEBAUTH_PBKDF2_ITERATIONS iterations. The caller frees
 * it. NULL only when getrandom() fails. */
char *webauth_password_hash(const char *password);

/* webauth_password_verify: 1 when password matches stored, 0 otherwise.
 * stored is a password string as above, or anything else, taken as a
 * plain-text password (compared in constant time: SHA-256 digests of both
 * with memeql_sec). A stored value starting with "pbkdf2-sha256$" that is
 * malformed (bad number or base64, iterations outside 1 to
 * WEBAUTH_PBKDF2_MAX_ITERATIONS, salt or hash of another length) never
 * matches; neither does an empty stored value or a NULL argument. */
int webauth_password_verify(const char *stored, const char *password);

/* webauth_password_is_hashed: 1 when stored is a well-formed password
 * string (it may still be any password's), 0 for plain text or a
 * malformed one. */
int webauth_password_is_hashed(const char *stored);

/* webauth_key_equal: 1 when a and b are the same string, in time that
 * depends on neither their contents nor their lengths (SHA-256 of both,
 * compared with memeql_sec); for API keys. An empty or NULL string never
 * matches (so an unset key cannot be matched by an empty one). */
int webauth_key_equal(const char *a, const char *b);

#endif
