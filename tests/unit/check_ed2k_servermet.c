/* check_ed2k_servermet.c: unit tests for lib/ed2k/servermet: a server.met
 * that amuled 2.3.3 wrote, aMule's tolerances, every refusal, lossless
 * round trips and the exact bytes of the writer. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/link.h"
#include "ed2k/packet.h"
#include "ed2k/servermet.h"
#include "ed2k/tag.h"
#include "util/error.h"
#include "util/xalloc.h"

/* amuled 2.3.3 saved this on exit (SIGTERM) after loading a server.met that
 * ed2k_servermet_write had made (tests/fuzz/corpus/ed2k_servermet/
 * amuled-2.3.3.met): three servers, "localhost" by name, each string tag
 * twice, "users"/"files" by name, ST_VERSION "Unknown" where none was
 * known, obfuscation ports as UINT16, Muleteer's own tags gone. */
static const char amuled_met[] =
    "e00300000000000000556017000000020100010e004d756c65746565722074c3"
    "a97374020100010e004d756c65746565722074c3a973740201008509006c6f63"
    "616c686f73740201008509006c6f63616c686f73740201000b08006c6f6f7062"
    "61636b0201000b08006c6f6f706261636b0301000d010000000301000e010000"
    "0003050075736572730a00000003050066696c6573140000000301000c2a0000"
    "00030100900000000003010087e8030000030100880500000003010089060000"
    "0002010091050031372e313502010091050031372e3135030100921b03000003"
    "010094030000000301009578563412030100967f000001080100975660080100"
    "985760b067302458100f0000000201000106005075626c696302010001060050"
    "75626c69630301000d000000000301000e020000000305007573657273000000"
    "0003050066696c6573000000000301000c000000000301009000000000030100"
    "870000000003010088000000000301008900000000020100910700556e6b6e6f"
    "776e020100910700556e6b6e6f776e030100920000000003010094000000002d"
    "52509bb120100000000201000103004175780201000103004175780201009309"
    "00343234322c343234330301000d000000000301000e00000000030500757365"
    "72730000000003050066696c6573000000000301000c00000000030100900000"
    "0000030100870000000003010088000000000301008900000000020100910700"
    "556e6b6e6f776e020100910700556e6b6e6f776e030100920000000003010094"
    "00000000";

static size_t
unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

static uint32_t
ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return a | b << 8 | c << 16 | (uint32_t)d << 24;
}

/* A growable byte image for hand-made files. */
typedef struct {
    uint8_t b[4096];
    size_t n;
} img_t;

