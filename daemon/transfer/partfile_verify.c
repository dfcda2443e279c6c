/* partfile_verify.c: the check of one part against its MD4 (prepared on
 * the loop thread, read and hashed on a worker, applied on the loop
 * thread: a match verifies the part, a mismatch discards its bytes, or
 * keeps them for an AICH recovery that discards only the bad blocks). */
#include "config.h"

#include "daemon/transfer/partfile_int.h"
#include "ed2k/aich.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/md4.h>
#include <nettle/sha1.h>
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
    bool keep; /* a mismatch leaves the bytes filled (pf_verify_keep_on_mismatch) */
    /* the SHA-1 of each AICH block of the part, as read */
    uint8_t blocks[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN];
    size_t n_blocks;
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
    struct sha1_ctx block;
    sha1_init(&block);
    job->n_blocks = 0;
    uint64_t block_end = job->start + ED2K_EMBLOCKSIZE;
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
        /* AICH blocks (PF_IO_CHUNK is not a multiple of their size) */
        for (size_t done = 0; done < n;) {
            size_t k = n - done;
            if (k > block_end - (off + done))
                k = (size_t)(block_end - (off + done));
            sha1_update(&block, k, buf + done);
            done += k;
            if (off + done == block_end || off + done == job->end) {
                if (job->n_blocks < ED2K_AICH_BLOCKS_PER_PART)
                    sha1_digest(&block, ED2K_AICH_LEN, job->blocks[job->n_blocks++]);
                block_end += ED2K_EMBLOCKSIZE;
            }
        }
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

/* discard_range: [start, end) of part p is a gap again; its bytes are
 * punched out so that the gap reads as zeros again. */
static void
discard_range(partfile_t *pf, size_t p, uint64_t start, uint64_t end)
{
    rangeset_remove(pf->m->filled, start, end);
    if (pf->holes_clean) {
        int fd = pf_data_fd_get(pf);
        if (fd < 0 || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)start,
                                (off_t)(end - start)) != 0)
            pf->holes_clean = false;
        if (fd >= 0)
            pf_data_fd_put(pf);
    }
    pf->part_gen[p]++;
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
    if (!job->keep)
        discard_range(pf, p, job->start, job->end);
    return PF_VERIFY_CORRUPT;
}

void
pf_verify_keep_on_mismatch(pf_verify_job_t *job)
{
    job->keep = true;
}

size_t
pf_verify_blocks(const pf_verify_job_t *job, const uint8_t (**blocks)[ED2K_AICH_LEN])
{
    *blocks = (const uint8_t (*)[ED2K_AICH_LEN])job->blocks;
    return job->ran ? job->n_blocks : 0;
}

void
pf_discard_part(partfile_t *pf, size_t part)
{
    uint64_t s, e;
    if (part >= pf->m->n_parts || pf->m->verified[part] || pf_part_range(pf, part, &s, &e) != 0)
        return;
    discard_range(pf, part, s, e);
}

uint64_t
pf_discard_blocks(partfile_t *pf, size_t part, const bool *bad, size_t n)
{
    uint64_t s, e, total = 0;
    if (part >= pf->m->n_parts || pf->m->verified[part] || pf_part_range(pf, part, &s, &e) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t bs = s + (uint64_t)i * ED2K_EMBLOCKSIZE;
        uint64_t be = bs + ED2K_EMBLOCKSIZE < e ? bs + ED2K_EMBLOCKSIZE : e;
        if (!bad[i] || bs >= e)
            continue;
        discard_range(pf, part, bs, be);
        total += be - bs;
    }
    return total;
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
