/*
 * proxycmd.c - replies built in the request's own reply buffer.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <event2/buffer.h>

#include "auth.h"
#include "clientcmd.h"
#include "config.h"
#include "fanout.h"
#include "info.h"
#include "proxycmd.h"
#include "pubsub.h"
#include "pubsubcmd.h"
#include "resp3.h"
#include "ring.h"
#include "router.h"
#include "txn.h"
#include "worker.h"

int proxycmd_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

static int proxycmd_digits(const char *s, size_t len)
{
    if (len == 0 || len > 9)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return 1;
}

void proxycmd_bulk(struct evbuffer *out, const char *s, size_t len)
{
    evbuffer_add_printf(out, "$%zu\r\n", len);
    evbuffer_add(out, s, len);
    evbuffer_add(out, "\r\n", 2);
}

void proxycmd_bulk_str(struct evbuffer *out, const char *s)
{
    proxycmd_bulk(out, s, strlen(s));
}

void proxycmd_bulk_buffer(struct evbuffer *out, struct evbuffer *src)
{
    evbuffer_add_printf(out, "$%zu\r\n", evbuffer_get_length(src));
    evbuffer_add_buffer(out, src);
    evbuffer_add(out, "\r\n", 2);
}

void proxycmd_unknown_subcommand(request_t *r, const char *cmd, const char *sub, size_t len)
{
    char buf[129];
    router_printable(buf, sizeof(buf), sub, len, 128);
    request_error(r, "ERR unknown subcommand '%s'. Try %s HELP.", buf, cmd);
}

static void proxycmd_ring(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                          size_t argc)
{
    worker_t *w = c->worker;
    const ring_t *ring = w->rr->ring;
    const char *sub = base + args[1].off;
    size_t sublen = args[1].len;

    if (proxycmd_is(sub, sublen, "info")) {
        char info[512];
        int n = snprintf(info, sizeof(info),
                         "generation:%llu\r\nalgorithm:%s\r\nvnodes:%u\r\npnodes:%zu\r\n"
                         "ro_vnodes:%zu\r\nchecksum:%016llx\r\n",
                         (unsigned long long)ring_generation(ring), ring_algo_name(ring_algo(ring)),
                         ring_vnode_count(ring), ring_pnode_count(ring), ring_ro_count(ring),
                         (unsigned long long)w->rr->checksum);
        proxycmd_bulk(r->reply, info, (size_t)n);
    } else if (proxycmd_is(sub, sublen, "node")) {
        if (argc != 3) {
            request_error(r, "ERR wrong number of arguments for 'ring|node' command");
            return;
        }
        ring_node_t node;
        router_lookup(w, base + args[2].off, args[2].len, &node);
        const char *data = ring_vnode_data(ring, node.vnode);
        evbuffer_add_printf(r->reply, "*3\r\n:%u\r\n", node.vnode);
        proxycmd_bulk_str(r->reply, node.name);
        if (data != NULL)
            proxycmd_bulk_str(r->reply, data);
        else
            resp3_null(r->reply, c->proto);
    } else {
        router_unsupported(r, sub, sublen, " as a RING subcommand (try RING INFO or RING NODE key)");
        return;
    }
    request_done(r);
}

#define PROXYCMD_WRONGPASS "WRONGPASS invalid username-password pair or user is disabled."

/* Redis's default user: with no requirepass it takes any password. Other
 * users do not exist here. */
static int proxycmd_login(client_t *c, const char *user, size_t ulen, const char *pass,
                          size_t plen)
{
    const char *want = c->worker->cfg->requirepass;
    if (user != NULL && !(ulen == 7 && memcmp(user, "default", 7) == 0))
        return -1;
    if (auth_enabled(want) && !auth_equal(want, pass, plen))
        return -1;
    c->authed = 1;
    return 0;
}

static void proxycmd_auth(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                          size_t argc)
{
    const resp_arg_t *pass = &args[argc - 1];
    if (argc > 3) {
        request_error(r, "ERR syntax error");
        return;
    }
    if (argc == 2 && !auth_enabled(c->worker->cfg->requirepass)) {
        request_error(r, "ERR AUTH <password> called without any password configured for the "
                         "default user. Are you sure your configuration is correct?");
        return;
    }
    if (proxycmd_login(c, argc == 3 ? base + args[1].off : NULL, args[1].len,
                       base + pass->off, pass->len) < 0) {
        request_error(r, PROXYCMD_WRONGPASS);
        return;
    }
    evbuffer_add(r->reply, "+OK\r\n", 5);
    request_done(r);
}

