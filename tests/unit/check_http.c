/* check_http.c: unit tests for lib/http: request parsing (query, forms,
 * multipart, cookies, auth, limits), router, responses, the serving loop,
 * and http_echo run as a real CGI process. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "http/http.h"
#include "util/error.h"
#include "util/xalloc.h"

#define ENV(...) ((char *const[]){ __VA_ARGS__, NULL })

/* ---- helpers ---- */

static http_request_t *
mkreq(char *const *env, const char *body, size_t body_len, const http_limits_t *lim)
{
    mt_error_t *err = NULL;
    http_request_t *req = http_request_new(env, (const uint8_t *)body, body_len, lim, &err);
    ck_assert_msg(req != NULL, "unexpected parse error: %s", err ? err->message : "?");
    ck_assert_ptr_null(err);
    return req;
}

static http_request_t *
get(const char *uri_var)
{
    return mkreq(ENV("REQUEST_METHOD=GET", (char *)uri_var), NULL, 0, NULL);
}

static void
expect_error_lim(char *const *env, const char *body, size_t body_len, const http_limits_t *lim,
                 int code, const char *needle)
{
    mt_error_t *err = NULL;
    http_request_t *req = http_request_new(env, (const uint8_t *)body, body_len, lim, &err);
    ck_assert_ptr_null(req);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->code, code);
    ck_assert_msg(strstr(err->message, needle) != NULL, "message \"%s\" lacks \"%s\"",
                  err->message, needle);
    mt_error_free(err);
}

static void
expect_error(char *const *env, const char *body, size_t body_len, int code, const char *needle)
{
    expect_error_lim(env, body, body_len, NULL, code, needle);
}

#define MP_CT "CONTENT_TYPE=multipart/form-data; boundary=b0undary"

static http_request_t *
multipart(const char *body, size_t len)
{
    return mkreq(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/torrents/add", MP_CT), body,
                 len, NULL);
}

