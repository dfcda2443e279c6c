/* conf.c: parser and key table for muleteer.conf. The format is one
 * "key = value" per line, '#' or ';' starting a comment line, values
 * optionally in double quotes; anything else is an error with its line. */
#include "config.h"

#include "util/conf.h"
#include "util/file.h"
#include "util/sched.h"
#include "util/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* CONF_SCHED: a string of util/sched.h's rules. */
typedef enum { CONF_STR, CONF_INT, CONF_BOOL, CONF_LEVEL, CONF_REAL, CONF_SCHED } conf_type_t;

typedef struct {
    const char *key;
    conf_type_t type;
    const char *def; /* default, as text; NULL means "" */
    long long min, max;
} conf_key_t;

/* Keep in step with docs/configuration.md. */
static const conf_key_t conf_keys[] = {
    { "node_name", CONF_STR, NULL, 0, 0 },
    { "state_dir", CONF_STR, NULL, 0, 0 },
    { "database", CONF_STR, "host=${state_dir}/pg dbname=muleteer", 0, 0 },
    { "db_connect_timeout", CONF_INT, "5", 1, 300 },
    { "control_socket", CONF_STR, "${state_dir}/run/muleteerd.sock", 0, 0 },
    { "log_file", CONF_STR, "", 0, 0 },
    { "log_level", CONF_LEVEL, "info", 0, 0 },
    { "status_interval", CONF_INT, "5", 1, 3600 },
    { "tcp_port", CONF_INT, "4662", 1, 65535 },
    { "udp_port", CONF_INT, "4672", 0, 65535 },
    { "web_username", CONF_STR, "admin", 0, 0 },
    { "web_password", CONF_STR, "", 0, 0 },
    { "api_key", CONF_STR, "", 0, 0 },
    { "web_session_timeout", CONF_INT, "3600", 60, 2592000 },
    { "web_max_auth_failures", CONF_INT, "5", 1, 1000 },
    { "web_ban_duration", CONF_INT, "3600", 0, 31536000 },
    { "http_max_body", CONF_INT, "8388608", 1024, 1073741824 },
    { "nickname", CONF_STR, "Muleteer", 0, 0 },
    { "temp_dir", CONF_STR, "${state_dir}/temp", 0, 0 },
    { "incoming_dir", CONF_STR, "${state_dir}/incoming", 0, 0 },
    { "shared_dirs", CONF_STR, "", 0, 0 },
    { "download_roots", CONF_STR, "", 0, 0 },
    { "rescan_interval", CONF_INT, "3600", 0, 604800 },
    { "max_upload", CONF_INT, "0", 0, 10000000 },
    { "max_download", CONF_INT, "0", 0, 10000000 },
    { "alt_max_upload", CONF_INT, "10", 0, 10000000 },
    { "alt_max_download", CONF_INT, "10", 0, 10000000 },
    { "scheduler_enabled", CONF_BOOL, "no", 0, 0 },
    { "schedule", CONF_SCHED, "08:00-20:00 every", 0, 0 },
    { "schedule_timezone", CONF_STR, "", 0, 0 },
    { "upload_slots", CONF_INT, "4", 1, 100 },
    { "max_connections", CONF_INT, "250", 10, 10000 },
    { "max_connections_per_ip", CONF_INT, "3", 1, 1000 },
    { "outgoing_reserve", CONF_INT, "20", 0, 90 },
    { "peer_ban_time", CONF_INT, "7200", 60, 31536000 },
    { "max_sources_per_file", CONF_INT, "100", 1, 5000 },
    { "max_ratio", CONF_REAL, "-1", -1, 9998 },
    { "max_seeding_time", CONF_INT, "-1", -1, 525600 },
    { "max_ratio_act", CONF_INT, "0", 0, 3 },
    { "filter_lan", CONF_BOOL, "yes", 0, 0 },
    { "kad", CONF_BOOL, "yes", 0, 0 },
    { "kad_nodes_url", CONF_STR, "http://upd.emule-security.org/nodes.dat", 0, 0 },
    { "save_interval", CONF_INT, "10", 1, 3600 },
    { "worker_threads", CONF_INT, "2", 1, 64 },
    { "max_open_files", CONF_INT, "32", 1, 10000 },
    { "servers", CONF_STR, "", 0, 0 },
    { "server_autoconnect", CONF_BOOL, "yes", 0, 0 },
    { "server_max_failures", CONF_INT, "3", 0, 1000 },
    { "server_udp_status", CONF_BOOL, "yes", 0, 0 },
    { "server_status_interval", CONF_INT, "1800", 10, 86400 },
    { "server_update_list", CONF_BOOL, "yes", 0, 0 },
    { "server_keepalive", CONF_INT, "600", 0, 86400 },
    { "server_dead_timeout", CONF_INT, "120", 5, 3600 },
    { "server_retry_min", CONF_INT, "3", 1, 3600 },
    { "server_retry_max", CONF_INT, "600", 10, 86400 },
    { "server_min_session", CONF_INT, "300", 10, 86400 },
    { "search_retention_days", CONF_INT, "7", 0, 3650 },
    { "sample_interval", CONF_INT, "15", 1, 3600 },
    { "retention_samples_days", CONF_INT, "2", 1, 36500 },
    { "retention_1m_days", CONF_INT, "14", 1, 36500 },
    { "retention_coarse_days", CONF_INT, "400", 1, 36500 },
    { "retention_history_days", CONF_INT, "0", 0, 36500 },
    { "torznab_name", CONF_STR, "muleteer", 0, 0 },
    { "torznab_search_timeout", CONF_INT, "20", 1, 28 },
    { "torznab_cache_time", CONF_INT, "900", 0, 86400 },
    { "torznab_min_size_tv", CONF_INT, "50", 0, 1000000 },
    { "torznab_min_size_movie", CONF_INT, "300", 0, 1000000 },
    { "track_username", CONF_BOOL, "yes", 0, 0 },
    { "metrics_allow", CONF_STR, "loopback", 0, 0 },
    { "metrics_dir", CONF_STR, "${state_dir}/run/metrics", 0, 0 },
    { "web_auth_enabled", CONF_BOOL, "yes", 0, 0 },
    { "web_auth_off_remote", CONF_BOOL, "no", 0, 0 },
    { "ws_socket", CONF_STR, "${state_dir}/run/ws.sock", 0, 0 },
    { "ws_max_clients", CONF_INT, "256", 1, 100000 },
    { "ws_max_frame", CONF_INT, "65536", 1024, 16777216 },
    { "ws_max_queue", CONF_INT, "8388608", 65536, 1073741824 },
    { "ws_session_check", CONF_INT, "60", 1, 3600 },
    /* peer protocol obfuscation, as aMule's ClientCryptLayer settings */
    { "obfuscation_support", CONF_BOOL, "yes", 0, 0 },
    { "obfuscation_request", CONF_BOOL, "yes", 0, 0 },
    { "obfuscation_require", CONF_BOOL, "no", 0, 0 },
    /* programs and webhooks run on download events (docs/hooks.md) */
    { "hook_added", CONF_STR, "", 0, 0 },
    { "hook_completed", CONF_STR, "", 0, 0 },
    { "hook_failed", CONF_STR, "", 0, 0 },
    { "hook_disk_full", CONF_STR, "", 0, 0 },
    { "hook_timeout", CONF_INT, "60", 1, 86400 },
    { "hook_max_running", CONF_INT, "2", 1, 64 },
    { "hook_max_queued", CONF_INT, "32", 0, 10000 },
    { "hook_max_output", CONF_INT, "4096", 0, 1048576 },
    { "webhook_urls", CONF_STR, "", 0, 0 },
    { "webhook_secret", CONF_STR, "", 0, 0 },
    { "webhook_timeout", CONF_INT, "10", 1, 300 },
    { "webhook_retries", CONF_INT, "5", 0, 20 },
    { "webhook_backoff", CONF_INT, "2", 1, 3600 },
    { "webhook_max_queued", CONF_INT, "256", 1, 100000 },
    { "ipfilter", CONF_STR, "", 0, 0 },
    { "ipfilter_level", CONF_INT, "127", 0, 255 },
    { "ipfilter_refresh_hours", CONF_INT, "24", 0, 8760 },
    /* secure user identification and credits (docs/transfers.md) */
    { "secure_ident", CONF_BOOL, "yes", 0, 0 },
    /* port forwarding on the router: off, upnp, natpmp or auto (docs/configuration.md) */
    { "port_forwarding", CONF_STR, "off", 0, 0 },
    { "port_forwarding_lease", CONF_INT, "3600", 0, 604800 },
};
#define N_KEYS (sizeof conf_keys / sizeof conf_keys[0])

