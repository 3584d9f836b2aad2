/*
 * ringref.c - the current pointer is read without a lock to detect a change;
 * taking a reference happens under a mutex only when it changed, which
 * rules out the race of taking a reference on a ring being freed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "checksum.h"
#include "ringref.h"

static pthread_mutex_t ringref_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(ringref_t *) ringref_current;

int ringref_publish(ring_t *r)
{
    ringref_t *rr = malloc(sizeof(*rr));
    if (rr == NULL)
        return -1;
    rr->ring = r;
    rr->checksum = ring_content_checksum(r);
    rr->refs = 1; /* the "current" reference */
    pthread_mutex_lock(&ringref_lock);
    ringref_t *old = atomic_exchange(&ringref_current, rr);
    pthread_mutex_unlock(&ringref_lock);
    if (old != NULL)
        ringref_release(old);
    return 0;
}

ringref_t *ringref_acquire(void)
{
    pthread_mutex_lock(&ringref_lock);
    ringref_t *rr = atomic_load(&ringref_current);
    if (rr != NULL)
        __atomic_add_fetch(&rr->refs, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&ringref_lock);
    return rr;
}

void ringref_release(ringref_t *rr)
{
    if (rr != NULL && __atomic_sub_fetch(&rr->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        ring_free(rr->ring);
        free(rr);
    }
}

int ringref_users(const ringref_t *rr)
{
    return __atomic_load_n(&rr->refs, __ATOMIC_ACQUIRE);
}

int ringref_stale(const ringref_t *mine)
{
    return atomic_load_explicit(&ringref_current, memory_order_relaxed) != mine;
}

void ringref_shutdown(void)
{
    pthread_mutex_lock(&ringref_lock);
    ringref_t *old = atomic_exchange(&ringref_current, NULL);
    pthread_mutex_unlock(&ringref_lock);
    ringref_release(old);
}
