/* proto.h: the control-socket message codec shared by muleteerd, the CLI
 * and every FastCGI program: newline-delimited JSON requests and replies
 * (docs/control-protocol.md). */
#ifndef MT_CTL_PROTO_H
#define MT_CTL_PROTO_H

#include <json-c/json.h>
#include <stddef.h>

#include "util/error.h"

/* Longest request line muleteerd accepts, newline included. */
#define CTL_MAX_LINE 65536
/* Longest reply line a client accepts, newline included: lists of every
 * shared file or download can be long (about 200 bytes per entry). */
#define CTL_MAX_REPLY (64 * 1024 * 1024)
/* Longest string id accepted. */
#define CTL_MAX_ID_LEN 64

/* Error codes carried in replies ("code" member), see the protocol doc. */
typedef enum {
    CTL_E_PARSE = 1,       /* "parse_error": the line is not JSON */
    CTL_E_INVALID_REQUEST, /* "invalid_request": JSON, but not a request */
    CTL_E_LINE_TOO_LONG,   /* "line_too_long" */
    CTL_E_UNKNOWN_COMMAND, /* "unknown_command" */
    CTL_E_INVALID_ARGS,    /* "invalid_args" */
    CTL_E_NOT_FOUND,       /* "not_found" */
    CTL_E_EXISTS,          /* "exists" */
    CTL_E_UNAVAILABLE,     /* "unavailable": e.g. the database is down */
    CTL_E_BUSY,            /* "busy": too many clients */
    CTL_E_INTERNAL,        /* "internal" */
    CTL_E_IO,              /* "io_error": a file could not be read or written */
    CTL_E_NO_SPACE,        /* "no_space": a disk or quota is full */
} ctl_errcode_t;

/* ctl_errcode_name: the wire name of a code ("internal" for unknown). */
const char *ctl_errcode_name(ctl_errcode_t code);
/* ctl_errcode_parse: the code for a wire name, or 0 when unknown. */
ctl_errcode_t ctl_errcode_parse(const char *name);
/* ctl_errcode_to_mt: the generic mt_error code matching a reply code. */
int ctl_errcode_to_mt(ctl_errcode_t code);
/* ctl_errcode_from_mt: the reply code for a generic mt_error code. */
ctl_errcode_t ctl_errcode_from_mt(int mt_code);

/* ctl_check_text: every string in v, at any depth (values and member
 * names), is strict UTF-8 (mt_utf8_is_valid: no overlong forms, no
 * surrogates, nothing above U+10FFFF) without U+0000. v may be NULL. On
 * failure returns -1 with MT_ERR_INVALID and a message naming the
 * argument, its path from v: "incoming_path: invalid UTF-8",
 * "tags[1]: invalid UTF-8", "filter.name: contains U+0000". The daemon
 * refuses such a request (invalid_args); the client refuses to send one. */
int ctl_check_text(json_object *v, mt_error_t **err);

typedef struct ctl_request ctl_request_t;

/* ctl_request_parse: parses one line (without its newline; embedded NUL
 * bytes are an error). Every string must be strict UTF-8 without U+0000:
 * bytes that are no UTF-8 at all make the line a parse_error; overlong
 * forms, surrogates, code points above U+10FFFF and U+0000 (which JSON
 * parsers let through) are an invalid_args error naming the argument
 * (ctl_check_text), or invalid_request in the id or a member name. On
 * success *out is a new request. On failure returns -1 with err->code a
 * ctl_errcode_t, and *id_out (when not NULL) holds the request's id if one
 * could be read, else NULL; the caller puts it with json_object_put. */
int ctl_request_parse(const char *line, size_t len, ctl_request_t **out,
                      json_object **id_out, mt_error_t **err);
void ctl_request_free(ctl_request_t *req);
/* Accessors; pointers are owned by the request. args is never NULL (an
 * empty object when the request had none). */
json_object *ctl_request_id(const ctl_request_t *req);
const char *ctl_request_cmd(const ctl_request_t *req);
json_object *ctl_request_args(const ctl_request_t *req);

/* ctl_request_encode: a request line ending in '\n'; args may be NULL and
 * is not consumed. The caller frees the string. */
char *ctl_request_encode(long long id, const char *cmd, json_object *args);

/* ctl_reply_result / ctl_reply_error: reply lines ending in '\n'. id may be
 * NULL (JSON null). Nothing is consumed; the caller frees the string. */
char *ctl_reply_result(json_object *id, json_object *result);
char *ctl_reply_error(json_object *id, ctl_errcode_t code, const char *message);

typedef struct ctl_reply ctl_reply_t;

/* ctl_reply_parse: parses a reply line; -1 with MT_ERR_PROTOCOL when it is
 * not a well-formed reply. */
int ctl_reply_parse(const char *line, size_t len, ctl_reply_t **out,
                    mt_error_t **err);
void ctl_reply_free(ctl_reply_t *reply);
json_object *ctl_reply_id(const ctl_reply_t *reply);
/* ctl_reply_is_error: non-zero for an error reply. */
int ctl_reply_is_error(const ctl_reply_t *reply);
/* ctl_reply_result: the result (owned by the reply), NULL for errors. */
json_object *ctl_reply_result_obj(const ctl_reply_t *reply);
/* ctl_reply_take_result: the result with a new reference for the caller. */
json_object *ctl_reply_take_result(ctl_reply_t *reply);
ctl_errcode_t ctl_reply_error_code(const ctl_reply_t *reply);
const char *ctl_reply_error_message(const ctl_reply_t *reply);

#endif
