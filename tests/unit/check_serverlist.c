/* check_serverlist.c: unit tests for the choice of the next server
 * (daemon/ed2k/serverlist.c sl_pick_among, daemon/ed2k/srvround.c): the
 * order (priority, static, failures, ping), each server's back-off, the
 * rounds of the automatic mode (each server once, the one whose session
 * broke last, a pause after a round of failures), and when a server is
 * dropped. The servers are an array, the clock a number. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ed2k/serverlist.h"
#include "daemon/ed2k/srvpolicy.h"
#include "daemon/ed2k/srvround.h"

/* server.c's and the configuration's defaults */
#define RETRY_MIN 3
#define RETRY_MAX 600
#define ROUND_PAUSE 30

#define N 6
static sl_server_t srv[N];
static sl_server_t *v[N];

static void
setup(void)
{
    memset(srv, 0, sizeof srv);
    for (size_t i = 0; i < N; i++) {
        srv[i].port = (uint16_t)(4661 + i);
        srv[i].priority = SL_PRIO_NORMAL;
        v[i] = &srv[i];
    }
}

static sl_server_t *
pick(size_t n, time_t now)
{
    return sl_pick_among(v, n, NULL, 0, now, NULL);
}

START_TEST(test_priority)
{
    setup();
    srv[0].priority = SL_PRIO_LOW;
    srv[1].priority = SL_PRIO_NORMAL;
    srv[2].priority = SL_PRIO_HIGH;
    srv[2].failures = 5;    /* high beats everything below */
    srv[2].ping_ms = 900;
    srv[1].is_static = true;
    srv[1].ping_ms = 10;
    ck_assert_ptr_eq(pick(3, 0), &srv[2]);
    srv[2].priority = SL_PRIO_LOW;
    ck_assert_ptr_eq(pick(3, 0), &srv[1]);
    /* low: last, even static and answering fast */
    srv[1].priority = SL_PRIO_LOW;
    srv[0].priority = SL_PRIO_NORMAL;
    srv[0].failures = 3;
    ck_assert_ptr_eq(pick(3, 0), &srv[0]);
}
END_TEST

START_TEST(test_static_failures_ping)
{
    setup();
    /* the same priority: a static server first */
    srv[3].is_static = true;
    srv[3].failures = 2;
    srv[3].ping_ms = 500;
    srv[0].ping_ms = 20;
    ck_assert_ptr_eq(pick(4, 0), &srv[3]);
    srv[3].is_static = false;
    /* then fewer failures */
    srv[0].failures = 1;
    srv[1].failures = 0;
    srv[1].ping_ms = 800;
    srv[2].failures = 0;
    srv[2].ping_ms = 0; /* unknown */
    ck_assert_ptr_eq(pick(4, 0), &srv[1]);
    /* then the lowest ping, an unknown one last */
    srv[2].ping_ms = 799;
    ck_assert_ptr_eq(pick(4, 0), &srv[2]);
    srv[2].ping_ms = 0;
    srv[1].ping_ms = 4000;
    ck_assert_ptr_eq(pick(4, 0), &srv[1]);
    /* all alike: the first of the list */
    setup();
    ck_assert_ptr_eq(pick(N, 0), &srv[0]);
    ck_assert_ptr_null(pick(0, 0));
}
END_TEST

/* A server in its back-off is skipped; when all are, *wait says when the
 * first may be tried; tried servers do not count. */
START_TEST(test_backoff_and_wait)
{
    setup();
    time_t now = 1000, wait = -1;
    srvpol_fail(&srv[0].retry, RETRY_MIN, RETRY_MAX, now, 0, NULL);    /* until now + 3 */
    srvpol_fail(&srv[1].retry, RETRY_MIN, RETRY_MAX, now - 1, 0, NULL); /* until now + 2 */
    srv[1].retry.step = 3;
    ck_assert_ptr_eq(sl_pick_among(v, 3, NULL, 0, now, &wait), &srv[2]);
    ck_assert_int_eq(wait, 0);
    const sl_server_t *tried[] = { &srv[2] };
    ck_assert_ptr_null(sl_pick_among(v, 3, tried, 1, now, &wait));
    ck_assert_int_eq(wait, now + 2);
    ck_assert_ptr_eq(sl_pick_among(v, 3, tried, 1, now + 2, &wait), &srv[1]);
    ck_assert_ptr_eq(sl_pick_among(v, 3, tried, 1, now + 3, &wait), &srv[0]);
    /* all tried, none waiting: nothing, and nothing to wait for */
    const sl_server_t *all[] = { &srv[0], &srv[1], &srv[2] };
    ck_assert_ptr_null(sl_pick_among(v, 3, all, 3, now + 3, &wait));
    ck_assert_int_eq(wait, 0);
}
END_TEST

