/* logic.c: the pure rules of the qBittorrent adapter (hashes and btihs,
 * accepted links and magnets, state names, category names, booleans, tags); no
 * HTTP, no SQL, so tests/unit/check_qbit.c covers them directly. */
#include "config.h"

#include "qbit/logic.h"
#include "ed2k/hash.h"
#include "ed2k/link.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool
all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

static void
lower_copy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[n] = '\0';
}

qbit_hash_rc_t
qbit_hash_parse(const char *s, char md4[33])
{
    size_t n = s != NULL ? strlen(s) : 0;
    if ((n != 32 && n != 40) || !all_hex(s, n))
        return QBIT_HASH_MALFORMED;
    if (n == 40 && memcmp(s + 32, QBIT_HASH_PAD, 8) != 0)
        return QBIT_HASH_FOREIGN;
    lower_copy(md4, s, 32);
    return QBIT_HASH_OK;
}

int
qbit_hashes_parse(const char *s, qbit_hashes_t *out)
{
    memset(out, 0, sizeof *out);
    if (s == NULL || *s == '\0')
        return -1;
    if (strcmp(s, "all") == 0) {
        out->all = true;
        return 0;
    }
    size_t entries = 0;
    const char *p = s;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (++entries > QBIT_MAX_HASHES)
            return -1;
        char one[41];
        char md4[33];
        if (len <= 40) {
            memcpy(one, p, len);
            one[len] = '\0';
            qbit_hash_rc_t rc = qbit_hash_parse(one, md4);
            if (rc == QBIT_HASH_OK) {
                bool dup = false;
                for (size_t i = 0; i < out->n && !dup; i++)
                    dup = strcmp(out->md4[i], md4) == 0;
                if (!dup)
                    memcpy(out->md4[out->n++], md4, 33);
            } else if (rc == QBIT_HASH_FOREIGN) {
                lower_copy(one, one, 40);
                bool dup = false;
                for (size_t i = 0; i < out->n_btih && !dup; i++)
                    dup = strcmp(out->btih[i], one) == 0;
                if (!dup)
                    memcpy(out->btih[out->n_btih++], one, 41);
            }
        }
        if (bar == NULL)
            break;
        p = bar + 1;
    }
    return 0;
}

/* ------------------------------------------------------------- magnets */

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* uri_decode: a magnet parameter value, percent-decoded, '+' read as a
 * space (as libtorrent reads magnets). NULL for a bad escape or %00. */
static char *
uri_decode(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len) {
                free(out);
                return NULL;
            }
            int a = hexval((unsigned char)s[i + 1]), b = hexval((unsigned char)s[i + 2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(a * 16 + b);
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static bool
prefix_ci(const char *s, size_t len, const char *prefix)
{
    size_t pl = strlen(prefix);
    return len >= pl && strncasecmp(s, prefix, pl) == 0;
}

/* base32_to_hex: 32 RFC 4648 base32 characters (either case, as
 * magnets carry a btih) as 40 lower-case hex digits; false if any is not
 * base32. */
static bool
base32_to_hex(const char *s, char hex[41])
{
    static const char digits[] = "0123456789abcdef";
    uint64_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < 32; i++) {
        int c = toupper((unsigned char)s[i]), v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= '2' && c <= '7')
            v = c - '2' + 26;
        else
            return false;
        acc = (acc << 5) | (uint64_t)v;
        bits += 5;
        while (bits >= 4) {
            bits -= 4;
            hex[o++] = digits[(acc >> bits) & 0xf];
        }
    }
    hex[o] = '\0';
    return true;
}

/* btih_value: the hash of an xt=urn:btih: value (after the prefix, vlen
 * bytes) in lower-case hex, or false when it is neither 40 hex digits nor
 * 32 base32 characters. */
static bool
btih_value(const char *v, size_t vlen, char hex[41])
{
    if (vlen == 40 && all_hex(v, 40)) {
        lower_copy(hex, v, 40);
        return true;
    }
    return vlen == 32 && base32_to_hex(v, hex);
}

/* magnet_to_ed2k: the ed2k link text for a magnet, or NULL with err;
 * btih gets its unpadded btih or "". */
