/* remote.h: the client's way to another node's daemon: the command goes
 * through PostgreSQL's commands table (docs/cluster.md) instead of the
 * local control socket. */
#ifndef MT_CLI_REMOTE_H
#define MT_CLI_REMOTE_H

#include <stdbool.h>

#include "cli.h"

/* remote_is_local: node is this host's (node_name of the configuration,
 * $MULETEER_CONF or $MULETEER_VAR/muleteer.conf): the socket serves it. */
bool remote_is_local(const char *node);

/* remote_call: sends req to node through the configuration's database
 * and waits up to timeout_s for the answer; key (NULL: a random one) makes
 * a repeated call one effect. *result is the answer (a new reference) on
 * EXIT_OK; otherwise the exit status after a message on stderr (as_json:
 * the node's refusal as {"error": {code, message}} on stdout): EXIT_CMD_ERROR
 * when the node refused it, EXIT_UNREACHABLE when the node is offline,
 * unknown or did not answer, or the database is unreachable. */
int remote_call(const request_t *req, const char *node, const char *key, int timeout_s,
                bool as_json, json_object **result);

#endif
