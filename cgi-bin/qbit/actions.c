/* actions.c: the mutating routes of /api/v2 (add, delete, pause/resume,
 * categories, share and rate limits, priorities, force start, tags and
 * the tag list, rename, location, re-check, reannounce, file priority),
 * and the rate-limit reads that go with them. Each checks its parameters
 * the way qBittorrent does and sends control commands to the daemon; as in
 * qBittorrent, unknown hashes in `hashes` are a silent no-op, while the
 * routes taking one `hash` answer 404 for it. A caller without
 * edit_all_downloads changes only the downloads it added (main.c's
 * QBIT_EDITS): another account's are skipped in `hashes` like unknown
 * ones, and a `hash` naming one answers 403. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbit/qbit.h"
#include "util/log.h"
#include "util/xalloc.h"

/* ------------------------------------------------------- per-hash loop */

typedef int (*each_fn)(qbit_t *q, http_response_t *resp, const char *md4, void *arg);

/* run_on: fn for md4 with the action sent to node (q->target; NULL:
 * the request's node, or this program's own). */
static int
run_on(qbit_t *q, http_response_t *resp, const char *node, const char *md4, each_fn fn,
       void *arg)
{
    const char *keep = q->target;
    q->target = node;
    int rc = fn(q, resp, md4, arg);
    q->target = keep;
    return rc;
}

/* on_holders: fn for md4 on each node of the request's (q->node) that
 * holds a download of it; on the request's node when none does (the
 * daemon then says it does not know it). CGICTL_ANSWERED from fn, or
 * after answering 503. */
static int
on_holders(qbit_t *q, http_response_t *resp, const char *md4, each_fn fn, void *arg)
{
    const char *params[] = { md4, q->node };
    PGresult *r = qbit_query(q, resp,
                              "SELECT node FROM downloads WHERE hash = $2 AND "
                              QBIT_NODE_IN("node", "$3") " ORDER BY node",
                              2, params);
    if (r == NULL)
        return CGICTL_ANSWERED;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc != CGICTL_ANSWERED; i++)
        rc = run_on(q, resp, PQgetvalue(r, i, 0), md4, fn, arg);
    if (PQntuples(r) == 0)
        rc = run_on(q, resp, q->node, md4, fn, arg);
    PQclear(r);
    return rc;
}

/* for_each_hash: runs fn for every hash of `hashes` ("all": every
 * download) on each node holding it, of the request's nodes
 * (docs/cluster.md). Stops at fn's CGICTL_ANSWERED (the answer is set).
 * Returns 0, or -1 after an answer. */
static int
for_each_hash(qbit_t *q, http_request_t *req, http_response_t *resp, each_fn fn, void *arg)
{
    qbit_hashes_t h;
    if (qbit_hashes(q, req, resp, &h) != 0)
        return -1;
    if (h.all) {
        PGresult *r = qbit_all_hashes(q, resp);
        if (r == NULL)
            return -1;
        for (int i = 0; i < PQntuples(r); i++)
            if (run_on(q, resp, PQgetvalue(r, i, 1), PQgetvalue(r, i, 0), fn, arg) ==
                CGICTL_ANSWERED) {
                PQclear(r);
                return -1;
            }
        PQclear(r);
        return 0;
    }
    for (size_t i = 0; i < h.n; i++)
        if (on_holders(q, resp, h.md4[i], fn, arg) == CGICTL_ANSWERED)
            return -1;
    return 0;
}

/* What a change looks like in PostgreSQL once it has landed: a query over
 * $1 = node, $2 = hash and the optional $3, $4 (see cgidb_wait). */
typedef struct {
    const char *sql;
    const char *arg[2];
    int n_args;
} wait_t;

#define ROW_WHERE "SELECT 1 FROM downloads WHERE node = $1 AND hash = $2 AND "

/* call_hash: cmd with {"hash": md4} plus extra's members (extra not
 * consumed), then waits for the change to show when w is given. A
 * download the daemon does not know is skipped; another refusal is logged
 * and skipped (qBittorrent answers 200 regardless). */
static int
call_hash(qbit_t *q, http_response_t *resp, const char *cmd, const char *md4, json_object *extra,
          const wait_t *w)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "hash", json_object_new_string(md4));
    if (extra != NULL) {
        json_object_object_foreach(extra, k, v)
            json_object_object_add(args, k, json_object_get(v));
    }
    mt_error_t *err = NULL;
    int rc = qbit_call(q, resp, cmd, args, NULL, &err);
    json_object_put(args);
    if (rc == CGICTL_REFUSED && err != NULL && err->code != MT_ERR_NOT_FOUND)
        log_warn("%s %s: %s", cmd, md4, err->message);
    mt_error_free(err);
    if (rc == CGICTL_OK && w != NULL && w->sql != NULL) {
        const char *p[3] = { md4, w->arg[0], w->arg[1] };
        qbit_wait(q, w->sql, p, 1 + w->n_args);
    }
    return rc;
}

