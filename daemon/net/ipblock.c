/* ipblock.c: the daemon's IP filter. The list (a file, or an http(s) URL
 * fetched with urlfetch_get) is read and parsed on a worker thread; the loop
 * thread then swaps the new table in with one pointer store, so a lookup
 * sees the old table or the new, never a mix. A failed load keeps the old
 * table. Lookups are lib/util/ipfilter.c's binary search. */
#include "config.h"

#include "daemon/net/ipblock.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/core/daemon.h"
#include "daemon/net/net.h"
#include "daemon/net/urlfetch.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/ipfilter.h"
#include "util/log.h"
#include "util/xalloc.h"

/* The largest list fetched (compressed or not). */
#define IPBLOCK_MAX_FETCH (64u * 1024 * 1024)

struct ipblock {
    muleteerd_t *d;
    ipfilter_t *table;   /* in use; NULL: nothing filtered */
    char *source;        /* the configured source ("" for none) */
    int level;           /* the configured level */
    char *table_source;  /* what table was read from */
    int table_level;
    time_t loaded_at;    /* wall clock of the table; 0: none */
    time_t attempt_mono; /* the last load started (monotonic s) */
    bool loading, again; /* a load runs; another is wanted after it */
    bool failed;         /* the last load failed (error says why) */
    char *error;
    uint64_t loads;      /* loads finished, good or not */
    uint64_t hits[IPBLOCK_N_KINDS];
};

static const char *const kind_keys[IPBLOCK_N_KINDS] = {
    [IPBLOCK_PEER_IN] = "peers_in",
    [IPBLOCK_PEER_OUT] = "peers_out",
    [IPBLOCK_SOURCE] = "sources",
    [IPBLOCK_SERVER] = "servers",
};

/* ------------------------------------------------------ on the worker */

typedef struct {
    ipblock_t *b;
    char *source;
    int level;
    uint8_t *data;
    size_t len;
    ipfilter_t *table; /* the result, or NULL and error */
    char *error;
} load_t;

/* fetch: the URL's body into l->data. */
static int
fetch(load_t *l)
{
    const urlfetch_limits_t lim = { .max_bytes = IPBLOCK_MAX_FETCH, .timeout_s = 300 };
    struct evbuffer *b = evbuffer_new();
    mt_error_t *err = NULL;
    int rc = urlfetch_get(l->source, &lim, b, &err);
    if (rc != 0) {
        l->error = xstrdup(err->message);
        mt_error_free(err);
    } else {
        l->len = evbuffer_get_length(b);
        l->data = xmalloc(l->len + 1);
        evbuffer_remove(b, l->data, l->len);
    }
    evbuffer_free(b);
    return rc;
}

static void
load_run(void *arg)
{
    load_t *l = arg;
    mt_error_t *err = NULL;
    if (urlfetch_is_url(l->source)) {
        if (fetch(l) != 0)
            return;
    } else {
        l->data = mt_file_read(l->source, IPFILTER_MAX_TEXT, &l->len, &err);
        if (l->data == NULL) {
            l->error = xstrdup(err->message);
            mt_error_free(err);
            return;
        }
    }
    if (ipfilter_load(l->data, l->len, l->level, &l->table, &err) != 0) {
        l->error = xasprintf("%s: %s", l->source, err->message);
        mt_error_free(err);
    }
    free(l->data);
    l->data = NULL;
}

/* --------------------------------------------------- on the loop thread */

static void start_load(ipblock_t *b);

static void
load_done(void *arg, int cancelled)
{
    load_t *l = arg;
    ipblock_t *b = l->b;
    if (!cancelled) {
        b->loading = false;
        b->loads++;
        free(b->error);
        b->error = NULL;
        if (l->table != NULL) {
            ipfilter_t *old = b->table;
            b->table = l->table; /* the swap: lookups see the new table now */
            l->table = NULL;
            ipfilter_free(old);
            free(b->table_source);
            b->table_source = xstrdup(l->source);
            b->table_level = l->level;
            b->loaded_at = time(NULL);
            b->failed = false;
            log_info("ipfilter: %zu range(s) from %s (%zu line(s) read, %zu bad, level %d, "
                     "%zu bytes)", ipfilter_ranges(b->table), l->source,
                     ipfilter_lines(b->table), ipfilter_bad_lines(b->table), l->level,
                     ipfilter_memory(b->table));
        } else {
            b->failed = true;
            b->error = l->error;
            l->error = NULL;
            log_warn("ipfilter: keeping the %zu range(s) in use: %s", ipfilter_ranges(b->table),
                     b->error);
        }
        if (b->again) {
            b->again = false;
            start_load(b);
        }
    }
    ipfilter_free(l->table);
    free(l->data);
    free(l->error);
    free(l->source);
    free(l);
}

