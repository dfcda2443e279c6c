/* history.h: download history events (started, stopped, resumed,
 * completed, deleted, failed), edge-triggered from the daemon's own facts.
 * Each event is appended to $state_dir/history.journal and synced before
 * the transition is acknowledged, then applied to the history table by
 * the database worker exactly once (history_events remembers applied
 * ids); the journal is replayed at start and emptied once all of it is
 * applied. docs/schema.md. */
#ifndef MT_DAEMON_HISTORY_H
#define MT_DAEMON_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct muleteerd;
typedef struct history history_t;

/* hist_new: opens the journal and submits what it holds (events of an
 * earlier run that may not have reached the database), and subscribes to
 * the downloads' events on the bus: added (started, and stopped when
 * added stopped), stopped, resumed (from stopped or failed), completed,
 * failed and deleted (of active and finished downloads). */
history_t *hist_new(struct muleteerd *d);
void hist_free(history_t *h);

/* What the daemon has, for hist_reconcile. */
typedef struct hist_live {
    const char *download_id; /* dlattr.h */
    const char *hex;         /* its file hash */
    bool active;             /* an active download (else a finished one) */
    bool stopped;            /* an active download in the stopped state */
} hist_live_t;

/* hist_reconcile: once the downloads and finished downloads are loaded
 * (at start), given all of them: the history rows of this node are
 * matched to them by download id. A row of a download the daemon no
 * longer has (its part file gone, the temporary directory changed) that
 * still says downloading or stopped is closed as deleted; a live
 * download's row says what it does now (downloading or stopped); rows
 * written before download ids existed are adopted by the download of
 * their hash. */
void hist_reconcile(history_t *h, const hist_live_t *live, size_t n);
/* hist_tick: once a second: empties the journal when everything in it is
 * in the database; submits it again after jobs were dropped. */
void hist_tick(history_t *h);

#endif
