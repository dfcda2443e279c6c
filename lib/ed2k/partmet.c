/* partmet.c: reading aMule's and eMule's .part.met and known.met
 * (partmet.h): a hash set and a tag list per record, every length bounded. */
#include "config.h"

#include "ed2k/partmet.h"

#include <stdlib.h>
#include <string.h>

#include "ed2k/c2s.h"
#include "ed2k/hash.h"
#include "ed2k/packet.h"
#include "ed2k/tag.h"
#include "util/xalloc.h"

void
ed2k_file_record_clear(ed2k_file_record_t *r)
{
    if (r == NULL)
        return;
    free(r->part_hashes);
    free(r->name);
    free(r->part_name);
    free(r->gaps);
    memset(r, 0, sizeof *r);
    r->dl_priority = -1;
}

void
ed2k_file_records_free(ed2k_file_record_t *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        ed2k_file_record_clear(&v[i]);
    free(v);
}

/* read_hashset: <hash 16><u16 count><count x hash 16>, as both files hold
 * it (the count is bounded by what remains). */
static int
read_hashset(ed2k_reader_t *r, ed2k_file_record_t *out)
{
    uint16_t n;
    if (ed2k_read_hash16(r, out->hash) != 0 || ed2k_read_u16(r, &n) != 0 ||
        ed2k_reader_remaining(r) / 16 < n)
        return -1;
    if (n > 0) {
        out->part_hashes = xcalloc(n, 16);
        for (size_t i = 0; i < n; i++)
            ed2k_read_hash16(r, out->part_hashes[i]);
    }
    out->n_part_hashes = n;
    return 0;
}

static char *
str_copy(const ed2k_tag_t *t)
{
    size_t n = strnlen((const char *)t->v.data, t->v.len);
    char *s = xmalloc(n + 1);
    memcpy(s, t->v.data, n);
    s[n] = '\0';
    return s;
}

/* A gap half: its number (from the name after the id byte) and value. */
typedef struct {
    uint32_t idx;
    uint64_t value;
} gap_half_t;

