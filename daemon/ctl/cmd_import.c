/* cmd_import.c: the control command import-amule: an aMule or eMule
 * configuration directory (import_src.h) brought over: downloads in
 * progress, categories, servers, Kad contacts, credits, known files and
 * shared directories; with dry_run, only the list of what would be. */
#include "config.h"

#include "daemon/ctl/cmd_import.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/args.h"
#include "daemon/core/daemon.h"
#include "daemon/ctl/cmd_config.h"
#include "daemon/ctl/import_src.h"
#include "daemon/ed2k/serverlist.h"
#include "daemon/kad/kad.h"
#include "daemon/transfer/category.h"
#include "daemon/transfer/credits.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/finished.h"
#include "daemon/transfer/ident.h"
#include "daemon/transfer/import_part.h"
#include "daemon/transfer/shared.h"
#include "ed2k/clientsmet.h"
#include "ed2k/hash.h"
#include "ed2k/partmet.h"
#include "ed2k/servermet.h"
#include "util/file.h"
#include "util/log.h"
#include "util/xalloc.h"

#define IMP_MAX_FILE (256u << 20)

typedef struct {
    muleteerd_t *d;
    imp_src_t *src;
    bool dry_run, move, limits;
    json_object *out;
} imp_t;

static void
add_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v != NULL ? json_object_new_string(v) : NULL);
}

static void
add_error(json_object *o, const mt_error_t *e)
{
    add_str(o, "status", "error");
    add_str(o, "error", e != NULL ? e->message : "unknown error");
}

/* ---- categories ---- */

static void
import_cats(imp_t *im)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < im->src->n_cats; i++) {
        const imp_cat_t *c = &im->src->cats[i];
        json_object *o = json_object_new_object();
        add_str(o, "name", c->title);
        add_str(o, "path", c->incoming);
        mt_error_t *e = NULL;
        if (cat_exists(im->d->categories, c->title)) {
            add_str(o, "status", "exists");
        } else if (im->dry_run) {
            add_str(o, "status", "would add");
        } else if (cat_add(im->d->categories, c->title, c->incoming, 0, 0, c->comment, &e) == 0) {
            add_str(o, "status", "added");
        } else {
            /* its directory may lie outside Muleteer's roots: the default one */
            mt_error_free(e);
            e = NULL;
            if (cat_add(im->d->categories, c->title, NULL, 0, 0, c->comment, &e) == 0) {
                add_str(o, "status", "added");
                add_str(o, "note", "with Muleteer's default path");
            } else {
                add_error(o, e);
            }
        }
        mt_error_free(e);
        json_object_array_add(arr, o);
    }
    json_object_object_add(im->out, "categories", arr);
}

/* ---- downloads ---- */

static bool
has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a > b && strcmp(s + a - b, suf) == 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* met_files: the *.part.met of the temp directory, sorted (caller frees). */
static char **
met_files(const char *dir, size_t *n)
{
    *n = 0;
    DIR *dp = dir != NULL ? opendir(dir) : NULL;
    if (dp == NULL)
        return NULL;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".part.met"))
            continue;
        v = xreallocarray(v, *n + 1, sizeof *v);
        v[(*n)++] = xasprintf("%s/%s", dir, e->d_name);
    }
    closedir(dp);
    if (*n > 1)
        qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static uint64_t
present_bytes(const ed2k_file_record_t *r)
{
    uint64_t missing = 0;
    for (size_t i = 0; i < r->n_gaps; i++)
        missing += r->gaps[i].end - r->gaps[i].start;
    return r->size - missing;
}

