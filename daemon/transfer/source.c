/* source.c: the sources of the downloads (source.h). Each source is a
 * conversation with one peer about one file: file request (§5.3), hash
 * set (§5.4), a place in the peer's upload queue (§5.5), three block
 * requests in flight and the data (§5.6), source exchange (§5.8). When to
 * ask, re-ask and give up is srcpolicy.c's; which blocks, blocksel.c's;
 * the data goes into the part file, whose parts the queue (download.c)
 * has verified. */
#include "config.h"

#include "daemon/transfer/source.h"
#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/net/ipblock.h"
#include "daemon/net/net.h"
#include "daemon/net/peer.h"
#include "daemon/net/resolve.h"
#include "daemon/transfer/blocksel.h"
#include "daemon/transfer/dlattr.h"
#include "daemon/transfer/download_int.h"
#include "daemon/transfer/ident.h"
#include "daemon/transfer/rangeset.h"
#include "daemon/transfer/srcpolicy.h"
#include "ed2k/aich.h"
#include "ed2k/c2c.h"
#include "ed2k/hash.h"
#include "ed2k/opcodes.h"
#include "util/clock.h"
#include "util/bug.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SRC_BLOCKS_IN_FLIGHT 3  /* blocks asked of one source at once (§5.6) */
#define CORRUPT_BAN_THRESHOLD 2 /* corrupt parts a peer may send before a ban */

typedef enum {
    SRC_IDLE = 0,   /* waiting for pol.next_ask */
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
    srcpol_t pol;      /* when it is asked, what went wrong (srcpolicy.h) */
    unsigned corrupt;  /* corrupt parts it sent */
    block_t blocks[SRC_BLOCKS_IN_FLIGHT];
    size_t n_blocks;
    uint64_t received;
    /* Blocks asked for in the current slot: an uploader drops a request
     * for a block it already sent in the session (aMule's AddReqBlock),
     * so asking for one again takes a new slot. */
    rangeset_t *slot_asked;
    uint64_t id; /* unique within the download: blame for corrupt parts */
    bool has_aich; /* aich: the AICH root it sent for the file */
    uint8_t aich[ED2K_AICH_LEN];
};

/* ---------------------------------------------------------------- helpers */

void
src_apply_rate_limit(download_t *dl)
{
    size_t n = 0;
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
        if (s->state == SRC_DOWNLOADING)
            n++;
    uint64_t share = dla_rate_share((uint64_t)pf_dl_limit(dl->pf), n);
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
        if (s->state == SRC_DOWNLOADING)
            peer_set_read_limit(s->peer, share);
}

