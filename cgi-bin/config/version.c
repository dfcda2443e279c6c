/* version.c: GET /api/config/status and GET /api/version (public), and
 * POST /api/version/seen, which keeps the version the caller has seen in
 * the web_state table (sql/020_web_state.sql). */
#include "config.h"

#include <unistd.h>

#include "config/cfgapi.h"

int
cfgapi_config_status(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    json_object *o = json_object_new_object();
    /* the configuration file is written by run.sh or by hand before the
     * programs start: there is no set-up wizard to open */
    json_object_object_add(o, "firstRun", json_object_new_boolean(0));
    json_object_object_add(o, "isDocker", json_object_new_boolean(access("/.dockerenv", F_OK) == 0));
    json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
    int rc = cgijson_ok(resp, o);
    json_object_put(o);
    return rc;
}

/* last_seen: the version kept, or NULL (none, or no database). */
static json_object *
last_seen(cfgapi_t *c)
{
    mt_error_t *err = NULL;
    PGconn *db = cgienv_db(c->env, &err);
    mt_error_free(err);
    if (db == NULL)
        return NULL;
    const char *params[] = { cgienv_node(c->env) };
    PGresult *r = PQexecParams(db,
                               "SELECT value FROM web_state WHERE node = $1 "
                               "AND name = 'last_seen_version'",
                               1, NULL, params, NULL, NULL, 0);
    json_object *v = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        v = json_object_new_string(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static int
answer_version(cfgapi_t *c, http_response_t *resp, json_object *seen)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "appName", json_object_new_string("Muleteer"));
    json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
    json_object_object_add(o, "lastSeenVersion", seen != NULL ? seen : last_seen(c));
    /* no update check: Muleteer does not call home */
    json_object_object_add(o, "latestVersion", NULL);
    json_object_object_add(o, "updateAvailable", json_object_new_boolean(0));
    json_object_object_add(o, "changelog", json_object_new_array());
    int rc = cgijson_ok(resp, o);
    json_object_put(o);
    return rc;
}

int
cfgapi_version(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    return answer_version(ctx, resp, NULL);
}

int
cfgapi_version_seen(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    cfgapi_t *c = ctx;
    const char *params[] = { PACKAGE_VERSION };
    PGresult *r = cgidb_query(c->env, resp,
                              "INSERT INTO web_state (node, name, value) "
                              "VALUES ($1, 'last_seen_version', $2) "
                              "ON CONFLICT (node, name) DO UPDATE "
                              "SET value = EXCLUDED.value, updated_at = now() RETURNING value",
                              1, params);
    if (r == NULL)
        return 0; /* answered 503 */
    json_object *seen = json_object_new_string(PQgetvalue(r, 0, 0));
    PQclear(r);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(1));
    json_object_object_add(o, "lastSeenVersion", seen);
    int rc = cgijson_ok(resp, o);
    json_object_put(o);
    return rc;
}
