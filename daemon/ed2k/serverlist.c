/* serverlist.c: the list of known eD2K servers: server.met load and atomic
 * save (§8.1), imports from files, URLs (daemon/net/urlfetch) and links,
 * UDP status requests with a challenge (§4), failure counting and the
 * servers table. */
#include "config.h"

#include "daemon/ed2k/serverlist.h"
#include "daemon/ed2k/srvpolicy.h"
#include "daemon/core/daemon.h"
#include "daemon/core/worker.h"
#include "daemon/net/ipblock.h"
#include "daemon/net/net.h"
#include "daemon/net/urlfetch.h"
#include "daemon/store/db_worker.h"
#include "daemon/store/server_tables.h"
#include "ed2k/c2s.h"
#include "ed2k/kadcrypt.h"
#include "ed2k/link.h"
#include "ed2k/servermet.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"
#include "util/random.h"
#include "util/xalloc.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define SL_STAT_SPACING 5         /* seconds between two status requests */
#define SL_STAT_TIMEOUT_MS 20000  /* no answer: a failure */
#define SL_MAX_SERVERS 5000
#define SL_MAX_MET_BYTES (8u << 20)
#define SL_SAVE_DELAY 5           /* seconds to gather changes before saving */

typedef struct sl_import {
    struct sl_import *next;
    char *url;
    char *state;      /* "fetching", "done", "failed" */
    char *error;
    size_t added, total;
    time_t started;
} sl_import_t;

struct serverlist {
    muleteerd_t *d;
    sl_server_t **v;
    size_t n;
    bool dirty_met, dirty_db;
    time_t save_at;           /* monotonic; 0: nothing to save */
    time_t next_stat_at;
    bool saving;
    bool db_was_connected;
    evutil_socket_t udp_fd;
    struct event *udp_ev;
    sl_udp_fn listener;
    void *listener_ctx;
    sl_import_t *imports;
    size_t n_imports;
    void (*forget)(void *ctx, const sl_server_t *e); /* sl_set_forget_hook */
    void *forget_ctx;
};

/* ------------------------------------------------------------- servers */

static void
server_free(sl_server_t *s)
{
    if (s == NULL)
        return;
    free(s->address);
    free(s->name);
    free(s->description);
    free(s->version);
    free(s);
}

static void
set_str(char **dst, const char *src)
{
    if (src == NULL || *src == '\0')
        return;
    free(*dst);
    *dst = xstrdup(src);
}

static void
mark_changed(serverlist_t *sl)
{
    sl->dirty_met = sl->dirty_db = true;
    if (sl->save_at == 0)
        sl->save_at = clock_mono_s() + SL_SAVE_DELAY;
}

void
sl_changed(serverlist_t *sl)
{
    sl->dirty_db = true;
    if (sl->save_at == 0)
        sl->save_at = clock_mono_s() + SL_SAVE_DELAY;
}

size_t
sl_count(const serverlist_t *sl)
{
    return sl->n;
}

sl_server_t *
sl_get(serverlist_t *sl, size_t i)
{
    return i < sl->n ? sl->v[i] : NULL;
}

sl_server_t *
sl_find(serverlist_t *sl, const char *address, uint16_t port)
{
    uint32_t ip = 0;
    bool is_ip = net_ip_parse(address, &ip) == 0;
    for (size_t i = 0; i < sl->n; i++) {
        sl_server_t *s = sl->v[i];
        if (s->port == port &&
            (strcasecmp(s->address, address) == 0 || (is_ip && s->ip == ip)))
            return s;
    }
    return NULL;
}

sl_server_t *
sl_find_ip(serverlist_t *sl, uint32_t ip, uint16_t port)
{
    for (size_t i = 0; i < sl->n; i++)
        if (sl->v[i]->ip == ip && sl->v[i]->port == port)
            return sl->v[i];
    return NULL;
}

/* valid_host: a dotted IPv4 or a host name of letters, digits, '-' and
 * '.' (what a server.met, a link or a user may give). */
static bool
valid_host(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return h[0] != '-' && h[0] != '.';
}

sl_server_t *
sl_add(serverlist_t *sl, const char *address, uint16_t port, const char *source, bool *added,
       mt_error_t **err)
{
    if (added != NULL)
        *added = false;
    if (address == NULL || !valid_host(address)) {
        mt_error_set(err, MT_ERR_INVALID, "\"%s\" is not a server address (an IPv4 address or a host name)",
                     address != NULL ? address : "");
        return NULL;
    }
    if (port == 0) {
        mt_error_set(err, MT_ERR_INVALID, "a server port must be 1-65535");
        return NULL;
    }
    uint32_t ip = 0;
    bool is_ip = net_ip_parse(address, &ip) == 0;
    if (is_ip && ip == 0) {
        mt_error_set(err, MT_ERR_INVALID, "0.0.0.0 is not a server address");
        return NULL;
    }
    sl_server_t *s = sl_find(sl, address, port);
    if (s != NULL)
        return s;
    if (sl->n >= SL_MAX_SERVERS) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "the server list is full (%d servers)", SL_MAX_SERVERS);
        return NULL;
    }
    s = xcalloc(1, sizeof *s);
    s->address = xstrdup(address);
    s->ip = is_ip ? ip : 0;
    s->port = port;
    s->source = source;
    s->next_stat = clock_mono_s() + 10 +
                   (time_t)(sl->n * SL_STAT_SPACING) % conf_get_int(sl->d->conf, "server_status_interval");
    sl->v = xreallocarray(sl->v, sl->n + 1, sizeof *sl->v);
    sl->v[sl->n++] = s;
    if (added != NULL)
        *added = true;
    mark_changed(sl);
    return s;
}

