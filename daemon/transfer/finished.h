/* finished.h: downloads that completed and stay listed until removed, as
 * qBittorrent keeps a seeding torrent: one record each (what the download
 * was, where its file went, its tags and limits, its upload counters), kept
 * in $state_dir/finished.json and written to the downloads table with state
 * completed, or missing once a rescan no longer finds the file. */
#ifndef MT_DAEMON_FINISHED_H
#define MT_DAEMON_FINISHED_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/transfer/dlattr.h"
#include "util/error.h"

#define FIN_MAX_RECORDS 100000     /* records kept; more in the file are skipped */
#define FIN_MAX_FILE_SIZE (64u << 20) /* largest finished.json read */

struct muleteerd;
struct partfile;
typedef struct finished finished_t;
typedef struct fin_rec fin_rec_t;

/* finished_new: loads $state_dir/finished.json. A file that cannot be
 * parsed is renamed finished.json.bad, one with invalid records keeps the
 * valid ones (the original is copied to finished.json.bad); both are
 * logged, neither stops the daemon. The files of the records are shared
 * (d->shared: shared_set_files) from the next scan on. It follows the bus:
 * a completed download becomes a record (dl_completed), a category's
 * renaming or removal relabels them. Free with finished_free. */
finished_t *finished_new(struct muleteerd *d);
/* fin_needs_import: no finished.json said that the completed rows earlier
 * versions left in the downloads table were imported. fin_import_legacy:
 * imports them once the database answers (store/finished_import.h); a
 * failure is tried again at the next start. */
bool fin_needs_import(const finished_t *f);
void fin_import_legacy(finished_t *f);
void finished_free(finished_t *f);
/* fin_tick: once a second: states after a shared-file scan (completed or
 * missing), the import's result, saves of changed counters (every
 * save_interval seconds) and of changes whose save failed. */
void fin_tick(finished_t *f);
/* fin_save: writes finished.json now (atomically). */
int fin_save(finished_t *f, mt_error_t **err);
/* fin_keeps_legacy_rows: true from fin_import_legacy until the import of
 * completed rows has happened: a full resync of the downloads table must
 * keep the completed rows it does not know. */
bool fin_keeps_legacy_rows(const finished_t *f);

size_t fin_count(const finished_t *f);
fin_rec_t *fin_get(const finished_t *f, size_t i);
fin_rec_t *fin_find(const finished_t *f, const uint8_t hash[16]);
/* fin_find_btih: the record added with that BitTorrent info-hash (40
 * lower-case hex digits), or NULL. */
fin_rec_t *fin_find_btih(const finished_t *f, const char *btih);

/* fin_add_partfile: the record of a download whose file was moved to
 * content_path (its part file's attributes and counters are copied);
 * saved at once (a failed save is logged and retried by fin_tick).
 * finished_new subscribes it to the bus's dl_completed. */
void fin_add_partfile(finished_t *f, const struct partfile *pf, const char *content_path);
/* fin_set_active_check: fn tells whether a hash is an active download,
 * whose record an import must not add. */
typedef bool (*fin_active_fn)(void *ctx, const uint8_t hash[16]);
void fin_set_active_check(finished_t *f, fin_active_fn fn, void *ctx);
/* fin_on_upload: bytes of the file with that hash were sent to a peer. */
void fin_on_upload(finished_t *f, const uint8_t hash[16], uint64_t bytes);
/* fin_category_renamed: records labelled old take new_name (NULL: none);
 * returns how many. */
size_t fin_category_renamed(finished_t *f, const char *old, const char *new_name);

/* A record's fields. */
const char *fin_hex(const fin_rec_t *r);
const uint8_t *fin_hash(const fin_rec_t *r);
const char *fin_name(const fin_rec_t *r);
uint64_t fin_size(const fin_rec_t *r);
const char *fin_category(const fin_rec_t *r);
const dla_tags_t *fin_tags(const fin_rec_t *r);
double fin_ratio_limit(const fin_rec_t *r);
int fin_seeding_time_limit(const fin_rec_t *r);
/* fin_dl_limit, fin_up_limit: bytes/s, 0: none (dlattr.h); the upload
 * limit throttles what is sent of the file. */
int64_t fin_dl_limit(const fin_rec_t *r);
int64_t fin_up_limit(const fin_rec_t *r);
bool fin_force_start(const fin_rec_t *r);
int fin_priority(const fin_rec_t *r);
time_t fin_added_at(const fin_rec_t *r);
time_t fin_completed_at(const fin_rec_t *r);
const char *fin_save_path(const fin_rec_t *r);
const char *fin_content_path(const fin_rec_t *r);
const char *fin_added_by(const fin_rec_t *r);
const char *fin_added_via(const fin_rec_t *r);
/* fin_download_id: the id of the download that became this record
 * (dlattr.h); NULL only when no random bytes could be had for it. */
