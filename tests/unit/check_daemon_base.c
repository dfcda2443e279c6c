/* check_daemon_base.c: unit tests for the daemon's small building blocks:
 * worker pool, user hash, IPv4 classes and shared files (directories and
 * single pinned files). */
#include "config.h"

#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/core/identity.h"
#include "daemon/core/worker.h"
#include "daemon/net/net.h"
#include "daemon/transfer/shared.h"
#include "ed2k/hash.h"
#include "util/xalloc.h"

static char tmp[64];

static void
tmp_setup(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/check_daemon_base.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void
tmp_teardown(void)
{
    char *cmd = xasprintf("rm -rf %s", tmp);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* ---- worker pool ---- */

typedef struct {
    int value;
    pthread_t ran_on;
    pthread_t done_on;
    int done;
    int cancelled;
} wjob_t;

static void
wrun(void *arg)
{
    wjob_t *j = arg;
    j->ran_on = pthread_self();
    usleep(1000);
    j->value *= 2;
}

static void
wdone(void *arg, int cancelled)
{
    wjob_t *j = arg;
    j->done_on = pthread_self();
    j->done++;
    j->cancelled = cancelled;
}

START_TEST(test_worker_pool)
{
    struct event_base *base = event_base_new();
    worker_pool_t *p = worker_pool_new(base, 3);
    wjob_t jobs[20];
    for (int i = 0; i < 20; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].value = i;
        worker_submit(p, wrun, wdone, &jobs[i]);
    }
    ck_assert_int_eq(worker_pending(p), 20);
    ck_assert_int_eq(worker_pool_drain(p, 5000), 0);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(jobs[i].value, 2 * i);
        ck_assert_int_eq(jobs[i].done, 1);
        ck_assert_int_eq(jobs[i].cancelled, 0);
        /* run on a worker, done on this (the loop) thread */
        ck_assert(!pthread_equal(jobs[i].ran_on, pthread_self()));
        ck_assert(pthread_equal(jobs[i].done_on, pthread_self()));
    }
    /* jobs still queued at free are cancelled, each done exactly once */
    for (int i = 0; i < 20; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        worker_submit(p, wrun, wdone, &jobs[i]);
    }
    worker_pool_free(p);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(jobs[i].done, 1);
    event_base_free(base);
}
END_TEST

/* ---- identity ---- */

START_TEST(test_identity)
{
    char *path = xasprintf("%s/userhash", tmp);
    uint8_t a[16], b[16];
    mt_error_t *err = NULL;
    ck_assert_int_eq(identity_load(path, a, &err), 0);
    ck_assert_int_eq(a[5], 14);
    ck_assert_int_eq(a[14], 111);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(identity_load(path, b, &err), 0);
    ck_assert_mem_eq(a, b, 16); /* stable across restarts */
    FILE *f = fopen(path, "w");
    fputs("not a hash\n", f);
    fclose(f);
    ck_assert_int_eq(identity_load(path, b, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "does not hold a user hash"));
    mt_error_clear(&err);
    /* a bad file is never replaced */
    f = fopen(path, "r");
    char buf[32] = { 0 };
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    ck_assert_str_eq(buf, "not a hash\n");
    free(path);
}
END_TEST

/* ---- net ---- */

START_TEST(test_net)
{
    uint32_t ip;
    char buf[16];
    ck_assert_int_eq(net_ip_parse("127.0.0.1", &ip), 0);
    ck_assert_uint_eq(ip, 0x0100007f); /* wire form, §0 */
    ck_assert_str_eq(net_ip_str(ip, buf), "127.0.0.1");
    ck_assert(net_is_reserved(ip));
    ck_assert(!net_is_lowid(ip));
    ck_assert(net_is_lowid(12345));
    ck_assert_int_eq(net_ip_parse("10.1.2.3", &ip), 0);
    ck_assert(net_is_lan(ip) && !net_is_reserved(ip));
    ck_assert_int_eq(net_ip_parse("172.31.0.1", &ip), 0);
    ck_assert(net_is_lan(ip));
    ck_assert_int_eq(net_ip_parse("172.32.0.1", &ip), 0);
    ck_assert(!net_is_lan(ip));
    ck_assert_int_eq(net_ip_parse("192.0.2.7", &ip), 0);
    ck_assert(net_is_reserved(ip));
    ck_assert_int_eq(net_ip_parse("224.0.0.1", &ip), 0);
    ck_assert(net_is_reserved(ip));
    ck_assert_int_eq(net_ip_parse("8.8.4.4", &ip), 0);
    ck_assert(!net_is_reserved(ip) && !net_is_lan(ip));
    ck_assert_int_eq(net_ip_parse("1.2.3", &ip), -1);
    ck_assert_int_eq(net_ip_parse("localhost", &ip), -1);
    struct in_addr a = net_ip_to_in_addr(0x0100007f);
    ck_assert_uint_eq(net_ip_from_in_addr(a), 0x0100007f);
}
END_TEST

