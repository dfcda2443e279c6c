/* search.c: searches on the wire: the search tree encoder and decoder
 * (§3.5), and the decoding of search results (§3.5, §4). The tree comes
 * from the expression language (search_expr.c). */
#include "config.h"

#include "ed2k/search.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ed2k/c2s.h"
#include "ed2k/packet.h"
#include "ed2k/tag.h"
#include "ed2k/text.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* Inside this file, a node of the tree (search_expr.h). */
typedef ed2k_search_node_t node_t;

/* Text fields of results (type, format, media) are cut to this. */
#define MAX_FIELD_LEN 255
#define MAX_NAME_LEN 255
/* A result entry is at least hash, id, port and a tag count. */
#define MIN_ENTRY_LEN (16 + 4 + 2 + 4)

/* ------------------------------------------------------------------ */
/* Encoder */

static void
write_tag_name(struct evbuffer *b, const node_t *n)
{
    if (n->tag_name != NULL) {
        ed2k_write_u16(b, (uint16_t)n->tag_name_len);
        ed2k_write_bytes(b, n->tag_name, n->tag_name_len);
    } else {
        ed2k_write_u16(b, 1);
        ed2k_write_u8(b, n->tag_id);
    }
}

static int
write_node(struct evbuffer *b, const node_t *n, bool large, mt_error_t **err)
{
    switch (n->kind) {
    case ED2K_SEARCH_BOOL:
        ed2k_write_u8(b, ED2K_SEARCH_BOOL);
        ed2k_write_u8(b, n->op);
        if (write_node(b, n->l, large, err) != 0)
            return -1;
        return write_node(b, n->r, large, err);
    case ED2K_SEARCH_STRING:
        ed2k_write_u8(b, ED2K_SEARCH_STRING);
        return ed2k_write_string16(b, n->text, n->len, err);
    case ED2K_SEARCH_META:
        ed2k_write_u8(b, ED2K_SEARCH_META);
        if (ed2k_write_string16(b, n->text, n->len, err) != 0)
            return -1;
        write_tag_name(b, n);
        return 0;
    default: {
        /* Numeric: 64-bit only for values that need it and only to peers
         * with large files (aMule CSearchExprTarget). Otherwise aMule clamps
         * to 0xFFFFFFFF; we do that for upper bounds only, since a lower
         * bound of 4 GiB matches nothing on such a server. */
        uint64_t v = n->value;
        if (v > UINT32_MAX && large) {
            ed2k_write_u8(b, ED2K_SEARCH_NUM64);
            ed2k_write_u64(b, v);
        } else {
            if (v > UINT32_MAX) {
                if (n->op != ED2K_SEARCH_CMP_LT && n->op != ED2K_SEARCH_CMP_LE) {
                    mt_error_set(err, MT_ERR_UNSUPPORTED,
                                 "a lower bound of %" PRIu64
                                 " bytes needs a server with large-file support",
                                 v);
                    return -1;
                }
                v = UINT32_MAX;
            }
            ed2k_write_u8(b, ED2K_SEARCH_NUM32);
            ed2k_write_u32(b, (uint32_t)v);
        }
        ed2k_write_u8(b, n->op);
        write_tag_name(b, n);
        return 0;
    }
    }
}

int
ed2k_search_encode(const ed2k_search_t *s, struct evbuffer *out, bool large_files,
                   mt_error_t **err)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL)
        abort();
    int rc = write_node(b, ed2k_search_root(s), large_files, err);
    if (rc == 0 && evbuffer_add_buffer(out, b) != 0)
        abort();
    evbuffer_free(b);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Decoder */

static size_t
reader_pos(const ed2k_reader_t *r, size_t len)
{
    return len - ed2k_reader_remaining(r);
}

static int
tree_truncated(const ed2k_reader_t *r, size_t len, mt_error_t **err)
{
    mt_error_set(err, MT_ERR_PROTOCOL, "search tree: cut short at byte %zu", reader_pos(r, len));
    return -1;
}

