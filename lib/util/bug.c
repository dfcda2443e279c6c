/* bug.c: the report behind MT_BUG (bug.h): counted, logged, never fatal. */
#include "config.h"

#include "util/bug.h"
#include "util/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define BUG_PLACES 64 /* call sites whose occurrences are counted apart */

static atomic_uint_fast64_t bugs;
static pthread_mutex_t places_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const char *file;
    int line;
    uint64_t seen;
} places[BUG_PLACES];

/* seen: how many times this place broke, this one included. */
static uint64_t
seen(const char *file, int line)
{
    uint64_t n = 0;
    pthread_mutex_lock(&places_lock);
    for (size_t i = 0; i < BUG_PLACES; i++) {
        if (places[i].file == NULL) {
            places[i].file = file;
            places[i].line = line;
        }
        if (places[i].line == line && strcmp(places[i].file, file) == 0) {
            n = ++places[i].seen;
            break;
        }
    }
    pthread_mutex_unlock(&places_lock);
    return n; /* 0: more places than the table holds; always logged */
}

void
mt_bug_report(const char *file, int line, const char *func, const char *expr)
{
    atomic_fetch_add(&bugs, 1);
    uint64_t n = seen(file, line);
    if (n == 0 || n <= 10 || n % 1000 == 0)
        log_error("BUG: %s:%d: %s: %s (occurrence %llu here; recovered)", file, line, func, expr,
                  (unsigned long long)n);
}

uint64_t
mt_bug_count(void)
{
    return atomic_load(&bugs);
}
