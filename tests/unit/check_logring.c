/* check_logring.c: unit tests of the daemon's ring of recent log entries
 * (daemon/core/logring.c): ids, what "since" returns, the bound, limits
 * and cut texts. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/logring.h"

/* The entries a logring_since call gave: "id:text" separated by spaces. */
static char seen[4096];

static void
collect(void *ctx, const logring_entry_t *e)
{
    (void)ctx;
    char one[256];
    snprintf(one, sizeof one, "%s%lld:%s%s%s", seen[0] != '\0' ? " " : "", (long long)e->id,
             e->text, e->ip != NULL ? "@" : "", e->ip != NULL ? e->ip : "");
    strncat(seen, one, sizeof seen - strlen(seen) - 1);
}

static size_t
since(const logring_t *r, int64_t id, size_t limit)
{
    seen[0] = '\0';
    return logring_since(r, id, limit, collect, NULL);
}

static void
add(logring_t *r, const char *text)
{
    logring_add(r, &(logring_entry_t){ .text = text, .time_ms = 1000, .level = 2 });
}

START_TEST(test_ids_from_zero)
{
    logring_t *r = logring_new(8, 100);
    ck_assert_int_eq(logring_next_id(r), 0);
    ck_assert_uint_eq(since(r, -1, 0), 0);
    add(r, "a");
    add(r, "b");
    add(r, "c");
    ck_assert_uint_eq(since(r, -1, 0), 3);
    ck_assert_str_eq(seen, "0:a 1:b 2:c");
    ck_assert_uint_eq(since(r, 0, 0), 2);
    ck_assert_str_eq(seen, "1:b 2:c");
    ck_assert_uint_eq(since(r, 2, 0), 0);
    ck_assert_uint_eq(since(r, 99, 0), 0);
    ck_assert_uint_eq(since(r, -50, 0), 3);
    ck_assert_int_eq(logring_next_id(r), 3);
    logring_free(r);
}
END_TEST

START_TEST(test_bounded_keeps_newest)
{
    logring_t *r = logring_new(3, 100);
    char t[8];
    for (int i = 0; i < 10; i++) {
        snprintf(t, sizeof t, "m%d", i);
        add(r, t);
    }
    ck_assert_uint_eq(since(r, -1, 0), 3);
    ck_assert_str_eq(seen, "7:m7 8:m8 9:m9");
    /* a reader that saw id 4 gets what is still kept after it */
    ck_assert_uint_eq(since(r, 4, 0), 3);
    ck_assert_uint_eq(since(r, 8, 0), 1);
    ck_assert_str_eq(seen, "9:m9");
    logring_free(r);
}
END_TEST

START_TEST(test_limit_oldest_first)
{
    logring_t *r = logring_new(10, 100);
    for (int i = 0; i < 6; i++)
        add(r, "x");
    ck_assert_uint_eq(since(r, 1, 2), 2);
    ck_assert_str_eq(seen, "2:x 3:x");
    logring_free(r);
}
END_TEST

START_TEST(test_peer_entries_and_fields)
{
    logring_t *r = logring_new(4, 100);
    logring_add(r, &(logring_entry_t){ .text = "bad hash", .ip = "10.1.2.3", .time_ms = 42,
                                       .blocked = true });
    since(r, -1, 0);
    ck_assert_str_eq(seen, "0:bad hash@10.1.2.3");
    logring_free(r);
}
END_TEST

START_TEST(test_text_cut_on_character)
{
    logring_t *r = logring_new(4, 4);
    add(r, "abcdef");
    add(r, "ab\xc3\xa9z"); /* é at bytes 2-3: cut before it, not inside */
    add(r, NULL);
    since(r, -1, 0);
    ck_assert_str_eq(seen, "0:abcd 1:ab\xc3\xa9 2:");
    logring_t *r2 = logring_new(4, 3);
    add(r2, "ab\xc3\xa9");
    since(r2, -1, 0);
    ck_assert_str_eq(seen, "0:ab");
    logring_free(r2);
    logring_free(r);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("logring");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ids_from_zero);
    tcase_add_test(tc, test_bounded_keeps_newest);
    tcase_add_test(tc, test_limit_oldest_first);
    tcase_add_test(tc, test_peer_entries_and_fields);
    tcase_add_test(tc, test_text_cut_on_character);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
