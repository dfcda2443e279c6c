/* upload.c: the upload side. Peers ask about files (shared files, and part
 * files for their verified parts), join the upload queue, get a slot and
 * request blocks; blocks are read and encoded on a worker, then fed to the
 * connection, a fair share per slot; the global limits are applied to all
 * peer sockets by peer.c. */
#include "config.h"

#include "daemon/transfer/upload.h"
#include "daemon/core/daemon.h"
#include "daemon/core/worker.h"
#include "daemon/net/ipblock.h"
#include "daemon/net/net.h"
#include "daemon/net/peer.h"
#include "daemon/transfer/aichdata.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/finished.h"
#include "daemon/transfer/ident.h"
#include "daemon/transfer/partfile.h"
#include "daemon/transfer/shared.h"
#include "daemon/transfer/upload_queue.h"
#include "ed2k/aich.h"
#include "ed2k/c2c.h"
#include "ed2k/hash.h"
#include "ed2k/kadcrypt.h"
#include "ed2k/opcodes.h"
#include "util/bug.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_BLOCK_LEN (3 * ED2K_EMBLOCKSIZE) /* aMule's limit per requested block */
#define MAX_PENDING_BLOCKS 9
#define SEND_WATERMARK (128 * 1024) /* bytes queued on a socket */
#define PUMP_INTERVAL_MS 50

typedef struct ul_block {
    uint64_t start, end;
} ul_block_t;

typedef struct ul_client {
    ul_entry_t e;           /* its place in the queue or the slots */
    struct ulq *q;
    peer_t *peer;
    struct ul_client *all_prev, *all_next; /* every client, for shutdown */
    bool has_file;
    uint8_t hash[16];       /* the file it wants */
    bool accepted;           /* OP_ACCEPTUPLOADREQ sent for this slot */
    ul_block_t pending[MAX_PENDING_BLOCKS];
    size_t n_pending;
    ul_block_t done[MAX_PENDING_BLOCKS * 2]; /* recently sent: duplicates dropped */
    size_t n_done;
    bool reading;           /* a worker is reading a block */
    bool forgotten;         /* detached from its peer; freed when idle */
    struct evbuffer *ready; /* encoded packets waiting for the socket */
    uint64_t ready_data;    /* file data in ready (ed2k_c2c_data_len) */
    uint64_t sent_in_slot;  /* bytes on the wire */
    uint64_t sent_total;
} ul_client_t;

struct ulq {
    muleteerd_t *d;
    ul_client_t *all;
    ul_queue_t uq;          /* the queue and the slots (upload_queue.h) */
    struct event *pump_ev;
    bool pump_scheduled;
    evutil_socket_t udp_fd;
    struct event *udp_ev;
    uint16_t udp_port;
    ulq_kad_fn kad_fn; /* Kad datagrams (ulq_set_kad_handler) */
    void *kad_ctx;
    uint64_t bytes_tick;
    double rate;
    unsigned aich_jobs; /* recovery data being built (each reads a whole file) */
};

/* ------------------------------------------------------------ the files */

/* What a peer can download from us: a shared file, or a part file's
 * verified parts. */
typedef struct ul_file {
    const char *path;
    const char *name;
    uint64_t size;
    shared_file_t *shared;
    partfile_t *pf;
} ul_file_t;

static bool
find_file(muleteerd_t *d, const uint8_t hash[16], ul_file_t *f)
{
    memset(f, 0, sizeof *f);
    shared_file_t *sf = shared_find(d->shared, hash);
    if (sf != NULL && shared_is_withheld(d->shared, hash))
        return false; /* a finished download whose sharing stopped */
    if (sf != NULL) {
        f->path = sf->path;
        f->name = sf->name;
        f->size = sf->size;
        f->shared = sf;
        return true;
    }
    download_t *dl = dlq_find(d->downloads, hash);
    if (dl != NULL) {
        partfile_t *pf = dl_partfile(dl);
        if (pf_verified_bytes(pf) == 0)
            return false; /* nothing to offer yet */
        f->path = pf_data_path(pf);
        f->name = pf_name(pf);
        f->size = pf_size(pf);
        f->pf = pf;
        return true;
    }
    return false;
}

/* Our part status for f: count 0 (complete) for shared files. The bitmap
 * must hold ed2k_partstatus_bytes(pf_part_count) bytes. */
static void
file_status(const ul_file_t *f, ed2k_partstatus_t *ps, uint8_t **bitmap)
{
    *bitmap = NULL;
    ps->count = 0;
    ps->bitmap = NULL;
    if (f->pf == NULL)
        return;
    size_t n = pf_part_count(f->pf);
    uint8_t *flags = xcalloc(n, 1);
    for (size_t i = 0; i < n; i++)
        flags[i] = pf_is_part_verified(f->pf, i);
    *bitmap = xcalloc(ed2k_partstatus_bytes(n) + 1, 1);
    ed2k_partstatus_pack(flags, n, *bitmap);
    free(flags);
    ps->count = (uint16_t)n;
    ps->bitmap = *bitmap;
}

static bool
range_is_available(const ul_file_t *f, uint64_t start, uint64_t end)
{
    if (f->pf == NULL)
        return true;
    for (uint64_t part = start / ED2K_PARTSIZE; part * ED2K_PARTSIZE < end; part++)
        if (!pf_is_part_verified(f->pf, (size_t)part))
            return false;
    return true;
}

/* ----------------------------------------------------------- the clients */

/* client_at: the client whose place is e. */
static ul_client_t *
client_at(ul_entry_t *e)
{
    return (ul_client_t *)(void *)((char *)e - offsetof(ul_client_t, e));
}

static ul_client_t *
client_of(ulq_t *q, peer_t *p, bool create)
{
    ul_client_t *c = peer_ul_data(p);
    if (c == NULL && create) {
        c = xcalloc(1, sizeof *c);
        c->q = q;
        c->peer = p;
        c->ready = evbuffer_new();
        c->all_next = q->all;
        if (q->all != NULL)
            q->all->all_prev = c;
        q->all = c;
        peer_set_ul_data(p, c);
    }
    return c;
}

