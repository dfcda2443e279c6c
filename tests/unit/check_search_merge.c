/* check_search_merge.c: unit tests for the merging of search results
 * (daemon/ed2k/search_results.c): a result reported by several servers
 * adds up their sources, a server reporting again replaces its own counts,
 * results without a name or a size are dropped, the caps, and the strings
 * moving into the result. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ed2k/search_results.h"
#include "ed2k/search.h"
#include "util/xalloc.h"

#define TCP 0, 0 /* the connected server */
#define IP_A 0x0100000Au
#define IP_B 0x0200000Au

/* A result as the decoder gives it: its strings allocated. */
static ed2k_search_result_t
mk(uint8_t id, const char *name, uint64_t size, uint32_t sources, uint32_t complete)
{
    ed2k_search_result_t r;
    memset(&r, 0, sizeof r);
    memset(r.hash, id, 16);
    r.name = name != NULL ? xstrdup(name) : NULL;
    r.type = xstrdup("Video");
    r.size = size;
    r.sources = sources;
    r.complete_sources = complete;
    return r;
}

/* What is left of r after a merge: freed as search.c frees a page. */
static void
drop(ed2k_search_result_t *r)
{
    free(r->name);
    free(r->type);
    free(r->format);
    free(r->artist);
    free(r->album);
    free(r->title);
    free(r->codec);
    memset(r, 0, sizeof *r);
}

/* Reports result id from server ip:port with these counts. */
static sres_result_t *
report(sres_set_t *set, uint8_t id, uint32_t ip, uint16_t port, uint32_t sources,
       uint32_t complete)
{
    ed2k_search_result_t r = mk(id, "a file.mkv", 700u << 20, sources, complete);
    sres_result_t *m = sres_merge(set, &r, ip, port);
    drop(&r);
    return m;
}

START_TEST(test_new_result_takes_strings)
{
    sres_set_t set = { 0 };
    ed2k_search_result_t r = mk(1, "Big Buck Bunny.avi", 123456789, 12, 4);
    char *name = r.name, *type = r.type;
    uint8_t hash[16];
    memcpy(hash, r.hash, 16);
    sres_result_t *m = sres_merge(&set, &r, TCP);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(set.n, 1);
    ck_assert_ptr_eq(set.v[0], m);
    ck_assert_ptr_eq(sres_find(&set, hash), m);
    /* the strings moved: the result has them, r no longer */
    ck_assert_ptr_eq(m->r.name, name);
    ck_assert_ptr_eq(m->r.type, type);
    ck_assert_ptr_null(r.name);
    ck_assert_ptr_null(r.type);
    ck_assert_str_eq(m->r.name, "Big Buck Bunny.avi");
    ck_assert_uint_eq(m->r.size, 123456789);
    ck_assert_uint_eq(m->r.sources, 12);
    ck_assert_uint_eq(m->r.complete_sources, 4);
    ck_assert(m->dirty);
    /* the same hash again: the strings stay with the caller */
    ed2k_search_result_t again = mk(1, "another name.avi", 123456789, 3, 1);
    ck_assert_ptr_eq(sres_merge(&set, &again, IP_A, 4661), m);
    ck_assert_ptr_nonnull(again.name);
    ck_assert_str_eq(m->r.name, "Big Buck Bunny.avi");
    drop(&again);
    ck_assert_uint_eq(set.n, 1);
    sres_clear(&set);
    ck_assert_uint_eq(set.n, 0);
    ck_assert_ptr_null(set.v);
}
END_TEST

/* Different servers know different clients: their counts add up. */
START_TEST(test_servers_add_up)
{
    sres_set_t set = { 0 };
    report(&set, 1, TCP, 10, 3);
    report(&set, 1, IP_A, 4661, 5, 1);
    sres_result_t *m = report(&set, 1, IP_B, 4242, 7, 0);
    ck_assert_uint_eq(set.n, 1);
    ck_assert_uint_eq(m->n_rep, 3);
    ck_assert_uint_eq(m->r.sources, 22);
    ck_assert_uint_eq(m->r.complete_sources, 4);
    /* the same address on another port is another server */
    m = report(&set, 1, IP_A, 4662, 1, 1);
    ck_assert_uint_eq(m->r.sources, 23);
    ck_assert_uint_eq(m->r.complete_sources, 5);
    /* another hash is another result, counted apart */
    sres_result_t *o = report(&set, 2, IP_A, 4661, 2, 2);
    ck_assert_ptr_ne(o, m);
    ck_assert_uint_eq(set.n, 2);
    ck_assert_uint_eq(o->r.sources, 2);
    ck_assert_uint_eq(m->r.sources, 23);
    sres_clear(&set);
}
END_TEST

