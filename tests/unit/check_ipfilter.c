/* check_ipfilter.c: unit tests for lib/util/ipfilter.c: ipfilter.dat and
 * .p2p lines (tricky and bad ones), merging, lookups, gzip and zip. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/ipfilter.h"
#include "util/xalloc.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static ipfilter_t *
parse(const char *text, int level)
{
    return ipfilter_parse(text, strlen(text), level);
}

START_TEST(test_parse_ip)
{
    uint32_t ip = 0;
    ck_assert_int_eq(ipfilter_parse_ip("001.002.003.004", 15, &ip), 0);
    ck_assert_uint_eq(ip, IP(1, 2, 3, 4));
    ck_assert_int_eq(ipfilter_parse_ip("010.0.0.255", 11, &ip), 0);
    ck_assert_uint_eq(ip, IP(10, 0, 0, 255)); /* decimal, not octal */
    ck_assert_int_eq(ipfilter_parse_ip("1.2.3.256", 9, &ip), -1);
    ck_assert_int_eq(ipfilter_parse_ip("1.2.3", 5, &ip), -1);
    ck_assert_int_eq(ipfilter_parse_ip("1.2.3.4.5", 9, &ip), -1);
    ck_assert_int_eq(ipfilter_parse_ip("0001.2.3.4", 10, &ip), -1);
    ck_assert_int_eq(ipfilter_parse_ip("1..3.4", 6, &ip), -1);
    ck_assert_int_eq(ipfilter_parse_ip("", 0, &ip), -1);
}
END_TEST

START_TEST(test_dat_lines)
{
    ipfilter_t *f = parse("# comment\n"
                          "// another comment\n"
                          "\n"
                          "   \t \n"
                          "001.002.003.000 - 001.002.003.255 , 000 , Some ISP, Inc.\r\n"
                          "\t 5.5.5.5-5.5.5.9,100,tight\n"
                          "9.9.9.9 - 9.9.9.9 , 200 , allowed by the level\n"
                          "8.8.8.0 - 8.8.8.8\n"
                          "12.0.0.0 - 12.0.0.10 , 50",
                          IPFILTER_DEFAULT_LEVEL);
    ck_assert_uint_eq(ipfilter_bad_lines(f), 0);
    ck_assert_uint_eq(ipfilter_lines(f), 5);
    ck_assert_uint_eq(ipfilter_ranges(f), 4);
    ck_assert(ipfilter_blocks(f, IP(1, 2, 3, 0)));
    ck_assert(ipfilter_blocks(f, IP(1, 2, 3, 255)));
    ck_assert(!ipfilter_blocks(f, IP(1, 2, 4, 0)));
    ck_assert(!ipfilter_blocks(f, IP(1, 2, 2, 255)));
    ck_assert(ipfilter_blocks(f, IP(5, 5, 5, 7)));
    ck_assert(!ipfilter_blocks(f, IP(9, 9, 9, 9))); /* level 200 >= 127 */
    ck_assert(ipfilter_blocks(f, IP(8, 8, 8, 8)));
    ck_assert(ipfilter_blocks(f, IP(12, 0, 0, 10))); /* last line, no newline */
    ipfilter_free(f);
}
END_TEST

START_TEST(test_level_rule)
{
    const char *text = "1.0.0.0 - 1.0.0.255 , 100 , a\n"
                       "2.0.0.0 - 2.0.0.255 , 127 , b\n"
                       "3.0.0.0 - 3.0.0.255 , 126 , c\n";
    ipfilter_t *f = parse(text, 127);
    ck_assert(ipfilter_blocks(f, IP(1, 0, 0, 1)));
    ck_assert(!ipfilter_blocks(f, IP(2, 0, 0, 1))); /* aMule: level < filter level */
    ck_assert(ipfilter_blocks(f, IP(3, 0, 0, 1)));
    ipfilter_free(f);
    f = parse(text, 100);
    ck_assert_uint_eq(ipfilter_lines(f), 3);
    ck_assert_uint_eq(ipfilter_ranges(f), 0);
    ck_assert(!ipfilter_blocks(f, IP(1, 0, 0, 1)));
    ipfilter_free(f);
}
END_TEST

