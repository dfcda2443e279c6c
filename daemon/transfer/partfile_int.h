/* partfile_int.h: what the files of the part file share (partfile.h is its
 * API; only daemon/transfer/partfile_*.c include this): the structures, the
 * part geometry, the descriptor cache, blocking I/O helpers. */
#ifndef MT_DAEMON_PARTFILE_INT_H
#define MT_DAEMON_PARTFILE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/transfer/dlattr.h"
#include "daemon/transfer/fdcache.h"
#include "daemon/transfer/partfile.h"
#include "daemon/transfer/rangeset.h"
#include "ed2k/hash.h"

/* Bytes read or copied at once by the jobs on workers. */
#define PF_IO_CHUNK (256u * 1024u)

/* The persistent state: exactly what the metadata file holds. */
struct pf_meta {
    uint8_t hash[ED2K_HASH_LEN];
    uint64_t size;
    char *name;
    uint8_t (*part_hashes)[ED2K_HASH_LEN]; /* ed2k_hash_count(size), or NULL */
    bool has_aich;
    uint8_t aich[ED2K_AICH_LEN];
    rangeset_t *filled;
    size_t n_parts;    /* ED2K parts */
    uint8_t *verified; /* n_parts flags; the phantom part is always set */
    char *category, *added_by, *added_via; /* NULL: none */
    char *save_path; /* where it completes (setLocation); NULL: its category's */
    char download_id[DLA_ID_LEN + 1];      /* "": none yet */
    char btih[DLA_BTIH_LEN + 1];           /* "": added without one */
    int priority;
    pf_state_t state;
    int64_t added_at, completed_at;
    uint64_t downloaded, uploaded;
    dla_tags_t tags;
    double ratio_limit;     /* DLA_LIMIT_GLOBAL by default */
    int seeding_time_limit; /* minutes; DLA_LIMIT_GLOBAL by default */
    bool force_start;
    int64_t dl_limit, up_limit; /* bytes/s, 0: none (dlattr.h) */
    int64_t last_activity;  /* Unix time of the last byte in or out, 0: never */
    pf_source_t *sources;
    size_t n_sources;
};

/* Shared between a partfile and its save/complete jobs, which may outlive
 * it and run on other threads: serialises metadata writes so that the
 * temporary file is never written twice at once and an older snapshot
 * never replaces a newer one, and stops saves once the files are gone. */
typedef struct pf_shared {
    atomic_uint refs;      /* not under lock: the loop never waits on a worker */
    pthread_mutex_t lock;  /* held by workers across a whole metadata write */
    uint64_t written_seq;  /* under lock: the newest snapshot on disk */
    bool gone;             /* under lock: the files were deleted or moved */
} pf_shared_t;

struct partfile {
    pf_meta_t *m;
    char *temp_dir, *data_path, *met_path, *tmp_path;
    bool dirty;
    uint32_t *part_gen; /* per part: bumped whenever its bytes change */
    size_t n_verified;  /* verified parts, phantom included */
    uint64_t verified_bytes;
    uint64_t save_seq;
    pf_shared_t *shared;
    /* Every byte not filled is a hole of the sparse file (a new download, or
     * a corrupt part whose range was punched out), so zeros need not be
     * written: they are already there, and the file stays sparse. False
     * after a load (data written after the last save may lie in the gaps)
     * and when punching a hole fails. */
    bool holes_clean;
};

/* ---- Part geometry (ed2k-protocol.md §6.2) ---- */

static inline uint64_t
pf_part_start(size_t i)
{
    return (uint64_t)i * ED2K_PARTSIZE;
}

static inline uint64_t
pf_part_end(uint64_t size, size_t i)
{
    uint64_t e = ((uint64_t)i + 1) * ED2K_PARTSIZE;
    return e < size ? e : size;
}

/* pf_is_phantom: the empty last part of a size that is an exact multiple
 * of the part size. */
static inline bool
pf_is_phantom(uint64_t size, size_t i)
{
    return pf_part_start(i) >= size;
}

/* ---- partfile_meta.c: the metadata and its text ---- */

/* pf_meta_new: the metadata of a new download (no name yet), its phantom
 * part verified, every attribute at its default. */
pf_meta_t *pf_meta_new(const uint8_t hash[ED2K_HASH_LEN], uint64_t size);
/* pf_text_ok: len bytes of valid UTF-8 without control characters (and,
 * when is_name, without '/'). */
bool pf_text_ok(const char *s, size_t len, bool is_name);
/* pf_string_ok: an optional metadata string: NULL, or at most
 * PF_MAX_STRING bytes that pass pf_text_ok. */
bool pf_string_ok(const char *s);
/* pf_utf8_cut: the longest prefix of s (len bytes of valid UTF-8) of at
 * most max bytes that ends on a character boundary. */
size_t pf_utf8_cut(const char *s, size_t len, size_t max);

/* ---- partfile_data.c: the data file ---- */

/* pf_fdcache: the data files' descriptor cache, shared by every part file
 * (loop thread; made on first use). pf_data_fd_get borrows pf's data file
 * descriptor (-1 with errno); give it back with pf_data_fd_put. */
fdcache_t *pf_fdcache(void);
int pf_data_fd_get(partfile_t *pf);
void pf_data_fd_put(partfile_t *pf);
/* pf_recount_verified: recomputes n_verified and verified_bytes. */
void pf_recount_verified(partfile_t *pf);

/* Blocking I/O, on any thread. pf_io_write_all: all of len bytes (a write
 * of 0 bytes counts as ENOSPC); pf_io_pread_all: exactly len bytes at off
 * (EIO at a short file); pf_io_fsync_dir: fsync of a directory. Each
 * returns 0, or -1 with errno. pf_io_code: the error code of an errno:
 * MT_ERR_NO_SPACE for a full disk or quota, else MT_ERR_IO. */
int pf_io_write_all(int fd, const void *data, size_t len);
int pf_io_pread_all(int fd, void *buf, size_t len, uint64_t off);
int pf_io_fsync_dir(const char *dir);
int pf_io_code(int e);

/* ---- partfile_save.c: the state shared with the jobs ---- */

/* pf_shared_new: one reference; pf_shared_ref adds one (any thread);
 * pf_shared_unref drops one and frees with the last (accepts NULL). */
pf_shared_t *pf_shared_new(void);
pf_shared_t *pf_shared_ref(pf_shared_t *s);
void pf_shared_unref(pf_shared_t *s);

#endif
