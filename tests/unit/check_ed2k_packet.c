/* check_ed2k_packet.c: unit tests for lib/ed2k/packet: TCP framing from
 * memory and evbuffers, limits, zlib packing, UDP framing, reader/writers. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ed2k/packet.h"
#include "util/error.h"
#include "util/xalloc.h"

/* §11.4: OP_HELLOANSWER from amuled 2.3.3 (105 bytes). */
static const uint8_t helloanswer[] = {
    0xe3, 0x64, 0x00, 0x00, 0x00, 0x4c, 0xb0, 0xbf, 0x77, 0x08, 0xd0, 0x0e, 0x61, 0xcb, 0x38, 0x74,
    0x61, 0x7a, 0x2e, 0xa0, 0x6f, 0x18, 0x00, 0x00, 0x00, 0x00, 0x66, 0x87, 0x07, 0x00, 0x00, 0x00,
    0x02, 0x01, 0x00, 0x01, 0x0d, 0x00, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x72, 0x65, 0x66, 0x2d, 0x74,
    0x65, 0x73, 0x74, 0x03, 0x01, 0x00, 0x11, 0x3c, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0xf9, 0x70,
    0x87, 0x00, 0x00, 0x03, 0x01, 0x00, 0xfb, 0x80, 0x0d, 0x04, 0x03, 0x03, 0x01, 0x00, 0xfa, 0x16,
    0x32, 0x13, 0x34, 0x03, 0x01, 0x00, 0xfe, 0xb8, 0x05, 0x00, 0x00, 0x03, 0x01, 0x00, 0xef, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static uint8_t *
text_payload(size_t n, unsigned seed)
{
    /* Compressible but not absurdly so: letters from a 4-symbol alphabet. */
    uint8_t *p = xmalloc(n);
    unsigned x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)("acgt"[(x >> 16) & 3]);
    }
    return p;
}

START_TEST(test_decode_helloanswer)
{
    ed2k_packet_t *p = NULL;
    size_t used = 0;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_packet_decode(helloanswer, sizeof helloanswer, 0, &p, &used, &err),
                     ED2K_FRAME_OK);
    ck_assert_uint_eq(used, sizeof helloanswer);
    ck_assert_uint_eq(p->proto, ED2K_PROTO_EDONKEY);
    ck_assert_uint_eq(p->opcode, 0x4c);
    ck_assert_uint_eq(p->len, 0x64 - 1);
    ck_assert(memcmp(p->payload, helloanswer + 6, p->len) == 0);
    ed2k_packet_free(p);
    ed2k_packet_free(NULL);

    /* Every proper prefix needs more, and an extra byte is left over. */
    for (size_t n = 0; n < sizeof helloanswer; n++) {
        p = NULL;
        ck_assert_int_eq(ed2k_packet_decode(helloanswer, n, 0, &p, &used, &err),
                         ED2K_FRAME_NEED_MORE);
        ck_assert_ptr_null(p);
        ck_assert_ptr_null(err);
    }
    uint8_t two[sizeof helloanswer + 1];
    memcpy(two, helloanswer, sizeof helloanswer);
    two[sizeof helloanswer] = 0xc5;
    ck_assert_int_eq(ed2k_packet_decode(two, sizeof two, 0, &p, &used, &err), ED2K_FRAME_OK);
    ck_assert_uint_eq(used, sizeof helloanswer);
    ed2k_packet_free(p);
}
END_TEST

static void
decode_fails(const uint8_t *data, size_t len, size_t max, int code, const char *needle)
{
    ed2k_packet_t *p = NULL;
    size_t used = 0;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_packet_decode(data, len, max, &p, &used, &err), ED2K_FRAME_ERROR);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->code, code);
    ck_assert_msg(strstr(err->message, needle) != NULL, "\"%s\" lacks \"%s\"", err->message,
                  needle);
    mt_error_free(err);

    /* The evbuffer decoder agrees and leaves the buffer alone. */
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, data, len);
    err = NULL;
    ck_assert_int_eq(ed2k_packet_decode_evbuffer(b, max, &p, &err), ED2K_FRAME_ERROR);
    ck_assert_int_eq(err->code, code);
    ck_assert_uint_eq(evbuffer_get_length(b), len);
    mt_error_free(err);
    evbuffer_free(b);
}

