/* infolist.c: the rendered torrents/info list and the answers cut from it
 * (infolist.h). The body is kept as "[r0,r1,...]" at all times; an answer
 * is "[" then its rows, each after a comma but the first, then "]", each
 * piece a range of the body: a row's own comma is the byte before it. */
#include "config.h"

#include "qbit/infolist.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

typedef struct {
    size_t start, end; /* the row's "{...}" in the body */
    char md4[33];
    char *state, *category;
    bool active;
} row_t;

struct qbit_infolist {
    char *body;
    size_t len, cap;
    row_t *rows;
    size_t n, cap_rows;
};

qbit_infolist_t *
qbit_infolist_new(void)
{
    qbit_infolist_t *l = xcalloc(1, sizeof *l);
    l->cap = 64;
    l->body = xmalloc(l->cap);
    memcpy(l->body, "[]", 2);
    l->len = 2;
    return l;
}

void
qbit_infolist_free(qbit_infolist_t *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->rows[i].state);
        free(l->rows[i].category);
    }
    free(l->rows);
    free(l->body);
    free(l);
}

static void
body_add(qbit_infolist_t *l, const char *p, size_t len)
{
    if (l->len + len > l->cap) {
        while (l->len + len > l->cap)
            l->cap *= 2;
        l->body = xrealloc(l->body, l->cap);
    }
    memcpy(l->body + l->len, p, len);
    l->len += len;
}

void
qbit_infolist_add(qbit_infolist_t *l, const char *json, size_t len, const char *md4,
                  const char *state, bool active, const char *category)
{
    if (l->n == l->cap_rows) {
        l->cap_rows = l->cap_rows > 0 ? l->cap_rows * 2 : 256;
        l->rows = xrealloc(l->rows, l->cap_rows * sizeof *l->rows);
    }
    l->len--; /* the closing "]" */
    if (l->n > 0)
        body_add(l, ",", 1);
    row_t *r = &l->rows[l->n++];
    memset(r, 0, sizeof *r);
    r->start = l->len;
    body_add(l, json, len);
    r->end = l->len;
    body_add(l, "]", 1);
    strncpy(r->md4, md4, sizeof r->md4 - 1);
    r->state = xstrdup(state);
    r->category = xstrdup(category);
    r->active = active;
}

const char *
qbit_infolist_body(const qbit_infolist_t *l, size_t *len)
{
    *len = l->len;
    return l->body;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* matches: whether row r is selected by sel (md4s: sel's, sorted). */
static bool
matches(const row_t *r, const qbit_infosel_t *sel, const char **md4s)
{
    if (sel->states != NULL) {
        bool in = false;
        for (size_t i = 0; i < sel->n_states && !in; i++)
            in = strcmp(r->state, sel->states[i]) == 0;
        if (!in)
            return false;
    }
    if (sel->activity != 0 && (sel->activity == 1) != r->active)
        return false;
    if (sel->category != NULL && strcmp(r->category, sel->category) != 0)
        return false;
    if (md4s != NULL) {
        const char *k = r->md4;
        if (bsearch(&k, md4s, sel->n_md4, sizeof *md4s, cmp_str) == NULL)
            return false;
    }
    return true;
}

typedef struct {
    qbit_range_t *v;
    size_t n, cap;
} ranges_t;

/* push: appends a range, merged into the last one when it follows it. */
static void
push(ranges_t *rs, size_t off, size_t len)
{
    if (rs->n > 0 && rs->v[rs->n - 1].off + rs->v[rs->n - 1].len == off) {
        rs->v[rs->n - 1].len += len;
        return;
    }
    if (rs->n == rs->cap) {
        rs->cap = rs->cap > 0 ? rs->cap * 2 : 16;
        rs->v = xrealloc(rs->v, rs->cap * sizeof *rs->v);
    }
    rs->v[rs->n++] = (qbit_range_t){ off, len };
}

/* select_all: the answer when nothing filters: rows [off, end) are one run
 * of the body. */
static qbit_range_t *
select_all(const qbit_infolist_t *l, const qbit_infosel_t *sel, size_t *n)
{
    long long off = sel->offset, total = (long long)l->n;
    if (off < 0)
        off = total + off < 0 ? 0 : total + off;
    long long end = sel->limit > 0 && off + sel->limit < total ? off + sel->limit : total;
    ranges_t rs = { 0 };
    push(&rs, 0, 1); /* "[" */
    if (off < end)
        push(&rs, l->rows[off].start, l->rows[end - 1].end - l->rows[off].start);
    push(&rs, l->len - 1, 1); /* "]" */
    *n = rs.n;
    return rs.v;
}

qbit_range_t *
qbit_infolist_select(const qbit_infolist_t *l, const qbit_infosel_t *sel, size_t *n)
{
    if (sel->states == NULL && sel->activity == 0 && sel->category == NULL && sel->md4 == NULL)
        return select_all(l, sel, n);
    const char **md4s = NULL;
    if (sel->md4 != NULL) {
        md4s = xcalloc(sel->n_md4 > 0 ? sel->n_md4 : 1, sizeof *md4s);
        memcpy(md4s, sel->md4, sel->n_md4 * sizeof *md4s);
        qsort(md4s, sel->n_md4, sizeof *md4s, cmp_str);
    }
    size_t *picked = xcalloc(l->n > 0 ? l->n : 1, sizeof *picked);
    size_t np = 0;
    for (size_t k = 0; k < l->n; k++) {
        if (matches(&l->rows[k], sel, md4s))
            picked[np++] = k;
    }
    free(md4s);
    /* qBittorrent: a negative offset counts from the end */
    long long off = sel->offset, total = (long long)np;
    if (off < 0)
        off = total + off < 0 ? 0 : total + off;
    long long end = sel->limit > 0 && off + sel->limit < total ? off + sel->limit : total;
    ranges_t rs = { 0 };
    push(&rs, 0, 1); /* "[" */
    for (long long k = off; k < end; k++) {
        const row_t *r = &l->rows[picked[k]];
        /* rows are picked in order: a later one has a comma before it */
        if (k > off)
            push(&rs, r->start - 1, 1);
        push(&rs, r->start, r->end - r->start);
    }
    push(&rs, l->len - 1, 1); /* "]" */
    free(picked);
    *n = rs.n;
    return rs.v;
}
