/* check_kad_buddy.c: unit tests for daemon/kad/buddy: the UDP side of Kad
 * buddies over a fake datagram hook (no peer manager): who is answered,
 * which answers are taken, what a firewalled node publishes, and that a
 * callback request goes only to a connected buddy. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/daemon.h"
#include "daemon/kad/buddy.h"
#include "ed2k/kadsearch.h"
#include "ed2k/packet.h"

/* The fake network: the datagrams sent, kept in order. */
#define SENT_MAX 16
typedef struct sent {
    uint32_t ip;
    uint16_t port;
    uint8_t data[128];
    size_t len;
} sent_t;

static sent_t sent[SENT_MAX];
static size_t nsent;
static kad_contact_t table[3];
static size_t ntable;

static void
fake_send(void *ctx, uint32_t ip, uint16_t port, struct evbuffer *b)
{
    (void)ctx;
    ck_assert_uint_lt(nsent, SENT_MAX);
    sent_t *s = &sent[nsent++];
    s->ip = ip;
    s->port = port;
    s->len = evbuffer_get_length(b);
    ck_assert_uint_le(s->len, sizeof s->data);
    evbuffer_remove(b, s->data, s->len);
}

static size_t
fake_closest(void *ctx, const kad_id_t *target, kad_contact_t *out, size_t max)
{
    (void)ctx;
    (void)target;
    size_t n = ntable < max ? ntable : max;
    memcpy(out, table, n * sizeof *out);
    return n;
}

static muleteerd_t d;
static kad_id_t me;
static kad_buddy_t *b;

static void
setup(void)
{
    memset(&d, 0, sizeof d);
    memset(d.userhash, 0xAB, 16);
    nsent = 0;
    ntable = 0;
    kad_id_from_hex(&me, "00112233445566778899aabbccddeeff");
    b = kad_buddy_new(&d, &me, &(kad_buddy_hooks_t){ .send = fake_send,
                                                    .closest = fake_closest });
}

static void
teardown(void)
{
    kad_buddy_free(b);
}

/* req_payload: a FINDBUDDY_REQ/RES payload (no header) for buddy_id. */
static size_t
msg_payload(const kad_id_t *buddy_id, uint8_t *out)
{
    kad_buddy_msg_t m = { .buddy_id = *buddy_id, .tcp_port = 4662 };
    memset(m.user_hash, 0x11, 16);
    struct evbuffer *e = evbuffer_new();
    kad_buddy_msg_encode(e, KAD_OP_FINDBUDDY_REQ, &m);
    evbuffer_drain(e, 2);
    size_t n = evbuffer_get_length(e);
    evbuffer_remove(e, out, n);
    evbuffer_free(e);
    return n;
}

static json_object *
buddy_json(void)
{
    json_object *o = json_object_new_object();
    kad_buddy_to_json(b, o);
    json_object *j = NULL;
    ck_assert(json_object_object_get_ex(o, "buddy", &j));
    json_object_get(j);
    json_object_put(o);
    return j;
}

static const char *
state(json_object *j)
{
    json_object *s = NULL;
    ck_assert(json_object_object_get_ex(j, "state", &s));
    return json_object_get_string(s);
}

START_TEST(test_open_node_answers_one)
{
    kad_id_t theirs;
    kad_id_from_hex(&theirs, "ffffffff000000001111111122222222");
    uint8_t p[64];
    size_t n = msg_payload(&theirs, p);
    kad_buddy_tick(b, true, false, 100);
    ck_assert_int_eq(kad_buddy_on_find_req(b, 0x0A000002, 4672, p, n, 100), 1);
    ck_assert_uint_eq(nsent, 1);
    ck_assert_uint_eq(sent[0].ip, 0x0A000002);
    ck_assert_uint_eq(sent[0].port, 4672);
    ck_assert_uint_eq(sent[0].data[1], KAD_OP_FINDBUDDY_RES);
    kad_buddy_msg_t r;
    ck_assert_int_eq(kad_buddy_msg_decode(sent[0].data + 2, sent[0].len - 2, &r, NULL), 0);
    ck_assert(kad_id_equal(&r.buddy_id, &theirs)); /* echoed */
    ck_assert_mem_eq(r.user_hash, d.userhash, 16);
    json_object *j = buddy_json();
    ck_assert_str_eq(state(j), "answered");
    json_object_put(j);
    /* a second node, while the first may still connect: not answered */
    ck_assert_int_eq(kad_buddy_on_find_req(b, 0x0A000003, 4672, p, n, 110), 0);
    ck_assert_uint_eq(nsent, 1);
    /* the first never connected: the slot is free again */
    kad_buddy_tick(b, true, false, 100 + KAD_BUDDY_INCOMING_TTL);
    ck_assert_int_eq(kad_buddy_on_find_req(b, 0x0A000003, 4672, p, n, 100 + KAD_BUDDY_INCOMING_TTL),
                     1);
    ck_assert_uint_eq(nsent, 2);
}
END_TEST