static int
read_tag_name(ed2k_reader_t *r, size_t len, node_t *n, mt_error_t **err)
{
    const uint8_t *name;
    size_t nlen;
    if (ed2k_read_string16(r, &name, &nlen) != 0)
        return tree_truncated(r, len, err);
    if (nlen == 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "search tree: empty tag name before byte %zu",
                     reader_pos(r, len));
        return -1;
    }
    if (nlen == 1) {
        n->tag_id = name[0];
    } else {
        n->tag_name = xmemdup(name, nlen);
        n->tag_name_len = nlen;
    }
    return 0;
}

static node_t *
read_node(ed2k_reader_t *r, size_t len, int depth, mt_error_t **err)
{
    if (depth > ED2K_SEARCH_MAX_DEPTH) {
        mt_error_set(err, MT_ERR_PROTOCOL, "search tree: nested deeper than %d at byte %zu",
                     ED2K_SEARCH_MAX_DEPTH, reader_pos(r, len));
        return NULL;
    }
    size_t at = reader_pos(r, len);
    uint8_t kind;
    if (ed2k_read_u8(r, &kind) != 0) {
        tree_truncated(r, len, err);
        return NULL;
    }
    node_t *n = NULL;
    switch (kind) {
    case ED2K_SEARCH_BOOL: {
        uint8_t op;
        if (ed2k_read_u8(r, &op) != 0) {
            tree_truncated(r, len, err);
            return NULL;
        }
        if (op > ED2K_SEARCH_NOT) {
            mt_error_set(err, MT_ERR_PROTOCOL, "search tree: unknown operator 0x%02x at byte %zu",
                         op, at + 1);
            return NULL;
        }
        node_t *a = read_node(r, len, depth + 1, err);
        node_t *c = a != NULL ? read_node(r, len, depth + 1, err) : NULL;
        if (c == NULL) {
            ed2k_search_node_free(a);
            return NULL;
        }
        return ed2k_search_node_bool(op, a, c);
    }
    case ED2K_SEARCH_STRING:
    case ED2K_SEARCH_META: {
        const uint8_t *s;
        size_t slen;
        if (ed2k_read_string16(r, &s, &slen) != 0) {
            tree_truncated(r, len, err);
            return NULL;
        }
        n = ed2k_search_node_string(kind, (const char *)s, slen);
        if (kind == ED2K_SEARCH_META && read_tag_name(r, len, n, err) != 0) {
            ed2k_search_node_free(n);
            return NULL;
        }
        return n;
    }
    case ED2K_SEARCH_NUM32:
    case ED2K_SEARCH_NUM64: {
        n = ed2k_search_node_new(kind);
        int rc;
        if (kind == ED2K_SEARCH_NUM32) {
            uint32_t v;
            rc = ed2k_read_u32(r, &v);
            n->value = v;
        } else {
            rc = ed2k_read_u64(r, &n->value);
        }
        if (rc != 0 || ed2k_read_u8(r, &n->op) != 0) {
            ed2k_search_node_free(n);
            tree_truncated(r, len, err);
            return NULL;
        }
        if (n->op > ED2K_SEARCH_CMP_NE) {
            mt_error_set(err, MT_ERR_PROTOCOL,
                         "search tree: unknown comparison 0x%02x before byte %zu", n->op,
                         reader_pos(r, len));
            ed2k_search_node_free(n);
            return NULL;
        }
        if (read_tag_name(r, len, n, err) != 0) {
            ed2k_search_node_free(n);
            return NULL;
        }
        return n;
    }
    default:
        mt_error_set(err, MT_ERR_PROTOCOL, "search tree: unknown node type 0x%02x at byte %zu",
                     kind, at);
        return NULL;
    }
}

int
ed2k_search_tree_dump(const uint8_t *p, size_t len, char **text, mt_error_t **err)
{
    *text = NULL;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    node_t *root = read_node(&r, len, 1, err);
    if (root == NULL)
        return -1;
    if (ed2k_reader_remaining(&r) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "search tree: %zu bytes after the tree",
                     ed2k_reader_remaining(&r));
        ed2k_search_node_free(root);
        return -1;
    }
    *text = ed2k_search_node_to_string(root);
    ed2k_search_node_free(root);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Results */

