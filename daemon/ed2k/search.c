/* search.c: searches on the eD2K network: the expression parsed
 * (lib/ed2k/search), sent to the connected server (TCP, pages of results
 * with OP_QUERY_MORE_RESULT) and, for a global search, to every other
 * known server over UDP, one per second; results merged by hash and
 * written to the database as they come (§3.5, §4). */
#include "config.h"

#include "daemon/ed2k/search.h"
#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/ed2k/search_results.h"
#include "daemon/ed2k/server.h"
#include "daemon/ed2k/serverlist.h"
#include "daemon/store/search_tables.h"
#include "ed2k/c2s.h"
#include "ed2k/hash.h"
#include "ed2k/search.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define SEARCH_KEEP 32             /* searches kept in memory */
#define SEARCH_MAX_PAGES 5         /* TCP pages asked automatically */
#define SEARCH_TCP_TIMEOUT 30      /* seconds without an answer */
#define SEARCH_UDP_SPACING_MS 750  /* between two servers */
#define SEARCH_UDP_MAX_SERVERS 200
#define SEARCH_UDP_LINGER 15       /* seconds after the last request */

typedef enum { SS_RUNNING, SS_FINISHED, SS_STOPPED, SS_FAILED } search_state_t;
static const char *const state_names[] = { "running", "finished", "stopped", "failed" };

typedef struct search {
    int64_t id;
    char *expr, *normalized;
    bool global;
    search_state_t state;
    char *error;
    time_t started, finished;     /* wall clock */
    uint8_t *tree;                /* encoded for the TCP server */
    size_t tree_len;
    uint8_t *tree_udp;            /* encoded for UDP (large-file terms as the servers allow) */
    size_t tree_udp_len;
    sres_set_t results;           /* merged by hash (search_results.h) */
    /* TCP */
    bool tcp_waiting;
    int pages;
    bool more_available;
    time_t tcp_deadline;          /* monotonic */
    /* UDP */
    struct asked_server {
        uint32_t ip;
        uint16_t port;
    } *asked;                     /* by address: a server may leave the list */
    size_t n_asked;
    int64_t next_udp_ms;
    time_t udp_done_at;           /* monotonic: when the last server was asked */
    /* Kad */
    bool kad_waiting;             /* a Kad search runs for it */
    bool finish_pending;          /* the servers are done; Kad is not yet */
    char *pending_error;
    bool dirty_row;
} search_t;

struct searches {
    muleteerd_t *d;
    search_t *v[SEARCH_KEEP];
    size_t n;
    search_t *tcp;                /* the search the TCP server is answering */
    search_kad_start_fn kad_start;
    void *kad_ctx;
    int64_t last_id;
    time_t next_prune;
};

/* ------------------------------------------------------------ searches */

static void
search_destroy(search_t *q)
{
    if (q == NULL)
        return;
    sres_clear(&q->results);
    free(q->asked);
    free(q->expr);
    free(q->normalized);
    free(q->error);
    free(q->tree);
    free(q->tree_udp);
    free(q->pending_error);
    free(q);
}

static search_t *
find(searches_t *ss, int64_t id)
{
    for (size_t i = 0; i < ss->n; i++)
        if (ss->v[i]->id == id)
            return ss->v[i];
    return NULL;
}

static void
finish(searches_t *ss, search_t *q, search_state_t st, const char *error)
{
    if (q->state != SS_RUNNING)
        return;
    if (st == SS_FINISHED && q->kad_waiting) {
        /* the servers are done: the search ends when Kad is */
        if (ss->tcp == q)
            ss->tcp = NULL;
        if (error != NULL && q->pending_error == NULL)
            q->pending_error = xstrdup(error);
        q->finish_pending = true;
        return;
    }
    q->state = st;
    q->finished = time(NULL);
    if (error != NULL && q->error == NULL)
        q->error = xstrdup(error);
    if (ss->tcp == q)
        ss->tcp = NULL;
    q->dirty_row = true;
    log_info("search %" PRId64 ": %s, %zu result(s)%s%s", q->id, state_names[st], q->results.n,
             error != NULL ? ": " : "", error != NULL ? error : "");
    bus_publish_search_ended(ss->d->bus, &(bus_search_t){ .id = q->id,
                                                          .state = state_names[st],
                                                          .results = q->results.n });
}

