/* partfile.h: the on-disk state of one download: a sparse data file at final
 * offsets plus crash-safe JSON metadata (docs/partfile.md), part checks, move.
 * Implemented by partfile_{meta,fields,data,save,verify,complete}.c, which
 * share partfile_int.h. */
#ifndef MT_DAEMON_PARTFILE_H
#define MT_DAEMON_PARTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/transfer/dlattr.h"
#include "daemon/transfer/rangeset.h"
#include "ed2k/hash.h"
#include "util/error.h"

/* A partfile belongs to the event-loop thread. Blocking work is split into
 * prepare (loop thread: snapshots what the work needs), run (any thread:
 * blocking, never touches the partfile_t) and apply (loop thread) steps.
 *
 * Files in the temp directory, for the file hash H (32 lower-case hex):
 *   H.part          the data at its final offsets (sparse, full size)
 *   H.part.met      the metadata, JSON (docs/partfile.md)
 *   H.part.met.tmp  a metadata save in progress (removed at load)
 *
 * Parts are ED2K parts (ed2k-protocol.md §6.2): size / PARTSIZE + 1 of them;
 * for an exact multiple of PARTSIZE the last ("phantom") part is empty and
 * always verified. */
typedef struct partfile partfile_t;
typedef struct pf_meta pf_meta_t;

#define PF_MET_VERSION 1
#define PF_MAX_NAME 1024        /* bytes of UTF-8 in a download name */
#define PF_MAX_STRING 256       /* bytes in category, added_by, added_via */
#define PF_MAX_PATH 4096        /* bytes in save_path */
#define PF_MAX_SOURCES 1000     /* known sources kept; the oldest go first */
#define PF_MAX_MET_SIZE (64u << 20) /* largest metadata file pf_load reads */

typedef enum {
    PF_STATE_ACTIVE = 0,
    PF_STATE_PAUSED,
    PF_STATE_STOPPED,
} pf_state_t;

/* A known source. ip is an IPv4 address in host byte order: 1.2.3.4 is
 * 0x01020304 (written "1.2.3.4" in the metadata). */
typedef struct pf_source {
    uint32_t ip;
    uint16_t port;
    bool has_userhash;
    uint8_t userhash[ED2K_HASH_LEN];
} pf_source_t;

/* ---- Creating, loading, freeing ---- */

/* pf_create: a new download of size bytes (1 .. ED2K_MAX_FILE_SIZE) named
 * name (see pf_name_is_valid) in temp_dir, which must exist. Creates the
 * sparse data file (ftruncate to size) and saves the metadata (blocking,
 * with fsyncs). Errors: MT_ERR_EXISTS when H.part or H.part.met exists,
 * MT_ERR_INVALID for a bad size or name, MT_ERR_NO_SPACE, MT_ERR_IO (the
 * message says why: too many open files, permission denied...); on any
 * error nothing of the download is left on disk. Free with pf_free. */
partfile_t *pf_create(const char *temp_dir, const uint8_t hash[ED2K_HASH_LEN], uint64_t size,
                      const char *name, mt_error_t **err);

/* pf_load: opens the download described by met_path (".../H.part.met"):
 * validates the metadata (pf_parse_met; its hash must be H), opens H.part
 * (MT_ERR_NOT_FOUND if missing), extends a short data file to the full size
 * and refuses a longer one (MT_ERR_INVALID). Only what the metadata records
 * is trusted; the caller should then run speculative verifications of
 * pf_unverified_parts() to recover data written after the last save. */
partfile_t *pf_load(const char *met_path, mt_error_t **err);

/* pf_load_dir: removes leftover *.part.met.tmp files in temp_dir, then loads
 * every *.part.met in name order: loaded(pf, ctx) takes ownership of each
 * download; failed(path, err, ctx) is told about a metadata file that does
 * not load (it is left on disk, never deleted) and about a *.part with no
 * metadata. Returns the number loaded, or -1 (after failed(temp_dir, ...))
 * when the directory cannot be read. failed may be NULL. */
int pf_load_dir(const char *temp_dir, void (*loaded)(partfile_t *pf, void *ctx),
                void (*failed)(const char *path, const mt_error_t *err, void *ctx), void *ctx);

/* pf_free: closes the download without saving; accepts NULL. Jobs still
 * running stay valid (they open the files themselves). */
void pf_free(partfile_t *pf);

