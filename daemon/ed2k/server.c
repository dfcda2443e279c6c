/* server.c: one eD2K server connection: resolve, connect, log in
 * (OP_LOGINREQUEST, §3.1), take the id (OP_IDCHANGE, §3.2), offer shared
 * files and downloads (§3.4), ask sources for downloads and take the
 * answers (§3.6), answer LowID callbacks, and reconnect with the back-off
 * of daemon/ed2k/srvpolicy.c. A server that offers TCP obfuscation is
 * reached on its obfuscation port through the Diffie-Hellman handshake
 * (§9.3, lib/ed2k/obfs_bev: a filter bufferevent, so the rest of this file
 * reads and writes plain packets either way). */
#include "config.h"

#include "daemon/ed2k/server.h"
#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/core/worker.h"
#include "daemon/ed2k/serverlist.h"
#include "daemon/ed2k/srvpolicy.h"
#include "daemon/ed2k/srvround.h"
#include "daemon/net/ipblock.h"
#include "daemon/net/net.h"
#include "daemon/net/peer.h"
#include "daemon/net/resolve.h"
#include "daemon/store/server_tables.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/partfile.h"
#include "daemon/transfer/shared.h"
#include "ed2k/c2s.h"
#include "ed2k/hash.h"
#include "ed2k/obfs_bev.h"
#include "ed2k/packet.h"
#include "ed2k/text.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#define SRV_CONNECT_TIMEOUT 30
#define SRV_LOGIN_TIMEOUT 60
/* OP_GETSOURCES pacing. Each download is asked of our server at most
 * every 800 s (aMule's SERVERREASKTIME; eMule waits 15 min: §3.6, §5.10),
 * counted from the last time it was asked of any server, whatever the
 * sessions in between, so a server that hangs up on a request is not sent
 * it again by each new session. And at most 5 requests at once, then one
 * every 20 s: eMule's average (15 files per TCP frame, then 300 s,
 * `DownloadQueue.cpp` ProcessLocalRequests), spread out, so that no
 * (re)connection brings a burst. */
#define SRV_SOURCES_INTERVAL 800
#define SRV_SOURCES_BURST 5
#define SRV_SOURCES_EVERY 20
#define SRV_ROUND_PAUSE 30         /* first pause after a whole round failed */
#define SRV_OFFER_PER_PACKET 200
#define SRV_MAX_MESSAGES 20
#define SRV_MAX_PAYLOAD 2000000
#define SRV_NEXT_DELAY 2           /* seconds before trying the next server */
#define SRV_UDP_SOURCES_SPACING 5  /* seconds between two servers asked over UDP */
#define SRV_UDP_SOURCES_REASK 1200 /* a server asked again at most every 20 min */

typedef enum {
    SRV_IDLE = 0,
    SRV_RESOLVING,
    SRV_CONNECTING,
    SRV_LOGGING_IN,
    SRV_CONNECTED,
} srv_state_t;

static const char *const state_names[] = { "disconnected", "resolving", "connecting",
                                           "logging in", "connected" };

/* What was asked for one download, kept across sessions (pruned when the
 * download is gone). */
typedef struct src_ask {
    uint8_t hash[16];
    time_t at;                  /* last OP_GETSOURCES to a server (any) */
    srvpol_udp_asked_t udp;     /* the servers asked over UDP */
} src_ask_t;

struct srvconn {
    muleteerd_t *d;
    srv_state_t state;
    char *host;
    uint16_t port;
    uint32_t ip;            /* eD2K form, once resolved */
    bool wanted;            /* keep (re)connecting */
    bool pinned;            /* to host:port only (a manual connect) */
    sl_server_t *cur;       /* its entry in the server list, or NULL */
    srvround_t round;       /* the automatic mode's round of tries (srvround.h) */
    time_t last_tx;         /* monotonic: our last packet to the server */
    time_t next_udp_sources; /* monotonic */
    size_t udp_cursor;       /* the next server to ask over UDP */
    struct bufferevent *bev;  /* what packets go through: sock, or obfs->bev */
    struct bufferevent *sock; /* the socket's (wire bytes) */
    ed2k_obfs_bev_t *obfs;    /* the obfuscation filter, or NULL (plain) */
    bool plain_fallback;      /* the obfuscated attempt failed: plain next */
    uint16_t conn_port;       /* the port connected to */
    time_t deadline, retry_at;
    /* Back-off: each server has its own (sl_server_t.retry); `own` is a
     * copy of the current target's, kept when its entry leaves the list
     * (a pinned server dropped after failures); round.pause pauses the
     * automatic mode after a whole round of failures. Only a session that
     * lasted resets them (srvpol_session_lasted), or a user's connect. */
    srvpol_backoff_t own;
    time_t session_start;   /* monotonic: the login */
    bool session_good;      /* this session lasted or answered */
    uint32_t resolve_gen;
    /* what the server said */
    uint32_t client_id, flags;
    uint32_t users, files;
    char *name, *description;
    char *messages[SRV_MAX_MESSAGES];
    size_t n_messages;
    /* publishing and source requests */
    uint64_t offered_generation;
    size_t offered_downloads;
    src_ask_t *asks;            /* across sessions */
    size_t n_asks;
    srvpol_pace_t pace;         /* OP_GETSOURCES, across sessions */
    srv_search_sink_t sink;     /* where search results go */
};

static void
clear_session(srvconn_t *s)
{
    s->client_id = 0;
    s->flags = 0;
    s->users = s->files = 0;
    free(s->name);
    free(s->description);
    s->name = s->description = NULL;
    s->offered_generation = 0;
    s->offered_downloads = 0;
    s->session_good = false;
    muleteerd_t *d = s->d;
    d->client_id = 0;
    d->server_ip = 0;
    d->server_port = 0;
}

static uint32_t
jitter_seed(void)
{
    uint32_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)random();
    return r;
}

/* backoff_of: the back-off of the current target. */
static srvpol_backoff_t *
backoff_of(srvconn_t *s)
{
    return s->cur != NULL ? &s->cur->retry : &s->own;
}

/* note_failure: the attempt on the current target failed (connect, login,
 * or a session that did not last: `up` seconds after the login, -1 when
 * there was none). Its back-off grows and the list counts a failure; the
 * log says so when the pause grows, not at every attempt once it is at
 * server_retry_max. */
