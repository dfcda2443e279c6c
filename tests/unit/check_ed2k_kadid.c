/* check_ed2k_kadid.c: unit tests for lib/ed2k/kadid: the wire and digest
 * byte orders with the vectors of ed2k-protocol.md §0 and §11.2, XOR
 * distance, comparison and bit access. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/hash.h"
#include "ed2k/kadid.h"
#include "util/hex.h"

static void
unhex(const char *s, uint8_t out[16])
{
    ck_assert_int_eq(mt_hex_decode(s, 32, out, 16), 0);
}

/* §11.2: keyword -> MD4 -> 16 bytes on the wire. */
START_TEST(test_keyword_vectors)
{
    static const struct {
        const char *word, *md4, *wire;
    } v[] = {
        { "ubuntu", "a5d7852a264d406b2d682a4aa88fb6d1", "2a85d7a56b404d264a2a682dd1b68fa8" },
        { "linux", "d37c98517e79ddc1688e27d1fe849be5", "51987cd3c1dd797ed1278e68e59b84fe" },
        { "kwtest334", "3cea039bd8ca4e5049f7469b723e0518", "9b03ea3c504ecad89b46f74918053e72" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t md4[16], want_md4[16], want_wire[16], wire[16], back[16];
        ed2k_md4(v[i].word, strlen(v[i].word), md4);
        unhex(v[i].md4, want_md4);
        unhex(v[i].wire, want_wire);
        ck_assert_mem_eq(md4, want_md4, 16);
        kad_id_t id, id2;
        kad_id_from_digest(&id, md4);
        kad_id_to_wire(&id, wire);
        ck_assert_mem_eq(wire, want_wire, 16);
        kad_id_from_wire(&id2, wire);
        ck_assert(kad_id_equal(&id, &id2));
        kad_id_to_digest(&id2, back);
        ck_assert_mem_eq(back, md4, 16);
        char hex[KAD_ID_HEX_LEN + 1];
        kad_id_to_hex(&id, hex);
        ck_assert_str_eq(hex, v[i].md4);
    }
}
END_TEST

/* §0: aMule's user hash b0bf7708 d00e61cb ... as a Kad id on the wire. */
START_TEST(test_userhash_vector)
{
    uint8_t h[16], wire[16];
    unhex("b0bf7708d00e61cb3874617a2ea06f18", h);
    kad_id_t id;
    kad_id_from_digest(&id, h);
    ck_assert_uint_eq(id.w[0], 0xb0bf7708u);
    ck_assert_uint_eq(id.w[3], 0x2ea06f18u);
    kad_id_to_wire(&id, wire);
    static const uint8_t want[8] = { 0x08, 0x77, 0xbf, 0xb0, 0xcb, 0x61, 0x0e, 0xd0 };
    ck_assert_mem_eq(wire, want, 8);
}
END_TEST

START_TEST(test_hex)
{
    kad_id_t id;
    ck_assert_int_eq(kad_id_from_hex(&id, "B28B863C66A48F0E9BB51A8DCD208FAD"), 0);
    ck_assert_uint_eq(id.w[0], 0xb28b863cu);
    ck_assert_uint_eq(id.w[3], 0xcd208fadu);
    char hex[KAD_ID_HEX_LEN + 1];
    kad_id_to_hex(&id, hex);
    ck_assert_str_eq(hex, "b28b863c66a48f0e9bb51a8dcd208fad");
    ck_assert_int_eq(kad_id_from_hex(&id, "b28b863c66a48f0e9bb51a8dcd208fa"), -1);
    ck_assert_int_eq(kad_id_from_hex(&id, "b28b863c66a48f0e9bb51a8dcd208fag"), -1);
    ck_assert_int_eq(kad_id_from_hex(&id, NULL), -1);
}
END_TEST

START_TEST(test_xor_cmp)
{
    kad_id_t a = { { 0x80000000u, 0, 0, 1 } }, b = { { 0x7fffffffu, 0xffffffffu, 0, 0 } }, d;
    ck_assert_int_gt(kad_id_cmp(&a, &b), 0);
    ck_assert_int_lt(kad_id_cmp(&b, &a), 0);
    ck_assert_int_eq(kad_id_cmp(&a, &a), 0);
    /* Only the last word differs: still ordered. */
    kad_id_t c = a;
    c.w[3] = 2;
    ck_assert_int_lt(kad_id_cmp(&a, &c), 0);
    kad_id_xor(&d, &a, &b);
    ck_assert_uint_eq(d.w[0], 0xffffffffu);
    ck_assert_uint_eq(d.w[1], 0xffffffffu);
    ck_assert_uint_eq(d.w[2], 0);
    ck_assert_uint_eq(d.w[3], 1);
    kad_id_xor(&d, &a, &a);
    ck_assert(kad_id_is_zero(&d));
    ck_assert(!kad_id_is_zero(&a));
    /* Distance: c is 3 away from a (..01 ^ ..10), a is 0 away from itself. */
    kad_id_t target = a;
    ck_assert_int_lt(kad_id_distance_cmp(&target, &a, &c), 0);
    ck_assert_int_gt(kad_id_distance_cmp(&target, &b, &c), 0);
}
END_TEST

START_TEST(test_bits)
{
    kad_id_t id = { { 0x80000001u, 0, 0x00010000u, 1 } };
    ck_assert_uint_eq(kad_id_bit(&id, 0), 1);
    ck_assert_uint_eq(kad_id_bit(&id, 1), 0);
    ck_assert_uint_eq(kad_id_bit(&id, 31), 1);
    ck_assert_uint_eq(kad_id_bit(&id, 32), 0);
    ck_assert_uint_eq(kad_id_bit(&id, 79), 1);
    ck_assert_uint_eq(kad_id_bit(&id, 127), 1);
    ck_assert_uint_eq(kad_id_bit(&id, 128), 0);
    kad_id_t z = { { 0 } };
    kad_id_set_bit(&z, 0, 1);
    kad_id_set_bit(&z, 33, 1);
    kad_id_set_bit(&z, 127, 1);
    kad_id_set_bit(&z, 200, 1);
    ck_assert_uint_eq(z.w[0], 0x80000000u);
    ck_assert_uint_eq(z.w[1], 0x40000000u);
    ck_assert_uint_eq(z.w[3], 1);
    kad_id_set_bit(&z, 0, 0);
    ck_assert_uint_eq(z.w[0], 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_kadid");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_keyword_vectors);
    tcase_add_test(tc, test_userhash_vector);
    tcase_add_test(tc, test_hex);
    tcase_add_test(tc, test_xor_cmp);
    tcase_add_test(tc, test_bits);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
