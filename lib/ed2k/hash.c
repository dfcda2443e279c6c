/* hash.c: eD2K hashing (MD4 per part, AICH SHA-1 tree built from per-block
 * and per-part hashes): a streaming hasher, a two-thread file hasher, and the
 * hex/base32 helpers around them. */
#include "config.h"

#include "ed2k/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/md4.h>
#include <nettle/sha1.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/hex.h"
#include "util/xalloc.h"

/* AICH leaves per part: 52 full blocks and one of 143,360 bytes. */
#define BLOCKS_PER_PART ((ED2K_PARTSIZE + ED2K_EMBLOCKSIZE - 1) / ED2K_EMBLOCKSIZE)

/* Read size of the file hashers. Both digests run over each buffer while it
 * is still in the core's L2 cache: 128 KiB beats 1 MiB by a few percent. */
#define READ_SIZE (128U * 1024U)

/* Threads ed2k_hash_fd uses for a file of two parts or more (the caller
 * and HASH_THREADS - 1 helpers). Two: the daemon may run several hashes at
 * once on its worker pool, and the machines it targets have few cores. */
#define HASH_THREADS 2

/* The hash state of one part: its MD4, the SHA-1 of its current AICH block
 * and the hashes of its finished blocks. Parts are independent of each
 * other, which is what lets ed2k_hash_file hash them on several threads. */
struct part_hasher {
    struct md4_ctx md4;
    struct sha1_ctx block_sha;
    uint32_t part_fill;        /* bytes of the part seen */
    uint32_t block_fill;       /* bytes of the current block seen */
    uint8_t blocks[BLOCKS_PER_PART][ED2K_AICH_LEN];
    size_t n_blocks;           /* finished blocks */
};

/* What a finished part contributes to the file's hashes: its MD4, and its
 * AICH sub-tree root computed both as a left and as a right child (§6.3:
 * the split of a part's blocks depends on which side of the part-level tree
 * the part ends up, which is only known once the file size is). */
struct part_table {
    uint8_t (*md4s)[ED2K_HASH_LEN];
    uint8_t (*left)[ED2K_AICH_LEN];
    uint8_t (*right)[ED2K_AICH_LEN];
    size_t n, cap;
};

struct ed2k_hasher {
    struct part_hasher part;   /* the part being fed */
    uint64_t total;
    struct part_table parts;   /* finished parts */
};

static void
sha1_pair(const uint8_t a[ED2K_AICH_LEN], const uint8_t b[ED2K_AICH_LEN],
          uint8_t out[ED2K_AICH_LEN])
{
    struct sha1_ctx c;
    sha1_init(&c);
    sha1_update(&c, ED2K_AICH_LEN, a);
    sha1_update(&c, ED2K_AICH_LEN, b);
    sha1_digest(&c, ED2K_AICH_LEN, out);
}

/* aich_tree: the root of the AICH sub-tree over n leaves, following aMule's
 * split (§6.3): a left child takes ceil(n/2) leaves, a right child floor(n/2).
 * left[i]/right[i] are leaf i's hash when it is a left/right child (they
 * differ only for whole parts at the part level). */
static void
aich_tree(const uint8_t (*left)[ED2K_AICH_LEN], const uint8_t (*right)[ED2K_AICH_LEN],
          size_t n, int is_left, uint8_t out[ED2K_AICH_LEN])
{
    if (n == 1) {
        memcpy(out, is_left ? left[0] : right[0], ED2K_AICH_LEN);
        return;
    }
    size_t ln = is_left ? (n + 1) / 2 : n / 2;
    uint8_t l[ED2K_AICH_LEN], r[ED2K_AICH_LEN];
    aich_tree(left, right, ln, 1, l);
    aich_tree(left + ln, right + ln, n - ln, 0, r);
    sha1_pair(l, r, out);
}

