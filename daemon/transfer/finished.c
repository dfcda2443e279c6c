/* finished.c: the finished downloads (finished.h): records sorted by hash,
 * finished.json (read with every member checked, a bad record skipped, and
 * rewritten atomically after each change), the one-time import of the
 * completed rows earlier versions left in the downloads table, and the
 * link to the shared files (upload counters, missing files). */
#include "config.h"

#include "daemon/transfer/finished.h"
#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/core/worker.h"
#include "daemon/store/finished_import.h"
#include "daemon/transfer/partfile.h"
#include "daemon/transfer/sharelimit.h"
#include "daemon/transfer/shared.h"
#include "ed2k/hash.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIN_VERSION 1
#define FIN_MAX_TIME 253402300799LL /* 9999-12-31: what PostgreSQL's to_timestamp takes */
#define FIN_MAX_PATH 4096
#define FIN_RETRY_MS 5000           /* a failed save is tried again after this */

struct fin_rec {
    uint8_t hash[ED2K_HASH_LEN];
    char hex[ED2K_HASH_HEX_LEN + 1];
    char *name;
    uint64_t size;
    char *category; /* NULL: none */
    dla_tags_t tags;
    double ratio_limit;
    int seeding_time_limit;
    bool force_start;
    int64_t dl_limit, up_limit; /* bytes/s, 0: none; up_limit throttles its uploads */
    int priority;   /* DLA_PRIO_* */
    int64_t added_at, completed_at, last_activity;
    char *save_path, *content_path;
    char *added_by, *added_via; /* NULL: unknown */
    uint64_t downloaded, uploaded;
    bool missing;
    bool share_stopped; /* its file is not offered (share limits reached) */
    bool checking; /* its file is being hashed again (fin_recheck) */
    bool moving;   /* its file is being copied to another file system (fin_move) */
    bool corrupt;  /* the last re-check found other content: not shared
                    * (kept in finished.json, over restarts) */
    char download_id[DLA_ID_LEN + 1]; /* dlattr.h; "" until given one */
    char btih[DLA_BTIH_LEN + 1];      /* dlattr.h; "": added without one */
};

struct finished {
    muleteerd_t *d;
    char *path;
    fin_rec_t **v; /* sorted by hash */
    size_t n;
    bool dirty;          /* a change whose save failed: save again */
    bool counters_dirty; /* upload counters changed since the last save */
    bool imported;       /* the completed rows of the database were imported */
    bool import_started; /* fin_import_legacy ran (it may have failed) */
    int64_t next_save_ms;
    uint64_t seen_generation; /* shared files' generation last compared */
    store_read_t *import; /* the one-time import, while it runs */
    bool check_limits;    /* check the share limits at the next tick */
    fin_active_fn is_active; /* fin_set_active_check */
    void *is_active_ctx;
};

/* ------------------------------------------------------------- records */

static void
rec_free(fin_rec_t *r)
{
    if (r == NULL)
        return;
    free(r->name);
    free(r->category);
    dla_tags_clear(&r->tags);
    free(r->save_path);
    free(r->content_path);
    free(r->added_by);
    free(r->added_via);
    free(r);
}

static size_t
find_index(const finished_t *f, const uint8_t hash[ED2K_HASH_LEN], bool *found)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(f->v[mid]->hash, hash, ED2K_HASH_LEN);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* insert: takes r; one with the same hash is replaced. */
static void
insert(finished_t *f, fin_rec_t *r)
{
    bool found;
    size_t at = find_index(f, r->hash, &found);
    if (found) {
        rec_free(f->v[at]);
        f->v[at] = r;
        return;
    }
    f->v = xreallocarray(f->v, f->n + 1, sizeof *f->v);
    memmove(&f->v[at + 1], &f->v[at], (f->n - at) * sizeof *f->v);
    f->v[at] = r;
    f->n++;
}

/* An absolute path without "." or ".." components, control characters or
 * a trailing '/'. */
