/* feed.c: the XML answers of cgi-bin/torznab (feed.h), written with
 * libxml2's xmlTextWriter (which escapes every text and attribute), and
 * the text rules they need: safe titles, magnets, RFC 822 dates. */
#include "config.h"

#include "torznab/feed.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "util/utf8.h"
#include "util/xalloc.h"

#define X(s) ((const xmlChar *)(s))

void
tz_doc_clear(tz_doc_t *d)
{
    free(d->xml);
    d->xml = NULL;
    d->len = 0;
}

/* ---------------------------------------------------------------- text */

static bool
dropped(uint32_t cp)
{
    return mt_utf8_is_control(cp) || cp == 0xFFFE || cp == 0xFFFF ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

char *
tz_sanitize(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;
    char *out = xmalloc(len * 3 + 8);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t k = mt_utf8_next(name + i, len - i, &cp);
        if (k == 0) {
            memcpy(out + n, "\xEF\xBF\xBD", 3); /* U+FFFD for the bad byte */
            n += 3;
            i++;
            continue;
        }
        if (!dropped(cp)) {
            memcpy(out + n, name + i, k);
            n += k;
        }
        i += k;
    }
    out[n] = '\0';
    size_t start = 0;
    while (out[start] == ' ')
        start++;
    while (n > start && out[n - 1] == ' ')
        n--;
    memmove(out, out + start, n - start);
    out[n - start] = '\0';
    if (n == start)
        strcpy(out, "unnamed");
    return out;
}

