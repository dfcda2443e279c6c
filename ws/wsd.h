/* wsd.h: muleteer-ws, the WebSocket server of aMuTorrent's protocol
 * (docs/websocket.md): what its files share. main.c (configuration,
 * the libwebsockets context and loop), server.c (the connections: auth
 * on the upgrade, send queues, frames, session re-checks), feed.c (the
 * daemon: commands, its event stream, the items and the batch-update
 * stream), handlers.c (the actions), task.c (blocking work off the
 * loop). The state is the loop thread's: libwebsockets' own poll loop
 * runs the handlers as tasks, whose daemon commands and database queries
 * go to two worker threads while the loop serves the other clients. */
#ifndef MT_WS_WSD_H
#define MT_WS_WSD_H

#include <libpq-fe.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctl/client.h"
#include "util/conf.h"
#include "webauth/auth.h"
#include "ws/action.h"
#include "ws/owner.h"

/* The batch-update cadence (aMuTorrent's 3 s) and the fastest a burst of
 * daemon events is turned into a delta. */
#define WSD_CYCLE_MS 3000
#define WSD_EVENT_DELAY_MS 200
/* Actions a client may send: WSD_ACTION_RATE a second, in bursts of
 * WSD_ACTION_BURST; beyond, an error and the action is ignored. */
#define WSD_ACTION_RATE 20
#define WSD_ACTION_BURST 100
/* Messages waiting for one client, at most (besides ws_max_queue). */
#define WSD_MAX_QUEUED 1024
/* A search's results are sent after this long at the latest. */
#define WSD_SEARCH_MAX_S 120
/* A daemon call gives up after this long. */
#define WSD_CTL_TIMEOUT_MS 10000
/* Clients' tasks running actions at most at once; beyond, an action is
 * answered "busy" at once (a connection's authentication is bounded by
 * ws_max_clients instead). */
#define WSD_MAX_TASKS 64
/* Actions of one client waiting behind the one under way: a burst's
 * worth (beyond, while the daemon is slow, an error at once). */
#define WSD_CLIENT_PENDING WSD_ACTION_BURST
/* Calls waiting for one worker thread, at most, beyond one a client. */
#define WSD_WORK_QUEUE 64
/* A search's new results go out this long after the first of a burst. */
#define WSD_SEARCH_PUSH_MS 300

/* One message, shared by every client it is queued for. */
typedef struct wsd_msg {
    int refs;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes, then the text */
} wsd_msg_t;

typedef struct wsd_client wsd_client_t;
typedef struct wsd wsd_t;
struct wsd_task;

/* a lock between tasks (task.c): the holder may yield inside */
typedef struct {
    bool held;
    struct wsd_task *head, *tail; /* waiting, in order */
} wsd_lock_t;

struct wsd {
    conf_t *conf;
    webauth_conf_t ac;
    char instance_id[96];
    char instance_name[96];
    struct lws_context *lws;
    struct lws_vhost *vhost;
    PGconn *db;
    ctl_client_t *ctl;        /* commands */
    struct lws *events;       /* the daemon's event stream (adopted) */
    char *ev_buf;             /* its partial line */
    size_t ev_len;
    wsd_client_t *clients;    /* established, authenticated or not */
    size_t n_clients;
    size_t max_clients, max_frame, max_queue;
    int session_check_s;
    /* the feed */
    json_object *items;       /* the last item list sent (array) */
    json_object *categories;  /* the daemon's `categories` list */
    json_object *ratings;     /* file_ratings: hash -> {comment, rating} */
    json_object *owners;      /* downloads.added_by: hash -> name, every one seen */
    json_object *owners_noted; /* added here, until downloads.added_by says so too */
    bool owners_gained;       /* a download's owner became known in this refresh */
    json_object *shared_only; /* the shared files of the last refresh, before and after (owner.h) */
    json_object *stats;       /* the last stats object */
    uint64_t seq;             /* of the last batch-update delta or snapshot */
    wsd_msg_t *snap_msg;      /* the snapshot of snap_seq, shared by the clients that ask */
    uint64_t snap_seq;
    bool items_fresh;         /* items follow the daemon (a client is there) */
    bool categories_dirty;
    bool event_pending;       /* an event waits for its delta */
    bool daemon_up;
    bool stopping;            /* the context is being destroyed */
    uint64_t down_rate, up_rate;   /* from the tick events */
    uint64_t down_total, up_total; /* ... since the daemon started */
    int64_t search_id;        /* the search in progress; -1: none */
    json_object *search_results; /* the last search's (array), or NULL */
    bool search_starting;     /* a search command is under way */
    bool search_push_due;     /* new results wait for sul_search_push */
    size_t search_pushed;     /* results in the last progressive push (0: none yet) */
    lws_sorted_usec_list_t sul_cycle, sul_event, sul_session, sul_events_retry, sul_search,
        sul_search_push;
    struct wsd_tasks *tasks;  /* task.c */
    wsd_lock_t refresh_lock;  /* one refresh at a time */
    bool cycle_busy, event_busy, session_busy; /* their task is under way */
};

