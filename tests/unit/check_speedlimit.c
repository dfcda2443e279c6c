/* check_speedlimit.c: unit tests of the global limits' choice and the
 * saved alternative mode (daemon/net/speedlimit.c). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/net/speedlimit.h"

START_TEST(test_pair_in_force)
{
    speedlimit_t l = { .up = 100 * 1024, .down = 0, .alt_up = 10 * 1024, .alt_down = 20 * 1024 };
    uint64_t up = 1, down = 1;
    speedlimit_in_force(&l, &up, &down);
    ck_assert_uint_eq(up, 100 * 1024);
    ck_assert_uint_eq(down, 0);
    l.alt = true;
    speedlimit_in_force(&l, &up, &down);
    ck_assert_uint_eq(up, 10 * 1024);
    ck_assert_uint_eq(down, 20 * 1024);
    /* an unlimited alternative pair is unlimited, not the normal pair */
    l.alt_up = 0;
    speedlimit_in_force(&l, &up, &down);
    ck_assert_uint_eq(up, 0);
}
END_TEST

START_TEST(test_mode_file)
{
    char dir[] = "/tmp/check_speedlimit.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/alt_speed_limits", dir);
    bool alt = true;
    mt_error_t *err = NULL;
    /* never saved: off */
    ck_assert_int_eq(speedlimit_load_mode(path, &alt, &err), 0);
    ck_assert(!alt);
    ck_assert_int_eq(speedlimit_save_mode(path, true, &err), 0);
    ck_assert_int_eq(speedlimit_load_mode(path, &alt, &err), 0);
    ck_assert(alt);
    ck_assert_int_eq(speedlimit_save_mode(path, false, &err), 0);
    ck_assert_int_eq(speedlimit_load_mode(path, &alt, &err), 0);
    ck_assert(!alt);
    /* garbage: an error, and off */
    FILE *f = fopen(path, "w");
    fputs("yes\n", f);
    fclose(f);
    alt = true;
    ck_assert_int_eq(speedlimit_load_mode(path, &alt, &err), -1);
    ck_assert(!alt);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    unlink(path);
    /* an unwritable place: an error */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/no/such/dir/alt", dir);
    ck_assert_int_eq(speedlimit_save_mode(bad, true, &err), -1);
    ck_assert_ptr_nonnull(err);
    mt_error_clear(&err);
    rmdir(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("speedlimit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_pair_in_force);
    tcase_add_test(tc, test_mode_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
