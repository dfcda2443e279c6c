/* conf.h: muleteer.conf, the one configuration file read by the daemon, the
 * FastCGI programs and the CLI. Every key is declared in conf.c's table with
 * its type, range and default; docs/configuration.md lists them. */
#ifndef MT_UTIL_CONF_H
#define MT_UTIL_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

typedef struct conf conf_t;

/* conf_new: a configuration holding only the defaults. state_dir defaults
 * to the directory of the file loaded, or "." when none is. */
conf_t *conf_new(void);
void conf_free(conf_t *conf);

/* conf_load_file: reads "key = value" lines. Errors name the file, the line
 * and the key: unknown key, duplicate key, bad value, unreadable file. On
 * error the configuration is left as it was before the call. */
int conf_load_file(conf_t *conf, const char *path, mt_error_t **err);
/* conf_load_string: the same for text already in memory; name is used in
 * error messages. */
int conf_load_string(conf_t *conf, const char *text, const char *name,
                     mt_error_t **err);

/* Getters for declared keys; asking for an undeclared key or the wrong type
 * is a programming error (abort). Strings are owned by conf. "${state_dir}"
 * in a value is replaced by the state directory. */
const char *conf_get_str(const conf_t *conf, const char *key);
long long conf_get_int(const conf_t *conf, const char *key);
bool conf_get_bool(const conf_t *conf, const char *key);
double conf_get_real(const conf_t *conf, const char *key);
/* conf_path: the file loaded last, or NULL. */
const char *conf_path(const conf_t *conf);

/* conf_var_dir: the state directory the programs share when they are
 * given no other: $MULETEER_VAR when set and not empty, else "var"
 * (relative to the working directory). The string is the environment's or
 * static: do not free it. */
const char *conf_var_dir(void);

/* conf_default_file: the configuration file a program reads when it is
 * given none: $MULETEER_CONF when set and not empty, else
 * conf_var_dir()/muleteer.conf. A new string: the caller frees it. */
char *conf_default_file(void);

/* conf_set: sets a key from text with the same validation as a file line
 * (used for command-line overrides and tests). */
int conf_set(conf_t *conf, const char *key, const char *value, mt_error_t **err);

/* conf_text_with: the text of a configuration file (len bytes) with the
 * first line of each keys[i] replaced by "keys[i] = values[i]" (appended
 * when there is none); every other byte is kept. Caller frees. */
char *conf_text_with(const char *text, size_t len, const char *const *keys,
                     const char *const *values, size_t n, size_t *out_len);
/* conf_file_update: rewrites the file at path with conf_text_with,
 * atomically and with the old file's mode, after checking that the result
 * loads. MT_ERR_IO when it cannot be read or written (the file is then
 * unchanged), MT_ERR_INVALID when a value is refused. */
int conf_file_update(const char *path, const char *const *keys, const char *const *values,
                     size_t n, mt_error_t **err);

#endif
