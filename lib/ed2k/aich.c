/* aich.c: the AICH tree around one part (aich.h): block hashes, sub-tree
 * roots, and the recovery data of a part, encoded as aMule sends it and
 * decoded and verified against a trusted root. */
#include "config.h"

#include "ed2k/aich.h"

#include <event2/buffer.h>
#include <nettle/sha1.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/opcodes.h"
#include "ed2k/packet.h"
#include "util/xalloc.h"

/* Deepest path from the root to a block: 15 part levels (2^38 bytes are
 * 28,256 parts) and 6 block levels, with room to spare. */
#define MAX_DEPTH 64

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

/* tree: the root over n leaves whose hash is left[i] as a left child and
 * right[i] as a right one (they differ only for parts, §6.3). */
static void
tree(const uint8_t (*left)[ED2K_AICH_LEN], const uint8_t (*right)[ED2K_AICH_LEN], size_t n,
     bool is_left, uint8_t out[ED2K_AICH_LEN])
{
    if (n == 1) {
        memcpy(out, is_left ? left[0] : right[0], ED2K_AICH_LEN);
        return;
    }
    size_t ln = is_left ? (n + 1) / 2 : n / 2;
    uint8_t l[ED2K_AICH_LEN], r[ED2K_AICH_LEN];
    tree(left, right, ln, true, l);
    tree(left + ln, right + ln, n - ln, false, r);
    sha1_pair(l, r, out);
}

size_t
ed2k_aich_block_count(uint64_t size, size_t part)
{
    uint64_t start = (uint64_t)part * ED2K_PARTSIZE;
    if (start >= size)
        return 0;
    uint64_t len = size - start < ED2K_PARTSIZE ? size - start : ED2K_PARTSIZE;
    return (size_t)((len + ED2K_EMBLOCKSIZE - 1) / ED2K_EMBLOCKSIZE);
}

size_t
ed2k_aich_blocks(const uint8_t *data, size_t len,
                 uint8_t out[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN])
{
    size_t n = 0;
    if (len > ED2K_PARTSIZE)
        len = ED2K_PARTSIZE;
    for (size_t off = 0; off < len || (len == 0 && n == 0); off += ED2K_EMBLOCKSIZE) {
        size_t bl = len - off < ED2K_EMBLOCKSIZE ? len - off : ED2K_EMBLOCKSIZE;
        struct sha1_ctx c;
        sha1_init(&c);
        sha1_update(&c, bl, data + off);
        sha1_digest(&c, ED2K_AICH_LEN, out[n++]);
        if (len == 0)
            break;
    }
    return n;
}

void
ed2k_aich_subtree(const uint8_t (*leaves)[ED2K_AICH_LEN], size_t n, bool is_left,
                  uint8_t out[ED2K_AICH_LEN])
{
    tree(leaves, leaves, n, is_left, out);
}

void
ed2k_aich_parts_init(ed2k_aich_parts_t *t, uint64_t size)
{
    memset(t, 0, sizeof *t);
    t->size = size;
    t->n = size == 0 ? 1 : (size_t)ed2k_data_part_count(size);
    t->left = xcalloc(t->n, ED2K_AICH_LEN);
    t->right = xcalloc(t->n, ED2K_AICH_LEN);
}

void
ed2k_aich_parts_set(ed2k_aich_parts_t *t, size_t i, const uint8_t (*blocks)[ED2K_AICH_LEN],
                    size_t n_blocks)
{
    if (i >= t->n || n_blocks == 0)
        return;
    tree(blocks, blocks, n_blocks, true, t->left[i]);
    tree(blocks, blocks, n_blocks, false, t->right[i]);
}

void
ed2k_aich_parts_root(const ed2k_aich_parts_t *t, uint8_t out[ED2K_AICH_LEN])
{
    tree((const uint8_t (*)[ED2K_AICH_LEN])t->left, (const uint8_t (*)[ED2K_AICH_LEN])t->right,
         t->n, true, out);
}

void
ed2k_aich_parts_clear(ed2k_aich_parts_t *t)
{
    free(t->left);
    free(t->right);
    memset(t, 0, sizeof *t);
}

