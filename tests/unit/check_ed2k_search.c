/* check_ed2k_search.c: unit tests for lib/ed2k/search_expr.c and search.c:
 * the expression language, the live search trees of ed2k-protocol.md §3.5,
 * the tree decoder, result decoding (TCP and UDP) and name sanitising. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/c2s.h"
#include "ed2k/search.h"
#include "ed2k/search_expr.h"
#include "ed2k/tag.h"
#include "util/utf8.h"

/* bytes_of: test notation for wire bytes: hex pairs, spaces ignored,
 * 'text' for ASCII. Returns the length. */
static size_t
bytes_of(const char *spec, uint8_t *out)
{
    size_t n = 0;
    const char *s = spec;
    while (*s) {
        if (*s == ' ') {
            s++;
        } else if (*s == '\'') {
            s++;
            while (*s && *s != '\'')
                out[n++] = (uint8_t)*s++;
            if (*s)
                s++;
        } else {
            unsigned v;
            sscanf(s, "%2x", &v);
            out[n++] = (uint8_t)v;
            s += 2;
        }
    }
    return n;
}

static char *
hex_of(const uint8_t *p, size_t n)
{
    char *h = malloc(n * 2 + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(h + 2 * i, "%02x", p[i]);
    h[2 * n] = '\0';
    return h;
}

static ed2k_search_t *
parse_ok(const char *expr)
{
    ed2k_search_t *s = NULL;
    mt_error_t *err = NULL;
    int rc = ed2k_search_parse(expr, &s, &err);
    ck_assert_msg(rc == 0, "parse of '%s' failed: %s", expr, err ? err->message : "?");
    ck_assert_ptr_nonnull(s);
    return s;
}

/* encode_hex: the encoding of expr as hex. */
static char *
encode_hex(const char *expr, bool large)
{
    ed2k_search_t *s = parse_ok(expr);
    struct evbuffer *b = evbuffer_new();
    mt_error_t *err = NULL;
    int rc = ed2k_search_encode(s, b, large, &err);
    ck_assert_msg(rc == 0, "encode of '%s' failed: %s", expr, err ? err->message : "?");
    size_t n = evbuffer_get_length(b);
    char *h = hex_of(evbuffer_pullup(b, -1), n);
    evbuffer_free(b);
    ed2k_search_free(s);
    return h;
}

static void
expect_wire(const char *expr, bool large, const char *spec)
{
    uint8_t want[1024];
    size_t wl = bytes_of(spec, want);
    char *wh = hex_of(want, wl);
    char *got = encode_hex(expr, large);
    ck_assert_msg(strcmp(got, wh) == 0, "'%s': got %s, want %s", expr, got, wh);
    free(wh);
    free(got);
}

static void
expect_string(const char *expr, const char *want)
{
    ed2k_search_t *s = parse_ok(expr);
    char *got = ed2k_search_to_string(s);
    ck_assert_msg(strcmp(got, want) == 0, "'%s': to_string gave [%s], want [%s]", expr, got, want);
    free(got);
    ed2k_search_free(s);
}

static void
expect_error(const char *expr, int code, const char *fragment)
{
    ed2k_search_t *s = (ed2k_search_t *)1;
    mt_error_t *err = NULL;
    int rc = ed2k_search_parse(expr, &s, &err);
    ck_assert_msg(rc == -1, "'%s' should not parse", expr);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(err->code == code, "'%s': code %d, want %d (%s)", expr, err->code, code,
                  err->message);
    ck_assert_msg(strstr(err->message, fragment) != NULL, "'%s': message [%s] lacks [%s]", expr,
                  err->message, fragment);
    mt_error_free(err);
    /* The same without an error out-parameter. */
    ck_assert_int_eq(ed2k_search_parse(expr, &s, NULL), -1);
}

/* dump_of: ed2k_search_tree_dump of wire bytes given in bytes_of notation;
 * NULL when it fails. */
static char *
dump_of(const char *spec, mt_error_t **err)
{
    uint8_t buf[1024];
    size_t n = bytes_of(spec, buf);
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    char *text = NULL;
    int rc = ed2k_search_tree_dump(exact, n, &text, err);
    free(exact);
    if (rc != 0) {
        ck_assert_ptr_null(text);
        return NULL;
    }
    return text;
}

/* roundtrip: parse, encode with large files, dump: the dump is the
 * to_string form; for expressions without filters, to_string parses back
 * into the same tree. */
static void
roundtrip(const char *expr)
{
    ed2k_search_t *s = parse_ok(expr);
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_search_encode(s, b, true, NULL), 0);
    size_t n = evbuffer_get_length(b);
    char *text = NULL;
    mt_error_t *err = NULL;
    ck_assert_msg(ed2k_search_tree_dump(evbuffer_pullup(b, -1), n, &text, &err) == 0,
                  "dump of '%s' failed: %s", expr, err ? err->message : "?");
    char *str = ed2k_search_to_string(s);
    ck_assert_msg(strcmp(text, str) == 0, "'%s': dump [%s] != to_string [%s]", expr, text, str);
    if (strchr(expr, ':') == NULL) {
        char *a = encode_hex(expr, true);
        char *again = encode_hex(str, true);
        ck_assert_msg(strcmp(a, again) == 0, "'%s' -> '%s' does not parse back the same", expr,
                      str);
        free(a);
        free(again);
    }
    free(str);
    free(text);
    evbuffer_free(b);
    ed2k_search_free(s);
}

/* ------------------------------------------------------------------ */

START_TEST(test_live_vectors)
{
    /* §3.5 [LIVE]: aMule 2.3.3 sent exactly these trees. */
    expect_wire("fake share", false, "01 0a 00 66 61 6b 65 20 73 68 61 72 65");
    expect_wire("alpha OR beta NOT gamma", false,
                "00 01  01 05 00 'alpha'  00 02  01 04 00 'beta'  01 05 00 'gamma'");
    expect_wire("alpha OR beta NOT gamma", true,
                "00 01  01 05 00 'alpha'  00 02  01 04 00 'beta'  01 05 00 'gamma'");
    expect_string("fake share", "fake share");
    expect_string("alpha OR beta NOT gamma", "alpha OR (beta NOT gamma)");
}
END_TEST

START_TEST(test_operators)
{
    expect_wire("a OR b", false, "00 01 01 01 00 'a' 01 01 00 'b'");
    expect_wire("a NOT b", false, "00 02 01 01 00 'a' 01 01 00 'b'");
    /* AND between two words is folded into one term, explicit or not */
    expect_wire("a AND b", false, "01 03 00 'a b'");
    expect_wire("a b", false, "01 03 00 'a b'");
    /* lower-case operators are words, as in aMule's Scanner.l */
    expect_wire("a and b", false, "01 07 00 'a and b'");
    expect_wire("a or b", false, "01 06 00 'a or b'");
    expect_wire("not a", false, "01 05 00 'not a'");
    expect_wire("a Or b", false, "01 06 00 'a Or b'");
    /* an AND that cannot fold stays an AND node */
    expect_wire("a AND (b OR c)", false, "00 00 01 01 00 'a' 00 01 01 01 00 'b' 01 01 00 'c'");
    expect_string("a AND (b OR c)", "a (b OR c)");
    expect_string("a OR b", "a OR b");
    expect_string("a NOT b", "a NOT b");
}
END_TEST

