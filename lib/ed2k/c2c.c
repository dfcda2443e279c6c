/* c2c.c: encoders and decoders for the eD2K client-to-client messages, with
 * aMule's size rules, plus capability bits and OP_COMPRESSEDPART streams. */
#include "config.h"

#include "ed2k/c2c.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ed2k/hash.h"
#include "ed2k/packet.h"
#include "ed2k/text.h"
#include "util/xalloc.h"

/* ---- Small helpers ---- */

static int
perr(mt_error_t **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
perr(mt_error_t **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mt_error_setv(err, MT_ERR_PROTOCOL, fmt, ap);
    va_end(ap);
    return -1;
}

static int
ierr(mt_error_t **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
ierr(mt_error_t **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mt_error_setv(err, MT_ERR_INVALID, fmt, ap);
    va_end(ap);
    return -1;
}

static void
put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static struct evbuffer *
pl_new(void)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL) {
        fprintf(stderr, "muleteer: out of memory creating an evbuffer\n");
        abort();
    }
    return b;
}

/* pl_send: frames the payload built in pl onto out and frees pl. */
static int
pl_send(struct evbuffer *out, uint8_t proto, uint8_t op, struct evbuffer *pl, mt_error_t **err)
{
    int r = ed2k_packet_append_evbuffer(out, proto, op, pl, err);
    evbuffer_free(pl);
    return r;
}

/* send_small: frames a payload too small for the length field to overflow. */
static void
send_small(struct evbuffer *out, uint8_t proto, uint8_t op, const void *payload, size_t n)
{
    if (ed2k_packet_append(out, proto, op, payload, n, NULL) != 0)
        abort(); /* cannot happen: n is a few bytes */
}

static int
exact_len(const char *msg, size_t len, size_t want, mt_error_t **err)
{
    if (len != want)
        return perr(err, "%s: payload is %zu bytes, expected %zu", msg, len, want);
    return 0;
}

static int
min_len(const char *msg, size_t len, size_t want, mt_error_t **err)
{
    if (len < want)
        return perr(err, "%s: payload is %zu bytes, expected at least %zu", msg, len, want);
    return 0;
}

static int
truncated(const char *msg, const char *field, const ed2k_reader_t *r, mt_error_t **err)
{
    return perr(err, "%s: truncated %s (payload is %zu bytes)", msg, field, r->len);
}

/* ---- Client ids ---- */

bool
ed2k_c2c_is_lowid(uint32_t id)
{
    return id < 0x01000000u;
}

static uint32_t
swap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
}

uint32_t
ed2k_c2c_id_to_hybrid(uint32_t ed2k_id)
{
    return ed2k_c2c_is_lowid(ed2k_id) ? ed2k_id : swap32(ed2k_id);
}

uint32_t
ed2k_c2c_id_from_hybrid(uint32_t hybrid_id)
{
    return ed2k_c2c_is_lowid(hybrid_id) ? hybrid_id : swap32(hybrid_id);
}

/* ---- Capabilities ---- */

void
ed2k_caps_from_misc1(ed2k_caps_t *c, uint32_t m)
{
    c->aich_ver = (uint8_t)((m >> 29) & 0x07);
    c->unicode = (m >> 28) & 1;
    c->udp_ver = (uint8_t)((m >> 24) & 0x0F);
    c->data_comp_ver = (uint8_t)((m >> 20) & 0x0F);
    c->secident_ver = (uint8_t)((m >> 16) & 0x0F);
    c->sx1_ver = (uint8_t)((m >> 12) & 0x0F);
    c->ext_req_ver = (uint8_t)((m >> 8) & 0x0F);
    c->comments_ver = (uint8_t)((m >> 4) & 0x0F);
    c->peercache = (m >> 3) & 1;
    c->no_view_shared = (m >> 2) & 1;
    c->multipacket = (m >> 1) & 1;
    c->preview = m & 1;
}

void
ed2k_caps_from_misc2(ed2k_caps_t *c, uint32_t m)
{
    c->file_identifiers = (m >> 13) & 1;
    c->direct_udp_callback = (m >> 12) & 1;
    c->captcha = (m >> 11) & 1;
    c->sx2 = (m >> 10) & 1;
    c->crypt_required = (m >> 9) & 1;
    c->crypt_requested = (m >> 8) & 1;
    c->crypt_supported = (m >> 7) & 1;
    c->ext_multipacket = (m >> 5) & 1;
    c->large_files = (m >> 4) & 1;
    c->kad_ver = (uint8_t)(m & 0x0F);
    /* Receiver rules (aMule BaseClient.cpp, §2.3). */
    c->crypt_requested = c->crypt_requested && c->crypt_supported;
    c->crypt_required = c->crypt_required && c->crypt_requested;
}

uint32_t
ed2k_caps_to_misc1(const ed2k_caps_t *c)
{
    return (uint32_t)(c->aich_ver & 0x07) << 29 | (uint32_t)(c->unicode ? 1 : 0) << 28
        | (uint32_t)(c->udp_ver & 0x0F) << 24 | (uint32_t)(c->data_comp_ver & 0x0F) << 20
        | (uint32_t)(c->secident_ver & 0x0F) << 16 | (uint32_t)(c->sx1_ver & 0x0F) << 12
        | (uint32_t)(c->ext_req_ver & 0x0F) << 8 | (uint32_t)(c->comments_ver & 0x0F) << 4
        | (uint32_t)(c->peercache ? 1 : 0) << 3 | (uint32_t)(c->no_view_shared ? 1 : 0) << 2
        | (uint32_t)(c->multipacket ? 1 : 0) << 1 | (uint32_t)(c->preview ? 1 : 0);
}

uint32_t
ed2k_caps_to_misc2(const ed2k_caps_t *c)
{
    return (uint32_t)(c->file_identifiers ? 1 : 0) << 13
        | (uint32_t)(c->direct_udp_callback ? 1 : 0) << 12 | (uint32_t)(c->captcha ? 1 : 0) << 11
        | (uint32_t)(c->sx2 ? 1 : 0) << 10 | (uint32_t)(c->crypt_required ? 1 : 0) << 9
        | (uint32_t)(c->crypt_requested ? 1 : 0) << 8
        | (uint32_t)(c->crypt_supported ? 1 : 0) << 7
        | (uint32_t)(c->ext_multipacket ? 1 : 0) << 5 | (uint32_t)(c->large_files ? 1 : 0) << 4
        | (uint32_t)(c->kad_ver & 0x0F);
}

/* ---- Part status ---- */

size_t
ed2k_partstatus_bytes(size_t count)
{
    return count / 8 + (count % 8 != 0);
}

bool
ed2k_partstatus_get(const ed2k_partstatus_t *ps, size_t i)
{
    if (i >= ps->count || ps->bitmap == NULL)
        return false;
    return (ps->bitmap[i / 8] >> (i % 8)) & 1;
}

void
ed2k_partstatus_pack(const uint8_t *parts, size_t count, uint8_t *bitmap)
{
    memset(bitmap, 0, ed2k_partstatus_bytes(count));
    for (size_t i = 0; i < count; i++)
        if (parts[i])
            bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
}

void
ed2k_partstatus_unpack(const uint8_t *bitmap, size_t count, uint8_t *parts)
{
    for (size_t i = 0; i < count; i++)
        parts[i] = (bitmap[i / 8] >> (i % 8)) & 1;
}

int
ed2k_partstatus_check(const ed2k_partstatus_t *ps, uint64_t size, const char *what,
                      mt_error_t **err)
{
    if (ps->count == 0)
        return 0;
    uint64_t want = ed2k_part_count(size);
    if (ps->count != want)
        return perr(err, "%s: part status has %u parts, a %" PRIu64 "-byte file has %" PRIu64,
                    what, (unsigned)ps->count, size, want);
    return 0;
}

static int
read_partstatus(ed2k_reader_t *r, const char *msg, ed2k_partstatus_t *ps, mt_error_t **err)
{
    if (ed2k_read_u16(r, &ps->count) < 0)
        return truncated(msg, "part count", r, err);
    size_t nb = ed2k_partstatus_bytes(ps->count);
    ps->bitmap = NULL;
    if (nb > 0 && ed2k_read_ptr(r, nb, &ps->bitmap) < 0)
        return perr(err, "%s: part status bitmap for %u parts needs %zu bytes, %zu left", msg,
                    (unsigned)ps->count, nb, ed2k_reader_remaining(r));
    return 0;
}

static int
check_partstatus_arg(const ed2k_partstatus_t *ps, const char *msg, mt_error_t **err)
{
    if (ps->count > 0 && ps->bitmap == NULL)
        return ierr(err, "%s: part status of %u parts has no bitmap", msg, (unsigned)ps->count);
    return 0;
}

static void
write_partstatus(struct evbuffer *b, const ed2k_partstatus_t *ps)
{
    ed2k_write_u16(b, ps->count);
    ed2k_write_bytes(b, ps->bitmap, ed2k_partstatus_bytes(ps->count));
}

/* ---- OP_HELLO / OP_HELLOANSWER ---- */

void
ed2k_hello_clear(ed2k_hello_t *h)
{
    if (h == NULL)
        return;
    ed2k_taglist_free(h->tags);
    free(h->name);
    free(h->mod_version);
    memset(h, 0, sizeof *h);
}

static int
tag_int(const ed2k_tag_t *t, const char *msg, const char *tagname, uint64_t *v, mt_error_t **err)
{
    if (!ed2k_tag_is_int(t))
        return perr(err, "%s: %s tag is not an integer (type 0x%02x)", msg, tagname, t->type);
    *v = t->v.u;
    return 0;
}

/* mod_version_of: ET_MOD_VERSION as aMule shows it: the string, "ModID=<n>"
 * for an integer, "ModID=<Unknown>" for anything else. */
static char *
mod_version_of(const ed2k_tag_t *t)
{
    if (ed2k_tag_is_str(t))
        return ed2k_text_to_utf8(t->v.data, t->v.len, NULL);
    if (ed2k_tag_is_int(t))
        return xasprintf("ModID=%" PRIu64, t->v.u);
    return xstrdup("ModID=<Unknown>");
}