/* ---- Descriptors ----
 *
 * A partfile holds no file descriptor: writes (loop thread) borrow the data
 * file's from a cache shared by all part files that keeps at most
 * pf_set_max_open_files descriptors open, closing the least recently used
 * (daemon/transfer/fdcache.h); jobs on workers open their own for the time they run.
 * So the number of downloads does not bound anything: thousands need no
 * more descriptors than the cache holds plus one per worker. I/O errors
 * are MT_ERR_NO_SPACE when the disk or quota is full (ENOSPC, EDQUOT),
 * else MT_ERR_IO (EMFILE, EACCES, EIO...). */
#define PF_DEFAULT_OPEN_FILES 32
/* pf_set_max_open_files: at most n (at least 1) data files open at once;
 * the default is PF_DEFAULT_OPEN_FILES. Loop thread. */
void pf_set_max_open_files(size_t n);
/* pf_open_files: data file descriptors the cache holds open now. */
size_t pf_open_files(void);
/* pf_close_files: closes them all and frees the cache (at exit). */
void pf_close_files(void);

/* ---- The metadata parser (also the fuzz target's entry point) ---- */

/* pf_parse_met: parses and validates len bytes of metadata JSON into *out
 * (free with pf_meta_free). Every constraint of docs/partfile.md is checked;
 * unknown members are ignored. Errors: MT_ERR_INVALID (with the member at
 * fault), MT_ERR_UNSUPPORTED for a newer version, MT_ERR_TOO_LARGE. */
int pf_parse_met(const char *json, size_t len, pf_meta_t **out, mt_error_t **err);
void pf_meta_free(pf_meta_t *m);
/* pf_meta_to_json: serialises metadata as pf_save writes it (caller frees);
 * pf_parse_met accepts whatever it returns. */
char *pf_meta_to_json(const pf_meta_t *m);
const uint8_t *pf_meta_hash(const pf_meta_t *m);
uint64_t pf_meta_size(const pf_meta_t *m);
const char *pf_meta_name(const pf_meta_t *m);

/* ---- Names ---- */

/* pf_name_is_valid: non-empty UTF-8 of at most PF_MAX_NAME bytes, no '/',
 * no control character (C0, DEL, C1), not "." or "..". */
bool pf_name_is_valid(const char *name);
/* pf_name_sanitize: a valid name made from any string: '/', control
 * characters and invalid UTF-8 become '_', "", "." and ".." become "_",
 * and it is cut (on a character boundary) to max_bytes (at least 8; values
 * above PF_MAX_NAME mean PF_MAX_NAME). Caller frees. */
char *pf_name_sanitize(const char *name, size_t max_bytes);

/* ---- Accessors ---- */

const uint8_t *pf_hash(const partfile_t *pf);
uint64_t pf_size(const partfile_t *pf);
const char *pf_name(const partfile_t *pf);
/* pf_set_name: MT_ERR_INVALID unless pf_name_is_valid(name). */
int pf_set_name(partfile_t *pf, const char *name, mt_error_t **err);
/* pf_save_path: the directory it completes into when one was set
 * (setLocation), else NULL (its category's). pf_set_save_path: an
 * absolute path of UTF-8 text (checked against the roots by the caller);
 * NULL clears it. MT_ERR_INVALID otherwise. */
const char *pf_save_path(const partfile_t *pf);
int pf_set_save_path(partfile_t *pf, const char *dir, mt_error_t **err);

/* pf_move_file: moves the file src to dst, never over an existing file
 * (MT_ERR_EXISTS). Across file systems (or with force_copy) the data is
 * copied to a hidden temporary name beside dst, flushed to disk, given
 * dst's name, and only then is src removed: a crash leaves src whole.
 * Blocking: call it on a worker. 0, or -1 with err. */
int pf_move_file(const char *src, const char *dst, bool force_copy, mt_error_t **err);

const char *pf_data_path(const partfile_t *pf);
const char *pf_met_path(const partfile_t *pf);

/* pf_part_count: ED2K parts (size / PARTSIZE + 1; §6.2); one byte of an
 * OP_FILESTATUS bitmap each. pf_data_part_count: parts that hold data. */
size_t pf_part_count(const partfile_t *pf);
size_t pf_data_part_count(const partfile_t *pf);
/* pf_part_range: the bytes of part i; the phantom part of an exact multiple
 * is [size, size). Returns -1 (leaving the outputs alone) when i is out of
 * range. */
int pf_part_range(const partfile_t *pf, size_t i, uint64_t *start, uint64_t *end);

