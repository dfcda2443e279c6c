/* check_ed2k_tag.c: unit tests for lib/ed2k/tag: live tag bytes from §2.1
 * and §11.4, every type in both forms, limits and malformed input. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/packet.h"
#include "ed2k/tag.h"
#include "util/error.h"
#include "util/xalloc.h"

static ed2k_taglist_t *
read_ok(const void *data, size_t len, ed2k_tagcount_t count, size_t *left)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, data, len);
    ed2k_taglist_t *l = NULL;
    mt_error_t *err = NULL;
    int rc = ed2k_taglist_read(&r, count, 0, &l, &err);
    ck_assert_msg(rc == 0, "tag list rejected: %s", err ? err->message : "?");
    ck_assert_ptr_nonnull(l);
    if (left != NULL)
        *left = ed2k_reader_remaining(&r);
    else
        ck_assert_uint_eq(ed2k_reader_remaining(&r), 0);
    return l;
}

static void
read_fails(const void *data, size_t len, ed2k_tagcount_t count, size_t max, int code,
           const char *needle)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, data, len);
    ed2k_taglist_t *l = NULL;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_taglist_read(&r, count, max, &l, &err), -1);
    ck_assert_ptr_null(l);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->code, code);
    ck_assert_msg(strstr(err->message, needle) != NULL, "\"%s\" lacks \"%s\"", err->message,
                  needle);
    mt_error_free(err);
}

/* write_bytes: the list written in the given form, as a new flat buffer. */
static uint8_t *
write_bytes(const ed2k_taglist_t *l, ed2k_tagcount_t count, ed2k_tagform_t form, size_t *len)
{
    struct evbuffer *b = evbuffer_new();
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_taglist_write(b, l, count, form, &err), 0);
    ck_assert_ptr_null(err);
    *len = evbuffer_get_length(b);
    uint8_t *out = xmalloc(*len ? *len : 1);
    evbuffer_remove(b, out, *len);
    evbuffer_free(b);
    return out;
}

START_TEST(test_live_compact)
{
    /* §2.1: aMule sent FT_FILESIZE=1 as 89 02 01 and a 13-byte name as STR13. */
    static const uint8_t data[] = {
        0x02, 0x00, 0x00, 0x00, 0x89, 0x02, 0x01,
        0x9d, 0x01, 'z', '_', '9', '7', '2', '8', '0', '0', '1', '.', 'b', 'i', 'n',
    };
    ed2k_taglist_t *l = read_ok(data, sizeof data, ED2K_TAGCOUNT_U32, NULL);
    ck_assert_uint_eq(ed2k_taglist_count(l), 2);
    const ed2k_tag_t *t = ed2k_taglist_get(l, 0);
    ck_assert_ptr_null(t->name);
    ck_assert_uint_eq(t->id, 0x02);
    ck_assert_uint_eq(t->type, ED2K_TAG_UINT8);
    ck_assert(t->v.u == 1);
    t = ed2k_taglist_get(l, 1);
    ck_assert_uint_eq(t->id, 0x01);
    ck_assert_uint_eq(t->type, ED2K_TAG_STRING);
    ck_assert_uint_eq(t->v.len, 13);
    ck_assert_str_eq((const char *)t->v.data, "z_9728001.bin");
    ck_assert_ptr_null(ed2k_taglist_get(l, 2));
    /* Writing compact gives the same bytes back. */
    size_t n;
    uint8_t *again = write_bytes(l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_COMPACT, &n);
    ck_assert_uint_eq(n, sizeof data);
    ck_assert(memcmp(again, data, n) == 0);
    free(again);
    ed2k_taglist_free(l);
    ed2k_taglist_free(NULL);
}
END_TEST

