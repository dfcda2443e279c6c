/* tag.c: the tag-list codec: bounded reading of both tag forms (§2.1),
 * classic and compact writing, building and lookup. */
#include "config.h"

#include "ed2k/tag.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct ed2k_taglist {
    ed2k_tag_t *tags;
    size_t n, cap;
};

ed2k_taglist_t *
ed2k_taglist_new(void)
{
    return xcalloc(1, sizeof(ed2k_taglist_t));
}

static void
tag_clear(ed2k_tag_t *t)
{
    free(t->name);
    free(t->v.data);
}

void
ed2k_taglist_free(ed2k_taglist_t *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        tag_clear(&l->tags[i]);
    free(l->tags);
    free(l);
}

size_t
ed2k_taglist_count(const ed2k_taglist_t *l)
{
    return l->n;
}

const ed2k_tag_t *
ed2k_taglist_get(const ed2k_taglist_t *l, size_t i)
{
    return i < l->n ? &l->tags[i] : NULL;
}

const ed2k_tag_t *
ed2k_taglist_find_id(const ed2k_taglist_t *l, uint8_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->tags[i].name == NULL && l->tags[i].id == id)
            return &l->tags[i];
    return NULL;
}

const ed2k_tag_t *
ed2k_taglist_find_name(const ed2k_taglist_t *l, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < l->n; i++) {
        const ed2k_tag_t *t = &l->tags[i];
        if (t->name != NULL && t->name_len == len && memcmp(t->name, name, len) == 0)
            return t;
    }
    return NULL;
}

bool
ed2k_tag_is_int(const ed2k_tag_t *t)
{
    return t->type == ED2K_TAG_UINT8 || t->type == ED2K_TAG_UINT16
        || t->type == ED2K_TAG_UINT32 || t->type == ED2K_TAG_UINT64;
}

bool
ed2k_tag_is_str(const ed2k_tag_t *t)
{
    return t->type == ED2K_TAG_STRING;
}

int
ed2k_taglist_get_uint(const ed2k_taglist_t *l, uint8_t id, uint64_t *v)
{
    const ed2k_tag_t *t = ed2k_taglist_find_id(l, id);
    if (t == NULL || !ed2k_tag_is_int(t))
        return -1;
    *v = t->v.u;
    return 0;
}

int
ed2k_taglist_get_str(const ed2k_taglist_t *l, uint8_t id, const char **s, size_t *len)
{
    const ed2k_tag_t *t = ed2k_taglist_find_id(l, id);
    if (t == NULL || !ed2k_tag_is_str(t))
        return -1;
    *s = (const char *)t->v.data;
    if (len != NULL)
        *len = t->v.len;
    return 0;
}

/* Building. */

static ed2k_tag_t *
push(ed2k_taglist_t *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->tags = xreallocarray(l->tags, l->cap, sizeof *l->tags);
    }
    ed2k_tag_t *t = &l->tags[l->n++];
    memset(t, 0, sizeof *t);
    return t;
}

/* dup_bytes: a copy with a NUL after it, so strings double as C strings. */
static uint8_t *
dup_bytes(const void *d, size_t len)
{
    uint8_t *p = xmalloc(len + 1);
    if (len > 0)
        memcpy(p, d, len);
    p[len] = 0;
    return p;
}

static int
int_width(uint8_t type)
{
    switch (type) {
    case ED2K_TAG_UINT8:
        return 1;
    case ED2K_TAG_UINT16:
        return 2;
    case ED2K_TAG_UINT32:
        return 4;
    case ED2K_TAG_UINT64:
        return 8;
    default:
        return 0;
    }
}

static uint8_t
smallest_int_type(uint64_t v)
{
    if (v <= UINT8_MAX)
        return ED2K_TAG_UINT8;
    if (v <= UINT16_MAX)
        return ED2K_TAG_UINT16;
    if (v <= UINT32_MAX)
        return ED2K_TAG_UINT32;
    return ED2K_TAG_UINT64;
}

