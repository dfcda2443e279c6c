/* peer.c: peer objects, the TCP listener, outgoing connections with their
 * timeouts, the connection budget (per address, incoming and outgoing),
 * the OP_HELLO / OP_HELLOANSWER handshake (ed2k-protocol.md §5.1), the
 * obfuscation layer under it (§9.2, lib/ed2k/obfs) and the dispatch of
 * packets to the download side (source.c) and upload.c. */
#include "config.h"

#include "daemon/net/peer.h"
#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/net/ipblock.h"
#include "daemon/net/listener.h"
#include "daemon/net/net.h"
#include "ed2k/obfs.h"
#include "ed2k/opcodes.h"
#include "ed2k/packet.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define PEER_CONNECT_TIMEOUT 40    /* seconds, §5.10 */
#define PEER_CALLBACK_TIMEOUT 45   /* a LowID's callback through the server */
#define PEER_HELLO_TIMEOUT 40      /* for the answer to our OP_HELLO */
/* eMule and aMule give every socket 40 s (CONNECTION_TIMEOUT), the first
 * packet included. A client that connects sends OP_HELLO (or its
 * obfuscation handshake, then OP_HELLO after one round trip) at once, so
 * 10 s leaves a slow link plenty of time while an address that connects
 * and stays silent cannot hold a connection slot for long. */
#define PEER_INCOMING_HELLO_TIMEOUT 10
#define PEER_IDLE_TIMEOUT 600      /* a ready connection nobody uses */
#define PEER_MAX_CONNECTING 40     /* half-open connections at once */
#define PEER_MAX_PAYLOAD 2000000   /* §1.1 */
#define PEER_MAX_BANS 4096
#define PEER_OBFS_MAX_PAD 128      /* our handshake padding: 0 .. this */

/* The obfuscation layer of a connection (§9). */
typedef enum {
    OBFS_PLAIN = 0,  /* no obfuscation: packets straight on the socket */
    OBFS_DETECT,     /* incoming: the first byte decides */
    OBFS_HANDSHAKE,  /* the handshake runs (ed2k_obfs_feed) */
    OBFS_ON,         /* the RC4 stream: plain_in / plain_out */
} obfs_state_t;

/* What Muleteer says it is in CT_EMULE_VERSION: an unused compatible-client
 * id (§2.2) and its version. */
#define MULETEER_COMPAT_CLIENT 0x4D
#define MULETEER_VER_MAJOR 0
#define MULETEER_VER_MINOR 1
#define MULETEER_VER_UPDATE 0

struct peer {
    peer_mgr_t *mgr;
    peer_t *prev, *next;
    /* The live connections (any state but DISCONNECTED), oldest first. */
    peer_t *conn_prev, *conn_next;
    uint32_t ip;
    uint16_t port;
    uint16_t udp_port;
    uint16_t kad_port; /* from its hello; 0: none */
    bool has_hash;
    uint8_t hash[16];
    char *name;
    char software[48]; /* the client software its hello names, or "" */
    ed2k_caps_t caps;
    uint32_t client_id;
    /* The ID and server our hello on this connection named, or the
     * OP_CHANGE_CLIENT_ID since (we logged in after the hello). */
    uint32_t hello_id, hello_server_ip;
    uint16_t hello_server_port;
    /* What a source list, link or callback said about its obfuscation
     * (ED2K_CRYPT_* bits) and its user hash, before any hello. */
    uint8_t crypt_opts;
    bool has_crypt_hash;
    uint8_t crypt_hash[16];
    /* The live connection's obfuscation: in state OBFS_ON, received bytes
     * are decrypted into plain_in, and what is written to plain_out is
     * encrypted onto the socket at once (obfs_out_cb). */
    obfs_state_t obfs_state;
    ed2k_obfs_t *obfs;
    bool obfs_failed; /* our obfuscated handshake to it failed: plain next
                       * time, unless one side requires obfuscation */
    struct evbuffer *plain_in, *plain_out;
    peer_state_t state;
    bool outgoing;
    struct bufferevent *bev;
    /* This connection's own limits (bytes/s, 0: none) beside the global
     * group's: a per-download limit shared among its connections. */
    uint64_t read_limit, write_limit;
    struct ev_token_bucket_cfg *own_cfg; /* what bev uses for them, or NULL */
    time_t deadline;   /* connect or hello deadline (monotonic seconds) */
    time_t last_activity;
    void *dl_data, *ul_data;
    void *sec_data; /* the secure-ident exchange's (transfer/ident.c), freed with p */
    char desc[96];
};

typedef struct ban {
    uint32_t ip;
    time_t until;
} ban_t;

struct peer_mgr {
    muleteerd_t *d;
    listener_t *listener;
    /* The global upload and download limits, on every peer socket. */
    struct bufferevent_rate_limit_group *limits;
    speedlimit_t speed; /* which pair is in the group: speedlimit_in_force */
    peer_t *peers;
    size_t n_peers;
    peer_t *conns, *conns_tail; /* the peers in any state but DISCONNECTED */
    size_t n_connected;
    size_t n_connecting;
    ban_t *bans;
    size_t n_bans;
    peer_handler_t handlers[PEER_MAX_HANDLERS];
    size_t n_handlers;
    int (*request_callback)(void *ctx, uint32_t lowid);
    void *request_callback_ctx;
};

static void
update_desc(peer_t *p)
{
    char ip[16];
    snprintf(p->desc, sizeof p->desc, "%.40s (%s:%u)", p->name != NULL ? p->name : "?",
             net_ip_str(p->ip, ip), p->port);
}

static peer_t *
peer_new(peer_mgr_t *m, uint32_t ip, uint16_t port)
{
    peer_t *p = xcalloc(1, sizeof *p);
    p->mgr = m;
    p->ip = ip;
    p->port = port;
    p->next = m->peers;
    if (m->peers != NULL)
        m->peers->prev = p;
    m->peers = p;
    m->n_peers++;
    update_desc(p);
    return p;
}

static void
peer_free(peer_t *p)
{
    peer_mgr_t *m = p->mgr;
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        m->peers = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    m->n_peers--;
    ev_token_bucket_cfg_free(p->own_cfg);
    free(p->name);
    free(p->sec_data);
    free(p);
}

static void
conn_link(peer_mgr_t *m, peer_t *p)
{
    p->conn_next = NULL;
    p->conn_prev = m->conns_tail;
    if (m->conns_tail != NULL)
        m->conns_tail->conn_next = p;
    else
        m->conns = p;
    m->conns_tail = p;
    m->n_connected++;
}

