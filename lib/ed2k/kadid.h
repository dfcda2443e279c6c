/* kadid.h: the 128-bit Kad id: XOR distance, comparison, bit access, and
 * its two byte forms, the wire form and the digest form (ed2k-protocol.md §0). */
#ifndef MT_ED2K_KADID_H
#define MT_ED2K_KADID_H

#include <stdbool.h>
#include <stdint.h>

/* A Kad id as aMule's CUInt128: w[0] holds the most significant 32 bits.
 * Bit 0 (kad_id_bit) is the most significant bit of w[0]. */
typedef struct kad_id {
    uint32_t w[4];
} kad_id_t;

#define KAD_ID_HEX_LEN 32

/* kad_id_from_wire / to_wire: the form in Kad packets and nodes.dat: four
 * u32 written little-endian, w[0] first (§0). */
void kad_id_from_wire(kad_id_t *id, const uint8_t wire[16]);
void kad_id_to_wire(const kad_id_t *id, uint8_t wire[16]);
/* kad_id_from_digest / to_digest: a 16-byte digest (MD4 keyword hash, file
 * hash, user hash) read as a big-endian 128-bit number, so that on the wire
 * each 4-byte group of the digest is byte-reversed (§0, vectors §11.2). */
void kad_id_from_digest(kad_id_t *id, const uint8_t digest[16]);
void kad_id_to_digest(const kad_id_t *id, uint8_t digest[16]);

/* kad_id_xor: out = a XOR b (the Kademlia distance); out may alias. */
void kad_id_xor(kad_id_t *out, const kad_id_t *a, const kad_id_t *b);
/* kad_id_cmp: <0, 0, >0 as unsigned 128-bit numbers. */
int kad_id_cmp(const kad_id_t *a, const kad_id_t *b);
/* kad_id_distance_cmp: which of a and b is closer to target (<0: a). */
int kad_id_distance_cmp(const kad_id_t *target, const kad_id_t *a, const kad_id_t *b);
bool kad_id_equal(const kad_id_t *a, const kad_id_t *b);
bool kad_id_is_zero(const kad_id_t *id);
/* kad_id_bit: bit n (0 = most significant .. 127), 0 or 1; n > 127: 0. */
unsigned kad_id_bit(const kad_id_t *id, unsigned n);
/* kad_id_set_bit: sets bit n (0 = most significant) to v (0 or 1). */
void kad_id_set_bit(kad_id_t *id, unsigned n, unsigned v);
/* kad_id_to_hex: 32 lower-case hex digits, most significant first (the
 * digest order, as aMule prints ids) and a NUL. */
void kad_id_to_hex(const kad_id_t *id, char out[KAD_ID_HEX_LEN + 1]);
/* kad_id_from_hex: the inverse; -1 unless exactly 32 hex digits. */
int kad_id_from_hex(kad_id_t *id, const char *hex);

#endif
