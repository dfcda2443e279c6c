/* ipfilter.c: reads eMule/aMule ipfilter.dat and PeerGuardian .p2p lists
 * into one sorted array of disjoint ranges, looked up by binary search.
 *
 * 8 bytes per kept range: 500,000 ranges take 4 MB once merged. A zip is
 * read with zlib's raw inflate from its central directory rather than a zip
 * library: a filter list is one member, stored or deflated, and zlib is
 * already linked; only the first file member is read. */
#include "config.h"

#include "util/ipfilter.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/xalloc.h"

typedef struct {
    uint32_t start, end;
} ipf_range_t;

struct ipfilter {
    ipf_range_t *r; /* sorted by start, disjoint, not adjacent */
    size_t n;
    size_t lines;   /* ranges read, whatever their level */
    size_t bad;     /* lines skipped as bad */
};

/* ------------------------------------------------------------- parsing */

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int
ipfilter_parse_ip(const char *s, size_t len, uint32_t *ip)
{
    uint32_t v = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return -1;
            i++;
        }
        size_t digits = 0;
        unsigned octet = 0;
        while (i < len && is_digit(s[i])) {
            if (++digits > 3)
                return -1;
            octet = octet * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (digits == 0 || octet > 255)
            return -1;
        v = (v << 8) | octet;
    }
    if (i != len)
        return -1;
    *ip = v;
    return 0;
}

/* A cursor over one line. */
typedef struct {
    const char *p, *end;
} cur_t;

static void
skip_ws(cur_t *c)
{
    while (c->p < c->end && is_space(*c->p))
        c->p++;
}

/* read_ip: optional blanks, a dotted quad, optional blanks. */
static int
read_ip(cur_t *c, uint32_t *ip)
{
    skip_ws(c);
    const char *b = c->p;
    while (c->p < c->end && (is_digit(*c->p) || *c->p == '.'))
        c->p++;
    if (ipfilter_parse_ip(b, (size_t)(c->p - b), ip) != 0)
        return -1;
    skip_ws(c);
    return 0;
}

/* read_range: "start - end" with blanks allowed around the dash. */
static int
read_range(cur_t *c, uint32_t *start, uint32_t *end)
{
    if (read_ip(c, start) != 0 || c->p == c->end || *c->p != '-')
        return -1;
    c->p++;
    return read_ip(c, end);
}

/* parse_dat: "start - end , level [, description]"; a bare "start - end"
 * has no level and blocks at any filter level. */
static int
parse_dat(const char *b, const char *e, uint32_t *start, uint32_t *end, int *level)
{
    cur_t c = { b, e };
    if (read_range(&c, start, end) != 0)
        return -1;
    if (c.p == c.end) {
        *level = 0;
        return 0;
    }
    if (*c.p != ',')
        return -1;
    c.p++;
    skip_ws(&c);
    int v = 0, digits = 0;
    while (c.p < c.end && is_digit(*c.p)) {
        if (++digits > 5)
            return -1;
        v = v * 10 + (*c.p - '0');
        c.p++;
    }
    skip_ws(&c);
    if (digits == 0 || (c.p < c.end && *c.p != ','))
        return -1;
    *level = v;
    return 0;
}

/* parse_p2p: "description:start-end"; the description may hold ':' so the
 * last one separates. */
static int
parse_p2p(const char *b, const char *e, uint32_t *start, uint32_t *end)
{
    const char *colon = NULL;
    for (const char *p = e; p > b; p--)
        if (p[-1] == ':') {
            colon = p - 1;
            break;
        }
    if (colon == NULL)
        return -1;
    cur_t c = { colon + 1, e };
    if (read_range(&c, start, end) != 0 || c.p != c.end)
        return -1;
    return 0;
}

typedef struct {
    ipf_range_t *r;
    size_t n, cap;
} builder_t;

static void
builder_add(builder_t *bd, uint32_t start, uint32_t end)
{
    if (bd->n == bd->cap) {
        bd->cap = bd->cap == 0 ? 1024 : bd->cap * 2;
        bd->r = xreallocarray(bd->r, bd->cap, sizeof *bd->r);
    }
    bd->r[bd->n].start = start;
    bd->r[bd->n].end = end;
    bd->n++;
}

