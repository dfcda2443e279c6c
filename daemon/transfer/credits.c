/* credits.c: the credit table (a hash table on the user hash), its state
 * file and aMule's score modifier. The file, not PostgreSQL, holds it: the
 * upload queue reads it on the loop thread whether or not the database is
 * up, like the part files' metadata. */
#include "config.h"

#include "daemon/transfer/credits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/file.h"
#include "util/xalloc.h"

#define CREDITS_BUCKETS 1024
#define CREDITS_MAGIC "MTCR"
#define CREDITS_VERSION 1
/* hash, uploaded, downloaded, last_seen, key length, key */
#define CREDITS_RECORD (16 + 8 + 8 + 8 + 1 + ED2K_SECIDENT_MAX_KEY)

typedef struct node {
    struct node *next;
    credit_t cr;
} node_t;

struct credits {
    node_t *buckets[CREDITS_BUCKETS];
    size_t n;
};

credits_t *
credits_new(void)
{
    return xcalloc(1, sizeof(credits_t));
}

void
credits_free(credits_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < CREDITS_BUCKETS; i++) {
        node_t *n = c->buckets[i], *next;
        for (; n != NULL; n = next) {
            next = n->next;
            free(n);
        }
    }
    free(c);
}

size_t
credits_count(const credits_t *c)
{
    return c->n;
}

static size_t
bucket(const uint8_t hash[16])
{
    return ((size_t)hash[0] | (size_t)hash[1] << 8) % CREDITS_BUCKETS;
}

credit_t *
credits_find(const credits_t *c, const uint8_t hash[16])
{
    for (node_t *n = c->buckets[bucket(hash)]; n != NULL; n = n->next)
        if (memcmp(n->cr.hash, hash, 16) == 0)
            return &n->cr;
    return NULL;
}

credit_t *
credits_get(credits_t *c, const uint8_t hash[16], time_t now)
{
    credit_t *cr = credits_find(c, hash);
    if (cr == NULL) {
        node_t *n = xcalloc(1, sizeof *n);
        memcpy(n->cr.hash, hash, 16);
        size_t b = bucket(hash);
        n->next = c->buckets[b];
        c->buckets[b] = n;
        c->n++;
        cr = &n->cr;
    }
    cr->last_seen = (int64_t)now;
    return cr;
}

void
credits_add_uploaded(credits_t *c, const uint8_t hash[16], uint64_t n, time_t now)
{
    credits_get(c, hash, now)->uploaded += n;
}

void
credits_add_downloaded(credits_t *c, const uint8_t hash[16], uint64_t n, time_t now)
{
    credits_get(c, hash, now)->downloaded += n;
}

bool
credits_verified(credits_t *c, const uint8_t hash[16], const uint8_t *key, size_t len,
                 time_t now)
{
    if (len == 0 || len > ED2K_SECIDENT_MAX_KEY)
        return false;
    credit_t *cr = credits_get(c, hash, now);
    if (cr->key_len != 0)
        return cr->key_len == len && memcmp(cr->key, key, len) == 0;
    memcpy(cr->key, key, len);
    cr->key_len = (uint8_t)len;
    cr->uploaded = cr->downloaded = 0;
    return true;
}

size_t
credits_expire(credits_t *c, time_t now)
{
    size_t gone = 0;
    for (size_t b = 0; b < CREDITS_BUCKETS; b++) {
        for (node_t **np = &c->buckets[b]; *np != NULL;) {
            node_t *n = *np;
            if (n->cr.last_seen >= (int64_t)now - CREDITS_EXPIRE) {
                np = &n->next;
                continue;
            }
            *np = n->next;
            free(n);
            gone++;
        }
    }
    c->n -= gone;
    return gone;
}

double
credits_ratio(uint64_t downloaded, uint64_t uploaded)
{
    if (downloaded < CREDITS_MIN_DOWNLOADED)
        return 1.0;
    double r = uploaded == 0 ? 10.0 : (double)downloaded * 2.0 / (double)uploaded;
    double cap = sqrt((double)downloaded / 1048576.0 + 2.0);
    if (r > cap)
        r = cap;
    return r < 1.0 ? 1.0 : r > 10.0 ? 10.0 : r;
}

