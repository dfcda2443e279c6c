/* check_upload.c: unit tests for the upload queue's decisions
 * (daemon/transfer/upload_queue.c): the waiting order and its ties, a
 * re-ask that keeps its place, slots given and handed over, the queue's
 * limit, clients that cannot be reached or go away, and the invariant
 * checks. Clients are plain structs, the clock a number. */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/transfer/upload_queue.h"
#include "util/bug.h"

/* A fake client: connected or not, reachable or not, and what it was
 * told. */
typedef struct fake {
    ul_entry_t e; /* first: a fake is found from its entry */
    const char *name;
    bool connected;
    bool unreachable; /* opening its slot fails (a LowID, a ban, limits) */
    int opened;       /* slots given to it */
} fake_t;

/* The order slots were given in, by name. */
static char opened[256];

static bool
fake_connected(void *ctx, const ul_entry_t *e)
{
    (void)ctx;
    return ((const fake_t *)(const void *)e)->connected;
}

static bool
fake_open(void *ctx, ul_entry_t *e)
{
    (void)ctx;
    fake_t *f = (fake_t *)(void *)e;
    f->opened++;
    strcat(opened, f->name);
    return f->connected || !f->unreachable;
}

static const ul_slot_ops_t ops = { .connected = fake_connected, .open = fake_open, .ctx = NULL };

static void
reset(void)
{
    opened[0] = '\0';
}

static void
fakes(fake_t *f, size_t n)
{
    static const char *const names[] = { "A", "B", "C", "D", "E", "F", "G", "H" };
    memset(f, 0, n * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i].name = names[i];
}

/* The queue as names, in its order. */
static const char *
queue_names(const ul_queue_t *uq)
{
    static char buf[256];
    buf[0] = '\0';
    for (const ul_entry_t *e = uq->queue; e != NULL; e = e->next)
        strcat(buf, ((const fake_t *)(const void *)e)->name);
    return buf;
}

static const char *
slot_names(const ul_queue_t *uq)
{
    static char buf[256];
    buf[0] = '\0';
    for (const ul_entry_t *e = uq->slots; e != NULL; e = e->next)
        strcat(buf, ((const fake_t *)(const void *)e)->name);
    return buf;
}

/* Clients that waited longer come first; slots go in that order. */
START_TEST(test_order)
{
    ul_queue_t uq = { 0 };
    fake_t f[4];
    fakes(f, 4);
    reset();
    time_t t = 1000;
    ck_assert_int_eq(ul_join(&uq, &f[0].e, t), UL_JOIN_QUEUED);
    ck_assert_int_eq(ul_join(&uq, &f[1].e, t + 5), UL_JOIN_QUEUED);
    ck_assert_int_eq(ul_join(&uq, &f[2].e, t + 9), UL_JOIN_QUEUED);
    ck_assert_int_eq(ul_join(&uq, &f[3].e, t + 30), UL_JOIN_QUEUED);
    ck_assert_str_eq(queue_names(&uq), "ABCD");
    for (size_t i = 0; i < 4; i++)
        ck_assert_uint_eq(ul_rank(&uq, &f[i].e), i + 1);
    ck_assert(ul_waits_before(&f[0].e, &f[1].e));
    ck_assert(!ul_waits_before(&f[2].e, &f[1].e));
    /* two slots: the two that waited longest */
    ul_fill(&uq, 2, t + 31, &ops);
    ck_assert_str_eq(opened, "AB");
    ck_assert_str_eq(slot_names(&uq), "AB");
    ck_assert_str_eq(queue_names(&uq), "CD");
    ck_assert_uint_eq(uq.n_slots, 2);
    ck_assert_uint_eq(uq.n_queue, 2);
    ck_assert_int_eq(f[0].e.state, UL_SLOT);
    ck_assert_int_eq(f[0].e.slot_since, t + 31);
    ck_assert_int_eq(f[0].e.last_request, t + 31);
    ck_assert_uint_eq(ul_rank(&uq, &f[0].e), 0);
    ck_assert_uint_eq(ul_rank(&uq, &f[2].e), 1);
    ck_assert_uint_eq(ul_rank(&uq, &f[3].e), 2);
    /* no free slot: nothing given */
    ul_fill(&uq, 2, t + 32, &ops);
    ck_assert_str_eq(opened, "AB");
    /* a slot more (upload_slots raised): the next in line */
    ul_fill(&uq, 3, t + 33, &ops);
    ck_assert_str_eq(opened, "ABC");
    ck_assert_str_eq(queue_names(&uq), "D");
}
END_TEST

