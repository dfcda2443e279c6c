/* urlfetch.c: the lists Muleteer downloads over HTTP(S), fetched with
 * libcurl on a worker thread and handed back to the loop thread whole
 * (urlfetch_start), or fetched in place by a job already on a worker
 * (urlfetch_get). */
#include "config.h"

#include "daemon/net/urlfetch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

#define URLFETCH_CONNECT_TIMEOUT 15L
#define URLFETCH_MAX_REDIRS 5L

bool
urlfetch_is_url(const char *s)
{
    return s != NULL && (strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0);
}

typedef struct sink {
    struct evbuffer *body;
    size_t max;
    bool over;
} sink_t;

static size_t
sink_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    sink_t *s = arg;
    size_t n = size * nmemb;
    if (evbuffer_get_length(s->body) + n > s->max) {
        s->over = true;
        return 0; /* curl stops with a write error */
    }
    evbuffer_add(s->body, ptr, n);
    return n;
}

static void
set_options(CURL *c, const char *url, const urlfetch_limits_t *lim, sink_t *s, char *errbuf)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, URLFETCH_MAX_REDIRS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, URLFETCH_CONNECT_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, lim->timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "Muleteer/" PACKAGE_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
}

int
urlfetch_get(const char *url, const urlfetch_limits_t *lim, struct evbuffer *body,
             mt_error_t **err)
{
    if (!urlfetch_is_url(url)) {
        mt_error_set(err, MT_ERR_INVALID, "cannot fetch %s: only http:// and https:// URLs are "
                     "fetched", url);
        return -1;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *c = curl_easy_init();
    if (c == NULL) {
        mt_error_set(err, MT_ERR_IO, "cannot fetch %s: cannot start an HTTP client", url);
        return -1;
    }
    sink_t s = { .body = body, .max = lim->max_bytes };
    set_options(c, url, lim, &s, errbuf);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc == CURLE_WRITE_ERROR && s.over)
        mt_error_set(err, MT_ERR_TOO_LARGE, "cannot fetch %s: the file is too big (over %zu "
                     "bytes)", url, lim->max_bytes);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        mt_error_set(err, MT_ERR_TIMEOUT, "cannot fetch %s: %s", url,
                     errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
    else if (rc != CURLE_OK)
        mt_error_set(err, MT_ERR_IO, "cannot fetch %s: %s", url,
                     errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
    else if (status != 200)
        mt_error_set(err, status == 404 ? MT_ERR_NOT_FOUND : MT_ERR_IO,
                     "cannot fetch %s: HTTP status %ld", url, status);
    else
        return 0;
    return -1;
}

/* ------------------------------------------------------- urlfetch_start */

typedef struct job {
    char *url;
    urlfetch_limits_t lim;
    struct evbuffer *body;
    mt_error_t *err;
    urlfetch_done_fn done;
    void *ctx;
} job_t;

static void
job_run(void *arg)
{
    job_t *j = arg;
    (void)urlfetch_get(j->url, &j->lim, j->body, &j->err);
}

static void
job_done(void *arg, int cancelled)
{
    job_t *j = arg;
    if (cancelled)
        j->done(j->ctx, NULL, NULL, true);
    else
        j->done(j->ctx, j->err == NULL ? j->body : NULL, j->err, false);
    mt_error_free(j->err);
    evbuffer_free(j->body);
    free(j->url);
    free(j);
}

int
urlfetch_start(worker_pool_t *pool, const char *url, const urlfetch_limits_t *lim,
               urlfetch_done_fn done, void *ctx, mt_error_t **err)
{
    if (!urlfetch_is_url(url)) {
        mt_error_set(err, MT_ERR_INVALID, "\"%s\" is not an http:// or https:// URL", url);
        return -1;
    }
    job_t *j = xcalloc(1, sizeof *j);
    j->url = xstrdup(url);
    j->lim = *lim;
    j->body = evbuffer_new();
    j->done = done;
    j->ctx = ctx;
    worker_submit(pool, job_run, job_done, j);
    return 0;
}
