/* source.h: the sources of the downloads. A source is the conversation
 * with one peer about one file (ed2k-protocol.md §5.3-5.8): the file
 * request, the hash set, a place in the peer's upload queue, blocks in
 * flight and their data, source exchange. Here too: the sources offered to
 * a download and the verdicts on them, and each peer's sources
 * (peer_dl_data). The queue (download.h) owns the downloads and calls the
 * src_ functions below; they share download_int.h. */
#ifndef MT_DAEMON_SOURCE_H
#define MT_DAEMON_SOURCE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/transfer/srcpolicy.h"
#include "ed2k/link.h"

/* The queue's types, as download.h names them (C11 allows the repetition). */
typedef struct download download_t;
typedef struct dlq dlq_t;
typedef struct dl_source dl_source_t;

/* ---- Sources offered (the verdicts: srcpolicy.h) ---- */

/* dl_add_source: offers a source to dl (ip in eD2K form). DL_SRC_ADDED (0)
 * when it became a source (src_found on the bus); anything else is counted
 * as a drop unless it is DL_SRC_KNOWN. */
dl_src_verdict_t dl_add_source(download_t *dl, uint32_t ip, uint16_t port);

/* src_add_link_sources: the sources of link l (host names, resolved on a
 * worker), offered to the download of l's hash once resolved. */
void src_add_link_sources(dlq_t *q, const ed2k_link_t *l);
/* src_restore: the known sources kept in dl's part file. */
void src_restore(download_t *dl);

/* ---- What the queue does with them ---- */

/* src_attach: the download side's handler on the peers (packets,
 * connections made and lost), with q for context. */
void src_attach(dlq_t *q);
/* src_tick: once a second, each source of dl: connects, asks, re-asks,
 * times out, asks for more blocks (srcpolicy.h decides when). */
void src_tick(download_t *dl, time_t now);
/* src_apply_rate_limit: dl's download limit (pf_dl_limit, 0: none)
 * shared evenly among the connections sending it data now, as each
 * connection's own read limit (peer.h). Called when a source starts or
 * stops downloading, every tick and when the limit changes. */
void src_apply_rate_limit(download_t *dl);
/* src_stop_all: every source of dl gives up its slot or queue place (the
 * peer is told), drops its blocks in flight and goes idle. */
void src_stop_all(download_t *dl);
/* src_cancel_slots: tells the peers that gave dl a slot, or hold a place
 * in their queue for it, that we no longer want it. src_cancel_downloading:
 * the same for slots only (at shutdown). */
void src_cancel_slots(download_t *dl);
void src_cancel_downloading(download_t *dl);
/* src_free_all: frees every source of dl (src_lost on the bus each,
 * unless dl is deleted). */
void src_free_all(download_t *dl);
/* src_ask_again: every source of dl is asked again at once, its failures
 * forgotten. */
void src_ask_again(download_t *dl);
/* src_blame_corrupt: part of dl turned out corrupt. One peer wrote all of
 * it: it loses trust, and is banned when it does it again. Several did:
 * the part is downloaded again from one source at a time. */
void src_blame_corrupt(download_t *dl, size_t part);
/* src_clear_blame: part of dl was verified: who wrote it no longer
 * matters. */
void src_clear_blame(download_t *dl, size_t part);
/* src_aich_recover: part of dl failed its MD4 check and its bytes were
 * kept (pf_verify_keep_on_mismatch); blocks are its AICH block hashes as
 * read. A source that has the part is asked for its recovery data, which
 * is verified against the trusted root; then only the bad blocks are
 * downloaded again and whoever alone sent one is banned. With nobody to
 * ask now, sources are looked for (a second at a time) until a deadline;
 * when none answers usefully, the whole part goes (src_blame_corrupt).
 * Returns false when recovery is impossible: the caller discards the
 * whole part. */
bool src_aich_recover(download_t *dl, size_t part, const uint8_t (*blocks)[ED2K_AICH_LEN],
                      size_t n_blocks);
/* src_aich_clear: forgets part's recovery (the download goes away). */
void src_aich_clear(download_t *dl, size_t part);

/* What dl's sources are doing, for dl_to_json. */
typedef struct src_counts {
    size_t transferring, queued, complete;
} src_counts_t;
void src_count(const download_t *dl, src_counts_t *out);
/* The states of a source, for the metrics: SRC_N_STATES of them, named
 * as src_peers_json names them (src_state_name: NULL out of range).
 * src_count_states adds dl's sources to counts, by state. */
#define SRC_N_STATES 8
const char *src_state_name(size_t state);
void src_count_states(const download_t *dl, uint64_t counts[SRC_N_STATES]);
/* src_requested_json: the bytes asked of dl's sources and not all
 * received yet (the union of their blocks in flight), as a flat array of
 * half-open ranges [start, end, start, end, ...], ascending. A new array. */
json_object *src_requested_json(const download_t *dl);
/* src_peers_json: an array of {peer, state, received, rank}, one per
 * source (caller puts it). */
json_object *src_peers_json(const download_t *dl);

#endif
