/* fuzz_ed2k_partmet.c: fuzz target for the .part.met reader
 * (lib/ed2k/partmet.c): whatever it accepts holds sorted, disjoint gaps
 * inside the size and a hash set no longer than the input. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "ed2k/hash.h"
#include "ed2k/partmet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ed2k_file_record_t r;
    mt_error_t *err = NULL;
    int rc = ed2k_partmet_parse(data, size, &r, &err);
    if ((rc != 0) != (err != NULL))
        abort();
    mt_error_free(err);
    if (rc == 0) {
        if (r.name == NULL || r.size == 0 || r.size > ED2K_MAX_FILE_SIZE ||
            r.n_part_hashes > size / 16)
            abort();
        for (size_t i = 0; i < r.n_gaps; i++)
            if (r.gaps[i].start >= r.gaps[i].end || r.gaps[i].end > r.size ||
                (i > 0 && r.gaps[i].start <= r.gaps[i - 1].end))
                abort();
    }
    ed2k_file_record_clear(&r);
    return 0;
}
