/* kad.c: the Kad node (kad.h): datagrams of the client UDP port answered
 * and sent, bootstrap, contacts verified by HELLO, lookups for our own id,
 * the id and nodes.dat in the state directory (§8.2, §10.1-10.3). */
#include "config.h"

#include "daemon/kad/kad.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/daemon.h"
#include "daemon/kad/buddy.h"
#include "daemon/kad/firewall.h"
#include "daemon/kad/index.h"
#include "daemon/kad/lookup.h"
#include "daemon/kad/nodesurl.h"
#include "daemon/kad/routing.h"
#include "daemon/net/net.h"
#include "daemon/net/peer.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/partfile.h"
#include "daemon/transfer/shared.h"
#include "daemon/transfer/source.h"
#include "daemon/transfer/upload.h"
#include "ed2k/kadcrypt.h"
#include "ed2k/kadpkt.h"
#include "ed2k/c2s.h"
#include "ed2k/kadsearch.h"
#include "ed2k/nodesdat.h"
#include "util/clock.h"
#include "util/conf.h"
#include "util/file.h"
#include "util/log.h"
#include "util/random.h"
#include "util/xalloc.h"

/* Answers we wait for: an answer nobody asked for is dropped (a RES or
 * BOOTSTRAP_RES could otherwise stuff our table). */
#define PENDING_MAX 512
#define PENDING_TTL 60
/* Bootstrap addresses: asked every BOOT_EVERY s, BOOT_TRIES times. */
#define BOOT_MAX 32
#define BOOT_EVERY 5
#define BOOT_TRIES 6
/* HELLO_REQ: HELLOS_PER_TICK at most; an unverified contact gets
 * HELLO_TRIES, HELLO_EVERY s apart, then is dropped. A verified contact
 * not heard of for STALE_AFTER s is verified again. */
#define HELLOS_PER_TICK 8
#define HELLO_TRIES 3
#define HELLO_EVERY 15
#define STALE_AFTER 3600
/* Lookups for our own id (iterative, lookup.h): every LOOKUP_FAST s while
 * the table is small, else every LOOKUP_SLOW s. */
#define LOOKUP_FAST 10
#define LOOKUP_SLOW 600
#define SMALL_TABLE 50
/* A lookup for a random id every REFRESH_EVERY s, so that far zones fill
 * too. */
#define REFRESH_EVERY 300
/* Flood limit: datagrams per source IP and second. */
#define FLOOD_SLOTS 256
#define FLOOD_PER_S 30
/* Amplification: an answer much larger than its request (BOOTSTRAP_RES,
 * KADEMLIA2_RES) goes to an address that is not a verified contact at most
 * once per BIG_EVERY s, and to at most BIG_PER_S such addresses a second:
 * a forged source address cannot turn us into a flood. */
#define BIG_EVERY 10
#define BIG_PER_S 50
/* nodes.dat: saved every SAVE_EVERY s when changed, at most NODES_SAVED
 * contacts (aMule keeps 200). */
#define SAVE_EVERY 600
#define NODES_SAVED 200

/* Jobs: iterative lookups running at once, each ending after JOB_TTL_MS;
 * a keyword search asks SEARCH_ASK nodes and waits SEARCH_WAIT_MS for
 * their answers. */
#define JOBS_MAX 16
#define JOB_TTL_MS 20000
#define SEARCH_ASK KAD_LOOKUP_K
#define SEARCH_WAIT_MS 8000
/* Keyword results kept per search (aMule stops at 300 too). */
#define SEARCH_RESULTS_MAX 300

/* Source searches: each active download every SOURCE_EVERY s (the first
 * soon after it appears), at most SOURCE_JOBS at once, one started per
 * tick; SOURCE_ASKS downloads remembered. */
#define SOURCE_EVERY 1800
#define SOURCE_JOBS 3
#define SOURCE_ASKS 256

/* A firewalled node looks for a buddy at the latest BUDDY_AFTER s after
 * Kad connects, even when its first firewall check wants more answers. */
#define BUDDY_AFTER 60

/* Publishing: keywords of shared files every KEYWORD_REPUBLISH s, sources
 * of shared and partial files every SOURCE_REPUBLISH s (aMule's 24 h and
 * 5 h), the first round PUBLISH_AFTER s after Kad connects; PUBLISH_JOBS
 * at once, one started per tick; files per keyword publish. Answers to
 * others' searches: ANSWERS_PER_DATAGRAM a datagram, SEARCH_RES_MAX in
 * all (aMule's). */
#define KEYWORD_REPUBLISH (24 * 3600)
#define SOURCE_REPUBLISH (5 * 3600)
#define PUBLISH_AFTER 20
#define PUBLISH_JOBS 2
#define PUBLISH_FILES_MAX 150
#define PUBLISHED_MAX 1024
/* A publish that no node answered (its lookup reached nobody, or no
 * PUBLISH_RES came) is started again after PUBLISH_RETRY s, doubled after
 * each unanswered one up to PUBLISH_RETRY_MAX s. */
#define PUBLISH_RETRY 60
#define PUBLISH_RETRY_MAX 3600
#define ANSWERS_PER_DATAGRAM 50
/* Lookups started on demand (kad-lookup) whose outcome is remembered. */
#define PROBES_MAX 64

typedef enum { JOB_NODE, JOB_KEYWORD, JOB_SOURCE, JOB_PUBLISH_KEY, JOB_PUBLISH_SOURCE } job_kind_t;

typedef struct source_ask {
    uint8_t hash[16];
    time_t at; /* monotonic: last Kad source search (or publish), 0: free slot */
    /* Publishes: started in a row with no PUBLISH_RES yet, and when the
     * next is due if none comes (0: none due before the republish). */
    unsigned unanswered;
    time_t retry_at;
} source_ask_t;

typedef struct job {
    job_kind_t kind;
    kad_lookup_t *l;
    int64_t started_ms, asked_ms; /* asked_ms: when the search requests went, 0: not yet */
    int64_t search_id;
    uint8_t hash[16]; /* JOB_SOURCE: the file */
    uint64_t size;
    uint8_t *tree;
    size_t tree_len;
    unsigned results;
    uint32_t asked_ip[SEARCH_ASK]; /* who may answer the search (Kad form) */
    uint16_t asked_port[SEARCH_ASK];
    size_t nasked;
    unsigned probe; /* JOB_NODE started by kad_probe_start: its number, else 0 */
} job_t;

/* The outcome of a lookup started on demand, for tests and the benchmark. */
typedef struct probe {
    unsigned number; /* 0: free slot */
    kad_id_t target;
    int64_t started_ms, done_ms; /* monotonic; done_ms 0: still running */
    unsigned sent, answered, timeouts;
    kad_contact_t closest[KAD_LOOKUP_K];
    size_t nclosest;
} probe_t;

typedef struct pending {
    uint32_t ip; /* Kad form */
    uint16_t port;
    uint8_t opcode; /* the answer expected */
    time_t at;
} pending_t;

typedef struct boot {
    uint32_t ip;
    uint16_t port;
    time_t next;
    int tries;
} boot_t;

typedef struct flood {
    uint32_t ip;
    time_t sec;
    unsigned n;
} flood_t;

typedef struct big_answer {
    uint32_t ip;
    time_t at;
} big_answer_t;

struct kad {
    muleteerd_t *d;
    bool on;
    kad_id_t me;
    uint32_t udp_key; /* our secret for the verify keys we hand out (§9.4) */
    kad_rt_t *rt;
    char *nodes_path;
    pending_t pend[PENDING_MAX];
    size_t pend_next;
    boot_t boot[BOOT_MAX];
    size_t nboot;
    flood_t flood[FLOOD_SLOTS];
    big_answer_t big[FLOOD_SLOTS];
    time_t big_sec;
    unsigned big_n;
    job_t *jobs[JOBS_MAX];
    source_ask_t asks[SOURCE_ASKS];
    source_ask_t published_kw[PUBLISHED_MAX], published_src[PUBLISHED_MAX];
    time_t connected_at; /* monotonic: when a first contact was verified, 0: not yet */
    kad_index_t *index;
    uint64_t publishes_sent, publishes_stored, searches_answered;
    uint64_t source_searches, sources_found;
    kad_results_fn results_fn;
    void *results_ctx;
    uint64_t lookups, lookup_requests, keyword_searches, search_results;
    time_t lookup_at, refresh_at, saved_at, expired_at;
    bool dirty;
    uint64_t in, out, dropped, malformed;
    nodesurl_t *urls; /* nodes.dat imports from URLs */
    probe_t probes[PROBES_MAX]; /* slot: number % PROBES_MAX */
    unsigned probe_last;
    uint64_t crypt_in, crypt_out; /* obfuscated datagrams (§9.4) */
    uint32_t rx_key; /* the sender verify key of the datagram being handled, 0: plain */
    uint32_t rx_ip;  /* where the datagram being handled came from */
    kad_fw_t *fw;         /* firewall checks (firewall.h) */
    kad_buddy_t *buddy;   /* Kad buddies (buddy.h) */
    bool paused;          /* kad_disconnect: no traffic until kad_connect */
};

/* ------------------------------------------------------------ identity */

/* load_id: <state_dir>/kad_id, made at random the first time. */
static int
load_id(const char *path, kad_id_t *id, mt_error_t **err)
{
    size_t len;
    mt_error_t *rerr = NULL;
    uint8_t *text = mt_file_read(path, 256, &len, &rerr);
    if (text != NULL) {
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
            text[--len] = '\0';
        int rc = kad_id_from_hex(id, (const char *)text);
        free(text);
        if (rc != 0)
            mt_error_set(err, MT_ERR_INVALID, "%s does not hold a Kad id (32 hex digits)", path);
        return rc;
    }
    if (rerr->code != MT_ERR_NOT_FOUND) {
        mt_error_propagate(err, rerr);
        return -1;
    }
    mt_error_free(rerr);
    uint8_t digest[16];
    if (mt_random_bytes(digest, sizeof digest, err) != 0)
        return -1;
    kad_id_from_digest(id, digest);
    char hex[KAD_ID_HEX_LEN + 2];
    kad_id_to_hex(id, hex);
    hex[KAD_ID_HEX_LEN] = '\n';
    return mt_file_write_atomic(path, hex, KAD_ID_HEX_LEN + 1, 0600, err);
}

/* ------------------------------------------------------------ sending */

static bool
is_lan(uint32_t kad_ip)
{
    uint32_t ip = net_ip_from_host(kad_ip);
    return net_is_lan(ip) || net_is_reserved(ip);
}