static int
cmp_half(const void *a, const void *b)
{
    const gap_half_t *x = a, *y = b;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int
cmp_gap(const void *a, const void *b)
{
    const ed2k_gap_t *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* gap_index: the decimal number after the first byte of a gap tag's name
 * (1 to 9 digits), or -1. */
static long
gap_index(const ed2k_tag_t *t)
{
    if (t->name_len < 2 || t->name_len > 10)
        return -1;
    long v = 0;
    for (size_t i = 1; i < t->name_len; i++) {
        if (t->name[i] < '0' || t->name[i] > '9')
            return -1;
        v = v * 10 + (t->name[i] - '0');
    }
    return v;
}

/* collect_gaps: pairs starts and ends by number; sorts, clips to the size
 * and merges what overlaps. */
static void
collect_gaps(const ed2k_taglist_t *l, ed2k_file_record_t *out)
{
    size_t n = ed2k_taglist_count(l), ns = 0, ne = 0;
    gap_half_t *st = xcalloc(n ? n : 1, sizeof *st), *en = xcalloc(n ? n : 1, sizeof *en);
    for (size_t i = 0; i < n; i++) {
        const ed2k_tag_t *t = ed2k_taglist_get(l, i);
        long idx;
        if (t->name == NULL || !ed2k_tag_is_int(t) || (idx = gap_index(t)) < 0)
            continue;
        if ((uint8_t)t->name[0] == ED2K_FT_GAPSTART)
            st[ns++] = (gap_half_t){ (uint32_t)idx, t->v.u };
        else if ((uint8_t)t->name[0] == ED2K_FT_GAPEND)
            en[ne++] = (gap_half_t){ (uint32_t)idx, t->v.u };
    }
    qsort(st, ns, sizeof *st, cmp_half);
    qsort(en, ne, sizeof *en, cmp_half);
    ed2k_gap_t *g = xcalloc(ns ? ns : 1, sizeof *g);
    size_t ng = 0;
    for (size_t i = 0, j = 0; i < ns && j < ne;) {
        if (st[i].idx < en[j].idx) {
            i++;
        } else if (st[i].idx > en[j].idx) {
            j++;
        } else {
            uint64_t a = st[i].value, b = en[j].value < out->size ? en[j].value : out->size;
            if (a < b)
                g[ng++] = (ed2k_gap_t){ a, b };
            /* a repeated number: the first of each half counts */
            uint32_t k = st[i].idx;
            while (i < ns && st[i].idx == k)
                i++;
            while (j < ne && en[j].idx == k)
                j++;
        }
    }
    free(st);
    free(en);
    qsort(g, ng, sizeof *g, cmp_gap);
    size_t m = 0;
    for (size_t i = 0; i < ng; i++) {
        if (m > 0 && g[i].start <= g[m - 1].end) {
            if (g[i].end > g[m - 1].end)
                g[m - 1].end = g[i].end;
        } else {
            g[m++] = g[i];
        }
    }
    out->gaps = g;
    out->n_gaps = m;
}

/* apply_tags: the tags both files share, then (with_gaps) a download's. */
static void
apply_tags(const ed2k_taglist_t *l, ed2k_file_record_t *out, bool with_gaps)
{
    const ed2k_tag_t *t;
    uint64_t v;
    if ((t = ed2k_taglist_find_id(l, ED2K_FT_FILENAME)) != NULL && ed2k_tag_is_str(t))
        out->name = str_copy(t);
    if (ed2k_taglist_get_uint(l, ED2K_FT_FILESIZE, &v) == 0) {
        out->size = v;
        if (ed2k_taglist_get_uint(l, ED2K_FT_FILESIZE_HI, &v) == 0 && v <= UINT32_MAX)
            out->size = (out->size & 0xffffffffu) | (v << 32);
    }
    if (ed2k_taglist_get_uint(l, ED2K_FT_TRANSFERRED, &v) == 0)
        out->transferred = v;
    if ((t = ed2k_taglist_find_id(l, ED2K_FT_AICH_HASH)) != NULL && ed2k_tag_is_str(t))
        out->has_aich =
            ed2k_aich_from_base32((const char *)t->v.data, t->v.len, out->aich) == 0;
    if (!with_gaps)
        return;
    if ((t = ed2k_taglist_find_id(l, ED2K_FT_PARTFILENAME)) != NULL && ed2k_tag_is_str(t))
        out->part_name = str_copy(t);
    if (ed2k_taglist_get_uint(l, ED2K_FT_CATEGORY, &v) == 0 && v <= UINT32_MAX)
        out->category = (uint32_t)v;
    if (ed2k_taglist_get_uint(l, ED2K_FT_DLPRIORITY, &v) == 0 && v <= ED2K_PRIO_AUTO)
        out->dl_priority = (int)v;
    if (ed2k_taglist_get_uint(l, ED2K_FT_STATUS, &v) == 0 && v <= UINT32_MAX)
        out->status = (uint32_t)v;
    collect_gaps(l, out);
}

static bool
record_is_valid(const ed2k_file_record_t *r)
{
    return r->name != NULL && r->name[0] != '\0' && r->size > 0 &&
           r->size <= ED2K_MAX_FILE_SIZE;
}

/* read_record: <date u32><hash set><tag list>; with_gaps for a part.met. */
static int
read_record(ed2k_reader_t *r, ed2k_file_record_t *out, bool with_gaps)
{
    ed2k_taglist_t *l = NULL;
    if (ed2k_read_u32(r, &out->date) != 0 || read_hashset(r, out) != 0 ||
        ed2k_taglist_read(r, ED2K_TAGCOUNT_U32, ED2K_PARTMET_MAX_TAGS, &l, NULL) != 0)
        return -1;
    apply_tags(l, out, with_gaps);
    ed2k_taglist_free(l);
    return 0;
}

int
ed2k_partmet_parse(const uint8_t *p, size_t len, ed2k_file_record_t *out, mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    out->dl_priority = -1;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    if (ed2k_read_u8(&r, &out->version) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "part.met: empty");
        return -1;
    }
    if (out->version != ED2K_PARTMET_VERSION && out->version != ED2K_PARTMET_VERSION_LARGE) {
        mt_error_set(err, MT_ERR_UNSUPPORTED, "part.met: version 0x%02x is not read",
                     out->version);
        return -1;
    }
    if (read_record(&r, out, true) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "part.met: truncated or damaged");
        return -1;
    }
    if (!record_is_valid(out)) {
        mt_error_set(err, MT_ERR_INVALID, "part.met: no name, or a size out of range");
        return -1;
    }
    return 0;
}

int
ed2k_knownmet_parse(const uint8_t *p, size_t len, ed2k_file_record_t **out, size_t *n,
                    bool *truncated, mt_error_t **err)
{
    *out = NULL;
    *n = 0;
    if (truncated != NULL)
        *truncated = false;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    uint8_t version;
    uint32_t count;
    if (ed2k_read_u8(&r, &version) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "known.met: shorter than its header");
        return -1;
    }
    if (version != ED2K_KNOWNMET_VERSION && version != ED2K_KNOWNMET_VERSION_I64) {
        mt_error_set(err, MT_ERR_UNSUPPORTED, "known.met: version 0x%02x is not read", version);
        return -1;
    }
    if (ed2k_read_u32(&r, &count) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "known.met: shorter than its header");
        return -1;
    }
    /* A record is at least 26 bytes: never allocate what the count claims. */
    size_t cap = ed2k_reader_remaining(&r) / 26;
    if (cap > count)
        cap = count;
    if (cap > ED2K_KNOWNMET_MAX_FILES)
        cap = ED2K_KNOWNMET_MAX_FILES;
    ed2k_file_record_t *v = xcalloc(cap ? cap : 1, sizeof *v);
    size_t k = 0;
    for (uint32_t i = 0; i < count && k < cap; i++) {
        ed2k_file_record_t rec = { .version = version, .dl_priority = -1 };
        if (read_record(&r, &rec, false) != 0) {
            ed2k_file_record_clear(&rec);
            if (truncated != NULL)
                *truncated = true;
            break;
        }
        if (record_is_valid(&rec))
            v[k++] = rec;
        else
            ed2k_file_record_clear(&rec);
    }
    *out = v;
    *n = k;
    return 0;
}
