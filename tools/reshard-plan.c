/*
 * reshard-plan.c - which vnodes a reshard moves, from where to where, and
 * in which batches: named vnodes, half of a pnode, or the fewest moves that
 * even out the ring.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "reshard.h"

void reshard_plan_free(reshard_plan_t *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->npnodes; i++)
        free(p->pnodes[i]);
    free(p->pnodes);
    free(p->moves);
    free(p->batches);
    free(p->args);
    free(p->ringdir);
    free(p->status);
    free(p);
}

char *reshard_plan_args(const rt_cmd_t *cmd, uint32_t batch)
{
    json_buf_t b;

    json_buf_init(&b);
    if (cmd->split != NULL)
        json_printf(&b, "split %s to %s", cmd->split, cmd->to);
    else if (cmd->rebalance)
        json_printf(&b, "rebalance%s%s", cmd->pnodes ? " adding " : "", cmd->pnodes ? cmd->pnodes : "");
    else
        json_printf(&b, "vnodes %s to %s", cmd->vnodes, cmd->pnodes);
    json_printf(&b, " batch %u%s%s", batch, cmd->hash_tags ? " hash-tags" : "",
                cmd->dirname_routing ? " dirname-routing" : "");
    return json_buf_take(&b, NULL);
}

void reshard_plan_batch(const reshard_plan_t *p, size_t b, size_t *first, size_t *n)
{
    *first = b * p->batch;
    *n = p->nmoves - *first < p->batch ? p->nmoves - *first : p->batch;
}

/* The index of name in the plan's pnodes, added if new; -1 if out of
 * memory. */
static long intern(reshard_plan_t *p, const char *name)
{
    char **np;
    size_t i;

    for (i = 0; i < p->npnodes; i++) {
        if (strcmp(p->pnodes[i], name) == 0)
            return (long)i;
    }
    if ((np = realloc(p->pnodes, (p->npnodes + 1) * sizeof(*np))) == NULL)
        return -1;
    p->pnodes = np;
    if ((np[p->npnodes] = strdup(name)) == NULL)
        return -1;
    return (long)p->npnodes++;
}

/* A pnode reshard can talk to: a tcp:// address without white space. */
static int pnode_ok(const char *name, char *err)
{
    char why[RING_ERRLEN];
    ring_addr_t a;

    if (ring_pnode_addr(name, &a, why) < 0) {
        snprintf(err, RESHARD_ERRLEN, "%s", why);
        return -1;
    }
    if (a.tls || strpbrk(name, " \t\r\n") != NULL) {
        snprintf(err, RESHARD_ERRLEN, "pnode %s: reshard speaks plain TCP to pnodes only", name);
        return -1;
    }
    return 0;
}

static int add_move(reshard_plan_t *p, uint32_t v, const char *from, const char *to, size_t *cap)
{
    long f = intern(p, from), t = intern(p, to);

    if (f < 0 || t < 0)
        return -1;
    if (p->nmoves == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        reshard_move_t *nm = realloc(p->moves, nc * sizeof(*nm));
        if (nm == NULL)
            return -1;
        p->moves = nm;
        *cap = nc;
    }
    p->moves[p->nmoves].vnode = v;
    p->moves[p->nmoves].from = (uint32_t)f;
    p->moves[p->nmoves].to = (uint32_t)t;
    p->nmoves++;
    return 0;
}

static int cmp_move(const void *a, const void *b)
{
    uint32_t x = ((const reshard_move_t *)a)->vnode, y = ((const reshard_move_t *)b)->vnode;
    return x < y ? -1 : x > y;
}

