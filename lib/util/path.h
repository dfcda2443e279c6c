/* path.h: directory paths given by users: their lexical normal form, whether
 * one lies inside another, and the confinement of a path to a list of root
 * directories with the symbolic links of its existing part resolved. */
#ifndef MT_UTIL_PATH_H
#define MT_UTIL_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* mt_path_normalize: path in lexical normal form: repeated '/' and "."
 * parts dropped, ".." removes the part before it (at the top of an
 * absolute path it is dropped: "/.." is "/"), no trailing '/'. A relative
 * path stays relative and keeps the ".." parts it cannot remove; "" and
 * "." give ".". No file is looked at. A new string (caller frees). */
char *mt_path_normalize(const char *path);

/* mt_path_join: rel when it is absolute, else base/rel; normalized. A new
 * string. */
char *mt_path_join(const char *base, const char *rel);

/* mt_path_is_within: true when path is root or lies under it, part by
 * part ("/a/bc" is not under "/a/b"). Both absolute and normalized. */
bool mt_path_is_within(const char *path, const char *root);

/* mt_path_resolve: the absolute, normalized path with the symbolic links
 * of its existing part resolved: realpath() of its deepest existing
 * ancestor, followed by the parts that do not exist yet (which no link
 * can redirect until they are made). A new string, or NULL with
 * MT_ERR_IO naming the path when a part exists but cannot be resolved (a
 * dangling link, a loop, no permission). */
char *mt_path_resolve(const char *path, mt_error_t **err);

/* mt_path_confine: path checked to be a directory inside one of roots (n
 * absolute directories; those that cannot be resolved are skipped). A
 * relative path is taken relative to base (relative to the working
 * directory when base is relative itself). The path, with its symbolic
 * links resolved by mt_path_resolve, must lie inside a root, resolved
 * the same way: "..", a link inside a root pointing out of it, or a path
 * elsewhere are refused. Returns the absolute, normalized path (links
 * not resolved, as the user wrote it; a new string), or NULL with
 * MT_ERR_INVALID saying why (naming the path and the roots) or MT_ERR_IO
 * from mt_path_resolve. */
char *mt_path_confine(const char *path, const char *base, const char *const *roots, size_t n,
                      mt_error_t **err);

#endif