const char *fin_download_id(const fin_rec_t *r);
/* fin_btih: the BitTorrent info-hash it was added with, or NULL. */
const char *fin_btih(const fin_rec_t *r);
uint64_t fin_downloaded(const fin_rec_t *r);
uint64_t fin_uploaded(const fin_rec_t *r);
time_t fin_last_activity(const fin_rec_t *r);
/* fin_is_missing: the last scan did not find the file. */
bool fin_is_missing(const fin_rec_t *r);
/* fin_state: "completed", "missing", "checking" (fin_recheck running),
 * "moving" (fin_move copying it to another file system) or
 * "error" (the last re-check found other content); fin_error: why, for
 * "error" (NULL otherwise). */
const char *fin_state(const fin_rec_t *r);
const char *fin_error(const fin_rec_t *r);
bool fin_is_checking(const fin_rec_t *r);
/* fin_to_json: the record for the control socket (caller puts it). */
json_object *fin_to_json(const fin_rec_t *r);

/* Changes, saved before they return: -1 (MT_ERR_IO) when the save failed;
 * the change is kept in memory and saved again later. The values must be
 * valid (dlattr.h; category: checked by the caller). */
int fin_set_category(finished_t *f, fin_rec_t *r, const char *category, mt_error_t **err);
int fin_set_tags(finished_t *f, fin_rec_t *r, const dla_tags_t *tags, mt_error_t **err);
int fin_set_share_limits(finished_t *f, fin_rec_t *r, double ratio_limit, int seeding_time_limit,
                         mt_error_t **err);
int fin_set_force_start(finished_t *f, fin_rec_t *r, bool on, mt_error_t **err);
int fin_set_rate_limits(finished_t *f, fin_rec_t *r, int64_t dl_limit, int64_t up_limit,
                        mt_error_t **err);
int fin_set_priority(finished_t *f, fin_rec_t *r, int priority, mt_error_t **err);
/* fin_move: moves r's file to dir/name (NULL: keep that one): within one
 * file system with rename(2), at once; to another one the file is copied
 * on a worker (state "moving", shared from its old place meanwhile, the
 * record changed only once the copy is complete and the original gone:
 * pf_move_file). The shared list follows. dir must be checked by the
 * caller (the roots). MT_ERR_EXISTS when a file is there already,
 * MT_ERR_IO when the move fails (nothing changed), MT_ERR_UNAVAILABLE
 * while it is re-checked or moved; -1 MT_ERR_IO also when moved but not
 * saved (retried). A failed copy is logged and leaves r where it was. */
int fin_move(finished_t *f, fin_rec_t *r, const char *dir, const char *name, mt_error_t **err);
/* fin_recheck: hashes r's file again on a worker (state "checking");
 * when it no longer matches its hash the record goes into the "error"
 * state and its file is no longer shared, when it matches it is
 * "completed" again. A re-check already running is fine; MT_ERR_UNAVAILABLE
 * while it is moved. */
int fin_recheck(finished_t *f, fin_rec_t *r, mt_error_t **err);
/* fin_remove: forgets r (freed) and publishes dl_deleted (its history row
 * stays "completed", its downloads row goes). With
 * delete_file it also removes the file from disk, when the shared list
 * holds it at content_path with the record's hash (a file that changed or
 * is gone is left alone; *file_removed says which), and rescans the shared
 * files. Nothing changes on MT_ERR_IO (the file cannot be removed) and
 * MT_ERR_UNAVAILABLE (delete_file before the first scan of the shared
 * files has finished, or r is being moved). */
int fin_remove(finished_t *f, fin_rec_t *r, bool delete_file, bool *file_removed,
               mt_error_t **err);

/* Share limits (sharelimit.h). fin_sharing_stopped: r's file is not
 * offered to peers (shared.h: withheld). fin_set_sharing: stops or
 * resumes sharing r's file, logs it, publishes fin_sharing with reason
 * and saves (-1 as the other changes). */
bool fin_sharing_stopped(const fin_rec_t *r);
int fin_set_sharing(finished_t *f, fin_rec_t *r, bool stopped, const char *reason,
                    mt_error_t **err);
/* fin_check_share_limits: applies the configured action (max_ratio_act)
 * to every record that reached its share limits at Unix time now: its
 * sharing stops, or it is removed (fin_remove, with its file for action
 * 3). Missing records are left alone; forced ones are not (sharelimit.h).
 * Returns how many were acted on. Run by the periodic job share_limits,
 * and by fin_tick after a change that may reach a limit (completion, an
 * upload, new limits, fin_share_limits_changed). */
size_t fin_check_share_limits(finished_t *f, int64_t now);
/* fin_share_limits_changed: the global limits changed: check at the next
 * tick. */
void fin_share_limits_changed(finished_t *f);

#endif
