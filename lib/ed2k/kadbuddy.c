/* kadbuddy.c: Kad buddy datagrams and the OP_CALLBACK payload (kadbuddy.h):
 * bounded decoders over ed2k_reader, encoders onto evbuffers. */
#include "config.h"

#include "ed2k/kadbuddy.h"

#include <event2/buffer.h>
#include <string.h>

#include "ed2k/packet.h"

void
kad_buddy_id_of(kad_id_t *out, const kad_id_t *node_id)
{
    kad_id_t ones;
    memset(&ones, 0xFF, sizeof ones);
    kad_id_xor(out, &ones, node_id);
}

static int
read_id(ed2k_reader_t *r, kad_id_t *id)
{
    uint8_t w[16];
    if (ed2k_read_bytes(r, w, sizeof w) != 0)
        return -1;
    kad_id_from_wire(id, w);
    return 0;
}

/* read_hash: a 16-byte hash sent as a 128-bit id (§0), in digest order. */
static int
read_hash(ed2k_reader_t *r, uint8_t digest[16])
{
    kad_id_t id;
    if (read_id(r, &id) != 0)
        return -1;
    kad_id_to_digest(&id, digest);
    return 0;
}

static void
write_id(struct evbuffer *out, const kad_id_t *id)
{
    uint8_t w[16];
    kad_id_to_wire(id, w);
    ed2k_write_bytes(out, w, sizeof w);
}

static void
write_hash(struct evbuffer *out, const uint8_t digest[16])
{
    kad_id_t id;
    kad_id_from_digest(&id, digest);
    write_id(out, &id);
}

static int
short_payload(const char *what, mt_error_t **err)
{
    mt_error_set(err, MT_ERR_PROTOCOL, "%s: payload too short", what);
    return -1;
}

int
kad_buddy_msg_decode(const uint8_t *p, size_t len, kad_buddy_msg_t *out, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    memset(out, 0, sizeof *out);
    if (read_id(&r, &out->buddy_id) != 0 || read_hash(&r, out->user_hash) != 0 ||
        ed2k_read_u16(&r, &out->tcp_port) != 0)
        return short_payload("KADEMLIA_FINDBUDDY", err);
    out->has_options = ed2k_read_u8(&r, &out->connect_options) == 0;
    return 0;
}

/* read_callback: the fields shared by CALLBACK_REQ and OP_CALLBACK. */
static int
read_callback(const uint8_t *p, size_t len, bool with_ip, kad_callback_t *out)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    memset(out, 0, sizeof *out);
    return read_id(&r, &out->buddy_id) != 0 || read_hash(&r, out->file_hash) != 0 ||
                   (with_ip && ed2k_read_u32(&r, &out->ip) != 0) ||
                   ed2k_read_u16(&r, &out->tcp_port) != 0
               ? -1
               : 0;
}

int
kad_callback_req_decode(const uint8_t *p, size_t len, kad_callback_t *out, mt_error_t **err)
{
    if (read_callback(p, len, false, out) != 0)
        return short_payload("KADEMLIA_CALLBACK_REQ", err);
    return 0;
}

int
kad_callback_decode(const uint8_t *p, size_t len, kad_callback_t *out, mt_error_t **err)
{
    if (read_callback(p, len, true, out) != 0)
        return short_payload("OP_CALLBACK", err);
    return 0;
}

void
kad_buddy_msg_encode(struct evbuffer *out, uint8_t opcode, const kad_buddy_msg_t *m)
{
    ed2k_write_u8(out, ED2K_PROTO_KAD);
    ed2k_write_u8(out, opcode);
    write_id(out, &m->buddy_id);
    write_hash(out, m->user_hash);
    ed2k_write_u16(out, m->tcp_port);
    if (m->has_options)
        ed2k_write_u8(out, m->connect_options);
}

void
kad_callback_req_encode(struct evbuffer *out, const kad_callback_t *c)
{
    ed2k_write_u8(out, ED2K_PROTO_KAD);
    ed2k_write_u8(out, KAD_OP_CALLBACK_REQ);
    write_id(out, &c->buddy_id);
    write_hash(out, c->file_hash);
    ed2k_write_u16(out, c->tcp_port);
}

void
kad_callback_write(struct evbuffer *out, const kad_callback_t *c)
{
    write_id(out, &c->buddy_id);
    write_hash(out, c->file_hash);
    ed2k_write_u32(out, c->ip);
    ed2k_write_u16(out, c->tcp_port);
}
