/* settings.c: GET and PATCH /api/config: the run-time settings under
 * their web API names (util/confrt.h's keys), the categories and their
 * paths, and what cannot change at run time, never a secret. Values come
 * from the daemon (what is in force); changes go to it (config-set,
 * category-set), which applies them at once and writes the
 * configuration file; a PATCH changes everything it names or nothing. */
#include "config.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfgapi.h"
#include "util/confrt.h"
#include "util/log.h"
#include "util/xalloc.h"

/* The web API's name of each run-time key. Keep in step with
 * docs/web-api.md. */
static const struct {
    const char *name; /* in the JSON */
    const char *key;  /* in muleteer.conf (confrt.h) */
} names[] = {
    { "maxUpload", "max_upload" },
    { "maxDownload", "max_download" },
    { "altMaxUpload", "alt_max_upload" },
    { "altMaxDownload", "alt_max_download" },
    { "uploadSlots", "upload_slots" },
    { "maxConnections", "max_connections" },
    { "maxConnectionsPerIp", "max_connections_per_ip" },
    { "sharedDirs", "shared_dirs" },
    { "serverAutoconnect", "server_autoconnect" },
    { "historyRetentionDays", "retention_history_days" },
    { "trackUsername", "track_username" },
    { "torznabName", "torznab_name" },
    { "torznabCacheTime", "torznab_cache_time" },
    { "hookAdded", "hook_added" },
    { "hookCompleted", "hook_completed" },
    { "hookFailed", "hook_failed" },
    { "hookDiskFull", "hook_disk_full" },
    { "hookTimeout", "hook_timeout" },
    { "webhookUrls", "webhook_urls" },
    { "ipfilter", "ipfilter" },
    { "ipfilterLevel", "ipfilter_level" },
    { "ipfilterRefreshHours", "ipfilter_refresh_hours" },
    { "schedulerEnabled", "scheduler_enabled" },
    { "schedule", "schedule" },
    { "portForwarding", "port_forwarding" },
    { "portForwardingLease", "port_forwarding_lease" },
};
#define N_NAMES (sizeof names / sizeof names[0])

static const char *
key_of(const char *name)
{
    for (size_t i = 0; i < N_NAMES; i++)
        if (strcmp(names[i].name, name) == 0)
            return names[i].key;
    return NULL;
}

static const char *
name_of(const char *key)
{
    for (size_t i = 0; i < N_NAMES; i++)
        if (strcmp(names[i].key, key) == 0)
            return names[i].name;
    return NULL;
}

/* dirs_array: a ':'-separated list as an array of its non-empty entries. */
static json_object *
dirs_array(const char *dirs)
{
    json_object *a = json_object_new_array();
    for (const char *p = dirs; *p != '\0';) {
        size_t n = strcspn(p, ":");
        if (n > 0)
            json_object_array_add(a, json_object_new_string_len(p, (int)n));
        p += n + (p[n] == ':');
    }
    return a;
}

/* database_json: the connection string's host, port, database and user;
 * never its password. */
static json_object *
database_json(const char *conninfo)
{
    json_object *o = json_object_new_object();
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    PQfreemem(err);
    static const char *const shown[] = { "host", "port", "dbname", "user" };
    for (PQconninfoOption *opt = opts; opt != NULL && opt->keyword != NULL; opt++)
        for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
            if (strcmp(opt->keyword, shown[i]) == 0 && opt->val != NULL)
                json_object_object_add(o, shown[i], json_object_new_string(opt->val));
    PQconninfoFree(opts);
    return o;
}

/* read_only: what the configuration file holds that needs a restart to
 * change, without the secrets (web_password, api_key, the database's
 * password). */
