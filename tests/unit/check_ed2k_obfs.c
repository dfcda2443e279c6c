/* check_ed2k_obfs.c: unit tests for lib/ed2k/obfs: the fixed vectors of
 * ed2k-protocol.md §11.3, both handshake sides against each other fed in
 * every split, the stream after it, and malformed handshakes; the server
 * handshake (§9.3) against vectors computed independently (Python's pow,
 * hashlib.md5 and a textbook RC4) and both of its sides against each other. */
#include "config.h"

#include <check.h>
#include <nettle/arcfour.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/obfs.h"
#include "util/error.h"

/* §11.3: B's user hash, R = bytes 01 02 03 04. */
static const uint8_t hash_b[16] = { 0xb0, 0xbf, 0x77, 0x08, 0xd0, 0x0e, 0x61, 0xcb,
                                    0x38, 0x74, 0x61, 0x7a, 0x2e, 0xa0, 0x6f, 0x18 };
#define R_LE 0x04030201u

static void
random_fixed(ed2k_obfs_random_t *r, uint8_t marker, uint8_t pad_len)
{
    memset(r, 0, sizeof *r);
    r->marker = marker;
    r->key_part = R_LE;
    r->pad_len = pad_len;
    for (size_t i = 0; i < pad_len; i++)
        r->pad[i] = (uint8_t)(i * 7 + 1);
}

START_TEST(test_keys)
{
    static const uint8_t a2b[16] = { 0x62, 0xf2, 0xc2, 0x7d, 0xc3, 0x11, 0x8f, 0x54,
                                     0x52, 0xcb, 0xad, 0xc9, 0xfa, 0xdd, 0x3d, 0xa6 };
    static const uint8_t b2a[16] = { 0x49, 0xd5, 0x26, 0xf2, 0x1f, 0xd3, 0x63, 0xa6,
                                     0x57, 0xe0, 0x77, 0x38, 0x7c, 0xca, 0xe4, 0xb6 };
    uint8_t k[16];
    ed2k_obfs_key(hash_b, ED2K_OBFS_KEY_REQUESTER, R_LE, k);
    ck_assert_mem_eq(k, a2b, 16);
    ed2k_obfs_key(hash_b, ED2K_OBFS_KEY_SERVER, R_LE, k);
    ck_assert_mem_eq(k, b2a, 16);
}
END_TEST

START_TEST(test_rc4_sanity)
{
    struct arcfour_ctx c;
    arcfour_set_key(&c, 3, (const uint8_t *)"Key");
    uint8_t buf[9];
    arcfour_crypt(&c, 9, buf, (const uint8_t *)"Plaintext");
    static const uint8_t want[9] = { 0xbb, 0xf3, 0x16, 0xe8, 0xd9, 0x40, 0xaf, 0x0a, 0xd3 };
    ck_assert_mem_eq(buf, want, 9);
}
END_TEST

/* The initiator's first message with no padding: marker, R plain, then the
 * body encrypted after the 1024-byte discard (§11.3). */
START_TEST(test_initiator_vector)
{
    ed2k_obfs_t o;
    ed2k_obfs_random_t r;
    random_fixed(&r, 0x42, 0);
    uint8_t out[ED2K_OBFS_MAX_HANDSHAKE];
    size_t n = ed2k_obfs_initiator_start(&o, hash_b, &r, out);
    static const uint8_t want[] = { 0x42, 0x01, 0x02, 0x03, 0x04,
                                    0xb5, 0x2e, 0xc5, 0xd4, 0x5f, 0x4d, 0xba };
    ck_assert_uint_eq(n, sizeof want);
    ck_assert_mem_eq(out, want, sizeof want);
    /* the next keystream byte pair continues the §11.3 sequence 71 41 9b 57 5f 4d ba 5b */
    uint8_t z = 0;
    ed2k_obfs_encrypt(&o, &z, &z, 1);
    ck_assert_uint_eq(z, 0x5b);
}
END_TEST

/* Runs a full handshake, handing bytes over in chunks of `step`, then a
 * stream in both directions; the initiator's answer carries trailing data. */
