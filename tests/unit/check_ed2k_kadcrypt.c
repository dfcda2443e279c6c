/* check_ed2k_kadcrypt.c: unit tests for lib/ed2k/kadcrypt: obfuscated Kad
 * datagrams (ed2k-protocol.md §9.4) keyed by the receiver's id and by a
 * verify key, the header's layout, markers, and what is refused; server
 * datagrams (§9.5). */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/kadcrypt.h"
#include "util/error.h"

static const kad_id_t me = { { 0x04b3a90eu, 0x2dc063a3u, 0x277786e8u, 0xf498e0adu } };
static const uint8_t hello[] = { 0xe4, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                 0x66, 0x87, 0x08, 0x01, 0x09, 0x01, 0x00, 0xf2, 0x02 };

START_TEST(test_round_trip_by_id)
{
    uint8_t enc[64], dec[64];
    size_t n = kad_crypt_encrypt(hello, sizeof hello, &me, false, 0, 0x58736619u, enc);
    ck_assert_uint_eq(n, sizeof hello + KAD_CRYPT_HEADER_LEN);
    ck_assert(!kad_crypt_is_plain(enc[0]));
    ck_assert(kad_crypt_is_kad(enc[0]));
    ck_assert_uint_eq(enc[0] & 0x02, 0);
    /* The datagram does not show through. */
    ck_assert(memcmp(enc + KAD_CRYPT_HEADER_LEN, hello, sizeof hello) != 0);
    size_t m = 0;
    uint32_t rk = 1, sk = 0;
    ck_assert_int_eq(kad_crypt_decrypt(enc, n, &me, 12345, dec, &m, &rk, &sk, NULL), 0);
    ck_assert_uint_eq(m, sizeof hello);
    ck_assert_mem_eq(dec, hello, sizeof hello);
    ck_assert_uint_eq(rk, 0);
    ck_assert_uint_eq(sk, 0x58736619u);
    /* Another id cannot read it. */
    kad_id_t other = me;
    other.w[3] ^= 1;
    mt_error_t *err = NULL;
    ck_assert_int_eq(kad_crypt_decrypt(enc, n, &other, 12345, dec, &m, &rk, &sk, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    mt_error_free(err);
}
END_TEST

START_TEST(test_round_trip_by_key)
{
    uint32_t secret = 0xa1b2c3d4u, peer_ip = 0x64400101u; /* 100.64.1.1 */
    uint32_t key = kad_verify_key(secret, peer_ip);
    ck_assert_uint_ne(key, 0);
    ck_assert_uint_eq(kad_verify_key(secret, peer_ip), key);
    ck_assert_uint_ne(kad_verify_key(secret, peer_ip + 1), key);
    ck_assert_uint_ne(kad_verify_key(secret + 1, peer_ip), key);
    uint8_t enc[64], dec[64];
    size_t n = kad_crypt_encrypt(hello, sizeof hello, NULL, true, key, 77, enc);
    ck_assert_uint_eq(enc[0] & 0x03, 0x02);
    size_t m = 0;
    uint32_t rk = 0, sk = 0;
    /* The id does not matter: the key we handed that address does. */
    kad_id_t any = { { 9, 9, 9, 9 } };
    ck_assert_int_eq(kad_crypt_decrypt(enc, n, &any, key, dec, &m, &rk, &sk, NULL), 0);
    ck_assert_mem_eq(dec, hello, sizeof hello);
    ck_assert_uint_eq(rk, key);
    ck_assert_uint_eq(sk, 77);
    ck_assert_int_eq(kad_crypt_decrypt(enc, n, &any, key + 1, dec, &m, &rk, &sk, NULL), -1);
    /* A marker naming the wrong kind of key: the other is tried too. */
    enc[0] &= (uint8_t)~0x02;
    if (kad_crypt_is_plain(enc[0]))
        enc[0] = (uint8_t)(enc[0] + 4);
    ck_assert_int_eq(kad_crypt_decrypt(enc, n, &any, key, dec, &m, &rk, &sk, NULL), 0);
    ck_assert_mem_eq(dec, hello, sizeof hello);
}
END_TEST

START_TEST(test_refusals)
{
    uint8_t dec[64];
    size_t m;
    uint32_t rk, sk;
    uint8_t enc[64];
    size_t n = kad_crypt_encrypt(hello, sizeof hello, &me, false, 0, 0, enc);
    /* Short of the header, for every length. */
    for (size_t len = 0; len < KAD_CRYPT_HEADER_LEN; len++) {
        uint8_t *cut = malloc(len + 1);
        memcpy(cut, enc, len);
        ck_assert_int_eq(kad_crypt_decrypt(cut, len, &me, 1, dec, &m, &rk, &sk, NULL), -1);
        free(cut);
    }
    /* Exactly the header: an empty datagram. */
    ck_assert_int_eq(kad_crypt_decrypt(enc, KAD_CRYPT_HEADER_LEN, &me, 1, dec, &m, &rk, &sk,
                                       NULL),
                     0);
    ck_assert_uint_eq(m, 0);
    (void)n;
    /* Plain protocol bytes and eD2K client markers are not Kad ones. */
    static const uint8_t plain[] = { 0xe3, 0xc5, 0xd4, 0xe4, 0xe5, 0xa3, 0xb2 };
    for (size_t i = 0; i < sizeof plain; i++) {
        ck_assert(kad_crypt_is_plain(plain[i]));
        enc[0] = plain[i];
        ck_assert_int_eq(kad_crypt_decrypt(enc, n, &me, 1, dec, &m, &rk, &sk, NULL), -1);
    }
    ck_assert(!kad_crypt_is_kad(0x01));
    ck_assert(!kad_crypt_is_kad(0xed));
    ck_assert(kad_crypt_is_kad(0xec)); /* amuled's, §9.4 */
}
END_TEST

/* eD2K client datagrams: a vector computed independently (Python's
 * hashlib.md5 and a textbook RC4): user hash of §11.3, sender 127.0.0.1,
 * R = 01 02, marker 0x01, no padding, datagram c5 91 01 02 03 04. */
START_TEST(test_ed2k_vector)
{
    static const uint8_t hash[16] = { 0xb0, 0xbf, 0x77, 0x08, 0xd0, 0x0e, 0x61, 0xcb,
                                      0x38, 0x74, 0x61, 0x7a, 0x2e, 0xa0, 0x6f, 0x18 };
    static const uint8_t plain[] = { 0xc5, 0x91, 0x01, 0x02, 0x03, 0x04 };
    static const uint8_t want[] = { 0x01, 0x01, 0x02, 0x35, 0xe7, 0x82, 0x1c, 0x29,
                                    0x1f, 0x81, 0xdb, 0xc0, 0xf8, 0xa0 };
    uint32_t ip = 127u | 1u << 24; /* 127.0.0.1, eD2K form */
    static const uint8_t r[3] = { 0x00, 0x01, 0x02 };
    uint8_t out[64];
    size_t n = ed2k_udp_crypt_encrypt(plain, sizeof plain, hash, ip, r, out);
    ck_assert_uint_eq(n, sizeof want);
    ck_assert(memcmp(out, want, sizeof want) == 0);
    uint8_t back[64];
    size_t blen = 0;
    ck_assert_int_eq(ed2k_udp_crypt_decrypt(want, sizeof want, hash, ip, back, &blen, NULL), 0);
    ck_assert_uint_eq(blen, sizeof plain);
    ck_assert(memcmp(back, plain, sizeof plain) == 0);
    /* another sender IP, or another receiver: the magic does not match */
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_udp_crypt_decrypt(want, sizeof want, hash, ip + 1, back, &blen, &err), -1);
    ck_assert(strstr(err->message, "magic") != NULL);
    mt_error_free(err);
    uint8_t other[16];
    memcpy(other, hash, 16);
    other[0] ^= 1;
    ck_assert_int_eq(ed2k_udp_crypt_decrypt(want, sizeof want, other, ip, back, &blen, NULL), -1);
    /* a Kad marker (bit 0 clear), a plain byte, or too short: not ours */
    uint8_t kad[sizeof want];
    memcpy(kad, want, sizeof want);
    kad[0] = 0x10;
    ck_assert_int_eq(ed2k_udp_crypt_decrypt(kad, sizeof kad, hash, ip, back, &blen, NULL), -1);
    kad[0] = 0xc5;
    ck_assert_int_eq(ed2k_udp_crypt_decrypt(kad, sizeof kad, hash, ip, back, &blen, NULL), -1);
    ck_assert_int_eq(ed2k_udp_crypt_decrypt(want, 7, hash, ip, back, &blen, NULL), -1);
    /* an encrypt marker that would be a plain protocol byte moves on */
    static const uint8_t r2[3] = { 0xc4, 0x01, 0x02 };
    ed2k_udp_crypt_encrypt(plain, sizeof plain, hash, ip, r2, out);
    ck_assert(out[0] & 0x01);
    ck_assert(!kad_crypt_is_plain(out[0]));
}
END_TEST

/* Fixed vectors of Kad datagrams (§9.4), derived outside this code (Python's
 * hashlib.md5 and a textbook RC4, after aMule's EncryptSendClient): the
 * hello above to `me`, keyed by its id with R = 33 44 and marker 0x10,
 * then by the verify key 0x01020304 with marker 0x12; receiver key
 * 0x01020304, sender key 0x58736619, no padding. */
START_TEST(test_kad_vectors)
{
    static const uint8_t by_id[] = { 0x10, 0x33, 0x44, 0x01, 0x99, 0x77, 0x23, 0xca,
                                    0x02, 0x26, 0x89, 0x17, 0x9b, 0x7b, 0xd9, 0x35,
                                    0x35, 0x92, 0xec, 0x15, 0x9d, 0x02, 0xde, 0x53,
                                    0xab, 0x67, 0x7b, 0x08, 0xf0, 0x54, 0xaa, 0xc3,
                                    0xc2, 0x22, 0xf7, 0x44, 0x4e, 0x0b, 0xd9, 0x3c,
                                    0x4a, 0xc3, 0x69 };
    static const uint8_t by_key[] = { 0x12, 0x33, 0x44, 0xdc, 0x49, 0xb9, 0xf3, 0xbd,
                                    0x76, 0xd5, 0xe1, 0x3e, 0x38, 0x45, 0x4d, 0x08,
                                    0x8c, 0xa8, 0x67, 0x0f, 0xc4, 0x32, 0xa7, 0x8d,
                                    0x3d, 0x15, 0x69, 0x36, 0xc9, 0x52, 0xf3, 0x17,
                                    0xe8, 0xa5, 0x99, 0xac, 0xb8, 0xb1, 0x8c, 0xd1,
                                    0x73, 0x4e, 0x8b };
    static const uint8_t r_id[3] = { 0x10, 0x33, 0x44 }, r_key[3] = { 0x12, 0x33, 0x44 };
    uint8_t out[64], back[64];
    size_t n = kad_crypt_encrypt_r(hello, sizeof hello, &me, false, 0x01020304u, 0x58736619u, r_id,
                                   out);
    ck_assert_uint_eq(n, sizeof by_id);
    ck_assert_mem_eq(out, by_id, sizeof by_id);
    n = kad_crypt_encrypt_r(hello, sizeof hello, NULL, true, 0x01020304u, 0x58736619u, r_key, out);
    ck_assert_uint_eq(n, sizeof by_key);
    ck_assert_mem_eq(out, by_key, sizeof by_key);
    size_t m = 0;
    uint32_t rk = 0, sk = 0;
    ck_assert_int_eq(kad_crypt_decrypt(by_key, sizeof by_key, &me, 0x01020304u, back, &m, &rk, &sk,
                                       NULL), 0);
    ck_assert_uint_eq(m, sizeof hello);
    ck_assert_mem_eq(back, hello, sizeof hello);
    ck_assert_uint_eq(rk, 0x01020304u);
    ck_assert_uint_eq(sk, 0x58736619u);
}
END_TEST

/* Fixed vectors of server datagrams (§9.5), derived the same way after
 * aMule's EncryptSendServer: a status request (E3 96, challenge
 * 0x12345678) to a server with UDP key 0xCAFEBABE, and the answer it
 * would send (E3 97, challenge, 5 users, 9 files), R = 11 22, marker
 * 0x42, no padding. */
START_TEST(test_server_vectors)
{
    static const uint8_t req[] = { 0xe3, 0x96, 0x78, 0x56, 0x34, 0x12 };
    static const uint8_t req_enc[] = { 0x42, 0x11, 0x22, 0xd2, 0xc4, 0x75, 0xf6, 0xb2,
                                    0xe1, 0x0c, 0x04, 0x81, 0x02, 0x4b };
    static const uint8_t res[] = { 0xe3, 0x97, 0x78, 0x56, 0x34, 0x12, 5, 0, 0, 0, 9, 0, 0, 0 };
    static const uint8_t res_enc[] = { 0x42, 0x11, 0x22, 0x65, 0x0f, 0x8c, 0xc8, 0x0d,
                                    0x16, 0xde, 0x36, 0xa3, 0xbf, 0xee, 0x51, 0x82,
                                    0x49, 0x11, 0x9e, 0x1b, 0x26, 0xdd };
    static const uint8_t r[3] = { 0x42, 0x11, 0x22 };
    uint8_t out[64], back[64];
    size_t n = ed2k_srv_crypt_encrypt(req, sizeof req, 0xCAFEBABEu, ED2K_SRV_CRYPT_TO_SERVER, r, out);
    ck_assert_uint_eq(n, sizeof req_enc);
    ck_assert_mem_eq(out, req_enc, sizeof req_enc);
    n = ed2k_srv_crypt_encrypt(res, sizeof res, 0xCAFEBABEu, ED2K_SRV_CRYPT_FROM_SERVER, r, out);
    ck_assert_mem_eq(out, res_enc, sizeof res_enc);
    size_t m = 0;
    ck_assert_int_eq(ed2k_srv_crypt_decrypt(res_enc, sizeof res_enc, 0xCAFEBABEu,
                                            ED2K_SRV_CRYPT_FROM_SERVER, back, &m, NULL), 0);
    ck_assert_uint_eq(m, sizeof res);
    ck_assert_mem_eq(back, res, sizeof res);
    /* another key, the other direction: the magic does not match */
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_srv_crypt_decrypt(res_enc, sizeof res_enc, 0xCAFEBABFu,
                                            ED2K_SRV_CRYPT_FROM_SERVER, back, &m, &err), -1);
    ck_assert(strstr(err->message, "magic") != NULL);
    mt_error_free(err);
    ck_assert_int_eq(ed2k_srv_crypt_decrypt(res_enc, sizeof res_enc, 0xCAFEBABEu,
                                            ED2K_SRV_CRYPT_TO_SERVER, back, &m, NULL), -1);
    /* plain (0xE3 first), too short: refused */
    ck_assert_int_eq(ed2k_srv_crypt_decrypt(res, sizeof res, 0xCAFEBABEu,
                                            ED2K_SRV_CRYPT_FROM_SERVER, back, &m, NULL), -1);
    ck_assert_int_eq(ed2k_srv_crypt_decrypt(res_enc, 8, 0xCAFEBABEu, ED2K_SRV_CRYPT_FROM_SERVER,
                                            back, &m, NULL), -1);
    /* a marker 0xE3 is never sent */
    static const uint8_t r2[3] = { 0xe3, 0x11, 0x22 };
    ed2k_srv_crypt_encrypt(req, sizeof req, 0xCAFEBABEu, ED2K_SRV_CRYPT_TO_SERVER, r2, out);
    ck_assert_uint_ne(out[0], 0xe3);
}
END_TEST