/* import_one: one .part.met and its data; the answer's entry in o. */
static void
import_one(imp_t *im, const char *met, json_object *o)
{
    ed2k_file_record_t rec;
    mt_error_t *e = NULL;
    add_str(o, "met", met);
    if (imp_part_read(met, &rec, &e) != 0) {
        add_error(o, e);
        mt_error_free(e);
        ed2k_file_record_clear(&rec);
        return;
    }
    char hex[ED2K_HASH_HEX_LEN + 1];
    ed2k_hash_to_hex(rec.hash, hex);
    const char *cat = imp_src_category(im->src, rec.category);
    add_str(o, "hash", hex);
    add_str(o, "name", rec.name);
    json_object_object_add(o, "size", json_object_new_int64((int64_t)rec.size));
    json_object_object_add(o, "present", json_object_new_int64((int64_t)present_bytes(&rec)));
    add_str(o, "category", cat);
    json_object_object_add(o, "priority", json_object_new_int(imp_prio(rec.dl_priority)));
    char *data = xstrdup(met);
    data[strlen(data) - 4] = '\0'; /* "X.part.met" -> "X.part" */
    if (dlq_find(im->d->downloads, rec.hash) != NULL ||
        fin_find(im->d->finished, rec.hash) != NULL ||
        shared_find(im->d->shared, rec.hash) != NULL) {
        add_str(o, "status", "exists");
    } else if (im->dry_run) {
        add_str(o, "status", "would import");
    } else {
        partfile_t *pf = NULL;
        if ((cat == NULL || cat_ensure(im->d->categories, cat, &e) == 0) &&
            (pf = imp_part_create(conf_get_str(im->d->conf, "temp_dir"), &rec, data, cat, &e)) !=
                NULL &&
            dlq_adopt(im->d->downloads, pf, &e) == 0) {
            add_str(o, "status", "imported");
            if (im->move) {
                char *bak = xasprintf("%s.bak", met);
                unlink(data);
                unlink(met);
                unlink(bak);
                free(bak);
            }
        } else {
            if (pf != NULL) {
                pf_delete_files(pf, NULL);
                pf_free(pf);
            }
            add_error(o, e);
        }
    }
    mt_error_free(e);
    free(data);
    ed2k_file_record_clear(&rec);
}

static void
import_downloads(imp_t *im)
{
    size_t n = 0;
    char **mets = met_files(im->src->temp_dir, &n);
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        import_one(im, mets[i], o);
        json_object_array_add(arr, o);
        free(mets[i]);
    }
    free(mets);
    json_object_object_add(im->out, "downloads", arr);
}

/* ---- files of the configuration directory ---- */

/* read_met: the file name of met_dir, or NULL (*o says why unless it is
 * simply absent). */
static uint8_t *
read_met(imp_t *im, const char *name, size_t *len, json_object *o)
{
    char *path = imp_src_path(im->src, name);
    mt_error_t *e = NULL;
    uint8_t *data = mt_file_read(path, IMP_MAX_FILE, len, &e);
    add_str(o, "file", path);
    if (data == NULL && e != NULL && e->code != MT_ERR_NOT_FOUND)
        add_error(o, e);
    else if (data == NULL)
        add_str(o, "status", "absent");
    mt_error_free(e);
    free(path);
    return data;
}

static void
import_servers(imp_t *im)
{
    json_object *o = json_object_new_object();
    size_t len = 0, added = 0, total = 0;
    uint8_t *data = read_met(im, "server.met", &len, o);
    mt_error_t *e = NULL;
    if (data != NULL && im->dry_run) {
        ed2k_server_entry_t *v = NULL;
        size_t n = 0;
        if (ed2k_servermet_parse(data, len, &v, &n, &e) != ED2K_SERVERMET_ERROR) {
            add_str(o, "status", "would add");
            json_object_object_add(o, "servers", json_object_new_int64((int64_t)n));
        } else {
            add_error(o, e);
        }
        ed2k_server_entries_free(v, n);
    } else if (data != NULL) {
        if (sl_import_met(im->d->serverlist, data, len, "import", &added, &total, &e) == 0) {
            add_str(o, "status", "imported");
            json_object_object_add(o, "servers", json_object_new_int64((int64_t)total));
            json_object_object_add(o, "added", json_object_new_int64((int64_t)added));
        } else {
            add_error(o, e);
        }
    }
    mt_error_free(e);
    free(data);
    json_object_object_add(im->out, "servers", o);
}

