/* remote.c: a command for another node's daemon through the database
 * (db_cmd_send), its answer or refusal as the socket's would be. */
#include "config.h"

#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/command.h"
#include "db/db.h"
#include "util/conf.h"
#include "util/xalloc.h"

/* load_conf: the configuration, or NULL after a message. */
static conf_t *
load_conf(void)
{
    char *path = conf_default_file();
    conf_t *conf = conf_new();
    mt_error_t *err = NULL;
    if (conf_load_file(conf, path, &err) != 0) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        mt_error_free(err);
        conf_free(conf);
        conf = NULL;
    }
    free(path);
    return conf;
}

bool
remote_is_local(const char *node)
{
    conf_t *conf = load_conf();
    bool local = conf == NULL || strcmp(conf_get_str(conf, "node_name"), node) == 0;
    conf_free(conf);
    return local;
}

static void
print_refusal(const char *code, const char *message, bool as_json)
{
    if (!as_json) {
        fprintf(stderr, "muleteer: %s\n", message);
        return;
    }
    json_object *msg = json_object_new_string(message);
    printf("{\"error\":{\"code\":\"%s\",\"message\":%s}}\n", code,
           json_object_to_json_string(msg));
    json_object_put(msg);
}

int
remote_call(const request_t *req, const char *node, const char *key, int timeout_s,
            bool as_json, json_object **result)
{
    *result = NULL;
    conf_t *conf = load_conf();
    if (conf == NULL)
        return EXIT_UNREACHABLE;
    mt_error_t *err = NULL;
    PGconn *db = db_connect(conf_get_str(conf, "database"), "muleteer-cli",
                            (int)conf_get_int(conf, "db_connect_timeout"), &err);
    conf_free(conf);
    if (db == NULL) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        mt_error_free(err);
        return EXIT_UNREACHABLE;
    }
    db_cmd_t cmd = {
        .node = node,
        .key = key,
        .command = req->cmd,
        .args = req->args != NULL ? json_object_to_json_string_ext(req->args, JSON_C_TO_STRING_PLAIN)
                                  : "{}",
        .timeout_ms = timeout_s * 1000,
    };
    char *answer = NULL;
    int rc = db_cmd_send(db, &cmd, &answer, &err);
    int status = EXIT_OK;
    if (rc == DB_CMD_OK) {
        *result = json_tokener_parse(answer);
    } else if (rc == DB_CMD_REFUSED) {
        print_refusal(answer, err->message, as_json);
        status = EXIT_CMD_ERROR;
    } else {
        fprintf(stderr, "muleteer: %s\n", err->message);
        status = err->code == MT_ERR_EXISTS ? EXIT_CMD_ERROR : EXIT_UNREACHABLE;
    }
    free(answer);
    mt_error_free(err);
    PQfinish(db);
    return status;
}
