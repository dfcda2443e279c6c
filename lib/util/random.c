/* random.c: random bytes and random hex identifiers from getrandom(2)
 * (random.h). */
#include "config.h"

#include "util/random.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "util/hex.h"

int
mt_random_bytes(void *buf, size_t n, mt_error_t **err)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            mt_error_set(err, MT_ERR_IO, "getrandom: %s", strerror(errno));
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

int
mt_random_hex(char *out, size_t n, mt_error_t **err)
{
    uint8_t b[64];
    size_t k = 0;
    while (k < n) {
        size_t chunk = n - k < sizeof b ? n - k : sizeof b;
        if (mt_random_bytes(b, chunk, err) != 0)
            return -1;
        mt_hex_encode(b, chunk, out + 2 * k);
        k += chunk;
    }
    out[2 * n] = '\0'; /* also when n is 0 */
    return 0;
}
