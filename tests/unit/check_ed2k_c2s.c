/* check_ed2k_c2s.c: unit tests for lib/ed2k/c2s.c, the client side of the
 * client-to-server protocol, with the live login dump of
 * ed2k-protocol.md §3.1 and the offer entry of §3.4. */
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
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
