/* handlers.c: the /api/history routes: a filtered, sorted page of the
 * history and its total (kept until the history changes), the newest
 * 10,000 rows, counts per status, one hash's row, deleting a hash's
 * rows, and the filtered history as CSV.
 * Every value reaches SQL as a bound parameter (query.c builds the text
 * from fixed fragments); only this node's rows are read or deleted, and
 * of those only the caller's own (added_by) when it lacks
 * view_all_downloads (hist_t's owner). */
#include "config.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "common/cgicache.h"
#include "common/cgidb.h"
#include "common/cgifile.h"
#include "history/history.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

/* A CSV export reads its cursor 1,000 rows at a time. */
#define EXPORT_FETCH "FETCH 1000 FROM hist_csv"
/* A CSV at least this large goes to the web server as a file. */
#define EXPORT_FILE_MIN (256 * 1024)

static const char *
query_get(void *ctx, const char *name)
{
    return http_request_query(ctx, name);
}

static json_object *
str_or_null(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : json_object_new_string(PQgetvalue(r, row, col));
}

/* entry: one row of HQ_COLUMNS as the entry aMuTorrent reads. */
static json_object *
entry(PGresult *r, int row, bool track_username)
{
    json_object *e = json_object_new_object();
    for (int c = 0; c < HQ_N_COLUMNS; c++) {
        json_object *v;
        const char *s = PQgetvalue(r, row, c);
        if (c == HQ_C_SIZE || c == HQ_C_DOWNLOADED || c == HQ_C_UPLOADED)
            v = json_object_new_int64(strtoll(s, NULL, 10));
        else if (c == HQ_C_RATIO)
            v = json_object_new_double(strtod(s, NULL));
        else if (c == HQ_C_USER && !track_username)
            v = NULL;
        else
            v = str_or_null(r, row, c);
        json_object_object_add(e, hq_field_names[c], v);
    }
    /* the aliases aMuTorrent's history page reads (historyAPI.js adds
     * them to each entry): the same values under its names */
    static const struct {
        const char *alias;
        int col;
    } aliases[] = { { "name", HQ_C_NAME },
                    { "addedAt", HQ_C_STARTED },
                    { "completedAt", HQ_C_COMPLETED } };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        json_object_object_add(e, aliases[i].alias, str_or_null(r, row, aliases[i].col));
    json_object_object_add(e, "clientType", json_object_new_string("amule"));
    json_object_object_add(e, "networkType", json_object_new_string("ed2k"));
    return e;
}

static json_object *
entries(PGresult *r, bool track_username)
{
    json_object *a = json_object_new_array_ext(PQntuples(r));
    for (int i = 0; i < PQntuples(r); i++)
        json_object_array_add(a, entry(r, i, track_username));
    return a;
}

/* run: the statement of kind for q; NULL after answering 503. */
static PGresult *
run(hist_t *h, http_response_t *resp, const hq_t *q, hq_sql_kind_t kind)
{
    const char *params[HQ_MAX_PARAMS];
    char nums[2][24];
    int n;
    char *sql = hq_sql(q, kind, hist_track_username(h), params, &n, nums);
    PGresult *r = cgidb_query(h->env, resp, sql, n, params);
    free(sql);
    return r;
}

/* total_of: how many rows match q: the window count of page r when it
 * has one and a row, else a count query; -1 after answering 503. */
static long long
total_of(hist_t *h, http_response_t *resp, const hq_t *q, PGresult *r)
{
    if (PQnfields(r) > HQ_N_COLUMNS && PQntuples(r) > 0)
        return strtoll(PQgetvalue(r, 0, HQ_N_COLUMNS), NULL, 10);
    PGresult *count = run(h, resp, q, HQ_SQL_COUNT);
    if (count == NULL)
        return -1;
    long long n = strtoll(PQgetvalue(count, 0, 0), NULL, 10);
    PQclear(count);
    return n;
}