static void
remove_at(serverlist_t *sl, size_t i)
{
    if (sl->forget != NULL)
        sl->forget(sl->forget_ctx, sl->v[i]);
    server_free(sl->v[i]);
    memmove(&sl->v[i], &sl->v[i + 1], (sl->n - i - 1) * sizeof *sl->v);
    sl->n--;
    mark_changed(sl);
}

int
sl_remove(serverlist_t *sl, const char *address, uint16_t port, mt_error_t **err)
{
    sl_server_t *s = sl_find(sl, address, port);
    if (s == NULL) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "no server %s:%u in the list", address, port);
        return -1;
    }
    if (s->connected) {
        mt_error_set(err, MT_ERR_INVALID, "%s:%u is the connected server: disconnect first",
                     address, port);
        return -1;
    }
    for (size_t i = 0; i < sl->n; i++)
        if (sl->v[i] == s) {
            remove_at(sl, i);
            break;
        }
    return 0;
}

bool
sl_failed(serverlist_t *sl, sl_server_t *s, const char *why)
{
    s->failures++;
    long max = conf_get_int(sl->d->conf, "server_max_failures");
    if (sl_should_drop(s, max)) {
        log_info("servers: dropping %s:%u after %u failures (%s)", s->address, s->port,
                 s->failures, why);
        for (size_t i = 0; i < sl->n; i++)
            if (sl->v[i] == s) {
                remove_at(sl, i);
                return true;
            }
    }
    mark_changed(sl);
    return false;
}

void
sl_set_dynip(serverlist_t *sl, sl_server_t *s, const char *host)
{
    if (strcasecmp(s->address, host) == 0)
        return;
    for (size_t i = 0; i < sl->n; i++)
        if (sl->v[i] != s && sl->v[i]->port == s->port &&
            strcasecmp(sl->v[i]->address, host) == 0 && !sl->v[i]->connected) {
            remove_at(sl, i); /* the same server, listed under its name */
            break;
        }
    log_info("servers: %s:%u has a dynamic IP; it is %s:%u from now on", s->address, s->port, host,
             s->port);
    free(s->address);
    s->address = xstrdup(host);
    mark_changed(sl);
}

void
sl_connected(serverlist_t *sl, sl_server_t *s, bool connected)
{
    s->connected = connected;
    if (connected)
        s->last_seen = time(NULL);
    mark_changed(sl);
}

void
sl_good_session(serverlist_t *sl, sl_server_t *s)
{
    s->failures = 0;
    srvpol_reset(&s->retry);
    s->last_seen = time(NULL);
    mark_changed(sl);
}

static int
prio_rank(sl_priority_t p)
{
    return p == SL_PRIO_HIGH ? 0 : p == SL_PRIO_NORMAL ? 1 : 2;
}

/* better: whether a should be tried before b. */
static bool
better(const sl_server_t *a, const sl_server_t *b)
{
    if (prio_rank(a->priority) != prio_rank(b->priority))
        return prio_rank(a->priority) < prio_rank(b->priority);
    if (a->is_static != b->is_static)
        return a->is_static;
    if (a->failures != b->failures)
        return a->failures < b->failures;
    uint32_t pa = a->ping_ms != 0 ? a->ping_ms : UINT32_MAX;
    uint32_t pb = b->ping_ms != 0 ? b->ping_ms : UINT32_MAX;
    return pa < pb;
}

bool
sl_should_drop(const sl_server_t *s, long max)
{
    return !s->is_static && max > 0 && s->failures >= (uint32_t)max;
}

sl_server_t *const *
sl_servers(const serverlist_t *sl, size_t *n)
{
    *n = sl->n;
    return sl->v;
}

sl_server_t *
sl_pick(serverlist_t *sl, const sl_server_t *const *tried, size_t n_tried, time_t now,
        time_t *wait)
{
    return sl_pick_among(sl->v, sl->n, tried, n_tried, now, wait);
}

sl_server_t *
sl_pick_among(sl_server_t *const *v, size_t n, const sl_server_t *const *tried, size_t n_tried,
              time_t now, time_t *wait)
{
    sl_server_t *best = NULL;
    time_t earliest = 0;
    for (size_t i = 0; i < n; i++) {
        sl_server_t *s = v[i];
        bool seen = false;
        for (size_t k = 0; k < n_tried && !seen; k++)
            seen = tried[k] == s;
        if (seen)
            continue;
        if (!srvpol_ready(&s->retry, now)) {
            if (earliest == 0 || s->retry.until < earliest)
                earliest = s->retry.until;
            continue;
        }
        if (best == NULL || better(s, best))
            best = s;
    }
    if (wait != NULL)
        *wait = best == NULL ? earliest : 0;
    return best;
}

