/* check_sharelimit.c: unit tests for the share-limit decision
 * (daemon/transfer/sharelimit.c) with a fake clock: which limit is in
 * force, qBittorrent's ratio, the seeding time, the actions. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "daemon/transfer/dlattr.h"
#include "daemon/transfer/sharelimit.h"
#include "util/conf.h"

#define T0 1700000000LL /* completion time of the fake downloads */
#define MIB (1024 * 1024)

/* a finished download of 10 MiB, all downloaded here, nothing uploaded */
static shl_input_t
fresh(void)
{
    return (shl_input_t){ .ratio_limit = DLA_LIMIT_GLOBAL,
                          .seeding_time_limit = DLA_LIMIT_GLOBAL,
                          .size = 10 * MIB,
                          .downloaded = 10 * MIB,
                          .completed_at = T0 };
}

static const shl_global_t no_limits = { .max_ratio = -1, .max_seeding_time = -1, .action = 0 };

START_TEST(test_ratio_as_qbittorrent)
{
    ck_assert(shl_ratio(0, 0, 0) == 0);
    ck_assert(shl_ratio(5, 0, 0) == SHL_MAX_RATIO);
    ck_assert(shl_ratio(15 * MIB, 10 * MIB, 10 * MIB) == 1.5);
    /* less than 1% downloaded here: the size counts instead */
    ck_assert(shl_ratio(5 * MIB, 1000, 10 * MIB) == 0.5);
    /* 1% or more: what was downloaded */
    ck_assert(shl_ratio(5 * MIB, MIB, 10 * MIB) == 5.0);
    ck_assert(shl_ratio(UINT64_MAX / 2, 1, 1) == SHL_MAX_RATIO);
}
END_TEST

START_TEST(test_global_ratio)
{
    shl_global_t g = { .max_ratio = 2, .max_seeding_time = -1, .action = SHL_ACT_STOP };
    shl_input_t in = fresh();
    const char *why = "x";
    in.uploaded = 20 * MIB - 1;
    ck_assert_int_eq(shl_decide(&g, &in, T0 + 100000, &why), SHL_NONE);
    ck_assert_ptr_null(why);
    in.uploaded = 20 * MIB;
    ck_assert_int_eq(shl_decide(&g, &in, T0, &why), SHL_STOP);
    ck_assert_str_eq(why, "ratio");
    /* already stopped: nothing more to do */
    in.stopped = true;
    ck_assert_int_eq(shl_decide(&g, &in, T0, NULL), SHL_NONE);
    /* no global limit */
    in.stopped = false;
    ck_assert_int_eq(shl_decide(&no_limits, &in, T0 + 10000000, NULL), SHL_NONE);
    /* a ratio of 0 is reached at once */
    g.max_ratio = 0;
    in.uploaded = 0;
    ck_assert_int_eq(shl_decide(&g, &in, T0, NULL), SHL_STOP);
}
END_TEST

START_TEST(test_own_limits_win)
{
    shl_global_t g = { .max_ratio = 0, .max_seeding_time = 1, .action = SHL_ACT_STOP };
    shl_input_t in = fresh();
    /* -1: no limit, whatever the global one says */
    in.ratio_limit = DLA_LIMIT_NONE;
    in.seeding_time_limit = DLA_LIMIT_NONE;
    ck_assert_int_eq(shl_decide(&g, &in, T0 + 1000000, NULL), SHL_NONE);
    /* its own ratio */
    in.ratio_limit = 1;
    in.uploaded = 10 * MIB - 1;
    ck_assert_int_eq(shl_decide(&g, &in, T0, NULL), SHL_NONE);
    in.uploaded = 10 * MIB;
    ck_assert_int_eq(shl_decide(&no_limits, &in, T0, NULL), SHL_STOP);
}
END_TEST