static void
put(img_t *m, const void *p, size_t n)
{
    ck_assert_uint_le(m->n + n, sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void
put_u8(img_t *m, uint8_t v)
{
    put(m, &v, 1);
}

static void
put_u16(img_t *m, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    put(m, b, 2);
}

static void
put_u32(img_t *m, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    put(m, b, 4);
}

static void
put_entry_head(img_t *m, uint32_t ip, uint16_t port, uint32_t ntags)
{
    put_u32(m, ip);
    put_u16(m, port);
    put_u32(m, ntags);
}

/* Classic tags. */
static void
tag_str(img_t *m, uint8_t id, const char *s)
{
    put_u8(m, 0x02);
    put_u16(m, 1);
    put_u8(m, id);
    put_u16(m, (uint16_t)strlen(s));
    put(m, s, strlen(s));
}

static void
tag_u32(img_t *m, uint8_t id, uint32_t v)
{
    put_u8(m, 0x03);
    put_u16(m, 1);
    put_u8(m, id);
    put_u32(m, v);
}

static void
tag_named_u32(img_t *m, const char *name, uint32_t v)
{
    put_u8(m, 0x03);
    put_u16(m, (uint16_t)strlen(name));
    put(m, name, strlen(name));
    put_u32(m, v);
}

static int
parse(const img_t *m, ed2k_server_entry_t **e, size_t *n)
{
    mt_error_t *err = NULL;
    int rc = ed2k_servermet_parse(m->b, m->n, e, n, &err);
    ck_assert_msg((rc == ED2K_SERVERMET_OK) == (err == NULL), "rc %d, err %s", rc,
                  err ? err->message : "none");
    mt_error_free(err);
    return rc;
}

/* round_trip: write, parse back, compare every field; returns the image. */
static struct evbuffer *
round_trip(const ed2k_server_entry_t *e, size_t n)
{
    struct evbuffer *b = evbuffer_new();
    mt_error_t *err = NULL;
    int rc = ed2k_servermet_write(b, e, n, &err);
    ck_assert_msg(rc == 0, "write: %s", err ? err->message : "?");
    ed2k_server_entry_t *back = NULL;
    size_t m = 0;
    ck_assert_int_eq(ed2k_servermet_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b), &back,
                                          &m, NULL),
                     ED2K_SERVERMET_OK);
    ck_assert_uint_eq(m, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(ed2k_server_entry_equal(&e[i], &back[i]), "entry %zu differs", i);
    ed2k_server_entries_free(back, m);
    return b;
}

START_TEST(test_amuled_file)
{
    uint8_t *img = xmalloc(sizeof amuled_met / 2);
    size_t len = unhex(amuled_met, img);
    ck_assert_uint_eq(len, 580);
    ed2k_server_entry_t *e = NULL;
    size_t n = 0;
    ck_assert_int_eq(ed2k_servermet_parse(img, len, &e, &n, NULL), ED2K_SERVERMET_OK);
    ck_assert_uint_eq(n, 3);

    ck_assert_uint_eq(e[0].ip, 0);
    ck_assert_uint_eq(e[0].port, 24661);
    ck_assert_str_eq(e[0].dynip, "localhost");
    ck_assert_str_eq(e[0].name, "Muleteer t\xc3\xa9st");
    ck_assert_str_eq(e[0].description, "loopback");
    ck_assert_str_eq(e[0].version, "17.15");
    ck_assert_uint_eq(e[0].users, 10);
    ck_assert_uint_eq(e[0].files, 20);
    ck_assert_uint_eq(e[0].max_users, 1000);
    ck_assert_uint_eq(e[0].soft_files, 5);
    ck_assert_uint_eq(e[0].hard_files, 6);
    ck_assert_uint_eq(e[0].lowid_users, 3);
    ck_assert_uint_eq(e[0].ping_ms, 42);
    ck_assert_uint_eq(e[0].fails, 1);
    ck_assert_uint_eq(e[0].last_ping, 0); /* 2.3.3 reads it into another field */
    ck_assert_uint_eq(e[0].preference, ED2K_SERVER_PRIO_HIGH);
    ck_assert_uint_eq(e[0].udp_flags, 0x31B);
    ck_assert_uint_eq(e[0].obfu_tcp_port, 24662);
    ck_assert_uint_eq(e[0].obfu_udp_port, 24663);
    ck_assert_uint_eq(e[0].udp_key, 0x12345678);
    ck_assert_uint_eq(e[0].udp_key_ip, ip4(127, 0, 0, 1));
    ck_assert_uint_eq(e[0].tcp_flags, 0);
    ck_assert(!e[0].is_static);

    ck_assert_uint_eq(e[1].ip, ip4(176, 103, 48, 36));
    ck_assert_uint_eq(e[1].port, 4184);
    ck_assert_ptr_null(e[1].dynip);
    ck_assert_str_eq(e[1].name, "Public");
    ck_assert_str_eq(e[1].version, "Unknown");
    ck_assert_uint_eq(e[1].preference, ED2K_SERVER_PRIO_LOW);

    /* The official port in the entry, the connection port in the list. */
    ck_assert_uint_eq(e[2].ip, ip4(45, 82, 80, 155));
    ck_assert_uint_eq(e[2].port, 8369);
    ck_assert_str_eq(e[2].aux_ports, "4242,4243");
    ck_assert_uint_eq(e[2].aux_port, 4242);

    /* Whatever was read can be written and read back. */
    evbuffer_free(round_trip(e, n));
    ed2k_server_entries_free(e, n);

    /* Every cut of the file: an error at the header or in the first
     * entry, then the complete entries before the cut. */
    for (size_t cut = 0; cut < len; cut++) {
        mt_error_t *err = NULL;
        int rc = ed2k_servermet_parse(img, cut, &e, &n, &err);
        ck_assert_ptr_nonnull(err);
        mt_error_free(err);
        if (cut < 5 + 254) { /* the first entry is 254 bytes */
            ck_assert_int_eq(rc, ED2K_SERVERMET_ERROR);
            ck_assert_ptr_null(e);
            ck_assert_uint_eq(n, 0);
        } else {
            ck_assert_int_eq(rc, ED2K_SERVERMET_PARTIAL);
            ck_assert_uint_ge(n, 1);
            ck_assert_uint_le(n, 2);
            ck_assert_str_eq(e[0].dynip, "localhost");
            ed2k_server_entries_free(e, n);
        }
    }
    /* Bytes after the last entry are ignored. */
    img = xrealloc(img, len + 3);
    memcpy(img + len, "xyz", 3);
    ck_assert_int_eq(ed2k_servermet_parse(img, len + 3, &e, &n, NULL), ED2K_SERVERMET_OK);
    ck_assert_uint_eq(n, 3);
    ed2k_server_entries_free(e, n);
    free(img);
}
END_TEST

START_TEST(test_writer_bytes)
{
    /* One server, nothing but its address: the eleven tags aMule always
     * writes, classic form, in aMule's order. */
    ed2k_server_entry_t e;
    memset(&e, 0, sizeof e);
    e.ip = ip4(1, 2, 3, 4);
    e.port = 4661;
    struct evbuffer *b = round_trip(&e, 1);
    uint8_t want[256];
    size_t wl = unhex("e0 01000000 01020304 3512 0b000000"
                      " 03 0100 0d 00000000"     /* ST_FAIL */
                      " 03 0100 0e 00000000"     /* ST_PREFERENCE */
                      " 03 0500 7573657273 00000000" /* "users" */
                      " 03 0500 66696c6573 00000000" /* "files" */
                      " 03 0100 0c 00000000"     /* ST_PING */
                      " 03 0100 90 00000000"     /* ST_LASTPING */
                      " 03 0100 87 00000000"     /* ST_MAXUSERS */
                      " 03 0100 88 00000000"     /* ST_SOFTFILES */
                      " 03 0100 89 00000000"     /* ST_HARDFILES */
                      " 03 0100 92 00000000"     /* ST_UDPFLAGS */
                      " 03 0100 94 00000000",    /* ST_LOWIDUSERS */
                      want);
    ck_assert_uint_eq(evbuffer_get_length(b), wl);
    ck_assert_mem_eq(evbuffer_pullup(b, -1), want, wl);
    evbuffer_free(b);

    /* Strings: ASCII plain, anything else behind a BOM (for eMule); the
     * version as a string; obfuscation ports as UINT16; Muleteer's tags. */
    e.name = "abc";
    e.description = "caf\xc3\xa9";
    e.version = "17.15";
    e.obfu_tcp_port = 0x1234;
    e.is_static = true;
    b = round_trip(&e, 1);
    const uint8_t *p = evbuffer_pullup(b, -1);
    size_t len = evbuffer_get_length(b);
    uint8_t frag[32];
    size_t fl = unhex("02 0100 01 0300 616263", frag);
    ck_assert_ptr_nonnull(memmem(p, len, frag, fl));
    fl = unhex("02 0100 0b 0800 efbbbf 636166c3a9", frag);
    ck_assert_ptr_nonnull(memmem(p, len, frag, fl));
    fl = unhex("02 0100 91 0500 31372e3135", frag);
    ck_assert_ptr_nonnull(memmem(p, len, frag, fl));
    fl = unhex("08 0100 97 3412", frag);
    ck_assert_ptr_nonnull(memmem(p, len, frag, fl));
    fl = unhex("09 0900 6d745f737461746963 01", frag);
    ck_assert_ptr_nonnull(memmem(p, len, frag, fl));
    evbuffer_free(b);

    /* An empty list. */
    b = evbuffer_new();
    ck_assert_int_eq(ed2k_servermet_write(b, NULL, 0, NULL), 0);
    ck_assert_uint_eq(evbuffer_get_length(b), 5);
    ed2k_server_entry_t *back = NULL;
    size_t n = 9;
    ck_assert_int_eq(ed2k_servermet_parse(evbuffer_pullup(b, -1), 5, &back, &n, NULL),
                     ED2K_SERVERMET_OK);
    ck_assert_uint_eq(n, 0);
    ed2k_server_entries_free(back, n);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_round_trip_every_field)
{
    ed2k_server_entry_t e[3];
    memset(e, 0, sizeof e);
    e[0] = (ed2k_server_entry_t){
        .ip = ip4(91, 200, 42, 1), .port = 4232, .dynip = "Srv-1.example.org",
        .name = "\xe6\x97\xa5\xe6\x9c\xac server", .description = "desc \xc3\xa9",
        .version = "17.15", .aux_ports = "4242, 4243", .aux_port = 4242,
        .users = 0xFFFFFFFFu, .files = 2, .max_users = 3, .soft_files = 4, .hard_files = 5,
        .lowid_users = 6, .ping_ms = 7, .fails = 8, .last_ping = 1700000000,
        .preference = ED2K_SERVER_PRIO_LOW, .udp_flags = 0x7FB, .tcp_flags = 0x519,
        .is_static = true, .obfu_tcp_port = 65535, .obfu_udp_port = 1, .udp_key = 0xDEADBEEF,
        .udp_key_ip = ip4(10, 0, 0, 1),
    };
    e[1] = (ed2k_server_entry_t){ .ip = ip4(91, 200, 42, 1), .port = 4233 };
    /* Same host name as e[0] on another port, and an aux port without a list. */
    e[2] = (ed2k_server_entry_t){ .dynip = "srv-1.example.org", .port = 4661, .aux_port = 80 };
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_servermet_write(b, e, 3, NULL), 0);
    ed2k_server_entry_t *back = NULL;
    size_t n = 0;
    ck_assert_int_eq(ed2k_servermet_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b), &back,
                                          &n, NULL),
                     ED2K_SERVERMET_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert(ed2k_server_entry_equal(&e[0], &back[0]));
    ck_assert(ed2k_server_entry_equal(&e[1], &back[1]));
    ck_assert_str_eq(back[2].aux_ports, "80");
    ck_assert_uint_eq(back[2].aux_port, 80);
    ck_assert(!ed2k_server_entry_equal(&e[2], &back[2]));
    back[2].aux_ports[0] = '\0'; /* "" and NULL are written alike */
    ck_assert_str_eq(back[2].dynip, "srv-1.example.org");
    ed2k_server_entries_free(back, n);
    evbuffer_free(b);
    /* Everything but the aux list compares equal after a second trip. */
    e[2].aux_ports = "80";
    evbuffer_free(round_trip(e, 3));
}
END_TEST