START_TEST(test_decode_errors)
{
    /* A bad protocol byte is an error from the first byte on. */
    decode_fails((const uint8_t *)"\x00", 1, 0, MT_ERR_PROTOCOL, "unknown protocol byte 0x00");
    decode_fails((const uint8_t *)"\xe4\x01\x00\x00\x00\x01", 6, 0, MT_ERR_PROTOCOL,
                 "unknown protocol byte 0xe4");
    decode_fails((const uint8_t *)"\xe3\x00\x00\x00\x00", 5, 0, MT_ERR_PROTOCOL,
                 "packet length 0");
    /* Payload 2,000,001 > 2,000,000, seen from the header alone. */
    decode_fails((const uint8_t *)"\xd4\x82\x84\x1e\x00", 5, 0, MT_ERR_TOO_LARGE,
                 "payload of 2000001 bytes exceeds the limit of 2000000");
    decode_fails((const uint8_t *)"\xc5\xff\xff\xff\xff", 5, 0, MT_ERR_TOO_LARGE, "exceeds");
    decode_fails((const uint8_t *)"\xe3\x0c\x00\x00\x00\x01", 6, 10, MT_ERR_TOO_LARGE,
                 "payload of 11 bytes exceeds the limit of 10");

    /* Exactly at the limit is fine (and needs more data here). */
    ed2k_packet_t *p = NULL;
    size_t used;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_packet_decode((const uint8_t *)"\xe3\x81\x84\x1e\x00\x01", 6, 0, &p,
                                        &used, &err),
                     ED2K_FRAME_NEED_MORE);
    ck_assert_int_eq(ed2k_packet_decode((const uint8_t *)"\xe3\x0b\x00\x00\x00\x01", 6, 10, &p,
                                        &used, &err),
                     ED2K_FRAME_NEED_MORE);
    ck_assert_ptr_null(err);
    /* An opcode with no payload. */
    ck_assert_int_eq(ed2k_packet_decode((const uint8_t *)"\xe3\x01\x00\x00\x00\x14", 6, 0, &p,
                                        &used, &err),
                     ED2K_FRAME_OK);
    ck_assert_uint_eq(p->len, 0);
    ck_assert_uint_eq(p->opcode, 0x14);
    ck_assert_ptr_nonnull(p->payload);
    ed2k_packet_free(p);
}
END_TEST