bool
ed2k_aich_recoverable(uint64_t size, size_t part)
{
    uint64_t start = (uint64_t)part * ED2K_PARTSIZE;
    return size > ED2K_EMBLOCKSIZE && size <= ED2K_MAX_FILE_SIZE && start < size &&
           size - start > ED2K_EMBLOCKSIZE;
}

/* ------------------------------------------------------------ the path */

/* A sibling on the path from the root to the part: its identifier, the
 * parts it covers [a, b) and its side. */
typedef struct {
    uint64_t ident;
    size_t a, b;
    bool is_left;
} sibling_t;

/* The identifiers of the hashes in the recovery data of one part: the
 * root is 1, a child is its parent shifted left plus 1 when it is a left
 * child (aMule's CAICHHashTree identifiers). */
typedef struct {
    sibling_t sib[MAX_DEPTH];
    size_t depth;
    bool part_left;
    uint64_t block_ident[ED2K_AICH_BLOCKS_PER_PART];
    size_t n_blocks;
} aich_path_t;

static void
block_idents(aich_path_t *pt, size_t i, size_t n, bool is_left, uint64_t ident)
{
    if (n == 1) {
        pt->block_ident[i] = ident;
        return;
    }
    size_t ln = is_left ? (n + 1) / 2 : n / 2;
    block_idents(pt, i, ln, true, ident << 1 | 1);
    block_idents(pt, i + ln, n - ln, false, ident << 1);
}

static int
path_build(uint64_t size, size_t part, aich_path_t *pt, mt_error_t **err)
{
    if (!ed2k_aich_recoverable(size, part)) {
        mt_error_set(err, MT_ERR_INVALID, "part %zu of %llu bytes has no AICH recovery data",
                     part, (unsigned long long)size);
        return -1;
    }
    memset(pt, 0, sizeof *pt);
    size_t a = 0, b = (size_t)ed2k_data_part_count(size);
    bool is_left = true;
    uint64_t ident = 1;
    while (b - a > 1) {
        size_t ln = is_left ? (b - a + 1) / 2 : (b - a) / 2;
        sibling_t *s = &pt->sib[pt->depth++];
        if (part < a + ln) {
            *s = (sibling_t){ ident << 1, a + ln, b, false };
            b = a + ln;
            ident = ident << 1 | 1;
            is_left = true;
        } else {
            *s = (sibling_t){ ident << 1 | 1, a, a + ln, true };
            a += ln;
            ident <<= 1;
            is_left = false;
        }
    }
    pt->part_left = is_left;
    pt->n_blocks = ed2k_aich_block_count(size, part);
    block_idents(pt, 0, pt->n_blocks, is_left, ident);
    return 0;
}

/* ----------------------------------------------------------- encoding */

static uint8_t *
put_entry(uint8_t *w, uint64_t ident, bool wide, const uint8_t hash[ED2K_AICH_LEN])
{
    if (wide) {
        *w++ = (uint8_t)ident;
        *w++ = (uint8_t)(ident >> 8);
        *w++ = (uint8_t)(ident >> 16);
        *w++ = (uint8_t)(ident >> 24);
    } else {
        *w++ = (uint8_t)ident;
        *w++ = (uint8_t)(ident >> 8);
    }
    memcpy(w, hash, ED2K_AICH_LEN);
    return w + ED2K_AICH_LEN;
}

static uint8_t *
put_u16(uint8_t *w, size_t v)
{
    *w++ = (uint8_t)v;
    *w++ = (uint8_t)(v >> 8);
    return w;
}

int
ed2k_aich_recovery_encode(const ed2k_aich_parts_t *t, size_t part,
                          const uint8_t (*blocks)[ED2K_AICH_LEN], size_t n_blocks,
                          uint8_t **out, size_t *out_len, mt_error_t **err)
{
    aich_path_t pt;
    if (path_build(t->size, part, &pt, err) != 0)
        return -1;
    if (n_blocks != pt.n_blocks || t->n != ed2k_data_part_count(t->size)) {
        mt_error_set(err, MT_ERR_INVALID, "part %zu has %zu AICH blocks, not %zu", part,
                     pt.n_blocks, n_blocks);
        return -1;
    }
    bool wide = t->size > ED2K_AICH_LARGE_FILE;
    size_t count = pt.depth + pt.n_blocks;
    size_t len = 4 + count * ((wide ? 4 : 2) + ED2K_AICH_LEN);
    uint8_t *buf = xmalloc(len), *w = buf;
    if (wide)
        w = put_u16(w, 0);
    w = put_u16(w, count);
    for (size_t i = 0; i < pt.depth; i++) {
        const sibling_t *s = &pt.sib[i];
        uint8_t h[ED2K_AICH_LEN];
        tree((const uint8_t (*)[ED2K_AICH_LEN])t->left + s->a,
             (const uint8_t (*)[ED2K_AICH_LEN])t->right + s->a, s->b - s->a, s->is_left, h);
        w = put_entry(w, s->ident, wide, h);
    }
    for (size_t i = 0; i < pt.n_blocks; i++)
        w = put_entry(w, pt.block_ident[i], wide, blocks[i]);
    if (!wide)
        w = put_u16(w, 0);
    *out = buf;
    *out_len = (size_t)(w - buf);
    return 0;
}

