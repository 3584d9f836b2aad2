/*
 * test_ring.c - the in-memory ring: building it, the algorithms' names and
 * sizes, pnode names, adding/removing/renaming pnodes, moving vnodes and
 * setting their data, with the counts that follow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ring_test.h"

#define P1 RING_TEST_P1
#define P2 RING_TEST_P2
#define P3 RING_TEST_P3

static ring_t *two_pnodes(uint32_t n)
{
    static const char *const names[] = {P2, P1};
    char err[RING_ERRLEN] = "";
    ring_t *r = ring_new(RING_HASH_XXH3, n, names, 2, err);

    if (r == NULL)
        fail_msg("ring_new: %s", err);
    return r;
}

static void t_algorithms(void **state)
{
    static const struct {
        const char *name;
        ring_algo_t algo;
        size_t len;
    } algos[] = {
        {"xxh3", RING_HASH_XXH3, 8},
        {"sha256", RING_HASH_SHA256, 32},
        {"sha1", RING_HASH_SHA1, 20},
        {"md5", RING_HASH_MD5, 16},
    };
    char max[80], want[80];
    ring_algo_t a;
    size_t i;

    (void)state;
    for (i = 0; i < 4; i++) {
        assert_int_equal(ring_algo_parse(algos[i].name, &a), 0);
        assert_int_equal(a, algos[i].algo);
        assert_string_equal(ring_algo_name(a), algos[i].name);
        assert_int_equal(ring_algo_digest_len(a), algos[i].len);
        ring_algo_max_hex(a, max, sizeof(max));
        memset(want, 'F', algos[i].len * 2);
        want[algos[i].len * 2] = '\0';
        assert_string_equal(max, want);
    }
    assert_int_equal(ring_algo_parse("SHA256", &a), 0);
    assert_int_equal(a, RING_HASH_SHA256);
    assert_int_equal(ring_algo_parse("sha512", &a), -1);
    assert_int_equal(ring_algo_parse("", &a), -1);
    ring_algo_max_hex(RING_HASH_SHA256, max, 5);
    assert_string_equal(max, "FFFF");
}

static void t_new(void **state)
{
    static const char *const dup[] = {P1, P2, P1};
    static const char *const bad[] = {P1, "tcp://h:1/12"};
    char err[RING_ERRLEN] = "";
    ring_t *r = two_pnodes(5);
    ring_node_t node;
    uint32_t v;

    (void)state;
    /* Round-robin over the names sorted, whatever order they came in. */
    assert_int_equal(ring_pnode_count(r), 2);
    assert_string_equal(ring_pnode_name(r, 0), P1);
    assert_string_equal(ring_pnode_name(r, 1), P2);
    for (v = 0; v < 5; v++) {
        ring_vnode_node(r, v, &node);
        assert_int_equal(node.vnode, v);
        assert_string_equal(node.name, v % 2 ? P2 : P1);
        assert_int_equal(node.flags, 0);
    }
    assert_int_equal(ring_pnode_vnode_count(r, 0), 3);
    assert_int_equal(ring_pnode_vnode_count(r, 1), 2);
    assert_int_equal(ring_generation(r), 0);
    assert_string_equal(ring_version(r), RING_VERSION);
    ring_free(r);

    assert_null(ring_new(RING_HASH_XXH3, 10, dup, 0, err));
    assert_err_has(err, "at least one pnode");
    assert_null(ring_new(RING_HASH_XXH3, 0, dup, 1, err));
    assert_err_has(err, "vnode count 0 out of range (1 to 10000000)");
    assert_null(ring_new(RING_HASH_XXH3, RING_MAX_VNODES + 1, dup, 1, err));
    assert_err_has(err, "vnode count 10000001 out of range");
    assert_null(ring_new(RING_HASH_XXH3, 10, dup, 3, err));
    assert_err_has(err, "pnode names must be distinct");
    assert_null(ring_new(RING_HASH_XXH3, 10, bad, 2, err));
    assert_err_has(err, "ends in /<digits>");
}

static void t_pnode_names(void **state)
{
    static const struct {
        const char *name;
        const char *want;
    } bad[] = {
        {"", "pnode name must be 1 to 1024 bytes"},
        {"a,b", "contains a comma or control character"},
        {"tcp://h:1,tcp://h:2", "contains a comma"},
        {"a\tb", "control character"},
        {"a\nb", "control character"},
        {"a\177b", "control character"},
        {"tcp://h:1/12", "ends in /<digits>"},
        {"x/0", "ends in /<digits>"},
    };
    static const char *const good[] = {"x", "tcp://h:1/", "tcp://h:1/x1", "tcp://[::1]:7001", "b\303\251"};
    char err[RING_ERRLEN] = "", longname[1100];
    ring_t *r = two_pnodes(4);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (ring_add_pnode(r, bad[i].name, err) != -1)
            fail_msg("'%s' was accepted", bad[i].name);
        assert_err_has(err, bad[i].want);
        assert_int_equal(ring_pnode_count(r), 2);
    }
    memset(longname, 'a', 1025);
    longname[1025] = '\0';
    assert_int_equal(ring_add_pnode(r, longname, err), -1);
    assert_err_has(err, "1 to 1024 bytes");
    longname[1024] = '\0';
    assert_true(ring_add_pnode(r, longname, err) >= 0);
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        long idx = ring_add_pnode(r, good[i], err);
        assert_true(idx >= 0);
        assert_string_equal(ring_pnode_name(r, (size_t)idx), good[i]);
        assert_int_equal(ring_pnode_find(r, good[i]), idx);
    }
    assert_int_equal(ring_pnode_count(r), 8);
    ring_free(r);
}

