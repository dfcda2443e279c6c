/* history.c: download history events, journaled on disk before they are
 * acknowledged and applied to PostgreSQL exactly once (history.h). The
 * journal is JSON lines; a torn last line (a crash mid-write) is skipped.
 * Events are rare (a handful per download), so the append and its
 * fdatasync run on the loop thread: a transition is not reported done
 * before its event is on disk. */
#include "config.h"

#include "daemon/store/history.h"
#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/store/db_worker.h"
#include "db/db.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HIST_MAX_JOURNAL (64u << 20) /* bytes read back at start */

typedef enum {
    HIST_STARTED = 0,
    HIST_STOPPED,
    HIST_RESUMED,
    HIST_COMPLETED,
    HIST_DELETED,
    HIST_FAILED,
} hist_kind_t;

static const char *
kind_name(hist_kind_t k)
{
    switch (k) {
    case HIST_STARTED: return "started";
    case HIST_STOPPED: return "stopped";
    case HIST_RESUMED: return "resumed";
    case HIST_COMPLETED: return "completed";
    case HIST_DELETED: return "deleted";
    case HIST_FAILED: return "failed";
    }
    return "started";
}

struct history {
    muleteerd_t *d;
    char *path;
    int fd;
    uint64_t seq;
    int64_t run_ms;          /* this run's id prefix */
    /* counts of journaled events submitted and applied (applied is
     * written by the database worker thread) */
    pthread_mutex_t lock;
    uint64_t submitted, applied;
    uint64_t dropped_seen;
    char *live; /* hist_reconcile's list as JSON: submitted again after dropped jobs */
};

typedef struct {
    history_t *h;
    char *node;
    char *event;   /* the JSON line */
} ev_job_t;

static void
ev_job_free(void *arg)
{
    ev_job_t *j = arg;
    free(j->node);
    free(j->event);
    free(j);
}

/* One statement per event: the id into history_events first (nothing more
 * happens when it was applied before), then the history row of the event's
 * download: the row with its download id; for an event of an older
 * version (no id), the latest row of its hash; for an id no row has yet,
 * the latest row of its hash written before download ids existed (012),
 * adopted. "started" with no such row makes a new row; so does any other
 * event that finds none. The deletion of a finished download ("completed":
 * true) sets deleted_at and keeps the status completed: the download did
 * complete. Journal lines of older versions lack "download_id",
 * "completed" and "completed_at" (NULL: none, false, none). */
static const char EV_SQL[] =
    "WITH e AS (SELECT * FROM json_to_record($2::json) AS x(id text, kind text, hash text,"
    "   download_id text, name text, size bigint, category text, at double precision,"
    "   downloaded bigint, uploaded bigint,"
    "   added_by text, added_via text, completed boolean, completed_at double precision)),"
    " ev AS (INSERT INTO history_events (node, event_id, kind) SELECT $1, id, kind FROM e"
    "   ON CONFLICT (node, event_id) DO NOTHING RETURNING event_id),"
    " st AS (SELECT CASE WHEN e.kind IN ('started', 'resumed') THEN 'downloading'"
    "   WHEN e.kind = 'deleted' AND COALESCE(e.completed, false) THEN 'completed'"
    "   ELSE e.kind END AS status FROM e),"
    " target AS (SELECT COALESCE("
    "   (SELECT h.id FROM history h WHERE h.node = $1 AND h.download_id = e.download_id),"
    "   CASE WHEN e.kind <> 'started' THEN (SELECT max(h.id) FROM history h"
    "     WHERE h.node = $1 AND h.hash = e.hash"
    "     AND (e.download_id IS NULL OR h.download_id IS NULL)) END) AS id FROM e),"
    " upd AS (UPDATE history h SET status = st.status,"
    "   completed_at = CASE WHEN e.kind = 'completed' THEN to_timestamp(e.at)"
    "     WHEN h.completed_at IS NULL AND e.completed_at > 0 THEN to_timestamp(e.completed_at)"
    "     ELSE h.completed_at END,"
    "   deleted_at = CASE WHEN e.kind = 'deleted' THEN to_timestamp(e.at)"
    "     WHEN e.kind IN ('started', 'resumed') THEN NULL ELSE h.deleted_at END,"
    "   downloaded_bytes = GREATEST(h.downloaded_bytes, e.downloaded),"
    "   uploaded_bytes = GREATEST(h.uploaded_bytes, COALESCE(e.uploaded, 0)),"
    "   name = e.name, category = e.category,"
    "   download_id = COALESCE(h.download_id, e.download_id)"
    "   FROM e, st, target WHERE h.id = target.id AND EXISTS (SELECT 1 FROM ev)"
    "   RETURNING h.id)"
    " INSERT INTO history (node, hash, download_id, name, size, category, status, started_at,"
    "   completed_at, deleted_at, downloaded_bytes, uploaded_bytes, added_by, added_via)"
    " SELECT $1, e.hash, e.download_id, e.name, e.size, e.category, st.status, to_timestamp(e.at),"
    "   CASE WHEN e.kind = 'completed' THEN to_timestamp(e.at)"
    "     WHEN e.completed_at > 0 THEN to_timestamp(e.completed_at) END,"
    "   CASE WHEN e.kind = 'deleted' THEN to_timestamp(e.at) END, e.downloaded,"
    "   COALESCE(e.uploaded, 0), e.added_by,"
    "   e.added_via FROM e, st, target"
    " WHERE EXISTS (SELECT 1 FROM ev) AND target.id IS NULL AND NOT EXISTS (SELECT 1 FROM upd)";