/* addr_ok: an address a contact may have: never 0 or multicast and up;
 * LAN and reserved ones only with filter_lan off (the Kad tests run in
 * 100.64.0.0/10, amule-testing.md). */
static bool
addr_ok(const kad_t *k, uint32_t kad_ip, uint16_t port)
{
    if (kad_ip == 0 || kad_ip >= 0xE0000000u || port == 0)
        return false;
    return !conf_get_bool(k->d->conf, "filter_lan") || !is_lan(kad_ip);
}

/* send_crypt: the datagram in b to ip (Kad form) and port; b is emptied.
 * With obfuscation supported it goes obfuscated (§9.4) keyed by the
 * receiver's id when id is given, else by key (the verify key the
 * receiver handed us) when that is not 0, as aMule's EncryptSendClient;
 * plain otherwise. Our verify key for ip rides along. */
static void
send_crypt(kad_t *k, uint32_t ip, uint16_t port, struct evbuffer *b, const kad_id_t *id,
           uint32_t key)
{
    size_t len = evbuffer_get_length(b);
    const uint8_t *data = evbuffer_pullup(b, -1);
    uint8_t *enc = NULL;
    if ((id != NULL || key != 0) && conf_get_bool(k->d->conf, "obfuscation_support")) {
        enc = xmalloc(len + KAD_CRYPT_HEADER_LEN);
        len = kad_crypt_encrypt(data, len, id, id == NULL, key, kad_verify_key(k->udp_key, ip), enc);
        data = enc;
    }
    if (ulq_udp_send(k->d->uploads, net_ip_from_host(ip), port, data, len) == 0) {
        k->out++;
        k->crypt_out += enc != NULL;
    }
    free(enc);
    evbuffer_drain(b, evbuffer_get_length(b));
}

/* send_buf: the datagram in b to ip and port, plain (a node we know
 * nothing of: bootstrap requests); b is emptied. */
static void
send_buf(kad_t *k, uint32_t ip, uint16_t port, struct evbuffer *b)
{
    send_crypt(k, ip, port, b, NULL, 0);
}

/* contact_key: the verify key contact id handed us, when it was handed to
 * our present address (aMule's CKadUDPKey); 0 otherwise. */
static uint32_t
contact_key(const kad_t *k, const kad_id_t *id)
{
    const kad_rt_contact_t *c = kad_rt_find(k->rt, id);
    return c != NULL && c->udp_key_ip == k->d->public_ip ? c->udp_key : 0;
}

/* send_to_contact: a request to a contact: obfuscated with its id (and
 * the key it handed us) when its Kad version is 6 or later, plain to
 * older ones, as aMule decides. */
static void
send_to_contact(kad_t *k, const kad_contact_t *to, struct evbuffer *b)
{
    if (to->version >= KAD_VERSION_CRYPT)
        send_crypt(k, to->ip, to->udp_port, b, &to->id, contact_key(k, &to->id));
    else
        send_buf(k, to->ip, to->udp_port, b);
}

/* send_answer: an answer to the datagram being handled: obfuscated with
 * the verify key its sender handed us when it came obfuscated, plain
 * otherwise (aMule answers with the request's sender key). */
static void
send_answer(kad_t *k, uint32_t ip, uint16_t port, struct evbuffer *b)
{
    send_crypt(k, ip, port, b, NULL, k->rx_key);
}

/* take_key: the contact at ip:port gets the verify key the datagram being
 * handled carried, for our later requests. */
static void
take_key(kad_t *k, kad_rt_contact_t *c)
{
    if (c != NULL && k->rx_key != 0) {
        c->udp_key = k->rx_key;
        c->udp_key_ip = k->d->public_ip;
    }
}

static void
expect(kad_t *k, uint32_t ip, uint16_t port, uint8_t opcode)
{
    k->pend[k->pend_next] = (pending_t){ ip, port, opcode, clock_mono_s() };
    k->pend_next = (k->pend_next + 1) % PENDING_MAX;
}

/* take: whether an answer of opcode from ip:port was expected (then it is
 * no longer). */
static bool
take(kad_t *k, uint32_t ip, uint16_t port, uint8_t opcode)
{
    time_t now = clock_mono_s();
    for (size_t i = 0; i < PENDING_MAX; i++) {
        pending_t *p = &k->pend[i];
        if (p->at != 0 && p->ip == ip && p->port == port && p->opcode == opcode &&
            now - p->at <= PENDING_TTL) {
            p->at = 0;
            return true;
        }
    }
    return false;
}

static kad_hello_t
my_hello(const kad_t *k, uint8_t misc)
{
    if (kad_fw_is_udp_firewalled(k->fw))
        misc |= KAD_MISC_UDP_FIREWALLED; /* others keep us out of their tables */
    kad_hello_t h = { .id = k->me,
                      .tcp_port = (uint16_t)conf_get_int(k->d->conf, "tcp_port"),
                      .version = KAD_VERSION,
                      .misc_options = misc };
    return h;
}

static void
send_hello_req(kad_t *k, kad_rt_contact_t *c, time_t now)
{
    struct evbuffer *b = evbuffer_new();
    kad_hello_t h = my_hello(k, 0);
    kad_hello_encode(b, KAD_OP_HELLO_REQ, &h);
    send_to_contact(k, &c->c, b);
    evbuffer_free(b);
    expect(k, c->c.ip, c->c.udp_port, KAD_OP_HELLO_RES);
    c->hello_at = now;
    c->hellos++;
}

static void
send_bootstrap_req(kad_t *k, uint32_t ip, uint16_t port)
{
    struct evbuffer *b = evbuffer_new();
    kad_bootstrap_req_encode(b);
    send_buf(k, ip, port, b);
    evbuffer_free(b);
    expect(k, ip, port, KAD_OP_BOOTSTRAP_RES);
}

/* ------------------------------------------------------------ jobs */

/* send_lookup_req: the lookup hook: a KADEMLIA2_REQ whose answer is
 * expected. */
static void
send_lookup_req(void *ctx, const kad_contact_t *to, const kad_id_t *target, uint8_t type)
{
    kad_t *k = ctx;
    struct evbuffer *b = evbuffer_new();
    kad_req_t rq = { .type = type, .target = *target, .receiver = to->id };
    kad_req_encode(b, &rq);
    send_to_contact(k, to, b);
    evbuffer_free(b);
    expect(k, to->ip, to->udp_port, KAD_OP_RES);
    k->lookup_requests++;
    kad_rt_contact_t *c = kad_rt_find(k->rt, &to->id);
    if (c != NULL)
        c->req_at = clock_mono_s();
}

static void
job_free(job_t *j)
{
    if (j == NULL)
        return;
    kad_lookup_free(j->l);
    free(j->tree);
    free(j);
}

/* job_start: a lookup for target seeded from the table; NULL when
 * JOBS_MAX run already. */
static job_t *
job_start(kad_t *k, job_kind_t kind, const kad_id_t *target, uint8_t type)
{
    size_t slot = 0;
    while (slot < JOBS_MAX && k->jobs[slot] != NULL)
        slot++;
    if (slot == JOBS_MAX)
        return NULL;
    job_t *j = xcalloc(1, sizeof *j);
    j->kind = kind;
    j->l = kad_lookup_new(target, &k->me, type, send_lookup_req, k);
    j->started_ms = clock_mono_ms();
    kad_rt_contact_t *best[KAD_LOOKUP_CANDIDATES / 2];
    size_t n = kad_rt_closest(k->rt, target, true, best, sizeof best / sizeof best[0]);
    for (size_t i = 0; i < n; i++)
        kad_lookup_add(j->l, &best[i]->c, 1);
    k->jobs[slot] = j;
    k->lookups++;
    kad_lookup_step(j->l, j->started_ms);
    return j;
}

/* lookup: an iterative node lookup for target; its answers fill the
 * table. */
static void
lookup(kad_t *k, const kad_id_t *target)
{
    for (size_t i = 0; i < JOBS_MAX; i++)
        if (k->jobs[i] != NULL && k->jobs[i]->kind == JOB_NODE &&
            kad_id_equal(kad_lookup_target(k->jobs[i]->l), target))
            return;
    (void)job_start(k, JOB_NODE, target, KAD_REQ_FIND_NODE);
}

/* keyword_files: the shared files (not withheld) with word in their
 * name, as keyword publish entries (tags: caller frees each). */
static size_t
keyword_files(kad_t *k, const kad_id_t *word, kad_search_answer_t *out, size_t max)
{
    size_t n = 0;
    shared_t *sh = k->d->shared;
    for (size_t i = 0; sh != NULL && i < shared_count(sh) && n < max; i++) {
        const shared_file_t *f = shared_get(sh, i);
        if (shared_is_withheld(sh, f->hash) || f->size == 0)
            continue;
        char words[KAD_WORDS_MAX][KAD_WORD_MAX_LEN + 1];
        size_t nw = kad_words_split(f->name, words, KAD_WORDS_MAX, true);
        bool has = false;
        for (size_t w = 0; w < nw && !has; w++) {
            kad_id_t id;
            kad_word_id(words[w], &id);
            has = kad_id_equal(&id, word);
        }
        if (!has)
            continue;
        kad_id_from_digest(&out[n].id, f->hash);
        out[n].tags = ed2k_taglist_new();
        ed2k_taglist_add_str(out[n].tags, ED2K_FT_FILENAME, f->name, strlen(f->name));
        ed2k_taglist_add_uint(out[n].tags, ED2K_FT_FILESIZE, 0, f->size);
        n++;
    }
    return n;
}

/* publish_encode: the PUBLISH_KEY_REQ (our files with the keyword) or
 * PUBLISH_SOURCE_REQ (us as a HighID source of the file) of j into b. */
static int
publish_encode(kad_t *k, job_t *j, struct evbuffer *b)
{
    const kad_id_t *target = kad_lookup_target(j->l);
    int rc;
    if (j->kind == JOB_PUBLISH_KEY) {
        kad_search_answer_t *files = xcalloc(PUBLISH_FILES_MAX, sizeof *files);
        size_t n = keyword_files(k, target, files, PUBLISH_FILES_MAX);
        rc = n > 0 ? kad_publish_key_req_encode(b, target, files, n, NULL) : -1;
        for (size_t i = 0; i < n; i++)
            ed2k_taglist_free(files[i].tags);
        free(files);
        return rc;
    }
    kad_id_t me;
    kad_id_from_digest(&me, k->d->userhash);
    ed2k_taglist_t *t = ed2k_taglist_new();
    if (!kad_buddy_source_tags(k->buddy, t, j->size)) /* firewalled: through our buddy */
        ed2k_taglist_add_uint(t, KAD_TAG_SOURCETYPE, 0,
                              j->size > 0xFFFFFFFFu ? KAD_SOURCE_HIGHID_LARGE : KAD_SOURCE_HIGHID);
    ed2k_taglist_add_uint(t, KAD_TAG_SOURCEPORT, 0, (uint64_t)conf_get_int(k->d->conf, "tcp_port"));
    ed2k_taglist_add_uint(t, ED2K_FT_FILESIZE, 0, j->size);
    rc = kad_publish_source_req_encode(b, target, &me, t, NULL);
    ed2k_taglist_free(t);
    return rc;
}

