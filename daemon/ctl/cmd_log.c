/* cmd_log.c: the `log` and `peer-log` control commands (cmd_log.h): the
 * recent log lines and peer bans, kept in rings fed by the bus, answered
 * from an id on. Bus subscribers to log_line must not log: these only
 * copy. */
#include "config.h"

#include "daemon/ctl/cmd_log.h"
#include "daemon/core/bus.h"
#include "daemon/core/logring.h"
#include "ctl/args.h"
#include "util/log.h"

#include <time.h>

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_log_line(void *ctx, const bus_log_t *ev)
{
    logring_add(ctx, &(logring_entry_t){ .time_ms = now_ms(), .level = ev->level,
                                                 .text = ev->text });
}

static void
on_peer_banned(void *ctx, const bus_peer_ban_t *ev)
{
    logring_add(ctx, &(logring_entry_t){ .time_ms = now_ms(), .ip = ev->ip, .text = ev->reason });
}

void
cmd_log_start(muleteerd_t *d)
{
    d->log_ring = logring_new(CMD_LOG_LINES, CMD_LOG_MAX_TEXT);
    d->peer_ring = logring_new(CMD_LOG_PEERS, CMD_LOG_MAX_TEXT);
    bus_on_log_line(d->bus, on_log_line, d->log_ring);
    bus_on_peer_banned(d->bus, on_peer_banned, d->peer_ring);
}

void
cmd_log_stop(muleteerd_t *d)
{
    if (d->log_ring == NULL)
        return;
    bus_unsubscribe_ctx(d->bus, d->log_ring);
    bus_unsubscribe_ctx(d->bus, d->peer_ring);
    logring_free(d->log_ring);
    logring_free(d->peer_ring);
    d->log_ring = d->peer_ring = NULL;
}

static const char *
level_name(int level)
{
    switch (level) {
    case LOG_LEVEL_ERROR:
        return "error";
    case LOG_LEVEL_WARN:
        return "warn";
    case LOG_LEVEL_INFO:
        return "info";
    default:
        return "debug";
    }
}

static void
add_line(void *ctx, const logring_entry_t *e)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(e->id));
    json_object_object_add(o, "time_ms", json_object_new_int64(e->time_ms));
    json_object_object_add(o, "level", json_object_new_string(level_name(e->level)));
    json_object_object_add(o, "text", json_object_new_string(e->text));
    json_object_array_add(ctx, o);
}

static void
add_peer(void *ctx, const logring_entry_t *e)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(e->id));
    json_object_object_add(o, "time_ms", json_object_new_int64(e->time_ms));
    json_object_object_add(o, "ip", json_object_new_string(e->ip != NULL ? e->ip : ""));
    json_object_object_add(o, "blocked", json_object_new_boolean(e->blocked));
    json_object_object_add(o, "reason", json_object_new_string(e->text));
    json_object_array_add(ctx, o);
}

/* answer: {since, limit} (both optional) over ring: {"entries": [...],
 * "next_id"}. */
static int
answer(const logring_t *ring, size_t cap, void (*fn)(void *, const logring_entry_t *),
       json_object *args, json_object **result, mt_error_t **err)
{
    int64_t since = -1, limit = 0;
    bool has = false;
    if (ctl_arg_int(args, "since", -1, INT64_MAX, &has, &since, err) != 0 ||
        ctl_arg_int(args, "limit", 1, (int64_t)cap, &has, &limit, err) != 0)
        return -1;
    json_object *entries = json_object_new_array();
    logring_since(ring, since, (size_t)limit, fn, entries);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "entries", entries);
    json_object_object_add(o, "next_id", json_object_new_int64(logring_next_id(ring)));
    *result = o;
    return 0;
}

/* log: {since, limit}: the log lines after id since (-1: all kept),
 * oldest first: {id, time_ms, level: error|warn|info|debug, text}. */
int
cmd_log(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    return answer(d->log_ring, CMD_LOG_LINES, add_line, args, result, err);
}

/* peer-log: {since, limit}: the peers banned after id since:
 * {id, time_ms, ip, blocked, reason}. */
int
cmd_peer_log(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    return answer(d->peer_ring, CMD_LOG_PEERS, add_peer, args, result, err);
}
