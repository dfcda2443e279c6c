/* check_fdcache.c: unit tests for daemon/transfer/fdcache.c: least-recently-used
 * eviction, borrowed descriptors never closed, running out of descriptors,
 * nothing leaked (counted in /proc/self/fd). */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon/transfer/fdcache.h"

static char dir[64];
static char paths[6][128];
static int owners[6]; /* their addresses are the owners */

static void
setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/check_fdcache.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (int i = 0; i < 6; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/f%d", dir, i);
        int fd = open(paths[i], O_RDWR | O_CREAT, 0644);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
}

static void
teardown(void)
{
    for (int i = 0; i < 6; i++)
        unlink(paths[i]);
    rmdir(dir);
}

static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n - 1;
}

/* The path fd is open on. */
static const char *
fd_path(int fd)
{
    static char target[4096];
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    return target;
}

/* Borrows i's descriptor and gives it back at once. */
static int
touch(fdcache_t *c, int i)
{
    int fd = fdc_checkout(c, &owners[i], paths[i], O_RDWR);
    ck_assert_int_ge(fd, 0);
    fdc_checkin(c, &owners[i]);
    return fd;
}

START_TEST(test_lru)
{
    int base = count_fds();
    fdcache_t *c = fdc_new(2);
    ck_assert_uint_eq(fdc_max(c), 2);
    int f0 = touch(c, 0);
    touch(c, 1);
    ck_assert_int_eq(touch(c, 0), f0); /* cached: the same descriptor */
    ck_assert_str_eq(fd_path(f0), paths[0]);
    touch(c, 2);                       /* 1 was the least recently used */
    ck_assert_uint_eq(fdc_open_count(c), 2);
    ck_assert_int_eq(count_fds(), base + 2);
    ck_assert_int_eq(touch(c, 0), f0); /* 0 is still open */
    int f2 = touch(c, 2);
    touch(c, 1);                       /* now 0 goes */
    ck_assert_int_eq(touch(c, 2), f2);
    ck_assert_str_eq(fd_path(f2), paths[2]);
    ck_assert_int_eq(count_fds(), base + 2);
    fdc_set_max(c, 1);
    ck_assert_uint_eq(fdc_open_count(c), 1);
    ck_assert_int_eq(touch(c, 2), f2); /* the newest stayed */
    fdc_close(c, &owners[2]);
    ck_assert_uint_eq(fdc_open_count(c), 0);
    fdc_close(c, &owners[5]); /* not open: nothing */
    fdc_free(c);
    fdc_free(NULL);
    ck_assert_int_eq(count_fds(), base);
}
END_TEST

START_TEST(test_borrowed_never_closed)
{
    int base = count_fds();
    fdcache_t *c = fdc_new(1);
    int f0 = fdc_checkout(c, &owners[0], paths[0], O_RDWR);
    ck_assert_int_ge(f0, 0);
    /* borrowed again by its owner: counted */
    ck_assert_int_eq(fdc_checkout(c, &owners[0], paths[0], O_RDWR), f0);
    /* the cache is full of borrowed descriptors: it goes over its maximum
     * rather than close one under its borrower */
    int f1 = fdc_checkout(c, &owners[1], paths[1], O_RDWR);
    ck_assert_int_ge(f1, 0);
    ck_assert_uint_eq(fdc_open_count(c), 2);
    fdc_close(c, &owners[0]); /* borrowed: refused */
    ck_assert_str_eq(fd_path(f0), paths[0]);
    char b = 'x';
    ck_assert_int_eq(pwrite(f0, &b, 1, 0), 1);
    fdc_checkin(c, &owners[0]);
    ck_assert_str_eq(fd_path(f0), paths[0]); /* still borrowed once */
    fdc_checkin(c, &owners[0]);
    /* back under the maximum once the extra one is idle */
    fdc_checkin(c, &owners[1]);
    ck_assert_uint_eq(fdc_open_count(c), 1);
    fdc_checkin(c, &owners[3]); /* unknown owner: nothing */
    /* another path or other flags: reopened */
    int g = fdc_checkout(c, &owners[1], paths[4], O_RDONLY);
    ck_assert_int_ge(g, 0);
    ck_assert_str_eq(fd_path(g), paths[4]);
    ck_assert_int_eq(fcntl(g, F_GETFL) & O_ACCMODE, O_RDONLY);
    ck_assert(fcntl(g, F_GETFD) & FD_CLOEXEC);
    fdc_checkin(c, &owners[1]);
    ck_assert_uint_eq(fdc_open_count(c), 1);
    /* a file that cannot be opened */
    char *missing = "/nonexistent/muleteer-fdcache";
    ck_assert_int_eq(fdc_checkout(c, &owners[2], missing, O_RDWR), -1);
    ck_assert_int_eq(errno, ENOENT);
    fdc_free(c);
    ck_assert_int_eq(count_fds(), base);
}
END_TEST

/* With every descriptor of the process in use, opening one closes idle
 * descriptors of the cache, and only those. */
START_TEST(test_out_of_descriptors)
{
    int base = count_fds();
    fdcache_t *c = fdc_new(10);
    for (int i = 0; i < 4; i++)
        touch(c, i);
    int f0 = fdc_checkout(c, &owners[0], paths[0], O_RDWR); /* borrowed */
    ck_assert_uint_eq(fdc_open_count(c), 4);
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)count_fds() + 3;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
    int hog[8], n_hog = 0;
    while (n_hog < 8 && (hog[n_hog] = open("/dev/null", O_RDONLY)) >= 0)
        n_hog++;
    ck_assert_int_eq(open("/dev/null", O_RDONLY), -1);
    ck_assert_int_eq(errno, EMFILE);
    /* a new entry of the cache */
    ck_assert_int_ge(touch(c, 4), 0);
    /* a descriptor the caller keeps */
    int own = fdc_open(c, paths[5], O_RDONLY, 0);
    ck_assert_int_ge(own, 0);
    /* the two least recently used idle ones went: 1, then 2 */
    ck_assert_uint_eq(fdc_open_count(c), 3);
    ck_assert_str_eq(fd_path(f0), paths[0]);
    /* nothing idle left to give up: EMFILE */
    ck_assert_int_ge(fdc_checkout(c, &owners[3], paths[3], O_RDWR), 0);
    ck_assert_int_ge(fdc_checkout(c, &owners[4], paths[4], O_RDWR), 0);
    ck_assert_int_eq(fdc_open(c, paths[1], O_RDONLY, 0), -1);
    ck_assert_int_eq(errno, EMFILE);
    ck_assert_int_eq(fdc_open(NULL, paths[1], O_RDONLY, 0), -1);
    ck_assert_uint_eq(fdc_open_count(c), 3);
    fdc_checkin(c, &owners[3]);
    fdc_checkin(c, &owners[4]);
    close(own);
    while (n_hog > 0)
        close(hog[--n_hog]);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    fdc_checkin(c, &owners[0]);
    fdc_free(c);
    ck_assert_int_eq(count_fds(), base);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("fdcache");
    TCase *tc = tcase_create("fdcache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_lru);
    tcase_add_test(tc, test_borrowed_never_closed);
    tcase_add_test(tc, test_out_of_descriptors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
