/* cmd_metrics.c: the `metrics` control command: byte counters (payload and
 * overhead per direction), rates, downloads and sources by state, peers,
 * the upload queue, the server connection, shared files, searches, the
 * database writer, the Kad node (kad-status's object); the shape is in
 * docs/control-protocol.md. */
#include "config.h"

#include "daemon/ctl/cmd_metrics.h"
#include "daemon/core/daemon.h"
#include "daemon/ed2k/search.h"
#include "daemon/ed2k/server.h"
#include "daemon/kad/kad.h"
#include "daemon/net/ipblock.h"
#include "daemon/net/peer.h"
#include "daemon/store/db_worker.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/finished.h"
#include "daemon/transfer/shared.h"
#include "daemon/transfer/source.h"
#include "daemon/transfer/upload.h"
#include "util/bug.h"

#include <string.h>

static void
add_u64(json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static json_object *
pair(uint64_t in, uint64_t out)
{
    json_object *o = json_object_new_object();
    add_u64(o, "in", in);
    add_u64(o, "out", out);
    return o;
}

static json_object *
traffic_json(const muleteerd_t *d)
{
    const traffic_t *t = &d->traffic;
    uint64_t down = 0, up = 0;
    peer_mgr_totals(d->peers, &down, &up);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "peer", pair(down, up));
    json_object_object_add(o, "payload", pair(t->payload[TRAFFIC_IN], t->payload[TRAFFIC_OUT]));
    json_object_object_add(o, "protocol", pair(t->protocol[TRAFFIC_IN], t->protocol[TRAFFIC_OUT]));
    json_object_object_add(o, "server", pair(t->server[TRAFFIC_IN], t->server[TRAFFIC_OUT]));
    json_object_object_add(o, "udp", pair(t->udp[TRAFFIC_IN], t->udp[TRAFFIC_OUT]));
    return o;
}

/* downloads_json: every state with its count (zeros included, so that a
 * series never disappears); the sources by state into sources. */
static json_object *
downloads_json(const muleteerd_t *d, json_object **sources)
{
    static const char *const states[] = { "downloading", "queued", "stalled", "checking",
                                          "moving",      "paused", "stopped", "error" };
    enum { N = sizeof states / sizeof states[0] };
    uint64_t n[N] = { 0 }, src[SRC_N_STATES] = { 0 };
    for (size_t i = 0; i < dlq_count(d->downloads); i++) {
        const download_t *dl = dlq_get(d->downloads, i);
        const char *st = dl_state_name(dl);
        size_t k = 0;
        while (k < N && strcmp(states[k], st) != 0)
            k++;
        if (!MT_BUG(k == N))
            n[k]++;
        src_count_states(dl, src);
    }
    json_object *o = json_object_new_object();
    for (size_t k = 0; k < N; k++)
        add_u64(o, states[k], n[k]);
    *sources = json_object_new_object();
    for (size_t k = 0; k < SRC_N_STATES; k++)
        add_u64(*sources, src_state_name(k), src[k]);
    return o;
}

static json_object *
finished_json(const muleteerd_t *d)
{
    uint64_t completed = 0, missing = 0, checking = 0;
    for (size_t i = 0; i < fin_count(d->finished); i++) {
        const char *st = fin_state(fin_get(d->finished, i));
        missing += strcmp(st, "missing") == 0;
        checking += strcmp(st, "checking") == 0;
        completed += strcmp(st, "completed") == 0;
    }
    json_object *o = json_object_new_object();
    add_u64(o, "completed", completed);
    add_u64(o, "missing", missing);
    add_u64(o, "checking", checking);
    return o;
}

/* server_json: the state srv_to_json reports, and whether our id is a
 * LowID (null while not connected). */
static json_object *
server_json(const muleteerd_t *d)
{
    json_object *s = srv_to_json(d->server), *v;
    json_object *o = json_object_new_object();
    const char *state = json_object_object_get_ex(s, "state", &v) ? json_object_get_string(v)
                                                                  : "disconnected";
    json_object_object_add(o, "state", json_object_new_string(state));
    json_object_object_add(o, "connected", json_object_new_boolean(srv_is_connected(d->server)));
    json_object_object_add(o, "lowid", srv_is_connected(d->server) &&
                                               json_object_object_get_ex(s, "lowid", &v)
                                           ? json_object_new_boolean(json_object_get_boolean(v))
                                           : NULL);
    json_object_put(s);
    return o;
}

static json_object *
searches_json(const muleteerd_t *d)
{
    json_object *l = search_list_json(d->searches), *arr, *v;
    uint64_t running = 0;
    if (json_object_object_get_ex(l, "searches", &arr))
        for (size_t i = 0; i < json_object_array_length(arr); i++)
            if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "state", &v) &&
                strcmp(json_object_get_string(v), "running") == 0)
                running++;
    json_object_put(l);
    json_object *o = json_object_new_object();
    add_u64(o, "started", bus_published(d->bus, BUS_SEARCH_STARTED));
    add_u64(o, "running", running);
    return o;
}

static json_object *
database_json(const muleteerd_t *d)
{
    dbw_status_t ds;
    dbw_get_status(d->db, &ds);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "connected", json_object_new_boolean(ds.connected));
    add_u64(o, "queued", ds.queued);
    add_u64(o, "lag_ms", (uint64_t)(ds.lag_ms > 0 ? ds.lag_ms : 0));
    add_u64(o, "jobs_done", ds.jobs_done);
    add_u64(o, "jobs_failed", ds.jobs_failed);
    add_u64(o, "jobs_dropped", ds.jobs_dropped);
    return o;
}

int
cmd_metrics(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    const muleteerd_t *d = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    json_object *o = json_object_new_object(), *sources = NULL;
    json_object_object_add(o, "node", json_object_new_string(conf_get_str(d->conf, "node_name")));
    json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
    add_u64(o, "started_at", (uint64_t)d->started_at);
    add_u64(o, "uptime", (uint64_t)(now.tv_sec - d->started_mono.tv_sec));
    json_object_object_add(o, "traffic", traffic_json(d));
    json_object *rates = json_object_new_object();
    add_u64(rates, "download", dlq_rate(d->downloads));
    add_u64(rates, "upload", ulq_rate(d->uploads));
    json_object_object_add(o, "rates", rates);
    json_object_object_add(o, "downloads", downloads_json(d, &sources));
    json_object_object_add(o, "finished", finished_json(d));
    json_object_object_add(o, "sources", sources);
    add_u64(o, "peers", peer_mgr_connections(d->peers));
    add_u64(o, "upload_slots", ulq_slots_used(d->uploads));
    add_u64(o, "upload_queue", ulq_queue_length(d->uploads));
    json_object_object_add(o, "server", server_json(d));
    add_u64(o, "shared_files", shared_count(d->shared));
    json_object_object_add(o, "searches", searches_json(d));
    json_object_object_add(o, "database", database_json(d));
    add_u64(o, "bugs", mt_bug_count());
    if (d->kad != NULL)
        json_object_object_add(o, "kad", kad_to_json(d->kad, false));
    if (d->ipfilter != NULL) {
        json_object *f = ipblock_to_json(d->ipfilter), *ipf = json_object_new_object(), *v;
        json_object_object_get_ex(f, "ranges", &v);
        json_object_object_add(ipf, "ranges", json_object_get(v));
        json_object_object_get_ex(f, "hits", &v);
        json_object_object_add(ipf, "hits", json_object_get(v));
        json_object_put(f);
        json_object_object_add(o, "ipfilter", ipf);
    }
    *result = o;
    return 0;
}
