/* logring.c: the bounded ring of recent log entries (logring.h): a fixed
 * array used circularly; entry id i lives in slot i % capacity. */
#include "config.h"

#include "daemon/core/logring.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t time_ms;
    int level;
    bool blocked;
    char *text, *ip;
} slot_t;

struct logring {
    slot_t *slots;
    size_t capacity, max_text;
    int64_t next_id; /* ids [next_id - kept, next_id) are in the ring */
    size_t kept;
};

logring_t *
logring_new(size_t capacity, size_t max_text)
{
    logring_t *r = xcalloc(1, sizeof *r);
    r->capacity = capacity > 0 ? capacity : 1;
    r->max_text = max_text;
    r->slots = xcalloc(r->capacity, sizeof *r->slots);
    return r;
}

static void
slot_clear(slot_t *s)
{
    free(s->text);
    free(s->ip);
    memset(s, 0, sizeof *s);
}

void
logring_free(logring_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->capacity; i++)
        slot_clear(&r->slots[i]);
    free(r->slots);
    free(r);
}

int64_t
logring_add(logring_t *r, const logring_entry_t *e)
{
    int64_t id = r->next_id++;
    slot_t *s = &r->slots[(size_t)id % r->capacity];
    slot_clear(s);
    const char *text = e->text != NULL ? e->text : "";
    size_t len = strnlen(text, r->max_text);
    /* cut on a character boundary: no UTF-8 continuation byte first */
    if (text[len] != '\0')
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    s->text = xstrndup(text, len);
    s->ip = e->ip != NULL ? xstrdup(e->ip) : NULL;
    s->time_ms = e->time_ms;
    s->level = e->level;
    s->blocked = e->blocked;
    if (r->kept < r->capacity)
        r->kept++;
    return id;
}

size_t
logring_since(const logring_t *r, int64_t since, size_t limit,
              void (*fn)(void *ctx, const logring_entry_t *e), void *ctx)
{
    int64_t first = r->next_id - (int64_t)r->kept;
    if (since + 1 > first)
        first = since + 1;
    size_t n = 0;
    for (int64_t id = first; id < r->next_id && (limit == 0 || n < limit); id++, n++) {
        const slot_t *s = &r->slots[(size_t)id % r->capacity];
        logring_entry_t e = { .id = id, .time_ms = s->time_ms, .level = s->level,
                              .blocked = s->blocked, .text = s->text, .ip = s->ip };
        fn(ctx, &e);
    }
    return n;
}

int64_t
logring_next_id(const logring_t *r)
{
    return r->next_id;
}
