/* portmap.h: port forwarding on the home router: the eD2K TCP port and the
 * client UDP port mapped with UPnP IGD or NAT-PMP, renewed before the lease
 * ends and removed at shutdown. A state machine on the loop thread; every
 * call into a router library runs as a job on a thread of its own. */
#ifndef MT_DAEMON_NET_PORTMAP_H
#define MT_DAEMON_NET_PORTMAP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/core/worker.h"
#include "daemon/net/portmap_igd.h"

struct muleteerd;

/* The first retry after a failed round, doubled after each failed round up
 * to PM_RETRY_MAX (seconds). */
#define PM_RETRY_MIN 15
#define PM_RETRY_MAX 1800
/* A mapping is renewed when half its lease is over, never sooner than
 * PM_RENEW_MIN seconds; a permanent one (lease 0) is checked again every
 * PM_RECHECK seconds (a router that restarted forgets it). */
#define PM_RENEW_MIN 30
#define PM_RECHECK 1200

/* Where the state machine runs: submit puts a job on a worker (done comes
 * back on the loop thread), set_timer arms the one timer (delay in seconds,
 * negative: disarmed; the owner calls portmap_on_timer when it fires), now
 * is the monotonic clock in seconds. */
typedef struct {
    void (*submit)(void *ctx, worker_run_fn run, worker_done_fn done, void *arg);
    void (*set_timer)(void *ctx, double delay);
    double (*now)(void *ctx);
    void *ctx;
} pm_env_t;

typedef struct portmap portmap_t;

/* portmap_new: port forwarding for d as port_forwarding and
 * port_forwarding_lease say (off: nothing is done); started at once.
 * Freed with portmap_free (NULL accepted). */
portmap_t *portmap_new(struct muleteerd *d);

/* portmap_new_with: the state machine on env with backends tried in their
 * order (copied; the portmap frees their state), asking for req. Not
 * started. */
portmap_t *portmap_new_with(const pm_env_t *env, const pm_backend_t *backends, size_t n,
                            const pm_request_t *req);
/* portmap_replace: the mappings made are removed, then the state machine
 * starts over with these backends (copied; the old ones are freed once no
 * job uses them) and req. */
void portmap_replace(portmap_t *pm, const pm_backend_t *backends, size_t n,
                     const pm_request_t *req);
/* portmap_reload: port_forwarding or port_forwarding_lease of d changed:
 * as portmap_replace with the new settings (nothing when they are the
 * same). */
void portmap_reload(portmap_t *pm, struct muleteerd *d);
/* portmap_start: the first attempt. */
void portmap_start(portmap_t *pm);
/* portmap_on_timer: the timer set through env fired. */
void portmap_on_timer(portmap_t *pm);
/* portmap_stop: no more renewals; every mapping made is removed (jobs). */
void portmap_stop(portmap_t *pm);
/* portmap_is_busy: a job is queued or running. */
bool portmap_is_busy(const portmap_t *pm);

/* portmap_state: "off", "mapping", "mapped", "retrying", "removing",
 * "removed". */
const char *portmap_state(const portmap_t *pm);
/* portmap_method: the backend holding the mappings, or NULL. */
const char *portmap_method(const portmap_t *pm);
/* portmap_external_ip: the router's external address while mapped (when
 * it said), else NULL. */
const char *portmap_external_ip(const portmap_t *pm);
/* portmap_last_error: the last failure ("method: why"), NULL since a
 * success. */
const char *portmap_last_error(const portmap_t *pm);
/* portmap_next_in: seconds until the next renewal or retry, -1: none. */
double portmap_next_in(const portmap_t *pm);

/* portmap_to_json: state, method, external_ip, ports, lease, last error,
 * next renewal or retry; the caller owns it. */
json_object *portmap_to_json(const portmap_t *pm);

/* portmap_free: stops it (the mappings are removed, waiting up to a few
 * seconds on the loop) and frees it. */
void portmap_free(portmap_t *pm);

#endif
