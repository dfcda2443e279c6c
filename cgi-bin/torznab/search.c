/* search.c: t=search, tvsearch and movie: the request's eD2K expression,
 * an identical recent search reused (the cache: the searches table), else
 * a new one asked of the daemon, its results awaited with LISTEN/NOTIFY
 * up to torznab_search_timeout, filtered by the request's class and paged
 * into the RSS feed; a request without words answers the most recent
 * results and finished downloads instead (docs/torznab.md). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ed2k/search_expr.h"
#include "torznab/torznab.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

/* Once results came, the answer goes when no new one came for this long
 * (the server answered; other servers' UDP answers trickle in after). */
#define TZ_QUIET_MS 3000
/* The most results of one search read for one answer. */
#define TZ_MAX_ROWS "5000"
/* The NOTIFY channel the daemon's search writes signal (payload: the
 * search id; daemon/store/search_tables.c). */
#define TZ_CHANNEL "search_results"

typedef struct {
    tz_class_t cls;
    uint64_t min_size;
} tz_filter_t;

/* min_size: the configured minimum for a class, in bytes. */
static uint64_t
min_size(tz_t *t, tz_class_t c)
{
    const conf_t *conf = cgienv_conf(t->env);
    long long mib = c == TZ_CLASS_TV      ? conf_get_int(conf, "torznab_min_size_tv")
                    : c == TZ_CLASS_MOVIE ? conf_get_int(conf, "torznab_min_size_movie")
                    : c == TZ_CLASS_VIDEO ? conf_get_int(conf, "torznab_min_size_tv")
                                          : 0;
    return (uint64_t)mib * 1024 * 1024;
}

/* class_type_ok: for the feed without a search: a row fits the class by
 * its name (TV: an episode or a date; movies: neither) or its eD2K type
 * (audio, PC, books). */
static bool
class_type_ok(tz_class_t c, const char *name, const char *file_type)
{
    if (c == TZ_CLASS_TV)
        return tz_name_is_episode(name);
    if (c == TZ_CLASS_MOVIE)
        return !tz_name_is_episode(name);
    static const char *const names[] = {
        [TZ_CLASS_AUDIO] = "Audio", [TZ_CLASS_PC] = "Pro", [TZ_CLASS_BOOK] = "Doc",
    };
    if (c != TZ_CLASS_AUDIO && c != TZ_CLASS_PC && c != TZ_CLASS_BOOK)
        return true;
    if (file_type == NULL || *file_type == '\0')
        return false;
    if (c == TZ_CLASS_PC && (strcasecmp(file_type, "Iso") == 0 || strcasecmp(file_type, "Arc") == 0))
        return true;
    return strcasecmp(file_type, names[c]) == 0;
}

/* feed: the rows of r (hash, name, size, sources, complete_sources,
 * file_type, first seen as epoch seconds) that the filter keeps, from the
 * request's offset, at most its limit. */
static int
feed(tz_t *t, http_response_t *resp, PGresult *r, const tz_filter_t *f, bool by_type)
{
    tz_feed_t *fd = tz_feed_new("Muleteer", "eD2K search results from Muleteer");
    if (fd == NULL)
        return tz_error(resp, 500, TZ_ERR_UNAVAILABLE, "Internal error building the feed");
    unsigned kept = 0, shown = 0;
    int rc = 0;
    for (int i = 0; r != NULL && i < PQntuples(r) && shown < t->q.limit && rc == 0; i++) {
        const char *name = PQgetvalue(r, i, 1);
        const char *type = PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5);
        uint64_t size = strtoull(PQgetvalue(r, i, 2), NULL, 10);
        if (!tz_result_wanted(f->cls, name, size, f->min_size) ||
            (by_type && !class_type_ok(f->cls, name, type)))
            continue;
        if (kept++ < t->q.offset)
            continue;
        tz_item_t it = {
            .md4 = PQgetvalue(r, i, 0),
            .name = name,
            .size = size,
            .sources = atoi(PQgetvalue(r, i, 3)),
            .complete_sources = atoi(PQgetvalue(r, i, 4)),
            .first_seen = (time_t)strtoll(PQgetvalue(r, i, 6), NULL, 10),
        };
        it.n_cats = tz_item_categories(f->cls, name, type, it.cats);
        rc = tz_feed_add(fd, &it);
        shown++;
    }
    tz_doc_t doc = { 0 };
    if (rc != 0 || tz_feed_finish(fd, &doc) != 0) {
        if (rc != 0)
            tz_feed_free(fd);
        return tz_error(resp, 500, TZ_ERR_UNAVAILABLE, "Internal error building the feed");
    }
    rc = tz_answer_doc(resp, 200, &doc);
    tz_doc_clear(&doc);
    return rc;
}

/* ------------------------------------------------------------- recent */

/* recent: the feed of a request without words (the Arrs' RSS sync and Test
 * button): the newest results of every search and the finished downloads,
 * newest first, one row per hash. Only the newest TZ_MAX_ROWS of each are
 * read (index search_results_recent), never every result kept. */
