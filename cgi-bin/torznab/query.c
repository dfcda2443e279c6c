/* query.c: the pure rules of cgi-bin/torznab (query.h): strict reading of
 * a Torznab query string, categories as classes, the eD2K expression
 * built from a request, and the filter a class applies to results. */
#include "config.h"

#include "torznab/query.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/hex.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* ------------------------------------------------------------- errors */

static int
fail(tz_error_t *err, int code, const char *fmt, ...)
{
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

const char *
tz_fn_name(tz_fn_t fn)
{
    switch (fn) {
    case TZ_FN_CAPS: return "caps";
    case TZ_FN_TVSEARCH: return "tvsearch";
    case TZ_FN_MOVIE: return "movie";
    case TZ_FN_SEARCH: break;
    }
    return "search";
}

/* ------------------------------------------------------------ decoding */

/* decode: the strict percent-decoding of s[0..len) into a new string;
 * NULL for a bad escape, a control character (C0, encoded or not, and
 * DEL: no name or query holds one) or invalid UTF-8. */
static char *
decode(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < len ? mt_hex_digit((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < len ? mt_hex_digit((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                goto bad;
            c = hi * 16 + lo;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f)
            goto bad;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    if (!mt_utf8_is_valid(out, n))
        goto bad;
    return out;
bad:
    free(out);
    return NULL;
}

/* number: an unsigned decimal of at most max (digits only, leading zeros
 * allowed, at most 9 of them besides); -1 otherwise. */
static long
number(const char *v, long max)
{
    size_t n = strlen(v);
    if (n == 0 || n > 12)
        return -1;
    long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
        if (x > max)
            return -1;
    }
    return x;
}

/* ---------------------------------------------------------- parameters */

typedef enum {
    P_T, P_APIKEY, P_Q, P_CAT, P_SEASON, P_EP, P_YEAR, P_OFFSET, P_LIMIT, P_IGNORED, N_P
} param_id_t;

static const struct {
    const char *name;
    param_id_t id;
} known[] = {
    { "t", P_T }, { "apikey", P_APIKEY }, { "q", P_Q }, { "cat", P_CAT },
    { "season", P_SEASON }, { "ep", P_EP }, { "year", P_YEAR }, { "offset", P_OFFSET },
    { "limit", P_LIMIT },
    /* accepted and ignored: eD2K has no ids, and the feed is always extended */
    { "extended", P_IGNORED }, { "tvdbid", P_IGNORED }, { "imdbid", P_IGNORED },
    { "tmdbid", P_IGNORED }, { "rid", P_IGNORED }, { "tvmazeid", P_IGNORED },
};

static int
parse_fn(tzq_t *q, const char *v, tz_error_t *err)
{
    static const struct {
        const char *name;
        tz_fn_t fn;
    } fns[] = { { "search", TZ_FN_SEARCH }, { "caps", TZ_FN_CAPS },
                { "tvsearch", TZ_FN_TVSEARCH }, { "movie", TZ_FN_MOVIE } };
    if (*v == '\0') {
        q->fn = TZ_FN_SEARCH;
        return 0;
    }
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (strcmp(v, fns[i].name) == 0) {
            q->fn = fns[i].fn;
            return 0;
        }
    char shown[40];
    snprintf(shown, sizeof shown, "%s", v);
    return fail(err, TZ_ERR_NO_FUNCTION, "No such function (%s)", shown);
}

static int
parse_cats(tzq_t *q, const char *v, tz_error_t *err)
{
    const char *p = v;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        char item[16];
        long c = -1;
        if (n > 0 && n < sizeof item) {
            memcpy(item, p, n);
            item[n] = '\0';
            c = number(item, 999999);
        }
        if (c < 0)
            return fail(err, TZ_ERR_BAD, "Incorrect parameter (cat: comma-separated numbers)");
        if (q->n_cats == TZQ_MAX_CATS)
            return fail(err, TZ_ERR_BAD, "Incorrect parameter (cat: at most %d categories)",
                        TZQ_MAX_CATS);
        q->cats[q->n_cats++] = (int)c;
        p += n;
        if (*p == ',') {
            p++;
            if (*p == '\0')
                return fail(err, TZ_ERR_BAD, "Incorrect parameter (cat: empty category)");
        }
    }
    return 0;
}

/* parse_ep: a number, or a daily show's MM/DD. */
static int
parse_ep(tzq_t *q, const char *v, tz_error_t *err)
{
    const char *slash = strchr(v, '/');
    if (slash == NULL) {
        long e = number(v, TZQ_MAX_NUMBER);
        if (e < 0)
            return fail(err, TZ_ERR_BAD, "Incorrect parameter (ep: 0-%d or MM/DD)", TZQ_MAX_NUMBER);
        q->ep = (int)e;
        return 0;
    }
    char mm[3] = { 0 };
    long m = -1, d = -1;
    if (slash - v == 2) {
        memcpy(mm, v, 2);
        m = number(mm, 12);
        d = strlen(slash + 1) == 2 ? number(slash + 1, 31) : -1;
    }
    if (m < 1 || d < 1)
        return fail(err, TZ_ERR_BAD, "Incorrect parameter (ep: 0-%d or MM/DD)", TZQ_MAX_NUMBER);
    q->month = (int)m;
    q->day = (int)d;
    return 0;
}

/* trimmed: v without leading and trailing spaces, or NULL when blank. */
static char *
trimmed(const char *v)
{
    while (*v == ' ')
        v++;
    size_t n = strlen(v);
    while (n > 0 && v[n - 1] == ' ')
        n--;
    if (n == 0)
        return NULL;
    char *s = xmalloc(n + 1);
    memcpy(s, v, n);
    s[n] = '\0';
    return s;
}

static int
take(tzq_t *q, param_id_t id, const char *v, tz_error_t *err)
{
    long x;
    switch (id) {
    case P_T:
        return parse_fn(q, v, err);
    case P_APIKEY:
        q->apikey = xstrdup(v);
        return 0;
    case P_Q:
        if (strlen(v) > TZQ_MAX_Q)
            return fail(err, TZ_ERR_BAD, "Incorrect parameter (q: at most %d bytes)", TZQ_MAX_Q);
        q->q = trimmed(v);
        return 0;
    case P_CAT:
        return parse_cats(q, v, err);
    case P_SEASON:
    case P_YEAR:
        x = number(v, TZQ_MAX_NUMBER);
        if (x < 0)
            return fail(err, TZ_ERR_BAD, "Incorrect parameter (%s: 0-%d)",
                        id == P_SEASON ? "season" : "year", TZQ_MAX_NUMBER);
        *(id == P_SEASON ? &q->season : &q->year) = (int)x;
        return 0;
    case P_EP:
        return parse_ep(q, v, err);
    case P_OFFSET:
        x = number(v, TZQ_MAX_OFFSET);
        if (x < 0)
            return fail(err, TZ_ERR_BAD, "Incorrect parameter (offset: 0-%d)", TZQ_MAX_OFFSET);
        q->offset = (unsigned)x;
        return 0;
    case P_LIMIT:
        x = number(v, TZQ_MAX_LIMIT);
        if (x < 0)
            return fail(err, TZ_ERR_BAD, "Incorrect parameter (limit: 0-%d)", TZQ_MAX_LIMIT);
        q->limit = x == 0 ? TZQ_MAX_LIMIT : (unsigned)x;
        return 0;
    case P_IGNORED:
    case N_P:
        break;
    }
    return 0;
}

/* lookup: the parameter a lowercased name is, or N_P for an unknown one. */
static param_id_t
lookup(const char *name)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(name, known[i].name) == 0)
            return known[i].id;
    return N_P;
}