/* A padding length past the end of a server datagram is refused; within
 * it, the padding (its low 4 bits) is skipped. */
START_TEST(test_server_padding)
{
    static const uint8_t req[] = { 0xe3, 0x96, 0x78, 0x56, 0x34, 0x12 };
    static const uint8_t r[3] = { 0x42, 0x11, 0x22 };
    uint8_t out[64], back[64];
    size_t n = ed2k_srv_crypt_encrypt(req, sizeof req, 7, ED2K_SRV_CRYPT_FROM_SERVER, r, out);
    /* re-encrypt the pad length as 0xF6 (6 after the mask: the whole datagram) */
    out[7] ^= 0xF6;
    size_t m = 0;
    ck_assert_int_eq(ed2k_srv_crypt_decrypt(out, n, 7, ED2K_SRV_CRYPT_FROM_SERVER, back, &m, NULL),
                     -1);
    out[7] ^= 0xF6 ^ 0x02; /* 2 bytes of padding: 4 bytes of datagram remain */
    ck_assert_int_eq(ed2k_srv_crypt_decrypt(out, n, 7, ED2K_SRV_CRYPT_FROM_SERVER, back, &m, NULL),
                     0);
    ck_assert_uint_eq(m, sizeof req - 2);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_kadcrypt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_round_trip_by_id);
    tcase_add_test(tc, test_round_trip_by_key);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_ed2k_vector);
    tcase_add_test(tc, test_kad_vectors);
    tcase_add_test(tc, test_server_vectors);
    tcase_add_test(tc, test_server_padding);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
