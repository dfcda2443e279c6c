/* link.c: ed2k:// link parser (strict fields, aMule's tolerances, precise
 * error messages) and the eMule-style link formatter. */
#include "config.h"

#include "ed2k/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ed2k/text.h"
#include "util/hex.h"
#include "util/xalloc.h"

/* A piece of the input: links are split in place, never copied. */
typedef struct {
    const char *p;
    size_t n;
} slice_t;

/* A quoted, shortened and printable copy of input for error messages. */
typedef struct {
    char s[72];
} quote_t;

static const char *
quote(quote_t *q, slice_t v)
{
    size_t o = 0, max = 40;
    q->s[o++] = '"';
    for (size_t i = 0; i < v.n && i < max; i++) {
        unsigned char c = (unsigned char)v.p[i];
        q->s[o++] = (c >= 0x20 && c < 0x7F && c != '"') ? (char)c : '?';
    }
    q->s[o++] = '"';
    if (v.n > max) {
        memcpy(q->s + o, "...", 3);
        o += 3;
    }
    q->s[o] = '\0';
    return q->s;
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static slice_t
trim(slice_t v)
{
    while (v.n > 0 && is_space(v.p[0])) {
        v.p++;
        v.n--;
    }
    while (v.n > 0 && is_space(v.p[v.n - 1]))
        v.n--;
    return v;
}

static int
slice_eq_ci(slice_t v, const char *s)
{
    size_t n = strlen(s);
    return v.n == n && strncasecmp(v.p, s, n) == 0;
}

static int
slice_prefix_ci(slice_t v, const char *s)
{
    size_t n = strlen(s);
    return v.n >= n && strncasecmp(v.p, s, n) == 0;
}

/* split: cuts v at every sep; returns a new array (caller frees). */
static slice_t *
split(slice_t v, char sep, size_t *count)
{
    size_t n = 1;
    for (size_t i = 0; i < v.n; i++)
        n += v.p[i] == sep;
    slice_t *out = xcalloc(n, sizeof *out);
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= v.n; i++) {
        if (i == v.n || v.p[i] == sep) {
            out[k].p = v.p + start;
            out[k].n = i - start;
            k++;
            start = i + 1;
        }
    }
    *count = n;
    return out;
}

/* parse_uint: decimal digits only. -1: not a number, -2: over max. */
static int
parse_uint(slice_t v, uint64_t max, uint64_t *out)
{
    if (v.n == 0)
        return -1;
    uint64_t x = 0;
    int overflow = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        unsigned d = (unsigned)(v.p[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            overflow = 1;
        else
            x = x * 10 + d;
    }
    if (overflow || x > max)
        return -2;
    *out = x;
    return 0;
}

/* percent_decode: strict %XX decoding into a new buffer of *outlen bytes
 * (NUL-terminated). what names the field in the error. */
static char *
percent_decode(slice_t v, const char *what, size_t *outlen, mt_error_t **err)
{
    char *out = xmalloc(v.n + 1);
    size_t o = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] != '%') {
            out[o++] = v.p[i];
            continue;
        }
        int hi = i + 2 < v.n ? mt_hex_digit((unsigned char)v.p[i + 1]) : -1;
        int lo = hi >= 0 ? mt_hex_digit((unsigned char)v.p[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            quote_t q;
            slice_t bad = { v.p + i, v.n - i < 3 ? v.n - i : 3 };
            mt_error_set(err, MT_ERR_INVALID, "bad percent escape %s in %s", quote(&q, bad), what);
            free(out);
            return NULL;
        }
        out[o++] = (char)(hi << 4 | lo);
        i += 2;
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

/* Host names and addresses (server links and sources). */

static int
is_ipv4(slice_t v)
{
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t start = i;
        unsigned x = 0;
        while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9' && i - start < 3)
            x = x * 10 + (unsigned)(v.p[i++] - '0');
        if (i == start || x > 255)
            return 0;
        parts++;
        if (parts < 4) {
            if (i >= v.n || v.p[i] != '.')
                return 0;
            i++;
        }
    }
    return i == v.n;
}

