/* check_blocksel.c: unit tests for daemon/transfer/blocksel.c: 180 KiB alignment,
 * part boundaries, preference order, requested ranges and the end game. */
#include "config.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/transfer/blocksel.h"
#include "util/xalloc.h"

#define PS ED2K_PARTSIZE
#define EMB ((uint64_t)ED2K_EMBLOCKSIZE)

static char dir[64];

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/check_blocksel.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A download of zero bytes (its hashes are those of zeros, so parts can
 * really be verified). */
static partfile_t *
zero_download(uint64_t size, bool with_hashset)
{
    uint8_t fh[16];
    ed2k_hash_result_t hr = { 0 };
    if (with_hashset) {
        uint8_t *zeros = xcalloc(1, size);
        ed2k_hash_memory(zeros, size, &hr);
        free(zeros);
        memcpy(fh, hr.file_hash, 16);
    } else {
        ed2k_md4(&size, sizeof size, fh);
    }
    mt_error_t *err = NULL;
    partfile_t *pf = pf_create(dir, fh, size, "blocks.bin", &err);
    ck_assert_msg(pf != NULL, "pf_create: %s", err ? err->message : "");
    if (with_hashset)
        ck_assert_int_eq(pf_set_hashset(pf, (const uint8_t (*)[16])hr.part_hashes,
                                        hr.n_part_hashes, NULL),
                         0);
    ed2k_hash_result_clear(&hr);
    return pf;
}

static void
fill(partfile_t *pf, uint64_t start, uint64_t end)
{
    static uint8_t zeros[1 << 20];
    while (start < end) {
        size_t n = end - start < sizeof zeros ? (size_t)(end - start) : sizeof zeros;
        ck_assert_int_eq(pf_write(pf, start, zeros, n, NULL), 0);
        start += n;
    }
}

static void
verify_part(partfile_t *pf, size_t part)
{
    pf_verify_job_t *job = pf_verify_prepare(pf, part, false);
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(pf_verify_run(job), 0);
    ck_assert_int_eq(pf_verify_apply(pf, job), PF_VERIFY_OK);
    pf_verify_job_free(job);
}

#define PICK(pf, req, parts, avail, allow, ws, we)                                                \
    do {                                                                                          \
        uint64_t s_, e_;                                                                          \
        ck_assert_int_eq(blocksel_pick(pf, req, parts, avail, allow, &s_, &e_), 0);               \
        ck_assert_uint_eq(s_, (uint64_t)(ws));                                                    \
        ck_assert_uint_eq(e_, (uint64_t)(we));                                                    \
    } while (0)

#define NO_PICK(pf, req, parts, avail, allow)                                                     \
    do {                                                                                          \
        uint64_t s_ = 7, e_ = 7;                                                                  \
        ck_assert_int_eq(blocksel_pick(pf, req, parts, avail, allow, &s_, &e_), -1);              \
    } while (0)

START_TEST(test_alignment)
{
    partfile_t *pf = zero_download(2 * PS + 1000, false);
    rangeset_t *req = rangeset_new();
    PICK(pf, req, NULL, NULL, false, 0, EMB);
    PICK(pf, NULL, NULL, NULL, false, 0, EMB);
    rangeset_add(req, 0, EMB);
    PICK(pf, req, NULL, NULL, false, EMB, 2 * EMB);
    /* a filled head: the rest of the step, not a misaligned full block */
    rangeset_clear(req);
    fill(pf, 0, 1000);
    PICK(pf, req, NULL, NULL, false, 1000, EMB);
    /* a hole: just the hole */
    fill(pf, 1100, EMB + 50);
    PICK(pf, req, NULL, NULL, false, 1000, 1100);
    rangeset_add(req, 1000, 1100);
    PICK(pf, req, NULL, NULL, false, EMB + 50, 2 * EMB);
    /* requested bytes in the middle of a step cut the block there */
    rangeset_add(req, EMB + 60000, EMB + 70000);
    PICK(pf, req, NULL, NULL, false, EMB + 50, EMB + 60000);
    rangeset_add(req, EMB + 50, EMB + 60000);
    PICK(pf, req, NULL, NULL, false, EMB + 70000, 2 * EMB);
    /* the last step of a part is short (52 full steps, then 143,360 bytes)
     * and never crosses into the next part */
    rangeset_clear(req);
    fill(pf, 0, 52 * EMB);
    PICK(pf, req, NULL, NULL, false, 52 * EMB, PS);
    ck_assert_uint_eq(PS - 52 * EMB, 143360);
    rangeset_add(req, 52 * EMB, PS - 10);
    PICK(pf, req, NULL, NULL, false, PS - 10, PS);
    /* then the next part, from its own start */
    rangeset_add(req, PS - 10, PS);
    PICK(pf, req, NULL, NULL, false, PS, PS + EMB);
    /* and the short last part of the file */
    uint8_t only_last[3] = { 0, 0, 1 };
    PICK(pf, req, only_last, NULL, false, 2 * PS, 2 * PS + 1000);
    rangeset_free(req);
    pf_free(pf);
}
END_TEST

