/* check_ed2k_kadsearch.c: unit tests for lib/ed2k/kadsearch.c: keyword
 * splitting as eMule does it, keyword ids (§11.2 vectors), the search
 * request bytes, and KADEMLIA2_SEARCH_RES decoded with its bounds. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/c2s.h"
#include "ed2k/kadpkt.h"
#include "ed2k/kadsearch.h"
#include "ed2k/packet.h"
#include "ed2k/search.h"
#include "util/hex.h"

START_TEST(test_split)
{
    char w[KAD_WORDS_MAX][KAD_WORD_MAX_LEN + 1];
    size_t n = kad_words_split("The.Big_Test-file (Ubuntu) [ab] x64!the", w, KAD_WORDS_MAX, false);
    ck_assert_uint_eq(n, 6); /* "ab" too short, the second "the" a repeat */
    ck_assert_str_eq(w[0], "the");
    ck_assert_str_eq(w[1], "big");
    ck_assert_str_eq(w[2], "test");
    ck_assert_str_eq(w[3], "file");
    ck_assert_str_eq(w[4], "ubuntu");
    ck_assert_str_eq(w[5], "x64");
}
END_TEST

START_TEST(test_split_extension_and_limits)
{
    char w[KAD_WORDS_MAX][KAD_WORD_MAX_LEN + 1];
    ck_assert_uint_eq(kad_words_split("kwtest334 file.bin", w, KAD_WORDS_MAX, true), 2);
    ck_assert_str_eq(w[1], "file");
    ck_assert_uint_eq(kad_words_split("avi", w, KAD_WORDS_MAX, true), 1); /* the only word stays */
    ck_assert_uint_eq(kad_words_split("ab .. -- ::", w, KAD_WORDS_MAX, false), 0);
    ck_assert_uint_eq(kad_words_split("", w, KAD_WORDS_MAX, false), 0);
    ck_assert_uint_eq(kad_words_split("one two three four", w, 2, false), 2);
    char longw[400];
    memset(longw, 'a', sizeof longw - 1);
    longw[sizeof longw - 1] = '\0';
    ck_assert_uint_eq(kad_words_split(longw, w, KAD_WORDS_MAX, false), 1);
    ck_assert_uint_eq(strlen(w[0]), KAD_WORD_MAX_LEN);
}
END_TEST

