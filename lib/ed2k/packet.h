/* packet.h: eD2K packet framing (TCP with length, UDP without), zlib packing
 * of payloads, and the bounded little-endian reader/writer codecs build on. */
#ifndef MT_ED2K_PACKET_H
#define MT_ED2K_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct evbuffer;

/* Protocol bytes (§1). */
#define ED2K_PROTO_EDONKEY 0xE3
#define ED2K_PROTO_EMULE 0xC5
#define ED2K_PROTO_PACKED 0xD4
#define ED2K_PROTO_KAD 0xE4
#define ED2K_PROTO_KAD_PACKED 0xE5

/* TCP header: protocol u8, length u32 (opcode + payload), opcode u8. */
#define ED2K_TCP_HEADER_LEN 6
/* Receive limits of aMule and eMule (§1.1). */
#define ED2K_MAX_PAYLOAD_DEFAULT 2000000
#define ED2K_INFLATE_LIMIT_PEER 50000
#define ED2K_INFLATE_LIMIT_SERVER 250000

/* A decoded packet. payload is owned by the packet (never NULL, even when
 * len is 0); free the whole packet with ed2k_packet_free(). */
typedef struct ed2k_packet {
    uint8_t proto;
    uint8_t opcode;
    size_t len;
    uint8_t *payload;
} ed2k_packet_t;

/* ed2k_packet_new: a packet holding a copy of payload (may be NULL if len
 * is 0). */
ed2k_packet_t *ed2k_packet_new(uint8_t proto, uint8_t opcode, const void *payload, size_t len);
void ed2k_packet_free(ed2k_packet_t *p);

typedef enum {
    ED2K_FRAME_ERROR = -1,    /* framing broken: drop the connection */
    ED2K_FRAME_NEED_MORE = 0, /* no complete packet yet */
    ED2K_FRAME_OK = 1,        /* *out holds a packet */
} ed2k_frame_status_t;

/* ed2k_packet_decode: takes one TCP packet from the start of data. On
 * ED2K_FRAME_OK, *out is a new packet (caller frees) and *consumed the
 * bytes it took. max_payload caps the payload (0 means
 * ED2K_MAX_PAYLOAD_DEFAULT). Errors, reported as soon as the header shows
 * them: a protocol byte other than E3/C5/D4 (MT_ERR_PROTOCOL), a length of
 * 0 (MT_ERR_PROTOCOL), a payload over the cap (MT_ERR_TOO_LARGE). Packed
 * packets are returned packed; see ed2k_packet_unpack(). */
ed2k_frame_status_t ed2k_packet_decode(const uint8_t *data, size_t len, size_t max_payload,
                                       ed2k_packet_t **out, size_t *consumed,
                                       mt_error_t **err);
/* ed2k_packet_decode_evbuffer: the same, reading from (and draining) in;
 * nothing is drained unless a whole packet is returned. */
ed2k_frame_status_t ed2k_packet_decode_evbuffer(struct evbuffer *in, size_t max_payload,
                                                ed2k_packet_t **out, mt_error_t **err);

/* ed2k_packet_unpack: inflates a packed payload (zlib, RFC 1950) of at most
 * inflate_limit bytes (ED2K_INFLATE_LIMIT_PEER or _SERVER). 0xD4 becomes
 * 0xC5, as aMule's CPacket::UnPackPacket does; a server connection then
 * sets proto to 0xE3 itself (aMule's ServerSocket). 0xE5 (Kad) becomes 0xE4.
 * Other protocols are left alone (returns 0). On error (MT_ERR_PROTOCOL for
 * bad or truncated data, MT_ERR_TOO_LARGE over the limit) p is unchanged. */
int ed2k_packet_unpack(ed2k_packet_t *p, size_t inflate_limit, mt_error_t **err);

