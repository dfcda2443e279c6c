/* traffic.h: the daemon's byte counters besides the peer connections'
 * totals (peer_mgr_totals): file data in and out of peer connections, the
 * server connection and UDP, kept on the loop thread since the start for
 * the metrics command (docs/metrics.md). */
#ifndef MT_DAEMON_TRAFFIC_H
#define MT_DAEMON_TRAFFIC_H

#include <stdint.h>

typedef enum { TRAFFIC_IN = 0, TRAFFIC_OUT = 1 } traffic_dir_t;

typedef struct traffic {
    /* Peer connections, counted where packets are whole, so that both
     * only grow: in, as each packet is taken from the input (its wire
     * bytes: the file data it carries into payload, the rest into
     * protocol); out, as bytes are queued for a peer (all into protocol,
     * then the file data of upload blocks moved to payload). File data is
     * what OP_SENDINGPART / OP_COMPRESSEDPART carry (ed2k_c2c_data_len). */
    uint64_t payload[2];
    uint64_t protocol[2];
    uint64_t server[2]; /* the TCP connection to the eD2K server */
    uint64_t udp[2];    /* UDP datagrams: servers, peers' queue re-asks */
} traffic_t;

#endif