/* fit_int_type: type if it holds v, else the smallest type that does. */
static uint8_t
fit_int_type(uint8_t type, uint64_t v)
{
    uint8_t need = smallest_int_type(v);
    if (int_width(type) == 0 || int_width(type) < int_width(need))
        return need;
    return type;
}

static void
set_name(ed2k_tag_t *t, const char *name)
{
    size_t len = strlen(name);
    if (len == 1) {
        /* A 1-byte name is an id on the wire (§2.1); keep it one here. */
        t->id = (uint8_t)name[0];
        return;
    }
    t->name = (char *)dup_bytes(name, len);
    t->name_len = len;
}

void
ed2k_taglist_add_uint(ed2k_taglist_t *l, uint8_t id, uint8_t type, uint64_t v)
{
    ed2k_tag_t *t = push(l);
    t->id = id;
    t->type = fit_int_type(type, v);
    t->v.u = v;
}

void
ed2k_taglist_add_str(ed2k_taglist_t *l, uint8_t id, const void *s, size_t len)
{
    ed2k_tag_t *t = push(l);
    t->id = id;
    t->type = ED2K_TAG_STRING;
    t->v.data = dup_bytes(s, len);
    t->v.len = len;
}

void
ed2k_taglist_add_hash(ed2k_taglist_t *l, uint8_t id, const uint8_t h[16])
{
    ed2k_tag_t *t = push(l);
    t->id = id;
    t->type = ED2K_TAG_HASH16;
    memcpy(t->v.hash, h, 16);
}

void
ed2k_taglist_add_float(ed2k_taglist_t *l, uint8_t id, float f)
{
    ed2k_tag_t *t = push(l);
    t->id = id;
    t->type = ED2K_TAG_FLOAT32;
    t->v.f = f;
}

void
ed2k_taglist_add_blob(ed2k_taglist_t *l, uint8_t id, const void *d, size_t len)
{
    ed2k_tag_t *t = push(l);
    t->id = id;
    t->type = ED2K_TAG_BLOB;
    t->v.data = dup_bytes(d, len);
    t->v.len = len;
}

void
ed2k_taglist_add_bsob(ed2k_taglist_t *l, uint8_t id, const void *d, size_t len)
{
    ed2k_taglist_add_blob(l, id, d, len);
    l->tags[l->n - 1].type = ED2K_TAG_BSOB;
}

void
ed2k_taglist_add_named_uint(ed2k_taglist_t *l, const char *name, uint8_t type, uint64_t v)
{
    ed2k_taglist_add_uint(l, 0, type, v);
    set_name(&l->tags[l->n - 1], name);
}

void
ed2k_taglist_add_named_str(ed2k_taglist_t *l, const char *name, const void *s, size_t len)
{
    ed2k_taglist_add_str(l, 0, s, len);
    set_name(&l->tags[l->n - 1], name);
}

void
ed2k_taglist_add_copy(ed2k_taglist_t *l, const ed2k_tag_t *src)
{
    ed2k_tag_t *t = push(l);
    *t = *src;
    t->name = src->name ? (char *)dup_bytes(src->name, src->name_len) : NULL;
    t->v.data = src->v.data ? dup_bytes(src->v.data, src->v.len) : NULL;
}

bool
ed2k_tag_equal(const ed2k_tag_t *a, const ed2k_tag_t *b)
{
    if ((a->name == NULL) != (b->name == NULL))
        return false;
    if (a->name == NULL) {
        if (a->id != b->id)
            return false;
    } else if (a->name_len != b->name_len || memcmp(a->name, b->name, a->name_len) != 0) {
        return false;
    }
    if (ed2k_tag_is_int(a) || ed2k_tag_is_int(b))
        return ed2k_tag_is_int(a) && ed2k_tag_is_int(b) && a->v.u == b->v.u;
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case ED2K_TAG_HASH16:
        return memcmp(a->v.hash, b->v.hash, 16) == 0;
    case ED2K_TAG_FLOAT32:
        return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
    case ED2K_TAG_BOOL:
        return a->v.u == b->v.u;
    case ED2K_TAG_BOOLARRAY:
        if (a->v.bits != b->v.bits)
            return false;
        /* fall through */
    default:
        return a->v.len == b->v.len
            && (a->v.len == 0 || memcmp(a->v.data, b->v.data, a->v.len) == 0);
    }
}

