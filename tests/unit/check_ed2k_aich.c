/* check_ed2k_aich.c: unit tests for lib/ed2k/aich: the §11.1 AICH roots
 * built from block hashes, agreement with the streaming hasher, and the
 * recovery data of a part (§5.7): round trips, the identifiers aMule
 * uses, 32-bit identifiers for large files, and every refusal. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/aich.h"
#include "ed2k/hash.h"
#include "ed2k/opcodes.h"
#include "ed2k/packet.h"
#include "util/error.h"
#include "util/xalloc.h"

typedef uint8_t hash20_t[ED2K_AICH_LEN];

/* root_of_buffer: the AICH root of data through aich.h alone. */
static void
root_of_buffer(const uint8_t *data, uint64_t size, uint8_t out[ED2K_AICH_LEN])
{
    ed2k_aich_parts_t t;
    ed2k_aich_parts_init(&t, size);
    for (size_t i = 0; i < t.n; i++) {
        uint64_t s = (uint64_t)i * ED2K_PARTSIZE;
        size_t len = (size_t)(size - s < ED2K_PARTSIZE ? size - s : ED2K_PARTSIZE);
        hash20_t blocks[ED2K_AICH_BLOCKS_PER_PART];
        size_t n = ed2k_aich_blocks(data + s, len, blocks);
        ck_assert_uint_eq(n, size == 0 ? 1 : ed2k_aich_block_count(size, i));
        ed2k_aich_parts_set(&t, i, (const hash20_t *)blocks, n);
    }
    ed2k_aich_parts_root(&t, out);
    ed2k_aich_parts_clear(&t);
}

static void
check_zero_root(uint64_t size, const char *b32)
{
    uint8_t *data = xcalloc(1, size + 1);
    uint8_t root[ED2K_AICH_LEN];
    root_of_buffer(data, size, root);
    char got[ED2K_AICH_B32_LEN + 1];
    ed2k_aich_to_base32(root, got);
    ck_assert_msg(strcmp(got, b32) == 0, "%llu zero bytes: %s, expected %s",
                  (unsigned long long)size, got, b32);
    free(data);
}

START_TEST(test_vectors)
{
    uint8_t a = 'a', root[ED2K_AICH_LEN];
    char got[ED2K_AICH_B32_LEN + 1];
    root_of_buffer(&a, 1, root);
    ed2k_aich_to_base32(root, got);
    ck_assert_str_eq(got, "Q336IN72UWT7ZYK5DXOLT2XK5I3XMZ5Y");
    check_zero_root(1, "LOUTZHNQZ74T6UVVEHLUEDSD63W2E6CP");
    check_zero_root(184320, "73MH2FDSJJRJDPC4FXVI2BMUVNG7XU7G");
    check_zero_root(184321, "WVB2LVC5WFGUSVWL5X6SPN5WHWEJ6HF4");
    check_zero_root(9728000, "5D3N4HQHIUMQ7IU7A5QLPLI6RHSWOR7B");
    check_zero_root(9728001, "HL3TFXORIUEPXUWFPY3JLR7SMKGTO4IH");
    check_zero_root(19456000, "EEXRXRAV5SIJN5I2EITKIBPCXQ6QWG4E");
}
END_TEST

static uint8_t *
random_data(size_t size, uint64_t seed)
{
    uint8_t *d = xmalloc(size);
    uint64_t x = seed;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        d[i] = (uint8_t)(x >> 24);
    }
    return d;
}

/* The same root as hash.c's streaming hasher for random files of several
 * shapes (odd number of parts, a short last part, an exact multiple). */
START_TEST(test_agrees_with_hasher)
{
    static const size_t sizes[] = { 29196345, 3 * 9728000 - 1000, 2 * 9728000, 5 * 9728000 + 184321 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint8_t *d = random_data(sizes[k], 0x9E3779B97F4A7C15ULL + k);
        ed2k_hash_result_t r;
        ed2k_hash_memory(d, sizes[k], &r);
        uint8_t root[ED2K_AICH_LEN];
        root_of_buffer(d, sizes[k], root);
        ck_assert_msg(memcmp(root, r.aich_root, ED2K_AICH_LEN) == 0, "size %zu", sizes[k]);
        ed2k_hash_result_clear(&r);
        free(d);
    }
}
END_TEST

/* A file's tree from made-up block hashes: block j of part i hashes to a
 * pattern, which is all recovery data needs. */
