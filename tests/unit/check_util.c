/* check_util.c: unit tests for lib/util (errors, configuration file,
 * logging). */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/conf.h"
#include "util/error.h"
#include "util/file.h"
#include "util/log.h"
#include "util/xalloc.h"

START_TEST(test_error_first_wins)
{
    mt_error_t *err = NULL;
    mt_error_set(&err, MT_ERR_INVALID, "first %d", 1);
    mt_error_set(&err, MT_ERR_IO, "second");
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    ck_assert_str_eq(err->message, "first 1");
    mt_error_prefix(&err, "ctx %s", "x");
    ck_assert_str_eq(err->message, "ctx x: first 1");
    mt_error_clear(&err);
    ck_assert_ptr_null(err);
    mt_error_set(NULL, MT_ERR_IO, "ignored");
}
END_TEST

START_TEST(test_conf_defaults)
{
    conf_t *c = conf_new();
    ck_assert_int_eq(conf_get_int(c, "tcp_port"), 4662);
    ck_assert_int_eq(conf_get_int(c, "udp_port"), 4672);
    ck_assert_str_eq(conf_get_str(c, "control_socket"), "./run/muleteerd.sock");
    ck_assert_str_eq(conf_get_str(c, "log_level"), "info");
    ck_assert(strlen(conf_get_str(c, "node_name")) > 0);
    conf_free(c);
}
END_TEST

START_TEST(test_conf_parse)
{
    conf_t *c = conf_new();
    mt_error_t *err = NULL;
    const char *text = "# comment\n\n; other comment\n"
                       "tcp_port = 4000\n"
                       "  state_dir=/srv/mule  \r\n"
                       "web_password = \"  spaced # not a comment \"\n"
                       "log_level=DEBUG\n";
    ck_assert_int_eq(conf_load_string(c, text, "t.conf", &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(conf_get_int(c, "tcp_port"), 4000);
    ck_assert_str_eq(conf_get_str(c, "state_dir"), "/srv/mule");
    ck_assert_str_eq(conf_get_str(c, "control_socket"), "/srv/mule/run/muleteerd.sock");
    ck_assert_str_eq(conf_get_str(c, "web_password"), "  spaced # not a comment ");
    conf_free(c);
}
END_TEST

static void
expect_conf_error(const char *text, const char *needle)
{
    conf_t *c = conf_new();
    mt_error_t *err = NULL;
    ck_assert_int_eq(conf_load_string(c, "tcp_port = 1234\n", "a.conf", NULL), 0);
    ck_assert_int_eq(conf_load_string(c, text, "b.conf", &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err->message, needle) != NULL, "message \"%s\" lacks \"%s\"",
                  err->message, needle);
    /* A failed load changes nothing. */
    ck_assert_int_eq(conf_get_int(c, "tcp_port"), 1234);
    mt_error_free(err);
    conf_free(c);
}

START_TEST(test_conf_errors)
{
    expect_conf_error("tcp_port = 5\nbogus_key = 1\n", "b.conf:2: unknown key \"bogus_key\"");
    expect_conf_error("tcp_port = 70000\n", "b.conf:1: tcp_port: expected an integer from 1 to 65535");
    expect_conf_error("tcp_port = 12ab\n", "b.conf:1: tcp_port");
    expect_conf_error("tcp_port =\n", "b.conf:1: tcp_port");
    expect_conf_error("\n\njust some words\n", "b.conf:3: expected \"key = value\"");
    expect_conf_error("tcp_port = 1\ntcp_port = 2\n", "b.conf:2: duplicate key \"tcp_port\" (first set on line 1)");
    expect_conf_error("log_level = loud\n", "b.conf:1: log_level: expected error, warn, info or debug");
    expect_conf_error("Tcp_Port = 1\n", "unknown key");
    expect_conf_error("web_password = a\x01" "b\n", "control characters");
}
END_TEST

START_TEST(test_conf_file)
{
    char dir[] = "/tmp/check_util.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/muleteer.conf", dir);
    FILE *f = fopen(path, "w");
    fputs("status_interval = 2\n", f);
    fclose(f);
    conf_t *c = conf_new();
    mt_error_t *err = NULL;
    ck_assert_int_eq(conf_load_file(c, path, &err), 0);
    ck_assert_int_eq(conf_get_int(c, "status_interval"), 2);
    ck_assert_str_eq(conf_get_str(c, "state_dir"), dir);
    ck_assert_str_eq(conf_path(c), path);
    ck_assert_int_eq(conf_load_file(c, "/nonexistent/x.conf", &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_IO);
    mt_error_clear(&err);
    ck_assert_int_eq(conf_set(c, "tcp_port", "0", &err), -1);
    mt_error_clear(&err);
    ck_assert_int_eq(conf_set(c, "tcp_port", "99", &err), 0);
    ck_assert_int_eq(conf_get_int(c, "tcp_port"), 99);
    conf_free(c);
    unlink(path);
    rmdir(dir);
    free(path);
}
END_TEST

START_TEST(test_log_file)
{
    char dir[] = "/tmp/check_log.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/x.log", dir);
    ck_assert_int_eq(log_open(path, NULL), 0);
    log_set_level(LOG_LEVEL_INFO);
    log_info("hello %d\nforged line", 42);
    log_debug("not shown");
    log_close();
    FILE *f = fopen(path, "r");
    char buf[512] = { 0 };
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    ck_assert(n > 0);
    ck_assert_ptr_nonnull(strstr(buf, "info: hello 42?forged line\n"));
    ck_assert_ptr_null(strstr(buf, "not shown"));
    log_level_t lv;
    ck_assert_int_eq(log_level_parse("Warn", &lv), 0);
    ck_assert_int_eq(lv, LOG_LEVEL_WARN);
    ck_assert_int_eq(log_level_parse("loud", &lv), -1);
    unlink(path);
    rmdir(dir);
    free(path);
}
END_TEST

/* read_log: the file's lines, without their "TIMESTAMP ident[pid] "
 * prefix, into out (level, ": " and text), joined by '|'. */
static void
read_log(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    out[0] = '\0';
    while (fgets(line, sizeof line, f) != NULL) {
        char *p = strchr(line, ']');
        ck_assert_ptr_nonnull(p);
        p += 2;
        p[strcspn(p, "\n")] = '\0';
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? "|" : "", p);
    }
    fclose(f);
}

