/* obfs_bev.h: a TCP connection's obfuscation as a libevent filter
 * bufferevent over the socket's: it runs the server handshake of
 * ed2k-protocol.md §9.3 (obfs.h) on either side, holds what the upper
 * layer writes until the handshake is complete, then encrypts what goes
 * out and decrypts what comes in, so that the code above reads and writes
 * plain packets as on a plain connection. */
#ifndef MT_ED2K_OBFS_BEV_H
#define MT_ED2K_OBFS_BEV_H

#include <event2/bufferevent.h>
#include <stdbool.h>
#include <stdint.h>

#include "ed2k/obfs.h"

/* One wrapped connection. bev is the filter: give it to the code that
 * sends and receives; freeing it frees the socket's bufferevent and this
 * handle. The other fields are read-only. */
typedef struct ed2k_obfs_bev {
    struct bufferevent *bev;   /* the filter (plain packets) */
    struct bufferevent *under; /* the socket's bufferevent (wire bytes) */
    bool done;                 /* handshake complete: the stream is encrypted */
    bool plain;                /* server side: the client spoke plain eD2K */
    bool failed;               /* the handshake failed (the filter reports an error event) */
    char error[128];           /* why, when failed */
    bool step_detect;          /* server side: the first byte is still to see */
    ed2k_obfs_t o;
} ed2k_obfs_bev_t;

/* ed2k_obfs_bev_client: wraps under (a socket bufferevent, connected or
 * not) for a connection to a server's obfuscation port: queues the
 * client's first message on under, with secret and rnd as in
 * ed2k_obfs_dh_client_start. The filter takes the options of under's
 * owner (BEV_OPT_CLOSE_ON_FREE: freeing the filter frees under). */
ed2k_obfs_bev_t *ed2k_obfs_bev_client(struct bufferevent *under, const uint8_t secret[16],
                                      const ed2k_obfs_random_t *rnd);

/* ed2k_obfs_bev_server: wraps an accepted connection on a server's
 * obfuscation port: a first byte that starts a plain eD2K packet makes it
 * a plain connection (plain set), anything else the server side of §9.3
 * with secret and rnd as in ed2k_obfs_dh_server_init. */
ed2k_obfs_bev_t *ed2k_obfs_bev_server(struct bufferevent *under, const uint8_t secret[16],
                                      const ed2k_obfs_random_t *rnd);

#endif
