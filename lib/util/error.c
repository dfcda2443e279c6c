/* error.c: creation and disposal of mt_error_t. */
#include "config.h"

#include "util/error.h"
#include "util/xalloc.h"

#include <stdlib.h>

void
mt_error_setv(mt_error_t **err, int code, const char *fmt, va_list ap)
{
    if (err == NULL || *err != NULL)
        return;
    mt_error_t *e = xmalloc(sizeof *e);
    e->code = code;
    e->message = xvasprintf(fmt, ap);
    *err = e;
}

void
mt_error_set(mt_error_t **err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mt_error_setv(err, code, fmt, ap);
    va_end(ap);
}

void
mt_error_prefix(mt_error_t **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *prefix = xvasprintf(fmt, ap);
    va_end(ap);
    char *msg = xasprintf("%s: %s", prefix, (*err)->message);
    free(prefix);
    free((*err)->message);
    (*err)->message = msg;
}

void
mt_error_propagate(mt_error_t **dst, mt_error_t *src)
{
    if (src == NULL)
        return;
    if (dst != NULL && *dst == NULL)
        *dst = src;
    else
        mt_error_free(src);
}

void
mt_error_free(mt_error_t *err)
{
    if (err == NULL)
        return;
    free(err->message);
    free(err);
}

void
mt_error_clear(mt_error_t **err)
{
    if (err == NULL)
        return;
    mt_error_free(*err);
    *err = NULL;
}