START_TEST(test_p2p_lines)
{
    ipfilter_t *f = parse("Bad Corp: Ltd:1.1.1.0-1.1.1.255\n"
                          "Spaces around :  2.2.2.2 - 2.2.2.3  \r\n"
                          "weird-name, with comma:3.3.3.3-3.3.3.3\n"
                          "4.4.4.4 - 4.4.4.5 , 1 , dat line of level 1\n",
                          1);
    /* .p2p lines are level 0 as in aMule: kept by any filter level > 0 */
    ck_assert_uint_eq(ipfilter_bad_lines(f), 0);
    ck_assert_uint_eq(ipfilter_ranges(f), 3);
    ck_assert(ipfilter_blocks(f, IP(1, 1, 1, 128)));
    ck_assert(ipfilter_blocks(f, IP(2, 2, 2, 3)));
    ck_assert(ipfilter_blocks(f, IP(3, 3, 3, 3)));
    ck_assert(!ipfilter_blocks(f, IP(3, 3, 3, 4)));
    ck_assert(!ipfilter_blocks(f, IP(4, 4, 4, 4)));
    ipfilter_free(f);
}
END_TEST

START_TEST(test_bad_lines)
{
    char *longline = xmalloc(IPFILTER_MAX_LINE + 64);
    memset(longline, 'x', IPFILTER_MAX_LINE + 40);
    memcpy(longline + IPFILTER_MAX_LINE + 40, ":7.7.7.7-7.7.7.8\n", 18);
    char *text = xasprintf("garbage\n"
                           "1.2.3.4 - , 0 , no end\n"
                           "1.2.3.4 - 1.2.3.300 , 0 , octet too big\n"
                           "1.2.3.4 - 1.2.3.5 , x , level not a number\n"
                           "1.2.3.4 - 1.2.3.5 , 0 junk\n"
                           "1.2.3.4 1.2.3.5 , 0 , no dash\n"
                           "name:1.2.3.4-\n"
                           "\x01\xff\xfe binary\n"
                           "%s"
                           "4.4.4.4 - 4.4.4.4 , 0 , good\n",
                           longline);
    ipfilter_t *f = parse(text, IPFILTER_DEFAULT_LEVEL);
    ck_assert_uint_eq(ipfilter_bad_lines(f), 9);
    ck_assert_uint_eq(ipfilter_ranges(f), 1);
    ck_assert(ipfilter_blocks(f, IP(4, 4, 4, 4)));
    ck_assert(!ipfilter_blocks(f, IP(7, 7, 7, 7)));
    ck_assert(!ipfilter_blocks(f, IP(1, 2, 3, 4)));
    ipfilter_free(f);
    free(text);
    free(longline);
}
END_TEST

START_TEST(test_reversed_and_merged)
{
    ipfilter_t *f = parse("1.0.0.50 - 1.0.0.10 , 0 , reversed\n"
                          "1.0.0.40 - 1.0.0.80 , 0 , overlaps\n"
                          "1.0.0.81 - 1.0.0.90 , 0 , adjacent\n"
                          "1.0.0.20 - 1.0.0.30 , 0 , inside\n"
                          "1.0.0.92 - 1.0.0.95 , 0 , apart\n"
                          "255.255.255.0 - 255.255.255.255 , 0 , top\n"
                          "255.255.0.0 - 255.255.255.255 , 0 , top again\n"
                          "0.0.0.0 - 0.0.0.0 , 0 , bottom\n",
                          IPFILTER_DEFAULT_LEVEL);
    ck_assert_uint_eq(ipfilter_ranges(f), 4);
    uint32_t s, e;
    ipfilter_range(f, 0, &s, &e);
    ck_assert_uint_eq(s, 0);
    ck_assert_uint_eq(e, 0);
    ipfilter_range(f, 1, &s, &e);
    ck_assert_uint_eq(s, IP(1, 0, 0, 10));
    ck_assert_uint_eq(e, IP(1, 0, 0, 90));
    ipfilter_range(f, 2, &s, &e);
    ck_assert_uint_eq(s, IP(1, 0, 0, 92));
    ipfilter_range(f, 3, &s, &e);
    ck_assert_uint_eq(s, IP(255, 255, 0, 0));
    ck_assert_uint_eq(e, UINT32_MAX);
    ck_assert(ipfilter_blocks(f, 0));
    ck_assert(!ipfilter_blocks(f, 1));
    ck_assert(!ipfilter_blocks(f, IP(1, 0, 0, 9)));
    ck_assert(ipfilter_blocks(f, IP(1, 0, 0, 10)));
    ck_assert(ipfilter_blocks(f, IP(1, 0, 0, 35)));
    ck_assert(ipfilter_blocks(f, IP(1, 0, 0, 90)));
    ck_assert(!ipfilter_blocks(f, IP(1, 0, 0, 91)));
    ck_assert(ipfilter_blocks(f, UINT32_MAX));
    ck_assert(!ipfilter_blocks(f, IP(255, 254, 255, 255)));
    ck_assert(!ipfilter_blocks(NULL, 0));
    ipfilter_free(f);
}
END_TEST