static void
part_reset(struct part_hasher *ph)
{
    md4_init(&ph->md4);
    sha1_init(&ph->block_sha);
    ph->part_fill = 0;
    ph->block_fill = 0;
    ph->n_blocks = 0;
}

static void
part_finish_block(struct part_hasher *ph)
{
    sha1_digest(&ph->block_sha, ED2K_AICH_LEN, ph->blocks[ph->n_blocks++]);
    ph->block_fill = 0;
}

/* part_feed: hashes len bytes into the part; len must not go past the end
 * of the part (ED2K_PARTSIZE - part_fill). A full block is finished at once;
 * the part is not: part_finish does that. */
static void
part_feed(struct part_hasher *ph, const uint8_t *p, size_t len)
{
    md4_update(&ph->md4, len, p);
    ph->part_fill += (uint32_t)len;
    while (len > 0) {
        size_t n = ED2K_EMBLOCKSIZE - ph->block_fill;
        if (n > len)
            n = len;
        sha1_update(&ph->block_sha, n, p);
        ph->block_fill += (uint32_t)n;
        p += n;
        len -= n;
        if (ph->block_fill == ED2K_EMBLOCKSIZE)
            part_finish_block(ph);
    }
}

/* part_finish: the part's contribution into slot i of t (which has room),
 * then resets ph for the next part. The short last block of a full part,
 * or the only (maybe empty) block of a short one, is finished here. */
static void
part_finish(struct part_hasher *ph, struct part_table *t, size_t i)
{
    if (ph->block_fill > 0 || ph->n_blocks == 0)
        part_finish_block(ph);
    md4_digest(&ph->md4, ED2K_HASH_LEN, t->md4s[i]);
    const uint8_t (*b)[ED2K_AICH_LEN] = (const uint8_t (*)[ED2K_AICH_LEN])ph->blocks;
    aich_tree(b, b, ph->n_blocks, 1, t->left[i]);
    aich_tree(b, b, ph->n_blocks, 0, t->right[i]);
    part_reset(ph);
}

static void
table_reserve(struct part_table *t, size_t n)
{
    if (n <= t->cap)
        return;
    t->md4s = xreallocarray(t->md4s, n, sizeof *t->md4s);
    t->left = xreallocarray(t->left, n, sizeof *t->left);
    t->right = xreallocarray(t->right, n, sizeof *t->right);
    t->cap = n;
}

static void
table_clear(struct part_table *t)
{
    free(t->md4s);
    free(t->left);
    free(t->right);
    memset(t, 0, sizeof *t);
}

/* result_build: *out for a file of total bytes whose t->n parts (data
 * parts, or the one empty part of an empty file) are in t. An exact
 * multiple of PARTSIZE gets its extra empty part hash (§6.1) here; that
 * part takes no part in the AICH tree. */
static void
result_build(const struct part_table *t, uint64_t total, ed2k_hash_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->size = total;
    const uint8_t (*md4s)[ED2K_HASH_LEN] = (const uint8_t (*)[ED2K_HASH_LEN])t->md4s;
    if (total < ED2K_PARTSIZE) {
        memcpy(out->file_hash, md4s[0], ED2K_HASH_LEN);
    } else {
        size_t n = t->n + (total % ED2K_PARTSIZE == 0 ? 1 : 0);
        out->part_hashes = xcalloc(n, ED2K_HASH_LEN);
        memcpy(out->part_hashes, md4s, t->n * ED2K_HASH_LEN);
        if (n > t->n)
            ed2k_md4("", 0, out->part_hashes[t->n]);
        out->n_part_hashes = n;
        ed2k_parthashes_md4((const uint8_t (*)[ED2K_HASH_LEN])out->part_hashes, n,
                            out->file_hash);
    }
    aich_tree((const uint8_t (*)[ED2K_AICH_LEN])t->left,
              (const uint8_t (*)[ED2K_AICH_LEN])t->right, t->n, 1, out->aich_root);
}

