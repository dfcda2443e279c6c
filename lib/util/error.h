/* error.h: the error out-parameter every fallible function takes (after
 * Transmission's tr_error): a code and a message fit for an HTTP body. */
#ifndef MT_UTIL_ERROR_H
#define MT_UTIL_ERROR_H

#include <stdarg.h>

/* Generic error codes. Modules may use others, but these cover most cases
 * and map onto HTTP statuses and control-protocol error codes. */
enum mt_error_code {
    MT_ERR_INVALID = 1,  /* malformed input */
    MT_ERR_TOO_LARGE,    /* input over a size limit */
    MT_ERR_NOT_FOUND,
    MT_ERR_EXISTS,
    MT_ERR_IO,           /* file or socket error; message has strerror */
    MT_ERR_PROTOCOL,     /* peer broke a protocol rule */
    MT_ERR_UNSUPPORTED,
    MT_ERR_DB,           /* PostgreSQL error */
    MT_ERR_UNAVAILABLE,  /* a service (daemon, database) is unreachable */
    MT_ERR_TIMEOUT,
    MT_ERR_INTERNAL,
    MT_ERR_PERMISSION,   /* refused by file permissions (EACCES, EPERM) */
    MT_ERR_NO_SPACE,     /* a disk or quota is full (ENOSPC, EDQUOT) */
};

typedef struct mt_error {
    int code;
    char *message;
} mt_error_t;

/* mt_error_set: if err is not NULL and *err is NULL, stores a new error.
 * An error already set is kept (the first cause wins). */
void mt_error_set(mt_error_t **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mt_error_setv(mt_error_t **err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* mt_error_prefix: prepends "prefix: " to an existing error's message. */
void mt_error_prefix(mt_error_t **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* mt_error_propagate: moves src into *dst (or frees it if dst is NULL or
 * already set). */
void mt_error_propagate(mt_error_t **dst, mt_error_t *src);
void mt_error_free(mt_error_t *err);
/* mt_error_clear: frees *err and sets it to NULL. */
void mt_error_clear(mt_error_t **err);

#endif
