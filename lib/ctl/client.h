/* client.h: a blocking control-socket client, used by the muleteer CLI and
 * the FastCGI programs to send commands to muleteerd. */
#ifndef MT_CTL_CLIENT_H
#define MT_CTL_CLIENT_H

#include <json-c/json.h>

#include "ctl/proto.h"
#include "util/error.h"

typedef struct ctl_client ctl_client_t;

/* ctl_client_connect: connects to the daemon's socket at path. Every call
 * on the client gives up after timeout_ms. Fails with MT_ERR_UNAVAILABLE
 * when no daemon listens there (no socket, connection refused),
 * MT_ERR_PERMISSION when this user may not use the socket (the message
 * names it), MT_ERR_INVALID for a path too long for a Unix socket. Free
 * with ctl_client_free. */
ctl_client_t *ctl_client_connect(const char *path, int timeout_ms, mt_error_t **err);
void ctl_client_free(ctl_client_t *c);

/* ctl_client_call: sends cmd with args (may be NULL; not consumed) and
 * waits for its reply. On success *result holds a new reference (put it
 * with json_object_put). On a daemon error reply returns -1 with err->code
 * the matching MT_ERR_* code and the daemon's message, and
 * ctl_client_last_error() tells the protocol code; an error reply without
 * an id (the daemon could not read the request: parse_error,
 * line_too_long) is the answer to the call too. A request the daemon would
 * refuse is not sent: a string that is not strict UTF-8 or holds U+0000
 * (ctl_check_text) is CTL_E_INVALID_ARGS, a line over CTL_MAX_LINE
 * CTL_E_LINE_TOO_LONG, both at once and with the connection kept. When
 * the daemon closed the connection while it was idle, the call reconnects
 * first. Connection problems give MT_ERR_UNAVAILABLE, MT_ERR_PERMISSION,
 * MT_ERR_TIMEOUT or MT_ERR_PROTOCOL, with ctl_client_last_error() 0. */
int ctl_client_call(ctl_client_t *c, const char *cmd, json_object *args,
                    json_object **result, mt_error_t **err);
/* ctl_client_last_error: the protocol error code of the last error reply,
 * 0 if the last call did not end with one. */
ctl_errcode_t ctl_client_last_error(const ctl_client_t *c);

/* ctl_socket_path: where the daemon listens, for programs that were given
 * no explicit path: $MULETEER_VAR/run/muleteerd.sock when MULETEER_VAR is
 * set (or the control_socket key of $MULETEER_VAR/muleteer.conf when that
 * file is readable and sets it), else ./var/run/muleteerd.sock. The caller
 * frees the string. */
char *ctl_socket_path(void);

#endif
