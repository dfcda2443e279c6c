/* portmap.c: the port-forwarding state machine (portmap.h), modelled on
 * Transmission's port forwarding: try the methods in order, renew before the
 * lease ends, back off after failures, remove the mappings at stop. */
#include "config.h"

#include "daemon/net/portmap.h"
#include "daemon/core/daemon.h"
#include "daemon/net/portmap_igd.h"
#include "util/bug.h"
#include "util/conf.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long portmap_free waits for the removals (milliseconds). */
#define PM_STOP_WAIT_MS 8000

typedef enum { ST_OFF, ST_MAPPING, ST_MAPPED, ST_RETRYING, ST_REMOVING, ST_REMOVED } pm_st_t;

static const char *const st_names[] = { "off", "mapping", "mapped", "retrying", "removing",
                                        "removed" };

/* The daemon's environment: a thread of its own, so that a slow router
 * never holds up hashing, and one libevent timer. */
typedef struct {
    struct event_base *base;
    worker_pool_t *pool; /* made at the first job */
    struct event *timer;
} pm_denv_t;

struct portmap {
    pm_env_t env;
    pm_denv_t *denv;       /* portmap_new's environment, NULL in tests */
    pm_backend_t backends[2];
    size_t n_backends;
    pm_request_t req;
    pm_st_t st;
    bool busy;             /* a job is queued or running */
    bool stopping;
    int trying;            /* the backend of the job in flight */
    int active;            /* the backend holding the mappings, -1: none */
    unsigned held;         /* bit i: backend i may hold mappings */
    unsigned backoff;      /* seconds before the next retry */
    double next_at;        /* monotonic time of the timer, -1: unset */
    pm_result_t last;      /* the last successful answer */
    char error[PM_ERROR_LEN + 16]; /* the last failure, "" if none since */
    /* portmap_replace's settings, in force once the mappings are removed */
    bool pending;
    pm_backend_t pend_backends[2];
    size_t pend_n;
    pm_request_t pend_req;
};

typedef struct {
    portmap_t *pm;
    int backend;
    bool unmap;
    int rc;
    pm_request_t req;
    pm_result_t res;
} pm_job_t;

static void submit(portmap_t *pm, int backend, bool unmap);
static void maybe_restart(portmap_t *pm);
static void set_backends(portmap_t *pm, const pm_backend_t *backends, size_t n,
                         const pm_request_t *req);

static void
arm(portmap_t *pm, double delay)
{
    pm->next_at = delay < 0 ? -1 : pm->env.now(pm->env.ctx) + delay;
    pm->env.set_timer(pm->env.ctx, delay);
}

static void
job_run(void *arg)
{
    pm_job_t *j = arg;
    const pm_backend_t *b = &j->pm->backends[j->backend];
    j->rc = (j->unmap ? b->unmap : b->map)(b->state, &j->req, &j->res);
    if (j->rc != 0 && j->res.error[0] == '\0')
        snprintf(j->res.error, sizeof j->res.error, "failed");
}

/* unmap_next: removes the mappings of the first backend that may hold
 * some; removed when none is left. */
static void
unmap_next(portmap_t *pm)
{
    for (size_t i = 0; i < pm->n_backends; i++)
        if (pm->held & (1u << i)) {
            pm->st = ST_REMOVING;
            submit(pm, (int)i, true);
            return;
        }
    pm->st = ST_REMOVED;
    pm->active = -1;
}

static void
mapped(portmap_t *pm, int backend, const pm_result_t *res)
{
    bool changed = pm->active != backend || strcmp(pm->last.external_ip, res->external_ip) != 0;
    pm->st = ST_MAPPED;
    pm->active = backend;
    pm->held |= 1u << backend;
    pm->last = *res;
    pm->error[0] = '\0';
    pm->backoff = PM_RETRY_MIN;
    if (changed) {
        char ports[PM_MAX_PORTS * 16] = "";
        for (size_t i = 0; i < pm->req.n; i++)
            snprintf(ports + strlen(ports), sizeof ports - strlen(ports), "%s%s %u",
                     i ? ", " : "", pm->req.ports[i].proto == PM_TCP ? "TCP" : "UDP",
                     res->external_port[i]);
        log_info("port forwarding: %s mapped %s on %s (lease %u s)", pm->backends[backend].name,
                 ports, res->external_ip[0] ? res->external_ip : "the router", res->lease);
    }
    unsigned renew = res->lease == 0 ? PM_RECHECK : res->lease / 2;
    arm(pm, renew < PM_RENEW_MIN ? PM_RENEW_MIN : renew);
}

