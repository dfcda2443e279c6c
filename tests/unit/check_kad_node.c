/* check_kad_node.c: unit tests for daemon/kad/kad.c, the Kad node, over a
 * fake client UDP port (the upload side's Kad hook and send function are
 * replaced here): bootstrap, HELLO verification and its ack, answers only
 * to what was asked, find-node answers, ping, obfuscated answers and
 * requests, the
 * amplification limit, the id and nodes.dat kept across restarts, and a
 * keyword search: iterative lookup, search requests, results; the ack
 * keyed for amuled, the firewall checks (TCP and UDP), disconnect and
 * connect; a publish no node answered retried after a back-off (a fake
 * monotonic clock: clock_gettime below). */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "daemon/core/daemon.h"
#include "daemon/kad/firewall.h"
#include "daemon/kad/kad.h"
#include "daemon/kad/lookup.h"
#include "daemon/net/net.h"
#include "daemon/transfer/shared.h"
#include "daemon/transfer/upload.h"
#include "ed2k/kadcrypt.h"
#include "ed2k/kadpkt.h"
#include "ed2k/kadsearch.h"
#include "ed2k/c2s.h"
#include "util/conf.h"

/* ---- the fake UDP port ---- */

#define SENT_MAX 64
typedef struct sent {
    uint32_t ip; /* Kad form */
    uint16_t port;
    uint8_t data[2048];
    size_t len;
} sent_t;

static sent_t sent[SENT_MAX];
static size_t nsent;
static ulq_kad_fn handler;
static void *handler_ctx;

void
ulq_set_kad_handler(ulq_t *q, ulq_kad_fn fn, void *ctx)
{
    (void)q;
    handler = fn;
    handler_ctx = ctx;
}

int
ulq_udp_send(ulq_t *q, uint32_t ip, uint16_t port, const void *data, size_t len)
{
    (void)q;
    ck_assert_uint_lt(nsent, SENT_MAX);
    ck_assert_uint_le(len, sizeof sent[0].data);
    sent[nsent].ip = net_ip_to_host(ip);
    sent[nsent].port = port;
    memcpy(sent[nsent].data, data, len);
    sent[nsent].len = len;
    nsent++;
    return 0;
}

uint16_t
ulq_udp_port(const ulq_t *q)
{
    (void)q;
    return 4672;
}

/* ---- the fake clock: CLOCK_MONOTONIC runs clock_skew s ahead (each
 * test runs in its own process) ---- */

static time_t clock_skew;

int
clock_gettime(clockid_t id, struct timespec *ts)
{
    long r = syscall(SYS_clock_gettime, id, ts);
    if (r == 0 && id == CLOCK_MONOTONIC)
        ts->tv_sec += clock_skew;
    return (int)r;
}

/* ---- the node under test ---- */

static char dir[64];
static muleteerd_t d;
static kad_t *k;
/* The tests read what the node sends: plain unless a test turns
 * obfuscation on (test_obfuscated_requests). */
static const char *obfuscation = "no";

static void
node_start(void)
{
    d.conf = conf_new();
    char text[320];
    snprintf(text, sizeof text,
             "state_dir = %s\nfilter_lan = no\ntcp_port = 4662\nkad_nodes_url =\n"
             "obfuscation_support = %s\n",
             dir, obfuscation);
    ck_assert_int_eq(conf_load_string(d.conf, text, "test", NULL), 0);
    d.uploads = (struct ulq *)&d; /* opaque, never looked into by the fakes */
    nsent = 0;
    k = kad_new(&d, NULL);
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(handler);
}

static void
node_stop(void)
{
    kad_free(k);
    k = NULL;
    conf_free(d.conf);
}

static void
setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/check_kad_node.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    node_start();
}

