/* check_ed2k_nodesdat.c: unit tests for lib/ed2k/nodesdat: the version 2
 * bytes (§8.2), a lossless round trip, versions 1 and 3, and what the
 * reader skips or refuses. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/nodesdat.h"
#include "util/error.h"

static kad_node_t
node(uint32_t i)
{
    kad_node_t n = { .c = { .id = { { 0xa0000000u + i, i, 2 * i, 3 * i } },
                            .ip = 0x64400001u + (i << 8),
                            .udp_port = (uint16_t)(5000 + i),
                            .tcp_port = (uint16_t)(6000 + i),
                            .version = 8 },
                     .udp_key = 0x11223344u + i,
                     .udp_key_ip = 0x64400001u,
                     .verified = i % 2 == 0 };
    return n;
}

START_TEST(test_v2_bytes_and_round_trip)
{
    kad_node_t in[30];
    for (uint32_t i = 0; i < 30; i++)
        in[i] = node(i);
    struct evbuffer *b = evbuffer_new();
    kad_nodesdat_write(b, in, 30);
    size_t len = evbuffer_get_length(b);
    ck_assert_uint_eq(len, 12 + 30 * KAD_NODESDAT_V2_ENTRY_LEN);
    const uint8_t *p = evbuffer_pullup(b, -1);
    static const uint8_t head[] = { 0, 0, 0, 0, 2, 0, 0, 0, 30, 0, 0, 0,
                                    /* id w[0] = a0000000 LE */ 0, 0, 0, 0xa0 };
    ck_assert_mem_eq(p, head, sizeof head);
    /* entry 1: ... ip, ports, version, keys, verified */
    const uint8_t *e1 = p + 12 + KAD_NODESDAT_V2_ENTRY_LEN + 16;
    static const uint8_t tail1[] = { 0x01, 0x01, 0x40, 0x64, 0x89, 0x13, 0x71, 0x17, 8,
                                     0x45, 0x33, 0x22, 0x11, 0x01, 0x00, 0x40, 0x64, 0 };
    ck_assert_mem_eq(e1, tail1, sizeof tail1);

    kad_node_t *out = NULL;
    size_t n = 0;
    bool bootstrap = true;
    ck_assert_int_eq(kad_nodesdat_parse(p, len, &out, &n, &bootstrap, NULL), 0);
    ck_assert(!bootstrap);
    ck_assert_uint_eq(n, 30);
    for (size_t i = 0; i < n; i++) {
        ck_assert(kad_contact_equal(&out[i].c, &in[i].c));
        ck_assert_uint_eq(out[i].udp_key, in[i].udp_key);
        ck_assert_uint_eq(out[i].udp_key_ip, in[i].udp_key_ip);
        ck_assert_int_eq(out[i].verified, in[i].verified);
    }
    free(out);
    /* A truncated file gives its complete entries. */
    ck_assert_int_eq(kad_nodesdat_parse(p, len - 1, &out, &n, &bootstrap, NULL), 0);
    ck_assert_uint_eq(n, 29);
    free(out);
    evbuffer_free(b);
}
END_TEST

/* write_v1: a version 1 (or 3 bootstrap) image of n nodes. */
static struct evbuffer *
write_v1(uint32_t version, const kad_node_t *nodes, size_t n)
{
    struct evbuffer *b = evbuffer_new();
    uint32_t hdr[4] = { 0, version, 1, (uint32_t)n };
    size_t words = version == 3 ? 4 : 3;
    if (version != 3)
        hdr[2] = (uint32_t)n;
    evbuffer_add(b, hdr, words * 4); /* little-endian host assumed by the test */
    for (size_t i = 0; i < n; i++) {
        struct evbuffer *one = evbuffer_new();
        kad_nodesdat_write(one, &nodes[i], 1);
        evbuffer_drain(one, 12);
        evbuffer_add(b, evbuffer_pullup(one, -1), KAD_NODESDAT_V1_ENTRY_LEN);
        evbuffer_free(one);
    }
    return b;
}

START_TEST(test_v1_v3_and_skips)
{
    kad_node_t in[4] = { node(1), node(2), node(3), node(4) };
    in[1].c.version = 1; /* Kad 1: skipped */
    in[2].c.udp_port = 0; /* no port: skipped */
    kad_node_t *out = NULL;
    size_t n = 0;
    bool bootstrap;
    for (uint32_t v = 1; v <= 3; v += 2) {
        struct evbuffer *b = write_v1(v, in, 4);
        ck_assert_int_eq(kad_nodesdat_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b), &out,
                                            &n, &bootstrap, NULL),
                         0);
        ck_assert_int_eq(bootstrap, v == 3);
        ck_assert_uint_eq(n, 2);
        ck_assert(kad_contact_equal(&out[0].c, &in[0].c));
        ck_assert(kad_contact_equal(&out[1].c, &in[3].c));
        ck_assert(!out[0].verified);
        ck_assert_uint_eq(out[0].udp_key, 0);
        free(out);
        evbuffer_free(b);
    }
}
END_TEST

START_TEST(test_refusals)
{
    kad_node_t *out = NULL;
    size_t n = 5;
    bool bootstrap;
    mt_error_t *err = NULL;
    static const uint8_t v0[] = { 1, 0, 0, 0 }, shorth[] = { 0, 0, 0, 0, 2 },
                         v9[] = { 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0 },
                         v3x[] = { 0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0 };
    ck_assert_int_eq(kad_nodesdat_parse(v0, sizeof v0, &out, &n, &bootstrap, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNSUPPORTED);
    mt_error_clear(&err);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(kad_nodesdat_parse(shorth, sizeof shorth, &out, &n, &bootstrap, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    mt_error_clear(&err);
    ck_assert_int_eq(kad_nodesdat_parse(v9, sizeof v9, &out, &n, &bootstrap, &err), -1);
    mt_error_clear(&err);
    ck_assert_int_eq(kad_nodesdat_parse(v3x, sizeof v3x, &out, &n, &bootstrap, &err), -1);
    mt_error_clear(&err);
    /* A huge count with no entries behind it: nothing read, no huge alloc. */
    static const uint8_t lie[] = { 0, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
    ck_assert_int_eq(kad_nodesdat_parse(lie, sizeof lie, &out, &n, &bootstrap, NULL), 0);
    ck_assert_uint_eq(n, 0);
    free(out);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_nodesdat");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_v2_bytes_and_round_trip);
    tcase_add_test(tc, test_v1_v3_and_skips);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