static void
note_failure(srvconn_t *s, const char *why, long up, time_t now)
{
    conf_t *conf = s->d->conf;
    long min = conf_get_int(conf, "server_retry_min"), max = conf_get_int(conf, "server_retry_max");
    srvpol_backoff_t *bo = backoff_of(s);
    bool grew = false;
    long delay = srvpol_fail(bo, min, max, now, jitter_seed(), &grew);
    s->own = *bo;
    char *what = up >= 0 ? xasprintf("%s %lds after the login", why, up) : xstrdup(why);
    bool gone = s->cur != NULL && sl_failed(s->d->serverlist, s->cur, what); /* logs it */
    if (gone)
        s->cur = NULL; /* dropped from the list; bo with it */
    if (gone && !s->pinned) {
        /* nothing more to say: it will not be tried again */
    } else if (grew) {
        log_info("server %s:%u: %s: counted as a failure (%u in a row), next attempt in %lds%s",
                 s->host != NULL ? s->host : "?", s->port, what, s->own.step, delay,
                 srvpol_base(min, max, s->own.step) >= max ? " (the longest pause)" : "");
    } else {
        log_debug("server %s:%u: %s: counted as a failure (%u in a row), next attempt in %lds",
                  s->host != NULL ? s->host : "?", s->port, what, s->own.step, delay);
    }
    free(what);
}

/* earliest_attempt: when the next attempt can be made at the soonest: the
 * pinned server's back-off, else the first server of the list to be out
 * of its back-off (0: now, or nothing to wait for). */
static time_t
earliest_attempt(srvconn_t *s, time_t now)
{
    if (s->pinned)
        return backoff_of(s)->until;
    time_t wait = 0;
    if (sl_pick(s->d->serverlist, NULL, 0, now, &wait) != NULL)
        return 0;
    return wait;
}

/* plan_retry: when to try again after a drop. A failure in automatic mode
 * moves on to the next server soon; after a whole round of failures the
 * connection pauses (SRV_ROUND_PAUSE doubling to server_retry_max). Each
 * server also waits out its own back-off. */
static void
plan_retry(srvconn_t *s, bool failed, time_t now)
{
    serverlist_t *sl = s->d->serverlist;
    s->retry_at = now + SRV_NEXT_DELAY;
    if (failed && !s->pinned) {
        bool grew = false;
        long pause = srvround_failed(&s->round, sl_count(sl), SRV_ROUND_PAUSE,
                                     conf_get_int(s->d->conf, "server_retry_max"), now,
                                     jitter_seed(), &grew);
        if (pause > 0)
            s->retry_at = now + pause;
        if (grew)
            log_info("servers: no server of the list took us; the next round in %lds", pause);
    }
    time_t at = earliest_attempt(s, now);
    if (at > s->retry_at)
        s->retry_at = at;
}

static void start_connect(srvconn_t *s);

/* obfs_fallback: an obfuscated attempt failed before the login: aMule
 * tries the server's plain port next, unless obfuscation is required. */
static bool
obfs_fallback(srvconn_t *s, const char *why, bool retry)
{
    bool support, request, require;
    peer_obfs_settings(s->d, &support, &request, &require);
    if (!retry || !s->wanted || s->obfs == NULL || require ||
        (s->state != SRV_CONNECTING && s->state != SRV_LOGGING_IN))
        return false;
    log_info("server %s:%u: the obfuscated connection (port %u) failed: %s; trying plain",
             s->host, s->port, s->conn_port, why);
    bufferevent_free(s->bev);
    s->bev = s->sock = NULL;
    s->obfs = NULL;
    s->plain_fallback = true;
    start_connect(s);
    return true;
}

/* drop: closes the connection. retry: it failed (or broke) and the next
 * attempt follows (plan_retry), or at once the plain one (obfs_fallback).
 * A session that lasted and then broke is no failure: a new round starts
 * in which that server comes last. */
static void
drop(srvconn_t *s, const char *why, bool retry)
{
    if (obfs_fallback(s, why, retry))
        return;
    if (s->bev != NULL) {
        bufferevent_free(s->bev);
        s->bev = NULL;
    }
    s->sock = NULL;
    s->obfs = NULL;
    time_t now = clock_mono_s();
    bool was_connected = s->state == SRV_CONNECTED;
    bool failed = retry && s->state != SRV_IDLE && !(was_connected && s->session_good);
    long up = was_connected ? (long)(now - s->session_start) : -1;
    if (was_connected)
        bus_publish_srv_lost(s->d->bus,
                             &(bus_server_t){ .host = s->host, .port = s->port, .text = why });
    if (s->state != SRV_IDLE && !failed)
        log_info("server %s:%u: %s", s->host != NULL ? s->host : "?", s->port, why);
    s->state = SRV_IDLE;
    clear_session(s);
    serverlist_t *sl = s->d->serverlist;
    if (s->cur != NULL && was_connected)
        sl_connected(sl, s->cur, false);
    if (was_connected && !failed)
        srvround_restart(&s->round, s->cur);
    if (failed)
        note_failure(s, why, up, now);
    if (retry && s->wanted)
        plan_retry(s, failed, now);
}

/* session_lasted: the session counts as good (srvpol_session_lasted): the
 * back-offs and the server's failures are cleared. */
static void
session_lasted(srvconn_t *s)
{
    if (s->session_good)
        return;
    s->session_good = true;
    if (s->cur != NULL)
        sl_good_session(s->d->serverlist, s->cur);
    srvpol_reset(&s->own);
    srvround_good(&s->round);
    log_debug("server %s:%u: the session is good; back-off cleared", s->host, s->port);
}

/* check_session: a useful answer, or enough time up, makes the session
 * good. */
static void
check_session(srvconn_t *s, time_t now, bool useful)
{
    if (s->state == SRV_CONNECTED && !s->session_good &&
        srvpol_session_lasted(s->session_start, now, conf_get_int(s->d->conf, "server_min_session"),
                              useful))
        session_lasted(s);
}

static void
add_message(srvconn_t *s, const char *line)
{
    if (s->n_messages == SRV_MAX_MESSAGES) {
        free(s->messages[0]);
        memmove(&s->messages[0], &s->messages[1], (SRV_MAX_MESSAGES - 1) * sizeof s->messages[0]);
        s->n_messages--;
    }
    s->messages[s->n_messages++] = xstrdup(line);
}