static int plan_vnodes(const rt_cmd_t *cmd, const ring_t *r, reshard_plan_t *p, size_t *cap, char *err)
{
    char why[RING_ERRLEN];
    uint32_t *list;
    size_t n, i;
    int rc = 0;

    if (pnode_ok(cmd->pnodes, err) < 0)
        return -1;
    if (ring_parse_vnode_list(cmd->vnodes, ring_vnode_count(r), &list, &n, why) < 0) {
        snprintf(err, RESHARD_ERRLEN, "%s", why);
        return -1;
    }
    for (i = 0; i < n && rc == 0; i++) {
        ring_node_t node;
        ring_vnode_node(r, list[i], &node);
        if (strcmp(node.name, cmd->pnodes) == 0) {
            snprintf(err, RESHARD_ERRLEN, "vnode %u is already on %s", list[i], cmd->pnodes);
            rc = -1;
        } else if (add_move(p, list[i], node.name, cmd->pnodes, cap) < 0) {
            snprintf(err, RESHARD_ERRLEN, "out of memory");
            rc = -1;
        }
    }
    free(list);
    return rc;
}

static int plan_split(const rt_cmd_t *cmd, const ring_t *r, reshard_plan_t *p, size_t *cap, char *err)
{
    long a = ring_pnode_find(r, cmd->split);
    uint32_t v, seen = 0;

    if (a < 0) {
        snprintf(err, RESHARD_ERRLEN, "pnode %s is not in the ring", cmd->split);
        return -1;
    }
    if (pnode_ok(cmd->split, err) < 0 || pnode_ok(cmd->to, err) < 0)
        return -1;
    if (strcmp(cmd->split, cmd->to) == 0) {
        snprintf(err, RESHARD_ERRLEN, "--split and --to name the same pnode");
        return -1;
    }
    if (ring_pnode_vnode_count(r, (size_t)a) < 2) {
        snprintf(err, RESHARD_ERRLEN, "pnode %s owns fewer than 2 vnodes; there is nothing to split", cmd->split);
        return -1;
    }
    for (v = 0; v < ring_vnode_count(r); v++) {
        ring_node_t node;
        ring_vnode_node(r, v, &node);
        if (node.pnode != (uint32_t)a)
            continue;
        /* Every other vnode: the second, fourth, ... of the pnode's. */
        if (seen++ % 2 == 1 && add_move(p, v, cmd->split, cmd->to, cap) < 0) {
            snprintf(err, RESHARD_ERRLEN, "out of memory");
            return -1;
        }
    }
    return 0;
}

typedef struct {
    const char *name;
    uint32_t count, want;
    uint32_t *vnodes; /* the donors' vnodes */
    uint32_t given;
} rb_pnode_t;