static int
is_hostname(slice_t v)
{
    if (v.n == 0 || v.n > 253)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i <= v.n; i++) {
        if (i == v.n || v.p[i] == '.') {
            if (label == 0 || label > 63 || v.p[i - 1] == '-' || v.p[i - label] == '-')
                return 0;
            label = 0;
            continue;
        }
        char c = v.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-'))
            return 0;
        label++;
    }
    /* All-numeric names are mistyped addresses, not host names. */
    for (size_t i = 0; i < v.n; i++)
        if (v.p[i] != '.' && (v.p[i] < '0' || v.p[i] > '9'))
            return 1;
    return 0;
}

static int
valid_host(slice_t v)
{
    return is_ipv4(v) || is_hostname(v);
}

/* File links. */

static char *
parse_name(slice_t raw, mt_error_t **err)
{
    size_t n;
    char *dec = percent_decode(trim(raw), "file name", &n, err);
    if (dec == NULL)
        return NULL;
    size_t ulen;
    char *name = ed2k_text_to_utf8(dec, n, &ulen);
    free(dec);
    /* aMule replaces '/' by '_' (ED2KLink.cpp) and drops characters below
     * 32 when it makes a file name (CPath::Cleanup); we also replace '\\'
     * and drop DEL, so that no name can carry a path or a control code. */
    size_t o = 0;
    for (size_t i = 0; i < ulen; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7F)
            continue;
        name[o++] = (c == '/' || c == '\\') ? '_' : (char)c;
    }
    name[o] = '\0';
    if (o == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        if (o == 0)
            mt_error_set(err, MT_ERR_INVALID, "file name is empty");
        else
            mt_error_set(err, MT_ERR_INVALID, "file name \"%s\" is not allowed", name);
        free(name);
        return NULL;
    }
    return name;
}

static int
parse_part_hashes(ed2k_link_t *l, slice_t v, mt_error_t **err)
{
    if (l->part_hashes != NULL) {
        mt_error_set(err, MT_ERR_INVALID, "duplicate p= field");
        return -1;
    }
    size_t n;
    slice_t *hs = split(v, ':', &n);
    uint8_t (*parts)[ED2K_HASH_LEN] = xcalloc(n, ED2K_HASH_LEN);
    for (size_t i = 0; i < n; i++) {
        slice_t h = trim(hs[i]);
        if (ed2k_hash_from_hexn(h.p, h.n, parts[i]) < 0) {
            quote_t q;
            mt_error_set(err, MT_ERR_INVALID, "p= part hash %zu must be 32 hex digits: %s",
                         i + 1, quote(&q, h));
            goto fail;
        }
    }
    uint64_t want = ed2k_hash_count(l->size);
    if (want == 0) {
        /* Some tools write the file hash as the only part hash of a
         * one-part file; anything else would contradict the size. */
        if (n != 1 || memcmp(parts[0], l->hash, ED2K_HASH_LEN) != 0) {
            mt_error_set(err, MT_ERR_INVALID,
                         "p= lists %zu part hashes, but a file of %llu bytes has none", n,
                         (unsigned long long)l->size);
            goto fail;
        }
        free(parts);
        free(hs);
        l->part_hashes = NULL;
        l->n_part_hashes = 0;
        return 0;
    }
    if (n != want) {
        mt_error_set(err, MT_ERR_INVALID, "p= lists %zu part hashes, a file of %llu bytes has %llu",
                     n, (unsigned long long)l->size, (unsigned long long)want);
        goto fail;
    }
    uint8_t md4[ED2K_HASH_LEN];
    ed2k_parthashes_md4((const uint8_t (*)[ED2K_HASH_LEN])parts, n, md4);
    if (memcmp(md4, l->hash, ED2K_HASH_LEN) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "p= part hashes do not match the file hash");
        goto fail;
    }
    free(hs);
    l->part_hashes = parts;
    l->n_part_hashes = n;
    return 0;