/* What server.c does when an attempt fails: the server's back-off grows
 * and the list counts a failure; the round goes on or pauses. Returns
 * the pause (0: the next server soon). */
static long
fail_attempt(srvround_t *r, sl_server_t *e, size_t n, time_t now)
{
    srvpol_fail(&e->retry, RETRY_MIN, RETRY_MAX, now, 0, NULL);
    e->failures++;
    return srvround_failed(r, n, ROUND_PAUSE, RETRY_MAX, now, 0, NULL);
}

/* Each server once a round, best first; after a round of failures the
 * next round waits; the pause grows with each such round. */
START_TEST(test_round_of_failures)
{
    setup();
    srvround_t r = { 0 };
    srv[1].priority = SL_PRIO_HIGH;
    time_t now = 100, wait = 0;
    ck_assert_ptr_eq(srvround_next(&r, v, 3, now, &wait), &srv[1]);
    ck_assert_int_eq(fail_attempt(&r, &srv[1], 3, now), 0);
    now += 2;
    ck_assert_ptr_eq(srvround_next(&r, v, 3, now, &wait), &srv[0]);
    ck_assert_int_eq(fail_attempt(&r, &srv[0], 3, now), 0);
    now += 2;
    ck_assert_ptr_eq(srvround_next(&r, v, 3, now, &wait), &srv[2]);
    /* the whole round failed: a pause before the next */
    ck_assert_int_eq(fail_attempt(&r, &srv[2], 3, now), ROUND_PAUSE);
    ck_assert_uint_eq(r.n_tried, 0);
    now += ROUND_PAUSE;
    /* the next round: back-offs over, the high one first again */
    ck_assert_ptr_eq(srvround_next(&r, v, 3, now, &wait), &srv[1]);
    fail_attempt(&r, &srv[1], 3, now);
    ck_assert_ptr_eq(srvround_next(&r, v, 3, now + 2, &wait), &srv[0]);
    fail_attempt(&r, &srv[0], 3, now + 2);
    ck_assert_ptr_eq(srvround_next(&r, v, 3, now + 4, &wait), &srv[2]);
    bool grew = false;
    srvpol_fail(&srv[2].retry, RETRY_MIN, RETRY_MAX, now + 4, 0, NULL);
    ck_assert_int_eq(srvround_failed(&r, 3, ROUND_PAUSE, RETRY_MAX, now + 4, 0, &grew),
                     2 * ROUND_PAUSE);
    ck_assert(grew);
    /* a session that lasts ends the pauses */
    srvround_good(&r);
    ck_assert_uint_eq(r.pause.step, 0);
    /* one server alone: its own back-off is the pause */
    srvround_t one = { 0 };
    ck_assert_ptr_eq(srvround_next(&one, v, 1, now + 100, &wait), &srv[0]);
    ck_assert_int_eq(srvround_failed(&one, 1, ROUND_PAUSE, RETRY_MAX, now + 100, 0, NULL), 0);
}
END_TEST

/* The server of a session that lasted and broke is tried last in the
 * new round, however good it is. */
START_TEST(test_broken_session_goes_last)
{
    setup();
    srvround_t r = { 0 };
    srv[0].priority = SL_PRIO_HIGH;
    srv[0].is_static = true;
    time_t now = 5000, wait = 0;
    ck_assert_ptr_eq(srvround_next(&r, v, 4, now, &wait), &srv[0]);
    /* logged in; the session lasted (sl_good_session and srvround_good),
     * then the connection broke: no failure, a new round */
    srvround_restart(&r, NULL);
    srvpol_reset(&srv[0].retry);
    srvround_good(&r);
    srvround_restart(&r, &srv[0]);
    ck_assert_ptr_eq(srvround_next(&r, v, 4, now, &wait), &srv[1]);
    ck_assert_int_eq(fail_attempt(&r, &srv[1], 4, now), 0);
    ck_assert_ptr_eq(srvround_next(&r, v, 4, now + 2, &wait), &srv[2]);
    ck_assert_int_eq(fail_attempt(&r, &srv[2], 4, now + 2), 0);
    ck_assert_ptr_eq(srvround_next(&r, v, 4, now + 4, &wait), &srv[3]);
    /* srv[0] counted as tried: this failure ends the round */
    ck_assert_int_eq(fail_attempt(&r, &srv[3], 4, now + 4), ROUND_PAUSE);
    ck_assert_ptr_eq(srvround_next(&r, v, 4, now + 4 + ROUND_PAUSE, &wait), &srv[0]);
}
END_TEST