static int
ev_job_run(PGconn *conn, void *arg, mt_error_t **err)
{
    ev_job_t *j = arg;
    const char *params[] = { j->node, j->event };
    PGresult *res = db_query(conn, EV_SQL, 2, params, err);
    if (res == NULL) {
        if (PQstatus(conn) == CONNECTION_OK) {
            /* not the connection: a bad event; count it as done so the
             * journal can be emptied (the error is logged by the worker) */
            pthread_mutex_lock(&j->h->lock);
            j->h->applied++;
            pthread_mutex_unlock(&j->h->lock);
        }
        return -1;
    }
    PQclear(res);
    pthread_mutex_lock(&j->h->lock);
    j->h->applied++;
    pthread_mutex_unlock(&j->h->lock);
    return 0;
}

static void
submit(history_t *h, const char *line)
{
    ev_job_t *j = xcalloc(1, sizeof *j);
    j->h = h;
    j->node = xstrdup(conf_get_str(h->d->conf, "node_name"));
    j->event = xstrdup(line);
    pthread_mutex_lock(&h->lock);
    h->submitted++;
    pthread_mutex_unlock(&h->lock);
    dbw_submit(h->d->db, NULL, ev_job_run, j, ev_job_free);
}

/* replay: submits every readable line of the journal. */
static size_t
replay(history_t *h)
{
    FILE *f = fopen(h->path, "r");
    if (f == NULL)
        return 0;
    size_t n = 0, total = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0 && total < HIST_MAX_JOURNAL) {
        total += (size_t)len;
        if (line[len - 1] != '\n')
            break; /* torn last line */
        line[len - 1] = '\0';
        json_object *o = json_tokener_parse(line);
        json_object *id = NULL;
        if (o != NULL && json_object_is_type(o, json_type_object) &&
            json_object_object_get_ex(o, "id", &id)) {
            submit(h, line);
            n++;
        }
        json_object_put(o);
    }
    free(line);
    fclose(f);
    return n;
}

/* ---- the downloads' events ---- */

static void record(history_t *h, const bus_dl_info_t *in, hist_kind_t kind);

static void
on_added(void *ctx, const bus_dl_added_t *ev)
{
    record(ctx, ev->info, HIST_STARTED);
    if (ev->stopped)
        record(ctx, ev->info, HIST_STOPPED);
}

/* Pausing is no transition of the history; neither is storage trouble
 * (it clears by itself). */
static void
on_state(void *ctx, const bus_dl_state_ev_t *ev)
{
    if (ev->to == BUS_DLS_STOPPED)
        record(ctx, ev->info, HIST_STOPPED);
    else if ((ev->from == BUS_DLS_STOPPED || ev->from == BUS_DLS_FAILED) &&
             (ev->to == BUS_DLS_ACTIVE || ev->to == BUS_DLS_PAUSED))
        record(ctx, ev->info, HIST_RESUMED);
}

static void
on_failed(void *ctx, const bus_dl_state_ev_t *ev)
{
    record(ctx, ev->info, HIST_FAILED);
}

static void
on_completed(void *ctx, const bus_dl_completed_t *ev)
{
    record(ctx, ev->info, HIST_COMPLETED);
}

