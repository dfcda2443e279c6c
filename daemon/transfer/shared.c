/* shared.c: scanning and hashing the shared directories (and single files
 * shared wherever they are: finished downloads) on a worker thread, the
 * known-files cache (JSON, saved atomically) and lookups by hash. */
#include "config.h"

#include "daemon/transfer/shared.h"
#include "daemon/core/bus.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_VERSION 1
#define CACHE_MAX_BYTES (256u << 20)

struct shared {
    struct event_base *base;
    worker_pool_t *pool;
    char *cache_path;
    char **dirs;
    size_t n_dirs;
    shared_pin_t *extra;   /* single files shared wherever they are, by path */
    size_t n_extra;
    shared_file_t **files; /* sorted by hash */
    size_t n_files;
    bool cache_loaded;
    size_t last_hashed;
    bool scanning;
    bool again;
    uint64_t generation;
    /* completion callbacks of the running scan and of the next one */
    struct waiter *waiting, *waiting_next;
    /* files added while a scan runs, re-added after it */
    shared_file_t **added;
    size_t n_added;
    bus_t *bus; /* shared_added / shared_removed go there (NULL: nowhere) */
    uint8_t (*withheld)[ED2K_HASH_LEN]; /* not offered: sorted */
    size_t n_withheld;
    /* hashes another client computed (shared_seed), for the next scan */
    shared_file_t **seeds;
    size_t n_seeds;
};

typedef struct waiter {
    struct waiter *next;
    void (*done)(void *);
    void *ctx;
} waiter_t;

static void
file_free(shared_file_t *f)
{
    if (f == NULL)
        return;
    free(f->path);
    free(f->part_hashes);
    free(f);
}

static shared_file_t *
file_new(const char *path, uint64_t size, int64_t mtime, const ed2k_hash_result_t *r)
{
    shared_file_t *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    const char *slash = strrchr(f->path, '/');
    f->name = slash != NULL ? slash + 1 : f->path;
    f->size = size;
    f->mtime = mtime;
    memcpy(f->hash, r->file_hash, ED2K_HASH_LEN);
    memcpy(f->aich, r->aich_root, ED2K_AICH_LEN);
    if (r->n_part_hashes > 0) {
        f->part_hashes = xmemdup(r->part_hashes, r->n_part_hashes * ED2K_HASH_LEN);
        f->n_part_hashes = r->n_part_hashes;
    }
    return f;
}

static int
cmp_hash(const void *a, const void *b)
{
    const shared_file_t *fa = *(shared_file_t *const *)a, *fb = *(shared_file_t *const *)b;
    return memcmp(fa->hash, fb->hash, ED2K_HASH_LEN);
}

static int
cmp_path(const void *a, const void *b)
{
    const shared_file_t *fa = *(shared_file_t *const *)a, *fb = *(shared_file_t *const *)b;
    return strcmp(fa->path, fb->path);
}

/* qsort must not be given a NULL array, even an empty one. */
static void
sort_files(shared_file_t **list, size_t n, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(list, n, sizeof *list, cmp);
}

/* set_dirs: s->dirs from a ':'-separated list, with extra_dir once. */
static void
set_dirs(shared_t *s, const char *dirs, const char *extra_dir)
{
    for (size_t i = 0; i < s->n_dirs; i++)
        free(s->dirs[i]);
    free(s->dirs);
    s->dirs = NULL;
    s->n_dirs = 0;
    char *copy = xstrdup(dirs != NULL ? dirs : "");
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
        if (*d == '\0')
            continue;
        s->dirs = xreallocarray(s->dirs, s->n_dirs + 1, sizeof *s->dirs);
        s->dirs[s->n_dirs++] = xstrdup(d);
    }
    free(copy);
    if (extra_dir != NULL && *extra_dir != '\0') {
        bool dup = false;
        for (size_t i = 0; i < s->n_dirs; i++)
            dup |= strcmp(s->dirs[i], extra_dir) == 0;
        if (!dup) {
            s->dirs = xreallocarray(s->dirs, s->n_dirs + 1, sizeof *s->dirs);
            s->dirs[s->n_dirs++] = xstrdup(extra_dir);
        }
    }
}

