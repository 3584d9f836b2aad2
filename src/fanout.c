/*
 * fanout.c - which merge a command takes, and the merges. Every merge but
 * SCRIPT/FUNCTION KILL's answers the first pnode error it finds, so a
 * command any pnode refused is never reported as done.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "fanout.h"
#include "multikey.h"
#include "proxycmd.h"
#include "resp3.h"
#include "router.h"
#include "scan.h"
#include "script.h"
#include "worker.h"

typedef enum {
    FANOUT_SUM,    /* integers added: DBSIZE */
    FANOUT_MIN,    /* the least integer: WAIT, LASTSAVE */
    FANOUT_SAME,   /* the reply when all are equal: FLUSHALL, SCRIPT LOAD... */
    FANOUT_SET,    /* the first pnode's reply when all are equal but for the
                    * order of elements (hash order differs per process):
                    * FUNCTION LIST, FUNCTION STATS */
    FANOUT_FIRST,  /* the first pnode's reply: FUNCTION DUMP (its bytes
                    * follow that order too) */
    FANOUT_CONCAT, /* arrays joined: KEYS */
    FANOUT_AND,    /* arrays of 0/1, element-wise least: SCRIPT EXISTS */
    FANOUT_ANY_OK, /* +OK if any pnode says so: SCRIPT KILL, FUNCTION KILL */
    FANOUT_RANDOM, /* a random non-nil reply: RANDOMKEY */
} fanout_kind_t;

/* What the merge needs besides the replies. */
typedef struct fanout_ask {
    fanout_kind_t kind;
    int flush;         /* SCRIPT FLUSH: forget the kept bodies */
    size_t keeplen;
    char keep[];       /* SCRIPT LOAD's body, kept under the sha it gets */
} fanout_ask_t;

#define FANOUT_DISAGREE "-ERR the pnodes' replies differ (ask each pnode directly)\r\n"
#define FANOUT_BAD "-ERR unexpected reply from a pnode\r\n"

void fanout_encode(struct evbuffer *out, const char *base, const resp_arg_t *args, size_t from,
                   size_t argc)
{
    for (size_t i = from; i < argc; i++)
        proxycmd_bulk(out, base + args[i].off, args[i].len);
}

static const char *fanout_reply(request_t *part, size_t *len)
{
    *len = evbuffer_get_length(part->reply);
    return (const char *)evbuffer_pullup(part->reply, -1);
}

/* The elements of the array reply s (len bytes): their count and where
 * they start; -1 when it is not an array. */
static int fanout_array(const char *s, size_t len, long long *n, const char **elems)
{
    const char *nl = len > 0 && s[0] == '*' ? memchr(s, '\n', len) : NULL;
    if (nl == NULL)
        return -1;
    *n = strtoll(s + 1, NULL, 10);
    *elems = nl + 1;
    return *n < 0 ? -1 : 0;
}

static int fanout_integers(request_t *r, request_t *const *parts, size_t nparts, int min)
{
    long long acc = 0;
    for (size_t p = 0; p < nparts; p++) {
        size_t len;
        long long v;
        const char *s = fanout_reply(parts[p], &len);
        if (multikey_integer(s, len, &v) < 0)
            return -1;
        acc = p == 0 ? v : min ? (v < acc ? v : acc) : acc + v;
    }
    evbuffer_add_printf(r->reply, ":%lld\r\n", acc);
    return 0;
}

static int fanout_same(request_t *r, request_t *const *parts, size_t nparts)
{
    size_t len0, len;
    const char *s0 = fanout_reply(parts[0], &len0);
    for (size_t p = 1; p < nparts; p++) {
        const char *s = fanout_reply(parts[p], &len);
        if (len != len0 || memcmp(s, s0, len) != 0) {
            evbuffer_add(r->reply, FANOUT_DISAGREE, sizeof(FANOUT_DISAGREE) - 1);
            return 0;
        }
    }
    evbuffer_add(r->reply, s0, len0);
    return 0;
}

