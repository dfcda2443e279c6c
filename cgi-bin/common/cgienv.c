/* cgienv.c: configuration, database and control-socket access shared by
 * the FastCGI programs, and the state of the request being served; one
 * instance lives for the whole process. */
#include "config.h"

#include "common/cgienv.h"
#include "db/db.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct cgienv {
    char *program;
    cgienv_answer_fn answer;
    conf_t *conf;
    mt_error_t *conf_error;
    PGconn *db;
    /* the current request's, reset by cgienv_request_end */
    ctl_client_t *ctl; /* the daemon, connected on first use */
    int64_t deadline;  /* monotonic ms; 0 until first asked for */
};

cgienv_t *
cgienv_new(const char *program, cgienv_answer_fn answer)
{
    cgienv_t *env = xcalloc(1, sizeof *env);
    env->program = xstrdup(program);
    env->answer = answer;
    log_set_ident(program);
    env->conf = conf_new();
    char *path = conf_default_file();
    if (conf_load_file(env->conf, path, &env->conf_error) != 0) {
        mt_error_prefix(&env->conf_error, "configuration error");
        log_error("%s", env->conf_error->message);
    } else {
        log_level_t level = LOG_LEVEL_INFO;
        log_level_parse(conf_get_str(env->conf, "log_level"), &level);
        log_set_level(level);
    }
    free(path);
    return env;
}

void
cgienv_free(cgienv_t *env)
{
    if (env == NULL)
        return;
    cgienv_request_end(env);
    PQfinish(env->db);
    conf_free(env->conf);
    mt_error_free(env->conf_error);
    free(env->program);
    free(env);
}

const mt_error_t *
cgienv_error(const cgienv_t *env)
{
    return env->conf_error;
}

const conf_t *
cgienv_conf(const cgienv_t *env)
{
    return env->conf;
}

const char *
cgienv_node(const cgienv_t *env)
{
    return conf_get_str(env->conf, "node_name");
}

int
cgienv_answer(const cgienv_t *env, http_response_t *resp, int status, const char *message)
{
    if (env->answer != NULL)
        return env->answer(resp, status, message);
    return http_response_text(resp, status, message);
}

bool
cgienv_answer_conf_error(const cgienv_t *env, http_response_t *resp)
{
    if (env->conf_error == NULL)
        return false;
    cgienv_answer(env, resp, 500, env->conf_error->message);
    return true;
}

PGconn *
cgienv_db(cgienv_t *env, mt_error_t **err)
{
    if (env->db != NULL && !db_is_broken(env->db))
        return env->db;
    /* A connection that broke (PostgreSQL restarted since the last
     * request) is replaced by a new one. */
    PQfinish(env->db);
    env->db = NULL;
    env->db = db_connect(conf_get_str(env->conf, "database"), env->program,
                         (int)conf_get_int(env->conf, "db_connect_timeout"), err);
    return env->db;
}

ctl_client_t *
cgienv_ctl(cgienv_t *env, mt_error_t **err)
{
    return ctl_client_connect(conf_get_str(env->conf, "control_socket"), CGIENV_CTL_TIMEOUT_MS,
                              err);
}

/* ---- the current request ---- */

ctl_client_t *
cgienv_request_ctl(cgienv_t *env, mt_error_t **err)
{
    if (env->ctl == NULL)
        env->ctl = cgienv_ctl(env, err);
    return env->ctl;
}

void
cgienv_request_ctl_drop(cgienv_t *env)
{
    ctl_client_free(env->ctl);
    env->ctl = NULL;
}

int64_t
cgienv_request_deadline(cgienv_t *env)
{
    if (env->deadline == 0)
        env->deadline = clock_mono_ms() + CGIENV_WAIT_MS;
    return env->deadline;
}

void
cgienv_request_end(cgienv_t *env)
{
    cgienv_request_ctl_drop(env);
    env->deadline = 0;
}
