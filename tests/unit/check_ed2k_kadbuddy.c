/* check_ed2k_kadbuddy.c: unit tests for lib/ed2k/kadbuddy: the byte layout
 * of FINDBUDDY_REQ/RES, CALLBACK_REQ and OP_CALLBACK (ids and hashes in the
 * Kad wire order, §0), round trips, and the refusal of short payloads. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/kadbuddy.h"
#include "util/error.h"
#include "util/hex.h"

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

/* drained_hex: the buffer's bytes as hex, and the buffer emptied. */
static void
drained_hex(struct evbuffer *b, char *out, size_t max)
{
    size_t n = evbuffer_get_length(b);
    ck_assert_uint_lt(2 * n, max);
    const uint8_t *p = evbuffer_pullup(b, -1);
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
    out[2 * n] = '\0';
    evbuffer_drain(b, n);
}

static const uint8_t digest[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                   0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

START_TEST(test_buddy_id_is_complement)
{
    kad_id_t id, b;
    ck_assert_int_eq(kad_id_from_hex(&id, "00112233445566778899aabbccddeeff"), 0);
    kad_buddy_id_of(&b, &id);
    char hex[KAD_ID_HEX_LEN + 1];
    kad_id_to_hex(&b, hex);
    ck_assert_str_eq(hex, "ffeeddccbbaa99887766554433221100");
}
END_TEST

START_TEST(test_findbuddy_req_layout)
{
    kad_buddy_msg_t m = {.tcp_port = 4662};
    ck_assert_int_eq(kad_id_from_hex(&m.buddy_id, "00112233445566778899aabbccddeeff"), 0);
    memcpy(m.user_hash, digest, 16);
    struct evbuffer *b = evbuffer_new();
    kad_buddy_msg_encode(b, KAD_OP_FINDBUDDY_REQ, &m);
    char hex[256];
    drained_hex(b, hex, sizeof hex);
    /* e4 51, id words little-endian, hash groups byte-reversed, port LE */
    ck_assert_str_eq(hex, "e451"
                          "3322110077665544bbaa9988ffeeddcc"
                          "03020100070605040b0a09080f0e0d0c"
                          "3612");
    evbuffer_free(b);
}
END_TEST

START_TEST(test_findbuddy_res_round_trip)
{
    kad_buddy_msg_t m = {.tcp_port = 51000, .has_options = true, .connect_options = 0x01};
    kad_id_from_hex(&m.buddy_id, "ffeeddccbbaa99887766554433221100");
    memcpy(m.user_hash, digest, 16);
    struct evbuffer *b = evbuffer_new();
    kad_buddy_msg_encode(b, KAD_OP_FINDBUDDY_RES, &m);
    ck_assert_uint_eq(evbuffer_get_length(b), 2 + KAD_BUDDY_MSG_LEN + 1);
    const uint8_t *p = evbuffer_pullup(b, -1);
    ck_assert_uint_eq(p[1], KAD_OP_FINDBUDDY_RES);
    kad_buddy_msg_t d;
    ck_assert_int_eq(kad_buddy_msg_decode(p + 2, KAD_BUDDY_MSG_LEN + 1, &d, NULL), 0);
    ck_assert(kad_id_equal(&d.buddy_id, &m.buddy_id));
    ck_assert_mem_eq(d.user_hash, digest, 16);
    ck_assert_uint_eq(d.tcp_port, 51000);
    ck_assert(d.has_options);
    ck_assert_uint_eq(d.connect_options, 0x01);
    /* aMule before 0.49 sends no options */
    ck_assert_int_eq(kad_buddy_msg_decode(p + 2, KAD_BUDDY_MSG_LEN, &d, NULL), 0);
    ck_assert(!d.has_options);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_callback_layouts)
{
    kad_callback_t c = {.ip = 0x0A000102, .tcp_port = 4662};
    kad_id_from_hex(&c.buddy_id, "00112233445566778899aabbccddeeff");
    memcpy(c.file_hash, digest, 16);
    struct evbuffer *b = evbuffer_new();
    char hex[256];
    kad_callback_req_encode(b, &c);
    drained_hex(b, hex, sizeof hex);
    ck_assert_str_eq(hex, "e452"
                          "3322110077665544bbaa9988ffeeddcc"
                          "03020100070605040b0a09080f0e0d0c"
                          "3612");
    kad_callback_write(b, &c);
    drained_hex(b, hex, sizeof hex);
    ck_assert_str_eq(hex, "3322110077665544bbaa9988ffeeddcc"
                          "03020100070605040b0a09080f0e0d0c"
                          "0201000a"
                          "3612");
    evbuffer_free(b);
}
END_TEST

START_TEST(test_callback_decode)
{
    uint8_t d[64];
    size_t n = from_hex("3322110077665544bbaa9988ffeeddcc 03020100070605040b0a09080f0e0d0c"
                        " 0201000a 3612",
                        d, sizeof d);
    kad_callback_t c;
    ck_assert_int_eq(kad_callback_decode(d, n, &c, NULL), 0);
    char hex[KAD_ID_HEX_LEN + 1];
    kad_id_to_hex(&c.buddy_id, hex);
    ck_assert_str_eq(hex, "00112233445566778899aabbccddeeff");
    ck_assert_mem_eq(c.file_hash, digest, 16);
    ck_assert_uint_eq(c.ip, 0x0A000102);
    ck_assert_uint_eq(c.tcp_port, 4662);
    /* the UDP request has no IP: its port follows the hash */
    uint8_t q[64];
    size_t m = from_hex("3322110077665544bbaa9988ffeeddcc 03020100070605040b0a09080f0e0d0c"
                        " 3612",
                        q, sizeof q);
    ck_assert_int_eq(kad_callback_req_decode(q, m, &c, NULL), 0);
    ck_assert_uint_eq(c.ip, 0);
    ck_assert_uint_eq(c.tcp_port, 4662);
}
END_TEST

START_TEST(test_short_payloads_refused)
{
    uint8_t d[KAD_CALLBACK_LEN] = {0};
    kad_buddy_msg_t m;
    kad_callback_t c;
    for (size_t n = 0; n < KAD_BUDDY_MSG_LEN; n++) {
        mt_error_t *err = NULL;
        ck_assert_int_eq(kad_buddy_msg_decode(d, n, &m, &err), -1);
        ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
        mt_error_free(err);
        ck_assert_int_eq(kad_callback_req_decode(d, n, &c, NULL), -1);
    }
    for (size_t n = 0; n < KAD_CALLBACK_LEN; n++)
        ck_assert_int_eq(kad_callback_decode(d, n, &c, NULL), -1);
    ck_assert_int_eq(kad_callback_decode(d, KAD_CALLBACK_LEN, &c, NULL), 0);
}
END_TEST

static Suite *
kadbuddy_suite(void)
{
    Suite *s = suite_create("ed2k_kadbuddy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_buddy_id_is_complement);
    tcase_add_test(tc, test_findbuddy_req_layout);
    tcase_add_test(tc, test_findbuddy_res_round_trip);
    tcase_add_test(tc, test_callback_layouts);
    tcase_add_test(tc, test_callback_decode);
    tcase_add_test(tc, test_short_payloads_refused);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(kadbuddy_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
