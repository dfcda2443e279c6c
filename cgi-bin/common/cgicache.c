/* cgicache.c: the answers a program keeps (cgicache.h): a few slots per
 * process, each an answer's key, the generation it was made at, and its
 * bytes or, for large ones, its file. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/cgicache.h"
#include "common/cgifile.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* metrics: 3 ranges x 4 routes and a node or two (a 24-hour dashboard is
 * about a megabyte); history: the pages a few users look at. */
#define SLOTS 16
#define MAX_BYTES (32u * 1024 * 1024)
/* An answer at least this large is sent by the web server from a file. */
#define FILE_MIN (32u * 1024)

typedef struct {
    char *key;
    long long generation;
    int64_t used_ms;
    char *body;  /* the bytes, or NULL when path */
    char *path;  /* a cgifile_write file, or NULL */
    size_t len;
} slot_t;

static slot_t slots[SLOTS];
static size_t kept_bytes;

static void
drop(slot_t *s)
{
    kept_bytes -= s->len;
    free(s->key);
    free(s->body);
    cgifile_release(s->path, clock_mono_ms());
    memset(s, 0, sizeof *s);
}

static slot_t *
find(const char *key)
{
    for (size_t i = 0; i < SLOTS; i++)
        if (slots[i].key != NULL && strcmp(slots[i].key, key) == 0)
            return &slots[i];
    return NULL;
}

/* answer_from: resp's body becomes s's answer. */
static void
answer_from(http_response_t *resp, const slot_t *s)
{
    struct evbuffer *b = http_response_body(resp);
    evbuffer_drain(b, evbuffer_get_length(b));
    if (s->path != NULL)
        cgifile_answer(resp, s->path);
    else
        evbuffer_add(b, s->body, s->len);
}

bool
cgicache_answer(http_response_t *resp, const char *key, long long gen)
{
    slot_t *s = find(key);
    if (s == NULL || s->generation != gen)
        return false;
    s->used_ms = clock_mono_ms();
    answer_from(resp, s);
    return true;
}

void
cgicache_store(http_response_t *resp, const char *key, long long gen)
{
    struct evbuffer *body = http_response_body(resp);
    size_t len = evbuffer_get_length(body);
    slot_t *s = find(key);
    if (s == NULL) { /* a free slot, else the least recently used */
        s = &slots[0];
        for (size_t i = 0; i < SLOTS && s->key != NULL; i++)
            if (slots[i].key == NULL || slots[i].used_ms < s->used_ms)
                s = &slots[i];
    }
    if (s->key != NULL)
        drop(s);
    for (size_t i = 0; i < SLOTS && kept_bytes + len > MAX_BYTES; i++)
        if (slots[i].key != NULL)
            drop(&slots[i]);
    if (kept_bytes + len > MAX_BYTES)
        return; /* answered as it is, not kept */
    char *path = len >= FILE_MIN ? cgifile_write(body) : NULL;
    *s = (slot_t){ .key = xstrdup(key), .generation = gen, .used_ms = clock_mono_ms(),
                   .path = path, .len = len };
    if (path == NULL) {
        s->body = xmalloc(len > 0 ? len : 1);
        evbuffer_copyout(body, s->body, len);
    }
    kept_bytes += len;
    answer_from(resp, s);
}