fail:
    free(parts);
    free(hs);
    return -1;
}

static int
parse_source(ed2k_link_t *l, slice_t entry, mt_error_t **err)
{
    quote_t q, q2;
    size_t n;
    slice_t *f = split(entry, ':', &n);
    ed2k_link_source_t src;
    memset(&src, 0, sizeof src);
    uint64_t v;
    slice_t host = trim(f[0]);
    if (n > 4) {
        mt_error_set(err, MT_ERR_INVALID, "source %s has too many ':' fields", quote(&q, entry));
        goto fail;
    }
    if (host.n == 0) {
        mt_error_set(err, MT_ERR_INVALID, "source %s has an empty address", quote(&q, entry));
        goto fail;
    }
    if (!valid_host(host)) {
        mt_error_set(err, MT_ERR_INVALID, "source %s: invalid address %s", quote(&q, entry),
                     quote(&q2, host));
        goto fail;
    }
    if (n < 2 || trim(f[1]).n == 0) {
        mt_error_set(err, MT_ERR_INVALID, "source %s has no port", quote(&q, entry));
        goto fail;
    }
    if (parse_uint(trim(f[1]), 65535, &v) < 0 || v == 0) {
        mt_error_set(err, MT_ERR_INVALID, "source %s: port must be 1..65535, not %s",
                     quote(&q, entry), quote(&q2, trim(f[1])));
        goto fail;
    }
    src.port = (uint16_t)v;
    if (n >= 3) {
        if (parse_uint(trim(f[2]), 255, &v) < 0) {
            mt_error_set(err, MT_ERR_INVALID, "source %s: crypt options must be 0..255, not %s",
                         quote(&q, entry), quote(&q2, trim(f[2])));
            goto fail;
        }
        src.cryptopts = (uint8_t)v;
    }
    if (n >= 4) {
        slice_t h = trim(f[3]);
        if (ed2k_hash_from_hexn(h.p, h.n, src.userhash) < 0) {
            mt_error_set(err, MT_ERR_INVALID, "source %s: user hash must be 32 hex digits",
                         quote(&q, entry));
            goto fail;
        }
        src.has_userhash = true;
    } else if (src.cryptopts & 0x80) {
        /* aMule: "Empty sourcehash conflicts with cryptoptions flag 0x80". */
        mt_error_set(err, MT_ERR_INVALID, "source %s: crypt option 0x80 needs a user hash",
                     quote(&q, entry));
        goto fail;
    }
    src.host = xstrndup(host.p, host.n);
    l->sources = xreallocarray(l->sources, l->n_sources + 1, sizeof *l->sources);
    l->sources[l->n_sources++] = src;
    free(f);
    return 0;
fail:
    free(f);
    return -1;
}

static int
parse_sources(ed2k_link_t *l, slice_t v, mt_error_t **err)
{
    size_t n;
    slice_t *entries = split(v, ',', &n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        slice_t e = trim(entries[i]);
        if (e.n > 0) /* aMule's tokenizer skips empty entries */
            rc = parse_source(l, e, err);
    }
    free(entries);
    return rc;
}

