/*
 * pubsub.c - a client's subscriptions, kept as Redis keeps them for one
 * client (so its counts are Redis's), and its links: one subscription
 * connection per pnode. Each (un)subscribe request carries its
 * confirmations, built when it is dispatched, and is done once every pnode
 * it was sent to has confirmed; messages follow it in the client's queue.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "log.h"
#include "proxycmd.h"
#include "pubsub.h"
#include "resp3.h"
#include "router.h"
#include "worker.h"

enum { PS_CHANNEL = 0, PS_PATTERN, PS_SHARD, PS_KINDS };

/* A request waiting for its pnodes' confirmations. */
typedef struct ps_op {
    request_t *r;
    unsigned pending; /* waits not finished */
} ps_op_t;

/* n confirmations op awaits from one link, in the order they will come. */
typedef struct ps_wait {
    struct ps_wait *next;
    ps_op_t *op;
    unsigned n;
} ps_wait_t;

typedef struct ps_link {
    struct pubsub *ps;
    server_t *server;
    conn_t *conn;
    resp_scan_t scan;
    int owed;            /* replies to the AUTH and HELLO sent first */
    int proto;           /* the RESP version it was opened with */
    unsigned nsubs;      /* channels and shard channels on it */
    ps_wait_t *head, *tail;
} ps_link_t;

typedef struct ps_sub {
    char *name;
    size_t len;
    ps_link_t *link;     /* NULL for a pattern: it is on every link */
} ps_sub_t;

typedef struct pubsub {
    client_t *client;
    ps_link_t **links;
    size_t nlinks;
    ps_sub_t *subs[PS_KINDS];
    size_t nsubs[PS_KINDS], caps[PS_KINDS];
} pubsub_t;

/* Subscription connections open in the process, for the limit. */
static int ps_nlinks_total;

static size_t ps_total(const pubsub_t *ps)
{
    return ps == NULL ? 0 : ps->nsubs[PS_CHANNEL] + ps->nsubs[PS_PATTERN] + ps->nsubs[PS_SHARD];
}

/* The count a confirmation carries: shard channels count apart. */
static size_t ps_count(const pubsub_t *ps, int kind)
{
    return kind == PS_SHARD ? ps->nsubs[PS_SHARD] : ps->nsubs[PS_CHANNEL] + ps->nsubs[PS_PATTERN];
}

static ps_sub_t *ps_find(pubsub_t *ps, int kind, const char *name, size_t len)
{
    for (size_t i = 0; i < ps->nsubs[kind]; i++) {
        ps_sub_t *s = &ps->subs[kind][i];
        if (s->len == len && memcmp(s->name, name, len) == 0)
            return s;
    }
    return NULL;
}

static void ps_finish(ps_op_t *op, int flush)
{
    if (flush)
        request_done(op->r);
    else
        op->r->done = 1;
    free(op);
}

/* One wait fewer for op. */
static void ps_op_step(ps_op_t *op, int flush)
{
    if (--op->pending == 0)
        ps_finish(op, flush);
}

/* Confirmations still due are not waited for: their requests' replies
 * hold them already. */
static void ps_link_free(ps_link_t *l, int flush)
{
    pubsub_t *ps = l->ps;
    server_t *s = l->server;
    ps_wait_t *w;
    while ((w = l->head) != NULL) {
        l->head = w->next;
        ps_op_step(w->op, flush);
        free(w);
    }
    for (size_t i = 0; i < ps->nlinks; i++) {
        if (ps->links[i] == l) {
            ps->links[i] = ps->links[--ps->nlinks];
            break;
        }
    }
    conn_free(l->conn);
    free(l);
    s->nlinks--;
    __atomic_sub_fetch(&ps_nlinks_total, 1, __ATOMIC_RELAXED);
    STAT_DEC(s->worker->stats.pubsub_links);
    worker_server_drained(s->worker, s);
}

/* A link nothing uses any more is closed. Returns 1 if it was. */
static int ps_link_maybe_close(ps_link_t *l)
{
    if (l->nsubs > 0 || l->head != NULL || l->ps->nsubs[PS_PATTERN] > 0)
        return 0;
    ps_link_free(l, 1);
    return 1;
}

/* The client cannot be told which of its subscriptions the pnode lost:
 * it is closed, as Redis would be gone for it. */
static void ps_link_failed(ps_link_t *l, const char *why)
{
    client_t *c = l->ps->client;
    log_warn("subscription connection lost pnode=%s worker=%d reason=\"%s\": client closed",
             l->server->name, c->worker->id, why);
    if (!c->killed) {
        c->killed = 1;
        c->closing = 1;
        conn_abort(c->conn);
    }
}

