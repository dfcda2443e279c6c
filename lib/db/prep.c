/* prep.c: per-connection prepared statements for texts run again and
 * again (prep.h). The table hangs on the PGconn as libpq instance data of
 * an event procedure, so it lives and dies with the connection. */
#include "config.h"

#include "db/db.h"
#include "db/prep.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <libpq-events.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREP_SLOTS 128
#define PREP_NAME_MAX 24

typedef struct {
    uint64_t hash;
    char *sql; /* NULL: a free slot */
    bool prepared;
    unsigned id; /* the statement's name is "mt_<id>" */
} prep_slot_t;

typedef struct {
    prep_slot_t slot[PREP_SLOTS];
    unsigned next_id;
    unsigned evict; /* round robin over the slots for a new text */
} prep_table_t;

static void
table_forget(prep_table_t *t)
{
    for (size_t i = 0; i < PREP_SLOTS; i++) {
        free(t->slot[i].sql);
        t->slot[i] = (prep_slot_t){ 0 };
    }
}

static int
prep_events(PGEventId id, void *info, void *pass)
{
    (void)pass;
    if (id == PGEVT_CONNRESET) {
        PGconn *conn = ((PGEventConnReset *)info)->conn;
        prep_table_t *t = PQinstanceData(conn, prep_events);
        if (t != NULL)
            table_forget(t); /* a new session has none of them */
    } else if (id == PGEVT_CONNDESTROY) {
        PGconn *conn = ((PGEventConnDestroy *)info)->conn;
        prep_table_t *t = PQinstanceData(conn, prep_events);
        if (t != NULL) {
            table_forget(t);
            free(t);
        }
    }
    return 1;
}

/* table_of: conn's table, made and hung on it the first time; NULL when
 * libpq refuses the event procedure. */
static prep_table_t *
table_of(PGconn *conn)
{
    prep_table_t *t = PQinstanceData(conn, prep_events);
    if (t != NULL)
        return t;
    if (!PQregisterEventProc(conn, prep_events, "muleteer prepared statements", NULL))
        return NULL;
    t = xcalloc(1, sizeof *t);
    if (!PQsetInstanceData(conn, prep_events, t)) {
        free(t);
        return NULL;
    }
    return t;
}

/* FNV-1a over the text: a quick first test before strcmp. */
static uint64_t
text_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static prep_slot_t *
table_find(prep_table_t *t, const char *sql, uint64_t h)
{
    for (size_t i = 0; i < PREP_SLOTS; i++)
        if (t->slot[i].sql != NULL && t->slot[i].hash == h && strcmp(t->slot[i].sql, sql) == 0)
            return &t->slot[i];
    return NULL;
}

/* table_note: the text seen for the first time, in a free slot or in
 * place of a text seen once and never again (prepared ones stay). */
static void
table_note(prep_table_t *t, const char *sql, uint64_t h)
{
    for (size_t k = 0; k < PREP_SLOTS; k++) {
        prep_slot_t *s = &t->slot[(t->evict + k) % PREP_SLOTS];
        if (s->sql == NULL || !s->prepared) {
            t->evict = (unsigned)((t->evict + k + 1) % PREP_SLOTS);
            free(s->sql);
            *s = (prep_slot_t){ .hash = h, .sql = xstrdup(sql) };
            return;
        }
    }
}

static void
slot_name(const prep_slot_t *s, char name[PREP_NAME_MAX])
{
    snprintf(name, PREP_NAME_MAX, "mt_%u", s->id);
}

/* slot_prepare: s prepared on conn under a new name; -1 with err. */
static int
slot_prepare(PGconn *conn, prep_table_t *t, prep_slot_t *s, int nparams, mt_error_t **err)
{
    char name[PREP_NAME_MAX];
    s->id = ++t->next_id;
    slot_name(s, name);
    PGresult *r = PQprepare(conn, name, s->sql, nparams, NULL);
    int rc = db_check_result(conn, r, err);
    PQclear(r);
    s->prepared = rc == 0;
    return rc;
}

/* stale: a kept statement the server cannot run as it is: gone (26000,
 * after DISCARD ALL) or planned for another result type (0A000 "cached
 * plan must not change result type", after a migration). */
static bool
stale(const PGresult *r)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return state != NULL && (strcmp(state, "26000") == 0 || strcmp(state, "0A000") == 0);
}

PGresult *
db_query_prepared(PGconn *conn, const char *sql, int nparams, const char *const *params,
                  mt_error_t **err)
{
    if (db_is_broken(conn)) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "not connected to PostgreSQL");
        return NULL;
    }
    prep_table_t *t = table_of(conn);
    if (t == NULL)
        return db_query(conn, sql, nparams, params, err);
    uint64_t h = text_hash(sql);
    prep_slot_t *s = table_find(t, sql, h);
    if (s == NULL) {
        table_note(t, sql, h); /* once: as it is */
        return db_query(conn, sql, nparams, params, err);
    }
    if (!s->prepared && slot_prepare(conn, t, s, nparams, err) != 0)
        return NULL;
    char name[PREP_NAME_MAX];
    slot_name(s, name);
    PGresult *r = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_FATAL_ERROR && stale(r)) {
        log_debug("database: statement %s prepared again: %s", name,
                  PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
        PQclear(r);
        /* DEALLOCATE fails harmlessly when it is gone already; inside a
         * transaction the statement's error stands (the block is aborted) */
        bool in_block = PQtransactionStatus(conn) != PQTRANS_IDLE;
        char dealloc[PREP_NAME_MAX + 16];
        snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", name);
        if (!in_block)
            PQclear(PQexec(conn, dealloc));
        s->prepared = false;
        if (in_block) {
            mt_error_set(err, MT_ERR_DB, "a prepared statement went stale in a transaction");
            return NULL;
        }
        if (slot_prepare(conn, t, s, nparams, err) != 0)
            return NULL;
        slot_name(s, name);
        r = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
    }
    if (db_check_result(conn, r, err) != 0) {
        PQclear(r);
        return NULL;
    }
    return r;
}

int
db_prepared_count(PGconn *conn)
{
    prep_table_t *t = conn != NULL ? PQinstanceData(conn, prep_events) : NULL;
    int n = 0;
    for (size_t i = 0; t != NULL && i < PREP_SLOTS; i++)
        n += t->slot[i].prepared;
    return n;
}