static void
import_nodes(imp_t *im)
{
    json_object *o = json_object_new_object();
    char *path = imp_src_path(im->src, "nodes.dat");
    struct stat st;
    add_str(o, "file", path);
    size_t added = 0, total = 0;
    mt_error_t *e = NULL;
    if (stat(path, &st) != 0) {
        add_str(o, "status", "absent");
    } else if (im->dry_run) {
        add_str(o, "status", "would add");
    } else if (im->d->kad != NULL && kad_import(im->d->kad, path, &added, &total, &e) == 0) {
        add_str(o, "status", "imported");
        json_object_object_add(o, "contacts", json_object_new_int64((int64_t)total));
        json_object_object_add(o, "added", json_object_new_int64((int64_t)added));
    } else {
        add_str(o, "status", "skipped");
        add_str(o, "error", e != NULL ? e->message : "Kad is off");
    }
    mt_error_free(e);
    free(path);
    json_object_object_add(im->out, "nodes", o);
}

static void
import_credits(imp_t *im)
{
    json_object *o = json_object_new_object();
    size_t len = 0, n = 0;
    uint8_t *data = read_met(im, "clients.met", &len, o);
    ed2k_client_credit_t *v = NULL;
    mt_error_t *e = NULL;
    if (data != NULL && ed2k_clientsmet_parse(data, len, &v, &n, &e) != 0) {
        add_error(o, e);
    } else if (data != NULL) {
        json_object_object_add(o, "records", json_object_new_int64((int64_t)n));
        credit_t *c = xcalloc(n ? n : 1, sizeof *c);
        for (size_t i = 0; i < n; i++) {
            memcpy(c[i].hash, v[i].hash, 16);
            c[i].uploaded = v[i].uploaded;
            c[i].downloaded = v[i].downloaded;
            c[i].last_seen = v[i].last_seen;
            c[i].key_len = v[i].key_len;
            memcpy(c[i].key, v[i].key, v[i].key_len);
        }
        if (im->dry_run) {
            add_str(o, "status", "would merge");
        } else if (im->d->ident != NULL) {
            size_t m = ident_merge_credits(im->d->ident, c, n);
            add_str(o, "status", "merged");
            json_object_object_add(o, "merged", json_object_new_int64((int64_t)m));
        } else {
            add_str(o, "status", "skipped");
        }
        free(c);
    }
    mt_error_free(e);
    free(v);
    free(data);
    json_object_object_add(im->out, "credits", o);
}

/* ---- known files and shared directories ---- */

/* The directories the other client shared: its incoming directory (aMule
 * and eMule share it) and shareddir.dat's. */
static char **
src_shared_dirs(const imp_src_t *s, size_t *n)
{
    char **v = xcalloc(s->n_shared_dirs + 2, sizeof *v);
    *n = 0;
    if (s->incoming_dir != NULL)
        v[(*n)++] = s->incoming_dir;
    for (size_t i = 0; i < s->n_shared_dirs; i++)
        v[(*n)++] = s->shared_dirs[i];
    return v;
}

/* seed_one: the record's file in one of dirs, unchanged since the other
 * client hashed it (same size and mtime), seeds the shared-file scan. */
static bool
seed_one(imp_t *im, const ed2k_file_record_t *r, char **dirs, size_t n_dirs)
{
    if (!r->has_aich || strchr(r->name, '/') != NULL ||
        r->n_part_hashes != ed2k_hash_count(r->size))
        return false;
    if (r->n_part_hashes > 0) {
        uint8_t check[ED2K_HASH_LEN];
        ed2k_parthashes_md4((const uint8_t(*)[ED2K_HASH_LEN])r->part_hashes, r->n_part_hashes,
                            check);
        if (memcmp(check, r->hash, ED2K_HASH_LEN) != 0)
            return false;
    }
    for (size_t i = 0; i < n_dirs; i++) {
        char *path = xasprintf("%s/%s", dirs[i], r->name);
        struct stat st;
        bool ok = stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                  (uint64_t)st.st_size == r->size && (int64_t)st.st_mtime == (int64_t)r->date;
        if (ok && !im->dry_run) {
            ed2k_hash_result_t h = { .size = r->size,
                                     .part_hashes = r->part_hashes,
                                     .n_part_hashes = r->n_part_hashes };
            memcpy(h.file_hash, r->hash, ED2K_HASH_LEN);
            memcpy(h.aich_root, r->aich, ED2K_AICH_LEN);
            shared_seed(im->d->shared, path, r->size, (int64_t)st.st_mtime, &h);
        }
        free(path);
        if (ok)
            return true;
    }
    return false;
}