static int
hello_tags(ed2k_hello_t *h, const char *msg, mt_error_t **err)
{
    for (size_t i = 0; i < ed2k_taglist_count(h->tags); i++) {
        const ed2k_tag_t *t = ed2k_taglist_get(h->tags, i);
        uint64_t v = 0;
        if (t->name != NULL)
            continue; /* string-named tags carry no client information */
        switch (t->id) {
        case ED2K_CT_NAME:
            if (!ed2k_tag_is_str(t))
                return perr(err, "%s: CT_NAME tag is not a string (type 0x%02x)", msg, t->type);
            free(h->name);
            h->name = ed2k_text_to_utf8(t->v.data, t->v.len, &h->name_len);
            break;
        case ED2K_CT_VERSION:
            if (tag_int(t, msg, "CT_VERSION", &v, err) < 0)
                return -1;
            h->has_version = true;
            h->version = (uint32_t)v;
            break;
        case ED2K_CT_MOD_VERSION:
            free(h->mod_version);
            h->mod_version = mod_version_of(t);
            break;
        case ED2K_CT_PORT:
            if (tag_int(t, msg, "CT_PORT", &v, err) < 0)
                return -1;
            h->tcp_port = (uint16_t)v;
            break;
        case ED2K_CT_EMULE_UDPPORTS:
            if (tag_int(t, msg, "CT_EMULE_UDPPORTS", &v, err) < 0)
                return -1;
            h->has_udp_ports = true;
            h->kad_port = (uint16_t)(v >> 16);
            h->udp_port = (uint16_t)v;
            break;
        case ED2K_CT_EMULE_BUDDYIP:
            if (tag_int(t, msg, "CT_EMULE_BUDDYIP", &v, err) < 0)
                return -1;
            h->has_buddy_ip = true;
            h->buddy_ip = (uint32_t)v;
            break;
        case ED2K_CT_EMULE_BUDDYUDP:
            if (tag_int(t, msg, "CT_EMULE_BUDDYUDP", &v, err) < 0)
                return -1;
            h->has_buddy_port = true;
            h->buddy_port = (uint16_t)v;
            break;
        case ED2K_CT_EMULE_MISCOPTIONS1:
            if (tag_int(t, msg, "CT_EMULE_MISCOPTIONS1", &v, err) < 0)
                return -1;
            h->has_misc1 = true;
            h->misc1 = (uint32_t)v;
            break;
        case ED2K_CT_EMULE_MISCOPTIONS2:
            if (tag_int(t, msg, "CT_EMULE_MISCOPTIONS2", &v, err) < 0)
                return -1;
            h->has_misc2 = true;
            h->misc2 = (uint32_t)v;
            break;
        case ED2K_CT_EMULECOMPAT_OPTIONS:
            if (tag_int(t, msg, "CT_EMULECOMPAT_OPTIONS", &v, err) < 0)
                return -1;
            h->has_compat_options = true;
            h->compat_options = (uint32_t)v;
            break;
        case ED2K_CT_EMULE_VERSION:
            if (tag_int(t, msg, "CT_EMULE_VERSION", &v, err) < 0)
                return -1;
            h->has_emule_version = true;
            h->emule_version = (uint32_t)v;
            h->compat_client = (uint8_t)(h->emule_version >> 24);
            h->ver_major = (uint8_t)((h->emule_version >> 17) & 0x7F);
            h->ver_minor = (uint8_t)((h->emule_version >> 10) & 0x7F);
            h->ver_update = (uint8_t)((h->emule_version >> 7) & 0x07);
            break;
        default:
            break;
        }
    }
    return 0;
}

/* read_tags: a u32-counted tag list, any error reported as MT_ERR_PROTOCOL
 * prefixed with the packet name. */
static int
read_tags(ed2k_reader_t *r, const char *msg, ed2k_taglist_t **out, mt_error_t **err)
{
    mt_error_t *e = NULL;
    if (ed2k_taglist_read(r, ED2K_TAGCOUNT_U32, 0, out, &e) < 0) {
        perr(err, "%s: %s", msg, e ? e->message : "bad tag list");
        mt_error_free(e);
        return -1;
    }
    return 0;
}

static int
hello_decode(const uint8_t *p, size_t len, bool answer, ed2k_hello_t *out, mt_error_t **err)
{
    const char *msg = answer ? "OP_HELLOANSWER" : "OP_HELLO";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    if (!answer) {
        uint8_t hl;
        if (ed2k_read_u8(&r, &hl) < 0)
            return truncated(msg, "user hash length", &r, err);
        if (hl != 16)
            return perr(err, "%s: user hash length is %u, expected 16", msg, (unsigned)hl);
    }
    if (ed2k_read_hash16(&r, out->user_hash) < 0)
        return truncated(msg, "user hash", &r, err);
    if (ed2k_read_u32(&r, &out->client_id) < 0)
        return truncated(msg, "client id", &r, err);
    if (ed2k_read_u16(&r, &out->tcp_port) < 0)
        return truncated(msg, "TCP port", &r, err);
    if (read_tags(&r, msg, &out->tags, err) < 0)
        return -1;
    if (ed2k_read_u32(&r, &out->server_ip) < 0 || ed2k_read_u16(&r, &out->server_port) < 0) {
        ed2k_hello_clear(out);
        return truncated(msg, "server address", &r, err);
    }
    /* aMule looks at exactly 4 trailing bytes: the u32 'KDLM' (bytes
     * "MLDK") marks MLDonkey, anything else eDonkeyHybrid. Other trailing
     * lengths are ignored. */
    if (ed2k_reader_remaining(&r) == 4) {
        const uint8_t *t;
        ed2k_read_ptr(&r, 4, &t);
        if (memcmp(t, "MLDK", 4) == 0)
            out->mldonkey = true;
        else
            out->hybrid = true;
    }
    if (hello_tags(out, msg, err) < 0) {
        ed2k_hello_clear(out);
        return -1;
    }
    return 0;
}

int
ed2k_hello_decode(const uint8_t *p, size_t len, ed2k_hello_t *out, mt_error_t **err)
{
    return hello_decode(p, len, false, out, err);
}

int
ed2k_helloanswer_decode(const uint8_t *p, size_t len, ed2k_hello_t *out, mt_error_t **err)
{
    return hello_decode(p, len, true, out, err);
}

void
ed2k_hello_software(const ed2k_hello_t *h, char *buf, size_t len)
{
    if (len == 0)
        return;
    if (!h->has_emule_version) {
        snprintf(buf, len, "%s", h->mldonkey ? "MLDonkey" : h->hybrid ? "eDonkeyHybrid" : "eDonkey");
        return;
    }
    static const struct {
        uint8_t id;
        const char *name;
    } names[] = {
        { ED2K_SO_EMULE, "eMule" },         { ED2K_SO_CDONKEY, "cDonkey" },
        { ED2K_SO_LXMULE, "xMule" },        { ED2K_SO_AMULE, "aMule" },
        { ED2K_SO_SHAREAZA, "Shareaza" },   { ED2K_SO_EMULEPLUS, "eMule Plus" },
        { ED2K_SO_HYDRANODE, "Hydranode" }, { ED2K_SO_MLDONKEY, "MLDonkey" },
        { ED2K_SO_LPHANT, "lphant" },
    };
    const char *name = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].id == h->compat_client)
            name = names[i].name;
    if (name == NULL)
        snprintf(buf, len, "unknown client %u v%u.%u.%u", h->compat_client, h->ver_major,
                 h->ver_minor, h->ver_update);
    else if (h->compat_client == ED2K_SO_EMULE && h->ver_update < 26)
        /* eMule counts its updates in letters: 0.50a */
        snprintf(buf, len, "eMule %u.%u%c", h->ver_major, h->ver_minor, 'a' + h->ver_update);
    else
        snprintf(buf, len, "%s %u.%u.%u", name, h->ver_major, h->ver_minor, h->ver_update);
}

void
ed2k_caps_from_hello(const ed2k_hello_t *h, ed2k_caps_t *c)
{
    memset(c, 0, sizeof *c);
    c->no_view_shared = true;
    if (h->has_misc1)
        ed2k_caps_from_misc1(c, h->misc1);
    if (h->has_misc2)
        ed2k_caps_from_misc2(c, h->misc2);
}

static int
hello_encode(struct evbuffer *out, const ed2k_hello_params_t *hp, bool answer, mt_error_t **err)
{
    const char *msg = answer ? "OP_HELLOANSWER" : "OP_HELLO";
    if (hp->ver_major > 0x7F || hp->ver_minor > 0x7F || hp->ver_update > 0x07)
        return ierr(err, "%s: version %u.%u.%u does not fit CT_EMULE_VERSION", msg,
                    (unsigned)hp->ver_major, (unsigned)hp->ver_minor, (unsigned)hp->ver_update);
    const char *nick = hp->nickname ? hp->nickname : "";
    ed2k_taglist_t *l = ed2k_taglist_new();
    ed2k_taglist_add_str(l, ED2K_CT_NAME, nick, strlen(nick));
    ed2k_taglist_add_uint(l, ED2K_CT_VERSION, ED2K_TAG_UINT32, ED2K_EDONKEY_VERSION);
    ed2k_taglist_add_uint(l, ED2K_CT_EMULE_UDPPORTS, ED2K_TAG_UINT32,
                          (uint32_t)hp->kad_port << 16 | hp->udp_port);
    if (hp->has_buddy) {
        ed2k_taglist_add_uint(l, ED2K_CT_EMULE_BUDDYIP, ED2K_TAG_UINT32, hp->buddy_ip);
        ed2k_taglist_add_uint(l, ED2K_CT_EMULE_BUDDYUDP, ED2K_TAG_UINT32, hp->buddy_port);
    }
    uint32_t ver = (uint32_t)hp->compat_client << 24 | (uint32_t)hp->ver_major << 17
        | (uint32_t)hp->ver_minor << 10 | (uint32_t)hp->ver_update << 7;
    ed2k_taglist_add_uint(l, ED2K_CT_EMULE_VERSION, ED2K_TAG_UINT32, ver);
    ed2k_taglist_add_uint(l, ED2K_CT_EMULE_MISCOPTIONS1, ED2K_TAG_UINT32, hp->misc1);
    ed2k_taglist_add_uint(l, ED2K_CT_EMULE_MISCOPTIONS2, ED2K_TAG_UINT32, hp->misc2);
    if (hp->send_compat_options)
        ed2k_taglist_add_uint(l, ED2K_CT_EMULECOMPAT_OPTIONS, ED2K_TAG_UINT32,
                              hp->compat_options);
    if (hp->mod_version != NULL)
        ed2k_taglist_add_str(l, ED2K_CT_MOD_VERSION, hp->mod_version, strlen(hp->mod_version));

    struct evbuffer *b = pl_new();
    if (!answer)
        ed2k_write_u8(b, 16);
    ed2k_write_hash16(b, hp->user_hash);
    ed2k_write_u32(b, hp->client_id);
    ed2k_write_u16(b, hp->tcp_port);
    mt_error_t *e = NULL;
    int r = ed2k_taglist_write(b, l, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, &e);
    ed2k_taglist_free(l);
    if (r < 0) {
        mt_error_set(err, e ? e->code : MT_ERR_INVALID, "%s: %s", msg, e ? e->message : "tags");
        mt_error_free(e);
        evbuffer_free(b);
        return -1;
    }
    ed2k_write_u32(b, hp->server_ip);
    ed2k_write_u16(b, hp->server_port);
    return pl_send(out, ED2K_PROT_EDONKEY, answer ? ED2K_OP_HELLOANSWER : ED2K_OP_HELLO, b, err);
}

