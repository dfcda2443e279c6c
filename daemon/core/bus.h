/* bus.h: the daemon's event bus. A module publishes what happened (a
 * download completed, a server connection was lost) as a typed event; the
 * modules that care subscribe at start-up and are called in the order they
 * subscribed, on the loop thread, before bus_publish returns. Publishers
 * never know their subscribers, so history, the database and (later) the
 * real-time API and metrics hang off the engine without the engine
 * calling them. After Tor's pubsub/dispatch and Transmission's callbacks.
 *
 * Payloads are structs owned by the publisher (usually on its stack):
 * what they point to is valid during the delivery only; a subscriber
 * copies what it keeps. Nothing is allocated per event. An event published
 * by a subscriber is delivered at once, before the rest of the current
 * event's subscribers (depth first, at most BUS_MAX_DEPTH deep). */
#ifndef MT_DAEMON_BUS_H
#define MT_DAEMON_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct download;
struct partfile;
struct peer;

typedef struct bus bus_t;

#define BUS_MAX_DEPTH 8

/* What an event says of a download, active or finished: enough for the
 * history and the database without reaching into the transfer engine. */
typedef struct bus_dl_info {
    const char *hex;         /* 32 lower-case hex digits */
    const char *download_id; /* dlattr.h; NULL: none */
    const char *name;
    uint64_t size;
    const char *category;    /* NULL: none */
    uint64_t downloaded, uploaded;
    const char *added_by, *added_via; /* NULL: unknown */
    bool completed;          /* it had completed (a finished download) */
    int64_t completed_at;    /* Unix time, 0: not completed */
} bus_dl_info_t;

/* A download's state as the bus reports it. */
typedef enum {
    BUS_DLS_ACTIVE = 0,
    BUS_DLS_PAUSED,
    BUS_DLS_STOPPED,
    BUS_DLS_ERROR,  /* storage trouble: stopped until a re-check finds it gone */
    BUS_DLS_FAILED, /* its completion failed (the file did not check out) */
} bus_dl_state_t;

typedef struct {
    const bus_dl_info_t *info;
    const struct download *dl;
    bool stopped; /* added in the stopped state */
} bus_dl_added_t;

typedef struct {
    const bus_dl_info_t *info;
    const struct download *dl;
    bus_dl_state_t from, to;
    const char *error; /* BUS_DLS_ERROR, BUS_DLS_FAILED: why */
    bool no_space;     /* BUS_DLS_ERROR: a disk or quota is full */
} bus_dl_state_ev_t;

/* Once a tick, the downloads whose data on disk grew. */
typedef struct {
    const struct download *const *dls;
    size_t n;
} bus_dl_progress_t;

typedef struct {
    const struct download *dl;
    size_t part;
    bool ok; /* false: the part was corrupt and is downloaded again */
} bus_dl_part_t;

typedef struct {
    const bus_dl_info_t *info;
    const struct download *dl;
    const struct partfile *pf; /* the part file, still readable */
    const char *path;          /* where the complete file now is */
} bus_dl_completed_t;

typedef struct {
    const bus_dl_info_t *info;
    const struct download *dl; /* NULL for a finished download */
} bus_dl_deleted_t;

typedef struct {
    const struct download *dl;
    uint32_t ip; /* eD2K form: a LowID, or the address in network order */
    uint16_t port;
    const char *reason; /* SRC_LOST: why */
} bus_source_t;

typedef struct {
    const struct peer *peer;
    bool outgoing;
    const char *reason; /* PEER_CLOSED: why */
} bus_peer_t;

/* A peer's address refused from now on (PEER_BANNED). */
typedef struct {
    const char *ip; /* dotted quad */
    int seconds;    /* for how long */
    const char *reason;
} bus_peer_ban_t;

typedef struct {
    const char *host; /* as the server list names it */
    uint16_t port;
    uint32_t client_id; /* SRV_CONNECTED: our id there */
    const char *text;   /* SRV_LOST: why; SRV_MESSAGE: the line */
} bus_server_t;

typedef struct {
    int64_t id;             /* the search's id */
    const char *expression; /* SEARCH_STARTED */
    const uint8_t *hash;    /* SEARCH_RESULT: the file's MD4 (16 bytes) */
    const char *name;       /* SEARCH_RESULT */
    uint64_t size;          /* SEARCH_RESULT */
    uint32_t sources;       /* SEARCH_RESULT: as merged so far */
    const char *state;      /* SEARCH_ENDED: finished, stopped, failed */
    size_t results;         /* SEARCH_ENDED */
} bus_search_t;

typedef struct {
    const char *name;
    const char *old_name; /* CAT_CHANGED: the name before (== name unless renamed) */
    const char *path;     /* its incoming directory (NULL for CAT_REMOVED) */
} bus_category_t;

typedef struct {
    const char *path;
    const uint8_t *hash; /* 16 bytes */
    uint64_t size;
} bus_shared_t;