START_TEST(test_precedence)
{
    /* NOT binds tightest, then AND, then OR; all left-associative */
    expect_wire("a OR b AND c", false, "00 01 01 01 00 'a' 01 03 00 'b c'");
    expect_string("a OR b AND c", "a OR (b c)");
    expect_wire("a AND b OR c", false, "00 01 01 03 00 'a b' 01 01 00 'c'");
    expect_wire("a NOT b OR c", false, "00 01 00 02 01 01 00 'a' 01 01 00 'b' 01 01 00 'c'");
    expect_string("a NOT b OR c", "(a NOT b) OR c");
    expect_wire("a NOT b NOT c", false, "00 02 00 02 01 01 00 'a' 01 01 00 'b' 01 01 00 'c'");
    expect_string("a NOT b NOT c", "(a NOT b) NOT c");
    expect_wire("a OR b OR c", false, "00 01 00 01 01 01 00 'a' 01 01 00 'b' 01 01 00 'c'");
    expect_wire("a AND b NOT c", false, "00 00 01 01 00 'a' 00 02 01 01 00 'b' 01 01 00 'c'");
    expect_string("a AND b NOT c", "a (b NOT c)");
    /* adjacent words bind tighter than NOT (aMule's and_strings) */
    expect_wire("a b NOT c", false, "00 02 01 03 00 'a b' 01 01 00 'c'");
    expect_string("a b NOT c", "(a b) NOT c");
    /* parentheses */
    expect_wire("a OR (b NOT c)", false, "00 01 01 01 00 'a' 00 02 01 01 00 'b' 01 01 00 'c'");
    expect_wire("(a OR b) NOT c", false, "00 02 00 01 01 01 00 'a' 01 01 00 'b' 01 01 00 'c'");
    expect_wire("(a OR b) c", false, "00 00 00 01 01 01 00 'a' 01 01 00 'b' 01 01 00 'c'");
    expect_string("(a OR b) c", "(a OR b) c");
    expect_wire("((a))", false, "01 01 00 'a'");
    expect_string("(a OR b) NOT (c d)", "(a OR b) NOT (c d)");
    expect_wire("a OR (b OR c)", false, "00 01 01 01 00 'a' 00 01 01 01 00 'b' 01 01 00 'c'");
    expect_string("a OR (b OR c)", "a OR (b OR c)");
}
END_TEST

START_TEST(test_folding)
{
    expect_wire("fake AND share", false, "01 0a 00 'fake share'");
    expect_wire("  fake    share  ", false, "01 0a 00 'fake share'");
    expect_wire("(a b) AND (c d)", false, "01 07 00 'a b c d'");
    /* a phrase keeps its quotes on the wire, as eMule sends it */
    expect_wire("\"fake share\"", false, "01 0c 00 22 'fake share' 22");
    expect_string("\"fake share\"", "\"fake share\"");
    expect_wire("a \"b c\" d", false, "01 09 00 'a ' 22 'b c' 22 ' d'");
    expect_wire("x\"y z\"", false, "01 07 00 'x ' 22 'y z' 22");
    expect_wire("\"a  (b)\"", false, "01 08 00 22 'a  (b)' 22");
    expect_string("\"a  (b)\"", "\"a  (b)\"");
    /* words around a non-string operand are not folded across it */
    expect_wire("a (b OR c) d", false,
                "00 00 00 00 01 01 00 'a' 00 01 01 01 00 'b' 01 01 00 'c' 01 01 00 'd'");
    expect_string("a (b OR c) d", "a (b OR c) d");
    /* AND is associative: strings at the touching ends of two AND chains
     * join, so the readable form folds the same way when parsed again */
    expect_wire("(x (b OR c) a) AND (d (e OR f))", false,
                "00 00 00 00 00 00 01 01 00 'x' 00 01 01 01 00 'b' 01 01 00 'c' "
                "01 03 00 'a d' 00 01 01 01 00 'e' 01 01 00 'f'");
    expect_wire("x (b OR c) a d (e OR f)", false,
                "00 00 00 00 00 00 01 01 00 'x' 00 01 01 01 00 'b' 01 01 00 'c' "
                "01 03 00 'a d' 00 01 01 01 00 'e' 01 01 00 'f'");
    expect_wire("(b OR c) AND a AND (d e)", false,
                "00 00 00 01 01 01 00 'b' 01 01 00 'c' 01 05 00 'a d e'");
    expect_wire("a AND (b (c OR d))", false,
                "00 00 01 03 00 'a b' 00 01 01 01 00 'c' 01 01 00 'd'");
    /* non-ASCII words */
    expect_wire("caf\xc3\xa9 \xe6\x97\xa5", false, "01 09 00 'caf' c3 a9 20 e6 97 a5");
    /* words with a colon after a digit are words, e.g. aMule's ed2k::<hash> */
    expect_wire("12:30", false, "01 05 00 '12:30'");
    expect_wire("ed2k::0123", false, "01 0a 00 'ed2k::0123'");
    /* forty words fold into one term, far below the operator limit */
    char many[256] = "";
    for (int i = 0; i < 40; i++)
        strcat(many, "w ");
    char want[256] = "014f00";
    for (int i = 0; i < 39; i++)
        strcat(want, "7720");
    strcat(want, "77");
    char *h = encode_hex(many, false);
    ck_assert_str_eq(h, want);
    free(h);
}
END_TEST

START_TEST(test_filters)
{
    /* one filter: AND <string> <term> */
    expect_wire("fake type:video", false,
                "00 00 01 04 00 'fake' 02 05 00 'Video' 01 00 03");
    /* filters anywhere, any case */
    expect_wire("TYPE:Video fake", false,
                "00 00 01 04 00 'fake' 02 05 00 'Video' 01 00 03");
    /* every filter on a lone string: aMule's right-nested chain, in the order
     * type, min, max, availability, extension */
    const char *chain = "00 00 01 01 00 'x' "
                        "00 00 02 05 00 'Audio' 01 00 03 "
                        "00 00 03 00 00 10 00 01 01 00 02 "
                        "00 00 03 00 00 20 00 02 01 00 02 "
                        "00 00 03 03 00 00 00 01 01 00 15 "
                        "02 03 00 'mp3' 01 00 04";
    expect_wire("x type:audio min:1M max:2M avail:3 ext:.mp3", false, chain);
    expect_wire("ext:mp3 avail:3 max:2M min:1M type:audio x", false, chain);
    expect_wire("x type:audio minsize:1M maxsize:2M sources:3 ext:mp3", false, chain);
    expect_string("x type:audio min:1M max:2M avail:3 ext:.mp3",
                  "x type=Audio size>1048576 size<2097152 sources>3 ext=mp3");
    /* with operators: every AND first, then the expression, then the terms */
    expect_wire("(a OR b) type:video min:1G", false,
                "00 00 00 00 00 01 01 01 00 'a' 01 01 00 'b' "
                "02 05 00 'Video' 01 00 03 03 00 00 00 40 01 01 00 02");
    expect_string("alpha OR beta NOT gamma type:video min:1M",
                  "(alpha OR (beta NOT gamma)) type=Video size>1048576");
    expect_string("a b ext:avi", "a b ext=avi");
    /* file types: the strings aMule sends (FileTags.h ED2KFTSTR_*); archives
     * and CD images go out as "Pro" */
    static const struct {
        const char *expr, *wire, *name;
    } types[] = {
        { "x type:video", "Video", "Video" },     { "x type:audio", "Audio", "Audio" },
        { "x type:image", "Image", "Image" },     { "x type:program", "Pro", "Pro" },
        { "x type:document", "Doc", "Doc" },      { "x type:archive", "Pro", "Arc" },
        { "x type:cd-image", "Pro", "Iso" },      { "x type:CD-Image", "Pro", "Iso" },
        { "x type:Pro", "Pro", "Pro" },           { "x type:doc", "Doc", "Doc" },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char spec[128];
        snprintf(spec, sizeof spec, "00 00 01 01 00 'x' 02 %02zx 00 '%s' 01 00 03",
                 strlen(types[i].wire), types[i].wire);
        expect_wire(types[i].expr, false, spec);
        ed2k_search_t *s = parse_ok(types[i].expr);
        ck_assert_str_eq(ed2k_search_filetype(s), types[i].name);
        ed2k_search_free(s);
    }
    ed2k_search_t *s = parse_ok("x");
    ck_assert_ptr_null(ed2k_search_filetype(s));
    ed2k_search_free(s);
    /* zero minimum and availability mean no term, as in aMule */
    expect_wire("x min:0 avail:0", false, "01 01 00 'x'");
}
END_TEST

