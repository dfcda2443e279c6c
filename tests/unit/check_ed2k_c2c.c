/* check_ed2k_c2c.c: unit tests for lib/ed2k/c2c: live aMule dumps, round
 * trips of every client-to-client message, error cases, compressed blocks. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/c2c.h"
#include "ed2k/hash.h"
#include "ed2k/packet.h"
#include "util/error.h"
#include "util/xalloc.h"

/* ---- Helpers ---- */

/* hex: bytes from hex digits, spaces ignored; caller frees. */
static uint8_t *
hex(const char *s, size_t *len)
{
    uint8_t *out = xmalloc(strlen(s) / 2 + 1);
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    ck_assert_int_eq(hi, -1);
    *len = n;
    return out;
}

static void
hash_of(const char *h, uint8_t out[16])
{
    ck_assert_int_eq(ed2k_hash_from_hex(h, out), 0);
}

/* take: the whole buffer as a new allocation (drained). */
static uint8_t *
take(struct evbuffer *b, size_t *len)
{
    *len = evbuffer_get_length(b);
    uint8_t *p = xmalloc(*len ? *len : 1);
    evbuffer_remove(b, p, *len);
    return p;
}

/* next_packet: takes one framed packet off b and checks its header. */
static ed2k_packet_t *
next_packet(struct evbuffer *b, uint8_t proto, uint8_t op)
{
    ed2k_packet_t *p = NULL;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_packet_decode_evbuffer(b, 0, &p, &err), ED2K_FRAME_OK);
    ck_assert_uint_eq(p->proto, proto);
    ck_assert_uint_eq(p->opcode, op);
    return p;
}

/* expect_err: rc is -1 and err says needle; clears err. */
static void
expect_err(int rc, mt_error_t **err, int code, const char *needle)
{
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(*err);
    ck_assert_int_eq((*err)->code, code);
    ck_assert_msg(strstr((*err)->message, needle) != NULL, "\"%s\" lacks \"%s\"",
                  (*err)->message, needle);
    mt_error_clear(err);
}

static void
expect_proto_err(int rc, mt_error_t **err, const char *needle)
{
    expect_err(rc, err, MT_ERR_PROTOCOL, needle);
}

/* exact copy: an allocation of exactly n bytes, so ASan sees overreads. */
static uint8_t *
dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *d = xmalloc(n ? n : 1);
    if (n)
        memcpy(d, p, n);
    return d;
}

static uint8_t *
text_block(size_t n, unsigned seed)
{
    /* Hex digits of an LCG: compresses to a bit over half, like the live
     * "hex text" block of §5.6. */
    uint8_t *p = xmalloc(n);
    unsigned x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)"0123456789abcdef"[(x >> 16) & 15];
    }
    return p;
}

static uint8_t *
random_block(size_t n, unsigned seed)
{
    uint8_t *p = xmalloc(n);
    unsigned x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 23);
    }
    return p;
}

/* ---- Live dumps ---- */

/* §5.1: OP_HELLO sent by aMule 2.3.3 (106 bytes). */
static const char live_hello[] =
    "e3 65 00 00 00 01 10 b0 bf 77 08 d0 0e 61 cb 38  74 61 7a 2e a0 6f 18 7f 00 00 01 66 87 07 00 00"
    "00 02 01 00 01 0d 00 70 72 6f 74 6f 72 65 66 2d  74 65 73 74 03 01 00 11 3c 00 00 00 03 01 00 f9"
    "70 87 00 00 03 01 00 fb 80 0d 04 03 03 01 00 fa  16 32 13 34 03 01 00 fe b8 05 00 00 03 01 00 ef"
    "01 00 00 00 7f 00 00 01 65 87";

/* §11.4: OP_HELLOANSWER from amuled to an unconnected client (105 bytes). */
static const char live_helloanswer[] =
    "e3 64 00 00 00 4c b0 bf 77 08 d0 0e 61 cb 38 74  61 7a 2e a0 6f 18 00 00 00 00 66 87 07 00 00 00"
    "02 01 00 01 0d 00 70 72 6f 74 6f 72 65 66 2d 74  65 73 74 03 01 00 11 3c 00 00 00 03 01 00 f9 70"
    "87 00 00 03 01 00 fb 80 0d 04 03 03 01 00 fa 16  32 13 34 03 01 00 fe b8 05 00 00 03 01 00 ef 01"
    "00 00 00 00 00 00 00 00 00";

/* §5.3: aMule's 42-byte OP_MULTIPACKET_EXT for the 9,729,000-byte file whose
 * hash §11.4 gives in full. */
static const char live_multipacket_ext[] =
    "c5 25 00 00 00 a4 9996111562a252adb4736ee1f1e5dfe2 e8 73 94 00 00 00 00 00"
    "58 02 00 00 00 00 4f 83 04 00 00 9e";

/* §5.6: aMule's OP_REQUESTPARTS for the same file. */
static const char live_requestparts[] =
    "e3 29 00 00 00 47 9996111562a252adb4736ee1f1e5dfe2 00709400 00000000 00d00200"
    "e8739400 00d00200 00a00500";

static const char file_9729000[] = "9996111562a252adb4736ee1f1e5dfe2";
static const char amule_hash[] = "b0bf7708d00e61cb3874617a2ea06f18";

static void
amule_params(ed2k_hello_params_t *hp)
{
    memset(hp, 0, sizeof *hp);
    hash_of(amule_hash, hp->user_hash);
    hp->client_id = 0x0100007F;
    hp->tcp_port = 34662;
    hp->udp_port = 34672;
    hp->kad_port = 0;
    hp->nickname = "protoref-test";
    hp->compat_client = ED2K_SO_AMULE;
    hp->ver_major = 2;
    hp->ver_minor = 3;
    hp->ver_update = 3;
    hp->misc1 = 0x34133216;
    hp->misc2 = 0x000005B8;
    hp->send_compat_options = true;
    hp->compat_options = 1;
    hp->server_ip = 0x0100007F;
    hp->server_port = 34661;
}

START_TEST(test_live_hello)
{
    size_t n;
    uint8_t *pkt = hex(live_hello, &n);
    ck_assert_uint_eq(n, 106);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, pkt, n);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_HELLO);

    ed2k_hello_t h;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_hello_decode(p->payload, p->len, &h, &err), 0);
    uint8_t uh[16];
    hash_of(amule_hash, uh);
    ck_assert_mem_eq(h.user_hash, uh, 16);
    ck_assert_uint_eq(h.user_hash[5], 14); /* the eMule markers */
    ck_assert_uint_eq(h.user_hash[14], 111);
    ck_assert_uint_eq(h.client_id, 0x0100007F);
    ck_assert(!ed2k_c2c_is_lowid(h.client_id));
    ck_assert_uint_eq(h.tcp_port, 34662);
    ck_assert_uint_eq(ed2k_taglist_count(h.tags), 7);
    ck_assert_str_eq(h.name, "protoref-test");
    ck_assert_uint_eq(h.name_len, 13);
    ck_assert(h.has_version);
    ck_assert_uint_eq(h.version, 0x3C);
    ck_assert(h.has_udp_ports);
    ck_assert_uint_eq(h.udp_port, 34672);
    ck_assert_uint_eq(h.kad_port, 0);
    ck_assert(h.has_emule_version);
    ck_assert_uint_eq(h.emule_version, 0x03040d80);
    ck_assert_uint_eq(h.compat_client, ED2K_SO_AMULE);
    ck_assert_uint_eq(h.ver_major, 2);
    ck_assert_uint_eq(h.ver_minor, 3);
    ck_assert_uint_eq(h.ver_update, 3);
    ck_assert(h.has_misc1 && h.has_misc2);
    ck_assert_uint_eq(h.misc1, 0x34133216);
    ck_assert_uint_eq(h.misc2, 0x5B8);
    ck_assert(h.has_compat_options);
    ck_assert_uint_eq(h.compat_options, 1);
    ck_assert(!h.has_buddy_ip && !h.has_buddy_port);
    ck_assert_ptr_null(h.mod_version);
    ck_assert_uint_eq(h.server_ip, 0x0100007F);
    ck_assert_uint_eq(h.server_port, 34661);
    ck_assert(!h.mldonkey && !h.hybrid);

    ed2k_caps_t c;
    ed2k_caps_from_hello(&h, &c);
    ck_assert_uint_eq(c.aich_ver, 1);
    ck_assert(c.unicode);
    ck_assert_uint_eq(c.udp_ver, 4);
    ck_assert_uint_eq(c.data_comp_ver, 1);
    ck_assert_uint_eq(c.secident_ver, 3);
    ck_assert_uint_eq(c.sx1_ver, 3);
    ck_assert_uint_eq(c.ext_req_ver, 2);
    ck_assert_uint_eq(c.comments_ver, 1);
    ck_assert(!c.peercache && c.no_view_shared && c.multipacket && !c.preview);
    ck_assert(!c.file_identifiers && !c.direct_udp_callback && !c.captcha);
    ck_assert(c.sx2 && !c.crypt_required && c.crypt_requested && c.crypt_supported);
    ck_assert(c.ext_multipacket && c.large_files);
    ck_assert_uint_eq(c.kad_ver, 8);
    ck_assert_uint_eq(ed2k_caps_to_misc1(&c), 0x34133216);
    ck_assert_uint_eq(ed2k_caps_to_misc2(&c), 0x5B8);
    ed2k_hello_clear(&h);
    ed2k_hello_clear(&h); /* clearing twice is harmless */
    ed2k_hello_clear(NULL);

    /* Our encoder, given aMule's values, produces aMule's bytes. */
    ed2k_hello_params_t hp;
    amule_params(&hp);
    ck_assert_int_eq(ed2k_hello_encode(b, &hp, &err), 0);
    size_t m;
    uint8_t *mine = take(b, &m);
    ck_assert_uint_eq(m, n);
    ck_assert_mem_eq(mine, pkt, n);
    free(mine);
    ed2k_packet_free(p);
    evbuffer_free(b);
    free(pkt);
}
END_TEST

START_TEST(test_live_helloanswer)
{
    size_t n;
    uint8_t *pkt = hex(live_helloanswer, &n);
    ck_assert_uint_eq(n, 105);
    ed2k_hello_t h;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_helloanswer_decode(pkt + 6, n - 6, &h, &err), 0);
    ck_assert_uint_eq(h.client_id, 0);
    ck_assert(ed2k_c2c_is_lowid(h.client_id));
    ck_assert_uint_eq(h.tcp_port, 34662);
    ck_assert_str_eq(h.name, "protoref-test");
    ck_assert_uint_eq(h.misc1, 0x34133216);
    ck_assert_uint_eq(h.server_ip, 0);
    ck_assert_uint_eq(h.server_port, 0);
    ed2k_hello_clear(&h);
    /* The same bytes read as OP_HELLO: 0xb0 is not a hash length. */
    expect_proto_err(ed2k_hello_decode(pkt + 6, n - 6, &h, &err), &err,
                     "OP_HELLO: user hash length is 176, expected 16");

    ed2k_hello_params_t hp;
    amule_params(&hp);
    hp.client_id = 0;
    hp.server_ip = 0;
    hp.server_port = 0;
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_helloanswer_encode(b, &hp, &err), 0);
    size_t m;
    uint8_t *mine = take(b, &m);
    ck_assert_uint_eq(m, n);
    ck_assert_mem_eq(mine, pkt, n);
    free(mine);
    evbuffer_free(b);
    free(pkt);
}
END_TEST

