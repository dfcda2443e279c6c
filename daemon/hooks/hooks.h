/* hooks.h: user programs and webhooks on download events (docs/hooks.md).
 * The module hears the bus (a download added, completed, failed, a full
 * disk) and, for each event, runs the program of its hook_* key (posix_spawn,
 * no shell, a time limit, a bounded number at once and a bounded queue,
 * output into the daemon's log) and queues the webhooks (webhook.h). The
 * loop never waits for either. */
#ifndef MT_DAEMON_HOOKS_H
#define MT_DAEMON_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/core/daemon.h"
#include "daemon/hooks/hookargs.h"
#include "daemon/hooks/webhook.h"
#include "util/error.h"

typedef struct hooks hooks_t;

typedef struct {
    size_t running, queued;   /* programs now */
    uint64_t started;         /* programs spawned */
    uint64_t succeeded;       /* exited with status 0 */
    uint64_t failed;          /* another status, a signal, or could not start */
    uint64_t killed;          /* past hook_timeout */
    uint64_t dropped;         /* refused: the queue was full */
    uint64_t output_dropped;  /* bytes of output past hook_max_output */
} hooks_stats_t;

/* What hooks_fire did. */
typedef enum {
    HOOKS_NONE = 0, /* no program configured for the event */
    HOOKS_STARTED,
    HOOKS_QUEUED,
    HOOKS_DROPPED,  /* the queue was full */
    HOOKS_FAILED,   /* the command could not be split or the program not started (logged) */
} hooks_outcome_t;

/* hooks_new: subscribes to d's bus and to SIGCHLD on d's loop; starts the
 * webhook thread. Free with hooks_free. */
hooks_t *hooks_new(muleteerd_t *d);
/* hooks_free: unsubscribes, kills the programs still running (and their
 * process groups), drops the queue, stops the webhook thread. Accepts
 * NULL. */
void hooks_free(hooks_t *h);

/* hooks_fire: runs the event's program and queues its webhooks, as the
 * bus's events do (the test command uses it). *webhooks: how many
 * deliveries were queued (may be NULL). */
hooks_outcome_t hooks_fire(hooks_t *h, const hook_event_t *ev, size_t *webhooks);

/* hooks_outcome_name: "none", "started", "queued", "dropped", "failed". */
const char *hooks_outcome_name(hooks_outcome_t o);

/* hooks_get_stats: the programs' counters; ws: the webhooks' (may be NULL). */
void hooks_get_stats(hooks_t *h, hooks_stats_t *out, webhook_stats_t *ws);

#endif