shared_t *
shared_new(struct event_base *base, worker_pool_t *pool, const char *cache_path,
           const char *dirs, const char *extra_dir)
{
    shared_t *s = xcalloc(1, sizeof *s);
    s->base = base;
    s->pool = pool;
    s->cache_path = xstrdup(cache_path);
    set_dirs(s, dirs, extra_dir);
    return s;
}

void
shared_set_dirs(shared_t *s, const char *dirs, const char *extra_dir)
{
    set_dirs(s, dirs, extra_dir);
    shared_rescan(s, NULL, NULL);
}

static void
free_waiters(waiter_t *w)
{
    while (w != NULL) {
        waiter_t *n = w->next;
        free(w);
        w = n;
    }
}

void
shared_free(shared_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_files; i++)
        file_free(s->files[i]);
    free(s->files);
    for (size_t i = 0; i < s->n_added; i++)
        file_free(s->added[i]);
    free(s->added);
    for (size_t i = 0; i < s->n_dirs; i++)
        free(s->dirs[i]);
    free(s->dirs);
    for (size_t i = 0; i < s->n_extra; i++)
        free(s->extra[i].path);
    free(s->extra);
    free_waiters(s->waiting);
    free_waiters(s->waiting_next);
    free(s->cache_path);
    free(s->withheld);
    for (size_t i = 0; i < s->n_seeds; i++)
        file_free(s->seeds[i]);
    free(s->seeds);
    free(s);
}

/* ---- the cache file (worker thread) ---- */

static int
hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    return hex != NULL ? mt_hex_decode(hex, strlen(hex), out, n) : -1;
}

/* Loads the cache; entries that do not validate are skipped (the file is
 * only a cache: the worst case is hashing again). */
static shared_file_t **
cache_load(const char *path, size_t *n_out)
{
    *n_out = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || (uint64_t)st.st_size > CACHE_MAX_BYTES) {
        close(fd);
        return NULL;
    }
    char *buf = xmalloc((size_t)st.st_size + 1);
    ssize_t got = 0;
    while (got < st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)(st.st_size - got));
        if (r <= 0)
            break;
        got += r;
    }
    close(fd);
    buf[got] = '\0';
    json_object *root = json_tokener_parse(buf);
    free(buf);
    json_object *files = NULL, *ver = NULL;
    if (root == NULL || !json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "version", &ver) ||
        json_object_get_int(ver) != CACHE_VERSION ||
        !json_object_object_get_ex(root, "files", &files) ||
        !json_object_is_type(files, json_type_array)) {
        if (root != NULL)
            log_warn("shared: ignoring the unreadable cache %s", path);
        json_object_put(root);
        return NULL;
    }
    size_t n = json_object_array_length(files);
    shared_file_t **out = xcalloc(n ? n : 1, sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(files, i), *v;
        ed2k_hash_result_t r = { 0 };
        const char *fpath = NULL;
        int64_t size = -1, mtime = 0;
        if (json_object_object_get_ex(e, "path", &v) && json_object_is_type(v, json_type_string))
            fpath = json_object_get_string(v);
        if (json_object_object_get_ex(e, "size", &v) && json_object_is_type(v, json_type_int))
            size = json_object_get_int64(v);
        if (json_object_object_get_ex(e, "mtime", &v) && json_object_is_type(v, json_type_int))
            mtime = json_object_get_int64(v);
        if (fpath == NULL || *fpath != '/' || size <= 0 || size > (int64_t)ED2K_MAX_FILE_SIZE ||
            !json_object_object_get_ex(e, "hash", &v) ||
            hex_to_bytes(json_object_get_string(v), r.file_hash, ED2K_HASH_LEN) != 0 ||
            !json_object_object_get_ex(e, "aich", &v) ||
            hex_to_bytes(json_object_get_string(v), r.aich_root, ED2K_AICH_LEN) != 0)
            continue;
        r.size = (uint64_t)size;
        size_t want = (size_t)ed2k_hash_count((uint64_t)size);
        json_object *parts = NULL;
        bool ok = json_object_object_get_ex(e, "parts", &parts) &&
                  json_object_is_type(parts, json_type_array) &&
                  json_object_array_length(parts) == want;
        if (ok && want > 0) {
            r.part_hashes = xcalloc(want, ED2K_HASH_LEN);
            r.n_part_hashes = want;
            for (size_t p = 0; p < want && ok; p++)
                ok = hex_to_bytes(json_object_get_string(json_object_array_get_idx(parts, p)),
                                  r.part_hashes[p], ED2K_HASH_LEN) == 0;
            uint8_t check[ED2K_HASH_LEN];
            if (ok) {
                ed2k_parthashes_md4((const uint8_t(*)[ED2K_HASH_LEN])r.part_hashes, want, check);
                ok = memcmp(check, r.file_hash, ED2K_HASH_LEN) == 0;
            }
        }
        if (ok)
            out[k++] = file_new(fpath, (uint64_t)size, mtime, &r);
        ed2k_hash_result_clear(&r);
    }
    json_object_put(root);
    *n_out = k;
    return out;
}

