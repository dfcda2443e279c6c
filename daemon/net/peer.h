/* peer.h: other eD2K clients and the TCP connections to them: listening,
 * connecting, the OP_HELLO handshake, framing, and handing each packet to
 * the download or upload side (ed2k-protocol.md §5). */
#ifndef MT_DAEMON_PEER_H
#define MT_DAEMON_PEER_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stdint.h>

#include "ed2k/c2c.h"
#include "ed2k/packet.h"
#include "daemon/net/speedlimit.h"
#include "util/error.h"

struct muleteerd;
typedef struct peer peer_t;
typedef struct peer_mgr peer_mgr_t;

/* Connection states. */
typedef enum {
    PEER_DISCONNECTED = 0,
    PEER_CONNECTING,   /* TCP connect in progress (outgoing) */
    PEER_HELLO_SENT,   /* outgoing: OP_HELLO sent, waiting for the answer */
    PEER_WAIT_HELLO,   /* incoming: waiting for OP_HELLO */
    PEER_READY,        /* handshake done: requests may flow both ways */
} peer_state_t;

peer_mgr_t *peer_mgr_new(struct muleteerd *d);
/* peer_mgr_listen: accepts peers on TCP port (all addresses). */
int peer_mgr_listen(peer_mgr_t *m, uint16_t port, mt_error_t **err);
void peer_mgr_free(peer_mgr_t *m);
/* peer_mgr_tick: once a second: timeouts, forgetting idle peers, bans. */
void peer_mgr_tick(peer_mgr_t *m);
size_t peer_mgr_connections(const peer_mgr_t *m);
/* peer_mgr_set_limits: the global limits (speedlimit.h; bytes per second
 * over all peer connections, 0: unlimited); the pair its mode chooses is
 * applied at once, and libevent's rate-limit group shares it fairly
 * between connections. The mode is not saved here (speedlimit_save_mode).
 * peer_mgr_get_limits: the limits as set. */
void peer_mgr_set_limits(peer_mgr_t *m, const speedlimit_t *l);
void peer_mgr_get_limits(const peer_mgr_t *m, speedlimit_t *l);
/* peer_mgr_alt_mode_file: where the alternative mode is kept
 * (${state_dir}/alt_speed_limits); the caller frees. */
char *peer_mgr_alt_mode_file(const struct muleteerd *d);
/* peer_mgr_totals: bytes received and sent on peer connections since the
 * start (protocol included). */
void peer_mgr_totals(const peer_mgr_t *m, uint64_t *down, uint64_t *up);

/* What the higher layers do with peers: a handler each (the download
 * side, the upload side), added at start-up. A packet goes to each handler
 * in the order they were added until one takes it: packet returns 1
 * (handled), 0 (not its packet) or -1 (a protocol error, err set: the
 * connection is closed). writable: the output buffer drained below its
 * low-water mark. ready (handshake done) and closed go in the reverse
 * order: the side added last sets up first and cleans up before the one
 * added first may connect again. Each is optional. */
typedef struct peer_handler {
    void (*ready)(void *ctx, peer_t *p);
    void (*closed)(void *ctx, peer_t *p, const char *reason);
    int (*packet)(void *ctx, peer_t *p, const ed2k_packet_t *pkt, mt_error_t **err);
    void (*writable)(void *ctx, peer_t *p);
    void *ctx;
} peer_handler_t;
/* peer_mgr_add_handler: h is copied; at most PEER_MAX_HANDLERS. */
#define PEER_MAX_HANDLERS 6
void peer_mgr_add_handler(peer_mgr_t *m, const peer_handler_t *h);
/* peer_mgr_set_callback_requester: how to reach a LowID source (ask our
 * server to have it connect to us, ed2k-protocol.md §3.6): fn returns 0
 * when the request went out. Without one, LowIDs cannot be reached. */
void peer_mgr_set_callback_requester(peer_mgr_t *m, int (*fn)(void *ctx, uint32_t lowid),
                                     void *ctx);

/* peer_get: the peer at ip:port (eD2K IP form, port in host order),
 * created when unknown. */
