/* server.c: the WebSocket connections of muleteer-ws (wsd.h). A
 * connection is authenticated on its upgrade with the web API's own
 * check (webauth_identify on the upgrade's Cookie, X-API-Key or
 * Authorization headers), and again every ws_session_check seconds;
 * messages to it wait in a bounded queue of shared buffers, and a client
 * that lets the queue fill is dropped, never waited for. A client's
 * actions run one after the other in a task of its own (task.c), so a
 * slow daemon call holds back that client's later actions only; a
 * connection closed meanwhile leaves its structure to the task, marked
 * gone, and what the task still sends it is dropped. */
#include "config.h"

#include "ws/wsd.h"
#include "db/db.h"
#include "http/request.h"
#include "webauth/caps.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <string.h>
#include <time.h>

struct wsd_client {
    wsd_client_t *prev, *next;
    struct lws *wsi;    /* NULL: the connection is gone */
    int refs;           /* the connection's, and its task's */
    bool linked;        /* in w->clients */
    bool authed;
    char *cookie, *addr, *authz, *apikey; /* the upgrade's headers */
    webauth_ident_t id;
    int close_code;     /* a close to send once writable; 0: none */
    char close_reason[64];
    wsd_msg_t **q;      /* ring of WSD_MAX_QUEUED */
    size_t q_head, q_n, q_bytes;
    size_t q_off;       /* bytes of the head message already written */
    char *rx;           /* the message being received */
    size_t rx_len;
    bool rx_skip;       /* over the limit: closing */
    bool segments;      /* subscribed to segment data */
    double tokens;      /* the action bucket */
    int64_t tokens_ms;
    bool busy;          /* its task is under way */
    bool identified;    /* the upgrade's authentication is done */
    char *pend[WSD_CLIENT_PENDING]; /* frames waiting for the task */
    size_t pend_len[WSD_CLIENT_PENDING];
    size_t pend_head, pend_n;
};

typedef struct {
    wsd_client_t *c;
} pss_t;

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ messages */

static wsd_msg_t *
msg_new(const char *text, size_t len)
{
    wsd_msg_t *m = xmalloc(sizeof *m + LWS_PRE + len);
    m->refs = 0;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    return m;
}

static void
msg_unref(wsd_msg_t *m)
{
    if (--m->refs <= 0)
        free(m);
}

static void
close_later(wsd_client_t *c, int code, const char *reason)
{
    if (c->close_code != 0 || c->wsi == NULL)
        return;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    lws_callback_on_writable(c->wsi);
}