START_TEST(test_sizes)
{
    static const struct {
        const char *expr;
        const char *value; /* u32 little-endian */
    } sizes[] = {
        { "x min:700", "bc 02 00 00" },       { "x min:1k", "00 04 00 00" },
        { "x min:1K", "00 04 00 00" },        { "x min:1KB", "00 04 00 00" },
        { "x min:1KiB", "00 04 00 00" },      { "x min:10MB", "00 00 a0 00" },
        { "x min:1.5G", "00 00 00 60" },      { "x min:0.5k", "00 02 00 00" },
        { "x min:.25M", "00 00 04 00" },      { "x min:1g", "00 00 00 40" },
        { "x min:3GiB", "00 00 00 c0" },      { "x min:4294967295", "ff ff ff ff" },
        { "x min:100b", "64 00 00 00" },      { "x min:1.0000001K", "00 04 00 00" },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char spec[128];
        snprintf(spec, sizeof spec, "00 00 01 01 00 'x' 03 %s 01 01 00 02", sizes[i].value);
        expect_wire(sizes[i].expr, false, spec);
        expect_wire(sizes[i].expr, true, spec);
    }
    expect_string("x min:2T", "x size>2199023255552");
}
END_TEST

START_TEST(test_large_sizes)
{
    /* 64-bit terms only with large files and only for values above 4 GiB */
    expect_wire("x min:5G", true, "00 00 01 01 00 'x' 08 00 00 00 40 01 00 00 00 01 01 00 02");
    expect_wire("x max:4G", true, "00 00 01 01 00 'x' 08 00 00 00 00 01 00 00 00 02 01 00 02");
    expect_wire("x max:4294967295", true, "00 00 01 01 00 'x' 03 ff ff ff ff 02 01 00 02");
    /* without: a maximum is clamped (aMule does the same) */
    expect_wire("x max:5G", false, "00 00 01 01 00 'x' 03 ff ff ff ff 02 01 00 02");
    expect_wire("x min:1G max:5G", false,
                "00 00 01 01 00 'x' 00 00 03 00 00 00 40 01 01 00 02 "
                "03 ff ff ff ff 02 01 00 02");
    expect_string("x max:5G", "x size<5368709120");
    /* a minimum above 4 GiB cannot be sent to such a server */
    ed2k_search_t *s = parse_ok("x min:5G");
    struct evbuffer *b = evbuffer_new();
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_search_encode(s, b, false, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err->message, "5368709120"));
    ck_assert_ptr_nonnull(strstr(err->message, "large-file"));
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    mt_error_free(err);
    /* encode appends */
    evbuffer_add(b, "\xe3", 1);
    ck_assert_int_eq(ed2k_search_encode(s, b, true, NULL), 0);
    ck_assert_uint_eq(evbuffer_get_length(b), 1 + 2 + 4 + 1 + 8 + 1 + 3);
    ck_assert_uint_eq(evbuffer_pullup(b, -1)[0], 0xe3);
    evbuffer_free(b);
    ed2k_search_free(s);
}
END_TEST

START_TEST(test_errors)
{
    expect_error("", MT_ERR_INVALID, "empty search expression");
    expect_error(NULL, MT_ERR_INVALID, "empty search expression");
    expect_error("    ", MT_ERR_INVALID, "empty search expression");
    expect_error("a\tb", MT_ERR_INVALID, "control character U+0009 at position 2");
    expect_error("type:video", MT_ERR_INVALID, "only filters");
    /* parentheses */
    expect_error("(a", MT_ERR_INVALID, "'(' at position 1 is never closed");
    expect_error("(a OR (b)", MT_ERR_INVALID, "'(' at position 1 is never closed");
    expect_error("a)", MT_ERR_INVALID, "')' at position 2 has no matching '('");
    expect_error("(a))", MT_ERR_INVALID, "')' at position 4 has no matching '('");
    expect_error(")a", MT_ERR_INVALID, "')' at position 1 has no matching '('");
    expect_error("a ()", MT_ERR_INVALID, "empty parentheses at position 3");
    expect_error("(", MT_ERR_INVALID, "'(' at position 1 is never closed");
    /* quotes */
    expect_error("a \"bc", MT_ERR_INVALID, "unterminated quote: '\"' at position 3");
    expect_error("a \"\"", MT_ERR_INVALID, "empty quoted phrase '\"\"' at position 3");
    expect_error("\"  \"", MT_ERR_INVALID, "empty quoted phrase");
    /* operators without operands */
    expect_error("a OR", MT_ERR_INVALID, "'OR' at position 3 has no right operand");
    expect_error("a AND", MT_ERR_INVALID, "'AND' at position 3 has no right operand");
    expect_error("a NOT", MT_ERR_INVALID, "'NOT' at position 3 has no right operand");
    expect_error("a AND OR b", MT_ERR_INVALID, "'AND' at position 3 has no right operand");
    expect_error("(a OR) b", MT_ERR_INVALID, "'OR' at position 4 has no right operand");
    expect_error("OR a", MT_ERR_INVALID, "'OR' at position 1 has no left operand");
    expect_error("AND a", MT_ERR_INVALID, "'AND' at position 1 has no left operand");
    expect_error("NOT a", MT_ERR_INVALID, "'NOT' at position 1 has no left operand (NOT is binary");
    expect_error("a OR NOT b", MT_ERR_INVALID, "'OR' at position 3 has no right operand");
    expect_error("(NOT a)", MT_ERR_INVALID, "'NOT' at position 2 has no left operand");
    /* positions count characters, not bytes */
    expect_error("\xc3\xa9\xc3\xa9 OR", MT_ERR_INVALID, "'OR' at position 4");
    /* filters */
    expect_error("a foo:bar", MT_ERR_INVALID, "unknown filter 'foo:' in 'foo:bar' at position 3");
    expect_error("http://x", MT_ERR_INVALID, "unknown filter 'http:'");
    expect_error("a type:movie", MT_ERR_INVALID, "bad file type 'type:movie' at position 3");
    expect_error("a type:", MT_ERR_INVALID, "filter without a value 'type:' at position 3");
    expect_error("a ext:.", MT_ERR_INVALID, "bad extension 'ext:.' at position 3");
    expect_error("a min:abc", MT_ERR_INVALID, "bad size");
    expect_error("a min:abc", MT_ERR_INVALID, "'min:abc' at position 3");
    expect_error("a min:1.5", MT_ERR_INVALID, "bad size");
    expect_error("a min:1X", MT_ERR_INVALID, "bad size");
    expect_error("a min:1.5.5G", MT_ERR_INVALID, "bad size");
    expect_error("a min:-1", MT_ERR_INVALID, "bad size");
    expect_error("a min:.", MT_ERR_INVALID, "bad size");
    expect_error("a max:99999999999999999999", MT_ERR_INVALID, "bad size");
    expect_error("a max:99999999T", MT_ERR_INVALID, "bad size");
    expect_error("a max:0", MT_ERR_INVALID, "max:0 matches nothing");
    expect_error("a avail:x", MT_ERR_INVALID, "bad number of sources 'avail:x'");
    expect_error("a avail:4294967296", MT_ERR_INVALID, "bad number of sources");
    expect_error("a min:1 minsize:2", MT_ERR_INVALID,
                 "filter 'minsize:2' at position 9 repeats 'min:1' at position 3");
    expect_error("a min:2G max:1G", MT_ERR_INVALID,
                 "'min:2G' at position 3 (2147483648 bytes) is not below 'max:1G' at position 10");
    expect_error("a min:1G max:1024M", MT_ERR_INVALID, "is not below");
    /* limits */
    expect_error("a OR b OR c OR d OR e OR f OR g OR h OR i OR j OR k OR l", MT_ERR_TOO_LARGE,
                 "too complex: 11 AND/OR/NOT");
    ed2k_search_free(parse_ok("a OR b OR c OR d OR e OR f OR g OR h OR i OR j OR k"));
    expect_error("a NOT b NOT c NOT d NOT e NOT f NOT g NOT h NOT i NOT j NOT k NOT l",
                 MT_ERR_TOO_LARGE, "the limit is 10");
    char longexpr[600];
    memset(longexpr, 'a', 513);
    longexpr[513] = '\0';
    expect_error(longexpr, MT_ERR_TOO_LARGE, "513 bytes long; the limit is 512");
    longexpr[512] = '\0';
    ed2k_search_free(parse_ok(longexpr));
    char deep[80] = "";
    for (int i = 0; i < 33; i++)
        strcat(deep, "(");
    strcat(deep, "a");
    for (int i = 0; i < 33; i++)
        strcat(deep, ")");
    expect_error(deep, MT_ERR_TOO_LARGE, "nested deeper than 32");
    /* text */
    expect_error("a \xff", MT_ERR_INVALID, "not valid UTF-8 (byte 0xff at position 3)");
    expect_error("\xc3\x28", MT_ERR_INVALID, "not valid UTF-8");
    expect_error("\xed\xa0\x80", MT_ERR_INVALID, "not valid UTF-8"); /* a surrogate */
    expect_error("\xc0\xaf", MT_ERR_INVALID, "not valid UTF-8");     /* overlong '/' */
    expect_error("a\x01" "b", MT_ERR_INVALID, "control character U+0001 at position 2");
    expect_error("a\r\nb", MT_ERR_INVALID, "control character U+000D at position 2");
    expect_error("a\x7f", MT_ERR_INVALID, "control character U+007F");
    expect_error("a\xc2\x85", MT_ERR_INVALID, "control character U+0085 at position 2");
    expect_error("\"a\nb\"", MT_ERR_INVALID, "control character U+000A");
}
END_TEST