static int
parse_file(ed2k_link_t *l, slice_t *f, size_t n, mt_error_t **err)
{
    quote_t q;
    static const char *const missing[] = { NULL, "file name", "file size", "file hash" };
    if (n < 4) {
        mt_error_set(err, MT_ERR_INVALID, "file link is missing the %s", missing[n]);
        return -1;
    }
    l->name = parse_name(f[1], err);
    if (l->name == NULL)
        return -1;

    slice_t size = trim(f[2]);
    int r = parse_uint(size, UINT64_MAX, &l->size);
    if (r == -1) {
        mt_error_set(err, MT_ERR_INVALID, "size is not a number: %s", quote(&q, size));
        return -1;
    }
    if (r == -2 || l->size > ED2K_MAX_FILE_SIZE) {
        mt_error_set(err, MT_ERR_INVALID, "size %s exceeds the maximum of %llu bytes (256 GiB)",
                     quote(&q, size), (unsigned long long)ED2K_MAX_FILE_SIZE);
        return -1;
    }
    if (l->size == 0) {
        mt_error_set(err, MT_ERR_INVALID, "size must not be 0");
        return -1;
    }

    slice_t hash = trim(f[3]);
    if (ed2k_hash_from_hexn(hash.p, hash.n, l->hash) < 0) {
        mt_error_set(err, MT_ERR_INVALID, "hash must be 32 hex digits, not %s", quote(&q, hash));
        return -1;
    }

    for (size_t i = 4; i < n; i++) {
        slice_t v = trim(f[i]);
        if (slice_prefix_ci(v, "p=")) {
            slice_t val = { v.p + 2, v.n - 2 };
            if (parse_part_hashes(l, val, err) < 0)
                return -1;
        } else if (slice_prefix_ci(v, "h=")) {
            slice_t val = trim((slice_t){ v.p + 2, v.n - 2 });
            if (l->has_aich) {
                mt_error_set(err, MT_ERR_INVALID, "duplicate h= field");
                return -1;
            }
            if (ed2k_aich_from_base32(val.p, val.n, l->aich) < 0) {
                mt_error_set(err, MT_ERR_INVALID, "h= must be 32 base32 characters, not %s",
                             quote(&q, val));
                return -1;
            }
            l->has_aich = true;
        } else if (slice_prefix_ci(v, "s=")) {
            slice_t val = trim((slice_t){ v.p + 2, v.n - 2 });
            for (size_t k = 0; k < val.n; k++) {
                if ((unsigned char)val.p[k] <= 0x20 || val.p[k] == 0x7F) {
                    mt_error_set(err, MT_ERR_INVALID, "s= URL %s contains a space or control "
                                 "character", quote(&q, val));
                    return -1;
                }
            }
            if (val.n == 0) {
                mt_error_set(err, MT_ERR_INVALID, "s= URL is empty");
                return -1;
            }
            l->http_sources = xreallocarray(l->http_sources, l->n_http_sources + 1,
                                            sizeof *l->http_sources);
            l->http_sources[l->n_http_sources++] = xstrndup(val.p, val.n);
        } else if (slice_prefix_ci(v, "sources,")) {
            slice_t val = { v.p + 8, v.n - 8 };
            if (parse_sources(l, val, err) < 0)
                return -1;
        }
        /* Anything else (the "/" before sources, empty or unknown fields)
         * is ignored, as aMule and eMule ignore it. */
    }
    return 0;
}

static int
parse_port(slice_t v, uint16_t *port, mt_error_t **err)
{
    quote_t q;
    uint64_t x;
    v = trim(v);
    if (parse_uint(v, 65535, &x) < 0 || x == 0) {
        mt_error_set(err, MT_ERR_INVALID, "port must be 1..65535, not %s", quote(&q, v));
        return -1;
    }
    *port = (uint16_t)x;
    return 0;
}

static int
parse_server(ed2k_link_t *l, slice_t *f, size_t n, mt_error_t **err)
{
    quote_t q;
    if (n < 2 || trim(f[1]).n == 0) {
        mt_error_set(err, MT_ERR_INVALID, "server link is missing the host");
        return -1;
    }
    if (n < 3) {
        mt_error_set(err, MT_ERR_INVALID, "server link is missing the port");
        return -1;
    }
    if (n > 3) {
        mt_error_set(err, MT_ERR_INVALID, "unexpected field %s after the server port",
                     quote(&q, f[3]));
        return -1;
    }
    size_t hn;
    char *host = percent_decode(trim(f[1]), "server host", &hn, err);
    if (host == NULL)
        return -1;
    slice_t hs = { host, hn };
    if (!valid_host(hs)) {
        mt_error_set(err, MT_ERR_INVALID, "server host %s is neither an IPv4 address nor a "
                     "host name", quote(&q, hs));
        free(host);
        return -1;
    }
    l->host = host;
    return parse_port(f[2], &l->port, err);
}

