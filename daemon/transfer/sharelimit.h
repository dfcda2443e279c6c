/* sharelimit.h: when a finished download has reached its share limits,
 * and what then happens to it, as qBittorrent 5.0 decides it
 * (SessionImpl::processTorrentShareLimits): the global limits and action
 * from the configuration, the download's own limits, its counters and the
 * time. Pure functions: the caller passes the clock. One difference:
 * qBittorrent leaves a forced torrent alone; on eD2K force start only
 * lets a download bypass the queue, which a finished one is not in, so a
 * forced finished download meets its limits too (a Sonarr set to add
 * downloads "force started" could otherwise never remove them). */
#ifndef MT_DAEMON_SHARELIMIT_H
#define MT_DAEMON_SHARELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct conf;

#define SHL_MAX_RATIO 9999.0 /* qBittorrent's Torrent::MAX_RATIO */
#define SHL_MAX_SEEDING 525600 /* minutes: qBittorrent's MAX_SEEDING_TIME */

/* The global settings, as qBittorrent keeps them: a negative ratio or
 * time is no limit; the action is max_ratio_act's number. */
enum {
    SHL_ACT_STOP = 0,          /* qBittorrent's Stop (4.x: Pause) */
    SHL_ACT_REMOVE = 1,
    SHL_ACT_SUPER_SEEDING = 2, /* no such thing on eD2K: stops sharing */
    SHL_ACT_REMOVE_FILES = 3,  /* remove the download and its file */
};

typedef struct shl_global {
    double max_ratio;     /* < 0: none */
    int max_seeding_time; /* minutes; < 0: none */
    int action;           /* SHL_ACT_* */
} shl_global_t;

/* What happens to a download: nothing, it stops being shared, it is
 * removed (with its file). */
typedef enum { SHL_NONE = 0, SHL_STOP, SHL_REMOVE, SHL_REMOVE_FILES } shl_outcome_t;

/* A finished download as the decision sees it. */
typedef struct shl_input {
    double ratio_limit;     /* dlattr.h: -2 global, -1 none, else the limit */
    int seeding_time_limit; /* minutes, idem */
    bool stopped;           /* its sharing is already stopped */
    uint64_t size, downloaded, uploaded;
    int64_t completed_at;   /* Unix time; 0: unknown */
} shl_input_t;

/* shl_global_from_conf: max_ratio, max_seeding_time and max_ratio_act. */
void shl_global_from_conf(const struct conf *c, shl_global_t *out);
/* shl_ratio: qBittorrent's realRatio: uploaded over downloaded, or over
 * the size when less than 1% of it was downloaded here (a file whose
 * counters were lost); SHL_MAX_RATIO at most, and when nothing was
 * downloaded but something uploaded. */
double shl_ratio(uint64_t uploaded, uint64_t downloaded, uint64_t size);
/* shl_decide: what is to happen to the download at Unix time now; *why
 * (may be NULL) receives "ratio" or "seeding time" when a limit is
 * reached. The ratio limit is checked first. A download reached by a
 * limit with the stop action that is stopped already: SHL_NONE. */
shl_outcome_t shl_decide(const shl_global_t *g, const shl_input_t *in, int64_t now,
                         const char **why);
/* shl_outcome_name: "none", "stop", "remove", "remove with its file". */
const char *shl_outcome_name(shl_outcome_t o);

#endif