typedef struct {
    const char *cmd;
    json_object *extra;
    const wait_t *wait;
} simple_t;

static int
each_cmd(qbit_t *q, http_response_t *resp, const char *md4, void *arg)
{
    const simple_t *a = arg;
    return call_hash(q, resp, a->cmd, md4, a->extra, a->wait);
}

/* simple: a route that runs one daemon command on each hash (waiting for
 * each change to show, per w), then answers 200 with an empty body. */
static int
simple(http_request_t *req, http_response_t *resp, void *ctx, const char *cmd, json_object *extra,
       const wait_t *w)
{
    simple_t a = { cmd, extra, w };
    int rc = for_each_hash(ctx, req, resp, each_cmd, &a);
    json_object_put(extra);
    if (rc != 0)
        return 0;
    return qbit_text(resp, 200, NULL);
}

/* text_array: a PostgreSQL text[] literal of strings (a new string). */
static char *
text_array(const char *const *v, int n)
{
    size_t len = 3;
    for (int i = 0; i < n; i++)
        len += 2 * strlen(v[i]) + 3;
    char *out = xmalloc(len), *o = out;
    *o++ = '{';
    for (int i = 0; i < n; i++) {
        if (i > 0)
            *o++ = ',';
        *o++ = '"';
        for (const char *c = v[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                *o++ = '\\';
            *o++ = *c;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = '\0';
    return out;
}

/* ----------------------------------------------------------------- add */

static void
add_number_arg(json_object *args, http_request_t *req, const char *param, const char *key,
               bool integer)
{
    const char *v = http_request_param(req, param);
    if (v == NULL || *v == '\0')
        return;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno != 0 || *end != '\0' || !isfinite(d))
        return; /* qBittorrent ignores what it cannot read */
    if (integer)
        json_object_object_add(args, key, json_object_new_int64((int64_t)d));
    else
        json_object_object_add(args, key, json_object_new_double(d));
}

/* add_node: where a new download goes when the request names no node
 * (docs/cluster.md): the live node (its heartbeat within three of its
 * status_interval, as db_cmd_send checks) with the most bytes free in the
 * category's incoming path, else in its incoming_dir
 * (daemon_status.free_space), this program's own on a tie; into
 * q->target. None known (or a name too long): this program's own. 0, or
 * -1 after answering 503. */
static int
add_node(qbit_t *q, http_response_t *resp, const char *cat)
{
    static char chosen[256];
    const char *params[] = { cat != NULL && *cat != '\0' ? cat : NULL };
    PGresult *r = cgidb_query(
        q->env, resp,
        "SELECT node FROM daemon_status WHERE stopped_at IS NULL"
        " AND heartbeat > now() - make_interval(secs => 3 * status_interval)"
        " ORDER BY coalesce((free_space ->> $2::text)::bigint, (free_space ->> '')::bigint, -1)"
        " DESC, node = $1 DESC, node LIMIT 1",
        1, params);
    if (r == NULL)
        return -1;
    if (PQntuples(r) == 1 && (size_t)PQgetlength(r, 0, 0) < sizeof chosen) {
        snprintf(chosen, sizeof chosen, "%s", PQgetvalue(r, 0, 0));
        q->target = chosen;
    }
    PQclear(r);
    return 0;
}

int
qbit_torrents_add(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    /* .torrent uploads: Muleteer has no BitTorrent */
    const http_param_t *file = http_request_find_param(req, HTTP_SRC_FORM, "torrents", NULL);
    if (file != NULL && file->filename != NULL) {
        char *msg = xasprintf("Error: '%s' is not a valid torrent file. Muleteer downloads "
                              "ed2k:// links and eD2K magnets only.",
                              file->filename);
        qbit_text(resp, 415, msg);
        free(msg);
        return 0;
    }
    const char *urls = http_request_param(req, "urls");
    if (urls == NULL || *urls == '\0')
        return qbit_text(resp, 200, "Fails.");

    json_object *common = json_object_new_object();
    const char *cat = http_request_param(req, "category");
    if (cat != NULL && *cat != '\0') {
        if (!qbit_category_valid(cat)) {
            json_object_put(common);
            return qbit_text(resp, 409, "Incorrect category name");
        }
        json_object_object_add(common, "category", json_object_new_string(cat));
    }
    /* 4.x sends paused, 5.x stopped; either stops it */
    bool stopped = false, b;
    if (qbit_bool_parse(http_request_param(req, "paused"), &b) == 0 && b)
        stopped = true;
    if (qbit_bool_parse(http_request_param(req, "stopped"), &b) == 0 && b)
        stopped = true;
    if (stopped)
        json_object_object_add(common, "stopped", json_object_new_boolean(true));
    add_number_arg(common, req, "ratioLimit", "ratio_limit", false);
    add_number_arg(common, req, "seedingTimeLimit", "seeding_time_limit", true);
    const char *tv = http_request_param(req, "tags");
    if (tv != NULL && *tv != '\0') {
        char *buf;
        const char *tags[32];
        int n = qbit_tags_parse(tv, &buf, tags, 32);
        if (n < 0) {
            free(buf);
            json_object_put(common);
            return qbit_text(resp, 400, "Invalid tag name");
        }
        json_object *arr = json_object_new_array();
        for (int i = 0; i < n; i++)
            json_object_array_add(arr, json_object_new_string(tags[i]));
        json_object_object_add(common, "tags", arr);
        free(buf);
    }
    json_object_object_add(common, "added_by",
                           json_object_new_string(q->user != NULL ? q->user : ""));
    json_object_object_add(common, "added_via", json_object_new_string("api-v2"));

    if (q->node == NULL && add_node(q, resp, cat) != 0) {
        json_object_put(common);
        return 0;
    }
    /* A duplicate -- the eD2K file already downloading, finished or
     * shared (whatever btih either link carries), or a btih that is
     * already another download's -- is refused by the daemon and counts as
     * a failure: qBittorrent answers `Fails.` for a torrent it already has.
     * The download keeps the btih it was first added with. */
    int added = 0;
    char *copy = xstrdup(urls);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        mt_error_t *err = NULL;
        char btih[41];
        char *link = qbit_link_parse(line, btih, &err);
        if (link == NULL) {
            log_info("add: refused %.80s: %s", line, err->message);
            mt_error_free(err);
            continue;
        }
        json_object *args = json_object_new_object();
        json_object_object_foreach(common, k, v)
            json_object_object_add(args, k, json_object_get(v));
        json_object_object_add(args, "link", json_object_new_string(link));
        if (btih[0] != '\0')
            json_object_object_add(args, "btih", json_object_new_string(btih));
        free(link);
        json_object *res = NULL;
        int rc = qbit_call(q, resp, "add", args, &res, &err);
        json_object_put(args);
        json_object *h = NULL;
        if (rc == CGICTL_OK && json_object_object_get_ex(res, "hash", &h)) {
            /* Sonarr reads the item right after adding it */
            const char *p[] = { json_object_get_string(h) };
            qbit_wait(q, "SELECT 1 FROM downloads WHERE node = $1 AND hash = lower($2)", p,
                       1);
        }
        json_object_put(res);
        if (rc == CGICTL_ANSWERED) {
            free(copy);
            json_object_put(common);
            return 0;
        }
        if (rc == CGICTL_OK)
            added++;
        else
            log_info("add: %s", err != NULL ? err->message : "refused");
        mt_error_free(err);
    }
    free(copy);
    json_object_put(common);
    return qbit_text(resp, 200, added > 0 ? "Ok." : "Fails.");
}

/* -------------------------------------------------- delete, stop, start */

int
qbit_torrents_delete(http_request_t *req, http_response_t *resp, void *ctx)
{
    /* deleteFiles missing means false: Sonarr leaves it out when it wants
     * the data kept (qBittorrent would answer 400). */
    bool del = false;
    qbit_bool_parse(http_request_param(req, "deleteFiles"), &del);
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "delete_files", json_object_new_boolean(del));
    static const wait_t w = {
        "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM downloads WHERE node = $1 AND hash = $2)",
        { NULL, NULL }, 0
    };
    return simple(req, resp, ctx, "delete", extra, &w);
}