/* ---- shared files ---- */

static void
write_file(const char *path, size_t size, unsigned seed)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    srand(seed);
    for (size_t i = 0; i < size; i++)
        fputc(rand() & 0xff, f);
    fclose(f);
}

static int scans_done;

static void
on_scan(void *ctx)
{
    (void)ctx;
    scans_done++;
}

static void
scan_and_wait(struct event_base *base, worker_pool_t *pool, shared_t *s)
{
    int before = scans_done;
    shared_rescan(s, on_scan, NULL);
    for (int i = 0; i < 500 && scans_done == before; i++)
        worker_pool_drain(pool, 20);
    (void)base;
    ck_assert_int_eq(scans_done, before + 1);
}

START_TEST(test_shared_scan)
{
    struct event_base *base = event_base_new();
    worker_pool_t *pool = worker_pool_new(base, 2);
    char *dir1 = xasprintf("%s/share", tmp), *dir2 = xasprintf("%s/incoming", tmp);
    mkdir(dir1, 0755);
    mkdir(dir2, 0755);
    char *a = xasprintf("%s/a.bin", dir1), *b = xasprintf("%s/b.bin", dir2);
    char *hidden = xasprintf("%s/.partial", dir1), *empty = xasprintf("%s/empty", dir1);
    write_file(a, 10000000, 1); /* two parts */
    write_file(b, 5000, 2);
    write_file(hidden, 100, 3);
    write_file(empty, 0, 4);
    char *sub = xasprintf("%s/subdir", dir1);
    mkdir(sub, 0755);
    /* names that are not strict UTF-8 (a surrogate, an overlong '/') */
    char *bad1 = xasprintf("%s/tv\xed\xa0\x80.bin", dir1), *bad2 = xasprintf("%s/x\xc0\xaf", dir1);
    write_file(bad1, 3000, 6);
    write_file(bad2, 3000, 7);
    char *cache = xasprintf("%s/known.json", tmp);

    shared_t *s = shared_new(base, pool, cache, dir1, dir2);
    scan_and_wait(base, pool, s);
    ck_assert_int_eq(shared_count(s), 2); /* no hidden, empty, badly named or directory */
    ed2k_hash_result_t ra, rb;
    ck_assert_int_eq(ed2k_hash_file(a, &ra, NULL), 0);
    ck_assert_int_eq(ed2k_hash_file(b, &rb, NULL), 0);
    shared_file_t *fa = shared_find(s, ra.file_hash);
    ck_assert_ptr_nonnull(fa);
    ck_assert_str_eq(fa->path, a);
    ck_assert_str_eq(fa->name, "a.bin");
    ck_assert_uint_eq(fa->size, 10000000);
    ck_assert_uint_eq(fa->n_part_hashes, 2);
    ck_assert_mem_eq(fa->part_hashes, ra.part_hashes, 32);
    ck_assert_mem_eq(fa->aich, ra.aich_root, 20);
    ck_assert_ptr_nonnull(shared_find(s, rb.file_hash));
    ck_assert_uint_eq(shared_last_hashed(s), 2);
    shared_free(s);

    /* A restart reads the cache and hashes nothing. */
    s = shared_new(base, pool, cache, dir1, dir2);
    scan_and_wait(base, pool, s);
    ck_assert_int_eq(shared_count(s), 2);
    ck_assert_uint_eq(shared_last_hashed(s), 0);
    ck_assert_ptr_nonnull(shared_find(s, ra.file_hash));
    ck_assert_uint_ne(shared_generation(s), 0);

    /* A changed file is hashed again; a removed one disappears. */
    sleep(1);
    write_file(b, 6000, 5);
    unlink(a);
    scan_and_wait(base, pool, s);
    ck_assert_int_eq(shared_count(s), 1);
    ck_assert_ptr_null(shared_find(s, ra.file_hash));
    ck_assert_ptr_null(shared_find(s, rb.file_hash));
    ed2k_hash_result_t rb2;
    ck_assert_int_eq(ed2k_hash_file(b, &rb2, NULL), 0);
    ck_assert_ptr_nonnull(shared_find(s, rb2.file_hash));
    ck_assert_uint_eq(shared_last_hashed(s), 1);
    uint64_t gen = shared_generation(s);

    /* shared_add lists a file at once, also during a scan */
    shared_add(s, a, ra.size, 0, &ra);
    ck_assert_ptr_nonnull(shared_find(s, ra.file_hash));
    ck_assert_uint_ne(shared_generation(s), gen);
    ck_assert_int_eq(shared_count(s), 2);

    /* a rescan requested during a scan runs once more afterwards */
    shared_rescan(s, on_scan, NULL);
    int before = scans_done;
    shared_rescan(s, on_scan, NULL);
    for (int i = 0; i < 500 && scans_done < before + 2; i++)
        worker_pool_drain(pool, 20);
    ck_assert_int_eq(scans_done, before + 2);

    shared_free(s);
    worker_pool_free(pool);
    event_base_free(base);
    ed2k_hash_result_clear(&ra);
    ed2k_hash_result_clear(&rb);
    ed2k_hash_result_clear(&rb2);
    unlink(bad1);
    unlink(bad2);
    free(bad1), free(bad2);
    free(dir1), free(dir2), free(a), free(b), free(hidden), free(empty), free(sub), free(cache);
}
END_TEST