/* ----------------------------------------------------------- decoding */

/* Where an identifier goes: a sibling (0..depth-1), a block (depth..), or
 * nowhere (-1). */
static long
slot_of(const aich_path_t *pt, uint64_t ident)
{
    for (size_t i = 0; i < pt->depth; i++)
        if (pt->sib[i].ident == ident)
            return (long)i;
    for (size_t i = 0; i < pt->n_blocks; i++)
        if (pt->block_ident[i] == ident)
            return (long)(pt->depth + i);
    return -1;
}

/* read_list: one list of count entries with identifiers of width bytes
 * into the slots; advances *pos. */
static int
read_list(const uint8_t *p, size_t len, size_t *pos, size_t width, const aich_path_t *pt,
          uint8_t (*slots)[ED2K_AICH_LEN], bool *filled, size_t *n_read, mt_error_t **err)
{
    if (len - *pos < 2) {
        mt_error_set(err, MT_ERR_INVALID, "AICH recovery data truncated at %zu", *pos);
        return -1;
    }
    size_t count = (size_t)p[*pos] | (size_t)p[*pos + 1] << 8;
    *pos += 2;
    if (count > (len - *pos) / (width + ED2K_AICH_LEN)) {
        mt_error_set(err, MT_ERR_INVALID, "AICH recovery data: %zu hashes announced, %zu bytes left",
                     count, len - *pos);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t ident = 0;
        for (size_t k = 0; k < width; k++)
            ident |= (uint64_t)p[*pos + k] << (8 * k);
        *pos += width;
        long s = slot_of(pt, ident);
        if (s < 0 || filled[s]) {
            mt_error_set(err, MT_ERR_INVALID, "AICH recovery data: %s identifier %llu",
                         s < 0 ? "unexpected" : "repeated", (unsigned long long)ident);
            return -1;
        }
        memcpy(slots[s], p + *pos, ED2K_AICH_LEN);
        filled[s] = true;
        *pos += ED2K_AICH_LEN;
        (*n_read)++;
    }
    return 0;
}

int
ed2k_aich_recovery_decode(const uint8_t *p, size_t len, uint64_t size, size_t part,
                          const uint8_t root[ED2K_AICH_LEN],
                          uint8_t blocks[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN],
                          size_t *n_blocks, mt_error_t **err)
{
    aich_path_t pt;
    if (path_build(size, part, &pt, err) != 0)
        return -1;
    size_t total = pt.depth + pt.n_blocks;
    uint8_t slots[MAX_DEPTH + ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN];
    bool filled[MAX_DEPTH + ED2K_AICH_BLOCKS_PER_PART] = { false };
    size_t pos = 0, n_read = 0;
    /* aMule reads both lists whatever the file's size; so does this. */
    if (read_list(p, len, &pos, 2, &pt, slots, filled, &n_read, err) != 0 ||
        read_list(p, len, &pos, 4, &pt, slots, filled, &n_read, err) != 0)
        return -1;
    if (pos != len) {
        mt_error_set(err, MT_ERR_INVALID, "AICH recovery data: %zu trailing bytes", len - pos);
        return -1;
    }
    if (n_read != total) {
        mt_error_set(err, MT_ERR_INVALID, "AICH recovery data: %zu hashes, %zu expected", n_read,
                     total);
        return -1;
    }
    uint8_t h[ED2K_AICH_LEN];
    tree((const uint8_t (*)[ED2K_AICH_LEN])slots + pt.depth,
         (const uint8_t (*)[ED2K_AICH_LEN])slots + pt.depth, pt.n_blocks, pt.part_left, h);
    for (size_t i = pt.depth; i-- > 0;) {
        if (pt.sib[i].is_left)
            sha1_pair(slots[i], h, h);
        else
            sha1_pair(h, slots[i], h);
    }
    if (memcmp(h, root, ED2K_AICH_LEN) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "AICH recovery data of part %zu does not match the root",
                     part);
        return -1;
    }
    memcpy(blocks, slots[pt.depth], pt.n_blocks * ED2K_AICH_LEN);
    *n_blocks = pt.n_blocks;
    return 0;
}

