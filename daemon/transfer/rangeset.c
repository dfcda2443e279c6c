/* rangeset.c: sorted arrays of disjoint 64-bit ranges with binary-search
 * lookups; the bookkeeping under part files and block selection. */
#include "config.h"

#include "daemon/transfer/rangeset.h"
#include "util/xalloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t start, end;
} range_t;

struct rangeset {
    range_t *r;
    size_t n, cap;
};

rangeset_t *
rangeset_new(void)
{
    return xcalloc(1, sizeof(rangeset_t));
}

void
rangeset_free(rangeset_t *rs)
{
    if (rs == NULL)
        return;
    free(rs->r);
    free(rs);
}

rangeset_t *
rangeset_copy(const rangeset_t *rs)
{
    rangeset_t *c = rangeset_new();
    if (rs != NULL && rs->n > 0) {
        c->r = xmemdup(rs->r, rs->n * sizeof *rs->r);
        c->n = c->cap = rs->n;
    }
    return c;
}

void
rangeset_clear(rangeset_t *rs)
{
    rs->n = 0;
}

/* Index of the first range whose end is >= x (touching counts), or n. */
static size_t
first_end_at_least(const rangeset_t *rs, uint64_t x)
{
    size_t lo = 0, hi = rs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rs->r[mid].end < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first range whose end is > x (the range holding x or the
 * first one after it), or n. */
static size_t
first_end_above(const rangeset_t *rs, uint64_t x)
{
    size_t lo = 0, hi = rs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rs->r[mid].end <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Replaces ranges [i, j) with the k ranges in repl. */
static void
splice(rangeset_t *rs, size_t i, size_t j, const range_t *repl, size_t k)
{
    size_t n = rs->n - (j - i) + k;
    if (n > rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 8;
        while (cap < n)
            cap *= 2;
        rs->r = xreallocarray(rs->r, cap, sizeof *rs->r);
        rs->cap = cap;
    }
    memmove(rs->r + i + k, rs->r + j, (rs->n - j) * sizeof *rs->r);
    memcpy(rs->r + i, repl, k * sizeof *repl);
    rs->n = n;
}

void
rangeset_add(rangeset_t *rs, uint64_t start, uint64_t end)
{
    if (start >= end)
        return;
    /* Ranges i .. j-1 overlap or touch [start, end). */
    size_t i = first_end_at_least(rs, start);
    size_t j = i;
    while (j < rs->n && rs->r[j].start <= end)
        j++;
    range_t m = { start, end };
    if (j > i) {
        if (rs->r[i].start < m.start)
            m.start = rs->r[i].start;
        if (rs->r[j - 1].end > m.end)
            m.end = rs->r[j - 1].end;
    }
    splice(rs, i, j, &m, 1);
}

void
rangeset_remove(rangeset_t *rs, uint64_t start, uint64_t end)
{
    if (start >= end)
        return;
    size_t i = first_end_above(rs, start);
    size_t j = i;
    while (j < rs->n && rs->r[j].start < end)
        j++;
    if (i == j)
        return;
    range_t keep[2];
    size_t k = 0;
    if (rs->r[i].start < start)
        keep[k++] = (range_t){ rs->r[i].start, start };
    if (rs->r[j - 1].end > end)
        keep[k++] = (range_t){ end, rs->r[j - 1].end };
    splice(rs, i, j, keep, k);
}

void
rangeset_add_set(rangeset_t *rs, const rangeset_t *other)
{
    if (other == NULL || other == rs)
        return;
    for (size_t i = 0; i < other->n; i++)
        rangeset_add(rs, other->r[i].start, other->r[i].end);
}

bool
rangeset_contains(const rangeset_t *rs, uint64_t start, uint64_t end)
{
    if (start >= end)
        return true;
    size_t i = first_end_above(rs, start);
    return i < rs->n && rs->r[i].start <= start && rs->r[i].end >= end;
}

bool
rangeset_intersects(const rangeset_t *rs, uint64_t start, uint64_t end)
{
    if (start >= end)
        return false;
    size_t i = first_end_above(rs, start);
    return i < rs->n && rs->r[i].start < end;
}

uint64_t
rangeset_covered(const rangeset_t *rs, uint64_t start, uint64_t end)
{
    uint64_t sum = 0;
    if (start >= end)
        return 0;
    for (size_t i = first_end_above(rs, start); i < rs->n && rs->r[i].start < end; i++) {
        uint64_t s = rs->r[i].start > start ? rs->r[i].start : start;
        uint64_t e = rs->r[i].end < end ? rs->r[i].end : end;
        sum += e - s;
    }
    return sum;
}

uint64_t
rangeset_total(const rangeset_t *rs)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < rs->n; i++)
        sum += rs->r[i].end - rs->r[i].start;
    return sum;
}

bool
rangeset_first_gap(const rangeset_t *rs, uint64_t start, uint64_t end,
                   uint64_t *gap_start, uint64_t *gap_end)
{
    if (start >= end)
        return false;
    size_t i = first_end_above(rs, start);
    uint64_t s = start;
    if (i < rs->n && rs->r[i].start <= s) {
        s = rs->r[i].end; /* start is covered: the gap begins after range i */
        i++;
    }
    if (s >= end)
        return false;
    uint64_t e = end;
    if (i < rs->n && rs->r[i].start < e)
        e = rs->r[i].start;
    *gap_start = s;
    *gap_end = e;
    return true;
}

size_t
rangeset_count(const rangeset_t *rs)
{
    return rs->n;
}

void
rangeset_get(const rangeset_t *rs, size_t i, uint64_t *start, uint64_t *end)
{
    assert(i < rs->n);
    *start = rs->r[i].start;
    *end = rs->r[i].end;
}

bool
rangeset_equal(const rangeset_t *a, const rangeset_t *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->r, b->r, a->n * sizeof *a->r) == 0);
}
