/* app.c: the app/ scope of /api/v2: version, webapiVersion, buildInfo,
 * preferences, setPreferences and defaultSavePath, answered as
 * qBittorrent answers them (text/plain without a newline, or JSON). */
#include "config.h"

#include <json-c/json.h>
#include <libpq-fe.h>
#include <event2/event.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "ctl/client.h"
#include "qbit/prefs.h"
#include "qbit/qbit.h"
#include "util/log.h"
#include "util/sched.h"

int
qbit_app_version(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    return qbit_text(resp, 200, QBIT_APP_VERSION);
}

int
qbit_app_webapi_version(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    return qbit_text(resp, 200, QBIT_WEBAPI_VERSION);
}

/* qBittorrent reports the libraries it was built with; Muleteer reports
 * its own under the same keys where one exists (zlib, bitness), empty
 * strings for the torrent-only ones, and adds its own. */
int
qbit_app_build_info(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    char libpq[32];
    int v = PQlibVersion();
    snprintf(libpq, sizeof libpq, "%d.%d", v / 10000, v % 10000);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "bitness", json_object_new_int((int)(sizeof(void *) * 8)));
    json_object_object_add(o, "boost", json_object_new_string(""));
    json_object_object_add(o, "libtorrent", json_object_new_string(""));
    json_object_object_add(o, "openssl", json_object_new_string(""));
    json_object_object_add(o, "qt", json_object_new_string(""));
    json_object_object_add(o, "zlib", json_object_new_string(zlibVersion()));
    json_object_object_add(o, "muleteer", json_object_new_string(PACKAGE_VERSION));
    json_object_object_add(o, "json-c", json_object_new_string(json_c_version()));
    json_object_object_add(o, "libevent", json_object_new_string(event_get_version()));
    json_object_object_add(o, "libpq", json_object_new_string(libpq));
    int rc = qbit_json(resp, o);
    json_object_put(o);
    return rc;
}

static void
add_bool(json_object *o, const char *k, bool v)
{
    json_object_object_add(o, k, json_object_new_boolean(v));
}

static void
add_int(json_object *o, const char *k, int64_t v)
{
    json_object_object_add(o, k, json_object_new_int64(v));
}

static void
add_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v));
}

/* daemon_get: the daemon's answer to cmd without arguments, or NULL when
 * it cannot be had (the configuration file's values are used then); once
 * the daemon did not answer, *down is set and it is not asked again. */
static json_object *
daemon_get(qbit_t *q, const char *cmd, bool *down)
{
    if (*down)
        return NULL;
    mt_error_t *e = NULL;
    ctl_client_t *c = cgienv_request_ctl(q->env, &e);
    json_object *res = NULL;
    if (c == NULL) {
        *down = true;
    } else if (ctl_client_call(c, cmd, NULL, &res, &e) != 0) {
        if (ctl_client_last_error(c) == 0) {
            cgienv_request_ctl_drop(q->env);
            *down = true;
        }
        res = NULL;
    }
    mt_error_free(e);
    return res;
}

/* live_int: member key of the daemon's answer o, or def. */
static int64_t
live_int(json_object *o, const char *key, int64_t def)
{
    json_object *v = NULL;
    return o != NULL && json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : def;
}

static double
live_real(json_object *o, const char *key, double def)
{
    json_object *v = NULL;
    return o != NULL && json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : def;
}

/* add_share: the global share limits as qBittorrent reports them: a
 * negative limit is disabled (and reported as -1). */
static void
add_share(json_object *o, json_object *live, const conf_t *c)
{
    double ratio = live_real(live, "max_ratio", conf_get_real(c, "max_ratio"));
    int64_t minutes = live_int(live, "max_seeding_time", conf_get_int(c, "max_seeding_time"));
    json_object_object_add(o, "max_ratio", ratio == floor(ratio)
                                               ? json_object_new_int64((int64_t)ratio)
                                               : json_object_new_double(ratio));
    json_object_object_add(o, "max_ratio_act",
                           json_object_new_int64(live_int(live, "max_ratio_act",
                                                          conf_get_int(c, "max_ratio_act"))));
    json_object_object_add(o, "max_ratio_enabled", json_object_new_boolean(ratio >= 0));
    json_object_object_add(o, "max_seeding_time", json_object_new_int64(minutes));
    json_object_object_add(o, "max_seeding_time_enabled", json_object_new_boolean(minutes >= 0));
}