/* ask_search: the lookup is over: KADEMLIA2_SEARCH_KEY_REQ (or
 * SEARCH_SOURCE_REQ) to the closest
 * that answered, those within the search tolerance of the target (LAN
 * addresses exempt, §10.3). */
static void
ask_search(kad_t *k, job_t *j, int64_t now_ms)
{
    kad_contact_t best[SEARCH_ASK];
    size_t n = kad_lookup_closest(j->l, best, SEARCH_ASK);
    const kad_id_t *target = kad_lookup_target(j->l);
    struct evbuffer *b = evbuffer_new();
    for (size_t i = 0; i < n; i++) {
        if (!kad_in_tolerance(&best[i].id, target) && !is_lan(best[i].ip))
            continue;
        if (j->kind == JOB_SOURCE)
            kad_search_source_req_encode(b, target, j->size);
        else if (j->kind == JOB_KEYWORD)
            kad_search_key_req_encode(b, target, j->tree, j->tree_len);
        else if (publish_encode(k, j, b) != 0)
            break;
        if (j->kind == JOB_PUBLISH_KEY || j->kind == JOB_PUBLISH_SOURCE) {
            expect(k, best[i].ip, best[i].udp_port, KAD_OP_PUBLISH_RES);
            k->publishes_sent++;
        }
        send_to_contact(k, &best[i], b);
        j->asked_ip[j->nasked] = best[i].ip;
        j->asked_port[j->nasked++] = best[i].udp_port;
    }
    evbuffer_free(b);
    j->asked_ms = now_ms;
    char hex[KAD_ID_HEX_LEN + 1];
    kad_id_to_hex(target, hex);
    static const char *const what[] = { "node", "keyword search", "source search",
                                        "keyword publish", "source publish" };
    log_info("Kad: %s: %zu node(s) of %zu asked for %s after %u request(s)", what[j->kind],
             j->nasked, n, hex, kad_lookup_sent(j->l));
}

/* probe_note: the state of probe job j at now_ms, kept for kad-lookup;
 * done when over (the job ends, or no closer contact can turn up). */
static void
probe_note(kad_t *k, const job_t *j, int64_t now_ms, bool over)
{
    probe_t *p = &k->probes[j->probe % PROBES_MAX];
    if (j->probe == 0 || p->number != j->probe || p->done_ms != 0)
        return;
    p->sent = kad_lookup_sent(j->l);
    p->answered = kad_lookup_answered(j->l);
    p->timeouts = kad_lookup_timeouts(j->l);
    p->nclosest = kad_lookup_closest(j->l, p->closest, KAD_LOOKUP_K);
    if (over)
        p->done_ms = now_ms > p->started_ms ? now_ms : p->started_ms + 1;
}

/* job_end: the job is over: a search's sink hears it is done. */
static void
job_end(kad_t *k, size_t slot)
{
    job_t *j = k->jobs[slot];
    probe_note(k, j, clock_mono_ms(), true);
    if (j->kind == JOB_KEYWORD && k->results_fn != NULL)
        k->results_fn(k->results_ctx, j->search_id, NULL, 0, true);
    job_free(j);
    k->jobs[slot] = NULL;
}

/* jobs_step: timeouts and next requests of every job; searches asked
 * when their lookup is over; jobs past their time ended. */
static void
jobs_step(kad_t *k)
{
    int64_t now_ms = clock_mono_ms();
    for (size_t i = 0; i < JOBS_MAX; i++) {
        job_t *j = k->jobs[i];
        if (j == NULL)
            continue;
        kad_lookup_step(j->l, now_ms);
        bool over = kad_lookup_is_done(j->l) || now_ms - j->started_ms >= JOB_TTL_MS;
        if (j->kind == JOB_PUBLISH_KEY || j->kind == JOB_PUBLISH_SOURCE) {
            if (over) {
                ask_search(k, j, now_ms);
                job_end(k, i);
            }
        } else if (j->kind != JOB_NODE) {
            if (j->asked_ms == 0 && over)
                ask_search(k, j, now_ms);
            if (j->asked_ms != 0 &&
                (now_ms - j->asked_ms >= SEARCH_WAIT_MS || j->nasked == 0 ||
                 j->results >= SEARCH_RESULTS_MAX))
                job_end(k, i);
        } else if (over) {
            job_end(k, i);
        }
    }
}

/* ------------------------------------------------------------ receiving */

/* add_contact: a contact from an answer, hello or file, when its address
 * may be used. */
static kad_rt_result_t
add_contact(kad_t *k, const kad_contact_t *c, bool verified, kad_rt_contact_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (!addr_ok(k, c->ip, c->udp_port))
        return KAD_RT_REFUSED;
    kad_rt_result_t r = kad_rt_add(k->rt, c, verified, is_lan(c->ip), clock_mono_s(), out);
    if (r == KAD_RT_ADDED || r == KAD_RT_UPDATED)
        k->dirty = true;
    return r;
}

static void
add_contacts(kad_t *k, const kad_contact_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        (void)add_contact(k, &c[i], false, NULL);
}

static size_t
ip_slot(uint32_t ip)
{
    return (ip ^ ip >> 8 ^ ip >> 16 ^ ip >> 24) % FLOOD_SLOTS;
}

/* may_answer_big: whether a large answer may go to ip:port now (see
 * BIG_EVERY); counts it when it may. */
static bool
may_answer_big(kad_t *k, uint32_t ip, uint16_t port)
{
    const kad_rt_contact_t *c = kad_rt_find_addr(k->rt, ip, port);
    if (c != NULL && c->verified)
        return true;
    time_t now = clock_mono_s();
    if (now != k->big_sec) {
        k->big_sec = now;
        k->big_n = 0;
    }
    big_answer_t *b = &k->big[ip_slot(ip)];
    if ((b->ip == ip && b->at != 0 && now - b->at < BIG_EVERY) || k->big_n >= BIG_PER_S) {
        k->dropped++;
        return false;
    }
    *b = (big_answer_t){ ip, now };
    k->big_n++;
    return true;
}

static void
on_bootstrap_req(kad_t *k, uint32_t ip, uint16_t port)
{
    if (!may_answer_big(k, ip, port))
        return;
    kad_bootstrap_res_t r = { .id = k->me,
                              .tcp_port = (uint16_t)conf_get_int(k->d->conf, "tcp_port"),
                              .version = KAD_VERSION };
    /* Contacts spread over the table: the closest to a random id. */
    kad_id_t any;
    uint8_t rnd[16] = { 0 };
    (void)mt_random_bytes(rnd, sizeof rnd, NULL);
    kad_id_from_digest(&any, rnd);
    kad_rt_contact_t *best[KAD_BOOTSTRAP_CONTACTS];
    size_t n = kad_rt_closest(k->rt, &any, true, best, KAD_BOOTSTRAP_CONTACTS);
    for (size_t i = 0; i < n; i++)
        if (best[i]->c.ip != ip || best[i]->c.udp_port != port)
            r.contacts[r.count++] = best[i]->c;
    struct evbuffer *b = evbuffer_new();
    kad_bootstrap_res_encode(b, &r);
    send_answer(k, ip, port, b);
    evbuffer_free(b);
}

static void
drop_boot(kad_t *k, uint32_t ip, uint16_t port)
{
    for (size_t i = 0; i < k->nboot; i++)
        if (k->boot[i].ip == ip && k->boot[i].port == port)
            k->boot[i--] = k->boot[--k->nboot];
}

static void
on_bootstrap_res(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_bootstrap_res_t r;
    if (!take(k, ip, port, KAD_OP_BOOTSTRAP_RES)) {
        k->dropped++;
        return;
    }
    if (kad_bootstrap_res_decode(p->payload, p->len, &r, NULL) != 0) {
        k->malformed++;
        return;
    }
    drop_boot(k, ip, port);
    /* Unverified like the others: the HELLO that verifies it also tells
     * it about us (a bootstrap request carries no id). */
    kad_contact_t self = { r.id, ip, port, r.tcp_port, r.version };
    (void)add_contact(k, &self, false, NULL);
    add_contacts(k, r.contacts, r.count);
    log_info("Kad: bootstrap answer from %u.%u.%u.%u:%u with %zu contacts; %zu in the table",
             ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, port, r.count,
             kad_rt_count(k->rt));
}

static void
on_hello_req(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_hello_t h;
    if (kad_hello_decode(p->payload, p->len, &h, NULL) != 0) {
        k->malformed++;
        return;
    }
    /* Answer, asking for the ack that verifies the sender's address. */
    struct evbuffer *b = evbuffer_new();
    kad_hello_t mine = my_hello(k, h.version >= 8 ? KAD_MISC_WANT_ACK : 0);
    kad_hello_encode(b, KAD_OP_HELLO_RES, &mine);
    /* aMule keys its answer by the asker's id from version 6 on */
    send_crypt(k, ip, port, b, h.version >= KAD_VERSION_CRYPT ? &h.id : NULL, k->rx_key);
    evbuffer_free(b);
    if (h.version >= 8)
        expect(k, ip, port, KAD_OP_HELLO_RES_ACK);
    kad_fw_ask(k->fw, ip, port, h.version, clock_mono_s());
    if (h.misc_options & KAD_MISC_UDP_FIREWALLED)
        return; /* never in the table (§10.2) */
    kad_contact_t c = { h.id, ip, port, h.tcp_port, h.version };
    kad_rt_contact_t *e = NULL;
    (void)add_contact(k, &c, false, &e);
    take_key(k, e);
}

/* send_hello_ack: KADEMLIA2_HELLO_RES_ACK, as an answer: obfuscated with
 * the verify key the HELLO_RES handed us. aMule takes an ack only with a
 * valid receiver key (Process2HelloResponseAck), only an acked contact is
 * IP-verified there, and only those are asked in its searches
 * (RoutingBin.cpp GetClosestTo). Without a key (a plain HELLO_RES) the ack
 * goes plain. */
static void
send_hello_ack(kad_t *k, uint32_t ip, uint16_t port)
{
    struct evbuffer *b = evbuffer_new();
    kad_hello_ack_encode(b, &k->me);
    send_answer(k, ip, port, b);
    evbuffer_free(b);
}

