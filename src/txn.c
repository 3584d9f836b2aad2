/*
 * txn.c - a client's MULTI block: its commands re-encoded as multibulk in
 * one buffer, the keys as slices of it. Vnodes are looked up at EXEC, in
 * the ring current then, so a reshard while the block is queued cannot
 * split it.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "pinned.h"
#include "proxycmd.h"
#include "router.h"
#include "txn.h"
#include "worker.h"

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

/* Appends the command to the block, its keys (indexes into args, in any
 * order) as slices of the block. */
static int txn_append(struct txn *t, const char *base, const resp_arg_t *args, size_t argc,
                      const size_t *keys, long nkeys)
{
    size_t *off = malloc(argc * sizeof(*off));
    int rc = -1;
    if (off == NULL || evbuffer_add_printf(t->block, "*%zu\r\n", argc) < 0)
        goto out;
    for (size_t i = 0; i < argc; i++) {
        if (evbuffer_add_printf(t->block, "$%zu\r\n", args[i].len) < 0)
            goto out;
        off[i] = evbuffer_get_length(t->block);
        if (evbuffer_add(t->block, base + args[i].off, args[i].len) < 0 ||
            evbuffer_add(t->block, "\r\n", 2) < 0)
            goto out;
    }
    for (long k = 0; k < nkeys; k++) {
        if (txn_add_key(t, off[keys[k]], args[keys[k]].len) < 0)
            goto out;
    }
    rc = 0;
out:
    free(off);
    return rc;
}

