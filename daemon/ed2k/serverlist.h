/* serverlist.h: the eD2K servers Muleteer knows (ed2k-protocol.md §3, §4,
 * §8.1): kept in memory, in $state_dir/server.met and in the servers
 * table; imported from server.met files, URLs and links; pinged over UDP
 * for their status; ordered for the connection to try. */
#ifndef MT_DAEMON_SERVERLIST_H
#define MT_DAEMON_SERVERLIST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/ed2k/srvpolicy.h"
#include "util/error.h"

struct muleteerd;
typedef struct serverlist serverlist_t;

typedef enum { SL_PRIO_LOW = -1, SL_PRIO_NORMAL = 0, SL_PRIO_HIGH = 1 } sl_priority_t;
#define SL_PRIO_UNSET (-99) /* sl_add_server: keep the priority */

/* One server. Owned by the list; a pointer stays valid until the server is
 * removed (sl_remove, or dropped after failures). Fields are read by the
 * connection and search modules; change them through sl_* calls. */
typedef struct sl_server {
    char *address;          /* dotted IPv4 or host name, as given */
    uint32_t ip;            /* eD2K form; 0 until resolved (host names) */
    uint16_t port;
    char *name, *description, *version;
    uint32_t users, files, max_users, lowid_users;
    uint32_t soft_files, hard_files;
    uint32_t tcp_flags, udp_flags;
    uint16_t obfu_tcp_port, obfu_udp_port; /* 0: unknown (server.met, UDP
                             * status, OP_IDCHANGE) */
    uint32_t udp_key;       /* the server's UDP obfuscation key (§9.5), 0: none */
    uint32_t udp_key_ip;    /* our public IP when it came: valid only for that one */
    uint32_t ping_ms;       /* 0: unknown */
    uint32_t failures;      /* in a row */
    srvpol_backoff_t retry; /* TCP attempts: no new one before retry.until
                             * (only a session that lasted resets it) */
    time_t last_seen;       /* wall clock; 0: never */
    bool is_static;
    sl_priority_t priority;
    const char *source;     /* static string: "config", "server.met", ... */
    /* UDP status request in flight */
    uint32_t challenge;
    int64_t stat_sent_ms;   /* monotonic ms; 0: none in flight */
    time_t next_stat;       /* monotonic s */
    bool connected;
    uint32_t desc_challenge; /* OP_SERVER_DESC_REQ in flight (0: none) */
} sl_server_t;

/* sl_new: loads $state_dir/server.met (a missing file is an empty list, a
 * bad one is logged and kept aside as server.met.bad), adds the `servers`
 * of the configuration as static servers, opens the UDP socket for server
 * status, sources and searches. */
serverlist_t *sl_new(struct muleteerd *d);
void sl_free(serverlist_t *sl);

size_t sl_count(const serverlist_t *sl);
sl_server_t *sl_get(serverlist_t *sl, size_t i);
/* sl_find: the server at address:port (address compared as text, and as
 * an IP against resolved servers). */
sl_server_t *sl_find(serverlist_t *sl, const char *address, uint16_t port);
sl_server_t *sl_find_ip(serverlist_t *sl, uint32_t ip, uint16_t port);
/* sl_add: adds a server (or updates is_static/priority of a known one
 * when from the user). Returns it, or NULL with err for a bad address or
 * port. *added tells whether it is new. */
sl_server_t *sl_add(serverlist_t *sl, const char *address, uint16_t port, const char *source,
                    bool *added, mt_error_t **err);
int sl_remove(serverlist_t *sl, const char *address, uint16_t port, mt_error_t **err);
/* sl_import_met: adds the servers of a server.met image; counts in *added
 * (new) and *total (entries read). */
int sl_import_met(serverlist_t *sl, const uint8_t *data, size_t len, const char *source,
                  size_t *added, size_t *total, mt_error_t **err);

/* The connection's reports. sl_failed counts a failure (a server that
 * fails server_max_failures times in a row is dropped unless static; the
 * pointer is then invalid, and sl_failed returns true). */
