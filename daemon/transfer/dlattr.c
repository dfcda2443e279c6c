/* dlattr.c: tag sets and share limits (dlattr.h): normalisation and
 * validation of tags, their JSON forms, and the limits' ranges. */
#include "config.h"

#include "daemon/transfer/dlattr.h"
#include "util/random.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool
text_ok(const char *s, size_t len, bool no_comma)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = mt_utf8_next(p + i, len - i, &cp);
        if (n == 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
            (no_comma && cp == ','))
            return false;
        i += n;
    }
    return true;
}

bool
dla_text_is_valid(const char *s, size_t len, size_t max)
{
    return s != NULL && len <= max && text_ok(s, len, false);
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

char *
dla_tag_normalize(const char *s, size_t len, mt_error_t **err)
{
    size_t start = 0, end = len;
    while (start < end && is_space(s[start]))
        start++;
    while (end > start && is_space(s[end - 1]))
        end--;
    size_t n = end - start;
    if (n == 0 || n > DLA_TAG_MAX_LEN || !text_ok(s + start, n, true)) {
        /* quote at most 80 bytes, with anything unprintable replaced */
        char shown[81];
        size_t k = 0;
        for (size_t i = 0; i < len && k < sizeof shown - 1; i++)
            shown[k++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F || s[i] == '"' ? '?' : s[i];
        shown[k] = '\0';
        mt_error_set(err, MT_ERR_INVALID,
                     "invalid tag \"%s\": a tag is 1-%d bytes of UTF-8 without commas or "
                     "control characters",
                     shown, DLA_TAG_MAX_LEN);
        return NULL;
    }
    return xstrndup(s + start, n);
}

void
dla_tags_clear(dla_tags_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

void
dla_tags_copy(dla_tags_t *dst, const dla_tags_t *src)
{
    if (dst == src)
        return;
    dla_tags_clear(dst);
    if (src->n == 0)
        return;
    dst->v = xcalloc(src->n, sizeof *dst->v);
    for (size_t i = 0; i < src->n; i++)
        dst->v[i] = xstrdup(src->v[i]);
    dst->n = src->n;
}

bool
dla_tags_equal(const dla_tags_t *a, const dla_tags_t *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

/* The index of tag, or where it would go (*found false). */
static size_t
find_tag(const dla_tags_t *t, const char *tag, bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(t->v[mid], tag);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

bool
dla_tags_has(const dla_tags_t *t, const char *tag)
{
    bool found;
    find_tag(t, tag, &found);
    return found;
}

int
dla_tags_add(dla_tags_t *t, const char *tag, size_t len, mt_error_t **err)
{
    char *norm = dla_tag_normalize(tag, len, err);
    if (norm == NULL)
        return -1;
    bool found;
    size_t at = find_tag(t, norm, &found);
    if (found) {
        free(norm);
        return 0;
    }
    if (t->n >= DLA_MAX_TAGS) {
        mt_error_set(err, MT_ERR_INVALID, "at most %d tags on a download", DLA_MAX_TAGS);
        free(norm);
        return -1;
    }
    t->v = xreallocarray(t->v, t->n + 1, sizeof *t->v);
    memmove(&t->v[at + 1], &t->v[at], (t->n - at) * sizeof *t->v);
    t->v[at] = norm;
    t->n++;
    return 0;
}

bool
dla_tags_remove(dla_tags_t *t, const char *tag)
{
    bool found;
    size_t at = find_tag(t, tag, &found);
    if (!found)
        return false;
    free(t->v[at]);
    memmove(&t->v[at], &t->v[at + 1], (t->n - at - 1) * sizeof *t->v);
    t->n--;
    return true;
}

int
dla_tags_add_all(dla_tags_t *t, const dla_tags_t *src, mt_error_t **err)
{
    dla_tags_t tmp = { 0 };
    dla_tags_copy(&tmp, t);
    for (size_t i = 0; i < src->n; i++) {
        if (dla_tags_add(&tmp, src->v[i], strlen(src->v[i]), err) != 0) {
            dla_tags_clear(&tmp);
            return -1;
        }
    }
    dla_tags_clear(t);
    *t = tmp;
    return 0;
}

int
dla_tags_parse(json_object *v, const char *what, dla_tags_t *out, mt_error_t **err)
{
    dla_tags_clear(out);
    if (v == NULL)
        return 0;
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        size_t len = (size_t)json_object_get_string_len(v);
        if (strlen(s) != len) {
            mt_error_set(err, MT_ERR_INVALID, "\"%s\" has a NUL byte", what);
            return -1;
        }
        size_t i = 0;
        while (i <= len) {
            const char *comma = memchr(s + i, ',', len - i);
            size_t end = comma != NULL ? (size_t)(comma - s) : len;
            size_t a = i, b = end;
            while (a < b && is_space(s[a]))
                a++;
            if (a < b && dla_tags_add(out, s + a, b - a, err) != 0)
                goto fail;
            i = end + 1;
        }
        return 0;
    }
    if (!json_object_is_type(v, json_type_array)) {
        mt_error_set(err, MT_ERR_INVALID,
                     "\"%s\" must be an array of strings or a comma-separated string", what);
        return -1;
    }
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string)) {
            mt_error_set(err, MT_ERR_INVALID, "\"%s\" must be an array of strings", what);
            dla_tags_clear(out);
            return -1;
        }
        const char *s = json_object_get_string(e);
        size_t len = (size_t)json_object_get_string_len(e);
        if (strlen(s) != len) {
            mt_error_set(err, MT_ERR_INVALID, "\"%s\": a tag has a NUL byte", what);
            dla_tags_clear(out);
            return -1;
        }
        if (dla_tags_add(out, s, len, err) != 0)
            goto fail;
    }
    return 0;
fail:
    mt_error_prefix(err, "\"%s\"", what);
    dla_tags_clear(out);
    return -1;
}

json_object *
dla_tags_to_json(const dla_tags_t *t)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < t->n; i++)
        json_object_array_add(a, json_object_new_string(t->v[i]));
    return a;
}

