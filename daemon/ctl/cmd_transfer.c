/* cmd_transfer.c: control commands over the download queue, the finished
 * downloads, their attributes (category, tags, share limits, force start),
 * the shared files, the upload queue and the transfer limits. Arguments
 * come from another process and are checked like any other input. */
#include "config.h"

#include "daemon/ctl/cmd_transfer.h"
#include "daemon/ctl/cmd_kad.h"
#include "daemon/core/daemon.h"
#include "daemon/ed2k/server.h"
#include "daemon/ed2k/serverlist.h"
#include "daemon/net/limitsched.h"
#include "daemon/net/peer.h"
#include "daemon/transfer/category.h"
#include "daemon/transfer/dlattr.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/finished.h"
#include "daemon/transfer/partfile.h"
#include "daemon/transfer/rangeset.h"
#include "daemon/transfer/shared.h"
#include "daemon/transfer/taglist.h"
#include "daemon/transfer/upload.h"
#include "ctl/args.h"
#include "ed2k/hash.h"
#include "ed2k/link.h"
#include "util/bug.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a hash names: an active download or a finished one. */
typedef struct {
    download_t *dl;
    fin_rec_t *fin;
} target_t;

/* arg_target: the download or finished download named by "hash";
 * MT_ERR_NOT_FOUND when there is neither. */
static int
arg_target(muleteerd_t *d, json_object *args, target_t *t, mt_error_t **err)
{
    const char *hex;
    t->dl = NULL;
    t->fin = NULL;
    if (ctl_arg_str(args, "hash", true, &hex, 64, err) != 0)
        return -1;
    uint8_t h[16];
    if (ed2k_hash_from_hex(hex, h) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "\"hash\" must be 32 hex digits");
        return -1;
    }
    t->dl = dlq_find(d->downloads, h);
    if (t->dl == NULL)
        t->fin = fin_find(d->finished, h);
    if (t->dl == NULL && t->fin == NULL) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "no download with hash %s", hex);
        return -1;
    }
    return 0;
}

static json_object *
target_json(const target_t *t)
{
    return t->dl != NULL ? dl_to_json(t->dl) : fin_to_json(t->fin);
}

static const dla_tags_t *
target_tags(const target_t *t)
{
    return t->dl != NULL ? pf_tags(dl_partfile(t->dl)) : fin_tags(t->fin);
}

/* set_tags: gives t the tag set tags. */
static int
set_tags(muleteerd_t *d, const target_t *t, const dla_tags_t *tags, mt_error_t **err)
{
    if (t->dl != NULL) {
        dl_set_tags(t->dl, tags);
        return 0;
    }
    return fin_set_tags(d->finished, t->fin, tags, err);
}

/* drop_tags: t loses the tags of rm it has (nothing is written when it
 * has none of them). */
static int
drop_tags(muleteerd_t *d, const target_t *t, const dla_tags_t *rm, mt_error_t **err)
{
    dla_tags_t now = { 0 };
    dla_tags_copy(&now, target_tags(t));
    bool changed = false;
    for (size_t i = 0; i < rm->n; i++)
        changed |= dla_tags_remove(&now, rm->v[i]);
    int rc = changed ? set_tags(d, t, &now, err) : 0;
    dla_tags_clear(&now);
    return rc;
}

/* Share limits given as arguments; each absent one keeps *ratio / *minutes
 * unless required. */
static int
arg_limits(json_object *args, bool required, double *ratio, int *minutes, mt_error_t **err)
{
    json_object *r = ctl_arg_get(args, "ratio_limit"), *m = ctl_arg_get(args, "seeding_time_limit");
    if (required && (r == NULL || m == NULL)) {
        mt_error_set(err, MT_ERR_INVALID, "missing argument \"%s\"",
                     r == NULL ? "ratio_limit" : "seeding_time_limit");
        return -1;
    }
    if (r != NULL && dla_parse_ratio_limit(r, "ratio_limit", ratio, err) != 0)
        return -1;
    if (m != NULL && dla_parse_seeding_time_limit(m, "seeding_time_limit", minutes, err) != 0)
        return -1;
    return 0;
}

/* add_list_link: an ed2k link that adds no download: a nodeslist link
 * imports Kad contacts from its URL (kad-import's answer), a serverlist or
 * server link servers (servers-import's). 1: another link (a file, or not
 * a link that parses: dlq_add_link says why). */
