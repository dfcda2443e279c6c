/* download.c: downloads and their sources. Each source is a conversation
 * with one peer about one file: file request (§5.3), hash set (§5.4), a
 * place in the peer's upload queue (§5.5), three block requests in flight
 * and the data (§5.6), source exchange (§5.8). Parts are verified and the
 * finished file moved on worker threads (partfile.c). */
#include "config.h"

#include "daemon/transfer/download.h"
#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/core/worker.h"
#include "daemon/net/net.h"
#include "daemon/net/resolve.h"
#include "daemon/transfer/blocksel.h"
#include "daemon/transfer/category.h"
#include "daemon/transfer/finished.h"
#include "daemon/transfer/rangeset.h"
#include "daemon/transfer/shared.h"
#include "ed2k/c2c.h"
#include "ed2k/hash.h"
#include "ed2k/link.h"
#include "ed2k/opcodes.h"
#include "ed2k/text.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#define BLOCKS_IN_FLIGHT 3
#define ASK_TIMEOUT 60          /* seconds for an answer to a file request */
#define DATA_TIMEOUT 100        /* seconds without data while downloading (§5.10) */
#define SLOT_STALL_TIMEOUT 30   /* seconds without data for blocks in flight */
#define MAX_SLOT_STALLS 2       /* new slots asked before the connection is closed */
#define REASK_INTERVAL 1740     /* 29 minutes (§5.5) */
#define MIN_UPLOAD_REQ_GAP 600  /* aMule/eMule call faster re-asks aggressive */
#define NONEEDED_RETRY 600
#define SX2_INTERVAL 2400       /* ask a peer for sources at most every 40 min */
#define MAX_FAILURES 10
#define CORRUPT_BAN_THRESHOLD 2 /* corrupt parts a peer may send before a ban */
#define MAX_CONTRIBUTORS 32
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

typedef enum {
    SRC_IDLE = 0,   /* waiting for next_ask */
    SRC_CONNECTING, /* waiting for the peer's connection */
    SRC_ASKING,     /* file request sent */
    SRC_HASHSET,    /* hash set requested */
    SRC_WAIT_SLOT,  /* OP_STARTUPLOADREQ sent */
    SRC_QUEUED,     /* in the peer's upload queue */
    SRC_DOWNLOADING,
    SRC_NO_NEEDED,  /* has nothing we need now */
} src_state_t;

static const char *const src_state_names[] = {
    "idle", "connecting", "asking", "hashset", "waiting", "queued", "downloading", "no-needed-parts",
};

typedef struct block {
    uint64_t start, end;
    rangeset_t *got;
    ed2k_inflater_t *inf;
} block_t;

typedef struct dl_source dl_source_t;

/* The download side's state of one peer (peer_dl_data). */
typedef struct dl_peer {
    dl_source_t *head;   /* this peer's sources, one per download */
    dl_source_t *active; /* the one talking to the peer now */
} dl_peer_t;

struct dl_source {
    download_t *dl;
    peer_t *peer;
    dl_source_t *next_in_dl;
    dl_source_t *next_in_peer;
    src_state_t state;
    bool got_name, got_status;
    bool complete;     /* has the whole file */
    uint8_t *parts;    /* per ED2K part, when not complete */
    bool counted;      /* its parts are in the download's availability */
    uint16_t rank;
    time_t next_ask, asked_at, upload_req_at, last_data, sx_asked_at;
    unsigned failures, quick_retries, corrupt, slot_stalls;
    block_t blocks[BLOCKS_IN_FLIGHT];
    size_t n_blocks;
    uint64_t received;
    /* Blocks asked for in the current slot: an uploader drops a request
     * for a block it already sent in the session (aMule's AddReqBlock),
     * so asking for one again takes a new slot. */
    rangeset_t *slot_asked;
    uint64_t id; /* unique within the download: blame for corrupt parts */
};

/* A source that wrote new data into a part. */
typedef struct contributor {
    uint64_t src; /* dl_source_t.id */
    uint32_t ip;
} contributor_t;

typedef struct part_info {
    bool verifying;
    size_t n_contrib;
    contributor_t contrib[MAX_CONTRIBUTORS];
    /* After a corrupt part that several peers wrote into, the part is
     * downloaded again from one source at a time (owner), so a second
     * failure points at one peer. */
    bool exclusive;
    struct dl_source *owner;
} part_info_t;

struct download {
    dlq_t *q;
    partfile_t *pf;
    char hex[33];
    dl_source_t *sources;
    size_t n_sources;
    uint16_t *availability;
    part_info_t *parts;
    size_t n_parts;
    dl_source_t *hashset_asker;
    uint64_t next_src_id;
    bool completing, deleted, saving, failed;
    bool recovered; /* resumed from disk: data may be there beyond the metadata */
    char *error;
    uint32_t dropped[DL_SRC_N_VERDICTS]; /* sources not taken, by verdict */
    /* Storage trouble: the download is in the error state and does no disk
     * I/O (its sources are stopped, data still arriving is dropped) until
     * a re-check at io_retry_at finds the trouble gone. */
    bool io_error;
    bool io_move;     /* the move into incoming failed: the re-check retries it */
    bool io_no_space; /* a full disk: the re-check waits for free space */
    bool io_stop;     /* its sources are still to be stopped */
    time_t io_retry_at, io_ok_since; /* monotonic */
    unsigned io_backoff;             /* seconds */
    int refs; /* worker jobs in flight */
    /* speed */
    uint64_t bytes_tick;
    double rate;
};

struct dlq {
    muleteerd_t *d;
    download_t **dls;
    size_t n;
    time_t last_save;
    bool io_stops; /* some download has io_stop set */
};

/* ---------------------------------------------------------------- helpers */

static const struct {
    const char *key, *reason;
} src_verdicts[DL_SRC_N_VERDICTS] = {
    [DL_SRC_ADDED] = { "added", "added" },
    [DL_SRC_KNOWN] = { "known", "already a source" },
    [DL_SRC_INVALID] = { "invalid", "address or port 0" },
    [DL_SRC_LOWID] = { "lowid", "a LowID, and we are not a HighID on its server" },
    [DL_SRC_LAN] = { "lan", "a LAN or reserved address (filter_lan = yes)" },
    [DL_SRC_SELF] = { "self", "our own address" },
    [DL_SRC_BANNED] = { "banned", "its address is under a ban" },
    [DL_SRC_LIMIT] = { "limit", "max_sources_per_file reached" },
    [DL_SRC_UNRESOLVED] = { "unresolved", "the host name did not resolve" },
};

const char *
dl_src_verdict_key(dl_src_verdict_t v)
{
    return v < DL_SRC_N_VERDICTS ? src_verdicts[v].key : "?";
}

const char *
dl_src_verdict_reason(dl_src_verdict_t v)
{
    return v < DL_SRC_N_VERDICTS ? src_verdicts[v].reason : "?";
}

static bool
src_is_drop(dl_src_verdict_t v)
{
    return v != DL_SRC_ADDED && v != DL_SRC_KNOWN;
}

static void
count_drop(download_t *dl, dl_src_verdict_t v)
{
    if (src_is_drop(v) && dl->dropped[v] < UINT32_MAX)
        dl->dropped[v]++;
}

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
    bus_dl_state_ev_t ev = { .info = &info, .dl = dl, .from = from, .to = to, .error = dl->error };
    if (to == BUS_DLS_FAILED)
        bus_publish_dl_failed(dl->q->d->bus, &ev);
    else
        bus_publish_dl_state(dl->q->d->bus, &ev);
}

static void
block_clear(block_t *b)
{
    rangeset_free(b->got);
    ed2k_inflater_free(b->inf);
    memset(b, 0, sizeof *b);
}

static void
src_drop_blocks(dl_source_t *s)
{
    for (size_t i = 0; i < s->n_blocks; i++)
        block_clear(&s->blocks[i]);
    s->n_blocks = 0;
}

static void
src_remove_block(dl_source_t *s, size_t i)
{
    block_clear(&s->blocks[i]);
    memmove(&s->blocks[i], &s->blocks[i + 1], (s->n_blocks - i - 1) * sizeof s->blocks[0]);
    s->n_blocks--;
    memset(&s->blocks[s->n_blocks], 0, sizeof s->blocks[0]);
}

