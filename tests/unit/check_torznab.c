/* check_torznab.c: unit tests for the pure rules of cgi-bin/torznab: the
 * strict query parser, classes and expressions (query.c), and the XML
 * answers with their text rules (feed.c), each answer parsed back with
 * libxml2. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "torznab/feed.h"
#include "torznab/query.h"

#define MD4 "0123456789abcdef0123456789abcdef"

static int
parse(const char *s, tzq_t *q, tz_error_t *err)
{
    return tzq_parse(s, strlen(s), q, err);
}

/* refused: s is refused with code. */
static void
refused(const char *s, int code)
{
    tzq_t q;
    tz_error_t err;
    ck_assert_msg(parse(s, &q, &err) == code, "%s: %d (%s)", s, err.code, err.message);
    ck_assert_int_eq(err.code, code);
    ck_assert(err.message[0] != '\0');
    ck_assert_ptr_null(q.q);
    ck_assert_ptr_null(q.apikey);
}

START_TEST(test_parse_valid)
{
    tzq_t q;
    tz_error_t err;
    ck_assert_int_eq(parse("t=tvsearch&q=The+Show%20Name&cat=5030,5040&season=01&ep=2&apikey=K"
                           "&extended=1&offset=100&limit=50&tvdbid=1&rid=2&foo=bar",
                           &q, &err), 0);
    ck_assert_int_eq(q.fn, TZ_FN_TVSEARCH);
    ck_assert_str_eq(q.q, "The Show Name");
    ck_assert_str_eq(q.apikey, "K");
    ck_assert_uint_eq(q.n_cats, 2);
    ck_assert_int_eq(q.cats[0], 5030);
    ck_assert_int_eq(q.cats[1], 5040);
    ck_assert_int_eq(q.season, 1);
    ck_assert_int_eq(q.ep, 2);
    ck_assert_int_eq(q.year, -1);
    ck_assert_uint_eq(q.offset, 100);
    ck_assert_uint_eq(q.limit, 50);
    tzq_clear(&q);

    /* t missing or empty is search; limit 0 is 100; empty parameters skipped */
    ck_assert_int_eq(parse("&&q=&limit=0&", &q, &err), 0);
    ck_assert_int_eq(q.fn, TZ_FN_SEARCH);
    ck_assert_ptr_null(q.q);
    ck_assert_uint_eq(q.limit, 100);
    tzq_clear(&q);
    ck_assert_int_eq(parse("t=&q=%20%20", &q, &err), 0);
    ck_assert_int_eq(q.fn, TZ_FN_SEARCH);
    ck_assert_ptr_null(q.q);
    tzq_clear(&q);
    ck_assert_int_eq(parse("", &q, &err), 0);
    ck_assert_uint_eq(q.limit, 100);
    tzq_clear(&q);

    /* names compare lowercased; a daily show */
    ck_assert_int_eq(parse("T=caps&APIKEY=x", &q, &err), 0);
    ck_assert_int_eq(q.fn, TZ_FN_CAPS);
    ck_assert_str_eq(q.apikey, "x");
    tzq_clear(&q);
    ck_assert_int_eq(parse("t=tvsearch&q=daily&season=2024&ep=03/15", &q, &err), 0);
    ck_assert_int_eq(q.season, 2024);
    ck_assert_int_eq(q.month, 3);
    ck_assert_int_eq(q.day, 15);
    tzq_clear(&q);
    ck_assert_int_eq(parse("t=movie&q=caf%C3%A9&year=1999&offset=1000000&limit=100", &q, &err), 0);
    ck_assert_str_eq(q.q, "caf\xc3\xa9");
    ck_assert_int_eq(q.year, 1999);
    tzq_clear(&q);
}
END_TEST

