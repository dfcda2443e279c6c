/* pieces.c: the per-download reads that are not rows of the database:
 * torrents/pieceStates and torrents/pieceHashes (eD2K parts, asked of the
 * daemon, which holds the part files), torrents/trackers and
 * torrents/webseeds (eD2K has neither: empty lists). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "qbit/qbit.h"

/* known_md4: the `hash` parameter, when it names a download of this node
 * (completed ones too); -1 after answering as properties does: 400 when
 * missing, 404 "Not Found" when malformed or unknown, 503. */
static int
known_md4(qbit_t *q, http_request_t *req, http_response_t *resp, char md4[33])
{
    const char *hv = qbit_param(req, resp, "hash");
    if (hv == NULL)
        return -1;
    int found = qbit_hash_lookup(q, resp, hv, md4); /* btih, padded or bare MD4 */
    if (found < 0)
        return -1;
    if (found == 0) {
        qbit_text(resp, 404, "Not Found");
        return -1;
    }
    const char *p[] = { md4 };
    PGresult *r =
        cgidb_query(q->env, resp, "SELECT 1 FROM downloads WHERE node = $1 AND hash = $2", 1, p);
    if (r == NULL)
        return -1;
    int n = PQntuples(r);
    PQclear(r);
    if (n == 0) {
        qbit_text(resp, 404, "Not Found");
        return -1;
    }
    return 0;
}

/* empty_list: [] for a known download. */
static int
empty_list(qbit_t *q, http_request_t *req, http_response_t *resp)
{
    char md4[33];
    if (known_md4(q, req, resp, md4) != 0)
        return 0;
    return qbit_json_text(resp, "[]", 2);
}

int
qbit_torrents_trackers(http_request_t *req, http_response_t *resp, void *ctx)
{
    return empty_list(ctx, req, resp);
}

int
qbit_torrents_webseeds(http_request_t *req, http_response_t *resp, void *ctx)
{
    return empty_list(ctx, req, resp);
}

/* parts_member: the daemon's `parts` answer's member (states or hashes)
 * for the download the request names; answered already on failure (a
 * download the daemon no longer has is 404, like an unknown one). */
static int
parts_member(qbit_t *q, http_request_t *req, http_response_t *resp, const char *member)
{
    char md4[33];
    if (known_md4(q, req, resp, md4) != 0)
        return 0;
    json_object *args = json_object_new_object();
    json_object_object_add(args, "hash", json_object_new_string(md4));
    json_object *res = NULL;
    mt_error_t *err = NULL;
    int rc = cgictl_call(q->env, resp, "parts", args, &res, &err);
    json_object_put(args);
    if (rc == CGICTL_REFUSED) {
        int status = cgictl_refusal_status(err);
        qbit_text(resp, status, status == 404 ? "Not Found" : "Internal Server Error");
    } else if (rc == CGICTL_OK) {
        json_object *a = NULL;
        if (json_object_object_get_ex(res, member, &a) && json_object_is_type(a, json_type_array))
            qbit_json(resp, a);
        else
            qbit_text(resp, 500, "Internal Server Error");
    }
    json_object_put(res);
    mt_error_free(err);
    return 0;
}

/* torrents/pieceStates: one number per eD2K part (qBittorrent's 0 not
 * downloaded, 1 downloading, 2 downloaded). */
int
qbit_torrents_piece_states(http_request_t *req, http_response_t *resp, void *ctx)
{
    return parts_member(ctx, req, resp, "states");
}

/* torrents/pieceHashes: the parts' MD4s in hex ([] until the download
 * knows its hash set, as a torrent without metadata). */
int
qbit_torrents_piece_hashes(http_request_t *req, http_response_t *resp, void *ctx)
{
    return parts_member(ctx, req, resp, "hashes");
}
