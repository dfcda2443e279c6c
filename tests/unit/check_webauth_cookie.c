/* check_webauth_cookie.c: unit tests for cgi-bin/auth/cookie.c: the
 * amule.sid Set-Cookie values (HttpOnly, SameSite=Lax, Secure over HTTPS,
 * the session's lifetime as Max-Age). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "auth/cookie.h"

START_TEST(test_cookie_set)
{
    char *c = wa_cookie_set("abc123", 86400, false);
    ck_assert_str_eq(c, "amule.sid=abc123; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax");
    free(c);
    c = wa_cookie_set("abc123", 2592000, true);
    ck_assert_str_eq(c,
                     "amule.sid=abc123; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax; Secure");
    free(c);
}
END_TEST

START_TEST(test_cookie_clear)
{
    char *c = wa_cookie_clear(false);
    ck_assert_str_eq(c, "amule.sid=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    free(c);
    c = wa_cookie_clear(true);
    ck_assert_str_eq(c, "amule.sid=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure");
    free(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("webauth_cookie");
    TCase *tc = tcase_create("cookie");
    tcase_add_test(tc, test_cookie_set);
    tcase_add_test(tc, test_cookie_clear);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
