/* argv.c: command lines split into words without a shell (argv.h). */
#include "config.h"

#include "util/argv.h"
#include "util/xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void
mt_strv_free(char **v)
{
    if (v == NULL)
        return;
    for (char **p = v; *p != NULL; p++)
        free(*p);
    free(v);
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* word_end: the word starting at p (not a blank) copied unquoted to w
 * (room for all of p: a word is never longer than its text) and ended;
 * where it ends, or NULL with err on a quoting error. */
static const char *
word_end(const char *p, char *w, mt_error_t **err)
{
    while (*p != '\0' && !is_blank(*p)) {
        if (*p == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (end == NULL)
                goto unterminated;
            memcpy(w, p + 1, (size_t)(end - p - 1));
            w += end - p - 1;
            p = end + 1;
        } else if (*p == '"') {
            for (p++; *p != '"'; p++) {
                if (*p == '\0')
                    goto unterminated;
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                    p++;
                *w++ = *p;
            }
            p++;
        } else if (*p == '\\') {
            if (p[1] == '\0') {
                mt_error_set(err, MT_ERR_INVALID, "the command ends with a lone \\");
                return NULL;
            }
            *w++ = p[1];
            p += 2;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return p;
unterminated:
    mt_error_set(err, MT_ERR_INVALID, "the command has an unterminated quote");
    return NULL;
}

/* split_word: one word starting at *pp; advances *pp past it. */
static int
split_word(const char **pp, char **out, mt_error_t **err)
{
    char *buf = xmalloc(strlen(*pp) + 1);
    const char *end = word_end(*pp, buf, err);
    if (end == NULL) {
        free(buf);
        return -1;
    }
    *pp = end;
    *out = buf;
    return 0;
}

char **
mt_argv_split(const char *cmd, size_t max, size_t *argc, mt_error_t **err)
{
    char **v = xcalloc(max + 1, sizeof *v);
    size_t n = 0;
    const char *p = cmd != NULL ? cmd : "";
    for (;;) {
        while (is_blank(*p))
            p++;
        if (*p == '\0')
            break;
        if (n == max) {
            mt_error_set(err, MT_ERR_INVALID, "the command has more than %zu words", max);
            mt_strv_free(v);
            return NULL;
        }
        if (split_word(&p, &v[n], err) != 0) {
            mt_strv_free(v);
            return NULL;
        }
        n++;
    }
    if (n == 0 || v[0][0] == '\0') {
        mt_error_set(err, MT_ERR_INVALID, "the command names no program");
        mt_strv_free(v);
        return NULL;
    }
    if (argc != NULL)
        *argc = n;
    return v;
}
