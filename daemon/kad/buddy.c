/* buddy.c: Kad buddies (buddy.h): one buddy at a time, as aMule keeps it
 * (ClientList's buddy, KademliaUDPListener's FINDBUDDY and CALLBACK). */
#include "config.h"

#include "daemon/kad/buddy.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/daemon.h"
#include "daemon/net/net.h"
#include "daemon/net/peer.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/shared.h"
#include "ed2k/kadsearch.h"
#include "ed2k/opcodes.h"
#include "ed2k/packet.h"
#include "util/bug.h"
#include "util/clock.h"
#include "util/conf.h"
#include "util/log.h"
#include "util/xalloc.h"

/* Source publish tags of a firewalled node (§10.3, aMule's Search.cpp). */
#define TAG_SERVERIP 0xFB
#define TAG_SERVERPORT 0xFA
#define TAG_BUDDYHASH 0xF8

typedef enum {
    BUDDY_NONE,
    BUDDY_ANSWERED,   /* we are open and answered its FINDBUDDY_REQ */
    BUDDY_CONNECTING, /* we are firewalled and connect to the one that answered */
    BUDDY_CONNECTED,
} buddy_state_t;

static const char *const state_names[] = { "none", "answered", "connecting", "connected" };

typedef struct asked {
    uint32_t ip; /* Kad form, 0: free */
    uint16_t port;
    time_t at;
} asked_t;

struct kad_buddy {
    muleteerd_t *d;
    kad_id_t me, my_buddy_id;
    kad_buddy_hooks_t h;
    buddy_state_t state;
    bool ours; /* we are firewalled and it serves us; else we serve it */
    uint32_t ip; /* the buddy, Kad form */
    uint16_t tcp_port, udp_port;
    uint8_t user_hash[16];
    uint8_t connect_options;
    peer_t *peer; /* its connection while BUDDY_CONNECTED */
    time_t since, ping_at, pong_at;
    asked_t asked[KAD_BUDDY_ASK];
    time_t search_at;
    uint64_t requests, answered, relayed, callbacks, asked_callbacks, pings, pongs;
};

static void
send_dgram(kad_buddy_t *b, uint32_t ip, uint16_t port, struct evbuffer *buf)
{
    if (b->h.send != NULL)
        b->h.send(b->h.ctx, ip, port, buf);
    evbuffer_drain(buf, evbuffer_get_length(buf));
}

static const char *
ip_str(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
    return out;
}

static uint16_t
our_tcp_port(const kad_buddy_t *b)
{
    return b->d != NULL && b->d->conf != NULL ? (uint16_t)conf_get_int(b->d->conf, "tcp_port") : 0;
}

static uint8_t
our_connect_options(const kad_buddy_t *b)
{
    if (b->d == NULL || b->d->conf == NULL)
        return 0;
    bool support, request, require;
    peer_obfs_settings(b->d, &support, &request, &require);
    return (uint8_t)((support ? 1 : 0) | (request ? 2 : 0) | (require ? 4 : 0));
}

/* drop: forget the buddy (its connection stays to the peer manager). */
static void
drop(kad_buddy_t *b, const char *why)
{
    if (b->state != BUDDY_NONE) {
        char s[16];
        log_info("Kad: buddy %s dropped: %s", ip_str(b->ip, s), why);
    }
    b->state = BUDDY_NONE;
    b->peer = NULL;
    b->ip = 0;
}

static void
set_connected(kad_buddy_t *b, peer_t *p, time_t now)
{
    char s[16];
    b->state = BUDDY_CONNECTED;
    b->peer = p;
    b->since = b->ping_at = now;
    b->pong_at = 0;
    peer_touch(p);
    log_info("Kad: %s %s:%u", b->ours ? "our buddy is" : "we are the buddy of", ip_str(b->ip, s),
             b->tcp_port);
}

/* ------------------------------------------------------------ UDP side */

int
kad_buddy_on_find_req(kad_buddy_t *b, uint32_t ip, uint16_t port, const uint8_t *p, size_t len,
                      time_t now)
{
    kad_buddy_msg_t m;
    if (kad_buddy_msg_decode(p, len, &m, NULL) != 0)
        return -1;
    b->requests++;
    /* aMule: only an open node answers, and only while it has no buddy. */
    if (b->ours || b->state == BUDDY_CONNECTED || m.tcp_port == 0)
        return 0;
    if (b->state == BUDDY_ANSWERED && b->ip != ip && now - b->since < KAD_BUDDY_INCOMING_TTL)
        return 0; /* one node at a time */
    b->state = BUDDY_ANSWERED;
    b->ip = ip;
    b->udp_port = port;
    b->tcp_port = m.tcp_port;
    memcpy(b->user_hash, m.user_hash, 16);
    b->since = now;
    kad_buddy_msg_t res = { .buddy_id = m.buddy_id, .tcp_port = our_tcp_port(b),
                            .has_options = true, .connect_options = our_connect_options(b) };
    if (b->d != NULL)
        memcpy(res.user_hash, b->d->userhash, 16);
    struct evbuffer *buf = evbuffer_new();
    kad_buddy_msg_encode(buf, KAD_OP_FINDBUDDY_RES, &res);
    send_dgram(b, ip, port, buf);
    evbuffer_free(buf);
    b->answered++;
    return 1;
}

