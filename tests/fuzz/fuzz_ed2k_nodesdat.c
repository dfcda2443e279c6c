/* fuzz_ed2k_nodesdat.c: fuzz target for the nodes.dat reader and writer
 * (lib/ed2k/nodesdat.c): what the reader returns must write and read back
 * equal. */
#include "config.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>

#include "ed2k/nodesdat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kad_node_t *v = NULL, *back = NULL;
    size_t n = 0, m = 0;
    bool bootstrap;
    mt_error_t *err = NULL;
    int rc = kad_nodesdat_parse(data, size, &v, &n, &bootstrap, &err);
    if ((rc != 0) != (err != NULL) || (rc != 0 && v != NULL))
        abort();
    mt_error_free(err);
    if (rc != 0)
        return 0;
    if (n > size / KAD_NODESDAT_V1_ENTRY_LEN)
        abort();
    struct evbuffer *b = evbuffer_new();
    kad_nodesdat_write(b, v, n);
    if (kad_nodesdat_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b), &back, &m, &bootstrap,
                           NULL) != 0 ||
        m != n || bootstrap)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!kad_contact_equal(&v[i].c, &back[i].c) || v[i].verified != back[i].verified ||
            v[i].udp_key != back[i].udp_key || v[i].udp_key_ip != back[i].udp_key_ip)
            abort();
    free(back);
    free(v);
    evbuffer_free(b);
    return 0;
}