static char *
magnet_to_ed2k(const char *m, char btih[41], mt_error_t **err)
{
    const char *q = m + strlen("magnet:?");
    char md4[33] = "";
    bool have_md4 = false, conflict = false;
    char *name = NULL;
    uint64_t size = 0;
    bool have_size = false;
    while (*q != '\0') {
        const char *amp = strchr(q, '&');
        size_t len = amp != NULL ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        if (eq != NULL) {
            size_t klen = (size_t)(eq - q);
            const char *v = eq + 1;
            size_t vlen = len - klen - 1;
            char cand[33], bt[41];
            bool found = false;
            if (klen >= 2 && strncmp(q, "xt", 2) == 0) {
                if (prefix_ci(v, vlen, "urn:ed2k:") && vlen == 9 + 32 && all_hex(v + 9, 32)) {
                    lower_copy(cand, v + 9, 32);
                    found = true;
                } else if (prefix_ci(v, vlen, "urn:ed2khash:") && vlen == 13 + 32 &&
                           all_hex(v + 13, 32)) {
                    lower_copy(cand, v + 13, 32);
                    found = true;
                } else if (prefix_ci(v, vlen, "urn:btih:") && btih_value(v + 9, vlen - 9, bt)) {
                    /* a padded btih is the MD4; another is a BitTorrent
                     * info-hash the download is then listed under */
                    if (memcmp(bt + 32, QBIT_HASH_PAD, 8) == 0) {
                        memcpy(cand, bt, 32);
                        cand[32] = '\0';
                        found = true;
                    } else if (btih[0] == '\0') {
                        memcpy(btih, bt, 41);
                    }
                }
                if (found) {
                    if (have_md4 && strcmp(md4, cand) != 0)
                        conflict = true;
                    memcpy(md4, cand, 33);
                    have_md4 = true;
                }
            } else if (klen == 2 && strncmp(q, "xl", 2) == 0) {
                char num[24];
                if (vlen == 0 || vlen >= sizeof num) {
                    free(name);
                    mt_error_set(err, MT_ERR_INVALID, "the magnet's xl is not a size");
                    return NULL;
                }
                memcpy(num, v, vlen);
                num[vlen] = '\0';
                char *end;
                unsigned long long x = strtoull(num, &end, 10);
                if (*end != '\0' || !isdigit((unsigned char)num[0]) || x == 0 ||
                    x > ED2K_MAX_FILE_SIZE) {
                    free(name);
                    mt_error_set(err, MT_ERR_INVALID, "the magnet's xl is not a valid size");
                    return NULL;
                }
                size = x;
                have_size = true;
            } else if (klen == 2 && strncmp(q, "dn", 2) == 0 && name == NULL) {
                name = uri_decode(v, vlen);
                if (name == NULL) {
                    mt_error_set(err, MT_ERR_INVALID, "the magnet's dn has a bad escape");
                    return NULL;
                }
            }
        }
        if (amp == NULL)
            break;
        q = amp + 1;
    }
    if (!have_md4) {
        free(name);
        mt_error_set(err, MT_ERR_UNSUPPORTED,
                     "the magnet has no eD2K hash (xt=urn:ed2k: or a btih ending in 00000000)");
        return NULL;
    }
    if (conflict) {
        free(name);
        mt_error_set(err, MT_ERR_INVALID, "the magnet names two different eD2K hashes");
        return NULL;
    }
    if (!have_size || name == NULL || *name == '\0') {
        free(name);
        mt_error_set(err, MT_ERR_INVALID, "an eD2K magnet needs xl (the size) and dn (the name)");
        return NULL;
    }
    ed2k_link_t l = { .type = ED2K_LINK_FILE, .name = name, .size = size };
    ed2k_hash_from_hex(md4, l.hash);
    char *text = ed2k_link_format(&l);
    free(name);
    return text;
}

char *
qbit_link_to_ed2k(const char *url, mt_error_t **err)
{
    char btih[41];
    return qbit_link_parse(url, btih, err);
}

char *
qbit_link_parse(const char *url, char btih[41], mt_error_t **err)
{
    char bt[41] = "";
    btih[0] = '\0';
    while (*url == ' ' || *url == '\t' || *url == '\r')
        url++;
    size_t len = strlen(url);
    while (len > 0 && (url[len - 1] == ' ' || url[len - 1] == '\t' || url[len - 1] == '\r'))
        len--;
    char *line = xstrndup(url, len);
    char *text = NULL;
    if (strncasecmp(line, "magnet:?", 8) == 0) {
        text = magnet_to_ed2k(line, bt, err);
    } else if (strncasecmp(line, "ed2k://", 7) == 0) {
        text = xstrdup(line);
    } else {
        mt_error_set(err, MT_ERR_UNSUPPORTED, "not an ed2k:// link or an eD2K magnet");
    }
    free(line);
    if (text == NULL)
        return NULL;
    /* Parsing checks everything (size range, name rules) and normalises. */
    ed2k_link_t *l = NULL;
    if (ed2k_link_parse(text, &l, err) != 0) {
        free(text);
        return NULL;
    }
    free(text);
    /* a nodeslist link goes to the daemon's add, which imports its
     * nodes.dat into Kad (as `muleteer add` does) */
    if (l->type != ED2K_LINK_FILE && l->type != ED2K_LINK_NODESLIST) {
        ed2k_link_free(l);
        mt_error_set(err, MT_ERR_UNSUPPORTED, "only ed2k:// file links can be downloaded");
        return NULL;
    }
    char *out = ed2k_link_format(l);
    ed2k_link_free(l);
    memcpy(btih, bt, sizeof bt);
    return out;
}

/* --------------------------------------------------------------- states */

const char *const qbit_db_states[] = { "queued",   "downloading", "stalled",   "paused",
                                       "stopped",  "checking",    "moving",    "completed",
                                       "error",    "missing" };
const size_t qbit_n_db_states = sizeof qbit_db_states / sizeof qbit_db_states[0];

