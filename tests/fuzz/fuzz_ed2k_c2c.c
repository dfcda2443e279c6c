/* fuzz_ed2k_c2c.c: libFuzzer target for the client-to-client codecs: every
 * decoder, re-encode and re-decode of what decoded, the compressed stream. */
#include "config.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/c2c.h"
#include "ed2k/hash.h"
#include "ed2k/packet.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Input: two parameter bytes, then the payload every decoder gets.
 *   a: bits 0-1 extended-requests version, bit 2 extinfo style,
 *      bits 3-5 UDP version, bits 6-7 inflater fragment stride
 *   b: bits 0-2 SX1 version, bits 3-6 zlib level, bit 7 inflater limit */

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_ed2k_c2c: %s\n", what);
    abort();
}

static void
check(bool ok, const char *what)
{
    if (!ok)
        fail(what);
}

/* A decoder either succeeds without an error or fails with one. */
static bool
outcome(int rc, mt_error_t **err, const char *what)
{
    if (rc == 0) {
        check(*err == NULL, what);
        return true;
    }
    check(rc == -1 && *err != NULL && (*err)->message != NULL, what);
    mt_error_clear(err);
    return false;
}

/* frame: takes the single framed packet out of b and checks its header. */
static ed2k_packet_t *
frame(struct evbuffer *b, uint8_t proto, uint8_t op)
{
    ed2k_packet_t *p = NULL;
    mt_error_t *err = NULL;
    if (ed2k_packet_decode_evbuffer(b, 0xFFFFFFFEu, &p, &err) != ED2K_FRAME_OK)
        fail("encoder output does not frame");
    check(p->proto == proto && p->opcode == op, "wrong protocol or opcode");
    check(evbuffer_get_length(b) == 0, "encoder wrote more than one packet");
    return p;
}

static bool
same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool
same_ps(const ed2k_partstatus_t *a, const ed2k_partstatus_t *b)
{
    size_t n = ed2k_partstatus_bytes(a->count);
    return a->count == b->count && (n == 0 || memcmp(a->bitmap, b->bitmap, n) == 0);
}

static bool
same_ext(const ed2k_extinfo_t *a, const ed2k_extinfo_t *b)
{
    return a->has_parts == b->has_parts && (!a->has_parts || same_ps(&a->parts, &b->parts))
        && a->has_complete_sources == b->has_complete_sources
        && a->complete_sources == b->complete_sources;
}