static void
on_deleted(void *ctx, const bus_dl_deleted_t *ev)
{
    record(ctx, ev->info, HIST_DELETED);
}

history_t *
hist_new(muleteerd_t *d)
{
    history_t *h = xcalloc(1, sizeof *h);
    h->d = d;
    pthread_mutex_init(&h->lock, NULL);
    h->path = xasprintf("%s/history.journal", conf_get_str(d->conf, "state_dir"));
    struct timeval tv;
    gettimeofday(&tv, NULL);
    h->run_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    size_t n = replay(h);
    if (n > 0)
        log_info("history: %zu event(s) of an earlier run to write", n);
    bus_on_dl_added(d->bus, on_added, h);
    bus_on_dl_state(d->bus, on_state, h);
    bus_on_dl_failed(d->bus, on_failed, h);
    bus_on_dl_completed(d->bus, on_completed, h);
    bus_on_dl_deleted(d->bus, on_deleted, h);
    h->fd = open(h->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (h->fd < 0)
        log_error("history: cannot open %s: %s (events go straight to the database)", h->path,
                  strerror(errno));
    return h;
}

void
hist_free(history_t *h)
{
    if (h == NULL)
        return;
    bus_unsubscribe_ctx(h->d->bus, h);
    if (h->fd >= 0)
        close(h->fd);
    pthread_mutex_destroy(&h->lock);
    free(h->live);
    free(h->path);
    free(h);
}

/* record: journals an event and submits it to the database. */
static void
record(history_t *h, const bus_dl_info_t *in, hist_kind_t kind)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    json_object *o = json_object_new_object();
    char *id = xasprintf("%lld-%llu", (long long)h->run_ms, (unsigned long long)++h->seq);
    json_object_object_add(o, "id", json_object_new_string(id));
    free(id);
    json_object_object_add(o, "kind", json_object_new_string(kind_name(kind)));
    json_object_object_add(o, "hash", json_object_new_string(in->hex));
    if (in->download_id != NULL)
        json_object_object_add(o, "download_id", json_object_new_string(in->download_id));
    json_object_object_add(o, "name", json_object_new_string(in->name));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)in->size));
    json_object_object_add(o, "category",
                           in->category != NULL ? json_object_new_string(in->category) : NULL);
    json_object_object_add(o, "at", json_object_new_double((double)tv.tv_sec + tv.tv_usec / 1e6));
    json_object_object_add(o, "downloaded", json_object_new_int64((int64_t)in->downloaded));
    json_object_object_add(o, "uploaded", json_object_new_int64((int64_t)in->uploaded));
    json_object_object_add(o, "added_by",
                           json_object_new_string(in->added_by != NULL ? in->added_by : ""));
    json_object_object_add(o, "added_via",
                           json_object_new_string(in->added_via != NULL ? in->added_via : ""));
    if (in->completed) {
        json_object_object_add(o, "completed", json_object_new_boolean(true));
        json_object_object_add(o, "completed_at", json_object_new_int64(in->completed_at));
    }
    const char *line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    if (h->fd >= 0) {
        char *rec = xasprintf("%s\n", line);
        size_t len = strlen(rec), off = 0;
        while (off < len) {
            ssize_t w = write(h->fd, rec + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                log_error("history: cannot write %s: %s", h->path, strerror(errno));
                break;
            }
            off += (size_t)w;
        }
        if (fdatasync(h->fd) != 0)
            log_error("history: cannot sync %s: %s", h->path, strerror(errno));
        free(rec);
    }
    log_info("history: %s %s", kind_name(kind), in->hex);
    submit(h, line);
    json_object_put(o);
}

/* ---- reconciliation with the downloads the daemon has (at start) ---- */

/* Three statements in one transaction, over the daemon's downloads ($2: a
 * JSON array of {download_id, hash, active, status}): rows written before
 * download ids (012) are adopted by the download of their hash that has no
 * row of its own yet; open rows (downloading, stopped) of downloads the
 * daemon no longer has are closed as deleted; an active download's row
 * says what it does now. */