static void
teardown(void)
{
    node_stop();
    char path[128];
    snprintf(path, sizeof path, "%s/kad_id", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/nodes.dat", dir);
    unlink(path);
    rmdir(dir);
}

/* deliver: the datagram in b arrives from ip (Kad form) and port. */
static void
deliver(struct evbuffer *b, uint32_t ip, uint16_t port)
{
    size_t len = evbuffer_get_length(b);
    handler(handler_ctx, net_ip_from_host(ip), port, evbuffer_pullup(b, -1), len);
    evbuffer_drain(b, len);
}

/* sent_op: how many datagrams of opcode went to ip:port (0: any). */
static size_t
sent_op(uint8_t opcode, uint32_t ip, uint16_t port)
{
    size_t n = 0;
    for (size_t i = 0; i < nsent; i++)
        if (sent[i].data[1] == opcode && (ip == 0 || (sent[i].ip == ip && sent[i].port == port)))
            n++;
    return n;
}

/* last_op: the last datagram of opcode, or NULL. */
static const sent_t *
last_op(uint8_t opcode)
{
    for (size_t i = nsent; i > 0; i--)
        if (sent[i - 1].data[1] == opcode)
            return &sent[i - 1];
    return NULL;
}

static const char *
status_str(const char *key)
{
    static char buf[64];
    json_object *o = kad_to_json(k, false), *v = NULL;
    snprintf(buf, sizeof buf, "%s",
             json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "?");
    json_object_put(o);
    return buf;
}

#define X_IP 0x64400101u /* 100.64.1.1 */
#define Y_IP 0x64400201u
#define PORT 4672

static kad_contact_t
peer(uint32_t ip, uint32_t seed)
{
    kad_contact_t c = { .id = { { 0x80000000u | seed, seed, ~seed, 7 } }, .ip = ip,
                        .udp_port = PORT, .tcp_port = 4662, .version = 8 };
    return c;
}

static void
hello_from(struct evbuffer *b, uint8_t op, kad_contact_t c, uint8_t misc)
{
    kad_hello_t h = { .id = c.id, .tcp_port = c.tcp_port, .version = 8, .misc_options = misc };
    kad_hello_encode(b, op, &h);
    deliver(b, c.ip, c.udp_port);
}

START_TEST(test_bootstrap_and_hello)
{
    struct evbuffer *b = evbuffer_new();
    ck_assert_str_eq(kad_state(k), "connecting");
    ck_assert_int_eq(kad_bootstrap(k, net_ip_from_host(X_IP), PORT, NULL), 0);
    ck_assert_uint_eq(sent_op(KAD_OP_BOOTSTRAP_REQ, X_IP, PORT), 1);

    /* An answer nobody asked for is dropped. */
    kad_contact_t x = peer(X_IP, 1);
    kad_bootstrap_res_t r = { .id = x.id, .tcp_port = 4662, .version = 8, .count = 2 };
    r.contacts[0] = peer(0x64400301u, 2);
    r.contacts[1] = peer(0x64400401u, 3);
    kad_bootstrap_res_encode(b, &r);
    deliver(b, Y_IP, PORT);
    ck_assert_uint_eq(kad_contact_count(k), 0);
    /* The one asked for fills the table, unverified. */
    kad_bootstrap_res_encode(b, &r);
    deliver(b, X_IP, PORT);
    ck_assert_uint_eq(kad_contact_count(k), 3);
    ck_assert_str_eq(kad_state(k), "connecting");
    ck_assert_str_eq(status_str("bootstrapping"), "0");

    /* The tick says hello to each. */
    kad_tick(k);
    ck_assert_uint_eq(sent_op(KAD_OP_HELLO_REQ, 0, 0), 3);
    ck_assert_uint_eq(sent_op(KAD_OP_HELLO_REQ, X_IP, PORT), 1);
    /* X answers, asking for the ack: verified, acked. */
    hello_from(b, KAD_OP_HELLO_RES, x, KAD_MISC_WANT_ACK);
    ck_assert_str_eq(kad_state(k), "connected (firewalled)");
    ck_assert_str_eq(status_str("verified"), "1");
    const sent_t *ack = last_op(KAD_OP_HELLO_RES_ACK);
    ck_assert_ptr_nonnull(ack);
    ck_assert_uint_eq(ack->ip, X_IP);
    kad_id_t id;
    ck_assert_int_eq(kad_hello_ack_decode(ack->data + 2, ack->len - 2, &id, NULL), 0);
    ck_assert(kad_id_equal(&id, kad_me(k)));
    /* A second HELLO_RES from X was not asked for: no second ack. */
    hello_from(b, KAD_OP_HELLO_RES, x, KAD_MISC_WANT_ACK);
    ck_assert_uint_eq(sent_op(KAD_OP_HELLO_RES_ACK, 0, 0), 1);
    /* A UDP-firewalled answer takes the contact out of the table. */
    hello_from(b, KAD_OP_HELLO_RES, r.contacts[0], KAD_MISC_UDP_FIREWALLED);
    ck_assert_uint_eq(kad_contact_count(k), 2);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_answers)
{
    struct evbuffer *b = evbuffer_new();
    kad_contact_t z = peer(Y_IP, 9);
    /* HELLO_REQ: answered with our hello asking for the ack; Z unverified
     * until the ack comes. */
    hello_from(b, KAD_OP_HELLO_REQ, z, 0);
    const sent_t *res = last_op(KAD_OP_HELLO_RES);
    ck_assert_ptr_nonnull(res);
    kad_hello_t h;
    ck_assert_int_eq(kad_hello_decode(res->data + 2, res->len - 2, &h, NULL), 0);
    ck_assert(kad_id_equal(&h.id, kad_me(k)));
    ck_assert_uint_eq(h.tcp_port, 4662);
    ck_assert_uint_eq(h.version, KAD_VERSION);
    ck_assert_uint_eq(h.misc_options & KAD_MISC_WANT_ACK, KAD_MISC_WANT_ACK);
    ck_assert_str_eq(kad_state(k), "connecting");
    kad_hello_ack_encode(b, &z.id);
    deliver(b, z.ip, z.udp_port);
    ck_assert_str_eq(kad_state(k), "connected (firewalled)");

    /* KADEMLIA2_REQ for another receiver: no answer; for us: our verified
     * contacts, as many as asked. */
    kad_req_t rq = { .type = KAD_REQ_FIND_NODE, .target = z.id, .receiver = z.id };
    size_t before = nsent;
    kad_req_encode(b, &rq);
    deliver(b, X_IP, PORT);
    ck_assert_uint_eq(nsent, before);
    rq.receiver = *kad_me(k);
    kad_req_encode(b, &rq);
    deliver(b, z.ip, z.udp_port);
    const sent_t *s = last_op(KAD_OP_RES);
    ck_assert_ptr_nonnull(s);
    kad_res_t out;
    ck_assert_int_eq(kad_res_decode(s->data + 2, s->len - 2, &out, NULL), 0);
    ck_assert_uint_eq(out.count, 1);
    ck_assert(kad_contact_equal(&out.contacts[0], &z));

    /* PING: PONG with the port it came from. */
    kad_ping_encode(b);
    deliver(b, X_IP, 5151);
    s = last_op(KAD_OP_PONG);
    ck_assert_ptr_nonnull(s);
    uint16_t port;
    ck_assert_int_eq(kad_pong_decode(s->data + 2, s->len - 2, &port, NULL), 0);
    ck_assert_uint_eq(port, 5151);
    ck_assert_uint_eq(s->port, 5151);
    evbuffer_free(b);
}
END_TEST

/* amuled obfuscates its HELLO_RES with our id (§9.4): it is read. */
START_TEST(test_obfuscated_answer)
{
    struct evbuffer *b = evbuffer_new();
    kad_contact_t x = peer(X_IP, 1);
    kad_bootstrap_res_t r = { .id = x.id, .tcp_port = 4662, .version = 8 };
    ck_assert_int_eq(kad_bootstrap(k, net_ip_from_host(X_IP), PORT, NULL), 0);
    kad_bootstrap_res_encode(b, &r);
    deliver(b, X_IP, PORT);
    kad_tick(k);
    kad_hello_t h = { .id = x.id, .tcp_port = 4662, .version = 8 };
    kad_hello_encode(b, KAD_OP_HELLO_RES, &h);
    uint8_t enc[128];
    size_t len = kad_crypt_encrypt(evbuffer_pullup(b, -1), evbuffer_get_length(b), kad_me(k),
                                   false, 0, 0x58736619u, enc);
    evbuffer_drain(b, evbuffer_get_length(b));
    handler(handler_ctx, net_ip_from_host(X_IP), PORT, enc, len);
    ck_assert_str_eq(kad_state(k), "connected (firewalled)");
    /* Keyed with another id: not read, counted as malformed. */
    kad_id_t other = *kad_me(k);
    other.w[0] ^= 1;
    len = kad_crypt_encrypt(enc, 2, &other, false, 0, 0, enc);
    handler(handler_ctx, net_ip_from_host(Y_IP), PORT, enc, len);
    ck_assert_str_eq(status_str("malformed"), "1");
    evbuffer_free(b);
}
END_TEST

/* open_sent: a datagram the node sent to the node with id `to` (its
 * verify key for us: key), decrypted into out; the keys it carried. */
static int
open_sent(const sent_t *s, const kad_id_t *to, uint32_t key, uint8_t *out, size_t *len,
          uint32_t *rk, uint32_t *sk)
{
    return kad_crypt_decrypt(s->data, s->len, to, key, out, len, rk, sk, NULL);
}

/* With obfuscation on, requests to a contact of version 6 or later go
 * keyed by its id, carrying the verify key it handed us; answers to an
 * obfuscated request go keyed by the key it carried; version 5 contacts
 * and plain requests get plain datagrams (aMule's rules, §9.4). */
START_TEST(test_obfuscated_requests)
{
    node_stop();
    obfuscation = "yes";
    node_start();
    struct evbuffer *b = evbuffer_new();
    kad_contact_t x = peer(X_IP, 1), old = peer(Y_IP, 2);
    old.version = 5;
    /* X says hello obfuscated (keyed by our id), handing us key 0x1234. */
    kad_hello_t h = { .id = x.id, .tcp_port = 4662, .version = 8 };
    kad_hello_encode(b, KAD_OP_HELLO_REQ, &h);
    uint8_t enc[256], plain[2048];
    size_t len = kad_crypt_encrypt(evbuffer_pullup(b, -1), evbuffer_get_length(b), kad_me(k),
                                   false, 0, 0x1234u, enc);
    evbuffer_drain(b, evbuffer_get_length(b));
    handler(handler_ctx, net_ip_from_host(X_IP), PORT, enc, len);
    ck_assert_uint_eq(nsent, 1);
    /* The answer: not plain, keyed by X's id, echoing X's key. */
    ck_assert(!kad_crypt_is_plain(sent[0].data[0]));
    ck_assert_uint_eq(sent[0].data[0] & 0x03, 0);
    size_t n = 0;
    uint32_t rk = 0, sk = 0;
    ck_assert_int_eq(open_sent(&sent[0], &x.id, 0, plain, &n, &rk, &sk), 0);
    ck_assert_uint_eq(plain[1], KAD_OP_HELLO_RES);
    ck_assert_uint_eq(rk, 0x1234u);
    ck_assert_uint_ne(sk, 0);
    /* A ping from X, obfuscated with X's key only: the pong is keyed by
     * that key (marker bit 1). */
    kad_ping_encode(b);
    len = kad_crypt_encrypt(evbuffer_pullup(b, -1), evbuffer_get_length(b), kad_me(k), false, 0,
                            0x1234u, enc);
    evbuffer_drain(b, evbuffer_get_length(b));
    handler(handler_ctx, net_ip_from_host(X_IP), PORT, enc, len);
    ck_assert_uint_eq(nsent, 2);
    ck_assert_uint_eq(sent[1].data[0] & 0x03, 0x02);
    kad_id_t nobody = { { 0, 0, 0, 1 } };
    ck_assert_int_eq(open_sent(&sent[1], &nobody, 0x1234u, plain, &n, &rk, &sk), 0);
    ck_assert_uint_eq(plain[1], KAD_OP_PONG);
    /* A plain ping gets a plain pong. */
    kad_ping_encode(b);
    deliver(b, X_IP, PORT);
    ck_assert_uint_eq(sent[2].data[0], 0xE4);
    ck_assert_uint_eq(sent[2].data[1], KAD_OP_PONG);
    /* The tick says hello to X (known, unverified): keyed by its id, with
     * its key; the version 5 contact gets a plain hello. */
    kad_hello_t ho = { .id = old.id, .tcp_port = 4662, .version = 5 };
    kad_hello_encode(b, KAD_OP_HELLO_REQ, &ho);
    deliver(b, old.ip, old.udp_port);
    ck_assert_uint_eq(kad_contact_count(k), 2);
    nsent = 0;
    kad_tick(k);
    const sent_t *to_x = NULL, *to_old = NULL;
    for (size_t i = 0; i < nsent; i++) {
        if (sent[i].ip == X_IP)
            to_x = &sent[i];
        if (sent[i].ip == Y_IP)
            to_old = &sent[i];
    }
    ck_assert_ptr_nonnull(to_x);
    ck_assert_ptr_nonnull(to_old);
    ck_assert_uint_eq(to_old->data[0], 0xE4);
    ck_assert_uint_eq(to_old->data[1], KAD_OP_HELLO_REQ);
    ck_assert_int_eq(open_sent(to_x, &x.id, 0, plain, &n, &rk, &sk), 0);
    ck_assert_uint_eq(plain[1], KAD_OP_HELLO_REQ);
    ck_assert_uint_eq(rk, 0x1234u);
    ck_assert_uint_ge(strtoul(status_str("obfuscated_out"), NULL, 10), 3);
    ck_assert_str_eq(status_str("obfuscated_in"), "2");
    evbuffer_free(b);
    obfuscation = "no";
}
END_TEST

START_TEST(test_amplification)
{
    struct evbuffer *b = evbuffer_new();
    for (int i = 0; i < 3; i++) {
        kad_bootstrap_req_encode(b);
        deliver(b, Y_IP, PORT);
    }
    ck_assert_uint_eq(sent_op(KAD_OP_BOOTSTRAP_RES, Y_IP, PORT), 1);
    kad_bootstrap_req_encode(b);
    deliver(b, X_IP, PORT);
    ck_assert_uint_eq(sent_op(KAD_OP_BOOTSTRAP_RES, X_IP, PORT), 1);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_restart_keeps_id_and_contacts)
{
    struct evbuffer *b = evbuffer_new();
    kad_id_t me = *kad_me(k);
    kad_contact_t z = peer(Y_IP, 9);
    hello_from(b, KAD_OP_HELLO_REQ, z, 0);
    ck_assert_uint_eq(kad_contact_count(k), 1);
    node_stop();
    node_start();
    ck_assert(kad_id_equal(kad_me(k), &me));
    ck_assert_uint_eq(kad_contact_count(k), 1);
    /* Read back unverified: the tick says hello to it. */
    ck_assert_str_eq(kad_state(k), "connecting");
    kad_tick(k);
    ck_assert_uint_eq(sent_op(KAD_OP_HELLO_REQ, Y_IP, PORT), 1);
    evbuffer_free(b);
}
END_TEST

/* ---- keyword search ---- */

static int64_t got_id;
static size_t got_n;
static char got_name[64];

static void
sink(void *ctx, int64_t id, ed2k_search_result_t *r, size_t n, bool done)
{
    (void)ctx;
    if (done)
        return;
    got_id = id;
    got_n += n;
    if (n > 0)
        snprintf(got_name, sizeof got_name, "%s", r[0].name);
}

static void
search_res_from(struct evbuffer *b, const kad_contact_t *from, const kad_id_t *target)
{
    kad_search_answer_t a = { .tags = ed2k_taglist_new() };
    kad_word_id("the file", &a.id);
    ed2k_taglist_add_str(a.tags, ED2K_FT_FILENAME, "kwtest334 file.bin", 18);
    ed2k_taglist_add_uint(a.tags, ED2K_FT_FILESIZE, 0, 12345);
    kad_search_res_t r = { .sender = from->id, .target = *target, .count = 1, .v = &a };
    ck_assert_int_eq(kad_search_res_encode(b, &r, NULL), 0);
    deliver(b, from->ip, from->udp_port);
    ed2k_taglist_free(a.tags);
}

START_TEST(test_keyword_search)
{
    struct evbuffer *b = evbuffer_new();
    kad_set_results_sink(k, sink, NULL);
    got_n = 0;
    /* Not connected: refused. */
    ck_assert_int_ne(kad_search_keyword(k, 7, "kwtest334", NULL, 0, NULL), 0);
    kad_contact_t z = peer(Y_IP, 9), w = peer(0x64400301u, 4);
    hello_from(b, KAD_OP_HELLO_REQ, z, 0);
    kad_hello_ack_encode(b, &z.id);
    deliver(b, z.ip, z.udp_port);
    ck_assert_str_eq(kad_state(k), "connected (firewalled)");
    ck_assert_int_ne(kad_search_keyword(k, 7, "a b", NULL, 0, NULL), 0); /* no word */

    /* The longest word is looked up: Z asked first. */
    const uint8_t tree[] = { 0x01, 0x03, 0x00, 'k', 'w', 't' };
    ck_assert_int_eq(kad_search_keyword(k, 7, "File Kwtest334", tree, sizeof tree, NULL), 0);
    kad_id_t target;
    kad_word_id("kwtest334", &target);
    const sent_t *s = last_op(KAD_OP_REQ);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->ip, Y_IP);
    kad_req_t rq;
    ck_assert_int_eq(kad_req_decode(s->data + 2, s->len - 2, &rq, NULL), 0);
    ck_assert(kad_id_equal(&rq.target, &target));
    ck_assert(kad_id_equal(&rq.receiver, &z.id));
    /* Z names W: W is asked next; W names nobody: the lookup is over. */
    kad_res_t res = { .target = target, .count = 1 };
    res.contacts[0] = w;
    kad_res_encode(b, &res);
    deliver(b, z.ip, z.udp_port);
    ck_assert_uint_eq(sent_op(KAD_OP_REQ, w.ip, w.udp_port), 1);
    ck_assert_uint_eq(sent_op(KAD_OP_SEARCH_KEY_REQ, 0, 0), 0);
    res.count = 0;
    kad_res_encode(b, &res);
    deliver(b, w.ip, w.udp_port);
    kad_tick(k);
    /* Both asked with the keyword and the tree (test addresses are exempt
     * from the tolerance). */
    ck_assert_uint_eq(sent_op(KAD_OP_SEARCH_KEY_REQ, z.ip, z.udp_port), 1);
    ck_assert_uint_eq(sent_op(KAD_OP_SEARCH_KEY_REQ, w.ip, w.udp_port), 1);
    s = last_op(KAD_OP_SEARCH_KEY_REQ);
    kad_search_key_req_t kr;
    ck_assert_int_eq(kad_search_key_req_decode(s->data + 2, s->len - 2, &kr, NULL), 0);
    ck_assert(kad_id_equal(&kr.keyword, &target));
    ck_assert_uint_eq(kr.tree_len, sizeof tree);
    /* An answer from a node not asked is dropped; W's reaches the sink. */
    kad_contact_t x = peer(X_IP, 1);
    search_res_from(b, &x, &target);
    ck_assert_uint_eq(got_n, 0);
    search_res_from(b, &w, &target);
    ck_assert_uint_eq(got_n, 1);
    ck_assert_int_eq(got_id, 7);
    ck_assert_str_eq(got_name, "kwtest334 file.bin");
    ck_assert_str_eq(status_str("search_results"), "1");
    evbuffer_free(b);
}
END_TEST