/* drop: a client that does not read; its socket is closed at once */
static void
drop(wsd_client_t *c, const char *why)
{
    if (c->wsi == NULL)
        return;
    log_info("ws: dropping a client (%s): %s", c->id.user != NULL ? c->id.user : "-", why);
    c->close_code = -1;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void
enqueue(wsd_t *w, wsd_client_t *c, wsd_msg_t *m)
{
    if (c->close_code != 0 || c->wsi == NULL)
        return; /* closing, or gone while its task ran */
    if (c->q_n >= WSD_MAX_QUEUED || c->q_bytes + m->len > w->max_queue) {
        drop(c, "its send queue is full");
        return;
    }
    if (c->q == NULL)
        c->q = xcalloc(WSD_MAX_QUEUED, sizeof *c->q);
    m->refs++;
    c->q[(c->q_head + c->q_n) % WSD_MAX_QUEUED] = m;
    c->q_n++;
    c->q_bytes += m->len;
    lws_callback_on_writable(c->wsi);
}

static const char *
json_text(json_object *o, size_t *len)
{
    return json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

wsd_msg_t *
wsd_msg_from_json(json_object *o)
{
    size_t len = 0;
    const char *t = json_text(o, &len);
    wsd_msg_t *m = msg_new(t, len);
    m->refs = 1;
    return m;
}

void
wsd_send_msg(wsd_t *w, wsd_client_t *c, wsd_msg_t *m)
{
    enqueue(w, c, m);
}

void
wsd_msg_unref(wsd_msg_t *m)
{
    if (m != NULL)
        msg_unref(m);
}

void
wsd_send(wsd_t *w, wsd_client_t *c, const char *text, size_t len)
{
    wsd_msg_t *m = msg_new(text, len);
    m->refs = 1;
    enqueue(w, c, m);
    msg_unref(m);
}

void
wsd_send_json(wsd_t *w, wsd_client_t *c, json_object *o)
{
    size_t len = 0;
    const char *t = json_text(o, &len);
    wsd_send(w, c, t, len);
}

void
wsd_broadcast_cap_json(wsd_t *w, json_object *o, uint32_t cap)
{
    size_t len = 0;
    const char *t = json_text(o, &len);
    wsd_msg_t *m = msg_new(t, len);
    m->refs = 1;
    for (wsd_client_t *c = w->clients; c != NULL; c = c->next)
        if (c->authed && (c->id.caps & cap) == cap)
            enqueue(w, c, m);
    msg_unref(m);
}

void
wsd_client_set_segments(wsd_client_t *c, bool on)
{
    c->segments = on;
}

size_t
wsd_segment_clients(const wsd_t *w)
{
    size_t n = 0;
    for (const wsd_client_t *c = w->clients; c != NULL; c = c->next)
        n += c->authed && c->segments;
    return n;
}

void
wsd_client_view(const wsd_client_t *c, ws_view_t *v)
{
    const char *user = c->id.user != NULL ? c->id.user : "";
    v->user = user;
    v->view_owner = webauth_owner_of(user, c->id.caps, WEBAUTH_CAP_VIEW_ALL_DOWNLOADS);
    v->edit_owner = webauth_owner_of(user, c->id.caps, WEBAUTH_CAP_EDIT_ALL_DOWNLOADS);
    v->all_owned = c->id.is_admin;
    v->hide_shared = !(c->id.caps & WEBAUTH_CAP_VIEW_SHARED);
    v->hide_uploads = !(c->id.caps & WEBAUTH_CAP_VIEW_UPLOADS);
    v->shared_only = NULL;
}

void
wsd_send_items_json(wsd_t *w, wsd_client_t *c, json_object *o)
{
    ws_view_t v;
    wsd_client_view(c, &v);
    if (ws_view_is_full(&v)) {
        wsd_send_json(w, c, o);
        return;
    }
    v.shared_only = w->shared_only;
    json_object *mine = ws_view_message(o, w->owners, &v);
    wsd_send_json(w, c, mine);
    json_object_put(mine);
}

void
wsd_broadcast_items_json(wsd_t *w, json_object *o, json_object *partial_o, bool segments_only)
{
    wsd_msg_t *m = NULL;
    for (wsd_client_t *c = w->clients; c != NULL; c = c->next) {
        if (!c->authed || (segments_only && !c->segments))
            continue;
        ws_view_t v;
        wsd_client_view(c, &v);
        if (!ws_view_is_full(&v)) {
            wsd_send_items_json(w, c, partial_o != NULL ? partial_o : o);
            continue;
        }
        if (m == NULL) {
            size_t len = 0;
            const char *t = json_text(o, &len);
            m = msg_new(t, len);
            m->refs = 1;
        }
        enqueue(w, c, m);
    }
    if (m != NULL)
        msg_unref(m);
}

void
wsd_broadcast_json(wsd_t *w, json_object *o)
{
    wsd_broadcast_cap_json(w, o, 0);
}

void
wsd_send_error(wsd_t *w, wsd_client_t *c, const char *message)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("error"));
    json_object_object_add(o, "message", json_object_new_string(message));
    wsd_send_json(w, c, o);
    json_object_put(o);
}

const webauth_ident_t *
wsd_client_ident(const wsd_client_t *c)
{
    return &c->id;
}

size_t
wsd_ready_clients(const wsd_t *w)
{
    size_t n = 0;
    for (const wsd_client_t *c = w->clients; c != NULL; c = c->next)
        n += c->authed;
    return n;
}

/* ------------------------------------------------------- authentication */

