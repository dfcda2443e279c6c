/* cgictl.c: control commands from a FastCGI handler to the daemon, and
 * their failures as HTTP statuses. */
#include "config.h"

#include "common/cgictl.h"
#include "db/command.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

int
cgictl_failure_status(ctl_errcode_t code)
{
    if (code == 0)
        return 503;
    if (code == CTL_E_PARSE || code == CTL_E_INVALID_REQUEST || code == CTL_E_LINE_TOO_LONG)
        return 400;
    return 0;
}

int
cgictl_refusal_status(const mt_error_t *err)
{
    switch (err != NULL ? err->code : MT_ERR_INTERNAL) {
    case MT_ERR_INVALID:
    case MT_ERR_TOO_LARGE:
    case MT_ERR_UNSUPPORTED:
        return 400;
    case MT_ERR_NOT_FOUND:
        return 404;
    case MT_ERR_EXISTS:
        return 409;
    case MT_ERR_UNAVAILABLE:
        return 503;
    default:
        return 500;
    }
}

/* unreachable: the daemon gave no answer (not running, not in time, the
 * connection broke): 503. */
static int
unreachable(cgienv_t *env, http_response_t *resp, const char *cmd, mt_error_t *e)
{
    if (cmd != NULL)
        log_warn("daemon: %s: %s", cmd, e != NULL ? e->message : "failed");
    else
        log_warn("daemon: %s", e != NULL ? e->message : "unavailable");
    mt_error_free(e);
    cgienv_answer(env, resp, 503, CGICTL_UNAVAILABLE);
    return CGICTL_ANSWERED;
}

int
cgictl_call(cgienv_t *env, http_response_t *resp, const char *cmd, json_object *args,
            json_object **result, mt_error_t **err)
{
    mt_error_t *e = NULL;
    ctl_client_t *c = cgienv_request_ctl(env, &e);
    if (c == NULL)
        return unreachable(env, resp, NULL, e);
    json_object *res = NULL;
    if (ctl_client_call(c, cmd, args, &res, &e) != 0) {
        ctl_errcode_t code = ctl_client_last_error(c);
        int status = cgictl_failure_status(code);
        if (status == 503) {
            /* the connection broke: not an answer from the daemon */
            cgienv_request_ctl_drop(env);
            return unreachable(env, resp, cmd, e);
        }
        if (status != 0) {
            /* the request could not even be read (or was not sent): what
             * the HTTP request carried was bad, whatever the command */
            log_info("daemon: %s: %s", cmd, e != NULL ? e->message : "refused");
            mt_error_free(e);
            cgienv_answer(env, resp, status, CGICTL_BAD_REQUEST);
            return CGICTL_ANSWERED;
        }
        if (err != NULL)
            *err = e;
        else
            mt_error_free(e);
        return CGICTL_REFUSED;
    }
    if (result != NULL)
        *result = res;
    else
        json_object_put(res);
    return CGICTL_OK;
}

/* answer_node_failure: a command for another node got no answer: 404 for
 * an unknown node, 503 otherwise, with the reason (it names the node). */
static int
answer_node_failure(cgienv_t *env, http_response_t *resp, const char *cmd, mt_error_t *e)
{
    log_warn("daemon: %s: %s", cmd, e != NULL ? e->message : "failed");
    int status = e != NULL && e->code == MT_ERR_NOT_FOUND ? 404 : 503;
    cgienv_answer(env, resp, status, e != NULL ? e->message : CGICTL_UNAVAILABLE);
    mt_error_free(e);
    return CGICTL_ANSWERED;
}

int
cgictl_call_node(cgienv_t *env, http_response_t *resp, const char *node, const char *key,
                 const char *cmd, json_object *args, json_object **result, mt_error_t **err)
{
    if (node == NULL || strcmp(node, cgienv_node(env)) == 0)
        return cgictl_call(env, resp, cmd, args, result, err);
    mt_error_t *e = NULL;
    PGconn *db = cgienv_db(env, &e);
    if (db == NULL)
        return answer_node_failure(env, resp, cmd, e);
    db_cmd_t c = {
        .node = node,
        .key = key,
        .command = cmd,
        .args = args != NULL ? json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN) : "{}",
        .timeout_ms = CGIENV_CTL_TIMEOUT_MS,
    };
    char *answer = NULL;
    int rc = db_cmd_send(db, &c, &answer, &e);
    if (rc == DB_CMD_FAILED) {
        free(answer);
        return answer_node_failure(env, resp, cmd, e);
    }
    if (rc == DB_CMD_REFUSED) {
        e->code = ctl_errcode_to_mt(ctl_errcode_parse(answer));
        free(answer);
        if (err != NULL)
            *err = e;
        else
            mt_error_free(e);
        return CGICTL_REFUSED;
    }
    json_object *res = json_tokener_parse(answer);
    free(answer);
    if (result != NULL)
        *result = res;
    else
        json_object_put(res);
    return CGICTL_OK;
}
