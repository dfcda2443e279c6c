/* check_kad_routing.c: unit tests for daemon/kad/routing: where bins split
 * (KAD_KBASE, KAD_KK) and where they stay full, updates, the address caps,
 * closest contacts and removal. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "daemon/kad/routing.h"

static const kad_id_t me = { { 0x12345678u, 0x9abcdef0u, 0x0fedcba9u, 0x87654321u } };

/* at: a contact at the given XOR distance from me, with its own /24. */
static kad_contact_t
at(uint32_t d0, uint32_t d1, uint32_t seq)
{
    kad_contact_t c = { .ip = 0x64000001u + (seq << 8), .udp_port = 4672, .tcp_port = 4662,
                        .version = 8 };
    kad_id_t d = { { d0, d1, seq, 0 } };
    kad_id_xor(&c.id, &me, &d);
    return c;
}

static kad_rt_result_t
add(kad_rt_t *rt, kad_contact_t c)
{
    return kad_rt_add(rt, &c, false, false, 100, NULL);
}

START_TEST(test_root_splits)
{
    kad_rt_t *rt = kad_rt_new(&me);
    for (uint32_t i = 0; i < KAD_K; i++)
        ck_assert_int_eq(add(rt, at(0x80000000u | i << 27, 0, i)), KAD_RT_ADDED);
    ck_assert_uint_eq(kad_rt_bins(rt), 1);
    ck_assert_uint_eq(kad_rt_count(rt), KAD_K);
    ck_assert_int_eq(add(rt, at(0x80000000u | 10u << 27, 0, 10)), KAD_RT_ADDED);
    ck_assert_uint_gt(kad_rt_bins(rt), 1);
    ck_assert_uint_eq(kad_rt_count(rt), KAD_K + 1);
    kad_rt_free(rt);
}
END_TEST

/* Distances 1000...: levels 1-3 split (level < KBASE), the zone of prefix
 * 1000 (level 4, index 8) may not: its eleventh contact is refused. */
START_TEST(test_far_zone_full)
{
    kad_rt_t *rt = kad_rt_new(&me);
    for (uint32_t i = 0; i < KAD_K; i++)
        ck_assert_int_eq(add(rt, at(0x80000000u | i, 0, i)), KAD_RT_ADDED);
    ck_assert_int_eq(add(rt, at(0x80000000u | 99, 0, 99)), KAD_RT_FULL);
    ck_assert_uint_eq(kad_rt_count(rt), KAD_K);
    ck_assert_uint_eq(kad_rt_depth(rt), 4);
    /* Its sibling zone, prefix 1001, still has room. */
    ck_assert_int_eq(add(rt, at(0x90000000u, 0, 50)), KAD_RT_ADDED);
    kad_rt_free(rt);
}
END_TEST

/* Zones near us split at any level while their index is below KK. */
START_TEST(test_near_zones_split)
{
    kad_rt_t *rt = kad_rt_new(&me);
    /* Prefix 00100 (level 5, index 4): splits; six and five on each side. */
    for (uint32_t i = 0; i < 11; i++)
        ck_assert_int_eq(add(rt, at(0x20000000u | (i < 6 ? 0 : 0x04000000u) | i, 0, i)),
                         KAD_RT_ADDED);
    ck_assert_uint_eq(kad_rt_depth(rt), 6);
    kad_rt_free(rt);

    /* Prefix 00101 (level 5, index 5): stays one bin of K. */
    rt = kad_rt_new(&me);
    for (uint32_t i = 0; i < KAD_K; i++)
        ck_assert_int_eq(add(rt, at(0x28000000u | (i % 2 ? 0x04000000u : 0) | i, 0, i)),
                         KAD_RT_ADDED);
    ck_assert_int_eq(add(rt, at(0x28000000u | 77, 0, 77)), KAD_RT_FULL);
    kad_rt_free(rt);

    /* Distances 2^k all the way down: the zone holding us never fills. */
    rt = kad_rt_new(&me);
    for (uint32_t k = 0; k < 64; k++)
        ck_assert_int_eq(add(rt, at(k < 32 ? 0x80000000u >> k : 0,
                                    k < 32 ? 0 : 0x80000000u >> (k - 32), k)),
                         KAD_RT_ADDED);
    ck_assert_uint_eq(kad_rt_count(rt), 64);
    kad_rt_free(rt);
}
END_TEST