/* ----------------------------------------------------------- server.met */

static char *
met_path(serverlist_t *sl)
{
    return xasprintf("%s/server.met", conf_get_str(sl->d->conf, "state_dir"));
}

static const char *
prio_name(sl_priority_t p)
{
    return p == SL_PRIO_HIGH ? "high" : p == SL_PRIO_LOW ? "low" : "normal";
}

/* aMule's ST_PREFERENCE values (ServerList.cpp): 0 normal, 1 high, 2 low. */
static sl_priority_t
prio_from_met(uint32_t v)
{
    return v == 1 ? SL_PRIO_HIGH : v == 2 ? SL_PRIO_LOW : SL_PRIO_NORMAL;
}

static uint32_t
prio_to_met(sl_priority_t p)
{
    return p == SL_PRIO_HIGH ? 1 : p == SL_PRIO_LOW ? 2 : 0;
}

int
sl_import_met(serverlist_t *sl, const uint8_t *data, size_t len, const char *source,
              size_t *added, size_t *total, mt_error_t **err)
{
    ed2k_server_entry_t *e = NULL;
    size_t n = 0;
    *added = *total = 0;
    mt_error_t *perr = NULL;
    int prc = ed2k_servermet_parse(data, len, &e, &n, &perr);
    if (prc == ED2K_SERVERMET_ERROR) {
        mt_error_propagate(err, perr);
        return -1;
    }
    if (prc == ED2K_SERVERMET_PARTIAL) {
        log_warn("servers: %s is cut short (%s); keeping the %zu server(s) before", source,
                 perr->message, n);
        mt_error_free(perr);
    }
    *total = n;
    for (size_t i = 0; i < n; i++) {
        char ipbuf[16];
        if (e[i].dynip == NULL && ipblock_blocks(sl->d->ipfilter, e[i].ip, IPBLOCK_SERVER)) {
            log_info("servers: skipping %s:%u of %s: in the IP filter", net_ip_str(e[i].ip, ipbuf),
                     e[i].port, source);
            continue;
        }
        const char *addr = e[i].dynip != NULL ? e[i].dynip : net_ip_str(e[i].ip, ipbuf);
        bool is_new = false;
        mt_error_t *aerr = NULL;
        sl_server_t *s = sl_add(sl, addr, e[i].port, source, &is_new, &aerr);
        if (s == NULL) {
            log_info("servers: skipping an entry of %s: %s", source, aerr->message);
            mt_error_free(aerr);
            continue;
        }
        if (e[i].dynip != NULL && e[i].ip != 0)
            s->ip = e[i].ip;
        if (is_new || strcmp(source, "server.met") == 0) {
            set_str(&s->name, e[i].name);
            set_str(&s->description, e[i].description);
            set_str(&s->version, e[i].version);
            s->users = e[i].users;
            s->files = e[i].files;
            s->max_users = e[i].max_users;
            s->soft_files = e[i].soft_files;
            s->hard_files = e[i].hard_files;
            s->lowid_users = e[i].lowid_users;
            s->udp_flags = e[i].udp_flags;
            s->tcp_flags = e[i].tcp_flags;
            if (e[i].obfu_tcp_port != 0)
                s->obfu_tcp_port = e[i].obfu_tcp_port;
            if (e[i].obfu_udp_port != 0)
                s->obfu_udp_port = e[i].obfu_udp_port;
            if (e[i].udp_key != 0) {
                s->udp_key = e[i].udp_key;
                s->udp_key_ip = e[i].udp_key_ip;
            }
            s->ping_ms = e[i].ping_ms;
            s->priority = prio_from_met(e[i].preference);
            s->is_static = s->is_static || e[i].is_static;
            if (strcmp(source, "server.met") == 0) {
                s->failures = e[i].fails;
                s->last_seen = e[i].last_ping;
            }
        }
        if (is_new)
            (*added)++;
    }
    ed2k_server_entries_free(e, n);
    mark_changed(sl);
    return 0;
}

static void
load_met(serverlist_t *sl)
{
    char *path = met_path(sl);
    size_t len = 0, added, total;
    mt_error_t *err = NULL;
    uint8_t *data = mt_file_read(path, SL_MAX_MET_BYTES, &len, &err);
    if (data == NULL) {
        if (err->code != MT_ERR_NOT_FOUND)
            log_warn("servers: %s", err->message);
        mt_error_free(err);
        free(path);
        return;
    }
    if (sl_import_met(sl, data, len, "server.met", &added, &total, &err) != 0) {
        char *bad = xasprintf("%s.bad", path);
        log_warn("servers: %s is unreadable (%s); kept aside as %s", path, err->message, bad);
        rename(path, bad);
        free(bad);
        mt_error_free(err);
    } else {
        log_info("servers: %zu server(s) from %s", added, path);
    }
    sl->dirty_met = false;
    free(data);
    free(path);
}