START_TEST(test_hello_variants)
{
    mt_error_t *err = NULL;
    ed2k_hello_params_t hp;
    amule_params(&hp);
    hp.send_compat_options = false;
    hp.has_buddy = true;
    hp.buddy_ip = 0x04030201;
    hp.buddy_port = 4672;
    hp.kad_port = 4673;
    hp.mod_version = "muleteer 0.1";
    hp.misc1 = 0x34103216; /* secident 0, as Muleteer sends (§5.1) */
    hp.misc2 = 0x430;
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_hello_encode(b, &hp, &err), 0);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_HELLO);
    ed2k_hello_t h;
    ck_assert_int_eq(ed2k_hello_decode(p->payload, p->len, &h, &err), 0);
    ck_assert_uint_eq(ed2k_taglist_count(h.tags), 9);
    /* aMule's order: buddy tags after the UDP ports, mod version last. */
    ck_assert_uint_eq(ed2k_taglist_get(h.tags, 3)->id, ED2K_CT_EMULE_BUDDYIP);
    ck_assert_uint_eq(ed2k_taglist_get(h.tags, 4)->id, ED2K_CT_EMULE_BUDDYUDP);
    ck_assert_uint_eq(ed2k_taglist_get(h.tags, 8)->id, ED2K_CT_MOD_VERSION);
    ck_assert(h.has_buddy_ip && h.has_buddy_port);
    ck_assert_uint_eq(h.buddy_ip, 0x04030201);
    ck_assert_uint_eq(h.buddy_port, 4672);
    ck_assert_uint_eq(h.kad_port, 4673);
    ck_assert_str_eq(h.mod_version, "muleteer 0.1");
    ck_assert(!h.has_compat_options);
    ed2k_caps_t c;
    ed2k_caps_from_hello(&h, &c);
    ck_assert_uint_eq(c.secident_ver, 0);
    ck_assert(c.sx2 && !c.crypt_supported && !c.crypt_requested && c.ext_multipacket);
    ck_assert(c.large_files);
    ed2k_hello_clear(&h);

    /* Trailing bytes: exactly 4 mark MLDonkey ("MLDK", aMule's u32 'KDLM')
     * or eDonkeyHybrid; other lengths are ignored. */
    size_t n = p->len;
    uint8_t *q = xmalloc(n + 4);
    memcpy(q, p->payload, n);
    memcpy(q + n, "MLDK", 4);
    ck_assert_int_eq(ed2k_hello_decode(q, n + 4, &h, &err), 0);
    ck_assert(h.mldonkey && !h.hybrid);
    ed2k_hello_clear(&h);
    memcpy(q + n, "KDLM", 4);
    ck_assert_int_eq(ed2k_hello_decode(q, n + 4, &h, &err), 0);
    ck_assert(!h.mldonkey && h.hybrid);
    ed2k_hello_clear(&h);
    ck_assert_int_eq(ed2k_hello_decode(q, n + 3, &h, &err), 0);
    ck_assert(!h.mldonkey && !h.hybrid);
    ed2k_hello_clear(&h);
    free(q);
    ed2k_packet_free(p);

    /* Hand-made tag lists: CT_PORT overrides the port field, a Latin-1 name
     * becomes UTF-8, an integer mod version reads "ModID=<n>", no misc
     * options means no_view_shared. */
    ed2k_taglist_t *l = ed2k_taglist_new();
    ed2k_taglist_add_str(l, ED2K_CT_NAME, "caf\xe9", 4);
    ed2k_taglist_add_uint(l, ED2K_CT_PORT, 0, 4662);
    ed2k_taglist_add_uint(l, ED2K_CT_MOD_VERSION, 0, 7);
    ed2k_taglist_add_named_uint(l, "misc", 0, 1);
    struct evbuffer *pl = evbuffer_new();
    uint8_t zero16[16] = { 0 };
    ed2k_write_hash16(pl, zero16);
    ed2k_write_u32(pl, 1234);
    ed2k_write_u16(pl, 1);
    ck_assert_int_eq(ed2k_taglist_write(pl, l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_COMPACT, &err), 0);
    ed2k_write_u32(pl, 0);
    ed2k_write_u16(pl, 0);
    uint8_t *raw = take(pl, &n);
    ck_assert_int_eq(ed2k_helloanswer_decode(raw, n, &h, &err), 0);
    ck_assert_str_eq(h.name, "caf\xc3\xa9");
    ck_assert_uint_eq(h.tcp_port, 4662);
    ck_assert_str_eq(h.mod_version, "ModID=7");
    ck_assert(!h.has_emule_version && !h.has_misc1);
    ed2k_caps_from_hello(&h, &c);
    ck_assert(c.no_view_shared && !c.multipacket);
    ed2k_hello_clear(&h);
    free(raw);
    ed2k_taglist_free(l);

    /* A known tag with the wrong kind of value is an error (aMule throws). */
    l = ed2k_taglist_new();
    ed2k_taglist_add_uint(l, ED2K_CT_NAME, 0, 1);
    ed2k_write_hash16(pl, zero16);
    ed2k_write_u32(pl, 0);
    ed2k_write_u16(pl, 0);
    ed2k_taglist_write(pl, l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, &err);
    ed2k_write_u32(pl, 0);
    ed2k_write_u16(pl, 0);
    raw = take(pl, &n);
    expect_proto_err(ed2k_helloanswer_decode(raw, n, &h, &err), &err,
                     "OP_HELLOANSWER: CT_NAME tag is not a string");
    ck_assert_ptr_null(h.tags);
    free(raw);
    ed2k_taglist_free(l);
    l = ed2k_taglist_new();
    ed2k_taglist_add_str(l, ED2K_CT_EMULE_MISCOPTIONS1, "x", 1);
    ed2k_write_hash16(pl, zero16);
    ed2k_write_u32(pl, 0);
    ed2k_write_u16(pl, 0);
    ed2k_taglist_write(pl, l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, &err);
    ed2k_write_u32(pl, 0);
    ed2k_write_u16(pl, 0);
    raw = take(pl, &n);
    expect_proto_err(ed2k_helloanswer_decode(raw, n, &h, &err), &err,
                     "CT_EMULE_MISCOPTIONS1 tag is not an integer");
    free(raw);
    ed2k_taglist_free(l);
    evbuffer_free(pl);

    /* Version parts that do not fit their bits are refused; nothing is
     * appended. */
    hp.ver_update = 8;
    expect_err(ed2k_hello_encode(b, &hp, &err), &err, MT_ERR_INVALID, "does not fit");
    hp.ver_update = 0;
    hp.ver_major = 128;
    expect_err(ed2k_helloanswer_encode(b, &hp, &err), &err, MT_ERR_INVALID, "does not fit");
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_hello_truncated)
{
    size_t n;
    uint8_t *pkt = hex(live_hello, &n);
    mt_error_t *err = NULL;
    ed2k_hello_t h;
    /* The server address ends the packet: every shorter payload fails. */
    for (size_t k = 0; k < n - 6; k++) {
        uint8_t *q = dup_exact(pkt + 6, k);
        ck_assert_int_eq(ed2k_hello_decode(q, k, &h, &err), -1);
        ck_assert_ptr_nonnull(err);
        ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
        ck_assert(strncmp(err->message, "OP_HELLO: ", 10) == 0);
        ck_assert_ptr_null(h.tags);
        mt_error_clear(&err);
        free(q);
    }
    expect_proto_err(ed2k_hello_decode(pkt + 6, 0, &h, &err), &err,
                     "OP_HELLO: truncated user hash length");
    expect_proto_err(ed2k_hello_decode(pkt + 6, n - 7, &h, &err), &err,
                     "OP_HELLO: truncated server address");
    expect_proto_err(ed2k_hello_decode(pkt + 6, 30, &h, &err), &err, "OP_HELLO: tag");
    free(pkt);
}
END_TEST

START_TEST(test_caps_bits)
{
    ed2k_caps_t c;
    memset(&c, 0, sizeof c);
    /* Receiver rules: requested needs supported, required needs requested. */
    ed2k_caps_from_misc2(&c, 0x300);
    ck_assert(!c.crypt_supported && !c.crypt_requested && !c.crypt_required);
    ed2k_caps_from_misc2(&c, 0x280);
    ck_assert(c.crypt_supported && !c.crypt_requested && !c.crypt_required);
    ed2k_caps_from_misc2(&c, 0x380);
    ck_assert(c.crypt_supported && c.crypt_requested && c.crypt_required);
    ed2k_caps_from_misc2(&c, 0x3FBF);
    ck_assert(c.file_identifiers && c.direct_udp_callback && c.captcha && c.sx2);
    ck_assert_uint_eq(c.kad_ver, 15);
    ck_assert_uint_eq(ed2k_caps_to_misc2(&c), 0x3FBF);
    /* Every misc1 bit is a field. */
    ed2k_caps_from_misc1(&c, 0xFFFFFFFF);
    ck_assert_uint_eq(c.aich_ver, 7);
    ck_assert_uint_eq(ed2k_caps_to_misc1(&c), 0xFFFFFFFF);
    ed2k_caps_from_misc1(&c, 0x00000001);
    ck_assert(c.preview && !c.multipacket);
    ck_assert_uint_eq(ed2k_caps_to_misc1(&c), 1);
    /* Fields are masked to their width. */
    memset(&c, 0, sizeof c);
    c.udp_ver = 0x14;
    c.kad_ver = 0x19;
    ck_assert_uint_eq(ed2k_caps_to_misc1(&c), 0x04000000);
    ck_assert_uint_eq(ed2k_caps_to_misc2(&c), 9);
}
END_TEST

/* ---- OP_EMULEINFO ---- */

static uint8_t *
emuleinfo_payload(uint8_t version, uint8_t protocol, ed2k_taglist_t *l, size_t *n)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u8(b, version);
    ed2k_write_u8(b, protocol);
    ck_assert_int_eq(ed2k_taglist_write(b, l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, NULL), 0);
    uint8_t *p = take(b, n);
    evbuffer_free(b);
    ed2k_taglist_free(l);
    return p;
}

START_TEST(test_emuleinfo)
{
    mt_error_t *err = NULL;
    ed2k_caps_t mine;
    memset(&mine, 0, sizeof mine);
    mine.data_comp_ver = 1;
    mine.udp_ver = 4;
    mine.sx1_ver = 3;
    mine.comments_ver = 1;
    mine.ext_req_ver = 2;
    mine.secident_ver = 3;
    ed2k_taglist_t *l = ed2k_emuleinfo_tags(&mine, 4672, ED2K_SO_AMULE, "mod");
    ck_assert_uint_eq(ed2k_taglist_count(l), 9);
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_emuleinfo_encode(b, true, 0x48, ED2K_EMULE_PROTOCOL, l, &err), 0);
    ed2k_taglist_free(l);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_EMULEINFOANSWER);
    ck_assert_uint_eq(p->payload[0], 0x48);
    ck_assert_uint_eq(p->payload[1], 0x01);
    /* Classic form with UINT32 values, like aMule: 9 tags. */
    ck_assert_uint_eq(p->payload[2], 9);
    ck_assert_uint_eq(p->payload[6], ED2K_TAG_UINT32);

    ed2k_emuleinfo_t ei;
    ck_assert_int_eq(ed2k_emuleinfo_decode(p->payload, p->len, &ei, &err), 0);
    ck_assert_uint_eq(ei.version, 0x48);
    ck_assert_uint_eq(ei.protocol, 1);
    ck_assert_uint_eq(ei.data_comp_ver, 1);
    ck_assert_uint_eq(ei.udp_ver, 4);
    ck_assert_uint_eq(ei.udp_port, 4672);
    ck_assert_uint_eq(ei.sx1_ver, 3);
    ck_assert_uint_eq(ei.comments_ver, 1);
    ck_assert_uint_eq(ei.ext_req_ver, 2);
    ck_assert_uint_eq(ei.compat_client, ED2K_SO_AMULE);
    ck_assert_uint_eq(ei.features, 3);
    ck_assert_str_eq(ei.mod_version, "mod");
    ck_assert_ptr_null(ei.os_info);
    ed2k_caps_t c;
    ck_assert(ed2k_caps_from_emuleinfo(&ei, &c));
    ck_assert_uint_eq(c.udp_ver, 4);
    ck_assert_uint_eq(c.sx1_ver, 3);
    ck_assert_uint_eq(c.ext_req_ver, 2);
    ck_assert_uint_eq(c.secident_ver, 3);
    ck_assert(!c.preview && !c.unicode && !c.multipacket && c.no_view_shared);
    ed2k_emuleinfo_clear(&ei);
    ed2k_emuleinfo_clear(NULL);
    ed2k_packet_free(p);

    /* Old versions: 0x23 and 0x24 imply UDP v1 and SX1 v1, 0x24 also
     * comments; no data compression clears SX1, extended requests and
     * comments; 0x2B is read as 0x22 (SX1 v1, but not UDP v1). */
    size_t n;
    l = ed2k_taglist_new();
    ed2k_taglist_add_uint(l, ED2K_ET_COMPRESSION, 0, 1);
    ed2k_taglist_add_uint(l, ED2K_ET_FEATURES, 0, 0x80);
    uint8_t *q = emuleinfo_payload(0x24, 1, l, &n);
    ck_assert_int_eq(ed2k_emuleinfo_decode(q, n, &ei, &err), 0);
    ck_assert(ed2k_caps_from_emuleinfo(&ei, &c));
    ck_assert_uint_eq(c.udp_ver, 1);
    ck_assert_uint_eq(c.sx1_ver, 1);
    ck_assert_uint_eq(c.comments_ver, 1);
    ck_assert(c.preview);
    ed2k_emuleinfo_clear(&ei);
    free(q);
    l = ed2k_taglist_new();
    ed2k_taglist_add_uint(l, ED2K_ET_SOURCEEXCHANGE, 0, 3);
    ed2k_taglist_add_uint(l, ED2K_ET_EXTENDEDREQUEST, 0, 2);
    ed2k_taglist_add_uint(l, ED2K_ET_COMMENTS, 0, 1);
    ed2k_taglist_add_uint(l, ED2K_ET_UDPVER, 0, 3);
    q = emuleinfo_payload(0x30, 1, l, &n);
    ck_assert_int_eq(ed2k_emuleinfo_decode(q, n, &ei, &err), 0);
    ck_assert_uint_eq(ei.sx1_ver, 3);
    ck_assert(ed2k_caps_from_emuleinfo(&ei, &c));
    ck_assert_uint_eq(c.sx1_ver, 0);
    ck_assert_uint_eq(c.ext_req_ver, 0);
    ck_assert_uint_eq(c.comments_ver, 0);
    ck_assert_uint_eq(c.udp_ver, 3);
    ed2k_emuleinfo_clear(&ei);
    free(q);
    l = ed2k_taglist_new();
    ed2k_taglist_add_uint(l, ED2K_ET_COMPRESSION, 0, 1);
    q = emuleinfo_payload(0x2B, 1, l, &n);
    ck_assert_int_eq(ed2k_emuleinfo_decode(q, n, &ei, &err), 0);
    ck_assert(ed2k_caps_from_emuleinfo(&ei, &c));
    ck_assert_uint_eq(c.sx1_ver, 1);
    ck_assert_uint_eq(c.udp_ver, 0);
    ed2k_emuleinfo_clear(&ei);
    free(q);

    /* Protocol 0xFF: aMule's OS info; another protocol: no capabilities. */
    l = ed2k_taglist_new();
    ed2k_taglist_add_str(l, ED2K_ET_OS_INFO, "Linux", 5);
    ed2k_taglist_add_uint(l, ED2K_ET_COMPRESSION, 0, 1);
    q = emuleinfo_payload(0x48, 0xFF, l, &n);
    ck_assert_int_eq(ed2k_emuleinfo_decode(q, n, &ei, &err), 0);
    ck_assert_str_eq(ei.os_info, "Linux");
    ck_assert_uint_eq(ei.data_comp_ver, 0);
    ck_assert(!ed2k_caps_from_emuleinfo(&ei, &c));
    ck_assert_uint_eq(c.data_comp_ver, 0);
    ed2k_emuleinfo_clear(&ei);
    free(q);
    l = ed2k_taglist_new();
    ed2k_taglist_add_str(l, ED2K_ET_COMPRESSION, "x", 1);
    q = emuleinfo_payload(0x48, 2, l, &n);
    ck_assert_int_eq(ed2k_emuleinfo_decode(q, n, &ei, &err), 0);
    ck_assert_uint_eq(ed2k_taglist_count(ei.tags), 1);
    ck_assert(!ed2k_caps_from_emuleinfo(&ei, &c));
    ed2k_emuleinfo_clear(&ei);
    free(q);

    /* Errors: a string where an integer belongs, truncation anywhere. */
    l = ed2k_taglist_new();
    ed2k_taglist_add_str(l, ED2K_ET_COMPRESSION, "x", 1);
    q = emuleinfo_payload(0x48, 1, l, &n);
    expect_proto_err(ed2k_emuleinfo_decode(q, n, &ei, &err), &err,
                     "OP_EMULEINFO: ET tag 0x20 is not an integer");
    ck_assert_ptr_null(ei.tags);
    for (size_t k = 0; k < n; k++) {
        uint8_t *t = dup_exact(q, k);
        ck_assert_int_eq(ed2k_emuleinfo_decode(t, k, &ei, &err), -1);
        ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
        mt_error_clear(&err);
        free(t);
    }
    free(q);
    l = ed2k_taglist_new();
    ed2k_taglist_add_uint(l, ED2K_ET_OS_INFO, 0, 1);
    q = emuleinfo_payload(0x48, 0xFF, l, &n);
    expect_proto_err(ed2k_emuleinfo_decode(q, n, &ei, &err), &err, "ET_OS_INFO");
    free(q);
    evbuffer_free(b);
}
END_TEST

/* ---- File requests ---- */

