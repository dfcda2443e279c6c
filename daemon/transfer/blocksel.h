/* blocksel.h: which block to ask a source for next: 180 KiB blocks inside
 * one part, finishing started parts first, then the rarest. */
#ifndef MT_DAEMON_BLOCKSEL_H
#define MT_DAEMON_BLOCKSEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/transfer/partfile.h"
#include "daemon/transfer/rangeset.h"

typedef struct blocksel_block {
    uint64_t start, end; /* [start, end) */
} blocksel_block_t;

/* blocksel_pick: the next block to request from one source.
 *   requested      ranges already asked from any source (NULL: none)
 *   source_parts   one byte per ED2K part (pf_part_count), non-zero when
 *                  the source has the part; NULL: it has the whole file
 *   availability   per ED2K part, how many known sources have it (NULL:
 *                  all equal)
 *   allow_requested  end game: bytes in requested may be picked again
 *                  (unrequested bytes still come first)
 * Rules (ed2k-protocol.md §5.6): never a verified part or a filled byte; a
 * block lies inside one part, inside one EMBLOCKSIZE step counted from the
 * part start, and is at most EMBLOCKSIZE long (shorter when the gap is).
 * Parts already started (some bytes filled or requested) come first, then
 * the lowest availability, then the lowest index; inside a part, the lowest
 * offset. Returns 0 with [*start, *end), or -1 when there is nothing this
 * source can give. */
int blocksel_pick(const partfile_t *pf, const rangeset_t *requested, const uint8_t *source_parts,
                  const uint16_t *availability, bool allow_requested, uint64_t *start,
                  uint64_t *end);

/* blocksel_pick_n: up to n blocks at once (a request carries three), by the
 * same rules, never overlapping each other nor anything already in picked
 * (even in the end game: pass the ranges this source already has in
 * flight), and added to picked. Blocks go to out[0..] when out is not
 * NULL. Returns how many were picked (0 .. n). */
int blocksel_pick_n(const partfile_t *pf, const rangeset_t *requested, const uint8_t *source_parts,
                    const uint16_t *availability, bool allow_requested, size_t n,
                    rangeset_t *picked, blocksel_block_t *out);

#endif
