/* aich.h: the AICH hash tree (§6.3) below and around one part: the block
 * hashes of a part, a part's sub-tree root, and the recovery data of one
 * part (OP_AICHANSWER, §5.7): encoded from a file's part roots and the
 * part's block hashes, decoded and verified against a trusted root. */
#ifndef MT_ED2K_AICH_H
#define MT_ED2K_AICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/hash.h"
#include "util/error.h"

struct evbuffer;

/* AICH blocks of a full part: 52 of 184,320 bytes and one of 143,360. */
#define ED2K_AICH_BLOCKS_PER_PART 53
/* Files above this size (aMule's OLD_MAX_FILE_SIZE) carry 32-bit
 * identifiers in their recovery data, smaller ones 16-bit ones. */
#define ED2K_AICH_LARGE_FILE 4290048000ULL

/* ed2k_aich_block_count: AICH blocks in part `part` of a file of size
 * bytes; 0 when the part holds no data. */
size_t ed2k_aich_block_count(uint64_t size, size_t part);

/* ed2k_aich_blocks: the SHA-1 of each 180 KiB block of one part's data
 * (len <= ED2K_PARTSIZE); returns the number of blocks written to out. */
size_t ed2k_aich_blocks(const uint8_t *data, size_t len,
                        uint8_t out[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN]);

/* ed2k_aich_subtree: the root of the tree over n (>= 1) leaf hashes, the
 * tree's node being a left child (is_left) or a right one: a left node
 * gives ceil(n/2) leaves to its left child, a right node floor(n/2). */
void ed2k_aich_subtree(const uint8_t (*leaves)[ED2K_AICH_LEN], size_t n, bool is_left,
                       uint8_t out[ED2K_AICH_LEN]);

/* The hashes of a whole file that recovery data is built from: per data
 * part its sub-tree root as a left and as a right child. */
typedef struct ed2k_aich_parts {
    uint64_t size;
    size_t n;                           /* data parts */
    uint8_t (*left)[ED2K_AICH_LEN];
    uint8_t (*right)[ED2K_AICH_LEN];
} ed2k_aich_parts_t;

/* ed2k_aich_parts_init: room for the parts of a file of size bytes;
 * ed2k_aich_parts_set: part i's roots from its block hashes;
 * ed2k_aich_parts_root: the file's root (every part set);
 * ed2k_aich_parts_clear: frees (accepts a zeroed struct). */
void ed2k_aich_parts_init(ed2k_aich_parts_t *t, uint64_t size);
void ed2k_aich_parts_set(ed2k_aich_parts_t *t, size_t i,
                         const uint8_t (*blocks)[ED2K_AICH_LEN], size_t n_blocks);
void ed2k_aich_parts_root(const ed2k_aich_parts_t *t, uint8_t out[ED2K_AICH_LEN]);
void ed2k_aich_parts_clear(ed2k_aich_parts_t *t);

/* ed2k_aich_recoverable: aMule answers and asks for recovery data only
 * for a part of more than one block (a file over 184,320 bytes whose part
 * starts more than 184,320 bytes before the end). */
bool ed2k_aich_recoverable(uint64_t size, size_t part);

/* ed2k_aich_recovery_encode: the recovery data of part `part` (§5.7, in
 * aMule's order: the siblings on the path from the root down, then the
 * part's block hashes left to right), given all part roots and the
 * part's block hashes. *out is malloc'ed. Returns 0, or -1 with
 * MT_ERR_INVALID when the part is not recoverable or n_blocks is wrong. */
int ed2k_aich_recovery_encode(const ed2k_aich_parts_t *t, size_t part,
                              const uint8_t (*blocks)[ED2K_AICH_LEN], size_t n_blocks,
                              uint8_t **out, size_t *out_len, mt_error_t **err);

/* ed2k_aich_recovery_decode: takes apart the recovery data of part `part`
 * of a file of size bytes, checks that its hashes lead to root, and
 * writes the part's block hashes into blocks (*n_blocks of them).
 * Hashes may come in any order but each expected identifier exactly once.
 * Returns 0, or -1 with MT_ERR_INVALID (truncated or trailing bytes, the
 * wrong identifier width, an unknown or repeated identifier, a missing
 * hash, an unrecoverable part) or MT_ERR_PROTOCOL (well formed, but the
 * hashes do not lead to root). */
int ed2k_aich_recovery_decode(const uint8_t *p, size_t len, uint64_t size, size_t part,
                              const uint8_t root[ED2K_AICH_LEN],
                              uint8_t blocks[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN],
                              size_t *n_blocks, mt_error_t **err);

/* Trusting a root sent by sources (aMule's CAICHHashSet): one vote per
 * address range (ed2k_aich_voter: the /20 of an address in host order);
 * ed2k_aich_trust: given how many ranges sent each of n roots, the index
 * of the root to trust, or -1: the most voted root needs at least
 * ED2K_AICH_TRUST_VOTERS ranges and ED2K_AICH_TRUST_PERCENT of them all. */
#define ED2K_AICH_TRUST_VOTERS 10
#define ED2K_AICH_TRUST_PERCENT 92
uint32_t ed2k_aich_voter(uint32_t ip_host);
long ed2k_aich_trust(const size_t *voters, size_t n);

/* OP_AICHREQUEST (0xC5 0x9B): <file hash 16><part u16><root 20>. */
typedef struct ed2k_aich_request {
    uint8_t hash[ED2K_HASH_LEN];
    uint16_t part;
    uint8_t root[ED2K_AICH_LEN];
} ed2k_aich_request_t;
/* ed2k_aichrequest_decode: exactly 38 bytes (aMule's check), else -1 with
 * MT_ERR_PROTOCOL. */
int ed2k_aichrequest_decode(const uint8_t *p, size_t len, ed2k_aich_request_t *r,
                            mt_error_t **err);
void ed2k_aichrequest_encode(struct evbuffer *out, const ed2k_aich_request_t *r);

/* OP_AICHANSWER (0xC5 0x9C): <file hash 16><part u16><root 20><recovery
 * data>, or the file hash alone when the peer has none (failed). data
 * points into p. Returns 0, or -1 with MT_ERR_PROTOCOL when shorter than
 * the hash, or than part and root when there is more than the hash. */
typedef struct ed2k_aich_answer {
    uint8_t hash[ED2K_HASH_LEN];
    bool failed;
    uint16_t part;
    uint8_t root[ED2K_AICH_LEN];
    const uint8_t *data;
    size_t data_len;
} ed2k_aich_answer_t;
int ed2k_aichanswer_decode(const uint8_t *p, size_t len, ed2k_aich_answer_t *a, mt_error_t **err);
/* ed2k_aichanswer_encode: data NULL sends the failure form. */
void ed2k_aichanswer_encode(struct evbuffer *out, const uint8_t hash[ED2K_HASH_LEN], uint16_t part,
                            const uint8_t root[ED2K_AICH_LEN], const uint8_t *data, size_t len);

#endif