START_TEST(test_update_and_refusals)
{
    kad_rt_t *rt = kad_rt_new(&me);
    kad_contact_t c = at(0x40000000u, 0, 1);
    kad_rt_contact_t *e = NULL;
    ck_assert_int_eq(kad_rt_add(rt, &c, true, false, 100, &e), KAD_RT_ADDED);
    ck_assert(e->verified);
    ck_assert_ptr_eq(kad_rt_find(rt, &c.id), e);
    ck_assert_ptr_eq(kad_rt_find_addr(rt, c.ip, c.udp_port), e);
    c.tcp_port = 1234;
    ck_assert_int_eq(kad_rt_add(rt, &c, false, false, 200, &e), KAD_RT_UPDATED);
    ck_assert(e->verified);
    ck_assert_uint_eq(e->c.tcp_port, 1234);
    ck_assert_int_eq(e->last_seen, 200);
    ck_assert_uint_eq(kad_rt_count(rt), 1);
    /* A verified contact's address is not taken over by an unverified claim. */
    kad_contact_t moved = c;
    moved.ip = 0x64990001u;
    ck_assert_int_eq(kad_rt_add(rt, &moved, false, false, 300, NULL), KAD_RT_REFUSED);
    ck_assert_uint_eq(kad_rt_find(rt, &c.id)->c.ip, c.ip);
    /* Ourselves, Kad 1, no address. */
    kad_contact_t self = c;
    self.id = me;
    ck_assert_int_eq(add(rt, self), KAD_RT_REFUSED);
    kad_contact_t old = at(0x40000000u, 0, 2);
    old.version = 1;
    ck_assert_int_eq(add(rt, old), KAD_RT_REFUSED);
    kad_contact_t noip = at(0x40000000u, 0, 3);
    noip.ip = 0;
    ck_assert_int_eq(add(rt, noip), KAD_RT_REFUSED);
    kad_rt_free(rt);
}
END_TEST

START_TEST(test_address_caps)
{
    kad_rt_t *rt = kad_rt_new(&me);
    kad_contact_t a = at(0x40000000u, 0, 1), b = at(0x40000001u, 0, 2), c = at(0x40000002u, 0, 3);
    ck_assert_int_eq(add(rt, a), KAD_RT_ADDED);
    /* Same IP, another id: refused, whatever the port. */
    b.ip = a.ip;
    b.udp_port = 9999;
    ck_assert_int_eq(add(rt, b), KAD_RT_REFUSED);
    /* Two of one /24 in a bin, not three. */
    b.ip = a.ip + 1;
    c.ip = a.ip + 2;
    ck_assert_int_eq(add(rt, b), KAD_RT_ADDED);
    ck_assert_int_eq(add(rt, c), KAD_RT_REFUSED);
    /* LAN: exempt from the /24 cap; same IP allowed on another port. */
    ck_assert_int_eq(kad_rt_add(rt, &c, false, true, 100, NULL), KAD_RT_ADDED);
    kad_contact_t d = at(0x40000003u, 0, 4);
    d.ip = a.ip + 2;
    d.udp_port = c.udp_port + 1;
    ck_assert_int_eq(kad_rt_add(rt, &d, false, true, 100, NULL), KAD_RT_ADDED);
    d.id.w[3] ^= 1;
    ck_assert_int_eq(kad_rt_add(rt, &d, false, true, 100, NULL), KAD_RT_REFUSED);
    kad_rt_free(rt);
}
END_TEST

START_TEST(test_closest_and_remove)
{
    kad_rt_t *rt = kad_rt_new(&me);
    kad_contact_t c[40];
    for (uint32_t i = 0; i < 40; i++) {
        c[i] = at(0x80000000u >> (i % 32), i, i);
        ck_assert_int_lt(add(rt, c[i]), KAD_RT_FULL);
    }
    size_t total = kad_rt_count(rt);
    kad_rt_contact_t *out[5];
    /* Target: c[20]'s id: it comes first, then increasing distance. */
    size_t n = kad_rt_closest(rt, &c[20].id, false, out, 5);
    ck_assert_uint_eq(n, 5);
    ck_assert(kad_id_equal(&out[0]->c.id, &c[20].id));
    for (size_t i = 1; i < n; i++)
        ck_assert_int_lt(kad_id_distance_cmp(&c[20].id, &out[i - 1]->c.id, &out[i]->c.id), 0);
    ck_assert_uint_eq(kad_rt_closest(rt, &c[20].id, true, out, 5), 0);
    kad_rt_find(rt, &c[3].id)->verified = true;
    ck_assert_uint_eq(kad_rt_count_verified(rt), 1);
    ck_assert_uint_eq(kad_rt_closest(rt, &c[20].id, true, out, 5), 1);
    ck_assert(kad_rt_remove(rt, &c[20].id));
    ck_assert(!kad_rt_remove(rt, &c[20].id));
    ck_assert_ptr_null(kad_rt_find(rt, &c[20].id));
    ck_assert_uint_eq(kad_rt_count(rt), total - 1);
    n = kad_rt_closest(rt, &c[20].id, false, out, 5);
    ck_assert(!kad_id_equal(&out[0]->c.id, &c[20].id));
    kad_rt_free(rt);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("kad_routing");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_root_splits);
    tcase_add_test(tc, test_far_zone_full);
    tcase_add_test(tc, test_near_zones_split);
    tcase_add_test(tc, test_update_and_refusals);
    tcase_add_test(tc, test_address_caps);
    tcase_add_test(tc, test_closest_and_remove);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