static void
fuzz_hello(const uint8_t *p, size_t len, bool answer)
{
    mt_error_t *err = NULL;
    ed2k_hello_t h;
    int rc = answer ? ed2k_helloanswer_decode(p, len, &h, &err) : ed2k_hello_decode(p, len, &h, &err);
    if (!outcome(rc, &err, "hello outcome"))
        return;
    ed2k_caps_t c;
    ed2k_caps_from_hello(&h, &c);
    check(!h.has_misc1 || ed2k_caps_to_misc1(&c) == h.misc1, "misc1 round trip");
    check(!h.has_emule_version || (h.emule_version >> 24) == h.compat_client, "compat id");

    ed2k_hello_params_t hp;
    memset(&hp, 0, sizeof hp);
    memcpy(hp.user_hash, h.user_hash, 16);
    hp.client_id = h.client_id;
    hp.tcp_port = h.tcp_port;
    hp.udp_port = h.udp_port;
    hp.kad_port = h.kad_port;
    /* A name with a NUL inside cannot be passed as a C string; one that
     * still starts with a BOM (the wire had two) loses it once more. */
    bool name_ok = h.name != NULL && strlen(h.name) == h.name_len
        && !(h.name_len >= 3 && memcmp(h.name, "\xef\xbb\xbf", 3) == 0);
    hp.nickname = name_ok ? h.name : NULL;
    hp.compat_client = h.compat_client;
    hp.ver_major = h.ver_major;
    hp.ver_minor = h.ver_minor;
    hp.ver_update = h.ver_update;
    hp.misc1 = h.misc1;
    hp.misc2 = h.misc2;
    hp.has_buddy = h.has_buddy_ip;
    hp.buddy_ip = h.buddy_ip;
    hp.buddy_port = h.buddy_port;
    hp.send_compat_options = h.has_compat_options;
    hp.compat_options = h.compat_options;
    bool mod_ok = h.mod_version != NULL && strlen(h.mod_version) < 65536
        && strncmp(h.mod_version, "\xef\xbb\xbf", 3) != 0;
    hp.mod_version = mod_ok ? h.mod_version : NULL;
    hp.server_ip = h.server_ip;
    hp.server_port = h.server_port;
    struct evbuffer *b = evbuffer_new();
    rc = answer ? ed2k_helloanswer_encode(b, &hp, &err) : ed2k_hello_encode(b, &hp, &err);
    if (rc != 0) {
        /* Only an over-long (converted) name may not fit. */
        check(err != NULL, "hello encode error without message");
        mt_error_clear(&err);
        evbuffer_free(b);
        ed2k_hello_clear(&h);
        return;
    }
    ed2k_packet_t *pk = frame(b, ED2K_PROT_EDONKEY, answer ? ED2K_OP_HELLOANSWER : ED2K_OP_HELLO);
    ed2k_hello_t g;
    rc = answer ? ed2k_helloanswer_decode(pk->payload, pk->len, &g, &err)
                : ed2k_hello_decode(pk->payload, pk->len, &g, &err);
    check(rc == 0, "re-encoded hello does not decode");
    check(memcmp(g.user_hash, h.user_hash, 16) == 0 && g.client_id == h.client_id
              && g.tcp_port == h.tcp_port && g.server_ip == h.server_ip
              && g.server_port == h.server_port && g.udp_port == h.udp_port
              && g.kad_port == h.kad_port && g.misc1 == h.misc1 && g.misc2 == h.misc2
              && g.compat_client == h.compat_client && g.ver_major == h.ver_major
              && g.ver_minor == h.ver_minor && g.ver_update == h.ver_update
              && g.has_compat_options == h.has_compat_options
              && g.compat_options == h.compat_options && !g.mldonkey && !g.hybrid,
          "hello round trip differs");
    check(!name_ok || (g.name_len == h.name_len && memcmp(g.name, h.name, h.name_len) == 0),
          "hello name differs");
    check(!mod_ok || strcmp(g.mod_version, h.mod_version) == 0, "hello mod version differs");
    check(!h.has_buddy_ip || (g.buddy_ip == h.buddy_ip && g.buddy_port == h.buddy_port),
          "hello buddy differs");
    ed2k_hello_clear(&g);
    ed2k_packet_free(pk);
    evbuffer_free(b);
    ed2k_hello_clear(&h);
}

static void
fuzz_emuleinfo(const uint8_t *p, size_t len)
{
    mt_error_t *err = NULL;
    ed2k_emuleinfo_t ei;
    if (!outcome(ed2k_emuleinfo_decode(p, len, &ei, &err), &err, "emuleinfo outcome"))
        return;
    ed2k_caps_t c;
    check(ed2k_caps_from_emuleinfo(&ei, &c) == (ei.protocol == ED2K_EMULE_PROTOCOL),
          "caps from emuleinfo");
    struct evbuffer *b = evbuffer_new();
    check(ed2k_emuleinfo_encode(b, true, ei.version, ei.protocol, ei.tags, &err) == 0,
          "emuleinfo encode");
    ed2k_packet_t *pk = frame(b, ED2K_PROT_EMULE, ED2K_OP_EMULEINFOANSWER);
    ed2k_emuleinfo_t g;
    check(ed2k_emuleinfo_decode(pk->payload, pk->len, &g, &err) == 0, "emuleinfo re-decode");
    check(g.version == ei.version && g.protocol == ei.protocol
              && ed2k_taglist_equal(g.tags, ei.tags) && g.data_comp_ver == ei.data_comp_ver
              && g.udp_ver == ei.udp_ver && g.udp_port == ei.udp_port && g.sx1_ver == ei.sx1_ver
              && g.comments_ver == ei.comments_ver && g.ext_req_ver == ei.ext_req_ver
              && g.compat_client == ei.compat_client && g.features == ei.features,
          "emuleinfo round trip differs");
    check((g.mod_version == NULL) == (ei.mod_version == NULL)
              && (g.mod_version == NULL || strcmp(g.mod_version, ei.mod_version) == 0),
          "emuleinfo mod version differs");
    check((g.os_info == NULL) == (ei.os_info == NULL), "emuleinfo os info differs");
    ed2k_emuleinfo_clear(&g);
    ed2k_packet_free(pk);
    evbuffer_free(b);
    ed2k_emuleinfo_clear(&ei);
}

