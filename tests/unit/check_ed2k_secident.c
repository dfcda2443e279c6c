/* check_ed2k_secident.c: unit tests for lib/ed2k/secident: a fixed key's
 * public blob and signatures (v1 and v2) against vectors computed
 * independently (pyca/cryptography on OpenSSL: SubjectPublicKeyInfo DER,
 * PKCS #1 v1.5 SHA-1), verification, the key file, and the packets. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ed2k/opcodes.h"
#include "ed2k/packet.h"
#include "ed2k/secident.h"
#include "util/error.h"
#include "util/hex.h"

/* A 384-bit key with e = 17, as nettle's canonical s-expression. */
static const char key_hex[] =
    "2831313a707269766174652d6b657928393a7273612d706b63733128313a6e34"
    "393a00d1bdd5e54a90e81a356ad555b087d9b34570001065fa82b4df73eddb54"
    "f7fad5e5be852ff146712d771516352c42a1532928313a65313a112928313a64"
    "34383a250361fb4964ddaa45a970f10108ea2eb1e696997b68716ae4537843d0"
    "b7dad960361254dee824be74563261ae3ead512928313a7032353a00d25ebed8"
    "70b52cbad0e897bdb2eaf4bcbe30af24edb949232928313a7132353a00ff3c30"
    "2d45864b4b48f8dae6a48d56e425a69ee6b87b82112928313a6132343a3ddfa1"
    "8af3f90d27e3173bb043ae8437833b7ecea0458dfb2928313a6232353a00c32e"
    "06b9352a75d028be4d0aba11baeab3614c56149aaec12928313a6332353a00d1"
    "0974c63970c2dc1d12816bade44566cc6fcc17573e6d66292929";
/* Its SubjectPublicKeyInfo (76 bytes). */
static const char blob_hex[] =
    "304a300d06092a864886f70d01010105000339003036023100d1bdd5e54a90e8"
    "1a356ad555b087d9b34570001065fa82b4df73eddb54f7fad5e5be852ff14671"
    "2d771516352c42a153020111";
/* Signatures over bytes 0..75 | challenge 0x12345678: v1, and v2 with
 * IP 127.0.0.1 (0x0100007f) of kind CRYPT_CIP_LOCALCLIENT (20). */
static const char sig1_hex[] =
    "43bf044cfb4473dfb14e2950ade098318b730e55e1ed210974be7d512fd6415c"
    "7821811125a1851f73269ef40103acb7";
static const char sig2_hex[] =
    "25936bf9f7d7a728a2b78ee61dd58ebbf66237293de00dbd91a807774b712d25"
    "feff80b1a166ce4ece680639f50f5ecf";
#define CHALLENGE 0x12345678u
#define IP 0x0100007fu