START_TEST(test_firewalled_node_does_not_answer)
{
    uint8_t p[64];
    size_t n = msg_payload(&me, p);
    kad_buddy_tick(b, false, true, 100);
    ck_assert_int_eq(kad_buddy_on_find_req(b, 0x0A000002, 4672, p, n, 100), 0);
    /* the search went to nobody: the table is empty */
    ck_assert_uint_eq(nsent, 0);
    ck_assert_int_eq(kad_buddy_on_find_req(b, 0x0A000002, 4672, p, 10, 100), -1);
}
END_TEST

START_TEST(test_firewalled_node_searches_and_takes_answer)
{
    table[0] = (kad_contact_t){ .ip = 0x0A000005, .udp_port = 4672, .version = 8 };
    table[1] = (kad_contact_t){ .ip = 0x0A000006, .udp_port = 4673, .version = 8 };
    ntable = 2;
    kad_buddy_tick(b, false, true, 100);
    ck_assert_uint_eq(nsent, 2);
    ck_assert_uint_eq(sent[0].data[1], KAD_OP_FINDBUDDY_REQ);
    kad_buddy_msg_t q;
    ck_assert_int_eq(kad_buddy_msg_decode(sent[0].data + 2, sent[0].len - 2, &q, NULL), 0);
    kad_id_t want;
    kad_buddy_id_of(&want, &me);
    ck_assert(kad_id_equal(&q.buddy_id, &want)); /* our id's complement */
    ck_assert_mem_eq(q.user_hash, d.userhash, 16);
    /* not again before KAD_BUDDY_SEARCH_EVERY */
    kad_buddy_tick(b, false, true, 101);
    ck_assert_uint_eq(nsent, 2);

    uint8_t p[64];
    /* an answer naming another id is not ours */
    size_t n = msg_payload(&me, p);
    ck_assert_int_eq(kad_buddy_on_find_res(b, 0x0A000005, 4672, p, n, 102), 0);
    /* an answer from a node we did not ask is dropped */
    n = msg_payload(&want, p);
    ck_assert_int_eq(kad_buddy_on_find_res(b, 0x0A000009, 4672, p, n, 102), 0);
    ck_assert_int_eq(kad_buddy_on_find_res(b, 0x0A000005, 4672, p, n, 102), 1);
    json_object *j = buddy_json();
    ck_assert_str_eq(state(j), "connecting");
    json_object_put(j);
    /* one buddy: the second answer is not taken */
    ck_assert_int_eq(kad_buddy_on_find_res(b, 0x0A000006, 4673, p, n, 103), 0);
    /* no connection came: dropped, and the search starts again */
    kad_buddy_tick(b, false, true, 102 + KAD_BUDDY_INCOMING_TTL);
    j = buddy_json();
    ck_assert_str_eq(state(j), "none");
    json_object_put(j);
    ck_assert_uint_eq(nsent, 4);
}
END_TEST

START_TEST(test_callback_needs_connected_buddy)
{
    uint8_t p[64];
    kad_callback_t c = { .tcp_port = 4662 };
    kad_id_from_hex(&c.buddy_id, "ffeeddccbbaa99887766554433221100");
    struct evbuffer *e = evbuffer_new();
    kad_callback_req_encode(e, &c);
    evbuffer_drain(e, 2);
    size_t n = evbuffer_get_length(e);
    evbuffer_remove(e, p, n);
    evbuffer_free(e);
    kad_buddy_tick(b, true, false, 100);
    ck_assert_int_eq(kad_buddy_on_callback_req(b, 0x0A000007, 4672, p, n), 0);
    ck_assert_int_eq(kad_buddy_on_callback_req(b, 0x0A000007, 4672, p, n - 1), -1);
    ck_assert_uint_eq(nsent, 0);
}
END_TEST