struct conf {
    char *values[N_KEYS];   /* NULL: default */
    char *expanded[N_KEYS]; /* cache for ${state_dir} expansion */
    char *path;
    char *default_state_dir;
    char *default_node_name;
};

static int
key_index(const char *key)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(conf_keys[i].key, key) == 0)
            return (int)i;
    return -1;
}

conf_t *
conf_new(void)
{
    conf_t *c = xcalloc(1, sizeof *c);
    c->default_state_dir = xstrdup(".");
    char host[256];
    if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
        snprintf(host, sizeof host, "muleteer");
    host[sizeof host - 1] = '\0';
    c->default_node_name = xstrdup(host);
    return c;
}

static void
clear_expanded(conf_t *c)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        free(c->expanded[i]);
        c->expanded[i] = NULL;
    }
}

void
conf_free(conf_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < N_KEYS; i++)
        free(c->values[i]);
    clear_expanded(c);
    free(c->path);
    free(c->default_state_dir);
    free(c->default_node_name);
    free(c);
}

static int
parse_int(const char *s, long long *out)
{
    if (*s == '\0')
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* parse_real: a finite decimal number ("1.5", "-1"). */
static int
parse_real(const char *s, double *out)
{
    if (*s == '\0')
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int
parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "1", "yes", "true", "on" };
    static const char *const no[] = { "0", "no", "false", "off" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* validate_dir_list: a ':'-separated list of absolute directories (each
 * starting with '/' or "${state_dir}"; empty entries are skipped). */
static int
validate_dir_list(const char *key, const char *value, mt_error_t **err)
{
    for (const char *p = value; *p != '\0';) {
        size_t n = strcspn(p, ":");
        if (n > 0 && p[0] != '/' && strncmp(p, "${state_dir}", strlen("${state_dir}")) != 0) {
            mt_error_set(err, MT_ERR_INVALID, "%s: \"%.*s\" is not an absolute directory path",
                         key, (int)n, p);
            return -1;
        }
        p += n + (p[n] == ':');
    }
    return 0;
}

/* Validates value for key k; the message does not include the location. */
static int
validate(const conf_key_t *k, const char *value, mt_error_t **err)
{
    long long n;
    double r;
    bool b;
    switch (k->type) {
    case CONF_STR:
        for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
            if (*p < 0x20 || *p == 0x7f) {
                mt_error_set(err, MT_ERR_INVALID,
                             "%s: control characters are not allowed", k->key);
                return -1;
            }
        }
        if (strcmp(k->key, "node_name") == 0 && *value == '\0') {
            mt_error_set(err, MT_ERR_INVALID, "node_name: must not be empty");
            return -1;
        }
        if (strcmp(k->key, "download_roots") == 0)
            return validate_dir_list(k->key, value, err);
        return 0;
    case CONF_INT:
        if (parse_int(value, &n) != 0 || n < k->min || n > k->max) {
            mt_error_set(err, MT_ERR_INVALID,
                         "%s: expected an integer from %lld to %lld, got \"%s\"",
                         k->key, k->min, k->max, value);
            return -1;
        }
        return 0;
    case CONF_REAL:
        if (parse_real(value, &r) != 0 || r < (double)k->min || r > (double)k->max) {
            mt_error_set(err, MT_ERR_INVALID,
                         "%s: expected a number from %lld to %lld, got \"%s\"",
                         k->key, k->min, k->max, value);
            return -1;
        }
        return 0;
    case CONF_BOOL:
        if (parse_bool(value, &b) != 0) {
            mt_error_set(err, MT_ERR_INVALID,
                         "%s: expected yes or no, got \"%s\"", k->key, value);
            return -1;
        }
        return 0;
    case CONF_LEVEL:
        if (strcasecmp(value, "error") && strcasecmp(value, "warn") &&
            strcasecmp(value, "info") && strcasecmp(value, "debug")) {
            mt_error_set(err, MT_ERR_INVALID,
                         "%s: expected error, warn, info or debug, got \"%s\"",
                         k->key, value);
            return -1;
        }
        return 0;
    case CONF_SCHED: {
        sched_t sc;
        mt_error_t *e = NULL;
        if (sched_parse(value, &sc, &e) != 0) {
            mt_error_set(err, MT_ERR_INVALID, "%s: %s", k->key, e->message);
            mt_error_free(e);
            return -1;
        }
        return 0;
    }
    }
    return -1;
}

int
conf_set(conf_t *c, const char *key, const char *value, mt_error_t **err)
{
    int i = key_index(key);
    if (i < 0) {
        mt_error_set(err, MT_ERR_INVALID, "unknown key \"%s\"", key);
        return -1;
    }
    if (validate(&conf_keys[i], value, err) != 0)
        return -1;
    free(c->values[i]);
    c->values[i] = xstrdup(value);
    clear_expanded(c);
    return 0;
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static bool
valid_key_syntax(const char *k)
{
    if (*k == '\0')
        return false;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
            return false;
    return true;
}

int
conf_load_string(conf_t *c, const char *text, const char *name, mt_error_t **err)
{
    char *values[N_KEYS] = { 0 };
    int set_on_line[N_KEYS] = { 0 };
    char *copy = xstrdup(text);
    int lineno = 0;
    int rc = 0;

    /* strtok_r would skip empty lines and miscount; walk by hand. */
    char *line = copy;
    while (line != NULL) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        lineno++;
        char *s = trim(line);
        if (*s != '\0' && *s != '#' && *s != ';') {
            char *eq = strchr(s, '=');
            if (eq == NULL) {
                mt_error_set(err, MT_ERR_INVALID,
                             "%s:%d: expected \"key = value\", got \"%.60s\"",
                             name, lineno, s);
                rc = -1;
                break;
            }
            *eq = '\0';
            char *key = trim(s);
            char *value = trim(eq + 1);
            size_t vlen = strlen(value);
            if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
                value[vlen - 1] = '\0';
                value++;
            }
            int i = valid_key_syntax(key) ? key_index(key) : -1;
            if (i < 0) {
                mt_error_set(err, MT_ERR_INVALID, "%s:%d: unknown key \"%.60s\"",
                             name, lineno, key);
                rc = -1;
                break;
            }
            if (set_on_line[i] != 0) {
                mt_error_set(err, MT_ERR_INVALID,
                             "%s:%d: duplicate key \"%s\" (first set on line %d)",
                             name, lineno, key, set_on_line[i]);
                rc = -1;
                break;
            }
            mt_error_t *verr = NULL;
            if (validate(&conf_keys[i], value, &verr) != 0) {
                mt_error_set(err, MT_ERR_INVALID, "%s:%d: %s", name, lineno,
                             verr->message);
                mt_error_free(verr);
                rc = -1;
                break;
            }
            values[i] = xstrdup(value);
            set_on_line[i] = lineno;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    free(copy);

    if (rc == 0) {
        for (size_t i = 0; i < N_KEYS; i++) {
            if (values[i] != NULL) {
                free(c->values[i]);
                c->values[i] = values[i];
            }
        }
        clear_expanded(c);
    } else {
        for (size_t i = 0; i < N_KEYS; i++)
            free(values[i]);
    }
    return rc;
}

int
conf_load_file(conf_t *c, const char *path, mt_error_t **err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        mt_error_set(err, MT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    /* A configuration file is small; refuse anything absurd. */
    const size_t max = 1 << 20;
    char *buf = xmalloc(max + 1);
    size_t n = fread(buf, 1, max + 1, f);
    int ioerr = ferror(f);
    fclose(f);
    if (ioerr) {
        free(buf);
        mt_error_set(err, MT_ERR_IO, "cannot read %s", path);
        return -1;
    }
    if (n > max) {
        free(buf);
        mt_error_set(err, MT_ERR_TOO_LARGE, "%s: larger than 1 MiB", path);
        return -1;
    }
    if (memchr(buf, '\0', n) != NULL) {
        free(buf);
        mt_error_set(err, MT_ERR_INVALID, "%s: contains a NUL byte", path);
        return -1;
    }
    buf[n] = '\0';
    int rc = conf_load_string(c, buf, path, err);
    free(buf);
    if (rc == 0) {
        free(c->path);
        c->path = xstrdup(path);
        const char *slash = strrchr(path, '/');
        free(c->default_state_dir);
        c->default_state_dir = slash == NULL ? xstrdup(".")
                               : slash == path ? xstrdup("/")
                                               : xstrndup(path, (size_t)(slash - path));
        clear_expanded(c);
    }
    return rc;
}

static const char *
raw_value(const conf_t *c, int i)
{
    if (c->values[i] != NULL)
        return c->values[i];
    if (strcmp(conf_keys[i].key, "state_dir") == 0)
        return c->default_state_dir;
    if (strcmp(conf_keys[i].key, "node_name") == 0)
        return c->default_node_name;
    return conf_keys[i].def != NULL ? conf_keys[i].def : "";
}

static int
checked_index(const char *key, conf_type_t type)
{
    int i = key_index(key);
    if (i < 0 || conf_keys[i].type != type) {
        fprintf(stderr, "conf: key %s used with the wrong type\n", key);
        abort();
    }
    return i;
}

const char *
conf_get_str(const conf_t *c, const char *key)
{
    int i = key_index(key);
    if (i < 0 || (conf_keys[i].type != CONF_STR && conf_keys[i].type != CONF_LEVEL &&
                  conf_keys[i].type != CONF_SCHED))
        checked_index(key, CONF_STR); /* aborts */
    const char *v = raw_value(c, i);
    const char *var = "${state_dir}";
    if (strstr(v, var) == NULL)
        return v;
    if (c->expanded[i] == NULL) {
        const char *sd = raw_value(c, key_index("state_dir"));
        size_t cap = strlen(v) + 1;
        for (const char *p = v; (p = strstr(p, var)) != NULL; p += strlen(var))
            cap += strlen(sd);
        char *out = xmalloc(cap);
        char *o = out;
        for (const char *p = v; *p;) {
            if (strncmp(p, var, strlen(var)) == 0) {
                size_t l = strlen(sd);
                memcpy(o, sd, l);
                o += l;
                p += strlen(var);
            } else {
                *o++ = *p++;
            }
        }
        *o = '\0';
        ((conf_t *)c)->expanded[i] = out;
    }
    return c->expanded[i];
}

long long
conf_get_int(const conf_t *c, const char *key)
{
    int i = checked_index(key, CONF_INT);
    long long v = 0;
    if (parse_int(raw_value(c, i), &v) != 0)
        abort(); /* defaults are valid and set values were validated */
    return v;
}

double
conf_get_real(const conf_t *c, const char *key)
{
    int i = checked_index(key, CONF_REAL);
    double v = 0;
    if (parse_real(raw_value(c, i), &v) != 0)
        abort();
    return v;
}

bool
conf_get_bool(const conf_t *c, const char *key)
{
    int i = checked_index(key, CONF_BOOL);
    bool b = false;
    if (parse_bool(raw_value(c, i), &b) != 0)
        abort();
    return b;
}

const char *
conf_path(const conf_t *c)
{
    return c->path;
}

const char *
conf_var_dir(void)
{
    const char *var = getenv("MULETEER_VAR");
    return var != NULL && *var != '\0' ? var : "var";
}

char *
conf_default_file(void)
{
    const char *c = getenv("MULETEER_CONF");
    if (c != NULL && *c != '\0')
        return xstrdup(c);
    return xasprintf("%s/muleteer.conf", conf_var_dir());
}

/* ---- rewriting a configuration file ---- */

/* line_key_is: the line sets key ("key =" after optional blanks). */
static bool
line_key_is(const char *line, size_t len, const char *key)
{
    size_t i = 0, kl = strlen(key);
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (len - i < kl || memcmp(line + i, key, kl) != 0)
        return false;
    i += kl;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i < len && line[i] == '=';
}

/* value_quote: the quote to write around v so that reading the line gives
 * v back: a value that starts and ends with '"' (the reader takes one pair
 * off: a command line "/opt/a b" "%n") or with blanks (trimmed) is written
 * in quotes. */
static const char *
value_quote(const char *v)
{
    size_t n = strlen(v);
    bool quoted = n >= 2 && v[0] == '"' && v[n - 1] == '"';
    bool blank_ends = n > 0 && (strchr(" \t", v[0]) != NULL || strchr(" \t", v[n - 1]) != NULL);
    return quoted || blank_ends ? "\"" : "";
}

char *
conf_text_with(const char *text, size_t len, const char *const *keys, const char *const *values,
               size_t n, size_t *out_len)
{
    size_t cap = len + 2;
    for (size_t k = 0; k < n; k++)
        cap += strlen(keys[k]) + strlen(values[k]) + 10;
    char *out = xmalloc(cap + 1);
    bool *done = xcalloc(n + 1, sizeof *done);
    size_t o = 0, pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len, l = end - pos;
        size_t k = 0;
        while (k < n && (done[k] || !line_key_is(text + pos, l, keys[k])))
            k++;
        if (k < n) {
            bool cr = l > 0 && text[end - 1] == '\r'; /* keep CRLF files CRLF */
            const char *q = value_quote(values[k]);
            o += (size_t)sprintf(out + o, "%s = %s%s%s%s", keys[k], q, values[k], q, cr ? "\r" : "");
            done[k] = true;
        } else {
            memcpy(out + o, text + pos, l);
            o += l;
        }
        if (nl != NULL)
            out[o++] = '\n';
        pos = end + (nl != NULL ? 1 : 0);
    }
    for (size_t k = 0; k < n; k++) {
        if (done[k])
            continue;
        if (o > 0 && out[o - 1] != '\n')
            out[o++] = '\n';
        const char *q = value_quote(values[k]);
        o += (size_t)sprintf(out + o, "%s = %s%s%s\n", keys[k], q, values[k], q);
    }
    out[o] = '\0';
    free(done);
    *out_len = o;
    return out;
}

int
conf_file_update(const char *path, const char *const *keys, const char *const *values, size_t n,
                 mt_error_t **err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        mt_error_set(err, MT_ERR_IO, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = 0, new_len = 0;
    char *text = (char *)mt_file_read(path, 1 << 20, &len, err);
    if (text == NULL)
        return -1;
    char *updated = conf_text_with(text, len, keys, values, n, &new_len);
    free(text);
    /* what is written must load, or every program would refuse it */
    conf_t *check = conf_new();
    int rc = conf_load_string(check, updated, path, err);
    conf_free(check);
    if (rc == 0)
        rc = mt_file_write_atomic(path, updated, new_len, st.st_mode & 07777, err);
    free(updated);
    return rc;
}