int
ed2k_hello_encode(struct evbuffer *out, const ed2k_hello_params_t *hp, mt_error_t **err)
{
    return hello_encode(out, hp, false, err);
}

int
ed2k_helloanswer_encode(struct evbuffer *out, const ed2k_hello_params_t *hp, mt_error_t **err)
{
    return hello_encode(out, hp, true, err);
}

/* ---- OP_EMULEINFO / OP_EMULEINFOANSWER ---- */

void
ed2k_emuleinfo_clear(ed2k_emuleinfo_t *ei)
{
    if (ei == NULL)
        return;
    ed2k_taglist_free(ei->tags);
    free(ei->mod_version);
    free(ei->os_info);
    memset(ei, 0, sizeof *ei);
}

static int
emuleinfo_tags(ed2k_emuleinfo_t *ei, mt_error_t **err)
{
    static const char msg[] = "OP_EMULEINFO";
    for (size_t i = 0; i < ed2k_taglist_count(ei->tags); i++) {
        const ed2k_tag_t *t = ed2k_taglist_get(ei->tags, i);
        uint64_t v = 0;
        if (t->name != NULL)
            continue;
        if (ei->protocol == ED2K_EMULE_PROTOCOL_OSINFO) {
            if (t->id != ED2K_ET_OS_INFO)
                continue;
            if (!ed2k_tag_is_str(t))
                return perr(err, "%s: ET_OS_INFO tag is not a string (type 0x%02x)", msg,
                            t->type);
            free(ei->os_info);
            ei->os_info = ed2k_text_to_utf8(t->v.data, t->v.len, NULL);
            continue;
        }
        if (t->id == ED2K_ET_MOD_VERSION) {
            free(ei->mod_version);
            ei->mod_version = mod_version_of(t);
            continue;
        }
        if (t->id < ED2K_ET_COMPRESSION || t->id > ED2K_ET_FEATURES)
            continue; /* unknown tags are logged and skipped by aMule */
        if (!ed2k_tag_is_int(t))
            return perr(err, "%s: ET tag 0x%02x is not an integer (type 0x%02x)", msg,
                        (unsigned)t->id, t->type);
        v = t->v.u;
        switch (t->id) {
        case ED2K_ET_COMPRESSION:
            ei->data_comp_ver = (uint8_t)v;
            break;
        case ED2K_ET_UDPPORT:
            ei->udp_port = (uint16_t)v;
            break;
        case ED2K_ET_UDPVER:
            ei->udp_ver = (uint8_t)v;
            break;
        case ED2K_ET_SOURCEEXCHANGE:
            ei->sx1_ver = (uint8_t)v;
            break;
        case ED2K_ET_COMMENTS:
            ei->comments_ver = (uint8_t)v;
            break;
        case ED2K_ET_EXTENDEDREQUEST:
            ei->ext_req_ver = (uint8_t)v;
            break;
        case ED2K_ET_COMPATIBLECLIENT:
            ei->compat_client = (uint8_t)v;
            break;
        default: /* ED2K_ET_FEATURES */
            ei->features = (uint32_t)v;
            break;
        }
    }
    return 0;
}

int
ed2k_emuleinfo_decode(const uint8_t *p, size_t len, ed2k_emuleinfo_t *out, mt_error_t **err)
{
    static const char msg[] = "OP_EMULEINFO";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u8(&r, &out->version) < 0)
        return truncated(msg, "version", &r, err);
    if (ed2k_read_u8(&r, &out->protocol) < 0)
        return truncated(msg, "protocol", &r, err);
    if (read_tags(&r, msg, &out->tags, err) < 0)
        return -1;
    /* Another protocol byte: aMule marks the peer "not eMule" and reads no
     * tags; we keep them uninterpreted. */
    if (out->protocol != ED2K_EMULE_PROTOCOL && out->protocol != ED2K_EMULE_PROTOCOL_OSINFO)
        return 0;
    if (emuleinfo_tags(out, err) < 0) {
        ed2k_emuleinfo_clear(out);
        return -1;
    }
    return 0;
}

bool
ed2k_caps_from_emuleinfo(const ed2k_emuleinfo_t *ei, ed2k_caps_t *c)
{
    memset(c, 0, sizeof *c);
    if (ei->protocol != ED2K_EMULE_PROTOCOL)
        return false;
    /* ProcessMuleInfoPacket in aMule's BaseClient.cpp. */
    uint8_t ver = ei->version == 0x2B ? 0x22 : ei->version;
    c->no_view_shared = true;
    c->data_comp_ver = ei->data_comp_ver;
    c->udp_ver = ei->udp_ver;
    c->sx1_ver = ei->sx1_ver;
    c->comments_ver = ei->comments_ver;
    c->ext_req_ver = ei->ext_req_ver;
    c->secident_ver = (uint8_t)(ei->features & 3);
    c->preview = (ei->features & 0x80) != 0;
    if (c->data_comp_ver == 0) {
        c->sx1_ver = 0;
        c->ext_req_ver = 0;
        c->comments_ver = 0;
    }
    if (ver > 0x22 && ver < 0x25)
        c->udp_ver = 1;
    if (ver > 0x21 && ver < 0x25)
        c->sx1_ver = 1;
    if (ver == 0x24)
        c->comments_ver = 1;
    return true;
}

int
ed2k_emuleinfo_encode(struct evbuffer *out, bool answer, uint8_t version, uint8_t protocol,
                      const ed2k_taglist_t *tags, mt_error_t **err)
{
    struct evbuffer *b = pl_new();
    ed2k_write_u8(b, version);
    ed2k_write_u8(b, protocol);
    if (ed2k_taglist_write(b, tags, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, err) < 0) {
        evbuffer_free(b);
        return -1;
    }
    return pl_send(out, ED2K_PROT_EMULE, answer ? ED2K_OP_EMULEINFOANSWER : ED2K_OP_EMULEINFO,
                   b, err);
}

ed2k_taglist_t *
ed2k_emuleinfo_tags(const ed2k_caps_t *c, uint16_t udp_port, uint8_t compat_client,
                    const char *mod_version)
{
    ed2k_taglist_t *l = ed2k_taglist_new();
    ed2k_taglist_add_uint(l, ED2K_ET_COMPRESSION, ED2K_TAG_UINT32, c->data_comp_ver);
    ed2k_taglist_add_uint(l, ED2K_ET_UDPVER, ED2K_TAG_UINT32, c->udp_ver);
    ed2k_taglist_add_uint(l, ED2K_ET_UDPPORT, ED2K_TAG_UINT32, udp_port);
    ed2k_taglist_add_uint(l, ED2K_ET_SOURCEEXCHANGE, ED2K_TAG_UINT32, c->sx1_ver);
    ed2k_taglist_add_uint(l, ED2K_ET_COMMENTS, ED2K_TAG_UINT32, c->comments_ver);
    ed2k_taglist_add_uint(l, ED2K_ET_EXTENDEDREQUEST, ED2K_TAG_UINT32, c->ext_req_ver);
    ed2k_taglist_add_uint(l, ED2K_ET_FEATURES, ED2K_TAG_UINT32,
                          (uint32_t)(c->secident_ver & 3) | (c->preview ? 0x80u : 0));
    ed2k_taglist_add_uint(l, ED2K_ET_COMPATIBLECLIENT, ED2K_TAG_UINT32, compat_client);
    if (mod_version != NULL)
        ed2k_taglist_add_str(l, ED2K_ET_MOD_VERSION, mod_version, strlen(mod_version));
    return l;
}

/* ---- File requests ---- */

/* read_extinfo: ProcessExtendedInfo of aMule/eMule (UploadClient.cpp):
 * version 0 reads nothing; >= 1 a part status; >= 2 then the complete-source
 * count, which aMule skips after a part count of 0. */
static int
read_extinfo(ed2k_reader_t *r, const char *msg, uint8_t ext_req_ver, ed2k_extinfo_style_t style,
             ed2k_extinfo_t *x, mt_error_t **err)
{
    memset(x, 0, sizeof *x);
    if (ext_req_ver == 0)
        return 0;
    if (read_partstatus(r, msg, &x->parts, err) < 0)
        return -1;
    x->has_parts = true;
    if (ext_req_ver >= 2 && (x->parts.count != 0 || style == ED2K_EXTINFO_EMULE)) {
        if (ed2k_read_u16(r, &x->complete_sources) < 0)
            return truncated(msg, "complete-source count", r, err);
        x->has_complete_sources = true;
    }
    return 0;
}

