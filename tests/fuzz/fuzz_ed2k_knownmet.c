/* fuzz_ed2k_knownmet.c: fuzz target for the known.met reader
 * (lib/ed2k/partmet.c): never more records than the input can hold, each
 * with a name and a size in range. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "ed2k/hash.h"
#include "ed2k/partmet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ed2k_file_record_t *v = NULL;
    size_t n = 0;
    bool truncated;
    mt_error_t *err = NULL;
    int rc = ed2k_knownmet_parse(data, size, &v, &n, &truncated, &err);
    if ((rc != 0) != (err != NULL) || (rc != 0 && v != NULL) || n > size / 26)
        abort();
    mt_error_free(err);
    for (size_t i = 0; i < n; i++)
        if (v[i].name == NULL || v[i].size == 0 || v[i].size > ED2K_MAX_FILE_SIZE)
            abort();
    ed2k_file_records_free(v, n);
    return 0;
}