static bool
path_ok(const char *p, size_t len)
{
    if (len < 2 || len > FIN_MAX_PATH || p[0] != '/' || p[len - 1] == '/' ||
        !dla_text_is_valid(p, len, FIN_MAX_PATH) || strlen(p) != len)
        return false;
    for (const char *c = p; *c != '\0';) {
        const char *s = strchr(c + 1, '/');
        size_t n = s != NULL ? (size_t)(s - c - 1) : strlen(c + 1);
        if (n == 0 || (n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.'))
            return false;
        if (s == NULL)
            break;
        c = s;
    }
    return true;
}

/* ------------------------------------------------------- JSON: records */

static int bad(mt_error_t **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
bad(mt_error_t **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mt_error_setv(err, MT_ERR_INVALID, fmt, ap);
    va_end(ap);
    return -1;
}

static int
get_int(json_object *o, const char *key, int64_t lo, int64_t hi, int64_t def, int64_t *out,
        mt_error_t **err)
{
    json_object *v = NULL;
    *out = def;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < lo ||
        json_object_get_int64(v) > hi)
        return bad(err, "\"%s\" must be an integer in range", key);
    *out = json_object_get_int64(v);
    return 0;
}

/* An optional string (absent, null or "": NULL). */
static int
get_str(json_object *o, const char *key, size_t max, char **out, mt_error_t **err)
{
    json_object *v = NULL;
    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return bad(err, "\"%s\" must be a string", key);
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (strlen(s) != len || !dla_text_is_valid(s, len, max))
        return bad(err, "\"%s\" must be UTF-8 without control characters, not too long", key);
    if (len > 0)
        *out = xstrdup(s);
    return 0;
}

static int
get_path(json_object *o, const char *key, char **out, mt_error_t **err)
{
    json_object *v = NULL;
    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string) ||
        !path_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
        return bad(err, "\"%s\" must be an absolute path", key);
    *out = xstrdup(json_object_get_string(v));
    return 0;
}

/* rec_parse: a record of finished.json (or of the import), every member
 * checked; NULL with err saying which member is wrong. */
static fin_rec_t *
rec_parse(json_object *o, mt_error_t **err)
{
    if (!json_object_is_type(o, json_type_object)) {
        mt_error_set(err, MT_ERR_INVALID, "not an object");
        return NULL;
    }
    fin_rec_t *r = xcalloc(1, sizeof *r);
    json_object *v = NULL;
    int64_t x;
    if (!json_object_object_get_ex(o, "hash", &v) || !json_object_is_type(v, json_type_string) ||
        ed2k_hash_from_hex(json_object_get_string(v), r->hash) != 0) {
        bad(err, "\"%s\" must be 32 hex digits", "hash");
        goto fail;
    }
    ed2k_hash_to_hex(r->hash, r->hex);
    if (!json_object_object_get_ex(o, "name", &v) || !json_object_is_type(v, json_type_string) ||
        strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v) ||
        !pf_name_is_valid(json_object_get_string(v))) {
        bad(err, "\"%s\" must be a valid file name", "name");
        goto fail;
    }
    r->name = xstrdup(json_object_get_string(v));
    if (!json_object_object_get_ex(o, "size", &v) || v == NULL) {
        bad(err, "\"%s\" is missing", "size");
        goto fail;
    }
    if (get_int(o, "size", 1, (int64_t)ED2K_MAX_FILE_SIZE, 0, &x, err) != 0)
        goto fail;
    r->size = (uint64_t)x;
    if (get_str(o, "category", PF_MAX_STRING, &r->category, err) != 0 ||
        get_str(o, "added_by", PF_MAX_STRING, &r->added_by, err) != 0 ||
        get_str(o, "added_via", PF_MAX_STRING, &r->added_via, err) != 0)
        goto fail;
    if (json_object_object_get_ex(o, "tags", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_array)) {
            bad(err, "\"%s\" must be an array of strings", "tags");
            goto fail;
        }
        if (dla_tags_parse(v, "tags", &r->tags, err) != 0)
            goto fail;
    }
    r->ratio_limit = DLA_LIMIT_GLOBAL;
    r->seeding_time_limit = DLA_LIMIT_GLOBAL;
    if (json_object_object_get_ex(o, "ratio_limit", &v) && v != NULL &&
        dla_parse_ratio_limit(v, "ratio_limit", &r->ratio_limit, err) != 0)
        goto fail;
    if (json_object_object_get_ex(o, "seeding_time_limit", &v) && v != NULL &&
        dla_parse_seeding_time_limit(v, "seeding_time_limit", &r->seeding_time_limit, err) != 0)
        goto fail;
    if (json_object_object_get_ex(o, "dl_limit", &v) && v != NULL &&
        dla_parse_rate_limit(v, "dl_limit", &r->dl_limit, err) != 0)
        goto fail;
    if (json_object_object_get_ex(o, "up_limit", &v) && v != NULL &&
        dla_parse_rate_limit(v, "up_limit", &r->up_limit, err) != 0)
        goto fail;
    if (json_object_object_get_ex(o, "force_start", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_boolean)) {
            bad(err, "\"%s\" must be true or false", "force_start");
            goto fail;
        }
        r->force_start = json_object_get_boolean(v);
    }
    if (json_object_object_get_ex(o, "missing", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_boolean)) {
            bad(err, "\"%s\" must be true or false", "missing");
            goto fail;
        }
        r->missing = json_object_get_boolean(v);
    }
    if (json_object_object_get_ex(o, "corrupt", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_boolean)) {
            bad(err, "\"%s\" must be true or false", "corrupt");
            goto fail;
        }
        r->corrupt = json_object_get_boolean(v);
    }
    if (json_object_object_get_ex(o, "share_stopped", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_boolean)) {
            bad(err, "\"%s\" must be true or false", "share_stopped");
            goto fail;
        }
        r->share_stopped = json_object_get_boolean(v);
    }
    if (get_int(o, "priority", INT_MIN, INT_MAX, 0, &x, err) != 0)
        goto fail;
    r->priority = x < 0 ? DLA_PRIO_LOW : x > 0 ? DLA_PRIO_HIGH : DLA_PRIO_NORMAL;
    if (get_int(o, "added_at", 0, FIN_MAX_TIME, 0, &r->added_at, err) != 0 ||
        get_int(o, "completed_at", 0, FIN_MAX_TIME, 0, &r->completed_at, err) != 0 ||
        get_int(o, "last_activity", 0, FIN_MAX_TIME, 0, &r->last_activity, err) != 0)
        goto fail;
    if (get_int(o, "downloaded", 0, INT64_MAX, 0, &x, err) != 0)
        goto fail;
    r->downloaded = (uint64_t)x;
    if (get_int(o, "uploaded", 0, INT64_MAX, 0, &x, err) != 0)
        goto fail;
    r->uploaded = (uint64_t)x;
    if (get_path(o, "content_path", &r->content_path, err) != 0 ||
        get_path(o, "save_path", &r->save_path, err) != 0)
        goto fail;
    if (json_object_object_get_ex(o, "download_id", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_string) ||
            !dla_id_is_valid(json_object_get_string(v))) {
            bad(err, "\"%s\" must be %d lower-case hex digits", "download_id", DLA_ID_LEN);
            goto fail;
        }
        memcpy(r->download_id, json_object_get_string(v), DLA_ID_LEN + 1);
    }
    if (json_object_object_get_ex(o, "btih", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_string) ||
            !dla_btih_is_valid(json_object_get_string(v))) {
            bad(err, "\"%s\" must be %d lower-case hex digits", "btih", DLA_BTIH_LEN);
            goto fail;
        }
        memcpy(r->btih, json_object_get_string(v), DLA_BTIH_LEN + 1);
    }
    return r;
fail:
    rec_free(r);
    return NULL;
}

static void
add_opt_str(json_object *o, const char *key, const char *s)
{
    json_object_object_add(o, key, s != NULL ? json_object_new_string(s) : NULL);
}