static int
add_list_link(muleteerd_t *d, const char *text, json_object **result, mt_error_t **err)
{
    ed2k_link_t *l = NULL;
    if (ed2k_link_parse(text, &l, NULL) != 0)
        return 1;
    ed2k_link_type_t type = l->type;
    ed2k_link_free(l);
    if (type == ED2K_LINK_NODESLIST)
        return kad_cmd_import_link(d, text, result, err);
    if (type == ED2K_LINK_SERVERLIST || type == ED2K_LINK_SERVER) {
        *result = sl_import_source(d->serverlist, text, err);
        return *result != NULL ? 0 : -1;
    }
    return 1;
}

int
cmd_add(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    const char *link, *prio_name;
    dl_add_opts_t o = DL_ADD_OPTS_INIT;
    dla_tags_t tags = { 0 };
    if (ctl_arg_str(args, "link", true, &link, 65536, err) != 0 ||
        ctl_arg_str(args, "category", false, &o.category, 255, err) != 0 ||
        ctl_arg_str(args, "priority", false, &prio_name, 16, err) != 0 ||
        ctl_arg_str(args, "added_by", false, &o.added_by, 255, err) != 0 ||
        ctl_arg_str(args, "added_via", false, &o.added_via, 255, err) != 0 ||
        ctl_arg_str(args, "btih", false, &o.btih, 64, err) != 0 ||
        ctl_arg_bool(args, "stopped", &o.stopped, err) != 0 ||
        ctl_arg_bool(args, "force_start", &o.force_start, err) != 0 ||
        arg_limits(args, false, &o.ratio_limit, &o.seeding_time_limit, err) != 0 ||
        dla_tags_parse(ctl_arg_get(args, "tags"), "tags", &tags, err) != 0)
        return -1;
    o.priority = DLA_PRIO_NORMAL;
    if (prio_name != NULL && dla_priority_parse(prio_name, &o.priority) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "\"priority\" must be low, normal or high");
        dla_tags_clear(&tags);
        return -1;
    }
    if (o.added_by == NULL)
        o.added_by = "cli";
    if (o.added_via == NULL)
        o.added_via = "native";
    o.tags = &tags;
    int lrc = add_list_link(d, link, result, err);
    if (lrc != 1) {
        dla_tags_clear(&tags);
        return lrc;
    }
    download_t *dl = NULL;
    int rc = dlq_add_link(d->downloads, link, &o, &dl, err);
    dla_tags_clear(&tags);
    if (rc != 0)
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
    json_object *fin = json_object_new_array();
    for (size_t i = 0; i < fin_count(d->finished); i++)
        json_object_array_add(fin, fin_to_json(fin_get(d->finished, i)));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "downloads", arr);
    json_object_object_add(o, "finished", fin);
    json_object_object_add(o, "rate", json_object_new_int64((int64_t)dlq_rate(d->downloads)));
    *result = o;
    return 0;
}

/* pause, stop: a finished download is seeded until removed or until its
 * share limits are reached, and these change nothing for it. */
static int
change_state(void *ctx, json_object *args, json_object **result, mt_error_t **err,
             int (*fn)(download_t *))
{
    muleteerd_t *d = ctx;
    target_t t;
    if (arg_target(d, args, &t, err) != 0)
        return -1;
    if (t.dl != NULL)
        fn(t.dl);
    *result = target_json(&t);
    return 0;
}

int
cmd_priority(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    const char *name;
    int prio;
    target_t t;
    if (arg_target(d, args, &t, err) != 0 || ctl_arg_str(args, "priority", true, &name, 16, err) != 0)
        return -1;
    if (dla_priority_parse(name, &prio) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "\"priority\" must be low, normal or high");
        return -1;
    }
    if (t.dl != NULL)
        dl_set_priority(t.dl, prio);
    else if (fin_set_priority(d->finished, t.fin, prio, err) != 0)
        return -1;
    *result = target_json(&t);
    return 0;
}

/* set-category: {hash, category}: an existing category, or "" / null for
 * none. An active download completes into the category's directory; a
 * finished one only changes its label (its file stays where it is). */
