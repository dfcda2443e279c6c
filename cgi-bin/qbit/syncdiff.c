/* syncdiff.c: what changed between two states of sync/maindata, without
 * HTTP or SQL (tests/unit/check_qbit_sync.c covers it): a small scanner of
 * JSON object texts for the torrents (compared and copied as text, so a
 * delta carries exactly the renderer's bytes), json-c for the rest. */
#include "config.h"

#include "qbit/syncdiff.h"
#include "util/xalloc.h"

#include <nettle/md5.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------ scanning object texts */

/* One top-level member of an object text: the key with its quotes and the
 * value, both pointing into the text. */
typedef struct {
    const char *key;
    size_t klen;
    const char *val;
    size_t vlen;
} member_t;

typedef struct {
    const char *p, *end;
} scan_t;

static void
skip_ws(scan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* skip_string: past the string starting at s->p (a '"'); -1 when it does
 * not end. */
static int
skip_string(scan_t *s)
{
    for (s->p++; s->p < s->end; s->p++) {
        if (*s->p == '\\') {
            s->p++;
            continue;
        }
        if (*s->p == '"') {
            s->p++;
            return 0;
        }
    }
    return -1;
}

/* skip_value: past one value (string, object or array with what they
 * hold, or a scalar); -1 when malformed or empty. */
static int
skip_value(scan_t *s)
{
    if (s->p >= s->end)
        return -1;
    if (*s->p == '"')
        return skip_string(s);
    if (*s->p == '{' || *s->p == '[') {
        int depth = 0;
        while (s->p < s->end) {
            char c = *s->p;
            if (c == '"') {
                if (skip_string(s) != 0)
                    return -1;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']')
                depth--;
            s->p++;
            if (depth == 0)
                return 0;
        }
        return -1;
    }
    const char *start = s->p;
    while (s->p < s->end && strchr(",}] \t\r\n", *s->p) == NULL)
        s->p++;
    return s->p > start ? 0 : -1;
}

/* scan_open: positions s after the object's '{'; -1 if not an object. */
static int
scan_open(scan_t *s, const char *text, size_t len)
{
    s->p = text;
    s->end = text + len;
    skip_ws(s);
    if (s->p >= s->end || *s->p != '{')
        return -1;
    s->p++;
    return 0;
}

/* scan_next: the next member into m: 1, 0 at the closing brace (which
 * must end the text), -1 when malformed. */
static int
scan_next(scan_t *s, member_t *m, bool first)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        skip_ws(s);
        return s->p == s->end ? 0 : -1;
    }
    if (!first) {
        if (s->p >= s->end || *s->p != ',')
            return -1;
        s->p++;
        skip_ws(s);
    }
    if (s->p >= s->end || *s->p != '"')
        return -1;
    m->key = s->p;
    if (skip_string(s) != 0)
        return -1;
    m->klen = (size_t)(s->p - m->key);
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
        return -1;
    s->p++;
    skip_ws(s);
    m->val = s->p;
    if (skip_value(s) != 0)
        return -1;
    m->vlen = (size_t)(s->p - m->val);
    return 1;
}

/* members: every member of an object text (a new array, *n of them); -1
 * when malformed. */
static int
members(const char *text, size_t len, member_t **out, size_t *n)
{
    scan_t s;
    *out = NULL;
    *n = 0;
    if (scan_open(&s, text, len) != 0)
        return -1;
    size_t cap = 0;
    for (;;) {
        member_t m;
        int rc = scan_next(&s, &m, *n == 0);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            free(*out);
            *out = NULL;
            *n = 0;
            return -1;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*n)++] = m;
    }
}

