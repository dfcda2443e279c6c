/* c2s.c: encoders and strict decoders for the client side of the
 * client-to-server TCP protocol (ed2k-protocol.md §3). */
#include "config.h"

#include "ed2k/c2s.h"
#include "ed2k/opcodes.h"
#include "ed2k/packet.h"
#include "ed2k/tag.h"
#include "ed2k/text.h"
#include "util/xalloc.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CT_NAME 0x01
#define CT_VERSION 0x11
#define CT_SERVER_FLAGS 0x20
#define CT_EMULE_VERSION 0xFB
#define ST_SERVERNAME 0x01
#define ST_DESCRIPTION 0x0B

static int
frame(struct evbuffer *out, uint8_t opcode, struct evbuffer *payload, mt_error_t **err)
{
    int rc = ed2k_packet_append_evbuffer(out, ED2K_PROTO_EDONKEY, opcode, payload, err);
    evbuffer_free(payload);
    return rc;
}

int
ed2k_login_encode(struct evbuffer *out, const uint8_t user_hash[16], uint32_t client_id,
                  uint16_t tcp_port, const char *name, uint32_t cap_flags, uint32_t emule_version,
                  mt_error_t **err)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_hash16(b, user_hash);
    ed2k_write_u32(b, client_id);
    ed2k_write_u16(b, tcp_port);
    ed2k_taglist_t *tags = ed2k_taglist_new();
    ed2k_taglist_add_str(tags, CT_NAME, name != NULL ? name : "", name != NULL ? strlen(name) : 0);
    ed2k_taglist_add_uint(tags, CT_VERSION, ED2K_TAG_UINT32, 0x3C);
    ed2k_taglist_add_uint(tags, CT_SERVER_FLAGS, ED2K_TAG_UINT32, cap_flags);
    ed2k_taglist_add_uint(tags, CT_EMULE_VERSION, ED2K_TAG_UINT32, emule_version);
    int rc = ed2k_taglist_write(b, tags, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, err);
    ed2k_taglist_free(tags);
    if (rc != 0) {
        evbuffer_free(b);
        return -1;
    }
    return frame(out, ED2K_SOP_LOGINREQUEST, b, err);
}

int
ed2k_idchange_decode(const uint8_t *p, size_t len, ed2k_idchange_t *out, mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u32(&r, &out->id) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_IDCHANGE: payload is %zu bytes, expected at least 4",
                     len);
        return -1;
    }
    if (ed2k_read_u32(&r, &out->flags) == 0)
        out->has_flags = true;
    if (out->has_flags && ed2k_read_u32(&r, &out->aux_port) == 0)
        out->has_aux_port = true;
    if (out->has_aux_port && ed2k_read_u32(&r, &out->reported_ip) == 0 &&
        ed2k_read_u32(&r, &out->obfuscation_port) == 0)
        out->has_reported_ip = true;
    return 0;
}

void
ed2k_idchange_encode(struct evbuffer *out, const ed2k_idchange_t *id)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u32(b, id->id);
    if (id->has_flags) {
        ed2k_write_u32(b, id->flags);
        if (id->has_aux_port) {
            ed2k_write_u32(b, id->aux_port);
            if (id->has_reported_ip) {
                ed2k_write_u32(b, id->reported_ip);
                ed2k_write_u32(b, id->obfuscation_port);
            }
        }
    }
    frame(out, ED2K_SOP_IDCHANGE, b, NULL);
}

int
ed2k_servermessage_decode(const uint8_t *p, size_t len, const uint8_t **text, size_t *text_len,
                          mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_string16(&r, text, text_len) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_SERVERMESSAGE: the text is cut short");
        return -1;
    }
    return 0;
}

int
ed2k_serverstatus_decode(const uint8_t *p, size_t len, uint32_t *users, uint32_t *files,
                         mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u32(&r, users) != 0 || ed2k_read_u32(&r, files) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_SERVERSTATUS: payload is %zu bytes, expected 8",
                     len);
        return -1;
    }
    return 0;
}

static char *
tag_text(const ed2k_taglist_t *tags, uint8_t id)
{
    const char *s;
    size_t n;
    if (ed2k_taglist_get_str(tags, id, &s, &n) != 0)
        return NULL;
    size_t outlen;
    return ed2k_text_to_utf8(s, n, &outlen);
}

