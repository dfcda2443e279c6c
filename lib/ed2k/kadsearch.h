/* kadsearch.h: Kad keyword and source searches on the wire (ed2k-protocol.md
 * §10.1, §10.3, §11.2): words split and hashed as eMule does, the search
 * requests, and KADEMLIA2_SEARCH_RES decoded with bounds. */
#ifndef MT_ED2K_KADSEARCH_H
#define MT_ED2K_KADSEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/kadid.h"
#include "ed2k/tag.h"
#include "util/error.h"

struct evbuffer;

/* Words of one query or file name kept, and the longest kept. */
#define KAD_WORDS_MAX 16
#define KAD_WORD_MAX_LEN 127
/* SEARCH_KEY_REQ: the start field's bit that says a search tree follows. */
#define KAD_SEARCH_TREE_FLAG 0x8000
/* SEARCH_RES: the most answers one datagram may carry (aMule sends at most
 * 50 per datagram, 300 per search), and tags per answer. */
#define KAD_SEARCH_RES_MAX 300
#define KAD_SEARCH_RES_TAGS_MAX 64

/* Tags of a source answer (§10.3): its type, address (Kad form) and ports. */
#define KAD_TAG_SOURCETYPE 0xFF
#define KAD_TAG_SOURCEIP 0xFE
#define KAD_TAG_SOURCEPORT 0xFD
#define KAD_TAG_SOURCEUPORT 0xFC
/* Source types: HighID (4: of a file over 4 GiB), firewalled with a buddy
 * (3, 5), firewalled with a direct UDP callback (6). */
#define KAD_SOURCE_HIGHID 1
#define KAD_SOURCE_BUDDY 3
#define KAD_SOURCE_HIGHID_LARGE 4
#define KAD_SOURCE_BUDDY_LARGE 5
#define KAD_SOURCE_CALLBACK 6

/* kad_words_split: the keywords of text as eMule's GetWords takes them
 * (§10.3): split on space and ()[]{}<>,._-!?:;\/", lower-cased (ASCII
 * letters; other bytes as they are), words under 3 bytes dropped, each
 * kept once; with drop_extension (file names) a last word of exactly 3
 * bytes goes when others remain, as aMule drops the extension. Words
 * longer than KAD_WORD_MAX_LEN are cut. Returns how many (at most max). */
size_t kad_words_split(const char *text, char out[][KAD_WORD_MAX_LEN + 1], size_t max,
                       bool drop_extension);
/* kad_word_id: the keyword's Kad id: MD4 of its bytes read as a
 * big-endian number (§11.2). */
void kad_word_id(const char *word, kad_id_t *out);

/* kad_search_key_req_encode: KADEMLIA2_SEARCH_KEY_REQ for keyword, with
 * the search tree (§3.5) when tree_len is not 0. */
void kad_search_key_req_encode(struct evbuffer *out, const kad_id_t *keyword, const uint8_t *tree,
                               size_t tree_len);
/* kad_search_source_req_encode: KADEMLIA2_SEARCH_SOURCE_REQ for a file. */
void kad_search_source_req_encode(struct evbuffer *out, const kad_id_t *file, uint64_t size);

/* A decoded SEARCH_KEY_REQ: tree points into the payload (tree_len 0: none). */
typedef struct kad_search_key_req {
    kad_id_t keyword;
    uint16_t start;
    const uint8_t *tree;
    size_t tree_len;
} kad_search_key_req_t;
int kad_search_key_req_decode(const uint8_t *p, size_t len, kad_search_key_req_t *out,
                              mt_error_t **err);
/* A decoded SEARCH_SOURCE_REQ. */
typedef struct kad_search_source_req {
    kad_id_t file;
    uint16_t start;
    uint64_t size;
} kad_search_source_req_t;
int kad_search_source_req_decode(const uint8_t *p, size_t len, kad_search_source_req_t *out,
                                 mt_error_t **err);

/* One answer of a KADEMLIA2_SEARCH_RES: a file (keyword search) or a
 * source's user hash (source search) as an id, and its tags. */
typedef struct kad_search_answer {
    kad_id_t id;
    ed2k_taglist_t *tags;
} kad_search_answer_t;

typedef struct kad_search_res {
    kad_id_t sender, target;
    size_t count;
    kad_search_answer_t *v;
} kad_search_res_t;

/* kad_search_res_decode: the payload of a KADEMLIA2_SEARCH_RES. At most
 * KAD_SEARCH_RES_MAX answers (else MT_ERR_TOO_LARGE), each with at most
 * KAD_SEARCH_RES_TAGS_MAX tags; a short payload or an unreadable tag is
 * MT_ERR_PROTOCOL. On success free with kad_search_res_clear; on error
 * nothing is left to free. */
int kad_search_res_decode(const uint8_t *p, size_t len, kad_search_res_t *out, mt_error_t **err);
/* kad_search_res_encode: the whole datagram (answers past
 * KAD_SEARCH_RES_MAX cut). -1 when a tag list cannot be written. */
int kad_search_res_encode(struct evbuffer *out, const kad_search_res_t *r, mt_error_t **err);
void kad_search_res_clear(kad_search_res_t *r);

/* KADEMLIA2_PUBLISH_KEY_REQ: files (answers: id and tags) under a
 * keyword; the same shape as a SEARCH_RES without the sender, so decoded
 * into a kad_search_res_t (target: the keyword; sender zero). Bounds and
 * errors as kad_search_res_decode; free with kad_search_res_clear. */
int kad_publish_key_req_encode(struct evbuffer *out, const kad_id_t *keyword,
                               const kad_search_answer_t *files, size_t n, mt_error_t **err);
int kad_publish_key_req_decode(const uint8_t *p, size_t len, kad_search_res_t *out,
                               mt_error_t **err);

/* KADEMLIA2_PUBLISH_SOURCE_REQ: a source (publisher: its user hash as an
 * id) of a file, with its tags. Decoded tags: caller frees. */
int kad_publish_source_req_encode(struct evbuffer *out, const kad_id_t *file,
                                  const kad_id_t *publisher, const ed2k_taglist_t *tags,
                                  mt_error_t **err);
int kad_publish_source_req_decode(const uint8_t *p, size_t len, kad_id_t *file,
                                  kad_id_t *publisher, ed2k_taglist_t **tags, mt_error_t **err);

/* KADEMLIA2_PUBLISH_RES: the target and the answering node's load (%). */
void kad_publish_res_encode(struct evbuffer *out, const kad_id_t *target, uint8_t load);
int kad_publish_res_decode(const uint8_t *p, size_t len, kad_id_t *target, uint8_t *load,
                           mt_error_t **err);

#endif
