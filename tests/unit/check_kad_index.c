/* check_kad_index.c: unit tests for daemon/kad/index.c: entries found
 * under their target, a publish again replacing its entry, the per-target
 * and total bounds (oldest first out), the load, and expiry. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "daemon/kad/index.h"
#include "ed2k/c2s.h"

static kad_id_t
id_of(uint32_t a, uint32_t b)
{
    kad_id_t id = { { a, b, 0, 0 } };
    return id;
}

static ed2k_taglist_t *
tags_of(uint64_t size)
{
    ed2k_taglist_t *t = ed2k_taglist_new();
    ed2k_taglist_add_str(t, ED2K_FT_FILENAME, "a file.bin", 10);
    ed2k_taglist_add_uint(t, ED2K_FT_FILESIZE, 0, size);
    return t;
}

START_TEST(test_add_find_replace)
{
    kad_index_t *x = kad_index_new(0);
    kad_id_t kw = id_of(1, 0), other = id_of(2, 0);
    ed2k_taglist_t *t = tags_of(100);
    ck_assert_uint_eq(kad_index_add(x, KAD_INDEX_KEYWORD, &kw, &other, 7, t, 10, 100), 1);
    kad_id_t f2 = id_of(3, 3);
    ck_assert_uint_ge(kad_index_add(x, KAD_INDEX_KEYWORD, &kw, &f2, 7, t, 10, 100), 1);
    /* the same file again: replaced, not added */
    ed2k_taglist_t *t2 = tags_of(200);
    kad_index_add(x, KAD_INDEX_KEYWORD, &kw, &other, 7, t2, 20, 100);
    ed2k_taglist_free(t);
    ed2k_taglist_free(t2);
    kad_search_answer_t a[8];
    ck_assert_uint_eq(kad_index_find(x, KAD_INDEX_KEYWORD, &kw, 30, 0, a, 8), 2);
    ck_assert_uint_eq(kad_index_find(x, KAD_INDEX_SOURCE, &kw, 30, 0, a, 8), 0);
    ck_assert_uint_eq(kad_index_find(x, KAD_INDEX_KEYWORD, &kw, 30, 1, a, 8), 1);
    size_t n = kad_index_find(x, KAD_INDEX_KEYWORD, &kw, 30, 0, a, 8);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        uint64_t size;
        if (kad_id_equal(&a[i].id, &other)) {
            ck_assert_int_eq(ed2k_taglist_get_uint(a[i].tags, ED2K_FT_FILESIZE, &size), 0);
            ck_assert_uint_eq(size, 200);
            found = true;
        }
    }
    ck_assert(found);
    /* expired: not found, then dropped */
    ck_assert_uint_eq(kad_index_find(x, KAD_INDEX_KEYWORD, &kw, 111, 0, a, 8), 1);
    kad_index_expire(x, 121);
    ck_assert_uint_eq(kad_index_count(x, KAD_INDEX_KEYWORD), 0);
    kad_index_free(x);
}
END_TEST

START_TEST(test_bounds)
{
    kad_index_t *x = kad_index_new(KAD_INDEX_PER_TARGET + 10);
    kad_id_t kw = id_of(1, 0);
    unsigned load = 0;
    for (uint32_t i = 0; i < KAD_INDEX_PER_TARGET + 5; i++) {
        kad_id_t f = id_of(9, i);
        load = kad_index_add(x, KAD_INDEX_KEYWORD, &kw, &f, 7, NULL, 100 + i, 1000);
    }
    ck_assert_uint_eq(load, 100);
    ck_assert_uint_eq(kad_index_count(x, KAD_INDEX_KEYWORD), KAD_INDEX_PER_TARGET);
    /* the oldest went */
    kad_search_answer_t a[KAD_INDEX_PER_TARGET];
    size_t n = kad_index_find(x, KAD_INDEX_KEYWORD, &kw, 200, 0, a, KAD_INDEX_PER_TARGET);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_ge(a[i].id.w[1], 5);
    /* the whole index: its oldest goes for another target */
    for (uint32_t i = 0; i < 20; i++) {
        kad_id_t t = id_of(50 + i, 0), f = id_of(9, 0);
        kad_index_add(x, KAD_INDEX_SOURCE, &t, &f, 7, NULL, 1000 + i, 1000);
    }
    ck_assert_uint_eq(kad_index_count(x, KAD_INDEX_KEYWORD) + kad_index_count(x, KAD_INDEX_SOURCE),
                      KAD_INDEX_PER_TARGET + 10);
    ck_assert_uint_eq(kad_index_count(x, KAD_INDEX_SOURCE), 20);
    kad_index_free(x);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("kad_index");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_add_find_replace);
    tcase_add_test(tc, test_bounds);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
