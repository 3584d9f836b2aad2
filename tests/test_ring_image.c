/*
 * test_ring_image.c - the LevelDB image: new ring -> image -> load gives the
 * same ring; each kind of change (remap, data, add/remove/rename pnode)
 * survives a commit and a load, and every commit bumps the generation;
 * node-fash's JSON round-trips byte for byte; an image held open elsewhere
 * is refused at once.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ring_test.h"
#include "tmpdir.h"

#define P4 "tcp://127.0.0.1:7004"
#define P1_V6 "tcp://[::1]:7001"

/* Loads path; it must equal want and carry generation gen. */
static ring_t *load_equal(const char *path, const ring_t *want, uint64_t gen)
{
    char err[RING_ERRLEN] = "";
    ring_t *r = NULL;

    if (ring_load(path, &r, err) < 0)
        fail_msg("ring_load: %s", err);
    ring_test_assert_equal(r, want);
    assert_int_equal(ring_generation(r), gen);
    return r;
}

static void commit(const char *path, const ring_t *old, ring_t *nw)
{
    char err[RING_ERRLEN] = "";
    ring_image_t *img = NULL;
    ring_t *cur = NULL;

    if (ring_image_open(path, 0, &img, err) < 0)
        fail_msg("ring_image_open: %s", err);
    /* What the open image holds is what the last load saw. */
    if (ring_image_read(img, &cur, err) < 0)
        fail_msg("ring_image_read: %s", err);
    ring_test_assert_equal(cur, old);
    ring_free(cur);
    if (ring_image_commit(img, old, nw, err) < 0)
        fail_msg("ring_image_commit: %s", err);
    ring_image_close(img);
}

static ring_t *clone_ring(const ring_t *r)
{
    char err[RING_ERRLEN] = "";
    ring_t *c = ring_clone(r, err);

    if (c == NULL)
        fail_msg("ring_clone: %s", err);
    return c;
}

static void set_data(ring_t *r, uint32_t v, const char *data)
{
    char err[RING_ERRLEN] = "";

    if (ring_set_vnode_data(r, v, data, err) < 0)
        fail_msg("ring_set_vnode_data(%u): %s", v, err);
}

/* Export -> import -> export is byte-identical, and the import equals r. */
static void json_round_trip(const ring_t *r)
{
    char err[RING_ERRLEN] = "", *a, *b;
    ring_t *back = NULL;
    size_t alen, blen;

    a = ring_export_json(r, 0, &alen, err);
    assert_non_null(a);
    assert_int_equal(strlen(a), alen);
    if (ring_import_json(a, alen, &back, err) < 0)
        fail_msg("ring_import_json: %s", err);
    ring_test_assert_equal(back, r);
    b = ring_export_json(back, 0, &blen, err);
    assert_non_null(b);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    free(a);
    free(b);
    ring_free(back);
}

static void t_round_trip(void **state)
{
    ring_test_dir_t *t = *state;
    char err[RING_ERRLEN] = "";
    ring_t *r0, *l1, *n2, *l2, *n3, *l3, *n4, *l4, *l5;
    long p4, p2, p3;
    uint32_t v;

    r0 = ring_test_new(RING_HASH_SHA256, 1000, 3);
    ring_test_store(t->path, r0);
    l1 = load_equal(t->path, r0, 1);
    for (v = 0; v < 1000; v++) {
        ring_node_t node;
        ring_vnode_node(l1, v, &node);
        assert_int_equal(node.pnode, v % 3);
    }

    /* A new pnode takes vnodes 0-9; data on 0 and 10-20. */
    n2 = clone_ring(l1);
    p4 = ring_add_pnode(n2, P4, err);
    assert_int_equal(p4, 3);
    for (v = 0; v < 10; v++)
        ring_set_vnode_pnode(n2, v, (uint32_t)p4);
    set_data(n2, 0, "ro");
    for (v = 10; v < 20; v++)
        set_data(n2, v, "ro");
    set_data(n2, 20, "foo");
    commit(t->path, l1, n2);
    assert_int_equal(ring_generation(n2), 2);
    l2 = load_equal(t->path, n2, 2);
    assert_int_equal(ring_pnode_vnode_count(l2, 3), 10);
    assert_int_equal(ring_data_count(l2), 12);
    assert_int_equal(ring_ro_count(l2), 11);
    assert_string_equal(ring_vnode_data(l2, 20), "foo");

    /* A rename; its vnodes and their data follow. Data cleared; the
     * string "null" (what fash add-data -d null stores) kept as data. */
    n3 = clone_ring(l2);
    assert_int_equal(ring_rename_pnode(n3, RING_TEST_P1, P1_V6, err), 0);
    set_data(n3, 10, NULL);
    set_data(n3, 20, "null");
    commit(t->path, l2, n3);
    l3 = load_equal(t->path, n3, 3);
    assert_int_equal(ring_pnode_find(l3, RING_TEST_P1), -1);
    assert_int_equal(ring_data_count(l3), 11);
    assert_int_equal(ring_ro_count(l3), 10);
    assert_string_equal(ring_vnode_data(l3, 20), "null");

    /* Every vnode of P2 (some with data) moves to P3, then P2 goes. */
    n4 = clone_ring(l3);
    p2 = ring_pnode_find(n4, RING_TEST_P2);
    p3 = ring_pnode_find(n4, RING_TEST_P3);
    for (v = 0; v < 1000; v++) {
        ring_node_t node;
        ring_vnode_node(n4, v, &node);
        if (node.pnode == (uint32_t)p2)
            ring_set_vnode_pnode(n4, v, (uint32_t)p3);
    }
    assert_int_equal(ring_remove_pnode(n4, RING_TEST_P2, err), 0);
    commit(t->path, l3, n4);
    l4 = load_equal(t->path, n4, 4);
    assert_int_equal(ring_pnode_count(l4), 3);
    assert_int_equal(ring_pnode_find(l4, RING_TEST_P2), -1);

    /* Nothing changed: still a new generation. */
    commit(t->path, l4, l4);
    l5 = load_equal(t->path, n4, 5);
    json_round_trip(l5);

    ring_free(r0); ring_free(l1); ring_free(n2); ring_free(l2); ring_free(n3);
    ring_free(l3); ring_free(n4); ring_free(l4); ring_free(l5);
}

