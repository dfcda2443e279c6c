/* firewall.h: the Kad firewall checks (ed2k-protocol.md §10.4): others'
 * checks answered (a TCP connect-back with OP_KAD_FWTCPCHECK_ACK, the
 * address we saw by UDP, KADEMLIA2_FIREWALLUDP for a TCP OP_FWCHECKUDPREQ)
 * and our own checks: TCP, counted as aMule counts it (Kademlia/Prefs.cpp),
 * and UDP, decided as aMule's UDPFirewallTester decides it: OP_FWCHECKUDPREQ
 * over TCP to nodes we never sent a datagram to, KADEMLIA2_FIREWALLUDP
 * back on our UDP port. */
#ifndef MT_DAEMON_KAD_FIREWALL_H
#define MT_DAEMON_KAD_FIREWALL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ed2k/kadpkt.h"

struct evbuffer;
struct muleteerd;
typedef struct kad_fw kad_fw_t;

/* A round of our check: FIREWALLED_RES answers wanted (aMule's
 * KADEMLIAFIREWALLCHECKS) and connect-backs that make us open. Rounds
 * start when Kad connects and every FW_RECHECK_EVERY s (aMule: an hour).
 * A request is answered (its connect-back acked) within FW_ASK_TTL s. */
#define KAD_FW_ANSWERS_WANTED 4
#define KAD_FW_OPEN_AFTER 2
#define KAD_FW_RECHECK_EVERY 3600
#define KAD_FW_ASK_TTL 180
/* Requests of one round at most (aMule asks whoever says hello while it
 * checks; a bound keeps a round that gets few answers quiet). */
#define KAD_FW_ASKS_PER_ROUND 16

/* The hooks of the node: send (a whole datagram in b to ip, Kad form, and
 * port; b is emptied) and knows (whether ip is in the routing table, which
 * makes a UDP check's answer worthless, so it says so). */
typedef struct kad_fw_hooks {
    void (*send)(void *ctx, uint32_t ip, uint16_t port, struct evbuffer *b);
    bool (*knows)(void *ctx, uint32_t ip);
    /* udp_port: our client UDP port, where the UDP check's answers come */
    uint16_t (*udp_port)(void *ctx);
    void *ctx;
} kad_fw_hooks_t;

/* kad_fw_new: the checks of the node; with d->peers (may be NULL in unit
 * tests) a peer handler answers and hears the TCP side. Free with
 * kad_fw_free (NULL is fine); d must outlive it. */
kad_fw_t *kad_fw_new(struct muleteerd *d, const kad_fw_hooks_t *h);
void kad_fw_free(kad_fw_t *fw);

/* kad_fw_on_request: a FIREWALLED(2)_REQ from ip:udp_port (Kad form): at
 * most one a minute per address and KAD_FW_CONNECTS at once: the
 * FIREWALLED_RES with ip goes at once, then a TCP connection to
 * rq->tcp_port that says OP_KAD_FWTCPCHECK_ACK once ready (Kad 7 and up,
 * i.e. FIREWALLED2_REQ), or a UDP FIREWALLED_ACK_RES (older). Returns
 * false when a limit refused it. */
#define KAD_FW_CONNECTS 16
bool kad_fw_on_request(kad_fw_t *fw, uint32_t ip, uint16_t udp_port, const kad_fw_req_t *rq,
                       time_t now);

/* Our TCP check. kad_fw_recheck: a new round (the state reported stays
 * the last round's until this one decides). kad_fw_is_checking: whether
 * the round wants more answers. kad_fw_ask: while checking, a
 * FIREWALLED2_REQ (FIREWALLED_REQ to Kad < 7) to a node that said hello,
 * once per address and round, KAD_FW_ASKS_PER_ROUND at most; whether one
 * went. */
void kad_fw_recheck(kad_fw_t *fw, time_t now);
bool kad_fw_is_checking(const kad_fw_t *fw);
bool kad_fw_ask(kad_fw_t *fw, uint32_t ip, uint16_t udp_port, uint8_t version, time_t now);
/* kad_fw_on_res: a FIREWALLED_RES from ip: counted (and the address it
 * names learned once two answers agree, aMule's rule) when we asked ip;
 * 1: taken, 0: not asked for, -1: malformed. */
