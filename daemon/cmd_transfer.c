/* cmd_transfer.c: control commands over the download queue, the shared
 * files, the upload queue and the transfer limits. Arguments come from
 * another process and are checked like any other input. */
#include "config.h"

#include "daemon/cmd_transfer.h"
#include "daemon/daemon.h"
#include "daemon/download.h"
#include "daemon/peer.h"
#include "daemon/shared.h"
#include "daemon/upload.h"
#include "ed2k/hash.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Reads an optional string argument; -1 (err set) if present but not a
 * string or too long. */
static int
arg_str(json_object *args, const char *key, bool required, const char **out, size_t max,
        mt_error_t **err)
{
    json_object *v = NULL;
    *out = NULL;
    if (!json_object_object_get_ex(args, key, &v) || v == NULL) {
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

static int
arg_bool(json_object *args, const char *key, bool *out, mt_error_t **err)
{
    json_object *v = NULL;
    *out = false;
    if (!json_object_object_get_ex(args, key, &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        mt_error_set(err, MT_ERR_INVALID, "\"%s\" must be true or false", key);
        return -1;
    }
    *out = json_object_get_boolean(v);
    return 0;
}

static download_t *
arg_download(muleteerd_t *d, json_object *args, mt_error_t **err)
{
    const char *hex;
    if (arg_str(args, "hash", true, &hex, 64, err) != 0)
        return NULL;
    uint8_t h[16];
    if (ed2k_hash_from_hex(hex, h) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "\"hash\" must be 32 hex digits");
        return NULL;
    }
    download_t *dl = dlq_find(d->downloads, h);
    if (dl == NULL)
        mt_error_set(err, MT_ERR_NOT_FOUND, "no download with hash %s", hex);
    return dl;
}

int
cmd_add(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    const char *link, *category, *added_by, *added_via, *prio_name;
    if (arg_str(args, "link", true, &link, 65536, err) != 0 ||
        arg_str(args, "category", false, &category, 255, err) != 0 ||
        arg_str(args, "priority", false, &prio_name, 16, err) != 0 ||
        arg_str(args, "added_by", false, &added_by, 255, err) != 0 ||
        arg_str(args, "added_via", false, &added_via, 255, err) != 0)
        return -1;
    int prio = DL_PRIO_NORMAL;
    if (prio_name != NULL && dl_priority_parse(prio_name, &prio) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "\"priority\" must be low, normal or high");
        return -1;
    }
    download_t *dl = NULL;
    if (dlq_add_link(d->downloads, link, category, prio, added_by != NULL ? added_by : "cli",
                     added_via != NULL ? added_via : "native", &dl, err) != 0)
        return -1;
    *result = dl_to_json(dl);
    return 0;
}

int
cmd_downloads(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < dlq_count(d->downloads); i++)
        json_object_array_add(arr, dl_to_json(dlq_get(d->downloads, i)));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "downloads", arr);
    json_object_object_add(o, "rate", json_object_new_int64((int64_t)dlq_rate(d->downloads)));
    *result = o;
    return 0;
}

static int
change_state(void *ctx, json_object *args, json_object **result, mt_error_t **err,
             int (*fn)(download_t *))
{
    muleteerd_t *d = ctx;
    download_t *dl = arg_download(d, args, err);
    if (dl == NULL)
        return -1;
    fn(dl);
    *result = dl_to_json(dl);
    return 0;
}

int
cmd_priority(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    const char *name;
    int prio;
    download_t *dl = arg_download(d, args, err);
    if (dl == NULL || arg_str(args, "priority", true, &name, 16, err) != 0)
        return -1;
    if (dl_priority_parse(name, &prio) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "\"priority\" must be low, normal or high");
        return -1;
    }
    dl_set_priority(dl, prio);
    *result = dl_to_json(dl);
    return 0;
}

int
cmd_pause(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    return change_state(ctx, args, result, err, dl_pause);
}

int
cmd_resume(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    return change_state(ctx, args, result, err, dl_resume);
}

int
cmd_stop(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    return change_state(ctx, args, result, err, dl_stop);
}

