/* check_ed2k_partmet.c: unit tests for lib/ed2k/partmet: .part.met images
 * as aMule and eMule write them (32- and 64-bit, numbered gap tags, AICH,
 * category, priority) and known.met lists, and what the readers refuse. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/c2s.h"
#include "ed2k/hash.h"
#include "ed2k/packet.h"
#include "ed2k/partmet.h"
#include "ed2k/tag.h"
#include "util/error.h"

static const uint8_t HASH[16] = { 0x31, 0xd6, 0xcf, 0xe0, 0xd1, 0x6a, 0xe9, 0x31,
                                  0xb7, 0x3c, 0x59, 0xd7, 0xe0, 0xc0, 0x89, 0xc0 };

static void
add_gap(ed2k_taglist_t *l, unsigned i, uint64_t start, uint64_t end, uint8_t type)
{
    char name[16];
    snprintf(name, sizeof name, "%c%u", ED2K_FT_GAPSTART, i);
    ed2k_taglist_add_named_uint(l, name, type, start);
    name[0] = ED2K_FT_GAPEND;
    ed2k_taglist_add_named_uint(l, name, type, end);
}

/* An image: version, date, hash set of n_parts hashes, the tags. */
static struct evbuffer *
image(uint8_t version, size_t n_parts, ed2k_taglist_t *l)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u8(b, version);
    ed2k_write_u32(b, 1700000000u);
    ed2k_write_hash16(b, HASH);
    ed2k_write_u16(b, (uint16_t)n_parts);
    for (size_t i = 0; i < n_parts; i++) {
        uint8_t h[16];
        memset(h, (int)i + 1, sizeof h);
        ed2k_write_hash16(b, h);
    }
    ck_assert_int_eq(ed2k_taglist_write(b, l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, NULL), 0);
    return b;
}

static ed2k_taglist_t *
base_tags(uint64_t size)
{
    ed2k_taglist_t *l = ed2k_taglist_new();
    ed2k_taglist_add_str(l, ED2K_FT_FILENAME, "movie.avi", 9);
    ed2k_taglist_add_uint(l, ED2K_FT_FILESIZE, size > UINT32_MAX ? ED2K_TAG_UINT64 : 0, size);
    ed2k_taglist_add_str(l, ED2K_FT_PARTFILENAME, "001.part", 8);
    return l;
}

