/* partfile_meta.c: a part file's metadata (docs/partfile.md): its defaults,
 * the JSON it is saved as and read back from (every constraint checked),
 * and the rules for names and strings. No file I/O: the fuzz target links it. */
#include "config.h"

#include "daemon/transfer/partfile_int.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* UTF-8 and names                                                          */

bool
pf_text_ok(const char *s, size_t len, bool is_name)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = mt_utf8_next(p + i, len - i, &cp);
        if (n == 0 || mt_utf8_is_control(cp) || (is_name && cp == '/'))
            return false;
        i += n;
    }
    return true;
}

bool
pf_name_is_valid(const char *name)
{
    if (name == NULL)
        return false;
    size_t len = strlen(name);
    if (len == 0 || len > PF_MAX_NAME)
        return false;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    return pf_text_ok(name, len, true);
}

size_t
pf_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

char *
pf_name_sanitize(const char *name, size_t max_bytes)
{
    if (max_bytes > PF_MAX_NAME)
        max_bytes = PF_MAX_NAME;
    if (max_bytes < 8)
        max_bytes = 8;
    if (name == NULL)
        name = "";
    size_t len = strlen(name);
    const unsigned char *p = (const unsigned char *)name;
    char *out = xmalloc(len + 1);
    size_t o = 0, i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = mt_utf8_next(p + i, len - i, &cp);
        if (n == 0) {
            out[o++] = '_';
            i++;
        } else if (mt_utf8_is_control(cp) || cp == '/') {
            out[o++] = '_';
            i += n;
        } else {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    o = pf_utf8_cut(out, o, max_bytes);
    out[o] = '\0';
    if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
        free(out);
        return xstrdup("_");
    }
    return out;
}

bool
pf_string_ok(const char *s)
{
    if (s == NULL)
        return true;
    size_t len = strlen(s);
    return len <= PF_MAX_STRING && pf_text_ok(s, len, false);
}

/* ------------------------------------------------------------------------ */
/* Metadata                                                                 */

pf_meta_t *
pf_meta_new(const uint8_t hash[ED2K_HASH_LEN], uint64_t size)
{
    pf_meta_t *m = xcalloc(1, sizeof *m);
    memcpy(m->hash, hash, ED2K_HASH_LEN);
    m->size = size;
    m->filled = rangeset_new();
    m->n_parts = (size_t)ed2k_part_count(size);
    m->verified = xcalloc(m->n_parts, 1);
    if (pf_is_phantom(size, m->n_parts - 1))
        m->verified[m->n_parts - 1] = 1;
    m->state = PF_STATE_ACTIVE;
    m->ratio_limit = DLA_LIMIT_GLOBAL;
    m->seeding_time_limit = DLA_LIMIT_GLOBAL;
    return m;
}

void
pf_meta_free(pf_meta_t *m)
{
    if (m == NULL)
        return;
    free(m->name);
    free(m->part_hashes);
    rangeset_free(m->filled);
    free(m->verified);
    free(m->category);
    free(m->save_path);
    free(m->added_by);
    free(m->added_via);
    dla_tags_clear(&m->tags);
    free(m->sources);
    free(m);
}

const uint8_t *
pf_meta_hash(const pf_meta_t *m)
{
    return m->hash;
}

uint64_t
pf_meta_size(const pf_meta_t *m)
{
    return m->size;
}

const char *
pf_meta_name(const pf_meta_t *m)
{
    return m->name;
}

static const char *const state_names[] = { "active", "paused", "stopped" };

const char *
pf_state_name(pf_state_t state)
{
    if ((unsigned)state < sizeof state_names / sizeof state_names[0])
        return state_names[state];
    return "unknown";
}

static void
add_string(json_object *o, const char *key, const char *s)
{
    if (s != NULL)
        json_object_object_add(o, key, json_object_new_string(s));
}

