/* speed.c: the global speed limits of transfer/: the limits in force
 * (downloadLimit, uploadLimit, in bytes/s), setting them (the pair the
 * alternative mode has in force, as qBittorrent does) and the alternative
 * mode (speedLimitsMode, toggleSpeedLimitsMode, setSpeedLimitsMode), all
 * through the daemon's `limits` command. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbit/qbit.h"

/* The daemon's highest limit in KiB/s (docs/control-protocol.md). */
#define SPEED_MAX_KIB 10000000LL

/* limits: the daemon's `limits` answer after setting args (NULL: none;
 * not consumed); NULL after answering. */
static json_object *
limits(qbit_t *q, http_response_t *resp, json_object *args)
{
    json_object *res = NULL;
    mt_error_t *err = NULL;
    int rc = cgictl_call(q->env, resp, "limits", args, &res, &err);
    if (rc == CGICTL_REFUSED) {
        int status = cgictl_refusal_status(err);
        qbit_text(resp, status, status == 400 ? "Bad Request" : "Internal Server Error");
    }
    mt_error_free(err);
    return rc == CGICTL_OK ? res : NULL;
}

static int64_t
member_int(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static bool
alt_mode(json_object *o)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, "alt_mode", &v) && json_object_get_boolean(v);
}

/* in_force: answers the limit in force of key ("download_limit" or
 * "upload_limit") in bytes/s, 0 for none. */
static int
in_force(qbit_t *q, http_response_t *resp, const char *key)
{
    json_object *o = limits(q, resp, NULL);
    if (o == NULL)
        return 0;
    char text[32];
    snprintf(text, sizeof text, "%" PRId64, member_int(o, key) * 1024);
    json_object_put(o);
    return qbit_text(resp, 200, text);
}

int
qbit_transfer_download_limit(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    return in_force(ctx, resp, "download_limit");
}

int
qbit_transfer_upload_limit(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    return in_force(ctx, resp, "upload_limit");
}

/* set_limit: the required `limit` (bytes/s; 0, below or not a number:
 * unlimited) becomes the normal or the alternative limit (key or alt_key),
 * whichever pair is in force. */
static int
set_limit(qbit_t *q, http_request_t *req, http_response_t *resp, const char *key,
          const char *alt_key)
{
    const char *v = qbit_param(req, resp, "limit");
    if (v == NULL)
        return 0;
    long long bytes = 0;
    if (qbit_int_parse(v, &bytes) != 0)
        bytes = 0;
    long long kib = qbit_limit_kib(bytes);
    if (kib > SPEED_MAX_KIB)
        kib = SPEED_MAX_KIB;
    json_object *now = limits(q, resp, NULL);
    if (now == NULL)
        return 0;
    json_object *args = json_object_new_object();
    json_object_object_add(args, alt_mode(now) ? alt_key : key, json_object_new_int64(kib));
    json_object_put(now);
    json_object *res = limits(q, resp, args);
    json_object_put(args);
    if (res == NULL)
        return 0;
    json_object_put(res);
    return qbit_text(resp, 200, NULL);
}

int
qbit_transfer_set_download_limit(http_request_t *req, http_response_t *resp, void *ctx)
{
    return set_limit(ctx, req, resp, "max_download", "alt_max_download");
}

int
qbit_transfer_set_upload_limit(http_request_t *req, http_response_t *resp, void *ctx)
{
    return set_limit(ctx, req, resp, "max_upload", "alt_max_upload");
}

/* speedLimitsMode: "1" while the alternative limits are in force, else
 * "0". */
int
qbit_transfer_speed_limits_mode(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    json_object *o = limits(ctx, resp, NULL);
    if (o == NULL)
        return 0;
    bool on = alt_mode(o);
    json_object_put(o);
    return qbit_text(resp, 200, on ? "1" : "0");
}

static int
set_mode(qbit_t *q, http_response_t *resp, bool on)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "alt_mode", json_object_new_boolean(on));
    json_object *res = limits(q, resp, args);
    json_object_put(args);
    if (res == NULL)
        return 0;
    json_object_put(res);
    return qbit_text(resp, 200, NULL);
}

int
qbit_transfer_toggle_speed_limits_mode(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    json_object *o = limits(ctx, resp, NULL);
    if (o == NULL)
        return 0;
    bool on = alt_mode(o);
    json_object_put(o);
    return set_mode(ctx, resp, !on);
}

/* setSpeedLimitsMode: the required `mode`, an integer: any but 0 is on;
 * anything else is qBittorrent's 400 "'mode': invalid argument". */
int
qbit_transfer_set_speed_limits_mode(http_request_t *req, http_response_t *resp, void *ctx)
{
    const char *v = qbit_param(req, resp, "mode");
    if (v == NULL)
        return 0;
    long long mode = 0;
    if (qbit_int_parse(v, &mode) != 0 || mode < INT32_MIN || mode > INT32_MAX)
        return qbit_text(resp, 400, "'mode': invalid argument");
    return set_mode(ctx, resp, mode != 0);
}