/* A server that reports again (another page, another answer) gives its
 * latest counts, which replace its own. */
START_TEST(test_server_replaces_its_counts)
{
    sres_set_t set = { 0 };
    report(&set, 1, TCP, 10, 3);
    sres_result_t *m = report(&set, 1, TCP, 4, 1);
    ck_assert_uint_eq(m->r.sources, 4);
    ck_assert_uint_eq(m->r.complete_sources, 1);
    ck_assert_uint_eq(m->n_rep, 1);
    report(&set, 1, IP_A, 4661, 5, 2);
    ck_assert_uint_eq(m->r.sources, 9);
    report(&set, 1, IP_A, 4661, 0, 0);
    ck_assert_uint_eq(m->r.sources, 4);
    ck_assert_uint_eq(m->r.complete_sources, 1);
    ck_assert_uint_eq(m->n_rep, 2);
    /* each report marks it for the database again */
    m->dirty = false;
    report(&set, 1, IP_A, 4661, 0, 0);
    ck_assert(m->dirty);
    sres_clear(&set);
}
END_TEST

/* No name, an empty name or size 0: dropped, left to the caller. */
START_TEST(test_dropped)
{
    sres_set_t set = { 0 };
    ed2k_search_result_t r = mk(1, NULL, 100, 1, 1);
    ck_assert_ptr_null(sres_merge(&set, &r, TCP));
    drop(&r);
    r = mk(2, "", 100, 1, 1);
    ck_assert_ptr_null(sres_merge(&set, &r, TCP));
    ck_assert_ptr_nonnull(r.name);
    drop(&r);
    r = mk(3, "empty.txt", 0, 1, 1);
    ck_assert_ptr_null(sres_merge(&set, &r, TCP));
    ck_assert_ptr_nonnull(r.name);
    ck_assert_ptr_nonnull(r.type);
    drop(&r);
    ck_assert_uint_eq(set.n, 0);
    /* nor does a nameless report count for a known hash */
    sres_result_t *m = report(&set, 4, TCP, 8, 8);
    r = mk(4, "", 700u << 20, 100, 100);
    ck_assert_ptr_null(sres_merge(&set, &r, IP_A, 4661));
    drop(&r);
    ck_assert_uint_eq(m->r.sources, 8);
    ck_assert_uint_eq(m->n_rep, 1);
    sres_clear(&set);
}
END_TEST

/* At most SRES_MAX_RESULTS results; the known ones still take counts. */
START_TEST(test_result_cap)
{
    sres_set_t set = { 0 };
    for (unsigned i = 0; i < SRES_MAX_RESULTS; i++) {
        ed2k_search_result_t r = mk((uint8_t)i, "f", 1 + i, 1, 0);
        r.hash[0] = (uint8_t)(i >> 8);
        r.hash[1] = (uint8_t)i;
        ck_assert_ptr_nonnull(sres_merge(&set, &r, TCP));
        drop(&r);
    }
    ck_assert_uint_eq(set.n, SRES_MAX_RESULTS);
    ed2k_search_result_t r = mk(0xEE, "one too many", 5, 1, 0);
    memset(r.hash, 0xEE, 16);
    ck_assert_ptr_null(sres_merge(&set, &r, TCP));
    ck_assert_ptr_nonnull(r.name);
    drop(&r);
    ck_assert_uint_eq(set.n, SRES_MAX_RESULTS);
    /* a known one from another server still adds up */
    r = mk(7, "f", 8, 6, 0);
    r.hash[0] = 0;
    r.hash[1] = 7;
    sres_result_t *m = sres_merge(&set, &r, IP_A, 4661);
    drop(&r);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->r.sources, 7);
    ck_assert_uint_eq(set.n, SRES_MAX_RESULTS);
    sres_clear(&set);
}
END_TEST

