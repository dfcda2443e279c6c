/* firewall.c: the Kad firewall checks (firewall.h, ed2k-protocol.md
 * §10.4): others' checks answered over TCP and UDP, our own TCP check with
 * aMule's counting (Kademlia/Prefs.cpp GetFirewalled) and our own UDP
 * check with aMule's verdict (Kademlia/UDPFirewallTester.cpp). */
#include "config.h"

#include "daemon/kad/firewall.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/daemon.h"
#include "daemon/net/net.h"
#include "daemon/net/peer.h"
#include "ed2k/opcodes.h"
#include "ed2k/packet.h"
#include "util/bug.h"
#include "util/clock.h"
#include "util/conf.h"
#include "util/log.h"
#include "util/xalloc.h"

/* Connect-backs: one per address every ANSWER_EVERY s; a connection not
 * ready after CONNECT_TTL s is forgotten. Our requests: ASKED_MAX
 * addresses remembered for KAD_FW_ASK_TTL s. */
#define ANSWER_EVERY 60
#define CONNECT_TTL 40
#define ANSWERED_MAX 64
#define ASKED_MAX 32
/* UDP testers remembered (aMule never asks a node twice; a ring lets a
 * long-running node ask again the oldest ones). */
#define UDP_TESTERS_MAX 64

typedef enum udp_test_state {
    UDPT_NONE,       /* free, or finished */
    UDPT_CONNECTING, /* aMule's KS_CONNECTING_FWCHECK_UDP */
    UDPT_SENT,       /* KS_FWCHECK_UDP: OP_FWCHECKUDPREQ went out */
} udp_test_state_t;

typedef struct udp_test {
    uint32_t ip; /* Kad form; 0: free slot */
    uint16_t tcp_port;
    udp_test_state_t state;
    time_t at;
} udp_test_t;

typedef struct connect_back {
    uint32_t ip; /* Kad form; 0: free slot */
    uint16_t tcp_port, udp_port;
    bool tcp_ack; /* Kad 7+: OP_KAD_FWTCPCHECK_ACK, else FIREWALLED_ACK_RES by UDP */
    time_t at;
} connect_back_t;

typedef struct stamp {
    uint32_t ip;
    time_t at;
    bool res, ack; /* our requests: answered by UDP, by a connect-back */
} stamp_t;

struct kad_fw {
    muleteerd_t *d;
    kad_fw_hooks_t h;
    connect_back_t cb[KAD_FW_CONNECTS];
    stamp_t answered[ANSWERED_MAX];
    size_t answered_next;
    stamp_t asked[ASKED_MAX];
    size_t asked_next;
    /* our check: aMule's m_recheckip, m_firewalled, m_lastFirewallState */
    unsigned answers, acks, asks;
    bool last_firewalled;
    bool started;
    time_t next_round;
    uint32_t ip, ip_last; /* aMule's m_ip and m_ipLast */
    uint64_t requests, refused, connect_backs, acks_sent, asks_sent, res_taken, acks_taken,
        udp_checks;
    /* our UDP check: aMule's m_firewalledUDP, m_firewalledLastStateUDP,
     * m_isFWVerifiedUDP, m_timedOut, m_fwChecksRunningUDP,
     * m_fwChecksFinishedUDP, m_testStart */
    bool udp_firewalled, udp_last_firewalled, udp_verified, udp_timed_out, udp_started;
    unsigned udp_running, udp_finished;
    time_t udp_start; /* 0: the round decided */
    udp_test_t testers[UDP_TESTERS_MAX];
    size_t testers_next;
    uint64_t udp_asks_sent, udp_answers_taken;
};

/* ------------------------------------------------------------ answering */

static void
send_dgram(kad_fw_t *fw, uint32_t ip, uint16_t port, struct evbuffer *b)
{
    if (fw->h.send != NULL)
        fw->h.send(fw->h.ctx, ip, port, b);
    evbuffer_drain(b, evbuffer_get_length(b));
}

/* answered_lately: whether ip had a connect-back in the last
 * ANSWER_EVERY s; records it when not. */
