/*
 * ring_test.c - helpers of the ring image tests (ring_test.h).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ring_test.h"
#include "tmpdir.h"

int ring_test_dir_setup(void **state)
{
    ring_test_dir_t *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return -1;
    *state = t;
    if ((t->tmp = tmpdir_new()) == NULL || asprintf(&t->path, "%s/ring", t->tmp) < 0)
        return -1;
    return 0;
}

int ring_test_dir_teardown(void **state)
{
    ring_test_dir_t *t = *state;

    if (t->tmp != NULL)
        tmpdir_remove(t->tmp);
    free(t->tmp);
    free(t->path);
    free(t);
    return 0;
}

ring_t *ring_test_new(ring_algo_t algo, uint32_t n, size_t npnodes)
{
    /* Out of order on purpose: ring_new sorts them. */
    static const char *const names[] = {RING_TEST_P2, RING_TEST_P1, RING_TEST_P3};
    static const char *const two[] = {RING_TEST_P2, RING_TEST_P1};
    char err[RING_ERRLEN] = "";
    ring_t *r;

    assert_true(npnodes >= 1 && npnodes <= 3);
    r = ring_new(algo, n, npnodes == 2 ? two : npnodes == 1 ? names + 1 : names, npnodes, err);
    if (r == NULL)
        fail_msg("ring_new: %s", err);
    return r;
}

void ring_test_store(const char *dir, ring_t *r)
{
    char err[RING_ERRLEN] = "";
    ring_image_t *img = NULL;

    if (ring_image_open(dir, 1, &img, err) < 0)
        fail_msg("ring_image_open(%s, create): %s", dir, err);
    if (ring_image_commit(img, NULL, r, err) < 0)
        fail_msg("ring_image_commit: %s", err);
    ring_image_close(img);
    assert_int_equal(ring_generation(r), 1);
}

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

void ring_test_assert_equal(const ring_t *a, const ring_t *b)
{
    uint32_t v;
    size_t i;

    assert_int_equal(ring_vnode_count(a), ring_vnode_count(b));
    assert_int_equal(ring_algo(a), ring_algo(b));
    assert_string_equal(ring_version(a), ring_version(b));
    assert_int_equal(ring_pnode_count(a), ring_pnode_count(b));
    for (i = 0; i < ring_pnode_count(a); i++) {
        assert_string_equal(ring_pnode_name(a, i), ring_pnode_name(b, i));
        assert_int_equal(ring_pnode_vnode_count(a, i), ring_pnode_vnode_count(b, i));
    }
    for (v = 0; v < ring_vnode_count(a); v++) {
        ring_node_t na, nb;
        ring_vnode_node(a, v, &na);
        ring_vnode_node(b, v, &nb);
        if (strcmp(na.name, nb.name) != 0 || na.flags != nb.flags ||
            !same_str(ring_vnode_data(a, v), ring_vnode_data(b, v)))
            fail_msg("vnode %u: %s flags %u data %s vs %s flags %u data %s", v, na.name, na.flags,
                     ring_vnode_data(a, v) ? ring_vnode_data(a, v) : "(none)", nb.name, nb.flags,
                     ring_vnode_data(b, v) ? ring_vnode_data(b, v) : "(none)");
    }
    assert_int_equal(ring_data_count(a), ring_data_count(b));
    assert_int_equal(ring_ro_count(a), ring_ro_count(b));
}
