/*
 * test_ring_fixture.c - a real node-fash ring (tests/fixtures/fash-ring-1m:
 * 1,000,000 vnodes, sha256, two pnodes) loads, and keys land where node-fash
 * puts them. The expected vnodes were made without ring/'s code by
 * tests/vectors/gen_vectors.py (hashlib sha256, Python big-integer division
 * by floor((2^256 - 1) / 10^6)); fash create assigns vnode v to
 * sorted_pnodes[v % 2]. The fixture is opened only in a private copy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <leveldb/c.h>

#include "ring.h"
#include "tmpdir.h"

#define FIXTURE_N 1000000u
#define PNODE_30 "tcp://172.20.1.30:2020"
#define PNODE_31 "tcp://172.20.1.31:2020"

typedef struct {
    const char *key;
    size_t len;
    uint32_t vnode;
    const char *pnode;
} fixture_vec_t;

/* gen_vectors.py: fixture, sha256, N = 1000000, interval 10c6f7a0b5ed8d36b4c7f34938583621fafc8b0079a2834d26fa3fcc9ea9 */
static const fixture_vec_t fixture_vecs[] = {
    {"", 0, 889415, "tcp://172.20.1.31:2020"},
    {"a", 1, 791374, "tcp://172.20.1.30:2020"},
    {"hello", 5, 175572, "tcp://172.20.1.30:2020"},
    {"user:1000", 9, 558662, "tcp://172.20.1.30:2020"},
    {"0123456789abcdef", 16, 623524, "tcp://172.20.1.30:2020"},
    {"a\000b\000\377\376", 6, 33449, "tcp://172.20.1.31:2020"},
    {"\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 980671, "tcp://172.20.1.31:2020"},
    {"manta/0", 7, 332184, "tcp://172.20.1.30:2020"},
    {"manta/1", 7, 472642, "tcp://172.20.1.30:2020"},
    {"manta/2", 7, 494392, "tcp://172.20.1.30:2020"},
    {"manta/3", 7, 776085, "tcp://172.20.1.31:2020"},
    {"manta/4", 7, 191615, "tcp://172.20.1.31:2020"},
    {"manta/5", 7, 339753, "tcp://172.20.1.31:2020"},
    {"manta/6", 7, 553058, "tcp://172.20.1.30:2020"},
    {"manta/7", 7, 845617, "tcp://172.20.1.31:2020"},
    {"manta/8", 7, 204702, "tcp://172.20.1.30:2020"},
    {"manta/9", 7, 538236, "tcp://172.20.1.30:2020"},
    {"/00000000000000000000000000000001", 33, 922591, "tcp://172.20.1.31:2020"},
    {"/00000000000000000000000000000002", 33, 341085, "tcp://172.20.1.31:2020"},
    {"key:282236", 10, 0, "tcp://172.20.1.30:2020"},
    {"key:1236547", 11, 999999, "tcp://172.20.1.31:2020"},
};

typedef struct {
    char *dir;
    ring_t *ring;
} fixture_t;

static int setup(void **state)
{
    char err[RING_ERRLEN] = "";
    fixture_t *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    *state = f;
    f->dir = tmpdir_fixture_copy("fash-ring-1m", err);
    if (f->dir == NULL) {
        print_error("%s\n", err);
        return -1;
    }
    if (ring_load(f->dir, &f->ring, err) < 0) {
        print_error("ring_load %s: %s\n", f->dir, err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    if (f == NULL)
        return 0;
    ring_free(f->ring);
    if (f->dir != NULL)
        tmpdir_remove(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void t_shape(void **state)
{
    const fixture_t *f = *state;
    const ring_t *r = f->ring;
    char hex[72];

    assert_int_equal(ring_vnode_count(r), FIXTURE_N);
    assert_int_equal(ring_algo(r), RING_HASH_SHA256);
    assert_int_equal(ring_generation(r), 0);
    assert_string_equal(ring_version(r), RING_VERSION);
    ring_interval_hex(r, hex, sizeof(hex));
    assert_string_equal(hex, "10c6f7a0b5ed8d36b4c7f34938583621fafc8b0079a2834d26fa3fcc9ea9");
    assert_int_equal(ring_pnode_count(r), 2);
    assert_string_equal(ring_pnode_name(r, 0), PNODE_30);
    assert_string_equal(ring_pnode_name(r, 1), PNODE_31);
    assert_int_equal(ring_pnode_vnode_count(r, 0), 500000);
    assert_int_equal(ring_pnode_vnode_count(r, 1), 500000);
    assert_int_equal(ring_data_count(r), 0);
    assert_int_equal(ring_ro_count(r), 0);
}

static void t_round_robin(void **state)
{
    const fixture_t *f = *state;
    ring_node_t node;
    uint32_t v;

    for (v = 0; v < FIXTURE_N; v++) {
        ring_vnode_node(f->ring, v, &node);
        if (node.pnode != v % 2)
            fail_msg("vnode %u is on %s, want pnode %u", v, node.name, v % 2);
        assert_int_equal(node.flags, 0);
        assert_null(ring_vnode_data(f->ring, v));
    }
}

static void t_keys(void **state)
{
    const fixture_t *f = *state;
    size_t i;

    for (i = 0; i < sizeof(fixture_vecs) / sizeof(fixture_vecs[0]); i++) {
        const fixture_vec_t *v = &fixture_vecs[i];
        ring_node_t node;
        ring_lookup(f->ring, v->key, v->len, &node);
        if (node.vnode != v->vnode)
            fail_msg("key #%zu (%zu bytes): vnode %u, want %u", i, v->len, node.vnode, v->vnode);
        assert_string_equal(node.name, v->pnode);
    }
}

/* The fixture has no /PNODE/<p> list for its second pnode (node-fash's
 * create returns before writing it): tolerated. A list that is there but
 * wrong is refused. */
static void t_wrong_list(void **state)
{
    const fixture_t *f = *state;
    const char *key = "/PNODE/" PNODE_31;
    char err[RING_ERRLEN] = "", *lerr = NULL;
    leveldb_options_t *opts = leveldb_options_create();
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_t *db;
    ring_t *r = NULL;
    size_t len;
    char *val;

    db = leveldb_open(opts, f->dir, &lerr);
    assert_null(lerr);
    val = leveldb_get(db, ro, key, strlen(key), &len, &lerr);
    assert_null(lerr);
    assert_null(val);
    leveldb_put(db, wo, key, strlen(key), "[1]", 3, &lerr);
    assert_null(lerr);
    leveldb_close(db);

    assert_int_equal(ring_load(f->dir, &r, err), -1);
    assert_null(r);
    assert_non_null(strstr(err, "/PNODE/" PNODE_31 " list disagrees with /VNODE/3"));

    db = leveldb_open(opts, f->dir, &lerr);
    assert_null(lerr);
    leveldb_delete(db, wo, key, strlen(key), &lerr);
    assert_null(lerr);
    leveldb_close(db);
    leveldb_options_destroy(opts);
    leveldb_writeoptions_destroy(wo);
    leveldb_readoptions_destroy(ro);

    assert_int_equal(ring_load(f->dir, &r, err), 0);
    assert_int_equal(ring_vnode_count(r), FIXTURE_N);
    ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_shape),
        cmocka_unit_test(t_round_robin),
        cmocka_unit_test(t_keys),
        cmocka_unit_test(t_wrong_list),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
