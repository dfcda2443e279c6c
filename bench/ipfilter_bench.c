/* ipfilter_bench.c: reads an IP filter list with lib/util/ipfilter.c and
 * times lookups against a linear scan of the same ranges (the reference),
 * checking that both agree; prints what it measured. bench_ipfilter.sh runs it.
 *
 * Usage: ipfilter_bench FILE LOOKUPS SCAN_LOOKUPS */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/file.h"
#include "util/ipfilter.h"
#include "util/xalloc.h"

static double
now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* rss_kb: the resident set size (VmRSS) of this process. */
static long
rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f != NULL)
        fclose(f);
    return kb;
}

/* xorshift: a fixed sequence of addresses, the same for both lookups. */
static uint32_t
next_ip(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: ipfilter_bench FILE LOOKUPS SCAN_LOOKUPS\n");
        return 2;
    }
    long lookups = atol(argv[2]), scan_lookups = atol(argv[3]);
    mt_error_t *err = NULL;
    size_t len = 0;
    long rss0 = rss_kb();
    uint8_t *data = mt_file_read(argv[1], IPFILTER_MAX_TEXT, &len, &err);
    if (data == NULL) {
        fprintf(stderr, "ipfilter_bench: %s\n", err->message);
        return 1;
    }
    double t0 = now_s();
    ipfilter_t *f = NULL;
    if (ipfilter_load(data, len, IPFILTER_DEFAULT_LEVEL, &f, &err) != 0) {
        fprintf(stderr, "ipfilter_bench: %s\n", err->message);
        return 1;
    }
    double t_load = now_s() - t0;
    free(data);
    long rss1 = rss_kb();
    size_t n = ipfilter_ranges(f);
    printf("list: %zu bytes, %zu lines read, %zu bad, %zu merged ranges kept\n", len,
           ipfilter_lines(f), ipfilter_bad_lines(f), n);
    printf("load (parse, sort, merge): %.3f s\n", t_load);
    printf("table memory: %zu bytes (%.2f MiB, %.1f bytes per range); RSS %+ld KiB from before the file was read to after its text was freed\n",
           ipfilter_memory(f), ipfilter_memory(f) / 1048576.0,
           n > 0 ? (double)ipfilter_memory(f) / (double)n : 0.0, rss1 - rss0);

    /* The reference: the same merged ranges, scanned one by one. */
    uint32_t *s = xcalloc(n + 1, sizeof *s), *e = xcalloc(n + 1, sizeof *e);
    for (size_t i = 0; i < n; i++)
        ipfilter_range(f, i, &s[i], &e[i]);

    uint32_t seed = 2463534242u;
    long hits = 0;
    t0 = now_s();
    for (long k = 0; k < lookups; k++)
        hits += ipfilter_blocks(f, next_ip(&seed));
    double t_bin = now_s() - t0;
    printf("binary search: %ld lookups in %.3f s: %.0f ns per lookup (%ld blocked)\n", lookups,
           t_bin, t_bin * 1e9 / (double)lookups, hits);

    seed = 2463534242u;
    long scan_hits = 0, bin_hits = 0, disagree = 0;
    t0 = now_s();
    for (long k = 0; k < scan_lookups; k++) {
        uint32_t ip = next_ip(&seed);
        bool in = false;
        for (size_t i = 0; i < n && !in; i++)
            in = ip >= s[i] && ip <= e[i];
        scan_hits += in;
    }
    double t_scan = now_s() - t0;
    seed = 2463534242u;
    for (long k = 0; k < scan_lookups; k++) {
        bool b = ipfilter_blocks(f, next_ip(&seed));
        bin_hits += b;
    }
    disagree = scan_hits - bin_hits;
    printf("reference, linear scan: %ld lookups in %.3f s: %.0f ns per lookup (%ld blocked)\n",
           scan_lookups, t_scan, t_scan * 1e9 / (double)scan_lookups, scan_hits);
    printf("binary search is %.0fx faster per lookup; the two %s on the scanned addresses\n",
           (t_scan / (double)scan_lookups) / (t_bin / (double)lookups),
           disagree == 0 ? "agree" : "DISAGREE");
    free(s);
    free(e);
    ipfilter_free(f);
    return disagree == 0 ? 0 : 1;
}
