/* taglist.h: the node's tag list, kept apart from the downloads as
 * qBittorrent keeps its tags (torrents/createTags, deleteTags): the names,
 * $state_dir/tags.json and the tags table. */
#ifndef MT_DAEMON_TAGLIST_H
#define MT_DAEMON_TAGLIST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define TAGL_MAX 4096 /* tags on the list */

struct muleteerd;
typedef struct taglist taglist_t;

/* tagl_new: the list saved in $state_dir/tags.json (an unreadable file is
 * kept aside as tags.json.bad; invalid names in it are skipped). */
taglist_t *tagl_new(struct muleteerd *d);
void tagl_free(taglist_t *t);
/* tagl_tick: writes the tags table after a change or an outage. */
void tagl_tick(taglist_t *t);

/* tagl_add: adds tag (normalized as a download's tag: dlattr.h); one
 * already there is fine. MT_ERR_INVALID for a bad name (nothing changed)
 * or a full list, MT_ERR_IO when the file cannot be written (the change is
 * kept and written with the next one). */
int tagl_add(taglist_t *t, const char *tag, mt_error_t **err);
/* tagl_remove: removes tag; *removed says whether it was there. Errors as
 * tagl_add. */
int tagl_remove(taglist_t *t, const char *tag, bool *removed, mt_error_t **err);
bool tagl_has(const taglist_t *t, const char *tag);
size_t tagl_count(const taglist_t *t);
/* tagl_to_json: the names, sorted (caller puts it). */
json_object *tagl_to_json(const taglist_t *t);

#endif
