/* ident.c: the secure-ident exchange on each ready peer connection, as
 * eMule runs it (ed2k-protocol.md §5.9; aMule's BaseClient and
 * ClientCreditsList for what the doc leaves out), and the credit table
 * it guards, saved to the state directory. */
#include "config.h"

#include "daemon/transfer/ident.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/core/daemon.h"
#include "daemon/net/net.h"
#include "daemon/transfer/credits.h"
#include "ed2k/opcodes.h"
#include "ed2k/secident.h"
#include "util/clock.h"
#include "util/conf.h"
#include "util/log.h"
#include "util/random.h"
#include "util/xalloc.h"

struct ident {
    struct muleteerd *d;
    ed2k_secident_key_t *key;
    credits_t *credits;
    char *credits_file;
    bool dirty;        /* changed since the last save */
    time_t last_save;  /* monotonic seconds */
};

/* One connection's exchange (the peer's sec data, reset when it closes). */
typedef struct peer_ident {
    ident_state_t state;
    uint32_t challenge_for;  /* what we asked it to sign, 0: not asked */
    uint32_t challenge_from; /* what it asked us to sign, 0: not asked */
    bool sig_pending;        /* it wants our signature; we lack its key yet */
    bool sig_checked;        /* one signature checked per connection (aMule) */
    uint8_t key_len;         /* its key: the one on record, or as received */
    uint8_t key[ED2K_SECIDENT_MAX_KEY];
} peer_ident_t;

const char *
ident_state_name(ident_state_t s)
{
    return s == IDENT_OK ? "ok" : s == IDENT_FAILED ? "failed" : "none";
}

ident_state_t
ident_of(const peer_t *p)
{
    const peer_ident_t *pi = peer_sec_data(p);
    return pi != NULL ? pi->state : IDENT_NONE;
}

static uint32_t
random_challenge(void)
{
    uint32_t v = 0;
    while (v == 0)
        if (mt_random_bytes(&v, sizeof v, NULL) != 0)
            v = (uint32_t)rand() + 1;
    return v;
}

/* send_signature: our signature over its key and its challenge. v1 when it
 * supports v1 (eMule's choice), else v2 with our ID or, as a LowID, its IP
 * as we see it. */
static void
send_signature(ident_t *id, peer_t *p, peer_ident_t *pi)
{
    if (pi->key_len == 0 || pi->challenge_from == 0) {
        pi->sig_pending = true; /* back here when its key comes */
        return;
    }
    pi->sig_pending = false;
    uint8_t kind = 0;
    uint32_t ip = 0;
    if ((peer_caps(p)->secident_ver & 1) == 0) {
        bool low = net_is_lowid(id->d->client_id);
        kind = low ? ED2K_CIP_REMOTECLIENT : ED2K_CIP_LOCALCLIENT;
        ip = low ? peer_ip(p) : id->d->client_id;
    }
    uint8_t sig[ED2K_SECIDENT_MAX_SIG];
    size_t n = ed2k_secident_sign(id->key, pi->key, pi->key_len, pi->challenge_from, kind, ip,
                                  sig, sizeof sig);
    if (n == 0) {
        log_error("peer %s: cannot sign its challenge", peer_desc(p));
        return;
    }
    ed2k_signature_encode(peer_out(p), sig, n, kind);
}

static void
on_ready(void *ctx, peer_t *p)
{
    ident_t *id = ctx;
    free(peer_sec_data(p));
    peer_ident_t *pi = xcalloc(1, sizeof *pi);
    peer_set_sec_data(p, pi);
    const uint8_t *hash = peer_hash(p);
    if (hash == NULL || peer_caps(p)->secident_ver == 0 ||
        !conf_get_bool(id->d->conf, "secure_ident"))
        return; /* not done: no credits for it (unlike aMule) */
    const credit_t *cr = credits_find(id->credits, hash);
    if (cr != NULL && cr->key_len != 0) {
        memcpy(pi->key, cr->key, cr->key_len);
        pi->key_len = cr->key_len;
    }
    pi->challenge_for = random_challenge();
    ed2k_secidentstate_encode(peer_out(p),
                              pi->key_len != 0 ? ED2K_SECIDENT_SIG_NEEDED
                                               : ED2K_SECIDENT_KEY_AND_SIG_NEEDED,
                              pi->challenge_for);
}

