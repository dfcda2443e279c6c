/* cgienv.c: configuration (reloaded when its file changes), database and
 * control-socket access shared by the FastCGI programs, and the state of
 * the request being served; one instance lives for the whole process. */
#include "config.h"

#include "common/cgienv.h"
#include "common/cgistats.h"
#include "db/db.h"
#include "http/server.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What tells one version of the configuration file from another without
 * reading it: a rewrite by rename (muleteer passwd) changes the inode, an
 * edit in place the size or the times. */
typedef struct {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
} file_id_t;

struct cgienv {
    char *program;
    cgienv_answer_fn answer;
    char *conf_path;
    file_id_t conf_id; /* of the file last loaded (or tried) */
    conf_t *conf;
    mt_error_t *conf_error;
    PGconn *db;
    cgistats_t *stats; /* this process's request counters (cgistats.h) */
    /* the current request's, reset by cgienv_request_end */
    ctl_client_t *ctl; /* the daemon, connected on first use */
    int64_t deadline;  /* monotonic ms; 0 until first asked for */
};

static file_id_t
file_id(const char *path)
{
    file_id_t id = { .exists = false };
    struct stat st;
    if (stat(path, &st) != 0)
        return id;
    id.exists = true;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
    id.size = st.st_size;
    id.mtime = st.st_mtim;
    id.ctime = st.st_ctim;
    return id;
}

static bool
file_id_equal(const file_id_t *a, const file_id_t *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
           a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* load_conf: a configuration from env's file; NULL with *err (prefixed
 * "configuration error") when it does not load. */
static conf_t *
load_conf(const cgienv_t *env, mt_error_t **err)
{
    conf_t *c = conf_new();
    if (conf_load_file(c, env->conf_path, err) != 0) {
        mt_error_prefix(err, "configuration error");
        conf_free(c);
        return NULL;
    }
    return c;
}

static void
apply_log_level(const conf_t *conf)
{
    log_level_t level = LOG_LEVEL_INFO;
    log_level_parse(conf_get_str(conf, "log_level"), &level);
    log_set_level(level);
}

cgienv_t *
cgienv_new(const char *program, cgienv_answer_fn answer)
{
    cgienv_t *env = xcalloc(1, sizeof *env);
    env->program = xstrdup(program);
    env->answer = answer;
    log_set_ident(program);
    env->conf_path = conf_default_file();
    /* The file's identity before it is read: a change while it is being
     * read is seen by the next request. */
    env->conf_id = file_id(env->conf_path);
    env->conf = load_conf(env, &env->conf_error);
    if (env->conf == NULL) {
        env->conf = conf_new();
        log_error("%s", env->conf_error->message);
    } else {
        apply_log_level(env->conf);
        /* every request of the process is counted from here on */
        env->stats = cgistats_open(conf_get_str(env->conf, "metrics_dir"), program);
        if (env->stats != NULL)
            http_observe(cgistats_observe, env->stats);
    }
    return env;
}

bool
cgienv_request_begin(cgienv_t *env)
{
    file_id_t id = file_id(env->conf_path);
    /* Unchanged, or gone (then the last configuration stays: a file is
     * never missing for long when it is replaced by rename). */
    if (!id.exists || file_id_equal(&id, &env->conf_id))
        return false;
    env->conf_id = id;
    mt_error_t *err = NULL;
    conf_t *c = load_conf(env, &err);
    if (c == NULL) {
        if (env->conf_error != NULL) {
            /* it never loaded: the requests answer the newest error */
            log_error("%s", err->message);
            mt_error_free(env->conf_error);
            env->conf_error = err;
        } else {
            /* a running service keeps its last good configuration */
            log_error("%s; the previous configuration stays in use", err->message);
            mt_error_free(err);
        }
        return false;
    }
    /* A connection made with another conninfo is not the one asked for. */
    if (strcmp(conf_get_str(c, "database"), conf_get_str(env->conf, "database")) != 0) {
        PQfinish(env->db);
        env->db = NULL;
    }
    conf_free(env->conf);
    env->conf = c;
    mt_error_free(env->conf_error);
    env->conf_error = NULL;
    apply_log_level(env->conf);
    log_info("configuration reloaded from %s", env->conf_path);
    return true;
}

void
cgienv_free(cgienv_t *env)
{
    if (env == NULL)
        return;
    cgienv_request_end(env);
    if (env->stats != NULL)
        http_observe(NULL, NULL);
    cgistats_free(env->stats);
    PQfinish(env->db);
    conf_free(env->conf);
    mt_error_free(env->conf_error);
    free(env->conf_path);
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