/* rec_file_json: a record as finished.json keeps it. */
static json_object *
rec_file_json(const fin_rec_t *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "hash", json_object_new_string(r->hex));
    json_object_object_add(o, "name", json_object_new_string(r->name));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)r->size));
    add_opt_str(o, "category", r->category);
    json_object_object_add(o, "tags", dla_tags_to_json(&r->tags));
    json_object_object_add(o, "ratio_limit", json_object_new_double(r->ratio_limit));
    json_object_object_add(o, "seeding_time_limit", json_object_new_int(r->seeding_time_limit));
    json_object_object_add(o, "force_start", json_object_new_boolean(r->force_start));
    json_object_object_add(o, "dl_limit", json_object_new_int64(r->dl_limit));
    json_object_object_add(o, "up_limit", json_object_new_int64(r->up_limit));
    json_object_object_add(o, "priority", json_object_new_int(r->priority));
    json_object_object_add(o, "added_at", json_object_new_int64(r->added_at));
    json_object_object_add(o, "completed_at", json_object_new_int64(r->completed_at));
    json_object_object_add(o, "save_path", json_object_new_string(r->save_path));
    json_object_object_add(o, "content_path", json_object_new_string(r->content_path));
    add_opt_str(o, "added_by", r->added_by);
    add_opt_str(o, "added_via", r->added_via);
    json_object_object_add(o, "downloaded", json_object_new_int64((int64_t)r->downloaded));
    json_object_object_add(o, "uploaded", json_object_new_int64((int64_t)r->uploaded));
    json_object_object_add(o, "last_activity", json_object_new_int64(r->last_activity));
    json_object_object_add(o, "missing", json_object_new_boolean(r->missing));
    json_object_object_add(o, "share_stopped", json_object_new_boolean(r->share_stopped));
    if (r->corrupt) /* kept until a re-check finds the file whole again */
        json_object_object_add(o, "corrupt", json_object_new_boolean(true));
    add_opt_str(o, "download_id", fin_download_id(r));
    add_opt_str(o, "btih", fin_btih(r));
    return o;
}

json_object *
fin_to_json(const fin_rec_t *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "hash", json_object_new_string(r->hex));
    json_object_object_add(o, "name", json_object_new_string(r->name));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)r->size));
    json_object_object_add(o, "done", json_object_new_int64((int64_t)r->size));
    json_object_object_add(o, "state", json_object_new_string(fin_state(r)));
    json_object_object_add(o, "sharing",
                           json_object_new_string(r->share_stopped ? "stopped" : "active"));
    json_object_object_add(o, "progress", json_object_new_double(1.0));
    json_object_object_add(o, "finished", json_object_new_boolean(true));
    add_opt_str(o, "category", r->category);
    json_object_object_add(o, "tags", dla_tags_to_json(&r->tags));
    json_object_object_add(o, "ratio_limit", json_object_new_double(r->ratio_limit));
    json_object_object_add(o, "seeding_time_limit", json_object_new_int(r->seeding_time_limit));
    json_object_object_add(o, "force_start", json_object_new_boolean(r->force_start));
    json_object_object_add(o, "dl_limit", json_object_new_int64(r->dl_limit));
    json_object_object_add(o, "up_limit", json_object_new_int64(r->up_limit));
    json_object_object_add(o, "priority", json_object_new_string(dla_priority_name(r->priority)));
    json_object_object_add(o, "added_at", json_object_new_int64(r->added_at));
    json_object_object_add(o, "completed_at", json_object_new_int64(r->completed_at));
    json_object_object_add(o, "save_path", json_object_new_string(r->save_path));
    json_object_object_add(o, "content_path", json_object_new_string(r->content_path));
    json_object_object_add(o, "downloaded", json_object_new_int64((int64_t)r->downloaded));
    json_object_object_add(o, "uploaded", json_object_new_int64((int64_t)r->uploaded));
    json_object_object_add(o, "last_activity", json_object_new_int64(r->last_activity));
    add_opt_str(o, "added_by", r->added_by);
    add_opt_str(o, "added_via", r->added_via);
    add_opt_str(o, "download_id", fin_download_id(r));
    add_opt_str(o, "btih", fin_btih(r));
    return o;
}

/* -------------------------------------------------------- the file */

/* withhold: the files of the records whose sharing stopped are not
 * offered. */
static void
withhold(finished_t *f)
{
    uint8_t(*v)[ED2K_HASH_LEN] = xcalloc(f->n ? f->n : 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i]->share_stopped)
            memcpy(v[n++], f->v[i]->hash, ED2K_HASH_LEN);
    shared_set_withheld(f->d->shared, (const uint8_t(*)[ED2K_HASH_LEN])v, n);
    free(v);
}

/* share_files: the records' files are shared wherever they are (but for
 * those whose sharing stopped). */
static void
share_files(finished_t *f)
{
    shared_pin_t *pins = xcalloc(f->n ? f->n : 1, sizeof *pins);
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->v[i]->corrupt)
            continue; /* its content is not what its hash says */
        pins[n].path = f->v[i]->content_path;
        memcpy(pins[n].hash, f->v[i]->hash, ED2K_HASH_LEN);
        n++;
    }
    shared_set_files(f->d->shared, pins, n);
    free(pins);
    withhold(f);
}

int
fin_save(finished_t *f, mt_error_t **err)
{
    json_object *root = json_object_new_object();
    json_object_object_add(root, "version", json_object_new_int(FIN_VERSION));
    json_object_object_add(root, "imported", json_object_new_boolean(f->imported));
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < f->n; i++)
        json_object_array_add(arr, rec_file_json(f->v[i]));
    json_object_object_add(root, "finished", arr);
    const char *text = json_object_to_json_string_ext(
        root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = mt_file_write_atomic(f->path, text, strlen(text), 0600, err);
    json_object_put(root);
    f->next_save_ms = clock_mono_ms() + (rc == 0 ? 0 : FIN_RETRY_MS);
    if (rc == 0) {
        f->dirty = false;
        f->counters_dirty = false;
    } else {
        f->dirty = true;
    }
    return rc;
}

/* changed: saves after a change; a failure is logged, reported and tried
 * again by fin_tick. */
static int
changed(finished_t *f, mt_error_t **err)
{
    mt_error_t *e = NULL;
    if (fin_save(f, &e) == 0)
        return 0;
    log_error("finished: %s (tried again later)", e->message);
    mt_error_set(err, MT_ERR_IO, "changed, but not saved yet: %s", e->message);
    mt_error_free(e);
    return -1;
}

/* keep_aside: a copy of a file that could not be read in full, for a
 * human to look at (it is rewritten with what was valid). */
