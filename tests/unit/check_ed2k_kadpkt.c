/* check_ed2k_kadpkt.c: unit tests for lib/ed2k/kadpkt: datagrams amuled
 * sent (ed2k-protocol.md §10.1, §11.4), round trips of every encoder, and
 * the refusals of short and oversized payloads. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/kadpkt.h"
#include "util/error.h"
#include "util/hex.h"

/* from_hex: a datagram written as hex digits (spaces allowed). */
static size_t
from_hex(const char *s, uint8_t *out, size_t max)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        if (*s == ' ')
            continue;
        ck_assert_uint_lt(n, max);
        ck_assert_int_eq(mt_hex_decode(s, 2, &out[n++], 1), 0);
        s++;
    }
    return n;
}

/* open_dgram: the datagram in b as a packet (e4 or e5). */
static ed2k_packet_t *
open_dgram(struct evbuffer *b)
{
    ed2k_packet_t *p = NULL;
    ck_assert_int_eq(kad_datagram_open(evbuffer_pullup(b, -1), evbuffer_get_length(b), &p, NULL),
                     0);
    evbuffer_drain(b, evbuffer_get_length(b));
    return p;
}

/* amuled's Kad id: wire bytes b28b863c 66a48f0e 9bb51a8d cd208fad (as
 * captured, §10.1 and §11.4), so the 128-bit number below (§0). */
static const char amule_id[] = "3c868bb20e8fa4668d1ab59bad8f20cd";

START_TEST(test_amuled_bootstrap_res)
{
    uint8_t d[64];
    size_t n = from_hex("e4 09 b28b863c66a48f0e9bb51a8dcd208fad 6687 08 0000", d, sizeof d);
    ed2k_packet_t *p = NULL;
    ck_assert_int_eq(kad_datagram_open(d, n, &p, NULL), 0);
    ck_assert_uint_eq(p->opcode, KAD_OP_BOOTSTRAP_RES);
    kad_bootstrap_res_t r;
    ck_assert_int_eq(kad_bootstrap_res_decode(p->payload, p->len, &r, NULL), 0);
    char hex[KAD_ID_HEX_LEN + 1];
    kad_id_to_hex(&r.id, hex);
    ck_assert_str_eq(hex, amule_id);
    ck_assert_uint_eq(r.tcp_port, 34662);
    ck_assert_uint_eq(r.version, 8);
    ck_assert_uint_eq(r.count, 0);
    ed2k_packet_free(p);
}
END_TEST

/* The decrypted KADEMLIA2_HELLO_RES of §11.4. */
START_TEST(test_amuled_hello_res)
{
    uint8_t d[64];
    size_t n = from_hex("e4 19 b28b863c66a48f0e9bb51a8dcd208fad 6687 08 01 09 0100 f2 02", d,
                        sizeof d);
    ed2k_packet_t *p = NULL;
    ck_assert_int_eq(kad_datagram_open(d, n, &p, NULL), 0);
    ck_assert_uint_eq(p->opcode, KAD_OP_HELLO_RES);
    kad_hello_t h;
    ck_assert_int_eq(kad_hello_decode(p->payload, p->len, &h, NULL), 0);
    char hex[KAD_ID_HEX_LEN + 1];
    kad_id_to_hex(&h.id, hex);
    ck_assert_str_eq(hex, amule_id);
    ck_assert_uint_eq(h.tcp_port, 34662);
    ck_assert_uint_eq(h.version, 8);
    ck_assert_uint_eq(h.misc_options, KAD_MISC_TCP_FIREWALLED);
    ck_assert_uint_eq(h.source_udp_port, 0);
    /* Our encoder writes the same bytes. */
    struct evbuffer *b = evbuffer_new();
    kad_hello_encode(b, KAD_OP_HELLO_RES, &h);
    ck_assert_uint_eq(evbuffer_get_length(b), n);
    ck_assert_mem_eq(evbuffer_pullup(b, -1), d, n);
    evbuffer_free(b);
    ed2k_packet_free(p);
}
END_TEST

