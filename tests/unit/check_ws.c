/* check_ws.c: unit tests for muleteer-ws's pure parts: the action decoder
 * (ws/action.c), the items made from the daemon's downloads (ws/item.c)
 * and the batch-update deltas (ws/delta.c). */
#include "config.h"

#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "ws/action.h"
#include "ws/delta.h"
#include "ws/item.h"
#include "ws/owner.h"

static char *
refusal(const char *text)
{
    ws_action_t a;
    char *msg = NULL;
    ck_assert_int_eq(ws_action_parse(text, strlen(text), &a, &msg), -1);
    ck_assert_ptr_nonnull(msg);
    return msg;
}

START_TEST(test_action_errors)
{
    static const struct {
        const char *in, *msg;
    } cases[] = {
        { "not json", "Invalid JSON" },
        { "{\"action\":\"getStats\"} x", "Invalid JSON" },
        { "\xff{}", "Invalid JSON" },
        { "[]", "Missing action" },
        { "{\"action\":7}", "Missing action" },
        { "{}", "Missing action" },
        { "{\"action\":\"frobnicate\"}", "Unknown action: frobnicate" },
        { "{\"action\":\"batchPause\"}", "items: an array of items expected" },
        { "{\"action\":\"batchPause\",\"items\":[]}", "items: 1 to 1000 items expected" },
        { "{\"action\":\"batchPause\",\"items\":[{\"fileHash\":\"abc\"}]}",
          "items[].fileHash: 32 hex digits expected" },
        { "{\"action\":\"pauseDownload\",\"fileHash\":17}", "fileHash: 32 hex digits expected" },
        { "{\"action\":\"batchDelete\",\"items\":[{\"fileHash\":\"0123456789abcdef0123456789abcdef\"}],"
          "\"deleteFiles\":\"yes\"}",
          "deleteFiles: true or false expected" },
        { "{\"action\":\"addEd2kLinks\",\"links\":\"ed2k://\"}", "links: an array of 1 to 1000 links expected" },
        { "{\"action\":\"addEd2kLinks\",\"links\":[\"\"]}", "links: a non-empty ed2k link expected" },
        { "{\"action\":\"addEd2kLink\",\"link\":\"x\",\"categoryId\":\"1\"}", "categoryId: a category number expected" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *msg = refusal(cases[i].in);
        ck_assert_msg(strcmp(msg, cases[i].msg) == 0, "%s: %s", cases[i].in, msg);
        free(msg);
    }
}
END_TEST

START_TEST(test_action_batch)
{
    const char *t = "{\"action\":\"batchDelete\",\"items\":[{\"fileHash\":\"0123456789ABCDEF0123456789abcdef\","
                    "\"instanceId\":\"amule-x\"},{\"fileHash\":\"ffffffffffffffffffffffffffffffff\"}],"
                    "\"deleteFiles\":true,\"source\":\"downloads\"}\n";
    ws_action_t a;
    char *msg = NULL;
    ck_assert_int_eq(ws_action_parse(t, strlen(t), &a, &msg), 0);
    ck_assert_int_eq(a.kind, WSA_DELETE);
    ck_assert(!a.legacy);
    ck_assert(a.delete_files);
    ck_assert_uint_eq(a.n_hashes, 2);
    ck_assert_str_eq(a.hashes[0], "0123456789abcdef0123456789abcdef");
    ck_assert_str_eq(ws_action_reply_type(a.kind), "batch-delete-complete");
    ws_action_clear(&a);

    t = "{\"action\":\"resumeDownload\",\"fileHash\":\"0123456789abcdef0123456789abcdef\"}";
    ck_assert_int_eq(ws_action_parse(t, strlen(t), &a, &msg), 0);
    ck_assert_int_eq(a.kind, WSA_RESUME);
    ck_assert(a.legacy);
    ck_assert_uint_eq(a.n_hashes, 1);
    ws_action_clear(&a);

    t = "{\"action\":\"addEd2kLinks\",\"links\":[\"ed2k://|file|a|1|00000000000000000000000000000000|/\"],"
        "\"categoryName\":\"Default\"}";
    ck_assert_int_eq(ws_action_parse(t, strlen(t), &a, &msg), 0);
    ck_assert_int_eq(a.kind, WSA_ADD_LINKS);
    ck_assert_uint_eq(a.n_links, 1);
    ck_assert_ptr_null(a.category); /* "Default" is no category */
    ws_action_clear(&a);

    t = "{\"action\":\"addEd2kLink\",\"link\":\"ed2k://x\",\"categoryId\":2}";
    ck_assert_int_eq(ws_action_parse(t, strlen(t), &a, &msg), 0);
    ck_assert(a.legacy);
    ck_assert_int_eq(a.category_id, 2);
    ws_action_clear(&a);
}
END_TEST

static ws_action_t
parsed(const char *t)
{
    ws_action_t a;
    char *msg = NULL;
    int rc = ws_action_parse(t, strlen(t), &a, &msg);
    ck_assert_msg(rc == 0, "%s: %s", t, msg ? msg : "");
    return a;
}

/* categories, servers, logs, rename, segment data */
START_TEST(test_action_more)
{
    ws_action_t a = parsed("{\"action\":\"createCategory\",\"title\":\"tv\",\"path\":\"/x\","
                           "\"comment\":\"c\",\"color\":\"#12aBef\",\"priority\":1,\"pathMappings\":null}");
    ck_assert_int_eq(a.kind, WSA_CAT_CREATE);
    ck_assert_str_eq(a.title, "tv");
    ck_assert_int_eq(a.colour, 0x12abef);
    ck_assert_int_eq(a.priority, 1);
    ws_action_clear(&a);
    /* the older list: inside "category", the colour as aMule's BGR number */
    a = parsed("{\"action\":\"updateCategory\",\"id\":2,\"category\":{\"title\":\"tv2\",\"color\":1193046}}");
    ck_assert_int_eq(a.category_id, 2);
    ck_assert_str_eq(a.title, "tv2");
    ck_assert_int_eq(a.colour, 0x563412);
    ws_action_clear(&a);
    a = parsed("{\"action\":\"deleteCategory\",\"name\":\"tv\"}");
    ck_assert_str_eq(a.cat_name, "tv");
    ws_action_clear(&a);
    a = parsed("{\"action\":\"batchSetFileCategory\",\"items\":[{\"fileHash\":"
               "\"0123456789abcdef0123456789abcdef\"}],\"categoryName\":\"tv\",\"moveFiles\":false}");
    ck_assert_str_eq(a.category, "tv");
    ck_assert_str_eq(ws_action_reply_type(a.kind), "batch-category-changed");
    ws_action_clear(&a);
    a = parsed("{\"action\":\"serverDoAction\",\"ip\":\"1.2.3.4\",\"port\":4661,\"serverAction\":\"remove\"}");
    ck_assert_int_eq(a.server_action, WSA_SRV_REMOVE);
    ck_assert_str_eq(a.address, "1.2.3.4");
    ck_assert_int_eq(a.port, 4661);
    ws_action_clear(&a);
    a = parsed("{\"action\":\"connectServer\",\"serverAddress\":\"host.example:4242\"}");
    ck_assert_int_eq(a.server_action, WSA_SRV_CONNECT);
    ck_assert_str_eq(a.address, "host.example");
    ck_assert_int_eq(a.port, 4242);
    ws_action_clear(&a);
    a = parsed("{\"action\":\"getAppLog\",\"limit\":50,\"minLevel\":\"warn\"}");
    ck_assert_int_eq(a.limit, 50);
    ck_assert_str_eq(a.min_level, "warn");
    ws_action_clear(&a);
    a = parsed("{\"action\":\"unsubscribe\",\"channel\":\"segmentData\"}");
    ck_assert_int_eq(a.kind, WSA_SEGMENTS);
    ck_assert(!a.subscribe);
    ws_action_clear(&a);

    a = parsed("{\"action\":\"search\",\"query\":\"big buck\",\"type\":\"local\",\"extension\":null}");
    ck_assert_int_eq(a.kind, WSA_SEARCH);
    ck_assert_str_eq(a.query, "big buck");
    ck_assert(a.local);
    ws_action_clear(&a);
    a = parsed("{\"action\":\"batchDownloadSearchResults\",\"fileHashes\":[\"0123456789ABCDEF0123456789abcdef\"],"
               "\"categoryName\":\"tv\"}");
    ck_assert_int_eq(a.kind, WSA_DOWNLOAD);
    ck_assert_str_eq(a.hashes[0], "0123456789abcdef0123456789abcdef");
    ck_assert_str_eq(a.category, "tv");
    ck_assert_str_eq(ws_action_reply_type(a.kind), "batch-download-complete");
    ws_action_clear(&a);

    static const struct {
        const char *in, *msg;
    } bad[] = {
        { "{\"action\":\"search\",\"query\":\"\"}", "query: the words to search for expected" },
        { "{\"action\":\"setFileRatingComment\",\"fileHash\":\"0123456789abcdef0123456789abcdef\","
          "\"comment\":\"c\",\"rating\":6}",
          "rating: an integer in range expected" },
        { "{\"action\":\"setFileRatingComment\",\"fileHash\":\"0123456789abcdef0123456789abcdef\","
          "\"rating\":1}",
          "comment: a string expected" },
        { "{\"action\":\"batchMoveFiles\",\"items\":[{\"fileHash\":\"0123456789abcdef0123456789abcdef\"}]}",
          "destPath: a directory expected" },
        { "{\"action\":\"checkMovePermissions\",\"items\":[{\"fileHash\":\"0123456789abcdef0123456789abcdef\"}]}",
          "categoryName: a category name expected" },
        { "{\"action\":\"search\",\"query\":\"x\",\"type\":\"web\"}", "type: global, kad or local expected" },
        { "{\"action\":\"batchDownloadSearchResults\",\"fileHashes\":[]}",
          "fileHashes: an array of 1 to 1000 hashes expected" },
        { "{\"action\":\"createCategory\",\"title\":\"\"}", "title: a category name expected" },
        { "{\"action\":\"createCategory\",\"title\":\"a\",\"color\":\"red\"}",
          "color: \"#rrggbb\" or a colour number expected" },
        { "{\"action\":\"createCategory\",\"title\":\"a\",\"priority\":9}",
          "priority: an integer in range expected" },
        { "{\"action\":\"deleteCategory\"}", "name: a category name expected" },
        { "{\"action\":\"serverDoAction\",\"ip\":\"1.2.3.4\",\"port\":0,\"serverAction\":\"connect\"}",
          "port: an integer in range expected" },
        { "{\"action\":\"serverDoAction\",\"serverAction\":\"explode\"}",
          "serverAction: connect, disconnect or remove expected" },
        { "{\"action\":\"removeServer\",\"serverAddress\":\"1.2.3.4:99999\"}",
          "serverAddress: \"host:port\" expected" },
        { "{\"action\":\"getAppLog\",\"minLevel\":\"loud\"}", "minLevel: error, warn, info or debug expected" },
        { "{\"action\":\"renameFile\",\"fileHash\":\"0123456789abcdef0123456789abcdef\"}",
          "newName: a file name expected" },
        { "{\"action\":\"subscribe\",\"channel\":\"x\"}", "channel: \"segmentData\" expected" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *msg = refusal(bad[i].in);
        ck_assert_msg(strcmp(msg, bad[i].msg) == 0, "%s: %s", bad[i].in, msg);
        free(msg);
    }
}
END_TEST

static json_object *
parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    ck_assert_ptr_nonnull(o);
    return o;
}

static const char *
get(json_object *o, const char *k)
{
    json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(o, k, &v), "no %s", k);
    return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

START_TEST(test_items)
{
    json_object *answer = parse(
        "{\"downloads\":[{\"hash\":\"0123456789abcdef0123456789abcdef\",\"name\":\"a.bin\",\"size\":1000,"
        "\"done\":250,\"state\":\"paused\",\"progress\":0.25,\"rate\":0,\"category\":\"tv\","
        "\"priority\":\"high\",\"added_at\":0,\"uploaded\":100,"
        "\"sources\":{\"total\":3,\"transferring\":1},"
        "\"peers\":[{\"peer\":\"mule-A (1.2.3.4:4662)\",\"state\":\"downloading\",\"received\":9,"
        "\"rank\":0,\"software\":\"aMule 2.3.3\",\"name\":\"mule-A\",\"complete\":true}]},"
        "{\"hash\":\"bad\"}],"
        "\"finished\":[{\"hash\":\"ffffffffffffffffffffffffffffffff\",\"name\":\"b\",\"size\":5,"
        "\"state\":\"completed\",\"sharing\":\"active\",\"category\":null}]}");
    json_object *cats = parse("[{\"name\":\"movies\"},{\"name\":\"tv\"}]");
    json_object *items = ws_items_from_downloads(answer, "amule-n", cats);
    ck_assert_uint_eq(json_object_array_length(items), 2);
    json_object *a = json_object_array_get_idx(items, 0), *b = json_object_array_get_idx(items, 1);
    ck_assert_str_eq(get(a, "progress"), "\"25.00\"");
    ck_assert_str_eq(get(a, "status"), "\"paused\"");
    ck_assert_str_eq(get(a, "categoryId"), "2");
    ck_assert_str_eq(get(a, "downloadPriority"), "2");
    ck_assert_str_eq(get(a, "sizeDownloaded"), "250");
    ck_assert_str_eq(get(a, "sources"),
                     "{\"total\":3,\"connected\":1,\"seeders\":0,\"a4af\":0,\"notCurrent\":0}");
    ck_assert_str_eq(get(a, "ed2kLink"), "\"ed2k://|file|a.bin|1000|0123456789abcdef0123456789abcdef|/\"");
    ck_assert_ptr_nonnull(strstr(get(a, "peers"), "\"address\":\"1.2.3.4\",\"port\":4662"));
    ck_assert_str_eq(get(a, "downloading"), "true");
    ck_assert_str_eq(get(b, "progress"), "100");
    ck_assert_str_eq(get(b, "category"), "\"Default\"");
    ck_assert_str_eq(get(b, "seeding"), "true");
    ck_assert_str_eq(get(b, "shared"), "true");
    json_object_put(items);
    json_object_put(answer);

    json_object *list = ws_category_list(cats);
    ck_assert_uint_eq(json_object_array_length(list), 3);
    ck_assert_str_eq(get(json_object_array_get_idx(list, 0), "title"), "\"Default\"");
    ck_assert_str_eq(get(json_object_array_get_idx(list, 2), "title"), "\"tv\"");
    json_object_put(list);
    json_object_put(cats);

    /* gapStatus: parts not verified, merged, inclusive ends */
    json_object *states = parse("[2,0,1,2,0]");
    json_object *gaps = ws_gap_status(states, 4 * 9728000ULL + 100);
    ck_assert_str_eq(json_object_to_json_string_ext(gaps, JSON_C_TO_STRING_PLAIN),
                     "[9728000,29183999,38912000,38912099]");
    json_object_put(gaps);
    json_object_put(states);
    states = parse("[2,2]");
    gaps = ws_gap_status(states, 2 * 9728000ULL);
    ck_assert_uint_eq(json_object_array_length(gaps), 0);
    json_object_put(gaps);
    json_object_put(states);

    char id[64];
    ws_instance_id("my host:1", id, sizeof id);
    ck_assert_str_eq(id, "amule-my-host-1");
}
END_TEST

/* the segment data: partStatus from the daemon's availability, gapStatus
 * and reqStatus from its half-open ranges, directory from save_path */
START_TEST(test_item_segments)
{
    json_object *answer = parse(
        "{\"downloads\":[{\"hash\":\"0123456789abcdef0123456789abcdef\",\"name\":\"a.bin\","
        "\"size\":24000000,\"done\":5000000,\"state\":\"downloading\",\"progress\":0.2,"
        "\"availability\":[2,0,1],\"save_path\":\"/srv/in/tv\"},"
        "{\"hash\":\"00000000000000000000000000000001\",\"name\":\"old\",\"size\":5}],"
        "\"finished\":[{\"hash\":\"ffffffffffffffffffffffffffffffff\",\"name\":\"b\",\"size\":5,"
        "\"state\":\"completed\",\"save_path\":\"/srv/in\"}]}");
    json_object *items = ws_items_from_downloads(answer, "amule-n", NULL);
    json_object *a = json_object_array_get_idx(items, 0), *old = json_object_array_get_idx(items, 1);
    json_object *b = json_object_array_get_idx(items, 2);
    ck_assert_str_eq(get(a, "partStatus"), "[2,0,1]");
    ck_assert_str_eq(get(a, "directory"), "\"/srv/in/tv\"");
    ck_assert_str_eq(get(old, "partStatus"), "null"); /* a daemon that does not say */
    ck_assert_str_eq(get(old, "directory"), "null");
    ck_assert_str_eq(get(b, "partStatus"), "null");
    ck_assert_str_eq(get(b, "directory"), "\"/srv/in\"");
    json_object_put(items);
    json_object_put(answer);

    /* [s, e) -> [s, e - 1]; empty, reversed, overlapping or beyond the
     * file left out, an end past the size cut */
    json_object *r = parse("[0,184320,5000000,5184320,7,7,6000000,5900000,5100000,5200000,23999000,24000500]");
    json_object *st = ws_range_status(r, 24000000);
    ck_assert_str_eq(json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN),
                     "[0,184319,5000000,5184319,23999000,23999999]");
    json_object_put(st);
    json_object_put(r);
    st = ws_range_status(NULL, 10);
    ck_assert_str_eq(json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN), "[]");
    json_object_put(st);
    r = parse("[3,9,1]"); /* a lone start is no range */
    st = ws_range_status(r, 10);
    ck_assert_str_eq(json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN), "[3,8]");
    json_object_put(st);
    json_object_put(r);

    json_object *dl = parse("{\"availability\":[-1,3]}");
    json_object *ps = ws_part_status(dl);
    ck_assert_str_eq(json_object_to_json_string_ext(ps, JSON_C_TO_STRING_PLAIN), "[0,3]");
    json_object_put(ps);
    json_object_put(dl);
}
END_TEST