static json_object *
read_only(const conf_t *conf)
{
    json_object *o = json_object_new_object();
    static const char *const strs[][2] = {
        { "nodeName", "node_name" },     { "nickname", "nickname" },
        { "tempDir", "temp_dir" },       { "incomingDir", "incoming_dir" },
        { "webUsername", "web_username" }, { "scheduleTimezone", "schedule_timezone" },
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        json_object_object_add(o, strs[i][0], json_object_new_string(conf_get_str(conf, strs[i][1])));
    json_object_object_add(o, "downloadRoots", dirs_array(conf_get_str(conf, "download_roots")));
    json_object_object_add(o, "tcpPort", json_object_new_int64(conf_get_int(conf, "tcp_port")));
    json_object_object_add(o, "udpPort", json_object_new_int64(conf_get_int(conf, "udp_port")));
    json_object_object_add(o, "database", database_json(conf_get_str(conf, "database")));
    return o;
}

/* settings_json: the daemon's `config` result under the web API's names. */
static json_object *
settings_json(json_object *daemon)
{
    json_object *o = json_object_new_object();
    json_object_object_foreach(daemon, key, v)
    {
        const char *name = name_of(key);
        if (name == NULL)
            continue; /* saved, save_error, or a key this program does not know */
        if (strcmp(key, "shared_dirs") == 0)
            json_object_object_add(o, name, dirs_array(json_object_get_string(v)));
        else
            json_object_object_add(o, name, json_object_get(v));
    }
    return o;
}

/* categories_json: the daemon's categories as {name, path, priority,
 * colour, comment}. */
static json_object *
categories_json(json_object *daemon)
{
    json_object *out = json_object_new_array();
    json_object *list = NULL;
    if (!json_object_object_get_ex(daemon, "categories", &list))
        return out;
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(list, i), *v = NULL;
        json_object *e = json_object_new_object();
        static const char *const fields[][2] = { { "name", "name" },
                                                 { "path", "incoming_path" },
                                                 { "priority", "priority" },
                                                 { "colour", "colour" },
                                                 { "comment", "comment" } };
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            if (json_object_object_get_ex(c, fields[f][1], &v))
                json_object_object_add(e, fields[f][0], json_object_get(v));
        json_object_array_add(out, e);
    }
    return out;
}

/* answer_config: the whole answer, from the daemon's `config` result
 * (cfg, not consumed). */
static int
answer_config(cfgapi_t *c, http_response_t *resp, json_object *cfg)
{
    json_object *cats = NULL;
    if (cgictl_call(c->env, resp, "categories", NULL, &cats, NULL) != CGICTL_OK)
        return 0; /* answered (503), or refused: never for this command */
    json_object *o = settings_json(cfg);
    json_object_object_add(o, "categories", categories_json(cats));
    json_object_object_add(o, "readOnly", read_only(cgienv_conf(c->env)));
    json_object *saved = NULL;
    if (json_object_object_get_ex(cfg, "saved", &saved))
        json_object_object_add(o, "saved", json_object_get(saved));
    int rc = cgijson_ok(resp, o);
    json_object_put(o);
    json_object_put(cats);
    return rc;
}

int
cfgapi_config_get(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    cfgapi_t *c = ctx;
    json_object *cfg = NULL;
    int rc = cgictl_call(c->env, resp, "config", NULL, &cfg, NULL);
    if (rc != CGICTL_OK) {
        if (rc == CGICTL_REFUSED)
            cgijson_error(resp, 500, "internal", "The daemon refused to show its configuration");
        return 0;
    }
    rc = answer_config(c, resp, cfg);
    json_object_put(cfg);
    return rc;
}

/* ------------------------------------------------------------- PATCH */

/* bad_value: 400 naming the web API's name, with the check's message
 * without its leading "key: ". */
static int
bad_value(http_response_t *resp, const char *name, const char *key, const char *message)
{
    size_t kl = strlen(key);
    if (strncmp(message, key, kl) == 0 && message[kl] == ':')
        message += kl + 1 + (message[kl + 1] == ' ');
    return cgijson_bad_param(resp, name, message);
}

/* dirs_text: an array of absolute directories as the file's ':'-separated
 * list; NULL when it is not an array of strings without ':'. */
static char *
dirs_text(json_object *v)
{
    if (!json_object_is_type(v, json_type_array))
        return NULL;
    size_t n = json_object_array_length(v), len = 1;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string) ||
            strchr(json_object_get_string(e), ':') != NULL || json_object_get_string_len(e) == 0)
            return NULL;
        len += (size_t)json_object_get_string_len(e) + 1;
    }
    char *out = xcalloc(len, 1);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(out, ":");
        strcat(out, json_object_get_string(json_object_array_get_idx(v, i)));
    }
    return out;
}

/* setting_arg: the daemon's argument for the web API's setting name,
 * checked as the daemon checks it (confrt_check); NULL after answering
 * 400 naming it. */
