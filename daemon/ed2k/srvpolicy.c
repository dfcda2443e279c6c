/* srvpolicy.c: the eD2K server connection's timing decisions as pure
 * functions: exponential back-off with jitter, the rule that ends it, and
 * the pacing of source requests (to our server, and to the others over
 * UDP), and whether a server connection is obfuscated. daemon/ed2k/server.c
 * applies them. */
#include "config.h"

#include "daemon/ed2k/srvpolicy.h"
#include "ed2k/c2s.h"

long
srvpol_base(long min, long max, unsigned step)
{
    if (step == 0)
        return 0;
    if (min < 1)
        min = 1;
    if (max < min)
        max = min;
    long d = min;
    for (unsigned i = 1; i < step && d < max; i++)
        d = d > max / 2 ? max : d * 2;
    return d < max ? d : max;
}

long
srvpol_delay(long min, long max, unsigned step, uint32_t rnd)
{
    long base = srvpol_base(min, max, step);
    return base + (long)(rnd % (uint32_t)(base / 4 + 1));
}

long
srvpol_fail(srvpol_backoff_t *b, long min, long max, time_t now, uint32_t rnd, bool *grew)
{
    long before = srvpol_base(min, max, b->step);
    if (b->step < 1000)
        b->step++;
    long d = srvpol_delay(min, max, b->step, rnd);
    b->until = now + d;
    if (grew != NULL)
        *grew = srvpol_base(min, max, b->step) != before;
    return d;
}

void
srvpol_reset(srvpol_backoff_t *b)
{
    b->step = 0;
    b->until = 0;
}

bool
srvpol_ready(const srvpol_backoff_t *b, time_t now)
{
    return now >= b->until;
}

bool
srvpol_session_lasted(time_t since, time_t now, long min_session, bool useful)
{
    return useful || now - since >= min_session;
}

bool
srvpol_reask_due(time_t last, time_t now, long interval)
{
    return last == 0 || now - last >= interval;
}

bool
srvpol_pace_take(srvpol_pace_t *p, time_t now, long every, unsigned burst)
{
    time_t t = p->tat > now ? p->tat : now;
    if (burst == 0 || t - now > (time_t)(burst - 1) * every)
        return false;
    p->tat = t + every;
    return true;
}

bool
srvpol_udp_due(const srvpol_udp_asked_t *a, const void *server, time_t now, long interval)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].server == server)
            return now - a->v[i].at >= interval;
    return true;
}

void
srvpol_udp_mark(srvpol_udp_asked_t *a, const void *server, time_t now)
{
    size_t k = a->n;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].server == server)
            k = i;
    if (k == a->n && a->n == SRVPOL_UDP_ASKED_MAX) {
        k = 0;
        for (size_t i = 1; i < a->n; i++)
            if (a->v[i].at < a->v[k].at)
                k = i;
    } else if (k == a->n) {
        a->n++;
    }
    a->v[k].server = server;
    a->v[k].at = now;
}

void
srvpol_udp_forget(srvpol_udp_asked_t *a, const void *server)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].server == server)
            a->v[i].server = NULL;
}

uint32_t
srvpol_udp_crypt_key(bool support, uint32_t udp_flags, uint16_t obfu_udp_port, uint32_t key,
                     uint32_t key_ip, uint32_t public_ip)
{
    if (!support || !(udp_flags & ED2K_SRV_UDPFLG_UDPOBFUSCATION) || obfu_udp_port == 0 ||
        key_ip == 0 || key_ip != public_ip)
        return 0;
    return key;
}

srvpol_obfs_t
srvpol_obfs_choose(const srvpol_obfs_in_t *in)
{
    bool offered = in->obfu_tcp_port != 0 &&
                   ((in->tcp_flags & ED2K_SRV_TCPFLG_TCPOBFUSCATION) != 0 ||
                    (in->udp_flags & ED2K_SRV_UDPFLG_TCPOBFUSCATION) != 0);
    bool wanted = in->support && (in->request || in->require);
    if (in->require)
        return offered && in->support ? SRVPOL_OBFS_USE : SRVPOL_OBFS_REFUSE;
    if (offered && wanted && !in->plain_fallback)
        return SRVPOL_OBFS_USE;
    return SRVPOL_OBFS_PLAIN;
}
