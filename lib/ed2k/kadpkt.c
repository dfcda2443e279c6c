/* kadpkt.c: Kad 2 bootstrap and routing datagrams (kadpkt.h): bounded
 * decoders over ed2k_reader and encoders onto evbuffers (§10.1-10.2). */
#include "config.h"

#include "ed2k/kadpkt.h"

#include <event2/buffer.h>
#include <string.h>

#include "ed2k/tag.h"

int
kad_datagram_open(const uint8_t *data, size_t len, ed2k_packet_t **out, mt_error_t **err)
{
    *out = NULL;
    if (len < 2 || (data[0] != ED2K_PROTO_KAD && data[0] != ED2K_PROTO_KAD_PACKED)) {
        mt_error_set(err, MT_ERR_PROTOCOL, "not a Kad datagram");
        return -1;
    }
    ed2k_packet_t *p = NULL;
    if (ed2k_udp_decode(data, len, &p, err) != 0)
        return -1;
    if (ed2k_packet_unpack(p, KAD_INFLATE_LIMIT, err) != 0) {
        ed2k_packet_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

/* short_payload: the one error of a payload that ends too early. */
static int
short_payload(const char *what, mt_error_t **err)
{
    mt_error_set(err, MT_ERR_PROTOCOL, "%s: payload too short", what);
    return -1;
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

static int
read_contact(ed2k_reader_t *r, kad_contact_t *c)
{
    return read_id(r, &c->id) != 0 || ed2k_read_u32(r, &c->ip) != 0 ||
                   ed2k_read_u16(r, &c->udp_port) != 0 || ed2k_read_u16(r, &c->tcp_port) != 0 ||
                   ed2k_read_u8(r, &c->version) != 0
               ? -1
               : 0;
}

/* read_contacts: count contacts into c (room for KAD_CONTACTS_MAX). The
 * count is checked against the bytes left before anything is read. */
static int
read_contacts(ed2k_reader_t *r, size_t count, kad_contact_t *c, const char *what,
              mt_error_t **err)
{
    if (count > KAD_CONTACTS_MAX) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "%s: %zu contacts (at most %d)", what, count,
                     KAD_CONTACTS_MAX);
        return -1;
    }
    if (count * KAD_CONTACT_WIRE_LEN > ed2k_reader_remaining(r))
        return short_payload(what, err);
    for (size_t i = 0; i < count; i++)
        if (read_contact(r, &c[i]) != 0)
            return short_payload(what, err);
    return 0;
}

int
kad_bootstrap_res_decode(const uint8_t *p, size_t len, kad_bootstrap_res_t *out, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    uint16_t count;
    if (read_id(&r, &out->id) != 0 || ed2k_read_u16(&r, &out->tcp_port) != 0 ||
        ed2k_read_u8(&r, &out->version) != 0 || ed2k_read_u16(&r, &count) != 0)
        return short_payload("KADEMLIA2_BOOTSTRAP_RES", err);
    out->count = count;
    return read_contacts(&r, count, out->contacts, "KADEMLIA2_BOOTSTRAP_RES", err);
}

int
kad_hello_decode(const uint8_t *p, size_t len, kad_hello_t *out, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    memset(out, 0, sizeof *out);
    if (read_id(&r, &out->id) != 0 || ed2k_read_u16(&r, &out->tcp_port) != 0 ||
        ed2k_read_u8(&r, &out->version) != 0)
        return short_payload("KADEMLIA2_HELLO", err);
    ed2k_taglist_t *tags = NULL;
    if (ed2k_taglist_read(&r, ED2K_TAGCOUNT_U8, 0, &tags, err) != 0) {
        mt_error_prefix(err, "KADEMLIA2_HELLO");
        return -1;
    }
    uint64_t v;
    if (ed2k_taglist_get_uint(tags, KAD_TAG_SOURCEUPORT, &v) == 0 && v <= UINT16_MAX)
        out->source_udp_port = (uint16_t)v;
    if (ed2k_taglist_get_uint(tags, KAD_TAG_KADMISCOPTIONS, &v) == 0)
        out->misc_options = (uint8_t)v;
    ed2k_taglist_free(tags);
    return 0;
}

int
kad_hello_ack_decode(const uint8_t *p, size_t len, kad_id_t *out, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (read_id(&r, out) != 0)
        return short_payload("KADEMLIA2_HELLO_RES_ACK", err);
    return 0;
}

int
kad_req_decode(const uint8_t *p, size_t len, kad_req_t *out, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u8(&r, &out->type) != 0 || read_id(&r, &out->target) != 0 ||
        read_id(&r, &out->receiver) != 0)
        return short_payload("KADEMLIA2_REQ", err);
    return 0;
}

