/* request.h: one HTTP request as a CGI/FastCGI program sees it, parsed
 * eagerly from the environment and body: path, query, forms, cookies, auth.
 *
 * Where the values come from (RFC 3875 variables):
 * - Path: the path part of REQUEST_URI, strictly percent-decoded. lighttpd,
 *   nginx (fastcgi_params sets REQUEST_URI $request_uri) and Apache all pass
 *   the raw request-target there, before any rewrite; an absolute-form
 *   target ("http://host/p") is reduced to its path. Without REQUEST_URI
 *   the path is SCRIPT_NAME + PATH_INFO, which servers pass already decoded.
 * - Query: the part of REQUEST_URI after '?', or QUERY_STRING when there is
 *   no REQUEST_URI (so path and query always describe the same URI).
 * - Headers: HTTP_* variables, CONTENT_TYPE and CONTENT_LENGTH.
 * - Authorization: lighttpd and nginx pass HTTP_AUTHORIZATION to FastCGI
 *   and CGI programs. Apache hides it unless the configuration says
 *   "CGIPassAuth On" (2.4.13+) for the program's directory or location;
 *   without it http_request_basic_auth() and http_request_bearer() always
 *   fail.
 *
 * Everything a request returns (strings, parameter arrays) is owned by the
 * request and lives until http_request_free(). A FastCGI program creates
 * and frees one request per accepted connection, so nothing leaks across
 * requests. */
#ifndef MT_HTTP_REQUEST_H
#define MT_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct json_object;

typedef struct http_request http_request_t;

/* Size limits applied while parsing. A field left at 0 takes its default,
 * so a zeroed struct means "defaults". Going over a limit fails the parse
 * with MT_ERR_TOO_LARGE (HTTP 413). */
typedef struct {
    size_t max_body;          /* body bytes; default 8 MiB */
    size_t max_params;        /* query + form parameters together; 1000 */
    size_t max_name_len;      /* one parameter name, in bytes; 256 */
    size_t max_cookie_bytes;  /* the whole Cookie header; 8192 */
    size_t max_parts;         /* multipart/form-data parts; 100 */
    size_t max_part_header;   /* header block of one multipart part; 8192 */
} http_limits_t;

/* http_limits_default: the defaults listed above. */
http_limits_t http_limits_default(void);

/* Where a parameter came from. HTTP_SRC_ANY lists form parameters first,
 * then query parameters (the order http_request_param() looks them up). */
typedef enum {
    HTTP_SRC_QUERY = 1,
    HTTP_SRC_FORM = 2,
    HTTP_SRC_ANY = 3,
} http_source_t;

/* One parameter. value is NUL-terminated, and value_len counts its bytes:
 * a multipart value may hold NUL bytes (file contents), query and
 * url-encoded values never do (%00 is refused). filename and content_type
 * are set only for multipart parts that carried them (NULL otherwise). */
typedef struct {
    const char *name;
    const char *value;
    size_t value_len;
    const char *filename;
    const char *content_type;
} http_param_t;

/* http_request_new: parses a request from envp (NULL-terminated
 * "NAME=value" strings, e.g. FCGX_Request.envp or environ) and the body.
 * envp and body are copied; the caller keeps ownership of both. limits may
 * be NULL for the defaults.
 * Fails (NULL) with MT_ERR_INVALID for malformed input, the message naming
 * what was wrong (e.g. "bad percent-escape in query parameter \"name\""),
 * or MT_ERR_TOO_LARGE for a limit. Parameters are text: every name and
 * value of the query and of a url-encoded form, and the name, file name
 * and (unless the part is a file: it has a file name, or a Content-Type
 * other than text/...) value of a multipart part must be strict UTF-8
 * (util/utf8.h), else "invalid UTF-8 in query parameter \"name\"": no
 * program ever sees an overlong form, a surrogate or a code point above
 * U+10FFFF (PostgreSQL and the control socket refuse them). A malformed Authorization header is not
 * an error: the auth accessors just report it as absent.
 * Body forms parsed: application/x-www-form-urlencoded and
 * multipart/form-data (RFC 7578, RFC 2046 delimiters); any other body is
 * kept as bytes (http_request_body, http_request_json).
 * Free with http_request_free(). */
http_request_t *http_request_new(char *const *envp, const uint8_t *body, size_t body_len,
                                 const http_limits_t *limits, mt_error_t **err);
