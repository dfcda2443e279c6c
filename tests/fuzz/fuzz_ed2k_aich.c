/* fuzz_ed2k_aich.c: libFuzzer target for the AICH recovery-data decoder:
 * the first 8 bytes pick the file size, the next 2 the part, the rest is
 * the recovery data, checked against a fixed root: it must never read out
 * of bounds nor fail without a message. Then a round trip: a tree of
 * made-up block hashes (seeded by the input) for that size, the part's
 * recovery data encoded, decoded back to the same blocks, and refused
 * (with a message) once one byte of it, picked by the input, is flipped. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/aich.h"
#include "util/error.h"
#include "util/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fake_blocks(uint64_t fsize, size_t part, uint8_t seed,
            uint8_t out[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN], size_t *n)
{
    *n = ed2k_aich_block_count(fsize, part);
    for (size_t j = 0; j < *n; j++)
        for (size_t k = 0; k < ED2K_AICH_LEN; k++)
            out[j][k] = (uint8_t)(seed + part * 31 + j * 7 + k);
}

static void
round_trip(uint64_t fsize, size_t part, const uint8_t *data, size_t size)
{
    /* at most 64 parts: a tree of the whole file is built every run */
    if (fsize > 64 * ED2K_PARTSIZE)
        fsize %= 64 * ED2K_PARTSIZE;
    if (!ed2k_aich_recoverable(fsize, part))
        return;
    uint8_t seed = size > 10 ? data[10] : 0;
    ed2k_aich_parts_t t;
    ed2k_aich_parts_init(&t, fsize);
    uint8_t b[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN], mine[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN];
    size_t n, n_mine;
    for (size_t i = 0; i < t.n; i++) {
        fake_blocks(fsize, i, seed, b, &n);
        ed2k_aich_parts_set(&t, i, (const uint8_t (*)[ED2K_AICH_LEN])b, n);
    }
    uint8_t root[ED2K_AICH_LEN];
    ed2k_aich_parts_root(&t, root);
    fake_blocks(fsize, part, seed, mine, &n_mine);
    uint8_t *rd = NULL;
    size_t len = 0;
    if (ed2k_aich_recovery_encode(&t, part, (const uint8_t (*)[ED2K_AICH_LEN])mine, n_mine, &rd,
                                  &len, NULL) != 0)
        abort();
    uint8_t got[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN];
    size_t n_got = 0;
    if (ed2k_aich_recovery_decode(rd, len, fsize, part, root, got, &n_got, NULL) != 0 ||
        n_got != n_mine || memcmp(got, mine, n_mine * ED2K_AICH_LEN) != 0) {
        fprintf(stderr, "fuzz_ed2k_aich: round trip failed (size %llu part %zu)\n",
                (unsigned long long)fsize, part);
        abort();
    }
    size_t at = (size > 11 ? data[11] | (size > 12 ? data[12] << 8 : 0) : 0) % len;
    rd[at] ^= (uint8_t)(size > 13 && data[13] != 0 ? data[13] : 1);
    mt_error_t *err = NULL;
    if (ed2k_aich_recovery_decode(rd, len, fsize, part, root, got, &n_got, &err) == 0 ||
        err == NULL || err->message[0] == '\0') {
        fprintf(stderr, "fuzz_ed2k_aich: a flipped byte %zu of %zu accepted\n", at, len);
        abort();
    }
    mt_error_free(err);
    free(rd);
    ed2k_aich_parts_clear(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 10)
        return 0;
    uint64_t fsize = 0;
    for (int i = 0; i < 8; i++)
        fsize |= (uint64_t)data[i] << (8 * i);
    fsize %= ED2K_MAX_FILE_SIZE + 1;
    size_t part = (size_t)(data[8] | data[9] << 8);
    static const uint8_t root[ED2K_AICH_LEN] = { 0x42 };
    uint8_t blocks[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN];
    size_t n = 0;
    mt_error_t *err = NULL;
    int rc = ed2k_aich_recovery_decode(data + 10, size - 10, fsize, part, root, blocks, &n, &err);
    if (rc == 0) {
        if (err != NULL || n != ed2k_aich_block_count(fsize, part) || n == 0)
            abort();
    } else if (err == NULL || err->message == NULL || err->message[0] == '\0') {
        fprintf(stderr, "fuzz_ed2k_aich: failure without a message\n");
        abort();
    }
    mt_error_free(err);
    round_trip(fsize, part, data, size);
    return 0;
}
