/* aichdata.c: the recovery data of a part of a shared file (aichdata.h),
 * read and hashed part by part. */
#include "config.h"

#include "daemon/transfer/aichdata.h"
#include "daemon/transfer/fdcache.h"
#include "ed2k/aich.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
read_at(int fd, uint8_t *buf, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pread(fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* shorter than it was */
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int
aichdata_build(const char *path, uint64_t size, size_t part, const uint8_t root[ED2K_AICH_LEN],
               uint8_t **out, size_t *out_len, mt_error_t **err)
{
    if (!ed2k_aich_recoverable(size, part)) {
        mt_error_set(err, MT_ERR_INVALID, "part %zu has no AICH recovery data", part);
        return -1;
    }
    int fd = fdc_open(NULL, path, O_RDONLY, 0);
    if (fd < 0) {
        mt_error_set(err, MT_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    ed2k_aich_parts_t t;
    ed2k_aich_parts_init(&t, size);
    uint8_t *buf = xmalloc(ED2K_PARTSIZE);
    uint8_t blocks[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN];
    uint8_t mine[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN];
    size_t n_mine = 0;
    int rc = 0;
    for (size_t i = 0; i < t.n; i++) {
        uint64_t s = (uint64_t)i * ED2K_PARTSIZE;
        size_t len = (size_t)(size - s < ED2K_PARTSIZE ? size - s : ED2K_PARTSIZE);
        if (read_at(fd, buf, len, s) != 0) {
            mt_error_set(err, MT_ERR_IO, "cannot read %s at %llu: %s", path,
                         (unsigned long long)s, strerror(errno));
            rc = -1;
            break;
        }
        size_t n = ed2k_aich_blocks(buf, len, blocks);
        ed2k_aich_parts_set(&t, i, (const uint8_t (*)[ED2K_AICH_LEN])blocks, n);
        if (i == part) {
            memcpy(mine, blocks, n * ED2K_AICH_LEN);
            n_mine = n;
        }
    }
    free(buf);
    close(fd);
    if (rc == 0) {
        uint8_t got[ED2K_AICH_LEN];
        ed2k_aich_parts_root(&t, got);
        if (memcmp(got, root, ED2K_AICH_LEN) != 0) {
            mt_error_set(err, MT_ERR_PROTOCOL, "%s no longer has the AICH root it was shared with",
                         path);
            rc = -1;
        } else {
            rc = ed2k_aich_recovery_encode(&t, part, (const uint8_t (*)[ED2K_AICH_LEN])mine, n_mine,
                                           out, out_len, err);
        }
    }
    ed2k_aich_parts_clear(&t);
    return rc;
}
