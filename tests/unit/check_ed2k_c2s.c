/* check_ed2k_c2s.c: unit tests for lib/ed2k/c2s.c, the client side of the
 * client-to-server protocol, with the live login dump of
 * ed2k-protocol.md §3.1 and the offer entry of §3.4, and the server UDP
 * codecs of §4 as aMule builds and reads them. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/c2s.h"
#include "ed2k/packet.h"

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

START_TEST(test_login_live)
{
    /* aMule 2.3.3's login (§3.1) */
    uint8_t want[128];
    size_t wlen = unhex("e3 46 00 00 00 01 b0 bf 77 08 d0 0e 61 cb 38 74 61 7a 2e a0 6f 18 00 00 00 "
                        "00 66 87 04 00 00 00 02 01 00 01 0d 00 70 72 6f 74 6f 72 65 66 2d 74 65 73 "
                        "74 03 01 00 11 3c 00 00 00 03 01 00 20 1d 07 00 00 03 01 00 fb 80 0d 04 03",
                        want);
    uint8_t hash[16];
    unhex("b0bf7708d00e61cb3874617a2ea06f18", hash);
    struct evbuffer *out = evbuffer_new();
    ck_assert_int_eq(ed2k_login_encode(out, hash, 0, 34662, "protoref-test", 0x71D, 0x03040D80,
                                       NULL),
                     0);
    ck_assert_uint_eq(evbuffer_get_length(out), wlen);
    ck_assert_mem_eq(evbuffer_pullup(out, -1), want, wlen);
    evbuffer_free(out);
}
END_TEST

START_TEST(test_idchange)
{
    ed2k_idchange_t id;
    mt_error_t *err = NULL;
    uint8_t p[20] = { 0x7f, 0, 0, 1, 0x19, 0x01, 0, 0 };
    ck_assert_int_eq(ed2k_idchange_decode(p, 4, &id, &err), 0);
    ck_assert_uint_eq(id.id, 0x0100007f);
    ck_assert(!id.has_flags);
    ck_assert_int_eq(ed2k_idchange_decode(p, 8, &id, &err), 0);
    ck_assert(id.has_flags);
    ck_assert_uint_eq(id.flags, 0x119);
    ck_assert(!id.has_aux_port);
    ck_assert_int_eq(ed2k_idchange_decode(p, 3, &id, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "OP_IDCHANGE"));
    mt_error_clear(&err);
    /* round trip with every optional field */
    ed2k_idchange_t full = { 1234, true, 0x109, true, 4665, true, 0x0100007f, 4667 };
    struct evbuffer *b = evbuffer_new();
    ed2k_idchange_encode(b, &full);
    ed2k_packet_t *pkt = NULL;
    ck_assert_int_eq(ed2k_packet_decode_evbuffer(b, 0, &pkt, NULL), ED2K_FRAME_OK);
    ck_assert_int_eq(pkt->opcode, ED2K_SOP_IDCHANGE);
    ck_assert_int_eq(ed2k_idchange_decode(pkt->payload, pkt->len, &id, NULL), 0);
    ck_assert_uint_eq(id.id, 1234);
    ck_assert(id.has_flags && id.has_aux_port && id.has_reported_ip);
    ck_assert_uint_eq(id.flags, 0x109);
    ck_assert_uint_eq(id.aux_port, 4665);
    ck_assert_uint_eq(id.reported_ip, 0x0100007f);
    ck_assert_uint_eq(id.obfuscation_port, 4667);
    ed2k_packet_free(pkt);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_messages)
{
    const uint8_t *text;
    size_t n;
    uint8_t msg[] = { 5, 0, 'h', 'e', 'l', 'l', 'o', 'x' };
    ck_assert_int_eq(ed2k_servermessage_decode(msg, sizeof msg, &text, &n, NULL), 0);
    ck_assert_uint_eq(n, 5);
    ck_assert_mem_eq(text, "hello", 5);
    ck_assert_int_eq(ed2k_servermessage_decode(msg, 5, &text, &n, NULL), -1);
    uint32_t users, files;
    uint8_t st[8] = { 10, 0, 0, 0, 20, 1, 0, 0 };
    ck_assert_int_eq(ed2k_serverstatus_decode(st, 8, &users, &files, NULL), 0);
    ck_assert_uint_eq(users, 10);
    ck_assert_uint_eq(files, 276);
    ck_assert_int_eq(ed2k_serverstatus_decode(st, 7, &users, &files, NULL), -1);

    uint8_t ident[64];
    size_t il = unhex("2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a 7f000001 3612 02000000 "
                      "02 0100 01 0400 74657374 02 0100 0b 0200 6869",
                      ident);
    ed2k_serverident_t si;
    ck_assert_int_eq(ed2k_serverident_decode(ident, il, &si, NULL), 0);
    ck_assert_uint_eq(si.port, 0x1236);
    ck_assert_str_eq(si.name, "test");
    ck_assert_str_eq(si.description, "hi");
    ed2k_serverident_clear(&si);
    ck_assert_int_eq(ed2k_serverident_decode(ident, il - 1, &si, NULL), -1);

    uint8_t sl[] = { 2, 1, 2, 3, 4, 0x36, 0x12, 5, 6, 7, 8, 0x37, 0x12 };
    ed2k_serverlist_t list;
    ck_assert_int_eq(ed2k_serverlist_decode(sl, sizeof sl, &list, NULL), 0);
    ck_assert_uint_eq(list.count, 2);
    ck_assert_uint_eq(list.ports[1], 0x1237);
    ed2k_serverlist_clear(&list);
    ck_assert_int_eq(ed2k_serverlist_decode(sl, sizeof sl - 1, &list, NULL), -1);
}
END_TEST