START_TEST(test_deep_parens_ok)
{
    /* 32 levels of parentheses are fine */
    char deep[80] = "";
    for (int i = 0; i < 32; i++)
        strcat(deep, "(");
    strcat(deep, "a");
    for (int i = 0; i < 32; i++)
        strcat(deep, ")");
    expect_wire(deep, false, "01 01 00 'a'");
}
END_TEST

START_TEST(test_roundtrip)
{
    static const char *const exprs[] = {
        "fake share",
        "alpha OR beta NOT gamma",
        "a",
        "\"quoted phrase\" x",
        "a OR \"b c\"",
        "(a b) NOT c",
        "(a OR b) (c OR d)",
        "a (b NOT c) d",
        "((a OR b) NOT c) OR (d e NOT f)",
        "caf\xc3\xa9 OR na\xc3\xafve",
        "x (y OR z) type:audio min:1M max:5G avail:2 ext:ogg",
        "x type:video",
        "a OR b ext:mkv",
        "a\"b\" OR c",
        "a and b OR c",
        "12:30 OR ed2k::abc",
        "it's OR x\\y",
        "\"a OR b\" OR \"(c)\"",
    };
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++)
        roundtrip(exprs[i]);
}
END_TEST

START_TEST(test_dump)
{
    mt_error_t *err = NULL;
    char *t;
    /* every node type */
    t = dump_of("00 00 02 03 00 'foo' 06 00 'Artist' 00 01 03 05 00 00 00 03 01 00 d4 "
                "00 02 03 07 00 00 00 04 01 00 30 08 00 00 00 00 01 00 00 00 05 01 00 99",
                &err);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t, "'Artist'=foo (bitrate>=5 OR (complete<=7 NOT 0x99<>4294967296))");
    free(t);
    /* all comparison operators */
    t = dump_of("00 00 00 00 03 01 00 00 00 00 01 00 02 03 02 00 00 00 01 01 00 02 "
                "00 00 03 03 00 00 00 02 01 00 15 03 04 00 00 00 04 01 00 d3",
                NULL);
    ck_assert_str_eq(t, "size=1 size>2 sources<3 length<=4");
    free(t);
    /* strings that do not read back as words are quoted and escaped */
    t = dump_of("00 01 01 04 00 'a' 01 'b' 27 01 03 00 'a' 28 'b'", NULL);
    ck_assert_str_eq(t, "'a\\x01b\\'' OR 'a(b'");
    free(t);
    t = dump_of("00 01 00 01 01 02 00 ff 5c 01 03 00 'AND' 01 02 00 20 'x'", NULL);
    ck_assert_str_eq(t, "('\\xff\\\\' OR 'AND') OR ' x'");
    free(t);
    t = dump_of("01 00 00", NULL);
    ck_assert_str_eq(t, "''");
    free(t);
    t = dump_of("02 04 00 'a b' 22 01 00 04", NULL);
    ck_assert_str_eq(t, "ext='a b\"'");
    free(t);

    /* errors */
    ck_assert_ptr_null(dump_of("", &err));
    ck_assert_ptr_nonnull(strstr(err->message, "cut short at byte 0"));
    mt_error_clear(&err);
    ck_assert_ptr_null(dump_of("01 01 00 'a' 00", &err));
    ck_assert_ptr_nonnull(strstr(err->message, "1 bytes after the tree"));
    mt_error_clear(&err);
    ck_assert_ptr_null(dump_of("04 00", &err));
    ck_assert_ptr_nonnull(strstr(err->message, "unknown node type 0x04 at byte 0"));
    mt_error_clear(&err);
    ck_assert_ptr_null(dump_of("00 03 01 01 00 'a' 01 01 00 'b'", &err));
    ck_assert_ptr_nonnull(strstr(err->message, "unknown operator 0x03"));
    mt_error_clear(&err);
    ck_assert_ptr_null(dump_of("03 01 00 00 00 06 01 00 02", &err));
    ck_assert_ptr_nonnull(strstr(err->message, "unknown comparison 0x06"));
    mt_error_clear(&err);
    ck_assert_ptr_null(dump_of("02 01 00 'a' 00 00", &err));
    ck_assert_ptr_nonnull(strstr(err->message, "empty tag name"));
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    mt_error_clear(&err);
    ck_assert_ptr_null(dump_of("01 ff ff 'abc'", &err));
    ck_assert_ptr_nonnull(strstr(err->message, "cut short"));
    mt_error_clear(&err);

    /* every proper prefix of a valid tree is an error */
    uint8_t full[256];
    size_t fl = bytes_of("00 00 00 01 01 01 00 'a' 00 02 01 01 00 'b' 01 01 00 'c' "
                         "00 00 02 05 00 'Video' 01 00 03 00 00 08 00 00 00 40 01 00 00 00 01 "
                         "01 00 02 03 05 00 00 00 02 06 00 'length'",
                         full);
    char *ok = NULL;
    ck_assert_int_eq(ed2k_search_tree_dump(full, fl, &ok, NULL), 0);
    ck_assert_str_eq(ok, "(a OR (b NOT c)) type=Video size>5368709120 'length'<5");
    free(ok);
    for (size_t n = 0; n < fl; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, full, n);
        char *x = (char *)1;
        ck_assert_msg(ed2k_search_tree_dump(cut, n, &x, NULL) == -1, "prefix %zu accepted", n);
        ck_assert_ptr_null(x);
        free(cut);
    }

    /* depth: 64 nodes deep is fine, 65 is not */
    uint8_t deep[512];
    size_t dl = 0;
    for (int i = 0; i < 63; i++) {
        deep[dl++] = 0x00;
        deep[dl++] = 0x02;
    }
    for (int i = 0; i < 64; i++) {
        deep[dl++] = 0x01;
        deep[dl++] = 0x01;
        deep[dl++] = 0x00;
        deep[dl++] = 'a';
    }
    ck_assert_int_eq(ed2k_search_tree_dump(deep, dl, &ok, NULL), 0);
    free(ok);
    uint8_t deeper[520] = { 0x00, 0x02 };
    memcpy(deeper + 2, deep, dl);
    memcpy(deeper + 2 + dl, "\x01\x01\x00" "a", 4);
    ck_assert_int_eq(ed2k_search_tree_dump(deeper, dl + 6, &ok, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "nested deeper than 64"));
    mt_error_clear(&err);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Results */