START_TEST(test_live_multipacket_ext)
{
    size_t n;
    uint8_t *pkt = hex(live_multipacket_ext, &n);
    ck_assert_uint_eq(n, 42);
    uint8_t fh[16];
    hash_of(file_9729000, fh);
    mt_error_t *err = NULL;
    ed2k_multipacket_t m;
    for (int style = 0; style < 2; style++) {
        ck_assert_int_eq(ed2k_multipacket_decode(pkt + 6, n - 6, true, 2,
                                                 (ed2k_extinfo_style_t)style, &m, &err),
                         0);
        ck_assert_mem_eq(m.hash, fh, 16);
        ck_assert(m.ext);
        ck_assert_uint_eq(m.size, 9729000);
        ck_assert(m.req_filename && m.extinfo.has_parts);
        ck_assert_uint_eq(m.extinfo.parts.count, 2);
        ck_assert_uint_eq(m.extinfo.parts.bitmap[0], 0);
        ck_assert(m.extinfo.has_complete_sources);
        ck_assert_uint_eq(m.extinfo.complete_sources, 0);
        ck_assert(m.req_status && m.req_sources2 && m.req_aich && !m.req_sources);
        ck_assert_uint_eq(m.sx2_version, 4);
        ck_assert_uint_eq(m.sx2_options, 0);
    }
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_multipacket_encode(b, &m, &err), 0);
    size_t k;
    uint8_t *mine = take(b, &k);
    ck_assert_uint_eq(k, n);
    ck_assert_mem_eq(mine, pkt, n);
    free(mine);

    /* Truncation: the packet can end between sub-requests, nowhere else. */
    for (k = 0; k < n - 6; k++) {
        uint8_t *q = dup_exact(pkt + 6, k);
        int rc = ed2k_multipacket_decode(q, k, true, 2, ED2K_EXTINFO_EMULE, &m, &err);
        bool boundary = k == 24 || k == 30 || k == 31 || k == 35;
        ck_assert_int_eq(rc, boundary ? 0 : -1);
        if (rc < 0) {
            ck_assert(strncmp(err->message, "OP_MULTIPACKET_EXT: ", 20) == 0);
            mt_error_clear(&err);
        }
        free(q);
    }

    /* Extended-requests version of the peer: 0 reads no extinfo, so the
     * "02" after 58 is an unknown sub-opcode; 1 reads no complete count. */
    expect_proto_err(ed2k_multipacket_decode(pkt + 6, n - 6, true, 0, ED2K_EXTINFO_EMULE, &m,
                                             &err),
                     &err, "OP_MULTIPACKET_EXT: unknown sub-opcode 0x02 at offset 25");
    expect_proto_err(ed2k_multipacket_decode(pkt + 6, n - 6, true, 1, ED2K_EXTINFO_EMULE, &m,
                                             &err),
                     &err, "unknown sub-opcode 0x00 at offset 28");

    /* The part count must be the ED2K part count of the size. */
    uint8_t *q = dup_exact(pkt + 6, n - 6);
    q[25] = 3;
    expect_proto_err(ed2k_multipacket_decode(q, n - 6, true, 2, ED2K_EXTINFO_EMULE, &m, &err),
                     &err, "part status has 3 parts, a 9729000-byte file has 2");
    /* ... unless the size is 0 (aMule then skips the size check). */
    memset(q + 16, 0, 8);
    ck_assert_int_eq(ed2k_multipacket_decode(q, n - 6, true, 2, ED2K_EXTINFO_EMULE, &m, &err), 0);
    ck_assert_uint_eq(m.extinfo.parts.count, 3);
    free(q);

    /* The same request without the size is OP_MULTIPACKET. */
    ck_assert_int_eq(ed2k_multipacket_decode(pkt + 6, n - 6, true, 2, ED2K_EXTINFO_EMULE, &m,
                                             &err),
                     0);
    m.ext = false;
    m.req_sources = true;
    m.req_sources2 = false;
    ck_assert_int_eq(ed2k_multipacket_encode(b, &m, &err), 0);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_MULTIPACKET);
    ck_assert_uint_eq(p->len, 16 + 6 + 1 + 1 + 1);
    ck_assert_uint_eq(p->payload[16 + 6 + 1], ED2K_OP_REQUESTSOURCES);
    ed2k_multipacket_t m2;
    ck_assert_int_eq(ed2k_multipacket_decode(p->payload, p->len, false, 2, ED2K_EXTINFO_AMULE,
                                             &m2, &err),
                     0);
    ck_assert(!m2.ext && m2.req_sources && !m2.req_sources2 && m2.req_aich && m2.req_status);
    ck_assert_uint_eq(m2.extinfo.parts.count, 2);
    ed2k_packet_free(p);

    /* Encoder refuses a complete-source count without a part status. */
    m.extinfo.has_parts = false;
    expect_err(ed2k_multipacket_encode(b, &m, &err), &err, MT_ERR_INVALID,
               "complete-source count needs a part status");
    m.extinfo.has_parts = true;
    m.extinfo.parts.bitmap = NULL;
    expect_err(ed2k_multipacket_encode(b, &m, &err), &err, MT_ERR_INVALID, "has no bitmap");
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    evbuffer_free(b);
    free(pkt);
}
END_TEST

START_TEST(test_extinfo_styles)
{
    /* After a part count of 0 (version 2), eMule reads the complete-source
     * count and aMule does not. */
    mt_error_t *err = NULL;
    ed2k_multipacket_t m;
    uint8_t a[16 + 4] = { 0 };
    a[16] = 0x58; /* count 00 00, then 4f */
    a[19] = 0x4f;
    ck_assert_int_eq(ed2k_multipacket_decode(a, sizeof a, false, 2, ED2K_EXTINFO_AMULE, &m, &err),
                     0);
    ck_assert(m.req_filename && m.req_status && !m.extinfo.has_complete_sources);
    expect_proto_err(ed2k_multipacket_decode(a, sizeof a, false, 2, ED2K_EXTINFO_EMULE, &m, &err),
                     &err, "truncated complete-source count");
    uint8_t e[16 + 6] = { 0 };
    e[16] = 0x58; /* count 00 00, complete 05 00, then 4f */
    e[19] = 5;
    e[21] = 0x4f;
    ck_assert_int_eq(ed2k_multipacket_decode(e, sizeof e, false, 2, ED2K_EXTINFO_EMULE, &m, &err),
                     0);
    ck_assert(m.extinfo.has_complete_sources && m.req_status);
    ck_assert_uint_eq(m.extinfo.complete_sources, 5);
    ck_assert_ptr_null(m.extinfo.parts.bitmap);
    expect_proto_err(ed2k_multipacket_decode(e, sizeof e, false, 2, ED2K_EXTINFO_AMULE, &m, &err),
                     &err, "unknown sub-opcode 0x05");
    /* A repeated sub-request overrides the earlier one. */
    uint8_t r[16 + 9] = { 0 };
    r[16] = 0x83;
    r[17] = 4;
    r[20] = 0x83;
    r[21] = 2;
    r[22] = 1;
    ck_assert_int_eq(ed2k_multipacket_decode(r, sizeof r - 1, false, 0, ED2K_EXTINFO_EMULE, &m,
                                             &err),
                     0);
    ck_assert_uint_eq(m.sx2_version, 2);
    ck_assert_uint_eq(m.sx2_options, 1);
    expect_proto_err(ed2k_multipacket_decode(r, sizeof r - 2, false, 0, ED2K_EXTINFO_EMULE, &m,
                                             &err),
                     &err, "truncated OP_REQUESTSOURCES2 version and options");
    r[24] = 0xFF;
    expect_proto_err(ed2k_multipacket_decode(r, sizeof r, false, 0, ED2K_EXTINFO_EMULE, &m, &err),
                     &err, "OP_MULTIPACKET: unknown sub-opcode 0xff at offset 24");
    expect_proto_err(ed2k_multipacket_decode(r, 15, false, 0, ED2K_EXTINFO_EMULE, &m, &err), &err,
                     "OP_MULTIPACKET: truncated file hash");
}
END_TEST

START_TEST(test_live_multipacketanswer)
{
    /* §5.3's answer for text_2p.txt; the dump abbreviates hash and AICH
     * root, so their middle bytes here are made up. */
    size_t n;
    uint8_t *pkt = hex("c5 37 00 00 00 93 00112233445566778899aabbccddeeff"
                       "59 0b 00 746578745f32702e747874 50 00 00"
                       "9d cd48 0102030405060708090a0b0c0d0e0f10 2516",
                       &n);
    ck_assert_uint_eq(n, 60);
    mt_error_t *err = NULL;
    ed2k_multipacket_answer_t a;
    ck_assert_int_eq(ed2k_multipacket_answer_decode(pkt + 6, n - 6, &a, &err), 0);
    ck_assert_uint_eq(a.hash[15], 0xff);
    ck_assert(a.has_name && a.has_status && a.has_aich);
    ck_assert_uint_eq(a.name_len, 11);
    ck_assert(memcmp(a.name, "text_2p.txt", 11) == 0);
    ck_assert_uint_eq(a.status.count, 0);
    ck_assert_ptr_null(a.status.bitmap);
    ck_assert_uint_eq(a.aich[0], 0xcd);
    ck_assert_uint_eq(a.aich[19], 0x16);
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_multipacket_answer_encode(b, &a, &err), 0);
    size_t k;
    uint8_t *mine = take(b, &k);
    ck_assert_uint_eq(k, n);
    ck_assert_mem_eq(mine, pkt, n);
    free(mine);

    /* Truncation inside any answer is an error; between answers it is not. */
    for (k = 0; k < n - 6; k++) {
        uint8_t *q = dup_exact(pkt + 6, k);
        int rc = ed2k_multipacket_answer_decode(q, k, &a, &err);
        bool boundary = k == 16 || k == 30 || k == 33;
        ck_assert_int_eq(rc, boundary ? 0 : -1);
        mt_error_clear(&err);
        free(q);
    }
    uint8_t *q = dup_exact(pkt + 6, n - 6);
    q[30] = 0x58;
    expect_proto_err(ed2k_multipacket_answer_decode(q, n - 6, &a, &err), &err,
                     "OP_MULTIPACKETANSWER: unknown sub-opcode 0x58 at offset 30");
    /* A file status with a bitmap. */
    q[30] = 0x50;
    q[31] = 9;
    expect_proto_err(ed2k_multipacket_answer_decode(q, 33, &a, &err), &err,
                     "part status bitmap for 9 parts needs 2 bytes, 0 left");
    ck_assert_int_eq(ed2k_multipacket_answer_decode(q, 35, &a, &err), 0);
    ck_assert_uint_eq(a.status.count, 9);
    ck_assert_ptr_eq(a.status.bitmap, q + 33);
    free(q);
    evbuffer_free(b);
    free(pkt);
}
END_TEST

START_TEST(test_requestfilename)
{
    mt_error_t *err = NULL;
    uint8_t fh[16];
    hash_of(file_9729000, fh);
    uint8_t bits[1] = { 0x01 };
    ed2k_extinfo_t x = { .has_parts = true,
                         .parts = { .count = 2, .bitmap = bits },
                         .has_complete_sources = true,
                         .complete_sources = 7 };
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_requestfilename_encode(b, fh, &x, &err), 0);
    ck_assert_int_eq(ed2k_requestfilename_encode(b, fh, NULL, &err), 0);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_REQUESTFILENAME);
    ck_assert_uint_eq(p->len, 16 + 2 + 1 + 2);
    ed2k_requestfilename_t r;
    ck_assert_int_eq(ed2k_requestfilename_decode(p->payload, p->len, 2, ED2K_EXTINFO_AMULE, &r,
                                                 &err),
                     0);
    ck_assert_mem_eq(r.hash, fh, 16);
    ck_assert(r.extinfo.has_parts && r.extinfo.has_complete_sources);
    ck_assert_uint_eq(r.extinfo.complete_sources, 7);
    ck_assert(ed2k_partstatus_get(&r.extinfo.parts, 0));
    ck_assert(!ed2k_partstatus_get(&r.extinfo.parts, 1));
    /* Version 1 stops after the bitmap; the rest is ignored. */
    ck_assert_int_eq(ed2k_requestfilename_decode(p->payload, p->len, 1, ED2K_EXTINFO_AMULE, &r,
                                                 &err),
                     0);
    ck_assert(r.extinfo.has_parts && !r.extinfo.has_complete_sources);
    ck_assert_int_eq(ed2k_requestfilename_decode(p->payload, p->len, 0, ED2K_EXTINFO_AMULE, &r,
                                                 &err),
                     0);
    ck_assert(!r.extinfo.has_parts);
    ed2k_packet_free(p);

    /* A bare hash is fine for version 0 and an error otherwise (aMule). */
    p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_REQUESTFILENAME);
    ck_assert_uint_eq(p->len, 16);
    ck_assert_int_eq(ed2k_requestfilename_decode(p->payload, p->len, 0, ED2K_EXTINFO_EMULE, &r,
                                                 &err),
                     0);
    expect_proto_err(ed2k_requestfilename_decode(p->payload, p->len, 1, ED2K_EXTINFO_EMULE, &r,
                                                 &err),
                     &err, "OP_REQUESTFILENAME: truncated part count");
    expect_proto_err(ed2k_requestfilename_decode(p->payload, 15, 0, ED2K_EXTINFO_EMULE, &r, &err),
                     &err, "OP_REQUESTFILENAME: payload is 15 bytes, expected at least 16");
    ed2k_packet_free(p);

    /* OP_REQFILENAMEANSWER: u16 name length. */
    ck_assert_int_eq(ed2k_reqfilenameanswer_encode(b, fh, "a.bin", 5, &err), 0);
    p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_REQFILENAMEANSWER);
    ck_assert_uint_eq(p->len, 16 + 2 + 5);
    ed2k_reqfilenameanswer_t fa;
    ck_assert_int_eq(ed2k_reqfilenameanswer_decode(p->payload, p->len, &fa, &err), 0);
    ck_assert_mem_eq(fa.hash, fh, 16);
    ck_assert_uint_eq(fa.name_len, 5);
    ck_assert(memcmp(fa.name, "a.bin", 5) == 0);
    for (size_t k = 0; k < p->len; k++) {
        uint8_t *q = dup_exact(p->payload, k);
        ck_assert_int_eq(ed2k_reqfilenameanswer_decode(q, k, &fa, &err), -1);
        mt_error_clear(&err);
        free(q);
    }
    ed2k_packet_free(p);
    char *big = xmalloc(70000);
    memset(big, 'x', 70000);
    expect_err(ed2k_reqfilenameanswer_encode(b, fh, big, 70000, &err), &err, MT_ERR_TOO_LARGE,
               "exceeds 65535");
    free(big);
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_filestatus)
{
    mt_error_t *err = NULL;
    uint8_t fh[16] = { 1, 2, 3 };
    /* 9 parts: bits 0 and 8 set -> 01 01. */
    uint8_t flags[9] = { 1, 0, 0, 0, 0, 0, 0, 0, 1 };
    uint8_t bits[2];
    ed2k_partstatus_pack(flags, 9, bits);
    ck_assert_uint_eq(bits[0], 0x01);
    ck_assert_uint_eq(bits[1], 0x01);
    ed2k_partstatus_t ps = { 9, bits };
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_filestatus_encode(b, fh, &ps, &err), 0);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_FILESTATUS);
    ck_assert_uint_eq(p->len, 16 + 2 + 2);
    ed2k_filestatus_t fs;
    ck_assert_int_eq(ed2k_filestatus_decode(p->payload, p->len, &fs, &err), 0);
    ck_assert_uint_eq(fs.status.count, 9);
    uint8_t back[9];
    ed2k_partstatus_unpack(fs.status.bitmap, 9, back);
    ck_assert_mem_eq(back, flags, 9);
    /* 9 parts belong to sizes 8*PARTSIZE .. 9*PARTSIZE-1. */
    ck_assert_int_eq(ed2k_partstatus_check(&fs.status, 8 * ED2K_PARTSIZE, "X", &err), 0);
    ck_assert_int_eq(ed2k_partstatus_check(&fs.status, 9 * ED2K_PARTSIZE - 1, "X", &err), 0);
    expect_proto_err(ed2k_partstatus_check(&fs.status, 9 * ED2K_PARTSIZE, "OP_FILESTATUS", &err),
                     &err, "OP_FILESTATUS: part status has 9 parts, a 87552000-byte file has 10");
    expect_proto_err(ed2k_filestatus_decode(p->payload, p->len - 1, &fs, &err), &err,
                     "part status bitmap for 9 parts needs 2 bytes, 1 left");
    for (size_t k = 0; k < p->len; k++) {
        uint8_t *q = dup_exact(p->payload, k);
        ck_assert_int_eq(ed2k_filestatus_decode(q, k, &fs, &err), -1);
        mt_error_clear(&err);
        free(q);
    }
    ed2k_packet_free(p);

    /* Count 0: complete; any size passes the check. */
    ed2k_partstatus_t none = { 0, NULL };
    ck_assert_int_eq(ed2k_filestatus_encode(b, fh, &none, &err), 0);
    p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_FILESTATUS);
    ck_assert_uint_eq(p->len, 18);
    ck_assert_int_eq(ed2k_filestatus_decode(p->payload, p->len, &fs, &err), 0);
    ck_assert_uint_eq(fs.status.count, 0);
    ck_assert(!ed2k_partstatus_get(&fs.status, 0));
    ck_assert_int_eq(ed2k_partstatus_check(&fs.status, 123, "X", &err), 0);
    ed2k_packet_free(p);
    ps.bitmap = NULL;
    expect_err(ed2k_filestatus_encode(b, fh, &ps, &err), &err, MT_ERR_INVALID, "no bitmap");
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_partstatus_helpers)
{
    ck_assert_uint_eq(ed2k_partstatus_bytes(0), 0);
    ck_assert_uint_eq(ed2k_partstatus_bytes(1), 1);
    ck_assert_uint_eq(ed2k_partstatus_bytes(8), 1);
    ck_assert_uint_eq(ed2k_partstatus_bytes(9), 2);
    ck_assert_uint_eq(ed2k_partstatus_bytes(65535), 8192);
    /* Part i is bit i % 8 of byte i / 8, LSB first. */
    uint8_t flags[20];
    for (size_t i = 0; i < 20; i++)
        flags[i] = (i % 3) == 0;
    uint8_t bits[3];
    ed2k_partstatus_pack(flags, 20, bits);
    ck_assert_uint_eq(bits[0], 0x49); /* parts 0, 3, 6 */
    ck_assert_uint_eq(bits[1], 0x92); /* parts 9, 12, 15 */
    ck_assert_uint_eq(bits[2], 0x04); /* part 18; padding clear */
    ed2k_partstatus_t ps = { 20, bits };
    for (size_t i = 0; i < 24; i++)
        ck_assert(ed2k_partstatus_get(&ps, i) == (i < 20 && (i % 3) == 0));
    /* Exact multiples of PARTSIZE have an extra, empty part (§6.2). */
    ps.count = 2;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_partstatus_check(&ps, ED2K_PARTSIZE, "X", &err), 0);
    ck_assert_int_eq(ed2k_partstatus_check(&ps, ED2K_PARTSIZE + 1, "X", &err), 0);
    expect_proto_err(ed2k_partstatus_check(&ps, ED2K_PARTSIZE - 1, "X", &err), &err,
                     "X: part status has 2 parts, a 9727999-byte file has 1");
}
END_TEST

