/* logic.h: the pure rules of the qBittorrent adapter, kept apart from
 * HTTP and SQL so they can be unit-tested: hashes (the eD2K MD4 padded to
 * a 40-hex "infohash", or the btih a download was added with), the links
 * and magnets torrents/add accepts, the state names, category names,
 * booleans and tag lists. */
#ifndef MT_CGI_QBIT_LOGIC_H
#define MT_CGI_QBIT_LOGIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "util/error.h"

/* The padding that turns a 32-hex MD4 into the 40-hex hash qBittorrent
 * clients expect (the aMuTorrent/eMuleBB convention). */
#define QBIT_HASH_PAD "00000000"
/* Most hashes one request may name (`hashes=a|b|...`). */
#define QBIT_MAX_HASHES 100

typedef enum {
    QBIT_HASH_OK = 0,      /* md4 filled */
    QBIT_HASH_MALFORMED,   /* not 32 or 40 hex digits */
    QBIT_HASH_FOREIGN,     /* 40 hex digits without the padding: a hash no
                              eD2K download can have */
} qbit_hash_rc_t;

/* qbit_hash_parse: a hash as clients send it: 40 hex digits ending in
 * QBIT_HASH_PAD, or a bare 32-hex MD4, any case, no blanks. md4 gets the
 * MD4 in lower case. */
qbit_hash_rc_t qbit_hash_parse(const char *s, char md4[33]);

/* A `hashes` parameter: "all", or 1..QBIT_MAX_HASHES hashes separated by
 * '|'. Padded and bare MD4s go to md4; foreign hashes (40 hex digits
 * without the padding) to btih, in lower case: they name a download only
 * if it was added with that btih, which the database knows (see
 * qbit_hashes_resolve in qbit.h). Malformed hashes are dropped (qBittorrent
 * ignores them), duplicates too. */
typedef struct {
    bool all;
    size_t n;                            /* valid MD4s in md4 */
    char md4[QBIT_MAX_HASHES][33];
    size_t n_btih;                       /* foreign hashes in btih */
    char btih[QBIT_MAX_HASHES][41];
} qbit_hashes_t;

/* qbit_hashes_parse: 0, or -1 when there are more than QBIT_MAX_HASHES
 * entries or the value is empty (a 400). */
int qbit_hashes_parse(const char *s, qbit_hashes_t *out);

/* qbit_link_to_ed2k: one line of torrents/add `urls` turned into the
 * ed2k:// file link the daemon's `add` takes (a new string). Accepted:
 * - an ed2k://|file|...|/ link (checked, returned normalised);
 * - an ed2k://|nodeslist|URL|/ link (likewise: the daemon's add imports
 *   that nodes.dat into Kad);
 * - a magnet carrying xt=urn:ed2k:<md4> (or urn:ed2khash:), or a padded
 *   btih (xt=urn:btih:<md4>00000000), with xl (the size) and dn (the name).
 * Anything else (a plain BitTorrent magnet, http URLs, garbage) fails with
 * MT_ERR_UNSUPPORTED or MT_ERR_INVALID and a message saying why. */
char *qbit_link_to_ed2k(const char *url, mt_error_t **err);

/* qbit_link_parse: qbit_link_to_ed2k, and btih gets the BitTorrent
 * info-hash of a magnet that carries one beside its eD2K hash
 * (xt=urn:btih: with 40 hex digits, or 32 base32 characters, converted),
 * in lower-case hex; "" when there is none. A padded btih is the MD4, not
 * a btih; when a magnet has several btihs, the first counts. */
char *qbit_link_parse(const char *url, char btih[41], mt_error_t **err);

/* qbit_state: the qBittorrent 5.x state for a downloads.state value. A
 * completed download is stoppedUP (what Arr removal after import needs);
 * a forced one that is not stopped is forcedDL. Unknown values give
 * "unknown" (which Sonarr shows as downloading with a warning). */
const char *qbit_state(const char *db_state, bool force_start);

/* qbit_seed_state: the state of a completed download: stoppedUP once the
 * daemon stopped sharing it (its share limits were reached: the
 * downloads row's share_stopped), otherwise uploading while bytes go out
 * and stalledUP when none do. */
const char *qbit_seed_state(bool limit_reached, bool uploading);

/* The downloads.state values, for building SQL from the same table. */
extern const char *const qbit_db_states[];
extern const size_t qbit_n_db_states;

/* qbit_category_valid: qBittorrent's category name rule (no '\\', no
 * leading, trailing or doubled '/') plus Muleteer's (valid UTF-8, no
 * control characters, at most 255 bytes, no "." or ".." part). Empty is
 * not valid (callers answer it separately). */
bool qbit_category_valid(const char *name);

/* qbit_bool_parse: "true"/"false" in any case (what .NET and qBittorrent
 * send). 0, or -1 for anything else. */
int qbit_bool_parse(const char *s, bool *out);

/* qbit_tags_parse: a comma-separated tag list: each tag trimmed, empty
 * ones dropped, duplicates dropped. Returns the count (0..max) stored in
 * tags (pointers into buf, a copy of s the caller frees), or -1 when a tag
 * is invalid (over 64 bytes, control characters, invalid UTF-8) or there
 * are more than max. */
int qbit_tags_parse(const char *s, char **buf, const char **tags, size_t max);

/* qbit_int_parse: an integer as Qt's toLongLong reads one (blanks around
 * it, an optional sign, decimal digits). 0, or -1 for anything else or a
 * value outside long long (qBittorrent then uses its default). */
int qbit_int_parse(const char *s, long long *out);

/* qbit_limit_kib: a limit in bytes/s as qBittorrent's transfer routes
 * take it turned into the KiB/s it keeps: 0 or less is unlimited (0), 1
 * to 1024 is 1, above that it is rounded down to whole KiB/s. */
long long qbit_limit_kib(long long bytes);

/* The types of log/main entries (qBittorrent's Log::MsgType bits). */
enum {
    QBIT_LOG_NORMAL = 1,
    QBIT_LOG_INFO = 2,
    QBIT_LOG_WARNING = 4,
    QBIT_LOG_CRITICAL = 8,
};

/* qbit_log_type: the type of a daemon log line by its level name: "info"
 * is normal, "debug" info, "warn" warning, "error" critical; anything
 * else normal. */
int qbit_log_type(const char *level);

/* qbit_rate_limit_parse: a `limit` of setDownloadLimit/setUploadLimit as
 * qBittorrent reads it, in bytes/s: text it cannot read is 0, and 0, a
 * negative value or its int maximum and above mean no limit. 0 here is no
 * limit. */
int64_t qbit_rate_limit_parse(const char *s);

/* qbit_trimmed: s without the white space around it, as Qt's trimmed()
 * (ASCII space, \t, \n, \v, \f, \r). A new string. */
char *qbit_trimmed(const char *s);

/* qbit_torrent_name: a `name` of torrents/rename as qBittorrent takes it:
 * trimmed of white space, each line break ("\r\n", "\r", "\n") a space.
 * A new string ("" when nothing is left). */
char *qbit_torrent_name(const char *s);

/* qbit_file_prio_parse: a filePrio `priority`: 0 with *out set, -1 when
 * it is not an integer, -2 when it is none of qBittorrent's priorities
 * (0 ignored, 1 normal, 6 high, 7 maximum). */
int qbit_file_prio_parse(const char *s, int *out);

/* qbit_file_ids_check: a filePrio `id` list ("0|1|..."), an eD2K download
 * being one file (id 0): 0 when every id is 0, 400 when one is not an
 * integer, else 409 (an id out of range), as qBittorrent answers. */
int qbit_file_ids_check(const char *ids);

#endif
