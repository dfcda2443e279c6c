/* identity.h: this client's eD2K user hash, made once and kept in the
 * state directory forever (aMule bans an IP+port that shows a new hash,
 * ed2k-protocol.md §5 and §12 item 2). */
#ifndef MT_DAEMON_IDENTITY_H
#define MT_DAEMON_IDENTITY_H

#include <stdint.h>

#include "util/error.h"

/* identity_load: reads the user hash from path (32 hex digits), or makes a
 * random one with the eMule marker bytes (byte 5 = 14, byte 14 = 111) and
 * saves it atomically when the file does not exist. A file that exists but
 * does not hold a valid hash is an error (never silently replaced). */
int identity_load(const char *path, uint8_t hash[16], mt_error_t **err);

#endif