typedef struct {
    serverlist_t *sl;
    char *path;
    struct evbuffer *data;
    int rc;
    char error[160];
} met_save_t;

static void
met_save_run(void *arg)
{
    met_save_t *j = arg;
    mt_error_t *err = NULL;
    j->rc = mt_file_write_atomic(j->path, evbuffer_pullup(j->data, -1),
                                 evbuffer_get_length(j->data), 0600, &err);
    if (j->rc != 0) {
        snprintf(j->error, sizeof j->error, "%s", err->message);
        mt_error_free(err);
    }
}

static void
met_save_done(void *arg, int cancelled)
{
    met_save_t *j = arg;
    if (!cancelled) {
        j->sl->saving = false;
        if (j->rc != 0) {
            log_warn("servers: %s", j->error);
            j->sl->dirty_met = true;
        }
    }
    evbuffer_free(j->data);
    free(j->path);
    free(j);
}

static struct evbuffer *
met_image(serverlist_t *sl)
{
    ed2k_server_entry_t *e = xcalloc(sl->n + 1, sizeof *e);
    for (size_t i = 0; i < sl->n; i++) {
        const sl_server_t *s = sl->v[i];
        uint32_t ip = 0;
        if (net_ip_parse(s->address, &ip) == 0)
            e[i].ip = ip;
        else
            e[i].dynip = s->address;
        e[i].port = s->port;
        e[i].name = s->name;
        e[i].description = s->description;
        e[i].version = s->version;
        e[i].users = s->users;
        e[i].files = s->files;
        e[i].max_users = s->max_users;
        e[i].soft_files = s->soft_files;
        e[i].hard_files = s->hard_files;
        e[i].lowid_users = s->lowid_users;
        e[i].udp_flags = s->udp_flags;
        e[i].tcp_flags = s->tcp_flags;
        e[i].obfu_tcp_port = s->obfu_tcp_port;
        e[i].obfu_udp_port = s->obfu_udp_port;
        e[i].udp_key = s->udp_key;
        e[i].udp_key_ip = s->udp_key_ip;
        e[i].ping_ms = s->ping_ms;
        e[i].fails = s->failures;
        e[i].last_ping = (uint32_t)s->last_seen;
        e[i].preference = prio_to_met(s->priority);
        e[i].is_static = s->is_static;
    }
    struct evbuffer *out = evbuffer_new();
    mt_error_t *err = NULL;
    if (ed2k_servermet_write(out, e, sl->n, &err) != 0) {
        log_error("servers: cannot encode server.met: %s", err->message);
        mt_error_free(err);
        evbuffer_free(out);
        out = NULL;
    }
    free(e); /* the strings belong to the servers */
    return out;
}

static void
save_met(serverlist_t *sl)
{
    if (sl->saving)
        return;
    struct evbuffer *img = met_image(sl);
    if (img == NULL)
        return;
    met_save_t *j = xcalloc(1, sizeof *j);
    j->sl = sl;
    j->path = met_path(sl);
    j->data = img;
    sl->saving = true;
    sl->dirty_met = false;
    worker_submit(sl->d->workers, met_save_run, met_save_done, j);
}

/* --------------------------------------------------------------- table */

json_object *
sl_server_to_json(const sl_server_t *s)
{
    json_object *o = json_object_new_object();
    char ip[16];
    json_object_object_add(o, "address", json_object_new_string(s->address));
    json_object_object_add(o, "port", json_object_new_int(s->port));
    json_object_object_add(o, "ip", s->ip != 0 ? json_object_new_string(net_ip_str(s->ip, ip)) : NULL);
    json_object_object_add(o, "name", json_object_new_string(s->name != NULL ? s->name : ""));
    json_object_object_add(o, "description",
                           json_object_new_string(s->description != NULL ? s->description : ""));
    json_object_object_add(o, "version", json_object_new_string(s->version != NULL ? s->version : ""));
    json_object_object_add(o, "users", json_object_new_int64(s->users));
    json_object_object_add(o, "files", json_object_new_int64(s->files));
    json_object_object_add(o, "max_users", json_object_new_int64(s->max_users));
    json_object_object_add(o, "lowid_users", json_object_new_int64(s->lowid_users));
    json_object_object_add(o, "soft_files", json_object_new_int64(s->soft_files));
    json_object_object_add(o, "hard_files", json_object_new_int64(s->hard_files));
    json_object_object_add(o, "tcp_flags", json_object_new_int64(s->tcp_flags));
    json_object_object_add(o, "udp_flags", json_object_new_int64(s->udp_flags));
    json_object_object_add(o, "ping_ms", json_object_new_int64(s->ping_ms));
    json_object_object_add(o, "failures", json_object_new_int64(s->failures));
    json_object_object_add(o, "last_seen", json_object_new_int64((int64_t)s->last_seen));
    json_object_object_add(o, "is_static", json_object_new_boolean(s->is_static));
    json_object_object_add(o, "priority", json_object_new_string(prio_name(s->priority)));
    json_object_object_add(o, "source", json_object_new_string(s->source));
    json_object_object_add(o, "connected", json_object_new_boolean(s->connected));
    return o;
}