START_TEST(test_live_helloanswer)
{
    /* §11.4: OP_HELLOANSWER from amuled 2.3.3. */
    static const uint8_t pkt[] = {
        0xe3, 0x64, 0x00, 0x00, 0x00, 0x4c, 0xb0, 0xbf, 0x77, 0x08, 0xd0, 0x0e, 0x61, 0xcb, 0x38,
        0x74, 0x61, 0x7a, 0x2e, 0xa0, 0x6f, 0x18, 0x00, 0x00, 0x00, 0x00, 0x66, 0x87, 0x07, 0x00,
        0x00, 0x00, 0x02, 0x01, 0x00, 0x01, 0x0d, 0x00, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x72, 0x65,
        0x66, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x03, 0x01, 0x00, 0x11, 0x3c, 0x00, 0x00, 0x00, 0x03,
        0x01, 0x00, 0xf9, 0x70, 0x87, 0x00, 0x00, 0x03, 0x01, 0x00, 0xfb, 0x80, 0x0d, 0x04, 0x03,
        0x03, 0x01, 0x00, 0xfa, 0x16, 0x32, 0x13, 0x34, 0x03, 0x01, 0x00, 0xfe, 0xb8, 0x05, 0x00,
        0x00, 0x03, 0x01, 0x00, 0xef, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    ed2k_packet_t *p = NULL;
    size_t used;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_packet_decode(pkt, sizeof pkt, 0, &p, &used, &err), ED2K_FRAME_OK);
    ed2k_reader_t r;
    ed2k_reader_init(&r, p->payload, p->len);
    uint8_t hash[16];
    uint32_t id, ip;
    uint16_t port, sport;
    ck_assert_int_eq(ed2k_read_hash16(&r, hash), 0);
    ck_assert_uint_eq(hash[0], 0xb0);
    ck_assert_uint_eq(hash[5], 0x0e);  /* eMule marker bytes 5/14 */
    ck_assert_uint_eq(hash[14], 0x6f);
    ck_assert_int_eq(ed2k_read_u32(&r, &id), 0);
    ck_assert_uint_eq(id, 0);
    ck_assert_int_eq(ed2k_read_u16(&r, &port), 0);
    ck_assert_uint_eq(port, 34662);
    ed2k_taglist_t *l = NULL;
    ck_assert_int_eq(ed2k_taglist_read(&r, ED2K_TAGCOUNT_U32, 0, &l, &err), 0);
    ck_assert_uint_eq(ed2k_taglist_count(l), 7);
    const char *name;
    size_t nlen;
    ck_assert_int_eq(ed2k_taglist_get_str(l, 0x01, &name, &nlen), 0);
    ck_assert_str_eq(name, "protoref-test");
    ck_assert_uint_eq(nlen, 13);
    uint64_t v;
    ck_assert_int_eq(ed2k_taglist_get_uint(l, 0x11, &v), 0);
    ck_assert(v == 0x3c);
    ck_assert_int_eq(ed2k_taglist_get_uint(l, 0xf9, &v), 0);
    ck_assert(v == 34672);
    ck_assert_int_eq(ed2k_taglist_get_uint(l, 0xfb, &v), 0);
    ck_assert(v == 0x03040d80);
    ck_assert_int_eq(ed2k_taglist_get_uint(l, 0xfa, &v), 0);
    ck_assert(v == 0x34133216);
    ck_assert_int_eq(ed2k_taglist_get_uint(l, 0xfe, &v), 0);
    ck_assert(v == 0x5b8);
    ck_assert_int_eq(ed2k_taglist_get_uint(l, 0xef, &v), 0);
    ck_assert(v == 1);
    ck_assert_int_eq(ed2k_taglist_get_uint(l, 0x01, &v), -1); /* a string, not an int */
    ck_assert_int_eq(ed2k_taglist_get_str(l, 0x11, &name, NULL), -1);
    ck_assert_int_eq(ed2k_taglist_get_uint(l, 0x55, &v), -1); /* absent */
    ck_assert_uint_eq(ed2k_taglist_get(l, 1)->type, ED2K_TAG_UINT32);
    ck_assert_int_eq(ed2k_read_u32(&r, &ip), 0);
    ck_assert_int_eq(ed2k_read_u16(&r, &sport), 0);
    ck_assert_uint_eq(ip, 0);
    ck_assert_uint_eq(ed2k_reader_remaining(&r), 0);

    /* aMule writes hello tags in the classic form: we reproduce the bytes. */
    size_t n;
    uint8_t *again = write_bytes(l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, &n);
    ck_assert_uint_eq(n, 0x63 - 16 - 4 - 2 - 6);
    ck_assert(memcmp(again, p->payload + 22, n) == 0);
    free(again);
    ed2k_taglist_free(l);
    ed2k_packet_free(p);
}
END_TEST

