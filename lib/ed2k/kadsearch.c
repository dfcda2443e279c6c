/* kadsearch.c: Kad keyword splitting and hashing, the search requests and
 * the bounded KADEMLIA2_SEARCH_RES codec (kadsearch.h, §10.1, §10.3). */
#include "config.h"

#include "ed2k/kadsearch.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/hash.h"
#include "ed2k/kadpkt.h"
#include "ed2k/packet.h"
#include "util/xalloc.h"

static bool
is_separator(char c)
{
    return c == '\0' || strchr(" ()[]{}<>,._-!?:;\\/\"", c) != NULL;
}

size_t
kad_words_split(const char *text, char out[][KAD_WORD_MAX_LEN + 1], size_t max,
                bool drop_extension)
{
    size_t n = 0;
    const char *p = text;
    while (*p != '\0' && n < max) {
        while (*p != '\0' && is_separator(*p))
            p++;
        const char *start = p;
        while (!is_separator(*p))
            p++;
        size_t len = (size_t)(p - start);
        if (len < 3)
            continue;
        if (len > KAD_WORD_MAX_LEN)
            len = KAD_WORD_MAX_LEN;
        char w[KAD_WORD_MAX_LEN + 1];
        for (size_t i = 0; i < len; i++)
            w[i] = (start[i] >= 'A' && start[i] <= 'Z') ? (char)(start[i] - 'A' + 'a') : start[i];
        w[len] = '\0';
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strcmp(out[i], w) == 0;
        if (!seen)
            memcpy(out[n++], w, len + 1);
    }
    if (drop_extension && n > 1 && strlen(out[n - 1]) == 3)
        n--;
    return n;
}

void
kad_word_id(const char *word, kad_id_t *out)
{
    uint8_t d[ED2K_HASH_LEN];
    ed2k_md4(word, strlen(word), d);
    kad_id_from_digest(out, d);
}

static void
write_id(struct evbuffer *out, const kad_id_t *id)
{
    uint8_t w[16];
    kad_id_to_wire(id, w);
    ed2k_write_bytes(out, w, sizeof w);
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
short_payload(const char *what, mt_error_t **err)
{
    mt_error_set(err, MT_ERR_PROTOCOL, "%s: payload too short", what);
    return -1;
}

void
kad_search_key_req_encode(struct evbuffer *out, const kad_id_t *keyword, const uint8_t *tree,
                          size_t tree_len)
{
    ed2k_write_u8(out, ED2K_PROTO_KAD);
    ed2k_write_u8(out, KAD_OP_SEARCH_KEY_REQ);
    write_id(out, keyword);
    ed2k_write_u16(out, tree_len > 0 ? KAD_SEARCH_TREE_FLAG : 0);
    if (tree_len > 0)
        ed2k_write_bytes(out, tree, tree_len);
}

void
kad_search_source_req_encode(struct evbuffer *out, const kad_id_t *file, uint64_t size)
{
    ed2k_write_u8(out, ED2K_PROTO_KAD);
    ed2k_write_u8(out, KAD_OP_SEARCH_SOURCE_REQ);
    write_id(out, file);
    ed2k_write_u16(out, 0);
    ed2k_write_u64(out, size);
}

int
kad_search_key_req_decode(const uint8_t *p, size_t len, kad_search_key_req_t *out,
                          mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (read_id(&r, &out->keyword) != 0 || ed2k_read_u16(&r, &out->start) != 0)
        return short_payload("KADEMLIA2_SEARCH_KEY_REQ", err);
    out->tree_len = (out->start & KAD_SEARCH_TREE_FLAG) ? ed2k_reader_remaining(&r) : 0;
    out->tree = out->tree_len > 0 ? p + (len - out->tree_len) : NULL;
    if ((out->start & KAD_SEARCH_TREE_FLAG) && out->tree_len == 0)
        return short_payload("KADEMLIA2_SEARCH_KEY_REQ", err);
    return 0;
}

int
kad_search_source_req_decode(const uint8_t *p, size_t len, kad_search_source_req_t *out,
                             mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (read_id(&r, &out->file) != 0 || ed2k_read_u16(&r, &out->start) != 0 ||
        ed2k_read_u64(&r, &out->size) != 0)
        return short_payload("KADEMLIA2_SEARCH_SOURCE_REQ", err);
    return 0;
}

void
kad_search_res_clear(kad_search_res_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->count; i++)
        ed2k_taglist_free(r->v[i].tags);
    free(r->v);
    r->v = NULL;
    r->count = 0;
}

