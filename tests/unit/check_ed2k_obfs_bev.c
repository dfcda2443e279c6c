/* check_ed2k_obfs_bev.c: unit tests for lib/ed2k/obfs_bev: the client and
 * server filters over a socket pair complete the handshake of §9.3 and
 * carry data both ways (what the client wrote before the handshake
 * included), the bytes on the wire are not the plain ones, a plain client
 * on the server's obfuscation port passes through unchanged, and a bad
 * handshake ends in an error event. */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ed2k/obfs_bev.h"

static const char msg_c[] = "\xe3\x05\x00\x00\x00\x01hello from the client";
static const char msg_s[] = "\xe3\x05\x00\x00\x00\x40hello from the server";

typedef struct {
    struct event_base *base;
    struct evbuffer *got_c, *got_s; /* what each side read (plain) */
    bool error_s;
} world_t;

static void
read_s(struct bufferevent *bev, void *arg)
{
    world_t *w = arg;
    evbuffer_add_buffer(w->got_s, bufferevent_get_input(bev));
    if (evbuffer_get_length(w->got_s) >= sizeof msg_c - 1 && evbuffer_get_length(w->got_c) == 0)
        bufferevent_write(bev, msg_s, sizeof msg_s - 1);
}

static void
read_c(struct bufferevent *bev, void *arg)
{
    world_t *w = arg;
    evbuffer_add_buffer(w->got_c, bufferevent_get_input(bev));
    if (evbuffer_get_length(w->got_c) >= sizeof msg_s - 1)
        event_base_loopbreak(w->base);
}

static void
event_s(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    world_t *w = arg;
    if (what & BEV_EVENT_ERROR) {
        w->error_s = true;
        event_base_loopbreak(w->base);
    }
}

static void
fixed_random(ed2k_obfs_random_t *r, uint8_t marker, uint8_t pad_len)
{
    memset(r, 0, sizeof *r);
    r->marker = marker;
    r->pad_len = pad_len;
    for (int i = 0; i < 255; i++)
        r->pad[i] = (uint8_t)(i * 7);
}

static void
world_init(world_t *w, int fds[2])
{
    memset(w, 0, sizeof *w);
    w->base = event_base_new();
    w->got_c = evbuffer_new();
    w->got_s = evbuffer_new();
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    evutil_make_socket_nonblocking(fds[0]);
    evutil_make_socket_nonblocking(fds[1]);
}

static void
world_free(world_t *w)
{
    evbuffer_free(w->got_c);
    evbuffer_free(w->got_s);
    event_base_free(w->base);
}

/* server: the server side on fd, reading into w->got_s. */
static ed2k_obfs_bev_t *
server(world_t *w, int fd)
{
    uint8_t secret[16];
    memset(secret, 0x42, sizeof secret);
    ed2k_obfs_random_t r;
    fixed_random(&r, 0, 9);
    struct bufferevent *u = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    ed2k_obfs_bev_t *o = ed2k_obfs_bev_server(u, secret, &r);
    bufferevent_setcb(o->bev, read_s, NULL, event_s, w);
    bufferevent_enable(o->bev, EV_READ | EV_WRITE);
    return o;
}

static void
run(world_t *w)
{
    struct timeval tv = { 5, 0 };
    event_base_loopexit(w->base, &tv);
    event_base_dispatch(w->base);
}

START_TEST(test_both_sides)
{
    world_t w;
    int fds[2];
    world_init(&w, fds);
    ed2k_obfs_bev_t *srv = server(&w, fds[1]);
    uint8_t secret[16];
    memset(secret, 0x17, sizeof secret);
    ed2k_obfs_random_t r;
    fixed_random(&r, 0x99, 13);
    struct bufferevent *u = bufferevent_socket_new(w.base, fds[0], BEV_OPT_CLOSE_ON_FREE);
    ed2k_obfs_bev_t *cli = ed2k_obfs_bev_client(u, secret, &r);
    bufferevent_setcb(cli->bev, read_c, NULL, NULL, &w);
    bufferevent_enable(cli->bev, EV_READ | EV_WRITE);
    /* written before the handshake: held until it is complete */
    bufferevent_write(cli->bev, msg_c, sizeof msg_c - 1);
    /* the first wire byte is the marker, then A: nothing of the message */
    struct evbuffer *out = bufferevent_get_output(u);
    ck_assert_uint_eq(evbuffer_get_length(out), 1 + ED2K_OBFS_DH_BYTES + 1 + (r.pad_len % 16));
    ck_assert_uint_eq(evbuffer_pullup(out, 1)[0], 0x99);
    run(&w);
    ck_assert(cli->done && srv->done && !srv->plain && !cli->failed && !srv->failed);
    ck_assert_uint_eq(evbuffer_get_length(w.got_s), sizeof msg_c - 1);
    ck_assert(memcmp(evbuffer_pullup(w.got_s, -1), msg_c, sizeof msg_c - 1) == 0);
    ck_assert_uint_eq(evbuffer_get_length(w.got_c), sizeof msg_s - 1);
    ck_assert(memcmp(evbuffer_pullup(w.got_c, -1), msg_s, sizeof msg_s - 1) == 0);
    bufferevent_free(cli->bev);
    bufferevent_free(srv->bev);
    world_free(&w);
}
END_TEST

