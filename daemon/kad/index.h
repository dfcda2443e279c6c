/* index.h: what other nodes published to us (§10.3): keyword entries (a
 * file under a keyword id) and source entries (a source under a file id),
 * each with its tags, kept until it expires, bounded in number. Pure: no
 * I/O; the node answers searches from it. */
#ifndef MT_DAEMON_KAD_INDEX_H
#define MT_DAEMON_KAD_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ed2k/kadid.h"
#include "ed2k/kadsearch.h"
#include "ed2k/tag.h"

/* Entries in all, and under one target (then the oldest goes). */
#define KAD_INDEX_MAX 20000
#define KAD_INDEX_PER_TARGET 300
/* Lifetimes of a publish: keywords 24 h, sources 5 h (aMule's). */
#define KAD_INDEX_KEYWORD_TTL (24 * 3600)
#define KAD_INDEX_SOURCE_TTL (5 * 3600)

typedef enum { KAD_INDEX_KEYWORD, KAD_INDEX_SOURCE } kad_index_kind_t;

typedef struct kad_index kad_index_t;

/* kad_index_new: an empty index holding at most max entries (0:
 * KAD_INDEX_MAX). Free with kad_index_free (NULL is fine). */
kad_index_t *kad_index_new(size_t max);
void kad_index_free(kad_index_t *x);

/* kad_index_add: entry id (a file for a keyword, a source for a file)
 * under target, with a copy of tags, published from ip (Kad form) at
 * monotonic time now, living ttl s. The same entry again replaces the old
 * one. When the target holds KAD_INDEX_PER_TARGET entries, or the index
 * is full, the target's (or index's) oldest entry goes. Returns the load
 * to answer with: the target's entries as a percentage of
 * KAD_INDEX_PER_TARGET (1..100). */
unsigned kad_index_add(kad_index_t *x, kad_index_kind_t kind, const kad_id_t *target,
                       const kad_id_t *id, uint32_t ip, const ed2k_taglist_t *tags, time_t now,
                       time_t ttl);

/* kad_index_find: up to max live entries under target, from start on
 * (skipping that many), into out: the tags are the index's (valid until
 * the next add or expire). Returns how many. */
size_t kad_index_find(const kad_index_t *x, kad_index_kind_t kind, const kad_id_t *target,
                      time_t now, size_t start, kad_search_answer_t *out, size_t max);

/* kad_index_expire: drops the entries whose time is over. */
void kad_index_expire(kad_index_t *x, time_t now);
size_t kad_index_count(const kad_index_t *x, kad_index_kind_t kind);

#endif