/* ------------------------------------------------------------ publishing */

static void
offer_files(srvconn_t *s)
{
    muleteerd_t *d = s->d;
    size_t n_shared = shared_count(d->shared), n_dl = dlq_count(d->downloads);
    ed2k_offer_t *offers = xcalloc(n_shared + n_dl + 1, sizeof *offers);
    size_t n = 0;
    for (size_t i = 0; i < n_shared; i++) {
        shared_file_t *f = shared_get(d->shared, i);
        if (shared_is_withheld(d->shared, f->hash))
            continue; /* its sharing was stopped */
        memcpy(offers[n].hash, f->hash, 16);
        offers[n].name = f->name;
        offers[n].size = f->size;
        offers[n].complete = true;
        offers[n].type = ed2k_filetype_for_name(f->name);
        n++;
    }
    for (size_t i = 0; i < n_dl; i++) {
        partfile_t *pf = dl_partfile(dlq_get(d->downloads, i));
        memcpy(offers[n].hash, pf_hash(pf), 16);
        offers[n].name = pf_name(pf);
        offers[n].size = pf_size(pf);
        offers[n].complete = false;
        offers[n].type = ed2k_filetype_for_name(pf_name(pf));
        n++;
    }
    /* Within the server's limits (from its UDP status): the soft limit is
     * what it wants at most, the hard one what it accepts at most. */
    size_t limit = SIZE_MAX;
    if (s->cur != NULL && s->cur->soft_files > 0)
        limit = s->cur->soft_files;
    else if (s->cur != NULL && s->cur->hard_files > 0)
        limit = s->cur->hard_files;
    if (n > limit) {
        log_info("server: offering %zu of %zu files (the server's limit)", limit, n);
        n = limit;
    }
    struct evbuffer *out = bufferevent_get_output(s->bev);
    uint16_t port = (uint16_t)conf_get_int(d->conf, "tcp_port");
    size_t total = 0;
    for (size_t off = 0; off < n || off == 0; off += SRV_OFFER_PER_PACKET) {
        size_t chunk = n - off < SRV_OFFER_PER_PACKET ? n - off : SRV_OFFER_PER_PACKET;
        struct evbuffer *payload = evbuffer_new();
        size_t written = 0;
        mt_error_t *err = NULL;
        if (ed2k_offerfiles_payload(payload, offers + off, chunk, s->flags, s->client_id, port,
                                    &written, &err) != 0) {
            log_error("server: cannot encode the file offer: %s", err->message);
            mt_error_free(err);
            evbuffer_free(payload);
            break;
        }
        total += written;
        size_t len = evbuffer_get_length(payload);
        ed2k_packet_t *pkt =
            ed2k_packet_new(ED2K_PROTO_EDONKEY, ED2K_SOP_OFFERFILES, evbuffer_pullup(payload, -1), len);
        evbuffer_free(payload);
        if (s->flags & ED2K_SRV_TCPFLG_COMPRESSION)
            ed2k_packet_pack(pkt, ED2K_INFLATE_LIMIT_SERVER);
        ed2k_packet_write(out, pkt, NULL);
        ed2k_packet_free(pkt);
        if (n == 0)
            break;
    }
    free(offers);
    s->offered_generation = shared_generation(d->shared);
    s->offered_downloads = n_dl;
    log_info("server: offered %zu file(s)", total);
}

/* -------------------------------------------------------------- sources */

static src_ask_t *
ask_of(srvconn_t *s, const uint8_t hash[16])
{
    for (size_t i = 0; i < s->n_asks; i++)
        if (memcmp(s->asks[i].hash, hash, 16) == 0)
            return &s->asks[i];
    s->asks = xreallocarray(s->asks, s->n_asks + 1, sizeof *s->asks);
    src_ask_t *a = &s->asks[s->n_asks++];
    memset(a, 0, sizeof *a);
    memcpy(a->hash, hash, 16);
    return a;
}

/* prune_asks: forgets what was asked for downloads that are gone. */
static void
prune_asks(srvconn_t *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n_asks; i++)
        if (dlq_find(s->d->downloads, s->asks[i].hash) != NULL)
            s->asks[k++] = s->asks[i];
    s->n_asks = k;
}

/* ask_sources: OP_GETSOURCES (§3.6) for the active downloads that are
 * due, within the pace (SRV_SOURCES_*). */
static void
ask_sources(srvconn_t *s)
{
    muleteerd_t *d = s->d;
    time_t now = clock_mono_s();
    srvpol_pace_t probe = s->pace;
    if (!srvpol_pace_take(&probe, now, SRV_SOURCES_EVERY, SRV_SOURCES_BURST))
        return; /* nothing may be sent now: no need to look */
    struct evbuffer *out = bufferevent_get_output(s->bev);
    /* OP_GETSOURCES_OBFU, answered with the sources' crypt options and user
     * hashes, when the server knows it and we obfuscate (§2.4) */
    bool support, request, require;
    peer_obfs_settings(d, &support, &request, &require);
    bool obfu = support && (s->flags & ED2K_SRV_TCPFLG_TCPOBFUSCATION);
    for (size_t i = 0; i < dlq_count(d->downloads); i++) {
        partfile_t *pf = dl_partfile(dlq_get(d->downloads, i));
        if (pf_state(pf) != PF_STATE_ACTIVE || pf_is_complete(pf))
            continue;
        if (pf_size(pf) > 0xFFFFFFFFu && !(s->flags & ED2K_SRV_TCPFLG_LARGEFILES))
            continue;
        src_ask_t *a = ask_of(s, pf_hash(pf));
        if (!srvpol_reask_due(a->at, now, SRV_SOURCES_INTERVAL))
            continue;
        if (!srvpol_pace_take(&s->pace, now, SRV_SOURCES_EVERY, SRV_SOURCES_BURST))
            break;
        a->at = now;
        ed2k_getsources_encode(out, pf_hash(pf), pf_size(pf), obfu);
    }
    if (s->n_asks > dlq_count(d->downloads) + 64)
        prune_asks(s);
}

/* take_sources: sources a server found; over UDP (another server than
 * ours) only HighIDs are any use. */