START_TEST(test_part_met_32)
{
    ed2k_taglist_t *l = base_tags(20000000);
    ed2k_taglist_add_uint(l, ED2K_FT_DLPRIORITY, 0, ED2K_PRIO_HIGH);
    ed2k_taglist_add_uint(l, ED2K_FT_CATEGORY, 0, 2);
    ed2k_taglist_add_uint(l, ED2K_FT_STATUS, 0, 1);
    ed2k_taglist_add_str(l, ED2K_FT_AICH_HASH, "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT", 32);
    /* out of order, one overlapping, one past the size, one without end */
    add_gap(l, 1, 15000000, 30000000, ED2K_TAG_UINT32);
    add_gap(l, 0, 1000, 5000, ED2K_TAG_UINT32);
    add_gap(l, 2, 4000, 9000, ED2K_TAG_UINT32);
    ed2k_taglist_add_named_uint(l, "\x09" "7", 0, 100);
    struct evbuffer *b = image(ED2K_PARTMET_VERSION, 3, l);
    ed2k_file_record_t r;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_partmet_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b), &r, &err),
                     0);
    ck_assert_ptr_null(err);
    ck_assert_mem_eq(r.hash, HASH, 16);
    ck_assert_uint_eq(r.date, 1700000000u);
    ck_assert_uint_eq(r.n_part_hashes, 3);
    ck_assert_uint_eq(r.part_hashes[2][0], 3);
    ck_assert_str_eq(r.name, "movie.avi");
    ck_assert_str_eq(r.part_name, "001.part");
    ck_assert_uint_eq(r.size, 20000000);
    ck_assert_int_eq(r.dl_priority, ED2K_PRIO_HIGH);
    ck_assert_uint_eq(r.category, 2);
    ck_assert_uint_eq(r.status, 1);
    ck_assert(r.has_aich);
    for (int i = 0; i < 20; i++)
        ck_assert_uint_eq(r.aich[i], i);
    ck_assert_uint_eq(r.n_gaps, 2);
    ck_assert_uint_eq(r.gaps[0].start, 1000);
    ck_assert_uint_eq(r.gaps[0].end, 9000);
    ck_assert_uint_eq(r.gaps[1].start, 15000000);
    ck_assert_uint_eq(r.gaps[1].end, 20000000);
    ed2k_file_record_clear(&r);
    ed2k_taglist_free(l);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_part_met_64)
{
    uint64_t size = 5000000000ull;
    ed2k_taglist_t *l = base_tags(size);
    add_gap(l, 0, 4294967296ull, size, ED2K_TAG_UINT64);
    struct evbuffer *b = image(ED2K_PARTMET_VERSION_LARGE, 0, l);
    ed2k_file_record_t r;
    ck_assert_int_eq(
        ed2k_partmet_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b), &r, NULL), 0);
    ck_assert_uint_eq(r.version, ED2K_PARTMET_VERSION_LARGE);
    ck_assert_uint_eq(r.size, size);
    ck_assert_int_eq(r.dl_priority, -1);
    ck_assert(!r.has_aich);
    ck_assert_uint_eq(r.n_gaps, 1);
    ck_assert_uint_eq(r.gaps[0].start, 4294967296ull);
    ck_assert_uint_eq(r.gaps[0].end, size);
    ed2k_file_record_clear(&r);
    ed2k_taglist_free(l);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_part_met_refused)
{
    ed2k_taglist_t *l = base_tags(1000);
    struct evbuffer *b = image(0xE1, 0, l);
    uint8_t *p = evbuffer_pullup(b, -1);
    size_t len = evbuffer_get_length(b);
    ed2k_file_record_t r;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_partmet_parse(p, len, &r, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNSUPPORTED);
    mt_error_free(err);
    err = NULL;
    ed2k_file_record_clear(&r);
    p[0] = ED2K_PARTMET_VERSION;
    for (size_t cut = 0; cut < len; cut++) {
        ck_assert_int_eq(ed2k_partmet_parse(p, cut, &r, &err), -1);
        ck_assert_ptr_nonnull(err);
        mt_error_free(err);
        err = NULL;
        ed2k_file_record_clear(&r);
    }
    ck_assert_int_eq(ed2k_partmet_parse(p, len, &r, NULL), 0);
    ed2k_file_record_clear(&r);
    /* a hash set count larger than the file */
    p[1 + 4 + 16] = 0xff;
    p[1 + 4 + 16 + 1] = 0xff;
    ck_assert_int_eq(ed2k_partmet_parse(p, len, &r, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    mt_error_free(err);
    ed2k_file_record_clear(&r);
    evbuffer_free(b);
    ed2k_taglist_free(l);
    /* no name */
    l = ed2k_taglist_new();
    ed2k_taglist_add_uint(l, ED2K_FT_FILESIZE, 0, 1000);
    b = image(ED2K_PARTMET_VERSION, 0, l);
    err = NULL;
    ck_assert_int_eq(
        ed2k_partmet_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b), &r, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_free(err);
    ed2k_file_record_clear(&r);
    evbuffer_free(b);
    ed2k_taglist_free(l);
}
END_TEST

static void
known_record(struct evbuffer *b, const char *name, uint64_t size, uint32_t date)
{
    ed2k_write_u32(b, date);
    ed2k_write_hash16(b, HASH);
    ed2k_write_u16(b, 0);
    ed2k_taglist_t *l = ed2k_taglist_new();
    if (name != NULL)
        ed2k_taglist_add_str(l, ED2K_FT_FILENAME, name, strlen(name));
    ed2k_taglist_add_uint(l, ED2K_FT_FILESIZE, 0, size);
    ed2k_taglist_add_str(l, ED2K_FT_AICH_HASH, "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT", 32);
    ck_assert_int_eq(ed2k_taglist_write(b, l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_COMPACT, NULL), 0);
    ed2k_taglist_free(l);
}

START_TEST(test_known_met)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u8(b, ED2K_KNOWNMET_VERSION_I64);
    ed2k_write_u32(b, 4);
    known_record(b, "a.bin", 1234, 1600000000u);
    known_record(b, NULL, 1234, 1600000001u); /* no name: skipped */
    known_record(b, "c.bin", 5678, 1600000002u);
    size_t whole = evbuffer_get_length(b);
    known_record(b, "d.bin", 9, 1600000003u);
    uint8_t *p = evbuffer_pullup(b, -1);
    ed2k_file_record_t *v = NULL;
    size_t n = 0;
    bool truncated = true;
    ck_assert_int_eq(ed2k_knownmet_parse(p, evbuffer_get_length(b), &v, &n, &truncated, NULL),
                     0);
    ck_assert_uint_eq(n, 3);
    ck_assert(!truncated);
    ck_assert_str_eq(v[0].name, "a.bin");
    ck_assert_uint_eq(v[0].size, 1234);
    ck_assert_uint_eq(v[0].date, 1600000000u);
    ck_assert(v[0].has_aich);
    ck_assert_str_eq(v[1].name, "c.bin");
    ck_assert_str_eq(v[2].name, "d.bin");
    ed2k_file_records_free(v, n);
    /* cut inside the last record: the complete ones are kept */
    ck_assert_int_eq(ed2k_knownmet_parse(p, whole + 10, &v, &n, &truncated, NULL), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert(truncated);
    ed2k_file_records_free(v, n);
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_knownmet_parse(p, 3, &v, &n, NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    mt_error_free(err);
    err = NULL;
    p[0] = ED2K_PARTMET_VERSION;
    ck_assert_int_eq(ed2k_knownmet_parse(p, whole, &v, &n, NULL, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNSUPPORTED);
    ck_assert_ptr_null(v);
    mt_error_free(err);
    evbuffer_free(b);
}
END_TEST

static Suite *
suite(void)
{
    Suite *s = suite_create("ed2k_partmet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_part_met_32);
    tcase_add_test(tc, test_part_met_64);
    tcase_add_test(tc, test_part_met_refused);
    tcase_add_test(tc, test_known_met);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
