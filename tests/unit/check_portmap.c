/* check_portmap.c: unit tests of the port-forwarding state machine
 * (daemon/net/portmap.c) on a fake router, a fake clock and a one-job queue
 * that the test runs by hand: renewal timing, the order of the methods,
 * back-off after failures, removal at stop. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/net/portmap.h"

/* The environment: one pending job, one timer, a clock set by the test. */
static double fake_now;
static double timer_delay; /* -1: disarmed */
static worker_run_fn job_run;
static worker_done_fn job_done;
static void *job_arg;

static void
env_submit(void *ctx, worker_run_fn run, worker_done_fn done, void *arg)
{
    (void)ctx;
    ck_assert_ptr_null(job_arg); /* one job at a time */
    job_run = run;
    job_done = done;
    job_arg = arg;
}

static void
env_set_timer(void *ctx, double delay)
{
    (void)ctx;
    timer_delay = delay;
}

static double
env_now(void *ctx)
{
    (void)ctx;
    return fake_now;
}

/* run_job: the pending job on "the worker", then its completion. */
static void
run_job(void)
{
    ck_assert_ptr_nonnull(job_arg);
    void *arg = job_arg;
    job_arg = NULL;
    job_run(arg);
    job_done(arg, 0);
}

/* fire: the clock moves to the timer's deadline and the timer fires. */
static void
fire(portmap_t *pm)
{
    ck_assert(timer_delay >= 0);
    fake_now += timer_delay;
    timer_delay = -1;
    portmap_on_timer(pm);
}

/* A fake router: fails while fails > 0, grants lease seconds. */
typedef struct {
    int maps, unmaps, fails;
    unsigned lease;
} fake_t;

static int
fake_map(void *state, const pm_request_t *req, pm_result_t *res)
{
    fake_t *f = state;
    f->maps++;
    if (f->fails > 0) {
        f->fails--;
        snprintf(res->error, sizeof res->error, "no answer");
        return -1;
    }
    snprintf(res->external_ip, sizeof res->external_ip, "192.0.2.7");
    for (size_t i = 0; i < req->n; i++)
        res->external_port[i] = req->ports[i].port;
    res->lease = f->lease;
    return 0;
}

static int
fake_unmap(void *state, const pm_request_t *req, pm_result_t *res)
{
    (void)req;
    (void)res;
    ((fake_t *)state)->unmaps++;
    return 0;
}

static fake_t fa, fb;
static const pm_env_t env = { env_submit, env_set_timer, env_now, NULL };
static const pm_request_t req = { .ports = { { 4662, PM_TCP }, { 4672, PM_UDP } }, .n = 2,
                                  .lease = 3600 };

static portmap_t *
make(size_t n)
{
    fake_now = 1000;
    timer_delay = -1;
    job_arg = NULL;
    memset(&fa, 0, sizeof fa);
    memset(&fb, 0, sizeof fb);
    fa.lease = fb.lease = 3600;
    pm_backend_t b[2] = { { "upnp", fake_map, fake_unmap, NULL, &fa },
                          { "natpmp", fake_map, fake_unmap, NULL, &fb } };
    return portmap_new_with(&env, b, n, &req);
}

START_TEST(test_renewal_at_half_lease)
{
    portmap_t *pm = make(1);
    portmap_start(pm);
    ck_assert_str_eq(portmap_state(pm), "mapping");
    ck_assert(portmap_is_busy(pm));
    run_job();
    ck_assert_str_eq(portmap_state(pm), "mapped");
    ck_assert_str_eq(portmap_method(pm), "upnp");
    ck_assert(timer_delay == 1800);
    ck_assert(portmap_next_in(pm) == 1800);
    fake_now += 1000;
    ck_assert(portmap_next_in(pm) == 800);
    fake_now -= 1000;
    fire(pm);
    ck_assert(portmap_is_busy(pm)); /* the renewal, with the same method */
    run_job();
    ck_assert_int_eq(fa.maps, 2);
    ck_assert_str_eq(portmap_state(pm), "mapped");
    /* a short lease is renewed no sooner than PM_RENEW_MIN */
    fa.lease = 20;
    fire(pm);
    run_job();
    ck_assert(timer_delay == PM_RENEW_MIN);
    /* a permanent one is checked every PM_RECHECK */
    fa.lease = 0;
    fire(pm);
    run_job();
    ck_assert(timer_delay == PM_RECHECK);
    json_object *j = portmap_to_json(pm);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "external_ip")),
                     "192.0.2.7");
    ck_assert_int_eq(json_object_array_length(json_object_object_get(j, "ports")), 2);
    json_object_put(j);
    portmap_stop(pm);
    run_job();
    portmap_free(pm);
}
END_TEST

