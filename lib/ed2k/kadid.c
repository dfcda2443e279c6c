/* kadid.c: the 128-bit Kad id (kadid.h): arithmetic on four 32-bit words,
 * most significant first, and the wire and digest byte orders (§0). */
#include "config.h"

#include "ed2k/kadid.h"

#include <string.h>

#include "util/hex.h"

void
kad_id_from_wire(kad_id_t *id, const uint8_t wire[16])
{
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = wire + 4 * i;
        id->w[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                   (uint32_t)p[3] << 24;
    }
}

void
kad_id_to_wire(const kad_id_t *id, uint8_t wire[16])
{
    for (int i = 0; i < 4; i++) {
        uint8_t *p = wire + 4 * i;
        p[0] = (uint8_t)id->w[i];
        p[1] = (uint8_t)(id->w[i] >> 8);
        p[2] = (uint8_t)(id->w[i] >> 16);
        p[3] = (uint8_t)(id->w[i] >> 24);
    }
}

void
kad_id_from_digest(kad_id_t *id, const uint8_t digest[16])
{
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = digest + 4 * i;
        id->w[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
                   (uint32_t)p[3];
    }
}

void
kad_id_to_digest(const kad_id_t *id, uint8_t digest[16])
{
    for (int i = 0; i < 4; i++) {
        uint8_t *p = digest + 4 * i;
        p[0] = (uint8_t)(id->w[i] >> 24);
        p[1] = (uint8_t)(id->w[i] >> 16);
        p[2] = (uint8_t)(id->w[i] >> 8);
        p[3] = (uint8_t)id->w[i];
    }
}

void
kad_id_xor(kad_id_t *out, const kad_id_t *a, const kad_id_t *b)
{
    for (int i = 0; i < 4; i++)
        out->w[i] = a->w[i] ^ b->w[i];
}

int
kad_id_cmp(const kad_id_t *a, const kad_id_t *b)
{
    for (int i = 0; i < 4; i++)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

int
kad_id_distance_cmp(const kad_id_t *target, const kad_id_t *a, const kad_id_t *b)
{
    kad_id_t da, db;
    kad_id_xor(&da, target, a);
    kad_id_xor(&db, target, b);
    return kad_id_cmp(&da, &db);
}

bool
kad_id_equal(const kad_id_t *a, const kad_id_t *b)
{
    return kad_id_cmp(a, b) == 0;
}

bool
kad_id_is_zero(const kad_id_t *id)
{
    return (id->w[0] | id->w[1] | id->w[2] | id->w[3]) == 0;
}

unsigned
kad_id_bit(const kad_id_t *id, unsigned n)
{
    if (n > 127)
        return 0;
    return (id->w[n / 32] >> (31 - n % 32)) & 1u;
}

void
kad_id_set_bit(kad_id_t *id, unsigned n, unsigned v)
{
    if (n > 127)
        return;
    uint32_t mask = 1u << (31 - n % 32);
    if (v)
        id->w[n / 32] |= mask;
    else
        id->w[n / 32] &= ~mask;
}

void
kad_id_to_hex(const kad_id_t *id, char out[KAD_ID_HEX_LEN + 1])
{
    uint8_t d[16];
    kad_id_to_digest(id, d);
    mt_hex_encode(d, sizeof d, out);
    out[KAD_ID_HEX_LEN] = '\0';
}

int
kad_id_from_hex(kad_id_t *id, const char *hex)
{
    uint8_t d[16];
    if (hex == NULL || strlen(hex) != KAD_ID_HEX_LEN ||
        mt_hex_decode(hex, KAD_ID_HEX_LEN, d, sizeof d) != 0)
        return -1;
    kad_id_from_digest(id, d);
    return 0;
}
