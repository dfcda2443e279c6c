/* nodesurl.c: nodes.dat imports from URLs (nodesurl.h): a record per
 * import, the body fetched by urlfetch on a worker, imported on the loop
 * thread when it arrives. */
#include "config.h"

#include "daemon/kad/nodesurl.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/net/urlfetch.h"
#include "util/log.h"
#include "util/xalloc.h"

#define NODESURL_KEPT 10

typedef struct import {
    struct import *next;
    nodesurl_t *owner;
    char *url;
    const char *state; /* "fetching", "done", "failed" */
    char *error;
    size_t added, total;
    time_t started;
} import_t;

struct nodesurl {
    worker_pool_t *pool;
    nodesurl_import_fn fn;
    void *ctx;
    import_t *imports; /* newest first */
};

static void
import_free(import_t *i)
{
    free(i->url);
    free(i->error);
    free(i);
}

nodesurl_t *
nodesurl_new(worker_pool_t *pool, nodesurl_import_fn fn, void *ctx)
{
    nodesurl_t *n = xcalloc(1, sizeof *n);
    n->pool = pool;
    n->fn = fn;
    n->ctx = ctx;
    return n;
}

void
nodesurl_free(nodesurl_t *n)
{
    if (n == NULL)
        return;
    while (n->imports != NULL) {
        import_t *nx = n->imports->next;
        import_free(n->imports);
        n->imports = nx;
    }
    free(n);
}

static json_object *
import_to_json(const import_t *i)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "url", json_object_new_string(i->url));
    json_object_object_add(o, "state", json_object_new_string(i->state));
    json_object_object_add(o, "added", json_object_new_int64((int64_t)i->added));
    json_object_object_add(o, "total", json_object_new_int64((int64_t)i->total));
    json_object_object_add(o, "error", i->error != NULL ? json_object_new_string(i->error) : NULL);
    json_object_object_add(o, "started", json_object_new_int64((int64_t)i->started));
    return o;
}

/* trim: keeps the NODESURL_KEPT newest, and any older one still fetching
 * (its fetch holds it). */
static void
trim(nodesurl_t *n)
{
    size_t k = 0;
    for (import_t **p = &n->imports; *p != NULL;) {
        import_t *i = *p;
        if (++k > NODESURL_KEPT && strcmp(i->state, "fetching") != 0) {
            *p = i->next;
            import_free(i);
        } else {
            p = &i->next;
        }
    }
}

static void
fetched(void *arg, struct evbuffer *body, const mt_error_t *ferr, bool cancelled)
{
    import_t *i = arg;
    if (cancelled)
        return; /* the owner frees the record */
    if (ferr != NULL) {
        i->error = xstrdup(ferr->message);
    } else {
        mt_error_t *err = NULL;
        size_t len = evbuffer_get_length(body);
        if (i->owner->fn(i->owner->ctx, evbuffer_pullup(body, -1), len, i->url, &i->added,
                         &i->total, &err) != 0) {
            i->error = xasprintf("%s is not a nodes.dat: %s", i->url, err->message);
            mt_error_free(err);
        }
    }
    i->state = i->error != NULL ? "failed" : "done";
    if (i->error != NULL)
        log_warn("Kad: %s", i->error); /* a success is logged by the import */
    trim(i->owner);
}

json_object *
nodesurl_start(nodesurl_t *n, const char *url, mt_error_t **err)
{
    if (n->pool == NULL) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "cannot fetch %s: no worker threads", url);
        return NULL;
    }
    if (!urlfetch_is_url(url)) {
        mt_error_set(err, MT_ERR_INVALID, "\"%s\" is not an http:// or https:// URL", url);
        return NULL;
    }
    import_t *i = xcalloc(1, sizeof *i);
    i->owner = n;
    i->url = xstrdup(url);
    i->state = "fetching";
    i->started = time(NULL);
    const urlfetch_limits_t lim = { .max_bytes = NODESURL_MAX_BYTES,
                                    .timeout_s = NODESURL_TIMEOUT_S };
    if (urlfetch_start(n->pool, url, &lim, fetched, i, err) != 0) {
        import_free(i);
        return NULL;
    }
    i->next = n->imports;
    n->imports = i;
    trim(n);
    log_info("Kad: fetching nodes.dat from %s", url);
    return import_to_json(i);
}

json_object *
nodesurl_to_json(const nodesurl_t *n)
{
    json_object *a = json_object_new_array();
    for (const import_t *i = n->imports; i != NULL; i = i->next)
        json_object_array_add(a, import_to_json(i));
    return a;
}