/* pf_filled: the ranges written (and, after a load, recorded as flushed). */
const rangeset_t *pf_filled(const partfile_t *pf);
uint64_t pf_done_bytes(const partfile_t *pf);
uint64_t pf_verified_bytes(const partfile_t *pf);
/* pf_is_part_verified / pf_is_part_filled: false for i out of range; true
 * for the phantom part. */
bool pf_is_part_verified(const partfile_t *pf, size_t i);
bool pf_is_part_filled(const partfile_t *pf, size_t i);
/* What a part holds, in qBittorrent's piece-state numbers. */
typedef enum {
    PF_PART_MISSING = 0,  /* nothing written (or out of range) */
    PF_PART_PARTIAL = 1,  /* some bytes written, not verified: being received
                             or waiting for its check */
    PF_PART_VERIFIED = 2, /* verified (the phantom part always is) */
} pf_part_state_t;
pf_part_state_t pf_part_state(const partfile_t *pf, size_t i);
/* pf_is_complete: every part verified. */
bool pf_is_complete(const partfile_t *pf);

/* pf_has_hashset: the hash of every part is known: always for a file
 * smaller than PARTSIZE (its one part is checked against the file hash;
 * such files have no hash set, §5.4), else after pf_set_hashset. */
bool pf_has_hashset(const partfile_t *pf);
/* pf_part_hash: the MD4 part i must have (the file hash for the one part of
 * a small file), or NULL when not known yet or i is out of range. */
const uint8_t *pf_part_hash(const partfile_t *pf, size_t i);
/* pf_set_hashset: stores a hash set (OP_HASHSETANSWER, §5.4): n must be
 * ed2k_hash_count(size) (0 for small files) and the MD4 of the hashes must
 * be the file hash, else MT_ERR_INVALID. Setting the same set again is fine. */
int pf_set_hashset(partfile_t *pf, const uint8_t (*hashes)[ED2K_HASH_LEN], size_t n,
                   mt_error_t **err);

/* pf_aich_root: the AICH root (20 bytes) or NULL when unknown.
 * pf_set_aich_root: NULL forgets it. Checked by pf_complete_run. */
const uint8_t *pf_aich_root(const partfile_t *pf);
void pf_set_aich_root(partfile_t *pf, const uint8_t *root);

/* Plain metadata kept with the download. String setters take NULL or ""
 * for "none" and refuse (MT_ERR_INVALID) invalid UTF-8, control characters
 * or more than PF_MAX_STRING bytes. */
const char *pf_category(const partfile_t *pf);
int pf_set_category(partfile_t *pf, const char *category, mt_error_t **err);
int pf_priority(const partfile_t *pf);
void pf_set_priority(partfile_t *pf, int priority);
pf_state_t pf_state(const partfile_t *pf);
/* pf_set_state: -1 for a value that is not a pf_state_t. */
int pf_set_state(partfile_t *pf, pf_state_t state);
const char *pf_state_name(pf_state_t state);
time_t pf_added_at(const partfile_t *pf);
void pf_set_added_at(partfile_t *pf, time_t t);
/* pf_completed_at: 0 until set. */
time_t pf_completed_at(const partfile_t *pf);
void pf_set_completed_at(partfile_t *pf, time_t t);
/* pf_download_id: the download's id (dlattr.h), NULL when the metadata
 * has none (written by an older version). pf_set_download_id: -1 unless
 * dla_id_is_valid(id). */
const char *pf_download_id(const partfile_t *pf);
int pf_set_download_id(partfile_t *pf, const char *id);
/* pf_btih: the BitTorrent info-hash the download was added with
 * (dlattr.h), NULL for none. pf_set_btih: -1 unless dla_btih_is_valid. */
const char *pf_btih(const partfile_t *pf);
int pf_set_btih(partfile_t *pf, const char *btih);
const char *pf_added_by(const partfile_t *pf);
int pf_set_added_by(partfile_t *pf, const char *who, mt_error_t **err);
const char *pf_added_via(const partfile_t *pf);
int pf_set_added_via(partfile_t *pf, const char *via, mt_error_t **err);
/* Transfer counters, cumulative across restarts (saturating additions). */
uint64_t pf_downloaded_bytes(const partfile_t *pf);
void pf_set_downloaded_bytes(partfile_t *pf, uint64_t n);
void pf_add_downloaded_bytes(partfile_t *pf, uint64_t n);
uint64_t pf_uploaded_bytes(const partfile_t *pf);
void pf_set_uploaded_bytes(partfile_t *pf, uint64_t n);
void pf_add_uploaded_bytes(partfile_t *pf, uint64_t n);