/* was_asked: ip:port got our FINDBUDDY_REQ lately (the entry is used). */
static bool
was_asked(kad_buddy_t *b, uint32_t ip, uint16_t port, time_t now)
{
    for (size_t i = 0; i < KAD_BUDDY_ASK; i++) {
        asked_t *a = &b->asked[i];
        if (a->ip == ip && a->port == port && now - a->at <= KAD_BUDDY_ASK_TTL) {
            a->ip = 0;
            return true;
        }
    }
    return false;
}

int
kad_buddy_on_find_res(kad_buddy_t *b, uint32_t ip, uint16_t port, const uint8_t *p, size_t len,
                      time_t now)
{
    kad_buddy_msg_t m;
    if (kad_buddy_msg_decode(p, len, &m, NULL) != 0)
        return -1;
    if (!b->ours || b->state != BUDDY_NONE || !kad_id_equal(&m.buddy_id, &b->my_buddy_id) ||
        m.tcp_port == 0 || !was_asked(b, ip, port, now))
        return 0;
    b->state = BUDDY_CONNECTING;
    b->ip = ip;
    b->udp_port = port;
    b->tcp_port = m.tcp_port;
    memcpy(b->user_hash, m.user_hash, 16);
    b->connect_options = m.has_options ? m.connect_options : 0;
    b->since = now;
    if (b->d == NULL || b->d->peers == NULL)
        return 1;
    peer_t *pr = peer_get(b->d->peers, net_ip_from_host(ip), m.tcp_port);
    peer_set_crypt(pr, b->connect_options, m.user_hash);
    if (peer_is_ready(pr))
        set_connected(b, pr, now);
    else if (peer_connect(pr) != 0)
        drop(b, "cannot connect");
    return 1;
}

int
kad_buddy_on_callback_req(kad_buddy_t *b, uint32_t ip, uint16_t port, const uint8_t *p, size_t len)
{
    (void)port;
    kad_callback_t c;
    if (kad_callback_req_decode(p, len, &c, NULL) != 0)
        return -1;
    if (b->ours || b->state != BUDDY_CONNECTED || b->peer == NULL)
        return 0;
    c.ip = ip;
    struct evbuffer *payload = evbuffer_new();
    kad_callback_write(payload, &c);
    (void)ed2k_packet_append(peer_out(b->peer), ED2K_PROTO_EMULE, ED2K_OP_CALLBACK,
                             evbuffer_pullup(payload, -1), evbuffer_get_length(payload), NULL);
    evbuffer_free(payload);
    peer_touch(b->peer);
    b->relayed++;
    return 1;
}

void
kad_buddy_ask_callback(kad_buddy_t *b, uint32_t ip, uint16_t port, const kad_id_t *buddy_id,
                       const uint8_t file_hash[16])
{
    kad_callback_t c = { .buddy_id = *buddy_id, .tcp_port = our_tcp_port(b) };
    memcpy(c.file_hash, file_hash, 16);
    struct evbuffer *buf = evbuffer_new();
    kad_callback_req_encode(buf, &c);
    send_dgram(b, ip, port, buf);
    evbuffer_free(buf);
}

bool
kad_buddy_on_source(kad_buddy_t *b, const ed2k_taglist_t *t, const uint8_t file_hash[16])
{
    uint64_t type = 0, ip = 0, port = 0;
    const char *hex = NULL;
    size_t hex_len = 0;
    if (ed2k_taglist_get_uint(t, KAD_TAG_SOURCETYPE, &type) != 0 ||
        (type != KAD_SOURCE_BUDDY && type != KAD_SOURCE_BUDDY_LARGE) ||
        ed2k_taglist_get_uint(t, TAG_SERVERIP, &ip) != 0 ||
        ed2k_taglist_get_uint(t, TAG_SERVERPORT, &port) != 0 ||
        ed2k_taglist_get_str(t, TAG_BUDDYHASH, &hex, &hex_len) != 0 || ip == 0 ||
        ip > UINT32_MAX || port == 0 || port > UINT16_MAX || hex_len != KAD_ID_HEX_LEN)
        return false;
    char id_hex[KAD_ID_HEX_LEN + 1];
    memcpy(id_hex, hex, KAD_ID_HEX_LEN);
    id_hex[KAD_ID_HEX_LEN] = '\0';
    kad_id_t buddy_id;
    if (kad_id_from_hex(&buddy_id, id_hex) != 0)
        return false;
    kad_buddy_ask_callback(b, net_ip_to_host((uint32_t)ip), (uint16_t)port, &buddy_id, file_hash);
    b->asked_callbacks++;
    return true;
}

