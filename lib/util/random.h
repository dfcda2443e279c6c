/* random.h: random bytes from the kernel (getrandom), for identifiers that
 * must not repeat across runs and machines: user hashes, salts, download
 * ids. */
#ifndef MT_UTIL_RANDOM_H
#define MT_UTIL_RANDOM_H

#include <stddef.h>

#include "util/error.h"

/* mt_random_bytes: fills buf with n random bytes (retried on EINTR and
 * short reads). MT_ERR_IO when the kernel gives none. */
int mt_random_bytes(void *buf, size_t n, mt_error_t **err);

/* mt_random_hex: n random bytes as 2n lower-case hex digits, then a NUL:
 * out holds 2n + 1 bytes. MT_ERR_IO as mt_random_bytes. */
int mt_random_hex(char *out, size_t n, mt_error_t **err);

#endif
