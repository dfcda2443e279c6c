/* download.c: the download queue (download.h): downloads added, paused,
 * resumed, stopped and deleted, their parts verified and the finished file
 * moved on worker threads (partfile.h), their metadata saved, storage
 * trouble and its re-checks, and what the bus hears of it all. Their
 * sources, the conversations with peers, are source.c's. */
#include "config.h"

#include "daemon/transfer/download.h"
#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/core/worker.h"
#include "daemon/transfer/category.h"
#include "daemon/transfer/download_int.h"
#include "daemon/transfer/finished.h"
#include "daemon/transfer/shared.h"
#include "daemon/transfer/source.h"
#include "ed2k/hash.h"
#include "ed2k/link.h"
#include "util/bug.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

/* Storage trouble (a full disk, a write or move refused): the first
 * re-check after IO_RETRY_FIRST seconds, then twice as long each time, up
 * to IO_RETRY_MAX_SPACE while waiting for free space (a cheap statvfs) and
 * IO_RETRY_MAX otherwise (the I/O itself is tried again). A download that
 * went IO_CALM seconds without trouble starts again from the first delay. */
#define IO_RETRY_FIRST 5
#define IO_RETRY_MAX_SPACE 60
#define IO_RETRY_MAX 300
#define IO_CALM 600
/* Free space a full temporary directory must have again before writing
 * resumes: a few blocks. */
#define IO_ROOM (4 * ED2K_EMBLOCKSIZE)

/* ------------------------------------------------------------ the bus */

/* dl_info: what the bus says of the download (its strings are the part
 * file's: valid until it changes). */
static void
dl_info(const download_t *dl, bus_dl_info_t *info)
{
    partfile_t *pf = dl->pf;
    *info = (bus_dl_info_t){
        .hex = dl->hex,
        .download_id = pf_download_id(pf),
        .name = pf_name(pf),
        .size = pf_size(pf),
        .category = pf_category(pf),
        .downloaded = pf_downloaded_bytes(pf),
        .uploaded = pf_uploaded_bytes(pf),
        .added_by = pf_added_by(pf),
        .added_via = pf_added_via(pf),
    };
}

/* bus_state: the download's state for the bus. */
static bus_dl_state_t
bus_state(const download_t *dl)
{
    if (dl->failed)
        return BUS_DLS_FAILED;
    if (dl->io_error)
        return BUS_DLS_ERROR;
    switch (pf_state(dl->pf)) {
    case PF_STATE_PAUSED:
        return BUS_DLS_PAUSED;
    case PF_STATE_STOPPED:
        return BUS_DLS_STOPPED;
    default:
        return BUS_DLS_ACTIVE;
    }
}

/* publish_state: tells the bus the download went from one state to the
 * one it is in now (nothing when they are the same). */
static void
publish_state(const download_t *dl, bus_dl_state_t from)
{
    bus_dl_state_t to = bus_state(dl);
    if (to == from)
        return;
    bus_dl_info_t info;
    dl_info(dl, &info);
    bus_dl_state_ev_t ev = { .info = &info, .dl = dl, .from = from, .to = to,
                             .error = dl->error, .no_space = to == BUS_DLS_ERROR && dl->io_no_space };
    if (to == BUS_DLS_FAILED)
        bus_publish_dl_failed(dl->q->d->bus, &ev);
    else
        bus_publish_dl_state(dl->q->d->bus, &ev);
}

bool
dl_is_active(const download_t *dl)
{
    return !dl->deleted && !dl->completing && !dl->failed && !dl->io_error &&
           pf_state(dl->pf) == PF_STATE_ACTIVE && !pf_is_complete(dl->pf);
}

/* Parts of the download this source has and we still lack. */

/* ------------------------------------------------------------ verification */

typedef struct {
    download_t *dl;
    pf_verify_job_t *job;
    bool aich; /* a mismatch keeps the bytes for an AICH recovery */
} verify_ctx_t;

static void download_release(download_t *dl);

static void
verify_run(void *arg)
{
    verify_ctx_t *c = arg;
    pf_verify_run(c->job);
}

