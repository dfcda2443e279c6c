/* cli.h: what the files of the muleteer client share: its exit statuses
 * and the request a command makes of the daemon. */
#ifndef MT_CLI_CLI_H
#define MT_CLI_CLI_H

#include <json-c/json.h>

/* Exit statuses, documented in muleteer --help. */
enum {
    EXIT_OK = 0,
    EXIT_CMD_ERROR = 1,
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3,
    EXIT_PERMISSION = 4, /* the socket is there, but not for this user */
};

/* A request for the daemon, as a command's parser makes it. */
typedef struct request {
    const char *cmd;   /* the control command: the command's own name unless
                          its parser picks another (servers add: server-add) */
    json_object *args; /* its arguments (owned), NULL for none */
    const char *show_as; /* the command whose printer shows the answer
                            (limit: rate-limits' answer); NULL: cmd's */
    int search_wait;   /* search: seconds to follow the results */
} request_t;

#endif
