/* check_srvpolicy.c: unit tests for the server connection's timing
 * decisions (daemon/ed2k/srvpolicy.c): the back-off schedule and its jitter,
 * the rule that ends it (a login alone does not), and the pacing of
 * source requests across sessions and over UDP. */
#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "daemon/ed2k/srvpolicy.h"
#include "ed2k/c2s.h"

/* The defaults of server_retry_min, server_retry_max, server_min_session
 * and server.c's source pacing. */
#define MIN 3
#define MAX 600
#define MIN_SESSION 300
#define REASK 800
#define EVERY 20
#define BURST 5

START_TEST(test_schedule)
{
    static const long want[] = { 0, 3, 6, 12, 24, 48, 96, 192, 384, 600, 600, 600 };
    for (unsigned step = 0; step < sizeof want / sizeof want[0]; step++)
        ck_assert_int_eq(srvpol_base(MIN, MAX, step), want[step]);
    /* far past the cap, and with a cap near the type's limit: no overflow */
    ck_assert_int_eq(srvpol_base(MIN, MAX, 1000), MAX);
    ck_assert_int_eq(srvpol_base(MIN, MAX, UINT_MAX), MAX);
    ck_assert_int_eq(srvpol_base(1, LONG_MAX, 200), LONG_MAX);
    ck_assert_int_eq(srvpol_base(1, LONG_MAX, 63), 1L << 62);
    /* nonsense bounds are made sane */
    ck_assert_int_eq(srvpol_base(0, 0, 1), 1);
    ck_assert_int_eq(srvpol_base(10, 5, 3), 10);
}
END_TEST