START_TEST(test_word_ids)
{
    static const struct {
        const char *word, *wire;
    } v[] = {
        { "ubuntu", "2a85d7a56b404d264a2a682dd1b68fa8" },
        { "linux", "51987cd3c1dd797ed1278e68e59b84fe" },
        { "kwtest334", "9b03ea3c504ecad89b46f74918053e72" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        kad_id_t id;
        uint8_t wire[16], want[16];
        kad_word_id(v[i].word, &id);
        kad_id_to_wire(&id, wire);
        ck_assert_int_eq(mt_hex_decode(v[i].wire, 32, want, 16), 0);
        ck_assert_mem_eq(wire, want, 16);
    }
}
END_TEST

START_TEST(test_key_req_bytes)
{
    struct evbuffer *b = evbuffer_new();
    kad_id_t id;
    kad_word_id("kwtest334", &id);
    const uint8_t tree[] = { 0x01, 0x04, 0x00, 'f', 'i', 'l', 'e' };
    kad_search_key_req_encode(b, &id, tree, sizeof tree);
    ck_assert_uint_eq(evbuffer_get_length(b), 2 + 16 + 2 + sizeof tree);
    const uint8_t *p = evbuffer_pullup(b, -1);
    ck_assert_uint_eq(p[0], 0xE4);
    ck_assert_uint_eq(p[1], KAD_OP_SEARCH_KEY_REQ);
    ck_assert_uint_eq(p[2], 0x9b); /* the wire form of §11.2 */
    ck_assert_uint_eq(p[18], 0x00);
    ck_assert_uint_eq(p[19], 0x80); /* start 0x8000: a tree follows */
    kad_search_key_req_t rq;
    ck_assert_int_eq(kad_search_key_req_decode(p + 2, evbuffer_get_length(b) - 2, &rq, NULL), 0);
    ck_assert(kad_id_equal(&rq.keyword, &id));
    ck_assert_uint_eq(rq.tree_len, sizeof tree);
    ck_assert_mem_eq(rq.tree, tree, sizeof tree);
    evbuffer_drain(b, evbuffer_get_length(b));
    kad_search_key_req_encode(b, &id, NULL, 0);
    ck_assert_uint_eq(evbuffer_get_length(b), 20);
    ck_assert_int_eq(kad_search_key_req_decode(evbuffer_pullup(b, -1) + 2, 18, &rq, NULL), 0);
    ck_assert_uint_eq(rq.tree_len, 0);
    ck_assert_int_ne(kad_search_key_req_decode(evbuffer_pullup(b, -1) + 2, 17, &rq, NULL), 0);
    evbuffer_free(b);
}
END_TEST

/* a SEARCH_RES with two keyword answers, encoded then decoded */
START_TEST(test_search_res_round_trip)
{
    kad_search_answer_t a[2];
    kad_search_res_t r = { .count = 2, .v = a };
    kad_word_id("sender", &r.sender);
    kad_word_id("kwtest334", &r.target);
    for (int i = 0; i < 2; i++) {
        kad_word_id(i == 0 ? "file one" : "file two", &a[i].id);
        a[i].tags = ed2k_taglist_new();
        ed2k_taglist_add_str(a[i].tags, ED2K_FT_FILENAME, i == 0 ? "one.bin" : "two.bin", 7);
        ed2k_taglist_add_uint(a[i].tags, ED2K_FT_FILESIZE, 0, 1000 + (uint64_t)i);
        ed2k_taglist_add_uint(a[i].tags, ED2K_FT_SOURCES, 0, 3);
    }
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(kad_search_res_encode(b, &r, NULL), 0);
    size_t len = evbuffer_get_length(b);
    const uint8_t *p = evbuffer_pullup(b, -1);
    ck_assert_uint_eq(p[1], KAD_OP_SEARCH_RES);
    kad_search_res_t d;
    ck_assert_int_eq(kad_search_res_decode(p + 2, len - 2, &d, NULL), 0);
    ck_assert_uint_eq(d.count, 2);
    ck_assert(kad_id_equal(&d.target, &r.target));
    ck_assert(kad_id_equal(&d.v[1].id, &a[1].id));
    uint8_t hash[16];
    kad_id_to_digest(&d.v[1].id, hash);
    ed2k_search_result_t res;
    ck_assert(ed2k_search_result_from_tags(&res, hash, d.v[1].tags));
    ck_assert_str_eq(res.name, "two.bin");
    ck_assert_uint_eq(res.size, 1001);
    ck_assert_uint_eq(res.sources, 3);
    ed2k_search_result_clear(&res);
    kad_search_res_clear(&d);
    /* every truncation fails, and leaves nothing to free */
    for (size_t cut = 0; cut < len - 2; cut++)
        ck_assert_int_ne(kad_search_res_decode(p + 2, cut, &d, NULL), 0);
    /* a count past the limit */
    uint8_t big[34];
    memset(big, 0, sizeof big);
    big[32] = 0xFF;
    big[33] = 0xFF;
    ck_assert_int_ne(kad_search_res_decode(big, sizeof big, &d, NULL), 0);
    for (int i = 0; i < 2; i++)
        ed2k_taglist_free(a[i].tags);
    evbuffer_free(b);
}
END_TEST

/* publishes: a keyword with one file, a source, the answer */
START_TEST(test_publish_round_trip)
{
    kad_search_answer_t f = { .tags = ed2k_taglist_new() };
    kad_word_id("file", &f.id);
    ed2k_taglist_add_str(f.tags, ED2K_FT_FILENAME, "a.bin", 5);
    kad_id_t kw, me;
    kad_word_id("kwtest334", &kw);
    kad_word_id("me", &me);
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(kad_publish_key_req_encode(b, &kw, &f, 1, NULL), 0);
    size_t len = evbuffer_get_length(b);
    const uint8_t *p = evbuffer_pullup(b, -1);
    ck_assert_uint_eq(p[1], KAD_OP_PUBLISH_KEY_REQ);
    kad_search_res_t d;
    ck_assert_int_eq(kad_publish_key_req_decode(p + 2, len - 2, &d, NULL), 0);
    ck_assert_uint_eq(d.count, 1);
    ck_assert(kad_id_equal(&d.target, &kw));
    ck_assert(kad_id_equal(&d.v[0].id, &f.id));
    kad_search_res_clear(&d);
    ck_assert_int_ne(kad_publish_key_req_decode(p + 2, len - 3, &d, NULL), 0);
    evbuffer_drain(b, len);

    ck_assert_int_eq(kad_publish_source_req_encode(b, &kw, &me, f.tags, NULL), 0);
    len = evbuffer_get_length(b);
    p = evbuffer_pullup(b, -1);
    kad_id_t file, pub;
    ed2k_taglist_t *t = NULL;
    ck_assert_int_eq(kad_publish_source_req_decode(p + 2, len - 2, &file, &pub, &t, NULL), 0);
    ck_assert(kad_id_equal(&pub, &me));
    ck_assert_uint_eq(ed2k_taglist_count(t), 1);
    ed2k_taglist_free(t);
    ck_assert_int_ne(kad_publish_source_req_decode(p + 2, 31, &file, &pub, &t, NULL), 0);
    evbuffer_drain(b, len);

    kad_publish_res_encode(b, &kw, 42);
    uint8_t load = 0;
    ck_assert_uint_eq(evbuffer_get_length(b), 19);
    ck_assert_int_eq(kad_publish_res_decode(evbuffer_pullup(b, -1) + 2, 17, &file, &load, NULL), 0);
    ck_assert_uint_eq(load, 42);
    ck_assert(kad_id_equal(&file, &kw));
    ed2k_taglist_free(f.tags);
    evbuffer_free(b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_kadsearch");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_split);
    tcase_add_test(tc, test_split_extension_and_limits);
    tcase_add_test(tc, test_word_ids);
    tcase_add_test(tc, test_key_req_bytes);
    tcase_add_test(tc, test_search_res_round_trip);
    tcase_add_test(tc, test_publish_round_trip);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
