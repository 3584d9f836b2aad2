/*
 * addr.c - a pnode's name is its backend's address: tcp://HOST:PORT or
 * tls://HOST:PORT (ring-image.md). IPv6 hosts go in brackets.
 */
#include <stdlib.h>
#include <string.h>

#include "ring_int.h"

int ring_pnode_addr(const char *name, ring_addr_t *out, char *err)
{
    const char *hp, *colon, *host_end;
    char *end;
    unsigned long port;
    size_t hlen;

    memset(out, 0, sizeof(*out));
    if (strncmp(name, "tcp://", 6) == 0) {
        out->tls = 0;
    } else if (strncmp(name, "tls://", 6) == 0) {
        out->tls = 1;
    } else {
        ring_err(err, "pnode '%s' is not an address (want tcp://HOST:PORT or tls://HOST:PORT)", name);
        return -1;
    }
    hp = name + 6;
    if (*hp == '[') {
        host_end = strchr(hp, ']');
        if (host_end == NULL || host_end[1] != ':')
            goto bad;
        hp++;
        colon = host_end + 1;
    } else {
        colon = strrchr(hp, ':');
        if (colon == NULL)
            goto bad;
        host_end = colon;
    }
    hlen = (size_t)(host_end - hp);
    if (hlen == 0 || hlen >= sizeof(out->host) || memchr(hp, '/', hlen) != NULL)
        goto bad;
    /* Digits only: strtoul alone would take " 80" and "+80". */
    if (colon[1] < '0' || colon[1] > '9')
        goto bad;
    port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || port == 0 || port > 65535)
        goto bad;
    memcpy(out->host, hp, hlen);
    out->host[hlen] = '\0';
    out->port = (uint16_t)port;
    return 0;
bad:
    ring_err(err, "pnode '%s' is not an address (want tcp://HOST:PORT or tls://HOST:PORT)", name);
    return -1;
}
