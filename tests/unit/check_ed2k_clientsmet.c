/* check_ed2k_clientsmet.c: unit tests for lib/ed2k/clientsmet: both
 * record layouts, 64-bit counters split in halves, keys, and a count
 * that lies. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/clientsmet.h"
#include "ed2k/packet.h"
#include "util/error.h"

static void
record(struct evbuffer *b, uint8_t id, uint64_t up, uint64_t down, bool with_key, uint8_t key_len)
{
    uint8_t h[16], key[80];
    memset(h, id, sizeof h);
    memset(key, 0xab, sizeof key);
    ed2k_write_hash16(b, h);
    ed2k_write_u32(b, (uint32_t)up);
    ed2k_write_u32(b, (uint32_t)down);
    ed2k_write_u32(b, 1700000000u + id);
    ed2k_write_u32(b, (uint32_t)(up >> 32));
    ed2k_write_u32(b, (uint32_t)(down >> 32));
    ed2k_write_u16(b, 0);
    if (with_key) {
        ed2k_write_u8(b, key_len);
        ed2k_write_bytes(b, key, sizeof key);
    }
}

START_TEST(test_v12)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u8(b, ED2K_CLIENTSMET_VERSION);
    ed2k_write_u32(b, 5); /* one more than there are */
    record(b, 1, 5000000000ull, 42, true, 76);
    record(b, 2, 0, 7, true, 200); /* a key size over 80: no key */
    record(b, 3, 1, 2, true, 0);
    record(b, 4, 3, 4, true, 80);
    ck_assert_uint_eq(evbuffer_get_length(b), 5 + 4 * ED2K_CLIENTSMET_RECORD_LEN);
    evbuffer_add(b, "xyz", 3); /* a partial record */
    ed2k_client_credit_t *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(
        ed2k_clientsmet_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b), &v, &n, NULL), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(v[0].hash[0], 1);
    ck_assert_uint_eq(v[0].uploaded, 5000000000ull);
    ck_assert_uint_eq(v[0].downloaded, 42);
    ck_assert_uint_eq(v[0].last_seen, 1700000001u);
    ck_assert_uint_eq(v[0].key_len, 76);
    ck_assert_uint_eq(v[0].key[75], 0xab);
    ck_assert_uint_eq(v[0].key[76], 0);
    ck_assert_uint_eq(v[1].key_len, 0);
    ck_assert_uint_eq(v[1].key[0], 0);
    ck_assert_uint_eq(v[3].key_len, 80);
    ck_assert_uint_eq(v[3].downloaded, 4);
    free(v);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_v11_and_refusals)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u8(b, ED2K_CLIENTSMET_VERSION_29);
    ed2k_write_u32(b, 2);
    record(b, 9, 10, (uint64_t)3 << 32, false, 0);
    record(b, 8, 11, 12, false, 0);
    uint8_t *p = evbuffer_pullup(b, -1);
    size_t len = evbuffer_get_length(b);
    ck_assert_uint_eq(len, 5 + 2 * ED2K_CLIENTSMET_RECORD_LEN_29);
    ed2k_client_credit_t *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(ed2k_clientsmet_parse(p, len, &v, &n, NULL), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(v[0].downloaded, (uint64_t)3 << 32);
    ck_assert_uint_eq(v[0].key_len, 0);
    ck_assert_uint_eq(v[1].uploaded, 11);
    free(v);
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_clientsmet_parse(p, 4, &v, &n, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    mt_error_free(err);
    err = NULL;
    p[0] = 0x10;
    ck_assert_int_eq(ed2k_clientsmet_parse(p, len, &v, &n, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNSUPPORTED);
    ck_assert_ptr_null(v);
    mt_error_free(err);
    evbuffer_free(b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_clientsmet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_v12);
    tcase_add_test(tc, test_v11_and_refusals);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