static size_t
import_known(imp_t *im)
{
    json_object *o = json_object_new_object();
    size_t len = 0, n = 0, seeded = 0, n_dirs = 0;
    uint8_t *data = read_met(im, "known.met", &len, o);
    ed2k_file_record_t *v = NULL;
    bool truncated = false;
    mt_error_t *e = NULL;
    if (data != NULL && ed2k_knownmet_parse(data, len, &v, &n, &truncated, &e) != 0) {
        add_error(o, e);
    } else if (data != NULL) {
        char **dirs = src_shared_dirs(im->src, &n_dirs);
        for (size_t i = 0; i < n; i++)
            seeded += seed_one(im, &v[i], dirs, n_dirs);
        free(dirs);
        add_str(o, "status", im->dry_run ? "would seed" : "seeded");
        json_object_object_add(o, "records", json_object_new_int64((int64_t)n));
        json_object_object_add(o, "found", json_object_new_int64((int64_t)seeded));
        json_object_object_add(o, "truncated", json_object_new_boolean(truncated));
    }
    mt_error_free(e);
    ed2k_file_records_free(v, n);
    free(data);
    json_object_object_add(im->out, "known", o);
    return seeded;
}

static bool
dir_listed(const char *list, const char *dir)
{
    size_t n = strlen(dir);
    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *c = strchr(p, ':');
        size_t l = c != NULL ? (size_t)(c - p) : strlen(p);
        if (l == n && strncmp(p, dir, n) == 0)
            return true;
        p = c != NULL ? c + 1 : NULL;
    }
    return false;
}

/* config_set: one config-set of the keys gathered in args (consumed). */
static void
config_set(imp_t *im, json_object *args, json_object *o)
{
    json_object *res = NULL;
    mt_error_t *e = NULL;
    if (cfg_cmd_config_set(im->d, args, &res, &e) != 0)
        add_error(o, e);
    mt_error_free(e);
    json_object_put(res);
    json_object_put(args);
}

static void
import_shared_dirs(imp_t *im, size_t seeded)
{
    json_object *arr = json_object_new_array();
    const char *cur = conf_get_str(im->d->conf, "shared_dirs");
    char *joined = xstrdup(cur != NULL ? cur : "");
    size_t n_dirs = 0, n_new = 0;
    char **dirs = src_shared_dirs(im->src, &n_dirs);
    for (size_t i = 0; i < n_dirs; i++) {
        if (dir_listed(joined, dirs[i]))
            continue;
        char *next = *joined != '\0' ? xasprintf("%s:%s", joined, dirs[i]) : xstrdup(dirs[i]);
        free(joined);
        joined = next;
        json_object_array_add(arr, json_object_new_string(dirs[i]));
        n_new++;
    }
    free(dirs);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "added", arr);
    if (n_new > 0 && !im->dry_run) {
        json_object *args = json_object_new_object();
        add_str(args, "shared_dirs", joined);
        config_set(im, args, o); /* starts a scan, which uses the seeds */
    } else if (seeded > 0 && !im->dry_run) {
        shared_rescan(im->d->shared, NULL, NULL);
    }
    free(joined);
    json_object_object_add(im->out, "shared_dirs", o);
}

/* import_ipfilter: the other client's ipfilter.dat, copied into the state
 * directory and made the IP filter, unless Muleteer has one already. */