bool sl_failed(serverlist_t *sl, sl_server_t *s, const char *why);
/* sl_connected: the connection logged in to s, or left it. A login alone
 * clears nothing: sl_good_session does, once the session has lasted (see
 * srvpol_session_lasted). sl_changed: fields of a server changed (the
 * table is written again). */
void sl_connected(serverlist_t *sl, sl_server_t *s, bool connected);
void sl_good_session(serverlist_t *sl, sl_server_t *s);
/* sl_set_dynip: s announced a dynamic IP under host name host ("[emDynIP:
 * host]"): its address becomes the name, resolved again at each connect,
 * and server.met keeps it as the entry's dynip. Another entry with that
 * name and port goes (a duplicate). The IP resolved now stays. */
void sl_set_dynip(serverlist_t *sl, sl_server_t *s, const char *host);
void sl_changed(serverlist_t *sl);
/* sl_pick: the best server not among the n_tried in `tried` whose retry
 * back-off is over at `now` (monotonic): high priority first, then static,
 * then fewest failures, then lowest ping (unknown last). NULL when the
 * list is empty, or all were tried, or the others still wait: then *wait
 * (optional) is the earliest time one of those others may be tried, or 0
 * when none waits. */
sl_server_t *sl_pick(serverlist_t *sl, const sl_server_t *const *tried, size_t n_tried,
                     time_t now, time_t *wait);
/* sl_pick_among: sl_pick's choice among the n servers of v (the list's,
 * or any array: it needs no list). */
sl_server_t *sl_pick_among(sl_server_t *const *v, size_t n, const sl_server_t *const *tried,
                           size_t n_tried, time_t now, time_t *wait);
/* sl_servers: the list's servers as an array of *n, valid until the list
 * changes. */
sl_server_t *const *sl_servers(const serverlist_t *sl, size_t *n);
/* sl_should_drop: whether s goes after one more failure counted: not
 * static, and server_max_failures (max; 0: never) reached. */
bool sl_should_drop(const sl_server_t *s, long max);

/* sl_tick: once a second: UDP status requests (one server every few
 * seconds, each every server_status_interval), timeouts, saving server.met
 * and the table. */
void sl_tick(serverlist_t *sl);

/* sl_udp_send: sends a server UDP datagram (e3 <opcode> <payload>) to a
 * server's UDP port (TCP port + 4, §4). */
void sl_udp_send(serverlist_t *sl, const sl_server_t *s, const uint8_t *data, size_t len);
/* A listener for server UDP answers other than status (found sources,
 * search results): called with the server (NULL when unknown) and the
 * datagram. */
typedef void (*sl_udp_fn)(void *ctx, sl_server_t *s, uint8_t opcode, const uint8_t *payload,
                          size_t len);
void sl_set_udp_listener(serverlist_t *sl, sl_udp_fn fn, void *ctx);
/* sl_set_forget_hook: fn is told of an entry about to be freed (the
 * server connection drops what points at it). */
void sl_set_forget_hook(serverlist_t *sl, void (*fn)(void *ctx, const sl_server_t *e), void *ctx);

json_object *sl_server_to_json(const sl_server_t *s);


/* sl_to_json: {servers: [sl_server_to_json...], imports: [the ten latest URL
 * imports]} (caller puts it). */
json_object *sl_to_json(const serverlist_t *sl);
/* sl_add_server: a server the user adds (or changes): sl_add, then its
 * priority (SL_PRIO_UNSET: kept) and whether it is static (-1: kept). Its
 * description with "added" (caller puts it), or NULL (sl_add's errors). */
json_object *sl_add_server(serverlist_t *sl, const char *address, uint16_t port, int priority,
                           int is_static, mt_error_t **err);
/* sl_import_source: imports servers from source: an ed2k server link (the
 * server), an ed2k serverlist link or an http(s) URL (fetched on a worker:
 * {import}), or a server.met path ({added, total}). NULL with
 * MT_ERR_INVALID for a bad link or file, MT_ERR_IO. */
json_object *sl_import_source(serverlist_t *sl, const char *source, mt_error_t **err);

#endif
