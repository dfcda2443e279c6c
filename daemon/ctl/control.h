/* control.h: the daemon side of the control socket: a Unix-socket listener
 * on the event loop that reads newline-delimited JSON requests, dispatches
 * them through a command table and writes replies
 * (docs/control-protocol.md). */
#ifndef MT_DAEMON_CONTROL_H
#define MT_DAEMON_CONTROL_H

#include <event2/event.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct ctlsrv ctlsrv_t;

/* Client limits, for a local socket: its clients are the CLI, scripts and
 * the FastCGI processes (each keeps its connection between requests, and
 * reconnects when it was closed). A client has a request in progress from
 * the first byte of a line until its reply has been written out; it is
 * idle otherwise. */
/* Clients at once. When all are taken, the client idle the longest (at
 * least CTLSRV_EVICT_IDLE_MS) is closed to make room for the newcomer; a
 * newcomer finds no room ("busy") only while every client has a request in
 * progress or was active within CTLSRV_EVICT_IDLE_MS. */
#define CTLSRV_MAX_CLIENTS 128
#define CTLSRV_EVICT_IDLE_MS 1000
/* An idle client is closed after this long. */
#define CTLSRV_IDLE_MS 10000
/* A client in the middle of a request is never closed for idleness; one
 * that moves no byte of it for this long (a line left unfinished, replies
 * left unread) is closed. */
#define CTLSRV_STALL_SECONDS 600
/* A subscriber (`subscribe`) is dropped when its unread event lines would
 * pass this many bytes, or when it reads nothing for
 * CTLSRV_SUB_STALL_SECONDS while lines wait: the daemon never waits for
 * one. */
#define CTLSRV_SUB_MAX_OUTPUT (1024 * 1024)
#define CTLSRV_SUB_STALL_SECONDS 30

/* A command handler: fills *result (a new reference) and returns 0, or
 * returns -1 with err set (err->code an MT_ERR_* code, mapped to the
 * protocol's error codes). args is always an object. */
typedef int (*ctlsrv_cmd_fn)(void *ctx, json_object *args, json_object **result,
                             mt_error_t **err);

typedef struct {
    const char *name;
    ctlsrv_cmd_fn fn;
    const char *summary; /* one line, listed by the "help" command */
} ctlsrv_command_t;

/* ctlsrv_new: listens on path (mode 0660, parent directory created). Fails
 * when another daemon already answers on path, or path exists and is not a
 * socket. The table must outlive the server. */
ctlsrv_t *ctlsrv_new(struct event_base *base, const char *path,
                     const ctlsrv_command_t *commands, size_t n_commands, void *ctx,
                     mt_error_t **err);
/* ctlsrv_call: runs the table's command name with args (an object) as a
 * request on the socket would, for the daemon's other ways in (the
 * command relay). The socket's own commands (help, subscribe) are not in
 * the table: an unknown name is MT_ERR_UNSUPPORTED. The handler's result
 * and errors as ctlsrv_cmd_fn. */
int ctlsrv_call(ctlsrv_t *srv, const char *name, json_object *args, json_object **result,
                mt_error_t **err);
/* ctlsrv_free: closes every client and the listener and removes the
 * socket file. */
void ctlsrv_free(ctlsrv_t *srv);
size_t ctlsrv_client_count(const ctlsrv_t *srv);
/* ctlsrv_set_limits: other limits than the CTLSRV_* defaults (tests); 0
 * keeps a default. Applies to clients that connect or settle afterwards. */
void ctlsrv_set_limits(ctlsrv_t *srv, size_t max_clients, int idle_ms, int evict_idle_ms);
const char *ctlsrv_path(const ctlsrv_t *srv);

/* Event streams (the `subscribe` command, docs/control-protocol.md).
 * ctlsrv_set_topics: the names a subscriber may ask for, topic i being
 * names[i] (at most 64; the array must outlive the server). Until it is
 * called, `subscribe` is refused. */
void ctlsrv_set_topics(ctlsrv_t *srv, const char *const *names, size_t n);
/* ctlsrv_set_sub_max_output: another backlog bound than
 * CTLSRV_SUB_MAX_OUTPUT (tests); 0 restores it. */
void ctlsrv_set_sub_max_output(ctlsrv_t *srv, size_t bytes);
/* ctlsrv_wants: some subscriber asked for topic (a publisher skips
 * building lines nobody reads). NULL srv: false. */
bool ctlsrv_wants(const ctlsrv_t *srv, unsigned topic);
/* ctlsrv_publish: queues line (len bytes, no newline; one is added) to
 * every subscriber of topic, never blocking: a subscriber whose backlog
 * would pass the bound is closed instead (counted, and logged later from
 * the loop: this function does not log, so a log line's subscriber may
 * call it). Returns how many subscribers got it. */
size_t ctlsrv_publish(ctlsrv_t *srv, unsigned topic, const char *line, size_t len);
size_t ctlsrv_subscriber_count(const ctlsrv_t *srv);
/* ctlsrv_subscribers_dropped: subscribers closed for their backlog so far. */
uint64_t ctlsrv_subscribers_dropped(const ctlsrv_t *srv);

#endif