START_TEST(test_delta)
{
    json_object *prev = parse("[{\"hash\":\"a\",\"instanceId\":\"i\",\"x\":1,\"y\":[1]},"
                              "{\"hash\":\"b\",\"instanceId\":\"i\",\"x\":1},"
                              "{\"hash\":\"c\",\"instanceId\":\"i\",\"x\":1},"
                              "{\"hash\":\"d\",\"instanceId\":\"i\",\"x\":1},"
                              "{\"hash\":\"e\",\"instanceId\":\"i\",\"x\":1}]");
    json_object *next = parse("[{\"hash\":\"a\",\"instanceId\":\"i\",\"x\":1,\"y\":[2]},"
                              "{\"hash\":\"b\",\"instanceId\":\"i\",\"x\":1},"
                              "{\"hash\":\"c\",\"instanceId\":\"i\",\"x\":1},"
                              "{\"hash\":\"d\",\"instanceId\":\"i\",\"x\":1},"
                              "{\"hash\":\"f\",\"instanceId\":\"i\",\"x\":1}]");
    ws_delta_t d;
    ws_delta_compute(prev, next, &d);
    ck_assert(!d.snapshot);
    ck_assert(!ws_delta_is_empty(&d));
    ck_assert_str_eq(json_object_to_json_string_ext(d.changed, JSON_C_TO_STRING_PLAIN),
                     "[{\"y\":[2],\"hash\":\"a\",\"instanceId\":\"i\"}]");
    ck_assert_str_eq(json_object_to_json_string_ext(d.removed, JSON_C_TO_STRING_PLAIN), "[\"i:e\"]");
    ck_assert_uint_eq(json_object_array_length(d.added), 1);
    ws_delta_clear(&d);

    /* nothing changed */
    ws_delta_compute(next, next, &d);
    ck_assert(ws_delta_is_empty(&d));
    ck_assert(!d.snapshot);
    ws_delta_clear(&d);

    /* most items new: a snapshot */
    ws_delta_compute(NULL, next, &d);
    ck_assert(d.snapshot);
    ck_assert_uint_eq(json_object_array_length(d.added), 5);
    ws_delta_clear(&d);
    json_object_put(prev);
    json_object_put(next);
}
END_TEST