/* failed: the next method in order, or a retry of the first after the
 * back-off, doubled for the round after. */
static void
failed(portmap_t *pm, int backend, const pm_result_t *res)
{
    snprintf(pm->error, sizeof pm->error, "%s: %s", pm->backends[backend].name, res->error);
    log_warn("port forwarding: %s", pm->error);
    if (pm->active == backend)
        pm->active = -1;
    if ((size_t)backend + 1 < pm->n_backends) {
        pm->st = ST_MAPPING;
        submit(pm, backend + 1, false);
        return;
    }
    pm->st = ST_RETRYING;
    arm(pm, pm->backoff);
    pm->backoff = pm->backoff >= PM_RETRY_MAX / 2 ? PM_RETRY_MAX : pm->backoff * 2;
}

static void
job_done(void *arg, int cancelled)
{
    pm_job_t *j = arg;
    portmap_t *pm = j->pm;
    if (MT_BUG(!pm->busy || pm->trying != j->backend)) {
        free(j);
        return;
    }
    pm->busy = false;
    if (cancelled) { /* the pool is going away: no job after this one */
        free(j);
        return;
    }
    if (j->unmap) {
        if (j->rc != 0)
            log_warn("port forwarding: %s: removal: %s", pm->backends[j->backend].name,
                     j->res.error);
        else
            log_info("port forwarding: %s mappings removed", pm->backends[j->backend].name);
        pm->held &= ~(1u << j->backend);
        unmap_next(pm);
    } else if (j->rc == 0) {
        pm->held |= 1u << j->backend;
        if (pm->stopping)
            unmap_next(pm);
        else
            mapped(pm, j->backend, &j->res);
    } else if (pm->stopping) {
        unmap_next(pm);
    } else {
        failed(pm, j->backend, &j->res);
    }
    free(j);
    maybe_restart(pm);
}

static void
submit(portmap_t *pm, int backend, bool unmap)
{
    if (MT_BUG(pm->busy))
        return;
    pm_job_t *j = xcalloc(1, sizeof *j);
    j->pm = pm;
    j->backend = backend;
    j->unmap = unmap;
    j->rc = -1;
    j->req = pm->req;
    pm->busy = true;
    pm->trying = backend;
    pm->env.submit(pm->env.ctx, job_run, job_done, j);
}

portmap_t *
portmap_new_with(const pm_env_t *env, const pm_backend_t *backends, size_t n,
                 const pm_request_t *req)
{
    portmap_t *pm = xcalloc(1, sizeof *pm);
    pm->env = *env;
    set_backends(pm, backends, n, req);
    pm->st = ST_OFF;
    pm->active = -1;
    pm->trying = -1;
    pm->backoff = PM_RETRY_MIN;
    pm->next_at = -1;
    return pm;
}

static void
free_backends(pm_backend_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i].free != NULL)
            b[i].free(b[i].state);
}

static void
set_backends(portmap_t *pm, const pm_backend_t *backends, size_t n, const pm_request_t *req)
{
    if (n > sizeof pm->backends / sizeof pm->backends[0])
        n = sizeof pm->backends / sizeof pm->backends[0];
    if (n > 0)
        memcpy(pm->backends, backends, n * sizeof *backends);
    pm->n_backends = n;
    pm->req = *req;
}

/* maybe_restart: once the old mappings are removed and no job runs, the
 * settings of portmap_replace take over and a first attempt starts. */
static void
maybe_restart(portmap_t *pm)
{
    if (!pm->pending || pm->busy || pm->held != 0)
        return;
    free_backends(pm->backends, pm->n_backends);
    set_backends(pm, pm->pend_backends, pm->pend_n, &pm->pend_req);
    pm->pending = false;
    pm->stopping = false;
    pm->st = ST_OFF;
    pm->active = pm->trying = -1;
    pm->backoff = PM_RETRY_MIN;
    pm->error[0] = '\0';
    memset(&pm->last, 0, sizeof pm->last);
    portmap_start(pm);
}