typedef int (*hash_decode_fn)(const uint8_t *, size_t, uint8_t[16], mt_error_t **);
typedef void (*hash_encode_fn)(struct evbuffer *, const uint8_t[16]);

START_TEST(test_hash_only)
{
    static const struct {
        hash_decode_fn dec;
        hash_encode_fn enc;
        uint8_t proto, op;
        bool exact;
        const char *name;
    } t[] = {
        { ed2k_setreqfileid_decode, ed2k_setreqfileid_encode, 0xE3, 0x4F, true, "OP_SETREQFILEID" },
        { ed2k_filereqansnofil_decode, ed2k_filereqansnofil_encode, 0xE3, 0x48, true,
          "OP_FILEREQANSNOFIL" },
        { ed2k_hashsetrequest_decode, ed2k_hashsetrequest_encode, 0xE3, 0x51, true,
          "OP_HASHSETREQUEST" },
        { ed2k_startuploadreq_decode, ed2k_startuploadreq_encode, 0xE3, 0x54, true,
          "OP_STARTUPLOADREQ" },
        { ed2k_end_of_download_decode, ed2k_end_of_download_encode, 0xE3, 0x49, false,
          "OP_END_OF_DOWNLOAD" },
        { ed2k_requestsources_decode, ed2k_requestsources_encode, 0xC5, 0x81, true,
          "OP_REQUESTSOURCES" },
        { ed2k_aichfilehashreq_decode, ed2k_aichfilehashreq_encode, 0xC5, 0x9E, false,
          "OP_AICHFILEHASHREQ" },
    };
    uint8_t fh[16], got[16];
    hash_of(file_9729000, fh);
    uint8_t longer[17];
    memcpy(longer, fh, 16);
    longer[16] = 0xAA;
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        t[i].enc(b, fh);
        ed2k_packet_t *p = next_packet(b, t[i].proto, t[i].op);
        ck_assert_uint_eq(p->len, 16);
        ck_assert_int_eq(t[i].dec(p->payload, p->len, got, &err), 0);
        ck_assert_mem_eq(got, fh, 16);
        ed2k_packet_free(p);
        ck_assert_int_eq(t[i].dec(fh, 15, got, &err), -1);
        ck_assert_msg(strncmp(err->message, t[i].name, strlen(t[i].name)) == 0, "%s",
                      err->message);
        ck_assert(strstr(err->message, "payload is 15 bytes") != NULL);
        mt_error_clear(&err);
        ck_assert_int_eq(t[i].dec(longer, 17, got, &err), t[i].exact ? -1 : 0);
        mt_error_clear(&err);
        ck_assert_int_eq(t[i].dec(NULL, 0, got, &err), -1);
        mt_error_clear(&err);
    }
    evbuffer_free(b);
}
END_TEST

/* ---- Hash sets ---- */

START_TEST(test_hashset)
{
    /* §11.1: 9,728,000 zero bytes. */
    uint8_t fh[16], parts[2][16];
    hash_of("fc21d9af828f92a8df64beac3357425d", fh);
    hash_of("d7def262a127cd79096a108e7a9fc138", parts[0]);
    hash_of("31d6cfe0d16ae931b73c59d7e0c089c0", parts[1]);
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_hashsetanswer_encode(b, fh, (const uint8_t (*)[16])parts, 2, &err), 0);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_HASHSETANSWER);
    ck_assert_uint_eq(p->len, 16 + 2 + 32);
    ed2k_hashsetanswer_t hs;
    ck_assert_int_eq(ed2k_hashsetanswer_decode(p->payload, p->len, &hs, &err), 0);
    ck_assert_uint_eq(hs.count, 2);
    ck_assert_mem_eq(hs.hashes + 16, parts[1], 16);
    ck_assert_int_eq(ed2k_hashsetanswer_verify(&hs, ED2K_PARTSIZE, &err), 0);
    expect_proto_err(ed2k_hashsetanswer_verify(&hs, 2 * ED2K_PARTSIZE, &err), &err,
                     "2 part hashes, a 19456000-byte file has 3");
    expect_proto_err(ed2k_hashsetanswer_verify(&hs, 1000, &err), &err,
                     "a 1000-byte file has no hash set");
    uint8_t *q = dup_exact(p->payload, p->len);
    q[20] ^= 1;
    ck_assert_int_eq(ed2k_hashsetanswer_decode(q, p->len, &hs, &err), 0);
    expect_proto_err(ed2k_hashsetanswer_verify(&hs, ED2K_PARTSIZE, &err), &err,
                     "do not hash to the file hash");
    /* A count the payload cannot hold. */
    q[16] = 3;
    expect_proto_err(ed2k_hashsetanswer_decode(q, p->len, &hs, &err), &err,
                     "OP_HASHSETANSWER: 3 part hashes need 48 bytes, 32 left");
    ck_assert_uint_eq(hs.count, 0);
    free(q);
    for (size_t k = 0; k < p->len; k++) {
        q = dup_exact(p->payload, k);
        ck_assert_int_eq(ed2k_hashsetanswer_decode(q, k, &hs, &err), -1);
        mt_error_clear(&err);
        free(q);
    }
    ed2k_packet_free(p);
    /* An empty hash set. */
    ck_assert_int_eq(ed2k_hashsetanswer_encode(b, fh, NULL, 0, &err), 0);
    p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_HASHSETANSWER);
    ck_assert_int_eq(ed2k_hashsetanswer_decode(p->payload, p->len, &hs, &err), 0);
    ck_assert_uint_eq(hs.count, 0);
    ck_assert_ptr_null(hs.hashes);
    ed2k_packet_free(p);
    expect_err(ed2k_hashsetanswer_encode(b, fh, (const uint8_t (*)[16])parts, 65536, &err), &err,
               MT_ERR_INVALID, "do not fit");
    evbuffer_free(b);
}
END_TEST

/* ---- Upload queue ---- */

START_TEST(test_queue)
{
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    ed2k_queueranking_encode(b, 0x1234);
    size_t n;
    uint8_t *got = take(b, &n);
    static const uint8_t want[] = { 0xc5, 0x0d, 0, 0, 0, 0x60, 0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0,    0 };
    ck_assert_uint_eq(n, sizeof want);
    ck_assert_mem_eq(got, want, n);
    uint16_t rank = 0;
    ck_assert_int_eq(ed2k_queueranking_decode(got + 6, 12, &rank, &err), 0);
    ck_assert_uint_eq(rank, 0x1234);
    /* aMule rejects any other size. */
    for (size_t k = 0; k < 14; k++) {
        if (k == 12)
            continue;
        uint8_t buf[14] = { 0 };
        uint8_t *q = dup_exact(buf, k);
        ck_assert_int_eq(ed2k_queueranking_decode(q, k, &rank, &err), -1);
        ck_assert(strstr(err->message, "expected 12") != NULL);
        mt_error_clear(&err);
        free(q);
    }
    free(got);

    ed2k_queuerank_encode(b, 70000);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_QUEUERANK);
    uint32_t r32 = 0;
    ck_assert_int_eq(ed2k_queuerank_decode(p->payload, p->len, &r32, &err), 0);
    ck_assert_uint_eq(r32, 70000);
    expect_proto_err(ed2k_queuerank_decode(p->payload, 3, &r32, &err), &err,
                     "OP_QUEUERANK: payload is 3 bytes, expected at least 4");
    ed2k_packet_free(p);

    /* Empty messages. */
    ed2k_acceptuploadreq_encode(b);
    ed2k_canceltransfer_encode(b);
    ed2k_outofpartreqs_encode(b);
    ed2k_asksharedfiles_encode(b);
    ed2k_askshareddeniedans_encode(b);
    ed2k_publicip_req_encode(b);
    static const uint8_t ops[][2] = { { 0xE3, 0x55 }, { 0xE3, 0x56 }, { 0xE3, 0x57 },
                                      { 0xE3, 0x4A }, { 0xE3, 0x61 }, { 0xC5, 0x97 } };
    ck_assert_uint_eq(evbuffer_get_length(b), 6 * 6);
    for (size_t i = 0; i < 6; i++) {
        p = next_packet(b, ops[i][0], ops[i][1]);
        ck_assert_uint_eq(p->len, 0);
        ed2k_packet_free(p);
    }
    evbuffer_free(b);
}
END_TEST

/* ---- Block requests and data ---- */

START_TEST(test_live_requestparts)
{
    size_t n;
    uint8_t *pkt = hex(live_requestparts, &n);
    ck_assert_uint_eq(n, 46);
    mt_error_t *err = NULL;
    ed2k_requestparts_t rp;
    ck_assert_int_eq(ed2k_requestparts_decode(pkt + 6, n - 6, false, &rp, &err), 0);
    uint8_t fh[16];
    hash_of(file_9729000, fh);
    ck_assert_mem_eq(rp.hash, fh, 16);
    ck_assert_uint_eq(rp.n, 3);
    ck_assert_uint_eq(rp.ranges[0].start, 9728000);
    ck_assert_uint_eq(rp.ranges[0].end, 9729000);
    ck_assert_uint_eq(rp.ranges[1].start, 0);
    ck_assert_uint_eq(rp.ranges[1].end, 184320);
    ck_assert_uint_eq(rp.ranges[2].start, 184320);
    ck_assert_uint_eq(rp.ranges[2].end, 368640);
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_requestparts_encode(b, fh, rp.ranges, rp.n, false, &err), 0);
    size_t k;
    uint8_t *mine = take(b, &k);
    ck_assert_uint_eq(k, n);
    ck_assert_mem_eq(mine, pkt, n);
    free(mine);

    expect_proto_err(ed2k_requestparts_decode(pkt + 6, 30, false, &rp, &err), &err,
                     "OP_REQUESTPARTS: payload is 30 bytes, expected 40");
    for (k = 0; k < 40; k++) {
        uint8_t *q = dup_exact(pkt + 6, k);
        ck_assert_int_eq(ed2k_requestparts_decode(q, k, false, &rp, &err), -1);
        mt_error_clear(&err);
        free(q);
    }
    /* The 64-bit form needs 64 bytes. */
    expect_proto_err(ed2k_requestparts_decode(pkt + 6, 40, true, &rp, &err), &err,
                     "OP_REQUESTPARTS_I64: payload is 40 bytes, expected 64");
    /* end < start is refused; an empty slot is skipped. */
    uint8_t *q = dup_exact(pkt + 6, 40);
    memset(q + 16 + 4, 0, 4);
    memset(q + 16 + 16, 0, 4); /* slot 2: 0,0 */
    ck_assert_int_eq(ed2k_requestparts_decode(q, 40, false, &rp, &err), 0);
    ck_assert_uint_eq(rp.n, 2);
    ck_assert_uint_eq(rp.ranges[1].start, 184320);
    memset(q + 16 + 24 - 4, 0, 4); /* slot 3 end 0 < start 184320 */
    q[16 + 24 - 4] = 1;
    expect_proto_err(ed2k_requestparts_decode(q, 40, false, &rp, &err), &err,
                     "range 3 ends at 1, before its start 184320");
    ck_assert_uint_eq(rp.n, 0);
    free(q);

    /* Encoder errors. */
    ed2k_range_t bad[4] = { { 0, 10 }, { 10, 20 }, { 20, 30 }, { 30, 40 } };
    expect_err(ed2k_requestparts_encode(b, fh, bad, 4, false, &err), &err, MT_ERR_INVALID,
               "4 ranges");
    bad[1].end = 10;
    expect_err(ed2k_requestparts_encode(b, fh, bad, 2, false, &err), &err, MT_ERR_INVALID,
               "empty or reversed");
    bad[1].start = 0x100000000ULL;
    bad[1].end = 0x100000001ULL;
    expect_err(ed2k_requestparts_encode(b, fh, bad, 2, false, &err), &err, MT_ERR_INVALID,
               "needs OP_REQUESTPARTS_I64");
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    evbuffer_free(b);
    free(pkt);
}
END_TEST

