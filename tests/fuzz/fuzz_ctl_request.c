/* fuzz_ctl_request.c: fuzz target for the control-protocol request and
 * reply parsers (lib/ctl/proto.c); every line a client can send. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/proto.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    ctl_request_t *req = NULL;
    json_object *id = NULL;
    mt_error_t *err = NULL;
    if (ctl_request_parse(line, size, &req, &id, &err) == 0) {
        /* A parsed request must survive being answered and re-read. */
        char *reply = ctl_reply_result(ctl_request_id(req), ctl_request_args(req));
        /* what the daemon accepted and echoes is strict UTF-8 */
        if (!mt_utf8_is_valid(reply, strlen(reply)))
            abort();
        ctl_reply_t *r = NULL;
        if (ctl_reply_parse(reply, strlen(reply) - 1, &r, NULL) != 0)
            abort();
        ctl_reply_free(r);
        free(reply);
        ctl_request_free(req);
    } else {
        if (err == NULL)
            abort();
        char *reply = ctl_reply_error(id, (ctl_errcode_t)err->code, err->message);
        /* an error reply (its id, its message quoting names) too */
        if (!mt_utf8_is_valid(reply, strlen(reply)))
            abort();
        free(reply);
        mt_error_free(err);
        json_object_put(id);
    }
    ctl_reply_t *r = NULL;
    mt_error_t *rerr = NULL;
    if (ctl_reply_parse(line, size, &r, &rerr) == 0) {
        (void)ctl_reply_is_error(r);
        (void)ctl_reply_error_message(r);
        ctl_reply_free(r);
    }
    mt_error_free(rerr);
    return 0;
}