START_TEST(test_many_ranges_match_scan)
{
    /* 5000 random ranges: the binary search agrees with a linear scan */
    srand(7);
    size_t n = 5000;
    uint32_t *s = xcalloc(n, sizeof *s), *e = xcalloc(n, sizeof *e);
    char *text = xmalloc(n * 40);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        s[i] = ((uint32_t)rand() << 16) ^ (uint32_t)rand();
        e[i] = s[i] + (uint32_t)(rand() % 70000);
        if (e[i] < s[i])
            e[i] = UINT32_MAX;
        len += (size_t)sprintf(text + len, "%u.%u.%u.%u-%u.%u.%u.%u,0\n", s[i] >> 24,
                               s[i] >> 16 & 255, s[i] >> 8 & 255, s[i] & 255, e[i] >> 24,
                               e[i] >> 16 & 255, e[i] >> 8 & 255, e[i] & 255);
    }
    ipfilter_t *f = ipfilter_parse(text, len, IPFILTER_DEFAULT_LEVEL);
    ck_assert_uint_eq(ipfilter_lines(f), n);
    for (int k = 0; k < 20000; k++) {
        uint32_t ip = k % 2 ? ((uint32_t)rand() << 16) ^ (uint32_t)rand()
                            : s[k % n] + (uint32_t)(k % 3) - 1;
        bool want = false;
        for (size_t i = 0; i < n && !want; i++)
            want = ip >= s[i] && ip <= e[i];
        ck_assert_msg(ipfilter_blocks(f, ip) == want, "ip %u", ip);
    }
    ipfilter_free(f);
    free(text);
    free(s);
    free(e);
}
END_TEST

/* deflated: text compressed with window_bits (16+15: gzip, -15: raw). */
static unsigned char *
deflated(const char *text, int window_bits, size_t *len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, strlen(text)) + 64;
    unsigned char *out = xmalloc(cap);
    z.next_in = (unsigned char *)(uintptr_t)text;
    z.avail_in = (unsigned)strlen(text);
    z.next_out = out;
    z.avail_out = (unsigned)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *len = z.total_out;
    deflateEnd(&z);
    return out;
}

static void
put16(unsigned char *p, unsigned v)
{
    p[0] = v & 255;
    p[1] = v >> 8 & 255;
}

static void
put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

/* zipped: a zip archive of a directory entry and one member "name" holding
 * data (csize bytes, method 0 or 8). */
static unsigned char *
zipped(const unsigned char *data, size_t csize, unsigned method, size_t *len)
{
    const char *dir = "lists/", *name = "lists/ipfilter.dat";
    unsigned char *z = xcalloc(1, 512 + csize);
    size_t p = 0, loc_dir = p;
    put32(z + p, 0x04034b50);
    put16(z + p + 26, (unsigned)strlen(dir));
    memcpy(z + p + 30, dir, strlen(dir));
    p += 30 + strlen(dir);
    size_t loc_file = p;
    put32(z + p, 0x04034b50);
    put16(z + p + 8, method);
    put32(z + p + 18, (uint32_t)csize);
    put16(z + p + 26, (unsigned)strlen(name));
    memcpy(z + p + 30, name, strlen(name));
    p += 30 + strlen(name);
    memcpy(z + p, data, csize);
    p += csize;
    size_t cd = p;
    put32(z + p, 0x02014b50);
    put16(z + p + 28, (unsigned)strlen(dir));
    put32(z + p + 42, (uint32_t)loc_dir);
    memcpy(z + p + 46, dir, strlen(dir));
    p += 46 + strlen(dir);
    put32(z + p, 0x02014b50);
    put16(z + p + 10, method);
    put32(z + p + 20, (uint32_t)csize);
    put16(z + p + 28, (unsigned)strlen(name));
    put32(z + p + 42, (uint32_t)loc_file);
    memcpy(z + p + 46, name, strlen(name));
    p += 46 + strlen(name);
    put32(z + p, 0x06054b50);
    put16(z + p + 8, 2);
    put16(z + p + 10, 2);
    put32(z + p + 12, (uint32_t)(p - cd));
    put32(z + p + 16, (uint32_t)cd);
    p += 22;
    *len = p;
    return z;
}