static void
conn_unlink(peer_mgr_t *m, peer_t *p)
{
    if (p->conn_prev != NULL)
        p->conn_prev->conn_next = p->conn_next;
    else
        m->conns = p->conn_next;
    if (p->conn_next != NULL)
        p->conn_next->conn_prev = p->conn_prev;
    else
        m->conns_tail = p->conn_prev;
    p->conn_prev = p->conn_next = NULL;
    m->n_connected--;
}

static void
set_state(peer_t *p, peer_state_t s)
{
    peer_mgr_t *m = p->mgr;
    if (p->state == PEER_CONNECTING)
        m->n_connecting--;
    if (s == PEER_CONNECTING)
        m->n_connecting++;
    if (p->state == PEER_DISCONNECTED && s != PEER_DISCONNECTED)
        conn_link(m, p);
    if (p->state != PEER_DISCONNECTED && s == PEER_DISCONNECTED)
        conn_unlink(m, p);
    p->state = s;
}

/* obfs_reset: forgets the connection's obfuscation layer. */
static void
obfs_reset(peer_t *p)
{
    ed2k_obfs_clear(p->obfs);
    free(p->obfs);
    p->obfs = NULL;
    if (p->plain_in != NULL)
        evbuffer_free(p->plain_in);
    if (p->plain_out != NULL)
        evbuffer_free(p->plain_out);
    p->plain_in = p->plain_out = NULL;
    p->obfs_state = OBFS_PLAIN;
}

/* conn_out: where packets for the connection go: the buffer encrypted on
 * its way out, or the socket's output. */
static struct evbuffer *
conn_out(peer_t *p)
{
    return p->obfs_state == OBFS_ON ? p->plain_out : bufferevent_get_output(p->bev);
}

/* Drops the connection without telling anyone (used by close and merge). */
static void
drop_connection(peer_t *p)
{
    if (p->bev != NULL) {
        /* bufferevent_free finishes later, from the loop: leave the group
         * now, so the group can be freed at shutdown. */
        bufferevent_remove_from_rate_limit_group(p->bev);
        if (p->own_cfg != NULL)
            bufferevent_set_rate_limit(p->bev, NULL);
        bufferevent_free(p->bev);
        p->bev = NULL;
    }
    ev_token_bucket_cfg_free(p->own_cfg);
    p->own_cfg = NULL;
    p->read_limit = p->write_limit = 0;
    obfs_reset(p);
    set_state(p, PEER_DISCONNECTED);
}

void
peer_close(peer_t *p, const char *reason)
{
    if (p->state == PEER_DISCONNECTED)
        return;
    bool was_ready = p->state == PEER_READY;
    if (p->outgoing && p->obfs_state == OBFS_HANDSHAKE)
        p->obfs_failed = true;
    log_debug("peer %s: closing: %s", p->desc, reason);
    drop_connection(p);
    if (was_ready)
        bus_publish_peer_closed(p->mgr->d->bus, &(bus_peer_t){ .peer = p,
                                                               .outgoing = p->outgoing,
                                                               .reason = reason });
    if (was_ready || p->outgoing) {
        peer_mgr_t *m = p->mgr;
        for (size_t i = m->n_handlers; i-- > 0;)
            if (m->handlers[i].closed != NULL)
                m->handlers[i].closed(m->handlers[i].ctx, p, reason);
    }
}

/* ---- the connection budget ---- */

/* The oldest connection still waiting for its OP_HELLO (incoming, never
 * identified): the first to go when room is needed. */
static peer_t *
oldest_unidentified(const peer_mgr_t *m)
{
    for (peer_t *q = m->conns; q != NULL; q = q->conn_next)
        if (q->state == PEER_WAIT_HELLO)
            return q;
    return NULL;
}

/* Makes room for one more connection when all max_connections are taken,
 * by closing the oldest unidentified one; false when there is none. */
static bool
make_room(peer_mgr_t *m, const char *why)
{
    peer_t *idle = oldest_unidentified(m);
    if (idle == NULL)
        return false;
    peer_close(idle, why);
    return true;
}

/* admit_incoming: whether a connection from ip may be accepted. One
 * address holds at most max_connections_per_ip incoming connections;
 * incoming connections never take the outgoing_reserve share of
 * max_connections, kept for our connections to sources; when the budget
 * is full, the oldest connection still waiting for its OP_HELLO is closed
 * to make room (an address that connects and stays silent goes first). */
static bool
admit_incoming(peer_mgr_t *m, uint32_t ip)
{
    const conf_t *conf = m->d->conf;
    size_t max = (size_t)conf_get_int(conf, "max_connections");
    size_t per_ip = (size_t)conf_get_int(conf, "max_connections_per_ip");
    size_t in_max = max - max * (size_t)conf_get_int(conf, "outgoing_reserve") / 100;
    size_t incoming = 0, from_ip = 0;
    for (peer_t *q = m->conns; q != NULL; q = q->conn_next) {
        if (q->outgoing)
            continue;
        incoming++;
        from_ip += q->ip == ip;
    }
    char addr[16];
    if (from_ip >= per_ip) {
        log_debug("peers: refused a connection from %s: %zu from that address already",
                  net_ip_str(ip, addr), from_ip);
        return false;
    }
    if (incoming < in_max && m->n_connected < max)
        return true;
    if (make_room(m, "no hello yet, and the connection budget is full"))
        return true;
    log_debug("peers: refused a connection from %s: %zu incoming connections, %zu in all",
              net_ip_str(ip, addr), incoming, m->n_connected);
    return false;
}

/* ---- bans ---- */

bool
peer_mgr_is_banned(peer_mgr_t *m, uint32_t ip)
{
    time_t now = clock_mono_s();
    for (size_t i = 0; i < m->n_bans; i++)
        if (m->bans[i].ip == ip && m->bans[i].until > now)
            return true;
    return false;
}

void
peer_ban(peer_t *p, const char *reason, int seconds)
{
    peer_mgr_t *m = p->mgr;
    log_warn("peer %s: banned for %d s: %s", p->desc, seconds, reason);
    if (m->n_bans < PEER_MAX_BANS) {
        m->bans = xreallocarray(m->bans, m->n_bans + 1, sizeof *m->bans);
        m->bans[m->n_bans].ip = p->ip;
        m->bans[m->n_bans].until = clock_mono_s() + seconds;
        m->n_bans++;
    }
    char ip[16];
    bus_publish_peer_banned(m->d->bus, &(bus_peer_ban_t){ .ip = net_ip_str(p->ip, ip),
                                                          .seconds = seconds, .reason = reason });
    peer_close(p, reason);
}

/* ---- obfuscation (§9.1, §9.2) ---- */