/* Writes the cache one entry at a time (a tree of 100,000 entries would
 * cost its size in memory), to a temporary file that replaces the old one
 * once it is on disk. */
static int
cache_save(const char *path, shared_file_t *const *files, size_t n)
{
    char hex[2 * ED2K_AICH_LEN + 1];
    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL) {
        log_warn("shared: cannot save the cache %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(tmp);
        return -1;
    }
    fprintf(out, "{\"version\":%d,\"files\":[", CACHE_VERSION);
    for (size_t i = 0; i < n; i++) {
        const shared_file_t *f = files[i];
        json_object *e = json_object_new_object();
        json_object_object_add(e, "path", json_object_new_string(f->path));
        json_object_object_add(e, "size", json_object_new_int64((int64_t)f->size));
        json_object_object_add(e, "mtime", json_object_new_int64(f->mtime));
        mt_hex_encode(f->hash, ED2K_HASH_LEN, hex);
        json_object_object_add(e, "hash", json_object_new_string(hex));
        mt_hex_encode(f->aich, ED2K_AICH_LEN, hex);
        json_object_object_add(e, "aich", json_object_new_string(hex));
        json_object *parts = json_object_new_array();
        for (size_t p = 0; p < f->n_part_hashes; p++) {
            mt_hex_encode(f->part_hashes[p], ED2K_HASH_LEN, hex);
            json_object_array_add(parts, json_object_new_string(hex));
        }
        json_object_object_add(e, "parts", parts);
        fputs(i > 0 ? ",\n" : "\n", out);
        fputs(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN), out);
        json_object_put(e);
    }
    fputs("\n]}\n", out);
    int rc = fflush(out) == 0 && !ferror(out) && fsync(fd) == 0 ? 0 : -1;
    int saved_errno = errno;
    if (fclose(out) != 0 && rc == 0) {
        rc = -1;
        saved_errno = errno;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -1;
        saved_errno = errno;
    }
    if (rc != 0) {
        unlink(tmp);
        log_warn("shared: cannot save the cache %s: %s", path, strerror(saved_errno));
    }
    free(tmp);
    return rc;
}

/* ---- scanning (worker thread) ---- */

typedef struct {
    shared_t *s;             /* read only: cache_path */
    char **dirs;             /* a copy of s->dirs (owned): they may change meanwhile */
    size_t n_dirs;
    shared_pin_t *extra;     /* a copy of s->extra (owned) */
    size_t n_extra;
    bool load_cache;
    shared_file_t **known;   /* current list by path (not owned) */
    size_t n_known;
    shared_file_t **loaded;  /* from the cache file (owned) */
    size_t n_loaded;
    shared_file_t **seeds;   /* shared_seed's, by path (owned) */
    size_t n_seeds, n_seeded;
    shared_file_t **result;  /* new list: pointers into known/loaded or new */
    size_t n_result, cap_result;
    size_t n_hashed;
    size_t n_bad_names;      /* files not shared: their path is not UTF-8 */
    char *first_bad_name;    /* the first of them, cleaned for the log */
} scan_job_t;