/* At most SRES_MAX_REPORTERS servers are counted per result; the counts
 * never wrap. */
START_TEST(test_reporter_cap_and_overflow)
{
    sres_set_t set = { 0 };
    sres_result_t *m = NULL;
    for (uint32_t i = 0; i < SRES_MAX_REPORTERS; i++)
        m = report(&set, 1, IP_A + i, 4661, 1, 1);
    /* those past the cap change nothing */
    for (uint32_t i = SRES_MAX_REPORTERS; i < SRES_MAX_REPORTERS + 3; i++)
        ck_assert_ptr_eq(report(&set, 1, IP_A + i, 4661, 100, 100), m);
    ck_assert_uint_eq(m->n_rep, SRES_MAX_REPORTERS);
    ck_assert_uint_eq(m->r.sources, SRES_MAX_REPORTERS);
    ck_assert_uint_eq(m->r.complete_sources, SRES_MAX_REPORTERS);
    /* the counted ones still replace their own */
    report(&set, 1, IP_A, 4661, 11, 1);
    ck_assert_uint_eq(m->r.sources, SRES_MAX_REPORTERS + 10);
    /* two huge counts stop at the top */
    sres_result_t *h = report(&set, 2, TCP, UINT32_MAX - 1, UINT32_MAX);
    report(&set, 2, IP_B, 4661, 5, 5);
    ck_assert_uint_eq(h->r.sources, UINT32_MAX);
    ck_assert_uint_eq(h->r.complete_sources, UINT32_MAX);
    sres_clear(&set);
}
END_TEST

/* A page as a server sends it, decoded and merged as search.c does, the
 * page then freed: what moved is not freed twice (the sanitizers watch),
 * the same hash twice in one page counts once. */
START_TEST(test_page)
{
    ed2k_search_result_t in[3];
    in[0] = mk(1, "one.iso", 1000, 3, 1);
    in[1] = mk(2, "two.iso", 2000, 9, 9);
    in[2] = mk(1, "one again.iso", 1000, 4, 2);
    struct evbuffer *b = evbuffer_new();
    uint32_t count = 3;
    evbuffer_add(b, &count, 4); /* little-endian hosts: the wire's order */
    for (int i = 0; i < 3; i++)
        ed2k_searchresult_entry_encode(b, &in[i], true);
    for (int i = 0; i < 3; i++)
        drop(&in[i]);
    size_t len = evbuffer_get_length(b);
    uint8_t *p = xmalloc(len);
    evbuffer_remove(b, p, len);
    evbuffer_free(b);
    ed2k_search_result_t *res = NULL;
    size_t n = 0;
    bool more = true;
    ck_assert_int_eq(ed2k_searchresult_decode(p, len, &res, &n, &more, NULL), 0);
    free(p);
    ck_assert_uint_eq(n, 3);
    sres_set_t set = { 0 };
    for (size_t i = 0; i < n; i++)
        sres_merge(&set, &res[i], TCP);
    ed2k_search_results_free(res, n);
    ck_assert_uint_eq(set.n, 2);
    ck_assert_str_eq(set.v[0]->r.name, "one.iso");
    ck_assert_uint_eq(set.v[0]->r.sources, 4);
    ck_assert_uint_eq(set.v[0]->r.complete_sources, 2);
    ck_assert_str_eq(set.v[1]->r.name, "two.iso");
    ck_assert_str_eq(set.v[1]->r.type, "Video");
    ck_assert_uint_eq(set.v[1]->r.sources, 9);
    sres_clear(&set);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("search_merge");
    TCase *tc = tcase_create("merge");
    tcase_add_test(tc, test_new_result_takes_strings);
    tcase_add_test(tc, test_servers_add_up);
    tcase_add_test(tc, test_server_replaces_its_counts);
    tcase_add_test(tc, test_dropped);
    tcase_add_test(tc, test_result_cap);
    tcase_add_test(tc, test_reporter_cap_and_overflow);
    tcase_add_test(tc, test_page);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
