/*
 * addr.c - a pnode's name is its backend's address: tcp://HOST:PORT or
 * tls://HOST:PORT (ring-image.md). IPv6 hosts go in brackets. This is the
 * one place that validates one, so a name a proxy could not connect to is
 * refused where it is typed, not when a connection fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_int.h"

#define ADDR_WANT "is not an address (want tcp://HOST:PORT or tls://HOST:PORT)"

/* Host names take letters, digits, '.', '-' and '_'; a bracketed IPv6
 * address takes hex digits, ':' and '.', and after '%' a zone name. */
static int host_char_ok(char c, int v6, int zone)
{
    if ((c >= '0' && c <= '9') || c == '.')
        return 1;
    if (v6 && !zone)
        return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':';
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

static int bad(const char *name, const char *why, char *err)
{
    ring_err(err, "pnode '%s' " ADDR_WANT ": %s", name, why);
    return -1;
}

int ring_pnode_addr(const char *name, ring_addr_t *out, char *err)
{
    const char *hp, *colon, *host_end, *p;
    char *end;
    unsigned long port;
    size_t hlen;
    int v6 = 0, zone = 0;

    memset(out, 0, sizeof(*out));
    if (strncmp(name, "tcp://", 6) == 0) {
        out->tls = 0;
    } else if (strncmp(name, "tls://", 6) == 0) {
        out->tls = 1;
    } else {
        ring_err(err, "pnode '%s' " ADDR_WANT, name);
        return -1;
    }
    hp = name + 6;
    if (*hp == '[') {
        host_end = strchr(hp, ']');
        if (host_end == NULL || host_end[1] != ':')
            return bad(name, "an IPv6 host must be [ADDR]:PORT", err);
        hp++;
        colon = host_end + 1;
        v6 = 1;
    } else {
        colon = strrchr(hp, ':');
        if (colon == NULL)
            return bad(name, "no :PORT", err);
        host_end = colon;
    }
    hlen = (size_t)(host_end - hp);
    if (hlen == 0)
        return bad(name, "no host", err);
    if (hlen >= sizeof(out->host))
        return bad(name, "the host is too long", err);
    for (p = hp; p < host_end; p++) {
        if (v6 && *p == '%' && !zone && p > hp && p + 1 < host_end) {
            zone = 1;
            continue;
        }
        if (!host_char_ok(*p, v6, zone)) {
            char why[64];
            unsigned char c = (unsigned char)*p;
            if (c >= 0x20 && c < 0x7f)
                snprintf(why, sizeof(why), "the host has '%c', which %s", c,
                         v6 ? "an IPv6 address cannot have" : "a host name cannot have");
            else
                snprintf(why, sizeof(why), "the host has byte 0x%02x", c);
            return bad(name, why, err);
        }
    }
    /* Digits only: strtoul alone would take " 80" and "+80". */
    if (colon[1] < '0' || colon[1] > '9')
        return bad(name, "the port is not a number from 1 to 65535", err);
    port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || port == 0 || port > 65535)
        return bad(name, "the port is not a number from 1 to 65535", err);
    memcpy(out->host, hp, hlen);
    out->host[hlen] = '\0';
    out->port = (uint16_t)port;
    return 0;
}
