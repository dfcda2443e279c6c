/* fuzz_ed2k_servermet.c: fuzz target for the server.met reader and writer
 * (lib/ed2k/servermet.c): whatever the reader returns must be writable and
 * read back equal. */
#include "config.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/servermet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ed2k_server_entry_t *e = NULL;
    size_t n = 0;
    mt_error_t *err = NULL;
    int rc = ed2k_servermet_parse(data, size, &e, &n, &err);
    /* A refusal or a partial read always says why; a success does not. */
    if ((rc != ED2K_SERVERMET_OK) != (err != NULL) || (rc == ED2K_SERVERMET_ERROR && e != NULL))
        abort();
    mt_error_free(err);
    err = NULL;
    if (rc == ED2K_SERVERMET_ERROR)
        return 0;
    if (n > size / 10)
        abort(); /* every entry takes 10 bytes or more */

    struct evbuffer *b = evbuffer_new();
    if (ed2k_servermet_write(b, e, n, &err) != 0)
        abort(); /* what the reader returns is always writable */
    size_t len = evbuffer_get_length(b);
    ed2k_server_entry_t *back = NULL;
    size_t m = 0;
    if (ed2k_servermet_parse(evbuffer_pullup(b, -1), len, &back, &m, NULL) != ED2K_SERVERMET_OK
        || m != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!ed2k_server_entry_equal(&e[i], &back[i]))
            abort();
    ed2k_server_entries_free(back, m);
    ed2k_server_entries_free(e, n);
    evbuffer_free(b);
    return 0;
}