static void
count_drop(download_t *dl, dl_src_verdict_t v)
{
    if (dl_src_is_drop(v) && dl->dropped[v] < UINT32_MAX)
        dl->dropped[v]++;
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
    if (MT_BUG(i >= s->n_blocks))
        return;
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

/* src_set_state: s goes into state st. A source downloads only in the slot
 * its peer gave it (it is the peer's active source) and for a download
 * that wants data: anything else is a bug, and it goes idle instead. */
static void
src_set_state(dl_source_t *s, src_state_t st)
{
    dl_peer_t *dp = dlpeer(s->peer, false);
    if (st == SRC_DOWNLOADING &&
        (MT_BUG(dp == NULL || dp->active != s) || MT_BUG(!dl_is_active(s->dl))))
        st = SRC_IDLE;
    if (s->state == SRC_DOWNLOADING && st != SRC_DOWNLOADING)
        release_parts(s);
    if (s->state != st)
        log_debug("download %s: source %s: %s -> %s", s->dl->hex, peer_desc(s->peer),
                  src_state_names[s->state], src_state_names[st]);
    bool was_downloading = s->state == SRC_DOWNLOADING;
    s->state = st;
    if (dp != NULL && dp->active == s &&
        (st == SRC_IDLE || st == SRC_NO_NEEDED || st == SRC_CONNECTING))
        dp->active = NULL;
    if (was_downloading != (st == SRC_DOWNLOADING)) {
        if (st != SRC_DOWNLOADING)
            peer_set_read_limit(s->peer, 0);
        src_apply_rate_limit(s->dl);
    }
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
    if (s->state == SRC_DOWNLOADING)
        peer_set_read_limit(s->peer, 0); /* its share of dl's limit goes with it */
    src_uncount(s);
    src_drop_blocks(s);
    if (dl->hashset_asker == s)
        dl->hashset_asker = NULL;
    /* unlink from the download and from the peer: a living source is on
     * both lists */
    bool in_dl = false, in_peer = false;
    for (dl_source_t **pp = &dl->sources; *pp != NULL; pp = &(*pp)->next_in_dl) {
        if (*pp == s) {
            *pp = s->next_in_dl;
            in_dl = true;
            break;
        }
    }
    if (in_dl && !MT_BUG(dl->n_sources == 0))
        dl->n_sources--;
    dl_peer_t *dp = dlpeer(s->peer, false);
    if (dp != NULL) {
        if (dp->active == s)
            dp->active = NULL;
        for (dl_source_t **pp = &dp->head; *pp != NULL; pp = &(*pp)->next_in_peer) {
            if (*pp == s) {
                *pp = s->next_in_peer;
                in_peer = true;
                break;
            }
        }
        if (dp->head == NULL) {
            free(dp);
            peer_set_dl_data(s->peer, NULL);
        }
    }
    (void)MT_BUG(!in_dl || !in_peer); /* nothing to undo: it goes either way */
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
    download_t *dl = dlq_lookup(q, hash);
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
        /* the source's AICH root: a vote for the trusted root, and the
         * sources that agree with it can be asked for recovery data */
        m.req_aich = c->aich_ver >= 1 && ed2k_aich_recoverable(pf_size(pf), 0);
        /* SX2 only inside the multipacket (aMule drops the standalone form,
         * §5.8), and not too often. */
        if (c->sx2 && srcpol_sx_due(&s->pol, now) &&
            dl->n_sources < (size_t)conf_get_int(dl->q->d->conf, "max_sources_per_file")) {
            m.req_sources2 = true;
            m.sx2_version = 4;
            m.sx2_options = 0;
            srcpol_sx_asked(&s->pol, now);
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
    srcpol_asked(&s->pol, now);
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
    srcpol_upload_requested(&s->pol, now);
    src_set_state(s, SRC_WAIT_SLOT);
}

/* After the file information: hash set, then a place in the queue. */
static void
src_proceed(dl_source_t *s)
{
    download_t *dl = s->dl;
    partfile_t *pf = dl->pf;
    if (!dl_is_active(dl)) {
        src_set_state(s, SRC_IDLE);
        srcpol_inactive(&s->pol, clock_mono_s());
        return;
    }
    if (pf_size(pf) >= ED2K_PARTSIZE && !pf_has_hashset(pf) &&
        (dl->hashset_asker == NULL || dl->hashset_asker == s)) {
        dl->hashset_asker = s;
        ed2k_hashsetrequest_encode(peer_out(s->peer), pf_hash(pf));
        srcpol_asked(&s->pol, clock_mono_s());
        src_set_state(s, SRC_HASHSET);
        return;
    }
    if (!src_has_needed(s)) {
        src_set_state(s, SRC_NO_NEEDED);
        srcpol_nothing_needed(&s->pol, false, clock_mono_s());
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
    if (s->n_blocks >= SRC_BLOCKS_IN_FLIGHT || !dl_is_active(dl) || peer_out(s->peer) == NULL)
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
        dl_part_t *pi = &dl->parts[i];
        bool other_owner = pi->exclusive && pi->owner != NULL && pi->owner != s;
        if ((pi->verifying || other_owner) && pf_part_range(pf, i, &ps, &pe) == 0 && pe > ps)
            rangeset_add(mine, ps, pe);
    }
    rangeset_t *allowed_again = rangeset_copy(mine);
    rangeset_add_set(mine, s->slot_asked);
    blocksel_block_t picked[SRC_BLOCKS_IN_FLIGHT];
    size_t want = SRC_BLOCKS_IN_FLIGHT - s->n_blocks;
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
            verifying |= dl->parts[i].verifying || dl->parts[i].recovering;
        if (s->n_blocks == 0 && !verifying) {
            /* Nothing for this source: leave its slot to others. */
            send_cancel(s);
            src_set_state(s, SRC_NO_NEEDED);
            srcpol_nothing_needed(&s->pol, true, clock_mono_s());
        }
        return;
    }
    ed2k_range_t ranges[SRC_BLOCKS_IN_FLIGHT];
    size_t k = 0;
    bool i64 = false;
    for (int i = 0; i < n; i++) {
        /* blocksel hands out at most what is asked, each block inside one
         * part of the file */
        if (MT_BUG(s->n_blocks >= SRC_BLOCKS_IN_FLIGHT))
            break;
        if (MT_BUG(picked[i].start >= picked[i].end || picked[i].end > pf_size(pf) ||
                   picked[i].start / ED2K_PARTSIZE != (picked[i].end - 1) / ED2K_PARTSIZE))
            continue;
        block_t *b = &s->blocks[s->n_blocks++];
        b->start = picked[i].start;
        b->end = picked[i].end;
        dl_part_t *pi = &dl->parts[b->start / ED2K_PARTSIZE];
        if (pi->exclusive && pi->owner == NULL)
            pi->owner = s;
        b->got = rangeset_new();
        rangeset_add(s->slot_asked, b->start, b->end);
        ranges[k].start = b->start;
        ranges[k].end = b->end;
        k++;
        if (b->end > 0xFFFFFFFFu)
            i64 = true;
    }
    if (k == 0)
        return;
    mt_error_t *err = NULL;
    if (ed2k_requestparts_encode(peer_out(s->peer), pf_hash(pf), ranges, k, i64, &err) != 0) {
        log_error("download %s: %s", dl->hex, err->message);
        mt_error_free(err);
    }
}

/* --------------------------------------------------------------- receiving */

/* Remembers s as an author of the AICH blocks of part that [start, end)
 * touches. */
static void
note_block_authors(dl_part_t *pi, uint64_t part, const dl_source_t *s, uint64_t start,
                   uint64_t end)
{
    uint64_t ps = part * ED2K_PARTSIZE;
    uint64_t a = start > ps ? start - ps : 0;
    uint64_t b = end - ps < ED2K_PARTSIZE ? end - ps : ED2K_PARTSIZE;
    for (uint64_t i = a / ED2K_EMBLOCKSIZE; i < ED2K_AICH_BLOCKS_PER_PART && i * ED2K_EMBLOCKSIZE < b;
         i++) {
        if (pi->block_n[i] == 0) {
            pi->block_src[i] = s->id;
            pi->block_n[i] = 1;
        } else if (pi->block_src[i] != s->id) {
            pi->block_n[i] = 2;
        }
    }
}

/* Remembers that s wrote bytes of [start, end) that were not on disk yet
 * (a rewrite of filled bytes changes nothing, so it cannot be to blame). */
static void
note_contributor(download_t *dl, const dl_source_t *s, uint64_t start, uint64_t end)
{
    if (rangeset_contains(pf_filled(dl->pf), start, end))
        return;
    for (uint64_t part = start / ED2K_PARTSIZE; part < dl->n_parts && part * ED2K_PARTSIZE < end;
         part++) {
        dl_part_t *pi = &dl->parts[part];
        bool known = false;
        for (size_t i = 0; i < pi->n_contrib; i++)
            known |= pi->contrib[i].src == s->id;
        if (!known && pi->n_contrib < DL_MAX_CONTRIBUTORS)
            pi->contrib[pi->n_contrib++] = (dl_contributor_t){ s->id, peer_ip(s->peer) };
        note_block_authors(pi, part, s, start, end);
    }
}

static void
check_parts(download_t *dl, uint64_t start, uint64_t end)
{
    for (uint64_t part = start / ED2K_PARTSIZE; part < dl->n_parts && part * ED2K_PARTSIZE < end;
         part++)
        if (pf_is_part_filled(dl->pf, part) && !pf_is_part_verified(dl->pf, part))
            dl_schedule_verification(dl, part, false);
}

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
            dl_storage_trouble(dl, werr, false);
        mt_error_propagate(err, werr);
        return -1;
    }
    pf_add_downloaded_bytes(dl->pf, len);
    pf_set_last_activity(dl->pf, time(NULL));
    s->received += len;
    dl->bytes_tick += len;
    ident_count_down(dl->q->d->ident, s->peer, len); /* credits: bytes it gave us */
    srcpol_data(&s->pol, clock_mono_s());
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
        dl_part_t *pi = &dl->parts[part];
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
        if (as->version >= 4 && (v == DL_SRC_ADDED || v == DL_SRC_KNOWN))
            peer_set_crypt(peer_get(dl->q->d->peers, id, as->sources[i].port),
                           as->sources[i].crypt_options, as->sources[i].user_hash);
        added += v == DL_SRC_ADDED;
        dropped += dl_src_is_drop(v);
    }
    if (added > 0)
        log_info("download %s: %zu new source(s) by source exchange", dl->hex, added);
    if (dropped > 0)
        log_debug("download %s: %zu source(s) from source exchange dropped (see sources_dropped)",
                  dl->hex, dropped);
}

