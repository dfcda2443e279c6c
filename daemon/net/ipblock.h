/* ipblock.h: the daemon's IP filter: the list named by `ipfilter` (a file
 * or an http(s) URL) loaded on a worker, refreshed, and asked on the loop
 * thread before a peer, a source or a server is used; hits are counted. */
#ifndef MT_DAEMON_IPBLOCK_H
#define MT_DAEMON_IPBLOCK_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct muleteerd;
typedef struct ipblock ipblock_t;

/* Where a filtered address was met (the counters of ipblock_to_json). */
typedef enum {
    IPBLOCK_PEER_IN = 0, /* an incoming peer connection, refused */
    IPBLOCK_PEER_OUT,    /* a peer we were about to connect to */
    IPBLOCK_SOURCE,      /* a source offered (server, link, exchange, Kad) */
    IPBLOCK_SERVER,      /* a server: imported, listed or connected to */
    IPBLOCK_N_KINDS
} ipblock_kind_t;

/* ipblock_new: starts loading the configured list when there is one. */
ipblock_t *ipblock_new(struct muleteerd *d);
/* ipblock_free: after the worker pool is freed (its completions use b). */
void ipblock_free(ipblock_t *b);

/* ipblock_blocks: whether ip (eD2K form) is filtered; a hit is counted
 * under kind. b may be NULL (nothing is filtered). */
bool ipblock_blocks(ipblock_t *b, uint32_t ip, ipblock_kind_t kind);

/* ipblock_reload: loads the configured list again now (a load already
 * running is followed by one more). MT_ERR_INVALID when no list is
 * configured. The table in use stays until the new one is read; a
 * failed load keeps it. */
int ipblock_reload(ipblock_t *b, mt_error_t **err);
/* ipblock_conf_changed: after a configuration reload: a changed source or
 * level loads the list again (an emptied source drops the table). */
void ipblock_conf_changed(ipblock_t *b);
/* ipblock_tick: once a second: the refresh when ipfilter_refresh_hours
 * have passed since the last load. */
void ipblock_tick(ipblock_t *b);

/* ipblock_to_json: {source, level, state ("none", "loading", "loaded",
 * "failed"), ranges, lines, bad_lines, memory, loaded_at, loads, error,
 * refresh_hours, hits: {peers_in, peers_out, sources, servers, total}}. */
json_object *ipblock_to_json(const ipblock_t *b);
/* ipblock_hits: the hits of all kinds. */
uint64_t ipblock_hits(const ipblock_t *b);

#endif