/* merge: adds a result reported by a server (ip:port; 0:0 for the TCP
 * server), or updates the one with its hash (sres_merge: a server
 * reporting again gives its latest counts, different servers add up; the
 * strings of r move into a new result), and tells the bus. */
static void
merge(searches_t *ss, search_t *q, ed2k_search_result_t *r, uint32_t ip, uint16_t port)
{
    sres_result_t *m = sres_merge(&q->results, r, ip, port);
    if (m == NULL)
        return;
    q->dirty_row = true;
    bus_publish_search_result(ss->d->bus, &(bus_search_t){ .id = q->id,
                                                           .hash = m->r.hash,
                                                           .name = m->r.name,
                                                           .size = m->r.size,
                                                           .sources = m->r.sources });
}

static void
take_results(searches_t *ss, search_t *q, ed2k_search_result_t *res, size_t n, uint32_t ip,
             uint16_t port)
{
    for (size_t i = 0; i < n; i++)
        merge(ss, q, &res[i], ip, port);
}

/* ------------------------------------------------------------ database */

static json_object *
jstr(const char *s)
{
    return s != NULL ? json_object_new_string(s) : NULL;
}

/* find_running: the running search of the same scope whose normalized
 * expression is parsed's: a client asking again while it runs (two
 * Torznab requests at once) shares it rather than starting another. */
static search_t *
find_running(searches_t *ss, const ed2k_search_t *parsed, bool global)
{
    char *norm = ed2k_search_to_string(parsed);
    search_t *found = NULL;
    for (size_t i = 0; i < ss->n && found == NULL; i++) {
        search_t *q = ss->v[i];
        if (q->state == SS_RUNNING && q->global == global && strcmp(q->normalized, norm) == 0)
            found = q;
    }
    free(norm);
    return found;
}

static json_object *
search_row(const search_t *q)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(q->id));
    json_object_object_add(o, "expression", json_object_new_string(q->expr));
    json_object_object_add(o, "normalized", json_object_new_string(q->normalized));
    json_object_object_add(o, "scope", json_object_new_string(q->global ? "global" : "local"));
    json_object_object_add(o, "state", json_object_new_string(state_names[q->state]));
    json_object_object_add(o, "error", jstr(q->error));
    json_object_object_add(o, "results", json_object_new_int64((int64_t)q->results.n));
    json_object_object_add(o, "servers_asked",
                           json_object_new_int64((int64_t)q->n_asked + (q->pages > 0 ? 1 : 0)));
    json_object_object_add(o, "started_at", json_object_new_int64((int64_t)q->started));
    json_object_object_add(o, "finished_at", json_object_new_int64((int64_t)q->finished));
    return o;
}

/* origins_json: where a result came from: "server" (the TCP server),
 * "udp" (other servers answering the global search) and "kad". */
static json_object *
origins_json(const sres_result_t *m)
{
    bool tcp = false, udp = false, kad = false;
    for (size_t i = 0; i < m->n_rep; i++) {
        if (m->rep[i].ip == 0 && m->rep[i].port == 0)
            tcp = true;
        else if (m->rep[i].ip == SRES_KAD_IP && m->rep[i].port == SRES_KAD_PORT)
            kad = true;
        else
            udp = true;
    }
    json_object *a = json_object_new_array();
    if (tcp)
        json_object_array_add(a, json_object_new_string("server"));
    if (udp)
        json_object_array_add(a, json_object_new_string("udp"));
    if (kad)
        json_object_array_add(a, json_object_new_string("kad"));
    return a;
}

static json_object *
result_json(const search_t *q, const sres_result_t *m)
{
    const ed2k_search_result_t *r = &m->r;
    char hex[33];
    ed2k_hash_to_hex(r->hash, hex);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "search_id", json_object_new_int64(q->id));
    json_object_object_add(o, "hash", json_object_new_string(hex));
    json_object_object_add(o, "name", json_object_new_string(r->name));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)r->size));
    json_object_object_add(o, "sources", json_object_new_int64(r->sources));
    json_object_object_add(o, "complete_sources", json_object_new_int64(r->complete_sources));
    json_object_object_add(o, "file_type", jstr(r->type));
    json_object_object_add(o, "extension", jstr(r->format));
    json_object_object_add(o, "artist", jstr(r->artist));
    json_object_object_add(o, "album", jstr(r->album));
    json_object_object_add(o, "title", jstr(r->title));
    json_object_object_add(o, "codec", jstr(r->codec));
    json_object_object_add(o, "length_s", json_object_new_int64(r->length));
    json_object_object_add(o, "bitrate", json_object_new_int64(r->bitrate));
    json_object_object_add(o, "origins", origins_json(m));
    return o;
}

