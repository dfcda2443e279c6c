/* fdcache.c: open file descriptors kept in a small least-recently-used
 * cache, so thousands of part files need only a few dozen descriptors. */
#include "config.h"

#include "daemon/transfer/fdcache.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct entry {
    const void *owner;
    char *path;
    int fd;
    int flags;
    unsigned borrowed;
    uint64_t used; /* the cache's clock at the last checkout */
} entry_t;

struct fdcache {
    entry_t *v; /* open descriptors, in no order */
    size_t n, cap;
    size_t max;
    uint64_t clock;
};

fdcache_t *
fdc_new(size_t max)
{
    fdcache_t *c = xcalloc(1, sizeof *c);
    c->max = max > 0 ? max : 1;
    return c;
}

static void
entry_close(fdcache_t *c, size_t i)
{
    close(c->v[i].fd);
    free(c->v[i].path);
    c->v[i] = c->v[--c->n];
}

void
fdc_free(fdcache_t *c)
{
    if (c == NULL)
        return;
    while (c->n > 0)
        entry_close(c, c->n - 1);
    free(c->v);
    free(c);
}

/* Closes the least recently used idle descriptor; false when all are
 * borrowed (or none is open). */
static bool
evict_one(fdcache_t *c)
{
    size_t lru = SIZE_MAX;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].borrowed == 0 && (lru == SIZE_MAX || c->v[i].used < c->v[lru].used))
            lru = i;
    if (lru == SIZE_MAX)
        return false;
    entry_close(c, lru);
    return true;
}

static void
shrink_to_max(fdcache_t *c)
{
    while (c->n > c->max && evict_one(c))
        ;
}

void
fdc_set_max(fdcache_t *c, size_t max)
{
    c->max = max > 0 ? max : 1;
    shrink_to_max(c);
}

size_t
fdc_max(const fdcache_t *c)
{
    return c->max;
}

size_t
fdc_open_count(const fdcache_t *c)
{
    return c->n;
}

static size_t
find(const fdcache_t *c, const void *owner)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].owner == owner)
            return i;
    return SIZE_MAX;
}

int
fdc_open(fdcache_t *c, const char *path, int flags, mode_t mode)
{
    for (;;) {
        int fd = open(path, flags | O_CLOEXEC, mode);
        if (fd >= 0 || (errno != EMFILE && errno != ENFILE) || c == NULL || !evict_one(c))
            return fd;
    }
}

int
fdc_checkout(fdcache_t *c, const void *owner, const char *path, int flags)
{
    size_t i = find(c, owner);
    if (i != SIZE_MAX && (c->v[i].flags != flags || strcmp(c->v[i].path, path) != 0)) {
        if (c->v[i].borrowed > 0) {
            errno = EBUSY;
            return -1;
        }
        entry_close(c, i);
        i = SIZE_MAX;
    }
    if (i == SIZE_MAX) {
        while (c->n >= c->max && evict_one(c))
            ;
        int fd = fdc_open(c, path, flags, 0666);
        if (fd < 0)
            return -1;
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 8;
            c->v = xreallocarray(c->v, c->cap, sizeof *c->v);
        }
        i = c->n++;
        c->v[i] = (entry_t){ .owner = owner, .path = xstrdup(path), .fd = fd, .flags = flags };
    }
    c->v[i].borrowed++;
    c->v[i].used = ++c->clock;
    return c->v[i].fd;
}

void
fdc_checkin(fdcache_t *c, const void *owner)
{
    size_t i = find(c, owner);
    if (i == SIZE_MAX || c->v[i].borrowed == 0)
        return;
    c->v[i].borrowed--;
    shrink_to_max(c);
}

void
fdc_close(fdcache_t *c, const void *owner)
{
    size_t i = find(c, owner);
    if (i != SIZE_MAX && c->v[i].borrowed == 0)
        entry_close(c, i);
}