START_TEST(test_evbuffer_stream)
{
    struct evbuffer *wire = evbuffer_new();
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_packet_append(wire, ED2K_PROTO_EDONKEY, 0x01, "abcd", 4, &err), 0);
    ck_assert_int_eq(ed2k_packet_append(wire, ED2K_PROTO_EMULE, 0x60, NULL, 0, &err), 0);
    struct evbuffer *payload = evbuffer_new();
    ed2k_write_u32(payload, 0x01020304);
    ed2k_write_u8(payload, 9);
    ck_assert_int_eq(ed2k_packet_append_evbuffer(wire, ED2K_PROTO_EMULE, 0x61, payload, &err), 0);
    ck_assert_uint_eq(evbuffer_get_length(payload), 0);
    evbuffer_free(payload);
    ck_assert_ptr_null(err);

    static const uint8_t expect[] = {
        0xe3, 0x05, 0x00, 0x00, 0x00, 0x01, 'a', 'b', 'c', 'd',
        0xc5, 0x01, 0x00, 0x00, 0x00, 0x60,
        0xc5, 0x06, 0x00, 0x00, 0x00, 0x61, 0x04, 0x03, 0x02, 0x01, 0x09,
    };
    size_t total = evbuffer_get_length(wire);
    ck_assert_uint_eq(total, sizeof expect);
    uint8_t *flat = evbuffer_pullup(wire, -1);
    ck_assert(memcmp(flat, expect, sizeof expect) == 0);

    /* Fed one byte at a time, the decoder yields the three packets. */
    struct evbuffer *in = evbuffer_new();
    ed2k_packet_t *got[3] = { NULL, NULL, NULL };
    size_t ngot = 0;
    for (size_t i = 0; i < total; i++) {
        evbuffer_add(in, flat + i, 1);
        ed2k_packet_t *p = NULL;
        ed2k_frame_status_t st;
        while ((st = ed2k_packet_decode_evbuffer(in, 0, &p, &err)) == ED2K_FRAME_OK) {
            ck_assert_uint_lt(ngot, 3);
            got[ngot++] = p;
        }
        ck_assert_int_eq(st, ED2K_FRAME_NEED_MORE);
    }
    ck_assert_uint_eq(ngot, 3);
    ck_assert_uint_eq(evbuffer_get_length(in), 0);
    ck_assert_uint_eq(got[0]->opcode, 0x01);
    ck_assert_uint_eq(got[0]->len, 4);
    ck_assert(memcmp(got[0]->payload, "abcd", 4) == 0);
    ck_assert_uint_eq(got[1]->proto, 0xc5);
    ck_assert_uint_eq(got[1]->len, 0);
    ck_assert_uint_eq(got[2]->len, 5);
    ed2k_reader_t r;
    ed2k_reader_init(&r, got[2]->payload, got[2]->len);
    uint32_t v32;
    ck_assert_int_eq(ed2k_read_u32(&r, &v32), 0);
    ck_assert_uint_eq(v32, 0x01020304);

    /* Re-encoding a decoded packet gives the same bytes. */
    struct evbuffer *again = evbuffer_new();
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(ed2k_packet_write(again, got[i], &err), 0);
        ed2k_packet_free(got[i]);
    }
    ck_assert_uint_eq(evbuffer_get_length(again), total);
    ck_assert(memcmp(evbuffer_pullup(again, -1), expect, total) == 0);

    /* Two packets and half of a third in one go. */
    evbuffer_add(in, expect, sizeof expect - 3);
    ed2k_packet_t *p = NULL;
    ck_assert_int_eq(ed2k_packet_decode_evbuffer(in, 0, &p, &err), ED2K_FRAME_OK);
    ed2k_packet_free(p);
    ck_assert_int_eq(ed2k_packet_decode_evbuffer(in, 0, &p, &err), ED2K_FRAME_OK);
    ed2k_packet_free(p);
    ck_assert_int_eq(ed2k_packet_decode_evbuffer(in, 0, &p, &err), ED2K_FRAME_NEED_MORE);
    ck_assert_uint_eq(evbuffer_get_length(in), 11 - 3);

    evbuffer_free(again);
    evbuffer_free(in);
    evbuffer_free(wire);
}
END_TEST

START_TEST(test_pack_unpack)
{
    uint8_t *text = text_payload(3000, 1);
    ed2k_packet_t *p = ed2k_packet_new(ED2K_PROTO_EMULE, 0x46, text, 3000);
    ck_assert(ed2k_packet_pack(p, ED2K_INFLATE_LIMIT_PEER));
    ck_assert_uint_eq(p->proto, ED2K_PROTO_PACKED);
    ck_assert_uint_lt(p->len, 3000);
    ck_assert_uint_eq(p->payload[0], 0x78); /* a zlib header (RFC 1950) */

    /* Over the wire and back. */
    struct evbuffer *b = evbuffer_new();
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_packet_write(b, p, &err), 0);
    ed2k_packet_free(p);
    p = NULL;
    ck_assert_int_eq(ed2k_packet_decode_evbuffer(b, 0, &p, &err), ED2K_FRAME_OK);
    ck_assert_uint_eq(p->proto, ED2K_PROTO_PACKED);
    ck_assert_uint_eq(p->opcode, 0x46);
    ck_assert_int_eq(ed2k_packet_unpack(p, ED2K_INFLATE_LIMIT_PEER, &err), 0);
    ck_assert_uint_eq(p->proto, ED2K_PROTO_EMULE); /* peer packets become 0xC5 */
    ck_assert_uint_eq(p->len, 3000);
    ck_assert(memcmp(p->payload, text, 3000) == 0);
    /* Unpacking an unpacked packet is a no-op. */
    ck_assert_int_eq(ed2k_packet_unpack(p, ED2K_INFLATE_LIMIT_PEER, &err), 0);
    ck_assert_uint_eq(p->len, 3000);
    ed2k_packet_free(p);
    evbuffer_free(b);
    free(text);

    /* Kad: E4 packs to E5 and back. */
    text = text_payload(800, 2);
    p = ed2k_packet_new(ED2K_PROTO_KAD, 0x3b, text, 800);
    ck_assert(ed2k_packet_pack(p, 50000));
    ck_assert_uint_eq(p->proto, ED2K_PROTO_KAD_PACKED);
    ck_assert_int_eq(ed2k_packet_unpack(p, 50000, &err), 0);
    ck_assert_uint_eq(p->proto, ED2K_PROTO_KAD);
    ck_assert(p->len == 800 && memcmp(p->payload, text, 800) == 0);
    ed2k_packet_free(p);
    free(text);
}
END_TEST

