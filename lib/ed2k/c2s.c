/* c2s.c: encoders and strict decoders for the client side of the
 * client-to-server protocol, TCP (ed2k-protocol.md §3) and UDP (§4). */
#include "config.h"

#include "ed2k/c2s.h"
#include "ed2k/opcodes.h"
#include "ed2k/packet.h"
#include "ed2k/servermet.h"
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
ed2k_servermessage_dynip(const char *line, char *out, size_t size)
{
    static const char marker[] = "[emDynIP: ";
    const char *p = line != NULL ? strstr(line, marker) : NULL;
    if (p == NULL)
        return -1;
    p += sizeof marker - 1;
    const char *end = strchr(p, ']');
    if (end == NULL)
        return -1;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = (size_t)(end - p);
    if (n == 0 || n > 50 || n >= size)
        return -1;
    bool all_ip_chars = true;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return -1;
        if (!((c >= '0' && c <= '9') || c == '.'))
            all_ip_chars = false;
    }
    if (all_ip_chars || p[0] == '-' || p[0] == '.')
        return -1; /* an address, not a name */
    memcpy(out, p, n);
    out[n] = '\0';
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

/* read_foundsources: one <hash><count u8><sources> block from r (shared by
 * OP_FOUNDSOURCES(_OBFU) and OP_GLOBFOUNDSOURCES). */
static int
read_foundsources(ed2k_reader_t *r, size_t len, bool obfu, ed2k_foundsources_t *out,
                  const char *what, mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    uint8_t n;
    if (ed2k_read_hash16(r, out->hash) != 0 || ed2k_read_u8(r, &n) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "%s: payload is %zu bytes, too short", what, len);
        return -1;
    }
    out->sources = xcalloc(n ? n : 1, sizeof *out->sources);
    for (size_t i = 0; i < n; i++) {
        ed2k_found_source_t *s = &out->sources[i];
        if (ed2k_read_u32(r, &s->id) != 0 || ed2k_read_u16(r, &s->port) != 0 ||
            (obfu && ed2k_read_u8(r, &s->cryptopts) != 0) ||
            (obfu && (s->cryptopts & 0x80) && ed2k_read_hash16(r, s->user_hash) != 0)) {
            mt_error_set(err, MT_ERR_PROTOCOL, "%s: source %zu of %u is cut short", what, i + 1, n);
            ed2k_foundsources_clear(out);
            return -1;
        }
        s->has_hash = obfu && (s->cryptopts & 0x80);
        out->count++;
    }
    return 0;
}

int
ed2k_foundsources_decode(const uint8_t *p, size_t len, bool obfu, ed2k_foundsources_t *out,
                         mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    return read_foundsources(&r, len, obfu, out,
                             obfu ? "OP_FOUNDSOURCES_OBFU" : "OP_FOUNDSOURCES", err);
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

/* Client <-> server UDP (§4). */

/* udp_frame: appends e3 <opcode> <payload> to out and frees payload. */
static void
udp_frame(struct evbuffer *out, uint8_t opcode, struct evbuffer *payload)
{
    size_t n = evbuffer_get_length(payload);
    ed2k_udp_append(out, ED2K_PROTO_EDONKEY, opcode, n ? evbuffer_pullup(payload, -1) : NULL, n);
    evbuffer_free(payload);
}

static void
udp_u32(struct evbuffer *out, uint8_t opcode, uint32_t v)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u32(b, v);
    udp_frame(out, opcode, b);
}

uint32_t
ed2k_globservstat_challenge(uint16_t rnd)
{
    return 0x55AA0000u + rnd;
}

void
ed2k_globservstatreq_encode(struct evbuffer *out, uint32_t challenge)
{
    udp_u32(out, ED2K_SOP_GLOBSERVSTATREQ, challenge);
}

int
ed2k_globservstatres_decode(const uint8_t *p, size_t len, ed2k_servstat_t *out, mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (len < 12) {
        mt_error_set(err, MT_ERR_PROTOCOL,
                     "OP_GLOBSERVSTATRES: payload is %zu bytes, expected at least 12", len);
        return -1;
    }
    ed2k_read_u32(&r, &out->challenge);
    ed2k_read_u32(&r, &out->users);
    ed2k_read_u32(&r, &out->files);
    /* The groups and their thresholds of aMule's ServerUDPSocket.cpp: a
     * length between two thresholds leaves the partial group unread. */
    if (len >= 16) {
        ed2k_read_u32(&r, &out->max_users);
        out->has_max_users = true;
    }
    if (len >= 24) {
        ed2k_read_u32(&r, &out->soft_files);
        ed2k_read_u32(&r, &out->hard_files);
        out->has_limits = true;
    }
    if (len >= 28) {
        ed2k_read_u32(&r, &out->udp_flags);
        out->has_udp_flags = true;
    }
    if (len >= 32) {
        ed2k_read_u32(&r, &out->lowid_users);
        out->has_lowid_users = true;
    }
    if (len >= 40) {
        ed2k_read_u16(&r, &out->obfu_udp_port);
        ed2k_read_u16(&r, &out->obfu_tcp_port);
        ed2k_read_u32(&r, &out->udp_key);
        out->has_obfuscation = true;
    }
    return 0;
}

