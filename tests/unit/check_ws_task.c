/* check_ws_task.c: unit tests for muleteer-ws's tasks (ws/task.c): a
 * task waiting for its worker's call leaves the loop to the others, a
 * lock between tasks keeps their order, the bound on clients' tasks
 * refuses at once. A real libwebsockets context (no listening socket)
 * carries the workers' wake-ups; the work is a sleep, and wsd_db a fake
 * that never connects. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ws/wsd.h"

PGconn *
wsd_db(wsd_t *w)
{
    (void)w;
    return NULL;
}

static char order[256];

static void
note(char c)
{
    size_t n = strlen(order);
    if (n + 1 < sizeof order)
        order[n] = c, order[n + 1] = '\0';
}

static int
cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED)
        wsd_tasks_poll(lws_context_user(lws_get_context(wsi)));
    return 0;
}

static const struct lws_protocols protocols[] = {
    { "test", cb, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static wsd_t w;

static void
setup(void)
{
    memset(&w, 0, sizeof w);
    w.max_clients = 256;
    order[0] = '\0';
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = &w;
    w.lws = lws_create_context(&info);
    ck_assert_ptr_nonnull(w.lws);
    ck_assert_int_eq(wsd_tasks_start(&w), 0);
}

static void
teardown(void)
{
    wsd_tasks_stop(&w);
    lws_context_destroy(w.lws);
    wsd_tasks_free(&w);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static lws_sorted_usec_list_t tick;

static void
on_tick(lws_sorted_usec_list_t *sul)
{
    (void)sul; /* only wakes the loop */
}

/* runs the loop until order is want, for at most secs */
static void
run_until(const char *want, double secs)
{
    double end = now_s() + secs;
    while (strcmp(order, want) != 0 && now_s() < end) {
        lws_sul_schedule(w.lws, 0, &tick, on_tick, 50 * LWS_US_PER_MS);
        lws_service(w.lws, 0);
    }
    lws_sul_cancel(&tick);
}

static void
slow_work(wsd_t *ww, void *arg)
{
    (void)ww;
    usleep((useconds_t)(intptr_t)arg);
}

static void
slow_task(wsd_t *ww, void *arg)
{
    char *tag = arg;
    note(tag[0]);
    wsd_offload(ww, WSD_WORKER_CTL, slow_work, (void *)(intptr_t)200000);
    note(tag[1]);
}

static void
quick_task(wsd_t *ww, void *arg)
{
    (void)ww;
    note(((char *)arg)[0]);
}

START_TEST(test_slow_call_leaves_the_loop)
{
    double t0 = now_s();
    ck_assert_int_eq(wsd_task_spawn(&w, slow_task, "aA", true), 0);
    /* the slow task waits for its worker; the next one runs at once */
    ck_assert_int_eq(wsd_task_spawn(&w, quick_task, "b", true), 0);
    ck_assert_str_eq(order, "ab");
    ck_assert(now_s() - t0 < 0.15);
    run_until("abA", 5.0);
    ck_assert_str_eq(order, "abA");
}
END_TEST

static wsd_lock_t lock;

static void
locked_task(wsd_t *ww, void *arg)
{
    char *tag = arg;
    wsd_lock(ww, &lock);
    note(tag[0]);
    wsd_offload(ww, WSD_WORKER_DB, slow_work, (void *)(intptr_t)50000);
    note(tag[1]);
    wsd_unlock(ww, &lock);
}

START_TEST(test_lock_keeps_order)
{
    memset(&lock, 0, sizeof lock);
    ck_assert_int_eq(wsd_task_spawn(&w, locked_task, "xX", false), 0);
    ck_assert_int_eq(wsd_task_spawn(&w, locked_task, "yY", false), 0);
    ck_assert_int_eq(wsd_task_spawn(&w, locked_task, "zZ", false), 0);
    /* the holder's section is never interleaved with another's */
    run_until("xXyYzZ", 5.0);
    ck_assert_str_eq(order, "xXyYzZ");
    ck_assert(!lock.held);
}
END_TEST

static void
held_task(wsd_t *ww, void *arg)
{
    (void)arg;
    wsd_offload(ww, WSD_WORKER_CTL, slow_work, (void *)(intptr_t)1000);
    note('.');
}

START_TEST(test_bound_refuses_at_once)
{
    for (int i = 0; i < WSD_MAX_TASKS; i++)
        ck_assert_int_eq(wsd_task_spawn(&w, held_task, NULL, true), 0);
    ck_assert_int_eq(wsd_task_spawn(&w, held_task, NULL, true), -1);
    /* the loop's own tasks are not bounded */
    ck_assert_int_eq(wsd_task_spawn(&w, quick_task, "q", false), 0);
    char want[WSD_MAX_TASKS + 2];
    want[0] = 'q';
    memset(want + 1, '.', WSD_MAX_TASKS);
    want[WSD_MAX_TASKS + 1] = '\0';
    run_until(want, 5.0);
    ck_assert_str_eq(order, want);
    /* ended: room again */
    ck_assert_int_eq(wsd_task_spawn(&w, quick_task, "r", true), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ws_task");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_slow_call_leaves_the_loop);
    tcase_add_test(tc, test_lock_keeps_order);
    tcase_add_test(tc, test_bound_refuses_at_once);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