static void
verify_done(void *arg, int cancelled)
{
    verify_ctx_t *c = arg;
    download_t *dl = c->dl;
    size_t part = pf_verify_part(c->job);
    /* the check was of a part of this download, marked while it ran */
    if (MT_BUG(part >= dl->n_parts)) {
        cancelled = 1; /* nothing to apply it to */
    } else {
        (void)MT_BUG(!dl->parts[part].verifying);
        dl->parts[part].verifying = false;
    }
    if (!cancelled && !dl->deleted) {
        uint64_t done_before = pf_done_bytes(dl->pf);
        pf_verify_result_t r = pf_verify_apply(dl->pf, c->job);
        switch (r) {
        case PF_VERIFY_OK:
            /* Bytes found complete on disk after a crash were received
             * after the last metadata save, which holds the downloaded
             * counter too: they count now, so that the counter (and the
             * history's downloaded_bytes) stays exact across crashes. */
            if (pf_verify_is_speculative(c->job) && pf_done_bytes(dl->pf) > done_before)
                pf_add_downloaded_bytes(dl->pf, pf_done_bytes(dl->pf) - done_before);
            bus_publish_dl_part_verified(dl->q->d->bus,
                                         &(bus_dl_part_t){ .dl = dl, .part = part, .ok = true });
            src_clear_blame(dl, part);
            log_info("download %s: part %zu verified%s", dl->hex, part,
                     pf_verify_is_speculative(c->job) ? " (found complete on disk)" : "");
            break;
        case PF_VERIFY_CORRUPT: {
            bus_publish_dl_part_verified(dl->q->d->bus,
                                         &(bus_dl_part_t){ .dl = dl, .part = part, .ok = false });
            const uint8_t (*blocks)[ED2K_AICH_LEN];
            size_t nb = pf_verify_blocks(c->job, &blocks);
            if (c->aich && src_aich_recover(dl, part, blocks, nb)) {
                log_warn("download %s: part %zu is corrupt; asking for its AICH recovery data",
                         dl->hex, part);
                break;
            }
            log_warn("download %s: part %zu is corrupt; downloading it again", dl->hex, part);
            if (c->aich)
                pf_discard_part(dl->pf, part);
            src_blame_corrupt(dl, part);
            break;
        }
        case PF_VERIFY_UNCHANGED:
            if (!pf_verify_is_speculative(c->job))
                dl_schedule_verification(dl, part, false);
            break;
        case PF_VERIFY_ERROR:
            log_error("download %s: cannot verify part %zu: %s", dl->hex, part,
                      pf_verify_error(c->job));
            break;
        }
    }
    pf_verify_job_free(c->job);
    free(c);
    download_release(dl);
}

void
dl_schedule_verification(download_t *dl, size_t part, bool speculative)
{
    if (part >= dl->n_parts || dl->parts[part].verifying || dl->parts[part].recovering ||
        dl->deleted)
        return;
    pf_verify_job_t *job = pf_verify_prepare(dl->pf, part, speculative);
    if (job == NULL)
        return;
    verify_ctx_t *c = xcalloc(1, sizeof *c);
    c->dl = dl;
    c->job = job;
    /* With a trusted AICH root, a corrupt part may cost only its bad
     * blocks (src_aich_recover). */
    c->aich = !speculative && pf_aich_root(dl->pf) != NULL &&
              ed2k_aich_recoverable(pf_size(dl->pf), part);
    if (c->aich)
        pf_verify_keep_on_mismatch(job);
    dl->parts[part].verifying = true;
    dl->refs++;
    worker_submit(dl->q->d->workers, verify_run, verify_done, c);
}

/* -------------------------------------------------------------- completion */

typedef struct {
    download_t *dl;
    pf_complete_job_t *job;
    int rc;
    mt_error_t *err;
} complete_ctx_t;

static void
complete_run(void *arg)
{
    complete_ctx_t *c = arg;
    c->rc = pf_complete_run(c->job, &c->err);
    if (c->rc != 0 && c->err == NULL)
        mt_error_set(&c->err, MT_ERR_IO, "the file could not be moved");
}

static void dl_remove(download_t *dl);

static void
complete_done(void *arg, int cancelled)
{
    complete_ctx_t *c = arg;
    download_t *dl = c->dl;
    muleteerd_t *d = dl->q->d;
    /* A completion ends a download that is completing, once: it cannot be
     * deleted meanwhile (dl_delete refuses). */
    if (cancelled || MT_BUG(!dl->completing || dl->deleted)) {
        dl->completing = false;
    } else if (c->rc != 0 && c->err->code != MT_ERR_INVALID) {
        /* The file could not be moved (a full or refused incoming
         * directory): it stays complete in the temporary directory, and the
         * move is tried again once the trouble looks gone. */
        dl->completing = false;
        dl_storage_trouble(dl, c->err, true);
    } else if (c->rc != 0) {
        log_error("download %s: completing failed: %s", dl->hex, c->err->message);
        bus_dl_state_t from = bus_state(dl);
        dl->completing = false;
        dl->failed = true;
        free(dl->error);
        dl->error = xstrdup(c->err->message);
        publish_state(dl, from);
    } else {
        const char *path = pf_complete_path(c->job);
        log_info("download %s: complete: %s", dl->hex, path);
        struct stat st;
        const ed2k_hash_result_t *h = pf_complete_hash(c->job);
        if (h != NULL && stat(path, &st) == 0)
            shared_add(d->shared, path, (uint64_t)st.st_size, (int64_t)st.st_mtime, h);
        /* history records it; it stays listed, as a finished download,
         * until removed */
        bus_dl_info_t info;
        dl_info(dl, &info);
        bus_publish_dl_completed(
            d->bus, &(bus_dl_completed_t){ .info = &info, .dl = dl, .pf = dl->pf, .path = path });
        dl->deleted = true; /* leaves the queue */
        dl_remove(dl);
    }
    pf_complete_job_free(c->job);
    mt_error_free(c->err);
    free(c);
    download_release(dl);
}

/* The incoming directory the download completes into: its category's
 * (made when the category was), else incoming_dir. */
static const char *
incoming_of(const download_t *dl)
{
    muleteerd_t *d = dl->q->d;
    /* the category's incoming directory (made when the category was),
     * still inside incoming_dir or download_roots */
    if (pf_save_path(dl->pf) != NULL) {
        /* its own location (setLocation), checked again as a category's
         * is: a link may have changed since */
        mt_error_t *err = NULL;
        char *dir = cat_check_dir(d->categories, pf_save_path(dl->pf), &err);
        if (dir != NULL) {
            free(dir);
            return pf_save_path(dl->pf);
        }
        log_warn("download %s: %s; it completes into its category's directory", dl->hex,
                 err->message);
        mt_error_free(err);
    }
    return cat_complete_dir(d->categories, pf_category(dl->pf));
}

