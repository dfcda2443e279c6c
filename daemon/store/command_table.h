/* command_table.h: the daemon's SQL on the commands table (048,
 * docs/cluster.md): claiming this node's queued commands in order, the
 * answers, the rows a previous run left claimed, retention. Run by the
 * relay's thread (relay.h) on its own connection. */
#ifndef MT_DAEMON_STORE_COMMAND_TABLE_H
#define MT_DAEMON_STORE_COMMAND_TABLE_H

#include <libpq-fe.h>

#include "util/error.h"

/* A claimed command. */
typedef struct {
    long long id;
    char *command;
    char *args; /* a JSON object's text */
} cmdtab_row_t;

/* cmdtab_claim: expires node's queued rows past their deadline, then
 * claims the oldest queued one for run (a string naming this run of the
 * daemon). 1 with *row filled (free with cmdtab_row_clear), 0 when none
 * is queued, -1 with err. Rows locked by another claimer are skipped. */
int cmdtab_claim(PGconn *conn, const char *node, const char *run, cmdtab_row_t *row,
                 mt_error_t **err);
void cmdtab_row_clear(cmdtab_row_t *row);

/* cmdtab_answer: writes row id's answer: result (a JSON text) makes it
 * done; without one, error_code and error_message make it failed. Only a
 * row still claimed by run is answered (0 either way; -1 with err). */
int cmdtab_answer(PGconn *conn, long long id, const char *run, const char *result,
                  const char *error_code, const char *error_message, mt_error_t **err);

/* cmdtab_recover: node's rows claimed by another run than run (a daemon
 * that died while running them) become failed: their effect is unknown,
 * and running them twice could repeat it. *n counts them (may be NULL). */
int cmdtab_recover(PGconn *conn, const char *node, const char *run, int *n, mt_error_t **err);

/* cmdtab_purge: deletes node's rows answered more than keep_s seconds
 * ago (their keys may then be used again). */
int cmdtab_purge(PGconn *conn, const char *node, int keep_s, mt_error_t **err);

#endif