static void
fuzz_multipacket(const uint8_t *p, size_t len, bool ext, uint8_t xv, ed2k_extinfo_style_t st)
{
    mt_error_t *err = NULL;
    ed2k_multipacket_t m, g;
    if (!outcome(ed2k_multipacket_decode(p, len, ext, xv, st, &m, &err), &err,
                 "multipacket outcome"))
        return;
    check(m.extinfo.has_parts == (m.req_filename && xv > 0), "extinfo presence");
    struct evbuffer *b = evbuffer_new();
    check(ed2k_multipacket_encode(b, &m, &err) == 0, "multipacket encode");
    ed2k_packet_t *pk = frame(b, ED2K_PROT_EMULE, ext ? ED2K_OP_MULTIPACKET_EXT : ED2K_OP_MULTIPACKET);
    check(pk->len <= len, "canonical multipacket is longer");
    check(ed2k_multipacket_decode(pk->payload, pk->len, ext, xv, st, &g, &err) == 0,
          "multipacket re-decode");
    check(memcmp(g.hash, m.hash, 16) == 0 && g.ext == m.ext && g.size == m.size
              && g.req_filename == m.req_filename && same_ext(&g.extinfo, &m.extinfo)
              && g.req_status == m.req_status && g.req_sources == m.req_sources
              && g.req_sources2 == m.req_sources2 && g.sx2_version == m.sx2_version
              && g.sx2_options == m.sx2_options && g.req_aich == m.req_aich,
          "multipacket round trip differs");
    ed2k_packet_free(pk);
    evbuffer_free(b);
}

static void
fuzz_multipacket_answer(const uint8_t *p, size_t len)
{
    mt_error_t *err = NULL;
    ed2k_multipacket_answer_t a, g;
    if (!outcome(ed2k_multipacket_answer_decode(p, len, &a, &err), &err, "mp answer outcome"))
        return;
    struct evbuffer *b = evbuffer_new();
    check(ed2k_multipacket_answer_encode(b, &a, &err) == 0, "mp answer encode");
    ed2k_packet_t *pk = frame(b, ED2K_PROT_EMULE, ED2K_OP_MULTIPACKETANSWER);
    check(pk->len <= len, "canonical mp answer is longer");
    check(ed2k_multipacket_answer_decode(pk->payload, pk->len, &g, &err) == 0,
          "mp answer re-decode");
    check(memcmp(g.hash, a.hash, 16) == 0 && g.has_name == a.has_name
              && same_bytes(g.name, g.name_len, a.name, a.name_len)
              && g.has_status == a.has_status && (!a.has_status || same_ps(&g.status, &a.status))
              && g.has_aich == a.has_aich && memcmp(g.aich, a.aich, ED2K_AICH_HASH_LEN) == 0,
          "mp answer round trip differs");
    ed2k_packet_free(pk);
    evbuffer_free(b);
}

static void
fuzz_filerequests(const uint8_t *p, size_t len, uint8_t xv, ed2k_extinfo_style_t st)
{
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    ed2k_requestfilename_t r, rg;
    if (outcome(ed2k_requestfilename_decode(p, len, xv, st, &r, &err), &err, "rfn outcome")) {
        check(ed2k_requestfilename_encode(b, r.hash, &r.extinfo, &err) == 0, "rfn encode");
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EDONKEY, ED2K_OP_REQUESTFILENAME);
        check(ed2k_requestfilename_decode(pk->payload, pk->len, xv, st, &rg, &err) == 0,
              "rfn re-decode");
        check(memcmp(rg.hash, r.hash, 16) == 0 && same_ext(&rg.extinfo, &r.extinfo),
              "rfn round trip differs");
        ed2k_packet_free(pk);
    }
    ed2k_reqfilenameanswer_t fa, fg;
    if (outcome(ed2k_reqfilenameanswer_decode(p, len, &fa, &err), &err, "rfna outcome")) {
        check(ed2k_reqfilenameanswer_encode(b, fa.hash, fa.name, fa.name_len, &err) == 0,
              "rfna encode");
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EDONKEY, ED2K_OP_REQFILENAMEANSWER);
        check(pk->len <= len && memcmp(pk->payload, p, pk->len) == 0, "rfna bytes differ");
        check(ed2k_reqfilenameanswer_decode(pk->payload, pk->len, &fg, &err) == 0,
              "rfna re-decode");
        ed2k_packet_free(pk);
    }
    ed2k_filestatus_t fs, fsg;
    if (outcome(ed2k_filestatus_decode(p, len, &fs, &err), &err, "filestatus outcome")) {
        check(ed2k_filestatus_encode(b, fs.hash, &fs.status, &err) == 0, "filestatus encode");
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EDONKEY, ED2K_OP_FILESTATUS);
        check(pk->len <= len && memcmp(pk->payload, p, pk->len) == 0, "filestatus bytes differ");
        check(ed2k_filestatus_decode(pk->payload, pk->len, &fsg, &err) == 0,
              "filestatus re-decode");
        /* The check accepts exactly one size range per count. */
        uint64_t size = fs.status.count ? (uint64_t)(fs.status.count - 1) * ED2K_PARTSIZE : 1;
        check(ed2k_partstatus_check(&fs.status, size, "X", &err) == 0, "partstatus check");
        if (fs.status.count > 1) {
            check(ed2k_partstatus_check(&fs.status, size - 1, "X", &err) == -1, "partstatus low");
            mt_error_clear(&err);
        }
        ed2k_packet_free(pk);
    }
    evbuffer_free(b);
}