/* A message logged again and again is written once, then counted: the
 * count comes before the next different message (syslogd's "last message
 * repeated N times"); levels and texts must both match. */
START_TEST(test_log_repeats)
{
    char dir[] = "/tmp/check_log.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/x.log", dir);
    ck_assert_int_eq(log_open(path, NULL), 0);
    log_set_level(LOG_LEVEL_INFO);
    for (int i = 0; i < 100000; i++)
        log_warn("peers: accept failed: %s", "Too many open files");
    log_info("peers: accept failed: Too many open files"); /* another level */
    log_info("peers: accept failed: Too many open files");
    log_info("other %d", 1);
    log_info("other %d", 2);
    log_info("other %d", 2);
    log_close();
    char got[4096];
    read_log(path, got, sizeof got);
    ck_assert_str_eq(got, "warn: peers: accept failed: Too many open files|"
                          "warn: last message repeated 99999 times|"
                          "info: peers: accept failed: Too many open files|"
                          "info: last message repeated 1 time|"
                          "info: other 1|"
                          "info: other 2|"
                          "info: last message repeated 1 time");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_lt(st.st_size, 1000);
    unlink(path);
    rmdir(dir);
    free(path);
}
END_TEST

/* While the repeats go on, their count is written once per window; when
 * they stop, log_tick writes it after the window; a window of 0 writes
 * every message. */
START_TEST(test_log_repeat_window)
{
    char dir[] = "/tmp/check_log.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/x.log", dir);
    ck_assert_int_eq(log_open(path, NULL), 0);
    log_set_level(LOG_LEVEL_INFO);
    log_set_repeat_window(300);
    log_info("spin");
    log_info("spin");
    log_info("spin");
    usleep(400 * 1000);
    log_info("spin"); /* the window has passed: the count is written */
    log_info("spin");
    log_tick();       /* within the window: nothing yet */
    usleep(400 * 1000);
    log_tick();       /* after it */
    log_tick();
    log_set_repeat_window(0);
    log_info("again");
    log_info("again");
    log_set_repeat_window(10000);
    log_close();
    char got[4096];
    read_log(path, got, sizeof got);
    ck_assert_str_eq(got, "info: spin|"
                          "info: last message repeated 3 times|"
                          "info: last message repeated 1 time|"
                          "info: again|"
                          "info: again");
    unlink(path);
    rmdir(dir);
    free(path);
}
END_TEST

START_TEST(test_file_atomic)
{
    char dir[] = "/tmp/check_util.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/f", dir), *tmp = xasprintf("%s/f.tmp", dir);
    mt_error_t *err = NULL;
    size_t len = 0;
    ck_assert_ptr_null(mt_file_read(path, 100, &len, &err));
    ck_assert_int_eq(err->code, MT_ERR_NOT_FOUND);
    mt_error_clear(&err);
    ck_assert_int_eq(mt_file_write_atomic(path, "first", 5, 0600, &err), 0);
    ck_assert_int_eq(mt_file_write_atomic(path, "second", 6, 0600, &err), 0);
    uint8_t *data = mt_file_read(path, 100, &len, &err);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(len, 6);
    ck_assert_str_eq((char *)data, "second");
    free(data);
    ck_assert_int_eq(access(tmp, F_OK), -1); /* no temporary left */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    /* too large, not a regular file, a directory that is not there */
    ck_assert_ptr_null(mt_file_read(path, 5, &len, &err));
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    ck_assert_ptr_null(mt_file_read(dir, 100, &len, &err));
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    char *bad = xasprintf("%s/missing/f", dir);
    ck_assert_int_eq(mt_file_write_atomic(bad, "x", 1, 0600, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err->message, "missing"));
    mt_error_clear(&err);
    unlink(path);
    rmdir(dir);
    free(bad);
    free(path);
    free(tmp);
}
END_TEST

static Suite *
util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_error_first_wins);
    tcase_add_test(tc, test_conf_defaults);
    tcase_add_test(tc, test_conf_parse);
    tcase_add_test(tc, test_conf_errors);
    tcase_add_test(tc, test_conf_file);
    tcase_add_test(tc, test_log_file);
    tcase_add_test(tc, test_log_repeats);
    tcase_add_test(tc, test_log_repeat_window);
    tcase_add_test(tc, test_file_atomic);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(util_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
