/* command.h: the caller's side of the command relay (docs/cluster.md): a
 * control command for the daemon of another node, sent through the
 * commands table and answered there, with a bounded wait. */
#ifndef MT_DB_COMMAND_H
#define MT_DB_COMMAND_H

#include <libpq-fe.h>

#include "util/error.h"

/* A command for a node. */
typedef struct {
    const char *node;    /* the target node (daemon_status.node) */
    const char *key;     /* the caller's key, unique per effect; NULL: a random one */
    const char *command; /* a control command's name */
    const char *args;    /* its arguments, a JSON object's text; NULL: {} */
    int timeout_ms;      /* the wait for the answer, and the row's deadline */
} db_cmd_t;

/* Outcomes of db_cmd_send. */
enum {
    DB_CMD_OK = 0,       /* the node ran it: *answer is the result's JSON text */
    DB_CMD_FAILED = -1,  /* no answer: err says why (see db_cmd_send) */
    DB_CMD_REFUSED = -2, /* the node refused it: *answer is the control
                          * protocol's error code name, err its message */
};

/* db_cmd_send: queues cmd for its node and waits for the answer. A key
 * already used returns that first command's answer (waiting for it if
 * need be), never a second effect; the same key for another node or
 * command is MT_ERR_EXISTS. Before queueing, a node whose heartbeat is
 * stale (three of its status intervals) or that stopped is refused at once
 * with MT_ERR_UNAVAILABLE ("node X is offline ..."), an unknown node with
 * MT_ERR_NOT_FOUND. No answer within timeout_ms is MT_ERR_TIMEOUT: a row
 * still queued then is expired (it will never run), a claimed one may
 * still take effect (the message says which). PostgreSQL errors are
 * MT_ERR_DB or MT_ERR_UNAVAILABLE. The caller frees *answer. conn is left
 * listening on nothing new. */
int db_cmd_send(PGconn *conn, const db_cmd_t *cmd, char **answer, mt_error_t **err);

/* db_cmd_node_alive: 1 when node's heartbeat is fresh, 0 when it is
 * offline or unknown (err says which), -1 on a database error. */
int db_cmd_node_alive(PGconn *conn, const char *node, mt_error_t **err);

#endif