static shared_file_t *
lookup_path(shared_file_t **list, size_t n, const char *path)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(list[mid]->path, path);
        if (c == 0)
            return list[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void
result_add(scan_job_t *j, shared_file_t *f)
{
    if (j->n_result == j->cap_result) {
        j->cap_result = j->cap_result ? j->cap_result * 2 : 64;
        j->result = xreallocarray(j->result, j->cap_result, sizeof *j->result);
    }
    j->result[j->n_result++] = f;
}

/* printable_path: path for the log, each byte that is not part of a UTF-8
 * character or is a control character shown as '?'. Caller frees. */
static char *
printable_path(const char *path)
{
    size_t len = strlen(path), o = 0;
    char *out = xmalloc(len + 1);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = mt_utf8_next(path + i, len - i, &cp);
        if (n == 0 || cp < 0x20 || cp == 0x7F) {
            out[o++] = '?';
            i++;
        } else {
            memcpy(out + o, path + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return out;
}

/* scan_file: lists path when it is a regular file of a size eD2K can
 * share, from the known list or the cache when unchanged, else hashed;
 * with want_hash, only when its hash is that one. */
static void
scan_file(scan_job_t *j, const char *path, const uint8_t *want_hash)
{
    /* A name that is not strict UTF-8 cannot be offered on eD2K nor
     * written to PostgreSQL (one such row would stop every write of the
     * shared_files table): the file is not shared, and the scan says so. */
    if (!mt_utf8_is_valid(path, strlen(path))) {
        if (j->n_bad_names++ == 0)
            j->first_bad_name = printable_path(path);
        return;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uint64_t)st.st_size > ED2K_MAX_FILE_SIZE)
        return;
    shared_file_t *f = lookup_path(j->known, j->n_known, path);
    if (f == NULL)
        f = lookup_path(j->loaded, j->n_loaded, path);
    if (f != NULL && f->size == (uint64_t)st.st_size && f->mtime == (int64_t)st.st_mtime) {
        if (want_hash == NULL || memcmp(f->hash, want_hash, ED2K_HASH_LEN) == 0)
            result_add(j, f);
        return;
    }
    f = lookup_path(j->seeds, j->n_seeds, path);
    if (f != NULL && !f->mark && f->size == (uint64_t)st.st_size &&
        f->mtime == (int64_t)st.st_mtime &&
        (want_hash == NULL || memcmp(f->hash, want_hash, ED2K_HASH_LEN) == 0)) {
        f->mark = true; /* listed once; cleared before scan_done's bookkeeping */
        result_add(j, f);
        j->n_seeded++;
        return;
    }
    ed2k_hash_result_t r;
    mt_error_t *err = NULL;
    if (ed2k_hash_file(path, &r, &err) == 0 && r.size == (uint64_t)st.st_size) {
        j->n_hashed++;
        if (want_hash == NULL || memcmp(r.file_hash, want_hash, ED2K_HASH_LEN) == 0)
            result_add(j, file_new(path, r.size, (int64_t)st.st_mtime, &r));
        else
            log_warn("shared: %s is not the file it should be (another hash); not shared", path);
    } else if (err != NULL) {
        log_warn("shared: %s", err->message);
    }
    ed2k_hash_result_clear(&r);
    mt_error_free(err);
}

static void
scan_dir(scan_job_t *j, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        log_warn("shared: cannot read directory %s: %s", dir, strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* hidden files and temp names (".x.tmp") */
        char *path = xasprintf("%s/%s", dir, e->d_name);
        scan_file(j, path, NULL);
        free(path);
    }
    closedir(d);
}

static void
scan_run(void *arg)
{
    scan_job_t *j = arg;
    if (j->load_cache) {
        j->loaded = cache_load(j->s->cache_path, &j->n_loaded);
        sort_files(j->loaded, j->n_loaded, cmp_path);
    }
    for (size_t i = 0; i < j->n_dirs; i++)
        scan_dir(j, j->dirs[i]);
    /* Single files, unless a directory listed them already. */
    sort_files(j->result, j->n_result, cmp_path);
    size_t n_dirs_found = j->n_result;
    for (size_t i = 0; i < j->n_extra; i++)
        if (lookup_path(j->result, n_dirs_found, j->extra[i].path) == NULL)
            scan_file(j, j->extra[i].path, j->extra[i].hash);
    for (size_t i = 0; i < j->n_seeds; i++)
        j->seeds[i]->mark = false;
    /* Sorted by path for a stable cache file. */
    sort_files(j->result, j->n_result, cmp_path);
    if (j->n_hashed > 0 || j->n_seeded > 0 || j->load_cache || j->n_result != j->n_known)
        cache_save(j->s->cache_path, j->result, j->n_result);
}

static void start_scan(shared_t *s);

static int
cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (shared_file_t *const *)a, y = (uintptr_t) * (shared_file_t *const *)b;
    return x < y ? -1 : x > y;
}

/* by_address: a copy of list sorted by address, for is_listed. */
static shared_file_t **
by_address(shared_file_t *const *list, size_t n)
{
    shared_file_t **v = xcalloc(n + 1, sizeof *v);
    if (n > 0) /* list is NULL before the first scan */
        memcpy(v, list, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_ptr);
    return v;
}

/* is_listed: f (that very object) is in v (by_address's). */
static bool
is_listed(shared_file_t *const *v, size_t n, const shared_file_t *f)
{
    return bsearch(&f, v, n, sizeof *v, cmp_ptr) != NULL;
}

static void
publish(shared_t *s, const shared_file_t *f, bool added)
{
    bus_shared_t ev = { .path = f->path, .hash = f->hash, .size = f->size };
    if (added)
        bus_publish_shared_added(s->bus, &ev);
    else
        bus_publish_shared_removed(s->bus, &ev);
}

static void
scan_done(void *arg, int cancelled)
{
    scan_job_t *j = arg;
    shared_t *s = j->s;
    /* mark = "in the list that survives"; everything else is freed. */
    shared_file_t **keep = cancelled ? s->files : j->result;
    size_t n_keep = cancelled ? s->n_files : j->n_result;
    for (size_t i = 0; i < n_keep; i++)
        keep[i]->mark = true;
    shared_file_t **drop[4] = { cancelled ? j->result : s->files, j->loaded, j->seeds, NULL };
    size_t n_drop[4] = { cancelled ? j->n_result : s->n_files, j->n_loaded, j->n_seeds, 0 };
    /* Collect first (a pointer may be in two lists), then free. */
    shared_file_t **gone = xcalloc(n_drop[0] + n_drop[1] + n_drop[2] + 1, sizeof *gone);
    size_t n_gone = 0;
    for (int l = 0; drop[l] != NULL; l++)
        for (size_t i = 0; i < n_drop[l]; i++)
            if (!drop[l][i]->mark) {
                drop[l][i]->mark = true;
                gone[n_gone++] = drop[l][i];
            }
    /* the files of the old list that the new one lacks are no longer shared
     * (the loaded cache's others never were); then the new list's files the
     * old one lacked are */
    shared_file_t **old = cancelled ? NULL : by_address(s->files, s->n_files);
    for (size_t i = 0; i < n_gone && !cancelled; i++)
        if (is_listed(old, s->n_files, gone[i]))
            publish(s, gone[i], false);
    for (size_t i = 0; i < n_gone; i++)
        file_free(gone[i]);
    free(gone);
    for (size_t i = 0; i < n_keep; i++)
        keep[i]->mark = false;
    if (!cancelled) {
        size_t n_old = s->n_files;
        free(s->files);
        s->files = j->result;
        s->n_files = j->n_result;
        j->result = NULL;
        /* Files added during the scan that it did not see. */
        sort_files(s->files, s->n_files, cmp_path);
        size_t n_before = s->n_files;
        for (size_t i = 0; i < s->n_added; i++) {
            shared_file_t *a = s->added[i];
            if (lookup_path(s->files, n_before, a->path) == NULL) {
                s->files = xreallocarray(s->files, s->n_files + 1, sizeof *s->files);
                s->files[s->n_files++] = a;
            } else {
                file_free(a);
            }
        }
        s->n_added = 0;
        sort_files(s->files, s->n_files, cmp_hash);
        s->cache_loaded = true;
        s->last_hashed = j->n_hashed;
        s->generation++;
        for (size_t i = 0; i < s->n_files; i++)
            if (!is_listed(old, n_old, s->files[i]))
                publish(s, s->files[i], true);
        free(old);
        log_info("shared: %zu file(s) shared, %zu hashed in this scan", s->n_files, j->n_hashed);
        if (j->n_seeded > 0)
            log_info("shared: %zu file(s) not hashed: their hashes came from an imported "
                     "known-files list", j->n_seeded);
        if (j->n_bad_names > 0)
            log_warn("shared: %zu file(s) not shared: their names are not valid UTF-8 (rename "
                     "them to share them), the first like \"%s\"",
                     j->n_bad_names, j->first_bad_name);
    }
    free(j->first_bad_name);
    free(j->result);
    free(j->loaded);
    free(j->seeds);
    free(j->known);
    for (size_t i = 0; i < j->n_extra; i++)
        free(j->extra[i].path);
    free(j->extra);
    for (size_t i = 0; i < j->n_dirs; i++)
        free(j->dirs[i]);
    free(j->dirs);
    free(j);
    s->scanning = false;
    waiter_t *w = s->waiting;
    s->waiting = NULL;
    if (!cancelled && s->again) {
        s->again = false;
        s->waiting = s->waiting_next;
        s->waiting_next = NULL;
        start_scan(s);
    }
    while (w != NULL) {
        waiter_t *n = w->next;
        if (!cancelled)
            w->done(w->ctx);
        free(w);
        w = n;
    }
}

static void
start_scan(shared_t *s)
{
    scan_job_t *j = xcalloc(1, sizeof *j);
    j->s = s;
    j->load_cache = !s->cache_loaded;
    j->dirs = xcalloc(s->n_dirs + 1, sizeof *j->dirs);
    for (size_t i = 0; i < s->n_dirs; i++)
        j->dirs[i] = xstrdup(s->dirs[i]);
    j->n_dirs = s->n_dirs;
    j->known = xmemdup(s->files, s->n_files * sizeof *s->files);
    j->n_known = s->n_files;
    if (s->n_extra > 0) {
        j->extra = xcalloc(s->n_extra, sizeof *j->extra);
        for (size_t i = 0; i < s->n_extra; i++) {
            j->extra[i] = s->extra[i];
            j->extra[i].path = xstrdup(s->extra[i].path);
        }
        j->n_extra = s->n_extra;
    }
    sort_files(j->known, j->n_known, cmp_path);
    j->seeds = s->seeds;
    j->n_seeds = s->n_seeds;
    s->seeds = NULL;
    s->n_seeds = 0;
    sort_files(j->seeds, j->n_seeds, cmp_path);
    s->scanning = true;
    worker_submit(s->pool, scan_run, scan_done, j);
}

void
shared_rescan(shared_t *s, void (*done)(void *ctx), void *ctx)
{
    waiter_t *w = NULL;
    if (done != NULL) {
        w = xcalloc(1, sizeof *w);
        w->done = done;
        w->ctx = ctx;
    }
    if (s->scanning) {
        s->again = true;
        if (w != NULL) {
            w->next = s->waiting_next;
            s->waiting_next = w;
        }
        return;
    }
    if (w != NULL) {
        w->next = s->waiting;
        s->waiting = w;
    }
    start_scan(s);
}

bool
shared_is_scanning(const shared_t *s)
{
    return s->scanning;
}

bool
shared_has_scanned(const shared_t *s)
{
    return s->cache_loaded;
}

static int
cmp_pin(const void *a, const void *b)
{
    return strcmp(((const shared_pin_t *)a)->path, ((const shared_pin_t *)b)->path);
}

void
shared_set_files(shared_t *s, const shared_pin_t *pins, size_t n)
{
    for (size_t i = 0; i < s->n_extra; i++)
        free(s->extra[i].path);
    free(s->extra);
    s->extra = NULL;
    s->n_extra = 0;
    if (n == 0)
        return;
    s->extra = xcalloc(n, sizeof *s->extra);
    for (size_t i = 0; i < n; i++) {
        s->extra[i] = pins[i];
        s->extra[i].path = xstrdup(pins[i].path);
    }
    qsort(s->extra, n, sizeof *s->extra, cmp_pin);
    /* each path once */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && strcmp(s->extra[k - 1].path, s->extra[i].path) == 0)
            free(s->extra[i].path);
        else
            s->extra[k++] = s->extra[i];
    }
    s->n_extra = k;
}