static const char *list_text = "1.2.3.0 - 1.2.3.255 , 0 , x\nname:6.6.6.6-6.6.6.7\n";

static void
check_loaded(const void *data, size_t len)
{
    ipfilter_t *f = NULL;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ipfilter_load(data, len, IPFILTER_DEFAULT_LEVEL, &f, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_uint_eq(ipfilter_ranges(f), 2);
    ck_assert(ipfilter_blocks(f, IP(6, 6, 6, 7)));
    ipfilter_free(f);
}

START_TEST(test_load_plain_gzip_zip)
{
    check_loaded(list_text, strlen(list_text));
    size_t glen, rlen, zlen;
    unsigned char *gz = deflated(list_text, 16 + MAX_WBITS, &glen);
    check_loaded(gz, glen);
    unsigned char *raw = deflated(list_text, -MAX_WBITS, &rlen);
    unsigned char *zip = zipped(raw, rlen, 8, &zlen);
    check_loaded(zip, zlen);
    free(zip);
    zip = zipped((const unsigned char *)list_text, strlen(list_text), 0, &zlen);
    check_loaded(zip, zlen);

    /* damaged: truncated gzip, zip with an unknown method, no directory */
    ipfilter_t *f = NULL;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ipfilter_load(gz, glen - 12, 127, &f, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    free(zip);
    zip = zipped(raw, rlen, 12, &zlen);
    ck_assert_int_eq(ipfilter_load(zip, zlen, 127, &f, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNSUPPORTED);
    mt_error_clear(&err);
    ck_assert_int_eq(ipfilter_load(zip, zlen - 22, 127, &f, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    ck_assert_ptr_null(f);
    free(zip);
    free(raw);
    free(gz);
}
END_TEST

START_TEST(test_load_refuses_non_list)
{
    ipfilter_t *f = NULL;
    mt_error_t *err = NULL;
    const char *html = "<html>\n<body>Not found</body>\n</html>\n";
    ck_assert_int_eq(ipfilter_load(html, strlen(html), 127, &f, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    ck_assert_ptr_null(f);
    /* empty, or only comments: a list that blocks nothing */
    ck_assert_int_eq(ipfilter_load("", 0, 127, &f, &err), 0);
    ck_assert_uint_eq(ipfilter_ranges(f), 0);
    ipfilter_free(f);
    ck_assert_int_eq(ipfilter_load("# none\n", 7, 127, &f, &err), 0);
    ck_assert(!ipfilter_blocks(f, 0));
    ipfilter_free(f);
}
END_TEST

START_TEST(test_memory_small)
{
    ipfilter_t *f = parse("1.0.0.0-1.0.0.1,0\n3.0.0.0-3.0.0.1,0\n", 127);
    ck_assert_uint_le(ipfilter_memory(f), 64 + 2 * 8);
    ipfilter_free(f);
}
END_TEST

static Suite *
ipfilter_suite(void)
{
    Suite *s = suite_create("ipfilter");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_ip);
    tcase_add_test(tc, test_dat_lines);
    tcase_add_test(tc, test_level_rule);
    tcase_add_test(tc, test_p2p_lines);
    tcase_add_test(tc, test_bad_lines);
    tcase_add_test(tc, test_reversed_and_merged);
    tcase_add_test(tc, test_many_ranges_match_scan);
    tcase_add_test(tc, test_load_plain_gzip_zip);
    tcase_add_test(tc, test_load_refuses_non_list);
    tcase_add_test(tc, test_memory_small);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ipfilter_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
