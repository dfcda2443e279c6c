/* fuzz_partfile_met.c: fuzz target for the part-file metadata parser
 * (daemon/transfer/partfile_meta.c pf_parse_met), which reads files from the disk. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/transfer/partfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pf_meta_t *m = NULL;
    mt_error_t *err = NULL;
    if (pf_parse_met((const char *)data, size, &m, &err) != 0) {
        /* A refusal always says why. */
        if (err == NULL || err->message == NULL || m != NULL)
            abort();
        mt_error_free(err);
        return 0;
    }
    if (err != NULL || m == NULL)
        abort();
    /* What was accepted must be written back in a form that reads back to
     * the same thing: pf_save must never write a file pf_load refuses. */
    char *a = pf_meta_to_json(m);
    pf_meta_t *m2 = NULL;
    if (pf_parse_met(a, strlen(a), &m2, &err) != 0)
        abort();
    char *b = pf_meta_to_json(m2);
    if (strcmp(a, b) != 0)
        abort();
    if (pf_meta_size(m) == 0 || pf_meta_size(m) > ED2K_MAX_FILE_SIZE ||
        !pf_name_is_valid(pf_meta_name(m)))
        abort();
    free(a);
    free(b);
    pf_meta_free(m);
    pf_meta_free(m2);
    return 0;
}