static void
keep_aside(const char *path, const void *data, size_t len)
{
    char *bad_path = xasprintf("%s.bad", path);
    mt_error_t *err = NULL;
    if (mt_file_write_atomic(bad_path, data, len, 0600, &err) != 0) {
        log_error("finished: %s", err->message);
        mt_error_free(err);
    } else {
        log_warn("finished: the original is kept as %s", bad_path);
    }
    free(bad_path);
}

/* give_id: a new download id for r; false (logged) when there is none. */
static bool
give_id(fin_rec_t *r)
{
    mt_error_t *err = NULL;
    if (dla_id_new(r->download_id, &err) == 0)
        return true;
    log_error("finished %s: no download id: %s", r->hex, err->message);
    mt_error_free(err);
    r->download_id[0] = '\0';
    return false;
}

/* add_records: the valid records of arr; the others are logged (where
 * names the source) and counted in *skipped. An existing hash is kept. */
static size_t
add_records(finished_t *f, json_object *arr, const char *where, size_t *skipped)
{
    size_t added = 0;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        mt_error_t *err = NULL;
        if (f->n >= FIN_MAX_RECORDS) {
            log_error("finished: %s: more than %d records; the rest is skipped", where,
                      FIN_MAX_RECORDS);
            *skipped += n - i;
            break;
        }
        fin_rec_t *r = rec_parse(json_object_array_get_idx(arr, i), &err);
        if (r == NULL) {
            log_warn("finished: %s: record %zu skipped: %s", where, i, err->message);
            mt_error_free(err);
            (*skipped)++;
            continue;
        }
        bool found;
        find_index(f, r->hash, &found);
        bool active = f->is_active != NULL && f->is_active(f->is_active_ctx, r->hash);
        if (found || active) {
            log_warn("finished: %s: record %zu skipped: %s is listed already", where, i, r->hex);
            rec_free(r);
            (*skipped)++;
            continue;
        }
        /* records of older versions get an id now, saved with the next save */
        if (r->download_id[0] == '\0' && give_id(r))
            f->dirty = true;
        insert(f, r);
        added++;
    }
    return added;
}

/* parse_file: the records of len bytes of finished.json; -1 (nothing
 * added) when it is not a finished.json at all. */