bool
ed2k_taglist_equal(const ed2k_taglist_t *a, const ed2k_taglist_t *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!ed2k_tag_equal(&a->tags[i], &b->tags[i]))
            return false;
    return true;
}

/* Reading. */

static int
truncated(mt_error_t **err, size_t idx, const char *what)
{
    mt_error_set(err, MT_ERR_PROTOCOL, "tag %zu: truncated %s", idx, what);
    return -1;
}

static int
read_data(ed2k_reader_t *r, size_t n, ed2k_tag_t *t)
{
    const uint8_t *p;
    if (ed2k_read_ptr(r, n, &p) < 0)
        return -1;
    t->v.data = dup_bytes(p, n);
    t->v.len = n;
    return 0;
}

static int
read_tag(ed2k_reader_t *r, size_t idx, ed2k_tag_t *t, mt_error_t **err)
{
    uint8_t type;
    if (ed2k_read_u8(r, &type) < 0)
        return truncated(err, idx, "type");
    if (type & 0x80) {
        type &= 0x7F;
        if (ed2k_read_u8(r, &t->id) < 0)
            return truncated(err, idx, "id");
    } else {
        const uint8_t *name;
        size_t nlen;
        if (ed2k_read_string16(r, &name, &nlen) < 0)
            return truncated(err, idx, "name");
        if (nlen == 1) {
            t->id = name[0];
        } else {
            t->name = (char *)dup_bytes(name, nlen);
            t->name_len = nlen;
        }
    }
    t->type = type;
    switch (type) {
    case ED2K_TAG_HASH16:
        if (ed2k_read_hash16(r, t->v.hash) < 0)
            return truncated(err, idx, "hash");
        return 0;
    case ED2K_TAG_STRING: {
        uint16_t n;
        if (ed2k_read_u16(r, &n) < 0 || read_data(r, n, t) < 0)
            return truncated(err, idx, "string");
        return 0;
    }
    case ED2K_TAG_UINT32: {
        uint32_t v;
        if (ed2k_read_u32(r, &v) < 0)
            return truncated(err, idx, "integer");
        t->v.u = v;
        return 0;
    }
    case ED2K_TAG_FLOAT32:
        if (ed2k_read_float(r, &t->v.f) < 0)
            return truncated(err, idx, "float");
        return 0;
    case ED2K_TAG_BOOL: {
        /* Obsolete; aMule reads the byte and ignores the tag's value. */
        uint8_t v;
        if (ed2k_read_u8(r, &v) < 0)
            return truncated(err, idx, "bool");
        t->v.u = v;
        return 0;
    }
    case ED2K_TAG_BOOLARRAY: {
        /* Obsolete; aMule skips bits/8 + 1 bytes (Tag.cpp, off by one for
         * multiples of 8 but that is what is on the wire). */
        if (ed2k_read_u16(r, &t->v.bits) < 0 || read_data(r, t->v.bits / 8 + 1, t) < 0)
            return truncated(err, idx, "bool array");
        return 0;
    }
    case ED2K_TAG_BLOB: {
        uint32_t n;
        /* The length is checked against what remains before allocating. */
        if (ed2k_read_u32(r, &n) < 0 || read_data(r, n, t) < 0)
            return truncated(err, idx, "blob");
        return 0;
    }
    case ED2K_TAG_UINT16: {
        uint16_t v;
        if (ed2k_read_u16(r, &v) < 0)
            return truncated(err, idx, "integer");
        t->v.u = v;
        return 0;
    }
    case ED2K_TAG_UINT8: {
        uint8_t v;
        if (ed2k_read_u8(r, &v) < 0)
            return truncated(err, idx, "integer");
        t->v.u = v;
        return 0;
    }
    case ED2K_TAG_BSOB: {
        uint8_t n;
        if (ed2k_read_u8(r, &n) < 0 || read_data(r, n, t) < 0)
            return truncated(err, idx, "bsob");
        return 0;
    }
    case ED2K_TAG_UINT64:
        if (ed2k_read_u64(r, &t->v.u) < 0)
            return truncated(err, idx, "integer");
        return 0;
    default:
        if (type >= ED2K_TAG_STR1 && type <= ED2K_TAG_STR16) {
            t->type = ED2K_TAG_STRING;
            if (read_data(r, (size_t)(type - ED2K_TAG_STR1 + 1), t) < 0)
                return truncated(err, idx, "string");
            return 0;
        }
        /* No length to skip by: the rest of the input is lost (§2.1). */
        mt_error_set(err, MT_ERR_PROTOCOL, "tag %zu: unknown tag type 0x%02x", idx, type);
        return -1;
    }
}

