/* sync.c: sync/maindata, the poll of qBittorrent's WebUI and mobile
 * clients: everything (full_update) for rid 0 or a rid no longer known,
 * otherwise only what changed since the client's rid. Any FastCGI process
 * may answer a client's next poll, so what each answer gave is kept in
 * PostgreSQL (sql/013_sync_maindata.sql): each torrent's JSON as versions
 * in force over a range of answers (a version stored as its changes from a
 * whole one), and per rid the small parts whole. One
 * answer, under a per-node lock: render the current state, store the
 * torrents that changed as new versions under a new rid, then answer from
 * the stored versions (docs/qbittorrent-api.md, "sync/maindata"). */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbit/qbit.h"
#include "qbit/syncdiff.h"
#include "util/log.h"
#include "util/xalloc.h"

/* The advisory lock that makes one answer at a time per node (the second
 * key is hashtext(node)); docs/schema.md lists the keys in use. */
#define SYNC_LOCK_CLASS "1836413795"
/* How long an answer waits for that lock before a 503. */
#define SYNC_LOCK_TIMEOUT "5s"
/* The rids kept per node: the newest SYNC_KEEP_RIDS, none older than
 * SYNC_KEEP_SECONDS; an older rid gets a full update. */
#define SYNC_KEEP_RIDS "64"
#define SYNC_KEEP_SECONDS "300"
/* The torrents are rendered again only when a downloads row of the node
 * changed since the last rendering (download_changes), or it is older
 * than this: a state that the clock alone changes (a seeding-time limit
 * reached) shows within that time. */
#define SYNC_RERENDER_SECONDS "10"

/* Fields that move with the clock alone: they do not make a torrent
 * changed, and go out with its next real change (qBittorrent, too, sends
 * a torrent again only when libtorrent reports its status changed). */
static const char *const clock_keys[] = { "time_active", "seeding_time", "seen_complete", NULL };

#define PLAIN (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* ------------------------------------------------ what changed, stored */

typedef struct {
    char id[41];
    char fp[QBIT_SYNC_FP_LEN + 1];
    bool seen;
} stored_t;

/* A torrent whose rendering is a new version of one in force. */
typedef struct {
    char id[41];
    char fp[QBIT_SYNC_FP_LEN + 1];
    char *body;
    size_t len;
    char *owner;
} fresh_t;

/* The torrents' part of one answer: the versions in force before it
 * (sorted by id) and what it changes. */
typedef struct {
    stored_t *stored;
    size_t n_stored;
    struct evbuffer *closed; /* a text[] literal's members: versions replaced or removed */
    size_t n_closed;
    struct evbuffer *added; /* a JSON array's members: {hash, fp, base, body} of new versions */
    size_t n_added;
    fresh_t *changed; /* new versions of torrents in force, stored against their bases */
    size_t n_changed, cap_changed;
    char generation[24]; /* download_changes' generation the versions reflect */
    char rendered_at[64]; /* when they were rendered: "" for now */
} plan_t;

static int
stored_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const stored_t *)elem)->id);
}

static void
plan_close(plan_t *p, const char *id)
{
    evbuffer_add_printf(p->closed, "%s%s", p->n_closed++ > 0 ? "," : "", id);
}

/* text_of: a buffer's bytes between prefix and suffix, as a new string. */
static char *
text_of(const char *prefix, struct evbuffer *b, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix), n = evbuffer_get_length(b);
    char *s = xmalloc(pl + n + sl + 1);
    memcpy(s, prefix, pl);
    evbuffer_copyout(b, s + pl, n);
    memcpy(s + pl + n, suffix, sl + 1);
    return s;
}

/* plan_add: a new version of the download owner added; base is the seq
 * of the whole version body holds the changes from, or NULL when body is
 * whole. */
static void
plan_add(plan_t *p, const char *id, const char *fp, const char *base, const char *body,
         size_t len, const char *owner)
{
    json_object *o = json_object_new_string(owner);
    evbuffer_add_printf(p->added, "%s{\"hash\":\"%s\",\"fp\":\"%s\",\"base\":%s,\"owner\":%s,"
                        "\"body\":",
                        p->n_added++ > 0 ? "," : "", id, fp, base != NULL ? base : "null",
                        json_object_to_json_string_ext(o, PLAIN));
    json_object_put(o);
    evbuffer_add(p->added, body, len);
    evbuffer_add(p->added, "}", 1);
}