static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    ck_assert_uint_le(n, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static ed2k_secident_key_t *
fixed_key(void)
{
    uint8_t text[512];
    size_t n = unhex(key_hex, text, sizeof text);
    ed2k_secident_key_t *k = ed2k_secident_from_text(text, n, NULL);
    ck_assert_ptr_nonnull(k);
    return k;
}

static void
other_key(uint8_t out[76])
{
    for (int i = 0; i < 76; i++)
        out[i] = (uint8_t)i;
}

START_TEST(test_blob)
{
    ed2k_secident_key_t *k = fixed_key();
    uint8_t want[128];
    size_t wn = unhex(blob_hex, want, sizeof want);
    size_t n;
    const uint8_t *blob = ed2k_secident_pubkey(k, &n);
    ck_assert_uint_eq(n, 76);
    ck_assert_uint_eq(n, wn);
    ck_assert_mem_eq(blob, want, n);
    ck_assert(ed2k_secident_key_is_valid(blob, n));
    ck_assert(!ed2k_secident_key_is_valid(blob, n - 1));
    uint8_t bad[76];
    memcpy(bad, blob, n);
    bad[8] ^= 1; /* the OID */
    ck_assert(!ed2k_secident_key_is_valid(bad, n));
    ed2k_secident_free(k);
}
END_TEST

START_TEST(test_sign_vectors)
{
    ed2k_secident_key_t *k = fixed_key();
    uint8_t other[76], sig[64], want[64];
    other_key(other);
    size_t n = ed2k_secident_sign(k, other, 76, CHALLENGE, 0, 0, sig, sizeof sig);
    ck_assert_uint_eq(n, 48);
    ck_assert_uint_eq(unhex(sig1_hex, want, sizeof want), 48);
    ck_assert_mem_eq(sig, want, 48);
    n = ed2k_secident_sign(k, other, 76, CHALLENGE, ED2K_CIP_LOCALCLIENT, IP, sig, sizeof sig);
    ck_assert_uint_eq(n, 48);
    unhex(sig2_hex, want, sizeof want);
    ck_assert_mem_eq(sig, want, 48);
    ck_assert_uint_eq(ed2k_secident_sign(k, other, 76, CHALLENGE, 0, 0, sig, 47), 0);
    ed2k_secident_free(k);
}
END_TEST

START_TEST(test_verify)
{
    uint8_t blob[128], other[76], sig1[64], sig2[64];
    size_t bn = unhex(blob_hex, blob, sizeof blob);
    other_key(other);
    unhex(sig1_hex, sig1, sizeof sig1);
    unhex(sig2_hex, sig2, sizeof sig2);
    /* the verifier is the owner of other: the signer signed its key */
    ck_assert(ed2k_secident_verify(blob, bn, other, 76, CHALLENGE, 0, 0, sig1, 48));
    ck_assert(ed2k_secident_verify(blob, bn, other, 76, CHALLENGE, ED2K_CIP_LOCALCLIENT, IP,
                                   sig2, 48));
    ck_assert(!ed2k_secident_verify(blob, bn, other, 76, CHALLENGE + 1, 0, 0, sig1, 48));
    ck_assert(!ed2k_secident_verify(blob, bn, other, 76, CHALLENGE, ED2K_CIP_REMOTECLIENT, IP,
                                    sig2, 48));
    ck_assert(!ed2k_secident_verify(blob, bn, other, 76, CHALLENGE, ED2K_CIP_LOCALCLIENT, IP + 1,
                                    sig2, 48));
    ck_assert(!ed2k_secident_verify(blob, bn, other, 75, CHALLENGE, 0, 0, sig1, 48));
    sig1[10] ^= 0x40;
    ck_assert(!ed2k_secident_verify(blob, bn, other, 76, CHALLENGE, 0, 0, sig1, 48));
    ck_assert(!ed2k_secident_verify(blob, bn - 3, other, 76, CHALLENGE, 0, 0, sig2, 48));
}
END_TEST

START_TEST(test_generate_roundtrip)
{
    ed2k_secident_key_t *a = ed2k_secident_generate(NULL);
    ed2k_secident_key_t *b = fixed_key();
    ck_assert_ptr_nonnull(a);
    size_t an, bn;
    const uint8_t *ab = ed2k_secident_pubkey(a, &an);
    const uint8_t *bb = ed2k_secident_pubkey(b, &bn);
    ck_assert_uint_eq(an, 76);
    /* a signs b's key; b verifies with its own key as the message */
    uint8_t sig[64];
    size_t n = ed2k_secident_sign(a, bb, bn, 77, ED2K_CIP_REMOTECLIENT, 0x0a000001, sig, sizeof sig);
    ck_assert_uint_eq(n, 48);
    ck_assert(ed2k_secident_verify(ab, an, bb, bn, 77, ED2K_CIP_REMOTECLIENT, 0x0a000001, sig, n));
    /* the text form gives the same key back */
    size_t tn;
    uint8_t *text = ed2k_secident_to_text(a, &tn);
    ed2k_secident_key_t *c = ed2k_secident_from_text(text, tn, NULL);
    ck_assert_ptr_nonnull(c);
    size_t cn;
    ck_assert_mem_eq(ed2k_secident_pubkey(c, &cn), ab, an);
    free(text);
    ed2k_secident_free(a);
    ed2k_secident_free(b);
    ed2k_secident_free(c);
}
END_TEST

START_TEST(test_key_file)
{
    char dir[] = "/tmp/check_secident.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/secident.key", dir);
    ed2k_secident_key_t *a = ed2k_secident_load_or_create(path, NULL);
    ck_assert_ptr_nonnull(a);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ed2k_secident_key_t *b = ed2k_secident_load_or_create(path, NULL);
    ck_assert_ptr_nonnull(b);
    size_t an, bn;
    const uint8_t *ab = ed2k_secident_pubkey(a, &an);
    ck_assert_mem_eq(ed2k_secident_pubkey(b, &bn), ab, an);
    /* a file that is not a key is an error and stays as it is */
    FILE *f = fopen(path, "w");
    fputs("garbage", f);
    fclose(f);
    mt_error_t *err = NULL;
    ck_assert_ptr_null(ed2k_secident_load_or_create(path, &err));
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_free(err);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 7);
    unlink(path);
    rmdir(dir);
    ed2k_secident_free(a);
    ed2k_secident_free(b);
}
END_TEST

