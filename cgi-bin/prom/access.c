/* access.c: the metrics_allow rules of /metrics (access.h). */
#include "config.h"

#include "prom/access.h"

#include <arpa/inet.h>
#include <string.h>

prom_allow_t
prom_allow_parse(const char *value)
{
    if (value == NULL)
        return PROM_ALLOW_INVALID;
    if (strcmp(value, "loopback") == 0)
        return PROM_ALLOW_LOOPBACK;
    if (strcmp(value, "key") == 0)
        return PROM_ALLOW_KEY;
    if (strcmp(value, "public") == 0)
        return PROM_ALLOW_PUBLIC;
    return PROM_ALLOW_INVALID;
}

bool
prom_is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (addr == NULL)
        return false;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) != 1)
        return false;
    if (IN6_IS_ADDR_LOOPBACK(&a6))
        return true;
    return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

bool
prom_needs_credentials(prom_allow_t allow, const char *addr)
{
    switch (allow) {
    case PROM_ALLOW_PUBLIC:
        return false;
    case PROM_ALLOW_LOOPBACK:
        return !prom_is_loopback(addr);
    default:
        return true;
    }
}
