/* hookbody.c: a webhook's JSON body and its signature (hookbody.h). */
#include "config.h"

#include "daemon/hooks/hookbody.h"
#include "util/hex.h"
#include "util/xalloc.h"

#include <json-c/json.h>
#include <nettle/hmac.h>
#include <string.h>
#include <time.h>

/* str_or_null: s, or JSON null when the event does not know it. */
static json_object *
str_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? json_object_new_string(s) : NULL;
}

char *
hook_body_json(const hook_event_t *ev, const char *node)
{
    char when[32] = "";
    time_t t = (time_t)ev->time;
    struct tm tm;
    if (gmtime_r(&t, &tm) != NULL)
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object *dl = json_object_new_object();
    json_object_object_add(dl, "hash", str_or_null(ev->hash));
    json_object_object_add(dl, "name", str_or_null(ev->name));
    json_object_object_add(dl, "size", json_object_new_int64((int64_t)ev->size));
    json_object_object_add(dl, "path", str_or_null(ev->path));
    json_object_object_add(dl, "category", str_or_null(ev->category));
    json_object_object_add(dl, "added_by", str_or_null(ev->added_by));
    json_object_object_add(dl, "error", str_or_null(ev->error));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "event", str_or_null(ev->event));
    json_object_object_add(o, "time", json_object_new_string(when));
    json_object_object_add(o, "timestamp", json_object_new_int64(ev->time));
    json_object_object_add(o, "node", str_or_null(node));
    json_object_object_add(o, "test", json_object_new_boolean(ev->test));
    json_object_object_add(o, "download", dl);
    char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}

void
hook_signature(const char *secret, const char *body, size_t len, char out[HOOK_SIGNATURE_LEN])
{
    struct hmac_sha256_ctx ctx;
    uint8_t mac[SHA256_DIGEST_SIZE];
    hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
    hmac_sha256_update(&ctx, len, (const uint8_t *)body);
    hmac_sha256_digest(&ctx, sizeof mac, mac);
    memcpy(out, "sha256=", 7);
    mt_hex_encode(mac, sizeof mac, out + 7);
}