/* check: what the parameters say together. */
static int
check(tzq_t *q, tz_error_t *err)
{
    if (q->month > 0 && (q->season < 1000 || q->season < 0))
        return fail(err, TZ_ERR_BAD, "Incorrect parameter (ep=MM/DD needs season=YYYY)");
    if (q->ep >= 0 && q->season < 0)
        return fail(err, TZ_ERR_MISSING, "Missing parameter (season)");
    return 0;
}

int
tzq_parse(const char *raw, size_t len, tzq_t *q, tz_error_t *err)
{
    memset(q, 0, sizeof *q);
    q->season = q->ep = q->year = -1;
    q->limit = TZQ_MAX_LIMIT;
    err->code = 0;
    err->message[0] = '\0';
    char *seen[TZQ_MAX_PARAMS];
    size_t n_seen = 0;
    int rc = 0;
    size_t i = 0;
    while (i < len && rc == 0) {
        size_t end = i;
        while (end < len && raw[end] != '&')
            end++;
        if (end == i) {
            i++;
            continue;
        }
        size_t eq = i;
        while (eq < end && raw[eq] != '=')
            eq++;
        char *name = decode(raw + i, eq - i);
        char *value = eq < end ? decode(raw + eq + 1, end - eq - 1) : xstrdup("");
        i = end + 1;
        if (name == NULL || value == NULL) {
            rc = fail(err, TZ_ERR_BAD, "Incorrect parameter (bad percent-encoding, control character or UTF-8)");
        } else if (n_seen == TZQ_MAX_PARAMS) {
            rc = fail(err, TZ_ERR_BAD, "Incorrect parameter (more than %d parameters)",
                      TZQ_MAX_PARAMS);
        } else {
            for (char *c = name; *c != '\0'; c++)
                *c = (char)tolower((unsigned char)*c);
            for (size_t k = 0; k < n_seen && rc == 0; k++)
                if (strcmp(seen[k], name) == 0)
                    rc = fail(err, TZ_ERR_BAD, "Incorrect parameter (%.40s given twice)", name);
            if (rc == 0) {
                seen[n_seen++] = name;
                name = NULL;
                rc = take(q, lookup(seen[n_seen - 1]), value, err);
            }
        }
        free(name);
        free(value);
    }
    for (size_t k = 0; k < n_seen; k++)
        free(seen[k]);
    if (rc == 0)
        rc = check(q, err);
    if (rc != 0)
        tzq_clear(q);
    return rc;
}