static void
fake_tree(uint64_t size, ed2k_aich_parts_t *t, uint8_t root[ED2K_AICH_LEN])
{
    ed2k_aich_parts_init(t, size);
    for (size_t i = 0; i < t->n; i++) {
        hash20_t b[ED2K_AICH_BLOCKS_PER_PART];
        size_t n = ed2k_aich_block_count(size, i);
        for (size_t j = 0; j < n; j++)
            for (size_t k = 0; k < ED2K_AICH_LEN; k++)
                b[j][k] = (uint8_t)(i * 7 + j * 13 + k);
        ed2k_aich_parts_set(t, i, (const hash20_t *)b, n);
    }
    ed2k_aich_parts_root(t, root);
}

static size_t
fake_blocks(uint64_t size, size_t part, hash20_t b[ED2K_AICH_BLOCKS_PER_PART])
{
    size_t n = ed2k_aich_block_count(size, part);
    for (size_t j = 0; j < n; j++)
        for (size_t k = 0; k < ED2K_AICH_LEN; k++)
            b[j][k] = (uint8_t)(part * 7 + j * 13 + k);
    return n;
}

static void
round_trip(uint64_t size, size_t part, size_t expect_hashes)
{
    ed2k_aich_parts_t t;
    uint8_t root[ED2K_AICH_LEN];
    fake_tree(size, &t, root);
    hash20_t b[ED2K_AICH_BLOCKS_PER_PART], got[ED2K_AICH_BLOCKS_PER_PART];
    size_t n = fake_blocks(size, part, b), n_got = 0;
    uint8_t *rd = NULL;
    size_t len = 0;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_aich_recovery_encode(&t, part, (const hash20_t *)b, n, &rd, &len, &err), 0);
    bool wide = size > ED2K_AICH_LARGE_FILE;
    ck_assert_uint_eq(len, 4 + expect_hashes * (ED2K_AICH_LEN + (wide ? 4 : 2)));
    /* the count is in the list of the file's identifier width */
    size_t count = wide ? (size_t)(rd[2] | rd[3] << 8) : (size_t)(rd[0] | rd[1] << 8);
    ck_assert_uint_eq(count, expect_hashes);
    ck_assert_int_eq(ed2k_aich_recovery_decode(rd, len, size, part, root, got, &n_got, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_uint_eq(n_got, n);
    ck_assert_mem_eq(got, b, n * ED2K_AICH_LEN);
    free(rd);
    ed2k_aich_parts_clear(&t);
}

START_TEST(test_round_trip)
{
    /* §5.7: part 1 of a 3-part file carries 2 upper-level + 53 block hashes */
    round_trip(3 * ED2K_PARTSIZE - 1000, 1, 55);
    round_trip(3 * ED2K_PARTSIZE - 1000, 0, 55);
    round_trip(3 * ED2K_PARTSIZE - 1000, 2, 1 + 53);
    round_trip(ED2K_PARTSIZE, 0, 53);          /* one part: the blocks alone */
    round_trip(184321, 0, 2);
    round_trip(29196345, 2, 2 + 53);
    round_trip(5ULL * 1000 * 1000 * 1000, 100, 9 + 53); /* 32-bit identifiers */
    round_trip(5ULL * 1000 * 1000 * 1000, 513, 10 + 52);
}
END_TEST

/* The identifiers of a single-part file of two blocks: root 1, its left
 * child 3 and right child 2, little-endian. */
START_TEST(test_identifiers)
{
    ed2k_aich_parts_t t;
    uint8_t root[ED2K_AICH_LEN];
    fake_tree(184321, &t, root);
    hash20_t b[ED2K_AICH_BLOCKS_PER_PART];
    size_t n = fake_blocks(184321, 0, b);
    uint8_t *rd = NULL;
    size_t len = 0;
    ck_assert_int_eq(ed2k_aich_recovery_encode(&t, 0, (const hash20_t *)b, n, &rd, &len, NULL), 0);
    ck_assert_uint_eq(len, 2 + 2 * 22 + 2);
    ck_assert_uint_eq(rd[0], 2);
    ck_assert_uint_eq(rd[2], 3);
    ck_assert_uint_eq(rd[3], 0);
    ck_assert_uint_eq(rd[24], 2);
    ck_assert_uint_eq(rd[46], 0);
    ck_assert_uint_eq(rd[47], 0);
    /* part 1 of 3: its sibling part 0 (left child of the root's left
     * child: 0b111) comes after the root's right child (0b10) */
    ed2k_aich_parts_clear(&t);
    free(rd);
    uint64_t size = 3 * ED2K_PARTSIZE - 1000;
    fake_tree(size, &t, root);
    n = fake_blocks(size, 1, b);
    ck_assert_int_eq(ed2k_aich_recovery_encode(&t, 1, (const hash20_t *)b, n, &rd, &len, NULL), 0);
    ck_assert_uint_eq(rd[2] | rd[3] << 8, 2);
    ck_assert_uint_eq(rd[24] | rd[25] << 8, 7);
    /* first block: 0b110 then left, left, ... down 6 levels */
    ck_assert_uint_eq(rd[46] | rd[47] << 8, 0x6 << 6 | 0x3F);
    ed2k_aich_parts_clear(&t);
    free(rd);
}
END_TEST

/* Recovery data of part 1 of a 3-part file, with the error of each way it
 * can be wrong. */
static void
expect_refused(const uint8_t *rd, size_t len, int code)
{
    ed2k_aich_parts_t t;
    uint8_t root[ED2K_AICH_LEN];
    uint64_t size = 3 * ED2K_PARTSIZE - 1000;
    fake_tree(size, &t, root);
    ed2k_aich_parts_clear(&t);
    hash20_t got[ED2K_AICH_BLOCKS_PER_PART];
    size_t n = 0;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_aich_recovery_decode(rd, len, size, 1, root, got, &n, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->code, code);
    mt_error_free(err);
}

START_TEST(test_refusals)
{
    uint64_t size = 3 * ED2K_PARTSIZE - 1000;
    ed2k_aich_parts_t t;
    uint8_t root[ED2K_AICH_LEN];
    fake_tree(size, &t, root);
    hash20_t b[ED2K_AICH_BLOCKS_PER_PART];
    size_t n = fake_blocks(size, 1, b);
    uint8_t *rd = NULL;
    size_t len = 0;
    ck_assert_int_eq(ed2k_aich_recovery_encode(&t, 1, (const hash20_t *)b, n, &rd, &len, NULL), 0);
    uint8_t *m = xmalloc(len + 1);

    for (size_t cut = 0; cut < len; cut += 7)
        expect_refused(rd, cut, MT_ERR_INVALID);          /* truncated */
    memcpy(m, rd, len);
    m[len] = 0;
    expect_refused(m, len + 1, MT_ERR_INVALID);          /* trailing byte */
    memcpy(m, rd, len);
    m[2 + 22 + 2 + 5] ^= 1;
    expect_refused(m, len, MT_ERR_PROTOCOL);             /* a sibling is wrong */
    memcpy(m, rd, len);
    m[len - 3] ^= 0x80;
    expect_refused(m, len, MT_ERR_PROTOCOL);             /* the last block is wrong */
    memcpy(m, rd, len);
    m[24] = m[2];
    m[25] = m[3];
    expect_refused(m, len, MT_ERR_INVALID);              /* repeated identifier */
    memcpy(m, rd, len);
    m[2] = 0xFF;
    expect_refused(m, len, MT_ERR_INVALID);              /* unknown identifier */
    memcpy(m, rd, len);
    m[0] = 54;                                           /* one hash missing */
    memmove(m + 2 + 54 * 22, m + 2 + 55 * 22, 2);
    expect_refused(m, len - 22, MT_ERR_INVALID);
    /* hashes in another order are accepted (aMule places them by identifier) */
    memcpy(m, rd, len);
    memcpy(m + 2, rd + 2 + 22, 22);
    memcpy(m + 2 + 22, rd + 2, 22);
    hash20_t got[ED2K_AICH_BLOCKS_PER_PART];
    size_t n_got;
    ck_assert_int_eq(ed2k_aich_recovery_decode(m, len, size, 1, root, got, &n_got, NULL), 0);

    /* parts with no recovery data: a last part of one block, no part */
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_aich_recovery_decode(rd, len, 2 * ED2K_PARTSIZE + 100, 2, root, got,
                                               &n_got, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_free(err);
    ck_assert(!ed2k_aich_recoverable(184320, 0));
    ck_assert(ed2k_aich_recoverable(184321, 0));
    ck_assert(!ed2k_aich_recoverable(size, 3));
    err = NULL;
    ck_assert_int_eq(ed2k_aich_recovery_encode(&t, 1, (const hash20_t *)b, n - 1, &rd, &len, &err),
                     -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_free(err);
    free(m);
    free(rd);
    ed2k_aich_parts_clear(&t);
}
END_TEST

/* take_packet: the one framed packet in b, checked and unframed. */
static ed2k_packet_t *
take_packet(struct evbuffer *b, uint8_t opcode)
{
    ed2k_packet_t *p = NULL;
    ck_assert_int_eq(ed2k_packet_decode_evbuffer(b, 1 << 20, &p, NULL), ED2K_FRAME_OK);
    ck_assert_uint_eq(p->proto, ED2K_PROT_EMULE);
    ck_assert_uint_eq(p->opcode, opcode);
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    return p;
}

START_TEST(test_packets)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_aich_request_t r = { .part = 0x0102 }, r2;
    for (int i = 0; i < 16; i++)
        r.hash[i] = (uint8_t)i;
    for (int i = 0; i < 20; i++)
        r.root[i] = (uint8_t)(0xA0 + i);
    ed2k_aichrequest_encode(b, &r);
    ed2k_packet_t *p = take_packet(b, ED2K_OP_AICHREQUEST);
    ck_assert_uint_eq(p->len, 38);
    ck_assert_uint_eq(p->payload[16], 0x02); /* little-endian part */
    ck_assert_int_eq(ed2k_aichrequest_decode(p->payload, p->len, &r2, NULL), 0);
    ck_assert_mem_eq(&r, &r2, sizeof r);
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_aichrequest_decode(p->payload, 37, &r2, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    mt_error_free(err);
    ed2k_packet_free(p);

    const uint8_t data[] = { 1, 2, 3 };
    ed2k_aich_answer_t a;
    ed2k_aichanswer_encode(b, r.hash, 7, r.root, data, sizeof data);
    p = take_packet(b, ED2K_OP_AICHANSWER);
    ck_assert_int_eq(ed2k_aichanswer_decode(p->payload, p->len, &a, NULL), 0);
    ck_assert(!a.failed);
    ck_assert_uint_eq(a.part, 7);
    ck_assert_mem_eq(a.root, r.root, 20);
    ck_assert_uint_eq(a.data_len, 3);
    ck_assert_mem_eq(a.data, data, 3);
    for (size_t cut = 17; cut < 38; cut++) {
        err = NULL;
        ck_assert_int_eq(ed2k_aichanswer_decode(p->payload, cut, &a, &err), -1);
        mt_error_free(err);
    }
    ed2k_packet_free(p);
    ed2k_aichanswer_encode(b, r.hash, 7, r.root, NULL, 0); /* failure: the hash alone */
    p = take_packet(b, ED2K_OP_AICHANSWER);
    ck_assert_uint_eq(p->len, 16);
    ck_assert_int_eq(ed2k_aichanswer_decode(p->payload, p->len, &a, NULL), 0);
    ck_assert(a.failed);
    ck_assert_mem_eq(a.hash, r.hash, 16);
    ed2k_packet_free(p);
    evbuffer_free(b);
}
END_TEST

/* aMule's rule for roots sent by sources: 10 address ranges, 92%. */
START_TEST(test_trust)
{
    size_t v[3] = { 9 };
    ck_assert_int_eq(ed2k_aich_trust(v, 0), -1);
    ck_assert_int_eq(ed2k_aich_trust(v, 1), -1);   /* 9 ranges */
    v[0] = 10;
    ck_assert_int_eq(ed2k_aich_trust(v, 1), 0);
    v[1] = 1;                                     /* 10 of 11: 90% */
    ck_assert_int_eq(ed2k_aich_trust(v, 2), -1);
    v[0] = 12;                                    /* 12 of 13: 92% */
    ck_assert_int_eq(ed2k_aich_trust(v, 2), 0);
    v[0] = 1;
    v[1] = 0;
    v[2] = 20;
    ck_assert_int_eq(ed2k_aich_trust(v, 3), 2);   /* 20 of 21: 95% */
    /* one vote per /20 */
    ck_assert_uint_eq(ed2k_aich_voter(0x0A0BFC0Du), 0x0A0BF000u);
    ck_assert_uint_eq(ed2k_aich_voter(0x0A0BF001u), ed2k_aich_voter(0x0A0BFFFFu));
    ck_assert_uint_ne(ed2k_aich_voter(0x0A0BEFFFu), ed2k_aich_voter(0x0A0BF000u));
}
END_TEST

static Suite *
aich_suite(void)
{
    Suite *s = suite_create("ed2k_aich");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_agrees_with_hasher);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_identifiers);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_packets);
    tcase_add_test(tc, test_trust);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(aich_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