static void
on_closed(void *ctx, peer_t *p, const char *reason)
{
    (void)ctx;
    (void)reason;
    free(peer_sec_data(p));
    peer_set_sec_data(p, NULL);
}

static int
take_state(ident_t *id, peer_t *p, peer_ident_t *pi, const ed2k_packet_t *pkt, mt_error_t **err)
{
    uint8_t state;
    uint32_t challenge;
    if (ed2k_secidentstate_decode(pkt->payload, pkt->len, &state, &challenge, err) != 0)
        return -1;
    if (state != ED2K_SECIDENT_SIG_NEEDED && state != ED2K_SECIDENT_KEY_AND_SIG_NEEDED)
        return 1; /* 0: it needs nothing */
    pi->challenge_from = challenge;
    log_debug("peer %s: asks for our %s", peer_desc(p),
              state == ED2K_SECIDENT_KEY_AND_SIG_NEEDED ? "key and signature" : "signature");
    if (state == ED2K_SECIDENT_KEY_AND_SIG_NEEDED) {
        size_t n;
        const uint8_t *mine = ed2k_secident_pubkey(id->key, &n);
        ed2k_publickey_encode(peer_out(p), mine, n);
    }
    send_signature(id, p, pi);
    return 1;
}

static int
take_key(ident_t *id, peer_t *p, peer_ident_t *pi, const ed2k_packet_t *pkt, mt_error_t **err)
{
    const uint8_t *key;
    size_t len;
    if (ed2k_publickey_decode(pkt->payload, pkt->len, &key, &len, err) != 0)
        return -1;
    /* a verified key on record never changes (aMule): keep it */
    const uint8_t *hash = peer_hash(p);
    const credit_t *cr = hash != NULL ? credits_find(id->credits, hash) : NULL;
    if ((cr == NULL || cr->key_len == 0) && pi->key_len == 0 &&
        ed2k_secident_key_is_valid(key, len)) {
        memcpy(pi->key, key, len);
        pi->key_len = (uint8_t)len;
    }
    if (pi->sig_pending)
        send_signature(id, p, pi);
    return 1;
}

static int
take_signature(ident_t *id, peer_t *p, peer_ident_t *pi, const ed2k_packet_t *pkt,
               mt_error_t **err)
{
    const uint8_t *sig;
    size_t len;
    uint8_t kind;
    bool v2 = (peer_caps(p)->secident_ver & 2) != 0;
    if (ed2k_signature_decode(pkt->payload, pkt->len, v2, &sig, &len, &kind, err) != 0)
        return -1;
    const uint8_t *hash = peer_hash(p);
    if (pi->sig_checked || pi->challenge_for == 0 || pi->key_len == 0 || hash == NULL)
        return 1; /* unasked, or a second one: ignored (aMule) */
    pi->sig_checked = true;
    /* whose IP it signed: its own (as we see it), ours (as it sees it), none */
    uint32_t ip = kind == ED2K_CIP_LOCALCLIENT ? peer_ip(p)
                  : kind == ED2K_CIP_REMOTECLIENT
                      ? (id->d->public_ip != 0 ? id->d->public_ip : id->d->client_id)
                      : 0;
    size_t mine_len;
    const uint8_t *mine = ed2k_secident_pubkey(id->key, &mine_len);
    bool good = ed2k_secident_verify(pi->key, pi->key_len, mine, mine_len, pi->challenge_for,
                                     kind, ip, sig, len);
    if (good && !credits_verified(id->credits, hash, pi->key, pi->key_len, time(NULL)))
        good = false;
    id->dirty = true;
    pi->state = good ? IDENT_OK : IDENT_FAILED;
    log_debug("peer %s: secure ident %s", peer_desc(p), good ? "ok" : "failed");
    return 1;
}

static int
on_packet(void *ctx, peer_t *p, const ed2k_packet_t *pkt, mt_error_t **err)
{
    ident_t *id = ctx;
    peer_ident_t *pi = peer_sec_data(p);
    if (pkt->proto != ED2K_PROT_EMULE || pi == NULL)
        return 0;
    switch (pkt->opcode) {
    case ED2K_OP_SECIDENTSTATE:
        return take_state(id, p, pi, pkt, err);
    case ED2K_OP_PUBLICKEY:
        return take_key(id, p, pi, pkt, err);
    case ED2K_OP_SIGNATURE:
        return take_signature(id, p, pi, pkt, err);
    }
    return 0;
}