START_TEST(test_reader_tolerances)
{
    img_t m = { .n = 0 };
    put_u8(&m, 0x0E); /* the old header aMule still reads */
    put_u32(&m, 9);
    /* 1: compact tags, a Latin-1 name, an integer version, control
     * characters, a BOM and a stray U+FEFF, a preference out of range,
     * a 64-bit counter, unknown and mistyped tags. */
    put_entry_head(&m, ip4(1, 2, 3, 4), 4661, 10);
    put(&m, "\x96\x01" "Caf\xe9\x01\x7f", 8);                 /* STR6 name */
    put(&m, "\x89\x0e\x07", 3);                                /* UINT8 preference 7 */
    put(&m, "\x83\x91\x0f\x00\x11\x00", 6);                    /* UINT32 version 17.15 */
    put(&m, "\x82\x0b\x0c\x00\xef\xbb\xbf" "d\xef\xbb\xbfx\r\n\xc2\x85", 16); /* description */
    put(&m, "\x8b\x0c\x01\x00\x00\x00\x01\x00\x00\x00", 10);   /* UINT64 ping */
    put(&m, "\x83\x55\x01\x00\x00\x00", 6);                    /* unknown id */
    put(&m, "\x83\x01\x01\x00\x00\x00", 6);                    /* name as an integer */
    put(&m, "\x82\x92\x01\x00x", 5);                           /* UDP flags as a string */
    put(&m, "\x83\x86\x01\x00\x00\x00", 6);                    /* ST_LASTPING_DEPRECATED */
    tag_named_u32(&m, "color", 3);                             /* unknown name */
    /* 2: a repeat of 1 (dropped, whatever it says) */
    put_entry_head(&m, ip4(1, 2, 3, 4), 4661, 1);
    tag_str(&m, 0x01, "second");
    /* 3: port 0 (dropped) */
    put_entry_head(&m, ip4(5, 6, 7, 8), 0, 0);
    /* 4: no address (dropped) */
    put_entry_head(&m, 0, 4661, 1);
    tag_str(&m, 0x01, "nowhere");
    /* 5: a dynip that is no host name: dropped, so no address (dropped) */
    put_entry_head(&m, 0, 4661, 1);
    tag_str(&m, 0x85, "bad host!");
    /* 6: by name; the second dynip is ignored, as the second name */
    put_entry_head(&m, 0, 4661, 4);
    tag_str(&m, 0x85, "Ed2k.Example.net");
    tag_str(&m, 0x85, "other.example.net");
    tag_str(&m, 0x01, "first");
    tag_str(&m, 0x01, "second");
    /* 7: the same name in another case (dropped) */
    put_entry_head(&m, ip4(9, 9, 9, 9), 4661, 1);
    tag_str(&m, 0x85, "ed2k.example.NET");
    /* 8: a bad dynip next to an IP: the IP stays; empty strings are absent;
     * the last integer wins */
    put_entry_head(&m, ip4(9, 9, 9, 9), 4661, 6);
    tag_str(&m, 0x85, "a b");
    tag_str(&m, 0x01, "");
    tag_str(&m, 0x01, "\x01\x02");
    tag_u32(&m, 0x0D, 1);
    tag_u32(&m, 0x0D, 2);
    tag_str(&m, 0x93, "x,4242");
    /* 9: the same IP, another port */
    put_entry_head(&m, ip4(9, 9, 9, 9), 4662, 0);

    ed2k_server_entry_t *e = NULL;
    size_t n = 0;
    ck_assert_int_eq(parse(&m, &e, &n), ED2K_SERVERMET_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(e[0].ip, ip4(1, 2, 3, 4));
    ck_assert_str_eq(e[0].name, "Caf\xc3\xa9");
    ck_assert_uint_eq(e[0].preference, ED2K_SERVER_PRIO_NORMAL);
    ck_assert_str_eq(e[0].version, "17.15");
    ck_assert_str_eq(e[0].description, "dx");
    ck_assert_uint_eq(e[0].ping_ms, 1); /* 32 bits of 0x100000001 */
    ck_assert_uint_eq(e[0].udp_flags, 0);
    ck_assert_uint_eq(e[1].ip, 0);
    ck_assert_str_eq(e[1].dynip, "Ed2k.Example.net");
    ck_assert_str_eq(e[1].name, "first");
    ck_assert_uint_eq(e[2].ip, ip4(9, 9, 9, 9));
    ck_assert_ptr_null(e[2].dynip);
    ck_assert_ptr_null(e[2].name);
    ck_assert_uint_eq(e[2].fails, 2);
    ck_assert_str_eq(e[2].aux_ports, "x,4242");
    ck_assert_uint_eq(e[2].aux_port, 0);
    ck_assert_uint_eq(e[3].port, 4662);
    evbuffer_free(round_trip(e, n));
    ed2k_server_entries_free(e, n);
}
END_TEST

START_TEST(test_reader_errors)
{
    ed2k_server_entry_t *e = (ed2k_server_entry_t *)1;
    size_t n = 7;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_servermet_parse(NULL, 0, &e, &n, &err), ED2K_SERVERMET_ERROR);
    ck_assert_ptr_null(e);
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(err->message, "server.met: the file is empty");
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    uint8_t bad[5] = { 0xE1, 0, 0, 0, 0 };
    ck_assert_int_eq(ed2k_servermet_parse(bad, 5, &e, &n, &err), ED2K_SERVERMET_ERROR);
    ck_assert_str_eq(err->message,
                     "server.met: unknown version byte 0xe1 (expected 0xe0 or 0x0e)");
    mt_error_clear(&err);
    bad[0] = 0xE0;
    ck_assert_int_eq(ed2k_servermet_parse(bad, 4, &e, &n, &err), ED2K_SERVERMET_ERROR);
    ck_assert_str_eq(err->message, "server.met: the server count is cut short");
    mt_error_clear(&err);
    ck_assert_int_eq(ed2k_servermet_parse(bad, 5, &e, &n, &err), ED2K_SERVERMET_OK);
    ck_assert_uint_eq(n, 0);
    ed2k_server_entries_free(e, n);

    /* A count far beyond the file: the entries there are, then PARTIAL. */
    img_t m = { .n = 0 };
    put_u8(&m, 0xE0);
    put_u32(&m, 0xFFFFFFFFu);
    put_entry_head(&m, ip4(1, 2, 3, 4), 4661, 0);
    ck_assert_int_eq(ed2k_servermet_parse(m.b, m.n, &e, &n, &err), ED2K_SERVERMET_PARTIAL);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(err->message, "server.met: server 2 of 4294967295 is cut short");
    mt_error_clear(&err);
    ed2k_server_entries_free(e, n);

    /* An unknown tag type in the second entry: the first one is kept. */
    m.n = 0;
    put_u8(&m, 0xE0);
    put_u32(&m, 3);
    put_entry_head(&m, ip4(1, 2, 3, 4), 4661, 0);
    put_entry_head(&m, ip4(1, 2, 3, 5), 4661, 1);
    put(&m, "\x21\x01\x00\x01xxxxxxxxxxxxxxxx", 20);
    put_entry_head(&m, ip4(1, 2, 3, 6), 4661, 0);
    ck_assert_int_eq(ed2k_servermet_parse(m.b, m.n, &e, &n, &err), ED2K_SERVERMET_PARTIAL);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(err->message, "server.met: server 2 of 3: tag 0: unknown tag type 0x21");
    mt_error_clear(&err);
    ed2k_server_entries_free(e, n);

    /* The same in the first entry: nothing. */
    m.n = 0;
    put_u8(&m, 0xE0);
    put_u32(&m, 1);
    put_entry_head(&m, ip4(1, 2, 3, 5), 4661, 2);
    tag_str(&m, 0x01, "x");
    ck_assert_int_eq(ed2k_servermet_parse(m.b, m.n, &e, &n, &err), ED2K_SERVERMET_ERROR);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(err->message, "server 1 of 1"));
    mt_error_clear(&err);

    /* Too many tags for the reader's cap. */
    m.n = 0;
    put_u8(&m, 0xE0);
    put_u32(&m, 1);
    put_entry_head(&m, ip4(1, 2, 3, 5), 4661, 2000);
    ck_assert_int_eq(ed2k_servermet_parse(m.b, m.n, &e, &n, &err), ED2K_SERVERMET_ERROR);
    mt_error_clear(&err);
}
END_TEST

