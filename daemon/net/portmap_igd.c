/* portmap_igd.c: UPnP IGD (libminiupnpc) and NAT-PMP (libnatpmp) as
 * port-forwarding backends (portmap_igd.h); blocking, worker thread only. */
#include "config.h"

#include "daemon/net/portmap_igd.h"
#include "util/xalloc.h"

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#define ENABLE_STRNATPMPERR
#include <natpmp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long SSDP discovery waits for answers (milliseconds). */
#define UPNP_DISCOVER_MS 2000
/* How long one NAT-PMP request waits, retries included (milliseconds). */
#define NATPMP_WAIT_MS 6000
/* RFC 6886 3.3: the recommended lifetime of a mapping. */
#define NATPMP_DEFAULT_LEASE 7200
/* UPnP's error when a router takes only permanent leases. */
#define UPNP_ONLY_PERMANENT_LEASES 725

/* ---------------------------------------------------------------- UPnP */

typedef struct {
    bool found;
    struct UPNPUrls urls;
    struct IGDdatas data;
    char lanaddr[64];
} upnp_t;

static void
upnp_forget(upnp_t *u)
{
    if (u->found)
        FreeUPNPUrls(&u->urls);
    u->found = false;
}

static const char *
upnp_proto(pm_proto_t p)
{
    return p == PM_TCP ? "TCP" : "UDP";
}

/* upnp_find: discovery and the first valid IGD, unless already found. */
static int
upnp_find(upnp_t *u, pm_result_t *res)
{
    if (u->found)
        return 0;
    int err = 0;
    struct UPNPDev *devs = upnpDiscover(UPNP_DISCOVER_MS, NULL, NULL, 0, 0, 2, &err);
    if (devs == NULL) {
        snprintf(res->error, sizeof res->error, "no UPnP device answered the discovery");
        return -1;
    }
    memset(&u->urls, 0, sizeof u->urls);
    memset(&u->data, 0, sizeof u->data);
#if MINIUPNPC_API_VERSION >= 18
    char wanaddr[64];
    int r = UPNP_GetValidIGD(devs, &u->urls, &u->data, u->lanaddr, sizeof u->lanaddr, wanaddr,
                             sizeof wanaddr);
#else
    int r = UPNP_GetValidIGD(devs, &u->urls, &u->data, u->lanaddr, sizeof u->lanaddr);
#endif
    freeUPNPDevlist(devs);
    if (r == 1 || r == 2) { /* 2: an IGD that says it is not connected may map all the same */
        u->found = true;
        return 0;
    }
    if (r != 0)
        FreeUPNPUrls(&u->urls);
    snprintf(res->error, sizeof res->error, "no UPnP Internet gateway device found");
    return -1;
}

static int
upnp_map(void *state, const pm_request_t *req, pm_result_t *res)
{
    upnp_t *u = state;
    if (upnp_find(u, res) != 0)
        return -1;
    unsigned lease = req->lease;
    for (size_t i = 0; i < req->n; i++) {
        char port[8], dur[16];
        snprintf(port, sizeof port, "%u", req->ports[i].port);
        snprintf(dur, sizeof dur, "%u", lease);
        int r = UPNP_AddPortMapping(u->urls.controlURL, u->data.first.servicetype, port, port,
                                    u->lanaddr, PM_IGD_DESCRIPTION, upnp_proto(req->ports[i].proto),
                                    NULL, dur);
        if (r == UPNP_ONLY_PERMANENT_LEASES && lease != 0) {
            lease = 0;
            r = UPNP_AddPortMapping(u->urls.controlURL, u->data.first.servicetype, port, port,
                                    u->lanaddr, PM_IGD_DESCRIPTION,
                                    upnp_proto(req->ports[i].proto), NULL, "0");
        }
        if (r != UPNPCOMMAND_SUCCESS) {
            const char *why = strupnperror(r);
            snprintf(res->error, sizeof res->error, "AddPortMapping %s %u: %s (%d)",
                     upnp_proto(req->ports[i].proto), req->ports[i].port, why ? why : "error", r);
            if (r < 0) /* no answer: look for the device again next time */
                upnp_forget(u);
            return -1;
        }
        res->external_port[i] = req->ports[i].port;
    }
    res->lease = lease;
    if (UPNP_GetExternalIPAddress(u->urls.controlURL, u->data.first.servicetype,
                                  res->external_ip) != UPNPCOMMAND_SUCCESS)
        res->external_ip[0] = '\0';
    return 0;
}

