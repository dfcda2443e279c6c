/* partfile_fields.c: reading and changing what a part file records: its
 * parts (filled, verified, their hashes), the hash set and AICH root, the
 * download's attributes and counters, the known sources. Every change
 * marks the metadata dirty (saved by partfile_save.c). */
#include "config.h"

#include "daemon/transfer/partfile_int.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

const uint8_t *
pf_hash(const partfile_t *pf)
{
    return pf->m->hash;
}

uint64_t
pf_size(const partfile_t *pf)
{
    return pf->m->size;
}

const char *
pf_name(const partfile_t *pf)
{
    return pf->m->name;
}

int
pf_set_name(partfile_t *pf, const char *name, mt_error_t **err)
{
    if (!pf_name_is_valid(name)) {
        mt_error_set(err, MT_ERR_INVALID,
                     "invalid name: it must be 1 .. %d bytes of UTF-8 without '/' or control "
                     "characters, and not \".\" or \"..\"",
                     PF_MAX_NAME);
        return -1;
    }
    char *copy = xstrdup(name);
    free(pf->m->name);
    pf->m->name = copy;
    pf->dirty = true;
    return 0;
}

const char *
pf_save_path(const partfile_t *pf)
{
    return pf->m->save_path;
}

int
pf_set_save_path(partfile_t *pf, const char *dir, mt_error_t **err)
{
    if (dir != NULL &&
        (dir[0] != '/' || strlen(dir) >= PF_MAX_PATH || !pf_text_ok(dir, strlen(dir), false))) {
        mt_error_set(err, MT_ERR_INVALID, "invalid save path: an absolute path of UTF-8 text");
        return -1;
    }
    char *copy = dir != NULL ? xstrdup(dir) : NULL;
    free(pf->m->save_path);
    pf->m->save_path = copy;
    pf->dirty = true;
    return 0;
}

const char *
pf_data_path(const partfile_t *pf)
{
    return pf->data_path;
}

const char *
pf_met_path(const partfile_t *pf)
{
    return pf->met_path;
}

size_t
pf_part_count(const partfile_t *pf)
{
    return pf->m->n_parts;
}

size_t
pf_data_part_count(const partfile_t *pf)
{
    return (size_t)ed2k_data_part_count(pf->m->size);
}

int
pf_part_range(const partfile_t *pf, size_t i, uint64_t *start, uint64_t *end)
{
    if (i >= pf->m->n_parts)
        return -1;
    *start = pf_part_start(i);
    *end = pf_part_end(pf->m->size, i);
    if (*start > *end)
        *start = *end;
    return 0;
}

const rangeset_t *
pf_filled(const partfile_t *pf)
{
    return pf->m->filled;
}

uint64_t
pf_done_bytes(const partfile_t *pf)
{
    return rangeset_total(pf->m->filled);
}

uint64_t
pf_verified_bytes(const partfile_t *pf)
{
    return pf->verified_bytes;
}

bool
pf_is_part_verified(const partfile_t *pf, size_t i)
{
    return i < pf->m->n_parts && pf->m->verified[i];
}

bool
pf_is_part_filled(const partfile_t *pf, size_t i)
{
    if (i >= pf->m->n_parts)
        return false;
    if (pf_is_phantom(pf->m->size, i))
        return true;
    return rangeset_contains(pf->m->filled, pf_part_start(i), pf_part_end(pf->m->size, i));
}

pf_part_state_t
pf_part_state(const partfile_t *pf, size_t i)
{
    if (pf_is_part_verified(pf, i))
        return PF_PART_VERIFIED;
    if (i < pf->m->n_parts &&
        rangeset_intersects(pf->m->filled, pf_part_start(i), pf_part_end(pf->m->size, i)))
        return PF_PART_PARTIAL;
    return PF_PART_MISSING;
}

bool
pf_is_complete(const partfile_t *pf)
{
    return pf->n_verified == pf->m->n_parts;
}

bool
pf_has_hashset(const partfile_t *pf)
{
    return pf->m->size < ED2K_PARTSIZE || pf->m->part_hashes != NULL;
}

const uint8_t *
pf_part_hash(const partfile_t *pf, size_t i)
{
    if (i >= pf->m->n_parts)
        return NULL;
    if (pf->m->size < ED2K_PARTSIZE)
        return pf->m->hash;
    return pf->m->part_hashes != NULL ? pf->m->part_hashes[i] : NULL;
}

int
pf_set_hashset(partfile_t *pf, const uint8_t (*hashes)[ED2K_HASH_LEN], size_t n, mt_error_t **err)
{
    uint64_t want = ed2k_hash_count(pf->m->size);
    if (n != want) {
        mt_error_set(err, MT_ERR_INVALID, "hash set of %zu hashes; the file needs %llu", n,
                     (unsigned long long)want);
        return -1;
    }
    if (n == 0)
        return 0;
    uint8_t md4[ED2K_HASH_LEN];
    ed2k_parthashes_md4(hashes, n, md4);
    if (memcmp(md4, pf->m->hash, ED2K_HASH_LEN) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "the hash set does not match the file hash");
        return -1;
    }
    if (pf->m->part_hashes != NULL)
        return 0; /* the same set: the MD4 above matched */
    pf->m->part_hashes = xmemdup(hashes, n * ED2K_HASH_LEN);
    pf->dirty = true;
    return 0;
}