/* ed2k_packet_pack: compresses an 0xE3/0xC5 payload (0xE4 for Kad) and
 * marks it 0xD4 (0xE5), but only when that makes it smaller, the receiver
 * can inflate it (payload <= receiver_limit) and aMule's unpacker will take
 * it: it inflates into at most compressed * 10 + 300 bytes (Packet.cpp).
 * Returns true when the packet was packed. */
bool ed2k_packet_pack(ed2k_packet_t *p, size_t receiver_limit);

/* ed2k_packet_append: frames a TCP packet onto out. Fails (MT_ERR_TOO_LARGE)
 * only when the length does not fit the u32 field. */
int ed2k_packet_append(struct evbuffer *out, uint8_t proto, uint8_t opcode,
                       const void *payload, size_t len, mt_error_t **err);
int ed2k_packet_write(struct evbuffer *out, const ed2k_packet_t *p, mt_error_t **err);
/* ed2k_packet_append_evbuffer: frames the whole of payload (which is
 * drained, without copying) onto out. */
int ed2k_packet_append_evbuffer(struct evbuffer *out, uint8_t proto, uint8_t opcode,
                                struct evbuffer *payload, mt_error_t **err);

/* UDP (§1.2): [proto][opcode][payload]. ed2k_udp_decode accepts E3, C5, E4
 * and E5; anything else (e.g. an obfuscated datagram) or fewer than 2 bytes
 * is MT_ERR_PROTOCOL. The caller frees *out. */
int ed2k_udp_decode(const uint8_t *data, size_t len, ed2k_packet_t **out, mt_error_t **err);
void ed2k_udp_append(struct evbuffer *out, uint8_t proto, uint8_t opcode,
                     const void *payload, size_t len);

/* A bounded little-endian reader over memory the caller keeps alive. Every
 * read returns 0, or -1 without moving when fewer bytes remain than it
 * needs; nothing reads past data + len. Fields are private. */
typedef struct ed2k_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
} ed2k_reader_t;

void ed2k_reader_init(ed2k_reader_t *r, const void *data, size_t len);
size_t ed2k_reader_remaining(const ed2k_reader_t *r);
int ed2k_read_u8(ed2k_reader_t *r, uint8_t *v);
int ed2k_read_u16(ed2k_reader_t *r, uint16_t *v);
int ed2k_read_u32(ed2k_reader_t *r, uint32_t *v);
int ed2k_read_u64(ed2k_reader_t *r, uint64_t *v);
int ed2k_read_float(ed2k_reader_t *r, float *v);
int ed2k_read_hash16(ed2k_reader_t *r, uint8_t out[16]);
int ed2k_read_bytes(ed2k_reader_t *r, void *out, size_t n);
/* ed2k_read_ptr: points *out at the next n bytes (no copy) and skips them. */
int ed2k_read_ptr(ed2k_reader_t *r, size_t n, const uint8_t **out);
int ed2k_read_skip(ed2k_reader_t *r, size_t n);
/* ed2k_read_string16: a u16 length and that many bytes, pointed to. */
int ed2k_read_string16(ed2k_reader_t *r, const uint8_t **s, size_t *len);

/* Little-endian writers onto an evbuffer; they abort on out-of-memory like
 * the xalloc wrappers. */
void ed2k_write_u8(struct evbuffer *b, uint8_t v);
void ed2k_write_u16(struct evbuffer *b, uint16_t v);
void ed2k_write_u32(struct evbuffer *b, uint32_t v);
void ed2k_write_u64(struct evbuffer *b, uint64_t v);
void ed2k_write_float(struct evbuffer *b, float v);
void ed2k_write_hash16(struct evbuffer *b, const uint8_t h[16]);
void ed2k_write_bytes(struct evbuffer *b, const void *data, size_t n);
/* ed2k_write_string16: u16 length + bytes; MT_ERR_TOO_LARGE over 65535. */
int ed2k_write_string16(struct evbuffer *b, const void *s, size_t len, mt_error_t **err);

#endif