/* pct: s percent-encoded (all but RFC 3986 unreserved characters). */
static char *
pct(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(s);
    char *out = xmalloc(len * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
    return out;
}

char *
tz_magnet(const char *md4, uint64_t size, const char *name)
{
    char *clean = tz_sanitize(name);
    char *dn = pct(clean);
    char *tr = pct(TZ_PLACEHOLDER_TRACKER);
    size_t cap = strlen(dn) + strlen(tr) + 200;
    char *m = xmalloc(cap);
    snprintf(m, cap, "magnet:?xt=urn:btih:%s00000000&xt=urn:ed2k:%s&xl=%" PRIu64 "&dn=%s&tr=%s",
             md4, md4, size, dn, tr);
    free(clean);
    free(dn);
    free(tr);
    return m;
}

void
tz_rfc822(time_t t, char out[32])
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* -------------------------------------------------------------- writer */

typedef struct {
    xmlBufferPtr buf;
    xmlTextWriterPtr w;
    int rc; /* < 0 once a call failed */
} writer_t;

static int
writer_open(writer_t *wr)
{
    wr->rc = 0;
    wr->buf = xmlBufferCreate();
    wr->w = wr->buf != NULL ? xmlNewTextWriterMemory(wr->buf, 0) : NULL;
    if (wr->w == NULL) {
        if (wr->buf != NULL)
            xmlBufferFree(wr->buf);
        return -1;
    }
    xmlTextWriterSetIndent(wr->w, 1);
    xmlTextWriterSetIndentString(wr->w, X(" "));
    if (xmlTextWriterStartDocument(wr->w, "1.0", "UTF-8", NULL) < 0)
        wr->rc = -1;
    return 0;
}

static void
ck(writer_t *wr, int r)
{
    if (r < 0)
        wr->rc = -1;
}

static void
start(writer_t *wr, const char *el)
{
    ck(wr, xmlTextWriterStartElement(wr->w, X(el)));
}

static void
end(writer_t *wr)
{
    ck(wr, xmlTextWriterEndElement(wr->w));
}

static void
attr(writer_t *wr, const char *name, const char *value)
{
    ck(wr, xmlTextWriterWriteAttribute(wr->w, X(name), X(value)));
}

static void
element(writer_t *wr, const char *el, const char *text)
{
    ck(wr, xmlTextWriterWriteElement(wr->w, X(el), X(text)));
}

/* writer_close: ends the document into out; frees the writer either way. */
static int
writer_close(writer_t *wr, tz_doc_t *out)
{
    ck(wr, xmlTextWriterEndDocument(wr->w));
    xmlFreeTextWriter(wr->w);
    int rc = wr->rc;
    if (rc == 0) {
        out->len = (size_t)xmlBufferLength(wr->buf);
        out->xml = xmalloc(out->len + 1);
        memcpy(out->xml, xmlBufferContent(wr->buf), out->len);
        out->xml[out->len] = '\0';
    }
    xmlBufferFree(wr->buf);
    return rc;
}

static void
writer_drop(writer_t *wr)
{
    xmlFreeTextWriter(wr->w);
    xmlBufferFree(wr->buf);
}

/* --------------------------------------------------------------- error */

int
tz_error_doc(int code, const char *description, tz_doc_t *out)
{
    writer_t wr;
    if (writer_open(&wr) != 0)
        return -1;
    char c[16];
    snprintf(c, sizeof c, "%d", code);
    char *d = tz_sanitize(description);
    start(&wr, "error");
    attr(&wr, "code", c);
    attr(&wr, "description", d);
    end(&wr);
    free(d);
    return writer_close(&wr, out);
}

/* ---------------------------------------------------------------- caps */

typedef struct {
    int id;
    const char *name;
} cat_t;

static const struct {
    cat_t cat;
    cat_t subs[9];
} caps_cats[] = {
    { { 2000, "Movies" },
      { { 2010, "Movies/Foreign" }, { 2020, "Movies/Other" }, { 2030, "Movies/SD" },
        { 2040, "Movies/HD" }, { 2045, "Movies/UHD" }, { 2050, "Movies/BluRay" },
        { 2060, "Movies/3D" } } },
    { { 3000, "Audio" },
      { { 3010, "Audio/MP3" }, { 3030, "Audio/Audiobook" }, { 3040, "Audio/Lossless" },
        { 3050, "Audio/Other" } } },
    { { 4000, "PC" },
      { { 4010, "PC/0day" }, { 4020, "PC/ISO" }, { 4030, "PC/Mac" }, { 4050, "PC/Games" } } },
    { { 5000, "TV" },
      { { 5020, "TV/Foreign" }, { 5030, "TV/SD" }, { 5040, "TV/HD" }, { 5045, "TV/UHD" },
        { 5050, "TV/Other" }, { 5060, "TV/Sport" }, { 5070, "TV/Anime" },
        { 5080, "TV/Documentary" } } },
    { { 7000, "Books" },
      { { 7010, "Books/Mags" }, { 7020, "Books/EBook" }, { 7030, "Books/Comics" },
        { 7050, "Books/Other" } } },
    { { 8000, "Other" }, { { 8010, "Other/Misc" } } },
};

static void
category(writer_t *wr, const char *el, const cat_t *c)
{
    char id[16];
    snprintf(id, sizeof id, "%d", c->id);
    start(wr, el);
    attr(wr, "id", id);
    attr(wr, "name", c->name);
}

static void
searching(writer_t *wr, const char *el, const char *params)
{
    start(wr, el);
    attr(wr, "available", "yes");
    attr(wr, "supportedParams", params);
    end(wr);
}

int
tz_caps_doc(const char *title, tz_doc_t *out)
{
    writer_t wr;
    if (writer_open(&wr) != 0)
        return -1;
    start(&wr, "caps");
    start(&wr, "server");
    attr(&wr, "version", "1.0");
    attr(&wr, "title", title);
    end(&wr);
    start(&wr, "limits");
    attr(&wr, "default", "100");
    attr(&wr, "max", "100");
    end(&wr);
    start(&wr, "searching");
    searching(&wr, "search", "q");
    searching(&wr, "tv-search", "q,season,ep");
    searching(&wr, "movie-search", "q,year");
    end(&wr);
    start(&wr, "categories");
    for (size_t i = 0; i < sizeof caps_cats / sizeof caps_cats[0]; i++) {
        category(&wr, "category", &caps_cats[i].cat);
        for (size_t k = 0; k < 9 && caps_cats[i].subs[k].id != 0; k++) {
            category(&wr, "subcat", &caps_cats[i].subs[k]);
            end(&wr);
        }
        end(&wr);
    }
    end(&wr);
    end(&wr);
    return writer_close(&wr, out);
}

/* ---------------------------------------------------------------- feed */

struct tz_feed {
    writer_t wr;
};

tz_feed_t *
tz_feed_new(const char *title, const char *description)
{
    tz_feed_t *f = xcalloc(1, sizeof *f);
    if (writer_open(&f->wr) != 0) {
        free(f);
        return NULL;
    }
    writer_t *wr = &f->wr;
    start(wr, "rss");
    attr(wr, "version", "2.0");
    attr(wr, "xmlns:torznab", TZ_NS);
    start(wr, "channel");
    element(wr, "title", title);
    element(wr, "description", description);
    return f;
}

static void
tattr(writer_t *wr, const char *name, const char *value)
{
    ck(wr, xmlTextWriterStartElement(wr->w, X("torznab:attr")));
    attr(wr, "name", name);
    attr(wr, "value", value);
    end(wr);
}

int
tz_feed_add(tz_feed_t *f, const tz_item_t *it)
{
    writer_t *wr = &f->wr;
    char *title = tz_sanitize(it->name);
    char *magnet = tz_magnet(it->md4, it->size, it->name);
    char guid[48], date[32], size[24], seeders[16], peers[16], btih[48];
    snprintf(guid, sizeof guid, "urn:ed2k:%s", it->md4);
    tz_rfc822(it->first_seen, date);
    snprintf(size, sizeof size, "%" PRIu64, it->size);
    int complete = it->complete_sources > it->sources ? it->sources : it->complete_sources;
    if (complete < 1 && it->sources > 0)
        complete = 1;
    snprintf(seeders, sizeof seeders, "%d", complete < 0 ? 0 : complete);
    snprintf(peers, sizeof peers, "%d", it->sources < 0 ? 0 : it->sources);
    snprintf(btih, sizeof btih, "%s00000000", it->md4);
    start(wr, "item");
    element(wr, "title", title);
    start(wr, "guid");
    attr(wr, "isPermaLink", "false");
    ck(wr, xmlTextWriterWriteString(wr->w, X(guid)));
    end(wr);
    element(wr, "pubDate", date);
    element(wr, "size", size);
    for (size_t i = 0; i < it->n_cats && i < 2; i++) {
        char c[16];
        snprintf(c, sizeof c, "%d", it->cats[i]);
        element(wr, "category", c);
    }
    start(wr, "enclosure");
    attr(wr, "url", magnet);
    attr(wr, "length", size);
    attr(wr, "type", TZ_ENCLOSURE_TYPE);
    end(wr);
    for (size_t i = 0; i < it->n_cats && i < 2; i++) {
        char c[16];
        snprintf(c, sizeof c, "%d", it->cats[i]);
        tattr(wr, "category", c);
    }
    tattr(wr, "size", size);
    tattr(wr, "seeders", seeders);
    tattr(wr, "peers", peers);
    tattr(wr, "infohash", btih);
    tattr(wr, "magneturl", magnet);
    end(wr);
    free(title);
    free(magnet);
    return wr->rc;
}

int
tz_feed_finish(tz_feed_t *f, tz_doc_t *out)
{
    end(&f->wr); /* channel */
    end(&f->wr); /* rss */
    int rc = writer_close(&f->wr, out);
    free(f);
    return rc;
}

void
tz_feed_free(tz_feed_t *f)
{
    if (f == NULL)
        return;
    writer_drop(&f->wr);
    free(f);
}