/* parse_url_link: the URL of a serverlist or nodeslist link; what names
 * it in errors ("server list", "nodes list"). */
static int
parse_url_link(ed2k_link_t *l, slice_t *f, size_t nf, slice_t body, const char *what,
               mt_error_t **err)
{
    quote_t q;
    /* Everything after "serverlist|" is the URL, '|' included (aMule:
     * "serverlist\|(.*)\|/"; eMule reads nodeslist links the same way). */
    slice_t v = { NULL, 0 };
    if (nf >= 2)
        v = trim((slice_t){ f[1].p, (size_t)(body.p + body.n - f[1].p) });
    if (v.n == 0) {
        mt_error_set(err, MT_ERR_INVALID, "%s link is missing the URL", what);
        return -1;
    }
    size_t n;
    char *label = xasprintf("%s URL", what);
    char *dec = percent_decode(v, label, &n, err);
    free(label);
    if (dec == NULL)
        return -1;
    l->url = ed2k_text_to_utf8(dec, n, &n);
    free(dec);
    slice_t u = { l->url, n };
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)l->url[i] < 0x20 || l->url[i] == 0x7F) {
            mt_error_set(err, MT_ERR_INVALID, "%s URL contains a control character", what);
            return -1;
        }
    }
    if (!((slice_prefix_ci(u, "http://") && n > 7) || (slice_prefix_ci(u, "https://") && n > 8))) {
        mt_error_set(err, MT_ERR_INVALID, "%s URL %s must start with http:// or https://", what,
                     quote(&q, u));
        return -1;
    }
    return 0;
}

int
ed2k_link_parse(const char *text, ed2k_link_t **out, mt_error_t **err)
{
    quote_t q;
    slice_t s = trim((slice_t){ text, strlen(text) });
    if (!slice_prefix_ci(s, "ed2k://")) {
        mt_error_set(err, MT_ERR_INVALID, "not an ed2k link: it must start with \"ed2k://\"");
        return -1;
    }
    s.p += 7;
    s.n -= 7;
    if (s.n == 0 || s.p[0] != '|') {
        mt_error_set(err, MT_ERR_INVALID, "expected '|' after \"ed2k://\"");
        return -1;
    }
    s.p++;
    s.n--;
    slice_t body;
    if (s.n >= 2 && s.p[s.n - 2] == '|' && s.p[s.n - 1] == '/') {
        body = (slice_t){ s.p, s.n - 2 };
    } else if (s.n >= 1 && s.p[s.n - 1] == '|') {
        /* aMule's AddED2KLink appends the missing '/'. */
        body = (slice_t){ s.p, s.n - 1 };
    } else {
        mt_error_set(err, MT_ERR_INVALID, "missing trailing |/");
        return -1;
    }

    size_t n;
    slice_t *f = split(body, '|', &n);
    slice_t type = trim(f[0]);
    ed2k_link_t *l = xcalloc(1, sizeof *l);
    int rc;
    if (slice_eq_ci(type, "file")) {
        l->type = ED2K_LINK_FILE;
        rc = parse_file(l, f, n, err);
    } else if (slice_eq_ci(type, "server")) {
        l->type = ED2K_LINK_SERVER;
        rc = parse_server(l, f, n, err);
    } else if (slice_eq_ci(type, "serverlist")) {
        l->type = ED2K_LINK_SERVERLIST;
        rc = parse_url_link(l, f, n, body, "server list", err);
    } else if (slice_eq_ci(type, "nodeslist")) {
        l->type = ED2K_LINK_NODESLIST;
        rc = parse_url_link(l, f, n, body, "nodes list", err);
    } else if (type.n == 0) {
        mt_error_set(err, MT_ERR_INVALID, "missing link type");
        rc = -1;
    } else {
        mt_error_set(err, MT_ERR_INVALID, "unknown link type %s", quote(&q, type));
        rc = -1;
    }
    free(f);
    if (rc < 0) {
        ed2k_link_free(l);
        return -1;
    }
    *out = l;
    return 0;
}

