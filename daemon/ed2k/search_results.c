/* search_results.c: a search's results merged by hash, with the counts of
 * each server that reported them added up. search.c feeds it what the
 * servers send and writes the dirty results to the database. */
#include "config.h"

#include "daemon/ed2k/search_results.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

sres_result_t *
sres_find(const sres_set_t *set, const uint8_t hash[16])
{
    for (size_t i = 0; i < set->n; i++)
        if (memcmp(set->v[i]->r.hash, hash, 16) == 0)
            return set->v[i];
    return NULL;
}

/* reporter: the slot of server ip:port in m (a new one if there is room),
 * or NULL. */
static sres_reporter_t *
reporter(sres_result_t *m, uint32_t ip, uint16_t port)
{
    for (size_t i = 0; i < m->n_rep; i++)
        if (m->rep[i].ip == ip && m->rep[i].port == port)
            return &m->rep[i];
    if (m->n_rep == SRES_MAX_REPORTERS)
        return NULL;
    sres_reporter_t *rp = &m->rep[m->n_rep++];
    rp->ip = ip;
    rp->port = port;
    return rp;
}

static uint32_t
clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

sres_result_t *
sres_merge(sres_set_t *set, ed2k_search_result_t *r, uint32_t ip, uint16_t port)
{
    if (r->size == 0 || r->name == NULL || r->name[0] == '\0')
        return NULL;
    uint32_t sources = r->sources, complete = r->complete_sources;
    sres_result_t *m = sres_find(set, r->hash);
    if (m == NULL) {
        if (set->n >= SRES_MAX_RESULTS)
            return NULL;
        m = xcalloc(1, sizeof *m);
        m->r = *r;
        memset(r, 0, sizeof *r);
        set->v = xreallocarray(set->v, set->n + 1, sizeof *set->v);
        set->v[set->n++] = m;
    }
    sres_reporter_t *rp = reporter(m, ip, port);
    if (rp != NULL) {
        rp->sources = sources;
        rp->complete = complete;
    }
    uint64_t s = 0, c = 0;
    for (size_t i = 0; i < m->n_rep; i++) {
        s += m->rep[i].sources;
        c += m->rep[i].complete;
    }
    m->r.sources = clamp32(s);
    m->r.complete_sources = clamp32(c);
    m->dirty = true;
    return m;
}

void
sres_clear(sres_set_t *set)
{
    for (size_t i = 0; i < set->n; i++) {
        ed2k_search_result_t *r = &set->v[i]->r;
        free(r->name);
        free(r->type);
        free(r->format);
        free(r->artist);
        free(r->album);
        free(r->title);
        free(r->codec);
        free(set->v[i]);
    }
    free(set->v);
    set->v = NULL;
    set->n = 0;
}