START_TEST(test_preference)
{
    partfile_t *pf = zero_download(3 * PS + 10, false); /* 4 parts */
    rangeset_t *req = rangeset_new();
    uint16_t avail[4] = { 5, 2, 3, 2 };
    /* nothing started: the rarest, the lowest index among equals */
    PICK(pf, req, NULL, avail, false, PS, PS + EMB);
    avail[3] = 1;
    PICK(pf, req, NULL, avail, false, 3 * PS, 3 * PS + 10);
    /* only what the source has */
    uint8_t has[4] = { 1, 0, 1, 0 };
    PICK(pf, req, has, avail, false, 2 * PS, 2 * PS + EMB);
    uint8_t none[4] = { 0, 0, 0, 0 };
    NO_PICK(pf, req, none, avail, false);
    NO_PICK(pf, req, none, avail, true);
    /* a started part (some bytes filled) beats a rarer one */
    fill(pf, 100, 200);
    PICK(pf, req, NULL, avail, false, 0, 100);
    /* as does a part with bytes requested from another source */
    rangeset_t *req2 = rangeset_new();
    rangeset_add(req2, 2 * PS + 5 * EMB, 2 * PS + 6 * EMB);
    has[0] = 0;
    PICK(pf, req2, has, avail, false, 2 * PS, 2 * PS + EMB);
    /* among started parts, the rarest */
    fill(pf, 3 * PS, 3 * PS + 1);
    PICK(pf, req2, NULL, avail, false, 3 * PS + 1, 3 * PS + 10);
    /* ... and among equally rare started parts, the lowest index */
    avail[0] = 1;
    PICK(pf, req2, NULL, avail, false, 0, 100);
    /* without availability everything is equally rare */
    PICK(pf, req2, NULL, NULL, false, 0, 100);
    rangeset_free(req);
    rangeset_free(req2);
    pf_free(pf);
}
END_TEST

