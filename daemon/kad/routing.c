/* routing.c: the Kad routing table (routing.h): zones split by the bits of
 * the XOR distance to our id, K-contact bins at the leaves, address caps. */
#include "config.h"

#include "daemon/kad/routing.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* A zone: a leaf holds a bin, an inner zone two halves (sub[b] holds the
 * distances whose bit `level` is b). index is the distance prefix of
 * length level read as a number, saturated: only "< KAD_KK" matters, and a
 * prefix that once reaches KAD_KK never comes back below it. */
typedef struct zone {
    struct zone *sub[2];
    unsigned level;
    uint32_t index;
    kad_rt_contact_t *bin[KAD_K];
    size_t n;
} zone_t;

struct kad_rt {
    kad_id_t me;
    zone_t *root;
    size_t count;
};

static zone_t *
zone_new(unsigned level, uint32_t index)
{
    zone_t *z = xcalloc(1, sizeof *z);
    z->level = level;
    z->index = index;
    return z;
}

static void
zone_free(zone_t *z)
{
    if (z == NULL)
        return;
    zone_free(z->sub[0]);
    zone_free(z->sub[1]);
    for (size_t i = 0; i < z->n; i++)
        free(z->bin[i]);
    free(z);
}

kad_rt_t *
kad_rt_new(const kad_id_t *me)
{
    kad_rt_t *rt = xcalloc(1, sizeof *rt);
    rt->me = *me;
    rt->root = zone_new(0, 0);
    return rt;
}

void
kad_rt_free(kad_rt_t *rt)
{
    if (rt == NULL)
        return;
    zone_free(rt->root);
    free(rt);
}

const kad_id_t *
kad_rt_me(const kad_rt_t *rt)
{
    return &rt->me;
}

/* leaf_for: the leaf whose zone holds distance d. */
static zone_t *
leaf_for(const kad_rt_t *rt, const kad_id_t *d)
{
    zone_t *z = rt->root;
    while (z->sub[0] != NULL)
        z = z->sub[kad_id_bit(d, z->level)];
    return z;
}

static bool
can_split(const zone_t *z)
{
    return z->level < 127 && (z->index < KAD_KK || z->level < KAD_KBASE) && z->n == KAD_K;
}

static void
split(zone_t *z)
{
    for (unsigned b = 0; b < 2; b++) {
        uint32_t idx = z->index > UINT32_MAX / 4 ? UINT32_MAX / 2 : z->index * 2 + b;
        z->sub[b] = zone_new(z->level + 1, idx);
    }
    for (size_t i = 0; i < z->n; i++) {
        zone_t *s = z->sub[kad_id_bit(&z->bin[i]->distance, z->level)];
        s->bin[s->n++] = z->bin[i];
        z->bin[i] = NULL;
    }
    z->n = 0;
}

/* Address caps: walk the table (small: at most a few thousand contacts). */
typedef struct caps {
    uint32_t ip;
    uint16_t port;
    bool lan;
    size_t same_addr, same_subnet;
} caps_t;

static void
count_caps(void *ctx, kad_rt_contact_t *c)
{
    caps_t *k = ctx;
    if (c->c.ip == k->ip && (!k->lan || c->c.udp_port == k->port))
        k->same_addr++;
    if ((c->c.ip & 0xFFFFFF00u) == (k->ip & 0xFFFFFF00u))
        k->same_subnet++;
}

static bool
within_caps(const kad_rt_t *rt, const zone_t *leaf, const kad_contact_t *c, bool lan)
{
    caps_t k = { .ip = c->ip, .port = c->udp_port, .lan = lan };
    kad_rt_foreach(rt, count_caps, &k);
    if (k.same_addr > 0 || (!lan && k.same_subnet >= KAD_SUBNET_PER_TABLE))
        return false;
    if (lan)
        return true;
    size_t in_bin = 0;
    for (size_t i = 0; i < leaf->n; i++)
        if ((leaf->bin[i]->c.ip & 0xFFFFFF00u) == (c->ip & 0xFFFFFF00u))
            in_bin++;
    return in_bin < KAD_SUBNET_PER_BIN;
}

static kad_rt_contact_t *
bin_find(const zone_t *z, const kad_id_t *id)
{
    for (size_t i = 0; i < z->n; i++)
        if (kad_id_equal(&z->bin[i]->c.id, id))
            return z->bin[i];
    return NULL;
}

