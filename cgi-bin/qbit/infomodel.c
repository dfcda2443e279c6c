/* infomodel.c: the process's copy of the node's torrents/info rows
 * (infomodel.h): rows found by MD4 in an open-addressing table, kept in
 * the list's order, each as its JSON cut where a computed value goes. */
#include "config.h"

#include "qbit/infomodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

typedef struct {
    char md4[33];
    int64_t added_us, added_s, completed_s;
    long long priority, queue_pos;
    bool finished, complete_source, active, dead;
    char *state, *category;
    char *text; /* the pieces between the computed values, back to back */
    size_t *cut; /* n_dyn + 1 piece ends in text */
} row_t;

/* the mark of a removed row's slot: probing goes on past it */
static row_t tomb;

struct qbit_infomodel {
    qbit_infopart_t *parts;
    size_t n_parts, n_dyn;
    row_t **rows; /* the list's order once !order_dirty; dead ones until compacted */
    size_t n, cap;
    row_t **slots; /* cap_slots (a power of two): NULL free, &tomb removed */
    size_t cap_slots, used_slots; /* used: rows and tombs */
    bool order_dirty, holes;
    char *scratch;
    size_t scratch_cap;
};

static uint64_t
key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

qbit_infomodel_t *
qbit_infomodel_new(const qbit_infopart_t *parts, size_t n)
{
    qbit_infomodel_t *m = xcalloc(1, sizeof *m);
    m->parts = xcalloc(n > 0 ? n : 1, sizeof *m->parts);
    memcpy(m->parts, parts, n * sizeof *parts);
    m->n_parts = n;
    for (size_t i = 0; i < n; i++)
        m->n_dyn += parts[i].dynamic;
    m->cap_slots = 1024;
    m->slots = xcalloc(m->cap_slots, sizeof *m->slots);
    return m;
}

static void
row_free(row_t *r)
{
    if (r == NULL)
        return;
    free(r->state);
    free(r->category);
    free(r->text);
    free(r->cut);
    free(r);
}

void
qbit_infomodel_free(qbit_infomodel_t *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++)
        row_free(m->rows[i]);
    free(m->rows);
    free(m->slots);
    free(m->parts);
    free(m->scratch);
    free(m);
}

/* slot_of: the slot holding md4's row, or NULL. */
static row_t **
slot_of(const qbit_infomodel_t *m, const char *md4)
{
    size_t i = (size_t)key_hash(md4) & (m->cap_slots - 1);
    for (; m->slots[i] != NULL; i = (i + 1) & (m->cap_slots - 1))
        if (m->slots[i] != &tomb && strcmp(m->slots[i]->md4, md4) == 0)
            return &m->slots[i];
    return NULL;
}

static void
slot_insert(qbit_infomodel_t *m, row_t *r)
{
    size_t i = (size_t)key_hash(r->md4) & (m->cap_slots - 1);
    while (m->slots[i] != NULL && m->slots[i] != &tomb)
        i = (i + 1) & (m->cap_slots - 1);
    if (m->slots[i] == NULL)
        m->used_slots++;
    m->slots[i] = r;
}

/* reindex: the table rebuilt for the live rows, without tombs, with room
 * for one more. */
static void
reindex(qbit_infomodel_t *m)
{
    size_t live = 0;
    for (size_t i = 0; i < m->n; i++)
        live += !m->rows[i]->dead;
    while ((live + 1) * 2 > m->cap_slots)
        m->cap_slots *= 2;
    free(m->slots);
    m->slots = xcalloc(m->cap_slots, sizeof *m->slots);
    m->used_slots = 0;
    for (size_t i = 0; i < m->n; i++)
        if (!m->rows[i]->dead)
            slot_insert(m, m->rows[i]);
}

/* compact: the dead rows dropped from the list (the table no longer
 * points at them). */
static void
compact(qbit_infomodel_t *m)
{
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (m->rows[i]->dead)
            row_free(m->rows[i]);
        else
            m->rows[k++] = m->rows[i];
    }
    m->n = k;
    m->holes = false;
}

/* set_text: r's pieces from the row's segments: "{", the members, "}",
 * cut before each computed value. */
static void
set_text(const qbit_infomodel_t *m, row_t *r, const qbit_inforow_t *in)
{
    size_t cap = 2;
    for (size_t p = 0, s = 0; p < m->n_parts; p++)
        cap += 4 + (m->parts[p].dynamic ? strlen(m->parts[p].key) : in->seg_len[s++]);
    free(r->text);
    free(r->cut);
    r->text = xmalloc(cap);
    r->cut = xcalloc(m->n_dyn + 1, sizeof *r->cut);
    size_t len = 0, k = 0;
    bool any = false;
    r->text[len++] = '{';
    for (size_t p = 0, s = 0; p < m->n_parts; p++) {
        if (m->parts[p].dynamic) {
            len += (size_t)sprintf(r->text + len, "%s\"%s\":", any ? "," : "", m->parts[p].key);
            r->cut[k++] = len;
            any = true;
            continue;
        }
        const char *seg = in->segs[s];
        size_t sl = in->seg_len[s++];
        if (sl < 2 || seg[0] != '{' || seg[sl - 1] != '}' || sl == 2)
            continue; /* no members */
        if (any)
            r->text[len++] = ',';
        memcpy(r->text + len, seg + 1, sl - 2);
        len += sl - 2;
        any = true;
    }
    r->text[len++] = '}';
    r->cut[k] = len;
}

