/*
 * checksum.c - the content checksum of a ring (checksum.h).
 */
#include <string.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "checksum.h"
#include "ring_int.h"

#define CHECKSUM_CHUNK 4096

static void checksum_u32(XXH3_state_t *st, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    XXH3_64bits_update(st, b, sizeof(b));
}

uint64_t ring_content_checksum(const ring_t *r)
{
    XXH3_state_t st;
    unsigned char buf[CHECKSUM_CHUNK * 4];

    XXH3_64bits_reset(&st);
    checksum_u32(&st, (uint32_t)r->algo);
    checksum_u32(&st, r->nvnodes);
    checksum_u32(&st, (uint32_t)r->npnodes);
    for (size_t i = 0; i < r->npnodes; i++)
        XXH3_64bits_update(&st, r->pnodes[i], strlen(r->pnodes[i]) + 1);
    /* Big-endian in chunks: the same sum on any host, at memory speed. */
    for (uint32_t v = 0; v < r->nvnodes;) {
        size_t n = 0;
        for (; n < CHECKSUM_CHUNK && v < r->nvnodes; n++, v++) {
            uint32_t p = r->vnode_pnode[v];
            buf[4 * n] = (unsigned char)(p >> 24);
            buf[4 * n + 1] = (unsigned char)(p >> 16);
            buf[4 * n + 2] = (unsigned char)(p >> 8);
            buf[4 * n + 3] = (unsigned char)p;
        }
        XXH3_64bits_update(&st, buf, 4 * n);
    }
    for (uint32_t v = 0; r->vnode_data != NULL && v < r->nvnodes; v++) {
        if (r->vnode_data[v] != NULL) {
            checksum_u32(&st, v);
            XXH3_64bits_update(&st, r->vnode_data[v], strlen(r->vnode_data[v]) + 1);
        }
    }
    return XXH3_64bits_digest(&st);
}