START_TEST(test_live_kad)
{
    /* §11.4: the Kad HELLO_RES tag list (u8 count, classic UINT8). */
    static const uint8_t hello[] = { 0x01, 0x09, 0x01, 0x00, 0xf2, 0x02 };
    ed2k_taglist_t *l = read_ok(hello, sizeof hello, ED2K_TAGCOUNT_U8, NULL);
    uint64_t v;
    ck_assert_int_eq(ed2k_taglist_get_uint(l, 0xf2, &v), 0);
    ck_assert(v == 2);
    size_t n;
    uint8_t *again = write_bytes(l, ED2K_TAGCOUNT_U8, ED2K_TAGFORM_CLASSIC, &n);
    ck_assert(n == sizeof hello && memcmp(again, hello, n) == 0);
    free(again);
    ed2k_taglist_free(l);

    /* The tags of the KADEMLIA2_SEARCH_RES answer. */
    static const uint8_t res[] = {
        0x03, 0x02, 0x01, 0x00, 0x01, 0x0e, 0x00, 'f', 'a', 'k', 'e', '_', 's', 'h', 'a', 'r',
        'e', '.', 'b', 'i', 'n', 0x03, 0x01, 0x00, 0x02, 0xe8, 0x73, 0x94, 0x00, 0x03, 0x01,
        0x00, 0x33, 0xe8, 0x03, 0x01, 0x01,
    };
    l = read_ok(res, sizeof res, ED2K_TAGCOUNT_U8, NULL);
    const char *s;
    ck_assert_int_eq(ed2k_taglist_get_str(l, 0x01, &s, NULL), 0);
    ck_assert_str_eq(s, "fake_share.bin");
    ck_assert_int_eq(ed2k_taglist_get_uint(l, 0x02, &v), 0);
    ck_assert(v == 9729000);
    ck_assert_int_eq(ed2k_taglist_get_uint(l, 0x33, &v), 0);
    ck_assert(v == 0x010103e8);
    ed2k_taglist_free(l);
}
END_TEST

/* A list with every type, id- and string-named. */
static ed2k_taglist_t *
all_types(void)
{
    ed2k_taglist_t *l = ed2k_taglist_new();
    uint8_t h[16];
    for (int i = 0; i < 16; i++)
        h[i] = (uint8_t)(i * 17);
    char long_str[300];
    memset(long_str, 'L', sizeof long_str);
    ed2k_taglist_add_hash(l, 0x28, h);
    ed2k_taglist_add_str(l, 0x01, "", 0);
    ed2k_taglist_add_str(l, 0x01, "x", 1);
    ed2k_taglist_add_str(l, 0x01, "sixteen-bytes-ok", 16);
    ed2k_taglist_add_str(l, 0x01, "seventeen-bytes-x", 17);
    ed2k_taglist_add_str(l, 0x12, long_str, sizeof long_str);
    ed2k_taglist_add_str(l, 0x13, "nul\0inside", 10);
    ed2k_taglist_add_uint(l, 0x02, ED2K_TAG_UINT8, 1);
    ed2k_taglist_add_uint(l, 0x03, ED2K_TAG_UINT16, 300);
    ed2k_taglist_add_uint(l, 0x04, ED2K_TAG_UINT32, 70000);
    ed2k_taglist_add_uint(l, 0x05, ED2K_TAG_UINT64, 1ULL << 33);
    ed2k_taglist_add_uint(l, 0x06, ED2K_TAG_UINT32, 5); /* kept as UINT32 in classic form */
    ed2k_taglist_add_uint(l, 0x07, 0, UINT64_MAX);
    ed2k_taglist_add_float(l, 0x08, 3.25f);
    ed2k_taglist_add_blob(l, 0x09, "\x00\x01\x02", 3);
    ed2k_taglist_add_bsob(l, 0x0a, "bs", 2);
    ed2k_taglist_add_named_str(l, "Artist", "Some One", 8);
    ed2k_taglist_add_named_uint(l, "users", 0, 123456);
    return l;
}