static void
maybe_complete(download_t *dl)
{
    if (dl->completing || dl->deleted || dl->failed || dl->io_error || !pf_is_complete(dl->pf))
        return;
    src_stop_all(dl); /* free the peers' slots first */
    pf_set_completed_at(dl->pf, time(NULL));
    pf_save_now(dl->pf, NULL);
    muleteerd_t *d = dl->q->d;
    pf_complete_job_t *job = pf_complete_prepare(dl->pf, incoming_of(dl));
    if (job == NULL)
        return;
    dl->completing = true;
    complete_ctx_t *c = xcalloc(1, sizeof *c);
    c->dl = dl;
    c->job = job;
    dl->refs++;
    log_info("download %s: all parts verified; checking and moving the file", dl->hex);
    worker_submit(d->workers, complete_run, complete_done, c);
}

/* ----------------------------------------------------------------- saving */

typedef struct {
    download_t *dl;
    pf_save_job_t *job;
    int rc;
    mt_error_t *err;
} save_ctx_t;

static void
save_run(void *arg)
{
    save_ctx_t *c = arg;
    c->rc = pf_save_run(c->job, &c->err);
}

static void
save_done(void *arg, int cancelled)
{
    save_ctx_t *c = arg;
    download_t *dl = c->dl;
    (void)MT_BUG(!dl->saving); /* one save at a time; it ends now either way */
    dl->saving = false;
    if ((cancelled || c->rc != 0) && !dl->deleted) {
        pf_save_failed(dl->pf);
        /* The metadata cannot be written (the previous save stays on
         * disk): no more data is taken until it can. */
        if (c->err != NULL)
            dl_storage_trouble(dl, c->err, false);
    }
    pf_save_job_free(c->job);
    mt_error_free(c->err);
    free(c);
    download_release(dl);
}

static void
save_async(download_t *dl)
{
    if (dl->saving || dl->deleted || !pf_is_dirty(dl->pf) || (dl->io_error && !dl->io_move))
        return;
    pf_save_job_t *job = pf_save_prepare(dl->pf);
    if (job == NULL)
        return;
    save_ctx_t *c = xcalloc(1, sizeof *c);
    c->dl = dl;
    c->job = job;
    dl->saving = true;
    dl->refs++;
    worker_submit(dl->q->d->workers, save_run, save_done, c);
}

/* -------------------------------------------------------- storage trouble */

static unsigned
io_next_backoff(const download_t *dl)
{
    unsigned cap = dl->io_no_space ? IO_RETRY_MAX_SPACE : IO_RETRY_MAX;
    unsigned b = dl->io_backoff * 2;
    return b < IO_RETRY_FIRST ? IO_RETRY_FIRST : b > cap ? cap : b;
}

/* dl_storage_trouble: the disk refused a write, a metadata save (move false)
 * or the move into incoming (move true). The download goes into the error
 * state with err's message, which the control socket, the downloads table
 * and /api/v2 show, and does no more disk I/O until io_recheck. Logged
 * once. */
void
dl_storage_trouble(download_t *dl, const mt_error_t *err, bool move)
{
    if (dl->io_error || dl->deleted)
        return;
    time_t now = clock_mono_s();
    bus_dl_state_t from = bus_state(dl);
    dl->io_error = true;
    dl->io_move = move;
    dl->io_no_space = err->code == MT_ERR_NO_SPACE;
    dl->io_backoff = dl->io_backoff == 0 || now - dl->io_ok_since >= IO_CALM
                         ? IO_RETRY_FIRST
                         : io_next_backoff(dl);
    dl->io_retry_at = now + dl->io_backoff;
    free(dl->error);
    dl->error = xstrdup(err->message);
    log_error("download %s: %s; %s until %s (checked again in %u s)", dl->hex, err->message,
              move ? "the file stays in the temporary directory" : "its transfers stop",
              dl->io_no_space ? "there is room again" : "this is solved", dl->io_backoff);
    if (!move) {
        dl->io_stop = true;
        dl->q->io_stops = true;
    }
    publish_state(dl, from);
}

/* Stops the sources of downloads that ran into storage trouble. */
void
dlq_apply_io_stops(dlq_t *q)
{
    q->io_stops = false;
    for (size_t i = 0; i < q->n; i++) {
        if (q->dls[i]->io_stop) {
            q->dls[i]->io_stop = false;
            src_stop_all(q->dls[i]);
        }
    }
}

/* has_room: whether the file system of dir has need bytes free for us
 * (true when that cannot be told: the I/O itself will say). */
static bool
has_room(const char *dir, uint64_t need)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) != 0)
        return true;
    return (uint64_t)sv.f_bavail * sv.f_frsize >= need;
}

static bool
same_fs(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev;
}

/* leave_trouble: the download leaves the error state of storage trouble
 * and goes back to what it was doing: its sources are asked again, or the
 * move is tried again (maybe_complete). */
static void
leave_trouble(download_t *dl)
{
    dl->io_error = false;
    dl->io_stop = false;
    dl->io_ok_since = clock_mono_s();
    free(dl->error);
    dl->error = NULL;
    if (!dl->io_move)
        src_ask_again(dl);
}