static void
flush_db(searches_t *ss, search_t *q)
{
    if (!q->dirty_row)
        return;
    json_object *row = search_row(q);
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < q->results.n; i++)
        if (q->results.v[i]->dirty) {
            json_object_array_add(arr, result_json(q, q->results.v[i]));
            q->results.v[i]->dirty = false;
        }
    store_search_write(ss->d->db, conf_get_str(ss->d->conf, "node_name"),
                       json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN),
                       json_object_array_length(arr) > 0
                           ? json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN)
                           : NULL);
    json_object_put(row);
    json_object_put(arr);
    q->dirty_row = false;
}

/* ------------------------------------------------------------- sending */

static void
send_tcp(searches_t *ss, search_t *q)
{
    if (srv_search(ss->d->server, q->tree, q->tree_len) == 0) {
        ss->tcp = q;
        q->tcp_waiting = true;
        q->pages = 1;
        q->tcp_deadline = clock_mono_s() + SEARCH_TCP_TIMEOUT;
    }
}

/* next_udp: asks the next server that has not been asked (not the one we
 * are connected to: it had the TCP request, §4). */
static void
next_udp(searches_t *ss, search_t *q)
{
    serverlist_t *sl = ss->d->serverlist;
    const sl_server_t *cur = srv_current(ss->d->server);
    for (size_t i = 0; i < sl_count(sl) && q->n_asked < SEARCH_UDP_MAX_SERVERS; i++) {
        sl_server_t *s = sl_get(sl, i);
        if (s == cur || s->ip == 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < q->n_asked && !seen; k++)
            seen = q->asked[k].ip == s->ip && q->asked[k].port == s->port;
        if (seen)
            continue;
        struct evbuffer *b = evbuffer_new();
        bool large = (s->udp_flags & ED2K_SRV_UDPFLG_LARGEFILES) != 0;
        const uint8_t *tree = large ? q->tree : q->tree_udp;
        size_t tree_len = large ? q->tree_len : q->tree_udp_len;
        if (tree != NULL && ed2k_globsearchreq_encode(b, tree, tree_len, s->udp_flags, large) != 0)
            sl_udp_send(sl, s, evbuffer_pullup(b, -1), evbuffer_get_length(b));
        else
            log_debug("search %" PRId64 ": %s:%u cannot take this search", q->id, s->address,
                      s->port);
        evbuffer_free(b);
        q->asked = xreallocarray(q->asked, q->n_asked + 1, sizeof *q->asked);
        q->asked[q->n_asked++] = (struct asked_server){ .ip = s->ip, .port = s->port };
        q->udp_done_at = clock_mono_s();
        q->dirty_row = true;
        return;
    }
    q->next_udp_ms = -1; /* every server asked */
}

/* ------------------------------------------------------------ incoming */

/* on_tcp_result: an OP_SEARCHRESULT payload from our server. */
static void
on_tcp_result(void *ctx, const uint8_t *payload, size_t len)
{
    searches_t *ss = ctx;
    search_t *q = ss->tcp;
    ed2k_search_result_t *res = NULL;
    size_t n = 0;
    bool more = false;
    mt_error_t *err = NULL;
    if (ed2k_searchresult_decode(payload, len, &res, &n, &more, &err) != 0) {
        log_info("search: a bad result packet from the server: %s", err->message);
        mt_error_free(err);
        if (q != NULL) {
            q->tcp_waiting = false;
            if (!q->global)
                finish(ss, q, SS_FINISHED, NULL);
        }
        return;
    }
    if (q == NULL || q->state != SS_RUNNING) {
        ed2k_search_results_free(res, n);
        return;
    }
    take_results(ss, q, res, n, 0, 0);
    ed2k_search_results_free(res, n);
    q->tcp_waiting = false;
    q->more_available = more;
    log_debug("search %" PRId64 ": %zu result(s) from the server (page %d%s)", q->id, n, q->pages,
              more ? ", more available" : "");
    if (more && q->pages < SEARCH_MAX_PAGES && q->results.n < SRES_MAX_RESULTS &&
        srv_search_more(ss->d->server) == 0) {
        q->pages++;
        q->tcp_waiting = true;
        q->tcp_deadline = clock_mono_s() + SEARCH_TCP_TIMEOUT;
        return;
    }
    ss->tcp = NULL;
    if (!q->global)
        finish(ss, q, SS_FINISHED, NULL);
}