void
ed2k_globservstatres_encode(struct evbuffer *out, const ed2k_servstat_t *st)
{
    int groups = st->has_obfuscation ? 5 : st->has_lowid_users ? 4 : st->has_udp_flags ? 3
               : st->has_limits ? 2 : st->has_max_users ? 1 : 0;
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u32(b, st->challenge);
    ed2k_write_u32(b, st->users);
    ed2k_write_u32(b, st->files);
    if (groups >= 1)
        ed2k_write_u32(b, st->max_users);
    if (groups >= 2) {
        ed2k_write_u32(b, st->soft_files);
        ed2k_write_u32(b, st->hard_files);
    }
    if (groups >= 3)
        ed2k_write_u32(b, st->udp_flags);
    if (groups >= 4)
        ed2k_write_u32(b, st->lowid_users);
    if (groups >= 5) {
        ed2k_write_u16(b, st->obfu_udp_port);
        ed2k_write_u16(b, st->obfu_tcp_port);
        ed2k_write_u32(b, st->udp_key);
    }
    udp_frame(out, ED2K_SOP_GLOBSERVSTATRES, b);
}

/* The low half of a description challenge: read as the first u16 of the
 * answer, it is an impossible string length (aMule's INV_SERV_DESC_LEN). */
#define DESC_CHALLENGE_MARK 0xF0FFu

uint32_t
ed2k_serverdesc_challenge(uint16_t rnd)
{
    return (uint32_t)rnd << 16 | DESC_CHALLENGE_MARK;
}

void
ed2k_serverdescreq_encode(struct evbuffer *out, uint32_t challenge)
{
    udp_u32(out, ED2K_SOP_SERVER_DESC_REQ, challenge);
}

static void
desc_text(char **dst, const ed2k_tag_t *t)
{
    if (ed2k_tag_is_str(t)) {
        free(*dst);
        *dst = ed2k_server_text(t->v.data, t->v.len);
    }
}

int
ed2k_serverdescres_decode(const uint8_t *p, size_t len, ed2k_serverdesc_t *out, mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (len >= 8 && (p[0] | p[1] << 8) == DESC_CHALLENGE_MARK) {
        ed2k_taglist_t *tags = NULL;
        ed2k_read_u32(&r, &out->challenge);
        out->has_challenge = true;
        if (ed2k_taglist_read(&r, ED2K_TAGCOUNT_U32, 0, &tags, err) != 0) {
            mt_error_prefix(err, "OP_SERVER_DESC_RES");
            return -1;
        }
        /* A later tag replaces an earlier one, as aMule's setters do. */
        for (size_t i = 0; i < ed2k_taglist_count(tags); i++) {
            const ed2k_tag_t *t = ed2k_taglist_get(tags, i);
            if (t->name != NULL)
                continue;
            switch (t->id) {
            case ED2K_ST_SERVERNAME:
                desc_text(&out->name, t);
                break;
            case ED2K_ST_DESCRIPTION:
                desc_text(&out->description, t);
                break;
            case ED2K_ST_DYNIP:
                desc_text(&out->dynip, t);
                break;
            case ED2K_ST_VERSION:
                if (ed2k_tag_is_int(t)) {
                    free(out->version);
                    out->version = ed2k_server_version_text((uint32_t)t->v.u);
                } else {
                    desc_text(&out->version, t);
                }
                break;
            case ED2K_ST_AUXPORTSLIST:
                desc_text(&out->aux_ports, t);
                break;
            default:
                break;
            }
        }
        ed2k_taglist_free(tags);
        return 0;
    }
    const uint8_t *name, *desc;
    size_t nlen, dlen;
    if (ed2k_read_string16(&r, &name, &nlen) != 0 || ed2k_read_string16(&r, &desc, &dlen) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_SERVER_DESC_RES: payload of %zu bytes is cut short",
                     len);
        return -1;
    }
    out->name = ed2k_server_text(name, nlen);
    out->description = ed2k_server_text(desc, dlen);
    return 0;
}

void
ed2k_serverdesc_clear(ed2k_serverdesc_t *d)
{
    free(d->name);
    free(d->description);
    free(d->dynip);
    free(d->version);
    free(d->aux_ports);
    memset(d, 0, sizeof *d);
}

int
ed2k_serverdescres_encode(struct evbuffer *out, const ed2k_serverdesc_t *d, mt_error_t **err)
{
    const struct {
        uint8_t id;
        const char *s;
    } f[] = {
        { ED2K_ST_SERVERNAME, d->name }, { ED2K_ST_DESCRIPTION, d->description },
        { ED2K_ST_DYNIP, d->dynip },     { ED2K_ST_VERSION, d->version },
        { ED2K_ST_AUXPORTSLIST, d->aux_ports },
    };
    ed2k_taglist_t *tags = ed2k_taglist_new();
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].s != NULL)
            ed2k_taglist_add_str(tags, f[i].id, f[i].s, strlen(f[i].s));
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u32(b, d->challenge);
    int rc = ed2k_taglist_write(b, tags, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, err);
    ed2k_taglist_free(tags);
    if (rc != 0) {
        evbuffer_free(b);
        mt_error_prefix(err, "OP_SERVER_DESC_RES");
        return -1;
    }
    udp_frame(out, ED2K_SOP_SERVER_DESC_RES, b);
    return 0;
}