/* The frame's second element, a message or confirmation kind, from the
 * first bytes of an array or push of bulks. */
static int ps_frame_kind(struct evbuffer *in, size_t len, char *out, size_t cap)
{
    size_t n = len < 48 ? len : 48;
    const char *s = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
    const char *end = s + n, *p = memchr(s, '\n', n);
    if ((s[0] != '*' && s[0] != '>') || p == NULL || p + 1 >= end || p[1] != '$')
        return -1;
    size_t k = 0;
    for (p += 2; p < end && *p >= '0' && *p <= '9'; p++)
        k = k * 10 + (size_t)(*p - '0');
    if (p + 2 + k > end || k >= cap)
        return -1;
    memcpy(out, p + 2, k);
    out[k] = '\0';
    return 0;
}

static void ps_deliver(ps_link_t *l, struct evbuffer *in, size_t len)
{
    client_t *c = l->ps->client;
    request_t *r = c->closing ? NULL : request_new(c->worker);
    if (r == NULL) {
        evbuffer_drain(in, len);
        return;
    }
    r->client = c;
    TAILQ_INSERT_TAIL(&c->queue, r, cq);
    c->nqueue++;
    evbuffer_remove_buffer(in, r->reply, len);
    /* A client that changed protocol since: a message is an array or a
     * push of bulks, alike but for the first byte. */
    if (l->proto != c->proto)
        *evbuffer_pullup(r->reply, 1) = c->proto == 3 ? '>' : '*';
    STAT_INC(c->worker->stats.pubsub_messages);
    request_done(r);
}

/* One whole frame from the pnode; -1 once l is freed or its client
 * condemned. */
static int ps_link_frame(ps_link_t *l, struct evbuffer *in, size_t len, char type)
{
    char kind[16];
    if (type == '-') {
        char why[128];
        const char *s = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
        snprintf(why, sizeof(why), "%.*s", (int)(len > 3 ? len - 3 : 0), s + 1);
        ps_link_failed(l, why);
        return -1;
    }
    if (l->owed > 0) {
        l->owed--;
        evbuffer_drain(in, len);
        return 0;
    }
    if (ps_frame_kind(in, len, kind, sizeof(kind)) < 0) {
        ps_link_failed(l, "unexpected reply on a subscription connection");
        return -1;
    }
    if (strcmp(kind, "message") == 0 || strcmp(kind, "pmessage") == 0 ||
        strcmp(kind, "smessage") == 0) {
        ps_deliver(l, in, len);
        return 0;
    }
    evbuffer_drain(in, len);
    ps_wait_t *w = l->head;
    if (w == NULL) {
        ps_link_failed(l, "confirmation nobody awaits");
        return -1;
    }
    if (--w->n == 0) {
        l->head = w->next;
        if (l->head == NULL)
            l->tail = NULL;
        ps_op_step(w->op, 1);
        free(w);
        return ps_link_maybe_close(l) ? -1 : 0;
    }
    return 0;
}

static void ps_link_read_cb(conn_t *conn, void *arg)
{
    ps_link_t *l = arg;
    struct evbuffer *in = conn->in;
    struct evbuffer_iovec v[8];
    struct evbuffer_ptr ptr;

    while (!l->ps->client->killed) {
        if (evbuffer_get_length(in) <= l->scan.pos ||
            evbuffer_ptr_set(in, &ptr, l->scan.pos, EVBUFFER_PTR_SET) < 0)
            return;
        int n = evbuffer_peek(in, -1, &ptr, v, 8);
        int rc = RESP_AGAIN;
        for (int i = 0; i < n && i < 8 && rc == RESP_AGAIN; i++) {
            size_t used;
            rc = resp_scan(&l->scan, v[i].iov_base, v[i].iov_len, &used);
        }
        if (rc == RESP_AGAIN)
            continue;
        if (rc == RESP_ERROR) {
            ps_link_failed(l, l->scan.err);
            return;
        }
        size_t len = l->scan.pos;
        char type = l->scan.type;
        resp_scan_init(&l->scan);
        if (ps_link_frame(l, in, len, type) < 0)
            return;
    }
}

