/*
 * router.c - the request path after parsing. Single-key commands (the hot
 * path) are looked up on the key slice in place and their original bytes
 * moved to the backend; everything else branches off here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "command.h"
#include "multikey.h"
#include "pinned.h"
#include "proxycmd.h"
#include "pubsub.h"
#include "router.h"
#include "routing_key.h"
#include "script.h"
#include "txn.h"
#include "worker.h"

#define ROUTER_MAX_KEYS 256
/* Redis Cluster's CROSSSLOT, with the ring's unit of placement. */
#define ROUTER_CROSSVNODE "CROSSSLOT Keys in request don't hash to the same vnode"

void router_key(const config_t *cfg, const char *key, size_t len, const char **rk, size_t *rklen)
{
    unsigned flags = (CONFIG_GET(cfg->hash_tags) ? RING_ROUTE_HASH_TAGS : 0) |
                     (CONFIG_GET(cfg->dirname_routing) ? RING_ROUTE_DIRNAME : 0);
    ring_routing_key(key, len, flags, rk, rklen);
}

void router_lookup(worker_t *w, const char *key, size_t len, ring_node_t *out)
{
    const char *rk;
    size_t rklen;
    router_key(w->cfg, key, len, &rk, &rklen);
    ring_lookup(w->rr->ring, rk, rklen, out);
}

/* At most max bytes of s for an error text: CR and LF become spaces, as
 * Redis does, so the reply stays one line. */
void router_printable(char *out, size_t cap, const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;
    if (n > cap - 1)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
    out[n] = '\0';
}

void router_unknown(request_t *r, const char *base, const resp_arg_t *args, size_t argc)
{
    char name[129], rest[160], arg[129];
    size_t n = 0;
    router_printable(name, sizeof(name), base + args[0].off, args[0].len, 128);
    rest[0] = '\0';
    for (size_t i = 1; i < argc && n < 128; i++) {
        router_printable(arg, sizeof(arg), base + args[i].off, args[i].len, 128 - n);
        n += (size_t)snprintf(rest + n, sizeof(rest) - n, "'%s' ", arg);
    }
    request_error(r, "ERR unknown command '%s', with args beginning with: %s", name, rest);
}

void router_unsupported(request_t *r, const char *name, size_t len, const char *why)
{
    char buf[129];
    router_printable(buf, sizeof(buf), name, len, 128);
    STAT_INC(r->worker->stats.err_unsupported);
    request_error(r, "ERR command '%s' is not supported by ringproxy%s", buf, why);
}

/* The request bytes router_unknown shows: 128 bytes of arguments at most,
 * quotes included, as Redis counts them. */
static size_t router_error_span(const resp_arg_t *args, size_t argc)
{
    size_t need = args[0].off + (args[0].len < 128 ? args[0].len : 128), shown = 0;
    for (size_t i = 1; i < argc && shown < 128; i++) {
        size_t l = args[i].len < 128 - shown ? args[i].len : 128 - shown;
        need = args[i].off + l;
        shown += l + 3;
    }
    return need;
}

void router_send(client_t *c, server_t *s, request_t *r, struct evbuffer *src, size_t len)
{
    pinned_t *p;
    if (c->pinned != NULL && (p = pinned_find(c, s)) != NULL)
        pinned_send(p, r, src, len);
    else
        server_send(s, r, src, len);
}

void router_send_inline(client_t *c, server_t *s, request_t *r, const char *base,
                        const resp_arg_t *args, size_t argc)
{
    struct evbuffer *scratch = r->worker->scratch;
    evbuffer_add_printf(scratch, "*%zu\r\n", argc);
    for (size_t i = 0; i < argc; i++) {
        evbuffer_add_printf(scratch, "$%zu\r\n", args[i].len);
        evbuffer_add(scratch, base + args[i].off, args[i].len);
        evbuffer_add(scratch, "\r\n", 2);
    }
    router_send(c, s, r, scratch, evbuffer_get_length(scratch));
}

/* Returns 1 when the request's bytes went to a backend, 0 when it was
 * answered here (and its bytes are still in the buffer). keys has room
 * for cap key positions, at least as many as the command has keys. */
