/* download_int.h: what the download queue (download.c) and the sources
 * (source.c) share: the downloads' structures, and what the queue does
 * for the sources. Only those two files include it. */
#ifndef MT_DAEMON_DOWNLOAD_INT_H
#define MT_DAEMON_DOWNLOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "daemon/core/daemon.h"
#include "daemon/transfer/partfile.h"
#include "daemon/transfer/srcpolicy.h"
#include "ed2k/aich.h"
#include "util/error.h"

/* download.h and source.h name these download_t, dlq_t and dl_source_t;
 * this header, which neither may include, uses their tags. */
struct download;
struct dlq;
struct dl_source;

#define DL_MAX_CONTRIBUTORS 32

/* A source that wrote new data into a part. */
typedef struct dl_contributor {
    uint64_t src; /* the source's id */
    uint32_t ip;
} dl_contributor_t;

typedef struct dl_part {
    bool verifying; /* a check of it is on a worker */
    size_t n_contrib;
    dl_contributor_t contrib[DL_MAX_CONTRIBUTORS];
    /* After a corrupt part that several peers wrote into, the part is
     * downloaded again from one source at a time (owner), so a second
     * failure points at one peer. */
    bool exclusive;
    struct dl_source *owner;
    /* Who wrote each AICH block since the part was last checked: the
     * source's id, and how many sources did (2: more than one). */
    uint64_t block_src[ED2K_AICH_BLOCKS_PER_PART];
    uint8_t block_n[ED2K_AICH_BLOCKS_PER_PART];
    /* An AICH recovery (source.c): the part failed its MD4, its bytes are
     * kept while a source is asked for the part's recovery data. */
    bool recovering;
    bool aich_sent;          /* the request went out to aich_src */
    uint64_t aich_src;       /* the source asked (0: none yet) */
    time_t aich_deadline;    /* monotonic: ask another one after it */
    uint64_t aich_tried[8];  /* sources asked already */
    size_t n_aich_tried;
    uint8_t (*aich_blocks)[ED2K_AICH_LEN]; /* the part's block hashes as read */
    size_t n_aich_blocks;
} dl_part_t;

/* A root sources sent for the file (OP_AICHFILEHASHANS), and the address
 * ranges (/20, as aMule counts them) that sent it. */
#define DL_AICH_MAX_ROOTS 8
#define DL_AICH_MAX_VOTERS 32
typedef struct dl_aich_vote {
    uint8_t root[ED2K_AICH_LEN];
    uint32_t voters[DL_AICH_MAX_VOTERS];
    size_t n_voters;
} dl_aich_vote_t;

struct download {
    struct dlq *q;
    partfile_t *pf;
    char hex[33];
    struct dl_source *sources;
    size_t n_sources;
    uint16_t *availability; /* per part: the sources that have it */
    dl_part_t *parts;
    size_t n_parts;
    struct dl_source *hashset_asker;
    uint64_t next_src_id;
    bool completing, deleted, saving, failed;
    bool recovered; /* resumed from disk: data may be there beyond the metadata */
    char *error;
    uint32_t dropped[DL_SRC_N_VERDICTS]; /* sources not taken, by verdict */
    dl_aich_vote_t aich_votes[DL_AICH_MAX_ROOTS]; /* until a root is trusted */
    size_t n_aich_votes;
    /* Storage trouble: the download is in the error state and does no disk
     * I/O (its sources are stopped, data still arriving is dropped) until
     * a re-check at io_retry_at finds the trouble gone. */
    bool io_error;
    bool io_move;     /* the move into incoming failed: the re-check retries it */
    bool io_no_space; /* a full disk: the re-check waits for free space */
    bool io_stop;     /* its sources are still to be stopped */
    time_t io_retry_at, io_ok_since; /* monotonic */
    unsigned io_backoff;             /* seconds */
    int refs; /* worker jobs in flight */
    /* speed */
    uint64_t bytes_tick;
    double rate;
};

struct dlq {
    muleteerd_t *d;
    struct download **dls;
    size_t n;
    time_t last_save;
    bool io_stops; /* some download has io_stop set */
};

/* dlq_lookup: the download of a file hash, NULL when there is none. */
static inline struct download *
dlq_lookup(const struct dlq *q, const uint8_t hash[16])
{
    for (size_t i = 0; i < q->n; i++)
        if (memcmp(pf_hash(q->dls[i]->pf), hash, 16) == 0)
            return q->dls[i];
    return NULL;
}

/* ---- download.c, for the sources ---- */

/* dl_is_active: the download wants data now (not paused, stopped,
 * deleted, completing, failed, in storage trouble, or complete). */
bool dl_is_active(const struct download *dl);
/* dl_schedule_verification: checks part on a worker unless it is being
 * checked already (speculative: whatever is on disk, after a restart). */
void dl_schedule_verification(struct download *dl, size_t part, bool speculative);
/* dl_storage_trouble: the disk refused a write, a metadata save (move
 * false) or the move into incoming (move true): the download goes into
 * the error state; its sources are stopped by dlq_apply_io_stops. */
void dl_storage_trouble(struct download *dl, const mt_error_t *err, bool move);
/* dlq_apply_io_stops: stops the sources of downloads that ran into
 * storage trouble (not while a packet is being taken apart). */
void dlq_apply_io_stops(struct dlq *q);

#endif
