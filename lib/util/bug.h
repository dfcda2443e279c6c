/* bug.h: non-fatal checks of internal invariants (after Tor's BUG() and
 * the kernel's WARN_ON): a broken invariant is logged with where it broke
 * and counted, and the caller recovers instead of crashing. Never for
 * external input (network, HTTP, control socket, files, the database):
 * that is validated and gets an error. */
#ifndef MT_UTIL_BUG_H
#define MT_UTIL_BUG_H

#include <stdbool.h>
#include <stdint.h>

/* MT_BUG(cond): true, after logging "BUG: file:line: function: cond" and
 * counting it, when cond holds; false otherwise. Use it where the code can
 * recover:
 *     if (MT_BUG(s->state != SRC_DOWNLOADING))
 *         return;
 * Each place logs its first 10 occurrences, then every 1000th. */
#define MT_BUG(cond) \
    ((cond) ? (mt_bug_report(__FILE__, __LINE__, __func__, #cond), true) : false)

void mt_bug_report(const char *file, int line, const char *func, const char *expr);
/* mt_bug_count: broken invariants seen so far in this process. */
uint64_t mt_bug_count(void);

#endif
