/* cmd_metrics.h: the `metrics` control command: the daemon's counters and
 * gauges in one JSON object, read by the Prometheus endpoint
 * (cgi-bin/prom, docs/metrics.md) at each scrape. */
#ifndef MT_DAEMON_CTL_CMD_METRICS_H
#define MT_DAEMON_CTL_CMD_METRICS_H

#include <json-c/json.h>

#include "util/error.h"

/* cmd_metrics: no arguments; ctx is the muleteerd_t. Walks the downloads
 * and their sources once: cheap next to a scrape interval. */
int cmd_metrics(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