void
tzq_clear(tzq_t *q)
{
    free(q->q);
    free(q->apikey);
    q->q = NULL;
    q->apikey = NULL;
}

/* ------------------------------------------------------------ classes */

static tz_class_t
class_of_cat(int cat)
{
    switch (cat / 1000) {
    case 2: return TZ_CLASS_MOVIE;
    case 3: return TZ_CLASS_AUDIO;
    case 4: return TZ_CLASS_PC;
    case 5: return TZ_CLASS_TV;
    case 7: return TZ_CLASS_BOOK;
    case 8: return TZ_CLASS_OTHER;
    default: return TZ_CLASS_ANY;
    }
}

tz_class_t
tz_class_of(const tzq_t *q)
{
    if (q->n_cats == 0)
        return q->fn == TZ_FN_TVSEARCH ? TZ_CLASS_TV
               : q->fn == TZ_FN_MOVIE  ? TZ_CLASS_MOVIE
                                       : TZ_CLASS_ANY;
    tz_class_t c = class_of_cat(q->cats[0]);
    for (size_t i = 1; i < q->n_cats; i++) {
        tz_class_t d = class_of_cat(q->cats[i]);
        if (d == c)
            continue;
        if ((tz_class_is_video(c) && tz_class_is_video(d)))
            c = TZ_CLASS_VIDEO;
        else
            return TZ_CLASS_ANY;
    }
    return c;
}