static int
check_extinfo_arg(const ed2k_extinfo_t *x, const char *msg, mt_error_t **err)
{
    if (x->has_complete_sources && !x->has_parts)
        return ierr(err, "%s: a complete-source count needs a part status", msg);
    if (x->has_parts && check_partstatus_arg(&x->parts, msg, err) < 0)
        return -1;
    return 0;
}

static void
write_extinfo(struct evbuffer *b, const ed2k_extinfo_t *x)
{
    if (x->has_parts)
        write_partstatus(b, &x->parts);
    if (x->has_complete_sources)
        ed2k_write_u16(b, x->complete_sources);
}

int
ed2k_multipacket_decode(const uint8_t *p, size_t len, bool ext, uint8_t ext_req_ver,
                        ed2k_extinfo_style_t style, ed2k_multipacket_t *out, mt_error_t **err)
{
    const char *msg = ext ? "OP_MULTIPACKET_EXT" : "OP_MULTIPACKET";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    out->ext = ext;
    if (ed2k_read_hash16(&r, out->hash) < 0)
        return truncated(msg, "file hash", &r, err);
    if (ext && ed2k_read_u64(&r, &out->size) < 0)
        return truncated(msg, "file size", &r, err);
    while (ed2k_reader_remaining(&r) > 0) {
        size_t at = r.pos;
        uint8_t op;
        ed2k_read_u8(&r, &op);
        switch (op) {
        case ED2K_OP_REQUESTFILENAME:
            out->req_filename = true;
            if (read_extinfo(&r, msg, ext_req_ver, style, &out->extinfo, err) < 0)
                return -1;
            break;
        case ED2K_OP_SETREQFILEID:
            out->req_status = true;
            break;
        case ED2K_OP_REQUESTSOURCES2:
            out->req_sources2 = true;
            if (ed2k_read_u8(&r, &out->sx2_version) < 0
                || ed2k_read_u16(&r, &out->sx2_options) < 0)
                return truncated(msg, "OP_REQUESTSOURCES2 version and options", &r, err);
            break;
        case ED2K_OP_REQUESTSOURCES:
            out->req_sources = true;
            break;
        case ED2K_OP_AICHFILEHASHREQ:
            out->req_aich = true;
            break;
        default:
            return perr(err, "%s: unknown sub-opcode 0x%02x at offset %zu", msg, (unsigned)op,
                        at);
        }
    }
    if (ext && out->size != 0 && out->extinfo.has_parts
        && ed2k_partstatus_check(&out->extinfo.parts, out->size, msg, err) < 0)
        return -1;
    return 0;
}

int
ed2k_multipacket_encode(struct evbuffer *out, const ed2k_multipacket_t *m, mt_error_t **err)
{
    const char *msg = m->ext ? "OP_MULTIPACKET_EXT" : "OP_MULTIPACKET";
    if (m->req_filename && check_extinfo_arg(&m->extinfo, msg, err) < 0)
        return -1;
    struct evbuffer *b = pl_new();
    ed2k_write_hash16(b, m->hash);
    if (m->ext)
        ed2k_write_u64(b, m->size);
    if (m->req_filename) {
        ed2k_write_u8(b, ED2K_OP_REQUESTFILENAME);
        write_extinfo(b, &m->extinfo);
    }
    if (m->req_status)
        ed2k_write_u8(b, ED2K_OP_SETREQFILEID);
    if (m->req_sources2) {
        ed2k_write_u8(b, ED2K_OP_REQUESTSOURCES2);
        ed2k_write_u8(b, m->sx2_version);
        ed2k_write_u16(b, m->sx2_options);
    }
    if (m->req_sources)
        ed2k_write_u8(b, ED2K_OP_REQUESTSOURCES);
    if (m->req_aich)
        ed2k_write_u8(b, ED2K_OP_AICHFILEHASHREQ);
    return pl_send(out, ED2K_PROT_EMULE, m->ext ? ED2K_OP_MULTIPACKET_EXT : ED2K_OP_MULTIPACKET,
                   b, err);
}

int
ed2k_multipacket_answer_decode(const uint8_t *p, size_t len, ed2k_multipacket_answer_t *out,
                               mt_error_t **err)
{
    static const char msg[] = "OP_MULTIPACKETANSWER";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_hash16(&r, out->hash) < 0)
        return truncated(msg, "file hash", &r, err);
    while (ed2k_reader_remaining(&r) > 0) {
        size_t at = r.pos;
        uint8_t op;
        ed2k_read_u8(&r, &op);
        switch (op) {
        case ED2K_OP_REQFILENAMEANSWER:
            out->has_name = true;
            if (ed2k_read_string16(&r, &out->name, &out->name_len) < 0)
                return truncated(msg, "file name", &r, err);
            break;
        case ED2K_OP_FILESTATUS:
            out->has_status = true;
            if (read_partstatus(&r, msg, &out->status, err) < 0)
                return -1;
            break;
        case ED2K_OP_AICHFILEHASHANS:
            out->has_aich = true;
            if (ed2k_read_bytes(&r, out->aich, ED2K_AICH_HASH_LEN) < 0)
                return truncated(msg, "AICH root", &r, err);
            break;
        default:
            return perr(err, "%s: unknown sub-opcode 0x%02x at offset %zu", msg, (unsigned)op,
                        at);
        }
    }
    return 0;
}

int
ed2k_multipacket_answer_encode(struct evbuffer *out, const ed2k_multipacket_answer_t *a,
                               mt_error_t **err)
{
    static const char msg[] = "OP_MULTIPACKETANSWER";
    if (a->has_status && check_partstatus_arg(&a->status, msg, err) < 0)
        return -1;
    struct evbuffer *b = pl_new();
    ed2k_write_hash16(b, a->hash);
    if (a->has_name) {
        ed2k_write_u8(b, ED2K_OP_REQFILENAMEANSWER);
        if (ed2k_write_string16(b, a->name, a->name_len, err) < 0) {
            evbuffer_free(b);
            return -1;
        }
    }
    if (a->has_status) {
        ed2k_write_u8(b, ED2K_OP_FILESTATUS);
        write_partstatus(b, &a->status);
    }
    if (a->has_aich) {
        ed2k_write_u8(b, ED2K_OP_AICHFILEHASHANS);
        ed2k_write_bytes(b, a->aich, ED2K_AICH_HASH_LEN);
    }
    return pl_send(out, ED2K_PROT_EMULE, ED2K_OP_MULTIPACKETANSWER, b, err);
}

int
ed2k_requestfilename_decode(const uint8_t *p, size_t len, uint8_t ext_req_ver,
                            ed2k_extinfo_style_t style, ed2k_requestfilename_t *out,
                            mt_error_t **err)
{
    static const char msg[] = "OP_REQUESTFILENAME";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    if (min_len(msg, len, 16, err) < 0)
        return -1;
    ed2k_reader_init(&r, p, len);
    ed2k_read_hash16(&r, out->hash);
    return read_extinfo(&r, msg, ext_req_ver, style, &out->extinfo, err);
}

int
ed2k_requestfilename_encode(struct evbuffer *out, const uint8_t hash[16],
                            const ed2k_extinfo_t *ext, mt_error_t **err)
{
    static const char msg[] = "OP_REQUESTFILENAME";
    if (ext != NULL && check_extinfo_arg(ext, msg, err) < 0)
        return -1;
    struct evbuffer *b = pl_new();
    ed2k_write_hash16(b, hash);
    if (ext != NULL)
        write_extinfo(b, ext);
    return pl_send(out, ED2K_PROT_EDONKEY, ED2K_OP_REQUESTFILENAME, b, err);
}

int
ed2k_reqfilenameanswer_decode(const uint8_t *p, size_t len, ed2k_reqfilenameanswer_t *out,
                              mt_error_t **err)
{
    static const char msg[] = "OP_REQFILENAMEANSWER";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_hash16(&r, out->hash) < 0)
        return truncated(msg, "file hash", &r, err);
    if (ed2k_read_string16(&r, &out->name, &out->name_len) < 0)
        return truncated(msg, "file name", &r, err);
    return 0;
}

int
ed2k_reqfilenameanswer_encode(struct evbuffer *out, const uint8_t hash[16], const void *name,
                              size_t name_len, mt_error_t **err)
{
    struct evbuffer *b = pl_new();
    ed2k_write_hash16(b, hash);
    if (ed2k_write_string16(b, name, name_len, err) < 0) {
        evbuffer_free(b);
        return -1;
    }
    return pl_send(out, ED2K_PROT_EDONKEY, ED2K_OP_REQFILENAMEANSWER, b, err);
}

int
ed2k_filestatus_decode(const uint8_t *p, size_t len, ed2k_filestatus_t *out, mt_error_t **err)
{
    static const char msg[] = "OP_FILESTATUS";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_hash16(&r, out->hash) < 0)
        return truncated(msg, "file hash", &r, err);
    return read_partstatus(&r, msg, &out->status, err);
}

int
ed2k_filestatus_encode(struct evbuffer *out, const uint8_t hash[16],
                       const ed2k_partstatus_t *status, mt_error_t **err)
{
    if (check_partstatus_arg(status, "OP_FILESTATUS", err) < 0)
        return -1;
    struct evbuffer *b = pl_new();
    ed2k_write_hash16(b, hash);
    write_partstatus(b, status);
    return pl_send(out, ED2K_PROT_EDONKEY, ED2K_OP_FILESTATUS, b, err);
}

/* ---- Hash-only messages ---- */

static int
hash_only(const char *msg, const uint8_t *p, size_t len, bool exact, uint8_t hash[16],
          mt_error_t **err)
{
    memset(hash, 0, 16);
    if ((exact ? exact_len(msg, len, 16, err) : min_len(msg, len, 16, err)) < 0)
        return -1;
    memcpy(hash, p, 16);
    return 0;
}

int
ed2k_setreqfileid_decode(const uint8_t *p, size_t len, uint8_t hash[16], mt_error_t **err)
{
    return hash_only("OP_SETREQFILEID", p, len, true, hash, err);
}

void
ed2k_setreqfileid_encode(struct evbuffer *out, const uint8_t hash[16])
{
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_SETREQFILEID, hash, 16);
}

