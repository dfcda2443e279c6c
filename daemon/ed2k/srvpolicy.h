/* srvpolicy.h: the eD2K server connection's timing decisions, kept pure
 * (no network, no clock, no randomness of their own) so they can be
 * tested: the retry back-off and what ends it, and the pacing of source
 * requests (OP_GETSOURCES, ed2k-protocol.md §3.6, §5.10; over UDP to the
 * other servers, §4). */
#ifndef MT_DAEMON_SRVPOLICY_H
#define MT_DAEMON_SRVPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A back-off: `step` failures in a row, no attempt before `until`
 * (monotonic seconds; 0: any time). Zeroed is "no failure". */
typedef struct {
    unsigned step;
    time_t until;
} srvpol_backoff_t;

/* srvpol_base: the pause after `step` failures in a row, without jitter:
 * 0 for step 0, else min doubled step - 1 times, at most max. */
long srvpol_base(long min, long max, unsigned step);
/* srvpol_delay: srvpol_base plus a jitter of up to a quarter of it, taken
 * from rnd (any random number), so that clients that failed together do
 * not come back together. */
long srvpol_delay(long min, long max, unsigned step, uint32_t rnd);
/* srvpol_fail: one more failure at `now`: the step grows and the next
 * attempt waits srvpol_delay. Returns that delay. *grew (optional) tells
 * whether the pause grew, false once it stays at max: callers log once
 * per step, not once per attempt. */
long srvpol_fail(srvpol_backoff_t *b, long min, long max, time_t now, uint32_t rnd, bool *grew);
/* srvpol_reset: the failures are over (a session lasted). */
void srvpol_reset(srvpol_backoff_t *b);
/* srvpol_ready: whether an attempt may be made at `now`. */
bool srvpol_ready(const srvpol_backoff_t *b, time_t now);

/* srvpol_session_lasted: whether a session that began at `since` counts
 * as good at `now`: it gave something useful (sources, search results),
 * or it stayed up min_session seconds. A login alone is not enough: a
 * server that closes the connection right after it, or on the first
 * request it does not like, keeps failing. */
bool srvpol_session_lasted(time_t since, time_t now, long min_session, bool useful);

/* srvpol_reask_due: whether a download last asked at `last` (0: never)
 * may be asked again at `now`, at most every `interval` seconds. */
bool srvpol_reask_due(time_t last, time_t now, long interval);

/* The servers one download was asked of over UDP (OP_GLOBGETSOURCES,
 * §4), the latest SRVPOL_UDP_ASKED_MAX, each with when: compared only,
 * never used otherwise. Zeroed is none. */
#define SRVPOL_UDP_ASKED_MAX 32
typedef struct {
    struct {
        const void *server; /* NULL: a server gone since */
        time_t at;
    } v[SRVPOL_UDP_ASKED_MAX];
    size_t n;
} srvpol_udp_asked_t;

/* srvpol_udp_due: whether server may be asked at `now`: never asked (or
 * forgotten), or not in the last `interval` seconds. */
bool srvpol_udp_due(const srvpol_udp_asked_t *a, const void *server, time_t now, long interval);
/* srvpol_udp_mark: server asked at `now`; when the table is full, the
 * entry asked longest ago makes room. */
void srvpol_udp_mark(srvpol_udp_asked_t *a, const void *server, time_t now);
/* srvpol_udp_forget: server is gone (its entry stays, matching none). */
void srvpol_udp_forget(srvpol_udp_asked_t *a, const void *server);

/* A rate limit (a token bucket in the form of a theoretical arrival time,
 * GCRA): at most `burst` at once, then one per `every` seconds. Zeroed is
 * a full bucket. */
typedef struct {
    time_t tat;
} srvpol_pace_t;

/* srvpol_pace_take: whether one more may be sent at `now`; if so it is
 * counted. */
bool srvpol_pace_take(srvpol_pace_t *p, time_t now, long every, unsigned burst);

/* How to connect to a server (ed2k-protocol.md §9.3; aMule's
 * ServerSocket.cpp OnHostnameResolved and ServerConnect.cpp). */
typedef enum {
    SRVPOL_OBFS_PLAIN = 0, /* the server's port, no obfuscation */
    SRVPOL_OBFS_USE,       /* the handshake, on its obfuscation port */
    SRVPOL_OBFS_REFUSE,    /* obfuscation required, not possible: no attempt */
} srvpol_obfs_t;

/* The settings (obfuscation_support/request/require) and what is known
 * of the server. */
typedef struct {
    bool support, request, require;
    uint16_t obfu_tcp_port; /* 0: none known */
    uint32_t tcp_flags, udp_flags;
    bool plain_fallback;    /* the last obfuscated attempt failed */
} srvpol_obfs_in_t;

/* srvpol_obfs_choose: obfuscated when the server offers it (an
 * obfuscation port and the TCP obfuscation flag, TCP or UDP 0x400, as
 * aMule's SupportsObfuscationTCP) and we support it with request or
 * require; refused when require is set and that is not possible; plain
 * otherwise (and after a failed obfuscated attempt, unless required). */
srvpol_obfs_t srvpol_obfs_choose(const srvpol_obfs_in_t *in);

/* srvpol_udp_crypt_key: the key to obfuscate our datagrams to a server
 * with (ed2k-protocol.md §9.5), as aMule's ServerUDPSocket decides: with
 * obfuscation supported here, the server announcing UDP obfuscation
 * (udp_flags 0x200) and its UDP obfuscation port, and a key it gave while
 * our public address was the one we have now (key_ip == public_ip, not
 * 0). 0: send plain to its UDP port. */
uint32_t srvpol_udp_crypt_key(bool support, uint32_t udp_flags, uint16_t obfu_udp_port,
                              uint32_t key, uint32_t key_ip, uint32_t public_ip);

#endif