static int
recent(tz_t *t, http_response_t *resp, const tz_filter_t *f)
{
    char min[24];
    snprintf(min, sizeof min, "%" PRIu64, f->min_size);
    const char *params[] = { min };
    PGresult *r = cgidb_query(
        t->env, resp,
        "SELECT hash, name, size, sources, complete_sources, file_type, seen FROM ("
        " SELECT DISTINCT ON (hash) hash, name, size, sources, complete_sources, file_type, seen"
        " FROM ("
        "  (SELECT hash::text AS hash, name, size, sources, complete_sources, file_type,"
        "   extract(epoch FROM first_seen)::bigint AS seen"
        "  FROM search_results WHERE node = $1 AND size >= $2::bigint"
        "  ORDER BY first_seen DESC LIMIT " TZ_MAX_ROWS ")"
        "  UNION ALL"
        "  (SELECT hash, name, size, GREATEST(sources, 1), GREATEST(complete_sources, 1), NULL,"
        "   extract(epoch FROM completed_at)::bigint"
        "  FROM downloads WHERE node = $1 AND completed_at IS NOT NULL AND size >= $2::bigint"
        "  ORDER BY completed_at DESC LIMIT " TZ_MAX_ROWS ")"
        " ) AS x ORDER BY hash, seen DESC"
        ") AS y ORDER BY seen DESC, hash LIMIT " TZ_MAX_ROWS,
        1, params);
    if (r == NULL)
        return 0;
    int rc = feed(t, resp, r, f, true);
    PQclear(r);
    return rc;
}

/* -------------------------------------------------------------- cache */

/* normalized: the daemon's readable form of expr (what the searches table
 * keeps in normalized), or NULL after answering 400 for an expression the
 * language refuses. */
static char *
normalized(http_response_t *resp, const char *expr)
{
    ed2k_search_t *s = NULL;
    mt_error_t *err = NULL;
    if (ed2k_search_parse(expr, &s, &err) != 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "Incorrect parameter (q: %s)", err->message);
        mt_error_free(err);
        tz_error(resp, 400, TZ_ERR_BAD, msg);
        return NULL;
    }
    char *n = ed2k_search_to_string(s);
    ed2k_search_free(s);
    return n;
}

/* cached: the newest global search of the same normalized expression
 * started within torznab_cache_time: 1 with its id and whether it is
 * still running; 0 when there is none; -1 after answering 503. */
static int
cached(tz_t *t, http_response_t *resp, const char *norm, char id[24], bool *running)
{
    char secs[24];
    snprintf(secs, sizeof secs, "%lld", conf_get_int(cgienv_conf(t->env), "torznab_cache_time"));
    if (strcmp(secs, "0") == 0)
        return 0;
    const char *params[] = { norm, secs };
    PGresult *r = cgidb_query(t->env, resp,
                              "SELECT id, state FROM searches WHERE node = $1 AND normalized = $2"
                              " AND scope = 'global' AND state <> 'failed'"
                              " AND started_at > now() - make_interval(secs => $3::int)"
                              " ORDER BY id DESC LIMIT 1",
                              2, params);
    if (r == NULL)
        return -1;
    int found = PQntuples(r) == 1;
    if (found) {
        snprintf(id, 24, "%s", PQgetvalue(r, 0, 0));
        *running = strcmp(PQgetvalue(r, 0, 1), "running") == 0;
    }
    PQclear(r);
    return found;
}

/* ------------------------------------------------------------- daemon */

/* start: asks the daemon for a global search of expr: 0 with its id, -1
 * after answering (503 code 900 when there is no daemon or no network,
 * 400 when it refused the expression). */
static int
start(tz_t *t, http_response_t *resp, const char *expr, char id[24])
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "query", json_object_new_string(expr));
    json_object_object_add(args, "scope", json_object_new_string("global"));
    json_object *res = NULL;
    mt_error_t *err = NULL;
    int rc = cgictl_call(t->env, resp, "search", args, &res, &err);
    json_object_put(args);
    if (rc == CGICTL_ANSWERED)
        return -1;
    if (rc == CGICTL_REFUSED) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s", err != NULL ? err->message : "search refused");
        int status = cgictl_refusal_status(err);
        mt_error_free(err);
        if (status == 400)
            tz_error(resp, 400, TZ_ERR_BAD, msg);
        else
            tz_error(resp, 503, TZ_ERR_UNAVAILABLE, msg);
        return -1;
    }
    json_object *jid = NULL;
    if (!json_object_object_get_ex(res, "id", &jid) || !json_object_is_type(jid, json_type_int)) {
        json_object_put(res);
        tz_error(resp, 503, TZ_ERR_UNAVAILABLE, "The daemon's answer has no search id");
        return -1;
    }
    snprintf(id, 24, "%" PRId64, json_object_get_int64(jid));
    json_object_put(res);
    return 0;
}

