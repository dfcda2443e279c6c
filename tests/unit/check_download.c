/* check_download.c: unit tests for the download state machine
 * (daemon/transfer/download.c, source.c) on real part files, with the real
 * bus (its events recorded), workers, categories, shared and finished
 * files, and no network: the peer layer (daemon/net/peer.h) is faked in
 * this file, so the linker never takes peer.c, and the test plays the
 * peers' side of the conversation. Also the sources' pure decisions
 * (srcpolicy.c). */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/core/worker.h"
#include "daemon/net/net.h"
#include "daemon/net/peer.h"
#include "daemon/transfer/category.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/finished.h"
#include "daemon/transfer/partfile.h"
#include "daemon/transfer/shared.h"
#include "daemon/transfer/srcpolicy.h"
#include "ed2k/c2c.h"
#include "ed2k/hash.h"
#include "ed2k/opcodes.h"
#include "ed2k/packet.h"
#include "util/bug.h"
#include "util/conf.h"
#include "util/xalloc.h"

/* ------------------------------------------------------------------------ */
/* The fake peer layer                                                      */

struct peer {
    peer_mgr_t *m;
    uint32_t ip;
    uint16_t port;
    peer_state_t state;
    struct evbuffer *out; /* what the download side sent, while ready */
    ed2k_caps_t caps;
    void *dl_data, *ul_data;
    uint64_t read_limit, write_limit; /* what the download side set */
    int connects, closes;
    char desc[64];
    struct peer *next;
};

struct peer_mgr {
    struct muleteerd *d;
    peer_handler_t h[PEER_MAX_HANDLERS];
    size_t n_h;
    struct peer *peers;
    uint32_t banned[8];
    size_t n_banned;
};

peer_mgr_t *
peer_mgr_new(struct muleteerd *d)
{
    peer_mgr_t *m = xcalloc(1, sizeof *m);
    m->d = d;
    return m;
}

void
peer_mgr_free(peer_mgr_t *m)
{
    if (m == NULL)
        return;
    while (m->peers != NULL) {
        peer_t *p = m->peers;
        m->peers = p->next;
        if (p->out != NULL)
            evbuffer_free(p->out);
        free(p);
    }
    free(m);
}

void
peer_mgr_add_handler(peer_mgr_t *m, const peer_handler_t *h)
{
    ck_assert_uint_lt(m->n_h, PEER_MAX_HANDLERS);
    m->h[m->n_h++] = *h;
}

peer_t *
peer_get(peer_mgr_t *m, uint32_t ip, uint16_t port)
{
    for (peer_t *p = m->peers; p != NULL; p = p->next)
        if (p->ip == ip && p->port == port)
            return p;
    peer_t *p = xcalloc(1, sizeof *p);
    p->m = m;
    p->ip = ip;
    p->port = port;
    /* what aMule advertises: extended requests 2, OP_MULTIPACKET_EXT */
    p->caps.ext_req_ver = 2;
    p->caps.multipacket = true;
    p->caps.ext_multipacket = true;
    p->caps.large_files = true;
    char ipbuf[16];
    snprintf(p->desc, sizeof p->desc, "fake (%s:%u)", net_ip_str(ip, ipbuf), port);
    p->next = m->peers;
    m->peers = p;
    return p;
}

void
peer_set_read_limit(peer_t *p, uint64_t bps)
{
    p->read_limit = bps;
}

void
peer_set_write_limit(peer_t *p, uint64_t bps)
{
    p->write_limit = bps;
}

uint64_t
peer_read_limit(const peer_t *p)
{
    return p->read_limit;
}

uint64_t
peer_write_limit(const peer_t *p)
{
    return p->write_limit;
}

int
peer_connect(peer_t *p)
{
    if (p->state != PEER_DISCONNECTED)
        return 0;
    p->connects++;
    p->state = PEER_CONNECTING;
    return 0;
}

void
peer_close(peer_t *p, const char *reason)
{
    p->closes++;
    p->state = PEER_DISCONNECTED;
    for (size_t i = p->m->n_h; i-- > 0;)
        if (p->m->h[i].closed != NULL)
            p->m->h[i].closed(p->m->h[i].ctx, p, reason);
    if (p->out != NULL)
        evbuffer_free(p->out);
    p->out = NULL;
}

void
peer_ban(peer_t *p, const char *reason, int seconds)
{
    (void)seconds;
    if (p->m->n_banned < sizeof p->m->banned / sizeof p->m->banned[0])
        p->m->banned[p->m->n_banned++] = p->ip;
    peer_close(p, reason);
}

bool
peer_mgr_is_banned(peer_mgr_t *m, uint32_t ip)
{
    for (size_t i = 0; i < m->n_banned; i++)
        if (m->banned[i] == ip)
            return true;
    return false;
}

peer_state_t
peer_state(const peer_t *p)
{
    return p->state;
}

bool
peer_is_ready(const peer_t *p)
{
    return p->state == PEER_READY;
}

uint32_t
peer_ip(const peer_t *p)
{
    return p->ip;
}

uint16_t
peer_port(const peer_t *p)
{
    return p->port;
}

const ed2k_caps_t *
peer_caps(const peer_t *p)
{
    return &p->caps;
}

const char *
peer_desc(const peer_t *p)
{
    return p->desc;
}

const char *
peer_name(const peer_t *p)
{
    (void)p;
    return "";
}

const char *
peer_software(const peer_t *p)
{
    (void)p;
    return "";
}

/* The secure-ident slot (transfer/ident.c): no exchange on fake peers,
 * no user hash to count credits by. */
const uint8_t *
peer_hash(const peer_t *p)
{
    (void)p;
    return NULL;
}

void *
peer_sec_data(const peer_t *p)
{
    (void)p;
    return NULL;
}

void
peer_set_sec_data(peer_t *p, void *data)
{
    (void)p;
    free(data);
}

struct evbuffer *
peer_out(peer_t *p)
{
    return p->state == PEER_READY ? p->out : NULL;
}

void *
peer_dl_data(const peer_t *p)
{
    return p->dl_data;
}

void
peer_set_dl_data(peer_t *p, void *data)
{
    p->dl_data = data;
}

void *
peer_ul_data(const peer_t *p)
{
    return p->ul_data;
}

void
peer_set_ul_data(peer_t *p, void *data)
{
    p->ul_data = data;
}

void
peer_set_crypt(peer_t *p, uint8_t cryptopts, const uint8_t *hash)
{
    (void)p, (void)cryptopts, (void)hash; /* no connections here to obfuscate */
}

/* fake_ready: the connection to p is up and the hellos are done. */
static void
fake_ready(peer_t *p)
{
    p->state = PEER_READY;
    if (p->out == NULL)
        p->out = evbuffer_new();
    for (size_t i = p->m->n_h; i-- > 0;)
        if (p->m->h[i].ready != NULL)
            p->m->h[i].ready(p->m->h[i].ctx, p);
}

/* deliver: p sends every packet framed in frames (emptied) to us. */
static void
deliver(peer_t *p, struct evbuffer *frames)
{
    ed2k_packet_t *pkt;
    mt_error_t *err = NULL;
    while (ed2k_packet_decode_evbuffer(frames, 0, &pkt, &err) == ED2K_FRAME_OK) {
        int rc = 0;
        for (size_t i = 0; i < p->m->n_h && rc == 0; i++)
            rc = p->m->h[i].packet(p->m->h[i].ctx, p, pkt, &err);
        ck_assert_msg(rc == 1, "packet 0x%02x not taken: %s", pkt->opcode,
                      err != NULL ? err->message : "-");
        ed2k_packet_free(pkt);
    }
    ck_assert_ptr_null(err);
    ck_assert_uint_eq(evbuffer_get_length(frames), 0);
}

/* sent: the next packet we sent to p (NULL: none). Caller frees. */
static ed2k_packet_t *
sent(peer_t *p)
{
    ed2k_packet_t *pkt = NULL;
    mt_error_t *err = NULL;
    if (p->out == NULL ||
        ed2k_packet_decode_evbuffer(p->out, 0, &pkt, &err) != ED2K_FRAME_OK)
        return NULL;
    return pkt;
}