/* The same second: the order of arrival. */
START_TEST(test_ties)
{
    ul_queue_t uq = { 0 };
    fake_t f[5];
    fakes(f, 5);
    reset();
    time_t t = 50;
    ul_join(&uq, &f[3].e, t);
    ul_join(&uq, &f[1].e, t);
    ul_join(&uq, &f[4].e, t);
    ul_join(&uq, &f[0].e, t);
    ul_join(&uq, &f[2].e, t + 1);
    ck_assert_str_eq(queue_names(&uq), "DBEAC");
    ck_assert(ul_waits_before(&f[3].e, &f[1].e));
    ck_assert(!ul_waits_before(&f[1].e, &f[3].e));
    ck_assert(!ul_waits_before(&f[3].e, &f[3].e));
    ul_fill(&uq, 3, t + 2, &ops);
    ck_assert_str_eq(opened, "DBE");
    ck_assert_str_eq(queue_names(&uq), "AC");
}
END_TEST

/* A client that asks again keeps its place; one that asks too soon is
 * counted; one in a slot keeps its slot. */
START_TEST(test_reask_keeps_place)
{
    ul_queue_t uq = { 0 };
    fake_t f[3];
    fakes(f, 3);
    reset();
    time_t t = 10000;
    ul_join(&uq, &f[0].e, t);
    ul_join(&uq, &f[1].e, t + 1);
    ul_join(&uq, &f[2].e, t + 2);
    /* B asks again, soon after: its place and its waiting time stay */
    ck_assert_int_eq(ul_join(&uq, &f[1].e, t + 60), UL_JOIN_WAITING);
    ck_assert_str_eq(queue_names(&uq), "ABC");
    ck_assert_uint_eq(ul_rank(&uq, &f[1].e), 2);
    ck_assert_int_eq(f[1].e.queued_at, t + 1);
    ck_assert_int_eq(f[1].e.last_seen, t + 60);
    ck_assert_uint_eq(f[1].e.fast_asks, 1);
    ck_assert_uint_eq(uq.n_queue, 3);
    /* and again at aMule's pace (29 min): not counted */
    ck_assert_int_eq(ul_join(&uq, &f[1].e, t + 60 + 29 * 60), UL_JOIN_WAITING);
    ck_assert_uint_eq(f[1].e.fast_asks, 1);
    ck_assert_uint_eq(ul_rank(&uq, &f[1].e), 2);
    /* one in a slot asking again keeps it */
    ul_fill(&uq, 1, t + 2000, &ops);
    ck_assert_str_eq(opened, "A");
    ck_assert_int_eq(ul_join(&uq, &f[0].e, t + 2001), UL_JOIN_IN_SLOT);
    ck_assert_str_eq(slot_names(&uq), "A");
    ck_assert_str_eq(queue_names(&uq), "BC");
    ck_assert_uint_eq(uq.n_queue, 2);
}
END_TEST

/* A slot that ends goes to the next in line; its client goes to the back
 * when it had its part's worth, out when it is done. */
