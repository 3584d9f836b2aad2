/*
 * clientcmd.c - CLIENT's subcommands. CLIENT LIST lists the clients of the
 * worker thread the connection landed on (each worker owns its clients;
 * reading another thread's list would need a lock on the request path).
 * Fields the proxy does not track (idle, the memory figures, cmd for other
 * clients) are 0 or NULL, in Redis 7.0's field order.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>

#include "clientcmd.h"
#include "proxycmd.h"
#include "pubsub.h"
#include "resp3.h"
#include "router.h"
#include "worker.h"

static uint64_t clientcmd_last_id;   /* atomic */
static uint64_t clientcmd_nclients;  /* atomic */

static uint64_t clientcmd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void clientcmd_init(client_t *c)
{
    c->id = __atomic_add_fetch(&clientcmd_last_id, 1, __ATOMIC_RELAXED);
    c->created_ms = clientcmd_now_ms();
    __atomic_add_fetch(&clientcmd_nclients, 1, __ATOMIC_RELAXED);
}

void clientcmd_free(client_t *c)
{
    free(c->name);
    c->name = NULL;
    __atomic_sub_fetch(&clientcmd_nclients, 1, __ATOMIC_RELAXED);
}

uint64_t clientcmd_connected(void)
{
    return __atomic_load_n(&clientcmd_nclients, __ATOMIC_RELAXED);
}

uint64_t clientcmd_accepted(void)
{
    return __atomic_load_n(&clientcmd_last_id, __ATOMIC_RELAXED);
}

/* HOST:PORT as Redis writes it ([HOST]:PORT for IPv6). */
static void clientcmd_addr(char *out, size_t cap, const struct sockaddr_storage *ss, int ok)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ok && ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (ok && ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
        return;
    }
    snprintf(out, cap, "%s:%u", host, port);
}

/* One CLIENT LIST/INFO line; cmd is the command it last ran, as known. */
static void clientcmd_line(struct evbuffer *out, const client_t *c, const char *cmd)
{
    struct sockaddr_storage peer, local;
    socklen_t plen = sizeof(peer), llen = sizeof(local);
    char addr[INET6_ADDRSTRLEN + 10], laddr[INET6_ADDRSTRLEN + 10];
    int pok = getpeername(c->conn->fd, (struct sockaddr *)&peer, &plen) == 0;
    int lok = getsockname(c->conn->fd, (struct sockaddr *)&local, &llen) == 0;
    clientcmd_addr(addr, sizeof(addr), &peer, pok);
    clientcmd_addr(laddr, sizeof(laddr), &local, lok);
    size_t subs[3];
    pubsub_counts(c, subs);
    evbuffer_add_printf(out,
                        "id=%llu addr=%s laddr=%s fd=%d name=%s age=%llu idle=0 flags=%s db=0 "
                        "sub=%zu psub=%zu ssub=%zu multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 "
                        "multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s "
                        "user=default redir=-1 resp=%d\n",
                        (unsigned long long)c->id, addr, laddr, (int)c->conn->fd,
                        c->name != NULL ? c->name : "",
                        (unsigned long long)((clientcmd_now_ms() - c->created_ms) / 1000),
                        subs[0] + subs[1] + subs[2] > 0 ? "P" : "N", subs[0], subs[1], subs[2], cmd,
                        c->proto);
}

/* The arguments every subcommand handler gets. */
#define CLIENTCMD_ARGS client_t *c, request_t *r, const char *base, const resp_arg_t *args, \
                       size_t argc

static void clientcmd_ok(request_t *r)
{
    evbuffer_add(r->reply, "+OK\r\n", 5);
    request_done(r);
}

/* The lines as one bulk string (verbatim text in RESP3); r is done. */
static void clientcmd_reply_bulk(request_t *r, struct evbuffer *lines)
{
    resp3_verbatim_buffer(r->reply, r->client->proto, lines);
    request_done(r);
}

/* An id as Redis parses it (a signed 64-bit decimal); -1 if not one. */
static int clientcmd_parse_id(const char *s, size_t len, long long *out)
{
    char buf[24], *end;
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    *out = strtoll(buf, &end, 10);
    return errno == 0 && *end == '\0' && !isspace((unsigned char)buf[0]) ? 0 : -1;
}

