/*
 * reshard-copy.c - the keys of moving vnodes: found with SCAN on a pnode
 * and hashed as the proxy hashes them, copied with DUMP, PTTL and RESTORE
 * REPLACE, checked with DUMP on both sides, deleted with UNLINK. Every
 * page of SCAN is one pipelined round trip per pnode involved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reshard.h"
#include "routing_key.h"

#define IO_TIMEOUT_MS 10000
#define IO_SCAN_COUNT "1000"
#define IO_PIPELINE_KEYS 128
#define IO_SAMPLE_PAGES 20

typedef struct {
    struct io_key *k;
    size_t n, cap;
} io_keyset_t;

struct reshard_io {
    const reshard_plan_t *plan;
    const ring_t *ring;
    int hash_tags, dirname;
    volatile sig_atomic_t *stop;
    redis_client_t **conns; /* per plan pnode, connected on first use */
    int32_t *sel;           /* per vnode: index of its move, or -1 */
    const reshard_move_t *moves;
    uint64_t copied;
    io_keyset_t copied_keys; /* the keys step 1 copied for the selection */
    int copied_known;        /* copied_keys is complete */
    void (*progress)(void *);
    void *parg;
};

/* A page of keys of selected vnodes found on one pnode. */
typedef struct {
    const char **key;
    size_t *len;
    const reshard_move_t **move;
    size_t n;
    size_t scanned; /* keys in the SCAN page, selected or not */
} io_page_t;

typedef int (*io_page_fn)(reshard_io_t *io, size_t pnode, const io_page_t *pg, void *arg, char *err);

/* --- key sets: the keys a batch copied, sorted for lookups --------------- */

typedef struct io_key {
    char *s;
    size_t len;
} io_key_t;

static void keyset_clear(io_keyset_t *ks)
{
    size_t i;

    for (i = 0; i < ks->n; i++)
        free(ks->k[i].s);
    free(ks->k);
    memset(ks, 0, sizeof(*ks));
}

static int keyset_add(io_keyset_t *ks, const char *s, size_t len)
{
    io_key_t *k;

    if (ks->n == ks->cap) {
        size_t nc = ks->cap ? ks->cap * 2 : 1024;
        if ((k = realloc(ks->k, nc * sizeof(*k))) == NULL)
            return -1;
        ks->k = k;
        ks->cap = nc;
    }
    if ((ks->k[ks->n].s = malloc(len + 1)) == NULL)
        return -1;
    memcpy(ks->k[ks->n].s, s, len);
    ks->k[ks->n].len = len;
    ks->n++;
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    const io_key_t *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c != 0 ? c : x->len < y->len ? -1 : x->len > y->len;
}

static void keyset_sort(io_keyset_t *ks)
{
    if (ks->n > 0)
        qsort(ks->k, ks->n, sizeof(*ks->k), key_cmp);
}

static int keyset_has(const io_keyset_t *ks, const char *s, size_t len)
{
    io_key_t key = {(char *)s, len};
    return ks->n > 0 && bsearch(&key, ks->k, ks->n, sizeof(*ks->k), key_cmp) != NULL;
}

reshard_io_t *reshard_io_new(const reshard_plan_t *p, const ring_t *r, int hash_tags, int dirname,
                             volatile sig_atomic_t *stop, char *err)
{
    reshard_io_t *io = calloc(1, sizeof(*io));

    if (io == NULL || (io->conns = calloc(p->npnodes, sizeof(*io->conns))) == NULL ||
        (io->sel = malloc(p->nvnodes * sizeof(*io->sel))) == NULL) {
        snprintf(err, RESHARD_ERRLEN, "out of memory");
        reshard_io_free(io);
        return NULL;
    }
    io->plan = p;
    io->ring = r;
    io->hash_tags = hash_tags;
    io->dirname = dirname;
    io->stop = stop;
    reshard_io_select(io, NULL, 0);
    return io;
}