/* plan_torrent: a qbit_torrent_fn: one current torrent against its
 * version in force. */
static void
plan_torrent(const char *id, const char *json, size_t len, const char *owner, void *arg)
{
    plan_t *p = arg;
    char fp[QBIT_SYNC_FP_LEN + 1];
    if (qbit_sync_fingerprint(json, len, clock_keys, fp) != 0) {
        log_warn("sync/maindata: torrent %s: not a JSON object", id);
        return;
    }
    stored_t *s = bsearch(id, p->stored, p->n_stored, sizeof *s, stored_cmp);
    if (s == NULL) {
        plan_add(p, id, fp, NULL, json, len, owner);
        return;
    }
    s->seen = true;
    if (strcmp(s->fp, fp) == 0)
        return;
    plan_close(p, id);
    if (p->n_changed == p->cap_changed) {
        p->cap_changed = p->cap_changed ? 2 * p->cap_changed : 64;
        p->changed = xrealloc(p->changed, p->cap_changed * sizeof *p->changed);
    }
    fresh_t *f = &p->changed[p->n_changed++];
    snprintf(f->id, sizeof f->id, "%s", id);
    memcpy(f->fp, fp, sizeof f->fp);
    f->body = xmalloc(len);
    memcpy(f->body, json, len);
    f->len = len;
    f->owner = xstrdup(owner);
}

static int
fresh_cmp(const void *a, const void *b)
{
    return strcmp(((const fresh_t *)a)->id, ((const fresh_t *)b)->id);
}

/* plan_changes: the new versions of the changed torrents, each as its
 * changes from the base of the version it replaces (or whole, when those
 * would be more than half of it); -1 after answering 503. */
static int
plan_changes(qbit_t *q, http_response_t *resp, plan_t *p)
{
    if (p->n_changed == 0)
        return 0;
    qsort(p->changed, p->n_changed, sizeof *p->changed, fresh_cmp);
    struct evbuffer *ids = evbuffer_new();
    for (size_t i = 0; i < p->n_changed; i++)
        evbuffer_add_printf(ids, "%s%s", i > 0 ? "," : "", p->changed[i].id);
    char *lit = text_of("{", ids, "}");
    evbuffer_free(ids);
    const char *params[] = { lit };
    PGresult *r = cgidb_query(q->env, resp,
                              "SELECT c.hash, c.base_seq, b.body FROM sync_torrents c"
                              " JOIN sync_torrents b ON b.node = c.node AND b.hash = c.hash"
                              "  AND b.from_seq = c.base_seq"
                              " WHERE c.node = $1 AND c.to_seq IS NULL AND c.hash = ANY($2::text[])"
                              " ORDER BY c.hash COLLATE \"C\"",
                              1, params);
    free(lit);
    if (r == NULL)
        return -1;
    struct evbuffer *diff = evbuffer_new();
    int row = 0, rows = PQntuples(r);
    for (size_t i = 0; i < p->n_changed; i++) {
        fresh_t *f = &p->changed[i];
        while (row < rows && strcmp(PQgetvalue(r, row, 0), f->id) < 0)
            row++;
        bool based = row < rows && strcmp(PQgetvalue(r, row, 0), f->id) == 0;
        evbuffer_drain(diff, evbuffer_get_length(diff));
        if (based && qbit_sync_flat_diff(PQgetvalue(r, row, 2), (size_t)PQgetlength(r, row, 2),
                                         f->body, f->len, diff) >= 0 &&
            evbuffer_get_length(diff) <= f->len / 2) {
            char *d = text_of("", diff, "");
            plan_add(p, f->id, f->fp, PQgetvalue(r, row, 1), d, strlen(d), f->owner);
            free(d);
        } else {
            plan_add(p, f->id, f->fp, NULL, f->body, f->len, f->owner);
        }
    }
    evbuffer_free(diff);
    PQclear(r);
    return 0;
}

