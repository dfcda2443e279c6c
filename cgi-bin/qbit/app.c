/* app.c: the app/ scope of /api/v2: version, webapiVersion and buildInfo,
 * answered as qBittorrent answers them (text/plain without a newline, or
 * JSON). */
#include "config.h"

#include <json-c/json.h>
#include <libpq-fe.h>
#include <event2/event.h>
#include <stdio.h>
#include <zlib.h>

#include "qbit/qbit.h"

int
qbit_app_version(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    return qbit_text(resp, 200, QBIT_APP_VERSION);
}

int
qbit_app_webapi_version(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    return qbit_text(resp, 200, QBIT_WEBAPI_VERSION);
}

/* qBittorrent reports the libraries it was built with; Muleteer reports
 * its own under the same keys where one exists (zlib, bitness), empty
 * strings for the torrent-only ones, and adds its own. */
int
qbit_app_build_info(http_request_t *req, http_response_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    char libpq[32];
    int v = PQlibVersion();
    snprintf(libpq, sizeof libpq, "%d.%d", v / 10000, v % 10000);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "bitness", json_object_new_int((int)(sizeof(void *) * 8)));
    json_object_object_add(o, "boost", json_object_new_string(""));
    json_object_object_add(o, "libtorrent", json_object_new_string(""));
    json_object_object_add(o, "openssl", json_object_new_string(""));
    json_object_object_add(o, "qt", json_object_new_string(""));
    json_object_object_add(o, "zlib", json_object_new_string(zlibVersion()));
    json_object_object_add(o, "muleteer", json_object_new_string(PACKAGE_VERSION));
    json_object_object_add(o, "json-c", json_object_new_string(json_c_version()));
    json_object_object_add(o, "libevent", json_object_new_string(event_get_version()));
    json_object_object_add(o, "libpq", json_object_new_string(libpq));
    qbit_common_headers(resp);
    int rc = http_response_json(resp, 200, o);
    json_object_put(o);
    return rc;
}