/* clear_trouble: leave_trouble, told to the bus. */
static void
clear_trouble(download_t *dl)
{
    bus_dl_state_t from = bus_state(dl);
    leave_trouble(dl);
    publish_state(dl, from);
}

/* io_recheck: the periodic re-check of a download in storage trouble. A
 * full disk must have room again first (statvfs: the temporary directory
 * a few blocks, the incoming directory the whole file when the move is a
 * copy); otherwise the I/O is simply tried again. */
static void
io_recheck(download_t *dl, time_t now)
{
    const char *temp = conf_get_str(dl->q->d->conf, "temp_dir");
    if (dl->io_no_space) {
        const char *dir = dl->io_move ? incoming_of(dl) : temp;
        uint64_t need = IO_ROOM;
        if (dl->io_move && !same_fs(dir, temp))
            need += pf_size(dl->pf);
        if (!has_room(dir, need)) {
            dl->io_backoff = io_next_backoff(dl);
            dl->io_retry_at = now + dl->io_backoff;
            log_debug("download %s: still no room in %s; checked again in %u s", dl->hex, dir,
                      dl->io_backoff);
            return;
        }
    }
    log_info("download %s: %s again (it failed with: %s)", dl->hex,
             dl->io_move ? "moving the file" : "downloading", dl->error);
    clear_trouble(dl);
}

/* ------------------------------------------------------------ the queue */

static download_t *
download_new(dlq_t *q, partfile_t *pf)
{
    download_t *dl = xcalloc(1, sizeof *dl);
    dl->q = q;
    dl->pf = pf;
    ed2k_hash_to_hex(pf_hash(pf), dl->hex);
    dl->n_parts = pf_part_count(pf);
    dl->availability = xcalloc(dl->n_parts, sizeof *dl->availability);
    dl->parts = xcalloc(dl->n_parts, sizeof *dl->parts);
    /* Every download has an id; part files of older versions get one now
     * (saved with the next metadata save). */
    if (pf_download_id(pf) == NULL) {
        char id[DLA_ID_LEN + 1];
        mt_error_t *err = NULL;
        if (dla_id_new(id, &err) == 0) {
            pf_set_download_id(pf, id);
        } else {
            log_error("download %s: no download id: %s", dl->hex, err->message);
            mt_error_free(err);
        }
    }
    q->dls = xreallocarray(q->dls, q->n + 1, sizeof *q->dls);
    q->dls[q->n++] = dl;
    return dl;
}

static void
download_free(download_t *dl)
{
    if (MT_BUG(dl->refs != 0))
        return; /* a job still holds it: leaked rather than used after free */
    src_free_all(dl);
    for (size_t i = 0; i < dl->n_parts; i++)
        src_aich_clear(dl, i);
    pf_free(dl->pf);
    free(dl->availability);
    free(dl->parts);
    free(dl->error);
    free(dl);
}

/* Drops a job's reference; a deleted download is freed with its last. */
static void
download_release(download_t *dl)
{
    if (MT_BUG(dl->refs <= 0))
        return;
    dl->refs--;
    if (dl->deleted && dl->refs == 0)
        download_free(dl);
}

/* Takes dl out of the queue (it is freed once no job refers to it). */
static void
dl_remove(download_t *dl)
{
    dlq_t *q = dl->q;
    bool queued = false;
    for (size_t i = 0; i < q->n; i++) {
        if (q->dls[i] == dl) {
            memmove(&q->dls[i], &q->dls[i + 1], (q->n - i - 1) * sizeof *q->dls);
            q->n--;
            queued = true;
            break;
        }
    }
    if (MT_BUG(!queued))
        return; /* removed already: it may be gone */
    src_cancel_slots(dl);
    src_free_all(dl);
    dl->deleted = true;
    if (dl->refs == 0)
        download_free(dl);
}

/* relabel: the downloads labelled old take new_name (NULL: none); saved
 * with the next metadata save. */
static void
relabel(dlq_t *q, const char *old, const char *new_name)
{
    for (size_t i = 0; i < q->n; i++) {
        partfile_t *pf = q->dls[i]->pf;
        if (pf_category(pf) != NULL && strcmp(pf_category(pf), old) == 0)
            pf_set_category(pf, new_name, NULL);
    }
}

static void
on_cat_changed(void *ctx, const bus_category_t *ev)
{
    if (strcmp(ev->old_name, ev->name) != 0)
        relabel(ctx, ev->old_name, ev->name);
}

static void
on_cat_removed(void *ctx, const bus_category_t *ev)
{
    relabel(ctx, ev->name, NULL);
}

dlq_t *
dlq_new(muleteerd_t *d)
{
    dlq_t *q = xcalloc(1, sizeof *q);
    q->d = d;
    q->last_save = clock_mono_s();
    bus_on_cat_changed(d->bus, on_cat_changed, q);
    bus_on_cat_removed(d->bus, on_cat_removed, q);
    src_attach(q);
    return q;
}

static void
loaded_cb(partfile_t *pf, void *ctx)
{
    dlq_t *q = ctx;
    if (dlq_find(q, pf_hash(pf)) != NULL) {
        pf_free(pf);
        return;
    }
    download_t *dl = download_new(q, pf);
    dl->recovered = true;
    src_restore(dl);
    /* Crash recovery: whatever is on disk for a part that is not verified
     * is checked against the part hash rather than trusted or discarded. */
    size_t n = pf_data_part_count(pf);
    for (size_t i = 0; i < n; i++)
        if (!pf_is_part_verified(pf, i))
            dl_schedule_verification(dl, i, !pf_is_part_filled(pf, i));
    log_info("download %s: resumed \"%s\" (%llu of %llu bytes verified, %zu sources)", dl->hex,
             pf_name(pf), (unsigned long long)pf_verified_bytes(pf),
             (unsigned long long)pf_size(pf), dl->n_sources);
    maybe_complete(dl);
}

