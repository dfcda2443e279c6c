/* check_util.c: unit tests for lib/util (errors, configuration file,
 * logging, whole files, hex digits, user-given directory paths). */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/bug.h"
#include "util/conf.h"
#include "util/confrt.h"
#include "util/error.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/path.h"
#include "util/random.h"
#include "util/utf8.h"
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
    expect_conf_error("download_roots = /srv/tv:films\n",
                      "b.conf:1: download_roots: \"films\" is not an absolute directory path");
    conf_t *c = conf_new();
    ck_assert_int_eq(conf_set(c, "download_roots", "/srv/tv::${state_dir}/more:", NULL), 0);
    ck_assert_str_eq(conf_get_str(c, "download_roots"), "/srv/tv::./more:");
    conf_free(c);
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

/* Keys rewritten in a configuration file: the first line of each key
 * replaced, the missing ones appended, every other byte kept (comments,
 * CRLF lines, a last line without a newline); a value the file would
 * refuse writes nothing. Real numbers (max_ratio) too. */
START_TEST(test_conf_rewrite)
{
    static const char *const keys[] = { "max_ratio", "max_ratio_act" };
    static const char *const vals[] = { "1.5", "3" };
    size_t n = 0;
    const char *text = "# comment\r\n  max_ratio = 0\r\nnickname = x\nmax_ratio = 7";
    char *out = conf_text_with(text, strlen(text), keys, vals, 2, &n);
    ck_assert_str_eq(out, "# comment\r\nmax_ratio = 1.5\r\nnickname = x\nmax_ratio = 7\n"
                          "max_ratio_act = 3\n");
    ck_assert_uint_eq(n, strlen(out));
    free(out);
    /* a value in quotes of its own (a command line) is written so that
     * reading it gives it back whole */
    static const char *const hk[] = { "hook_added", "nickname" };
    static const char *const hv[] = { "\"/opt/my hook\" \"%n\"", " padded " };
    out = conf_text_with("", 0, hk, hv, 2, &n);
    ck_assert_str_eq(out, "hook_added = \"\"/opt/my hook\" \"%n\"\"\nnickname = \" padded \"\n");
    free(out);

    char dir[] = "/tmp/check_util.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/muleteer.conf", dir);
    FILE *f = fopen(path, "w");
    fputs("nickname = me\nmax_ratio = 0\n", f);
    fclose(f);
    chmod(path, 0640);
    mt_error_t *err = NULL;
    ck_assert_int_eq(conf_file_update(path, keys, vals, 2, &err), 0);
    conf_t *c = conf_new();
    ck_assert_int_eq(conf_load_file(c, path, &err), 0);
    ck_assert(conf_get_real(c, "max_ratio") == 1.5);
    ck_assert_int_eq(conf_get_int(c, "max_ratio_act"), 3);
    ck_assert_str_eq(conf_get_str(c, "nickname"), "me");
    conf_free(c);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0640);
    static const char *const bad[] = { "-7", "4" };
    ck_assert_int_eq(conf_file_update(path, keys, bad, 2, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    size_t len = 0;
    char *now = (char *)mt_file_read(path, 4096, &len, NULL);
    ck_assert_str_eq(now, "nickname = me\nmax_ratio = 1.5\nmax_ratio_act = 3\n");
    ck_assert_int_eq(conf_file_update(path, hk, hv, 1, &err), 0);
    c = conf_new();
    ck_assert_int_eq(conf_load_file(c, path, &err), 0);
    ck_assert_str_eq(conf_get_str(c, "hook_added"), hv[0]);
    conf_free(c);
    free(now);
    ck_assert_int_eq(conf_file_update("/nonexistent/x.conf", keys, vals, 2, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_IO);
    mt_error_clear(&err);
    unlink(path);
    rmdir(dir);
    free(path);
}
END_TEST

/* Where the programs look for the configuration file and the state
 * directory when given none: MULETEER_CONF, else MULETEER_VAR, else var/;
 * empty variables count as unset. */
START_TEST(test_conf_default_file)
{
    unsetenv("MULETEER_CONF");
    unsetenv("MULETEER_VAR");
    char *p = conf_default_file();
    ck_assert_str_eq(p, "var/muleteer.conf");
    free(p);
    ck_assert_str_eq(conf_var_dir(), "var");
    setenv("MULETEER_VAR", "", 1);
    setenv("MULETEER_CONF", "", 1);
    p = conf_default_file();
    ck_assert_str_eq(p, "var/muleteer.conf");
    free(p);
    ck_assert_str_eq(conf_var_dir(), "var");
    setenv("MULETEER_VAR", "/srv/mule", 1);
    p = conf_default_file();
    ck_assert_str_eq(p, "/srv/mule/muleteer.conf");
    free(p);
    ck_assert_str_eq(conf_var_dir(), "/srv/mule");
    setenv("MULETEER_CONF", "/etc/muleteer.conf", 1);
    p = conf_default_file();
    ck_assert_str_eq(p, "/etc/muleteer.conf");
    free(p);
    ck_assert_str_eq(conf_var_dir(), "/srv/mule"); /* MULETEER_CONF is only the file */
    unsetenv("MULETEER_CONF");
    unsetenv("MULETEER_VAR");
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

/* Random hex ids: the right length and alphabet, and no two alike. */
START_TEST(test_random_hex)
{
    char a[33], b[33], big[301];
    mt_error_t *err = NULL;
    ck_assert_int_eq(mt_random_hex(a, 16, &err), 0);
    ck_assert_int_eq(mt_random_hex(b, 16, &err), 0);
    ck_assert_uint_eq(strlen(a), 32);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(mt_random_hex(big, 150, &err), 0); /* more than one chunk */
    ck_assert_uint_eq(strlen(big), 300);
    ck_assert_uint_eq(strspn(big, "0123456789abcdef"), 300);
    ck_assert_ptr_null(err);
}
END_TEST

/* Hex digits: every digit of either case read, everything else refused;
 * bytes written lower-case with a NUL; decoding all or nothing. */
START_TEST(test_hex)
{
    const char *digits = "0123456789abcdefABCDEF";
    for (int c = -1; c < 256; c++) {
        const char *at = c > 0 ? strchr(digits, c) : NULL;
        int want = at == NULL ? -1 : (int)(at - digits) < 16 ? (int)(at - digits)
                                                              : (int)(at - digits) - 6;
        ck_assert_int_eq(mt_hex_digit(c), want);
    }
    ck_assert_int_eq(mt_hex_digit((char)0xC3), -1); /* a negative char */
    const uint8_t b[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
    char out[2 * sizeof b + 1];
    memset(out, 'x', sizeof out);
    mt_hex_encode(b, sizeof b, out);
    ck_assert_str_eq(out, "00017f80abff");
    mt_hex_encode(b, 0, out);
    ck_assert_str_eq(out, "");
    uint8_t back[6] = { 0 };
    ck_assert_int_eq(mt_hex_decode("00017F80aBfF", 12, back, sizeof back), 0);
    ck_assert_mem_eq(back, b, sizeof b);
    /* no NUL needed: len bytes only */
    ck_assert_int_eq(mt_hex_decode("00017f80abffzz", 12, back, sizeof back), 0);
    uint8_t keep[6] = { 1, 2, 3, 4, 5, 6 };
    const char *bad[] = { "00017f80abf", "00017f80abff0", "00017f80abfg", "g0017f80abff",
                          "00017f80ab f", "00017f80ab-f", "0x017f80abff" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(mt_hex_decode(bad[i], strlen(bad[i]), keep, sizeof keep) == -1,
                      "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(keep[5], 6); /* left as it was */
        ck_assert_int_eq(keep[0], 1);
    }
    ck_assert_int_eq(mt_hex_decode("", 0, keep, 0), 0);
}
END_TEST

/* The strict decoder: every boundary of RFC 3629 table 3.7, each side. */
START_TEST(test_utf8_next)
{
    static const struct {
        const char *s;
        size_t len;
        size_t want_len; /* 0: refused */
        uint32_t want_cp;
    } cases[] = {
        { "", 0, 0, 0 },
        { "\0", 1, 1, 0 },
        { "A", 1, 1, 'A' },
        { "\x7f", 1, 1, 0x7F },
        { "\xc2\x80", 2, 2, 0x80 },
        { "\xdf\xbf", 2, 2, 0x7FF },
        { "\xe0\xa0\x80", 3, 3, 0x800 },
        { "\xed\x9f\xbf", 3, 3, 0xD7FF },
        { "\xee\x80\x80", 3, 3, 0xE000 },
        { "\xef\xbf\xbf", 3, 3, 0xFFFF },
        { "\xf0\x90\x80\x80", 4, 4, 0x10000 },
        { "\xf4\x8f\xbf\xbf", 4, 4, 0x10FFFF },
        { "\xc3\xa9xyz", 5, 2, 0xE9 },          /* only the first character */
        /* overlong forms */
        { "\xc0\xaf", 2, 0, 0 },                /* '/' */
        { "\xc1\xbf", 2, 0, 0 },
        { "\xe0\x80\xaf", 3, 0, 0 },
        { "\xe0\x9f\xbf", 3, 0, 0 },
        { "\xf0\x80\x80\xaf", 4, 0, 0 },
        { "\xf0\x8f\xbf\xbf", 4, 0, 0 },
        /* surrogates */
        { "\xed\xa0\x80", 3, 0, 0 },            /* U+D800 */
        { "\xed\xbf\xbf", 3, 0, 0 },            /* U+DFFF */
        /* above U+10FFFF, and lead bytes that cannot start anything */
        { "\xf4\x90\x80\x80", 4, 0, 0 },
        { "\xf7\xbf\xbf\xbf", 4, 0, 0 },
        { "\xf8\x88\x80\x80\x80", 5, 0, 0 },
        { "\xff", 1, 0, 0 },
        { "\x80", 1, 0, 0 },                    /* a stray continuation byte */
        /* cut short, or a missing continuation byte */
        { "\xc3", 1, 0, 0 },
        { "\xe2\x82", 2, 0, 0 },
        { "\xf0\x9f\x98", 3, 0, 0 },
        { "\xc3\x28", 2, 0, 0 },
        { "\xe2\x28\xa1", 3, 0, 0 },
        { "\xf0\x9f\x28\x80", 4, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t cp = 0xDEADBEEF;
        size_t n = mt_utf8_next(cases[i].s, cases[i].len, &cp);
        ck_assert_msg(n == cases[i].want_len, "case %zu: length %zu, want %zu", i, n,
                      cases[i].want_len);
        if (n > 0)
            ck_assert_msg(cp == cases[i].want_cp, "case %zu: U+%04X, want U+%04X", i,
                          (unsigned)cp, (unsigned)cases[i].want_cp);
        /* a string that starts with a refused sequence is not valid */
        if (n == 0 && cases[i].len > 0)
            ck_assert_msg(!mt_utf8_is_valid(cases[i].s, cases[i].len), "case %zu valid", i);
        if (n == cases[i].len)
            ck_assert_msg(mt_utf8_is_valid(cases[i].s, cases[i].len), "case %zu invalid", i);
    }
    /* the length given is respected: a valid sequence is cut short */
    uint32_t cp;
    ck_assert_uint_eq(mt_utf8_next("\xe2\x82\xac", 2, &cp), 0);
    ck_assert_uint_eq(mt_utf8_next("\xe2\x82\xac", 3, &cp), 3);
    ck_assert_uint_eq(cp, 0x20AC);
}
END_TEST

/* Control characters: C0, DEL and C1, and nothing around them. */
START_TEST(test_utf8_is_control)
{
    for (uint32_t cp = 0; cp < 0x20; cp++)
        ck_assert(mt_utf8_is_control(cp));
    ck_assert(mt_utf8_is_control(0x7F));
    for (uint32_t cp = 0x80; cp <= 0x9F; cp++)
        ck_assert(mt_utf8_is_control(cp));
    const uint32_t not[] = { 0x20, 'a', 0x7E, 0xA0, 0xFF, 0x202E, 0x10FFFF };
    for (size_t i = 0; i < sizeof not / sizeof not[0]; i++)
        ck_assert_msg(!mt_utf8_is_control(not[i]), "U+%04X", (unsigned)not[i]);
}
END_TEST

START_TEST(test_utf8_is_valid)
{
    const char *ok = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    ck_assert(mt_utf8_is_valid(ok, strlen(ok)));
    ck_assert(mt_utf8_is_valid("", 0));
    ck_assert(mt_utf8_is_valid("a\0b", 3)); /* NUL is a character */
    /* one bad byte anywhere spoils it */
    const char *bad[] = { "x\xc0\xafy", "tv\xed\xa0\x80", "\xf4\x90\x80\x80 end", "end \xc3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!mt_utf8_is_valid(bad[i], strlen(bad[i])), "accepted case %zu", i);
}
END_TEST

/* ---- paths ---- */

START_TEST(test_path_normalize)
{
    static const char *const cases[][2] = {
        { "/", "/" },
        { "", "." },
        { ".", "." },
        { "//a///b/", "/a/b" },
        { "/a/./b/.", "/a/b" },
        { "/a/b/..", "/a" },
        { "/a/..", "/" },
        { "/..", "/" },
        { "/../../tmp/x", "/tmp/x" },
        { "/srv/in/../../../../tmp/x", "/tmp/x" },
        { "/srv/in/a/../b", "/srv/in/b" },
        { "/srv/in/..hidden/...", "/srv/in/..hidden/..." },
        { "a/b/../c", "a/c" },
        { "a/..", "." },
        { "a/../..", ".." },
        { "../../tmp/x", "../../tmp/x" },
        { "../a/..", ".." },
        { "./a/./", "a" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *n = mt_path_normalize(cases[i][0]);
        ck_assert_msg(strcmp(n, cases[i][1]) == 0, "normalize(\"%s\") = \"%s\", expected \"%s\"",
                      cases[i][0], n, cases[i][1]);
        free(n);
    }
    char *j = mt_path_join("/srv/in", "../../../../tmp/x");
    ck_assert_str_eq(j, "/tmp/x");
    free(j);
    j = mt_path_join("/srv/in", "/dev/shm//x/");
    ck_assert_str_eq(j, "/dev/shm/x");
    free(j);
    j = mt_path_join("/srv/in/", "tv/s1");
    ck_assert_str_eq(j, "/srv/in/tv/s1");
    free(j);
}
END_TEST

START_TEST(test_path_within)
{
    ck_assert(mt_path_is_within("/srv/in", "/srv/in"));
    ck_assert(mt_path_is_within("/srv/in/tv", "/srv/in"));
    ck_assert(!mt_path_is_within("/srv/incoming", "/srv/in"));
    ck_assert(!mt_path_is_within("/srv", "/srv/in"));
    ck_assert(!mt_path_is_within("/tmp/x", "/srv/in"));
    ck_assert(mt_path_is_within("/anything", "/"));
}
END_TEST

/* A tree for the confinement tests: DIR/in (incoming), DIR/media (another
 * root), DIR/outside, and links. */
typedef struct {
    char dir[64];
    char *in, *media, *outside;
} tree_t;

static void
tree_make(tree_t *t)
{
    strcpy(t->dir, "/tmp/check_path.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t->dir));
    t->in = xasprintf("%s/in", t->dir);
    t->media = xasprintf("%s/media", t->dir);
    t->outside = xasprintf("%s/outside", t->dir);
    ck_assert_int_eq(mkdir(t->in, 0700), 0);
    ck_assert_int_eq(mkdir(t->media, 0700), 0);
    ck_assert_int_eq(mkdir(t->outside, 0700), 0);
}

static void
tree_free(tree_t *t)
{
    char *cmd = xasprintf("rm -rf '%s'", t->dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(t->in);
    free(t->media);
    free(t->outside);
}

/* confined: mt_path_confine's answer, or NULL; *code the error code. */
static char *
confined(const tree_t *t, const char *path, size_t n_roots, int *code)
{
    const char *roots[] = { t->in, t->media };
    mt_error_t *err = NULL;
    char *out = mt_path_confine(path, t->in, roots, n_roots, &err);
    *code = err != NULL ? err->code : 0;
    if (out == NULL)
        ck_assert_ptr_nonnull(err);
    mt_error_free(err);
    return out;
}

static void
refused(const tree_t *t, const char *path, size_t n_roots)
{
    int code = 0;
    char *out = confined(t, path, n_roots, &code);
    ck_assert_msg(out == NULL, "\"%s\" was accepted as %s", path, out);
    ck_assert_int_eq(code, MT_ERR_INVALID);
}

static void
accepted(const tree_t *t, const char *path, size_t n_roots, const char *expect)
{
    int code = 0;
    char *out = confined(t, path, n_roots, &code);
    ck_assert_msg(out != NULL, "\"%s\" was refused", path);
    ck_assert_str_eq(out, expect);
    free(out);
}

START_TEST(test_path_confine_attacks)
{
    tree_t t;
    tree_make(&t);
    /* the attack strings of the report, and their relatives */
    const char *attacks[] = { "/tmp/x", "../../../../tmp/x", "/dev/shm/x", "..", "../in2",
                              "a/../../x", "/", "/tmp", "//tmp//x" };
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++)
        refused(&t, attacks[i], 2);
    char *p = xasprintf("%s/../outside/x", t.in);
    refused(&t, p, 2);
    free(p);
    p = xasprintf("%s2/x", t.in); /* a sibling sharing the prefix */
    refused(&t, p, 2);
    free(p);
    int code = 0;
    ck_assert_ptr_null(confined(&t, "", 2, &code));
    ck_assert_int_eq(code, MT_ERR_INVALID);
    tree_free(&t);
}
END_TEST

START_TEST(test_path_confine_roots)
{
    tree_t t;
    tree_make(&t);
    /* relative paths are under incoming; absolute ones are normalized */
    char *e = xasprintf("%s/tv", t.in);
    accepted(&t, "tv", 1, e);
    accepted(&t, "./tv/", 1, e);
    accepted(&t, "x/../tv", 1, e);
    char *abs = xasprintf("%s//tv/.", t.in);
    accepted(&t, abs, 1, e);
    free(abs);
    free(e);
    accepted(&t, t.in, 1, t.in);
    accepted(&t, ".", 1, t.in);
    /* parts that do not exist yet are fine */
    e = xasprintf("%s/a/b/c", t.in);
    accepted(&t, "a/b/c", 1, e);
    free(e);
    /* the second root only counts when it is in the list */
    e = xasprintf("%s/films", t.media);
    refused(&t, e, 1);
    accepted(&t, e, 2, e);
    accepted(&t, "../media/films", 2, e);
    refused(&t, "../media/films", 1);
    free(e);
    tree_free(&t);
}
END_TEST

START_TEST(test_path_confine_links)
{
    tree_t t;
    tree_make(&t);
    /* a link inside a root that points out of the roots */
    char *link = xasprintf("%s/escape", t.in);
    ck_assert_int_eq(symlink(t.outside, link), 0);
    refused(&t, "escape", 2);
    refused(&t, "escape/x", 2);
    refused(&t, "escape/x/y", 2);
    refused(&t, link, 2);
    free(link);
    link = xasprintf("%s/tmp", t.in);
    ck_assert_int_eq(symlink("/tmp", link), 0);
    refused(&t, "tmp/x", 2);
    free(link);
    /* a dangling link is no way out either */
    link = xasprintf("%s/dangling", t.in);
    char *target = xasprintf("%s/not-yet", t.outside);
    ck_assert_int_eq(symlink(target, link), 0);
    int code = 0;
    ck_assert_ptr_null(confined(&t, "dangling/x", 2, &code));
    ck_assert_ptr_null(confined(&t, "dangling", 2, &code));
    free(target);
    free(link);
    /* a link from one root into another is fine: it ends inside */
    link = xasprintf("%s/films", t.in);
    ck_assert_int_eq(symlink(t.media, link), 0);
    char *e = xasprintf("%s/films/new", t.in);
    accepted(&t, "films/new", 2, e);
    refused(&t, "films/new", 1);
    free(e);
    free(link);
    /* a root that is itself a link: resolved on both sides */
    char *real = xasprintf("%s/real-root", t.dir), *alias = xasprintf("%s/alias-root", t.dir);
    ck_assert_int_eq(mkdir(real, 0700), 0);
    ck_assert_int_eq(symlink(real, alias), 0);
    const char *roots[] = { alias };
    char *p = xasprintf("%s/x", alias);
    char *out = mt_path_confine(p, alias, roots, 1, NULL);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, p);
    free(out);
    free(p);
    p = xasprintf("%s/x", real);
    out = mt_path_confine(p, alias, roots, 1, NULL);
    ck_assert_ptr_nonnull(out);
    free(out);
    free(p);
    /* mt_path_resolve: links of the existing part, the rest as written */
    p = xasprintf("%s/a/b", alias);
    out = mt_path_resolve(p, NULL);
    char *want_real = realpath(real, NULL);
    char *want2 = xasprintf("%s/a/b", want_real);
    ck_assert_str_eq(out, want2);
    free(want_real);
    free(want2);
    free(out);
    free(p);
    free(real);
    free(alias);
    tree_free(&t);
}
END_TEST

/* MT_BUG: true and counted when the invariant is broken, false (and
 * nothing counted) otherwise; the caller goes on. */
static int
guarded(int state)
{
    if (MT_BUG(state != 1))
        return -1;
    return 0;
}

START_TEST(test_bug)
{
    uint64_t before = mt_bug_count();
    ck_assert_int_eq(guarded(1), 0);
    ck_assert_uint_eq(mt_bug_count(), before);
    for (int i = 0; i < 25; i++)
        ck_assert_int_eq(guarded(2), -1);
    ck_assert_uint_eq(mt_bug_count(), before + 25);
}
END_TEST

/* The run-time keys: secrets and restart-only keys are not among them, and
 * each value is checked as the file would check it, plus its kind's rule. */
START_TEST(test_confrt)
{
    ck_assert_ptr_null(confrt_find("web_password"));
    ck_assert_ptr_null(confrt_find("api_key"));
    ck_assert_ptr_null(confrt_find("database"));
    ck_assert_ptr_null(confrt_find("tcp_port"));
    ck_assert_ptr_null(confrt_find(NULL));
    size_t n = 0;
    const confrt_key_t *all = confrt_keys(&n);
    ck_assert_uint_gt(n, 10);
    conf_t *c = conf_new();
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_eq(confrt_find(all[i].key), &all[i]);
        /* every one is a key of the file, with a type that fits its kind */
        if (all[i].kind == CONFRT_INT)
            (void)conf_get_int(c, all[i].key);
        else if (all[i].kind == CONFRT_BOOL)
            (void)conf_get_bool(c, all[i].key);
        else
            (void)conf_get_str(c, all[i].key);
    }
    conf_free(c);

    mt_error_t *err = NULL;
    const confrt_key_t *k = confrt_find("max_download");
    ck_assert_int_eq(confrt_check(k, "512", &err), 0);
    ck_assert_int_eq(confrt_check(k, "-1", &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err->message, "max_download"));
    mt_error_clear(&err);
    ck_assert_int_eq(confrt_check(k, "10000001", &err), -1);
    mt_error_clear(&err);

    k = confrt_find("torznab_name");
    ck_assert_int_eq(confrt_check(k, "my-indexer_2.0", &err), 0);
    static const char *const bad_names[] = { "", "a/b", "..", "with space", "%2e", "a?b" };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        ck_assert_msg(confrt_check(k, bad_names[i], &err) == -1, "accepted \"%s\"", bad_names[i]);
        ck_assert_ptr_nonnull(strstr(err->message, "torznab_name"));
        mt_error_clear(&err);
    }

    /* hook commands: empty, or a line that splits; never the secret */
    ck_assert_ptr_null(confrt_find("webhook_secret"));
    k = confrt_find("hook_completed");
    ck_assert_int_eq(k->kind, CONFRT_CMD);
    ck_assert_int_eq(confrt_check(k, "", &err), 0);
    ck_assert_int_eq(confrt_check(k, "/usr/local/bin/done '%n' %h", &err), 0);
    static const char *const bad_cmds[] = { "/bin/x 'open", "\"\" arg", "/bin/x \\" };
    for (size_t i = 0; i < sizeof bad_cmds / sizeof bad_cmds[0]; i++) {
        ck_assert_msg(confrt_check(k, bad_cmds[i], &err) == -1, "accepted \"%s\"", bad_cmds[i]);
        ck_assert_ptr_nonnull(strstr(err->message, "hook_completed: "));
        mt_error_clear(&err);
    }
    k = confrt_find("webhook_urls");
    ck_assert_int_eq(confrt_check(k, "", &err), 0);
    ck_assert_int_eq(confrt_check(k, "https://h.example/in, http://127.0.0.1:8080/x", &err), 0);
    static const char *const bad_urls[] = { "ftp://h/x", "https://", "http:///x", "h.example/in",
                                            "https://ok.example, file:///etc/passwd" };
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        ck_assert_msg(confrt_check(k, bad_urls[i], &err) == -1, "accepted \"%s\"", bad_urls[i]);
        ck_assert_ptr_nonnull(strstr(err->message, "webhook_urls: "));
        mt_error_clear(&err);
    }

    k = confrt_find("shared_dirs");
    ck_assert_int_eq(confrt_check(k, "/srv/a:/srv/b", &err), 0);
    ck_assert_int_eq(confrt_check(k, "", &err), 0);
    ck_assert_int_eq(confrt_check(k, "/srv/a:relative", &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "relative"));
    mt_error_clear(&err);
    ck_assert_int_eq(confrt_check(k, "/srv/\x01", &err), -1);
    mt_error_clear(&err);

    k = confrt_find("server_autoconnect");
    ck_assert_int_eq(confrt_check(k, "no", &err), 0);
    ck_assert_int_eq(confrt_check(k, "maybe", &err), -1);
    mt_error_clear(&err);
}
END_TEST

START_TEST(test_confrt_ipfilter)
{
    const confrt_key_t *k = confrt_find("ipfilter");
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(k->kind, CONFRT_SOURCE);
    ck_assert_int_eq(confrt_check(k, "", NULL), 0);
    ck_assert_int_eq(confrt_check(k, "/srv/ipfilter.dat", NULL), 0);
    ck_assert_int_eq(confrt_check(k, "https://example.org/list.p2p.gz", NULL), 0);
    mt_error_t *err = NULL;
    ck_assert_int_eq(confrt_check(k, "relative/ipfilter.dat", &err), -1);
    ck_assert_str_eq(err->message, "ipfilter: expected an absolute file path or an http(s) URL, "
                                   "got \"relative/ipfilter.dat\"");
    mt_error_clear(&err);
    ck_assert_int_eq(confrt_check(k, "ftp://x/ipfilter.dat", NULL), -1);
    ck_assert_int_eq(confrt_check(k, "/a b", NULL), -1);
    ck_assert_int_eq(confrt_check(k, "/a\tb", NULL), -1);
    k = confrt_find("ipfilter_level");
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(confrt_check(k, "255", NULL), 0);
    ck_assert_int_eq(confrt_check(k, "256", NULL), -1);
    ck_assert_ptr_nonnull(confrt_find("ipfilter_refresh_hours"));
}
END_TEST

/* port_forwarding: one of its four methods; its lease in conf.c's range. */
START_TEST(test_confrt_port_forwarding)
{
    mt_error_t *err = NULL;
    const confrt_key_t *k = confrt_find("port_forwarding");
    ck_assert_ptr_nonnull(k);
    static const char *const good[] = { "off", "upnp", "natpmp", "auto" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_int_eq(confrt_check(k, good[i], NULL), 0);
    static const char *const bad[] = { "", "pcp", "UPnP", "yes", "auto " };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(confrt_check(k, bad[i], &err) == -1, "accepted \"%s\"", bad[i]);
        ck_assert_ptr_nonnull(strstr(err->message, "port_forwarding: expected off, upnp"));
        mt_error_clear(&err);
    }
    k = confrt_find("port_forwarding_lease");
    ck_assert_int_eq(confrt_check(k, "0", NULL), 0);
    ck_assert_int_eq(confrt_check(k, "604800", NULL), 0);
    ck_assert_int_eq(confrt_check(k, "604801", NULL), -1);
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
    tcase_add_test(tc, test_conf_rewrite);
    tcase_add_test(tc, test_conf_default_file);
    tcase_add_test(tc, test_confrt);
    tcase_add_test(tc, test_confrt_ipfilter);
    tcase_add_test(tc, test_confrt_port_forwarding);
    tcase_add_test(tc, test_log_file);
    tcase_add_test(tc, test_log_repeats);
    tcase_add_test(tc, test_log_repeat_window);
    tcase_add_test(tc, test_file_atomic);
    tcase_add_test(tc, test_random_hex);
    tcase_add_test(tc, test_bug);
    tcase_add_test(tc, test_hex);
    tcase_add_test(tc, test_utf8_next);
    tcase_add_test(tc, test_utf8_is_valid);
    tcase_add_test(tc, test_utf8_is_control);
    suite_add_tcase(s, tc);
    tc = tcase_create("path");
    tcase_add_test(tc, test_path_normalize);
    tcase_add_test(tc, test_path_within);
    tcase_add_test(tc, test_path_confine_attacks);
    tcase_add_test(tc, test_path_confine_roots);
    tcase_add_test(tc, test_path_confine_links);
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