static void
on_hello_res(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_hello_t h;
    if (!take(k, ip, port, KAD_OP_HELLO_RES)) {
        k->dropped++;
        return;
    }
    if (kad_hello_decode(p->payload, p->len, &h, NULL) != 0) {
        k->malformed++;
        return;
    }
    kad_rt_contact_t *e = kad_rt_find_addr(k->rt, ip, port);
    if (h.misc_options & KAD_MISC_UDP_FIREWALLED) {
        if (e != NULL && kad_rt_remove(k->rt, &e->c.id))
            k->dirty = true;
        return;
    }
    if (e != NULL && !kad_id_equal(&e->c.id, &h.id) && kad_rt_remove(k->rt, &e->c.id))
        k->dirty = true; /* another node now lives at that address */
    kad_contact_t c = { h.id, ip, port, h.tcp_port, h.version };
    if (add_contact(k, &c, true, &e) <= KAD_RT_UPDATED && e != NULL)
        e->hellos = 0;
    take_key(k, e);
    if ((h.misc_options & KAD_MISC_WANT_ACK) && h.version >= 8)
        send_hello_ack(k, ip, port);
    kad_fw_ask(k->fw, ip, port, h.version, clock_mono_s());
}

static void
on_hello_ack(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_id_t id;
    if (!take(k, ip, port, KAD_OP_HELLO_RES_ACK)) {
        k->dropped++;
        return;
    }
    if (kad_hello_ack_decode(p->payload, p->len, &id, NULL) != 0) {
        k->malformed++;
        return;
    }
    kad_rt_contact_t *e = kad_rt_find(k->rt, &id);
    if (e != NULL && e->c.ip == ip && e->c.udp_port == port) {
        e->verified = true;
        e->last_seen = clock_mono_s();
        k->dirty = true;
    }
}

static void
on_req(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_req_t rq;
    if (kad_req_decode(p->payload, p->len, &rq, NULL) != 0) {
        k->malformed++;
        return;
    }
    if (!kad_id_equal(&rq.receiver, &k->me)) {
        k->dropped++; /* meant for whoever had this address before (aMule drops it too) */
        return;
    }
    if (!may_answer_big(k, ip, port))
        return;
    size_t want = rq.type & KAD_REQ_COUNT_MASK;
    kad_res_t r = { .target = rq.target };
    kad_rt_contact_t *best[KAD_CONTACTS_MAX];
    size_t n = kad_rt_closest(k->rt, &rq.target, true, best, want);
    for (size_t i = 0; i < n; i++)
        r.contacts[r.count++] = best[i]->c;
    struct evbuffer *b = evbuffer_new();
    kad_res_encode(b, &r);
    send_answer(k, ip, port, b);
    evbuffer_free(b);
}

/* add_res_contacts: a lookup answer's contacts into the table, but those
 * our UDP firewall check takes as testers: no HELLO of ours may reach
 * them before their answer (they would know us and refuse the test). The
 * lookup still asks them. */
static void
add_res_contacts(kad_t *k, const kad_res_t *r)
{
    time_t now = clock_mono_s();
    for (size_t c = 0; c < r->count; c++) {
        const kad_contact_t *x = &r->contacts[c];
        if (addr_ok(k, x->ip, x->udp_port) && !kad_id_equal(&x->id, &k->me) &&
            kad_fw_udp_offer(k->fw, x->ip, x->tcp_port, x->version, now))
            continue;
        add_contacts(k, x, 1);
    }
}

static void
on_res(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_res_t r;
    if (!take(k, ip, port, KAD_OP_RES)) {
        k->dropped++;
        return;
    }
    if (kad_res_decode(p->payload, p->len, &r, NULL) != 0) {
        k->malformed++;
        return;
    }
    kad_rt_contact_t *e = kad_rt_find_addr(k->rt, ip, port);
    if (e != NULL)
        e->last_seen = clock_mono_s();
    add_res_contacts(k, &r);
    /* contacts the table refuses (full bins) still help the lookup */
    for (size_t i = 0; i < JOBS_MAX; i++)
        if (k->jobs[i] != NULL && kad_id_equal(kad_lookup_target(k->jobs[i]->l), &r.target)) {
            size_t n = 0;
            for (size_t c = 0; c < r.count; c++)
                if (addr_ok(k, r.contacts[c].ip, r.contacts[c].udp_port))
                    r.contacts[n++] = r.contacts[c];
            int64_t now_ms = clock_mono_ms();
            if (kad_lookup_answer(k->jobs[i]->l, ip, port, r.contacts, n, now_ms))
                probe_note(k, k->jobs[i], now_ms, kad_lookup_is_done(k->jobs[i]->l));
        }
}

/* take_sources: the answers of a source search offered to its download:
 * HighID sources (types 1 and 4), and firewalled ones with a buddy (3 and
 * 5) asked through it to call us (buddy.c); direct callbacks (6) not yet. */
static void
take_sources(kad_t *k, job_t *j, const kad_search_res_t *r)
{
    download_t *dl = k->d->downloads != NULL ? dlq_find(k->d->downloads, j->hash) : NULL;
    size_t added = 0, firewalled = 0;
    for (size_t i = 0; dl != NULL && i < r->count; i++) {
        uint64_t type = 0, ip = 0, port = 0;
        const ed2k_taglist_t *t = r->v[i].tags;
        if (ed2k_taglist_get_uint(t, KAD_TAG_SOURCETYPE, &type) != 0 ||
            ed2k_taglist_get_uint(t, KAD_TAG_SOURCEIP, &ip) != 0 ||
            ed2k_taglist_get_uint(t, KAD_TAG_SOURCEPORT, &port) != 0 || ip > UINT32_MAX ||
            port == 0 || port > UINT16_MAX)
            continue;
        if (type != KAD_SOURCE_HIGHID && type != KAD_SOURCE_HIGHID_LARGE) {
            firewalled++;
            /* with a buddy: ask it for a callback; the source's connection
             * then joins the source added below */
            if (!kad_buddy_on_source(k->buddy, t, j->hash))
                continue;
        }
        if (!addr_ok(k, (uint32_t)ip, (uint16_t)port))
            continue;
        if (dl_add_source(dl, net_ip_from_host((uint32_t)ip), (uint16_t)port) == DL_SRC_ADDED)
            added++;
    }
    k->sources_found += added;
    if (dl != NULL)
        log_info("Kad: %zu source(s) for %s: %zu new, %zu firewalled", r->count,
                 pf_name(dl_partfile(dl)), added, firewalled);
}

/* on_search_res: KADEMLIA2_SEARCH_RES: answers of a keyword search we
 * asked that node for, turned into search results for the sink. */
static void
on_search_res(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_search_res_t r;
    if (kad_search_res_decode(p->payload, p->len, &r, NULL) != 0) {
        k->malformed++;
        return;
    }
    job_t *j = NULL;
    for (size_t i = 0; i < JOBS_MAX && j == NULL; i++) {
        job_t *c = k->jobs[i];
        if (c == NULL || c->kind == JOB_NODE || !kad_id_equal(kad_lookup_target(c->l), &r.target))
            continue;
        for (size_t a = 0; a < c->nasked; a++)
            if (c->asked_ip[a] == ip && c->asked_port[a] == port)
                j = c;
    }
    if (j == NULL) {
        k->dropped++; /* nobody asked that node for that keyword */
        kad_search_res_clear(&r);
        return;
    }
    if (j->kind == JOB_SOURCE) {
        take_sources(k, j, &r);
        kad_search_res_clear(&r);
        return;
    }
    ed2k_search_result_t *res = xcalloc(r.count > 0 ? r.count : 1, sizeof *res);
    size_t n = 0;
    for (size_t i = 0; i < r.count && j->results < SEARCH_RESULTS_MAX; i++) {
        uint8_t hash[16];
        kad_id_to_digest(&r.v[i].id, hash);
        if (ed2k_search_result_from_tags(&res[n], hash, r.v[i].tags)) {
            n++;
            j->results++;
        } else {
            ed2k_search_result_clear(&res[n]);
        }
    }
    k->search_results += n;
    if (n > 0 && k->results_fn != NULL)
        k->results_fn(k->results_ctx, j->search_id, res, n, false);
    ed2k_search_results_free(res, n);
    kad_search_res_clear(&r);
}

/* answer_from_index: KADEMLIA2_SEARCH_RES datagrams with what the index
 * holds under target, ANSWERS_PER_DATAGRAM each; none when it holds
 * nothing (aMule stays silent too). */
static void
answer_from_index(kad_t *k, uint32_t ip, uint16_t port, kad_index_kind_t kind,
                  const kad_id_t *target)
{
    kad_search_answer_t a[ANSWERS_PER_DATAGRAM];
    time_t now = clock_mono_s();
    size_t n, start = 0;
    if (kad_index_find(k->index, kind, target, now, 0, a, 1) == 0 || !may_answer_big(k, ip, port))
        return;
    struct evbuffer *b = evbuffer_new();
    while (start < KAD_SEARCH_RES_MAX &&
           (n = kad_index_find(k->index, kind, target, now, start, a, ANSWERS_PER_DATAGRAM)) > 0) {
        kad_search_res_t r = { .sender = k->me, .target = *target, .count = n, .v = a };
        if (kad_search_res_encode(b, &r, NULL) == 0)
            send_answer(k, ip, port, b);
        evbuffer_drain(b, evbuffer_get_length(b));
        start += n;
    }
    evbuffer_free(b);
    k->searches_answered++;
}

/* in_our_zone: whether a search or publish for target may come to us:
 * within the search tolerance of our id, or from a LAN address (§10.3). */
static bool
in_our_zone(const kad_t *k, const kad_id_t *target, uint32_t ip)
{
    return kad_in_tolerance(&k->me, target) || is_lan(ip);
}

static void
on_search_key_req(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_search_key_req_t rq;
    if (kad_search_key_req_decode(p->payload, p->len, &rq, NULL) != 0) {
        k->malformed++;
        return;
    }
    /* the search tree is not applied: every file under the keyword goes */
    answer_from_index(k, ip, port, KAD_INDEX_KEYWORD, &rq.keyword);
}

static void
on_search_source_req(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_search_source_req_t rq;
    if (kad_search_source_req_decode(p->payload, p->len, &rq, NULL) != 0) {
        k->malformed++;
        return;
    }
    answer_from_index(k, ip, port, KAD_INDEX_SOURCE, &rq.file);
}

static void
send_publish_res(kad_t *k, uint32_t ip, uint16_t port, const kad_id_t *target, unsigned load)
{
    struct evbuffer *b = evbuffer_new();
    kad_publish_res_encode(b, target, (uint8_t)(load > 100 ? 100 : load));
    send_answer(k, ip, port, b);
    evbuffer_free(b);
}

