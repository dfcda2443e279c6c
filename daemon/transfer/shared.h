/* shared.h: the complete files Muleteer shares: every regular file of the
 * shared directories and the incoming directory, plus single files named
 * by the finished downloads, hashed (eD2K + AICH) on a worker thread, with
 * a cache keyed by path, size and mtime so a restart re-hashes nothing that
 * did not change. */
#ifndef MT_DAEMON_SHARED_H
#define MT_DAEMON_SHARED_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/core/worker.h"
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
/* shared_set_dirs: from now on dirs and extra_dir (as shared_new takes
 * them) are the shared directories; a scan starts (after the one running:
 * each scan works on its own copy of the list). */
void shared_set_dirs(shared_t *s, const char *dirs, const char *extra_dir);

/* shared_set_bus: from now on, a file that becomes shared (a scan found it,
 * shared_add) is published as shared_added, one that no longer is as
 * shared_removed. */
struct bus;
void shared_set_bus(shared_t *s, struct bus *bus);
/* shared_rescan: starts a scan on a worker (the first one loads the
 * cache); a request during a scan runs one more scan after it. done (may
 * be NULL) is called on the loop thread when the scan it triggered ends. */
void shared_rescan(shared_t *s, void (*done)(void *ctx), void *ctx);
bool shared_is_scanning(const shared_t *s);
/* shared_has_scanned: a scan has finished since shared_new (before it, the
 * list is empty or holds only shared_add's files). */
bool shared_has_scanned(const shared_t *s);

/* A single file to share wherever it is, if it has that hash. */
typedef struct shared_pin {
    char *path;
    uint8_t hash[ED2K_HASH_LEN];
} shared_pin_t;

/* shared_set_files: single files to share wherever they are (the files of
 * finished downloads, which may lie in a category directory outside the
 * shared directories), from the next scan on; copied. A file is listed
 * when it is a regular file with the expected hash at scan time (a file
 * that changed, or a path from a damaged record, is not shared). */
void shared_set_files(shared_t *s, const shared_pin_t *pins, size_t n);
/* shared_has_file: the list holds the file at path with that hash. */
bool shared_has_file(const shared_t *s, const uint8_t hash[ED2K_HASH_LEN], const char *path);

/* shared_set_withheld: the files of these n hashes are not offered to
 * peers nor to servers (finished downloads whose sharing was stopped);
 * the list keeps them, so shared_find and shared_has_file still see them.
 * Copied; replaces the previous set. */
void shared_set_withheld(shared_t *s, const uint8_t (*hashes)[ED2K_HASH_LEN], size_t n);
/* shared_is_withheld: the hash is in that set. */
bool shared_is_withheld(const shared_t *s, const uint8_t hash[ED2K_HASH_LEN]);

/* shared_add: lists a file that was just hashed elsewhere (a completed
 * download); takes a copy of r's hashes. */
void shared_add(shared_t *s, const char *path, uint64_t size, int64_t mtime,
                const ed2k_hash_result_t *r);

/* shared_seed: the hashes another client computed for the file at path
 * (aMule's or eMule's known.met): the next scan lists that file without
 * hashing it if its size and mtime are still these (the scan's log line
 * counts them); else it is hashed as usual. Takes a copy of r's hashes. */
void shared_seed(shared_t *s, const char *path, uint64_t size, int64_t mtime,
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