static void
import_ipfilter(imp_t *im)
{
    json_object *o = json_object_new_object();
    size_t len = 0;
    uint8_t *data = read_met(im, "ipfilter.dat", &len, o);
    const char *cur = conf_get_str(im->d->conf, "ipfilter");
    mt_error_t *e = NULL;
    if (data == NULL) {
        /* absent, or why not in o */
    } else if (cur != NULL && *cur != '\0') {
        add_str(o, "status", "exists");
        add_str(o, "note", "Muleteer has an IP filter already (ipfilter)");
    } else if (im->dry_run) {
        add_str(o, "status", "would import");
    } else {
        char *dst = xasprintf("%s/ipfilter.dat", conf_get_str(im->d->conf, "state_dir"));
        if (mt_file_write_atomic(dst, data, len, 0640, &e) == 0) {
            json_object *args = json_object_new_object();
            add_str(args, "ipfilter", dst);
            add_str(o, "status", "imported");
            add_str(o, "path", dst);
            config_set(im, args, o); /* loads it on a worker */
        } else {
            add_error(o, e);
        }
        free(dst);
    }
    mt_error_free(e);
    free(data);
    json_object_object_add(im->out, "ipfilter", o);
}

/* import_limits: aMule's and eMule's MaxUpload / MaxDownload (kB/s; 0
 * and 65535 mean unlimited), applied only when asked (limits). */
static void
import_limits(imp_t *im)
{
    json_object *o = json_object_new_object();
    long up = im->src->max_upload, down = im->src->max_download;
    int up_kb = up == 65535 ? 0 : (int)up, down_kb = down == 65535 ? 0 : (int)down;
    if (up >= 0)
        json_object_object_add(o, "max_upload", json_object_new_int(up_kb));
    if (down >= 0)
        json_object_object_add(o, "max_download", json_object_new_int(down_kb));
    if (im->src->tcp_port > 0)
        json_object_object_add(o, "tcp_port", json_object_new_int((int)im->src->tcp_port));
    if (im->src->udp_port > 0)
        json_object_object_add(o, "udp_port", json_object_new_int((int)im->src->udp_port));
    if (im->limits && !im->dry_run && (up >= 0 || down >= 0)) {
        json_object *args = json_object_new_object();
        if (up >= 0)
            json_object_object_add(args, "max_upload", json_object_new_int(up_kb));
        if (down >= 0)
            json_object_object_add(args, "max_download", json_object_new_int(down_kb));
        config_set(im, args, o);
        add_str(o, "status", "applied");
    } else {
        add_str(o, "status", im->limits ? "would apply" : "not applied (ask with limits)");
    }
    json_object_object_add(im->out, "settings", o);
}

int
imp_cmd_import(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    const char *dir = NULL, *kind = NULL;
    imp_t im = { .d = ctx };
    if (ctl_arg_str(args, "dir", true, &dir, 4096, err) != 0 ||
        ctl_arg_str(args, "kind", false, &kind, 16, err) != 0 ||
        ctl_arg_bool(args, "dry_run", &im.dry_run, err) != 0 ||
        ctl_arg_bool(args, "move", &im.move, err) != 0 ||
        ctl_arg_bool(args, "limits", &im.limits, err) != 0)
        return -1;
    if (dir[0] != '/') {
        mt_error_set(err, MT_ERR_INVALID, "dir: an absolute path");
        return -1;
    }
    if ((im.src = imp_src_open(dir, kind, err)) == NULL)
        return -1;
    im.out = json_object_new_object();
    add_str(im.out, "kind", im.src->kind);
    add_str(im.out, "dir", im.src->dir);
    add_str(im.out, "temp_dir", im.src->temp_dir);
    add_str(im.out, "incoming_dir", im.src->incoming_dir);
    json_object_object_add(im.out, "dry_run", json_object_new_boolean(im.dry_run));
    log_info("import: %s %s from %s", im.dry_run ? "listing" : "importing", im.src->kind, dir);
    import_cats(&im); /* before the downloads, which name them */
    import_downloads(&im);
    import_servers(&im);
    import_nodes(&im);
    import_credits(&im);
    size_t seeded = import_known(&im); /* before the scan the new directories start */
    import_shared_dirs(&im, seeded);
    import_ipfilter(&im);
    import_limits(&im);
    imp_src_free(im.src);
    *result = im.out;
    return 0;
}