void
qbit_infomodel_put(qbit_infomodel_t *m, const qbit_inforow_t *in)
{
    row_t **slot = slot_of(m, in->md4);
    row_t *r;
    if (slot != NULL) {
        r = *slot;
        if (r->added_us != in->added_us || r->priority != in->priority ||
            r->finished != in->finished)
            m->order_dirty = true;
        free(r->state);
        free(r->category);
    } else {
        if ((m->used_slots + 1) * 2 > m->cap_slots)
            reindex(m);
        r = xcalloc(1, sizeof *r);
        snprintf(r->md4, sizeof r->md4, "%s", in->md4);
        if (m->n == m->cap) {
            m->cap = m->cap > 0 ? m->cap * 2 : 256;
            m->rows = xrealloc(m->rows, m->cap * sizeof *m->rows);
        }
        m->rows[m->n++] = r;
        slot_insert(m, r);
        m->order_dirty = true;
    }
    r->added_us = in->added_us;
    r->added_s = in->added_s;
    r->completed_s = in->completed_s;
    r->priority = in->priority;
    r->finished = in->finished;
    r->complete_source = in->complete_source;
    r->active = in->active;
    r->state = xstrdup(in->state);
    r->category = xstrdup(in->category);
    set_text(m, r, in);
}

bool
qbit_infomodel_remove(qbit_infomodel_t *m, const char *md4)
{
    row_t **slot = slot_of(m, md4);
    if (slot == NULL)
        return false;
    (*slot)->dead = true;
    *slot = &tomb;
    m->holes = true;
    m->order_dirty = true;
    return true;
}

void
qbit_infomodel_clear(qbit_infomodel_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        row_free(m->rows[i]);
    m->n = 0;
    memset(m->slots, 0, m->cap_slots * sizeof *m->slots);
    m->used_slots = 0;
    m->holes = false;
    m->order_dirty = false;
}

size_t
qbit_infomodel_count(const qbit_infomodel_t *m)
{
    size_t live = 0;
    for (size_t i = 0; i < m->n; i++)
        live += !m->rows[i]->dead;
    return live;
}

/* the list's order: added_at, then the hash */
static int
cmp_list(const void *a, const void *b)
{
    const row_t *x = *(const row_t *const *)a, *y = *(const row_t *const *)b;
    if (x->added_us != y->added_us)
        return x->added_us < y->added_us ? -1 : 1;
    return strcmp(x->md4, y->md4);
}

/* the queue's order: priority (highest first), added_at, then the hash */
static int
cmp_queue(const void *a, const void *b)
{
    const row_t *x = *(const row_t *const *)a, *y = *(const row_t *const *)b;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return cmp_list(a, b);
}

/* reorder: the list sorted and the queue positions numbered again. */
static void
reorder(qbit_infomodel_t *m)
{
    qsort(m->rows, m->n, sizeof *m->rows, cmp_list);
    row_t **q = xcalloc(m->n > 0 ? m->n : 1, sizeof *q);
    size_t nq = 0;
    for (size_t i = 0; i < m->n; i++) {
        m->rows[i]->queue_pos = 0;
        if (!m->rows[i]->finished)
            q[nq++] = m->rows[i];
    }
    qsort(q, nq, sizeof *q, cmp_queue);
    for (size_t i = 0; i < nq; i++)
        q[i]->queue_pos = (long long)i + 1;
    free(q);
    m->order_dirty = false;
}

/* dyn_value: computed value k of r at now_s, written at out (room for 32
 * bytes plus the state); its length. */
static size_t
dyn_value(const row_t *r, qbit_dyn_t dyn, int64_t now_s, char *out, size_t size)
{
    long long v = 0;
    switch (dyn) {
    case QBIT_DYN_QUEUE_POS:
        v = r->queue_pos;
        break;
    case QBIT_DYN_SEEDING_TIME:
        if (r->finished && r->completed_s >= 0)
            v = now_s - r->completed_s > 0 ? now_s - r->completed_s : 0;
        break;
    case QBIT_DYN_SEEN_COMPLETE:
        if (r->finished)
            v = r->completed_s >= 0 ? r->completed_s : 0;
        else
            v = r->complete_source ? now_s : 0;
        break;
    case QBIT_DYN_TIME_ACTIVE:
        v = now_s - r->added_s > 0 ? now_s - r->added_s : 0;
        break;
    case QBIT_DYN_STATE:
        return (size_t)snprintf(out, size, "\"%s\"", r->state);
    }
    return (size_t)snprintf(out, size, "%lld", v);
}

static void
scratch_reserve(qbit_infomodel_t *m, size_t need)
{
    if (need <= m->scratch_cap)
        return;
    while (m->scratch_cap < need)
        m->scratch_cap = m->scratch_cap > 0 ? m->scratch_cap * 2 : 4096;
    m->scratch = xrealloc(m->scratch, m->scratch_cap);
}

qbit_infolist_t *
qbit_infomodel_render(qbit_infomodel_t *m, int64_t now_s)
{
    if (m->holes)
        compact(m);
    if (m->order_dirty)
        reorder(m);
    qbit_infolist_t *l = qbit_infolist_new();
    for (size_t i = 0; i < m->n; i++) {
        const row_t *r = m->rows[i];
        size_t state_len = strlen(r->state);
        scratch_reserve(m, r->cut[m->n_dyn] + m->n_dyn * (32 + state_len));
        size_t len = 0, from = 0;
        for (size_t k = 0, p = 0; k <= m->n_dyn; k++) {
            memcpy(m->scratch + len, r->text + from, r->cut[k] - from);
            len += r->cut[k] - from;
            from = r->cut[k];
            if (k == m->n_dyn)
                break;
            while (!m->parts[p].dynamic)
                p++;
            len += dyn_value(r, m->parts[p++].dyn, now_s, m->scratch + len, 32 + state_len);
        }
        qbit_infolist_add(l, m->scratch, len, r->md4, r->state, r->active, r->category);
    }
    return l;
}