/* expect_sent: the next packet we sent to p must be proto/opcode. */
static ed2k_packet_t *
expect_sent(peer_t *p, uint8_t proto, uint8_t opcode)
{
    ed2k_packet_t *pkt = sent(p);
    ck_assert_msg(pkt != NULL, "nothing sent; expected 0x%02x", opcode);
    ck_assert_msg(pkt->proto == proto && pkt->opcode == opcode,
                  "sent 0x%02x/0x%02x; expected 0x%02x/0x%02x", pkt->proto, pkt->opcode, proto,
                  opcode);
    return pkt;
}

static void
expect_nothing_sent(peer_t *p)
{
    ed2k_packet_t *pkt = sent(p);
    ck_assert_msg(pkt == NULL, "unexpected packet 0x%02x", pkt != NULL ? pkt->opcode : 0);
}

/* ------------------------------------------------------------------------ */
/* The daemon around the queue, and what the bus says                      */

#define MAX_STATES 16

typedef struct {
    int added, state, failed, deleted, completed, part_ok, part_bad, found, lost;
    bool added_stopped;
    bus_dl_state_t from[MAX_STATES], to[MAX_STATES];
    char error[512];
    char path[1024];
    uint32_t lost_ip;
} events_t;

static char tmp[64];
static muleteerd_t d;
static dlq_t *q;
static events_t ev;
static uint64_t bugs_before;

static void
on_added(void *ctx, const bus_dl_added_t *e)
{
    (void)ctx;
    ev.added++;
    ev.added_stopped = e->stopped;
}

static void
on_state(void *ctx, const bus_dl_state_ev_t *e)
{
    (void)ctx;
    if (ev.state < MAX_STATES) {
        ev.from[ev.state] = e->from;
        ev.to[ev.state] = e->to;
    }
    ev.state++;
    snprintf(ev.error, sizeof ev.error, "%s", e->error != NULL ? e->error : "");
}

static void
on_failed(void *ctx, const bus_dl_state_ev_t *e)
{
    (void)ctx;
    (void)e;
    ev.failed++;
}

static void
on_deleted(void *ctx, const bus_dl_deleted_t *e)
{
    (void)ctx;
    (void)e;
    ev.deleted++;
}

static void
on_completed(void *ctx, const bus_dl_completed_t *e)
{
    (void)ctx;
    ev.completed++;
    snprintf(ev.path, sizeof ev.path, "%s", e->path);
}

static void
on_part(void *ctx, const bus_dl_part_t *e)
{
    (void)ctx;
    if (e->ok)
        ev.part_ok++;
    else
        ev.part_bad++;
}

static void
on_found(void *ctx, const bus_source_t *e)
{
    (void)ctx;
    (void)e;
    ev.found++;
}

static void
on_lost(void *ctx, const bus_source_t *e)
{
    (void)ctx;
    ev.lost++;
    ev.lost_ip = e->ip;
}

static char *
path_in(const char *sub, const char *name)
{
    return xasprintf("%s/%s%s%s", tmp, sub, *name ? "/" : "", name);
}

static void
setup(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/check_download.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    memset(&d, 0, sizeof d);
    memset(&ev, 0, sizeof ev);
    d.conf = conf_new();
    ck_assert_int_eq(conf_set(d.conf, "state_dir", tmp, NULL), 0);
    char *share = path_in("share", ""), *cache = path_in("known.json", ""),
         *incoming = path_in("incoming", "");
    mkdir(share, 0755);
    mkdir(incoming, 0755);
    evthread_use_pthreads();
    d.base = event_base_new();
    d.workers = worker_pool_new(d.base, 1);
    d.bus = bus_new();
    bus_on_dl_added(d.bus, on_added, NULL);
    bus_on_dl_state(d.bus, on_state, NULL);
    bus_on_dl_failed(d.bus, on_failed, NULL);
    bus_on_dl_deleted(d.bus, on_deleted, NULL);
    bus_on_dl_completed(d.bus, on_completed, NULL);
    bus_on_dl_part_verified(d.bus, on_part, NULL);
    bus_on_src_found(d.bus, on_found, NULL);
    bus_on_src_lost(d.bus, on_lost, NULL);
    d.shared = shared_new(d.base, d.workers, cache, share, NULL);
    d.finished = finished_new(&d);
    d.categories = cat_new(&d);
    d.peers = peer_mgr_new(&d);
    q = dlq_new(&d);
    d.downloads = q;
    free(share);
    free(cache);
    free(incoming);
    bugs_before = mt_bug_count();
}

static void
teardown(void)
{
    worker_pool_drain(d.workers, 5000);
    dlq_free(q);
    worker_pool_free(d.workers);
    cat_free(d.categories);
    finished_free(d.finished);
    shared_free(d.shared);
    peer_mgr_free(d.peers);
    bus_free(d.bus);
    event_base_free(d.base);
    conf_free(d.conf);
    pf_close_files();
    char *cmd = xasprintf("rm -rf %s", tmp);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* restart: the queue goes (as at a shutdown) and a new one loads what is in
 * temp_dir, with a new peer layer. */
static void
restart(void)
{
    dlq_shutdown(q);
    worker_pool_drain(d.workers, 5000);
    dlq_free(q);
    peer_mgr_free(d.peers);
    d.peers = peer_mgr_new(&d);
    q = dlq_new(&d);
    d.downloads = q;
    ck_assert_int_eq(dlq_load(q, NULL), 0);
}

static void
drain(void)
{
    ck_assert_uint_eq(worker_pool_drain(d.workers, 10000), 0);
}

/* A file of n pseudo-random bytes (the same for a seed), its hash and link. */
typedef struct {
    uint8_t *data;
    size_t len;
    uint8_t hash[16];
    char hex[33];
    char link[512];
} file_t;

static void
file_make(file_t *f, size_t len, unsigned seed, const char *name)
{
    f->len = len;
    f->data = xmalloc(len);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        f->data[i] = (uint8_t)(x >> 16);
    }
    ed2k_hash_result_t r;
    ed2k_hash_memory(f->data, len, &r);
    memcpy(f->hash, r.file_hash, 16);
    ed2k_hash_result_clear(&r);
    ed2k_hash_to_hex(f->hash, f->hex);
    snprintf(f->link, sizeof f->link, "ed2k://|file|%s|%zu|%s|/", name, len, f->hex);
}

static void
file_free(file_t *f)
{
    free(f->data);
}

static download_t *
add(const char *link, bool stopped)
{
    dl_add_opts_t o = DL_ADD_OPTS_INIT;
    o.stopped = stopped;
    download_t *dl = NULL;
    mt_error_t *err = NULL;
    int rc = dlq_add_link(q, link, &o, &dl, &err);
    ck_assert_msg(rc == 0, "add: %s", err != NULL ? err->message : "?");
    ck_assert_ptr_nonnull(dl);
    return dl;
}