START_TEST(test_seeding_time)
{
    shl_global_t g = { .max_ratio = -1, .max_seeding_time = 1, .action = SHL_ACT_REMOVE };
    shl_input_t in = fresh();
    const char *why = NULL;
    ck_assert_int_eq(shl_decide(&g, &in, T0, NULL), SHL_NONE);
    ck_assert_int_eq(shl_decide(&g, &in, T0 + 59, NULL), SHL_NONE);
    ck_assert_int_eq(shl_decide(&g, &in, T0 + 60, &why), SHL_REMOVE);
    ck_assert_str_eq(why, "seeding time");
    /* a clock before the completion, or an unknown completion: not reached */
    ck_assert_int_eq(shl_decide(&g, &in, T0 - 3600, NULL), SHL_NONE);
    in.completed_at = 0;
    ck_assert_int_eq(shl_decide(&g, &in, T0 + 3600, NULL), SHL_NONE);
    /* its own time: 0 minutes is reached at once */
    in = fresh();
    in.seeding_time_limit = 0;
    ck_assert_int_eq(shl_decide(&no_limits, &in, T0, NULL), SHL_STOP);
    /* the ratio is checked first */
    in.ratio_limit = 0;
    ck_assert_int_eq(shl_decide(&no_limits, &in, T0, &why), SHL_STOP);
    ck_assert_str_eq(why, "ratio");
}
END_TEST

START_TEST(test_actions)
{
    shl_global_t g = { .max_ratio = 0, .max_seeding_time = -1 };
    shl_input_t in = fresh();
    g.action = SHL_ACT_STOP;
    ck_assert_int_eq(shl_decide(&g, &in, T0, NULL), SHL_STOP);
    g.action = SHL_ACT_REMOVE;
    ck_assert_int_eq(shl_decide(&g, &in, T0, NULL), SHL_REMOVE);
    g.action = SHL_ACT_REMOVE_FILES;
    ck_assert_int_eq(shl_decide(&g, &in, T0, NULL), SHL_REMOVE_FILES);
    /* super seeding does not exist on eD2K: it stops sharing */
    g.action = SHL_ACT_SUPER_SEEDING;
    ck_assert_int_eq(shl_decide(&g, &in, T0, NULL), SHL_STOP);
    /* a stopped download is still removed */
    in.stopped = true;
    g.action = SHL_ACT_REMOVE;
    ck_assert_int_eq(shl_decide(&g, &in, T0, NULL), SHL_REMOVE);
    ck_assert_str_eq(shl_outcome_name(SHL_REMOVE_FILES), "remove with its file");
}
END_TEST

START_TEST(test_global_from_conf)
{
    conf_t *c = conf_new();
    shl_global_t g;
    shl_global_from_conf(c, &g);
    /* the defaults: no limit (finished files stay shared), stop */
    ck_assert(g.max_ratio < 0);
    ck_assert_int_eq(g.max_seeding_time, -1);
    ck_assert_int_eq(g.action, SHL_ACT_STOP);
    ck_assert_int_eq(conf_set(c, "max_ratio", "1.5", NULL), 0);
    ck_assert_int_eq(conf_set(c, "max_seeding_time", "30", NULL), 0);
    ck_assert_int_eq(conf_set(c, "max_ratio_act", "3", NULL), 0);
    ck_assert_int_ne(conf_set(c, "max_ratio", "abc", NULL), 0);
    ck_assert_int_ne(conf_set(c, "max_ratio", "9999", NULL), 0);
    ck_assert_int_ne(conf_set(c, "max_ratio_act", "4", NULL), 0);
    shl_global_from_conf(c, &g);
    ck_assert(g.max_ratio == 1.5);
    ck_assert_int_eq(g.max_seeding_time, 30);
    ck_assert_int_eq(g.action, SHL_ACT_REMOVE_FILES);
    conf_free(c);
}
END_TEST

static Suite *
suite(void)
{
    Suite *s = suite_create("sharelimit");
    TCase *tc = tcase_create("decide");
    tcase_add_test(tc, test_ratio_as_qbittorrent);
    tcase_add_test(tc, test_global_ratio);
    tcase_add_test(tc, test_own_limits_win);
    tcase_add_test(tc, test_seeding_time);
    tcase_add_test(tc, test_actions);
    tcase_add_test(tc, test_global_from_conf);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
