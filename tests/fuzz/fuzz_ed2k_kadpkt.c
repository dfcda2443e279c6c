/* fuzz_ed2k_kadpkt.c: fuzz target for the Kad datagram decoders
 * (lib/ed2k/kadpkt.c with the firewall checks, kadsearch.c, kadbuddy.c) and the de-obfuscation (kadcrypt.c): every decoder
 * runs over the payload; what one accepts must encode and decode back equal. */
#include "config.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/kadbuddy.h"
#include "ed2k/kadcrypt.h"
#include "ed2k/kadpkt.h"
#include "ed2k/kadsearch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* reopen: the one datagram in b, decoded as a packet of opcode. */
static ed2k_packet_t *
reopen(struct evbuffer *b, uint8_t opcode)
{
    ed2k_packet_t *p = NULL;
    if (kad_datagram_open(evbuffer_pullup(b, -1), evbuffer_get_length(b), &p, NULL) != 0 ||
        p->opcode != opcode)
        abort();
    evbuffer_drain(b, evbuffer_get_length(b));
    return p;
}

static void
check_lists(const kad_contact_t *a, const kad_contact_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!kad_contact_equal(&a[i], &b[i]))
            abort();
}

/* fuzz_buddy: the buddy decoders (kadbuddy.h) and their round trips. */
static void
fuzz_buddy(const uint8_t *p, size_t len, struct evbuffer *b)
{
    kad_buddy_msg_t m, m2;
    if (kad_buddy_msg_decode(p, len, &m, NULL) == 0) {
        kad_buddy_msg_encode(b, KAD_OP_FINDBUDDY_RES, &m);
        ed2k_packet_t *q = reopen(b, KAD_OP_FINDBUDDY_RES);
        if (kad_buddy_msg_decode(q->payload, q->len, &m2, NULL) != 0 ||
            memcmp(&m, &m2, sizeof m) != 0)
            abort();
        ed2k_packet_free(q);
    }
    kad_callback_t c, c2;
    if (kad_callback_decode(p, len, &c, NULL) == 0) {
        kad_callback_write(b, &c);
        size_t n = evbuffer_get_length(b);
        if (n != KAD_CALLBACK_LEN ||
            kad_callback_decode(evbuffer_pullup(b, -1), n, &c2, NULL) != 0 ||
            memcmp(&c, &c2, sizeof c) != 0)
            abort();
        evbuffer_drain(b, n);
    }
    if (kad_callback_req_decode(p, len, &c, NULL) == 0) {
        kad_callback_req_encode(b, &c);
        ed2k_packet_t *q = reopen(b, KAD_OP_CALLBACK_REQ);
        if (kad_callback_req_decode(q->payload, q->len, &c2, NULL) != 0 ||
            memcmp(&c, &c2, sizeof c) != 0)
            abort();
        ed2k_packet_free(q);
    }
}