static bool
answered_lately(kad_fw_t *fw, uint32_t ip, time_t now)
{
    for (size_t i = 0; i < ANSWERED_MAX; i++)
        if (fw->answered[i].ip == ip && now - fw->answered[i].at < ANSWER_EVERY)
            return true;
    fw->answered[fw->answered_next] = (stamp_t){ .ip = ip, .at = now };
    fw->answered_next = (fw->answered_next + 1) % ANSWERED_MAX;
    return false;
}

static connect_back_t *
free_slot(kad_fw_t *fw, time_t now)
{
    for (size_t i = 0; i < KAD_FW_CONNECTS; i++)
        if (fw->cb[i].ip == 0 || now - fw->cb[i].at >= CONNECT_TTL)
            return &fw->cb[i];
    return NULL;
}

/* say_ack: the connect-back reached the requester: tell it. */
static void
say_ack(kad_fw_t *fw, connect_back_t *c, peer_t *p)
{
    struct evbuffer *out = p != NULL ? peer_out(p) : NULL;
    if (c->tcp_ack && out != NULL) {
        (void)ed2k_packet_append(out, ED2K_PROTO_EMULE, ED2K_OP_KAD_FWTCPCHECK_ACK, NULL, 0, NULL);
        peer_touch(p);
    } else if (!c->tcp_ack) {
        struct evbuffer *b = evbuffer_new();
        kad_fw_ack_encode(b);
        send_dgram(fw, c->ip, c->udp_port, b);
        evbuffer_free(b);
    }
    fw->acks_sent++;
    log_debug("Kad: firewall check of %u.%u.%u.%u answered: TCP port %u open", c->ip >> 24,
              (c->ip >> 16) & 255, (c->ip >> 8) & 255, c->ip & 255, c->tcp_port);
    c->ip = 0;
}

bool
kad_fw_on_request(kad_fw_t *fw, uint32_t ip, uint16_t udp_port, const kad_fw_req_t *rq,
                  time_t now)
{
    fw->requests++;
    connect_back_t *c = free_slot(fw, now);
    if (rq->tcp_port == 0 || c == NULL || answered_lately(fw, ip, now)) {
        fw->refused++;
        return false;
    }
    struct evbuffer *b = evbuffer_new();
    kad_fw_res_encode(b, ip);
    send_dgram(fw, ip, udp_port, b);
    evbuffer_free(b);
    *c = (connect_back_t){ ip, rq->tcp_port, udp_port, rq->v2, now };
    if (fw->d->peers == NULL)
        return true;
    peer_t *p = peer_get(fw->d->peers, net_ip_from_host(ip), rq->tcp_port);
    if (rq->v2)
        peer_set_crypt(p, rq->connect_options, rq->user_hash);
    fw->connect_backs++;
    /* over a connection that is already up (the requester tells a
     * connection it opened from one we opened: on_packet) */
    if (peer_is_ready(p))
        say_ack(fw, c, p);
    else if (peer_connect(p) != 0)
        c->ip = 0; /* refused here (limits, a ban): no ack */
    return true;
}

int
kad_fw_on_udp_req(kad_fw_t *fw, uint32_t ip, const uint8_t *p, size_t len)
{
    kad_fw_udp_req_t rq;
    if (kad_fw_udp_req_decode(p, len, &rq, NULL) != 0)
        return -1;
    if (rq.intern_port == 0)
        return 0;
    uint8_t known = fw->h.knows != NULL && fw->h.knows(fw->h.ctx, ip) ? 1 : 0;
    struct evbuffer *b = evbuffer_new();
    kad_fw_udp_encode(b, known, rq.intern_port);
    send_dgram(fw, ip, rq.intern_port, b);
    if (rq.extern_port != 0 && rq.extern_port != rq.intern_port) {
        kad_fw_udp_encode(b, known, rq.extern_port);
        send_dgram(fw, ip, rq.extern_port, b);
    }
    evbuffer_free(b);
    fw->udp_checks++;
    return 0;
}

/* ------------------------------------------------------------ our check */

static void udp_recheck(kad_fw_t *fw, time_t now);