/* Others publish to us; we answer their searches from the index. */
START_TEST(test_index_serves)
{
    struct evbuffer *b = evbuffer_new();
    kad_contact_t z = peer(Y_IP, 9), w = peer(0x64400301u, 4);
    kad_id_t kw;
    kad_word_id("kwtest334", &kw);
    kad_search_answer_t f = { .tags = ed2k_taglist_new() };
    kad_word_id("a file", &f.id);
    ed2k_taglist_add_str(f.tags, ED2K_FT_FILENAME, "kwtest334.bin", 13);
    ed2k_taglist_add_uint(f.tags, ED2K_FT_FILESIZE, 0, 4096);
    /* A search before anything was published: no answer. */
    kad_search_key_req_encode(b, &kw, NULL, 0);
    deliver(b, z.ip, z.udp_port);
    ck_assert_uint_eq(sent_op(KAD_OP_SEARCH_RES, 0, 0), 0);
    /* A keyword publish from W (a test address: exempt from the
     * tolerance): stored, answered with the load. */
    ck_assert_int_eq(kad_publish_key_req_encode(b, &kw, &f, 1, NULL), 0);
    deliver(b, w.ip, w.udp_port);
    const sent_t *s = last_op(KAD_OP_PUBLISH_RES);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->ip, w.ip);
    kad_id_t t;
    uint8_t load;
    ck_assert_int_eq(kad_publish_res_decode(s->data + 2, s->len - 2, &t, &load, NULL), 0);
    ck_assert(kad_id_equal(&t, &kw));
    ck_assert_uint_ge(load, 1);
    ck_assert_str_eq(status_str("indexed_keywords"), "1");
    /* The same from a public address far from our id: refused. */
    ck_assert_int_eq(kad_publish_key_req_encode(b, &kw, &f, 1, NULL), 0);
    if (!kad_in_tolerance(kad_me(k), &kw)) {
        deliver(b, 0x01020304u, PORT);
        ck_assert_uint_eq(sent_op(KAD_OP_PUBLISH_RES, 0x01020304u, PORT), 0);
    }
    evbuffer_drain(b, evbuffer_get_length(b));
    /* Z searches the keyword: the file comes back. */
    kad_search_key_req_encode(b, &kw, NULL, 0);
    deliver(b, z.ip, z.udp_port);
    s = last_op(KAD_OP_SEARCH_RES);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->ip, z.ip);
    kad_search_res_t r;
    ck_assert_int_eq(kad_search_res_decode(s->data + 2, s->len - 2, &r, NULL), 0);
    ck_assert_uint_eq(r.count, 1);
    ck_assert(kad_id_equal(&r.sender, kad_me(k)));
    ck_assert(kad_id_equal(&r.v[0].id, &f.id));
    kad_search_res_clear(&r);
    /* A source publish: indexed with the address it came from. */
    kad_id_t file = f.id, user;
    kad_word_id("user", &user);
    ed2k_taglist_t *st = ed2k_taglist_new();
    ed2k_taglist_add_uint(st, KAD_TAG_SOURCETYPE, 0, KAD_SOURCE_HIGHID);
    ed2k_taglist_add_uint(st, KAD_TAG_SOURCEPORT, 0, 4662);
    ck_assert_int_eq(kad_publish_source_req_encode(b, &file, &user, st, NULL), 0);
    deliver(b, w.ip, w.udp_port);
    ck_assert_uint_eq(sent_op(KAD_OP_PUBLISH_RES, w.ip, w.udp_port), 2);
    /* (Z, unverified, had its large answer for a while: X asks) */
    kad_search_source_req_encode(b, &file, 4096);
    deliver(b, z.ip, z.udp_port);
    ck_assert_uint_eq(sent_op(KAD_OP_SEARCH_RES, 0, 0), 1);
    kad_search_source_req_encode(b, &file, 4096);
    deliver(b, X_IP, PORT);
    s = last_op(KAD_OP_SEARCH_RES);
    ck_assert_uint_eq(s->ip, X_IP);
    ck_assert_int_eq(kad_search_res_decode(s->data + 2, s->len - 2, &r, NULL), 0);
    ck_assert_uint_eq(r.count, 1);
    ck_assert(kad_id_equal(&r.v[0].id, &user));
    uint64_t v;
    ck_assert_int_eq(ed2k_taglist_get_uint(r.v[0].tags, KAD_TAG_SOURCEIP, &v), 0);
    ck_assert_uint_eq(v, w.ip);
    ck_assert_int_eq(ed2k_taglist_get_uint(r.v[0].tags, KAD_TAG_SOURCEPORT, &v), 0);
    ck_assert_uint_eq(v, 4662);
    kad_search_res_clear(&r);
    ed2k_taglist_free(st);
    ed2k_taglist_free(f.tags);
    evbuffer_free(b);
}
END_TEST