static void
avail_update(download_t *dl, dl_source_t *s, int delta)
{
    for (size_t i = 0; i < dl->n_parts; i++) {
        if (!s->complete && (s->parts == NULL || !s->parts[i]))
            continue;
        int v = (int)dl->availability[i] + delta;
        dl->availability[i] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
    }
}

static void
src_uncount(dl_source_t *s)
{
    if (s->counted) {
        avail_update(s->dl, s, -1);
        s->counted = false;
    }
}

static dl_peer_t *
dlpeer(peer_t *p, bool create)
{
    dl_peer_t *dp = peer_dl_data(p);
    if (dp == NULL && create) {
        dp = xcalloc(1, sizeof *dp);
        peer_set_dl_data(p, dp);
    }
    return dp;
}

/* A source that stops downloading gives up the parts it had to itself. */
static void
release_parts(dl_source_t *s)
{
    download_t *dl = s->dl;
    for (size_t i = 0; i < dl->n_parts; i++)
        if (dl->parts[i].owner == s)
            dl->parts[i].owner = NULL;
}

static void
src_set_state(dl_source_t *s, src_state_t st)
{
    if (s->state == SRC_DOWNLOADING && st != SRC_DOWNLOADING)
        release_parts(s);
    if (s->state != st)
        log_debug("download %s: source %s: %s -> %s", s->dl->hex, peer_desc(s->peer),
                  src_state_names[s->state], src_state_names[st]);
    s->state = st;
    dl_peer_t *dp = dlpeer(s->peer, false);
    if (dp != NULL && dp->active == s &&
        (st == SRC_IDLE || st == SRC_NO_NEEDED || st == SRC_CONNECTING))
        dp->active = NULL;
}

static void
src_free(dl_source_t *s)
{
    download_t *dl = s->dl;
    if (!dl->deleted) /* a download that leaves loses them all: no word each */
        bus_publish_src_lost(dl->q->d->bus, &(bus_source_t){ .dl = dl,
                                                             .ip = peer_ip(s->peer),
                                                             .port = peer_port(s->peer) });
    release_parts(s);
    src_uncount(s);
    src_drop_blocks(s);
    if (dl->hashset_asker == s)
        dl->hashset_asker = NULL;
    /* unlink from the download */
    for (dl_source_t **pp = &dl->sources; *pp != NULL; pp = &(*pp)->next_in_dl) {
        if (*pp == s) {
            *pp = s->next_in_dl;
            dl->n_sources--;
            break;
        }
    }
    /* unlink from the peer */
    dl_peer_t *dp = dlpeer(s->peer, false);
    if (dp != NULL) {
        if (dp->active == s)
            dp->active = NULL;
        for (dl_source_t **pp = &dp->head; *pp != NULL; pp = &(*pp)->next_in_peer) {
            if (*pp == s) {
                *pp = s->next_in_peer;
                break;
            }
        }
        if (dp->head == NULL) {
            free(dp);
            peer_set_dl_data(s->peer, NULL);
        }
    }
    rangeset_free(s->slot_asked);
    free(s->parts);
    free(s);
}

static dl_source_t *
src_by_id(download_t *dl, uint64_t id)
{
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
        if (s->id == id)
            return s;
    return NULL;
}

static dl_source_t *
src_of(download_t *dl, peer_t *p)
{
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
        if (s->peer == p)
            return s;
    return NULL;
}

/* The source of peer p for the file hash (NULL when p is not one). */
static dl_source_t *
src_for_hash(dlq_t *q, peer_t *p, const uint8_t hash[16])
{
    download_t *dl = dlq_find(q, hash);
    return dl != NULL ? src_of(dl, p) : NULL;
}

/* ban_source: p sent dl what no honest client sends: it stops being a
 * source of dl and its address is banned for peer_ban_time seconds (the
 * connection closes; its other downloads cannot reach it either). */
static void
ban_source(download_t *dl, peer_t *p, const char *reason)
{
    dl_source_t *s = src_of(dl, p);
    if (s != NULL) {
        pf_remove_source(dl->pf, net_ip_to_host(peer_ip(p)), peer_port(p));
        src_free(s);
    }
    peer_ban(p, reason, (int)conf_get_int(dl->q->d->conf, "peer_ban_time"));
}

static bool
dl_is_active(const download_t *dl)
{
    return !dl->deleted && !dl->completing && !dl->failed && !dl->io_error &&
           pf_state(dl->pf) == PF_STATE_ACTIVE && !pf_is_complete(dl->pf);
}

/* Parts of the download this source has and we still lack. */
static bool
src_has_needed(const dl_source_t *s)
{
    partfile_t *pf = s->dl->pf;
    size_t n = pf_data_part_count(pf);
    for (size_t i = 0; i < n; i++) {
        if (pf_is_part_verified(pf, i))
            continue;
        if (s->complete || (s->parts != NULL && s->parts[i]))
            return true;
    }
    return false;
}

/* ------------------------------------------------------- speaking to a peer */

static void
send_file_request(dl_source_t *s)
{
    download_t *dl = s->dl;
    peer_t *p = s->peer;
    struct evbuffer *out = peer_out(p);
    const ed2k_caps_t *c = peer_caps(p);
    partfile_t *pf = dl->pf;
    size_t n_parts = pf_part_count(pf);
    uint8_t *mine = xcalloc(n_parts, 1);
    for (size_t i = 0; i < n_parts; i++)
        mine[i] = pf_is_part_verified(pf, i);
    uint8_t *bitmap = xcalloc(ed2k_partstatus_bytes(n_parts) + 1, 1);
    ed2k_partstatus_pack(mine, n_parts, bitmap);
    ed2k_extinfo_t ext = { 0 };
    if (c->ext_req_ver >= 1) {
        /* Always the real bitmap with its count (§5.3). */
        ext.has_parts = true;
        ext.parts.count = (uint16_t)n_parts;
        ext.parts.bitmap = bitmap;
        if (c->ext_req_ver >= 2) {
            ext.has_complete_sources = true;
            size_t complete = 0;
            for (dl_source_t *o = dl->sources; o != NULL; o = o->next_in_dl)
                complete += o->complete;
            ext.complete_sources = (uint16_t)(complete > 65535 ? 65535 : complete);
        }
    }
    /* One-part files have no status request: the answer to the name
     * request is enough, and the source then has the whole file. */
    bool want_status = pf_data_part_count(pf) > 1;
    time_t now = clock_mono_s();
    mt_error_t *err = NULL;
    if (c->multipacket || c->ext_multipacket) {
        ed2k_multipacket_t m = { 0 };
        memcpy(m.hash, pf_hash(pf), 16);
        m.ext = c->ext_multipacket;
        m.size = pf_size(pf);
        m.req_filename = true;
        m.extinfo = ext;
        m.req_status = want_status;
        /* SX2 only inside the multipacket (aMule drops the standalone form,
         * §5.8), and not too often. */
        if (c->sx2 && (s->sx_asked_at == 0 || now - s->sx_asked_at >= SX2_INTERVAL) &&
            dl->n_sources < (size_t)conf_get_int(dl->q->d->conf, "max_sources_per_file")) {
            m.req_sources2 = true;
            m.sx2_version = 4;
            m.sx2_options = 0;
            s->sx_asked_at = now;
        }
        if (ed2k_multipacket_encode(out, &m, &err) != 0) {
            log_error("download %s: %s", dl->hex, err->message);
            mt_error_free(err);
        }
    } else {
        ed2k_requestfilename_encode(out, pf_hash(pf), c->ext_req_ver >= 1 ? &ext : NULL, NULL);
        if (want_status)
            ed2k_setreqfileid_encode(out, pf_hash(pf));
    }
    free(mine);
    free(bitmap);
    s->got_name = false;
    s->got_status = !want_status;
    if (!want_status) {
        s->complete = true;
        free(s->parts);
        s->parts = NULL;
    }
    s->asked_at = now;
    src_set_state(s, SRC_ASKING);
}

static void
src_start(dl_source_t *s)
{
    dl_peer_t *dp = dlpeer(s->peer, true);
    if (dp->active != NULL && dp->active != s)
        return; /* the peer is busy with another of our files */
    dp->active = s;
    send_file_request(s);
}