static bool
same_text(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* find: the member of m (n of them) with key k, looking from *hint on
 * (members in the same order are found in one pass); NULL if none. */
static const member_t *
find(const member_t *m, size_t n, const member_t *k, size_t *hint)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = (*hint + i) % n;
        if (same_text(m[j].key, m[j].klen, k->key, k->klen)) {
            *hint = j + 1;
            return &m[j];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ the diffs */

int
qbit_sync_flat_diff(const char *before, size_t blen, const char *now, size_t nlen,
                    struct evbuffer *out)
{
    member_t *b, *n;
    size_t nb, nn;
    if (members(before, blen, &b, &nb) != 0)
        return -1;
    if (members(now, nlen, &n, &nn) != 0) {
        free(b);
        return -1;
    }
    int written = 0;
    size_t hint = 0; /* the renderer keeps its order: look where the last key was */
    evbuffer_add(out, "{", 1);
    for (size_t i = 0; i < nn; i++) {
        const member_t *old = find(b, nb, &n[i], &hint);
        if (old != NULL && same_text(old->val, old->vlen, n[i].val, n[i].vlen))
            continue;
        if (written++ > 0)
            evbuffer_add(out, ",", 1);
        evbuffer_add(out, n[i].key, n[i].klen);
        evbuffer_add(out, ":", 1);
        evbuffer_add(out, n[i].val, n[i].vlen);
    }
    evbuffer_add(out, "}", 1);
    free(b);
    free(n);
    return written;
}

int
qbit_sync_flat_merge(const char *base, size_t blen, const char *over, size_t olen,
                     struct evbuffer *out)
{
    member_t *b, *o;
    size_t nb, no;
    if (members(base, blen, &b, &nb) != 0)
        return -1;
    if (members(over, olen, &o, &no) != 0) {
        free(b);
        return -1;
    }
    bool *used = xcalloc(no ? no : 1, sizeof *used);
    size_t hint = 0, written = 0;
    evbuffer_add(out, "{", 1);
    for (size_t i = 0; i < nb; i++) {
        const member_t *m = find(o, no, &b[i], &hint);
        if (m != NULL)
            used[m - o] = true;
        else
            m = &b[i];
        evbuffer_add_printf(out, "%s%.*s:%.*s", written++ > 0 ? "," : "", (int)m->klen, m->key,
                            (int)m->vlen, m->val);
    }
    for (size_t i = 0; i < no; i++)
        if (!used[i])
            evbuffer_add_printf(out, "%s%.*s:%.*s", written++ > 0 ? "," : "", (int)o[i].klen,
                                o[i].key, (int)o[i].vlen, o[i].val);
    evbuffer_add(out, "}", 1);
    free(used);
    free(b);
    free(o);
    return 0;
}

/* skipped: whether the key text (with its quotes) is one of skip. */
static bool
skipped(const member_t *m, const char *const *skip)
{
    for (size_t i = 0; skip != NULL && skip[i] != NULL; i++) {
        size_t l = strlen(skip[i]);
        if (m->klen == l + 2 && memcmp(m->key + 1, skip[i], l) == 0)
            return true;
    }
    return false;
}

int
qbit_sync_fingerprint(const char *json, size_t len, const char *const *skip,
                      char fp[QBIT_SYNC_FP_LEN + 1])
{
    scan_t s;
    if (scan_open(&s, json, len) != 0)
        return -1;
    struct md5_ctx ctx;
    md5_init(&ctx);
    member_t m;
    int rc;
    for (bool first = true; (rc = scan_next(&s, &m, first)) == 1; first = false) {
        if (skipped(&m, skip))
            continue;
        /* the key keeps its quotes and values end before a ',': the
         * concatenation "key":value, cannot be read two ways */
        md5_update(&ctx, m.klen, (const uint8_t *)m.key);
        md5_update(&ctx, 1, (const uint8_t *)":");
        md5_update(&ctx, m.vlen, (const uint8_t *)m.val);
        md5_update(&ctx, 1, (const uint8_t *)",");
    }
    if (rc != 0)
        return -1;
    uint8_t d[MD5_DIGEST_SIZE];
    md5_digest(&ctx, sizeof d, d);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof d; i++) {
        fp[2 * i] = hex[d[i] >> 4];
        fp[2 * i + 1] = hex[d[i] & 15];
    }
    fp[QBIT_SYNC_FP_LEN] = '\0';
    return 0;
}

json_object *
qbit_sync_diff_members(json_object *before, json_object *now)
{
    json_object *out = json_object_new_object();
    if (!json_object_is_type(now, json_type_object))
        return out;
    json_object_object_foreach(now, key, val)
    {
        json_object *old = NULL;
        if (json_object_is_type(before, json_type_object))
            json_object_object_get_ex(before, key, &old);
        if (old != NULL && json_object_equal(old, val))
            continue;
        if (old != NULL && json_object_is_type(old, json_type_object) &&
            json_object_is_type(val, json_type_object)) {
            json_object_object_add(out, key, qbit_sync_diff_members(old, val));
            continue;
        }
        json_object_object_add(out, key, json_object_get(val));
    }
    return out;
}

json_object *
qbit_sync_diff_keys(json_object *before, json_object *now)
{
    json_object *out = json_object_new_array();
    if (!json_object_is_type(before, json_type_object))
        return out;
    json_object_object_foreach(before, key, val)
    {
        (void)val;
        if (!json_object_object_get_ex(now, key, NULL))
            json_object_array_add(out, json_object_new_string(key));
    }
    return out;
}

/* in_list: whether the array a holds the string s. */
static bool
in_list(json_object *a, const char *s)
{
    if (!json_object_is_type(a, json_type_array))
        return false;
    size_t n = json_object_array_length(a);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(a, i);
        if (json_object_is_type(e, json_type_string) && strcmp(json_object_get_string(e), s) == 0)
            return true;
    }
    return false;
}