bool
tz_class_is_video(tz_class_t c)
{
    return c == TZ_CLASS_MOVIE || c == TZ_CLASS_TV || c == TZ_CLASS_VIDEO;
}

const char *
tz_class_filetype(tz_class_t c)
{
    switch (c) {
    case TZ_CLASS_MOVIE:
    case TZ_CLASS_TV:
    case TZ_CLASS_VIDEO: return "video";
    case TZ_CLASS_AUDIO: return "audio";
    case TZ_CLASS_PC: return "program";
    case TZ_CLASS_BOOK: return "document";
    case TZ_CLASS_ANY:
    case TZ_CLASS_OTHER: break;
    }
    return NULL;
}

/* --------------------------------------------------------- expression */

/* append_words: the words of s into out (at *n, room for cap): the
 * characters the expression language reserves ('"', '(', ')', ':') and
 * control characters become spaces, the operators AND/OR/NOT are
 * lowercased, runs of spaces become one. */
static void
append_words(char *out, size_t *n, const char *s)
{
    size_t len = strlen(s);
    size_t i = 0;
    while (i < len) {
        while (i < len && (s[i] == ' ' || strchr("\"():", s[i]) != NULL ||
                           (unsigned char)s[i] < 0x20 || s[i] == 0x7f))
            i++;
        size_t start = i;
        while (i < len && s[i] != ' ' && strchr("\"():", s[i]) == NULL &&
               (unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
            i++;
        if (i == start)
            continue;
        if (*n > 0)
            out[(*n)++] = ' ';
        size_t wl = i - start;
        bool op = (wl == 3 && (strncmp(s + start, "AND", 3) == 0 || strncmp(s + start, "NOT", 3) == 0)) ||
                  (wl == 2 && strncmp(s + start, "OR", 2) == 0);
        for (size_t k = 0; k < wl; k++)
            out[(*n)++] = op ? (char)tolower((unsigned char)s[start + k]) : s[start + k];
    }
    out[*n] = '\0';
}

char *
tz_expression(const tzq_t *q, tz_class_t c, uint64_t min_size)
{
    if (q->q == NULL)
        return NULL;
    size_t cap = strlen(q->q) + 96;
    char *out = xmalloc(cap);
    size_t n = 0;
    out[0] = '\0';
    append_words(out, &n, q->q);
    if (n == 0) {
        free(out);
        return NULL;
    }
    char extra[80] = "";
    if (q->fn == TZ_FN_TVSEARCH && q->month > 0)
        snprintf(extra, sizeof extra, " %04d %02d %02d", q->season, q->month, q->day);
    else if (q->fn == TZ_FN_TVSEARCH && q->season >= 0 && q->ep >= 0)
        snprintf(extra, sizeof extra, " S%02dE%02d", q->season, q->ep);
    else if (q->fn == TZ_FN_TVSEARCH && q->season >= 0)
        snprintf(extra, sizeof extra, " S%02d", q->season);
    if ((q->fn == TZ_FN_MOVIE || q->fn == TZ_FN_TVSEARCH) && q->year > 0 && q->month == 0)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " %d", q->year);
    const char *type = tz_class_filetype(c);
    if (type != NULL)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " type:%s", type);
    if (min_size > 0)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " min:%llu",
                 (unsigned long long)min_size);
    memcpy(out + n, extra, strlen(extra) + 1);
    return out;
}

/* ------------------------------------------------------------- results */

static const char *const video_exts[] = {
    "avi", "mkv", "mp4", "m4v", "mov", "wmv", "mpg", "mpeg", "ts", "m2ts", "ogm", "divx", "webm",
    "flv", "vob", "iso", "rmvb",
};

/* has_word: name holds w (ASCII, lowercase) as a word: not between two
 * letters or digits. */
static bool
has_word(const char *name, const char *w)
{
    size_t wl = strlen(w);
    for (const char *p = name; *p != '\0'; p++) {
        if (strncasecmp(p, w, wl) != 0)
            continue;
        bool left = p == name || !isalnum((unsigned char)p[-1]);
        bool right = !isalnum((unsigned char)p[wl]);
        if (left && right)
            return true;
    }
    return false;
}