const char *
qbit_state(const char *s, bool force_start)
{
    static const struct {
        const char *db, *qbit;
    } map[] = {
        { "downloading", "downloading" }, { "stalled", "stalledDL" },
        { "queued", "queuedDL" },         { "checking", "checkingDL" },
        { "moving", "moving" },           { "paused", "stoppedDL" },
        { "stopped", "stoppedDL" },       { "error", "error" },
        { "missing", "missingFiles" },    { "completed", "stoppedUP" },
    };
    if (s == NULL)
        return "unknown";
    if (force_start && (strcmp(s, "downloading") == 0 || strcmp(s, "stalled") == 0 ||
                        strcmp(s, "queued") == 0))
        return "forcedDL";
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(s, map[i].db) == 0)
            return map[i].qbit;
    return "unknown";
}

const char *
qbit_seed_state(bool limit_reached, bool uploading)
{
    if (limit_reached)
        return "stoppedUP";
    return uploading ? "uploading" : "stalledUP";
}

/* ----------------------------------------------------- names and values */

bool
qbit_category_valid(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > 255 || !mt_utf8_is_valid(name, n))
        return false;
    if (name[0] == '/' || name[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return false;
        if (c == '/' && name[i + 1] == '/')
            return false;
    }
    /* no "." or ".." part: a category is a directory under incoming_dir */
    const char *p = name;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    return true;
}

int
qbit_bool_parse(const char *s, bool *out)
{
    if (s != NULL && strcasecmp(s, "true") == 0) {
        *out = true;
        return 0;
    }
    if (s != NULL && strcasecmp(s, "false") == 0) {
        *out = false;
        return 0;
    }
    return -1;
}

int
qbit_tags_parse(const char *s, char **buf, const char **tags, size_t max)
{
    *buf = xstrdup(s != NULL ? s : "");
    size_t n = 0;
    char *p = *buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            p[--len] = '\0';
        if (len > 0) {
            if (len > 64 || !mt_utf8_is_valid(p, len))
                return -1;
            for (size_t i = 0; i < len; i++)
                if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
                    return -1;
            bool dup = false;
            for (size_t i = 0; i < n && !dup; i++)
                dup = strcmp(tags[i], p) == 0;
            if (!dup) {
                if (n == max)
                    return -1;
                tags[n++] = p;
            }
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return (int)n;
}

int
qbit_int_parse(const char *s, long long *out)
{
    if (s == NULL)
        return -1;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')
        s++;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE)
        return -1;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r' || *end == '\f' ||
           *end == '\v')
        end++;
    if (*end != '\0')
        return -1;
    *out = v;
    return 0;
}

long long
qbit_limit_kib(long long bytes)
{
    if (bytes <= 0)
        return 0;
    if (bytes <= 1024)
        return 1;
    return bytes / 1024;
}

int
qbit_log_type(const char *level)
{
    if (level == NULL)
        return QBIT_LOG_NORMAL;
    if (strcmp(level, "debug") == 0)
        return QBIT_LOG_INFO;
    if (strcmp(level, "warn") == 0)
        return QBIT_LOG_WARNING;
    if (strcmp(level, "error") == 0)
        return QBIT_LOG_CRITICAL;
    return QBIT_LOG_NORMAL;
}

/* ------------------------------------------------ per-download actions */

int64_t
qbit_rate_limit_parse(const char *s)
{
    if (s == NULL)
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || n <= 0 || n >= 2147483647LL)
        return 0;
    return n;
}

/* Qt's QChar::isSpace for ASCII: space and \t \n \v \f \r. */
static bool
qt_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

char *
qbit_trimmed(const char *s)
{
    while (qt_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && qt_space(s[n - 1]))
        n--;
    return xstrndup(s, n);
}

char *
qbit_torrent_name(const char *s)
{
    char *out = qbit_trimmed(s), *o = out;
    for (const char *c = out; *c != '\0'; c++) {
        if (c[0] == '\r' && c[1] == '\n')
            continue; /* "\r\n" is one break: its '\n' makes the space */
        *o++ = *c == '\r' || *c == '\n' ? ' ' : *c;
    }
    *o = '\0';
    return out;
}

int
qbit_file_prio_parse(const char *s, int *out)
{
    char *end;
    errno = 0;
    long p = s != NULL ? strtol(s, &end, 10) : 0;
    if (s == NULL || errno != 0 || end == s || *end != '\0')
        return -1;
    if (p != 0 && p != 1 && p != 6 && p != 7)
        return -2;
    *out = (int)p;
    return 0;
}

int
qbit_file_ids_check(const char *ids)
{
    /* in order, as qBittorrent: the first bad id decides */
    const char *p = ids;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);
        char one[24];
        if (len == 0 || len >= sizeof one)
            return 400;
        memcpy(one, p, len);
        one[len] = '\0';
        char *end;
        errno = 0;
        long n = strtol(one, &end, 10);
        if (errno != 0 || *end != '\0')
            return 400;
        if (n != 0)
            return 409;
        if (bar == NULL)
            return 0;
        p = bar + 1;
    }
}