typedef int (*hash_decode_fn)(const uint8_t *, size_t, uint8_t[16], mt_error_t **);
typedef void (*hash_encode_fn)(struct evbuffer *, const uint8_t[16]);

static void
fuzz_hash_only(const uint8_t *p, size_t len)
{
    static const struct {
        hash_decode_fn dec;
        hash_encode_fn enc;
        uint8_t proto, op;
        bool exact;
    } t[] = {
        { ed2k_setreqfileid_decode, ed2k_setreqfileid_encode, 0xE3, 0x4F, true },
        { ed2k_filereqansnofil_decode, ed2k_filereqansnofil_encode, 0xE3, 0x48, true },
        { ed2k_hashsetrequest_decode, ed2k_hashsetrequest_encode, 0xE3, 0x51, true },
        { ed2k_startuploadreq_decode, ed2k_startuploadreq_encode, 0xE3, 0x54, true },
        { ed2k_end_of_download_decode, ed2k_end_of_download_encode, 0xE3, 0x49, false },
        { ed2k_requestsources_decode, ed2k_requestsources_encode, 0xC5, 0x81, true },
        { ed2k_aichfilehashreq_decode, ed2k_aichfilehashreq_encode, 0xC5, 0x9E, false },
    };
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t h[16];
        bool ok = outcome(t[i].dec(p, len, h, &err), &err, "hash-only outcome");
        check(ok == (t[i].exact ? len == 16 : len >= 16), "hash-only size rule");
        if (!ok)
            continue;
        t[i].enc(b, h);
        ed2k_packet_t *pk = frame(b, t[i].proto, t[i].op);
        check(pk->len == 16 && memcmp(pk->payload, p, 16) == 0, "hash-only bytes differ");
        ed2k_packet_free(pk);
    }
    evbuffer_free(b);
}

static void
fuzz_hashset(const uint8_t *p, size_t len)
{
    mt_error_t *err = NULL;
    ed2k_hashsetanswer_t hs, g;
    if (!outcome(ed2k_hashsetanswer_decode(p, len, &hs, &err), &err, "hashset outcome"))
        return;
    check(len >= 18 + (size_t)hs.count * 16, "hashset count overruns");
    struct evbuffer *b = evbuffer_new();
    check(ed2k_hashsetanswer_encode(b, hs.hash, (const uint8_t (*)[16])hs.hashes, hs.count, &err)
              == 0,
          "hashset encode");
    ed2k_packet_t *pk = frame(b, ED2K_PROT_EDONKEY, ED2K_OP_HASHSETANSWER);
    check(pk->len == 18 + (size_t)hs.count * 16 && memcmp(pk->payload, p, pk->len) == 0,
          "hashset bytes differ");
    check(ed2k_hashsetanswer_decode(pk->payload, pk->len, &g, &err) == 0, "hashset re-decode");
    uint64_t size = hs.count ? (uint64_t)(hs.count - 1) * ED2K_PARTSIZE + 1 : 1;
    outcome(ed2k_hashsetanswer_verify(&hs, size, &err), &err, "hashset verify outcome");
    ed2k_packet_free(pk);
    evbuffer_free(b);
}