static void
send_upload_request(dl_source_t *s)
{
    time_t now = clock_mono_s();
    /* An uploader keeps, per client, the blocks it already sent and drops
     * requests for them (aMule's AddReqBlock). After our crash or a broken
     * connection it may still hold an old upload session for us, and would
     * silently ignore the blocks we ask for again. OP_CANCELTRANSFER ends
     * any such session (harmless when there is none) before we ask. */
    ed2k_canceltransfer_encode(peer_out(s->peer));
    ed2k_startuploadreq_encode(peer_out(s->peer), pf_hash(s->dl->pf));
    s->upload_req_at = now;
    s->asked_at = now;
    src_set_state(s, SRC_WAIT_SLOT);
}

static void schedule_verification(download_t *dl, size_t part, bool speculative);

/* After the file information: hash set, then a place in the queue. */
static void
src_proceed(dl_source_t *s)
{
    download_t *dl = s->dl;
    partfile_t *pf = dl->pf;
    if (!dl_is_active(dl)) {
        src_set_state(s, SRC_IDLE);
        s->next_ask = clock_mono_s() + 60;
        return;
    }
    if (pf_size(pf) >= ED2K_PARTSIZE && !pf_has_hashset(pf) &&
        (dl->hashset_asker == NULL || dl->hashset_asker == s)) {
        dl->hashset_asker = s;
        ed2k_hashsetrequest_encode(peer_out(s->peer), pf_hash(pf));
        s->asked_at = clock_mono_s();
        src_set_state(s, SRC_HASHSET);
        return;
    }
    if (!src_has_needed(s)) {
        src_set_state(s, SRC_NO_NEEDED);
        s->next_ask = clock_mono_s() + NONEEDED_RETRY;
        return;
    }
    send_upload_request(s);
}

static void
send_cancel(dl_source_t *s)
{
    struct evbuffer *out = peer_out(s->peer);
    if (out != NULL)
        ed2k_canceltransfer_encode(out);
}

/* Builds the union of every source's blocks in flight. */
static rangeset_t *
requested_ranges(const download_t *dl)
{
    rangeset_t *r = rangeset_new();
    for (const dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
        for (size_t i = 0; i < s->n_blocks; i++)
            rangeset_add(r, s->blocks[i].start, s->blocks[i].end);
    return r;
}

static void
request_blocks(dl_source_t *s)
{
    download_t *dl = s->dl;
    partfile_t *pf = dl->pf;
    if (s->n_blocks >= BLOCKS_IN_FLIGHT || !dl_is_active(dl) || peer_out(s->peer) == NULL)
        return;
    rangeset_t *requested = requested_ranges(dl);
    rangeset_t *mine = rangeset_new();
    for (size_t i = 0; i < s->n_blocks; i++)
        rangeset_add(mine, s->blocks[i].start, s->blocks[i].end);
    /* Parts being verified are off limits, even in the end game: a write
     * would void a check of what is already on disk (crash recovery). So
     * are parts another source has to itself after a corruption. */
    for (size_t i = 0; i < dl->n_parts; i++) {
        uint64_t ps, pe;
        part_info_t *pi = &dl->parts[i];
        bool other_owner = pi->exclusive && pi->owner != NULL && pi->owner != s;
        if ((pi->verifying || other_owner) && pf_part_range(pf, i, &ps, &pe) == 0 && pe > ps)
            rangeset_add(mine, ps, pe);
    }
    rangeset_t *allowed_again = rangeset_copy(mine);
    rangeset_add_set(mine, s->slot_asked);
    blocksel_block_t picked[BLOCKS_IN_FLIGHT];
    size_t want = BLOCKS_IN_FLIGHT - s->n_blocks;
    const uint8_t *parts = s->complete ? NULL : s->parts;
    int n = blocksel_pick_n(pf, requested, parts, dl->availability, false, want, mine, picked);
    if (n == 0 && s->n_blocks == 0)
        /* End game: what is left is already asked of others; ask again. */
        n = blocksel_pick_n(pf, requested, parts, dl->availability, true, want, mine, picked);
    /* Only blocks this slot already had are left (a corrupt part, a block
     * given up): the peer would ignore them, so ask for a new slot. */
    bool new_slot = n == 0 && s->n_blocks == 0 && rangeset_total(s->slot_asked) > 0 &&
                    blocksel_pick_n(pf, requested, parts, dl->availability, true, 1,
                                    allowed_again, picked) > 0;
    rangeset_free(allowed_again);
    rangeset_free(requested);
    rangeset_free(mine);
    if (new_slot) {
        log_info("download %s: what %s could send was already asked in this slot; "
                 "asking for a new one",
                 dl->hex, peer_desc(s->peer));
        send_upload_request(s); /* cancels this slot first */
        return;
    }
    if (n <= 0) {
        bool verifying = false;
        for (size_t i = 0; i < dl->n_parts; i++)
            verifying |= dl->parts[i].verifying;
        if (s->n_blocks == 0 && !verifying) {
            /* Nothing for this source: leave its slot to others. */
            send_cancel(s);
            src_set_state(s, SRC_NO_NEEDED);
            s->next_ask = clock_mono_s() + NONEEDED_RETRY / 4;
        }
        return;
    }
    ed2k_range_t ranges[BLOCKS_IN_FLIGHT];
    bool i64 = false;
    for (int i = 0; i < n; i++) {
        block_t *b = &s->blocks[s->n_blocks++];
        b->start = picked[i].start;
        b->end = picked[i].end;
        part_info_t *pi = &dl->parts[b->start / ED2K_PARTSIZE];
        if (pi->exclusive && pi->owner == NULL)
            pi->owner = s;
        b->got = rangeset_new();
        rangeset_add(s->slot_asked, b->start, b->end);
        ranges[i].start = b->start;
        ranges[i].end = b->end;
        if (b->end > 0xFFFFFFFFu)
            i64 = true;
    }
    mt_error_t *err = NULL;
    if (ed2k_requestparts_encode(peer_out(s->peer), pf_hash(pf), ranges, (size_t)n, i64, &err) !=
        0) {
        log_error("download %s: %s", dl->hex, err->message);
        mt_error_free(err);
    }
}

/* --------------------------------------------------------------- receiving */

/* Remembers that s wrote bytes of [start, end) that were not on disk yet
 * (a rewrite of filled bytes changes nothing, so it cannot be to blame). */
static void
note_contributor(download_t *dl, const dl_source_t *s, uint64_t start, uint64_t end)
{
    if (rangeset_contains(pf_filled(dl->pf), start, end))
        return;
    for (uint64_t part = start / ED2K_PARTSIZE; part < dl->n_parts && part * ED2K_PARTSIZE < end;
         part++) {
        part_info_t *pi = &dl->parts[part];
        bool known = false;
        for (size_t i = 0; i < pi->n_contrib; i++)
            known |= pi->contrib[i].src == s->id;
        if (!known && pi->n_contrib < MAX_CONTRIBUTORS)
            pi->contrib[pi->n_contrib++] = (contributor_t){ s->id, peer_ip(s->peer) };
    }
}

static void
check_parts(download_t *dl, uint64_t start, uint64_t end)
{
    for (uint64_t part = start / ED2K_PARTSIZE; part < dl->n_parts && part * ED2K_PARTSIZE < end;
         part++)
        if (pf_is_part_filled(dl->pf, part) && !pf_is_part_verified(dl->pf, part))
            schedule_verification(dl, part, false);
}

static void storage_trouble(download_t *dl, const mt_error_t *err, bool move);

/* Writes received data. When the disk refuses it, the download goes into
 * the error state (once: what arrives after that is dropped, never written
 * in part) and the data will be asked for again once the trouble is gone. */
static int
write_range(dl_source_t *s, uint64_t offset, const uint8_t *data, size_t len, mt_error_t **err)
{
    download_t *dl = s->dl;
    if (dl->io_error) {
        mt_error_set(err, MT_ERR_IO, "%s", dl->error);
        return -1;
    }
    note_contributor(dl, s, offset, offset + len);
    mt_error_t *werr = NULL;
    if (pf_write(dl->pf, offset, data, len, &werr) != 0) {
        if (werr->code != MT_ERR_INVALID)
            storage_trouble(dl, werr, false);
        mt_error_propagate(err, werr);
        return -1;
    }
    pf_add_downloaded_bytes(dl->pf, len);
    pf_set_last_activity(dl->pf, time(NULL));
    s->slot_stalls = 0;
    s->received += len;
    dl->bytes_tick += len;
    s->last_data = clock_mono_s();
    return 0;
}

static int
write_data(dl_source_t *s, block_t *b, uint64_t offset, const uint8_t *data, size_t len,
           mt_error_t **err)
{
    if (offset < b->start || offset + len > b->end || offset + len < offset) {
        mt_error_set(err, MT_ERR_PROTOCOL, "data outside the requested block");
        return -1;
    }
    if (write_range(s, offset, data, len, err) != 0)
        return -1;
    rangeset_add(b->got, offset, offset + len);
    return 0;
}

static void
block_progress(dl_source_t *s, size_t i)
{
    download_t *dl = s->dl;
    block_t *b = &s->blocks[i];
    uint64_t start = b->start, end = b->end;
    bool done = rangeset_contains(b->got, start, end) ||
                rangeset_contains(pf_filled(dl->pf), start, end);
    if (!done)
        return;
    src_remove_block(s, i);
    check_parts(dl, start, end);
    if (s->state == SRC_DOWNLOADING)
        request_blocks(s);
}

static size_t
find_block(const dl_source_t *s, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < s->n_blocks; i++)
        if (start >= s->blocks[i].start && end <= s->blocks[i].end)
            return i;
    return SIZE_MAX;
}