kad_rt_result_t
kad_rt_add(kad_rt_t *rt, const kad_contact_t *c, bool verified, bool lan, time_t now,
           kad_rt_contact_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (kad_id_equal(&c->id, &rt->me) || c->version < KAD_VERSION_MIN || c->ip == 0 ||
        c->udp_port == 0)
        return KAD_RT_REFUSED;
    kad_id_t d;
    kad_id_xor(&d, &c->id, &rt->me);
    zone_t *z = leaf_for(rt, &d);
    kad_rt_contact_t *e = bin_find(z, &c->id);
    if (e != NULL) {
        if (e->c.ip != c->ip || e->c.udp_port != c->udp_port) {
            /* A verified contact keeps its address: a packet from elsewhere
             * claiming its id proves nothing (aMule refuses the change). */
            if (e->verified && !verified)
                return KAD_RT_REFUSED;
        }
        e->c = *c;
        e->verified = e->verified || verified;
        e->last_seen = now;
        if (out != NULL)
            *out = e;
        return KAD_RT_UPDATED;
    }
    while (z->n == KAD_K && can_split(z)) {
        split(z);
        z = z->sub[kad_id_bit(&d, z->level)];
    }
    if (z->n == KAD_K)
        return KAD_RT_FULL;
    if (!within_caps(rt, z, c, lan))
        return KAD_RT_REFUSED;
    e = xcalloc(1, sizeof *e);
    e->c = *c;
    e->distance = d;
    e->verified = verified;
    e->added = e->last_seen = now;
    z->bin[z->n++] = e;
    rt->count++;
    if (out != NULL)
        *out = e;
    return KAD_RT_ADDED;
}

kad_rt_contact_t *
kad_rt_find(const kad_rt_t *rt, const kad_id_t *id)
{
    kad_id_t d;
    kad_id_xor(&d, id, &rt->me);
    return bin_find(leaf_for(rt, &d), id);
}

typedef struct addr_find {
    uint32_t ip;
    uint16_t port;
    kad_rt_contact_t *hit;
} addr_find_t;

static void
match_addr(void *ctx, kad_rt_contact_t *c)
{
    addr_find_t *a = ctx;
    if (a->hit == NULL && c->c.ip == a->ip && c->c.udp_port == a->port)
        a->hit = c;
}

kad_rt_contact_t *
kad_rt_find_addr(const kad_rt_t *rt, uint32_t ip, uint16_t udp_port)
{
    addr_find_t a = { .ip = ip, .port = udp_port };
    kad_rt_foreach(rt, match_addr, &a);
    return a.hit;
}

bool
kad_rt_remove(kad_rt_t *rt, const kad_id_t *id)
{
    kad_id_t d;
    kad_id_xor(&d, id, &rt->me);
    zone_t *z = leaf_for(rt, &d);
    for (size_t i = 0; i < z->n; i++) {
        if (kad_id_equal(&z->bin[i]->c.id, id)) {
            free(z->bin[i]);
            z->bin[i] = z->bin[--z->n];
            z->bin[z->n] = NULL;
            rt->count--;
            return true;
        }
    }
    return false;
}

static void
zone_foreach(const zone_t *z, void (*fn)(void *, kad_rt_contact_t *), void *ctx)
{
    if (z->sub[0] != NULL) {
        zone_foreach(z->sub[0], fn, ctx);
        zone_foreach(z->sub[1], fn, ctx);
        return;
    }
    for (size_t i = 0; i < z->n; i++)
        fn(ctx, z->bin[i]);
}

void
kad_rt_foreach(const kad_rt_t *rt, void (*fn)(void *ctx, kad_rt_contact_t *c), void *ctx)
{
    zone_foreach(rt->root, fn, ctx);
}

/* Closest: a bounded insertion sort over the whole table. */
typedef struct closest {
    const kad_id_t *target;
    bool verified_only;
    kad_rt_contact_t **out;
    size_t max, n;
} closest_t;

static void
consider(void *ctx, kad_rt_contact_t *c)
{
    closest_t *k = ctx;
    if (k->max == 0 || (k->verified_only && !c->verified))
        return;
    size_t i = k->n < k->max ? k->n : k->max;
    if (i == k->max && kad_id_distance_cmp(k->target, &c->c.id, &k->out[i - 1]->c.id) >= 0)
        return;
    if (i == k->max)
        i--;
    else
        k->n++;
    while (i > 0 && kad_id_distance_cmp(k->target, &c->c.id, &k->out[i - 1]->c.id) < 0) {
        k->out[i] = k->out[i - 1];
        i--;
    }
    k->out[i] = c;
}

size_t
kad_rt_closest(const kad_rt_t *rt, const kad_id_t *target, bool verified_only,
               kad_rt_contact_t **out, size_t max)
{
    closest_t k = { .target = target, .verified_only = verified_only, .out = out, .max = max };
    kad_rt_foreach(rt, consider, &k);
    return k.n;
}

size_t
kad_rt_count(const kad_rt_t *rt)
{
    return rt->count;
}

static void
count_verified(void *ctx, kad_rt_contact_t *c)
{
    if (c->verified)
        (*(size_t *)ctx)++;
}

size_t
kad_rt_count_verified(const kad_rt_t *rt)
{
    size_t n = 0;
    kad_rt_foreach(rt, count_verified, &n);
    return n;
}

static size_t
zone_bins(const zone_t *z)
{
    return z->sub[0] == NULL ? 1 : zone_bins(z->sub[0]) + zone_bins(z->sub[1]);
}

size_t
kad_rt_bins(const kad_rt_t *rt)
{
    return zone_bins(rt->root);
}

static unsigned
zone_depth(const zone_t *z)
{
    if (z->sub[0] == NULL)
        return z->level;
    unsigned a = zone_depth(z->sub[0]), b = zone_depth(z->sub[1]);
    return a > b ? a : b;
}

unsigned
kad_rt_depth(const kad_rt_t *rt)
{
    return zone_depth(rt->root);
}
