/*
 * ring-bench.c - the ring library's speed figures, next to the targets of
 * issue 2: load and validate the real 1,000,000-vnode fash ring, create a
 * 1,000,000-vnode ring through the library's create path, and look keys up
 * with each algorithm. Prints numbers; asserts nothing.
 *
 *   make bench-ring       (or: top_srcdir=SRCDIR tools/ring-bench)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring.h"
#include "tmpdir.h"

#define RUNS 3
#define LOOKUPS 2000000u
#define NKEYS 4096u /* distinct 16-byte keys, cycled */
#define KEYLEN 16

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double best_load(const char *dir, char *err)
{
    double best = -1;
    int i;

    for (i = 0; i < RUNS; i++) {
        ring_t *r = NULL;
        double t = now();
        if (ring_load(dir, &r, err) < 0)
            return -1;
        t = now() - t;
        ring_free(r);
        if (best < 0 || t < best)
            best = t;
    }
    return best;
}

/* ring_new + a new image + one commit, as `ring-tool create` does. */
static double best_create(const char *tmp, char *err)
{
    static const char *const pnodes[] = {"tcp://127.0.0.1:7001", "tcp://127.0.0.1:7002", "tcp://127.0.0.1:7003"};
    double best = -1;
    int i;

    for (i = 0; i < RUNS; i++) {
        char dir[4096];
        ring_image_t *img = NULL;
        ring_t *r;
        double t;
        snprintf(dir, sizeof(dir), "%s/create%d", tmp, i);
        t = now();
        r = ring_new(RING_HASH_XXH3, 1000000, pnodes, 3, err);
        if (r == NULL || ring_image_open(dir, 1, &img, err) < 0 || ring_image_commit(img, NULL, r, err) < 0) {
            ring_image_close(img);
            ring_free(r);
            return -1;
        }
        ring_image_close(img);
        t = now() - t;
        ring_free(r);
        tmpdir_remove(dir);
        if (best < 0 || t < best)
            best = t;
    }
    return best;
}

/* Best of RUNS passes of LOOKUPS lookups; ns per key. */
static double lookup_ns(const ring_t *r, const unsigned char *keys)
{
    double best = -1;
    uint64_t sink = 0;
    int i;

    for (i = 0; i < RUNS; i++) {
        double t = now();
        uint32_t k;
        for (k = 0; k < LOOKUPS; k++) {
            ring_node_t node;
            ring_lookup(r, keys + (size_t)(k % NKEYS) * KEYLEN, KEYLEN, &node);
            sink += node.vnode + node.pnode + node.flags;
        }
        t = now() - t;
        if (best < 0 || t < best)
            best = t;
    }
    /* Keeps the loop from being optimised away. */
    if (sink == 1)
        fputc('\n', stderr);
    return best * 1e9 / LOOKUPS;
}

static int bench_lookups(char *err)
{
    static const ring_algo_t algos[] = {RING_HASH_XXH3, RING_HASH_SHA256, RING_HASH_SHA1, RING_HASH_MD5};
    static const double target[] = {50, 300, 0, 0};
    static const uint32_t sizes[] = {1024, 1000000};
    static const char *const pnodes[] = {"tcp://127.0.0.1:7001", "tcp://127.0.0.1:7002"};
    unsigned char *keys = malloc((size_t)NKEYS * KEYLEN);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t i, a, s;

    if (keys == NULL) {
        snprintf(err, RING_ERRLEN, "out of memory");
        return -1;
    }
    for (i = 0; i < (size_t)NKEYS * KEYLEN; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17; /* xorshift: fixed keys */
        keys[i] = (unsigned char)x;
    }
    for (s = 0; s < 2; s++) {
        for (a = 0; a < 4; a++) {
            ring_t *r = ring_new(algos[a], sizes[s], pnodes, 2, err);
            double ns;
            if (r == NULL) {
                free(keys);
                return -1;
            }
            ns = lookup_ns(r, keys);
            if (target[a] > 0)
                printf("lookup %-6s %7u vnodes   %8.1f ns/key   (target < %.0f ns)\n", ring_algo_name(algos[a]),
                       sizes[s], ns, target[a]);
            else
                printf("lookup %-6s %7u vnodes   %8.1f ns/key\n", ring_algo_name(algos[a]), sizes[s], ns);
            ring_free(r);
        }
    }
    free(keys);
    return 0;
}

int main(void)
{
    char err[RING_ERRLEN] = "";
    char *fixture, *tmp;
    double t;
    int rc = 1;

    printf("ring-bench: best of %d; lookups of %u-byte keys, %u per pass\n", RUNS, KEYLEN, LOOKUPS);
#ifdef __SANITIZE_ADDRESS__
    printf("ring-bench: built with sanitizers: these figures are not the library's\n");
#endif
    fixture = tmpdir_fixture_copy("fash-ring-1m", err);
    if (fixture == NULL) {
        fprintf(stderr, "ring-bench: %s\n", err);
        return 1;
    }
    tmp = tmpdir_new();
    if (tmp == NULL) {
        fprintf(stderr, "ring-bench: cannot make a temporary directory\n");
        goto out;
    }
    t = best_load(fixture, err);
    if (t < 0) {
        fprintf(stderr, "ring-bench: loading the fixture: %s\n", err);
        goto out;
    }
    printf("load+validate fash-ring-1m (1000000 vnodes, sha256)   %6.3f s   (target < 1 s)\n", t);
    t = best_create(tmp, err);
    if (t < 0) {
        fprintf(stderr, "ring-bench: creating a ring: %s\n", err);
        goto out;
    }
    printf("create 1000000-vnode ring (ring_new + image commit)   %6.3f s   (target < 3 s)\n", t);
    if (bench_lookups(err) < 0) {
        fprintf(stderr, "ring-bench: %s\n", err);
        goto out;
    }
    rc = 0;
out:
    tmpdir_remove(fixture);
    free(fixture);
    if (tmp != NULL)
        tmpdir_remove(tmp);
    free(tmp);
    return rc;
}
