/* prefs.c: app/setPreferences' JSON turned into daemon arguments
 * (prefs.h), with qBittorrent's QVariant conversions: a number, a boolean
 * or a numeric string is a number; a boolean is true unless false, 0, "",
 * "0" or "false". */
#include "config.h"

#include "qbit/prefs.h"
#include "util/sched.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREFS_MAX_KIB 10000000LL /* the daemon's limit on a speed */
#define PREFS_MAX_RATIO 9998.0   /* dlattr.h's DLA_RATIO_MAX */
#define PREFS_MAX_MINUTES 525600 /* dlattr.h's DLA_SEEDING_MAX */

static double
to_real(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_int:
    case json_type_double:
    case json_type_boolean:
        return json_object_get_double(v);
    case json_type_string: {
        char *end;
        const char *s = json_object_get_string(v);
        double x = strtod(s, &end);
        return end != s && *end == '\0' && isfinite(x) ? x : 0;
    }
    default:
        return 0;
    }
}

static int64_t
to_int(json_object *v)
{
    double x = to_real(v);
    return x >= (double)INT32_MAX ? INT32_MAX : x <= (double)INT32_MIN ? INT32_MIN : (int64_t)x;
}

static bool
to_bool(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_boolean:
        return json_object_get_boolean(v);
    case json_type_int:
    case json_type_double:
        return json_object_get_double(v) != 0;
    case json_type_string: {
        const char *s = json_object_get_string(v);
        return *s != '\0' && strcmp(s, "0") != 0 && strcasecmp(s, "false") != 0;
    }
    default:
        return false;
    }
}

/* speed: the KiB/s for a qBittorrent bytes/s value. */
static int64_t
speed(json_object *v)
{
    int64_t b = to_int(v);
    if (b <= 0)
        return 0;
    int64_t k = (b + 1023) / 1024;
    return k > PREFS_MAX_KIB ? PREFS_MAX_KIB : k;
}

/* put: o[key] = n, o created when NULL. */
static void
put(json_object **o, const char *key, json_object *n)
{
    if (*o == NULL)
        *o = json_object_new_object();
    json_object_object_add(*o, key, n);
}

static void
speeds(json_object *m, qbit_prefs_t *out)
{
    static const struct {
        const char *qbit, *daemon;
        bool alt;
    } map[] = {
        { "dl_limit", "max_download", false },
        { "up_limit", "max_upload", false },
        { "alt_dl_limit", "alt_max_download", true },
        { "alt_up_limit", "alt_max_upload", true },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        json_object *v = NULL;
        if (json_object_object_get_ex(m, map[i].qbit, &v))
            put(map[i].alt ? &out->alt_limits : &out->limits, map[i].daemon,
                json_object_new_int64(speed(v)));
    }
}

static void
share(json_object *m, qbit_prefs_t *out)
{
    json_object *v = NULL, *x = NULL;
    if (json_object_object_get_ex(m, "max_ratio_enabled", &v)) {
        double r = -1;
        if (to_bool(v)) /* an absent max_ratio is 0, as qBittorrent reads it */
            r = json_object_object_get_ex(m, "max_ratio", &x) ? to_real(x) : 0;
        r = r < 0 ? -1 : r > PREFS_MAX_RATIO ? PREFS_MAX_RATIO : r;
        put(&out->share, "max_ratio", json_object_new_double(r));
    }
    if (json_object_object_get_ex(m, "max_seeding_time_enabled", &v)) {
        int64_t t = -1;
        if (to_bool(v))
            t = json_object_object_get_ex(m, "max_seeding_time", &x) ? to_int(x) : 0;
        t = t < 0 ? -1 : t > PREFS_MAX_MINUTES ? PREFS_MAX_MINUTES : t;
        put(&out->share, "max_seeding_time", json_object_new_int64(t));
    }
    if (json_object_object_get_ex(m, "max_ratio_act", &v)) {
        int64_t a = to_int(v);
        put(&out->share, "max_ratio_act", json_object_new_int64(a >= 1 && a <= 3 ? a : 0));
    }
}

/* bounded: v (<= 0: unlimited, i.e. hi) brought into lo..hi. */
static int64_t
bounded(json_object *v, int64_t lo, int64_t hi)
{
    int64_t x = to_int(v);
    return x <= 0 ? hi : x < lo ? lo : x > hi ? hi : x;
}