/* on_publish_key_req: files published under a keyword near us: indexed
 * (those with a name and a size) for KAD_INDEX_KEYWORD_TTL. */
static void
on_publish_key_req(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_search_res_t r;
    if (kad_publish_key_req_decode(p->payload, p->len, &r, NULL) != 0) {
        k->malformed++;
        return;
    }
    if (!in_our_zone(k, &r.target, ip)) {
        k->dropped++;
        kad_search_res_clear(&r);
        return;
    }
    unsigned load = 1;
    time_t now = clock_mono_s();
    for (size_t i = 0; i < r.count; i++) {
        const char *name;
        size_t len;
        uint64_t size;
        if (ed2k_taglist_get_str(r.v[i].tags, ED2K_FT_FILENAME, &name, &len) != 0 || len == 0 ||
            ed2k_taglist_get_uint(r.v[i].tags, ED2K_FT_FILESIZE, &size) != 0 || size == 0)
            continue;
        load = kad_index_add(k->index, KAD_INDEX_KEYWORD, &r.target, &r.v[i].id, ip, r.v[i].tags,
                             now, KAD_INDEX_KEYWORD_TTL);
        k->publishes_stored++;
    }
    send_publish_res(k, ip, port, &r.target, load);
    kad_search_res_clear(&r);
}

/* on_publish_source_req: a source of a file near us, indexed for
 * KAD_INDEX_SOURCE_TTL with the address it came from as TAG_SOURCEIP
 * (and TAG_SOURCEUPORT), as aMule adds them. */
static void
on_publish_source_req(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_id_t file, publisher;
    ed2k_taglist_t *tags = NULL;
    if (kad_publish_source_req_decode(p->payload, p->len, &file, &publisher, &tags, NULL) != 0) {
        k->malformed++;
        return;
    }
    uint64_t type;
    if (!in_our_zone(k, &file, ip) || ed2k_taglist_get_uint(tags, KAD_TAG_SOURCETYPE, &type) != 0) {
        k->dropped++;
        ed2k_taglist_free(tags);
        return;
    }
    ed2k_taglist_t *t = ed2k_taglist_new();
    ed2k_taglist_add_uint(t, KAD_TAG_SOURCEIP, ED2K_TAG_UINT32, ip);
    bool has_uport = false;
    for (size_t i = 0; i < ed2k_taglist_count(tags); i++) {
        const ed2k_tag_t *tag = ed2k_taglist_get(tags, i);
        if (tag->name == NULL && tag->id == KAD_TAG_SOURCEIP)
            continue;
        has_uport |= tag->name == NULL && tag->id == KAD_TAG_SOURCEUPORT;
        ed2k_taglist_add_copy(t, tag);
    }
    if (!has_uport)
        ed2k_taglist_add_uint(t, KAD_TAG_SOURCEUPORT, ED2K_TAG_UINT16, port);
    unsigned load = kad_index_add(k->index, KAD_INDEX_SOURCE, &file, &publisher, ip, t,
                                  clock_mono_s(), KAD_INDEX_SOURCE_TTL);
    k->publishes_stored++;
    send_publish_res(k, ip, port, &file, load);
    ed2k_taglist_free(t);
    ed2k_taglist_free(tags);
}

static void publish_answered(kad_t *k, const kad_id_t *target);

/* on_publish_res: a node took our publish; its load is logged (a full
 * node is left alone until the next round anyway). */
static void
on_publish_res(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_id_t target;
    uint8_t load;
    if (!take(k, ip, port, KAD_OP_PUBLISH_RES)) {
        k->dropped++;
        return;
    }
    if (kad_publish_res_decode(p->payload, p->len, &target, &load, NULL) != 0) {
        k->malformed++;
        return;
    }
    log_debug("Kad: publish taken by %u.%u.%u.%u:%u, load %u%%", ip >> 24, (ip >> 16) & 255,
              (ip >> 8) & 255, ip & 255, port, load);
    publish_answered(k, &target);
}

static void
on_ping(kad_t *k, uint32_t ip, uint16_t port)
{
    struct evbuffer *b = evbuffer_new();
    kad_pong_encode(b, port);
    send_answer(k, ip, port, b);
    evbuffer_free(b);
}

/* on_fw_req: another node's firewall check (firewall.c answers it). */
static void
on_fw_req(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    kad_fw_req_t rq;
    if (kad_fw_req_decode(p->opcode, p->payload, p->len, &rq, NULL) != 0) {
        k->malformed++;
        return;
    }
    if (!kad_fw_on_request(k->fw, ip, port, &rq, clock_mono_s()))
        k->dropped++;
}

/* on_fw_answer: answers to our firewall checks: the address it saw
 * (FIREWALLED_RES), a connect-back by UDP (FIREWALLED_ACK_RES, Kad < 7),
 * a UDP test (KADEMLIA2_FIREWALLUDP). */
static void
on_fw_answer(kad_t *k, uint32_t ip, const ed2k_packet_t *p)
{
    time_t now = clock_mono_s();
    int rc = 0;
    if (p->opcode == KAD_OP_FIREWALLED_RES)
        rc = kad_fw_on_res(k->fw, ip, p->payload, p->len, now);
    else if (p->opcode == KAD_OP_FIREWALLED_ACK_RES)
        rc = kad_fw_on_ack(k->fw, ip, now) ? 1 : 0;
    else if (p->opcode == KAD_OP_FIREWALLUDP)
        rc = kad_fw_on_udp_answer(k->fw, ip, p->payload, p->len, now);
    if (rc < 0)
        k->malformed++;
    else if (rc == 0)
        k->dropped++;
}

/* flooded: whether ip sent more than FLOOD_PER_S datagrams this second. */
/* on_buddy: the buddy datagrams, handled in buddy.c. */
static void
on_buddy(kad_t *k, uint32_t ip, uint16_t port, const ed2k_packet_t *p)
{
    int rc;
    if (p->opcode == KAD_OP_FINDBUDDY_REQ)
        rc = kad_buddy_on_find_req(k->buddy, ip, port, p->payload, p->len, clock_mono_s());
    else if (p->opcode == KAD_OP_FINDBUDDY_RES)
        rc = kad_buddy_on_find_res(k->buddy, ip, port, p->payload, p->len, clock_mono_s());
    else
        rc = kad_buddy_on_callback_req(k->buddy, ip, port, p->payload, p->len);
    if (rc < 0)
        k->malformed++;
    else if (rc == 0)
        k->dropped++;
}

static bool
flooded(kad_t *k, uint32_t ip)
{
    time_t now = clock_mono_s();
    flood_t *f = &k->flood[ip_slot(ip)];
    if (f->ip != ip || f->sec != now)
        *f = (flood_t){ ip, now, 0 };
    return ++f->n > FLOOD_PER_S;
}

static void
on_datagram(void *ctx, uint32_t ed2k_ip, uint16_t port, const uint8_t *data, size_t len)
{
    kad_t *k = ctx;
    uint32_t ip = net_ip_to_host(ed2k_ip);
    k->in++;
    if (!k->on || k->paused || !addr_ok(k, ip, port) || flooded(k, ip)) {
        k->dropped++;
        return;
    }
    uint8_t plain[2048];
    uint32_t rk = 0, sk = 0;
    if (!kad_crypt_is_plain(data[0])) {
        size_t plen;
        if (len > sizeof plain ||
            kad_crypt_decrypt(data, len, &k->me, kad_verify_key(k->udp_key, ip), plain, &plen,
                              &rk, &sk, NULL) != 0) {
            k->malformed++;
            return;
        }
        data = plain;
        len = plen;
        k->crypt_in++;
    }
    ed2k_packet_t *p = NULL;
    if (kad_datagram_open(data, len, &p, NULL) != 0) {
        k->malformed++;
        return;
    }
    log_debug("Kad: datagram 0x%02x (%zu bytes%s) from %u.%u.%u.%u:%u", p->opcode, p->len,
              sk != 0 ? ", obfuscated" : "", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255,
              port);
    k->rx_key = sk;
    k->rx_ip = ip;
    switch (p->opcode) {
    case KAD_OP_BOOTSTRAP_REQ: on_bootstrap_req(k, ip, port); break;
    case KAD_OP_BOOTSTRAP_RES: on_bootstrap_res(k, ip, port, p); break;
    case KAD_OP_HELLO_REQ: on_hello_req(k, ip, port, p); break;
    case KAD_OP_HELLO_RES: on_hello_res(k, ip, port, p); break;
    case KAD_OP_HELLO_RES_ACK: on_hello_ack(k, ip, port, p); break;
    case KAD_OP_REQ: on_req(k, ip, port, p); break;
    case KAD_OP_RES: on_res(k, ip, port, p); break;
    case KAD_OP_SEARCH_RES: on_search_res(k, ip, port, p); break;
    case KAD_OP_SEARCH_KEY_REQ: on_search_key_req(k, ip, port, p); break;
    case KAD_OP_SEARCH_SOURCE_REQ: on_search_source_req(k, ip, port, p); break;
    case KAD_OP_PUBLISH_KEY_REQ: on_publish_key_req(k, ip, port, p); break;
    case KAD_OP_PUBLISH_SOURCE_REQ: on_publish_source_req(k, ip, port, p); break;
    case KAD_OP_PUBLISH_RES: on_publish_res(k, ip, port, p); break;
    case KAD_OP_PING: on_ping(k, ip, port); break;
    case KAD_OP_PONG: break;
    case KAD_OP_FIREWALLED_REQ:
    case KAD_OP_FIREWALLED2_REQ: on_fw_req(k, ip, port, p); break;
    case KAD_OP_FIREWALLED_RES:
    case KAD_OP_FIREWALLED_ACK_RES:
    case KAD_OP_FIREWALLUDP: on_fw_answer(k, ip, p); break;
    case KAD_OP_FINDBUDDY_REQ:
    case KAD_OP_FINDBUDDY_RES:
    case KAD_OP_CALLBACK_REQ: on_buddy(k, ip, port, p); break;
    default: k->dropped++; break; /* notes, buddies: not yet */
    }
    k->rx_key = 0;
    ed2k_packet_free(p);
}

/* ------------------------------------------------------------ nodes.dat */