/* The stream after the handshake is encrypted: a raw socket reads the
 * server's answer to a completed handshake as other bytes than sent. */
START_TEST(test_wire_is_encrypted)
{
    world_t w;
    int fds[2];
    world_init(&w, fds);
    ed2k_obfs_bev_t *srv = server(&w, fds[1]);
    uint8_t secret[16];
    memset(secret, 0x17, sizeof secret);
    ed2k_obfs_random_t r;
    fixed_random(&r, 0x99, 0);
    /* the client side runs over a raw evbuffer pair: the handshake by
     * hand with obfs.c, the stream read raw */
    ed2k_obfs_t o;
    uint8_t first[1 + ED2K_OBFS_DH_BYTES + 1 + 15];
    size_t n = ed2k_obfs_dh_client_start(&o, secret, &r, first);
    ck_assert_int_eq(write(fds[0], first, n), (ssize_t)n);
    struct timeval tv = { 0, 200000 };
    event_base_loopexit(w.base, &tv);
    event_base_dispatch(w.base);
    uint8_t in[1024], reply[ED2K_OBFS_MAX_SERVER_MSG];
    ssize_t got = read(fds[0], in, sizeof in);
    ck_assert_int_gt(got, ED2K_OBFS_DH_BYTES);
    size_t used = 0, reply_len = 0;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_obfs_feed(&o, in, (size_t)got, &used, reply, &reply_len, &err),
                     ED2K_OBFS_DONE);
    /* the client's last part and an encrypted message */
    uint8_t m[sizeof msg_c - 1];
    ed2k_obfs_encrypt(&o, m, (const uint8_t *)msg_c, sizeof m);
    ck_assert_int_eq(write(fds[0], reply, reply_len), (ssize_t)reply_len);
    ck_assert_int_eq(write(fds[0], m, sizeof m), (ssize_t)sizeof m);
    event_base_loopexit(w.base, &tv);
    event_base_dispatch(w.base);
    ck_assert(srv->done && !srv->failed);
    ck_assert_uint_eq(evbuffer_get_length(w.got_s), sizeof msg_c - 1);
    ck_assert(memcmp(evbuffer_pullup(w.got_s, -1), msg_c, sizeof msg_c - 1) == 0);
    /* the server's answer, raw on the wire, is not the plain message */
    event_base_loopexit(w.base, &tv);
    event_base_dispatch(w.base);
    got = read(fds[0], in, sizeof in);
    ck_assert_int_eq(got, (ssize_t)(sizeof msg_s - 1));
    ck_assert(memcmp(in, msg_s, sizeof msg_s - 1) != 0);
    ed2k_obfs_decrypt(&o, in, in, (size_t)got);
    ck_assert(memcmp(in, msg_s, sizeof msg_s - 1) == 0);
    close(fds[0]);
    bufferevent_free(srv->bev);
    world_free(&w);
}
END_TEST

/* A plain client on the obfuscation port: its bytes pass unchanged. */
START_TEST(test_plain_client)
{
    world_t w;
    int fds[2];
    world_init(&w, fds);
    ed2k_obfs_bev_t *srv = server(&w, fds[1]);
    ck_assert_int_eq(write(fds[0], msg_c, sizeof msg_c - 1), (ssize_t)(sizeof msg_c - 1));
    struct timeval tv = { 0, 200000 };
    event_base_loopexit(w.base, &tv);
    event_base_dispatch(w.base);
    ck_assert(srv->plain && srv->done);
    ck_assert_uint_eq(evbuffer_get_length(w.got_s), sizeof msg_c - 1);
    ck_assert(memcmp(evbuffer_pullup(w.got_s, -1), msg_c, sizeof msg_c - 1) == 0);
    uint8_t in[256];
    event_base_loopexit(w.base, &tv);
    event_base_dispatch(w.base);
    ck_assert_int_eq(read(fds[0], in, sizeof in), (ssize_t)(sizeof msg_s - 1));
    ck_assert(memcmp(in, msg_s, sizeof msg_s - 1) == 0);
    close(fds[0]);
    bufferevent_free(srv->bev);
    world_free(&w);
}
END_TEST

/* Not a handshake: the server side reports an error event. */
START_TEST(test_bad_handshake)
{
    world_t w;
    int fds[2];
    world_init(&w, fds);
    ed2k_obfs_bev_t *srv = server(&w, fds[1]);
    uint8_t junk[1 + ED2K_OBFS_DH_BYTES + 1 + 16];
    memset(junk, 0x01, sizeof junk);
    junk[1 + ED2K_OBFS_DH_BYTES] = 0; /* no padding: the 16 bytes after are the "magic" part */
    ck_assert_int_eq(write(fds[0], junk, sizeof junk), (ssize_t)sizeof junk);
    run(&w);
    ck_assert(w.error_s);
    ck_assert(srv->failed && !srv->done);
    ck_assert(strstr(srv->error, "magic") != NULL);
    ck_assert_uint_eq(evbuffer_get_length(w.got_s), 0);
    close(fds[0]);
    bufferevent_free(srv->bev);
    world_free(&w);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ed2k_obfs_bev");
    TCase *tc = tcase_create("obfs_bev");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_both_sides);
    tcase_add_test(tc, test_wire_is_encrypted);
    tcase_add_test(tc, test_plain_client);
    tcase_add_test(tc, test_bad_handshake);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