/* search: FINDBUDDY_REQ to the nodes closest to our buddy id (aMule looks
 * that id up and asks the closest it finds). */
static void
search(kad_buddy_t *b, time_t now)
{
    if (b->h.closest == NULL)
        return;
    kad_contact_t c[KAD_BUDDY_ASK];
    size_t n = b->h.closest(b->h.ctx, &b->my_buddy_id, c, KAD_BUDDY_ASK);
    kad_buddy_msg_t m = { .buddy_id = b->my_buddy_id, .tcp_port = our_tcp_port(b) };
    if (b->d != NULL)
        memcpy(m.user_hash, b->d->userhash, 16);
    struct evbuffer *buf = evbuffer_new();
    for (size_t i = 0; i < n; i++) {
        kad_buddy_msg_encode(buf, KAD_OP_FINDBUDDY_REQ, &m);
        send_dgram(b, c[i].ip, c[i].udp_port, buf);
        b->asked[i] = (asked_t){ c[i].ip, c[i].udp_port, now };
    }
    evbuffer_free(buf);
    if (n > 0)
        log_debug("Kad: buddy search: %zu node(s) asked", n);
}

/* ------------------------------------------------------------ TCP side */

static void
on_ready(void *ctx, peer_t *p)
{
    kad_buddy_t *b = ctx;
    if (net_ip_to_host(peer_ip(p)) != b->ip)
        return;
    time_t now = clock_mono_s();
    if (b->state == BUDDY_CONNECTING && peer_port(p) == b->tcp_port)
        set_connected(b, p, now);
    else if (b->state == BUDDY_ANSWERED && peer_hash(p) != NULL &&
             memcmp(peer_hash(p), b->user_hash, 16) == 0)
        set_connected(b, p, now);
}

static void
on_closed(void *ctx, peer_t *p, const char *reason)
{
    kad_buddy_t *b = ctx;
    if (b->peer == p)
        drop(b, reason != NULL ? reason : "connection closed");
}

/* on_callback: our buddy relays someone who wants a file of ours: we
 * connect to it (aMule checks the buddy id and that the file is shared). */
static int
on_callback(kad_buddy_t *b, const ed2k_packet_t *pkt, mt_error_t **err)
{
    kad_callback_t c;
    if (kad_callback_decode(pkt->payload, pkt->len, &c, err) != 0)
        return -1;
    if (!b->ours || !kad_id_equal(&c.buddy_id, &b->my_buddy_id) || c.tcp_port == 0)
        return 1;
    bool ours = (b->d->shared != NULL && shared_find(b->d->shared, c.file_hash) != NULL) ||
                (b->d->downloads != NULL && dlq_find(b->d->downloads, c.file_hash) != NULL);
    if (!ours)
        return 1;
    char s[16];
    log_info("Kad: callback through our buddy: connecting to %s:%u", ip_str(c.ip, s), c.tcp_port);
    peer_t *to = peer_get(b->d->peers, net_ip_from_host(c.ip), c.tcp_port);
    if (!peer_is_ready(to))
        (void)peer_connect(to);
    b->callbacks++;
    return 1;
}

static int
on_packet(void *ctx, peer_t *p, const ed2k_packet_t *pkt, mt_error_t **err)
{
    kad_buddy_t *b = ctx;
    if (pkt->proto != ED2K_PROTO_EMULE || p != b->peer)
        return 0;
    time_t now = clock_mono_s();
    switch (pkt->opcode) {
    case ED2K_OP_BUDDYPING:
        /* aMule answers one ping per 3 minutes. */
        if (!b->ours && (b->pong_at == 0 || now - b->pong_at >= KAD_BUDDY_PONG_MIN)) {
            (void)ed2k_packet_append(peer_out(p), ED2K_PROTO_EMULE, ED2K_OP_BUDDYPONG, NULL, 0,
                                     NULL);
            b->pong_at = now;
            b->pongs++;
        }
        peer_touch(p);
        return 1;
    case ED2K_OP_BUDDYPONG:
        peer_touch(p);
        return 1;
    case ED2K_OP_CALLBACK:
        return on_callback(b, pkt, err);
    default:
        return 0;
    }
}