/* Data for no block in flight: the answer to a request the uploader took
 * into a new slot after it ended the old one (the two crossed on the
 * wire), or to a block given up. The uploader will not send it again in
 * this slot, so what the file still needs of it is kept: the gaps, outside
 * parts being verified and parts another source has to itself. */
static void
take_unrequested(dl_source_t *s, uint64_t start, const uint8_t *data, size_t len)
{
    download_t *dl = s->dl;
    uint64_t end = start + len;
    size_t kept = 0;
    if (!dl_is_active(dl) || end < start || end > pf_size(dl->pf))
        return;
    for (uint64_t part = start / ED2K_PARTSIZE; part < dl->n_parts && part * ED2K_PARTSIZE < end;
         part++) {
        part_info_t *pi = &dl->parts[part];
        uint64_t ps, pe;
        if (pi->verifying || pf_is_part_verified(dl->pf, part) ||
            (pi->exclusive && pi->owner != s) || pf_part_range(dl->pf, part, &ps, &pe) != 0)
            continue;
        uint64_t from = start > ps ? start : ps, to = end < pe ? end : pe, gs, ge;
        while (from < to && rangeset_first_gap(pf_filled(dl->pf), from, to, &gs, &ge)) {
            mt_error_t *err = NULL;
            if (write_range(s, gs, data + (gs - start), (size_t)(ge - gs), &err) != 0) {
                if (!dl->io_error)
                    log_error("download %s: %s", dl->hex, err->message);
                mt_error_free(err);
                return;
            }
            kept += (size_t)(ge - gs);
            from = ge;
        }
    }
    log_debug("download %s: %s sent unrequested data [%llu,%llu); %zu bytes kept", dl->hex,
              peer_desc(s->peer), (unsigned long long)start, (unsigned long long)end, kept);
    if (kept == 0)
        return;
    for (size_t i = s->n_blocks; i-- > 0;)
        if (rangeset_contains(pf_filled(dl->pf), s->blocks[i].start, s->blocks[i].end))
            src_remove_block(s, i);
    check_parts(dl, start, end);
    if (s->state == SRC_DOWNLOADING)
        request_blocks(s);
}

static int
on_sendingpart(dlq_t *q, peer_t *p, const ed2k_packet_t *pkt, bool i64, mt_error_t **err)
{
    ed2k_sendingpart_t sp;
    if (ed2k_sendingpart_decode(pkt->payload, pkt->len, i64, &sp, err) != 0)
        return -1;
    dl_source_t *s = src_for_hash(q, p, sp.hash);
    if (s != NULL && sp.end > pf_size(s->dl->pf)) {
        /* Data for a block we never asked for is possible (a request that
         * crossed the end of a slot); data past the end of the file is
         * not: nobody asked for it. */
        ban_source(s->dl, p, "sent data past the end of the file");
        return 1;
    }
    if (s == NULL || s->state != SRC_DOWNLOADING)
        return 1; /* late data after a cancel: ignore */
    size_t i = find_block(s, sp.start, sp.end);
    if (i == SIZE_MAX) {
        take_unrequested(s, sp.start, sp.data, sp.len);
        return 1;
    }
    mt_error_t *werr = NULL;
    if (write_data(s, &s->blocks[i], sp.start, sp.data, sp.len, &werr) != 0) {
        if (!s->dl->io_error)
            log_error("download %s: %s", s->dl->hex, werr->message);
        mt_error_free(werr);
        return 1;
    }
    block_progress(s, i);
    return 1;
}

typedef struct {
    dl_source_t *s;
    block_t *b;
    bool failed; /* writing failed: the error is ours, not the peer's */
} sink_ctx_t;

static int
inflate_sink(void *ctx, uint64_t offset, const uint8_t *data, size_t len, mt_error_t **err)
{
    sink_ctx_t *c = ctx;
    int rc = write_data(c->s, c->b, offset, data, len, err);
    c->failed = rc != 0;
    return rc;
}

static int
on_compressedpart(dlq_t *q, peer_t *p, const ed2k_packet_t *pkt, bool i64, mt_error_t **err)
{
    ed2k_compressedpart_t cp;
    if (ed2k_compressedpart_decode(pkt->payload, pkt->len, i64, &cp, err) != 0)
        return -1;
    dl_source_t *s = src_for_hash(q, p, cp.hash);
    if (s != NULL && cp.start >= pf_size(s->dl->pf)) {
        ban_source(s->dl, p, "sent data past the end of the file");
        return 1;
    }
    if (s == NULL || s->state != SRC_DOWNLOADING)
        return 1;
    size_t i;
    for (i = 0; i < s->n_blocks; i++)
        if (s->blocks[i].start == cp.start)
            break;
    if (i == s->n_blocks)
        return 1;
    block_t *b = &s->blocks[i];
    if (b->inf == NULL)
        b->inf = ed2k_inflater_new(b->start, cp.packed_size, (size_t)(b->end - b->start));
    sink_ctx_t ctx = { s, b, false };
    mt_error_t *ierr = NULL;
    if (ed2k_inflater_feed(b->inf, cp.data, cp.len, inflate_sink, &ctx, &ierr) != 0 &&
        !ctx.failed) {
        /* A stream that inflates beyond the block, does not inflate, or
         * does not end where it says: no honest client sends one (each
         * block is one zlib stream, §5.6), and asking again would get the
         * same, for ever. aMule only ignores the rest of such a stream;
         * Muleteer drops and bans the peer, as for corrupt parts. */
        char *why = xasprintf("sent a bad compressed block (%s)", ierr->message);
        mt_error_free(ierr);
        ban_source(s->dl, p, why);
        free(why);
        return 1;
    }
    if (ierr != NULL) {
        /* Writing failed: drop the block and ask for it again. */
        log_info("download %s: compressed block from %s dropped: %s", s->dl->hex, peer_desc(p),
                 ierr->message);
        mt_error_free(ierr);
        src_remove_block(s, i);
        request_blocks(s);
        return 1;
    }
    if (ed2k_inflater_is_done(b->inf)) {
        ed2k_inflater_free(b->inf);
        b->inf = NULL;
        if (!rangeset_contains(b->got, b->start, b->end) &&
            !rangeset_contains(pf_filled(s->dl->pf), b->start, b->end)) {
            /* The stream ended short of the block; ask for the rest. */
            src_remove_block(s, i);
            request_blocks(s);
            return 1;
        }
    }
    block_progress(s, i);
    return 1;
}

static void
set_parts(dl_source_t *s, const ed2k_partstatus_t *ps)
{
    download_t *dl = s->dl;
    src_uncount(s);
    free(s->parts);
    s->parts = NULL;
    if (ps->count == 0) {
        s->complete = true;
    } else {
        s->complete = false;
        s->parts = xcalloc(dl->n_parts, 1);
        ed2k_partstatus_unpack(ps->bitmap, ps->count, s->parts);
        bool all = true;
        for (size_t i = 0; i < pf_data_part_count(dl->pf); i++)
            all &= s->parts[i] != 0;
        s->complete = all;
    }
    avail_update(dl, s, +1);
    s->counted = true;
}

static int
take_status(dl_source_t *s, const ed2k_partstatus_t *ps, mt_error_t **err)
{
    if (ed2k_partstatus_check(ps, pf_size(s->dl->pf), "file status", err) != 0)
        return -1;
    set_parts(s, ps);
    s->got_status = true;
    return 0;
}

