/* hookbody.h: the webhook request (docs/hooks.md): the JSON body of an
 * event and its X-Muleteer-Signature (HMAC-SHA256 with webhook_secret).
 * Pure: unit-tested in tests/unit/check_hookargs.c. */
#ifndef MT_DAEMON_HOOKBODY_H
#define MT_DAEMON_HOOKBODY_H

#include <stddef.h>

#include "daemon/hooks/hookargs.h"

/* hook_body_json: {"event", "time" (RFC 3339, UTC), "timestamp" (Unix),
 * "node", "test", "download": {"hash", "name", "size", "path",
 * "category", "added_by", "error"}} with null for what the event does not
 * know. Caller frees. */
char *hook_body_json(const hook_event_t *ev, const char *node);

/* hook_signature: "sha256=" and the 64 lower-case hex digits of
 * HMAC-SHA256(secret, body) into out (72 bytes with the NUL). */
#define HOOK_SIGNATURE_LEN 72
void hook_signature(const char *secret, const char *body, size_t len,
                    char out[HOOK_SIGNATURE_LEN]);

#endif