int
ed2k_serverident_decode(const uint8_t *p, size_t len, ed2k_serverident_t *out, mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    ed2k_taglist_t *tags = NULL;
    if (ed2k_read_hash16(&r, out->hash) != 0 || ed2k_read_u32(&r, &out->ip) != 0 ||
        ed2k_read_u16(&r, &out->port) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_SERVERIDENT: payload is %zu bytes, too short", len);
        return -1;
    }
    if (ed2k_taglist_read(&r, ED2K_TAGCOUNT_U32, 0, &tags, err) != 0) {
        mt_error_prefix(err, "OP_SERVERIDENT");
        return -1;
    }
    out->name = tag_text(tags, ST_SERVERNAME);
    out->description = tag_text(tags, ST_DESCRIPTION);
    ed2k_taglist_free(tags);
    return 0;
}

void
ed2k_serverident_clear(ed2k_serverident_t *si)
{
    free(si->name);
    free(si->description);
    memset(si, 0, sizeof *si);
}

int
ed2k_serverlist_decode(const uint8_t *p, size_t len, ed2k_serverlist_t *out, mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    uint8_t n;
    if (ed2k_read_u8(&r, &n) != 0 || ed2k_reader_remaining(&r) < (size_t)n * 6) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_SERVERLIST: the list is cut short");
        return -1;
    }
    out->count = n;
    out->ips = xcalloc(n ? n : 1, sizeof *out->ips);
    out->ports = xcalloc(n ? n : 1, sizeof *out->ports);
    for (size_t i = 0; i < n; i++) {
        ed2k_read_u32(&r, &out->ips[i]);
        ed2k_read_u16(&r, &out->ports[i]);
    }
    return 0;
}

void
ed2k_serverlist_clear(ed2k_serverlist_t *sl)
{
    free(sl->ips);
    free(sl->ports);
    memset(sl, 0, sizeof *sl);
}

static const char *
filetype_string(uint8_t t)
{
    switch (t) {
    case 1:
        return "Audio";
    case 2:
        return "Video";
    case 3:
        return "Image";
    case 4:
    case 6:
    case 7:
        return "Pro"; /* archives and CD images are published as programs (§2.2) */
    case 5:
        return "Doc";
    default:
        return NULL;
    }
}

uint8_t
ed2k_filetype_for_name(const char *name)
{
    static const struct {
        const char *ext;
        uint8_t type;
    } map[] = {
        { "mp3", 1 }, { "ogg", 1 }, { "flac", 1 }, { "wav", 1 }, { "m4a", 1 }, { "wma", 1 },
        { "aac", 1 }, { "opus", 1 }, { "avi", 2 }, { "mkv", 2 }, { "mp4", 2 }, { "mpg", 2 },
        { "mpeg", 2 }, { "mov", 2 }, { "wmv", 2 }, { "webm", 2 }, { "ogm", 2 }, { "m4v", 2 },
        { "jpg", 3 },  { "jpeg", 3 }, { "png", 3 }, { "gif", 3 },  { "bmp", 3 }, { "webp", 3 },
        { "exe", 4 },  { "msi", 4 },  { "deb", 4 }, { "rpm", 4 },  { "bin", 4 }, { "pdf", 5 },
        { "txt", 5 },  { "doc", 5 },  { "docx", 5 }, { "odt", 5 }, { "epub", 5 }, { "zip", 6 },
        { "rar", 6 },  { "7z", 6 },   { "gz", 6 },  { "bz2", 6 },  { "xz", 6 },  { "tar", 6 },
        { "iso", 7 },  { "nrg", 7 },  { "cue", 7 }, { "img", 7 },
    };
    const char *dot = name != NULL ? strrchr(name, '.') : NULL;
    if (dot == NULL)
        return 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(dot + 1, map[i].ext) == 0)
            return map[i].type;
    return 0;
}