static void t_image_refusals(void **state)
{
    ring_test_dir_t *t = *state;
    char err[RING_ERRLEN] = "", *path, *file;
    ring_image_t *img = NULL;
    ring_t *r = ring_test_new(RING_HASH_XXH3, 64, 2), *other;
    FILE *f;

    assert_int_equal(ring_image_open(t->path, 0, &img, err), -1);
    assert_null(img);
    ring_test_store(t->path, r);
    assert_int_equal(ring_image_open(t->path, 1, &img, err), -1);
    assert_err_has(err, "already holds a ring");

    /* Vnode count and algorithm are fixed for a ring's life. */
    assert_int_equal(ring_image_open(t->path, 0, &img, err), 0);
    other = ring_test_new(RING_HASH_SHA1, 64, 2);
    assert_int_equal(ring_image_commit(img, r, other, err), -1);
    assert_err_has(err, "cannot change");
    ring_free(other);
    other = ring_test_new(RING_HASH_XXH3, 65, 2);
    assert_int_equal(ring_image_commit(img, r, other, err), -1);
    assert_err_has(err, "cannot change");
    ring_free(other);
    ring_image_close(img);
    other = load_equal(t->path, r, 1);
    ring_free(other);

    /* Neither a file nor a directory with other files is taken over. */
    assert_true(asprintf(&path, "%s/CURRENT", t->path) > 0);
    assert_int_equal(ring_image_open(path, 1, &img, err), -1);
    assert_err_has(err, "is not a directory");
    free(path);
    assert_true(asprintf(&path, "%s/other", t->tmp) > 0);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_true(asprintf(&file, "%s/notes.txt", path) > 0);
    f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(ring_image_open(path, 1, &img, err), -1);
    assert_err_has(err, "holds no ring");
    free(file);
    free(path);
    ring_free(r);
}

/* For every algorithm, with data and with a pnode that owns nothing. */
static void t_json_round_trip(void **state)
{
    static const ring_algo_t algos[] = {RING_HASH_XXH3, RING_HASH_SHA256, RING_HASH_SHA1, RING_HASH_MD5};
    char err[RING_ERRLEN] = "";
    size_t i;

    (void)state;
    for (i = 0; i < 4; i++) {
        ring_t *r = ring_test_new(algos[i], 300, 3);
        set_data(r, 7, "ro");
        set_data(r, 299, "moving \"out\"\n");
        assert_int_equal(ring_add_pnode(r, P4, err), 3);
        json_round_trip(r);
        ring_free(r);
    }
}

/* LevelDB allows one opener per directory. A second opener in this
 * process and one in another both fail at once, saying why. */
static void t_locked_here(void **state)
{
    ring_test_dir_t *t = *state;
    char err[RING_ERRLEN] = "";
    ring_image_t *img = NULL;
    ring_t *r = ring_test_new(RING_HASH_XXH3, 16, 1), *l = NULL;

    ring_test_store(t->path, r);
    assert_int_equal(ring_image_open(t->path, 0, &img, err), 0);
    assert_int_equal(ring_load(t->path, &l, err), -1);
    assert_null(l);
    assert_err_has(err, "locked");
    ring_image_close(img);
    l = load_equal(t->path, r, 1);
    ring_free(l);
    ring_free(r);
}

static void t_locked_by_process(void **state)
{
    ring_test_dir_t *t = *state;
    char err[RING_ERRLEN] = "", c = 0;
    int ready[2], release[2], status = 0;
    ring_image_t *img = NULL;
    ring_t *r = ring_test_new(RING_HASH_SHA256, 16, 2), *l = NULL;
    pid_t pid;

    ring_test_store(t->path, r);
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(release), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child holds the image until the parent kills it (or dies:
         * then read returns 0). Killed, it runs no exit handlers, which
         * would report this copy of the parent's memory as leaked. */
        close(ready[0]);
        close(release[1]);
        c = ring_image_open(t->path, 0, &img, NULL) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) == 1)
            while (read(release[0], &c, 1) > 0)
                ;
        _exit(2);
    }
    close(ready[1]);
    close(release[0]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');

    assert_int_equal(ring_load(t->path, &l, err), -1);
    assert_null(l);
    assert_err_has(err, "locked by another process");
    assert_int_equal(ring_image_open(t->path, 0, &img, err), -1);
    assert_err_has(err, "locked by another process");

    /* The lock goes with the process that held it. */
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(ready[0]);
    close(release[1]);
    l = load_equal(t->path, r, 1);
    ring_free(l);
    ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_round_trip, ring_test_dir_setup, ring_test_dir_teardown),
        cmocka_unit_test_setup_teardown(t_image_refusals, ring_test_dir_setup, ring_test_dir_teardown),
        cmocka_unit_test(t_json_round_trip),
        cmocka_unit_test_setup_teardown(t_locked_here, ring_test_dir_setup, ring_test_dir_teardown),
        cmocka_unit_test_setup_teardown(t_locked_by_process, ring_test_dir_setup, ring_test_dir_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
