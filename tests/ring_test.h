/*
 * ring_test.h - what the image tests share: small rings on loopback pnode
 * names, storing one as a fresh image, and comparing two rings. Include
 * after <cmocka.h>.
 */
#ifndef RING_TEST_H
#define RING_TEST_H

#include <string.h>

#include "ring.h"

/* The error message names the problem. */
#define assert_err_has(err, sub)                                               \
    do {                                                                       \
        if (strstr((err), (sub)) == NULL)                                      \
            fail_msg("error \"%s\" lacks \"%s\"", (err), (sub));               \
    } while (0)

#define RING_TEST_P1 "tcp://127.0.0.1:7001"
#define RING_TEST_P2 "tcp://127.0.0.1:7002"
#define RING_TEST_P3 "tcp://127.0.0.1:7003"

/* cmocka setup and teardown: *state becomes a ring_test_dir_t, a new
 * temporary directory tmp and path = tmp/ring (not made yet). */
typedef struct {
    char *tmp;
    char *path;
} ring_test_dir_t;
int ring_test_dir_setup(void **state);
int ring_test_dir_teardown(void **state);

/* A new ring of n vnodes over RING_TEST_P1..P<npnodes> (1 to 3). */
ring_t *ring_test_new(ring_algo_t algo, uint32_t n, size_t npnodes);
/* Stores r as a new image in dir (r's generation becomes 1). */
void ring_test_store(const char *dir, ring_t *r);
/* Same vnode count, algorithm, pnodes, and every vnode's pnode, flags and
 * data. Generations are compared by the callers. */
void ring_test_assert_equal(const ring_t *a, const ring_t *b);

#endif