int
ed2k_offerfiles_payload(struct evbuffer *payload, const ed2k_offer_t *files, size_t n,
                        uint32_t server_flags, uint32_t our_id, uint16_t our_port,
                        size_t *written, mt_error_t **err)
{
    bool compression = server_flags & ED2K_SRV_TCPFLG_COMPRESSION;
    bool large = server_flags & ED2K_SRV_TCPFLG_LARGEFILES;
    bool newtags = server_flags & ED2K_SRV_TCPFLG_NEWTAGS;
    bool inttype = server_flags & ED2K_SRV_TCPFLG_TYPETAGINTEGER;
    bool highid = our_id >= 0x01000000u;
    struct evbuffer *entries = evbuffer_new();
    uint32_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const ed2k_offer_t *f = &files[i];
        if (f->size > 0xFFFFFFFFu && !large)
            continue;
        ed2k_write_hash16(entries, f->hash);
        if (compression) {
            ed2k_write_u32(entries, f->complete ? ED2K_OFFER_COMPLETE_ID : ED2K_OFFER_PARTIAL_ID);
            ed2k_write_u16(entries, f->complete ? ED2K_OFFER_COMPLETE_PORT : ED2K_OFFER_PARTIAL_PORT);
        } else {
            ed2k_write_u32(entries, highid ? our_id : 0);
            ed2k_write_u16(entries, highid ? our_port : 0);
        }
        ed2k_taglist_t *tags = ed2k_taglist_new();
        ed2k_taglist_add_str(tags, ED2K_FT_FILENAME, f->name, strlen(f->name));
        ed2k_taglist_add_uint(tags, ED2K_FT_FILESIZE, ED2K_TAG_UINT32, f->size & 0xFFFFFFFFu);
        if (f->size > 0xFFFFFFFFu)
            ed2k_taglist_add_uint(tags, ED2K_FT_FILESIZE_HI, ED2K_TAG_UINT32, f->size >> 32);
        if (f->type != 0) {
            if (inttype)
                ed2k_taglist_add_uint(tags, ED2K_FT_FILETYPE, ED2K_TAG_UINT32, f->type);
            else if (filetype_string(f->type) != NULL)
                ed2k_taglist_add_str(tags, ED2K_FT_FILETYPE, filetype_string(f->type),
                                     strlen(filetype_string(f->type)));
        }
        int rc = ed2k_taglist_write(entries, tags, ED2K_TAGCOUNT_U32,
                                    newtags ? ED2K_TAGFORM_COMPACT : ED2K_TAGFORM_CLASSIC, err);
        ed2k_taglist_free(tags);
        if (rc != 0) {
            evbuffer_free(entries);
            return -1;
        }
        count++;
    }
    ed2k_write_u32(payload, count);
    evbuffer_add_buffer(payload, entries);
    evbuffer_free(entries);
    if (written != NULL)
        *written = count;
    return 0;
}

void
ed2k_getsources_encode(struct evbuffer *out, const uint8_t hash[16], uint64_t size, bool obfu)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_hash16(b, hash);
    if (size > 0xFFFFFFFFu) {
        ed2k_write_u32(b, 0);
        ed2k_write_u64(b, size);
    } else {
        ed2k_write_u32(b, (uint32_t)size);
    }
    frame(out, obfu ? ED2K_SOP_GETSOURCES_OBFU : ED2K_SOP_GETSOURCES, b, NULL);
}

int
ed2k_foundsources_decode(const uint8_t *p, size_t len, bool obfu, ed2k_foundsources_t *out,
                         mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    uint8_t n;
    const char *what = obfu ? "OP_FOUNDSOURCES_OBFU" : "OP_FOUNDSOURCES";
    if (ed2k_read_hash16(&r, out->hash) != 0 || ed2k_read_u8(&r, &n) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "%s: payload is %zu bytes, too short", what, len);
        return -1;
    }
    out->sources = xcalloc(n ? n : 1, sizeof *out->sources);
    for (size_t i = 0; i < n; i++) {
        ed2k_found_source_t *s = &out->sources[i];
        if (ed2k_read_u32(&r, &s->id) != 0 || ed2k_read_u16(&r, &s->port) != 0 ||
            (obfu && ed2k_read_u8(&r, &s->cryptopts) != 0) ||
            (obfu && (s->cryptopts & 0x80) && ed2k_read_hash16(&r, s->user_hash) != 0)) {
            mt_error_set(err, MT_ERR_PROTOCOL, "%s: source %zu of %u is cut short", what, i + 1, n);
            ed2k_foundsources_clear(out);
            return -1;
        }
        s->has_hash = obfu && (s->cryptopts & 0x80);
        out->count++;
    }
    return 0;
}

void
ed2k_foundsources_clear(ed2k_foundsources_t *fs)
{
    free(fs->sources);
    memset(fs, 0, sizeof *fs);
}

void
ed2k_callbackrequest_encode(struct evbuffer *out, uint32_t lowid)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u32(b, lowid);
    frame(out, ED2K_SOP_CALLBACKREQUEST, b, NULL);
}

int
ed2k_callbackrequested_decode(const uint8_t *p, size_t len, ed2k_callbackrequested_t *out,
                              mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u32(&r, &out->ip) != 0 || ed2k_read_u16(&r, &out->port) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL,
                     "OP_CALLBACKREQUESTED: payload is %zu bytes, expected at least 6", len);
        return -1;
    }
    if (ed2k_read_u8(&r, &out->cryptopts) == 0 && ed2k_read_hash16(&r, out->user_hash) == 0)
        out->has_crypt = true;
    return 0;
}