/* Redis's rule for names (and 7.2's for lib-name): printable ASCII, no
 * spaces. */
static int clientcmd_valid_name(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < '!' || ch > '~')
            return 0;
    }
    return 1;
}

int clientcmd_check_name(request_t *r, const char *s, size_t len)
{
    if (clientcmd_valid_name(s, len))
        return 0;
    request_error(r, "ERR Client names cannot contain spaces, newlines or special characters.");
    return -1;
}

int clientcmd_set_name(client_t *c, request_t *r, const char *s, size_t len)
{
    char *name = NULL;
    if (len > 0) {
        name = malloc(len + 1);
        if (name == NULL) {
            request_error(r, "ERR out of memory");
            return -1;
        }
        memcpy(name, s, len);
        name[len] = '\0';
    }
    free(c->name);
    c->name = name;
    return 0;
}

static void clientcmd_setname(CLIENTCMD_ARGS)
{
    (void)argc;
    const char *s = base + args[2].off;
    size_t len = args[2].len;
    if (clientcmd_check_name(r, s, len) == 0 && clientcmd_set_name(c, r, s, len) == 0)
        clientcmd_ok(r);
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; 7.0.15 lacks it):
 * accepted and not kept, as the proxy reports no library fields. */
static void clientcmd_setinfo(CLIENTCMD_ARGS)
{
    (void)c, (void)argc;
    const char *attr = base + args[2].off;
    size_t alen = args[2].len;
    int libname = proxycmd_is(attr, alen, "lib-name");
    if (!libname && !proxycmd_is(attr, alen, "lib-ver")) {
        request_error(r, "ERR Unrecognized option '%.*s'", (int)(alen > 64 ? 64 : alen), attr);
        return;
    }
    if (!clientcmd_valid_name(base + args[3].off, args[3].len)) {
        request_error(r, "ERR %s cannot contain spaces, newlines or special characters.",
                      libname ? "lib-name" : "lib-ver");
        return;
    }
    clientcmd_ok(r);
}

/* ON|OFF flags the proxy has nothing to do for (NO-EVICT, NO-TOUCH). */
static void clientcmd_onoff(CLIENTCMD_ARGS)
{
    (void)c, (void)argc;
    const char *v = base + args[2].off;
    if (proxycmd_is(v, args[2].len, "on") || proxycmd_is(v, args[2].len, "off"))
        clientcmd_ok(r);
    else
        request_error(r, "ERR syntax error");
}

/* CLIENT REPLY: requests made while replies are off (or the one after
 * SKIP) are marked silent when they arrive; their replies are dropped in
 * their turn (client.c). OFF and SKIP themselves get no reply, as in
 * Redis; ON does. */
static void clientcmd_reply(CLIENTCMD_ARGS)
{
    (void)argc;
    const char *v = base + args[2].off;
    size_t len = args[2].len;
    if (proxycmd_is(v, len, "on")) {
        c->reply_off = 0;
        r->silent = 0;
        clientcmd_ok(r);
    } else if (proxycmd_is(v, len, "off")) {
        c->reply_off = 1;
        r->silent = 1;
        request_done(r);
    } else if (proxycmd_is(v, len, "skip")) {
        c->reply_skip = !c->reply_off;
        r->silent = 1;
        request_done(r);
    } else {
        request_error(r, "ERR syntax error");
    }
}

static void clientcmd_getname(CLIENTCMD_ARGS)
{
    (void)base, (void)args, (void)argc;
    if (c->name != NULL)
        proxycmd_bulk_str(r->reply, c->name);
    else
        resp3_null(r->reply, c->proto);
    request_done(r);
}

static void clientcmd_id(CLIENTCMD_ARGS)
{
    (void)base, (void)args, (void)argc;
    evbuffer_add_printf(r->reply, ":%llu\r\n", (unsigned long long)c->id);
    request_done(r);
}

static void clientcmd_info(CLIENTCMD_ARGS)
{
    (void)base, (void)args, (void)argc;
    struct evbuffer *lines = evbuffer_new();
    if (lines == NULL) {
        request_error(r, "ERR out of memory");
        return;
    }
    clientcmd_line(lines, c, "client|info");
    clientcmd_reply_bulk(r, lines);
    evbuffer_free(lines);
}