/* generation: the node's history change counter (sql/029), 0 when it has
 * none yet; -1 after answering 503. */
static long long
generation(hist_t *h, http_response_t *resp)
{
    PGresult *r = cgidb_query(h->env, resp,
                              "SELECT generation FROM history_changes WHERE node = $1", 0, NULL);
    if (r == NULL)
        return -1;
    long long g = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return g;
}

/* opt: a string that may be NULL, for a key: marked, with its length. */
static char *
opt(const char *s)
{
    return s != NULL ? xasprintf("=%zu:%s", strlen(s), s) : xstrdup("-");
}

/* page_key: what a page's answer depends on besides the rows: q
 * (including whose rows it may show: an account without
 * view_all_downloads sees its own) and track_username. */
static char *
page_key(const hq_t *q, bool track)
{
    char *pattern = opt(q->pattern), *status = opt(q->status), *category = opt(q->category),
         *owner = opt(q->owner);
    char *key = xasprintf("page|%d|%lld|%s|%d|%d|%s|%s|%s|%s", q->limit, q->offset, q->sort,
                          q->desc, track, pattern, status, category, owner);
    free(pattern);
    free(status);
    free(category);
    free(owner);
    return key;
}

/* render: the page's answer into resp; 0, or -1 after answering 503. */
static int
render(hist_t *h, http_response_t *resp, const hq_t *q, bool track)
{
    PGresult *r = run(h, resp, q, q->pattern != NULL ? HQ_SQL_PAGE_TOTAL : HQ_SQL_PAGE);
    if (r == NULL)
        return -1;
    long long total = total_of(h, resp, q, r);
    if (total < 0) {
        PQclear(r);
        return -1;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "entries", entries(r, track));
    json_object_object_add(o, "total", json_object_new_int64(total));
    json_object_object_add(o, "limit", json_object_new_int(q->limit));
    json_object_object_add(o, "offset", json_object_new_int64(q->offset));
    json_object_object_add(o, "trackUsername", json_object_new_boolean(track));
    PQclear(r);
    cgijson_ok(resp, o);
    json_object_put(o);
    return 0;
}

/* page: {"entries", "total", "limit", "offset", "trackUsername"} of q. A
 * search is answered by one statement (the trigram index finds the
 * matches once; the window counts them); without one, the page comes
 * from the started_at order and the total from a count of its own. The
 * answer is kept (common/cgicache.h) until a history row of the node
 * changes: the generation is read first, so a kept answer is never
 * older than its generation. */
static int
page(hist_t *h, http_response_t *resp, const hq_t *q)
{
    long long gen = generation(h, resp);
    if (gen < 0)
        return 0;
    bool track = hist_track_username(h);
    char *key = page_key(q, track);
    http_response_set_status(resp, 200);
    http_response_set_header(resp, "Content-Type", "application/json");
    if (!cgicache_answer(resp, key, gen) && render(h, resp, q, track) == 0)
        cgicache_store(resp, key, gen);
    free(key);
    return 0;
}

int
hist_list(http_request_t *req, http_response_t *resp, void *ctx)
{
    hq_t q;
    hq_error_t err;
    int rc = 0;
    if (hq_parse(&q, query_get, req, &err) != 0) {
        rc = cgijson_bad_param(resp, err.param, err.why);
    } else {
        q.owner = ((hist_t *)ctx)->owner;
        rc = page(ctx, resp, &q);
    }
    hq_clear(&q);
    return rc;
}

int
hist_all(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    hq_t q = { .limit = HQ_ALL_MAX, .sort = "started_at", .desc = true,
               .owner = ((hist_t *)ctx)->owner };
    return page(ctx, resp, &q);
}