START_TEST(test_many)
{
    /* 40000 entries over 10000 addresses (IPs and host names): the first
     * of each kept, in order. */
    size_t total = 40000, uniq = 10000;
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u8(b, 0xE0);
    ed2k_write_u32(b, (uint32_t)total);
    for (size_t i = 0; i < total; i++) {
        size_t u = i % uniq;
        if (u % 2 == 0) {
            ed2k_write_u32(b, ip4(10, (unsigned)(u >> 8), (unsigned)(u & 0xFF), 1));
            ed2k_write_u16(b, 4661);
            ed2k_write_u32(b, 0);
        } else {
            char host[32];
            snprintf(host, sizeof host, i < uniq ? "h%zu.example" : "H%zu.EXAMPLE", u);
            ed2k_write_u32(b, 0);
            ed2k_write_u16(b, 4661);
            ed2k_write_u32(b, 1);
            ed2k_write_u8(b, 0x02);
            ed2k_write_u16(b, 1);
            ed2k_write_u8(b, 0x85);
            ed2k_write_string16(b, host, strlen(host), NULL);
        }
    }
    ed2k_server_entry_t *e = NULL;
    size_t n = 0;
    ck_assert_int_eq(ed2k_servermet_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b), &e, &n,
                                          NULL),
                     ED2K_SERVERMET_OK);
    ck_assert_uint_eq(n, uniq);
    for (size_t u = 0; u < uniq; u++) {
        if (u % 2 == 0) {
            ck_assert_uint_eq(e[u].ip, ip4(10, (unsigned)(u >> 8), (unsigned)(u & 0xFF), 1));
        } else {
            char host[32];
            snprintf(host, sizeof host, "h%zu.example", u);
            ck_assert_str_eq(e[u].dynip, host);
        }
    }
    evbuffer_free(b);
    evbuffer_free(round_trip(e, n));
    ed2k_server_entries_free(e, n);
}
END_TEST