/* amuled takes a HELLO_RES_ACK only with a valid receiver key: the ack
 * to an obfuscated HELLO_RES goes keyed with the verify key it handed us. */
START_TEST(test_obfuscated_ack)
{
    node_stop();
    obfuscation = "yes"; /* the daemon's default */
    node_start();
    struct evbuffer *b = evbuffer_new();
    kad_contact_t x = peer(X_IP, 1);
    kad_bootstrap_res_t r = { .id = x.id, .tcp_port = 4662, .version = 8 };
    ck_assert_int_eq(kad_bootstrap(k, net_ip_from_host(X_IP), PORT, NULL), 0);
    kad_bootstrap_res_encode(b, &r);
    deliver(b, X_IP, PORT);
    kad_tick(k);
    kad_hello_t h = { .id = x.id, .tcp_port = 4662, .version = 8,
                      .misc_options = KAD_MISC_WANT_ACK };
    kad_hello_encode(b, KAD_OP_HELLO_RES, &h);
    uint8_t enc[128];
    size_t len = kad_crypt_encrypt(evbuffer_pullup(b, -1), evbuffer_get_length(b), kad_me(k),
                                   false, 0, 0x58736619u, enc);
    evbuffer_drain(b, evbuffer_get_length(b));
    size_t before = nsent;
    handler(handler_ctx, net_ip_from_host(X_IP), PORT, enc, len);
    ck_assert_str_eq(kad_state(k), "connected (firewalled)");
    ck_assert_uint_eq(sent_op(KAD_OP_HELLO_RES_ACK, 0, 0), 0); /* not in the clear */
    bool found = false;
    for (size_t i = before; i < nsent; i++) {
        uint8_t plain[2048];
        size_t plen;
        uint32_t rk = 0, sk = 0;
        if (sent[i].ip != X_IP || kad_crypt_is_plain(sent[i].data[0]) ||
            kad_crypt_decrypt(sent[i].data, sent[i].len, &x.id, 0x58736619u, plain, &plen, &rk,
                              &sk, NULL) != 0)
            continue;
        ck_assert_uint_eq(rk, 0x58736619u);
        ck_assert_uint_ne(sk, 0);
        ck_assert_uint_eq(plain[1], KAD_OP_HELLO_RES_ACK);
        kad_id_t id;
        ck_assert_int_eq(kad_hello_ack_decode(plain + 2, plen - 2, &id, NULL), 0);
        ck_assert(kad_id_equal(&id, kad_me(k)));
        found = true;
    }
    ck_assert(found);
    evbuffer_free(b);
    obfuscation = "no";
}
END_TEST

