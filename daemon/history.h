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

/* What an event says about its download, for downloads that are no longer
 * a download_t (finished ones). Strings are copied. */
typedef struct hist_info {
    const char *hex;       /* 32 lower-case hex digits */
    const char *download_id; /* dlattr.h; NULL: unknown (the latest row of the hash) */
    const char *name;
    uint64_t size;
    const char *category;  /* NULL: none */
    uint64_t downloaded, uploaded;
    const char *added_by, *added_via;
    /* the download had completed (completed_at: when, Unix time): its
     * deletion keeps the history row's status "completed" */
    bool completed;
    int64_t completed_at;
} hist_info_t;

/* hist_event_info: records an event described by info. */
void hist_event_info(history_t *h, const hist_info_t *info, hist_kind_t kind);
/* hist_reconcile: once the downloads and finished downloads are loaded
 * (at start): the history rows of this node are matched to them by
 * download id. A row of a download the daemon no longer has (its part
 * file gone, the temporary directory changed) that still says
 * downloading or stopped is closed as deleted; a live download's row says
 * what it does now (downloading or stopped); rows written before download
 * ids existed are adopted by the download of their hash. */
void hist_reconcile(history_t *h);
/* hist_tick: once a second: empties the journal when everything in it is
 * in the database; submits it again after jobs were dropped. */
void hist_tick(history_t *h);

#endif