void
kad_fw_recheck(kad_fw_t *fw, time_t now)
{
    udp_recheck(fw, now);
    fw->last_firewalled = fw->acks < KAD_FW_OPEN_AFTER;
    fw->answers = 0;
    fw->acks = 0;
    fw->asks = 0;
    memset(fw->asked, 0, sizeof fw->asked);
    fw->started = true;
    fw->next_round = now + KAD_FW_RECHECK_EVERY;
}

bool
kad_fw_is_checking(const kad_fw_t *fw)
{
    return fw->started && fw->answers < KAD_FW_ANSWERS_WANTED;
}

static stamp_t *
asked_of(kad_fw_t *fw, uint32_t ip, time_t now)
{
    for (size_t i = 0; i < ASKED_MAX; i++)
        if (fw->asked[i].ip == ip && fw->asked[i].at != 0 && now - fw->asked[i].at < KAD_FW_ASK_TTL)
            return &fw->asked[i];
    return NULL;
}

bool
kad_fw_ask(kad_fw_t *fw, uint32_t ip, uint16_t udp_port, uint8_t version, time_t now)
{
    if (!kad_fw_is_checking(fw) || fw->asks >= KAD_FW_ASKS_PER_ROUND ||
        asked_of(fw, ip, now) != NULL)
        return false;
    bool support, request, require;
    peer_obfs_settings(fw->d, &support, &request, &require);
    kad_fw_req_t rq = { .tcp_port = (uint16_t)conf_get_int(fw->d->conf, "tcp_port"),
                        .v2 = version > 6,
                        .connect_options = (uint8_t)((support ? 1 : 0) | (request ? 2 : 0) |
                                                     (require ? 4 : 0)) };
    memcpy(rq.user_hash, fw->d->userhash, 16);
    struct evbuffer *b = evbuffer_new();
    kad_fw_req_encode(b, &rq);
    send_dgram(fw, ip, udp_port, b);
    evbuffer_free(b);
    fw->asked[fw->asked_next] = (stamp_t){ .ip = ip, .at = now };
    fw->asked_next = (fw->asked_next + 1) % ASKED_MAX;
    fw->asks_sent++;
    fw->asks++;
    return true;
}

/* learn_ip: aMule's SetIPAddress: an address is taken when two answers in
 * a row name it. */
