/* fuzz_ipfilter.c: fuzz target for the IP filter list reader
 * (lib/util/ipfilter.c): whatever it keeps is sorted, disjoint and found
 * by its own lookup; compressed input never crashes it. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "util/ipfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ipfilter_t *f = NULL;
    mt_error_t *err = NULL;
    int level = size > 0 ? data[0] : IPFILTER_DEFAULT_LEVEL;
    int rc = ipfilter_load(data, size, level, &f, &err);
    if ((rc != 0) != (err != NULL) || (rc != 0) != (f == NULL))
        abort(); /* a refusal says why; a success does not */
    mt_error_free(err);
    if (rc != 0)
        return 0;
    if (ipfilter_ranges(f) > ipfilter_lines(f))
        abort();
    uint32_t prev_end = 0;
    for (size_t i = 0; i < ipfilter_ranges(f); i++) {
        uint32_t s, e;
        ipfilter_range(f, i, &s, &e);
        if (s > e || (i > 0 && (prev_end == UINT32_MAX || s <= prev_end + 1)))
            abort(); /* sorted, disjoint, not adjacent */
        if (!ipfilter_blocks(f, s) || !ipfilter_blocks(f, e)
            || (s > 0 && ipfilter_blocks(f, s - 1)) || (e < UINT32_MAX && ipfilter_blocks(f, e + 1)))
            abort();
        prev_end = e;
    }
    ipfilter_free(f);
    return 0;
}
