/* packet.c: TCP/UDP framing of eD2K packets over memory and evbuffers,
 * zlib packing with receive-side limits, and little-endian reader/writers. */
#include "config.h"

#include "ed2k/packet.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/xalloc.h"

static void
put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* evbuffer_add fails only when memory runs out; treat that as fatal, as the
 * xalloc wrappers do. */
static void
buf_add(struct evbuffer *b, const void *data, size_t n)
{
    if (n > 0 && evbuffer_add(b, data, n) != 0) {
        fprintf(stderr, "muleteer: out of memory appending %zu bytes\n", n);
        abort();
    }
}

ed2k_packet_t *
ed2k_packet_new(uint8_t proto, uint8_t opcode, const void *payload, size_t len)
{
    ed2k_packet_t *p = xmalloc(sizeof *p);
    p->proto = proto;
    p->opcode = opcode;
    p->len = len;
    p->payload = xmalloc(len ? len : 1);
    if (len > 0)
        memcpy(p->payload, payload, len);
    return p;
}

void
ed2k_packet_free(ed2k_packet_t *p)
{
    if (p == NULL)
        return;
    free(p->payload);
    free(p);
}

static int
is_tcp_proto(uint8_t proto)
{
    return proto == ED2K_PROTO_EDONKEY || proto == ED2K_PROTO_EMULE || proto == ED2K_PROTO_PACKED;
}

/* check_header: validates as much of the header as avail bytes show.
 * Returns ED2K_FRAME_OK with *payload_len once the whole header is there. */
static ed2k_frame_status_t
check_header(const uint8_t *hdr, size_t avail, size_t max_payload, size_t *payload_len,
             mt_error_t **err)
{
    if (avail < 1)
        return ED2K_FRAME_NEED_MORE;
    /* aMule only looks at the protocol once the packet is complete
     * (EMSocket.cpp); refusing at the first byte loses nothing. */
    if (!is_tcp_proto(hdr[0])) {
        mt_error_set(err, MT_ERR_PROTOCOL, "unknown protocol byte 0x%02x", hdr[0]);
        return ED2K_FRAME_ERROR;
    }
    if (avail < 5)
        return ED2K_FRAME_NEED_MORE;
    uint32_t len = get_le32(hdr + 1);
    if (len == 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "packet length 0 (no opcode)");
        return ED2K_FRAME_ERROR;
    }
    if (max_payload == 0)
        max_payload = ED2K_MAX_PAYLOAD_DEFAULT;
    if (len - 1 > max_payload) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "packet payload of %lu bytes exceeds the limit of %zu",
                     (unsigned long)(len - 1), max_payload);
        return ED2K_FRAME_ERROR;
    }
    if (avail < ED2K_TCP_HEADER_LEN)
        return ED2K_FRAME_NEED_MORE;
    *payload_len = len - 1;
    return ED2K_FRAME_OK;
}

ed2k_frame_status_t
ed2k_packet_decode(const uint8_t *data, size_t len, size_t max_payload, ed2k_packet_t **out,
                   size_t *consumed, mt_error_t **err)
{
    size_t plen = 0;
    ed2k_frame_status_t st = check_header(data, len, max_payload, &plen, err);
    if (st != ED2K_FRAME_OK)
        return st;
    if (len - ED2K_TCP_HEADER_LEN < plen)
        return ED2K_FRAME_NEED_MORE;
    *out = ed2k_packet_new(data[0], data[5], data + ED2K_TCP_HEADER_LEN, plen);
    *consumed = ED2K_TCP_HEADER_LEN + plen;
    return ED2K_FRAME_OK;
}