START_TEST(test_jitter)
{
    for (unsigned step = 1; step < 12; step++) {
        long base = srvpol_base(MIN, MAX, step);
        ck_assert_int_eq(srvpol_delay(MIN, MAX, step, 0), base);
        long lo = LONG_MAX, hi = 0;
        for (uint32_t r = 0; r < 2000; r++) {
            long d = srvpol_delay(MIN, MAX, step, r * 2654435761u);
            ck_assert_int_ge(d, base);
            ck_assert_int_le(d, base + base / 4);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        if (base >= 8) /* the jitter does spread clients out */
            ck_assert_int_gt(hi, lo);
    }
    ck_assert_int_eq(srvpol_delay(MIN, MAX, 0, 12345), 0);
}
END_TEST

START_TEST(test_fail_and_reset)
{
    srvpol_backoff_t b = { 0, 0 };
    time_t now = 1000;
    ck_assert(srvpol_ready(&b, now));
    bool grew = false;
    long d = srvpol_fail(&b, MIN, MAX, now, 0, &grew);
    ck_assert_int_eq(d, 3);
    ck_assert(grew);
    ck_assert_uint_eq(b.step, 1);
    ck_assert_int_eq(b.until, now + 3);
    ck_assert(!srvpol_ready(&b, now + 2));
    ck_assert(srvpol_ready(&b, now + 3));
    /* each failure doubles the pause, up to the cap; after that the pause
     * no longer grows, so the log says it once */
    unsigned grown = 1;
    for (int i = 0; i < 20; i++) {
        d = srvpol_fail(&b, MIN, MAX, now, 0, &grew);
        grown += grew;
    }
    ck_assert_int_eq(d, MAX);
    ck_assert_int_eq(b.until, now + MAX);
    ck_assert_uint_eq(grown, 9); /* 3, 6, ..., 384, 600 */
    srvpol_reset(&b);
    ck_assert_uint_eq(b.step, 0);
    ck_assert(srvpol_ready(&b, now));
    d = srvpol_fail(&b, MIN, MAX, now, 0, NULL);
    ck_assert_int_eq(d, 3);
}
END_TEST

/* A server that closes every session right after the login (issue 12):
 * the attempts a client makes against it in 90 s, with the largest and
 * the smallest jitter. Before, the login reset the back-off: one attempt
 * every 2-3 s, 30 or more. */
START_TEST(test_storm)
{
    for (int k = 0; k < 2; k++) {
        uint32_t rnd = k == 0 ? 0 : UINT32_MAX; /* no jitter, then some */
        srvpol_backoff_t b = { 0, 0 };
        unsigned attempts = 0;
        time_t t = 100, last_gap = 0, prev = 0;
        while (t <= 100 + 90) {
            attempts++;
            if (prev != 0) {
                ck_assert_int_gt(t - prev, last_gap); /* the pauses grow */
                last_gap = t - prev;
            }
            prev = t;
            /* logged in at t, dropped at once: not a lasting session */
            ck_assert(!srvpol_session_lasted(t, t, MIN_SESSION, false));
            srvpol_fail(&b, MIN, MAX, t, rnd, NULL);
            t = b.until;
        }
        ck_assert_uint_ge(attempts, 3);
        ck_assert_uint_le(attempts, 5);
    }
}
END_TEST

START_TEST(test_session_lasted)
{
    time_t login = 5000;
    ck_assert(!srvpol_session_lasted(login, login, MIN_SESSION, false)); /* a login alone */
    ck_assert(!srvpol_session_lasted(login, login + MIN_SESSION - 1, MIN_SESSION, false));
    ck_assert(srvpol_session_lasted(login, login + MIN_SESSION, MIN_SESSION, false));
    ck_assert(srvpol_session_lasted(login, login, MIN_SESSION, true)); /* sources, results */
    ck_assert(srvpol_session_lasted(login, login + 1, MIN_SESSION, true));
}
END_TEST

START_TEST(test_reask)
{
    ck_assert(srvpol_reask_due(0, 10, REASK)); /* never asked */
    ck_assert(!srvpol_reask_due(1000, 1000, REASK));
    ck_assert(!srvpol_reask_due(1000, 1000 + REASK - 1, REASK));
    ck_assert(srvpol_reask_due(1000, 1000 + REASK, REASK));
}
END_TEST

START_TEST(test_pace)
{
    srvpol_pace_t p = { 0 };
    time_t now = 10000;
    /* a burst of BURST, then nothing until EVERY has passed */
    for (int i = 0; i < BURST; i++)
        ck_assert(srvpol_pace_take(&p, now, EVERY, BURST));
    ck_assert(!srvpol_pace_take(&p, now, EVERY, BURST));
    ck_assert(!srvpol_pace_take(&p, now + EVERY - 1, EVERY, BURST));
    ck_assert(srvpol_pace_take(&p, now + EVERY, EVERY, BURST));
    ck_assert(!srvpol_pace_take(&p, now + EVERY, EVERY, BURST));
    /* a long quiet time refills at most BURST */
    now += 100000;
    int n = 0;
    while (srvpol_pace_take(&p, now, EVERY, BURST))
        n++;
    ck_assert_int_eq(n, BURST);
    /* a zero burst sends nothing */
    srvpol_pace_t z = { 0 };
    ck_assert(!srvpol_pace_take(&z, now, EVERY, 0));
}
END_TEST

/* Source requests across sessions: 40 downloads, a session every 3 s for
 * 10 minutes (a server that keeps dropping us), each session asking every
 * download that is due. Each download is asked once (REASK is longer than
 * the run), and no minute sees more than BURST + 60 / EVERY requests. */
START_TEST(test_sources_across_sessions)
{
    enum { N = 40, RUN = 600 };
    time_t asked[N] = { 0 };
    unsigned times[N] = { 0 };
    srvpol_pace_t pace = { 0 };
    unsigned per_second[RUN] = { 0 };
    for (time_t t = 1; t < RUN; t++) {
        bool session = t % 3 == 1; /* connected for one tick, then dropped */
        if (!session)
            continue;
        for (int i = 0; i < N; i++) {
            if (!srvpol_reask_due(asked[i], t, REASK))
                continue;
            if (!srvpol_pace_take(&pace, t, EVERY, BURST))
                break;
            asked[i] = t;
            times[i]++;
            per_second[t]++;
        }
    }
    for (int i = 0; i < N; i++)
        ck_assert_uint_le(times[i], 1);
    for (int start = 0; start + 60 <= RUN; start++) {
        unsigned sum = 0;
        for (int k = start; k < start + 60; k++)
            sum += per_second[k];
        ck_assert_uint_le(sum, BURST + 60 / EVERY);
    }
    /* and every download does get its turn, at eMule's average rate */
    unsigned total = 0;
    for (int i = 0; i < N; i++)
        total += times[i];
    ck_assert_uint_ge(total, RUN / EVERY);
}
END_TEST

/* Sources asked of the other servers over UDP: each server at most every
 * UDP_REASK for a download; the latest SRVPOL_UDP_ASKED_MAX are kept, the
 * one asked longest ago making room; a server gone is forgotten. */
#define UDP_REASK 1200 /* server.c's SRV_UDP_SOURCES_REASK */

START_TEST(test_udp_asks)
{
    static int servers[SRVPOL_UDP_ASKED_MAX + 2];
    srvpol_udp_asked_t a = { 0 };
    time_t t = 50000;
    const void *x = &servers[0], *y = &servers[1];
    ck_assert(srvpol_udp_due(&a, x, t, UDP_REASK));
    srvpol_udp_mark(&a, x, t);
    ck_assert(!srvpol_udp_due(&a, x, t, UDP_REASK));
    ck_assert(!srvpol_udp_due(&a, x, t + UDP_REASK - 1, UDP_REASK));
    ck_assert(srvpol_udp_due(&a, x, t + UDP_REASK, UDP_REASK));
    ck_assert(srvpol_udp_due(&a, y, t, UDP_REASK)); /* another server */
    /* asked again: the time moves, no new entry */
    srvpol_udp_mark(&a, x, t + 10);
    ck_assert_uint_eq(a.n, 1);
    ck_assert(!srvpol_udp_due(&a, x, t + UDP_REASK, UDP_REASK));
    ck_assert(srvpol_udp_due(&a, x, t + 10 + UDP_REASK, UDP_REASK));
    /* a server gone: forgotten; another one at the same address later is
     * not taken for it */
    srvpol_udp_forget(&a, x);
    ck_assert(srvpol_udp_due(&a, x, t + 11, UDP_REASK));
    ck_assert_uint_eq(a.n, 1);
    /* a full table: the entry asked longest ago makes room */
    srvpol_udp_asked_t full = { 0 };
    for (int i = 0; i < SRVPOL_UDP_ASKED_MAX; i++)
        srvpol_udp_mark(&full, &servers[i], t + (i == 5 ? 0 : 100 + i));
    ck_assert_uint_eq(full.n, SRVPOL_UDP_ASKED_MAX);
    srvpol_udp_mark(&full, &servers[SRVPOL_UDP_ASKED_MAX], t + 500);
    ck_assert_uint_eq(full.n, SRVPOL_UDP_ASKED_MAX);
    ck_assert(!srvpol_udp_due(&full, &servers[SRVPOL_UDP_ASKED_MAX], t + 600, UDP_REASK));
    ck_assert(srvpol_udp_due(&full, &servers[5], t + 600, UDP_REASK)); /* the oldest went */
    for (int i = 0; i < SRVPOL_UDP_ASKED_MAX; i++)
        if (i != 5)
            ck_assert(!srvpol_udp_due(&full, &servers[i], t + 600, UDP_REASK));
}
END_TEST

/* Server TCP obfuscation: when to use it, when to refuse (aMule's
 * SupportsObfuscationTCP and ServerConnect's required rule). */
START_TEST(test_obfs_choose)
{
    srvpol_obfs_in_t in = { .support = true, .request = true, .obfu_tcp_port = 4662,
                            .tcp_flags = 0x0400 };
    ck_assert_int_eq(srvpol_obfs_choose(&in), SRVPOL_OBFS_USE);
    /* the UDP flag (from server.met or the UDP status) is enough */
    in.tcp_flags = 0;
    in.udp_flags = 0x0400;
    ck_assert_int_eq(srvpol_obfs_choose(&in), SRVPOL_OBFS_USE);
    /* no port, or no flag: plain */
    in.obfu_tcp_port = 0;
    ck_assert_int_eq(srvpol_obfs_choose(&in), SRVPOL_OBFS_PLAIN);
    in.obfu_tcp_port = 4662;
    in.udp_flags = 0x0200; /* UDP obfuscation only */
    ck_assert_int_eq(srvpol_obfs_choose(&in), SRVPOL_OBFS_PLAIN);
    in.udp_flags = 0x0400;
    /* not requested, or not supported: plain */
    in.request = false;
    ck_assert_int_eq(srvpol_obfs_choose(&in), SRVPOL_OBFS_PLAIN);
    in.request = true;
    in.support = false;
    ck_assert_int_eq(srvpol_obfs_choose(&in), SRVPOL_OBFS_PLAIN);
    in.support = true;
    /* after a failed obfuscated attempt: plain, unless required */
    in.plain_fallback = true;
    ck_assert_int_eq(srvpol_obfs_choose(&in), SRVPOL_OBFS_PLAIN);
    in.require = true;
    ck_assert_int_eq(srvpol_obfs_choose(&in), SRVPOL_OBFS_USE);
    /* required and not offered: no attempt at all */
    in.udp_flags = 0;
    ck_assert_int_eq(srvpol_obfs_choose(&in), SRVPOL_OBFS_REFUSE);
    in.udp_flags = 0x0400;
    in.obfu_tcp_port = 0;
    ck_assert_int_eq(srvpol_obfs_choose(&in), SRVPOL_OBFS_REFUSE);
}
END_TEST

/* The server UDP key is used only with support on, the UDP obfuscation
 * flag and port announced, and our address the one the key was given to
 * (aMule's GetServerKeyUDP). */
START_TEST(test_udp_crypt_key)
{
    uint32_t f = ED2K_SRV_UDPFLG_UDPOBFUSCATION, ip = 0x0100400Au, key = 0xCAFEBABEu;
    ck_assert_uint_eq(srvpol_udp_crypt_key(true, f, 4665, key, ip, ip), key);
    ck_assert_uint_eq(srvpol_udp_crypt_key(false, f, 4665, key, ip, ip), 0);
    ck_assert_uint_eq(srvpol_udp_crypt_key(true, ED2K_SRV_UDPFLG_TCPOBFUSCATION, 4665, key, ip, ip),
                      0);
    ck_assert_uint_eq(srvpol_udp_crypt_key(true, f, 0, key, ip, ip), 0);
    ck_assert_uint_eq(srvpol_udp_crypt_key(true, f, 4665, key, ip, ip + 1), 0);
    ck_assert_uint_eq(srvpol_udp_crypt_key(true, f, 4665, key, 0, 0), 0);
    ck_assert_uint_eq(srvpol_udp_crypt_key(true, f, 4665, 0, ip, ip), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("srvpolicy");
    TCase *tc = tcase_create("srvpolicy");
    tcase_add_test(tc, test_schedule);
    tcase_add_test(tc, test_jitter);
    tcase_add_test(tc, test_fail_and_reset);
    tcase_add_test(tc, test_storm);
    tcase_add_test(tc, test_session_lasted);
    tcase_add_test(tc, test_reask);
    tcase_add_test(tc, test_pace);
    tcase_add_test(tc, test_sources_across_sessions);
    tcase_add_test(tc, test_udp_asks);
    tcase_add_test(tc, test_obfs_choose);
    tcase_add_test(tc, test_udp_crypt_key);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