int
cmd_set_category(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    const char *category;
    if (arg_target(d, args, &t, err) != 0)
        return -1;
    json_object *v = NULL;
    if (!json_object_object_get_ex(args, "category", &v)) {
        mt_error_set(err, MT_ERR_INVALID, "missing argument \"category\" (\"\" or null: none)");
        return -1;
    }
    if (ctl_arg_str(args, "category", false, &category, 255, err) != 0)
        return -1;
    if (category != NULL && *category == '\0')
        category = NULL;
    if (category != NULL && !cat_exists(d->categories, category)) {
        mt_error_set(err, MT_ERR_NOT_FOUND, "no such category: %s", category);
        return -1;
    }
    if (t.dl != NULL) {
        if (dl_set_category(t.dl, category, err) != 0)
            return -1;
    } else if (fin_set_category(d->finished, t.fin, category, err) != 0) {
        return -1;
    }
    *result = target_json(&t);
    return 0;
}

/* tags-add: {hash, tags}: the tags are added to the download's. */
int
cmd_tags_add(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    dla_tags_t add = { 0 }, now = { 0 };
    if (arg_target(d, args, &t, err) != 0 ||
        dla_tags_parse(ctl_arg_get(args, "tags"), "tags", &add, err) != 0)
        return -1;
    int rc = -1;
    if (add.n == 0) {
        mt_error_set(err, MT_ERR_INVALID, "\"tags\" must name at least one tag");
        goto out;
    }
    dla_tags_copy(&now, target_tags(&t));
    if (dla_tags_add_all(&now, &add, err) != 0 || set_tags(d, &t, &now, err) != 0)
        goto out;
    *result = target_json(&t);
    rc = 0;
out:
    dla_tags_clear(&add);
    dla_tags_clear(&now);
    return rc;
}

/* tags-remove: {hash, tags}: those tags go; without tags (absent, null or
 * empty, as qBittorrent's removeTags) every tag goes. */
int
cmd_tags_remove(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    dla_tags_t rm = { 0 }, now = { 0 };
    if (arg_target(d, args, &t, err) != 0 ||
        dla_tags_parse(ctl_arg_get(args, "tags"), "tags", &rm, err) != 0)
        return -1;
    if (rm.n > 0) {
        dla_tags_copy(&now, target_tags(&t));
        for (size_t i = 0; i < rm.n; i++)
            dla_tags_remove(&now, rm.v[i]);
    }
    int rc = set_tags(d, &t, &now, err);
    dla_tags_clear(&rm);
    dla_tags_clear(&now);
    if (rc != 0)
        return -1;
    *result = target_json(&t);
    return 0;
}

/* tag_names: the "tags" argument (a JSON array of strings or "a,b"), as a
 * JSON array of strings each a valid tag; empty items are skipped, as
 * qBittorrent skips them. */
static int
tag_names(json_object *args, dla_tags_t *out, mt_error_t **err)
{
    if (ctl_arg_get(args, "tags") == NULL) {
        mt_error_set(err, MT_ERR_INVALID, "missing argument \"tags\"");
        return -1;
    }
    return dla_tags_parse(ctl_arg_get(args, "tags"), "tags", out, err);
}

static json_object *
tag_list_json(muleteerd_t *d)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "tags", tagl_to_json(d->tags));
    return o;
}

