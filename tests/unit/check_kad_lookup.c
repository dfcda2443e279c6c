/* check_kad_lookup.c: unit tests for daemon/kad/lookup.c over a simulated
 * network of nodes that each know contacts as a Kademlia table would (a
 * few per shared-prefix length): convergence on the true closest, ALPHA
 * requests in flight at most, timeouts of dead nodes, stray answers. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/kad/lookup.h"

#define NODES 300
#define QUEUE_MAX 1024

static kad_contact_t net[NODES];
static bool dead[NODES];
static kad_id_t me;

typedef struct asked {
    size_t node;
} asked_t;

static asked_t queue[QUEUE_MAX];
static size_t qhead, qtail;
static unsigned outstanding, max_outstanding;

static uint32_t seed;

static uint32_t
rnd(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 8 ^ seed << 13;
}

static void
make_net(void)
{
    seed = 7;
    for (size_t i = 0; i < NODES; i++) {
        for (int w = 0; w < 4; w++)
            net[i].id.w[w] = rnd();
        net[i].ip = 0x64400000u + (uint32_t)i + 1; /* 100.64.0.x */
        net[i].udp_port = 4672;
        net[i].tcp_port = 4662;
        net[i].version = 8;
        dead[i] = false;
    }
    for (int w = 0; w < 4; w++)
        me.w[w] = rnd();
    qhead = qtail = 0;
    outstanding = max_outstanding = 0;
}

static size_t
node_at(uint32_t ip)
{
    return ip - 0x64400000u - 1;
}

static unsigned
prefix(const kad_id_t *a, const kad_id_t *b)
{
    unsigned n = 0;
    while (n < 128 && kad_id_bit(a, n) == kad_id_bit(b, n))
        n++;
    return n;
}

/* knows: whether node i has j in its table: everyone sharing 8 or more
 * leading bits, and the first 3 (by index) sharing exactly b bits, b < 8. */
static bool
knows(size_t i, size_t j)
{
    if (i == j)
        return false;
    unsigned p = prefix(&net[i].id, &net[j].id);
    if (p >= 8)
        return true;
    unsigned rank = 0;
    for (size_t x = 0; x < j; x++)
        if (x != i && prefix(&net[i].id, &net[x].id) == p)
            rank++;
    return rank < 3;
}

static int
by_distance(const kad_id_t *target, const kad_contact_t *a, const kad_contact_t *b)
{
    return kad_id_distance_cmp(target, &a->id, &b->id);
}

/* closest_of: the n closest to target among the contacts node i knows (or
 * all nodes when i == NODES), nearest first. */
static size_t
closest_of(size_t i, const kad_id_t *target, kad_contact_t *out, size_t n)
{
    size_t got = 0;
    for (size_t j = 0; j < NODES; j++) {
        if (i != NODES && !knows(i, j))
            continue;
        size_t at = got;
        while (at > 0 && by_distance(target, &net[j], &out[at - 1]) < 0)
            at--;
        if (at >= n)
            continue;
        size_t move = (got < n ? got : n - 1) - at;
        memmove(&out[at + 1], &out[at], move * sizeof out[0]);
        out[at] = net[j];
        if (got < n)
            got++;
    }
    return got;
}

static void
send_hook(void *ctx, const kad_contact_t *to, const kad_id_t *target, uint8_t type)
{
    (void)ctx;
    (void)target;
    ck_assert_uint_eq(type, KAD_REQ_FIND_NODE);
    ck_assert_uint_lt(qtail, QUEUE_MAX);
    queue[qtail++] = (asked_t){ node_at(to->ip) };
    if (++outstanding > max_outstanding)
        max_outstanding = outstanding;
}

/* run: drives l to its end: answers in order of sending, time moving on by
 * the timeout when only dead nodes are awaited. Returns the time used. */
static int64_t
run(kad_lookup_t *l)
{
    int64_t now = 1000;
    kad_lookup_step(l, now);
    for (int rounds = 0; rounds < 1000 && !kad_lookup_is_done(l); rounds++) {
        if (qhead == qtail) {
            now += KAD_LOOKUP_TIMEOUT_MS;
            outstanding = 0; /* all timed out */
            kad_lookup_step(l, now);
            continue;
        }
        size_t i = queue[qhead++].node;
        if (dead[i])
            continue;
        outstanding--;
        kad_contact_t ans[KAD_LOOKUP_K];
        size_t n = closest_of(i, kad_lookup_target(l), ans, KAD_LOOKUP_K);
        now += 10;
        ck_assert(kad_lookup_answer(l, net[i].ip, net[i].udp_port, ans, n, now));
    }
    ck_assert(kad_lookup_is_done(l));
    return now;
}