int
kad_res_decode(const uint8_t *p, size_t len, kad_res_t *out, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    uint8_t count;
    if (read_id(&r, &out->target) != 0 || ed2k_read_u8(&r, &count) != 0)
        return short_payload("KADEMLIA2_RES", err);
    out->count = count;
    return read_contacts(&r, count, out->contacts, "KADEMLIA2_RES", err);
}

int
kad_pong_decode(const uint8_t *p, size_t len, uint16_t *udp_port, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u16(&r, udp_port) != 0)
        return short_payload("KADEMLIA2_PONG", err);
    return 0;
}

int
kad_fw_req_decode(uint8_t opcode, const uint8_t *p, size_t len, kad_fw_req_t *out,
                  mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    memset(out, 0, sizeof *out);
    if (opcode != KAD_OP_FIREWALLED_REQ && opcode != KAD_OP_FIREWALLED2_REQ) {
        mt_error_set(err, MT_ERR_PROTOCOL, "not a firewall check request (0x%02x)", opcode);
        return -1;
    }
    if (ed2k_read_u16(&r, &out->tcp_port) != 0)
        return short_payload("KADEMLIA_FIREWALLED_REQ", err);
    if (opcode == KAD_OP_FIREWALLED_REQ)
        return 0;
    kad_id_t hash;
    if (read_id(&r, &hash) != 0 || ed2k_read_u8(&r, &out->connect_options) != 0)
        return short_payload("KADEMLIA_FIREWALLED2_REQ", err);
    kad_id_to_digest(&hash, out->user_hash);
    out->v2 = true;
    return 0;
}

int
kad_fw_res_decode(const uint8_t *p, size_t len, uint32_t *ip, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u32(&r, ip) != 0)
        return short_payload("KADEMLIA_FIREWALLED_RES", err);
    return 0;
}

int
kad_fw_udp_decode(const uint8_t *p, size_t len, uint8_t *error, uint16_t *port, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u8(&r, error) != 0 || ed2k_read_u16(&r, port) != 0)
        return short_payload("KADEMLIA2_FIREWALLUDP", err);
    return 0;
}

int
kad_fw_udp_req_decode(const uint8_t *p, size_t len, kad_fw_udp_req_t *out, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u16(&r, &out->intern_port) != 0 || ed2k_read_u16(&r, &out->extern_port) != 0 ||
        ed2k_read_u32(&r, &out->udp_key) != 0)
        return short_payload("OP_FWCHECKUDPREQ", err);
    return 0;
}

/* ------------------------------------------------------------ encoders */

static void
write_header(struct evbuffer *out, uint8_t opcode)
{
    ed2k_write_u8(out, ED2K_PROTO_KAD);
    ed2k_write_u8(out, opcode);
}

static void
write_id(struct evbuffer *out, const kad_id_t *id)
{
    uint8_t w[16];
    kad_id_to_wire(id, w);
    ed2k_write_bytes(out, w, sizeof w);
}

static void
write_contacts(struct evbuffer *out, const kad_contact_t *c, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        write_id(out, &c[i].id);
        ed2k_write_u32(out, c[i].ip);
        ed2k_write_u16(out, c[i].udp_port);
        ed2k_write_u16(out, c[i].tcp_port);
        ed2k_write_u8(out, c[i].version);
    }
}

void
kad_bootstrap_req_encode(struct evbuffer *out)
{
    write_header(out, KAD_OP_BOOTSTRAP_REQ);
}

