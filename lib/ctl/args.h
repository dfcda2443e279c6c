/* args.h: reading a control request's arguments (the "args" object of
 * docs/control-protocol.md): typed, optional or required, with the error
 * messages every command handler gives for a wrong one. */
#ifndef MT_CTL_ARGS_H
#define MT_CTL_ARGS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* ctl_arg_get: the argument key of args, NULL when it is absent or JSON
 * null. Owned by args. */
json_object *ctl_arg_get(json_object *args, const char *key);

/* ctl_arg_str: a string argument of at most max bytes into *out (owned by
 * args), NULL when absent or null. -1 with MT_ERR_INVALID when it is
 * absent and required ("missing argument \"KEY\"") or present but not
 * such a string ("\"KEY\" must be a string of at most MAX bytes"). */
int ctl_arg_str(json_object *args, const char *key, bool required, const char **out, size_t max,
                mt_error_t **err);

/* ctl_arg_bool: a boolean argument into *out, false when absent or null.
 * -1 with MT_ERR_INVALID ("\"KEY\" must be true or false") for any other
 * type. */
int ctl_arg_bool(json_object *args, const char *key, bool *out, mt_error_t **err);

/* ctl_arg_int: an integer argument from lo to hi into *out, *has telling
 * whether one was given (absent or null: false, *out untouched). -1 with
 * MT_ERR_INVALID ("\"KEY\" must be an integer LO-HI") for another type or
 * a value out of range. */
int ctl_arg_int(json_object *args, const char *key, int64_t lo, int64_t hi, bool *has,
                int64_t *out, mt_error_t **err);

#endif