void reshard_io_free(reshard_io_t *io)
{
    size_t i;

    if (io == NULL)
        return;
    for (i = 0; io->conns != NULL && i < io->plan->npnodes; i++)
        redis_client_free(io->conns[i]);
    free(io->conns);
    free(io->sel);
    keyset_clear(&io->copied_keys);
    free(io);
}

void reshard_io_progress(reshard_io_t *io, void (*fn)(void *), void *arg)
{
    io->progress = fn;
    io->parg = arg;
}

uint64_t reshard_io_copied(const reshard_io_t *io)
{
    return io->copied;
}

void reshard_io_select(reshard_io_t *io, const reshard_move_t *moves, size_t n)
{
    size_t i;

    for (i = 0; i < io->plan->nvnodes; i++)
        io->sel[i] = -1;
    for (i = 0; i < n; i++)
        io->sel[moves[i].vnode] = (int32_t)i;
    io->moves = moves;
    keyset_clear(&io->copied_keys);
    io->copied_known = 0;
}

static redis_client_t *conn(reshard_io_t *io, size_t idx, char *err)
{
    char why[RING_ERRLEN];
    ring_addr_t a;

    if (io->conns[idx] != NULL)
        return io->conns[idx];
    if (ring_pnode_addr(io->plan->pnodes[idx], &a, why) < 0) {
        snprintf(err, RESHARD_ERRLEN, "%s", why);
        return NULL;
    }
    if ((io->conns[idx] = redis_client_new(a.host, a.port, IO_TIMEOUT_MS, why)) == NULL)
        snprintf(err, RESHARD_ERRLEN, "pnode %s is unreachable: %s", io->plan->pnodes[idx], why);
    return io->conns[idx];
}

/* A broken connection is dropped so that nothing reads a stale reply. */
static int conn_fail(reshard_io_t *io, size_t idx, const char *why, char *err)
{
    snprintf(err, RESHARD_ERRLEN, "pnode %s: %s", io->plan->pnodes[idx], why);
    redis_client_free(io->conns[idx]);
    io->conns[idx] = NULL;
    return -1;
}

/* Reads the next reply; an error reply is a failure unless allowed. */
static int read_reply(reshard_io_t *io, size_t idx, redis_reply_t **r, const char *what, char *err)
{
    char why[REDIS_ERRLEN];

    if (redis_client_read(io->conns[idx], r, why) < 0)
        return conn_fail(io, idx, why, err);
    if ((*r)->type == REDIS_REPLY_ERROR) {
        snprintf(err, RESHARD_ERRLEN, "pnode %s: %s: %s", io->plan->pnodes[idx], what, (*r)->str);
        redis_reply_free(*r);
        *r = NULL;
        return -1;
    }
    return 0;
}

static int append(reshard_io_t *io, size_t idx, size_t argc, const char *const *argv, const size_t *lens,
                  char *err)
{
    if (redis_client_append(io->conns[idx], argc, argv, lens) < 0)
        return conn_fail(io, idx, "out of memory queueing commands", err);
    return 0;
}

/* The vnode of key as the proxy routes it. */
static uint32_t key_vnode(const reshard_io_t *io, const char *key, size_t len)
{
    const char *rk;
    size_t rklen;

    ring_routing_key(key, len, (io->hash_tags ? RING_ROUTE_HASH_TAGS : 0) |
                     (io->dirname ? RING_ROUTE_DIRNAME : 0), &rk, &rklen);
    return ring_hash_vnode(io->ring, rk, rklen);
}

/* SCANs all of pnode and hands fn, page by page, the keys of selected
 * vnodes whose move starts there (from_side) or ends there; fn returns -1
 * to fail, 1 to stop early, 0 to go on. */
