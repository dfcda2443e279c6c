/* partfile.c: downloads on disk: sparse data file, JSON metadata saved with
 * fdatasync + atomic rename, part verification, completion into incoming. */
#include "config.h"

#include "daemon/transfer/partfile.h"
#include "daemon/transfer/dlattr.h"
#include "daemon/transfer/fdcache.h"
#include "util/log.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <nettle/md4.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IO_CHUNK (256u * 1024u)
#define FINAL_NAME_MAX 255 /* bytes in one path component (NAME_MAX) */
#define MAX_COLLISIONS 9999

/* ------------------------------------------------------------------------ */
/* Data structures                                                          */

/* The persistent state: exactly what the metadata file holds. */
struct pf_meta {
    uint8_t hash[ED2K_HASH_LEN];
    uint64_t size;
    char *name;
    uint8_t (*part_hashes)[ED2K_HASH_LEN]; /* ed2k_hash_count(size), or NULL */
    bool has_aich;
    uint8_t aich[ED2K_AICH_LEN];
    rangeset_t *filled;
    size_t n_parts;    /* ED2K parts */
    uint8_t *verified; /* n_parts flags; the phantom part is always set */
    char *category, *added_by, *added_via; /* NULL: none */
    char download_id[DLA_ID_LEN + 1];      /* "": none yet */
    int priority;
    pf_state_t state;
    int64_t added_at, completed_at;
    uint64_t downloaded, uploaded;
    dla_tags_t tags;
    double ratio_limit;     /* DLA_LIMIT_GLOBAL by default */
    int seeding_time_limit; /* minutes; DLA_LIMIT_GLOBAL by default */
    bool force_start;
    int64_t last_activity;  /* Unix time of the last byte in or out, 0: never */
    pf_source_t *sources;
    size_t n_sources;
};

/* Shared between a partfile and its save/complete jobs, which may outlive
 * it and run on other threads: serialises metadata writes so that the
 * temporary file is never written twice at once and an older snapshot
 * never replaces a newer one, and stops saves once the files are gone. */
typedef struct pf_shared {
    atomic_uint refs;      /* not under lock: the loop never waits on a worker */
    pthread_mutex_t lock;  /* held by workers across a whole metadata write */
    uint64_t written_seq;  /* under lock: the newest snapshot on disk */
    bool gone;             /* under lock: the files were deleted or moved */
} pf_shared_t;

struct partfile {
    pf_meta_t *m;
    char *temp_dir, *data_path, *met_path, *tmp_path;
    bool dirty;
    uint32_t *part_gen; /* per part: bumped whenever its bytes change */
    size_t n_verified;  /* verified parts, phantom included */
    uint64_t verified_bytes;
    uint64_t save_seq;
    pf_shared_t *shared;
    /* Every byte not filled is a hole of the sparse file (a new download, or
     * a corrupt part whose range was punched out), so zeros need not be
     * written: they are already there, and the file stays sparse. False
     * after a load (data written after the last save may lie in the gaps)
     * and when punching a hole fails. */
    bool holes_clean;
};

static pf_shared_t *
shared_new(void)
{
    pf_shared_t *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    atomic_init(&s->refs, 1);
    return s;
}

