/* server.h: the connection to one eD2K server (ed2k-protocol.md §3): login,
 * our client id (HighID or LowID), publishing shared files and downloads,
 * asking for sources, and connecting out when a LowID callback is
 * requested. */
#ifndef MT_DAEMON_SERVER_H
#define MT_DAEMON_SERVER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct muleteerd;
typedef struct srvconn srvconn_t;

/* srv_new: the connection; it hooks into d->peers (LowID callbacks) and
 * d->serverlist (its UDP answers, entries it frees), which must exist. */
srvconn_t *srv_new(struct muleteerd *d);
void srv_free(srvconn_t *s);
/* srv_connect: (re)connects to host:port (a name or a dotted IPv4; the name
 * is resolved on a worker). Any current connection is dropped. */
int srv_connect(srvconn_t *s, const char *host, uint16_t port, mt_error_t **err);
/* srv_connect_auto: connects to the best server of the list, then the
 * next when one fails (the automatic mode, as at start-up). Fails when the
 * list is empty. */
int srv_connect_auto(srvconn_t *s, mt_error_t **err);
/* srv_disconnect: drops the connection and stops reconnecting. */
void srv_disconnect(srvconn_t *s);
/* srv_set_autoconnect: server_autoconnect changed at run time: on starts
 * the automatic mode unless the daemon is already connecting or connected
 * (an empty list is logged); off changes nothing now (the next start
 * stays disconnected; `disconnect` ends a connection). */
void srv_set_autoconnect(srvconn_t *s, bool on);
/* srv_search: sends OP_SEARCHREQUEST with an encoded search tree;
 * srv_search_more: OP_QUERY_MORE_RESULT. -1 when not connected. */
int srv_search(srvconn_t *s, const uint8_t *tree, size_t len);
int srv_search_more(srvconn_t *s);
/* srv_current: the list entry of the server we are connected (or
 * connecting) to, or NULL. srv_tcp_flags: its TCP flags (0 if none). */
const struct sl_server *srv_current(const srvconn_t *s);
uint32_t srv_tcp_flags(const srvconn_t *s);
/* Where search results go (search.c): the payload of OP_SEARCHRESULT from
 * our server, and OP_GLOBSEARCHRES datagrams other servers send to the
 * server list's UDP socket. NULL sink: nowhere. */
struct sl_server;
typedef struct srv_search_sink {
    void (*tcp_result)(void *ctx, const uint8_t *payload, size_t len);
    void (*udp_result)(void *ctx, struct sl_server *from, const uint8_t *payload, size_t len);
    void *ctx;
} srv_search_sink_t;
void srv_set_search_sink(srvconn_t *s, const srv_search_sink_t *sink);
/* srv_tick: once a second: timeouts, reconnects, re-offers, source
 * requests. */
void srv_tick(srvconn_t *s);
bool srv_is_connected(const srvconn_t *s);
/* srv_reannounce: the download of hash is due to be asked of our server
 * for sources (OP_GETSOURCES) at once, within the pace that protects the
 * server (a few at once, then one every 20 seconds); true
 * when connected (asked now or at its turn), false when it waits for a
 * connection. */
bool srv_reannounce(srvconn_t *s, const uint8_t hash[16]);
json_object *srv_to_json(const srvconn_t *s);


#endif