static void
connections(json_object *m, qbit_prefs_t *out)
{
    json_object *v = NULL;
    if (json_object_object_get_ex(m, "max_connec", &v))
        put(&out->settings, "max_connections", json_object_new_int64(bounded(v, 10, 10000)));
    if (json_object_object_get_ex(m, "max_uploads", &v))
        put(&out->settings, "upload_slots", json_object_new_int64(bounded(v, 1, 100)));
    if (json_object_object_get_ex(m, "listen_port", &v)) {
        int64_t port = to_int(v);
        if (port >= 1 && port <= 65535)
            put(&out->settings, "tcp_port", json_object_new_int64(port));
    }
}

static void
schedule(json_object *m, qbit_prefs_t *out)
{
    static const char *const keys[] = { "scheduler_enabled", "schedule_from_hour",
                                        "schedule_from_min", "schedule_to_hour",
                                        "schedule_to_min",   "scheduler_days" };
    int *f[] = { &out->sched.enabled, &out->sched.from_hour, &out->sched.from_min,
                 &out->sched.to_hour, &out->sched.to_min,    &out->sched.days };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_object *v = NULL;
        *f[i] = -1;
        if (!json_object_object_get_ex(m, keys[i], &v))
            continue;
        if (i == 0) {
            *f[i] = to_bool(v);
            continue;
        }
        int64_t x = to_int(v);
        int64_t hi = i == 5 ? 9 : i % 2 == 1 ? 23 : 59;
        *f[i] = i == 5 && (x < 0 || x > 9) ? 0 : (int)(x < 0 ? 0 : x > hi ? hi : x);
    }
}

json_object *
qbit_prefs_schedule(const qbit_prefs_t *p, const char *current, bool enabled)
{
    const int *f = &p->sched.enabled;
    bool any = false;
    for (size_t i = 0; i < 6; i++)
        any = any || f[i] >= 0;
    if (!any)
        return NULL;
    json_object *o = json_object_new_object();
    bool on = p->sched.enabled >= 0 ? p->sched.enabled != 0 : enabled;
    json_object_object_add(o, "scheduler_enabled", json_object_new_boolean(on));
    sched_t s;
    if (sched_parse(current, &s, NULL) != 0 || s.n == 0) { /* qBittorrent's default */
        s.rule[0] = (sched_rule_t){ .from = 8 * 60, .to = 20 * 60, .days = SCHED_EVERY };
        s.n = s.n > 0 ? s.n : 1;
    }
    sched_rule_t *r = &s.rule[0];
    int fh = r->from / 60, fm = r->from % 60, th = r->to / 60, tm = r->to % 60;
    fh = p->sched.from_hour >= 0 ? p->sched.from_hour : fh;
    fm = p->sched.from_min >= 0 ? p->sched.from_min : fm;
    th = p->sched.to_hour >= 0 ? p->sched.to_hour : th;
    tm = p->sched.to_min >= 0 ? p->sched.to_min : tm;
    r->from = (uint16_t)(fh * 60 + fm);
    r->to = (uint16_t)(th * 60 + tm);
    if (p->sched.days >= 0)
        r->days = sched_days_from_qbit(p->sched.days);
    char *text = xstrdup("");
    for (size_t i = 0; i < s.n; i++) {
        char *rule = sched_format_rule(&s.rule[i]);
        char *t = xasprintf("%s%s%s", text, i > 0 ? "; " : "", rule);
        free(rule);
        free(text);
        text = t;
    }
    json_object_object_add(o, "schedule", json_object_new_string(text));
    free(text);
    return o;
}

int
qbit_prefs_parse(const char *json, qbit_prefs_t *out, mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    memset(&out->sched, 0xff, sizeof out->sched); /* every key absent: -1 */
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    size_t len = strlen(json);
    json_object *m = json_tokener_parse_ex(tok, json, (int)len);
    bool whole = json_tokener_get_error(tok) == json_tokener_success &&
                 json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    if (m == NULL || !whole || !json_object_is_type(m, json_type_object)) {
        json_object_put(m);
        mt_error_set(err, MT_ERR_INVALID, "json is not a JSON object");
        return -1;
    }
    speeds(m, out);
    share(m, out);
    connections(m, out);
    schedule(m, out);
    json_object_put(m);
    return 0;
}

void
qbit_prefs_clear(qbit_prefs_t *p)
{
    json_object_put(p->limits);
    json_object_put(p->alt_limits);
    json_object_put(p->share);
    json_object_put(p->settings);
    memset(p, 0, sizeof *p);
}
