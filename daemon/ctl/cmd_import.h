/* cmd_import.h: the control command import-amule (cmd_import.c). */
#ifndef MT_DAEMON_CTL_CMD_IMPORT_H
#define MT_DAEMON_CTL_CMD_IMPORT_H

#include <json-c/json.h>

#include "util/error.h"

/* import-amule: {dir (absolute), kind ("amule" | "emule"; guessed when
 * absent), dry_run, move, limits}: what was (or, with dry_run, would be)
 * imported, per kind of file. */
int imp_cmd_import(void *ctx, json_object *args, json_object **result, mt_error_t **err);

#endif
