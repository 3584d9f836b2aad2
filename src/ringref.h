/*
 * ringref.h - the published ring. One ring is current at a time; workers
 * hold a reference to the one they route with and notice a new one with a
 * single atomic load, so the hot path takes no lock. A ring is freed when
 * the last worker lets go of it.
 */
#ifndef RP_RINGREF_H
#define RP_RINGREF_H

#include "ring.h"

typedef struct ringref ringref_t;

struct ringref {
    ring_t *ring;
    uint64_t checksum; /* ring_content_checksum(ring) */
    int refs;          /* atomic */
};

/* Makes r current (taking ownership) with its content checksum computed
 * here, off the workers; the previous ring goes when unused. */
int ringref_publish(ring_t *r);
/* The current ring with a reference the caller must release; NULL if
 * nothing was published. */
ringref_t *ringref_acquire(void);
void ringref_release(ringref_t *rr);
/* References held now: the current one plus the workers still on it. */
int ringref_users(const ringref_t *rr);
/* True when mine is no longer current: one relaxed load, no lock. */
int ringref_stale(const ringref_t *mine);
/* Drops the current ring at exit. */
void ringref_shutdown(void);

#endif