START_TEST(test_methods_in_order)
{
    portmap_t *pm = make(2);
    fa.fails = 1;
    portmap_start(pm);
    run_job(); /* UPnP fails: NAT-PMP is tried at once */
    ck_assert_str_eq(portmap_state(pm), "mapping");
    ck_assert(timer_delay < 0);
    run_job();
    ck_assert_str_eq(portmap_state(pm), "mapped");
    ck_assert_str_eq(portmap_method(pm), "natpmp");
    ck_assert_int_eq(fa.maps, 1);
    ck_assert_int_eq(fb.maps, 1);
    /* the renewal goes to the method that mapped */
    fire(pm);
    run_job();
    ck_assert_int_eq(fa.maps, 1);
    ck_assert_int_eq(fb.maps, 2);
    /* at stop only what mapped is removed */
    portmap_stop(pm);
    run_job();
    ck_assert(!portmap_is_busy(pm));
    ck_assert_int_eq(fa.unmaps, 0);
    ck_assert_int_eq(fb.unmaps, 1);
    ck_assert_str_eq(portmap_state(pm), "removed");
    portmap_free(pm);
}
END_TEST

START_TEST(test_backoff_doubles_and_resets)
{
    portmap_t *pm = make(2);
    fa.fails = fb.fails = 1000;
    portmap_start(pm);
    run_job();
    run_job();
    ck_assert_str_eq(portmap_state(pm), "retrying");
    ck_assert(timer_delay == PM_RETRY_MIN);
    json_object *j = portmap_to_json(pm);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "error")),
                     "natpmp: no answer");
    json_object_put(j);
    double want = PM_RETRY_MIN;
    for (int round = 0; round < 10; round++) {
        fire(pm);
        ck_assert_str_eq(portmap_state(pm), "mapping");
        run_job(); /* a new round starts with the first method */
        run_job();
        want = want * 2 > PM_RETRY_MAX ? PM_RETRY_MAX : want * 2;
        ck_assert(timer_delay == want);
    }
    ck_assert(timer_delay == PM_RETRY_MAX);
    ck_assert_int_eq(fa.maps, 11);
    /* success resets the back-off: the next failure waits PM_RETRY_MIN */
    fa.fails = 0;
    fire(pm);
    run_job();
    ck_assert_str_eq(portmap_state(pm), "mapped");
    j = portmap_to_json(pm);
    ck_assert_ptr_null(json_object_object_get(j, "error"));
    json_object_put(j);
    fa.fails = 1;
    fire(pm);
    run_job(); /* the renewal fails: NAT-PMP next, which fails too */
    run_job();
    ck_assert_str_eq(portmap_state(pm), "retrying");
    ck_assert(timer_delay == PM_RETRY_MIN);
    ck_assert_ptr_null(portmap_method(pm));
    /* UPnP may still hold the mappings of before: removed at stop */
    portmap_stop(pm);
    ck_assert(timer_delay < 0);
    run_job();
    ck_assert_int_eq(fa.unmaps, 1);
    ck_assert_int_eq(fb.unmaps, 0);
    ck_assert_str_eq(portmap_state(pm), "removed");
    portmap_free(pm);
}
END_TEST