static void
start_load(ipblock_t *b)
{
    if (b->loading) {
        b->again = true;
        return;
    }
    if (b->source[0] == '\0') {
        ipfilter_free(b->table);
        b->table = NULL;
        b->loaded_at = 0;
        b->failed = false;
        return;
    }
    load_t *l = xcalloc(1, sizeof *l);
    l->b = b;
    l->source = xstrdup(b->source);
    l->level = b->level;
    b->loading = true;
    b->attempt_mono = clock_mono_s();
    worker_submit(b->d->workers, load_run, load_done, l);
}

static void
read_conf(ipblock_t *b)
{
    free(b->source);
    b->source = xstrdup(conf_get_str(b->d->conf, "ipfilter"));
    b->level = (int)conf_get_int(b->d->conf, "ipfilter_level");
}

ipblock_t *
ipblock_new(muleteerd_t *d)
{
    ipblock_t *b = xcalloc(1, sizeof *b);
    b->d = d;
    read_conf(b);
    start_load(b);
    return b;
}

void
ipblock_free(ipblock_t *b)
{
    if (b == NULL)
        return;
    ipfilter_free(b->table);
    free(b->source);
    free(b->table_source);
    free(b->error);
    free(b);
}

bool
ipblock_blocks(ipblock_t *b, uint32_t ip, ipblock_kind_t kind)
{
    if (b == NULL || !ipfilter_blocks(b->table, net_ip_to_host(ip)))
        return false;
    if (kind < IPBLOCK_N_KINDS)
        b->hits[kind]++;
    char buf[16];
    log_debug("ipfilter: %s filtered (%s)", net_ip_str(ip, buf),
              kind < IPBLOCK_N_KINDS ? kind_keys[kind] : "?");
    return true;
}

int
ipblock_reload(ipblock_t *b, mt_error_t **err)
{
    read_conf(b);
    if (b->source[0] == '\0') {
        start_load(b); /* drops a table left from before */
        mt_error_set(err, MT_ERR_INVALID, "no IP filter is configured (the ipfilter key)");
        return -1;
    }
    start_load(b);
    return 0;
}

void
ipblock_conf_changed(ipblock_t *b)
{
    char *old = xstrdup(b->source);
    int old_level = b->level;
    read_conf(b);
    if (strcmp(old, b->source) != 0 || old_level != b->level)
        start_load(b);
    free(old);
}

void
ipblock_tick(ipblock_t *b)
{
    if (b == NULL || b->loading || b->source[0] == '\0')
        return;
    long long hours = conf_get_int(b->d->conf, "ipfilter_refresh_hours");
    if (hours <= 0)
        return;
    if (clock_mono_s() - b->attempt_mono >= (time_t)(hours * 3600))
        start_load(b);
}

uint64_t
ipblock_hits(const ipblock_t *b)
{
    uint64_t n = 0;
    for (int k = 0; b != NULL && k < IPBLOCK_N_KINDS; k++)
        n += b->hits[k];
    return n;
}

json_object *
ipblock_to_json(const ipblock_t *b)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "source", json_object_new_string(b->source));
    json_object_object_add(o, "level", json_object_new_int(b->level));
    const char *state = b->loading ? "loading" : b->failed ? "failed"
                        : b->table != NULL ? "loaded" : "none";
    json_object_object_add(o, "state", json_object_new_string(state));
    json_object_object_add(o, "ranges", json_object_new_int64((int64_t)ipfilter_ranges(b->table)));
    json_object_object_add(o, "lines", json_object_new_int64((int64_t)ipfilter_lines(b->table)));
    json_object_object_add(o, "bad_lines",
                           json_object_new_int64((int64_t)ipfilter_bad_lines(b->table)));
    json_object_object_add(o, "memory", json_object_new_int64((int64_t)ipfilter_memory(b->table)));
    json_object_object_add(o, "loaded_from", b->table_source != NULL && b->table != NULL
                                                 ? json_object_new_string(b->table_source)
                                                 : NULL);
    json_object_object_add(o, "loaded_at",
                           b->loaded_at != 0 ? json_object_new_int64(b->loaded_at) : NULL);
    json_object_object_add(o, "loads", json_object_new_int64((int64_t)b->loads));
    json_object_object_add(o, "error", b->error != NULL ? json_object_new_string(b->error) : NULL);
    json_object_object_add(o, "refresh_hours",
                           json_object_new_int64(conf_get_int(b->d->conf, "ipfilter_refresh_hours")));
    json_object *h = json_object_new_object();
    for (int k = 0; k < IPBLOCK_N_KINDS; k++)
        json_object_object_add(h, kind_keys[k], json_object_new_int64((int64_t)b->hits[k]));
    json_object_object_add(h, "total", json_object_new_int64((int64_t)ipblock_hits(b)));
    json_object_object_add(o, "hits", h);
    return o;
}