/* CLIENT LIST [TYPE type | ID id ...], as Redis 7.0 parses it: the
 * proxy's clients are all of type normal. */
static int clientcmd_list_lines(struct evbuffer *lines, CLIENTCMD_ARGS)
{
    const client_t *o;
    int all = argc == 2;
    if (argc == 4 && proxycmd_is(base + args[2].off, args[2].len, "type")) {
        const char *t = base + args[3].off;
        size_t tlen = args[3].len;
        all = proxycmd_is(t, tlen, "normal");
        if (!all && !proxycmd_is(t, tlen, "master") && !proxycmd_is(t, tlen, "replica") &&
            !proxycmd_is(t, tlen, "slave") && !proxycmd_is(t, tlen, "pubsub")) {
            char buf[129];
            router_printable(buf, sizeof(buf), t, tlen, 128);
            request_error(r, "ERR Unknown client type '%s'", buf);
            return -1;
        }
    } else if (argc >= 4 && proxycmd_is(base + args[2].off, args[2].len, "id")) {
        long long id;
        for (size_t i = 3; i < argc; i++) {
            if (clientcmd_parse_id(base + args[i].off, args[i].len, &id) < 0) {
                request_error(r, "ERR Invalid client ID");
                return -1;
            }
        }
        for (size_t i = 3; i < argc; i++) {
            clientcmd_parse_id(base + args[i].off, args[i].len, &id);
            TAILQ_FOREACH(o, &c->worker->clients, link) {
                if ((long long)o->id == id)
                    clientcmd_line(lines, o, o == c ? "client|list" : "NULL");
            }
        }
        return 0;
    } else if (argc != 2) {
        request_error(r, "ERR syntax error");
        return -1;
    }
    if (all) {
        TAILQ_FOREACH(o, &c->worker->clients, link)
            clientcmd_line(lines, o, o == c ? "client|list" : "NULL");
    }
    return 0;
}

static void clientcmd_list(CLIENTCMD_ARGS)
{
    struct evbuffer *lines = evbuffer_new();
    if (lines == NULL)
        request_error(r, "ERR out of memory");
    else if (clientcmd_list_lines(lines, c, r, base, args, argc) == 0)
        clientcmd_reply_bulk(r, lines);
    if (lines != NULL)
        evbuffer_free(lines);
}

typedef struct clientcmd_sub {
    const char *name;
    int arity;                       /* as command_t's: CLIENT and the subcommand count */
    void (*handle)(CLIENTCMD_ARGS);  /* NULL: a Redis subcommand the proxy does not serve */
} clientcmd_sub_t;

static const clientcmd_sub_t clientcmd_subs[] = {
    {"caching", 3, NULL},
    {"getname", 2, clientcmd_getname},
    {"getredir", 2, NULL},
    {"help", 2, NULL},
    {"id", 2, clientcmd_id},
    {"info", 2, clientcmd_info},
    {"kill", -3, NULL},
    {"list", -2, clientcmd_list},
    {"no-evict", 3, clientcmd_onoff},
    {"no-touch", 3, clientcmd_onoff},
    {"pause", -3, NULL},
    {"reply", 3, clientcmd_reply},
    {"setinfo", 4, clientcmd_setinfo},
    {"setname", 3, clientcmd_setname},
    {"tracking", -3, NULL},
    {"trackinginfo", 2, NULL},
    {"unblock", -3, NULL},
    {"unpause", 2, NULL},
};

void clientcmd_handle(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                      size_t argc)
{
    const char *sub = base + args[1].off;
    size_t sublen = args[1].len;
    const clientcmd_sub_t *s = NULL;
    for (size_t i = 0; s == NULL && i < sizeof(clientcmd_subs) / sizeof(clientcmd_subs[0]); i++) {
        if (proxycmd_is(sub, sublen, clientcmd_subs[i].name))
            s = &clientcmd_subs[i];
    }
    if (s == NULL) {
        proxycmd_unknown_subcommand(r, "CLIENT", sub, sublen);
    } else if (!command_arity_ok(&(command_t){.arity = s->arity}, argc)) {
        request_error(r, "ERR wrong number of arguments for 'client|%s' command", s->name);
    } else if (s->handle == NULL) {
        router_unsupported(r, "CLIENT", 6, " with that subcommand");
    } else {
        s->handle(c, r, base, args, argc);
    }
}
