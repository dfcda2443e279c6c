/* feed.h: the XML cgi-bin/torznab answers, built with libxml2's writer so
 * that every answer is well formed whatever a name holds: the caps, the
 * Torznab <error>, and the RSS 2.0 feed of results with its torznab:attr
 * elements and magnet enclosures; with the text rules they need (titles
 * made safe for XML, the magnet, RFC 822 dates). No FastCGI or
 * PostgreSQL: unit-tested alone. */
#ifndef MT_CGI_TORZNAB_FEED_H
#define MT_CGI_TORZNAB_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The tracker every magnet names: Sonarr refuses a magnet without a
 * tracker while DHT is off (arr-contract.md §2.4); eD2K needs none. */
#define TZ_PLACEHOLDER_TRACKER "udp://tracker.muleteer.invalid:6969/announce"
/* The enclosure type Sonarr takes a magnet from (arr-contract.md §2.3). */
#define TZ_ENCLOSURE_TYPE "application/x-bittorrent;x-scheme-handler/magnet"
#define TZ_NS "http://torznab.com/schemas/2015/feed"

/* An answer: a NUL-terminated XML document of len bytes. */
typedef struct {
    char *xml;
    size_t len;
} tz_doc_t;
void tz_doc_clear(tz_doc_t *d);

/* tz_sanitize: name made safe for a title: invalid UTF-8 bytes become
 * U+FFFD, control characters (C0, DEL, C1), the non-characters U+FFFE and
 * U+FFFF and the bidirectional controls (U+202A..U+202E, U+2066..U+2069)
 * are dropped, spaces trimmed; an empty result is "unnamed". The caller
 * frees it. */
char *tz_sanitize(const char *name);

/* tz_magnet: magnet:?xt=urn:btih:<md4>00000000&xt=urn:ed2k:<md4>&xl=<size>
 * &dn=<name, percent-encoded>&tr=<TZ_PLACEHOLDER_TRACKER, encoded>; md4 is
 * 32 lowercase hex. The caller frees it. */
char *tz_magnet(const char *md4, uint64_t size, const char *name);

/* tz_rfc822: t as "Mon, 07 Dec 2026 15:49:45 +0000" (English names
 * whatever the locale) into out (at least 32 bytes). */
void tz_rfc822(time_t t, char out[32]);

/* tz_error_doc: <error code="code" description="description"/>. */
int tz_error_doc(int code, const char *description, tz_doc_t *out);

/* tz_caps_doc: the caps: <server>, <limits default="100" max="100"/>,
 * <searching> (search q, tv-search q/season/ep, movie-search q/year) and
 * the standard categories with their subcategories. 0, or -1 when libxml2
 * failed. */
int tz_caps_doc(const char *title, tz_doc_t *out);

/* One result of the feed. Strings are the caller's. */
typedef struct {
    const char *md4;         /* 32 lowercase hex */
    const char *name;        /* as stored (sanitised again here) */
    uint64_t size;
    int sources, complete_sources;
    time_t first_seen;
    int cats[2];
    size_t n_cats;
} tz_item_t;

typedef struct tz_feed tz_feed_t;
/* tz_feed_new: an RSS 2.0 channel with the torznab namespace. */
tz_feed_t *tz_feed_new(const char *title, const char *description);
/* tz_feed_add: one <item>: sanitised title, guid urn:ed2k:<md4>, pubDate
 * (first seen), size, category elements, the magnet enclosure, and
 * torznab:attr category, size, seeders (complete sources, at least 1 when
 * there is any source), peers (sources), infohash, magneturl. */
int tz_feed_add(tz_feed_t *f, const tz_item_t *it);
/* tz_feed_finish: the document (the feed is freed); -1 when libxml2
 * failed. */
int tz_feed_finish(tz_feed_t *f, tz_doc_t *out);
/* tz_feed_free: drops an unfinished feed; accepts NULL. */
void tz_feed_free(tz_feed_t *f);

#endif
