/* index.c: the local index of others' publishes (index.h): a flat array
 * scanned linearly, which its bound keeps cheap. */
#include "config.h"

#include "daemon/kad/index.h"

#include <stdlib.h>

#include "util/xalloc.h"

typedef struct entry {
    kad_index_kind_t kind;
    kad_id_t target, id;
    uint32_t ip;
    time_t added, expires;
    ed2k_taglist_t *tags;
} entry_t;

struct kad_index {
    entry_t *v;
    size_t n, max;
};

kad_index_t *
kad_index_new(size_t max)
{
    kad_index_t *x = xcalloc(1, sizeof *x);
    x->max = max > 0 ? max : KAD_INDEX_MAX;
    x->v = xcalloc(x->max, sizeof x->v[0]);
    return x;
}

void
kad_index_free(kad_index_t *x)
{
    if (x == NULL)
        return;
    for (size_t i = 0; i < x->n; i++)
        ed2k_taglist_free(x->v[i].tags);
    free(x->v);
    free(x);
}

static void
drop(kad_index_t *x, size_t i)
{
    ed2k_taglist_free(x->v[i].tags);
    x->v[i] = x->v[--x->n];
}

static bool
under(const entry_t *e, kad_index_kind_t kind, const kad_id_t *target)
{
    return e->kind == kind && kad_id_equal(&e->target, target);
}

static ed2k_taglist_t *
copy_tags(const ed2k_taglist_t *tags)
{
    ed2k_taglist_t *l = ed2k_taglist_new();
    for (size_t i = 0; tags != NULL && i < ed2k_taglist_count(tags); i++)
        ed2k_taglist_add_copy(l, ed2k_taglist_get(tags, i));
    return l;
}

unsigned
kad_index_add(kad_index_t *x, kad_index_kind_t kind, const kad_id_t *target, const kad_id_t *id,
              uint32_t ip, const ed2k_taglist_t *tags, time_t now, time_t ttl)
{
    size_t same = 0, oldest_here = SIZE_MAX, oldest = 0;
    for (size_t i = 0; i < x->n; i++) {
        entry_t *e = &x->v[i];
        if (under(e, kind, target) && kad_id_equal(&e->id, id)) {
            drop(x, i--); /* replaced below */
            continue;
        }
        if (under(e, kind, target)) {
            same++;
            if (oldest_here == SIZE_MAX || e->added < x->v[oldest_here].added)
                oldest_here = i;
        }
        if (e->added < x->v[oldest].added)
            oldest = i;
    }
    if (same >= KAD_INDEX_PER_TARGET) {
        drop(x, oldest_here);
        same--;
    } else if (x->n == x->max) {
        drop(x, oldest);
    }
    x->v[x->n++] = (entry_t){ .kind = kind, .target = *target, .id = *id, .ip = ip,
                              .added = now, .expires = now + ttl, .tags = copy_tags(tags) };
    unsigned load = (unsigned)((same + 1) * 100 / KAD_INDEX_PER_TARGET);
    return load == 0 ? 1 : load;
}

size_t
kad_index_find(const kad_index_t *x, kad_index_kind_t kind, const kad_id_t *target, time_t now,
               size_t start, kad_search_answer_t *out, size_t max)
{
    size_t n = 0, seen = 0;
    for (size_t i = 0; i < x->n && n < max; i++) {
        const entry_t *e = &x->v[i];
        if (!under(e, kind, target) || e->expires <= now)
            continue;
        if (seen++ < start)
            continue;
        out[n].id = e->id;
        out[n].tags = e->tags;
        n++;
    }
    return n;
}

void
kad_index_expire(kad_index_t *x, time_t now)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->v[i].expires <= now)
            drop(x, i--);
}

size_t
kad_index_count(const kad_index_t *x, kad_index_kind_t kind)
{
    size_t n = 0;
    for (size_t i = 0; i < x->n; i++)
        n += x->v[i].kind == kind;
    return n;
}