static const char *const RECONCILE_SQL[] = {
    "UPDATE history h SET download_id = l.download_id"
    " FROM json_to_recordset($2::json) AS l(download_id text, hash text)"
    " WHERE h.id = (SELECT max(id) FROM history"
    "   WHERE node = $1 AND hash = l.hash AND download_id IS NULL)"
    " AND NOT EXISTS (SELECT 1 FROM history WHERE node = $1 AND download_id = l.download_id)",
    "UPDATE history h SET status = 'deleted', deleted_at = now()"
    " WHERE h.node = $1 AND h.status IN ('downloading', 'stopped')"
    " AND (h.download_id IS NULL OR h.download_id NOT IN"
    "   (SELECT download_id FROM json_to_recordset($2::json) AS l(download_id text)))",
    "UPDATE history h SET status = l.status, deleted_at = NULL"
    " FROM json_to_recordset($2::json) AS l(download_id text, active boolean, status text)"
    " WHERE h.node = $1 AND h.download_id = l.download_id AND l.active"
    " AND (h.status IS DISTINCT FROM l.status OR h.deleted_at IS NOT NULL)",
};

typedef struct {
    char *node;
    char *live; /* the JSON array */
} rec_job_t;

static void
rec_job_free(void *arg)
{
    rec_job_t *j = arg;
    free(j->node);
    free(j->live);
    free(j);
}

static int rec_job_run(PGconn *conn, void *arg, mt_error_t **err);

static void
submit_reconcile(history_t *h)
{
    rec_job_t *j = xcalloc(1, sizeof *j);
    j->node = xstrdup(conf_get_str(h->d->conf, "node_name"));
    j->live = xstrdup(h->live);
    dbw_submit(h->d->db, "history-reconcile", rec_job_run, j, rec_job_free);
}

static int
rec_job_run(PGconn *conn, void *arg, mt_error_t **err)
{
    rec_job_t *j = arg;
    const char *params[] = { j->node, j->live };
    if (db_exec(conn, "BEGIN", err) != 0)
        return -1;
    long changed[3] = { 0 };
    for (size_t i = 0; i < sizeof RECONCILE_SQL / sizeof RECONCILE_SQL[0]; i++) {
        PGresult *res = db_query(conn, RECONCILE_SQL[i], 2, params, err);
        if (res == NULL) {
            if (!db_is_broken(conn))
                db_exec(conn, "ROLLBACK", NULL);
            return -1;
        }
        changed[i] = atol(PQcmdTuples(res));
        PQclear(res);
    }
    if (db_exec(conn, "COMMIT", err) != 0)
        return -1;
    if (changed[0] + changed[1] + changed[2] > 0)
        log_info("history: %ld row(s) adopted by their download, %ld closed (their download is "
                 "gone), %ld brought up to date",
                 changed[0], changed[1], changed[2]);
    return 0;
}

void
hist_reconcile(history_t *h, const hist_live_t *live, size_t n)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        if (live[i].download_id == NULL)
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "download_id", json_object_new_string(live[i].download_id));
        json_object_object_add(o, "hash", json_object_new_string(live[i].hex));
        json_object_object_add(o, "active", json_object_new_boolean(live[i].active));
        json_object_object_add(o, "status",
                               json_object_new_string(!live[i].active  ? "completed"
                                                      : live[i].stopped ? "stopped"
                                                                        : "downloading"));
        json_object_array_add(arr, o);
    }
    free(h->live);
    h->live = xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    json_object_put(arr);
    submit_reconcile(h);
}

void
hist_tick(history_t *h)
{
    dbw_status_t st;
    dbw_get_status(h->d->db, &st);
    pthread_mutex_lock(&h->lock);
    bool all_applied = h->submitted > 0 && h->applied >= h->submitted;
    pthread_mutex_unlock(&h->lock);
    if (all_applied && h->fd >= 0) {
        /* everything journaled is in the database: start the journal afresh */
        if (ftruncate(h->fd, 0) == 0) {
            pthread_mutex_lock(&h->lock);
            h->submitted -= h->applied;
            h->applied = 0;
            pthread_mutex_unlock(&h->lock);
        }
    }
    if (st.jobs_dropped > h->dropped_seen) {
        /* the queue overflowed during an outage: the journal has it all */
        h->dropped_seen = st.jobs_dropped;
        pthread_mutex_lock(&h->lock);
        h->submitted = h->applied = 0;
        pthread_mutex_unlock(&h->lock);
        size_t n = replay(h);
        log_warn("history: database jobs were dropped; %zu journaled event(s) submitted again", n);
        if (h->live != NULL)
            submit_reconcile(h); /* it may have been one of them */
    }
}
