/* partfile_data.c: a part file's data file and its life: created sparse,
 * loaded with its metadata, written through the shared descriptor cache,
 * deleted; and the blocking I/O helpers the other part-file files use. */
#include "config.h"

#include "daemon/transfer/partfile_int.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Blocking I/O                                                             */

int
pf_io_write_all(int fd, const void *data, size_t len)
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

int
pf_io_pread_all(int fd, void *buf, size_t len, uint64_t off)
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

int
pf_io_fsync_dir(const char *dir)
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

int
pf_io_code(int e)
{
    return e == ENOSPC || e == EDQUOT ? MT_ERR_NO_SPACE : MT_ERR_IO;
}

/* ------------------------------------------------------------------------ */
/* Descriptors                                                              */

/* The data files' descriptors, shared by every part file (loop thread):
 * a part file holds no descriptor of its own, it borrows one from here
 * for each write, so the number of downloads does not matter. Jobs on
 * workers open their own by path. */
static fdcache_t *fd_cache;

fdcache_t *
pf_fdcache(void)
{
    if (fd_cache == NULL)
        fd_cache = fdc_new(PF_DEFAULT_OPEN_FILES);
    return fd_cache;
}

void
pf_set_max_open_files(size_t n)
{
    fdc_set_max(pf_fdcache(), n);
}

size_t
pf_open_files(void)
{
    return fd_cache != NULL ? fdc_open_count(fd_cache) : 0;
}

void
pf_close_files(void)
{
    fdc_free(fd_cache);
    fd_cache = NULL;
}

int
pf_data_fd_get(partfile_t *pf)
{
    return fdc_checkout(pf_fdcache(), pf, pf->data_path, O_RDWR);
}

void
pf_data_fd_put(partfile_t *pf)
{
    fdc_checkin(pf_fdcache(), pf);
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

void
pf_recount_verified(partfile_t *pf)
{
    pf->n_verified = 0;
    pf->verified_bytes = 0;
    for (size_t i = 0; i < pf->m->n_parts; i++) {
        if (pf->m->verified[i]) {
            pf->n_verified++;
            pf->verified_bytes += pf_part_end(pf->m->size, i) - pf_part_start(i);
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
    pf->shared = pf_shared_new();
    pf_recount_verified(pf);
    return pf;
}

void
pf_free(partfile_t *pf)
{
    if (pf == NULL)
        return;
    fdc_close(pf_fdcache(), pf);
    pf_meta_free(pf->m);
    free(pf->temp_dir);
    free(pf->data_path);
    free(pf->met_path);
    free(pf->tmp_path);
    free(pf->part_gen);
    pf_shared_unref(pf->shared);
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
    int fd = fdc_open(pf_fdcache(), data_path, O_RDWR | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
        mt_error_set(err, errno == EEXIST ? MT_ERR_EXISTS : pf_io_code(errno),
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
        mt_error_set(err, pf_io_code(e), "cannot size %s: %s", data_path, strerror(e));
        unlink(data_path);
        goto out;
    }
    pf_meta_t *m = pf_meta_new(hash, size);
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
    int fd = fdc_open(pf_fdcache(), data_path, O_RDWR, 0);
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
        mt_error_set(err, pf_io_code(errno), "cannot extend %s: %s", data_path, strerror(errno));
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
/* Writing                                                                  */

static void
bump_parts(partfile_t *pf, uint64_t start, uint64_t end)
{
    for (size_t p = (size_t)(start / ED2K_PARTSIZE); p < pf->m->n_parts && pf_part_start(p) < end; p++)
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
        if (!zeros && fd < 0 && (fd = pf_data_fd_get(pf)) < 0) {
            mt_error_set(err, pf_io_code(errno), "cannot open %s: %s", pf->data_path,
                         strerror(errno));
            return -1;
        }
        if (!zeros && pwrite_all(fd, chunk, n, gs) != 0) {
            int e = errno;
            mt_error_set(err, pf_io_code(e), "cannot write %s at %llu: %s", pf->data_path,
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
        pf_data_fd_put(pf);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Deleting                                                                 */

int
pf_delete_files(partfile_t *pf, mt_error_t **err)
{
    fdc_close(pf_fdcache(), pf);
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
    (void)pf_io_fsync_dir(pf->temp_dir);
    pf->dirty = false;
    return rc;
}