static void
take_sources(srvconn_t *s, const ed2k_foundsources_t *fs, bool udp)
{
    muleteerd_t *d = s->d;
    download_t *dl = dlq_find(d->downloads, fs->hash);
    if (dl == NULL)
        return;
    size_t added = 0, lowids = 0;
    for (size_t i = 0; i < fs->count; i++) {
        uint32_t id = fs->sources[i].id;
        if (net_is_lowid(id)) {
            /* reachable only through a callback from this server, and not
             * at all when we are a LowID too (§3.6) */
            lowids++;
            if (udp || id == s->client_id || net_is_lowid(s->client_id))
                continue;
        }
        dl_src_verdict_t v = dl_add_source(dl, id, fs->sources[i].port);
        added += v == DL_SRC_ADDED;
        if ((v == DL_SRC_ADDED || v == DL_SRC_KNOWN) && fs->sources[i].has_hash)
            peer_set_crypt(peer_get(d->peers, id, fs->sources[i].port), fs->sources[i].cryptopts,
                           fs->sources[i].user_hash);
    }
    log_info("server: %zu source(s) for %s: %zu new, %zu LowID", fs->count,
             pf_name(dl_partfile(dl)), added, lowids);
}

/* ------------------------------------------------------------- receiving */

static int
handle(srvconn_t *s, ed2k_packet_t *pkt, mt_error_t **err)
{
    muleteerd_t *d = s->d;
    if (pkt->proto == ED2K_PROTO_PACKED) {
        if (ed2k_packet_unpack(pkt, ED2K_INFLATE_LIMIT_SERVER, err) != 0)
            return -1;
        pkt->proto = ED2K_PROTO_EDONKEY; /* a server's packed packets are 0xE3 (§1.1) */
    }
    if (pkt->proto != ED2K_PROTO_EDONKEY)
        return 0;
    switch (pkt->opcode) {
    case ED2K_SOP_SERVERMESSAGE: {
        const uint8_t *text;
        size_t len, ulen;
        if (ed2k_servermessage_decode(pkt->payload, pkt->len, &text, &len, err) != 0)
            return -1;
        char *u = ed2k_text_to_utf8(text, len, &ulen);
        char *save = NULL;
        for (char *line = strtok_r(u, "\r\n", &save); line != NULL;
             line = strtok_r(NULL, "\r\n", &save)) {
            /* no control characters reach the logs or the database */
            for (char *c = line; *c != '\0'; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7F)
                    *c = ' ';
            if (strlen(line) > 1024)
                line[1024] = '\0';
            const char *level = "info";
            if (strncasecmp(line, "ERROR", 5) == 0) {
                level = "error";
                log_warn("server %s:%u says: %s", s->host, s->port, line);
            } else if (strncasecmp(line, "WARNING", 7) == 0) {
                level = "warning";
                log_warn("server %s:%u says: %s", s->host, s->port, line);
            } else {
                log_info("server message: %s", line);
            }
            char dynip[64];
            if (s->cur != NULL && ed2k_servermessage_dynip(line, dynip, sizeof dynip) == 0)
                sl_set_dynip(d->serverlist, s->cur, dynip);
            if (strncasecmp(line, "server version", 14) == 0 && s->cur != NULL) {
                const char *v = line + 14;
                while (*v == ' ' || *v == ':')
                    v++;
                free(s->cur->version);
                s->cur->version = xstrdup(v);
            }
            add_message(s, line);
            store_server_message(d->db, conf_get_str(d->conf, "node_name"), s->host, s->port,
                                 level, line);
            bus_publish_srv_message(d->bus, &(bus_server_t){ .host = s->host,
                                                             .port = s->port,
                                                             .text = line });
        }
        free(u);
        return 0;
    }
    case ED2K_SOP_IDCHANGE: {
        ed2k_idchange_t id;
        if (ed2k_idchange_decode(pkt->payload, pkt->len, &id, err) != 0)
            return -1;
        if (id.id == 0) {
            mt_error_set(err, MT_ERR_PROTOCOL, "the server refused the login (id 0)");
            return -1;
        }
        bool first = s->state != SRV_CONNECTED;
        if (id.has_reported_ip && id.obfuscation_port != 0 && id.obfuscation_port <= 0xFFFF &&
            s->cur != NULL)
            s->cur->obfu_tcp_port = (uint16_t)id.obfuscation_port;
        s->plain_fallback = false;
        s->client_id = id.id;
        s->flags = id.has_flags ? id.flags : 0;
        s->state = SRV_CONNECTED;
        if (first) {
            s->session_start = clock_mono_s();
            s->session_good = false;
        }
        d->client_id = id.id;
        d->server_ip = s->ip;
        d->server_port = s->port;
        peer_mgr_announce_id(d->peers);
        if (!net_is_lowid(id.id))
            d->public_ip = id.id;
        else if (id.has_reported_ip)
            d->public_ip = id.reported_ip;
        char ip[16];
        log_info("server %s:%u: connected with %s %u%s%s%s", s->host, s->port,
                 net_is_lowid(id.id) ? "LowID" : "HighID", id.id,
                 net_is_lowid(id.id) ? "" : " = ", net_is_lowid(id.id) ? "" : net_ip_str(id.id, ip),
                 s->obfs != NULL ? " (obfuscated)" : "");
        if (first) {
            bus_publish_srv_connected(d->bus, &(bus_server_t){ .host = s->host,
                                                               .port = s->port,
                                                               .client_id = id.id });
            srvround_restart(&s->round, NULL);
            if (s->cur != NULL) {
                s->cur->tcp_flags = s->flags;
                if (s->cur->ip == 0)
                    s->cur->ip = s->ip;
                sl_connected(d->serverlist, s->cur, true);
            }
            if (conf_get_bool(d->conf, "server_update_list"))
                ed2k_packet_append(bufferevent_get_output(s->bev), ED2K_PROTO_EDONKEY,
                                   ED2K_SOP_GETSERVERLIST, NULL, 0, NULL);
            offer_files(s);
        }
        return 0;
    }
    case ED2K_SOP_SERVERSTATUS:
        if (ed2k_serverstatus_decode(pkt->payload, pkt->len, &s->users, &s->files, err) != 0)
            return -1;
        if (s->cur != NULL) {
            s->cur->users = s->users;
            s->cur->files = s->files;
            sl_changed(d->serverlist);
        }
        return 0;
    case ED2K_SOP_SERVERIDENT: {
        ed2k_serverident_t si;
        if (ed2k_serverident_decode(pkt->payload, pkt->len, &si, err) != 0)
            return -1;
        free(s->name);
        free(s->description);
        s->name = si.name;
        s->description = si.description;
        si.name = si.description = NULL;
        ed2k_serverident_clear(&si);
        if (s->cur != NULL) {
            free(s->cur->name);
            free(s->cur->description);
            s->cur->name = s->name != NULL ? xstrdup(s->name) : NULL;
            s->cur->description = s->description != NULL ? xstrdup(s->description) : NULL;
            sl_changed(d->serverlist);
        }
        return 0;
    }
    case ED2K_SOP_SERVERLIST: {
        ed2k_serverlist_t list;
        if (ed2k_serverlist_decode(pkt->payload, pkt->len, &list, err) != 0)
            return -1;
        size_t added = 0;
        for (size_t i = 0; i < list.count && conf_get_bool(d->conf, "server_update_list"); i++) {
            char ip[16];
            bool is_new = false;
            if (list.ips[i] == 0 || (net_is_reserved(list.ips[i]) && !net_is_reserved(s->ip)) ||
                ipblock_blocks(d->ipfilter, list.ips[i], IPBLOCK_SERVER))
                continue;
            if (sl_add(d->serverlist, net_ip_str(list.ips[i], ip), list.ports[i], "server list",
                       &is_new, NULL) != NULL && is_new)
                added++;
        }
        log_info("server %s:%u: a list of %zu server(s), %zu new", s->host, s->port, list.count,
                 added);
        ed2k_serverlist_clear(&list);
        return 0;
    }
    case ED2K_SOP_FOUNDSOURCES:
    case ED2K_SOP_FOUNDSOURCES_OBFU: {
        ed2k_foundsources_t fs;
        if (ed2k_foundsources_decode(pkt->payload, pkt->len,
                                     pkt->opcode == ED2K_SOP_FOUNDSOURCES_OBFU, &fs, err) != 0)
            return -1;
        take_sources(s, &fs, false);
        ed2k_foundsources_clear(&fs);
        check_session(s, clock_mono_s(), true);
        return 0;
    }
    case ED2K_SOP_CALLBACKREQUESTED: {
        ed2k_callbackrequested_t cr;
        if (ed2k_callbackrequested_decode(pkt->payload, pkt->len, &cr, err) != 0)
            return -1;
        /* A client wants something from us, a LowID: connect to it. */
        char ip[16];
        log_info("server: callback requested by %s:%u", net_ip_str(cr.ip, ip), cr.port);
        peer_t *p = peer_get(d->peers, cr.ip, cr.port);
        if (cr.has_crypt)
            peer_set_crypt(p, cr.cryptopts, cr.user_hash);
        if (peer_connect(p) != 0)
            log_info("server: cannot call back %s:%u now", ip, cr.port);
        return 0;
    }
    case ED2K_SOP_SEARCHRESULT:
        if (s->sink.tcp_result != NULL)
            s->sink.tcp_result(s->sink.ctx, pkt->payload, pkt->len);
        check_session(s, clock_mono_s(), true);
        return 0;
    case ED2K_SOP_CALLBACK_FAIL:
        log_info("server: a callback failed");
        return 0;
    case ED2K_SOP_REJECT:
        log_warn("server: the server rejected our last command");
        return 0;
    }
    log_debug("server: ignoring opcode 0x%02x", pkt->opcode);
    return 0;
}

