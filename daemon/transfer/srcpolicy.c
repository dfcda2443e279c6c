/* srcpolicy.c: a download source's decisions (srcpolicy.h): the verdicts'
 * names, and pure arithmetic on its schedule, for source.c to act on. */
#include "config.h"

#include "daemon/transfer/srcpolicy.h"

/* ---------------------------------------------------------------- verdicts */

static const struct {
    const char *key, *reason;
} src_verdicts[DL_SRC_N_VERDICTS] = {
    [DL_SRC_ADDED] = { "added", "added" },
    [DL_SRC_KNOWN] = { "known", "already a source" },
    [DL_SRC_INVALID] = { "invalid", "address or port 0" },
    [DL_SRC_LOWID] = { "lowid", "a LowID, and we are not a HighID on its server" },
    [DL_SRC_LAN] = { "lan", "a LAN or reserved address (filter_lan = yes)" },
    [DL_SRC_SELF] = { "self", "our own address" },
    [DL_SRC_BANNED] = { "banned", "its address is under a ban" },
    [DL_SRC_LIMIT] = { "limit", "max_sources_per_file reached" },
    [DL_SRC_UNRESOLVED] = { "unresolved", "the host name did not resolve" },
    [DL_SRC_FILTERED] = { "filtered", "its address is in the IP filter (ipfilter)" },
};

const char *
dl_src_verdict_key(dl_src_verdict_t v)
{
    return v < DL_SRC_N_VERDICTS ? src_verdicts[v].key : "?";
}

const char *
dl_src_verdict_reason(dl_src_verdict_t v)
{
    return v < DL_SRC_N_VERDICTS ? src_verdicts[v].reason : "?";
}

bool
dl_src_is_drop(dl_src_verdict_t v)
{
    return v != DL_SRC_ADDED && v != DL_SRC_KNOWN;
}

/* ------------------------------------------------------------------ timing */

bool
srcpol_may_ask(const srcpol_t *p, bool queued, time_t now)
{
    if (now < p->next_ask)
        return false;
    return !queued || now - p->upload_req_at >= SRCPOL_MIN_UPLOAD_REQ_GAP;
}

void
srcpol_asked(srcpol_t *p, time_t now)
{
    p->asked_at = now;
}

void
srcpol_upload_requested(srcpol_t *p, time_t now)
{
    p->upload_req_at = now;
    p->asked_at = now;
}

bool
srcpol_answer_late(const srcpol_t *p, time_t now)
{
    return now - p->asked_at > SRCPOL_ASK_TIMEOUT;
}

bool
srcpol_sx_due(const srcpol_t *p, time_t now)
{
    return p->sx_asked_at == 0 || now - p->sx_asked_at >= SRCPOL_SX2_INTERVAL;
}

void
srcpol_sx_asked(srcpol_t *p, time_t now)
{
    p->sx_asked_at = now;
}

void
srcpol_queued(srcpol_t *p, time_t now)
{
    p->next_ask = now + SRCPOL_REASK_INTERVAL;
}

void
srcpol_nothing_needed(srcpol_t *p, bool gave_up_slot, time_t now)
{
    p->next_ask = now + (gave_up_slot ? SRCPOL_NONEEDED_RETRY / 4 : SRCPOL_NONEEDED_RETRY);
}

void
srcpol_inactive(srcpol_t *p, time_t now)
{
    p->next_ask = now + SRCPOL_INACTIVE_RETRY;
}

void
srcpol_connected(srcpol_t *p)
{
    p->failures = 0;
}

void
srcpol_connect_refused(srcpol_t *p, time_t now)
{
    p->next_ask = now + SRCPOL_REFUSED_RETRY;
}

void
srcpol_reset(srcpol_t *p)
{
    p->next_ask = 0;
    p->failures = 0;
}

void
srcpol_closed(srcpol_t *p, srcpol_closed_t how, bool data_flowed, time_t now)
{
    switch (how) {
    case SRCPOL_CLOSED_CONNECTING:
        p->failures++;
        p->next_ask = now + (time_t)(30u << (p->failures < 6 ? p->failures : 6));
        return;
    case SRCPOL_CLOSED_IN_SLOT:
        if (data_flowed && p->quick_retries < SRCPOL_QUICK_RETRIES) {
            p->quick_retries++;
            p->next_ask = now + SRCPOL_QUICK_RETRY;
            return;
        }
        p->failures++;
        p->next_ask = p->upload_req_at + SRCPOL_MIN_UPLOAD_REQ_GAP;
        if (p->next_ask < now + 30)
            p->next_ask = now + 30;
        return;
    case SRCPOL_CLOSED_OTHER:
        break;
    }
    p->failures++;
    p->next_ask = now + 60;
}

bool
srcpol_gives_up(const srcpol_t *p)
{
    return p->failures >= SRCPOL_MAX_FAILURES;
}

void
srcpol_slot_started(srcpol_t *p, time_t now)
{
    p->last_data = now;
}

void
srcpol_data(srcpol_t *p, time_t now)
{
    p->slot_stalls = 0;
    p->last_data = now;
}

srcpol_slot_t
srcpol_slot_check(srcpol_t *p, size_t in_flight, size_t max_in_flight, time_t now)
{
    bool stalled = in_flight > 0 && now - p->last_data > SRCPOL_SLOT_STALL_TIMEOUT;
    if (stalled && p->slot_stalls < SRCPOL_MAX_SLOT_STALLS) {
        p->slot_stalls++;
        return SRCPOL_SLOT_RENEW;
    }
    if (stalled) {
        p->slot_stalls = 0;
        return SRCPOL_SLOT_STALLED;
    }
    if (now - p->last_data > SRCPOL_DATA_TIMEOUT)
        return SRCPOL_SLOT_SILENT;
    return in_flight < max_in_flight ? SRCPOL_SLOT_MORE : SRCPOL_SLOT_WAIT;
}