START_TEST(test_requestparts_i64)
{
    mt_error_t *err = NULL;
    uint8_t fh[16] = { 9 };
    const uint64_t g5 = 5ULL << 30;
    ed2k_range_t r[2] = { { g5, g5 + 184320 }, { 0xFFFFFF00ULL, 0x100000100ULL } };
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_requestparts_encode(b, fh, r, 2, true, &err), 0);
    ck_assert_int_eq(ed2k_requestparts_encode(b, fh, NULL, 0, true, &err), 0);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_REQUESTPARTS_I64);
    ck_assert_uint_eq(p->len, 64);
    ed2k_requestparts_t rp;
    ck_assert_int_eq(ed2k_requestparts_decode(p->payload, p->len, true, &rp, &err), 0);
    ck_assert_uint_eq(rp.n, 2);
    ck_assert_uint_eq(rp.ranges[0].start, g5);
    ck_assert_uint_eq(rp.ranges[0].end, g5 + 184320);
    ck_assert_uint_eq(rp.ranges[1].start, 0xFFFFFF00ULL);
    ck_assert_uint_eq(rp.ranges[1].end, 0x100000100ULL);
    /* Unused slots are 0,0. */
    for (size_t i = 16 + 16; i < 16 + 24; i++)
        ck_assert_uint_eq(p->payload[i], 0);
    ed2k_packet_free(p);
    p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_REQUESTPARTS_I64);
    ck_assert_int_eq(ed2k_requestparts_decode(p->payload, p->len, true, &rp, &err), 0);
    ck_assert_uint_eq(rp.n, 0);
    ed2k_packet_free(p);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_sendingpart)
{
    mt_error_t *err = NULL;
    uint8_t fh[16] = { 7 };
    uint8_t data[100];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_sendingpart_encode(b, fh, 1000, data, 100, false, &err), 0);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_SENDINGPART);
    ck_assert_uint_eq(p->len, 24 + 100);
    ed2k_sendingpart_t sp;
    ck_assert_int_eq(ed2k_sendingpart_decode(p->payload, p->len, false, &sp, &err), 0);
    ck_assert_mem_eq(sp.hash, fh, 16);
    ck_assert_uint_eq(sp.start, 1000);
    ck_assert_uint_eq(sp.end, 1100);
    ck_assert_uint_eq(sp.len, 100);
    ck_assert_ptr_eq(sp.data, p->payload + 24);
    ck_assert_mem_eq(sp.data, data, 100);
    expect_proto_err(ed2k_sendingpart_decode(p->payload, p->len - 1, false, &sp, &err), &err,
                     "OP_SENDINGPART: range [1000, 1100) does not match 99 data bytes");
    ck_assert_ptr_null(sp.data);
    expect_proto_err(ed2k_sendingpart_decode(p->payload, 23, false, &sp, &err), &err,
                     "OP_SENDINGPART: payload is 23 bytes, shorter than the 24-byte header");
    /* end == start with no data: aMule's "corrupted data block". */
    uint8_t *q = dup_exact(p->payload, 24);
    memcpy(q + 20, q + 16, 4);
    expect_proto_err(ed2k_sendingpart_decode(q, 24, false, &sp, &err), &err, "no data");
    q[20] = 0; /* end < start */
    expect_proto_err(ed2k_sendingpart_decode(q, 24, false, &sp, &err), &err, "does not match");
    free(q);
    ed2k_packet_free(p);

    /* 64-bit offsets above 4 GiB. */
    const uint64_t g6 = 6ULL << 30;
    ck_assert_int_eq(ed2k_sendingpart_encode(b, fh, g6, data, 100, true, &err), 0);
    p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_SENDINGPART_I64);
    ck_assert_uint_eq(p->len, 32 + 100);
    ck_assert_int_eq(ed2k_sendingpart_decode(p->payload, p->len, true, &sp, &err), 0);
    ck_assert_uint_eq(sp.start, g6);
    ck_assert_uint_eq(sp.end, g6 + 100);
    ck_assert_mem_eq(sp.data, data, 100);
    for (size_t k = 0; k < p->len; k++) {
        q = dup_exact(p->payload, k);
        ck_assert_int_eq(ed2k_sendingpart_decode(q, k, true, &sp, &err), -1);
        mt_error_clear(&err);
        free(q);
    }
    ed2k_packet_free(p);

    /* Encoder errors: no data, an end beyond 32 bits without _I64, overflow. */
    expect_err(ed2k_sendingpart_encode(b, fh, 0, data, 0, false, &err), &err, MT_ERR_INVALID,
               "no data");
    expect_err(ed2k_sendingpart_encode(b, fh, 0xFFFFFFF0ULL, data, 100, false, &err), &err,
               MT_ERR_INVALID, "needs the _I64 form");
    expect_err(ed2k_sendingpart_encode(b, fh, UINT64_MAX - 10, data, 100, true, &err), &err,
               MT_ERR_INVALID, "overflow");
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    evbuffer_free(b);
}
END_TEST

/* reassemble: decodes all OP_SENDINGPART packets in b into buf (relative to
 * base) and returns how many there were. */
static size_t
reassemble(struct evbuffer *b, bool i64, uint64_t base, uint8_t *buf, size_t len,
           size_t *first_len)
{
    size_t n = 0, next = 0;
    while (evbuffer_get_length(b) > 0) {
        ed2k_packet_t *p = next_packet(b, i64 ? ED2K_PROT_EMULE : ED2K_PROT_EDONKEY,
                                       i64 ? ED2K_OP_SENDINGPART_I64 : ED2K_OP_SENDINGPART);
        ed2k_sendingpart_t sp;
        ck_assert_int_eq(ed2k_sendingpart_decode(p->payload, p->len, i64, &sp, NULL), 0);
        ck_assert_uint_eq(sp.start, base + next);
        ck_assert_uint_le(next + sp.len, len);
        memcpy(buf + next, sp.data, sp.len);
        if (n == 0)
            *first_len = sp.len;
        next += sp.len;
        n++;
        ed2k_packet_free(p);
    }
    ck_assert_uint_eq(next, len);
    return n;
}

START_TEST(test_sendingpart_block)
{
    /* §5.6: a 184,320-byte block goes as 18 packets of 10,240 bytes, a
     * 4,321-byte block as one packet. */
    ck_assert_uint_eq(ed2k_c2c_fragment_size(184320), 10240);
    ck_assert_uint_eq(ed2k_c2c_fragment_size(4321), 4321);
    ck_assert_uint_eq(ed2k_c2c_fragment_size(10240), 10240);
    ck_assert_uint_eq(ed2k_c2c_fragment_size(20479), 20479);
    ck_assert_uint_eq(ed2k_c2c_fragment_size(20480), 10240);
    ck_assert_uint_eq(ed2k_c2c_fragment_size(105569), 10556);
    mt_error_t *err = NULL;
    uint8_t fh[16] = { 3 };
    uint8_t *blk = text_block(184320, 1);
    uint8_t *back = xmalloc(184320);
    struct evbuffer *b = evbuffer_new();
    size_t first = 0;
    ck_assert_int_eq(ed2k_sendingpart_encode_block(b, fh, 368640, blk, 184320, false, &err), 0);
    ck_assert_uint_eq(reassemble(b, false, 368640, back, 184320, &first), 18);
    ck_assert_uint_eq(first, 10240);
    ck_assert_mem_eq(back, blk, 184320);
    ck_assert_int_eq(ed2k_sendingpart_encode_block(b, fh, 0, blk, 4321, false, &err), 0);
    ck_assert_uint_eq(reassemble(b, false, 0, back, 4321, &first), 1);
    /* 3 * 184320 + 1 bytes: 54 packets of 10240, the last 10241. */
    uint8_t *big = text_block(3 * 184320 + 1, 2);
    uint8_t *bigback = xmalloc(3 * 184320 + 1);
    const uint64_t g5 = 5ULL << 30;
    ck_assert_int_eq(ed2k_sendingpart_encode_block(b, fh, g5, big, 3 * 184320 + 1, true, &err),
                     0);
    ck_assert_uint_eq(reassemble(b, true, g5, bigback, 3 * 184320 + 1, &first), 54);
    ck_assert_mem_eq(bigback, big, 3 * 184320 + 1);
    expect_err(ed2k_sendingpart_encode_block(b, fh, g5, blk, 100, false, &err), &err,
               MT_ERR_INVALID, "_I64");
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    free(big);
    free(bigback);
    free(blk);
    free(back);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_live_compressedpart_header)
{
    /* §11.4: first fragment header of a 603-byte compressed block. */
    uint8_t fh[16];
    hash_of("706d558d31756c59666107e3b774e170", fh);
    uint8_t frag[603] = { 0x78, 0xda, 0xed, 0xca, 0xc1, 0x09 };
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_compressedpart_encode(b, fh, 0, 603, frag, 603, false, &err), 0);
    size_t n, hn;
    uint8_t *got = take(b, &n);
    uint8_t *want = hex("c5 74 02 00 00 40 706d558d31756c59666107e3b774e170 00 00 00 00"
                        "5b 02 00 00 78 da ed ca c1 09",
                        &hn);
    ck_assert_uint_eq(n, 6 + 16 + 8 + 603);
    ck_assert_mem_eq(got, want, hn);
    ed2k_compressedpart_t cp;
    ck_assert_int_eq(ed2k_compressedpart_decode(got + 6, n - 6, false, &cp, &err), 0);
    ck_assert_mem_eq(cp.hash, fh, 16);
    ck_assert_uint_eq(cp.start, 0);
    ck_assert_uint_eq(cp.packed_size, 603);
    ck_assert_uint_eq(cp.len, 603);
    ck_assert_ptr_eq(cp.data, got + 6 + 24);
    /* Errors: short header, no data, a fragment longer than the total. */
    for (size_t k = 0; k <= 24; k++) {
        uint8_t *q = dup_exact(got + 6, k);
        ck_assert_int_eq(ed2k_compressedpart_decode(q, k, false, &cp, &err), -1);
        mt_error_clear(&err);
        free(q);
    }
    expect_proto_err(ed2k_compressedpart_decode(got + 6, 24, false, &cp, &err), &err,
                     "OP_COMPRESSEDPART: no data");
    got[6 + 20] = 0x5a; /* total 602 */
    expect_proto_err(ed2k_compressedpart_decode(got + 6, n - 6, false, &cp, &err), &err,
                     "fragment of 603 bytes exceeds the compressed size of 602");
    ck_assert_int_eq(ed2k_compressedpart_decode(got + 6, n - 7, false, &cp, &err), 0);
    expect_err(ed2k_compressedpart_encode(b, fh, 0, 10, frag, 11, false, &err), &err,
               MT_ERR_INVALID, "exceeds");
    expect_err(ed2k_compressedpart_encode(b, fh, 0, 10, frag, 0, false, &err), &err,
               MT_ERR_INVALID, "no data");
    expect_err(ed2k_compressedpart_encode(b, fh, 1ULL << 32, 10, frag, 10, false, &err), &err,
               MT_ERR_INVALID, "_I64");
    /* The I64 header: 8-byte start. */
    ck_assert_int_eq(ed2k_compressedpart_encode(b, fh, 1ULL << 32, 10, frag, 10, true, &err), 0);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_COMPRESSEDPART_I64);
    ck_assert_uint_eq(p->len, 16 + 12 + 10);
    ck_assert_int_eq(ed2k_compressedpart_decode(p->payload, p->len, true, &cp, &err), 0);
    ck_assert_uint_eq(cp.start, 1ULL << 32);
    ck_assert_uint_eq(cp.packed_size, 10);
    ed2k_packet_free(p);
    free(got);
    free(want);
    evbuffer_free(b);
}
END_TEST

/* deflate_fragments: the fragments encode_block produced, decoded. */
static size_t
collect_fragments(struct evbuffer *b, bool i64, ed2k_packet_t **pkts, size_t max)
{
    size_t n = 0;
    while (evbuffer_get_length(b) > 0) {
        ck_assert_uint_lt(n, max);
        pkts[n++] = next_packet(b, ED2K_PROT_EMULE,
                                i64 ? ED2K_OP_COMPRESSEDPART_I64 : ED2K_OP_COMPRESSEDPART);
    }
    return n;
}

struct sink_state {
    uint64_t next;
    uint8_t *buf;
    uint64_t base;
};

static int
check_sink(void *ctx, uint64_t offset, const uint8_t *data, size_t len, mt_error_t **err)
{
    struct sink_state *s = ctx;
    ck_assert_uint_eq(offset, s->base + s->next);
    memcpy(s->buf + s->next, data, len);
    s->next += len;
    return 0;
}

static int
failing_sink(void *ctx, uint64_t offset, const uint8_t *data, size_t len, mt_error_t **err)
{
    mt_error_set(err, MT_ERR_IO, "disk full");
    return -1;
}