void
peer_obfs_settings(const muleteerd_t *d, bool *support, bool *request, bool *require)
{
    /* as aMule reads its own: required implies requested implies supported */
    *support = conf_get_bool(d->conf, "obfuscation_support");
    *request = *support && conf_get_bool(d->conf, "obfuscation_request");
    *require = *request && conf_get_bool(d->conf, "obfuscation_require");
}

void
peer_set_crypt(peer_t *p, uint8_t cryptopts, const uint8_t *hash)
{
    p->crypt_opts = cryptopts & (ED2K_CRYPT_SUPPORTED | ED2K_CRYPT_REQUESTED | ED2K_CRYPT_REQUIRED);
    if (hash != NULL) {
        memcpy(p->crypt_hash, hash, 16);
        p->has_crypt_hash = true;
    }
}

/* obfs_random: the random parts of one handshake. */
static void
obfs_random(ed2k_obfs_random_t *r)
{
    uint8_t b[6];
    if (mt_random_bytes(b, sizeof b, NULL) != 0 || mt_random_bytes(r->pad, sizeof r->pad, NULL) != 0)
        memset(b, 0x5a, sizeof b); /* getrandom failing: fixed, still valid */
    r->marker = ed2k_obfs_is_plain_marker(b[0]) ? (uint8_t)(b[0] ^ 0x01) : b[0];
    r->key_part = (uint32_t)b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 24;
    r->pad_len = (uint8_t)(b[5] % (PEER_OBFS_MAX_PAD + 1));
}

/* obfs_plan: how to connect to p: 1 obfuscated, 0 plain, -1 not at all
 * (one side requires what the other cannot do). The peer's own word comes
 * from its last hello, else from where we learnt of it; obfuscating needs
 * its user hash (the key). */
static int
obfs_plan(const peer_t *p)
{
    bool support, request, require;
    peer_obfs_settings(p->mgr->d, &support, &request, &require);
    uint8_t o = p->crypt_opts;
    if (p->caps.crypt_supported)
        o = (uint8_t)(ED2K_CRYPT_SUPPORTED | (p->caps.crypt_requested ? ED2K_CRYPT_REQUESTED : 0) |
                      (p->caps.crypt_required ? ED2K_CRYPT_REQUIRED : 0));
    bool can = support && (o & ED2K_CRYPT_SUPPORTED) && (p->has_hash || p->has_crypt_hash);
    if (!can)
        return require || (o & ED2K_CRYPT_REQUIRED) ? -1 : 0;
    if (p->obfs_failed && !require && !(o & ED2K_CRYPT_REQUIRED))
        return 0; /* as aMule: the next try is plain */
    return request || (o & ED2K_CRYPT_REQUESTED) ? 1 : 0;
}

/* obfs_move_all: all of src through the cipher of one direction into dst,
 * at most 64 KiB a step: each piece is read where it lies in src and
 * written once, into space reserved in dst (no copy before the cipher). */
static void
obfs_move_all(peer_t *p, struct evbuffer *src, struct evbuffer *dst, bool out)
{
    size_t n;
    while ((n = evbuffer_get_length(src)) > 0) {
        if (n > 65536)
            n = 65536;
        struct evbuffer_iovec v;
        if (evbuffer_reserve_space(dst, (ev_ssize_t)n, &v, 1) != 1)
            return;
        for (size_t done = 0; done < n;) {
            struct evbuffer_iovec in;
            if (evbuffer_peek(src, -1, NULL, &in, 1) < 1)
                return;
            size_t m = in.iov_len < n - done ? in.iov_len : n - done;
            uint8_t *to = (uint8_t *)v.iov_base + done;
            if (out)
                ed2k_obfs_encrypt(p->obfs, to, in.iov_base, m);
            else
                ed2k_obfs_decrypt(p->obfs, to, in.iov_base, m);
            evbuffer_drain(src, m);
            done += m;
        }
        v.iov_len = n;
        evbuffer_commit_space(dst, &v, 1);
    }
}

/* obfs_move: obfs_move_all, saying when a direction turns into a bulk
 * transfer whose keystream is computed ahead (ed2k_obfs_allow_ahead). */
static void
obfs_move(peer_t *p, struct evbuffer *src, struct evbuffer *dst, bool out)
{
    ed2k_rc4_ahead_t *const *ahead = out ? &p->obfs->ahead_send : &p->obfs->ahead_recv;
    bool had = *ahead != NULL;
    obfs_move_all(p, src, dst, out);
    if (!had && *ahead != NULL)
        log_debug("peer %s: obfuscated stream (%s): keystream computed ahead from now on", p->desc,
                  out ? "sending" : "receiving");
}

/* obfs_out_cb: what the upper layers add to plain_out leaves encrypted
 * through the socket's output, in order (no deferred callbacks). */
static void
obfs_out_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
    peer_t *p = arg;
    if (info->n_added == 0 || p->obfs_state != OBFS_ON || p->bev == NULL)
        return;
    obfs_move(p, b, bufferevent_get_output(p->bev), true);
}

/* obfs_start_stream: the handshake is done: the stream cipher takes over. */
static void
obfs_start_stream(peer_t *p)
{
    p->obfs_state = OBFS_ON;
    p->plain_in = evbuffer_new();
    p->plain_out = evbuffer_new();
    evbuffer_add_cb(p->plain_out, obfs_out_cb, p);
}

/* obfs_decrypt_input: moves what the socket received into plain_in. */
static void
obfs_decrypt_input(peer_t *p, struct evbuffer *in)
{
    obfs_move(p, in, p->plain_in, false);
}

static void send_hello(peer_t *p, bool answer);

/* obfs_detect: an incoming connection's first byte: a plain packet, or an
 * obfuscation handshake keyed with our user hash (§9.1). -1: refused. */
static int
obfs_detect(peer_t *p, struct evbuffer *in)
{
    uint8_t first;
    if (evbuffer_copyout(in, &first, 1) != 1)
        return 1;
    bool support, request, require;
    peer_obfs_settings(p->mgr->d, &support, &request, &require);
    if (ed2k_obfs_is_plain_marker(first)) {
        if (require) {
            peer_close(p, "plain connection refused: obfuscation is required");
            return -1;
        }
        p->obfs_state = OBFS_PLAIN;
        return 0;
    }
    if (!support) {
        peer_close(p, "obfuscated connection refused: obfuscation is off");
        return -1;
    }
    ed2k_obfs_random_t r;
    obfs_random(&r);
    p->obfs = xmalloc(sizeof *p->obfs);
    ed2k_obfs_responder_init(p->obfs, p->mgr->d->userhash, &r);
    ed2k_obfs_allow_ahead(p->obfs);
    p->obfs_state = OBFS_HANDSHAKE;
    return 0;
}

