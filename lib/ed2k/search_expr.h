/* search_expr.h: the eD2K search expression language (docs/search.md):
 * what a user types, parsed into a search tree, and a tree's normalised
 * readable form. The tree's wire encoding is lib/ed2k/search.h. */
#ifndef MT_ED2K_SEARCH_EXPR_H
#define MT_ED2K_SEARCH_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Limits of the expression language (docs/search.md). */
#define ED2K_SEARCH_MAX_LEN 512      /* bytes of expression text */
#define ED2K_SEARCH_MAX_OPERATORS 10 /* AND/OR/NOT left after folding, as aMule */

/* Node types of a search tree: those of the wire (§3.5), which a parsed
 * expression uses as they are. */
enum {
    ED2K_SEARCH_BOOL = 0x00,
    ED2K_SEARCH_STRING = 0x01,
    ED2K_SEARCH_META = 0x02,
    ED2K_SEARCH_NUM32 = 0x03,
    ED2K_SEARCH_NUM64 = 0x08,
};

/* Boolean operators (§3.5). */
enum { ED2K_SEARCH_AND = 0x00, ED2K_SEARCH_OR = 0x01, ED2K_SEARCH_NOT = 0x02 };

/* Comparison bytes of numeric nodes (aMule Constants.h ED2K_SEARCH_OP_*). */
enum {
    ED2K_SEARCH_CMP_EQ = 0,
    ED2K_SEARCH_CMP_GT = 1,
    ED2K_SEARCH_CMP_LT = 2,
    ED2K_SEARCH_CMP_GE = 3,
    ED2K_SEARCH_CMP_LE = 4,
    ED2K_SEARCH_CMP_NE = 5,
};

/* One node of a search tree, as parsed or as read from the wire. A node
 * owns its strings and its children. */
typedef struct ed2k_search_node {
    uint8_t kind;
    uint8_t op;       /* BOOL: operator; NUM: comparison */
    uint8_t tag_id;   /* META/NUM: the 1-byte tag name, when tag_name is NULL */
    char *tag_name;   /* META/NUM: a string tag name (wire only) */
    size_t tag_name_len;
    char *text;       /* STRING/META: the value (NUL-terminated copy) */
    size_t len;
    uint64_t value;   /* NUM */
    struct ed2k_search_node *l, *r;
} ed2k_search_node_t;

/* Node constructors, for the parser and the wire decoder: a new node of
 * kind (zeroed otherwise); a BOOL node taking l and r; a STRING or META
 * node holding a copy of the len bytes at s. Free with
 * ed2k_search_node_free, which frees the children too and accepts NULL. */
ed2k_search_node_t *ed2k_search_node_new(uint8_t kind);
ed2k_search_node_t *ed2k_search_node_bool(uint8_t op, ed2k_search_node_t *l,
                                          ed2k_search_node_t *r);
ed2k_search_node_t *ed2k_search_node_string(uint8_t kind, const char *s, size_t len);
void ed2k_search_node_free(ed2k_search_node_t *n);

/* ed2k_search_node_to_string: the readable form of a tree: AND as
 * juxtaposition, OR and NOT in words, parentheses where needed, strings
 * that would not read back as themselves in quotes with escapes, filters
 * as tag=value or tag>number, e.g. `(alpha OR (beta NOT gamma))
 * type=Video size>1048576`. Always clean UTF-8 on one line. Caller
 * frees. */
char *ed2k_search_node_to_string(const ed2k_search_node_t *n);

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

/* ed2k_search_root: the whole tree that is sent, the filters ANDed to the
 * expression in the order and shape aMule uses (SearchList.cpp). Owned by
 * the search. */
const ed2k_search_node_t *ed2k_search_root(const ed2k_search_t *s);

/* ed2k_search_to_string: a normalized readable form of what is sent (with
 * large-file sizes), e.g. `(alpha OR (beta NOT gamma)) type=Video
 * size>1048576`, for logs and the database. Caller frees. */
char *ed2k_search_to_string(const ed2k_search_t *s);

/* ed2k_search_filetype: the file type asked for with type:, as aMule names
 * it ("Video", "Audio", "Image", "Pro", "Doc", "Arc", "Iso"), or NULL. Arc
 * and Iso are sent as "Pro" (§2.2); a caller that wants only archives or
 * CD images must filter the results by name, as aMule does. */
const char *ed2k_search_filetype(const ed2k_search_t *s);

#endif