static int scan_pnode(reshard_io_t *io, size_t pnode, int from_side, io_page_fn fn, void *arg, char *err)
{
    char cursor[32] = "0";
    io_page_t pg = {0};
    size_t cap = 0, i;
    int rc = -1;

    if (conn(io, pnode, err) == NULL)
        return -1;
    do {
        const char *argv[] = {"SCAN", cursor, "COUNT", IO_SCAN_COUNT};
        size_t lens[] = {4, strlen(cursor), 5, strlen(IO_SCAN_COUNT)};
        redis_reply_t *r = NULL, *keys;

        if (*io->stop) {
            snprintf(err, RESHARD_ERRLEN, "interrupted");
            goto out;
        }
        if (append(io, pnode, 4, argv, lens, err) < 0 || read_reply(io, pnode, &r, "SCAN", err) < 0)
            goto out;
        if (r->type != REDIS_REPLY_ARRAY || r->nelem != 2 || r->elem[0]->type != REDIS_REPLY_STRING ||
            r->elem[0]->len >= sizeof(cursor) || r->elem[1]->type != REDIS_REPLY_ARRAY) {
            redis_reply_free(r);
            conn_fail(io, pnode, "SCAN: unexpected reply", err);
            goto out;
        }
        memcpy(cursor, r->elem[0]->str, r->elem[0]->len + 1);
        keys = r->elem[1];
        if (keys->nelem > cap) {
            cap = keys->nelem;
            free(pg.key);
            free(pg.len);
            free(pg.move);
            pg.key = malloc(cap * sizeof(*pg.key));
            pg.len = malloc(cap * sizeof(*pg.len));
            pg.move = malloc(cap * sizeof(*pg.move));
            if (pg.key == NULL || pg.len == NULL || pg.move == NULL) {
                redis_reply_free(r);
                snprintf(err, RESHARD_ERRLEN, "out of memory");
                cap = 0;
                goto out;
            }
        }
        pg.n = 0;
        pg.scanned = keys->nelem;
        for (i = 0; i < keys->nelem; i++) {
            const redis_reply_t *k = keys->elem[i];
            int32_t m;
            if (k->type != REDIS_REPLY_STRING || (m = io->sel[key_vnode(io, k->str, k->len)]) < 0)
                continue;
            if ((from_side ? io->moves[m].from : io->moves[m].to) != pnode)
                continue;
            pg.key[pg.n] = k->str;
            pg.len[pg.n] = k->len;
            pg.move[pg.n++] = &io->moves[m];
        }
        /* At most IO_PIPELINE_KEYS keys in flight, so that big values do
         * not pile up in memory. */
        for (i = 0, rc = 0; rc == 0 && (i == 0 || i < pg.n); i += IO_PIPELINE_KEYS) {
            io_page_t part = {pg.key + i, pg.len + i, pg.move + i, 0, i == 0 ? pg.scanned : 0};
            part.n = pg.n - i < IO_PIPELINE_KEYS ? pg.n - i : IO_PIPELINE_KEYS;
            rc = fn(io, pnode, &part, arg, err);
        }
        redis_reply_free(r);
        if (rc != 0)
            goto out;
        rc = -1;
        if (io->progress != NULL)
            io->progress(io->parg);
    } while (strcmp(cursor, "0") != 0);
    rc = 0;
out:
    rc = rc > 0 ? 0 : rc;
    free(pg.key);
    free(pg.len);
    free(pg.move);
    return rc;
}

/* The plan's pnodes that the selection moves vnodes from (from_side) or
 * to: a bitmap over the plan's pnodes. */
static int involved(const reshard_io_t *io, size_t pnode, int from_side)
{
    size_t v;

    for (v = 0; v < io->plan->nvnodes; v++) {
        int32_t m = io->sel[v];
        if (m >= 0 && (from_side ? io->moves[m].from : io->moves[m].to) == pnode)
            return 1;
    }
    return 0;
}