/* obfs_pump: runs the layer under the packets on what arrived. 0: packets
 * may be framed from frame_input; 1: nothing to frame yet; -1: closed. */
static int
obfs_pump(peer_t *p)
{
    struct evbuffer *in = bufferevent_get_input(p->bev);
    if (p->obfs_state == OBFS_DETECT) {
        int rc = obfs_detect(p, in);
        if (rc != 0)
            return rc;
    }
    while (p->obfs_state == OBFS_HANDSHAKE) {
        size_t len = evbuffer_get_length(in);
        if (len == 0)
            return 1;
        if (len > 512)
            len = 512;
        const uint8_t *data = evbuffer_pullup(in, (ev_ssize_t)len);
        uint8_t reply[ED2K_OBFS_MAX_SERVER_MSG];
        size_t used = 0, rlen = 0;
        mt_error_t *err = NULL;
        ed2k_obfs_status_t st = ed2k_obfs_feed(p->obfs, data, len, &used, reply, &rlen, &err);
        evbuffer_drain(in, used);
        if (st == ED2K_OBFS_ERROR) {
            char *msg = xasprintf("obfuscation: %s", err != NULL ? err->message : "?");
            mt_error_free(err);
            peer_close(p, msg);
            free(msg);
            return -1;
        }
        if (st == ED2K_OBFS_DONE) {
            if (rlen > 0)
                evbuffer_add(bufferevent_get_output(p->bev), reply, rlen);
            obfs_start_stream(p);
            log_debug("peer %s: obfuscated (%s)", p->desc, p->outgoing ? "outgoing" : "incoming");
            if (p->outgoing)
                send_hello(p, false); /* only now: aMule drops early data */
        }
    }
    if (p->obfs_state == OBFS_ON)
        obfs_decrypt_input(p, in);
    return 0;
}

/* frame_input: where packets are framed from. */
static struct evbuffer *
frame_input(peer_t *p)
{
    return p->obfs_state == OBFS_ON ? p->plain_in : bufferevent_get_input(p->bev);
}

/* obfs_begin: an outgoing connection just opened: sends the initiator's
 * handshake (the hello waits for the answer). */
static void
obfs_begin(peer_t *p)
{
    ed2k_obfs_random_t r;
    obfs_random(&r);
    p->obfs = xmalloc(sizeof *p->obfs);
    uint8_t msg[ED2K_OBFS_MAX_HANDSHAKE];
    size_t n = ed2k_obfs_initiator_start(p->obfs, p->has_hash ? p->hash : p->crypt_hash, &r, msg);
    ed2k_obfs_allow_ahead(p->obfs);
    evbuffer_add(bufferevent_get_output(p->bev), msg, n);
    p->obfs_state = OBFS_HANDSHAKE;
}

/* ---- sending the hello ---- */

static void
fill_hello(peer_t *p, ed2k_hello_params_t *hp)
{
    muleteerd_t *d = p->mgr->d;
    memset(hp, 0, sizeof *hp);
    memcpy(hp->user_hash, d->userhash, 16);
    hp->client_id = d->client_id;
    hp->tcp_port = (uint16_t)conf_get_int(d->conf, "tcp_port");
    hp->udp_port = (uint16_t)conf_get_int(d->conf, "udp_port");
    hp->kad_port = 0;
    hp->nickname = conf_get_str(d->conf, "nickname");
    hp->compat_client = MULETEER_COMPAT_CLIENT;
    hp->ver_major = MULETEER_VER_MAJOR;
    hp->ver_minor = MULETEER_VER_MINOR;
    hp->ver_update = MULETEER_VER_UPDATE;
    /* Advertise only what Muleteer does (§2.3, §12 item 3): Unicode, UDP
     * reasks (v4), compressed parts, extended requests v2, multipacket and
     * its _EXT form, large files, source exchange 2, obfuscation as set,
     * AICH (version 1: roots and recovery data), secure identification
     * v1 and v2 (transfer/ident.c answers it). No SX1, no comments. */
    ed2k_caps_t c = { 0 };
    c.unicode = true;
    c.udp_ver = hp->udp_port != 0 ? 4 : 0;
    c.data_comp_ver = 1;
    c.ext_req_ver = 2;
    c.no_view_shared = true;
    c.multipacket = true;
    c.ext_multipacket = true;
    c.large_files = true;
    c.sx2 = true;
    c.secident_ver = conf_get_bool(d->conf, "secure_ident") ? 3 : 0;
    peer_obfs_settings(d, &c.crypt_supported, &c.crypt_requested, &c.crypt_required);
    c.aich_ver = 1;
    hp->misc1 = ed2k_caps_to_misc1(&c);
    hp->misc2 = ed2k_caps_to_misc2(&c);
    hp->server_ip = d->server_ip;
    hp->server_port = d->server_port;
}

static void
send_hello(peer_t *p, bool answer)
{
    ed2k_hello_params_t hp;
    fill_hello(p, &hp);
    mt_error_t *err = NULL;
    struct evbuffer *out = conn_out(p);
    int rc = answer ? ed2k_helloanswer_encode(out, &hp, &err) : ed2k_hello_encode(out, &hp, &err);
    p->hello_id = hp.client_id;
    p->hello_server_ip = hp.server_ip;
    p->hello_server_port = hp.server_port;
    if (rc != 0) {
        log_error("peer %s: cannot encode our hello: %s", p->desc, err->message);
        mt_error_free(err);
    }
}

/* ---- receiving ---- */

/* Moves the connection of incoming onto target (an existing peer at the
 * same address), then frees incoming. */
static peer_t *
merge_into(peer_t *incoming, peer_t *target);

