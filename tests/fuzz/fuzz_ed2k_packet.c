/* fuzz_ed2k_packet.c: libFuzzer target for TCP/UDP framing and zlib
 * unpacking; memory and evbuffer decoders must agree, re-encoding is exact. */
#include "config.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/packet.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PACKETS 4096

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_ed2k_packet: %s\n", what);
    abort();
}

static bool
same(const ed2k_packet_t *a, const ed2k_packet_t *b)
{
    return a->proto == b->proto && a->opcode == b->opcode && a->len == b->len
        && (a->len == 0 || memcmp(a->payload, b->payload, a->len) == 0);
}

/* check_packet: unpack, repack and re-frame one decoded packet. */
static void
check_packet(const ed2k_packet_t *p, size_t limit)
{
    mt_error_t *err = NULL;
    /* Re-framing gives the bytes back. */
    struct evbuffer *b = evbuffer_new();
    if (ed2k_packet_write(b, p, &err) != 0)
        fail("write failed");
    ed2k_packet_t *q = NULL;
    if (ed2k_packet_decode_evbuffer(b, limit, &q, &err) != ED2K_FRAME_OK || !same(p, q))
        fail("re-framed packet differs");
    ed2k_packet_free(q);
    evbuffer_free(b);

    if (p->proto != ED2K_PROTO_PACKED)
        return;
    ed2k_packet_t *u = ed2k_packet_new(p->proto, p->opcode, p->payload, p->len);
    size_t ilimit = (p->opcode & 1) ? ED2K_INFLATE_LIMIT_PEER : ED2K_INFLATE_LIMIT_SERVER;
    if (ed2k_packet_unpack(u, ilimit, &err) != 0) {
        if (err == NULL || !same(u, p))
            fail("failed unpack changed the packet or set no error");
        mt_error_free(err);
        ed2k_packet_free(u);
        return;
    }
    if (u->proto != ED2K_PROTO_EMULE || u->len > ilimit)
        fail("unpacked packet has the wrong protocol or size");
    /* Packing again and unpacking gives the same payload. */
    ed2k_packet_t *r = ed2k_packet_new(u->proto, u->opcode, u->payload, u->len);
    if (ed2k_packet_pack(r, ilimit)) {
        if (r->proto != ED2K_PROTO_PACKED || r->len >= u->len)
            fail("pack did not shrink");
        if (ed2k_packet_unpack(r, ilimit, &err) != 0 || !same(r, u))
            fail("pack/unpack round trip differs");
    } else if (!same(r, u)) {
        fail("declined pack changed the packet");
    }
    ed2k_packet_free(r);
    ed2k_packet_free(u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A small payload cap on odd sizes exercises the limit path. */
    size_t limit = (size & 1) ? 300 : 0;
    ed2k_packet_t *mem[MAX_PACKETS];
    size_t nmem = 0, off = 0;
    ed2k_frame_status_t st;
    mt_error_t *err = NULL;
    for (;;) {
        size_t used = 0;
        ed2k_packet_t *p = NULL;
        st = ed2k_packet_decode(data + off, size - off, limit, &p, &used, &err);
        if (st != ED2K_FRAME_OK)
            break;
        if (used < ED2K_TCP_HEADER_LEN || used > size - off)
            fail("bad consumed count");
        off += used;
        check_packet(p, limit);
        if (nmem == MAX_PACKETS) {
            ed2k_packet_free(p);
            break;
        }
        mem[nmem++] = p;
    }
    if ((st == ED2K_FRAME_ERROR) != (err != NULL))
        fail("error status and error disagree");
    mt_error_clear(&err);

    /* The evbuffer decoder, fed in odd chunks, sees the same packets. */
    struct evbuffer *in = evbuffer_new();
    size_t fed = 0, k = 0, step = 0;
    ed2k_frame_status_t est = ED2K_FRAME_NEED_MORE;
    while (k < nmem || fed < size) {
        if (fed < size) {
            size_t chunk = (size_t)(data[step++ % size] % 97) + 1;
            if (chunk > size - fed)
                chunk = size - fed;
            evbuffer_add(in, data + fed, chunk);
            fed += chunk;
        }
        ed2k_packet_t *p = NULL;
        while ((est = ed2k_packet_decode_evbuffer(in, limit, &p, &err)) == ED2K_FRAME_OK) {
            if (k >= nmem && nmem == MAX_PACKETS) {
                ed2k_packet_free(p);
                goto done;
            }
            if (k >= nmem || !same(p, mem[k]))
                fail("evbuffer decoder disagrees");
            ed2k_packet_free(p);
            k++;
        }
        if (est == ED2K_FRAME_ERROR)
            break;
        if (fed == size && est == ED2K_FRAME_NEED_MORE)
            break;
    }
    if (nmem < MAX_PACKETS && (k != nmem || (est == ED2K_FRAME_ERROR) != (st == ED2K_FRAME_ERROR)))
        fail("evbuffer decoder ends differently");
done:
    mt_error_clear(&err);
    evbuffer_free(in);
    for (size_t i = 0; i < nmem; i++)
        ed2k_packet_free(mem[i]);

    /* The same bytes as a datagram. */
    ed2k_packet_t *u = NULL;
    if (ed2k_udp_decode(data, size, &u, &err) == 0) {
        struct evbuffer *b = evbuffer_new();
        ed2k_udp_append(b, u->proto, u->opcode, u->payload, u->len);
        if (evbuffer_get_length(b) != size || memcmp(evbuffer_pullup(b, -1), data, size) != 0)
            fail("datagram re-encoding differs");
        evbuffer_free(b);
        if (u->proto == ED2K_PROTO_KAD_PACKED) {
            if (ed2k_packet_unpack(u, 65536, &err) == 0 && u->proto != ED2K_PROTO_KAD)
                fail("Kad unpack kept the packed protocol");
            mt_error_clear(&err);
        }
        ed2k_packet_free(u);
    } else {
        mt_error_clear(&err);
    }
    return 0;
}
