/* hash.c: streaming eD2K hasher (MD4 per part, AICH SHA-1 tree built from
 * per-block and per-part hashes) and the hex/base32 helpers around it. */
#include "config.h"

#include "ed2k/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/md4.h>
#include <nettle/sha1.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

/* AICH leaves per part: 52 full blocks and one of 143,360 bytes. */
#define BLOCKS_PER_PART ((ED2K_PARTSIZE + ED2K_EMBLOCKSIZE - 1) / ED2K_EMBLOCKSIZE)

struct ed2k_hasher {
    struct md4_ctx part_md4;   /* MD4 of the current part */
    struct sha1_ctx block_sha; /* SHA-1 of the current AICH block */
    uint64_t total;
    uint32_t part_fill;        /* bytes of the current part seen */
    uint32_t block_fill;       /* bytes of the current block seen */
    uint8_t blocks[BLOCKS_PER_PART][ED2K_AICH_LEN];
    size_t n_blocks;           /* finished blocks of the current part */
    /* Finished parts: their MD4, and their AICH sub-tree root computed both
     * as a left and as a right child (§6.3: the split of a part's blocks
     * depends on which side of the part-level tree the part ends up, which
     * is only known once the file size is). */
    uint8_t (*part_md4s)[ED2K_HASH_LEN];
    uint8_t (*part_left)[ED2K_AICH_LEN];
    uint8_t (*part_right)[ED2K_AICH_LEN];
    size_t n_parts, cap_parts;
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
hasher_reset(ed2k_hasher_t *h)
{
    md4_init(&h->part_md4);
    sha1_init(&h->block_sha);
    h->total = 0;
    h->part_fill = 0;
    h->block_fill = 0;
    h->n_blocks = 0;
    h->n_parts = 0;
}

ed2k_hasher_t *
ed2k_hasher_new(void)
{
    ed2k_hasher_t *h = xcalloc(1, sizeof *h);
    hasher_reset(h);
    return h;
}

void
ed2k_hasher_free(ed2k_hasher_t *h)
{
    if (h == NULL)
        return;
    free(h->part_md4s);
    free(h->part_left);
    free(h->part_right);
    free(h);
}

uint64_t
ed2k_hasher_size(const ed2k_hasher_t *h)
{
    return h->total;
}

static void
finish_block(ed2k_hasher_t *h)
{
    sha1_digest(&h->block_sha, ED2K_AICH_LEN, h->blocks[h->n_blocks++]);
    h->block_fill = 0;
}

static void
finish_part(ed2k_hasher_t *h)
{
    if (h->block_fill > 0 || h->n_blocks == 0)
        finish_block(h);
    if (h->n_parts == h->cap_parts) {
        h->cap_parts = h->cap_parts ? h->cap_parts * 2 : 16;
        h->part_md4s = xreallocarray(h->part_md4s, h->cap_parts, sizeof *h->part_md4s);
        h->part_left = xreallocarray(h->part_left, h->cap_parts, sizeof *h->part_left);
        h->part_right = xreallocarray(h->part_right, h->cap_parts, sizeof *h->part_right);
    }
    size_t i = h->n_parts++;
    md4_digest(&h->part_md4, ED2K_HASH_LEN, h->part_md4s[i]);
    const uint8_t (*b)[ED2K_AICH_LEN] = (const uint8_t (*)[ED2K_AICH_LEN])h->blocks;
    aich_tree(b, b, h->n_blocks, 1, h->part_left[i]);
    aich_tree(b, b, h->n_blocks, 0, h->part_right[i]);
    h->n_blocks = 0;
    h->part_fill = 0;
}

void
ed2k_hasher_update(ed2k_hasher_t *h, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        size_t n = len;
        if (n > ED2K_PARTSIZE - h->part_fill)
            n = ED2K_PARTSIZE - h->part_fill;
        if (n > ED2K_EMBLOCKSIZE - h->block_fill)
            n = ED2K_EMBLOCKSIZE - h->block_fill;
        md4_update(&h->part_md4, n, p);
        sha1_update(&h->block_sha, n, p);
        h->part_fill += n;
        h->block_fill += n;
        h->total += n;
        p += n;
        len -= n;
        if (h->part_fill == ED2K_PARTSIZE)
            finish_part(h);     /* also ends the short last block */
        else if (h->block_fill == ED2K_EMBLOCKSIZE)
            finish_block(h);
    }
}

void
ed2k_hasher_finish(ed2k_hasher_t *h, ed2k_hash_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->size = h->total;
    /* A partial last part, or the single empty part of an empty file. An
     * exact multiple of PARTSIZE has no partial part: its extra empty part
     * hash (§6.1) is added below and takes no part in the AICH tree. */
    if (h->part_fill > 0 || h->total == 0)
        finish_part(h);

    const uint8_t (*md4s)[ED2K_HASH_LEN] = (const uint8_t (*)[ED2K_HASH_LEN])h->part_md4s;
    if (h->total < ED2K_PARTSIZE) {
        memcpy(out->file_hash, md4s[0], ED2K_HASH_LEN);
    } else {
        size_t n = h->n_parts + (h->total % ED2K_PARTSIZE == 0 ? 1 : 0);
        out->part_hashes = xcalloc(n, ED2K_HASH_LEN);
        memcpy(out->part_hashes, md4s, h->n_parts * ED2K_HASH_LEN);
        if (n > h->n_parts)
            ed2k_md4("", 0, out->part_hashes[h->n_parts]);
        out->n_part_hashes = n;
        ed2k_parthashes_md4((const uint8_t (*)[ED2K_HASH_LEN])out->part_hashes, n,
                            out->file_hash);
    }
    aich_tree((const uint8_t (*)[ED2K_AICH_LEN])h->part_left,
              (const uint8_t (*)[ED2K_AICH_LEN])h->part_right, h->n_parts, 1,
              out->aich_root);
    hasher_reset(h);
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

int
ed2k_hash_file(const char *path, ed2k_hash_result_t *out, mt_error_t **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        mt_error_set(err, MT_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    enum { BUFSIZE = 1 << 17 }; /* fits L2 with the hash state: faster than 1 MiB */
    uint8_t *buf = xmalloc(BUFSIZE);
    ed2k_hasher_t *h = ed2k_hasher_new();
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, BUFSIZE);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            mt_error_set(err, MT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
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

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void
ed2k_hash_to_hex(const uint8_t hash[ED2K_HASH_LEN], char out[ED2K_HASH_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < ED2K_HASH_LEN; i++) {
        out[2 * i] = digits[hash[i] >> 4];
        out[2 * i + 1] = digits[hash[i] & 15];
    }
    out[ED2K_HASH_HEX_LEN] = '\0';
}

int
ed2k_hash_from_hexn(const char *s, size_t len, uint8_t out[ED2K_HASH_LEN])
{
    if (len != ED2K_HASH_HEX_LEN)
        return -1;
    uint8_t tmp[ED2K_HASH_LEN];
    for (int i = 0; i < ED2K_HASH_LEN; i++) {
        int hi = hexval((unsigned char)s[2 * i]);
        int lo = hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        tmp[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(out, tmp, ED2K_HASH_LEN);
    return 0;
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