int
dlq_adopt(dlq_t *q, partfile_t *pf, mt_error_t **err)
{
    if (dlq_find(q, pf_hash(pf)) != NULL) {
        mt_error_set(err, MT_ERR_EXISTS, "already downloading this file");
        return -1;
    }
    download_t *dl = download_new(q, pf);
    /* What was written elsewhere is checked against the part hashes before
     * it counts, as after a crash. */
    size_t n = pf_data_part_count(pf);
    for (size_t i = 0; i < n; i++)
        if (!pf_is_part_verified(pf, i))
            dl_schedule_verification(dl, i, !pf_is_part_filled(pf, i));
    log_info("download %s: imported \"%s\" (%llu of %llu bytes present)", dl->hex, pf_name(pf),
             (unsigned long long)pf_done_bytes(pf), (unsigned long long)pf_size(pf));
    bool stopped = pf_state(pf) == PF_STATE_STOPPED;
    bus_dl_info_t info;
    dl_info(dl, &info);
    bus_publish_dl_added(q->d->bus,
                         &(bus_dl_added_t){ .info = &info, .dl = dl, .stopped = stopped });
    maybe_complete(dl);
    return 0;
}

static void
failed_cb(const char *path, const mt_error_t *err, void *ctx)
{
    (void)ctx;
    log_error("cannot resume %s: %s", path, err->message);
}

int
dlq_load(dlq_t *q, mt_error_t **err)
{
    const char *dir = conf_get_str(q->d->conf, "temp_dir");
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        mt_error_set(err, MT_ERR_IO, "cannot create temp_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    if (pf_load_dir(dir, loaded_cb, failed_cb, q) < 0) {
        mt_error_set(err, MT_ERR_IO, "cannot read temp_dir %s", dir);
        return -1;
    }
    return 0;
}

void
dlq_shutdown(dlq_t *q)
{
    for (size_t i = 0; i < q->n; i++) {
        download_t *dl = q->dls[i];
        src_cancel_downloading(dl);
        mt_error_t *err = NULL;
        if (!dl->deleted && pf_save_now(dl->pf, &err) != 0) {
            log_error("download %s: cannot save: %s", dl->hex, err->message);
            mt_error_free(err);
        }
    }
}

void
dlq_free(dlq_t *q)
{
    if (q == NULL)
        return;
    bus_unsubscribe_ctx(q->d->bus, q);
    for (size_t i = 0; i < q->n; i++) {
        q->dls[i]->deleted = true;
        if (q->dls[i]->refs == 0)
            download_free(q->dls[i]);
        /* else: freed by its last job's completion (worker_pool_free runs
         * them before the pool goes) */
    }
    free(q->dls);
    free(q);
}

void
dl_set_priority(download_t *dl, int prio)
{
    pf_set_priority(dl->pf, prio < 0 ? DLA_PRIO_LOW : prio > 0 ? DLA_PRIO_HIGH : DLA_PRIO_NORMAL);
    save_async(dl);
}

/* Downloads by priority, highest first (stable within a priority), so
 * their sources get the connection slots first. */
static int
cmp_priority(const void *a, const void *b)
{
    const download_t *da = *(download_t *const *)a, *db = *(download_t *const *)b;
    return pf_priority(db->pf) - pf_priority(da->pf);
}

void
dlq_tick(dlq_t *q)
{
    time_t now = clock_mono_s();
    muleteerd_t *d = q->d;
    bool save = now - q->last_save >= conf_get_int(d->conf, "save_interval");
    if (save)
        q->last_save = now;
    if (q->n > 1) {
        /* insertion sort: stable, and the list is almost always sorted */
        for (size_t i = 1; i < q->n; i++)
            for (size_t j = i; j > 0 && cmp_priority(&q->dls[j - 1], &q->dls[j]) > 0; j--) {
                download_t *t = q->dls[j];
                q->dls[j] = q->dls[j - 1];
                q->dls[j - 1] = t;
            }
    }
    if (q->io_stops)
        dlq_apply_io_stops(q);
    /* speed: exponential average over about 5 s; the downloads that
     * received data this tick go to the bus */
    const download_t **grew = xcalloc(q->n + 1, sizeof *grew);
    size_t n_grew = 0;
    for (size_t i = 0; i < q->n; i++) {
        download_t *dl = q->dls[i];
        dl->rate = dl->rate * 0.8 + (double)dl->bytes_tick * 0.2;
        if (dl->bytes_tick > 0)
            grew[n_grew++] = dl;
        dl->bytes_tick = 0;
    }
    if (n_grew > 0)
        bus_publish_dl_progress(d->bus, &(bus_dl_progress_t){ .dls = grew, .n = n_grew });
    free(grew);
    for (size_t i = 0; i < q->n; i++) {
        download_t *dl = q->dls[i];
        if (dl->io_error && now >= dl->io_retry_at)
            io_recheck(dl, now);
        src_tick(dl, now);
        if (i < q->n && q->dls[i] == dl) {
            src_apply_rate_limit(dl);
            maybe_complete(dl);
            if (save)
                save_async(dl);
        }
    }
}

