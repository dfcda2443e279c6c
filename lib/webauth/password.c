/* password.c: the web password strings ("pbkdf2-sha256$N$salt$hash",
 * PBKDF2-HMAC-SHA256 from nettle) and constant-time comparisons of
 * passwords and API keys. Needs no database. */
#include "config.h"

#include "webauth/password.h"
#include "util/xalloc.h"

#include <errno.h>
#include <nettle/base64.h>
#include <nettle/memops.h>
#include <nettle/pbkdf2.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define SALT_LEN 16
#define HASH_LEN 32

/* fill_random: n bytes from getrandom(), retried on EINTR and short reads.
 * -1 when the kernel gives none. */
static int
fill_random(uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

static void
sha256_of(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

/* b64_decode_exact: decodes exactly want bytes from the len characters at
 * s, which must be their canonical base64: padding included, no blanks
 * (nettle's decoder skips them), zero filler bits. Encoding the result
 * again must give s back, so this does not rest on how lenient the
 * decoder of a given nettle version is. */
static int
b64_decode_exact(const char *s, size_t len, uint8_t *out, size_t want)
{
    uint8_t buf[BASE64_DECODE_LENGTH(BASE64_ENCODE_RAW_LENGTH(HASH_LEN))];
    char again[BASE64_ENCODE_RAW_LENGTH(HASH_LEN)];
    if (want > HASH_LEN || len != BASE64_ENCODE_RAW_LENGTH(want))
        return -1;
    struct base64_decode_ctx ctx;
    base64_decode_init(&ctx);
    size_t n = 0;
    if (!base64_decode_update(&ctx, &n, buf, len, s) || !base64_decode_final(&ctx) || n != want)
        return -1;
    base64_encode_raw(again, want, buf);
    if (memcmp(again, s, len) != 0)
        return -1;
    memcpy(out, buf, want);
    return 0;
}

/* parse_iterations: 1 to WEBAUTH_PBKDF2_MAX_ITERATIONS in plain decimal
 * (no sign, blanks or leading zeros) in the len characters at s. */
static long
parse_iterations(const char *s, size_t len)
{
    if (len == 0 || len > 8 || s[0] == '0')
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    /* nettle aborts on 0 iterations: never let one through. */
    return v >= 1 && v <= WEBAUTH_PBKDF2_MAX_ITERATIONS ? v : -1;
}

/* parse_hashed: splits a password string into its parts; -1 when it is
 * not a well-formed one. */
static int
parse_hashed(const char *stored, long *iterations, uint8_t salt[SALT_LEN],
             uint8_t hash[HASH_LEN])
{
    size_t plen = strlen(WEBAUTH_PBKDF2_PREFIX);
    if (strncmp(stored, WEBAUTH_PBKDF2_PREFIX, plen) != 0)
        return -1;
    const char *it = stored + plen;
    const char *d1 = strchr(it, '$');
    if (d1 == NULL)
        return -1;
    const char *sa = d1 + 1;
    const char *d2 = strchr(sa, '$');
    if (d2 == NULL)
        return -1;
    const char *ha = d2 + 1;
    *iterations = parse_iterations(it, (size_t)(d1 - it));
    if (*iterations < 0)
        return -1;
    if (b64_decode_exact(sa, (size_t)(d2 - sa), salt, SALT_LEN) != 0)
        return -1;
    /* strlen stops at the end: a further '$' makes the length wrong. */
    if (b64_decode_exact(ha, strlen(ha), hash, HASH_LEN) != 0)
        return -1;
    return 0;
}

char *
webauth_password_hash(const char *password)
{
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    char salt64[BASE64_ENCODE_RAW_LENGTH(SALT_LEN) + 1];
    char hash64[BASE64_ENCODE_RAW_LENGTH(HASH_LEN) + 1];
    if (password == NULL || fill_random(salt, sizeof salt) != 0)
        return NULL;
    pbkdf2_hmac_sha256(strlen(password), (const uint8_t *)password,
                       WEBAUTH_PBKDF2_ITERATIONS, sizeof salt, salt, sizeof hash, hash);
    base64_encode_raw(salt64, sizeof salt, salt);
    salt64[sizeof salt64 - 1] = '\0';
    base64_encode_raw(hash64, sizeof hash, hash);
    hash64[sizeof hash64 - 1] = '\0';
    explicit_bzero(hash, sizeof hash);
    return xasprintf("%s%d$%s$%s", WEBAUTH_PBKDF2_PREFIX, WEBAUTH_PBKDF2_ITERATIONS,
                     salt64, hash64);
}

int
webauth_password_is_hashed(const char *stored)
{
    long iterations;
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    return stored != NULL && parse_hashed(stored, &iterations, salt, hash) == 0;
}

int
webauth_password_verify(const char *stored, const char *password)
{
    if (stored == NULL || password == NULL || *stored == '\0')
        return 0;
    if (strncmp(stored, WEBAUTH_PBKDF2_PREFIX, strlen(WEBAUTH_PBKDF2_PREFIX)) != 0) {
        /* Plain text (a hand-edited file): compare digests, so the time
         * taken says nothing about how much of the password matched. */
        uint8_t a[SHA256_DIGEST_SIZE], b[SHA256_DIGEST_SIZE];
        sha256_of(stored, strlen(stored), a);
        sha256_of(password, strlen(password), b);
        int eq = memeql_sec(a, b, sizeof a);
        explicit_bzero(b, sizeof b);
        return eq ? 1 : 0;
    }
    long iterations;
    uint8_t salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    if (parse_hashed(stored, &iterations, salt, want) != 0)
        return 0;
    pbkdf2_hmac_sha256(strlen(password), (const uint8_t *)password, (unsigned)iterations,
                       sizeof salt, salt, sizeof got, got);
    int eq = memeql_sec(got, want, sizeof got);
    explicit_bzero(got, sizeof got);
    return eq ? 1 : 0;
}

int
webauth_key_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL || *a == '\0' || *b == '\0')
        return 0;
    uint8_t da[SHA256_DIGEST_SIZE], db[SHA256_DIGEST_SIZE];
    sha256_of(a, strlen(a), da);
    sha256_of(b, strlen(b), db);
    return memeql_sec(da, db, sizeof da) ? 1 : 0;
}