int
ed2k_filereqansnofil_decode(const uint8_t *p, size_t len, uint8_t hash[16], mt_error_t **err)
{
    return hash_only("OP_FILEREQANSNOFIL", p, len, true, hash, err);
}

void
ed2k_filereqansnofil_encode(struct evbuffer *out, const uint8_t hash[16])
{
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_FILEREQANSNOFIL, hash, 16);
}

int
ed2k_hashsetrequest_decode(const uint8_t *p, size_t len, uint8_t hash[16], mt_error_t **err)
{
    return hash_only("OP_HASHSETREQUEST", p, len, true, hash, err);
}

void
ed2k_hashsetrequest_encode(struct evbuffer *out, const uint8_t hash[16])
{
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_HASHSETREQUEST, hash, 16);
}

int
ed2k_startuploadreq_decode(const uint8_t *p, size_t len, uint8_t hash[16], mt_error_t **err)
{
    return hash_only("OP_STARTUPLOADREQ", p, len, true, hash, err);
}

void
ed2k_startuploadreq_encode(struct evbuffer *out, const uint8_t hash[16])
{
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_STARTUPLOADREQ, hash, 16);
}

int
ed2k_end_of_download_decode(const uint8_t *p, size_t len, uint8_t hash[16], mt_error_t **err)
{
    return hash_only("OP_END_OF_DOWNLOAD", p, len, false, hash, err);
}

void
ed2k_end_of_download_encode(struct evbuffer *out, const uint8_t hash[16])
{
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_END_OF_DOWNLOAD, hash, 16);
}

int
ed2k_requestsources_decode(const uint8_t *p, size_t len, uint8_t hash[16], mt_error_t **err)
{
    return hash_only("OP_REQUESTSOURCES", p, len, true, hash, err);
}

void
ed2k_requestsources_encode(struct evbuffer *out, const uint8_t hash[16])
{
    send_small(out, ED2K_PROT_EMULE, ED2K_OP_REQUESTSOURCES, hash, 16);
}

int
ed2k_aichfilehashreq_decode(const uint8_t *p, size_t len, uint8_t hash[16], mt_error_t **err)
{
    return hash_only("OP_AICHFILEHASHREQ", p, len, false, hash, err);
}

void
ed2k_aichfilehashreq_encode(struct evbuffer *out, const uint8_t hash[16])
{
    send_small(out, ED2K_PROT_EMULE, ED2K_OP_AICHFILEHASHREQ, hash, 16);
}

/* ---- Hash set ---- */

int
ed2k_hashsetanswer_decode(const uint8_t *p, size_t len, ed2k_hashsetanswer_t *out,
                          mt_error_t **err)
{
    static const char msg[] = "OP_HASHSETANSWER";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_hash16(&r, out->hash) < 0)
        return truncated(msg, "file hash", &r, err);
    if (ed2k_read_u16(&r, &out->count) < 0)
        return truncated(msg, "hash count", &r, err);
    size_t need = (size_t)out->count * 16;
    if (ed2k_read_ptr(&r, need, &out->hashes) < 0) {
        size_t left = ed2k_reader_remaining(&r);
        unsigned n = out->count;
        memset(out, 0, sizeof *out);
        return perr(err, "%s: %u part hashes need %zu bytes, %zu left", msg, n, need, left);
    }
    if (out->count == 0)
        out->hashes = NULL;
    return 0;
}

int
ed2k_hashsetanswer_encode(struct evbuffer *out, const uint8_t hash[16],
                          const uint8_t (*parts)[16], size_t n, mt_error_t **err)
{
    if (n > UINT16_MAX)
        return ierr(err, "OP_HASHSETANSWER: %zu part hashes do not fit the count", n);
    struct evbuffer *b = pl_new();
    ed2k_write_hash16(b, hash);
    ed2k_write_u16(b, (uint16_t)n);
    for (size_t i = 0; i < n; i++)
        ed2k_write_hash16(b, parts[i]);
    return pl_send(out, ED2K_PROT_EDONKEY, ED2K_OP_HASHSETANSWER, b, err);
}

int
ed2k_hashsetanswer_verify(const ed2k_hashsetanswer_t *hs, uint64_t size, mt_error_t **err)
{
    static const char msg[] = "OP_HASHSETANSWER";
    uint64_t want = ed2k_hash_count(size);
    if (want == 0)
        return perr(err, "%s: a %" PRIu64 "-byte file has no hash set", msg, size);
    if (hs->count != want)
        return perr(err, "%s: %u part hashes, a %" PRIu64 "-byte file has %" PRIu64, msg,
                    (unsigned)hs->count, size, want);
    uint8_t md[16];
    ed2k_parthashes_md4((const uint8_t (*)[ED2K_HASH_LEN])hs->hashes, hs->count, md);
    if (memcmp(md, hs->hash, 16) != 0)
        return perr(err, "%s: the part hashes do not hash to the file hash", msg);
    return 0;
}

/* ---- Upload queue ---- */

int
ed2k_queueranking_decode(const uint8_t *p, size_t len, uint16_t *rank, mt_error_t **err)
{
    *rank = 0;
    if (exact_len("OP_QUEUERANKING", len, 12, err) < 0)
        return -1;
    *rank = (uint16_t)(p[0] | p[1] << 8);
    return 0;
}

void
ed2k_queueranking_encode(struct evbuffer *out, uint16_t rank)
{
    uint8_t b[12] = { 0 };
    put_le16(b, rank);
    send_small(out, ED2K_PROT_EMULE, ED2K_OP_QUEUERANKING, b, sizeof b);
}

int
ed2k_queuerank_decode(const uint8_t *p, size_t len, uint32_t *rank, mt_error_t **err)
{
    *rank = 0;
    if (min_len("OP_QUEUERANK", len, 4, err) < 0)
        return -1;
    *rank = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return 0;
}

void
ed2k_queuerank_encode(struct evbuffer *out, uint32_t rank)
{
    uint8_t b[4];
    put_le32(b, rank);
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_QUEUERANK, b, sizeof b);
}

void
ed2k_acceptuploadreq_encode(struct evbuffer *out)
{
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_ACCEPTUPLOADREQ, NULL, 0);
}

void
ed2k_canceltransfer_encode(struct evbuffer *out)
{
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_CANCELTRANSFER, NULL, 0);
}

void
ed2k_outofpartreqs_encode(struct evbuffer *out)
{
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_OUTOFPARTREQS, NULL, 0);
}

/* ---- Block requests and data ---- */

static int
read_offset(ed2k_reader_t *r, bool i64, uint64_t *v)
{
    if (i64)
        return ed2k_read_u64(r, v);
    uint32_t v32;
    if (ed2k_read_u32(r, &v32) < 0)
        return -1;
    *v = v32;
    return 0;
}

static void
write_offset(struct evbuffer *b, bool i64, uint64_t v)
{
    if (i64)
        ed2k_write_u64(b, v);
    else
        ed2k_write_u32(b, (uint32_t)v);
}

int
ed2k_requestparts_decode(const uint8_t *p, size_t len, bool i64, ed2k_requestparts_t *out,
                         mt_error_t **err)
{
    const char *msg = i64 ? "OP_REQUESTPARTS_I64" : "OP_REQUESTPARTS";
    ed2k_reader_t r;
    uint64_t start[3], end[3];
    memset(out, 0, sizeof *out);
    size_t want = 16 + 6 * (i64 ? 8 : 4);
    if (len < want)
        return perr(err, "%s: payload is %zu bytes, expected %zu", msg, len, want);
    ed2k_reader_init(&r, p, len);
    ed2k_read_hash16(&r, out->hash);
    for (int i = 0; i < 3; i++)
        read_offset(&r, i64, &start[i]);
    for (int i = 0; i < 3; i++)
        read_offset(&r, i64, &end[i]);
    for (int i = 0; i < 3; i++) {
        if (end[i] < start[i]) {
            memset(out, 0, sizeof *out);
            return perr(err, "%s: range %d ends at %" PRIu64 ", before its start %" PRIu64, msg,
                        i + 1, end[i], start[i]);
        }
        if (end[i] > start[i]) {
            out->ranges[out->n].start = start[i];
            out->ranges[out->n].end = end[i];
            out->n++;
        }
    }
    return 0;
}

int
ed2k_requestparts_encode(struct evbuffer *out, const uint8_t hash[16], const ed2k_range_t *ranges,
                         size_t n, bool i64, mt_error_t **err)
{
    const char *msg = i64 ? "OP_REQUESTPARTS_I64" : "OP_REQUESTPARTS";
    if (n > 3)
        return ierr(err, "%s: %zu ranges, at most 3 fit", msg, n);
    for (size_t i = 0; i < n; i++) {
        if (ranges[i].start >= ranges[i].end)
            return ierr(err, "%s: range [%" PRIu64 ", %" PRIu64 ") is empty or reversed", msg,
                        ranges[i].start, ranges[i].end);
        if (!i64 && ranges[i].end > UINT32_MAX)
            return ierr(err, "%s: offset %" PRIu64 " needs OP_REQUESTPARTS_I64", msg,
                        ranges[i].end);
    }
    struct evbuffer *b = pl_new();
    ed2k_write_hash16(b, hash);
    for (size_t i = 0; i < 3; i++)
        write_offset(b, i64, i < n ? ranges[i].start : 0);
    for (size_t i = 0; i < 3; i++)
        write_offset(b, i64, i < n ? ranges[i].end : 0);
    return pl_send(out, i64 ? ED2K_PROT_EMULE : ED2K_PROT_EDONKEY,
                   i64 ? ED2K_OP_REQUESTPARTS_I64 : ED2K_OP_REQUESTPARTS, b, err);
}