static char *
header(struct lws *wsi, enum lws_token_indexes tok)
{
    int n = lws_hdr_total_length(wsi, tok);
    if (n <= 0 || n > 16384)
        return NULL;
    char *s = xmalloc((size_t)n + 1);
    if (lws_hdr_copy(wsi, s, n + 1, tok) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

static char *
custom_header(struct lws *wsi, const char *name)
{
    int n = lws_hdr_custom_length(wsi, name, (int)strlen(name));
    if (n <= 0 || n > 16384)
        return NULL;
    char *s = xmalloc((size_t)n + 1);
    if (lws_hdr_custom_copy(wsi, s, n + 1, name, (int)strlen(name)) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

PGconn *
wsd_db(wsd_t *w)
{
    if (!db_is_broken(w->db))
        return w->db;
    if (w->db != NULL)
        PQfinish(w->db);
    mt_error_t *err = NULL;
    w->db = db_connect(conf_get_str(w->conf, "database"), "muleteer-ws",
                       (int)conf_get_int(w->conf, "db_connect_timeout"), &err);
    if (w->db == NULL) {
        log_warn("ws: %s", err->message);
        mt_error_free(err);
    }
    return w->db;
}

typedef struct {
    const http_request_t *req;
    webauth_ident_t *id;
    mt_error_t **err;
    int rc;
} identify_job_t;

/* on the database worker */
static void
identify_work(wsd_t *w, void *arg)
{
    identify_job_t *j = arg;
    PGconn *db = wsd_db(w);
    j->rc = db != NULL ? webauth_identify(db, &w->ac, j->req, j->id, j->err) : -1;
}

/* identify: who the upgrade's headers name; -1 when the database failed
 * (the caller keeps what it knew). The headers go through lib/http's
 * request as a FastCGI program would see them. */
static int
identify(wsd_t *w, wsd_client_t *c, webauth_ident_t *id)
{
    memset(id, 0, sizeof *id);
    const char *addr = c->addr != NULL ? c->addr : "";
    if (webauth_is_off(&w->ac, addr)) {
        id->method = WEBAUTH_OFF;
        id->user = xstrdup(w->ac.username);
        id->is_admin = true;
        id->caps = WEBAUTH_CAPS_ALL;
        return 0;
    }
    char *env[8];
    size_t n = 0;
    env[n++] = xstrdup("REQUEST_METHOD=GET");
    env[n++] = xstrdup("REQUEST_URI=/ws");
    env[n++] = xasprintf("REMOTE_ADDR=%s", addr);
    if (c->cookie != NULL)
        env[n++] = xasprintf("HTTP_COOKIE=%s", c->cookie);
    if (c->authz != NULL)
        env[n++] = xasprintf("HTTP_AUTHORIZATION=%s", c->authz);
    if (c->apikey != NULL)
        env[n++] = xasprintf("HTTP_X_API_KEY=%s", c->apikey);
    env[n] = NULL;
    mt_error_t *err = NULL;
    http_limits_t lim = http_limits_default();
    http_request_t *req = http_request_new(env, NULL, 0, &lim, &err);
    for (size_t i = 0; i < n; i++)
        free(env[i]);
    if (req == NULL) {
        mt_error_free(err); /* headers no request can have: nobody */
        return 0;
    }
    identify_job_t j = { .req = req, .id = id, .err = &err, .rc = -1 };
    if (wsd_offload(w, WSD_WORKER_DB, identify_work, &j) != 0)
        mt_error_set(&err, MT_ERR_UNAVAILABLE, "muleteer-ws is busy");
    int rc = j.rc;
    http_request_free(req);
    if (rc != 0) {
        log_warn("ws: cannot check a session: %s", err != NULL ? err->message : "no database");
        mt_error_free(err);
        webauth_ident_clear(id);
        return -1;
    }
    return 0;
}

static void client_unref(wsd_t *w, wsd_client_t *c);

/* the clients' sessions, one after the other; each client is held, since
 * one may go while its session is read */
static void
session_task(wsd_t *w, void *arg)
{
    (void)arg;
    size_t n = 0;
    wsd_client_t **all = xcalloc(w->n_clients + 1, sizeof *all);
    for (wsd_client_t *c = w->clients; c != NULL; c = c->next) {
        c->refs++;
        all[n++] = c;
    }
    for (size_t i = 0; i < n; i++) {
        wsd_client_t *c = all[i];
        webauth_ident_t id;
        if (c->wsi == NULL || !c->authed || c->close_code != 0 || c->id.method == WEBAUTH_OFF)
            continue;
        if (identify(w, c, &id) != 0)
            continue; /* the database is away: no verdict */
        if (c->wsi == NULL) {
            webauth_ident_clear(&id);
        } else if (id.user == NULL) {
            c->authed = false;
            close_later(c, 4001, "Session expired");
        } else {
            webauth_ident_clear(&c->id);
            c->id = id;
        }
    }
    for (size_t i = 0; i < n; i++)
        client_unref(w, all[i]);
    free(all);
    w->session_busy = false;
}

void
wsd_session_check(lws_sorted_usec_list_t *sul)
{
    wsd_t *w = lws_container_of(sul, wsd_t, sul_session);
    if (!w->session_busy) {
        w->session_busy = true;
        if (wsd_task_spawn(w, session_task, NULL, false) != 0)
            w->session_busy = false;
    }
    lws_sul_schedule(w->lws, 0, &w->sul_session, wsd_session_check,
                     (lws_usec_t)w->session_check_s * LWS_US_PER_SEC);
}

/* ------------------------------------------------------------ the loop */

static void
welcome(wsd_t *w, wsd_client_t *c)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("connected"));
    json_object_object_add(o, "message", json_object_new_string("Connected to Muleteer"));
    wsd_send_json(w, c, o);
    json_object_put(o);
    o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("search-lock"));
    json_object_object_add(o, "locked", json_object_new_boolean(false));
    wsd_send_json(w, c, o);
    json_object_put(o);
    wsd_snapshot_to(w, c);
}

static void
authenticate(wsd_t *w, wsd_client_t *c)
{
    c->identified = true;
    webauth_ident_t id;
    if (identify(w, c, &id) != 0) {
        close_later(c, 1011, "Authentication unavailable");
        return;
    }
    c->id = id;
    if (c->id.user == NULL) {
        close_later(c, 1008, "Authentication required");
        return;
    }
    if (c->wsi == NULL)
        return;
    c->authed = true;
    welcome(w, c);
}

static void handle_frame(wsd_t *w, wsd_client_t *c, const char *text, size_t len);

/* client_task: the client's authentication, then its frames in order,
 * until none waits */
static void
client_task(wsd_t *w, void *arg)
{
    wsd_client_t *c = arg;
    if (!c->identified)
        authenticate(w, c);
    while (c->pend_n > 0) {
        char *text = c->pend[c->pend_head];
        size_t len = c->pend_len[c->pend_head];
        c->pend[c->pend_head] = NULL;
        c->pend_head = (c->pend_head + 1) % WSD_CLIENT_PENDING;
        c->pend_n--;
        if (c->wsi != NULL && c->authed && c->close_code == 0)
            handle_frame(w, c, text, len);
        free(text);
    }
    c->busy = false;
    client_unref(w, c);
}

/* start_task: the client's task, unless it is under way; bounded for an
 * action (WSD_MAX_TASKS), not for the authentication of a connection
 * (bounded by ws_max_clients already) */
static int
start_task(wsd_t *w, wsd_client_t *c, bool bounded)
{
    if (c->busy)
        return 0;
    c->busy = true;
    c->refs++;
    if (wsd_task_spawn(w, client_task, c, bounded) != 0) {
        c->busy = false;
        c->refs--;
        return -1;
    }
    return 0;
}

static void
on_established(wsd_t *w, wsd_client_t *c)
{
    c->next = w->clients;
    if (w->clients != NULL)
        w->clients->prev = c;
    w->clients = c;
    c->linked = true;
    w->n_clients++;
    c->tokens = WSD_ACTION_BURST;
    c->tokens_ms = now_ms();
    if (w->n_clients > w->max_clients) {
        close_later(c, 1013, "Too many connections");
        return;
    }
    /* the authentication is the first work of the client's task; frames
     * that arrive meanwhile wait for it */
    if (start_task(w, c, false) != 0)
        close_later(c, 1013, "Server stopping");
}

static bool
take_token(wsd_client_t *c)
{
    int64_t now = now_ms();
    c->tokens += (double)(now - c->tokens_ms) * WSD_ACTION_RATE / 1000.0;
    if (c->tokens > WSD_ACTION_BURST)
        c->tokens = WSD_ACTION_BURST;
    c->tokens_ms = now;
    if (c->tokens < 1)
        return false;
    c->tokens -= 1;
    return true;
}

/* on_message: a frame waits for the client's task (which starts if none
 * is under way); a client with WSD_CLIENT_PENDING frames waiting, or a
 * server with WSD_MAX_TASKS tasks under way, is answered at once */
static void
on_message(wsd_t *w, wsd_client_t *c, const char *text, size_t len)
{
    if ((c->identified && !c->authed) || c->close_code != 0)
        return;
    if (!take_token(c)) {
        wsd_send_error(w, c, "Too many actions; slow down");
        return;
    }
    if (c->pend_n >= WSD_CLIENT_PENDING) {
        wsd_send_error(w, c, "Too many actions waiting for the daemon; try again later");
        return;
    }
    size_t i = (c->pend_head + c->pend_n) % WSD_CLIENT_PENDING;
    c->pend[i] = xmalloc(len + 1);
    memcpy(c->pend[i], text, len);
    c->pend[i][len] = '\0';
    c->pend_len[i] = len;
    c->pend_n++;
    if (start_task(w, c, true) != 0) {
        c->pend_n--;
        free(c->pend[i]);
        c->pend[i] = NULL;
        wsd_send_error(w, c, "Server busy; try again later");
    }
}

/* handle_frame: one frame, in the client's task */
static void
handle_frame(wsd_t *w, wsd_client_t *c, const char *text, size_t len)
{
    ws_action_t a;
    char *msg = NULL;
    if (ws_action_parse(text, len, &a, &msg) != 0) {
        wsd_send_error(w, c, msg);
        free(msg);
        return;
    }
    wsd_handle(w, c, &a);
    ws_action_clear(&a);
}

static void
on_receive(wsd_t *w, wsd_client_t *c, struct lws *wsi, const void *in, size_t len)
{
    if (c->rx_skip)
        return;
    if (lws_frame_is_binary(wsi)) {
        c->rx_skip = true;
        close_later(c, 1003, "Text frames only");
        return;
    }
    if (c->rx_len + len > w->max_frame) {
        c->rx_skip = true;
        close_later(c, 1009, "Message too big");
        return;
    }
    c->rx = xrealloc(c->rx, c->rx_len + len + 1);
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
        return;
    on_message(w, c, c->rx, c->rx_len);
    free(c->rx);
    c->rx = NULL;
    c->rx_len = 0;
}

/* Messages go out in fragments of at most WSD_CHUNK bytes, each copied
 * into one scratch buffer: libwebsockets writes a frame's header in front
 * of its payload, which a message shared by several clients cannot spare,
 * and it keeps a copy of whatever the socket did not take, which stays
 * one fragment, not a whole snapshot, per slow client. */
#define WSD_CHUNK 16384
static unsigned char scratch[LWS_PRE + WSD_CHUNK];

static int
on_writable(wsd_client_t *c, struct lws *wsi)
{
    if (c->close_code > 0 && (c->q_n == 0 || !c->authed) && c->q_off == 0) {
        lws_close_reason(wsi, (enum lws_close_status)c->close_code, (unsigned char *)c->close_reason,
                         strlen(c->close_reason));
        return -1;
    }
    if (c->q_n == 0)
        return 0;
    wsd_msg_t *m = c->q[c->q_head];
    size_t n = m->len - c->q_off < WSD_CHUNK ? m->len - c->q_off : WSD_CHUNK;
    bool last = c->q_off + n == m->len;
    int flags = (c->q_off == 0 ? LWS_WRITE_TEXT : LWS_WRITE_CONTINUATION) | (last ? 0 : LWS_WRITE_NO_FIN);
    memcpy(scratch + LWS_PRE, m->buf + LWS_PRE + c->q_off, n);
    if (lws_write(wsi, scratch + LWS_PRE, n, (enum lws_write_protocol)flags) < 0)
        return -1;
    c->q_off += n;
    if (last) {
        c->q_head = (c->q_head + 1) % WSD_MAX_QUEUED;
        c->q_n--;
        c->q_bytes -= m->len;
        c->q_off = 0;
        msg_unref(m);
    }
    if (c->q_n > 0 || c->close_code > 0)
        lws_callback_on_writable(wsi);
    return 0;
}

static void
client_unref(wsd_t *w, wsd_client_t *c)
{
    (void)w;
    if (--c->refs > 0)
        return;
    for (size_t i = 0; i < c->pend_n; i++)
        free(c->pend[(c->pend_head + i) % WSD_CLIENT_PENDING]);
    webauth_ident_clear(&c->id);
    free(c);
}

/* client_gone: the connection is closed; the structure stays while a
 * task holds it */
static void
client_gone(wsd_t *w, wsd_client_t *c)
{
    if (c->linked) {
        if (c->prev != NULL)
            c->prev->next = c->next;
        else
            w->clients = c->next;
        if (c->next != NULL)
            c->next->prev = c->prev;
        w->n_clients--;
    }
    while (c->q_n > 0) {
        msg_unref(c->q[c->q_head]);
        c->q_head = (c->q_head + 1) % WSD_MAX_QUEUED;
        c->q_n--;
    }
    free(c->q);
    free(c->rx);
    free(c->cookie);
    free(c->addr);
    free(c->authz);
    free(c->apikey);
    c->q = NULL;
    c->rx = NULL;
    c->cookie = c->addr = c->authz = c->apikey = NULL;
    c->linked = false;
    c->wsi = NULL;
    client_unref(w, c);
}

static int
on_client(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    wsd_t *w = lws_context_user(lws_get_context(wsi));
    pss_t *pss = user;
    wsd_client_t *c = pss != NULL ? pss->c : NULL;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        /* a plain request: this server speaks WebSocket only */
        lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, "WebSocket upgrade expected");
        return -1;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        c = xcalloc(1, sizeof *c);
        c->wsi = wsi;
        c->refs = 1;
        c->cookie = header(wsi, WSI_TOKEN_HTTP_COOKIE);
        c->authz = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
        c->addr = header(wsi, WSI_TOKEN_X_FORWARDED_FOR);
        c->apikey = custom_header(wsi, "x-api-key:");
        if (c->addr != NULL) {
            /* the last hop's address: what the web server in front saw */
            char *comma = strrchr(c->addr, ',');
            if (comma != NULL)
                memmove(c->addr, comma + 1, strlen(comma + 1) + 1);
            size_t i = 0;
            while (c->addr[i] == ' ')
                i++;
            memmove(c->addr, c->addr + i, strlen(c->addr + i) + 1);
        }
        pss->c = c;
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        if (c != NULL)
            on_established(w, c);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (c != NULL)
            on_receive(w, c, wsi, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c != NULL ? on_writable(c, wsi) : 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (c != NULL) {
            client_gone(w, c);
            pss->c = NULL;
        }
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        /* a worker answered (task.c) */
        wsd_tasks_poll(w);
        return 0;
    default:
        return 0;
    }
}

const struct lws_protocols wsd_protocols[] = {
    /* first: the protocol of an upgrade that names none (aMuTorrent's UI) */
    { "amutorrent", on_client, sizeof(pss_t), 4096, 0, NULL, 0 },
    { "muleteer-daemon-events", wsd_events_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};