/* After a data packet: a download whose disk refused the data stops its
 * sources now (not while the packet was being taken apart: a compressed
 * block's inflater was still running). */
static int
after_data(dlq_t *q, int rc)
{
    if (q->io_stops)
        dlq_apply_io_stops(q);
    return rc;
}

/* ---------------------------------------------------------- AICH recovery */

#define AICH_ANSWER_TIMEOUT 60  /* seconds a source has to send recovery data */

static dl_aich_vote_t *
aich_vote_for(download_t *dl, const uint8_t root[ED2K_AICH_LEN])
{
    for (size_t i = 0; i < dl->n_aich_votes; i++)
        if (memcmp(dl->aich_votes[i].root, root, ED2K_AICH_LEN) == 0)
            return &dl->aich_votes[i];
    if (dl->n_aich_votes == DL_AICH_MAX_ROOTS)
        return NULL;
    dl_aich_vote_t *v = &dl->aich_votes[dl->n_aich_votes++];
    memset(v, 0, sizeof *v);
    memcpy(v->root, root, ED2K_AICH_LEN);
    return v;
}

/* aich_root_from: s sent root as the file's AICH root. The download
 * trusts a root (and keeps it in the part file) from its link's h=, or
 * when enough address ranges sent it (ed2k_aich_trust, aMule's rule). */