int
ed2k_sendingpart_decode(const uint8_t *p, size_t len, bool i64, ed2k_sendingpart_t *out,
                        mt_error_t **err)
{
    const char *msg = i64 ? "OP_SENDINGPART_I64" : "OP_SENDINGPART";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    size_t hdr = 16 + 2 * (i64 ? 8 : 4);
    if (len < hdr)
        return perr(err, "%s: payload is %zu bytes, shorter than the %zu-byte header", msg, len,
                    hdr);
    ed2k_reader_init(&r, p, len);
    uint8_t hash[16];
    uint64_t start, end;
    ed2k_read_hash16(&r, hash);
    read_offset(&r, i64, &start);
    read_offset(&r, i64, &end);
    size_t n = len - hdr;
    if (end < start || end - start != n)
        return perr(err, "%s: range [%" PRIu64 ", %" PRIu64 ") does not match %zu data bytes",
                    msg, start, end, n);
    if (n == 0)
        return perr(err, "%s: no data", msg);
    memcpy(out->hash, hash, 16);
    out->start = start;
    out->end = end;
    out->data = p + hdr;
    out->len = n;
    return 0;
}

static int
check_data_range(const char *msg, uint64_t start, size_t len, bool i64, mt_error_t **err)
{
    if (len == 0)
        return ierr(err, "%s: no data", msg);
    if ((uint64_t)len > UINT64_MAX - start)
        return ierr(err, "%s: %zu bytes at offset %" PRIu64 " overflow", msg, len, start);
    if (!i64 && start + len > UINT32_MAX)
        return ierr(err, "%s: end offset %" PRIu64 " needs the _I64 form", msg, start + len);
    return 0;
}

int
ed2k_sendingpart_encode(struct evbuffer *out, const uint8_t hash[16], uint64_t start,
                        const void *data, size_t len, bool i64, mt_error_t **err)
{
    const char *msg = i64 ? "OP_SENDINGPART_I64" : "OP_SENDINGPART";
    if (check_data_range(msg, start, len, i64, err) < 0)
        return -1;
    if (len > ED2K_MAX_PAYLOAD_DEFAULT)
        return ierr(err, "%s: %zu data bytes exceed what a peer accepts in one packet", msg, len);
    struct evbuffer *b = pl_new();
    ed2k_write_hash16(b, hash);
    write_offset(b, i64, start);
    write_offset(b, i64, start + len);
    ed2k_write_bytes(b, data, len);
    return pl_send(out, i64 ? ED2K_PROT_EMULE : ED2K_PROT_EDONKEY,
                   i64 ? ED2K_OP_SENDINGPART_I64 : ED2K_OP_SENDINGPART, b, err);
}

size_t
ed2k_c2c_fragment_size(size_t n)
{
    return n > ED2K_FRAGMENT_SIZE ? n / (n / ED2K_FRAGMENT_SIZE) : n;
}

size_t
ed2k_c2c_data_len(uint8_t proto, uint8_t opcode, size_t payload_len)
{
    size_t head = 0; /* the hash and the offsets before the data */
    if (proto == ED2K_PROTO_EDONKEY && opcode == ED2K_OP_SENDINGPART)
        head = 16 + 4 + 4;
    else if (proto == ED2K_PROTO_EMULE && opcode == ED2K_OP_SENDINGPART_I64)
        head = 16 + 8 + 8;
    else if (proto == ED2K_PROTO_EMULE && opcode == ED2K_OP_COMPRESSEDPART)
        head = 16 + 4 + 4;
    else if (proto == ED2K_PROTO_EMULE && opcode == ED2K_OP_COMPRESSEDPART_I64)
        head = 16 + 8 + 4;
    else
        return 0;
    return payload_len > head ? payload_len - head : 0;
}

size_t
ed2k_c2c_data_len_evbuffer(struct evbuffer *b)
{
    size_t total = 0, left = evbuffer_get_length(b);
    struct evbuffer_ptr pos;
    evbuffer_ptr_set(b, &pos, 0, EVBUFFER_PTR_SET);
    while (left >= 6) {
        uint8_t h[6];
        if (evbuffer_copyout_from(b, &pos, h, sizeof h) != (ev_ssize_t)sizeof h)
            break;
        size_t len = (size_t)h[1] | (size_t)h[2] << 8 | (size_t)h[3] << 16 | (size_t)h[4] << 24;
        if (len == 0)
            break;
        size_t have = left - 5 < len ? left - 5 : len; /* opcode and payload present */
        total += ed2k_c2c_data_len(h[0], h[5], have - 1);
        if (have < len || evbuffer_ptr_set(b, &pos, 5 + len, EVBUFFER_PTR_ADD) != 0)
            break;
        left -= 5 + len;
    }
    return total;
}

int
ed2k_sendingpart_encode_block(struct evbuffer *out, const uint8_t hash[16], uint64_t start,
                              const void *block, size_t len, bool i64, mt_error_t **err)
{
    const char *msg = i64 ? "OP_SENDINGPART_I64" : "OP_SENDINGPART";
    if (check_data_range(msg, start, len, i64, err) < 0)
        return -1;
    /* CreateStandardPackets in aMule 2.3.3's UploadClient.cpp. */
    const uint8_t *d = block;
    size_t frag = ed2k_c2c_fragment_size(len), off = 0;
    while (off < len) {
        size_t left = len - off;
        size_t n = left < frag * 2 ? left : frag;
        if (ed2k_sendingpart_encode(out, hash, start + off, d + off, n, i64, err) < 0)
            return -1; /* cannot happen after the checks above */
        off += n;
    }
    return 0;
}

int
ed2k_compressedpart_decode(const uint8_t *p, size_t len, bool i64, ed2k_compressedpart_t *out,
                           mt_error_t **err)
{
    const char *msg = i64 ? "OP_COMPRESSEDPART_I64" : "OP_COMPRESSEDPART";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    size_t hdr = 16 + (i64 ? 8 : 4) + 4;
    if (len < hdr)
        return perr(err, "%s: payload is %zu bytes, shorter than the %zu-byte header", msg, len,
                    hdr);
    ed2k_reader_init(&r, p, len);
    uint8_t hash[16];
    uint64_t start;
    uint32_t packed;
    ed2k_read_hash16(&r, hash);
    read_offset(&r, i64, &start);
    ed2k_read_u32(&r, &packed);
    size_t n = len - hdr;
    if (n == 0)
        return perr(err, "%s: no data", msg);
    if (n > packed)
        return perr(err, "%s: fragment of %zu bytes exceeds the compressed size of %" PRIu32,
                    msg, n, packed);
    memcpy(out->hash, hash, 16);
    out->start = start;
    out->packed_size = packed;
    out->data = p + hdr;
    out->len = n;
    return 0;
}

static int
check_compressed_args(const char *msg, uint64_t start, size_t len, size_t packed_size, bool i64,
                      mt_error_t **err)
{
    if (len == 0)
        return ierr(err, "%s: no data", msg);
    if (len > packed_size)
        return ierr(err, "%s: fragment of %zu bytes exceeds the compressed size of %zu", msg,
                    len, packed_size);
    if (!i64 && start > UINT32_MAX)
        return ierr(err, "%s: block start %" PRIu64 " needs the _I64 form", msg, start);
    return 0;
}

int
ed2k_compressedpart_encode(struct evbuffer *out, const uint8_t hash[16], uint64_t start,
                           uint32_t packed_size, const void *frag, size_t len, bool i64,
                           mt_error_t **err)
{
    const char *msg = i64 ? "OP_COMPRESSEDPART_I64" : "OP_COMPRESSEDPART";
    if (check_compressed_args(msg, start, len, packed_size, i64, err) < 0)
        return -1;
    struct evbuffer *b = pl_new();
    ed2k_write_hash16(b, hash);
    write_offset(b, i64, start);
    ed2k_write_u32(b, packed_size);
    ed2k_write_bytes(b, frag, len);
    return pl_send(out, ED2K_PROT_EMULE, i64 ? ED2K_OP_COMPRESSEDPART_I64 : ED2K_OP_COMPRESSEDPART,
                   b, err);
}

ed2k_deflate_status_t
ed2k_compressedpart_encode_block(struct evbuffer *out, const uint8_t hash[16], uint64_t start,
                                 const void *block, size_t len, int level, bool i64,
                                 mt_error_t **err)
{
    const char *msg = i64 ? "OP_COMPRESSEDPART_I64" : "OP_COMPRESSEDPART";
    if (len == 0 || len > UINT32_MAX) {
        ierr(err, "%s: block of %zu bytes cannot be sent", msg, len);
        return ED2K_DEFLATE_ERROR;
    }
    if (level < -1 || level > 9) {
        ierr(err, "%s: zlib level %d is out of range", msg, level);
        return ED2K_DEFLATE_ERROR;
    }
    if (check_data_range(msg, start, len, true, err) < 0
        || check_compressed_args(msg, start, 1, 1, i64, err) < 0)
        return ED2K_DEFLATE_ERROR;
    /* CreatePackedPackets in aMule 2.3.3's UploadClient.cpp: compress the
     * whole block, keep it only if smaller. */
    uLongf clen = compressBound((uLong)len);
    uint8_t *c = xmalloc(clen);
    if (compress2(c, &clen, block, (uLong)len, level) != Z_OK) {
        free(c);
        mt_error_set(err, MT_ERR_INTERNAL, "%s: zlib compress2 failed", msg);
        return ED2K_DEFLATE_ERROR;
    }
    if (clen >= len) {
        free(c);
        return ED2K_DEFLATE_NOT_WORTH_IT;
    }
    size_t total = clen, frag = ed2k_c2c_fragment_size(total), off = 0;
    while (off < total) {
        size_t left = total - off;
        size_t n = left < frag * 2 ? left : frag;
        if (ed2k_compressedpart_encode(out, hash, start, (uint32_t)total, c + off, n, i64, err)
            < 0) {
            free(c); /* cannot happen after the checks above */
            return ED2K_DEFLATE_ERROR;
        }
        off += n;
    }
    free(c);
    return ED2K_DEFLATE_OK;
}

/* ---- Inflater ---- */

struct ed2k_inflater {
    z_stream zs;
    uint64_t block_start;
    uint32_t packed_size;
    size_t max_out;
    uint64_t consumed;
    uint64_t produced;
    bool done;
    bool failed;
};

ed2k_inflater_t *
ed2k_inflater_new(uint64_t block_start, uint32_t packed_size, size_t max_out)
{
    ed2k_inflater_t *inf = xcalloc(1, sizeof *inf);
    inf->block_start = block_start;
    inf->packed_size = packed_size;
    inf->max_out = max_out;
    if (inflateInit(&inf->zs) != Z_OK) {
        /* Only out of memory (or a broken zlib) gets here. */
        fprintf(stderr, "muleteer: zlib inflateInit failed\n");
        abort();
    }
    return inf;
}