/* --------------------------------------------------------------- commands */

download_t *
dlq_find(const dlq_t *q, const uint8_t hash[16])
{
    return dlq_lookup(q, hash);
}

download_t *
dlq_find_hex(const dlq_t *q, const char *hex)
{
    uint8_t h[16];
    if (ed2k_hash_from_hex(hex, h) != 0)
        return NULL;
    return dlq_find(q, h);
}

download_t *
dlq_find_btih(const dlq_t *q, const char *btih)
{
    for (size_t i = 0; btih != NULL && i < q->n; i++) {
        const char *b = pf_btih(q->dls[i]->pf);
        if (b != NULL && strcmp(b, btih) == 0)
            return q->dls[i];
    }
    return NULL;
}

size_t
dlq_count(const dlq_t *q)
{
    return q->n;
}

download_t *
dlq_get(const dlq_t *q, size_t i)
{
    return i < q->n ? q->dls[i] : NULL;
}

uint64_t
dlq_rate(const dlq_t *q)
{
    double r = 0;
    for (size_t i = 0; i < q->n; i++)
        r += q->dls[i]->rate;
    return (uint64_t)r;
}

int
dlq_add_link(dlq_t *q, const char *text, const dl_add_opts_t *o, download_t **out,
             mt_error_t **err)
{
    const char *category = o->category, *added_by = o->added_by, *added_via = o->added_via;
    if (out != NULL)
        *out = NULL;
    if (!dla_ratio_limit_is_valid(o->ratio_limit) ||
        !dla_seeding_time_limit_is_valid(o->seeding_time_limit)) {
        mt_error_set(err, MT_ERR_INVALID, "share limits out of range");
        return -1;
    }
    if (o->btih != NULL && !dla_btih_is_valid(o->btih)) {
        mt_error_set(err, MT_ERR_INVALID, "\"btih\" must be 40 lower-case hex digits");
        return -1;
    }
    ed2k_link_t *l = NULL;
    if (ed2k_link_parse(text, &l, err) != 0)
        return -1;
    int rc = -1;
    if (l->type != ED2K_LINK_FILE) {
        mt_error_set(err, MT_ERR_INVALID,
                     "a server link, not a file link: use servers-import (muleteer servers import)");
        goto out;
    }
    download_t *dl = dlq_find(q, l->hash);
    if (dl != NULL) {
        src_add_link_sources(q, l);
        mt_error_set(err, MT_ERR_EXISTS, "already downloading %s", dl->hex);
        if (out != NULL)
            *out = dl;
        goto out;
    }
    if (fin_find(q->d->finished, l->hash) != NULL) {
        mt_error_set(err, MT_ERR_EXISTS, "this file is already complete (a finished download)");
        goto out;
    }
    if (shared_find(q->d->shared, l->hash) != NULL) {
        mt_error_set(err, MT_ERR_EXISTS, "this file is already complete and shared");
        goto out;
    }
    /* a btih names one download, as an info-hash names one torrent */
    if (o->btih != NULL &&
        (dlq_find_btih(q, o->btih) != NULL || fin_find_btih(q->d->finished, o->btih) != NULL)) {
        mt_error_set(err, MT_ERR_EXISTS, "btih %s is already another download's", o->btih);
        goto out;
    }
    const char *dir = conf_get_str(q->d->conf, "temp_dir");
    mkdir(dir, 0750);
    /* An add that cannot be honoured (no descriptor, no room, no access)
     * fails here and leaves nothing behind (pf_create). */
    partfile_t *pf = pf_create(dir, l->hash, l->size, l->name, err);
    if (pf == NULL) {
        mt_error_prefix(err, "cannot add \"%s\"", l->name);
        goto out;
    }
    /* a new category is created, as qBittorrent does (once the download
     * exists, so that a failed add creates no category either) */
    if ((category != NULL && *category != '\0' &&
         cat_ensure(q->d->categories, category, err) != 0) ||
        (l->n_part_hashes > 0 &&
         pf_set_hashset(pf, (const uint8_t(*)[16])l->part_hashes, l->n_part_hashes, err) != 0)) {
        pf_delete_files(pf, NULL);
        pf_free(pf);
        goto out;
    }
    if (l->has_aich)
        pf_set_aich_root(pf, l->aich);
    if ((category != NULL && *category != '\0' && pf_set_category(pf, category, err) != 0) ||
        (added_by != NULL && pf_set_added_by(pf, added_by, err) != 0) ||
        (added_via != NULL && pf_set_added_via(pf, added_via, err) != 0)) {
        pf_delete_files(pf, NULL);
        pf_free(pf);
        goto out;
    }
    if (o->btih != NULL)
        pf_set_btih(pf, o->btih);
    pf_set_added_at(pf, time(NULL));
    pf_set_priority(pf, o->priority);
    if (o->tags != NULL)
        pf_set_tags(pf, o->tags);
    pf_set_share_limits(pf, o->ratio_limit, o->seeding_time_limit, NULL);
    pf_set_force_start(pf, o->force_start);
    if (o->stopped)
        pf_set_state(pf, PF_STATE_STOPPED);
    dl = download_new(q, pf);
    src_add_link_sources(q, l);
    /* Saved at once, with the link's sources: a crash right after the add
     * loses nothing. */
    if (pf_save_now(pf, err) != 0) {
        pf_delete_files(pf, NULL);
        dl_remove(dl);
        dl = NULL;
        goto out;
    }
    log_info("download %s: added \"%s\" (%llu bytes, %zu source(s))%s", dl->hex, pf_name(pf),
             (unsigned long long)l->size, l->n_sources, o->stopped ? ", stopped" : "");
    bus_dl_info_t info;
    dl_info(dl, &info);
    bus_publish_dl_added(q->d->bus,
                         &(bus_dl_added_t){ .info = &info, .dl = dl, .stopped = o->stopped });
    if (out != NULL)
        *out = dl;
    rc = 0;
out:
    ed2k_link_free(l);
    return rc;
}