int
hist_stats(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    hist_t *h = ctx;
    /* everyone's counts are kept by triggers (024, 028); one's own are
     * counted */
    const char *params[] = { h->owner };
    PGresult *r = h->owner == NULL
                      ? cgidb_query(h->env, resp,
                                    "SELECT status, sum(n) FROM history_counts WHERE node = $1"
                                    " GROUP BY status",
                                    0, NULL)
                      : cgidb_query(h->env, resp,
                                    "SELECT status, count(*) FROM history"
                                    " WHERE node = $1 AND added_by = $2 GROUP BY status",
                                    1, params);
    if (r == NULL)
        return 0;
    static const char *const names[] = { "downloading", "completed", "stopped", "deleted",
                                         "failed" };
    long long n[5] = { 0 }, total = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        long long c = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        total += c;
        for (int k = 0; k < 5; k++)
            if (strcmp(PQgetvalue(r, i, 0), names[k]) == 0)
                n[k] = c;
    }
    PQclear(r);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "total", json_object_new_int64(total));
    for (int k = 0; k < 5; k++)
        json_object_object_add(o, names[k], json_object_new_int64(n[k]));
    /* aMuTorrent's name for what is not over yet */
    json_object_object_add(o, "pending", json_object_new_int64(n[0] + n[2]));
    cgijson_ok(resp, o);
    json_object_put(o);
    return 0;
}

/* path_hash: the {hash} of the path in lower case (into out[33]); false
 * after answering 400 when it is not 32 hexadecimal digits. */
static bool
path_hash(http_request_t *req, http_response_t *resp, char out[33])
{
    const char *s = http_request_path_param(req, "hash");
    size_t i;
    for (i = 0; s != NULL && i < 32 && strchr("0123456789abcdefABCDEF", s[i]) != NULL &&
                s[i] != '\0';
         i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
    out[i] = '\0';
    if (i == 32 && s[32] == '\0')
        return true;
    cgijson_bad_param(resp, "hash", "hash must be 32 hexadecimal digits (an eD2K hash)");
    return false;
}

int
hist_get(http_request_t *req, http_response_t *resp, void *ctx)
{
    hist_t *h = ctx;
    char hash[33];
    if (!path_hash(req, resp, hash))
        return 0;
    char *sql = xasprintf("SELECT %s FROM history WHERE node = $1 AND hash = $2"
                          " AND ($3::text IS NULL OR added_by = $3)"
                          " ORDER BY started_at DESC, id DESC LIMIT 1", HQ_COLUMNS);
    const char *params[] = { hash, h->owner };
    PGresult *r = cgidb_query(h->env, resp, sql, 2, params);
    free(sql);
    if (r == NULL)
        return 0;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return cgijson_error(resp, 404, "not_found", "No history for this hash");
    }
    json_object *o = entry(r, 0, hist_track_username(h));
    PQclear(r);
    cgijson_ok(resp, o);
    json_object_put(o);
    return 0;
}

/* Deleting history means: every row of the hash on this node goes (a file
 * downloaded twice has two). The download itself, live or finished, is
 * not touched; a download still in the list writes a new row at its next
 * transition (docs/web-api.md). */
int
hist_delete(http_request_t *req, http_response_t *resp, void *ctx)
{
    hist_t *h = ctx;
    char hash[33];
    if (!path_hash(req, resp, hash))
        return 0;
    const char *params[] = { hash, h->owner };
    PGresult *r = cgidb_query(h->env, resp,
                              "DELETE FROM history WHERE node = $1 AND hash = $2"
                              " AND ($3::text IS NULL OR added_by = $3) RETURNING id",
                              2, params);
    if (r == NULL)
        return 0;
    int n = PQntuples(r);
    PQclear(r);
    if (n == 0)
        return cgijson_error(resp, 404, "not_found", "No history for this hash");
    log_info("history: %s deleted the %d history row(s) of %s", h->user, n, hash);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(true));
    json_object_object_add(o, "message", json_object_new_string("History entry deleted"));
    json_object_object_add(o, "deleted", json_object_new_int(n));
    cgijson_ok(resp, o);
    json_object_put(o);
    return 0;
}

