/* listener.h: a listening socket on the daemon's loop that survives running
 * out of descriptors: accept errors pause it with a growing back-off
 * instead of spinning, and the connections waiting in the kernel's backlog
 * are closed with the help of a spare descriptor. The peer listener and the
 * control socket use it. */
#ifndef MT_DAEMON_LISTENER_H
#define MT_DAEMON_LISTENER_H

#include <event2/event.h>
#include <event2/util.h>
#include <sys/socket.h>

#include "util/error.h"

typedef struct listener listener_t;

/* Called with each accepted connection (fd is the callee's to close). */
typedef void (*listener_accept_fn)(evutil_socket_t fd, struct sockaddr *sa, int salen, void *ctx);

/* listener_new: watches fd, a socket already listening, which the
 * listener owns from then on (listener_free closes it). name prefixes its
 * log lines ("peers", "control"). NULL on failure, fd then left open. */
listener_t *listener_new(struct event_base *base, evutil_socket_t fd, const char *name,
                         listener_accept_fn fn, void *ctx);
/* listener_new_bind: a TCP socket bound to sa (SO_REUSEADDR) listening
 * with the given backlog; NULL with err set on failure. */
listener_t *listener_new_bind(struct event_base *base, const struct sockaddr *sa, int salen,
                              int backlog, const char *name, listener_accept_fn fn, void *ctx,
                              mt_error_t **err);
void listener_free(listener_t *l);

#endif