/* add_schedule: qBittorrent's scheduler keys for the schedule in force
 * (the daemon's `config`, else the file's): its first rule. */
static void
add_schedule(json_object *o, json_object *live, const conf_t *c)
{
    json_object *v = NULL;
    bool on = live != NULL && json_object_object_get_ex(live, "scheduler_enabled", &v)
                  ? json_object_get_boolean(v)
                  : conf_get_bool(c, "scheduler_enabled");
    const char *text = live != NULL && json_object_object_get_ex(live, "schedule", &v)
                           ? json_object_get_string(v)
                           : conf_get_str(c, "schedule");
    sched_t s;
    sched_rule_t r = { .from = 8 * 60, .to = 20 * 60, .days = SCHED_EVERY };
    if (sched_parse(text, &s, NULL) == 0 && s.n > 0)
        r = s.rule[0];
    add_bool(o, "scheduler_enabled", on);
    add_int(o, "schedule_from_hour", r.from / 60);
    add_int(o, "schedule_from_min", r.from % 60);
    add_int(o, "schedule_to_hour", r.to / 60);
    add_int(o, "schedule_to_min", r.to % 60);
    add_int(o, "scheduler_days", sched_days_to_qbit(r.days));
}

/* The keys download clients read, with values that tell them the truth
 * about Muleteer where a setting exists, and otherwise what makes
 * Sonarr's and Radarr's completed-download handling work:
 * - the global share limits and action the daemon applies (by default a
 *   ratio of 0 with the stop action: a completed download stops being
 *   shared at once and is reported stoppedUP, so an Arr may remove it
 *   after import); the daemon's values when it answers, else the
 *   configuration file's; so are the speed limits;
 * - queueing on (the priority actions work), DHT on (magnets without
 *   trackers are accepted);
 * - save_path the default incoming directory, temp_path the temporary one
 *   (eD2K downloads always use it). */
int
qbit_app_preferences(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    const conf_t *c = cgienv_conf(q->env);
    json_object *o = json_object_new_object();
    const char *port = http_request_env(req, "SERVER_PORT");
    bool down = false;
    json_object *share = daemon_get(q, "share-config", &down);
    json_object *limits = daemon_get(q, "limits", &down);
    json_object *settings = daemon_get(q, "settings", &down);
    json_object *config = daemon_get(q, "config", &down);
    add_str(o, "add_trackers", "");
    add_bool(o, "add_trackers_enabled", false);
    add_bool(o, "anonymous_mode", false);
    add_bool(o, "auto_tmm_enabled", false);
    add_str(o, "banned_IPs", "");
    add_bool(o, "bypass_local_auth", false);
    add_bool(o, "category_changed_tmm_enabled", false);
    add_bool(o, "dht", true);
    add_int(o, "dl_limit", live_int(limits, "max_download", conf_get_int(c, "max_download")) * 1024);
    add_int(o, "encryption", 0);
    add_bool(o, "incomplete_files_ext", false);
    add_int(o, "listen_port", live_int(settings, "tcp_port", conf_get_int(c, "tcp_port")));
    add_str(o, "locale", "en");
    add_bool(o, "lsd", false);
    add_int(o, "max_active_downloads", -1);
    add_int(o, "max_active_torrents", -1);
    add_int(o, "max_active_uploads", -1);
    add_int(o, "max_connec", live_int(settings, "max_connections", conf_get_int(c, "max_connections")));
    add_int(o, "max_connec_per_torrent", conf_get_int(c, "max_sources_per_file"));
    add_bool(o, "max_inactive_seeding_time_enabled", false);
    add_int(o, "max_inactive_seeding_time", -1);
    add_share(o, share, c);
    add_int(o, "max_uploads", live_int(settings, "upload_slots", conf_get_int(c, "upload_slots")));
    add_int(o, "max_uploads_per_torrent",
            live_int(settings, "upload_slots", conf_get_int(c, "upload_slots")));
    add_bool(o, "pex", false);
    add_bool(o, "preallocate_all", false);
    add_bool(o, "queueing_enabled", true);
    add_bool(o, "random_port", false);
    add_str(o, "save_path", conf_get_str(c, "incoming_dir"));
    add_bool(o, "save_path_changed_tmm_enabled", false);
    json_object_object_add(o, "scan_dirs", json_object_new_object());
    add_schedule(o, config, c);
    add_bool(o, "start_paused_enabled", false);
    add_str(o, "temp_path", conf_get_str(c, "temp_dir"));
    add_bool(o, "temp_path_enabled", true);
    add_str(o, "torrent_content_layout", "Original");
    add_bool(o, "torrent_changed_tmm_enabled", false);
    add_str(o, "torrent_stop_condition", "None");
    add_int(o, "up_limit", live_int(limits, "max_upload", conf_get_int(c, "max_upload")) * 1024);
    add_bool(o, "upnp", false);
    add_bool(o, "use_https", false);
    add_str(o, "web_ui_address", "*");
    add_int(o, "web_ui_ban_duration", conf_get_int(c, "web_ban_duration"));
    add_bool(o, "web_ui_csrf_protection_enabled", true);
    add_int(o, "web_ui_max_auth_fail_count", conf_get_int(c, "web_max_auth_failures"));
    add_int(o, "web_ui_port", port != NULL ? atoi(port) : 0);
    add_int(o, "web_ui_session_timeout", conf_get_int(c, "web_session_timeout"));
    add_str(o, "web_ui_username", conf_get_str(c, "web_username"));
    int rc = qbit_json(resp, o);
    json_object_put(o);
    json_object_put(share);
    json_object_put(limits);
    json_object_put(settings);
    json_object_put(config);
    return rc;
}