int
cmd_delete(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    const char *hex;
    bool delete_files;
    if (arg_str(args, "hash", true, &hex, 64, err) != 0 ||
        arg_bool(args, "delete_files", &delete_files, err) != 0)
        return -1;
    uint8_t h[16];
    if (ed2k_hash_from_hex(hex, h) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "\"hash\" must be 32 hex digits");
        return -1;
    }
    download_t *dl = dlq_find(d->downloads, h);
    json_object *o = json_object_new_object();
    if (dl != NULL) {
        /* An unfinished download: its temporary data goes with it. */
        if (dl_delete(dl, err) != 0) {
            json_object_put(o);
            return -1;
        }
        json_object_object_add(o, "deleted", json_object_new_string("download"));
        *result = o;
        return 0;
    }
    shared_file_t *sf = shared_find(d->shared, h);
    if (sf == NULL) {
        json_object_put(o);
        mt_error_set(err, MT_ERR_NOT_FOUND, "no download or shared file with hash %s", hex);
        return -1;
    }
    if (!delete_files) {
        json_object_put(o);
        mt_error_set(err, MT_ERR_INVALID,
                     "%s is a complete, shared file; set \"delete_files\" to remove it from disk",
                     sf->name);
        return -1;
    }
    if (unlink(sf->path) != 0) {
        json_object_put(o);
        mt_error_set(err, MT_ERR_IO, "cannot remove %s: %s", sf->path, strerror(errno));
        return -1;
    }
    log_info("deleted the shared file %s", sf->path);
    json_object_object_add(o, "deleted", json_object_new_string("file"));
    json_object_object_add(o, "path", json_object_new_string(sf->path));
    shared_rescan(d->shared, NULL, NULL);
    *result = o;
    return 0;
}

int
cmd_shared(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < shared_count(d->shared); i++) {
        shared_file_t *f = shared_get(d->shared, i);
        char hex[33];
        ed2k_hash_to_hex(f->hash, hex);
        json_object *e = json_object_new_object();
        json_object_object_add(e, "hash", json_object_new_string(hex));
        json_object_object_add(e, "name", json_object_new_string(f->name));
        json_object_object_add(e, "path", json_object_new_string(f->path));
        json_object_object_add(e, "size", json_object_new_int64((int64_t)f->size));
        json_object_object_add(e, "requests", json_object_new_int64(f->requests));
        json_object_array_add(arr, e);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "files", arr);
    json_object_object_add(o, "scanning", json_object_new_boolean(shared_is_scanning(d->shared)));
    *result = o;
    return 0;
}

int
cmd_rescan(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    shared_rescan(d->shared, NULL, NULL);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "scanning", json_object_new_boolean(1));
    *result = o;
    return 0;
}

int
cmd_uploads(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    *result = ulq_to_json(d->uploads);
    return 0;
}

/* limits: {"max_upload": KiB/s, "max_download": KiB/s}, each optional, 0
 * = unlimited; answers the limits in force. Not written to the
 * configuration file. */
int
cmd_limits(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    uint64_t up, down;
    peer_mgr_get_limits(d->peers, &up, &down);
    static const char *const keys[] = { "max_upload", "max_download" };
    uint64_t *vals[] = { &up, &down };
    for (int i = 0; i < 2; i++) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(args, keys[i], &v) || v == NULL)
            continue;
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
            json_object_get_int64(v) > 10000000) {
            mt_error_set(err, MT_ERR_INVALID,
                         "\"%s\" must be an integer from 0 (unlimited) to 10000000 KiB/s",
                         keys[i]);
            return -1;
        }
        *vals[i] = (uint64_t)json_object_get_int64(v) * 1024;
    }
    peer_mgr_set_limits(d->peers, up, down);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "max_upload", json_object_new_int64((int64_t)(up / 1024)));
    json_object_object_add(o, "max_download", json_object_new_int64((int64_t)(down / 1024)));
    json_object_object_add(o, "upload_rate", json_object_new_int64((int64_t)ulq_rate(d->uploads)));
    json_object_object_add(o, "download_rate",
                           json_object_new_int64((int64_t)dlq_rate(d->downloads)));
    *result = o;
    return 0;
}