static void
plan_free(plan_t *p)
{
    for (size_t i = 0; i < p->n_changed; i++) {
        free(p->changed[i].body);
        free(p->changed[i].owner);
    }
    free(p->changed);
    free(p->stored);
    if (p->closed != NULL)
        evbuffer_free(p->closed);
    if (p->added != NULL)
        evbuffer_free(p->added);
}

/* load_stored: the fingerprints of the versions in force; -1 after
 * answering 503. */
static int
load_stored(qbit_t *q, http_response_t *resp, plan_t *p)
{
    PGresult *r = cgidb_query(q->env, resp,
                              "SELECT hash, fp FROM sync_torrents WHERE node = $1 AND to_seq IS NULL"
                              " ORDER BY hash COLLATE \"C\"",
                              0, NULL);
    if (r == NULL)
        return -1;
    p->n_stored = (size_t)PQntuples(r);
    p->stored = xcalloc(p->n_stored ? p->n_stored : 1, sizeof *p->stored);
    for (size_t i = 0; i < p->n_stored; i++) {
        snprintf(p->stored[i].id, sizeof p->stored[i].id, "%s", PQgetvalue(r, (int)i, 0));
        snprintf(p->stored[i].fp, sizeof p->stored[i].fp, "%s", PQgetvalue(r, (int)i, 1));
    }
    PQclear(r);
    return 0;
}

/* store: a new answer with the versions plan changes and the small
 * parts: its seq (and its rid into *rid), or -1 after answering 503. */
static long long
store(qbit_t *q, http_response_t *resp, plan_t *p, const char *cats, const char *tags,
      const char *state, long long *rid)
{
    for (size_t i = 0; i < p->n_stored; i++)
        if (!p->stored[i].seen)
            plan_close(p, p->stored[i].id);
    char *closed = text_of("{", p->closed, "}");
    char *added = text_of("[", p->added, "]");
    const char *params[] = { closed,
                             added,
                             cats,
                             tags,
                             state,
                             p->generation,
                             *p->rendered_at != '\0' ? p->rendered_at : NULL };
    PGresult *r = cgidb_query(
        q->env, resp,
        "WITH n AS (SELECT s AS seq, ((s - 1) % 2147483647 + 1)::integer AS rid"
        "  FROM nextval('sync_seq') s),"
        " closed AS (UPDATE sync_torrents t SET to_seq = n.seq FROM n"
        "  WHERE t.node = $1 AND t.to_seq IS NULL AND t.hash = ANY($2::text[]) RETURNING 1),"
        " added AS (INSERT INTO sync_torrents (node, hash, from_seq, fp, base_seq, body,"
        "  added_by) SELECT $1, x.hash, n.seq, x.fp, coalesce(x.base, n.seq), x.body,"
        "  coalesce(x.owner, '') FROM n,"
        "  json_to_recordset($3::json) AS x(hash text, fp text, base bigint, owner text,"
        "  body json)"
        "  RETURNING 1),"
        " r AS (INSERT INTO sync_rids (seq, rid, node, categories, tags, server_state,"
        "  generation, rendered_at) SELECT n.seq, n.rid, $1, $4::json, $5::json, $6::json,"
        "  $7::bigint, coalesce($8::timestamptz, now()) FROM n RETURNING seq, rid)"
        " SELECT r.seq, r.rid, (SELECT count(*) FROM closed), (SELECT count(*) FROM added) FROM r",
        7, params);
    free(closed);
    free(added);
    if (r == NULL)
        return -1;
    long long seq = PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    *rid = seq >= 0 ? strtoll(PQgetvalue(r, 0, 1), NULL, 10) : -1;
    PQclear(r);
    if (seq < 0)
        cgienv_answer(q->env, resp, 503, CGIDB_UNAVAILABLE);
    return seq;
}

/* forget: the answers past the retention (seq is this one's) and the
 * versions no kept answer can need (replaced before the oldest, and no
 * base of a kept one); -1 after answering 503. */
