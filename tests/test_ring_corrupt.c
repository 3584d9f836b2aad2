/*
 * test_ring_corrupt.c - every kind of broken image is refused with a
 * message that names the problem. Each case starts from a good image
 * (sha256, 16 vnodes, P1 owns the even vnodes and P2 the odd ones, vnode 4
 * is "ro") and deletes or overwrites keys with LevelDB's C API directly.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <leveldb/c.h>

#include "ring_test.h"
#include "tmpdir.h"

#define P1 RING_TEST_P1
#define P2 RING_TEST_P2
#define F16 "FFFFFFFFFFFFFFFF"
#define F15 "fffffffffffffff"
#define MAX64 F16 F16 F16 F16
/* floor((2^256 - 1) / 16): 63 f's, written lower-case in whole bytes. */
#define IV16 "0" F15 "ffffffffffffffff" "ffffffffffffffff" "ffffffffffffffff"
#define ALG(name, max, iv) "{\"NAME\":\"" name "\",\"MAX\":\"" max "\",\"VNODE_HASH_INTERVAL\":\"" iv "\"}"

typedef struct {
    const char *key;
    const char *val; /* NULL deletes the key */
} op_t;

typedef struct {
    const char *what;
    op_t ops[2];
    const char *want; /* in the error message */
} corrupt_t;