START_TEST(test_handover)
{
    ul_queue_t uq = { 0 };
    fake_t f[3];
    fakes(f, 3);
    reset();
    time_t t = 500;
    for (int i = 0; i < 3; i++)
        ul_join(&uq, &f[i].e, t + i);
    ul_fill(&uq, 1, t + 10, &ops);
    ck_assert_str_eq(slot_names(&uq), "A");
    /* A's part's worth, while others wait: its slot is used up */
    ck_assert(!ul_slot_used_up(&uq, &f[0].e));
    f[0].e.read_in_slot = UL_SLOT_BYTES - 1;
    ck_assert(!ul_slot_used_up(&uq, &f[0].e));
    f[0].e.read_in_slot = UL_SLOT_BYTES;
    ck_assert(ul_slot_used_up(&uq, &f[0].e));
    ul_end_slot(&uq, &f[0].e, true, t + 100);
    ck_assert_uint_eq(uq.n_slots, 0);
    ck_assert_str_eq(queue_names(&uq), "BCA");
    ck_assert_int_eq(f[0].e.state, UL_QUEUED);
    ck_assert_int_eq(f[0].e.queued_at, t + 100);
    ul_fill(&uq, 1, t + 100, &ops);
    ck_assert_str_eq(opened, "AB");
    ck_assert_str_eq(slot_names(&uq), "B");
    ck_assert_uint_eq(f[1].e.read_in_slot, 0);
    /* B says it is done: out of the queue; C's turn */
    ul_end_slot(&uq, &f[1].e, false, t + 200);
    ck_assert_int_eq(f[1].e.state, UL_NONE);
    ck_assert_uint_eq(ul_rank(&uq, &f[1].e), 0);
    ul_fill(&uq, 1, t + 200, &ops);
    ck_assert_str_eq(opened, "ABC");
    ck_assert_str_eq(queue_names(&uq), "A");
    /* a slot read to the full stays while nobody waits (aMule) */
    ul_leave(&uq, &f[0].e);
    ck_assert_uint_eq(uq.n_queue, 0);
    f[2].e.read_in_slot = 2 * UL_SLOT_BYTES;
    ck_assert(!ul_slot_used_up(&uq, &f[2].e));
    /* a slot that asks for nothing for two minutes ends, unless busy */
    ck_assert(!ul_slot_is_idle(&f[2].e, t + 200 + UL_SLOT_IDLE_TIMEOUT, false));
    ck_assert(ul_slot_is_idle(&f[2].e, t + 200 + UL_SLOT_IDLE_TIMEOUT + 1, false));
    ck_assert(!ul_slot_is_idle(&f[2].e, t + 200 + UL_SLOT_IDLE_TIMEOUT + 1, true));
}
END_TEST

/* At most UL_MAX_QUEUE wait; one more is not queued until one leaves. */
START_TEST(test_limit)
{
    ul_queue_t uq = { 0 };
    fake_t *f = calloc(UL_MAX_QUEUE + 2, sizeof *f);
    ck_assert_ptr_nonnull(f);
    time_t t = 1;
    for (size_t i = 0; i < UL_MAX_QUEUE; i++) {
        f[i].name = "x";
        ck_assert_int_eq(ul_join(&uq, &f[i].e, t), UL_JOIN_QUEUED);
    }
    f[UL_MAX_QUEUE].name = "y";
    f[UL_MAX_QUEUE + 1].name = "z";
    ck_assert_int_eq(ul_join(&uq, &f[UL_MAX_QUEUE].e, t + 1), UL_JOIN_FULL);
    ck_assert_int_eq(f[UL_MAX_QUEUE].e.state, UL_NONE);
    ck_assert_uint_eq(uq.n_queue, UL_MAX_QUEUE);
    ck_assert_uint_eq(ul_rank(&uq, &f[UL_MAX_QUEUE].e), 0);
    /* those already waiting still ask again */
    ck_assert_int_eq(ul_join(&uq, &f[7].e, t + 2), UL_JOIN_WAITING);
    /* a slot given makes room */
    reset();
    ul_fill(&uq, 1, t + 3, &ops);
    ck_assert_uint_eq(uq.n_queue, UL_MAX_QUEUE - 1);
    ck_assert_int_eq(ul_join(&uq, &f[UL_MAX_QUEUE].e, t + 4), UL_JOIN_QUEUED);
    ck_assert_uint_eq(ul_rank(&uq, &f[UL_MAX_QUEUE].e), UL_MAX_QUEUE);
    ck_assert_int_eq(ul_join(&uq, &f[UL_MAX_QUEUE + 1].e, t + 4), UL_JOIN_FULL);
    free(f);
}
END_TEST

