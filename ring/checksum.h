/*
 * checksum.h - a digest of what a ring routes by. The generation counts
 * only changes ring-tool stored; node-fash edits an image without bumping
 * it, so a ring's identity is its content: this checksum.
 */
#ifndef RING_CHECKSUM_H
#define RING_CHECKSUM_H

#include <stdint.h>

#include "ring.h"

/* XXH3-64 over the algorithm, vnode count, pnode names, each vnode's
 * pnode and data; never the generation. Equal rings give equal sums on
 * every host. */
uint64_t ring_content_checksum(const ring_t *r);

#endif