int
qbit_torrents_pause(http_request_t *req, http_response_t *resp, void *ctx)
{
    static const wait_t w = { ROW_WHERE "state NOT IN ('downloading', 'stalled', 'queued')",
                             { NULL, NULL }, 0 };
    return simple(req, resp, ctx, "pause", NULL, &w);
}

int
qbit_torrents_resume(http_request_t *req, http_response_t *resp, void *ctx)
{
    static const wait_t w = { ROW_WHERE "state NOT IN ('paused', 'stopped')", { NULL, NULL }, 0 };
    return simple(req, resp, ctx, "resume", NULL, &w);
}

/* ---------------------------------------------------------- categories */

/* category_dir: savePath as the daemon's incoming_path: "" keeps the
 * default, a relative path is under incoming_dir (as qBittorrent puts it
 * under its save path). The daemon confines it to incoming_dir and
 * download_roots; a path outside is refused there (and answered 409 here,
 * as qBittorrent answers a category it cannot create or edit). A new
 * string or NULL. */
static char *
category_dir(qbit_t *q, const char *save_path)
{
    if (save_path == NULL || *save_path == '\0')
        return NULL;
    if (save_path[0] == '/')
        return xstrdup(save_path);
    return xasprintf("%s/%s", conf_get_str(cgienv_conf(q->env), "incoming_dir"), save_path);
}

