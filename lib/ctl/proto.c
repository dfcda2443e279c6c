/* proto.c: encoding and strict parsing of control-socket requests and
 * replies. Everything parsed here comes from another process and is
 * treated as untrusted. */
#include "config.h"

#include "ctl/proto.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctl_request {
    json_object *id;
    char *cmd;
    json_object *args;
};

struct ctl_reply {
    json_object *root;
    json_object *id;
    json_object *result;
    ctl_errcode_t code;
    char *message;
};

static const struct {
    ctl_errcode_t code;
    const char *name;
    int mt;
} errcodes[] = {
    { CTL_E_PARSE, "parse_error", MT_ERR_INVALID },
    { CTL_E_INVALID_REQUEST, "invalid_request", MT_ERR_INVALID },
    { CTL_E_LINE_TOO_LONG, "line_too_long", MT_ERR_TOO_LARGE },
    { CTL_E_UNKNOWN_COMMAND, "unknown_command", MT_ERR_UNSUPPORTED },
    { CTL_E_INVALID_ARGS, "invalid_args", MT_ERR_INVALID },
    { CTL_E_NOT_FOUND, "not_found", MT_ERR_NOT_FOUND },
    { CTL_E_EXISTS, "exists", MT_ERR_EXISTS },
    { CTL_E_UNAVAILABLE, "unavailable", MT_ERR_UNAVAILABLE },
    { CTL_E_BUSY, "busy", MT_ERR_UNAVAILABLE },
    { CTL_E_INTERNAL, "internal", MT_ERR_INTERNAL },
    { CTL_E_IO, "io_error", MT_ERR_IO },
    { CTL_E_NO_SPACE, "no_space", MT_ERR_NO_SPACE },
};
#define N_ERRCODES (sizeof errcodes / sizeof errcodes[0])

const char *
ctl_errcode_name(ctl_errcode_t code)
{
    for (size_t i = 0; i < N_ERRCODES; i++)
        if (errcodes[i].code == code)
            return errcodes[i].name;
    return "internal";
}

ctl_errcode_t
ctl_errcode_parse(const char *name)
{
    for (size_t i = 0; i < N_ERRCODES; i++)
        if (strcmp(errcodes[i].name, name) == 0)
            return errcodes[i].code;
    return 0;
}

int
ctl_errcode_to_mt(ctl_errcode_t code)
{
    for (size_t i = 0; i < N_ERRCODES; i++)
        if (errcodes[i].code == code)
            return errcodes[i].mt;
    return MT_ERR_INTERNAL;
}

ctl_errcode_t
ctl_errcode_from_mt(int mt_code)
{
    switch (mt_code) {
    case MT_ERR_INVALID:
    case MT_ERR_TOO_LARGE:
        return CTL_E_INVALID_ARGS;
    case MT_ERR_NOT_FOUND:
        return CTL_E_NOT_FOUND;
    case MT_ERR_EXISTS:
        return CTL_E_EXISTS;
    case MT_ERR_UNSUPPORTED:
        return CTL_E_UNKNOWN_COMMAND;
    case MT_ERR_UNAVAILABLE:
    case MT_ERR_DB:
    case MT_ERR_TIMEOUT:
        return CTL_E_UNAVAILABLE;
    case MT_ERR_IO:
        return CTL_E_IO;
    case MT_ERR_NO_SPACE:
        return CTL_E_NO_SPACE;
    default:
        return CTL_E_INTERNAL;
    }
}