int
ed2k_taglist_read(ed2k_reader_t *r, ed2k_tagcount_t count, size_t max_tags,
                  ed2k_taglist_t **out, mt_error_t **err)
{
    uint32_t n;
    if (count == ED2K_TAGCOUNT_U8) {
        uint8_t n8;
        if (ed2k_read_u8(r, &n8) < 0) {
            mt_error_set(err, MT_ERR_PROTOCOL, "truncated tag count");
            return -1;
        }
        n = n8;
    } else if (ed2k_read_u32(r, &n) < 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "truncated tag count");
        return -1;
    }
    if (max_tags == 0)
        max_tags = ED2K_TAGLIST_MAX_DEFAULT;
    if (n > max_tags) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "tag count %lu exceeds the limit of %zu",
                     (unsigned long)n, max_tags);
        return -1;
    }
    /* Every tag takes at least 3 bytes: don't trust the count further. */
    if (n > ed2k_reader_remaining(r) / 3) {
        mt_error_set(err, MT_ERR_PROTOCOL, "tag count %lu does not fit in %zu bytes",
                     (unsigned long)n, ed2k_reader_remaining(r));
        return -1;
    }
    ed2k_taglist_t *l = ed2k_taglist_new();
    for (uint32_t i = 0; i < n; i++) {
        ed2k_tag_t *t = push(l);
        if (read_tag(r, i, t, err) < 0) {
            ed2k_taglist_free(l);
            return -1;
        }
    }
    *out = l;
    return 0;
}

/* Writing. */

static int
check_writable(const ed2k_taglist_t *l, ed2k_tagcount_t count, mt_error_t **err)
{
    if (count == ED2K_TAGCOUNT_U8 ? l->n > UINT8_MAX : l->n > UINT32_MAX) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "%zu tags do not fit the tag count", l->n);
        return -1;
    }
    for (size_t i = 0; i < l->n; i++) {
        const ed2k_tag_t *t = &l->tags[i];
        if (t->name != NULL && t->name_len > UINT16_MAX) {
            mt_error_set(err, MT_ERR_TOO_LARGE, "tag %zu: name is too long", i);
            return -1;
        }
        size_t max;
        switch (t->type) {
        case ED2K_TAG_STRING:
            max = UINT16_MAX;
            break;
        case ED2K_TAG_BSOB:
            max = UINT8_MAX;
            break;
        case ED2K_TAG_BLOB:
            max = UINT32_MAX;
            break;
        case ED2K_TAG_BOOLARRAY:
            if (t->v.len != (size_t)t->v.bits / 8 + 1) {
                mt_error_set(err, MT_ERR_INVALID, "tag %zu: bool array length mismatch", i);
                return -1;
            }
            continue;
        case ED2K_TAG_HASH16:
        case ED2K_TAG_FLOAT32:
        case ED2K_TAG_BOOL:
        case ED2K_TAG_UINT8:
        case ED2K_TAG_UINT16:
        case ED2K_TAG_UINT32:
        case ED2K_TAG_UINT64:
            continue;
        default:
            mt_error_set(err, MT_ERR_INVALID, "tag %zu: cannot write tag type 0x%02x", i, t->type);
            return -1;
        }
        if (t->v.len > max) {
            mt_error_set(err, MT_ERR_TOO_LARGE, "tag %zu: value of %zu bytes is too long", i,
                         t->v.len);
            return -1;
        }
    }
    return 0;
}