int
qbit_torrents_create_category(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    const char *name = qbit_param(req, resp, "category");
    if (name == NULL)
        return 0;
    if (*name == '\0')
        return qbit_text(resp, 400, "Category cannot be empty");
    if (!qbit_category_valid(name))
        return qbit_text(resp, 409, "Incorrect category name");
    json_object *args = json_object_new_object();
    json_object_object_add(args, "name", json_object_new_string(name));
    char *dir = category_dir(q, http_request_param(req, "savePath"));
    if (dir != NULL)
        json_object_object_add(args, "incoming_path", json_object_new_string(dir));
    free(dir);
    mt_error_t *err = NULL;
    int rc = qbit_call(q, resp, "category-add", args, NULL, &err);
    json_object_put(args);
    if (rc == CGICTL_ANSWERED)
        return 0;
    if (rc == CGICTL_REFUSED) {
        log_info("createCategory %s: %s", name, err != NULL ? err->message : "refused");
        mt_error_free(err);
        return qbit_text(resp, 409, "Unable to create category");
    }
    const char *p[] = { name };
    qbit_wait(q, "SELECT 1 FROM categories WHERE node = $1 AND name = $2", p, 1);
    return qbit_text(resp, 200, NULL);
}

int
qbit_torrents_edit_category(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    const char *name = qbit_param(req, resp, "category");
    if (name == NULL)
        return 0;
    const char *save_path = qbit_param(req, resp, "savePath");
    if (save_path == NULL)
        return 0;
    if (*name == '\0')
        return qbit_text(resp, 400, "Category cannot be empty");
    json_object *args = json_object_new_object();
    json_object_object_add(args, "name", json_object_new_string(name));
    char *dir = category_dir(q, save_path);
    if (dir == NULL)
        dir = xasprintf("%s/%s", conf_get_str(cgienv_conf(q->env), "incoming_dir"), name);
    json_object_object_add(args, "incoming_path", json_object_new_string(dir));
    mt_error_t *err = NULL;
    json_object *res = NULL, *v = NULL;
    int rc = qbit_call(q, resp, "category-edit", args, &res, &err);
    json_object_put(args);
    if (rc == CGICTL_REFUSED) {
        log_info("editCategory %s: %s", name, err != NULL ? err->message : "refused");
        mt_error_free(err);
        qbit_text(resp, 409, "Unable to edit category");
    } else if (rc == CGICTL_OK) {
        /* the path as the daemon keeps it (normalized) */
        const char *p[] = { name, json_object_object_get_ex(res, "incoming_path", &v)
                                      ? json_object_get_string(v)
                                      : dir };
        qbit_wait(q, "SELECT 1 FROM categories WHERE node = $1 AND name = $2"
                           " AND incoming_path = $3", p, 2);
        qbit_text(resp, 200, NULL);
    }
    json_object_put(res);
    free(dir);
    return 0;
}

int
qbit_torrents_remove_categories(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    const char *names = qbit_param(req, resp, "categories");
    if (names == NULL)
        return 0;
    char *copy = xstrdup(names);
    char *save = NULL;
    for (char *n = strtok_r(copy, "\n", &save); n != NULL; n = strtok_r(NULL, "\n", &save)) {
        json_object *args = json_object_new_object();
        json_object_object_add(args, "name", json_object_new_string(n));
        int rc = qbit_call(q, resp, "category-remove", args, NULL, NULL);
        json_object_put(args);
        if (rc == CGICTL_ANSWERED) {
            free(copy);
            return 0;
        }
        if (rc == CGICTL_OK) {
            const char *p[] = { n };
            qbit_wait(q, "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM categories"
                               " WHERE node = $1 AND name = $2)", p, 1);
        }
    }
    free(copy);
    return qbit_text(resp, 200, NULL);
}

/* category_exists: 1, 0, or -1 after answering 503. */
static int
category_exists(qbit_t *q, http_response_t *resp, const char *name)
{
    const char *params[] = { name };
    PGresult *r = qbit_query(q, resp,
                              "SELECT 1 FROM categories WHERE node = $1 AND name = $2", 1, params);
    if (r == NULL)
        return -1;
    int found = PQntuples(r) > 0;
    PQclear(r);
    return found;
}

int
qbit_torrents_set_category(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    if (qbit_param(req, resp, "hashes") == NULL)
        return 0;
    const char *cat = qbit_param(req, resp, "category");
    if (cat == NULL)
        return 0;
    /* unlike add, setCategory never creates a category */
    if (*cat != '\0') {
        int found = qbit_category_valid(cat) ? category_exists(q, resp, cat) : 0;
        if (found < 0)
            return 0;
        if (found == 0)
            return qbit_text(resp, 409, "Incorrect category name");
    }
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "category", json_object_new_string(cat));
    wait_t w = { ROW_WHERE "coalesce(category, '') = $3", { cat }, 1 };
    return simple(req, resp, ctx, "set-category", extra, &w);
}

/* --------------------------------------------- limits, priority, force */