static int router_route_keys(client_t *c, request_t *r, const command_t *cmd, const char *base,
                             const resp_arg_t *args, size_t argc, struct evbuffer *in,
                             size_t total, size_t *keys, size_t cap)
{
    worker_t *w = c->worker;
    ring_node_t node, other;

    long nkeys = command_keys(cmd, base, args, argc, keys, cap);
    if (nkeys == COMMAND_KEYS_PATTERN) {
        router_unsupported(r, base + args[0].off, args[0].len, " with BY or GET patterns");
        return 0;
    }
    if (nkeys < 0)
        nkeys = 0; /* a bad numkeys: the first pnode gives Redis's own error */
    /* XREAD/XREADGROUP BLOCK blocks like BLPOP: a dedicated connection. */
    int blocks = (cmd->flags & CMD_BLOCK) ||
                 ((cmd->flags & CMD_STREAMS) && command_blocks(cmd, base, args, argc));
    if (nkeys == 0 && !command_keyless_ok(cmd, base, args, argc)) {
        router_unsupported(r, base + args[0].off, args[0].len, " without keys");
        return 0;
    }
    if (nkeys == 0) {
        /* The pnode a keyless script or function runs on: the first in
         * the ring's pnode list, the same for every worker and client. */
        node.pnode = 0;
        node.flags = 0;
        node.vnode = 0;
    } else {
        router_lookup(w, base + args[keys[0]].off, args[keys[0]].len, &node);
    }
    int ro = node.flags & RING_VNODE_RO;
    uint32_t ro_vnode = node.vnode;
    for (long i = 1; i < nkeys; i++) {
        router_lookup(w, base + args[keys[i]].off, args[keys[i]].len, &other);
        if (other.vnode != node.vnode) {
            STAT_INC(w->stats.err_unsupported);
            request_error(r, ROUTER_CROSSVNODE);
            return 0;
        }
    }
    if (ro && (cmd->flags & CMD_WRITE)) {
        STAT_INC(w->stats.err_readonly);
        request_error(r, "READONLY vnode %u is read-only (resharding)", ro_vnode);
        return 0;
    }
    server_t *s = w->map[node.pnode];
    if (blocks && pinned_open(c, r, s) == NULL)
        return 0;
    if ((cmd->flags & CMD_EVALSHA) && script_evalsha_encode(w->scratch, base, args, argc)) {
        router_send(c, s, r, w->scratch, evbuffer_get_length(w->scratch));
        return 0;
    }
    if (c->parser.is_inline) {
        router_send_inline(c, s, r, base, args, argc);
        return 0;
    }
    router_send(c, s, r, in, total);
    return 1;
}

/* Every key is checked for its vnode, however many: a command with more
 * keys than fit on the stack gets room for one per argument. */
static int router_route(client_t *c, request_t *r, const command_t *cmd, const char *base,
                        const resp_arg_t *args, size_t argc, struct evbuffer *in, size_t total)
{
    size_t stack[ROUTER_MAX_KEYS];
    if (argc <= ROUTER_MAX_KEYS)
        return router_route_keys(c, r, cmd, base, args, argc, in, total, stack, ROUTER_MAX_KEYS);
    size_t *keys = malloc(argc * sizeof(*keys));
    if (keys == NULL) {
        request_error(r, "ERR out of memory");
        return 0;
    }
    int sent = router_route_keys(c, r, cmd, base, args, argc, in, total, keys, argc);
    free(keys);
    return sent;
}

void router_dispatch(client_t *c, request_t *r, struct evbuffer *in, size_t total)
{
    resp_parser_t *p = &c->parser;
    const resp_arg_t *args = p->args;
    size_t argc = p->nargs;
    const char *base;

    if (p->is_inline)
        base = p->inl;
    else
        base = (const char *)evbuffer_pullup(in, (ev_ssize_t)(args[0].off + args[0].len));
    const command_t *cmd = command_lookup(base + args[0].off, args[0].len);
    if (cmd == NULL || (cmd->flags & CMD_UNSUPPORTED) || !command_arity_ok(cmd, argc))
        r->klass = STATS_OTHER;
    else if (cmd->flags & CMD_PROXY)
        r->klass = STATS_PROXY;
    else if (cmd->flags & CMD_MULTI)
        r->klass = STATS_MULTI;
    else
        r->klass = (cmd->flags & CMD_WRITE) ? STATS_WRITE : STATS_READ;
    STAT_INC(r->worker->stats.req[r->klass]);
    if (c->txn != NULL && txn_queue(c, r, cmd, in, total))
        return;

    if (!p->is_inline) {
        /* Single-key commands need only the bytes up to the key in one
         * piece; the rest can stay where it is, however large. */
        size_t need = total;
        if (cmd != NULL && cmd->flags == (cmd->flags & CMD_WRITE) && cmd->numkeys == 0 &&
            cmd->first == cmd->last && (size_t)cmd->first < argc)
            need = args[cmd->first].off + args[cmd->first].len;
        else if (cmd == NULL || (cmd->flags & CMD_UNSUPPORTED))
            need = router_error_span(args, argc);
        if (need > total)
            need = total;
        base = (const char *)evbuffer_pullup(in, (ev_ssize_t)need);
    }

    if (cmd == NULL) {
        STAT_INC(r->worker->stats.err_command);
        router_unknown(r, base, args, argc);
    } else if (!c->authed && !(cmd->flags & CMD_NOAUTH)) {
        request_error(r, "NOAUTH Authentication required.");
    } else if (cmd->flags & CMD_UNSUPPORTED) {
        router_unsupported(r, base + args[0].off, args[0].len,
                           (cmd->flags & CMD_DISABLED) ? " (disabled by disable-commands)" : "");
    } else if (!command_arity_ok(cmd, argc)) {
        STAT_INC(r->worker->stats.err_command);
        request_error(r, "ERR wrong number of arguments for '%s' command", cmd->name);
    } else if (c->pubsub != NULL && pubsub_refuse(c, r, cmd, base, args, argc)) {
        /* refused in RESP2 subscribed mode */
    } else if (cmd->flags & CMD_TXN) {
        if (txn_command(c, r, cmd, base, args, argc, in, total))
            return;
    } else if (cmd->flags & CMD_PROXY) {
        proxycmd_handle(c, r, cmd, base, args, argc);
    } else if (cmd->flags & CMD_MULTI) {
        multikey_dispatch(c, r, cmd, base, args, argc, in, total);
        return;
    } else if (router_route(c, r, cmd, base, args, argc, in, total)) {
        return;
    }
    evbuffer_drain(in, total);
}