START_TEST(test_compressed_block)
{
    mt_error_t *err = NULL;
    uint8_t fh[16] = { 5 };
    const size_t L = ED2K_EMBLOCKSIZE;
    uint8_t *blk = text_block(L, 7);
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_compressedpart_encode_block(b, fh, 184320, blk, L, 9, false, &err),
                     ED2K_DEFLATE_OK);
    ed2k_packet_t *pk[64];
    size_t np = collect_fragments(b, false, pk, 64);
    /* Hex text compresses to a bit over half: about 10 fragments of
     * ~10 KiB, cut as aMule 2.3.3 does. */
    ed2k_compressedpart_t cp;
    ck_assert_int_eq(ed2k_compressedpart_decode(pk[0]->payload, pk[0]->len, false, &cp, &err), 0);
    uint32_t total = cp.packed_size;
    ck_assert_uint_lt(total, L);
    ck_assert_uint_gt(total, L / 2);
    size_t fs = ed2k_c2c_fragment_size(total);
    ck_assert_uint_eq(np, total / fs);
    ck_assert_uint_ge(np, 9);
    ck_assert_uint_le(np, 11);
    ck_assert_uint_eq(cp.data[0], 0x78);
    ck_assert_uint_eq(cp.data[1], 0xda); /* level 9 */

    /* Feed the fragments in order: the block comes back. */
    ed2k_inflater_t *inf = ed2k_inflater_new(184320, total, L);
    struct evbuffer *outb = evbuffer_new();
    size_t sum = 0;
    for (size_t i = 0; i < np; i++) {
        ck_assert_int_eq(ed2k_compressedpart_decode(pk[i]->payload, pk[i]->len, false, &cp, &err),
                         0);
        ck_assert_uint_eq(cp.start, 184320);
        ck_assert_uint_eq(cp.packed_size, total);
        ck_assert_uint_eq(cp.len, i + 1 < np ? fs : total - fs * (np - 1));
        ck_assert(!ed2k_inflater_is_done(inf));
        ck_assert_int_eq(ed2k_inflater_feed_evbuffer(inf, cp.data, cp.len, outb, &err), 0);
        sum += cp.len;
        ck_assert_uint_eq(ed2k_inflater_consumed(inf), sum);
    }
    ck_assert(ed2k_inflater_is_done(inf));
    ck_assert_uint_eq(ed2k_inflater_produced(inf), L);
    ck_assert_uint_eq(ed2k_inflater_block_start(inf), 184320);
    ck_assert_uint_eq(ed2k_inflater_packed_size(inf), total);
    size_t on;
    uint8_t *outp = take(outb, &on);
    ck_assert_uint_eq(on, L);
    ck_assert_mem_eq(outp, blk, L);
    free(outp);
    /* Anything after the end is an error, and the inflater stays failed. */
    expect_proto_err(ed2k_inflater_feed_evbuffer(inf, cp.data, 1, outb, &err), &err,
                     "data after the end");
    expect_proto_err(ed2k_inflater_feed_evbuffer(inf, cp.data, 1, outb, &err), &err,
                     "already failed");
    ed2k_inflater_free(inf);

    /* The sink gets file offsets. */
    struct sink_state st = { 0, xmalloc(L), 184320 };
    inf = ed2k_inflater_new(184320, total, L);
    for (size_t i = 0; i < np; i++) {
        ed2k_compressedpart_decode(pk[i]->payload, pk[i]->len, false, &cp, NULL);
        ck_assert_int_eq(ed2k_inflater_feed(inf, cp.data, cp.len, check_sink, &st, &err), 0);
    }
    ck_assert(ed2k_inflater_is_done(inf));
    ck_assert_uint_eq(st.next, L);
    ck_assert_mem_eq(st.buf, blk, L);
    ed2k_inflater_free(inf);
    free(st.buf);

    /* A sink error stops the stream. */
    inf = ed2k_inflater_new(184320, total, L);
    ed2k_compressedpart_decode(pk[0]->payload, pk[0]->len, false, &cp, NULL);
    expect_err(ed2k_inflater_feed(inf, cp.data, cp.len, failing_sink, NULL, &err), &err,
               MT_ERR_IO, "disk full");
    expect_proto_err(ed2k_inflater_feed(inf, cp.data, cp.len, failing_sink, NULL, &err), &err,
                     "already failed");
    ed2k_inflater_free(inf);

    /* A corrupt fragment fails at the latest at the end (Adler-32). */
    inf = ed2k_inflater_new(184320, total, L);
    int failed_at = -1;
    for (size_t i = 0; i < np && failed_at < 0; i++) {
        ed2k_compressedpart_decode(pk[i]->payload, pk[i]->len, false, &cp, NULL);
        uint8_t *frag = dup_exact(cp.data, cp.len);
        if (i == 1)
            for (size_t j = 100; j < 110; j++)
                frag[j] ^= 0x55;
        if (ed2k_inflater_feed_evbuffer(inf, frag, cp.len, outb, &err) < 0) {
            failed_at = (int)i;
            ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
            mt_error_clear(&err);
        }
        free(frag);
    }
    ck_assert_int_ge(failed_at, 1);
    ck_assert(!ed2k_inflater_is_done(inf));
    ed2k_inflater_free(inf);
    evbuffer_drain(outb, evbuffer_get_length(outb));

    /* More input than announced. */
    ed2k_compressedpart_decode(pk[0]->payload, pk[0]->len, false, &cp, NULL);
    inf = ed2k_inflater_new(184320, (uint32_t)(cp.len - 1), L);
    expect_proto_err(ed2k_inflater_feed_evbuffer(inf, cp.data, cp.len, outb, &err), &err,
                     "exceed the compressed size");
    ed2k_inflater_free(inf);
    /* A stream that inflates beyond max_out. */
    inf = ed2k_inflater_new(184320, total, L - 1);
    int rc = 0;
    for (size_t i = 0; i < np && rc == 0; i++) {
        ed2k_compressedpart_decode(pk[i]->payload, pk[i]->len, false, &cp, NULL);
        rc = ed2k_inflater_feed_evbuffer(inf, cp.data, cp.len, outb, &err);
    }
    expect_proto_err(rc, &err, "inflates beyond 184319 bytes");
    ck_assert_uint_le(evbuffer_get_length(outb), L - 1);
    ed2k_inflater_free(inf);
    evbuffer_drain(outb, evbuffer_get_length(outb));
    /* A stream that ends before the announced size ... */
    inf = ed2k_inflater_new(184320, total + 10, L);
    rc = 0;
    for (size_t i = 0; i < np && rc == 0; i++) {
        ed2k_compressedpart_decode(pk[i]->payload, pk[i]->len, false, &cp, NULL);
        rc = ed2k_inflater_feed_evbuffer(inf, cp.data, cp.len, outb, &err);
    }
    expect_proto_err(rc, &err, "ended after");
    ed2k_inflater_free(inf);
    /* ... or does not end within it. */
    ed2k_compressedpart_decode(pk[0]->payload, pk[0]->len, false, &cp, NULL);
    inf = ed2k_inflater_new(184320, (uint32_t)cp.len, L);
    expect_proto_err(ed2k_inflater_feed_evbuffer(inf, cp.data, cp.len, outb, &err), &err,
                     "does not end within");
    ed2k_inflater_free(inf);
    /* Garbage from the first byte. */
    inf = ed2k_inflater_new(0, 10, L);
    expect_proto_err(ed2k_inflater_feed_evbuffer(inf, (const uint8_t *)"0123456789", 10, outb,
                                                 &err),
                     &err, "corrupt zlib data");
    ed2k_inflater_free(inf);
    ed2k_inflater_free(NULL);

    for (size_t i = 0; i < np; i++)
        ed2k_packet_free(pk[i]);
    evbuffer_free(outb);
    free(blk);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_compressed_block_edges)
{
    mt_error_t *err = NULL;
    uint8_t fh[16] = { 6 };
    struct evbuffer *b = evbuffer_new();
    /* Random data does not compress: nothing is appended. */
    uint8_t *rnd = random_block(ED2K_EMBLOCKSIZE, 3);
    ck_assert_int_eq(ed2k_compressedpart_encode_block(b, fh, 0, rnd, ED2K_EMBLOCKSIZE, 9, false,
                                                      &err),
                     ED2K_DEFLATE_NOT_WORTH_IT);
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    ck_assert_ptr_null(err);
    /* Repetitive text: one packet (§5.6 live: 603 bytes, one packet). */
    uint8_t *rep = xmalloc(ED2K_EMBLOCKSIZE);
    for (size_t i = 0; i < ED2K_EMBLOCKSIZE; i++)
        rep[i] = (uint8_t)"line of text\n"[i % 13];
    const uint64_t g5 = 5ULL << 30;
    ck_assert_int_eq(ed2k_compressedpart_encode_block(b, fh, g5, rep, ED2K_EMBLOCKSIZE, 9, true,
                                                      &err),
                     ED2K_DEFLATE_OK);
    ed2k_packet_t *pk[4];
    ck_assert_uint_eq(collect_fragments(b, true, pk, 4), 1);
    ed2k_compressedpart_t cp;
    ck_assert_int_eq(ed2k_compressedpart_decode(pk[0]->payload, pk[0]->len, true, &cp, &err), 0);
    ck_assert_uint_eq(cp.start, g5);
    ck_assert_uint_eq(cp.len, cp.packed_size);
    ck_assert_uint_lt(cp.len, 10240);
    ed2k_inflater_t *inf = ed2k_inflater_new(g5, cp.packed_size, ED2K_EMBLOCKSIZE);
    struct sink_state st = { 0, xmalloc(ED2K_EMBLOCKSIZE), g5 };
    ck_assert_int_eq(ed2k_inflater_feed(inf, cp.data, cp.len, check_sink, &st, &err), 0);
    ck_assert(ed2k_inflater_is_done(inf));
    ck_assert_uint_eq(st.next, ED2K_EMBLOCKSIZE);
    ck_assert_mem_eq(st.buf, rep, ED2K_EMBLOCKSIZE);
    /* The inflater is fed byte by byte just as well. */
    ed2k_inflater_free(inf);
    inf = ed2k_inflater_new(g5, cp.packed_size, ED2K_EMBLOCKSIZE);
    st.next = 0;
    for (size_t i = 0; i < cp.len; i++)
        ck_assert_int_eq(ed2k_inflater_feed(inf, cp.data + i, 1, check_sink, &st, &err), 0);
    ck_assert(ed2k_inflater_is_done(inf));
    ck_assert_uint_eq(st.next, ED2K_EMBLOCKSIZE);
    ed2k_inflater_free(inf);
    free(st.buf);
    ed2k_packet_free(pk[0]);
    /* Argument errors. */
    ck_assert_int_eq(ed2k_compressedpart_encode_block(b, fh, 0, rep, 0, 9, false, &err),
                     ED2K_DEFLATE_ERROR);
    mt_error_clear(&err);
    ck_assert_int_eq(ed2k_compressedpart_encode_block(b, fh, 0, rep, 100, 10, false, &err),
                     ED2K_DEFLATE_ERROR);
    mt_error_clear(&err);
    ck_assert_int_eq(ed2k_compressedpart_encode_block(b, fh, g5, rep, 100, 1, false, &err),
                     ED2K_DEFLATE_ERROR);
    mt_error_clear(&err);
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    free(rep);
    free(rnd);
    evbuffer_free(b);
}
END_TEST

/* ---- Source exchange ---- */

START_TEST(test_hybrid_ids)
{
    /* 127.0.0.1: ed2k 0x0100007F, hybrid 0x7F000001. */
    ck_assert_uint_eq(ed2k_c2c_id_to_hybrid(0x0100007F), 0x7F000001);
    ck_assert_uint_eq(ed2k_c2c_id_from_hybrid(0x7F000001), 0x0100007F);
    /* LowIDs stay. */
    ck_assert_uint_eq(ed2k_c2c_id_to_hybrid(1234), 1234);
    ck_assert_uint_eq(ed2k_c2c_id_from_hybrid(1234), 1234);
    ck_assert(ed2k_c2c_is_lowid(0x00FFFFFF));
    ck_assert(!ed2k_c2c_is_lowid(0x01000000));
    /* 10.1.2.0 reads as a LowID in ed2k form; its hybrid form does not. */
    ck_assert(ed2k_c2c_is_lowid(0x0002010A));
    ck_assert_uint_eq(ed2k_c2c_id_from_hybrid(0x0A010200), 0x0002010A);
}
END_TEST

static void
fill_sources(ed2k_sx_source_t *s, size_t n)
{
    memset(s, 0, n * sizeof *s);
    for (size_t i = 0; i < n; i++) {
        s[i].id = 0x0A000001u + (uint32_t)i;
        s[i].port = (uint16_t)(4662 + i);
        s[i].server_ip = 0x01020304;
        s[i].server_port = 4242;
        memset(s[i].user_hash, (int)i + 1, 16);
        s[i].crypt_options = (uint8_t)(i | 0x80);
    }
}

START_TEST(test_answersources2)
{
    mt_error_t *err = NULL;
    uint8_t fh[16] = { 0xAB };
    ed2k_sx_source_t src[3];
    fill_sources(src, 3);
    struct evbuffer *b = evbuffer_new();
    static const size_t esize[5] = { 0, 12, 28, 28, 29 };
    for (uint8_t v = 1; v <= 4; v++) {
        ck_assert_int_eq(ed2k_answersources2_encode(b, v, fh, src, 3, &err), 0);
        ed2k_packet_t *p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_ANSWERSOURCES2);
        ck_assert_uint_eq(p->len, 1 + 16 + 2 + 3 * esize[v]);
        ed2k_answersources_t as;
        ck_assert_int_eq(ed2k_answersources2_decode(p->payload, p->len, &as, &err), 0);
        ck_assert_uint_eq(as.version, v);
        ck_assert_mem_eq(as.hash, fh, 16);
        ck_assert_uint_eq(as.count, 3);
        for (size_t i = 0; i < 3; i++) {
            ck_assert_uint_eq(as.sources[i].id, src[i].id);
            ck_assert_uint_eq(as.sources[i].port, src[i].port);
            ck_assert_uint_eq(as.sources[i].server_ip, src[i].server_ip);
            ck_assert_uint_eq(as.sources[i].server_port, src[i].server_port);
            if (v >= 2)
                ck_assert_mem_eq(as.sources[i].user_hash, src[i].user_hash, 16);
            else
                ck_assert_uint_eq(as.sources[i].user_hash[0], 0);
            ck_assert_uint_eq(as.sources[i].crypt_options, v >= 4 ? src[i].crypt_options : 0);
        }
        ed2k_answersources_clear(&as);
        /* The size must match the count exactly. */
        expect_proto_err(ed2k_answersources2_decode(p->payload, p->len - 1, &as, &err), &err,
                         "3 sources of version");
        ck_assert_ptr_null(as.sources);
        uint8_t *q = xmalloc(p->len + 1);
        memcpy(q, p->payload, p->len);
        q[p->len] = 0;
        expect_proto_err(ed2k_answersources2_decode(q, p->len + 1, &as, &err), &err, "follow");
        free(q);
        for (size_t k = 0; k < 19; k++) {
            q = dup_exact(p->payload, k);
            ck_assert_int_eq(ed2k_answersources2_decode(q, k, &as, &err), -1);
            mt_error_clear(&err);
            free(q);
        }
        /* The same sources as SX1 (no version byte): layout by size. */
        ed2k_packet_free(p);
        ck_assert_int_eq(ed2k_answersources_encode(b, v, fh, src, 3, &err), 0);
        p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_ANSWERSOURCES);
        ck_assert_uint_eq(p->len, 16 + 2 + 3 * esize[v]);
        ck_assert_int_eq(ed2k_answersources_decode(p->payload, p->len, v, &as, &err), 0);
        ck_assert_uint_eq(as.version, v);
        ck_assert_uint_eq(as.sources[2].id, src[2].id);
        ed2k_answersources_clear(&as);
        ed2k_packet_free(p);
    }
    /* Versions 0 and 5 are unknown. */
    uint8_t v5[19] = { 5 };
    ed2k_answersources_t as;
    expect_proto_err(ed2k_answersources2_decode(v5, 19, &as, &err), &err, "unknown version 5");
    v5[0] = 0;
    expect_proto_err(ed2k_answersources2_decode(v5, 19, &as, &err), &err, "unknown version 0");
    v5[0] = 4; /* count 0 */
    ck_assert_int_eq(ed2k_answersources2_decode(v5, 19, &as, &err), 0);
    ck_assert_uint_eq(as.count, 0);
    ck_assert_ptr_null(as.sources);
    ed2k_answersources_clear(&as);
    ed2k_answersources_clear(NULL);
    expect_err(ed2k_answersources2_encode(b, 5, fh, src, 1, &err), &err, MT_ERR_INVALID,
               "unknown version");
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_answersources_sx1)
{
    mt_error_t *err = NULL;
    uint8_t fh[16] = { 0xCD };
    ed2k_sx_source_t src[2];
    fill_sources(src, 2);
    struct evbuffer *b = evbuffer_new();
    ed2k_answersources_t as;
    /* 28-byte sources: v2 for an SX1-v2 peer, v3 (hybrid ids) for v3+. */
    ck_assert_int_eq(ed2k_answersources_encode(b, 3, fh, src, 2, &err), 0);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_ANSWERSOURCES);
    ck_assert_int_eq(ed2k_answersources_decode(p->payload, p->len, 2, &as, &err), 0);
    ck_assert_uint_eq(as.version, 2);
    ed2k_answersources_clear(&as);
    ck_assert_int_eq(ed2k_answersources_decode(p->payload, p->len, 4, &as, &err), 0);
    ck_assert_uint_eq(as.version, 3);
    ed2k_answersources_clear(&as);
    expect_proto_err(ed2k_answersources_decode(p->payload, p->len, 1, &as, &err), &err,
                     "OP_ANSWERSOURCES: 56 bytes for 2 sources fit no layout of SX1 version 1");
    expect_proto_err(ed2k_answersources_decode(p->payload, p->len - 1, 3, &as, &err), &err,
                     "fit no layout");
    ed2k_packet_free(p);
    /* 12-byte sources only from a v1 peer. */
    ck_assert_int_eq(ed2k_answersources_encode(b, 1, fh, src, 2, &err), 0);
    p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_ANSWERSOURCES);
    expect_proto_err(ed2k_answersources_decode(p->payload, p->len, 2, &as, &err), &err,
                     "fit no layout");
    ed2k_packet_free(p);
    /* An empty answer. */
    uint8_t e[18] = { 0 };
    ck_assert_int_eq(ed2k_answersources_decode(e, 18, 3, &as, &err), 0);
    ck_assert_uint_eq(as.count, 0);
    ck_assert_uint_eq(as.version, 3);
    for (size_t k = 0; k < 18; k++) {
        uint8_t *q = dup_exact(e, k);
        expect_proto_err(ed2k_answersources_decode(q, k, 3, &as, &err), &err, "truncated header");
        free(q);
    }
    evbuffer_free(b);
}
END_TEST