/* Others' firewall checks: the address seen goes back at once, once a
 * minute per address; the connect-back is the peer side's (none here). */
START_TEST(test_firewall_answer)
{
    struct evbuffer *b = evbuffer_new();
    kad_fw_req_t rq = { .tcp_port = 4662, .v2 = true, .connect_options = 1 };
    kad_fw_req_encode(b, &rq);
    deliver(b, X_IP, PORT);
    const sent_t *s = last_op(KAD_OP_FIREWALLED_RES);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->ip, X_IP);
    ck_assert_uint_eq(s->port, PORT);
    uint32_t ip = 0;
    ck_assert_int_eq(kad_fw_res_decode(s->data + 2, s->len - 2, &ip, NULL), 0);
    ck_assert_uint_eq(ip, X_IP);
    kad_fw_req_encode(b, &rq);
    deliver(b, X_IP, PORT);
    ck_assert_uint_eq(sent_op(KAD_OP_FIREWALLED_RES, 0, 0), 1);
    rq.v2 = false; /* the old form, from another address */
    kad_fw_req_encode(b, &rq);
    deliver(b, Y_IP, PORT);
    ck_assert_uint_eq(sent_op(KAD_OP_FIREWALLED_RES, Y_IP, PORT), 1);
    /* A truncated request is malformed. */
    evbuffer_add(b, "\xe4\x53\x01", 3);
    deliver(b, 0x64400301u, PORT);
    ck_assert_str_eq(status_str("malformed"), "1");
    evbuffer_free(b);
}
END_TEST