static void
aich_root_from(dl_source_t *s, const uint8_t root[ED2K_AICH_LEN])
{
    download_t *dl = s->dl;
    s->has_aich = true;
    memcpy(s->aich, root, ED2K_AICH_LEN);
    if (pf_aich_root(dl->pf) != NULL)
        return;
    dl_aich_vote_t *v = aich_vote_for(dl, root);
    if (v == NULL)
        return;
    uint32_t voter = ed2k_aich_voter(net_ip_to_host(peer_ip(s->peer)));
    bool known = false;
    for (size_t i = 0; i < v->n_voters; i++)
        known |= v->voters[i] == voter;
    if (!known && v->n_voters < DL_AICH_MAX_VOTERS)
        v->voters[v->n_voters++] = voter;
    size_t counts[DL_AICH_MAX_ROOTS];
    for (size_t i = 0; i < dl->n_aich_votes; i++)
        counts[i] = dl->aich_votes[i].n_voters;
    long best = ed2k_aich_trust(counts, dl->n_aich_votes);
    if (best < 0)
        return;
    char b32[ED2K_AICH_B32_LEN + 1];
    ed2k_aich_to_base32(dl->aich_votes[best].root, b32);
    log_info("download %s: AICH root %s trusted (sent from %zu address ranges)", dl->hex, b32,
             counts[best]);
    pf_set_aich_root(dl->pf, dl->aich_votes[best].root);
    dl->n_aich_votes = 0;
}

/* A source that may be asked for the recovery data of part: it supports
 * AICH, sent the trusted root, has the part, and was not asked yet. */
static bool
aich_candidate(const download_t *dl, const dl_source_t *s, size_t part)
{
    const uint8_t *root = pf_aich_root(dl->pf);
    const dl_part_t *pi = &dl->parts[part];
    if (root == NULL || !s->has_aich || memcmp(s->aich, root, ED2K_AICH_LEN) != 0 ||
        peer_caps(s->peer)->aich_ver < 1 ||
        (!s->complete && (s->parts == NULL || !s->parts[part])))
        return false;
    for (size_t i = 0; i < pi->n_aich_tried; i++)
        if (pi->aich_tried[i] == s->id)
            return false;
    return true;
}

static void
aich_send(dl_source_t *s, size_t part)
{
    download_t *dl = s->dl;
    ed2k_aich_request_t r;
    memcpy(r.hash, pf_hash(dl->pf), ED2K_HASH_LEN);
    r.part = (uint16_t)part;
    memcpy(r.root, pf_aich_root(dl->pf), ED2K_AICH_LEN);
    ed2k_aichrequest_encode(peer_out(s->peer), &r);
    dl->parts[part].aich_sent = true;
    log_info("download %s: asked %s for the AICH recovery data of part %zu", dl->hex,
             peer_desc(s->peer), part);
}

/* aich_send_pending: s's peer is connected: the request it was chosen
 * for goes out. */
static void
aich_send_pending(dl_source_t *s)
{
    download_t *dl = s->dl;
    for (size_t i = 0; i < dl->n_parts; i++) {
        dl_part_t *pi = &dl->parts[i];
        if (pi->recovering && pi->aich_src == s->id && !pi->aich_sent)
            aich_send(s, i);
    }
}

/* aich_ask_next: the next source is asked for part's recovery data (a
 * connected one first); false when none is left. */
static bool
aich_ask_next(download_t *dl, size_t part)
{
    dl_part_t *pi = &dl->parts[part];
    for (;;) {
        dl_source_t *pick = NULL;
        for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl) {
            if (!aich_candidate(dl, s, part))
                continue;
            if (peer_is_ready(s->peer)) {
                pick = s;
                break;
            }
            if (pick == NULL)
                pick = s;
        }
        if (pick == NULL || pi->n_aich_tried == sizeof pi->aich_tried / sizeof pi->aich_tried[0])
            return false;
        pi->aich_tried[pi->n_aich_tried++] = pick->id;
        pi->aich_src = pick->id;
        pi->aich_sent = false;
        pi->aich_deadline = clock_mono_s() + AICH_ANSWER_TIMEOUT;
        if (peer_is_ready(pick->peer)) {
            aich_send(pick, part);
            return true;
        }
        if (peer_connect(pick->peer) == 0)
            return true; /* sent once connected (on_peer_ready) */
    }
}

void
src_aich_clear(download_t *dl, size_t part)
{
    dl_part_t *pi = &dl->parts[part];
    free(pi->aich_blocks);
    pi->aich_blocks = NULL;
    pi->n_aich_blocks = 0;
    pi->recovering = false;
    pi->aich_sent = false;
    pi->aich_src = 0;
    pi->n_aich_tried = 0;
}

/* aich_wake: part has gaps again: the sources that have it and had
 * nothing more to give are asked again now, not on their schedule. */
static void
aich_wake(download_t *dl, size_t part)
{
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
        if (s->state == SRC_NO_NEEDED && (s->complete || (s->parts != NULL && s->parts[part])))
            srcpol_reset(&s->pol);
}

/* aich_give_up: no recovery data for part: the whole part is downloaded
 * again, as without AICH. */
static void
aich_give_up(download_t *dl, size_t part)
{
    log_warn("download %s: no AICH recovery data for part %zu; downloading all of it again",
             dl->hex, part);
    src_aich_clear(dl, part);
    pf_discard_part(dl->pf, part);
    aich_wake(dl, part);
    src_blame_corrupt(dl, part);
}

