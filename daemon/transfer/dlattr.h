/* dlattr.h: the per-download attributes that qBittorrent clients set and
 * that a download keeps from its part file to its finished record: tags
 * and share limits, with their validation. Pure functions, no daemon state. */
#ifndef MT_DAEMON_DLATTR_H
#define MT_DAEMON_DLATTR_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define DLA_TAG_MAX_LEN 64    /* bytes of UTF-8 in one tag */
#define DLA_MAX_TAGS 32       /* tags on one download */
#define DLA_LIMIT_GLOBAL (-2) /* share limits: use the global setting */
#define DLA_LIMIT_NONE (-1)   /* share limits: unlimited */
#define DLA_RATIO_MAX 9998.0  /* qBittorrent's MAX_RATIO */
#define DLA_SEEDING_MAX 525600 /* minutes: a year, qBittorrent's MAX_SEEDING_TIME */

/* A set of tags: sorted (byte order), unique, each valid (dla_tag_normalize).
 * Zero-initialised is the empty set. */
typedef struct dla_tags {
    char **v;
    size_t n;
} dla_tags_t;

void dla_tags_clear(dla_tags_t *t);
/* dla_tags_copy: dst (cleared first) becomes a copy of src. */
void dla_tags_copy(dla_tags_t *dst, const dla_tags_t *src);
bool dla_tags_equal(const dla_tags_t *a, const dla_tags_t *b);
bool dla_tags_has(const dla_tags_t *t, const char *tag);
/* dla_tags_add: adds tag (len bytes, normalised first); a tag already in
 * the set is fine. MT_ERR_INVALID for an invalid tag (the message quotes
 * it) or when the set would exceed DLA_MAX_TAGS. */
int dla_tags_add(dla_tags_t *t, const char *tag, size_t len, mt_error_t **err);
/* dla_tags_remove: true when tag was in the set. */
bool dla_tags_remove(dla_tags_t *t, const char *tag);
/* dla_tags_add_all: adds every tag of src; on error t is unchanged. */
int dla_tags_add_all(dla_tags_t *t, const dla_tags_t *src, mt_error_t **err);

/* dla_tag_normalize: a tag without the ASCII white space around it (as
 * qBittorrent's trimmed()); NULL (MT_ERR_INVALID) unless what is left is
 * 1..DLA_TAG_MAX_LEN bytes of valid UTF-8 without a comma or a control
 * character (C0, DEL, C1). Caller frees. */
char *dla_tag_normalize(const char *s, size_t len, mt_error_t **err);

/* dla_tags_parse: tags given as a JSON array of strings, or as one string
 * of comma-separated tags (empty items are skipped, as qBittorrent does);
 * NULL or absent is the empty set. *out (cleared first) receives the set.
 * Errors (MT_ERR_INVALID) name the argument what. */
int dla_tags_parse(json_object *v, const char *what, dla_tags_t *out, mt_error_t **err);
/* dla_tags_to_json: a JSON array of the tags (caller puts it). */
json_object *dla_tags_to_json(const dla_tags_t *t);
/* dla_tags_join: "a,b,c" (caller frees). */
char *dla_tags_join(const dla_tags_t *t);

/* Share limits: DLA_LIMIT_GLOBAL, DLA_LIMIT_NONE, or a ratio in
 * 0..DLA_RATIO_MAX / a number of minutes in 0..DLA_SEEDING_MAX. */
bool dla_ratio_limit_is_valid(double r);
bool dla_seeding_time_limit_is_valid(int64_t minutes);
/* dla_parse_ratio_limit / dla_parse_seeding_time_limit: a JSON number
 * (an integer for the time) that is a valid limit; MT_ERR_INVALID naming
 * what otherwise. */
int dla_parse_ratio_limit(json_object *v, const char *what, double *out, mt_error_t **err);
int dla_parse_seeding_time_limit(json_object *v, const char *what, int *out, mt_error_t **err);

/* Per-download rate limits (qBittorrent's dl_limit / up_limit), in bytes
 * per second; 0 is no limit. */
#define DLA_RATE_MAX 2147483647 /* qBittorrent keeps them in an int */
/* dla_parse_rate_limit: a JSON integer from 0 to DLA_RATE_MAX;
 * MT_ERR_INVALID naming what otherwise. */
int dla_parse_rate_limit(json_object *v, const char *what, int64_t *out, mt_error_t **err);
/* dla_rate_share: one connection's share of a limit split among n
 * connections: limit / n, never below 1 B/s; 0 (no limit) when limit is 0
 * or n is 0. */
uint64_t dla_rate_share(uint64_t limit, size_t n);

/* Download priorities (kept in the part file and the finished record):
 * the sources of higher priority downloads are asked first. */
enum { DLA_PRIO_LOW = -1, DLA_PRIO_NORMAL = 0, DLA_PRIO_HIGH = 1 };
/* dla_priority_parse: "low", "normal" or "high"; -1 for anything else.
 * dla_priority_name: the name of a priority (values below 0 are low,
 * above 0 high). */
int dla_priority_parse(const char *s, int *out);
const char *dla_priority_name(int prio);

/* A download id: 32 lower-case hex digits, random, given to a download
 * when it is added and kept by its part file and its finished record. It
 * names one download's life (re-adding the same file makes another), so
 * each history row belongs to exactly one download (docs/schema.md). */
#define DLA_ID_LEN 32
bool dla_id_is_valid(const char *s);
/* dla_id_new: a new download id in out (DLA_ID_LEN + 1 bytes). MT_ERR_IO
 * when the kernel has no random bytes. */
int dla_id_new(char *out, mt_error_t **err);

/* A BitTorrent info-hash a download was added with (a magnet carrying
 * both xt=urn:btih: and xt=urn:ed2k:): 40 lower-case hex digits, kept by
 * the part file and the finished record so qBittorrent clients find the
 * download under the hash they sent (docs/qbittorrent-api.md). */
#define DLA_BTIH_LEN 40
bool dla_btih_is_valid(const char *s);

/* dla_text_is_valid: len bytes (at most max) of strict UTF-8 without
 * control characters (C0, DEL, C1) or NUL. */
bool dla_text_is_valid(const char *s, size_t len, size_t max);

#endif