/* add_nodes: the contacts of a nodes.dat image; how many were new. */
static int
add_nodes(kad_t *k, const uint8_t *data, size_t len, size_t *added, size_t *total,
          mt_error_t **err)
{
    kad_node_t *v = NULL;
    size_t n = 0, fresh = 0;
    bool bootstrap;
    if (kad_nodesdat_parse(data, len, &v, &n, &bootstrap, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (add_contact(k, &v[i].c, false, NULL) == KAD_RT_ADDED)
            fresh++;
    free(v);
    if (added != NULL)
        *added = fresh;
    if (total != NULL)
        *total = n;
    return 0;
}

int
kad_import_data(kad_t *k, const uint8_t *data, size_t len, const char *source, size_t *added,
                size_t *total, mt_error_t **err)
{
    if (!k->on) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "Kad is off (kad = no, or no udp_port)");
        return -1;
    }
    size_t a = 0, t = 0;
    if (add_nodes(k, data, len, &a, &t, err) != 0)
        return -1;
    log_info("Kad: %zu new contacts of %zu imported from %s", a, t, source);
    if (added != NULL)
        *added = a;
    if (total != NULL)
        *total = t;
    return 0;
}

int
kad_import(kad_t *k, const char *path, size_t *added, size_t *total, mt_error_t **err)
{
    if (!k->on) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "Kad is off (kad = no, or no udp_port)");
        return -1;
    }
    size_t len;
    uint8_t *data = mt_file_read(path, 1 << 20, &len, err);
    if (data == NULL)
        return -1;
    int rc = kad_import_data(k, data, len, path, added, total, err);
    free(data);
    if (rc != 0)
        mt_error_prefix(err, "%s", path);
    return rc;
}

static int
import_fetched(void *ctx, const uint8_t *data, size_t len, const char *url, size_t *added,
               size_t *total, mt_error_t **err)
{
    return kad_import_data(ctx, data, len, url, added, total, err);
}

json_object *
kad_import_url(kad_t *k, const char *url, mt_error_t **err)
{
    if (!k->on) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "Kad is off (kad = no, or no udp_port)");
        return NULL;
    }
    return nodesurl_start(k->urls, url, err);
}

json_object *
kad_imports_to_json(const kad_t *k)
{
    return nodesurl_to_json(k->urls);
}

/* on_peer_ready: while no contact is verified, an eD2K client whose hello
 * announces a Kad port (Kad 2: version 2 or later) is asked for contacts,
 * as aMule and eMule do on a hello: so a node with servers but no nodes.dat
 * still joins. */
static void
on_peer_ready(void *ctx, const bus_peer_t *ev)
{
    kad_t *k = ctx;
    uint16_t port = peer_kad_port(ev->peer);
    if (!k->on || port == 0 || peer_caps(ev->peer)->kad_ver < 2 ||
        kad_rt_count_verified(k->rt) > 0 || !addr_ok(k, net_ip_to_host(peer_ip(ev->peer)), port))
        return;
    log_debug("Kad: not connected; bootstrapping from client %s", peer_desc(ev->peer));
    (void)kad_bootstrap(k, peer_ip(ev->peer), port, NULL);
}

/* first_start: no saved contacts: nodes.dat from kad_nodes_url ("": none;
 * tests set it so). */
static void
first_start(kad_t *k)
{
    const char *url = conf_get_str(k->d->conf, "kad_nodes_url");
    if (kad_rt_count(k->rt) > 0 || url[0] == '\0')
        return;
    log_info("Kad: no saved contacts; bootstrapping from kad_nodes_url");
    mt_error_t *err = NULL;
    json_object *o = nodesurl_start(k->urls, url, &err);
    if (o == NULL) {
        log_warn("Kad: kad_nodes_url: %s", err->message);
        mt_error_free(err);
    }
    json_object_put(o);
}

static void
load_nodes(kad_t *k)
{
    size_t len;
    mt_error_t *err = NULL;
    uint8_t *data = mt_file_read(k->nodes_path, 1 << 20, &len, &err);
    if (data == NULL) {
        if (err->code != MT_ERR_NOT_FOUND)
            log_warn("Kad: %s", err->message);
        mt_error_free(err);
        return;
    }
    if (add_nodes(k, data, len, NULL, NULL, &err) != 0) {
        log_warn("Kad: %s: %s", k->nodes_path, err->message);
        mt_error_free(err);
    }
    log_info("Kad: %zu contacts read from %s", kad_rt_count(k->rt), k->nodes_path);
    k->dirty = false;
    free(data);
}

typedef struct collect {
    kad_node_t *v;
    size_t n, max;
} collect_t;

static void
collect_node(void *ctx, kad_rt_contact_t *c)
{
    collect_t *cl = ctx;
    if (cl->n < cl->max)
        cl->v[cl->n++] = (kad_node_t){ .c = c->c, .udp_key = c->udp_key,
                                       .udp_key_ip = c->udp_key_ip, .verified = c->verified };
}

/* save_nodes: nodes.dat, atomically (tmp + rename). */
static void
save_nodes(kad_t *k)
{
    collect_t cl = { .v = xcalloc(NODES_SAVED, sizeof(kad_node_t)), .max = NODES_SAVED };
    kad_rt_foreach(k->rt, collect_node, &cl);
    struct evbuffer *b = evbuffer_new();
    kad_nodesdat_write(b, cl.v, cl.n);
    mt_error_t *err = NULL;
    if (mt_file_write_atomic(k->nodes_path, evbuffer_pullup(b, -1), evbuffer_get_length(b), 0600,
                             &err) != 0) {
        log_warn("Kad: %s", err->message);
        mt_error_free(err);
    } else {
        k->dirty = false;
    }
    k->saved_at = clock_mono_s();
    evbuffer_free(b);
    free(cl.v);
}

/* ------------------------------------------------------------ timers */

typedef struct sweep {
    kad_t *k;
    time_t now;
    size_t hellos;
    kad_id_t dead[64];
    size_t ndead;
} sweep_t;

/* sweep_one: hello an unverified or stale contact, or mark it dead. */
static void
sweep_one(void *ctx, kad_rt_contact_t *c)
{
    sweep_t *s = ctx;
    if (c->verified && s->now - c->last_seen >= STALE_AFTER) {
        c->verified = false;
        c->hellos = 0;
        c->hello_at = 0;
    }
    if (c->verified || (c->hello_at != 0 && s->now - c->hello_at < HELLO_EVERY))
        return;
    if (c->hellos >= HELLO_TRIES) {
        if (s->ndead < sizeof s->dead / sizeof s->dead[0])
            s->dead[s->ndead++] = c->c.id;
    } else if (s->hellos < HELLOS_PER_TICK) {
        send_hello_req(s->k, c, s->now);
        s->hellos++;
    }
}

/* ask_of: the slot that remembers hash's last source search (the oldest
 * is taken for a new hash). */
static source_ask_t *
ask_in(source_ask_t *v, size_t n, const uint8_t hash[16])
{
    source_ask_t *old = &v[0];
    for (size_t i = 0; i < n; i++) {
        if (v[i].at != 0 && memcmp(v[i].hash, hash, 16) == 0)
            return &v[i];
        if (v[i].at < old->at)
            old = &v[i];
    }
    memcpy(old->hash, hash, 16);
    old->at = 0;
    old->unanswered = 0;
    old->retry_at = 0;
    return old;
}

/* publish_is_due: the publish a tracks is due at now, every s after the
 * last one, or sooner as the retry of an unanswered one. */
static bool
publish_is_due(const source_ask_t *a, time_t now, time_t every)
{
    return a->at == 0 || now - a->at >= every || (a->retry_at != 0 && now >= a->retry_at);
}

/* publish_started: a publish a tracks started at now; unless a
 * PUBLISH_RES answers it (publish_answered), it is retried after a
 * back-off. */
static void
publish_started(source_ask_t *a, time_t now)
{
    unsigned shift = a->unanswered < 6 ? a->unanswered : 6;
    time_t wait = (time_t)PUBLISH_RETRY << shift;
    a->at = now;
    a->unanswered++;
    a->retry_at = now + (wait < PUBLISH_RETRY_MAX ? wait : PUBLISH_RETRY_MAX);
}

/* publish_answered: a node took our publish of target: no retry. */
static void
publish_answered(kad_t *k, const kad_id_t *target)
{
    uint8_t digest[16];
    kad_id_to_digest(target, digest);
    source_ask_t *v[] = { k->published_kw, k->published_src };
    for (size_t t = 0; t < 2; t++)
        for (size_t i = 0; i < PUBLISHED_MAX; i++)
            if (v[t][i].at != 0 && memcmp(v[t][i].hash, digest, 16) == 0) {
                v[t][i].unanswered = 0;
                v[t][i].retry_at = 0;
            }
}

/* search_sources: a source search for the next active download that is
 * due, when fewer than SOURCE_JOBS run. */
static void
search_sources(kad_t *k, time_t now)
{
    size_t running = 0;
    for (size_t i = 0; i < JOBS_MAX; i++)
        running += k->jobs[i] != NULL && k->jobs[i]->kind == JOB_SOURCE;
    if (running >= SOURCE_JOBS || k->d->downloads == NULL)
        return;
    for (size_t i = 0; i < dlq_count(k->d->downloads); i++) {
        partfile_t *pf = dl_partfile(dlq_get(k->d->downloads, i));
        if (pf_state(pf) != PF_STATE_ACTIVE || pf_is_complete(pf))
            continue;
        source_ask_t *a = ask_in(k->asks, SOURCE_ASKS, pf_hash(pf));
        if (a->at != 0 && now - a->at < SOURCE_EVERY)
            continue;
        kad_id_t target;
        kad_id_from_digest(&target, pf_hash(pf));
        job_t *j = job_start(k, JOB_SOURCE, &target, KAD_REQ_FIND_VALUE);
        if (j == NULL)
            return;
        memcpy(j->hash, pf_hash(pf), 16);
        j->size = pf_size(pf);
        a->at = now;
        k->source_searches++;
        return;
    }
}

/* publish_job: a publish of kind for target unless one runs; false when
 * no job could start. */
static bool
publish_job(kad_t *k, job_kind_t kind, const kad_id_t *target, uint64_t size)
{
    job_t *j = job_start(k, kind, target, KAD_REQ_STORE);
    if (j == NULL)
        return false;
    j->size = size;
    return true;
}

/* publish_due: the next keyword or source publish that is due, when
 * fewer than PUBLISH_JOBS run: sources of shared files, then of partial
 * files, then keywords of shared files. */
