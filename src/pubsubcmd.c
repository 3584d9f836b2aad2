/*
 * pubsubcmd.c - PUBSUB CHANNELS/SHARDCHANNELS (the pnodes' lists merged,
 * each name once), NUMSUB/SHARDNUMSUB (counts summed per channel) and
 * NUMPAT. Every subscriber's pattern is on every pnode, so NUMPAT is the
 * largest pnode's count, not their sum.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "multikey.h"
#include "proxycmd.h"
#include "pubsubcmd.h"
#include "router.h"
#include "worker.h"

typedef enum { PSC_LIST, PSC_NUMSUB, PSC_NUMPAT } psc_kind_t;

/* The elements of a part's array reply: n, and their start in *elems. */
static long psc_elements(request_t *part, const char ***elems)
{
    size_t len = evbuffer_get_length(part->reply);
    const char *s = (const char *)evbuffer_pullup(part->reply, -1), *end = s + len;
    const char *nl = len ? memchr(s, '\n', len) : NULL;
    if (nl == NULL || s[0] != '*')
        return -1;
    long n = strtol(s + 1, NULL, 10);
    if (n < 0 || (*elems = calloc((size_t)n + 1, sizeof(**elems))) == NULL)
        return -1;
    const char *p = nl + 1;
    for (long i = 0; i < n; i++) {
        size_t k = resp_reply_len(p, (size_t)(end - p));
        if (k == 0) {
            free(*elems);
            return -1;
        }
        (*elems)[i] = p;
        p += k;
    }
    return n;
}

/* A bulk element's content. */
static const char *psc_bulk(const char *e, size_t *len)
{
    const char *nl = strchr(e, '\n');
    *len = (size_t)strtoul(e + 1, NULL, 10);
    return nl + 1;
}

static void psc_merge(request_t *r, request_t *const *parts, size_t nparts, void *arg)
{
    psc_kind_t kind = (psc_kind_t)(intptr_t)arg;
    const char ***elems = calloc(nparts ? nparts : 1, sizeof(*elems));
    long *n = calloc(nparts ? nparts : 1, sizeof(*n));
    long long best = 0;

    for (size_t p = 0; elems != NULL && n != NULL && p < nparts; p++) {
        const char *s = (const char *)evbuffer_pullup(parts[p]->reply, -1);
        size_t len = evbuffer_get_length(parts[p]->reply);
        if (len > 0 && s[0] == '-') {
            evbuffer_add(r->reply, s, len);
            goto out;
        }
        if (kind == PSC_NUMPAT) {
            long long v = len > 1 && s[0] == ':' ? strtoll(s + 1, NULL, 10) : -1;
            if (v < 0)
                goto bad;
            best = v > best ? v : best;
            continue;
        }
        if ((n[p] = psc_elements(parts[p], &elems[p])) < 0)
            goto bad;
    }
    if (elems == NULL || n == NULL) {
        evbuffer_add_printf(r->reply, "-ERR out of memory\r\n");
        goto out;
    }
    if (kind == PSC_NUMPAT) {
        evbuffer_add_printf(r->reply, ":%lld\r\n", best);
    } else if (kind == PSC_LIST) {
        /* Each name once: a channel can be on several pnodes when the
         * ring changed or a client subscribed to a pnode directly. */
        struct evbuffer *out = evbuffer_new();
        size_t count = 0;
        for (size_t p = 0; out != NULL && p < nparts; p++) {
            for (long i = 0; i < n[p]; i++) {
                size_t li, lj;
                const char *a = psc_bulk(elems[p][i], &li);
                int seen = 0;
                for (size_t q = 0; q <= p && !seen; q++) {
                    for (long j = 0; j < (q == p ? i : n[q]) && !seen; j++) {
                        const char *b = psc_bulk(elems[q][j], &lj);
                        seen = li == lj && memcmp(a, b, li) == 0;
                    }
                }
                if (!seen) {
                    proxycmd_bulk(out, a, li);
                    count++;
                }
            }
        }
        if (out == NULL) {
            evbuffer_add_printf(r->reply, "-ERR out of memory\r\n");
            goto out;
        }
        evbuffer_add_printf(r->reply, "*%zu\r\n", count);
        evbuffer_add_buffer(r->reply, out);
        evbuffer_free(out);
    } else {
        /* NUMSUB: the same channels in the same order from each pnode. */
        for (size_t p = 1; p < nparts; p++) {
            if (n[p] != n[0])
                goto bad;
        }
        evbuffer_add_printf(r->reply, "*%ld\r\n", nparts ? n[0] : 0L);
        for (long i = 0; nparts && i + 1 < n[0]; i += 2) {
            long long sum = 0;
            size_t len;
            const char *name = psc_bulk(elems[0][i], &len);
            for (size_t p = 0; p < nparts; p++)
                sum += strtoll(elems[p][i + 1] + 1, NULL, 10);
            proxycmd_bulk(r->reply, name, len);
            evbuffer_add_printf(r->reply, ":%lld\r\n", sum);
        }
    }
    goto out;
bad:
    evbuffer_drain(r->reply, evbuffer_get_length(r->reply));
    evbuffer_add_printf(r->reply, "-ERR unexpected reply from a pnode\r\n");
out:
    for (size_t p = 0; elems != NULL && p < nparts; p++)
        free(elems[p]);
    free(elems);
    free(n);
}

void pubsubcmd_handle(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                      size_t argc)
{
    const char *sub = base + args[1].off;
    size_t len = args[1].len;
    psc_kind_t kind;

    if (proxycmd_is(sub, len, "channels") || proxycmd_is(sub, len, "shardchannels")) {
        kind = PSC_LIST;
        if (argc > 3) {
            char name[129];
            router_printable(name, sizeof(name), sub, len, 128);
            request_error(r, "ERR unknown subcommand or wrong number of arguments for '%s'. "
                             "Try PUBSUB HELP.", name);
            return;
        }
    } else if (proxycmd_is(sub, len, "numsub") || proxycmd_is(sub, len, "shardnumsub")) {
        kind = PSC_NUMSUB;
    } else if (proxycmd_is(sub, len, "numpat")) {
        kind = PSC_NUMPAT;
        if (argc != 2) {
            request_error(r, "ERR wrong number of arguments for 'pubsub|numpat' command");
            return;
        }
    } else {
        proxycmd_unknown_subcommand(r, "PUBSUB", sub, len);
        return;
    }
    struct evbuffer *req = evbuffer_new();
    if (req == NULL) {
        request_error(r, "ERR out of memory");
        return;
    }
    evbuffer_add_printf(req, "*%zu\r\n", argc);
    for (size_t i = 0; i < argc; i++)
        proxycmd_bulk(req, base + args[i].off, args[i].len);
    size_t n = evbuffer_get_length(req);
    const char *bytes = (const char *)evbuffer_pullup(req, -1);
    if (multikey_fanout(c->worker, r, bytes, n, psc_merge, (void *)(intptr_t)kind, NULL) < 0)
        request_error(r, "ERR out of memory");
    evbuffer_free(req);
}