/* Our TCP check (aMule's rule): once connected, the verified contacts and
 * every node that says hello are asked (once); two connect-backs from
 * nodes we asked make us open; the address two answers agree on is
 * ours. */
START_TEST(test_firewall_own_check)
{
    struct evbuffer *b = evbuffer_new();
    kad_contact_t c[5];
    for (uint32_t i = 0; i < 5; i++)
        c[i] = peer(0x64400101u + (i << 8), 20 + i);
    hello_from(b, KAD_OP_HELLO_REQ, c[0], 0);
    kad_hello_ack_encode(b, &c[0].id);
    deliver(b, c[0].ip, c[0].udp_port);
    ck_assert_uint_eq(sent_op(KAD_OP_FIREWALLED2_REQ, 0, 0), 0); /* not connected yet */
    kad_tick(k); /* connected: a check starts, the verified contact asked */
    ck_assert_str_eq(status_str("firewall_checking"), "true");
    ck_assert_uint_eq(sent_op(KAD_OP_FIREWALLED2_REQ, c[0].ip, PORT), 1);
    for (int i = 1; i < 5; i++)
        hello_from(b, KAD_OP_HELLO_REQ, c[i], 0);
    hello_from(b, KAD_OP_HELLO_REQ, c[1], 0);
    kad_tick(k);
    ck_assert_uint_eq(sent_op(KAD_OP_FIREWALLED2_REQ, 0, 0), 5);
    const sent_t *s = last_op(KAD_OP_FIREWALLED2_REQ);
    kad_fw_req_t rq;
    ck_assert_int_eq(kad_fw_req_decode(s->data[1], s->data + 2, s->len - 2, &rq, NULL), 0);
    ck_assert_uint_eq(rq.tcp_port, 4662);
    ck_assert(rq.v2);
    /* Answers from nodes not asked, and acks from them, do not count. */
    kad_fw_res_encode(b, 0x64400901u);
    deliver(b, 0x64400a01u, PORT);
    kad_fw_ack_encode(b);
    deliver(b, 0x64400a01u, PORT);
    ck_assert_str_eq(status_str("firewall_answers"), "0");
    ck_assert_str_eq(kad_state(k), "connected (firewalled)");
    /* One connect-back (by UDP, Kad < 7's form) is not enough... */
    kad_fw_ack_encode(b);
    deliver(b, c[1].ip, PORT);
    kad_fw_ack_encode(b);
    deliver(b, c[1].ip, PORT); /* (the same node twice counts once) */
    ck_assert_str_eq(kad_state(k), "connected (firewalled)");
    /* ...two are. */
    kad_fw_ack_encode(b);
    deliver(b, c[2].ip, PORT);
    ck_assert_str_eq(kad_state(k), "connected (open)");
    /* Four answers end the round; two agreeing name our address. */
    for (int i = 1; i < 5; i++) {
        kad_fw_res_encode(b, 0x64400901u);
        deliver(b, c[i].ip, PORT);
    }
    ck_assert_str_eq(status_str("firewall_answers"), "4");
    ck_assert_str_eq(status_str("firewall_checking"), "false");
    ck_assert_str_eq(status_str("external_address"), "100.64.9.1");
    ck_assert_str_eq(kad_state(k), "connected (open)");
    evbuffer_free(b);
}
END_TEST

/* Our UDP check through the node: once connected, a random lookup runs;
 * the fresh nodes its answer names become testers (KAD_FW_UDP_CLIENTS of
 * them, kept out of the table), the others join it; answers from nodes
 * not asked are dropped, one saying the tester knew us cancels its test,
 * one with error 0 on our port makes us open (and the round is over). */