/* parse_line: one line without its '\n'. */
static void
parse_line(ipfilter_t *f, builder_t *bd, const char *b, const char *e, int level)
{
    while (b < e && is_space(*b))
        b++;
    while (e > b && is_space(e[-1]))
        e--;
    if (b == e || *b == '#' || (e - b >= 2 && b[0] == '/' && b[1] == '/'))
        return;
    if (e - b > IPFILTER_MAX_LINE) {
        f->bad++;
        return;
    }
    uint32_t start, end;
    int lv;
    if (parse_dat(b, e, &start, &end, &lv) != 0) {
        if (parse_p2p(b, e, &start, &end) != 0) {
            f->bad++;
            return;
        }
        lv = 0;
    }
    if (start > end) {
        uint32_t t = start;
        start = end;
        end = t;
    }
    f->lines++;
    if (lv < level)
        builder_add(bd, start, end);
}

static int
cmp_range(const void *a, const void *b)
{
    const ipf_range_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* merge: sorts and joins overlapping or adjacent ranges in place. */
static size_t
merge(ipf_range_t *r, size_t n)
{
    if (n == 0)
        return 0;
    qsort(r, n, sizeof *r, cmp_range);
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        if (r[k].end == UINT32_MAX || r[i].start <= r[k].end + 1) {
            if (r[i].end > r[k].end)
                r[k].end = r[i].end;
        } else {
            r[++k] = r[i];
        }
    }
    return k + 1;
}

ipfilter_t *
ipfilter_parse(const char *text, size_t len, int level)
{
    ipfilter_t *f = xcalloc(1, sizeof *f);
    builder_t bd = { 0 };
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        parse_line(f, &bd, p, le, level);
        p = nl != NULL ? nl + 1 : end;
    }
    f->n = merge(bd.r, bd.n);
    if (f->n == 0) {
        free(bd.r);
    } else {
        f->r = xreallocarray(bd.r, f->n, sizeof *f->r);
    }
    return f;
}

ipfilter_t *
ipfilter_new_empty(void)
{
    return xcalloc(1, sizeof(ipfilter_t));
}

void
ipfilter_free(ipfilter_t *f)
{
    if (f == NULL)
        return;
    free(f->r);
    free(f);
}

/* ---------------------------------------------------------- compression */

/* inflate_all: the whole zlib stream of data (window_bits as for
 * inflateInit2) into a new buffer of at most IPFILTER_MAX_TEXT bytes. */
static int
inflate_all(const unsigned char *data, size_t len, int window_bits, char **out,
            size_t *out_len, mt_error_t **err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, window_bits) != Z_OK) {
        mt_error_set(err, MT_ERR_INTERNAL, "cannot start zlib");
        return -1;
    }
    size_t cap = len * 4 + 4096, n = 0;
    if (cap > IPFILTER_MAX_TEXT)
        cap = IPFILTER_MAX_TEXT;
    char *buf = xmalloc(cap);
    z.next_in = (unsigned char *)(uintptr_t)data;
    int rc = Z_OK;
    size_t left = len;
    while (rc != Z_STREAM_END) {
        if (z.avail_in == 0) {
            if (left == 0)
                break;
            unsigned chunk = left > (1u << 30) ? (1u << 30) : (unsigned)left;
            z.avail_in = chunk;
            left -= chunk;
        }
        if (n == cap) {
            if (cap >= IPFILTER_MAX_TEXT) {
                inflateEnd(&z);
                free(buf);
                mt_error_set(err, MT_ERR_TOO_LARGE, "the list uncompresses to more than %u bytes",
                             IPFILTER_MAX_TEXT);
                return -1;
            }
            cap = cap * 2 > IPFILTER_MAX_TEXT ? IPFILTER_MAX_TEXT : cap * 2;
            buf = xrealloc(buf, cap);
        }
        z.next_out = (unsigned char *)buf + n;
        size_t room = cap - n > (1u << 30) ? (1u << 30) : cap - n;
        z.avail_out = (unsigned)room;
        rc = inflate(&z, Z_NO_FLUSH);
        n += room - z.avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && z.avail_out == 0))
            break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        mt_error_set(err, MT_ERR_INVALID, "the compressed list is damaged or truncated");
        return -1;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

static uint32_t
le16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
    return le16(p) | le16(p + 2) << 16;
}

