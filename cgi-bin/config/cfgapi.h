/* cfgapi.h: cgi-bin/config, the web API's configuration, status, version
 * and item routes (/api/config, /api/version, /api/item/detail): the
 * program's state and its handlers (docs/web-api.md). */
#ifndef MT_CGI_CFGAPI_H
#define MT_CGI_CFGAPI_H

#include <json-c/json.h>
#include <stdbool.h>

#include "common/cgictl.h"
#include "common/cgidb.h"
#include "common/cgienv.h"
#include "common/cgijson.h"
#include "http/http.h"
#include "webauth/auth.h"

typedef struct {
    cgienv_t *env;
    webauth_conf_t auth; /* from cgienv_conf, renewed when it is reloaded */
    char *user;          /* the caller of the current request, or NULL */
    const char *owner;   /* whose downloads it may see: NULL everyone's
                          * (view_all_downloads), else user */
    bool is_admin;       /* the caller is an admin */
} cfgapi_t;

/* Route flags. */
enum {
    CFGAPI_AUTH = 0,   /* a session, the API key or HTTP Basic */
    CFGAPI_PUBLIC = 1, /* no credentials needed */
    CFGAPI_ADMIN = 2,  /* an admin only: the settings of the whole client */
    CFGAPI_CATEGORIES = 4, /* manage_categories (an admin has it) */
};

/* settings.c */
int cfgapi_config_get(http_request_t *req, http_response_t *resp, void *ctx);
int cfgapi_config_patch(http_request_t *req, http_response_t *resp, void *ctx);

/* version.c */
int cfgapi_config_status(http_request_t *req, http_response_t *resp, void *ctx);
int cfgapi_version(http_request_t *req, http_response_t *resp, void *ctx);
int cfgapi_version_seen(http_request_t *req, http_response_t *resp, void *ctx);

/* checkpath.c: POST /api/config/check-path {path}: {path, exists,
 * readable, writable, insideRoots, error, isDocker}; nothing is made. */
int cfgapi_check_path(http_request_t *req, http_response_t *resp, void *ctx);

/* item.c */
int cfgapi_item_detail(http_request_t *req, http_response_t *resp, void *ctx);

#endif