static void
sync_db(serverlist_t *sl)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < sl->n; i++)
        json_object_array_add(arr, sl_server_to_json(sl->v[i]));
    store_servers_write(sl->d->db, conf_get_str(sl->d->conf, "node_name"),
                        json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    json_object_put(arr);
    sl->dirty_db = false;
}

/* ----------------------------------------------------------------- UDP */

/* crypt_key: the key to obfuscate datagrams to s with (§9.5,
 * srvpol_udp_crypt_key); 0: plain. */
static uint32_t
crypt_key(const serverlist_t *sl, const sl_server_t *s)
{
    return srvpol_udp_crypt_key(conf_get_bool(sl->d->conf, "obfuscation_support"), s->udp_flags,
                                s->obfu_udp_port, s->udp_key, s->udp_key_ip, sl->d->public_ip);
}

void
sl_udp_send(serverlist_t *sl, const sl_server_t *s, const uint8_t *data, size_t len)
{
    if (sl->udp_fd < 0 || s->ip == 0 || s->port > 65535 - 4 || len > 65536)
        return;
    uint16_t port = (uint16_t)(s->port + 4);
    uint32_t key = crypt_key(sl, s);
    uint8_t *enc = NULL;
    if (key != 0) {
        uint8_t r[3];
        if (mt_random_bytes(r, sizeof r, NULL) != 0)
            memset(r, 0x5A, sizeof r);
        enc = xmalloc(len + ED2K_SRV_CRYPT_HEADER_LEN);
        len = ed2k_srv_crypt_encrypt(data, len, key, ED2K_SRV_CRYPT_TO_SERVER, r, enc);
        data = enc;
        port = s->obfu_udp_port;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr = net_ip_to_in_addr(s->ip);
    if (sendto(sl->udp_fd, data, len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
        log_debug("servers: UDP to %s:%u: %s", s->address, port, strerror(errno));
    else
        sl->d->traffic.udp[TRAFFIC_OUT] += len;
    free(enc);
}

void
sl_set_udp_listener(serverlist_t *sl, sl_udp_fn fn, void *ctx)
{
    sl->listener = fn;
    sl->listener_ctx = ctx;
}

void
sl_set_forget_hook(serverlist_t *sl, void (*fn)(void *ctx, const sl_server_t *e), void *ctx)
{
    sl->forget = fn;
    sl->forget_ctx = ctx;
}

static void
send_stat(serverlist_t *sl, sl_server_t *s)
{
    struct evbuffer *b = evbuffer_new();
    s->challenge = ed2k_globservstat_challenge((uint16_t)(random() & 0xFFFF));
    ed2k_globservstatreq_encode(b, s->challenge);
    sl_udp_send(sl, s, evbuffer_pullup(b, -1), evbuffer_get_length(b));
    evbuffer_free(b);
    s->stat_sent_ms = clock_mono_ms();
    s->next_stat = clock_mono_s() + conf_get_int(sl->d->conf, "server_status_interval");
}

/* send_desc: asks a server without a name for its name and description
 * (OP_SERVER_DESC_REQ, §4), as aMule does after a status answer. */
static void
send_desc(serverlist_t *sl, sl_server_t *s)
{
    struct evbuffer *b = evbuffer_new();
    s->desc_challenge = ed2k_serverdesc_challenge((uint16_t)(random() & 0xFFFF));
    ed2k_serverdescreq_encode(b, s->desc_challenge);
    sl_udp_send(sl, s, evbuffer_pullup(b, -1), evbuffer_get_length(b));
    evbuffer_free(b);
}

static void
on_desc(serverlist_t *sl, sl_server_t *s, const uint8_t *p, size_t len)
{
    ed2k_serverdesc_t desc;
    mt_error_t *err = NULL;
    if (s->desc_challenge == 0)
        return; /* not asked */
    if (ed2k_serverdescres_decode(p, len, &desc, &err) != 0) {
        log_debug("servers: bad description from %s:%u: %s", s->address, s->port, err->message);
        mt_error_free(err);
        return;
    }
    if (desc.has_challenge && desc.challenge != s->desc_challenge) {
        ed2k_serverdesc_clear(&desc);
        return;
    }
    s->desc_challenge = 0;
    set_str(&s->name, desc.name);
    set_str(&s->description, desc.description);
    set_str(&s->version, desc.version);
    ed2k_serverdesc_clear(&desc);
    mark_changed(sl);
}

static void
on_stat(serverlist_t *sl, sl_server_t *s, const uint8_t *p, size_t len)
{
    ed2k_servstat_t st;
    mt_error_t *err = NULL;
    if (ed2k_globservstatres_decode(p, len, &st, &err) != 0) {
        log_debug("servers: bad status from %s:%u: %s", s->address, s->port, err->message);
        mt_error_free(err);
        return;
    }
    if (s->stat_sent_ms == 0 || st.challenge != s->challenge) {
        log_debug("servers: status from %s:%u with a wrong challenge, ignored", s->address, s->port);
        return;
    }
    int64_t rtt = clock_mono_ms() - s->stat_sent_ms;
    s->stat_sent_ms = 0;
    s->ping_ms = rtt > 0 ? (uint32_t)rtt : 1;
    s->users = st.users;
    s->files = st.files;
    if (st.has_max_users)
        s->max_users = st.max_users;
    if (st.has_limits) {
        s->soft_files = st.soft_files;
        s->hard_files = st.hard_files;
    }
    if (st.has_udp_flags)
        s->udp_flags = st.udp_flags;
    if (st.has_lowid_users)
        s->lowid_users = st.lowid_users;
    if (st.has_obfuscation) {
        s->obfu_tcp_port = st.obfu_tcp_port;
        s->obfu_udp_port = st.obfu_udp_port;
        /* the key holds for the address we have now (aMule's rule) */
        s->udp_key = sl->d->public_ip != 0 ? st.udp_key : 0;
        s->udp_key_ip = sl->d->public_ip;
    }
    s->failures = 0;
    s->last_seen = time(NULL);
    mark_changed(sl);
    if (s->name == NULL || s->name[0] == '\0')
        send_desc(sl, s);
}

/* find_udp: the server a datagram from ip:port came from: its UDP port
 * (TCP port + 4, §4) or its UDP obfuscation port. */
static sl_server_t *
find_udp(serverlist_t *sl, uint32_t ip, uint16_t port)
{
    sl_server_t *s = port >= 4 ? sl_find_ip(sl, ip, (uint16_t)(port - 4)) : NULL;
    for (size_t i = 0; s == NULL && i < sl->n; i++)
        if (sl->v[i]->ip == ip && sl->v[i]->obfu_udp_port == port)
            s = sl->v[i];
    return s;
}

/* open_crypt: an obfuscated datagram from s (§9.5), decrypted into out
 * (room for *len bytes) with the key s gave us: out (*len updated), or NULL when
 * it cannot be read (no key, not obfuscated with it, or no eD2K
 * datagram inside). */
static const uint8_t *
open_crypt(serverlist_t *sl, sl_server_t *s, const uint8_t *buf, size_t *len, uint8_t *out)
{
    uint32_t key = crypt_key(sl, s);
    size_t out_len = 0;
    mt_error_t *err = NULL;
    if (key == 0 || ed2k_srv_crypt_decrypt(buf, *len, key, ED2K_SRV_CRYPT_FROM_SERVER, out, &out_len,
                                           &err) != 0) {
        log_debug("servers: unreadable UDP from %s:%u: %s", s->address, s->port,
                  err != NULL ? err->message : "obfuscated, but we hold no key");
        mt_error_free(err);
        return NULL;
    }
    if (out_len < 2 || out[0] != 0xE3)
        return NULL;
    *len = out_len;
    return out;
}

static void
on_udp(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    serverlist_t *sl = arg;
    for (int k = 0; k < 64; k++) {
        uint8_t buf[65536], plain[65536];
        struct sockaddr_in sa;
        socklen_t sl_len = sizeof sa;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&sa, &sl_len);
        if (n < 0)
            return;
        sl->d->traffic.udp[TRAFFIC_IN] += (uint64_t)n;
        if (n < 2)
            continue;
        uint32_t ip = net_ip_from_in_addr(sa.sin_addr);
        sl_server_t *s = find_udp(sl, ip, ntohs(sa.sin_port));
        if (s == NULL) {
            char ipb[16];
            log_debug("servers: UDP from unknown %s:%u ignored", net_ip_str(ip, ipb),
                      ntohs(sa.sin_port));
            continue;
        }
        const uint8_t *p = buf;
        size_t len = (size_t)n;
        if (p[0] != 0xE3 && (p = open_crypt(sl, s, buf, &len, plain)) == NULL)
            continue;
        if (p[1] == ED2K_SOP_GLOBSERVSTATRES)
            on_stat(sl, s, p + 2, len - 2);
        else if (p[1] == ED2K_SOP_SERVER_DESC_RES)
            on_desc(sl, s, p + 2, len - 2);
        else if (sl->listener != NULL)
            sl->listener(sl->listener_ctx, s, p[1], p + 2, len - 2);
    }
}

static void
open_udp(serverlist_t *sl)
{
    sl->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sl->udp_fd < 0) {
        log_warn("servers: no UDP socket: %s", strerror(errno));
        return;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET };
    if (bind(sl->udp_fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        log_warn("servers: cannot bind a UDP socket: %s", strerror(errno));
        close(sl->udp_fd);
        sl->udp_fd = -1;
        return;
    }
    sl->udp_ev = event_new(sl->d->base, sl->udp_fd, EV_READ | EV_PERSIST, on_udp, sl);
    event_add(sl->udp_ev, NULL);
}

/* ------------------------------------------------------------- imports */

typedef struct {
    serverlist_t *sl;
    sl_import_t *imp;
} fetch_t;

static void
fetch_done(void *arg, struct evbuffer *body, const mt_error_t *ferr, bool cancelled)
{
    fetch_t *f = arg;
    if (!cancelled) {
        sl_import_t *imp = f->imp;
        free(imp->state);
        if (ferr == NULL) {
            mt_error_t *err = NULL;
            size_t len = evbuffer_get_length(body);
            if (sl_import_met(f->sl, evbuffer_pullup(body, -1), len, "url", &imp->added,
                              &imp->total, &err) == 0) {
                imp->state = xstrdup("done");
                log_info("servers: %zu new server(s) of %zu from %s", imp->added, imp->total,
                         imp->url);
            } else {
                imp->state = xstrdup("failed");
                imp->error = xasprintf("%s is not a server.met: %s", imp->url, err->message);
                mt_error_free(err);
            }
        } else {
            imp->state = xstrdup("failed");
            imp->error = xstrdup(ferr->message);
        }
        if (imp->error != NULL)
            log_warn("servers: %s", imp->error);
    }
    free(f);
}

static sl_import_t *
start_fetch(serverlist_t *sl, const char *url)
{
    sl_import_t *imp = xcalloc(1, sizeof *imp);
    imp->url = xstrdup(url);
    imp->state = xstrdup("fetching");
    imp->started = time(NULL);
    imp->next = sl->imports;
    sl->imports = imp;
    /* keep the 10 most recent */
    size_t k = 0;
    for (sl_import_t *i = sl->imports; i != NULL; i = i->next)
        if (++k == 10) {
            sl_import_t *rest = i->next;
            i->next = NULL;
            while (rest != NULL) {
                sl_import_t *nx = rest->next;
                if (strcmp(rest->state, "fetching") == 0) {
                    /* still referenced by its fetch: keep it */
                    rest->next = i->next;
                    i->next = rest;
                } else {
                    free(rest->url);
                    free(rest->state);
                    free(rest->error);
                    free(rest);
                }
                rest = nx;
            }
            break;
        }
    fetch_t *f = xcalloc(1, sizeof *f);
    f->sl = sl;
    f->imp = imp;
    const urlfetch_limits_t lim = { .max_bytes = SL_MAX_MET_BYTES, .timeout_s = 60 };
    mt_error_t *err = NULL;
    if (urlfetch_start(sl->d->workers, url, &lim, fetch_done, f, &err) != 0) {
        /* a link's URL is checked when parsed: this is a bug */
        free(imp->state);
        imp->state = xstrdup("failed");
        imp->error = xstrdup(err->message);
        mt_error_free(err);
        free(f);
    }
    return imp;
}

static json_object *
import_to_json(const sl_import_t *imp)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "url", json_object_new_string(imp->url));
    json_object_object_add(o, "state", json_object_new_string(imp->state));
    json_object_object_add(o, "added", json_object_new_int64((int64_t)imp->added));
    json_object_object_add(o, "total", json_object_new_int64((int64_t)imp->total));
    json_object_object_add(o, "error", imp->error != NULL ? json_object_new_string(imp->error) : NULL);
    json_object_object_add(o, "started", json_object_new_int64((int64_t)imp->started));
    return o;
}

