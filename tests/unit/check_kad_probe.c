/* check_kad_probe.c: unit tests for the node lookups started on demand
 * (kad_probe_start, kad_probe_to_json in daemon/kad/kad.c; control command
 * kad-lookup), over a fake client UDP port: refused when not connected,
 * requests and answers counted, done when no closer contact can turn up,
 * the closest that answered listed nearest first, a silent contact counted
 * as a timeout and left out, unknown numbers refused. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/core/daemon.h"
#include "daemon/kad/kad.h"
#include "daemon/kad/lookup.h"
#include "daemon/net/net.h"
#include "daemon/transfer/upload.h"
#include "ed2k/kadpkt.h"
#include "util/conf.h"

/* ---- the fake UDP port (the upload side's Kad hook and send) ---- */

#define SENT_MAX 64
static struct {
    uint32_t ip; /* Kad form */
    uint16_t port;
    uint8_t data[2048];
    size_t len;
} sent[SENT_MAX];
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

/* ---- the node under test ---- */

static char dir[64];
static muleteerd_t d;
static kad_t *k;

static void
setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/check_kad_probe.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    d.conf = conf_new();
    char text[320];
    /* plain datagrams: the fake network reads the requests' opcodes */
    snprintf(text, sizeof text,
             "state_dir = %s\nfilter_lan = no\ntcp_port = 4662\nkad_nodes_url =\n"
             "obfuscation_support = no\n",
             dir);
    ck_assert_int_eq(conf_load_string(d.conf, text, "test", NULL), 0);
    d.uploads = (struct ulq *)&d; /* opaque, never looked into by the fakes */
    nsent = 0;
    k = kad_new(&d, NULL);
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(handler);
}

static void
teardown(void)
{
    kad_free(k);
    k = NULL;
    conf_free(d.conf);
    char path[128];
    snprintf(path, sizeof path, "%s/kad_id", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/nodes.dat", dir);
    unlink(path);
    rmdir(dir);
}

static void
deliver(struct evbuffer *b, uint32_t ip, uint16_t port)
{
    size_t len = evbuffer_get_length(b);
    handler(handler_ctx, net_ip_from_host(ip), port, evbuffer_pullup(b, -1), len);
    evbuffer_drain(b, len);
}

/* requests_to: KADEMLIA2_REQs sent to ip so far. */
static size_t
requests_to(uint32_t ip)
{
    size_t n = 0;
    for (size_t i = 0; i < nsent; i++)
        n += sent[i].data[1] == KAD_OP_REQ && sent[i].ip == ip;
    return n;
}

#define PORT 4672

/* peer: a contact at 100.64.N.1 whose id is the target's with bit 127-dist
 * flipped: the smaller dist, the nearer to the target. */
static kad_contact_t
peer(const kad_id_t *target, unsigned n, unsigned dist)
{
    kad_contact_t c = { .id = *target, .ip = 0x64400001u | (n << 8), .udp_port = PORT,
                        .tcp_port = 4662, .version = 8 };
    kad_id_set_bit(&c.id, 127 - dist, !kad_id_bit(target, 127 - dist));
    return c;
}

/* verified: c said hello and acked ours: a verified contact. */
static void
verified(struct evbuffer *b, kad_contact_t c)
{
    kad_hello_t h = { .id = c.id, .tcp_port = c.tcp_port, .version = 8 };
    kad_hello_encode(b, KAD_OP_HELLO_REQ, &h);
    deliver(b, c.ip, c.udp_port);
    kad_hello_ack_encode(b, &c.id);
    deliver(b, c.ip, c.udp_port);
}

/* answer: c's KADEMLIA2_RES for target naming n contacts. */
static void
answer(struct evbuffer *b, kad_contact_t c, const kad_id_t *target, const kad_contact_t *named,
       size_t n)
{
    kad_res_t r = { .target = *target, .count = (uint8_t)n };
    for (size_t i = 0; i < n; i++)
        r.contacts[i] = named[i];
    kad_res_encode(b, &r);
    deliver(b, c.ip, c.udp_port);
}

static long long
num(json_object *o, const char *key)
{
    json_object *v = NULL;
    ck_assert(json_object_object_get_ex(o, key, &v));
    return (long long)json_object_get_int64(v);
}

static const char *
str(json_object *o, const char *key)
{
    json_object *v = NULL;
    ck_assert(json_object_object_get_ex(o, key, &v));
    return json_object_get_string(v);
}

/* closest_id: the hex id of the i-th closest contact in o. */
static const char *
closest_id(json_object *o, size_t i)
{
    json_object *a = NULL;
    ck_assert(json_object_object_get_ex(o, "closest", &a));
    ck_assert_uint_gt(json_object_array_length(a), i);
    return str(json_object_array_get_idx(a, i), "id");
}

START_TEST(test_refused_unless_connected)
{
    kad_id_t target;
    ck_assert_int_eq(kad_id_from_hex(&target, "0123456789abcdef0123456789abcdef"), 0);
    unsigned n = 99;
    mt_error_t *err = NULL;
    ck_assert_int_ne(kad_probe_start(k, &target, &n, &err), 0);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->code, MT_ERR_UNAVAILABLE);
    mt_error_free(err);
    ck_assert_uint_eq(n, 99);
    ck_assert_ptr_null(kad_probe_to_json(k, 0));
    ck_assert_ptr_null(kad_probe_to_json(k, 1));
}
END_TEST

