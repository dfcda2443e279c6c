/* sharelimit.c: the share-limit decision (sharelimit.h), after qBittorrent
 * 5.0's processTorrentShareLimits and TorrentImpl::realRatio. */
#include "config.h"

#include "daemon/transfer/sharelimit.h"
#include "daemon/transfer/dlattr.h"
#include "util/conf.h"

#include <stddef.h>

void
shl_global_from_conf(const conf_t *c, shl_global_t *out)
{
    out->max_ratio = conf_get_real(c, "max_ratio");
    out->max_seeding_time = (int)conf_get_int(c, "max_seeding_time");
    out->action = (int)conf_get_int(c, "max_ratio_act");
}

double
shl_ratio(uint64_t uploaded, uint64_t downloaded, uint64_t size)
{
    /* qBittorrent's special case for a seeder that lost its statistics */
    uint64_t base = (double)downloaded < (double)size * 0.01 ? size : downloaded;
    if (base == 0)
        return uploaded == 0 ? 0 : SHL_MAX_RATIO;
    double r = (double)uploaded / (double)base;
    return r > SHL_MAX_RATIO ? SHL_MAX_RATIO : r;
}

shl_outcome_t
shl_decide(const shl_global_t *g, const shl_input_t *in, int64_t now, const char **why)
{
    if (why != NULL)
        *why = NULL;
    double ratio_limit = in->ratio_limit == DLA_LIMIT_GLOBAL ? g->max_ratio : in->ratio_limit;
    int time_limit = in->seeding_time_limit == DLA_LIMIT_GLOBAL ? g->max_seeding_time
                                                                : in->seeding_time_limit;
    const char *reached = NULL;
    double ratio = shl_ratio(in->uploaded, in->downloaded, in->size);
    if (ratio_limit >= 0 && ratio <= SHL_MAX_RATIO && ratio >= ratio_limit) {
        reached = "ratio";
    } else if (time_limit >= 0 && in->completed_at > 0 && now >= in->completed_at) {
        int64_t minutes = (now - in->completed_at) / 60;
        if (minutes <= SHL_MAX_SEEDING && minutes >= time_limit)
            reached = "seeding time";
    }
    if (reached == NULL)
        return SHL_NONE;
    if (why != NULL)
        *why = reached;
    switch (g->action) {
    case SHL_ACT_REMOVE:
        return SHL_REMOVE;
    case SHL_ACT_REMOVE_FILES:
        return SHL_REMOVE_FILES;
    default: /* stop, and super seeding, which eD2K does not have */
        return in->stopped ? SHL_NONE : SHL_STOP;
    }
}

const char *
shl_outcome_name(shl_outcome_t o)
{
    switch (o) {
    case SHL_STOP:
        return "stop";
    case SHL_REMOVE:
        return "remove";
    case SHL_REMOVE_FILES:
        return "remove with its file";
    default:
        return "none";
    }
}
