/* partfile_save.c: saving a part file's metadata: a snapshot taken on the
 * loop thread, written on a worker after an fdatasync of the data, through
 * a temporary file, fsync and an atomic rename; saves of one part file are
 * serialised, and none outlives the files' deletion or completion. */
#include "config.h"

#include "daemon/transfer/partfile_int.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* The state shared with the jobs                                           */

pf_shared_t *
pf_shared_new(void)
{
    pf_shared_t *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    atomic_init(&s->refs, 1);
    return s;
}

pf_shared_t *
pf_shared_ref(pf_shared_t *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void
pf_shared_unref(pf_shared_t *s)
{
    if (s == NULL)
        return;
    if (atomic_fetch_sub(&s->refs, 1) == 1) {
        pthread_mutex_destroy(&s->lock);
        free(s);
    }
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
    job->shared = pf_shared_ref(pf->shared);
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
        mt_error_set(err, pf_io_code(e), "cannot flush the data of %s: %s", job->met_path,
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
        mt_error_set(err, pf_io_code(errno), "cannot create %s: %s", job->tmp_path,
                     strerror(errno));
        goto out;
    }
    if (pf_io_write_all(fd, job->json, job->len) != 0 || fsync(fd) != 0) {
        mt_error_set(err, pf_io_code(errno), "cannot write %s: %s", job->tmp_path, strerror(errno));
        close(fd);
        unlink(job->tmp_path);
        goto out;
    }
    if (close(fd) != 0) {
        mt_error_set(err, pf_io_code(errno), "cannot write %s: %s", job->tmp_path, strerror(errno));
        unlink(job->tmp_path);
        goto out;
    }
    if (rename(job->tmp_path, job->met_path) != 0) {
        mt_error_set(err, pf_io_code(errno), "cannot rename %s: %s", job->tmp_path,
                     strerror(errno));
        unlink(job->tmp_path);
        goto out;
    }
    sh->written_seq = job->seq;
    if (pf_io_fsync_dir(job->dir) != 0) {
        mt_error_set(err, pf_io_code(errno), "cannot sync the directory %s: %s", job->dir,
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
    pf_shared_unref(job->shared);
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