bool
src_aich_recover(download_t *dl, size_t part, const uint8_t (*blocks)[ED2K_AICH_LEN],
                 size_t n_blocks)
{
    if (part >= dl->n_parts || n_blocks == 0 ||
        n_blocks != ed2k_aich_block_count(pf_size(dl->pf), part) || pf_aich_root(dl->pf) == NULL)
        return false;
    dl_part_t *pi = &dl->parts[part];
    src_aich_clear(dl, part);
    pi->aich_blocks = xcalloc(n_blocks, ED2K_AICH_LEN);
    memcpy(pi->aich_blocks, blocks, n_blocks * ED2K_AICH_LEN);
    pi->n_aich_blocks = n_blocks;
    pi->recovering = true;
    if (!aich_ask_next(dl, part)) {
        /* Nobody to ask yet (a source may not have sent its root yet):
         * aich_tick tries again until the deadline. */
        pi->aich_src = 0;
        pi->aich_deadline = clock_mono_s() + AICH_ANSWER_TIMEOUT;
    }
    return true;
}

/* aich_apply: verified recovery data of part: the blocks whose hash
 * differs from what is on disk are downloaded again, and a source that
 * alone wrote a bad block is banned (the trusted tree proves the block
 * it sent wrong). */
static void
aich_apply(download_t *dl, size_t part, const uint8_t (*good)[ED2K_AICH_LEN], size_t n)
{
    dl_part_t *pi = &dl->parts[part];
    bool bad[ED2K_AICH_BLOCKS_PER_PART] = { false };
    uint64_t culprits[ED2K_AICH_BLOCKS_PER_PART];
    size_t n_bad = 0, n_culprits = 0, n_shared = 0;
    for (size_t i = 0; i < n && i < pi->n_aich_blocks; i++) {
        bad[i] = memcmp(good[i], pi->aich_blocks[i], ED2K_AICH_LEN) != 0;
        if (!bad[i])
            continue;
        n_bad++;
        if (pi->block_n[i] != 1) {
            n_shared++;
            continue;
        }
        bool known = false;
        for (size_t k = 0; k < n_culprits; k++)
            known |= culprits[k] == pi->block_src[i];
        if (!known)
            culprits[n_culprits++] = pi->block_src[i];
    }
    if (n_bad == 0) {
        log_info("download %s: the AICH recovery data of part %zu finds no bad block", dl->hex,
                 part);
        aich_give_up(dl, part);
        return;
    }
    uint64_t bytes = pf_discard_blocks(dl->pf, part, bad, n);
    for (size_t i = 0; i < n; i++)
        if (bad[i])
            pi->block_n[i] = 0;
    src_aich_clear(dl, part);
    aich_wake(dl, part);
    log_warn("download %s: part %zu: AICH found %zu of %zu blocks corrupt; downloading only "
             "those again (%llu bytes)",
             dl->hex, part, n_bad, n, (unsigned long long)bytes);
    if (n_shared > 0)
        log_info("download %s: %zu corrupt block(s) of part %zu came from several peers; "
                 "nobody is blamed for those",
                 dl->hex, n_shared, part);
    for (size_t k = 0; k < n_culprits; k++) {
        dl_source_t *s = src_by_id(dl, culprits[k]);
        if (s == NULL) {
            log_info("download %s: the peer that sent corrupt blocks of part %zu is no longer "
                     "a source",
                     dl->hex, part);
            continue;
        }
        s->corrupt++;
        log_info("download %s: %s sent corrupt blocks of part %zu", dl->hex, peer_desc(s->peer),
                 part);
        ban_source(dl, s->peer, "sent corrupt data (blocks disproved by AICH)");
    }
}

/* aich_failed: the source asked for part's recovery data had none (or
 * bad data): the next one is asked, or the whole part goes. */
static void
aich_failed(download_t *dl, size_t part)
{
    if (!aich_ask_next(dl, part))
        aich_give_up(dl, part);
}

static int
on_aich_answer(dlq_t *q, peer_t *p, const ed2k_packet_t *pkt, mt_error_t **err)
{
    ed2k_aich_answer_t a;
    if (ed2k_aichanswer_decode(pkt->payload, pkt->len, &a, err) != 0)
        return -1;
    download_t *dl = dlq_lookup(q, a.hash);
    dl_source_t *s = dl != NULL ? src_of(dl, p) : NULL;
    if (s == NULL)
        return 1;
    size_t part = dl->n_parts;
    for (size_t i = 0; i < dl->n_parts; i++)
        if (dl->parts[i].recovering && dl->parts[i].aich_sent && dl->parts[i].aich_src == s->id)
            part = i;
    if (part == dl->n_parts || (!a.failed && a.part != part))
        return 1; /* not asked for */
    const uint8_t *root = pf_aich_root(dl->pf);
    if (a.failed || root == NULL || memcmp(a.root, root, ED2K_AICH_LEN) != 0) {
        log_info("download %s: %s has no AICH recovery data for part %zu", dl->hex,
                 peer_desc(p), part);
        aich_failed(dl, part);
        return 1;
    }
    uint8_t good[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN];
    size_t n = 0;
    mt_error_t *e = NULL;
    if (ed2k_aich_recovery_decode(a.data, a.data_len, pf_size(dl->pf), part, root, good, &n,
                                  &e) != 0) {
        log_info("download %s: %s sent unusable AICH recovery data for part %zu: %s", dl->hex,
                 peer_desc(p), part, e->message);
        mt_error_free(e);
        aich_failed(dl, part);
        return 1;
    }
    aich_apply(dl, part, (const uint8_t (*)[ED2K_AICH_LEN])good, n);
    return 1;
}