static void
publish_due(kad_t *k, time_t now)
{
    size_t running = 0;
    for (size_t i = 0; i < JOBS_MAX; i++)
        running += k->jobs[i] != NULL &&
                   (k->jobs[i]->kind == JOB_PUBLISH_KEY || k->jobs[i]->kind == JOB_PUBLISH_SOURCE);
    if (running >= PUBLISH_JOBS || k->connected_at == 0 || now - k->connected_at < PUBLISH_AFTER)
        return;
    shared_t *sh = k->d->shared;
    kad_id_t target;
    for (size_t i = 0; sh != NULL && i < shared_count(sh); i++) {
        const shared_file_t *f = shared_get(sh, i);
        if (shared_is_withheld(sh, f->hash) || f->size == 0)
            continue;
        source_ask_t *a = ask_in(k->published_src, PUBLISHED_MAX, f->hash);
        if (publish_is_due(a, now, SOURCE_REPUBLISH)) {
            kad_id_from_digest(&target, f->hash);
            if (publish_job(k, JOB_PUBLISH_SOURCE, &target, f->size))
                publish_started(a, now);
            return;
        }
    }
    for (size_t i = 0; k->d->downloads != NULL && i < dlq_count(k->d->downloads); i++) {
        partfile_t *pf = dl_partfile(dlq_get(k->d->downloads, i));
        if (pf_state(pf) != PF_STATE_ACTIVE || pf_is_complete(pf))
            continue;
        source_ask_t *a = ask_in(k->published_src, PUBLISHED_MAX, pf_hash(pf));
        if (publish_is_due(a, now, SOURCE_REPUBLISH)) {
            kad_id_from_digest(&target, pf_hash(pf));
            if (publish_job(k, JOB_PUBLISH_SOURCE, &target, pf_size(pf)))
                publish_started(a, now);
            return;
        }
    }
    for (size_t i = 0; sh != NULL && i < shared_count(sh); i++) {
        const shared_file_t *f = shared_get(sh, i);
        if (shared_is_withheld(sh, f->hash) || f->size == 0)
            continue;
        char words[KAD_WORDS_MAX][KAD_WORD_MAX_LEN + 1];
        size_t nw = kad_words_split(f->name, words, KAD_WORDS_MAX, true);
        for (size_t w = 0; w < nw; w++) {
            kad_word_id(words[w], &target);
            uint8_t digest[16];
            kad_id_to_digest(&target, digest);
            source_ask_t *a = ask_in(k->published_kw, PUBLISHED_MAX, digest);
            if (publish_is_due(a, now, KEYWORD_REPUBLISH)) {
                if (publish_job(k, JOB_PUBLISH_KEY, &target, 0))
                    publish_started(a, now);
                return;
            }
        }
    }
}

/* fw_ask_one: while our firewall check runs, verified contacts are asked
 * too (besides the nodes that say hello), FW_ASKS_PER_TICK a second. */
#define FW_ASKS_PER_TICK 2
typedef struct fw_ask {
    kad_t *k;
    time_t now;
    unsigned n;
} fw_ask_t;

static void
fw_ask_one(void *ctx, kad_rt_contact_t *c)
{
    fw_ask_t *fa = ctx;
    if (c->verified && fa->n < FW_ASKS_PER_TICK &&
        kad_fw_ask(fa->k->fw, c->c.ip, c->c.udp_port, c->c.version, fa->now))
        fa->n++;
}

void
kad_tick(kad_t *k)
{
    if (k == NULL || !k->on || k->paused)
        return;
    time_t now = clock_mono_s();
    for (size_t i = 0; i < k->nboot; i++) {
        boot_t *bt = &k->boot[i];
        if (now < bt->next)
            continue;
        if (bt->tries >= BOOT_TRIES) {
            k->boot[i--] = k->boot[--k->nboot];
            continue;
        }
        send_bootstrap_req(k, bt->ip, bt->port);
        bt->tries++;
        bt->next = now + BOOT_EVERY;
    }
    sweep_t s = { .k = k, .now = now };
    kad_rt_foreach(k->rt, sweep_one, &s);
    for (size_t i = 0; i < s.ndead; i++)
        if (kad_rt_remove(k->rt, &s.dead[i]))
            k->dirty = true;
    bool verified = kad_rt_count_verified(k->rt) > 0;
    jobs_step(k);
    if (verified && k->connected_at == 0) {
        k->connected_at = now;
        kad_fw_recheck(k->fw, now); /* aMule checks on every connect */
        k->refresh_at = now; /* a random lookup finds UDP testers (aMule's FindNodeFWCheckUDP) */
    }
    kad_fw_tick(k->fw, now);
    /* a buddy is looked for once a check has found us firewalled, or a
     * round has run BUDDY_AFTER s without a connect-back opening us */
    bool fw = kad_fw_is_firewalled(k->fw);
    bool settled = !kad_fw_is_checking(k->fw) || kad_buddy_is_served(k->buddy) ||
                   (k->connected_at != 0 && now - k->connected_at >= BUDDY_AFTER);
    kad_buddy_tick(k->buddy, verified && !fw, verified && fw && settled, now);
    if (verified && kad_fw_is_checking(k->fw)) {
        fw_ask_t fa = { k, now, 0 };
        kad_rt_foreach(k->rt, fw_ask_one, &fa);
    }
    if (verified) {
        search_sources(k, now);
        publish_due(k, now);
    }
    if (now - k->expired_at >= 60) {
        kad_index_expire(k->index, now);
        k->expired_at = now;
    }
    if (now >= k->lookup_at && verified) {
        lookup(k, &k->me);
        k->lookup_at = now + (kad_rt_count(k->rt) < SMALL_TABLE ? LOOKUP_FAST : LOOKUP_SLOW);
    }
    if (now >= k->refresh_at && verified) {
        uint8_t rnd[16] = { 0 };
        (void)mt_random_bytes(rnd, sizeof rnd, NULL);
        kad_id_t target;
        kad_id_from_digest(&target, rnd);
        lookup(k, &target);
        k->refresh_at = now + REFRESH_EVERY;
    }
    if (k->dirty && now - k->saved_at >= SAVE_EVERY)
        save_nodes(k);
}

/* fw_send, fw_knows, fw_udp_port: the firewall checks' hooks (firewall.h;
 * fw_send is the buddies' too). A datagram to a contact in the table goes
 * as our requests to it do (obfuscated from version 6 on); to another node, as an answer to the datagram being
 * handled when it is from there (keyed by the key it carried), else
 * plain, as aMule sends them. */
static void
fw_send(void *ctx, uint32_t ip, uint16_t port, struct evbuffer *b)
{
    kad_t *k = ctx;
    const kad_rt_contact_t *c = kad_rt_find_addr(k->rt, ip, port);
    if (c != NULL)
        send_to_contact(k, &c->c, b);
    else if (k->rx_key != 0 && ip == k->rx_ip)
        send_answer(k, ip, port, b);
    else
        send_buf(k, ip, port, b);
}

typedef struct find_ip {
    uint32_t ip;
    bool found;
} find_ip_t;

static void
match_ip(void *ctx, kad_rt_contact_t *c)
{
    find_ip_t *f = ctx;
    f->found |= c->c.ip == f->ip;
}

static bool
fw_knows(void *ctx, uint32_t ip)
{
    kad_t *k = ctx;
    find_ip_t f = { ip, false };
    kad_rt_foreach(k->rt, match_ip, &f);
    return f.found;
}

static uint16_t
fw_udp_port(void *ctx)
{
    kad_t *k = ctx;
    return ulq_udp_port(k->d->uploads);
}

/* buddy_closest: the buddies' closest-contacts hook (buddy.h); they send
 * through fw_send. */
static size_t
buddy_closest(void *ctx, const kad_id_t *target, kad_contact_t *out, size_t max)
{
    kad_t *k = ctx;
    kad_rt_contact_t *c[KAD_BUDDY_ASK];
    size_t n = kad_rt_closest(k->rt, target, true, c, max < KAD_BUDDY_ASK ? max : KAD_BUDDY_ASK);
    for (size_t i = 0; i < n; i++)
        out[i] = c[i]->c;
    return n;
}

/* ------------------------------------------------------------ public */

kad_t *
kad_new(muleteerd_t *d, mt_error_t **err)
{
    kad_t *k = xcalloc(1, sizeof *k);
    k->d = d;
    const char *state = conf_get_str(d->conf, "state_dir");
    char *id_path = xasprintf("%s/kad_id", state);
    int rc = load_id(id_path, &k->me, err);
    free(id_path);
    if (rc != 0) {
        free(k);
        return NULL;
    }
    (void)mt_random_bytes(&k->udp_key, sizeof k->udp_key, NULL);
    k->rt = kad_rt_new(&k->me);
    k->index = kad_index_new(0);
    k->nodes_path = xasprintf("%s/nodes.dat", state);
    k->on = conf_get_bool(d->conf, "kad") && ulq_udp_port(d->uploads) != 0;
    k->fw = kad_fw_new(d, &(kad_fw_hooks_t){
                              .send = fw_send, .knows = fw_knows, .udp_port = fw_udp_port, .ctx = k });
    k->buddy = kad_buddy_new(d, &k->me, &(kad_buddy_hooks_t){ .send = fw_send,
                                                              .closest = buddy_closest,
                                                              .ctx = k });
    k->saved_at = clock_mono_s();
    k->refresh_at = k->saved_at + REFRESH_EVERY;
    k->urls = nodesurl_new(d->workers, import_fetched, k);
    if (k->on) {
        load_nodes(k);
        first_start(k);
        bus_on_peer_connected(d->bus, on_peer_ready, k);
        ulq_set_kad_handler(d->uploads, on_datagram, k);
        char hex[KAD_ID_HEX_LEN + 1];
        kad_id_to_hex(&k->me, hex);
        log_info("Kad: on, id %s, UDP port %u", hex, ulq_udp_port(d->uploads));
    }
    return k;
}

void
kad_free(kad_t *k)
{
    if (k == NULL)
        return;
    if (k->on) {
        bus_unsubscribe_ctx(k->d->bus, k);
        ulq_set_kad_handler(k->d->uploads, NULL, NULL);
        if (k->dirty || kad_rt_count(k->rt) > 0)
            save_nodes(k);
    }
    for (size_t i = 0; i < JOBS_MAX; i++)
        job_free(k->jobs[i]);
    kad_rt_free(k->rt);
    kad_index_free(k->index);
    nodesurl_free(k->urls);
    kad_fw_free(k->fw);
    kad_buddy_free(k->buddy);
    free(k->nodes_path);
    free(k);
}

int
kad_bootstrap(kad_t *k, uint32_t ip, uint16_t port, mt_error_t **err)
{
    uint32_t kip = net_ip_to_host(ip);
    if (!k->on) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "Kad is off (kad = no, or no udp_port)");
        return -1;
    }
    if (!addr_ok(k, kip, port)) {
        mt_error_set(err, MT_ERR_INVALID,
                     "cannot bootstrap from a LAN or reserved address while filter_lan is on");
        return -1;
    }
    drop_boot(k, kip, port);
    if (k->nboot == BOOT_MAX)
        k->boot[0] = k->boot[--k->nboot]; /* the oldest goes */
    k->boot[k->nboot++] = (boot_t){ kip, port, 0, 0 };
    kad_tick(k); /* the first request now */
    return 0;
}

