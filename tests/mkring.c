/*
 * mkring.c - a test helper built on the ring library, for what ring-tool
 * will not do (tests/proxytest.py runs it):
 *   mkring create DIR VNODES PNODE...   a new xxh3 ring, round-robin, with
 *                                       pnode names ring-tool would refuse
 *   mkring hold DIR SECONDS             keep the image open (locked)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring.h"

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
    fprintf(stderr, "usage: mkring create DIR VNODES PNODE... | hold DIR SECONDS\n");
    return 2;
fail:
    fprintf(stderr, "mkring: %s\n", err);
    return 1;
}
