/*
 * multikey.c - the split and the merge. When every key is on one pnode the
 * request goes there whole, as its original bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "multikey.h"
#include "resp3.h"
#include "router.h"
#include "worker.h"

typedef enum { MK_MGET, MK_MSET, MK_COUNT } mk_kind_t;

typedef struct multikey {
    mk_kind_t kind;
    size_t nkeys;
    uint32_t *keypart;   /* key i's part */
    request_t **parts;
    size_t nparts;
    size_t pending;      /* parts without a reply yet */
    multikey_merge_fn merge; /* a fan-out's: builds the reply (kind unused) */
    void *arg;
    void (*arg_free)(void *arg);
} multikey_t;

void multikey_free(multikey_t *mk)
{
    for (size_t i = 0; i < mk->nparts; i++) {
        if (mk->parts[i] != NULL)
            request_free(mk->parts[i]);
    }
    if (mk->arg_free != NULL)
        mk->arg_free(mk->arg);
    free(mk->parts);
    free(mk->keypart);
    free(mk);
}

static mk_kind_t multikey_kind(const command_t *cmd)
{
    if (strcmp(cmd->name, "mget") == 0)
        return MK_MGET;
    if (strcmp(cmd->name, "mset") == 0)
        return MK_MSET;
    return MK_COUNT;
}

/* The part's reply as one block of memory. */
static const char *multikey_reply(request_t *part, size_t *len)
{
    *len = evbuffer_get_length(part->reply);
    return (const char *)evbuffer_pullup(part->reply, -1);
}

