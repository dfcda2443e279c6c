/* rowcache.h: the parts of each download's torrents/info JSON that depend
 * on its row alone, kept per FastCGI process by hash and row version, so
 * that a listing asks PostgreSQL only for the rows that changed. */
#ifndef MULETEER_QBIT_ROWCACHE_H
#define MULETEER_QBIT_ROWCACHE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct qbit_rowcache qbit_rowcache_t;

/* qbit_rowcache_new: an empty cache of rows made of nseg text segments,
 * holding at most max_bytes of them (beyond that it starts over empty).
 * Free with qbit_rowcache_free (NULL is fine). */
qbit_rowcache_t *qbit_rowcache_new(size_t nseg, size_t max_bytes);
void qbit_rowcache_free(qbit_rowcache_t *c);

/* qbit_rowcache_get: the segments of key at version ver, or NULL when the
 * cache has none or another version (any version when ver is NULL). Valid until the next put or free. */
const char *const *qbit_rowcache_get(const qbit_rowcache_t *c, const char *key,
                                     const char *ver);

/* qbit_rowcache_put: keeps copies of segs (nseg strings, each len[i]
 * bytes) for key at version ver, replacing what key had. */
void qbit_rowcache_put(qbit_rowcache_t *c, const char *key, const char *ver,
                       const char *const *segs, const size_t *len);

/* qbit_rowcache_count: the rows held. */
size_t qbit_rowcache_count(const qbit_rowcache_t *c);

#endif