void
kad_bootstrap_res_encode(struct evbuffer *out, const kad_bootstrap_res_t *r)
{
    size_t n = r->count > KAD_CONTACTS_MAX ? KAD_CONTACTS_MAX : r->count;
    write_header(out, KAD_OP_BOOTSTRAP_RES);
    write_id(out, &r->id);
    ed2k_write_u16(out, r->tcp_port);
    ed2k_write_u8(out, r->version);
    ed2k_write_u16(out, (uint16_t)n);
    write_contacts(out, r->contacts, n);
}

void
kad_hello_encode(struct evbuffer *out, uint8_t opcode, const kad_hello_t *h)
{
    write_header(out, opcode);
    write_id(out, &h->id);
    ed2k_write_u16(out, h->tcp_port);
    ed2k_write_u8(out, h->version);
    ed2k_taglist_t *tags = ed2k_taglist_new();
    if (h->source_udp_port != 0)
        ed2k_taglist_add_uint(tags, KAD_TAG_SOURCEUPORT, 0, h->source_udp_port);
    if (h->misc_options != 0)
        ed2k_taglist_add_uint(tags, KAD_TAG_KADMISCOPTIONS, 0, h->misc_options);
    /* Two small integer tags always fit: the write cannot fail. */
    (void)ed2k_taglist_write(out, tags, ED2K_TAGCOUNT_U8, ED2K_TAGFORM_CLASSIC, NULL);
    ed2k_taglist_free(tags);
}

void
kad_hello_ack_encode(struct evbuffer *out, const kad_id_t *id)
{
    write_header(out, KAD_OP_HELLO_RES_ACK);
    write_id(out, id);
    ed2k_write_u8(out, 0);
}

void
kad_req_encode(struct evbuffer *out, const kad_req_t *r)
{
    write_header(out, KAD_OP_REQ);
    ed2k_write_u8(out, r->type);
    write_id(out, &r->target);
    write_id(out, &r->receiver);
}

void
kad_res_encode(struct evbuffer *out, const kad_res_t *r)
{
    size_t n = r->count > KAD_CONTACTS_MAX ? KAD_CONTACTS_MAX : r->count;
    write_header(out, KAD_OP_RES);
    write_id(out, &r->target);
    ed2k_write_u8(out, (uint8_t)n);
    write_contacts(out, r->contacts, n);
}

void
kad_ping_encode(struct evbuffer *out)
{
    write_header(out, KAD_OP_PING);
}

void
kad_pong_encode(struct evbuffer *out, uint16_t udp_port)
{
    write_header(out, KAD_OP_PONG);
    ed2k_write_u16(out, udp_port);
}

void
kad_fw_req_encode(struct evbuffer *out, const kad_fw_req_t *r)
{
    write_header(out, r->v2 ? KAD_OP_FIREWALLED2_REQ : KAD_OP_FIREWALLED_REQ);
    ed2k_write_u16(out, r->tcp_port);
    if (!r->v2)
        return;
    kad_id_t hash;
    kad_id_from_digest(&hash, r->user_hash);
    write_id(out, &hash);
    ed2k_write_u8(out, r->connect_options);
}

void
kad_fw_res_encode(struct evbuffer *out, uint32_t ip)
{
    write_header(out, KAD_OP_FIREWALLED_RES);
    ed2k_write_u32(out, ip);
}

void
kad_fw_ack_encode(struct evbuffer *out)
{
    write_header(out, KAD_OP_FIREWALLED_ACK_RES);
}

void
kad_fw_udp_encode(struct evbuffer *out, uint8_t error, uint16_t port)
{
    write_header(out, KAD_OP_FIREWALLUDP);
    ed2k_write_u8(out, error);
    ed2k_write_u16(out, port);
}

void
kad_fw_udp_req_write(struct evbuffer *out, const kad_fw_udp_req_t *r)
{
    ed2k_write_u16(out, r->intern_port);
    ed2k_write_u16(out, r->extern_port);
    ed2k_write_u32(out, r->udp_key);
}

bool
kad_contact_equal(const kad_contact_t *a, const kad_contact_t *b)
{
    return kad_id_equal(&a->id, &b->id) && a->ip == b->ip && a->udp_port == b->udp_port &&
           a->tcp_port == b->tcp_port && a->version == b->version;
}