ident_t *
ident_new(struct muleteerd *d, mt_error_t **err)
{
    const char *dir = conf_get_str(d->conf, "state_dir");
    char *key_file = xasprintf("%s/secident.key", dir);
    ed2k_secident_key_t *key = ed2k_secident_load_or_create(key_file, err);
    free(key_file);
    if (key == NULL)
        return NULL;
    ident_t *id = xcalloc(1, sizeof *id);
    id->d = d;
    id->key = key;
    id->credits = credits_new();
    id->credits_file = xasprintf("%s/credits.dat", dir);
    if (credits_load(id->credits, id->credits_file, time(NULL), err) != 0) {
        free(id->credits_file);
        id->credits_file = NULL; /* never overwrite what we could not read */
        ident_free(id);
        return NULL;
    }
    peer_mgr_add_handler(d->peers, &(peer_handler_t){ .ready = on_ready,
                                                      .closed = on_closed,
                                                      .packet = on_packet,
                                                      .ctx = id });
    return id;
}

void
ident_save(ident_t *id)
{
    if (id == NULL || id->credits_file == NULL)
        return;
    size_t gone = credits_expire(id->credits, time(NULL));
    if (gone > 0)
        log_info("credits: %zu record(s) not seen for 150 days dropped", gone);
    mt_error_t *err = NULL;
    id->last_save = clock_mono_s();
    if (credits_save(id->credits, id->credits_file, &err) != 0) {
        log_error("cannot save the credits: %s", err->message);
        mt_error_free(err);
        return; /* still dirty: tried again a save_interval later */
    }
    id->dirty = false;
}

void
ident_tick(ident_t *id)
{
    if (id != NULL && id->dirty &&
        clock_mono_s() - id->last_save >= (time_t)conf_get_int(id->d->conf, "save_interval"))
        ident_save(id);
}

void
ident_free(ident_t *id)
{
    if (id == NULL)
        return;
    ident_save(id);
    ed2k_secident_free(id->key);
    credits_free(id->credits);
    free(id->credits_file);
    free(id);
}

double
ident_credit(const ident_t *id, const peer_t *p)
{
    const uint8_t *hash = peer_hash(p);
    if (id == NULL || hash == NULL)
        return 1.0;
    return credits_modifier(id->credits, hash, ident_of(p) == IDENT_OK);
}

json_object *
ident_credits_json(const ident_t *id, const peer_t *p)
{
    const uint8_t *hash = peer_hash(p);
    const credit_t *cr = id != NULL && hash != NULL ? credits_find(id->credits, hash) : NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "uploaded", json_object_new_int64(cr ? (int64_t)cr->uploaded : 0));
    json_object_object_add(o, "downloaded",
                           json_object_new_int64(cr ? (int64_t)cr->downloaded : 0));
    return o;
}

/* counted_hash: the user hash that bytes with p count for, or NULL: none
 * when it failed to prove that the hash is its own (the hash's owner keeps
 * its record untouched by an impostor). */
static const uint8_t *
counted_hash(const ident_t *id, const peer_t *p, uint64_t n)
{
    if (id == NULL || n == 0 || ident_of(p) == IDENT_FAILED)
        return NULL;
    return peer_hash(p);
}

void
ident_count_up(ident_t *id, const peer_t *p, uint64_t n)
{
    const uint8_t *hash = counted_hash(id, p, n);
    if (hash != NULL) {
        credits_add_uploaded(id->credits, hash, n, time(NULL));
        id->dirty = true;
    }
}

void
ident_count_down(ident_t *id, const peer_t *p, uint64_t n)
{
    const uint8_t *hash = counted_hash(id, p, n);
    if (hash != NULL) {
        credits_add_downloaded(id->credits, hash, n, time(NULL));
        id->dirty = true;
    }
}

size_t
ident_merge_credits(ident_t *id, const credit_t *v, size_t n)
{
    size_t merged = 0;
    time_t now = time(NULL);
    for (size_t i = 0; i < n; i++)
        merged += credits_merge(id->credits, &v[i], now);
    if (merged > 0)
        ident_save(id);
    return merged;
}