static int
take_hello(peer_t *p, const ed2k_packet_t *pkt, bool answer, peer_t **pp)
{
    ed2k_hello_t h;
    mt_error_t *err = NULL;
    int rc = answer ? ed2k_helloanswer_decode(pkt->payload, pkt->len, &h, &err)
                    : ed2k_hello_decode(pkt->payload, pkt->len, &h, &err);
    if (rc != 0) {
        log_info("peer %s: bad hello: %s", p->desc, err->message);
        mt_error_free(err);
        return -1;
    }
    muleteerd_t *d = p->mgr->d;
    if (memcmp(h.user_hash, d->userhash, 16) == 0) {
        log_debug("peer %s: that is ourselves", p->desc);
        ed2k_hello_clear(&h);
        return -1;
    }
    if (p->has_hash && memcmp(p->hash, h.user_hash, 16) != 0) {
        /* Another client now answers at this address. */
        log_info("peer %s: user hash changed", p->desc);
    }
    memcpy(p->hash, h.user_hash, 16);
    p->has_hash = true;
    free(p->name);
    p->name = h.name != NULL ? xstrndup(h.name, h.name_len) : NULL;
    ed2k_caps_from_hello(&h, &p->caps);
    ed2k_hello_software(&h, p->software, sizeof p->software);
    p->client_id = h.client_id;
    if (h.has_udp_ports) {
        p->udp_port = h.udp_port;
        p->kad_port = h.kad_port;
    }
    uint16_t port = h.tcp_port;
    uint32_t hello_server_ip = h.server_ip;
    uint16_t hello_server_port = h.server_port;
    ed2k_hello_clear(&h);

    if (!p->outgoing) {
        /* The address this client listens on is now known: join an
         * existing peer there (a source we know), if any. */
        p->port = port;
        /* A LowID we asked the server to call back (§3.6) says its LowID and
         * the server it is on: it is the peer waiting under that LowID. */
        bool callback = net_is_lowid(p->client_id) && p->client_id != 0 &&
                        d->server_ip != 0 && hello_server_ip == d->server_ip &&
                        hello_server_port == d->server_port;
        for (peer_t *q = p->mgr->peers; q != NULL; q = q->next) {
            if (q == p)
                continue;
            if (callback && q->ip == p->client_id && q->port == port &&
                q->state == PEER_CONNECTING && q->bev == NULL) {
                log_debug("peer %s: the callback of LowID %u", p->desc, p->client_id);
                p = merge_into(p, q);
                break;
            }
            if (q->ip == p->ip && q->port == port) {
                if (q->state == PEER_READY || q->state == PEER_HELLO_SENT) {
                    log_debug("peer %s: duplicate connection, keeping the first", p->desc);
                    return -1;
                }
                p = merge_into(p, q);
                break;
            }
        }
        *pp = p;
    }
    update_desc(p);
    return 0;
}

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

static peer_t *
merge_into(peer_t *incoming, peer_t *target)
{
    if (target->state == PEER_CONNECTING)
        drop_connection(target); /* our own attempt loses to theirs */
    target->bev = incoming->bev;
    incoming->bev = NULL;
    target->read_limit = incoming->read_limit;
    target->write_limit = incoming->write_limit;
    target->own_cfg = incoming->own_cfg;
    incoming->own_cfg = NULL;
    bufferevent_setcb(target->bev, on_read, on_write, on_event, target);
    obfs_reset(target);
    target->obfs_state = incoming->obfs_state;
    target->obfs = incoming->obfs;
    target->plain_in = incoming->plain_in;
    target->plain_out = incoming->plain_out;
    incoming->obfs = NULL;
    incoming->plain_in = incoming->plain_out = NULL;
    incoming->obfs_state = OBFS_PLAIN;
    if (target->plain_out != NULL) {
        evbuffer_remove_cb(target->plain_out, obfs_out_cb, incoming);
        evbuffer_add_cb(target->plain_out, obfs_out_cb, target);
    }
    memcpy(target->hash, incoming->hash, 16);
    target->has_hash = true;
    free(target->name);
    target->name = incoming->name;
    incoming->name = NULL;
    target->caps = incoming->caps;
    target->client_id = incoming->client_id;
    target->udp_port = incoming->udp_port;
    target->kad_port = incoming->kad_port;
    target->outgoing = false;
    set_state(incoming, PEER_DISCONNECTED);
    set_state(target, PEER_WAIT_HELLO);
    peer_free(incoming);
    return target;
}

/* hello_is_stale: we have an ID, and the ID or server our hello on p's
 * connection named are no longer ours. */
static bool
hello_is_stale(const peer_t *p)
{
    const muleteerd_t *d = p->mgr->d;
    return d->client_id != 0 &&
           (p->hello_id != d->client_id || p->hello_server_ip != d->server_ip ||
            p->hello_server_port != d->server_port);
}

/* tell_id: OP_CHANGE_CLIENT_ID with our ID and server now. The peer knows
 * us by what our hello said, maybe our address (ID 0 before the login):
 * aMule then keeps us as a HighID and never matches us to the LowID
 * source a server or search gives it (it matches those by ID and
 * server), asks the server for a callback, and takes the callback
 * connection for the client it already knows at our address. */
static void
tell_id(peer_t *p)
{
    muleteerd_t *d = p->mgr->d;
    ed2k_change_client_id_encode(conn_out(p), d->client_id, d->server_ip);
    p->hello_id = d->client_id;
    p->hello_server_ip = d->server_ip;
    p->hello_server_port = d->server_port;
    log_debug("peer %s: told our new ID %u", p->desc, d->client_id);
}

static void
became_ready(peer_t *p)
{
    set_state(p, PEER_READY);
    p->deadline = 0;
    if (hello_is_stale(p))
        tell_id(p); /* we logged in during the handshake */
    p->last_activity = clock_mono_s();
    log_debug("peer %s: ready (%s)", p->desc, p->outgoing ? "outgoing" : "incoming");
    bus_publish_peer_connected(p->mgr->d->bus,
                               &(bus_peer_t){ .peer = p, .outgoing = p->outgoing });
    peer_mgr_t *m = p->mgr;
    for (size_t i = m->n_handlers; i-- > 0;)
        if (m->handlers[i].ready != NULL)
            m->handlers[i].ready(m->handlers[i].ctx, p);
}

