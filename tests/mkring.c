/*
 * mkring.c - a test helper built on the ring library, so the proxy's tests
 * do not depend on ring-tool's CLI:
 *   mkring create DIR VNODES PNODE...   a new xxh3 ring, round-robin
 *   mkring ro DIR VNODE DATA            set a vnode's data ("null" clears)
 *   mkring remap DIR VNODE PNODE        move a vnode to a pnode
 *   mkring lookup DIR KEY...            print "vnode pnode" per key
 *   mkring hold DIR SECONDS             keep the image open (locked)
 *   mkring rename DIR FROM TO           rename a pnode
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring.h"

static int mkring_change(const char *dir, const char *what, const char *v, const char *arg, char *err)
{
    ring_image_t *img;
    ring_t *old, *nw;
    int rc = -1;
    if (ring_image_open(dir, 0, &img, err) < 0)
        return -1;
    if (ring_image_read(img, &old, err) < 0) {
        ring_image_close(img);
        return -1;
    }
    nw = ring_clone(old, err);
    if (nw != NULL) {
        uint32_t vn = (uint32_t)strtoul(v, NULL, 10);
        if (strcmp(what, "ro") == 0) {
            rc = ring_set_vnode_data(nw, vn, arg, err);
        } else if (strcmp(what, "rename") == 0) {
            rc = ring_rename_pnode(nw, v, arg, err);
        } else {
            long idx = ring_add_pnode(nw, arg, err);
            if (idx >= 0) {
                ring_set_vnode_pnode(nw, vn, (uint32_t)idx);
                rc = 0;
            }
        }
        if (rc == 0)
            rc = ring_image_commit(img, old, nw, err);
        ring_free(nw);
    }
    ring_free(old);
    ring_image_close(img);
    return rc;
}

int main(int argc, char **argv)
{
    char err[RING_ERRLEN];
    if (argc >= 5 && strcmp(argv[1], "create") == 0) {
        ring_image_t *img;
        ring_t *r = ring_new(RING_HASH_XXH3, (uint32_t)strtoul(argv[3], NULL, 10),
                             (const char *const *)argv + 4, (size_t)(argc - 4), err);
        if (r == NULL || ring_image_open(argv[2], 1, &img, err) < 0)
            goto fail;
        int rc = ring_image_commit(img, NULL, r, err);
        ring_image_close(img);
        ring_free(r);
        if (rc < 0)
            goto fail;
        return 0;
    }
    if (argc == 5 && (strcmp(argv[1], "ro") == 0 || strcmp(argv[1], "remap") == 0 ||
                      strcmp(argv[1], "rename") == 0)) {
        if (mkring_change(argv[2], argv[1], argv[3], argv[4], err) < 0)
            goto fail;
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "lookup") == 0) {
        ring_t *r;
        int tries = 0;
        /* A proxy reloading holds the image for a moment. */
        while (ring_load(argv[2], &r, err) < 0) {
            if (strstr(err, "locked") == NULL || ++tries == 40)
                goto fail;
            usleep(50000);
        }
        for (int i = 3; i < argc; i++) {
            ring_node_t n;
            ring_lookup(r, argv[i], strlen(argv[i]), &n);
            printf("%u %s\n", n.vnode, n.name);
        }
        ring_free(r);
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
    fprintf(stderr, "usage: mkring create DIR VNODES PNODE... | ro DIR V DATA | remap DIR V PNODE | lookup DIR KEY... | hold DIR SECONDS | rename DIR FROM TO\n");
    return 2;
fail:
    fprintf(stderr, "mkring: %s\n", err);
    return 1;
}