ed2k_hasher_t *
ed2k_hasher_new(void)
{
    ed2k_hasher_t *h = xcalloc(1, sizeof *h);
    part_reset(&h->part);
    return h;
}

void
ed2k_hasher_free(ed2k_hasher_t *h)
{
    if (h == NULL)
        return;
    table_clear(&h->parts);
    free(h);
}

uint64_t
ed2k_hasher_size(const ed2k_hasher_t *h)
{
    return h->total;
}

static void
hasher_finish_part(ed2k_hasher_t *h)
{
    if (h->parts.n == h->parts.cap)
        table_reserve(&h->parts, h->parts.cap ? h->parts.cap * 2 : 16);
    part_finish(&h->part, &h->parts, h->parts.n++);
}

void
ed2k_hasher_update(ed2k_hasher_t *h, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        size_t n = ED2K_PARTSIZE - h->part.part_fill;
        if (n > len)
            n = len;
        part_feed(&h->part, p, n);
        h->total += n;
        p += n;
        len -= n;
        if (h->part.part_fill == ED2K_PARTSIZE)
            hasher_finish_part(h);
    }
}

void
ed2k_hasher_finish(ed2k_hasher_t *h, ed2k_hash_result_t *out)
{
    /* A partial last part, or the single empty part of an empty file. An
     * exact multiple of PARTSIZE has no partial part. */
    if (h->part.part_fill > 0 || h->total == 0)
        hasher_finish_part(h);
    result_build(&h->parts, h->total, out);
    part_reset(&h->part);
    h->total = 0;
    h->parts.n = 0;
}

void
ed2k_hash_result_clear(ed2k_hash_result_t *r)
{
    if (r == NULL)
        return;
    free(r->part_hashes);
    r->part_hashes = NULL;
    r->n_part_hashes = 0;
}

void
ed2k_hash_memory(const void *data, size_t len, ed2k_hash_result_t *out)
{
    ed2k_hasher_t *h = ed2k_hasher_new();
    ed2k_hasher_update(h, data, len);
    ed2k_hasher_finish(h, out);
    ed2k_hasher_free(h);
}

/* ---- the file hasher ----
 *
 * A regular file is hashed part by part: each thread takes the next part
 * nobody has started (a counter under a mutex), reads it with pread into
 * its own READ_SIZE buffer and feeds both digests from that buffer, so the
 * file is read once, the parts in increasing order, and the MD4 and SHA-1
 * work of a 1 GiB file (111 parts) is split about evenly over two cores.
 * Memory: one buffer and one part_hasher (1 KiB of block hashes) per thread
 * plus 56 bytes per part. The caller's thread is one of the workers; the
 * others are joined before ed2k_hash_fd returns, error or not. Threads wait
 * only on the mutex (held for a counter increment) and in pthread_join. */

struct file_job {
    int fd;
    uint64_t size;
    size_t n_parts;            /* data parts (1 for an empty file) */
    struct part_table parts;   /* filled slot by slot; n = n_parts */
    pthread_mutex_t lock;      /* guards the fields below */
    size_t next_part;          /* first part no thread has taken */
    bool failed;               /* a thread failed; the first failure: */
    int failed_errno;          /*   errno, or 0 for an early end of file */
    uint64_t failed_offset;    /*   where the read failed */
};

static void
job_fail(struct file_job *job, int errnum, uint64_t offset)
{
    pthread_mutex_lock(&job->lock);
    if (!job->failed) {
        job->failed = true;
        job->failed_errno = errnum;
        job->failed_offset = offset;
    }
    pthread_mutex_unlock(&job->lock);
}

/* job_hash_part: reads part i and stores its hashes; false (after
 * job_fail) on a read error or an early end of file. */