/* control_out: where a packet to p goes without cutting into the file
 * data of its slot: the pump moves a slot's packets to the socket in
 * pieces, so while some are waiting, the packet goes after them. */
static struct evbuffer *
control_out(ulq_t *q, peer_t *p)
{
    ul_client_t *c = client_of(q, p, false);
    if (c != NULL && evbuffer_get_length(c->ready) > 0)
        return c->ready;
    return peer_out(p);
}

static void
client_detach(ulq_t *q, ul_client_t *c)
{
    ul_leave(&q->uq, &c->e);
    c->n_pending = 0;
    c->n_done = 0;
    evbuffer_drain(c->ready, evbuffer_get_length(c->ready));
    c->ready_data = 0;
}

/* Frees the client unless a read job still refers to it. */
static void
client_maybe_free(ul_client_t *c)
{
    if (!c->forgotten || c->reading)
        return;
    /* a forgotten client is in no list (client_forget) */
    if (MT_BUG(c->e.state != UL_NONE))
        ul_leave(&c->q->uq, &c->e);
    if (c->all_prev != NULL)
        c->all_prev->all_next = c->all_next;
    else
        c->q->all = c->all_next;
    if (c->all_next != NULL)
        c->all_next->all_prev = c->all_prev;
    evbuffer_free(c->ready);
    free(c);
}

static void
client_forget(ulq_t *q, ul_client_t *c)
{
    client_detach(q, c);
    peer_set_ul_data(c->peer, NULL);
    c->forgotten = true;
    client_maybe_free(c);
}

static void schedule_pump(ulq_t *q);

static void
send_accept(ul_client_t *c)
{
    ed2k_acceptuploadreq_encode(peer_out(c->peer));
    c->accepted = true;
    c->e.last_request = clock_mono_s();
}

/* The peers behind ul_fill (upload_queue.h). */
static bool
slot_connected(void *ctx, const ul_entry_t *e)
{
    (void)ctx;
    return peer_is_ready(client_at((ul_entry_t *)e)->peer);
}

/* slot_open: c got a slot: accepted at once when connected, else when
 * the connection we open is ready (on_peer_ready). */
static bool
slot_open(void *ctx, ul_entry_t *e)
{
    (void)ctx;
    ul_client_t *c = client_at(e);
    c->n_pending = 0;
    c->n_done = 0;
    evbuffer_drain(c->ready, evbuffer_get_length(c->ready));
    c->ready_data = 0;
    c->sent_in_slot = 0;
    c->accepted = false;
    log_info("upload: slot for %s", peer_desc(c->peer));
    if (peer_is_ready(c->peer)) {
        send_accept(c);
        return true;
    }
    return peer_connect(c->peer) == 0;
}

/* Gives free slots to the longest waiting clients we can reach: connected
 * ones, or ones we did not just fail to connect to. */
static void
fill_slots(ulq_t *q)
{
    size_t max = (size_t)conf_get_int(q->d->conf, "upload_slots");
    ul_slot_ops_t ops = { .connected = slot_connected, .open = slot_open, .ctx = q };
    /* the credits as they are now (identification comes after the hello) */
    for (ul_entry_t *e = q->uq.queue; e != NULL; e = e->next)
        e->credit = ident_credit(q->d->ident, client_at(e)->peer);
    ul_fill(&q->uq, max, clock_mono_s(), &ops);
    ulq_apply_rate_limits(q); /* a new slot is limited from its first byte */
}

static void
end_slot(ulq_t *q, ul_client_t *c, bool requeue)
{
    ul_end_slot(&q->uq, &c->e, requeue && c->has_file, clock_mono_s());
    c->n_pending = 0;
    c->n_done = 0;
    fill_slots(q);
}

/* ------------------------------------------------------- reading blocks */

typedef struct read_job {
    ulq_t *q;
    ul_client_t *c;
    char *path;
    uint8_t hash[16];
    uint64_t start, end;
    bool i64, compress;
    struct evbuffer *out;
    size_t data_len; /* file data in out (ed2k_c2c_data_len) */
    char *error;
} read_job_t;

static bool
compressible_name(const char *name)
{
    static const char *const skip[] = { ".zip", ".rar", ".7z",  ".gz",  ".bz2", ".xz",  ".zst",
                                        ".mkv", ".mp4", ".avi", ".mp3", ".ogg", ".flac", ".jpg",
                                        ".jpeg", ".png", ".webm", ".m4a", ".cab", ".iso" };
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return true;
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strcasecmp(dot, skip[i]) == 0)
            return false;
    return true;
}

/* Whether deflating the block is worth it: three 4 KiB samples (start,
 * middle, end) must shrink by a tenth at level 1. Random or already
 * packed data is then sent as it is without deflating all of it, which
 * would cost most of the upload's CPU for nothing. */
static bool
looks_compressible(const uint8_t *buf, size_t len)
{
    enum { SAMPLE = 4096 };
    if (len < 3 * SAMPLE)
        return true;
    const size_t at[3] = { 0, len / 2 - SAMPLE / 2, len - SAMPLE };
    uLong in = 0, out = 0;
    for (size_t i = 0; i < 3; i++) {
        uint8_t z[SAMPLE + SAMPLE / 8 + 64];
        uLongf zlen = sizeof z;
        if (compress2(z, &zlen, buf + at[i], SAMPLE, 1) != Z_OK)
            return false;
        in += SAMPLE;
        out += zlen;
    }
    return out * 10 < in * 9;
}

