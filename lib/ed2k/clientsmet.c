/* clientsmet.c: reading clients.met (clientsmet.h), record by record with
 * the bounded reader. */
#include "config.h"

#include "ed2k/clientsmet.h"

#include <stdlib.h>
#include <string.h>

#include "ed2k/packet.h"
#include "util/xalloc.h"

static void
read_credit(ed2k_reader_t *r, bool with_key, ed2k_client_credit_t *c)
{
    uint32_t up_lo, down_lo, up_hi, down_hi;
    uint16_t reserved;
    memset(c, 0, sizeof *c);
    ed2k_read_hash16(r, c->hash);
    ed2k_read_u32(r, &up_lo);
    ed2k_read_u32(r, &down_lo);
    ed2k_read_u32(r, &c->last_seen);
    ed2k_read_u32(r, &up_hi);
    ed2k_read_u32(r, &down_hi);
    ed2k_read_u16(r, &reserved);
    c->uploaded = (uint64_t)up_hi << 32 | up_lo;
    c->downloaded = (uint64_t)down_hi << 32 | down_lo;
    if (!with_key)
        return;
    ed2k_read_u8(r, &c->key_len);
    ed2k_read_bytes(r, c->key, ED2K_CLIENTSMET_MAX_KEY);
    if (c->key_len > ED2K_CLIENTSMET_MAX_KEY)
        c->key_len = 0;
    memset(c->key + c->key_len, 0, ED2K_CLIENTSMET_MAX_KEY - c->key_len);
}

int
ed2k_clientsmet_parse(const uint8_t *p, size_t len, ed2k_client_credit_t **out, size_t *n,
                      mt_error_t **err)
{
    *out = NULL;
    *n = 0;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    uint8_t version;
    uint32_t count;
    if (ed2k_read_u8(&r, &version) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "clients.met: shorter than its header");
        return -1;
    }
    if (version != ED2K_CLIENTSMET_VERSION && version != ED2K_CLIENTSMET_VERSION_29) {
        mt_error_set(err, MT_ERR_UNSUPPORTED, "clients.met: version 0x%02x is not read",
                     version);
        return -1;
    }
    if (ed2k_read_u32(&r, &count) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "clients.met: shorter than its header");
        return -1;
    }
    bool with_key = version == ED2K_CLIENTSMET_VERSION;
    size_t rec = with_key ? ED2K_CLIENTSMET_RECORD_LEN : ED2K_CLIENTSMET_RECORD_LEN_29;
    size_t k = ed2k_reader_remaining(&r) / rec;
    if (k > count)
        k = count;
    if (k > ED2K_CLIENTSMET_MAX)
        k = ED2K_CLIENTSMET_MAX;
    ed2k_client_credit_t *v = xcalloc(k ? k : 1, sizeof *v);
    for (size_t i = 0; i < k; i++)
        read_credit(&r, with_key, &v[i]);
    *out = v;
    *n = k;
    return 0;
}
