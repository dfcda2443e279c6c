/* check_history.c: unit tests for the pure rules of cgi-bin/history
 * (query.c): parameters refused by name, sortBy only from the allow-list,
 * search values only ever bound (never in the SQL text), and CSV fields
 * quoted as RFC 4180 says and defused for spreadsheets. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "history/query.h"

/* A request's query as name/value pairs, NULL-terminated. */
static const char *
get(void *ctx, const char *name)
{
    const char *const *kv = ctx;
    for (; kv[0] != NULL; kv += 2)
        if (strcmp(kv[0], name) == 0)
            return kv[1];
    return NULL;
}

static void
refused(const char *name, const char *value, const char *param)
{
    const char *kv[] = { name, value, NULL };
    hq_t q;
    hq_error_t err;
    ck_assert_msg(hq_parse(&q, get, kv, &err) == -1, "%s=%s accepted", name, value);
    ck_assert_str_eq(err.param, param);
    hq_clear(&q);
}

START_TEST(test_defaults_and_values)
{
    const char *none[] = { NULL };
    hq_t q;
    hq_error_t err;
    ck_assert_int_eq(hq_parse(&q, get, none, &err), 0);
    ck_assert_int_eq(q.limit, 50);
    ck_assert_int_eq(q.offset, 0);
    ck_assert_str_eq(q.sort, "started_at");
    ck_assert(q.desc);
    ck_assert_ptr_null(q.pattern);
    hq_clear(&q);
    const char *kv[] = { "limit", "500", "offset", "1000", "sortBy", "filename", "sortDir",
                         "ASC", "search", "50%_a\\b", "status", "completed", "category",
                         "tv", NULL };
    ck_assert_int_eq(hq_parse(&q, get, kv, &err), 0);
    ck_assert_int_eq(q.limit, 500);
    ck_assert_int_eq(q.offset, 1000);
    ck_assert_str_eq(q.sort, "name");
    ck_assert(!q.desc);
    ck_assert_str_eq(q.pattern, "%50\\%\\_a\\\\b%");
    ck_assert_str_eq(q.status, "completed");
    ck_assert_str_eq(q.category, "tv");
    hq_clear(&q);
}
END_TEST

START_TEST(test_refused)
{
    refused("limit", "0", "limit");
    refused("limit", "501", "limit");
    refused("limit", "-1", "limit");
    refused("limit", "10x", "limit");
    refused("limit", "", "limit");
    refused("offset", "-5", "offset");
    refused("offset", " 5", "offset");
    refused("sortBy", "started_at; DROP TABLE history", "sortBy");
    refused("sortBy", "id", "sortBy");
    refused("sortBy", "1", "sortBy");
    refused("sortDir", "desc, id", "sortDir");
    refused("status", "completed' OR '1'='1", "status");
    refused("status", "missing", "status");
    refused("search", "a\nb", "search");
    refused("search", "tab\there", "search");
}
END_TEST

/* A search, a status and a category reach the SQL only as $n. */
START_TEST(test_sql_binds_values)
{
    const char *kv[] = { "search", "x' OR 1=1 --", "status", "failed", "category",
                         "a'b", "sortBy", "completed_at", NULL };
    hq_t q;
    hq_error_t err;
    ck_assert_int_eq(hq_parse(&q, get, kv, &err), 0);
    const char *params[HQ_MAX_PARAMS];
    char nums[2][24];
    int n;
    char *sql = hq_sql(&q, HQ_SQL_PAGE, true, params, &n, nums);
    ck_assert_ptr_null(strstr(sql, "OR 1=1"));
    ck_assert_ptr_null(strstr(sql, "a'b"));
    ck_assert_ptr_nonnull(strstr(sql, "(name || E'\\n' || hash || E'\\n' || added_by) ILIKE $2"));
    ck_assert_ptr_null(strstr(sql, "name ILIKE $2 OR hash ILIKE $2"));
    ck_assert_ptr_nonnull(strstr(sql, "status = $3"));
    ck_assert_ptr_nonnull(strstr(sql, "category = $4"));
    ck_assert_ptr_nonnull(strstr(sql, "ORDER BY completed_at DESC NULLS LAST, id DESC"));
    ck_assert_ptr_nonnull(strstr(sql, "LIMIT $5 OFFSET $6"));
    ck_assert_int_eq(n, 5);
    ck_assert_str_eq(params[0], "%x' OR 1=1 --%");
    ck_assert_str_eq(params[1], "failed");
    ck_assert_str_eq(params[2], "a'b");
    ck_assert_str_eq(params[3], "50");
    ck_assert_str_eq(params[4], "0");
    free(sql);
    sql = hq_sql(&q, HQ_SQL_PAGE_TOTAL, true, params, &n, nums);
    ck_assert_ptr_nonnull(strstr(sql, ", count(*) OVER () FROM history"));
    ck_assert_ptr_nonnull(strstr(sql, "LIMIT $5 OFFSET $6"));
    ck_assert_int_eq(n, 5);
    free(sql);
    sql = hq_sql(&q, HQ_SQL_COUNT, false, params, &n, nums);
    /* without user names: the index finds, name and hash decide */
    ck_assert_ptr_nonnull(strstr(sql, "AND (name ILIKE $2 OR hash ILIKE $2)"));
    ck_assert_ptr_null(strstr(sql, "ORDER BY"));
    ck_assert_int_eq(n, 3);
    free(sql);
    hq_clear(&q);
    /* only a status: the count comes from the counts the triggers keep */
    const char *st[] = { "status", "stopped", NULL };
    ck_assert_int_eq(hq_parse(&q, get, st, &err), 0);
    sql = hq_sql(&q, HQ_SQL_COUNT, true, params, &n, nums);
    ck_assert_ptr_nonnull(strstr(sql, "FROM history_counts WHERE node = $1 AND status = $2"));
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(params[0], "stopped");
    free(sql);
    hq_clear(&q);
    /* a category, with or without a status: the same counts (028) */
    const char *sc[] = { "status", "failed", "category", "tv", NULL };
    ck_assert_int_eq(hq_parse(&q, get, sc, &err), 0);
    sql = hq_sql(&q, HQ_SQL_COUNT, true, params, &n, nums);
    ck_assert_ptr_nonnull(strstr(sql, "FROM history_counts WHERE node = $1 AND status = $2"
                                      " AND category = $3"));
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(params[0], "failed");
    ck_assert_str_eq(params[1], "tv");
    free(sql);
    hq_clear(&q);
    const char *c1[] = { "category", "tv", NULL };
    ck_assert_int_eq(hq_parse(&q, get, c1, &err), 0);
    sql = hq_sql(&q, HQ_SQL_COUNT, true, params, &n, nums);
    ck_assert_ptr_nonnull(strstr(sql, "FROM history_counts WHERE node = $1 AND category = $2"));
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(params[0], "tv");
    free(sql);
    hq_clear(&q);
}
END_TEST