/* Packets any ready peer may send that neither side owns. */
static int
handle_misc(peer_t *p, const ed2k_packet_t *pkt)
{
    struct evbuffer *out = conn_out(p);
    if (pkt->proto == ED2K_PROTO_EDONKEY) {
        switch (pkt->opcode) {
        case ED2K_OP_ASKSHAREDFILES:
        case ED2K_OP_ASKSHAREDDIRS:
            ed2k_askshareddeniedans_encode(out);
            return 1;
        case ED2K_OP_MESSAGE: {
            const uint8_t *text;
            size_t len;
            if (ed2k_message_decode(pkt->payload, pkt->len, &text, &len, NULL) == 0)
                log_info("peer %s says: %.*s", p->desc, (int)(len > 200 ? 200 : len),
                         (const char *)text);
            return 1;
        }
        case ED2K_OP_CHANGE_CLIENT_ID: {
            /* it logged in to a server since its hello: its ID now */
            uint32_t id, server_ip;
            if (ed2k_change_client_id_decode(pkt->payload, pkt->len, &id, &server_ip, NULL) == 0)
                p->client_id = id;
            return 1;
        }
        }
        return 0;
    }
    switch (pkt->opcode) {
    case ED2K_OP_EMULEINFO: {
        ed2k_emuleinfo_t ei;
        if (ed2k_emuleinfo_decode(pkt->payload, pkt->len, &ei, NULL) != 0)
            return -1;
        ed2k_caps_t c;
        if (ed2k_caps_from_emuleinfo(&ei, &c) && !p->caps.multipacket)
            p->caps = c; /* a pre-0.42 client describes itself this way */
        ed2k_emuleinfo_clear(&ei);
        ed2k_taglist_t *tags =
            ed2k_emuleinfo_tags(&p->caps, (uint16_t)conf_get_int(p->mgr->d->conf, "udp_port"),
                                MULETEER_COMPAT_CLIENT, NULL);
        ed2k_emuleinfo_encode(out, true, 0x40, 0x01, tags, NULL);
        ed2k_taglist_free(tags);
        return 1;
    }
    case ED2K_OP_EMULEINFOANSWER:
        return 1;
    case ED2K_OP_PUBLICIP_REQ:
        ed2k_publicip_answer_encode(out, p->ip);
        return 1;
    case ED2K_OP_PUBLICIP_ANSWER:
    case ED2K_OP_SECIDENTSTATE:
    case ED2K_OP_PUBLICKEY:
    case ED2K_OP_SIGNATURE:
    case ED2K_OP_REQUESTPREVIEW:
    case ED2K_OP_FILEDESC:
        return 1; /* not supported, not advertised: ignore */
    }
    return 0;
}

static int
dispatch(peer_t **pp, ed2k_packet_t *pkt)
{
    peer_t *p = *pp;
    mt_error_t *err = NULL;
    if (pkt->proto == ED2K_PROTO_PACKED &&
        ed2k_packet_unpack(pkt, ED2K_INFLATE_LIMIT_PEER, &err) != 0) {
        log_info("peer %s: bad packed packet: %s", p->desc, err->message);
        mt_error_free(err);
        return -1;
    }
    p->last_activity = clock_mono_s();
    switch (p->state) {
    case PEER_WAIT_HELLO:
        if (pkt->proto != ED2K_PROTO_EDONKEY || pkt->opcode != ED2K_OP_HELLO) {
            log_debug("peer %s: expected OP_HELLO, got 0x%02x/0x%02x", p->desc, pkt->proto,
                      pkt->opcode);
            return -1;
        }
        if (take_hello(p, pkt, false, pp) != 0)
            return -1;
        p = *pp;
        if (peer_mgr_is_banned(p->mgr, p->ip))
            return -1;
        send_hello(p, true);
        became_ready(p);
        return 0;
    case PEER_HELLO_SENT:
        if (pkt->proto != ED2K_PROTO_EDONKEY || pkt->opcode != ED2K_OP_HELLOANSWER) {
            log_debug("peer %s: expected OP_HELLOANSWER, got 0x%02x/0x%02x", p->desc, pkt->proto,
                      pkt->opcode);
            return -1;
        }
        if (take_hello(p, pkt, true, pp) != 0)
            return -1;
        became_ready(p);
        return 0;
    case PEER_READY:
        break;
    default:
        return -1;
    }
    if (pkt->proto == ED2K_PROTO_EDONKEY && pkt->opcode == ED2K_OP_HELLO) {
        /* A second hello on a ready connection: answer it again. */
        if (take_hello(p, pkt, false, pp) != 0)
            return -1;
        send_hello(*pp, true);
        return 0;
    }
    int rc = 0;
    peer_mgr_t *m = p->mgr;
    for (size_t i = 0; rc == 0 && i < m->n_handlers; i++)
        if (m->handlers[i].packet != NULL)
            rc = m->handlers[i].packet(m->handlers[i].ctx, p, pkt, &err);
    if (rc == 0)
        rc = handle_misc(p, pkt);
    if (rc == 0) {
        log_debug("peer %s: ignoring unknown packet 0x%02x/0x%02x (%zu bytes)", p->desc,
                  pkt->proto, pkt->opcode, pkt->len);
        return 0;
    }
    if (rc < 0) {
        log_info("peer %s: protocol error: %s", p->desc, err != NULL ? err->message : "?");
        mt_error_free(err);
        return -1;
    }
    return 0;
}

/* count_in: a packet taken from the input, wire bytes long: its file data
 * is payload, the rest protocol (traffic.h). */
static void
count_in(muleteerd_t *d, size_t wire, const ed2k_packet_t *pkt)
{
    size_t data = ed2k_c2c_data_len(pkt->proto, pkt->opcode, pkt->len);
    if (data > wire)
        data = wire; /* a packed packet larger inflated than on the wire */
    d->traffic.payload[TRAFFIC_IN] += data;
    d->traffic.protocol[TRAFFIC_IN] += wire - data;
}

/* count_out: every byte queued for a peer, as protocol until the upload
 * side moves its blocks' file data to payload (traffic.h). Called at once
 * by the output buffer (no deferred callbacks). */
static void
count_out(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
    (void)b;
    muleteerd_t *d = arg;
    d->traffic.protocol[TRAFFIC_OUT] += info->n_added;
}

static void
on_read(struct bufferevent *bev, void *arg)
{
    peer_t *p = arg;
    if (p->obfs_state != OBFS_PLAIN && obfs_pump(p) != 0)
        return;
    for (;;) {
        if (p->state == PEER_DISCONNECTED)
            return;
        struct evbuffer *in = frame_input(p);
        ed2k_packet_t *pkt = NULL;
        mt_error_t *err = NULL;
        size_t before = evbuffer_get_length(in);
        ed2k_frame_status_t st = ed2k_packet_decode_evbuffer(in, PEER_MAX_PAYLOAD, &pkt, &err);
        if (st == ED2K_FRAME_NEED_MORE)
            return;
        if (st == ED2K_FRAME_ERROR) {
            char *msg = xasprintf("framing error: %s", err->message);
            mt_error_free(err);
            peer_close(p, msg);
            free(msg);
            return;
        }
        count_in(p->mgr->d, before - evbuffer_get_length(in), pkt);
        peer_t *cur = p;
        int rc = dispatch(&cur, pkt);
        ed2k_packet_free(pkt);
        if (rc != 0) {
            peer_close(cur, "protocol error");
            return;
        }
        p = cur;
        if (p->bev != bev)
            return; /* the connection moved or closed */
    }
}