START_TEST(test_round_trip_all_types)
{
    ed2k_taglist_t *l = all_types();
    /* Obsolete types, as they come from the wire. */
    static const uint8_t obsolete[] = {
        0x02, 0x00, 0x00, 0x00,
        0x05, 0x01, 0x00, 0x30, 0x01,                   /* BOOL */
        0x06, 0x02, 0x00, 'b', 'a', 0x0a, 0x00, 0xff, 0x03, /* BOOLARRAY of 10 bits */
    };
    ed2k_taglist_t *ob = read_ok(obsolete, sizeof obsolete, ED2K_TAGCOUNT_U32, NULL);
    ck_assert_uint_eq(ed2k_taglist_get(ob, 0)->type, ED2K_TAG_BOOL);
    ck_assert(ed2k_taglist_get(ob, 0)->v.u == 1);
    const ed2k_tag_t *ba = ed2k_taglist_find_name(ob, "ba");
    ck_assert_ptr_nonnull(ba);
    ck_assert_uint_eq(ba->type, ED2K_TAG_BOOLARRAY);
    ck_assert_uint_eq(ba->v.bits, 10);
    ck_assert_uint_eq(ba->v.len, 2);
    for (size_t i = 0; i < ed2k_taglist_count(ob); i++)
        ed2k_taglist_add_copy(l, ed2k_taglist_get(ob, i));
    ed2k_taglist_free(ob);

    for (int count = 0; count < 2; count++) {
        for (int form = 0; form < 2; form++) {
            ed2k_tagcount_t c = count ? ED2K_TAGCOUNT_U8 : ED2K_TAGCOUNT_U32;
            size_t n;
            uint8_t *bytes = write_bytes(l, c, form ? ED2K_TAGFORM_COMPACT : ED2K_TAGFORM_CLASSIC,
                                         &n);
            ed2k_taglist_t *back = read_ok(bytes, n, c, NULL);
            ck_assert_msg(ed2k_taglist_equal(l, back), "count %d form %d", count, form);
            /* Classic form keeps each integer's width. */
            if (!form) {
                ck_assert_uint_eq(ed2k_taglist_find_id(back, 0x06)->type, ED2K_TAG_UINT32);
                ck_assert_uint_eq(ed2k_taglist_find_id(back, 0x02)->type, ED2K_TAG_UINT8);
            } else {
                ck_assert_uint_eq(ed2k_taglist_find_id(back, 0x06)->type, ED2K_TAG_UINT8);
            }
            ck_assert_uint_eq(ed2k_taglist_find_id(back, 0x07)->type, ED2K_TAG_UINT64);
            ck_assert(ed2k_taglist_find_id(back, 0x07)->v.u == UINT64_MAX);
            ck_assert(ed2k_taglist_find_id(back, 0x08)->v.f == 3.25f);
            ck_assert_uint_eq(ed2k_taglist_find_id(back, 0x13)->v.len, 10);
            ck_assert(memcmp(ed2k_taglist_find_id(back, 0x13)->v.data, "nul\0inside", 10) == 0);
            const ed2k_tag_t *artist = ed2k_taglist_find_name(back, "Artist");
            ck_assert_ptr_nonnull(artist);
            ck_assert_str_eq((const char *)artist->v.data, "Some One");
            ck_assert_ptr_null(ed2k_taglist_find_name(back, "artist"));
            ed2k_taglist_free(back);
            free(bytes);
        }
    }
    ed2k_taglist_free(l);
}
END_TEST

