/* fuzz_ed2k_c2s.c: fuzz target for the client-to-server decoders
 * (lib/ed2k/c2s.c): everything a server sends to a client. The first byte
 * picks the decoder. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/c2s.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    switch (data[0] % 7) {
    case 0: {
        ed2k_idchange_t id;
        ed2k_idchange_decode(p, len, &id, NULL);
        break;
    }
    case 1: {
        const uint8_t *t;
        size_t n;
        ed2k_servermessage_decode(p, len, &t, &n, NULL);
        break;
    }
    case 2: {
        uint32_t u, f;
        ed2k_serverstatus_decode(p, len, &u, &f, NULL);
        break;
    }
    case 3: {
        ed2k_serverident_t si;
        if (ed2k_serverident_decode(p, len, &si, NULL) == 0)
            ed2k_serverident_clear(&si);
        break;
    }
    case 4: {
        ed2k_serverlist_t sl;
        if (ed2k_serverlist_decode(p, len, &sl, NULL) == 0)
            ed2k_serverlist_clear(&sl);
        break;
    }
    case 5:
    case 6: {
        ed2k_foundsources_t fs;
        if (ed2k_foundsources_decode(p, len, data[0] % 7 == 6, &fs, NULL) == 0) {
            if (fs.count > 255)
                abort();
            ed2k_foundsources_clear(&fs);
        }
        ed2k_callbackrequested_t cr;
        ed2k_callbackrequested_decode(p, len, &cr, NULL);
        break;
    }
    }
    return 0;
}