/* In a round, servers still in their back-off wait; when no untried one
 * may be tried, a new round begins among those that may; when none may,
 * the wait is the first back-off's end. */
START_TEST(test_round_and_backoffs)
{
    setup();
    srvround_t r = { 0 };
    time_t now = 200, wait = 0;
    /* srv[2] failed long before, with a long pause */
    srv[2].retry.step = 8;
    srv[2].retry.until = now + 300;
    ck_assert_ptr_eq(srvround_next(&r, v, 3, now, &wait), &srv[0]);
    fail_attempt(&r, &srv[0], 3, now); /* back-off until now + 3 */
    ck_assert_ptr_eq(srvround_next(&r, v, 3, now + 2, &wait), &srv[1]);
    fail_attempt(&r, &srv[1], 3, now + 2); /* until now + 5 */
    /* srv[2] still waits, the others are tried and wait too: nothing
     * before srv[0]'s back-off ends */
    ck_assert_ptr_null(srvround_next(&r, v, 3, now + 2, &wait));
    ck_assert_int_eq(wait, now + 3);
    ck_assert_uint_eq(r.n_tried, 0); /* a new round */
    /* srv[0] again, in the new round, before srv[2] is out */
    ck_assert_ptr_eq(srvround_next(&r, v, 3, now + 3, &wait), &srv[0]);
    ck_assert_int_eq(wait, 0);
}
END_TEST

/* At most SRVROUND_MAX_TRIED in a round, however long the list. */
START_TEST(test_round_cap)
{
    enum { MANY = SRVROUND_MAX_TRIED + 20 };
    sl_server_t *many = calloc(MANY, sizeof *many);
    sl_server_t **mv = calloc(MANY, sizeof *mv);
    for (size_t i = 0; i < MANY; i++) {
        many[i].port = (uint16_t)(1000 + i);
        many[i].ping_ms = (uint32_t)(10 + i);
        mv[i] = &many[i];
    }
    srvround_t r = { 0 };
    time_t now = 1;
    for (size_t i = 0; i < SRVROUND_MAX_TRIED; i++) {
        ck_assert_ptr_eq(srvround_next(&r, mv, MANY, now, NULL), &many[i]);
        long pause = fail_attempt(&r, &many[i], MANY, now);
        ck_assert_int_eq(pause, i + 1 == SRVROUND_MAX_TRIED ? ROUND_PAUSE : 0);
    }
    free(many);
    free(mv);
}
END_TEST

/* A server that leaves the list (dropped, removed) is forgotten by the
 * round; it still counts as tried in it. */
START_TEST(test_forget)
{
    setup();
    srvround_t r = { 0 };
    time_t now = 10;
    ck_assert_ptr_eq(srvround_next(&r, v, 3, now, NULL), &srv[0]);
    fail_attempt(&r, &srv[0], 3, now);
    srvround_forget(&r, &srv[0]);
    ck_assert_ptr_null(r.tried[0]);
    ck_assert_uint_eq(r.n_tried, 1);
    /* the list without it */
    sl_server_t *rest[] = { &srv[1], &srv[2] };
    ck_assert_ptr_eq(srvround_next(&r, rest, 2, now + 2, NULL), &srv[1]);
    ck_assert_int_eq(fail_attempt(&r, &srv[1], 2, now + 2), ROUND_PAUSE);
}
END_TEST

/* A server goes after server_max_failures in a row, unless static;
 * 0 keeps every server. */
START_TEST(test_should_drop)
{
    setup();
    srv[0].failures = 9;
    ck_assert(!sl_should_drop(&srv[0], 10));
    srv[0].failures = 10;
    ck_assert(sl_should_drop(&srv[0], 10));
    ck_assert(!sl_should_drop(&srv[0], 0));
    srv[0].is_static = true;
    ck_assert(!sl_should_drop(&srv[0], 10));
    srv[0].failures = 1000;
    ck_assert(!sl_should_drop(&srv[0], 1));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("serverlist");
    TCase *tc = tcase_create("pick");
    tcase_add_test(tc, test_priority);
    tcase_add_test(tc, test_static_failures_ping);
    tcase_add_test(tc, test_backoff_and_wait);
    tcase_add_test(tc, test_round_of_failures);
    tcase_add_test(tc, test_broken_session_goes_last);
    tcase_add_test(tc, test_round_and_backoffs);
    tcase_add_test(tc, test_round_cap);
    tcase_add_test(tc, test_forget);
    tcase_add_test(tc, test_should_drop);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