/* A caller limited to its own downloads: its name is one more bound
 * value, and the count cannot come from the counts of everyone's rows. */
START_TEST(test_sql_owner)
{
    const char *kv[] = { "status", "completed", "search", "abc", NULL };
    hq_t q;
    hq_error_t err;
    ck_assert_int_eq(hq_parse(&q, get, kv, &err), 0);
    ck_assert_ptr_null(q.owner);
    q.owner = "bob' --";
    const char *params[HQ_MAX_PARAMS];
    char nums[2][24];
    int n;
    char *sql = hq_sql(&q, HQ_SQL_PAGE_TOTAL, true, params, &n, nums);
    ck_assert_ptr_null(strstr(sql, "bob"));
    ck_assert_ptr_nonnull(strstr(sql, "status = $3 AND added_by = $4"));
    ck_assert_ptr_nonnull(strstr(sql, "LIMIT $5 OFFSET $6"));
    ck_assert_int_eq(n, 5);
    ck_assert_str_eq(params[2], "bob' --");
    free(sql);
    hq_clear(&q);
    const char *st[] = { "status", "stopped", NULL };
    ck_assert_int_eq(hq_parse(&q, get, st, &err), 0);
    q.owner = "bob";
    sql = hq_sql(&q, HQ_SQL_COUNT, true, params, &n, nums);
    ck_assert_ptr_null(strstr(sql, "history_counts"));
    ck_assert_ptr_nonnull(strstr(sql, "SELECT count(*) FROM history WHERE node = $1"
                                      " AND status = $2 AND added_by = $3"));
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(params[1], "bob");
    free(sql);
    hq_clear(&q);
}
END_TEST

static char *
csv(const char *s, bool text)
{
    struct evbuffer *b = evbuffer_new();
    hq_csv_field(b, s, text);
    size_t len = evbuffer_get_length(b);
    char *out = calloc(1, len + 1);
    evbuffer_remove(b, out, len);
    evbuffer_free(b);
    return out;
}

static void
csv_is(const char *s, bool text, const char *want)
{
    char *got = csv(s, text);
    ck_assert_msg(strcmp(got, want) == 0, "[%s] gave [%s], not [%s]", s, got, want);
    free(got);
}

START_TEST(test_csv)
{
    csv_is("plain name.mkv", true, "plain name.mkv");
    csv_is(NULL, true, "");
    csv_is("a,b", true, "\"a,b\"");
    csv_is("say \"hi\"", true, "\"say \"\"hi\"\"\"");
    csv_is("two\r\nlines", true, "\"two\r\nlines\"");
    csv_is("=HYPERLINK(\"http://x\")", true, "\"'=HYPERLINK(\"\"http://x\"\")\"");
    csv_is("+1", true, "\"'+1\"");
    csv_is("-2+3", true, "\"'-2+3\"");
    csv_is("@SUM(A1)", true, "\"'@SUM(A1)\"");
    csv_is("\tx", true, "\"'\tx\"");
    csv_is("-1", false, "-1"); /* numbers stay numbers */
    struct evbuffer *b = evbuffer_new();
    hq_csv_row(b, NULL);
    size_t len = evbuffer_get_length(b);
    char *row = calloc(1, len + 1);
    evbuffer_remove(b, row, len);
    ck_assert_str_eq(row, "hash,filename,size,status,started_at,completed_at,deleted_at,"
                          "username,category,downloaded,uploaded,ratio\r\n");
    free(row);
    evbuffer_free(b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_defaults_and_values);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_sql_binds_values);
    tcase_add_test(tc, test_sql_owner);
    tcase_add_test(tc, test_csv);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
