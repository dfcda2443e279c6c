/* check_webcaps.c: unit tests for lib/webauth/caps.c: capability names
 * and bits, their PostgreSQL array form, user names, the login retry
 * delay and the loopback test of the authentication switch-off. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "webauth/caps.h"

START_TEST(test_cap_names)
{
    /* aMuTorrent 3.8's eighteen, in its order */
    ck_assert_int_eq(WEBAUTH_N_CAPS, 18);
    ck_assert_str_eq(webauth_cap_name(0), "search");
    ck_assert_str_eq(webauth_cap_name(2), "remove_downloads");
    ck_assert_str_eq(webauth_cap_name(17), "edit_all_downloads");
    ck_assert_ptr_null(webauth_cap_name(18));
    ck_assert_ptr_null(webauth_cap_name(-1));
    for (int i = 0; i < WEBAUTH_N_CAPS; i++)
        ck_assert_uint_eq(webauth_cap_of(webauth_cap_name(i)), 1u << i);
    ck_assert_uint_eq(webauth_cap_of("remove_downloads"), WEBAUTH_CAP_REMOVE_DOWNLOADS);
    ck_assert_uint_eq(webauth_cap_of("Remove_downloads"), 0);
    ck_assert_uint_eq(webauth_cap_of("remove"), 0);
    ck_assert_uint_eq(webauth_cap_of(NULL), 0);
}
END_TEST

START_TEST(test_caps_parse)
{
    uint32_t c = 99;
    const char *bad = NULL;
    ck_assert_int_eq(webauth_caps_parse("search, add_downloads ,pause_resume", &c, &bad), 0);
    ck_assert_uint_eq(c, WEBAUTH_CAP_SEARCH | WEBAUTH_CAP_ADD_DOWNLOADS | WEBAUTH_CAP_PAUSE_RESUME);
    ck_assert_int_eq(webauth_caps_parse("", &c, &bad), 0);
    ck_assert_uint_eq(c, 0);
    ck_assert_int_eq(webauth_caps_parse("all", &c, &bad), 0);
    ck_assert_uint_eq(c, WEBAUTH_CAPS_ALL);
    const char *list = "search,remove,view_logs";
    ck_assert_int_eq(webauth_caps_parse(list, &c, &bad), -1);
    ck_assert_ptr_eq(bad, list + 7);
    ck_assert_uint_eq(c, 0);
}
END_TEST

START_TEST(test_caps_problem)
{
    /* aMuTorrent's userAPI: no edit_all_downloads without
     * view_all_downloads; everything else goes */
    ck_assert_ptr_null(webauth_caps_problem(0));
    ck_assert_ptr_null(webauth_caps_problem(WEBAUTH_CAPS_ALL));
    ck_assert_ptr_null(webauth_caps_problem(WEBAUTH_CAP_VIEW_ALL_DOWNLOADS));
    ck_assert_ptr_null(webauth_caps_problem(WEBAUTH_CAP_VIEW_ALL_DOWNLOADS |
                                            WEBAUTH_CAP_EDIT_ALL_DOWNLOADS));
    const char *why = webauth_caps_problem(WEBAUTH_CAP_EDIT_ALL_DOWNLOADS | WEBAUTH_CAP_SEARCH);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "view_all_downloads"));
}
END_TEST

START_TEST(test_caps_pg)
{
    char *s = webauth_caps_to_pg(0);
    ck_assert_str_eq(s, "{}");
    free(s);
    s = webauth_caps_to_pg(WEBAUTH_CAP_SEARCH | WEBAUTH_CAP_VIEW_LOGS);
    ck_assert_str_eq(s, "{search,view_logs}");
    ck_assert_uint_eq(webauth_caps_from_pg(s), WEBAUTH_CAP_SEARCH | WEBAUTH_CAP_VIEW_LOGS);
    free(s);
    s = webauth_caps_to_pg(WEBAUTH_CAPS_ALL);
    ck_assert_uint_eq(webauth_caps_from_pg(s), WEBAUTH_CAPS_ALL);
    free(s);
    /* unknown names count for nothing; malformed arrays give nothing */
    ck_assert_uint_eq(webauth_caps_from_pg("{dance,search}"), WEBAUTH_CAP_SEARCH);
    ck_assert_uint_eq(webauth_caps_from_pg("search"), 0);
    ck_assert_uint_eq(webauth_caps_from_pg(NULL), 0);
    ck_assert_uint_eq(webauth_caps_from_pg("{}"), 0);
}
END_TEST