static void
on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    peer_t *p = arg;
    peer_mgr_t *m = p->mgr;
    for (size_t i = 0; i < m->n_handlers && p->state == PEER_READY; i++)
        if (m->handlers[i].writable != NULL)
            m->handlers[i].writable(m->handlers[i].ctx, p);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    peer_t *p = arg;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(p->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        set_state(p, PEER_HELLO_SENT);
        p->deadline = clock_mono_s() + PEER_HELLO_TIMEOUT;
        if (obfs_plan(p) > 0)
            obfs_begin(p);
        else
            send_hello(p, false);
        return;
    }
    if (what & BEV_EVENT_EOF)
        peer_close(p, "closed by the peer");
    else if (what & BEV_EVENT_ERROR)
        peer_close(p, strerror(EVUTIL_SOCKET_ERROR()));
}

static void apply_own_limits(peer_t *p);

static void
setup_bev(peer_t *p, struct bufferevent *bev)
{
    p->bev = bev;
    bufferevent_add_to_rate_limit_group(bev, p->mgr->limits);
    apply_own_limits(p); /* limits given while it had no connection */
    bufferevent_setcb(bev, on_read, on_write, on_event, p);
    evbuffer_add_cb(bufferevent_get_output(bev), count_out, p->mgr->d);
    /* The write callback fires when the output drops below 32 KiB, so the
     * upload side can top it up. */
    bufferevent_setwatermark(bev, EV_WRITE, 32 * 1024, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int
peer_connect(peer_t *p)
{
    peer_mgr_t *m = p->mgr;
    muleteerd_t *d = m->d;
    if (p->state != PEER_DISCONNECTED)
        return 0;
    if (peer_mgr_is_banned(m, p->ip) || p->port == 0)
        return -1;
    if (obfs_plan(p) < 0 && !net_is_lowid(p->ip)) {
        log_debug("peer %s: not connecting: obfuscation required by one side, impossible",
                  p->desc);
        return -1;
    }
    if (!net_is_lowid(p->ip) && ipblock_blocks(d->ipfilter, p->ip, IPBLOCK_PEER_OUT))
        return -1; /* a LowID is a server's handle, not an address */
    if (m->n_connecting >= PEER_MAX_CONNECTING)
        return -1;
    if (m->n_connected >= (size_t)conf_get_int(d->conf, "max_connections") &&
        !make_room(m, "no hello yet, and a source needs the room"))
        return -1;
    if (net_is_lowid(p->ip)) {
        /* A LowID cannot be reached: the server asks it to connect to us
         * (OP_CALLBACKREQUEST, §3.6); its hello then joins this peer. */
        if (m->request_callback == NULL ||
            m->request_callback(m->request_callback_ctx, p->ip) != 0)
            return -1;
        p->outgoing = true;
        set_state(p, PEER_CONNECTING);
        p->deadline = clock_mono_s() + PEER_CALLBACK_TIMEOUT;
        log_debug("peer %s: asked the server for a callback", p->desc);
        return 0;
    }
    struct bufferevent *bev = bufferevent_socket_new(d->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        return -1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(p->port) };
    sa.sin_addr = net_ip_to_in_addr(p->ip);
    p->outgoing = true;
    setup_bev(p, bev);
    set_state(p, PEER_CONNECTING);
    p->deadline = clock_mono_s() + PEER_CONNECT_TIMEOUT;
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&sa, sizeof sa) != 0) {
        drop_connection(p);
        return -1;
    }
    log_debug("peer %s: connecting", p->desc);
    return 0;
}

void
peer_mgr_announce_id(peer_mgr_t *m)
{
    /* a connection still in its handshake is told once ready */
    for (peer_t *p = m->conns; p != NULL; p = p->conn_next)
        if (p->state == PEER_READY && hello_is_stale(p))
            tell_id(p);
}

