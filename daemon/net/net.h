/* net.h: IPv4 addresses in eD2K form and the address classes peers filter
 * on. An eD2K IP is the four octets a.b.c.d read as a little-endian u32
 * (a | b<<8 | c<<16 | d<<24), as on the wire (ed2k-protocol.md §0). */
#ifndef MT_DAEMON_NET_H
#define MT_DAEMON_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* A client id below this is a LowID (server-assigned handle). */
#define NET_LOWID_LIMIT 0x01000000u

static inline bool
net_is_lowid(uint32_t id)
{
    return id < NET_LOWID_LIMIT;
}

/* net_ip_to_host / net_ip_from_host: between the eD2K form and the
 * host-order number a<<24|b<<16|c<<8|d (as part files store sources). */
static inline uint32_t
net_ip_to_host(uint32_t ip)
{
    return (ip & 0xff) << 24 | ((ip >> 8) & 0xff) << 16 | ((ip >> 16) & 0xff) << 8 | ip >> 24;
}

static inline uint32_t
net_ip_from_host(uint32_t h)
{
    return net_ip_to_host(h); /* the same byte swap */
}

uint32_t net_ip_from_in_addr(struct in_addr a);
struct in_addr net_ip_to_in_addr(uint32_t ip);
/* net_ip_str: dotted quad into buf (at least 16 bytes); returns buf. */
const char *net_ip_str(uint32_t ip, char *buf);
/* net_ip_parse: a dotted quad; -1 for anything else. */
int net_ip_parse(const char *s, uint32_t *ip);
/* net_is_reserved: addresses no real peer has (0/8, 127/8, 169.254/16,
 * 224/4, 240/4, the TEST-NETs, 100.64/10, 198.18/15), which aMule drops
 * (§12 item 11). */
bool net_is_reserved(uint32_t ip);
/* net_is_lan: RFC 1918 private ranges. */
bool net_is_lan(uint32_t ip);

#endif