START_TEST(test_never_filled_or_verified)
{
    partfile_t *pf = zero_download(2 * PS + 5, true); /* 3 parts */
    fill(pf, 0, PS);
    verify_part(pf, 0);
    ck_assert(pf_is_part_verified(pf, 0));
    uint8_t only0[3] = { 1, 0, 0 };
    NO_PICK(pf, NULL, only0, NULL, false);
    NO_PICK(pf, NULL, only0, NULL, true);
    /* filled but not verified yet: nothing to fetch either */
    const uint8_t bad = 0xFF;
    ck_assert_int_eq(pf_write(pf, PS + 7, &bad, 1, NULL), 0);
    fill(pf, PS, 2 * PS);
    uint8_t only1[3] = { 0, 1, 0 };
    NO_PICK(pf, NULL, only1, NULL, true);
    PICK(pf, NULL, NULL, NULL, false, 2 * PS, 2 * PS + 5);
    fill(pf, 2 * PS, 2 * PS + 5);
    NO_PICK(pf, NULL, NULL, NULL, true);
    /* a part found corrupt is fetched again, from its start */
    pf_verify_job_t *job = pf_verify_prepare(pf, 1, false);
    ck_assert_int_eq(pf_verify_run(job), 0);
    ck_assert_int_eq(pf_verify_apply(pf, job), PF_VERIFY_CORRUPT);
    pf_verify_job_free(job);
    PICK(pf, NULL, NULL, NULL, false, PS, PS + EMB);
    pf_free(pf);

    /* A random pattern of filled bytes is never picked. */
    pf = zero_download(PS + 300000, false);
    uint64_t x = 12345;
    for (int i = 0; i < 300; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t s = (x >> 20) % (PS + 300000), len = (x >> 8) % 30000;
        fill(pf, s, s + len < PS + 300000 ? s + len : PS + 300000);
    }
    rangeset_t *req = rangeset_new();
    uint64_t s, e;
    int n = 0;
    while (blocksel_pick(pf, req, NULL, NULL, false, &s, &e) == 0) {
        ck_assert_uint_gt(e, s);
        ck_assert_uint_le(e - s, EMB);
        if (rangeset_intersects(pf_filled(pf), s, e) || rangeset_intersects(req, s, e))
            ck_abort_msg("picked filled or requested bytes [%llu,%llu)", (unsigned long long)s,
                         (unsigned long long)e);
        /* inside one step of one part */
        uint64_t ps = s / PS * PS;
        if ((s - ps) / EMB != (e - 1 - ps) / EMB)
            ck_abort_msg("[%llu,%llu) crosses a step", (unsigned long long)s,
                         (unsigned long long)e);
        rangeset_add(req, s, e);
        n++;
    }
    /* the picks and the filled bytes cover the whole file */
    rangeset_add_set(req, pf_filled(pf));
    ck_assert(rangeset_contains(req, 0, PS + 300000));
    ck_assert_int_gt(n, 50);
    rangeset_free(req);
    pf_free(pf);
}
END_TEST

START_TEST(test_end_game)
{
    partfile_t *pf = zero_download(400000, false);
    rangeset_t *req = rangeset_new();
    rangeset_add(req, 0, EMB);
    PICK(pf, req, NULL, NULL, false, EMB, 2 * EMB);
    /* the end game still prefers what nobody was asked for */
    PICK(pf, req, NULL, NULL, true, EMB, 2 * EMB);
    rangeset_add(req, EMB, 400000);
    NO_PICK(pf, req, NULL, NULL, false);
    /* everything requested: the end game asks again for unfilled bytes */
    PICK(pf, req, NULL, NULL, true, 0, EMB);
    fill(pf, 0, 1000);
    PICK(pf, req, NULL, NULL, true, 1000, EMB);
    fill(pf, 1000, EMB + 7);
    PICK(pf, req, NULL, NULL, true, EMB + 7, 2 * EMB);
    fill(pf, 0, 400000);
    NO_PICK(pf, req, NULL, NULL, true);
    rangeset_free(req);
    pf_free(pf);
}
END_TEST

START_TEST(test_phantom)
{
    /* An exact multiple: 3 ED2K parts, the last one empty. */
    partfile_t *pf = zero_download(2 * PS, false);
    ck_assert_uint_eq(pf_part_count(pf), 3);
    uint8_t only_phantom[3] = { 0, 0, 1 };
    uint16_t avail[3] = { 9, 9, 0 };
    NO_PICK(pf, NULL, only_phantom, avail, true);
    PICK(pf, NULL, NULL, avail, false, 0, EMB);
    fill(pf, 0, 2 * PS - 1);
    PICK(pf, NULL, NULL, avail, false, 2 * PS - 1, 2 * PS);
    fill(pf, 2 * PS - 1, 2 * PS);
    NO_PICK(pf, NULL, NULL, avail, true);
    pf_free(pf);
}
END_TEST