ed2k_frame_status_t
ed2k_packet_decode_evbuffer(struct evbuffer *in, size_t max_payload, ed2k_packet_t **out,
                            mt_error_t **err)
{
    uint8_t hdr[ED2K_TCP_HEADER_LEN];
    size_t avail = evbuffer_get_length(in);
    ev_ssize_t got = evbuffer_copyout(in, hdr, avail < sizeof hdr ? avail : sizeof hdr);
    if (got < 0)
        return ED2K_FRAME_NEED_MORE;
    size_t plen = 0;
    ed2k_frame_status_t st = check_header(hdr, (size_t)got, max_payload, &plen, err);
    if (st != ED2K_FRAME_OK)
        return st;
    if (avail - ED2K_TCP_HEADER_LEN < plen)
        return ED2K_FRAME_NEED_MORE;
    ed2k_packet_t *p = xmalloc(sizeof *p);
    p->proto = hdr[0];
    p->opcode = hdr[5];
    p->len = plen;
    p->payload = xmalloc(plen ? plen : 1);
    evbuffer_drain(in, ED2K_TCP_HEADER_LEN);
    if (plen > 0 && evbuffer_remove(in, p->payload, plen) != (ev_ssize_t)plen) {
        /* Cannot happen: the length was checked above. */
        ed2k_packet_free(p);
        mt_error_set(err, MT_ERR_INTERNAL, "evbuffer_remove failed");
        return ED2K_FRAME_ERROR;
    }
    *out = p;
    return ED2K_FRAME_OK;
}

int
ed2k_packet_unpack(ed2k_packet_t *p, size_t inflate_limit, mt_error_t **err)
{
    uint8_t newproto;
    if (p->proto == ED2K_PROTO_PACKED)
        newproto = ED2K_PROTO_EMULE;
    else if (p->proto == ED2K_PROTO_KAD_PACKED)
        newproto = ED2K_PROTO_KAD;
    else
        return 0;

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) {
        mt_error_set(err, MT_ERR_INTERNAL, "zlib: inflateInit failed");
        return -1;
    }
    /* Grow the output up to limit + 1 bytes: producing that last byte is
     * how an over-long stream shows itself. */
    if (inflate_limit > SIZE_MAX / 4)
        inflate_limit = SIZE_MAX / 4;
    size_t cap = p->len < SIZE_MAX / 8 ? p->len * 4 + 64 : inflate_limit + 1;
    if (cap > inflate_limit + 1)
        cap = inflate_limit + 1;
    uint8_t *buf = xmalloc(cap);
    zs.next_in = p->payload;
    size_t in_left = p->len;
    size_t produced = 0;
    int zr = Z_OK;
    for (;;) {
        if (produced == cap) {
            if (cap == inflate_limit + 1)
                break;
            cap = cap * 2 > inflate_limit + 1 ? inflate_limit + 1 : cap * 2;
            buf = xrealloc(buf, cap);
        }
        uInt chunk_in = in_left > 65536 ? 65536 : (uInt)in_left;
        size_t room = cap - produced;
        uInt chunk_out = room > 65536 ? 65536 : (uInt)room;
        zs.avail_in = chunk_in;
        zs.next_out = buf + produced;
        zs.avail_out = chunk_out;
        zr = inflate(&zs, Z_NO_FLUSH);
        in_left -= chunk_in - zs.avail_in;
        produced += chunk_out - zs.avail_out;
        if (zr == Z_STREAM_END || (zr != Z_OK && zr != Z_BUF_ERROR))
            break;
        if (zr == Z_BUF_ERROR && in_left == 0 && zs.avail_out > 0)
            break; /* wants more input than there is */
    }
    const char *zmsg = zs.msg;
    inflateEnd(&zs);
    if (produced > inflate_limit) {
        free(buf);
        mt_error_set(err, MT_ERR_TOO_LARGE,
                     "packed packet inflates beyond the limit of %zu bytes", inflate_limit);
        return -1;
    }
    if (zr != Z_STREAM_END) {
        free(buf);
        if (zr == Z_OK || zr == Z_BUF_ERROR)
            mt_error_set(err, MT_ERR_PROTOCOL, "packed packet: zlib stream is truncated");
        else
            mt_error_set(err, MT_ERR_PROTOCOL, "packed packet: invalid zlib data (%s)",
                         zmsg ? zmsg : "error");
        return -1;
    }
    /* Bytes after the end of the stream are ignored, as zlib's uncompress()
     * (which aMule uses) ignores them. */
    free(p->payload);
    p->payload = produced ? xrealloc(buf, produced) : buf;
    p->len = produced;
    p->proto = newproto;
    return 0;
}