static void ps_link_event_cb(conn_t *conn, conn_event_t what, int err, void *arg)
{
    ps_link_t *l = arg;
    if (what == CONN_CONNECTED || what == CONN_TIMEOUT)
        return; /* a subscription connection is idle for as long as it likes */
    ps_link_failed(l, what == CONN_EOF ? "connection closed by the server"
                                       : conn_strerror(conn, err));
}

static const conn_ops_t ps_link_ops = { ps_link_read_cb, NULL, ps_link_event_cb };

/* c's link to s, opened if it has none; NULL with the reason in why if
 * it cannot be. */
static ps_link_t *ps_link_get(pubsub_t *ps, server_t *s, char *why, size_t cap)
{
    worker_t *w = s->worker;
    for (size_t i = 0; i < ps->nlinks; i++) {
        if (ps->links[i]->server == s)
            return ps->links[i];
    }
    int limit = CONFIG_GET(w->cfg->max_subscription_connections);
    if (__atomic_load_n(&ps_nlinks_total, __ATOMIC_RELAXED) >= limit) {
        STAT_INC(w->stats.pubsub_refused);
        snprintf(why, cap, "ERR max-subscription-connections (%d) reached: no new "
                 "subscription connection to pnode %s", limit, s->name);
        return NULL;
    }
    ps_link_t *l = calloc(1, sizeof(*l));
    ps_link_t **links = realloc(ps->links, (ps->nlinks + 1) * sizeof(*links));
    if (links != NULL)
        ps->links = links;
    if (l == NULL || links == NULL) {
        free(l);
        snprintf(why, cap, "ERR out of memory");
        return NULL;
    }
    if (s->addrlen == 0 ||
        (l->conn = server_open(s, &ps_link_ops, l, ps->client->proto == 3, &l->owed)) == NULL) {
        free(l);
        snprintf(why, cap, "ERR pnode %s unavailable: %s", s->name,
                 s->addrlen == 0 ? s->addr_err : s->reason);
        return NULL;
    }
    l->ps = ps;
    l->server = s;
    l->proto = ps->client->proto;
    resp_scan_init(&l->scan);
    ps->links[ps->nlinks++] = l;
    s->nlinks++;
    __atomic_add_fetch(&ps_nlinks_total, 1, __ATOMIC_RELAXED);
    STAT_INC(w->stats.pubsub_links);
    return l;
}

/* Sends "cmd name" on l for op, whose confirmation comes back on l. */
static int ps_send(ps_link_t *l, ps_op_t *op, const char *cmd, const char *name, size_t len)
{
    if (l->tail == NULL || l->tail->op != op) {
        ps_wait_t *w = calloc(1, sizeof(*w));
        if (w == NULL)
            return -1;
        w->op = op;
        op->pending++;
        if (l->tail != NULL)
            l->tail->next = w;
        else
            l->head = w;
        l->tail = w;
    }
    l->tail->n++;
    size_t clen = strlen(cmd);
    evbuffer_add_printf(l->conn->out, "*2\r\n$%zu\r\n%s\r\n$%zu\r\n", clen, cmd, len);
    evbuffer_add(l->conn->out, name, len);
    evbuffer_add(l->conn->out, "\r\n", 2);
    conn_flush_soon(l->conn);
    return 0;
}

static void ps_confirm(pubsub_t *ps, request_t *r, int kind, const char *cmd, const char *name,
                       size_t len)
{
    int proto = ps->client->proto;
    evbuffer_add_printf(r->reply, "%c3\r\n", proto == 3 ? '>' : '*');
    proxycmd_bulk_str(r->reply, cmd);
    if (name != NULL)
        proxycmd_bulk(r->reply, name, len);
    else
        resp3_null(r->reply, proto);
    evbuffer_add_printf(r->reply, ":%zu\r\n", ps_count(ps, kind));
}

/* The links a subscription of kind to name goes on: its pnode's (by the
 * channel as a key, hash tags and all), or for a pattern every pnode's.
 * Returns how many, 0 with the reason in why on failure. */
static size_t ps_targets(pubsub_t *ps, int kind, const char *name, size_t len, ps_link_t **out,
                         char *why, size_t cap)
{
    worker_t *w = ps->client->worker;
    if (kind != PS_PATTERN) {
        ring_node_t node;
        router_lookup(w, name, len, &node);
        out[0] = ps_link_get(ps, w->map[node.pnode], why, cap);
        return out[0] != NULL;
    }
    for (size_t p = 0; p < w->nmap; p++) {
        if ((out[p] = ps_link_get(ps, w->map[p], why, cap)) == NULL)
            return 0;
    }
    return w->nmap;
}

