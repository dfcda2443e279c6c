/* access.h: who may read /metrics (metrics_allow): loopback clients
 * without credentials (the default), only clients with credentials, or
 * everyone. Pure; tests/unit/check_promfmt. */
#ifndef MT_CGI_PROM_ACCESS_H
#define MT_CGI_PROM_ACCESS_H

#include <stdbool.h>

typedef enum {
    PROM_ALLOW_LOOPBACK = 0, /* loopback free, others with credentials */
    PROM_ALLOW_KEY,          /* credentials from everyone */
    PROM_ALLOW_PUBLIC,       /* nobody needs credentials */
    PROM_ALLOW_INVALID = -1,
} prom_allow_t;

/* prom_allow_parse: "loopback", "key" or "public"; PROM_ALLOW_INVALID
 * for anything else. */
prom_allow_t prom_allow_parse(const char *value);
/* prom_is_loopback: addr (REMOTE_ADDR) is 127.0.0.0/8, ::1 or
 * ::ffff:127.x.y.z. */
bool prom_is_loopback(const char *addr);
/* prom_needs_credentials: whether a request from addr must authenticate. */
bool prom_needs_credentials(prom_allow_t allow, const char *addr);

#endif