/* ------------------------------------------------------------ lifecycle */

static void
add_configured(serverlist_t *sl)
{
    char *copy = xstrdup(conf_get_str(sl->d->conf, "servers"));
    char *save = NULL;
    for (char *item = strtok_r(copy, ", \t", &save); item != NULL;
         item = strtok_r(NULL, ", \t", &save)) {
        char *colon = strrchr(item, ':');
        char *end = NULL;
        long port = colon != NULL ? strtol(colon + 1, &end, 10) : 0;
        if (colon == NULL || end == colon + 1 || *end != '\0' || port < 1 || port > 65535) {
            log_error("servers: \"%s\" in the configuration is not host:port", item);
            continue;
        }
        *colon = '\0';
        mt_error_t *err = NULL;
        sl_server_t *s = sl_add(sl, item, (uint16_t)port, "config", NULL, &err);
        if (s == NULL) {
            log_error("servers: %s", err->message);
            mt_error_free(err);
            continue;
        }
        s->is_static = true;
        s->source = "config";
    }
    free(copy);
}

serverlist_t *
sl_new(muleteerd_t *d)
{
    serverlist_t *sl = xcalloc(1, sizeof *sl);
    sl->d = d;
    sl->udp_fd = -1;
    load_met(sl);
    add_configured(sl);
    open_udp(sl);
    sl->next_stat_at = clock_mono_s() + 5;
    sl->dirty_db = true;
    return sl;
}