void
ed2k_link_free(ed2k_link_t *l)
{
    if (l == NULL)
        return;
    free(l->name);
    free(l->part_hashes);
    for (size_t i = 0; i < l->n_http_sources; i++)
        free(l->http_sources[i]);
    free(l->http_sources);
    for (size_t i = 0; i < l->n_sources; i++)
        free(l->sources[i].host);
    free(l->sources);
    free(l->host);
    free(l->url);
    free(l);
}

/* Formatting. */

typedef struct {
    char *s;
    size_t n, cap;
} strbuf_t;

static void
sb_addn(strbuf_t *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 128;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void
sb_add(strbuf_t *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

/* sb_add_escaped: eMule's link encoding of names: '%', space, control
 * characters and bytes >= 0x7F as %XX; '|' too, or the link would break. */
static void
sb_add_escaped(strbuf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7F || c == '%' || c == '|') {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            sb_addn(b, e, 3);
        } else {
            sb_addn(b, (const char *)&c, 1);
        }
    }
}

char *
ed2k_link_format(const ed2k_link_t *l)
{
    strbuf_t b = { NULL, 0, 0 };
    char tmp[64];
    switch (l->type) {
    case ED2K_LINK_FILE:
        sb_add(&b, "ed2k://|file|");
        sb_add_escaped(&b, l->name ? l->name : "");
        snprintf(tmp, sizeof tmp, "|%llu|", (unsigned long long)l->size);
        sb_add(&b, tmp);
        ed2k_hash_to_hex(l->hash, tmp);
        sb_add(&b, tmp);
        sb_add(&b, "|");
        if (l->n_part_hashes > 0) {
            sb_add(&b, "p=");
            for (size_t i = 0; i < l->n_part_hashes; i++) {
                if (i > 0)
                    sb_add(&b, ":");
                ed2k_hash_to_hex(l->part_hashes[i], tmp);
                sb_add(&b, tmp);
            }
            sb_add(&b, "|");
        }
        if (l->has_aich) {
            sb_add(&b, "h=");
            ed2k_aich_to_base32(l->aich, tmp);
            sb_add(&b, tmp);
            sb_add(&b, "|");
        }
        for (size_t i = 0; i < l->n_http_sources; i++) {
            sb_add(&b, "s=");
            sb_add(&b, l->http_sources[i]);
            sb_add(&b, "|");
        }
        sb_add(&b, "/");
        if (l->n_sources > 0) {
            sb_add(&b, "|sources,");
            for (size_t i = 0; i < l->n_sources; i++) {
                const ed2k_link_source_t *src = &l->sources[i];
                if (i > 0)
                    sb_add(&b, ",");
                sb_add(&b, src->host);
                snprintf(tmp, sizeof tmp, ":%u", (unsigned)src->port);
                sb_add(&b, tmp);
                if (src->cryptopts != 0 || src->has_userhash) {
                    snprintf(tmp, sizeof tmp, ":%u", (unsigned)src->cryptopts);
                    sb_add(&b, tmp);
                }
                if (src->has_userhash) {
                    sb_add(&b, ":");
                    ed2k_hash_to_hex(src->userhash, tmp);
                    sb_add(&b, tmp);
                }
            }
            sb_add(&b, "|/");
        }
        break;
    case ED2K_LINK_SERVER:
        sb_add(&b, "ed2k://|server|");
        sb_add(&b, l->host ? l->host : "");
        snprintf(tmp, sizeof tmp, "|%u|/", (unsigned)l->port);
        sb_add(&b, tmp);
        break;
    case ED2K_LINK_SERVERLIST:
        sb_add(&b, "ed2k://|serverlist|");
        sb_add_escaped(&b, l->url ? l->url : "");
        sb_add(&b, "|/");
        break;
    case ED2K_LINK_NODESLIST:
        sb_add(&b, "ed2k://|nodeslist|");
        sb_add_escaped(&b, l->url ? l->url : "");
        sb_add(&b, "|/");
        break;
    default:
        sb_add(&b, "");
        break;
    }
    return b.s;
}