/* ------------------------------------------------------------- trust */

uint32_t
ed2k_aich_voter(uint32_t ip_host)
{
    return ip_host & 0xFFFFF000u;
}

long
ed2k_aich_trust(const size_t *voters, size_t n)
{
    size_t total = 0, best = 0;
    for (size_t i = 0; i < n; i++) {
        total += voters[i];
        if (voters[i] > voters[best])
            best = i;
    }
    if (n == 0 || voters[best] < ED2K_AICH_TRUST_VOTERS ||
        100 * voters[best] / total < ED2K_AICH_TRUST_PERCENT)
        return -1;
    return (long)best;
}

/* ------------------------------------------------------------ packets */

int
ed2k_aichrequest_decode(const uint8_t *p, size_t len, ed2k_aich_request_t *r, mt_error_t **err)
{
    memset(r, 0, sizeof *r);
    if (len != ED2K_HASH_LEN + 2 + ED2K_AICH_LEN) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_AICHREQUEST of %zu bytes, expected 38", len);
        return -1;
    }
    memcpy(r->hash, p, ED2K_HASH_LEN);
    r->part = (uint16_t)(p[16] | p[17] << 8);
    memcpy(r->root, p + 18, ED2K_AICH_LEN);
    return 0;
}

void
ed2k_aichrequest_encode(struct evbuffer *out, const ed2k_aich_request_t *r)
{
    uint8_t b[ED2K_HASH_LEN + 2 + ED2K_AICH_LEN];
    memcpy(b, r->hash, ED2K_HASH_LEN);
    b[16] = (uint8_t)r->part;
    b[17] = (uint8_t)(r->part >> 8);
    memcpy(b + 18, r->root, ED2K_AICH_LEN);
    (void)ed2k_packet_append(out, ED2K_PROT_EMULE, ED2K_OP_AICHREQUEST, b, sizeof b, NULL);
}

int
ed2k_aichanswer_decode(const uint8_t *p, size_t len, ed2k_aich_answer_t *a, mt_error_t **err)
{
    memset(a, 0, sizeof *a);
    if (len < ED2K_HASH_LEN || (len > ED2K_HASH_LEN && len < ED2K_HASH_LEN + 2 + ED2K_AICH_LEN)) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_AICHANSWER of %zu bytes", len);
        return -1;
    }
    memcpy(a->hash, p, ED2K_HASH_LEN);
    if (len == ED2K_HASH_LEN) {
        a->failed = true;
        return 0;
    }
    a->part = (uint16_t)(p[16] | p[17] << 8);
    memcpy(a->root, p + 18, ED2K_AICH_LEN);
    a->data = p + 38;
    a->data_len = len - 38;
    return 0;
}

void
ed2k_aichanswer_encode(struct evbuffer *out, const uint8_t hash[ED2K_HASH_LEN], uint16_t part,
                       const uint8_t root[ED2K_AICH_LEN], const uint8_t *data, size_t len)
{
    if (data == NULL) {
        (void)ed2k_packet_append(out, ED2K_PROT_EMULE, ED2K_OP_AICHANSWER, hash, ED2K_HASH_LEN,
                                 NULL);
        return;
    }
    uint8_t *b = xmalloc(38 + len);
    memcpy(b, hash, ED2K_HASH_LEN);
    b[16] = (uint8_t)part;
    b[17] = (uint8_t)(part >> 8);
    memcpy(b + 18, root, ED2K_AICH_LEN);
    memcpy(b + 38, data, len);
    (void)ed2k_packet_append(out, ED2K_PROT_EMULE, ED2K_OP_AICHANSWER, b, 38 + len, NULL);
    free(b);
}