double
credits_modifier(const credits_t *c, const uint8_t hash[16], bool identified)
{
    const credit_t *cr = identified ? credits_find(c, hash) : NULL;
    return cr == NULL ? 1.0 : credits_ratio(cr->downloaded, cr->uploaded);
}

/* ---- the file: "MTCR", version u8, count u32, then fixed-size records,
 * all little-endian ---- */

static void
put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int
credits_save(const credits_t *c, const char *path, mt_error_t **err)
{
    size_t len = 9 + c->n * CREDITS_RECORD;
    uint8_t *buf = xcalloc(1, len), *p = buf + 9;
    memcpy(buf, CREDITS_MAGIC, 4);
    buf[4] = CREDITS_VERSION;
    for (int i = 0; i < 4; i++)
        buf[5 + i] = (uint8_t)(c->n >> (8 * i));
    for (size_t b = 0; b < CREDITS_BUCKETS; b++) {
        for (const node_t *n = c->buckets[b]; n != NULL; n = n->next, p += CREDITS_RECORD) {
            const credit_t *cr = &n->cr;
            memcpy(p, cr->hash, 16);
            put64(p + 16, cr->uploaded);
            put64(p + 24, cr->downloaded);
            put64(p + 32, (uint64_t)cr->last_seen);
            p[40] = cr->key_len;
            memcpy(p + 41, cr->key, cr->key_len);
        }
    }
    int rc = mt_file_write_atomic(path, buf, len, 0600, err);
    free(buf);
    return rc;
}

int
credits_load(credits_t *c, const char *path, time_t now, mt_error_t **err)
{
    mt_error_t *e = NULL;
    size_t len;
    uint8_t *buf = mt_file_read(path, (size_t)1 << 30, &len, &e);
    if (buf == NULL) {
        if (e->code == MT_ERR_NOT_FOUND) {
            mt_error_free(e);
            return 0;
        }
        mt_error_propagate(err, e);
        return -1;
    }
    size_t count = len >= 9 ? (size_t)buf[5] | (size_t)buf[6] << 8 | (size_t)buf[7] << 16 |
                                  (size_t)buf[8] << 24
                            : 0;
    if (len < 9 || memcmp(buf, CREDITS_MAGIC, 4) != 0 || buf[4] != CREDITS_VERSION ||
        (len - 9) / CREDITS_RECORD != count || (len - 9) % CREDITS_RECORD != 0) {
        free(buf);
        mt_error_set(err, MT_ERR_INVALID, "%s: not a credits file", path);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = buf + 9 + i * CREDITS_RECORD;
        int64_t seen = (int64_t)get64(p + 32);
        if (seen < (int64_t)now - CREDITS_EXPIRE || p[40] > ED2K_SECIDENT_MAX_KEY)
            continue;
        credit_t *cr = credits_get(c, p, now);
        cr->uploaded = get64(p + 16);
        cr->downloaded = get64(p + 24);
        cr->last_seen = seen;
        cr->key_len = p[40];
        memcpy(cr->key, p + 41, p[40]);
    }
    free(buf);
    return 0;
}

bool
credits_merge(credits_t *c, const credit_t *in, time_t now)
{
    if (in->last_seen < (int64_t)now - CREDITS_EXPIRE)
        return false;
    credit_t *cr = credits_find(c, in->hash);
    if (cr == NULL) {
        cr = credits_get(c, in->hash, now);
        cr->last_seen = 0;
    }
    if (in->uploaded > cr->uploaded)
        cr->uploaded = in->uploaded;
    if (in->downloaded > cr->downloaded)
        cr->downloaded = in->downloaded;
    if (in->last_seen > cr->last_seen)
        cr->last_seen = in->last_seen;
    if (cr->key_len == 0 && in->key_len > 0 && in->key_len <= ED2K_SECIDENT_MAX_KEY) {
        cr->key_len = in->key_len;
        memcpy(cr->key, in->key, in->key_len);
    }
    return true;
}
