/* import_part.h: a download in progress in aMule or eMule (its .part.met
 * and .part data) made into a Muleteer part file with the same data,
 * gaps, hashes, category and priority. */
#ifndef MT_DAEMON_IMPORT_PART_H
#define MT_DAEMON_IMPORT_PART_H

#include <stdint.h>

#include "daemon/transfer/partfile.h"
#include "ed2k/partmet.h"
#include "util/error.h"

/* imp_part_read: reads and parses the .part.met at met_path into *rec
 * (clear it with ed2k_file_record_clear, also after an error); the errors
 * of mt_file_read and ed2k_partmet_parse. */
int imp_part_read(const char *met_path, ed2k_file_record_t *rec, mt_error_t **err);

/* imp_prio: Muleteer's priority (DLA_PRIO_*) of an aMule one. */
int imp_prio(int ed2k_prio);

/* imp_part_create: a new part file in temp_dir for rec, holding the bytes
 * of data_path (the other client's data file, at final offsets) outside
 * rec's gaps; data_path is only read. The hash set (when whole and right),
 * AICH root, category (NULL: none) and priority come along; a paused one
 * stays paused. The filled parts are not verified yet (dlq_adopt does
 * that). Blocking (it copies the data). NULL with err: pf_create's errors,
 * MT_ERR_IO when data_path cannot be read; nothing is left on disk. */
partfile_t *imp_part_create(const char *temp_dir, const ed2k_file_record_t *rec,
                            const char *data_path, const char *category, mt_error_t **err);

#endif
