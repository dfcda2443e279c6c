/* infomodel.h: a process's copy of the node's downloads as torrents/info
 * lists them: per row the JSON of the columns that depend on the row alone
 * and the plain values of those that move with the time or the other rows,
 * so the whole list for any second is rendered in C (infolist.h) from what
 * changed rows brought, without asking PostgreSQL again. Pure: no I/O. */
#ifndef MULETEER_QBIT_INFOMODEL_H
#define MULETEER_QBIT_INFOMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qbit/infolist.h"

typedef struct qbit_infomodel qbit_infomodel_t;

/* The columns computed here, as info.c's SQL expressions define them. */
typedef enum {
    QBIT_DYN_QUEUE_POS,     /* priority: 1.. among the unfinished rows in
                             * (priority desc, added_at, hash) order; 0 finished */
    QBIT_DYN_SEEDING_TIME,  /* finished: now - completed_at (>= 0), else 0 */
    QBIT_DYN_SEEN_COMPLETE, /* finished: completed_at (0 when unknown); else
                             * now while a complete source is known, else 0 */
    QBIT_DYN_STATE,         /* the row's qBittorrent state */
    QBIT_DYN_TIME_ACTIVE,   /* now - added_at (>= 0) */
} qbit_dyn_t;

/* One part of a row's JSON object, in the object's order: a run of
 * row-only columns (a segment the row brings as a JSON object) or one
 * computed column, written as "key":value. */
typedef struct {
    bool dynamic;
    qbit_dyn_t dyn;  /* when dynamic */
    const char *key; /* when dynamic */
} qbit_infopart_t;

/* A row as the database gives it. */
typedef struct {
    const char *md4;         /* 32 lowercase hex: the row's key */
    int64_t added_us;        /* added_at in µs since the epoch: the order */
    int64_t added_s;         /* floor of added_at in seconds */
    int64_t completed_s;     /* floor of completed_at; < 0 when none */
    long long priority;      /* downloads.priority */
    bool finished;           /* state = 'completed' */
    bool complete_source;    /* complete_sources > 0 */
    bool active;             /* transferring (dl_speed or ul_speed > 0) */
    const char *state;       /* qBittorrent state (no escaping needed: a name) */
    const char *category;    /* "" when none */
    const char *const *segs; /* one "{...}" object per row-only part, in order */
    const size_t *seg_len;
} qbit_inforow_t;

/* qbit_infomodel_new: an empty model of rows made of parts[0..n) (copied;
 * the keys must outlive it). Free with qbit_infomodel_free (NULL is fine). */
qbit_infomodel_t *qbit_infomodel_new(const qbit_infopart_t *parts, size_t n);
void qbit_infomodel_free(qbit_infomodel_t *m);

/* qbit_infomodel_put: row (copied) added, or replacing the row of its md4. */
void qbit_infomodel_put(qbit_infomodel_t *m, const qbit_inforow_t *row);

/* qbit_infomodel_remove: the row of md4 gone; false when there was none. */
bool qbit_infomodel_remove(qbit_infomodel_t *m, const char *md4);

/* qbit_infomodel_clear: every row gone. */
void qbit_infomodel_clear(qbit_infomodel_t *m);

/* qbit_infomodel_count: the rows held. */
size_t qbit_infomodel_count(const qbit_infomodel_t *m);

/* qbit_infomodel_render: the whole list at now_s (seconds since the
 * epoch), in torrents/info's default order (added_at, then hash); free
 * with qbit_infolist_free. */
qbit_infolist_t *qbit_infomodel_render(qbit_infomodel_t *m, int64_t now_s);

#endif