static void
on_read(struct bufferevent *bev, void *arg)
{
    srvconn_t *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        ed2k_packet_t *pkt = NULL;
        mt_error_t *err = NULL;
        ed2k_frame_status_t st = ed2k_packet_decode_evbuffer(in, SRV_MAX_PAYLOAD, &pkt, &err);
        if (st == ED2K_FRAME_NEED_MORE)
            return;
        if (st == ED2K_FRAME_ERROR || handle(s, pkt, &err) != 0) {
            char *why = xasprintf("protocol error: %s", err != NULL ? err->message : "?");
            mt_error_free(err);
            ed2k_packet_free(pkt);
            drop(s, why, true);
            free(why);
            return;
        }
        ed2k_packet_free(pkt);
        if (s->bev != bev)
            return;
    }
}

static void
send_login(srvconn_t *s)
{
    muleteerd_t *d = s->d;
    /* Only what Muleteer does: zlib-packed packets, new tags, Unicode,
     * large files, peer obfuscation as set (§2.4). No aux port. */
    uint32_t caps = ED2K_SRVCAP_ZLIB | ED2K_SRVCAP_NEWTAGS | ED2K_SRVCAP_UNICODE |
                    ED2K_SRVCAP_LARGEFILES;
    bool support, request, require;
    peer_obfs_settings(d, &support, &request, &require);
    caps |= (support ? ED2K_SRVCAP_SUPPORTCRYPT : 0) | (request ? ED2K_SRVCAP_REQUESTCRYPT : 0) |
            (require ? ED2K_SRVCAP_REQUIRECRYPT : 0);
    uint32_t version = (uint32_t)0x4D << 24 | 0u << 17 | 1u << 10 | 0u << 7;
    mt_error_t *err = NULL;
    if (ed2k_login_encode(bufferevent_get_output(s->bev), d->userhash, 0,
                          (uint16_t)conf_get_int(d->conf, "tcp_port"),
                          conf_get_str(d->conf, "nickname"), caps, version, &err) != 0) {
        log_error("server: cannot encode the login: %s", err->message);
        mt_error_free(err);
    }
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    srvconn_t *s = arg;
    if (what & BEV_EVENT_CONNECTED) {
        s->state = SRV_LOGGING_IN;
        s->deadline = clock_mono_s() + SRV_LOGIN_TIMEOUT;
        /* A silent dead connection (a server or route gone without a
         * FIN or RST): TCP keepalive probes after server_dead_timeout of
         * quiet, and unacknowledged data (our periodic keepalive offer)
         * fails the socket after server_dead_timeout. */
        evutil_socket_t fd = bufferevent_getfd(s->sock);
        long dead = conf_get_int(s->d->conf, "server_dead_timeout");
        int one = 1, idle = (int)dead, intvl = (int)(dead >= 8 ? dead / 4 : 2), cnt = 4;
        unsigned int user_timeout = (unsigned int)dead * 1000;
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
        s->last_tx = clock_mono_s();
        send_login(s);
        return;
    }
    if (what & BEV_EVENT_EOF) {
        drop(s, "the server closed the connection", true);
    } else if ((what & BEV_EVENT_ERROR) && s->obfs != NULL && s->obfs->failed) {
        char *why = xstrdup(s->obfs->error);
        drop(s, why, true);
        free(why);
    } else if (what & BEV_EVENT_ERROR) {
        drop(s, strerror(EVUTIL_SOCKET_ERROR()), true);
    }
}

