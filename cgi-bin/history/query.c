/* query.c: /api/history's parameters against allow-lists, its SQL from
 * fixed fragments with bound values, and its CSV fields (query.h). */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "history/query.h"
#include "util/xalloc.h"

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define HQ_SEARCH_EXPR "(name || E'\\n' || hash || E'\\n' || added_by)"
#define RATIO "(CASE WHEN downloaded_bytes > 0 THEN uploaded_bytes::float8 / downloaded_bytes" \
              " ELSE 0 END)"

const char HQ_COLUMNS[] =
    "hash, name, size, status, " ISO("started_at") ", " ISO("completed_at") ", "
    ISO("deleted_at") ", added_by, category, downloaded_bytes, uploaded_bytes, " RATIO;

const char *const hq_field_names[HQ_N_COLUMNS] = {
    "hash", "filename", "size", "status", "started_at", "completed_at", "deleted_at",
    "username", "category", "downloaded", "uploaded", "ratio",
};

/* The columns sortBy may name (aMuTorrent's aliases too), and nothing else
 * ever reaches ORDER BY. */
static const struct {
    const char *name;
    const char *sql;
    bool nullable;
} sort_keys[] = {
    { "started_at", "started_at", false },     { "addedAt", "started_at", false },
    { "completed_at", "completed_at", true },  { "completedAt", "completed_at", true },
    { "filename", "name", false },             { "name", "name", false },
    { "size", "size", false },                 { "status", "status", false },
    { "username", "added_by", false },         { "category", "category", true },
    { "downloaded", "downloaded_bytes", false }, { "uploaded", "uploaded_bytes", false },
    { "ratio", RATIO, false },                 { "hash", "hash", false },
};

static const char *const statuses[] = { "downloading", "completed", "stopped", "deleted",
                                        "failed" };

bool
hq_status_ok(const char *status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (status != NULL && strcmp(status, statuses[i]) == 0)
            return true;
    return false;
}

static int
fail(hq_error_t *err, const char *param, const char *why)
{
    err->param = param;
    err->why = why;
    return -1;
}

/* number: a plain decimal in lo..hi (no sign, blanks or suffix). */
static bool
number(const char *s, long long lo, long long hi, long long *out)
{
    if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 18)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

char *
hq_like_pattern(const char *s)
{
    size_t n = strlen(s);
    char *p = xmalloc(2 * n + 3), *o = p;
    *o++ = '%';
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '%' || *s == '_')
            *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '%';
    *o = '\0';
    return p;
}

static int
parse_sort(hq_t *q, const char *by, const char *dir, hq_error_t *err)
{
    if (by != NULL && *by != '\0') {
        size_t i, n = sizeof sort_keys / sizeof sort_keys[0];
        for (i = 0; i < n && strcmp(by, sort_keys[i].name) != 0; i++)
            ;
        if (i == n)
            return fail(err, "sortBy",
                        "sortBy must be one of started_at, completed_at, filename, size, "
                        "status, username, category, downloaded, uploaded, ratio, hash");
        q->sort = sort_keys[i].sql;
        q->sort_nullable = sort_keys[i].nullable;
    }
    if (dir != NULL && *dir != '\0') {
        if (strcasecmp(dir, "asc") == 0)
            q->desc = false;
        else if (strcasecmp(dir, "desc") == 0)
            q->desc = true;
        else
            return fail(err, "sortDir", "sortDir must be asc or desc");
    }
    return 0;
}

static int
parse_filter(hq_t *q, const char *search, const char *status, const char *category,
             hq_error_t *err)
{
    if (search != NULL && *search != '\0') {
        if (strlen(search) > HQ_SEARCH_MAX)
            return fail(err, "search", "search is longer than 256 bytes");
        for (const unsigned char *c = (const unsigned char *)search; *c != '\0'; c++)
            if (*c < 0x20 || *c == 0x7f)
                return fail(err, "search", "search holds a control character");
        q->pattern = hq_like_pattern(search);
    }
    if (status != NULL && *status != '\0') {
        if (!hq_status_ok(status))
            return fail(err, "status",
                        "status must be downloading, completed, stopped, deleted or failed");
        for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
            if (strcmp(status, statuses[i]) == 0)
                q->status = statuses[i];
    }
    if (category != NULL && *category != '\0')
        q->category = xstrdup(category);
    return 0;
}

int
hq_parse(hq_t *q, hq_get_fn get, void *ctx, hq_error_t *err)
{
    *q = (hq_t){ .limit = HQ_LIMIT_DEFAULT, .sort = "started_at", .desc = true };
    const char *s = get(ctx, "limit");
    long long v;
    if (s != NULL) {
        if (!number(s, 1, HQ_LIMIT_MAX, &v))
            return fail(err, "limit", "limit must be a whole number from 1 to 500");
        q->limit = (int)v;
    }
    s = get(ctx, "offset");
    if (s != NULL) {
        if (!number(s, 0, 1000000000000LL, &v))
            return fail(err, "offset", "offset must be a whole number, 0 or more");
        q->offset = v;
    }
    if (parse_sort(q, get(ctx, "sortBy"), get(ctx, "sortDir"), err) != 0)
        return -1;
    return parse_filter(q, get(ctx, "search"), get(ctx, "status"), get(ctx, "category"), err);
}

