/* fuzz_ed2k_c2s.c: fuzz target for the client-to-server codecs
 * (lib/ed2k/c2s.c): everything a server sends to a client, over TCP and
 * UDP, and the UDP requests built from fuzzed input. The first byte picks
 * the decoder (byte % 12; 0..6 are the TCP ones of the first corpus). */
#include "config.h"

#include <event2/buffer.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/c2s.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* servstat: a decoded status answer encodes back to what decodes equal. */
static void
servstat(const uint8_t *p, size_t len)
{
    ed2k_servstat_t st, again;
    if (ed2k_globservstatres_decode(p, len, &st, NULL) != 0)
        return;
    struct evbuffer *b = evbuffer_new();
    ed2k_globservstatres_encode(b, &st);
    size_t n = evbuffer_get_length(b);
    uint8_t *q = evbuffer_pullup(b, -1);
    if (n < 2 || q[0] != 0xE3 || q[1] != ED2K_SOP_GLOBSERVSTATRES
        || ed2k_globservstatres_decode(q + 2, n - 2, &again, NULL) != 0
        || memcmp(&st, &again, sizeof st) != 0)
        abort();
    evbuffer_free(b);
}

static bool
same_str(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* serverdesc: a new-form description encodes back to what decodes equal. */
static void
serverdesc(const uint8_t *p, size_t len)
{
    ed2k_serverdesc_t d, again;
    if (ed2k_serverdescres_decode(p, len, &d, NULL) != 0)
        return;
    if (d.has_challenge) {
        struct evbuffer *b = evbuffer_new();
        if (ed2k_serverdescres_encode(b, &d, NULL) != 0)
            abort();
        size_t n = evbuffer_get_length(b);
        uint8_t *q = evbuffer_pullup(b, -1);
        if (ed2k_serverdescres_decode(q + 2, n - 2, &again, NULL) != 0
            || !again.has_challenge || again.challenge != d.challenge
            || !same_str(d.name, again.name) || !same_str(d.description, again.description)
            || !same_str(d.dynip, again.dynip) || !same_str(d.version, again.version)
            || !same_str(d.aux_ports, again.aux_ports))
            abort();
        ed2k_serverdesc_clear(&again);
        evbuffer_free(b);
    }
    ed2k_serverdesc_clear(&d);
}

/* getsources: <flags u16> then (<hash 16><size u64 LE>)*; the datagram
 * must hold exactly what the return value and the flags say. */
static void
getsources(const uint8_t *p, size_t len)
{
    if (len < 2)
        return;
    uint32_t flags = (uint32_t)(p[0] | p[1] << 8);
    size_t n = (len - 2) / 24;
    uint8_t(*hashes)[16] = malloc((n ? n : 1) * sizeof *hashes);
    uint64_t *sizes = malloc((n ? n : 1) * sizeof *sizes);
    for (size_t i = 0; i < n; i++) {
        memcpy(hashes[i], p + 2 + 24 * i, 16);
        uint64_t v = 0;
        for (int k = 7; k >= 0; k--)
            v = v << 8 | p[2 + 24 * i + 16 + k];
        sizes[i] = v;
    }
    struct evbuffer *b = evbuffer_new();
    size_t used = 0;
    size_t put = ed2k_globgetsources_encode(b, (const uint8_t(*)[16])hashes, sizes, n, flags, &used);
    size_t want = 0, counted = 0;
    for (size_t i = 0; i < used; i++) {
        bool big = sizes[i] > 0xFFFFFFFFu;
        if (big && !(flags & ED2K_SRV_UDPFLG_LARGEFILES))
            continue;
        counted++;
        want += 16;
        if (flags & ED2K_SRV_UDPFLG_EXT_GETSOURCES2)
            want += big ? 12 : 4;
    }
    size_t max = (flags & ED2K_SRV_UDPFLG_EXT_GETSOURCES) ? ED2K_GLOBGETSOURCES_MAX : 1;
    if (used > n || put > max || counted != put || (n > 0 && used == 0)
        || evbuffer_get_length(b) != (put ? want + 2 : 0))
        abort();
    evbuffer_free(b);
    free(hashes);
    free(sizes);
}

/* search: <flags u16><large u8><tree>. */
static void
search(const uint8_t *p, size_t len)
{
    if (len < 3)
        return;
    uint32_t flags = (uint32_t)(p[0] | p[1] << 8);
    struct evbuffer *b = evbuffer_new();
    uint8_t op = ed2k_globsearchreq_encode(b, p + 3, len - 3, flags, p[2] & 1);
    size_t n = evbuffer_get_length(b);
    size_t extra = op == ED2K_SOP_GLOBSEARCHREQ3 ? 7 : 0;
    if ((op == 0 && n != 0) || (op != 0 && n != 2 + extra + len - 3))
        abort();
    evbuffer_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    switch (data[0] % 12) {
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
        if (ed2k_foundsources_decode(p, len, data[0] % 12 == 6, &fs, NULL) == 0) {
            if (fs.count > 255)
                abort();
            ed2k_foundsources_clear(&fs);
        }
        ed2k_callbackrequested_t cr;
        ed2k_callbackrequested_decode(p, len, &cr, NULL);
        break;
    }
    case 7:
        servstat(p, len);
        break;
    case 8:
        serverdesc(p, len);
        break;
    case 9: {
        ed2k_foundsources_t *fs = NULL;
        size_t n = 0;
        if (ed2k_globfoundsources_decode(p, len, &fs, &n, NULL) == 0) {
            if (n == 0 || n > len / 17)
                abort();
            for (size_t i = 0; i < n; i++)
                if (fs[i].count > 255)
                    abort();
            ed2k_globfoundsources_free(fs, n);
        } else if (fs != NULL) {
            abort();
        }
        break;
    }
    case 10:
        getsources(p, len);
        break;
    case 11:
        search(p, len);
        break;
    }
    return 0;
}