int
qbit_torrents_set_share_limits(http_request_t *req, http_response_t *resp, void *ctx)
{
    if (qbit_param(req, resp, "hashes") == NULL)
        return 0;
    const char *rv = qbit_param(req, resp, "ratioLimit");
    if (rv == NULL)
        return 0;
    const char *tv = qbit_param(req, resp, "seedingTimeLimit");
    if (tv == NULL)
        return 0;
    /* what qBittorrent's toDouble/toInt give: 0 for unreadable text */
    char *end;
    double ratio = strtod(rv, &end);
    if (*end != '\0' || end == rv || !isfinite(ratio))
        ratio = 0;
    long long minutes = strtoll(tv, &end, 10);
    if (*end != '\0' || end == tv)
        minutes = 0;
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "ratio_limit", json_object_new_double(ratio));
    json_object_object_add(extra, "seeding_time_limit", json_object_new_int64(minutes));
    char rs[64], ms[32];
    snprintf(rs, sizeof rs, "%.17g", ratio);
    snprintf(ms, sizeof ms, "%lld", minutes);
    wait_t w = { ROW_WHERE "ratio_limit = $3::float8 AND seeding_time_limit = $4::bigint",
                 { rs, ms }, 2 };
    return simple(req, resp, ctx, "share-limits", extra, &w);
}

/* eD2K has three download priorities; qBittorrent's queue moves map onto
 * them: top = high, bottom = low, increase/decrease one step. */
typedef enum { PRIO_TOP, PRIO_BOTTOM, PRIO_UP, PRIO_DOWN } prio_move_t;

static int
each_prio(qbit_t *q, http_response_t *resp, const char *md4, void *arg)
{
    prio_move_t move = *(prio_move_t *)arg;
    static const char *const names[] = { "low", "normal", "high" };
    int level = 1;
    if (move == PRIO_UP || move == PRIO_DOWN) {
        const char *params[] = { md4 };
        PGresult *r = qbit_query(q, resp,
                                  "SELECT priority FROM downloads WHERE node = $1 AND hash = $2",
                                  1, params);
        if (r == NULL)
            return CGICTL_ANSWERED;
        if (PQntuples(r) == 0) {
            PQclear(r);
            return 0;
        }
        level = atoi(PQgetvalue(r, 0, 0)) + 1; /* -1..1 -> 0..2 */
        PQclear(r);
        level += move == PRIO_UP ? 1 : -1;
        if (level < 0)
            level = 0;
        if (level > 2)
            level = 2;
    } else {
        level = move == PRIO_TOP ? 2 : 0;
    }
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "priority", json_object_new_string(names[level]));
    char lv[8];
    snprintf(lv, sizeof lv, "%d", level - 1);
    wait_t w = { ROW_WHERE "(priority = $3::int OR state = 'completed')", { lv }, 1 };
    int rc = call_hash(q, resp, "priority", md4, extra, &w);
    json_object_put(extra);
    return rc;
}

static int
prio(http_request_t *req, http_response_t *resp, void *ctx, prio_move_t move)
{
    if (for_each_hash(ctx, req, resp, each_prio, &move) != 0)
        return 0;
    return qbit_text(resp, 200, NULL);
}

int
qbit_torrents_top_prio(http_request_t *req, http_response_t *resp, void *ctx)
{
    return prio(req, resp, ctx, PRIO_TOP);
}

int
qbit_torrents_bottom_prio(http_request_t *req, http_response_t *resp, void *ctx)
{
    return prio(req, resp, ctx, PRIO_BOTTOM);
}

int
qbit_torrents_increase_prio(http_request_t *req, http_response_t *resp, void *ctx)
{
    return prio(req, resp, ctx, PRIO_UP);
}

int
qbit_torrents_decrease_prio(http_request_t *req, http_response_t *resp, void *ctx)
{
    return prio(req, resp, ctx, PRIO_DOWN);
}

int
qbit_torrents_set_force_start(http_request_t *req, http_response_t *resp, void *ctx)
{
    if (qbit_param(req, resp, "hashes") == NULL)
        return 0;
    const char *v = qbit_param(req, resp, "value");
    if (v == NULL)
        return 0;
    bool value = false; /* qBittorrent: unreadable means false */
    qbit_bool_parse(v, &value);
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "value", json_object_new_boolean(value));
    wait_t w = { ROW_WHERE "force_start = $3::bool", { value ? "true" : "false" }, 1 };
    return simple(req, resp, ctx, "force-start", extra, &w);
}

/* ---------------------------------------------------------------- tags */