void
ed2k_inflater_free(ed2k_inflater_t *inf)
{
    if (inf == NULL)
        return;
    inflateEnd(&inf->zs);
    free(inf);
}

bool
ed2k_inflater_is_done(const ed2k_inflater_t *inf)
{
    return inf->done;
}

uint64_t
ed2k_inflater_block_start(const ed2k_inflater_t *inf)
{
    return inf->block_start;
}

uint32_t
ed2k_inflater_packed_size(const ed2k_inflater_t *inf)
{
    return inf->packed_size;
}

uint64_t
ed2k_inflater_consumed(const ed2k_inflater_t *inf)
{
    return inf->consumed;
}

uint64_t
ed2k_inflater_produced(const ed2k_inflater_t *inf)
{
    return inf->produced;
}

static int
inflater_fail(ed2k_inflater_t *inf, mt_error_t **err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
inflater_fail(ed2k_inflater_t *inf, mt_error_t **err, const char *fmt, ...)
{
    va_list ap;
    inf->failed = true;
    va_start(ap, fmt);
    mt_error_setv(err, MT_ERR_PROTOCOL, fmt, ap);
    va_end(ap);
    return -1;
}

int
ed2k_inflater_feed(ed2k_inflater_t *inf, const uint8_t *frag, size_t len,
                   ed2k_inflate_sink_fn sink, void *ctx, mt_error_t **err)
{
    static const char msg[] = "OP_COMPRESSEDPART";
    if (inf->failed)
        return perr(err, "%s: block at %" PRIu64 " already failed", msg, inf->block_start);
    if (inf->done)
        return inflater_fail(inf, err, "%s: data after the end of the block at %" PRIu64, msg,
                             inf->block_start);
    if (len > inf->packed_size - inf->consumed)
        return inflater_fail(inf, err,
                             "%s: %zu more bytes exceed the compressed size of %" PRIu32
                             " (%" PRIu64 " received)",
                             msg, len, inf->packed_size, inf->consumed);
    uint8_t buf[16384];
    bool ended = false;
    inf->zs.next_in = (Bytef *)(uintptr_t)frag;
    inf->zs.avail_in = (uInt)len; /* len <= packed_size, a u32 */
    for (;;) {
        /* Room for one byte over the limit, so an over-long stream shows. */
        size_t avail = inf->max_out - inf->produced;
        inf->zs.next_out = buf;
        inf->zs.avail_out = (uInt)(avail < sizeof buf ? avail + 1 : sizeof buf);
        uInt before_out = inf->zs.avail_out;
        int zr = inflate(&inf->zs, Z_NO_FLUSH);
        size_t have = before_out - inf->zs.avail_out;
        if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR || zr == Z_STREAM_ERROR || zr == Z_MEM_ERROR)
            return inflater_fail(inf, err, "%s: corrupt zlib data in the block at %" PRIu64 " (%s)",
                                 msg, inf->block_start, inf->zs.msg ? inf->zs.msg : "error");
        if (have > inf->max_out - inf->produced)
            return inflater_fail(inf, err,
                                 "%s: the block at %" PRIu64 " inflates beyond %zu bytes", msg,
                                 inf->block_start, inf->max_out);
        if (have > 0) {
            if (sink(ctx, inf->block_start + inf->produced, buf, have, err) < 0) {
                inf->failed = true;
                return -1;
            }
            inf->produced += have;
        }
        if (zr == Z_STREAM_END) {
            ended = true;
            break;
        }
        /* Z_BUF_ERROR: no progress possible. Z_OK: go on until all input
         * is used and zlib has no more output pending (it left room). */
        if (zr == Z_BUF_ERROR || (inf->zs.avail_in == 0 && inf->zs.avail_out != 0))
            break;
    }
    size_t left = inf->zs.avail_in;
    inf->consumed += len - left;
    if (ended) {
        if (left > 0)
            return inflater_fail(inf, err,
                                 "%s: %zu bytes after the end of the zlib stream of the block at %" PRIu64,
                                 msg, left, inf->block_start);
        if (inf->consumed != inf->packed_size)
            return inflater_fail(inf, err,
                                 "%s: zlib stream ended after %" PRIu64 " of %" PRIu32 " bytes",
                                 msg, inf->consumed, inf->packed_size);
        inf->done = true;
    } else if (inf->consumed == inf->packed_size) {
        return inflater_fail(inf, err,
                             "%s: zlib stream of the block at %" PRIu64
                             " does not end within its %" PRIu32 " bytes",
                             msg, inf->block_start, inf->packed_size);
    }
    return 0;
}

static int
evbuffer_sink(void *ctx, uint64_t offset, const uint8_t *data, size_t len, mt_error_t **err)
{
    ed2k_write_bytes(ctx, data, len);
    return 0;
}

int
ed2k_inflater_feed_evbuffer(ed2k_inflater_t *inf, const uint8_t *frag, size_t len,
                            struct evbuffer *out, mt_error_t **err)
{
    return ed2k_inflater_feed(inf, frag, len, evbuffer_sink, out, err);
}

/* ---- Source exchange ---- */

int
ed2k_requestsources2_decode(const uint8_t *p, size_t len, ed2k_requestsources2_t *out,
                            mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    if (exact_len("OP_REQUESTSOURCES2", len, 19, err) < 0)
        return -1;
    out->version = p[0];
    out->options = (uint16_t)(p[1] | p[2] << 8);
    memcpy(out->hash, p + 3, 16);
    return 0;
}

void
ed2k_requestsources2_encode(struct evbuffer *out, uint8_t version, uint16_t options,
                            const uint8_t hash[16])
{
    uint8_t b[19];
    b[0] = version;
    put_le16(b + 1, options);
    memcpy(b + 3, hash, 16);
    send_small(out, ED2K_PROT_EMULE, ED2K_OP_REQUESTSOURCES2, b, sizeof b);
}

static size_t
sx_entry_size(uint8_t version)
{
    switch (version) {
    case 1:
        return 12;
    case 2:
    case 3:
        return 28;
    default:
        return 29;
    }
}

void
ed2k_answersources_clear(ed2k_answersources_t *as)
{
    if (as == NULL)
        return;
    free(as->sources);
    memset(as, 0, sizeof *as);
}

static void
read_sources(ed2k_reader_t *r, ed2k_answersources_t *as)
{
    as->sources = as->count ? xcalloc(as->count, sizeof *as->sources) : NULL;
    for (size_t i = 0; i < as->count; i++) {
        ed2k_sx_source_t *s = &as->sources[i];
        /* The caller checked the size: these reads cannot fail. */
        ed2k_read_u32(r, &s->id);
        ed2k_read_u16(r, &s->port);
        ed2k_read_u32(r, &s->server_ip);
        ed2k_read_u16(r, &s->server_port);
        if (as->version >= 2)
            ed2k_read_hash16(r, s->user_hash);
        if (as->version >= 4)
            ed2k_read_u8(r, &s->crypt_options);
    }
}

int
ed2k_answersources2_decode(const uint8_t *p, size_t len, ed2k_answersources_t *out,
                           mt_error_t **err)
{
    static const char msg[] = "OP_ANSWERSOURCES2";
    ed2k_reader_t r;
    uint16_t count;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u8(&r, &out->version) < 0)
        return truncated(msg, "version", &r, err);
    if (out->version < 1 || out->version > ED2K_SX2_VERSION) {
        unsigned v = out->version;
        out->version = 0;
        return perr(err, "%s: unknown version %u", msg, v);
    }
    if (ed2k_read_hash16(&r, out->hash) < 0 || ed2k_read_u16(&r, &count) < 0) {
        memset(out, 0, sizeof *out);
        return truncated(msg, "header", &r, err);
    }
    size_t need = (size_t)count * sx_entry_size(out->version);
    if (ed2k_reader_remaining(&r) != need) {
        size_t left = ed2k_reader_remaining(&r);
        unsigned v = out->version;
        memset(out, 0, sizeof *out);
        return perr(err, "%s: %u sources of version %u need %zu bytes, %zu follow", msg,
                    (unsigned)count, v, need, left);
    }
    out->count = count;
    read_sources(&r, out);
    return 0;
}

int
ed2k_answersources_decode(const uint8_t *p, size_t len, uint8_t sx1_ver,
                          ed2k_answersources_t *out, mt_error_t **err)
{
    static const char msg[] = "OP_ANSWERSOURCES";
    ed2k_reader_t r;
    uint16_t count;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_hash16(&r, out->hash) < 0 || ed2k_read_u16(&r, &count) < 0) {
        memset(out, 0, sizeof *out);
        return truncated(msg, "header", &r, err);
    }
    /* AddClientSources in aMule's PartFile.cpp: the layout follows from the
     * size; it must agree with the peer's SX1 version. */
    size_t left = ed2k_reader_remaining(&r);
    uint8_t v = 0;
    if (count == 0 && left == 0)
        v = sx1_ver >= 1 && sx1_ver <= 4 ? sx1_ver : 1;
    else if (left == (size_t)count * 12 && sx1_ver == 1)
        v = 1;
    else if (left == (size_t)count * 28 && sx1_ver >= 2)
        v = sx1_ver == 2 ? 2 : 3;
    else if (left == (size_t)count * 29 && sx1_ver == 4)
        v = 4;
    if (v == 0) {
        memset(out, 0, sizeof *out);
        return perr(err, "%s: %zu bytes for %u sources fit no layout of SX1 version %u", msg,
                    left, (unsigned)count, (unsigned)sx1_ver);
    }
    out->version = v;
    out->count = count;
    read_sources(&r, out);
    return 0;
}