/* The exact bytes of single tags in each form. */
static void
expect_tag_bytes(ed2k_taglist_t *l, ed2k_tagform_t form, const void *want, size_t wlen)
{
    size_t n;
    uint8_t *got = write_bytes(l, ED2K_TAGCOUNT_U8, form, &n);
    ck_assert_uint_eq(n, wlen + 1);
    ck_assert_uint_eq(got[0], 1);
    ck_assert_msg(memcmp(got + 1, want, wlen) == 0, "tag bytes differ (form %d, type 0x%02x)",
                  form, got[1]);
    free(got);
    ed2k_taglist_free(l);
}

START_TEST(test_exact_bytes)
{
    ed2k_taglist_t *l;
#define ONE(stmt) (l = ed2k_taglist_new(), (stmt), l)
    /* Compact: smallest integer, STRn for 1..16 bytes, STRING otherwise. */
    expect_tag_bytes(ONE(ed2k_taglist_add_uint(l, 2, ED2K_TAG_UINT64, 1)), ED2K_TAGFORM_COMPACT,
                     "\x89\x02\x01", 3);
    expect_tag_bytes(ONE(ed2k_taglist_add_uint(l, 2, 0, 300)), ED2K_TAGFORM_COMPACT,
                     "\x88\x02\x2c\x01", 4);
    expect_tag_bytes(ONE(ed2k_taglist_add_uint(l, 2, 0, 70000)), ED2K_TAGFORM_COMPACT,
                     "\x83\x02\x70\x11\x01\x00", 6);
    expect_tag_bytes(ONE(ed2k_taglist_add_uint(l, 2, 0, 1ULL << 33)), ED2K_TAGFORM_COMPACT,
                     "\x8b\x02\x00\x00\x00\x00\x02\x00\x00\x00", 10);
    static const struct {
        uint64_t v;
        uint8_t type;
    } edges[] = {
        { 0, 0x89 }, { 255, 0x89 }, { 256, 0x88 }, { 65535, 0x88 }, { 65536, 0x83 },
        { UINT32_MAX, 0x83 }, { (uint64_t)UINT32_MAX + 1, 0x8b }, { UINT64_MAX, 0x8b },
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        l = ed2k_taglist_new();
        ed2k_taglist_add_uint(l, 9, ED2K_TAG_UINT64, edges[i].v);
        size_t n;
        uint8_t *got = write_bytes(l, ED2K_TAGCOUNT_U8, ED2K_TAGFORM_COMPACT, &n);
        ck_assert_msg(got[1] == edges[i].type, "value %llu: type 0x%02x",
                      (unsigned long long)edges[i].v, got[1]);
        ed2k_taglist_t *back = read_ok(got, n, ED2K_TAGCOUNT_U8, NULL);
        ck_assert(ed2k_taglist_get(back, 0)->v.u == edges[i].v);
        ed2k_taglist_free(back);
        free(got);
        ed2k_taglist_free(l);
        /* add_uint with type 0 picks the same smallest type. */
        l = ed2k_taglist_new();
        ed2k_taglist_add_uint(l, 9, 0, edges[i].v);
        ck_assert_uint_eq(ed2k_taglist_get(l, 0)->type, edges[i].type & 0x7f);
        ed2k_taglist_free(l);
    }
    expect_tag_bytes(ONE(ed2k_taglist_add_str(l, 1, "abc", 3)), ED2K_TAGFORM_COMPACT,
                     "\x93\x01" "abc", 5);
    expect_tag_bytes(ONE(ed2k_taglist_add_str(l, 1, "0123456789abcdef", 16)),
                     ED2K_TAGFORM_COMPACT, "\xa0\x01" "0123456789abcdef", 18);
    expect_tag_bytes(ONE(ed2k_taglist_add_str(l, 1, "0123456789abcdefg", 17)),
                     ED2K_TAGFORM_COMPACT, "\x82\x01\x11\x00" "0123456789abcdefg", 21);
    expect_tag_bytes(ONE(ed2k_taglist_add_str(l, 1, "", 0)), ED2K_TAGFORM_COMPACT,
                     "\x82\x01\x00\x00", 4);
    expect_tag_bytes(ONE(ed2k_taglist_add_hash(l, 0x28, (const uint8_t *)"0123456789abcdef")),
                     ED2K_TAGFORM_COMPACT, "\x81\x28" "0123456789abcdef", 18);
    expect_tag_bytes(ONE(ed2k_taglist_add_float(l, 4, 1.5f)), ED2K_TAGFORM_COMPACT,
                     "\x84\x04\x00\x00\xc0\x3f", 6);
    expect_tag_bytes(ONE(ed2k_taglist_add_blob(l, 5, "xy", 2)), ED2K_TAGFORM_COMPACT,
                     "\x87\x05\x02\x00\x00\x00xy", 8);
    expect_tag_bytes(ONE(ed2k_taglist_add_bsob(l, 6, "xy", 2)), ED2K_TAGFORM_COMPACT,
                     "\x8a\x06\x02xy", 5);
    /* String names stay classic even in compact mode, with their type. */
    expect_tag_bytes(ONE(ed2k_taglist_add_named_uint(l, "users", ED2K_TAG_UINT32, 7)),
                     ED2K_TAGFORM_COMPACT, "\x03\x05\x00users\x07\x00\x00\x00", 12);
    expect_tag_bytes(ONE(ed2k_taglist_add_named_str(l, "Title", "t", 1)), ED2K_TAGFORM_COMPACT,
                     "\x02\x05\x00Title\x01\x00t", 11);
    /* A one-byte "name" is an id. */
    expect_tag_bytes(ONE(ed2k_taglist_add_named_str(l, "\x01", "t", 1)), ED2K_TAGFORM_CLASSIC,
                     "\x02\x01\x00\x01\x01\x00t", 7);
    /* Classic: ids as 1-byte names, widths as added (widened if needed). */
    expect_tag_bytes(ONE(ed2k_taglist_add_uint(l, 0x11, ED2K_TAG_UINT32, 0x3c)),
                     ED2K_TAGFORM_CLASSIC, "\x03\x01\x00\x11\x3c\x00\x00\x00", 8);
    expect_tag_bytes(ONE(ed2k_taglist_add_uint(l, 0x11, ED2K_TAG_UINT8, 0x1234)),
                     ED2K_TAGFORM_CLASSIC, "\x08\x01\x00\x11\x34\x12", 6);
    expect_tag_bytes(ONE(ed2k_taglist_add_str(l, 1, "abc", 3)), ED2K_TAGFORM_CLASSIC,
                     "\x02\x01\x00\x01\x03\x00" "abc", 9);
#undef ONE
}
END_TEST