/* tag-create: {tags}: added to the node's tag list (no download changes). */
int
cmd_tag_create(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    dla_tags_t add = { 0 };
    if (tag_names(args, &add, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < add.n && rc == 0; i++)
        rc = tagl_add(d->tags, add.v[i], err);
    dla_tags_clear(&add);
    if (rc != 0)
        return -1;
    *result = tag_list_json(d);
    return 0;
}

/* tag-delete: {tags}: removed from the node's tag list and from every
 * download and finished download that carries them. */
int
cmd_tag_delete(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    dla_tags_t rm = { 0 };
    if (tag_names(args, &rm, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < rm.n && rc == 0; i++) {
        bool removed;
        rc = tagl_remove(d->tags, rm.v[i], &removed, err);
    }
    for (size_t i = 0; i < dlq_count(d->downloads) && rc == 0; i++) {
        target_t t = { dlq_get(d->downloads, i), NULL };
        rc = drop_tags(d, &t, &rm, err);
    }
    for (size_t i = 0; i < fin_count(d->finished) && rc == 0; i++) {
        target_t t = { NULL, fin_get(d->finished, i) };
        rc = drop_tags(d, &t, &rm, err);
    }
    dla_tags_clear(&rm);
    if (rc != 0)
        return -1;
    *result = tag_list_json(d);
    return 0;
}

/* tags: {}: the node's tag list. */
int
cmd_tags(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    *result = tag_list_json(ctx);
    return 0;
}

/* share-limits: {hash, ratio_limit, seeding_time_limit}, both required. */
int
cmd_share_limits(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    double ratio = DLA_LIMIT_GLOBAL;
    int minutes = DLA_LIMIT_GLOBAL;
    if (arg_target(d, args, &t, err) != 0 || arg_limits(args, true, &ratio, &minutes, err) != 0)
        return -1;
    if (t.dl != NULL) {
        if (dl_set_share_limits(t.dl, ratio, minutes, err) != 0)
            return -1;
    } else if (fin_set_share_limits(d->finished, t.fin, ratio, minutes, err) != 0) {
        return -1;
    }
    *result = target_json(&t);
    return 0;
}

/* rate-limits: {hash, dl_limit, up_limit}: bytes/s, 0 = none; an absent
 * one is kept. Applied at once to the connections of the download. */
int
cmd_rate_limits(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    if (arg_target(d, args, &t, err) != 0)
        return -1;
    int64_t down = t.dl != NULL ? pf_dl_limit(dl_partfile(t.dl)) : fin_dl_limit(t.fin);
    int64_t up = t.dl != NULL ? pf_up_limit(dl_partfile(t.dl)) : fin_up_limit(t.fin);
    json_object *v;
    if ((v = ctl_arg_get(args, "dl_limit")) != NULL &&
        dla_parse_rate_limit(v, "dl_limit", &down, err) != 0)
        return -1;
    if ((v = ctl_arg_get(args, "up_limit")) != NULL &&
        dla_parse_rate_limit(v, "up_limit", &up, err) != 0)
        return -1;
    if (t.dl != NULL) {
        if (dl_set_rate_limits(t.dl, down, up, err) != 0)
            return -1;
    } else if (fin_set_rate_limits(d->finished, t.fin, down, up, err) != 0) {
        return -1;
    }
    ulq_apply_rate_limits(d->uploads);
    *result = target_json(&t);
    return 0;
}

/* rename: {hash, name}: the name the download's file has (an active
 * download completes under it; a finished one's file is renamed in its
 * directory). The name is one file name: valid UTF-8, no '/' or '\\', no
 * control characters, not "." or "..". */
int
cmd_rename(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    const char *name;
    if (arg_target(d, args, &t, err) != 0 ||
        ctl_arg_str(args, "name", true, &name, PF_MAX_NAME, err) != 0)
        return -1;
    if (!pf_name_is_valid(name) || strchr(name, '\\') != NULL) {
        mt_error_set(err, MT_ERR_INVALID,
                     "invalid name: one file name of 1 .. %d bytes of UTF-8, without '/', '\\' "
                     "or control characters, not \".\" or \"..\"",
                     PF_MAX_NAME);
        return -1;
    }
    if (t.dl != NULL) {
        if (dl_set_name(t.dl, name, err) != 0)
            return -1;
    } else if (fin_move(d->finished, t.fin, NULL, name, err) != 0) {
        return -1;
    }
    *result = target_json(&t);
    return 0;
}

/* set-location: {hash, location}: a directory inside incoming_dir or
 * download_roots (created when missing; relative: under incoming_dir;
 * MT_ERR_INVALID when it cannot be used). A finished download's file
 * moves there now (MT_ERR_EXISTS, MT_ERR_IO when it cannot); an active
 * one completes into it. The answer's save_path is the directory as
 * kept. */
int
cmd_set_location(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    const char *location;
    if (arg_target(d, args, &t, err) != 0 ||
        ctl_arg_str(args, "location", true, &location, PF_MAX_PATH - 1, err) != 0)
        return -1;
    /* a directory that cannot be used is MT_ERR_INVALID, whatever the
     * cause: the caller tells it from a file that could not be moved */
    mt_error_t *e = NULL;
    char *dir = cat_check_dir(d->categories, location, &e);
    if (dir == NULL) {
        mt_error_set(err, MT_ERR_INVALID, "location: %s", e->message);
        mt_error_free(e);
        return -1;
    }
    int rc = t.dl != NULL ? dl_set_save_path(t.dl, dir, err)
                          : fin_move(d->finished, t.fin, dir, NULL, err);
    if (rc != 0) {
        free(dir);
        return -1;
    }
    json_object *o = target_json(&t);
    json_object_object_add(o, "save_path", json_object_new_string(dir)); /* as kept */
    free(dir);
    *result = o;
    return 0;
}

/* recheck: {hash}: an active download's parts are verified again against
 * their part hashes; a finished download's file is hashed again. */
int
cmd_recheck(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    if (arg_target(d, args, &t, err) != 0)
        return -1;
    if (t.dl != NULL)
        dl_recheck(t.dl);
    else if (fin_recheck(d->finished, t.fin, err) != 0)
        return -1;
    *result = target_json(&t);
    return 0;
}

/* reannounce: {hash}: an active download's sources are asked again now,
 * and our server for more (within its pace); nothing for a finished one.
 * The answer says whether the server was asked ("server": true). */
int
cmd_reannounce(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    if (arg_target(d, args, &t, err) != 0)
        return -1;
    bool server = false;
    if (t.dl != NULL) {
        dl_reannounce(t.dl);
        server = srv_reannounce(d->server, pf_hash(dl_partfile(t.dl)));
    }
    json_object *o = target_json(&t);
    json_object_object_add(o, "server", json_object_new_boolean(server));
    *result = o;
    return 0;
}

/* force-start: {hash, value}: true sets the flag and resumes a paused or
 * stopped download; false clears the flag. */
int
cmd_force_start(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    if (arg_target(d, args, &t, err) != 0)
        return -1;
    json_object *v = ctl_arg_get(args, "value");
    if (v == NULL || !json_object_is_type(v, json_type_boolean)) {
        mt_error_set(err, MT_ERR_INVALID, "\"value\" must be true or false");
        return -1;
    }
    bool on = json_object_get_boolean(v);
    if (t.dl != NULL)
        dl_set_force_start(t.dl, on);
    else if (fin_set_force_start(d->finished, t.fin, on, err) != 0)
        return -1;
    *result = target_json(&t);
    return 0;
}

int
cmd_pause(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    return change_state(ctx, args, result, err, dl_pause);
}

/* resume: also shares a finished download again whose sharing stopped
 * (its share limits were reached); if they still are, the next check
 * stops it again, as qBittorrent does. */
int
cmd_resume(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    if (arg_target(d, args, &t, err) != 0)
        return -1;
    if (t.dl != NULL)
        dl_resume(t.dl);
    else if (fin_sharing_stopped(t.fin) &&
             fin_set_sharing(d->finished, t.fin, false, "resumed", err) != 0)
        return -1;
    *result = target_json(&t);
    return 0;
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
    if (ctl_arg_str(args, "hash", true, &hex, 64, err) != 0 ||
        ctl_arg_bool(args, "delete_files", &delete_files, err) != 0)
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
    fin_rec_t *fin = fin_find(d->finished, h);
    if (fin != NULL) {
        /* A finished download: forgotten; its file stays unless asked. */
        char *path = xstrdup(fin_content_path(fin));
        bool removed = false;
        if (fin_remove(d->finished, fin, delete_files, &removed, err) != 0) {
            free(path);
            json_object_put(o);
            return -1;
        }
        json_object_object_add(o, "deleted", json_object_new_string("finished"));
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "file_removed", json_object_new_boolean(removed));
        free(path);
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
        char aich[ED2K_AICH_B32_LEN + 1];
        ed2k_aich_to_base32(f->aich, aich);
        json_object_object_add(e, "aich", json_object_new_string(aich));
        json_object_object_add(e, "requests", json_object_new_int64(f->requests));
        json_object_object_add(e, "withheld",
                               json_object_new_boolean(shared_is_withheld(d->shared, f->hash)));
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

/* limits: {"max_upload", "max_download", "alt_max_upload",
 * "alt_max_download": KiB/s, "alt_mode": bool}, each optional, 0 KiB/s =
 * unlimited; answers the limits as set, the pair in force, the current
 * rates and the schedule's state (scheduler_enabled, schedule_active,
 * schedule_next: wall time of its next boundary, 0: none; a switch of
 * alt_mode holds until that boundary, limitsched.h). Limits are not written to the configuration file; the
 * mode is saved (speedlimit.h) and survives a restart. Nothing changes
 * when an argument is refused. */
int
cmd_limits(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    speedlimit_t l;
    peer_mgr_get_limits(d->peers, &l);
    bool was_alt = l.alt;
    static const char *const keys[] = { "max_upload", "max_download", "alt_max_upload",
                                        "alt_max_download" };
    uint64_t *vals[] = { &l.up, &l.down, &l.alt_up, &l.alt_down };
    for (int i = 0; i < 4; i++) {
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
    json_object *mode = NULL;
    if (json_object_object_get_ex(args, "alt_mode", &mode) && mode != NULL) {
        if (!json_object_is_type(mode, json_type_boolean)) {
            mt_error_set(err, MT_ERR_INVALID, "\"alt_mode\" must be true or false");
            return -1;
        }
        l.alt = json_object_get_boolean(mode);
    }
    if (l.alt != was_alt) {
        char *file = peer_mgr_alt_mode_file(d);
        int rc = speedlimit_save_mode(file, l.alt, err);
        free(file);
        if (rc != 0)
            return -1;
        log_info("alternative speed limits %s", l.alt ? "on" : "off");
    }
    peer_mgr_set_limits(d->peers, &l);
    uint64_t up, down;
    speedlimit_in_force(&l, &up, &down);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "max_upload", json_object_new_int64((int64_t)(l.up / 1024)));
    json_object_object_add(o, "max_download", json_object_new_int64((int64_t)(l.down / 1024)));
    json_object_object_add(o, "alt_max_upload", json_object_new_int64((int64_t)(l.alt_up / 1024)));
    json_object_object_add(o, "alt_max_download",
                           json_object_new_int64((int64_t)(l.alt_down / 1024)));
    json_object_object_add(o, "alt_mode", json_object_new_boolean(l.alt));
    bool active = false;
    time_t next = 0;
    json_object_object_add(o, "scheduler_enabled",
                           json_object_new_boolean(lsched_state(d->limit_schedule, &active, &next)));
    json_object_object_add(o, "schedule_active", json_object_new_boolean(active));
    json_object_object_add(o, "schedule_next", json_object_new_int64((int64_t)next));
    json_object_object_add(o, "upload_limit", json_object_new_int64((int64_t)(up / 1024)));
    json_object_object_add(o, "download_limit", json_object_new_int64((int64_t)(down / 1024)));
    json_object_object_add(o, "upload_rate", json_object_new_int64((int64_t)ulq_rate(d->uploads)));
    json_object_object_add(o, "download_rate",
                           json_object_new_int64((int64_t)dlq_rate(d->downloads)));
    *result = o;
    return 0;
}

/* ------------------------------------------------------------- parts */

/* The parts qBittorrent counts as pieces: those holding data, so a file
 * of an exact multiple of PARTSIZE has no empty last part here. */
static size_t
data_parts(uint64_t size)
{
    return (size_t)((size + ED2K_PARTSIZE - 1) / ED2K_PARTSIZE);
}

static json_object *
hex_string(const uint8_t h[ED2K_HASH_LEN])
{
    char hex[33];
    ed2k_hash_to_hex(h, hex);
    return json_object_new_string(hex);
}

/* download_parts: each part's pf_part_state (qBittorrent's numbers), and
 * its hash once the hash set is known (at once for one part). */
static void
download_parts(const partfile_t *pf, json_object *states, json_object *hashes)
{
    size_t n = data_parts(pf_size(pf));
    for (size_t i = 0; i < n; i++)
        json_object_array_add(states, json_object_new_int((int)pf_part_state(pf, i)));
    if (!pf_has_hashset(pf))
        return;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *h = pf_part_hash(pf, i);
        if (h != NULL)
            json_object_array_add(hashes, hex_string(h));
    }
}

/* finished_parts: every part is there; the hashes come from the shared
 * file's hash set (the file hash for one part), none while it is not
 * shared (missing, or not hashed yet) unless there is one part. */
static void
finished_parts(muleteerd_t *d, const fin_rec_t *r, json_object *states, json_object *hashes)
{
    size_t n = data_parts(fin_size(r));
    for (size_t i = 0; i < n; i++)
        json_object_array_add(states, json_object_new_int(2));
    const shared_file_t *f = shared_find(d->shared, fin_hash(r));
    if (n == 1) {
        json_object_array_add(hashes, hex_string(fin_hash(r)));
    } else if (f != NULL && f->n_part_hashes >= n) {
        for (size_t i = 0; i < n; i++)
            json_object_array_add(hashes, hex_string(f->part_hashes[i]));
    }
}

/* gaps_json: the bytes of pf not written yet (the complement of
 * pf_filled in [0, size)), as flat half-open ranges [start, end, ...]. */
static json_object *
gaps_json(const partfile_t *pf)
{
    json_object *a = json_object_new_array();
    uint64_t at = 0, size = pf_size(pf), gs, ge;
    while (at < size && rangeset_first_gap(pf_filled(pf), at, size, &gs, &ge)) {
        json_object_array_add(a, json_object_new_int64((int64_t)gs));
        json_object_array_add(a, json_object_new_int64((int64_t)ge));
        at = ge;
    }
    return a;
}

/* parts: {hash}: {"states": [0|1|2 per part], "hashes": [hex per part],
 * "gaps": [start, end, ...], "requested": [start, end, ...],
 * "availability": [sources per part]}. */
int
cmd_parts(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    target_t t;
    if (arg_target(d, args, &t, err) != 0)
        return -1;
    json_object *states = json_object_new_array();
    json_object *hashes = json_object_new_array();
    if (t.dl != NULL)
        download_parts(dl_partfile(t.dl), states, hashes);
    else
        finished_parts(d, t.fin, states, hashes);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "states", states);
    json_object_object_add(o, "hashes", hashes);
    /* a finished download has every byte, asks for none and has no
     * sources of its own */
    json_object_object_add(o, "gaps", t.dl != NULL ? gaps_json(dl_partfile(t.dl)) : json_object_new_array());
    json_object_object_add(o, "requested",
                           t.dl != NULL ? src_requested_json(t.dl) : json_object_new_array());
    json_object_object_add(o, "availability",
                           t.dl != NULL ? dl_availability_json(t.dl) : json_object_new_array());
    *result = o;
    return 0;
}

/* ------------------------------------------------------- share-config */

/* The global share limits, kept in the configuration (conf.c) and written
 * back to its file so that they outlive a restart. */
static const char *const share_keys[] = { "max_ratio", "max_seeding_time", "max_ratio_act" };

static json_object *
share_config_json(const conf_t *c)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "max_ratio", json_object_new_double(conf_get_real(c, "max_ratio")));
    json_object_object_add(o, "max_seeding_time",
                           json_object_new_int64(conf_get_int(c, "max_seeding_time")));
    json_object_object_add(o, "max_ratio_act",
                           json_object_new_int64(conf_get_int(c, "max_ratio_act")));
    return o;
}