static kad_contact_t
contact(uint32_t seed)
{
    kad_contact_t c = { .id = { { seed, ~seed, seed * 7u, 0x12345678u } },
                        .ip = 0x64400101u + seed,
                        .udp_port = (uint16_t)(4672 + seed),
                        .tcp_port = (uint16_t)(4662 + seed),
                        .version = 8 };
    return c;
}

START_TEST(test_round_trips)
{
    struct evbuffer *b = evbuffer_new();
    kad_id_t me = { { 1, 2, 3, 4 } }, target = { { 0xdeadbeefu, 5, 6, 7 } };

    kad_bootstrap_req_encode(b);
    ck_assert_uint_eq(evbuffer_get_length(b), 2);
    ed2k_packet_t *p = open_dgram(b);
    ck_assert_uint_eq(p->opcode, KAD_OP_BOOTSTRAP_REQ);
    ck_assert_uint_eq(p->len, 0);
    ed2k_packet_free(p);

    kad_bootstrap_res_t br = { .id = me, .tcp_port = 4662, .version = 8,
                               .count = KAD_BOOTSTRAP_CONTACTS };
    for (uint32_t i = 0; i < br.count; i++)
        br.contacts[i] = contact(i);
    kad_bootstrap_res_encode(b, &br);
    ck_assert_uint_eq(evbuffer_get_length(b), 2 + 16 + 2 + 1 + 2 + 20 * KAD_CONTACT_WIRE_LEN);
    p = open_dgram(b);
    ck_assert_uint_eq(p->opcode, KAD_OP_BOOTSTRAP_RES);
    kad_bootstrap_res_t br2;
    ck_assert_int_eq(kad_bootstrap_res_decode(p->payload, p->len, &br2, NULL), 0);
    ck_assert(kad_id_equal(&br2.id, &me));
    ck_assert_uint_eq(br2.tcp_port, 4662);
    ck_assert_uint_eq(br2.count, br.count);
    for (size_t i = 0; i < br.count; i++)
        ck_assert(kad_contact_equal(&br.contacts[i], &br2.contacts[i]));
    /* A contact's wire layout: id, ip LE, udp, tcp, version. */
    const uint8_t *c0 = p->payload + 16 + 2 + 1 + 2 + 16;
    static const uint8_t ipport[] = { 0x01, 0x01, 0x40, 0x64, 0x40, 0x12, 0x36, 0x12, 8 };
    ck_assert_mem_eq(c0, ipport, sizeof ipport);
    ed2k_packet_free(p);

    kad_hello_t h = { .id = me, .tcp_port = 1, .version = 8, .source_udp_port = 4672,
                      .misc_options = KAD_MISC_WANT_ACK }, h2;
    kad_hello_encode(b, KAD_OP_HELLO_REQ, &h);
    p = open_dgram(b);
    ck_assert_uint_eq(p->opcode, KAD_OP_HELLO_REQ);
    ck_assert_int_eq(kad_hello_decode(p->payload, p->len, &h2, NULL), 0);
    ck_assert(kad_id_equal(&h.id, &h2.id));
    ck_assert_uint_eq(h2.tcp_port, 1);
    ck_assert_uint_eq(h2.version, 8);
    ck_assert_uint_eq(h2.source_udp_port, 4672);
    ck_assert_uint_eq(h2.misc_options, KAD_MISC_WANT_ACK);
    ed2k_packet_free(p);

    kad_hello_ack_encode(b, &me);
    ck_assert_uint_eq(evbuffer_get_length(b), 2 + 16 + 1);
    p = open_dgram(b);
    kad_id_t id;
    ck_assert_uint_eq(p->opcode, KAD_OP_HELLO_RES_ACK);
    ck_assert_int_eq(kad_hello_ack_decode(p->payload, p->len, &id, NULL), 0);
    ck_assert(kad_id_equal(&id, &me));
    ed2k_packet_free(p);

    kad_req_t rq = { .type = KAD_REQ_FIND_NODE, .target = target, .receiver = me }, rq2;
    kad_req_encode(b, &rq);
    p = open_dgram(b);
    ck_assert_uint_eq(p->opcode, KAD_OP_REQ);
    ck_assert_uint_eq(p->len, 33);
    ck_assert_int_eq(kad_req_decode(p->payload, p->len, &rq2, NULL), 0);
    ck_assert_uint_eq(rq2.type, KAD_REQ_FIND_NODE);
    ck_assert(kad_id_equal(&rq2.target, &target));
    ck_assert(kad_id_equal(&rq2.receiver, &me));
    ed2k_packet_free(p);

    kad_res_t rs = { .target = target, .count = 11 }, rs2;
    for (uint32_t i = 0; i < rs.count; i++)
        rs.contacts[i] = contact(100 + i);
    kad_res_encode(b, &rs);
    p = open_dgram(b);
    ck_assert_uint_eq(p->opcode, KAD_OP_RES);
    ck_assert_int_eq(kad_res_decode(p->payload, p->len, &rs2, NULL), 0);
    ck_assert(kad_id_equal(&rs2.target, &target));
    ck_assert_uint_eq(rs2.count, 11);
    for (size_t i = 0; i < rs.count; i++)
        ck_assert(kad_contact_equal(&rs.contacts[i], &rs2.contacts[i]));
    ed2k_packet_free(p);

    kad_ping_encode(b);
    p = open_dgram(b);
    ck_assert_uint_eq(p->opcode, KAD_OP_PING);
    ed2k_packet_free(p);
    kad_pong_encode(b, 51234);
    p = open_dgram(b);
    uint16_t port;
    ck_assert_uint_eq(p->opcode, KAD_OP_PONG);
    ck_assert_int_eq(kad_pong_decode(p->payload, p->len, &port, NULL), 0);
    ck_assert_uint_eq(port, 51234);
    ed2k_packet_free(p);
    evbuffer_free(b);
}
END_TEST