/* list_minus: the strings of a that b lacks (a new array). */
static json_object *
list_minus(json_object *a, json_object *b)
{
    json_object *out = json_object_new_array();
    if (!json_object_is_type(a, json_type_array))
        return out;
    size_t n = json_object_array_length(a);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(a, i);
        if (json_object_is_type(e, json_type_string) && !in_list(b, json_object_get_string(e)))
            json_object_array_add(out, json_object_get(e));
    }
    return out;
}

void
qbit_sync_diff_list(json_object *before, json_object *now, json_object **added,
                    json_object **removed)
{
    *added = list_minus(now, before);
    *removed = list_minus(before, now);
}

/* add_id: `"id"` after a comma unless first. */
static void
add_id(struct evbuffer *b, size_t count, const char *id)
{
    evbuffer_add_printf(b, "%s\"%s\"", count > 0 ? "," : "", id);
}

size_t
qbit_sync_torrents_delta(const qbit_sync_version_t *v, size_t n, struct evbuffer *torrents,
                         struct evbuffer *removed, size_t *n_removed)
{
    size_t written = 0;
    *n_removed = 0;
    struct evbuffer *diff = evbuffer_new();
    for (size_t i = 0; i < n;) {
        const qbit_sync_version_t *old = NULL, *cur = NULL;
        size_t j = i;
        for (; j < n && strcmp(v[j].id, v[i].id) == 0; j++) {
            if (v[j].current)
                cur = &v[j];
            else
                old = &v[j];
        }
        i = j;
        if (cur == NULL) {
            add_id(removed, (*n_removed)++, old->id);
            continue;
        }
        evbuffer_drain(diff, evbuffer_get_length(diff));
        int changed = -1;
        if (old != NULL)
            changed = qbit_sync_flat_diff(old->body, old->len, cur->body, cur->len, diff);
        if (changed == 0)
            continue; /* changed and changed back */
        add_id(torrents, written++, cur->id);
        evbuffer_add(torrents, ":", 1);
        if (changed > 0)
            evbuffer_add_buffer(torrents, diff);
        else /* new, or a text the scanner refuses: send it whole */
            evbuffer_add(torrents, cur->body, cur->len);
    }
    evbuffer_free(diff);
    return written;
}
