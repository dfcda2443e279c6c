/* cgictl.h: the daemon's commands for the handlers of every FastCGI
 * program: one call over the request's control-socket connection (each
 * bounded by CGIENV_CTL_TIMEOUT_MS), and what a failure means in HTTP
 * (the mapping of docs/control-protocol.md). */
#ifndef MT_CGI_CGICTL_H
#define MT_CGI_CGICTL_H

#include <json-c/json.h>

#include "common/cgienv.h"
#include "ctl/proto.h"
#include "http/response.h"
#include "util/error.h"

/* The messages of the answers cgictl_call gives itself. */
#define CGICTL_UNAVAILABLE "Muleteer daemon unavailable"
#define CGICTL_BAD_REQUEST "Bad Request"

/* Outcomes of cgictl_call. */
enum {
    CGICTL_OK = 0,
    CGICTL_REFUSED = -1,  /* the daemon refused the command: the caller decides */
    CGICTL_ANSWERED = -2, /* answered already: the handler only returns */
};

/* cgictl_call: sends cmd with args (may be NULL; not consumed) on the
 * request's daemon connection (cgienv_request_ctl). Returns:
 * - CGICTL_OK with *result (a new reference; result may be NULL when not
 *   wanted);
 * - CGICTL_REFUSED with *err (may be NULL when not wanted) for the
 *   daemon's refusal of the command: err->code tells which
 *   (MT_ERR_NOT_FOUND, MT_ERR_EXISTS, MT_ERR_INVALID...), and
 *   cgictl_refusal_status(err) the status the protocol maps it to; what
 *   it means for the route is the caller's choice;
 * - CGICTL_ANSWERED after answering, through the program's answer
 *   function, what does not depend on the command (cgictl_failure_status):
 *   503 CGICTL_UNAVAILABLE when the daemon cannot be reached or does not
 *   answer in time (a broken connection is dropped), 400
 *   CGICTL_BAD_REQUEST when the request could not be read at all
 *   (parse_error, invalid_request, line_too_long: e.g. a parameter too
 *   long for a control line). */
int cgictl_call(cgienv_t *env, http_response_t *resp, const char *cmd, json_object *args,
                json_object **result, mt_error_t **err);

/* cgictl_call_node: cgictl_call for the daemon of node: NULL or this
 * program's node (cgienv_node) is the control socket; another node is
 * reached through the database's commands table (docs/cluster.md), with
 * key (NULL: a random one; the same key twice is one effect) and a wait of
 * CGIENV_CTL_TIMEOUT_MS. The same outcomes as cgictl_call: the node's
 * refusal is CGICTL_REFUSED (err->code from its error code); answered
 * already (CGICTL_ANSWERED): 503 naming the node when it is offline, does
 * not answer in time or PostgreSQL is away, 404 for a node unknown to
 * daemon_status. */
int cgictl_call_node(cgienv_t *env, http_response_t *resp, const char *node, const char *key,
                     const char *cmd, json_object *args, json_object **result,
                     mt_error_t **err);

/* cgictl_failure_status: for a call that failed with
 * ctl_client_last_error() code, the status cgictl_call answers itself:
 * 503 when no error reply came (code 0: the daemon was not reached), 400
 * when the daemon could not read the request (parse_error,
 * invalid_request, line_too_long); 0 for a refusal of the command, which
 * is left to the caller. */
int cgictl_failure_status(ctl_errcode_t code);

/* cgictl_refusal_status: the HTTP status of a refusal as cgictl_call
 * reports it (err->code, from ctl_errcode_to_mt), as the protocol maps
 * it: 400 for invalid_args and unknown_command, 404 not_found, 409
 * exists, 503 unavailable and busy, 500 internal and anything else (NULL
 * too). */
int cgictl_refusal_status(const mt_error_t *err);

#endif