void
kad_set_results_sink(kad_t *k, kad_results_fn fn, void *ctx)
{
    k->results_fn = fn;
    k->results_ctx = ctx;
}

int
kad_search_keyword(kad_t *k, int64_t search_id, const char *keywords, const uint8_t *tree,
                   size_t tree_len, mt_error_t **err)
{
    if (!kad_is_connected(k)) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "Kad is not connected");
        return -1;
    }
    char words[KAD_WORDS_MAX][KAD_WORD_MAX_LEN + 1];
    size_t n = kad_words_split(keywords, words, KAD_WORDS_MAX, false);
    if (n == 0) {
        mt_error_set(err, MT_ERR_INVALID, "Kad needs a keyword of 3 bytes or more");
        return -1;
    }
    size_t longest = 0;
    for (size_t i = 1; i < n; i++)
        if (strlen(words[i]) > strlen(words[longest]))
            longest = i;
    kad_id_t target;
    kad_word_id(words[longest], &target);
    job_t *j = job_start(k, JOB_KEYWORD, &target, KAD_REQ_FIND_VALUE);
    if (j == NULL) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "too many Kad lookups running");
        return -1;
    }
    j->search_id = search_id;
    if (tree_len > 0) {
        j->tree = xmalloc(tree_len);
        memcpy(j->tree, tree, tree_len);
        j->tree_len = tree_len;
    }
    k->keyword_searches++;
    log_info("Kad: keyword search %" PRId64 " for \"%s\"", search_id, words[longest]);
    return 0;
}

int
kad_probe_start(kad_t *k, const kad_id_t *target, unsigned *number, mt_error_t **err)
{
    if (!k->on || kad_rt_count_verified(k->rt) == 0) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "Kad is not connected");
        return -1;
    }
    job_t *j = job_start(k, JOB_NODE, target, KAD_REQ_FIND_NODE);
    if (j == NULL) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "too many Kad lookups running; try again");
        return -1;
    }
    if (++k->probe_last == 0)
        k->probe_last = 1;
    j->probe = k->probe_last;
    probe_t *p = &k->probes[j->probe % PROBES_MAX];
    *p = (probe_t){ .number = j->probe, .target = *target, .started_ms = j->started_ms };
    probe_note(k, j, j->started_ms, kad_lookup_is_done(j->l));
    *number = j->probe;
    return 0;
}

json_object *
kad_probe_to_json(const kad_t *k, unsigned number)
{
    const probe_t *p = &k->probes[number % PROBES_MAX];
    if (number == 0 || p->number != number)
        return NULL;
    json_object *o = json_object_new_object();
    char hex[KAD_ID_HEX_LEN + 1], ip[16];
    kad_id_to_hex(&p->target, hex);
    json_object_object_add(o, "lookup", json_object_new_int64(p->number));
    json_object_object_add(o, "target", json_object_new_string(hex));
    json_object_object_add(o, "state", json_object_new_string(p->done_ms != 0 ? "done" : "running"));
    int64_t end = p->done_ms != 0 ? p->done_ms : clock_mono_ms();
    json_object_object_add(o, "elapsed_ms", json_object_new_int64(end - p->started_ms));
    json_object_object_add(o, "requests", json_object_new_int64(p->sent));
    json_object_object_add(o, "answered", json_object_new_int64(p->answered));
    json_object_object_add(o, "timeouts", json_object_new_int64(p->timeouts));
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < p->nclosest; i++) {
        json_object *c = json_object_new_object();
        kad_id_to_hex(&p->closest[i].id, hex);
        json_object_object_add(c, "id", json_object_new_string(hex));
        json_object_object_add(c, "address", json_object_new_string(
                                                 net_ip_str(net_ip_from_host(p->closest[i].ip), ip)));
        json_object_object_add(c, "udp_port", json_object_new_int(p->closest[i].udp_port));
        json_object_array_add(a, c);
    }
    json_object_object_add(o, "closest", a);
    return o;
}

const char *
kad_state(const kad_t *k)
{
    if (k == NULL || !k->on || k->paused)
        return "off";
    if (kad_rt_count_verified(k->rt) == 0)
        return "connecting";
    return kad_fw_is_firewalled(k->fw) ? "connected (firewalled)" : "connected (open)";
}

bool
kad_is_connected(const kad_t *k)
{
    return k != NULL && k->on && !k->paused && kad_rt_count_verified(k->rt) > 0;
}

bool
kad_is_firewalled(const kad_t *k)
{
    return k == NULL || kad_fw_is_firewalled(k->fw);
}

/* end_jobs: every running lookup and search ended (searches' sinks hear
 * they are done). */
static void
end_jobs(kad_t *k)
{
    for (size_t i = 0; i < JOBS_MAX; i++)
        if (k->jobs[i] != NULL)
            job_end(k, i);
}

int
kad_disconnect(kad_t *k, mt_error_t **err)
{
    if (!k->on) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "Kad is off (kad = no, or no udp_port)");
        return -1;
    }
    if (k->paused)
        return 0;
    k->paused = true;
    end_jobs(k);
    k->nboot = 0;
    memset(k->pend, 0, sizeof k->pend);
    if (k->dirty || kad_rt_count(k->rt) > 0)
        save_nodes(k);
    log_info("Kad: disconnected (%zu contacts kept)", kad_rt_count(k->rt));
    return 0;
}

/* unverify: a contact to be said hello again (kad_connect). */
static void
unverify(void *ctx, kad_rt_contact_t *c)
{
    (void)ctx;
    c->verified = false;
    c->hellos = 0;
    c->hello_at = 0;
}

int
kad_connect(kad_t *k, mt_error_t **err)
{
    if (!k->on) {
        mt_error_set(err, MT_ERR_UNAVAILABLE, "Kad is off (kad = no, or no udp_port)");
        return -1;
    }
    if (!k->paused)
        return 0;
    k->paused = false;
    kad_rt_foreach(k->rt, unverify, NULL);
    k->connected_at = 0;
    k->lookup_at = 0;
    log_info("Kad: connecting again through %zu saved contacts", kad_rt_count(k->rt));
    kad_tick(k);
    return 0;
}

size_t
kad_contact_count(const kad_t *k)
{
    return k != NULL ? kad_rt_count(k->rt) : 0;
}

const kad_id_t *
kad_me(const kad_t *k)
{
    return &k->me;
}

static void
contact_json(void *ctx, kad_rt_contact_t *c)
{
    json_object *o = json_object_new_object();
    char hex[KAD_ID_HEX_LEN + 1], ip[16];
    kad_id_to_hex(&c->c.id, hex);
    json_object_object_add(o, "id", json_object_new_string(hex));
    json_object_object_add(o, "address",
                           json_object_new_string(net_ip_str(net_ip_from_host(c->c.ip), ip)));
    json_object_object_add(o, "udp_port", json_object_new_int(c->c.udp_port));
    json_object_object_add(o, "tcp_port", json_object_new_int(c->c.tcp_port));
    json_object_object_add(o, "version", json_object_new_int(c->c.version));
    json_object_object_add(o, "verified", json_object_new_boolean(c->verified));
    json_object_array_add(ctx, o);
}

json_object *
kad_to_json(const kad_t *k, bool with_contacts)
{
    json_object *o = json_object_new_object();
    char hex[KAD_ID_HEX_LEN + 1];
    kad_id_to_hex(&k->me, hex);
    json_object_object_add(o, "state", json_object_new_string(kad_state(k)));
    json_object_object_add(o, "disconnected", json_object_new_boolean(k->paused));
    json_object_object_add(o, "id", json_object_new_string(hex));
    json_object_object_add(o, "udp_port", json_object_new_int(ulq_udp_port(k->d->uploads)));
    json_object_object_add(o, "contacts", json_object_new_int64((int64_t)kad_rt_count(k->rt)));
    json_object_object_add(o, "verified",
                           json_object_new_int64((int64_t)kad_rt_count_verified(k->rt)));
    json_object_object_add(o, "bins", json_object_new_int64((int64_t)kad_rt_bins(k->rt)));
    json_object_object_add(o, "bootstrapping", json_object_new_int64((int64_t)k->nboot));
    json_object_object_add(o, "datagrams_in", json_object_new_int64((int64_t)k->in));
    json_object_object_add(o, "datagrams_out", json_object_new_int64((int64_t)k->out));
    json_object_object_add(o, "dropped", json_object_new_int64((int64_t)k->dropped));
    json_object_object_add(o, "malformed", json_object_new_int64((int64_t)k->malformed));
    json_object_object_add(o, "obfuscated_in", json_object_new_int64((int64_t)k->crypt_in));
    json_object_object_add(o, "obfuscated_out", json_object_new_int64((int64_t)k->crypt_out));
    json_object_object_add(o, "lookups", json_object_new_int64((int64_t)k->lookups));
    json_object_object_add(o, "lookup_requests", json_object_new_int64((int64_t)k->lookup_requests));
    json_object_object_add(o, "keyword_searches",
                           json_object_new_int64((int64_t)k->keyword_searches));
    json_object_object_add(o, "search_results", json_object_new_int64((int64_t)k->search_results));
    json_object_object_add(o, "source_searches",
                           json_object_new_int64((int64_t)k->source_searches));
    json_object_object_add(o, "sources_found", json_object_new_int64((int64_t)k->sources_found));
    json_object_object_add(o, "publishes_sent", json_object_new_int64((int64_t)k->publishes_sent));
    json_object_object_add(o, "publishes_stored",
                           json_object_new_int64((int64_t)k->publishes_stored));
    json_object_object_add(o, "searches_answered",
                           json_object_new_int64((int64_t)k->searches_answered));
    json_object_object_add(o, "indexed_keywords",
                           json_object_new_int64((int64_t)kad_index_count(k->index,
                                                                          KAD_INDEX_KEYWORD)));
    json_object_object_add(o, "indexed_sources",
                           json_object_new_int64((int64_t)kad_index_count(k->index,
                                                                          KAD_INDEX_SOURCE)));
    kad_fw_to_json(k->fw, o);
    kad_buddy_to_json(k->buddy, o);
    if (with_contacts) {
        json_object *a = json_object_new_array();
        kad_rt_foreach(k->rt, contact_json, a);
        json_object_object_add(o, "contact_list", a);
    }
    return o;
}