/* on_srv_lost: the server connection went away: a TCP search in flight
 * ends. */
static void
on_srv_lost(void *ctx, const bus_server_t *ev)
{
    (void)ev;
    searches_t *ss = ctx;
    search_t *q = ss->tcp;
    if (q == NULL)
        return;
    ss->tcp = NULL;
    q->tcp_waiting = false;
    if (!q->global)
        finish(ss, q, q->results.n > 0 ? SS_FINISHED : SS_FAILED,
               "the server connection was lost");
}

/* on_udp_result: an OP_GLOBSEARCHRES datagram from another server. */
static void
on_udp_result(void *ctx, sl_server_t *from, const uint8_t *payload, size_t len)
{
    searches_t *ss = ctx;
    ed2k_search_result_t *res = NULL;
    size_t n = 0;
    mt_error_t *err = NULL;
    if (ed2k_globsearchres_decode(payload, len, &res, &n, &err) != 0) {
        log_debug("search: a bad UDP result from %s:%u: %s", from->address, from->port,
                  err->message);
        mt_error_free(err);
        return;
    }
    /* UDP answers carry no search id: they belong to the running global
     * search that asked this server most recently. */
    search_t *q = NULL;
    for (size_t i = ss->n; i-- > 0 && q == NULL;) {
        search_t *c = ss->v[i];
        if (c->state != SS_RUNNING || !c->global)
            continue;
        for (size_t k = 0; k < c->n_asked; k++)
            if (c->asked[k].ip == from->ip && c->asked[k].port == from->port) {
                q = c;
                break;
            }
    }
    if (q != NULL)
        take_results(ss, q, res, n, from->ip, from->port);
    ed2k_search_results_free(res, n);
}

/* ---------------------------------------------------------------- life */

searches_t *
search_new(muleteerd_t *d)
{
    searches_t *ss = xcalloc(1, sizeof *ss);
    ss->d = d;
    srv_set_search_sink(d->server, &(srv_search_sink_t){ .tcp_result = on_tcp_result,
                                                         .udp_result = on_udp_result,
                                                         .ctx = ss });
    bus_on_srv_lost(d->bus, on_srv_lost, ss);
    return ss;
}

void
search_free(searches_t *ss)
{
    if (ss == NULL)
        return;
    bus_unsubscribe_ctx(ss->d->bus, ss);
    srv_set_search_sink(ss->d->server, NULL);
    for (size_t i = 0; i < ss->n; i++)
        search_destroy(ss->v[i]);
    free(ss);
}

void
search_tick(searches_t *ss)
{
    time_t now = clock_mono_s();
    int64_t now_ms = clock_mono_ms();
    for (size_t i = 0; i < ss->n; i++) {
        search_t *q = ss->v[i];
        if (q->state == SS_RUNNING) {
            if (q->tcp_waiting && now >= q->tcp_deadline) {
                q->tcp_waiting = false;
                if (ss->tcp == q)
                    ss->tcp = NULL;
                if (!q->global)
                    finish(ss, q, SS_FINISHED, q->results.n == 0 ? "the server did not answer" : NULL);
            }
            if (q->global && q->next_udp_ms >= 0 && now_ms >= q->next_udp_ms) {
                next_udp(ss, q);
                if (q->next_udp_ms >= 0)
                    q->next_udp_ms = now_ms + SEARCH_UDP_SPACING_MS;
            }
            if (q->global && q->next_udp_ms < 0 && !q->tcp_waiting &&
                now - q->udp_done_at >= SEARCH_UDP_LINGER)
                finish(ss, q, SS_FINISHED, NULL);
        }
        flush_db(ss, q);
    }
    if (now >= ss->next_prune) {
        ss->next_prune = now + 3600;
        long days = conf_get_int(ss->d->conf, "search_retention_days");
        if (days > 0)
            store_searches_prune(ss->d->db, conf_get_str(ss->d->conf, "node_name"), days);
    }
}

/* ------------------------------------------------------------ the API */