/* take: the one packet in buf. */
static ed2k_packet_t *
take(struct evbuffer *buf, uint8_t opcode)
{
    ed2k_packet_t *p = NULL;
    ck_assert_int_eq(ed2k_packet_decode_evbuffer(buf, 1024, &p, NULL), ED2K_FRAME_OK);
    ck_assert_uint_eq(p->proto, ED2K_PROT_EMULE);
    ck_assert_uint_eq(p->opcode, opcode);
    return p;
}

START_TEST(test_packets)
{
    struct evbuffer *buf = evbuffer_new();
    ed2k_secidentstate_encode(buf, ED2K_SECIDENT_KEY_AND_SIG_NEEDED, 0xdeadbeef);
    ed2k_packet_t *p = take(buf, ED2K_OP_SECIDENTSTATE);
    static const uint8_t st_wire[] = { 2, 0xef, 0xbe, 0xad, 0xde };
    ck_assert_uint_eq(p->len, 5);
    ck_assert_mem_eq(p->payload, st_wire, 5);
    uint8_t state;
    uint32_t ch;
    ck_assert_int_eq(ed2k_secidentstate_decode(p->payload, p->len, &state, &ch, NULL), 0);
    ck_assert_uint_eq(state, 2);
    ck_assert_uint_eq(ch, 0xdeadbeef);
    ck_assert_int_eq(ed2k_secidentstate_decode(p->payload, 4, &state, &ch, NULL), -1);
    ed2k_packet_free(p);

    uint8_t key[76];
    other_key(key);
    ed2k_publickey_encode(buf, key, 76);
    p = take(buf, ED2K_OP_PUBLICKEY);
    ck_assert_uint_eq(p->len, 77);
    ck_assert_uint_eq(p->payload[0], 76);
    const uint8_t *k;
    size_t kn;
    ck_assert_int_eq(ed2k_publickey_decode(p->payload, p->len, &k, &kn, NULL), 0);
    ck_assert_uint_eq(kn, 76);
    ck_assert_mem_eq(k, key, 76);
    ck_assert_int_eq(ed2k_publickey_decode(p->payload, p->len - 1, &k, &kn, NULL), -1);
    ed2k_packet_free(p);

    ed2k_signature_encode(buf, key, 48, ED2K_CIP_REMOTECLIENT);
    p = take(buf, ED2K_OP_SIGNATURE);
    ck_assert_uint_eq(p->len, 50);
    ck_assert_uint_eq(p->payload[49], ED2K_CIP_REMOTECLIENT);
    const uint8_t *s;
    size_t sn;
    uint8_t kind;
    ck_assert_int_eq(ed2k_signature_decode(p->payload, p->len, true, &s, &sn, &kind, NULL), 0);
    ck_assert_uint_eq(sn, 48);
    ck_assert_uint_eq(kind, ED2K_CIP_REMOTECLIENT);
    /* a v2 signature from a peer that did not advertise v2 */
    ck_assert_int_eq(ed2k_signature_decode(p->payload, p->len, false, &s, &sn, &kind, NULL), -1);
    ed2k_packet_free(p);
    ed2k_signature_encode(buf, key, 48, 0);
    p = take(buf, ED2K_OP_SIGNATURE);
    ck_assert_uint_eq(p->len, 49);
    ck_assert_int_eq(ed2k_signature_decode(p->payload, p->len, false, &s, &sn, &kind, NULL), 0);
    ck_assert_uint_eq(kind, 0);
    ed2k_packet_free(p);
    evbuffer_free(buf);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_secident");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_blob);
    tcase_add_test(tc, test_sign_vectors);
    tcase_add_test(tc, test_verify);
    tcase_add_test(tc, test_generate_roundtrip);
    tcase_add_test(tc, test_key_file);
    tcase_add_test(tc, test_packets);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
