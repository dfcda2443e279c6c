/* syncdiff.h: the pure parts of sync/maindata's deltas, kept apart from
 * HTTP and SQL so they can be unit-tested: which members of a JSON object
 * changed (a torrent's fields, the server state, a category), the
 * fingerprint that says whether a torrent changed at all, which names of
 * a list or map came and went, and the `torrents` part of a delta built
 * from the stored versions of the rows. */
#ifndef MT_CGI_QBIT_SYNCDIFF_H
#define MT_CGI_QBIT_SYNCDIFF_H

#include <event2/buffer.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* qbit_sync_flat_diff: the members of the JSON object text `now` whose
 * value differs, as text, from that of the same key in `before` (or that
 * `before` lacks), appended to out as a JSON object text in now's order
 * ("{}" when none). Both texts come from the same renderer, so equal
 * values are equal texts; a nested value is compared whole. Returns the
 * number of members written, or -1 (nothing written) when either text is
 * not a JSON object. */
int qbit_sync_flat_diff(const char *before, size_t blen, const char *now, size_t nlen,
                        struct evbuffer *out);

/* qbit_sync_flat_merge: the JSON object text base with the members of
 * over replacing those of the same key (and those base lacks added at
 * the end), appended to out: a version stored as its changes from a base
 * made whole again. -1 (nothing written) when either text is not a JSON
 * object. */
int qbit_sync_flat_merge(const char *base, size_t blen, const char *over, size_t olen,
                         struct evbuffer *out);

/* The fingerprint of a torrent's JSON: MD5 in hex. */
#define QBIT_SYNC_FP_LEN 32

/* qbit_sync_fingerprint: fills fp with a digest of the top-level members
 * of the JSON object text json, leaving out the members whose key is in
 * skip (a NULL-terminated list; NULL for none). Two texts with the same
 * members in the same order, apart from the skipped ones, have the same
 * fingerprint. -1 when json is not a JSON object. */
int qbit_sync_fingerprint(const char *json, size_t len, const char *const *skip,
                          char fp[QBIT_SYNC_FP_LEN + 1]);

/* qbit_sync_diff_members: the members of now (an object) that before (an
 * object, or NULL for none) lacks or holds with another value; a member
 * that is an object in both is itself reduced to its changed members (as
 * qBittorrent sends a category). A new object, empty when nothing
 * changed. */
json_object *qbit_sync_diff_members(json_object *before, json_object *now);

/* qbit_sync_diff_keys: the keys of before (an object, or NULL) that now
 * (an object) lacks, as a new array of strings in before's order. */
json_object *qbit_sync_diff_keys(json_object *before, json_object *now);

/* qbit_sync_diff_list: the strings of the array now that the array
 * before (or NULL) lacks (*added), and those of before that now lacks
 * (*removed); two new arrays. */
void qbit_sync_diff_list(json_object *before, json_object *now, json_object **added,
                         json_object **removed);

/* A stored version of a torrent's JSON: the one a client had (current
 * false: the version in force at the client's rid, since replaced or
 * removed) or the one in force now (current true). */
typedef struct {
    const char *id;   /* the torrent's hash, the key of `torrents` */
    bool current;
    const char *body; /* JSON object text */
    size_t len;
} qbit_sync_version_t;

/* qbit_sync_torrents_delta: given the versions of the torrents that
 * changed since a client's rid, sorted by id (at most one of each kind per
 * id), appends to torrents the members of the delta's `torrents` object
 * (`"id":{changed fields}` separated by commas, without the braces: a new
 * torrent whole, a changed one its changed fields, nothing for one that
 * came back unchanged) and to removed the members of `torrents_removed`
 * (`"id"` separated by commas). Returns the number of torrents written
 * to torrents; *n_removed gets the number of removed ones. */
size_t qbit_sync_torrents_delta(const qbit_sync_version_t *v, size_t n, struct evbuffer *torrents,
                                struct evbuffer *removed, size_t *n_removed);

#endif
