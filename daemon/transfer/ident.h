/* ident.h: secure user identification on the peer connections (the
 * OP_SECIDENTSTATE / OP_PUBLICKEY / OP_SIGNATURE exchange after the hellos,
 * ed2k-protocol.md §5.9) and the credits it guards: bytes counted per user
 * hash, the modifier given to identified peers in the upload queue. */
#ifndef MT_DAEMON_IDENT_H
#define MT_DAEMON_IDENT_H

#include <json-c/json.h>
#include <stdint.h>

#include "daemon/net/peer.h"
#include "daemon/transfer/credits.h"
#include "util/error.h"

struct muleteerd;
typedef struct ident ident_t;

typedef enum {
    IDENT_NONE = 0, /* not (yet) identified: no support, or still under way */
    IDENT_OK,       /* it signed our challenge with the key of its user hash */
    IDENT_FAILED,   /* a bad signature, or a key other than its hash's */
} ident_state_t;

/* ident_new: loads (or makes, mode 0600) the key pair state_dir/secident.key
 * and the credits state_dir/credits.dat, and hooks into the peer
 * connections. NULL on error (a damaged key or credits file is never
 * overwritten). ident_free saves the credits; accepts NULL. */
ident_t *ident_new(struct muleteerd *d, mt_error_t **err);
void ident_free(ident_t *id);
/* ident_save: drops the expired records and writes the credits now
 * (atomically; blocking, small). */
void ident_save(ident_t *id);
/* ident_tick: the periodic job: ident_save when the credits changed and
 * save_interval seconds passed since the last save (a crash loses no
 * more). */
void ident_tick(ident_t *id);

/* ident_of: p's state on its current connection. */
ident_state_t ident_of(const peer_t *p);
const char *ident_state_name(ident_state_t s); /* "none", "ok", "failed" */

/* ident_credit: the credit modifier of p's user hash (credits.h), 1 unless
 * p is identified. */
double ident_credit(const ident_t *id, const peer_t *p);
/* ident_credits_json: {"uploaded", "downloaded"}: the bytes on record for
 * p's user hash (credits.dat; 0 without a record), for the control
 * socket's peer lists. id may be NULL. Caller owns the result. */
json_object *ident_credits_json(const ident_t *id, const peer_t *p);

/* ident_count_up / _down: n bytes of file data sent to / received from p
 * (by its user hash; nothing without one, nor when its secure ident
 * failed). id may be NULL. */
void ident_count_up(ident_t *id, const peer_t *p, uint64_t n);
void ident_count_down(ident_t *id, const peer_t *p, uint64_t n);

/* ident_merge_credits: merges n records of another client's credit file
 * (credits_merge) and saves the credits; returns how many were taken. */
size_t ident_merge_credits(ident_t *id, const credit_t *v, size_t n);

#endif
