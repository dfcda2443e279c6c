/* rowcache.c: the per-row JSON segments of torrents/info (rowcache.h), in
 * an open-addressing hash table keyed by the row's hash; an entry also
 * holds the row version (PostgreSQL's xmin) it was rendered from. */
#include "config.h"

#include "qbit/rowcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

typedef struct {
    char *key;   /* NULL: free slot */
    char *ver;
    char **segs; /* nseg strings */
    size_t bytes;
} entry_t;

struct qbit_rowcache {
    size_t nseg, max_bytes, bytes;
    size_t cap, n; /* slots (a power of two), used slots */
    entry_t *slots;
};

static uint64_t
key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

qbit_rowcache_t *
qbit_rowcache_new(size_t nseg, size_t max_bytes)
{
    qbit_rowcache_t *c = xcalloc(1, sizeof *c);
    c->nseg = nseg;
    c->max_bytes = max_bytes;
    c->cap = 1024;
    c->slots = xcalloc(c->cap, sizeof *c->slots);
    return c;
}

static void
entry_clear(qbit_rowcache_t *c, entry_t *e)
{
    for (size_t i = 0; e->segs != NULL && i < c->nseg; i++)
        free(e->segs[i]);
    free(e->segs);
    free(e->key);
    free(e->ver);
    memset(e, 0, sizeof *e);
}

static void
clear_all(qbit_rowcache_t *c)
{
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].key != NULL)
            entry_clear(c, &c->slots[i]);
    c->n = 0;
    c->bytes = 0;
}

void
qbit_rowcache_free(qbit_rowcache_t *c)
{
    if (c == NULL)
        return;
    clear_all(c);
    free(c->slots);
    free(c);
}

/* find: key's slot, or the free slot where it would go. */
static entry_t *
find(const qbit_rowcache_t *c, const char *key)
{
    size_t i = (size_t)key_hash(key) & (c->cap - 1);
    while (c->slots[i].key != NULL && strcmp(c->slots[i].key, key) != 0)
        i = (i + 1) & (c->cap - 1);
    return &c->slots[i];
}

const char *const *
qbit_rowcache_get(const qbit_rowcache_t *c, const char *key, const char *ver)
{
    const entry_t *e = find(c, key);
    if (e->key == NULL || (ver != NULL && strcmp(e->ver, ver) != 0))
        return NULL;
    return (const char *const *)e->segs;
}

static void
grow(qbit_rowcache_t *c)
{
    entry_t *old = c->slots;
    size_t old_cap = c->cap;
    c->cap *= 2;
    c->slots = xcalloc(c->cap, sizeof *c->slots);
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key != NULL)
            *find(c, old[i].key) = old[i];
    free(old);
}

void
qbit_rowcache_put(qbit_rowcache_t *c, const char *key, const char *ver,
                  const char *const *segs, const size_t *len)
{
    size_t bytes = strlen(key) + strlen(ver);
    for (size_t i = 0; i < c->nseg; i++)
        bytes += len[i];
    entry_t *e = find(c, key);
    if (e->key != NULL) {
        /* replaced in place: a slot is never emptied alone, so no chain
         * of the open addressing is ever cut */
        c->bytes -= e->bytes;
        for (size_t i = 0; i < c->nseg; i++)
            free(e->segs[i]);
        free(e->ver);
    } else {
        /* rows of downloads long gone stay until the cache is full: then
         * it starts over (every row is fetched once more) */
        if (c->bytes + bytes > c->max_bytes)
            clear_all(c);
        if ((c->n + 1) * 2 > c->cap)
            grow(c);
        e = find(c, key);
        e->key = xstrdup(key);
        e->segs = xcalloc(c->nseg, sizeof *e->segs);
        c->n++;
    }
    e->ver = xstrdup(ver);
    for (size_t i = 0; i < c->nseg; i++) {
        e->segs[i] = xmalloc(len[i] + 1);
        memcpy(e->segs[i], segs[i], len[i]);
        e->segs[i][len[i]] = '\0';
    }
    e->bytes = bytes;
    c->bytes += bytes;
}

size_t
qbit_rowcache_count(const qbit_rowcache_t *c)
{
    return c->n;
}
