/* history.h: download history events (started, stopped, resumed,
 * completed, deleted, failed), edge-triggered from the daemon's own facts.
 * Each event is appended to $state_dir/history.journal and synced before
 * the transition is acknowledged, then applied to the history table by
 * the database worker exactly once (history_events remembers applied
 * ids); the journal is replayed at start and emptied once all of it is
 * applied. docs/schema.md. */
#ifndef MT_DAEMON_HISTORY_H
#define MT_DAEMON_HISTORY_H

#include <stdint.h>

struct muleteerd;
struct download;
typedef struct history history_t;

typedef enum {
    HIST_STARTED = 0,
    HIST_STOPPED,
    HIST_RESUMED,
    HIST_COMPLETED,
    HIST_DELETED,
    HIST_FAILED,
} hist_kind_t;

/* hist_new: opens the journal and submits what it holds (events of an
 * earlier run that may not have reached the database). */
history_t *hist_new(struct muleteerd *d);
void hist_free(history_t *h);
/* hist_event: records an event for a download (its name, size, category,
 * attribution and bytes are read from it now). */
void hist_event(history_t *h, const struct download *dl, hist_kind_t kind);
/* hist_tick: once a second: empties the journal when everything in it is
 * in the database; submits it again after jobs were dropped. */
void hist_tick(history_t *h);

#endif