/* unzip_first: the first file member of a zip archive (the layout is
 * PKWARE's APPNOTE: end record, central directory, local header). */
static int
unzip_first(const unsigned char *d, size_t len, char **out, size_t *out_len, mt_error_t **err)
{
    size_t eocd = SIZE_MAX;
    for (size_t i = len >= 22 ? len - 22 + 1 : 0; i-- > 0 && len - i <= 22 + 65535;)
        if (le32(d + i) == 0x06054b50) {
            eocd = i;
            break;
        }
    if (eocd == SIZE_MAX) {
        mt_error_set(err, MT_ERR_INVALID, "a zip archive without its directory");
        return -1;
    }
    size_t count = le16(d + eocd + 10), pos = le32(d + eocd + 16);
    for (size_t k = 0; k < count; k++) {
        if (pos > len || len - pos < 46 || le32(d + pos) != 0x02014b50)
            break;
        const unsigned char *c = d + pos;
        uint32_t method = le16(c + 10), csize = le32(c + 20);
        size_t nlen = le16(c + 28), xlen = le16(c + 30), clen = le16(c + 32);
        size_t lho = le32(c + 42);
        pos += 46 + nlen + xlen + clen;
        if (nlen > 0 && pos <= len && c[46 + nlen - 1] == '/')
            continue; /* a directory */
        if (lho > len || len - lho < 30 || le32(d + lho) != 0x04034b50)
            break;
        size_t data = lho + 30 + le16(d + lho + 26) + le16(d + lho + 28);
        if (data > len || len - data < csize)
            break;
        if (method == 0) {
            if (csize > IPFILTER_MAX_TEXT) {
                mt_error_set(err, MT_ERR_TOO_LARGE, "the zip member is too large");
                return -1;
            }
            *out = xmemdup(d + data, csize);
            *out_len = csize;
            return 0;
        }
        if (method == 8)
            return inflate_all(d + data, csize, -MAX_WBITS, out, out_len, err);
        mt_error_set(err, MT_ERR_UNSUPPORTED, "zip compression method %u (only stored and "
                     "deflated)", (unsigned)method);
        return -1;
    }
    mt_error_set(err, MT_ERR_INVALID, "a zip archive without a readable file");
    return -1;
}

int
ipfilter_load(const void *data, size_t len, int level, ipfilter_t **out, mt_error_t **err)
{
    const unsigned char *d = data;
    char *text = NULL;
    size_t tlen = 0;
    int rc = 0;
    if (len >= 2 && d[0] == 0x1f && d[1] == 0x8b)
        rc = inflate_all(d, len, 16 + MAX_WBITS, &text, &tlen, err);
    else if (len >= 4 && le32(d) == 0x04034b50)
        rc = unzip_first(d, len, &text, &tlen, err);
    else if (len > IPFILTER_MAX_TEXT) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "the list is larger than %u bytes", IPFILTER_MAX_TEXT);
        rc = -1;
    }
    if (rc != 0)
        return -1;
    ipfilter_t *f = text != NULL ? ipfilter_parse(text, tlen, level)
                                 : ipfilter_parse(data, len, level);
    free(text);
    if (f->lines == 0 && f->bad > 0) {
        mt_error_set(err, MT_ERR_INVALID, "not an IP filter list: none of its %zu line(s) is a "
                     "range", f->bad);
        ipfilter_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

/* -------------------------------------------------------------- lookups */

bool
ipfilter_blocks(const ipfilter_t *f, uint32_t ip)
{
    if (f == NULL || f->n == 0)
        return false;
    /* the last range starting at or before ip */
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->r[mid].start <= ip)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && ip <= f->r[lo - 1].end;
}

size_t
ipfilter_ranges(const ipfilter_t *f)
{
    return f != NULL ? f->n : 0;
}

size_t
ipfilter_lines(const ipfilter_t *f)
{
    return f != NULL ? f->lines : 0;
}

size_t
ipfilter_bad_lines(const ipfilter_t *f)
{
    return f != NULL ? f->bad : 0;
}

size_t
ipfilter_memory(const ipfilter_t *f)
{
    return f != NULL ? sizeof *f + f->n * sizeof *f->r : 0;
}

void
ipfilter_range(const ipfilter_t *f, size_t i, uint32_t *start, uint32_t *end)
{
    *start = f->r[i].start;
    *end = f->r[i].end;
}