START_TEST(test_pack_declines)
{
    /* Incompressible data stays as it is. */
    uint8_t rnd[200];
    unsigned x = 7;
    for (size_t i = 0; i < sizeof rnd; i++) {
        x = x * 1103515245u + 12345u;
        rnd[i] = (uint8_t)(x >> 16);
    }
    ed2k_packet_t *p = ed2k_packet_new(ED2K_PROTO_EMULE, 1, rnd, sizeof rnd);
    ck_assert(!ed2k_packet_pack(p, ED2K_INFLATE_LIMIT_PEER));
    ck_assert_uint_eq(p->proto, ED2K_PROTO_EMULE);
    ck_assert(p->len == sizeof rnd && memcmp(p->payload, rnd, sizeof rnd) == 0);
    ed2k_packet_free(p);
    /* Empty payloads, already packed packets. */
    p = ed2k_packet_new(ED2K_PROTO_EMULE, 1, NULL, 0);
    ck_assert(!ed2k_packet_pack(p, ED2K_INFLATE_LIMIT_PEER));
    ed2k_packet_free(p);
    uint8_t *text = text_payload(60000, 3);
    p = ed2k_packet_new(ED2K_PROTO_PACKED, 1, text, 3000);
    ck_assert(!ed2k_packet_pack(p, ED2K_INFLATE_LIMIT_PEER));
    ck_assert_uint_eq(p->len, 3000);
    ed2k_packet_free(p);
    /* More than the receiver may inflate. */
    p = ed2k_packet_new(ED2K_PROTO_EMULE, 1, text, 60000);
    ck_assert(!ed2k_packet_pack(p, ED2K_INFLATE_LIMIT_PEER));
    ck_assert(ed2k_packet_pack(p, ED2K_INFLATE_LIMIT_SERVER));
    ed2k_packet_free(p);
    free(text);
    /* Ratio beyond aMule's compressed * 10 + 300 inflate buffer. */
    uint8_t *zeros = xcalloc(1, 20000);
    p = ed2k_packet_new(ED2K_PROTO_EMULE, 1, zeros, 20000);
    ck_assert(!ed2k_packet_pack(p, ED2K_INFLATE_LIMIT_PEER));
    ck_assert_uint_eq(p->len, 20000);
    ed2k_packet_free(p);
    free(zeros);
}
END_TEST

static ed2k_packet_t *
packed_packet(const uint8_t *data, size_t n)
{
    uLongf clen = compressBound(n);
    uint8_t *c = xmalloc(clen);
    ck_assert_int_eq(compress2(c, &clen, data, n, 9), Z_OK);
    ed2k_packet_t *p = ed2k_packet_new(ED2K_PROTO_PACKED, 0x15, c, clen);
    free(c);
    return p;
}