static void
fuzz_blocks(const uint8_t *p, size_t len)
{
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    for (int i64 = 0; i64 < 2; i64++) {
        ed2k_requestparts_t rp, rg;
        if (outcome(ed2k_requestparts_decode(p, len, i64, &rp, &err), &err, "rp outcome")) {
            check(rp.n <= 3, "too many ranges");
            check(ed2k_requestparts_encode(b, rp.hash, rp.ranges, rp.n, i64, &err) == 0,
                  "rp encode");
            ed2k_packet_t *pk = frame(b, i64 ? ED2K_PROT_EMULE : ED2K_PROT_EDONKEY,
                                      i64 ? ED2K_OP_REQUESTPARTS_I64 : ED2K_OP_REQUESTPARTS);
            check(ed2k_requestparts_decode(pk->payload, pk->len, i64, &rg, &err) == 0
                      && rg.n == rp.n && memcmp(rg.hash, rp.hash, 16) == 0
                      && memcmp(rg.ranges, rp.ranges, rp.n * sizeof rp.ranges[0]) == 0,
                  "rp round trip differs");
            ed2k_packet_free(pk);
        }
        ed2k_sendingpart_t sp, sg;
        if (outcome(ed2k_sendingpart_decode(p, len, i64, &sp, &err), &err, "sp outcome")) {
            check(sp.data >= p && sp.data + sp.len == p + len && sp.end - sp.start == sp.len,
                  "sp slice");
            check(ed2k_sendingpart_encode(b, sp.hash, sp.start, sp.data, sp.len, i64, &err) == 0,
                  "sp encode");
            ed2k_packet_t *pk = frame(b, i64 ? ED2K_PROT_EMULE : ED2K_PROT_EDONKEY,
                                      i64 ? ED2K_OP_SENDINGPART_I64 : ED2K_OP_SENDINGPART);
            check(same_bytes(pk->payload, pk->len, p, len), "sp bytes differ");
            check(ed2k_sendingpart_decode(pk->payload, pk->len, i64, &sg, &err) == 0,
                  "sp re-decode");
            ed2k_packet_free(pk);
        }
        ed2k_compressedpart_t cp, cg;
        if (outcome(ed2k_compressedpart_decode(p, len, i64, &cp, &err), &err, "cp outcome")) {
            check(cp.len > 0 && cp.len <= cp.packed_size && cp.data + cp.len == p + len,
                  "cp slice");
            check(ed2k_compressedpart_encode(b, cp.hash, cp.start, cp.packed_size, cp.data,
                                             cp.len, i64, &err)
                      == 0,
                  "cp encode");
            ed2k_packet_t *pk = frame(b, ED2K_PROT_EMULE,
                                      i64 ? ED2K_OP_COMPRESSEDPART_I64 : ED2K_OP_COMPRESSEDPART);
            check(same_bytes(pk->payload, pk->len, p, len), "cp bytes differ");
            check(ed2k_compressedpart_decode(pk->payload, pk->len, i64, &cg, &err) == 0,
                  "cp re-decode");
            ed2k_packet_free(pk);
        }
    }
    evbuffer_free(b);
}

static void
same_sources(const ed2k_answersources_t *a, const ed2k_answersources_t *g)
{
    check(a->version == g->version && a->count == g->count && memcmp(a->hash, g->hash, 16) == 0,
          "sources header differs");
    for (size_t i = 0; i < a->count; i++)
        check(memcmp(&a->sources[i], &g->sources[i], sizeof a->sources[i]) == 0,
              "source differs");
}