static json_object *
setting_arg(http_response_t *resp, const char *name, json_object *v)
{
    const char *key = key_of(name);
    const confrt_key_t *k = key != NULL ? confrt_find(key) : NULL;
    if (k == NULL) {
        cgijson_bad_param(resp, name, "unknown setting (or one that needs a restart)");
        return NULL;
    }
    char *text = NULL;
    json_object *arg = NULL;
    const char *want = NULL;
    if (k->kind == CONFRT_INT && json_object_is_type(v, json_type_int)) {
        text = xasprintf("%lld", (long long)json_object_get_int64(v));
        arg = json_object_new_int64(json_object_get_int64(v));
    } else if (k->kind == CONFRT_BOOL && json_object_is_type(v, json_type_boolean)) {
        text = xstrdup(json_object_get_boolean(v) ? "yes" : "no");
        arg = json_object_new_boolean(json_object_get_boolean(v));
    } else if ((k->kind == CONFRT_NAME || k->kind == CONFRT_CMD || k->kind == CONFRT_URLS ||
                k->kind == CONFRT_SOURCE || k->kind == CONFRT_SCHED) &&
               json_object_is_type(v, json_type_string)) {
        text = xstrdup(json_object_get_string(v));
        arg = json_object_new_string(text);
    } else if (k->kind == CONFRT_PORTFWD && json_object_is_type(v, json_type_string)) {
        text = xstrdup(json_object_get_string(v));
        arg = json_object_new_string(text);
    } else if (k->kind == CONFRT_DIRS && (text = dirs_text(v)) != NULL) {
        arg = json_object_new_string(text);
    } else {
        want = k->kind == CONFRT_INT    ? "expected an integer"
               : k->kind == CONFRT_BOOL ? "expected true or false"
               : k->kind != CONFRT_DIRS ? "expected a string"
                                        : "expected an array of directory paths (no ':')";
    }
    mt_error_t *err = NULL;
    if (want == NULL && confrt_check(k, text, &err) != 0) {
        bad_value(resp, name, key, err->message);
        mt_error_free(err);
        json_object_put(arg);
        arg = NULL;
    } else if (want != NULL) {
        cgijson_bad_param(resp, name, want);
    }
    free(text);
    return arg;
}

/* refuse: 400 naming the member of categories[i] (member NULL: the
 * element itself); returns -1. */
static int
refuse(http_response_t *resp, size_t i, const char *member, const char *why)
{
    char where[64];
    if (member != NULL)
        snprintf(where, sizeof where, "categories[%zu].%.20s", i, member);
    else
        snprintf(where, sizeof where, "categories[%zu]", i);
    cgijson_bad_param(resp, where, why);
    return -1;
}

/* check_categories: categories is an array of {name, path} (path
 * optional), both non-empty strings; 0, or -1 after answering 400 naming
 * the member. */
static int
check_categories(http_response_t *resp, json_object *cats)
{
    if (!json_object_is_type(cats, json_type_array)) {
        cgijson_bad_param(resp, "categories", "expected an array of {name, path}");
        return -1;
    }
    size_t n = json_object_array_length(cats);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(cats, i), *v = NULL;
        if (!json_object_is_type(e, json_type_object))
            return refuse(resp, i, NULL, "expected an object {name, path}");
        json_object_object_foreach(e, member, mv)
        {
            if (strcmp(member, "name") != 0 && strcmp(member, "path") != 0)
                return refuse(resp, i, member, "unknown member (name, path)");
            if (!json_object_is_type(mv, json_type_string) || json_object_get_string_len(mv) == 0)
                return refuse(resp, i, member, "expected a non-empty string");
        }
        if (!json_object_object_get_ex(e, "name", &v))
            return refuse(resp, i, "name", "missing");
    }
    return 0;
}

/* category_set: the daemon's category-set of cats ({name, path} as
 * {name, incoming_path}), all or none; with dry_run only checked. 0, or
 * -1 after answering (a refusal names the member: "categories[I].path"). */