START_TEST(test_unpack_limits)
{
    uint8_t *text = text_payload(60000, 4);
    mt_error_t *err = NULL;
    /* 60,000 bytes: too much for a peer packet, fine from a server. */
    ed2k_packet_t *p = packed_packet(text, 60000);
    size_t packed_len = p->len;
    ck_assert_int_eq(ed2k_packet_unpack(p, ED2K_INFLATE_LIMIT_PEER, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(err->message, "50000"));
    mt_error_clear(&err);
    ck_assert_uint_eq(p->proto, ED2K_PROTO_PACKED); /* untouched */
    ck_assert_uint_eq(p->len, packed_len);
    ck_assert_int_eq(ed2k_packet_unpack(p, ED2K_INFLATE_LIMIT_SERVER, &err), 0);
    ck_assert_uint_eq(p->len, 60000);
    ck_assert(memcmp(p->payload, text, 60000) == 0);
    ed2k_packet_free(p);
    /* Exactly the limit. */
    p = packed_packet(text, 50000);
    ck_assert_int_eq(ed2k_packet_unpack(p, 50000, &err), 0);
    ck_assert_uint_eq(p->len, 50000);
    ed2k_packet_free(p);
    p = packed_packet(text, 50001);
    ck_assert_int_eq(ed2k_packet_unpack(p, 50000, &err), -1);
    mt_error_clear(&err);
    ed2k_packet_free(p);
    /* Truncated and corrupt streams. */
    p = packed_packet(text, 1000);
    p->len /= 2;
    ck_assert_int_eq(ed2k_packet_unpack(p, 50000, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    ck_assert_ptr_nonnull(strstr(err->message, "truncated"));
    mt_error_clear(&err);
    ed2k_packet_free(p);
    p = ed2k_packet_new(ED2K_PROTO_PACKED, 1, "not zlib at all", 15);
    ck_assert_int_eq(ed2k_packet_unpack(p, 50000, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    ck_assert_ptr_nonnull(strstr(err->message, "invalid zlib data"));
    mt_error_clear(&err);
    ed2k_packet_free(p);
    p = ed2k_packet_new(ED2K_PROTO_PACKED, 1, NULL, 0);
    ck_assert_int_eq(ed2k_packet_unpack(p, 50000, &err), -1);
    mt_error_clear(&err);
    ed2k_packet_free(p);
    /* A 1 MiB zlib bomb stops at the limit. */
    uint8_t *zeros = xcalloc(1, 1 << 20);
    p = packed_packet(zeros, 1 << 20);
    ck_assert_int_eq(ed2k_packet_unpack(p, ED2K_INFLATE_LIMIT_SERVER, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    mt_error_clear(&err);
    ed2k_packet_free(p);
    free(zeros);
    free(text);
}
END_TEST

START_TEST(test_udp)
{
    /* §11.4: the decrypted KADEMLIA2_HELLO_RES. */
    static const uint8_t hello_res[] = {
        0xe4, 0x19, 0xb2, 0x8b, 0x86, 0x3c, 0x66, 0xa4, 0x8f, 0x0e, 0x9b, 0xb5, 0x1a, 0x8d,
        0x20, 0x8f, 0xad, 0x66, 0x87, 0x08, 0x01, 0x09, 0x01, 0x00, 0xf2, 0x02,
    };
    ed2k_packet_t *p = NULL;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_udp_decode(hello_res, sizeof hello_res, &p, &err), 0);
    ck_assert_uint_eq(p->proto, ED2K_PROTO_KAD);
    ck_assert_uint_eq(p->opcode, 0x19);
    ck_assert_uint_eq(p->len, sizeof hello_res - 2);
    struct evbuffer *b = evbuffer_new();
    ed2k_udp_append(b, p->proto, p->opcode, p->payload, p->len);
    ck_assert_uint_eq(evbuffer_get_length(b), sizeof hello_res);
    ck_assert(memcmp(evbuffer_pullup(b, -1), hello_res, sizeof hello_res) == 0);
    evbuffer_free(b);
    ed2k_packet_free(p);

    ck_assert_int_eq(ed2k_udp_decode((const uint8_t *)"\xc5\x90", 2, &p, &err), 0);
    ck_assert_uint_eq(p->len, 0);
    ed2k_packet_free(p);
    p = NULL;
    ck_assert_int_eq(ed2k_udp_decode((const uint8_t *)"\xe3", 1, &p, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "too short"));
    mt_error_clear(&err);
    ck_assert_int_eq(ed2k_udp_decode((const uint8_t *)"\xd4\x01\x02", 3, &p, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
    ck_assert_ptr_nonnull(strstr(err->message, "unknown UDP protocol byte 0xd4"));
    mt_error_clear(&err);
    ck_assert_ptr_null(p);
}
END_TEST

START_TEST(test_reader)
{
    static const uint8_t data[] = {
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
        0x00, 0x00, 0xc0, 0x3f, /* float 1.5 */
        0x03, 0x00, 'a', 'b', 'c', 0x05, 0x00, 'x',
    };
    ed2k_reader_t r;
    ed2k_reader_init(&r, data, sizeof data);
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    float f;
    ck_assert_int_eq(ed2k_read_u8(&r, &u8), 0);
    ck_assert_uint_eq(u8, 1);
    ck_assert_int_eq(ed2k_read_u16(&r, &u16), 0);
    ck_assert_uint_eq(u16, 0x0302);
    ck_assert_int_eq(ed2k_read_u32(&r, &u32), 0);
    ck_assert_uint_eq(u32, 0x07060504);
    ck_assert_int_eq(ed2k_read_u64(&r, &u64), 0);
    ck_assert(u64 == 0x0f0e0d0c0b0a0908ULL);
    ck_assert_int_eq(ed2k_read_float(&r, &f), 0);
    ck_assert(f == 1.5f);
    const uint8_t *s;
    size_t n;
    ck_assert_int_eq(ed2k_read_string16(&r, &s, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert(memcmp(s, "abc", 3) == 0);
    /* A string longer than what is left fails and does not move. */
    size_t left = ed2k_reader_remaining(&r);
    ck_assert_uint_eq(left, 3);
    ck_assert_int_eq(ed2k_read_string16(&r, &s, &n), -1);
    ck_assert_uint_eq(ed2k_reader_remaining(&r), left);
    ck_assert_int_eq(ed2k_read_u32(&r, &u32), -1);
    ck_assert_int_eq(ed2k_read_u64(&r, &u64), -1);
    ck_assert_int_eq(ed2k_read_float(&r, &f), -1);
    uint8_t h[16];
    ck_assert_int_eq(ed2k_read_hash16(&r, h), -1);
    ck_assert_int_eq(ed2k_read_skip(&r, 4), -1);
    ck_assert_int_eq(ed2k_read_skip(&r, SIZE_MAX), -1);
    ck_assert_uint_eq(ed2k_reader_remaining(&r), left);
    ck_assert_int_eq(ed2k_read_u16(&r, &u16), 0);
    ck_assert_uint_eq(u16, 5);
    ck_assert_int_eq(ed2k_read_u16(&r, &u16), -1);
    ck_assert_int_eq(ed2k_read_bytes(&r, h, 1), 0);
    ck_assert_uint_eq(h[0], 'x');
    ck_assert_uint_eq(ed2k_reader_remaining(&r), 0);
    ck_assert_int_eq(ed2k_read_u8(&r, &u8), -1);
    ck_assert_int_eq(ed2k_read_bytes(&r, h, 0), 0);
    /* An empty reader. */
    ed2k_reader_init(&r, NULL, 0);
    ck_assert_int_eq(ed2k_read_u8(&r, &u8), -1);
}
END_TEST

START_TEST(test_writers)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u8(b, 0x01);
    ed2k_write_u16(b, 0x0302);
    ed2k_write_u32(b, 0x07060504);
    ed2k_write_u64(b, 0x0f0e0d0c0b0a0908ULL);
    ed2k_write_float(b, 1.5f);
    uint8_t h[16];
    memset(h, 0xee, sizeof h);
    ed2k_write_hash16(b, h);
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_write_string16(b, "abc", 3, &err), 0);
    ed2k_write_bytes(b, "z", 1);
    static const uint8_t expect[] = {
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
        0x00, 0x00, 0xc0, 0x3f,
        0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee,
        0x03, 0x00, 'a', 'b', 'c', 'z',
    };
    ck_assert_uint_eq(evbuffer_get_length(b), sizeof expect);
    ck_assert(memcmp(evbuffer_pullup(b, -1), expect, sizeof expect) == 0);
    char *big = xcalloc(1, 65536);
    ck_assert_int_eq(ed2k_write_string16(b, big, 65536, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    mt_error_clear(&err);
    ck_assert_uint_eq(evbuffer_get_length(b), sizeof expect); /* nothing written */
    ck_assert_int_eq(ed2k_write_string16(b, big, 65535, &err), 0);
    ck_assert_uint_eq(evbuffer_get_length(b), sizeof expect + 2 + 65535);
    free(big);
    evbuffer_free(b);
}
END_TEST

static Suite *
packet_suite(void)
{
    Suite *s = suite_create("ed2k_packet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_decode_helloanswer);
    tcase_add_test(tc, test_decode_errors);
    tcase_add_test(tc, test_evbuffer_stream);
    tcase_add_test(tc, test_pack_unpack);
    tcase_add_test(tc, test_pack_declines);
    tcase_add_test(tc, test_unpack_limits);
    tcase_add_test(tc, test_udp);
    tcase_add_test(tc, test_reader);
    tcase_add_test(tc, test_writers);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(packet_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
