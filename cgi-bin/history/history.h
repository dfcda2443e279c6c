/* history.h: what the files of cgi-bin/history (history.fcgi, the
 * /api/history routes of aMuTorrent's web API: docs/web-api.md) share:
 * the program's state and its handlers. */
#ifndef MT_CGI_HISTORY_H
#define MT_CGI_HISTORY_H

#include <stdbool.h>

#include "common/cgienv.h"
#include "common/cgijson.h"
#include "history/query.h"
#include "http/http.h"
#include "webauth/auth.h"

typedef struct {
    cgienv_t *env;
    webauth_conf_t auth;        /* from cgienv_conf, renewed on a reload */
    char *user;                 /* the caller, for the request */
    const char *owner;          /* whose rows it may see: NULL everyone's
                                 * (view_all_downloads), else user */
} hist_t;

/* hist_track_username: track_username (the entries carry who
 * added each download, and search looks at it). */
bool hist_track_username(const hist_t *h);

/* The handlers (handlers.c); ctx is the hist_t. */
int hist_list(http_request_t *req, http_response_t *resp, void *ctx);
int hist_all(http_request_t *req, http_response_t *resp, void *ctx);
int hist_stats(http_request_t *req, http_response_t *resp, void *ctx);
int hist_export(http_request_t *req, http_response_t *resp, void *ctx);
int hist_get(http_request_t *req, http_response_t *resp, void *ctx);
int hist_delete(http_request_t *req, http_response_t *resp, void *ctx);

#endif