bool
ed2k_packet_pack(ed2k_packet_t *p, size_t receiver_limit)
{
    uint8_t packed;
    if (p->proto == ED2K_PROTO_EDONKEY || p->proto == ED2K_PROTO_EMULE)
        packed = ED2K_PROTO_PACKED;
    else if (p->proto == ED2K_PROTO_KAD)
        packed = ED2K_PROTO_KAD_PACKED;
    else
        return false;
    if (p->len == 0 || p->len > receiver_limit || p->len > (size_t)UINT32_MAX)
        return false;
    uLongf clen = compressBound((uLong)p->len);
    uint8_t *c = xmalloc(clen);
    if (compress2(c, &clen, p->payload, (uLong)p->len, Z_BEST_COMPRESSION) != Z_OK
        || clen >= p->len || p->len > (size_t)clen * 10 + 300) {
        free(c);
        return false;
    }
    free(p->payload);
    p->payload = xrealloc(c, clen);
    p->len = clen;
    p->proto = packed;
    return true;
}

static int
check_tcp_len(size_t len, mt_error_t **err)
{
    if (len >= UINT32_MAX) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "payload of %zu bytes does not fit a packet", len);
        return -1;
    }
    return 0;
}

static void
put_header(struct evbuffer *out, uint8_t proto, uint8_t opcode, size_t len)
{
    uint8_t hdr[ED2K_TCP_HEADER_LEN];
    hdr[0] = proto;
    put_le32(hdr + 1, (uint32_t)(len + 1));
    hdr[5] = opcode;
    buf_add(out, hdr, sizeof hdr);
}

int
ed2k_packet_append(struct evbuffer *out, uint8_t proto, uint8_t opcode, const void *payload,
                   size_t len, mt_error_t **err)
{
    if (check_tcp_len(len, err) < 0)
        return -1;
    put_header(out, proto, opcode, len);
    buf_add(out, payload, len);
    return 0;
}

int
ed2k_packet_write(struct evbuffer *out, const ed2k_packet_t *p, mt_error_t **err)
{
    return ed2k_packet_append(out, p->proto, p->opcode, p->payload, p->len, err);
}

int
ed2k_packet_append_evbuffer(struct evbuffer *out, uint8_t proto, uint8_t opcode,
                            struct evbuffer *payload, mt_error_t **err)
{
    size_t len = evbuffer_get_length(payload);
    if (check_tcp_len(len, err) < 0)
        return -1;
    put_header(out, proto, opcode, len);
    if (evbuffer_add_buffer(out, payload) != 0) {
        fprintf(stderr, "muleteer: out of memory appending %zu bytes\n", len);
        abort();
    }
    return 0;
}

int
ed2k_udp_decode(const uint8_t *data, size_t len, ed2k_packet_t **out, mt_error_t **err)
{
    if (len < 2) {
        mt_error_set(err, MT_ERR_PROTOCOL, "datagram of %zu bytes is too short", len);
        return -1;
    }
    switch (data[0]) {
    case ED2K_PROTO_EDONKEY:
    case ED2K_PROTO_EMULE:
    case ED2K_PROTO_KAD:
    case ED2K_PROTO_KAD_PACKED:
        break;
    default:
        mt_error_set(err, MT_ERR_PROTOCOL, "unknown UDP protocol byte 0x%02x", data[0]);
        return -1;
    }
    *out = ed2k_packet_new(data[0], data[1], data + 2, len - 2);
    return 0;
}

void
ed2k_udp_append(struct evbuffer *out, uint8_t proto, uint8_t opcode, const void *payload,
                size_t len)
{
    uint8_t hdr[2] = { proto, opcode };
    buf_add(out, hdr, 2);
    buf_add(out, payload, len);
}

/* Reader. */

