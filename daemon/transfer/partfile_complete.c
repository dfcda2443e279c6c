/* partfile_complete.c: completing a download: the whole file checked
 * against its hashes, then moved (or copied across file systems) into the
 * incoming directory under a free name, and its metadata removed. */
#include "config.h"

#include "daemon/transfer/partfile_int.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FINAL_NAME_MAX 255 /* bytes in one path component (NAME_MAX) */
#define MAX_COLLISIONS 9999

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
    fdc_close(pf_fdcache(), pf); /* nothing is written any more; the file moves */
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
    job->shared = pf_shared_ref(pf->shared);
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
    pf_shared_unref(job->shared);
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
    stem_len = pf_utf8_cut(name, stem_len, room);
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
    uint8_t *buf = xmalloc(PF_IO_CHUNK);
    int rc = 0;
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < PF_IO_CHUNK ? (size_t)(size - off) : PF_IO_CHUNK;
        if (pf_io_pread_all(in, buf, n, off) != 0 || pf_io_write_all(out, buf, n) != 0) {
            rc = -1;
            break;
        }
        off += n;
    }
    free(buf);
    return rc;
}

/* copy_to_tmp: copies the file src (size bytes; -1: all of it) to tmp,
 * created for it (what an earlier attempt that crashed left under that
 * name, which is ours, is replaced), and flushes it to disk. 0, or -1
 * with err and tmp gone. */
static int
copy_to_tmp(const char *src, const char *tmp, int64_t size, mt_error_t **err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (in < 0 || (size < 0 && fstat(in, &st) != 0)) {
        mt_error_set(err, pf_io_code(errno), "cannot open %s: %s", src, strerror(errno));
        if (in >= 0)
            close(in);
        return -1;
    }
    if (size < 0)
        size = st.st_size;
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (out < 0 && errno == EEXIST) {
        unlink(tmp);
        out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    }
    if (out < 0) {
        mt_error_set(err, pf_io_code(errno), "cannot create %s: %s", tmp, strerror(errno));
        close(in);
        return -1;
    }
    int rc = 0;
    if (copy_fd(in, out, (uint64_t)size) != 0 || fsync(out) != 0) {
        mt_error_set(err, pf_io_code(errno), "cannot copy %s to %s: %s", src, tmp,
                     strerror(errno));
        rc = -1;
    }
    if (close(out) != 0 && rc == 0) {
        mt_error_set(err, pf_io_code(errno), "cannot write %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    close(in);
    if (rc != 0)
        unlink(tmp);
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
    int rc = copy_to_tmp(job->data_path, tmp, (int64_t)job->size, err);
    if (rc != 0)
        goto done;
    if (move_to_free_name(tmp, job->incoming_dir, job->name, &job->final_path) != 0) {
        mt_error_set(err, pf_io_code(errno), "cannot name the file in %s: %s", job->incoming_dir,
                     strerror(errno));
        unlink(tmp);
        rc = -1;
        goto done;
    }
    /* From here on the file is complete under its final name: what fails
     * now is worth a warning, not a failed completion. */
    if (pf_io_fsync_dir(job->incoming_dir) != 0)
        log_warn("cannot sync %s: %s", job->incoming_dir, strerror(errno));
    if (unlink(job->data_path) != 0)
        log_warn("copied %s to %s, but cannot remove it: %s", job->data_path, job->final_path,
                 strerror(errno));
done:
    free(tmp);
    return rc;
}

/* The temporary name of a copy to dst: beside it, hidden, made of a hash
 * of dst (short whatever dst's length; the same on a later attempt, which
 * then replaces what a crashed one left). */
static char *
move_tmp_name(const char *dst)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)dst; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    const char *slash = strrchr(dst, '/');
    int dir_len = slash != NULL ? (int)(slash - dst) : 1;
    return xasprintf("%.*s/.muleteer-move-%016llx", dir_len, slash != NULL ? dst : ".",
                     (unsigned long long)h);
}

/* dir_of: the directory holding path (a new string). */
static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xasprintf("%.*s", (int)(slash - path), path);
}

/* copy_then_move: src to dst across file systems (see pf_move_file). */
static int
copy_then_move(const char *src, const char *dst, mt_error_t **err)
{
    char *tmp = move_tmp_name(dst), *dir = dir_of(dst);
    int rc = copy_to_tmp(src, tmp, -1, err);
    if (rc != 0)
        goto done;
    int r = move_noreplace(tmp, dst);
    if (r != 0) {
        if (r > 0)
            mt_error_set(err, MT_ERR_EXISTS, "%s exists already", dst);
        else
            mt_error_set(err, pf_io_code(errno), "cannot name %s %s: %s", tmp, dst,
                         strerror(errno));
        unlink(tmp);
        rc = -1;
        goto done;
    }
    /* The copy is complete under its name: only now does the source go. */
    if (pf_io_fsync_dir(dir) != 0)
        log_warn("cannot sync %s: %s", dir, strerror(errno));
    if (unlink(src) != 0)
        log_warn("copied %s to %s, but cannot remove it: %s", src, dst, strerror(errno));
done:
    free(tmp);
    free(dir);
    return rc;
}

int
pf_move_file(const char *src, const char *dst, bool force_copy, mt_error_t **err)
{
    if (!force_copy) {
        int r = move_noreplace(src, dst);
        if (r > 0) {
            mt_error_set(err, MT_ERR_EXISTS, "%s exists already", dst);
            return -1;
        }
        if (r == 0) {
            char *dir = dir_of(dst);
            if (pf_io_fsync_dir(dir) != 0)
                log_warn("cannot sync %s: %s", dir, strerror(errno));
            free(dir);
            return 0;
        }
        if (errno != EXDEV) {
            mt_error_set(err, pf_io_code(errno), "cannot move %s to %s: %s", src, dst,
                         strerror(errno));
            return -1;
        }
    }
    return copy_then_move(src, dst, err);
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
        mt_error_set(err, pf_io_code(errno), "cannot flush %s: %s", job->data_path, strerror(errno));
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
            mt_error_set(err, pf_io_code(errno), "cannot move %s into %s: %s", job->data_path,
                         job->incoming_dir, strerror(errno));
            return -1;
        }
        if (copy_into(job, err) != 0)
            return -1;
    } else if (pf_io_fsync_dir(job->incoming_dir) != 0) {
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
    (void)pf_io_fsync_dir(job->temp_dir);
    return 0;
}