static kad_lookup_t *
start(const kad_id_t *target, size_t seeds)
{
    kad_lookup_t *l = kad_lookup_new(target, &me, KAD_REQ_FIND_NODE, send_hook, NULL);
    /* Seeds: far nodes, as a table of a node far from the target gives. */
    kad_contact_t s[16];
    size_t n = 0;
    for (size_t j = 0; j < NODES && n < seeds; j++)
        if (prefix(&net[j].id, target) == 0 && !dead[j])
            s[n++] = net[j];
    kad_lookup_add(l, s, n);
    return l;
}

static void
check_found(kad_lookup_t *l, const kad_id_t *target)
{
    kad_contact_t want[KAD_LOOKUP_K], got[KAD_LOOKUP_K];
    size_t nw = 0;
    kad_contact_t all[NODES];
    size_t na = closest_of(NODES, target, all, NODES);
    for (size_t j = 0; j < na && nw < KAD_LOOKUP_K; j++)
        if (!dead[node_at(all[j].ip)])
            want[nw++] = all[j];
    size_t ng = kad_lookup_closest(l, got, KAD_LOOKUP_K);
    ck_assert_uint_eq(ng, nw);
    for (size_t j = 0; j < nw; j++)
        ck_assert(kad_id_equal(&got[j].id, &want[j].id));
}

START_TEST(test_converges)
{
    make_net();
    for (int t = 0; t < 8; t++) {
        kad_id_t target = net[rnd() % NODES].id;
        target.w[3] ^= 1; /* next to a node, not one */
        qhead = qtail = 0;
        outstanding = max_outstanding = 0;
        kad_lookup_t *l = start(&target, 3);
        (void)run(l);
        check_found(l, &target);
        ck_assert_uint_le(max_outstanding, KAD_LOOKUP_ALPHA);
        ck_assert_uint_eq(kad_lookup_timeouts(l), 0);
        /* far fewer requests than nodes */
        ck_assert_uint_lt(kad_lookup_sent(l), NODES / 4);
        kad_lookup_free(l);
    }
}
END_TEST

START_TEST(test_dead_nodes_time_out)
{
    make_net();
    kad_id_t target = net[5].id;
    target.w[3] ^= 1;
    /* The 4 nodes closest to the target never answer. */
    kad_contact_t all[4];
    closest_of(NODES, &target, all, 4);
    for (size_t j = 0; j < 4; j++)
        dead[node_at(all[j].ip)] = true;
    kad_lookup_t *l = start(&target, 3);
    (void)run(l);
    check_found(l, &target);
    ck_assert_uint_ge(kad_lookup_timeouts(l), 1);
    kad_lookup_free(l);
}
END_TEST

START_TEST(test_stray_answers_ignored)
{
    make_net();
    kad_id_t target = net[9].id;
    kad_lookup_t *l = start(&target, 2);
    kad_lookup_step(l, 0);
    ck_assert_uint_eq(qtail, 2);
    size_t asked = queue[0].node;
    /* An address never asked, then the asked one twice. */
    size_t other = (asked + 1) % NODES;
    ck_assert(!kad_lookup_answer(l, net[other].ip, net[other].udp_port, NULL, 0, 1));
    ck_assert(kad_lookup_answer(l, net[asked].ip, net[asked].udp_port, NULL, 0, 1));
    ck_assert(!kad_lookup_answer(l, net[asked].ip, net[asked].udp_port, NULL, 0, 1));
    ck_assert_uint_eq(kad_lookup_answered(l), 1);
    /* Our own id never becomes a candidate. */
    kad_contact_t self = net[0];
    self.id = me;
    self.ip = 0x0A000001;
    kad_lookup_add(l, &self, 1);
    kad_contact_t got[KAD_LOOKUP_K];
    ck_assert_uint_eq(kad_lookup_closest(l, got, KAD_LOOKUP_K), 1);
    kad_lookup_free(l);
}
END_TEST

START_TEST(test_tolerance)
{
    kad_id_t a = { { 0x12345678u, 1, 2, 3 } }, b = { { 0x12FFFFFFu, 9, 9, 9 } },
             c = { { 0x13000000u, 1, 2, 3 } };
    ck_assert(kad_in_tolerance(&a, &b));
    ck_assert(kad_in_tolerance(&a, &a));
    ck_assert(!kad_in_tolerance(&a, &c));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("kad_lookup");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_converges);
    tcase_add_test(tc, test_dead_nodes_time_out);
    tcase_add_test(tc, test_stray_answers_ignored);
    tcase_add_test(tc, test_tolerance);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