/* aich_tick: a source that did not answer in time is replaced. */
static void
aich_tick(download_t *dl)
{
    time_t now = clock_mono_s();
    for (size_t i = 0; i < dl->n_parts; i++) {
        dl_part_t *pi = &dl->parts[i];
        if (!pi->recovering)
            continue;
        if (pi->aich_src == 0) { /* waiting for a source to ask */
            if (aich_ask_next(dl, i))
                continue;
            if (now >= pi->aich_deadline)
                aich_give_up(dl, i);
            continue;
        }
        if (now < pi->aich_deadline)
            continue;
        log_info("download %s: no AICH recovery data for part %zu in %d s", dl->hex, i,
                 AICH_ANSWER_TIMEOUT);
        aich_failed(dl, i);
    }
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
                    dl_schedule_verification(dl, i, !pf_is_part_filled(dl->pf, i));
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
            srcpol_slot_started(&s->pol, clock_mono_s());
            rangeset_clear(s->slot_asked);
            request_blocks(s);
            return 1;
        case ED2K_OP_QUEUERANK: {
            uint32_t rank;
            if (ed2k_queuerank_decode(pkt->payload, pkt->len, &rank, err) != 0)
                return -1;
            if (act != NULL && act->state == SRC_WAIT_SLOT) {
                act->rank = (uint16_t)(rank > 65535 ? 65535 : rank);
                srcpol_queued(&act->pol, clock_mono_s());
                src_set_state(act, SRC_QUEUED);
            }
            return 1;
        }
        case ED2K_OP_OUTOFPARTREQS:
            if (act != NULL && act->state == SRC_DOWNLOADING) {
                src_drop_blocks(act);
                srcpol_queued(&act->pol, clock_mono_s());
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
        if (a.has_aich)
            aich_root_from(s, a.aich);
        maybe_proceed(s);
        return 1;
    }
    case ED2K_OP_QUEUERANKING: {
        uint16_t rank;
        if (ed2k_queueranking_decode(pkt->payload, pkt->len, &rank, err) != 0)
            return -1;
        if (act != NULL && (act->state == SRC_WAIT_SLOT || act->state == SRC_QUEUED)) {
            act->rank = rank;
            srcpol_queued(&act->pol, clock_mono_s());
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
        download_t *dl = dlq_lookup(q, as.hash);
        log_debug("%s answered source exchange (v%u) with %zu source(s)", peer_desc(p),
                  (unsigned)as.version, as.count);
        if (dl != NULL && src_of(dl, p) != NULL)
            add_sx_sources(dl, &as);
        ed2k_answersources_clear(&as);
        return 1;
    }
    case ED2K_OP_AICHFILEHASHANS: {
        uint8_t root[ED2K_AICH_LEN];
        if (ed2k_aichfilehashans_decode(pkt->payload, pkt->len, hash, root, err) != 0)
            return -1;
        if ((s = src_for_hash(q, p, hash)) != NULL)
            aich_root_from(s, root);
        return 1;
    }
    case ED2K_OP_AICHANSWER:
        return on_aich_answer(q, p, pkt, err);
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
    for (dl_source_t *s = dp->head; s != NULL; s = s->next_in_peer)
        aich_send_pending(s);
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
        if (pick == NULL && s->state == SRC_IDLE && srcpol_may_ask(&s->pol, false, clock_mono_s()))
            pick = s;
    }
    if (pick != NULL) {
        srcpol_connected(&pick->pol);
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
    case SRC_NO_NEEDED:
        return;
    case SRC_CONNECTING:
        srcpol_closed(&s->pol, SRCPOL_CLOSED_CONNECTING, data_flowed, now);
        break;
    case SRC_DOWNLOADING:
    case SRC_WAIT_SLOT:
        /* Reconnect soon, but not so often that the peer calls us
         * aggressive (§5.5). */
        srcpol_closed(&s->pol, SRCPOL_CLOSED_IN_SLOT, data_flowed, now);
        break;
    default:
        srcpol_closed(&s->pol, SRCPOL_CLOSED_OTHER, data_flowed, now);
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
        if (srcpol_gives_up(&s->pol)) {
            log_info("download %s: dropping source %s after %u failures", s->dl->hex,
                     peer_desc(p), s->pol.failures);
            src_free(s);
        }
    }
    dp = dlpeer(p, false);
    if (dp != NULL)
        dp->active = NULL;
}

/* ------------------------------------------------------------------ blame */

/* A corrupt part. When one peer wrote all of it, that peer loses trust,
 * and one that does it again (CORRUPT_BAN_THRESHOLD parts) is banned and
 * dropped as a source. When several did, nobody can be blamed yet (Muleteer
 * has no AICH recovery): the part is downloaded again from a single source,
 * so that a second failure has one author. */