START_TEST(test_64bit)
{
    const uint64_t size = 5ULL << 30;
    partfile_t *pf = zero_download(size, false);
    size_t n = pf_part_count(pf);
    ck_assert_uint_eq(n, size / PS + 1);
    uint8_t *has = xcalloc(n, 1);
    uint16_t *avail = xcalloc(n, sizeof *avail);
    for (size_t i = 0; i < n; i++)
        avail[i] = 10;
    has[n - 1] = 1;
    uint64_t last = (uint64_t)(n - 1) * PS;
    PICK(pf, NULL, has, avail, false, last, last + EMB);
    fill(pf, last, size - 100);
    PICK(pf, NULL, has, avail, false, size - 100, size);
    /* a part above 4 GiB that is rarer than the rest */
    has[n - 1] = 0;
    size_t p = (size_t)((4ULL << 30) / PS) + 1;
    has[p] = 1;
    has[p + 1] = 1;
    avail[p + 1] = 2;
    PICK(pf, NULL, has, avail, false, (uint64_t)(p + 1) * PS, (uint64_t)(p + 1) * PS + EMB);
    rangeset_t *req = rangeset_new();
    rangeset_add(req, (uint64_t)p * PS + 3 * EMB + 17, (uint64_t)p * PS + 3 * EMB + 18);
    PICK(pf, req, has, avail, false, (uint64_t)p * PS, (uint64_t)p * PS + EMB);
    free(has);
    free(avail);
    rangeset_free(req);
    pf_free(pf);
}
END_TEST

START_TEST(test_pick_n)
{
    partfile_t *pf = zero_download(PS + 400000, false);
    uint16_t avail[2] = { 4, 1 };
    rangeset_t *picked = rangeset_new();
    blocksel_block_t out[3];
    /* three blocks of the rarest part, one after the other */
    ck_assert_int_eq(blocksel_pick_n(pf, NULL, NULL, avail, false, 3, picked, out), 3);
    ck_assert_uint_eq(out[0].start, PS);
    ck_assert_uint_eq(out[0].end, PS + EMB);
    ck_assert_uint_eq(out[1].start, PS + EMB);
    ck_assert_uint_eq(out[1].end, PS + 2 * EMB);
    ck_assert_uint_eq(out[2].start, PS + 2 * EMB);
    ck_assert_uint_eq(out[2].end, PS + 400000);
    ck_assert(rangeset_contains(picked, PS, PS + 400000));
    /* that part is all asked for: the next ones come from part 0 */
    ck_assert_int_eq(blocksel_pick_n(pf, picked, NULL, avail, false, 2, picked, out), 2);
    ck_assert_uint_eq(out[0].start, 0);
    ck_assert_uint_eq(out[1].start, EMB);
    /* end game: another source gets blocks others have, never twice the
     * same one, and never what is in its own set */
    rangeset_t *all = rangeset_new();
    rangeset_add(all, 0, PS + 400000);
    rangeset_t *mine = rangeset_new();
    rangeset_add(mine, 0, EMB);
    ck_assert_int_eq(blocksel_pick_n(pf, all, NULL, avail, false, 3, mine, out), 0);
    ck_assert_int_eq(blocksel_pick_n(pf, all, NULL, avail, true, 3, mine, out), 3);
    ck_assert_uint_eq(out[0].start, PS);
    ck_assert_uint_eq(out[1].start, PS + EMB);
    ck_assert_uint_eq(out[2].start, PS + 2 * EMB);
    /* fewer than asked when little is left; out may be NULL */
    fill(pf, 0, PS + 400000 - 10);
    rangeset_clear(mine);
    ck_assert_int_eq(blocksel_pick_n(pf, NULL, NULL, NULL, false, 3, mine, NULL), 1);
    ck_assert(rangeset_contains(mine, PS + 400000 - 10, PS + 400000));
    ck_assert_int_eq(blocksel_pick_n(pf, NULL, NULL, NULL, true, 3, mine, out), 0);
    rangeset_free(picked);
    rangeset_free(all);
    rangeset_free(mine);
    pf_free(pf);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("blocksel");
    TCase *tc = tcase_create("blocksel");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_alignment);
    tcase_add_test(tc, test_preference);
    tcase_add_test(tc, test_never_filled_or_verified);
    tcase_add_test(tc, test_end_game);
    tcase_add_test(tc, test_phantom);
    tcase_add_test(tc, test_64bit);
    tcase_add_test(tc, test_pick_n);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