int reshard_io_check(reshard_io_t *io, char *err)
{
    size_t i;

    for (i = 0; i < io->plan->npnodes; i++) {
        const char *scan[] = {"SCAN", "0", "COUNT", "1"}, *exp[] = {"PEXPIRETIME", "ring-tool:reshard:probe"};
        size_t sl[] = {4, 1, 5, 1}, el[] = {11, 23};
        redis_reply_t *r = NULL;
        if (conn(io, i, err) == NULL || append(io, i, 4, scan, sl, err) < 0 ||
            read_reply(io, i, &r, "cannot be scanned", err) < 0)
            return -1;
        redis_reply_free(r);
        /* Expiries are copied to the millisecond with PEXPIRETIME (7.0). */
        if (append(io, i, 2, exp, el, err) < 0 || read_reply(io, i, &r, "needs Redis 7.0 or later", err) < 0)
            return -1;
        redis_reply_free(r);
    }
    return 0;
}

/* --- copying ---------------------------------------------------------------- */

typedef struct {
    uint64_t keys, bytes, kept;
    io_keyset_t seen; /* step 3: the keys the sources have */
    uint8_t *queued;  /* per plan pnode: commands are waiting to be sent */
} copy_ctx_t;

/* Frees replies[0..n). */
static void free_replies(redis_reply_t **r, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        redis_reply_free(r[i]);
}

/* Whether the source still has key (it may have expired since DUMP). */
static int source_has(reshard_io_t *io, size_t src, const char *key, size_t len, int *has, char *err)
{
    const char *argv[] = {"EXISTS", key};
    size_t lens[] = {6, len};
    redis_reply_t *r = NULL;

    if (append(io, src, 2, argv, lens, err) < 0 || read_reply(io, src, &r, "EXISTS", err) < 0)
        return -1;
    *has = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
    redis_reply_free(r);
    return 0;
}

/* DUMP and PEXPIRETIME replies of a key that is not there. */
static int is_gone(const redis_reply_t *dump, const redis_reply_t *exp)
{
    return dump->type != REDIS_REPLY_STRING || exp->type != REDIS_REPLY_INTEGER || exp->integer == -2;
}

/* The same value and the same expiry: DUMP gives equal bytes for equal
 * values, and RESTORE ... ABSTTL keeps the expiry to the millisecond. */
static int same_key(const redis_reply_t *d1, const redis_reply_t *e1, const redis_reply_t *d2,
                    const redis_reply_t *e2)
{
    return !is_gone(d1, e1) && !is_gone(d2, e2) && d1->len == d2->len && memcmp(d1->str, d2->str, d1->len) == 0 &&
           e1->integer == e2->integer;
}

/* Queues DUMP and PEXPIRETIME of key i of the page on pnode idx. */
static int queue_read(reshard_io_t *io, copy_ctx_t *cx, size_t idx, const io_page_t *pg, size_t i, char *err)
{
    const char *dump[] = {"DUMP", pg->key[i]}, *exp[] = {"PEXPIRETIME", pg->key[i]};
    size_t dl[] = {4, pg->len[i]}, el[] = {11, pg->len[i]};

    if (conn(io, idx, err) == NULL || append(io, idx, 2, dump, dl, err) < 0 || append(io, idx, 2, exp, el, err) < 0)
        return -1;
    cx->queued[idx] = 1;
    return 0;
}

/* Queues on the key's target the RESTORE of the source's value with its
 * absolute expiry, and with check, DUMP and PEXPIRETIME to see it. */
static int queue_restore(reshard_io_t *io, copy_ctx_t *cx, const io_page_t *pg, size_t i,
                         const redis_reply_t *d, const redis_reply_t *e, int check, char *err)
{
    size_t t = pg->move[i]->to;
    char ttl[32];
    const char *restore[] = {"RESTORE", pg->key[i], ttl, d->str, "REPLACE", "ABSTTL"};
    size_t lens[] = {7, pg->len[i], 0, d->len, 7, 6};

    snprintf(ttl, sizeof(ttl), "%lld", e->integer > 0 ? e->integer : 0LL);
    lens[2] = strlen(ttl);
    if (conn(io, t, err) == NULL || append(io, t, e->integer > 0 ? 6 : 5, restore, lens, err) < 0)
        return -1;
    cx->queued[t] = 1;
    return check ? queue_read(io, cx, t, pg, i, err) : 0;
}