/* has_schedule: p names one of qBittorrent's scheduler keys. */
static bool
has_schedule(const qbit_prefs_t *p)
{
    return p->sched.enabled >= 0 || p->sched.from_hour >= 0 || p->sched.from_min >= 0 ||
           p->sched.to_hour >= 0 || p->sched.to_min >= 0 || p->sched.days >= 0;
}

/* set_part: one daemon command of setPreferences; false after answering
 * (the daemon is unreachable). A refusal is logged and the rest goes on,
 * as qBittorrent applies what it can. */
static bool
set_part(qbit_t *q, http_response_t *resp, const char *cmd, json_object *args)
{
    if (args == NULL)
        return true;
    mt_error_t *err = NULL;
    int rc = cgictl_call(q->env, resp, cmd, args, NULL, &err);
    if (rc == CGICTL_REFUSED)
        log_warn("setPreferences: %s %s: %s", cmd,
                 json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN),
                 err != NULL ? err->message : "refused");
    mt_error_free(err);
    return rc != CGICTL_ANSWERED;
}

/* app/setPreferences (json=...): the keys that have a meaning here
 * (prefs.h) go to the daemon, which applies them at once; the others are
 * ignored, as qBittorrent ignores unknown keys. 200 with an empty body,
 * 400 when json is missing or not a JSON object. */
int
qbit_app_set_preferences(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    const char *json = qbit_param(req, resp, "json");
    if (json == NULL)
        return 0;
    qbit_prefs_t p;
    if (qbit_prefs_parse(json, &p, NULL) != 0)
        return qbit_text(resp, 400, "Bad Request");
    bool ok = set_part(q, resp, "limits", p.limits) && set_part(q, resp, "limits", p.alt_limits) &&
              set_part(q, resp, "share-config", p.share) &&
              set_part(q, resp, "settings", p.settings);
    json_object *sched = NULL;
    if (ok && has_schedule(&p)) {
        bool down = false;
        json_object *config = daemon_get(q, "config", &down);
        json_object *v = NULL;
        const conf_t *c = cgienv_conf(q->env);
        bool on = config != NULL && json_object_object_get_ex(config, "scheduler_enabled", &v)
                      ? json_object_get_boolean(v)
                      : conf_get_bool(c, "scheduler_enabled");
        const char *text = config != NULL && json_object_object_get_ex(config, "schedule", &v)
                               ? json_object_get_string(v)
                               : conf_get_str(c, "schedule");
        sched = qbit_prefs_schedule(&p, text, on);
        ok = set_part(q, resp, "config-set", sched);
        json_object_put(config);
    }
    json_object_put(sched);
    qbit_prefs_clear(&p);
    return ok ? qbit_text(resp, 200, "") : 0;
}

int
qbit_app_default_save_path(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    qbit_t *q = ctx;
    return qbit_text(resp, 200, conf_get_str(cgienv_conf(q->env), "incoming_dir"));
}