/* ------------------------------------------------------------- export */

/* An export never holds the whole CSV: its rows come through a cursor,
 * EXPORT_FETCH at a time, and each batch goes on its way before the next
 * is read. The first EXPORT_FILE_MIN bytes are gathered first: an export
 * that ends within them is answered as it is (with a Content-Length).
 * A longer one goes, batch after batch, into a body file that lighttpd
 * sends (X-Sendfile, cgifile.h) when the web server takes them;
 * otherwise (nginx, Apache without X-Sendfile) it is streamed through
 * FastCGI (http_response_stream), without a Content-Length.
 *
 * A database error half-way never passes for a whole export: within the
 * first bytes, and on the file path (nothing is sent until the file is
 * complete), the answer is a 503; on the streamed path, where the
 * status has gone out, the answer is cut short (lib/http closes the
 * FastCGI connection unfinished; the client sees the connection fail,
 * never a final chunk). */

/* The state of one export: the read-only transaction holding its
 * cursor, open from export_begin until the last row or an error. */
typedef struct {
    PGconn *db;
    bool track_username;
    bool open;
} export_t;

/* csv_rows: appends r's rows as CSV (no user names unless tracked). */
static void
csv_rows(struct evbuffer *b, PGresult *r, bool track_username)
{
    const char *v[HQ_N_COLUMNS];
    for (int i = 0; i < PQntuples(r); i++) {
        for (int c = 0; c < HQ_N_COLUMNS; c++)
            v[c] = PQgetisnull(r, i, c) || (c == HQ_C_USER && !track_username)
                       ? NULL
                       : PQgetvalue(r, i, c);
        hq_csv_row(b, v);
    }
}

static bool
ok(PGresult *r, ExecStatusType want)
{
    bool good = PQresultStatus(r) == want;
    PQclear(r);
    return good;
}

/* export_fail: logs the database's error and rolls back. -1. */
static int
export_fail(export_t *x)
{
    log_warn("history export: database: %s", PQerrorMessage(x->db));
    PQclear(PQexec(x->db, "ROLLBACK"));
    x->open = false;
    return -1;
}

/* export_begin: the cursor over the rows of sql (over $1 = node and
 * params) opened in x. -1 on a database error (rolled back). */
static int
export_begin(export_t *x, hist_t *h, const char *sql, int n, const char *const *params)
{
    const char *all[HQ_MAX_PARAMS + 1] = { cgienv_node(h->env) };
    for (int i = 0; i < n; i++)
        all[i + 1] = params[i];
    x->track_username = hist_track_username(h);
    if (!ok(PQexec(x->db, "BEGIN READ ONLY"), PGRES_COMMAND_OK)) {
        log_warn("history export: database: %s", PQerrorMessage(x->db));
        return -1;
    }
    x->open = true;
    char *declare = xasprintf("DECLARE hist_csv NO SCROLL CURSOR FOR %s", sql);
    bool good = ok(PQexecParams(x->db, declare, n + 1, NULL, all, NULL, NULL, 0),
                   PGRES_COMMAND_OK);
    free(declare);
    return good ? 0 : export_fail(x);
}

/* export_next: the next batch of rows as CSV, appended to b. 1 when rows
 * came (more may follow), 0 when none were left (committed), -1 on a
 * database error (rolled back). */
static int
export_next(export_t *x, struct evbuffer *b)
{
    PGresult *r = PQexec(x->db, EXPORT_FETCH);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return export_fail(x);
    }
    int rows = PQntuples(r);
    csv_rows(b, r, x->track_username);
    PQclear(r);
    if (rows > 0)
        return 1;
    x->open = false;
    if (!ok(PQexec(x->db, "COMMIT"), PGRES_COMMAND_OK))
        return export_fail(x);
    return 0;
}

/* export_free: ends x's transaction if still open (a client gone
 * half-way) and frees x; for http_response_stream. */
