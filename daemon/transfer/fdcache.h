/* fdcache.h: a small cache of open file descriptors (after Transmission's
 * fdlimit.c): files are opened on demand, at most a configured number stay
 * open, and the least recently used idle one is closed to make room. */
#ifndef MT_DAEMON_FDCACHE_H
#define MT_DAEMON_FDCACHE_H

#include <stddef.h>
#include <sys/types.h>

/* A cache belongs to one thread (the daemon's loop thread for part files).
 * Each cached descriptor belongs to an owner (an opaque key, e.g. the
 * partfile_t) and one path. A descriptor is borrowed with fdc_checkout and
 * given back with fdc_checkin: between the two it is never closed, so a
 * borrower can use it across calls; an idle one may be closed at any
 * checkout of another owner. Work on other threads opens its own
 * descriptors (fdc_open) and never borrows from the cache. */
typedef struct fdcache fdcache_t;

/* fdc_new: a cache keeping at most max (at least 1) descriptors open.
 * Free with fdc_free, which closes them all; accepts NULL. */
fdcache_t *fdc_new(size_t max);
void fdc_free(fdcache_t *c);

/* fdc_set_max: a new maximum (at least 1); idle descriptors beyond it are
 * closed at once, borrowed ones when they come back. */
void fdc_set_max(fdcache_t *c, size_t max);
size_t fdc_max(const fdcache_t *c);
/* fdc_open_count: descriptors the cache holds open now. */
size_t fdc_open_count(const fdcache_t *c);

/* fdc_checkout: owner's descriptor of path opened with flags (an access
 * mode plus O_* creation flags; O_CLOEXEC is added): the cached one when it
 * is open with the same path and flags, else a new one, closing the least
 * recently used idle descriptor first when the cache is full, and more of
 * them when the process has run out of descriptors (EMFILE, ENFILE).
 * Borrowed until fdc_checkin(c, owner). -1 with errno when it cannot be
 * opened. A descriptor may be borrowed again by its owner (counted). */
int fdc_checkout(fdcache_t *c, const void *owner, const char *path, int flags);
void fdc_checkin(fdcache_t *c, const void *owner);
/* fdc_close: closes owner's descriptor now (its file is about to be
 * removed or moved, or the owner goes away). It must not be borrowed. */
void fdc_close(fdcache_t *c, const void *owner);

/* fdc_open: open(2) with O_CLOEXEC for a descriptor the caller keeps and
 * closes itself; when the process has run out of descriptors, idle ones of
 * the cache (c may be NULL) are closed and the open is tried again. */
int fdc_open(fdcache_t *c, const char *path, int flags, mode_t mode);

#endif