/* Bidirectional embedding, override and isolate characters, used to make
 * "gpj.exe" display as "exe.jpg". */
static bool
is_bidi_control(uint32_t cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* cut_point: the largest cut <= max that does not split a character. */
static size_t
cut_point(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t cut = max;
    while (cut > 0 && ((uint8_t)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* strip_text: network text as UTF-8 (§0, ed2k_text_to_utf8) without
 * control or bidi characters, and with '/' and '\\' as '_' when slashes
 * is set: a new buffer (room for a NUL, not written) of *olen bytes. */
static char *
strip_text(const void *raw, size_t len, bool slashes, size_t *olen)
{
    size_t n;
    char *u = ed2k_text_to_utf8(raw, len, &n);
    char *out = xmalloc(n + 1);
    size_t o = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = mt_utf8_next((const uint8_t *)u + i, n - i, &cp);
        if (k == 0) {
            i++; /* cannot happen: ed2k_text_to_utf8 returns UTF-8 */
            continue;
        }
        if (slashes && (cp == '/' || cp == '\\'))
            out[o++] = '_';
        else if (!mt_utf8_is_control(cp) && !is_bidi_control(cp)) {
            memcpy(out + o, u + i, k);
            o += k;
        }
        i += k;
    }
    free(u);
    *olen = o;
    return out;
}

/* clean_text: network text for display fields: UTF-8 (§0), without control
 * or bidi characters, trimmed, at most MAX_FIELD_LEN bytes; NULL if
 * nothing is left. */
static char *
clean_text(const void *raw, size_t len)
{
    size_t o;
    char *out = strip_text(raw, len, false, &o);
    size_t start = 0;
    while (start < o && out[start] == ' ')
        start++;
    while (o > start && out[o - 1] == ' ')
        o--;
    size_t cut = cut_point(out + start, o - start, MAX_FIELD_LEN);
    if (cut == 0) {
        free(out);
        return NULL;
    }
    memmove(out, out + start, cut);
    out[cut] = '\0';
    return out;
}

static size_t
trim_name_end(const char *s, size_t len)
{
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '.'))
        len--;
    return len;
}

char *
ed2k_search_sanitize_name(const void *raw, size_t len)
{
    size_t o;
    char *s = strip_text(raw, len, true, &o);
    size_t start = 0;
    while (start < o && (s[start] == '.' || s[start] == ' '))
        start++;
    size_t end = trim_name_end(s + start, o - start);
    memmove(s, s + start, end);
    size_t nlen = end;
    if (nlen > MAX_NAME_LEN) {
        /* Keep a short extension so the cut name keeps its type. */
        const char *dot = NULL;
        for (size_t k = nlen; k-- > 1;) {
            if (s[k] == '.') {
                dot = s + k;
                break;
            }
            if (s[k] == ' ' || nlen - k > 16)
                break;
        }
        size_t ext = dot != NULL ? nlen - (size_t)(dot - s) : 0;
        size_t stem = trim_name_end(s, cut_point(s, nlen, MAX_NAME_LEN - ext));
        if (ext > 0 && stem > 0) {
            memmove(s + stem, dot, ext);
            nlen = stem + ext;
        } else {
            nlen = trim_name_end(s, cut_point(s, nlen, MAX_NAME_LEN));
        }
    }
    if (nlen == 0) {
        free(s);
        return xstrdup("unnamed");
    }
    s[nlen] = '\0';
    return s;
}

static const char *
filetype_name(uint64_t t)
{
    /* Integer FT_FILETYPE (§2.2), named as aMule names the types
     * (FileTags.h ED2KFTSTR_*). */
    static const char *const names[] = {
        NULL, "Audio", "Video", "Image", "Pro", "Doc", "Arc", "Iso",
    };
    return t < sizeof names / sizeof names[0] ? names[t] : NULL;
}

static uint32_t
clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* parse_length: a media length as text, "s", "m:s" or "h:m:s". */
static uint32_t
parse_length(const char *s, size_t len)
{
    uint64_t total = 0, part = 0;
    int fields = 1;
    bool digit = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            part = part * 10 + (uint64_t)(s[i] - '0');
            digit = true;
            if (part > UINT32_MAX)
                return 0;
        } else if (s[i] == ':' && digit && fields < 3) {
            total = (total + part) * 60;
            part = 0;
            digit = false;
            fields++;
        } else {
            return 0;
        }
    }
    if (!digit)
        return 0;
    return clamp32(total + part);
}