/* Sends every queued pipeline, so that the servers work at once. */
static int flush_queued(reshard_io_t *io, copy_ctx_t *cx, char *err)
{
    char why[REDIS_ERRLEN];
    size_t i;

    for (i = 0; i < io->plan->npnodes; i++) {
        if (cx->queued[i] && redis_client_flush(io->conns[i], why) < 0)
            return conn_fail(io, i, why, err);
        cx->queued[i] = 0;
    }
    return 0;
}

/* Reads n replies from pnode idx into rs. */
static int read_n(reshard_io_t *io, size_t idx, redis_reply_t **rs, size_t n, const char *what, char *err)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (read_reply(io, idx, &rs[i], what, err) < 0) {
            free_replies(rs, i);
            return -1;
        }
    }
    return 0;
}

/* Step 1, one page of a source: DUMP + PEXPIRETIME every key, RESTORE on
 * its target; the keys copied are remembered for step 3. */
static int bulk_page(reshard_io_t *io, size_t src, const io_page_t *pg, void *arg, char *err)
{
    copy_ctx_t *cx = arg;
    redis_reply_t **rs, *ok = NULL;
    size_t i;
    int rc = -1, got = 0;

    if (pg->n == 0)
        return 0;
    if ((rs = calloc(pg->n * 2, sizeof(*rs))) == NULL) {
        snprintf(err, RESHARD_ERRLEN, "out of memory");
        return -1;
    }
    for (i = 0; i < pg->n; i++) {
        if (queue_read(io, cx, src, pg, i, err) < 0)
            goto out;
    }
    if (read_n(io, src, rs, pg->n * 2, "DUMP", err) < 0)
        goto out;
    got = 1;
    for (i = 0; i < pg->n; i++) {
        if (!is_gone(rs[2 * i], rs[2 * i + 1]) &&
            queue_restore(io, cx, pg, i, rs[2 * i], rs[2 * i + 1], 0, err) < 0)
            goto out;
    }
    if (flush_queued(io, cx, err) < 0)
        goto out;
    for (i = 0; i < pg->n; i++) {
        if (is_gone(rs[2 * i], rs[2 * i + 1]))
            continue;
        if (read_reply(io, pg->move[i]->to, &ok, "RESTORE", err) < 0)
            goto out;
        redis_reply_free(ok);
        io->copied++;
        if (keyset_add(&io->copied_keys, pg->key[i], pg->len[i]) < 0) {
            snprintf(err, RESHARD_ERRLEN, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    if (got)
        free_replies(rs, pg->n * 2);
    free(rs);
    return rc;
}

/* Step 3, one page of a source (its vnodes are ro): reads every key on the
 * source and on its target at once; keys that differ are copied again and
 * read back, keys the source lost are deleted from the target. */
static int sync_page(reshard_io_t *io, size_t src, const io_page_t *pg, void *arg, char *err)
{
    copy_ctx_t *cx = arg;
    redis_reply_t **s, **t, *r[3] = {0};
    uint8_t *todo; /* per key: 1 copy again, 2 delete */
    size_t i, ns = 0, nt = 0;
    int rc = -1, has;

    if (pg->n == 0)
        return 0;
    s = calloc(pg->n * 2, sizeof(*s));
    t = calloc(pg->n * 2, sizeof(*t));
    todo = calloc(pg->n, 1);
    if (s == NULL || t == NULL || todo == NULL) {
        snprintf(err, RESHARD_ERRLEN, "out of memory");
        goto out;
    }
    for (i = 0; i < pg->n; i++) {
        if (queue_read(io, cx, src, pg, i, err) < 0 || queue_read(io, cx, pg->move[i]->to, pg, i, err) < 0)
            goto out;
    }
    if (flush_queued(io, cx, err) < 0)
        goto out;
    for (; ns < pg->n * 2; ns++) {
        if (read_reply(io, src, &s[ns], "DUMP", err) < 0)
            goto out;
    }
    for (; nt < pg->n * 2; nt++) {
        if (read_reply(io, pg->move[nt / 2]->to, &t[nt], "DUMP", err) < 0)
            goto out;
    }
    for (i = 0; i < pg->n; i++) {
        const redis_reply_t *d = s[2 * i], *e = s[2 * i + 1];
        if (is_gone(d, e)) {
            const char *del[] = {"UNLINK", pg->key[i]};
            size_t lens[] = {6, pg->len[i]};
            if (is_gone(t[2 * i], t[2 * i + 1]))
                continue;
            todo[i] = 2;
            if (append(io, pg->move[i]->to, 2, del, lens, err) < 0)
                goto out;
            cx->queued[pg->move[i]->to] = 1;
            continue;
        }
        if (keyset_add(&cx->seen, pg->key[i], pg->len[i]) < 0) {
            snprintf(err, RESHARD_ERRLEN, "out of memory");
            goto out;
        }
        if (same_key(d, e, t[2 * i], t[2 * i + 1])) {
            cx->keys++;
            cx->bytes += d->len;
            continue;
        }
        todo[i] = 1;
        if (queue_restore(io, cx, pg, i, d, e, 1, err) < 0)
            goto out;
    }
    if (flush_queued(io, cx, err) < 0)
        goto out;
    for (i = 0; i < pg->n; i++) {
        size_t to = pg->move[i]->to, k, n = todo[i] == 1 ? 3 : todo[i] == 2 ? 1 : 0;
        const redis_reply_t *d = s[2 * i], *e = s[2 * i + 1];
        int expired = 0;
        if (n == 0)
            continue;
        for (k = 0; k < n; k++) {
            if (read_reply(io, to, &r[k], todo[i] == 1 ? "RESTORE" : "UNLINK", err) < 0)
                goto out;
        }
        if (todo[i] == 1) {
            io->copied++;
            if (same_key(d, e, r[1], r[2])) {
                cx->keys++;
                cx->bytes += d->len;
            } else {
                /* A key with a TTL may have expired on both sides since. */
                if (r[1]->type != REDIS_REPLY_STRING && e->integer > 0) {
                    if (source_has(io, src, pg->key[i], pg->len[i], &has, err) < 0)
                        goto out;
                    expired = !has;
                }
                if (!expired) {
                    snprintf(err, RESHARD_ERRLEN, "key '%.*s' differs between %s and %s after the copy",
                             (int)(pg->len[i] > 200 ? 200 : pg->len[i]), pg->key[i], io->plan->pnodes[src],
                             io->plan->pnodes[to]);
                    goto out;
                }
            }
        }
        free_replies(r, n);
        memset(r, 0, sizeof(r));
    }
    rc = 0;
out:
    free_replies(r, 3);
    if (s != NULL)
        free_replies(s, ns);
    if (t != NULL)
        free_replies(t, nt);
    free(s);
    free(t);
    free(todo);
    return rc;
}

/* One page of a target, when step 1's keys are not known (a resumed
 * reshard): keys the sources do not have are deleted, the rest counted. */
static int extra_page(reshard_io_t *io, size_t tgt, const io_page_t *pg, void *arg, char *err)
{
    copy_ctx_t *cx = arg;
    redis_reply_t *r = NULL;
    size_t i, ndel = 0;

    for (i = 0; i < pg->n; i++) {
        const char *argv[] = {"UNLINK", pg->key[i]};
        size_t lens[] = {6, pg->len[i]};
        if (keyset_has(&cx->seen, pg->key[i], pg->len[i]))
            continue;
        if (append(io, tgt, 2, argv, lens, err) < 0)
            return -1;
        ndel++;
    }
    for (i = 0; i < ndel; i++) {
        if (read_reply(io, tgt, &r, "UNLINK", err) < 0)
            return -1;
        redis_reply_free(r);
    }
    cx->kept += pg->n - ndel;
    return 0;
}

/* Deletes from the targets the keys step 1 copied that the sources no
 * longer have, all pipelined. */
static int drop_lost(reshard_io_t *io, copy_ctx_t *cx, char *err)
{
    const io_keyset_t *ks = &io->copied_keys;
    redis_reply_t *r = NULL;
    size_t i;

    for (i = 0; i < ks->n; i++) {
        const char *argv[] = {"UNLINK", ks->k[i].s};
        size_t lens[] = {6, ks->k[i].len};
        int32_t m = io->sel[key_vnode(io, ks->k[i].s, ks->k[i].len)];
        if (keyset_has(&cx->seen, ks->k[i].s, ks->k[i].len))
            continue;
        if (append(io, io->moves[m].to, 2, argv, lens, err) < 0)
            return -1;
        cx->queued[io->moves[m].to] = 1;
    }
    if (flush_queued(io, cx, err) < 0)
        return -1;
    for (i = 0; i < ks->n; i++) {
        int32_t m = io->sel[key_vnode(io, ks->k[i].s, ks->k[i].len)];
        if (keyset_has(&cx->seen, ks->k[i].s, ks->k[i].len))
            continue;
        if (read_reply(io, io->moves[m].to, &r, "UNLINK", err) < 0)
            return -1;
        redis_reply_free(r);
    }
    return 0;
}

int reshard_io_copy(reshard_io_t *io, int verify, uint64_t *keys, uint64_t *bytes, char *err)
{
    copy_ctx_t cx;
    uint64_t gone;
    size_t i;
    int rc = -1;

    memset(&cx, 0, sizeof(cx));
    if ((cx.queued = calloc(io->plan->npnodes, 1)) == NULL) {
        snprintf(err, RESHARD_ERRLEN, "out of memory");
        return -1;
    }
    if (!verify) {
        /* The targets do not own these vnodes yet, so whatever they hold
         * of them is left from an earlier attempt. */
        keyset_clear(&io->copied_keys);
        io->copied_known = 0;
        if (reshard_io_delete(io, 0, &gone, err) < 0)
            goto out;
        for (i = 0; i < io->plan->npnodes; i++) {
            if (involved(io, i, 1) && scan_pnode(io, i, 1, bulk_page, &cx, err) < 0)
                goto out;
        }
        keyset_sort(&io->copied_keys);
        io->copied_known = 1;
        rc = 0;
        goto out;
    }
    for (i = 0; i < io->plan->npnodes; i++) {
        if (involved(io, i, 1) && scan_pnode(io, i, 1, sync_page, &cx, err) < 0)
            goto out;
    }
    keyset_sort(&cx.seen);
    if (io->copied_known) {
        /* The targets hold step 1's keys and what sync_page wrote. */
        if (drop_lost(io, &cx, err) < 0)
            goto out;
    } else {
        for (i = 0; i < io->plan->npnodes; i++) {
            if (involved(io, i, 0) && scan_pnode(io, i, 0, extra_page, &cx, err) < 0)
                goto out;
        }
        if (cx.kept != cx.keys) {
            snprintf(err, RESHARD_ERRLEN,
                     "key counts differ after the copy: %llu on the sources, %llu on the targets; "
                     "run the command again to copy once more",
                     (unsigned long long)cx.keys, (unsigned long long)cx.kept);
            goto out;
        }
    }
    rc = 0;
out:
    *keys = cx.keys;
    *bytes = cx.bytes;
    keyset_clear(&cx.seen);
    free(cx.queued);
    return rc;
}

/* One page: UNLINK every key, pipelined. */
static int delete_page(reshard_io_t *io, size_t pnode, const io_page_t *pg, void *arg, char *err)
{
    uint64_t *count = arg;
    redis_reply_t *r = NULL;
    size_t i;

    for (i = 0; i < pg->n; i++) {
        const char *argv[] = {"UNLINK", pg->key[i]};
        size_t lens[] = {6, pg->len[i]};
        if (append(io, pnode, 2, argv, lens, err) < 0)
            return -1;
    }
    for (i = 0; i < pg->n; i++) {
        if (read_reply(io, pnode, &r, "UNLINK", err) < 0)
            return -1;
        *count += r->type == REDIS_REPLY_INTEGER ? (uint64_t)r->integer : 0;
        redis_reply_free(r);
    }
    return 0;
}

int reshard_io_delete(reshard_io_t *io, int from_side, uint64_t *keys, char *err)
{
    size_t i;

    *keys = 0;
    for (i = 0; i < io->plan->npnodes; i++) {
        if (involved(io, i, from_side) && scan_pnode(io, i, from_side, delete_page, keys, err) < 0)
            return -1;
    }
    return 0;
}

/* An integer reply to a command without arguments but its name. */
static int int_command(reshard_io_t *io, size_t idx, const char *name, long long *out, char *err)
{
    size_t len = strlen(name);
    redis_reply_t *r = NULL;

    if (conn(io, idx, err) == NULL || append(io, idx, 1, &name, &len, err) < 0 ||
        read_reply(io, idx, &r, name, err) < 0)
        return -1;
    *out = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    redis_reply_free(r);
    return 0;
}

typedef struct {
    uint64_t seen, moving, bytes;
    int pages, stopped;
} sample_ctx_t;

/* One page of the sample (or a part of one: only the first part counts
 * the page's keys): MEMORY USAGE of every moving key, pipelined. */
static int sample_page(reshard_io_t *io, size_t src, const io_page_t *pg, void *arg, char *err)
{
    sample_ctx_t *cx = arg;
    redis_reply_t *u = NULL;
    size_t i;

    if (pg->scanned > 0 && cx->pages++ == IO_SAMPLE_PAGES) {
        cx->stopped = 1;
        return 1;
    }
    for (i = 0; i < pg->n; i++) {
        const char *mu[] = {"MEMORY", "USAGE", pg->key[i]};
        size_t ml[] = {6, 5, pg->len[i]};
        if (append(io, src, 3, mu, ml, err) < 0)
            return -1;
    }
    for (i = 0; i < pg->n; i++) {
        if (read_reply(io, src, &u, "MEMORY USAGE", err) < 0)
            return -1;
        cx->bytes += u->type == REDIS_REPLY_INTEGER ? (uint64_t)u->integer : 0;
        redis_reply_free(u);
    }
    cx->seen += pg->scanned;
    cx->moving += pg->n;
    return 0;
}

/* Samples a source: up to IO_SAMPLE_PAGES pages of SCAN. */
static int estimate_source(reshard_io_t *io, size_t src, char *err)
{
    sample_ctx_t cx = {0};
    long long total;

    if (int_command(io, src, "DBSIZE", &total, err) < 0 || scan_pnode(io, src, 1, sample_page, &cx, err) < 0)
        return -1;
    if (!cx.stopped)
        printf("  from %s: %llu keys, %llu bytes (all %llu keys scanned)\n", io->plan->pnodes[src],
               (unsigned long long)cx.moving, (unsigned long long)cx.bytes, (unsigned long long)cx.seen);
    else {
        double f = cx.seen ? (double)total / (double)cx.seen : 0;
        printf("  from %s: ~%.0f keys, ~%.0f bytes (estimated from %llu of %lld keys)\n", io->plan->pnodes[src],
               (double)cx.moving * f, (double)cx.bytes * f, (unsigned long long)cx.seen, total);
    }
    return 0;
}

int reshard_io_estimate(reshard_io_t *io, char *err)
{
    size_t i;

    printf("keys to move (MEMORY USAGE bytes):\n");
    for (i = 0; i < io->plan->npnodes; i++) {
        if (involved(io, i, 1) && estimate_source(io, i, err) < 0)
            return -1;
    }
    return 0;
}
