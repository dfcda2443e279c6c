/* check_bus.c: unit tests of the daemon's event bus (daemon/core/bus.c):
 * delivery order, typed payloads, nested publishes, unsubscribing. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/bus.h"
#include "daemon/core/logtap.h"
#include "util/log.h"

#include <event2/thread.h>
#include <pthread.h>

/* A log of deliveries: "<subscriber>:<what>" entries. */
static char trail[1024];

static void
note(const char *who, const char *what)
{
    strncat(trail, who, sizeof trail - strlen(trail) - 1);
    strncat(trail, ":", sizeof trail - strlen(trail) - 1);
    strncat(trail, what, sizeof trail - strlen(trail) - 1);
    strncat(trail, " ", sizeof trail - strlen(trail) - 1);
}

static void
on_cat(void *ctx, const bus_category_t *ev)
{
    note(ctx, ev->name);
}

static void
on_log(void *ctx, const bus_log_t *ev)
{
    note(ctx, ev->text);
}

START_TEST(test_order_and_payload)
{
    bus_t *b = bus_new();
    trail[0] = '\0';
    bus_on_cat_added(b, on_cat, "a");
    bus_on_cat_added(b, on_cat, "b");
    bus_on_log_line(b, on_log, "c");
    bus_on_cat_added(b, on_cat, "d");
    bus_publish_cat_added(b, &(bus_category_t){ .name = "tv" });
    bus_publish_cat_added(b, &(bus_category_t){ .name = "films" });
    bus_publish_cat_removed(b, &(bus_category_t){ .name = "nobody hears this" });
    bus_publish_log_line(b, &(bus_log_t){ .text = "hello" });
    ck_assert_str_eq(trail, "a:tv b:tv d:tv a:films b:films d:films c:hello ");
    ck_assert_uint_eq(bus_published(b, BUS_CAT_ADDED), 2);
    ck_assert_uint_eq(bus_published(b, BUS_CAT_REMOVED), 1);
    ck_assert_uint_eq(bus_published(b, BUS_DL_ADDED), 0);
    ck_assert_str_eq(bus_event_name(BUS_DL_COMPLETED), "dl_completed");
    ck_assert_str_eq(bus_event_name(BUS_LOG_LINE), "log_line");
    ck_assert_str_eq(bus_event_name(BUS_N_EVENTS), "?");
    /* a NULL bus is nobody listening */
    bus_publish_cat_added(NULL, &(bus_category_t){ .name = "x" });
    bus_free(b);
    bus_free(NULL);
}
END_TEST

/* A subscriber that publishes: the inner event reaches everyone before
 * the outer one goes on to the next subscriber. */
static bus_t *nested_bus;

static void
on_cat_publishing(void *ctx, const bus_category_t *ev)
{
    note(ctx, ev->name);
    if (strcmp(ev->name, "outer") == 0)
        bus_publish_log_line(nested_bus, &(bus_log_t){ .text = "inner" });
}

START_TEST(test_nested)
{
    nested_bus = bus_new();
    trail[0] = '\0';
    bus_on_cat_added(nested_bus, on_cat_publishing, "a");
    bus_on_cat_added(nested_bus, on_cat, "b");
    bus_on_log_line(nested_bus, on_log, "c");
    bus_publish_cat_added(nested_bus, &(bus_category_t){ .name = "outer" });
    ck_assert_str_eq(trail, "a:outer c:inner b:outer ");
    bus_free(nested_bus);
}
END_TEST

/* A subscriber that publishes what it hears would never end: deliveries
 * stop at BUS_MAX_DEPTH. */
static int loops;

static void
on_log_loop(void *ctx, const bus_log_t *ev)
{
    loops++;
    bus_publish_log_line(ctx, ev);
}

START_TEST(test_depth_limit)
{
    bus_t *b = bus_new();
    loops = 0;
    bus_on_log_line(b, on_log_loop, b);
    bus_publish_log_line(b, &(bus_log_t){ .text = "again" });
    ck_assert_int_eq(loops, BUS_MAX_DEPTH);
    bus_free(b);
}
END_TEST

/* Unsubscribing during a delivery: the rest of that delivery skips the
 * removed subscriber, and later ones do not hear it. */
static bus_t *unsub_bus;

static void
on_cat_unsubscribing(void *ctx, const bus_category_t *ev)
{
    note(ctx, ev->name);
    bus_unsubscribe_ctx(unsub_bus, "z");
}

START_TEST(test_unsubscribe)
{
    unsub_bus = bus_new();
    trail[0] = '\0';
    bus_on_cat_added(unsub_bus, on_cat_unsubscribing, "a");
    bus_on_cat_added(unsub_bus, on_cat, "z");
    bus_on_log_line(unsub_bus, on_log, "z");
    bus_on_cat_added(unsub_bus, on_cat, "b");
    bus_publish_cat_added(unsub_bus, &(bus_category_t){ .name = "one" });
    bus_publish_cat_added(unsub_bus, &(bus_category_t){ .name = "two" });
    bus_publish_log_line(unsub_bus, &(bus_log_t){ .text = "gone" });
    ck_assert_str_eq(trail, "a:one b:one a:two b:two ");
    bus_free(unsub_bus);
}
END_TEST

/* Log lines reach the bus on the loop thread, also when another thread
 * logged them, in order; a subscriber sees each once. */
static int lines_seen;
static char last_line[128];

static void
on_log_count(void *ctx, const bus_log_t *ev)
{
    (void)ctx;
    lines_seen++;
    snprintf(last_line, sizeof last_line, "%s", ev->text);
}

static void *
log_from_thread(void *arg)
{
    (void)arg;
    log_warn("from a worker thread");
    return NULL;
}

START_TEST(test_logtap)
{
    evthread_use_pthreads();
    struct event_base *base = event_base_new();
    bus_t *b = bus_new();
    lines_seen = 0;
    bus_on_log_line(b, on_log_count, NULL);
    logtap_t *t = logtap_new(base, b);
    log_info("on the loop thread");
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, log_from_thread, NULL), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(lines_seen, 0); /* not before the loop runs */
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(lines_seen, 2);
    ck_assert_str_eq(last_line, "from a worker thread");
    /* more than the queue holds: the rest is counted, in one line */
    for (int i = 0; i < LOGTAP_MAX_QUEUED + 10; i++)
        log_info("line %d", i);
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(lines_seen, 2 + LOGTAP_MAX_QUEUED + 1);
    ck_assert_ptr_nonnull(strstr(last_line, "10 log lines not published"));
    logtap_free(t);
    log_info("after the tap is gone");
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(lines_seen, 2 + LOGTAP_MAX_QUEUED + 1);
    bus_free(b);
    event_base_free(base);
}
END_TEST

static Suite *
bus_suite(void)
{
    Suite *s = suite_create("bus");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_order_and_payload);
    tcase_add_test(tc, test_nested);
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_unsubscribe);
    tcase_add_test(tc, test_logtap);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(bus_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
