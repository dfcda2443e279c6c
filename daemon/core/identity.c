/* identity.c: loading and creating the persistent user hash. */
#include "config.h"

#include "daemon/core/identity.h"
#include "ed2k/hash.h"
#include "util/file.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static int
save(const char *path, const uint8_t hash[16], mt_error_t **err)
{
    char line[ED2K_HASH_HEX_LEN + 2];
    ed2k_hash_to_hex(hash, line);
    line[32] = '\n';
    return mt_file_write_atomic(path, line, 33, 0600, err);
}

int
identity_load(const char *path, uint8_t hash[16], mt_error_t **err)
{
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        char buf[64] = { 0 };
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
            buf[--n] = '\0';
        if (n != 32 || ed2k_hash_from_hex(buf, hash) != 0) {
            mt_error_set(err, MT_ERR_INVALID,
                         "%s does not hold a user hash (32 hex digits); fix or remove it "
                         "(a new hash makes peers that knew the old one ban this client)",
                         path);
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT) {
        mt_error_set(err, MT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (getrandom(hash, 16, 0) != 16) {
        mt_error_set(err, MT_ERR_IO, "getrandom: %s", strerror(errno));
        return -1;
    }
    hash[5] = 14;
    hash[14] = 111;
    return save(path, hash, err);
}
