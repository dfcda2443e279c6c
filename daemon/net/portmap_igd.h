/* portmap_igd.h: the router protocols behind port forwarding (portmap.h):
 * what a backend is asked and answers, and UPnP IGD through libminiupnpc and
 * NAT-PMP through libnatpmp. Their calls block (discovery, HTTP, UDP
 * retries), so they run on a worker only. */
#ifndef MT_DAEMON_NET_PORTMAP_IGD_H
#define MT_DAEMON_NET_PORTMAP_IGD_H

#include <stddef.h>
#include <stdint.h>

#define PM_MAX_PORTS 4
#define PM_ERROR_LEN 160
#define PM_ADDR_LEN 46

typedef enum { PM_TCP, PM_UDP } pm_proto_t;

typedef struct {
    uint16_t port; /* the same port inside and outside */
    pm_proto_t proto;
} pm_port_t;

/* What a backend is asked to map (or remove). */
typedef struct {
    pm_port_t ports[PM_MAX_PORTS];
    size_t n;
    unsigned lease; /* seconds asked for; 0: permanent */
} pm_request_t;

/* What a backend answers. */
typedef struct {
    char external_ip[PM_ADDR_LEN];  /* "" when the router did not say */
    uint16_t external_port[PM_MAX_PORTS]; /* per port of the request */
    unsigned lease;                 /* seconds granted; 0: permanent */
    char error[PM_ERROR_LEN];       /* why it failed */
} pm_result_t;

/* A way of talking to the router. map and unmap run on the worker thread,
 * one job at a time, and may block; they return 0, or -1 with res->error
 * set. map maps (or renews) every port of req; unmap removes them. */
typedef struct {
    const char *name; /* "upnp", "natpmp" */
    int (*map)(void *state, const pm_request_t *req, pm_result_t *res);
    int (*unmap)(void *state, const pm_request_t *req, pm_result_t *res);
    void (*free)(void *state);
    void *state;
} pm_backend_t;

/* The description UPnP mappings carry on the router. */
#define PM_IGD_DESCRIPTION "Muleteer"

/* pm_igd_upnp_backend: UPnP IGD: SSDP discovery (2 s), then
 * AddPortMapping for each port with the lease asked (permanent when the
 * router only takes those: error 725); the device is found again after a
 * failed call. Its state is freed by the backend's free. */
pm_backend_t pm_igd_upnp_backend(void);

/* pm_igd_natpmp_backend: NAT-PMP (RFC 6886) to the default gateway: the
 * public address, then a mapping request per port (a permanent lease is
 * asked as 7200 s, the RFC's recommendation: NAT-PMP has no permanent
 * mappings); each request waits at most a few seconds. libnatpmp has no
 * PCP. */
pm_backend_t pm_igd_natpmp_backend(void);

#endif