void
sl_free(serverlist_t *sl)
{
    if (sl == NULL)
        return;
    if (sl->udp_ev != NULL)
        event_free(sl->udp_ev);
    if (sl->udp_fd >= 0)
        close(sl->udp_fd);
    if (sl->dirty_met && !sl->saving) {
        /* the last changes, on the way out (the workers are gone) */
        met_save_t j = { .sl = sl, .path = met_path(sl), .data = met_image(sl) };
        if (j.data != NULL) {
            met_save_run(&j);
            if (j.rc != 0)
                log_warn("servers: %s", j.error);
            evbuffer_free(j.data);
        }
        free(j.path);
    }
    for (size_t i = 0; i < sl->n; i++)
        server_free(sl->v[i]);
    free(sl->v);
    while (sl->imports != NULL) {
        sl_import_t *nx = sl->imports->next;
        free(sl->imports->url);
        free(sl->imports->state);
        free(sl->imports->error);
        free(sl->imports);
        sl->imports = nx;
    }
    free(sl);
}

void
sl_tick(serverlist_t *sl)
{
    time_t now = clock_mono_s();
    int64_t now_ms = clock_mono_ms();
    /* status answers that never came */
    for (size_t i = 0; i < sl->n; i++) {
        sl_server_t *s = sl->v[i];
        if (s->stat_sent_ms != 0 && now_ms - s->stat_sent_ms > SL_STAT_TIMEOUT_MS) {
            s->stat_sent_ms = 0;
            if (!s->connected && sl_failed(sl, s, "no answer to a UDP status request"))
                i--;
        }
    }
    /* one status request every few seconds, to the server most overdue */
    if (conf_get_bool(sl->d->conf, "server_udp_status") && now >= sl->next_stat_at) {
        sl->next_stat_at = now + SL_STAT_SPACING;
        sl_server_t *due = NULL;
        for (size_t i = 0; i < sl->n; i++) {
            sl_server_t *s = sl->v[i];
            if (s->ip != 0 && s->stat_sent_ms == 0 && now >= s->next_stat &&
                (due == NULL || s->next_stat < due->next_stat))
                due = s;
        }
        if (due != NULL)
            send_stat(sl, due);
    }
    /* after an outage the table is written again (a queued job may have
     * been dropped) */
    dbw_status_t ds;
    dbw_get_status(sl->d->db, &ds);
    if (ds.connected && !sl->db_was_connected) {
        sl->dirty_db = true;
        if (sl->save_at == 0)
            sl->save_at = now;
    }
    sl->db_was_connected = ds.connected;
    if (sl->save_at != 0 && now >= sl->save_at) {
        sl->save_at = 0;
        if (sl->dirty_met)
            save_met(sl);
        if (sl->dirty_db)
            sync_db(sl);
    }
}

