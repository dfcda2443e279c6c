/* srcpolicy.h: a download source's decisions, kept pure (no network, no
 * clock of their own) so they can be tested: the verdicts on a source
 * offered, and its timing: when it is asked again after each outcome, when
 * an answer or data is late, what a slot that brings nothing calls for,
 * and when the source is given up (ed2k-protocol.md §5.5, §5.8, §5.10). */
#ifndef MT_DAEMON_SRCPOLICY_H
#define MT_DAEMON_SRCPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* ---- Verdicts (named dl_src_, as the download API they belong to) ---- */

/* What became of a source offered to a download: added, already known, or
 * dropped for a reason. Drops are counted per download (dl_to_json's
 * "sources_dropped"), so a source the user typed into a link does not
 * vanish without a word. */
typedef enum {
    DL_SRC_ADDED = 0,
    DL_SRC_KNOWN,      /* already a source of this download: not a drop */
    DL_SRC_INVALID,    /* address or port 0 */
    DL_SRC_LOWID,      /* a LowID, unreachable while we are not a HighID on its server */
    DL_SRC_LAN,        /* a LAN or reserved address, and filter_lan is on */
    DL_SRC_SELF,       /* our own address and port */
    DL_SRC_BANNED,     /* a banned address */
    DL_SRC_LIMIT,      /* max_sources_per_file reached */
    DL_SRC_UNRESOLVED, /* a link's host name that did not resolve */
    DL_SRC_FILTERED,   /* an address the IP filter blocks (net/ipblock.h) */
    DL_SRC_N_VERDICTS
} dl_src_verdict_t;

/* dl_src_verdict_key: the verdict's short name ("lan", "limit", ...), the
 * key in "sources_dropped". dl_src_verdict_reason: why, for the log.
 * dl_src_is_drop: anything but added and known. */
const char *dl_src_verdict_key(dl_src_verdict_t v);
const char *dl_src_verdict_reason(dl_src_verdict_t v);
bool dl_src_is_drop(dl_src_verdict_t v);

/* ---- Timing ---- */

#define SRCPOL_ASK_TIMEOUT 60         /* seconds for an answer to a request */
#define SRCPOL_DATA_TIMEOUT 100       /* seconds without data in a slot (§5.10) */
#define SRCPOL_SLOT_STALL_TIMEOUT 30  /* seconds without data for blocks in flight */
#define SRCPOL_MAX_SLOT_STALLS 2      /* new slots asked before the connection is closed */
#define SRCPOL_REASK_INTERVAL 1740    /* 29 minutes between re-asks in a queue (§5.5) */
#define SRCPOL_MIN_UPLOAD_REQ_GAP 600 /* aMule/eMule call faster re-asks aggressive */
#define SRCPOL_NONEEDED_RETRY 600     /* a source with nothing we need */
#define SRCPOL_INACTIVE_RETRY 60      /* a download that is not active (paused...) */
#define SRCPOL_REFUSED_RETRY 20       /* a connection that could not be started */
#define SRCPOL_SX2_INTERVAL 2400      /* source exchange at most every 40 min */
#define SRCPOL_MAX_FAILURES 10        /* failures in a row before a source goes */
#define SRCPOL_QUICK_RETRIES 2        /* quick reconnects after a lost slot */
#define SRCPOL_QUICK_RETRY 10         /* seconds before one */

/* The schedule of one source (monotonic seconds). Zeroed: asked at once. */
typedef struct srcpol {
    time_t next_ask;        /* not asked (or connected to) again before */
    time_t asked_at;        /* our last request that waits for an answer */
    time_t upload_req_at;   /* our last OP_STARTUPLOADREQ */
    time_t last_data;       /* the slot's last data (or its start) */
    time_t sx_asked_at;     /* our last source-exchange request, 0: never */
    unsigned failures;      /* in a row */
    unsigned quick_retries; /* quick reconnects after lost slots */
    unsigned slot_stalls;   /* new slots asked in a row without data */
} srcpol_t;

/* ---- Asking ---- */

/* srcpol_may_ask: whether the source may be asked (or connected to) at
 * now: its next_ask has come, and a source in the peer's queue was not
 * asked for a slot less than SRCPOL_MIN_UPLOAD_REQ_GAP ago. */
bool srcpol_may_ask(const srcpol_t *p, bool queued, time_t now);
/* srcpol_asked: a request that waits for an answer went out (a file
 * request, a hash set request). srcpol_upload_requested: an
 * OP_STARTUPLOADREQ went out (it waits for an answer too). */
