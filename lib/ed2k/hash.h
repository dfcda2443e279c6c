/* hash.h: eD2K file identification: the MD4 file hash with its part hashes,
 * the AICH (SHA-1 tree) root, hex/base32 helpers and part-count arithmetic. */
#ifndef MT_ED2K_HASH_H
#define MT_ED2K_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define ED2K_PARTSIZE 9728000ULL     /* bytes per eD2K part (§6.1) */
#define ED2K_EMBLOCKSIZE 184320U     /* bytes per AICH leaf block (§6.3) */
#define ED2K_MAX_FILE_SIZE (1ULL << 38) /* 256 GiB, aMule's MAX_FILE_SIZE */
#define ED2K_HASH_LEN 16             /* MD4 digest */
#define ED2K_AICH_LEN 20             /* SHA-1 digest */
#define ED2K_HASH_HEX_LEN 32
#define ED2K_AICH_B32_LEN 32

/* The result of hashing a file. part_hashes is owned by the result: release
 * it with ed2k_hash_result_clear(). */
typedef struct ed2k_hash_result {
    uint64_t size;
    uint8_t file_hash[ED2K_HASH_LEN];
    uint8_t aich_root[ED2K_AICH_LEN];
    /* ed2k_hash_count(size) part hashes, including the MD4-of-nothing
     * hash appended for a non-zero exact multiple of PARTSIZE; NULL and 0
     * for files smaller than PARTSIZE. */
    uint8_t (*part_hashes)[ED2K_HASH_LEN];
    size_t n_part_hashes;
} ed2k_hash_result_t;

typedef struct ed2k_hasher ed2k_hasher_t;

/* ed2k_hasher_new: a streaming hasher; feed it with ed2k_hasher_update() in
 * chunks of any size. Memory use is bounded by one part's block hashes plus
 * 56 bytes per finished part, never by the file's size. */
ed2k_hasher_t *ed2k_hasher_new(void);
void ed2k_hasher_update(ed2k_hasher_t *h, const void *data, size_t len);
/* ed2k_hasher_finish: fills *out (the caller clears it with
 * ed2k_hash_result_clear) and resets h to hash a new file. */
void ed2k_hasher_finish(ed2k_hasher_t *h, ed2k_hash_result_t *out);
/* ed2k_hasher_size: bytes fed since creation or the last finish. */
uint64_t ed2k_hasher_size(const ed2k_hasher_t *h);
void ed2k_hasher_free(ed2k_hasher_t *h);

/* ed2k_hash_result_clear: frees the part hashes; accepts NULL. */
void ed2k_hash_result_clear(ed2k_hash_result_t *r);

/* ed2k_hash_file: hashes the file at path (ed2k_hash_fd on it). Returns 0,
 * or -1 with MT_ERR_IO (message names the path and strerror) or
 * ed2k_hash_fd's errors. */
int ed2k_hash_file(const char *path, ed2k_hash_result_t *out, mt_error_t **err);
/* ed2k_hash_fd: hashes the open file fd, reading it once. A regular file is
 * read with pread from offset 0 to the size fstat gives (its file offset is
 * not moved) by two threads, each hashing whole parts, MD4 and AICH blocks
 * from the same buffer; a file of one part by the caller alone. Anything
 * else (a pipe) is read with read() to its end. Blocks; call it from a
 * worker thread. name is only used in error messages. Returns 0, or -1 with
 * MT_ERR_IO on a read error or when the file ends early (it shrank), or
 * MT_ERR_TOO_LARGE for a regular file over ED2K_MAX_FILE_SIZE. */
int ed2k_hash_fd(int fd, const char *name, ed2k_hash_result_t *out, mt_error_t **err);
/* ed2k_hash_memory: hashes a buffer in one go. */
void ed2k_hash_memory(const void *data, size_t len, ed2k_hash_result_t *out);

/* ed2k_md4: plain MD4 of a buffer. */
void ed2k_md4(const void *data, size_t len, uint8_t out[ED2K_HASH_LEN]);
/* ed2k_parthashes_md4: MD4 of n concatenated part hashes, i.e. the file hash
 * a hash set implies (§6.1). */
void ed2k_parthashes_md4(const uint8_t (*parts)[ED2K_HASH_LEN], size_t n,
                         uint8_t out[ED2K_HASH_LEN]);

/* Part arithmetic (§6.2). ed2k_part_count: ED2K parts = size/PARTSIZE + 1
 * (OP_FILESTATUS bitmaps); ed2k_hash_count: 0 below PARTSIZE, else the part
 * count (OP_HASHSETANSWER); ed2k_data_part_count: parts holding data. */
uint64_t ed2k_part_count(uint64_t size);
uint64_t ed2k_hash_count(uint64_t size);
uint64_t ed2k_data_part_count(uint64_t size);

/* ed2k_hash_to_hex: 32 lower-case hex digits and a NUL into out. */
void ed2k_hash_to_hex(const uint8_t hash[ED2K_HASH_LEN], char out[ED2K_HASH_HEX_LEN + 1]);
/* ed2k_hash_from_hex: exactly 32 hex digits of either case then the end of
 * the string; anything else (length, other characters) returns -1. */
int ed2k_hash_from_hex(const char *hex, uint8_t out[ED2K_HASH_LEN]);
/* ed2k_hash_from_hexn: the same for the len bytes at s (no NUL needed). */
int ed2k_hash_from_hexn(const char *s, size_t len, uint8_t out[ED2K_HASH_LEN]);

/* RFC 4648 base32 without padding. ed2k_base32_encode writes upper case
 * into out, which needs ed2k_base32_len(len) + 1 bytes; returns the length
 * written. ed2k_base32_decode accepts either case, rejects other characters,
 * impossible lengths and non-zero trailing bits; returns the number of bytes
 * decoded or -1 (also when they would not fit in outsize). */
size_t ed2k_base32_len(size_t len);
size_t ed2k_base32_encode(const uint8_t *data, size_t len, char *out);
long ed2k_base32_decode(const char *s, size_t slen, uint8_t *out, size_t outsize);

/* AICH roots as written in links and known.met: 32 upper-case base32
 * characters. from_base32 requires exactly 32 characters (either case). */
void ed2k_aich_to_base32(const uint8_t root[ED2K_AICH_LEN], char out[ED2K_AICH_B32_LEN + 1]);
int ed2k_aich_from_base32(const char *s, size_t len, uint8_t out[ED2K_AICH_LEN]);

#endif
