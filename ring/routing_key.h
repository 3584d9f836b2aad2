/*
 * routing_key.h - the part of a key that is hashed to find its vnode. The
 * proxy routes by it and the reshard tool moves keys by it, so the rule
 * lives here once.
 */
#ifndef RING_ROUTING_KEY_H
#define RING_ROUTING_KEY_H

#include <stddef.h>

#define RING_ROUTE_HASH_TAGS 0x01 /* the inside of the first non-empty {...} */
#define RING_ROUTE_DIRNAME   0x02 /* electric-moray's "manta" bucket rule */

/* Sets *rk, *rklen to the bytes of key that are hashed under flags
 * (RING_ROUTE_*): with hash tags, the inside of the first non-empty {...};
 * else with dirname routing what electric-moray hashes for a Manta path:
 * the key itself for "/<uuid>/stor" (a lower-case uuid), else Node's
 * path.posix.dirname of the key, or the whole key when that is "."; else
 * the whole key. *rk always points into key. */
void ring_routing_key(const char *key, size_t len, unsigned flags, const char **rk, size_t *rklen);

#endif
