/* import_src.c: reading an aMule or eMule configuration directory for an
 * import (import_src.h): INI files and shareddir.dat, every line bounded. */
#include "config.h"

#include "daemon/ctl/import_src.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/file.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define IMP_MAX_INI (4u << 20)
#define IMP_MAX_LINE 4096

static bool
is_dir(const char *p)
{
    struct stat st;
    return p != NULL && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* An INI file as (section, key, value) triples. */
typedef struct {
    char **v; /* 3 per entry */
    size_t n;
} ini_t;

static void
ini_free(ini_t *ini)
{
    for (size_t i = 0; i < 3 * ini->n; i++)
        free(ini->v[i]);
    free(ini->v);
    ini->v = NULL;
    ini->n = 0;
}

static char *
trimmed(const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    char *out = xmalloc(len + 1);
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

/* ini_load: a missing or unreadable file is an empty one; lines that are
 * too long, not UTF-8 or neither "[section]" nor "key=value" are skipped. */
static void
ini_load(ini_t *ini, const char *path)
{
    size_t len = 0;
    char *text = (char *)mt_file_read(path, IMP_MAX_INI, &len, NULL);
    if (text == NULL)
        return;
    char *section = xstrdup("");
    for (char *line = text; line < text + len;) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = nl != NULL ? (size_t)(nl - line) : (size_t)(text + len - line);
        char *eq = memchr(line, '=', n);
        if (n > IMP_MAX_LINE || !mt_utf8_is_valid(line, n)) {
            /* skipped */
        } else if (n > 0 && line[0] == '[') {
            char *close = memchr(line, ']', n);
            if (close != NULL) {
                free(section);
                section = trimmed(line + 1, (size_t)(close - line - 1));
            }
        } else if (eq != NULL) {
            ini->v = xreallocarray(ini->v, 3 * (ini->n + 1), sizeof *ini->v);
            ini->v[3 * ini->n] = xstrdup(section);
            ini->v[3 * ini->n + 1] = trimmed(line, (size_t)(eq - line));
            ini->v[3 * ini->n + 2] = trimmed(eq + 1, n - (size_t)(eq - line) - 1);
            ini->n++;
        }
        line += n + 1;
    }
    free(section);
    free(text);
}

static const char *
ini_get(const ini_t *ini, const char *section, const char *key)
{
    for (size_t i = 0; i < ini->n; i++)
        if (strcmp(ini->v[3 * i], section) == 0 && strcmp(ini->v[3 * i + 1], key) == 0)
            return ini->v[3 * i + 2];
    return NULL;
}

static long
ini_long(const ini_t *ini, const char *section, const char *key, long lo, long hi)
{
    const char *v = ini_get(ini, section, key);
    char *end;
    if (v == NULL || *v == '\0')
        return -1;
    long n = strtol(v, &end, 10);
    return *end == '\0' && n >= lo && n <= hi ? n : -1;
}

/* pick_dir: the configured directory when it exists here, else dir/def. */
static char *
pick_dir(const char *dir, const char *configured, const char *def)
{
    if (configured != NULL && configured[0] == '/' && is_dir(configured))
        return xstrdup(configured);
    char *p = xasprintf("%s/%s", dir, def);
    if (is_dir(p))
        return p;
    free(p);
    return NULL;
}

static void
read_cats(imp_src_t *s, const ini_t *ini)
{
    for (size_t i = 0; i < ini->n; i++) {
        const char *sec = ini->v[3 * i];
        char *end;
        if (strncmp(sec, "Cat#", 4) != 0 || strcmp(ini->v[3 * i + 1], "Title") != 0)
            continue;
        unsigned long idx = strtoul(sec + 4, &end, 10);
        if (*end != '\0' || idx == 0 || idx > 1000 || ini->v[3 * i + 2][0] == '\0')
            continue;
        const char *inc = ini_get(ini, sec, "Incoming");
        const char *comment = ini_get(ini, sec, "Comment");
        s->cats = xreallocarray(s->cats, s->n_cats + 1, sizeof *s->cats);
        s->cats[s->n_cats++] = (imp_cat_t){
            .index = (uint32_t)idx,
            .title = xstrdup(ini->v[3 * i + 2]),
            .incoming = inc != NULL && inc[0] != '\0' ? xstrdup(inc) : NULL,
            .comment = comment != NULL && comment[0] != '\0' ? xstrdup(comment) : NULL,
        };
    }
}

/* utf16le_to_utf8: eMule writes shareddir.dat in UTF-16LE with a BOM. */
static char *
utf16le_to_utf8(const uint8_t *p, size_t len, size_t *out_len)
{
    char *out = xmalloc(len / 2 * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint32_t c = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
        if (c >= 0xD800 && c <= 0xDFFF)
            c = '?'; /* characters beyond the BMP: such a path is not found */
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | c >> 6);
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xE0 | c >> 12);
            out[o++] = (char)(0x80 | (c >> 6 & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static void
read_shared_dirs(imp_src_t *s)
{
    char *path = imp_src_path(s, "shareddir.dat");
    size_t len = 0;
    uint8_t *raw = mt_file_read(path, IMP_MAX_INI, &len, NULL);
    free(path);
    if (raw == NULL)
        return;
    char *text = (char *)raw;
    if (len >= 2 && raw[0] == 0xFF && raw[1] == 0xFE) {
        text = utf16le_to_utf8(raw + 2, len - 2, &len);
        free(raw);
    }
    for (char *line = text; line < text + len;) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = nl != NULL ? (size_t)(nl - line) : (size_t)(text + len - line);
        char *d = n <= IMP_MAX_LINE ? trimmed(line, n) : NULL;
        size_t dl = d != NULL ? strlen(d) : 0;
        while (dl > 1 && d[dl - 1] == '/')
            d[--dl] = '\0';
        /* absolute, here, and without ':' (shared_dirs is ':'-separated) */
        if (d != NULL && d[0] == '/' && mt_utf8_is_valid(d, dl) && strchr(d, ':') == NULL &&
            is_dir(d)) {
            s->shared_dirs = xreallocarray(s->shared_dirs, s->n_shared_dirs + 1,
                                           sizeof *s->shared_dirs);
            s->shared_dirs[s->n_shared_dirs++] = d;
        } else {
            free(d);
        }
        line += n + 1;
    }
    free(text);
}

imp_src_t *
imp_src_open(const char *dir, const char *kind, mt_error_t **err)
{
    char *conf = xasprintf("%s/amule.conf", dir), *edir = xasprintf("%s/config", dir);
    if (kind == NULL)
        kind = is_file(conf) ? "amule" : is_dir(edir) ? "emule" : NULL;
    if (kind == NULL || (strcmp(kind, "amule") != 0 && strcmp(kind, "emule") != 0)) {
        if (kind == NULL)
            mt_error_set(err, MT_ERR_NOT_FOUND,
                         "%s holds neither amule.conf nor an eMule config directory", dir);
        else
            mt_error_set(err, MT_ERR_INVALID, "kind: \"amule\" or \"emule\"");
        free(conf);
        free(edir);
        return NULL;
    }
    imp_src_t *s = xcalloc(1, sizeof *s);
    bool amule = strcmp(kind, "amule") == 0;
    s->kind = amule ? "amule" : "emule";
    s->dir = xstrdup(dir);
    s->met_dir = amule ? xstrdup(dir) : xstrdup(edir);
    ini_t ini = { 0 }, cats = { 0 };
    if (amule) {
        ini_load(&ini, conf);
    } else {
        char *p = xasprintf("%s/preferences.ini", edir);
        ini_load(&ini, p);
        free(p);
        p = xasprintf("%s/Category.ini", edir);
        ini_load(&cats, p);
        free(p);
    }
    s->temp_dir = pick_dir(dir, ini_get(&ini, "eMule", "TempDir"), "Temp");
    s->incoming_dir = pick_dir(dir, ini_get(&ini, "eMule", "IncomingDir"), "Incoming");
    s->max_upload = ini_long(&ini, "eMule", "MaxUpload", 0, 65535);
    s->max_download = ini_long(&ini, "eMule", "MaxDownload", 0, 65535);
    s->tcp_port = ini_long(&ini, "eMule", "Port", 1, 65535);
    s->udp_port = ini_long(&ini, "eMule", "UDPPort", 0, 65535);
    read_cats(s, amule ? &ini : &cats);
    ini_free(&ini);
    ini_free(&cats);
    read_shared_dirs(s);
    free(conf);
    free(edir);
    return s;
}

void
imp_src_free(imp_src_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_cats; i++) {
        free(s->cats[i].title);
        free(s->cats[i].incoming);
        free(s->cats[i].comment);
    }
    free(s->cats);
    for (size_t i = 0; i < s->n_shared_dirs; i++)
        free(s->shared_dirs[i]);
    free(s->shared_dirs);
    free(s->dir);
    free(s->met_dir);
    free(s->temp_dir);
    free(s->incoming_dir);
    free(s);
}

char *
imp_src_path(const imp_src_t *s, const char *name)
{
    return xasprintf("%s/%s", s->met_dir, name);
}

const char *
imp_src_category(const imp_src_t *s, uint32_t index)
{
    for (size_t i = 0; index != 0 && i < s->n_cats; i++)
        if (s->cats[i].index == index)
            return s->cats[i].title;
    return NULL;
}