/* count_in, count_out: the server connection's bytes (traffic.h): what
 * arrives in the input buffer, what leaves the output buffer for the
 * socket. */
static void
count_in(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
    (void)b;
    muleteerd_t *d = arg;
    d->traffic.server[TRAFFIC_IN] += info->n_added;
}

static void
count_out(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
    (void)b;
    muleteerd_t *d = arg;
    d->traffic.server[TRAFFIC_OUT] += info->n_deleted;
}

/* obfs_choice: whether this attempt obfuscates (srvpol_obfs_choose). */
static srvpol_obfs_t
obfs_choice(const srvconn_t *s)
{
    srvpol_obfs_in_t in = { .plain_fallback = s->plain_fallback };
    peer_obfs_settings(s->d, &in.support, &in.request, &in.require);
    if (s->cur != NULL) {
        in.obfu_tcp_port = s->cur->obfu_tcp_port;
        in.tcp_flags = s->cur->tcp_flags;
        in.udp_flags = s->cur->udp_flags;
    }
    return srvpol_obfs_choose(&in);
}

/* obfs_wrap: the filter for the handshake's client side on sock. */
static ed2k_obfs_bev_t *
obfs_wrap(struct bufferevent *sock)
{
    uint8_t secret[16], b[2];
    ed2k_obfs_random_t rnd;
    memset(&rnd, 0, sizeof rnd);
    if (mt_random_bytes(secret, sizeof secret, NULL) != 0 || mt_random_bytes(b, sizeof b, NULL) != 0 ||
        mt_random_bytes(rnd.pad, 15, NULL) != 0) {
        memset(secret, 0x5a, sizeof secret); /* getrandom failing: fixed, still valid */
        memset(b, 0x5a, sizeof b);
    }
    rnd.marker = ed2k_obfs_is_plain_marker(b[0]) ? (uint8_t)(b[0] ^ 0x01) : b[0];
    rnd.pad_len = (uint8_t)(b[1] % 16);
    return ed2k_obfs_bev_client(sock, secret, &rnd);
}

static void
start_connect(srvconn_t *s)
{
    muleteerd_t *d = s->d;
    srvpol_obfs_t how = obfs_choice(s);
    if (how == SRVPOL_OBFS_REFUSE) {
        drop(s, "not connecting: obfuscation is required and the server does not offer it", true);
        return;
    }
    s->sock = bufferevent_socket_new(d->base, -1, BEV_OPT_CLOSE_ON_FREE);
    evbuffer_add_cb(bufferevent_get_input(s->sock), count_in, d);
    evbuffer_add_cb(bufferevent_get_output(s->sock), count_out, d);
    s->obfs = how == SRVPOL_OBFS_USE ? obfs_wrap(s->sock) : NULL;
    s->bev = s->obfs != NULL ? s->obfs->bev : s->sock;
    s->conn_port = s->obfs != NULL ? s->cur->obfu_tcp_port : s->port;
    if (s->obfs != NULL)
        log_info("server %s:%u: connecting obfuscated to port %u", s->host, s->port, s->conn_port);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(s->conn_port) };
    sa.sin_addr = net_ip_to_in_addr(s->ip);
    bufferevent_setcb(s->bev, on_read, NULL, on_event, s);
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
    s->state = SRV_CONNECTING;
    s->deadline = clock_mono_s() + SRV_CONNECT_TIMEOUT;
    if (bufferevent_socket_connect(s->sock, (struct sockaddr *)&sa, sizeof sa) != 0)
        drop(s, "cannot connect", true);
}

/* ------------------------------------------------------------ resolving */

typedef struct {
    srvconn_t *s;
    uint32_t gen;
} resolving_t;

static void
resolved(void *ctx, uint32_t ip, const char *error)
{
    resolving_t *r = ctx;
    srvconn_t *s = r->s;
    if (r->gen == s->resolve_gen && s->state == SRV_RESOLVING) {
        if (error != NULL) {
            char *why = xasprintf("cannot resolve %s: %s", s->host, error);
            drop(s, why, true);
            free(why);
        } else if (ipblock_blocks(s->d->ipfilter, ip, IPBLOCK_SERVER)) {
            /* aMule refuses a filtered server the same way (IsFiltered
             * with isServer) */
            char *why = xasprintf("%s is in the IP filter", s->host);
            drop(s, why, true);
            free(why);
        } else {
            s->ip = ip;
            start_connect(s);
        }
    }
    free(r);
}

static void
begin(srvconn_t *s)
{
    s->state = SRV_RESOLVING;
    s->resolve_gen++;
    resolving_t *r = xcalloc(1, sizeof *r);
    r->s = s;
    r->gen = s->resolve_gen;
    resolve_ipv4(s->d->workers, s->host, resolved, r);
}

/* ------------------------------------------------------------------ API */

/* forget: the server list is about to free entry e. */
static void
forget(void *ctx, const sl_server_t *e)
{
    srvconn_t *s = ctx;
    if (s->cur == e)
        s->cur = NULL;
    srvround_forget(&s->round, e);
    for (size_t i = 0; i < s->n_asks; i++)
        srvpol_udp_forget(&s->asks[i].udp, e);
}

/* on_udp: the server list's UDP socket heard a server: search results (for
 * the search sink) or sources. */