static void
expect_multipart_error(const char *body, size_t len, int code, const char *needle)
{
    expect_error(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x", MP_CT), body, len, code, needle);
}

typedef struct {
    char *buf;
    size_t len, cap;
    int calls;
    int fail;
} sink_t;

static int
sink_write(void *ctx, const void *buf, size_t len)
{
    sink_t *s = ctx;
    s->calls++;
    if (s->fail)
        return -1;
    if (s->len + len + 1 > s->cap) {
        s->cap = (s->len + len + 1) * 2;
        s->buf = xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
    s->buf[s->len] = '\0';
    return 0;
}

/* render: the CGI output of resp as a NUL-terminated string. */
static char *
render(const http_response_t *resp, size_t *len)
{
    sink_t s = { NULL, 0, 0, 0, 0 };
    ck_assert_int_eq(http_response_write(resp, sink_write, &s), 0);
    if (s.buf == NULL)
        s.buf = xstrdup("");
    if (len != NULL)
        *len = s.len;
    return s.buf;
}

static void
assert_output(const http_response_t *resp, const char *want)
{
    size_t len;
    char *out = render(resp, &len);
    ck_assert_msg(len == strlen(want) && memcmp(out, want, len) == 0,
                  "output:\n%s\nwanted:\n%s", out, want);
    free(out);
}

static char *
body_str(http_response_t *resp)
{
    struct evbuffer *b = http_response_body(resp);
    size_t n = evbuffer_get_length(b);
    char *s = xmalloc(n + 1);
    evbuffer_copyout(b, s, n);
    s[n] = '\0';
    return s;
}

static void
assert_body(http_response_t *resp, const char *want)
{
    char *s = body_str(resp);
    ck_assert_str_eq(s, want);
    free(s);
}

/* ---- query strings ---- */

START_TEST(test_query_parsing)
{
    http_request_t *req = get("REQUEST_URI=/p?a=1&b=&c&a=2&d=x+y%20z&&e=%2B%2b&=skipped&f=%C3%A9&");
    ck_assert_str_eq(http_request_path(req), "/p");
    ck_assert_str_eq(http_request_query(req, "a"), "1");
    ck_assert_str_eq(http_request_query(req, "b"), "");
    ck_assert_str_eq(http_request_query(req, "c"), "");
    ck_assert_str_eq(http_request_query(req, "d"), "x y z");
    ck_assert_str_eq(http_request_query(req, "e"), "++");
    ck_assert_str_eq(http_request_query(req, "f"), "\xc3\xa9");
    ck_assert_ptr_null(http_request_query(req, "A"));
    ck_assert_ptr_null(http_request_query(req, ""));
    ck_assert_ptr_null(http_request_form(req, "a"));
    ck_assert_str_eq(http_request_param(req, "a"), "1");
    ck_assert_int_eq(http_request_has_param(req, "c"), 1);
    ck_assert_int_eq(http_request_has_param(req, "zz"), 0);

    size_t n;
    const http_param_t *p = http_request_params(req, HTTP_SRC_QUERY, &n);
    ck_assert_uint_eq(n, 7);
    const char *order[] = { "a", "b", "c", "a", "d", "e", "f" };
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(p[i].name, order[i]);
        ck_assert_ptr_null(p[i].filename);
        ck_assert_ptr_null(p[i].content_type);
        ck_assert_uint_eq(p[i].value_len, strlen(p[i].value));
    }
    http_request_params(req, HTTP_SRC_FORM, &n);
    ck_assert_uint_eq(n, 0);

    /* Multi-valued lookups. */
    ck_assert_uint_eq(http_request_count_param(req, HTTP_SRC_QUERY, "a"), 2);
    ck_assert_uint_eq(http_request_count_param(req, HTTP_SRC_FORM, "a"), 0);
    const http_param_t *a1 = http_request_find_param(req, HTTP_SRC_QUERY, "a", NULL);
    const http_param_t *a2 = http_request_find_param(req, HTTP_SRC_QUERY, "a", a1);
    ck_assert_str_eq(a1->value, "1");
    ck_assert_str_eq(a2->value, "2");
    ck_assert_ptr_null(http_request_find_param(req, HTTP_SRC_QUERY, "a", a2));
    http_request_free(req);

    req = get("REQUEST_URI=/p?a=&b");
    ck_assert_str_eq(http_request_query(req, "a"), "");
    ck_assert_str_eq(http_request_query(req, "b"), "");
    http_request_params(req, HTTP_SRC_ANY, &n);
    ck_assert_uint_eq(n, 2);
    http_request_free(req);

    req = get("REQUEST_URI=/p?");
    http_request_params(req, HTTP_SRC_ANY, &n);
    ck_assert_uint_eq(n, 0);
    http_request_free(req);

    /* The path keeps '+' (only forms and queries mean space by it). */
    req = get("REQUEST_URI=/a+b?q=a+b");
    ck_assert_str_eq(http_request_path(req), "/a+b");
    ck_assert_str_eq(http_request_query(req, "q"), "a b");
    http_request_free(req);
}
END_TEST

START_TEST(test_query_errors)
{
    expect_error(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/p?x=1&name=%zz"), NULL, 0,
                 MT_ERR_INVALID, "bad percent-escape in query parameter \"name\"");
    expect_error(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/p?name=ab%4"), NULL, 0, MT_ERR_INVALID,
                 "bad percent-escape in query parameter \"name\"");
    expect_error(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/p?name=%"), NULL, 0, MT_ERR_INVALID,
                 "bad percent-escape in query parameter \"name\"");
    expect_error(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/p?name=a%00b"), NULL, 0, MT_ERR_INVALID,
                 "NUL byte (%00) in query parameter \"name\"");
    expect_error(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/p?na%G1me=1"), NULL, 0, MT_ERR_INVALID,
                 "bad percent-escape in query parameter name \"na%G1me\"");
    /* A hostile name is quoted safely and bounded in the message. */
    mt_error_t *err = NULL;
    http_request_t *req = http_request_new(
        ENV("REQUEST_METHOD=GET",
            "REQUEST_URI=/p?%0d%0aX:%22y%22xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=%"),
        NULL, 0, NULL, &err);
    ck_assert_ptr_null(req);
    ck_assert_ptr_null(strchr(err->message, '\r'));
    ck_assert_ptr_null(strchr(err->message, '\n'));
    ck_assert_ptr_nonnull(strstr(err->message, "\"??X:?y?xxx"));
    ck_assert_ptr_nonnull(strstr(err->message, "...\""));
    ck_assert_uint_lt(strlen(err->message), 160);
    mt_error_free(err);
}
END_TEST

/* Every text parameter is strict UTF-8 (util/utf8): overlong forms,
 * surrogates and code points above U+10FFFF are a 400 before any handler
 * sees them, whether they come in the query, a url-encoded form or a
 * multipart text part; file parts keep their bytes. */
START_TEST(test_params_utf8)
{
    static const char *const bad[] = { "%C0%AF", "%ED%A0%80", "%F4%90%80%80", "%FF", "%C3",
                                       "a%E2%82" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char uri[128], body[128];
        snprintf(uri, sizeof uri, "REQUEST_URI=/api/v2/torrents/info?category=%s", bad[i]);
        expect_error(ENV("REQUEST_METHOD=GET", uri), NULL, 0, MT_ERR_INVALID,
                     "invalid UTF-8 in query parameter \"category\"");
        snprintf(uri, sizeof uri, "REQUEST_URI=/p?x%s=1", bad[i]);
        expect_error(ENV("REQUEST_METHOD=GET", uri), NULL, 0, MT_ERR_INVALID,
                     "invalid UTF-8 in query parameter name \"x");
        snprintf(body, sizeof body, "category=tv&savePath=/srv/%s", bad[i]);
        expect_error(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/torrents/createCategory",
                         "CONTENT_TYPE=application/x-www-form-urlencoded"),
                     body, strlen(body), MT_ERR_INVALID,
                     "invalid UTF-8 in form parameter \"savePath\"");
    }
    /* valid UTF-8 of every length passes, decoded */
    http_request_t *req =
        get("REQUEST_URI=/p?c=caf%C3%A9%E2%82%AC%F0%9F%98%80&%F4%8F%BF%BF=%EF%BF%BF");
    ck_assert_str_eq(http_request_query(req, "c"), "caf\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    ck_assert_str_eq(http_request_query(req, "\xf4\x8f\xbf\xbf"), "\xef\xbf\xbf");
    http_request_free(req);

    /* multipart: a text part (no file name, no or a text/ Content-Type) */
    static const char text_part[] = "--b0undary\r\n"
                                    "Content-Disposition: form-data; name=\"category\"\r\n\r\n"
                                    "tv\xed\xa0\x80\r\n--b0undary--";
    expect_multipart_error(text_part, sizeof text_part - 1, MT_ERR_INVALID,
                           "invalid UTF-8 in form parameter \"category\"");
    static const char typed_text[] = "--b0undary\r\n"
                                     "Content-Disposition: form-data; name=\"urls\"\r\n"
                                     "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                                     "\xc0\xaf\r\n--b0undary--";
    expect_multipart_error(typed_text, sizeof typed_text - 1, MT_ERR_INVALID,
                           "invalid UTF-8 in form parameter \"urls\"");
    static const char bad_name[] = "--b0undary\r\n"
                                   "Content-Disposition: form-data; name=\"x\xf4\x90\x80\x80\"\r\n\r\n"
                                   "v\r\n--b0undary--";
    expect_multipart_error(bad_name, sizeof bad_name - 1, MT_ERR_INVALID,
                           "invalid UTF-8 in the name of multipart part 1");
    static const char bad_file[] = "--b0undary\r\n"
                                   "Content-Disposition: form-data; name=\"torrents\"; "
                                   "filename=\"a\xc0\xaf.torrent\"\r\n\r\n"
                                   "d4:info\r\n--b0undary--";
    expect_multipart_error(bad_file, sizeof bad_file - 1, MT_ERR_INVALID,
                           "invalid UTF-8 in the file name of form parameter \"torrents\"");
    /* files keep any bytes: with a file name, or a non-text Content-Type */
    static const char files[] = "--b0undary\r\n"
                                "Content-Disposition: form-data; name=\"torrents\"; "
                                "filename=\"t.torrent\"\r\n\r\n"
                                "\xed\xa0\x80\xff\r\n--b0undary\r\n"
                                "Content-Disposition: form-data; name=\"blob\"\r\n"
                                "Content-Type: application/x-bittorrent\r\n\r\n"
                                "\xc0\xaf\xff\r\n--b0undary--";
    req = multipart(files, sizeof files - 1);
    size_t n;
    const http_param_t *p = http_request_params(req, HTTP_SRC_FORM, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_mem_eq(p[0].value, "\xed\xa0\x80\xff", 4);
    ck_assert_mem_eq(p[1].value, "\xc0\xaf\xff", 3);
    http_request_free(req);
}
END_TEST

/* ---- paths and environment ---- */

START_TEST(test_path_decoding)
{
    http_request_t *req = get("REQUEST_URI=/api/v2/app%20x/%C3%A9?x=1");
    ck_assert_str_eq(http_request_path(req), "/api/v2/app x/\xc3\xa9");
    ck_assert_str_eq(http_request_query(req, "x"), "1");
    ck_assert_str_eq(http_request_method(req), "GET");
    http_request_free(req);

    req = get("REQUEST_URI=/");
    ck_assert_str_eq(http_request_path(req), "/");
    http_request_free(req);

    /* Absolute-form request target. */
    req = get("REQUEST_URI=http://host:8080/api/v2/x?q=1");
    ck_assert_str_eq(http_request_path(req), "/api/v2/x");
    ck_assert_str_eq(http_request_query(req, "q"), "1");
    http_request_free(req);
    req = get("REQUEST_URI=HTTPS://host?q=2");
    ck_assert_str_eq(http_request_path(req), "/");
    ck_assert_str_eq(http_request_query(req, "q"), "2");
    http_request_free(req);

    /* REQUEST_URI wins over QUERY_STRING (both describe the same URI). */
    req = mkreq(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/p?a=uri", "QUERY_STRING=a=qs"), NULL, 0,
                NULL);
    ck_assert_str_eq(http_request_query(req, "a"), "uri");
    ck_assert_str_eq(http_request_env(req, "QUERY_STRING"), "a=qs");
    http_request_free(req);

    /* Without REQUEST_URI: SCRIPT_NAME + PATH_INFO, already decoded. */
    req = mkreq(ENV("REQUEST_METHOD=GET", "SCRIPT_NAME=/cgi-bin/qbit",
                    "PATH_INFO=/api/v2/100%", "QUERY_STRING=a=1&b=x%2By"),
                NULL, 0, NULL);
    ck_assert_str_eq(http_request_path(req), "/cgi-bin/qbit/api/v2/100%");
    ck_assert_str_eq(http_request_query(req, "a"), "1");
    ck_assert_str_eq(http_request_query(req, "b"), "x+y");
    http_request_free(req);
    req = mkreq(ENV("REQUEST_METHOD=GET", "SCRIPT_NAME=/torznab"), NULL, 0, NULL);
    ck_assert_str_eq(http_request_path(req), "/torznab");
    http_request_free(req);

    expect_error(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/a%2"), NULL, 0, MT_ERR_INVALID,
                 "bad percent-escape in request path");
    expect_error(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/a%zz/b"), NULL, 0, MT_ERR_INVALID,
                 "bad percent-escape in request path");
    expect_error(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/a%00b"), NULL, 0, MT_ERR_INVALID,
                 "NUL byte (%00) in request path");
    expect_error(ENV("REQUEST_METHOD=GET", "REQUEST_URI=api/v2"), NULL, 0, MT_ERR_INVALID,
                 "must start with '/'");
    expect_error(ENV("REQUEST_METHOD=OPTIONS", "REQUEST_URI=*"), NULL, 0, MT_ERR_INVALID,
                 "must start with '/'");
    expect_error(ENV("REQUEST_METHOD=GET", "REQUEST_URI=%2Fa"), NULL, 0, MT_ERR_INVALID,
                 "must start with '/'");
    expect_error(ENV("REQUEST_METHOD=GET", "REQUEST_URI=?a=1"), NULL, 0, MT_ERR_INVALID,
                 "must start with '/'");
    expect_error(ENV("REQUEST_METHOD=GET", "PATH_INFO=x"), NULL, 0, MT_ERR_INVALID,
                 "must start with '/'");
    expect_error(ENV("REQUEST_METHOD=GET"), NULL, 0, MT_ERR_INVALID, "no request path");
    expect_error(ENV("REQUEST_URI=/"), NULL, 0, MT_ERR_INVALID, "missing REQUEST_METHOD");
    expect_error(ENV("REQUEST_METHOD=G T", "REQUEST_URI=/"), NULL, 0, MT_ERR_INVALID,
                 "bad request method");
}
END_TEST

START_TEST(test_headers_env)
{
    http_request_t *req = mkreq(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x",
                                    "CONTENT_TYPE=Application/JSON; charset=utf-8",
                                    "CONTENT_LENGTH=2", "HTTP_X_API_KEY=k", "HTTP_USER_AGENT=Sonarr/4",
                                    "REMOTE_ADDR=192.0.2.7", "NOEQUALS", "=novalue"),
                                "{}", 2, NULL);
    ck_assert_str_eq(http_request_header(req, "content-type"), "Application/JSON; charset=utf-8");
    ck_assert_str_eq(http_request_header(req, "Content-Length"), "2");
    ck_assert_str_eq(http_request_header(req, "X-Api-Key"), "k");
    ck_assert_str_eq(http_request_header(req, "x-api-key"), "k");
    ck_assert_str_eq(http_request_header(req, "User-Agent"), "Sonarr/4");
    ck_assert_ptr_null(http_request_header(req, "Referer"));
    ck_assert_ptr_null(http_request_header(req, "Bad Name"));
    ck_assert_ptr_null(http_request_header(req, ""));
    ck_assert_str_eq(http_request_env(req, "HTTP_X_API_KEY"), "k");
    ck_assert_ptr_null(http_request_env(req, "NOEQUALS"));
    ck_assert_str_eq(http_request_remote_addr(req), "192.0.2.7");
    ck_assert_str_eq(http_request_media_type(req), "application/json");
    size_t len;
    const uint8_t *b = http_request_body(req, &len);
    ck_assert_uint_eq(len, 2);
    ck_assert_mem_eq(b, "{}", 2);
    http_request_free(req);

    req = get("REQUEST_URI=/");
    ck_assert_str_eq(http_request_remote_addr(req), "");
    ck_assert_ptr_null(http_request_media_type(req));
    http_request_free(req);
}
END_TEST

START_TEST(test_json_body)
{
    http_request_t *req = mkreq(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x",
                                    "CONTENT_TYPE=application/json"),
                                " {\"a\":[1,2],\"b\":\"c\"}\r\n", 22, NULL);
    mt_error_t *err = NULL;
    json_object *o = http_request_json(req, &err);
    ck_assert_ptr_nonnull(o);
    json_object *b;
    ck_assert(json_object_object_get_ex(o, "b", &b));
    ck_assert_str_eq(json_object_get_string(b), "c");
    json_object_put(o);
    http_request_free(req);

    const char *bad[] = { "{\"a\":1} x", "{\"a\":", "nope", "", "null" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        req = mkreq(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x"), bad[i], strlen(bad[i]), NULL);
        ck_assert_ptr_null(http_request_json(req, &err));
        ck_assert_int_eq(err->code, MT_ERR_INVALID);
        ck_assert_msg(strstr(err->message, "JSON") != NULL, "%s", err->message);
        mt_error_clear(&err);
        http_request_free(req);
    }
}
END_TEST

/* ---- url-encoded forms ---- */

START_TEST(test_form_urlencoded)
{
    const char *body = "urls=magnet%3A%3Fxt%3Durn%3Abtih%3A0123456789abcdef0123456789abcdef01234567"
                       "%26dn%3DTest.Show&category=tv-sonarr&paused=False&ratioLimit=1.5&a=&b";
    http_request_t *req = mkreq(ENV("REQUEST_METHOD=POST",
                                    "REQUEST_URI=/api/v2/torrents/add?category=q&only=query",
                                    "CONTENT_TYPE=Application/X-WWW-Form-Urlencoded; charset=utf-8"),
                                body, strlen(body), NULL);
    ck_assert_str_eq(http_request_media_type(req), "application/x-www-form-urlencoded");
    ck_assert_str_eq(http_request_form(req, "urls"),
                     "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=Test.Show");
    ck_assert_str_eq(http_request_form(req, "category"), "tv-sonarr");
    ck_assert_str_eq(http_request_query(req, "category"), "q");
    ck_assert_str_eq(http_request_param(req, "category"), "tv-sonarr");
    ck_assert_str_eq(http_request_param(req, "only"), "query");
    ck_assert_str_eq(http_request_form(req, "paused"), "False");
    ck_assert_str_eq(http_request_form(req, "a"), "");
    ck_assert_str_eq(http_request_form(req, "b"), "");
    ck_assert_uint_eq(http_request_count_param(req, HTTP_SRC_ANY, "category"), 2);
    size_t n;
    const http_param_t *all = http_request_params(req, HTTP_SRC_ANY, &n);
    ck_assert_uint_eq(n, 8);
    ck_assert_str_eq(all[0].name, "urls");
    ck_assert_str_eq(all[6].name, "category"); /* query after the form */
    ck_assert_str_eq(all[6].value, "q");
    /* find_param over ANY walks form then query. */
    const http_param_t *c = http_request_find_param(req, HTTP_SRC_ANY, "category", NULL);
    ck_assert_str_eq(c->value, "tv-sonarr");
    c = http_request_find_param(req, HTTP_SRC_ANY, "category", c);
    ck_assert_str_eq(c->value, "q");
    http_request_free(req);

    /* Another body type: kept as bytes, no form parameters. */
    req = mkreq(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_TYPE=text/plain"),
                "a=1", 3, NULL);
    ck_assert_ptr_null(http_request_form(req, "a"));
    http_request_free(req);

    expect_error(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x",
                     "CONTENT_TYPE=application/x-www-form-urlencoded"),
                 "ok=1&urls=50%", 13, MT_ERR_INVALID, "bad percent-escape in form parameter \"urls\"");
    expect_error(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x",
                     "CONTENT_TYPE=application/x-www-form-urlencoded"),
                 "urls=a\0b", 8, MT_ERR_INVALID, "NUL byte");
    expect_error(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x",
                     "CONTENT_TYPE=application/x-www-form-urlencoded; charset=\"utf-8"),
                 "a=1", 3, MT_ERR_INVALID, "malformed Content-Type");
}
END_TEST