static int
forget(qbit_t *q, http_response_t *resp, const char *seq)
{
    const char *params[] = { seq };
    PGresult *r = cgidb_query(
        q->env, resp,
        "WITH gone AS (DELETE FROM sync_rids WHERE node = $1 AND seq <> $2::bigint"
        "  AND (created_at < now() - interval '" SYNC_KEEP_SECONDS " seconds'"
        "   OR seq < (SELECT seq FROM sync_rids WHERE node = $1"
        "             ORDER BY seq DESC OFFSET " SYNC_KEEP_RIDS " - 1 LIMIT 1))"
        "  RETURNING seq),"
        " m AS (SELECT min(seq) AS seq FROM sync_rids"
        "  WHERE node = $1 AND seq NOT IN (SELECT seq FROM gone)),"
        " old AS (DELETE FROM sync_torrents t USING m WHERE t.node = $1 AND t.to_seq <= m.seq"
        "  AND NOT EXISTS (SELECT 1 FROM sync_torrents u WHERE u.node = $1 AND u.hash = t.hash"
        "   AND u.base_seq = t.from_seq AND u.from_seq <> t.from_seq"
        "   AND (u.to_seq IS NULL OR u.to_seq > m.seq))"
        "  RETURNING 1)"
        " SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM old)",
        1, params);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}

/* ------------------------------------------------------------- answers */

/* The state of this answer and, for a delta, of the client's rid. */
typedef struct {
    long long rid, seq; /* this answer's */
    long long client;   /* the seq of the client's rid, when it is kept */
    json_object *cats, *tags, *state;          /* now */
    json_object *old_cats, *old_tags, *old_state; /* at the client's rid; NULL: full */
    qbit_sync_version_t *v; /* full: the versions in force; delta: those changed since */
    size_t n;
    char *texts; /* what v's bodies point into */
} answer_t;

static void
answer_free(answer_t *a)
{
    json_object_put(a->cats);
    json_object_put(a->tags);
    json_object_put(a->state);
    json_object_put(a->old_cats);
    json_object_put(a->old_tags);
    json_object_put(a->old_state);
    for (size_t i = 0; i < a->n; i++)
        free((char *)a->v[i].id);
    free(a->v);
    free(a->texts);
}

/* add_member: `"key":value` after a comma unless it is the first. */
static void
add_member(struct evbuffer *b, bool *first, const char *key, const char *value, size_t len)
{
    evbuffer_add_printf(b, "%s\"%s\":", *first ? "" : ",", key);
    evbuffer_add(b, value, len);
    *first = false;
}

/* add_json: add_member of a json-c value unless it is empty; puts it. */
static void
add_json(struct evbuffer *b, bool *first, const char *key, json_object *o)
{
    bool empty = json_object_is_type(o, json_type_array) ? json_object_array_length(o) == 0
                                                          : json_object_object_length(o) == 0;
    if (!empty) {
        const char *s = json_object_to_json_string_ext(o, PLAIN);
        add_member(b, first, key, s, strlen(s));
    }
    json_object_put(o);
}

/* write_full: everything, as qBittorrent 4.5.2's transcript shows it
 * (every key present, trackers empty). */
static void
write_full(struct evbuffer *b, const answer_t *a)
{
    evbuffer_add_printf(b, "{\"categories\":%s,\"full_update\":true,\"rid\":%lld,",
                        json_object_to_json_string_ext(a->cats, PLAIN), a->rid);
    evbuffer_add_printf(b, "\"server_state\":%s,", json_object_to_json_string_ext(a->state, PLAIN));
    evbuffer_add_printf(b, "\"tags\":%s,\"torrents\":{",
                        json_object_to_json_string_ext(a->tags, PLAIN));
    for (size_t i = 0; i < a->n; i++) {
        evbuffer_add_printf(b, "%s\"%s\":", i > 0 ? "," : "", a->v[i].id);
        evbuffer_add(b, a->v[i].body, a->v[i].len);
    }
    evbuffer_add_printf(b, "},\"trackers\":{}}");
}

/* write_delta: what changed since the client's rid, each key only when
 * it has something, in qBittorrent's (alphabetical) order. */