static int64_t
new_id(searches_t *ss)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int64_t id = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    if (id <= ss->last_id)
        id = ss->last_id + 1;
    ss->last_id = id;
    return id;
}

static int
encode_tree(const ed2k_search_t *parsed, bool large, uint8_t **out, size_t *len, mt_error_t **err)
{
    struct evbuffer *b = evbuffer_new();
    int rc = ed2k_search_encode(parsed, b, large, err);
    if (rc == 0) {
        *len = evbuffer_get_length(b);
        *out = xmalloc(*len);
        evbuffer_remove(b, *out, *len);
    }
    evbuffer_free(b);
    return rc;
}

/* ------------------------------------------------------------ Kad */

/* first_string: the first string term of the tree, depth first. */
static const ed2k_search_node_t *
first_string(const ed2k_search_node_t *n)
{
    if (n == NULL)
        return NULL;
    if (n->kind == ED2K_SEARCH_STRING)
        return n;
    if (n->kind != ED2K_SEARCH_BOOL)
        return NULL;
    const ed2k_search_node_t *s = first_string(n->l);
    return s != NULL ? s : first_string(n->r);
}

/* kad_ask: starts the Kad side of search id, with the words of its first
 * string term and the whole expression as the tree (32-bit sizes, as the
 * UDP servers get it; none when it needs 64-bit terms). Whether it
 * started. */
static bool
kad_ask(searches_t *ss, const ed2k_search_t *parsed, int64_t id)
{
    const ed2k_search_node_t *s = first_string(ed2k_search_root(parsed));
    if (ss->kad_start == NULL || s == NULL)
        return false;
    uint8_t *tree = NULL;
    size_t tree_len = 0;
    if (encode_tree(parsed, false, &tree, &tree_len, NULL) != 0) {
        tree = NULL;
        tree_len = 0;
    }
    bool started = ss->kad_start(ss->kad_ctx, id, s->text, tree, tree_len) == 0;
    free(tree);
    return started;
}

void
search_set_kad(searches_t *ss, search_kad_start_fn start, void *ctx)
{
    ss->kad_start = start;
    ss->kad_ctx = ctx;
}

void
search_kad_results(void *ctx, int64_t id, ed2k_search_result_t *r, size_t n, bool done)
{
    searches_t *ss = ctx;
    search_t *q = find(ss, id);
    if (q == NULL || q->state != SS_RUNNING)
        return;
    take_results(ss, q, r, n, SRES_KAD_IP, SRES_KAD_PORT);
    if (n > 0)
        log_debug("search %" PRId64 ": %zu result(s) from Kad", q->id, n);
    if (!done)
        return;
    q->kad_waiting = false;
    bool servers_done = q->finish_pending ||
                        (!q->tcp_waiting && ss->tcp != q && !q->global);
    if (servers_done)
        finish(ss, q, SS_FINISHED, q->results.n == 0 ? q->pending_error : NULL);
}

