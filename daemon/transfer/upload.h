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
