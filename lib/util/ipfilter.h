/* ipfilter.h: IP filter lists (eMule/aMule ipfilter.dat and PeerGuardian
 * .p2p, plain, gzip or single-member zip) as a sorted, merged range array. */
#ifndef MT_UTIL_IPFILTER_H
#define MT_UTIL_IPFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* The filter level when none is configured: aMule's default. A range of
 * ipfilter.dat blocks when its level is below the filter level (aMule's
 * CIPFilter::IsFiltered); PeerGuardian lines have no level and always
 * block (aMule reads them as level 0). */
#define IPFILTER_DEFAULT_LEVEL 127

/* The largest text a list may decompress to (a bomb stops here). */
#define IPFILTER_MAX_TEXT (256u * 1024 * 1024)

/* The longest line read; a longer one is a bad line. */
#define IPFILTER_MAX_LINE 1024

typedef struct ipfilter ipfilter_t;

/* ipfilter_parse: reads text (len bytes, not NUL-terminated) line by line;
 * both formats may be mixed. Blank lines and comments ('#' or "//") are
 * skipped; a line that is neither is counted bad and skipped. A reversed
 * range (start > end) is read the right way round. Ranges of level >=
 * level are read but not kept. Never fails; caller frees with
 * ipfilter_free. */
ipfilter_t *ipfilter_parse(const char *text, size_t len, int level);

/* ipfilter_load: the same for a list as read from a file or URL: gzip
 * (1f 8b) and zip (PK\3\4, the first member, stored or deflated) are
 * uncompressed first. MT_ERR_INVALID when the compression is broken or
 * when no line at all is usable although some are bad (an HTML error page
 * rather than a list); MT_ERR_TOO_LARGE over IPFILTER_MAX_TEXT. An empty
 * list is a success. */
int ipfilter_load(const void *data, size_t len, int level, ipfilter_t **out, mt_error_t **err);

/* ipfilter_new_empty: a filter that blocks nothing. */
ipfilter_t *ipfilter_new_empty(void);
void ipfilter_free(ipfilter_t *f);

/* ipfilter_blocks: whether ip (host order: 1.2.3.4 is 0x01020304) is in a
 * kept range. f may be NULL (blocks nothing). O(log n). */
bool ipfilter_blocks(const ipfilter_t *f, uint32_t ip);

/* Figures of a loaded list. */
size_t ipfilter_ranges(const ipfilter_t *f);     /* merged ranges kept */
size_t ipfilter_lines(const ipfilter_t *f);      /* ranges read, all levels */
size_t ipfilter_bad_lines(const ipfilter_t *f);  /* lines skipped as bad */
size_t ipfilter_memory(const ipfilter_t *f);     /* bytes held */
/* ipfilter_range: the i-th merged range (i < ipfilter_ranges). */
void ipfilter_range(const ipfilter_t *f, size_t i, uint32_t *start, uint32_t *end);

/* ipfilter_parse_ip: a dotted quad with optional leading zeros (decimal,
 * "010" is ten) into host order; 0 or -1. */
int ipfilter_parse_ip(const char *s, size_t len, uint32_t *ip);

#endif
