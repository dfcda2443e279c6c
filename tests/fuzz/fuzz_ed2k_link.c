/* fuzz_ed2k_link.c: libFuzzer target for the ed2k link parser; every link it
 * accepts must format to a link that parses back to an equal one, and the
 * server-link parser must agree with it. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ed2k/hash.h"
#include "ed2k/link.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "fuzz_ed2k_link: %s\n  %s\n  %s\n", what, a, b ? b : "");
    abort();
}

/* The hex and base32 decoders see the same bytes: what they accept must
 * encode back to the same text, ignoring case. */
static void
check_codecs(const char *s, size_t n)
{
    uint8_t h[ED2K_HASH_LEN];
    if (ed2k_hash_from_hexn(s, n, h) == 0) {
        char hex[ED2K_HASH_HEX_LEN + 1];
        ed2k_hash_to_hex(h, hex);
        if (n != ED2K_HASH_HEX_LEN || strncasecmp(hex, s, n) != 0)
            fail("hex round trip", hex, s);
    }
    uint8_t buf[64];
    long m = n <= 100 ? ed2k_base32_decode(s, n, buf, sizeof buf) : -1;
    if (m >= 0) {
        char enc[128];
        size_t k = ed2k_base32_encode(buf, (size_t)m, enc);
        if (k != n || strncasecmp(enc, s, n) != 0)
            fail("base32 round trip", enc, s);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_codecs(s, strlen(s));

    ed2k_link_t *l = NULL;
    mt_error_t *err = NULL;
    /* ed2k_server_link_parse agrees with ed2k_link_parse on server links
     * and refuses everything else with a message. */
    ed2k_server_link_t sl;
    mt_error_t *serr = NULL;
    int src = ed2k_server_link_parse(s, &sl, &serr);
    if (ed2k_link_parse(s, &l, NULL) == 0 && l->type != ED2K_LINK_FILE) {
        if (src != 0 || (l->type == ED2K_LINK_SERVER) != (sl.kind == ED2K_SERVER_LINK_SERVER)
            || (sl.host != NULL && (l->host == NULL || strcmp(sl.host, l->host) != 0))
            || (sl.url != NULL && (l->url == NULL || strcmp(sl.url, l->url) != 0))
            || sl.port != l->port)
            fail("server link parsed differently", s, NULL);
    } else if (src == 0 || serr == NULL || sl.host != NULL || sl.url != NULL) {
        fail("server link accepted or refused without a message", s, NULL);
    }
    ed2k_server_link_clear(&sl);
    mt_error_free(serr);
    ed2k_link_free(l);
    l = NULL;
    if (ed2k_link_parse(s, &l, &err) == 0) {
        if (err != NULL || l == NULL)
            fail("success with an error set", s, NULL);
        char *f = ed2k_link_format(l);
        ed2k_link_t *back = NULL;
        if (ed2k_link_parse(f, &back, &err) != 0)
            fail(err->message, s, f);
        if (!ed2k_link_equal(l, back))
            fail("formatted link parses differently", s, f);
        char *f2 = ed2k_link_format(back);
        if (strcmp(f, f2) != 0)
            fail("formatting is not stable", f, f2);
        free(f2);
        free(f);
        ed2k_link_free(back);
        ed2k_link_free(l);
    } else {
        if (l != NULL || err == NULL || err->message == NULL || err->message[0] == '\0')
            fail("failure without a message", s, NULL);
        mt_error_free(err);
    }
    free(s);
    return 0;
}