START_TEST(test_ask_callback)
{
    kad_id_t buddy_id;
    kad_id_from_hex(&buddy_id, "ffeeddccbbaa99887766554433221100");
    uint8_t hash[16];
    memset(hash, 0x42, 16);
    kad_buddy_ask_callback(b, 0x0A000008, 5000, &buddy_id, hash);
    ck_assert_uint_eq(nsent, 1);
    ck_assert_uint_eq(sent[0].ip, 0x0A000008);
    ck_assert_uint_eq(sent[0].port, 5000);
    ck_assert_uint_eq(sent[0].data[1], KAD_OP_CALLBACK_REQ);
    kad_callback_t c;
    ck_assert_int_eq(kad_callback_req_decode(sent[0].data + 2, sent[0].len - 2, &c, NULL), 0);
    ck_assert(kad_id_equal(&c.buddy_id, &buddy_id));
    ck_assert_mem_eq(c.file_hash, hash, 16);
}
END_TEST

START_TEST(test_no_buddy_tags_without_buddy)
{
    ed2k_taglist_t *t = ed2k_taglist_new();
    kad_buddy_tick(b, false, true, 100);
    ck_assert(!kad_buddy_is_served(b));
    ck_assert(!kad_buddy_source_tags(b, t, 1000));
    uint64_t v;
    ck_assert_int_ne(ed2k_taglist_get_uint(t, KAD_TAG_SOURCETYPE, &v), 0);
    ed2k_taglist_free(t);
}
END_TEST

START_TEST(test_buddy_source_asks_callback)
{
    uint8_t hash[16];
    memset(hash, 0x42, 16);
    ed2k_taglist_t *t = ed2k_taglist_new();
    ed2k_taglist_add_uint(t, KAD_TAG_SOURCETYPE, 0, KAD_SOURCE_HIGHID);
    ck_assert(!kad_buddy_on_source(b, t, hash)); /* not firewalled */
    ed2k_taglist_free(t);
    t = ed2k_taglist_new();
    ed2k_taglist_add_uint(t, KAD_TAG_SOURCETYPE, 0, KAD_SOURCE_BUDDY);
    ed2k_taglist_add_uint(t, 0xFB, 0, 0x0300000A); /* 10.0.0.3, eD2K form */
    ed2k_taglist_add_uint(t, 0xFA, 0, 4672);
    ck_assert(!kad_buddy_on_source(b, t, hash)); /* no buddy hash */
    ed2k_taglist_add_str(t, 0xF8, "ffeeddccbbaa99887766554433221100", 32);
    ck_assert(kad_buddy_on_source(b, t, hash));
    ed2k_taglist_free(t);
    ck_assert_uint_eq(nsent, 1);
    ck_assert_uint_eq(sent[0].ip, 0x0A000003); /* Kad form */
    ck_assert_uint_eq(sent[0].port, 4672);
    kad_callback_t c;
    ck_assert_int_eq(kad_callback_req_decode(sent[0].data + 2, sent[0].len - 2, &c, NULL), 0);
    char hex[KAD_ID_HEX_LEN + 1];
    kad_id_to_hex(&c.buddy_id, hex);
    ck_assert_str_eq(hex, "ffeeddccbbaa99887766554433221100");
    ck_assert_mem_eq(c.file_hash, hash, 16);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("kad_buddy");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_open_node_answers_one);
    tcase_add_test(tc, test_firewalled_node_does_not_answer);
    tcase_add_test(tc, test_firewalled_node_searches_and_takes_answer);
    tcase_add_test(tc, test_callback_needs_connected_buddy);
    tcase_add_test(tc, test_ask_callback);
    tcase_add_test(tc, test_no_buddy_tags_without_buddy);
    tcase_add_test(tc, test_buddy_source_asks_callback);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