START_TEST(test_stop_while_mapping)
{
    portmap_t *pm = make(1);
    portmap_start(pm);
    portmap_stop(pm); /* the map job is still to run */
    ck_assert_int_eq(fa.unmaps, 0);
    run_job(); /* it maps; then the removal follows */
    ck_assert(portmap_is_busy(pm));
    ck_assert_str_eq(portmap_state(pm), "removing");
    run_job();
    ck_assert_int_eq(fa.unmaps, 1);
    ck_assert_str_eq(portmap_state(pm), "removed");
    ck_assert(!portmap_is_busy(pm));
    ck_assert(timer_delay < 0);
    portmap_on_timer(pm); /* a late timer does nothing */
    ck_assert(!portmap_is_busy(pm));
    portmap_free(pm);
}
END_TEST

START_TEST(test_stop_without_mapping)
{
    portmap_t *pm = make(1);
    fa.fails = 1;
    portmap_start(pm);
    run_job();
    ck_assert_str_eq(portmap_state(pm), "retrying");
    portmap_stop(pm); /* nothing was ever mapped: nothing to remove */
    ck_assert(!portmap_is_busy(pm));
    ck_assert_int_eq(fa.unmaps, 0);
    ck_assert_str_eq(portmap_state(pm), "removed");
    portmap_free(pm);
    /* no method at all: off, and stop does nothing */
    pm = make(0);
    portmap_start(pm);
    ck_assert(!portmap_is_busy(pm));
    ck_assert_str_eq(portmap_state(pm), "off");
    portmap_stop(pm);
    ck_assert_str_eq(portmap_state(pm), "off");
    portmap_free(pm);
}
END_TEST

START_TEST(test_replace_removes_then_starts_over)
{
    portmap_t *pm = make(2);
    portmap_start(pm);
    run_job();
    ck_assert_str_eq(portmap_method(pm), "upnp");
    /* NAT-PMP only, another lease: UPnP's mappings go first */
    pm_request_t r2 = req;
    r2.lease = 600;
    pm_backend_t only[1] = { { "natpmp", fake_map, fake_unmap, NULL, &fb } };
    portmap_replace(pm, only, 1, &r2);
    ck_assert_str_eq(portmap_state(pm), "removing");
    ck_assert(timer_delay < 0);
    run_job();
    ck_assert_int_eq(fa.unmaps, 1);
    ck_assert_str_eq(portmap_state(pm), "mapping");
    fb.lease = 600;
    run_job();
    ck_assert_str_eq(portmap_state(pm), "mapped");
    ck_assert_str_eq(portmap_method(pm), "natpmp");
    ck_assert(timer_delay == 300);
    /* replaced while a renewal is under way: it finishes, is removed, then
     * the new settings start */
    fire(pm);
    pm_backend_t up[1] = { { "upnp", fake_map, fake_unmap, NULL, &fa } };
    portmap_replace(pm, up, 1, &req);
    run_job(); /* the renewal */
    ck_assert_str_eq(portmap_state(pm), "removing");
    run_job();
    ck_assert_int_eq(fb.unmaps, 1);
    run_job();
    ck_assert_str_eq(portmap_method(pm), "upnp");
    ck_assert_int_eq(fa.maps, 2);
    /* replaced by nothing (off): removed, and off */
    portmap_replace(pm, NULL, 0, &req);
    run_job();
    ck_assert_int_eq(fa.unmaps, 2);
    ck_assert(!portmap_is_busy(pm));
    ck_assert_str_eq(portmap_state(pm), "off");
    /* from off, a method starts at once */
    portmap_replace(pm, up, 1, &req);
    ck_assert_str_eq(portmap_state(pm), "mapping");
    run_job();
    ck_assert_str_eq(portmap_state(pm), "mapped");
    portmap_stop(pm);
    run_job();
    portmap_free(pm);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("portmap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_renewal_at_half_lease);
    tcase_add_test(tc, test_methods_in_order);
    tcase_add_test(tc, test_backoff_doubles_and_resets);
    tcase_add_test(tc, test_stop_while_mapping);
    tcase_add_test(tc, test_stop_without_mapping);
    tcase_add_test(tc, test_replace_removes_then_starts_over);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