static int
tags_route(http_request_t *req, http_response_t *resp, void *ctx, bool add)
{
    if (qbit_param(req, resp, "hashes") == NULL)
        return 0;
    const char *tv = add ? qbit_param(req, resp, "tags") : http_request_param(req, "tags");
    if (add && tv == NULL)
        return 0;
    char *buf = NULL;
    const char *tags[32];
    int n = qbit_tags_parse(tv, &buf, tags, 32);
    if (n < 0) {
        free(buf);
        return qbit_text(resp, 400, "Invalid tag name");
    }
    if (add && n == 0) {
        free(buf);
        return qbit_text(resp, 200, NULL); /* nothing to add */
    }
    json_object *extra = json_object_new_object();
    char *lit = NULL;
    wait_t w = { ROW_WHERE "cardinality(tags) = 0", { NULL, NULL }, 0 };
    if (n > 0) {
        json_object *arr = json_object_new_array();
        for (int i = 0; i < n; i++)
            json_object_array_add(arr, json_object_new_string(tags[i]));
        json_object_object_add(extra, "tags", arr);
        lit = text_array(tags, n);
        w.sql = add ? ROW_WHERE "$3::text[] <@ tags" : ROW_WHERE "NOT (tags && $3::text[])";
        w.arg[0] = lit;
        w.n_args = 1;
    }
    int rc = simple(req, resp, ctx, add ? "tags-add" : "tags-remove", extra, &w);
    free(lit);
    free(buf);
    return rc;
}

int
qbit_torrents_add_tags(http_request_t *req, http_response_t *resp, void *ctx)
{
    return tags_route(req, resp, ctx, true);
}

int
qbit_torrents_remove_tags(http_request_t *req, http_response_t *resp, void *ctx)
{
    return tags_route(req, resp, ctx, false);
}

/* ---------------------------------------------------------- rate limits */

static int
set_rate_limit(http_request_t *req, http_response_t *resp, void *ctx, const char *key)
{
    if (qbit_param(req, resp, "hashes") == NULL)
        return 0;
    const char *v = qbit_param(req, resp, "limit");
    if (v == NULL)
        return 0;
    int64_t limit = qbit_rate_limit_parse(v);
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, key, json_object_new_int64(limit));
    char ls[32];
    snprintf(ls, sizeof ls, "%lld", (long long)limit);
    wait_t w = { strcmp(key, "dl_limit") == 0 ? ROW_WHERE "dl_limit = $3::bigint"
                                              : ROW_WHERE "up_limit = $3::bigint",
                 { ls }, 1 };
    return simple(req, resp, ctx, "rate-limits", extra, &w);
}

int
qbit_torrents_set_download_limit(http_request_t *req, http_response_t *resp, void *ctx)
{
    return set_rate_limit(req, resp, ctx, "dl_limit");
}

int
qbit_torrents_set_upload_limit(http_request_t *req, http_response_t *resp, void *ctx)
{
    return set_rate_limit(req, resp, ctx, "up_limit");
}

/* rate_limits: {"<hash as given>": limit} for each hash of `hashes`, as
 * qBittorrent answers: the limit in bytes/s, 0 for none, -1 for a hash it
 * does not know. */
static int
rate_limits(http_request_t *req, http_response_t *resp, void *ctx, const char *column)
{
    qbit_t *q = ctx;
    const char *v = qbit_param(req, resp, "hashes");
    if (v == NULL)
        return 0;
    char *sql = xasprintf("SELECT %s FROM downloads WHERE node = $1 AND hash = $2", column);
    json_object *o = json_object_new_object();
    char *copy = xstrdup(v);
    char *save = NULL;
    int rc = 0;
    for (char *id = strtok_r(copy, "|", &save); id != NULL; id = strtok_r(NULL, "|", &save)) {
        int64_t limit = -1;
        char md4[33];
        int found = strlen(id) <= 40 ? qbit_hash_lookup(q, resp, id, md4) : 0;
        if (found < 0) {
            rc = -1;
            break;
        }
        if (found > 0) {
            const char *p[] = { md4 };
            PGresult *r = qbit_query(q, resp, sql, 1, p);
            if (r == NULL) {
                rc = -1;
                break;
            }
            if (PQntuples(r) > 0)
                limit = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
            PQclear(r);
        }
        json_object_object_add(o, id, json_object_new_int64(limit));
    }
    if (rc == 0)
        qbit_json(resp, o);
    json_object_put(o);
    free(copy);
    free(sql);
    return 0;
}

int
qbit_torrents_download_limit(http_request_t *req, http_response_t *resp, void *ctx)
{
    return rate_limits(req, resp, ctx, "dl_limit");
}

int
qbit_torrents_upload_limit(http_request_t *req, http_response_t *resp, void *ctx)
{
    return rate_limits(req, resp, ctx, "up_limit");
}

/* ------------------------------------------------------------ tag list */

/* tag_list_change: each tag of the required `tags` (comma-separated,
 * trimmed, empty ones skipped) sent to the daemon with cmd, waiting for
 * the tags table (and the downloads) to show it; qBittorrent ignores a
 * tag it cannot take and answers 200 regardless. */