static void
write_fails(const ed2k_server_entry_t *e, size_t n, const char *needle)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, "x", 1);
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_servermet_write(b, e, n, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err->message, needle) != NULL, "\"%s\" lacks \"%s\"", err->message,
                  needle);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    ck_assert_uint_eq(evbuffer_get_length(b), 1); /* nothing appended */
    mt_error_free(err);
    evbuffer_free(b);
}

START_TEST(test_writer_refuses)
{
    ed2k_server_entry_t e[2];
    memset(e, 0, sizeof e);
    e[0].ip = ip4(1, 2, 3, 4);
    e[0].port = 4661;
    e[1] = e[0];
    e[1].port = 0;
    write_fails(e, 2, "server.met: server 2: port 0");
    e[1].port = 4661;
    write_fails(e, 2, "server 2: the same address as an earlier one");
    e[1].ip = 0;
    write_fails(e, 2, "server 2: neither an IP nor a host name");
    e[1].dynip = "";
    write_fails(e, 2, "neither an IP nor a host name");
    e[1].dynip = "a b";
    write_fails(e, 2, "server 2: dynip \"a b\" is not a host name");
    e[0].ip = 0;
    e[0].dynip = "Host.example";
    e[1].dynip = "host.EXAMPLE";
    write_fails(e, 2, "the same address");
    e[1].dynip = "other.example";
    e[1].preference = 3;
    write_fails(e, 2, "server 2: preference 3 is not 0, 1 or 2");
    e[1].preference = 0;
    e[1].name = "a\tb";
    write_fails(e, 2, "server 2: name contains a control character");
    e[1].name = "a\xc2\x85" "b";
    write_fails(e, 2, "name contains a control character");
    e[1].name = "\xef\xbb\xbf" "b";
    write_fails(e, 2, "name contains a control character");
    e[1].name = "caf\xe9";
    write_fails(e, 2, "server 2: name is not valid UTF-8");
    e[1].name = NULL;
    char *long_desc = xmalloc(ED2K_SERVER_TEXT_MAX + 2);
    memset(long_desc, 'a', ED2K_SERVER_TEXT_MAX + 1);
    long_desc[ED2K_SERVER_TEXT_MAX + 1] = '\0';
    e[1].description = long_desc;
    write_fails(e, 2, "server 2: description is too long");
    long_desc[ED2K_SERVER_TEXT_MAX] = '\0';
    evbuffer_free(round_trip(e, 2));
    e[1].description = NULL;
    free(long_desc);
    e[1].aux_ports = "4242,4243";
    e[1].aux_port = 4243;
    write_fails(e, 2, "server 2: aux_port 4243 is not the first of \"4242,4243\"");
    e[1].aux_port = 4242;
    evbuffer_free(round_trip(e, 2));
}
END_TEST