char *
pf_meta_to_json(const pf_meta_t *m)
{
    char hex[ED2K_HASH_HEX_LEN + 1];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "version", json_object_new_int(PF_MET_VERSION));
    ed2k_hash_to_hex(m->hash, hex);
    json_object_object_add(o, "hash", json_object_new_string(hex));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)m->size));
    json_object_object_add(o, "name", json_object_new_string(m->name));
    if (m->part_hashes != NULL) {
        json_object *a = json_object_new_array();
        size_t n = (size_t)ed2k_hash_count(m->size);
        for (size_t i = 0; i < n; i++) {
            ed2k_hash_to_hex(m->part_hashes[i], hex);
            json_object_array_add(a, json_object_new_string(hex));
        }
        json_object_object_add(o, "part_hashes", a);
    }
    if (m->has_aich) {
        char b32[ED2K_AICH_B32_LEN + 1];
        ed2k_aich_to_base32(m->aich, b32);
        json_object_object_add(o, "aich_root", json_object_new_string(b32));
    }
    json_object *filled = json_object_new_array();
    for (size_t i = 0; i < rangeset_count(m->filled); i++) {
        uint64_t s, e;
        rangeset_get(m->filled, i, &s, &e);
        json_object *r = json_object_new_array();
        json_object_array_add(r, json_object_new_int64((int64_t)s));
        json_object_array_add(r, json_object_new_int64((int64_t)e));
        json_object_array_add(filled, r);
    }
    json_object_object_add(o, "filled", filled);
    json_object *verified = json_object_new_array();
    for (size_t i = 0; i < m->n_parts; i++)
        if (m->verified[i] && !pf_is_phantom(m->size, i))
            json_object_array_add(verified, json_object_new_int64((int64_t)i));
    json_object_object_add(o, "verified", verified);
    add_string(o, "category", m->category);
    add_string(o, "save_path", m->save_path);
    json_object_object_add(o, "priority", json_object_new_int(m->priority));
    json_object_object_add(o, "state", json_object_new_string(pf_state_name(m->state)));
    json_object_object_add(o, "added_at", json_object_new_int64(m->added_at));
    json_object_object_add(o, "completed_at", json_object_new_int64(m->completed_at));
    add_string(o, "added_by", m->added_by);
    add_string(o, "added_via", m->added_via);
    if (m->download_id[0] != '\0')
        json_object_object_add(o, "download_id", json_object_new_string(m->download_id));
    if (m->btih[0] != '\0')
        json_object_object_add(o, "btih", json_object_new_string(m->btih));
    json_object_object_add(o, "downloaded_bytes", json_object_new_int64((int64_t)m->downloaded));
    json_object_object_add(o, "uploaded_bytes", json_object_new_int64((int64_t)m->uploaded));
    json_object_object_add(o, "tags", dla_tags_to_json(&m->tags));
    json_object_object_add(o, "ratio_limit", json_object_new_double(m->ratio_limit));
    json_object_object_add(o, "seeding_time_limit", json_object_new_int(m->seeding_time_limit));
    json_object_object_add(o, "force_start", json_object_new_boolean(m->force_start));
    json_object_object_add(o, "dl_limit", json_object_new_int64(m->dl_limit));
    json_object_object_add(o, "up_limit", json_object_new_int64(m->up_limit));
    json_object_object_add(o, "last_activity", json_object_new_int64(m->last_activity));
    json_object *sources = json_object_new_array();
    for (size_t i = 0; i < m->n_sources; i++) {
        const pf_source_t *src = &m->sources[i];
        json_object *so = json_object_new_object();
        char ip[INET_ADDRSTRLEN];
        struct in_addr a = { htonl(src->ip) };
        inet_ntop(AF_INET, &a, ip, sizeof ip);
        json_object_object_add(so, "ip", json_object_new_string(ip));
        json_object_object_add(so, "port", json_object_new_int(src->port));
        if (src->has_userhash) {
            ed2k_hash_to_hex(src->userhash, hex);
            json_object_object_add(so, "userhash", json_object_new_string(hex));
        }
        json_object_array_add(sources, so);
    }
    json_object_object_add(o, "sources", sources);
    const char *text = json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *out = xasprintf("%s\n", text);
    json_object_put(o);
    return out;
}

/* ---- Parsing ---- */

/* json-c 0.16 silently saturates integers that do not fit in 64 bits, so
 * the literals are checked in the text: every integer must fit in int64. */
static bool
integers_fit(const char *s, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
            continue;
        }
        if (c != '-' && !(c >= '0' && c <= '9'))
            continue;
        bool neg = c == '-';
        size_t j = neg ? i + 1 : i;
        while (j < len && s[j] == '0')
            j++;
        size_t d0 = j;
        while (j < len && s[j] >= '0' && s[j] <= '9')
            j++;
        size_t ndig = j - d0;
        bool is_int = !(j < len && (s[j] == '.' || s[j] == 'e' || s[j] == 'E'));
        while (j < len && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.' || s[j] == 'e' ||
                           s[j] == 'E' || s[j] == '+' || s[j] == '-'))
            j++;
        if (is_int) {
            const char *lim = neg ? "9223372036854775808" : "9223372036854775807";
            if (ndig > 19 || (ndig == 19 && memcmp(s + d0, lim, 19) > 0))
                return false;
        }
        i = j - 1;
    }
    return true;
}

