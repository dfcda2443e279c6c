/* check_hooks.c: unit tests of the hook programs (daemon/hooks/hooks.c) on
 * a real event loop and bus, with real programs (/bin/sh): which bus event
 * runs which hook (storage trouble as failed or disk_full, a full disk
 * once a minute), the time limit, the bound on running and queued
 * programs, the bound on the output logged, commands that cannot run; and
 * the webhook sender's bound, retries with back-off and shutdown. */
#include "config.h"

#include <check.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/hooks/hooks.h"
#include "util/clock.h"
#include "util/conf.h"

static char dir[] = "/tmp/check_hooks.XXXXXX";
static char out[64];
static muleteerd_t d;
static hooks_t *h;

static void
setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/out", dir);
    d = (muleteerd_t){ 0 };
    d.base = event_base_new();
    d.bus = bus_new();
    d.conf = conf_new();
}

static void
teardown(void)
{
    hooks_free(h);
    h = NULL;
    bus_free(d.bus);
    conf_free(d.conf);
    event_base_free(d.base);
    unlink(out);
    rmdir(dir);
    strcpy(dir, "/tmp/check_hooks.XXXXXX");
}

static void
set(const char *key, const char *value)
{
    ck_assert_int_eq(conf_set(d.conf, key, value, NULL), 0);
}

/* settle: runs the loop until no program runs or waits (at most secs). */
static void
settle(int secs)
{
    int64_t end = clock_mono_ms() + secs * 1000;
    hooks_stats_t st;
    do {
        struct timeval tv = { 0, 50000 };
        event_base_loopexit(d.base, &tv);
        event_base_dispatch(d.base);
        hooks_get_stats(h, &st, NULL);
    } while ((st.running > 0 || st.queued > 0) && clock_mono_ms() < end);
}

static char text[4096];
static const char *
read_out(void)
{
    text[0] = '\0';
    FILE *f = fopen(out, "r");
    if (f != NULL) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    return text;
}

START_TEST(test_bus_events)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "/bin/sh -c 'echo \"$MULETEER_EVENT|$MULETEER_NAME|$MULETEER_PATH|$MULETEER_ERROR|%%c\" "
             ">>%s'",
             out);
    set("hook_added", cmd);
    set("hook_completed", cmd);
    set("hook_failed", cmd);
    set("hook_disk_full", cmd);
    set("hook_max_running", "1"); /* in order */
    h = hooks_new(&d);
    bus_dl_info_t info = { .hex = "0123456789abcdef0123456789abcdef", .name = "f.bin",
                           .size = 10, .category = "tv" };
    bus_publish_dl_added(d.bus, &(bus_dl_added_t){ .info = &info });
    bus_publish_dl_completed(d.bus, &(bus_dl_completed_t){ .info = &info, .path = "/in/f.bin" });
    bus_publish_dl_failed(d.bus, &(bus_dl_state_ev_t){ .info = &info, .to = BUS_DLS_FAILED,
                                                       .error = "bad hash" });
    /* storage trouble: an I/O error is a failure, a full disk disk_full */
    bus_publish_dl_state(d.bus, &(bus_dl_state_ev_t){ .info = &info, .from = BUS_DLS_ACTIVE,
                                                      .to = BUS_DLS_ERROR, .error = "EIO" });
    bus_publish_dl_state(d.bus, &(bus_dl_state_ev_t){ .info = &info, .from = BUS_DLS_ACTIVE,
                                                      .to = BUS_DLS_ERROR, .error = "full",
                                                      .no_space = true });
    /* not again within a minute; nothing for other state changes */
    bus_publish_dl_state(d.bus, &(bus_dl_state_ev_t){ .info = &info, .from = BUS_DLS_PAUSED,
                                                      .to = BUS_DLS_ERROR, .error = "full 2",
                                                      .no_space = true });
    bus_publish_dl_state(d.bus, &(bus_dl_state_ev_t){ .info = &info, .from = BUS_DLS_ERROR,
                                                      .to = BUS_DLS_ACTIVE });
    bus_publish_dl_state(d.bus, &(bus_dl_state_ev_t){ .info = &info, .from = BUS_DLS_ACTIVE,
                                                      .to = BUS_DLS_PAUSED });
    settle(10);
    ck_assert_str_eq(read_out(), "added|f.bin|||tv\n"
                                 "completed|f.bin|/in/f.bin||tv\n"
                                 "failed|f.bin||bad hash|tv\n"
                                 "failed|f.bin||EIO|tv\n"
                                 "disk_full|f.bin||full|tv\n");
    hooks_stats_t st;
    hooks_get_stats(h, &st, NULL);
    ck_assert_uint_eq(st.started, 5);
    ck_assert_uint_eq(st.succeeded, 5);
}
END_TEST

