/*
 * mkring.c - a test helper built on the ring library, for what ring-tool
 * will not do (tests/proxytest.py runs it):
 *   mkring create DIR VNODES PNODE...   a new xxh3 ring, round-robin, with
 *                                       pnode names ring-tool would refuse
 *   mkring hold DIR SECONDS             keep the image open (locked)
 *   mkring fash-remap DIR VNODE PNODE   move a vnode to a pnode already in
 *                                       the ring and leave the generation
 *                                       as it was, as fash's remap-vnode
 *                                       does
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <leveldb/c.h>

#include "ring.h"

#define MKRING_GEN_KEY "RINGPROXY_GENERATION"

/* The raw generation value (malloc'd, NULL when absent) or, with val set,
 * puts it back (deleting the key for NULL). */
static int mkring_generation(const char *dir, char **val, size_t *len, int restore)
{
    char *lerr = NULL;
    leveldb_options_t *o = leveldb_options_create();
    leveldb_t *db = leveldb_open(o, dir, &lerr);
    int rc = -1;

    if (db != NULL) {
        if (!restore) {
            leveldb_readoptions_t *ro = leveldb_readoptions_create();
            *val = leveldb_get(db, ro, MKRING_GEN_KEY, strlen(MKRING_GEN_KEY), len, &lerr);
            leveldb_readoptions_destroy(ro);
        } else {
            leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
            leveldb_writeoptions_set_sync(wo, 1);
            if (*val != NULL)
                leveldb_put(db, wo, MKRING_GEN_KEY, strlen(MKRING_GEN_KEY), *val, *len, &lerr);
            else
                leveldb_delete(db, wo, MKRING_GEN_KEY, strlen(MKRING_GEN_KEY), &lerr);
            leveldb_writeoptions_destroy(wo);
        }
        leveldb_close(db);
    }
    leveldb_options_destroy(o);
    if (lerr == NULL)
        rc = 0;
    else
        fprintf(stderr, "mkring: %s: %s\n", dir, lerr);
    leveldb_free(lerr);
    return rc;
}

static int mkring_fash_remap(const char *dir, uint32_t v, const char *pnode)
{
    char err[RING_ERRLEN];
    char *gen = NULL;
    size_t genlen = 0;
    ring_image_t *img = NULL;
    ring_t *old = NULL, *nw = NULL;
    long p;
    int rc = -1;

    if (mkring_generation(dir, &gen, &genlen, 0) < 0)
        return 1;
    if (ring_image_open(dir, 0, &img, err) < 0 || ring_image_read(img, &old, err) < 0 ||
        (nw = ring_clone(old, err)) == NULL)
        goto out;
    if ((p = ring_pnode_find(nw, pnode)) < 0 || v >= ring_vnode_count(nw)) {
        snprintf(err, sizeof(err), "no pnode %s or vnode %u in the ring", pnode, v);
        goto out;
    }
    ring_set_vnode_pnode(nw, v, (uint32_t)p);
    rc = ring_image_commit(img, old, nw, err);
out:
    if (rc < 0)
        fprintf(stderr, "mkring: %s\n", err);
    ring_image_close(img);
    ring_free(old);
    ring_free(nw);
    if (rc == 0)
        rc = mkring_generation(dir, &gen, &genlen, 1);
    leveldb_free(gen);
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    char err[RING_ERRLEN];
    if (argc >= 5 && strcmp(argv[1], "create") == 0) {
        ring_image_t *img;
        ring_t *r = ring_new(RING_HASH_XXH3, (uint32_t)strtoul(argv[3], NULL, 10),
                             (const char *const *)argv + 4, (size_t)(argc - 4), err);
        if (r == NULL)
            goto fail;
        if (ring_image_open(argv[2], 1, &img, err) < 0) {
            ring_free(r);
            goto fail;
        }
        int rc = ring_image_commit(img, NULL, r, err);
        ring_image_close(img);
        ring_free(r);
        if (rc < 0)
            goto fail;
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "hold") == 0) {
        ring_image_t *img;
        if (ring_image_open(argv[2], 0, &img, err) < 0)
            goto fail;
        printf("held\n");
        fflush(stdout);
        sleep((unsigned)strtoul(argv[3], NULL, 10));
        ring_image_close(img);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "fash-remap") == 0)
        return mkring_fash_remap(argv[2], (uint32_t)strtoul(argv[3], NULL, 10), argv[4]);
    fprintf(stderr, "usage: mkring create DIR VNODES PNODE... | hold DIR SECONDS |"
                    " fash-remap DIR VNODE PNODE\n");
    return 2;
fail:
    fprintf(stderr, "mkring: %s\n", err);
    return 1;
}