/* The attributes of dlattr.h. pf_set_tags copies tags (already a valid
 * set). pf_set_share_limits: MT_ERR_INVALID (nothing changed) unless both
 * limits are valid. pf_set_last_activity: the Unix time of the last byte
 * received or sent (marks the metadata dirty only when it changes). */
const dla_tags_t *pf_tags(const partfile_t *pf);
void pf_set_tags(partfile_t *pf, const dla_tags_t *tags);
double pf_ratio_limit(const partfile_t *pf);
int pf_seeding_time_limit(const partfile_t *pf);
int pf_set_share_limits(partfile_t *pf, double ratio_limit, int seeding_time_limit,
                        mt_error_t **err);
/* Rate limits in bytes/s (0: none); pf_set_rate_limits: MT_ERR_INVALID
 * (nothing changed) unless both are in 0..DLA_RATE_MAX. */
int64_t pf_dl_limit(const partfile_t *pf);
int64_t pf_up_limit(const partfile_t *pf);
int pf_set_rate_limits(partfile_t *pf, int64_t dl_limit, int64_t up_limit, mt_error_t **err);
bool pf_force_start(const partfile_t *pf);
void pf_set_force_start(partfile_t *pf, bool on);
time_t pf_last_activity(const partfile_t *pf);
void pf_set_last_activity(partfile_t *pf, time_t t);

/* Known sources, oldest first, at most PF_MAX_SOURCES. pf_add_source adds
 * or refreshes (moves to the newest end; a NULL userhash keeps a known one)
 * ip:port, dropping the oldest when full; -1 for ip 0 or port 0.
 * pf_remove_source: 0 if it was known, -1 if not. pf_get_source: copies the
 * i-th into *out; false when i >= pf_source_count. */
int pf_add_source(partfile_t *pf, uint32_t ip, uint16_t port, const uint8_t *userhash);
int pf_remove_source(partfile_t *pf, uint32_t ip, uint16_t port);
size_t pf_source_count(const partfile_t *pf);
bool pf_get_source(const partfile_t *pf, size_t i, pf_source_t *out);

/* ---- Writing data ---- */

/* pf_write: writes len bytes at offset (pwrite, short writes retried).
 * Bytes already filled are skipped (the first copy of a byte wins; this
 * covers every verified part), so a part that is fully filled never changes
 * under a verification. Marks what was written filled and the metadata
 * dirty. MT_ERR_INVALID when [offset, offset+len) goes beyond the size;
 * MT_ERR_NO_SPACE (a full disk) or MT_ERR_IO: the gaps written before the
 * error stay filled, the one that failed stays unfilled (bytes a short
 * write left there are never trusted). */
int pf_write(partfile_t *pf, uint64_t offset, const void *data, size_t len, mt_error_t **err);

/* ---- Verification of one part ---- */

typedef struct pf_verify_job pf_verify_job_t;

typedef enum {
    PF_VERIFY_OK = 0,    /* the part matched: it is now filled and verified */
    PF_VERIFY_CORRUPT,   /* mismatch of a filled part: its ranges were discarded */
    PF_VERIFY_UNCHANGED, /* nothing changed: speculative mismatch, or the part
                            changed while it was read (verify it again later) */
    PF_VERIFY_ERROR,     /* the read failed; see pf_verify_error */
} pf_verify_result_t;

/* pf_unverify_part: part i is no longer counted verified (its bytes stay
 * filled) so that a check (pf_verify_prepare) can verify it again: a
 * re-check asked for by the user. Nothing for the phantom part or a part
 * not verified. */
void pf_unverify_part(partfile_t *pf, size_t part);
/* pf_verify_prepare (loop thread): a job that reads part i and compares its
 * MD4 with pf_part_hash(i). NULL when the part cannot be verified now: out
 * of range, the phantom part, already verified, hash unknown, or (unless
 * speculative) not fully filled. A speculative job checks whatever is on
 * disk (after a restart) and never discards anything. */
pf_verify_job_t *pf_verify_prepare(partfile_t *pf, size_t part, bool speculative);
/* pf_verify_run (any thread): reads the part with pread from a descriptor
 * of its own (opened and closed in the run) and hashes it. 0 when the part was read (match or not:
 * see pf_verify_apply); -1 on an I/O error (pf_verify_error says which). */