/* share_arg: the text of argument key for conf_set, or NULL when absent;
 * -1 when it is not a valid value. */
static int
share_arg(json_object *args, const char *key, char *buf, size_t len, bool *given, mt_error_t **err)
{
    json_object *v = ctl_arg_get(args, key);
    *given = v != NULL;
    if (v == NULL)
        return 0;
    bool ratio = strcmp(key, "max_ratio") == 0;
    bool ok = ratio ? json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)
                    : json_object_is_type(v, json_type_int);
    double x = ok ? json_object_get_double(v) : 0;
    if (ok && ratio)
        ok = x == -1 || (x >= 0 && x <= DLA_RATIO_MAX);
    else if (ok && strcmp(key, "max_seeding_time") == 0)
        ok = x == -1 || (x >= 0 && x <= DLA_SEEDING_MAX);
    else if (ok)
        ok = x >= 0 && x <= 3;
    if (!ok) {
        mt_error_set(err, MT_ERR_INVALID, "\"%s\" must be %s", key,
                     ratio ? "-1 (no limit) or a ratio from 0 to 9998"
                     : strcmp(key, "max_seeding_time") == 0
                         ? "-1 (no limit) or an integer from 0 to 525600 minutes"
                         : "0 (stop), 1 (remove), 2 (stop) or 3 (remove with the file)");
        return -1;
    }
    if (ratio) {
        /* the shortest text that reads back as x: 0.1, not 0.10000000000000001 */
        snprintf(buf, len, "%.15g", x);
        if (strtod(buf, NULL) != x)
            snprintf(buf, len, "%.17g", x);
    } else {
        snprintf(buf, len, "%lld", (long long)json_object_get_int64(v));
    }
    return 0;
}