bool
shared_has_file(const shared_t *s, const uint8_t hash[ED2K_HASH_LEN], const char *path)
{
    /* the list is sorted by hash: find the first of that hash, then walk */
    size_t lo = 0, hi = s->n_files;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (memcmp(s->files[mid]->hash, hash, ED2K_HASH_LEN) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < s->n_files && memcmp(s->files[i]->hash, hash, ED2K_HASH_LEN) == 0; i++)
        if (strcmp(s->files[i]->path, path) == 0)
            return true;
    for (size_t i = 0; i < s->n_added; i++)
        if (memcmp(s->added[i]->hash, hash, ED2K_HASH_LEN) == 0 &&
            strcmp(s->added[i]->path, path) == 0)
            return true;
    return false;
}

void
shared_add(shared_t *s, const char *path, uint64_t size, int64_t mtime,
           const ed2k_hash_result_t *r)
{
    shared_file_t *f = file_new(path, size, mtime, r);
    if (s->scanning) {
        /* The scan owns the list until it ends; keep the file aside and
         * list it now too, so it is served at once. */
        s->added = xreallocarray(s->added, s->n_added + 1, sizeof *s->added);
        s->added[s->n_added++] = f;
        return;
    }
    for (size_t i = 0; i < s->n_files; i++) {
        if (strcmp(s->files[i]->path, path) == 0) {
            publish(s, s->files[i], false);
            file_free(s->files[i]);
            s->files[i] = f;
            sort_files(s->files, s->n_files, cmp_hash);
            s->generation++;
            publish(s, f, true);
            return;
        }
    }
    s->files = xreallocarray(s->files, s->n_files + 1, sizeof *s->files);
    s->files[s->n_files++] = f;
    sort_files(s->files, s->n_files, cmp_hash);
    s->generation++;
    publish(s, f, true);
}

