/* item.c: GET /api/item/detail/<hash>: everything Muleteer knows about one
 * download: the daemon's description (sources with their client software
 * and state), its parts, the names it was seen under, and its history
 * rows. */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "config/cfgapi.h"

/* find_download: the download or finished download of hash (lower case)
 * in the daemon's `downloads` result, a new reference, or NULL. */
static json_object *
find_download(json_object *all, const char *hash, bool *finished)
{
    static const char *const lists[] = { "downloads", "finished" };
    for (size_t l = 0; l < 2; l++) {
        json_object *a = NULL, *h = NULL;
        if (!json_object_object_get_ex(all, lists[l], &a))
            continue;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
            json_object *d = json_object_array_get_idx(a, i);
            if (json_object_object_get_ex(d, "hash", &h) &&
                strcasecmp(json_object_get_string(h), hash) == 0) {
                *finished = l == 1;
                return json_object_get(d);
            }
        }
    }
    return NULL;
}

/* The history rows of the hash, oldest first, and the names it was seen
 * under (history, search results), as JSON texts built by PostgreSQL. */
static const char sql_history[] =
    "SELECT coalesce(json_agg(json_build_object("
    "'id', id, 'name', name, 'size', size, 'category', category, 'status', status, "
    "'started_at', started_at, 'completed_at', completed_at, 'deleted_at', deleted_at, "
    "'downloaded', downloaded_bytes, 'uploaded', uploaded_bytes, "
    "'username', added_by, 'added_via', added_via) ORDER BY started_at, id), '[]')::text "
    "FROM history WHERE node = $1 AND hash = $2";
static const char sql_names[] =
    "SELECT coalesce(json_agg(name ORDER BY name), '[]')::text FROM ("
    "SELECT name FROM history WHERE node = $1 AND hash = $2 UNION "
    "SELECT name FROM search_results WHERE node = $1 AND hash = $2) n";

/* db_json: the one text value of sql over (node, hash) parsed, or NULL
 * after answering 503. */
static json_object *
db_json(cfgapi_t *c, http_response_t *resp, const char *sql, const char *hash)
{
    const char *params[] = { hash };
    PGresult *r = cgidb_query(c->env, resp, sql, 1, params);
    if (r == NULL)
        return NULL;
    json_object *o = PQntuples(r) == 1 ? json_tokener_parse(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return o != NULL ? o : json_object_new_array();
}

/* add_name: name to the array names unless it is there. */
static void
add_name(json_object *names, json_object *name)
{
    if (name == NULL)
        return;
    for (size_t i = 0; i < json_object_array_length(names); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(names, i)),
                   json_object_get_string(name)) == 0)
            return;
    json_object_array_add(names, json_object_get(name));
}

/* daemon_part: the daemon's view: the description and parts, each NULL
 * when the daemon does not list the hash. -1 after answering. */
static int
daemon_part(cfgapi_t *c, http_response_t *resp, const char *hash, json_object **dl,
            json_object **parts, bool *finished)
{
    json_object *all = NULL;
    *dl = *parts = NULL;
    if (cgictl_call(c->env, resp, "downloads", NULL, &all, NULL) != CGICTL_OK)
        return -1;
    *dl = find_download(all, hash, finished);
    json_object_put(all);
    if (*dl == NULL)
        return 0;
    json_object *args = json_object_new_object();
    json_object_object_add(args, "hash", json_object_new_string(hash));
    int rc = cgictl_call(c->env, resp, "parts", args, parts, NULL);
    json_object_put(args);
    if (rc == CGICTL_ANSWERED) {
        json_object_put(*dl);
        return -1;
    }
    return 0; /* refused: deleted in between; the description stands */
}

/* owned: 1 when the caller may see the download of hash (everyone's, or
 * one it added, live or in the history), 0 when not, -1 after answering
 * 503. */
static int
owned(cfgapi_t *c, http_response_t *resp, const char *hash)
{
    if (c->owner == NULL)
        return 1;
    const char *params[] = { hash, c->owner };
    PGresult *r = cgidb_query(c->env, resp,
                              "SELECT EXISTS (SELECT 1 FROM downloads WHERE node = $1"
                              "  AND hash = $2 AND added_by = $3)"
                              " OR EXISTS (SELECT 1 FROM history WHERE node = $1"
                              "  AND hash = $2 AND added_by = $3)",
                              2, params);
    if (r == NULL)
        return -1;
    int yes = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return yes;
}

int
cfgapi_item_detail(http_request_t *req, http_response_t *resp, void *ctx)
{
    cfgapi_t *c = ctx;
    const char *given = http_request_path_param(req, "hash");
    char hash[33];
    size_t n = given != NULL ? strlen(given) : 0;
    if (n != 32 || strspn(given, "0123456789abcdefABCDEF") != 32)
        return cgijson_bad_param(resp, "hash", "expected an eD2K hash: 32 hex digits");
    for (size_t i = 0; i < 32; i++)
        hash[i] = (char)tolower((unsigned char)given[i]);
    hash[32] = '\0';
    int mine = owned(c, resp, hash);
    if (mine <= 0) /* another account's is no download of the caller's */
        return mine < 0 ? 0 : cgijson_error(resp, 404, "not_found", "No download with this hash");
    json_object *dl = NULL, *parts = NULL;
    bool finished = false;
    if (daemon_part(c, resp, hash, &dl, &parts, &finished) != 0)
        return 0;
    json_object *history = db_json(c, resp, sql_history, hash);
    json_object *names = history != NULL ? db_json(c, resp, sql_names, hash) : NULL;
    if (history == NULL || names == NULL || (dl == NULL && json_object_array_length(history) == 0)) {
        if (history != NULL && names != NULL)
            cgijson_error(resp, 404, "not_found", "No download with this hash");
        json_object_put(history);
        json_object_put(names);
        json_object_put(dl);
        json_object_put(parts);
        return 0;
    }
    json_object *v = NULL, *sources = NULL;
    if (dl != NULL && json_object_object_get_ex(dl, "name", &v))
        add_name(names, v);
    if (dl != NULL && json_object_object_get_ex(dl, "peers", &v))
        sources = json_object_get(v);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "hash", json_object_new_string(hash));
    json_object_object_add(o, "active", json_object_new_boolean(dl != NULL && !finished));
    json_object_object_add(o, "finished", json_object_new_boolean(finished));
    json_object_object_add(o, "raw", dl);
    json_object_object_add(o, "parts", parts);
    json_object_object_add(o, "sources", sources != NULL ? sources : json_object_new_array());
    json_object_object_add(o, "names", names);
    json_object_object_add(o, "history", history);
    json_object_object_add(o, "trackersDetailed", json_object_new_array());
    int rc = cgijson_ok(resp, o);
    json_object_put(o);
    return rc;
}