static void
take_name(dl_source_t *s, const uint8_t *name, size_t len)
{
    (void)name;
    (void)len; /* the name of our download comes from the link */
    s->got_name = true;
}

static void
maybe_proceed(dl_source_t *s)
{
    if (s->state == SRC_ASKING && s->got_name && s->got_status) {
        if (s->complete && !s->counted) {
            avail_update(s->dl, s, +1);
            s->counted = true;
        }
        src_proceed(s);
    }
}

static void
add_sx_sources(download_t *dl, const ed2k_answersources_t *as)
{
    size_t added = 0, dropped = 0;
    for (size_t i = 0; i < as->count; i++) {
        uint32_t id = as->sources[i].id;
        if (as->version >= 3)
            id = ed2k_c2c_id_from_hybrid(id);
        dl_src_verdict_t v = DL_SRC_LOWID; /* a LowID needs a server callback */
        if (!net_is_lowid(id))
            v = dl_add_source(dl, id, as->sources[i].port);
        else
            count_drop(dl, v);
        added += v == DL_SRC_ADDED;
        dropped += src_is_drop(v);
    }
    if (added > 0)
        log_info("download %s: %zu new source(s) by source exchange", dl->hex, added);
    if (dropped > 0)
        log_debug("download %s: %zu source(s) from source exchange dropped (see sources_dropped)",
                  dl->hex, dropped);
}

static void src_closed(dl_source_t *s, bool data_flowed);
static void apply_io_stops(dlq_t *q);

/* After a data packet: a download whose disk refused the data stops its
 * sources now (not while the packet was being taken apart: a compressed
 * block's inflater was still running). */
static int
after_data(dlq_t *q, int rc)
{
    if (q->io_stops)
        apply_io_stops(q);
    return rc;
}