void
hq_clear(hq_t *q)
{
    free(q->pattern);
    free(q->category);
    q->pattern = NULL;
    q->category = NULL;
}

/* where: the filter's clauses after "WHERE node = $1", each value bound. */
static void
where(struct evbuffer *sql, const hq_t *q, bool track_username, const char **params, int *n)
{
    if (q->pattern != NULL) {
        /* the expression of history_search_trgm_idx (023): the three
         * columns joined by a newline, which a search never holds, so a
         * match is a match in one column */
        params[*n] = q->pattern;
        int p = ++*n + 1;
        evbuffer_add_printf(sql, " AND " HQ_SEARCH_EXPR " ILIKE $%d", p);
        if (!track_username)
            evbuffer_add_printf(sql, " AND (name ILIKE $%d OR hash ILIKE $%d)", p, p);
    }
    if (q->status != NULL) {
        params[*n] = q->status;
        evbuffer_add_printf(sql, " AND status = $%d", ++*n + 1);
    }
    if (q->category != NULL) {
        params[*n] = q->category;
        evbuffer_add_printf(sql, " AND category = $%d", ++*n + 1);
    }
    if (q->owner != NULL) {
        params[*n] = q->owner;
        evbuffer_add_printf(sql, " AND added_by = $%d", ++*n + 1);
    }
}

/* steal: sql's text as a string; frees sql. */
static char *
steal(struct evbuffer *sql)
{
    size_t len = evbuffer_get_length(sql);
    char *s = xmalloc(len + 1);
    evbuffer_remove(sql, s, len);
    s[len] = '\0';
    evbuffer_free(sql);
    return s;
}

char *
hq_sql(const hq_t *q, hq_sql_kind_t kind, bool track_username,
       const char *params[HQ_MAX_PARAMS], int *n, char buf[2][24])
{
    struct evbuffer *sql = evbuffer_new();
    *n = 0;
    if (kind == HQ_SQL_COUNT && q->pattern == NULL && q->owner == NULL) {
        /* kept by triggers (024, 028): no million rows counted */
        evbuffer_add_printf(sql, "SELECT coalesce(sum(n), 0)::bigint FROM history_counts"
                                 " WHERE node = $1");
        if (q->status != NULL) {
            params[*n] = q->status;
            evbuffer_add_printf(sql, " AND status = $%d", ++*n + 1);
        }
        if (q->category != NULL) {
            params[*n] = q->category;
            evbuffer_add_printf(sql, " AND category = $%d", ++*n + 1);
        }
        return steal(sql);
    }
    evbuffer_add_printf(sql, "SELECT %s%s FROM history WHERE node = $1",
                        kind == HQ_SQL_COUNT ? "count(*)" : HQ_COLUMNS,
                        kind == HQ_SQL_PAGE_TOTAL ? ", count(*) OVER ()" : "");
    where(sql, q, track_username, params, n);
    if (kind == HQ_SQL_COUNT)
        return steal(sql);
    const char *dir = q->desc ? "DESC" : "ASC";
    evbuffer_add_printf(sql, " ORDER BY %s %s%s, id %s", q->sort, dir,
               q->sort_nullable ? " NULLS LAST" : "", dir);
    if (kind == HQ_SQL_PAGE || kind == HQ_SQL_PAGE_TOTAL) {
        snprintf(buf[0], 24, "%d", q->limit);
        snprintf(buf[1], 24, "%lld", q->offset);
        params[*n] = buf[0];
        params[*n + 1] = buf[1];
        evbuffer_add_printf(sql, " LIMIT $%d OFFSET $%d", *n + 2, *n + 3);
        *n += 2;
    }
    return steal(sql);
}

/* ---------------------------------------------------------------- CSV */

void
hq_csv_field(struct evbuffer *b, const char *s, bool text)
{
    if (s == NULL)
        s = "";
    bool guard = text && (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' ||
                          *s == '\r');
    bool quote = guard || strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        evbuffer_add(b, s, strlen(s));
        return;
    }
    evbuffer_add(b, guard ? "\"'" : "\"", guard ? 2 : 1);
    for (const char *p = s; *p != '\0';) {
        const char *e = strchr(p, '"');
        size_t len = e != NULL ? (size_t)(e - p) + 1 : strlen(p);
        evbuffer_add(b, p, len);
        if (e != NULL)
            evbuffer_add(b, "\"", 1); /* the quote doubled */
        p += len;
    }
    evbuffer_add(b, "\"", 1);
}

void
hq_csv_row(struct evbuffer *b, const char *const *values)
{
    for (int i = 0; i < HQ_N_COLUMNS; i++) {
        if (i > 0)
            evbuffer_add(b, ",", 1);
        bool text = i == HQ_C_NAME || i == HQ_C_USER || i == HQ_C_CATEGORY;
        hq_csv_field(b, values != NULL ? values[i] : hq_field_names[i], text);
    }
    evbuffer_add(b, "\r\n", 2);
}
