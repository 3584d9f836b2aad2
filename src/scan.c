/*
 * scan.c - the cursor's arithmetic, and the pnode's reply rewritten with
 * the proxy's cursor.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "fanout.h"
#include "multikey.h"
#include "proxycmd.h"
#include "scan.h"
#include "worker.h"

/* Where the request went, for the merge (the ring may change meanwhile). */
typedef struct scan_ask {
    uint64_t pnode, npnodes;
} scan_ask_t;

/* An unsigned 64-bit decimal, as Redis's cursor. */
static int scan_cursor(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static void scan_merge(request_t *r, request_t *const *parts, size_t nparts, void *arg)
{
    const scan_ask_t *ask = arg;
    size_t len = evbuffer_get_length(parts[0]->reply);
    const char *s = (const char *)evbuffer_pullup(parts[0]->reply, -1);
    const char *nl = len > 4 && memcmp(s, "*2\r\n", 4) == 0 ? memchr(s + 4, '\n', len - 4) : NULL;
    uint64_t pc, next;
    (void)nparts;
    if (len > 0 && s[0] == '-') {
        request_failed(r);
        evbuffer_add(r->reply, s, len);
        return;
    }
    if (nl == NULL || s[4] != '$')
        goto bad;
    size_t clen = (size_t)strtoul(s + 5, NULL, 10);
    const char *cur = nl + 1;
    if ((size_t)(cur - s) + clen + 2 > len || scan_cursor(cur, clen, &pc) < 0)
        goto bad;
    const char *keys = cur + clen + 2;
    if (pc == 0)
        next = ask->pnode + 1 < ask->npnodes ? ask->pnode + 1 : 0;
    else if (pc > (UINT64_MAX - ask->pnode) / ask->npnodes)
        goto bad;
    else
        next = pc * ask->npnodes + ask->pnode;
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)next);
    evbuffer_add(r->reply, "*2\r\n", 4);
    proxycmd_bulk(r->reply, buf, (size_t)n);
    evbuffer_add(r->reply, keys, len - (size_t)(keys - s));
    return;
bad:
    request_failed(r);
    evbuffer_add_printf(r->reply, "-ERR unexpected reply from a pnode\r\n");
}

void scan_handle(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                 size_t argc)
{
    worker_t *w = c->worker;
    uint64_t cursor;
    if (scan_cursor(base + args[1].off, args[1].len, &cursor) < 0) {
        request_error(r, "ERR invalid cursor");
        return;
    }
    scan_ask_t *ask = malloc(sizeof(*ask));
    struct evbuffer *req = evbuffer_new();
    if (ask == NULL || req == NULL || w->nmap == 0)
        goto oom;
    ask->npnodes = w->nmap;
    ask->pnode = cursor % ask->npnodes;
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(cursor / ask->npnodes));
    evbuffer_add_printf(req, "*%zu\r\n", argc);
    proxycmd_bulk(req, "SCAN", 4);
    proxycmd_bulk(req, buf, (size_t)n);
    fanout_encode(req, base, args, 2, argc);
    size_t len = evbuffer_get_length(req);
    int rc = multikey_send_one(w, r, (size_t)ask->pnode, (const char *)evbuffer_pullup(req, -1),
                               len, scan_merge, ask, free);
    evbuffer_free(req);
    if (rc == 0)
        return;
    free(ask);
    request_error(r, "ERR out of memory");
    return;
oom:
    free(ask);
    if (req != NULL)
        evbuffer_free(req);
    request_error(r, "ERR out of memory");
}