static void
on_accept(evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    (void)salen;
    peer_mgr_t *m = arg;
    muleteerd_t *d = m->d;
    struct sockaddr_in *sin = (struct sockaddr_in *)sa;
    uint32_t ip = net_ip_from_in_addr(sin->sin_addr);
    if (sa->sa_family != AF_INET || ipblock_blocks(d->ipfilter, ip, IPBLOCK_PEER_IN) ||
        peer_mgr_is_banned(m, ip) || !admit_incoming(m, ip)) {
        evutil_closesocket(fd);
        return;
    }
    struct bufferevent *bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        evutil_closesocket(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    peer_t *p = peer_new(m, ip, 0);
    p->outgoing = false;
    setup_bev(p, bev);
    p->obfs_state = OBFS_DETECT;
    set_state(p, PEER_WAIT_HELLO);
    p->deadline = clock_mono_s() + PEER_INCOMING_HELLO_TIMEOUT;
    log_debug("peer %s: incoming connection", p->desc);
}

static struct ev_token_bucket_cfg *
limit_cfg(uint64_t up, uint64_t down)
{
    /* Rates per 100 ms tick; 0 means unlimited. A burst of a second's
     * worth keeps short peaks smooth. */
    struct timeval tick = { 0, 100000 };
    size_t r = down == 0 ? EV_RATE_LIMIT_MAX : (size_t)(down / 10 > 0 ? down / 10 : 1);
    size_t w = up == 0 ? EV_RATE_LIMIT_MAX : (size_t)(up / 10 > 0 ? up / 10 : 1);
    size_t rb = down == 0 ? EV_RATE_LIMIT_MAX : (size_t)(down > r ? down : r);
    size_t wb = up == 0 ? EV_RATE_LIMIT_MAX : (size_t)(up > w ? up : w);
    return ev_token_bucket_cfg_new(r, rb, w, wb, &tick);
}

peer_mgr_t *
peer_mgr_new(muleteerd_t *d)
{
    peer_mgr_t *m = xcalloc(1, sizeof *m);
    m->d = d;
    m->speed = (speedlimit_t){
        .up = (uint64_t)conf_get_int(d->conf, "max_upload") * 1024,
        .down = (uint64_t)conf_get_int(d->conf, "max_download") * 1024,
        .alt_up = (uint64_t)conf_get_int(d->conf, "alt_max_upload") * 1024,
        .alt_down = (uint64_t)conf_get_int(d->conf, "alt_max_download") * 1024,
    };
    char *mode_file = peer_mgr_alt_mode_file(d);
    mt_error_t *err = NULL;
    if (speedlimit_load_mode(mode_file, &m->speed.alt, &err) != 0) {
        log_warn("alternative speed limits: %s; they start off", err->message);
        mt_error_free(err);
    }
    free(mode_file);
    if (m->speed.alt)
        log_info("alternative speed limits in force (saved mode)");
    uint64_t up, down;
    speedlimit_in_force(&m->speed, &up, &down);
    struct ev_token_bucket_cfg *cfg = limit_cfg(up, down);
    m->limits = bufferevent_rate_limit_group_new(d->base, cfg);
    ev_token_bucket_cfg_free(cfg);
    return m;
}

void
peer_mgr_add_handler(peer_mgr_t *m, const peer_handler_t *h)
{
    if (m->n_handlers < PEER_MAX_HANDLERS)
        m->handlers[m->n_handlers++] = *h;
    else
        log_error("peers: more than %d handlers; one ignored", PEER_MAX_HANDLERS);
}

void
peer_mgr_set_callback_requester(peer_mgr_t *m, int (*fn)(void *ctx, uint32_t lowid), void *ctx)
{
    m->request_callback = fn;
    m->request_callback_ctx = ctx;
}

char *
peer_mgr_alt_mode_file(const struct muleteerd *d)
{
    return xasprintf("%s/alt_speed_limits", conf_get_str(d->conf, "state_dir"));
}

void
peer_mgr_set_limits(peer_mgr_t *m, const speedlimit_t *l)
{
    m->speed = *l;
    uint64_t up, down;
    speedlimit_in_force(l, &up, &down);
    struct ev_token_bucket_cfg *cfg = limit_cfg(up, down);
    bufferevent_rate_limit_group_set_cfg(m->limits, cfg);
    ev_token_bucket_cfg_free(cfg);
}

/* apply_own_limits: the connection's own token buckets (NULL: none). */
static void
apply_own_limits(peer_t *p)
{
    if (p->bev == NULL)
        return; /* applied when it connects (setup_bev) */
    if (p->read_limit == 0 && p->write_limit == 0) {
        if (p->own_cfg == NULL)
            return;
        bufferevent_set_rate_limit(p->bev, NULL);
        ev_token_bucket_cfg_free(p->own_cfg);
        p->own_cfg = NULL;
        return;
    }
    struct ev_token_bucket_cfg *cfg = limit_cfg(p->write_limit, p->read_limit);
    bufferevent_set_rate_limit(p->bev, cfg);
    /* libevent keeps cfg while the bufferevent uses it: freed with it */
    ev_token_bucket_cfg_free(p->own_cfg);
    p->own_cfg = cfg;
}

void
peer_set_read_limit(peer_t *p, uint64_t bps)
{
    if (p->read_limit == bps)
        return;
    p->read_limit = bps;
    apply_own_limits(p);
}

void
peer_set_write_limit(peer_t *p, uint64_t bps)
{
    if (p->write_limit == bps)
        return;
    p->write_limit = bps;
    apply_own_limits(p);
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

void
peer_mgr_get_limits(const peer_mgr_t *m, speedlimit_t *l)
{
    *l = m->speed;
}

int
peer_mgr_listen(peer_mgr_t *m, uint16_t port, mt_error_t **err)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    m->listener = listener_new_bind(m->d->base, (struct sockaddr *)&sa, sizeof sa, 128, "peers",
                                    on_accept, m, err);
    if (m->listener == NULL) {
        mt_error_prefix(err, "cannot listen on TCP port %u", port);
        return -1;
    }
    return 0;
}

void
peer_mgr_free(peer_mgr_t *m)
{
    if (m == NULL)
        return;
    listener_free(m->listener);
    while (m->peers != NULL) {
        drop_connection(m->peers);
        peer_free(m->peers);
    }
    bufferevent_rate_limit_group_free(m->limits);
    free(m->bans);
    free(m);
}

void
peer_mgr_tick(peer_mgr_t *m)
{
    time_t now = clock_mono_s();
    peer_t *next;
    for (peer_t *p = m->peers; p != NULL; p = next) {
        next = p->next;
        if ((p->state == PEER_CONNECTING || p->state == PEER_HELLO_SENT ||
             p->state == PEER_WAIT_HELLO) &&
            p->deadline != 0 && now >= p->deadline) {
            peer_close(p, p->state == PEER_CONNECTING ? "connection timed out"
                                                      : "no hello in time");
        } else if (p->state == PEER_READY && now - p->last_activity > PEER_IDLE_TIMEOUT &&
                   peer_out_len(p) == 0) {
            peer_close(p, "idle");
        }
        /* close may have freed nothing, but next is still valid: only this
         * loop frees peers. */
        if (p->state == PEER_DISCONNECTED && p->dl_data == NULL && p->ul_data == NULL)
            peer_free(p);
    }
    /* forget expired bans */
    size_t k = 0;
    for (size_t i = 0; i < m->n_bans; i++)
        if (m->bans[i].until > now)
            m->bans[k++] = m->bans[i];
    m->n_bans = k;
}

size_t
peer_mgr_connections(const peer_mgr_t *m)
{
    return m->n_connected;
}

peer_t *
peer_get(peer_mgr_t *m, uint32_t ip, uint16_t port)
{
    for (peer_t *p = m->peers; p != NULL; p = p->next)
        if (p->ip == ip && p->port == port)
            return p;
    return peer_new(m, ip, port);
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

bool
peer_is_outgoing(const peer_t *p)
{
    return p->outgoing;
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

uint32_t
peer_client_id(const peer_t *p)
{
    return p->client_id;
}

uint16_t
peer_udp_port(const peer_t *p)
{
    return p->udp_port;
}

uint16_t
peer_kad_port(const peer_t *p)
{
    return p->kad_port;
}

const uint8_t *
peer_hash(const peer_t *p)
{
    return p->has_hash ? p->hash : NULL;
}

const char *
peer_name(const peer_t *p)
{
    return p->name != NULL ? p->name : "";
}

const char *
peer_software(const peer_t *p)
{
    return p->software;
}

bool
peer_is_obfuscated(const peer_t *p)
{
    return p->obfs_state == OBFS_ON;
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

struct evbuffer *
peer_out(peer_t *p)
{
    return p->state == PEER_READY ? conn_out(p) : NULL;
}

size_t
peer_out_len(const peer_t *p)
{
    if (p->bev == NULL)
        return 0;
    size_t n = evbuffer_get_length(bufferevent_get_output(p->bev));
    return p->plain_out != NULL ? n + evbuffer_get_length(p->plain_out) : n;
}

void
peer_touch(peer_t *p)
{
    p->last_activity = clock_mono_s();
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
peer_mgr_totals(const peer_mgr_t *m, uint64_t *down, uint64_t *up)
{
    ev_uint64_t r = 0, w = 0;
    bufferevent_rate_limit_group_get_totals(m->limits, &r, &w);
    *down = r;
    *up = w;
}

void *
peer_sec_data(const peer_t *p)
{
    return p->sec_data;
}

void
peer_set_sec_data(peer_t *p, void *data)
{
    p->sec_data = data;
}
