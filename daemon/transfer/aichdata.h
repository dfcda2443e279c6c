/* aichdata.h: the AICH recovery data of one part of a complete file we
 * share, built from the file itself (Muleteer keeps no AICH tree on disk:
 * the file is read once per request, on a worker). */
#ifndef MT_DAEMON_AICHDATA_H
#define MT_DAEMON_AICHDATA_H

#include <stddef.h>
#include <stdint.h>

#include "ed2k/hash.h"
#include "util/error.h"

/* aichdata_build (any thread; blocks): reads the size bytes of the file at
 * path, builds its AICH tree and, when its root is root, the recovery
 * data of part (*out is malloc'ed). Returns 0, or -1 with MT_ERR_IO (the
 * read failed, the file is shorter), MT_ERR_INVALID (the part has no
 * recovery data) or MT_ERR_PROTOCOL (the file's root is another one). */
int aichdata_build(const char *path, uint64_t size, size_t part, const uint8_t root[ED2K_AICH_LEN],
                   uint8_t **out, size_t *out_len, mt_error_t **err);

#endif
