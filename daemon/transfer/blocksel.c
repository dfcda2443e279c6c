/* blocksel.c: block selection for the download engine: scans the parts a
 * source has and returns the first free block of the best part. */
#include "config.h"

#include "daemon/transfer/blocksel.h"

#define MAX_EXCLUDE 3

/* The first run of bytes in [x, end) covered by none of the sets; false
 * when there is none. */
static bool
first_free(const rangeset_t *const *sets, size_t n_sets, uint64_t x, uint64_t end,
           uint64_t *run_start, uint64_t *run_end)
{
    uint64_t e;
again:
    e = end;
    for (size_t k = 0; k < n_sets; k++) {
        uint64_t gs, ge;
        if (!rangeset_first_gap(sets[k], x, end, &gs, &ge))
            return false;
        if (gs != x) {
            x = gs; /* x was covered by this set: restart from the gap */
            goto again;
        }
        if (ge < e)
            e = ge;
    }
    *run_start = x;
    *run_end = e;
    return true;
}

static int
pick(const partfile_t *pf, const rangeset_t *requested, const uint8_t *source_parts,
     const uint16_t *availability, bool skip_requested, const rangeset_t *picked, uint64_t *start,
     uint64_t *end)
{
    const rangeset_t *sets[MAX_EXCLUDE];
    size_t n_sets = 0;
    sets[n_sets++] = pf_filled(pf);
    if (skip_requested && requested != NULL)
        sets[n_sets++] = requested;
    if (picked != NULL)
        sets[n_sets++] = picked;

    bool found = false;
    int best_started = 0;
    unsigned best_avail = 0;
    uint64_t best_s = 0, best_e = 0, best_ps = 0, best_pe = 0;
    size_t n_parts = pf_data_part_count(pf);
    for (size_t i = 0; i < n_parts; i++) {
        if (pf_is_part_verified(pf, i) || (source_parts != NULL && source_parts[i] == 0))
            continue;
        uint64_t ps, pe;
        pf_part_range(pf, i, &ps, &pe);
        int started = rangeset_intersects(pf_filled(pf), ps, pe) ||
                      (requested != NULL && rangeset_intersects(requested, ps, pe)) ||
                      (picked != NULL && rangeset_intersects(picked, ps, pe));
        unsigned avail = availability != NULL ? availability[i] : 0;
        /* Parts come in index order, so an equal key never wins. */
        if (found && (started < best_started ||
                      (started == best_started && avail >= best_avail)))
            continue;
        uint64_t s, e;
        if (!first_free(sets, n_sets, ps, pe, &s, &e))
            continue;
        found = true;
        best_started = started;
        best_avail = avail;
        best_s = s;
        best_e = e;
        best_ps = ps;
        best_pe = pe;
    }
    if (!found)
        return -1;
    /* Clip to the EMBLOCKSIZE step holding the start (§5.6: aMule asks for
     * 180 KiB blocks counted from the part start). */
    uint64_t step_end = best_ps + ((best_s - best_ps) / ED2K_EMBLOCKSIZE + 1) * ED2K_EMBLOCKSIZE;
    if (step_end > best_pe)
        step_end = best_pe;
    *start = best_s;
    *end = best_e < step_end ? best_e : step_end;
    return 0;
}

int
blocksel_pick(const partfile_t *pf, const rangeset_t *requested, const uint8_t *source_parts,
              const uint16_t *availability, bool allow_requested, uint64_t *start, uint64_t *end)
{
    if (pick(pf, requested, source_parts, availability, true, NULL, start, end) == 0)
        return 0;
    if (!allow_requested || requested == NULL)
        return -1;
    return pick(pf, requested, source_parts, availability, false, NULL, start, end);
}

int
blocksel_pick_n(const partfile_t *pf, const rangeset_t *requested, const uint8_t *source_parts,
                const uint16_t *availability, bool allow_requested, size_t n, rangeset_t *picked,
                blocksel_block_t *out)
{
    int count = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t s, e;
        if (pick(pf, requested, source_parts, availability, true, picked, &s, &e) != 0 &&
            (!allow_requested || requested == NULL ||
             pick(pf, requested, source_parts, availability, false, picked, &s, &e) != 0))
            break;
        rangeset_add(picked, s, e);
        if (out != NULL)
            out[count] = (blocksel_block_t){ s, e };
        count++;
    }
    return count;
}
