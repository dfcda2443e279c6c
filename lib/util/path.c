/* path.c: directory paths given by users (path.h): lexical normal form,
 * containment, and confinement to root directories with symbolic links
 * resolved, so a category's save path cannot point anywhere. */
#include "config.h"

#include "util/path.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
mt_path_normalize(const char *path)
{
    size_t len = strlen(path);
    char *out = xmalloc(len + 2);
    bool abs = path[0] == '/';
    /* out[0, floor) cannot be taken away by "..": the leading '/' of an
     * absolute path, or the leading ".." parts of a relative one */
    size_t o = 0, floor = 0;
    if (abs)
        out[o++] = '/';
    floor = o;
    for (const char *p = path; *p != '\0';) {
        if (*p == '/') {
            p++;
            continue;
        }
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (o > floor) {
                /* take away the last part and the '/' before it */
                while (o > floor && out[o - 1] != '/')
                    o--;
                if (o > floor || (o > 0 && !abs))
                    o--;
            } else if (!abs) {
                if (o > 0)
                    out[o++] = '/';
                out[o++] = '.';
                out[o++] = '.';
                floor = o;
            }
        } else if (!(n == 1 && p[0] == '.')) {
            if (o > 0 && out[o - 1] != '/')
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    return out;
}

char *
mt_path_join(const char *base, const char *rel)
{
    if (rel[0] == '/')
        return mt_path_normalize(rel);
    char *joined = xasprintf("%s/%s", base, rel);
    char *out = mt_path_normalize(joined);
    free(joined);
    return out;
}

bool
mt_path_is_within(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/')
        return path[0] == '/';
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* absolute: path normalized, relative to the working directory when it is
 * relative. NULL with err when the working directory is unknown. */
static char *
absolute(const char *path, mt_error_t **err)
{
    if (path[0] == '/')
        return mt_path_normalize(path);
    char *cwd = getcwd(NULL, 0);
    if (cwd == NULL) {
        mt_error_set(err, MT_ERR_IO, "cannot resolve %s: %s", path, strerror(errno));
        return NULL;
    }
    char *out = mt_path_join(cwd, path);
    free(cwd);
    return out;
}

char *
mt_path_resolve(const char *path, mt_error_t **err)
{
    char *norm = absolute(path, err);
    if (norm == NULL)
        return NULL;
    /* the deepest ancestor that exists (as anything, a link too: a
     * dangling link is not skipped over but fails realpath below) */
    char *head = xstrdup(norm);
    struct stat st;
    while (lstat(head, &st) != 0) {
        if (errno != ENOENT) {
            mt_error_set(err, MT_ERR_IO, "cannot resolve %s: %s", head, strerror(errno));
            goto fail;
        }
        char *slash = strrchr(head, '/');
        slash[slash == head ? 1 : 0] = '\0'; /* "/" always exists */
    }
    char *real = realpath(head, NULL);
    if (real == NULL) {
        mt_error_set(err, MT_ERR_IO, "cannot resolve %s: %s", head, strerror(errno));
        goto fail;
    }
    const char *tail = norm + strlen(head);
    char *out = *tail == '\0' ? mt_path_normalize(real) : mt_path_join(real, tail + (*tail == '/'));
    free(real);
    free(head);
    free(norm);
    return out;
fail:
    free(head);
    free(norm);
    return NULL;
}

char *
mt_path_confine(const char *path, const char *base, const char *const *roots, size_t n,
                mt_error_t **err)
{
    if (path == NULL || *path == '\0') {
        mt_error_set(err, MT_ERR_INVALID, "an empty path");
        return NULL;
    }
    char *abs_base = absolute(base, err);
    if (abs_base == NULL)
        return NULL;
    char *norm = mt_path_join(abs_base, path);
    free(abs_base);
    char *real = mt_path_resolve(norm, err);
    if (real == NULL) {
        free(norm);
        return NULL;
    }
    bool inside = false;
    for (size_t i = 0; i < n && !inside; i++) {
        char *root = mt_path_resolve(roots[i], NULL);
        inside = root != NULL && mt_path_is_within(real, root);
        free(root);
    }
    if (!inside) {
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
            len += strlen(roots[i]) + 2;
        char *list = xcalloc(1, len);
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                strcat(list, ", ");
            strcat(list, roots[i]);
        }
        if (strcmp(real, norm) == 0)
            mt_error_set(err, MT_ERR_INVALID, "%s is outside the allowed directories (%s)", norm,
                         list);
        else
            mt_error_set(err, MT_ERR_INVALID,
                         "%s (%s, its links resolved) is outside the allowed directories (%s)",
                         norm, real, list);
        free(list);
        free(norm);
        norm = NULL;
    }
    free(real);
    return norm;
}
