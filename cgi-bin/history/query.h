/* query.h: the pure rules of /api/history (cgi-bin/history): its
 * parameters read strictly against allow-lists, the SQL text built from
 * fixed fragments with every value bound, and CSV fields quoted (RFC 4180)
 * and made safe for spreadsheets. No PostgreSQL or FastCGI here, so
 * tests/unit/check_history links it alone. */
#ifndef MT_CGI_HISTORY_QUERY_H
#define MT_CGI_HISTORY_QUERY_H

#include <stdbool.h>

struct evbuffer;

#define HQ_LIMIT_DEFAULT 50
#define HQ_LIMIT_MAX 500
#define HQ_ALL_MAX 10000        /* GET /api/history/all */
#define HQ_SEARCH_MAX 256       /* bytes of search */

/* The parameters a request gave, read through get (NULL: absent). */
typedef const char *(*hq_get_fn)(void *ctx, const char *name);

/* One history request's filter, order and page. */
typedef struct {
    int limit;                  /* 1..HQ_LIMIT_MAX */
    long long offset;           /* >= 0 */
    const char *sort;           /* SQL expression from the allow-list */
    bool sort_nullable;         /* the column can be NULL: NULLS LAST */
    bool desc;
    char *pattern;              /* ILIKE pattern of search, escaped; NULL: none */
    const char *status;         /* an allowed status; NULL: any */
    char *category;             /* exact category; NULL: any */
    const char *owner;          /* only rows added by this name (added_by);
                                 * NULL: anyone's (not set by hq_parse) */
} hq_t;

/* What was wrong: the parameter and why (static strings). */
typedef struct {
    const char *param;
    const char *why;
} hq_error_t;

/* hq_parse: fills q from limit, offset, sortBy, sortDir, search, status
 * and category. 0, or -1 with err naming the parameter that is bad.
 * Free q's strings with hq_clear (also after a failure). */
int hq_parse(hq_t *q, hq_get_fn get, void *ctx, hq_error_t *err);
void hq_clear(hq_t *q);

/* hq_status_ok: status is one a history row can have. */
bool hq_status_ok(const char *status);

/* hq_like_pattern: "%s%" with s's \, % and _ escaped for ILIKE (its
 * default escape character \): s matches as a plain substring. Caller
 * frees. */
char *hq_like_pattern(const char *s);

/* The most values a query of hq_sql binds after the node ($1). */
#define HQ_MAX_PARAMS 6

typedef enum {
    HQ_SQL_PAGE,    /* the page: columns of HQ_COLUMNS, ordered, limit/offset */
    HQ_SQL_PAGE_TOTAL, /* the same and, last, the count of every match (a
                        * window: one scan, for filters an index narrows) */
    HQ_SQL_COUNT,   /* one row: how many rows match (from history_counts
                     * when there is no search: status and category) */
    HQ_SQL_EXPORT,  /* every matching row, ordered (a cursor reads it) */
} hq_sql_kind_t;

/* hq_sql: the statement of kind for q, over this node's rows ($1), the
 * values in params[] (*n of them, bound as $2...; pointers into q or
 * into buf). track_username: the search covers the user names too.
 * Returns a malloc'ed string. */
char *hq_sql(const hq_t *q, hq_sql_kind_t kind, bool track_username,
             const char *params[HQ_MAX_PARAMS], int *n, char buf[2][24]);

/* The columns of an entry, in this order, as text (times ISO 8601 UTC). */
enum {
    HQ_C_HASH, HQ_C_NAME, HQ_C_SIZE, HQ_C_STATUS, HQ_C_STARTED, HQ_C_COMPLETED,
    HQ_C_DELETED, HQ_C_USER, HQ_C_CATEGORY, HQ_C_DOWNLOADED, HQ_C_UPLOADED, HQ_C_RATIO,
    HQ_N_COLUMNS
};
extern const char HQ_COLUMNS[];
/* The entry's field names, in the order of the columns. */
extern const char *const hq_field_names[HQ_N_COLUMNS];

/* hq_csv_field: appends s (NULL: empty) as one CSV field: quoted when it
 * holds a comma, quote, CR or LF (quotes doubled, RFC 4180); a text
 * field starting with =, +, -, @, tab or CR is first prefixed with ' so
 * that no spreadsheet runs it as a formula (OWASP's CSV injection). */
void hq_csv_field(struct evbuffer *b, const char *s, bool text);

/* hq_csv_row: the fields of one entry (values[HQ_N_COLUMNS]), comma
 * separated, ending in CRLF; the header row when values is NULL. */
void hq_csv_row(struct evbuffer *b, const char *const *values);

#endif
