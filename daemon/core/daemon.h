/* daemon.h: the state of one running muleteerd, shared by the daemon's
 * modules (all on the loop thread unless a field says otherwise). */
#ifndef MT_DAEMON_DAEMON_H
#define MT_DAEMON_DAEMON_H

#include <event2/event.h>
#include <time.h>

#include <stdint.h>

#include "daemon/core/bus.h"
#include "daemon/core/periodic.h"
#include "daemon/core/traffic.h"
#include "daemon/core/worker.h"
#include "util/conf.h"

struct ctlsrv; /* daemon/ctl/control.h */
struct dbw;    /* daemon/store/db_worker.h */

struct shared;
struct peer_mgr;
struct dlq;
struct ulq;
struct srvconn;
struct serverlist;
struct searches;
struct dbsync;
struct history;
struct categories;
struct taglist;
struct finished;
struct logring; /* daemon/core/logring.h */
struct kad;     /* daemon/kad/kad.h */
struct hooks;   /* daemon/hooks/hooks.h */
struct ipblock; /* daemon/net/ipblock.h */
struct ident;   /* daemon/transfer/ident.h */
struct lsched;  /* daemon/net/limitsched.h */
struct portmap; /* daemon/net/portmap.h */

typedef struct muleteerd {
    struct event_base *base;
    conf_t *conf;
    char *conf_file;
    time_t started_at;            /* wall clock, for what is stored and shown */
    struct timespec started_mono; /* monotonic, for uptime */
    struct dbw *db;     /* the database writer (store/db_worker.h) */
    struct ctlsrv *ctl; /* the control socket (ctl/control.h) */
    periodic_t *periodic;
    struct event *sig_term, *sig_int, *sig_hup;
    worker_pool_t *workers;   /* blocking work */
    bus_t *bus;               /* events between the modules (bus.h) */
    uint8_t userhash[16];     /* identity.c */
    struct shared *shared;    /* complete files we share */
    struct peer_mgr *peers;   /* peer connections */
    struct dlq *downloads;
    struct ulq *uploads;
    struct srvconn *server;   /* the eD2K server connection */
    struct serverlist *serverlist; /* the servers we know */
    struct searches *searches;     /* searches on the network */
    struct dbsync *dbsync;         /* downloads and samples into PostgreSQL */
    struct history *history;       /* download history events */
    struct categories *categories; /* download categories */
    struct taglist *tags;          /* the node's tag list */
    struct finished *finished;     /* completed downloads still listed */
    struct logring *log_ring;      /* recent log lines (ctl/cmd_log.h) */
    struct logring *peer_ring;     /* recent peer bans (ctl/cmd_log.h) */
    struct kad *kad;               /* the Kad node (kad/kad.h) */
    struct hooks *hooks;           /* programs and webhooks on events (hooks/hooks.h) */
    struct ipblock *ipfilter;      /* the IP filter (net/ipblock.h) */
    struct ident *ident;           /* secure ident and credits (transfer/ident.h) */
    struct lsched *limit_schedule; /* the alternative limits' schedule (net/limitsched.h) */
    struct portmap *portmap;       /* port forwarding on the router (net/portmap.h) */
    /* what the eD2K server told us (0 while not connected) */
    uint32_t client_id;
    uint32_t server_ip;
    uint16_t server_port;
    uint32_t public_ip;       /* our address as others see it, 0 if unknown */
    traffic_t traffic;        /* byte counters (traffic.h) */
} muleteerd_t;

#endif
