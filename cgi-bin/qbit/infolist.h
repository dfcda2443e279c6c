/* infolist.h: one rendering of a node's whole torrents/info list (every
 * row's JSON, in the default order, with what the filters look at), from
 * which the answers to the variants of the request (filter, category,
 * hashes, limit, offset) are cut in C: each as byte ranges of the
 * list's body, so an answer is a copy of those ranges or the web server
 * sending them from the body's file. Pure: no PostgreSQL, no I/O. */
#ifndef MULETEER_QBIT_INFOLIST_H
#define MULETEER_QBIT_INFOLIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct qbit_infolist qbit_infolist_t;

/* A byte range of the list's body. */
typedef struct {
    size_t off, len;
} qbit_range_t;

/* What selects rows, as torrents/info's parameters say (NULL: any). */
typedef struct {
    const char *const *states; /* qBittorrent states, n_states of them */
    size_t n_states;
    int activity;         /* 0 any, 1 transferring, 2 not transferring */
    const char *category; /* exact; "" uncategorised */
    const char *const *md4; /* n_md4 MD4s (lowercase hex) */
    size_t n_md4;
    long long limit, offset; /* limit <= 0: all; offset < 0 counts from the end */
} qbit_infosel_t;

/* qbit_infolist_new: an empty list ("[]"). Free with qbit_infolist_free
 * (NULL is fine). */
qbit_infolist_t *qbit_infolist_new(void);
void qbit_infolist_free(qbit_infolist_t *l);

/* qbit_infolist_add: appends a row: its JSON object (len bytes), its MD4,
 * qBittorrent state, whether it transfers and its category ("" none). */
void qbit_infolist_add(qbit_infolist_t *l, const char *json, size_t len, const char *md4,
                       const char *state, bool active, const char *category);

/* qbit_infolist_body: the whole list as a JSON array ("[r0,r1,...]"). */
const char *qbit_infolist_body(const qbit_infolist_t *l, size_t *len);

/* qbit_infolist_select: the answer to sel as ranges of the body (adjacent
 * ranges merged: the whole list is one range), *n of them; a new array. */
qbit_range_t *qbit_infolist_select(const qbit_infolist_t *l, const qbit_infosel_t *sel,
                                   size_t *n);

#endif
