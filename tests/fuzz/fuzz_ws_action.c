/* fuzz_ws_action.c: libFuzzer target for muleteer-ws's action decoder
 * (ws/action.c): any bytes as one client frame. The decoder either fails
 * with a message that is strict UTF-8 (it goes back to the client) or
 * gives an action whose hashes are 32 lower-case hex digits and whose
 * counts keep their bounds. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "ws/action.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_ws_action: %s\n", what);
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_action_t a;
    char *msg = NULL;
    if (ws_action_parse((const char *)data, size, &a, &msg) != 0) {
        if (msg == NULL || !mt_utf8_is_valid(msg, strlen(msg)))
            fail("a refusal without a valid message");
        free(msg);
        return 0;
    }
    if (msg != NULL)
        fail("a message with a success");
    if (a.n_hashes > WSA_MAX_ITEMS || a.n_links > WSA_MAX_LINKS)
        fail("over the bounds");
    for (size_t i = 0; i < a.n_hashes; i++) {
        if (strlen(a.hashes[i]) != 32 || strspn(a.hashes[i], "0123456789abcdef") != 32)
            fail("a hash that is not 32 lower-case hex digits");
    }
    for (size_t i = 0; i < a.n_links; i++)
        if (a.links[i][0] == '\0' || !mt_utf8_is_valid(a.links[i], strlen(a.links[i])))
            fail("an empty or invalid link");
    if ((a.kind == WSA_PAUSE || a.kind == WSA_RESUME || a.kind == WSA_STOP || a.kind == WSA_DELETE) &&
        a.n_hashes == 0)
        fail("a batch without items");
    if (a.kind == WSA_ADD_LINKS && a.n_links == 0)
        fail("an add without links");
    ws_action_clear(&a);
    return 0;
}