/* ---- multipart ---- */

START_TEST(test_multipart_dotnet)
{
    /* Exactly what .NET's MultipartFormDataContent writes for Sonarr's
     * torrents/add with a magnet. */
    static const char body[] =
        "--boundary\r\n"
        "Content-Disposition: form-data; name=\"urls\"\r\n"
        "\r\n"
        "magnet:?xt=urn:btih:1111111111111111111111111111111111111111&dn=mp&tr=http%3A%2F%2F127.0.0.1%3A1%2Fa\r\n"
        "--boundary--\r\n";
    http_request_t *req = mkreq(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/torrents/add",
                                    "CONTENT_TYPE=multipart/form-data; boundary=\"boundary\""),
                                body, sizeof body - 1, NULL);
    size_t n;
    const http_param_t *p = http_request_params(req, HTTP_SRC_FORM, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(p[0].name, "urls");
    ck_assert_str_eq(p[0].value, "magnet:?xt=urn:btih:1111111111111111111111111111111111111111"
                                 "&dn=mp&tr=http%3A%2F%2F127.0.0.1%3A1%2Fa");
    ck_assert_uint_eq(p[0].value_len, strlen(p[0].value));
    ck_assert_ptr_null(p[0].filename);
    ck_assert_ptr_null(p[0].content_type);
    http_request_free(req);

    /* The recorded Sonarr request: a long dashed boundary, several
     * fields, an unquoted name and the category also in the query. */
    static const char body2[] =
        "-------------------------------8dd0b1f3c2a4e5\r\n"
        "Content-Disposition: form-data; name=\"category\"\r\n\r\n"
        "tv-sonarr\r\n"
        "-------------------------------8dd0b1f3c2a4e5\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Disposition: form-data; name=paused\r\n\r\n"
        "False\r\n"
        "-------------------------------8dd0b1f3c2a4e5\r\n"
        "content-disposition: FORM-DATA ; NAME = \"empty\"\r\n\r\n"
        "\r\n"
        "-------------------------------8dd0b1f3c2a4e5--\r\n";
    req = mkreq(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/torrents/add?category=x",
                    "CONTENT_TYPE=multipart/form-data; boundary=-----------------------------8dd0b1f3c2a4e5"),
                body2, sizeof body2 - 1, NULL);
    p = http_request_params(req, HTTP_SRC_FORM, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(http_request_param(req, "category"), "tv-sonarr");
    ck_assert_str_eq(http_request_query(req, "category"), "x");
    ck_assert_str_eq(p[1].name, "paused");
    ck_assert_str_eq(p[1].value, "False");
    ck_assert_str_eq(p[1].content_type, "text/plain; charset=utf-8");
    ck_assert_str_eq(p[2].name, "empty");
    ck_assert_uint_eq(p[2].value_len, 0);
    ck_assert_str_eq(p[2].value, "");
    http_request_free(req);
}
END_TEST

START_TEST(test_multipart_binary)
{
    /* A .torrent upload with NUL bytes, CR/LF and the boundary text inside
     * the data (but never "CRLF--boundary"), plus preamble, transport
     * padding and epilogue, which are all ignored. */
    static const char body[] =
        "This preamble mentions --b0undary mid-line.\r\n"
        "--b0undary  \t\r\n"
        "Content-Disposition: form-data; name=\"torrents\"; filename=\"Clean Title.torrent\"\r\n"
        "Content-Type: application/octet-stream\r\n"
        "\r\n"
        "d8:announce\0\0\x01\xff--b0undary\r\n-b0undary\n--b0undary\r\r\n--b0und\r\n"
        "--b0undaryX\r\n--b0undary-x\r\n\r\n"
        "\r\n--b0undary\r\n"
        "Content-Disposition: form-data; name=\"torrents\"; filename=\"C:\\dir\\two.torrent\"\r\n"
        "\r\n"
        "x\r\n--b0undary\r\n"
        "Content-Disposition: form-data; name=\"f\"; filename=\"\"; filename*=utf-8''na%C3%AFve.txt\r\n"
        "\r\n"
        "\r\n--b0undary\r\n"
        "Content-Disposition: form-data; name=\"g\"; filename*=UTF-8''na%C3%AFve%20file.txt\r\n"
        "\r\n"
        "\r\n--b0undary--  \r\nepilogue\r\n--b0undary\r\nignored";
    static const char data1[] =
        "d8:announce\0\0\x01\xff--b0undary\r\n-b0undary\n--b0undary\r\r\n--b0und\r\n"
        "--b0undaryX\r\n--b0undary-x\r\n\r\n";
    http_request_t *req = multipart(body, sizeof body - 1);
    size_t n;
    const http_param_t *p = http_request_params(req, HTTP_SRC_FORM, &n);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(p[0].name, "torrents");
    ck_assert_str_eq(p[0].filename, "Clean Title.torrent");
    ck_assert_str_eq(p[0].content_type, "application/octet-stream");
    ck_assert_uint_eq(p[0].value_len, sizeof data1 - 1);
    ck_assert_mem_eq(p[0].value, data1, sizeof data1 - 1);
    ck_assert_int_eq(p[0].value[p[0].value_len], '\0');
    /* Backslashes in a quoted file name stay (old browsers send paths). */
    ck_assert_str_eq(p[1].filename, "C:\\dir\\two.torrent");
    ck_assert_str_eq(p[1].value, "x");
    ck_assert_uint_eq(http_request_count_param(req, HTTP_SRC_FORM, "torrents"), 2);
    /* filename wins over filename*; filename* alone is decoded. */
    ck_assert_str_eq(p[2].filename, "");
    ck_assert_str_eq(p[3].filename, "na\xc3\xafve file.txt");
    http_request_free(req);

    /* No preamble and a part without headers other than the disposition;
     * an escaped quote inside a quoted name. */
    static const char body2[] = "--b0undary\r\n"
                                "Content-Disposition: form-data; name=\"a\\\"b\"\r\n\r\n"
                                "v\r\n--b0undary--";
    req = multipart(body2, sizeof body2 - 1);
    ck_assert_str_eq(http_request_form(req, "a\"b"), "v");
    http_request_free(req);

    /* RFC 2046 lets a part end right after its headers: the empty line's
     * CRLF is then the delimiter's. */
    static const char body3[] = "--b0undary\r\n"
                                "Content-Disposition: form-data; name=e\r\n\r\n"
                                "--b0undary\r\n"
                                "Content-Disposition: form-data; name=f\r\n\r\n"
                                "\r\n--b0undary--";
    req = multipart(body3, sizeof body3 - 1);
    size_t n3;
    p = http_request_params(req, HTTP_SRC_FORM, &n3);
    ck_assert_uint_eq(n3, 2);
    ck_assert_str_eq(p[0].name, "e");
    ck_assert_uint_eq(p[0].value_len, 0);
    ck_assert_str_eq(p[1].name, "f");
    ck_assert_uint_eq(p[1].value_len, 0);
    http_request_free(req);
}
END_TEST

START_TEST(test_multipart_errors)
{
    static const char cd[] = "Content-Disposition: form-data; name=\"urls\"\r\n\r\n";
    char buf[512];
    /* Missing final boundary, in several places. */
    snprintf(buf, sizeof buf, "--b0undary\r\n%smagnet:?xt", cd);
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID,
                           "multipart body ends without closing boundary");
    snprintf(buf, sizeof buf, "--b0undary\r\n%smagnet\r\n--b0undary", cd);
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID,
                           "multipart body ends without closing boundary");
    snprintf(buf, sizeof buf, "--b0undary\r\n%smagnet\r\n--b0undary\r\n", cd);
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID,
                           "multipart body ends without closing boundary");
    snprintf(buf, sizeof buf, "--b0undary\r\nContent-Disposition: form-data; name=a");
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID,
                           "multipart body ends without closing boundary");
    expect_multipart_error("no delimiter at all", 19, MT_ERR_INVALID,
                           "multipart body has no boundary line");
    expect_multipart_error("", 0, MT_ERR_INVALID, "multipart body has no boundary line");
    /* Bare LF is not a line end in multipart. */
    snprintf(buf, sizeof buf, "--b0undary\nContent-Disposition: form-data; name=a\n\nv\n--b0undary--");
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID, "malformed multipart boundary line");
    /* A delimiter followed by padding and then something else than CRLF. */
    snprintf(buf, sizeof buf, "--b0undary\r\n%sv\r\n--b0undary \tX\r\n%sv\r\n--b0undary--", cd, cd);
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID,
                           "malformed multipart boundary line before part 2");
    snprintf(buf, sizeof buf, "--b0undary\r\n%sv\r\n--b0undary\rX", cd);
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID,
                           "malformed multipart boundary line before part 2");
    /* Parts without a usable Content-Disposition. */
    snprintf(buf, sizeof buf, "--b0undary\r\nContent-Type: text/plain\r\n\r\nv\r\n--b0undary--");
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID, "multipart part 1 has no form-data name");
    snprintf(buf, sizeof buf, "--b0undary\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--b0undary--");
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID, "has no form-data name");
    snprintf(buf, sizeof buf, "--b0undary\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--b0undary--");
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID, "multipart part 1 is not form-data");
    snprintf(buf, sizeof buf, "--b0undary\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--b0undary--");
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID, "malformed Content-Disposition");
    snprintf(buf, sizeof buf, "--b0undary\r\n%s%sv\r\n--b0undary--", "Content-Disposition: form-data; name=a\r\n", cd);
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID, "two Content-Disposition headers");
    snprintf(buf, sizeof buf, "--b0undary\r\nno colon here\r\n\r\nv\r\n--b0undary--");
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID, "malformed header line in multipart part 1");
    /* A folded (obsolete) header line is refused. */
    snprintf(buf, sizeof buf, "--b0undary\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nv\r\n--b0undary--");
    expect_multipart_error(buf, strlen(buf), MT_ERR_INVALID, "malformed header line");
    /* Content-Type problems. */
    expect_error(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_TYPE=multipart/form-data"),
                 "x", 1, MT_ERR_INVALID, "multipart/form-data without a boundary");
    expect_error(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x",
                     "CONTENT_TYPE=multipart/form-data; boundary=\"\""),
                 "x", 1, MT_ERR_INVALID, "bad multipart boundary");
    expect_error(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x",
                     "CONTENT_TYPE=multipart/form-data; boundary="
                     "12345678901234567890123456789012345678901234567890123456789012345678901"),
                 "x", 1, MT_ERR_INVALID, "bad multipart boundary");

    /* Limits: too many parts, too many parameters, headers too large. */
    http_limits_t lim = { .max_parts = 3 };
    size_t o = 0;
    for (int i = 0; i < 4; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "--b0undary\r\n%sv%d\r\n", cd, i);
    snprintf(buf + o, sizeof buf - o, "--b0undary--\r\n");
    expect_error_lim(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x", MP_CT), buf, strlen(buf), &lim,
                     MT_ERR_TOO_LARGE, "too many multipart parts (limit 3)");
    lim.max_parts = 4;
    http_request_t *req = mkreq(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x", MP_CT), buf,
                                strlen(buf), &lim);
    ck_assert_uint_eq(http_request_count_param(req, HTTP_SRC_FORM, "urls"), 4);
    http_request_free(req);
    http_limits_t lim2 = { .max_params = 4 };
    expect_error_lim(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x?q=1", MP_CT), buf, strlen(buf),
                     &lim2, MT_ERR_TOO_LARGE, "too many parameters (limit 4)");
    http_limits_t lim3 = { .max_part_header = 32 };
    expect_error_lim(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/x", MP_CT), buf, strlen(buf), &lim3,
                     MT_ERR_TOO_LARGE, "headers of multipart part 1 too large");
}
END_TEST

