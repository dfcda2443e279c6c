/* import_src.h: what an aMule or eMule configuration directory holds for
 * an import: its layout (amule.conf, or eMule's config/ and Temp/), the
 * temp and incoming directories, categories, shared directories, limits
 * and the paths of its .met and .dat files. Reads files only. */
#ifndef MT_DAEMON_IMPORT_SRC_H
#define MT_DAEMON_IMPORT_SRC_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct imp_cat {
    uint32_t index; /* the number of its [Cat#N] section: FT_CATEGORY's value */
    char *title, *incoming, *comment;
} imp_cat_t;

typedef struct imp_src {
    const char *kind;  /* "amule" or "emule" */
    char *dir;         /* the configuration directory */
    char *met_dir;     /* where server.met, known.met, clients.met... live */
    char *temp_dir;    /* the .part files (NULL: none found) */
    char *incoming_dir; /* NULL: none found */
    imp_cat_t *cats;
    size_t n_cats;
    char **shared_dirs; /* shareddir.dat's lines that are directories */
    size_t n_shared_dirs;
    long max_upload, max_download; /* kB/s, 0: unlimited; -1: not set */
    long tcp_port, udp_port;       /* -1: not set */
} imp_src_t;

/* imp_src_open: reads dir (absolute) as kind "amule", "emule" or NULL
 * (guessed: amule.conf means aMule, config/ eMule). A temp or incoming
 * directory named in the configuration that does not exist here (an
 * eMule's Windows path) falls back to DIR/Temp and DIR/Incoming.
 * MT_ERR_NOT_FOUND when dir is neither; MT_ERR_INVALID for a bad kind.
 * Free with imp_src_free (accepts NULL). */
imp_src_t *imp_src_open(const char *dir, const char *kind, mt_error_t **err);
void imp_src_free(imp_src_t *s);

/* imp_src_path: met_dir/name (a new string). */
char *imp_src_path(const imp_src_t *s, const char *name);
/* imp_src_category: the title of category index, NULL for 0 or unknown. */
const char *imp_src_category(const imp_src_t *s, uint32_t index);

#endif