int
cmd_share_config(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    char vals[3][40];
    bool given[3];
    const char *keys[3], *values[3];
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        if (share_arg(args, share_keys[i], vals[i], sizeof vals[i], &given[i], err) != 0)
            return -1;
        if (given[i]) {
            keys[n] = share_keys[i];
            values[n++] = vals[i];
        }
    }
    bool persisted = true;
    json_object *o = NULL;
    if (n > 0) {
        mt_error_t *e = NULL;
        for (size_t i = 0; i < n; i++) {
            int rc = conf_set(d->conf, keys[i], values[i], &e);
            if (MT_BUG(rc != 0)) /* validated above */
                mt_error_clear(&e);
        }
        if (d->conf_file == NULL || conf_file_update(d->conf_file, keys, values, n, &e) != 0) {
            persisted = false;
            log_warn("share-config: the change holds until the daemon stops; not saved: %s",
                     e != NULL ? e->message : "no configuration file");
        }
        o = share_config_json(d->conf);
        if (e != NULL)
            json_object_object_add(o, "save_error", json_object_new_string(e->message));
        mt_error_free(e);
        log_info("share-config: max_ratio %g, max_seeding_time %lld, max_ratio_act %lld",
                 conf_get_real(d->conf, "max_ratio"), conf_get_int(d->conf, "max_seeding_time"),
                 conf_get_int(d->conf, "max_ratio_act"));
        fin_share_limits_changed(d->finished);
    } else {
        o = share_config_json(d->conf);
    }
    json_object_object_add(o, "saved", json_object_new_boolean(n > 0 && persisted));
    *result = o;
    return 0;
}