static char *
tag_clean_text(const ed2k_taglist_t *tags, uint8_t id)
{
    const char *s;
    size_t n;
    if (ed2k_taglist_get_str(tags, id, &s, &n) != 0)
        return NULL;
    return clean_text(s, n);
}

/* named_tag: the first tag with a string name equal to name, ignoring case
 * (eDonkeyHybrid's "Artist", "length", ...; §2.2). */
static const ed2k_tag_t *
named_tag(const ed2k_taglist_t *tags, const char *name)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < ed2k_taglist_count(tags); i++) {
        const ed2k_tag_t *t = ed2k_taglist_get(tags, i);
        if (t->name != NULL && t->name_len == nlen && strncasecmp(t->name, name, nlen) == 0)
            return t;
    }
    return NULL;
}

static void
named_text(const ed2k_taglist_t *tags, const char *name, char **field)
{
    const ed2k_tag_t *t;
    if (*field == NULL && (t = named_tag(tags, name)) != NULL && ed2k_tag_is_str(t))
        *field = clean_text(t->v.data, t->v.len);
}

static void
result_clear(ed2k_search_result_t *r)
{
    free(r->name);
    free(r->type);
    free(r->format);
    free(r->artist);
    free(r->album);
    free(r->title);
    free(r->codec);
    memset(r, 0, sizeof *r);
}

/* fill_result: the fields of a result from its tags (aMule SearchFile.cpp).
 * Returns whether the result is worth keeping: it has a name and a size. */
static bool
fill_result(ed2k_search_result_t *res, const ed2k_taglist_t *tags)
{
    const char *s;
    size_t n;
    uint64_t v;
    bool named = ed2k_taglist_get_str(tags, ED2K_FT_FILENAME, &s, &n) == 0 && n > 0;
    res->name = named ? ed2k_search_sanitize_name(s, n) : xstrdup("");
    if (ed2k_taglist_get_uint(tags, ED2K_FT_FILESIZE, &v) == 0) {
        res->size = v;
        uint64_t hi;
        if (ed2k_taglist_get_uint(tags, ED2K_FT_FILESIZE_HI, &hi) == 0)
            res->size = (hi & UINT32_MAX) << 32 | (v & UINT32_MAX);
    }
    if (ed2k_taglist_get_uint(tags, ED2K_FT_SOURCES, &v) == 0)
        res->sources = clamp32(v);
    if (ed2k_taglist_get_uint(tags, ED2K_FT_COMPLETE_SOURCES, &v) == 0)
        res->complete_sources = clamp32(v);
    if (ed2k_taglist_get_uint(tags, ED2K_FT_FILETYPE, &v) == 0) {
        const char *t = filetype_name(v);
        res->type = t != NULL ? xstrdup(t) : NULL;
    } else {
        res->type = tag_clean_text(tags, ED2K_FT_FILETYPE);
    }
    res->format = tag_clean_text(tags, ED2K_FT_FILEFORMAT);
    res->artist = tag_clean_text(tags, ED2K_FT_MEDIA_ARTIST);
    res->album = tag_clean_text(tags, ED2K_FT_MEDIA_ALBUM);
    res->title = tag_clean_text(tags, ED2K_FT_MEDIA_TITLE);
    res->codec = tag_clean_text(tags, ED2K_FT_MEDIA_CODEC);
    if (ed2k_taglist_get_uint(tags, ED2K_FT_MEDIA_LENGTH, &v) == 0)
        res->length = clamp32(v);
    if (ed2k_taglist_get_uint(tags, ED2K_FT_MEDIA_BITRATE, &v) == 0)
        res->bitrate = clamp32(v);
    named_text(tags, "Artist", &res->artist);
    named_text(tags, "Album", &res->album);
    named_text(tags, "Title", &res->title);
    named_text(tags, "codec", &res->codec);
    const ed2k_tag_t *t;
    if (res->length == 0 && (t = named_tag(tags, "length")) != NULL) {
        if (ed2k_tag_is_str(t))
            res->length = parse_length((const char *)t->v.data, t->v.len);
        else if (ed2k_tag_is_int(t))
            res->length = clamp32(t->v.u);
    }
    if (res->bitrate == 0 && (t = named_tag(tags, "bitrate")) != NULL && ed2k_tag_is_int(t))
        res->bitrate = clamp32(t->v.u);
    return named && res->size > 0;
}