/* Parses text that must be exactly one JSON value; NULL on any error. */
static json_object *
parse_json(const char *line, size_t len, mt_error_t **err, int code)
{
    if (memchr(line, '\0', len) != NULL) {
        mt_error_set(err, code, "line contains a NUL byte");
        return NULL;
    }
    json_tokener *tok = json_tokener_new_ex(64);
    if (tok == NULL) {
        mt_error_set(err, MT_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = json_tokener_parse_ex(tok, line, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    if (obj == NULL || jerr != json_tokener_success) {
        /* json_tokener_continue: the value ended early (e.g. "{"). */
        mt_error_set(err, code, "malformed JSON: %s",
                     jerr == json_tokener_continue ? "unexpected end of line"
                                                   : json_tokener_error_desc(jerr));
        json_object_put(obj);
        json_tokener_free(tok);
        return NULL;
    }
    json_tokener_free(tok);
    for (size_t i = used; i < len; i++) {
        char c = line[i];
        if (c != ' ' && c != '\t' && c != '\r') {
            mt_error_set(err, code, "malformed JSON: trailing data after the object");
            json_object_put(obj);
            return NULL;
        }
    }
    return obj;
}

/* ------------------------------------------------------------- text */

/* text_fault: why len bytes of s are not text fit to cross the socket, or
 * NULL when they are. */
static const char *
text_fault(const char *s, size_t len)
{
    if (!mt_utf8_is_valid(s, len))
        return "invalid UTF-8";
    if (memchr(s, '\0', len) != NULL)
        return "contains U+0000";
    return NULL;
}

/* cut_utf8: the longest prefix of valid UTF-8 s of at most max bytes that
 * ends on a character boundary (messages quote names; a reply must stay
 * valid UTF-8). */
static int
cut_utf8(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return (int)n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

/* A path into the arguments, for messages: "tags[1]", "filter.name". */
typedef struct {
    char buf[192];
    size_t len;
} argpath_t;

static size_t
path_push_key(argpath_t *p, const char *key)
{
    size_t saved = p->len;
    int n = snprintf(p->buf + p->len, sizeof p->buf - p->len, "%s%.*s", p->len > 0 ? "." : "",
                     cut_utf8(key, 64), key);
    if (n < 0 || (size_t)n >= sizeof p->buf - p->len)
        p->buf[p->len] = '\0'; /* too deep to name: the path stops here */
    else
        p->len += (size_t)n;
    return saved;
}

static size_t
path_push_index(argpath_t *p, size_t i)
{
    size_t saved = p->len;
    int n = snprintf(p->buf + p->len, sizeof p->buf - p->len, "[%zu]", i);
    if (n < 0 || (size_t)n >= sizeof p->buf - p->len)
        p->buf[p->len] = '\0';
    else
        p->len += (size_t)n;
    return saved;
}

static void
path_pop(argpath_t *p, size_t saved)
{
    p->len = saved;
    p->buf[saved] = '\0';
}

static int
check_text_at(json_object *v, argpath_t *path, mt_error_t **err)
{
    const char *why;
    switch (json_object_get_type(v)) {
    case json_type_string:
        why = text_fault(json_object_get_string(v), (size_t)json_object_get_string_len(v));
        if (why != NULL) {
            mt_error_set(err, MT_ERR_INVALID, "%s: %s", path->len > 0 ? path->buf : "args", why);
            return -1;
        }
        return 0;
    case json_type_object: {
        json_object_object_foreach(v, key, val)
        {
            why = text_fault(key, strlen(key));
            if (why != NULL) {
                mt_error_set(err, MT_ERR_INVALID, "%s: a member name has %s",
                             path->len > 0 ? path->buf : "args", why);
                return -1;
            }
            size_t saved = path_push_key(path, key);
            int rc = check_text_at(val, path, err);
            path_pop(path, saved);
            if (rc != 0)
                return -1;
        }
        return 0;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t saved = path_push_index(path, i);
            int rc = check_text_at(json_object_array_get_idx(v, i), path, err);
            path_pop(path, saved);
            if (rc != 0)
                return -1;
        }
        return 0;
    default:
        return 0;
    }
}

int
ctl_check_text(json_object *v, mt_error_t **err)
{
    argpath_t path = { .len = 0 };
    path.buf[0] = '\0';
    return v != NULL ? check_text_at(v, &path, err) : 0;
}

/* ---------------------------------------------------------- requests */

static int
valid_id(json_object *id)
{
    if (id == NULL)
        return 1;
    switch (json_object_get_type(id)) {
    case json_type_int:
        return 1;
    case json_type_string:
        return json_object_get_string_len(id) <= CTL_MAX_ID_LEN &&
               text_fault(json_object_get_string(id),
                          (size_t)json_object_get_string_len(id)) == NULL;
    default:
        return 0;
    }
}

static int
valid_cmd(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

int
ctl_request_parse(const char *line, size_t len, ctl_request_t **out,
                  json_object **id_out, mt_error_t **err)
{
    *out = NULL;
    if (id_out != NULL)
        *id_out = NULL;
    if (len >= CTL_MAX_LINE) {
        mt_error_set(err, CTL_E_LINE_TOO_LONG, "line longer than %d bytes",
                     CTL_MAX_LINE - 1);
        return -1;
    }
    json_object *root = parse_json(line, len, err, CTL_E_PARSE);
    if (root == NULL)
        return -1;
    if (!json_object_is_type(root, json_type_object)) {
        mt_error_set(err, CTL_E_INVALID_REQUEST, "a request must be a JSON object");
        json_object_put(root);
        return -1;
    }
    json_object *id = NULL, *cmd = NULL, *args = NULL;
    json_object_object_get_ex(root, "id", &id);
    if (!valid_id(id)) {
        mt_error_set(err, CTL_E_INVALID_REQUEST,
                     "\"id\" must be an integer or a string of at most %d bytes",
                     CTL_MAX_ID_LEN);
        json_object_put(root);
        return -1;
    }
    int rc = -1;
    json_object_object_foreach(root, key, val)
    {
        (void)val;
        if (text_fault(key, strlen(key)) != NULL) {
            mt_error_set(err, CTL_E_INVALID_REQUEST, "a member name is not valid UTF-8");
            goto out;
        }
        if (strcmp(key, "id") != 0 && strcmp(key, "cmd") != 0 && strcmp(key, "args") != 0) {
            mt_error_set(err, CTL_E_INVALID_REQUEST, "unknown member \"%.*s\"",
                         cut_utf8(key, 40), key);
            goto out;
        }
    }
    if (!json_object_object_get_ex(root, "cmd", &cmd) ||
        !json_object_is_type(cmd, json_type_string)) {
        mt_error_set(err, CTL_E_INVALID_REQUEST, "\"cmd\" must be a string");
        goto out;
    }
    if (!valid_cmd(json_object_get_string(cmd), (size_t)json_object_get_string_len(cmd))) {
        mt_error_set(err, CTL_E_UNKNOWN_COMMAND, "unknown command");
        goto out;
    }
    if (json_object_object_get_ex(root, "args", &args) && args != NULL &&
        !json_object_is_type(args, json_type_object)) {
        mt_error_set(err, CTL_E_INVALID_REQUEST, "\"args\" must be an object");
        goto out;
    }
    mt_error_t *terr = NULL;
    if (ctl_check_text(args, &terr) != 0) {
        mt_error_set(err, CTL_E_INVALID_ARGS, "%s", terr->message);
        mt_error_free(terr);
        goto out;
    }
    ctl_request_t *req = xcalloc(1, sizeof *req);
    req->id = id != NULL ? json_object_get(id) : NULL;
    req->cmd = xstrdup(json_object_get_string(cmd));
    req->args = args != NULL ? json_object_get(args) : json_object_new_object();
    *out = req;
    rc = 0;
out:
    /* On failure the caller gets the id, to put into the error reply. */
    if (rc != 0 && id_out != NULL && id != NULL)
        *id_out = json_object_get(id);
    json_object_put(root);
    return rc;
}

void
ctl_request_free(ctl_request_t *req)
{
    if (req == NULL)
        return;
    json_object_put(req->id);
    json_object_put(req->args);
    free(req->cmd);
    free(req);
}

json_object *
ctl_request_id(const ctl_request_t *req)
{
    return req->id;
}

const char *
ctl_request_cmd(const ctl_request_t *req)
{
    return req->cmd;
}

json_object *
ctl_request_args(const ctl_request_t *req)
{
    return req->args;
}

static char *
to_line(json_object *obj)
{
    const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
    char *line = xasprintf("%s\n", s);
    json_object_put(obj);
    return line;
}

char *
ctl_request_encode(long long id, const char *cmd, json_object *args)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(id));
    json_object_object_add(o, "cmd", json_object_new_string(cmd));
    if (args != NULL)
        json_object_object_add(o, "args", json_object_get(args));
    return to_line(o);
}

char *
ctl_reply_result(json_object *id, json_object *result)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", id != NULL ? json_object_get(id) : NULL);
    json_object_object_add(o, "result", result != NULL ? json_object_get(result) : NULL);
    return to_line(o);
}

char *
ctl_reply_error(json_object *id, ctl_errcode_t code, const char *message)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", id != NULL ? json_object_get(id) : NULL);
    json_object *e = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_string(ctl_errcode_name(code)));
    json_object_object_add(e, "message", json_object_new_string(message != NULL ? message : ""));
    json_object_object_add(o, "error", e);
    return to_line(o);
}

