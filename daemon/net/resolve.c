/* resolve.c: getaddrinfo on the worker pool, for link sources and servers
 * given by name. */
#include "config.h"

#include "daemon/net/resolve.h"
#include "daemon/net/net.h"
#include "util/xalloc.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

typedef struct {
    char *host;
    resolve_fn done;
    void *ctx;
    int rc;
    uint32_t ip;
} resolve_job_t;

static void
run(void *arg)
{
    resolve_job_t *j = arg;
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL;
    j->rc = getaddrinfo(j->host, NULL, &hints, &res);
    if (j->rc == 0 && res != NULL)
        j->ip = net_ip_from_in_addr(((struct sockaddr_in *)res->ai_addr)->sin_addr);
    else if (j->rc == 0)
        j->rc = EAI_NONAME;
    freeaddrinfo(res);
}

static void
done(void *arg, int cancelled)
{
    resolve_job_t *j = arg;
    if (cancelled)
        j->done(j->ctx, 0, "cancelled");
    else if (j->rc != 0)
        j->done(j->ctx, 0, gai_strerror(j->rc));
    else
        j->done(j->ctx, j->ip, NULL);
    free(j->host);
    free(j);
}

void
resolve_ipv4(worker_pool_t *pool, const char *host, resolve_fn cb, void *ctx)
{
    uint32_t ip;
    if (net_ip_parse(host, &ip) == 0) {
        cb(ctx, ip, NULL);
        return;
    }
    resolve_job_t *j = xcalloc(1, sizeof *j);
    j->host = xstrdup(host);
    j->done = cb;
    j->ctx = ctx;
    worker_submit(pool, run, done, j);
}
