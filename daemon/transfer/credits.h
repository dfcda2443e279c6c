/* credits.h: eMule's credit system: per peer (by user hash) the bytes we
 * uploaded to it and downloaded from it, its verified secure-ident key,
 * kept in the state file credits.dat (aMule's clients.met is the model),
 * and the modifier they give its place in the upload queue. */
#ifndef MT_DAEMON_CREDITS_H
#define MT_DAEMON_CREDITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ed2k/secident.h"
#include "util/error.h"

/* A record not seen for so long is dropped when the file is loaded, and
 * by credits_expire in a daemon that runs for longer (aMule: 150 days). */
#define CREDITS_EXPIRE (150 * 24 * 3600)
/* Below this many bytes downloaded from a peer it earns no bonus (aMule). */
#define CREDITS_MIN_DOWNLOADED 1000000

typedef struct credit {
    uint8_t hash[16];
    uint64_t uploaded;   /* bytes we uploaded to it */
    uint64_t downloaded; /* bytes we downloaded from it */
    int64_t last_seen;   /* wall clock, for expiry */
    uint8_t key_len;     /* its verified public key, 0: none yet */
    uint8_t key[ED2K_SECIDENT_MAX_KEY];
} credit_t;

typedef struct credits credits_t;

/* credits_new: an empty table; credits_free accepts NULL. */
credits_t *credits_new(void);
void credits_free(credits_t *c);
size_t credits_count(const credits_t *c);

/* credits_find: the record of hash, or NULL. Owned by the table; valid
 * until the next credits_get. */
credit_t *credits_find(const credits_t *c, const uint8_t hash[16]);
/* credits_get: the record of hash, a new empty one when there is none;
 * its last_seen set to now. */
credit_t *credits_get(credits_t *c, const uint8_t hash[16], time_t now);

/* credits_add_uploaded / _downloaded: n more bytes to or from hash. */
void credits_add_uploaded(credits_t *c, const uint8_t hash[16], uint64_t n, time_t now);
void credits_add_downloaded(credits_t *c, const uint8_t hash[16], uint64_t n, time_t now);

/* credits_verified: hash's peer proved it owns key. The first key
 * verified for a hash is kept, and what was counted before for that hash
 * is cleared (it could have been anybody, aMule does the same); true.
 * False when the record holds another key: a peer using somebody else's
 * hash (its counts are kept for the real owner). */
bool credits_verified(credits_t *c, const uint8_t hash[16], const uint8_t *key, size_t len,
                      time_t now);

/* credits_merge: adds the record in from another client's credit file
 * (clients.met): a new hash is copied; a known one keeps the larger of each
 * count and of last_seen, and its key (in's only when it has none). A record
 * older than CREDITS_EXPIRE is ignored (false). */
bool credits_merge(credits_t *c, const credit_t *in, time_t now);
/* credits_expire: drops the records not seen since now - CREDITS_EXPIRE;
 * how many went. Pointers from credits_find to them become invalid. */
size_t credits_expire(credits_t *c, time_t now);

/* credits_ratio: aMule's score modifier from the bytes downloaded from and
 * uploaded to a peer: 1 under CREDITS_MIN_DOWNLOADED downloaded, else the
 * smaller of downloaded*2/uploaded (10 when nothing uploaded) and
 * sqrt(downloaded in MiB + 2), clamped to 1..10. */
double credits_ratio(uint64_t downloaded, uint64_t uploaded);
/* credits_modifier: the modifier of hash's peer: its ratio if identified,
 * else 1 (credits are honoured only for identified peers). */
double credits_modifier(const credits_t *c, const uint8_t hash[16], bool identified);

/* credits_load: adds the records of path (a missing file is an empty
 * table), dropping those not seen since now - CREDITS_EXPIRE. MT_ERR_INVALID
 * when the file is damaged (nothing added). credits_save: writes every
 * record to path atomically (mode 0600). Blocking: small, rare writes. */
int credits_load(credits_t *c, const char *path, time_t now, mt_error_t **err);
int credits_save(const credits_t *c, const char *path, mt_error_t **err);

#endif