int
ctl_reply_parse(const char *line, size_t len, ctl_reply_t **out, mt_error_t **err)
{
    *out = NULL;
    if (len >= CTL_MAX_REPLY) {
        mt_error_set(err, MT_ERR_PROTOCOL, "reply longer than %d bytes", CTL_MAX_REPLY - 1);
        return -1;
    }
    json_object *root = parse_json(line, len, err, MT_ERR_PROTOCOL);
    if (root == NULL)
        return -1;
    json_object *id = NULL, *result = NULL, *error = NULL;
    int has_result = json_object_is_type(root, json_type_object) &&
                     json_object_object_get_ex(root, "result", &result);
    int has_error = json_object_is_type(root, json_type_object) &&
                    json_object_object_get_ex(root, "error", &error);
    if (has_result == has_error) {
        mt_error_set(err, MT_ERR_PROTOCOL,
                     "a reply must be an object with either \"result\" or \"error\"");
        json_object_put(root);
        return -1;
    }
    ctl_reply_t *r = xcalloc(1, sizeof *r);
    r->root = root;
    json_object_object_get_ex(root, "id", &id);
    r->id = id;
    if (has_result) {
        r->result = result;
    } else {
        json_object *code = NULL, *msg = NULL;
        if (!json_object_is_type(error, json_type_object) ||
            !json_object_object_get_ex(error, "code", &code) ||
            !json_object_is_type(code, json_type_string) ||
            !json_object_object_get_ex(error, "message", &msg) ||
            !json_object_is_type(msg, json_type_string)) {
            mt_error_set(err, MT_ERR_PROTOCOL,
                         "an error reply needs string \"code\" and \"message\"");
            ctl_reply_free(r);
            return -1;
        }
        r->code = ctl_errcode_parse(json_object_get_string(code));
        if (r->code == 0)
            r->code = CTL_E_INTERNAL;
        r->message = xstrdup(json_object_get_string(msg));
    }
    *out = r;
    return 0;
}

void
ctl_reply_free(ctl_reply_t *r)
{
    if (r == NULL)
        return;
    json_object_put(r->root);
    free(r->message);
    free(r);
}

json_object *
ctl_reply_id(const ctl_reply_t *r)
{
    return r->id;
}

int
ctl_reply_is_error(const ctl_reply_t *r)
{
    return r->message != NULL;
}

json_object *
ctl_reply_result_obj(const ctl_reply_t *r)
{
    return r->result;
}

json_object *
ctl_reply_take_result(ctl_reply_t *r)
{
    return r->result != NULL ? json_object_get(r->result) : NULL;
}

ctl_errcode_t
ctl_reply_error_code(const ctl_reply_t *r)
{
    return r->code;
}

const char *
ctl_reply_error_message(const ctl_reply_t *r)
{
    return r->message != NULL ? r->message : "";
}