static void
export_free(void *ctx)
{
    export_t *x = ctx;
    if (x->open)
        PQclear(PQexec(x->db, "ROLLBACK"));
    free(x);
}

/* export_part: the streamed body's next part (http_body_fn). */
static int
export_part(void *ctx, struct evbuffer *out)
{
    int rc = export_next(ctx, out);
    return rc > 0 ? HTTP_BODY_MORE : rc == 0 ? HTTP_BODY_DONE : HTTP_BODY_FAILED;
}

/* export_to_file: the rest of x's rows after b's bytes into a body file;
 * its path, or NULL with *failed when the database or the file failed
 * (nothing answered yet), or NULL alone when no file can be made (the
 * rows are all still to be read). */
static char *
export_to_file(export_t *x, struct evbuffer *b, bool *failed)
{
    *failed = false;
    cgifile_t *f = cgifile_open();
    if (f == NULL)
        return NULL;
    int rc = 1;
    while (rc > 0) {
        if (cgifile_append(f, b) != 0) {
            PQclear(PQexec(x->db, "ROLLBACK"));
            x->open = false;
            rc = -1;
            break;
        }
        rc = export_next(x, b);
    }
    if (rc == 0 && cgifile_append(f, b) == 0)
        return cgifile_finish(f);
    cgifile_abandon(f);
    *failed = true;
    return NULL;
}

/* The filtered history (the list's parameters; limit and offset are
 * ignored) as CSV, in the list's order. */
int
hist_export(http_request_t *req, http_response_t *resp, void *ctx)
{
    hist_t *h = ctx;
    const char *format = http_request_query(req, "format");
    if (format != NULL && strcmp(format, "csv") != 0)
        return cgijson_bad_param(resp, "format", "format must be csv");
    hq_t q;
    hq_error_t err;
    if (hq_parse(&q, query_get, req, &err) != 0) {
        hq_clear(&q);
        return cgijson_bad_param(resp, err.param, err.why);
    }
    q.owner = h->owner;
    PGconn *db = cgidb_conn(h->env, resp);
    if (db == NULL) {
        hq_clear(&q);
        return 0;
    }
    const char *params[HQ_MAX_PARAMS];
    char nums[2][24];
    int n;
    char *sql = hq_sql(&q, HQ_SQL_EXPORT, hist_track_username(h), params, &n, nums);
    export_t *x = xcalloc(1, sizeof *x);
    x->db = db;
    /* rc as export_next's: 1 while rows may follow */
    int rc = export_begin(x, h, sql, n, params) == 0 ? 1 : -1;
    free(sql);
    hq_clear(&q);
    /* the first bytes, gathered */
    struct evbuffer *b = http_response_body(resp);
    hq_csv_row(b, NULL);
    while (rc > 0 && evbuffer_get_length(b) < EXPORT_FILE_MIN)
        rc = export_next(x, b);
    char *path = NULL;
    bool failed = rc < 0;
    if (rc > 0)
        path = export_to_file(x, b, &failed);
    if (failed) {
        export_free(x);
        return cgijson_error(resp, 503, "unavailable", CGIDB_UNAVAILABLE);
    }
    http_response_set_status(resp, 200);
    http_response_set_header(resp, "Content-Type", "text/csv; charset=utf-8; header=present");
    http_response_set_header(resp, "Content-Disposition",
                             "attachment; filename=\"muleteer-history.csv\"");
    http_response_set_header(resp, "X-Content-Type-Options", "nosniff");
    http_response_set_header(resp, "Cache-Control", "no-store");
    if (path != NULL) {
        export_free(x);
        cgifile_answer(resp, path);
        cgifile_release(path, clock_mono_ms()); /* lingers until lighttpd has opened it */
    } else if (x->open) {
        http_response_stream(resp, export_part, x, export_free); /* takes x */
    } else {
        export_free(x);
    }
    return 0;
}