/* ---- server.c ---- */
extern const struct lws_protocols wsd_protocols[];
/* wsd_send: queues text (len bytes) to c; wsd_broadcast to every
 * authenticated client. A client whose queue would pass its bounds is
 * dropped. */
void wsd_send(wsd_t *w, wsd_client_t *c, const char *text, size_t len);
void wsd_send_json(wsd_t *w, wsd_client_t *c, json_object *o);
/* Shared messages: made once, queued to many clients, freed with the
 * last reference (wsd_msg_unref accepts NULL). */
wsd_msg_t *wsd_msg_from_json(json_object *o);
void wsd_send_msg(wsd_t *w, wsd_client_t *c, wsd_msg_t *m);
void wsd_msg_unref(wsd_msg_t *m);
void wsd_broadcast_json(wsd_t *w, json_object *o);
/* wsd_client_view: whose downloads c sees and changes (owner.h). */
void wsd_client_view(const wsd_client_t *c, ws_view_t *v);
/* wsd_broadcast_items_json: a batch-update to every authenticated client
 * (with segments_only, those that subscribed to segment data), as each
 * one's view gets it: the shared text for a full view, else filtered
 * (owner.h); a client that is not full gets partial_o instead when it is
 * not NULL (a snapshot, when the owners changed). */
void wsd_broadcast_items_json(wsd_t *w, json_object *o, json_object *partial_o, bool segments_only);
/* wsd_send_items_json: a batch-update to c as its view gets it. */
void wsd_send_items_json(wsd_t *w, wsd_client_t *c, json_object *o);
/* wsd_broadcast_cap_json: to the authenticated clients holding cap. */
void wsd_broadcast_cap_json(wsd_t *w, json_object *o, uint32_t cap);
/* Segment data (subscribe channel segmentData): a client's choice (its
 * messages go by wsd_broadcast_items_json with segments_only). */
void wsd_client_set_segments(wsd_client_t *c, bool on);
size_t wsd_segment_clients(const wsd_t *w);
void wsd_send_error(wsd_t *w, wsd_client_t *c, const char *message);
const webauth_ident_t *wsd_client_ident(const wsd_client_t *c);
/* wsd_db: the database connection (reconnected when broken), or NULL
 * while PostgreSQL is away; the database worker's alone (task.c). */
PGconn *wsd_db(wsd_t *w);
size_t wsd_ready_clients(const wsd_t *w);
void wsd_session_check(lws_sorted_usec_list_t *sul);

/* ---- task.c ---- */
typedef void (*wsd_task_fn_t)(wsd_t *w, void *arg);
typedef void (*wsd_work_fn_t)(wsd_t *w, void *arg);
typedef enum { WSD_WORKER_CTL = 0, WSD_WORKER_DB, WSD_N_WORKERS } wsd_worker_kind_t;
/* wsd_tasks_start: the worker threads; -1 when one cannot start. */
int wsd_tasks_start(wsd_t *w);
/* wsd_task_spawn: runs fn(w, arg) as a task, at once up to its first
 * blocking call (or soon, when called from a task). -1, fn not run, when
 * stopping or, for a bounded one (a client's), WSD_MAX_TASKS are under
 * way. */