static void
read_run(void *arg)
{
    read_job_t *j = arg;
    size_t len = (size_t)(j->end - j->start);
    uint8_t *buf = xmalloc(len);
    int fd = open(j->path, O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    if (fd >= 0) {
        while (got < len) {
            ssize_t r = pread(fd, buf + got, len - got, (off_t)(j->start + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        close(fd);
    }
    if (got < len) {
        j->error = xasprintf("cannot read %s at %llu: %s", j->path,
                             (unsigned long long)j->start, fd < 0 || errno ? strerror(errno)
                                                                           : "short file");
        free(buf);
        return;
    }
    j->out = evbuffer_new();
    mt_error_t *err = NULL;
    int done = 0;
    if (j->compress && looks_compressible(buf, len)) {
        ed2k_deflate_status_t st = ed2k_compressedpart_encode_block(j->out, j->hash, j->start, buf,
                                                                    len, 1, j->i64, &err);
        done = st == ED2K_DEFLATE_OK;
        mt_error_clear(&err);
    }
    if (!done && ed2k_sendingpart_encode_block(j->out, j->hash, j->start, buf, len, j->i64,
                                               &err) != 0) {
        j->error = xstrdup(err->message);
        mt_error_free(err);
    }
    if (j->error == NULL)
        j->data_len = ed2k_c2c_data_len_evbuffer(j->out);
    free(buf);
}

static void pump(ulq_t *q);

/* count_payload: chunk bytes of the had in c->ready went to the peer (the
 * output buffer counted them as protocol, traffic.h): their share of the
 * file data in ready is payload; the last bytes take what is left, so a
 * block's data is counted exactly. */
static void
count_payload(ulq_t *q, ul_client_t *c, size_t chunk, size_t had)
{
    uint64_t data = chunk >= had ? c->ready_data : c->ready_data * chunk / had;
    c->ready_data -= data;
    traffic_t *t = &q->d->traffic;
    /* the output buffer has just counted the chunk as protocol */
    if (MT_BUG(t->protocol[TRAFFIC_OUT] < data))
        return;
    t->payload[TRAFFIC_OUT] += data;
    t->protocol[TRAFFIC_OUT] -= data;
    ident_count_up(q->d->ident, c->peer, data); /* credits: bytes sent to it */
}

static void
read_done(void *arg, int cancelled)
{
    read_job_t *j = arg;
    ul_client_t *c = j->c;
    /* one read at a time per client (start_read) */
    (void)MT_BUG(!c->reading);
    c->reading = false;
    /* still in its slot: the block goes out; else it is dropped (and a
     * forgotten client freed) */
    if (!cancelled && j->error == NULL && !c->forgotten && c->e.state == UL_SLOT) {
        evbuffer_add_buffer(c->ready, j->out);
        c->ready_data += j->data_len;
        schedule_pump(j->q);
    } else if (j->error != NULL) {
        log_error("upload: %s", j->error);
    }
    if (j->out != NULL)
        evbuffer_free(j->out);
    free(j->error);
    free(j->path);
    free(j);
    client_maybe_free(c);
}

/* One part per slot (eMule's SESSIONMAXTRANS), but only while somebody
 * waits for a slot: as in aMule, a slot nobody else wants is not taken
 * away (ending it would only cost the peer a round of requests). */
static bool
slot_used_up(const ulq_t *q, const ul_client_t *c)
{
    return ul_slot_used_up(&q->uq, &c->e);
}

static void
start_read(ulq_t *q, ul_client_t *c)
{
    if (c->reading || c->n_pending == 0 || evbuffer_get_length(c->ready) > 0 ||
        slot_used_up(q, c))
        return;
    /* blocks are read for a client in a slot only */
    if (MT_BUG(c->e.state != UL_SLOT)) {
        c->n_pending = 0;
        return;
    }
    ul_file_t f;
    if (!find_file(q->d, c->hash, &f)) {
        c->n_pending = 0;
        return;
    }
    ul_block_t b = c->pending[0];
    memmove(&c->pending[0], &c->pending[1], (c->n_pending - 1) * sizeof c->pending[0]);
    c->n_pending--;
    if (c->n_done == sizeof c->done / sizeof c->done[0]) {
        memmove(&c->done[0], &c->done[1], (c->n_done - 1) * sizeof c->done[0]);
        c->n_done--;
    }
    c->done[c->n_done++] = b;
    c->e.read_in_slot += b.end - b.start;
    read_job_t *j = xcalloc(1, sizeof *j);
    j->q = q;
    j->c = c;
    j->path = xstrdup(f.path);
    memcpy(j->hash, c->hash, 16);
    j->start = b.start;
    j->end = b.end;
    j->i64 = b.end > 0xFFFFFFFFu;
    j->compress = peer_caps(c->peer)->data_comp_ver >= 1 && compressible_name(f.name);
    c->reading = true;
    worker_submit(q->d->workers, read_run, read_done, j);
}

/* The slot has sent its part's worth: back to the queue. */
static void
slot_over(ulq_t *q, ul_client_t *c)
{
    ed2k_outofpartreqs_encode(peer_out(c->peer));
    log_info("upload: slot of %s ends after %llu bytes of the file (%llu sent)",
             peer_desc(c->peer), (unsigned long long)c->e.read_in_slot,
             (unsigned long long)c->sent_in_slot);
    end_slot(q, c, true);
}

/* Moves encoded data from the clients' buffers to their sockets: each slot
 * in turn, within the token bucket and the socket watermark. */
static void
pump(ulq_t *q)
{
    q->pump_scheduled = false;
    bool more = true;
    int rounds = 0;
    while (more && rounds++ < 64) {
        more = false;
        for (ul_entry_t *e = q->uq.slots, *next; e != NULL; e = next) {
            next = e->next;
            ul_client_t *c = client_at(e);
            if (!peer_is_ready(c->peer))
                continue;
            /* A used-up slot reads no more blocks, and ends once what
             * was read is sent. */
            if (evbuffer_get_length(c->ready) == 0) {
                if (!slot_used_up(q, c))
                    start_read(q, c);
                else if (!c->reading)
                    slot_over(q, c);
                continue;
            }
            if (peer_out_len(c->peer) >= SEND_WATERMARK)
                continue;
            /* The global limits are libevent's rate-limit group on every
             * peer connection (peer.c); here only a fair share per turn. */
            size_t chunk = evbuffer_get_length(c->ready);
            if (chunk > ED2K_FRAGMENT_SIZE * 4)
                chunk = ED2K_FRAGMENT_SIZE * 4;
            size_t had = evbuffer_get_length(c->ready);
            evbuffer_remove_buffer(c->ready, peer_out(c->peer), chunk);
            count_payload(q, c, chunk, had);
            c->sent_in_slot += chunk;
            c->sent_total += chunk;
            q->bytes_tick += chunk;
            /* the file's own upload count (shared_files, downloads) */
            ul_file_t uf;
            if (c->has_file && find_file(q->d, c->hash, &uf)) {
                if (uf.shared != NULL) {
                    uf.shared->uploaded += chunk;
                    /* a finished download's own count (downloads table) */
                    fin_on_upload(q->d->finished, c->hash, chunk);
                } else if (uf.pf != NULL) {
                    pf_add_uploaded_bytes(uf.pf, chunk);
                    pf_set_last_activity(uf.pf, time(NULL));
                }
            }
            peer_touch(c->peer);
            if (evbuffer_get_length(c->ready) > 0) {
                if (peer_out_len(c->peer) < SEND_WATERMARK)
                    more = true;
            } else if (!slot_used_up(q, c)) {
                start_read(q, c);
            } else if (!c->reading) {
                slot_over(q, c);
            }
        }
    }
}

static void
on_pump(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

static void
schedule_pump(ulq_t *q)
{
    if (!q->pump_scheduled) {
        q->pump_scheduled = true;
        event_active(q->pump_ev, EV_TIMEOUT, 0);
    }
}

/* ------------------------------------------------------------- requests */

/* add_source: appends ip:port (eD2K IP form) unless it is the asking peer
 * or already listed. */
static void
add_source(ed2k_sx_source_t *src, size_t *k, size_t max, peer_t *asker, uint32_t ip,
           uint16_t port)
{
    if (*k >= max || ip == 0 || port == 0 || net_is_lowid(ip) ||
        (ip == peer_ip(asker) && port == peer_port(asker)))
        return; /* a LowID is of no use without its server */
    uint32_t id = ed2k_c2c_id_to_hybrid(ip);
    for (size_t i = 0; i < *k; i++)
        if (src[i].id == id && src[i].port == port)
            return;
    src[*k].id = id;
    src[*k].port = port;
    (*k)++;
}

/* answer_sources: OP_ANSWERSOURCES2 with the sources we know for a file:
 * those of its download, and the HighID peers that are asking us for it
 * (as aMule does for the files it shares). Nothing when we know none. */
static void
answer_sources(muleteerd_t *d, peer_t *p, const uint8_t hash[16])
{
    enum { MAX_SX_SOURCES = 500 };
    ed2k_sx_source_t *src = xcalloc(MAX_SX_SOURCES, sizeof *src);
    size_t k = 0;
    download_t *dl = dlq_find(d->downloads, hash);
    if (dl != NULL) {
        partfile_t *pf = dl_partfile(dl);
        size_t n = pf_source_count(pf);
        for (size_t i = 0; i < n; i++) {
            pf_source_t ps;
            if (pf_get_source(pf, i, &ps))
                add_source(src, &k, MAX_SX_SOURCES, p, net_ip_from_host(ps.ip), ps.port);
        }
    }
    for (ul_client_t *c = d->uploads->all; c != NULL; c = c->all_next) {
        if (c->peer == NULL || c->peer == p || c->forgotten || !c->has_file ||
            memcmp(c->hash, hash, 16) != 0)
            continue;
        uint32_t id = peer_client_id(c->peer);
        if (!ed2k_c2c_is_lowid(id) && id == peer_ip(c->peer))
            add_source(src, &k, MAX_SX_SOURCES, p, id, peer_port(c->peer));
    }
    if (k > 0)
        ed2k_answersources2_encode(control_out(d->uploads, p), 4, hash, src, k, NULL);
    log_debug("upload: %zu source(s) given to %s by source exchange", k, peer_desc(p));
    free(src);
}

static bool
file_ok_for(const ul_file_t *f, peer_t *p)
{
    /* a >4 GiB file only to peers that can address it (§5.3) */
    return f->size <= 0xFFFFFFFFu || peer_caps(p)->large_files;
}

static int
on_multipacket(muleteerd_t *d, peer_t *p, const ed2k_packet_t *pkt, bool ext, mt_error_t **err)
{
    const ed2k_caps_t *caps = peer_caps(p);
    ed2k_multipacket_t m;
    if (ed2k_multipacket_decode(pkt->payload, pkt->len, ext, caps->ext_req_ver,
                                ED2K_EXTINFO_AMULE, &m, err) != 0)
        return -1;
    struct evbuffer *out = control_out(d->uploads, p);
    ul_file_t f;
    if (!find_file(d, m.hash, &f) || !file_ok_for(&f, p) || (m.ext && m.size != f.size)) {
        ed2k_filereqansnofil_encode(out, m.hash);
        return 1;
    }
    ul_client_t *c = client_of(d->uploads, p, true);
    memcpy(c->hash, m.hash, 16);
    c->has_file = true;
    c->e.last_seen = clock_mono_s();
    ed2k_multipacket_answer_t a = { 0 };
    memcpy(a.hash, m.hash, 16);
    uint8_t *bitmap = NULL;
    if (m.req_filename) {
        a.has_name = true;
        a.name = (const uint8_t *)f.name;
        a.name_len = strlen(f.name);
    }
    if (m.req_status) {
        a.has_status = true;
        file_status(&f, &a.status, &bitmap);
    }
    if (m.req_aich && f.shared != NULL) {
        a.has_aich = true;
        memcpy(a.aich, f.shared->aich, ED2K_AICH_HASH_LEN);
    }
    int rc = ed2k_multipacket_answer_encode(out, &a, err);
    free(bitmap);
    if (rc != 0)
        return -1;
    if (m.req_sources2)
        answer_sources(d, p, m.hash);
    if (f.shared != NULL)
        f.shared->requests++;
    return 1;
}

static void
on_startupload(ulq_t *q, peer_t *p, const uint8_t hash[16])
{
    muleteerd_t *d = q->d;
    ul_file_t f;
    if (!find_file(d, hash, &f) || !file_ok_for(&f, p)) {
        ed2k_filereqansnofil_encode(control_out(q, p), hash);
        return;
    }
    ul_client_t *c = client_of(q, p, true);
    memcpy(c->hash, hash, 16);
    c->has_file = true;
    switch (ul_join(&q->uq, &c->e, clock_mono_s())) {
    case UL_JOIN_IN_SLOT:
        send_accept(c);
        return;
    case UL_JOIN_FULL:
        ed2k_queueranking_encode(control_out(q, p), 0xFFFF);
        return;
    case UL_JOIN_QUEUED:
    case UL_JOIN_WAITING:
        break;
    }
    fill_slots(q);
    if (c->e.state == UL_QUEUED) {
        size_t rank = ul_rank(&q->uq, &c->e);
        ed2k_queueranking_encode(control_out(q, p), (uint16_t)(rank > 65535 ? 65535 : rank));
    }
}

static bool
block_known(const ul_client_t *c, const ul_block_t *b)
{
    for (size_t i = 0; i < c->n_pending; i++)
        if (c->pending[i].start == b->start && c->pending[i].end == b->end)
            return true;
    for (size_t i = 0; i < c->n_done; i++)
        if (c->done[i].start == b->start && c->done[i].end == b->end)
            return true;
    return false;
}

static int
on_requestparts(ulq_t *q, peer_t *p, const ed2k_packet_t *pkt, bool i64, mt_error_t **err)
{
    ed2k_requestparts_t rp;
    if (ed2k_requestparts_decode(pkt->payload, pkt->len, i64, &rp, err) != 0)
        return -1;
    ul_client_t *c = client_of(q, p, false);
    if (c == NULL || c->e.state != UL_SLOT)
        return 1; /* no slot: ignore, as aMule does */
    ul_file_t f;
    if (memcmp(rp.hash, c->hash, 16) != 0) {
        /* it switched files inside its slot */
        if (!find_file(q->d, rp.hash, &f) || !file_ok_for(&f, p))
            return 1;
        memcpy(c->hash, rp.hash, 16);
        c->n_done = 0;
    } else if (!find_file(q->d, rp.hash, &f)) {
        return 1;
    }
    c->e.last_request = clock_mono_s();
    for (size_t i = 0; i < rp.n; i++) {
        ul_block_t b = { rp.ranges[i].start, rp.ranges[i].end };
        /* aMule's checks: not past the end, not over 3 blocks, only what we
         * have (verified parts of a part file); duplicates dropped (§5.6) */
        if (b.end > f.size || b.end - b.start > MAX_BLOCK_LEN ||
            !range_is_available(&f, b.start, b.end) || block_known(c, &b) ||
            c->n_pending == MAX_PENDING_BLOCKS)
            continue;
        c->pending[c->n_pending++] = b;
    }
    start_read(q, c);
    schedule_pump(q);
    return 1;
}

/* ---------------------------------------------------- AICH recovery data */

/* A request for the recovery data of a part of a shared file: answered
 * from a worker that reads the file. */
typedef struct aich_job {
    ulq_t *q;
    uint32_t ip;
    uint16_t port;
    char *path;
    uint64_t size;
    ed2k_aich_request_t r;
    uint8_t *data;
    size_t len;
    mt_error_t *err;
} aich_job_t;

static void
aich_run(void *arg)
{
    aich_job_t *j = arg;
    (void)aichdata_build(j->path, j->size, j->r.part, j->r.root, &j->data, &j->len, &j->err);
}

static void
aich_done(void *arg, int cancelled)
{
    aich_job_t *j = arg;
    if (!cancelled)
        j->q->aich_jobs--;
    peer_t *p = cancelled ? NULL : peer_get(j->q->d->peers, j->ip, j->port);
    if (p != NULL && peer_is_ready(p)) {
        if (j->data != NULL)
            log_info("upload: AICH recovery data of part %u sent to %s", (unsigned)j->r.part,
                     peer_desc(p));
        else
            log_info("upload: no AICH recovery data of part %u for %s: %s", (unsigned)j->r.part,
                     peer_desc(p), j->err != NULL ? j->err->message : "?");
        ed2k_aichanswer_encode(control_out(j->q, p), j->r.hash, j->r.part, j->r.root, j->data,
                               j->len);
    }
    mt_error_free(j->err);
    free(j->data);
    free(j->path);
    free(j);
}

/* OP_AICHREQUEST: the recovery data of a part of a complete file we share
 * whose AICH root is the one asked for (as aMule answers: not for a part
 * of a single block); anything else gets the failure answer, and so does
 * a request while AICH_MAX_JOBS are being built (each reads a whole file:
 * requests are rare, a flood of them must not keep the disk busy). */
#define AICH_MAX_JOBS 2
static int
on_aich_request(ulq_t *q, peer_t *p, const ed2k_packet_t *pkt, mt_error_t **err)
{
    ed2k_aich_request_t r;
    ul_file_t f;
    if (ed2k_aichrequest_decode(pkt->payload, pkt->len, &r, err) != 0)
        return -1;
    if (!find_file(q->d, r.hash, &f) || f.shared == NULL || !file_ok_for(&f, p) ||
        memcmp(f.shared->aich, r.root, ED2K_AICH_LEN) != 0 ||
        !ed2k_aich_recoverable(f.size, r.part) || q->aich_jobs >= AICH_MAX_JOBS) {
        log_info("upload: %s asked for AICH recovery data we do not have", peer_desc(p));
        ed2k_aichanswer_encode(control_out(q, p), r.hash, r.part, r.root, NULL, 0);
        return 1;
    }
    aich_job_t *j = xcalloc(1, sizeof *j);
    j->q = q;
    j->ip = peer_ip(p);
    j->port = peer_port(p);
    j->path = xstrdup(f.path);
    j->size = f.size;
    j->r = r;
    q->aich_jobs++;
    worker_submit(q->d->workers, aich_run, aich_done, j);
    return 1;
}

/* on_packet: a packet of the upload side (peer_handler_t). */
static int
on_packet(void *ctx, peer_t *p, const ed2k_packet_t *pkt, mt_error_t **err)
{
    ulq_t *q = ctx;
    muleteerd_t *d = q->d;
    struct evbuffer *out = control_out(q, p);
    uint8_t hash[16];
    ul_file_t f;
    if (pkt->proto == ED2K_PROTO_EDONKEY) {
        switch (pkt->opcode) {
        case ED2K_OP_REQUESTFILENAME: {
            ed2k_requestfilename_t r;
            if (ed2k_requestfilename_decode(pkt->payload, pkt->len, peer_caps(p)->ext_req_ver,
                                            ED2K_EXTINFO_AMULE, &r, err) != 0)
                return -1;
            if (!find_file(d, r.hash, &f) || !file_ok_for(&f, p)) {
                ed2k_filereqansnofil_encode(out, r.hash);
                return 1;
            }
            ul_client_t *c = client_of(q, p, true);
            memcpy(c->hash, r.hash, 16);
            c->has_file = true;
            ed2k_reqfilenameanswer_encode(out, r.hash, f.name, strlen(f.name), NULL);
            return 1;
        }
        case ED2K_OP_SETREQFILEID: {
            if (ed2k_setreqfileid_decode(pkt->payload, pkt->len, hash, err) != 0)
                return -1;
            if (!find_file(d, hash, &f) || !file_ok_for(&f, p)) {
                ed2k_filereqansnofil_encode(out, hash);
                return 1;
            }
            ed2k_partstatus_t ps;
            uint8_t *bitmap;
            file_status(&f, &ps, &bitmap);
            ed2k_filestatus_encode(out, hash, &ps, NULL);
            free(bitmap);
            return 1;
        }
        case ED2K_OP_HASHSETREQUEST: {
            if (ed2k_hashsetrequest_decode(pkt->payload, pkt->len, hash, err) != 0)
                return -1;
            if (!find_file(d, hash, &f))
                return 1;
            if (f.shared != NULL && f.shared->n_part_hashes > 0) {
                ed2k_hashsetanswer_encode(out, hash, (const uint8_t(*)[16])f.shared->part_hashes,
                                          f.shared->n_part_hashes, NULL);
            } else if (f.pf != NULL && pf_has_hashset(f.pf) && pf_size(f.pf) >= ED2K_PARTSIZE) {
                size_t n = ed2k_hash_count(pf_size(f.pf));
                uint8_t(*hs)[16] = xcalloc(n, 16);
                for (size_t i = 0; i < n; i++)
                    memcpy(hs[i], pf_part_hash(f.pf, i), 16);
                ed2k_hashsetanswer_encode(out, hash, (const uint8_t(*)[16])hs, n, NULL);
                free(hs);
            }
            return 1;
        }
        case ED2K_OP_STARTUPLOADREQ:
            if (ed2k_startuploadreq_decode(pkt->payload, pkt->len, hash, err) != 0)
                return -1;
            on_startupload(q, p, hash);
            return 1;
        case ED2K_OP_REQUESTPARTS:
            return on_requestparts(q, p, pkt, false, err);
        case ED2K_OP_CANCELTRANSFER:
        case ED2K_OP_END_OF_DOWNLOAD: {
            ul_client_t *c = client_of(q, p, false);
            if (c != NULL && c->e.state == UL_SLOT) {
                log_info("upload: %s is done with its slot", peer_desc(p));
                end_slot(q, c, false);
            } else if (c != NULL && c->e.state == UL_QUEUED) {
                ul_leave(&q->uq, &c->e);
            }
            return 1;
        }
        }
        return 0;
    }
    switch (pkt->opcode) {
    case ED2K_OP_MULTIPACKET:
        return on_multipacket(d, p, pkt, false, err);
    case ED2K_OP_MULTIPACKET_EXT:
        return on_multipacket(d, p, pkt, true, err);
    case ED2K_OP_REQUESTPARTS_I64:
        return on_requestparts(q, p, pkt, true, err);
    case ED2K_OP_REQUESTSOURCES2: {
        ed2k_requestsources2_t r;
        if (ed2k_requestsources2_decode(pkt->payload, pkt->len, &r, err) != 0)
            return -1;
        answer_sources(d, p, r.hash);
        return 1;
    }
    case ED2K_OP_AICHREQUEST:
        return on_aich_request(q, p, pkt, err);
    case ED2K_OP_AICHFILEHASHREQ:
        if (ed2k_aichfilehashreq_decode(pkt->payload, pkt->len, hash, err) != 0)
            return -1;
        if (find_file(d, hash, &f) && f.shared != NULL)
            ed2k_aichfilehashans_encode(out, hash, f.shared->aich);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------ connection events */

static void
on_peer_ready(void *ctx, peer_t *p)
{
    ul_client_t *c = client_of(ctx, p, false);
    /* We connected to give it the slot it was waiting for. */
    if (c != NULL && c->e.state == UL_SLOT && !c->accepted)
        send_accept(c);
}

static void
on_peer_closed(void *ctx, peer_t *p, const char *reason)
{
    (void)reason;
    ulq_t *q = ctx;
    ul_client_t *c = client_of(q, p, false);
    if (c == NULL)
        return;
    if (c->e.state == UL_SLOT) {
        /* Stays in the queue: it comes back and asks again. If we could
         * not even reach it for its slot, not again for a while. */
        if (!c->accepted)
            ul_unreachable(&c->e, clock_mono_s());
        end_slot(q, c, true);
    } else if (c->e.state == UL_NONE) {
        client_forget(q, c);
    }
}

static void
on_peer_writable(void *ctx, peer_t *p)
{
    ul_client_t *c = client_of(ctx, p, false);
    if (c != NULL && c->e.state == UL_SLOT)
        schedule_pump(ctx);
}

/* ------------------------------------------------------------------ UDP */

static void
on_udp(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    ulq_t *q = arg;
    for (int i = 0; i < 64; i++) {
        uint8_t buf[2048];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            return;
        q->d->traffic.udp[TRAFFIC_IN] += (uint64_t)n;
        uint32_t ip = net_ip_from_in_addr(from.sin_addr);
        if (ipblock_blocks(q->d->ipfilter, ip, IPBLOCK_PEER_IN))
            continue; /* eD2K re-asks and Kad alike */
        /* Kad: plain (0xE4, 0xE5), or obfuscated with a Kad marker (§9.4). */
        if (n >= 2 && (buf[0] == ED2K_PROTO_KAD || buf[0] == ED2K_PROTO_KAD_PACKED ||
                       (!kad_crypt_is_plain(buf[0]) && kad_crypt_is_kad(buf[0])))) {
            if (q->kad_fn != NULL && !peer_mgr_is_banned(q->d->peers, ip))
                q->kad_fn(q->kad_ctx, ip, ntohs(from.sin_port), buf, (size_t)n);
            continue;
        }
        /* An obfuscated client datagram (§9.4): keyed with our user hash
         * and the sender's address. */
        bool obfuscated = false;
        if (n >= 1 && !kad_crypt_is_plain(buf[0])) {
            uint8_t plain[sizeof buf];
            size_t plen = 0;
            mt_error_t *err = NULL;
            if (ed2k_udp_crypt_decrypt(buf, (size_t)n, q->d->userhash, ip, plain, &plen, &err) != 0) {
                log_debug("UDP: %zd-byte datagram dropped: %s", n, err->message);
                mt_error_free(err);
                continue;
            }
            memcpy(buf, plain, plen);
            n = (ssize_t)plen;
            obfuscated = true;
        }
        ed2k_packet_t *pkt = NULL;
        if (ed2k_udp_decode(buf, (size_t)n, &pkt, NULL) != 0) {
            log_debug("UDP: %zd-byte datagram with protocol byte 0x%02x dropped (obfuscated?)", n,
                      buf[0]);
            continue;
        }
        if (pkt->proto != ED2K_PROTO_EMULE || pkt->opcode != ED2K_OP_REASKFILEPING ||
            peer_mgr_is_banned(q->d->peers, ip)) {
            ed2k_packet_free(pkt);
            continue;
        }
        /* Find the queued client at this address. */
        ul_client_t *c = NULL;
        for (ul_entry_t *e = q->uq.queue; e != NULL && c == NULL; e = e->next) {
            ul_client_t *o = client_at(e);
            if (peer_ip(o->peer) == ip && peer_udp_port(o->peer) == ntohs(from.sin_port))
                c = o;
        }
        struct evbuffer *out = evbuffer_new();
        uint8_t udp_ver = c != NULL ? peer_caps(c->peer)->udp_ver : 0;
        ed2k_reaskfileping_t r;
        ul_file_t f;
        if (ed2k_reaskfileping_decode(pkt->payload, pkt->len, udp_ver, &r, NULL) != 0) {
            /* malformed: no answer */
        } else if (!find_file(q->d, r.hash, &f)) {
            ed2k_filenotfound_encode(out);
        } else if (c == NULL) {
            ed2k_queuefull_encode(out);
        } else {
            c->e.last_seen = clock_mono_s();
            ed2k_reaskack_t ack = { 0 };
            uint8_t *bitmap = NULL;
            if (udp_ver >= 4) {
                ack.has_parts = true;
                file_status(&f, &ack.parts, &bitmap);
            }
            size_t rank = ul_rank(&q->uq, &c->e);
            ack.rank = (uint16_t)(rank > 65535 ? 65535 : rank);
            ed2k_reaskack_encode(out, &ack, NULL);
            free(bitmap);
        }
        size_t len = evbuffer_get_length(out);
        const uint8_t *data = evbuffer_pullup(out, -1);
        /* an obfuscated question from a client whose user hash we know
         * gets an obfuscated answer, as aMule answers (§9.4) */
        uint8_t enc[sizeof buf + ED2K_UDP_CRYPT_HEADER_LEN];
        const uint8_t *to_hash = c != NULL ? peer_hash(c->peer) : NULL;
        if (len > 0 && obfuscated && to_hash != NULL && q->d->public_ip != 0 && len <= sizeof buf) {
            uint8_t r[3] = { 0x5a, 0x5a, 0x5a };
            (void)mt_random_bytes(r, sizeof r, NULL);
            len = ed2k_udp_crypt_encrypt(data, len, to_hash, q->d->public_ip, r, enc);
            data = enc;
        }
        if (len > 0 && sendto(fd, data, len, 0, (struct sockaddr *)&from, fl) > 0)
            q->d->traffic.udp[TRAFFIC_OUT] += len;
        evbuffer_free(out);
        ed2k_packet_free(pkt);
    }
}

int
ulq_listen_udp(ulq_t *q, uint16_t port, mt_error_t **err)
{
    if (port == 0)
        return 0;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        mt_error_set(err, MT_ERR_IO, "cannot listen on UDP port %u: %s", port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    q->udp_fd = fd;
    q->udp_port = port;
    q->udp_ev = event_new(q->d->base, fd, EV_READ | EV_PERSIST, on_udp, q);
    event_add(q->udp_ev, NULL);
    return 0;
}

void
ulq_set_kad_handler(ulq_t *q, ulq_kad_fn fn, void *ctx)
{
    q->kad_fn = fn;
    q->kad_ctx = ctx;
}

int
ulq_udp_send(ulq_t *q, uint32_t ip, uint16_t port, const void *data, size_t len)
{
    if (q->udp_fd < 0)
        return -1;
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr = net_ip_to_in_addr(ip) };
    if (sendto(q->udp_fd, data, len, 0, (struct sockaddr *)&to, sizeof to) < 0)
        return -1;
    q->d->traffic.udp[TRAFFIC_OUT] += len;
    return 0;
}

uint16_t
ulq_udp_port(const ulq_t *q)
{
    return q->udp_fd >= 0 ? q->udp_port : 0;
}

/* ---------------------------------------------------------------- queue */

ulq_t *
ulq_new(muleteerd_t *d)
{
    ulq_t *q = xcalloc(1, sizeof *q);
    q->d = d;
    q->udp_fd = -1;
    q->pump_ev = evtimer_new(d->base, on_pump, q);
    peer_mgr_add_handler(d->peers, &(peer_handler_t){ .ready = on_peer_ready,
                                                      .closed = on_peer_closed,
                                                      .packet = on_packet,
                                                      .writable = on_peer_writable,
                                                      .ctx = q });
    return q;
}

void
ulq_free(ulq_t *q)
{
    if (q == NULL)
        return;
    /* Workers are gone by now (main.c frees the pool first), so no read
     * job holds a client. */
    while (q->all != NULL) {
        q->all->reading = false;
        client_forget(q, q->all);
    }
    if (q->udp_ev != NULL)
        event_free(q->udp_ev);
    if (q->udp_fd >= 0)
        close(q->udp_fd);
    event_free(q->pump_ev);
    free(q);
}

/* up_limit_of: the upload limit (bytes/s, 0: none) of the download or
 * finished download of that hash; 0 for other shared files. */
static uint64_t
up_limit_of(ulq_t *q, const uint8_t hash[16])
{
    download_t *dl = q->d->downloads != NULL ? dlq_find(q->d->downloads, hash) : NULL;
    if (dl != NULL)
        return (uint64_t)pf_up_limit(dl_partfile(dl));
    fin_rec_t *r = q->d->finished != NULL ? fin_find(q->d->finished, hash) : NULL;
    return r != NULL ? (uint64_t)fin_up_limit(r) : 0;
}

void
ulq_apply_rate_limits(ulq_t *q)
{
    for (ul_client_t *c = q->all; c != NULL; c = c->all_next) {
        if (c->forgotten)
            continue;
        uint64_t share = 0;
        if (c->e.state == UL_SLOT && c->has_file) {
            size_t n = 0;
            for (ul_entry_t *e = q->uq.slots; e != NULL; e = e->next) {
                ul_client_t *o = client_at(e);
                if (o->has_file && memcmp(o->hash, c->hash, 16) == 0)
                    n++;
            }
            share = dla_rate_share(up_limit_of(q, c->hash), n);
        }
        peer_set_write_limit(c->peer, share);
    }
}

void
ulq_tick(ulq_t *q)
{
    time_t now = clock_mono_s();
    q->rate = q->rate * 0.8 + (double)q->bytes_tick * 0.2;
    q->bytes_tick = 0;
    for (ul_entry_t *e = q->uq.slots, *next; e != NULL; e = next) {
        next = e->next;
        ul_client_t *c = client_at(e);
        bool busy = c->n_pending > 0 || c->reading || evbuffer_get_length(c->ready) > 0;
        if (ul_slot_is_idle(e, now, busy)) {
            log_info("upload: %s asked for nothing for %d s; slot given to the next",
                     peer_desc(c->peer), UL_SLOT_IDLE_TIMEOUT);
            end_slot(q, c, false);
        }
    }
    for (ul_entry_t *e = q->uq.queue, *next; e != NULL; e = next) {
        next = e->next;
        ul_client_t *c = client_at(e);
        if (ul_is_stale(e, now, peer_is_ready(c->peer)))
            client_forget(q, c);
    }
    fill_slots(q);
    schedule_pump(q);
}

uint64_t
ulq_rate(const ulq_t *q)
{
    return (uint64_t)q->rate;
}

size_t
ulq_slots_used(const ulq_t *q)
{
    return q->uq.n_slots;
}

size_t
ulq_queue_length(const ulq_t *q)
{
    return q->uq.n_queue;
}

json_object *
ulq_to_json(const ulq_t *q)
{
    json_object *o = json_object_new_object();
    json_object *slots = json_object_new_array();
    for (ul_entry_t *e = q->uq.slots; e != NULL; e = e->next) {
        const ul_client_t *c = client_at(e);
        json_object *e = json_object_new_object();
        char hex[33];
        ed2k_hash_to_hex(c->hash, hex);
        json_object_object_add(e, "peer", json_object_new_string(peer_desc(c->peer)));
        json_object_object_add(e, "hash", json_object_new_string(hex));
        json_object_object_add(e, "sent", json_object_new_int64((int64_t)c->sent_in_slot));
        json_object_object_add(e, "ident", json_object_new_string(ident_state_name(ident_of(c->peer))));
        json_object_object_add(e, "credits", ident_credits_json(q->d->ident, c->peer));
        json_object_array_add(slots, e);
    }
    json_object_object_add(o, "slots", slots);
    /* the waiting clients in their order (rank 1 gets the next slot) */
    json_object *waiting = json_object_new_array();
    time_t now = clock_mono_s();
    size_t rank = 1;
    for (ul_entry_t *e = q->uq.queue; e != NULL; e = e->next, rank++) {
        const ul_client_t *c = client_at(e);
        json_object *w = json_object_new_object();
        char hex[33];
        ed2k_hash_to_hex(c->hash, hex);
        json_object_object_add(w, "peer", json_object_new_string(peer_desc(c->peer)));
        json_object_object_add(w, "hash", json_object_new_string(hex));
        json_object_object_add(w, "rank", json_object_new_int64((int64_t)rank));
        int64_t waited = now > e->queued_at ? (int64_t)(now - e->queued_at) : 0;
        json_object_object_add(w, "waiting", json_object_new_int64(waited));
        json_object_object_add(w, "ident", json_object_new_string(ident_state_name(ident_of(c->peer))));
        json_object_object_add(w, "credit", json_object_new_double(ident_credit(q->d->ident, c->peer)));
        json_object_object_add(w, "credits", ident_credits_json(q->d->ident, c->peer));
        json_object_array_add(waiting, w);
    }
    json_object_object_add(o, "waiting", waiting);
    json_object_object_add(o, "queued", json_object_new_int64((int64_t)q->uq.n_queue));
    json_object_object_add(o, "rate", json_object_new_int64((int64_t)q->rate));
    return o;
}