static void
handshake(size_t step, uint8_t pad_a, uint8_t pad_b)
{
    ed2k_obfs_t a, b;
    ed2k_obfs_random_t ra, rb;
    random_fixed(&ra, 0x17, pad_a);
    random_fixed(&rb, 0, pad_b);
    uint8_t msg[ED2K_OBFS_MAX_SERVER_MSG], reply[ED2K_OBFS_MAX_SERVER_MSG];
    size_t n = ed2k_obfs_initiator_start(&a, hash_b, &ra, msg);
    ck_assert_uint_eq(n, 12 + (size_t)pad_a);
    ck_assert(!ed2k_obfs_is_plain_marker(msg[0]));
    ed2k_obfs_responder_init(&b, hash_b, &rb);
    size_t off = 0, used = 0, rlen = 0;
    ed2k_obfs_status_t st = ED2K_OBFS_NEED_MORE;
    while (off < n) {
        size_t k = n - off < step ? n - off : step;
        st = ed2k_obfs_feed(&b, msg + off, k, &used, reply, &rlen, NULL);
        ck_assert_uint_eq(used, k);
        off += k;
        if (off < n) {
            ck_assert_int_eq(st, ED2K_OBFS_NEED_MORE);
            ck_assert_uint_eq(rlen, 0);
        }
    }
    ck_assert_int_eq(st, ED2K_OBFS_DONE);
    ck_assert_uint_eq(rlen, 6 + (size_t)pad_b);
    /* B's answer plus the first stream bytes in the same buffer */
    uint8_t wire[ED2K_OBFS_MAX_HANDSHAKE + 5];
    memcpy(wire, reply, rlen);
    uint8_t hello[5] = { 0xe3, 1, 2, 3, 4 };
    ed2k_obfs_encrypt(&b, wire + rlen, hello, sizeof hello);
    size_t total = rlen + sizeof hello;
    off = 0;
    st = ED2K_OBFS_NEED_MORE;
    while (st == ED2K_OBFS_NEED_MORE) {
        ck_assert_uint_lt(off, total);
        size_t k = total - off < step ? total - off : step;
        size_t junk = 99;
        st = ed2k_obfs_feed(&a, wire + off, k, &used, reply, &junk, NULL);
        ck_assert_uint_eq(junk, 0);
        off += used;
    }
    ck_assert_int_eq(st, ED2K_OBFS_DONE);
    ck_assert_uint_eq(off, rlen);
    uint8_t got[5];
    ed2k_obfs_decrypt(&a, got, wire + off, sizeof got);
    ck_assert_mem_eq(got, hello, sizeof hello);
    /* and A -> B */
    uint8_t data[300], enc[300], dec[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13);
    ed2k_obfs_encrypt(&a, enc, data, sizeof data);
    ck_assert(memcmp(enc, data, sizeof data) != 0);
    ed2k_obfs_decrypt(&b, dec, enc, sizeof enc);
    ck_assert_mem_eq(dec, data, sizeof data);
}

START_TEST(test_handshake_splits)
{
    static const size_t steps[] = { 1, 2, 3, 5, 7, 64, 1000 };
    static const uint8_t pads[] = { 0, 1, 144, 255 };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        for (size_t j = 0; j < sizeof pads / sizeof pads[0]; j++)
            handshake(steps[i], pads[j], pads[(j + 1) % 4]);
}
END_TEST

START_TEST(test_wrong_hash)
{
    ed2k_obfs_t a, b;
    ed2k_obfs_random_t r;
    random_fixed(&r, 0x17, 3);
    uint8_t msg[ED2K_OBFS_MAX_SERVER_MSG], reply[ED2K_OBFS_MAX_SERVER_MSG];
    size_t n = ed2k_obfs_initiator_start(&a, hash_b, &r, msg);
    uint8_t other[16];
    memcpy(other, hash_b, 16);
    other[3] ^= 1;
    ed2k_obfs_responder_init(&b, other, &r);
    size_t used, rlen;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_obfs_feed(&b, msg, n, &used, reply, &rlen, &err), ED2K_OBFS_ERROR);
    ck_assert_ptr_nonnull(err);
    ck_assert_uint_eq(rlen, 0);
    mt_error_free(err);
    err = NULL;
    /* a failed handshake stays failed */
    ck_assert_int_eq(ed2k_obfs_feed(&b, msg, 1, &used, reply, &rlen, &err), ED2K_OBFS_ERROR);
    mt_error_free(err);
}
END_TEST

START_TEST(test_wrong_method)
{
    ed2k_obfs_t a, b;
    ed2k_obfs_random_t r;
    random_fixed(&r, 0x17, 0);
    uint8_t msg[ED2K_OBFS_MAX_SERVER_MSG], reply[ED2K_OBFS_MAX_SERVER_MSG];
    size_t n = ed2k_obfs_initiator_start(&a, hash_b, &r, msg);
    ed2k_obfs_responder_init(&b, hash_b, &r);
    size_t used, rlen;
    ck_assert_int_eq(ed2k_obfs_feed(&b, msg, n, &used, reply, &rlen, NULL), ED2K_OBFS_DONE);
    /* flip the selected method (byte 4 of the answer) */
    reply[4] ^= 0x01;
    mt_error_t *err = NULL;
    size_t junk;
    ck_assert_int_eq(ed2k_obfs_feed(&a, reply, rlen, &used, msg, &junk, &err), ED2K_OBFS_ERROR);
    ck_assert_int_eq(err->code, MT_ERR_UNSUPPORTED);
    mt_error_free(err);
}
END_TEST

