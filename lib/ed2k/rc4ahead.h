/* rc4ahead.h: an RC4 keystream computed ahead on a thread of its own, so
 * that a bulk obfuscated transfer (ed2k-protocol.md §9.2) costs its event
 * loop an XOR per byte instead of the cipher's state updates: the RC4
 * loop, the daemon's largest cost on a fast link, then runs beside the
 * loop instead of in it. Same bytes as ed2k_rc4_crypt on the state. */
#ifndef MT_ED2K_RC4AHEAD_H
#define MT_ED2K_RC4AHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "ed2k/rc4.h"

typedef struct ed2k_rc4_ahead ed2k_rc4_ahead_t;

/* ed2k_rc4_ahead_start: a thread that continues the keystream of state
 * (copied), keeping up to 1 MiB computed ahead. NULL when 8 run already in
 * the process or no thread could be started (then keep using the state).
 * Free with ed2k_rc4_ahead_free. */
ed2k_rc4_ahead_t *ed2k_rc4_ahead_start(const ed2k_rc4_t *state);

/* ed2k_rc4_ahead_crypt: as ed2k_rc4_crypt with the next n keystream
 * bytes; waits for the thread when it is behind. */
void ed2k_rc4_ahead_crypt(ed2k_rc4_ahead_t *a, uint8_t *dst, const uint8_t *src, size_t n);

/* ed2k_rc4_ahead_free: stops and joins the thread; accepts NULL. */
void ed2k_rc4_ahead_free(ed2k_rc4_ahead_t *a);

#endif
