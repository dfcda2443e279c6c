/* file.h: whole-file helpers: an atomic replace (write a temporary file,
 * fsync, rename over the old one) and a bounded read of a regular file. */
#ifndef MT_UTIL_FILE_H
#define MT_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* mt_file_write_atomic: replaces path with len bytes of data, through
 * PATH.tmp (mode), fsynced before the rename: after a crash path holds
 * either the old or the new content. MT_ERR_IO naming the file on
 * failure (the temporary file is removed). Blocking: call it from a
 * worker, or for small, rare writes. */
int mt_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         mt_error_t **err);

/* mt_file_read: the content of a regular file of at most max bytes (a new
 * buffer with a NUL after the content, caller frees), its length in *len.
 * MT_ERR_NOT_FOUND when it does not exist, MT_ERR_INVALID when it is not a
 * regular file or is larger, MT_ERR_IO otherwise. */
uint8_t *mt_file_read(const char *path, size_t max, size_t *len, mt_error_t **err);

#endif