static void
fill_hash(uint8_t h[16], uint8_t seed)
{
    for (int i = 0; i < 16; i++)
        h[i] = (uint8_t)(seed + i);
}

/* packet: <count> entries [more] into a new evbuffer. */
static struct evbuffer *
packet_of(const ed2k_search_result_t *rs, size_t n, bool compact, int more)
{
    struct evbuffer *b = evbuffer_new();
    uint8_t cnt[4] = { (uint8_t)n, 0, 0, 0 };
    evbuffer_add(b, cnt, 4);
    for (size_t i = 0; i < n; i++)
        ed2k_searchresult_entry_encode(b, &rs[i], compact);
    if (more >= 0) {
        uint8_t m = (uint8_t)more;
        evbuffer_add(b, &m, 1);
    }
    return b;
}

static int
decode_buf(struct evbuffer *b, ed2k_search_result_t **rs, size_t *n, bool *more, mt_error_t **err)
{
    size_t len = evbuffer_get_length(b);
    uint8_t *exact = malloc(len ? len : 1);
    evbuffer_copyout(b, exact, len);
    int rc = ed2k_searchresult_decode(exact, len, rs, n, more, err);
    free(exact);
    return rc;
}

START_TEST(test_results_roundtrip)
{
    ed2k_search_result_t in[2];
    memset(in, 0, sizeof in);
    fill_hash(in[0].hash, 1);
    in[0].client_id = 0x0100007f;
    in[0].port = 4662;
    in[0].name = "Some Film (2001).mkv";
    in[0].size = 5000000000ULL; /* FT_FILESIZE_HI */
    in[0].sources = 70000;
    in[0].complete_sources = 3;
    in[0].type = "Video";
    in[0].format = "mkv";
    in[0].artist = "Arti\xc3\xa9st";
    in[0].album = "Album";
    in[0].title = "Title";
    in[0].codec = "h264";
    in[0].length = 7260;
    in[0].bitrate = 1200;
    fill_hash(in[1].hash, 100);
    in[1].name = "z_9728001.bin";
    in[1].size = 9728001;
    in[1].sources = 1;
    for (int compact = 0; compact <= 1; compact++) {
        struct evbuffer *b = packet_of(in, 2, compact, 1);
        ed2k_search_result_t *rs;
        size_t n;
        bool more = false;
        mt_error_t *err = NULL;
        ck_assert_msg(decode_buf(b, &rs, &n, &more, &err) == 0, "%s", err ? err->message : "");
        ck_assert_uint_eq(n, 2);
        ck_assert(more);
        ck_assert_mem_eq(rs[0].hash, in[0].hash, 16);
        ck_assert_uint_eq(rs[0].client_id, 0x0100007f);
        ck_assert_uint_eq(rs[0].port, 4662);
        ck_assert_str_eq(rs[0].name, in[0].name);
        ck_assert_uint_eq(rs[0].size, 5000000000ULL);
        ck_assert_uint_eq(rs[0].sources, 70000);
        ck_assert_uint_eq(rs[0].complete_sources, 3);
        ck_assert_str_eq(rs[0].type, "Video");
        ck_assert_str_eq(rs[0].format, "mkv");
        ck_assert_str_eq(rs[0].artist, in[0].artist);
        ck_assert_str_eq(rs[0].album, "Album");
        ck_assert_str_eq(rs[0].title, "Title");
        ck_assert_str_eq(rs[0].codec, "h264");
        ck_assert_uint_eq(rs[0].length, 7260);
        ck_assert_uint_eq(rs[0].bitrate, 1200);
        ck_assert_mem_eq(rs[1].hash, in[1].hash, 16);
        ck_assert_uint_eq(rs[1].client_id, 0);
        ck_assert_str_eq(rs[1].name, "z_9728001.bin");
        ck_assert_uint_eq(rs[1].size, 9728001);
        ck_assert_ptr_null(rs[1].type);
        ck_assert_ptr_null(rs[1].format);
        ck_assert_ptr_null(rs[1].artist);
        ck_assert_uint_eq(rs[1].length, 0);
        ed2k_search_results_free(rs, n);
        evbuffer_free(b);
    }
}
END_TEST

START_TEST(test_results_compact_live_form)
{
    /* An entry written the way §3.4 shows aMule's compact tags: STR13 name,
     * UINT32 size, UINT8 integer type 4 = program. */
    uint8_t p[128];
    size_t n = bytes_of("01 00 00 00 06329e9dba1373512c06386fe29e3c65 00 00 00 00 00 00 "
                        "04 00 00 00 9d 01 'z_9728001.bin' 83 02 01 70 94 00 89 03 04 "
                        "89 15 07",
                        p);
    ed2k_search_result_t *rs;
    size_t cnt;
    bool more = true;
    ck_assert_int_eq(ed2k_searchresult_decode(p, n, &rs, &cnt, &more, NULL), 0);
    ck_assert_uint_eq(cnt, 1);
    ck_assert(!more);
    ck_assert_uint_eq(rs[0].hash[0], 0x06);
    ck_assert_str_eq(rs[0].name, "z_9728001.bin");
    ck_assert_uint_eq(rs[0].size, 9728001);
    ck_assert_str_eq(rs[0].type, "Pro");
    ck_assert_uint_eq(rs[0].sources, 7);
    ed2k_search_results_free(rs, cnt);
}
END_TEST