bool
ed2k_search_result_from_tags(ed2k_search_result_t *res, const uint8_t hash[16],
                             const ed2k_taglist_t *tags)
{
    memset(res, 0, sizeof *res);
    memcpy(res->hash, hash, sizeof res->hash);
    return fill_result(res, tags);
}

void
ed2k_search_result_clear(ed2k_search_result_t *res)
{
    result_clear(res);
}

/* read_entry: one <hash><id><port><tags> entry. On error res is clear. */
static int
read_entry(ed2k_reader_t *r, ed2k_search_result_t *res, bool *keep, mt_error_t **err)
{
    memset(res, 0, sizeof *res);
    if (ed2k_read_hash16(r, res->hash) != 0 || ed2k_read_u32(r, &res->client_id) != 0 ||
        ed2k_read_u16(r, &res->port) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "entry is cut short");
        return -1;
    }
    /* aMule keeps a source only with both an id and a port. */
    if (res->client_id == 0 || res->port == 0) {
        res->client_id = 0;
        res->port = 0;
    }
    ed2k_taglist_t *tags;
    if (ed2k_taglist_read(r, ED2K_TAGCOUNT_U32, 0, &tags, err) != 0)
        return -1;
    *keep = fill_result(res, tags);
    ed2k_taglist_free(tags);
    return 0;
}

void
ed2k_search_results_free(ed2k_search_result_t *r, size_t n)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        result_clear(&r[i]);
    free(r);
}

int
ed2k_searchresult_decode(const uint8_t *p, size_t len, ed2k_search_result_t **results,
                         size_t *n, bool *more, mt_error_t **err)
{
    *results = NULL;
    *n = 0;
    if (more != NULL)
        *more = false;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    uint32_t count;
    if (ed2k_read_u32(&r, &count) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_SEARCHRESULT: payload is %zu bytes, too short",
                     len);
        return -1;
    }
    if (count > ed2k_reader_remaining(&r) / MIN_ENTRY_LEN) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_SEARCHRESULT: %" PRIu32
                     " results cannot fit in %zu bytes", count, len);
        return -1;
    }
    ed2k_search_result_t *arr = xcalloc(count > 0 ? count : 1, sizeof *arr);
    size_t kept = 0;
    for (uint32_t i = 0; i < count; i++) {
        bool keep = false;
        if (read_entry(&r, &arr[kept], &keep, err) != 0) {
            result_clear(&arr[kept]);
            ed2k_search_results_free(arr, kept);
            mt_error_prefix(err, "OP_SEARCHRESULT: result %" PRIu32 " of %" PRIu32, i + 1, count);
            return -1;
        }
        if (keep)
            kept++;
        else
            result_clear(&arr[kept]);
    }
    /* One trailing byte: 1 = more results (§3.5); aMule and eMule ignore
     * anything else after the entries. */
    uint8_t flag;
    if (ed2k_reader_remaining(&r) == 1 && ed2k_read_u8(&r, &flag) == 0 && more != NULL)
        *more = flag == 1;
    if (kept == 0) {
        free(arr);
        arr = NULL;
    }
    *results = arr;
    *n = kept;
    return 0;
}