static int
tag_list_change(http_request_t *req, http_response_t *resp, void *ctx, const char *cmd,
                const char *wait_sql)
{
    qbit_t *q = ctx;
    const char *tv = qbit_param(req, resp, "tags");
    if (tv == NULL)
        return 0;
    char *copy = xstrdup(tv);
    char *save = NULL;
    for (char *one = strtok_r(copy, ",", &save); one != NULL; one = strtok_r(NULL, ",", &save)) {
        char *buf = NULL;
        const char *tag[1];
        int n = qbit_tags_parse(one, &buf, tag, 1);
        if (n == 1) {
            json_object *args = json_object_new_object();
            json_object *arr = json_object_new_array();
            json_object_array_add(arr, json_object_new_string(tag[0]));
            json_object_object_add(args, "tags", arr);
            mt_error_t *err = NULL;
            int rc = qbit_call(q, resp, cmd, args, NULL, &err);
            json_object_put(args);
            if (rc == CGICTL_ANSWERED) {
                free(buf);
                free(copy);
                return 0;
            }
            if (rc == CGICTL_OK) {
                const char *p[] = { tag[0] };
                qbit_wait(q, wait_sql, p, 1);
            } else {
                log_info("%s %s: %s", cmd, tag[0], err != NULL ? err->message : "refused");
            }
            mt_error_free(err);
        }
        free(buf);
    }
    free(copy);
    return qbit_text(resp, 200, NULL);
}

int
qbit_torrents_create_tags(http_request_t *req, http_response_t *resp, void *ctx)
{
    return tag_list_change(req, resp, ctx, "tag-create",
                           "SELECT 1 FROM tags WHERE node = $1 AND name = $2");
}

int
qbit_torrents_delete_tags(http_request_t *req, http_response_t *resp, void *ctx)
{
    return tag_list_change(req, resp, ctx, "tag-delete",
                           "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM tags WHERE node = $1"
                           " AND name = $2) AND NOT EXISTS (SELECT 1 FROM downloads"
                           " WHERE node = $1 AND $2 = ANY (tags))");
}

/* ---------------------------------------------- rename, location, checks */

/* one_hash: the download named by the required `hash` (its btih, padded
 * or bare MD4): 0 with md4 filled, or -1 after answering (400 missing,
 * 404 not a hash of ours or not one the caller may see, 403 one it may
 * see but not change: another account's without edit_all_downloads,
 * 503). */
static int
one_hash(qbit_t *q, http_request_t *req, http_response_t *resp, char md4[33])
{
    const char *h = qbit_param(req, resp, "hash");
    if (h == NULL)
        return -1;
    int found = strlen(h) > 40 ? 0 : qbit_hash_lookup(q, resp, h, md4);
    if (found < 0)
        return -1;
    if (found == 0 && q->owner != q->view_owner) {
        const char *edit = q->owner;
        q->owner = q->view_owner;
        found = qbit_hash_lookup(q, resp, h, md4);
        q->owner = edit;
        if (found < 0)
            return -1;
        if (found > 0) {
            qbit_text(resp, 403, "Forbidden");
            return -1;
        }
    }
    if (found == 0) {
        qbit_text(resp, 404, "Not Found");
        return -1;
    }
    return 0;
}

int
qbit_torrents_rename(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    if (qbit_param(req, resp, "hash") == NULL)
        return 0;
    const char *nv = qbit_param(req, resp, "name");
    if (nv == NULL)
        return 0;
    char *name = qbit_torrent_name(nv);
    if (*name == '\0') {
        free(name);
        return qbit_text(resp, 409, "Incorrect torrent name");
    }
    char md4[33];
    if (one_hash(q, req, resp, md4) != 0) {
        free(name);
        return 0;
    }
    json_object *args = json_object_new_object();
    json_object_object_add(args, "hash", json_object_new_string(md4));
    json_object_object_add(args, "name", json_object_new_string(name));
    mt_error_t *err = NULL;
    int rc = qbit_call(q, resp, "rename", args, NULL, &err);
    json_object_put(args);
    if (rc == CGICTL_OK) {
        const char *p[] = { md4, name };
        qbit_wait(q, ROW_WHERE "name = $3", p, 2);
        qbit_text(resp, 200, NULL);
    } else if (rc == CGICTL_REFUSED) {
        if (err != NULL && err->code == MT_ERR_NOT_FOUND)
            qbit_text(resp, 404, "Not Found");
        else if (err != NULL && err->code == MT_ERR_INVALID)
            qbit_text(resp, 409, "Incorrect torrent name");
        else /* a finished file that cannot be renamed on disk */
            qbit_text(resp, 409, err != NULL ? err->message : "Unable to rename");
    }
    mt_error_free(err);
    free(name);
    return 0;
}

typedef struct {
    const char *location;
    bool refused; /* the daemon found the location unusable: 409 */
} location_t;