/* one_entry: decodes a single entry built from tags. */
static ed2k_search_result_t *
one_entry(ed2k_taglist_t *tags, uint32_t id, uint16_t port, size_t *n)
{
    struct evbuffer *b = evbuffer_new();
    uint8_t head[4 + 16 + 6] = { 1, 0, 0, 0 };
    for (int i = 0; i < 4; i++)
        head[20 + i] = (uint8_t)(id >> (8 * i));
    head[24] = (uint8_t)port;
    head[25] = (uint8_t)(port >> 8);
    evbuffer_add(b, head, sizeof head);
    ck_assert_int_eq(ed2k_taglist_write(b, tags, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, NULL), 0);
    ed2k_taglist_free(tags);
    ed2k_search_result_t *rs = NULL;
    mt_error_t *err = NULL;
    ck_assert_msg(decode_buf(b, &rs, n, NULL, &err) == 0, "%s", err ? err->message : "");
    evbuffer_free(b);
    return rs;
}

static ed2k_taglist_t *
base_tags(const char *name, uint64_t size)
{
    ed2k_taglist_t *t = ed2k_taglist_new();
    if (name != NULL)
        ed2k_taglist_add_str(t, ED2K_FT_FILENAME, name, strlen(name));
    ed2k_taglist_add_uint(t, ED2K_FT_FILESIZE, 0, size);
    return t;
}