int pf_verify_run(pf_verify_job_t *job);
/* pf_verify_apply (loop thread, with the partfile the job came from). */
pf_verify_result_t pf_verify_apply(partfile_t *pf, pf_verify_job_t *job);
size_t pf_verify_part(const pf_verify_job_t *job);
bool pf_verify_is_speculative(const pf_verify_job_t *job);
/* pf_verify_matched: after a successful run, whether the hash matched. */
bool pf_verify_matched(const pf_verify_job_t *job);
const char *pf_verify_error(const pf_verify_job_t *job);
/* pf_verify_keep_on_mismatch: before pf_verify_apply: a mismatch leaves
 * the part's bytes filled (still unverified), for an AICH recovery that
 * then calls pf_discard_blocks, or pf_discard_part when it cannot. */
void pf_verify_keep_on_mismatch(pf_verify_job_t *job);
/* pf_verify_blocks: after a run, the SHA-1 of each AICH block of the part
 * as it was read (*blocks points into the job); returns their number. */
size_t pf_verify_blocks(const pf_verify_job_t *job, const uint8_t (**blocks)[ED2K_AICH_LEN]);
/* pf_discard_part: the whole of an unverified part is a gap again.
 * pf_discard_blocks: the AICH blocks i of the part with bad[i] (n flags)
 * are gaps again; returns the bytes discarded. */
void pf_discard_part(partfile_t *pf, size_t part);
uint64_t pf_discard_blocks(partfile_t *pf, size_t part, const bool *bad, size_t n);
void pf_verify_job_free(pf_verify_job_t *job);

/* pf_unverified_parts: writes up to max indices of parts not verified yet
 * (never the phantom part) into out, ascending; returns how many it wrote. */
size_t pf_unverified_parts(const partfile_t *pf, size_t *out, size_t max);

/* ---- Saving the metadata ---- */

typedef struct pf_save_job pf_save_job_t;

/* pf_is_dirty: the metadata changed since the last pf_save_prepare. */
bool pf_is_dirty(const partfile_t *pf);
/* pf_save_prepare (loop thread): NULL when clean; else serialises the
 * metadata and marks the partfile clean. */
pf_save_job_t *pf_save_prepare(partfile_t *pf);
/* pf_save_run (any thread): fdatasync(data) (through a descriptor of its
 * own), write H.part.met.tmp, fsync it, rename it over H.part.met, fsync
 * the directory. Jobs of one partfile are serialised internally and an
 * older snapshot never replaces a newer one; after the files were deleted
 * or completed the job does nothing. On -1 (MT_ERR_NO_SPACE, MT_ERR_IO)
 * H.part.met is still the previous save; call pf_save_failed. */
int pf_save_run(pf_save_job_t *job, mt_error_t **err);
/* pf_save_failed (loop thread): marks the metadata dirty again. */
void pf_save_failed(partfile_t *pf);
void pf_save_job_free(pf_save_job_t *job);
/* pf_save_now: prepare + run on the calling thread (0 when clean). */
int pf_save_now(partfile_t *pf, mt_error_t **err);

/* ---- Completion ---- */

typedef struct pf_complete_job pf_complete_job_t;

/* pf_complete_prepare (loop thread): NULL unless pf_is_complete. */
pf_complete_job_t *pf_complete_prepare(partfile_t *pf, const char *incoming_dir);
/* pf_complete_run (any thread): hashes the whole data file (ed2k_hash_file)
 * and compares the file hash and, when known, the AICH root (mismatch:
 * MT_ERR_INVALID, nothing moved); fsyncs it; moves it into incoming_dir
 * under the sanitised name, never replacing a file ("name (1).ext", ...),
 * by rename, or across file systems by copy to a temporary name + fsync +
 * rename + unlink; then removes the metadata. Once the file has its final
 * name the run succeeds: later trouble (syncing a directory, removing the
 * source or the metadata) is logged as a warning. */
int pf_complete_run(pf_complete_job_t *job, mt_error_t **err);
/* pf_complete_path: where the file went (NULL before a successful run). */
const char *pf_complete_path(const pf_complete_job_t *job);
/* pf_complete_hash: the hashes (file, parts, AICH) the run computed of the
 * completed file, to share it without reading it again (NULL before a
 * successful run). Owned by the job. */
const ed2k_hash_result_t *pf_complete_hash(const pf_complete_job_t *job);
/* pf_complete_force_copy: test hook; the move behaves as if rename had
 * failed with EXDEV. */
void pf_complete_force_copy(pf_complete_job_t *job);
void pf_complete_job_free(pf_complete_job_t *job);

/* pf_delete_files: removes H.part, H.part.met and H.part.met.tmp (blocking;
 * a missing file is fine). Saves still in flight will not recreate them. */
int pf_delete_files(partfile_t *pf, mt_error_t **err);

#endif