static void
write_delta(struct evbuffer *b, const answer_t *a)
{
    bool first = true;
    evbuffer_add(b, "{", 1);
    add_json(b, &first, "categories", qbit_sync_diff_members(a->old_cats, a->cats));
    add_json(b, &first, "categories_removed", qbit_sync_diff_keys(a->old_cats, a->cats));
    char rid[24];
    int rl = snprintf(rid, sizeof rid, "%lld", a->rid);
    add_member(b, &first, "rid", rid, (size_t)rl);
    add_json(b, &first, "server_state", qbit_sync_diff_members(a->old_state, a->state));
    json_object *added, *removed;
    qbit_sync_diff_list(a->old_tags, a->tags, &added, &removed);
    add_json(b, &first, "tags", added);
    add_json(b, &first, "tags_removed", removed);

    struct evbuffer *t = evbuffer_new(), *r = evbuffer_new();
    size_t nr;
    if (qbit_sync_torrents_delta(a->v, a->n, t, r, &nr) > 0) {
        evbuffer_add(b, ",\"torrents\":{", 13);
        evbuffer_add_buffer(b, t);
        evbuffer_add(b, "}", 1);
    }
    if (nr > 0) {
        evbuffer_add(b, ",\"torrents_removed\":[", 21);
        evbuffer_add_buffer(b, r);
        evbuffer_add(b, "]", 1);
    }
    evbuffer_free(t);
    evbuffer_free(r);
    evbuffer_add(b, "}", 1);
}

/* ------------------------------------------------------------ the route */

/* client_rid: the rid parameter as qBittorrent reads it (QString::toInt:
 * anything else is 0, which asks for everything). */
static long long
client_rid(http_request_t *req)
{
    const char *s = http_request_param(req, "rid");
    if (s == NULL || *s == '\0')
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return errno != 0 || *end != '\0' || v < 0 || v > 2147483647 ? 0 : v;
}

/* load_client: the small parts at the client's rid, when it is known,
 * into a->old_*; -1 after answering 503. */
static int
load_client(qbit_t *q, http_response_t *resp, long long rid, answer_t *a)
{
    if (rid <= 0)
        return 0;
    char r_s[24], s_s[24];
    snprintf(r_s, sizeof r_s, "%lld", rid);
    snprintf(s_s, sizeof s_s, "%lld", a->seq);
    const char *params[] = { r_s, s_s };
    /* an earlier answer's: a client that guessed this one's rid has
     * nothing of it */
    PGresult *r = cgidb_query(q->env, resp,
                              "SELECT seq, categories, tags, server_state FROM sync_rids"
                              " WHERE node = $1 AND rid = $2::integer AND seq < $3::bigint"
                              " ORDER BY seq DESC LIMIT 1",
                              2, params);
    if (r == NULL)
        return -1;
    if (PQntuples(r) == 1) {
        a->client = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        a->old_cats = json_tokener_parse(PQgetvalue(r, 0, 1));
        a->old_tags = json_tokener_parse(PQgetvalue(r, 0, 2));
        a->old_state = json_tokener_parse(PQgetvalue(r, 0, 3));
    }
    PQclear(r);
    if (a->old_cats == NULL || a->old_tags == NULL || a->old_state == NULL) {
        json_object_put(a->old_cats);
        json_object_put(a->old_tags);
        json_object_put(a->old_state);
        a->old_cats = a->old_tags = a->old_state = NULL;
    }
    return 0;
}

/* versions_of: a->v from the rows of r: the hash, with_current ? whether
 * the version is in force : nothing, then its base's body and its own
 * changes (NULL when it is whole), made whole again into a->texts. */
