/* webhook.c: the webhook sender thread (webhook.h). Each URL of an event
 * is a delivery of its own in one queue; the thread takes the delivery
 * due first, POSTs it, and puts it back with a later due time when it
 * failed and has retries left, so a slow or failing receiver delays the
 * others by one request's time limit at most. */
#include "config.h"

#include "daemon/hooks/hookbody.h"
#include "daemon/hooks/webhook.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MAX_MS 60000

typedef struct {
    char *url, *body, *secret, *event;
    unsigned timeout_s, retries, backoff_ms;
    unsigned attempt; /* attempts made */
    int64_t due_ms;   /* monotonic */
} delivery_t;

struct webhook {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC */
    delivery_t **q;      /* under lock */
    size_t n, cap;       /* under lock */
    webhook_stats_t st;  /* under lock */
    atomic_bool stop;
};

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
delivery_free(delivery_t *dv)
{
    if (dv == NULL)
        return;
    free(dv->url);
    free(dv->body);
    free(dv->secret);
    free(dv->event);
    free(dv);
}

/* push: adds dv to the queue (lock held). */
static void
push(webhook_t *w, delivery_t *dv)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->q = xreallocarray(w->q, w->cap, sizeof *w->q);
    }
    w->q[w->n++] = dv;
    pthread_cond_signal(&w->cond);
}

/* url_shown: the URL as logged: without its query, which may hold a
 * token. Caller frees. */
static char *
url_shown(const char *url)
{
    return xstrndup(url, strcspn(url, "?#"));
}

static size_t
discard_body(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static int
abort_on_stop(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    webhook_t *w = ud;
    return atomic_load(&w->stop) ? 1 : 0;
}

/* post: one attempt; true when the receiver answered 2xx. *status is the
 * HTTP status (0: none), errbuf libcurl's reason for a failure. */
static bool
post(webhook_t *w, const delivery_t *dv, long *status, char *errbuf)
{
    CURL *c = curl_easy_init();
    if (c == NULL) {
        strcpy(errbuf, "cannot start libcurl");
        return false;
    }
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    char *ev = xasprintf("X-Muleteer-Event: %s", dv->event);
    h = curl_slist_append(h, ev);
    free(ev);
    if (dv->secret[0] != '\0') {
        char sig[HOOK_SIGNATURE_LEN];
        hook_signature(dv->secret, dv->body, strlen(dv->body), sig);
        char *hs = xasprintf("X-Muleteer-Signature: %s", sig);
        h = curl_slist_append(h, hs);
        free(hs);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, dv->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)dv->timeout_s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)dv->timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "Muleteer/" PACKAGE_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, dv->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(dv->body));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, w);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    errbuf[0] = '\0';
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (rc != CURLE_OK && errbuf[0] == '\0')
        snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return rc == CURLE_OK && *status >= 200 && *status < 300;
}

/* next_due: the index of the delivery due first (lock held, n > 0). */
static size_t
next_due(const webhook_t *w)
{
    size_t best = 0;
    for (size_t i = 1; i < w->n; i++)
        if (w->q[i]->due_ms < w->q[best]->due_ms)
            best = i;
    return best;
}

/* attempt: one attempt of dv (lock not held); dv goes back into the queue
 * or is freed. */
static void
attempt(webhook_t *w, delivery_t *dv)
{
    char errbuf[CURL_ERROR_SIZE];
    long status;
    bool ok = post(w, dv, &status, errbuf);
    dv->attempt++;
    char *shown = url_shown(dv->url);
    pthread_mutex_lock(&w->lock);
    if (ok) {
        w->st.delivered++;
        log_info("webhook %s to %s: delivered (HTTP %ld)", dv->event, shown, status);
        delivery_free(dv);
    } else if (dv->attempt <= dv->retries && !atomic_load(&w->stop)) {
        uint64_t wait = (uint64_t)dv->backoff_ms << (dv->attempt - 1 < 16 ? dv->attempt - 1 : 16);
        if (wait > BACKOFF_MAX_MS)
            wait = BACKOFF_MAX_MS;
        dv->due_ms = now_ms() + (int64_t)wait;
        w->st.retried++;
        char why[CURL_ERROR_SIZE + 16];
        if (status != 0)
            snprintf(why, sizeof why, "HTTP %ld", status);
        else
            snprintf(why, sizeof why, "%s", errbuf);
        log_warn("webhook %s to %s: %s; retry %u of %u in %llu ms", dv->event, shown, why,
                 dv->attempt, dv->retries, (unsigned long long)wait);
        push(w, dv);
    } else {
        w->st.failed++;
        log_warn("webhook %s to %s: given up after %u attempt(s) (last: HTTP %ld%s%s)",
                 dv->event, shown, dv->attempt, status, errbuf[0] ? ", " : "", errbuf);
        delivery_free(dv);
    }
    pthread_mutex_unlock(&w->lock);
    free(shown);
}

static void *
run(void *arg)
{
    webhook_t *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!atomic_load(&w->stop)) {
        if (w->n == 0) {
            pthread_cond_wait(&w->cond, &w->lock);
            continue;
        }
        size_t i = next_due(w);
        int64_t due = w->q[i]->due_ms, now = now_ms();
        if (due > now) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t ns = ts.tv_nsec + (due - now) * 1000000;
            ts.tv_sec += ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&w->cond, &w->lock, &ts);
            continue;
        }
        delivery_t *dv = w->q[i];
        w->q[i] = w->q[--w->n];
        w->st.pending = w->n;
        pthread_mutex_unlock(&w->lock);
        attempt(w, dv);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

webhook_t *
webhook_new(void)
{
    webhook_t *w = xcalloc(1, sizeof *w);
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&w->stop, false);
    if (pthread_create(&w->thread, NULL, run, w) != 0)
        abort(); /* as an allocation failure: nothing sensible to do */
    return w;
}

void
webhook_free(webhook_t *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->stop, true);
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    if (w->n > 0)
        log_warn("webhooks: %zu delivery(ies) dropped at shutdown", w->n);
    for (size_t i = 0; i < w->n; i++)
        delivery_free(w->q[i]);
    free(w->q);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

size_t
webhook_send(webhook_t *w, const char *urls, const char *secret, const char *event,
             const char *body, const webhook_opts_t *o)
{
    size_t queued = 0;
    int64_t now = now_ms();
    pthread_mutex_lock(&w->lock);
    for (const char *p = urls; *p != '\0';) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (len == 0)
            break;
        if (w->n >= o->max_queued) {
            w->st.dropped++;
            char *u = xstrndup(p, len), *shown = url_shown(u);
            log_warn("webhook %s to %s: dropped, %zu deliveries are queued", event, shown, w->n);
            free(shown);
            free(u);
        } else {
            delivery_t *dv = xcalloc(1, sizeof *dv);
            *dv = (delivery_t){ .url = xstrndup(p, len), .body = xstrdup(body),
                                .secret = xstrdup(secret != NULL ? secret : ""),
                                .event = xstrdup(event), .timeout_s = o->timeout_s,
                                .retries = o->retries, .backoff_ms = o->backoff_ms,
                                .due_ms = now };
            push(w, dv);
            w->st.queued++;
            queued++;
        }
        p += len;
    }
    w->st.pending = w->n;
    pthread_mutex_unlock(&w->lock);
    return queued;
}

void
webhook_get_stats(webhook_t *w, webhook_stats_t *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->st;
    out->pending = w->n;
    pthread_mutex_unlock(&w->lock);
}
