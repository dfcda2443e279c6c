/* rc4ahead.c: the keystream ring of rc4ahead.h: the thread fills it, the
 * caller XORs from it; positions are byte counts that only grow, guarded
 * by one mutex, with a condition variable for each side's wait. */
#include "config.h"

#include "ed2k/rc4ahead.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/xalloc.h"

#define RING (1u << 20)  /* keystream bytes computed ahead at most */
#define STEP (64u << 10) /* bytes the thread computes between looks at the ring */
#define RUNNING_MAX 8    /* threads at once in the process: the rest keep their state */

static atomic_int running;

struct ed2k_rc4_ahead {
    ed2k_rc4_t rc4; /* the thread's */
    uint8_t *ring;
    uint64_t made, used; /* keystream bytes made / consumed so far */
    bool stop;
    pthread_mutex_t mu;
    pthread_cond_t room, ready;
    pthread_t thread;
};

static void *
run(void *arg)
{
    ed2k_rc4_ahead_t *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->stop && a->made - a->used >= RING)
            pthread_cond_wait(&a->room, &a->mu);
        if (a->stop)
            break;
        size_t at = (size_t)(a->made % RING), n = RING - (size_t)(a->made - a->used);
        if (n > RING - at)
            n = RING - at; /* up to the ring's end */
        if (n > STEP)
            n = STEP;
        pthread_mutex_unlock(&a->mu);
        ed2k_rc4_keystream(&a->rc4, a->ring + at, n); /* that part is ours alone */
        pthread_mutex_lock(&a->mu);
        a->made += n;
        pthread_cond_signal(&a->ready);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

ed2k_rc4_ahead_t *
ed2k_rc4_ahead_start(const ed2k_rc4_t *state)
{
    if (atomic_fetch_add(&running, 1) >= RUNNING_MAX) {
        atomic_fetch_sub(&running, 1);
        return NULL;
    }
    ed2k_rc4_ahead_t *a = xcalloc(1, sizeof *a);
    a->rc4 = *state;
    a->ring = xmalloc(RING);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->room, NULL);
    pthread_cond_init(&a->ready, NULL);
    if (pthread_create(&a->thread, NULL, run, a) != 0) {
        pthread_mutex_destroy(&a->mu);
        pthread_cond_destroy(&a->room);
        pthread_cond_destroy(&a->ready);
        free(a->ring);
        free(a);
        atomic_fetch_sub(&running, 1);
        return NULL;
    }
    return a;
}

void
ed2k_rc4_ahead_crypt(ed2k_rc4_ahead_t *a, uint8_t *dst, const uint8_t *src, size_t n)
{
    while (n > 0) {
        pthread_mutex_lock(&a->mu);
        while (a->made == a->used)
            pthread_cond_wait(&a->ready, &a->mu);
        size_t at = (size_t)(a->used % RING), m = (size_t)(a->made - a->used);
        pthread_mutex_unlock(&a->mu);
        if (m > RING - at)
            m = RING - at;
        if (m > n)
            m = n;
        const uint8_t *ks = a->ring + at; /* made, not yet used: the thread leaves it */
        for (size_t k = 0; k < m; k++)
            dst[k] = src[k] ^ ks[k];
        pthread_mutex_lock(&a->mu);
        a->used += m;
        pthread_cond_signal(&a->room);
        pthread_mutex_unlock(&a->mu);
        dst += m;
        src += m;
        n -= m;
    }
}

void
ed2k_rc4_ahead_free(ed2k_rc4_ahead_t *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_signal(&a->room);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->room);
    pthread_cond_destroy(&a->ready);
    free(a->ring);
    free(a);
    atomic_fetch_sub(&running, 1);
}
