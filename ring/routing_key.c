/*
 * routing_key.c - which bytes of a key are hashed (routing_key.h).
 */
#include <string.h>

#include "routing_key.h"

/* "/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/stor" with lower-case hex, the
 * account root electric-moray hashes whole (its ROOT_RE). */
static int routing_is_stor_root(const char *key, size_t len)
{
    static const char shape[] = "/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/stor";

    if (len != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (shape[i] != 'x') {
            if (key[i] != shape[i])
                return 0;
        } else if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* The length of Node's path.posix.dirname(key), which is always a prefix
 * of key ("/" and "//" included), or 0 when it is "." (no directory). */
static size_t routing_dirname_len(const char *key, size_t len)
{
    int root = len > 0 && key[0] == '/';
    int in_slashes = 1; /* trailing slashes are not separators */
    size_t end = 0;

    for (size_t i = len; i > 1; i--) {
        if (key[i - 1] == '/') {
            if (!in_slashes) {
                end = i - 1;
                break;
            }
        } else {
            in_slashes = 0;
        }
    }
    if (end == 0)
        return root ? 1 : 0;
    if (root && end == 1)
        return 2;
    if (end == 1 && key[0] == '.')
        return 0; /* "./x": dirname is "." */
    return end;
}

void ring_routing_key(const char *key, size_t len, unsigned flags, const char **rk, size_t *rklen)
{
    *rk = key;
    *rklen = len;
    if (flags & RING_ROUTE_HASH_TAGS) {
        const char *open = memchr(key, '{', len);
        if (open != NULL) {
            const char *start = open + 1;
            const char *close = memchr(start, '}', len - (size_t)(start - key));
            if (close != NULL && close > start) {
                *rk = start;
                *rklen = (size_t)(close - start);
                return;
            }
        }
    }
    if ((flags & RING_ROUTE_DIRNAME) && !routing_is_stor_root(key, len)) {
        size_t n = routing_dirname_len(key, len);
        if (n > 0)
            *rklen = n;
    }
}
