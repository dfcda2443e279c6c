/* cgistats.h: each FastCGI program's own request counters (count by status
 * class, duration histogram), kept in a small file under metrics_dir that
 * the program maps and updates in place, and summed per route family by
 * the Prometheus endpoint (cgi-bin/prom, docs/metrics.md). No database,
 * no daemon: about a microsecond per request. */
#ifndef MT_CGI_CGISTATS_H
#define MT_CGI_CGISTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The histogram's upper bounds in seconds; one more bucket, +Inf. */
#define CGISTATS_BOUNDS                                                              \
    { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }
#define CGISTATS_N_BOUNDS 14
#define CGISTATS_MAX_SLOTS 256   /* files per program: NAME.0 .. NAME.255 */
#define CGISTATS_MAGIC 0x314d544dU /* "MTM1" */

/* One slot file, written by the one process holding its lock (flock), read
 * by anyone: every counter is a 64-bit word updated with relaxed atomics.
 * Counts only grow: a process that takes over a slot (the previous holder
 * exited) goes on from its counts, so the sums never go backwards while
 * the files stay. */
typedef struct cgistats_file {
    uint32_t magic, size;             /* CGISTATS_MAGIC, sizeof the struct */
    uint64_t by_class[6];             /* status 1xx..5xx by hundreds; [0]: others */
    uint64_t usec_sum;                /* durations, microseconds */
    uint64_t buckets[CGISTATS_N_BOUNDS + 1]; /* not cumulative; the last: +Inf */
} cgistats_file_t;

typedef struct cgistats cgistats_t;

/* cgistats_open: takes the first free slot file dir/program.N (creating
 * dir, mode 0750, and the file, 0640) and maps it; NULL with a logged
 * reason when none can be had (the program then counts nothing). */
cgistats_t *cgistats_open(const char *dir, const char *program);
/* cgistats_record: one request with its status and duration. */
void cgistats_record(cgistats_t *s, int status, uint64_t usec);
/* cgistats_free: releases the slot (its counts stay in the file);
 * accepts NULL. */
void cgistats_free(cgistats_t *s);

/* cgistats_observe: http_observe's callback (lib/http/server.h); ctx is
 * the cgistats_t. */
void cgistats_observe(void *ctx, int status, uint64_t usec);

/* A route family's sums over its slot files. */
typedef struct cgistats_family {
    char name[64];
    cgistats_file_t sum;
} cgistats_family_t;

/* cgistats_read_dir: sums every well-formed slot file of dir (NAME.N with
 * NAME of [a-z0-9_-]) by NAME into *out (malloc'ed, sorted by name; the
 * caller frees). 0, or -1 when dir cannot be read (*n = 0). */
int cgistats_read_dir(const char *dir, cgistats_family_t **out, size_t *n);

#endif