/* HELLO's protover as Redis reads it (string2ll): 2 or 3, 0 for another
 * integer, -1 for what is not one. */
static int proxycmd_protover(const char *v, size_t len)
{
    size_t i = len > 0 && v[0] == '-';
    if (i == len || len - i > 18 || (v[i] == '0' && (len > i + 1 || i == 1)))
        return -1;
    for (size_t k = i; k < len; k++) {
        if (v[k] < '0' || v[k] > '9')
            return -1;
    }
    return len == 1 && (v[0] == '2' || v[0] == '3') ? v[0] - '0' : 0;
}

static void proxycmd_hello(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                           size_t argc)
{
    const resp_arg_t *user = NULL, *name = NULL;
    int proto = c->proto;
    if (argc >= 2) {
        proto = proxycmd_protover(base + args[1].off, args[1].len);
        if (proto < 0) {
            request_error(r, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (proto == 0) {
            request_error(r, "NOPROTO unsupported protocol version");
            return;
        }
    }
    for (size_t i = 2; i < argc; i++) {
        if (proxycmd_is(base + args[i].off, args[i].len, "setname") && i + 1 < argc) {
            name = &args[++i];
            if (clientcmd_check_name(r, base + name->off, name->len) < 0)
                return;
        } else if (proxycmd_is(base + args[i].off, args[i].len, "auth") && i + 2 < argc) {
            user = &args[i + 1];
            i += 2;
        } else {
            router_unsupported(r, "HELLO", 5, " with options other than AUTH and SETNAME");
            return;
        }
    }
    if (user != NULL && proxycmd_login(c, base + user->off, user->len, base + user[1].off,
                                       user[1].len) < 0) {
        request_error(r, PROXYCMD_WRONGPASS);
        return;
    }
    if (!c->authed) {
        request_error(r, "NOAUTH HELLO must be called with the client already authenticated, "
                         "otherwise the HELLO AUTH <user> <pass> option can be used to "
                         "authenticate the client and select the RESP protocol version at the "
                         "same time");
        return;
    }
    if (name != NULL && clientcmd_set_name(c, r, base + name->off, name->len) < 0)
        return;
    c->proto = proto;
    resp3_map(r->reply, proto, 7);
    proxycmd_bulk_str(r->reply, "server");
    proxycmd_bulk_str(r->reply, "ringproxy");
    proxycmd_bulk_str(r->reply, "version");
    proxycmd_bulk_str(r->reply, RINGPROXY_VERSION);
    proxycmd_bulk_str(r->reply, "proto");
    evbuffer_add_printf(r->reply, ":%d\r\n", proto);
    proxycmd_bulk_str(r->reply, "id");
    evbuffer_add_printf(r->reply, ":%llu\r\n", (unsigned long long)c->id);
    proxycmd_bulk_str(r->reply, "mode");
    proxycmd_bulk_str(r->reply, "standalone");
    proxycmd_bulk_str(r->reply, "role");
    proxycmd_bulk_str(r->reply, "master");
    proxycmd_bulk_str(r->reply, "modules");
    evbuffer_add(r->reply, "*0\r\n", 4);
    request_done(r);
}

/* CONFIG GET answers what clients probe at start (redis-benchmark asks for
 * save and appendonly) as a Redis without persistence would; every other
 * CONFIG form is an unsupported command, with that error's exact text. */
static void proxycmd_config(request_t *r, const char *base, const resp_arg_t *args, size_t argc)
{
    int proto = r->client->proto;
    if (!proxycmd_is(base + args[1].off, args[1].len, "get") || argc != 3) {
        router_unsupported(r, base + args[0].off, args[0].len, "");
        return;
    }
    const char *p = base + args[2].off;
    size_t len = args[2].len;
    if (proxycmd_is(p, len, "save") || proxycmd_is(p, len, "appendonly")) {
        resp3_map(r->reply, proto, 1);
        proxycmd_bulk(r->reply, p, len);
        proxycmd_bulk_str(r->reply, proxycmd_is(p, len, "save") ? "" : "no");
    } else {
        resp3_map(r->reply, proto, 0);
    }
    request_done(r);
}

/* One COMMAND INFO entry in Redis 7.0's shape, from the proxy's own table:
 * the arity and key positions it routes by. Commands whose keys follow a
 * numkeys argument or sit in options are flagged movablekeys, as in Redis;
 * ACL categories, tips, key specs and subcommands are left empty. */
static void proxycmd_command_entry(struct evbuffer *out, int proto, const command_t *c)
{
    int movable = c->numkeys > 0 || (c->flags & (CMD_SORT | CMD_STREAMS | CMD_STORE));
    int keyed = movable || c->first > 0 || (c->flags & CMD_SUBKEY);
    const char *access = (c->flags & CMD_WRITE) ? "+write\r\n" : keyed ? "+readonly\r\n" : "";
    int nflags = (access[0] != '\0') + movable + !!(c->flags & CMD_NOAUTH);
    evbuffer_add_printf(out, "*10\r\n");
    proxycmd_bulk_str(out, c->name);
    evbuffer_add_printf(out, ":%d\r\n", c->arity);
    resp3_set(out, proto, (size_t)nflags);
    evbuffer_add(out, access, strlen(access));
    if (movable)
        evbuffer_add(out, "+movablekeys\r\n", 14);
    if (c->flags & CMD_NOAUTH)
        evbuffer_add(out, "+no_auth\r\n", 10);
    evbuffer_add_printf(out, ":%d\r\n:%d\r\n:%d\r\n", c->first, c->last, c->step);
    /* ACL categories, tips, key specs, subcommands: sets in RESP3. */
    for (int i = 0; i < 4; i++)
        resp3_set(out, proto, 0);
}

static void proxycmd_command_info(request_t *r, const char *base, const resp_arg_t *args,
                                  size_t argc)
{
    int proto = r->client->proto;
    if (argc <= 2) {
        evbuffer_add_printf(r->reply, "*%zu\r\n", command_count());
        for (size_t i = 0; i < command_count(); i++)
            proxycmd_command_entry(r->reply, proto, command_at(i));
        return;
    }
    evbuffer_add_printf(r->reply, "*%zu\r\n", argc - 2);
    for (size_t i = 2; i < argc; i++) {
        const command_t *c = command_lookup(base + args[i].off, args[i].len);
        if (c != NULL)
            proxycmd_command_entry(r->reply, proto, c);
        else
            resp3_null(r->reply, proto);
    }
}

/* COMMAND GETKEYS cmd arg...: the keys the proxy routes that request by. */
static void proxycmd_command_getkeys(request_t *r, const char *base, const resp_arg_t *args,
                                     size_t argc)
{
    size_t keys[256];
    const command_t *c = command_lookup(base + args[2].off, args[2].len);
    if (c == NULL) {
        request_error(r, "ERR Invalid command specified");
        return;
    }
    if (!command_arity_ok(c, argc - 2)) {
        request_error(r, "ERR Invalid number of arguments specified for command");
        return;
    }
    long n = command_keys(c, base, args + 2, argc - 2, keys, sizeof(keys) / sizeof(keys[0]));
    if (n == COMMAND_KEYS_PATTERN) {
        router_unsupported(r, base + args[2].off, args[2].len, " with BY or GET patterns");
        return;
    }
    if (n < 0) {
        request_error(r, "ERR Invalid arguments specified for command");
        return;
    }
    /* As Redis: an error only for a command that never takes keys. */
    if (n == 0 && c->first == 0 && c->numkeys == 0 &&
        !(c->flags & (CMD_STREAMS | CMD_SUBKEY | CMD_STORE))) {
        request_error(r, "ERR The command has no key arguments");
        return;
    }
    evbuffer_add_printf(r->reply, "*%ld\r\n", n);
    for (long i = 0; i < n; i++)
        proxycmd_bulk(r->reply, base + args[2 + keys[i]].off, args[2 + keys[i]].len);
    request_done(r);
}

static void proxycmd_command(request_t *r, const char *base, const resp_arg_t *args, size_t argc)
{
    const char *sub = argc >= 2 ? base + args[1].off : "info";
    size_t len = argc >= 2 ? args[1].len : 4;
    if (proxycmd_is(sub, len, "getkeys")) {
        if (argc < 4)
            request_error(r, "ERR wrong number of arguments for 'command|getkeys' command");
        else
            proxycmd_command_getkeys(r, base, args, argc);
        return;
    }
    if (proxycmd_is(sub, len, "count") && argc == 2) {
        evbuffer_add_printf(r->reply, ":%zu\r\n", command_count());
    } else if (proxycmd_is(sub, len, "info")) {
        proxycmd_command_info(r, base, args, argc);
    } else if (proxycmd_is(sub, len, "docs")) {
        resp3_map(r->reply, r->client->proto, 0); /* no docs kept: as for unknown names */
    } else if (proxycmd_is(sub, len, "count")) {
        request_error(r, "ERR wrong number of arguments for 'command|count' command");
        return;
    } else {
        proxycmd_unknown_subcommand(r, "COMMAND", sub, len);
        return;
    }
    request_done(r);
}

/* TIME: the proxy's clock, as Redis's two bulk strings. */
static void proxycmd_time(request_t *r)
{
    struct timeval tv;
    char sec[24], usec[12];
    gettimeofday(&tv, NULL);
    int ns = snprintf(sec, sizeof(sec), "%lld", (long long)tv.tv_sec);
    int nu = snprintf(usec, sizeof(usec), "%ld", (long)tv.tv_usec);
    evbuffer_add(r->reply, "*2\r\n", 4);
    proxycmd_bulk(r->reply, sec, (size_t)ns);
    proxycmd_bulk(r->reply, usec, (size_t)nu);
    request_done(r);
}

/* RESET: back to a new connection's state. The proxy keeps only the name
 * and the login (Redis's default user needs AUTH again when requirepass
 * is set); db is always 0 and RESP 2. */
static void proxycmd_reset(client_t *c, request_t *r)
{
    clientcmd_set_name(c, r, "", 0); /* clearing allocates nothing: cannot fail */
    txn_client_reset(c);
    pubsub_reset(c, 1);
    c->authed = !auth_enabled(c->worker->cfg->requirepass);
    c->proto = 2;
    evbuffer_add(r->reply, "+RESET\r\n", 8);
    request_done(r);
}

void proxycmd_handle(client_t *c, request_t *r, const command_t *cmd, const char *base,
                     const resp_arg_t *args, size_t argc)
{
    const char *name = cmd->name;

    if (cmd->flags & CMD_FANOUT) {
        fanout_handle(c, r, cmd, base, args, argc);
    } else if (strcmp(name, "ping") == 0) {
        if (argc > 2) {
            request_error(r, "ERR wrong number of arguments for 'ping' command");
            return;
        }
        if (pubsub_ping(c, r, base, args, argc))
            return;
        if (argc == 2)
            proxycmd_bulk(r->reply, base + args[1].off, args[1].len);
        else
            evbuffer_add(r->reply, "+PONG\r\n", 7);
        request_done(r);
    } else if (strcmp(name, "echo") == 0) {
        proxycmd_bulk(r->reply, base + args[1].off, args[1].len);
        request_done(r);
    } else if (strcmp(name, "quit") == 0) {
        evbuffer_add(r->reply, "+OK\r\n", 5);
        client_shutdown(c);
        request_done(r);
    } else if (strcmp(name, "select") == 0) {
        const char *v = base + args[1].off;
        size_t len = args[1].len;
        if (proxycmd_is(v, len, "0"))
            evbuffer_add(r->reply, "+OK\r\n", 5);
        else if (proxycmd_digits(v, len))
            evbuffer_add_printf(r->reply, "-ERR DB index is out of range (ringproxy serves db 0 only)\r\n");
        else
            evbuffer_add_printf(r->reply, "-ERR value is not an integer or out of range\r\n");
        request_done(r);
    } else if (strcmp(name, "command") == 0) {
        proxycmd_command(r, base, args, argc);
    } else if (strcmp(name, "hello") == 0) {
        proxycmd_hello(c, r, base, args, argc);
    } else if (strcmp(name, "auth") == 0) {
        proxycmd_auth(c, r, base, args, argc);
    } else if (strcmp(name, "config") == 0) {
        proxycmd_config(r, base, args, argc);
    } else if (strcmp(name, "client") == 0) {
        clientcmd_handle(c, r, base, args, argc);
    } else if (strcmp(name, "info") == 0) {
        info_handle(c, r, base, args, argc);
    } else if (strcmp(name, "time") == 0) {
        proxycmd_time(r);
    } else if (strcmp(name, "pubsub") == 0) {
        pubsubcmd_handle(c, r, base, args, argc);
    } else if (strstr(name, "subscribe") != NULL) {
        pubsub_handle(c, r, cmd, base, args, argc);
    } else if (strcmp(name, "reset") == 0) {
        proxycmd_reset(c, r);
    } else if (strcmp(name, "readonly") == 0 || strcmp(name, "readwrite") == 0) {
        /* As a cluster node: every vnode is served by its owner's pnode, so
         * neither mode changes where a request goes. */
        evbuffer_add(r->reply, "+OK\r\n", 5);
        request_done(r);
    } else {
        proxycmd_ring(c, r, base, args, argc);
    }
}