/* A client that goes away or cannot be reached loses its turn to the
 * next; it waits at the back and is not tried again for a while. */
START_TEST(test_unreachable_and_gone)
{
    ul_queue_t uq = { 0 };
    fake_t f[4];
    fakes(f, 4);
    reset();
    time_t t = 7000;
    for (int i = 0; i < 4; i++)
        ul_join(&uq, &f[i].e, t + i);
    /* A is not connected and cannot be reached (a ban, a LowID without
     * our server): B gets the slot in the same turn */
    f[0].unreachable = true;
    ul_fill(&uq, 1, t + 10, &ops);
    ck_assert_str_eq(opened, "AB");
    ck_assert_str_eq(slot_names(&uq), "B");
    ck_assert_str_eq(queue_names(&uq), "CDA");
    ck_assert_int_eq(f[0].e.no_connect_until, t + 10 + UL_NO_CONNECT_PAUSE);
    /* B's connection closes: the slot goes to C; B waits at the back */
    ul_end_slot(&uq, &f[1].e, true, t + 20);
    ul_fill(&uq, 1, t + 20, &ops);
    ck_assert_str_eq(opened, "ABC");
    ck_assert_str_eq(queue_names(&uq), "DAB");
    /* C goes; D's turn */
    ul_end_slot(&uq, &f[2].e, false, t + 30);
    ul_fill(&uq, 1, t + 30, &ops);
    ck_assert_str_eq(opened, "ABCD");
    /* D is done: A is first but still in its pause, so B gets it */
    ul_end_slot(&uq, &f[3].e, false, t + 40);
    ul_fill(&uq, 1, t + 40, &ops);
    ck_assert_str_eq(opened, "ABCDB");
    ck_assert_str_eq(queue_names(&uq), "A");
    /* A connects to us during its pause: it may have the next slot */
    ul_end_slot(&uq, &f[1].e, false, t + 50);
    f[0].connected = true;
    ul_fill(&uq, 1, t + 50, &ops);
    ck_assert_str_eq(opened, "ABCDBA");
    ck_assert_str_eq(slot_names(&uq), "A");
    /* a queued client not heard of for an hour and not connected is
     * forgotten */
    ul_join(&uq, &f[2].e, t + 60);
    ck_assert(!ul_is_stale(&f[2].e, t + 60 + UL_QUEUE_FORGET, false));
    ck_assert(ul_is_stale(&f[2].e, t + 61 + UL_QUEUE_FORGET, false));
    ck_assert(!ul_is_stale(&f[2].e, t + 61 + UL_QUEUE_FORGET, true));
}
END_TEST

/* The pause of an unreachable client ends: it is tried again. Each
 * client is tried once per turn, even when none can be reached. */
START_TEST(test_pause_ends)
{
    ul_queue_t uq = { 0 };
    fake_t f[3];
    fakes(f, 3);
    reset();
    time_t t = 100;
    for (int i = 0; i < 3; i++) {
        f[i].unreachable = true;
        ul_join(&uq, &f[i].e, t);
    }
    ul_fill(&uq, 2, t, &ops);
    ck_assert_str_eq(opened, "ABC");
    ck_assert_uint_eq(uq.n_slots, 0);
    ck_assert_str_eq(queue_names(&uq), "ABC");
    ul_fill(&uq, 2, t + UL_NO_CONNECT_PAUSE - 1, &ops);
    ck_assert_str_eq(opened, "ABC");
    f[1].unreachable = false;
    ul_fill(&uq, 2, t + UL_NO_CONNECT_PAUSE, &ops);
    ck_assert_str_eq(opened, "ABCABC");
    ck_assert_str_eq(slot_names(&uq), "B");
    ck_assert_str_eq(queue_names(&uq), "AC");
}
END_TEST

