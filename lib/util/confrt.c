/* confrt.c: the run-time configuration keys and their checks (confrt.h).
 * The daemon and the FastCGI programs share them, so that the web API's
 * answer and the daemon's agree on what is refused. */
#include "config.h"

#include "util/confrt.h"
#include "util/argv.h"
#include "util/conf.h"

#include <string.h>

/* Keep in step with docs/configuration.md and docs/control-protocol.md
 * (config-set). Secrets (web_password, api_key, database) and keys that
 * need a restart are not here. */
static const confrt_key_t keys[] = {
    { "max_upload", CONFRT_INT },
    { "max_download", CONFRT_INT },
    { "alt_max_upload", CONFRT_INT },
    { "alt_max_download", CONFRT_INT },
    { "scheduler_enabled", CONFRT_BOOL },
    { "schedule", CONFRT_SCHED },
    { "upload_slots", CONFRT_INT },
    { "max_connections", CONFRT_INT },
    { "max_connections_per_ip", CONFRT_INT },
    { "shared_dirs", CONFRT_DIRS },
    { "server_autoconnect", CONFRT_BOOL },
    { "retention_history_days", CONFRT_INT },
    { "track_username", CONFRT_BOOL },
    { "torznab_name", CONFRT_NAME },
    { "torznab_cache_time", CONFRT_INT },
    /* the hooks read their keys at each event (docs/hooks.md); the
     * webhooks' secret is a secret and stays in the file */
    { "hook_added", CONFRT_CMD },
    { "hook_completed", CONFRT_CMD },
    { "hook_failed", CONFRT_CMD },
    { "hook_disk_full", CONFRT_CMD },
    { "hook_timeout", CONFRT_INT },
    { "webhook_urls", CONFRT_URLS },
    { "ipfilter", CONFRT_SOURCE },
    { "ipfilter_level", CONFRT_INT },
    { "ipfilter_refresh_hours", CONFRT_INT },
    /* the mappings are removed and made again with the new settings */
    { "port_forwarding", CONFRT_PORTFWD },
    { "port_forwarding_lease", CONFRT_INT },
};
#define N_KEYS (sizeof keys / sizeof keys[0])

const confrt_key_t *
confrt_keys(size_t *n)
{
    *n = N_KEYS;
    return keys;
}

const confrt_key_t *
confrt_find(const char *key)
{
    for (size_t i = 0; key != NULL && i < N_KEYS; i++)
        if (strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

/* check_name: one URL path segment of safe characters. */
static int
check_name(const char *key, const char *value, mt_error_t **err)
{
    size_t n = strlen(value);
    if (n == 0 || n > 64 || strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789._-") != n ||
        strcmp(value, ".") == 0 || strcmp(value, "..") == 0) {
        mt_error_set(err, MT_ERR_INVALID,
                     "%s: expected 1 to 64 letters, digits, '.', '_' or '-', got \"%s\"", key,
                     value);
        return -1;
    }
    return 0;
}

/* check_dirs: each non-empty entry an absolute path. */
static int
check_dirs(const char *key, const char *value, mt_error_t **err)
{
    for (const char *p = value; *p != '\0';) {
        size_t n = strcspn(p, ":");
        if (n > 0 && p[0] != '/') {
            mt_error_set(err, MT_ERR_INVALID, "%s: \"%.*s\" is not an absolute directory path",
                         key, (int)n, p);
            return -1;
        }
        p += n + (p[n] == ':');
    }
    return 0;
}

/* check_cmd: empty, or a command line that splits into words. */
static int
check_cmd(const char *key, const char *value, mt_error_t **err)
{
    if (value[strspn(value, " \t")] == '\0')
        return 0;
    mt_error_t *e = NULL;
    char **v = mt_argv_split(value, MT_ARGV_MAX, NULL, &e);
    if (v == NULL) {
        mt_error_set(err, MT_ERR_INVALID, "%s: %s", key, e != NULL ? e->message : "invalid");
        mt_error_free(e);
        return -1;
    }
    mt_strv_free(v);
    return 0;
}

/* check_urls: each entry http:// or https:// and a host. */
static int
check_urls(const char *key, const char *value, mt_error_t **err)
{
    static const char sep[] = " \t,";
    for (const char *p = value + strspn(value, sep); *p != '\0'; p += strspn(p, sep)) {
        size_t n = strcspn(p, sep);
        size_t scheme = strncmp(p, "http://", 7) == 0 ? 7 : strncmp(p, "https://", 8) == 0 ? 8 : 0;
        if (scheme == 0 || n == scheme || p[scheme] == '/') {
            mt_error_set(err, MT_ERR_INVALID, "%s: \"%.*s\" is not an http or https address",
                         key, (int)n, p);
            return -1;
        }
        p += n;
    }
    return 0;
}

/* check_source: empty, an absolute path or an http(s) URL, without blanks
 * or control characters. */
static int
check_source(const char *key, const char *value, mt_error_t **err)
{
    for (const char *p = value; *p != '\0'; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            mt_error_set(err, MT_ERR_INVALID, "%s: no blanks or control characters", key);
            return -1;
        }
    if (value[0] != '\0' && value[0] != '/' && strncmp(value, "http://", 7) != 0 &&
        strncmp(value, "https://", 8) != 0) {
        mt_error_set(err, MT_ERR_INVALID,
                     "%s: expected an absolute file path or an http(s) URL, got \"%s\"", key,
                     value);
        return -1;
    }
    return 0;
}

/* check_portfwd: one of port forwarding's methods. */
static int
check_portfwd(const char *key, const char *value, mt_error_t **err)
{
    static const char *const ok[] = { "off", "upnp", "natpmp", "auto" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(value, ok[i]) == 0)
            return 0;
    mt_error_set(err, MT_ERR_INVALID, "%s: expected off, upnp, natpmp or auto, got \"%s\"", key,
                 value);
    return -1;
}

int
confrt_check(const confrt_key_t *k, const char *value, mt_error_t **err)
{
    conf_t *scratch = conf_new();
    int rc = conf_set(scratch, k->key, value, err);
    conf_free(scratch);
    if (rc != 0)
        return -1;
    if (k->kind == CONFRT_NAME)
        return check_name(k->key, value, err);
    if (k->kind == CONFRT_DIRS)
        return check_dirs(k->key, value, err);
    if (k->kind == CONFRT_CMD)
        return check_cmd(k->key, value, err);
    if (k->kind == CONFRT_URLS)
        return check_urls(k->key, value, err);
    if (k->kind == CONFRT_SOURCE)
        return check_source(k->key, value, err);
    if (k->kind == CONFRT_PORTFWD)
        return check_portfwd(k->key, value, err);
    return 0;
}