START_TEST(test_timeout_and_bounds)
{
    set("hook_completed", "/bin/sleep 30");
    set("hook_timeout", "1");
    set("hook_max_running", "1");
    set("hook_max_queued", "1");
    h = hooks_new(&d);
    hook_event_t ev = { .event = "completed", .name = "x" };
    ck_assert_int_eq(hooks_fire(h, &ev, NULL), HOOKS_STARTED);
    ck_assert_int_eq(hooks_fire(h, &ev, NULL), HOOKS_QUEUED);
    ck_assert_int_eq(hooks_fire(h, &ev, NULL), HOOKS_DROPPED);
    ev.event = "added"; /* no program */
    ck_assert_int_eq(hooks_fire(h, &ev, NULL), HOOKS_NONE);
    int64_t t0 = clock_mono_ms();
    settle(10);
    int64_t took = clock_mono_ms() - t0;
    hooks_stats_t st;
    hooks_get_stats(h, &st, NULL);
    ck_assert_uint_eq(st.killed, 2); /* each after its second */
    ck_assert_uint_eq(st.dropped, 1);
    ck_assert_uint_eq(st.running + st.queued, 0);
    ck_assert_int_ge(took, 1500);
    ck_assert_int_lt(took, 5000);
}
END_TEST

START_TEST(test_output_and_failures)
{
    set("hook_added", "/bin/sh -c 'head -c 100 /dev/zero | tr \"\\0\" x; exit 3'");
    set("hook_max_output", "10");
    set("hook_failed", "/bin/x 'unterminated");
    set("hook_disk_full", "/nonexistent/program");
    h = hooks_new(&d);
    hook_event_t ev = { .event = "added" };
    ck_assert_int_eq(hooks_fire(h, &ev, NULL), HOOKS_STARTED);
    settle(10);
    ev.event = "failed";
    ck_assert_int_eq(hooks_fire(h, &ev, NULL), HOOKS_FAILED);
    ev.event = "disk_full";
    ck_assert_int_eq(hooks_fire(h, &ev, NULL), HOOKS_FAILED);
    hooks_stats_t st;
    hooks_get_stats(h, &st, NULL);
    ck_assert_uint_eq(st.output_dropped, 90);
    ck_assert_uint_eq(st.failed, 3); /* exit 3, the split, the spawn */
    ck_assert_uint_eq(st.succeeded, 0);
}
END_TEST

/* The webhook sender against a closed port: connections refused at once. */
START_TEST(test_webhook_retries_and_bound)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    webhook_t *w = webhook_new();
    webhook_opts_t o = { .timeout_s = 2, .retries = 2, .backoff_ms = 200, .max_queued = 1 };
    /* one queued, the other two refused: the queue holds one */
    ck_assert_uint_eq(webhook_send(w, "http://127.0.0.1:1/a, http://127.0.0.1:1/b http://127.0.0.1:1/c",
                                   "", "added", "{}", &o),
                      1);
    webhook_stats_t st;
    webhook_get_stats(w, &st);
    ck_assert_uint_eq(st.queued, 1);
    ck_assert_uint_eq(st.dropped, 2);
    int64_t t0 = clock_mono_ms();
    do {
        usleep(20000);
        webhook_get_stats(w, &st);
    } while (st.failed == 0 && clock_mono_ms() - t0 < 10000);
    int64_t took = clock_mono_ms() - t0;
    ck_assert_uint_eq(st.failed, 1);    /* given up after the retries */
    ck_assert_uint_eq(st.retried, 2);   /* after 200 ms, then 400 ms */
    ck_assert_uint_eq(st.delivered, 0);
    ck_assert_uint_eq(st.pending, 0);
    ck_assert_int_ge(took, 550);
    ck_assert_int_lt(took, 5000);
    /* a delivery waiting for its retry is dropped at once at shutdown */
    o.backoff_ms = 60000;
    o.max_queued = 10;
    ck_assert_uint_eq(webhook_send(w, "http://127.0.0.1:1/a", "", "added", "{}", &o), 1);
    do {
        usleep(20000);
        webhook_get_stats(w, &st);
    } while (st.retried < 3 && clock_mono_ms() - t0 < 10000);
    ck_assert_uint_eq(st.retried, 3);
    t0 = clock_mono_ms();
    webhook_free(w);
    ck_assert_int_lt(clock_mono_ms() - t0, 1000);
    curl_global_cleanup();
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("hooks");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_bus_events);
    tcase_add_test(tc, test_timeout_and_bounds);
    tcase_add_test(tc, test_output_and_failures);
    tcase_add_test(tc, test_webhook_retries_and_bound);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