static int
each_location(qbit_t *q, http_response_t *resp, const char *md4, void *arg)
{
    location_t *l = arg;
    json_object *args = json_object_new_object();
    json_object_object_add(args, "hash", json_object_new_string(md4));
    json_object_object_add(args, "location", json_object_new_string(l->location));
    json_object *res = NULL, *sp = NULL;
    mt_error_t *err = NULL;
    int rc = qbit_call(q, resp, "set-location", args, &res, &err);
    json_object_put(args);
    if (rc == CGICTL_OK && json_object_object_get_ex(res, "save_path", &sp)) {
        const char *p[] = { md4, json_object_get_string(sp) };
        qbit_wait(q, ROW_WHERE "save_path = $3", p, 2);
    } else if (rc == CGICTL_REFUSED && err != NULL && err->code != MT_ERR_NOT_FOUND) {
        log_info("setLocation %s: %s", md4, err->message);
        /* the directory itself (outside incoming_dir and download_roots,
         * not creatable) is qBittorrent's "Cannot make save path"; a file
         * that could not be moved is only logged, as qBittorrent logs a
         * failed move */
        l->refused = err->code == MT_ERR_INVALID;
    }
    json_object_put(res);
    mt_error_free(err);
    if (rc == CGICTL_ANSWERED)
        return rc;
    return l->refused ? CGICTL_ANSWERED : rc;
}

int
qbit_torrents_set_location(http_request_t *req, http_response_t *resp, void *ctx)
{
    if (qbit_param(req, resp, "hashes") == NULL)
        return 0;
    const char *lv = qbit_param(req, resp, "location");
    if (lv == NULL)
        return 0;
    char *loc = qbit_trimmed(lv);
    if (*loc == '\0') {
        free(loc);
        return qbit_text(resp, 400, "Save path cannot be empty");
    }
    location_t l = { loc, false };
    int rc = for_each_hash(ctx, req, resp, each_location, &l);
    free(loc);
    if (l.refused)
        return qbit_text(resp, 409, "Cannot make save path");
    if (rc != 0)
        return 0;
    return qbit_text(resp, 200, NULL);
}

int
qbit_torrents_recheck(http_request_t *req, http_response_t *resp, void *ctx)
{
    return simple(req, resp, ctx, "recheck", NULL, NULL);
}

int
qbit_torrents_reannounce(http_request_t *req, http_response_t *resp, void *ctx)
{
    return simple(req, resp, ctx, "reannounce", NULL, NULL);
}

/* torrents/filePrio: an eD2K download is one file, id 0. Priority 0 (do
 * not download) pauses it; 1 (normal), 6 (high) and 7 (maximum) set its
 * priority (normal, high, high) and resume it when it was paused. */
int
qbit_torrents_file_prio(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    if (qbit_param(req, resp, "hash") == NULL || qbit_param(req, resp, "id") == NULL)
        return 0;
    const char *pv = qbit_param(req, resp, "priority");
    if (pv == NULL)
        return 0;
    int prio;
    int pr = qbit_file_prio_parse(pv, &prio);
    if (pr == -1)
        return qbit_text(resp, 400, "Priority must be an integer");
    if (pr != 0)
        return qbit_text(resp, 400, "Priority is not valid");
    char md4[33];
    if (one_hash(q, req, resp, md4) != 0)
        return 0;
    const char *params[] = { md4 };
    PGresult *r = qbit_query(q, resp,
                              "SELECT state FROM downloads WHERE node = $1 AND hash = $2", 1,
                              params);
    if (r == NULL)
        return 0;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return qbit_text(resp, 404, "Not Found");
    }
    char *state = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    int bad = qbit_file_ids_check(http_request_param(req, "id"));
    if (bad != 0) {
        free(state);
        return qbit_text(resp, bad, bad == 400 ? "File IDs must be integers" : "File ID is not valid");
    }
    bool finished = strcmp(state, "completed") == 0 || strcmp(state, "missing") == 0 ||
                    strcmp(state, "checking") == 0 || strcmp(state, "error") == 0;
    bool paused = strcmp(state, "paused") == 0;
    free(state);
    int rc = CGICTL_OK;
    if (prio == 0) {
        static const wait_t w = { ROW_WHERE "state NOT IN ('downloading', 'stalled', 'queued')",
                                  { NULL, NULL }, 0 };
        if (!finished)
            rc = call_hash(q, resp, "pause", md4, NULL, &w);
    } else {
        json_object *extra = json_object_new_object();
        json_object_object_add(extra, "priority", json_object_new_string(prio > 1 ? "high" : "normal"));
        wait_t w = { ROW_WHERE "(priority = $3::int OR state = 'completed')",
                     { prio > 1 ? "1" : "0" }, 1 };
        rc = call_hash(q, resp, "priority", md4, extra, &w);
        json_object_put(extra);
        if (rc == CGICTL_OK && paused) {
            static const wait_t rw = { ROW_WHERE "state NOT IN ('paused', 'stopped')",
                                       { NULL, NULL }, 0 };
            rc = call_hash(q, resp, "resume", md4, NULL, &rw);
        }
    }
    if (rc == CGICTL_ANSWERED)
        return 0;
    return qbit_text(resp, 200, NULL);
}