/* own downloads: what a limited account, a view-all account and an admin
 * get of the same snapshot and delta */
START_TEST(test_owner_views)
{
    json_object *owners = json_tokener_parse("{\"aa\":\"bob\",\"bb\":\"admin\"}");
    json_object *snap = json_tokener_parse(
        "{\"type\":\"batch-update\",\"data\":{\"seq\":7,\"stats\":{},\"items\":["
        "{\"hash\":\"aa\",\"instanceId\":\"i\",\"ownedByMe\":true},"
        "{\"hash\":\"bb\",\"instanceId\":\"i\",\"ownedByMe\":true},"
        "{\"hash\":\"cc\",\"instanceId\":\"i\",\"ownedByMe\":true}]}}");
    json_object *delta = json_tokener_parse(
        "{\"type\":\"batch-update\",\"data\":{\"delta\":{\"seq\":8,"
        "\"added\":[{\"hash\":\"bb\",\"instanceId\":\"i\"},{\"hash\":\"aa\",\"instanceId\":\"i\"}],"
        "\"removed\":[\"i:bb\",\"i:aa\"],"
        "\"changed\":[{\"hash\":\"bb\",\"instanceId\":\"i\",\"x\":1},{\"hash\":\"aa\",\"instanceId\":\"i\",\"x\":2}]}}}");
    ws_view_t bob = { .user = "bob", .view_owner = "bob", .edit_owner = "bob", .all_owned = false };
    ws_view_t carol = { .user = "carol", .view_owner = NULL, .edit_owner = "carol", .all_owned = false };
    ws_view_t admin = { .user = "admin", .view_owner = NULL, .edit_owner = NULL, .all_owned = true };
    ck_assert(ws_view_is_full(&admin));
    ck_assert(!ws_view_is_full(&bob) && !ws_view_is_full(&carol));

    json_object *m = ws_view_message(snap, owners, &bob);
    ck_assert_str_eq(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN),
                     "{\"type\":\"batch-update\",\"data\":{\"seq\":7,\"stats\":{},\"items\":["
                     "{\"hash\":\"aa\",\"instanceId\":\"i\",\"ownedByMe\":true}]}}");
    json_object_put(m);
    m = ws_view_message(snap, owners, &carol);
    ck_assert_str_eq(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN),
                     "{\"type\":\"batch-update\",\"data\":{\"seq\":7,\"stats\":{},\"items\":["
                     "{\"hash\":\"aa\",\"instanceId\":\"i\",\"ownedByMe\":false},"
                     "{\"hash\":\"bb\",\"instanceId\":\"i\",\"ownedByMe\":false},"
                     "{\"hash\":\"cc\",\"instanceId\":\"i\",\"ownedByMe\":false}]}}");
    json_object_put(m);
    m = ws_view_message(delta, owners, &bob);
    ck_assert_str_eq(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN),
                     "{\"type\":\"batch-update\",\"data\":{\"delta\":{\"seq\":8,"
                     "\"added\":[{\"hash\":\"aa\",\"instanceId\":\"i\",\"ownedByMe\":true}],"
                     "\"removed\":[\"i:aa\"],"
                     "\"changed\":[{\"hash\":\"aa\",\"instanceId\":\"i\",\"x\":2}]}}}");
    json_object_put(m);
    /* the shared message is untouched */
    json_object *items = json_object_object_get(json_object_object_get(snap, "data"), "items");
    ck_assert_uint_eq(json_object_array_length(items), 3);

    ck_assert(ws_view_edits(&bob, owners, "aa") && !ws_view_edits(&bob, owners, "bb"));
    ck_assert(!ws_view_edits(&bob, owners, "cc")); /* an unknown owner is nobody's */
    ck_assert(ws_view_sees(&carol, owners, "bb") && !ws_view_edits(&carol, owners, "bb"));
    ck_assert(ws_view_edits(&admin, owners, "cc"));
    json_object *it = ws_view_items(items, owners, &bob);
    ck_assert_uint_eq(json_object_array_length(it), 1);
    json_object_put(it);
    json_object_put(snap);
    json_object_put(delta);
    json_object_put(owners);
}
END_TEST