static int
cmp_hash16(const void *a, const void *b)
{
    return memcmp(a, b, ED2K_HASH_LEN);
}

void
shared_set_withheld(shared_t *s, const uint8_t (*hashes)[ED2K_HASH_LEN], size_t n)
{
    uint8_t(*v)[ED2K_HASH_LEN] = NULL;
    if (n > 0) {
        v = xcalloc(n, sizeof *v);
        memcpy(v, hashes, n * sizeof *v);
        qsort(v, n, sizeof *v, cmp_hash16);
    }
    bool same = n == s->n_withheld && (n == 0 || memcmp(v, s->withheld, n * sizeof *v) == 0);
    free(s->withheld);
    s->withheld = v;
    s->n_withheld = n;
    if (!same)
        s->generation++; /* servers are offered the files again */
}

bool
shared_is_withheld(const shared_t *s, const uint8_t hash[ED2K_HASH_LEN])
{
    return s->n_withheld > 0 &&
           bsearch(hash, s->withheld, s->n_withheld, ED2K_HASH_LEN, cmp_hash16) != NULL;
}

void
shared_set_bus(shared_t *s, bus_t *bus)
{
    s->bus = bus;
}

shared_file_t *
shared_find(const shared_t *s, const uint8_t hash[ED2K_HASH_LEN])
{
    size_t lo = 0, hi = s->n_files;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(s->files[mid]->hash, hash, ED2K_HASH_LEN);
        if (c == 0)
            return s->files[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = 0; i < s->n_added; i++)
        if (memcmp(s->added[i]->hash, hash, ED2K_HASH_LEN) == 0)
            return s->added[i];
    return NULL;
}

size_t
shared_count(const shared_t *s)
{
    return s->n_files + s->n_added;
}

shared_file_t *
shared_get(const shared_t *s, size_t i)
{
    return i < s->n_files ? s->files[i] : s->added[i - s->n_files];
}

uint64_t
shared_generation(const shared_t *s)
{
    return s->generation;
}

size_t
shared_last_hashed(const shared_t *s)
{
    return s->last_hashed;
}

void
shared_seed(shared_t *s, const char *path, uint64_t size, int64_t mtime,
            const ed2k_hash_result_t *r)
{
    s->seeds = xreallocarray(s->seeds, s->n_seeds + 1, sizeof *s->seeds);
    s->seeds[s->n_seeds++] = file_new(path, size, mtime, r);
}
