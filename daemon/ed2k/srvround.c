/* srvround.c: the automatic mode's rounds over the server list: the next
 * server to try, a new round when all were tried, the pause after a round
 * of failures. server.c connects; this only decides. */
#include "config.h"

#include "daemon/ed2k/srvround.h"

sl_server_t *
srvround_next(srvround_t *r, sl_server_t *const *v, size_t n, time_t now, time_t *wait)
{
    if (wait != NULL)
        *wait = 0;
    sl_server_t *e = sl_pick_among(v, n, r->tried, r->n_tried, now, NULL);
    if (e == NULL) {
        r->n_tried = 0; /* every one was tried, or waits: a new round */
        e = sl_pick_among(v, n, r->tried, 0, now, wait);
    }
    if (e != NULL && r->n_tried < SRVROUND_MAX_TRIED)
        r->tried[r->n_tried++] = e;
    return e;
}

void
srvround_restart(srvround_t *r, const sl_server_t *last)
{
    r->n_tried = 0;
    if (last != NULL)
        r->tried[r->n_tried++] = last;
}

long
srvround_failed(srvround_t *r, size_t n, long min, long max, time_t now, uint32_t rnd, bool *grew)
{
    if (grew != NULL)
        *grew = false;
    if (n <= 1 || (r->n_tried < n && r->n_tried < SRVROUND_MAX_TRIED))
        return 0;
    long pause = srvpol_fail(&r->pause, min, max, now, rnd, grew);
    r->n_tried = 0;
    return pause;
}

void
srvround_good(srvround_t *r)
{
    srvpol_reset(&r->pause);
}

void
srvround_forget(srvround_t *r, const sl_server_t *e)
{
    for (size_t i = 0; i < r->n_tried; i++)
        if (r->tried[i] == e)
            r->tried[i] = NULL;
}