static int
upnp_unmap(void *state, const pm_request_t *req, pm_result_t *res)
{
    upnp_t *u = state;
    if (!u->found)
        return 0; /* nothing was mapped through it */
    int rc = 0;
    for (size_t i = 0; i < req->n; i++) {
        char port[8];
        snprintf(port, sizeof port, "%u", req->ports[i].port);
        int r = UPNP_DeletePortMapping(u->urls.controlURL, u->data.first.servicetype, port,
                                       upnp_proto(req->ports[i].proto), NULL);
        if (r != UPNPCOMMAND_SUCCESS) {
            const char *why = strupnperror(r);
            snprintf(res->error, sizeof res->error, "DeletePortMapping %s %u: %s (%d)",
                     upnp_proto(req->ports[i].proto), req->ports[i].port, why ? why : "error", r);
            rc = -1;
        }
    }
    return rc;
}

static void
upnp_free(void *state)
{
    upnp_t *u = state;
    if (u != NULL)
        upnp_forget(u);
    free(u);
}

pm_backend_t
pm_igd_upnp_backend(void)
{
    return (pm_backend_t){ "upnp", upnp_map, upnp_unmap, upnp_free, xcalloc(1, sizeof(upnp_t)) };
}

/* ------------------------------------------------------------- NAT-PMP */

static const char *
natpmp_why(int r)
{
    const char *s = strnatpmperr(r);
    return s ? s : "error";
}

/* natpmp_wait: the answer to the request just sent, retransmitting as
 * libnatpmp schedules it, for NATPMP_WAIT_MS at most. */
static int
natpmp_wait(natpmp_t *n, natpmpresp_t *resp)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct timeval tv;
        getnatpmprequesttimeout(n, &tv);
        clock_gettime(CLOCK_MONOTONIC, &now);
        long spent = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= NATPMP_WAIT_MS)
            return NATPMP_ERR_NOGATEWAYSUPPORT;
        long ms = tv.tv_sec * 1000 + tv.tv_usec / 1000;
        if (ms > NATPMP_WAIT_MS - spent)
            ms = NATPMP_WAIT_MS - spent;
        struct pollfd p = { .fd = n->s, .events = POLLIN };
        if (poll(&p, 1, ms < 0 ? 0 : (int)ms) < 0 && errno != EINTR)
            return NATPMP_ERR_RECVFROM;
        int r = readnatpmpresponseorretry(n, resp);
        if (r != NATPMP_TRYAGAIN)
            return r;
    }
}

/* natpmp_request: each port mapped with lifetime (0: removed); the public
 * address first when res is asked for it. */
static int
natpmp_request(const pm_request_t *req, uint32_t lifetime, pm_result_t *res, bool address)
{
    natpmp_t n;
    natpmpresp_t resp;
    int r = initnatpmp(&n, 0, 0);
    if (r < 0) {
        snprintf(res->error, sizeof res->error, "%s", natpmp_why(r));
        return -1;
    }
    if (address) {
        if ((r = sendpublicaddressrequest(&n)) < 0 || (r = natpmp_wait(&n, &resp)) < 0) {
            snprintf(res->error, sizeof res->error, "public address: %s", natpmp_why(r));
            closenatpmp(&n);
            return -1;
        }
        inet_ntop(AF_INET, &resp.pnu.publicaddress.addr, res->external_ip,
                  sizeof res->external_ip);
    }
    int rc = 0;
    res->lease = lifetime;
    for (size_t i = 0; i < req->n; i++) {
        const pm_port_t *p = &req->ports[i];
        int proto = p->proto == PM_TCP ? NATPMP_PROTOCOL_TCP : NATPMP_PROTOCOL_UDP;
        if ((r = sendnewportmappingrequest(&n, proto, p->port, lifetime ? p->port : 0,
                                           lifetime)) < 0 ||
            (r = natpmp_wait(&n, &resp)) < 0) {
            snprintf(res->error, sizeof res->error, "%s %u: %s", upnp_proto(p->proto), p->port,
                     natpmp_why(r));
            rc = -1;
            if (lifetime != 0)
                break;
            continue; /* a removal tries every port */
        }
        res->external_port[i] = resp.pnu.newportmapping.mappedpublicport;
        if (resp.pnu.newportmapping.lifetime < res->lease)
            res->lease = resp.pnu.newportmapping.lifetime;
    }
    closenatpmp(&n);
    return rc;
}

static int
natpmp_map(void *state, const pm_request_t *req, pm_result_t *res)
{
    (void)state;
    return natpmp_request(req, req->lease ? req->lease : NATPMP_DEFAULT_LEASE, res, true);
}

static int
natpmp_unmap(void *state, const pm_request_t *req, pm_result_t *res)
{
    (void)state;
    return natpmp_request(req, 0, res, false);
}

pm_backend_t
pm_igd_natpmp_backend(void)
{
    return (pm_backend_t){ "natpmp", natpmp_map, natpmp_unmap, NULL, NULL };
}