/* Every proper prefix of a valid payload is refused, never over-read (the
 * sanitizers watch the reads). */
START_TEST(test_short_payloads)
{
    struct evbuffer *b = evbuffer_new();
    kad_res_t rs = { .count = 3 };
    for (uint32_t i = 0; i < rs.count; i++)
        rs.contacts[i] = contact(i);
    kad_res_encode(b, &rs);
    size_t len = evbuffer_get_length(b) - 2;
    uint8_t *full = malloc(len);
    memcpy(full, evbuffer_pullup(b, -1) + 2, len);
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n + 1); /* exactly n readable bytes for ASan */
        memcpy(cut, full, n);
        kad_res_t out;
        kad_bootstrap_res_t bout;
        kad_hello_t h;
        kad_req_t rq;
        kad_id_t id;
        uint16_t port;
        mt_error_t *err = NULL;
        ck_assert_int_eq(kad_res_decode(cut, n, &out, &err), -1);
        ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
        mt_error_clear(&err);
        if (n < 16 + 2 + 1 + 2)
            ck_assert_int_eq(kad_bootstrap_res_decode(cut, n, &bout, NULL), -1);
        if (n < 16 + 2 + 1 + 1)
            ck_assert_int_eq(kad_hello_decode(cut, n, &h, NULL), -1);
        if (n < 33)
            ck_assert_int_eq(kad_req_decode(cut, n, &rq, NULL), -1);
        if (n < 16)
            ck_assert_int_eq(kad_hello_ack_decode(cut, n, &id, NULL), -1);
        if (n < 2)
            ck_assert_int_eq(kad_pong_decode(cut, n, &port, NULL), -1);
        free(cut);
    }
    free(full);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_refusals)
{
    /* A list longer than KAD_CONTACTS_MAX is refused before reading it. */
    uint8_t big[16 + 1 + 40 * KAD_CONTACT_WIRE_LEN] = { 0 };
    big[16] = 40;
    kad_res_t out;
    mt_error_t *err = NULL;
    ck_assert_int_eq(kad_res_decode(big, sizeof big, &out, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    mt_error_clear(&err);
    /* A count that the bytes do not hold. */
    big[16] = 2;
    ck_assert_int_eq(kad_res_decode(big, 16 + 1 + KAD_CONTACT_WIRE_LEN + 3, &out, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    mt_error_clear(&err);
    /* A hello whose tag has an unknown type. */
    uint8_t hello[16 + 2 + 1 + 1 + 4] = { 0 };
    hello[19] = 1;
    hello[20] = 0x7f;
    kad_hello_t h;
    ck_assert_int_eq(kad_hello_decode(hello, sizeof hello, &h, &err), -1);
    ck_assert_ptr_nonnull(err);
    mt_error_clear(&err);
    /* Not Kad, too short, bad zlib. */
    ed2k_packet_t *p = NULL;
    static const uint8_t c5[] = { 0xc5, 0x90, 0 }, one[] = { 0xe4 }, bad[] = { 0xe5, 0x29, 1, 2 };
    ck_assert_int_eq(kad_datagram_open(c5, sizeof c5, &p, NULL), -1);
    ck_assert_int_eq(kad_datagram_open(one, sizeof one, &p, NULL), -1);
    ck_assert_int_eq(kad_datagram_open(bad, sizeof bad, &p, NULL), -1);
    ck_assert_ptr_null(p);
}
END_TEST

/* A packed (0xE5) datagram is inflated and read as 0xE4. */
START_TEST(test_packed)
{
    struct evbuffer *b = evbuffer_new();
    kad_res_t rs = { .count = 20 }, rs2;
    for (uint32_t i = 0; i < rs.count; i++)
        rs.contacts[i] = contact(7); /* repetitive: compresses */
    kad_res_encode(b, &rs);
    size_t len = evbuffer_get_length(b);
    ed2k_packet_t *p = ed2k_packet_new(ED2K_PROTO_KAD, KAD_OP_RES, evbuffer_pullup(b, -1) + 2,
                                       len - 2);
    ck_assert(ed2k_packet_pack(p, KAD_INFLATE_LIMIT));
    ck_assert_uint_eq(p->proto, ED2K_PROTO_KAD_PACKED);
    evbuffer_drain(b, len);
    ed2k_udp_append(b, p->proto, p->opcode, p->payload, p->len);
    ed2k_packet_free(p);
    p = open_dgram(b);
    ck_assert_uint_eq(p->proto, ED2K_PROTO_KAD);
    ck_assert_int_eq(kad_res_decode(p->payload, p->len, &rs2, NULL), 0);
    ck_assert_uint_eq(rs2.count, 20);
    ck_assert(kad_contact_equal(&rs2.contacts[19], &rs.contacts[19]));
    ed2k_packet_free(p);
    evbuffer_free(b);
}
END_TEST

/* Firewall checks (§10.4): amuled's FIREWALLED2_REQ carries its user hash
 * with each 4-byte group reversed (§0); the old form only the TCP port. */
START_TEST(test_firewall_checks)
{
    uint8_t d[64];
    size_t n = from_hex("2e12 0877bfb0 cb610ed0 01020304 05060708 02", d, sizeof d);
    kad_fw_req_t rq;
    ck_assert_int_eq(kad_fw_req_decode(KAD_OP_FIREWALLED2_REQ, d, n, &rq, NULL), 0);
    ck_assert_uint_eq(rq.tcp_port, 0x122e);
    ck_assert(rq.v2);
    static const uint8_t hash[16] = { 0xb0, 0xbf, 0x77, 0x08, 0xd0, 0x0e, 0x61, 0xcb,
                                      0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05 };
    ck_assert_mem_eq(rq.user_hash, hash, 16);
    ck_assert_uint_eq(rq.connect_options, 2);
    ck_assert_int_eq(kad_fw_req_decode(KAD_OP_FIREWALLED2_REQ, d, n - 1, &rq, NULL), -1);
    ck_assert_int_eq(kad_fw_req_decode(KAD_OP_FIREWALLED_REQ, d, 2, &rq, NULL), 0);
    ck_assert(!rq.v2);
    ck_assert_uint_eq(rq.tcp_port, 0x122e);
    ck_assert_int_eq(kad_fw_req_decode(KAD_OP_FIREWALLED_REQ, d, 1, &rq, NULL), -1);
    ck_assert_int_eq(kad_fw_req_decode(KAD_OP_PING, d, n, &rq, NULL), -1);

    /* Round trips through whole datagrams. */
    struct evbuffer *b = evbuffer_new();
    kad_fw_req_t in = { .tcp_port = 4662, .v2 = true, .connect_options = 7 };
    memcpy(in.user_hash, hash, 16);
    kad_fw_req_encode(b, &in);
    ck_assert_int_eq(memcmp(evbuffer_pullup(b, 4), "\xe4\x53\x36\x12", 4), 0);
    ed2k_packet_t *p = open_dgram(b);
    ck_assert_int_eq(kad_fw_req_decode(p->opcode, p->payload, p->len, &rq, NULL), 0);
    ck_assert_mem_eq(rq.user_hash, hash, 16);
    ck_assert_uint_eq(rq.connect_options, 7);
    ck_assert_uint_eq(p->len, 19);
    ed2k_packet_free(p);

    kad_fw_res_encode(b, 0x64400201u); /* 100.64.2.1 */
    ck_assert_int_eq(memcmp(evbuffer_pullup(b, 6), "\xe4\x58\x01\x02\x40\x64", 6), 0);
    p = open_dgram(b);
    uint32_t ip = 0;
    ck_assert_int_eq(kad_fw_res_decode(p->payload, p->len, &ip, NULL), 0);
    ck_assert_uint_eq(ip, 0x64400201u);
    ck_assert_int_eq(kad_fw_res_decode(p->payload, 3, &ip, NULL), -1);
    ed2k_packet_free(p);

    kad_fw_udp_encode(b, 1, 4672);
    p = open_dgram(b);
    ck_assert_uint_eq(p->opcode, KAD_OP_FIREWALLUDP);
    uint8_t e = 0;
    uint16_t port = 0;
    ck_assert_int_eq(kad_fw_udp_decode(p->payload, p->len, &e, &port, NULL), 0);
    ck_assert_uint_eq(e, 1);
    ck_assert_uint_eq(port, 4672);
    ck_assert_int_eq(kad_fw_udp_decode(p->payload, 2, &e, &port, NULL), -1);
    ed2k_packet_free(p);

    kad_fw_ack_encode(b);
    ck_assert_uint_eq(evbuffer_get_length(b), 2);
    ck_assert_int_eq(memcmp(evbuffer_pullup(b, 2), "\xe4\x59", 2), 0);
    evbuffer_drain(b, 2);

    kad_fw_udp_req_t u = { 4672, 4673, 0xdeadbeef }, u2;
    kad_fw_udp_req_write(b, &u);
    ck_assert_uint_eq(evbuffer_get_length(b), 8);
    const uint8_t *w = evbuffer_pullup(b, 8);
    ck_assert_int_eq(kad_fw_udp_req_decode(w, 8, &u2, NULL), 0);
    ck_assert_uint_eq(u2.intern_port, 4672);
    ck_assert_uint_eq(u2.extern_port, 4673);
    ck_assert_uint_eq(u2.udp_key, 0xdeadbeef);
    ck_assert_int_eq(kad_fw_udp_req_decode(w, 7, &u2, NULL), -1);
    evbuffer_free(b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_kadpkt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_amuled_bootstrap_res);
    tcase_add_test(tc, test_amuled_hello_res);
    tcase_add_test(tc, test_round_trips);
    tcase_add_test(tc, test_short_payloads);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_packed);
    tcase_add_test(tc, test_firewall_checks);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