json_object *
search_start(searches_t *ss, const char *query, bool global, mt_error_t **err)
{
    muleteerd_t *d = ss->d;
    ed2k_search_t *parsed = NULL;
    if (ed2k_search_parse(query, &parsed, err) != 0)
        return NULL;
    search_t *same = find_running(ss, parsed, global);
    if (same != NULL) {
        ed2k_search_free(parsed);
        log_info("search %" PRId64 ": asked again, shared", same->id);
        return search_row(same);
    }
    bool connected = srv_is_connected(d->server);
    int64_t id = new_id(ss);
    bool kad = kad_ask(ss, parsed, id);
    if (!connected && (!global || sl_count(d->serverlist) == 0) && !kad) {
        ed2k_search_free(parsed);
        mt_error_set(err, MT_ERR_UNAVAILABLE,
                     global ? "no server to ask: connect to a server or add servers first"
                            : "not connected to a server (a local search asks the connected server)");
        return NULL;
    }
    search_t *q = xcalloc(1, sizeof *q);
    q->id = id;
    q->kad_waiting = kad;
    q->expr = xstrdup(query);
    q->normalized = ed2k_search_to_string(parsed);
    q->global = global;
    q->state = SS_RUNNING;
    q->started = time(NULL);
    q->dirty_row = true;
    bool large = (srv_tcp_flags(d->server) & ED2K_SRV_TCPFLG_LARGEFILES) != 0;
    mt_error_t *e2 = NULL;
    if (encode_tree(parsed, connected ? large : true, &q->tree, &q->tree_len, err) != 0) {
        ed2k_search_free(parsed);
        search_destroy(q);
        return NULL;
    }
    if (encode_tree(parsed, false, &q->tree_udp, &q->tree_udp_len, &e2) != 0) {
        /* the expression needs 64-bit terms: only large-file servers */
        mt_error_free(e2);
        q->tree_udp = NULL;
        q->tree_udp_len = 0;
    }
    ed2k_search_free(parsed);
    /* room: the oldest finished search leaves memory (it stays in the database) */
    if (ss->n == SEARCH_KEEP) {
        size_t victim = SEARCH_KEEP;
        for (size_t i = 0; i < ss->n && victim == SEARCH_KEEP; i++)
            if (ss->v[i]->state != SS_RUNNING)
                victim = i;
        if (victim == SEARCH_KEEP)
            victim = 0;
        if (ss->tcp == ss->v[victim])
            ss->tcp = NULL;
        flush_db(ss, ss->v[victim]);
        search_destroy(ss->v[victim]);
        memmove(&ss->v[victim], &ss->v[victim + 1], (ss->n - victim - 1) * sizeof ss->v[0]);
        ss->n--;
    }
    ss->v[ss->n++] = q;
    if (connected) {
        /* a newer search takes the TCP server over */
        if (ss->tcp != NULL && ss->tcp != q) {
            search_t *old = ss->tcp;
            old->tcp_waiting = false;
            ss->tcp = NULL;
            if (!old->global)
                finish(ss, old, SS_FINISHED, NULL);
        }
        send_tcp(ss, q);
    }
    q->next_udp_ms = global ? clock_mono_ms() + (connected ? 2000 : 0) : -1;
    if (global)
        q->udp_done_at = clock_mono_s();

    log_info("search %" PRId64 ": %s \"%s\"", q->id, global ? "global" : "local", q->normalized);
    bus_publish_search_started(d->bus, &(bus_search_t){ .id = q->id, .expression = q->expr });
    flush_db(ss, q);
    return search_row(q);
}

static search_t *
get_search(searches_t *ss, int64_t id, mt_error_t **err)
{
    search_t *q = find(ss, id);
    if (q == NULL)
        mt_error_set(err, MT_ERR_NOT_FOUND,
                     "no search %" PRId64 " in memory (older searches are in the database)", id);
    return q;
}

int
search_check(searches_t *ss, int64_t id, mt_error_t **err)
{
    return get_search(ss, id, err) != NULL ? 0 : -1;
}

json_object *
search_results_json(searches_t *ss, int64_t id, size_t offset, size_t limit, mt_error_t **err)
{
    search_t *q = get_search(ss, id, err);
    if (q == NULL)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "search", search_row(q));
    json_object *arr = json_object_new_array();
    for (size_t i = offset; i < q->results.n && i - offset < limit; i++)
        json_object_array_add(arr, result_json(q, q->results.v[i]));
    json_object_object_add(o, "results", arr);
    json_object_object_add(o, "more_available", json_object_new_boolean(q->more_available));
    return o;
}

json_object *
search_stop(searches_t *ss, int64_t id, mt_error_t **err)
{
    search_t *q = get_search(ss, id, err);
    if (q == NULL)
        return NULL;
    finish(ss, q, SS_STOPPED, NULL);
    return search_row(q);
}

json_object *
search_more(searches_t *ss, int64_t id, mt_error_t **err)
{
    search_t *q = get_search(ss, id, err);
    if (q == NULL)
        return NULL;
    if (!q->more_available || q->tcp_waiting || (ss->tcp != NULL && ss->tcp != q)) {
        mt_error_set(err, MT_ERR_INVALID, "the server has no more results for this search now");
        return NULL;
    }
    if (srv_search_more(ss->d->server) != 0) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "not connected to the server of this search");
        return NULL;
    }
    ss->tcp = q;
    q->tcp_waiting = true;
    q->pages++;
    q->tcp_deadline = clock_mono_s() + SEARCH_TCP_TIMEOUT;
    if (q->state != SS_RUNNING) {
        q->state = SS_RUNNING;
        q->finished = 0;
        q->dirty_row = true;
    }
    return search_row(q);
}

json_object *
search_list_json(const searches_t *ss)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < ss->n; i++)
        json_object_array_add(arr, search_row(ss->v[i]));
    return arr;
}