void srcpol_asked(srcpol_t *p, time_t now);
void srcpol_upload_requested(srcpol_t *p, time_t now);
/* srcpol_answer_late: the answer to the last request is overdue. */
bool srcpol_answer_late(const srcpol_t *p, time_t now);
/* srcpol_sx_due: whether a source-exchange request may go with the next
 * file request; srcpol_sx_asked: it went. */
bool srcpol_sx_due(const srcpol_t *p, time_t now);
void srcpol_sx_asked(srcpol_t *p, time_t now);

/* ---- Outcomes ---- */

/* srcpol_queued: in the peer's upload queue: re-asked after
 * SRCPOL_REASK_INTERVAL (also after OP_OUTOFPARTREQS). */
void srcpol_queued(srcpol_t *p, time_t now);
/* srcpol_nothing_needed: the source has no part we need: asked again
 * after SRCPOL_NONEEDED_RETRY, or a quarter of it when it gave up a slot
 * (what it has may be needed again once blocks in flight fail). */
void srcpol_nothing_needed(srcpol_t *p, bool gave_up_slot, time_t now);
/* srcpol_inactive: the download is not active: looked at again later. */
void srcpol_inactive(srcpol_t *p, time_t now);
/* srcpol_connected: the connection is up; the failures in a row end. */
void srcpol_connected(srcpol_t *p);
/* srcpol_connect_refused: a connection could not even be started
 * (limits, a ban): tried again after SRCPOL_REFUSED_RETRY. */
void srcpol_connect_refused(srcpol_t *p, time_t now);
/* srcpol_reset: asked again at once, its failures forgotten (the download
 * was resumed, or came out of storage trouble). */
void srcpol_reset(srcpol_t *p);

/* What the source was doing when its connection closed. */
typedef enum {
    SRCPOL_CLOSED_CONNECTING, /* it never connected */
    SRCPOL_CLOSED_IN_SLOT,    /* waiting for an upload slot, or downloading in one */
    SRCPOL_CLOSED_OTHER,      /* idle, or during the file request or the hash set */
} srcpol_closed_t;

/* srcpol_closed: the connection closed (a source in the peer's queue or
 * with nothing we need keeps its schedule: the caller does not call
 * this). A connection that never came up is one failure more, tried again
 * after 30 s doubled per failure (a minute after the first, at most
 * 32 min). A lost slot in which data flowed is asked again soon
 * (SRCPOL_QUICK_RETRY; the source's first SRCPOL_QUICK_RETRIES times);
 * otherwise a lost slot is one failure more and asked again no sooner
 * than SRCPOL_MIN_UPLOAD_REQ_GAP after the last slot request, and at
 * least 30 s on (§5.5: faster re-asks are aggressive). Anything else is
 * one failure more and asked again after a minute. */
void srcpol_closed(srcpol_t *p, srcpol_closed_t how, bool data_flowed, time_t now);
/* srcpol_gives_up: too many failures in a row: the source goes. */
bool srcpol_gives_up(const srcpol_t *p);

/* ---- In an upload slot ---- */

/* srcpol_slot_started: the peer gave us a slot. srcpol_data: data came. */
void srcpol_slot_started(srcpol_t *p, time_t now);
void srcpol_data(srcpol_t *p, time_t now);

/* What a slot calls for, once a tick. */
typedef enum {
    SRCPOL_SLOT_WAIT = 0, /* nothing to do */
    SRCPOL_SLOT_MORE,     /* fewer blocks in flight than we may ask: ask more */
    SRCPOL_SLOT_RENEW,    /* blocks in flight bring nothing: ask for a new slot */
    SRCPOL_SLOT_STALLED,  /* new slots did not help: reconnect */
    SRCPOL_SLOT_SILENT,   /* no data at all for SRCPOL_DATA_TIMEOUT: reconnect */
} srcpol_slot_t;

/* srcpol_slot_check: with in_flight blocks asked (at most max_in_flight).
 * Blocks that bring nothing for SRCPOL_SLOT_STALL_TIMEOUT renew the slot
 * (an uploader that lost our requests sends nothing more in it) up to
 * SRCPOL_MAX_SLOT_STALLS times in a row, then the connection goes; the
 * counts of stalls follow (renewed, or reset by a reconnect). */
srcpol_slot_t srcpol_slot_check(srcpol_t *p, size_t in_flight, size_t max_in_flight, time_t now);

#endif