/* progress: the search's state (running while its row is not written yet)
 * and how many of its results are at least min bytes. -1 on a database
 * error. */
static int
progress(PGconn *db, const char *node, const char *id, const char *min, bool *running,
         long *count)
{
    const char *params[] = { node, id, min };
    PGresult *r = PQexecParams(db,
                               "SELECT (SELECT state FROM searches WHERE node = $1 AND id = $2::bigint),"
                               " (SELECT count(*) FROM search_results WHERE node = $1"
                               "  AND search_id = $2::bigint AND size >= $3::bigint)",
                               3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_warn("torznab: %s", PQerrorMessage(db));
        PQclear(r);
        return -1;
    }
    *running = PQgetisnull(r, 0, 0) || strcmp(PQgetvalue(r, 0, 0), "running") == 0;
    *count = strtol(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
    return 0;
}

static int
exec_ok(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

/* wait_results: waits until the search ended, or results came and none
 * for TZ_QUIET_MS (at once for a cached search that has results), or the
 * deadline passed; woken by the daemon's NOTIFY
 * (checked once a second as well, in case one is missed). Errors only
 * shorten the wait: what is there is answered. */
static void
wait_results(tz_t *t, const char *id, uint64_t min_bytes, int64_t deadline, bool cached)
{
    PGconn *db = cgienv_db(t->env, NULL);
    if (db == NULL || exec_ok(db, "LISTEN " TZ_CHANNEL) != 0)
        return;
    char min[24];
    snprintf(min, sizeof min, "%" PRIu64, min_bytes);
    const char *node = cgienv_node(t->env);
    long last = -1;
    int64_t changed = clock_mono_ms();
    for (;;) {
        bool running = true;
        long count = 0;
        if (progress(db, node, id, min, &running, &count) != 0)
            break;
        int64_t now = clock_mono_ms();
        if (count != last) {
            last = count;
            changed = now;
        }
        /* a cached search that has results: an earlier request waited */
        if (!running || now >= deadline || (count > 0 && (cached || now - changed >= TZ_QUIET_MS)))
            break;
        int64_t until = deadline;
        if (count > 0 && changed + TZ_QUIET_MS < until)
            until = changed + TZ_QUIET_MS;
        if (now + 1000 < until)
            until = now + 1000;
        struct pollfd pfd = { .fd = PQsocket(db), .events = POLLIN };
        if (poll(&pfd, 1, (int)(until - now)) < 0 && errno != EINTR)
            break;
        if (PQconsumeInput(db) == 0)
            break;
        PGnotify *n;
        while ((n = PQnotifies(db)) != NULL)
            PQfreemem(n);
    }
    exec_ok(db, "UNLISTEN " TZ_CHANNEL);
    PGnotify *n;
    while ((n = PQnotifies(db)) != NULL)
        PQfreemem(n);
}

/* answer_search: the feed of search id's results. */
static int
answer_search(tz_t *t, http_response_t *resp, const char *id, const tz_filter_t *f)
{
    char min[24];
    snprintf(min, sizeof min, "%" PRIu64, f->min_size);
    const char *params[] = { id, min };
    PGresult *r = cgidb_query(
        t->env, resp,
        "SELECT hash, name, size, sources, complete_sources, file_type,"
        " extract(epoch FROM first_seen)::bigint FROM search_results"
        " WHERE node = $1 AND search_id = $2::bigint AND size >= $3::bigint"
        " ORDER BY first_seen, hash LIMIT " TZ_MAX_ROWS,
        2, params);
    if (r == NULL)
        return 0;
    int rc = feed(t, resp, r, f, false);
    PQclear(r);
    return rc;
}

/* --------------------------------------------------------------- entry */

int
tz_search(tz_t *t, http_request_t *req, http_response_t *resp)
{
    (void)req;
    tz_filter_t f = { .cls = tz_class_of(&t->q) };
    f.min_size = min_size(t, f.cls);
    char *expr = tz_expression(&t->q, f.cls, f.min_size);
    if (expr == NULL)
        return recent(t, resp, &f);
    char *norm = normalized(resp, expr);
    if (norm == NULL) {
        free(expr);
        return 0;
    }
    char id[24];
    bool running = false;
    int found = cached(t, resp, norm, id, &running);
    int rc = 0;
    if (found < 0)
        goto out;
    if (found == 0 && t->q.offset > 0) {
        /* a later page of a search nobody made: never a new search */
        rc = feed(t, resp, NULL, &f, false);
        goto out;
    }
    if (found == 0) {
        if (start(t, resp, expr, id) != 0)
            goto out;
        running = true;
    }
    if (running) {
        long long secs = conf_get_int(cgienv_conf(t->env), "torznab_search_timeout");
        wait_results(t, id, f.min_size, clock_mono_ms() + secs * 1000, found == 1);
    }
    rc = answer_search(t, resp, id, &f);
out:
    free(norm);
    free(expr);
    return rc;
}