START_TEST(test_plain_markers)
{
    ck_assert(ed2k_obfs_is_plain_marker(0xE3));
    ck_assert(ed2k_obfs_is_plain_marker(0xD4));
    ck_assert(ed2k_obfs_is_plain_marker(0xC5));
    ck_assert(!ed2k_obfs_is_plain_marker(0xE4));
    ck_assert(!ed2k_obfs_is_plain_marker(0x00));
}
END_TEST

static void
unhex(const char *h, uint8_t *out)
{
    for (size_t i = 0; h[2 * i] != '\0'; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* a = bytes 01..10, b = bytes 11..20 (big-endian exponents), no padding. */
#define DH_A_HEAD "76b0a1b114c92a87a2c881ddec997eab"
#define DH_A_TAIL "a453db35"
#define DH_B                                                                                     \
    "783b52f4e16e1ec23d28872c9d51abffdc7aeb0ee65cd55851646b3a09e2583586ddfe22256ecbf049f2c1bd1ea0" \
    "81e60a932db7eafa74af31fa8ff32b9eeb9f9d55cb3d35e44b9cd0bd4d357818fc11a4382a656ead10b382381427" \
    "15356834"
#define DH_SERVER_TAIL "75468af8b1155b" /* enc<magic><0><0><padlen 0> */
#define DH_CLIENT_PART "644f7fdb4620"   /* enc<magic><0><padlen 0> */

static void
dh_secrets(uint8_t a[16], uint8_t b[16])
{
    for (int i = 0; i < 16; i++) {
        a[i] = (uint8_t)(i + 1);
        b[i] = (uint8_t)(i + 0x11);
    }
}

START_TEST(test_dh_client_vector)
{
    uint8_t a[16], b[16], out[1 + ED2K_OBFS_DH_BYTES + 16], want[16];
    dh_secrets(a, b);
    ed2k_obfs_t o;
    ed2k_obfs_random_t r;
    random_fixed(&r, 0x42, 0);
    size_t n = ed2k_obfs_dh_client_start(&o, a, &r, out);
    ck_assert_uint_eq(n, 98);
    ck_assert_uint_eq(out[0], 0x42);
    unhex(DH_A_HEAD, want);
    ck_assert_mem_eq(out + 1, want, 16);
    unhex(DH_A_TAIL, want);
    ck_assert_mem_eq(out + 93, want, 4);
    ck_assert_uint_eq(out[97], 0);
    uint8_t srv[ED2K_OBFS_DH_BYTES + 7 + 3], reply[ED2K_OBFS_MAX_SERVER_MSG];
    unhex(DH_B DH_SERVER_TAIL, srv);
    srv[103] = 0xe3; /* the stream may follow at once */
    size_t used, rlen;
    ck_assert_int_eq(ed2k_obfs_feed(&o, srv, 104, &used, reply, &rlen, NULL), ED2K_OBFS_DONE);
    ck_assert_uint_eq(used, 103);
    unhex(DH_CLIENT_PART, want);
    ck_assert_uint_eq(rlen, 6);
    ck_assert_mem_eq(reply, want, 6);
}
END_TEST

START_TEST(test_dh_server_vector)
{
    uint8_t a[16], b[16], msg[1 + ED2K_OBFS_DH_BYTES + 16], want[ED2K_OBFS_DH_BYTES + 7];
    dh_secrets(a, b);
    ed2k_obfs_t c, sv;
    ed2k_obfs_random_t r;
    random_fixed(&r, 0x42, 0);
    size_t n = ed2k_obfs_dh_client_start(&c, a, &r, msg);
    ed2k_obfs_dh_server_init(&sv, b, &r);
    uint8_t reply[ED2K_OBFS_MAX_SERVER_MSG];
    size_t used, rlen;
    ck_assert_int_eq(ed2k_obfs_feed(&sv, msg, n, &used, reply, &rlen, NULL), ED2K_OBFS_NEED_MORE);
    ck_assert_uint_eq(used, n);
    unhex(DH_B DH_SERVER_TAIL, want);
    ck_assert_uint_eq(rlen, sizeof want);
    ck_assert_mem_eq(reply, want, sizeof want);
    uint8_t part[6];
    unhex(DH_CLIENT_PART, part);
    ck_assert_int_eq(ed2k_obfs_feed(&sv, part, 6, &used, reply, &rlen, NULL), ED2K_OBFS_DONE);
    ck_assert_uint_eq(rlen, 0);
}
END_TEST

/* Both sides of §9.3 with padding, bytes handed over `step` at a time,
 * then the stream both ways. */
START_TEST(test_dh_both_sides)
{
    static const size_t steps[] = { 1, 3, 97, 1000 };
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        size_t step = steps[k];
        uint8_t a[16], b[16];
        for (int i = 0; i < 16; i++) {
            a[i] = (uint8_t)(0xA0 ^ (i * 29) ^ (int)k);
            b[i] = (uint8_t)(0x5C ^ (i * 71) ^ (int)k);
        }
        ed2k_obfs_t c, sv;
        ed2k_obfs_random_t rc, rs;
        random_fixed(&rc, 0x99, (uint8_t)(13 + k));
        random_fixed(&rs, 0, (uint8_t)(200 + k));
        uint8_t msg[1 + ED2K_OBFS_DH_BYTES + 16], reply[ED2K_OBFS_MAX_SERVER_MSG];
        uint8_t last[ED2K_OBFS_MAX_SERVER_MSG];
        size_t n = ed2k_obfs_dh_client_start(&c, a, &rc, msg);
        ck_assert_uint_eq(n, 98 + (13 + k) % 16);
        ed2k_obfs_dh_server_init(&sv, b, &rs);
        size_t off = 0, used, rlen = 0, got = 0;
        while (off < n) {
            size_t m = n - off < step ? n - off : step;
            ck_assert_int_eq(ed2k_obfs_feed(&sv, msg + off, m, &used, reply, &rlen, NULL),
                             ED2K_OBFS_NEED_MORE);
            ck_assert_uint_eq(used, m);
            off += m;
            if (rlen > 0)
                got = rlen;
        }
        ck_assert_uint_eq(got, ED2K_OBFS_DH_BYTES + 7 + 200 + k);
        ck_assert_uint_eq(rlen, got); /* given with the last byte of the client's message */
        off = 0;
        ed2k_obfs_status_t st = ED2K_OBFS_NEED_MORE;
        size_t llen = 0;
        while (st == ED2K_OBFS_NEED_MORE) {
            ck_assert_uint_lt(off, got);
            size_t m = got - off < step ? got - off : step;
            st = ed2k_obfs_feed(&c, reply + off, m, &used, last, &llen, NULL);
            off += used;
        }
        ck_assert_int_eq(st, ED2K_OBFS_DONE);
        ck_assert_uint_eq(off, got);
        ck_assert_uint_eq(llen, 6 + (13 + k) % 16);
        ck_assert_int_eq(ed2k_obfs_feed(&sv, last, llen, &used, reply, &rlen, NULL), ED2K_OBFS_DONE);
        ck_assert_uint_eq(used, llen);
        uint8_t data[64], e[64], d[64];
        for (size_t i = 0; i < sizeof data; i++)
            data[i] = (uint8_t)(i + 7);
        ed2k_obfs_encrypt(&c, e, data, sizeof data);
        ed2k_obfs_decrypt(&sv, d, e, sizeof e);
        ck_assert_mem_eq(d, data, sizeof data);
        ed2k_obfs_encrypt(&sv, e, data, sizeof data);
        ed2k_obfs_decrypt(&c, d, e, sizeof e);
        ck_assert_mem_eq(d, data, sizeof data);
    }
}
END_TEST

START_TEST(test_dh_wrong_magic)
{
    uint8_t a[16], b[16], srv[ED2K_OBFS_DH_BYTES + 7], reply[ED2K_OBFS_MAX_SERVER_MSG];
    uint8_t out[1 + ED2K_OBFS_DH_BYTES + 16];
    dh_secrets(a, b);
    a[15] ^= 1; /* another secret: another S, the magic decrypts wrong */
    ed2k_obfs_t o;
    ed2k_obfs_random_t r;
    random_fixed(&r, 0x42, 0);
    ed2k_obfs_dh_client_start(&o, a, &r, out);
    unhex(DH_B DH_SERVER_TAIL, srv);
    size_t used, rlen;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_obfs_feed(&o, srv, sizeof srv, &used, reply, &rlen, &err), ED2K_OBFS_ERROR);
    ck_assert_ptr_nonnull(err);
    mt_error_free(err);
}
END_TEST

static Suite *
obfs_suite(void)
{
    Suite *s = suite_create("ed2k_obfs");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_keys);
    tcase_add_test(tc, test_rc4_sanity);
    tcase_add_test(tc, test_initiator_vector);
    tcase_add_test(tc, test_handshake_splits);
    tcase_add_test(tc, test_wrong_hash);
    tcase_add_test(tc, test_wrong_method);
    tcase_add_test(tc, test_plain_markers);
    tcase_add_test(tc, test_dh_client_vector);
    tcase_add_test(tc, test_dh_server_vector);
    tcase_add_test(tc, test_dh_both_sides);
    tcase_add_test(tc, test_dh_wrong_magic);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(obfs_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
