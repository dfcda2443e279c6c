/* speedlimit.h: the global transfer limits: the normal pair, the
 * alternative pair (qBittorrent's "alternative speed limits") and the
 * mode that chooses between them, which is kept in a small state file
 * so that it survives a restart. */
#ifndef MT_DAEMON_NET_SPEEDLIMIT_H
#define MT_DAEMON_NET_SPEEDLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

/* Bytes per second; 0 is unlimited. */
typedef struct {
    uint64_t up, down;         /* max_upload, max_download */
    uint64_t alt_up, alt_down; /* alt_max_upload, alt_max_download */
    bool alt;                  /* the alternative pair is in force */
} speedlimit_t;

/* speedlimit_in_force: the pair the peer connections are held to. */
void speedlimit_in_force(const speedlimit_t *l, uint64_t *up, uint64_t *down);

/* speedlimit_load_mode: the mode saved at path: false when there is no
 * such file (never switched on); -1 (with *alt false) when it cannot be
 * read or holds anything but "0" or "1". */
int speedlimit_load_mode(const char *path, bool *alt, mt_error_t **err);
/* speedlimit_save_mode: writes the mode to path (through a temporary file
 * renamed over it). -1 with MT_ERR_IO or MT_ERR_NO_SPACE. */
int speedlimit_save_mode(const char *path, bool alt, mt_error_t **err);

#endif