START_TEST(test_text)
{
    char *s = ed2k_server_text("\xef\xbb\xbf" "a\x01" "b\x7f" "c", 8);
    ck_assert_str_eq(s, "abc");
    free(s);
    ck_assert_ptr_null(ed2k_server_text("\r\n", 2));
    ck_assert_ptr_null(ed2k_server_text("", 0));
    s = ed2k_server_text("\xe9t\xe9", 3); /* Latin-1 */
    ck_assert_str_eq(s, "\xc3\xa9t\xc3\xa9");
    free(s);
    /* Latin-1 doubles: the result is cut to ED2K_SERVER_TEXT_MAX bytes
     * between two characters. */
    uint8_t *big = xmalloc(65535);
    memset(big, 0xE9, 65535);
    s = ed2k_server_text(big, 65535);
    ck_assert_uint_eq(strlen(s), ED2K_SERVER_TEXT_MAX);
    free(s);
    big[0] = 'a';
    s = ed2k_server_text(big, 65535);
    ck_assert_uint_eq(strlen(s), ED2K_SERVER_TEXT_MAX - 1);
    free(s);
    free(big);
    s = ed2k_server_version_text(17 << 16 | 5);
    ck_assert_str_eq(s, "17.5"); /* aMule; eMule would show 17.05 */
    free(s);
}
END_TEST