/* A pnode that sorts first shifts the others' indices; every vnode keeps
 * its pnode by name. Adding a name twice returns the same index. */
static void t_add_pnode(void **state)
{
    char err[RING_ERRLEN] = "";
    ring_t *r = two_pnodes(6);
    ring_node_t node;
    uint32_t v;

    (void)state;
    assert_int_equal(ring_add_pnode(r, "tcp://127.0.0.1:7000", err), 0);
    assert_int_equal(ring_add_pnode(r, "tcp://127.0.0.1:7000", err), 0);
    assert_int_equal(ring_add_pnode(r, P2, err), 2);
    assert_int_equal(ring_pnode_count(r), 3);
    assert_int_equal(ring_pnode_vnode_count(r, 0), 0);
    assert_int_equal(ring_pnode_vnode_count(r, 1), 3);
    for (v = 0; v < 6; v++) {
        ring_vnode_node(r, v, &node);
        assert_string_equal(node.name, v % 2 ? P2 : P1);
        assert_int_equal(node.pnode, v % 2 ? 2 : 1);
    }
    assert_int_equal(ring_pnode_find(r, P3), -1);
    ring_free(r);
}

static void t_remove_pnode(void **state)
{
    char err[RING_ERRLEN] = "";
    ring_t *r = two_pnodes(10);
    long p3;
    uint32_t v;

    (void)state;
    assert_int_equal(ring_remove_pnode(r, P1, err), -1);
    assert_err_has(err, "pnode '" P1 "' still owns 5 vnodes");
    assert_int_equal(ring_remove_pnode(r, P3, err), -1);
    assert_err_has(err, "pnode '" P3 "' is not in the ring");
    p3 = ring_add_pnode(r, P3, err);
    assert_int_equal(p3, 2);
    for (v = 0; v < 10; v += 2)
        ring_set_vnode_pnode(r, v, (uint32_t)p3);
    assert_int_equal(ring_pnode_vnode_count(r, 0), 0);
    assert_int_equal(ring_pnode_vnode_count(r, 2), 5);
    assert_int_equal(ring_remove_pnode(r, P1, err), 0);
    assert_int_equal(ring_pnode_count(r), 2);
    assert_int_equal(ring_pnode_find(r, P1), -1);
    for (v = 0; v < 10; v++) {
        ring_node_t node;
        ring_vnode_node(r, v, &node);
        assert_string_equal(node.name, v % 2 ? P2 : P3);
    }
    ring_free(r);

    r = two_pnodes(1);
    assert_int_equal(ring_remove_pnode(r, P2, err), 0);
    assert_int_equal(ring_remove_pnode(r, P1, err), -1);
    assert_err_has(err, "still owns 1 vnodes");
    ring_free(r);
}

static void t_rename_pnode(void **state)
{
    char err[RING_ERRLEN] = "";
    ring_t *r = two_pnodes(6);
    uint32_t v;

    (void)state;
    assert_int_equal(ring_set_vnode_data(r, 2, "ro", err), 0);
    assert_int_equal(ring_rename_pnode(r, P1, P2, err), -1);
    assert_err_has(err, "pnode '" P2 "' is already in the ring");
    assert_int_equal(ring_rename_pnode(r, P3, "tcp://h:1", err), -1);
    assert_err_has(err, "pnode '" P3 "' is not in the ring");
    assert_int_equal(ring_rename_pnode(r, P1, "a,b", err), -1);
    assert_err_has(err, "comma");
    assert_int_equal(ring_pnode_count(r), 2);

    /* The new name sorts last: vnodes, counts and data follow it. */
    assert_int_equal(ring_rename_pnode(r, P1, P3, err), 0);
    assert_int_equal(ring_pnode_count(r), 2);
    assert_string_equal(ring_pnode_name(r, 0), P2);
    assert_string_equal(ring_pnode_name(r, 1), P3);
    assert_int_equal(ring_pnode_vnode_count(r, 0), 3);
    assert_int_equal(ring_pnode_vnode_count(r, 1), 3);
    for (v = 0; v < 6; v++) {
        ring_node_t node;
        ring_vnode_node(r, v, &node);
        assert_string_equal(node.name, v % 2 ? P2 : P3);
    }
    assert_string_equal(ring_vnode_data(r, 2), "ro");
    assert_int_equal(ring_ro_count(r), 1);
    ring_free(r);
}