static int
parse_file(finished_t *f, const char *text, size_t len, size_t *skipped, mt_error_t **err)
{
    if (memchr(text, '\0', len) != NULL) {
        mt_error_set(err, MT_ERR_INVALID, "a NUL byte");
        return -1;
    }
    json_tokener *tok = json_tokener_new_ex(16);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    for (size_t i = used; root != NULL && i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
            jerr = json_tokener_error_parse_unexpected;
    json_object *ver = NULL, *arr = NULL, *imp = NULL;
    int rc = -1;
    if (root == NULL || jerr != json_tokener_success) {
        mt_error_set(err, MT_ERR_INVALID, "malformed JSON: %s",
                     jerr == json_tokener_continue ? "unexpected end"
                                                   : json_tokener_error_desc(jerr));
    } else if (!json_object_is_type(root, json_type_object) ||
               !json_object_object_get_ex(root, "version", &ver) ||
               !json_object_is_type(ver, json_type_int) ||
               json_object_get_int64(ver) != FIN_VERSION ||
               !json_object_object_get_ex(root, "finished", &arr) ||
               !json_object_is_type(arr, json_type_array)) {
        mt_error_set(err, MT_ERR_INVALID,
                     "not an object with \"version\": %d and a \"finished\" array", FIN_VERSION);
    } else {
        f->imported = json_object_object_get_ex(root, "imported", &imp) &&
                      json_object_is_type(imp, json_type_boolean) && json_object_get_boolean(imp);
        add_records(f, arr, f->path, skipped);
        rc = 0;
    }
    json_object_put(root);
    return rc;
}

static void
load(finished_t *f)
{
    mt_error_t *err = NULL;
    size_t len = 0;
    uint8_t *text = mt_file_read(f->path, FIN_MAX_FILE_SIZE, &len, &err);
    if (text == NULL) {
        if (err->code != MT_ERR_NOT_FOUND) {
            log_error("finished: %s; starting without finished downloads", err->message);
            if (err->code == MT_ERR_INVALID) {
                char *bad_path = xasprintf("%s.bad", f->path);
                if (rename(f->path, bad_path) == 0)
                    log_warn("finished: %s renamed %s", f->path, bad_path);
                free(bad_path);
            }
        }
        mt_error_free(err);
        return; /* not imported: the database's completed rows come back */
    }
    size_t skipped = 0;
    if (parse_file(f, (const char *)text, len, &skipped, &err) != 0) {
        log_error("finished: %s is unreadable (%s); it is renamed %s.bad and the completed rows "
                  "of the database are imported",
                  f->path, err->message, f->path);
        char *bad_path = xasprintf("%s.bad", f->path);
        rename(f->path, bad_path);
        free(bad_path);
        mt_error_free(err);
        free(text);
        f->imported = false;
        return;
    }
    if (skipped > 0) {
        log_error("finished: %zu invalid record(s) in %s skipped, %zu kept", skipped, f->path,
                  f->n);
        keep_aside(f->path, text, len);
        f->dirty = true; /* rewritten with the valid ones */
    }
    free(text);
    log_info("finished: %zu finished download(s)", f->n);
}

/* ------------------------------------------------------------ import */

void
fin_import_legacy(finished_t *f)
{
    if (f->imported || f->import != NULL)
        return;
    f->import_started = true;
    f->import = store_completed_rows(f->d->db, conf_get_str(f->d->conf, "node_name"));
    log_info("finished: the completed rows of the downloads table will be imported");
}

static void
take_import(finished_t *f)
{
    char *rows = NULL;
    store_read_state_t st = store_read_poll(f->import, &rows);
    if (st == STORE_READ_FAILED) {
        log_error("finished: the import of completed rows failed; it is tried at the next start");
        store_read_free(f->import);
        f->import = NULL;
        return;
    }
    if (st != STORE_READ_DONE)
        return;
    json_tokener *tok = json_tokener_new_ex(16);
    json_object *arr = json_tokener_parse_ex(tok, rows, (int)strlen(rows));
    json_tokener_free(tok);
    size_t skipped = 0, added = 0;
    if (arr != NULL && json_object_is_type(arr, json_type_array))
        added = add_records(f, arr, "the downloads table", &skipped);
    json_object_put(arr);
    free(rows);
    store_read_free(f->import);
    f->import = NULL;
    f->imported = true;
    log_info("finished: %zu completed download(s) imported from the downloads table, %zu skipped",
             added, skipped);
    share_files(f);
    changed(f, NULL);
    /* their files are listed by the next scan; their state follows it */
    if (added > 0) {
        f->seen_generation = shared_generation(f->d->shared);
        shared_rescan(f->d->shared, NULL, NULL);
    }
}

/* ------------------------------------------------------------- life */

/* A category renamed or removed: the records that carry it follow. */
static void
on_cat_changed(void *ctx, const bus_category_t *ev)
{
    if (strcmp(ev->old_name, ev->name) != 0)
        fin_category_renamed(ctx, ev->old_name, ev->name);
}

static void
on_cat_removed(void *ctx, const bus_category_t *ev)
{
    fin_category_renamed(ctx, ev->name, NULL);
}

/* A download completed: its record, from its part file. */
static void
on_completed(void *ctx, const bus_dl_completed_t *ev)
{
    fin_add_partfile(ctx, ev->pf, ev->path);
}

void
fin_set_active_check(finished_t *f, fin_active_fn fn, void *ctx)
{
    f->is_active = fn;
    f->is_active_ctx = ctx;
}

finished_t *
finished_new(muleteerd_t *d)
{
    finished_t *f = xcalloc(1, sizeof *f);
    f->d = d;
    f->path = xasprintf("%s/finished.json", conf_get_str(d->conf, "state_dir"));
    load(f);
    share_files(f);
    bus_on_dl_completed(d->bus, on_completed, f);
    bus_on_cat_changed(d->bus, on_cat_changed, f);
    bus_on_cat_removed(d->bus, on_cat_removed, f);
    return f;
}

void
finished_free(finished_t *f)
{
    if (f == NULL)
        return;
    bus_unsubscribe_ctx(f->d->bus, f);
    if (f->dirty || f->counters_dirty) {
        mt_error_t *err = NULL;
        if (fin_save(f, &err) != 0) {
            log_error("finished: %s", err->message);
            mt_error_free(err);
        }
    }
    for (size_t i = 0; i < f->n; i++)
        rec_free(f->v[i]);
    free(f->v);
    store_read_free(f->import);
    free(f->path);
    free(f);
}

bool
fin_keeps_legacy_rows(const finished_t *f)
{
    return f->import_started && !f->imported;
}

bool
fin_needs_import(const finished_t *f)
{
    return !f->imported;
}

/* update_states: after a scan, a record whose file the list lacks is
 * missing, one whose file is back is completed again. */
static void
update_states(finished_t *f)
{
    shared_t *sh = f->d->shared;
    if (sh == NULL || !shared_has_scanned(sh) || shared_is_scanning(sh) ||
        shared_generation(sh) == f->seen_generation)
        return;
    f->seen_generation = shared_generation(sh);
    bool any = false;
    for (size_t i = 0; i < f->n; i++) {
        fin_rec_t *r = f->v[i];
        bool missing = !shared_has_file(sh, r->hash, r->content_path);
        if (missing != r->missing) {
            r->missing = missing;
            any = true;
            if (missing)
                log_warn("finished %s: %s is gone", r->hex, r->content_path);
            else
                log_info("finished %s: %s is back", r->hex, r->content_path);
        }
    }
    if (any)
        changed(f, NULL);
}

void
fin_tick(finished_t *f)
{
    if (f->import != NULL)
        take_import(f);
    update_states(f);
    if (f->check_limits)
        fin_check_share_limits(f, (int64_t)time(NULL));
    int64_t now = clock_mono_ms();
    if ((f->dirty || f->counters_dirty) && now >= f->next_save_ms) {
        mt_error_t *err = NULL;
        if (fin_save(f, &err) != 0) {
            log_error("finished: %s", err->message);
            mt_error_free(err);
        }
    }
}

/* ------------------------------------------------------------ access */

size_t
fin_count(const finished_t *f)
{
    return f->n;
}

fin_rec_t *
fin_get(const finished_t *f, size_t i)
{
    return i < f->n ? f->v[i] : NULL;
}

fin_rec_t *
fin_find(const finished_t *f, const uint8_t hash[16])
{
    bool found;
    size_t i = find_index(f, hash, &found);
    return found ? f->v[i] : NULL;
}

const char *
fin_hex(const fin_rec_t *r)
{
    return r->hex;
}

const uint8_t *
fin_hash(const fin_rec_t *r)
{
    return r->hash;
}

const char *
fin_name(const fin_rec_t *r)
{
    return r->name;
}

uint64_t
fin_size(const fin_rec_t *r)
{
    return r->size;
}

const char *
fin_category(const fin_rec_t *r)
{
    return r->category;
}

const dla_tags_t *
fin_tags(const fin_rec_t *r)
{
    return &r->tags;
}

double
fin_ratio_limit(const fin_rec_t *r)
{
    return r->ratio_limit;
}

int
fin_seeding_time_limit(const fin_rec_t *r)
{
    return r->seeding_time_limit;
}

int64_t
fin_dl_limit(const fin_rec_t *r)
{
    return r->dl_limit;
}

int64_t
fin_up_limit(const fin_rec_t *r)
{
    return r->up_limit;
}

bool
fin_force_start(const fin_rec_t *r)
{
    return r->force_start;
}

int
fin_priority(const fin_rec_t *r)
{
    return r->priority;
}

time_t
fin_added_at(const fin_rec_t *r)
{
    return (time_t)r->added_at;
}

time_t
fin_completed_at(const fin_rec_t *r)
{
    return (time_t)r->completed_at;
}

const char *
fin_save_path(const fin_rec_t *r)
{
    return r->save_path;
}

const char *
fin_content_path(const fin_rec_t *r)
{
    return r->content_path;
}

const char *
fin_added_by(const fin_rec_t *r)
{
    return r->added_by;
}

const char *
fin_added_via(const fin_rec_t *r)
{
    return r->added_via;
}

const char *
fin_download_id(const fin_rec_t *r)
{
    return r->download_id[0] != '\0' ? r->download_id : NULL;
}

const char *
fin_btih(const fin_rec_t *r)
{
    return r->btih[0] != '\0' ? r->btih : NULL;
}

fin_rec_t *
fin_find_btih(const finished_t *f, const char *btih)
{
    for (size_t i = 0; btih != NULL && i < f->n; i++)
        if (strcmp(f->v[i]->btih, btih) == 0)
            return f->v[i];
    return NULL;
}

uint64_t
fin_downloaded(const fin_rec_t *r)
{
    return r->downloaded;
}

uint64_t
fin_uploaded(const fin_rec_t *r)
{
    return r->uploaded;
}

time_t
fin_last_activity(const fin_rec_t *r)
{
    return (time_t)r->last_activity;
}

bool
fin_is_missing(const fin_rec_t *r)
{
    return r->missing;
}

const char *
fin_state(const fin_rec_t *r)
{
    return r->moving     ? "moving"
           : r->checking ? "checking"
           : r->corrupt  ? "error"
           : r->missing  ? "missing"
                         : "completed";
}

const char *
fin_error(const fin_rec_t *r)
{
    return r->corrupt && !r->checking ? "the file does not match its eD2K hash (re-check)" : NULL;
}

/* ----------------------------------------------------------- changes */

static int64_t
clamp_time(time_t t)
{
    return t < 0 ? 0 : (int64_t)t > FIN_MAX_TIME ? FIN_MAX_TIME : (int64_t)t;
}

void
fin_add_partfile(finished_t *f, const partfile_t *pf, const char *content_path)
{
    fin_rec_t *r = xcalloc(1, sizeof *r);
    memcpy(r->hash, pf_hash(pf), ED2K_HASH_LEN);
    ed2k_hash_to_hex(r->hash, r->hex);
    r->name = xstrdup(pf_name(pf));
    r->size = pf_size(pf);
    r->category = pf_category(pf) != NULL ? xstrdup(pf_category(pf)) : NULL;
    dla_tags_copy(&r->tags, pf_tags(pf));
    r->ratio_limit = pf_ratio_limit(pf);
    r->seeding_time_limit = pf_seeding_time_limit(pf);
    r->force_start = pf_force_start(pf);
    r->dl_limit = pf_dl_limit(pf);
    r->up_limit = pf_up_limit(pf);
    r->priority = pf_priority(pf) < 0 ? DLA_PRIO_LOW : pf_priority(pf) > 0 ? DLA_PRIO_HIGH
                                                                        : DLA_PRIO_NORMAL;
    r->added_at = clamp_time(pf_added_at(pf));
    r->completed_at = clamp_time(pf_completed_at(pf) > 0 ? pf_completed_at(pf) : time(NULL));
    r->last_activity = clamp_time(pf_last_activity(pf));
    r->content_path = xstrdup(content_path);
    const char *slash = strrchr(content_path, '/');
    r->save_path = slash != NULL && slash != content_path
                       ? xstrndup(content_path, (size_t)(slash - content_path))
                       : xstrdup("/");
    r->added_by = pf_added_by(pf) != NULL ? xstrdup(pf_added_by(pf)) : NULL;
    r->added_via = pf_added_via(pf) != NULL ? xstrdup(pf_added_via(pf)) : NULL;
    r->downloaded = pf_downloaded_bytes(pf);
    r->uploaded = pf_uploaded_bytes(pf);
    if (pf_download_id(pf) != NULL)
        memcpy(r->download_id, pf_download_id(pf), DLA_ID_LEN + 1);
    else
        give_id(r);
    if (pf_btih(pf) != NULL)
        memcpy(r->btih, pf_btih(pf), DLA_BTIH_LEN + 1);
    insert(f, r);
    log_info("finished %s: \"%s\" listed as finished (%s)", r->hex, r->name, r->content_path);
    share_files(f);
    f->check_limits = true; /* a limit may be reached at once */
    changed(f, NULL);
}

void
fin_on_upload(finished_t *f, const uint8_t hash[16], uint64_t bytes)
{
    fin_rec_t *r = fin_find(f, hash);
    if (r == NULL)
        return;
    r->uploaded = bytes > (uint64_t)INT64_MAX - r->uploaded ? (uint64_t)INT64_MAX
                                                            : r->uploaded + bytes;
    r->last_activity = clamp_time(time(NULL));
    f->check_limits = true; /* its ratio may be reached: checked at the next tick */
    if (!f->counters_dirty) {
        /* counters are saved every save_interval seconds, not per block */
        f->counters_dirty = true;
        int64_t next = clock_mono_ms() + conf_get_int(f->d->conf, "save_interval") * 1000;
        if (next > f->next_save_ms)
            f->next_save_ms = next;
    }
}

size_t
fin_category_renamed(finished_t *f, const char *old, const char *new_name)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        fin_rec_t *r = f->v[i];
        if (r->category == NULL || strcmp(r->category, old) != 0)
            continue;
        free(r->category);
        r->category = new_name != NULL && *new_name != '\0' ? xstrdup(new_name) : NULL;
        n++;
    }
    if (n > 0)
        changed(f, NULL);
    return n;
}