static int
sources_encode(struct evbuffer *out, bool sx2, uint8_t version, const uint8_t hash[16],
               const ed2k_sx_source_t *src, size_t n, mt_error_t **err)
{
    const char *msg = sx2 ? "OP_ANSWERSOURCES2" : "OP_ANSWERSOURCES";
    if (version < 1 || version > ED2K_SX2_VERSION)
        return ierr(err, "%s: unknown version %u", msg, (unsigned)version);
    if (n > UINT16_MAX)
        return ierr(err, "%s: %zu sources do not fit the count", msg, n);
    struct evbuffer *b = pl_new();
    if (sx2)
        ed2k_write_u8(b, version);
    ed2k_write_hash16(b, hash);
    ed2k_write_u16(b, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        ed2k_write_u32(b, src[i].id);
        ed2k_write_u16(b, src[i].port);
        ed2k_write_u32(b, src[i].server_ip);
        ed2k_write_u16(b, src[i].server_port);
        if (version >= 2)
            ed2k_write_hash16(b, src[i].user_hash);
        if (version >= 4)
            ed2k_write_u8(b, src[i].crypt_options);
    }
    return pl_send(out, ED2K_PROT_EMULE, sx2 ? ED2K_OP_ANSWERSOURCES2 : ED2K_OP_ANSWERSOURCES, b,
                   err);
}

int
ed2k_answersources2_encode(struct evbuffer *out, uint8_t version, const uint8_t hash[16],
                           const ed2k_sx_source_t *src, size_t n, mt_error_t **err)
{
    return sources_encode(out, true, version, hash, src, n, err);
}

int
ed2k_answersources_encode(struct evbuffer *out, uint8_t version, const uint8_t hash[16],
                          const ed2k_sx_source_t *src, size_t n, mt_error_t **err)
{
    return sources_encode(out, false, version, hash, src, n, err);
}

/* ---- Other client packets ---- */

int
ed2k_aichfilehashans_decode(const uint8_t *p, size_t len, uint8_t hash[16],
                            uint8_t aich[ED2K_AICH_HASH_LEN], mt_error_t **err)
{
    memset(hash, 0, 16);
    memset(aich, 0, ED2K_AICH_HASH_LEN);
    if (min_len("OP_AICHFILEHASHANS", len, 16 + ED2K_AICH_HASH_LEN, err) < 0)
        return -1;
    memcpy(hash, p, 16);
    memcpy(aich, p + 16, ED2K_AICH_HASH_LEN);
    return 0;
}

void
ed2k_aichfilehashans_encode(struct evbuffer *out, const uint8_t hash[16],
                            const uint8_t aich[ED2K_AICH_HASH_LEN])
{
    uint8_t b[16 + ED2K_AICH_HASH_LEN];
    memcpy(b, hash, 16);
    memcpy(b + 16, aich, ED2K_AICH_HASH_LEN);
    send_small(out, ED2K_PROT_EMULE, ED2K_OP_AICHFILEHASHANS, b, sizeof b);
}

void
ed2k_publicip_req_encode(struct evbuffer *out)
{
    send_small(out, ED2K_PROT_EMULE, ED2K_OP_PUBLICIP_REQ, NULL, 0);
}

int
ed2k_publicip_answer_decode(const uint8_t *p, size_t len, uint32_t *ip, mt_error_t **err)
{
    *ip = 0;
    if (exact_len("OP_PUBLICIP_ANSWER", len, 4, err) < 0)
        return -1;
    *ip = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return 0;
}

void
ed2k_publicip_answer_encode(struct evbuffer *out, uint32_t ip)
{
    uint8_t b[4];
    put_le32(b, ip);
    send_small(out, ED2K_PROT_EMULE, ED2K_OP_PUBLICIP_ANSWER, b, sizeof b);
}

void
ed2k_asksharedfiles_encode(struct evbuffer *out)
{
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_ASKSHAREDFILES, NULL, 0);
}

void
ed2k_askshareddeniedans_encode(struct evbuffer *out)
{
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_ASKSHAREDDENIEDANS, NULL, 0);
}

int
ed2k_message_decode(const uint8_t *p, size_t len, const uint8_t **text, size_t *text_len,
                    mt_error_t **err)
{
    static const char msg[] = "OP_MESSAGE";
    *text = NULL;
    *text_len = 0;
    if (min_len(msg, len, 2, err) < 0)
        return -1;
    size_t n = (size_t)(p[0] | p[1] << 8);
    if (n + 2 != len)
        return perr(err, "%s: text length %zu does not match the %zu-byte payload", msg, n, len);
    *text = p + 2;
    *text_len = n;
    return 0;
}

int
ed2k_message_encode(struct evbuffer *out, const void *text, size_t len, mt_error_t **err)
{
    struct evbuffer *b = pl_new();
    if (ed2k_write_string16(b, text, len, err) < 0) {
        evbuffer_free(b);
        return -1;
    }
    return pl_send(out, ED2K_PROT_EDONKEY, ED2K_OP_MESSAGE, b, err);
}

int
ed2k_change_client_id_decode(const uint8_t *p, size_t len, uint32_t *new_id, uint32_t *server_ip,
                             mt_error_t **err)
{
    ed2k_reader_t r;
    *new_id = 0;
    *server_ip = 0;
    if (min_len("OP_CHANGE_CLIENT_ID", len, 8, err) < 0)
        return -1;
    ed2k_reader_init(&r, p, len);
    ed2k_read_u32(&r, new_id);
    ed2k_read_u32(&r, server_ip);
    return 0;
}

void
ed2k_change_client_id_encode(struct evbuffer *out, uint32_t new_id, uint32_t server_ip)
{
    uint8_t b[8];
    put_le32(b, new_id);
    put_le32(b + 4, server_ip);
    send_small(out, ED2K_PROT_EDONKEY, ED2K_OP_CHANGE_CLIENT_ID, b, sizeof b);
}

int
ed2k_filedesc_decode(const uint8_t *p, size_t len, ed2k_filedesc_t *out, mt_error_t **err)
{
    static const char msg[] = "OP_FILEDESC";
    ed2k_reader_t r;
    uint32_t n;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u8(&r, &out->rating) < 0 || ed2k_read_u32(&r, &n) < 0) {
        out->rating = 0;
        return truncated(msg, "header", &r, err);
    }
    size_t left = ed2k_reader_remaining(&r);
    out->text_len = n < left ? n : left;
    ed2k_read_ptr(&r, out->text_len, &out->text);
    return 0;
}

int
ed2k_filedesc_encode(struct evbuffer *out, uint8_t rating, const void *text, size_t len,
                     mt_error_t **err)
{
    if (len > UINT32_MAX || len > ED2K_MAX_PAYLOAD_DEFAULT)
        return ierr(err, "OP_FILEDESC: comment of %zu bytes is too long", len);
    struct evbuffer *b = pl_new();
    ed2k_write_u8(b, rating);
    ed2k_write_u32(b, (uint32_t)len);
    ed2k_write_bytes(b, text, len);
    return pl_send(out, ED2K_PROT_EMULE, ED2K_OP_FILEDESC, b, err);
}

/* ---- Client UDP ---- */

int
ed2k_reaskfileping_decode(const uint8_t *p, size_t len, uint8_t udp_ver,
                          ed2k_reaskfileping_t *out, mt_error_t **err)
{
    static const char msg[] = "OP_REASKFILEPING";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_hash16(&r, out->hash) < 0)
        return truncated(msg, "file hash", &r, err);
    if (udp_ver >= 4) {
        if (read_partstatus(&r, msg, &out->parts, err) < 0) {
            memset(out, 0, sizeof *out);
            return -1;
        }
        out->has_parts = true;
        if (ed2k_reader_remaining(&r) >= 2) {
            ed2k_read_u16(&r, &out->complete_sources);
            out->has_complete_sources = true;
        }
    } else if (udp_ver == 3) {
        if (ed2k_read_u16(&r, &out->complete_sources) < 0) {
            memset(out, 0, sizeof *out);
            return truncated(msg, "complete-source count", &r, err);
        }
        out->has_complete_sources = true;
    }
    return 0;
}

int
ed2k_reaskfileping_encode(struct evbuffer *out, const ed2k_reaskfileping_t *rp,
                          mt_error_t **err)
{
    if (rp->has_parts && check_partstatus_arg(&rp->parts, "OP_REASKFILEPING", err) < 0)
        return -1;
    ed2k_write_u8(out, ED2K_PROT_EMULE);
    ed2k_write_u8(out, ED2K_OP_REASKFILEPING);
    ed2k_write_hash16(out, rp->hash);
    if (rp->has_parts)
        write_partstatus(out, &rp->parts);
    if (rp->has_complete_sources)
        ed2k_write_u16(out, rp->complete_sources);
    return 0;
}

int
ed2k_reaskack_decode(const uint8_t *p, size_t len, uint8_t udp_ver, ed2k_reaskack_t *out,
                     mt_error_t **err)
{
    static const char msg[] = "OP_REASKACK";
    ed2k_reader_t r;
    memset(out, 0, sizeof *out);
    ed2k_reader_init(&r, p, len);
    if (udp_ver >= 4) {
        if (read_partstatus(&r, msg, &out->parts, err) < 0) {
            memset(out, 0, sizeof *out);
            return -1;
        }
        out->has_parts = true;
    }
    if (ed2k_read_u16(&r, &out->rank) < 0) {
        memset(out, 0, sizeof *out);
        return truncated(msg, "queue rank", &r, err);
    }
    return 0;
}

int
ed2k_reaskack_encode(struct evbuffer *out, const ed2k_reaskack_t *ra, mt_error_t **err)
{
    if (ra->has_parts && check_partstatus_arg(&ra->parts, "OP_REASKACK", err) < 0)
        return -1;
    ed2k_write_u8(out, ED2K_PROT_EMULE);
    ed2k_write_u8(out, ED2K_OP_REASKACK);
    if (ra->has_parts)
        write_partstatus(out, &ra->parts);
    ed2k_write_u16(out, ra->rank);
    return 0;
}

void
ed2k_queuefull_encode(struct evbuffer *out)
{
    ed2k_udp_append(out, ED2K_PROT_EMULE, ED2K_OP_QUEUEFULL, NULL, 0);
}

void
ed2k_filenotfound_encode(struct evbuffer *out)
{
    ed2k_udp_append(out, ED2K_PROT_EMULE, ED2K_OP_FILENOTFOUND, NULL, 0);
}