START_TEST(test_results_tags)
{
    size_t n;
    ed2k_search_result_t *rs;
    /* integer file types map to aMule's names */
    static const char *const names[] = {
        NULL, "Audio", "Video", "Image", "Pro", "Doc", "Arc", "Iso", NULL,
    };
    for (unsigned v = 0; v < 9; v++) {
        ed2k_taglist_t *t = base_tags("f", 10);
        ed2k_taglist_add_uint(t, ED2K_FT_FILETYPE, ED2K_TAG_UINT32, v);
        rs = one_entry(t, 0, 0, &n);
        ck_assert_uint_eq(n, 1);
        if (names[v] == NULL)
            ck_assert_ptr_null(rs[0].type);
        else
            ck_assert_str_eq(rs[0].type, names[v]);
        ed2k_search_results_free(rs, n);
    }
    /* a string file type is kept (sanitised) */
    ed2k_taglist_t *t = base_tags("f", 10);
    ed2k_taglist_add_str(t, ED2K_FT_FILETYPE, "Au\x01" "dio ", 7);
    ed2k_taglist_add_str(t, ED2K_FT_FILEFORMAT, "", 0);
    rs = one_entry(t, 0, 0, &n);
    ck_assert_str_eq(rs[0].type, "Audio");
    ck_assert_ptr_null(rs[0].format);
    ed2k_search_results_free(rs, n);

    /* FT_FILESIZE_HI; a 64-bit FT_FILESIZE alone; unknown tags skipped */
    t = ed2k_taglist_new();
    ed2k_taglist_add_uint(t, 0x77, ED2K_TAG_UINT32, 1);
    ed2k_taglist_add_named_str(t, "weird", "x", 1);
    ed2k_taglist_add_str(t, ED2K_FT_FILENAME, "big", 3);
    ed2k_taglist_add_uint(t, ED2K_FT_FILESIZE, ED2K_TAG_UINT32, 0x10);
    ed2k_taglist_add_uint(t, ED2K_FT_FILESIZE_HI, ED2K_TAG_UINT32, 2);
    ed2k_taglist_add_float(t, 0x78, 1.5f);
    rs = one_entry(t, 0, 0, &n);
    ck_assert_uint_eq(rs[0].size, 0x200000010ULL);
    ed2k_search_results_free(rs, n);
    t = ed2k_taglist_new();
    ed2k_taglist_add_str(t, ED2K_FT_FILENAME, "big", 3);
    ed2k_taglist_add_uint(t, ED2K_FT_FILESIZE, ED2K_TAG_UINT64, 0x123456789ULL);
    rs = one_entry(t, 0, 0, &n);
    ck_assert_uint_eq(rs[0].size, 0x123456789ULL);
    ed2k_search_results_free(rs, n);

    /* eDonkeyHybrid's string-named media tags */
    t = base_tags("song.mp3", 1000);
    ed2k_taglist_add_named_str(t, "Artist", "Someone", 7);
    ed2k_taglist_add_named_str(t, "Album", "Record", 6);
    ed2k_taglist_add_named_str(t, "Title", "Song", 4);
    ed2k_taglist_add_named_str(t, "length", "1:02:05", 7);
    ed2k_taglist_add_named_uint(t, "bitrate", ED2K_TAG_UINT32, 192);
    ed2k_taglist_add_named_str(t, "codec", "mp3", 3);
    rs = one_entry(t, 0, 0, &n);
    ck_assert_str_eq(rs[0].artist, "Someone");
    ck_assert_str_eq(rs[0].album, "Record");
    ck_assert_str_eq(rs[0].title, "Song");
    ck_assert_str_eq(rs[0].codec, "mp3");
    ck_assert_uint_eq(rs[0].length, 3725);
    ck_assert_uint_eq(rs[0].bitrate, 192);
    ed2k_search_results_free(rs, n);
    t = base_tags("song.mp3", 1000);
    ed2k_taglist_add_named_str(t, "length", "3:25", 4);
    ed2k_taglist_add_str(t, ED2K_FT_MEDIA_ARTIST, "ById", 4);
    ed2k_taglist_add_named_str(t, "Artist", "ByName", 6);
    rs = one_entry(t, 0, 0, &n);
    ck_assert_uint_eq(rs[0].length, 205);
    ck_assert_str_eq(rs[0].artist, "ById");
    ed2k_search_results_free(rs, n);
    t = base_tags("song.mp3", 1000);
    ed2k_taglist_add_named_str(t, "length", "3:x", 3);
    rs = one_entry(t, 0, 0, &n);
    ck_assert_uint_eq(rs[0].length, 0);
    ed2k_search_results_free(rs, n);

    /* a source needs both an id and a port (aMule SearchFile.cpp) */
    rs = one_entry(base_tags("f", 1), 0x0100007f, 0, &n);
    ck_assert_uint_eq(rs[0].client_id, 0);
    ck_assert_uint_eq(rs[0].port, 0);
    ed2k_search_results_free(rs, n);
    rs = one_entry(base_tags("f", 1), 0x0100007f, 4662, &n);
    ck_assert_uint_eq(rs[0].client_id, 0x0100007f);
    ck_assert_uint_eq(rs[0].port, 4662);
    ed2k_search_results_free(rs, n);

    /* dropped, not failed: no name, an empty name, size 0, no size */
    rs = one_entry(base_tags(NULL, 10), 0, 0, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(rs);
    rs = one_entry(base_tags("", 10), 0, 0, &n);
    ck_assert_uint_eq(n, 0);
    rs = one_entry(base_tags("f", 0), 0, 0, &n);
    ck_assert_uint_eq(n, 0);
    t = ed2k_taglist_new();
    ed2k_taglist_add_str(t, ED2K_FT_FILENAME, "f", 1);
    rs = one_entry(t, 0, 0, &n);
    ck_assert_uint_eq(n, 0);
    t = ed2k_taglist_new();
    ed2k_taglist_add_uint(t, ED2K_FT_FILENAME, 0, 5);
    ed2k_taglist_add_uint(t, ED2K_FT_FILESIZE, 0, 5);
    rs = one_entry(t, 0, 0, &n);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_results_mixed_and_more)
{
    ed2k_search_result_t in[3];
    memset(in, 0, sizeof in);
    fill_hash(in[0].hash, 1);
    in[0].name = "one";
    in[0].size = 1;
    fill_hash(in[1].hash, 2);
    in[1].name = NULL; /* dropped */
    in[1].size = 2;
    fill_hash(in[2].hash, 3);
    in[2].name = "three";
    in[2].size = 3;
    ed2k_search_result_t *rs;
    size_t n;
    bool more;
    /* the more byte: 1 = more, 0 = no more, absent = no more, anything else
     * and longer tails are ignored */
    static const struct {
        int byte;
        bool more;
    } cases[] = { { 1, true }, { 0, false }, { -1, false }, { 2, false } };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct evbuffer *b = packet_of(in, 3, c % 2, cases[c].byte);
        more = !cases[c].more;
        ck_assert_int_eq(decode_buf(b, &rs, &n, &more, NULL), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(rs[0].name, "one");
        ck_assert_str_eq(rs[1].name, "three");
        ck_assert_uint_eq(rs[1].hash[0], 3);
        ck_assert(more == cases[c].more);
        ed2k_search_results_free(rs, n);
        evbuffer_free(b);
    }
    struct evbuffer *b = packet_of(in, 3, false, 1);
    evbuffer_add(b, "\x01", 1);
    ck_assert_int_eq(decode_buf(b, &rs, &n, &more, NULL), 0);
    ck_assert(!more);
    ck_assert_uint_eq(n, 2);
    ed2k_search_results_free(rs, n);
    evbuffer_free(b);
    /* more may be NULL */
    b = packet_of(in, 3, false, 1);
    ck_assert_int_eq(decode_buf(b, &rs, &n, NULL, NULL), 0);
    ed2k_search_results_free(rs, n);
    evbuffer_free(b);
    /* no results */
    uint8_t zero[5] = { 0, 0, 0, 0, 1 };
    ck_assert_int_eq(ed2k_searchresult_decode(zero, 5, &rs, &n, &more, NULL), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(rs);
    ck_assert(more);
    ed2k_search_results_free(NULL, 0);
}
END_TEST

START_TEST(test_results_truncated)
{
    ed2k_search_result_t in[2];
    memset(in, 0, sizeof in);
    fill_hash(in[0].hash, 1);
    in[0].name = "first.avi";
    in[0].size = 123456;
    in[0].type = "Video";
    fill_hash(in[1].hash, 2);
    in[1].name = "second.avi";
    in[1].size = 654321;
    for (int compact = 0; compact <= 1; compact++) {
        struct evbuffer *b = packet_of(in, 2, compact, -1);
        size_t len = evbuffer_get_length(b);
        uint8_t *full = malloc(len);
        evbuffer_copyout(b, full, len);
        evbuffer_free(b);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *p = malloc(cut ? cut : 1);
            memcpy(p, full, cut);
            ed2k_search_result_t *rs = (ed2k_search_result_t *)1;
            size_t n = 99;
            mt_error_t *err = NULL;
            ck_assert_msg(ed2k_searchresult_decode(p, cut, &rs, &n, NULL, &err) == -1,
                          "cut at %zu accepted", cut);
            ck_assert_ptr_null(rs);
            ck_assert_uint_eq(n, 0);
            ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
            ck_assert_ptr_nonnull(strstr(err->message, "OP_SEARCHRESULT"));
            mt_error_free(err);
            free(p);
        }
        free(full);
    }
    /* a count that cannot fit */
    uint8_t big[30] = { 2, 0, 0, 0 };
    mt_error_t *err = NULL;
    ed2k_search_result_t *rs;
    size_t n;
    ck_assert_int_eq(ed2k_searchresult_decode(big, sizeof big, &rs, &n, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "2 results cannot fit in 30 bytes"));
    mt_error_clear(&err);
    uint8_t huge[8] = { 0xff, 0xff, 0xff, 0xff };
    ck_assert_int_eq(ed2k_searchresult_decode(huge, sizeof huge, &rs, &n, NULL, NULL), -1);
    /* an unknown tag type loses the rest of the packet */
    uint8_t bad[64];
    size_t bl = bytes_of("01 00 00 00 000102030405060708090a0b0c0d0e0f 00 00 00 00 00 00 "
                         "01 00 00 00 42 01 00 01",
                         bad);
    ck_assert_int_eq(ed2k_searchresult_decode(bad, bl, &rs, &n, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "result 1 of 1"));
    ck_assert_ptr_nonnull(strstr(err->message, "unknown tag type"));
    mt_error_clear(&err);
}
END_TEST

START_TEST(test_globsearchres)
{
    ed2k_search_result_t in[3];
    memset(in, 0, sizeof in);
    for (int i = 0; i < 3; i++) {
        fill_hash(in[i].hash, (uint8_t)(10 * i));
        in[i].size = 1000u + (uint64_t)i;
        in[i].sources = (uint32_t)i + 1;
    }
    in[0].name = "a.txt";
    in[1].name = "b.txt";
    in[2].name = "c.txt";
    struct evbuffer *b = evbuffer_new();
    ed2k_searchresult_entry_encode(b, &in[0], true);
    evbuffer_add(b, "\xe3\x99", 2);
    ed2k_searchresult_entry_encode(b, &in[1], false);
    evbuffer_add(b, "\xe3\x99", 2);
    ed2k_searchresult_entry_encode(b, &in[2], true);
    size_t len = evbuffer_get_length(b);
    uint8_t *p = malloc(len + 8);
    evbuffer_copyout(b, p, len);
    evbuffer_free(b);
    ed2k_search_result_t *rs;
    size_t n;
    mt_error_t *err = NULL;
    ck_assert_msg(ed2k_globsearchres_decode(p, len, &rs, &n, &err) == 0, "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(rs[i].name, in[i].name);
        ck_assert_uint_eq(rs[i].size, 1000u + (uint64_t)i);
        ck_assert_uint_eq(rs[i].sources, (uint32_t)i + 1);
        ck_assert_uint_eq(rs[i].hash[0], 10 * i);
    }
    ed2k_search_results_free(rs, n);
    /* a single entry */
    b = evbuffer_new();
    ed2k_searchresult_entry_encode(b, &in[0], true);
    size_t first = evbuffer_get_length(b);
    evbuffer_drain(b, first);
    ed2k_searchresult_entry_encode(b, &in[1], false);
    size_t second = evbuffer_get_length(b);
    evbuffer_free(b);
    ck_assert_int_eq(ed2k_globsearchres_decode(p, first, &rs, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    ed2k_search_results_free(rs, n);
    /* trailing bytes that start no entry are ignored, as aMule does */
    uint8_t *q = malloc(first + 8);
    memcpy(q, p, first);
    memcpy(q + first, "\xe3\x98\x00\x00", 4);
    ck_assert_int_eq(ed2k_globsearchres_decode(q, first + 4, &rs, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    ed2k_search_results_free(rs, n);
    ck_assert_int_eq(ed2k_globsearchres_decode(q, first + 2, &rs, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    ed2k_search_results_free(rs, n);
    memcpy(q + first, "\xe3\x99", 2);
    ck_assert_int_eq(ed2k_globsearchres_decode(q, first + 2, &rs, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    ed2k_search_results_free(rs, n);
    /* "e3 99" then a cut entry is an error */
    memcpy(q + first, "\xe3\x99\x01\x02\x03", 5);
    ck_assert_int_eq(ed2k_globsearchres_decode(q, first + 5, &rs, &n, &err), -1);
    ck_assert_ptr_null(rs);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(strstr(err->message, "OP_GLOBSEARCHRES: result 2"));
    mt_error_clear(&err);
    /* every cut inside the second entry */
    for (size_t cut = first + 3; cut < first + 2 + second; cut++)
        ck_assert_int_eq(ed2k_globsearchres_decode(p, cut, &rs, &n, NULL), -1);
    ck_assert_int_eq(ed2k_globsearchres_decode(p, 0, &rs, &n, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "OP_GLOBSEARCHRES: result 1"));
    mt_error_clear(&err);
    /* a dropped entry in the middle */
    b = evbuffer_new();
    in[1].size = 0;
    ed2k_searchresult_entry_encode(b, &in[0], false);
    evbuffer_add(b, "\xe3\x99", 2);
    ed2k_searchresult_entry_encode(b, &in[1], false);
    evbuffer_add(b, "\xe3\x99", 2);
    ed2k_searchresult_entry_encode(b, &in[2], false);
    ck_assert_int_eq(ed2k_globsearchres_decode(evbuffer_pullup(b, -1), evbuffer_get_length(b),
                                               &rs, &n, NULL),
                     0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(rs[1].name, "c.txt");
    ed2k_search_results_free(rs, n);
    evbuffer_free(b);
    free(p);
    free(q);
}
END_TEST

static void
expect_name(const char *raw, size_t len, const char *want)
{
    char *got = ed2k_search_sanitize_name(raw, len);
    ck_assert_msg(strcmp(got, want) == 0, "sanitised [%s], want [%s]", got, want);
    free(got);
}

START_TEST(test_sanitize_name)
{
#define NAME(s, want) expect_name(s, sizeof(s) - 1, want)
    NAME("ordinary name.avi", "ordinary name.avi");
    NAME("../../etc/passwd", "_.._etc_passwd");
    NAME("..\\..\\boot.ini", "_.._boot.ini");
    NAME("/abs/path", "_abs_path");
    NAME("evil\r\nname.txt", "evilname.txt");
    NAME("tab\there", "tabhere");
    NAME("nul\0byte", "nulbyte");
    NAME("del\x7f.txt", "del.txt");
    NAME("c1\xc2\x85.txt", "c1.txt");
    NAME("caf\xe9.mp3", "caf\xc3\xa9.mp3");           /* Latin-1 fallback */
    NAME("\xef\xbb\xbf" "bom.txt", "bom.txt");          /* BOM dropped */
    NAME("gpj\xe2\x80\xae.exe", "gpj.exe");             /* RLO removed */
    NAME("  .hidden  ", "hidden");
    NAME("...dots...", "dots");
    NAME("name. . .", "name");
    NAME(".", "unnamed");
    NAME("..", "unnamed");
    NAME("", "unnamed");
    NAME("   ", "unnamed");
    NAME("\r\n", "unnamed");
    NAME("./", "_");
    NAME("\xe6\x97\xa5\xe6\x9c\xac.txt", "\xe6\x97\xa5\xe6\x9c\xac.txt");
#undef NAME
    /* 1000 bytes: cut to 255, keeping the extension */
    char raw[1100];
    memset(raw, 'a', 996);
    memcpy(raw + 996, ".mkv", 4);
    char *s = ed2k_search_sanitize_name(raw, 1000);
    ck_assert_uint_eq(strlen(s), 255);
    ck_assert_str_eq(s + 251, ".mkv");
    ck_assert_uint_eq(s[250], 'a');
    free(s);
    /* 1000 bytes of two-byte characters: cut on a character boundary */
    for (int i = 0; i < 500; i++)
        memcpy(raw + 2 * i, "\xc3\xa9", 2);
    s = ed2k_search_sanitize_name(raw, 1000);
    ck_assert_uint_eq(strlen(s), 254);
    ck_assert(mt_utf8_is_valid(s, strlen(s)));
    free(s);
    /* three-byte characters with an extension */
    for (int i = 0; i < 330; i++)
        memcpy(raw + 3 * i, "\xe6\x97\xa5", 3);
    memcpy(raw + 990, ".flac", 5);
    s = ed2k_search_sanitize_name(raw, 995);
    ck_assert_uint_le(strlen(s), 255);
    ck_assert_uint_eq(strlen(s), 250 / 3 * 3 + 5);
    ck_assert(mt_utf8_is_valid(s, strlen(s)));
    ck_assert_str_eq(s + strlen(s) - 5, ".flac");
    free(s);
    /* no usable extension (too long, or with a space): a plain cut */
    memset(raw, 'b', 1000);
    raw[700] = '.';
    s = ed2k_search_sanitize_name(raw, 1000);
    ck_assert_uint_eq(strlen(s), 255);
    ck_assert_uint_eq(s[254], 'b');
    free(s);
    memset(raw, 'b', 1000);
    memcpy(raw + 990, ".x y", 4);
    s = ed2k_search_sanitize_name(raw, 1000);
    ck_assert_uint_eq(strlen(s), 255);
    free(s);
    /* a cut that lands before trailing dots/spaces trims them */
    memset(raw, 'c', 1000);
    memset(raw + 250, ' ', 10);
    s = ed2k_search_sanitize_name(raw, 1000);
    ck_assert_uint_eq(strlen(s), 250);
    free(s);
    /* names in results are sanitised */
    ed2k_search_result_t r;
    memset(&r, 0, sizeof r);
    r.name = "../../etc/passwd";
    r.size = 5;
    struct evbuffer *b = packet_of(&r, 1, false, -1);
    ed2k_search_result_t *rs;
    size_t n;
    ck_assert_int_eq(decode_buf(b, &rs, &n, NULL, NULL), 0);
    ck_assert_str_eq(rs[0].name, "_.._etc_passwd");
    ed2k_search_results_free(rs, n);
    evbuffer_free(b);
    /* a Latin-1 name in a result, and media fields keep their slashes */
    r.name = "caf\xe9\r\n.mp3";
    r.artist = "AC/DC";
    r.title = "  \x01" "Back\x7f in Black ";
    b = packet_of(&r, 1, true, -1);
    ck_assert_int_eq(decode_buf(b, &rs, &n, NULL, NULL), 0);
    ck_assert_str_eq(rs[0].name, "caf\xc3\xa9.mp3");
    ck_assert_str_eq(rs[0].artist, "AC/DC");
    ck_assert_str_eq(rs[0].title, "Back in Black");
    ed2k_search_results_free(rs, n);
    evbuffer_free(b);
    /* a 1000-byte name in a result */
    memset(raw, 'n', 1000);
    raw[1000] = '\0';
    r.name = raw;
    r.artist = NULL;
    r.title = NULL;
    b = packet_of(&r, 1, true, -1);
    ck_assert_int_eq(decode_buf(b, &rs, &n, NULL, NULL), 0);
    ck_assert_uint_eq(strlen(rs[0].name), 255);
    ed2k_search_results_free(rs, n);
    evbuffer_free(b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_search");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_live_vectors);
    tcase_add_test(tc, test_operators);
    tcase_add_test(tc, test_precedence);
    tcase_add_test(tc, test_folding);
    tcase_add_test(tc, test_filters);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_large_sizes);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_deep_parens_ok);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_dump);
    tcase_add_test(tc, test_results_roundtrip);
    tcase_add_test(tc, test_results_compact_live_form);
    tcase_add_test(tc, test_results_tags);
    tcase_add_test(tc, test_results_mixed_and_more);
    tcase_add_test(tc, test_results_truncated);
    tcase_add_test(tc, test_globsearchres);
    tcase_add_test(tc, test_sanitize_name);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
