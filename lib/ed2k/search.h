/* search.h: eD2K searches: the user's search expression language, its
 * encoding as a server search tree (§3.5), and search results (§3.5, §4). */
#ifndef MT_ED2K_SEARCH_H
#define MT_ED2K_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct evbuffer;

/* Media tags of search results (§2.2). */
#define ED2K_FT_MEDIA_ARTIST 0xD0
#define ED2K_FT_MEDIA_ALBUM 0xD1
#define ED2K_FT_MEDIA_TITLE 0xD2
#define ED2K_FT_MEDIA_LENGTH 0xD3
#define ED2K_FT_MEDIA_BITRATE 0xD4
#define ED2K_FT_MEDIA_CODEC 0xD5

/* Limits of the expression language (docs/search.md). */
#define ED2K_SEARCH_MAX_LEN 512      /* bytes of expression text */
#define ED2K_SEARCH_MAX_OPERATORS 10 /* AND/OR/NOT left after folding, as aMule */
#define ED2K_SEARCH_MAX_DEPTH 64     /* nesting accepted by ed2k_search_tree_dump */

/* A parsed search: the boolean expression and the filters. Opaque. */
typedef struct ed2k_search ed2k_search_t;

/* ed2k_search_parse: parses the user's expression (docs/search.md): words,
 * "quoted phrases", AND / OR / NOT (upper case; NOT is binary, "a NOT b"),
 * parentheses, implicit AND between adjacent terms, and the filters
 * type: ext: min: max: avail: (minsize: maxsize: sources:). Strings joined
 * by AND are folded into one string term, as aMule does; a phrase keeps
 * its quotes, as eMule sends it. On success *out is a new search (free with
 * ed2k_search_free). Errors (MT_ERR_INVALID, or MT_ERR_TOO_LARGE for the
 * length, nesting and operator limits) name the offending token and its
 * 1-based character position. */
int ed2k_search_parse(const char *expr, ed2k_search_t **out, mt_error_t **err);
void ed2k_search_free(ed2k_search_t *s);

/* ed2k_search_encode: appends the search tree (§3.5) to out, the payload
 * of OP_SEARCHREQUEST or OP_GLOBSEARCHREQ*. Filters are ANDed with the
 * expression in the order and shape aMule uses (SearchList.cpp). Without
 * large_files, sizes are 32-bit terms: a max: above 4 GiB is clamped to
 * 0xFFFFFFFF (no limit for such a server), a min: above it is an error
 * (MT_ERR_UNSUPPORTED) since no file could match; with large_files, values
 * above 4 GiB use 64-bit terms. Nothing is written on error. */
int ed2k_search_encode(const ed2k_search_t *s, struct evbuffer *out, bool large_files,
                       mt_error_t **err);

/* ed2k_search_to_string: a normalized readable form of what is sent (with
 * large-file sizes), e.g. `(alpha OR (beta NOT gamma)) type=Video
 * size>1048576`, for logs and the database. Caller frees. */
char *ed2k_search_to_string(const ed2k_search_t *s);

/* ed2k_search_filetype: the file type asked for with type:, as aMule names
 * it ("Video", "Audio", "Image", "Pro", "Doc", "Arc", "Iso"), or NULL. Arc
 * and Iso are sent as "Pro" (§2.2); a caller that wants only archives or
 * CD images must filter the results by name, as aMule does. */
const char *ed2k_search_filetype(const ed2k_search_t *s);

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