static void
on_udp(void *ctx, sl_server_t *from, uint8_t opcode, const uint8_t *payload, size_t len)
{
    srvconn_t *s = ctx;
    if (opcode == ED2K_SOP_GLOBSEARCHRES) {
        if (s->sink.udp_result != NULL)
            s->sink.udp_result(s->sink.ctx, from, payload, len);
    } else if (opcode == ED2K_SOP_GLOBFOUNDSOURCES) {
        ed2k_foundsources_t *fs = NULL;
        size_t n = 0;
        mt_error_t *err = NULL;
        if (ed2k_globfoundsources_decode(payload, len, &fs, &n, &err) != 0) {
            log_debug("server %s:%u: bad UDP sources: %s", from->address, from->port, err->message);
            mt_error_free(err);
            return;
        }
        for (size_t i = 0; i < n; i++)
            take_sources(s, &fs[i], true);
        ed2k_globfoundsources_free(fs, n);
    } else {
        log_debug("server %s:%u: UDP opcode 0x%02x ignored", from->address, from->port, opcode);
    }
}

/* request_callback: OP_CALLBACKREQUEST for a LowID source (§3.6), on
 * behalf of the peers. */
static int
request_callback(void *ctx, uint32_t lowid)
{
    srvconn_t *s = ctx;
    if (s->state != SRV_CONNECTED || net_is_lowid(s->client_id) || !net_is_lowid(lowid))
        return -1;
    ed2k_callbackrequest_encode(bufferevent_get_output(s->bev), lowid);
    s->last_tx = clock_mono_s();
    log_info("server: asking LowID %u to call us back", lowid);
    return 0;
}

srvconn_t *
srv_new(muleteerd_t *d)
{
    srvconn_t *s = xcalloc(1, sizeof *s);
    s->d = d;
    /* Automatic: the best server of the list, then the next. */
    s->wanted = conf_get_bool(d->conf, "server_autoconnect");
    s->retry_at = 0;
    /* the peers reach a LowID source through us (§3.6); the server list's
     * UDP socket hands us what servers send it; we forget what it frees */
    peer_mgr_set_callback_requester(d->peers, request_callback, s);
    sl_set_udp_listener(d->serverlist, on_udp, s);
    sl_set_forget_hook(d->serverlist, forget, s);
    return s;
}

void
srv_free(srvconn_t *s)
{
    if (s == NULL)
        return;
    s->wanted = false;
    drop(s, "shutting down", false);
    for (size_t i = 0; i < s->n_messages; i++)
        free(s->messages[i]);
    free(s->asks);
    free(s->host);
    free(s);
}

/* set_target: the server to try next (its list entry, or host:port). */
static void
set_target(srvconn_t *s, sl_server_t *e, const char *host, uint16_t port)
{
    char *h = xstrdup(e != NULL ? e->address : host);
    free(s->host);
    s->host = h;
    s->port = e != NULL ? e->port : port;
    s->cur = e;
    s->plain_fallback = false;
}

int
srv_connect(srvconn_t *s, const char *host, uint16_t port, mt_error_t **err)
{
    if (host == NULL || *host == '\0' || strlen(host) > 255 || port == 0) {
        mt_error_set(err, MT_ERR_INVALID, "a server needs a host and a port");
        return -1;
    }
    sl_server_t *e = sl_add(s->d->serverlist, host, port, "user", NULL, err);
    if (e == NULL)
        return -1;
    drop(s, "connecting elsewhere", false);
    set_target(s, e, host, port);
    s->wanted = true;
    s->pinned = true;
    /* the user's word: now, whatever the back-off, which a failure then
     * continues */
    s->own = e->retry;
    srvround_good(&s->round);
    begin(s);
    return 0;
}

int
srv_connect_auto(srvconn_t *s, mt_error_t **err)
{
    if (sl_count(s->d->serverlist) == 0) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "the server list is empty: add or import servers first");
        return -1;
    }
    if (s->state != SRV_IDLE && !s->pinned)
        return 0; /* already on it */
    drop(s, "connecting to the best server", false);
    s->wanted = true;
    s->pinned = false;
    srvround_good(&s->round);
    srvround_restart(&s->round, NULL);
    s->retry_at = 0;
    return 0;
}

void
srv_set_autoconnect(srvconn_t *s, bool on)
{
    if (!on || s->wanted)
        return;
    mt_error_t *err = NULL;
    if (srv_connect_auto(s, &err) != 0) {
        log_info("server: not connecting: %s", err->message);
        mt_error_free(err);
    }
}

void
srv_disconnect(srvconn_t *s)
{
    s->wanted = false;
    drop(s, "disconnected on request", false);
}

int
srv_search(srvconn_t *s, const uint8_t *tree, size_t len)
{
    if (s->state != SRV_CONNECTED)
        return -1;
    ed2k_packet_append(bufferevent_get_output(s->bev), ED2K_PROTO_EDONKEY,
                       ED2K_SOP_SEARCHREQUEST, tree, len, NULL);
    s->last_tx = clock_mono_s();
    return 0;
}

int
srv_search_more(srvconn_t *s)
{
    if (s->state != SRV_CONNECTED)
        return -1;
    ed2k_packet_append(bufferevent_get_output(s->bev), ED2K_PROTO_EDONKEY,
                       ED2K_SOP_QUERY_MORE_RESULT, NULL, 0, NULL);
    s->last_tx = clock_mono_s();
    return 0;
}

const sl_server_t *
srv_current(const srvconn_t *s)
{
    return s->state != SRV_IDLE ? s->cur : NULL;
}

uint32_t
srv_tcp_flags(const srvconn_t *s)
{
    return s->state == SRV_CONNECTED ? s->flags : 0;
}

/* next_target: the server to try now: the pinned one once its back-off
 * is over; in automatic mode the best one not yet tried in this round and
 * out of its back-off, or, when no untried one is, a new round among
 * those that are. False when there is none to try now (retry_at then says
 * when there will be, if that is known). */
static bool
next_target(srvconn_t *s, time_t now)
{
    if (s->pinned && s->host != NULL) {
        const srvpol_backoff_t *bo = backoff_of(s);
        if (srvpol_ready(bo, now))
            return true;
        s->retry_at = bo->until;
        return false;
    }
    size_t n = 0;
    sl_server_t *const *v = sl_servers(s->d->serverlist, &n);
    time_t wait = 0;
    sl_server_t *e = srvround_next(&s->round, v, n, now, &wait);
    if (e == NULL) {
        if (wait != 0)
            s->retry_at = wait;
        return false;
    }
    set_target(s, e, NULL, 0);
    s->own = e->retry;
    return true;
}

