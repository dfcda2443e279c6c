/* cmd_search.c: the control commands on searches (search, search-results,
 * search-more, search-stop, searches): arguments checked, the search module
 * asked, the answer built. */
#include "config.h"

#include "daemon/ctl/cmd_search.h"
#include "daemon/core/daemon.h"
#include "daemon/ed2k/search.h"

#include <string.h>

/* search_id: the "id" argument. */
static int
search_id(json_object *args, int64_t *id, mt_error_t **err)
{
    json_object *ji = NULL;
    if (!json_object_object_get_ex(args, "id", &ji) || !json_object_is_type(ji, json_type_int)) {
        mt_error_set(err, MT_ERR_INVALID, "needs \"id\" (a search id)");
        return -1;
    }
    *id = json_object_get_int64(ji);
    return 0;
}

/* answer: the module's answer, or its error. */
static int
answer(json_object *o, json_object **result)
{
    if (o == NULL)
        return -1;
    *result = o;
    return 0;
}

int
search_cmd_search(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    json_object *jq = NULL, *js = NULL;
    if (!json_object_object_get_ex(args, "query", &jq) || !json_object_is_type(jq, json_type_string)) {
        mt_error_set(err, MT_ERR_INVALID, "search needs \"query\" (string)");
        return -1;
    }
    bool global = true;
    if (json_object_object_get_ex(args, "scope", &js) && js != NULL) {
        const char *sc = json_object_get_string(js);
        if (strcmp(sc, "local") == 0)
            global = false;
        else if (strcmp(sc, "global") != 0) {
            mt_error_set(err, MT_ERR_INVALID, "scope must be local or global");
            return -1;
        }
    }
    return answer(search_start(d->searches, json_object_get_string(jq), global, err), result);
}

int
search_cmd_results(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    int64_t id;
    if (search_id(args, &id, err) != 0)
        return -1;
    json_object *jo = NULL, *jl = NULL;
    int64_t offset = 0, limit = 500;
    if (json_object_object_get_ex(args, "offset", &jo) && jo != NULL)
        offset = json_object_get_int64(jo);
    if (json_object_object_get_ex(args, "limit", &jl) && jl != NULL)
        limit = json_object_get_int64(jl);
    if (search_check(d->searches, id, err) != 0)
        return -1;
    if (offset < 0 || limit < 1 || limit > 5000) {
        mt_error_set(err, MT_ERR_INVALID, "offset must be >= 0 and limit 1-5000");
        return -1;
    }
    return answer(search_results_json(d->searches, id, (size_t)offset, (size_t)limit, err), result);
}

int
search_cmd_stop(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    int64_t id;
    if (search_id(args, &id, err) != 0)
        return -1;
    return answer(search_stop(d->searches, id, err), result);
}

int
search_cmd_more(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    int64_t id;
    if (search_id(args, &id, err) != 0)
        return -1;
    return answer(search_more(d->searches, id, err), result);
}

int
search_cmd_list(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    *result = json_object_new_object();
    json_object_object_add(*result, "searches", search_list_json(d->searches));
    return 0;
}