void http_request_free(http_request_t *req);

/* http_request_method: REQUEST_METHOD as sent ("GET", "POST", ...). */
const char *http_request_method(const http_request_t *req);
/* http_request_path: the decoded path, always starting with '/', without
 * the query. */
const char *http_request_path(const http_request_t *req);
/* http_request_env: the raw value of an environment variable, or NULL. */
const char *http_request_env(const http_request_t *req, const char *name);
/* http_request_header: a request header by its HTTP name, matched without
 * regard to case ("Content-Type" reads CONTENT_TYPE, "X-Api-Key" reads
 * HTTP_X_API_KEY); NULL when absent. */
const char *http_request_header(const http_request_t *req, const char *name);
/* http_request_remote_addr: REMOTE_ADDR, or "" when the server gave none. */
const char *http_request_remote_addr(const http_request_t *req);
/* http_request_media_type: the Content-Type without parameters, in lower
 * case ("multipart/form-data"), or NULL without a Content-Type. */
const char *http_request_media_type(const http_request_t *req);

/* http_request_body: the raw body bytes (also for parsed forms); *len gets
 * its length. Never NULL. */
const uint8_t *http_request_body(const http_request_t *req, size_t *len);
/* http_request_json: parses the body as one JSON value. Returns a new
 * reference (the caller drops it with json_object_put), or NULL with
 * MT_ERR_INVALID when the body is not exactly one JSON value. */
struct json_object *http_request_json(const http_request_t *req, mt_error_t **err);

/* Parameter lookups by exact (case-sensitive) name. Each returns the value
 * of the first parameter with that name, or NULL. http_request_param looks
 * in the form first, then in the query. */
const char *http_request_query(const http_request_t *req, const char *name);
const char *http_request_form(const http_request_t *req, const char *name);
const char *http_request_param(const http_request_t *req, const char *name);
/* http_request_has_param: 1 if the form or the query has the name (even
 * with an empty value), 0 otherwise. */
int http_request_has_param(const http_request_t *req, const char *name);
/* http_request_params: all parameters of a source, in the order sent; *n
 * gets the count. The array belongs to the request. */
const http_param_t *http_request_params(const http_request_t *req, http_source_t src, size_t *n);
/* http_request_find_param: multi-valued lookup. Returns the first
 * parameter of src named name that comes after prev (NULL to start), or
 * NULL when there are no more:
 *     for (p = http_request_find_param(r, HTTP_SRC_ANY, "hashes", NULL); p;
 *          p = http_request_find_param(r, HTTP_SRC_ANY, "hashes", p)) ...
 * prev must be NULL or a pointer this request returned for the same src. */
const http_param_t *http_request_find_param(const http_request_t *req, http_source_t src,
                                            const char *name, const http_param_t *prev);
/* http_request_count_param: how many parameters of src have that name. */
size_t http_request_count_param(const http_request_t *req, http_source_t src, const char *name);

/* http_request_cookie: the value of a cookie from the Cookie header (the
 * first one if repeated), without surrounding quotes; NULL when absent.
 * Parsed like browsers do: pairs without '=' or with an empty name are
 * skipped and blanks around names and values are trimmed. */
const char *http_request_cookie(const http_request_t *req, const char *name);

/* http_request_basic_auth: 0 and the decoded user and password (owned by
 * the request) when Authorization is a well-formed "Basic" header: strict
 * base64 with padding, decoding to "user:password" without NUL bytes.
 * -1 otherwise (absent, other scheme, bad base64, no ':'). user and pass
 * may be NULL. See the header comment about Apache's CGIPassAuth. */
int http_request_basic_auth(const http_request_t *req, const char **user, const char **pass);
/* http_request_bearer: the token of an "Authorization: Bearer <token>"
 * header (RFC 6750 token68 syntax), or NULL. */
const char *http_request_bearer(const http_request_t *req);

/* http_request_path_param: a "{name}" segment captured by the router, or
 * NULL. */
const char *http_request_path_param(const http_request_t *req, const char *name);
/* http_request_set_path_param: stores a captured segment (the router calls
 * this; programs rarely need to). Copies name and value. */
void http_request_set_path_param(http_request_t *req, const char *name, const char *value,
                                 size_t value_len);
/* http_request_clear_path_params: forgets every captured segment. */
void http_request_clear_path_params(http_request_t *req);

#endif