static void
learn_ip(kad_fw_t *fw, uint32_t ip)
{
    if (ip == 0)
        return;
    if (fw->ip_last == 0 || ip == fw->ip_last) {
        if (fw->ip != ip && fw->ip_last == ip)
            log_info("Kad: our address as others see it: %u.%u.%u.%u", ip >> 24,
                     (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
        if (fw->ip_last == ip)
            fw->ip = ip;
    }
    fw->ip_last = ip;
}

int
kad_fw_on_res(kad_fw_t *fw, uint32_t ip, const uint8_t *p, size_t len, time_t now)
{
    uint32_t seen;
    if (kad_fw_res_decode(p, len, &seen, NULL) != 0)
        return -1;
    stamp_t *a = asked_of(fw, ip, now);
    if (a == NULL || a->res)
        return 0;
    a->res = true;
    learn_ip(fw, seen);
    fw->answers++;
    fw->res_taken++;
    if (fw->answers == KAD_FW_ANSWERS_WANTED)
        log_info("Kad: firewall check: %u connect-back(s) of %u answers: %s", fw->acks,
                 fw->answers, kad_fw_is_firewalled(fw) ? "firewalled" : "open");
    return 1;
}

bool
kad_fw_on_ack(kad_fw_t *fw, uint32_t ip, time_t now)
{
    stamp_t *a = asked_of(fw, ip, now);
    if (a == NULL || a->ack)
        return false; /* one connect-back per address and round */
    a->ack = true;
    fw->acks++;
    fw->acks_taken++;
    return true;
}

bool
kad_fw_is_firewalled(const kad_fw_t *fw)
{
    if (fw->acks >= KAD_FW_OPEN_AFTER)
        return false;
    return kad_fw_is_checking(fw) ? fw->last_firewalled : true;
}

uint32_t
kad_fw_external_ip(const kad_fw_t *fw)
{
    return fw->ip;
}

static void udp_tick(kad_fw_t *fw, time_t now);

void
kad_fw_tick(kad_fw_t *fw, time_t now)
{
    udp_tick(fw, now);
    if (fw->started && now >= fw->next_round)
        kad_fw_recheck(fw, now);
}

void
kad_fw_to_json(const kad_fw_t *fw, json_object *o)
{
    char ip[16];
    json_object_object_add(o, "firewalled", json_object_new_boolean(kad_fw_is_firewalled(fw)));
    json_object_object_add(o, "firewall_checking",
                           json_object_new_boolean(kad_fw_is_checking(fw)));
    json_object_object_add(o, "external_address",
                           fw->ip != 0 ? json_object_new_string(net_ip_str(net_ip_from_host(fw->ip),
                                                                           ip))
                                       : NULL);
    json_object_object_add(o, "firewall_checks_asked", json_object_new_int64((int64_t)fw->asks_sent));
    json_object_object_add(o, "firewall_answers", json_object_new_int64((int64_t)fw->res_taken));
    json_object_object_add(o, "firewall_connect_backs_heard",
                           json_object_new_int64((int64_t)fw->acks_taken));
    json_object_object_add(o, "firewall_checks_answered",
                           json_object_new_int64((int64_t)fw->requests - (int64_t)fw->refused));
    json_object_object_add(o, "firewall_acks_sent", json_object_new_int64((int64_t)fw->acks_sent));
    json_object_object_add(o, "udp_checks_answered", json_object_new_int64((int64_t)fw->udp_checks));
    json_object_object_add(o, "udp_firewalled",
                           json_object_new_boolean(kad_fw_is_udp_firewalled(fw)));
    json_object_object_add(o, "udp_firewall_checking",
                           json_object_new_boolean(kad_fw_is_udp_checking(fw)));
    json_object_object_add(o, "udp_firewall_checks_asked",
                           json_object_new_int64((int64_t)fw->udp_asks_sent));
    json_object_object_add(o, "udp_firewall_answers",
                           json_object_new_int64((int64_t)fw->udp_answers_taken));
}

/* ------------------------------------------------------------ our UDP check */

static void
udp_recheck(kad_fw_t *fw, time_t now)
{
    for (size_t i = 0; i < UDP_TESTERS_MAX; i++)
        fw->testers[i].state = UDPT_NONE; /* keep the addresses: never asked twice */
    fw->udp_running = 0;
    fw->udp_finished = 0;
    fw->udp_start = now;
    fw->udp_timed_out = false;
    fw->udp_last_firewalled = fw->udp_firewalled;
    fw->udp_started = true;
}

bool
kad_fw_is_udp_checking(const kad_fw_t *fw)
{
    return fw->udp_started && fw->udp_finished < KAD_FW_UDP_CLIENTS;
}

bool
kad_fw_is_udp_firewalled(const kad_fw_t *fw)
{
    if (!kad_fw_is_udp_checking(fw))
        return fw->udp_firewalled;
    return fw->udp_timed_out || fw->udp_last_firewalled;
}

static udp_test_t *
tester_of(kad_fw_t *fw, uint32_t ip)
{
    for (size_t i = 0; i < UDP_TESTERS_MAX; i++)
        if (fw->testers[i].ip == ip)
            return &fw->testers[i];
    return NULL;
}

static void
log_udp_verdict(const kad_fw_t *fw)
{
    log_info("Kad: UDP firewall check: %s (%u test(s) finished)",
             fw->udp_firewalled ? "firewalled" : "open", fw->udp_finished);
}

/* udp_result: aMule's SetUDPFWCheckResult for a test of ours that
 * finished (ok: an answer proved the port open) or was cancelled. */
static void
udp_result(kad_fw_t *fw, udp_test_t *t, bool ok, bool cancelled)
{
    t->state = UDPT_NONE;
    if (!kad_fw_is_udp_checking(fw))
        return;
    if (!MT_BUG(fw->udp_running == 0))
        fw->udp_running--;
    if (cancelled)
        return; /* the next offer asks another node */
    fw->udp_finished++;
    if (ok) {
        fw->udp_firewalled = false;
        fw->udp_finished = KAD_FW_UDP_CLIENTS; /* one open answer is enough */
        fw->udp_running = 0;
        for (size_t i = 0; i < UDP_TESTERS_MAX; i++)
            fw->testers[i].state = UDPT_NONE;
    } else if (fw->udp_finished >= KAD_FW_UDP_CLIENTS) {
        fw->udp_firewalled = true;
    } else {
        return;
    }
    fw->udp_verified = true;
    fw->udp_timed_out = false;
    fw->udp_start = 0;
    log_udp_verdict(fw);
}

/* send_udp_req: OP_FWCHECKUDPREQ on a ready connection: the port to answer
 * on and our verify key for the tester (plain answers are fine too). */
static void
send_udp_req(kad_fw_t *fw, udp_test_t *t, peer_t *p, time_t now)
{
    kad_fw_udp_req_t rq = { .intern_port = fw->h.udp_port != NULL ? fw->h.udp_port(fw->h.ctx) : 0 };
    struct evbuffer *pl = evbuffer_new();
    kad_fw_udp_req_write(pl, &rq);
    struct evbuffer *out = p != NULL ? peer_out(p) : NULL;
    if (out != NULL) {
        (void)ed2k_packet_append_evbuffer(out, ED2K_PROTO_EMULE, ED2K_OP_FWCHECKUDPREQ, pl, NULL);
        peer_touch(p);
    }
    evbuffer_free(pl);
    t->state = UDPT_SENT;
    t->at = now;
    fw->udp_asks_sent++;
}

bool
kad_fw_udp_offer(kad_fw_t *fw, uint32_t ip, uint16_t tcp_port, uint8_t version, time_t now)
{
    if (!kad_fw_is_udp_checking(fw) ||
        fw->udp_finished + fw->udp_running >= KAD_FW_UDP_CLIENTS || version <= 5 ||
        tcp_port == 0 || ip == 0 || ip == fw->ip || tester_of(fw, ip) != NULL ||
        (fw->h.knows != NULL && fw->h.knows(fw->h.ctx, ip)))
        return false;
    udp_test_t *t = &fw->testers[fw->testers_next];
    fw->testers_next = (fw->testers_next + 1) % UDP_TESTERS_MAX;
    *t = (udp_test_t){ .ip = ip, .tcp_port = tcp_port, .state = UDPT_CONNECTING, .at = now };
    fw->udp_running++;
    if (fw->d->peers == NULL) {
        send_udp_req(fw, t, NULL, now);
        return true;
    }
    peer_t *p = peer_get(fw->d->peers, net_ip_from_host(ip), tcp_port);
    if (peer_is_ready(p))
        send_udp_req(fw, t, p, now);
    else if (peer_connect(p) != 0)
        udp_result(fw, t, false, true);
    return true;
}

int
kad_fw_on_udp_answer(kad_fw_t *fw, uint32_t ip, const uint8_t *p, size_t len, time_t now)
{
    (void)now;
    uint8_t error;
    uint16_t port;
    if (kad_fw_udp_decode(p, len, &error, &port, NULL) != 0)
        return -1;
    udp_test_t *t = tester_of(fw, ip);
    if (t == NULL || t->state == UDPT_NONE)
        return 0; /* not asked, or a second answer (one per port asked) */
    uint16_t mine = fw->h.udp_port != NULL ? fw->h.udp_port(fw->h.ctx) : 0;
    bool ok = error == 0 && port != 0 && port == mine;
    log_debug("Kad: UDP firewall test by %u.%u.%u.%u: error %u, port %u", ip >> 24,
              (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, error, port);
    fw->udp_answers_taken++;
    udp_result(fw, t, ok, !ok);
    return 1;
}

/* udp_tick: tests that never ended (aMule ends them when the connection
 * closes; a bound here), and aMule's timeout. */
static void
udp_tick(kad_fw_t *fw, time_t now)
{
    for (size_t i = 0; i < UDP_TESTERS_MAX; i++) {
        udp_test_t *t = &fw->testers[i];
        if (t->state != UDPT_NONE && now - t->at >= KAD_FW_ASK_TTL)
            udp_result(fw, t, false, t->state == UDPT_CONNECTING);
    }
    if (kad_fw_is_udp_checking(fw) && !fw->udp_timed_out && !fw->udp_firewalled &&
        !fw->udp_verified && fw->udp_start != 0 && now - fw->udp_start > KAD_FW_UDP_TIMEOUT &&
        kad_fw_is_firewalled(fw)) {
        fw->udp_timed_out = true;
        log_info("Kad: UDP firewall check: no result in %d s: firewalled", KAD_FW_UDP_TIMEOUT);
    }
}

/* ------------------------------------------------------------ TCP side */

/* on_ready: a connection is up: a connect-back we owe says its ack. */
static void
on_ready(void *ctx, peer_t *p)
{
    kad_fw_t *fw = ctx;
    uint32_t ip = net_ip_to_host(peer_ip(p));
    for (size_t i = 0; i < KAD_FW_CONNECTS; i++)
        if (fw->cb[i].ip == ip && fw->cb[i].tcp_port == peer_port(p))
            say_ack(fw, &fw->cb[i], p);
    udp_test_t *t = tester_of(fw, ip);
    if (t != NULL && t->state == UDPT_CONNECTING && t->tcp_port == peer_port(p))
        send_udp_req(fw, t, p, clock_mono_s());
}

/* on_closed: a UDP test's connection closed: cancelled before the request
 * went, failed after it without an answer (aMule's Disconnected). */
static void
on_closed(void *ctx, peer_t *p, const char *reason)
{
    (void)reason;
    kad_fw_t *fw = ctx;
    udp_test_t *t = tester_of(fw, net_ip_to_host(peer_ip(p)));
    if (t != NULL && t->state != UDPT_NONE && t->tcp_port == peer_port(p))
        udp_result(fw, t, false, t->state == UDPT_CONNECTING);
}

/* on_packet: OP_KAD_FWTCPCHECK_ACK (a connect-back for our check) and
 * OP_FWCHECKUDPREQ (a node's UDP check). */
static int
on_packet(void *ctx, peer_t *p, const ed2k_packet_t *pkt, mt_error_t **err)
{
    kad_fw_t *fw = ctx;
    if (pkt->proto != ED2K_PROTO_EMULE)
        return 0;
    uint32_t ip = net_ip_to_host(peer_ip(p));
    if (pkt->opcode == ED2K_OP_KAD_FWTCPCHECK_ACK) {
        /* only a connection the checker opened proves our port open: an
         * ack over one we opened (to our buddy, say) proves nothing */
        if (peer_is_outgoing(p))
            log_debug("Kad: a firewall check ack over our own connection to %s: not counted",
                      peer_desc(p));
        else if (!kad_fw_on_ack(fw, ip, clock_mono_s()))
            log_debug("Kad: a firewall check ack nobody asked for from %s", peer_desc(p));
        return 1;
    }
    if (pkt->opcode == ED2K_OP_FWCHECKUDPREQ) {
        if (kad_fw_on_udp_req(fw, ip, pkt->payload, pkt->len) != 0) {
            mt_error_set(err, MT_ERR_PROTOCOL, "OP_FWCHECKUDPREQ: payload too short");
            return -1;
        }
        return 1;
    }
    return 0;
}

kad_fw_t *
kad_fw_new(muleteerd_t *d, const kad_fw_hooks_t *h)
{
    kad_fw_t *fw = xcalloc(1, sizeof *fw);
    fw->d = d;
    fw->h = *h;
    fw->last_firewalled = true;
    if (d->peers != NULL)
        peer_mgr_add_handler(d->peers, &(peer_handler_t){ .ready = on_ready,
                                                          .closed = on_closed,
                                                          .packet = on_packet,
                                                          .ctx = fw });
    return fw;
}

void
kad_fw_free(kad_fw_t *fw)
{
    free(fw);
}