static bool
exists(const char *sub, const char *name)
{
    char *p = path_in(sub, name);
    struct stat st;
    bool ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

static bool
temp_file_exists(const char *hex, const char *suffix)
{
    char name[64];
    snprintf(name, sizeof name, "%s%s", hex, suffix);
    return exists("temp", name);
}

/* dl's description as the control socket gives it: member key (a string). */
static char *
json_str(download_t *dl, const char *key)
{
    json_object *o = dl_to_json(dl), *v;
    char *s = NULL;
    if (json_object_object_get_ex(o, key, &v) && v != NULL)
        s = xstrdup(json_object_get_string(v));
    json_object_put(o);
    return s;
}

static int64_t
json_int(download_t *dl, const char *obj, const char *key)
{
    json_object *o = dl_to_json(dl), *v, *w;
    int64_t n = -1;
    if (json_object_object_get_ex(o, obj, &v) && json_object_object_get_ex(v, key, &w))
        n = json_object_get_int64(w);
    json_object_put(o);
    return n;
}

static void
assert_json_str(download_t *dl, const char *key, const char *want)
{
    char *s = json_str(dl, key);
    ck_assert_msg(want == NULL ? s == NULL : s != NULL && strcmp(s, want) == 0,
                  "%s is \"%s\", not \"%s\"", key, s ? s : "(null)", want ? want : "(null)");
    free(s);
}

/* The state saved in the download's metadata, read from the disk. */
static pf_state_t
saved_state(const char *hex)
{
    char name[64];
    snprintf(name, sizeof name, "%s.part.met", hex);
    char *p = path_in("temp", name);
    mt_error_t *err = NULL;
    partfile_t *pf = pf_load(p, &err);
    ck_assert_msg(pf != NULL, "load %s: %s", p, err != NULL ? err->message : "?");
    pf_state_t st = pf_state(pf);
    pf_free(pf);
    free(p);
    return st;
}

static void
assert_no_bug(void)
{
    ck_assert_uint_eq(mt_bug_count(), bugs_before);
}

static uint32_t
ip4(unsigned a, unsigned b, unsigned c, unsigned e)
{
    return net_ip_from_host((uint32_t)a << 24 | b << 16 | c << 8 | e);
}

/* ------------------------------------------------------------------------ */
/* Adding, pausing, stopping, deleting                                      */

START_TEST(test_add)
{
    file_t f;
    file_make(&f, 300000, 1, "one.bin");
    download_t *dl = add(f.link, false);
    ck_assert_int_eq(ev.added, 1);
    ck_assert(!ev.added_stopped);
    ck_assert_int_eq(ev.state, 0);
    ck_assert(temp_file_exists(f.hex, ".part"));
    ck_assert(temp_file_exists(f.hex, ".part.met"));
    ck_assert_uint_eq(dlq_count(q), 1);
    ck_assert_ptr_eq(dlq_find_hex(q, f.hex), dl);
    ck_assert_ptr_eq(dlq_find(q, f.hash), dl);
    assert_json_str(dl, "state", "stalled");
    assert_json_str(dl, "name", "one.bin");
    ck_assert_int_eq(pf_state(dl_partfile(dl)), PF_STATE_ACTIVE);
    ck_assert_int_eq(saved_state(f.hex), PF_STATE_ACTIVE); /* saved at once */

    /* the same file again: refused, nothing new on the bus */
    dl_add_opts_t o = DL_ADD_OPTS_INIT;
    mt_error_t *err = NULL;
    download_t *again = NULL;
    ck_assert_int_eq(dlq_add_link(q, f.link, &o, &again, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    ck_assert_ptr_eq(again, dl);
    mt_error_clear(&err);
    ck_assert_int_eq(ev.added, 1);
    ck_assert_uint_eq(dlq_count(q), 1);

    /* not a file link, not a link */
    ck_assert_int_eq(dlq_add_link(q, "ed2k://|server|1.2.3.4|4661|/", &o, NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    ck_assert_int_eq(dlq_add_link(q, "http://example.org/", &o, NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);

    /* added stopped: said so on the bus, no state change */
    file_t g;
    file_make(&g, 1000, 2, "two.bin");
    download_t *dl2 = add(g.link, true);
    ck_assert_int_eq(ev.added, 2);
    ck_assert(ev.added_stopped);
    ck_assert_int_eq(ev.state, 0);
    ck_assert_int_eq(pf_state(dl_partfile(dl2)), PF_STATE_STOPPED);
    ck_assert_int_eq(saved_state(g.hex), PF_STATE_STOPPED);
    assert_json_str(dl2, "state", "stopped");
    ck_assert_uint_eq(dlq_count(q), 2);
    assert_no_bug();
    file_free(&f);
    file_free(&g);
}
END_TEST

START_TEST(test_pause_resume_stop)
{
    file_t f;
    file_make(&f, 300000, 3, "states.bin");
    download_t *dl = add(f.link, false);

    ck_assert_int_eq(dl_pause(dl), 0);
    ck_assert_int_eq(ev.state, 1);
    ck_assert_int_eq(ev.from[0], BUS_DLS_ACTIVE);
    ck_assert_int_eq(ev.to[0], BUS_DLS_PAUSED);
    assert_json_str(dl, "state", "paused");
    drain();
    ck_assert_int_eq(saved_state(f.hex), PF_STATE_PAUSED);

    /* pausing what is paused changes nothing and says nothing */
    ck_assert_int_eq(dl_pause(dl), 0);
    ck_assert_int_eq(ev.state, 1);
    drain();

    ck_assert_int_eq(dl_stop(dl), 0);
    ck_assert_int_eq(ev.state, 2);
    ck_assert_int_eq(ev.from[1], BUS_DLS_PAUSED);
    ck_assert_int_eq(ev.to[1], BUS_DLS_STOPPED);
    assert_json_str(dl, "state", "stopped");
    drain();
    ck_assert_int_eq(saved_state(f.hex), PF_STATE_STOPPED);

    ck_assert_int_eq(dl_resume(dl), 0);
    ck_assert_int_eq(ev.state, 3);
    ck_assert_int_eq(ev.from[2], BUS_DLS_STOPPED);
    ck_assert_int_eq(ev.to[2], BUS_DLS_ACTIVE);
    assert_json_str(dl, "state", "stalled");
    drain();
    ck_assert_int_eq(saved_state(f.hex), PF_STATE_ACTIVE);

    /* force start resumes a paused download */
    dl_pause(dl);
    dl_set_force_start(dl, true);
    ck_assert_int_eq(ev.state, 5);
    ck_assert_int_eq(ev.to[4], BUS_DLS_ACTIVE);
    ck_assert(pf_force_start(dl_partfile(dl)));

    /* what was saved comes back after a restart */
    dl_stop(dl);
    restart();
    dl = dlq_find(q, f.hash);
    ck_assert_ptr_nonnull(dl);
    ck_assert_int_eq(pf_state(dl_partfile(dl)), PF_STATE_STOPPED);
    assert_json_str(dl, "state", "stopped");
    ck_assert_int_eq(ev.failed, 0);
    assert_no_bug();
    file_free(&f);
}
END_TEST

START_TEST(test_delete)
{
    file_t f;
    file_make(&f, 300000, 4, "gone.bin");
    download_t *dl = add(f.link, false);
    ck_assert_int_eq(dl_add_source(dl, ip4(1, 2, 3, 4), 4662), DL_SRC_ADDED);
    ck_assert_int_eq(dl_add_source(dl, ip4(1, 2, 3, 5), 4662), DL_SRC_ADDED);
    ck_assert_int_eq(ev.found, 2);
    mt_error_t *err = NULL;
    ck_assert_int_eq(dl_delete(dl, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(ev.deleted, 1);
    ck_assert_int_eq(ev.lost, 2);
    ck_assert_uint_eq(dlq_count(q), 0);
    ck_assert_ptr_null(dlq_find(q, f.hash));
    ck_assert(!temp_file_exists(f.hex, ".part"));
    ck_assert(!temp_file_exists(f.hex, ".part.met"));
    /* the peers keep nothing of it */
    for (peer_t *p = d.peers->peers; p != NULL; p = p->next)
        ck_assert_ptr_null(p->dl_data);
    /* it can be added again */
    add(f.link, false);
    ck_assert_int_eq(ev.added, 2);
    assert_no_bug();
    file_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Sources offered                                                          */

START_TEST(test_source_verdicts)
{
    ck_assert_int_eq(conf_set(d.conf, "max_sources_per_file", "3", NULL), 0);
    ck_assert_int_eq(conf_set(d.conf, "tcp_port", "4662", NULL), 0);
    d.public_ip = ip4(5, 6, 7, 8);
    peer_ban(peer_get(d.peers, ip4(6, 6, 6, 6), 4662), "test", 60);
    file_t f;
    file_make(&f, 300000, 5, "sources.bin");
    download_t *dl = add(f.link, false);

    ck_assert_int_eq(dl_add_source(dl, ip4(1, 2, 3, 4), 4662), DL_SRC_ADDED);
    ck_assert_int_eq(dl_add_source(dl, ip4(1, 2, 3, 4), 4662), DL_SRC_KNOWN);
    ck_assert_int_eq(dl_add_source(dl, ip4(1, 2, 3, 4), 4663), DL_SRC_ADDED);
    ck_assert_int_eq(dl_add_source(dl, 0, 4662), DL_SRC_INVALID);
    ck_assert_int_eq(dl_add_source(dl, ip4(1, 2, 3, 9), 0), DL_SRC_INVALID);
    ck_assert_int_eq(dl_add_source(dl, 12345, 4662), DL_SRC_LOWID); /* not on a server */
    ck_assert_int_eq(dl_add_source(dl, ip4(192, 168, 1, 2), 4662), DL_SRC_LAN);
    ck_assert_int_eq(dl_add_source(dl, ip4(10, 0, 0, 1), 4662), DL_SRC_LAN);
    ck_assert_int_eq(dl_add_source(dl, ip4(5, 6, 7, 8), 4662), DL_SRC_SELF);
    ck_assert_int_eq(dl_add_source(dl, ip4(6, 6, 6, 6), 4662), DL_SRC_BANNED);
    ck_assert_int_eq(dl_add_source(dl, ip4(9, 9, 9, 9), 4662), DL_SRC_ADDED);
    ck_assert_int_eq(dl_add_source(dl, ip4(9, 9, 9, 10), 4662), DL_SRC_LIMIT);
    /* with filter_lan off, a LAN peer is a source like any other */
    ck_assert_int_eq(conf_set(d.conf, "filter_lan", "no", NULL), 0);
    ck_assert_int_eq(conf_set(d.conf, "max_sources_per_file", "10", NULL), 0);
    ck_assert_int_eq(dl_add_source(dl, ip4(192, 168, 1, 2), 4662), DL_SRC_ADDED);

    ck_assert_int_eq(ev.found, 4);
    ck_assert_int_eq(json_int(dl, "sources", "total"), 4);
    ck_assert_int_eq(json_int(dl, "sources_dropped", "invalid"), 2);
    ck_assert_int_eq(json_int(dl, "sources_dropped", "lowid"), 1);
    ck_assert_int_eq(json_int(dl, "sources_dropped", "lan"), 2);
    ck_assert_int_eq(json_int(dl, "sources_dropped", "self"), 1);
    ck_assert_int_eq(json_int(dl, "sources_dropped", "banned"), 1);
    ck_assert_int_eq(json_int(dl, "sources_dropped", "limit"), 1);
    ck_assert_int_eq(json_int(dl, "sources_dropped", "unresolved"), 0);
    ck_assert_int_eq(json_int(dl, "sources_dropped", "known"), -1); /* not a drop */
    /* known sources are kept with the part file */
    ck_assert_uint_eq(pf_source_count(dl_partfile(dl)), 4);

    /* a link's sources are resolved on a worker, then offered */
    file_t g;
    file_make(&g, 2000, 6, "linked.bin");
    char link[600];
    snprintf(link, sizeof link, "ed2k://|file|linked.bin|%zu|%s|/|sources,1.2.3.4:4662,"
             "127.0.0.1:4662|/", g.len, g.hex);
    download_t *dl2 = add(link, false);
    drain();
    ck_assert_int_eq(ev.found, 5);
    ck_assert_int_eq(json_int(dl2, "sources", "total"), 1);
    ck_assert_int_eq(json_int(dl2, "sources_dropped", "self"), 1); /* 127/8 on our port */
    /* a link's sources for a file being downloaded already are still taken */
    snprintf(link, sizeof link, "ed2k://|file|linked.bin|%zu|%s|/|sources,1.2.3.5:4662|/",
             g.len, g.hex);
    dl_add_opts_t o = DL_ADD_OPTS_INIT;
    mt_error_t *err = NULL;
    ck_assert_int_eq(dlq_add_link(q, link, &o, NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    mt_error_clear(&err);
    drain();
    ck_assert_int_eq(json_int(dl2, "sources", "total"), 2);

    /* the known sources come back after a restart (no word on the bus for
     * the download that leaves with them) */
    int lost = ev.lost;
    restart();
    ck_assert_int_eq(ev.lost, lost);
    dl = dlq_find(q, f.hash);
    ck_assert_int_eq(json_int(dl, "sources", "total"), 4);
    assert_no_bug();
    file_free(&f);
    file_free(&g);
}
END_TEST

START_TEST(test_source_given_up)
{
    file_t f;
    file_make(&f, 300000, 7, "flaky.bin");
    download_t *dl = add(f.link, false);
    ck_assert_int_eq(dl_add_source(dl, ip4(1, 2, 3, 4), 4662), DL_SRC_ADDED);
    peer_t *p = peer_get(d.peers, ip4(1, 2, 3, 4), 4662);
    /* the tick connects to it; a failed connection is tried again later */
    dlq_tick(q);
    ck_assert_int_eq(p->connects, 1);
    peer_close(p, "refused");
    dlq_tick(q);
    ck_assert_int_eq(p->connects, 1);
    /* resuming asks the sources again at once, their failures forgotten */
    dl_stop(dl);
    dl_resume(dl);
    dlq_tick(q);
    ck_assert_int_eq(p->connects, 2);
    /* connections that fail, one after the other: the source goes after
     * SRCPOL_MAX_FAILURES of them */
    for (int i = 0; i < SRCPOL_MAX_FAILURES - 1; i++)
        peer_close(p, "refused");
    ck_assert_int_eq(json_int(dl, "sources", "total"), 1);
    ck_assert_int_eq(ev.lost, 0);
    peer_close(p, "refused");
    ck_assert_int_eq(json_int(dl, "sources", "total"), 0);
    ck_assert_int_eq(ev.lost, 1);
    ck_assert_uint_eq(ev.lost_ip, ip4(1, 2, 3, 4));
    ck_assert_ptr_null(p->dl_data);
    /* failed connections are not a reason to forget it across restarts */
    ck_assert_uint_eq(pf_source_count(dl_partfile(dl)), 1);
    assert_no_bug();
    file_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Storage trouble                                                          */

START_TEST(test_storage_trouble_save)
{
    file_t f;
    file_make(&f, 300000, 8, "trouble.bin");
    download_t *dl = add(f.link, false);
    /* the metadata cannot be saved: its temporary file's name is taken by
     * a directory */
    char name[64];
    snprintf(name, sizeof name, "%s.part.met.tmp", f.hex);
    char *tmpmet = path_in("temp", name);
    ck_assert_int_eq(mkdir(tmpmet, 0755), 0);
    dl_pause(dl); /* a change, saved on a worker */
    drain();
    ck_assert_int_eq(ev.state, 2);
    ck_assert_int_eq(ev.from[0], BUS_DLS_ACTIVE);
    ck_assert_int_eq(ev.to[0], BUS_DLS_PAUSED);
    ck_assert_int_eq(ev.from[1], BUS_DLS_PAUSED);
    ck_assert_int_eq(ev.to[1], BUS_DLS_ERROR);
    ck_assert_msg(strstr(ev.error, name) != NULL, "error: %s", ev.error);
    assert_json_str(dl, "state", "error");
    char *e = json_str(dl, "error");
    ck_assert_ptr_nonnull(e);
    free(e);
    ck_assert_int_eq(ev.failed, 0);

    /* the trouble is gone; resuming tries again at once */
    ck_assert_int_eq(rmdir(tmpmet), 0);
    dl_resume(dl);
    ck_assert_int_eq(ev.state, 3);
    ck_assert_int_eq(ev.from[2], BUS_DLS_ERROR);
    ck_assert_int_eq(ev.to[2], BUS_DLS_ACTIVE);
    assert_json_str(dl, "error", NULL);
    assert_json_str(dl, "state", "stalled");
    drain();
    ck_assert_int_eq(saved_state(f.hex), PF_STATE_ACTIVE);
    ck_assert_int_eq(ev.state, 3);
    free(tmpmet);
    assert_no_bug();
    file_free(&f);
}
END_TEST

#define BTIH1 "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
#define BTIH2 "4444444444444444444444444444444444444444"

static int
add_btih(const char *link, const char *btih, download_t **out, mt_error_t **err)
{
    dl_add_opts_t o = DL_ADD_OPTS_INIT;
    o.btih = btih;
    return dlq_add_link(q, link, &o, out, err);
}

/* A download added with a btih keeps it (part file, restart, finished
 * record); a btih names one download; the same file again is a duplicate
 * whatever btih it comes with. */
START_TEST(test_add_btih)
{
    file_t f, g, h;
    file_make(&f, 1000000, 21, "bt.bin");
    file_make(&g, 2000, 22, "bt2.bin");
    file_make(&h, 3000, 23, "bt3.bin");
    download_t *dl = NULL;
    mt_error_t *err = NULL;
    ck_assert_int_eq(add_btih(f.link, BTIH1, &dl, &err), 0);
    ck_assert_str_eq(pf_btih(dl_partfile(dl)), BTIH1);
    assert_json_str(dl, "btih", BTIH1);
    ck_assert_ptr_eq(dlq_find_btih(q, BTIH1), dl);
    ck_assert_ptr_null(dlq_find_btih(q, BTIH2));

    /* the same file with another btih: a duplicate; the first btih stays */
    download_t *again = NULL;
    ck_assert_int_eq(add_btih(f.link, BTIH2, &again, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    mt_error_clear(&err);
    ck_assert_ptr_eq(again, dl);
    ck_assert_str_eq(pf_btih(dl_partfile(dl)), BTIH1);
    /* another file with a btih already taken: refused too */
    ck_assert_int_eq(add_btih(g.link, BTIH1, NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    mt_error_clear(&err);
    /* not 40 lower-case hex digits */
    ck_assert_int_eq(add_btih(g.link, "C12FE1C06BBA254A9DC9F519B335AA7C1367A88A", NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    ck_assert_int_eq(add_btih(g.link, "c12fe1c06bba254a9dc9f519b335aa7c1367a88", NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    ck_assert_uint_eq(dlq_count(q), 1);
    /* without one: none */
    download_t *dl2 = add(g.link, false);
    ck_assert_ptr_null(pf_btih(dl_partfile(dl2)));
    assert_json_str(dl2, "btih", NULL);

    /* kept across a restart, and by the finished record */
    ck_assert_int_eq(pf_write(dl_partfile(dl), 0, f.data, f.len, &err), 0);
    restart();
    drain();
    dl = dlq_find(q, f.hash);
    ck_assert_ptr_nonnull(dl);
    ck_assert_str_eq(pf_btih(dl_partfile(dl)), BTIH1);
    dlq_tick(q);
    drain();
    ck_assert_ptr_null(dlq_find(q, f.hash));
    fin_rec_t *r = fin_find(d.finished, f.hash);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(fin_btih(r), BTIH1);
    ck_assert_ptr_eq(fin_find_btih(d.finished, BTIH1), r);
    ck_assert_ptr_null(fin_find_btih(d.finished, BTIH2));
    /* a finished download's btih is still taken */
    ck_assert_int_eq(add_btih(h.link, BTIH1, NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    mt_error_clear(&err);
    ck_assert_int_eq(add_btih(h.link, BTIH2, &dl, &err), 0);
    ck_assert_str_eq(pf_btih(dl_partfile(dl)), BTIH2);
    assert_no_bug();
    file_free(&f);
    file_free(&g);
    file_free(&h);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Verification and completion, with data written through the part file     */

START_TEST(test_complete_from_disk)
{
    file_t f;
    file_make(&f, 1000000, 9, "whole.bin");
    download_t *dl = add(f.link, false);
    mt_error_t *err = NULL;
    ck_assert_int_eq(pf_write(dl_partfile(dl), 0, f.data, f.len, &err), 0);
    /* after a restart, what is on disk is checked, found complete, and the
     * file moves into the incoming directory */
    restart();
    drain();
    ck_assert_int_eq(ev.part_ok, 1);
    ck_assert_int_eq(ev.part_bad, 0);
    dl = dlq_find(q, f.hash);
    ck_assert_ptr_nonnull(dl);
    ck_assert(pf_is_complete(dl_partfile(dl)));
    dlq_tick(q);
    drain();
    ck_assert_int_eq(ev.completed, 1);
    ck_assert_int_eq(ev.failed, 0);
    char *want = path_in("incoming", "whole.bin");
    ck_assert_str_eq(ev.path, want);
    free(want);
    ck_assert_uint_eq(dlq_count(q), 0);
    ck_assert(!temp_file_exists(f.hex, ".part"));
    ck_assert(!temp_file_exists(f.hex, ".part.met"));
    FILE *fp = fopen(ev.path, "rb");
    ck_assert_ptr_nonnull(fp);
    uint8_t *got = xmalloc(f.len + 1);
    ck_assert_uint_eq(fread(got, 1, f.len + 1, fp), f.len);
    fclose(fp);
    ck_assert(memcmp(got, f.data, f.len) == 0);
    free(got);
    /* a finished download now, listed as such; adding it again is refused */
    ck_assert_ptr_nonnull(fin_find(d.finished, f.hash));
    dl_add_opts_t o = DL_ADD_OPTS_INIT;
    ck_assert_int_eq(dlq_add_link(q, f.link, &o, NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    mt_error_clear(&err);
    assert_no_bug();
    file_free(&f);
}
END_TEST

START_TEST(test_corrupt_part)
{
    file_t f, bad;
    file_make(&f, 500000, 10, "bad.bin");
    file_make(&bad, 500000, 11, "bad.bin"); /* other bytes, same size */
    download_t *dl = add(f.link, false);
    mt_error_t *err = NULL;
    ck_assert_int_eq(pf_write(dl_partfile(dl), 0, bad.data, bad.len, &err), 0);
    restart();
    drain();
    ck_assert_int_eq(ev.part_bad, 1);
    ck_assert_int_eq(ev.part_ok, 0);
    dl = dlq_find(q, f.hash);
    ck_assert_ptr_nonnull(dl);
    /* the bytes were thrown away, to be downloaded again */
    ck_assert_uint_eq(pf_done_bytes(dl_partfile(dl)), 0);
    ck_assert(!pf_is_complete(dl_partfile(dl)));
    dlq_tick(q);
    drain();
    ck_assert_int_eq(ev.completed, 0);
    ck_assert_uint_eq(dlq_count(q), 1);

    /* half a part on disk after a crash: checked speculatively, and kept
     * unverified without a word when it does not match */
    ck_assert_int_eq(pf_write(dl_partfile(dl), 0, f.data, f.len / 2, &err), 0);
    restart();
    drain();
    ck_assert_int_eq(ev.part_bad, 1);
    ck_assert_int_eq(ev.part_ok, 0);
    assert_no_bug();
    file_free(&f);
    file_free(&bad);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A source's conversation, the test playing the peer                      */

/* The peer at 1.2.3.4:4662, a source of dl, connected and asked for the
 * file (what the tick and the connection do). */
static peer_t *
connected_source(download_t *dl)
{
    ck_assert_int_eq(dl_add_source(dl, ip4(1, 2, 3, 4), 4662), DL_SRC_ADDED);
    peer_t *p = peer_get(d.peers, ip4(1, 2, 3, 4), 4662);
    dlq_tick(q);
    ck_assert_int_eq(p->connects, 1);
    fake_ready(p);
    return p;
}

/* The peer answers the file request: name (and, for a one-part file, that
 * is all: it then has the whole file). */
static void
answer_file_request(peer_t *p, const file_t *f)
{
    ed2k_packet_t *pkt = expect_sent(p, ED2K_PROTO_EMULE, ED2K_OP_MULTIPACKET_EXT);
    ed2k_multipacket_t m;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_multipacket_decode(pkt->payload, pkt->len, true, 2,
                                             ED2K_EXTINFO_AMULE, &m, &err),
                     0);
    ck_assert(memcmp(m.hash, f->hash, 16) == 0);
    ck_assert(m.req_filename);
    ck_assert(!m.req_status); /* a one-part file has no status to ask */
    ed2k_packet_free(pkt);
    struct evbuffer *b = evbuffer_new();
    ed2k_multipacket_answer_t a = { .has_name = true, .name = (const uint8_t *)"x.bin",
                                    .name_len = 5 };
    memcpy(a.hash, f->hash, 16);
    ck_assert_int_eq(ed2k_multipacket_answer_encode(b, &a, &err), 0);
    deliver(p, b);
    evbuffer_free(b);
}

/* Then we want a slot: OP_CANCELTRANSFER (an old session ends) and
 * OP_STARTUPLOADREQ. */
static void
expect_slot_request(peer_t *p, const file_t *f)
{
    ed2k_packet_free(expect_sent(p, ED2K_PROTO_EDONKEY, ED2K_OP_CANCELTRANSFER));
    ed2k_packet_t *pkt = expect_sent(p, ED2K_PROTO_EDONKEY, ED2K_OP_STARTUPLOADREQ);
    ck_assert_uint_eq(pkt->len, 16);
    ck_assert(memcmp(pkt->payload, f->hash, 16) == 0);
    ed2k_packet_free(pkt);
    expect_nothing_sent(p);
}

static void
peer_sends(peer_t *p, void (*encode)(struct evbuffer *))
{
    struct evbuffer *b = evbuffer_new();
    encode(b);
    deliver(p, b);
    evbuffer_free(b);
}

/* The blocks we asked for (OP_REQUESTPARTS), in order. */
static size_t
expect_block_request(peer_t *p, const file_t *f, ed2k_range_t *out)
{
    ed2k_packet_t *pkt = expect_sent(p, ED2K_PROTO_EDONKEY, ED2K_OP_REQUESTPARTS);
    ed2k_requestparts_t rp;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_requestparts_decode(pkt->payload, pkt->len, false, &rp, &err), 0);
    ck_assert(memcmp(rp.hash, f->hash, 16) == 0);
    for (size_t i = 0; i < rp.n; i++) {
        ck_assert_uint_lt(rp.ranges[i].start, rp.ranges[i].end);
        ck_assert_uint_le(rp.ranges[i].end, f->len);
        out[i] = rp.ranges[i];
    }
    ed2k_packet_free(pkt);
    return rp.n;
}

/* The peer sends the blocks, from data. */
static void
send_blocks(peer_t *p, const file_t *f, const uint8_t *data, const ed2k_range_t *r, size_t n)
{
    struct evbuffer *b = evbuffer_new();
    mt_error_t *err = NULL;
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(ed2k_sendingpart_encode_block(b, f->hash, r[i].start,
                                                       data + r[i].start,
                                                       (size_t)(r[i].end - r[i].start), false,
                                                       &err),
                         0);
    deliver(p, b);
    evbuffer_free(b);
}

static void
encode_rank5(struct evbuffer *b)
{
    ed2k_queueranking_encode(b, 5);
}

static void
encode_accept(struct evbuffer *b)
{
    ed2k_acceptuploadreq_encode(b);
}

/* The source queued, then given a slot: our block request follows. */
static size_t
into_slot(peer_t *p, const file_t *f, ed2k_range_t *r)
{
    peer_sends(p, encode_accept);
    return expect_block_request(p, f, r);
}

static char *
peer_state_json(download_t *dl)
{
    json_object *o = dl_to_json(dl), *peers, *v;
    ck_assert(json_object_object_get_ex(o, "peers", &peers));
    ck_assert_uint_eq(json_object_array_length(peers), 1);
    ck_assert(json_object_object_get_ex(json_object_array_get_idx(peers, 0), "state", &v));
    char *s = xstrdup(json_object_get_string(v));
    json_object_put(o);
    return s;
}

static void
assert_source_state(download_t *dl, const char *want)
{
    char *s = peer_state_json(dl);
    ck_assert_str_eq(s, want);
    free(s);
}

START_TEST(test_source_downloads_and_completes)
{
    file_t f;
    file_make(&f, 400000, 12, "fetched.bin"); /* one part, three blocks */
    download_t *dl = add(f.link, false);
    peer_t *p = connected_source(dl);
    assert_source_state(dl, "asking");
    answer_file_request(p, &f);
    expect_slot_request(p, &f);
    assert_source_state(dl, "waiting");

    peer_sends(p, encode_rank5);
    assert_source_state(dl, "queued");
    assert_json_str(dl, "state", "queued");
    ck_assert_int_eq(json_int(dl, "sources", "queued"), 1);

    ed2k_range_t r[3];
    size_t n = into_slot(p, &f, r);
    ck_assert_uint_eq(n, 3);
    uint64_t asked = 0;
    for (size_t i = 0; i < n; i++)
        asked += r[i].end - r[i].start;
    ck_assert_uint_eq(asked, f.len); /* the whole file, in three blocks */
    assert_source_state(dl, "downloading");
    assert_json_str(dl, "state", "downloading");
    ck_assert_int_eq(json_int(dl, "sources", "transferring"), 1);

    send_blocks(p, &f, f.data, r, n);
    ck_assert_uint_eq(pf_done_bytes(dl_partfile(dl)), f.len);
    drain(); /* the part is checked on a worker */
    ck_assert_int_eq(ev.part_ok, 1);
    dlq_tick(q); /* complete: the slot is given back, the file moved */
    ed2k_packet_free(expect_sent(p, ED2K_PROTO_EDONKEY, ED2K_OP_CANCELTRANSFER));
    drain();
    ck_assert_int_eq(ev.completed, 1);
    ck_assert_int_eq(ev.lost, 0); /* a completed download's sources go without a word */
    ck_assert_ptr_null(p->dl_data);
    ck_assert_uint_eq(dlq_count(q), 0);
    struct stat st;
    ck_assert_int_eq(stat(ev.path, &st), 0);
    ck_assert_uint_eq((uint64_t)st.st_size, f.len);
    assert_no_bug();
    file_free(&f);
}
END_TEST

START_TEST(test_source_corrupt_banned)
{
    file_t f, bad;
    file_make(&f, 400000, 13, "liar.bin");
    file_make(&bad, 400000, 14, "liar.bin");
    download_t *dl = add(f.link, false);
    peer_t *p = connected_source(dl);
    answer_file_request(p, &f);
    expect_slot_request(p, &f);
    ed2k_range_t r[3];
    size_t n = into_slot(p, &f, r);
    send_blocks(p, &f, bad.data, r, n);
    drain();
    ck_assert_int_eq(ev.part_bad, 1);
    ck_assert_uint_eq(pf_done_bytes(dl_partfile(dl)), 0);
    /* once is not enough for a ban: the peer already sent these blocks in
     * this slot, so the next tick asks for a new one */
    ck_assert_uint_eq(d.peers->n_banned, 0);
    dlq_tick(q);
    expect_slot_request(p, &f);
    n = into_slot(p, &f, r);
    ck_assert_uint_eq(n, 3);
    send_blocks(p, &f, bad.data, r, n);
    drain();
    /* twice: banned, and no longer a source, here or in the part file */
    ck_assert_int_eq(ev.part_bad, 2);
    ck_assert_uint_eq(d.peers->n_banned, 1);
    ck_assert_uint_eq(d.peers->banned[0], ip4(1, 2, 3, 4));
    ck_assert_int_eq(ev.lost, 1);
    ck_assert_int_eq(json_int(dl, "sources", "total"), 0);
    ck_assert_uint_eq(pf_source_count(dl_partfile(dl)), 0);
    ck_assert_ptr_null(p->dl_data);
    ck_assert_int_eq(ev.completed, 0);
    assert_no_bug();
    file_free(&f);
    file_free(&bad);
}
END_TEST

START_TEST(test_source_storage_trouble)
{
    file_t f;
    file_make(&f, 400000, 15, "full.bin");
    download_t *dl = add(f.link, false);
    peer_t *p = connected_source(dl);
    answer_file_request(p, &f);
    expect_slot_request(p, &f);
    ed2k_range_t r[3];
    size_t n = into_slot(p, &f, r);
    /* the data file cannot be written: its name is taken by a directory */
    char name[64];
    snprintf(name, sizeof name, "%s.part", f.hex);
    char *data = path_in("temp", name), *aside = path_in("temp", "aside");
    pf_close_files();
    ck_assert_int_eq(rename(data, aside), 0);
    ck_assert_int_eq(mkdir(data, 0755), 0);
    send_blocks(p, &f, f.data, r, 1);
    /* the error state, once; the slot is given back and the source idles */
    ck_assert_int_eq(ev.state, 1);
    ck_assert_int_eq(ev.from[0], BUS_DLS_ACTIVE);
    ck_assert_int_eq(ev.to[0], BUS_DLS_ERROR);
    ck_assert_msg(strstr(ev.error, name) != NULL, "error: %s", ev.error);
    assert_json_str(dl, "state", "error");
    ed2k_packet_free(expect_sent(p, ED2K_PROTO_EDONKEY, ED2K_OP_CANCELTRANSFER));
    assert_source_state(dl, "idle");
    /* what still arrives is dropped, not written in part */
    send_blocks(p, &f, f.data, r + 1, n - 1);
    ck_assert_uint_eq(pf_done_bytes(dl_partfile(dl)), 0);
    ck_assert_int_eq(ev.state, 1);
    /* the file is back; resuming leaves the error state */
    ck_assert_int_eq(rmdir(data), 0);
    ck_assert_int_eq(rename(aside, data), 0);
    dl_resume(dl);
    ck_assert_int_eq(ev.state, 2);
    ck_assert_int_eq(ev.from[1], BUS_DLS_ERROR);
    ck_assert_int_eq(ev.to[1], BUS_DLS_ACTIVE);
    assert_json_str(dl, "error", NULL);
    /* and the source is asked again at once */
    dlq_tick(q);
    ed2k_packet_free(expect_sent(p, ED2K_PROTO_EMULE, ED2K_OP_MULTIPACKET_EXT));
    assert_source_state(dl, "asking");
    free(data);
    free(aside);
    assert_no_bug();
    file_free(&f);
}
END_TEST

START_TEST(test_source_paused)
{
    file_t f;
    file_make(&f, 400000, 16, "pause.bin");
    download_t *dl = add(f.link, false);
    peer_t *p = connected_source(dl);
    answer_file_request(p, &f);
    expect_slot_request(p, &f);
    ed2k_range_t r[3];
    into_slot(p, &f, r);
    /* pausing gives the slot back at once */
    dl_pause(dl);
    ed2k_packet_free(expect_sent(p, ED2K_PROTO_EDONKEY, ED2K_OP_CANCELTRANSFER));
    assert_source_state(dl, "idle");
    /* a slot offered while paused is refused */
    peer_sends(p, encode_accept);
    ed2k_packet_free(expect_sent(p, ED2K_PROTO_EDONKEY, ED2K_OP_CANCELTRANSFER));
    assert_source_state(dl, "idle");
    /* nothing is asked while paused */
    dlq_tick(q);
    expect_nothing_sent(p);
    /* deleting tells nobody: the source had no slot */
    mt_error_t *err = NULL;
    ck_assert_int_eq(dl_delete(dl, &err), 0);
    expect_nothing_sent(p);
    ck_assert_int_eq(ev.lost, 1);
    assert_no_bug();
    file_free(&f);
}
END_TEST

/* A download limit becomes the read limit of the connection sending the
 * data, set and lifted with the limit and with the slot. */
START_TEST(test_source_rate_limit)
{
    file_t f;
    file_make(&f, 400000, 17, "limited.bin");
    download_t *dl = add(f.link, false);
    mt_error_t *err = NULL;
    ck_assert_int_eq(dl_set_rate_limits(dl, 51200, 0, &err), 0);
    ck_assert_int_eq(pf_dl_limit(dl_partfile(dl)), 51200);
    peer_t *p = connected_source(dl);
    answer_file_request(p, &f);
    expect_slot_request(p, &f);
    ck_assert_uint_eq(p->read_limit, 0); /* not sending yet */
    ed2k_range_t r[3];
    into_slot(p, &f, r);
    ck_assert_uint_eq(p->read_limit, 51200); /* from the slot's first byte */
    ck_assert_int_eq(dl_set_rate_limits(dl, 10000, 0, &err), 0);
    ck_assert_uint_eq(p->read_limit, 10000); /* a change applies at once */
    ck_assert_int_eq(dl_set_rate_limits(dl, -1, 0, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_free(err);
    err = NULL;
    ck_assert_uint_eq(p->read_limit, 10000);
    dlq_tick(q);
    ck_assert_uint_eq(p->read_limit, 10000);
    dl_pause(dl); /* the slot goes: so does the limit */
    ed2k_packet_free(expect_sent(p, ED2K_PROTO_EDONKEY, ED2K_OP_CANCELTRANSFER));
    ck_assert_uint_eq(p->read_limit, 0);
    json_object *o = dl_to_json(dl), *v;
    ck_assert(json_object_object_get_ex(o, "dl_limit", &v));
    ck_assert_int_eq(json_object_get_int64(v), 10000);
    json_object_put(o);
    ck_assert_int_eq(dl_delete(dl, &err), 0);
    assert_no_bug();
    file_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The sources' pure decisions (srcpolicy.c)                               */

START_TEST(test_policy_verdict_names)
{
    ck_assert_str_eq(dl_src_verdict_key(DL_SRC_LAN), "lan");
    ck_assert_str_eq(dl_src_verdict_key(DL_SRC_LIMIT), "limit");
    ck_assert_str_eq(dl_src_verdict_key(DL_SRC_N_VERDICTS), "?");
    ck_assert(!dl_src_is_drop(DL_SRC_ADDED));
    ck_assert(!dl_src_is_drop(DL_SRC_KNOWN));
    for (int v = DL_SRC_INVALID; v < DL_SRC_N_VERDICTS; v++) {
        ck_assert(dl_src_is_drop((dl_src_verdict_t)v));
        ck_assert_str_ne(dl_src_verdict_reason((dl_src_verdict_t)v), "?");
    }
}
END_TEST

START_TEST(test_policy_connect_backoff)
{
    srcpol_t p = { 0 };
    const time_t now = 100000;
    ck_assert(srcpol_may_ask(&p, false, now));
    static const time_t want[] = { 60, 120, 240, 480, 960, 1920, 1920, 1920, 1920 };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        srcpol_closed(&p, SRCPOL_CLOSED_CONNECTING, false, now);
        ck_assert_int_eq(p.next_ask - now, want[i]);
        ck_assert(!srcpol_may_ask(&p, false, now + want[i] - 1));
        ck_assert(srcpol_may_ask(&p, false, now + want[i]));
        ck_assert(!srcpol_gives_up(&p));
    }
    srcpol_closed(&p, SRCPOL_CLOSED_CONNECTING, false, now);
    ck_assert_uint_eq(p.failures, SRCPOL_MAX_FAILURES);
    ck_assert(srcpol_gives_up(&p));
    /* a connection that comes up ends the failures */
    srcpol_connected(&p);
    ck_assert(!srcpol_gives_up(&p));
    /* one that cannot even start is tried again soon, without a failure */
    srcpol_connect_refused(&p, now);
    ck_assert_int_eq(p.next_ask, now + SRCPOL_REFUSED_RETRY);
    ck_assert_uint_eq(p.failures, 0);
    srcpol_reset(&p);
    ck_assert(srcpol_may_ask(&p, false, 0));
}
END_TEST

START_TEST(test_policy_lost_slot)
{
    srcpol_t p = { 0 };
    time_t now = 100000;
    srcpol_upload_requested(&p, now - 100);
    /* data flowed: two quick reconnects in the source's life */
    srcpol_closed(&p, SRCPOL_CLOSED_IN_SLOT, true, now);
    ck_assert_int_eq(p.next_ask, now + SRCPOL_QUICK_RETRY);
    srcpol_closed(&p, SRCPOL_CLOSED_IN_SLOT, true, now);
    ck_assert_int_eq(p.next_ask, now + SRCPOL_QUICK_RETRY);
    ck_assert_uint_eq(p.failures, 0);
    /* then the slot request schedule: no sooner than the gap after the
     * last request (aggressive otherwise, §5.5) */
    srcpol_closed(&p, SRCPOL_CLOSED_IN_SLOT, true, now);
    ck_assert_int_eq(p.next_ask, now - 100 + SRCPOL_MIN_UPLOAD_REQ_GAP);
    ck_assert_uint_eq(p.failures, 1);
    /* and at least 30 s on */
    srcpol_upload_requested(&p, now - SRCPOL_MIN_UPLOAD_REQ_GAP);
    srcpol_closed(&p, SRCPOL_CLOSED_IN_SLOT, false, now);
    ck_assert_int_eq(p.next_ask, now + 30);
    ck_assert_uint_eq(p.failures, 2);
    /* anything else: a minute */
    srcpol_closed(&p, SRCPOL_CLOSED_OTHER, true, now);
    ck_assert_int_eq(p.next_ask, now + 60);
    ck_assert_uint_eq(p.failures, 3);
}
END_TEST

START_TEST(test_policy_asking)
{
    srcpol_t p = { 0 };
    time_t now = 100000;
    srcpol_asked(&p, now);
    ck_assert(!srcpol_answer_late(&p, now + SRCPOL_ASK_TIMEOUT));
    ck_assert(srcpol_answer_late(&p, now + SRCPOL_ASK_TIMEOUT + 1));
    /* queued: re-asked on the queue's schedule, and never sooner than the
     * gap after the last slot request */
    srcpol_upload_requested(&p, now);
    srcpol_queued(&p, now);
    ck_assert_int_eq(p.next_ask, now + SRCPOL_REASK_INTERVAL);
    ck_assert(!srcpol_may_ask(&p, true, now + SRCPOL_REASK_INTERVAL - 1));
    ck_assert(srcpol_may_ask(&p, true, now + SRCPOL_REASK_INTERVAL));
    p.next_ask = 0;
    ck_assert(!srcpol_may_ask(&p, true, now + SRCPOL_MIN_UPLOAD_REQ_GAP - 1));
    ck_assert(srcpol_may_ask(&p, true, now + SRCPOL_MIN_UPLOAD_REQ_GAP));
    ck_assert(srcpol_may_ask(&p, false, now + 1)); /* the gap is for queues only */
    /* nothing needed: 10 min, or 2.5 after giving up a slot */
    srcpol_nothing_needed(&p, false, now);
    ck_assert_int_eq(p.next_ask, now + SRCPOL_NONEEDED_RETRY);
    srcpol_nothing_needed(&p, true, now);
    ck_assert_int_eq(p.next_ask, now + SRCPOL_NONEEDED_RETRY / 4);
    srcpol_inactive(&p, now);
    ck_assert_int_eq(p.next_ask, now + SRCPOL_INACTIVE_RETRY);
    /* source exchange: at once, then every 40 minutes */
    ck_assert(srcpol_sx_due(&p, now));
    srcpol_sx_asked(&p, now);
    ck_assert(!srcpol_sx_due(&p, now + SRCPOL_SX2_INTERVAL - 1));
    ck_assert(srcpol_sx_due(&p, now + SRCPOL_SX2_INTERVAL));
}
END_TEST

START_TEST(test_policy_slot)
{
    srcpol_t p = { 0 };
    time_t now = 100000;
    srcpol_slot_started(&p, now);
    ck_assert_int_eq(srcpol_slot_check(&p, 3, 3, now + 1), SRCPOL_SLOT_WAIT);
    ck_assert_int_eq(srcpol_slot_check(&p, 2, 3, now + 1), SRCPOL_SLOT_MORE);
    /* blocks in flight and no data: new slots twice, then a reconnect */
    now += SRCPOL_SLOT_STALL_TIMEOUT + 1;
    ck_assert_int_eq(srcpol_slot_check(&p, 3, 3, now), SRCPOL_SLOT_RENEW);
    ck_assert_int_eq(srcpol_slot_check(&p, 3, 3, now), SRCPOL_SLOT_RENEW);
    ck_assert_int_eq(srcpol_slot_check(&p, 3, 3, now), SRCPOL_SLOT_STALLED);
    ck_assert_uint_eq(p.slot_stalls, 0);
    /* data ends a run of stalls */
    ck_assert_int_eq(srcpol_slot_check(&p, 3, 3, now), SRCPOL_SLOT_RENEW);
    srcpol_data(&p, now);
    ck_assert_uint_eq(p.slot_stalls, 0);
    ck_assert_int_eq(srcpol_slot_check(&p, 3, 3, now + SRCPOL_SLOT_STALL_TIMEOUT),
                     SRCPOL_SLOT_WAIT);
    /* nothing in flight and nothing for a long time: a reconnect */
    ck_assert_int_eq(srcpol_slot_check(&p, 0, 3, now + SRCPOL_DATA_TIMEOUT), SRCPOL_SLOT_MORE);
    ck_assert_int_eq(srcpol_slot_check(&p, 0, 3, now + SRCPOL_DATA_TIMEOUT + 1),
                     SRCPOL_SLOT_SILENT);
}
END_TEST

/* A set of categories is added all together or not at all. */
START_TEST(test_category_set)
{
    ck_assert_int_eq(cat_add(d.categories, "old", NULL, 0, 0, NULL, NULL), 0);
    char *old_dir = xstrdup(cat_incoming(d.categories, "old"));
    cat_item_t bad[] = { { "new-1", NULL }, { "old", "moved" }, { "new-2", "/etc" } };
    size_t at = 9;
    mt_error_t *err = NULL;
    ck_assert_int_eq(cat_apply_set(d.categories, bad, 3, &at, &err), -1);
    ck_assert_uint_eq(at, 2);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_free(err);
    ck_assert(!cat_exists(d.categories, "new-1"));
    ck_assert(!cat_exists(d.categories, "new-2"));
    ck_assert_str_eq(cat_incoming(d.categories, "old"), old_dir);
    cat_item_t badname[] = { { "new-1", NULL }, { "a/../b", NULL } };
    ck_assert_int_eq(cat_check_set(d.categories, badname, 2, &at, NULL), -1);
    ck_assert_uint_eq(at, 1);
    cat_item_t good[] = { { "new-1", NULL }, { "old", "moved" }, { "new-2", "two" } };
    ck_assert_int_eq(cat_check_set(d.categories, good, 3, &at, NULL), 0);
    ck_assert(!cat_exists(d.categories, "new-1")); /* only checked */
    ck_assert_int_eq(cat_apply_set(d.categories, good, 3, &at, NULL), 0);
    ck_assert(cat_exists(d.categories, "new-1") && cat_exists(d.categories, "new-2"));
    char *moved = path_in("incoming", "moved"), *two = path_in("incoming", "two");
    ck_assert_str_eq(cat_incoming(d.categories, "old"), moved);
    ck_assert_str_eq(cat_incoming(d.categories, "new-2"), two);
    free(moved);
    free(two);
    free(old_dir);
}
END_TEST

static Suite *
download_suite(void)
{
    Suite *s = suite_create("download");
    TCase *tc = tcase_create("queue");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_add);
    tcase_add_test(tc, test_add_btih);
    tcase_add_test(tc, test_pause_resume_stop);
    tcase_add_test(tc, test_delete);
    tcase_add_test(tc, test_source_verdicts);
    tcase_add_test(tc, test_source_given_up);
    tcase_add_test(tc, test_storage_trouble_save);
    tcase_add_test(tc, test_complete_from_disk);
    tcase_add_test(tc, test_corrupt_part);
    tcase_add_test(tc, test_source_downloads_and_completes);
    tcase_add_test(tc, test_source_corrupt_banned);
    tcase_add_test(tc, test_source_storage_trouble);
    tcase_add_test(tc, test_source_paused);
    tcase_add_test(tc, test_source_rate_limit);
    tcase_add_test(tc, test_category_set);
    suite_add_tcase(s, tc);
    TCase *pol = tcase_create("source policy");
    tcase_add_test(pol, test_policy_verdict_names);
    tcase_add_test(pol, test_policy_connect_backoff);
    tcase_add_test(pol, test_policy_lost_slot);
    tcase_add_test(pol, test_policy_asking);
    tcase_add_test(pol, test_policy_slot);
    suite_add_tcase(s, pol);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(download_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
