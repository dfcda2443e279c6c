/* cmd_hooks.c: `hooks` and `hooks-test {event, hash, name, size, path,
 * category, error}`: the hooks' counters, and a test event that runs the
 * event's program and sends its webhooks as a real one would, marked as a
 * test (MULETEER_TEST=1, "test": true). */
#include "config.h"

#include "ctl/args.h"
#include "daemon/ctl/cmd_hooks.h"
#include "daemon/core/daemon.h"
#include "daemon/hooks/hooks.h"

#include <string.h>
#include <time.h>

static void
add_u64(json_object *o, const char *k, uint64_t v)
{
    json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

int
hooks_cmd_stats(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    (void)args;
    (void)err;
    muleteerd_t *d = ctx;
    hooks_stats_t st;
    webhook_stats_t ws;
    hooks_get_stats(d->hooks, &st, &ws);
    json_object *p = json_object_new_object();
    add_u64(p, "running", st.running);
    add_u64(p, "queued", st.queued);
    add_u64(p, "started", st.started);
    add_u64(p, "succeeded", st.succeeded);
    add_u64(p, "failed", st.failed);
    add_u64(p, "killed", st.killed);
    add_u64(p, "dropped", st.dropped);
    add_u64(p, "output_dropped", st.output_dropped);
    json_object *w = json_object_new_object();
    add_u64(w, "pending", ws.pending);
    add_u64(w, "queued", ws.queued);
    add_u64(w, "delivered", ws.delivered);
    add_u64(w, "retried", ws.retried);
    add_u64(w, "failed", ws.failed);
    add_u64(w, "dropped", ws.dropped);
    *result = json_object_new_object();
    json_object_object_add(*result, "programs", p);
    json_object_object_add(*result, "webhooks", w);
    return 0;
}

int
hooks_cmd_test(void *ctx, json_object *args, json_object **result, mt_error_t **err)
{
    muleteerd_t *d = ctx;
    static const char *const events[] = { "added", "completed", "failed", "disk_full" };
    const char *event = NULL, *hash = NULL, *name = NULL, *path = NULL, *category = NULL,
               *error = NULL;
    int64_t size = 0;
    bool has_size;
    if (ctl_arg_str(args, "event", true, &event, 32, err) != 0 ||
        ctl_arg_str(args, "hash", false, &hash, 32, err) != 0 ||
        ctl_arg_str(args, "name", false, &name, 1024, err) != 0 ||
        ctl_arg_str(args, "path", false, &path, 4096, err) != 0 ||
        ctl_arg_str(args, "category", false, &category, 1024, err) != 0 ||
        ctl_arg_str(args, "error", false, &error, 1024, err) != 0 ||
        ctl_arg_int(args, "size", 0, INT64_MAX, &has_size, &size, err) != 0)
        return -1;
    size_t i = 0;
    while (i < sizeof events / sizeof events[0] && strcmp(events[i], event) != 0)
        i++;
    if (i == sizeof events / sizeof events[0]) {
        mt_error_set(err, MT_ERR_INVALID,
                     "\"event\" must be added, completed, failed or disk_full");
        return -1;
    }
    hook_event_t ev = {
        .event = events[i],
        .time = (int64_t)time(NULL),
        .hash = hash != NULL ? hash : "00000000000000000000000000000000",
        .name = name != NULL ? name : "muleteer-hook-test.bin",
        .size = (uint64_t)size,
        .path = path,
        .category = category,
        .added_by = "hooks-test",
        .error = error != NULL ? error
                 : strcmp(events[i], "failed") == 0 || strcmp(events[i], "disk_full") == 0
                     ? "a test event"
                     : NULL,
        .test = true,
    };
    size_t webhooks = 0;
    hooks_outcome_t o = hooks_fire(d->hooks, &ev, &webhooks);
    *result = json_object_new_object();
    json_object_object_add(*result, "event", json_object_new_string(ev.event));
    json_object_object_add(*result, "program", json_object_new_string(hooks_outcome_name(o)));
    add_u64(*result, "webhooks", webhooks);
    return 0;
}