void
portmap_replace(portmap_t *pm, const pm_backend_t *backends, size_t n, const pm_request_t *req)
{
    if (pm->pending)
        free_backends(pm->pend_backends, pm->pend_n); /* never used */
    if (n > sizeof pm->pend_backends / sizeof pm->pend_backends[0])
        n = sizeof pm->pend_backends / sizeof pm->pend_backends[0];
    if (n > 0)
        memcpy(pm->pend_backends, backends, n * sizeof *backends);
    pm->pend_n = n;
    pm->pend_req = *req;
    pm->pending = true;
    portmap_stop(pm);
    maybe_restart(pm);
}

void
portmap_start(portmap_t *pm)
{
    if (pm == NULL || pm->n_backends == 0 || pm->req.n == 0 || pm->busy || pm->stopping)
        return;
    pm->st = ST_MAPPING;
    submit(pm, 0, false);
}

void
portmap_on_timer(portmap_t *pm)
{
    pm->next_at = -1;
    if (pm->busy || pm->stopping)
        return;
    if (pm->st == ST_MAPPED && pm->active >= 0) {
        submit(pm, pm->active, false); /* renewal: the same method */
    } else if (pm->st == ST_RETRYING) {
        pm->st = ST_MAPPING;
        submit(pm, 0, false);
    }
}

void
portmap_stop(portmap_t *pm)
{
    if (pm == NULL || pm->stopping)
        return;
    pm->stopping = true;
    arm(pm, -1);
    if (pm->st == ST_OFF)
        return;
    if (!pm->busy)
        unmap_next(pm); /* else when the job in flight is done */
}

bool
portmap_is_busy(const portmap_t *pm)
{
    return pm != NULL && pm->busy;
}

const char *
portmap_state(const portmap_t *pm)
{
    return pm == NULL ? "off" : st_names[pm->st];
}

const char *
portmap_method(const portmap_t *pm)
{
    return pm == NULL || pm->active < 0 ? NULL : pm->backends[pm->active].name;
}

const char *
portmap_external_ip(const portmap_t *pm)
{
    return pm != NULL && pm->st == ST_MAPPED && pm->last.external_ip[0] ? pm->last.external_ip
                                                                         : NULL;
}

const char *
portmap_last_error(const portmap_t *pm)
{
    return pm != NULL && pm->error[0] ? pm->error : NULL;
}

double
portmap_next_in(const portmap_t *pm)
{
    if (pm == NULL || pm->next_at < 0)
        return -1;
    double d = pm->next_at - pm->env.now(pm->env.ctx);
    return d < 0 ? 0 : d;
}

json_object *
portmap_to_json(const portmap_t *pm)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "state", json_object_new_string(portmap_state(pm)));
    const char *m = portmap_method(pm);
    json_object_object_add(o, "method", m ? json_object_new_string(m) : NULL);
    bool up = pm != NULL && pm->st == ST_MAPPED;
    const char *ip = portmap_external_ip(pm), *error = portmap_last_error(pm);
    json_object_object_add(o, "external_ip", ip ? json_object_new_string(ip) : NULL);
    json_object *ports = json_object_new_array();
    for (size_t i = 0; up && i < pm->req.n; i++) {
        json_object *p = json_object_new_object();
        json_object_object_add(p, "port", json_object_new_int(pm->req.ports[i].port));
        json_object_object_add(p, "external_port", json_object_new_int(pm->last.external_port[i]));
        json_object_object_add(p, "protocol", json_object_new_string(
                                                  pm->req.ports[i].proto == PM_TCP ? "tcp" : "udp"));
        json_object_array_add(ports, p);
    }
    json_object_object_add(o, "ports", ports);
    json_object_object_add(o, "lease", up ? json_object_new_int64(pm->last.lease) : NULL);
    json_object_object_add(o, "error", error ? json_object_new_string(error) : NULL);
    double next = portmap_next_in(pm);
    json_object_object_add(o, "next_in", next < 0 ? NULL : json_object_new_int64((int64_t)next));
    return o;
}

/* ------------------------------------------------------------ the daemon */

static void
denv_submit(void *ctx, worker_run_fn run, worker_done_fn done, void *arg)
{
    pm_denv_t *e = ctx;
    if (e->pool == NULL)
        e->pool = worker_pool_new(e->base, 1);
    worker_submit(e->pool, run, done, arg);
}

