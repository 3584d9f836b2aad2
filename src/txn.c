/*
 * txn.c - a client's MULTI block: its commands re-encoded as multibulk in
 * one buffer, the keys as slices of it. Vnodes are looked up at EXEC, in
 * the ring current then, so a reshard while the block is queued cannot
 * split it.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proxycmd.h"
#include "router.h"
#include "txn.h"
#include "worker.h"

#define TXN_MAX_KEYS 256

typedef struct txn_key {
    size_t off, len; /* in block */
} txn_key_t;

struct txn {
    struct evbuffer *block; /* the queued commands, as the pnode gets them */
    txn_key_t *keys;
    size_t nkeys, capkeys;
    unsigned nqueued;
    int aborted;            /* a command was refused: EXEC discards */
    int writes;             /* a queued command may write */
};

static const char txn_multi_req[] = "*1\r\n$5\r\nMULTI\r\n";
static const char txn_exec_req[] = "*1\r\n$4\r\nEXEC\r\n";

static void txn_free(struct txn *t)
{
    if (t == NULL)
        return;
    evbuffer_free(t->block);
    free(t->keys);
    free(t);
}

void txn_reset(client_t *c)
{
    txn_free(c->txn);
    c->txn = NULL;
}

static struct txn *txn_new(void)
{
    struct txn *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->block = evbuffer_new();
    if (t->block == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

static int txn_add_key(struct txn *t, size_t off, size_t len)
{
    if (t->nkeys == t->capkeys) {
        size_t cap = t->capkeys ? t->capkeys * 2 : 8;
        txn_key_t *k = realloc(t->keys, cap * sizeof(*k));
        if (k == NULL)
            return -1;
        t->keys = k;
        t->capkeys = cap;
    }
    t->keys[t->nkeys].off = off;
    t->keys[t->nkeys].len = len;
    t->nkeys++;
    return 0;
}

/* Appends the command to the block, its keys (indexes into args) as
 * slices of the block. */
static int txn_append(struct txn *t, const char *base, const resp_arg_t *args, size_t argc,
                      const size_t *keys, long nkeys)
{
    long k = 0;
    if (evbuffer_add_printf(t->block, "*%zu\r\n", argc) < 0)
        return -1;
    for (size_t i = 0; i < argc; i++) {
        if (evbuffer_add_printf(t->block, "$%zu\r\n", args[i].len) < 0)
            return -1;
        if (k < nkeys && keys[k] == i) {
            if (txn_add_key(t, evbuffer_get_length(t->block), args[i].len) < 0)
                return -1;
            k++;
        }
        if (evbuffer_add(t->block, base + args[i].off, args[i].len) < 0 ||
            evbuffer_add(t->block, "\r\n", 2) < 0)
            return -1;
    }
    return 0;
}

int txn_queue(client_t *c, request_t *r, const command_t *cmd, struct evbuffer *in, size_t total)
{
    struct txn *t = c->txn;
    resp_parser_t *p = &c->parser;
    const resp_arg_t *args = p->args;
    size_t argc = p->nargs;
    size_t keys[TXN_MAX_KEYS];
    long nkeys = 0;

    if (cmd != NULL && (cmd->flags & CMD_TXN))
        return 0;
    if (cmd != NULL && (strcmp(cmd->name, "quit") == 0 || strcmp(cmd->name, "reset") == 0))
        return 0;
    const char *base = p->is_inline ? p->inl : (const char *)evbuffer_pullup(in, (ev_ssize_t)total);
    if (base == NULL) {
        request_error(r, "ERR out of memory");
        goto refused;
    }
    if (cmd == NULL) {
        STAT_INC(r->worker->stats.err_command);
        router_unknown(r, base, args, argc);
        goto refused;
    }
    if (!c->authed && !(cmd->flags & CMD_NOAUTH)) {
        request_error(r, "NOAUTH Authentication required.");
        goto refused;
    }
    if (!command_arity_ok(cmd, argc)) {
        STAT_INC(r->worker->stats.err_command);
        request_error(r, "ERR wrong number of arguments for '%s' command", cmd->name);
        goto refused;
    }
    if (cmd->flags & CMD_UNSUPPORTED) {
        router_unsupported(r, base + args[0].off, args[0].len, "");
        goto refused;
    }
    if (cmd->flags & CMD_PROXY) {
        /* These answer the same from the pnode; the others are about the
         * client's connection to the proxy, which the pnode cannot do. */
        if (strcmp(cmd->name, "ping") != 0 && strcmp(cmd->name, "echo") != 0 &&
            strcmp(cmd->name, "time") != 0) {
            router_unsupported(r, base + args[0].off, args[0].len, " inside MULTI");
            goto refused;
        }
    } else {
        nkeys = command_keys(cmd, base, args, argc, keys, TXN_MAX_KEYS);
        if (nkeys == COMMAND_KEYS_PATTERN) {
            router_unsupported(r, base + args[0].off, args[0].len, " with BY or GET patterns");
            goto refused;
        }
        if (nkeys < 0) {
            request_error(r, "ERR numkeys is not an integer or out of range");
            goto refused;
        }
        if (nkeys == 0) {
            /* Keyless commands would run on whichever pnode the block
             * goes to, not where Redis users expect (FLUSHALL, SCAN...). */
            router_unsupported(r, base + args[0].off, args[0].len, " without keys inside MULTI");
            goto refused;
        }
    }
    if (evbuffer_get_length(t->block) + total > CONFIG_GET(c->worker->cfg->max_request_bytes)) {
        request_error(r, "ERR MULTI block exceeds max-request-bytes");
        goto refused;
    }
    if (txn_append(t, base, args, argc, keys, nkeys) < 0) {
        request_error(r, "ERR out of memory");
        goto refused;
    }
    t->nqueued++;
    if (cmd->flags & CMD_WRITE)
        t->writes = 1;
    evbuffer_add(r->reply, "+QUEUED\r\n", 9);
    request_done(r);
    goto out;
refused:
    /* Redis's error for the command, and EXEC will abort. */
    t->aborted = 1;
out:
    evbuffer_drain(in, total);
    return 1;
}

/* The block's pnode: every key on one vnode, writable if the block
 * writes; NULL with the error made on r otherwise. */
static server_t *txn_target(worker_t *w, struct txn *t, request_t *r)
{
    ring_node_t node, other;
    if (t->nkeys == 0)
        return w->nmap > 0 ? w->map[0] : NULL;
    const char *b = (const char *)evbuffer_pullup(t->block, -1);
    router_lookup(w, b + t->keys[0].off, t->keys[0].len, &node);
    for (size_t i = 1; i < t->nkeys; i++) {
        router_lookup(w, b + t->keys[i].off, t->keys[i].len, &other);
        if (other.vnode != node.vnode) {
            request_error(r, "CROSSSLOT Keys in request don't hash to the same vnode");
            return NULL;
        }
    }
    if ((node.flags & RING_VNODE_RO) && t->writes) {
        STAT_INC(w->stats.err_readonly);
        request_error(r, "READONLY vnode %u is read-only (resharding)", node.vnode);
        return NULL;
    }
    return w->map[node.pnode];
}

static void txn_exec(client_t *c, request_t *r)
{
    worker_t *w = c->worker;
    struct txn *t = c->txn;
    c->txn = NULL;

    if (t->aborted) {
        request_error(r, "EXECABORT Transaction discarded because of previous errors.");
    } else if (t->nqueued == 0) {
        evbuffer_add(r->reply, "*0\r\n", 4);
        request_done(r);
    } else {
        server_t *s = txn_target(w, t, r);
        if (s != NULL) {
            /* The pnode's +OK and +QUEUED replies are consumed before
             * EXEC's, which is r's. */
            evbuffer_add(t->block, txn_exec_req, sizeof(txn_exec_req) - 1);
            evbuffer_prepend(t->block, txn_multi_req, sizeof(txn_multi_req) - 1);
            r->skip = t->nqueued + 1;
            server_send(s, r, t->block, evbuffer_get_length(t->block));
        }
    }
    txn_free(t);
}

void txn_command(client_t *c, request_t *r, const command_t *cmd)
{
    if (strcmp(cmd->name, "multi") == 0) {
        if (c->txn != NULL) {
            request_error(r, "ERR MULTI calls can not be nested");
            return;
        }
        c->txn = txn_new();
        if (c->txn == NULL) {
            request_error(r, "ERR out of memory");
            return;
        }
        evbuffer_add(r->reply, "+OK\r\n", 5);
        request_done(r);
    } else if (strcmp(cmd->name, "exec") == 0) {
        if (c->txn == NULL)
            request_error(r, "ERR EXEC without MULTI");
        else
            txn_exec(c, r);
    } else {
        if (c->txn == NULL) {
            request_error(r, "ERR DISCARD without MULTI");
            return;
        }
        txn_reset(c);
        evbuffer_add(r->reply, "+OK\r\n", 5);
        request_done(r);
    }
}