/* on_packet: a packet of the download side (peer_handler_t). */
static int
on_packet(void *ctx, peer_t *p, const ed2k_packet_t *pkt, mt_error_t **err)
{
    dlq_t *q = ctx;
    dl_peer_t *dp = dlpeer(p, false);
    dl_source_t *act = dp != NULL ? dp->active : NULL;
    uint8_t hash[16];
    dl_source_t *s;

    if (pkt->proto == ED2K_PROTO_EDONKEY) {
        switch (pkt->opcode) {
        case ED2K_OP_REQFILENAMEANSWER: {
            ed2k_reqfilenameanswer_t a;
            if (ed2k_reqfilenameanswer_decode(pkt->payload, pkt->len, &a, err) != 0)
                return -1;
            if ((s = src_for_hash(q, p, a.hash)) != NULL && s->state == SRC_ASKING) {
                take_name(s, a.name, a.name_len);
                maybe_proceed(s);
            }
            return 1;
        }
        case ED2K_OP_FILESTATUS: {
            ed2k_filestatus_t fs;
            if (ed2k_filestatus_decode(pkt->payload, pkt->len, &fs, err) != 0)
                return -1;
            if ((s = src_for_hash(q, p, fs.hash)) == NULL)
                return 1;
            if (take_status(s, &fs.status, err) != 0)
                return -1;
            maybe_proceed(s);
            return 1;
        }
        case ED2K_OP_FILEREQANSNOFIL:
            if (ed2k_filereqansnofil_decode(pkt->payload, pkt->len, hash, err) != 0)
                return -1;
            if ((s = src_for_hash(q, p, hash)) != NULL) {
                log_info("download %s: %s does not have the file", s->dl->hex, peer_desc(p));
                pf_remove_source(s->dl->pf, net_ip_to_host(peer_ip(p)), peer_port(p));
                src_free(s);
            }
            return 1;
        case ED2K_OP_HASHSETANSWER: {
            ed2k_hashsetanswer_t hs;
            if (ed2k_hashsetanswer_decode(pkt->payload, pkt->len, &hs, err) != 0)
                return -1;
            if ((s = src_for_hash(q, p, hs.hash)) == NULL || s->state != SRC_HASHSET)
                return 1;
            download_t *dl = s->dl;
            if (ed2k_hashsetanswer_verify(&hs, pf_size(dl->pf), err) != 0 ||
                pf_set_hashset(dl->pf, (const uint8_t(*)[16])hs.hashes, hs.count, err) != 0)
                return -1;
            dl->hashset_asker = NULL;
            log_info("download %s: hash set received from %s", dl->hex, peer_desc(p));
            /* Parts already on disk can be checked now; after a restart,
             * also what was written after the last save. */
            for (size_t i = 0; i < pf_data_part_count(dl->pf); i++)
                if (!pf_is_part_verified(dl->pf, i) &&
                    (dl->recovered || pf_is_part_filled(dl->pf, i)))
                    schedule_verification(dl, i, !pf_is_part_filled(dl->pf, i));
            src_proceed(s);
            return 1;
        }
        case ED2K_OP_ACCEPTUPLOADREQ:
            s = act;
            if (s == NULL && dp != NULL)
                for (dl_source_t *o = dp->head; o != NULL; o = o->next_in_peer)
                    if (o->state == SRC_QUEUED || o->state == SRC_WAIT_SLOT)
                        s = o;
            if (s == NULL || !dl_is_active(s->dl) || !src_has_needed(s)) {
                ed2k_canceltransfer_encode(peer_out(p));
                return 1;
            }
            dp->active = s;
            log_info("download %s: %s gave us an upload slot", s->dl->hex, peer_desc(p));
            src_set_state(s, SRC_DOWNLOADING);
            s->last_data = clock_mono_s();
            rangeset_clear(s->slot_asked);
            request_blocks(s);
            return 1;
        case ED2K_OP_QUEUERANK: {
            uint32_t rank;
            if (ed2k_queuerank_decode(pkt->payload, pkt->len, &rank, err) != 0)
                return -1;
            if (act != NULL && act->state == SRC_WAIT_SLOT) {
                act->rank = (uint16_t)(rank > 65535 ? 65535 : rank);
                act->next_ask = clock_mono_s() + REASK_INTERVAL;
                src_set_state(act, SRC_QUEUED);
            }
            return 1;
        }
        case ED2K_OP_OUTOFPARTREQS:
            if (act != NULL && act->state == SRC_DOWNLOADING) {
                src_drop_blocks(act);
                act->next_ask = clock_mono_s() + REASK_INTERVAL;
                src_set_state(act, SRC_QUEUED);
            }
            return 1;
        case ED2K_OP_SENDINGPART:
            return after_data(q, on_sendingpart(q, p, pkt, false, err));
        }
        return 0;
    }

    switch (pkt->opcode) {
    case ED2K_OP_MULTIPACKETANSWER: {
        ed2k_multipacket_answer_t a;
        if (ed2k_multipacket_answer_decode(pkt->payload, pkt->len, &a, err) != 0)
            return -1;
        if ((s = src_for_hash(q, p, a.hash)) == NULL || s->state != SRC_ASKING)
            return 1;
        if (a.has_name)
            take_name(s, a.name, a.name_len);
        if (a.has_status && take_status(s, &a.status, err) != 0)
            return -1;
        if (a.has_aich && pf_aich_root(s->dl->pf) == NULL)
            pf_set_aich_root(s->dl->pf, a.aich);
        maybe_proceed(s);
        return 1;
    }
    case ED2K_OP_QUEUERANKING: {
        uint16_t rank;
        if (ed2k_queueranking_decode(pkt->payload, pkt->len, &rank, err) != 0)
            return -1;
        if (act != NULL && (act->state == SRC_WAIT_SLOT || act->state == SRC_QUEUED)) {
            act->rank = rank;
            act->next_ask = clock_mono_s() + REASK_INTERVAL;
            src_set_state(act, SRC_QUEUED);
            log_debug("download %s: queued at %s, rank %u", act->dl->hex, peer_desc(p), rank);
        }
        return 1;
    }
    case ED2K_OP_SENDINGPART_I64:
        return after_data(q, on_sendingpart(q, p, pkt, true, err));
    case ED2K_OP_COMPRESSEDPART:
        return after_data(q, on_compressedpart(q, p, pkt, false, err));
    case ED2K_OP_COMPRESSEDPART_I64:
        return after_data(q, on_compressedpart(q, p, pkt, true, err));
    case ED2K_OP_ANSWERSOURCES2:
    case ED2K_OP_ANSWERSOURCES: {
        ed2k_answersources_t as;
        int rc = pkt->opcode == ED2K_OP_ANSWERSOURCES2
                     ? ed2k_answersources2_decode(pkt->payload, pkt->len, &as, err)
                     : ed2k_answersources_decode(pkt->payload, pkt->len, peer_caps(p)->sx1_ver, &as,
                                                 err);
        if (rc != 0)
            return -1;
        download_t *dl = dlq_find(q, as.hash);
        log_debug("%s answered source exchange (v%u) with %zu source(s)", peer_desc(p),
                  (unsigned)as.version, as.count);
        if (dl != NULL && src_of(dl, p) != NULL)
            add_sx_sources(dl, &as);
        ed2k_answersources_clear(&as);
        return 1;
    }
    case ED2K_OP_AICHFILEHASHANS:
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------- connection events */

static void
on_peer_ready(void *ctx, peer_t *p)
{
    (void)ctx;
    dl_peer_t *dp = dlpeer(p, false);
    if (dp == NULL)
        return;
    /* A source that was waiting for this connection, or any idle one whose
     * time has come, starts its conversation. A queued source waits: the
     * peer connected to give it a slot (OP_ACCEPTUPLOADREQ follows). */
    dl_source_t *pick = NULL;
    for (dl_source_t *s = dp->head; s != NULL; s = s->next_in_peer) {
        if (!dl_is_active(s->dl))
            continue;
        if (s->state == SRC_CONNECTING) {
            pick = s;
            break;
        }
        if (pick == NULL && s->state == SRC_IDLE && clock_mono_s() >= s->next_ask)
            pick = s;
    }
    if (pick != NULL) {
        pick->failures = 0;
        src_start(pick);
    }
    for (dl_source_t *s = dp->head; s != NULL; s = s->next_in_peer)
        if (s->state == SRC_CONNECTING && s != pick)
            src_set_state(s, SRC_IDLE);
}

static void
src_closed(dl_source_t *s, bool data_flowed)
{
    time_t now = clock_mono_s();
    src_drop_blocks(s);
    if (s->dl->hashset_asker == s)
        s->dl->hashset_asker = NULL;
    switch (s->state) {
    case SRC_QUEUED:
        return; /* still in their queue; re-ask on schedule */
    case SRC_CONNECTING:
        s->failures++;
        s->next_ask = now + (time_t)(30u << (s->failures < 6 ? s->failures : 6));
        break;
    case SRC_DOWNLOADING:
    case SRC_WAIT_SLOT:
        /* Reconnect soon, but not so often that the peer calls us
         * aggressive (§5.5): two quick retries, then its schedule. */
        if (data_flowed && s->quick_retries < 2) {
            s->quick_retries++;
            s->next_ask = now + 10;
        } else {
            s->failures++;
            s->next_ask = s->upload_req_at + MIN_UPLOAD_REQ_GAP;
            if (s->next_ask < now + 30)
                s->next_ask = now + 30;
        }
        break;
    case SRC_NO_NEEDED:
        return;
    default:
        s->failures++;
        s->next_ask = now + 60;
        break;
    }
    src_set_state(s, SRC_IDLE);
}

static void
on_peer_closed(void *ctx, peer_t *p, const char *reason)
{
    (void)ctx;
    dl_peer_t *dp = dlpeer(p, false);
    if (dp == NULL)
        return;
    dl_source_t *next;
    for (dl_source_t *s = dp->head; s != NULL; s = next) {
        next = s->next_in_peer;
        bool flowed = s->state == SRC_DOWNLOADING && s->received > 0;
        if (s->state != SRC_IDLE && s->state != SRC_NO_NEEDED && s->state != SRC_QUEUED)
            log_debug("download %s: lost %s: %s", s->dl->hex, peer_desc(p), reason);
        src_closed(s, flowed);
        if (s->failures >= MAX_FAILURES) {
            log_info("download %s: dropping source %s after %u failures", s->dl->hex,
                     peer_desc(p), s->failures);
            src_free(s);
        }
    }
    dp = dlpeer(p, false);
    if (dp != NULL)
        dp->active = NULL;
}

/* ------------------------------------------------------------ verification */

typedef struct {
    download_t *dl;
    pf_verify_job_t *job;
} verify_ctx_t;

static void download_release(download_t *dl);

static void
verify_run(void *arg)
{
    verify_ctx_t *c = arg;
    pf_verify_run(c->job);
}

/* A corrupt part. When one peer wrote all of it, that peer loses trust,
 * and one that does it again (CORRUPT_BAN_THRESHOLD parts) is banned and
 * dropped as a source. When several did, nobody can be blamed yet (Muleteer
 * has no AICH recovery): the part is downloaded again from a single source,
 * so that a second failure has one author. */
static void
punish(download_t *dl, size_t part)
{
    part_info_t *pi = &dl->parts[part];
    if (pi->n_contrib > 1) {
        log_info("download %s: %zu peers wrote into corrupt part %zu; it goes to one source "
                 "next time",
                 dl->hex, pi->n_contrib, part);
        pi->exclusive = true;
        pi->owner = NULL;
        pi->n_contrib = 0;
        /* Blocks of it still in flight would make a second author. */
        uint64_t ps, pe;
        if (pf_part_range(dl->pf, part, &ps, &pe) == 0)
            for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
                for (size_t i = s->n_blocks; i-- > 0;)
                    if (s->blocks[i].start < pe && s->blocks[i].end > ps)
                        src_remove_block(s, i);
        return;
    }
    peer_t *ban = NULL;
    if (pi->n_contrib == 1 && src_by_id(dl, pi->contrib[0].src) == NULL)
        log_info("download %s: the peer that sent corrupt part %zu is no longer a source",
                 dl->hex, part);
    for (dl_source_t *s = dl->sources; s != NULL && pi->n_contrib == 1; s = s->next_in_dl) {
        if (s->id != pi->contrib[0].src)
            continue;
        s->corrupt++;
        log_info("download %s: %s sent corrupt part %zu (%u so far)", dl->hex, peer_desc(s->peer),
                 part, s->corrupt);
        if (s->corrupt >= CORRUPT_BAN_THRESHOLD)
            ban = s->peer;
        break;
    }
    pi->n_contrib = 0;
    pi->owner = NULL;
    /* Act after the walk: banning closes connections, which changes the
     * source lists. */
    if (ban != NULL)
        ban_source(dl, ban, "sent corrupt data");
}

static void
verify_done(void *arg, int cancelled)
{
    verify_ctx_t *c = arg;
    download_t *dl = c->dl;
    size_t part = pf_verify_part(c->job);
    dl->parts[part].verifying = false;
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
            dl->parts[part].n_contrib = 0;
            dl->parts[part].exclusive = false;
            dl->parts[part].owner = NULL;
            log_info("download %s: part %zu verified%s", dl->hex, part,
                     pf_verify_is_speculative(c->job) ? " (found complete on disk)" : "");
            break;
        case PF_VERIFY_CORRUPT:
            log_warn("download %s: part %zu is corrupt; downloading it again", dl->hex, part);
            bus_publish_dl_part_verified(dl->q->d->bus,
                                         &(bus_dl_part_t){ .dl = dl, .part = part, .ok = false });
            punish(dl, part);
            break;
        case PF_VERIFY_UNCHANGED:
            if (!pf_verify_is_speculative(c->job))
                schedule_verification(dl, part, false);
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

static void
schedule_verification(download_t *dl, size_t part, bool speculative)
{
    if (part >= dl->n_parts || dl->parts[part].verifying || dl->deleted)
        return;
    pf_verify_job_t *job = pf_verify_prepare(dl->pf, part, speculative);
    if (job == NULL)
        return;
    verify_ctx_t *c = xcalloc(1, sizeof *c);
    c->dl = dl;
    c->job = job;
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
    if (cancelled) {
        dl->completing = false;
    } else if (c->rc != 0 && c->err->code != MT_ERR_INVALID) {
        /* The file could not be moved (a full or refused incoming
         * directory): it stays complete in the temporary directory, and the
         * move is tried again once the trouble looks gone. */
        dl->completing = false;
        storage_trouble(dl, c->err, true);
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
    return cat_complete_dir(d->categories, pf_category(dl->pf));
}

static void
maybe_complete(download_t *dl)
{
    if (dl->completing || dl->deleted || dl->failed || dl->io_error || !pf_is_complete(dl->pf))
        return;
    /* Free the peers' slots first. */
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl) {
        if (s->state == SRC_DOWNLOADING || s->state == SRC_WAIT_SLOT || s->state == SRC_QUEUED)
            send_cancel(s);
        src_drop_blocks(s);
        src_set_state(s, SRC_IDLE);
    }
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
    dl->saving = false;
    if ((cancelled || c->rc != 0) && !dl->deleted) {
        pf_save_failed(dl->pf);
        /* The metadata cannot be written (the previous save stays on
         * disk): no more data is taken until it can. */
        if (c->err != NULL)
            storage_trouble(dl, c->err, false);
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

static void stop_sources(download_t *dl);

static unsigned
io_next_backoff(const download_t *dl)
{
    unsigned cap = dl->io_no_space ? IO_RETRY_MAX_SPACE : IO_RETRY_MAX;
    unsigned b = dl->io_backoff * 2;
    return b < IO_RETRY_FIRST ? IO_RETRY_FIRST : b > cap ? cap : b;
}

/* storage_trouble: the disk refused a write, a metadata save (move false)
 * or the move into incoming (move true). The download goes into the error
 * state with err's message, which the control socket, the downloads table
 * and /api/v2 show, and does no more disk I/O until io_recheck. Logged
 * once. */
static void
storage_trouble(download_t *dl, const mt_error_t *err, bool move)
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
static void
apply_io_stops(dlq_t *q)
{
    q->io_stops = false;
    for (size_t i = 0; i < q->n; i++) {
        if (q->dls[i]->io_stop) {
            q->dls[i]->io_stop = false;
            stop_sources(q->dls[i]);
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
    if (dl->io_move)
        return;
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl) {
        s->next_ask = 0;
        s->failures = 0;
    }
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
    while (dl->sources != NULL)
        src_free(dl->sources);
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
    dl->refs--;
    if (dl->deleted && dl->refs == 0)
        download_free(dl);
}

/* Takes dl out of the queue (it is freed once no job refers to it). */
static void
dl_remove(download_t *dl)
{
    dlq_t *q = dl->q;
    for (size_t i = 0; i < q->n; i++) {
        if (q->dls[i] == dl) {
            memmove(&q->dls[i], &q->dls[i + 1], (q->n - i - 1) * sizeof *q->dls);
            q->n--;
            break;
        }
    }
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl) {
        if (s->state == SRC_DOWNLOADING || s->state == SRC_WAIT_SLOT || s->state == SRC_QUEUED)
            send_cancel(s);
    }
    while (dl->sources != NULL)
        src_free(dl->sources);
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
    peer_mgr_add_handler(d->peers, &(peer_handler_t){ .ready = on_peer_ready,
                                                      .closed = on_peer_closed,
                                                      .packet = on_packet,
                                                      .ctx = q });
    return q;
}

static void
restore_sources(download_t *dl)
{
    for (size_t i = 0; i < pf_source_count(dl->pf); i++) {
        pf_source_t src;
        if (pf_get_source(dl->pf, i, &src))
            dl_add_source(dl, net_ip_from_host(src.ip), src.port);
    }
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
    restore_sources(dl);
    /* Crash recovery: whatever is on disk for a part that is not verified
     * is checked against the part hash rather than trusted or discarded. */
    size_t n = pf_data_part_count(pf);
    for (size_t i = 0; i < n; i++)
        if (!pf_is_part_verified(pf, i))
            schedule_verification(dl, i, !pf_is_part_filled(pf, i));
    log_info("download %s: resumed \"%s\" (%llu of %llu bytes verified, %zu sources)", dl->hex,
             pf_name(pf), (unsigned long long)pf_verified_bytes(pf),
             (unsigned long long)pf_size(pf), dl->n_sources);
    maybe_complete(dl);
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
        for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
            if (s->state == SRC_DOWNLOADING)
                send_cancel(s);
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

static void
source_tick(dl_source_t *s, time_t now)
{
    download_t *dl = s->dl;
    switch (s->state) {
    case SRC_IDLE:
    case SRC_NO_NEEDED:
    case SRC_QUEUED:
        if (now < s->next_ask || !dl_is_active(dl))
            return;
        if (s->state == SRC_QUEUED && now - s->upload_req_at < MIN_UPLOAD_REQ_GAP)
            return;
        if (peer_is_ready(s->peer)) {
            dl_peer_t *dp = dlpeer(s->peer, true);
            if (dp->active == NULL || dp->active == s)
                src_start(s);
        } else if (peer_state(s->peer) == PEER_DISCONNECTED) {
            if (peer_connect(s->peer) == 0) {
                src_set_state(s, SRC_CONNECTING);
            } else {
                s->next_ask = now + 20;
            }
        }
        return;
    case SRC_CONNECTING:
        if (peer_state(s->peer) == PEER_DISCONNECTED)
            src_closed(s, false);
        return;
    case SRC_ASKING:
    case SRC_HASHSET:
    case SRC_WAIT_SLOT:
        if (now - s->asked_at > ASK_TIMEOUT)
            peer_close(s->peer, "no answer to our request");
        return;
    case SRC_DOWNLOADING:
        /* An uploader that lost our requests (they crossed the end of a
         * slot, or it holds an old session for us) sends nothing more in
         * this slot: a new one clears that, and the connection goes when
         * new slots do not help either. */
        if (s->n_blocks > 0 && now - s->last_data > SLOT_STALL_TIMEOUT &&
            s->slot_stalls < MAX_SLOT_STALLS) {
            s->slot_stalls++;
            log_info("download %s: no data from %s for %d s in this slot; asking for a new one",
                     dl->hex, peer_desc(s->peer), SLOT_STALL_TIMEOUT);
            src_drop_blocks(s);
            send_upload_request(s); /* cancels the slot first */
        } else if (s->n_blocks > 0 && now - s->last_data > SLOT_STALL_TIMEOUT) {
            log_info("download %s: no data from %s in %u slots; reconnecting", dl->hex,
                     peer_desc(s->peer), s->slot_stalls + 1);
            s->slot_stalls = 0;
            send_cancel(s);
            peer_close(s->peer, "download timed out");
        } else if (now - s->last_data > DATA_TIMEOUT) {
            log_info("download %s: no data from %s for %d s; reconnecting", dl->hex,
                     peer_desc(s->peer), DATA_TIMEOUT);
            send_cancel(s);
            peer_close(s->peer, "download timed out");
        } else if (s->n_blocks < BLOCKS_IN_FLIGHT) {
            request_blocks(s);
        }
        return;
    }
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
        apply_io_stops(q);
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
        dl_source_t *next;
        for (dl_source_t *s = dl->sources; s != NULL; s = next) {
            next = s->next_in_dl;
            source_tick(s, now);
        }
        if (i < q->n && q->dls[i] == dl) {
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
    for (size_t i = 0; i < q->n; i++)
        if (memcmp(pf_hash(q->dls[i]->pf), hash, 16) == 0)
            return q->dls[i];
    return NULL;
}

download_t *
dlq_find_hex(const dlq_t *q, const char *hex)
{
    uint8_t h[16];
    if (ed2k_hash_from_hex(hex, h) != 0)
        return NULL;
    return dlq_find(q, h);
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

/* The verdict on ip:port as a source of dl, before anything changes. */
static dl_src_verdict_t
src_verdict(const download_t *dl, uint32_t ip, uint16_t port)
{
    muleteerd_t *d = dl->q->d;
    bool lowid = net_is_lowid(ip);
    if (port == 0 || ip == 0)
        return DL_SRC_INVALID;
    /* A LowID is reached through a callback from the server we are on
     * (§3.6): only while we are a HighID there, and never kept across
     * sessions (the server gives it another LowID next time). */
    if (lowid && (d->server_ip == 0 || net_is_lowid(d->client_id) || ip == d->client_id))
        return DL_SRC_LOWID;
    if (!lowid && conf_get_bool(d->conf, "filter_lan") && (net_is_reserved(ip) || net_is_lan(ip)))
        return DL_SRC_LAN;
    if (!lowid && port == (uint16_t)conf_get_int(d->conf, "tcp_port") &&
        (net_is_reserved(ip) || ip == d->public_ip))
        return DL_SRC_SELF;
    if (peer_mgr_is_banned(d->peers, ip))
        return DL_SRC_BANNED;
    for (const dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
        if (peer_ip(s->peer) == ip && peer_port(s->peer) == port)
            return DL_SRC_KNOWN;
    if (dl->n_sources >= (size_t)conf_get_int(d->conf, "max_sources_per_file"))
        return DL_SRC_LIMIT;
    return DL_SRC_ADDED;
}

dl_src_verdict_t
dl_add_source(download_t *dl, uint32_t ip, uint16_t port)
{
    muleteerd_t *d = dl->q->d;
    dl_src_verdict_t v = src_verdict(dl, ip, port);
    if (v != DL_SRC_ADDED) {
        count_drop(dl, v);
        return v;
    }
    peer_t *p = peer_get(d->peers, ip, port);
    if (src_of(dl, p) != NULL)
        return DL_SRC_KNOWN;
    dl_source_t *s = xcalloc(1, sizeof *s);
    s->dl = dl;
    s->peer = p;
    s->id = ++dl->next_src_id;
    s->slot_asked = rangeset_new();
    s->next_in_dl = dl->sources;
    dl->sources = s;
    dl->n_sources++;
    dl_peer_t *dp = dlpeer(p, true);
    s->next_in_peer = dp->head;
    dp->head = s;
    s->state = SRC_IDLE;
    s->next_ask = 0;
    if (!net_is_lowid(ip))
        pf_add_source(dl->pf, net_ip_to_host(ip), port, NULL);
    bus_publish_src_found(d->bus, &(bus_source_t){ .dl = dl, .ip = ip, .port = port });
    return DL_SRC_ADDED;
}

/* A link source given by host name, resolved on a worker. */
typedef struct {
    dlq_t *q;
    uint8_t hash[16];
    char *host;
    uint16_t port;
} link_source_t;

/* A source the user typed into a link is never dropped in silence: the
 * log says which and why, and the download counts it. */
static void
link_source_resolved(void *ctx, uint32_t ip, const char *error)
{
    link_source_t *ls = ctx;
    download_t *dl = dlq_find(ls->q, ls->hash);
    dl_src_verdict_t v = DL_SRC_UNRESOLVED;
    if (dl != NULL && error == NULL)
        v = dl_add_source(dl, ip, ls->port);
    else if (dl != NULL)
        count_drop(dl, v);
    if (dl != NULL && src_is_drop(v))
        log_info("download %s: link source %s:%u dropped: %s%s%s", dl->hex, ls->host, ls->port,
                 dl_src_verdict_reason(v), error != NULL ? ": " : "", error != NULL ? error : "");
    free(ls->host);
    free(ls);
}

static void
add_link_sources(dlq_t *q, download_t *dl, const ed2k_link_t *l)
{
    (void)dl;
    for (size_t i = 0; i < l->n_sources; i++) {
        link_source_t *ls = xcalloc(1, sizeof *ls);
        ls->q = q;
        memcpy(ls->hash, l->hash, 16);
        ls->host = xstrdup(l->sources[i].host);
        ls->port = l->sources[i].port;
        resolve_ipv4(q->d->workers, ls->host, link_source_resolved, ls);
    }
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
        add_link_sources(q, dl, l);
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
    pf_set_added_at(pf, time(NULL));
    pf_set_priority(pf, o->priority);
    if (o->tags != NULL)
        pf_set_tags(pf, o->tags);
    pf_set_share_limits(pf, o->ratio_limit, o->seeding_time_limit, NULL);
    pf_set_force_start(pf, o->force_start);
    if (o->stopped)
        pf_set_state(pf, PF_STATE_STOPPED);
    dl = download_new(q, pf);
    add_link_sources(q, dl, l);
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

static void
stop_sources(download_t *dl)
{
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl) {
        if (s->state == SRC_DOWNLOADING || s->state == SRC_WAIT_SLOT || s->state == SRC_QUEUED)
            send_cancel(s);
        src_drop_blocks(s);
        src_set_state(s, SRC_IDLE);
    }
}

int
dl_pause(download_t *dl)
{
    bus_dl_state_t from = bus_state(dl);
    pf_set_state(dl->pf, PF_STATE_PAUSED);
    publish_state(dl, from);
    stop_sources(dl);
    save_async(dl);
    return 0;
}

int
dl_stop(download_t *dl)
{
    bus_dl_state_t from = bus_state(dl);
    pf_set_state(dl->pf, PF_STATE_STOPPED);
    publish_state(dl, from);
    stop_sources(dl);
    save_async(dl);
    return 0;
}

int
dl_resume(download_t *dl)
{
    bus_dl_state_t from = bus_state(dl);
    pf_set_state(dl->pf, PF_STATE_ACTIVE);
    dl->failed = false;
    if (dl->io_error)
        leave_trouble(dl); /* tried again now */
    free(dl->error);
    dl->error = NULL;
    publish_state(dl, from);
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl) {
        s->next_ask = 0;
        s->failures = 0;
    }
    save_async(dl);
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
    const char *state = dl->failed || dl->io_error          ? "error"
                        : dl->completing                    ? "moving"
                        : pf_state(pf) != PF_STATE_ACTIVE   ? pf_state_name(pf_state(pf))
                                                            : NULL;
    size_t transferring = 0, queued = 0, complete = 0;
    for (const dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl) {
        transferring += s->state == SRC_DOWNLOADING;
        queued += s->state == SRC_QUEUED;
        complete += s->complete;
    }
    bool verifying = false;
    for (size_t i = 0; i < dl->n_parts; i++)
        verifying |= dl->parts[i].verifying;
    if (state == NULL)
        state = transferring > 0 ? "downloading" : verifying ? "checking" : queued > 0 ? "queued"
                                                                                       : "stalled";
    json_object_object_add(o, "state", json_object_new_string(state));
    json_object_object_add(o, "progress",
                           json_object_new_double(pf_size(pf) ? (double)pf_done_bytes(pf) /
                                                                    (double)pf_size(pf)
                                                              : 0.0));
    json_object_object_add(o, "rate", json_object_new_int64((int64_t)dl->rate));
    json_object *src = json_object_new_object();
    json_object_object_add(src, "total", json_object_new_int64((int64_t)dl->n_sources));
    json_object_object_add(src, "transferring", json_object_new_int64((int64_t)transferring));
    json_object_object_add(src, "queued", json_object_new_int64((int64_t)queued));
    json_object_object_add(src, "complete", json_object_new_int64((int64_t)complete));
    json_object_object_add(o, "sources", src);
    json_object *dropped = json_object_new_object();
    for (int v = 0; v < DL_SRC_N_VERDICTS; v++)
        if (src_is_drop((dl_src_verdict_t)v))
            json_object_object_add(dropped, dl_src_verdict_key((dl_src_verdict_t)v),
                                   json_object_new_int64(dl->dropped[v]));
    json_object_object_add(o, "sources_dropped", dropped);
    json_object *peers = json_object_new_array();
    for (const dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "peer", json_object_new_string(peer_desc(s->peer)));
        json_object_object_add(e, "state", json_object_new_string(src_state_names[s->state]));
        json_object_object_add(e, "received", json_object_new_int64((int64_t)s->received));
        json_object_object_add(e, "rank", json_object_new_int(s->rank));
        json_object_array_add(peers, e);
    }
    json_object_object_add(o, "peers", peers);
    json_object_object_add(o, "category", pf_category(pf) != NULL
                                              ? json_object_new_string(pf_category(pf))
                                              : NULL);
    json_object_object_add(o, "priority", json_object_new_string(dla_priority_name(pf_priority(pf))));
    json_object_object_add(o, "added_at", json_object_new_int64((int64_t)pf_added_at(pf)));
    json_object_object_add(o, "download_id", pf_download_id(pf) != NULL
                                                 ? json_object_new_string(pf_download_id(pf))
                                                 : NULL);
    json_object_object_add(o, "downloaded", json_object_new_int64((int64_t)pf_downloaded_bytes(pf)));
    json_object_object_add(o, "uploaded", json_object_new_int64((int64_t)pf_uploaded_bytes(pf)));
    json_object_object_add(o, "tags", dla_tags_to_json(pf_tags(pf)));
    json_object_object_add(o, "ratio_limit", json_object_new_double(pf_ratio_limit(pf)));
    json_object_object_add(o, "seeding_time_limit",
                           json_object_new_int(pf_seeding_time_limit(pf)));
    json_object_object_add(o, "force_start", json_object_new_boolean(pf_force_start(pf)));
    json_object_object_add(o, "last_activity",
                           json_object_new_int64((int64_t)pf_last_activity(pf)));
    json_object_object_add(o, "error", dl->error != NULL ? json_object_new_string(dl->error) : NULL);
    return o;
}