/* save_state: a state the user set (pause, stop, resume) is on disk before
 * the command answers, as its history event is: a crash right after the
 * answer must not bring the download back in its old state. Saved now on
 * the loop thread (small and rare); when that fails, later. */
static void
save_state(download_t *dl)
{
    mt_error_t *err = NULL;
    if (!(dl->io_error && !dl->io_move) && pf_save_now(dl->pf, &err) == 0)
        return;
    if (err != NULL) {
        log_warn("download %s: its new state is saved later: %s", dl->hex, err->message);
        mt_error_free(err);
    }
    save_async(dl);
}

int
dl_pause(download_t *dl)
{
    if (MT_BUG(dl->deleted)) /* out of the queue: nothing to change */
        return -1;
    bus_dl_state_t from = bus_state(dl);
    pf_set_state(dl->pf, PF_STATE_PAUSED);
    publish_state(dl, from);
    src_stop_all(dl);
    save_state(dl);
    return 0;
}

int
dl_stop(download_t *dl)
{
    if (MT_BUG(dl->deleted)) /* out of the queue: nothing to change */
        return -1;
    bus_dl_state_t from = bus_state(dl);
    pf_set_state(dl->pf, PF_STATE_STOPPED);
    publish_state(dl, from);
    src_stop_all(dl);
    save_state(dl);
    return 0;
}

int
dl_resume(download_t *dl)
{
    if (MT_BUG(dl->deleted))
        return -1;
    bus_dl_state_t from = bus_state(dl);
    pf_set_state(dl->pf, PF_STATE_ACTIVE);
    dl->failed = false;
    if (dl->io_error)
        leave_trouble(dl); /* tried again now */
    free(dl->error);
    dl->error = NULL;
    publish_state(dl, from);
    src_ask_again(dl);
    save_state(dl);
    return 0;
}

int
dl_set_category(download_t *dl, const char *category, mt_error_t **err)
{
    if (pf_set_category(dl->pf, category, err) != 0)
        return -1;
    save_async(dl);
    return 0;
}

void
dl_set_tags(download_t *dl, const dla_tags_t *tags)
{
    pf_set_tags(dl->pf, tags);
    save_async(dl);
}

int
dl_set_share_limits(download_t *dl, double ratio_limit, int seeding_time_limit,
                    mt_error_t **err)
{
    if (pf_set_share_limits(dl->pf, ratio_limit, seeding_time_limit, err) != 0)
        return -1;
    save_async(dl);
    return 0;
}

int
dl_set_name(download_t *dl, const char *name, mt_error_t **err)
{
    if (dl->completing) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "the download is being moved into place");
        return -1;
    }
    if (pf_set_name(dl->pf, name, err) != 0)
        return -1;
    log_info("download %s: renamed \"%s\"", dl->hex, name);
    save_async(dl);
    return 0;
}

int
dl_set_save_path(download_t *dl, const char *dir, mt_error_t **err)
{
    if (dl->completing) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "the download is being moved into place");
        return -1;
    }
    if (pf_set_save_path(dl->pf, dir, err) != 0)
        return -1;
    log_info("download %s: completes into %s", dl->hex, dir);
    save_async(dl);
    return 0;
}

void
dl_recheck(download_t *dl)
{
    if (dl->completing || dl->deleted)
        return;
    size_t n = 0;
    for (size_t i = 0; i < dl->n_parts; i++) {
        if (dl->parts[i].verifying || !pf_is_part_filled(dl->pf, i))
            continue;
        pf_unverify_part(dl->pf, i);
        dl_schedule_verification(dl, i, false);
        n += dl->parts[i].verifying;
    }
    log_info("download %s: re-checking %zu part(s)", dl->hex, n);
    save_async(dl);
}

void
dl_reannounce(download_t *dl)
{
    src_ask_again(dl);
}

int
dl_set_rate_limits(download_t *dl, int64_t dl_limit, int64_t up_limit, mt_error_t **err)
{
    if (pf_set_rate_limits(dl->pf, dl_limit, up_limit, err) != 0)
        return -1;
    src_apply_rate_limit(dl);
    save_async(dl);
    return 0;
}

void
dl_set_force_start(download_t *dl, bool on)
{
    pf_set_force_start(dl->pf, on);
    if (on && (pf_state(dl->pf) != PF_STATE_ACTIVE || dl->failed))
        dl_resume(dl); /* saves */
    else
        save_async(dl);
}