int
fin_set_category(finished_t *f, fin_rec_t *r, const char *category, mt_error_t **err)
{
    free(r->category);
    r->category = category != NULL && *category != '\0' ? xstrdup(category) : NULL;
    return changed(f, err);
}

int
fin_set_tags(finished_t *f, fin_rec_t *r, const dla_tags_t *tags, mt_error_t **err)
{
    dla_tags_copy(&r->tags, tags);
    return changed(f, err);
}

int
fin_set_share_limits(finished_t *f, fin_rec_t *r, double ratio_limit, int seeding_time_limit,
                     mt_error_t **err)
{
    if (!dla_ratio_limit_is_valid(ratio_limit) ||
        !dla_seeding_time_limit_is_valid(seeding_time_limit)) {
        mt_error_set(err, MT_ERR_INVALID, "share limits out of range");
        return -1;
    }
    r->ratio_limit = ratio_limit;
    r->seeding_time_limit = seeding_time_limit;
    f->check_limits = true;
    return changed(f, err);
}

int
fin_set_rate_limits(finished_t *f, fin_rec_t *r, int64_t dl_limit, int64_t up_limit,
                    mt_error_t **err)
{
    if (dl_limit < 0 || dl_limit > DLA_RATE_MAX || up_limit < 0 || up_limit > DLA_RATE_MAX) {
        mt_error_set(err, MT_ERR_INVALID, "rate limits out of range");
        return -1;
    }
    r->dl_limit = dl_limit;
    r->up_limit = up_limit;
    return changed(f, err);
}