static bool
str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

bool
ed2k_link_equal(const ed2k_link_t *a, const ed2k_link_t *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case ED2K_LINK_FILE:
        if (!str_eq(a->name, b->name) || a->size != b->size
            || memcmp(a->hash, b->hash, ED2K_HASH_LEN) != 0
            || a->n_part_hashes != b->n_part_hashes || a->has_aich != b->has_aich
            || a->n_http_sources != b->n_http_sources || a->n_sources != b->n_sources)
            return false;
        if (a->n_part_hashes > 0
            && memcmp(a->part_hashes, b->part_hashes, a->n_part_hashes * ED2K_HASH_LEN) != 0)
            return false;
        if (a->has_aich && memcmp(a->aich, b->aich, ED2K_AICH_LEN) != 0)
            return false;
        for (size_t i = 0; i < a->n_http_sources; i++)
            if (!str_eq(a->http_sources[i], b->http_sources[i]))
                return false;
        for (size_t i = 0; i < a->n_sources; i++) {
            const ed2k_link_source_t *x = &a->sources[i], *y = &b->sources[i];
            if (!str_eq(x->host, y->host) || x->port != y->port || x->cryptopts != y->cryptopts
                || x->has_userhash != y->has_userhash
                || (x->has_userhash && memcmp(x->userhash, y->userhash, ED2K_HASH_LEN) != 0))
                return false;
        }
        return true;
    case ED2K_LINK_SERVER:
        return str_eq(a->host, b->host) && a->port == b->port;
    case ED2K_LINK_SERVERLIST:
    case ED2K_LINK_NODESLIST:
        return str_eq(a->url, b->url);
    default:
        return false;
    }
}

ed2k_link_t *
ed2k_link_from_hash(const char *name, const ed2k_hash_result_t *r)
{
    ed2k_link_t *l = xcalloc(1, sizeof *l);
    l->type = ED2K_LINK_FILE;
    l->name = xstrdup(name);
    l->size = r->size;
    memcpy(l->hash, r->file_hash, ED2K_HASH_LEN);
    if (r->n_part_hashes > 0) {
        l->part_hashes = xmemdup(r->part_hashes, r->n_part_hashes * ED2K_HASH_LEN);
        l->n_part_hashes = r->n_part_hashes;
    }
    l->has_aich = true;
    memcpy(l->aich, r->aich_root, ED2K_AICH_LEN);
    return l;
}

void
ed2k_link_add_source(ed2k_link_t *l, const char *host, uint16_t port)
{
    l->sources = xreallocarray(l->sources, l->n_sources + 1, sizeof *l->sources);
    ed2k_link_source_t *s = &l->sources[l->n_sources++];
    memset(s, 0, sizeof *s);
    s->host = xstrdup(host);
    s->port = port;
}

int
ed2k_server_link_parse(const char *text, ed2k_server_link_t *out, mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    ed2k_link_t *l = NULL;
    if (ed2k_link_parse(text, &l, err) != 0)
        return -1;
    int rc = 0;
    switch (l->type) {
    case ED2K_LINK_SERVER:
        out->kind = ED2K_SERVER_LINK_SERVER;
        out->host = l->host;
        out->port = l->port;
        l->host = NULL;
        break;
    case ED2K_LINK_SERVERLIST:
        out->kind = ED2K_SERVER_LINK_LIST;
        out->url = l->url;
        l->url = NULL;
        break;
    case ED2K_LINK_NODESLIST:
        mt_error_set(err, MT_ERR_INVALID, "a nodes list link is not a server link (it is for "
                     "Kad: muleteer kad import)");
        rc = -1;
        break;
    default:
        mt_error_set(err, MT_ERR_INVALID, "a file link is not a server link");
        rc = -1;
        break;
    }
    ed2k_link_free(l);
    return rc;
}

void
ed2k_server_link_clear(ed2k_server_link_t *l)
{
    if (l == NULL)
        return;
    free(l->host);
    free(l->url);
    memset(l, 0, sizeof *l);
}