START_TEST(test_requestsources2)
{
    mt_error_t *err = NULL;
    uint8_t fh[16] = { 0x11, 0x22 };
    struct evbuffer *b = evbuffer_new();
    ed2k_requestsources2_encode(b, 4, 0x0102, fh);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_REQUESTSOURCES2);
    ck_assert_uint_eq(p->len, 19);
    ck_assert_uint_eq(p->payload[0], 4);
    ck_assert_uint_eq(p->payload[1], 2);
    ck_assert_uint_eq(p->payload[2], 1);
    ed2k_requestsources2_t rs;
    ck_assert_int_eq(ed2k_requestsources2_decode(p->payload, p->len, &rs, &err), 0);
    ck_assert_uint_eq(rs.version, 4);
    ck_assert_uint_eq(rs.options, 0x0102);
    ck_assert_mem_eq(rs.hash, fh, 16);
    expect_proto_err(ed2k_requestsources2_decode(p->payload, 16, &rs, &err), &err,
                     "OP_REQUESTSOURCES2: payload is 16 bytes, expected 19");
    ed2k_packet_free(p);
    evbuffer_free(b);
}
END_TEST

/* ---- Other packets ---- */

START_TEST(test_other_packets)
{
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    uint8_t fh[16] = { 1 }, aich[20], got_h[16], got_a[20];
    for (int i = 0; i < 20; i++)
        aich[i] = (uint8_t)(0xA0 + i);
    ed2k_aichfilehashans_encode(b, fh, aich);
    ed2k_packet_t *p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_AICHFILEHASHANS);
    ck_assert_uint_eq(p->len, 36);
    ck_assert_int_eq(ed2k_aichfilehashans_decode(p->payload, p->len, got_h, got_a, &err), 0);
    ck_assert_mem_eq(got_h, fh, 16);
    ck_assert_mem_eq(got_a, aich, 20);
    expect_proto_err(ed2k_aichfilehashans_decode(p->payload, 35, got_h, got_a, &err), &err,
                     "OP_AICHFILEHASHANS: payload is 35 bytes, expected at least 36");
    ed2k_packet_free(p);

    ed2k_publicip_answer_encode(b, 0x0100007F);
    p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_PUBLICIP_ANSWER);
    ck_assert_uint_eq(p->payload[0], 0x7F);
    uint32_t ip = 0;
    ck_assert_int_eq(ed2k_publicip_answer_decode(p->payload, p->len, &ip, &err), 0);
    ck_assert_uint_eq(ip, 0x0100007F);
    expect_proto_err(ed2k_publicip_answer_decode(p->payload, 3, &ip, &err), &err, "expected 4");
    uint8_t five[5] = { 0 };
    expect_proto_err(ed2k_publicip_answer_decode(five, 5, &ip, &err), &err, "expected 4");
    ed2k_packet_free(p);

    ck_assert_int_eq(ed2k_message_encode(b, "hi there", 8, &err), 0);
    p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_MESSAGE);
    const uint8_t *text;
    size_t tl;
    ck_assert_int_eq(ed2k_message_decode(p->payload, p->len, &text, &tl, &err), 0);
    ck_assert_uint_eq(tl, 8);
    ck_assert(memcmp(text, "hi there", 8) == 0);
    /* aMule requires length + 2 == size. */
    expect_proto_err(ed2k_message_decode(p->payload, p->len - 1, &text, &tl, &err), &err,
                     "OP_MESSAGE: text length 8 does not match the 9-byte payload");
    uint8_t *q = xmalloc(p->len + 1);
    memcpy(q, p->payload, p->len);
    q[p->len] = 0;
    expect_proto_err(ed2k_message_decode(q, p->len + 1, &text, &tl, &err), &err,
                     "does not match");
    expect_proto_err(ed2k_message_decode(q, 1, &text, &tl, &err), &err, "expected at least 2");
    ck_assert_ptr_null(text);
    free(q);
    ed2k_packet_free(p);

    ed2k_change_client_id_encode(b, 0x0100007F, 0x04030201);
    p = next_packet(b, ED2K_PROT_EDONKEY, ED2K_OP_CHANGE_CLIENT_ID);
    uint32_t id = 0, sip = 0;
    ck_assert_int_eq(ed2k_change_client_id_decode(p->payload, p->len, &id, &sip, &err), 0);
    ck_assert_uint_eq(id, 0x0100007F);
    ck_assert_uint_eq(sip, 0x04030201);
    expect_proto_err(ed2k_change_client_id_decode(p->payload, 7, &id, &sip, &err), &err,
                     "expected at least 8");
    ed2k_packet_free(p);

    ck_assert_int_eq(ed2k_filedesc_encode(b, 4, "nice", 4, &err), 0);
    p = next_packet(b, ED2K_PROT_EMULE, ED2K_OP_FILEDESC);
    ck_assert_uint_eq(p->len, 1 + 4 + 4);
    ed2k_filedesc_t fd;
    ck_assert_int_eq(ed2k_filedesc_decode(p->payload, p->len, &fd, &err), 0);
    ck_assert_uint_eq(fd.rating, 4);
    ck_assert_uint_eq(fd.text_len, 4);
    ck_assert(memcmp(fd.text, "nice", 4) == 0);
    /* A comment shorter than its length is read as it is (aMule). */
    ck_assert_int_eq(ed2k_filedesc_decode(p->payload, p->len - 2, &fd, &err), 0);
    ck_assert_uint_eq(fd.text_len, 2);
    expect_proto_err(ed2k_filedesc_decode(p->payload, 4, &fd, &err), &err,
                     "OP_FILEDESC: truncated header");
    ed2k_packet_free(p);
    evbuffer_free(b);
}
END_TEST

/* ---- Client UDP ---- */

START_TEST(test_udp_reask)
{
    mt_error_t *err = NULL;
    uint8_t fh[16];
    hash_of(file_9729000, fh);
    uint8_t bits[1] = { 0x02 };
    ed2k_reaskfileping_t rp = { .has_parts = true,
                                .parts = { 2, bits },
                                .has_complete_sources = true,
                                .complete_sources = 5 };
    memcpy(rp.hash, fh, 16);
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_reaskfileping_encode(b, &rp, &err), 0);
    size_t n;
    uint8_t *dg = take(b, &n);
    ck_assert_uint_eq(n, 2 + 16 + 2 + 1 + 2);
    ck_assert_uint_eq(dg[0], 0xC5);
    ck_assert_uint_eq(dg[1], 0x90);
    ck_assert_mem_eq(dg + 2, fh, 16);
    static const uint8_t tail[] = { 0x02, 0x00, 0x02, 0x05, 0x00 };
    ck_assert_mem_eq(dg + 18, tail, 5);
    ed2k_packet_t *u = NULL;
    ck_assert_int_eq(ed2k_udp_decode(dg, n, &u, &err), 0);
    ed2k_reaskfileping_t got;
    ck_assert_int_eq(ed2k_reaskfileping_decode(u->payload, u->len, 4, &got, &err), 0);
    ck_assert_mem_eq(got.hash, fh, 16);
    ck_assert(got.has_parts && got.has_complete_sources);
    ck_assert_uint_eq(got.parts.count, 2);
    ck_assert(ed2k_partstatus_get(&got.parts, 1) && !ed2k_partstatus_get(&got.parts, 0));
    ck_assert_uint_eq(got.complete_sources, 5);
    /* Without the count (older senders) it is still a v4 ping. */
    ck_assert_int_eq(ed2k_reaskfileping_decode(u->payload, u->len - 2, 4, &got, &err), 0);
    ck_assert(got.has_parts && !got.has_complete_sources);
    expect_proto_err(ed2k_reaskfileping_decode(u->payload, 18, 4, &got, &err), &err,
                     "part status bitmap for 2 parts needs 1 bytes, 0 left");
    expect_proto_err(ed2k_reaskfileping_decode(u->payload, 17, 4, &got, &err), &err,
                     "OP_REASKFILEPING: truncated part count");
    /* Version 3: the complete-source count only. */
    ck_assert_int_eq(ed2k_reaskfileping_decode(u->payload, u->len, 3, &got, &err), 0);
    ck_assert(!got.has_parts && got.has_complete_sources);
    ck_assert_uint_eq(got.complete_sources, 2);
    expect_proto_err(ed2k_reaskfileping_decode(u->payload, 17, 3, &got, &err), &err,
                     "truncated complete-source count");
    /* Version 2 and lower: the hash. */
    ck_assert_int_eq(ed2k_reaskfileping_decode(u->payload, 16, 2, &got, &err), 0);
    ck_assert(!got.has_parts && !got.has_complete_sources);
    expect_proto_err(ed2k_reaskfileping_decode(u->payload, 15, 2, &got, &err), &err,
                     "truncated file hash");
    ed2k_packet_free(u);
    free(dg);

    ed2k_reaskack_t ra = { .has_parts = true, .parts = { 2, bits }, .rank = 321 };
    ck_assert_int_eq(ed2k_reaskack_encode(b, &ra, &err), 0);
    dg = take(b, &n);
    static const uint8_t ack[] = { 0xC5, 0x91, 0x02, 0x00, 0x02, 0x41, 0x01 };
    ck_assert_uint_eq(n, sizeof ack);
    ck_assert_mem_eq(dg, ack, n);
    ed2k_reaskack_t ga;
    ck_assert_int_eq(ed2k_reaskack_decode(dg + 2, n - 2, 4, &ga, &err), 0);
    ck_assert(ga.has_parts);
    ck_assert_uint_eq(ga.parts.count, 2);
    ck_assert_uint_eq(ga.rank, 321);
    for (size_t k = 0; k < n - 2; k++) {
        uint8_t *q = dup_exact(dg + 2, k);
        ck_assert_int_eq(ed2k_reaskack_decode(q, k, 4, &ga, &err), -1);
        mt_error_clear(&err);
        free(q);
    }
    ck_assert_int_eq(ed2k_reaskack_decode(dg + 2 + 3, 2, 3, &ga, &err), 0);
    ck_assert(!ga.has_parts);
    ck_assert_uint_eq(ga.rank, 321);
    expect_proto_err(ed2k_reaskack_decode(dg + 2, 1, 3, &ga, &err), &err,
                     "OP_REASKACK: truncated queue rank");
    free(dg);

    ed2k_queuefull_encode(b);
    ed2k_filenotfound_encode(b);
    dg = take(b, &n);
    static const uint8_t empties[] = { 0xC5, 0x93, 0xC5, 0x92 };
    ck_assert_uint_eq(n, 4);
    ck_assert_mem_eq(dg, empties, 4);
    free(dg);

    rp.parts.bitmap = NULL;
    expect_err(ed2k_reaskfileping_encode(b, &rp, &err), &err, MT_ERR_INVALID, "no bitmap");
    ra.parts.bitmap = NULL;
    expect_err(ed2k_reaskack_encode(b, &ra, &err), &err, MT_ERR_INVALID, "no bitmap");
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    evbuffer_free(b);
}
END_TEST

/* ---- Every decoder, every truncation ---- */

/* Uniform wrappers: each decodes one message with fixed parameters. */
typedef int (*any_decode_fn)(const uint8_t *, size_t, mt_error_t **);

#define WRAP(name, call)                                                              \
    static int name(const uint8_t *p, size_t n, mt_error_t **err)                     \
    {                                                                                 \
        call;                                                                         \
    }

WRAP(w_hello, ed2k_hello_t h; int rc = ed2k_hello_decode(p, n, &h, err); ed2k_hello_clear(&h);
     return rc)
WRAP(w_helloanswer, ed2k_hello_t h; int rc = ed2k_helloanswer_decode(p, n, &h, err);
     ed2k_hello_clear(&h); return rc)
WRAP(w_emuleinfo, ed2k_emuleinfo_t e; int rc = ed2k_emuleinfo_decode(p, n, &e, err);
     ed2k_emuleinfo_clear(&e); return rc)
WRAP(w_mpext, ed2k_multipacket_t m;
     return ed2k_multipacket_decode(p, n, true, 2, ED2K_EXTINFO_EMULE, &m, err))
WRAP(w_mpans, ed2k_multipacket_answer_t a; return ed2k_multipacket_answer_decode(p, n, &a, err))
WRAP(w_rfn, ed2k_requestfilename_t r;
     return ed2k_requestfilename_decode(p, n, 2, ED2K_EXTINFO_EMULE, &r, err))
