/* qbit.h: internals of cgi-bin/qbit, the qBittorrent-Web-API-compatible
 * /api/v2 program: its context and the handlers of its route table. */
#ifndef MT_CGI_QBIT_H
#define MT_CGI_QBIT_H

#include "common/cgienv.h"
#include "http/http.h"

/* What Muleteer claims to be (see ../shared/arr-contract.md §1.8): the
 * qBittorrent 5.0 line, whose state and action names it uses. */
#define QBIT_APP_VERSION "v5.0.0"
#define QBIT_WEBAPI_VERSION "2.11.2"

/* Route flags: who may call a route. */
enum {
    QBIT_PUBLIC = 0, /* no login needed */
};

typedef struct {
    cgienv_t *env;
} qbit_t;

/* Sets the headers real qBittorrent puts on every API answer. */
void qbit_common_headers(http_response_t *resp);
/* Answers a short text/plain body the way qBittorrent does. */
int qbit_text(http_response_t *resp, int status, const char *text);

int qbit_app_version(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_app_webapi_version(http_request_t *req, http_response_t *resp, void *ctx);
int qbit_app_build_info(http_request_t *req, http_response_t *resp, void *ctx);

#endif
