/* import_part.c: another client's partial download made into a Muleteer
 * part file (import_part.h): the ranges outside its gaps are copied. */
#include "config.h"

#include "daemon/transfer/import_part.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/transfer/dlattr.h"
#include "ed2k/hash.h"
#include "util/file.h"
#include "util/xalloc.h"

#define IMP_MAX_MET (64u << 20)
#define IMP_CHUNK (1u << 20)

int
imp_part_read(const char *met_path, ed2k_file_record_t *rec, mt_error_t **err)
{
    size_t len = 0;
    memset(rec, 0, sizeof *rec);
    rec->dl_priority = -1;
    uint8_t *data = mt_file_read(met_path, IMP_MAX_MET, &len, err);
    if (data == NULL)
        return -1;
    int rc = ed2k_partmet_parse(data, len, rec, err);
    free(data);
    return rc;
}

int
imp_prio(int p)
{
    switch (p) {
    case ED2K_PRIO_LOW:
    case ED2K_PRIO_VERYLOW:
        return DLA_PRIO_LOW;
    case ED2K_PRIO_HIGH:
    case ED2K_PRIO_VERYHIGH:
        return DLA_PRIO_HIGH;
    default:
        return DLA_PRIO_NORMAL;
    }
}

/* copy_range: [start, end) of fd into pf; a source shorter than end (aMule
 * does not preallocate) ends the range early: what is missing stays a gap. */
static int
copy_range(partfile_t *pf, int fd, uint64_t start, uint64_t end, uint8_t *buf,
           mt_error_t **err)
{
    while (start < end) {
        size_t want = end - start < IMP_CHUNK ? (size_t)(end - start) : IMP_CHUNK;
        ssize_t got = pread(fd, buf, want, (off_t)start);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            mt_error_set(err, MT_ERR_IO, "cannot read the data: %s", strerror(errno));
            return -1;
        }
        if (got == 0)
            return 0;
        if (pf_write(pf, start, buf, (size_t)got, err) != 0)
            return -1;
        start += (uint64_t)got;
    }
    return 0;
}

static int
copy_data(partfile_t *pf, const ed2k_file_record_t *rec, const char *data_path,
          mt_error_t **err)
{
    int fd = open(data_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        mt_error_set(err, MT_ERR_IO, "cannot open %s: %s", data_path, strerror(errno));
        return -1;
    }
    uint8_t *buf = xmalloc(IMP_CHUNK);
    uint64_t pos = 0;
    int rc = 0;
    for (size_t i = 0; i <= rec->n_gaps && rc == 0; i++) {
        uint64_t end = i < rec->n_gaps ? rec->gaps[i].start : rec->size;
        if (pos < end)
            rc = copy_range(pf, fd, pos, end, buf, err);
        if (i < rec->n_gaps)
            pos = rec->gaps[i].end;
    }
    free(buf);
    close(fd);
    return rc;
}

/* set_attrs: what the other client knew of the download beyond its data. */
static int
set_attrs(partfile_t *pf, const ed2k_file_record_t *rec, const char *category,
          mt_error_t **err)
{
    if (rec->n_part_hashes > 0 && rec->n_part_hashes == ed2k_hash_count(rec->size))
        pf_set_hashset(pf, (const uint8_t(*)[ED2K_HASH_LEN])rec->part_hashes,
                       rec->n_part_hashes, NULL); /* a wrong set: asked of peers */
    if (rec->has_aich)
        pf_set_aich_root(pf, rec->aich);
    if (category != NULL && *category != '\0' && pf_set_category(pf, category, err) != 0)
        return -1;
    pf_set_priority(pf, imp_prio(rec->dl_priority));
    pf_set_added_at(pf, time(NULL));
    if (rec->status != 0)
        pf_set_state(pf, PF_STATE_PAUSED);
    return pf_set_added_via(pf, "import", err);
}

partfile_t *
imp_part_create(const char *temp_dir, const ed2k_file_record_t *rec, const char *data_path,
                const char *category, mt_error_t **err)
{
    char *name = pf_name_sanitize(rec->name, PF_MAX_NAME);
    partfile_t *pf = pf_create(temp_dir, rec->hash, rec->size, name, err);
    free(name);
    if (pf == NULL)
        return NULL;
    if (set_attrs(pf, rec, category, err) != 0 || copy_data(pf, rec, data_path, err) != 0 ||
        pf_save_now(pf, err) != 0) {
        pf_delete_files(pf, NULL);
        pf_free(pf);
        return NULL;
    }
    return pf;
}