/* view_shared and view_uploads: an account without them gets no shared
 * file and no upload peer, in snapshots and deltas; a download that
 * finishes leaves its list */
START_TEST(test_shared_upload_views)
{
    json_object *prev = json_tokener_parse(
        "[{\"hash\":\"aa\",\"instanceId\":\"i\",\"downloading\":true},"
        "{\"hash\":\"ff\",\"instanceId\":\"i\",\"downloading\":false},"
        "{\"hash\":\"gg\",\"instanceId\":\"i\",\"downloading\":false}]");
    json_object *next = json_tokener_parse(
        "[{\"hash\":\"aa\",\"instanceId\":\"i\",\"downloading\":false},"
        "{\"hash\":\"ff\",\"instanceId\":\"i\",\"downloading\":false},"
        "{\"hash\":\"dd\",\"instanceId\":\"i\",\"downloading\":true,\"peers\":["
        "{\"role\":\"download\",\"id\":\"p1\"},{\"role\":\"upload\",\"id\":\"p2\"}]}]");
    json_object *shared = ws_shared_only(prev, next);
    ck_assert_str_eq(json_object_to_json_string_ext(shared, JSON_C_TO_STRING_PLAIN),
                     "{\"ff\":true,\"gg\":true,\"aa\":true}");
    ws_view_t dave = { .user = "dave", .edit_owner = "dave", .all_owned = true, .hide_shared = true,
                       .hide_uploads = true, .shared_only = shared };
    ws_view_t eve = { .user = "eve", .all_owned = true, .hide_uploads = true, .shared_only = shared };
    ws_view_t admin = { .user = "admin", .all_owned = true, .shared_only = shared };
    ck_assert(!ws_view_is_full(&dave) && !ws_view_is_full(&eve) && ws_view_is_full(&admin));

    json_object *snap = json_object_new_object(), *data = json_object_new_object();
    json_object_object_add(data, "items", json_object_get(next));
    json_object_object_add(snap, "data", data);
    json_object *m = ws_view_message(snap, NULL, &dave);
    ck_assert_str_eq(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN),
                     "{\"data\":{\"items\":[{\"hash\":\"dd\",\"instanceId\":\"i\",\"downloading\":true,"
                     "\"peers\":[{\"role\":\"download\",\"id\":\"p1\"}],\"ownedByMe\":true}]}}");
    json_object_put(m);
    m = ws_view_message(snap, NULL, &eve);
    json_object *items = json_object_object_get(json_object_object_get(m, "data"), "items");
    ck_assert_uint_eq(json_object_array_length(items), 3);
    json_object_put(m);

    /* aa finished: dave gets its removal; ff's patch, gg's removal and
     * the shared file hh added are held back */
    json_object *delta = json_tokener_parse(
        "{\"data\":{\"delta\":{\"seq\":3,"
        "\"added\":[{\"hash\":\"hh\",\"instanceId\":\"i\",\"downloading\":false},"
        "{\"hash\":\"dd\",\"instanceId\":\"i\",\"downloading\":true}],"
        "\"removed\":[\"i:gg\",\"i:zz\"],"
        "\"changed\":[{\"hash\":\"aa\",\"instanceId\":\"i\",\"downloading\":false,\"shared\":true},"
        "{\"hash\":\"ff\",\"instanceId\":\"i\",\"uploadTotal\":5},"
        "{\"hash\":\"dd\",\"instanceId\":\"i\",\"peers\":[{\"role\":\"upload\"}]}]}}}");
    m = ws_view_message(delta, NULL, &dave);
    ck_assert_str_eq(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN),
                     "{\"data\":{\"delta\":{\"seq\":3,"
                     "\"added\":[{\"hash\":\"dd\",\"instanceId\":\"i\",\"downloading\":true,\"ownedByMe\":true}],"
                     "\"removed\":[\"i:zz\",\"i:aa\"],"
                     "\"changed\":[{\"hash\":\"dd\",\"instanceId\":\"i\",\"peers\":[]}]}}}");
    json_object_put(m);
    m = ws_view_message(delta, NULL, &eve);
    json_object *d = json_object_object_get(json_object_object_get(m, "data"), "delta");
    ck_assert_uint_eq(json_object_array_length(json_object_object_get(d, "added")), 2);
    ck_assert_uint_eq(json_object_array_length(json_object_object_get(d, "removed")), 2);
    ck_assert_uint_eq(json_object_array_length(json_object_object_get(d, "changed")), 3);
    json_object_put(m);
    json_object *it = ws_view_items(next, NULL, &dave);
    ck_assert_uint_eq(json_object_array_length(it), 1);
    json_object_put(it);
    json_object_put(delta);
    json_object_put(snap);
    json_object_put(shared);
    json_object_put(prev);
    json_object_put(next);
}
END_TEST