bool
tz_result_wanted(tz_class_t c, const char *name, uint64_t size, uint64_t min_size)
{
    if (!tz_class_is_video(c))
        return true;
    if (size < min_size || has_word(name, "sample"))
        return false;
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return false;
    for (size_t i = 0; i < sizeof video_exts / sizeof video_exts[0]; i++)
        if (strcasecmp(dot + 1, video_exts[i]) == 0)
            return true;
    return false;
}

/* has_episode: name holds SxxEyy (one or more digits each). */
static bool
has_episode(const char *name)
{
    for (const char *p = name; *p != '\0'; p++) {
        if ((*p != 's' && *p != 'S') || (p > name && isalnum((unsigned char)p[-1])))
            continue;
        const char *e = p + 1;
        if (!isdigit((unsigned char)*e))
            continue;
        while (isdigit((unsigned char)*e))
            e++;
        if ((*e == 'e' || *e == 'E') && isdigit((unsigned char)e[1]))
            return true;
    }
    return false;
}

/* has_date: name holds YYYY?MM?DD with one separator of ". _-". */
static bool
has_date(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i + 10 <= n; i++) {
        const char *p = name + i;
        char sep = p[4];
        if (strchr("._ -", sep) == NULL || sep == '\0' || p[7] != sep)
            continue;
        bool digits = true;
        for (int k = 0; k < 10 && digits; k++)
            if (k != 4 && k != 7)
                digits = isdigit((unsigned char)p[k]) != 0;
        if (digits && (p[0] == '1' || p[0] == '2') && (i == 0 || !isdigit((unsigned char)p[-1])))
            return true;
    }
    return false;
}

bool
tz_name_is_episode(const char *name)
{
    return has_episode(name) || has_date(name);
}

/* resolution: 2 for 2160p/4K, 1 for 720p/1080p, 0 otherwise. */
static int
resolution(const char *name)
{
    if (has_word(name, "2160p") || has_word(name, "4k") || has_word(name, "uhd"))
        return 2;
    if (has_word(name, "1080p") || has_word(name, "720p") || has_word(name, "1080i"))
        return 1;
    return 0;
}

size_t
tz_item_categories(tz_class_t c, const char *name, const char *file_type, int cats[2])
{
    static const int tv_sub[] = { 5030, 5040, 5045 };
    static const int movie_sub[] = { 2030, 2040, 2045 };
    if (c == TZ_CLASS_VIDEO || (!tz_class_is_video(c) && file_type != NULL &&
                                strcasecmp(file_type, "Video") == 0))
        c = has_episode(name) ? TZ_CLASS_TV : TZ_CLASS_MOVIE;
    switch (c) {
    case TZ_CLASS_TV:
        cats[0] = 5000;
        cats[1] = tv_sub[resolution(name)];
        return 2;
    case TZ_CLASS_MOVIE:
        cats[0] = 2000;
        cats[1] = movie_sub[resolution(name)];
        return 2;
    case TZ_CLASS_AUDIO: cats[0] = 3000; return 1;
    case TZ_CLASS_PC: cats[0] = 4000; return 1;
    case TZ_CLASS_BOOK: cats[0] = 7000; return 1;
    default: break;
    }
    if (file_type == NULL)
        cats[0] = 8000;
    else if (strcasecmp(file_type, "Audio") == 0)
        cats[0] = 3000;
    else if (strcasecmp(file_type, "Pro") == 0 || strcasecmp(file_type, "Iso") == 0 ||
             strcasecmp(file_type, "Arc") == 0)
        cats[0] = 4000;
    else if (strcasecmp(file_type, "Doc") == 0)
        cats[0] = 7000;
    else
        cats[0] = 8000;
    return 1;
}