static bool
job_hash_part(struct file_job *job, size_t i, struct part_hasher *ph, uint8_t *buf)
{
    uint64_t off = (uint64_t)i * ED2K_PARTSIZE;
    uint64_t end = off + ED2K_PARTSIZE < job->size ? off + ED2K_PARTSIZE : job->size;
    while (off < end) {
        size_t want = end - off < READ_SIZE ? (size_t)(end - off) : READ_SIZE;
        ssize_t n = pread(job->fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            job_fail(job, n < 0 ? errno : 0, off);
            part_reset(ph);
            return false;
        }
        part_feed(ph, buf, (size_t)n);
        off += (uint64_t)n;
    }
    part_finish(ph, &job->parts, i);
    return true;
}

/* job_worker: hashes parts until none is left or a thread failed. */
static void *
job_worker(void *arg)
{
    struct file_job *job = arg;
    struct part_hasher *ph = xmalloc(sizeof *ph);
    uint8_t *buf = xmalloc(READ_SIZE);
    part_reset(ph);
    for (;;) {
        pthread_mutex_lock(&job->lock);
        size_t i = job->next_part;
        bool go = !job->failed && i < job->n_parts;
        if (go)
            job->next_part++;
        pthread_mutex_unlock(&job->lock);
        if (!go || !job_hash_part(job, i, ph, buf))
            break;
    }
    free(buf);
    free(ph);
    return NULL;
}

/* hash_stream: the single-threaded path for what is not a regular file:
 * read() until end of file through a streaming hasher. */
static int
hash_stream(int fd, const char *name, ed2k_hash_result_t *out, mt_error_t **err)
{
    uint8_t *buf = xmalloc(READ_SIZE);
    ed2k_hasher_t *h = ed2k_hasher_new();
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, READ_SIZE);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            mt_error_set(err, MT_ERR_IO, "cannot read %s: %s", name, strerror(errno));
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        ed2k_hasher_update(h, buf, (size_t)n);
    }
    if (rc == 0)
        ed2k_hasher_finish(h, out);
    ed2k_hasher_free(h);
    free(buf);
    return rc;
}

int
ed2k_hash_fd(int fd, const char *name, ed2k_hash_result_t *out, mt_error_t **err)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        mt_error_set(err, MT_ERR_IO, "cannot stat %s: %s", name, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode))
        return hash_stream(fd, name, out, err);
    /* Bounds the part table below (56 bytes a part, 1.5 MiB at most). */
    if ((uint64_t)st.st_size > ED2K_MAX_FILE_SIZE) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "cannot hash %s: %llu bytes is over the eD2K "
                     "maximum of %llu", name, (unsigned long long)st.st_size,
                     (unsigned long long)ED2K_MAX_FILE_SIZE);
        return -1;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif

    struct file_job job = { .fd = fd, .size = (uint64_t)st.st_size };
    job.n_parts = job.size == 0 ? 1 : (size_t)ed2k_data_part_count(job.size);
    table_reserve(&job.parts, job.n_parts);
    job.parts.n = job.n_parts;
    pthread_mutex_init(&job.lock, NULL);

    pthread_t helpers[HASH_THREADS - 1];
    size_t n_helpers = 0;
    /* A file of one part has nothing to share; a helper that cannot be
     * started leaves its share to the others. */
    while (n_helpers < HASH_THREADS - 1 && n_helpers + 1 < job.n_parts &&
           pthread_create(&helpers[n_helpers], NULL, job_worker, &job) == 0)
        n_helpers++;
    job_worker(&job);
    for (size_t i = 0; i < n_helpers; i++)
        pthread_join(helpers[i], NULL);
    pthread_mutex_destroy(&job.lock);

    int rc = 0;
    if (!job.failed) {
        result_build(&job.parts, job.size, out);
    } else if (job.failed_errno != 0) {
        mt_error_set(err, MT_ERR_IO, "cannot read %s at offset %llu: %s", name,
                     (unsigned long long)job.failed_offset, strerror(job.failed_errno));
        rc = -1;
    } else {
        mt_error_set(err, MT_ERR_IO,
                     "cannot read %s: it ends before offset %llu, its size was %llu bytes "
                     "(the file shrank while it was hashed)",
                     name, (unsigned long long)job.failed_offset + 1,
                     (unsigned long long)job.size);
        rc = -1;
    }
    table_clear(&job.parts);
    return rc;
}

