/* rangeset.h: a set of half-open 64-bit byte ranges [start, end), kept
 * sorted and merged; what a download has, what was requested, what is left. */
#ifndef MT_DAEMON_RANGESET_H
#define MT_DAEMON_RANGESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ranges are stored in one sorted array of disjoint, non-adjacent
 * ranges (adding [0,5) then [5,9) leaves [0,9)); lookups are binary
 * searches, updates move the tail of the array. An empty range (start >=
 * end) is a no-op everywhere. */
typedef struct rangeset rangeset_t;

/* rangeset_new: an empty set; free with rangeset_free (accepts NULL). */
rangeset_t *rangeset_new(void);
void rangeset_free(rangeset_t *rs);
/* rangeset_copy: a new set with the same ranges (NULL gives an empty set). */
rangeset_t *rangeset_copy(const rangeset_t *rs);
void rangeset_clear(rangeset_t *rs);

/* rangeset_add: adds [start, end), merging with overlapping or touching
 * ranges. rangeset_remove: removes [start, end), splitting a range that
 * contains it. */
void rangeset_add(rangeset_t *rs, uint64_t start, uint64_t end);
void rangeset_remove(rangeset_t *rs, uint64_t start, uint64_t end);
/* rangeset_add_set: adds every range of other (a union). */
void rangeset_add_set(rangeset_t *rs, const rangeset_t *other);

/* rangeset_contains: true when every byte of [start, end) is in the set
 * (true for an empty range). */
bool rangeset_contains(const rangeset_t *rs, uint64_t start, uint64_t end);
/* rangeset_intersects: true when some byte of [start, end) is in the set. */
bool rangeset_intersects(const rangeset_t *rs, uint64_t start, uint64_t end);
/* rangeset_covered: how many bytes of [start, end) are in the set. */
uint64_t rangeset_covered(const rangeset_t *rs, uint64_t start, uint64_t end);
/* rangeset_total: how many bytes the set holds. */
uint64_t rangeset_total(const rangeset_t *rs);
/* rangeset_first_gap: the first maximal run of bytes inside [start, end)
 * that is not in the set, as [*gap_start, *gap_end); false when [start, end)
 * is fully covered (or empty). */
bool rangeset_first_gap(const rangeset_t *rs, uint64_t start, uint64_t end,
                        uint64_t *gap_start, uint64_t *gap_end);

/* rangeset_count / rangeset_get: the i-th range (0 <= i < count) in
 * ascending order. */
size_t rangeset_count(const rangeset_t *rs);
void rangeset_get(const rangeset_t *rs, size_t i, uint64_t *start, uint64_t *end);
/* rangeset_equal: the same bytes in both sets. */
bool rangeset_equal(const rangeset_t *a, const rangeset_t *b);

#endif