/* ---- cookies ---- */

START_TEST(test_cookies)
{
    http_request_t *req = mkreq(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/",
                                    "HTTP_COOKIE= SID=vfFLUgtWwyYuOlBWlm5WmZt/4JjJ3NFr ;theme=\"dark\"; "
                                    "broken; =x;  empty= ;a=1;a=2;\tsp = v w ;q=\";"),
                                NULL, 0, NULL);
    ck_assert_str_eq(http_request_cookie(req, "SID"), "vfFLUgtWwyYuOlBWlm5WmZt/4JjJ3NFr");
    ck_assert_str_eq(http_request_cookie(req, "theme"), "dark");
    ck_assert_ptr_null(http_request_cookie(req, "broken"));
    ck_assert_ptr_null(http_request_cookie(req, ""));
    ck_assert_str_eq(http_request_cookie(req, "empty"), "");
    ck_assert_str_eq(http_request_cookie(req, "a"), "1");
    ck_assert_str_eq(http_request_cookie(req, "sp"), "v w");
    ck_assert_str_eq(http_request_cookie(req, "q"), "\"");
    ck_assert_ptr_null(http_request_cookie(req, "sid"));
    http_request_free(req);

    req = get("REQUEST_URI=/");
    ck_assert_ptr_null(http_request_cookie(req, "SID"));
    http_request_free(req);

    http_limits_t lim = { .max_cookie_bytes = 16 };
    req = mkreq(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/", "HTTP_COOKIE=SID=0123456789ab"), NULL,
                0, &lim);
    ck_assert_str_eq(http_request_cookie(req, "SID"), "0123456789ab");
    http_request_free(req);
    expect_error_lim(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/", "HTTP_COOKIE=SID=0123456789abcd"),
                     NULL, 0, &lim, MT_ERR_TOO_LARGE, "Cookie header too large (18 bytes, limit 16)");
}
END_TEST

/* ---- Authorization ---- */

