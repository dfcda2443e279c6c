/* cmd_transfer.h: the control commands for downloads, finished downloads,
 * shared files and limits (docs/control-protocol.md): add, downloads,
 * priority, pause, resume, stop, delete, set-category, tags-add,
 * tags-remove, share-limits, force-start, shared, rescan, uploads, limits. */
#ifndef MT_DAEMON_CMD_TRANSFER_H
#define MT_DAEMON_CMD_TRANSFER_H

#include <json-c/json.h>

#include "util/error.h"

int cmd_add(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_downloads(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_priority(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_pause(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_resume(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_stop(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_delete(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_set_category(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_tags_add(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_tags_remove(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_share_limits(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_force_start(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_tag_create(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_tag_delete(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_tags(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_rename(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_set_location(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_recheck(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_reannounce(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_rate_limits(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_shared(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_rescan(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_uploads(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_limits(void *ctx, json_object *args, json_object **result, mt_error_t **err);
int cmd_parts(void *ctx, json_object *args, json_object **result, mt_error_t **err);
/* share-config: get or set the global share limits {max_ratio,
 * max_seeding_time, max_ratio_act}, saved to the configuration file. */
int cmd_share_config(void *ctx, json_object *args, json_object **result, mt_error_t **err);
/* settings: get or set {max_connections, upload_slots, tcp_port}, saved to
 * the configuration file; the port takes effect after a restart. */
int cmd_settings(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