static int cmp_rb(const void *a, const void *b)
{
    const rb_pnode_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The fewest moves so that every pnode owns floor(N/P) or ceil(N/P): the
 * pnodes that own the most keep the extra vnodes, the others give their
 * excess (spread over their vnodes) to those below their share. */
static int plan_rebalance(const rt_cmd_t *cmd, const ring_t *r, reshard_plan_t *p, size_t *cap, char *err)
{
    size_t np = ring_pnode_count(r), i, j, recv = 0;
    uint32_t n = ring_vnode_count(r), v;
    rb_pnode_t *pn;
    int rc = -1;

    if (cmd->pnodes != NULL && pnode_ok(cmd->pnodes, err) < 0)
        return -1;
    if (cmd->pnodes != NULL && ring_pnode_find(r, cmd->pnodes) < 0)
        np++;
    if ((pn = calloc(np, sizeof(*pn))) == NULL)
        goto oom;
    for (i = 0; i < ring_pnode_count(r); i++) {
        pn[i].name = ring_pnode_name(r, i);
        pn[i].count = ring_pnode_vnode_count(r, i);
        if (pnode_ok(pn[i].name, err) < 0)
            goto out;
    }
    if (i < np)
        pn[i].name = cmd->pnodes;
    for (i = 0; i < np; i++) {
        if (pn[i].count > 0 && (pn[i].vnodes = malloc(pn[i].count * sizeof(uint32_t))) == NULL)
            goto oom;
    }
    for (v = 0; v < n; v++) {
        ring_node_t node;
        ring_vnode_node(r, v, &node);
        pn[node.pnode].vnodes[pn[node.pnode].given++] = v;
    }
    qsort(pn, np, sizeof(*pn), cmp_rb);
    for (i = 0; i < np; i++) {
        pn[i].want = (uint32_t)(n / np) + (i < n % np ? 1 : 0);
        pn[i].given = 0;
    }
    for (i = 0; i < np; i++) {
        uint32_t excess = pn[i].count > pn[i].want ? pn[i].count - pn[i].want : 0;
        for (j = 0; j < excess; j++) {
            /* Evenly spaced over the donor's vnodes. */
            uint32_t vn = pn[i].vnodes[(size_t)((j * 2 + 1) * (uint64_t)pn[i].count / (excess * 2))];
            while (recv < np && pn[recv].count + pn[recv].given >= pn[recv].want)
                recv++;
            if (recv == np)
                break;
            pn[recv].given++;
            if (add_move(p, vn, pn[i].name, pn[recv].name, cap) < 0)
                goto oom;
        }
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, RESHARD_ERRLEN, "out of memory");
out:
    for (i = 0; pn != NULL && i < np; i++)
        free(pn[i].vnodes);
    free(pn);
    return rc;
}

int reshard_plan_new(const rt_cmd_t *cmd, const ring_t *r, uint32_t batch, const char *args,
                     reshard_plan_t **out, char *err)
{
    reshard_plan_t *p = calloc(1, sizeof(*p));
    size_t cap = 0, i;
    int rc;

    if (p == NULL || (p->args = strdup(args)) == NULL || (p->status = strdup("running")) == NULL) {
        snprintf(err, RESHARD_ERRLEN, "out of memory");
        reshard_plan_free(p);
        return -1;
    }
    p->nvnodes = ring_vnode_count(r);
    p->batch = batch;
    if (cmd->split != NULL)
        rc = plan_split(cmd, r, p, &cap, err);
    else if (cmd->rebalance)
        rc = plan_rebalance(cmd, r, p, &cap, err);
    else
        rc = plan_vnodes(cmd, r, p, &cap, err);
    if (rc == 0 && p->nmoves == 0) {
        snprintf(err, RESHARD_ERRLEN, "nothing to move: every pnode already owns N/P vnodes, give or take one");
        rc = -1;
    }
    for (i = 0; rc == 0 && i < p->nmoves; i++) {
        const char *d = ring_vnode_data(r, p->moves[i].vnode);
        if (d != NULL) {
            snprintf(err, RESHARD_ERRLEN, "vnode %u has data '%s'; clear it first (add-data -d null)",
                     p->moves[i].vnode, d);
            rc = -1;
        }
    }
    if (rc == 0) {
        qsort(p->moves, p->nmoves, sizeof(*p->moves), cmp_move);
        p->nbatches = (p->nmoves + batch - 1) / batch;
        if ((p->batches = calloc(p->nbatches, sizeof(*p->batches))) == NULL) {
            snprintf(err, RESHARD_ERRLEN, "out of memory");
            rc = -1;
        }
    }
    if (rc < 0) {
        reshard_plan_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void reshard_plan_print(const reshard_plan_t *p)
{
    char ranges[4096];
    uint32_t *vn = malloc(p->nmoves * sizeof(uint32_t) + 1);
    size_t f, t, i, n;

    printf("plan: %s\n", p->args);
    printf("%zu %s in %zu %s of up to %u\n", p->nmoves, p->nmoves == 1 ? "vnode" : "vnodes", p->nbatches,
           p->nbatches == 1 ? "batch" : "batches", p->batch);
    for (f = 0; vn != NULL && f < p->npnodes; f++) {
        for (t = 0; t < p->npnodes; t++) {
            for (i = n = 0; i < p->nmoves; i++) {
                if (p->moves[i].from == f && p->moves[i].to == t)
                    vn[n++] = p->moves[i].vnode;
            }
            if (n == 0)
                continue;
            rt_format_vnodes(vn, n, ranges, sizeof(ranges));
            printf("  %s -> %s: %zu %s: %s\n", p->pnodes[f], p->pnodes[t], n, n == 1 ? "vnode" : "vnodes",
                   ranges);
        }
    }
    free(vn);
}
