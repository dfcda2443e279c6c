/* prefs.h: app/setPreferences' rules: the qBittorrent preferences that
 * have a meaning here, read from the request's JSON object as qBittorrent
 * 5.0 reads them (AppController::setPreferencesAction: loose types,
 * unknown keys ignored) and turned into the arguments of the daemon's
 * commands. Pure: no HTTP, no daemon; tests/unit/check_qbit covers it. */
#ifndef MT_CGI_QBIT_PREFS_H
#define MT_CGI_QBIT_PREFS_H

#include <json-c/json.h>
#include <stdbool.h>

#include "util/error.h"

/* The daemon's arguments for one setPreferences call; each NULL when the
 * JSON has none of its keys. */
typedef struct qbit_prefs {
    json_object *limits;     /* `limits`: max_download, max_upload (KiB/s) */
    json_object *alt_limits; /* `limits`: alt_max_download, alt_max_upload */
    json_object *share;      /* `share-config`: max_ratio, max_seeding_time, max_ratio_act */
    json_object *settings;   /* `settings`: max_connections, upload_slots, tcp_port */
    /* The alternative limits' schedule, -1 for each key absent:
     * scheduler_enabled (0/1), schedule_from_hour ... scheduler_days. */
    struct {
        int enabled, from_hour, from_min, to_hour, to_min, days;
    } sched;
} qbit_prefs_t;

/* qbit_prefs_parse: the `json` parameter. MT_ERR_INVALID when it is not
 * a JSON object (out is then empty). Speeds are qBittorrent's bytes/s,
 * rounded up to KiB/s (0 or less: unlimited). As in qBittorrent, max_ratio
 * and max_seeding_time count only with their *_enabled key (false: no
 * limit), a negative one is no limit, and a max_ratio_act other than 1, 2
 * or 3 is 0 (stop). max_connec and max_uploads of 0 or less (qBittorrent's
 * unlimited) are the daemon's largest values, others are brought into its
 * ranges; a listen_port outside 1..65535 (0: qBittorrent's random port)
 * is ignored. */
int qbit_prefs_parse(const char *json, qbit_prefs_t *out, mt_error_t **err);
void qbit_prefs_clear(qbit_prefs_t *p);

/* qbit_prefs_schedule: the `config-set` arguments {scheduler_enabled,
 * schedule} for p's schedule keys over the schedule in force (current:
 * util/sched.h's text, enabled): the first rule is replaced by the one
 * qBittorrent's keys describe, the others are kept. An hour is brought
 * into 0..23, a minute into 0..59, a day number outside 0..9 is every
 * day. NULL when p has none of the keys; the caller puts the result. */
json_object *qbit_prefs_schedule(const qbit_prefs_t *p, const char *current, bool enabled);

#endif