/* Broken invariants are counted and recovered from. */
START_TEST(test_invariants)
{
    ul_queue_t uq = { 0 };
    fake_t f[2];
    fakes(f, 2);
    reset();
    uint64_t bugs = mt_bug_count();
    ul_join(&uq, &f[0].e, 1);
    /* ending a slot it does not have: nothing moves */
    ul_end_slot(&uq, &f[0].e, true, 2);
    ck_assert_uint_eq(mt_bug_count(), bugs + 1);
    ck_assert_int_eq(f[0].e.state, UL_QUEUED);
    ck_assert_uint_eq(uq.n_queue, 1);
    /* an entry that says it is queued but is in no list: it leaves */
    f[1].e.state = UL_QUEUED;
    ul_leave(&uq, &f[1].e);
    ck_assert_uint_eq(mt_bug_count(), bugs + 2);
    ck_assert_int_eq(f[1].e.state, UL_NONE);
    ck_assert_uint_eq(uq.n_queue, 1);
    /* the right calls break nothing */
    ul_fill(&uq, 1, 3, &ops);
    ul_end_slot(&uq, &f[0].e, true, 4);
    ul_leave(&uq, &f[0].e);
    ck_assert_uint_eq(mt_bug_count(), bugs + 2);
    ck_assert_uint_eq(uq.n_queue + uq.n_slots, 0);
}
END_TEST

/* Credits: the score is the wait times the credit modifier (eMule). A
 * client with credit 10 that waited 20 s (score 200) goes before one
 * without credits that waited 100 s; at equal scores the older first. */
START_TEST(test_credit_order)
{
    fake_t f[3];
    fakes(f, 3);
    ul_queue_t uq = { 0 };
    reset();
    ck_assert_int_eq(ul_join(&uq, &f[0].e, 1000), UL_JOIN_QUEUED); /* A: no credit */
    ck_assert_int_eq(ul_join(&uq, &f[1].e, 1050), UL_JOIN_QUEUED); /* B: 1.5 */
    f[1].e.credit = 1.5;
    ck_assert_int_eq(ul_join(&uq, &f[2].e, 1080), UL_JOIN_QUEUED); /* C: 10 */
    f[2].e.credit = 10.0;
    ck_assert_str_eq(queue_names(&uq), "ABC"); /* the list keeps arrival order */
    /* at 1100: A 100, B 75, C 200 */
    ck_assert_double_eq(ul_score(&f[2].e, 1100), 200.0);
    ck_assert(ul_scores_before(&f[2].e, &f[0].e, 1100));
    ck_assert(ul_scores_before(&f[0].e, &f[1].e, 1100));
    uq.now = 1100;
    ck_assert_uint_eq(ul_rank(&uq, &f[2].e), 1);
    ck_assert_uint_eq(ul_rank(&uq, &f[0].e), 2);
    ck_assert_uint_eq(ul_rank(&uq, &f[1].e), 3);
    ul_fill(&uq, 2, 1100, &ops);
    ck_assert_str_eq(opened, "CA");
    ck_assert_str_eq(queue_names(&uq), "B");
    /* at 1150 with B alone at score 150 vs a newcomer: B first */
    ck_assert_uint_eq(ul_rank(&uq, &f[1].e), 1);
    /* equal scores: the one that waited longer */
    fake_t g[2];
    fakes(g, 2);
    ul_queue_t uq2 = { 0 };
    ul_join(&uq2, &g[0].e, 1000);
    ul_join(&uq2, &g[1].e, 1050);
    g[1].e.credit = 2.0; /* at 1100: 100 and 100 */
    ck_assert(ul_scores_before(&g[0].e, &g[1].e, 1100));
    ck_assert(!ul_scores_before(&g[1].e, &g[0].e, 1100));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("upload");
    TCase *tc = tcase_create("queue");
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, test_ties);
    tcase_add_test(tc, test_reask_keeps_place);
    tcase_add_test(tc, test_handover);
    tcase_add_test(tc, test_limit);
    tcase_add_test(tc, test_unreachable_and_gone);
    tcase_add_test(tc, test_pause_ends);
    tcase_add_test(tc, test_invariants);
    tcase_add_test(tc, test_credit_order);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
