/* check_sched.c: unit tests of the limit schedule's rules (lib/util/
 * sched.c): parsing, boundaries, overnight ranges, weekday sets, and the
 * next change on a held clock in fixed and DST time zones. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/conf.h"
#include "util/sched.h"

#define HM(h, m) ((h) * 60 + (m))
enum { SUN, MON, TUE, WED, THU, FRI, SAT };

static sched_t
parsed(const char *text)
{
    sched_t s;
    mt_error_t *err = NULL;
    ck_assert_msg(sched_parse(text, &s, &err) == 0, "%s: %s", text,
                  err != NULL ? err->message : "");
    return s;
}

START_TEST(test_parse)
{
    sched_t s = parsed("08:00-20:00 every");
    ck_assert_uint_eq(s.n, 1);
    ck_assert_uint_eq(s.rule[0].from, HM(8, 0));
    ck_assert_uint_eq(s.rule[0].to, HM(20, 0));
    ck_assert_uint_eq(s.rule[0].days, SCHED_EVERY);
    s = parsed(" 22:30-6:05 weekdays ; 9:00-17:00 sat, Sunday;");
    ck_assert_uint_eq(s.n, 2);
    ck_assert_uint_eq(s.rule[0].to, HM(6, 5));
    ck_assert_uint_eq(s.rule[0].days, SCHED_WEEKDAYS);
    ck_assert_uint_eq(s.rule[1].days, SCHED_WEEKENDS);
    s = parsed("");
    ck_assert_uint_eq(s.n, 0);
    static const char *const bad[] = { "8-20 every", "24:00-01:00 every", "08:60-09:00 every",
                                       "08:00-09:00", "08:00-09:00 someday", "08:00 09:00 every",
                                       "08:00-09:00 mon,,tue", "08:00-09:00every" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mt_error_t *err = NULL;
        ck_assert_msg(sched_parse(bad[i], &s, &err) == -1, "accepted %s", bad[i]);
        ck_assert_int_eq(err->code, MT_ERR_INVALID);
        mt_error_free(err);
    }
    /* the configuration checks the key with the same parser */
    conf_t *c = conf_new();
    mt_error_t *err = NULL;
    ck_assert_int_eq(conf_set(c, "schedule", "07:00-09:00 mon,wed", &err), 0);
    ck_assert_str_eq(conf_get_str(c, "schedule"), "07:00-09:00 mon,wed");
    ck_assert_int_eq(conf_set(c, "schedule", "07:00-09:00 moon", &err), -1);
    mt_error_free(err);
    conf_free(c);
}
END_TEST

START_TEST(test_format)
{
    static const char *const texts[] = { "08:00-20:00 every", "22:00-06:00 weekdays",
                                         "00:00-00:00 weekends", "07:05-09:00 mon,wed,sun" };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sched_t s = parsed(texts[i]);
        char *t = sched_format_rule(&s.rule[0]);
        ck_assert_str_eq(t, texts[i]);
        free(t);
    }
}
END_TEST

START_TEST(test_day_range_boundaries)
{
    sched_t s = parsed("08:00-20:00 every");
    ck_assert(!sched_is_active(&s, MON, HM(7, 59)));
    ck_assert(sched_is_active(&s, MON, HM(8, 0))); /* from is inside */
    ck_assert(sched_is_active(&s, MON, HM(19, 59)));
    ck_assert(!sched_is_active(&s, MON, HM(20, 0))); /* to is outside */
    ck_assert_int_eq(sched_minutes_to_change(&s, MON, HM(7, 59)), 1);
    ck_assert_int_eq(sched_minutes_to_change(&s, MON, HM(8, 0)), 12 * 60);
    ck_assert_int_eq(sched_minutes_to_change(&s, MON, HM(20, 0)), 12 * 60);
}
END_TEST

START_TEST(test_overnight)
{
    sched_t s = parsed("22:00-06:00 every");
    ck_assert(sched_is_active(&s, TUE, HM(23, 0)));
    ck_assert(sched_is_active(&s, WED, HM(0, 0)));
    ck_assert(sched_is_active(&s, WED, HM(5, 59)));
    ck_assert(!sched_is_active(&s, WED, HM(6, 0)));
    ck_assert(!sched_is_active(&s, WED, HM(21, 59)));
    ck_assert_int_eq(sched_minutes_to_change(&s, TUE, HM(22, 0)), 8 * 60);
    ck_assert_int_eq(sched_minutes_to_change(&s, WED, HM(6, 0)), 16 * 60);
    /* an overnight range belongs to the day it starts on: Friday night
     * runs into Saturday morning; Sunday night does not start */
    s = parsed("22:00-06:00 weekdays");
    ck_assert(sched_is_active(&s, SAT, HM(5, 0)));
    ck_assert(!sched_is_active(&s, SAT, HM(23, 0)));
    ck_assert(!sched_is_active(&s, MON, HM(5, 0)));
    ck_assert(sched_is_active(&s, MON, HM(22, 0)));
    /* from Friday 06:00 the next change is Monday 22:00 */
    ck_assert_int_eq(sched_minutes_to_change(&s, SAT, HM(6, 0)), 2 * 1440 + 16 * 60);
    /* from == to: 24 hours */
    s = parsed("12:00-12:00 wed");
    ck_assert(!sched_is_active(&s, WED, HM(11, 59)));
    ck_assert(sched_is_active(&s, WED, HM(12, 0)));
    ck_assert(sched_is_active(&s, THU, HM(11, 59)));
    ck_assert(!sched_is_active(&s, THU, HM(12, 0)));
}
END_TEST