int
ed2k_hash_file(const char *path, ed2k_hash_result_t *out, mt_error_t **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        mt_error_set(err, MT_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = ed2k_hash_fd(fd, path, out, err);
    close(fd);
    return rc;
}

void
ed2k_md4(const void *data, size_t len, uint8_t out[ED2K_HASH_LEN])
{
    struct md4_ctx c;
    md4_init(&c);
    md4_update(&c, len, data);
    md4_digest(&c, ED2K_HASH_LEN, out);
}

void
ed2k_parthashes_md4(const uint8_t (*parts)[ED2K_HASH_LEN], size_t n, uint8_t out[ED2K_HASH_LEN])
{
    struct md4_ctx c;
    md4_init(&c);
    for (size_t i = 0; i < n; i++)
        md4_update(&c, ED2K_HASH_LEN, parts[i]);
    md4_digest(&c, ED2K_HASH_LEN, out);
}

uint64_t
ed2k_part_count(uint64_t size)
{
    return size / ED2K_PARTSIZE + 1;
}

uint64_t
ed2k_hash_count(uint64_t size)
{
    return size < ED2K_PARTSIZE ? 0 : size / ED2K_PARTSIZE + 1;
}

uint64_t
ed2k_data_part_count(uint64_t size)
{
    return size / ED2K_PARTSIZE + (size % ED2K_PARTSIZE != 0);
}

void
ed2k_hash_to_hex(const uint8_t hash[ED2K_HASH_LEN], char out[ED2K_HASH_HEX_LEN + 1])
{
    mt_hex_encode(hash, ED2K_HASH_LEN, out);
}

int
ed2k_hash_from_hexn(const char *s, size_t len, uint8_t out[ED2K_HASH_LEN])
{
    return mt_hex_decode(s, len, out, ED2K_HASH_LEN);
}

int
ed2k_hash_from_hex(const char *hex, uint8_t out[ED2K_HASH_LEN])
{
    return ed2k_hash_from_hexn(hex, strnlen(hex, ED2K_HASH_HEX_LEN + 1), out);
}

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

size_t
ed2k_base32_len(size_t len)
{
    return (len / 5) * 8 + ((len % 5) * 8 + 4) / 5;
}

size_t
ed2k_base32_encode(const uint8_t *data, size_t len, char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | data[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
    out[o] = '\0';
    return o;
}

static int
b32val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

long
ed2k_base32_decode(const char *s, size_t slen, uint8_t *out, size_t outsize)
{
    /* 1, 3 and 6 trailing characters cannot come from whole bytes. */
    size_t rem = slen % 8;
    if (rem == 1 || rem == 3 || rem == 6)
        return -1;
    size_t n = slen * 5 / 8;
    if (n > outsize || n > (size_t)LONG_MAX)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < slen; i++) {
        int v = b32val((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            out[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    /* Leftover bits must be zero, so that each byte string has exactly one
     * encoding (aMule re-encodes and compares, ED2KLink.cpp). */
    if ((acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)o;
}

void
ed2k_aich_to_base32(const uint8_t root[ED2K_AICH_LEN], char out[ED2K_AICH_B32_LEN + 1])
{
    ed2k_base32_encode(root, ED2K_AICH_LEN, out);
}

int
ed2k_aich_from_base32(const char *s, size_t len, uint8_t out[ED2K_AICH_LEN])
{
    uint8_t tmp[ED2K_AICH_LEN];
    if (len != ED2K_AICH_B32_LEN || ed2k_base32_decode(s, len, tmp, sizeof tmp) != ED2K_AICH_LEN)
        return -1;
    memcpy(out, tmp, ED2K_AICH_LEN);
    return 0;
}
