/* fuzz_ed2k_clientsmet.c: fuzz target for the clients.met reader
 * (lib/ed2k/clientsmet.c): complete records only, keys within bounds. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "ed2k/clientsmet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ed2k_client_credit_t *v = NULL;
    size_t n = 0;
    mt_error_t *err = NULL;
    int rc = ed2k_clientsmet_parse(data, size, &v, &n, &err);
    if ((rc != 0) != (err != NULL) || (rc != 0 && v != NULL) ||
        n > size / ED2K_CLIENTSMET_RECORD_LEN_29)
        abort();
    mt_error_free(err);
    for (size_t i = 0; i < n; i++)
        if (v[i].key_len > ED2K_CLIENTSMET_MAX_KEY)
            abort();
    free(v);
    return 0;
}
