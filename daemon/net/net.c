/* net.c: conversions and classification of IPv4 addresses in eD2K form. */
#include "config.h"

#include "daemon/net/net.h"

#include <arpa/inet.h>
#include <stdio.h>

uint32_t
net_ip_from_in_addr(struct in_addr a)
{
    const uint8_t *b = (const uint8_t *)&a.s_addr;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

struct in_addr
net_ip_to_in_addr(uint32_t ip)
{
    struct in_addr a;
    uint8_t *b = (uint8_t *)&a.s_addr;
    b[0] = (uint8_t)ip;
    b[1] = (uint8_t)(ip >> 8);
    b[2] = (uint8_t)(ip >> 16);
    b[3] = (uint8_t)(ip >> 24);
    return a;
}

const char *
net_ip_str(uint32_t ip, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", ip & 0xff, (ip >> 8) & 0xff, (ip >> 16) & 0xff, ip >> 24);
    return buf;
}

int
net_ip_parse(const char *s, uint32_t *ip)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *ip = net_ip_from_in_addr(a);
    return 0;
}

/* prefix test on the host-order value a<<24|b<<16|c<<8|d */
static bool
in_net(uint32_t ip, uint32_t net, int bits)
{
    uint32_t h = (ip & 0xff) << 24 | ((ip >> 8) & 0xff) << 16 | ((ip >> 16) & 0xff) << 8 | ip >> 24;
    uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    return (h & mask) == (net & mask);
}

bool
net_is_reserved(uint32_t ip)
{
    static const struct {
        uint32_t net;
        int bits;
    } r[] = {
        { 0x00000000, 8 },  { 0x7f000000, 8 },  { 0xa9fe0000, 16 }, { 0xe0000000, 4 },
        { 0xf0000000, 4 },  { 0xc0000200, 24 }, { 0xc6336400, 24 }, { 0xcb007100, 24 },
        { 0x64400000, 10 }, { 0xc6120000, 15 },
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (in_net(ip, r[i].net, r[i].bits))
            return true;
    return false;
}

bool
net_is_lan(uint32_t ip)
{
    return in_net(ip, 0x0a000000, 8) || in_net(ip, 0xac100000, 12) || in_net(ip, 0xc0a80000, 16);
}