START_TEST(test_parse_refused)
{
    refused("t=foo", TZ_ERR_NO_FUNCTION);
    refused("t=CAPS", TZ_ERR_NO_FUNCTION);
    refused("q=a&q=b", TZ_ERR_BAD);
    refused("q=a&Q=b", TZ_ERR_BAD);
    refused("apikey=a&ApiKey=a", TZ_ERR_BAD);
    refused("foo=1&foo=2", TZ_ERR_BAD);  /* unknown, yet twice */
    refused("q=%zz", TZ_ERR_BAD);
    refused("q=%4", TZ_ERR_BAD);
    refused("q=a%", TZ_ERR_BAD);
    refused("q=a%00b", TZ_ERR_BAD);
    refused("q=a%01b", TZ_ERR_BAD);
    refused("q=a%0Ab", TZ_ERR_BAD);
    refused("q=a%1fb", TZ_ERR_BAD);
    refused("q=a%7Fb", TZ_ERR_BAD);
    refused("q=a\tb", TZ_ERR_BAD);
    refused("foo=%09", TZ_ERR_BAD);
    refused("q=%ff", TZ_ERR_BAD);
    refused("q=%c0%80", TZ_ERR_BAD);     /* overlong */
    refused("q%zz=1", TZ_ERR_BAD);
    refused("season=-1", TZ_ERR_BAD);
    refused("season=10000", TZ_ERR_BAD);
    refused("season=1&ep=x", TZ_ERR_BAD);
    refused("year=+1", TZ_ERR_BAD);
    refused("year=", TZ_ERR_BAD);
    refused("offset=1000001", TZ_ERR_BAD);
    refused("limit=101", TZ_ERR_BAD);
    refused("limit=1.5", TZ_ERR_BAD);
    refused("cat=5030,,5040", TZ_ERR_BAD);
    refused("cat=5030,", TZ_ERR_BAD);
    refused("cat=abc", TZ_ERR_BAD);
    refused("ep=3", TZ_ERR_MISSING);
    refused("season=5&ep=03/15", TZ_ERR_BAD);
    refused("season=2024&ep=13/01", TZ_ERR_BAD);
    refused("season=2024&ep=3/1", TZ_ERR_BAD);
    char big[400] = "q=";
    memset(big + 2, 'a', 300);
    big[302] = '\0';
    refused(big, TZ_ERR_BAD);
    tzq_t q;
    tz_error_t err;
    ck_assert_int_eq(tzq_parse("q=a\0b", 5, &q, &err), TZ_ERR_BAD);
}
END_TEST

static char *
expr(const char *query, uint64_t min)
{
    tzq_t q;
    tz_error_t err;
    ck_assert_int_eq(parse(query, &q, &err), 0);
    char *e = tz_expression(&q, tz_class_of(&q), min);
    tzq_clear(&q);
    return e;
}

static void
expr_is(const char *query, uint64_t min, const char *want)
{
    char *e = expr(query, min);
    if (want == NULL)
        ck_assert_ptr_null(e);
    else
        ck_assert_msg(e != NULL && strcmp(e, want) == 0, "%s: got %s, want %s", query,
                      e ? e : "NULL", want);
    free(e);
}

START_TEST(test_expression)
{
    expr_is("t=tvsearch&q=The+Show&season=1&ep=2", 0, "The Show S01E02 type:video");
    expr_is("t=tvsearch&q=The+Show&season=1", 1024, "The Show S01 type:video min:1024");
    expr_is("t=tvsearch&q=Daily&season=2024&ep=03/05", 0, "Daily 2024 03 05 type:video");
    expr_is("t=movie&q=Film&year=1999&cat=2000,2040", 0, "Film 1999 type:video");
    expr_is("t=search&q=a+(b)+%22c%22+type:x+AND+OR+NOT", 0, "a b c type x and or not");
    expr_is("t=search&q=book&cat=7020", 0, "book type:document");
    expr_is("t=search&q=song&cat=3000,3010", 0, "song type:audio");
    expr_is("t=search&q=prog&cat=4000", 0, "prog type:program");
    expr_is("t=search&q=mixed&cat=3000,4000", 0, "mixed");
    expr_is("t=search&q=tvandfilm&cat=2000,5000", 0, "tvandfilm type:video");
    expr_is("t=tvsearch&season=1&ep=2", 0, NULL);
    expr_is("t=movie&q=%22%28%29", 0, NULL);
}
END_TEST