/* ------------------------------------------------------------ life */

kad_buddy_t *
kad_buddy_new(muleteerd_t *d, const kad_id_t *me, const kad_buddy_hooks_t *h)
{
    kad_buddy_t *b = xcalloc(1, sizeof *b);
    b->d = d;
    b->me = *me;
    kad_buddy_id_of(&b->my_buddy_id, me);
    b->h = *h;
    if (d != NULL && d->peers != NULL)
        peer_mgr_add_handler(d->peers, &(peer_handler_t){ .ready = on_ready,
                                                          .closed = on_closed,
                                                          .packet = on_packet,
                                                          .ctx = b });
    return b;
}

void
kad_buddy_free(kad_buddy_t *b)
{
    free(b);
}

void
kad_buddy_tick(kad_buddy_t *b, bool open, bool firewalled, time_t now)
{
    bool ours = firewalled && !open;
    if ((!open && !firewalled) || (b->state != BUDDY_NONE && ours != b->ours))
        drop(b, "Kad state changed");
    b->ours = ours;
    if (b->state == BUDDY_ANSWERED && now - b->since >= KAD_BUDDY_INCOMING_TTL)
        drop(b, "it did not connect");
    if (b->state == BUDDY_CONNECTING && now - b->since >= KAD_BUDDY_INCOMING_TTL)
        drop(b, "no connection");
    if (b->state == BUDDY_CONNECTED) {
        if (MT_BUG(b->peer == NULL)) {
            drop(b, "no connection");
            return;
        }
        peer_touch(b->peer); /* the buddy connection is never idle */
        if (b->ours && now - b->ping_at >= KAD_BUDDY_PING_EVERY) {
            (void)ed2k_packet_append(peer_out(b->peer), ED2K_PROTO_EMULE, ED2K_OP_BUDDYPING,
                                     NULL, 0, NULL);
            b->ping_at = now;
            b->pings++;
        }
    }
    if (ours && b->state == BUDDY_NONE && now >= b->search_at) {
        search(b, now);
        b->search_at = now + KAD_BUDDY_SEARCH_EVERY;
    }
}

bool
kad_buddy_is_served(const kad_buddy_t *b)
{
    return b != NULL && b->ours && b->state == BUDDY_CONNECTED;
}

bool
kad_buddy_source_tags(const kad_buddy_t *b, ed2k_taglist_t *t, uint64_t size)
{
    if (!kad_buddy_is_served(b))
        return false;
    char hex[KAD_ID_HEX_LEN + 1];
    kad_id_to_hex(&b->my_buddy_id, hex);
    ed2k_taglist_add_uint(t, KAD_TAG_SOURCETYPE, 0,
                          size > 0xFFFFFFFFu ? KAD_SOURCE_BUDDY_LARGE : KAD_SOURCE_BUDDY);
    ed2k_taglist_add_uint(t, TAG_SERVERIP, 0, net_ip_from_host(b->ip)); /* eD2K form, as aMule */
    ed2k_taglist_add_uint(t, TAG_SERVERPORT, 0, b->udp_port);
    ed2k_taglist_add_str(t, TAG_BUDDYHASH, hex, KAD_ID_HEX_LEN);
    return true;
}

void
kad_buddy_to_json(const kad_buddy_t *b, json_object *o)
{
    json_object *j = json_object_new_object();
    json_object_object_add(j, "state", json_object_new_string(state_names[b->state]));
    if (b->state != BUDDY_NONE) {
        char s[16];
        json_object_object_add(j, "role", json_object_new_string(b->ours ? "ours" : "theirs"));
        json_object_object_add(j, "ip", json_object_new_string(ip_str(b->ip, s)));
        json_object_object_add(j, "tcp_port", json_object_new_int(b->tcp_port));
        json_object_object_add(j, "udp_port", json_object_new_int(b->udp_port));
    }
    json_object_object_add(j, "requests", json_object_new_int64((int64_t)b->requests));
    json_object_object_add(j, "answered", json_object_new_int64((int64_t)b->answered));
    json_object_object_add(j, "callbacks_relayed", json_object_new_int64((int64_t)b->relayed));
    json_object_object_add(j, "callbacks_taken", json_object_new_int64((int64_t)b->callbacks));
    json_object_object_add(j, "callbacks_asked",
                           json_object_new_int64((int64_t)b->asked_callbacks));
    json_object_object_add(j, "pings", json_object_new_int64((int64_t)b->pings));
    json_object_object_add(j, "pongs", json_object_new_int64((int64_t)b->pongs));
    json_object_object_add(o, "buddy", j);
}