static void
fuzz_sources(const uint8_t *p, size_t len, uint8_t sx1)
{
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    ed2k_requestsources2_t rs;
    if (outcome(ed2k_requestsources2_decode(p, len, &rs, &err), &err, "rs2 outcome")) {
        ed2k_requestsources2_encode(b, rs.version, rs.options, rs.hash);
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EMULE, ED2K_OP_REQUESTSOURCES2);
        check(same_bytes(pk->payload, pk->len, p, len), "rs2 bytes differ");
        ed2k_packet_free(pk);
    }
    ed2k_answersources_t as, g;
    if (outcome(ed2k_answersources2_decode(p, len, &as, &err), &err, "as2 outcome")) {
        check(ed2k_answersources2_encode(b, as.version, as.hash, as.sources, as.count, &err) == 0,
              "as2 encode");
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EMULE, ED2K_OP_ANSWERSOURCES2);
        check(same_bytes(pk->payload, pk->len, p, len), "as2 bytes differ");
        check(ed2k_answersources2_decode(pk->payload, pk->len, &g, &err) == 0, "as2 re-decode");
        same_sources(&as, &g);
        ed2k_answersources_clear(&g);
        ed2k_packet_free(pk);
        ed2k_answersources_clear(&as);
    }
    if (outcome(ed2k_answersources_decode(p, len, sx1, &as, &err), &err, "as1 outcome")) {
        check(ed2k_answersources_encode(b, as.version, as.hash, as.sources, as.count, &err) == 0,
              "as1 encode");
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EMULE, ED2K_OP_ANSWERSOURCES);
        check(same_bytes(pk->payload, pk->len, p, len), "as1 bytes differ");
        check(ed2k_answersources_decode(pk->payload, pk->len, sx1, &g, &err) == 0,
              "as1 re-decode");
        same_sources(&as, &g);
        for (size_t i = 0; i < as.count; i++) {
            uint32_t id = as.sources[i].id;
            if (ed2k_c2c_is_lowid(id) || (id & 0xFF) != 0)
                check(ed2k_c2c_id_from_hybrid(ed2k_c2c_id_to_hybrid(id)) == id, "hybrid ids");
        }
        ed2k_answersources_clear(&g);
        ed2k_packet_free(pk);
        ed2k_answersources_clear(&as);
    }
    evbuffer_free(b);
}

static void
fuzz_misc(const uint8_t *p, size_t len)
{
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    uint16_t r16;
    uint32_t r32, r32b;
    if (outcome(ed2k_queueranking_decode(p, len, &r16, &err), &err, "qr outcome")) {
        ed2k_queueranking_encode(b, r16);
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EMULE, ED2K_OP_QUEUERANKING);
        check(pk->len == 12 && memcmp(pk->payload, p, 2) == 0, "qr bytes differ");
        ed2k_packet_free(pk);
    }
    if (outcome(ed2k_queuerank_decode(p, len, &r32, &err), &err, "qrank outcome")) {
        ed2k_queuerank_encode(b, r32);
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EDONKEY, ED2K_OP_QUEUERANK);
        check(pk->len == 4 && memcmp(pk->payload, p, 4) == 0, "qrank bytes differ");
        ed2k_packet_free(pk);
    }
    if (outcome(ed2k_publicip_answer_decode(p, len, &r32, &err), &err, "pip outcome")) {
        ed2k_publicip_answer_encode(b, r32);
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EMULE, ED2K_OP_PUBLICIP_ANSWER);
        check(same_bytes(pk->payload, pk->len, p, len), "pip bytes differ");
        ed2k_packet_free(pk);
    }
    if (outcome(ed2k_change_client_id_decode(p, len, &r32, &r32b, &err), &err, "cci outcome")) {
        ed2k_change_client_id_encode(b, r32, r32b);
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EDONKEY, ED2K_OP_CHANGE_CLIENT_ID);
        check(pk->len == 8 && memcmp(pk->payload, p, 8) == 0, "cci bytes differ");
        ed2k_packet_free(pk);
    }
    uint8_t h[16], aich[ED2K_AICH_HASH_LEN];
    if (outcome(ed2k_aichfilehashans_decode(p, len, h, aich, &err), &err, "aich outcome")) {
        ed2k_aichfilehashans_encode(b, h, aich);
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EMULE, ED2K_OP_AICHFILEHASHANS);
        check(pk->len == 36 && memcmp(pk->payload, p, 36) == 0, "aich bytes differ");
        ed2k_packet_free(pk);
    }
    const uint8_t *text;
    size_t tl;
    if (outcome(ed2k_message_decode(p, len, &text, &tl, &err), &err, "msg outcome")) {
        check(ed2k_message_encode(b, text, tl, &err) == 0, "msg encode");
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EDONKEY, ED2K_OP_MESSAGE);
        check(same_bytes(pk->payload, pk->len, p, len), "msg bytes differ");
        ed2k_packet_free(pk);
    }
    ed2k_filedesc_t fd, fg;
    if (outcome(ed2k_filedesc_decode(p, len, &fd, &err), &err, "filedesc outcome")) {
        check(fd.text + fd.text_len <= p + len, "filedesc slice");
        check(ed2k_filedesc_encode(b, fd.rating, fd.text, fd.text_len, &err) == 0,
              "filedesc encode");
        ed2k_packet_t *pk = frame(b, ED2K_PROT_EMULE, ED2K_OP_FILEDESC);
        check(ed2k_filedesc_decode(pk->payload, pk->len, &fg, &err) == 0 && fg.rating == fd.rating
                  && same_bytes(fg.text, fg.text_len, fd.text, fd.text_len),
              "filedesc round trip differs");
        ed2k_packet_free(pk);
    }
    evbuffer_free(b);
}

