/* check_ipblock.c: unit tests for daemon/net/ipblock.c with a real event
 * loop and worker pool: a list loaded from a file, the table kept when a
 * reload fails, a new source or level loaded again, an emptied source
 * dropping the table, hits counted by kind. */
#include "config.h"

#include <check.h>
#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/core/daemon.h"
#include "daemon/core/worker.h"
#include "daemon/net/ipblock.h"
#include "daemon/net/net.h"
#include "util/conf.h"
#include "util/xalloc.h"

static muleteerd_t d;
static char dir[] = "/tmp/check_ipblock.XXXXXX";
static char *list_path;

static void
write_list(const char *text)
{
    FILE *f = fopen(list_path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void
setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    list_path = xasprintf("%s/ipfilter.dat", dir);
    write_list("1.2.3.0 - 1.2.3.255 , 0 , a\nbad line\nx:9.9.9.9-9.9.9.9\n"
               "5.5.5.5 - 5.5.5.5 , 150 , b\n");
    memset(&d, 0, sizeof d);
    d.base = event_base_new();
    d.workers = worker_pool_new(d.base, 1);
    d.conf = conf_new();
    ck_assert_int_eq(conf_set(d.conf, "ipfilter", list_path, NULL), 0);
}

static void
teardown(void)
{
    worker_pool_free(d.workers);
    ipblock_free(d.ipfilter);
    conf_free(d.conf);
    event_base_free(d.base);
    unlink(list_path);
    rmdir(dir);
    strcpy(dir, "/tmp/check_ipblock.XXXXXX");
    free(list_path);
}

static uint32_t
ip(const char *s)
{
    uint32_t v = 0;
    ck_assert_int_eq(net_ip_parse(s, &v), 0);
    return v;
}

static json_object *
status(void)
{
    return ipblock_to_json(d.ipfilter);
}

static long long
num(json_object *o, const char *k)
{
    return json_object_get_int64(json_object_object_get(o, k));
}

START_TEST(test_load_swap_keep)
{
    d.ipfilter = ipblock_new(&d);
    ck_assert(!ipblock_blocks(d.ipfilter, ip("1.2.3.4"), IPBLOCK_SOURCE)); /* still loading */
    ck_assert_int_eq(worker_pool_drain(d.workers, 5000), 0);
    json_object *o = status();
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "state")), "loaded");
    ck_assert_int_eq(num(o, "ranges"), 2);
    ck_assert_int_eq(num(o, "bad_lines"), 1);
    ck_assert_int_eq(num(o, "loads"), 1);
    json_object_put(o);
    ck_assert(ipblock_blocks(d.ipfilter, ip("1.2.3.4"), IPBLOCK_SOURCE));
    ck_assert(ipblock_blocks(d.ipfilter, ip("9.9.9.9"), IPBLOCK_PEER_IN));
    ck_assert(ipblock_blocks(d.ipfilter, ip("9.9.9.9"), IPBLOCK_PEER_IN));
    ck_assert(!ipblock_blocks(d.ipfilter, ip("5.5.5.5"), IPBLOCK_SERVER)); /* level 150 */
    ck_assert(!ipblock_blocks(d.ipfilter, ip("1.2.4.0"), IPBLOCK_SERVER));
    o = status();
    json_object *h = json_object_object_get(o, "hits");
    ck_assert_int_eq(num(h, "sources"), 1);
    ck_assert_int_eq(num(h, "peers_in"), 2);
    ck_assert_int_eq(num(h, "servers"), 0);
    ck_assert_int_eq(num(h, "total"), 3);
    json_object_put(o);

    /* a reload of a list that is gone fails and keeps the table */
    unlink(list_path);
    ck_assert_int_eq(ipblock_reload(d.ipfilter, NULL), 0);
    ck_assert_int_eq(worker_pool_drain(d.workers, 5000), 0);
    o = status();
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "state")), "failed");
    ck_assert_ptr_nonnull(json_object_object_get(o, "error"));
    ck_assert_int_eq(num(o, "ranges"), 2);
    json_object_put(o);
    ck_assert(ipblock_blocks(d.ipfilter, ip("1.2.3.4"), IPBLOCK_SOURCE));

    /* a garbage list fails too */
    write_list("<html>\n</html>\n");
    ck_assert_int_eq(ipblock_reload(d.ipfilter, NULL), 0);
    ck_assert_int_eq(worker_pool_drain(d.workers, 5000), 0);
    ck_assert(ipblock_blocks(d.ipfilter, ip("1.2.3.4"), IPBLOCK_SOURCE));

    /* a higher level: loaded again on a configuration change */
    write_list("5.5.5.5 - 5.5.5.5 , 150 , b\n");
    ck_assert_int_eq(conf_set(d.conf, "ipfilter_level", "200", NULL), 0);
    ipblock_conf_changed(d.ipfilter);
    ck_assert_int_eq(worker_pool_drain(d.workers, 5000), 0);
    ck_assert(ipblock_blocks(d.ipfilter, ip("5.5.5.5"), IPBLOCK_SERVER));
    ck_assert(!ipblock_blocks(d.ipfilter, ip("1.2.3.4"), IPBLOCK_SOURCE));

    /* no source: nothing filtered, and reload says why */
    ck_assert_int_eq(conf_set(d.conf, "ipfilter", "", NULL), 0);
    ipblock_conf_changed(d.ipfilter);
    ck_assert(!ipblock_blocks(d.ipfilter, ip("5.5.5.5"), IPBLOCK_SERVER));
    mt_error_t *err = NULL;
    ck_assert_int_eq(ipblock_reload(d.ipfilter, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_free(err);
    o = status();
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "state")), "none");
    json_object_put(o);
}
END_TEST

START_TEST(test_reload_while_loading)
{
    d.ipfilter = ipblock_new(&d);
    ck_assert_int_eq(ipblock_reload(d.ipfilter, NULL), 0); /* queued after the first */
    ck_assert_int_eq(worker_pool_drain(d.workers, 5000), 0);
    json_object *o = status();
    ck_assert_int_eq(num(o, "loads"), 2);
    json_object_put(o);
    ck_assert(!ipblock_blocks(NULL, ip("1.2.3.4"), IPBLOCK_SOURCE));
}
END_TEST

int
main(void)
{
    evthread_use_pthreads();
    Suite *s = suite_create("ipblock");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_load_swap_keep);
    tcase_add_test(tc, test_reload_while_loading);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
