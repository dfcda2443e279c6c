/* shared.h: the complete files Muleteer shares: every regular file of the
 * shared directories and the incoming directory, hashed (eD2K + AICH) on a
 * worker thread, with a cache keyed by path, size and mtime so a restart
 * re-hashes nothing that did not change. */
#ifndef MT_DAEMON_SHARED_H
#define MT_DAEMON_SHARED_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/worker.h"
#include "ed2k/hash.h"

/* A shared file. Immutable once listed, except the counters, which belong
 * to the loop thread. */
typedef struct shared_file {
    char *path;
    const char *name; /* points into path */
    uint64_t size;
    int64_t mtime;
    uint8_t hash[ED2K_HASH_LEN];
    uint8_t aich[ED2K_AICH_LEN];
    uint8_t (*part_hashes)[ED2K_HASH_LEN];
    size_t n_part_hashes;
    /* statistics (loop thread) */
    uint64_t uploaded;
    uint32_t requests;
    bool mark; /* shared.c's own bookkeeping */
} shared_file_t;

typedef struct shared shared_t;

/* shared_new: dirs is a ':'-separated list of directories (may be empty);
 * extra_dir (the incoming directory, may be NULL) is shared too. The cache
 * lives at cache_path. Nothing is read until the first shared_rescan(). */
shared_t *shared_new(struct event_base *base, worker_pool_t *pool, const char *cache_path,
                     const char *dirs, const char *extra_dir);
void shared_free(shared_t *s);

/* shared_rescan: starts a scan on a worker (the first one loads the
 * cache); a request during a scan runs one more scan after it. done (may
 * be NULL) is called on the loop thread when the scan it triggered ends. */
void shared_rescan(shared_t *s, void (*done)(void *ctx), void *ctx);
bool shared_is_scanning(const shared_t *s);

/* shared_add: lists a file that was just hashed elsewhere (a completed
 * download); takes a copy of r's hashes. */
void shared_add(shared_t *s, const char *path, uint64_t size, int64_t mtime,
                const ed2k_hash_result_t *r);

shared_file_t *shared_find(const shared_t *s, const uint8_t hash[ED2K_HASH_LEN]);
size_t shared_count(const shared_t *s);
shared_file_t *shared_get(const shared_t *s, size_t i);
/* shared_last_hashed: files the last finished scan had to hash (the others
 * came from the cache). */
size_t shared_last_hashed(const shared_t *s);
/* shared_generation: changes whenever the list changes (for re-offering
 * files to servers). */
uint64_t shared_generation(const shared_t *s);

#endif