int
dl_delete(download_t *dl, mt_error_t **err)
{
    if (MT_BUG(dl->deleted)) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "the download is gone already");
        return -1;
    }
    if (dl->completing) {
        mt_error_set(err, MT_ERR_EXISTS, "the download is being completed");
        return -1;
    }
    int rc = pf_delete_files(dl->pf, err);
    log_info("download %s: deleted", dl->hex);
    bus_dl_info_t info;
    dl_info(dl, &info);
    bus_publish_dl_deleted(dl->q->d->bus, &(bus_dl_deleted_t){ .info = &info, .dl = dl });
    dl_remove(dl);
    return rc;
}

partfile_t *
dl_partfile(const download_t *dl)
{
    return dl->pf;
}

const char *
dl_state_name(const download_t *dl)
{
    const partfile_t *pf = dl->pf;
    if (dl->failed || dl->io_error)
        return "error";
    if (dl->completing)
        return "moving";
    if (pf_state(pf) != PF_STATE_ACTIVE)
        return pf_state_name(pf_state(pf));
    src_counts_t sc;
    src_count(dl, &sc);
    bool verifying = false;
    for (size_t i = 0; i < dl->n_parts; i++)
        verifying |= dl->parts[i].verifying;
    return sc.transferring > 0 ? "downloading"
           : verifying         ? "checking"
           : sc.queued > 0     ? "queued"
                               : "stalled";
}

const char *
dl_save_path(const download_t *dl)
{
    if (pf_save_path(dl->pf) != NULL)
        return pf_save_path(dl->pf);
    return cat_incoming(dl->q->d->categories, pf_category(dl->pf));
}

json_object *
dl_availability_json(const download_t *dl)
{
    json_object *a = json_object_new_array();
    size_t n = pf_data_part_count(dl->pf);
    for (size_t i = 0; i < n && i < dl->n_parts; i++)
        json_object_array_add(a, json_object_new_int(dl->availability[i]));
    return a;
}

json_object *
dl_to_json(const download_t *dl)
{
    partfile_t *pf = dl->pf;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "hash", json_object_new_string(dl->hex));
    json_object_object_add(o, "name", json_object_new_string(pf_name(pf)));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)pf_size(pf)));
    json_object_object_add(o, "done", json_object_new_int64((int64_t)pf_done_bytes(pf)));
    json_object_object_add(o, "verified", json_object_new_int64((int64_t)pf_verified_bytes(pf)));
    src_counts_t sc;
    src_count(dl, &sc);
    json_object_object_add(o, "state", json_object_new_string(dl_state_name(dl)));
    json_object_object_add(o, "progress",
                           json_object_new_double(pf_size(pf) ? (double)pf_done_bytes(pf) /
                                                                    (double)pf_size(pf)
                                                              : 0.0));
    json_object_object_add(o, "rate", json_object_new_int64((int64_t)dl->rate));
    json_object *src = json_object_new_object();
    json_object_object_add(src, "total", json_object_new_int64((int64_t)dl->n_sources));
    json_object_object_add(src, "transferring", json_object_new_int64((int64_t)sc.transferring));
    json_object_object_add(src, "queued", json_object_new_int64((int64_t)sc.queued));
    json_object_object_add(src, "complete", json_object_new_int64((int64_t)sc.complete));
    json_object_object_add(o, "sources", src);
    json_object *dropped = json_object_new_object();
    for (int v = 0; v < DL_SRC_N_VERDICTS; v++)
        if (dl_src_is_drop((dl_src_verdict_t)v))
            json_object_object_add(dropped, dl_src_verdict_key((dl_src_verdict_t)v),
                                   json_object_new_int64(dl->dropped[v]));
    json_object_object_add(o, "sources_dropped", dropped);
    json_object_object_add(o, "peers", src_peers_json(dl));
    json_object_object_add(o, "category", pf_category(pf) != NULL
                                              ? json_object_new_string(pf_category(pf))
                                              : NULL);
    json_object_object_add(o, "priority", json_object_new_string(dla_priority_name(pf_priority(pf))));
    json_object_object_add(o, "added_at", json_object_new_int64((int64_t)pf_added_at(pf)));
    json_object_object_add(o, "download_id", pf_download_id(pf) != NULL
                                                 ? json_object_new_string(pf_download_id(pf))
                                                 : NULL);
    json_object_object_add(o, "btih",
                           pf_btih(pf) != NULL ? json_object_new_string(pf_btih(pf)) : NULL);
    json_object_object_add(o, "downloaded", json_object_new_int64((int64_t)pf_downloaded_bytes(pf)));
    json_object_object_add(o, "uploaded", json_object_new_int64((int64_t)pf_uploaded_bytes(pf)));
    json_object_object_add(o, "tags", dla_tags_to_json(pf_tags(pf)));
    json_object_object_add(o, "ratio_limit", json_object_new_double(pf_ratio_limit(pf)));
    json_object_object_add(o, "dl_limit", json_object_new_int64(pf_dl_limit(pf)));
    json_object_object_add(o, "up_limit", json_object_new_int64(pf_up_limit(pf)));
    json_object_object_add(o, "seeding_time_limit",
                           json_object_new_int(pf_seeding_time_limit(pf)));
    json_object_object_add(o, "force_start", json_object_new_boolean(pf_force_start(pf)));
    json_object_object_add(o, "last_activity",
                           json_object_new_int64((int64_t)pf_last_activity(pf)));
    json_object_object_add(o, "error", dl->error != NULL ? json_object_new_string(dl->error) : NULL);
    json_object_object_add(o, "save_path", json_object_new_string(dl_save_path(dl)));
    json_object_object_add(o, "availability", dl_availability_json(dl));
    return o;
}