/* udp_sources: every few seconds, one other server (in turn) gets the
 * hashes of the active downloads it was not asked for in the last 20
 * minutes, over UDP (OP_GLOBGETSOURCES(2), §4), in the batches its flags
 * allow. Not our own server (it has OP_GETSOURCES), nor failing ones. */
static void
udp_sources(srvconn_t *s, time_t now)
{
    if (now < s->next_udp_sources)
        return;
    s->next_udp_sources = now + SRV_UDP_SOURCES_SPACING;
    muleteerd_t *d = s->d;
    serverlist_t *sl = d->serverlist;
    size_t cap = dlq_count(d->downloads), count = sl_count(sl);
    if (cap == 0 || count == 0)
        return;
    uint8_t(*hashes)[16] = xcalloc(cap, sizeof *hashes);
    uint64_t *sizes = xcalloc(cap, sizeof *sizes);
    size_t *asks = xcalloc(cap, sizeof *asks); /* indexes: s->asks may move */
    for (size_t tries = 0; tries < count; tries++) {
        sl_server_t *e = sl_get(sl, s->udp_cursor++ % count);
        if (e == s->cur || e->ip == 0 || e->failures > 0)
            continue;
        size_t n = 0;
        for (size_t i = 0; i < cap; i++) {
            partfile_t *pf = dl_partfile(dlq_get(d->downloads, i));
            if (pf_state(pf) != PF_STATE_ACTIVE || pf_is_complete(pf))
                continue;
            src_ask_t *a = ask_of(s, pf_hash(pf));
            if (!srvpol_udp_due(&a->udp, e, now, SRV_UDP_SOURCES_REASK))
                continue;
            memcpy(hashes[n], pf_hash(pf), 16);
            sizes[n] = pf_size(pf);
            asks[n++] = (size_t)(a - s->asks);
        }
        if (n == 0)
            continue;
        size_t off = 0, datagrams = 0;
        while (off < n && datagrams < 20) {
            struct evbuffer *b = evbuffer_new();
            size_t used = 0;
            size_t put = ed2k_globgetsources_encode(b, (const uint8_t(*)[16])hashes + off,
                                                    sizes + off, n - off, e->udp_flags, &used);
            if (put > 0)
                sl_udp_send(sl, e, evbuffer_pullup(b, -1), evbuffer_get_length(b));
            evbuffer_free(b);
            if (used == 0)
                break;
            for (size_t i = off; i < off + used; i++)
                srvpol_udp_mark(&s->asks[asks[i]].udp, e, now);
            off += used;
            datagrams++;
        }
        log_info("server %s:%u: asked for sources of %zu file(s) over UDP", e->address, e->port,
                 off);
        break; /* one server per turn */
    }
    free(hashes);
    free(sizes);
    free(asks);
}

static void
keepalive(srvconn_t *s, time_t now)
{
    long every = conf_get_int(s->d->conf, "server_keepalive");
    if (every <= 0 || now - s->last_tx < every)
        return;
    /* an empty OP_OFFERFILES, as eMule's keep-alive (§3.4) */
    static const uint8_t empty[4] = { 0, 0, 0, 0 };
    ed2k_packet_append(bufferevent_get_output(s->bev), ED2K_PROTO_EDONKEY, ED2K_SOP_OFFERFILES,
                       empty, sizeof empty, NULL);
    s->last_tx = now;
}

void
srv_tick(srvconn_t *s)
{
    time_t now = clock_mono_s();
    switch (s->state) {
    case SRV_IDLE:
        if (s->wanted && now >= s->retry_at && next_target(s, now))
            begin(s);
        return;
    case SRV_CONNECTING:
    case SRV_LOGGING_IN:
        if (now >= s->deadline)
            drop(s, s->state == SRV_CONNECTING ? "connection timed out" : "no answer to the login",
                 true);
        return;
    case SRV_RESOLVING:
        return;
    case SRV_CONNECTED: {
        size_t before = evbuffer_get_length(bufferevent_get_output(s->bev));
        if (shared_generation(s->d->shared) != s->offered_generation ||
            dlq_count(s->d->downloads) != s->offered_downloads)
            offer_files(s);
        ask_sources(s);
        if (evbuffer_get_length(bufferevent_get_output(s->bev)) != before)
            s->last_tx = now;
        keepalive(s, now);
        udp_sources(s, now);
        check_session(s, now, false);
        return;
    }
    }
}

bool
srv_reannounce(srvconn_t *s, const uint8_t hash[16])
{
    src_ask_t *a = ask_of(s, hash);
    a->at = 0; /* due now: the next request within the pace asks it */
    if (s->state != SRV_CONNECTED)
        return false;
    ask_sources(s);
    return true;
}

bool
srv_is_connected(const srvconn_t *s)
{
    return s->state == SRV_CONNECTED;
}

json_object *
srv_to_json(const srvconn_t *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "state", json_object_new_string(state_names[s->state]));
    json_object_object_add(o, "host", s->host != NULL ? json_object_new_string(s->host) : NULL);
    json_object_object_add(o, "port", json_object_new_int(s->port));
    if (s->state == SRV_IDLE && s->wanted) {
        time_t now = clock_mono_s();
        json_object_object_add(o, "retry_in",
                               json_object_new_int64(s->retry_at > now ? s->retry_at - now : 0));
    }
    if (s->state == SRV_CONNECTED) {
        json_object_object_add(o, "client_id", json_object_new_int64(s->client_id));
        json_object_object_add(o, "lowid", json_object_new_boolean(net_is_lowid(s->client_id)));
        json_object_object_add(o, "name", s->name != NULL ? json_object_new_string(s->name) : NULL);
        json_object_object_add(o, "users", json_object_new_int64(s->users));
        json_object_object_add(o, "files", json_object_new_int64(s->files));
        json_object_object_add(o, "obfuscated", json_object_new_boolean(s->obfs != NULL));
    }
    json_object *msgs = json_object_new_array();
    for (size_t i = 0; i < s->n_messages; i++)
        json_object_array_add(msgs, json_object_new_string(s->messages[i]));
    json_object_object_add(o, "messages", msgs);
    return o;
}


void
srv_set_search_sink(srvconn_t *s, const srv_search_sink_t *sink)
{
    if (sink != NULL)
        s->sink = *sink;
    else
        memset(&s->sink, 0, sizeof s->sink);
}