peer_t *peer_get(peer_mgr_t *m, uint32_t ip, uint16_t port);
/* peer_set_crypt: what a server's source list, a link or a callback says
 * of the peer's obfuscation (cryptopts, ED2K_CRYPT_* of ed2k/obfs.h) and
 * its user hash (NULL: not given), the key an obfuscated connection needs.
 * Its hello, once received, says the same with more authority. */
void peer_set_crypt(peer_t *p, uint8_t cryptopts, const uint8_t *hash);
/* peer_obfs_settings: the obfuscation settings, as aMule reads them:
 * required implies requested implies supported. */
void peer_obfs_settings(const struct muleteerd *d, bool *support, bool *request, bool *require);
/* peer_connect: connects (and says hello) unless connected or connecting;
 * obfuscated (§9.2) when both sides support it, either requests it and
 * its user hash is known. Returns 0, or -1 when it cannot now (connection
 * limits, banned peer, socket error, obfuscation required by one side and
 * impossible); the download side retries later. */
int peer_connect(peer_t *p);
/* peer_mgr_announce_id: our client ID or server changed (a server
 * login): OP_CHANGE_CLIENT_ID to every ready peer whose hello named
 * others, so that it knows us as the LowID a server hands out. */
void peer_mgr_announce_id(peer_mgr_t *m);
/* peer_close: closes the connection (the peer object stays while users
 * hold it). The download and upload sides are told. */
void peer_close(peer_t *p, const char *reason);
/* peer_ban: closes and refuses the peer's IP for seconds. */
void peer_ban(peer_t *p, const char *reason, int seconds);
bool peer_mgr_is_banned(peer_mgr_t *m, uint32_t ip);

peer_state_t peer_state(const peer_t *p);
bool peer_is_ready(const peer_t *p);
/* peer_is_outgoing: the connection is (or will be) one we opened. */
bool peer_is_outgoing(const peer_t *p);
uint32_t peer_ip(const peer_t *p);
uint16_t peer_port(const peer_t *p);
uint16_t peer_udp_port(const peer_t *p);
/* peer_kad_port: the Kad UDP port its hello announced (0: none, or Kad
 * not connected there). */
uint16_t peer_kad_port(const peer_t *p);
/* peer_client_id: the eD2K id from its hello (0 before it, or when it is
 * on no server). */
uint32_t peer_client_id(const peer_t *p);
/* peer_hash: the user hash from its hello, or NULL before it. */
const uint8_t *peer_hash(const peer_t *p);
const char *peer_name(const peer_t *p);
/* peer_software: the client software its last hello named ("aMule
 * 2.3.3"), "" before any hello. */
const char *peer_software(const peer_t *p);
const ed2k_caps_t *peer_caps(const peer_t *p);
/* peer_is_obfuscated: whether the connection runs through the RC4 layer. */
bool peer_is_obfuscated(const peer_t *p);
/* peer_desc: "name (ip:port)" for logs; valid until the next call. */
const char *peer_desc(const peer_t *p);

/* peer_out: the connection's output buffer, to append encoded packets to;
 * NULL when not ready. peer_out_len: bytes not yet sent. */
struct evbuffer *peer_out(peer_t *p);
size_t peer_out_len(const peer_t *p);
/* peer_set_read_limit, peer_set_write_limit: this connection's own
 * limits in bytes per second (0: none), applied beside the global ones
 * (a per-download limit shared among the download's connections). They
 * last until changed or until the connection closes. */
void peer_set_read_limit(peer_t *p, uint64_t bps);
void peer_set_write_limit(peer_t *p, uint64_t bps);
uint64_t peer_read_limit(const peer_t *p);
uint64_t peer_write_limit(const peer_t *p);
/* peer_touch: marks activity, keeping an idle connection open. */
void peer_touch(peer_t *p);

/* Slots for the download and upload sides' state of this peer. */
void *peer_dl_data(const peer_t *p);
void peer_set_dl_data(peer_t *p, void *data);
void *peer_ul_data(const peer_t *p);
void peer_set_ul_data(peer_t *p, void *data);
/* The secure-ident exchange's state (a malloc'd block, freed with p). */
void *peer_sec_data(const peer_t *p);
void peer_set_sec_data(peer_t *p, void *data);

#endif