START_TEST(test_names)
{
    /* Classic names of length 0 and 2+ are string names. */
    static const uint8_t data[] = {
        0x02, 0x00, 0x00, 0x00,
        0x09, 0x00, 0x00, 0x07,
        0x09, 0x02, 0x00, 'a', 'b', 0x08,
    };
    ed2k_taglist_t *l = read_ok(data, sizeof data, ED2K_TAGCOUNT_U32, NULL);
    const ed2k_tag_t *t = ed2k_taglist_find_name(l, "");
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->name_len, 0);
    ck_assert(t->v.u == 7);
    t = ed2k_taglist_find_name(l, "ab");
    ck_assert_ptr_nonnull(t);
    ck_assert(t->v.u == 8);
    ck_assert_ptr_null(ed2k_taglist_find_id(l, 'a'));
    ck_assert_ptr_null(ed2k_taglist_find_id(l, 0));
    size_t n;
    uint8_t *again = write_bytes(l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_COMPACT, &n);
    ck_assert(n == sizeof data && memcmp(again, data, n) == 0);
    free(again);
    ed2k_taglist_free(l);
}
END_TEST

START_TEST(test_read_errors)
{
    read_fails("", 0, ED2K_TAGCOUNT_U32, 0, MT_ERR_PROTOCOL, "truncated tag count");
    read_fails("\x01\x00\x00", 3, ED2K_TAGCOUNT_U32, 0, MT_ERR_PROTOCOL, "truncated tag count");
    read_fails("", 0, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL, "truncated tag count");
    /* Types that cannot be read, so the rest is lost. */
    read_fails("\x01\xa1\x01xxxxxxxxxxxxxxxxx", 20, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "tag 0: unknown tag type 0x21");
    read_fails("\x01\x80\x01\x00", 4, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "unknown tag type 0x00");
    read_fails("\x02\x89\x01\x01\x8c\x01\x00", 7, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "tag 1: unknown tag type 0x0c");
    read_fails("\x01\x10\x01\x00\x01\x00", 6, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "unknown tag type 0x10");
    /* Truncations of each kind. */
    read_fails("\x01\x82\x01\x05\x00" "abc", 8, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "truncated string");
    read_fails("\x01\x9d\x01" "z_97280", 10, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "truncated string");
    read_fails("\x01\x03\x05\x00" "ab", 6, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "truncated name");
    read_fails("\x01\x83\x01\x00\x00", 5, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "truncated integer");
    read_fails("\x01\x81\x01" "0123456789", 13, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "truncated hash");
    read_fails("\x01\x8a\x01\x10" "abc", 7, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "truncated bsob");
    read_fails("\x01\x86\x01\x10\x00" "a", 6, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "truncated bool array");
    /* A 4 GiB blob in a few bytes: refused without allocating it. */
    read_fails("\x01\x87\x01\xff\xff\xff\xff" "abc", 10, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "truncated blob");
    read_fails("\x02\x89\x01\x01", 4, ED2K_TAGCOUNT_U8, 0, MT_ERR_PROTOCOL,
               "tag count 2 does not fit");
    /* Counts over the limit. */
    uint8_t big[4 + 3 * 1025];
    big[0] = 0x01;
    big[1] = 0x04;
    big[2] = big[3] = 0;
    for (size_t i = 0; i < 1025; i++)
        memcpy(big + 4 + 3 * i, "\x89\x01\x01", 3);
    read_fails(big, sizeof big, ED2K_TAGCOUNT_U32, 0, MT_ERR_TOO_LARGE,
               "tag count 1025 exceeds the limit of 1024");
    read_fails(big, sizeof big, ED2K_TAGCOUNT_U32, 10, MT_ERR_TOO_LARGE, "limit of 10");
    read_fails("\xff\xff\xff\xff", 4, ED2K_TAGCOUNT_U32, 0, MT_ERR_TOO_LARGE, "tag count");
    big[1] = 0x04; /* 1024 is allowed */
    big[0] = 0x00;
    ed2k_reader_t r;
    ed2k_reader_init(&r, big, sizeof big);
    ed2k_taglist_t *l = NULL;
    ck_assert_int_eq(ed2k_taglist_read(&r, ED2K_TAGCOUNT_U32, 0, &l, NULL), 0);
    ck_assert_uint_eq(ed2k_taglist_count(l), 1024);
    ck_assert_uint_eq(ed2k_reader_remaining(&r), 3);
    ed2k_taglist_free(l);
}
END_TEST