void
ed2k_reader_init(ed2k_reader_t *r, const void *data, size_t len)
{
    r->data = data;
    r->len = data ? len : 0;
    r->pos = 0;
}

size_t
ed2k_reader_remaining(const ed2k_reader_t *r)
{
    return r->len - r->pos;
}

int
ed2k_read_ptr(ed2k_reader_t *r, size_t n, const uint8_t **out)
{
    if (n > r->len - r->pos)
        return -1;
    *out = r->data + r->pos;
    r->pos += n;
    return 0;
}

int
ed2k_read_skip(ed2k_reader_t *r, size_t n)
{
    const uint8_t *p;
    return ed2k_read_ptr(r, n, &p);
}

int
ed2k_read_bytes(ed2k_reader_t *r, void *out, size_t n)
{
    const uint8_t *p;
    if (ed2k_read_ptr(r, n, &p) < 0)
        return -1;
    if (n > 0)
        memcpy(out, p, n);
    return 0;
}

int
ed2k_read_u8(ed2k_reader_t *r, uint8_t *v)
{
    const uint8_t *p;
    if (ed2k_read_ptr(r, 1, &p) < 0)
        return -1;
    *v = p[0];
    return 0;
}

int
ed2k_read_u16(ed2k_reader_t *r, uint16_t *v)
{
    const uint8_t *p;
    if (ed2k_read_ptr(r, 2, &p) < 0)
        return -1;
    *v = (uint16_t)(p[0] | p[1] << 8);
    return 0;
}

int
ed2k_read_u32(ed2k_reader_t *r, uint32_t *v)
{
    const uint8_t *p;
    if (ed2k_read_ptr(r, 4, &p) < 0)
        return -1;
    *v = get_le32(p);
    return 0;
}

int
ed2k_read_u64(ed2k_reader_t *r, uint64_t *v)
{
    const uint8_t *p;
    if (ed2k_read_ptr(r, 8, &p) < 0)
        return -1;
    *v = (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
    return 0;
}

int
ed2k_read_float(ed2k_reader_t *r, float *v)
{
    uint32_t u;
    if (ed2k_read_u32(r, &u) < 0)
        return -1;
    memcpy(v, &u, sizeof *v);
    return 0;
}

int
ed2k_read_hash16(ed2k_reader_t *r, uint8_t out[16])
{
    return ed2k_read_bytes(r, out, 16);
}

int
ed2k_read_string16(ed2k_reader_t *r, const uint8_t **s, size_t *len)
{
    size_t save = r->pos;
    uint16_t n;
    if (ed2k_read_u16(r, &n) < 0)
        return -1;
    if (ed2k_read_ptr(r, n, s) < 0) {
        r->pos = save;
        return -1;
    }
    *len = n;
    return 0;
}

/* Writers. */

void
ed2k_write_u8(struct evbuffer *b, uint8_t v)
{
    buf_add(b, &v, 1);
}

void
ed2k_write_u16(struct evbuffer *b, uint16_t v)
{
    uint8_t p[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    buf_add(b, p, 2);
}

void
ed2k_write_u32(struct evbuffer *b, uint32_t v)
{
    uint8_t p[4];
    put_le32(p, v);
    buf_add(b, p, 4);
}

void
ed2k_write_u64(struct evbuffer *b, uint64_t v)
{
    uint8_t p[8];
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
    buf_add(b, p, 8);
}

void
ed2k_write_float(struct evbuffer *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    ed2k_write_u32(b, u);
}

void
ed2k_write_hash16(struct evbuffer *b, const uint8_t h[16])
{
    buf_add(b, h, 16);
}

void
ed2k_write_bytes(struct evbuffer *b, const void *data, size_t n)
{
    buf_add(b, data, n);
}

int
ed2k_write_string16(struct evbuffer *b, const void *s, size_t len, mt_error_t **err)
{
    if (len > UINT16_MAX) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "string of %zu bytes exceeds 65535", len);
        return -1;
    }
    ed2k_write_u16(b, (uint16_t)len);
    buf_add(b, s, len);
    return 0;
}