const uint8_t *
pf_aich_root(const partfile_t *pf)
{
    return pf->m->has_aich ? pf->m->aich : NULL;
}

void
pf_set_aich_root(partfile_t *pf, const uint8_t *root)
{
    pf->m->has_aich = root != NULL;
    if (root != NULL)
        memcpy(pf->m->aich, root, ED2K_AICH_LEN);
    pf->dirty = true;
}

static int
set_string(partfile_t *pf, char **field, const char *what, const char *s, mt_error_t **err)
{
    if (s != NULL && *s == '\0')
        s = NULL;
    if (!pf_string_ok(s)) {
        mt_error_set(err, MT_ERR_INVALID,
                     "invalid %s: at most %d bytes of UTF-8 without control characters", what,
                     PF_MAX_STRING);
        return -1;
    }
    char *copy = s ? xstrdup(s) : NULL;
    free(*field);
    *field = copy;
    pf->dirty = true;
    return 0;
}

const char *
pf_category(const partfile_t *pf)
{
    return pf->m->category;
}

int
pf_set_category(partfile_t *pf, const char *category, mt_error_t **err)
{
    return set_string(pf, &pf->m->category, "category", category, err);
}

int
pf_priority(const partfile_t *pf)
{
    return pf->m->priority;
}

void
pf_set_priority(partfile_t *pf, int priority)
{
    pf->m->priority = priority;
    pf->dirty = true;
}

pf_state_t
pf_state(const partfile_t *pf)
{
    return pf->m->state;
}

int
pf_set_state(partfile_t *pf, pf_state_t state)
{
    if ((unsigned)state > PF_STATE_STOPPED)
        return -1;
    pf->m->state = state;
    pf->dirty = true;
    return 0;
}

time_t
pf_added_at(const partfile_t *pf)
{
    return (time_t)pf->m->added_at;
}

void
pf_set_added_at(partfile_t *pf, time_t t)
{
    pf->m->added_at = (int64_t)t;
    pf->dirty = true;
}

time_t
pf_completed_at(const partfile_t *pf)
{
    return (time_t)pf->m->completed_at;
}

void
pf_set_completed_at(partfile_t *pf, time_t t)
{
    pf->m->completed_at = (int64_t)t;
    pf->dirty = true;
}

const char *
pf_download_id(const partfile_t *pf)
{
    return pf->m->download_id[0] != '\0' ? pf->m->download_id : NULL;
}

int
pf_set_download_id(partfile_t *pf, const char *id)
{
    if (!dla_id_is_valid(id))
        return -1;
    memcpy(pf->m->download_id, id, DLA_ID_LEN + 1);
    pf->dirty = true;
    return 0;
}

const char *
pf_btih(const partfile_t *pf)
{
    return pf->m->btih[0] != '\0' ? pf->m->btih : NULL;
}

int
pf_set_btih(partfile_t *pf, const char *btih)
{
    if (!dla_btih_is_valid(btih))
        return -1;
    memcpy(pf->m->btih, btih, DLA_BTIH_LEN + 1);
    pf->dirty = true;
    return 0;
}

const char *
pf_added_by(const partfile_t *pf)
{
    return pf->m->added_by;
}

int
pf_set_added_by(partfile_t *pf, const char *who, mt_error_t **err)
{
    return set_string(pf, &pf->m->added_by, "added_by", who, err);
}

const char *
pf_added_via(const partfile_t *pf)
{
    return pf->m->added_via;
}

int
pf_set_added_via(partfile_t *pf, const char *via, mt_error_t **err)
{
    return set_string(pf, &pf->m->added_via, "added_via", via, err);
}

/* Counters are kept within int64 so that they read back exactly. */
static uint64_t
counter_clamp(uint64_t n)
{
    return n > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : n;
}

static uint64_t
counter_add(uint64_t a, uint64_t b)
{
    return b > (uint64_t)INT64_MAX - a ? (uint64_t)INT64_MAX : a + b;
}

uint64_t
pf_downloaded_bytes(const partfile_t *pf)
{
    return pf->m->downloaded;
}

void
pf_set_downloaded_bytes(partfile_t *pf, uint64_t n)
{
    pf->m->downloaded = counter_clamp(n);
    pf->dirty = true;
}

void
pf_add_downloaded_bytes(partfile_t *pf, uint64_t n)
{
    pf->m->downloaded = counter_add(pf->m->downloaded, n);
    pf->dirty = true;
}

