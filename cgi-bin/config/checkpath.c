/* checkpath.c: POST /api/config/check-path, what aMuTorrent's category
 * form asks of a directory as the user types it: does it exist, may it be
 * read and written, and may a category use it (inside incoming_dir or
 * download_roots, as the daemon's categories must be). Nothing is made;
 * a caller who is no admin learns nothing of a path outside the roots. */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/cfgapi.h"
#include "util/path.h"
#include "util/xalloc.h"

/* The roots a category's directory must lie in: incoming_dir, then each
 * of download_roots (':'-separated). *list keeps the strings; the caller
 * frees it and the array. */
static const char **
roots_of(const conf_t *conf, char **list, size_t *n)
{
    const char *incoming = conf_get_str(conf, "incoming_dir");
    *list = xstrdup(conf_get_str(conf, "download_roots"));
    const char **roots = xcalloc(strlen(*list) / 2 + 2, sizeof *roots);
    *n = 0;
    roots[(*n)++] = incoming;
    char *save = NULL;
    for (char *r = strtok_r(*list, ":", &save); r != NULL; r = strtok_r(NULL, ":", &save))
        roots[(*n)++] = r;
    return roots;
}

/* the answer: aMuTorrent's {path, exists, readable, writable, error,
 * isDocker}, and insideRoots */
static json_object *
answer(const char *path, bool exists, bool readable, bool writable, bool inside, const char *error)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "path", json_object_new_string(path));
    json_object_object_add(o, "exists", json_object_new_boolean(exists));
    json_object_object_add(o, "readable", json_object_new_boolean(readable));
    json_object_object_add(o, "writable", json_object_new_boolean(writable));
    json_object_object_add(o, "insideRoots", json_object_new_boolean(inside));
    json_object_object_add(o, "error", error != NULL ? json_object_new_string(error) : NULL);
    json_object_object_add(o, "isDocker", json_object_new_boolean(false));
    return o;
}

/* arg_path: the body's "path", trimmed, into *out (a new string); 1
 * after answering 400. */
static int
arg_path(http_request_t *req, http_response_t *resp, char **out)
{
    mt_error_t *err = NULL;
    json_object *body = http_request_json(req, &err), *v = NULL;
    mt_error_free(err);
    if (body == NULL || !json_object_is_type(body, json_type_object) ||
        !json_object_object_get_ex(body, "path", &v) || !json_object_is_type(v, json_type_string)) {
        json_object_put(body);
        cgijson_bad_param(resp, "path", "Path is required: {\"path\": \"a directory\"}");
        return 1;
    }
    const char *p = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    const char *why = len == 0 ? "Path is required" : len >= PATH_MAX ? "a path of at most 4095 bytes" : NULL;
    for (size_t i = 0; why == NULL && i < len; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            why = "no control characters";
    if (why == NULL && memchr(p, '\0', len) != NULL)
        why = "no NUL byte";
    if (why != NULL) {
        json_object_put(body);
        cgijson_bad_param(resp, "path", why);
        return 1;
    }
    *out = xstrndup(p, len);
    json_object_put(body);
    return 0;
}

int
cfgapi_check_path(http_request_t *req, http_response_t *resp, void *ctx)
{
    cfgapi_t *c = ctx;
    char *path = NULL;
    if (arg_path(req, resp, &path) != 0)
        return 0;
    const conf_t *conf = cgienv_conf(c->env);
    const char *incoming = conf_get_str(conf, "incoming_dir");
    /* relative: under incoming_dir, as a category's path is */
    char *full = mt_path_join(incoming, path);
    char *list = NULL;
    size_t n = 0;
    const char **roots = roots_of(conf, &list, &n);
    mt_error_t *err = NULL;
    char *confined = mt_path_confine(full, incoming, roots, n, &err);
    bool inside = confined != NULL;
    json_object *o;
    if (!inside && !c->is_admin) {
        /* neither its existence nor why it was refused (a link's target)
         * is told */
        o = answer(full, false, false, false, false,
                   "outside the allowed directories (incoming_dir and download_roots)");
    } else {
        struct stat st;
        bool exists = stat(full, &st) == 0, dir = exists && S_ISDIR(st.st_mode);
        bool readable = dir && access(full, R_OK | X_OK) == 0;
        bool writable = dir && access(full, W_OK | X_OK) == 0;
        const char *error = exists && !dir ? "not a directory"
                            : !inside ? "outside the allowed directories (incoming_dir and download_roots)"
                                      : NULL;
        o = answer(full, dir, readable, writable, inside, error);
    }
    cgijson_ok(resp, o);
    json_object_put(o);
    mt_error_free(err);
    free(confined);
    free(roots);
    free(list);
    free(full);
    free(path);
    return 0;
}