int
fin_set_force_start(finished_t *f, fin_rec_t *r, bool on, mt_error_t **err)
{
    r->force_start = on;
    return changed(f, err);
}

int
fin_set_priority(finished_t *f, fin_rec_t *r, int priority, mt_error_t **err)
{
    r->priority = priority < 0 ? DLA_PRIO_LOW : priority > 0 ? DLA_PRIO_HIGH : DLA_PRIO_NORMAL;
    return changed(f, err);
}

/* rec_info: what the bus says of r (valid while r is). */
static void
rec_info(const fin_rec_t *r, bus_dl_info_t *info)
{
    *info = (bus_dl_info_t){
        .hex = r->hex,
        .download_id = fin_download_id(r),
        .name = r->name,
        .size = r->size,
        .category = r->category,
        .downloaded = r->downloaded,
        .uploaded = r->uploaded,
        .added_by = r->added_by,
        .added_via = r->added_via,
        .completed = true,
        .completed_at = r->completed_at,
    };
}

/* moved: r's file is at to now, in dir under name. */
static int
moved(finished_t *f, fin_rec_t *r, char *to, const char *dir, const char *name,
      mt_error_t **err)
{
    log_info("finished %s: moved %s to %s", r->hex, r->content_path, to);
    /* dir and name may be the record's own strings */
    char *new_dir = xstrdup(dir), *new_name = xstrdup(name);
    free(r->content_path);
    r->content_path = to;
    free(r->save_path);
    r->save_path = new_dir;
    free(r->name);
    r->name = new_name;
    share_files(f);
    shared_rescan(f->d->shared, NULL, NULL);
    return changed(f, err);
}

/* A move to another file system: the file is copied on a worker (state
 * "moving", still shared from where it was); the record is found again
 * by its hash when it is done. */
typedef struct {
    finished_t *f;
    uint8_t hash[ED2K_HASH_LEN];
    char *from, *to, *dir, *name;
    int rc;
    mt_error_t *err;
} move_job_t;

static void
move_run(void *arg)
{
    move_job_t *j = arg;
    j->rc = pf_move_file(j->from, j->to, true, &j->err);
}

static void
move_done(void *arg, int cancelled)
{
    move_job_t *j = arg;
    fin_rec_t *r = cancelled ? NULL : fin_find(j->f, j->hash);
    if (r != NULL && r->moving) {
        r->moving = false;
        if (j->rc == 0 && strcmp(r->content_path, j->from) == 0) {
            (void)moved(j->f, r, j->to, j->dir, j->name, NULL);
            j->to = NULL;
        } else {
            log_warn("finished %s: cannot move %s to %s: %s", r->hex, j->from, j->to,
                     j->err != NULL ? j->err->message : "the record changed meanwhile");
            changed(j->f, NULL);
        }
    }
    mt_error_free(j->err);
    free(j->from);
    free(j->to);
    free(j->dir);
    free(j->name);
    free(j);
}

int
fin_move(finished_t *f, fin_rec_t *r, const char *dir, const char *name, mt_error_t **err)
{
    if (dir == NULL)
        dir = r->save_path;
    if (name == NULL)
        name = r->name;
    if (r->moving) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "%s is being moved; try again when it is done",
                     r->content_path);
        return -1;
    }
    char *to = strcmp(dir, "/") == 0 ? xasprintf("/%s", name) : xasprintf("%s/%s", dir, name);
    if (strcmp(to, r->content_path) == 0) {
        free(to);
        return 0;
    }
    if (r->checking) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "%s is being checked; try again when it is done",
                     r->content_path);
        free(to);
        return -1;
    }
    /* never over another file (link + unlink would be atomic too, but
     * rename over a hard link target is refused the same way below) */
    if (access(to, F_OK) == 0) {
        mt_error_set(err, MT_ERR_EXISTS, "%s exists already", to);
        free(to);
        return -1;
    }
    if (rename(r->content_path, to) == 0)
        return moved(f, r, to, dir, name, err);
    if (errno != EXDEV) {
        mt_error_set(err, MT_ERR_IO, "cannot move %s to %s: %s", r->content_path, to,
                     strerror(errno));
        free(to);
        return -1;
    }
    move_job_t *j = xcalloc(1, sizeof *j);
    j->f = f;
    memcpy(j->hash, r->hash, ED2K_HASH_LEN);
    j->from = xstrdup(r->content_path);
    j->to = to;
    j->dir = xstrdup(dir);
    j->name = xstrdup(name);
    r->moving = true;
    worker_submit(f->d->workers, move_run, move_done, j);
    log_info("finished %s: copying %s to %s (another file system)", r->hex, r->content_path, to);
    return changed(f, err);
}

/* A re-check of a finished file: hashed on a worker; the record is found
 * again by its hash when it is done (it may have been removed). */
typedef struct {
    finished_t *f;
    uint8_t hash[ED2K_HASH_LEN];
    char *path;
    int rc;
    bool matched;
    mt_error_t *err;
} recheck_job_t;

static void
recheck_run(void *arg)
{
    recheck_job_t *j = arg;
    ed2k_hash_result_t res;
    memset(&res, 0, sizeof res);
    j->rc = ed2k_hash_file(j->path, &res, &j->err);
    if (j->rc == 0)
        j->matched = memcmp(res.file_hash, j->hash, ED2K_HASH_LEN) == 0;
    ed2k_hash_result_clear(&res);
}

static void
recheck_done(void *arg, int cancelled)
{
    recheck_job_t *j = arg;
    fin_rec_t *r = cancelled ? NULL : fin_find(j->f, j->hash);
    if (r != NULL && r->checking) {
        r->checking = false;
        bool was_corrupt = r->corrupt;
        if (j->rc != 0) {
            log_warn("finished %s: re-check: %s", r->hex, j->err->message);
        } else {
            r->corrupt = !j->matched;
            if (r->corrupt)
                log_error("finished %s: re-check: %s does not match its eD2K hash; no longer "
                          "shared", r->hex, r->content_path);
            else
                log_info("finished %s: re-check: %s matches its eD2K hash", r->hex,
                         r->content_path);
        }
        if (was_corrupt != r->corrupt)
            share_files(j->f);
        changed(j->f, NULL);
    }
    mt_error_free(j->err);
    free(j->path);
    free(j);
}

