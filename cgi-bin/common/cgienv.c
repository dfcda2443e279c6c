/* cgienv.c: configuration, database and control-socket access shared by
 * the FastCGI programs; one instance lives for the whole process. */
#include "config.h"

#include "common/cgienv.h"
#include "db/db.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct cgienv {
    char *program;
    conf_t *conf;
    mt_error_t *conf_error;
    PGconn *db;
};

static char *
conf_file_path(void)
{
    const char *c = getenv("MULETEER_CONF");
    if (c != NULL && *c != '\0')
        return xstrdup(c);
    const char *var = getenv("MULETEER_VAR");
    return xasprintf("%s/muleteer.conf", var != NULL && *var != '\0' ? var : "var");
}

cgienv_t *
cgienv_new(const char *program)
{
    cgienv_t *env = xcalloc(1, sizeof *env);
    env->program = xstrdup(program);
    log_set_ident(program);
    env->conf = conf_new();
    char *path = conf_file_path();
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
    return ctl_client_connect(conf_get_str(env->conf, "control_socket"), 10000, err);
}