typedef struct fanout_elem {
    char *s;
    size_t len;
} fanout_elem_t;

static int fanout_elem_cmp(const void *a, const void *b)
{
    const fanout_elem_t *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* The reply of len bytes at s with every array's elements sorted, at
 * every depth, into out; returns the bytes of s it used, 0 if malformed. */
static size_t fanout_canon(const char *s, size_t len, struct evbuffer *out)
{
    size_t n = resp_reply_len(s, len);
    long long count;
    const char *e;
    if (n == 0 || fanout_array(s, n, &count, &e) < 0 || count == 0) {
        evbuffer_add(out, s, n);
        return n;
    }
    fanout_elem_t *el = calloc((size_t)count, sizeof(*el));
    struct evbuffer *tmp = evbuffer_new();
    size_t ok = el != NULL && tmp != NULL ? n : 0;
    for (long long i = 0; ok && i < count; i++) {
        size_t used = fanout_canon(e, n - (size_t)(e - s), tmp);
        el[i].len = evbuffer_get_length(tmp);
        el[i].s = malloc(el[i].len + 1);
        if (used == 0 || el[i].s == NULL)
            ok = 0;
        else
            evbuffer_remove(tmp, el[i].s, el[i].len);
        e += used;
    }
    if (ok) {
        qsort(el, (size_t)count, sizeof(*el), fanout_elem_cmp);
        evbuffer_add_printf(out, "*%lld\r\n", count);
        for (long long i = 0; i < count; i++)
            evbuffer_add(out, el[i].s, el[i].len);
    }
    for (long long i = 0; el != NULL && i < count; i++)
        free(el[i].s);
    free(el);
    if (tmp != NULL)
        evbuffer_free(tmp);
    return ok;
}

static int fanout_set(request_t *r, request_t *const *parts, size_t nparts)
{
    struct evbuffer *first = evbuffer_new(), *other = evbuffer_new();
    int rc = -1, same = 1;
    size_t len0, len;
    const char *s0 = fanout_reply(parts[0], &len0);
    if (first == NULL || other == NULL || fanout_canon(s0, len0, first) != len0)
        goto out;
    size_t clen = evbuffer_get_length(first);
    const char *c0 = (const char *)evbuffer_pullup(first, -1);
    for (size_t p = 1; p < nparts && same; p++) {
        const char *s = fanout_reply(parts[p], &len);
        evbuffer_drain(other, evbuffer_get_length(other));
        if (fanout_canon(s, len, other) != len)
            goto out;
        same = evbuffer_get_length(other) == clen &&
               memcmp(evbuffer_pullup(other, -1), c0, clen) == 0;
    }
    if (same)
        evbuffer_add(r->reply, s0, len0);
    else
        evbuffer_add(r->reply, FANOUT_DISAGREE, sizeof(FANOUT_DISAGREE) - 1);
    rc = 0;
out:
    if (first != NULL)
        evbuffer_free(first);
    if (other != NULL)
        evbuffer_free(other);
    return rc;
}

static int fanout_concat(request_t *r, request_t *const *parts, size_t nparts)
{
    long long total = 0, n;
    const char *elems;
    for (size_t p = 0; p < nparts; p++) {
        size_t len;
        const char *s = fanout_reply(parts[p], &len);
        if (fanout_array(s, len, &n, &elems) < 0)
            return -1;
        total += n;
    }
    evbuffer_add_printf(r->reply, "*%lld\r\n", total);
    for (size_t p = 0; p < nparts; p++) {
        size_t len;
        const char *s = fanout_reply(parts[p], &len);
        fanout_array(s, len, &n, &elems);
        evbuffer_add(r->reply, elems, len - (size_t)(elems - s));
    }
    return 0;
}

/* SCRIPT EXISTS: a script exists only where every pnode has it. */
static int fanout_and(request_t *r, request_t *const *parts, size_t nparts)
{
    long long n0, n;
    const char *e0, *e;
    size_t len0, len;
    const char *s0 = fanout_reply(parts[0], &len0);
    if (fanout_array(s0, len0, &n0, &e0) < 0)
        return -1;
    char *all = malloc((size_t)n0 + 1);
    if (all == NULL)
        return -1;
    memset(all, 1, (size_t)n0 + 1);
    for (size_t p = 0; p < nparts; p++) {
        const char *s = fanout_reply(parts[p], &len);
        if (fanout_array(s, len, &n, &e) < 0 || n != n0) {
            free(all);
            return -1;
        }
        for (long long i = 0; i < n; i++) {
            size_t el = resp_reply_len(e, len - (size_t)(e - s));
            long long v;
            if (el == 0 || multikey_integer(e, el, &v) < 0) {
                free(all);
                return -1;
            }
            all[i] &= v != 0;
            e += el;
        }
    }
    evbuffer_add_printf(r->reply, "*%lld\r\n", n0);
    for (long long i = 0; i < n0; i++)
        evbuffer_add_printf(r->reply, ":%d\r\n", all[i]);
    free(all);
    return 0;
}

/* RANDOMKEY: each pnode's random key, and one of those at random, so a
 * pnode without keys is never the one asked. */
static int fanout_random(request_t *r, request_t *const *parts, size_t nparts)
{
    size_t found = 0, pick = 0, len;
    for (size_t p = 0; p < nparts; p++) {
        const char *s = fanout_reply(parts[p], &len);
        if (len > 0 && s[0] == '$' && s[1] != '-' && random() % (long)++found == 0)
            pick = p;
    }
    if (found == 0) {
        resp3_null(r->reply, r->client != NULL ? r->client->proto : 2);
        return 0;
    }
    const char *s = fanout_reply(parts[pick], &len);
    evbuffer_add(r->reply, s, len);
    return 0;
}

static void fanout_merge(request_t *r, request_t *const *parts, size_t nparts, void *arg)
{
    const fanout_ask_t *ask = arg;
    fanout_kind_t kind = ask->kind;
    int rc = 0;
    if (ask->flush)
        script_store_clear();
    for (size_t p = 0; p < nparts; p++) {
        size_t len;
        const char *s = fanout_reply(parts[p], &len);
        if (kind == FANOUT_ANY_OK && len == 5 && memcmp(s, "+OK\r\n", 5) == 0) {
            evbuffer_add(r->reply, s, len);
            return;
        }
    }
    for (size_t p = 0; p < nparts; p++) {
        size_t len;
        const char *s = fanout_reply(parts[p], &len);
        if (len > 0 && s[0] == '-') {
            request_failed(r);
            evbuffer_add(r->reply, s, len);
            return;
        }
    }
    switch (kind) {
    case FANOUT_SUM:
    case FANOUT_MIN:
        rc = fanout_integers(r, parts, nparts, kind == FANOUT_MIN);
        break;
    case FANOUT_SAME:
    case FANOUT_ANY_OK:
        rc = fanout_same(r, parts, nparts);
        break;
    case FANOUT_SET:
        rc = fanout_set(r, parts, nparts);
        break;
    case FANOUT_FIRST: {
        size_t len;
        const char *s = fanout_reply(parts[0], &len);
        evbuffer_add(r->reply, s, len);
        break;
    }
    case FANOUT_CONCAT:
        rc = fanout_concat(r, parts, nparts);
        break;
    case FANOUT_AND:
        rc = fanout_and(r, parts, nparts);
        break;
    case FANOUT_RANDOM:
        rc = fanout_random(r, parts, nparts);
        break;
    }
    if (rc < 0) {
        evbuffer_drain(r->reply, evbuffer_get_length(r->reply));
        evbuffer_add(r->reply, FANOUT_BAD, sizeof(FANOUT_BAD) - 1);
    }
    size_t len = evbuffer_get_length(r->reply);
    const char *sha = (const char *)evbuffer_pullup(r->reply, -1);
    if (ask->keeplen > 0 && len == 47 && memcmp(sha, "$40\r\n", 5) == 0)
        script_store_put(sha + 5, 40, ask->keep, ask->keeplen - 1);
}

static fanout_kind_t fanout_kind(const command_t *cmd, const char *base, const resp_arg_t *args,
                                 size_t argc)
{
    const char *sub = argc > 1 ? base + args[1].off : "";
    size_t len = argc > 1 ? args[1].len : 0;
    if (strcmp(cmd->name, "dbsize") == 0)
        return FANOUT_SUM;
    if (strcmp(cmd->name, "wait") == 0 || strcmp(cmd->name, "lastsave") == 0)
        return FANOUT_MIN;
    if (strcmp(cmd->name, "keys") == 0)
        return FANOUT_CONCAT;
    if (strcmp(cmd->name, "randomkey") == 0)
        return FANOUT_RANDOM;
    if (strcmp(cmd->name, "script") == 0 && proxycmd_is(sub, len, "exists"))
        return FANOUT_AND;
    if (proxycmd_is(sub, len, "kill"))
        return FANOUT_ANY_OK;
    if (strcmp(cmd->name, "function") == 0 &&
        (proxycmd_is(sub, len, "list") || proxycmd_is(sub, len, "stats")))
        return FANOUT_SET;
    if (strcmp(cmd->name, "function") == 0 && proxycmd_is(sub, len, "dump"))
        return FANOUT_FIRST;
    return FANOUT_SAME;
}

/* WAIT n 0 waits for ever, holding a pnode connection other clients
 * share: only a bounded WAIT, or one for no replica, is passed on. */
static int fanout_wait_bounded(const char *base, const resp_arg_t *args)
{
    return !proxycmd_is(base + args[2].off, args[2].len, "0") ||
           proxycmd_is(base + args[1].off, args[1].len, "0");
}

void fanout_handle(client_t *c, request_t *r, const command_t *cmd, const char *base,
                   const resp_arg_t *args, size_t argc)
{
    worker_t *w = c->worker;
    if (strcmp(cmd->name, "scan") == 0) {
        scan_handle(c, r, base, args, argc);
        return;
    }
    if (strcmp(cmd->name, "wait") == 0 && !fanout_wait_bounded(base, args)) {
        router_unsupported(r, base + args[0].off, args[0].len, " without a timeout");
        return;
    }
    int script = strcmp(cmd->name, "script") == 0;
    int load = script && argc == 3 && proxycmd_is(base + args[1].off, args[1].len, "load");
    /* keeplen counts one byte more, so that 0 means nothing to keep. */
    size_t keeplen = load ? args[2].len + 1 : 0;
    fanout_ask_t *ask = malloc(sizeof(*ask) + keeplen);
    struct evbuffer *req = evbuffer_new();
    if (ask == NULL || req == NULL) {
        free(ask);
        if (req != NULL)
            evbuffer_free(req);
        request_error(r, "ERR out of memory");
        return;
    }
    ask->kind = fanout_kind(cmd, base, args, argc);
    ask->flush = script && proxycmd_is(base + args[1].off, args[1].len, "flush");
    ask->keeplen = keeplen;
    if (load)
        memcpy(ask->keep, base + args[2].off, args[2].len);
    evbuffer_add_printf(req, "*%zu\r\n", argc);
    fanout_encode(req, base, args, 0, argc);
    size_t len = evbuffer_get_length(req);
    if (multikey_fanout(w, r, (const char *)evbuffer_pullup(req, -1), len, fanout_merge, ask,
                        free) < 0) {
        free(ask);
        request_error(r, "ERR out of memory");
    }
    evbuffer_free(req);
}