static void
fuzz_payload(const uint8_t *p, size_t len, struct evbuffer *b)
{
    fuzz_buddy(p, len, b);
    kad_bootstrap_res_t br, br2;
    if (kad_bootstrap_res_decode(p, len, &br, NULL) == 0) {
        kad_bootstrap_res_encode(b, &br);
        ed2k_packet_t *q = reopen(b, KAD_OP_BOOTSTRAP_RES);
        if (kad_bootstrap_res_decode(q->payload, q->len, &br2, NULL) != 0 ||
            br2.count != br.count || !kad_id_equal(&br.id, &br2.id))
            abort();
        check_lists(br.contacts, br2.contacts, br.count);
        ed2k_packet_free(q);
    }
    kad_hello_t h, h2;
    if (kad_hello_decode(p, len, &h, NULL) == 0) {
        kad_hello_encode(b, KAD_OP_HELLO_RES, &h);
        ed2k_packet_t *q = reopen(b, KAD_OP_HELLO_RES);
        if (kad_hello_decode(q->payload, q->len, &h2, NULL) != 0 || memcmp(&h, &h2, sizeof h) != 0)
            abort();
        ed2k_packet_free(q);
    }
    kad_search_res_t sr, sr2;
    if (kad_search_res_decode(p, len, &sr, NULL) == 0) {
        if (kad_search_res_encode(b, &sr, NULL) == 0) {
            ed2k_packet_t *q = reopen(b, KAD_OP_SEARCH_RES);
            if (kad_search_res_decode(q->payload, q->len, &sr2, NULL) != 0 ||
                sr2.count != sr.count)
                abort();
            kad_search_res_clear(&sr2);
            ed2k_packet_free(q);
        }
        kad_search_res_clear(&sr);
    }
    if (kad_publish_key_req_decode(p, len, &sr, NULL) == 0) {
        if (kad_publish_key_req_encode(b, &sr.target, sr.v, sr.count, NULL) == 0) {
            ed2k_packet_t *q = reopen(b, KAD_OP_PUBLISH_KEY_REQ);
            if (kad_publish_key_req_decode(q->payload, q->len, &sr2, NULL) != 0 ||
                sr2.count != sr.count)
                abort();
            kad_search_res_clear(&sr2);
            ed2k_packet_free(q);
        }
        kad_search_res_clear(&sr);
    }
    kad_id_t pf, pp;
    ed2k_taglist_t *pt = NULL;
    if (kad_publish_source_req_decode(p, len, &pf, &pp, &pt, NULL) == 0) {
        if (kad_publish_source_req_encode(b, &pf, &pp, pt, NULL) == 0)
            evbuffer_drain(b, evbuffer_get_length(b));
        ed2k_taglist_free(pt);
    }
    uint8_t load;
    (void)kad_publish_res_decode(p, len, &pf, &load, NULL);
    kad_search_key_req_t skr;
    kad_search_source_req_t ssr;
    (void)kad_search_key_req_decode(p, len, &skr, NULL);
    (void)kad_search_source_req_decode(p, len, &ssr, NULL);
    kad_req_t rq;
    kad_res_t rs, rs2;
    kad_id_t id;
    uint16_t port;
    (void)kad_req_decode(p, len, &rq, NULL);
    (void)kad_hello_ack_decode(p, len, &id, NULL);
    (void)kad_pong_decode(p, len, &port, NULL);
    kad_fw_req_t fr, fr2;
    for (int v2 = 0; v2 < 2; v2++) {
        uint8_t op = v2 ? KAD_OP_FIREWALLED2_REQ : KAD_OP_FIREWALLED_REQ;
        if (kad_fw_req_decode(op, p, len, &fr, NULL) == 0) {
            kad_fw_req_encode(b, &fr);
            ed2k_packet_t *q = reopen(b, op);
            if (kad_fw_req_decode(q->opcode, q->payload, q->len, &fr2, NULL) != 0 ||
                memcmp(&fr, &fr2, sizeof fr) != 0)
                abort();
            ed2k_packet_free(q);
        }
    }
    uint32_t fw_ip;
    uint8_t fw_err;
    kad_fw_udp_req_t fu;
    (void)kad_fw_res_decode(p, len, &fw_ip, NULL);
    (void)kad_fw_udp_decode(p, len, &fw_err, &port, NULL);
    (void)kad_fw_udp_req_decode(p, len, &fu, NULL);
    if (kad_res_decode(p, len, &rs, NULL) == 0) {
        kad_res_encode(b, &rs);
        ed2k_packet_t *q = reopen(b, KAD_OP_RES);
        if (kad_res_decode(q->payload, q->len, &rs2, NULL) != 0 || rs2.count != rs.count)
            abort();
        check_lists(rs.contacts, rs2.contacts, rs.count);
        ed2k_packet_free(q);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_packet_t *p = NULL;
    mt_error_t *err = NULL;
    int rc = kad_datagram_open(data, size, &p, &err);
    if ((rc != 0) != (err != NULL))
        abort(); /* a refusal always says why */
    mt_error_free(err);
    if (rc == 0) {
        fuzz_payload(p->payload, p->len, b);
        ed2k_packet_free(p);
    }
    /* As an obfuscated datagram (§9.4): what decrypts is decoded too. */
    static const kad_id_t me = { { 1, 2, 3, 4 } };
    uint8_t *plain = malloc(size + 1);
    size_t plen = 0;
    uint32_t rk, sk;
    if (kad_crypt_decrypt(data, size, &me, 5, plain, &plen, &rk, &sk, NULL) == 0) {
        if (plen > size)
            abort();
        if (kad_datagram_open(plain, plen, &p, NULL) == 0) {
            fuzz_payload(p->payload, p->len, b);
            ed2k_packet_free(p);
        }
    }
    free(plain);
    /* The raw bytes as a payload too: the decoders never trust them. */
    fuzz_payload(data, size, b);
    evbuffer_free(b);
    return 0;
}