START_TEST(test_from_link)
{
    ed2k_link_t *l = NULL;
    ed2k_server_entry_t e;
    ck_assert_int_eq(ed2k_link_parse("ed2k://|server|176.103.48.36|4184|/", &l, NULL), 0);
    ck_assert_int_eq(ed2k_server_entry_from_link(l, &e, NULL), 0);
    ck_assert_uint_eq(e.ip, ip4(176, 103, 48, 36));
    ck_assert_uint_eq(e.port, 4184);
    ck_assert_ptr_null(e.dynip);
    ed2k_server_entry_clear(&e);
    ed2k_link_free(l);
    ck_assert_int_eq(ed2k_link_parse("ed2k://|server|ed2k.example.net|4661|/", &l, NULL), 0);
    ck_assert_int_eq(ed2k_server_entry_from_link(l, &e, NULL), 0);
    ck_assert_uint_eq(e.ip, 0);
    ck_assert_str_eq(e.dynip, "ed2k.example.net");
    evbuffer_free(round_trip(&e, 1));
    ed2k_server_entry_clear(&e);
    ck_assert_ptr_null(e.dynip);
    ed2k_link_free(l);
    ck_assert_int_eq(ed2k_link_parse("ed2k://|serverlist|http://x.example/s.met|/", &l, NULL), 0);
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_server_entry_from_link(l, &e, &err), -1);
    ck_assert_str_eq(err->message, "not a server link");
    mt_error_free(err);
    ed2k_link_free(l);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_servermet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_amuled_file);
    tcase_add_test(tc, test_writer_bytes);
    tcase_add_test(tc, test_round_trip_every_field);
    tcase_add_test(tc, test_reader_tolerances);
    tcase_add_test(tc, test_reader_errors);
    tcase_add_test(tc, test_many);
    tcase_add_test(tc, test_writer_refuses);
    tcase_add_test(tc, test_text);
    tcase_add_test(tc, test_from_link);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