int
fin_recheck(finished_t *f, fin_rec_t *r, mt_error_t **err)
{
    if (r->checking)
        return 0;
    if (r->moving) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "%s is being moved; try again when it is done",
                     r->content_path);
        return -1;
    }
    r->checking = true;
    recheck_job_t *j = xcalloc(1, sizeof *j);
    j->f = f;
    memcpy(j->hash, r->hash, ED2K_HASH_LEN);
    j->path = xstrdup(r->content_path);
    worker_submit(f->d->workers, recheck_run, recheck_done, j);
    log_info("finished %s: re-checking %s", r->hex, r->content_path);
    return changed(f, err);
}

bool
fin_is_checking(const fin_rec_t *r)
{
    return r->checking;
}

int
fin_remove(finished_t *f, fin_rec_t *r, bool delete_file, bool *file_removed, mt_error_t **err)
{
    bool found;
    muleteerd_t *d = f->d;
    *file_removed = false;
    size_t at = find_index(f, r->hash, &found);
    if (!found || f->v[at] != r) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "no finished download %s", r->hex);
        return -1;
    }
    if (r->moving) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "%s is being moved; try again when it is done",
                     r->content_path);
        return -1;
    }
    /* Only the file the shared list holds at that path with that hash is
     * removed (as the delete of a shared file does): a file that changed,
     * or a path from a damaged finished.json, is left alone. Until the
     * first scan after the start the list cannot tell. */
    if (delete_file && !shared_has_scanned(d->shared)) {
        mt_error_set(err, MT_ERR_UNAVAILABLE,
                     "the shared files are being scanned after the start; try again shortly");
        return -1;
    }
    if (delete_file &&
        shared_has_file(d->shared, r->hash, r->content_path)) {
        if (unlink(r->content_path) != 0 && errno != ENOENT) {
            mt_error_set(err, MT_ERR_IO, "cannot remove %s: %s", r->content_path,
                         strerror(errno));
            return -1;
        }
        *file_removed = true;
        log_info("finished %s: removed %s from disk", r->hex, r->content_path);
    } else if (delete_file) {
        log_warn("finished %s: %s is not the shared file of this download; left on disk",
                 r->hex, r->content_path);
    }
    {
        bus_dl_info_t info;
        rec_info(r, &info);
        /* the history keeps its row, completed; its downloads row goes */
        bus_publish_dl_deleted(d->bus, &(bus_dl_deleted_t){ .info = &info });
    }
    log_info("finished %s: \"%s\" forgotten", r->hex, r->name);
    rec_free(r);
    memmove(&f->v[at], &f->v[at + 1], (f->n - at - 1) * sizeof *f->v);
    f->n--;
    share_files(f);
    changed(f, NULL);
    if (*file_removed)
        shared_rescan(d->shared, NULL, NULL);
    return 0;
}

/* ------------------------------------------------------ share limits */

bool
fin_sharing_stopped(const fin_rec_t *r)
{
    return r->share_stopped;
}

int
fin_set_sharing(finished_t *f, fin_rec_t *r, bool stopped, const char *reason, mt_error_t **err)
{
    if (r->share_stopped == stopped)
        return 0;
    r->share_stopped = stopped;
    withhold(f);
    if (stopped)
        log_info("finished %s: \"%s\" is no longer shared (%s)", r->hex, r->name, reason);
    else
        log_info("finished %s: \"%s\" is shared again (%s)", r->hex, r->name, reason);
    bus_dl_info_t info;
    rec_info(r, &info);
    bus_publish_fin_sharing(f->d->bus,
                            &(bus_fin_sharing_t){ .info = &info, .stopped = stopped, .reason = reason });
    /* resumed while a limit is still reached: stopped again at the next
     * check, as qBittorrent does (raise the limit, or force start it) */
    f->check_limits = true;
    return changed(f, err);
}

/* apply: the outcome for r (which is freed when removed); false when it
 * must wait (its file cannot be removed before the first scan). */
static bool
apply(finished_t *f, fin_rec_t *r, shl_outcome_t what, const char *why)
{
    mt_error_t *err = NULL;
    bool removed = false;
    char hex[ED2K_HASH_HEX_LEN + 1];
    memcpy(hex, r->hex, sizeof hex);
    if (what == SHL_STOP) {
        if (fin_set_sharing(f, r, true, why, &err) != 0) {
            log_error("finished %s: %s", hex, err->message);
            mt_error_free(err);
        }
        return true;
    }
    log_info("finished %s: \"%s\" reached its %s limit; %s", hex, r->name, why,
             shl_outcome_name(what));
    if (fin_remove(f, r, what == SHL_REMOVE_FILES, &removed, &err) == 0)
        return true;
    bool later = err->code == MT_ERR_UNAVAILABLE;
    log_warn("finished %s: not removed: %s%s", hex, err->message, later ? "; tried again" : "");
    mt_error_free(err);
    return !later;
}

size_t
fin_check_share_limits(finished_t *f, int64_t now)
{
    shl_global_t g;
    shl_global_from_conf(f->d->conf, &g);
    size_t acted = 0;
    f->check_limits = false;
    /* from the end: a removal moves only the records already checked */
    for (size_t i = f->n; i-- > 0;) {
        fin_rec_t *r = f->v[i];
        if (r->missing)
            continue;
        shl_input_t in = {
            .ratio_limit = r->ratio_limit,
            .seeding_time_limit = r->seeding_time_limit,
            .stopped = r->share_stopped,
            .size = r->size,
            .downloaded = r->downloaded,
            .uploaded = r->uploaded,
            .completed_at = r->completed_at,
        };
        const char *why = NULL;
        shl_outcome_t what = shl_decide(&g, &in, now, &why);
        if (what == SHL_NONE)
            continue;
        if (apply(f, r, what, why))
            acted++;
        else
            f->check_limits = true;
    }
    return acted;
}

void
fin_share_limits_changed(finished_t *f)
{
    f->check_limits = true;
}