static void
write_tag(struct evbuffer *out, const ed2k_tag_t *t, ed2k_tagform_t form)
{
    bool compact = form == ED2K_TAGFORM_COMPACT && t->name == NULL;
    uint8_t type = t->type;
    if (ed2k_tag_is_int(t))
        type = compact ? smallest_int_type(t->v.u) : fit_int_type(type, t->v.u);
    else if (compact && type == ED2K_TAG_STRING && t->v.len >= 1 && t->v.len <= 16)
        type = (uint8_t)(ED2K_TAG_STR1 + t->v.len - 1);

    if (compact) {
        ed2k_write_u8(out, type | 0x80);
        ed2k_write_u8(out, t->id);
    } else {
        ed2k_write_u8(out, type);
        if (t->name != NULL) {
            ed2k_write_u16(out, (uint16_t)t->name_len);
            ed2k_write_bytes(out, t->name, t->name_len);
        } else {
            ed2k_write_u16(out, 1);
            ed2k_write_u8(out, t->id);
        }
    }
    switch (type) {
    case ED2K_TAG_HASH16:
        ed2k_write_hash16(out, t->v.hash);
        break;
    case ED2K_TAG_STRING:
        ed2k_write_u16(out, (uint16_t)t->v.len);
        ed2k_write_bytes(out, t->v.data, t->v.len);
        break;
    case ED2K_TAG_UINT32:
        ed2k_write_u32(out, (uint32_t)t->v.u);
        break;
    case ED2K_TAG_FLOAT32:
        ed2k_write_float(out, t->v.f);
        break;
    case ED2K_TAG_BOOL:
        ed2k_write_u8(out, (uint8_t)t->v.u);
        break;
    case ED2K_TAG_BOOLARRAY:
        ed2k_write_u16(out, t->v.bits);
        ed2k_write_bytes(out, t->v.data, t->v.len);
        break;
    case ED2K_TAG_BLOB:
        ed2k_write_u32(out, (uint32_t)t->v.len);
        ed2k_write_bytes(out, t->v.data, t->v.len);
        break;
    case ED2K_TAG_UINT16:
        ed2k_write_u16(out, (uint16_t)t->v.u);
        break;
    case ED2K_TAG_UINT8:
        ed2k_write_u8(out, (uint8_t)t->v.u);
        break;
    case ED2K_TAG_BSOB:
        ed2k_write_u8(out, (uint8_t)t->v.len);
        ed2k_write_bytes(out, t->v.data, t->v.len);
        break;
    case ED2K_TAG_UINT64:
        ed2k_write_u64(out, t->v.u);
        break;
    default: /* STR1..STR16 */
        ed2k_write_bytes(out, t->v.data, t->v.len);
        break;
    }
}

int
ed2k_taglist_write(struct evbuffer *out, const ed2k_taglist_t *l, ed2k_tagcount_t count,
                   ed2k_tagform_t form, mt_error_t **err)
{
    if (check_writable(l, count, err) < 0)
        return -1;
    if (count == ED2K_TAGCOUNT_U8)
        ed2k_write_u8(out, (uint8_t)l->n);
    else
        ed2k_write_u32(out, (uint32_t)l->n);
    for (size_t i = 0; i < l->n; i++)
        write_tag(out, &l->tags[i], form);
    return 0;
}