uint64_t
pf_uploaded_bytes(const partfile_t *pf)
{
    return pf->m->uploaded;
}

void
pf_set_uploaded_bytes(partfile_t *pf, uint64_t n)
{
    pf->m->uploaded = counter_clamp(n);
    pf->dirty = true;
}

void
pf_add_uploaded_bytes(partfile_t *pf, uint64_t n)
{
    pf->m->uploaded = counter_add(pf->m->uploaded, n);
    pf->dirty = true;
}

const dla_tags_t *
pf_tags(const partfile_t *pf)
{
    return &pf->m->tags;
}

void
pf_set_tags(partfile_t *pf, const dla_tags_t *tags)
{
    dla_tags_copy(&pf->m->tags, tags);
    pf->dirty = true;
}

double
pf_ratio_limit(const partfile_t *pf)
{
    return pf->m->ratio_limit;
}

int
pf_seeding_time_limit(const partfile_t *pf)
{
    return pf->m->seeding_time_limit;
}

int
pf_set_share_limits(partfile_t *pf, double ratio_limit, int seeding_time_limit, mt_error_t **err)
{
    if (!dla_ratio_limit_is_valid(ratio_limit) ||
        !dla_seeding_time_limit_is_valid(seeding_time_limit)) {
        mt_error_set(err, MT_ERR_INVALID, "share limits out of range");
        return -1;
    }
    pf->m->ratio_limit = ratio_limit;
    pf->m->seeding_time_limit = seeding_time_limit;
    pf->dirty = true;
    return 0;
}

int64_t
pf_dl_limit(const partfile_t *pf)
{
    return pf->m->dl_limit;
}

int64_t
pf_up_limit(const partfile_t *pf)
{
    return pf->m->up_limit;
}

int
pf_set_rate_limits(partfile_t *pf, int64_t dl_limit, int64_t up_limit, mt_error_t **err)
{
    if (dl_limit < 0 || dl_limit > DLA_RATE_MAX || up_limit < 0 || up_limit > DLA_RATE_MAX) {
        mt_error_set(err, MT_ERR_INVALID, "rate limits out of range");
        return -1;
    }
    pf->m->dl_limit = dl_limit;
    pf->m->up_limit = up_limit;
    pf->dirty = true;
    return 0;
}

bool
pf_force_start(const partfile_t *pf)
{
    return pf->m->force_start;
}

void
pf_set_force_start(partfile_t *pf, bool on)
{
    pf->m->force_start = on;
    pf->dirty = true;
}

time_t
pf_last_activity(const partfile_t *pf)
{
    return (time_t)pf->m->last_activity;
}

void
pf_set_last_activity(partfile_t *pf, time_t t)
{
    if (pf->m->last_activity == (int64_t)t || t < 0)
        return;
    pf->m->last_activity = (int64_t)t;
    pf->dirty = true;
}

static ssize_t
find_source(const pf_meta_t *m, uint32_t ip, uint16_t port)
{
    for (size_t i = 0; i < m->n_sources; i++)
        if (m->sources[i].ip == ip && m->sources[i].port == port)
            return (ssize_t)i;
    return -1;
}

int
pf_add_source(partfile_t *pf, uint32_t ip, uint16_t port, const uint8_t *userhash)
{
    if (ip == 0 || port == 0)
        return -1;
    pf_meta_t *m = pf->m;
    pf_source_t s = { .ip = ip, .port = port };
    ssize_t at = find_source(m, ip, port);
    if (at >= 0) {
        s = m->sources[at];
        memmove(m->sources + at, m->sources + at + 1,
                (m->n_sources - (size_t)at - 1) * sizeof *m->sources);
        m->n_sources--;
    } else if (m->n_sources == PF_MAX_SOURCES) {
        memmove(m->sources, m->sources + 1, (m->n_sources - 1) * sizeof *m->sources);
        m->n_sources--;
    }
    if (userhash != NULL) {
        s.has_userhash = true;
        memcpy(s.userhash, userhash, ED2K_HASH_LEN);
    }
    m->sources = xreallocarray(m->sources, m->n_sources + 1, sizeof *m->sources);
    m->sources[m->n_sources++] = s;
    pf->dirty = true;
    return 0;
}

int
pf_remove_source(partfile_t *pf, uint32_t ip, uint16_t port)
{
    pf_meta_t *m = pf->m;
    ssize_t at = find_source(m, ip, port);
    if (at < 0)
        return -1;
    memmove(m->sources + at, m->sources + at + 1,
            (m->n_sources - (size_t)at - 1) * sizeof *m->sources);
    m->n_sources--;
    pf->dirty = true;
    return 0;
}

size_t
pf_source_count(const partfile_t *pf)
{
    return pf->m->n_sources;
}

bool
pf_get_source(const partfile_t *pf, size_t i, pf_source_t *out)
{
    if (i >= pf->m->n_sources)
        return false;
    *out = pf->m->sources[i];
    return true;
}