int multikey_integer(const char *s, size_t len, long long *out)
{
    long long v = 0;
    int neg = 0;
    size_t i = 1;
    if (len < 4 || s[0] != ':')
        return -1;
    if (s[1] == '-') {
        neg = 1;
        i++;
    }
    for (; i < len && s[i] != '\r'; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

/* MGET: each part's array elements, taken in key order. The parts speak
 * RESP2: a RESP3 client gets its nulls as _. */
static int multikey_merge_mget(request_t *r, multikey_t *mk)
{
    int proto = r->client != NULL ? r->client->proto : 2;
    const char **cursor = calloc(mk->nparts, sizeof(*cursor));
    const char **end = calloc(mk->nparts, sizeof(*end));
    int rc = -1;
    if (cursor == NULL || end == NULL)
        goto out;
    for (size_t p = 0; p < mk->nparts; p++) {
        size_t len;
        const char *s = multikey_reply(mk->parts[p], &len);
        const char *nl = len ? memchr(s, '\n', len) : NULL;
        if (nl == NULL || s[0] != '*')
            goto out;
        cursor[p] = nl + 1;
        end[p] = s + len;
    }
    evbuffer_add_printf(r->reply, "*%zu\r\n", mk->nkeys);
    for (size_t k = 0; k < mk->nkeys; k++) {
        uint32_t p = mk->keypart[k];
        size_t n = resp_reply_len(cursor[p], (size_t)(end[p] - cursor[p]));
        if (n == 0)
            goto out;
        if (n == 5 && memcmp(cursor[p], "$-1\r\n", 5) == 0)
            resp3_null(r->reply, proto);
        else
            evbuffer_add(r->reply, cursor[p], n);
        cursor[p] += n;
    }
    rc = 0;
out:
    free(cursor);
    free(end);
    return rc;
}

static void multikey_merge(request_t *r)
{
    multikey_t *mk = r->mk;
    long long sum = 0;
    int bad = 0;

    if (mk->merge != NULL) {
        mk->merge(r, mk->parts, mk->nparts, mk->arg);
        request_done(r);
        return;
    }
    /* The first error among the parts is the answer. */
    for (size_t p = 0; p < mk->nparts; p++) {
        size_t len;
        const char *s = multikey_reply(mk->parts[p], &len);
        if (len > 0 && s[0] == '-') {
            evbuffer_add(r->reply, s, len);
            request_done(r);
            return;
        }
    }
    switch (mk->kind) {
    case MK_MGET:
        bad = multikey_merge_mget(r, mk) < 0;
        break;
    case MK_MSET:
        evbuffer_add(r->reply, "+OK\r\n", 5);
        break;
    case MK_COUNT:
        for (size_t p = 0; p < mk->nparts && !bad; p++) {
            size_t len;
            long long v;
            const char *s = multikey_reply(mk->parts[p], &len);
            if (multikey_integer(s, len, &v) < 0)
                bad = 1;
            else
                sum += v;
        }
        if (!bad)
            evbuffer_add_printf(r->reply, ":%lld\r\n", sum);
        break;
    }
    if (bad) {
        evbuffer_drain(r->reply, evbuffer_get_length(r->reply));
        evbuffer_add_printf(r->reply, "-ERR unexpected reply from a pnode\r\n");
    }
    request_done(r);
}

void multikey_part_done(request_t *part)
{
    request_t *r = part->parent;
    if (--r->mk->pending == 0)
        multikey_merge(r);
}

/* Parts for pnodes first .. first+count-1, each sent req. */
static int multikey_fanout_range(worker_t *w, request_t *r, size_t first, size_t count,
                                 const char *req, size_t len, multikey_merge_fn merge,
                                 void *arg, void (*arg_free)(void *arg))
{
    multikey_t *mk = calloc(1, sizeof(*mk));
    if (mk == NULL || count == 0 || first + count > w->nmap ||
        (mk->parts = calloc(count, sizeof(*mk->parts))) == NULL) {
        free(mk);
        return -1;
    }
    for (size_t p = 0; p < count; p++) {
        mk->parts[p] = request_new(w);
        if (mk->parts[p] == NULL) {
            multikey_free(mk);
            return -1;
        }
        mk->parts[p]->parent = r;
        mk->parts[p]->part = (unsigned)p;
        mk->nparts++;
    }
    mk->merge = merge;
    mk->arg = arg;
    mk->arg_free = arg_free;
    mk->pending = mk->nparts;
    r->mk = mk;
    /* As in multikey_dispatch: the merge may run inside the last send. */
    size_t nparts = mk->nparts;
    for (size_t p = 0; p < nparts; p++) {
        evbuffer_add(w->scratch, req, len);
        server_send(w->map[first + p], mk->parts[p], w->scratch, len);
    }
    return 0;
}

int multikey_fanout(worker_t *w, request_t *r, const char *req, size_t len,
                    multikey_merge_fn merge, void *arg, void (*arg_free)(void *arg))
{
    return multikey_fanout_range(w, r, 0, w->nmap, req, len, merge, arg, arg_free);
}

int multikey_send_one(worker_t *w, request_t *r, size_t pnode, const char *req, size_t len,
                      multikey_merge_fn merge, void *arg, void (*arg_free)(void *arg))
{
    return multikey_fanout_range(w, r, pnode, 1, req, len, merge, arg, arg_free);
}

void multikey_dispatch(client_t *c, request_t *r, const command_t *cmd, const char *base,
                       const resp_arg_t *args, size_t argc, struct evbuffer *in, size_t total)
{
    worker_t *w = c->worker;
    size_t step = (size_t)cmd->step, nkeys = (argc - 1) / step;
    ring_node_t node;
    uint32_t *keypnode = NULL;
    multikey_t *mk = NULL;
    uint32_t *pnode_part = NULL;

    if ((argc - 1) % step != 0) {
        request_error(r, "ERR wrong number of arguments for '%s' command", cmd->name);
        goto drain;
    }
    keypnode = malloc(nkeys * sizeof(*keypnode));
    if (keypnode == NULL)
        goto oom;
    int one_pnode = 1;
    for (size_t k = 0; k < nkeys; k++) {
        const resp_arg_t *a = &args[1 + k * step];
        router_lookup(w, base + a->off, a->len, &node);
        if ((cmd->flags & CMD_WRITE) && (node.flags & RING_VNODE_RO)) {
            STAT_INC(w->stats.err_readonly);
            request_error(r, "READONLY vnode %u is read-only (resharding)", node.vnode);
            goto drain;
        }
        keypnode[k] = node.pnode;
        if (keypnode[k] != keypnode[0])
            one_pnode = 0;
    }
    if (one_pnode && !c->parser.is_inline) {
        server_send(w->map[keypnode[0]], r, in, total);
        free(keypnode);
        return;
    }

    mk = calloc(1, sizeof(*mk));
    pnode_part = malloc(w->nmap * sizeof(*pnode_part));
    if (mk == NULL || pnode_part == NULL)
        goto oom;
    mk->kind = multikey_kind(cmd);
    mk->nkeys = nkeys;
    mk->keypart = malloc(nkeys * sizeof(*mk->keypart));
    mk->parts = calloc(w->nmap < nkeys ? w->nmap : nkeys, sizeof(*mk->parts));
    if (mk->keypart == NULL || mk->parts == NULL)
        goto oom;
    for (size_t p = 0; p < w->nmap; p++)
        pnode_part[p] = UINT32_MAX;
    for (size_t k = 0; k < nkeys; k++) {
        if (pnode_part[keypnode[k]] == UINT32_MAX)
            pnode_part[keypnode[k]] = (uint32_t)mk->nparts++;
        mk->keypart[k] = pnode_part[keypnode[k]];
    }
    for (size_t p = 0; p < mk->nparts; p++) {
        mk->parts[p] = request_new(w);
        if (mk->parts[p] == NULL)
            goto oom;
        mk->parts[p]->parent = r;
        mk->parts[p]->part = (unsigned)p;
    }
    r->mk = mk;
    mk->pending = mk->nparts;

    /* One part per pnode, in the order its first key appears. The merge
     * may run (and r be delivered) inside the last server_send. */
    struct evbuffer *scratch = w->scratch;
    size_t nparts = mk->nparts;
    for (size_t p = 0; p < nparts; p++) {
        size_t n = 0;
        for (size_t k = 0; k < nkeys; k++)
            n += mk->keypart[k] == p;
        evbuffer_add_printf(scratch, "*%zu\r\n$%zu\r\n", 1 + n * step, args[0].len);
        evbuffer_add(scratch, base + args[0].off, args[0].len);
        evbuffer_add(scratch, "\r\n", 2);
        uint32_t pn = 0;
        for (size_t k = 0; k < nkeys; k++) {
            if (mk->keypart[k] != p)
                continue;
            pn = keypnode[k];
            for (size_t j = 0; j < step; j++) {
                const resp_arg_t *a = &args[1 + k * step + j];
                evbuffer_add_printf(scratch, "$%zu\r\n", a->len);
                evbuffer_add(scratch, base + a->off, a->len);
                evbuffer_add(scratch, "\r\n", 2);
            }
        }
        server_send(w->map[pn], mk->parts[p], scratch, evbuffer_get_length(scratch));
    }
    free(keypnode);
    free(pnode_part);
    evbuffer_drain(in, total);
    return;

oom:
    if (mk != NULL)
        multikey_free(mk);
    r->mk = NULL;
    request_error(r, "ERR out of memory");
drain:
    free(keypnode);
    free(pnode_part);
    evbuffer_drain(in, total);
}