static int ps_add(pubsub_t *ps, int kind, const char *name, size_t len, ps_link_t *link)
{
    if (ps->nsubs[kind] == ps->caps[kind]) {
        size_t cap = ps->caps[kind] ? 2 * ps->caps[kind] : 8;
        ps_sub_t *s = realloc(ps->subs[kind], cap * sizeof(*s));
        if (s == NULL)
            return -1;
        ps->subs[kind] = s;
        ps->caps[kind] = cap;
    }
    ps_sub_t *s = &ps->subs[kind][ps->nsubs[kind]];
    if ((s->name = malloc(len ? len : 1)) == NULL)
        return -1;
    memcpy(s->name, name, len);
    s->len = len;
    s->link = link;
    if (link != NULL)
        link->nsubs++;
    ps->nsubs[kind]++;
    return 0;
}

static void ps_remove(pubsub_t *ps, int kind, ps_sub_t *s)
{
    if (s->link != NULL)
        s->link->nsubs--;
    free(s->name);
    *s = ps->subs[kind][--ps->nsubs[kind]];
}

static int ps_kind(const char *cmd)
{
    if (cmd[0] == 'p')
        return PS_PATTERN;
    if (strcmp(cmd, "ssubscribe") == 0 || strcmp(cmd, "sunsubscribe") == 0)
        return PS_SHARD;
    return PS_CHANNEL;
}

/* One argument of an (un)subscribe, its links already open (targets
 * holds a new subscription's); -1 when out of memory. */
static int ps_one(pubsub_t *ps, request_t *r, ps_op_t *op, const command_t *cmd, int kind,
                  int unsub, const char *name, size_t len, ps_link_t **targets, size_t ntargets)
{
    ps_sub_t *have = ps_find(ps, kind, name, len);
    if (!unsub && have == NULL) {
        for (size_t i = 0; i < ntargets; i++) {
            if (ps_send(targets[i], op, cmd->name, name, len) < 0)
                return -1;
        }
        if (ps_add(ps, kind, name, len, kind == PS_PATTERN ? NULL : targets[0]) < 0)
            return -1;
    } else if (unsub && have != NULL) {
        if (have->link != NULL) {
            if (ps_send(have->link, op, cmd->name, name, len) < 0)
                return -1;
        } else {
            for (size_t i = 0; i < ps->nlinks; i++) {
                if (ps_send(ps->links[i], op, cmd->name, name, len) < 0)
                    return -1;
            }
        }
        ps_remove(ps, kind, have);
    }
    ps_confirm(ps, r, kind, cmd->name, name, len);
    return 0;
}

/* Opens every link the new subscriptions need, before anything is sent,
 * so that a refusal applies nothing. -1 with the reason in why. */
static int ps_open_all(pubsub_t *ps, int kind, const char *base, const resp_arg_t *args,
                       size_t argc, ps_link_t **targets, char *why, size_t cap)
{
    for (size_t i = 1; i < argc; i++) {
        if (ps_find(ps, kind, base + args[i].off, args[i].len) == NULL &&
            ps_targets(ps, kind, base + args[i].off, args[i].len, targets, why, cap) == 0)
            return -1;
    }
    return 0;
}

static ps_op_t *ps_op_new(client_t *c, request_t *r)
{
    pubsub_t *ps = c->pubsub;
    if (ps == NULL && (ps = calloc(1, sizeof(*ps))) == NULL)
        return NULL;
    ps->client = c;
    c->pubsub = ps;
    ps_op_t *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return NULL;
    op->r = r;
    op->pending = 1; /* held until every argument is sent */
    return op;
}