/* ----------------------------------------------------------- settings */

/* The connection settings an API client may change: the first two are
 * read where they are used and apply at once; the port is only written to
 * the file (the daemon keeps listening where it listens until a restart). */
static const struct {
    const char *key;
    bool now; /* applies at once */
} settings[] = {
    { "max_connections", true },
    { "upload_slots", true },
    { "tcp_port", false },
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

int
cmd_settings(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    const char *keys[N_SETTINGS], *values[N_SETTINGS];
    char vals[N_SETTINGS][24];
    bool now[N_SETTINGS];
    size_t n = 0;
    conf_t *scratch = conf_new(); /* all valid, or nothing changes */
    for (size_t i = 0; i < N_SETTINGS; i++) {
        json_object *v = ctl_arg_get(args, settings[i].key);
        if (v == NULL)
            continue;
        snprintf(vals[n], sizeof vals[n], "%lld", (long long)json_object_get_int64(v));
        if (!json_object_is_type(v, json_type_int) ||
            conf_set(scratch, settings[i].key, vals[n], err) != 0) {
            if (err != NULL && *err == NULL)
                mt_error_set(err, MT_ERR_INVALID, "\"%s\" must be an integer", settings[i].key);
            conf_free(scratch);
            return -1;
        }
        keys[n] = settings[i].key;
        now[n] = settings[i].now;
        values[n] = vals[n];
        n++;
    }
    conf_free(scratch);
    mt_error_t *e = NULL;
    bool saved = n > 0;
    if (n > 0 && (d->conf_file == NULL || conf_file_update(d->conf_file, keys, values, n, &e) != 0)) {
        saved = false;
        log_warn("settings: not saved to the configuration file: %s",
                 e != NULL ? e->message : "no configuration file");
    }
    json_object *restart = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        if (now[i]) {
            int rc = conf_set(d->conf, keys[i], values[i], NULL);
            if (MT_BUG(rc != 0)) /* validated above */
                continue;
        } else if (strtoll(values[i], NULL, 10) != conf_get_int(d->conf, keys[i])) {
            json_object_array_add(restart, json_object_new_string(keys[i]));
        }
        log_info("settings: %s = %s%s", keys[i], values[i], now[i] ? "" : " (after a restart)");
    }
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < N_SETTINGS; i++)
        json_object_object_add(o, settings[i].key,
                               json_object_new_int64(conf_get_int(d->conf, settings[i].key)));
    json_object_object_add(o, "restart_needed", restart);
    json_object_object_add(o, "saved", json_object_new_boolean(saved));
    if (e != NULL)
        json_object_object_add(o, "save_error", json_object_new_string(e->message));
    mt_error_free(e);
    *result = o;
    return 0;
}
