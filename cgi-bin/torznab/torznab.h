/* torznab.h: internals of cgi-bin/torznab, the Torznab indexer at
 * /indexer/<name>/api: its context, its answers (Torznab XML and
 * <error>), and the handlers main.c dispatches to. */
#ifndef MT_CGI_TORZNAB_H
#define MT_CGI_TORZNAB_H

#include <stdbool.h>

#include "common/cgictl.h"
#include "common/cgidb.h"
#include "common/cgienv.h"
#include "http/http.h"
#include "torznab/feed.h"
#include "torznab/query.h"

/* The names /indexer/<name>/api answers besides the configured one: the
 * paths aMuTorrent and eMuleBB users already have in their Arrs. */
#define TZ_ALIAS_AMULE "amule"
#define TZ_ALIAS_EMULEBB "emulebb"

typedef struct {
    cgienv_t *env; /* configuration, database, daemon (cgi-bin/common) */
    char *password_key; /* the web password last accepted as a key, so that
                         * a PBKDF2 web_password is not derived on every
                         * request; never logged */
    tz_doc_t caps;      /* the caps document, built once per process */
    /* per request, cleared after it (main.c's request_end) */
    tzq_t q;
} tz_t;

/* tz_answer_doc: status and an XML document as the body (RSS for feeds
 * and errors, as Prowlarr sends them). */
int tz_answer_doc(http_response_t *resp, int status, const tz_doc_t *doc);
/* tz_error: status and <error code description>. Also the program's
 * cgienv_answer_fn through tz_answer (503 becomes code 900, 401 code 100,
 * 404 code 300, other 4xx code 201, 5xx code 900). */
int tz_error(http_response_t *resp, int status, int code, const char *description);

/* search.c: t=search, tvsearch and movie (the request's q is parsed). */
int tz_search(tz_t *t, http_request_t *req, http_response_t *resp);

#endif
