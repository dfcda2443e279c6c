/* search.h: eD2K searches on the wire: a search tree encoded for a server
 * and read back (§3.5), and search results (§3.5, §4). The search itself
 * comes from the expression language, lib/ed2k/search_expr.h. */
#ifndef MT_ED2K_SEARCH_H
#define MT_ED2K_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/search_expr.h"
#include "ed2k/tag.h"
#include "util/error.h"

struct evbuffer;

/* Media tags of search results (§2.2). */
#define ED2K_FT_MEDIA_ARTIST 0xD0
#define ED2K_FT_MEDIA_ALBUM 0xD1
#define ED2K_FT_MEDIA_TITLE 0xD2
#define ED2K_FT_MEDIA_LENGTH 0xD3
#define ED2K_FT_MEDIA_BITRATE 0xD4
#define ED2K_FT_MEDIA_CODEC 0xD5

/* Nesting accepted by ed2k_search_tree_dump. */
#define ED2K_SEARCH_MAX_DEPTH 64

/* ed2k_search_encode: appends the search tree (§3.5) to out, the payload
 * of OP_SEARCHREQUEST or OP_GLOBSEARCHREQ*. Filters are ANDed with the
 * expression in the order and shape aMule uses (SearchList.cpp). Without
 * large_files, sizes are 32-bit terms: a max: above 4 GiB is clamped to
 * 0xFFFFFFFF (no limit for such a server), a min: above it is an error
 * (MT_ERR_UNSUPPORTED) since no file could match; with large_files, values
 * above 4 GiB use 64-bit terms. Nothing is written on error. */
int ed2k_search_encode(const ed2k_search_t *s, struct evbuffer *out, bool large_files,
                       mt_error_t **err);

/* ed2k_search_tree_dump: decodes a search tree from the wire (every node
 * type of §3.5, at most ED2K_SEARCH_MAX_DEPTH deep, trailing bytes an
 * error) into the readable form of ed2k_search_to_string. *text is a new
 * string (caller frees). Errors are MT_ERR_PROTOCOL. */
int ed2k_search_tree_dump(const uint8_t *p, size_t len, char **text, mt_error_t **err);

/* One search result. Every string is owned by the result. */
typedef struct ed2k_search_result {
    uint8_t hash[16];
    uint32_t client_id;       /* the one source given, or 0 */
    uint16_t port;
    char *name;               /* sanitised UTF-8, never NULL ("" if absent) */
    uint64_t size;            /* FT_FILESIZE + FT_FILESIZE_HI << 32 */
    uint32_t sources, complete_sources;
    char *type;               /* FT_FILETYPE string ("Video", ...) or NULL; an
                                 integer type is mapped to its string */
    char *format;             /* FT_FILEFORMAT (extension) or NULL, sanitised */
    char *artist, *album, *title, *codec; /* media tags 0xD0.. or NULL, sanitised */
    uint32_t length, bitrate; /* media length s, bitrate kbps, 0 if absent */
} ed2k_search_result_t;

/* ed2k_searchresult_decode: the payload of OP_SEARCHRESULT,
 * <count u32>(<hash><id u32><port u16><tags>)*[<more u8>] (§3.5). Tags may
 * be classic or compact; unknown tags are skipped. A result without a name
 * or with size 0 is dropped; a truncated packet, a count that cannot fit,
 * or an unreadable tag is an error (MT_ERR_PROTOCOL) and nothing is
 * returned. *results is a new array of *n results (NULL when *n is 0; free
 * with ed2k_search_results_free). *more (may be NULL) is true when the
 * server has more results (one trailing byte 0x01): ask with
 * OP_QUERY_MORE_RESULT. Other trailing bytes are ignored, as aMule does. */
int ed2k_searchresult_decode(const uint8_t *p, size_t len, ed2k_search_result_t **results,
                             size_t *n, bool *more, mt_error_t **err);

/* ed2k_globsearchres_decode: the payload of a UDP OP_GLOBSEARCHRES
 * datagram (after `e3 99`): one entry, then further entries each after
 * `e3 99` (§4). Bytes after an entry that do not start another are
 * ignored, as aMule does; a truncated entry is an error. Results as
 * ed2k_searchresult_decode. */
int ed2k_globsearchres_decode(const uint8_t *p, size_t len, ed2k_search_result_t **results,
                              size_t *n, mt_error_t **err);

/* ed2k_search_result_from_tags: a result for hash from its tags, as a
 * server's entry would give it (client_id and port 0), e.g. a Kad keyword
 * answer. Returns whether it is worth keeping (a name and a size); either
 * way free its strings with ed2k_search_results_free's rules (see
 * ed2k_search_result_clear). */
bool ed2k_search_result_from_tags(ed2k_search_result_t *res, const uint8_t hash[16],
                                  const ed2k_taglist_t *tags);
/* ed2k_search_result_clear: frees one result's strings and zeroes it. */
void ed2k_search_result_clear(ed2k_search_result_t *res);

/* ed2k_search_results_free: frees n results and the array (NULL is fine). */
void ed2k_search_results_free(ed2k_search_result_t *r, size_t n);

/* ed2k_searchresult_entry_encode: appends one result entry (hash, id,
 * port, tags) as a server sends it, with compact or classic tags; for tests
 * and test servers. NULL strings and zero media numbers are left out;
 * strings are cut at 65535 bytes. */
void ed2k_searchresult_entry_encode(struct evbuffer *out, const ed2k_search_result_t *r,
                                    bool compact_tags);

/* ed2k_search_sanitize_name: a file name from the network made safe for
 * disk and the database: text as ed2k_text_to_utf8 reads it; `/` and `\`
 * become `_`; control characters (C0, DEL, C1) and bidirectional override
 * characters are removed; leading dots and spaces and trailing spaces and
 * dots are trimmed; an empty result becomes "unnamed"; at most 255 bytes,
 * cut on a character boundary and keeping a short extension. Caller
 * frees. */
char *ed2k_search_sanitize_name(const void *raw, size_t len);

#endif