static const corrupt_t cases[] = {
    {"COMPLETE missing", {{"COMPLETE", NULL}}, "COMPLETE is missing"},
    {"COMPLETE not 1", {{"COMPLETE", "true"}}, "value of COMPLETE is not 1"},
    {"VNODE_COUNT missing", {{"VNODE_COUNT", NULL}}, "no VNODE_COUNT"},
    {"VNODE_COUNT zero", {{"VNODE_COUNT", "0"}}, "VNODE_COUNT 0 is out of range"},
    {"VNODE_COUNT too big", {{"VNODE_COUNT", "10000001"}}, "VNODE_COUNT 10000001 is out of range"},
    {"VNODE_COUNT junk", {{"VNODE_COUNT", "16x"}}, "value of VNODE_COUNT is not"},
    {"VNODE_COUNT a string", {{"VNODE_COUNT", "\"16\""}}, "value of VNODE_COUNT is not"},
    {"VNODE_COUNT changed", {{"VNODE_COUNT", "17"}},
     "VNODE_HASH_INTERVAL " IV16 " disagrees with MAX / VNODE_COUNT"},
    {"interval wrong", {{"ALGORITHM", ALG("sha256", MAX64, F15 F16 F16 "0fffffffffffffff")}},
     "disagrees with MAX / VNODE_COUNT = " IV16},
    {"interval not hex", {{"ALGORITHM", ALG("sha256", MAX64, "xyz")}}, "VNODE_HASH_INTERVAL xyz disagrees"},
    {"MAX wrong", {{"ALGORITHM", ALG("sha256", F15 F16 F16 F16, IV16)}}, "is not the largest sha256 value"},
    {"MAX of another hash", {{"ALGORITHM", ALG("sha256", F16 F16, IV16)}}, "is not the largest sha256 value"},
    {"unknown algorithm", {{"ALGORITHM", ALG("sha512", MAX64, IV16)}}, "unknown hash algorithm 'sha512'"},
    {"ALGORITHM cut short", {{"ALGORITHM", "{\"NAME\":\"sha256\","}}, "value of ALGORITHM is not a JSON object"},
    {"ALGORITHM an array", {{"ALGORITHM", "[\"sha256\"]"}}, "value of ALGORITHM is not a JSON object"},
    {"ALGORITHM without NAME", {{"ALGORITHM", "{\"MAX\":\"" MAX64 "\",\"VNODE_HASH_INTERVAL\":\"" IV16 "\"}"}},
     "ALGORITHM lacks NAME"},
    {"ALGORITHM missing", {{"ALGORITHM", NULL}}, "no ALGORITHM"},
    {"VERSION not JSON", {{"VERSION", "2.1.0"}}, "value of VERSION is not a JSON string"},
    {"generation negative", {{"RINGPROXY_GENERATION", "-1"}}, "value of RINGPROXY_GENERATION is not"},
    {"/PNODE missing", {{"/PNODE", NULL}}, "no /PNODE list"},
    {"/PNODE cut short", {{"/PNODE", "[\"" P1 "\","}}, "value of /PNODE is not a JSON array of strings"},
    {"/PNODE of numbers", {{"/PNODE", "[1,2]"}}, "value of /PNODE is not a JSON array of strings"},
    {"/PNODE empty", {{"/PNODE", "[]"}}, "/PNODE is empty"},
    {"/PNODE twice", {{"/PNODE", "[\"" P1 "\",\"" P2 "\",\"" P1 "\"]"}}, "/PNODE names pnode '" P1 "' twice"},
    {"vnode without pnode", {{"/VNODE/5", NULL}}, "vnode 5 has no pnode (/VNODE/5 is missing)"},
    {"vnode on unknown pnode", {{"/VNODE/7", "\"tcp://10.0.0.1:1\""}},
     "/VNODE/7 names a pnode that is not in /PNODE: \"tcp://10.0.0.1:1\""},
    {"vnode not JSON", {{"/VNODE/2", P1}}, "value of /VNODE/2 is not a JSON string"},
    {"vnode out of range", {{"/VNODE/16", "\"" P1 "\""}}, "key /VNODE/16 is not a vnode in range"},
    {"vnode key not a number", {{"/VNODE/x", "\"" P1 "\""}}, "key /VNODE/x is not a vnode in range"},
    {"vnode moved, list not", {{"/VNODE/3", "\"" P1 "\""}}, "/PNODE/" P1 " list disagrees with /VNODE/3"},
    {"list lacks a vnode", {{"/PNODE/" P1, "[0,2,4,6,8,10,12]"}},
     "/PNODE/" P1 " list disagrees with /VNODE/14: vnode 14 is in no pnode's list"},
    {"list has another's vnode", {{"/PNODE/" P1, "[0,1,2,4,6,8,10,12,14]"}},
     "vnode 1 is listed by /PNODE/" P1 " and by /PNODE/" P2},
    {"lists swapped", {{"/PNODE/" P1, "[1,3,5,7,9,11,13,15]"}, {"/PNODE/" P2, "[0,2,4,6,8,10,12,14]"}},
     "/PNODE/" P1 " list disagrees with /VNODE/0: vnode 0 is in another pnode's list"},
    {"list cut short", {{"/PNODE/" P1, "[0,2,"}}, "value of /PNODE/" P1 " is not a JSON array of vnodes"},
    {"list out of range", {{"/PNODE/" P1, "[0,2,4,6,8,10,12,14,16]"}}, "/PNODE/" P1 " lists vnode 16, out of range"},
    {"data key missing", {{"/PNODE/" P2 "/7", NULL}}, "vnode 7 of pnode " P2 " has no data key /PNODE/" P2 "/7"},
    {"data key on two pnodes", {{"/PNODE/" P1 "/7", "1"}},
     "vnode 7 has data under /PNODE/" P1 " and under /PNODE/" P2},
    {"data under the wrong pnode", {{"/PNODE/" P2 "/7", NULL}, {"/PNODE/" P1 "/7", "1"}},
     "vnode 7 of pnode " P2 " has no data key"},
    {"data not JSON", {{"/PNODE/" P1 "/4", "ro"}}, "value of /PNODE/" P1 "/4 is not 1 or a JSON string"},
    {"data a number", {{"/PNODE/" P1 "/4", "2"}}, "value of /PNODE/" P1 "/4 is not 1 or a JSON string"},
    {"data of unknown pnode", {{"/PNODE/tcp://10.0.0.1:1/3", "1"}},
     "key /PNODE/tcp://10.0.0.1:1/3 names a pnode that is not in /PNODE"},
    {"data key out of range", {{"/PNODE/" P1 "/16", "1"}}, "key /PNODE/" P1 "/16 is not a vnode in range"},
    {"data not in VNODE_DATA", {{"/PNODE/" P1 "/6", "\"ro\""}},
     "VNODE_DATA disagrees with the data keys: vnode 6 has data but is not listed"},
    {"VNODE_DATA without data", {{"VNODE_DATA", "[4,9]"}},
     "VNODE_DATA disagrees with the data keys: vnode 9 is listed but has no data"},
    {"VNODE_DATA cut short", {{"VNODE_DATA", "[4,"}}, "value of VNODE_DATA is not a JSON array of vnodes"},
    {"VNODE_DATA out of range", {{"VNODE_DATA", "[4,99]"}}, "VNODE_DATA lists vnode 99, out of range"},
    /* Found by the fuzzer: an error quoting a name must stay one line. */
    {"pnode name with a newline", {{"/PNODE", "[\"" P1 "\",\"tcp://a\\nb:1\"]"}},
     "pnode name 'tcp://a?b:1' contains a comma or control character"},
};

