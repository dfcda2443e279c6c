/* hookargs.c: a hook's command split into words, its %-substitutions and
 * its environment (hookargs.h). No shell is involved: what the values of
 * an event hold never becomes syntax. */
#include "config.h"

#include "daemon/hooks/hookargs.h"
#include "util/argv.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing string. */
typedef struct {
    char *s;
    size_t len, cap;
} sbuf_t;

static void
sb_add(sbuf_t *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void
sb_addc(sbuf_t *b, char c)
{
    sb_add(b, &c, 1);
}

static char *
sb_take(sbuf_t *b)
{
    if (b->s == NULL)
        return xstrdup("");
    return b->s;
}

void
hook_strv_free(char **v)
{
    mt_strv_free(v);
}

char **
hook_split(const char *cmd, size_t *argc, mt_error_t **err)
{
    return mt_argv_split(cmd, HOOK_MAX_ARGS, argc, err);
}

static const char *
or_empty(const char *s)
{
    return s != NULL ? s : "";
}

char *
hook_subst(const char *arg, const hook_event_t *ev)
{
    sbuf_t b = { 0 };
    char num[32];
    for (const char *p = arg; *p != '\0'; p++) {
        if (*p != '%' || p[1] == '\0') {
            sb_addc(&b, *p);
            continue;
        }
        const char *v = NULL;
        switch (p[1]) {
        case 'e': v = or_empty(ev->event); break;
        case 'h': v = or_empty(ev->hash); break;
        case 'n': v = or_empty(ev->name); break;
        case 'p': v = or_empty(ev->path); break;
        case 'c': v = or_empty(ev->category); break;
        case 'u': v = or_empty(ev->added_by); break;
        case 'r': v = or_empty(ev->error); break;
        case '%': v = "%"; break;
        case 's':
            snprintf(num, sizeof num, "%" PRIu64, ev->size);
            v = num;
            break;
        case 't':
            snprintf(num, sizeof num, "%" PRId64, ev->time);
            v = num;
            break;
        default:
            break;
        }
        if (v == NULL) {
            sb_addc(&b, *p);
            continue;
        }
        sb_add(&b, v, strlen(v));
        p++;
    }
    return sb_take(&b);
}

char **
hook_argv(const char *cmd, const hook_event_t *ev, mt_error_t **err)
{
    size_t n;
    char **v = hook_split(cmd, &n, err);
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char *s = hook_subst(v[i], ev);
        free(v[i]);
        v[i] = s;
    }
    return v;
}

char **
hook_env(const hook_event_t *ev, char *const *base)
{
    size_t nb = 0;
    while (base != NULL && base[nb] != NULL)
        nb++;
    char **v = xcalloc(nb + 11, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < nb; i++)
        if (strncmp(base[i], "MULETEER_", 9) != 0)
            v[n++] = xstrdup(base[i]);
    v[n++] = xasprintf("MULETEER_EVENT=%s", or_empty(ev->event));
    v[n++] = xasprintf("MULETEER_HASH=%s", or_empty(ev->hash));
    v[n++] = xasprintf("MULETEER_NAME=%s", or_empty(ev->name));
    v[n++] = xasprintf("MULETEER_SIZE=%" PRIu64, ev->size);
    v[n++] = xasprintf("MULETEER_PATH=%s", or_empty(ev->path));
    v[n++] = xasprintf("MULETEER_CATEGORY=%s", or_empty(ev->category));
    v[n++] = xasprintf("MULETEER_ADDED_BY=%s", or_empty(ev->added_by));
    v[n++] = xasprintf("MULETEER_ERROR=%s", or_empty(ev->error));
    v[n++] = xasprintf("MULETEER_TIME=%" PRId64, ev->time);
    v[n++] = xasprintf("MULETEER_TEST=%d", ev->test ? 1 : 0);
    v[n] = NULL;
    return v;
}