/* read_answers: <count u16>(<id 16><tagcount u8><tags>)* into out. */
static int
read_answers(ed2k_reader_t *r, kad_search_res_t *out, const char *what, mt_error_t **err)
{
    uint16_t count;
    if (ed2k_read_u16(r, &count) != 0)
        return short_payload(what, err);
    if (count > KAD_SEARCH_RES_MAX) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "%s: %u answers (at most %d)", what, count,
                     KAD_SEARCH_RES_MAX);
        return -1;
    }
    /* each answer takes at least 17 bytes: no allocation past the payload */
    if ((size_t)count * 17 > ed2k_reader_remaining(r))
        return short_payload(what, err);
    out->v = count > 0 ? xcalloc(count, sizeof out->v[0]) : NULL;
    for (size_t i = 0; i < count; i++) {
        if (read_id(r, &out->v[i].id) != 0) {
            kad_search_res_clear(out);
            return short_payload(what, err);
        }
        if (ed2k_taglist_read(r, ED2K_TAGCOUNT_U8, KAD_SEARCH_RES_TAGS_MAX, &out->v[i].tags,
                              err) != 0) {
            kad_search_res_clear(out);
            mt_error_prefix(err, "%s", what);
            return -1;
        }
        out->count = i + 1;
    }
    if (out->count == 0) {
        free(out->v);
        out->v = NULL;
    }
    return 0;
}

int
kad_search_res_decode(const uint8_t *p, size_t len, kad_search_res_t *out, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    memset(out, 0, sizeof *out);
    if (read_id(&r, &out->sender) != 0 || read_id(&r, &out->target) != 0)
        return short_payload("KADEMLIA2_SEARCH_RES", err);
    return read_answers(&r, out, "KADEMLIA2_SEARCH_RES", err);
}

int
kad_publish_key_req_decode(const uint8_t *p, size_t len, kad_search_res_t *out,
                           mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    memset(out, 0, sizeof *out);
    if (read_id(&r, &out->target) != 0)
        return short_payload("KADEMLIA2_PUBLISH_KEY_REQ", err);
    return read_answers(&r, out, "KADEMLIA2_PUBLISH_KEY_REQ", err);
}

/* write_answers: <count u16> and the answers, into b. */
static int
write_answers(struct evbuffer *b, const kad_search_answer_t *v, size_t count, mt_error_t **err)
{
    size_t n = count > KAD_SEARCH_RES_MAX ? KAD_SEARCH_RES_MAX : count;
    ed2k_write_u16(b, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        write_id(b, &v[i].id);
        if (ed2k_taglist_write(b, v[i].tags, ED2K_TAGCOUNT_U8, ED2K_TAGFORM_CLASSIC, err) != 0)
            return -1;
    }
    return 0;
}

int
kad_publish_key_req_encode(struct evbuffer *out, const kad_id_t *keyword,
                           const kad_search_answer_t *files, size_t n, mt_error_t **err)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u8(b, ED2K_PROTO_KAD);
    ed2k_write_u8(b, KAD_OP_PUBLISH_KEY_REQ);
    write_id(b, keyword);
    int rc = write_answers(b, files, n, err);
    if (rc == 0)
        evbuffer_add_buffer(out, b);
    evbuffer_free(b);
    return rc;
}

int
kad_publish_source_req_encode(struct evbuffer *out, const kad_id_t *file,
                              const kad_id_t *publisher, const ed2k_taglist_t *tags,
                              mt_error_t **err)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u8(b, ED2K_PROTO_KAD);
    ed2k_write_u8(b, KAD_OP_PUBLISH_SOURCE_REQ);
    write_id(b, file);
    write_id(b, publisher);
    int rc = ed2k_taglist_write(b, tags, ED2K_TAGCOUNT_U8, ED2K_TAGFORM_CLASSIC, err);
    if (rc == 0)
        evbuffer_add_buffer(out, b);
    evbuffer_free(b);
    return rc;
}

int
kad_publish_source_req_decode(const uint8_t *p, size_t len, kad_id_t *file, kad_id_t *publisher,
                              ed2k_taglist_t **tags, mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    *tags = NULL;
    if (read_id(&r, file) != 0 || read_id(&r, publisher) != 0)
        return short_payload("KADEMLIA2_PUBLISH_SOURCE_REQ", err);
    if (ed2k_taglist_read(&r, ED2K_TAGCOUNT_U8, KAD_SEARCH_RES_TAGS_MAX, tags, err) != 0) {
        mt_error_prefix(err, "KADEMLIA2_PUBLISH_SOURCE_REQ");
        return -1;
    }
    return 0;
}

void
kad_publish_res_encode(struct evbuffer *out, const kad_id_t *target, uint8_t load)
{
    ed2k_write_u8(out, ED2K_PROTO_KAD);
    ed2k_write_u8(out, KAD_OP_PUBLISH_RES);
    write_id(out, target);
    ed2k_write_u8(out, load);
}

int
kad_publish_res_decode(const uint8_t *p, size_t len, kad_id_t *target, uint8_t *load,
                       mt_error_t **err)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (read_id(&r, target) != 0 || ed2k_read_u8(&r, load) != 0)
        return short_payload("KADEMLIA2_PUBLISH_RES", err);
    return 0;
}

int
kad_search_res_encode(struct evbuffer *out, const kad_search_res_t *r, mt_error_t **err)
{
    struct evbuffer *b = evbuffer_new();
    ed2k_write_u8(b, ED2K_PROTO_KAD);
    ed2k_write_u8(b, KAD_OP_SEARCH_RES);
    write_id(b, &r->sender);
    write_id(b, &r->target);
    int rc = write_answers(b, r->v, r->count, err);
    if (rc == 0)
        evbuffer_add_buffer(out, b);
    evbuffer_free(b);
    return rc;
}