static int
basic(const char *header, const char **user, const char **pass)
{
    char *var = xasprintf("HTTP_AUTHORIZATION=%s", header);
    http_request_t *req = mkreq(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/", var), NULL, 0, NULL);
    static char u[64], p[64];
    const char *uu = NULL, *pp = NULL;
    int rc = http_request_basic_auth(req, &uu, &pp);
    if (rc == 0) {
        snprintf(u, sizeof u, "%s", uu);
        snprintf(p, sizeof p, "%s", pp);
        *user = u;
        *pass = p;
    }
    ck_assert_ptr_null(http_request_bearer(req));
    http_request_free(req);
    free(var);
    return rc;
}

static const char *
bearer(const char *header, char *out, size_t outsz)
{
    char *var = xasprintf("HTTP_AUTHORIZATION=%s", header);
    http_request_t *req = mkreq(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/", var), NULL, 0, NULL);
    const char *t = http_request_bearer(req);
    const char *res = NULL;
    if (t != NULL) {
        snprintf(out, outsz, "%s", t);
        res = out;
    }
    if (res != NULL)
        ck_assert_int_eq(http_request_basic_auth(req, NULL, NULL), -1);
    http_request_free(req);
    free(var);
    return res;
}

START_TEST(test_auth_headers)
{
    const char *u, *p;
    /* The header Radarr sends (transcript 41). */
    ck_assert_int_eq(basic("Basic YWRtaW46Y29uZm9ybWFuY2UtcGFzcy0x", &u, &p), 0);
    ck_assert_str_eq(u, "admin");
    ck_assert_str_eq(p, "conformance-pass-1");
    ck_assert_int_eq(basic("basic   dTpwOnc= ", &u, &p), 0); /* "u:p:w" */
    ck_assert_str_eq(u, "u");
    ck_assert_str_eq(p, "p:w");
    ck_assert_int_eq(basic("BASIC Og==", &u, &p), 0); /* ":" */
    ck_assert_str_eq(u, "");
    ck_assert_str_eq(p, "");
    ck_assert_int_eq(basic("Basic YWRtaW46!!!!", &u, &p), -1);
    ck_assert_int_eq(basic("Basic YWRtaW46cGFzcw", &u, &p), -1);    /* no padding */
    ck_assert_int_eq(basic("Basic YWRt aW46cGFzcw==", &u, &p), -1); /* inner space */
    ck_assert_int_eq(basic("Basic YR==", &u, &p), -1);              /* stray bits */
    ck_assert_int_eq(basic("Basic YWJ=", &u, &p), -1);              /* stray bits */
    ck_assert_int_eq(basic("Basic Y===", &u, &p), -1);
    ck_assert_int_eq(basic("Basic YW=j", &u, &p), -1);
    ck_assert_int_eq(basic("Basic YWRtaW4=", &u, &p), -1);           /* "admin", no ':' */
    ck_assert_int_eq(basic("Basic YQBiOmM=", &u, &p), -1);           /* "a\0b:c" */
    ck_assert_int_eq(basic("Basic", &u, &p), -1);
    ck_assert_int_eq(basic("Basic ", &u, &p), -1);
    ck_assert_int_eq(basic("Digest YWRtaW46eA==", &u, &p), -1);

    char buf[128];
    ck_assert_str_eq(bearer("Bearer abc.DEF-ghi_~+/==", buf, sizeof buf), "abc.DEF-ghi_~+/==");
    ck_assert_str_eq(bearer("bearer  k1 ", buf, sizeof buf), "k1");
    ck_assert_ptr_null(bearer("Bearer", buf, sizeof buf));
    ck_assert_ptr_null(bearer("Bearer a b", buf, sizeof buf));
    ck_assert_ptr_null(bearer("Bearer a=b", buf, sizeof buf));
    ck_assert_ptr_null(bearer("Bearer \"k\"", buf, sizeof buf));
    ck_assert_ptr_null(bearer("Basic YWRtaW46eA==", buf, sizeof buf));

    http_request_t *req = get("REQUEST_URI=/");
    ck_assert_int_eq(http_request_basic_auth(req, &u, &p), -1);
    ck_assert_ptr_null(http_request_bearer(req));
    http_request_free(req);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_limits)
{
    http_limits_t d = http_limits_default();
    ck_assert_uint_eq(d.max_body, 8u * 1024 * 1024);
    ck_assert_uint_eq(d.max_params, 1000);
    ck_assert(d.max_name_len > 0 && d.max_cookie_bytes > 0 && d.max_parts > 0);

    http_limits_t lim = { .max_body = 10, .max_params = 3, .max_name_len = 4 };
    expect_error_lim(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/"), "0123456789a", 11, &lim,
                     MT_ERR_TOO_LARGE, "request body too large (11 bytes, limit 10)");
    http_request_t *req = mkreq(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/"), "0123456789", 10,
                                &lim);
    http_request_free(req);
    expect_error_lim(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/?a&b&c&d"), NULL, 0, &lim,
                     MT_ERR_TOO_LARGE, "too many parameters (limit 3)");
    expect_error_lim(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/?a&b",
                         "CONTENT_TYPE=application/x-www-form-urlencoded"),
                     "c=1&d=2", 7, &lim, MT_ERR_TOO_LARGE, "too many parameters (limit 3)");
    req = mkreq(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/?abcd=1&a%20c="), NULL, 0, &lim);
    ck_assert_str_eq(http_request_query(req, "a c"), "");
    http_request_free(req);
    expect_error_lim(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/?abcde=1"), NULL, 0, &lim,
                     MT_ERR_TOO_LARGE, "query parameter name too long (5 bytes, limit 4)");

    /* The default allows 1000 parameters, not 1001. */
    char *uri = xmalloc(16 + 1001 * 2);
    strcpy(uri, "REQUEST_URI=/?");
    for (int i = 0; i < 1000; i++)
        strcat(uri, "a&");
    req = mkreq(ENV("REQUEST_METHOD=GET", uri), NULL, 0, NULL);
    ck_assert_uint_eq(http_request_count_param(req, HTTP_SRC_QUERY, "a"), 1000);
    http_request_free(req);
    strcat(uri, "b");
    expect_error(ENV("REQUEST_METHOD=GET", uri), NULL, 0, MT_ERR_TOO_LARGE, "too many parameters");
    free(uri);
}
END_TEST

/* ---- router ---- */

typedef struct {
    int calls;
    int before_calls;
    int before_null;
    const http_route_t *last_route;
} rctx_t;

static int
h_text(http_request_t *req, http_response_t *resp, void *ctx)
{
    rctx_t *c = ctx;
    c->calls++;
    return http_response_text(resp, 200, "2.8.19");
}

static int
h_names(http_request_t *req, http_response_t *resp, void *ctx)
{
    rctx_t *c = ctx;
    c->calls++;
    const char *a = http_request_path_param(req, "name");
    const char *b = http_request_path_param(req, "file");
    http_response_text(resp, 200, NULL);
    http_response_printf(resp, "%s|%s", a ? a : "-", b ? b : "-");
    return 0;
}

static int
h_put(http_request_t *req, http_response_t *resp, void *ctx)
{
    rctx_t *c = ctx;
    c->calls++;
    return http_response_text(resp, 201, http_request_path_param(req, "id"));
}

static int
h_fail(http_request_t *req, http_response_t *resp, void *ctx)
{
    rctx_t *c = ctx;
    c->calls++;
    http_response_printf(resp, "half-written");
    http_response_set_header(resp, "X-Partial", "1");
    return -1;
}

static int
h_conflict(http_request_t *req, http_response_t *resp, void *ctx)
{
    rctx_t *c = ctx;
    c->calls++;
    http_response_text(resp, 409, "Unable to create category");
    return -1;
}

enum { AUTH_NONE = 0, AUTH_SESSION = 1 };

static const http_route_t test_routes[] = {
    { HTTP_M_GET | HTTP_M_POST, "/api/v2/app/webapiVersion", h_text, AUTH_SESSION },
    { HTTP_M_POST, "/api/v2/auth/login", h_text, AUTH_NONE },
    { HTTP_M_GET, "/indexer/{name}/api", h_names, AUTH_NONE },
    { HTTP_M_GET, "/files/{name}/{file}", h_names, AUTH_NONE },
    { HTTP_M_GET, "/items/{id}", h_names, AUTH_NONE },
    { HTTP_M_PUT, "/items/{id}", h_put, AUTH_NONE },
    { HTTP_M_GET, "/fail", h_fail, AUTH_NONE },
    { HTTP_M_POST, "/conflict", h_conflict, AUTH_NONE },
};

static int
before_auth(const http_route_t *route, http_request_t *req, http_response_t *resp, void *ctx)
{
    rctx_t *c = ctx;
    c->before_calls++;
    c->last_route = route;
    if (route == NULL)
        c->before_null++;
    if ((route == NULL || route->flags == AUTH_SESSION) &&
        http_request_cookie(req, "SID") == NULL) {
        http_response_text(resp, 403, "Forbidden");
        return 1;
    }
    return 0;
}

static const http_router_t plain_router = {
    .routes = test_routes,
    .n_routes = HTTP_N_ROUTES(test_routes),
};

/* route: dispatches method + uri (+ cookie) and returns the response. */
static http_response_t *
route(const http_router_t *router, rctx_t *ctx, const char *method, const char *uri,
      const char *cookie, int *rc)
{
    char *m = xasprintf("REQUEST_METHOD=%s", method);
    char *u = xasprintf("REQUEST_URI=%s", uri);
    char *c = cookie ? xasprintf("HTTP_COOKIE=%s", cookie) : xstrdup("X=1");
    http_request_t *req = mkreq(ENV(m, u, c), NULL, 0, NULL);
    http_response_t *resp = http_response_new();
    int r = http_router_dispatch(router, req, resp, ctx);
    if (rc != NULL)
        *rc = r;
    http_request_free(req);
    free(m);
    free(u);
    free(c);
    return resp;
}

START_TEST(test_router_match)
{
    rctx_t ctx = { 0 };
    int rc;
    http_response_t *resp = route(&plain_router, &ctx, "GET", "/api/v2/app/webapiVersion", NULL, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(http_response_status(resp), 200);
    assert_body(resp, "2.8.19");
    ck_assert_int_eq(ctx.calls, 1);
    http_response_free(resp);

    /* Case-sensitive, exact: qBittorrent gives 404 for these. */
    const char *misses[] = { "/api/v2/app/webapiversion", "/api/v2/app/webapiVersion/",
                             "/api/v2//app/webapiVersion", "/api/v2/app", "/indexer//api",
                             "/indexer/a/b/api", "/indexer/x/api/", "/files/a", "/" };
    for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++) {
        resp = route(&plain_router, &ctx, "GET", misses[i], NULL, &rc);
        ck_assert_msg(http_response_status(resp) == 404, "%s gave %d", misses[i],
                      http_response_status(resp));
        ck_assert_int_eq(rc, 0);
        assert_body(resp, "Not Found");
        ck_assert_str_eq(http_response_get_header(resp, "Content-Type"),
                         "text/plain; charset=UTF-8");
        http_response_free(resp);
    }
    ck_assert_int_eq(ctx.calls, 1);

    /* Captures, decoded from the path. */
    resp = route(&plain_router, &ctx, "GET", "/indexer/my%20indexer/api?t=caps", NULL, NULL);
    assert_body(resp, "my indexer|-");
    http_response_free(resp);
    resp = route(&plain_router, &ctx, "GET", "/files/a/b.txt", NULL, NULL);
    assert_body(resp, "a|b.txt");
    http_response_free(resp);

    /* Same pattern, method picks the route. */
    resp = route(&plain_router, &ctx, "PUT", "/items/42", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 201);
    assert_body(resp, "42");
    http_response_free(resp);

    ck_assert_uint_eq(http_method_bit("GET"), HTTP_M_GET);
    ck_assert_uint_eq(http_method_bit("PATCH"), HTTP_M_PATCH);
    ck_assert_uint_eq(http_method_bit("get"), 0);
    ck_assert_uint_eq(http_method_bit("OPTIONS"), 0);
}
END_TEST

START_TEST(test_router_methods)
{
    rctx_t ctx = { 0 };
    int rc;
    http_response_t *resp = route(&plain_router, &ctx, "GET", "/api/v2/auth/login", NULL, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(http_response_status(resp), 405);
    assert_body(resp, "Method Not Allowed");
    ck_assert_str_eq(http_response_get_header(resp, "Allow"), "POST");
    http_response_free(resp);

    resp = route(&plain_router, &ctx, "DELETE", "/items/7", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 405);
    ck_assert_str_eq(http_response_get_header(resp, "Allow"), "GET, HEAD, PUT");
    http_response_free(resp);

    resp = route(&plain_router, &ctx, "OPTIONS", "/api/v2/app/webapiVersion", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 405);
    ck_assert_str_eq(http_response_get_header(resp, "Allow"), "GET, HEAD, POST");
    http_response_free(resp);
    ck_assert_int_eq(ctx.calls, 0);

    /* HEAD runs the GET handler. */
    resp = route(&plain_router, &ctx, "HEAD", "/api/v2/app/webapiVersion", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 200);
    ck_assert_int_eq(ctx.calls, 1);
    http_response_free(resp);
    /* A POST-only route does not answer HEAD. */
    resp = route(&plain_router, &ctx, "HEAD", "/api/v2/auth/login", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 405);
    http_response_free(resp);
}
END_TEST

START_TEST(test_router_hooks)
{
    rctx_t ctx = { 0 };
    http_router_t r = plain_router;
    r.before = before_auth;
    int rc;

    /* The before hook stops a protected route without a session. */
    http_response_t *resp = route(&r, &ctx, "GET", "/api/v2/app/webapiVersion", NULL, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(http_response_status(resp), 403);
    assert_body(resp, "Forbidden");
    ck_assert_int_eq(ctx.calls, 0);
    ck_assert_ptr_eq(ctx.last_route, &test_routes[0]);
    http_response_free(resp);

    resp = route(&r, &ctx, "GET", "/api/v2/app/webapiVersion", "SID=abc", NULL);
    ck_assert_int_eq(http_response_status(resp), 200);
    ck_assert_int_eq(ctx.calls, 1);
    http_response_free(resp);

    /* Public route: hook runs, lets it through. */
    resp = route(&r, &ctx, "POST", "/api/v2/auth/login", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 200);
    ck_assert_int_eq(ctx.calls, 2);
    http_response_free(resp);

    /* Unknown path: the hook sees route NULL first (403 before 404, as
     * qBittorrent does), then with a session the 404 follows. */
    resp = route(&r, &ctx, "GET", "/api/v2/app/webapiversion", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 403);
    ck_assert_int_eq(ctx.before_null, 1);
    http_response_free(resp);
    resp = route(&r, &ctx, "GET", "/api/v2/app/webapiversion", "SID=abc", NULL);
    ck_assert_int_eq(http_response_status(resp), 404);
    ck_assert_int_eq(ctx.before_null, 2);
    http_response_free(resp);
    ck_assert_int_eq(ctx.before_calls, 5);
}
END_TEST

static int
my_not_found(http_request_t *req, http_response_t *resp, void *ctx)
{
    return http_response_text(resp, 404, "custom missing");
}

static int
my_not_allowed(http_request_t *req, http_response_t *resp, unsigned allowed, void *ctx)
{
    /* qBittorrent answers 400 to methods other than GET and POST. */
    if (http_method_bit(http_request_method(req)) & (HTTP_M_GET | HTTP_M_POST)) {
        http_response_text(resp, 405, "Method Not Allowed");
        http_router_set_allow(resp, allowed);
        return 0;
    }
    return http_response_text(resp, 400, "");
}

static int
stop_without_status(const http_route_t *route, http_request_t *req, http_response_t *resp,
                    void *ctx)
{
    return 1;
}

START_TEST(test_router_custom_and_failures)
{
    rctx_t ctx = { 0 };
    http_router_t r = plain_router;
    r.not_found = my_not_found;
    r.method_not_allowed = my_not_allowed;
    int rc;
    http_response_t *resp = route(&r, &ctx, "GET", "/nope", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 404);
    assert_body(resp, "custom missing");
    http_response_free(resp);
    resp = route(&r, &ctx, "PUT", "/api/v2/app/webapiVersion", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 400);
    http_response_free(resp);
    resp = route(&r, &ctx, "GET", "/api/v2/auth/login", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 405);
    ck_assert_str_eq(http_response_get_header(resp, "Allow"), "POST");
    http_response_free(resp);

    /* A failed handler without a status becomes a clean 500. */
    resp = route(&plain_router, &ctx, "GET", "/fail", NULL, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(http_response_status(resp), 500);
    assert_body(resp, "Internal Server Error");
    ck_assert_ptr_null(http_response_get_header(resp, "X-Partial"));
    http_response_free(resp);
    /* A failed handler that chose a status keeps its answer. */
    resp = route(&plain_router, &ctx, "POST", "/conflict", NULL, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(http_response_status(resp), 409);
    assert_body(resp, "Unable to create category");
    http_response_free(resp);
    /* A hook stopping without a status is a 500, not an empty 200. */
    r = plain_router;
    r.before = stop_without_status;
    resp = route(&r, &ctx, "GET", "/api/v2/app/webapiVersion", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 500);
    http_response_free(resp);
    /* An empty router answers 404 to everything. */
    http_router_t empty = { 0 };
    resp = route(&empty, &ctx, "GET", "/", NULL, NULL);
    ck_assert_int_eq(http_response_status(resp), 404);
    http_response_free(resp);
}
END_TEST

/* ---- responses ---- */

START_TEST(test_response_write)
{
    http_response_t *resp = http_response_new();
    ck_assert_int_eq(http_response_status(resp), 200);
    ck_assert_int_eq(http_response_status_is_set(resp), 0);
    /* A fresh response: empty 200. */
    assert_output(resp, "Status: 200 OK\r\nContent-Length: 0\r\n\r\n");

    ck_assert_int_eq(http_response_text(resp, 200, "Ok."), 0);
    ck_assert_int_eq(http_response_add_header(resp, "Set-Cookie",
                                              "SID=vfFLUgtW; HttpOnly; path=/; SameSite=Strict"), 0);
    ck_assert_int_eq(http_response_add_header(resp, "X-Frame-Options", "SAMEORIGIN"), 0);
    ck_assert_int_eq(http_response_add_header(resp, "Set-Cookie", "b=2"), 0);
    assert_output(resp, "Status: 200 OK\r\n"
                        "Content-Type: text/plain; charset=UTF-8\r\n"
                        "Set-Cookie: SID=vfFLUgtW; HttpOnly; path=/; SameSite=Strict\r\n"
                        "X-Frame-Options: SAMEORIGIN\r\n"
                        "Set-Cookie: b=2\r\n"
                        "Content-Length: 3\r\n"
                        "\r\n"
                        "Ok.");
    /* set_header replaces every copy, keeping the first position. */
    ck_assert_int_eq(http_response_set_header(resp, "set-cookie", "c=3"), 0);
    assert_output(resp, "Status: 200 OK\r\n"
                        "Content-Type: text/plain; charset=UTF-8\r\n"
                        "set-cookie: c=3\r\n"
                        "X-Frame-Options: SAMEORIGIN\r\n"
                        "Content-Length: 3\r\n"
                        "\r\n"
                        "Ok.");
    http_response_remove_header(resp, "X-FRAME-OPTIONS");
    ck_assert_ptr_null(http_response_get_header(resp, "X-Frame-Options"));

    /* Header injection is refused and nothing is emitted. */
    ck_assert_int_eq(http_response_set_header(resp, "X-A", "a\r\nX-Evil: 1"), -1);
    ck_assert_int_eq(http_response_add_header(resp, "X-A", "a\nb"), -1);
    ck_assert_int_eq(http_response_add_header(resp, "X-A", "a\rb"), -1);
    ck_assert_int_eq(http_response_add_header(resp, "X-A", "a\x01"), -1);
    ck_assert_int_eq(http_response_add_header(resp, "X-A\r\nX-Evil", "1"), -1);
    ck_assert_int_eq(http_response_add_header(resp, "X A", "1"), -1);
    ck_assert_int_eq(http_response_add_header(resp, "X:A", "1"), -1);
    ck_assert_int_eq(http_response_add_header(resp, "", "1"), -1);
    ck_assert_int_eq(http_response_add_header(resp, "Status", "302 Found"), -1);
    ck_assert_int_eq(http_response_set_header(resp, "content-length", "99"), -1);
    ck_assert_int_eq(http_response_add_header(resp, "X-Tab", "a\tb"), 0);
    char *out = render(resp, NULL);
    ck_assert_ptr_null(strstr(out, "Evil"));
    ck_assert_ptr_null(strstr(out, "99"));
    ck_assert_ptr_nonnull(strstr(out, "\r\nX-Tab: a\tb\r\n"));
    free(out);

    /* Status table. */
    ck_assert_int_eq(http_response_set_status(resp, 199), -1);
    ck_assert_int_eq(http_response_set_status(resp, 600), -1);
    ck_assert_int_eq(http_response_status(resp), 200);
    ck_assert_str_eq(http_response_reason(404), "Not Found");
    ck_assert_str_eq(http_response_reason(413), "Content Too Large");
    ck_assert_str_eq(http_response_reason(418), "Client Error");
    ck_assert_str_eq(http_response_reason(599), "Server Error");
    http_response_free(resp);

    /* 404 with its phrase; printf appends. */
    resp = http_response_new();
    http_response_text(resp, 404, "Not ");
    http_response_printf(resp, "%s", "Found");
    ck_assert_int_eq(http_response_status_is_set(resp), 1);
    assert_output(resp, "Status: 404 Not Found\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                        "Content-Length: 9\r\n\r\nNot Found");

    /* HEAD: same headers and length, no body. */
    http_response_set_head_only(resp, 1);
    assert_output(resp, "Status: 404 Not Found\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                        "Content-Length: 9\r\n\r\n");
    http_response_free(resp);

    /* A body without a type gets one; 204 and 304 carry no body. */
    resp = http_response_new();
    evbuffer_add(http_response_body(resp), "\0\1", 2);
    static const char want_bin[] = "Status: 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                   "Content-Length: 2\r\n\r\n\0\1";
    size_t len;
    out = render(resp, &len);
    ck_assert_uint_eq(len, sizeof want_bin - 1);
    ck_assert_mem_eq(out, want_bin, len);
    free(out);
    http_response_set_status(resp, 204);
    assert_output(resp, "Status: 204 No Content\r\n\r\n");
    http_response_reset(resp);
    ck_assert_int_eq(http_response_status_is_set(resp), 0);
    ck_assert_uint_eq(http_response_body_length(resp), 0);
    http_response_set_status(resp, 304);
    http_response_set_header(resp, "ETag", "\"x\"");
    assert_output(resp, "Status: 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
    http_response_free(resp);
    http_response_free(NULL);
}
END_TEST

START_TEST(test_response_json_and_errors)
{
    http_response_t *resp = http_response_new();
    json_object *o = json_object_new_object();
    json_object_object_add(o, "save_path", json_object_new_string("/tmp/qbt/downloads"));
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, json_object_new_int(1));
    json_object_array_add(arr, json_object_new_boolean(0));
    json_object_object_add(o, "a", arr);
    json_object_object_add(o, "n", NULL);
    ck_assert_int_eq(http_response_json(resp, 200, o), 0);
    /* Not owned: still ours to use and drop. */
    ck_assert_int_eq(json_object_object_length(o), 3);
    json_object_put(o);
    assert_output(resp, "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: 57\r\n\r\n"
                        "{\"save_path\":\"/tmp/qbt/downloads\",\"a\":[1,false],\"n\":null}");
    http_response_free(resp);

    /* Content-Length must count bytes exactly. */
    resp = http_response_new();
    o = json_object_new_array();
    http_response_json(resp, 200, o);
    json_object_put(o);
    assert_output(resp, "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]");
    ck_assert_int_eq(http_response_json(resp, 99, NULL), -1);
    ck_assert_int_eq(http_response_text(resp, 1000, "x"), -1);
    http_response_json(resp, 200, NULL);
    assert_body(resp, "null");

    /* A failing sink stops the write. */
    sink_t s = { NULL, 0, 0, 0, 1 };
    ck_assert_int_eq(http_response_write(resp, sink_write, &s), -1);
    ck_assert_int_eq(s.calls, 1);
    free(s.buf);
    http_response_free(resp);
}
END_TEST

/* A streamed body: parts "p1;", "p2;", ... up to n, failing instead of
 * making part fail_at (0: never). */
typedef struct {
    int n, fail_at, made, freed;
} parts_t;

static int
parts_next(void *ctx, struct evbuffer *out)
{
    parts_t *p = ctx;
    if (p->made + 1 == p->fail_at)
        return HTTP_BODY_FAILED;
    evbuffer_add_printf(out, "p%d;", ++p->made);
    return p->made < p->n ? HTTP_BODY_MORE : HTTP_BODY_DONE;
}

static void
parts_free(void *ctx)
{
    ((parts_t *)ctx)->freed++;
}

START_TEST(test_response_stream)
{
    /* What the body holds goes first, then the parts; no Content-Length. */
    parts_t p = { .n = 3 };
    http_response_t *resp = http_response_new();
    http_response_set_header(resp, "Content-Type", "text/csv");
    http_response_printf(resp, "head;");
    http_response_stream(resp, parts_next, &p, parts_free);
    assert_output(resp, "Status: 200 OK\r\nContent-Type: text/csv\r\n\r\nhead;p1;p2;p3;");
    ck_assert_int_eq(p.freed, 0);
    http_response_free(resp);
    ck_assert_int_eq(p.freed, 1);

    /* Failing half-way: what was made went out, and the write says the
     * answer must be cut short. */
    p = (parts_t){ .n = 5, .fail_at = 3 };
    resp = http_response_new();
    http_response_stream(resp, parts_next, &p, parts_free);
    sink_t s = { NULL, 0, 0, 0, 0 };
    ck_assert_int_eq(http_response_write(resp, sink_write, &s), HTTP_WRITE_CUT);
    ck_assert_ptr_nonnull(strstr(s.buf, "Content-Type: application/octet-stream\r\n\r\np1;p2;"));
    ck_assert_ptr_null(strstr(s.buf, "p3;"));
    ck_assert_ptr_null(strstr(s.buf, "Content-Length"));
    free(s.buf);
    /* A failing sink stops it: -1, no more parts asked for. */
    p = (parts_t){ .n = 5 };
    s = (sink_t){ NULL, 0, 0, 0, 1 };
    ck_assert_int_eq(http_response_write(resp, sink_write, &s), -1);
    ck_assert_int_eq(p.made, 0);
    /* A body replaced frees the stream: a plain answer again. */
    http_response_text(resp, 503, "x");
    ck_assert_int_eq(p.freed, 1);
    assert_output(resp, "Status: 503 Service Unavailable\r\n"
                        "Content-Type: text/plain; charset=UTF-8\r\nContent-Length: 1\r\n\r\nx");
    http_response_free(resp);
    ck_assert_int_eq(p.freed, 1);

    /* HEAD: headers alone, the function never called, its ctx freed. */
    p = (parts_t){ .n = 2 };
    resp = http_response_new();
    http_response_set_head_only(resp, 1);
    http_response_stream(resp, parts_next, &p, parts_free);
    assert_output(resp, "Status: 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n");
    ck_assert_int_eq(p.made, 0);
    http_response_reset(resp);
    ck_assert_int_eq(p.freed, 1);
    http_response_free(resp);
    ck_assert_int_eq(p.freed, 1);
}
END_TEST

/* ---- http_handle and http_serve_one ---- */

static int
h_login(http_request_t *req, http_response_t *resp, void *ctx)
{
    const char *u = http_request_param(req, "username");
    const char *p = http_request_param(req, "password");
    if (u && p && strcmp(u, "admin") == 0 && strcmp(p, "secret pass") == 0) {
        http_response_add_header(resp, "Set-Cookie", "SID=s1; HttpOnly; path=/; SameSite=Strict");
        return http_response_text(resp, 200, "Ok.");
    }
    return http_response_text(resp, 200, "Fails.");
}

static int
h_version(http_request_t *req, http_response_t *resp, void *ctx)
{
    return http_response_text(resp, 200, "2.8.19");
}

static const http_route_t app_routes[] = {
    { HTTP_M_POST, "/api/v2/auth/login", h_login, 0 },
    { HTTP_M_GET | HTTP_M_POST, "/api/v2/app/webapiVersion", h_version, 0 },
    { HTTP_M_GET, "/api/v2/fail", h_fail, 0 },
};

static const http_router_t app_router = {
    .routes = app_routes,
    .n_routes = HTTP_N_ROUTES(app_routes),
};

static void
json_bad_request(http_response_t *resp, const mt_error_t *err, void *ctx)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(err->message));
    http_response_json(resp, err->code == MT_ERR_TOO_LARGE ? 413 : 422, o);
    json_object_put(o);
}

static char *
handle(const http_app_t *app, char *const *env, const char *body, size_t len, int *rc)
{
    http_response_t *resp = http_response_new();
    int r = http_handle(app, env, (const uint8_t *)body, len, resp);
    if (rc != NULL)
        *rc = r;
    char *out = render(resp, NULL);
    http_response_free(resp);
    return out;
}

START_TEST(test_handle_end_to_end)
{
    rctx_t rctx = { 0 };
    http_app_t app = { .name = "test", .router = &app_router, .ctx = &rctx };
    int rc;
    const char *body = "username=admin&password=secret+pass";
    char *out = handle(&app, ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login",
                                 "CONTENT_TYPE=application/x-www-form-urlencoded"),
                       body, strlen(body), &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(out, "Status: 200 OK\r\n"
                          "Set-Cookie: SID=s1; HttpOnly; path=/; SameSite=Strict\r\n"
                          "Content-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Length: 3\r\n\r\nOk.");
    free(out);

    out = handle(&app, ENV("REQUEST_METHOD=HEAD", "REQUEST_URI=/api/v2/app/webapiVersion"), NULL,
                 0, &rc);
    ck_assert_str_eq(out, "Status: 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Length: 6\r\n\r\n");
    free(out);

    out = handle(&app, ENV("REQUEST_METHOD=GET", "REQUEST_URI=/api/v2/app/webapiVersion?x=%4"),
                 NULL, 0, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(out, "Status: 400 Bad Request\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Length: 41\r\n\r\nbad percent-escape in query parameter \"x\"");
    free(out);

    app.limits.max_body = 4;
    out = handle(&app, ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login"), "12345", 5,
                 &rc);
    ck_assert_ptr_nonnull(strstr(out, "Status: 413 Content Too Large\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nrequest body too large (5 bytes, limit 4)"));
    free(out);

    /* The program's own error format. */
    app.on_bad_request = json_bad_request;
    out = handle(&app, ENV("REQUEST_METHOD=GET", "REQUEST_URI=/a%zz"), NULL, 0, &rc);
    ck_assert_str_eq(out, "Status: 422 Unprocessable Content\r\nContent-Type: application/json\r\n"
                          "Content-Length: 46\r\n\r\n{\"error\":\"bad percent-escape in request path\"}");
    free(out);

    out = handle(&app, ENV("REQUEST_METHOD=GET", "REQUEST_URI=/api/v2/fail"), NULL, 0, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(out, "Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Length: 21\r\n\r\nInternal Server Error");
    free(out);

    out = handle(&app, ENV("REQUEST_METHOD=GET", "REQUEST_URI=/api/v2/nope"), NULL, 0, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(out, "Status: 404 Not Found\r\n"));
    free(out);
}
END_TEST

typedef struct {
    const char *data;
    size_t len, pos;
    int endless; /* produce 'x' forever after data */
    size_t total_read;
} reader_t;

static ssize_t
mem_read(void *ctx, void *buf, size_t len)
{
    reader_t *r = ctx;
    size_t n;
    if (r->pos < r->len) {
        n = r->len - r->pos < len ? r->len - r->pos : len;
        memcpy(buf, r->data + r->pos, n);
        r->pos += n;
    } else if (r->endless) {
        n = len;
        memset(buf, 'x', n);
    } else {
        n = 0;
    }
    r->total_read += n;
    return (ssize_t)n;
}

static char *
serve(const http_app_t *app, char *const *env, reader_t *rd, int framed)
{
    sink_t s = { NULL, 0, 0, 0, 0 };
    ck_assert_int_eq(http_serve_one(app, env, mem_read, rd, framed, sink_write, &s), 0);
    return s.buf;
}

START_TEST(test_serve_one)
{
    http_app_t app = { .name = "test", .router = &app_router };
    const char *body = "username=admin&password=secret+pass";
    char cl[64];
    snprintf(cl, sizeof cl, "CONTENT_LENGTH=%zu", strlen(body));
    char *const login_env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login",
                                "CONTENT_TYPE=application/x-www-form-urlencoded", cl, NULL };
    for (int framed = 0; framed <= 1; framed++) {
        reader_t rd = { body, strlen(body), 0, 0, 0 };
        char *out = serve(&app, login_env, &rd, framed);
        ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nOk."));
        ck_assert_uint_eq(rd.total_read, strlen(body));
        free(out);

        /* Invalid CONTENT_LENGTH: 400, nothing read on plain CGI. */
        const char *bad_cl[] = { "CONTENT_LENGTH=12x", "CONTENT_LENGTH=-1", "CONTENT_LENGTH= 5",
                                 "CONTENT_LENGTH=99999999999999999999999" };
        for (size_t i = 0; i < sizeof bad_cl / sizeof bad_cl[0]; i++) {
            reader_t r2 = { body, strlen(body), 0, 0, 0 };
            out = serve(&app, ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login",
                                  (char *)bad_cl[i]),
                        &r2, framed);
            ck_assert_msg(strncmp(out, "Status: 400 Bad Request\r\n", 25) == 0, "%s", out);
            ck_assert_ptr_nonnull(strstr(out, "invalid CONTENT_LENGTH"));
            ck_assert_uint_eq(r2.total_read, framed ? strlen(body) : 0);
            free(out);
        }

        /* Over the limit: 413 before reading; the drain after answering
         * is bounded even if the client never stops sending. */
        reader_t r3 = { "", 0, 0, 1, 0 };
        out = serve(&app, ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login",
                              "CONTENT_LENGTH=1000000000000"),
                    &r3, framed);
        ck_assert_msg(strncmp(out, "Status: 413 Content Too Large\r\n", 31) == 0, "%s", out);
        ck_assert_ptr_nonnull(strstr(out, "request body too large (1000000000000 bytes, limit 8388608)"));
        ck_assert_uint_le(r3.total_read, 16 * 1024 * 1024);
        free(out);

        /* Shorter than announced. */
        reader_t r4 = { "abc", 3, 0, 0, 0 };
        out = serve(&app, ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login",
                              "CONTENT_LENGTH=10"),
                    &r4, framed);
        ck_assert_ptr_nonnull(strstr(out, "Status: 400 Bad Request\r\n"));
        ck_assert_ptr_nonnull(strstr(out, "request body shorter than CONTENT_LENGTH (3 of 10 bytes)"));
        free(out);

        /* HEAD with a bad request: headers only. */
        reader_t r5 = { "", 0, 0, 0, 0 };
        out = serve(&app, ENV("REQUEST_METHOD=HEAD", "REQUEST_URI=/x", "CONTENT_LENGTH=x"), &r5,
                    framed);
        ck_assert_ptr_nonnull(strstr(out, "Status: 400 Bad Request\r\n"));
        ck_assert_int_eq(out[strlen(out) - 1], '\n');
        ck_assert_ptr_null(strstr(out, "\r\n\r\ninvalid"));
        free(out);
    }

    /* No CONTENT_LENGTH: plain CGI reads nothing; FastCGI refuses a body
     * that arrives anyway, and accepts an empty one. */
    reader_t r6 = { body, strlen(body), 0, 0, 0 };
    char *out = serve(&app, ENV("REQUEST_METHOD=GET", "REQUEST_URI=/api/v2/app/webapiVersion"), &r6,
                      0);
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\n2.8.19"));
    ck_assert_uint_eq(r6.total_read, 0);
    free(out);
    reader_t r7 = { body, strlen(body), 0, 0, 0 };
    out = serve(&app, ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/app/webapiVersion",
                          "CONTENT_LENGTH="),
                &r7, 1);
    ck_assert_ptr_nonnull(strstr(out, "Status: 400 Bad Request\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "request body without CONTENT_LENGTH"));
    ck_assert_uint_eq(r7.total_read, strlen(body)); /* drained */
    free(out);
    reader_t r8 = { "", 0, 0, 0, 0 };
    out = serve(&app, ENV("REQUEST_METHOD=GET", "REQUEST_URI=/api/v2/app/webapiVersion"), &r8, 1);
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\n2.8.19"));
    free(out);
}
END_TEST

/* ---- the end-of-request hook ---- */

/* What on_request_end saw. r comes first: the handlers and before_auth
 * take the context as an rctx_t. */
typedef struct {
    rctx_t r;
    int ends;              /* times the hook ran */
    const sink_t *sink;    /* the current request's output */
    size_t written_at_end; /* bytes of it written when the hook ran */
} endctx_t;

static void
count_end(void *ctx)
{
    endctx_t *e = ctx;
    e->ends++;
    e->written_at_end = e->sink->len;
}

/* serve_ended: one request through http_serve_one; the hook must have run
 * exactly once, after the whole answer was written. Returns the output. */
static char *
serve_ended(const http_app_t *app, endctx_t *e, char *const *env, const char *body, int framed)
{
    sink_t s = { NULL, 0, 0, 0, 0 };
    reader_t rd = { body, strlen(body), 0, 0, 0 };
    int before = e->ends;
    e->sink = &s;
    ck_assert_int_eq(http_serve_one(app, env, mem_read, &rd, framed, sink_write, &s), 0);
    ck_assert_int_eq(e->ends, before + 1);
    ck_assert_uint_gt(s.len, 0);
    ck_assert_uint_eq(e->written_at_end, s.len);
    return s.buf;
}

START_TEST(test_request_end_hook)
{
    const http_router_t router = {
        .routes = test_routes,
        .n_routes = HTTP_N_ROUTES(test_routes),
        .before = before_auth,
    };
    endctx_t e = { 0 };
    http_app_t app = { .name = "test", .router = &router, .ctx = &e, .on_request_end = count_end };
    app.limits.max_body = 16;
    const struct {
        char *const *env;
        const char *body;
        const char *status;
    } cases[] = {
        /* the handler answered */
        { ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login"), "", "200 OK" },
        /* the handler failed */
        { ENV("REQUEST_METHOD=GET", "REQUEST_URI=/fail"), "", "500 Internal Server Error" },
        /* the before hook refused */
        { ENV("REQUEST_METHOD=GET", "REQUEST_URI=/api/v2/app/webapiVersion"), "", "403 Forbidden" },
        /* no route */
        { ENV("REQUEST_METHOD=GET", "REQUEST_URI=/nope", "HTTP_COOKIE=SID=1"), "", "404 Not Found" },
        /* the request could not be parsed */
        { ENV("REQUEST_METHOD=GET", "REQUEST_URI=/a%zz"), "", "400 Bad Request" },
        /* refused before its body was read: bad length, too long, too short */
        { ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login", "CONTENT_LENGTH=x"), "",
          "400 Bad Request" },
        { ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login", "CONTENT_LENGTH=17"),
          "01234567890123456", "413 Content Too Large" },
        { ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login", "CONTENT_LENGTH=9"), "abc",
          "400 Bad Request" },
    };
    for (int framed = 0; framed <= 1; framed++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char *out = serve_ended(&app, &e, cases[i].env, cases[i].body, framed);
            char *want = xasprintf("Status: %s\r\n", cases[i].status);
            ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "case %zu: %s", i, out);
            free(want);
            free(out);
        }
    }
    ck_assert_int_eq(e.ends, 16);
    /* A client gone before the answer: the hook runs all the same. */
    sink_t gone = { NULL, 0, 0, 0, 1 };
    reader_t rd = { "", 0, 0, 0, 0 };
    e.sink = &gone;
    ck_assert_int_eq(http_serve_one(&app, ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login"),
                                    mem_read, &rd, 1, sink_write, &gone),
                     -1);
    ck_assert_int_eq(e.ends, 17);
    /* Without a hook nothing changes. */
    app.on_request_end = NULL;
    sink_t s = { NULL, 0, 0, 0, 0 };
    ck_assert_int_eq(http_serve_one(&app, ENV("REQUEST_METHOD=GET", "REQUEST_URI=/fail"),
                                    mem_read, &rd, 1, sink_write, &s),
                     0);
    ck_assert_int_eq(e.ends, 17);
    free(s.buf);
}
END_TEST

/* http_observe: the observer hears each request served, with the status
 * written (a refused one's too), once; removed, it hears nothing. */
typedef struct {
    int calls, last_status;
    uint64_t last_usec;
} observed_t;

static void
observe(void *ctx, int status, uint64_t usec)
{
    observed_t *o = ctx;
    o->calls++;
    o->last_status = status;
    o->last_usec = usec;
}

START_TEST(test_observer)
{
    const http_router_t router = {
        .routes = test_routes,
        .n_routes = HTTP_N_ROUTES(test_routes),
        .before = before_auth,
    };
    endctx_t e = { 0 };
    http_app_t app = { .name = "test", .router = &router, .ctx = &e, .on_request_end = count_end };
    app.limits.max_body = 16;
    observed_t o = { 0 };
    http_observe(observe, &o);
    free(serve_ended(&app, &e, ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login"), "",
                     1));
    ck_assert_int_eq(o.calls, 1);
    ck_assert_int_eq(o.last_status, 200);
    ck_assert_uint_lt(o.last_usec, 10000000);
    free(serve_ended(&app, &e, ENV("REQUEST_METHOD=GET", "REQUEST_URI=/nope", "HTTP_COOKIE=SID=1"),
                     "", 1));
    ck_assert_int_eq(o.calls, 2);
    ck_assert_int_eq(o.last_status, 404);
    free(serve_ended(&app, &e,
                     ENV("REQUEST_METHOD=POST", "REQUEST_URI=/api/v2/auth/login", "CONTENT_LENGTH=17"),
                     "01234567890123456", 1));
    ck_assert_int_eq(o.calls, 3);
    ck_assert_int_eq(o.last_status, 413);
    http_observe(NULL, NULL);
    free(serve_ended(&app, &e, ENV("REQUEST_METHOD=GET", "REQUEST_URI=/fail"), "", 1));
    ck_assert_int_eq(o.calls, 3);
}
END_TEST

/* ---- http_echo as a real CGI process ---- */

static char *
echo_path(void)
{
    const char *bd = getenv("MT_BUILDDIR");
    if (bd != NULL)
        return xasprintf("%s/tests/unit/http_echo", bd);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_int_gt(n, 0);
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    return xasprintf("%s/http_echo", self);
}

typedef struct {
    char *out;
    size_t len;
    int status;
} proc_result_t;

/* run_cgi: runs http_echo with env, feeding body on stdin; collects stdout
 * and the exit status. */
static proc_result_t
run_cgi(char *const *env, const char *body, size_t body_len)
{
    char *path = echo_path();
    ck_assert_msg(access(path, X_OK) == 0, "%s is not built", path);
    int in[2], out[2];
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        char *argv[] = { path, NULL };
        execve(path, argv, env);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    signal(SIGPIPE, SIG_IGN);
    size_t off = 0;
    while (off < body_len) {
        ssize_t n = write(in[1], body + off, body_len - off);
        if (n <= 0)
            break; /* the program may answer without reading */
        off += (size_t)n;
    }
    close(in[1]);
    proc_result_t r = { NULL, 0, -1 };
    size_t cap = 0;
    for (;;) {
        if (r.len + 4096 + 1 > cap) {
            cap = (r.len + 4096 + 1) * 2;
            r.out = xrealloc(r.out, cap);
        }
        ssize_t n = read(out[0], r.out + r.len, 4096);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        r.len += (size_t)n;
    }
    r.out[r.len] = '\0';
    close(out[0]);
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    free(path);
    return r;
}

/* cgi_json: checks the CGI header block and parses the JSON body. */
static json_object *
cgi_json(const proc_result_t *r)
{
    ck_assert_msg(r->status == 0, "http_echo exited with %d", r->status);
    ck_assert_msg(strncmp(r->out, "Status: 200 OK\r\n", 16) == 0, "output: %s", r->out);
    ck_assert_ptr_nonnull(strstr(r->out, "\r\nContent-Type: application/json\r\n"));
    const char *sep = strstr(r->out, "\r\n\r\n");
    ck_assert_ptr_nonnull(sep);
    const char *body = sep + 4;
    size_t body_len = r->len - (size_t)(body - r->out);
    const char *clh = strstr(r->out, "\r\nContent-Length: ");
    ck_assert_ptr_nonnull(clh);
    ck_assert_uint_eq(strtoul(clh + 18, NULL, 10), body_len);
    json_object *o = json_tokener_parse(body);
    ck_assert_ptr_nonnull(o);
    return o;
}

static const char *
jstr(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    return json_object_get_string(v);
}

START_TEST(test_cgi_process_form)
{
    const char *body = "urls=magnet%3A%3Fxt%3Durn%3Abtih%3Aabc&category=tv-sonarr";
    char cl[64];
    snprintf(cl, sizeof cl, "CONTENT_LENGTH=%zu", strlen(body));
    proc_result_t r = run_cgi(ENV("GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=POST",
                                  "REQUEST_URI=/echo?x=1&x=2", "QUERY_STRING=x=1&x=2",
                                  "CONTENT_TYPE=application/x-www-form-urlencoded", cl,
                                  "HTTP_COOKIE=SID=abc123", "REMOTE_ADDR=127.0.0.1",
                                  "HTTP_AUTHORIZATION=Basic YWRtaW46Y29uZm9ybWFuY2UtcGFzcy0x"),
                              body, strlen(body));
    json_object *o = cgi_json(&r);
    ck_assert_str_eq(jstr(o, "method"), "POST");
    ck_assert_str_eq(jstr(o, "path"), "/echo");
    ck_assert_str_eq(jstr(o, "sid"), "abc123");
    ck_assert_str_eq(jstr(o, "user"), "admin");
    ck_assert_str_eq(jstr(o, "pass"), "conformance-pass-1");
    json_object *q, *f;
    ck_assert(json_object_object_get_ex(o, "query", &q));
    ck_assert(json_object_object_get_ex(o, "form", &f));
    ck_assert_uint_eq(json_object_array_length(q), 2);
    ck_assert_str_eq(jstr(json_object_array_get_idx(q, 1), "value"), "2");
    ck_assert_uint_eq(json_object_array_length(f), 2);
    ck_assert_str_eq(jstr(json_object_array_get_idx(f, 0), "name"), "urls");
    ck_assert_str_eq(jstr(json_object_array_get_idx(f, 0), "value"), "magnet:?xt=urn:btih:abc");
    ck_assert_str_eq(jstr(json_object_array_get_idx(f, 1), "value"), "tv-sonarr");
    json_object_put(o);
    free(r.out);
}
END_TEST

START_TEST(test_cgi_process_multipart)
{
    static const char body[] = "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"torrents\"; filename=\"t.torrent\"\r\n"
                               "Content-Type: application/x-bittorrent\r\n\r\n"
                               "d4:\0\0\r\n--XyZx\r\n--XyZ--\r\n";
    char cl[64];
    snprintf(cl, sizeof cl, "CONTENT_LENGTH=%zu", sizeof body - 1);
    proc_result_t r = run_cgi(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/echo",
                                  "CONTENT_TYPE=multipart/form-data; boundary=XyZ", cl),
                              body, sizeof body - 1);
    json_object *o = cgi_json(&r);
    json_object *f;
    ck_assert(json_object_object_get_ex(o, "form", &f));
    ck_assert_uint_eq(json_object_array_length(f), 1);
    json_object *p = json_object_array_get_idx(f, 0);
    ck_assert_str_eq(jstr(p, "filename"), "t.torrent");
    ck_assert_str_eq(jstr(p, "content_type"), "application/x-bittorrent");
    json_object *len, *val;
    ck_assert(json_object_object_get_ex(p, "len", &len));
    ck_assert_int_eq(json_object_get_int(len), 13);
    ck_assert(json_object_object_get_ex(p, "value", &val));
    ck_assert_int_eq(json_object_get_string_len(val), 13);
    ck_assert_mem_eq(json_object_get_string(val), "d4:\0\0\r\n--XyZx", 13);
    json_object_put(o);
    free(r.out);
}
END_TEST

START_TEST(test_cgi_process_errors)
{
    /* 413 is answered without waiting for a body that never comes. */
    proc_result_t r = run_cgi(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/echo",
                                  "CONTENT_LENGTH=2000000"),
                              "abc", 3);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strncmp(r.out, "Status: 413 Content Too Large\r\n", 31) == 0, "%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "\r\n\r\nrequest body too large (2000000 bytes, limit 1048576)"));
    free(r.out);

    r = run_cgi(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/echo", "CONTENT_LENGTH=abc"), "", 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Status: 400 Bad Request\r\n"));
    free(r.out);

    r = run_cgi(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/fail"), "", 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "Status: 500 Internal Server Error\r\n"
                            "Content-Type: text/plain; charset=UTF-8\r\n"
                            "Content-Length: 21\r\n\r\nInternal Server Error");
    free(r.out);

    r = run_cgi(ENV("REQUEST_METHOD=DELETE", "REQUEST_URI=/echo"), "", 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Status: 405 Method Not Allowed\r\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "\r\nAllow: GET, HEAD, POST\r\n"));
    free(r.out);

    /* Path parameter and HEAD through the real program. */
    r = run_cgi(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/items/4%202"), "", 0);
    json_object *o = cgi_json(&r);
    ck_assert_str_eq(jstr(o, "id"), "4 2");
    json_object_put(o);
    free(r.out);
    r = run_cgi(ENV("REQUEST_METHOD=HEAD", "REQUEST_URI=/hello"), "", 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "Status: 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                            "Content-Length: 6\r\n\r\n");
    free(r.out);
    r = run_cgi(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/hello"), "", 0);
    ck_assert_str_eq(r.out, "Status: 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                            "Content-Length: 6\r\n\r\nhello\n");
    free(r.out);
}
END_TEST

/* The end-of-request hook in a real CGI process: once per request, after
 * an answer, a failed handler and a refused body alike. */
START_TEST(test_cgi_process_request_end)
{
    char log_path[] = "/tmp/check_http_end.XXXXXX";
    int fd = mkstemp(log_path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char *log_var = xasprintf("HTTP_ECHO_END_LOG=%s", log_path);
    proc_result_t r = run_cgi(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/hello", log_var), "", 0);
    ck_assert_ptr_nonnull(strstr(r.out, "\r\n\r\nhello\n"));
    free(r.out);
    r = run_cgi(ENV("REQUEST_METHOD=GET", "REQUEST_URI=/fail", log_var), "", 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Status: 500 Internal Server Error\r\n"));
    free(r.out);
    r = run_cgi(ENV("REQUEST_METHOD=POST", "REQUEST_URI=/echo", "CONTENT_LENGTH=2000000",
                    log_var),
                "abc", 3);
    ck_assert_ptr_nonnull(strstr(r.out, "Status: 413 Content Too Large\r\n"));
    free(r.out);
    FILE *f = fopen(log_path, "r");
    ck_assert_ptr_nonnull(f);
    char line[64];
    int lines = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        ck_assert_msg(strncmp(line, "end ", 4) == 0, "line: %s", line);
        lines++;
    }
    fclose(f);
    ck_assert_int_eq(lines, 3);
    unlink(log_path);
    free(log_var);
}
END_TEST

static Suite *
http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("request");
    tcase_add_test(tc, test_query_parsing);
    tcase_add_test(tc, test_query_errors);
    tcase_add_test(tc, test_params_utf8);
    tcase_add_test(tc, test_path_decoding);
    tcase_add_test(tc, test_headers_env);
    tcase_add_test(tc, test_json_body);
    tcase_add_test(tc, test_form_urlencoded);
    tcase_add_test(tc, test_multipart_dotnet);
    tcase_add_test(tc, test_multipart_binary);
    tcase_add_test(tc, test_multipart_errors);
    tcase_add_test(tc, test_cookies);
    tcase_add_test(tc, test_auth_headers);
    tcase_add_test(tc, test_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("router");
    tcase_add_test(tc, test_router_match);
    tcase_add_test(tc, test_router_methods);
    tcase_add_test(tc, test_router_hooks);
    tcase_add_test(tc, test_router_custom_and_failures);
    suite_add_tcase(s, tc);

    tc = tcase_create("response");
    tcase_add_test(tc, test_response_write);
    tcase_add_test(tc, test_response_json_and_errors);
    tcase_add_test(tc, test_response_stream);
    suite_add_tcase(s, tc);

    tc = tcase_create("server");
    tcase_add_test(tc, test_handle_end_to_end);
    tcase_add_test(tc, test_serve_one);
    tcase_add_test(tc, test_request_end_hook);
    tcase_add_test(tc, test_observer);
    tcase_add_test(tc, test_cgi_process_form);
    tcase_add_test(tc, test_cgi_process_multipart);
    tcase_add_test(tc, test_cgi_process_errors);
    tcase_add_test(tc, test_cgi_process_request_end);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(http_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