void
src_blame_corrupt(download_t *dl, size_t part)
{
    dl_part_t *pi = &dl->parts[part];
    if (pi->n_contrib > 1) {
        log_info("download %s: %zu peers wrote into corrupt part %zu; it goes to one source "
                 "next time",
                 dl->hex, pi->n_contrib, part);
        pi->exclusive = true;
        pi->owner = NULL;
        pi->n_contrib = 0;
        memset(pi->block_n, 0, sizeof pi->block_n);
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
    memset(pi->block_n, 0, sizeof pi->block_n);
    /* Act after the walk: banning closes connections, which changes the
     * source lists. */
    if (ban != NULL)
        ban_source(dl, ban, "sent corrupt data");
}

void
src_clear_blame(download_t *dl, size_t part)
{
    dl->parts[part].n_contrib = 0;
    dl->parts[part].exclusive = false;
    dl->parts[part].owner = NULL;
    memset(dl->parts[part].block_n, 0, sizeof dl->parts[part].block_n);
}

/* -------------------------------------------------------- sources offered */

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
    if (!lowid && ipblock_blocks(d->ipfilter, ip, IPBLOCK_SOURCE))
        return DL_SRC_FILTERED;
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
    uint8_t cryptopts;
    bool has_userhash;
    uint8_t userhash[16];
} link_source_t;

/* A source the user typed into a link is never dropped in silence: the
 * log says which and why, and the download counts it. */
static void
link_source_resolved(void *ctx, uint32_t ip, const char *error)
{
    link_source_t *ls = ctx;
    download_t *dl = dlq_lookup(ls->q, ls->hash);
    dl_src_verdict_t v = DL_SRC_UNRESOLVED;
    if (dl != NULL && error == NULL)
        v = dl_add_source(dl, ip, ls->port);
    if ((v == DL_SRC_ADDED || v == DL_SRC_KNOWN) && (ls->cryptopts != 0 || ls->has_userhash))
        peer_set_crypt(peer_get(ls->q->d->peers, ip, ls->port), ls->cryptopts,
                       ls->has_userhash ? ls->userhash : NULL);
    if (dl != NULL && error != NULL)
        count_drop(dl, v);
    if (dl != NULL && dl_src_is_drop(v))
        log_info("download %s: link source %s:%u dropped: %s%s%s", dl->hex, ls->host, ls->port,
                 dl_src_verdict_reason(v), error != NULL ? ": " : "", error != NULL ? error : "");
    free(ls->host);
    free(ls);
}

void
src_add_link_sources(dlq_t *q, const ed2k_link_t *l)
{
    for (size_t i = 0; i < l->n_sources; i++) {
        link_source_t *ls = xcalloc(1, sizeof *ls);
        ls->q = q;
        memcpy(ls->hash, l->hash, 16);
        ls->host = xstrdup(l->sources[i].host);
        ls->port = l->sources[i].port;
        ls->cryptopts = l->sources[i].cryptopts;
        ls->has_userhash = l->sources[i].has_userhash;
        memcpy(ls->userhash, l->sources[i].userhash, 16);
        resolve_ipv4(q->d->workers, ls->host, link_source_resolved, ls);
    }
}

void
src_restore(download_t *dl)
{
    /* dl_add_source refreshes each source in the part file's list (it
     * moves to the newest end), so the list is walked as it was: walking
     * the list itself would skip some and take others twice. */
    size_t n = pf_source_count(dl->pf);
    pf_source_t *known = xcalloc(n + 1, sizeof *known);
    for (size_t i = 0; i < n; i++)
        pf_get_source(dl->pf, i, &known[i]);
    for (size_t i = 0; i < n; i++)
        dl_add_source(dl, net_ip_from_host(known[i].ip), known[i].port);
    free(known);
}

/* ------------------------------------------------------------------ ticks */

/* slot_tick: a source downloading in a slot. An uploader that lost our
 * requests (they crossed the end of a slot, or it holds an old session for
 * us) sends nothing more in this slot: a new one clears that, and the
 * connection goes when new slots do not help either. */
static void
slot_tick(dl_source_t *s, time_t now)
{
    download_t *dl = s->dl;
    switch (srcpol_slot_check(&s->pol, s->n_blocks, SRC_BLOCKS_IN_FLIGHT, now)) {
    case SRCPOL_SLOT_RENEW:
        log_info("download %s: no data from %s for %d s in this slot; asking for a new one",
                 dl->hex, peer_desc(s->peer), SRCPOL_SLOT_STALL_TIMEOUT);
        src_drop_blocks(s);
        send_upload_request(s); /* cancels the slot first */
        return;
    case SRCPOL_SLOT_STALLED:
        log_info("download %s: no data from %s in %u slots; reconnecting", dl->hex,
                 peer_desc(s->peer), SRCPOL_MAX_SLOT_STALLS + 1);
        send_cancel(s);
        peer_close(s->peer, "download timed out");
        return;
    case SRCPOL_SLOT_SILENT:
        log_info("download %s: no data from %s for %d s; reconnecting", dl->hex,
                 peer_desc(s->peer), SRCPOL_DATA_TIMEOUT);
        send_cancel(s);
        peer_close(s->peer, "download timed out");
        return;
    case SRCPOL_SLOT_MORE:
        request_blocks(s);
        return;
    case SRCPOL_SLOT_WAIT:
        return;
    }
}