static int
category_set(cfgapi_t *c, http_response_t *resp, json_object *cats, bool dry_run)
{
    json_object *list = json_object_new_array(), *args = json_object_new_object();
    for (size_t i = 0; i < json_object_array_length(cats); i++) {
        json_object *e = json_object_array_get_idx(cats, i), *name = NULL, *path = NULL;
        json_object *item = json_object_new_object();
        json_object_object_get_ex(e, "name", &name);
        json_object_object_add(item, "name", json_object_get(name));
        if (json_object_object_get_ex(e, "path", &path))
            json_object_object_add(item, "incoming_path", json_object_get(path));
        json_object_array_add(list, item);
    }
    json_object_object_add(args, "categories", list);
    json_object_object_add(args, "dry_run", json_object_new_boolean(dry_run));
    mt_error_t *err = NULL;
    int r = cgictl_call(c->env, resp, "category-set", args, NULL, &err);
    json_object_put(args);
    if (r == CGICTL_REFUSED) {
        /* "categories[I].name: why" or "categories[I].incoming_path: why" */
        const char *m = err != NULL ? err->message : "refused";
        size_t i = 0;
        int used = 0;
        char member[16] = "";
        if (sscanf(m, "categories[%zu].%15[a-z_]: %n", &i, member, &used) < 2 || used == 0)
            used = 0;
        char where[64];
        snprintf(where, sizeof where, "categories[%zu].%s", i,
                 strcmp(member, "incoming_path") == 0 ? "path" : "name");
        int status = cgictl_refusal_status(err);
        if (status == 400 && used > 0)
            cgijson_bad_param(resp, where, m + used);
        else
            cgijson_answer(resp, status, m);
        mt_error_free(err);
    }
    return r == CGICTL_OK ? 0 : -1;
}

/* restore: the settings of args back to their values in before (the
 * daemon's `config` result), after the categories were refused. */
static void
restore(cfgapi_t *c, json_object *args, json_object *before)
{
    json_object *back = json_object_new_object(), *v = NULL;
    json_object_object_foreach(args, key, unused)
    {
        (void)unused;
        if (json_object_object_get_ex(before, key, &v))
            json_object_object_add(back, key, json_object_get(v));
    }
    http_response_t *scratch = http_response_new();
    if (cgictl_call(c->env, scratch, "config-set", back, NULL, NULL) != CGICTL_OK)
        log_warn("config: the settings could not be put back after the categories failed");
    http_response_free(scratch);
    json_object_put(back);
}

/* PATCH /api/config: {name: value, ..., "categories": [{name, path}]}.
 * All or nothing: every setting and every category is checked before
 * anything changes (the categories by the daemon, category-set's dry
 * run); then the settings change, then the categories, all of them at
 * once, and should the daemon refuse them now (a directory changed
 * meanwhile) the settings are put back. */
int
cfgapi_config_patch(http_request_t *req, http_response_t *resp, void *ctx)
{
    cfgapi_t *c = ctx;
    const char *type = http_request_media_type(req);
    if (type == NULL || strcmp(type, "application/json") != 0)
        return cgijson_error(resp, 415, "unsupported_media_type",
                             "Send the changes as a JSON object (Content-Type: application/json)");
    mt_error_t *err = NULL;
    json_object *body = http_request_json(req, &err);
    mt_error_free(err);
    if (body == NULL || !json_object_is_type(body, json_type_object)) {
        json_object_put(body);
        return cgijson_bad_param(resp, "body", "expected a JSON object of settings");
    }
    json_object *args = json_object_new_object(), *cats = NULL;
    int ok = 1;
    json_object_object_foreach(body, name, v)
    {
        if (strcmp(name, "categories") == 0) {
            cats = v;
            if (check_categories(resp, cats) != 0) {
                ok = 0;
                break;
            }
            continue;
        }
        json_object *arg = setting_arg(resp, name, v);
        if (arg == NULL) {
            ok = 0;
            break;
        }
        json_object_object_add(args, key_of(name), arg);
    }
    if (ok && cats != NULL && category_set(c, resp, cats, true) != 0)
        ok = 0;
    bool settings = json_object_object_length(args) > 0;
    json_object *before = NULL, *cfg = NULL;
    if (ok && settings && cats != NULL &&
        cgictl_call(c->env, resp, "config", NULL, &before, NULL) != CGICTL_OK)
        ok = 0;
    if (ok) {
        int rc = cgictl_call(c->env, resp, settings ? "config-set" : "config", args, &cfg, &err);
        if (rc == CGICTL_REFUSED) {
            /* checked here already: the daemon of another version */
            const char *m = err != NULL ? err->message : "refused";
            size_t kl = strcspn(m, ":");
            char *key = xstrndup(m, kl);
            const char *n = name_of(key);
            cgijson_bad_param(resp, n != NULL ? n : "body", m);
            free(key);
            mt_error_free(err);
        }
        ok = rc == CGICTL_OK;
    }
    if (ok && cats != NULL && category_set(c, resp, cats, false) != 0) {
        if (before != NULL)
            restore(c, args, before);
        ok = 0;
    }
    if (ok)
        answer_config(c, resp, cfg);
    json_object_put(before);
    json_object_put(cfg);
    json_object_put(args);
    json_object_put(body);
    return 0;
}