static int
perr(mt_error_t **err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
perr(mt_error_t **err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mt_error_setv(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

/* An integer member within [lo, hi]. */
static int
get_int(json_object *v, const char *what, int64_t lo, int64_t hi, int64_t *out, mt_error_t **err)
{
    if (!json_object_is_type(v, json_type_int))
        return perr(err, MT_ERR_INVALID, "%s must be an integer", what);
    int64_t x = json_object_get_int64(v);
    if (x < lo || x > hi)
        return perr(err, MT_ERR_INVALID, "%s out of range (%lld .. %lld)", what, (long long)lo,
                    (long long)hi);
    *out = x;
    return 0;
}

static int
get_hash(json_object *v, const char *what, uint8_t out[ED2K_HASH_LEN], mt_error_t **err)
{
    if (!json_object_is_type(v, json_type_string) ||
        ed2k_hash_from_hexn(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                            out) != 0)
        return perr(err, MT_ERR_INVALID, "%s must be 32 hex digits", what);
    return 0;
}

/* An optional string member: absent or null gives NULL. */
static int
get_opt_string(json_object *root, const char *key, char **out, mt_error_t **err)
{
    json_object *v;
    *out = NULL;
    if (!json_object_object_get_ex(root, key, &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return perr(err, MT_ERR_INVALID, "\"%s\" must be a string", key);
    size_t len = (size_t)json_object_get_string_len(v);
    const char *s = json_object_get_string(v);
    if (len > PF_MAX_STRING)
        return perr(err, MT_ERR_TOO_LARGE, "\"%s\" longer than %d bytes", key, PF_MAX_STRING);
    if (strlen(s) != len || !pf_text_ok(s, len, false))
        return perr(err, MT_ERR_INVALID, "\"%s\" has control characters or invalid UTF-8", key);
    if (len > 0)
        *out = xstrdup(s);
    return 0;
}

static json_object *
parse_json_text(const char *text, size_t len, mt_error_t **err)
{
    if (len > PF_MAX_MET_SIZE) {
        perr(err, MT_ERR_TOO_LARGE, "metadata larger than %u bytes", PF_MAX_MET_SIZE);
        return NULL;
    }
    if (memchr(text, '\0', len) != NULL) {
        perr(err, MT_ERR_INVALID, "metadata contains a NUL byte");
        return NULL;
    }
    json_tokener *tok = json_tokener_new_ex(16);
    if (tok == NULL) {
        perr(err, MT_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (obj == NULL || jerr != json_tokener_success) {
        perr(err, MT_ERR_INVALID, "malformed JSON: %s",
             jerr == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(jerr));
        json_object_put(obj);
        return NULL;
    }
    for (size_t i = used; i < len; i++) {
        char c = text[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            perr(err, MT_ERR_INVALID, "malformed JSON: trailing data");
            json_object_put(obj);
            return NULL;
        }
    }
    if (!integers_fit(text, used)) {
        perr(err, MT_ERR_INVALID, "a number does not fit in 64 bits");
        json_object_put(obj);
        return NULL;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        perr(err, MT_ERR_INVALID, "metadata must be a JSON object");
        json_object_put(obj);
        return NULL;
    }
    return obj;
}

static int
parse_part_hashes(json_object *root, pf_meta_t *m, mt_error_t **err)
{
    json_object *v;
    if (!json_object_object_get_ex(root, "part_hashes", &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_array))
        return perr(err, MT_ERR_INVALID, "\"part_hashes\" must be an array");
    size_t n = json_object_array_length(v);
    uint64_t want = ed2k_hash_count(m->size);
    if (want == 0 && n == 0)
        return 0;
    if (n != want)
        return perr(err, MT_ERR_INVALID, "\"part_hashes\" has %zu hashes, a file of %llu bytes has %llu",
                    n, (unsigned long long)m->size, (unsigned long long)want);
    m->part_hashes = xcalloc(n, ED2K_HASH_LEN);
    for (size_t i = 0; i < n; i++)
        if (get_hash(json_object_array_get_idx(v, i), "a part hash", m->part_hashes[i], err) < 0)
            return -1;
    uint8_t md4[ED2K_HASH_LEN];
    ed2k_parthashes_md4((const uint8_t (*)[ED2K_HASH_LEN])m->part_hashes, n, md4);
    if (memcmp(md4, m->hash, ED2K_HASH_LEN) != 0)
        return perr(err, MT_ERR_INVALID, "\"part_hashes\" do not match the file hash");
    return 0;
}

static int
parse_filled(json_object *root, pf_meta_t *m, mt_error_t **err)
{
    json_object *v;
    if (!json_object_object_get_ex(root, "filled", &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_array))
        return perr(err, MT_ERR_INVALID, "\"filled\" must be an array");
    size_t n = json_object_array_length(v);
    uint64_t prev_end = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(v, i);
        if (!json_object_is_type(r, json_type_array) || json_object_array_length(r) != 2)
            return perr(err, MT_ERR_INVALID, "\"filled\" entry %zu must be [start, end]", i);
        int64_t s, e;
        if (get_int(json_object_array_get_idx(r, 0), "a filled range start", 0,
                    (int64_t)m->size, &s, err) < 0 ||
            get_int(json_object_array_get_idx(r, 1), "a filled range end", 0, (int64_t)m->size,
                    &e, err) < 0)
            return -1;
        if (s >= e)
            return perr(err, MT_ERR_INVALID, "\"filled\" entry %zu is empty or reversed", i);
        if (i > 0 && (uint64_t)s < prev_end)
            return perr(err, MT_ERR_INVALID, "\"filled\" entry %zu is out of order or overlaps", i);
        rangeset_add(m->filled, (uint64_t)s, (uint64_t)e);
        prev_end = (uint64_t)e;
    }
    return 0;
}

static int
parse_verified(json_object *root, pf_meta_t *m, mt_error_t **err)
{
    json_object *v;
    if (!json_object_object_get_ex(root, "verified", &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_array))
        return perr(err, MT_ERR_INVALID, "\"verified\" must be an array");
    size_t n = json_object_array_length(v);
    int64_t prev = -1;
    for (size_t i = 0; i < n; i++) {
        int64_t p;
        if (get_int(json_object_array_get_idx(v, i), "a verified part", 0,
                    (int64_t)m->n_parts - 1, &p, err) < 0)
            return -1;
        if (p <= prev)
            return perr(err, MT_ERR_INVALID, "\"verified\" must be strictly increasing");
        prev = p;
        size_t part = (size_t)p;
        if (pf_is_phantom(m->size, part))
            continue;
        if (m->size >= ED2K_PARTSIZE && m->part_hashes == NULL)
            return perr(err, MT_ERR_INVALID, "part %zu is verified but the part hashes are unknown",
                        part);
        if (!rangeset_contains(m->filled, pf_part_start(part), pf_part_end(m->size, part)))
            return perr(err, MT_ERR_INVALID, "verified part %zu is not filled", part);
        m->verified[part] = 1;
    }
    return 0;
}

static int
parse_sources(json_object *root, pf_meta_t *m, mt_error_t **err)
{
    json_object *v;
    if (!json_object_object_get_ex(root, "sources", &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_array))
        return perr(err, MT_ERR_INVALID, "\"sources\" must be an array");
    size_t n = json_object_array_length(v);
    if (n > PF_MAX_SOURCES)
        return perr(err, MT_ERR_TOO_LARGE, "more than %d sources", PF_MAX_SOURCES);
    m->sources = xcalloc(n ? n : 1, sizeof *m->sources);
    for (size_t i = 0; i < n; i++) {
        json_object *so = json_object_array_get_idx(v, i), *f;
        pf_source_t *src = &m->sources[i];
        if (!json_object_is_type(so, json_type_object))
            return perr(err, MT_ERR_INVALID, "source %zu must be an object", i);
        struct in_addr a;
        if (!json_object_object_get_ex(so, "ip", &f) || !json_object_is_type(f, json_type_string) ||
            json_object_get_string_len(f) > 15 ||
            inet_pton(AF_INET, json_object_get_string(f), &a) != 1 || a.s_addr == 0)
            return perr(err, MT_ERR_INVALID, "source %zu: \"ip\" must be a dotted IPv4 address", i);
        src->ip = ntohl(a.s_addr);
        int64_t port;
        if (!json_object_object_get_ex(so, "port", &f))
            return perr(err, MT_ERR_INVALID, "source %zu: \"port\" is missing", i);
        if (get_int(f, "a source port", 1, 65535, &port, err) < 0)
            return -1;
        src->port = (uint16_t)port;
        if (json_object_object_get_ex(so, "userhash", &f) && f != NULL) {
            if (get_hash(f, "a source userhash", src->userhash, err) < 0)
                return -1;
            src->has_userhash = true;
        }
        for (size_t j = 0; j < i; j++)
            if (m->sources[j].ip == src->ip && m->sources[j].port == src->port)
                return perr(err, MT_ERR_INVALID, "source %zu is listed twice", i);
        m->n_sources = i + 1;
    }
    return 0;
}

/* The attributes of dlattr.h; each optional, with its default when absent
 * (metadata written before they existed). */
static int
parse_attrs(json_object *root, pf_meta_t *m, mt_error_t **err)
{
    json_object *v;
    int64_t x;
    if (json_object_object_get_ex(root, "tags", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_array))
            return perr(err, MT_ERR_INVALID, "\"tags\" must be an array of strings");
        if (dla_tags_parse(v, "tags", &m->tags, err) != 0)
            return -1;
    }
    if (json_object_object_get_ex(root, "ratio_limit", &v) &&
        dla_parse_ratio_limit(v, "ratio_limit", &m->ratio_limit, err) != 0)
        return -1;
    if (json_object_object_get_ex(root, "seeding_time_limit", &v) &&
        dla_parse_seeding_time_limit(v, "seeding_time_limit", &m->seeding_time_limit, err) != 0)
        return -1;
    if (json_object_object_get_ex(root, "dl_limit", &v) &&
        dla_parse_rate_limit(v, "dl_limit", &m->dl_limit, err) != 0)
        return -1;
    if (json_object_object_get_ex(root, "up_limit", &v) &&
        dla_parse_rate_limit(v, "up_limit", &m->up_limit, err) != 0)
        return -1;
    if (json_object_object_get_ex(root, "force_start", &v)) {
        if (!json_object_is_type(v, json_type_boolean))
            return perr(err, MT_ERR_INVALID, "\"force_start\" must be true or false");
        m->force_start = json_object_get_boolean(v);
    }
    if (json_object_object_get_ex(root, "last_activity", &v)) {
        if (get_int(v, "\"last_activity\"", 0, INT64_MAX, &x, err) < 0)
            return -1;
        m->last_activity = x;
    }
    return 0;
}

static int
parse_meta(json_object *root, pf_meta_t **out, mt_error_t **err)
{
    json_object *v;
    int64_t x;
    if (!json_object_object_get_ex(root, "version", &v))
        return perr(err, MT_ERR_INVALID, "\"version\" is missing");
    if (get_int(v, "\"version\"", 1, INT64_MAX, &x, err) < 0)
        return -1;
    if (x > PF_MET_VERSION)
        return perr(err, MT_ERR_UNSUPPORTED, "metadata version %lld is newer than %d",
                    (long long)x, PF_MET_VERSION);
    uint8_t hash[ED2K_HASH_LEN];
    if (!json_object_object_get_ex(root, "hash", &v))
        return perr(err, MT_ERR_INVALID, "\"hash\" is missing");
    if (get_hash(v, "\"hash\"", hash, err) < 0)
        return -1;
    if (!json_object_object_get_ex(root, "size", &v))
        return perr(err, MT_ERR_INVALID, "\"size\" is missing");
    if (get_int(v, "\"size\"", 1, (int64_t)ED2K_MAX_FILE_SIZE, &x, err) < 0)
        return -1;
    pf_meta_t *m = pf_meta_new(hash, (uint64_t)x);
    int rc = -1;
    if (!json_object_object_get_ex(root, "name", &v) || !json_object_is_type(v, json_type_string)) {
        perr(err, MT_ERR_INVALID, "\"name\" must be a string");
        goto out;
    }
    size_t nlen = (size_t)json_object_get_string_len(v);
    if (nlen > PF_MAX_NAME) {
        perr(err, MT_ERR_TOO_LARGE, "\"name\" longer than %d bytes", PF_MAX_NAME);
        goto out;
    }
    if (strlen(json_object_get_string(v)) != nlen || !pf_name_is_valid(json_object_get_string(v))) {
        perr(err, MT_ERR_INVALID,
             "\"name\" must be non-empty UTF-8 without '/' or control characters");
        goto out;
    }
    m->name = xstrdup(json_object_get_string(v));
    if (parse_part_hashes(root, m, err) < 0 || parse_filled(root, m, err) < 0 ||
        parse_verified(root, m, err) < 0)
        goto out;
    if (json_object_object_get_ex(root, "aich_root", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_string) ||
            ed2k_aich_from_base32(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                                  m->aich) != 0) {
            perr(err, MT_ERR_INVALID, "\"aich_root\" must be 32 base32 characters");
            goto out;
        }
        m->has_aich = true;
    }
    json_object *sp;
    if (json_object_object_get_ex(root, "save_path", &sp) && sp != NULL) {
        const char *s = json_object_is_type(sp, json_type_string) ? json_object_get_string(sp) : "";
        size_t len = strlen(s);
        if (s[0] != '/' || len >= PF_MAX_PATH || !pf_text_ok(s, len, false)) {
            perr(err, MT_ERR_INVALID, "\"save_path\" must be an absolute path of UTF-8 text");
            goto out;
        }
        m->save_path = xstrdup(s);
    }
    if (get_opt_string(root, "category", &m->category, err) < 0 ||
        get_opt_string(root, "added_by", &m->added_by, err) < 0 ||
        get_opt_string(root, "added_via", &m->added_via, err) < 0)
        goto out;
    if (json_object_object_get_ex(root, "download_id", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_string) ||
            !dla_id_is_valid(json_object_get_string(v))) {
            perr(err, MT_ERR_INVALID, "\"download_id\" must be %d lower-case hex digits",
                 DLA_ID_LEN);
            goto out;
        }
        memcpy(m->download_id, json_object_get_string(v), DLA_ID_LEN + 1);
    }
    if (json_object_object_get_ex(root, "btih", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_string) ||
            !dla_btih_is_valid(json_object_get_string(v))) {
            perr(err, MT_ERR_INVALID, "\"btih\" must be %d lower-case hex digits",
                 DLA_BTIH_LEN);
            goto out;
        }
        memcpy(m->btih, json_object_get_string(v), DLA_BTIH_LEN + 1);
    }
    if (json_object_object_get_ex(root, "priority", &v)) {
        if (get_int(v, "\"priority\"", INT_MIN, INT_MAX, &x, err) < 0)
            goto out;
        m->priority = (int)x;
    }
    if (json_object_object_get_ex(root, "state", &v)) {
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        size_t k;
        for (k = 0; k < sizeof state_names / sizeof state_names[0]; k++)
            if (strcmp(s, state_names[k]) == 0)
                break;
        if (k == sizeof state_names / sizeof state_names[0]) {
            perr(err, MT_ERR_INVALID, "\"state\" must be \"active\", \"paused\" or \"stopped\"");
            goto out;
        }
        m->state = (pf_state_t)k;
    }
    if (json_object_object_get_ex(root, "added_at", &v)) {
        if (get_int(v, "\"added_at\"", INT64_MIN, INT64_MAX, &m->added_at, err) < 0)
            goto out;
    }
    if (json_object_object_get_ex(root, "completed_at", &v)) {
        if (get_int(v, "\"completed_at\"", INT64_MIN, INT64_MAX, &m->completed_at, err) < 0)
            goto out;
    }
    if (json_object_object_get_ex(root, "downloaded_bytes", &v)) {
        if (get_int(v, "\"downloaded_bytes\"", 0, INT64_MAX, &x, err) < 0)
            goto out;
        m->downloaded = (uint64_t)x;
    }
    if (json_object_object_get_ex(root, "uploaded_bytes", &v)) {
        if (get_int(v, "\"uploaded_bytes\"", 0, INT64_MAX, &x, err) < 0)
            goto out;
        m->uploaded = (uint64_t)x;
    }
    if (parse_attrs(root, m, err) < 0 || parse_sources(root, m, err) < 0)
        goto out;
    rc = 0;
out:
    if (rc == 0)
        *out = m;
    else
        pf_meta_free(m);
    return rc;
}

int
pf_parse_met(const char *json, size_t len, pf_meta_t **out, mt_error_t **err)
{
    *out = NULL;
    json_object *root = parse_json_text(json, len, err);
    if (root == NULL)
        return -1;
    int rc = parse_meta(root, out, err);
    json_object_put(root);
    return rc;
}