/* Once a tick: what moved since the last one. */
typedef struct {
    uint64_t down_bytes, up_bytes; /* on peer connections, this tick */
    uint64_t down_total, up_total; /* since the start */
    uint64_t down_rate, up_rate;   /* bytes/s, as the engine smooths them */
    size_t downloads, finished, connections, upload_slots;
} bus_tick_t;

/* A finished download's sharing stopped (its share limits were reached,
 * or it was stopped) or started again. */
typedef struct {
    const bus_dl_info_t *info;
    bool stopped;       /* true: no longer shared; false: shared again */
    const char *reason; /* "ratio", "seeding time", "resumed" */
} bus_fin_sharing_t;

typedef struct {
    int level; /* log_level_t */
    const char *text;
} bus_log_t;

/* The events: X(NAME, name, payload type). */
#define BUS_EVENTS(X)                                       \
    X(DL_ADDED, dl_added, bus_dl_added_t)                   \
    X(DL_STATE, dl_state, bus_dl_state_ev_t)                \
    X(DL_PROGRESS, dl_progress, bus_dl_progress_t)          \
    X(DL_PART_VERIFIED, dl_part_verified, bus_dl_part_t)    \
    X(DL_COMPLETED, dl_completed, bus_dl_completed_t)       \
    X(DL_FAILED, dl_failed, bus_dl_state_ev_t)              \
    X(DL_DELETED, dl_deleted, bus_dl_deleted_t)             \
    X(FIN_SHARING, fin_sharing, bus_fin_sharing_t)          \
    X(SRC_FOUND, src_found, bus_source_t)                   \
    X(SRC_LOST, src_lost, bus_source_t)                     \
    X(PEER_CONNECTED, peer_connected, bus_peer_t)           \
    X(PEER_CLOSED, peer_closed, bus_peer_t)                 \
    X(PEER_BANNED, peer_banned, bus_peer_ban_t)             \
    X(SRV_CONNECTED, srv_connected, bus_server_t)           \
    X(SRV_LOST, srv_lost, bus_server_t)                     \
    X(SRV_MESSAGE, srv_message, bus_server_t)               \
    X(SEARCH_STARTED, search_started, bus_search_t)         \
    X(SEARCH_RESULT, search_result, bus_search_t)           \
    X(SEARCH_ENDED, search_ended, bus_search_t)             \
    X(CAT_ADDED, cat_added, bus_category_t)                 \
    X(CAT_CHANGED, cat_changed, bus_category_t)             \
    X(CAT_REMOVED, cat_removed, bus_category_t)             \
    X(SHARED_ADDED, shared_added, bus_shared_t)             \
    X(SHARED_REMOVED, shared_removed, bus_shared_t)         \
    X(TICK, tick, bus_tick_t)                               \
    X(LOG_LINE, log_line, bus_log_t)

#define BUS_ENUM_(U, l, T) BUS_##U,
typedef enum { BUS_EVENTS(BUS_ENUM_) BUS_N_EVENTS } bus_event_t;
#undef BUS_ENUM_

bus_t *bus_new(void);
/* bus_free: accepts NULL. */
void bus_free(bus_t *b);
/* bus_event_name: "dl_added", ...; "?" out of range. */
const char *bus_event_name(bus_event_t ev);
/* bus_published: how many events of that kind were published so far. */
uint64_t bus_published(const bus_t *b, bus_event_t ev);
/* bus_unsubscribe_ctx: removes every subscription made with ctx (a module
 * that is freed before the bus); safe during a delivery. */
void bus_unsubscribe_ctx(bus_t *b, const void *ctx);

/* The generic entry points; modules use the typed ones below. */
typedef void (*bus_any_fn)(void);
void bus_subscribe_(bus_t *b, bus_event_t ev, bus_any_fn fn, void *ctx);
void bus_publish_(bus_t *b, bus_event_t ev, const void *payload);

/* Typed: bus_on_<name>(bus, fn, ctx) subscribes fn(ctx, payload);
 * bus_publish_<name>(bus, payload) publishes. A NULL bus is one nobody
 * listens to (unit tests of a single module). */
#define BUS_TYPED_(U, l, T)                                                 \
    typedef void (*bus_##l##_fn)(void *ctx, const T *ev);                   \
    static inline void bus_on_##l(bus_t *b, bus_##l##_fn fn, void *ctx)     \
    {                                                                       \
        bus_subscribe_(b, BUS_##U, (bus_any_fn)fn, ctx);                    \
    }                                                                       \
    static inline void bus_publish_##l(bus_t *b, const T *ev)               \
    {                                                                       \
        if (b != NULL)                                                      \
            bus_publish_(b, BUS_##U, ev);                                   \
    }
BUS_EVENTS(BUS_TYPED_)
#undef BUS_TYPED_

#endif
