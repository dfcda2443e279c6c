/* evstream.c: bus events as control-socket event lines (evstream.h). One
 * subscriber per event kind; each builds its line only when some client
 * asked for that kind, and hands it to ctlsrv_publish, which never blocks.
 * Subscribers to log_line must not log: nothing here does. */
#include "config.h"

#include "daemon/ctl/evstream.h"
#include "daemon/ctl/control.h"
#include "daemon/net/peer.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/partfile.h"
#include "util/hex.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *topic_names[BUS_N_EVENTS];

/* ------------------------------------------------------------ fields */

static void
add_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, v != NULL ? json_object_new_string(v) : NULL);
}

static void
add_int(json_object *o, const char *k, int64_t v)
{
    json_object_object_add(o, k, json_object_new_int64(v));
}

static void
add_hash(json_object *o, const char *k, const uint8_t *hash)
{
    char hex[33];
    if (hash == NULL) {
        json_object_object_add(o, k, NULL);
        return;
    }
    mt_hex_encode(hash, 16, hex);
    add_str(o, k, hex);
}

static void
add_dl(json_object *o, const struct download *dl)
{
    partfile_t *pf = dl != NULL ? dl_partfile(dl) : NULL;
    add_hash(o, "hash", pf != NULL ? pf_hash(pf) : NULL);
}

static void
add_info(json_object *o, const bus_dl_info_t *info)
{
    if (info == NULL)
        return;
    add_str(o, "hash", info->hex);
    add_str(o, "name", info->name);
    add_int(o, "size", (int64_t)info->size);
    add_str(o, "category", info->category);
    add_int(o, "downloaded", (int64_t)info->downloaded);
    add_int(o, "uploaded", (int64_t)info->uploaded);
    json_object_object_add(o, "completed", json_object_new_boolean(info->completed));
}