START_TEST(test_write_errors)
{
    struct evbuffer *b = evbuffer_new();
    mt_error_t *err = NULL;
    ed2k_taglist_t *l = ed2k_taglist_new();
    for (int i = 0; i < 256; i++)
        ed2k_taglist_add_uint(l, 1, 0, (uint64_t)i);
    ck_assert_int_eq(ed2k_taglist_write(b, l, ED2K_TAGCOUNT_U8, ED2K_TAGFORM_CLASSIC, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    mt_error_clear(&err);
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    ck_assert_int_eq(ed2k_taglist_write(b, l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, &err), 0);
    ck_assert_uint_gt(evbuffer_get_length(b), 0);
    evbuffer_drain(b, evbuffer_get_length(b));
    ed2k_taglist_free(l);

    char *huge = xcalloc(1, 70000);
    l = ed2k_taglist_new();
    ed2k_taglist_add_uint(l, 2, 0, 1);
    ed2k_taglist_add_str(l, 1, huge, 70000);
    ck_assert_int_eq(ed2k_taglist_write(b, l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_COMPACT, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "tag 1"));
    mt_error_clear(&err);
    ck_assert_uint_eq(evbuffer_get_length(b), 0); /* nothing written */
    ed2k_taglist_free(l);
    l = ed2k_taglist_new();
    ed2k_taglist_add_bsob(l, 1, huge, 256);
    ck_assert_int_eq(ed2k_taglist_write(b, l, ED2K_TAGCOUNT_U8, ED2K_TAGFORM_CLASSIC, &err), -1);
    mt_error_clear(&err);
    ed2k_taglist_free(l);
    l = ed2k_taglist_new();
    ed2k_taglist_add_blob(l, 1, huge, 70000); /* blobs have a u32 length */
    ck_assert_int_eq(ed2k_taglist_write(b, l, ED2K_TAGCOUNT_U8, ED2K_TAGFORM_CLASSIC, &err), 0);
    ed2k_taglist_free(l);
    free(huge);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_equal)
{
    ed2k_taglist_t *a = ed2k_taglist_new(), *b = ed2k_taglist_new();
    ed2k_taglist_add_uint(a, 1, ED2K_TAG_UINT8, 5);
    ed2k_taglist_add_uint(b, 1, ED2K_TAG_UINT64, 5);
    ck_assert(ed2k_taglist_equal(a, b)); /* widths are interchangeable */
    ed2k_taglist_add_str(a, 2, "x", 1);
    ck_assert(!ed2k_taglist_equal(a, b));
    ed2k_taglist_add_str(b, 2, "y", 1);
    ck_assert(!ed2k_taglist_equal(a, b));
    ed2k_taglist_free(a);
    ed2k_taglist_free(b);
    a = ed2k_taglist_new();
    b = ed2k_taglist_new();
    ed2k_taglist_add_uint(a, 1, 0, 5);
    ed2k_taglist_add_named_uint(b, "ab", 0, 5);
    ck_assert(!ed2k_taglist_equal(a, b));
    ed2k_taglist_free(a);
    ed2k_taglist_free(b);
    a = ed2k_taglist_new();
    b = ed2k_taglist_new();
    ed2k_taglist_add_uint(a, 1, 0, 5);
    ed2k_taglist_add_str(b, 1, "\x05", 1);
    ck_assert(!ed2k_taglist_equal(a, b));
    ed2k_taglist_free(a);
    ed2k_taglist_free(b);
}
END_TEST

static Suite *
tag_suite(void)
{
    Suite *s = suite_create("ed2k_tag");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_live_compact);
    tcase_add_test(tc, test_live_helloanswer);
    tcase_add_test(tc, test_live_kad);
    tcase_add_test(tc, test_round_trip_all_types);
    tcase_add_test(tc, test_exact_bytes);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_read_errors);
    tcase_add_test(tc, test_write_errors);
    tcase_add_test(tc, test_equal);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(tag_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