START_TEST(test_lookup_converges)
{
    struct evbuffer *b = evbuffer_new();
    kad_id_t target;
    ck_assert_int_eq(kad_id_from_hex(&target, "0123456789abcdef0123456789abcdef"), 0);
    /* The table holds A (far from the target); A names B and C, nearer. */
    kad_contact_t a = peer(&target, 1, 100), bb = peer(&target, 2, 10), c = peer(&target, 3, 40);
    verified(b, a);
    ck_assert(kad_is_connected(k)); /* open or firewalled */
    nsent = 0;
    unsigned n = 0;
    ck_assert_int_eq(kad_probe_start(k, &target, &n, NULL), 0);
    ck_assert_uint_ne(n, 0);
    ck_assert_uint_eq(requests_to(a.ip), 1);
    json_object *o = kad_probe_to_json(k, n);
    ck_assert_str_eq(str(o, "state"), "running");
    ck_assert_int_eq(num(o, "requests"), 1);
    json_object_put(o);

    kad_contact_t named[2] = { bb, c };
    answer(b, a, &target, named, 2);
    ck_assert_uint_eq(requests_to(bb.ip), 1);
    ck_assert_uint_eq(requests_to(c.ip), 1);
    o = kad_probe_to_json(k, n);
    ck_assert_str_eq(str(o, "state"), "running");
    ck_assert_int_eq(num(o, "answered"), 1);
    json_object_put(o);
    /* B answers, naming nobody new; C answers: done, B nearest. */
    answer(b, bb, &target, NULL, 0);
    answer(b, c, &target, &a, 1);
    o = kad_probe_to_json(k, n);
    ck_assert_str_eq(str(o, "state"), "done");
    ck_assert_int_eq(num(o, "lookup"), n);
    ck_assert_str_eq(str(o, "target"), "0123456789abcdef0123456789abcdef");
    ck_assert_int_eq(num(o, "requests"), 3);
    ck_assert_int_eq(num(o, "answered"), 3);
    ck_assert_int_eq(num(o, "timeouts"), 0);
    ck_assert_int_ge(num(o, "elapsed_ms"), 1);
    char hex[KAD_ID_HEX_LEN + 1];
    kad_id_to_hex(&bb.id, hex);
    ck_assert_str_eq(closest_id(o, 0), hex);
    kad_id_to_hex(&c.id, hex);
    ck_assert_str_eq(closest_id(o, 1), hex);
    kad_id_to_hex(&a.id, hex);
    ck_assert_str_eq(closest_id(o, 2), hex);
    json_object *list = NULL;
    json_object_object_get_ex(o, "closest", &list);
    ck_assert_uint_eq(json_object_array_length(list), 3);
    ck_assert_str_eq(str(json_object_array_get_idx(list, 0), "address"), "100.64.2.1");
    json_object_put(o);
    /* A second lookup gets the next number; the first is still there. */
    unsigned n2 = 0;
    ck_assert_int_eq(kad_probe_start(k, &target, &n2, NULL), 0);
    ck_assert_uint_eq(n2, n + 1);
    o = kad_probe_to_json(k, n);
    ck_assert_str_eq(str(o, "state"), "done");
    json_object_put(o);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_silent_contact_times_out)
{
    struct evbuffer *b = evbuffer_new();
    kad_id_t target;
    ck_assert_int_eq(kad_id_from_hex(&target, "fedcba9876543210fedcba9876543210"), 0);
    kad_contact_t a = peer(&target, 1, 20), dead = peer(&target, 2, 5);
    verified(b, a);
    verified(b, dead);
    unsigned n = 0;
    ck_assert_int_eq(kad_probe_start(k, &target, &n, NULL), 0);
    answer(b, a, &target, NULL, 0);
    json_object *o = kad_probe_to_json(k, n);
    ck_assert_str_eq(str(o, "state"), "running"); /* the nearer one is awaited */
    json_object_put(o);
    /* Past the timeout (the monotonic clock is real: a 3 s wait), the tick
     * fails it and the lookup ends without it. */
    usleep((KAD_LOOKUP_TIMEOUT_MS + 100) * 1000);
    kad_tick(k);
    o = kad_probe_to_json(k, n);
    ck_assert_str_eq(str(o, "state"), "done");
    ck_assert_int_eq(num(o, "timeouts"), 1);
    ck_assert_int_eq(num(o, "answered"), 1);
    char hex[KAD_ID_HEX_LEN + 1];
    kad_id_to_hex(&a.id, hex);
    ck_assert_str_eq(closest_id(o, 0), hex);
    json_object *list = NULL;
    json_object_object_get_ex(o, "closest", &list);
    ck_assert_uint_eq(json_object_array_length(list), 1);
    json_object_put(o);
    evbuffer_free(b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("kad_probe");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_refused_unless_connected);
    tcase_add_test(tc, test_lookup_converges);
    tcase_add_test(tc, test_silent_contact_times_out);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