/* The shared directories change at run time (config-set): the next scan
 * lists the new directories' files and no longer the old ones'. */
START_TEST(test_shared_set_dirs)
{
    struct event_base *base = event_base_new();
    worker_pool_t *pool = worker_pool_new(base, 1);
    char *d1 = xasprintf("%s/old", tmp), *d2 = xasprintf("%s/new", tmp);
    mkdir(d1, 0755);
    mkdir(d2, 0755);
    char *x = xasprintf("%s/x.bin", d1), *y = xasprintf("%s/y.bin", d2);
    write_file(x, 3000, 21);
    write_file(y, 4000, 22);
    ed2k_hash_result_t rx, ry;
    ck_assert_int_eq(ed2k_hash_file(x, &rx, NULL), 0);
    ck_assert_int_eq(ed2k_hash_file(y, &ry, NULL), 0);
    char *cache = xasprintf("%s/dirs.json", tmp);
    shared_t *s = shared_new(base, pool, cache, d1, NULL);
    scan_and_wait(base, pool, s);
    ck_assert_ptr_nonnull(shared_find(s, rx.file_hash));
    ck_assert_ptr_null(shared_find(s, ry.file_hash));
    /* while a scan runs: it keeps its own copy of the list it scans */
    shared_rescan(s, NULL, NULL);
    shared_set_dirs(s, d2, NULL); /* a scan after it */
    scan_and_wait(base, pool, s); /* waits for the one after it */
    ck_assert_int_eq(shared_count(s), 1);
    ck_assert_ptr_null(shared_find(s, rx.file_hash));
    ck_assert_ptr_nonnull(shared_find(s, ry.file_hash));
    shared_free(s);
    worker_pool_free(pool);
    event_base_free(base);
    ed2k_hash_result_clear(&rx);
    ed2k_hash_result_clear(&ry);
    free(d1), free(d2), free(x), free(y), free(cache);
}
END_TEST

/* Single files outside the shared directories (finished downloads in a
 * category directory) are listed when they have the expected hash. */