static void
versions_of(PGresult *r, bool with_current, answer_t *a)
{
    int c = with_current ? 2 : 1;
    a->n = (size_t)PQntuples(r);
    a->v = xcalloc(a->n ? a->n : 1, sizeof *a->v);
    size_t *at = xcalloc(a->n ? a->n : 1, sizeof *at);
    struct evbuffer *texts = evbuffer_new();
    for (size_t i = 0; i < a->n; i++) {
        int row = (int)i;
        const char *base = PQgetvalue(r, row, c);
        size_t blen = (size_t)PQgetlength(r, row, c);
        at[i] = evbuffer_get_length(texts);
        if (PQgetisnull(r, row, c + 1) ||
            qbit_sync_flat_merge(base, blen, PQgetvalue(r, row, c + 1),
                                 (size_t)PQgetlength(r, row, c + 1), texts) != 0)
            evbuffer_add(texts, base, blen);
        a->v[i].len = evbuffer_get_length(texts) - at[i];
        a->v[i].current = with_current && PQgetvalue(r, row, 1)[0] == 't';
        a->v[i].id = xstrdup(PQgetvalue(r, row, 0));
    }
    size_t total = evbuffer_get_length(texts);
    a->texts = xmalloc(total ? total : 1);
    evbuffer_remove(texts, a->texts, total);
    evbuffer_free(texts);
    for (size_t i = 0; i < a->n; i++)
        a->v[i].body = a->texts + at[i];
    free(at);
}

/* load_torrents: the versions the answer is made of: all those in force
 * (full), or those that changed since the client's rid, each with the
 * body of its base; only those of the caller's own downloads when it is
 * limited to them (q->owner: a version keeps who added its download, so
 * one that went is removed for its owner alone); -1 after answering 503. */
static int
load_torrents(qbit_t *q, http_response_t *resp, answer_t *a)
{
#define VERSIONS_SQL(cols)                                                                    \
    "SELECT v.hash, " cols "b.body, CASE WHEN v.base_seq <> v.from_seq THEN v.body END"       \
    " FROM sync_torrents v JOIN sync_torrents b ON b.node = v.node AND b.hash = v.hash"     \
    "  AND b.from_seq = v.base_seq WHERE v.node = $1"                                        \
    "  AND ($2::text IS NULL OR v.added_by = $2::text)"
    bool full = a->old_state == NULL;
    char r_s[24];
    snprintf(r_s, sizeof r_s, "%lld", a->client);
    const char *params[] = { q->owner, r_s };
    PGresult *r =
        full ? cgidb_query(q->env, resp, VERSIONS_SQL("") " AND v.to_seq IS NULL", 1, params)
             : cgidb_query(q->env, resp,
                           VERSIONS_SQL("v.to_seq IS NULL, ")
                           " AND ((v.to_seq IS NULL AND v.from_seq > $3::bigint)"
                           "  OR (v.from_seq <= $3::bigint AND v.to_seq > $3::bigint))"
                           " ORDER BY v.hash COLLATE \"C\"",
                           2, params);
#undef VERSIONS_SQL
    if (r == NULL)
        return -1;
    versions_of(r, !full, a);
    PQclear(r);
    return 0;
}

/* tx: runs a transaction-control statement; -1 after answering 503.
 * COMMIT needs the transaction still open: a connection that broke and
 * was made again on the way has run the rest without the lock. */
static int
tx(qbit_t *q, http_response_t *resp, const char *sql)
{
    PGconn *db = cgidb_conn(q->env, resp);
    if (db == NULL)
        return -1;
    if (strcmp(sql, "COMMIT") == 0 && PQtransactionStatus(db) != PQTRANS_INTRANS) {
        log_warn("sync/maindata: the transaction was lost on the way");
        cgienv_answer(q->env, resp, 503, CGIDB_UNAVAILABLE);
        return -1;
    }
    PGresult *r = PQexec(db, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        log_warn("database: %s: %s", sql, PQerrorMessage(db));
    PQclear(r);
    if (!ok) {
        cgienv_answer(q->env, resp, 503, CGIDB_UNAVAILABLE);
        return -1;
    }
    return 0;
}

/* unchanged: 1 when the torrents need not be rendered again (the
 * generation and the time of the last rendering are kept in p), 0 when
 * they must be (the generation they will reflect in p), -1 after
 * answering 503. Read under the lock: the last rid is the last answer. */
static int
unchanged(qbit_t *q, http_response_t *resp, plan_t *p)
{
    PGresult *r = cgidb_query(
        q->env, resp,
        "SELECT coalesce((SELECT generation FROM download_changes WHERE node = $1), 0),"
        " s.generation, s.rendered_at > now() - interval '" SYNC_RERENDER_SECONDS " seconds',"
        " s.rendered_at"
        " FROM (SELECT 1) one LEFT JOIN (SELECT generation, rendered_at FROM sync_rids"
        "  WHERE node = $1 ORDER BY seq DESC LIMIT 1) s ON true",
        0, NULL);
    if (r == NULL)
        return -1;
    snprintf(p->generation, sizeof p->generation, "%s", PQgetvalue(r, 0, 0));
    bool same = !PQgetisnull(r, 0, 1) && strcmp(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1)) == 0 &&
                PQgetvalue(r, 0, 2)[0] == 't';
    if (same)
        snprintf(p->rendered_at, sizeof p->rendered_at, "%s", PQgetvalue(r, 0, 3));
    PQclear(r);
    return same ? 1 : 0;
}