static void
fuzz_udp(const uint8_t *p, size_t len, uint8_t udp_ver)
{
    mt_error_t *err = NULL;
    struct evbuffer *b = evbuffer_new();
    ed2k_reaskfileping_t r, rg;
    if (outcome(ed2k_reaskfileping_decode(p, len, udp_ver, &r, &err), &err, "ping outcome")) {
        check(r.has_parts == (udp_ver >= 4), "ping parts presence");
        check(ed2k_reaskfileping_encode(b, &r, &err) == 0, "ping encode");
        size_t n = evbuffer_get_length(b);
        uint8_t *d = evbuffer_pullup(b, -1);
        check(n >= 18 && d[0] == 0xC5 && d[1] == ED2K_OP_REASKFILEPING, "ping header");
        check(n - 2 <= len && memcmp(d + 2, p, n - 2) == 0, "ping bytes differ");
        check(ed2k_reaskfileping_decode(d + 2, n - 2, udp_ver, &rg, &err) == 0
                  && memcmp(rg.hash, r.hash, 16) == 0 && rg.has_parts == r.has_parts
                  && (!r.has_parts || same_ps(&rg.parts, &r.parts))
                  && rg.has_complete_sources == r.has_complete_sources
                  && rg.complete_sources == r.complete_sources,
              "ping round trip differs");
        evbuffer_drain(b, n);
    }
    ed2k_reaskack_t a, ag;
    if (outcome(ed2k_reaskack_decode(p, len, udp_ver, &a, &err), &err, "ack outcome")) {
        check(ed2k_reaskack_encode(b, &a, &err) == 0, "ack encode");
        size_t n = evbuffer_get_length(b);
        uint8_t *d = evbuffer_pullup(b, -1);
        check(d[0] == 0xC5 && d[1] == ED2K_OP_REASKACK, "ack header");
        check(n - 2 <= len && memcmp(d + 2, p, n - 2) == 0, "ack bytes differ");
        check(ed2k_reaskack_decode(d + 2, n - 2, udp_ver, &ag, &err) == 0 && ag.rank == a.rank
                  && ag.has_parts == a.has_parts && (!a.has_parts || same_ps(&ag.parts, &a.parts)),
              "ack round trip differs");
        evbuffer_drain(b, n);
    }
    evbuffer_free(b);
}

static void
fuzz_caps(const uint8_t *p, size_t len)
{
    if (len < 8)
        return;
    uint32_t m1 = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    uint32_t m2 = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
    ed2k_caps_t c;
    memset(&c, 0, sizeof c);
    ed2k_caps_from_misc1(&c, m1);
    ed2k_caps_from_misc2(&c, m2);
    check(ed2k_caps_to_misc1(&c) == m1, "misc1 round trip");
    uint32_t want = m2 & 0x3CBF; /* bits 0-5, 7, 10-13 as sent */
    bool sup = m2 & 0x80, req = sup && (m2 & 0x100), reqd = req && (m2 & 0x200);
    want |= (req ? 0x100u : 0) | (reqd ? 0x200u : 0);
    check(ed2k_caps_to_misc2(&c) == want, "misc2 round trip");
    check(!c.crypt_requested || c.crypt_supported, "crypt rule 1");
    check(!c.crypt_required || c.crypt_requested, "crypt rule 2");
}

struct inflate_state {
    size_t total;
    uint64_t next;
};

static int
count_sink(void *ctx, uint64_t offset, const uint8_t *data, size_t len, mt_error_t **err)
{
    struct inflate_state *s = ctx;
    check(offset == s->next && len > 0, "inflater offsets");
    s->next += len;
    s->total += len;
    return 0;
}