START_TEST(test_offer_live_entry)
{
    /* The first entry of aMule's packet (§3.4): compression, new tags and
     * integer types; 9,728,001 bytes "z_9728001.bin", program (4). */
    ed2k_offer_t f = { .name = "z_9728001.bin", .size = 9728001, .complete = true, .type = 4 };
    unhex("06329e9dba1373512c06386fe29e3c65", f.hash);
    struct evbuffer *b = evbuffer_new();
    size_t n = 0;
    ck_assert_int_eq(ed2k_offerfiles_payload(b, &f, 1, 0x189, 0, 0, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    uint8_t want[64];
    size_t wl = unhex("01000000 06329e9dba1373512c06386fe29e3c65 fbfbfbfbfbfb 03000000 "
                      "9d 01 7a5f393732383030312e62696e 83 02 01709400 89 03 04",
                      want);
    ck_assert_uint_eq(evbuffer_get_length(b), wl);
    ck_assert_mem_eq(evbuffer_pullup(b, -1), want, wl);
    evbuffer_free(b);

    /* No compression: our HighID and port, or 0/0 as a LowID; classic
     * tags; a string file type; a large file skipped without large files. */
    ed2k_offer_t two[2] = { f, { .name = "big.iso", .size = 5000000000ULL, .complete = false,
                                 .type = 7 } };
    b = evbuffer_new();
    ck_assert_int_eq(ed2k_offerfiles_payload(b, two, 2, 0, 0x0100007f, 4662, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    uint8_t *p = evbuffer_pullup(b, -1);
    ck_assert_uint_eq(p[0], 1);
    ck_assert_uint_eq(p[20] | p[21] << 8 | p[22] << 16 | (uint32_t)p[23] << 24, 0x0100007f);
    ck_assert_uint_eq(p[24] | p[25] << 8, 4662);
    ck_assert_ptr_nonnull(memmem(p, evbuffer_get_length(b), "Pro", 3));
    evbuffer_free(b);
    b = evbuffer_new();
    ck_assert_int_eq(ed2k_offerfiles_payload(b, two, 2, 0x100, 5, 4662, &n, NULL), 0);
    ck_assert_uint_eq(n, 2);
    p = evbuffer_pullup(b, -1);
    ck_assert_uint_eq(p[20] | p[21] | p[22] | p[23], 0); /* LowID offers 0/0 */
    evbuffer_free(b);
    ck_assert_int_eq(ed2k_filetype_for_name("a.MKV"), 2);
    ck_assert_int_eq(ed2k_filetype_for_name("noext"), 0);
}
END_TEST

START_TEST(test_sources)
{
    uint8_t hash[16];
    unhex("06329e9dba1373512c06386fe29e3c65", hash);
    struct evbuffer *b = evbuffer_new();
    ed2k_getsources_encode(b, hash, 9729000, false);
    uint8_t want[32];
    size_t wl = unhex("e3 15000000 19 06329e9dba1373512c06386fe29e3c65 e8739400", want);
    ck_assert_uint_eq(evbuffer_get_length(b), wl);
    ck_assert_mem_eq(evbuffer_pullup(b, -1), want, wl);
    evbuffer_drain(b, wl);
    ed2k_getsources_encode(b, hash, 5000000000ULL, false);
    ck_assert_uint_eq(evbuffer_get_length(b), 6 + 16 + 4 + 8);
    evbuffer_free(b);

    uint8_t fs[64];
    size_t fl = unhex("06329e9dba1373512c06386fe29e3c65 02 7f000001 3612 05000000 3712", fs);
    ed2k_foundsources_t found;
    ck_assert_int_eq(ed2k_foundsources_decode(fs, fl, false, &found, NULL), 0);
    ck_assert_uint_eq(found.count, 2);
    ck_assert_uint_eq(found.sources[0].id, 0x0100007f);
    ck_assert_uint_eq(found.sources[1].id, 5);
    ck_assert_uint_eq(found.sources[1].port, 0x1237);
    ed2k_foundsources_clear(&found);
    ck_assert_int_eq(ed2k_foundsources_decode(fs, fl - 1, false, &found, NULL), -1);
    /* obfuscated form: crypt options, and a user hash after bit 0x80 */
    uint8_t fo[80];
    size_t ol = unhex("06329e9dba1373512c06386fe29e3c65 02 7f000001 3612 01 05000000 3712 80 "
                      "b0bf7708d00e61cb3874617a2ea06f18",
                      fo);
    ck_assert_int_eq(ed2k_foundsources_decode(fo, ol, true, &found, NULL), 0);
    ck_assert(!found.sources[0].has_hash);
    ck_assert(found.sources[1].has_hash);
    ck_assert_uint_eq(found.sources[1].user_hash[0], 0xb0);
    ed2k_foundsources_clear(&found);

    ed2k_callbackrequested_t cr;
    uint8_t c1[6] = { 127, 0, 0, 1, 0x36, 0x12 };
    ck_assert_int_eq(ed2k_callbackrequested_decode(c1, 6, &cr, NULL), 0);
    ck_assert_uint_eq(cr.ip, 0x0100007f);
    ck_assert_uint_eq(cr.port, 0x1236);
    ck_assert(!cr.has_crypt);
    ck_assert_int_eq(ed2k_callbackrequested_decode(c1, 5, &cr, NULL), -1);
    b = evbuffer_new();
    ed2k_callbackrequest_encode(b, 42);
    ck_assert_uint_eq(evbuffer_get_length(b), 10);
    ck_assert_uint_eq(evbuffer_pullup(b, -1)[5], ED2K_SOP_CALLBACKREQUEST);
    evbuffer_free(b);
}
END_TEST

/* datagram: out's contents, checked to start with e3 <opcode>. */
static const uint8_t *
datagram(struct evbuffer *out, uint8_t opcode, size_t *payload_len)
{
    size_t n = evbuffer_get_length(out);
    ck_assert_uint_ge(n, 2);
    const uint8_t *p = evbuffer_pullup(out, -1);
    ck_assert_uint_eq(p[0], 0xE3);
    ck_assert_uint_eq(p[1], opcode);
    *payload_len = n - 2;
    return p + 2;
}

START_TEST(test_servermessage_dynip)
{
    char out[64];
    ck_assert_int_eq(ed2k_servermessage_dynip("[emDynIP: srv.example.org]", out, sizeof out), 0);
    ck_assert_str_eq(out, "srv.example.org");
    /* anywhere in the line, blanks trimmed */
    ck_assert_int_eq(ed2k_servermessage_dynip("Welcome! [emDynIP:   my-srv_1.dyndns.tv ] bye", out,
                                              sizeof out), 0);
    ck_assert_str_eq(out, "my-srv_1.dyndns.tv");
    /* not a name: none, empty, an address, too long, bad characters, unclosed */
    ck_assert_int_eq(ed2k_servermessage_dynip("server version 17.15", out, sizeof out), -1);
    ck_assert_int_eq(ed2k_servermessage_dynip("[emDynIP: ]", out, sizeof out), -1);
    ck_assert_int_eq(ed2k_servermessage_dynip("[emDynIP: 1.2.3.4]", out, sizeof out), -1);
    ck_assert_int_eq(ed2k_servermessage_dynip("[emDynIP: 123]", out, sizeof out), -1);
    ck_assert_int_eq(ed2k_servermessage_dynip(
                         "[emDynIP: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org]", out,
                         sizeof out), -1);
    ck_assert_int_eq(ed2k_servermessage_dynip("[emDynIP: evil/../host]", out, sizeof out), -1);
    ck_assert_int_eq(ed2k_servermessage_dynip("[emDynIP: a b]", out, sizeof out), -1);
    ck_assert_int_eq(ed2k_servermessage_dynip("[emDynIP: host.org", out, sizeof out), -1);
    ck_assert_int_eq(ed2k_servermessage_dynip("[emDynIP: -host.org]", out, sizeof out), -1);
    ck_assert_int_eq(ed2k_servermessage_dynip(NULL, out, sizeof out), -1);
    ck_assert_int_eq(ed2k_servermessage_dynip("[emDynIP: host.org]", out, 5), -1);
}
END_TEST

START_TEST(test_udp_servstat)
{
    ck_assert_uint_eq(ed2k_globservstat_challenge(0), 0x55AA0000u);
    ck_assert_uint_eq(ed2k_globservstat_challenge(0xBEEF), 0x55AABEEFu);
    struct evbuffer *b = evbuffer_new();
    ed2k_globservstatreq_encode(b, 0x55AABEEFu);
    uint8_t want[16];
    size_t wl = unhex("e3 96 efbeaa55", want);
    ck_assert_uint_eq(evbuffer_get_length(b), wl);
    ck_assert_mem_eq(evbuffer_pullup(b, -1), want, wl);
    evbuffer_free(b);

    /* Every field (40 bytes), then every shorter length: a group is read
     * only when all of it is there (aMule's thresholds 16/24/28/32/40). */
    uint8_t full[48];
    size_t fl = unhex("efbeaa55 0a000000 14000000 e8030000 05000000 06000000 1b030000 03000000"
                      " 5760 5660 78563412 ffff",
                      full);
    ck_assert_uint_eq(fl, 42); /* two bytes too many: ignored */
    ed2k_servstat_t st;
    ck_assert_int_eq(ed2k_globservstatres_decode(full, fl, &st, NULL), 0);
    ck_assert_uint_eq(st.challenge, 0x55AABEEFu);
    ck_assert_uint_eq(st.users, 10);
    ck_assert_uint_eq(st.files, 20);
    ck_assert(st.has_max_users && st.has_limits && st.has_udp_flags && st.has_lowid_users
              && st.has_obfuscation);
    ck_assert_uint_eq(st.max_users, 1000);
    ck_assert_uint_eq(st.soft_files, 5);
    ck_assert_uint_eq(st.hard_files, 6);
    ck_assert_uint_eq(st.udp_flags, 0x31B);
    ck_assert_uint_eq(st.lowid_users, 3);
    ck_assert_uint_eq(st.obfu_udp_port, 0x6057);
    ck_assert_uint_eq(st.obfu_tcp_port, 0x6056);
    ck_assert_uint_eq(st.udp_key, 0x12345678);
    for (size_t len = 0; len < 44; len++) {
        mt_error_t *err = NULL;
        int rc = ed2k_globservstatres_decode(full, len < fl ? len : fl, &st, &err);
        if (len < 12) {
            ck_assert_int_eq(rc, -1);
            ck_assert_ptr_nonnull(strstr(err->message, "OP_GLOBSERVSTATRES: payload is "));
            ck_assert_ptr_nonnull(strstr(err->message, " bytes, expected at least 12"));
            ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
            mt_error_free(err);
            continue;
        }
        ck_assert_int_eq(rc, 0);
        ck_assert_uint_eq(st.files, 20);
        ck_assert_int_eq(st.has_max_users, len >= 16);
        ck_assert_int_eq(st.has_limits, len >= 24);
        ck_assert_int_eq(st.has_udp_flags, len >= 28);
        ck_assert_int_eq(st.has_lowid_users, len >= 32);
        ck_assert_int_eq(st.has_obfuscation, len >= 40);
        /* and the encoder writes back exactly the groups read */
        b = evbuffer_new();
        ed2k_globservstatres_encode(b, &st);
        size_t pl;
        const uint8_t *p = datagram(b, ED2K_SOP_GLOBSERVSTATRES, &pl);
        size_t want_len = len >= 40 ? 40 : len >= 32 ? 32 : len >= 28 ? 28 : len >= 24 ? 24
                        : len >= 16 ? 16 : 12;
        ck_assert_uint_eq(pl, want_len);
        ck_assert_mem_eq(p, full, pl);
        evbuffer_free(b);
    }
}
END_TEST

START_TEST(test_udp_serverdesc)
{
    uint32_t ch = ed2k_serverdesc_challenge(0x1234);
    ck_assert_uint_eq(ch, 0x1234F0FFu);
    struct evbuffer *b = evbuffer_new();
    ed2k_serverdescreq_encode(b, ch);
    uint8_t want[16];
    size_t wl = unhex("e3 a2 fff03412", want);
    ck_assert_uint_eq(evbuffer_get_length(b), wl);
    ck_assert_mem_eq(evbuffer_pullup(b, -1), want, wl);
    evbuffer_free(b);

    /* New form: challenge, tags in either form, integer version, a Latin-1
     * string, control characters, an unknown tag, a later name winning. */
    uint8_t p[160];
    size_t pl;
    pl = unhex("fff03412 07000000"
               " 02 0100 01 0300 6f6c64"
               " 96 01 4e0a657720c9"
               " 82 0b 0400 64657363"
               " 02 0100 85 0c00 6564326b2e6578616d706c65"
               " 83 91 0f001100"
               " 02 0100 93 0900 343234322c34323433"
               " 89 55 07",
               p);
    ed2k_serverdesc_t d;
    ck_assert_int_eq(ed2k_serverdescres_decode(p, pl, &d, NULL), 0);
    ck_assert(d.has_challenge);
    ck_assert_uint_eq(d.challenge, ch);
    ck_assert_str_eq(d.name, "New \xc3\x89");
    ck_assert_str_eq(d.description, "desc");
    ck_assert_str_eq(d.dynip, "ed2k.example");
    ck_assert_str_eq(d.version, "17.15");
    ck_assert_str_eq(d.aux_ports, "4242,4243");
    /* round trip through the encoder */
    b = evbuffer_new();
    ck_assert_int_eq(ed2k_serverdescres_encode(b, &d, NULL), 0);
    size_t ql;
    const uint8_t *q = datagram(b, ED2K_SOP_SERVER_DESC_RES, &ql);
    ed2k_serverdesc_t again;
    ck_assert_int_eq(ed2k_serverdescres_decode(q, ql, &again, NULL), 0);
    ck_assert(again.has_challenge);
    ck_assert_uint_eq(again.challenge, ch);
    ck_assert_str_eq(again.name, d.name);
    ck_assert_str_eq(again.version, "17.15");
    ck_assert_str_eq(again.aux_ports, "4242,4243");
    ed2k_serverdesc_clear(&again);
    evbuffer_free(b);
    ed2k_serverdesc_clear(&d);
    ck_assert_ptr_null(d.name);
    /* cut short anywhere in the tags: an error */
    for (size_t len = 8; len < pl; len++) {
        mt_error_t *err = NULL;
        ck_assert_int_eq(ed2k_serverdescres_decode(p, len, &d, &err), -1);
        ck_assert_ptr_nonnull(strstr(err->message, "OP_SERVER_DESC_RES"));
        ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
        mt_error_free(err);
    }
    /* Under 8 bytes, ff f0 is read as an (impossible) string length. */
    ck_assert_int_eq(ed2k_serverdescres_decode(p, 7, &d, NULL), -1);

    /* Old form: <name><description>, eMule's order; extra bytes ignored. */
    pl = unhex("0400 6e616d65 0200 6869 00", p);
    ck_assert_int_eq(ed2k_serverdescres_decode(p, pl, &d, NULL), 0);
    ck_assert(!d.has_challenge);
    ck_assert_str_eq(d.name, "name");
    ck_assert_str_eq(d.description, "hi");
    ck_assert_ptr_null(d.version);
    ed2k_serverdesc_clear(&d);
    pl = unhex("0400 6e616d65 0000", p);
    ck_assert_int_eq(ed2k_serverdescres_decode(p, pl, &d, NULL), 0);
    ck_assert_ptr_null(d.description);
    ed2k_serverdesc_clear(&d);
    for (size_t len = 0; len < 8; len++) {
        mt_error_t *err = NULL;
        ck_assert_int_eq(ed2k_serverdescres_decode(p, len, &d, &err), -1);
        ck_assert_ptr_nonnull(strstr(err->message, "is cut short"));
        mt_error_free(err);
    }
}
END_TEST

START_TEST(test_udp_getsources)
{
    uint8_t h[40][16];
    uint64_t sz[40];
    for (int i = 0; i < 40; i++) {
        memset(h[i], i, 16);
        sz[i] = 1000 + (uint64_t)i;
    }
    sz[1] = 5000000000ULL; /* over 4 GiB */
    struct evbuffer *b = evbuffer_new();
    size_t used = 0, pl;
    const uint8_t *p;

    /* No flags: one hash per datagram, no size; a large file skipped. */
    ck_assert_uint_eq(ed2k_globgetsources_encode(b, (const uint8_t(*)[16])h, sz, 40, 0, &used), 1);
    ck_assert_uint_eq(used, 2); /* file 1 is large and skipped with it */
    p = datagram(b, ED2K_SOP_GLOBGETSOURCES, &pl);
    ck_assert_uint_eq(pl, 16);
    ck_assert_uint_eq(p[0], 0);
    evbuffer_drain(b, evbuffer_get_length(b));
    ck_assert_uint_eq(ed2k_globgetsources_encode(b, (const uint8_t(*)[16])h + 1, sz + 1, 39, 0,
                                                 &used),
                      1);
    ck_assert_uint_eq(used, 2);
    p = datagram(b, ED2K_SOP_GLOBGETSOURCES, &pl);
    ck_assert_uint_eq(p[0], 2);
    evbuffer_drain(b, evbuffer_get_length(b));

    /* EXT_GETSOURCES: up to 31 hashes. */
    ck_assert_uint_eq(ed2k_globgetsources_encode(b, (const uint8_t(*)[16])h, sz, 40,
                                                 ED2K_SRV_UDPFLG_EXT_GETSOURCES, &used),
                      31);
    ck_assert_uint_eq(used, 32);
    p = datagram(b, ED2K_SOP_GLOBGETSOURCES, &pl);
    ck_assert_uint_eq(pl, 31 * 16);
    ck_assert_uint_eq(p[16], 2);
    evbuffer_drain(b, evbuffer_get_length(b));

    /* EXT_GETSOURCES2 with large files: hash + size, 0 + u64 when large. */
    uint32_t f = ED2K_SRV_UDPFLG_EXT_GETSOURCES | ED2K_SRV_UDPFLG_EXT_GETSOURCES2
               | ED2K_SRV_UDPFLG_LARGEFILES;
    ck_assert_uint_eq(ed2k_globgetsources_encode(b, (const uint8_t(*)[16])h, sz, 3, f, &used), 3);
    ck_assert_uint_eq(used, 3);
    p = datagram(b, ED2K_SOP_GLOBGETSOURCES2, &pl);
    uint8_t want[128];
    size_t wl = unhex("00000000000000000000000000000000 e8030000"
                      "01010101010101010101010101010101 00000000 00f2052a01000000"
                      "02020202020202020202020202020202 ea030000",
                      want);
    ck_assert_uint_eq(pl, wl);
    ck_assert_mem_eq(p, want, wl);
    evbuffer_drain(b, evbuffer_get_length(b));

    /* EXT_GETSOURCES2 alone: hash + size, one file. */
    ck_assert_uint_eq(ed2k_globgetsources_encode(b, (const uint8_t(*)[16])h + 2, sz + 2, 3,
                                                 ED2K_SRV_UDPFLG_EXT_GETSOURCES2, NULL),
                      1);
    p = datagram(b, ED2K_SOP_GLOBGETSOURCES2, &pl);
    ck_assert_uint_eq(pl, 20);
    evbuffer_drain(b, evbuffer_get_length(b));

    /* Only large files and no large-file support: nothing, all used. */
    ck_assert_uint_eq(ed2k_globgetsources_encode(b, (const uint8_t(*)[16])h + 1, sz + 1, 1,
                                                 ED2K_SRV_UDPFLG_EXT_GETSOURCES, &used),
                      0);
    ck_assert_uint_eq(used, 1);
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    ck_assert_uint_eq(ed2k_globgetsources_encode(b, NULL, NULL, 0, 0, &used), 0);
    ck_assert_uint_eq(used, 0);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_udp_foundsources)
{
    uint8_t p[128];
    size_t pl = unhex("06329e9dba1373512c06386fe29e3c65 02 7f000001 3612 05000000 3712"
                      " e3 9b 01010101010101010101010101010101 00"
                      " e3 9b 02020202020202020202020202020202 01 04030201 3412",
                      p);
    ed2k_foundsources_t *fs = NULL;
    size_t n = 0;
    ck_assert_int_eq(ed2k_globfoundsources_decode(p, pl, &fs, &n, NULL), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(fs[0].count, 2);
    ck_assert_uint_eq(fs[0].hash[0], 0x06);
    ck_assert_uint_eq(fs[0].sources[1].id, 5);
    ck_assert_uint_eq(fs[0].sources[1].port, 0x1237);
    ck_assert_uint_eq(fs[1].count, 0);
    ck_assert_uint_eq(fs[2].count, 1);
    ck_assert_uint_eq(fs[2].sources[0].id, 0x01020304);
    ck_assert_uint_eq(fs[2].sources[0].port, 0x1234);
    ed2k_globfoundsources_free(fs, n);

    /* Cut anywhere inside a block: an error, nothing returned. Cut after a
     * block, or right after the e3 9b of the next one: the blocks before. */
    ck_assert_uint_eq(pl, 73);
    size_t ends[] = { 29, 48, 73 }; /* where each block ends */
    for (size_t len = 0; len < pl; len++) {
        mt_error_t *err = NULL;
        int rc = ed2k_globfoundsources_decode(p, len, &fs, &n, &err);
        size_t whole = 0;
        bool at_end = false;
        for (size_t k = 0; k < 3; k++) {
            if (len >= ends[k])
                whole = k + 1;
            at_end = at_end || (len >= ends[k] && len <= ends[k] + 2);
        }
        if (at_end) {
            ck_assert_msg(rc == 0, "len %zu", len);
            ck_assert_uint_eq(n, whole);
            ed2k_globfoundsources_free(fs, n);
        } else {
            ck_assert_msg(rc == -1, "len %zu", len);
            ck_assert_ptr_null(fs);
            ck_assert_uint_eq(n, 0);
            ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
            if (len > ends[0])
                ck_assert_ptr_nonnull(strstr(err->message, "block "));
            mt_error_free(err);
        }
    }
    /* Bytes after a block that are not e3 9b end the reading (aMule's
     * "additional bogus bytes"). */
    pl = unhex("06329e9dba1373512c06386fe29e3c65 00 e3 99 010203", p);
    ck_assert_int_eq(ed2k_globfoundsources_decode(p, pl, &fs, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    ed2k_globfoundsources_free(fs, n);
}
END_TEST

START_TEST(test_udp_search)
{
    /* "fake share" (§3.5) */
    uint8_t tree[16];
    size_t tl = unhex("010a0066616b65207368617265", tree);
    struct evbuffer *b = evbuffer_new();
    uint8_t want[32];
    size_t wl, pl;
    const uint8_t *p;

    /* EXT_GETFILES + LARGEFILES: OP_GLOBSEARCHREQ3 and aMule's one tag. */
    ck_assert_uint_eq(ed2k_globsearchreq_encode(b, tree, tl, 0x102, false),
                      ED2K_SOP_GLOBSEARCHREQ3);
    p = datagram(b, ED2K_SOP_GLOBSEARCHREQ3, &pl);
    wl = unhex("01000000 890e01 010a0066616b65207368617265", want);
    ck_assert_uint_eq(pl, wl);
    ck_assert_mem_eq(p, want, wl);
    evbuffer_drain(b, evbuffer_get_length(b));
    ck_assert_uint_eq(ed2k_globsearchreq_encode(b, tree, tl, 0x102, true),
                      ED2K_SOP_GLOBSEARCHREQ3);
    evbuffer_drain(b, evbuffer_get_length(b));

    /* EXT_GETFILES alone: OP_GLOBSEARCHREQ2 with the tree as it is, and
     * no 64-bit search. */
    ck_assert_uint_eq(ed2k_globsearchreq_encode(b, tree, tl, 0x002, false),
                      ED2K_SOP_GLOBSEARCHREQ2);
    p = datagram(b, ED2K_SOP_GLOBSEARCHREQ2, &pl);
    ck_assert_uint_eq(pl, tl);
    ck_assert_mem_eq(p, tree, tl);
    evbuffer_drain(b, evbuffer_get_length(b));
    ck_assert_uint_eq(ed2k_globsearchreq_encode(b, tree, tl, 0x002, true), 0);
    ck_assert_uint_eq(evbuffer_get_length(b), 0);

    /* Neither: OP_GLOBSEARCHREQ; LARGEFILES alone still allows 64 bits. */
    ck_assert_uint_eq(ed2k_globsearchreq_encode(b, tree, tl, 0, false), ED2K_SOP_GLOBSEARCHREQ);
    p = datagram(b, ED2K_SOP_GLOBSEARCHREQ, &pl);
    ck_assert_mem_eq(p, tree, tl);
    evbuffer_drain(b, evbuffer_get_length(b));
    ck_assert_uint_eq(ed2k_globsearchreq_encode(b, tree, tl, 0, true), 0);
    ck_assert_uint_eq(ed2k_globsearchreq_encode(b, tree, tl, 0x100, true),
                      ED2K_SOP_GLOBSEARCHREQ);
    evbuffer_drain(b, evbuffer_get_length(b));
    ck_assert_uint_eq(ed2k_globsearchreq_encode(b, tree, 0, 0x102, false), 0);
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    evbuffer_free(b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_c2s");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_login_live);
    tcase_add_test(tc, test_idchange);
    tcase_add_test(tc, test_messages);
    tcase_add_test(tc, test_offer_live_entry);
    tcase_add_test(tc, test_sources);
    tcase_add_test(tc, test_udp_servstat);
    tcase_add_test(tc, test_udp_serverdesc);
    tcase_add_test(tc, test_udp_getsources);
    tcase_add_test(tc, test_udp_foundsources);
    tcase_add_test(tc, test_udp_search);
    tcase_add_test(tc, test_servermessage_dynip);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