int txn_queue(client_t *c, request_t *r, const command_t *cmd, struct evbuffer *in, size_t total)
{
    struct txn *t = c->txn;
    resp_parser_t *p = &c->parser;
    const resp_arg_t *args = p->args;
    size_t argc = p->nargs;
    size_t *keys = NULL; /* room for every argument: no key goes unchecked */
    long nkeys = 0;

    if (cmd != NULL && (cmd->flags & CMD_TXN) && strcmp(cmd->name, "unwatch") != 0)
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
    if (cmd->flags & (CMD_PROXY | CMD_TXN)) {
        /* These answer the same from the pnode; the others are about the
         * client's connection to the proxy, which the pnode cannot do. */
        if (strcmp(cmd->name, "ping") != 0 && strcmp(cmd->name, "echo") != 0 &&
            strcmp(cmd->name, "time") != 0 && strcmp(cmd->name, "unwatch") != 0) {
            router_unsupported(r, base + args[0].off, args[0].len, " inside MULTI");
            goto refused;
        }
    } else {
        keys = malloc(argc * sizeof(*keys));
        if (keys == NULL) {
            request_error(r, "ERR out of memory");
            goto refused;
        }
        nkeys = command_keys(cmd, base, args, argc, keys, argc);
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
    free(keys);
    evbuffer_drain(in, total);
    return 1;
}

static const char txn_crossslot[] = "CROSSSLOT Keys in request don't hash to the same vnode";

/* The block's pnode: every key on one vnode (*vnode), writable if the
 * block writes; NULL with the error made on r otherwise. A keyless block
 * goes to the first pnode (vnode is then UINT32_MAX). */
static server_t *txn_target(worker_t *w, struct txn *t, request_t *r, uint32_t *vnode)
{
    ring_node_t node, other;
    *vnode = UINT32_MAX;
    if (t->nkeys == 0) {
        if (w->nmap > 0)
            return w->map[0];
        request_error(r, "ERR the ring has no pnode");
        return NULL;
    }
    const char *b = (const char *)evbuffer_pullup(t->block, -1);
    router_lookup(w, b + t->keys[0].off, t->keys[0].len, &node);
    for (size_t i = 1; i < t->nkeys; i++) {
        router_lookup(w, b + t->keys[i].off, t->keys[i].len, &other);
        if (other.vnode != node.vnode) {
            request_error(r, txn_crossslot);
            return NULL;
        }
    }
    if ((node.flags & RING_VNODE_RO) && t->writes) {
        STAT_INC(w->stats.err_readonly);
        request_error(r, "READONLY vnode %u is read-only (resharding)", node.vnode);
        return NULL;
    }
    *vnode = node.vnode;
    return w->map[node.pnode];
}

/* Sends MULTI, the block and EXEC to s, on c's WATCH connection wp when
 * it watches. The pnode's +OK and +QUEUED replies are consumed before
 * EXEC's, which is r's. */
static void txn_send(client_t *c, request_t *r, struct txn *t, server_t *s, pinned_t *wp)
{
    evbuffer_add(t->block, txn_exec_req, sizeof(txn_exec_req) - 1);
    evbuffer_prepend(t->block, txn_multi_req, sizeof(txn_multi_req) - 1);
    r->skip = t->nqueued + 1;
    if (wp != NULL)
        pinned_send(wp, r, t->block, evbuffer_get_length(t->block));
    else
        router_send(c, s, r, t->block, evbuffer_get_length(t->block));
}

static void txn_exec(client_t *c, request_t *r)
{
    worker_t *w = c->worker;
    struct txn *t = c->txn;
    uint32_t watched, vnode;
    pinned_t *wp = pinned_watching(c, &watched);
    c->txn = NULL;

    if (t->aborted) {
        request_error(r, "EXECABORT Transaction discarded because of previous errors.");
    } else if (t->nqueued == 0 && wp == NULL) {
        evbuffer_add(r->reply, "*0\r\n", 4);
        request_done(r);
    } else if (wp != NULL && t->nkeys == 0) {
        /* The pnode answers for the watched keys (nil if one changed). */
        txn_send(c, r, t, pinned_server(wp), wp);
        wp = NULL; /* EXEC ends the WATCH on the pnode */
    } else {
        server_t *s = txn_target(w, t, r, &vnode);
        if (s != NULL && wp != NULL && (vnode != watched || s != pinned_server(wp))) {
            request_error(r, "%s as the WATCHed keys", txn_crossslot);
        } else if (s != NULL) {
            txn_send(c, r, t, s, wp);
            wp = NULL;
        }
    }
    /* A WATCH still on the pnode (EXEC not sent) is lifted there. */
    pinned_end_watch(c, wp != NULL);
    txn_free(t);
}

/* WATCH: every key on one vnode, the same as earlier WATCHes; sent on a
 * connection of c's own, which EXEC will take too. */
static int txn_watch(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                     size_t argc, struct evbuffer *in, size_t total)
{
    worker_t *w = c->worker;
    ring_node_t node, other;
    uint32_t watched;

    if (c->txn != NULL) {
        request_error(r, "ERR WATCH inside MULTI is not allowed");
        return 0;
    }
    router_lookup(w, base + args[1].off, args[1].len, &node);
    for (size_t i = 2; i < argc; i++) {
        router_lookup(w, base + args[i].off, args[i].len, &other);
        if (other.vnode != node.vnode) {
            request_error(r, txn_crossslot);
            return 0;
        }
    }
    server_t *s = w->map[node.pnode];
    pinned_t *p = pinned_watching(c, &watched);
    if (p != NULL && (watched != node.vnode || pinned_server(p) != s)) {
        request_error(r, "%s as the WATCHed keys", txn_crossslot);
        return 0;
    }
    if (p == NULL) {
        p = pinned_open(c, r, s);
        if (p == NULL)
            return 0;
        pinned_set_watch(p, node.vnode);
    }
    if (c->parser.is_inline) {
        router_send_inline(c, s, r, base, args, argc);
        return 0;
    }
    pinned_send(p, r, in, total);
    return 1;
}

void txn_client_reset(client_t *c)
{
    txn_reset(c);
    pinned_end_watch(c, 1);
}

int txn_command(client_t *c, request_t *r, const command_t *cmd, const char *base,
                const resp_arg_t *args, size_t argc, struct evbuffer *in, size_t total)
{
    if (strcmp(cmd->name, "watch") == 0)
        return txn_watch(c, r, base, args, argc, in, total);
    if (strcmp(cmd->name, "unwatch") == 0) {
        /* Inside MULTI it is queued (txn_queue); here it ends the WATCH. */
        pinned_end_watch(c, 1);
        evbuffer_add(r->reply, "+OK\r\n", 5);
        request_done(r);
    } else if (strcmp(cmd->name, "multi") == 0) {
        if (c->txn != NULL) {
            request_error(r, "ERR MULTI calls can not be nested");
            return 0;
        }
        c->txn = txn_new();
        if (c->txn == NULL) {
            request_error(r, "ERR out of memory");
            return 0;
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
            return 0;
        }
        txn_client_reset(c);
        evbuffer_add(r->reply, "+OK\r\n", 5);
        request_done(r);
    }
    return 0;
}
