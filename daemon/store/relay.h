/* relay.h: the daemon's side of the command relay between nodes
 * (docs/cluster.md): a thread with its own PostgreSQL connection that
 * LISTENs for this node's commands, claims them one at a time in id order,
 * has the loop run each through a hook and writes the answer back. */
#ifndef MT_DAEMON_STORE_RELAY_H
#define MT_DAEMON_STORE_RELAY_H

#include <event2/event.h>

#include "util/error.h"

typedef struct relay relay_t;

/* What a command gave: result (a JSON text) on success, else error_code
 * (the control protocol's error name) and error_message. The hook
 * allocates the strings; the relay frees them. */
typedef struct {
    char *result;
    char *error_code;
    char *error_message;
} relay_answer_t;

/* relay_exec_fn: runs command with args (a JSON object's text) on the loop
 * thread and fills *out. */
typedef void (*relay_exec_fn)(void *ctx, const char *command, const char *args,
                              relay_answer_t *out);

/* Answered rows are kept this long (exactly-once holds for a key within
 * it), then deleted by the node they were for. */
#define RELAY_KEEP_S (24 * 3600)

/* relay_new: a stopped relay for node on the database at conninfo; exec
 * runs on base's loop (which must have been made after
 * evthread_use_pthreads()). Free with relay_free. */
relay_t *relay_new(struct event_base *base, const char *conninfo, int connect_timeout_s,
                   const char *node, relay_exec_fn exec, void *ctx);
/* relay_start: starts the thread; -1 with err if it cannot be created. */
int relay_start(relay_t *r, mt_error_t **err);
/* relay_free: stops and joins the thread (a command being run is left
 * claimed: the next start fails it) and frees r. Loop thread; NULL is
 * fine. */
void relay_free(relay_t *r);

#endif