int kad_fw_on_res(kad_fw_t *fw, uint32_t ip, const uint8_t *p, size_t len, time_t now);
/* kad_fw_on_ack: a connect-back from ip said OP_KAD_FWTCPCHECK_ACK (or a
 * FIREWALLED_ACK_RES came by UDP): counted when we asked ip; whether it
 * was. */
bool kad_fw_on_ack(kad_fw_t *fw, uint32_t ip, time_t now);
/* kad_fw_on_udp_req: a TCP OP_FWCHECKUDPREQ from ip (Kad form): one
 * KADEMLIA2_FIREWALLUDP to each port it names (error 1 when ip is in our
 * table). -1 when the payload is malformed. */
int kad_fw_on_udp_req(kad_fw_t *fw, uint32_t ip, const uint8_t *p, size_t len);

/* Our UDP check (aMule's UDPFirewallTester). Rounds start with the TCP
 * check's (kad_fw_recheck). A round wants KAD_FW_UDP_CLIENTS finished
 * tests: one KADEMLIA2_FIREWALLUDP with error 0 on our UDP port makes us
 * open at once; KAD_FW_UDP_CLIENTS tests whose request went out and that
 * got no answer (the TCP connection closed first, or KAD_FW_ASK_TTL s
 * passed) make us firewalled; a test whose connection failed, or whose
 * answer says the tester knew us or names another port, is cancelled and
 * another node is asked. A round still undecided after
 * KAD_FW_UDP_TIMEOUT s while TCP-firewalled says firewalled, unless a
 * round ever decided (aMule's timeout). */
#define KAD_FW_UDP_CLIENTS 2
#define KAD_FW_UDP_TIMEOUT 360
/* kad_fw_udp_offer: a node a lookup answer named (Kad form ip, its TCP
 * port and Kad version): while the round needs testers, one of Kad 6 and
 * up, not in our table (hooks.knows), never asked before and not us gets
 * OP_FWCHECKUDPREQ over a TCP connection. Whether it was taken (the
 * caller then keeps it out of the table for now: a HELLO of ours would
 * put us in its table, and it would refuse the test). Without d->peers
 * (unit tests) the request counts as sent at once. */
bool kad_fw_udp_offer(kad_fw_t *fw, uint32_t ip, uint16_t tcp_port, uint8_t version, time_t now);
/* kad_fw_on_udp_answer: a KADEMLIA2_FIREWALLUDP from ip: 1: taken (a test
 * we run), 0: not asked for, or a second answer, -1: malformed. */
int kad_fw_on_udp_answer(kad_fw_t *fw, uint32_t ip, const uint8_t *p, size_t len, time_t now);
/* kad_fw_is_udp_checking: whether the round wants more finished tests. */
bool kad_fw_is_udp_checking(const kad_fw_t *fw);
/* kad_fw_is_udp_firewalled: aMule's IsFirewalledUDP(true): while a round
 * runs, the last round's verdict (open before any), or firewalled after
 * the timeout; else this round's. What our HELLO says
 * (KAD_MISC_UDP_FIREWALLED). */
bool kad_fw_is_udp_firewalled(const kad_fw_t *fw);

/* kad_fw_is_firewalled: aMule's answer: fewer than KAD_FW_OPEN_AFTER
 * connect-backs this round, unless the round is still checking, then the
 * last round's state (firewalled before any). */
bool kad_fw_is_firewalled(const kad_fw_t *fw);
/* kad_fw_external_ip: our address as others see it (Kad form), 0 before
 * two answers agreed. */
uint32_t kad_fw_external_ip(const kad_fw_t *fw);
/* kad_fw_tick: once a second: expired requests and UDP tests, the UDP
 * timeout, the next round. */
void kad_fw_tick(kad_fw_t *fw, time_t now);
/* kad_fw_to_json: the counters and the state, added to o. */
void kad_fw_to_json(const kad_fw_t *fw, json_object *o);

#endif