START_TEST(test_classes_and_results)
{
    ck_assert_str_eq(tz_class_filetype(TZ_CLASS_TV), "video");
    ck_assert_ptr_null(tz_class_filetype(TZ_CLASS_ANY));
    ck_assert(tz_result_wanted(TZ_CLASS_TV, "Show.S01E02.720p.mkv", 100, 50));
    ck_assert(!tz_result_wanted(TZ_CLASS_TV, "Show.S01E02.720p.mkv", 49, 50));
    ck_assert(!tz_result_wanted(TZ_CLASS_TV, "Show.S01E02.sample.mkv", 100, 0));
    ck_assert(!tz_result_wanted(TZ_CLASS_MOVIE, "Film.1999.SAMPLE.avi", 100, 0));
    ck_assert(tz_result_wanted(TZ_CLASS_MOVIE, "Samples.of.Life.1999.avi", 100, 0));
    ck_assert(!tz_result_wanted(TZ_CLASS_MOVIE, "Film.1999.exe", 100, 0));
    ck_assert(!tz_result_wanted(TZ_CLASS_MOVIE, "Film 1999", 100, 0));
    ck_assert(tz_result_wanted(TZ_CLASS_ANY, "Film.1999.exe", 1, 50));
    ck_assert(tz_name_is_episode("Show.S01E02.mkv"));
    ck_assert(tz_name_is_episode("show s1e10 x.avi"));
    ck_assert(tz_name_is_episode("Daily.Show.2024.03.15.mkv"));
    ck_assert(tz_name_is_episode("Daily Show 2024-03-15.mkv"));
    ck_assert(!tz_name_is_episode("Film.2019.1080p.mkv"));
    ck_assert(!tz_name_is_episode("Film.2019.03-15.mkv"));
    ck_assert(!tz_name_is_episode("MyS01E02.mkv"));
    int cats[2];
    ck_assert_uint_eq(tz_item_categories(TZ_CLASS_TV, "Show.S01E02.1080p.mkv", "Video", cats), 2);
    ck_assert_int_eq(cats[0], 5000);
    ck_assert_int_eq(cats[1], 5040);
    ck_assert_uint_eq(tz_item_categories(TZ_CLASS_MOVIE, "Film.2160p.mkv", NULL, cats), 2);
    ck_assert_int_eq(cats[1], 2045);
    ck_assert_uint_eq(tz_item_categories(TZ_CLASS_ANY, "Show.s1e3.avi", "Video", cats), 2);
    ck_assert_int_eq(cats[0], 5000);
    ck_assert_int_eq(cats[1], 5030);
    ck_assert_uint_eq(tz_item_categories(TZ_CLASS_VIDEO, "Film.avi", "Video", cats), 2);
    ck_assert_int_eq(cats[0], 2000);
    ck_assert_uint_eq(tz_item_categories(TZ_CLASS_ANY, "a.mp3", "Audio", cats), 1);
    ck_assert_int_eq(cats[0], 3000);
    ck_assert_uint_eq(tz_item_categories(TZ_CLASS_ANY, "a.iso", "Iso", cats), 1);
    ck_assert_int_eq(cats[0], 4000);
    ck_assert_uint_eq(tz_item_categories(TZ_CLASS_ANY, "a", NULL, cats), 1);
    ck_assert_int_eq(cats[0], 8000);
}
END_TEST

START_TEST(test_text)
{
    char *s = tz_sanitize("  a\x01" "b\xff" "c\xe2\x80\xae" "d\xef\xbf\xbe  ");
    ck_assert_str_eq(s, "ab\xef\xbf\xbd" "cd");
    free(s);
    s = tz_sanitize("\x02 ");
    ck_assert_str_eq(s, "unnamed");
    free(s);
    char *m = tz_magnet(MD4, 1234, "A & B/c.mkv");
    ck_assert_str_eq(m, "magnet:?xt=urn:btih:" MD4 "00000000&xt=urn:ed2k:" MD4
                        "&xl=1234&dn=A%20%26%20B%2Fc.mkv"
                        "&tr=udp%3A%2F%2Ftracker.muleteer.invalid%3A6969%2Fannounce");
    free(m);
    char d[32];
    tz_rfc822(0, d);
    ck_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 +0000");
    tz_rfc822(1796658585, d);
    ck_assert_str_eq(d, "Mon, 07 Dec 2026 15:49:45 +0000");
}
END_TEST

/* xpath: the string value of expr in doc (namespace torznab bound). */
static char *
xpath(const tz_doc_t *doc, const char *expr)
{
    xmlDocPtr x = xmlReadMemory(doc->xml, (int)doc->len, "t.xml", NULL, XML_PARSE_NONET);
    ck_assert_msg(x != NULL, "not well formed: %s", doc->xml);
    xmlXPathContextPtr c = xmlXPathNewContext(x);
    xmlXPathRegisterNs(c, (const xmlChar *)"torznab", (const xmlChar *)TZ_NS);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, c);
    ck_assert_ptr_nonnull(o);
    xmlChar *v = xmlXPathCastToString(o);
    char *r = strdup((const char *)v);
    xmlFree(v);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(c);
    xmlFreeDoc(x);
    return r;
}

static void
xpath_is(const tz_doc_t *doc, const char *expr, const char *want)
{
    char *v = xpath(doc, expr);
    ck_assert_msg(strcmp(v, want) == 0, "%s: got '%s', want '%s'", expr, v, want);
    free(v);
}