static void
fuzz_inflater(const uint8_t *p, size_t len, uint8_t a, uint8_t b)
{
    if (len == 0 || len > UINT32_MAX)
        return;
    mt_error_t *err = NULL;
    size_t max_out = (b & 0x80) ? 65536 : 1024;
    uint32_t packed = (uint32_t)len - ((b & 0x40) && len > 1 ? 1 : 0);
    ed2k_inflater_t *inf = ed2k_inflater_new(1000, packed, max_out);
    struct inflate_state st = { 0, 1000 };
    size_t stride = 1 + (size_t)(a >> 6) * 257, off = 0;
    int rc = 0;
    while (off < len && rc == 0) {
        size_t n = len - off < stride ? len - off : stride;
        rc = ed2k_inflater_feed(inf, p + off, n, count_sink, &st, &err);
        if (rc < 0) {
            check(err != NULL, "inflater error without message");
            mt_error_clear(&err);
        }
        off += n;
    }
    check(st.total == ed2k_inflater_produced(inf) && st.total <= max_out, "inflater output size");
    check(ed2k_inflater_consumed(inf) <= packed, "inflater consumed too much");
    if (ed2k_inflater_is_done(inf))
        check(rc == 0 && ed2k_inflater_consumed(inf) == packed, "inflater done early");
    ed2k_inflater_free(inf);
}

static void
fuzz_deflate(const uint8_t *p, size_t len, uint8_t b)
{
    if (len == 0 || len > 8192)
        return;
    mt_error_t *err = NULL;
    int level = (b >> 3) % 10;
    bool i64 = b & 1;
    uint64_t start = i64 ? (5ULL << 30) : 184320;
    struct evbuffer *out = evbuffer_new();
    ed2k_deflate_status_t st =
        ed2k_compressedpart_encode_block(out, (const uint8_t *)"0123456789abcdef", start, p, len,
                                         level, i64, &err);
    check(st != ED2K_DEFLATE_ERROR, "deflate failed");
    if (st == ED2K_DEFLATE_NOT_WORTH_IT) {
        check(evbuffer_get_length(out) == 0, "not worth it but appended");
        evbuffer_free(out);
        return;
    }
    ed2k_inflater_t *inf = NULL;
    struct evbuffer *back = evbuffer_new();
    while (evbuffer_get_length(out) > 0) {
        ed2k_packet_t *pk = NULL;
        check(ed2k_packet_decode_evbuffer(out, 0, &pk, &err) == ED2K_FRAME_OK, "deflate frame");
        ed2k_compressedpart_t cp;
        check(ed2k_compressedpart_decode(pk->payload, pk->len, i64, &cp, &err) == 0,
              "deflate fragment");
        check(cp.start == start && cp.packed_size < len, "deflate header");
        if (inf == NULL)
            inf = ed2k_inflater_new(cp.start, cp.packed_size, len);
        check(ed2k_inflater_feed_evbuffer(inf, cp.data, cp.len, back, &err) == 0, "deflate feed");
        ed2k_packet_free(pk);
    }
    check(inf != NULL && ed2k_inflater_is_done(inf), "deflate stream incomplete");
    check(same_bytes(evbuffer_pullup(back, -1), evbuffer_get_length(back), p, len),
          "deflate round trip differs");
    ed2k_inflater_free(inf);
    evbuffer_free(back);
    evbuffer_free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t a = size > 0 ? data[0] : 0;
    uint8_t b = size > 1 ? data[1] : 0;
    const uint8_t *p = size > 2 ? data + 2 : data;
    size_t len = size > 2 ? size - 2 : 0;
    uint8_t xv = a & 3;
    ed2k_extinfo_style_t style = (a & 4) ? ED2K_EXTINFO_AMULE : ED2K_EXTINFO_EMULE;
    uint8_t udp_ver = (a >> 3) & 7;
    uint8_t sx1 = b & 7;

    fuzz_hello(p, len, false);
    fuzz_hello(p, len, true);
    fuzz_emuleinfo(p, len);
    fuzz_multipacket(p, len, false, xv, style);
    fuzz_multipacket(p, len, true, xv, style);
    fuzz_multipacket_answer(p, len);
    fuzz_filerequests(p, len, xv, style);
    fuzz_hash_only(p, len);
    fuzz_hashset(p, len);
    fuzz_blocks(p, len);
    fuzz_sources(p, len, sx1);
    fuzz_misc(p, len);
    fuzz_udp(p, len, udp_ver);
    fuzz_caps(p, len);
    fuzz_inflater(p, len, a, b);
    fuzz_deflate(p, len, b);
    return 0;
}