static const char *
state_name(bus_dl_state_t s)
{
    static const char *const names[] = { "active", "paused", "stopped", "error", "failed" };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* an eD2K address: a LowID below 2^24, else an IPv4 address in network order */
static void
add_ed2k_ip(json_object *o, uint32_t ip)
{
    if (ip < (1u << 24)) {
        add_int(o, "lowid", ip);
        return;
    }
    char buf[INET_ADDRSTRLEN];
    struct in_addr a = { .s_addr = ip };
    add_str(o, "ip", inet_ntop(AF_INET, &a, buf, sizeof buf));
}

/* ------------------------------------------------------ one per kind */

static void
fill(json_object *d, bus_event_t ev, const void *p)
{
    switch (ev) {
    case BUS_DL_ADDED: {
        const bus_dl_added_t *e = p;
        add_info(d, e->info);
        json_object_object_add(d, "stopped", json_object_new_boolean(e->stopped));
        break;
    }
    case BUS_DL_STATE:
    case BUS_DL_FAILED: {
        const bus_dl_state_ev_t *e = p;
        add_info(d, e->info);
        add_str(d, "from", state_name(e->from));
        add_str(d, "to", state_name(e->to));
        add_str(d, "error", e->error);
        break;
    }
    case BUS_DL_PROGRESS: {
        const bus_dl_progress_t *e = p;
        json_object *list = json_object_new_array();
        for (size_t i = 0; i < e->n; i++) {
            json_object *one = json_object_new_object();
            partfile_t *pf = dl_partfile(e->dls[i]);
            add_dl(one, e->dls[i]);
            add_int(one, "done", pf != NULL ? (int64_t)pf_done_bytes(pf) : 0);
            json_object_array_add(list, one);
        }
        json_object_object_add(d, "downloads", list);
        break;
    }
    case BUS_DL_PART_VERIFIED: {
        const bus_dl_part_t *e = p;
        add_dl(d, e->dl);
        add_int(d, "part", (int64_t)e->part);
        json_object_object_add(d, "ok", json_object_new_boolean(e->ok));
        break;
    }
    case BUS_DL_COMPLETED: {
        const bus_dl_completed_t *e = p;
        add_info(d, e->info);
        add_str(d, "path", e->path);
        break;
    }
    case BUS_DL_DELETED: {
        const bus_dl_deleted_t *e = p;
        add_info(d, e->info);
        break;
    }
    case BUS_FIN_SHARING: {
        const bus_fin_sharing_t *e = p;
        add_info(d, e->info);
        json_object_object_add(d, "stopped", json_object_new_boolean(e->stopped));
        add_str(d, "reason", e->reason);
        break;
    }
    case BUS_SRC_FOUND:
    case BUS_SRC_LOST: {
        const bus_source_t *e = p;
        add_dl(d, e->dl);
        add_ed2k_ip(d, e->ip);
        add_int(d, "port", e->port);
        add_str(d, "reason", e->reason);
        break;
    }
    case BUS_PEER_CONNECTED:
    case BUS_PEER_CLOSED: {
        const bus_peer_t *e = p;
        add_str(d, "peer", e->peer != NULL ? peer_desc(e->peer) : NULL);
        json_object_object_add(d, "outgoing", json_object_new_boolean(e->outgoing));
        add_str(d, "reason", e->reason);
        break;
    }
    case BUS_PEER_BANNED: {
        const bus_peer_ban_t *e = p;
        add_str(d, "ip", e->ip);
        add_int(d, "seconds", e->seconds);
        add_str(d, "reason", e->reason);
        break;
    }
    case BUS_SRV_CONNECTED:
    case BUS_SRV_LOST:
    case BUS_SRV_MESSAGE: {
        const bus_server_t *e = p;
        add_str(d, "host", e->host);
        add_int(d, "port", e->port);
        add_int(d, "client_id", e->client_id);
        add_str(d, "text", e->text);
        break;
    }
    case BUS_SEARCH_STARTED:
    case BUS_SEARCH_RESULT:
    case BUS_SEARCH_ENDED: {
        const bus_search_t *e = p;
        add_int(d, "id", e->id);
        if (ev == BUS_SEARCH_STARTED)
            add_str(d, "expression", e->expression);
        if (ev == BUS_SEARCH_RESULT) {
            add_hash(d, "hash", e->hash);
            add_str(d, "name", e->name);
            add_int(d, "size", (int64_t)e->size);
            add_int(d, "sources", e->sources);
        }
        if (ev == BUS_SEARCH_ENDED) {
            add_str(d, "state", e->state);
            add_int(d, "results", (int64_t)e->results);
        }
        break;
    }
    case BUS_CAT_ADDED:
    case BUS_CAT_CHANGED:
    case BUS_CAT_REMOVED: {
        const bus_category_t *e = p;
        add_str(d, "name", e->name);
        add_str(d, "old_name", e->old_name);
        add_str(d, "path", e->path);
        break;
    }
    case BUS_SHARED_ADDED:
    case BUS_SHARED_REMOVED: {
        const bus_shared_t *e = p;
        add_str(d, "path", e->path);
        add_hash(d, "hash", e->hash);
        add_int(d, "size", (int64_t)e->size);
        break;
    }
    case BUS_TICK: {
        const bus_tick_t *e = p;
        add_int(d, "down_bytes", (int64_t)e->down_bytes);
        add_int(d, "up_bytes", (int64_t)e->up_bytes);
        add_int(d, "down_total", (int64_t)e->down_total);
        add_int(d, "up_total", (int64_t)e->up_total);
        add_int(d, "down_rate", (int64_t)e->down_rate);
        add_int(d, "up_rate", (int64_t)e->up_rate);
        add_int(d, "downloads", (int64_t)e->downloads);
        add_int(d, "finished", (int64_t)e->finished);
        add_int(d, "connections", (int64_t)e->connections);
        add_int(d, "upload_slots", (int64_t)e->upload_slots);
        break;
    }
    case BUS_LOG_LINE: {
        const bus_log_t *e = p;
        add_int(d, "level", e->level);
        add_str(d, "text", e->text);
        break;
    }
    case BUS_N_EVENTS:
        break;
    }
}

char *
evstream_line(bus_event_t ev, const void *payload)
{
    json_object *o = json_object_new_object();
    json_object *d = json_object_new_object();
    add_str(o, "event", bus_event_name(ev));
    fill(d, ev, payload);
    json_object_object_add(o, "data", d);
    char *line = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return line;
}

/* ------------------------------------------------------ bus to socket */

/* The subscribers' context: its own address, so that evstream_stop
 * removes these subscriptions only. */
static struct {
    muleteerd_t *d;
    bool publishing; /* an event published while a line is built is skipped */
} evs;

static void
deliver(void *ctx, bus_event_t ev, const void *payload)
{
    (void)ctx;
    muleteerd_t *d = evs.d;
    if (evs.publishing || !ctlsrv_wants(d->ctl, (unsigned)ev))
        return;
    evs.publishing = true;
    char *line = evstream_line(ev, payload);
    if (line != NULL)
        ctlsrv_publish(d->ctl, (unsigned)ev, line, strlen(line));
    free(line);
    evs.publishing = false;
}

#define EVS_FN_(U, l, T)                                                                \
    static void on_##l(void *ctx, const T *ev) { deliver(ctx, BUS_##U, ev); }
BUS_EVENTS(EVS_FN_)
#undef EVS_FN_

void
evstream_start(muleteerd_t *d)
{
    evs.d = d;
    for (int i = 0; i < BUS_N_EVENTS; i++)
        topic_names[i] = bus_event_name((bus_event_t)i);
    ctlsrv_set_topics(d->ctl, topic_names, BUS_N_EVENTS);
#define EVS_SUB_(U, l, T) bus_on_##l(d->bus, on_##l, &evs);
    BUS_EVENTS(EVS_SUB_)
#undef EVS_SUB_
}

void
evstream_stop(muleteerd_t *d)
{
    bus_unsubscribe_ctx(d->bus, &evs);
}