static void
source_tick(dl_source_t *s, time_t now)
{
    download_t *dl = s->dl;
    switch (s->state) {
    case SRC_IDLE:
    case SRC_NO_NEEDED:
    case SRC_QUEUED:
        if (!srcpol_may_ask(&s->pol, s->state == SRC_QUEUED, now) || !dl_is_active(dl))
            return;
        if (peer_is_ready(s->peer)) {
            dl_peer_t *dp = dlpeer(s->peer, true);
            if (dp->active == NULL || dp->active == s)
                src_start(s);
        } else if (peer_state(s->peer) == PEER_DISCONNECTED) {
            if (peer_connect(s->peer) == 0) {
                src_set_state(s, SRC_CONNECTING);
            } else {
                srcpol_connect_refused(&s->pol, now);
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
        if (srcpol_answer_late(&s->pol, now))
            peer_close(s->peer, "no answer to our request");
        return;
    case SRC_DOWNLOADING:
        slot_tick(s, now);
        return;
    }
}

/* ---------------------------------------------------------- for the queue */

void
src_attach(dlq_t *q)
{
    peer_mgr_add_handler(q->d->peers, &(peer_handler_t){ .ready = on_peer_ready,
                                                         .closed = on_peer_closed,
                                                         .packet = on_packet,
                                                         .ctx = q });
}

void
src_tick(download_t *dl, time_t now)
{
    dl_source_t *next;
    for (dl_source_t *s = dl->sources; s != NULL; s = next) {
        next = s->next_in_dl;
        source_tick(s, now);
    }
    aich_tick(dl);
}

/* A source that gave us a slot, or holds a place for us in its queue. */
static bool
holds_slot(const dl_source_t *s)
{
    return s->state == SRC_DOWNLOADING || s->state == SRC_WAIT_SLOT || s->state == SRC_QUEUED;
}

void
src_stop_all(download_t *dl)
{
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl) {
        if (holds_slot(s))
            send_cancel(s);
        src_drop_blocks(s);
        src_set_state(s, SRC_IDLE);
    }
}

void
src_cancel_slots(download_t *dl)
{
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
        if (holds_slot(s))
            send_cancel(s);
}

void
src_cancel_downloading(download_t *dl)
{
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
        if (s->state == SRC_DOWNLOADING)
            send_cancel(s);
}

void
src_free_all(download_t *dl)
{
    while (dl->sources != NULL)
        src_free(dl->sources);
}

void
src_ask_again(download_t *dl)
{
    for (dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
        srcpol_reset(&s->pol);
}

void
src_count(const download_t *dl, src_counts_t *out)
{
    *out = (src_counts_t){ 0 };
    for (const dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl) {
        out->transferring += s->state == SRC_DOWNLOADING;
        out->queued += s->state == SRC_QUEUED;
        out->complete += s->complete;
    }
}

const char *
src_state_name(size_t state)
{
    _Static_assert(sizeof src_state_names / sizeof src_state_names[0] == SRC_N_STATES,
                   "SRC_N_STATES");
    return state < SRC_N_STATES ? src_state_names[state] : NULL;
}

void
src_count_states(const download_t *dl, uint64_t counts[SRC_N_STATES])
{
    for (const dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl)
        if (!MT_BUG((size_t)s->state >= SRC_N_STATES))
            counts[s->state]++;
}

json_object *
src_requested_json(const download_t *dl)
{
    rangeset_t *r = requested_ranges(dl);
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < rangeset_count(r); i++) {
        uint64_t s, e;
        rangeset_get(r, i, &s, &e);
        json_object_array_add(a, json_object_new_int64((int64_t)s));
        json_object_array_add(a, json_object_new_int64((int64_t)e));
    }
    rangeset_free(r);
    return a;
}

json_object *
src_peers_json(const download_t *dl)
{
    json_object *peers = json_object_new_array();
    for (const dl_source_t *s = dl->sources; s != NULL; s = s->next_in_dl) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "peer", json_object_new_string(peer_desc(s->peer)));
        json_object_object_add(e, "state", json_object_new_string(src_state_names[s->state]));
        json_object_object_add(e, "received", json_object_new_int64((int64_t)s->received));
        json_object_object_add(e, "rank", json_object_new_int(s->rank));
        json_object_object_add(e, "software", json_object_new_string(peer_software(s->peer)));
        json_object_object_add(e, "name", json_object_new_string(peer_name(s->peer)));
        json_object_object_add(e, "complete", json_object_new_boolean(s->complete));
        json_object_object_add(e, "ident", json_object_new_string(ident_state_name(ident_of(s->peer))));
        json_object_object_add(e, "credits", ident_credits_json(dl->q->d->ident, s->peer));
        json_object_array_add(peers, e);
    }
    return peers;
}