static void
denv_set_timer(void *ctx, double delay)
{
    pm_denv_t *e = ctx;
    evtimer_del(e->timer);
    if (delay >= 0) {
        struct timeval tv = { .tv_sec = (time_t)delay,
                              .tv_usec = (suseconds_t)((delay - (double)(time_t)delay) * 1e6) };
        evtimer_add(e->timer, &tv);
    }
}

static double
denv_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
on_denv_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    portmap_on_timer(arg);
}

/* configured: the backends and request of d's configuration; n backends
 * (0: off, or an unknown method, then said in why). */
static size_t
configured(struct muleteerd *d, pm_backend_t *b, pm_request_t *req, char *why, size_t len)
{
    const char *mode = conf_get_str(d->conf, "port_forwarding");
    size_t n = 0;
    why[0] = '\0';
    if (strcmp(mode, "upnp") == 0 || strcmp(mode, "auto") == 0)
        b[n++] = pm_igd_upnp_backend();
    if (strcmp(mode, "natpmp") == 0 || strcmp(mode, "auto") == 0)
        b[n++] = pm_igd_natpmp_backend();
    if (n == 0 && strcmp(mode, "off") != 0) {
        snprintf(why, len, "port_forwarding: unknown method \"%s\" (off, upnp, natpmp or auto)",
                 mode);
        log_warn("%s", why);
    }
    memset(req, 0, sizeof *req);
    req->ports[req->n++] = (pm_port_t){ (uint16_t)conf_get_int(d->conf, "tcp_port"), PM_TCP };
    uint16_t udp = (uint16_t)conf_get_int(d->conf, "udp_port");
    if (udp != 0)
        req->ports[req->n++] = (pm_port_t){ udp, PM_UDP };
    req->lease = (unsigned)conf_get_int(d->conf, "port_forwarding_lease");
    if (n > 0)
        log_info("port forwarding: %s", mode);
    return n;
}

portmap_t *
portmap_new(struct muleteerd *d)
{
    pm_backend_t b[2];
    pm_request_t req;
    char why[PM_ERROR_LEN];
    size_t n = configured(d, b, &req, why, sizeof why);
    pm_denv_t *e = xcalloc(1, sizeof *e);
    e->base = d->base;
    pm_env_t env = { denv_submit, denv_set_timer, denv_now, e };
    portmap_t *pm = portmap_new_with(&env, b, n, &req);
    pm->denv = e;
    e->timer = evtimer_new(d->base, on_denv_timer, pm);
    snprintf(pm->error, sizeof pm->error, "%s", why);
    portmap_start(pm);
    return pm;
}

void
portmap_reload(portmap_t *pm, struct muleteerd *d)
{
    if (pm == NULL)
        return;
    pm_backend_t b[2];
    pm_request_t req;
    char why[PM_ERROR_LEN];
    size_t n = configured(d, b, &req, why, sizeof why);
    const pm_request_t *now = pm->pending ? &pm->pend_req : &pm->req;
    const pm_backend_t *nb = pm->pending ? pm->pend_backends : pm->backends;
    bool same = n == (pm->pending ? pm->pend_n : pm->n_backends) && req.n == now->n &&
                req.lease == now->lease;
    for (size_t i = 0; same && i < req.n; i++)
        same = req.ports[i].port == now->ports[i].port && req.ports[i].proto == now->ports[i].proto;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(b[i].name, nb[i].name) == 0;
    if (same) {
        free_backends(b, n);
        return;
    }
    portmap_replace(pm, b, n, &req);
    if (!pm->pending)
        snprintf(pm->error, sizeof pm->error, "%s", why);
}

void
portmap_free(portmap_t *pm)
{
    if (pm == NULL)
        return;
    portmap_stop(pm);
    if (pm->denv != NULL) {
        if (pm->denv->pool != NULL) {
            worker_pool_drain(pm->denv->pool, PM_STOP_WAIT_MS);
            worker_pool_free(pm->denv->pool); /* runs the last completions */
        }
        event_free(pm->denv->timer);
        free(pm->denv);
    }
    free_backends(pm->backends, pm->n_backends);
    if (pm->pending)
        free_backends(pm->pend_backends, pm->pend_n);
    free(pm);
}