char *
dla_tags_join(const dla_tags_t *t)
{
    size_t len = 1;
    for (size_t i = 0; i < t->n; i++)
        len += strlen(t->v[i]) + 1;
    char *s = xmalloc(len), *p = s;
    *p = '\0';
    for (size_t i = 0; i < t->n; i++) {
        size_t n = strlen(t->v[i]);
        if (i > 0)
            *p++ = ',';
        memcpy(p, t->v[i], n);
        p += n;
        *p = '\0';
    }
    return s;
}

bool
dla_ratio_limit_is_valid(double r)
{
    return r == DLA_LIMIT_GLOBAL || r == DLA_LIMIT_NONE ||
           (isfinite(r) && r >= 0 && r <= DLA_RATIO_MAX);
}

bool
dla_seeding_time_limit_is_valid(int64_t minutes)
{
    return minutes == DLA_LIMIT_GLOBAL || minutes == DLA_LIMIT_NONE ||
           (minutes >= 0 && minutes <= DLA_SEEDING_MAX);
}

int
dla_parse_ratio_limit(json_object *v, const char *what, double *out, mt_error_t **err)
{
    double r = NAN;
    if (v != NULL && json_object_is_type(v, json_type_int))
        r = (double)json_object_get_int64(v);
    else if (v != NULL && json_object_is_type(v, json_type_double))
        r = json_object_get_double(v);
    if (!dla_ratio_limit_is_valid(r)) {
        mt_error_set(err, MT_ERR_INVALID,
                     "\"%s\" must be -2 (global), -1 (unlimited) or a ratio from 0 to %g", what,
                     DLA_RATIO_MAX);
        return -1;
    }
    *out = r;
    return 0;
}

int
dla_parse_rate_limit(json_object *v, const char *what, int64_t *out, mt_error_t **err)
{
    if (v == NULL || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
        json_object_get_int64(v) > DLA_RATE_MAX) {
        mt_error_set(err, MT_ERR_INVALID,
                     "\"%s\" must be an integer number of bytes per second from 0 (no limit) "
                     "to %d",
                     what, DLA_RATE_MAX);
        return -1;
    }
    *out = json_object_get_int64(v);
    return 0;
}

uint64_t
dla_rate_share(uint64_t limit, size_t n)
{
    if (limit == 0 || n == 0)
        return 0;
    uint64_t share = limit / n;
    return share > 0 ? share : 1;
}

int
dla_parse_seeding_time_limit(json_object *v, const char *what, int *out, mt_error_t **err)
{
    if (v == NULL || !json_object_is_type(v, json_type_int) ||
        !dla_seeding_time_limit_is_valid(json_object_get_int64(v))) {
        mt_error_set(err, MT_ERR_INVALID,
                     "\"%s\" must be -2 (global), -1 (unlimited) or an integer number of "
                     "minutes from 0 to %d",
                     what, DLA_SEEDING_MAX);
        return -1;
    }
    *out = (int)json_object_get_int64(v);
    return 0;
}

bool
dla_id_is_valid(const char *s)
{
    return s != NULL && strlen(s) == DLA_ID_LEN &&
           strspn(s, "0123456789abcdef") == DLA_ID_LEN;
}

bool
dla_btih_is_valid(const char *s)
{
    return s != NULL && strlen(s) == DLA_BTIH_LEN &&
           strspn(s, "0123456789abcdef") == DLA_BTIH_LEN;
}

int
dla_id_new(char *out, mt_error_t **err)
{
    return mt_random_hex(out, DLA_ID_LEN / 2, err);
}

int
dla_priority_parse(const char *s, int *out)
{
    if (strcmp(s, "low") == 0)
        *out = DLA_PRIO_LOW;
    else if (strcmp(s, "normal") == 0)
        *out = DLA_PRIO_NORMAL;
    else if (strcmp(s, "high") == 0)
        *out = DLA_PRIO_HIGH;
    else
        return -1;
    return 0;
}

const char *
dla_priority_name(int prio)
{
    return prio < 0 ? "low" : prio > 0 ? "high" : "normal";
}
