/* download.h: the download queue: downloads (part files) added, paused,
 * resumed, stopped, deleted, their parts verified and their completion.
 * Their sources, the per-source conversation of ed2k-protocol.md §5.3-5.8,
 * are source.h's (dl_add_source is declared there, the verdicts on the
 * sources offered in srcpolicy.h; this header includes both). */
#ifndef MT_DAEMON_DOWNLOAD_H
#define MT_DAEMON_DOWNLOAD_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/net/peer.h"
#include "daemon/transfer/dlattr.h"
#include "daemon/transfer/partfile.h"
#include "daemon/transfer/source.h"
#include "ed2k/packet.h"
#include "util/error.h"

struct muleteerd;
typedef struct dlq dlq_t;
typedef struct download download_t;

/* dlq_new: the download side; handles its packets on d->peers (peer.h),
 * follows category changes on d->bus. */
dlq_t *dlq_new(struct muleteerd *d);
/* dlq_load: resumes every download found in temp_dir (a bad metadata file
 * is logged and left alone); queues the speculative verification of parts
 * that are not verified yet (crash recovery). */
int dlq_load(dlq_t *q, mt_error_t **err);
/* dlq_free: saves nothing; call dlq_shutdown first. */
void dlq_free(dlq_t *q);
/* dlq_shutdown: tells sources we stop and saves every part file
 * synchronously. */
void dlq_shutdown(dlq_t *q);
/* dlq_tick: once a second: asks sources, timeouts, speeds, saves. */
void dlq_tick(dlq_t *q);

/* What a new download starts with. Initialise with DL_ADD_OPTS_INIT. */
typedef struct dl_add_opts {
    const char *category;       /* NULL or "": none; a new name creates the category */
    int priority;               /* DLA_PRIO_* */
    const char *added_by, *added_via;
    const dla_tags_t *tags;     /* NULL: none; a valid set */
    const char *btih;           /* NULL: none; else dla_btih_is_valid */
    double ratio_limit;         /* dlattr.h; DLA_LIMIT_GLOBAL by default */
    int seeding_time_limit;
    bool stopped;               /* added in the stopped state (not started) */
    bool force_start;
} dl_add_opts_t;
#define DL_ADD_OPTS_INIT \
    { .ratio_limit = DLA_LIMIT_GLOBAL, .seeding_time_limit = DLA_LIMIT_GLOBAL }

/* dlq_add_link: starts a download from an ed2k file link (its sources, if
 * any, are used). MT_ERR_INVALID for a bad link or option (the message says
 * what), MT_ERR_EXISTS when the file is already being downloaded (its new
 * sources are still added; a download keeps the btih it was added with),
 * finished or shared, or when opts->btih is another download's. */
int dlq_add_link(dlq_t *q, const char *link, const dl_add_opts_t *opts, download_t **out,
                 mt_error_t **err);
/* dlq_adopt: makes a download of pf, a part file just made from another
 * client's (import); its parts that hold data are verified on the workers.
 * Takes pf on success; MT_ERR_EXISTS (pf still the caller's) when the
 * file is being downloaded already. */
int dlq_adopt(dlq_t *q, partfile_t *pf, mt_error_t **err);
download_t *dlq_find(const dlq_t *q, const uint8_t hash[16]);
/* dlq_find_hex: by 32 hex digits (either case). */
download_t *dlq_find_hex(const dlq_t *q, const char *hex);
/* dlq_find_btih: the download added with that BitTorrent info-hash (40
 * lower-case hex digits), or NULL. */
download_t *dlq_find_btih(const dlq_t *q, const char *btih);
size_t dlq_count(const dlq_t *q);
download_t *dlq_get(const dlq_t *q, size_t i);
/* dlq_rate: total download rate, bytes per second. */
uint64_t dlq_rate(const dlq_t *q);

/* Sources offered to a download: dl_add_source (source.h) and the
 * verdicts on them, dl_src_verdict_t (srcpolicy.h). */

/* dl_set_priority: DLA_PRIO_* (stored in the part file): sources of
 * higher priority downloads are asked first. */
void dl_set_priority(download_t *dl, int prio);

/* dl_pause, dl_resume, dl_stop: the download's state, saved with it and
 * told to the bus (dl_state). 0; -1 only for a download already out of
 * the queue (a bug, logged). */
int dl_pause(download_t *dl);
int dl_resume(download_t *dl);
int dl_stop(download_t *dl);
/* Attributes, saved with the part file. dl_set_category: the download
 * completes into the category's incoming directory (checked by the
 * caller; NULL or "": none). dl_set_force_start: true also resumes a
 * paused or stopped download. */
int dl_set_category(download_t *dl, const char *category, mt_error_t **err);
void dl_set_tags(download_t *dl, const dla_tags_t *tags);
int dl_set_share_limits(download_t *dl, double ratio_limit, int seeding_time_limit,
                        mt_error_t **err);
void dl_set_force_start(download_t *dl, bool on);
/* dl_set_name: the name the file completes under (pf_name_is_valid);
 * dl_set_save_path: the directory it completes into (an absolute path
 * the caller confined to the roots; NULL: its category's again).
 * MT_ERR_INVALID for a bad value, MT_ERR_UNAVAILABLE while the file is
 * being moved into place. */
int dl_set_name(download_t *dl, const char *name, mt_error_t **err);
int dl_set_save_path(download_t *dl, const char *dir, mt_error_t **err);
/* dl_recheck: every part with data is verified again against its part
 * hash on the workers (the state shows "checking" meanwhile); a part that
 * no longer matches is downloaded again. */
void dl_recheck(download_t *dl);
/* dl_reannounce: its sources are asked again at once (the server is
 * asked by srv_reannounce). */
void dl_reannounce(download_t *dl);
/* dl_set_rate_limits: bytes/s, 0: none (dlattr.h). The download limit
 * applies at once to the connections sending it data; the upload limit
 * to the upload slots serving its file (upload.h). MT_ERR_INVALID out of
 * range. */
int dl_set_rate_limits(download_t *dl, int64_t dl_limit, int64_t up_limit, mt_error_t **err);
/* dl_delete: cancels the download and removes its temporary files. */
int dl_delete(download_t *dl, mt_error_t **err);

partfile_t *dl_partfile(const download_t *dl);
/* dl_state_name: the state dl_to_json shows: downloading, queued,
 * stalled, checking, moving, paused, stopped or error. */
const char *dl_state_name(const download_t *dl);
/* dl_save_path: the directory the download completes into as it stands:
 * its own location (dl_set_save_path), else its category's incoming
 * directory, else incoming_dir (not checked again here; completion
 * does). */
const char *dl_save_path(const download_t *dl);
/* dl_availability_json: per data part, how many of its sources have it
 * (a complete source counts for every part): aMule's part frequencies.
 * A new array. */
json_object *dl_availability_json(const download_t *dl);
/* dl_to_json: a description for the control socket (caller puts it). */
json_object *dl_to_json(const download_t *dl);


#endif