static pf_shared_t *
shared_ref(pf_shared_t *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

static void
shared_unref(pf_shared_t *s)
{
    if (s == NULL)
        return;
    if (atomic_fetch_sub(&s->refs, 1) == 1) {
        pthread_mutex_destroy(&s->lock);
        free(s);
    }
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

static uint64_t
part_start(size_t i)
{
    return (uint64_t)i * ED2K_PARTSIZE;
}

static uint64_t
part_end(uint64_t size, size_t i)
{
    uint64_t e = ((uint64_t)i + 1) * ED2K_PARTSIZE;
    return e < size ? e : size;
}

static bool
is_phantom(uint64_t size, size_t i)
{
    return part_start(i) >= size;
}

static int
write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int
pwrite_all(int fd, const void *data, size_t len, uint64_t off)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Reads exactly len bytes at off; -1 with errno (EIO at a short file). */
static int
pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

/* An I/O error's code: MT_ERR_NO_SPACE for a full disk or quota. */
static int
io_code(int e)
{
    return e == ENOSPC || e == EDQUOT ? MT_ERR_NO_SPACE : MT_ERR_IO;
}

/* ------------------------------------------------------------------------ */
/* Descriptors                                                              */

/* The data files' descriptors, shared by every part file (loop thread):
 * a part file holds no descriptor of its own, it borrows one from here
 * for each write, so the number of downloads does not matter. Jobs on
 * workers open their own by path. */
static fdcache_t *pf_fds;

static fdcache_t *
fds(void)
{
    if (pf_fds == NULL)
        pf_fds = fdc_new(PF_DEFAULT_OPEN_FILES);
    return pf_fds;
}

void
pf_set_max_open_files(size_t n)
{
    fdc_set_max(fds(), n);
}

size_t
pf_open_files(void)
{
    return pf_fds != NULL ? fdc_open_count(pf_fds) : 0;
}

void
pf_close_files(void)
{
    fdc_free(pf_fds);
    pf_fds = NULL;
}

/* Borrows the data file's descriptor; give it back with data_fd_put. */
static int
data_fd_get(partfile_t *pf)
{
    return fdc_checkout(fds(), pf, pf->data_path, O_RDWR);
}

static void
data_fd_put(partfile_t *pf)
{
    fdc_checkin(fds(), pf);
}

/* ------------------------------------------------------------------------ */
/* UTF-8 and names                                                          */

static bool
is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

/* Valid UTF-8 without control characters (and, for names, without '/'). */
static bool
text_ok(const char *s, size_t len, bool is_name)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = mt_utf8_next(p + i, len - i, &cp);
        if (n == 0 || is_control(cp) || (is_name && cp == '/'))
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
    return text_ok(name, len, true);
}

/* Longest prefix of s (len bytes of valid UTF-8) of at most max bytes that
 * ends on a character boundary. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
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
        } else if (is_control(cp) || cp == '/') {
            out[o++] = '_';
            i += n;
        } else {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    o = utf8_cut(out, o, max_bytes);
    out[o] = '\0';
    if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
        free(out);
        return xstrdup("_");
    }
    return out;
}

/* Optional metadata strings: NULL or valid UTF-8 without controls. */
static bool
string_ok(const char *s)
{
    if (s == NULL)
        return true;
    size_t len = strlen(s);
    return len <= PF_MAX_STRING && text_ok(s, len, false);
}

/* ------------------------------------------------------------------------ */
/* Metadata                                                                 */

static pf_meta_t *
meta_new(const uint8_t hash[ED2K_HASH_LEN], uint64_t size)
{
    pf_meta_t *m = xcalloc(1, sizeof *m);
    memcpy(m->hash, hash, ED2K_HASH_LEN);
    m->size = size;
    m->filled = rangeset_new();
    m->n_parts = (size_t)ed2k_part_count(size);
    m->verified = xcalloc(m->n_parts, 1);
    if (is_phantom(size, m->n_parts - 1))
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
        if (m->verified[i] && !is_phantom(m->size, i))
            json_object_array_add(verified, json_object_new_int64((int64_t)i));
    json_object_object_add(o, "verified", verified);
    add_string(o, "category", m->category);
    json_object_object_add(o, "priority", json_object_new_int(m->priority));
    json_object_object_add(o, "state", json_object_new_string(pf_state_name(m->state)));
    json_object_object_add(o, "added_at", json_object_new_int64(m->added_at));
    json_object_object_add(o, "completed_at", json_object_new_int64(m->completed_at));
    add_string(o, "added_by", m->added_by);
    add_string(o, "added_via", m->added_via);
    if (m->download_id[0] != '\0')
        json_object_object_add(o, "download_id", json_object_new_string(m->download_id));
    json_object_object_add(o, "downloaded_bytes", json_object_new_int64((int64_t)m->downloaded));
    json_object_object_add(o, "uploaded_bytes", json_object_new_int64((int64_t)m->uploaded));
    json_object_object_add(o, "tags", dla_tags_to_json(&m->tags));
    json_object_object_add(o, "ratio_limit", json_object_new_double(m->ratio_limit));
    json_object_object_add(o, "seeding_time_limit", json_object_new_int(m->seeding_time_limit));
    json_object_object_add(o, "force_start", json_object_new_boolean(m->force_start));
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
    if (strlen(s) != len || !text_ok(s, len, false))
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
        if (is_phantom(m->size, part))
            continue;
        if (m->size >= ED2K_PARTSIZE && m->part_hashes == NULL)
            return perr(err, MT_ERR_INVALID, "part %zu is verified but the part hashes are unknown",
                        part);
        if (!rangeset_contains(m->filled, part_start(part), part_end(m->size, part)))
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
    pf_meta_t *m = meta_new(hash, (uint64_t)x);
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

/* ------------------------------------------------------------------------ */
/* Creating and loading                                                     */

static char *
met_path_for(const char *temp_dir, const uint8_t hash[ED2K_HASH_LEN], const char *suffix)
{
    char hex[ED2K_HASH_HEX_LEN + 1];
    ed2k_hash_to_hex(hash, hex);
    return xasprintf("%s/%s%s", temp_dir, hex, suffix);
}

static void
recount_verified(partfile_t *pf)
{
    pf->n_verified = 0;
    pf->verified_bytes = 0;
    for (size_t i = 0; i < pf->m->n_parts; i++) {
        if (pf->m->verified[i]) {
            pf->n_verified++;
            pf->verified_bytes += part_end(pf->m->size, i) - part_start(i);
        }
    }
}

/* Takes ownership of m. */
static partfile_t *
pf_new(const char *temp_dir, pf_meta_t *m)
{
    partfile_t *pf = xcalloc(1, sizeof *pf);
    pf->m = m;
    pf->temp_dir = xstrdup(temp_dir);
    pf->data_path = met_path_for(temp_dir, m->hash, ".part");
    pf->met_path = met_path_for(temp_dir, m->hash, ".part.met");
    pf->tmp_path = met_path_for(temp_dir, m->hash, ".part.met.tmp");
    pf->part_gen = xcalloc(m->n_parts, sizeof *pf->part_gen);
    pf->shared = shared_new();
    recount_verified(pf);
    return pf;
}

void
pf_free(partfile_t *pf)
{
    if (pf == NULL)
        return;
    fdc_close(fds(), pf);
    pf_meta_free(pf->m);
    free(pf->temp_dir);
    free(pf->data_path);
    free(pf->met_path);
    free(pf->tmp_path);
    free(pf->part_gen);
    shared_unref(pf->shared);
    free(pf);
}

partfile_t *
pf_create(const char *temp_dir, const uint8_t hash[ED2K_HASH_LEN], uint64_t size,
          const char *name, mt_error_t **err)
{
    if (size == 0 || size > ED2K_MAX_FILE_SIZE) {
        mt_error_set(err, MT_ERR_INVALID, "size %llu is not in 1 .. %llu", (unsigned long long)size,
                     (unsigned long long)ED2K_MAX_FILE_SIZE);
        return NULL;
    }
    if (!pf_name_is_valid(name)) {
        mt_error_set(err, MT_ERR_INVALID,
                     "invalid name: it must be 1 .. %d bytes of UTF-8 without '/' or control "
                     "characters, and not \".\" or \"..\"",
                     PF_MAX_NAME);
        return NULL;
    }
    char *data_path = met_path_for(temp_dir, hash, ".part");
    char *met_path = met_path_for(temp_dir, hash, ".part.met");
    partfile_t *pf = NULL;
    struct stat st;
    if (lstat(met_path, &st) == 0) {
        mt_error_set(err, MT_ERR_EXISTS, "%s already exists", met_path);
        goto out;
    }
    /* The descriptor is only needed to size the file: later writes borrow
     * one from the cache. */
    int fd = fdc_open(fds(), data_path, O_RDWR | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
        mt_error_set(err, errno == EEXIST ? MT_ERR_EXISTS : io_code(errno),
                     "cannot create %s: %s", data_path, strerror(errno));
        goto out;
    }
    int rc = ftruncate(fd, (off_t)size);
    int e = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc != 0) {
        mt_error_set(err, io_code(e), "cannot size %s: %s", data_path, strerror(e));
        unlink(data_path);
        goto out;
    }
    pf_meta_t *m = meta_new(hash, size);
    m->name = xstrdup(name);
    m->added_at = (int64_t)time(NULL);
    pf = pf_new(temp_dir, m);
    pf->dirty = true;
    pf->holes_clean = true;
    if (pf_save_now(pf, err) != 0) {
        /* Nothing of it stays: a save can fail after its rename (syncing
         * the directory), so the metadata goes too. */
        pf_delete_files(pf, NULL);
        pf_free(pf);
        pf = NULL;
    }
out:
    free(data_path);
    free(met_path);
    return pf;
}

static char *
read_small_file(const char *path, size_t *len, mt_error_t **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        mt_error_set(err, errno == ENOENT ? MT_ERR_NOT_FOUND : MT_ERR_IO, "cannot open %s: %s",
                     path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        mt_error_set(err, MT_ERR_IO, "%s is not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > PF_MAX_MET_SIZE) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "%s is larger than %u bytes", path, PF_MAX_MET_SIZE);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > PF_MAX_MET_SIZE) {
                mt_error_set(err, MT_ERR_TOO_LARGE, "%s is larger than %u bytes", path,
                             PF_MAX_MET_SIZE);
                goto fail;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            mt_error_set(err, MT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
fail:
    close(fd);
    free(buf);
    return NULL;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

partfile_t *
pf_load(const char *met_path, mt_error_t **err)
{
    const char *base = strrchr(met_path, '/');
    base = base ? base + 1 : met_path;
    uint8_t name_hash[ED2K_HASH_LEN];
    if (strlen(base) != ED2K_HASH_HEX_LEN + strlen(".part.met") || !ends_with(base, ".part.met") ||
        ed2k_hash_from_hexn(base, ED2K_HASH_HEX_LEN, name_hash) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "%s: not named <32 hex digits>.part.met", met_path);
        return NULL;
    }
    size_t len;
    char *text = read_small_file(met_path, &len, err);
    if (text == NULL)
        return NULL;
    pf_meta_t *m = NULL;
    int rc = pf_parse_met(text, len, &m, err);
    free(text);
    if (rc != 0) {
        mt_error_prefix(err, "%s", met_path);
        return NULL;
    }
    if (memcmp(m->hash, name_hash, ED2K_HASH_LEN) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "%s: the file name does not match the hash inside",
                     met_path);
        pf_meta_free(m);
        return NULL;
    }
    char *temp_dir = dir_of(met_path);
    char *data_path = met_path_for(temp_dir, m->hash, ".part");
    partfile_t *pf = NULL;
    int fd = fdc_open(fds(), data_path, O_RDWR, 0);
    struct stat st;
    if (fd < 0) {
        mt_error_set(err, errno == ENOENT ? MT_ERR_NOT_FOUND : MT_ERR_IO,
                     "cannot open the data file %s: %s", data_path, strerror(errno));
        goto fail;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        mt_error_set(err, MT_ERR_IO, "%s is not a regular file", data_path);
        goto fail;
    }
    if ((uint64_t)st.st_size > m->size) {
        mt_error_set(err, MT_ERR_INVALID, "%s is larger (%lld bytes) than the download (%llu)",
                     data_path, (long long)st.st_size, (unsigned long long)m->size);
        goto fail;
    }
    if ((uint64_t)st.st_size < m->size && ftruncate(fd, (off_t)m->size) != 0) {
        mt_error_set(err, io_code(errno), "cannot extend %s: %s", data_path, strerror(errno));
        goto fail;
    }
    pf = pf_new(temp_dir, m);
    m = NULL;
fail:
    if (fd >= 0)
        close(fd);
    pf_meta_free(m);
    free(temp_dir);
    free(data_path);
    return pf;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
pf_load_dir(const char *temp_dir, void (*loaded)(partfile_t *pf, void *ctx),
            void (*failed)(const char *path, const mt_error_t *err, void *ctx), void *ctx)
{
    DIR *d = opendir(temp_dir);
    if (d == NULL) {
        mt_error_t *e = NULL;
        mt_error_set(&e, MT_ERR_IO, "cannot read %s: %s", temp_dir, strerror(errno));
        if (failed != NULL)
            failed(temp_dir, e, ctx);
        mt_error_free(e);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = xreallocarray(names, cap, sizeof *names);
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, cmp_str);
    int count = 0;
    /* A leftover temporary file is a save that never reached its rename:
     * the .part.met beside it is the last complete save. */
    for (size_t i = 0; i < n; i++) {
        if (ends_with(names[i], ".part.met.tmp")) {
            char *p = xasprintf("%s/%s", temp_dir, names[i]);
            (void)unlink(p);
            free(p);
        }
    }
    for (size_t i = 0; i < n; i++) {
        char *p = xasprintf("%s/%s", temp_dir, names[i]);
        if (ends_with(names[i], ".part.met")) {
            mt_error_t *e = NULL;
            partfile_t *pf = pf_load(p, &e);
            if (pf != NULL) {
                count++;
                if (loaded != NULL)
                    loaded(pf, ctx);
                else
                    pf_free(pf);
            } else if (failed != NULL) {
                failed(p, e, ctx);
            }
            mt_error_free(e);
        } else if (ends_with(names[i], ".part")) {
            char *met = xasprintf("%s.met", names[i]);
            if (bsearch(&met, names, n, sizeof *names, cmp_str) == NULL && failed != NULL) {
                mt_error_t *e = NULL;
                mt_error_set(&e, MT_ERR_NOT_FOUND, "%s has no metadata (%s); left alone", p, met);
                failed(p, e, ctx);
                mt_error_free(e);
            }
            free(met);
        }
        free(p);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return count;
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                */

const uint8_t *
pf_hash(const partfile_t *pf)
{
    return pf->m->hash;
}

uint64_t
pf_size(const partfile_t *pf)
{
    return pf->m->size;
}

const char *
pf_name(const partfile_t *pf)
{
    return pf->m->name;
}

int
pf_set_name(partfile_t *pf, const char *name, mt_error_t **err)
{
    if (!pf_name_is_valid(name)) {
        mt_error_set(err, MT_ERR_INVALID,
                     "invalid name: it must be 1 .. %d bytes of UTF-8 without '/' or control "
                     "characters, and not \".\" or \"..\"",
                     PF_MAX_NAME);
        return -1;
    }
    char *copy = xstrdup(name);
    free(pf->m->name);
    pf->m->name = copy;
    pf->dirty = true;
    return 0;
}

const char *
pf_data_path(const partfile_t *pf)
{
    return pf->data_path;
}

const char *
pf_met_path(const partfile_t *pf)
{
    return pf->met_path;
}

size_t
pf_part_count(const partfile_t *pf)
{
    return pf->m->n_parts;
}

size_t
pf_data_part_count(const partfile_t *pf)
{
    return (size_t)ed2k_data_part_count(pf->m->size);
}

int
pf_part_range(const partfile_t *pf, size_t i, uint64_t *start, uint64_t *end)
{
    if (i >= pf->m->n_parts)
        return -1;
    *start = part_start(i);
    *end = part_end(pf->m->size, i);
    if (*start > *end)
        *start = *end;
    return 0;
}

const rangeset_t *
pf_filled(const partfile_t *pf)
{
    return pf->m->filled;
}

uint64_t
pf_done_bytes(const partfile_t *pf)
{
    return rangeset_total(pf->m->filled);
}

uint64_t
pf_verified_bytes(const partfile_t *pf)
{
    return pf->verified_bytes;
}

bool
pf_is_part_verified(const partfile_t *pf, size_t i)
{
    return i < pf->m->n_parts && pf->m->verified[i];
}

bool
pf_is_part_filled(const partfile_t *pf, size_t i)
{
    if (i >= pf->m->n_parts)
        return false;
    if (is_phantom(pf->m->size, i))
        return true;
    return rangeset_contains(pf->m->filled, part_start(i), part_end(pf->m->size, i));
}

bool
pf_is_complete(const partfile_t *pf)
{
    return pf->n_verified == pf->m->n_parts;
}

bool
pf_has_hashset(const partfile_t *pf)
{
    return pf->m->size < ED2K_PARTSIZE || pf->m->part_hashes != NULL;
}

const uint8_t *
pf_part_hash(const partfile_t *pf, size_t i)
{
    if (i >= pf->m->n_parts)
        return NULL;
    if (pf->m->size < ED2K_PARTSIZE)
        return pf->m->hash;
    return pf->m->part_hashes != NULL ? pf->m->part_hashes[i] : NULL;
}

int
pf_set_hashset(partfile_t *pf, const uint8_t (*hashes)[ED2K_HASH_LEN], size_t n, mt_error_t **err)
{
    uint64_t want = ed2k_hash_count(pf->m->size);
    if (n != want) {
        mt_error_set(err, MT_ERR_INVALID, "hash set of %zu hashes; the file needs %llu", n,
                     (unsigned long long)want);
        return -1;
    }
    if (n == 0)
        return 0;
    uint8_t md4[ED2K_HASH_LEN];
    ed2k_parthashes_md4(hashes, n, md4);
    if (memcmp(md4, pf->m->hash, ED2K_HASH_LEN) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "the hash set does not match the file hash");
        return -1;
    }
    if (pf->m->part_hashes != NULL)
        return 0; /* the same set: the MD4 above matched */
    pf->m->part_hashes = xmemdup(hashes, n * ED2K_HASH_LEN);
    pf->dirty = true;
    return 0;
}

const uint8_t *
pf_aich_root(const partfile_t *pf)
{
    return pf->m->has_aich ? pf->m->aich : NULL;
}

void
pf_set_aich_root(partfile_t *pf, const uint8_t *root)
{
    pf->m->has_aich = root != NULL;
    if (root != NULL)
        memcpy(pf->m->aich, root, ED2K_AICH_LEN);
    pf->dirty = true;
}

static int
set_string(partfile_t *pf, char **field, const char *what, const char *s, mt_error_t **err)
{
    if (s != NULL && *s == '\0')
        s = NULL;
    if (!string_ok(s)) {
        mt_error_set(err, MT_ERR_INVALID,
                     "invalid %s: at most %d bytes of UTF-8 without control characters", what,
                     PF_MAX_STRING);
        return -1;
    }
    char *copy = s ? xstrdup(s) : NULL;
    free(*field);
    *field = copy;
    pf->dirty = true;
    return 0;
}

const char *
pf_category(const partfile_t *pf)
{
    return pf->m->category;
}

int
pf_set_category(partfile_t *pf, const char *category, mt_error_t **err)
{
    return set_string(pf, &pf->m->category, "category", category, err);
}

int
pf_priority(const partfile_t *pf)
{
    return pf->m->priority;
}

void
pf_set_priority(partfile_t *pf, int priority)
{
    pf->m->priority = priority;
    pf->dirty = true;
}

pf_state_t
pf_state(const partfile_t *pf)
{
    return pf->m->state;
}

int
pf_set_state(partfile_t *pf, pf_state_t state)
{
    if ((unsigned)state >= sizeof state_names / sizeof state_names[0])
        return -1;
    pf->m->state = state;
    pf->dirty = true;
    return 0;
}

time_t
pf_added_at(const partfile_t *pf)
{
    return (time_t)pf->m->added_at;
}

void
pf_set_added_at(partfile_t *pf, time_t t)
{
    pf->m->added_at = (int64_t)t;
    pf->dirty = true;
}

time_t
pf_completed_at(const partfile_t *pf)
{
    return (time_t)pf->m->completed_at;
}

void
pf_set_completed_at(partfile_t *pf, time_t t)
{
    pf->m->completed_at = (int64_t)t;
    pf->dirty = true;
}

const char *
pf_download_id(const partfile_t *pf)
{
    return pf->m->download_id[0] != '\0' ? pf->m->download_id : NULL;
}

int
pf_set_download_id(partfile_t *pf, const char *id)
{
    if (!dla_id_is_valid(id))
        return -1;
    memcpy(pf->m->download_id, id, DLA_ID_LEN + 1);
    pf->dirty = true;
    return 0;
}

const char *
pf_added_by(const partfile_t *pf)
{
    return pf->m->added_by;
}

int
pf_set_added_by(partfile_t *pf, const char *who, mt_error_t **err)
{
    return set_string(pf, &pf->m->added_by, "added_by", who, err);
}

const char *
pf_added_via(const partfile_t *pf)
{
    return pf->m->added_via;
}

int
pf_set_added_via(partfile_t *pf, const char *via, mt_error_t **err)
{
    return set_string(pf, &pf->m->added_via, "added_via", via, err);
}

/* Counters are kept within int64 so that they read back exactly. */
static uint64_t
counter_clamp(uint64_t n)
{
    return n > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : n;
}

static uint64_t
counter_add(uint64_t a, uint64_t b)
{
    return b > (uint64_t)INT64_MAX - a ? (uint64_t)INT64_MAX : a + b;
}

uint64_t
pf_downloaded_bytes(const partfile_t *pf)
{
    return pf->m->downloaded;
}

void
pf_set_downloaded_bytes(partfile_t *pf, uint64_t n)
{
    pf->m->downloaded = counter_clamp(n);
    pf->dirty = true;
}

void
pf_add_downloaded_bytes(partfile_t *pf, uint64_t n)
{
    pf->m->downloaded = counter_add(pf->m->downloaded, n);
    pf->dirty = true;
}

uint64_t
pf_uploaded_bytes(const partfile_t *pf)
{
    return pf->m->uploaded;
}

void
pf_set_uploaded_bytes(partfile_t *pf, uint64_t n)
{
    pf->m->uploaded = counter_clamp(n);
    pf->dirty = true;
}

void
pf_add_uploaded_bytes(partfile_t *pf, uint64_t n)
{
    pf->m->uploaded = counter_add(pf->m->uploaded, n);
    pf->dirty = true;
}

const dla_tags_t *
pf_tags(const partfile_t *pf)
{
    return &pf->m->tags;
}

void
pf_set_tags(partfile_t *pf, const dla_tags_t *tags)
{
    dla_tags_copy(&pf->m->tags, tags);
    pf->dirty = true;
}

double
pf_ratio_limit(const partfile_t *pf)
{
    return pf->m->ratio_limit;
}

int
pf_seeding_time_limit(const partfile_t *pf)
{
    return pf->m->seeding_time_limit;
}

int
pf_set_share_limits(partfile_t *pf, double ratio_limit, int seeding_time_limit, mt_error_t **err)
{
    if (!dla_ratio_limit_is_valid(ratio_limit) ||
        !dla_seeding_time_limit_is_valid(seeding_time_limit)) {
        mt_error_set(err, MT_ERR_INVALID, "share limits out of range");
        return -1;
    }
    pf->m->ratio_limit = ratio_limit;
    pf->m->seeding_time_limit = seeding_time_limit;
    pf->dirty = true;
    return 0;
}

bool
pf_force_start(const partfile_t *pf)
{
    return pf->m->force_start;
}

void
pf_set_force_start(partfile_t *pf, bool on)
{
    pf->m->force_start = on;
    pf->dirty = true;
}

time_t
pf_last_activity(const partfile_t *pf)
{
    return (time_t)pf->m->last_activity;
}

void
pf_set_last_activity(partfile_t *pf, time_t t)
{
    if (pf->m->last_activity == (int64_t)t || t < 0)
        return;
    pf->m->last_activity = (int64_t)t;
    pf->dirty = true;
}

static ssize_t
find_source(const pf_meta_t *m, uint32_t ip, uint16_t port)
{
    for (size_t i = 0; i < m->n_sources; i++)
        if (m->sources[i].ip == ip && m->sources[i].port == port)
            return (ssize_t)i;
    return -1;
}

int
pf_add_source(partfile_t *pf, uint32_t ip, uint16_t port, const uint8_t *userhash)
{
    if (ip == 0 || port == 0)
        return -1;
    pf_meta_t *m = pf->m;
    pf_source_t s = { .ip = ip, .port = port };
    ssize_t at = find_source(m, ip, port);
    if (at >= 0) {
        s = m->sources[at];
        memmove(m->sources + at, m->sources + at + 1,
                (m->n_sources - (size_t)at - 1) * sizeof *m->sources);
        m->n_sources--;
    } else if (m->n_sources == PF_MAX_SOURCES) {
        memmove(m->sources, m->sources + 1, (m->n_sources - 1) * sizeof *m->sources);
        m->n_sources--;
    }
    if (userhash != NULL) {
        s.has_userhash = true;
        memcpy(s.userhash, userhash, ED2K_HASH_LEN);
    }
    m->sources = xreallocarray(m->sources, m->n_sources + 1, sizeof *m->sources);
    m->sources[m->n_sources++] = s;
    pf->dirty = true;
    return 0;
}

int
pf_remove_source(partfile_t *pf, uint32_t ip, uint16_t port)
{
    pf_meta_t *m = pf->m;
    ssize_t at = find_source(m, ip, port);
    if (at < 0)
        return -1;
    memmove(m->sources + at, m->sources + at + 1,
            (m->n_sources - (size_t)at - 1) * sizeof *m->sources);
    m->n_sources--;
    pf->dirty = true;
    return 0;
}

size_t
pf_source_count(const partfile_t *pf)
{
    return pf->m->n_sources;
}

bool
pf_get_source(const partfile_t *pf, size_t i, pf_source_t *out)
{
    if (i >= pf->m->n_sources)
        return false;
    *out = pf->m->sources[i];
    return true;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */

static void
bump_parts(partfile_t *pf, uint64_t start, uint64_t end)
{
    for (size_t p = (size_t)(start / ED2K_PARTSIZE); p < pf->m->n_parts && part_start(p) < end; p++)
        pf->part_gen[p]++;
}

int
pf_write(partfile_t *pf, uint64_t offset, const void *data, size_t len, mt_error_t **err)
{
    uint64_t size = pf->m->size;
    if (offset > size || len > size - offset) {
        mt_error_set(err, MT_ERR_INVALID, "write of %zu bytes at %llu is beyond the size %llu", len,
                     (unsigned long long)offset, (unsigned long long)size);
        return -1;
    }
    const uint8_t *bytes = data;
    uint64_t end = offset + len, x = offset, gs, ge;
    int fd = -1, rc = 0;
    /* Only the gaps of the filled set are written: what is filled stays as
     * it is (verified parts are always fully filled). */
    while (rangeset_first_gap(pf->m->filled, x, end, &gs, &ge)) {
        const uint8_t *chunk = bytes + (gs - offset);
        size_t n = (size_t)(ge - gs);
        bool zeros = pf->holes_clean && chunk[0] == 0 && memcmp(chunk, chunk + 1, n - 1) == 0;
        if (!zeros && fd < 0 && (fd = data_fd_get(pf)) < 0) {
            mt_error_set(err, io_code(errno), "cannot open %s: %s", pf->data_path,
                         strerror(errno));
            return -1;
        }
        if (!zeros && pwrite_all(fd, chunk, n, gs) != 0) {
            int e = errno;
            mt_error_set(err, io_code(e), "cannot write %s at %llu: %s", pf->data_path,
                         (unsigned long long)gs, strerror(e));
            /* A short write (a full disk) may have put part of the chunk
             * on disk: it stays unfilled, and its hole is punched again so
             * that the gap still reads as zeros (and the space is free). */
            if (pf->holes_clean && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                             (off_t)gs, (off_t)n) != 0)
                pf->holes_clean = false;
            rc = -1;
            break;
        }
        rangeset_add(pf->m->filled, gs, ge);
        bump_parts(pf, gs, ge);
        pf->dirty = true;
        x = ge;
    }
    if (fd >= 0)
        data_fd_put(pf);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Verification                                                             */

struct pf_verify_job {
    uint8_t file_hash[ED2K_HASH_LEN];
    char *data_path;
    size_t part;
    uint64_t start, end;
    uint8_t expect[ED2K_HASH_LEN];
    bool speculative;
    uint32_t gen;
    bool ran, matched;
    char *error;
};

pf_verify_job_t *
pf_verify_prepare(partfile_t *pf, size_t part, bool speculative)
{
    if (part >= pf->m->n_parts || is_phantom(pf->m->size, part) || pf->m->verified[part])
        return NULL;
    const uint8_t *expect = pf_part_hash(pf, part);
    if (expect == NULL)
        return NULL;
    uint64_t s = part_start(part), e = part_end(pf->m->size, part);
    if (!speculative && !rangeset_contains(pf->m->filled, s, e))
        return NULL;
    pf_verify_job_t *job = xcalloc(1, sizeof *job);
    memcpy(job->file_hash, pf->m->hash, ED2K_HASH_LEN);
    job->data_path = xstrdup(pf->data_path);
    job->part = part;
    job->start = s;
    job->end = e;
    memcpy(job->expect, expect, ED2K_HASH_LEN);
    job->speculative = speculative;
    job->gen = pf->part_gen[part];
    return job;
}

int
pf_verify_run(pf_verify_job_t *job)
{
    free(job->error);
    job->error = NULL;
    job->ran = false;
    /* A descriptor of its own, for the time of the read: a worker never
     * borrows from the loop thread's cache. */
    int fd = fdc_open(NULL, job->data_path, O_RDONLY, 0);
    if (fd < 0) {
        job->error = xasprintf("cannot open %s: %s", job->data_path, strerror(errno));
        return -1;
    }
    uint8_t *buf = xmalloc(IO_CHUNK);
    struct md4_ctx ctx;
    md4_init(&ctx);
    for (uint64_t off = job->start; off < job->end;) {
        size_t n = job->end - off < IO_CHUNK ? (size_t)(job->end - off) : IO_CHUNK;
        if (pread_all(fd, buf, n, off) != 0) {
            job->error = xasprintf("cannot read part %zu at %llu: %s", job->part,
                                   (unsigned long long)off, strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        md4_update(&ctx, n, buf);
        off += n;
    }
    free(buf);
    close(fd);
    uint8_t got[ED2K_HASH_LEN];
    md4_digest(&ctx, ED2K_HASH_LEN, got);
    job->matched = memcmp(got, job->expect, ED2K_HASH_LEN) == 0;
    job->ran = true;
    return 0;
}

pf_verify_result_t
pf_verify_apply(partfile_t *pf, pf_verify_job_t *job)
{
    if (!job->ran || memcmp(job->file_hash, pf->m->hash, ED2K_HASH_LEN) != 0 ||
        job->part >= pf->m->n_parts)
        return PF_VERIFY_ERROR;
    size_t p = job->part;
    if (pf->m->verified[p])
        return job->matched ? PF_VERIFY_OK : PF_VERIFY_UNCHANGED;
    /* Bytes changed since the job read them: its answer is about other
     * data. (A fully filled part never changes, so this only concerns
     * speculative jobs and parts discarded and written again meanwhile.) */
    if (pf->part_gen[p] != job->gen)
        return PF_VERIFY_UNCHANGED;
    if (job->matched) {
        rangeset_add(pf->m->filled, job->start, job->end);
        pf->m->verified[p] = 1;
        recount_verified(pf);
        pf->dirty = true;
        return PF_VERIFY_OK;
    }
    if (job->speculative)
        return PF_VERIFY_UNCHANGED;
    rangeset_remove(pf->m->filled, job->start, job->end);
    /* Punch the corrupt bytes out, so the gap reads as zeros again. */
    if (pf->holes_clean) {
        int fd = data_fd_get(pf);
        if (fd < 0 || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                (off_t)job->start, (off_t)(job->end - job->start)) != 0)
            pf->holes_clean = false;
        if (fd >= 0)
            data_fd_put(pf);
    }
    pf->part_gen[p]++;
    pf->dirty = true;
    return PF_VERIFY_CORRUPT;
}

size_t
pf_verify_part(const pf_verify_job_t *job)
{
    return job->part;
}

bool
pf_verify_is_speculative(const pf_verify_job_t *job)
{
    return job->speculative;
}

bool
pf_verify_matched(const pf_verify_job_t *job)
{
    return job->ran && job->matched;
}

const char *
pf_verify_error(const pf_verify_job_t *job)
{
    return job->error;
}

void
pf_verify_job_free(pf_verify_job_t *job)
{
    if (job == NULL)
        return;
    free(job->data_path);
    free(job->error);
    free(job);
}

size_t
pf_unverified_parts(const partfile_t *pf, size_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < pf->m->n_parts && n < max; i++)
        if (!pf->m->verified[i] && !is_phantom(pf->m->size, i))
            out[n++] = i;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Saving                                                                   */

struct pf_save_job {
    char *json;
    size_t len;
    char *data_path, *met_path, *tmp_path, *dir;
    uint64_t seq;
    pf_shared_t *shared;
};

bool
pf_is_dirty(const partfile_t *pf)
{
    return pf->dirty;
}

pf_save_job_t *
pf_save_prepare(partfile_t *pf)
{
    if (!pf->dirty)
        return NULL;
    pf_save_job_t *job = xcalloc(1, sizeof *job);
    job->json = pf_meta_to_json(pf->m);
    job->len = strlen(job->json);
    job->data_path = xstrdup(pf->data_path);
    job->met_path = xstrdup(pf->met_path);
    job->tmp_path = xstrdup(pf->tmp_path);
    job->dir = xstrdup(pf->temp_dir);
    job->seq = ++pf->save_seq;
    job->shared = shared_ref(pf->shared);
    pf->dirty = false;
    return job;
}

int
pf_save_run(pf_save_job_t *job, mt_error_t **err)
{
    pf_shared_t *sh = job->shared;
    pthread_mutex_lock(&sh->lock);
    int rc = -1;
    if (sh->gone || job->seq <= sh->written_seq) {
        rc = 0; /* deleted or completed, or a newer snapshot is on disk */
        goto out;
    }
    /* Everything the snapshot calls filled was written before it was taken;
     * flush it before the metadata that says so can exist (through a
     * descriptor of the job's own: fdatasync flushes the file, whichever
     * descriptor wrote it). */
    int fd = fdc_open(NULL, job->data_path, O_RDONLY, 0);
    if (fd < 0 || fdatasync(fd) != 0) {
        int e = errno;
        mt_error_set(err, io_code(e), "cannot flush the data of %s: %s", job->met_path,
                     strerror(e));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    close(fd);
    /* On any failure below (a full disk among others) the temporary file
     * goes and H.part.met stays the previous complete save. */
    fd = open(job->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        mt_error_set(err, io_code(errno), "cannot create %s: %s", job->tmp_path,
                     strerror(errno));
        goto out;
    }
    if (write_all(fd, job->json, job->len) != 0 || fsync(fd) != 0) {
        mt_error_set(err, io_code(errno), "cannot write %s: %s", job->tmp_path, strerror(errno));
        close(fd);
        unlink(job->tmp_path);
        goto out;
    }
    if (close(fd) != 0) {
        mt_error_set(err, io_code(errno), "cannot write %s: %s", job->tmp_path, strerror(errno));
        unlink(job->tmp_path);
        goto out;
    }
    if (rename(job->tmp_path, job->met_path) != 0) {
        mt_error_set(err, io_code(errno), "cannot rename %s: %s", job->tmp_path,
                     strerror(errno));
        unlink(job->tmp_path);
        goto out;
    }
    sh->written_seq = job->seq;
    if (fsync_dir(job->dir) != 0) {
        mt_error_set(err, io_code(errno), "cannot sync the directory %s: %s", job->dir,
                     strerror(errno));
        goto out;
    }
    rc = 0;
out:
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

void
pf_save_failed(partfile_t *pf)
{
    pf->dirty = true;
}

void
pf_save_job_free(pf_save_job_t *job)
{
    if (job == NULL)
        return;
    free(job->json);
    free(job->data_path);
    free(job->met_path);
    free(job->tmp_path);
    free(job->dir);
    shared_unref(job->shared);
    free(job);
}

int
pf_save_now(partfile_t *pf, mt_error_t **err)
{
    pf_save_job_t *job = pf_save_prepare(pf);
    if (job == NULL)
        return 0;
    int rc = pf_save_run(job, err);
    if (rc != 0)
        pf_save_failed(pf);
    pf_save_job_free(job);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Completion                                                               */

struct pf_complete_job {
    char *data_path, *met_path, *tmp_path, *temp_dir, *incoming_dir, *name;
    uint8_t hash[ED2K_HASH_LEN];
    uint64_t size;
    bool has_aich;
    uint8_t aich[ED2K_AICH_LEN];
    bool force_copy;
    char *final_path;
    pf_shared_t *shared;
    ed2k_hash_result_t result; /* the whole-file hash computed by the run */
};

pf_complete_job_t *
pf_complete_prepare(partfile_t *pf, const char *incoming_dir)
{
    if (!pf_is_complete(pf))
        return NULL;
    fdc_close(fds(), pf); /* nothing is written any more; the file moves */
    pf_complete_job_t *job = xcalloc(1, sizeof *job);
    job->data_path = xstrdup(pf->data_path);
    job->met_path = xstrdup(pf->met_path);
    job->tmp_path = xstrdup(pf->tmp_path);
    job->temp_dir = xstrdup(pf->temp_dir);
    job->incoming_dir = xstrdup(incoming_dir);
    job->name = pf_name_sanitize(pf->m->name, PF_MAX_NAME);
    memcpy(job->hash, pf->m->hash, ED2K_HASH_LEN);
    job->size = pf->m->size;
    job->has_aich = pf->m->has_aich;
    memcpy(job->aich, pf->m->aich, ED2K_AICH_LEN);
    job->shared = shared_ref(pf->shared);
    return job;
}

void
pf_complete_force_copy(pf_complete_job_t *job)
{
    job->force_copy = true;
}

const ed2k_hash_result_t *
pf_complete_hash(const pf_complete_job_t *job)
{
    return job->final_path != NULL ? &job->result : NULL;
}

const char *
pf_complete_path(const pf_complete_job_t *job)
{
    return job->final_path;
}

void
pf_complete_job_free(pf_complete_job_t *job)
{
    if (job == NULL)
        return;
    free(job->data_path);
    free(job->met_path);
    free(job->tmp_path);
    free(job->temp_dir);
    free(job->incoming_dir);
    free(job->name);
    free(job->final_path);
    ed2k_hash_result_clear(&job->result);
    shared_unref(job->shared);
    free(job);
}

/* The n-th candidate file name: "name", then "stem (n).ext", cut on a
 * character boundary to fit one path component. */
static char *
candidate_name(const char *name, unsigned n)
{
    size_t len = strlen(name);
    const char *dot = strrchr(name, '.');
    size_t stem_len = len, ext_len = 0;
    if (dot != NULL && dot != name && len - (size_t)(dot - name) <= 32) {
        stem_len = (size_t)(dot - name);
        ext_len = len - stem_len;
    }
    char suffix[16] = "";
    if (n > 0)
        snprintf(suffix, sizeof suffix, " (%u)", n);
    size_t room = FINAL_NAME_MAX - ext_len - strlen(suffix);
    stem_len = utf8_cut(name, stem_len, room);
    if (stem_len == 0)
        return xasprintf("_%s%s", suffix, name + len - ext_len);
    return xasprintf("%.*s%s%s", (int)stem_len, name, suffix, name + len - ext_len);
}

/* Moves src to dst unless dst exists. 0 done; 1 dst exists; -1 with errno
 * (EXDEV: another file system). */
static int
move_noreplace(const char *src, const char *dst)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno == EEXIST)
        return 1;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
#endif
    /* No renameat2 here: link fails on an existing name. */
    if (link(src, dst) == 0) {
        if (unlink(src) != 0)
            return -1;
        return 0;
    }
    if (errno == EEXIST)
        return 1;
    if (errno == EXDEV)
        return -1;
    /* A file system without hard links: check, then rename (racy, last
     * resort). */
    struct stat st;
    if (lstat(dst, &st) == 0)
        return 1;
    return rename(src, dst) == 0 ? 0 : -1;
}

/* Moves src into dir under the first free candidate name; sets *final.
 * 0, or -1 with errno. */
static int
move_to_free_name(const char *src, const char *dir, const char *name, char **final)
{
    for (unsigned n = 0; n <= MAX_COLLISIONS; n++) {
        char *cand = candidate_name(name, n);
        char *path = xasprintf("%s/%s", dir, cand);
        free(cand);
        int r = move_noreplace(src, path);
        if (r == 0) {
            *final = path;
            return 0;
        }
        free(path);
        if (r < 0)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

static int
copy_fd(int in, int out, uint64_t size)
{
    uint8_t *buf = xmalloc(IO_CHUNK);
    int rc = 0;
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < IO_CHUNK ? (size_t)(size - off) : IO_CHUNK;
        if (pread_all(in, buf, n, off) != 0 || write_all(out, buf, n) != 0) {
            rc = -1;
            break;
        }
        off += n;
    }
    free(buf);
    return rc;
}

/* Across file systems: copy to a temporary name in the target directory,
 * fsync, give it its final name, and only then remove the source. */
static int
copy_into(pf_complete_job_t *job, mt_error_t **err)
{
    char hex[ED2K_HASH_HEX_LEN + 1];
    ed2k_hash_to_hex(job->hash, hex);
    char *tmp = xasprintf("%s/.%s.muleteer-copy", job->incoming_dir, hex);
    int rc = -1, in = -1, out = -1;
    in = open(job->data_path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        mt_error_set(err, io_code(errno), "cannot open %s: %s", job->data_path, strerror(errno));
        goto done;
    }
    out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (out < 0 && errno == EEXIST) {
        /* left by an earlier attempt that crashed: the name is ours */
        unlink(tmp);
        out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    }
    if (out < 0) {
        mt_error_set(err, io_code(errno), "cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    if (copy_fd(in, out, job->size) != 0 || fsync(out) != 0) {
        mt_error_set(err, io_code(errno), "cannot copy %s to %s: %s", job->data_path, tmp,
                     strerror(errno));
        goto cleanup;
    }
    if (close(out) != 0) {
        out = -1;
        mt_error_set(err, io_code(errno), "cannot write %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    out = -1;
    if (move_to_free_name(tmp, job->incoming_dir, job->name, &job->final_path) != 0) {
        mt_error_set(err, io_code(errno), "cannot name the file in %s: %s", job->incoming_dir,
                     strerror(errno));
        goto cleanup;
    }
    /* From here on the file is complete under its final name: what fails
     * now is worth a warning, not a failed completion. */
    rc = 0;
    if (fsync_dir(job->incoming_dir) != 0)
        log_warn("cannot sync %s: %s", job->incoming_dir, strerror(errno));
    if (unlink(job->data_path) != 0)
        log_warn("copied %s to %s, but cannot remove it: %s", job->data_path, job->final_path,
                 strerror(errno));
    goto done;
cleanup:
    unlink(tmp);
done:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    free(tmp);
    return rc;
}

int
pf_complete_run(pf_complete_job_t *job, mt_error_t **err)
{
    free(job->final_path);
    job->final_path = NULL;
    ed2k_hash_result_clear(&job->result);
    ed2k_hash_result_t *r = &job->result;
    if (ed2k_hash_file(job->data_path, r, err) != 0)
        return -1;
    bool ok = r->size == job->size && memcmp(r->file_hash, job->hash, ED2K_HASH_LEN) == 0;
    bool aich_ok = !job->has_aich || memcmp(r->aich_root, job->aich, ED2K_AICH_LEN) == 0;
    if (!ok || !aich_ok) {
        ed2k_hash_result_clear(r);
        mt_error_set(err, MT_ERR_INVALID, "%s does not match its %s; not moved", job->data_path,
                     ok ? "AICH root" : "file hash");
        return -1;
    }
    int fd = open(job->data_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fdatasync(fd) != 0) {
        mt_error_set(err, io_code(errno), "cannot flush %s: %s", job->data_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    if (job->force_copy) {
        if (copy_into(job, err) != 0)
            return -1;
    } else if (move_to_free_name(job->data_path, job->incoming_dir, job->name,
                                 &job->final_path) != 0) {
        if (errno != EXDEV) {
            mt_error_set(err, io_code(errno), "cannot move %s into %s: %s", job->data_path,
                         job->incoming_dir, strerror(errno));
            return -1;
        }
        if (copy_into(job, err) != 0)
            return -1;
    } else if (fsync_dir(job->incoming_dir) != 0) {
        log_warn("cannot sync %s: %s", job->incoming_dir, strerror(errno));
    }
    /* The data is safe under its final name: the metadata goes, and no save
     * still in flight may bring it back. */
    pf_shared_t *sh = job->shared;
    pthread_mutex_lock(&sh->lock);
    sh->gone = true;
    if (unlink(job->met_path) != 0 && errno != ENOENT)
        log_warn("moved %s to %s, but cannot remove %s: %s", job->data_path, job->final_path,
                 job->met_path, strerror(errno));
    (void)unlink(job->tmp_path);
    pthread_mutex_unlock(&sh->lock);
    (void)fsync_dir(job->temp_dir);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Deleting                                                                 */

int
pf_delete_files(partfile_t *pf, mt_error_t **err)
{
    fdc_close(fds(), pf);
    pf_shared_t *sh = pf->shared;
    pthread_mutex_lock(&sh->lock);
    sh->gone = true;
    const char *paths[] = { pf->data_path, pf->met_path, pf->tmp_path };
    int rc = 0;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (unlink(paths[i]) != 0 && errno != ENOENT) {
            mt_error_set(err, MT_ERR_IO, "cannot remove %s: %s", paths[i], strerror(errno));
            rc = -1;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    (void)fsync_dir(pf->temp_dir);
    pf->dirty = false;
    return rc;
}
