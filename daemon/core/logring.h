/* logring.h: a bounded ring of recent entries with increasing ids, for
 * the daemon's log and its peer log (log and peer-log control commands):
 * the oldest entry goes when the ring is full; ids go on from where they
 * were, so a reader asking for what came after the last id it saw gets
 * exactly the newer entries that are still kept. */
#ifndef MT_DAEMON_CORE_LOGRING_H
#define MT_DAEMON_CORE_LOGRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct logring logring_t;

/* One entry. ip is NULL for a log line; for a peer it is the address and
 * text the reason. */
typedef struct {
    int64_t id;      /* 0, 1, 2... in the order added */
    int64_t time_ms; /* wall clock, milliseconds since the epoch */
    int level;       /* log_level_t for a log line; 0 for a peer */
    bool blocked;    /* a peer: refused by a rule rather than banned */
    const char *text;
    const char *ip;
} logring_entry_t;

/* logring_new: a ring keeping the last capacity (at least 1) entries, each
 * text cut to max_text bytes. Free with logring_free (accepts NULL). */
logring_t *logring_new(size_t capacity, size_t max_text);
void logring_free(logring_t *r);

/* logring_add: appends a copy of e's strings with the next id (e->id is
 * ignored); returns that id. */
int64_t logring_add(logring_t *r, const logring_entry_t *e);

/* logring_since: calls fn for the kept entries with an id above since (-1
 * or less: all), oldest first, at most limit of them (0: no limit), and
 * returns how many. The entry is valid during the call only. */
size_t logring_since(const logring_t *r, int64_t since, size_t limit,
                     void (*fn)(void *ctx, const logring_entry_t *e), void *ctx);

/* logring_next_id: the id the next entry will get. */
int64_t logring_next_id(const logring_t *r);

#endif