START_TEST(test_docs)
{
    tz_doc_t d = { 0 };
    ck_assert_int_eq(tz_error_doc(100, "Incorrect \"user\" <credentials> & more", &d), 0);
    xpath_is(&d, "string(/error/@code)", "100");
    xpath_is(&d, "string(/error/@description)", "Incorrect \"user\" <credentials> & more");
    tz_doc_clear(&d);

    ck_assert_int_eq(tz_caps_doc("Muleteer", &d), 0);
    xpath_is(&d, "string(/caps/limits/@default)", "100");
    xpath_is(&d, "string(/caps/limits/@max)", "100");
    xpath_is(&d, "string(/caps/searching/search/@available)", "yes");
    xpath_is(&d, "string(/caps/searching/tv-search/@supportedParams)", "q,season,ep");
    xpath_is(&d, "string(/caps/searching/movie-search/@supportedParams)", "q,year");
    xpath_is(&d, "count(/caps/categories/category)", "6");
    xpath_is(&d, "string(/caps/categories/category[@id='5000']/subcat[@id='5040']/@name)", "TV/HD");
    xpath_is(&d, "string(/caps/categories/category[@id='2000']/subcat[@id='2045']/@name)",
             "Movies/UHD");
    tz_doc_clear(&d);

    tz_feed_t *f = tz_feed_new("Muleteer", "test");
    tz_item_t it = { .md4 = MD4, .name = "Evil <b>&amp; \"q\" 'x' \xff\x01.S01E02.mkv",
                     .size = 5000000000ULL, .sources = 3, .complete_sources = 0,
                     .first_seen = 0, .cats = { 5000, 5040 }, .n_cats = 2 };
    ck_assert_int_eq(tz_feed_add(f, &it), 0);
    it.sources = 0;
    it.name = "";
    ck_assert_int_eq(tz_feed_add(f, &it), 0);
    ck_assert_int_eq(tz_feed_finish(f, &d), 0);
    xpath_is(&d, "string(/rss/@version)", "2.0");
    xpath_is(&d, "count(/rss/channel/item)", "2");
    xpath_is(&d, "string(/rss/channel/item[1]/title)",
             "Evil <b>&amp; \"q\" 'x' \xef\xbf\xbd.S01E02.mkv");
    xpath_is(&d, "string(/rss/channel/item[2]/title)", "unnamed");
    xpath_is(&d, "string(/rss/channel/item[1]/guid)", "urn:ed2k:" MD4);
    xpath_is(&d, "string(/rss/channel/item[1]/pubDate)", "Thu, 01 Jan 1970 00:00:00 +0000");
    xpath_is(&d, "string(/rss/channel/item[1]/size)", "5000000000");
    xpath_is(&d, "string(/rss/channel/item[1]/category[2])", "5040");
    xpath_is(&d, "string(/rss/channel/item[1]/enclosure/@type)", TZ_ENCLOSURE_TYPE);
    xpath_is(&d, "substring-before(/rss/channel/item[1]/enclosure/@url, '&xl=')",
             "magnet:?xt=urn:btih:" MD4 "00000000&xt=urn:ed2k:" MD4);
    xpath_is(&d, "string(/rss/channel/item[1]/torznab:attr[@name='seeders']/@value)", "1");
    xpath_is(&d, "string(/rss/channel/item[1]/torznab:attr[@name='peers']/@value)", "3");
    xpath_is(&d, "string(/rss/channel/item[2]/torznab:attr[@name='seeders']/@value)", "0");
    xpath_is(&d, "string(/rss/channel/item[1]/torznab:attr[@name='infohash']/@value)",
             MD4 "00000000");
    xpath_is(&d, "string(/rss/channel/item[1]/torznab:attr[@name='size']/@value)", "5000000000");
    xpath_is(&d, "count(/rss/channel/item[1]/torznab:attr[@name='category'])", "2");
    char *url = xpath(&d, "string(/rss/channel/item[1]/enclosure/@url)");
    char *mag = xpath(&d, "string(/rss/channel/item[1]/torznab:attr[@name='magneturl']/@value)");
    ck_assert_str_eq(url, mag);
    free(url);
    free(mag);
    tz_doc_clear(&d);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("torznab");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_valid);
    tcase_add_test(tc, test_parse_refused);
    tcase_add_test(tc, test_expression);
    tcase_add_test(tc, test_classes_and_results);
    tcase_add_test(tc, test_text);
    tcase_add_test(tc, test_docs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