/* ------------------------------------------------------------- the API */

json_object *
sl_to_json(const serverlist_t *sl)
{
    json_object *o = json_object_new_object();
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < sl->n; i++)
        json_object_array_add(arr, sl_server_to_json(sl->v[i]));
    json_object_object_add(o, "servers", arr);
    json_object *imps = json_object_new_array();
    for (sl_import_t *i = sl->imports; i != NULL; i = i->next)
        json_object_array_add(imps, import_to_json(i));
    json_object_object_add(o, "imports", imps);
    return o;
}

json_object *
sl_add_server(serverlist_t *sl, const char *address, uint16_t port, int priority, int is_static,
              mt_error_t **err)
{
    bool added = false;
    sl_server_t *s = sl_add(sl, address, port, "user", &added, err);
    if (s == NULL)
        return NULL;
    if (priority != SL_PRIO_UNSET)
        s->priority = (sl_priority_t)priority;
    if (is_static >= 0)
        s->is_static = is_static != 0;
    mark_changed(sl);
    json_object *o = sl_server_to_json(s);
    json_object_object_add(o, "added", json_object_new_boolean(added));
    return o;
}

static bool
has_prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

json_object *
sl_import_source(serverlist_t *sl, const char *source, mt_error_t **err)
{
    json_object *o = json_object_new_object();
    if (has_prefix_ci(source, "ed2k://")) {
        ed2k_link_t *link = NULL;
        if (ed2k_link_parse(source, &link, err) != 0) {
            json_object_put(o);
            return NULL;
        }
        if (link->type == ED2K_LINK_SERVERLIST) {
            sl_import_t *imp = start_fetch(sl, link->url);
            json_object_object_add(o, "import", import_to_json(imp));
        } else if (link->type == ED2K_LINK_SERVER) {
            bool added = false;
            sl_server_t *s = sl_add(sl, link->host, link->port, "link", &added, err);
            if (s == NULL) {
                ed2k_link_free(link);
                json_object_put(o);
                return NULL;
            }
            json_object_object_add(o, "added", json_object_new_int(added ? 1 : 0));
            json_object_object_add(o, "total", json_object_new_int(1));
        } else {
            mt_error_set(err, MT_ERR_INVALID, "a file link is not a server: use add");
            ed2k_link_free(link);
            json_object_put(o);
            return NULL;
        }
        ed2k_link_free(link);
    } else if (has_prefix_ci(source, "http://") || has_prefix_ci(source, "https://")) {
        sl_import_t *imp = start_fetch(sl, source);
        json_object_object_add(o, "import", import_to_json(imp));
    } else {
        size_t len = 0, added = 0, total = 0;
        uint8_t *data = mt_file_read(source, SL_MAX_MET_BYTES, &len, err);
        if (data == NULL || sl_import_met(sl, data, len, "server.met import", &added, &total, err) != 0) {
            free(data);
            json_object_put(o);
            return NULL;
        }
        free(data);
        log_info("servers: %zu new server(s) of %zu from %s", added, total, source);
        json_object_object_add(o, "added", json_object_new_int64((int64_t)added));
        json_object_object_add(o, "total", json_object_new_int64((int64_t)total));
    }
    return o;
}