int wsd_task_spawn(wsd_t *w, wsd_task_fn_t fn, void *arg, bool bounded);
/* wsd_offload: fn(w, arg) on the worker of kind, the current task
 * waiting for it; -1 when that worker's queue is full. */
int wsd_offload(wsd_t *w, wsd_worker_kind_t kind, wsd_work_fn_t fn, void *arg);
/* wsd_tasks_poll: resumes the tasks whose calls were answered (the loop's
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED). */
void wsd_tasks_poll(wsd_t *w);
void wsd_lock(wsd_t *w, wsd_lock_t *l);
void wsd_unlock(wsd_t *w, wsd_lock_t *l);
/* wsd_tasks_stop: lets the tasks under way end (bounded), then stops the
 * workers; wsd_tasks_free after the context is gone. */
void wsd_tasks_stop(wsd_t *w);
void wsd_tasks_free(wsd_t *w);
/* wsd_call: a daemon command on the control worker (a new reference in
 * *result); -1 with err (the daemon's error, or the connection's, or
 * "busy" when the worker's queue is full). */
int wsd_call(wsd_t *w, const char *cmd, json_object *args, json_object **result, mt_error_t **err);
/* wsd_db_query: db_query on the database worker's connection; NULL with
 * err when it fails or PostgreSQL is away. */
PGresult *wsd_db_query(wsd_t *w, const char *sql, int n, const char *const *params, mt_error_t **err);

/* ---- feed.c ---- */
/* wsd_events_callback: the daemon's event stream, an adopted descriptor
 * of protocol "muleteer-daemon-events". */
int wsd_events_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len);
/* wsd_feed_start: connects the event stream (again every second while
 * the daemon is away). */
void wsd_feed_start(wsd_t *w);
/* wsd_refresh: asks the daemon for the downloads and, when clients are
 * there, broadcasts what changed as a numbered batch-update (a snapshot
 * when most items changed, or when force_snapshot). */
void wsd_refresh(wsd_t *w, bool force_snapshot);
/* wsd_snapshot_to: a full batch-update to one client (after its connect
 * or its requestFullSnapshot). */
void wsd_snapshot_to(wsd_t *w, wsd_client_t *c);
json_object *wsd_categories_message(wsd_t *w);
/* wsd_send_segments: an unnumbered delta with gapStatus and reqStatus of
 * the downloads named in hashes (NULL: every download) to c, or to every
 * client that subscribed to segment data when c is NULL. */
void wsd_send_segments(wsd_t *w, wsd_client_t *c, json_object *hashes);
void wsd_refresh_categories(wsd_t *w);
/* wsd_note_owner: who added hash, known now (a download added here). */
void wsd_note_owner(wsd_t *w, const char *hash, const char *user);
/* wsd_may_edit: NULL when c may change the download hash, else the
 * error to answer ("Permission denied", or "no such download" for one
 * it cannot see). */
const char *wsd_may_edit(wsd_t *w, wsd_client_t *c, const char *hash);
void wsd_feed_stop(wsd_t *w);

/* ---- handlers.c ---- */
/* wsd_handle: one decoded action of c, its capability checked. */
void wsd_handle(wsd_t *w, wsd_client_t *c, const ws_action_t *a);

/* ---- admin.c ---- */
void wsd_handle_category(wsd_t *w, wsd_client_t *c, const ws_action_t *a);
void wsd_handle_set_category(wsd_t *w, wsd_client_t *c, const ws_action_t *a);
void wsd_handle_admin(wsd_t *w, wsd_client_t *c, const ws_action_t *a);

/* ---- search.c ---- */
void wsd_handle_search(wsd_t *w, wsd_client_t *c, const ws_action_t *a);
/* wsd_search_ended: the daemon's search_ended event for search id. */
void wsd_search_ended(wsd_t *w, int64_t id);
/* wsd_search_result: the daemon's search_result event for search id. */
void wsd_search_result(wsd_t *w, int64_t id);
void wsd_search_free(wsd_t *w);

#endif
