/* finished_import.c: the SQL of the one-time import of completed download
 * rows (finished_import.h), and the result shared between the database
 * worker and the loop. */
#include "config.h"

#include "daemon/store/finished_import.h"
#include "db/db.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

/* Shared with the database thread, which may run the job after the loop
 * has let go of it. */
struct store_read {
    atomic_uint refs;
    pthread_mutex_t lock;
    bool done, failed; /* under lock */
    char *text;        /* under lock: the result */
};

static void
read_unref(store_read_t *r)
{
    if (r == NULL || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r->text);
    free(r);
}

typedef struct {
    store_read_t *r;
    char *node;
} import_job_t;

static void
import_job_free(void *arg)
{
    import_job_t *j = arg;
    read_unref(j->r);
    free(j->node);
    free(j);
}

/* The completed rows, shaped as finished.json records. */
static const char IMPORT_SQL[] =
    "SELECT coalesce(json_agg(json_build_object('hash', hash, 'name', name, 'size', size,"
    "  'category', category, 'tags', tags, 'ratio_limit', ratio_limit,"
    "  'seeding_time_limit', seeding_time_limit, 'force_start', force_start,"
    "  'priority', priority, 'added_at', floor(extract(epoch FROM added_at))::bigint,"
    "  'completed_at', coalesce(floor(extract(epoch FROM completed_at))::bigint, 0),"
    "  'last_activity', coalesce(floor(extract(epoch FROM last_activity))::bigint, 0),"
    "  'save_path', save_path, 'content_path', content_path,"
    "  'added_by', NULLIF(added_by, ''), 'added_via', NULLIF(added_via, ''), 'btih', btih,"
    "  'downloaded', size, 'uploaded', uploaded_bytes) ORDER BY completed_at, hash), '[]')::text"
    " FROM downloads WHERE node = $1 AND state = 'completed'";

static int
import_job_run(PGconn *conn, void *arg, mt_error_t **err)
{
    import_job_t *j = arg;
    const char *params[] = { j->node };
    PGresult *res = db_query(conn, IMPORT_SQL, 1, params, err);
    if (res == NULL) {
        if (!db_is_broken(conn)) { /* not the connection: it will not work better later */
            pthread_mutex_lock(&j->r->lock);
            j->r->failed = true;
            pthread_mutex_unlock(&j->r->lock);
        }
        return -1;
    }
    char *text = PQntuples(res) == 1 ? xstrdup(PQgetvalue(res, 0, 0)) : xstrdup("[]");
    PQclear(res);
    pthread_mutex_lock(&j->r->lock);
    free(j->r->text);
    j->r->text = text;
    j->r->done = true;
    pthread_mutex_unlock(&j->r->lock);
    return 0;
}

store_read_t *
store_completed_rows(dbw_t *db, const char *node)
{
    store_read_t *r = xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    atomic_init(&r->refs, 2); /* the caller's and the job's */
    import_job_t *j = xcalloc(1, sizeof *j);
    j->r = r;
    j->node = xstrdup(node);
    dbw_submit(db, "finished_import", import_job_run, j, import_job_free);
    return r;
}

store_read_state_t
store_read_poll(store_read_t *r, char **text)
{
    pthread_mutex_lock(&r->lock);
    store_read_state_t st = r->failed ? STORE_READ_FAILED
                            : r->done ? STORE_READ_DONE
                                      : STORE_READ_PENDING;
    if (st == STORE_READ_DONE) {
        *text = r->text != NULL ? r->text : xstrdup("[]");
        r->text = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    return st;
}

void
store_read_free(store_read_t *r)
{
    read_unref(r);
}
