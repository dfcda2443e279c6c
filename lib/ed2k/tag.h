/* tag.h: eD2K/Kad tag lists (§2.1): reading both the classic and the compact
 * form, writing either, and looking tags up by id or by string name. */
#ifndef MT_ED2K_TAG_H
#define MT_ED2K_TAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/packet.h"
#include "util/error.h"

struct evbuffer;

/* Wire tag types. STR1..STR16 are read into ED2K_TAG_STRING tags; compact
 * writing produces them again. Types 0x21 and up (eMule's STR17..22) are
 * rejected, as aMule rejects them. */
enum ed2k_tag_type {
    ED2K_TAG_HASH16 = 0x01,
    ED2K_TAG_STRING = 0x02,
    ED2K_TAG_UINT32 = 0x03,
    ED2K_TAG_FLOAT32 = 0x04,
    ED2K_TAG_BOOL = 0x05,      /* obsolete; value kept in v.u (0..255) */
    ED2K_TAG_BOOLARRAY = 0x06, /* obsolete; bit count in v.bits, bytes in v.data */
    ED2K_TAG_BLOB = 0x07,
    ED2K_TAG_UINT16 = 0x08,
    ED2K_TAG_UINT8 = 0x09,
    ED2K_TAG_BSOB = 0x0A,
    ED2K_TAG_UINT64 = 0x0B,
    ED2K_TAG_STR1 = 0x11,
    ED2K_TAG_STR16 = 0x20,
};

/* One tag. A tag is named either by a 1-byte id (name == NULL) or by a
 * string (name != NULL, name_len bytes plus a NUL; a classic name of length
 * 1 is always read as an id). Value by type:
 *   UINT8/16/32/64, BOOL   v.u (widened; type keeps the width read)
 *   FLOAT32                v.f
 *   HASH16                 v.hash
 *   STRING, BLOB, BSOB     v.data / v.len (plus a NUL after the data, so a
 *                          string can be used as a C string when it has no
 *                          NUL inside)
 *   BOOLARRAY              v.bits, and bits/8 + 1 bytes in v.data / v.len
 * Tags in a list are owned by the list; treat them as read-only. Pointers
 * to them stay valid until the list is added to or freed. */
typedef struct ed2k_tag {
    uint8_t type;
    uint8_t id;
    char *name;
    size_t name_len;
    struct {
        uint64_t u;
        float f;
        uint8_t hash[16];
        uint8_t *data;
        size_t len;
        uint16_t bits;
    } v;
} ed2k_tag_t;

typedef struct ed2k_taglist ed2k_taglist_t;

typedef enum {
    ED2K_TAGCOUNT_U32, /* ed2k packets and .met files */
    ED2K_TAGCOUNT_U8,  /* Kad */
} ed2k_tagcount_t;

typedef enum {
    ED2K_TAGFORM_CLASSIC, /* [type][u16 namelen][name][value] everywhere */
    ED2K_TAGFORM_COMPACT, /* [type|0x80][id][value] for id-named tags */
} ed2k_tagform_t;

#define ED2K_TAGLIST_MAX_DEFAULT 1024

ed2k_taglist_t *ed2k_taglist_new(void);
void ed2k_taglist_free(ed2k_taglist_t *l);
size_t ed2k_taglist_count(const ed2k_taglist_t *l);
/* ed2k_taglist_get: the i-th tag, or NULL past the end. */
const ed2k_tag_t *ed2k_taglist_get(const ed2k_taglist_t *l, size_t i);
/* Lookups return the first match or NULL. find_name compares bytes. */
const ed2k_tag_t *ed2k_taglist_find_id(const ed2k_taglist_t *l, uint8_t id);
const ed2k_tag_t *ed2k_taglist_find_name(const ed2k_taglist_t *l, const char *name);
/* Typed lookups by id: return 0 and the value when the tag exists with a
 * matching kind (any integer width for get_uint), -1 otherwise. The string
 * pointer stays owned by the list. */
int ed2k_taglist_get_uint(const ed2k_taglist_t *l, uint8_t id, uint64_t *v);
int ed2k_taglist_get_str(const ed2k_taglist_t *l, uint8_t id, const char **s, size_t *len);

/* ed2k_taglist_read: reads a count (u32 or u8) and that many tags, in
 * either form, from r. max_tags caps the count (0 means
 * ED2K_TAGLIST_MAX_DEFAULT). A length can never exceed what remains of the
 * input. On error (MT_ERR_PROTOCOL: truncated input, unknown type;
 * MT_ERR_TOO_LARGE: too many tags) nothing is returned and r's position is
 * undefined: the rest of the packet cannot be parsed (§2.1). */
int ed2k_taglist_read(ed2k_reader_t *r, ed2k_tagcount_t count, size_t max_tags,
                      ed2k_taglist_t **out, mt_error_t **err);

/* ed2k_taglist_write: writes the count and the tags. Compact form applies to
 * id-named tags only: integers take the smallest type that holds the value
 * and strings of 1..16 bytes become STR1..STR16; string-named tags are
 * always classic. Classic form writes each tag with its own type. Fails
 * (nothing written) when the count does not fit, or a name, string or BSOB
 * is too long for its length field. */
int ed2k_taglist_write(struct evbuffer *out, const ed2k_taglist_t *l, ed2k_tagcount_t count,
                       ed2k_tagform_t form, mt_error_t **err);

/* Building lists. Integers: type is ED2K_TAG_UINT8/16/32/64, or 0 for the
 * smallest that holds v (as aMule's CTagVarInt); a type too small for v is
 * widened. Strings and blobs are copied. BSOBs are limited to 255 bytes and
 * strings to 65535 (longer ones are refused by ed2k_taglist_write). */
void ed2k_taglist_add_uint(ed2k_taglist_t *l, uint8_t id, uint8_t type, uint64_t v);
void ed2k_taglist_add_str(ed2k_taglist_t *l, uint8_t id, const void *s, size_t len);
void ed2k_taglist_add_hash(ed2k_taglist_t *l, uint8_t id, const uint8_t h[16]);
void ed2k_taglist_add_float(ed2k_taglist_t *l, uint8_t id, float f);
void ed2k_taglist_add_blob(ed2k_taglist_t *l, uint8_t id, const void *d, size_t len);
void ed2k_taglist_add_bsob(ed2k_taglist_t *l, uint8_t id, const void *d, size_t len);
/* String-named variants for the common cases ("users", "Artist", ...). */
void ed2k_taglist_add_named_uint(ed2k_taglist_t *l, const char *name, uint8_t type, uint64_t v);
void ed2k_taglist_add_named_str(ed2k_taglist_t *l, const char *name, const void *s, size_t len);
/* ed2k_taglist_add_copy: appends a deep copy of any tag (e.g. one from
 * another list). */
void ed2k_taglist_add_copy(ed2k_taglist_t *l, const ed2k_tag_t *t);

/* ed2k_tag_is_int / is_str: value kinds. */
bool ed2k_tag_is_int(const ed2k_tag_t *t);
bool ed2k_tag_is_str(const ed2k_tag_t *t);
/* ed2k_tag_equal: same name and same value; integers compare by value
 * whatever their width (readers treat widths as interchangeable, §2.1),
 * floats bit for bit. */
bool ed2k_tag_equal(const ed2k_tag_t *a, const ed2k_tag_t *b);
bool ed2k_taglist_equal(const ed2k_taglist_t *a, const ed2k_taglist_t *b);

#endif
