/* fuzz_ed2k_obfs.c: fuzz target for the obfuscation handshake decoders
 * (lib/ed2k/obfs.c). The first byte picks the side (bits 0 and 4: client
 * to client initiator or responder, server handshake client or server)
 * and the chunk size the input is fed in; the rest is what the peer sent. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/obfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t hash[16] = { 0xb0, 0xbf, 0x77, 0x08, 0xd0, 0x0e, 0x61, 0xcb,
                                  0x38, 0x74, 0x61, 0x7a, 0x2e, 0xa0, 0x6f, 0x18 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    ed2k_obfs_t o;
    ed2k_obfs_random_t r;
    memset(&r, 0, sizeof r);
    r.marker = 0x17;
    r.pad_len = (uint8_t)(data[0] & 0xE0);
    uint8_t out[ED2K_OBFS_MAX_SERVER_MSG];
    int side = (data[0] & 1) | (data[0] >> 3 & 2);
    if (side == 1)
        ed2k_obfs_initiator_start(&o, hash, &r, out);
    else if (side == 0)
        ed2k_obfs_responder_init(&o, hash, &r);
    else if (side == 3)
        ed2k_obfs_dh_client_start(&o, hash, &r, out);
    else
        ed2k_obfs_dh_server_init(&o, hash, &r);
    size_t step = (size_t)((data[0] >> 1) & 7) + 1;
    size_t off = 1;
    ed2k_obfs_status_t st = ED2K_OBFS_NEED_MORE;
    while (off < size && st == ED2K_OBFS_NEED_MORE) {
        size_t k = size - off < step ? size - off : step;
        size_t used = 0, rlen = 0;
        st = ed2k_obfs_feed(&o, data + off, k, &used, out, &rlen, NULL);
        if (used > k || rlen > ED2K_OBFS_MAX_SERVER_MSG)
            abort();
        if (st == ED2K_OBFS_NEED_MORE && used != k)
            abort();
        if (st == ED2K_OBFS_DONE && side == 0 && rlen != 6 + (size_t)r.pad_len)
            abort();
        off += used;
    }
    if (st == ED2K_OBFS_DONE && off < size) {
        uint8_t buf[256];
        size_t n = size - off < sizeof buf ? size - off : sizeof buf;
        ed2k_obfs_decrypt(&o, buf, data + off, n);
    }
    return 0;
}