START_TEST(test_username)
{
    ck_assert(webauth_username_is_valid("bob"));
    ck_assert(webauth_username_is_valid("Alice_99"));
    ck_assert(webauth_username_is_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
    ck_assert(!webauth_username_is_valid("abcdefghijklmnopqrstuvwxyz0123456"));
    ck_assert(!webauth_username_is_valid("bo"));
    ck_assert(!webauth_username_is_valid("bob smith"));
    ck_assert(!webauth_username_is_valid("bob'--"));
    ck_assert(!webauth_username_is_valid("b\xc3\xa9\x62"));
    ck_assert(!webauth_username_is_valid(""));
    ck_assert(!webauth_username_is_valid(NULL));
}
END_TEST

START_TEST(test_retry_delay)
{
    ck_assert_int_eq(webauth_retry_delay_ms(0), 0);
    ck_assert_int_eq(webauth_retry_delay_ms(-3), 0);
    ck_assert_int_eq(webauth_retry_delay_ms(1), 1000);
    ck_assert_int_eq(webauth_retry_delay_ms(2), 2000);
    ck_assert_int_eq(webauth_retry_delay_ms(5), 16000);
    ck_assert_int_eq(webauth_retry_delay_ms(6), 30000);
    ck_assert_int_eq(webauth_retry_delay_ms(1000), 30000);
}
END_TEST

/* Whose downloads a caller reaches: an admin and an account with the
 * "all" capability everyone's (NULL), any other account its own. */
START_TEST(test_owner_of)
{
    uint32_t view = WEBAUTH_CAP_VIEW_ALL_DOWNLOADS, edit = WEBAUTH_CAP_EDIT_ALL_DOWNLOADS;
    ck_assert_ptr_null(webauth_owner_of("admin", WEBAUTH_CAPS_ALL, view));
    ck_assert_ptr_null(webauth_owner_of("admin", WEBAUTH_CAPS_ALL, edit));
    ck_assert_ptr_null(webauth_owner_of("bob", view | WEBAUTH_CAP_SEARCH, view));
    ck_assert_str_eq(webauth_owner_of("bob", view | WEBAUTH_CAP_SEARCH, edit), "bob");
    ck_assert_str_eq(webauth_owner_of("bob", WEBAUTH_CAP_PAUSE_RESUME, view), "bob");
    ck_assert_str_eq(webauth_owner_of("bob", 0, view), "bob");
    ck_assert_str_eq(webauth_owner_of(NULL, 0, view), "");
    ck_assert_str_eq(webauth_owner_of("bob", WEBAUTH_CAPS_ALL, 0), "bob");
}
END_TEST

START_TEST(test_loopback)
{
    ck_assert(webauth_addr_is_loopback("127.0.0.1"));
    ck_assert(webauth_addr_is_loopback("127.3.4.5"));
    ck_assert(webauth_addr_is_loopback("::1"));
    ck_assert(webauth_addr_is_loopback("::ffff:127.0.0.1"));
    ck_assert(!webauth_addr_is_loopback("10.0.0.1"));
    ck_assert(!webauth_addr_is_loopback("1127.0.0.1"));
    ck_assert(!webauth_addr_is_loopback("::ffff:10.0.0.1"));
    ck_assert(!webauth_addr_is_loopback("::2"));
    ck_assert(!webauth_addr_is_loopback(""));
    ck_assert(!webauth_addr_is_loopback(NULL));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("webcaps");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, test_cap_names);
    tcase_add_test(tc, test_caps_parse);
    tcase_add_test(tc, test_caps_problem);
    tcase_add_test(tc, test_caps_pg);
    tcase_add_test(tc, test_username);
    tcase_add_test(tc, test_retry_delay);
    tcase_add_test(tc, test_loopback);
    tcase_add_test(tc, test_owner_of);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
