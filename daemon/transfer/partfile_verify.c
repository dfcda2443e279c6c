/* partfile_verify.c: the check of one part against its MD4 (prepared on
 * the loop thread, read and hashed on a worker, applied on the loop
 * thread: a match verifies the part, a mismatch discards its bytes). */
#include "config.h"

#include "daemon/transfer/partfile_int.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/md4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    if (part >= pf->m->n_parts || pf_is_phantom(pf->m->size, part) || pf->m->verified[part])
        return NULL;
    const uint8_t *expect = pf_part_hash(pf, part);
    if (expect == NULL)
        return NULL;
    uint64_t s = pf_part_start(part), e = pf_part_end(pf->m->size, part);
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
    uint8_t *buf = xmalloc(PF_IO_CHUNK);
    struct md4_ctx ctx;
    md4_init(&ctx);
    for (uint64_t off = job->start; off < job->end;) {
        size_t n = job->end - off < PF_IO_CHUNK ? (size_t)(job->end - off) : PF_IO_CHUNK;
        if (pf_io_pread_all(fd, buf, n, off) != 0) {
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

void
pf_unverify_part(partfile_t *pf, size_t part)
{
    if (part >= pf->m->n_parts || pf_is_phantom(pf->m->size, part) || !pf->m->verified[part])
        return;
    pf->m->verified[part] = 0; /* its bytes stay filled: a check verifies it again */
    pf_recount_verified(pf);
    pf->dirty = true;
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
        pf_recount_verified(pf);
        pf->dirty = true;
        return PF_VERIFY_OK;
    }
    if (job->speculative)
        return PF_VERIFY_UNCHANGED;
    rangeset_remove(pf->m->filled, job->start, job->end);
    /* Punch the corrupt bytes out, so the gap reads as zeros again. */
    if (pf->holes_clean) {
        int fd = pf_data_fd_get(pf);
        if (fd < 0 || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                (off_t)job->start, (off_t)(job->end - job->start)) != 0)
            pf->holes_clean = false;
        if (fd >= 0)
            pf_data_fd_put(pf);
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
        if (!pf->m->verified[i] && !pf_is_phantom(pf->m->size, i))
            out[n++] = i;
    return n;
}
