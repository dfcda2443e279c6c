/* upload.h: serving files to other clients: answering file requests and
 * hash sets, the upload queue and its slots, reading blocks on workers and
 * sending them (compressed when it helps), a fair share per slot, and the
 * client UDP port for queue re-asks (ed2k-protocol.md §5.3-5.6). */
#ifndef MT_DAEMON_UPLOAD_H
#define MT_DAEMON_UPLOAD_H

#include <json-c/json.h>
#include <stdint.h>

#include "daemon/net/peer.h"
#include "ed2k/packet.h"
#include "util/error.h"

struct muleteerd;
typedef struct ulq ulq_t;

/* ulq_new: the upload side; handles its packets on d->peers (peer.h). */
ulq_t *ulq_new(struct muleteerd *d);
/* ulq_listen_udp: the client UDP port (0: none). */
int ulq_listen_udp(ulq_t *q, uint16_t port, mt_error_t **err);
void ulq_free(ulq_t *q);
/* A receiver of the client UDP port's Kad datagrams (protocol 0xE4 or 0xE5,
 * ed2k-protocol.md §10, or obfuscated with a Kad marker, §9.4), installed by the Kad node at start-up: the whole
 * datagram, from ip (eD2K form) and port. Datagrams from banned peers never
 * reach it. NULL fn: none (Kad datagrams are dropped). */
typedef void (*ulq_kad_fn)(void *ctx, uint32_t ip, uint16_t port, const uint8_t *data,
                           size_t len);
void ulq_set_kad_handler(ulq_t *q, ulq_kad_fn fn, void *ctx);
/* ulq_udp_send: sends a datagram from the client UDP port to ip (eD2K form)
 * and port, counted in the UDP traffic. -1 when there is no UDP port or the
 * kernel refused it (datagrams are best effort). */
int ulq_udp_send(ulq_t *q, uint32_t ip, uint16_t port, const void *data, size_t len);
/* ulq_udp_port: the client UDP port, 0 when there is none. */
uint16_t ulq_udp_port(const ulq_t *q);
/* ulq_tick: once a second: slots, queue, timeouts. */
void ulq_tick(ulq_t *q);
/* ulq_apply_rate_limits: each file's upload limit (a download's or a
 * finished download's up_limit, dlattr.h) shared evenly among the slots
 * serving that file, as their connections' own write limits (peer.h);
 * other connections get none. Called every tick and when a limit
 * changes. */
void ulq_apply_rate_limits(ulq_t *q);
/* ulq_rate: bytes per second sent lately. */
uint64_t ulq_rate(const ulq_t *q);
size_t ulq_slots_used(const ulq_t *q);
size_t ulq_queue_length(const ulq_t *q);
/* ulq_to_json: slots and queue for the control socket. */
json_object *ulq_to_json(const ulq_t *q);

#endif