START_TEST(test_firewall_udp_check)
{
    struct evbuffer *b = evbuffer_new();
    kad_contact_t c0 = peer(X_IP, 30), t[4];
    for (uint32_t i = 0; i < 4; i++)
        t[i] = peer(0x64400501u + (i << 8), 40 + i);
    t[3].version = 5; /* too old for a UDP test */
    hello_from(b, KAD_OP_HELLO_REQ, c0, 0);
    kad_hello_ack_encode(b, &c0.id);
    deliver(b, c0.ip, c0.udp_port);
    ck_assert_str_eq(status_str("udp_firewall_checking"), "false");
    kad_tick(k); /* connected: both checks start, lookups go to c0 */
    ck_assert_str_eq(status_str("udp_firewall_checking"), "true");
    ck_assert_str_eq(status_str("udp_firewalled"), "false");
    ck_assert_uint_ge(sent_op(KAD_OP_REQ, c0.ip, PORT), 2); /* our id and a random one */
    kad_res_t res = { .count = 4 };
    res.contacts[0] = t[3];
    res.contacts[1] = t[0];
    res.contacts[2] = t[1];
    res.contacts[3] = t[2];
    kad_res_encode(b, &res);
    deliver(b, c0.ip, PORT);
    ck_assert_str_eq(status_str("udp_firewall_checks_asked"), "2");
    ck_assert_uint_eq(kad_contact_count(k), 3); /* c0, t[2], t[3]: the testers are not */
    /* Answers from a node not asked do not count. */
    kad_fw_udp_encode(b, 0, 4672);
    deliver(b, Y_IP, PORT);
    ck_assert_str_eq(status_str("udp_firewall_answers"), "0");
    /* t[0] knew us: cancelled, still checking, the next fresh node asked. */
    kad_fw_udp_encode(b, 1, 4672);
    deliver(b, t[0].ip, PORT);
    ck_assert_str_eq(status_str("udp_firewall_answers"), "1");
    ck_assert_str_eq(status_str("udp_firewall_checking"), "true");
    kad_contact_t t4 = peer(0x64400a01u, 50);
    res.count = 1;
    res.contacts[0] = t4;
    kad_res_encode(b, &res);
    deliver(b, c0.ip, PORT);
    ck_assert_str_eq(status_str("udp_firewall_checks_asked"), "3");
    /* t[1]'s answer names another port: cancelled too; a second answer
     * of a test that ended is not counted. */
    kad_fw_udp_encode(b, 0, 4673);
    deliver(b, t[1].ip, PORT);
    kad_fw_udp_encode(b, 0, 4672);
    deliver(b, t[1].ip, PORT);
    ck_assert_str_eq(status_str("udp_firewall_answers"), "2");
    ck_assert_str_eq(status_str("udp_firewall_checking"), "true");
    /* t4's datagram reached our port: open, the round is over. */
    kad_fw_udp_encode(b, 0, 4672);
    deliver(b, t4.ip, PORT);
    ck_assert_str_eq(status_str("udp_firewall_answers"), "3");
    ck_assert_str_eq(status_str("udp_firewall_checking"), "false");
    ck_assert_str_eq(status_str("udp_firewalled"), "false");
    /* Our HELLO does not say UDP-firewalled. */
    hello_from(b, KAD_OP_HELLO_REQ, peer(0x64400b01u, 60), 0);
    const sent_t *s = last_op(KAD_OP_HELLO_RES);
    ck_assert_ptr_nonnull(s);
    kad_hello_t h;
    ck_assert_int_eq(kad_hello_decode(s->data + 2, s->len - 2, &h, NULL), 0);
    ck_assert_uint_eq(h.misc_options & KAD_MISC_UDP_FIREWALLED, 0);
    evbuffer_free(b);
}
END_TEST

/* The UDP check's verdict over time (firewall.c alone, its clock given):
 * two tests that got no answer make us firewalled; a new round keeps
 * saying so until it decides; one that cannot decide in
 * KAD_FW_UDP_TIMEOUT s while TCP-firewalled says firewalled, unless a
 * round ever decided. */
static uint32_t known_ip;

static bool
fake_knows(void *ctx, uint32_t ip)
{
    (void)ctx;
    return ip == known_ip;
}

static uint16_t
fake_port(void *ctx)
{
    (void)ctx;
    return 4672;
}

static int
udp_answer(kad_fw_t *fw, uint32_t ip, uint8_t error, uint16_t port, time_t now)
{
    struct evbuffer *b = evbuffer_new();
    kad_fw_udp_encode(b, error, port);
    int rc = kad_fw_on_udp_answer(fw, ip, evbuffer_pullup(b, -1) + 2, evbuffer_get_length(b) - 2,
                                  now);
    evbuffer_free(b);
    return rc;
}

START_TEST(test_firewall_udp_verdict)
{
    muleteerd_t fd = { 0 };
    kad_fw_t *fw = kad_fw_new(&fd, &(kad_fw_hooks_t){ .knows = fake_knows,
                                                       .udp_port = fake_port });
    time_t now = 1000;
    known_ip = 0x64400101u;
    ck_assert(!kad_fw_udp_offer(fw, 0x64400201u, 4662, 8, now)); /* no round yet */
    kad_fw_recheck(fw, now);
    ck_assert(kad_fw_is_udp_checking(fw));
    ck_assert(!kad_fw_is_udp_firewalled(fw));
    ck_assert(!kad_fw_udp_offer(fw, known_ip, 4662, 8, now));     /* in our table */
    ck_assert(!kad_fw_udp_offer(fw, 0x64400201u, 4662, 5, now));  /* Kad 5 */
    ck_assert(!kad_fw_udp_offer(fw, 0x64400201u, 0, 8, now));     /* no TCP port */
    ck_assert(kad_fw_udp_offer(fw, 0x64400201u, 4662, 8, now));
    ck_assert(!kad_fw_udp_offer(fw, 0x64400201u, 4662, 8, now));  /* asked already */
    ck_assert(kad_fw_udp_offer(fw, 0x64400301u, 4662, 8, now));
    ck_assert(!kad_fw_udp_offer(fw, 0x64400401u, 4662, 8, now));  /* two run */
    /* No answer for KAD_FW_ASK_TTL s: both failed: firewalled. */
    kad_fw_tick(fw, now + KAD_FW_ASK_TTL - 1);
    ck_assert(kad_fw_is_udp_checking(fw));
    kad_fw_tick(fw, now + KAD_FW_ASK_TTL);
    ck_assert(!kad_fw_is_udp_checking(fw));
    ck_assert(kad_fw_is_udp_firewalled(fw));
    ck_assert_int_eq(udp_answer(fw, 0x64400201u, 0, 4672, now + KAD_FW_ASK_TTL), 0); /* late */
    /* A new round says firewalled (the last verdict) until one answer
     * proves the port open. */
    now += 2 * KAD_FW_ASK_TTL;
    kad_fw_recheck(fw, now);
    ck_assert(kad_fw_is_udp_firewalled(fw));
    ck_assert(kad_fw_udp_offer(fw, 0x64400401u, 4662, 8, now));
    ck_assert_int_eq(udp_answer(fw, 0x64400401u, 0, 4672, now + 1), 1);
    ck_assert(!kad_fw_is_udp_checking(fw));
    ck_assert(!kad_fw_is_udp_firewalled(fw));
    kad_fw_free(fw);

    /* The timeout: no tester found in KAD_FW_UDP_TIMEOUT s of a first
     * round, TCP-firewalled (no connect-back): firewalled. */
    fw = kad_fw_new(&fd, &(kad_fw_hooks_t){ .knows = fake_knows, .udp_port = fake_port });
    kad_fw_recheck(fw, now);
    kad_fw_tick(fw, now + KAD_FW_UDP_TIMEOUT);
    ck_assert(!kad_fw_is_udp_firewalled(fw));
    kad_fw_tick(fw, now + KAD_FW_UDP_TIMEOUT + 1);
    ck_assert(kad_fw_is_udp_checking(fw));
    ck_assert(kad_fw_is_udp_firewalled(fw));
    kad_fw_free(fw);
}
END_TEST

