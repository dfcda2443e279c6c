/* obfs_bev.c: the filter bufferevent of obfs_bev.h: the input filter runs
 * the handshake (obfs.c) until it is complete, then decrypts; the output
 * filter holds the upper layer's bytes until then, then encrypts. */
#include "config.h"

#include "ed2k/obfs_bev.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define OBFS_BEV_CHUNK 16384

/* crypt_move: moves all of src to dst through the cipher of one direction. */
static void
crypt_move(ed2k_obfs_bev_t *w, struct evbuffer *src, struct evbuffer *dst, bool out)
{
    uint8_t buf[OBFS_BEV_CHUNK];
    for (;;) {
        int n = evbuffer_remove(src, buf, sizeof buf);
        if (n <= 0)
            return;
        if (out)
            ed2k_obfs_encrypt(&w->o, buf, buf, (size_t)n);
        else
            ed2k_obfs_decrypt(&w->o, buf, buf, (size_t)n);
        evbuffer_add(dst, buf, (size_t)n);
    }
}

static void
fail(ed2k_obfs_bev_t *w, const char *why)
{
    w->failed = true;
    snprintf(w->error, sizeof w->error, "obfuscation handshake: %s", why);
    bufferevent_trigger_event(w->bev, BEV_EVENT_ERROR | BEV_EVENT_READING,
                              BEV_TRIG_DEFER_CALLBACKS);
}

/* complete: the handshake is over: what the upper layer wrote meanwhile
 * goes out now. */
static void
complete(ed2k_obfs_bev_t *w)
{
    w->done = true;
    bufferevent_flush(w->bev, EV_WRITE, BEV_NORMAL);
}

/* handshake: feeds what arrived to the handshake; false while it needs
 * more (or failed). */
static bool
handshake(ed2k_obfs_bev_t *w, struct evbuffer *src)
{
    size_t len = evbuffer_get_length(src);
    if (len == 0)
        return false;
    const uint8_t *p = evbuffer_pullup(src, (ev_ssize_t)len);
    if (w->step_detect) {
        w->step_detect = false;
        if (ed2k_obfs_is_plain_marker(p[0])) {
            w->plain = true;
            complete(w);
            return true;
        }
    }
    uint8_t reply[ED2K_OBFS_MAX_SERVER_MSG];
    size_t used = 0, reply_len = 0;
    mt_error_t *err = NULL;
    ed2k_obfs_status_t st = ed2k_obfs_feed(&w->o, p, len, &used, reply, &reply_len, &err);
    if (st == ED2K_OBFS_ERROR) {
        fail(w, err != NULL ? err->message : "?");
        mt_error_free(err);
        return false;
    }
    evbuffer_drain(src, used);
    if (reply_len > 0)
        evbuffer_add(bufferevent_get_output(w->under), reply, reply_len);
    if (st != ED2K_OBFS_DONE)
        return false;
    complete(w);
    return true;
}

static enum bufferevent_filter_result
in_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
          enum bufferevent_flush_mode mode, void *ctx)
{
    (void)limit;
    (void)mode;
    ed2k_obfs_bev_t *w = ctx;
    if (w->failed)
        return BEV_ERROR;
    if (!w->done && !handshake(w, src))
        return w->failed ? BEV_ERROR : BEV_NEED_MORE;
    if (w->plain)
        evbuffer_add_buffer(dst, src);
    else
        crypt_move(w, src, dst, false);
    return BEV_OK;
}

static enum bufferevent_filter_result
out_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
           enum bufferevent_flush_mode mode, void *ctx)
{
    (void)limit;
    (void)mode;
    ed2k_obfs_bev_t *w = ctx;
    if (w->failed)
        return BEV_ERROR;
    if (!w->done)
        return BEV_NEED_MORE; /* held until the handshake is complete */
    if (w->plain)
        evbuffer_add_buffer(dst, src);
    else
        crypt_move(w, src, dst, true);
    return BEV_OK;
}

static ed2k_obfs_bev_t *
wrap(struct bufferevent *under)
{
    ed2k_obfs_bev_t *w = xcalloc(1, sizeof *w);
    w->under = under;
    w->bev = bufferevent_filter_new(under, in_filter, out_filter, BEV_OPT_CLOSE_ON_FREE, free, w);
    if (w->bev == NULL)
        abort(); /* only out of memory */
    return w;
}

ed2k_obfs_bev_t *
ed2k_obfs_bev_client(struct bufferevent *under, const uint8_t secret[16],
                     const ed2k_obfs_random_t *rnd)
{
    ed2k_obfs_bev_t *w = wrap(under);
    uint8_t first[1 + ED2K_OBFS_DH_BYTES + 1 + 15];
    size_t n = ed2k_obfs_dh_client_start(&w->o, secret, rnd, first);
    evbuffer_add(bufferevent_get_output(under), first, n);
    return w;
}

ed2k_obfs_bev_t *
ed2k_obfs_bev_server(struct bufferevent *under, const uint8_t secret[16],
                     const ed2k_obfs_random_t *rnd)
{
    ed2k_obfs_bev_t *w = wrap(under);
    ed2k_obfs_dh_server_init(&w->o, secret, rnd);
    w->step_detect = true;
    return w;
}