int
ed2k_globsearchres_decode(const uint8_t *p, size_t len, ed2k_search_result_t **results,
                          size_t *n, mt_error_t **err)
{
    *results = NULL;
    *n = 0;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    ed2k_search_result_t *arr = NULL;
    size_t kept = 0, cap = 0, index = 0;
    for (;;) {
        index++;
        if (kept == cap) {
            cap = cap ? cap * 2 : 4;
            arr = xreallocarray(arr, cap, sizeof *arr);
        }
        bool keep = false;
        if (read_entry(&r, &arr[kept], &keep, err) != 0) {
            result_clear(&arr[kept]);
            ed2k_search_results_free(arr, kept);
            mt_error_prefix(err, "OP_GLOBSEARCHRES: result %zu", index);
            return -1;
        }
        if (keep)
            kept++;
        else
            result_clear(&arr[kept]);
        /* Another entry follows as "e3 99 <entry>" (aMule
         * ServerUDPSocket.cpp reads on while more than 2 bytes remain and
         * stops at anything else). */
        const uint8_t *next;
        if (ed2k_reader_remaining(&r) <= 2 || ed2k_read_ptr(&r, 2, &next) != 0 ||
            next[0] != ED2K_PROTO_EDONKEY || next[1] != ED2K_SOP_GLOBSEARCHRES)
            break;
    }
    if (kept == 0) {
        free(arr);
        arr = NULL;
    }
    *results = arr;
    *n = kept;
    return 0;
}

static void
add_text(ed2k_taglist_t *tags, uint8_t id, const char *s)
{
    if (s == NULL)
        return;
    size_t len = strlen(s);
    ed2k_taglist_add_str(tags, id, s, len > 65535 ? 65535 : len);
}

void
ed2k_searchresult_entry_encode(struct evbuffer *out, const ed2k_search_result_t *r,
                               bool compact_tags)
{
    ed2k_write_hash16(out, r->hash);
    ed2k_write_u32(out, r->client_id);
    ed2k_write_u16(out, r->port);
    ed2k_taglist_t *tags = ed2k_taglist_new();
    add_text(tags, ED2K_FT_FILENAME, r->name);
    ed2k_taglist_add_uint(tags, ED2K_FT_FILESIZE, ED2K_TAG_UINT32, r->size & UINT32_MAX);
    if (r->size > UINT32_MAX)
        ed2k_taglist_add_uint(tags, ED2K_FT_FILESIZE_HI, ED2K_TAG_UINT32, r->size >> 32);
    ed2k_taglist_add_uint(tags, ED2K_FT_SOURCES, ED2K_TAG_UINT32, r->sources);
    ed2k_taglist_add_uint(tags, ED2K_FT_COMPLETE_SOURCES, ED2K_TAG_UINT32, r->complete_sources);
    add_text(tags, ED2K_FT_FILETYPE, r->type);
    add_text(tags, ED2K_FT_FILEFORMAT, r->format);
    add_text(tags, ED2K_FT_MEDIA_ARTIST, r->artist);
    add_text(tags, ED2K_FT_MEDIA_ALBUM, r->album);
    add_text(tags, ED2K_FT_MEDIA_TITLE, r->title);
    add_text(tags, ED2K_FT_MEDIA_CODEC, r->codec);
    if (r->length > 0)
        ed2k_taglist_add_uint(tags, ED2K_FT_MEDIA_LENGTH, ED2K_TAG_UINT32, r->length);
    if (r->bitrate > 0)
        ed2k_taglist_add_uint(tags, ED2K_FT_MEDIA_BITRATE, ED2K_TAG_UINT32, r->bitrate);
    /* Cannot fail: fewer than 2^32 tags, strings cut to 65535 bytes. */
    ed2k_taglist_write(out, tags, ED2K_TAGCOUNT_U32,
                       compact_tags ? ED2K_TAGFORM_COMPACT : ED2K_TAGFORM_CLASSIC, NULL);
    ed2k_taglist_free(tags);
}