void pubsub_handle(client_t *c, request_t *r, const command_t *cmd, const char *base,
                   const resp_arg_t *args, size_t argc)
{
    worker_t *w = c->worker;
    int kind = ps_kind(cmd->name), unsub = strstr(cmd->name, "unsub") != NULL, rc = 0;
    ps_link_t **targets = calloc(w->nmap ? w->nmap : 1, sizeof(*targets));
    ps_op_t *op = targets != NULL ? ps_op_new(c, r) : NULL;
    pubsub_t *ps = c->pubsub;
    char why[512];

    if (op == NULL) {
        free(targets);
        request_error(r, "ERR out of memory");
        return;
    }
    if (!unsub && ps_open_all(ps, kind, base, args, argc, targets, why, sizeof(why)) < 0) {
        free(targets);
        free(op);
        for (size_t i = ps->nlinks; i > 0; i--)
            ps_link_maybe_close(ps->links[i - 1]);
        request_error(r, "%s", why);
        return;
    }
    if (argc > 1) {
        for (size_t i = 1; i < argc && rc == 0; i++) {
            const char *name = base + args[i].off;
            size_t n = 0;
            if (!unsub && ps_find(ps, kind, name, args[i].len) == NULL)
                n = ps_targets(ps, kind, name, args[i].len, targets, why, sizeof(why));
            rc = ps_one(ps, r, op, cmd, kind, unsub, name, args[i].len, targets, n);
        }
    } else if (ps->nsubs[kind] == 0) {
        ps_confirm(ps, r, kind, cmd->name, NULL, 0);
    } else {
        /* Without arguments: every subscription of that kind. */
        while (ps->nsubs[kind] > 0 && rc == 0) {
            ps_sub_t *s = &ps->subs[kind][ps->nsubs[kind] - 1];
            size_t len = s->len;
            char *name = malloc(len ? len : 1);
            if (name == NULL) {
                rc = -1;
                break;
            }
            memcpy(name, s->name, len);
            rc = ps_one(ps, r, op, cmd, kind, 1, name, len, NULL, 0);
            free(name);
        }
    }
    free(targets);
    if (rc < 0) {
        /* Out of memory midway: the client's state is no longer what was
         * sent, so it goes. */
        log_warn("out of memory in %s: client closed worker=%d", cmd->name, w->id);
        c->killed = 1;
        c->closing = 1;
        conn_abort(c->conn);
    }
    ps_op_step(op, 1);
}

int pubsub_refuse(client_t *c, request_t *r, const command_t *cmd, const char *base,
                  const resp_arg_t *args, size_t argc)
{
    /* Redis names a subcommand as container|sub. */
    static const char *const containers[] = { "client", "config", "command", "object", "memory",
                                              "script", "function", "xinfo", "xgroup", "pubsub",
                                              "cluster", "acl", "latency", "slowlog", "module" };
    char name[96], sub[64];
    static const char *const allowed[] = { "ping", "subscribe", "ssubscribe", "unsubscribe",
                                           "sunsubscribe", "psubscribe", "punsubscribe",
                                           "quit", "reset" };
    if (c->proto != 2 || ps_total(c->pubsub) == 0)
        return 0;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        if (strcmp(cmd->name, allowed[i]) == 0)
            return 0;
    }
    snprintf(name, sizeof(name), "%s", cmd->name);
    for (size_t i = 0; argc > 1 && i < sizeof(containers) / sizeof(containers[0]); i++) {
        if (strcmp(cmd->name, containers[i]) == 0) {
            size_t n = args[1].len < sizeof(sub) - 1 ? args[1].len : sizeof(sub) - 1;
            for (size_t k = 0; k < n; k++)
                sub[k] = (char)tolower((unsigned char)base[args[1].off + k]);
            sub[n] = '\0';
            snprintf(name, sizeof(name), "%s|%s", cmd->name, sub);
        }
    }
    request_error(r, "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                     "QUIT / RESET are allowed in this context", name);
    return 1;
}

int pubsub_ping(client_t *c, request_t *r, const char *base, const resp_arg_t *args, size_t argc)
{
    if (c->proto != 2 || ps_total(c->pubsub) == 0 || argc > 2)
        return 0;
    evbuffer_add(r->reply, "*2\r\n$4\r\npong\r\n", 14);
    proxycmd_bulk(r->reply, argc == 2 ? base + args[1].off : "", argc == 2 ? args[1].len : 0);
    request_done(r);
    return 1;
}

void pubsub_counts(const client_t *c, size_t out[3])
{
    const pubsub_t *ps = c->pubsub;
    out[0] = ps != NULL ? ps->nsubs[PS_CHANNEL] : 0;
    out[1] = ps != NULL ? ps->nsubs[PS_PATTERN] : 0;
    out[2] = ps != NULL ? ps->nsubs[PS_SHARD] : 0;
}

void pubsub_reset(client_t *c, int flush)
{
    pubsub_t *ps = c->pubsub;
    if (ps == NULL)
        return;
    for (int k = 0; k < PS_KINDS; k++) {
        while (ps->nsubs[k] > 0)
            ps_remove(ps, k, &ps->subs[k][ps->nsubs[k] - 1]);
        free(ps->subs[k]);
    }
    while (ps->nlinks > 0)
        ps_link_free(ps->links[ps->nlinks - 1], flush);
    free(ps->links);
    free(ps);
    c->pubsub = NULL;
}