/* kad_disconnect: no traffic, contacts kept; kad_connect: hello again. */
START_TEST(test_disconnect_connect)
{
    struct evbuffer *b = evbuffer_new();
    kad_contact_t z = peer(Y_IP, 9);
    hello_from(b, KAD_OP_HELLO_REQ, z, 0);
    kad_hello_ack_encode(b, &z.id);
    deliver(b, z.ip, z.udp_port);
    ck_assert_str_eq(kad_state(k), "connected (firewalled)");
    ck_assert_int_eq(kad_disconnect(k, NULL), 0);
    ck_assert_str_eq(kad_state(k), "off");
    ck_assert_str_eq(status_str("disconnected"), "true");
    ck_assert_uint_eq(kad_contact_count(k), 1);
    size_t before = nsent;
    kad_ping_encode(b);
    deliver(b, z.ip, z.udp_port);
    kad_tick(k);
    ck_assert_uint_eq(nsent, before);
    ck_assert_int_eq(kad_search_keyword(k, 1, "ubuntu", NULL, 0, NULL), -1);
    ck_assert_int_eq(kad_connect(k, NULL), 0);
    ck_assert_str_eq(kad_state(k), "connecting");
    ck_assert_uint_eq(sent_op(KAD_OP_HELLO_REQ, z.ip, z.udp_port), 1);
    hello_from(b, KAD_OP_HELLO_RES, z, 0);
    ck_assert_str_eq(kad_state(k), "connected (firewalled)");
    evbuffer_free(b);
}
END_TEST

/* reqs_for: KADEMLIA2_REQs for target sent since the last call (the
 * record of sent datagrams is emptied). */
static unsigned
reqs_for(const kad_id_t *target)
{
    unsigned n = 0;
    for (size_t i = 0; i < nsent; i++) {
        kad_req_t rq;
        if (sent[i].data[1] == KAD_OP_REQ &&
            kad_req_decode(sent[i].data + 2, sent[i].len - 2, &rq, NULL) == 0 &&
            kad_id_equal(&rq.target, target))
            n++;
    }
    nsent = 0;
    return n;
}

/* ticks_at: the clock at skew s, a few ticks (jobs end, new ones start)
 * after z says hello (it stays in the table, though it answers no
 * lookup); the lookups for target started meanwhile. */
static unsigned
ticks_at(time_t skew, kad_contact_t z, const kad_id_t *target)
{
    unsigned n = 0;
    struct evbuffer *b = evbuffer_new();
    clock_skew = skew;
    hello_from(b, KAD_OP_HELLO_REQ, z, 0);
    evbuffer_free(b);
    for (int i = 0; i < 4; i++) {
        kad_tick(k);
        n += reqs_for(target);
    }
    return n;
}

/* A source publish that reached nobody is started again after a minute
 * (not 5 h later); one a node answered with PUBLISH_RES is not. */
START_TEST(test_publish_retry)
{
    struct evbuffer *b = evbuffer_new();
    char cache[128];
    snprintf(cache, sizeof cache, "%s/shared.cache", dir);
    d.shared = shared_new(NULL, NULL, cache, "", NULL);
    ed2k_hash_result_t r = { .size = 5000 };
    memset(r.file_hash, 0x5a, sizeof r.file_hash);
    shared_add(d.shared, "/nonexistent/kwretry.bin", 5000, 0, &r);
    kad_id_t file;
    kad_id_from_digest(&file, r.file_hash);

    kad_contact_t z = peer(Y_IP, 9);
    hello_from(b, KAD_OP_HELLO_REQ, z, 0);
    kad_hello_ack_encode(b, &z.id);
    deliver(b, z.ip, z.udp_port);
    ck_assert_uint_eq(ticks_at(0, z, &file), 0); /* connected: nothing yet */
    /* 20 s after connecting the source publish starts; Z never answers. */
    ck_assert_uint_eq(ticks_at(21, z, &file), 1);
    ck_assert_uint_eq(ticks_at(45, z, &file), 0); /* over, reached nobody */
    /* A minute after it started: again. */
    ck_assert_uint_eq(ticks_at(90, z, &file), 1);
    /* This time Z answers the lookup and takes the publish. */
    kad_res_t res = { .target = file, .count = 0 };
    kad_res_encode(b, &res);
    deliver(b, z.ip, z.udp_port);
    kad_tick(k);
    ck_assert_uint_eq(sent_op(KAD_OP_PUBLISH_SOURCE_REQ, z.ip, z.udp_port), 1);
    kad_publish_res_encode(b, &file, 10);
    deliver(b, z.ip, z.udp_port);
    (void)reqs_for(&file);
    /* Answered: not again before the republish, past any back-off. */
    ck_assert_uint_eq(ticks_at(90 + 150, z, &file), 0);
    ck_assert_uint_eq(ticks_at(90 + 4000, z, &file), 0);
    kad_free(k); /* before the shared list it reads */
    k = kad_new(&d, NULL);
    shared_free(d.shared);
    d.shared = NULL;
    unlink(cache);
    clock_skew = 0; /* check times the test with this clock too */
    evbuffer_free(b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("kad_node");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_bootstrap_and_hello);
    tcase_add_test(tc, test_answers);
    tcase_add_test(tc, test_obfuscated_answer);
    tcase_add_test(tc, test_obfuscated_requests);
    tcase_add_test(tc, test_amplification);
    tcase_add_test(tc, test_restart_keeps_id_and_contacts);
    tcase_add_test(tc, test_keyword_search);
    tcase_add_test(tc, test_index_serves);
    tcase_add_test(tc, test_obfuscated_ack);
    tcase_add_test(tc, test_firewall_answer);
    tcase_add_test(tc, test_firewall_own_check);
    tcase_add_test(tc, test_firewall_udp_check);
    tcase_add_test(tc, test_firewall_udp_verdict);
    tcase_add_test(tc, test_disconnect_connect);
    tcase_add_test(tc, test_publish_retry);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