/* The good image every case starts from, at tmp/<name>. */
static char *good_image(const ring_test_dir_t *s, const char *name)
{
    char err[RING_ERRLEN] = "", *path;
    ring_t *r = ring_test_new(RING_HASH_SHA256, 16, 2);

    assert_true(asprintf(&path, "%s/%s", s->tmp, name) > 0);
    if (ring_set_vnode_data(r, 4, "ro", err) < 0)
        fail_msg("ring_set_vnode_data: %s", err);
    ring_test_store(path, r);
    ring_free(r);
    return path;
}

static void apply(const char *path, const op_t *ops, size_t nops)
{
    leveldb_options_t *opts = leveldb_options_create();
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    char *lerr = NULL;
    leveldb_t *db = leveldb_open(opts, path, &lerr);
    size_t i;

    if (db == NULL)
        fail_msg("leveldb_open %s: %s", path, lerr);
    for (i = 0; i < nops && ops[i].key != NULL; i++) {
        if (ops[i].val == NULL)
            leveldb_delete(db, wo, ops[i].key, strlen(ops[i].key), &lerr);
        else
            leveldb_put(db, wo, ops[i].key, strlen(ops[i].key), ops[i].val, strlen(ops[i].val), &lerr);
        if (lerr != NULL)
            fail_msg("writing %s: %s", ops[i].key, lerr);
    }
    leveldb_close(db);
    leveldb_writeoptions_destroy(wo);
    leveldb_options_destroy(opts);
}

static void t_good_image(void **state)
{
    char err[RING_ERRLEN] = "", *path = good_image(*state, "good");
    ring_t *r = NULL;

    if (ring_load(path, &r, err) < 0)
        fail_msg("ring_load: %s", err);
    assert_int_equal(ring_vnode_count(r), 16);
    assert_int_equal(ring_ro_count(r), 1);
    assert_int_equal(ring_pnode_vnode_count(r, 0), 8);
    ring_free(r);
    free(path);
}

static void t_corrupt_images(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[32], err[RING_ERRLEN] = "", *path;
        ring_t *r = NULL;
        snprintf(name, sizeof(name), "case%zu", i);
        path = good_image(*state, name);
        apply(path, cases[i].ops, 2);
        if (ring_load(path, &r, err) != -1)
            fail_msg("%s: the image loaded", cases[i].what);
        assert_null(r);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("%s: error \"%s\" lacks \"%s\"", cases[i].what, err, cases[i].want);
        assert_null(strchr(err, '\n'));
        free(path);
    }
}

/* Loading a path that holds no ring says so and leaves nothing behind. */
static void t_no_image(void **state)
{
    const ring_test_dir_t *s = *state;
    char err[RING_ERRLEN] = "", *path, *file;
    struct stat st;
    ring_t *r = NULL;
    FILE *f;

    assert_true(asprintf(&path, "%s/missing", s->tmp) > 0);
    assert_int_equal(ring_load(path, &r, err), -1);
    assert_null(r);
    assert_err_has(err, "no ring image at");
    assert_int_equal(stat(path, &st), -1);
    free(path);

    /* An empty directory and one with a stranger's file. */
    assert_true(asprintf(&path, "%s/empty", s->tmp) > 0);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(ring_load(path, &r, err), -1);
    assert_err_has(err, "no ring image at");
    assert_true(asprintf(&file, "%s/notes.txt", path) > 0);
    f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(ring_load(path, &r, err), -1);
    assert_err_has(err, "no ring image at");
    free(file);

    /* A CURRENT that names no manifest is not a LevelDB. */
    assert_true(asprintf(&file, "%s/CURRENT", path) > 0);
    f = fopen(file, "w");
    assert_non_null(f);
    fputs("MANIFEST-000009\n", f);
    fclose(f);
    assert_int_equal(ring_load(path, &r, err), -1);
    assert_null(r);
    assert_err_has(err, "cannot open ring image");
    free(file);
    free(path);

    /* A regular file. */
    assert_true(asprintf(&path, "%s/empty/notes.txt", s->tmp) > 0);
    assert_int_equal(ring_load(path, &r, err), -1);
    assert_null(r);
    assert_err_has(err, path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_good_image, ring_test_dir_setup, ring_test_dir_teardown),
        cmocka_unit_test_setup_teardown(t_corrupt_images, ring_test_dir_setup, ring_test_dir_teardown),
        cmocka_unit_test_setup_teardown(t_no_image, ring_test_dir_setup, ring_test_dir_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