/* build: the answer's state under the node's lock, inside the caller's
 * transaction; -1 after answering 503. */
static int
build(qbit_t *q, http_response_t *resp, long long client, answer_t *a)
{
    PGresult *r = cgidb_query(q->env, resp,
                              "SELECT set_config('lock_timeout', '" SYNC_LOCK_TIMEOUT "', true),"
                              " pg_advisory_xact_lock(" SYNC_LOCK_CLASS ", hashtext($1))",
                              0, NULL);
    if (r == NULL)
        return -1;
    PQclear(r);
    a->cats = qbit_categories_object(q, resp);
    a->tags = a->cats != NULL ? qbit_tags_array(q, resp) : NULL;
    if (a->tags == NULL)
        return -1;
    plan_t p = { .closed = evbuffer_new(), .added = evbuffer_new() };
    int same = unchanged(q, resp, &p);
    if (same < 0 ||
        (same == 0 && (load_stored(q, resp, &p) != 0 ||
                       qbit_maindata_torrents(q, resp, plan_torrent, &p) != 0 ||
                       plan_changes(q, resp, &p) != 0))) {
        plan_free(&p);
        return -1;
    }
    char *cats = xstrdup(json_object_to_json_string_ext(a->cats, PLAIN));
    char *tags = xstrdup(json_object_to_json_string_ext(a->tags, PLAIN));
    a->seq = store(q, resp, &p, cats, tags, json_object_to_json_string_ext(a->state, PLAIN),
                   &a->rid);
    free(cats);
    free(tags);
    plan_free(&p);
    if (a->seq < 0)
        return -1;
    char seq[24];
    snprintf(seq, sizeof seq, "%lld", a->seq);
    if (load_client(q, resp, client, a) != 0 || load_torrents(q, resp, a) != 0 ||
        forget(q, resp, seq) != 0)
        return -1;
    return 0;
}

int
qbit_sync_maindata(http_request_t *req, http_response_t *resp, void *ctx)
{
    qbit_t *q = ctx;
    answer_t a = { 0 };
    /* the server state asks the daemon too: before the lock */
    a.state = qbit_transfer_object(q, resp);
    if (a.state == NULL)
        return 0;
    json_object_object_add(a.state, "queueing", json_object_new_boolean(true));
    json_object_object_add(a.state, "refresh_interval", json_object_new_int(1500));
    if (tx(q, resp, "BEGIN") != 0) {
        answer_free(&a);
        return 0;
    }
    if (build(q, resp, client_rid(req), &a) != 0 || tx(q, resp, "COMMIT") != 0) {
        mt_error_t *err = NULL;
        PGconn *db = cgienv_db(q->env, &err); /* the 503 is answered */
        mt_error_free(err);
        if (db != NULL)
            PQclear(PQexec(db, "ROLLBACK"));
        answer_free(&a);
        return 0;
    }
    qbit_common_headers(resp);
    http_response_set_status(resp, 200);
    http_response_set_header(resp, "Content-Type", "application/json");
    if (a.old_state == NULL)
        write_full(http_response_body(resp), &a);
    else
        write_delta(http_response_body(resp), &a);
    answer_free(&a);
    return 0;
}