START_TEST(test_shared_pinned)
{
    struct event_base *base = event_base_new();
    worker_pool_t *pool = worker_pool_new(base, 1);
    char *share = xasprintf("%s/share", tmp), *cat = xasprintf("%s/cat", tmp);
    mkdir(share, 0755);
    mkdir(cat, 0755);
    char *in_share = xasprintf("%s/s.bin", share), *pinned = xasprintf("%s/p.bin", cat);
    char *other = xasprintf("%s/o.bin", cat), *gone = xasprintf("%s/gone.bin", cat);
    write_file(in_share, 3000, 11);
    write_file(pinned, 4000, 12);
    write_file(other, 5000, 13);
    ed2k_hash_result_t rs, rp, ro;
    ck_assert_int_eq(ed2k_hash_file(in_share, &rs, NULL), 0);
    ck_assert_int_eq(ed2k_hash_file(pinned, &rp, NULL), 0);
    ck_assert_int_eq(ed2k_hash_file(other, &ro, NULL), 0);
    char *cache = xasprintf("%s/known.json", tmp);
    shared_t *s = shared_new(base, pool, cache, share, NULL);
    ck_assert(!shared_has_scanned(s));
    shared_pin_t pins[4] = {
        { pinned, { 0 } },
        { other, { 0 } },    /* another hash than expected: not listed */
        { gone, { 0 } },     /* no such file */
        { in_share, { 0 } }, /* in a shared directory already: listed once */
    };
    memcpy(pins[0].hash, rp.file_hash, 16);
    memcpy(pins[1].hash, rs.file_hash, 16);
    memcpy(pins[2].hash, rp.file_hash, 16);
    memcpy(pins[3].hash, rs.file_hash, 16);
    shared_set_files(s, pins, 4);
    scan_and_wait(base, pool, s);
    ck_assert(shared_has_scanned(s));
    ck_assert_int_eq(shared_count(s), 2);
    ck_assert(shared_has_file(s, rp.file_hash, pinned));
    ck_assert(shared_has_file(s, rs.file_hash, in_share));
    ck_assert(!shared_has_file(s, rs.file_hash, other));
    ck_assert(!shared_has_file(s, ro.file_hash, other));
    ck_assert(!shared_has_file(s, rp.file_hash, in_share));
    ck_assert_ptr_null(shared_find(s, ro.file_hash));
    /* a file that goes is no longer listed; unpinned ones go too */
    unlink(pinned);
    scan_and_wait(base, pool, s);
    ck_assert(!shared_has_file(s, rp.file_hash, pinned));
    ck_assert_int_eq(shared_count(s), 1);
    write_file(pinned, 4000, 12);
    shared_set_files(s, NULL, 0);
    scan_and_wait(base, pool, s);
    ck_assert(!shared_has_file(s, rp.file_hash, pinned));
    shared_free(s);
    worker_pool_free(pool);
    event_base_free(base);
    ed2k_hash_result_clear(&rs);
    ed2k_hash_result_clear(&rp);
    ed2k_hash_result_clear(&ro);
    free(share), free(cat), free(in_share), free(pinned), free(other), free(gone), free(cache);
}
END_TEST

START_TEST(test_shared_bad_cache)
{
    struct event_base *base = event_base_new();
    worker_pool_t *pool = worker_pool_new(base, 1);
    char *dir = xasprintf("%s/share", tmp);
    mkdir(dir, 0755);
    char *a = xasprintf("%s/a.bin", dir);
    write_file(a, 3000, 9);
    char *cache = xasprintf("%s/known.json", tmp);
    /* garbage, then a cache entry with a lying hash for the right path/size/mtime */
    FILE *f = fopen(cache, "w");
    fputs("{\"version\":1,\"files\":[{\"path\":\"x\"}, 5, null", f);
    fclose(f);
    shared_t *s = shared_new(base, pool, cache, dir, NULL);
    scan_and_wait(base, pool, s);
    ck_assert_int_eq(shared_count(s), 1);
    shared_free(s);
    struct stat st;
    stat(a, &st);
    f = fopen(cache, "w");
    fprintf(f, "{\"version\":1,\"files\":[{\"path\":\"%s\",\"size\":3000,\"mtime\":%lld,"
               "\"hash\":\"zz\",\"aich\":\"00\",\"parts\":[]}]}", a, (long long)st.st_mtime);
    fclose(f);
    s = shared_new(base, pool, cache, dir, NULL);
    scan_and_wait(base, pool, s);
    ed2k_hash_result_t r;
    ed2k_hash_file(a, &r, NULL);
    ck_assert_ptr_nonnull(shared_find(s, r.file_hash)); /* re-hashed, not trusted */
    ed2k_hash_result_clear(&r);
    shared_free(s);
    worker_pool_free(pool);
    event_base_free(base);
    free(dir), free(a), free(cache);
}
END_TEST

int
main(void)
{
    evthread_use_pthreads();
    Suite *s = suite_create("daemon_base");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, test_worker_pool);
    tcase_add_test(tc, test_identity);
    tcase_add_test(tc, test_net);
    tcase_add_test(tc, test_shared_scan);
    tcase_add_test(tc, test_shared_bad_cache);
    tcase_add_test(tc, test_shared_pinned);
    tcase_add_test(tc, test_shared_set_dirs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
