/* args.c: typed readers of a control request's arguments (args.h). */
#include "config.h"

#include "ctl/args.h"

#include <inttypes.h>

json_object *
ctl_arg_get(json_object *args, const char *key)
{
    json_object *v = NULL;
    return args != NULL && json_object_object_get_ex(args, key, &v) ? v : NULL;
}

int
ctl_arg_str(json_object *args, const char *key, bool required, const char **out, size_t max,
            mt_error_t **err)
{
    json_object *v = ctl_arg_get(args, key);
    *out = NULL;
    if (v == NULL) {
        if (required) {
            mt_error_set(err, MT_ERR_INVALID, "missing argument \"%s\"", key);
            return -1;
        }
        return 0;
    }
    if (!json_object_is_type(v, json_type_string) ||
        (size_t)json_object_get_string_len(v) > max) {
        mt_error_set(err, MT_ERR_INVALID, "\"%s\" must be a string of at most %zu bytes", key,
                     max);
        return -1;
    }
    *out = json_object_get_string(v);
    return 0;
}

int
ctl_arg_bool(json_object *args, const char *key, bool *out, mt_error_t **err)
{
    json_object *v = ctl_arg_get(args, key);
    *out = false;
    if (v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        mt_error_set(err, MT_ERR_INVALID, "\"%s\" must be true or false", key);
        return -1;
    }
    *out = json_object_get_boolean(v);
    return 0;
}

int
ctl_arg_int(json_object *args, const char *key, int64_t lo, int64_t hi, bool *has,
            int64_t *out, mt_error_t **err)
{
    json_object *v = ctl_arg_get(args, key);
    *has = false;
    if (v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < lo ||
        json_object_get_int64(v) > hi) {
        mt_error_set(err, MT_ERR_INVALID, "\"%s\" must be an integer %" PRId64 "-%" PRId64, key,
                     lo, hi);
        return -1;
    }
    *has = true;
    *out = json_object_get_int64(v);
    return 0;
}