size_t
ed2k_globgetsources_encode(struct evbuffer *out, const uint8_t (*hashes)[16],
                           const uint64_t *sizes, size_t n, uint32_t udp_flags, size_t *used)
{
    bool with_size = udp_flags & ED2K_SRV_UDPFLG_EXT_GETSOURCES2;
    bool large = udp_flags & ED2K_SRV_UDPFLG_LARGEFILES;
    size_t max = (udp_flags & ED2K_SRV_UDPFLG_EXT_GETSOURCES) ? ED2K_GLOBGETSOURCES_MAX : 1;
    struct evbuffer *b = evbuffer_new();
    size_t put = 0, i = 0;
    for (; i < n && put < max; i++) {
        if (sizes[i] > 0xFFFFFFFFu && !large)
            continue; /* aMule: "server doesn't support it" */
        ed2k_write_hash16(b, hashes[i]);
        if (with_size) {
            if (sizes[i] > 0xFFFFFFFFu) {
                ed2k_write_u32(b, 0);
                ed2k_write_u64(b, sizes[i]);
            } else {
                ed2k_write_u32(b, (uint32_t)sizes[i]);
            }
        }
        put++;
    }
    /* Large files right after a full datagram are skipped now rather than
     * left at the head of the caller's next batch. */
    while (i < n && sizes[i] > 0xFFFFFFFFu && !large)
        i++;
    if (used != NULL)
        *used = i;
    if (put == 0) {
        evbuffer_free(b);
        return 0;
    }
    udp_frame(out, with_size ? ED2K_SOP_GLOBGETSOURCES2 : ED2K_SOP_GLOBGETSOURCES, b);
    return put;
}

int
ed2k_globfoundsources_decode(const uint8_t *p, size_t len, ed2k_foundsources_t **out, size_t *n,
                             mt_error_t **err)
{
    *out = NULL;
    *n = 0;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    /* Every block takes 17 bytes or more: that bounds the array. */
    size_t cap = len / 17 + 1, k = 0;
    ed2k_foundsources_t *v = xcalloc(cap, sizeof *v);
    for (;;) {
        if (read_foundsources(&r, len, false, &v[k], "OP_GLOBFOUNDSOURCES", err) != 0) {
            if (k > 0)
                mt_error_prefix(err, "block %zu", k + 1);
            ed2k_globfoundsources_free(v, k);
            return -1;
        }
        k++;
        /* aMule (ServerUDPSocket.cpp) looks for another block only when
         * more than 2 bytes are left, and stops at one without e3 9b. */
        size_t left = ed2k_reader_remaining(&r);
        const uint8_t *q = p + (len - left);
        if (left <= 2 || q[0] != ED2K_PROTO_EDONKEY || q[1] != ED2K_SOP_GLOBFOUNDSOURCES)
            break;
        ed2k_read_skip(&r, 2);
    }
    *out = v;
    *n = k;
    return 0;
}

void
ed2k_globfoundsources_free(ed2k_foundsources_t *fs, size_t n)
{
    if (fs == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        ed2k_foundsources_clear(&fs[i]);
    free(fs);
}

uint8_t
ed2k_globsearchreq_encode(struct evbuffer *out, const uint8_t *tree, size_t tree_len,
                          uint32_t udp_flags, bool large_files)
{
    bool getfiles = udp_flags & ED2K_SRV_UDPFLG_EXT_GETFILES;
    bool large = udp_flags & ED2K_SRV_UDPFLG_LARGEFILES;
    if (tree_len == 0 || (large_files && !large))
        return 0;
    uint8_t op;
    struct evbuffer *b = evbuffer_new();
    if (getfiles && large) {
        /* One compact tag: 89 0e 01 (aMule's CTagVarInt written new-style). */
        ed2k_taglist_t *tags = ed2k_taglist_new();
        ed2k_taglist_add_uint(tags, ED2K_CT_SERVER_UDPSEARCH_FLAGS, 0,
                              ED2K_SRVCAP_UDP_NEWTAGS_LARGEFILES);
        ed2k_taglist_write(b, tags, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_COMPACT, NULL);
        ed2k_taglist_free(tags);
        op = ED2K_SOP_GLOBSEARCHREQ3;
    } else {
        op = getfiles ? ED2K_SOP_GLOBSEARCHREQ2 : ED2K_SOP_GLOBSEARCHREQ;
    }
    ed2k_write_bytes(b, tree, tree_len);
    udp_frame(out, op, b);
    return op;
}