/* batchSetPriority, Muleteer's own: items and one of three names */
START_TEST(test_action_priority)
{
    const char *t = "{\"action\":\"batchSetPriority\",\"items\":[{\"fileHash\":"
                    "\"0123456789ABCDEF0123456789abcdef\"}],\"priority\":\"high\"}";
    ws_action_t a;
    char *msg = NULL;
    ck_assert_int_eq(ws_action_parse(t, strlen(t), &a, &msg), 0);
    ck_assert_int_eq(a.kind, WSA_SET_PRIORITY);
    ck_assert_uint_eq(a.n_hashes, 1);
    ck_assert_str_eq(a.hashes[0], "0123456789abcdef0123456789abcdef");
    ck_assert_str_eq(a.dl_priority, "high");
    ck_assert_str_eq(ws_action_reply_type(a.kind), "batch-priority-complete");
    ws_action_clear(&a);
    static const char *const bad[] = {
        "{\"action\":\"batchSetPriority\",\"items\":[{\"fileHash\":"
        "\"0123456789abcdef0123456789abcdef\"}],\"priority\":\"urgent\"}",
        "{\"action\":\"batchSetPriority\",\"items\":[{\"fileHash\":"
        "\"0123456789abcdef0123456789abcdef\"}],\"priority\":2}",
        "{\"action\":\"batchSetPriority\",\"items\":[{\"fileHash\":"
        "\"0123456789abcdef0123456789abcdef\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg = refusal(bad[i]);
        ck_assert_str_eq(msg, "priority: low, normal or high expected");
        free(msg);
    }
    msg = refusal("{\"action\":\"batchSetPriority\",\"items\":[],\"priority\":\"low\"}");
    ck_assert_str_eq(msg, "items: 1 to 1000 items expected");
    free(msg);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ws");
    TCase *tc = tcase_create("logic");
    tcase_add_test(tc, test_action_errors);
    tcase_add_test(tc, test_action_batch);
    tcase_add_test(tc, test_action_more);
    tcase_add_test(tc, test_items);
    tcase_add_test(tc, test_item_segments);
    tcase_add_test(tc, test_delta);
    tcase_add_test(tc, test_owner_views);
    tcase_add_test(tc, test_shared_upload_views);
    tcase_add_test(tc, test_action_priority);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