static void t_vnode_data(void **state)
{
    char err[RING_ERRLEN] = "", big[1100];
    ring_t *r = two_pnodes(10), *c;
    ring_node_t node;
    uint32_t *list;
    size_t n;

    (void)state;
    assert_int_equal(ring_data_count(r), 0);
    assert_null(ring_vnode_data(r, 3));
    list = ring_data_vnodes(r, &n);
    assert_non_null(list);
    assert_int_equal(n, 0);
    free(list);

    assert_int_equal(ring_set_vnode_data(r, 3, "ro", err), 0);
    assert_int_equal(ring_data_count(r), 1);
    assert_int_equal(ring_ro_count(r), 1);
    ring_vnode_node(r, 3, &node);
    assert_int_equal(node.flags, RING_VNODE_RO | RING_VNODE_DATA);
    assert_int_equal(ring_set_vnode_data(r, 3, "ro", err), 0);
    assert_int_equal(ring_data_count(r), 1);
    assert_int_equal(ring_ro_count(r), 1);

    /* Other strings are data but not ro. */
    assert_int_equal(ring_set_vnode_data(r, 3, "moving", err), 0);
    assert_int_equal(ring_data_count(r), 1);
    assert_int_equal(ring_ro_count(r), 0);
    ring_vnode_node(r, 3, &node);
    assert_int_equal(node.flags, RING_VNODE_DATA);
    assert_string_equal(ring_vnode_data(r, 3), "moving");
    assert_int_equal(ring_set_vnode_data(r, 9, "ro", err), 0);
    assert_int_equal(ring_set_vnode_data(r, 0, "RO", err), 0);
    assert_int_equal(ring_data_count(r), 3);
    assert_int_equal(ring_ro_count(r), 1);
    list = ring_data_vnodes(r, &n);
    assert_int_equal(n, 3);
    assert_int_equal(list[0], 0);
    assert_int_equal(list[1], 3);
    assert_int_equal(list[2], 9);
    free(list);

    /* A clone has its own copy. */
    c = ring_clone(r, err);
    assert_non_null(c);
    assert_int_equal(ring_set_vnode_data(c, 9, NULL, err), 0);
    assert_int_equal(ring_ro_count(c), 0);
    assert_int_equal(ring_ro_count(r), 1);
    assert_string_equal(ring_vnode_data(r, 9), "ro");
    ring_free(c);

    /* Too long: refused, nothing changes. */
    memset(big, 'd', 1025);
    big[1025] = '\0';
    assert_int_equal(ring_set_vnode_data(r, 9, big, err), -1);
    assert_err_has(err, "at most 1024 bytes");
    assert_string_equal(ring_vnode_data(r, 9), "ro");
    assert_int_equal(ring_data_count(r), 3);

    /* The strings "null" and "1" are data, as fash add-data -d stores
     * them; only NULL (the JSON number 1 in an image) clears. */
    assert_int_equal(ring_set_vnode_data(r, 9, NULL, err), 0);
    assert_int_equal(ring_set_vnode_data(r, 3, "null", err), 0);
    assert_int_equal(ring_set_vnode_data(r, 0, "1", err), 0);
    assert_int_equal(ring_data_count(r), 2);
    assert_int_equal(ring_ro_count(r), 0);
    assert_string_equal(ring_vnode_data(r, 3), "null");
    assert_string_equal(ring_vnode_data(r, 0), "1");
    assert_int_equal(ring_set_vnode_data(r, 3, NULL, err), 0);
    assert_int_equal(ring_set_vnode_data(r, 0, NULL, err), 0);
    assert_int_equal(ring_data_count(r), 0);
    assert_null(ring_vnode_data(r, 3));
    ring_vnode_node(r, 9, &node);
    assert_int_equal(node.flags, 0);
    ring_free(r);
}

/* Moving a vnode keeps its data and moves the counts. */
static void t_set_vnode_pnode(void **state)
{
    char err[RING_ERRLEN] = "";
    ring_t *r = two_pnodes(4);
    ring_node_t node;

    (void)state;
    assert_int_equal(ring_set_vnode_data(r, 0, "ro", err), 0);
    ring_set_vnode_pnode(r, 0, 1);
    ring_vnode_node(r, 0, &node);
    assert_string_equal(node.name, P2);
    assert_int_equal(node.flags, RING_VNODE_RO | RING_VNODE_DATA);
    assert_int_equal(ring_pnode_vnode_count(r, 0), 1);
    assert_int_equal(ring_pnode_vnode_count(r, 1), 3);
    ring_free(r);
}

static void t_generation(void **state)
{
    ring_t *r = two_pnodes(2);

    (void)state;
    ring_set_generation(r, 41);
    assert_int_equal(ring_generation(r), 41);
    ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_algorithms),
        cmocka_unit_test(t_new),
        cmocka_unit_test(t_pnode_names),
        cmocka_unit_test(t_add_pnode),
        cmocka_unit_test(t_remove_pnode),
        cmocka_unit_test(t_rename_pnode),
        cmocka_unit_test(t_vnode_data),
        cmocka_unit_test(t_set_vnode_pnode),
        cmocka_unit_test(t_generation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