START_TEST(test_weekday_sets)
{
    sched_t s = parsed("09:00-17:00 weekends");
    for (int d = 0; d < 7; d++)
        ck_assert(sched_is_active(&s, d, HM(10, 0)) == (d == SAT || d == SUN));
    s = parsed("09:00-17:00 mon,thu");
    for (int d = 0; d < 7; d++)
        ck_assert(sched_is_active(&s, d, HM(10, 0)) == (d == MON || d == THU));
    /* Thursday 17:00 to Monday 09:00, wrapping the week */
    ck_assert_int_eq(sched_minutes_to_change(&s, THU, HM(17, 0)), 3 * 1440 + 16 * 60);
    /* several rules: adjacent ones make one stretch */
    s = parsed("08:00-12:00 every; 12:00-14:00 every");
    ck_assert_int_eq(sched_minutes_to_change(&s, MON, HM(8, 0)), 6 * 60);
    /* nothing ever changes: no rule, or always on */
    s = parsed("");
    ck_assert(!sched_is_active(&s, MON, 0));
    ck_assert_int_eq(sched_minutes_to_change(&s, MON, 0), -1);
    s = parsed("00:00-00:00 every");
    ck_assert(sched_is_active(&s, MON, 0));
    ck_assert_int_eq(sched_minutes_to_change(&s, MON, 0), -1);
}
END_TEST

START_TEST(test_qbit_days)
{
    ck_assert_uint_eq(sched_days_from_qbit(0), SCHED_EVERY);
    ck_assert_uint_eq(sched_days_from_qbit(1), SCHED_WEEKDAYS);
    ck_assert_uint_eq(sched_days_from_qbit(2), SCHED_WEEKENDS);
    ck_assert_uint_eq(sched_days_from_qbit(3), 1u << MON);
    ck_assert_uint_eq(sched_days_from_qbit(9), 1u << SUN);
    ck_assert_uint_eq(sched_days_from_qbit(42), SCHED_EVERY);
    for (int n = 0; n <= 9; n++)
        ck_assert_int_eq(sched_days_to_qbit(sched_days_from_qbit(n)), n);
    ck_assert_int_eq(sched_days_to_qbit((1u << MON) | (1u << WED)), 0);
}
END_TEST

/* at: the time_t of a local date and time in the zone of TZ. */
static time_t
at(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                     .tm_min = mi, .tm_sec = s, .tm_isdst = -1 };
    return mktime(&tm);
}

START_TEST(test_eval_held_clock)
{
    setenv("TZ", "UTC0", 1);
    tzset();
    sched_t s = parsed("22:00-06:00 every");
    bool active;
    time_t next;
    /* Monday 2026-12-07 21:59:30: off, on in 30 seconds */
    time_t now = at(2026, 12, 7, 21, 59, 30);
    sched_eval(&s, now, &active, &next);
    ck_assert(!active);
    ck_assert_int_eq(next - now, 30);
    sched_eval(&s, next, &active, &next);
    ck_assert(active);
    ck_assert_int_eq(next, at(2026, 12, 8, 6, 0, 0));
    s = parsed("");
    sched_eval(&s, now, &active, &next);
    ck_assert(!active);
    ck_assert_int_eq(next, 0);
}
END_TEST

START_TEST(test_eval_dst)
{
    /* Central European rules as a POSIX TZ string (no tzdata needed):
     * on 2026-03-29 02:00 becomes 03:00; on 2026-10-25 03:00 becomes 02:00 */
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    sched_t s = parsed("01:00-05:00 every");
    bool active;
    time_t next;
    time_t now = at(2026, 3, 29, 1, 30, 0);
    sched_eval(&s, now, &active, &next);
    ck_assert(active);
    /* 01:30 to 05:00 is 2.5 hours of real time that spring night, not 3.5 */
    ck_assert_int_eq(next - now, 2 * 3600 + 1800);
    now = at(2026, 10, 25, 1, 30, 0);
    sched_eval(&s, now, &active, &next);
    ck_assert(active);
    ck_assert_int_eq(next - now, 4 * 3600 + 1800); /* an hour longer in autumn */
    setenv("TZ", "UTC0", 1);
    tzset();
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("sched");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_day_range_boundaries);
    tcase_add_test(tc, test_overnight);
    tcase_add_test(tc, test_weekday_sets);
    tcase_add_test(tc, test_qbit_days);
    tcase_add_test(tc, test_eval_held_clock);
    tcase_add_test(tc, test_eval_dst);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