WRAP(w_rfna, ed2k_reqfilenameanswer_t r; return ed2k_reqfilenameanswer_decode(p, n, &r, err))
WRAP(w_fs, ed2k_filestatus_t f; return ed2k_filestatus_decode(p, n, &f, err))
WRAP(w_setreq, uint8_t h[16]; return ed2k_setreqfileid_decode(p, n, h, err))
WRAP(w_nofil, uint8_t h[16]; return ed2k_filereqansnofil_decode(p, n, h, err))
WRAP(w_hsreq, uint8_t h[16]; return ed2k_hashsetrequest_decode(p, n, h, err))
WRAP(w_start, uint8_t h[16]; return ed2k_startuploadreq_decode(p, n, h, err))
WRAP(w_eod, uint8_t h[16]; return ed2k_end_of_download_decode(p, n, h, err))
WRAP(w_rs1, uint8_t h[16]; return ed2k_requestsources_decode(p, n, h, err))
WRAP(w_aichreq, uint8_t h[16]; return ed2k_aichfilehashreq_decode(p, n, h, err))
WRAP(w_hsans, ed2k_hashsetanswer_t h; return ed2k_hashsetanswer_decode(p, n, &h, err))
WRAP(w_qrk, uint16_t r; return ed2k_queueranking_decode(p, n, &r, err))
WRAP(w_qr, uint32_t r; return ed2k_queuerank_decode(p, n, &r, err))
WRAP(w_rp, ed2k_requestparts_t r; return ed2k_requestparts_decode(p, n, false, &r, err))
WRAP(w_rp64, ed2k_requestparts_t r; return ed2k_requestparts_decode(p, n, true, &r, err))
WRAP(w_sp, ed2k_sendingpart_t s; return ed2k_sendingpart_decode(p, n, false, &s, err))
WRAP(w_cp64, ed2k_compressedpart_t c; return ed2k_compressedpart_decode(p, n, true, &c, err))
WRAP(w_rs2, ed2k_requestsources2_t r; return ed2k_requestsources2_decode(p, n, &r, err))
WRAP(w_as2, ed2k_answersources_t a; int rc = ed2k_answersources2_decode(p, n, &a, err);
     ed2k_answersources_clear(&a); return rc)
WRAP(w_as1, ed2k_answersources_t a; int rc = ed2k_answersources_decode(p, n, 4, &a, err);
     ed2k_answersources_clear(&a); return rc)
WRAP(w_aichans, uint8_t h[16]; uint8_t a[20]; return ed2k_aichfilehashans_decode(p, n, h, a, err))
WRAP(w_pip, uint32_t ip; return ed2k_publicip_answer_decode(p, n, &ip, err))
WRAP(w_msg, const uint8_t *t; size_t l; return ed2k_message_decode(p, n, &t, &l, err))
WRAP(w_cci, uint32_t a; uint32_t b; return ed2k_change_client_id_decode(p, n, &a, &b, err))
WRAP(w_fd, ed2k_filedesc_t f; return ed2k_filedesc_decode(p, n, &f, err))
WRAP(w_ping, ed2k_reaskfileping_t r; return ed2k_reaskfileping_decode(p, n, 4, &r, err))
WRAP(w_ack, ed2k_reaskack_t r; return ed2k_reaskack_decode(p, n, 4, &r, err))

START_TEST(test_truncation_sweep)
{
    /* For each decoder: a valid payload (hex), the shortest valid length
     * and another valid one (0: none; a multipacket may end between
     * sub-requests); every other shorter prefix must fail with a message
     * that names the packet, and never read past it (the prefix is an exact
     * allocation). */
    static const struct {
        any_decode_fn fn;
        const char *name;
        const char *payload;
        size_t min_ok;
        size_t also_ok;
    } t[] = {
        { w_emuleinfo, "OP_EMULEINFO", "48 01 01000000 03 0100 20 01000000", 15, 0 },
        { w_mpext, "OP_MULTIPACKET_EXT",
          "9996111562a252adb4736ee1f1e5dfe2 e873940000000000 58 0200 00 0000", 30, 24 },
        { w_mpans, "OP_MULTIPACKETANSWER", "00112233445566778899aabbccddeeff 59 0100 78", 20,
          16 },
        { w_rfn, "OP_REQUESTFILENAME", "00112233445566778899aabbccddeeff 0900 ff01 0300", 23, 0 },
        { w_rfna, "OP_REQFILENAMEANSWER", "00112233445566778899aabbccddeeff 0200 6162", 20, 0 },
        { w_fs, "OP_FILESTATUS", "00112233445566778899aabbccddeeff 0900 ff01", 20, 0 },
        { w_setreq, "OP_SETREQFILEID", "00112233445566778899aabbccddeeff", 16, 0 },
        { w_nofil, "OP_FILEREQANSNOFIL", "00112233445566778899aabbccddeeff", 16, 0 },
        { w_hsreq, "OP_HASHSETREQUEST", "00112233445566778899aabbccddeeff", 16, 0 },
        { w_start, "OP_STARTUPLOADREQ", "00112233445566778899aabbccddeeff", 16, 0 },
        { w_eod, "OP_END_OF_DOWNLOAD", "00112233445566778899aabbccddeeff", 16, 0 },
        { w_rs1, "OP_REQUESTSOURCES", "00112233445566778899aabbccddeeff", 16, 0 },
        { w_aichreq, "OP_AICHFILEHASHREQ", "00112233445566778899aabbccddeeff", 16, 0 },
        { w_hsans, "OP_HASHSETANSWER",
          "00112233445566778899aabbccddeeff 0100 00112233445566778899aabbccddeeff", 34, 0 },
        { w_qrk, "OP_QUEUERANKING", "0500 00000000 00000000 0000", 12, 0 },
        { w_qr, "OP_QUEUERANK", "05000000", 4, 0 },
        { w_rp, "OP_REQUESTPARTS",
          "00112233445566778899aabbccddeeff 00000000 00000000 00000000 0a000000 00000000 00000000",
          40, 0 },
        { w_rp64, "OP_REQUESTPARTS_I64",
          "00112233445566778899aabbccddeeff 0000000001000000 0000000000000000 0000000000000000"
          "0a00000001000000 0000000000000000 0000000000000000",
          64, 0 },
        { w_sp, "OP_SENDINGPART", "00112233445566778899aabbccddeeff 00000000 01000000 41", 25, 0 },
        { w_cp64, "OP_COMPRESSEDPART_I64",
          "00112233445566778899aabbccddeeff 0000000001000000 01000000 78", 29, 0 },
        { w_rs2, "OP_REQUESTSOURCES2", "04 0000 00112233445566778899aabbccddeeff", 19, 0 },
        { w_as2, "OP_ANSWERSOURCES2",
          "01 00112233445566778899aabbccddeeff 0100 0100007f 3612 04030201 9210", 31, 0 },
        { w_as1, "OP_ANSWERSOURCES",
          "00112233445566778899aabbccddeeff 0100 0100007f 3612 04030201 9210"
          "00112233445566778899aabbccddeeff 81",
          47, 46 }, /* 28 bytes a source: the v3 layout */
        { w_aichans, "OP_AICHFILEHASHANS",
          "00112233445566778899aabbccddeeff 00112233445566778899aabbccddeeff00112233", 36, 0 },
        { w_pip, "OP_PUBLICIP_ANSWER", "0100007f", 4, 0 },
        { w_msg, "OP_MESSAGE", "0300 616263", 5, 0 },
        { w_cci, "OP_CHANGE_CLIENT_ID", "0100007f 04030201", 8, 0 },
        { w_fd, "OP_FILEDESC", "05 03000000 616263", 5, 0 },
        { w_ping, "OP_REASKFILEPING", "00112233445566778899aabbccddeeff 0900 ff01 0300", 20, 0 },
        { w_ack, "OP_REASKACK", "0900 ff01 0700", 6, 0 },
    };
    mt_error_t *err = NULL;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t n;
        uint8_t *full = hex(t[i].payload, &n);
        uint8_t *q = dup_exact(full, n);
        ck_assert_msg(t[i].fn(q, n, &err) == 0, "%s: %s", t[i].name, err ? err->message : "");
        free(q);
        for (size_t k = 0; k < n; k++) {
            q = dup_exact(full, k);
            int rc = t[i].fn(q, k, &err);
            bool ok = k >= t[i].min_ok || (t[i].also_ok != 0 && k == t[i].also_ok);
            ck_assert_msg(rc == (ok ? 0 : -1), "%s at %zu bytes: %d", t[i].name, k, rc);
            if (rc < 0) {
                ck_assert_int_eq(err->code, MT_ERR_PROTOCOL);
                ck_assert_msg(strncmp(err->message, t[i].name, strlen(t[i].name)) == 0
                                  && err->message[strlen(t[i].name)] == ':',
                              "%s", err->message);
            }
            mt_error_clear(&err);
            free(q);
        }
        free(full);
    }
    /* The hellos: every prefix of the live dumps fails. */
    static const struct {
        any_decode_fn fn;
        const char *dump;
        const char *name;
    } hs[] = { { w_hello, live_hello, "OP_HELLO" }, { w_helloanswer, live_helloanswer, "OP_HELLOANSWER" } };
    for (size_t i = 0; i < 2; i++) {
        size_t n;
        uint8_t *pkt = hex(hs[i].dump, &n);
        for (size_t k = 0; k < n - 6; k++) {
            uint8_t *q = dup_exact(pkt + 6, k);
            ck_assert_int_eq(hs[i].fn(q, k, &err), -1);
            ck_assert(strncmp(err->message, hs[i].name, strlen(hs[i].name)) == 0);
            mt_error_clear(&err);
            free(q);
        }
        uint8_t *q = dup_exact(pkt + 6, n - 6);
        ck_assert_int_eq(hs[i].fn(q, n - 6, &err), 0);
        free(q);
        free(pkt);
    }
}
END_TEST

/* The client software a hello names, as aMule's client list shows it. */
START_TEST(test_hello_software)
{
    char buf[64];
    ed2k_hello_t h = { 0 };
    ed2k_hello_software(&h, buf, sizeof buf);
    ck_assert_str_eq(buf, "eDonkey");
    h.mldonkey = true;
    ed2k_hello_software(&h, buf, sizeof buf);
    ck_assert_str_eq(buf, "MLDonkey");
    h.mldonkey = false;
    h.has_emule_version = true;
    h.compat_client = ED2K_SO_AMULE;
    h.ver_major = 2;
    h.ver_minor = 3;
    h.ver_update = 3;
    ed2k_hello_software(&h, buf, sizeof buf);
    ck_assert_str_eq(buf, "aMule 2.3.3");
    h.compat_client = ED2K_SO_EMULE;
    h.ver_major = 0;
    h.ver_minor = 50;
    h.ver_update = 0;
    ed2k_hello_software(&h, buf, sizeof buf);
    ck_assert_str_eq(buf, "eMule 0.50a");
    h.compat_client = 0x55;
    ed2k_hello_software(&h, buf, sizeof buf);
    ck_assert_str_eq(buf, "unknown client 85 v0.50.0");
    ed2k_hello_software(&h, buf, 8); /* cut, terminated */
    ck_assert_str_eq(buf, "unknown");
}
END_TEST

/* The file data in framed packets: the whole block for OP_SENDINGPART
 * (and _I64), the compressed bytes for OP_COMPRESSEDPART, nothing for the
 * other packets; a packet cut short counts what it has. */
START_TEST(test_data_len)
{
    uint8_t fh[16];
    memset(fh, 0x5a, sizeof fh);
    uint8_t *blk = xmalloc(184320);
    for (size_t i = 0; i < 184320; i++)
        blk[i] = (uint8_t)(i * 7 + (i >> 9));
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(ed2k_sendingpart_encode_block(b, fh, 368640, blk, 184320, false, &err), 0);
    ck_assert_uint_eq(ed2k_c2c_data_len_evbuffer(b), 184320);
    evbuffer_drain(b, evbuffer_get_length(b));
    ck_assert_int_eq(ed2k_sendingpart_encode_block(b, fh, 5000000000ULL, blk, 1000, true, &err), 0);
    ed2k_startuploadreq_encode(b, fh);
    ck_assert_uint_eq(ed2k_c2c_data_len_evbuffer(b), 1000);
    evbuffer_drain(b, evbuffer_get_length(b));
    memset(blk, 'a', 184320);
    ck_assert_int_eq(ed2k_compressedpart_encode_block(b, fh, 0, blk, 184320, 9, false, &err),
                     ED2K_DEFLATE_OK);
    size_t wire = evbuffer_get_length(b), data = ed2k_c2c_data_len_evbuffer(b);
    ck_assert_uint_gt(data, 0);
    ck_assert_uint_lt(data, wire);
    /* one fragment here: header 6, hash 16, start 4, packed size 4 */
    ck_assert_uint_eq(data, wire - 6 - 16 - 4 - 4);
    evbuffer_drain(b, evbuffer_get_length(b));
    ck_assert_int_eq(ed2k_sendingpart_encode(b, fh, 0, blk, 100, false, &err), 0);
    struct evbuffer *cut = evbuffer_new();
    evbuffer_remove_buffer(b, cut, 6 + 24 + 40); /* 40 of the 100 data bytes */
    ck_assert_uint_eq(ed2k_c2c_data_len_evbuffer(cut), 40);
    ck_assert_uint_eq(ed2k_c2c_data_len(ED2K_PROTO_EDONKEY, ED2K_OP_SENDINGPART, 10), 0);
    ck_assert_uint_eq(ed2k_c2c_data_len(ED2K_PROTO_EMULE, ED2K_OP_SENDINGPART, 100), 0);
    ck_assert_uint_eq(ed2k_c2c_data_len(ED2K_PROTO_EMULE, ED2K_OP_COMPRESSEDPART_I64, 100), 72);
    evbuffer_free(cut);
    evbuffer_free(b);
    free(blk);
}
END_TEST

static Suite *
c2c_suite(void)
{
    Suite *s = suite_create("ed2k_c2c");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_live_hello);
    tcase_add_test(tc, test_live_helloanswer);
    tcase_add_test(tc, test_hello_variants);
    tcase_add_test(tc, test_hello_truncated);
    tcase_add_test(tc, test_caps_bits);
    tcase_add_test(tc, test_emuleinfo);
    tcase_add_test(tc, test_live_multipacket_ext);
    tcase_add_test(tc, test_extinfo_styles);
    tcase_add_test(tc, test_live_multipacketanswer);
    tcase_add_test(tc, test_requestfilename);
    tcase_add_test(tc, test_filestatus);
    tcase_add_test(tc, test_partstatus_helpers);
    tcase_add_test(tc, test_hash_only);
    tcase_add_test(tc, test_hashset);
    tcase_add_test(tc, test_queue);
    tcase_add_test(tc, test_live_requestparts);
    tcase_add_test(tc, test_requestparts_i64);
    tcase_add_test(tc, test_sendingpart);
    tcase_add_test(tc, test_sendingpart_block);
    tcase_add_test(tc, test_live_compressedpart_header);
    tcase_add_test(tc, test_compressed_block);
    tcase_add_test(tc, test_compressed_block_edges);
    tcase_add_test(tc, test_hybrid_ids);
    tcase_add_test(tc, test_answersources2);
    tcase_add_test(tc, test_answersources_sx1);
    tcase_add_test(tc, test_requestsources2);
    tcase_add_test(tc, test_other_packets);
    tcase_add_test(tc, test_udp_reask);
    tcase_add_test(tc, test_truncation_sweep);
    tcase_add_test(tc, test_hello_software);
    tcase_add_test(tc, test_data_len);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(c2c_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
