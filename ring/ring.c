/*
 * ring.c - the in-memory ring: vnode -> pnode table, pnode names, per-vnode
 * data. Built once, then shared read-only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_int.h"

/* Errors quote names and values from images and command lines: control
 * characters become '?' so that every error stays one printable line. */
void ring_err(char *err, const char *fmt, ...)
{
    va_list ap;
    char *p;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err, RING_ERRLEN, fmt, ap);
    va_end(ap);
    for (p = err; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
}

ring_t *ring_alloc(ring_algo_t algo, uint32_t nvnodes, char *err)
{
    ring_t *r;

    if (nvnodes == 0 || nvnodes > RING_MAX_VNODES) {
        ring_err(err, "vnode count %u out of range (1 to %u)", nvnodes, RING_MAX_VNODES);
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        goto oom;
    r->algo = algo;
    r->nvnodes = nvnodes;
    snprintf(r->version, sizeof(r->version), "%s", RING_VERSION);
    r->vnode_pnode = malloc((size_t)nvnodes * sizeof(uint32_t));
    r->vnode_flags = calloc(nvnodes, 1);
    if (r->vnode_pnode == NULL || r->vnode_flags == NULL)
        goto oom;
    memset(r->vnode_pnode, 0xff, (size_t)nvnodes * sizeof(uint32_t));
    ring_interval_compute(algo, nvnodes, &r->interval);
    ring_div_prepare(r);
    return r;
oom:
    ring_free(r);
    ring_err(err, "out of memory for a ring of %u vnodes", nvnodes);
    return NULL;
}

void ring_free(ring_t *r)
{
    size_t i;

    if (r == NULL)
        return;
    if (r->vnode_data != NULL) {
        for (i = 0; i < r->nvnodes; i++)
            free(r->vnode_data[i]);
        free(r->vnode_data);
    }
    for (i = 0; i < r->npnodes; i++)
        free(r->pnodes[i]);
    free(r->pnodes);
    free(r->pnode_vnodes);
    free(r->vnode_pnode);
    free(r->vnode_flags);
    free(r);
}

/* A pnode name must survive the image's key layout: /PNODE/<p>/<v> is split
 * at its last '/', so a name may not itself end in "/<digits>". */
int ring_name_valid(const char *name, char *err)
{
    size_t len = strlen(name), i;
    const char *slash;

    if (len == 0 || len > RING_NAME_MAX) {
        ring_err(err, "pnode name must be 1 to %d bytes", RING_NAME_MAX);
        return -1;
    }
    for (i = 0; i < len; i++) {
        if ((unsigned char)name[i] < 0x20 || name[i] == ',' || name[i] == 0x7f) {
            ring_err(err, "pnode name '%s' contains a comma or control character", name);
            return -1;
        }
    }
    slash = strrchr(name, '/');
    if (slash != NULL && slash[1] != '\0' && strspn(slash + 1, "0123456789") == strlen(slash + 1)) {
        ring_err(err, "pnode name '%s' ends in /<digits>, which the image layout cannot tell from a vnode", name);
        return -1;
    }
    return 0;
}

ring_t *ring_new(ring_algo_t algo, uint32_t nvnodes, const char *const *pnodes,
                 size_t npnodes, char *err)
{
    ring_t *r;
    size_t i;
    uint32_t v;

    if (npnodes == 0) {
        ring_err(err, "a ring needs at least one pnode");
        return NULL;
    }
    r = ring_alloc(algo, nvnodes, err);
    if (r == NULL)
        return NULL;
    for (i = 0; i < npnodes; i++) {
        if (ring_name_valid(pnodes[i], err) < 0 || ring_add_pnode(r, pnodes[i], err) < 0) {
            ring_free(r);
            return NULL;
        }
    }
    if (r->npnodes != npnodes) {
        ring_err(err, "pnode names must be distinct");
        ring_free(r);
        return NULL;
    }
    for (v = 0; v < nvnodes; v++)
        r->vnode_pnode[v] = v % (uint32_t)r->npnodes;
    ring_recount(r);
    return r;
}

ring_t *ring_clone(const ring_t *src, char *err)
{
    ring_t *r;
    size_t i;

    r = ring_alloc(src->algo, src->nvnodes, err);
    if (r == NULL)
        return NULL;
    r->generation = src->generation;
    memcpy(r->version, src->version, sizeof(r->version));
    memcpy(r->vnode_pnode, src->vnode_pnode, (size_t)src->nvnodes * sizeof(uint32_t));
    memcpy(r->vnode_flags, src->vnode_flags, src->nvnodes);
    r->pnodes = calloc(src->npnodes ? src->npnodes : 1, sizeof(char *));
    r->pnode_vnodes = calloc(src->npnodes ? src->npnodes : 1, sizeof(uint32_t));
    if (r->pnodes == NULL || r->pnode_vnodes == NULL)
        goto oom;
    r->pnode_cap = src->npnodes ? src->npnodes : 1;
    for (i = 0; i < src->npnodes; i++) {
        r->pnodes[i] = strdup(src->pnodes[i]);
        if (r->pnodes[i] == NULL)
            goto oom;
        r->npnodes++;
        r->pnode_vnodes[i] = src->pnode_vnodes[i];
    }
    if (src->vnode_data != NULL) {
        r->vnode_data = calloc(src->nvnodes, sizeof(char *));
        if (r->vnode_data == NULL)
            goto oom;
        for (i = 0; i < src->nvnodes; i++) {
            if (src->vnode_data[i] != NULL && (r->vnode_data[i] = strdup(src->vnode_data[i])) == NULL)
                goto oom;
        }
    }
    r->ndata = src->ndata;
    r->nro = src->nro;
    return r;
oom:
    ring_free(r);
    ring_err(err, "out of memory cloning a ring");
    return NULL;
}

void ring_recount(ring_t *r)
{
    uint32_t v;

    memset(r->pnode_vnodes, 0, r->npnodes * sizeof(uint32_t));
    for (v = 0; v < r->nvnodes; v++) {
        if (r->vnode_pnode[v] < r->npnodes)
            r->pnode_vnodes[r->vnode_pnode[v]]++;
    }
}

void ring_lookup(const ring_t *r, const void *key, size_t len, ring_node_t *out)
{
    ring_vnode_node(r, ring_hash_vnode(r, key, len), out);
}

void ring_vnode_node(const ring_t *r, uint32_t v, ring_node_t *out)
{
    out->vnode = v;
    out->pnode = r->vnode_pnode[v];
    out->name = r->pnodes[out->pnode];
    out->flags = r->vnode_flags[v];
}

uint32_t ring_vnode_count(const ring_t *r) { return r->nvnodes; }
ring_algo_t ring_algo(const ring_t *r) { return r->algo; }
uint64_t ring_generation(const ring_t *r) { return r->generation; }
void ring_set_generation(ring_t *r, uint64_t gen) { r->generation = gen; }
const char *ring_version(const ring_t *r) { return r->version; }
const ring_u256_t *ring_interval(const ring_t *r) { return &r->interval; }
size_t ring_pnode_count(const ring_t *r) { return r->npnodes; }
const char *ring_pnode_name(const ring_t *r, size_t idx) { return r->pnodes[idx]; }
uint32_t ring_pnode_vnode_count(const ring_t *r, size_t idx) { return r->pnode_vnodes[idx]; }
size_t ring_data_count(const ring_t *r) { return r->ndata; }
size_t ring_ro_count(const ring_t *r) { return r->nro; }

void ring_interval_hex(const ring_t *r, char *buf, size_t len)
{
    ring_u256_hex(&r->interval, buf, len);
}

long ring_pnode_search(const ring_t *r, const char *name, size_t len)
{
    size_t lo = 0, hi = r->npnodes;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *p = r->pnodes[mid];
        size_t plen = strlen(p);
        int c = memcmp(p, name, plen < len ? plen : len);
        if (c == 0)
            c = plen < len ? -1 : plen > len ? 1 : 0;
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

long ring_pnode_find(const ring_t *r, const char *name)
{
    long i = ring_pnode_search(r, name, strlen(name));
    return i >= 0 ? i : -1;
}

const char *ring_vnode_data(const ring_t *r, uint32_t v)
{
    if (r->vnode_data == NULL || v >= r->nvnodes)
        return NULL;
    return r->vnode_data[v];
}

uint32_t *ring_data_vnodes(const ring_t *r, size_t *n)
{
    uint32_t *out, v;
    size_t k = 0;

    out = malloc((r->ndata ? r->ndata : 1) * sizeof(uint32_t));
    if (out == NULL) {
        *n = 0;
        return NULL;
    }
    for (v = 0; v < r->nvnodes && k < r->ndata; v++) {
        if (r->vnode_flags[v] & RING_VNODE_DATA)
            out[k++] = v;
    }
    *n = k;
    return out;
}

long ring_add_pnode(ring_t *r, const char *name, char *err)
{
    long pos = ring_pnode_search(r, name, strlen(name));
    size_t at;
    char *copy;
    uint32_t v;

    if (pos >= 0)
        return pos;
    if (ring_name_valid(name, err) < 0)
        return -1;
    at = (size_t)(-pos - 1);
    if (r->npnodes == r->pnode_cap) {
        size_t cap = r->pnode_cap ? r->pnode_cap * 2 : 4;
        char **p = realloc(r->pnodes, cap * sizeof(char *));
        uint32_t *c;
        if (p == NULL)
            goto oom;
        r->pnodes = p;
        c = realloc(r->pnode_vnodes, cap * sizeof(uint32_t));
        if (c == NULL)
            goto oom;
        r->pnode_vnodes = c;
        r->pnode_cap = cap;
    }
    copy = strdup(name);
    if (copy == NULL)
        goto oom;
    memmove(&r->pnodes[at + 1], &r->pnodes[at], (r->npnodes - at) * sizeof(char *));
    memmove(&r->pnode_vnodes[at + 1], &r->pnode_vnodes[at], (r->npnodes - at) * sizeof(uint32_t));
    r->pnodes[at] = copy;
    r->pnode_vnodes[at] = 0;
    r->npnodes++;
    if (at + 1 < r->npnodes) {
        for (v = 0; v < r->nvnodes; v++) {
            if (r->vnode_pnode[v] != RING_NO_PNODE && r->vnode_pnode[v] >= at)
                r->vnode_pnode[v]++;
        }
    }
    return (long)at;
oom:
    ring_err(err, "out of memory adding pnode '%s'", name);
    return -1;
}

int ring_remove_pnode(ring_t *r, const char *name, char *err)
{
    long idx = ring_pnode_find(r, name);
    size_t at;
    uint32_t v;

    if (idx < 0) {
        ring_err(err, "pnode '%s' is not in the ring", name);
        return -1;
    }
    at = (size_t)idx;
    if (r->pnode_vnodes[at] != 0) {
        ring_err(err, "pnode '%s' still owns %u vnodes: remap them first", name, r->pnode_vnodes[at]);
        return -1;
    }
    if (r->npnodes == 1) {
        ring_err(err, "pnode '%s' is the ring's only pnode", name);
        return -1;
    }
    free(r->pnodes[at]);
    memmove(&r->pnodes[at], &r->pnodes[at + 1], (r->npnodes - at - 1) * sizeof(char *));
    memmove(&r->pnode_vnodes[at], &r->pnode_vnodes[at + 1], (r->npnodes - at - 1) * sizeof(uint32_t));
    r->npnodes--;
    for (v = 0; v < r->nvnodes; v++) {
        if (r->vnode_pnode[v] > at && r->vnode_pnode[v] != RING_NO_PNODE)
            r->vnode_pnode[v]--;
    }
    return 0;
}

int ring_rename_pnode(ring_t *r, const char *from, const char *to, char *err)
{
    long src = ring_pnode_find(r, from), dst;
    uint32_t v, moved = 0;

    if (src < 0) {
        ring_err(err, "pnode '%s' is not in the ring", from);
        return -1;
    }
    if (ring_pnode_find(r, to) >= 0) {
        ring_err(err, "pnode '%s' is already in the ring", to);
        return -1;
    }
    dst = ring_add_pnode(r, to, err);
    if (dst < 0)
        return -1;
    src = ring_pnode_find(r, from);
    for (v = 0; v < r->nvnodes; v++) {
        if (r->vnode_pnode[v] == (uint32_t)src) {
            r->vnode_pnode[v] = (uint32_t)dst;
            moved++;
        }
    }
    r->pnode_vnodes[dst] = moved;
    r->pnode_vnodes[src] = 0;
    return ring_remove_pnode(r, from, err);
}

void ring_set_vnode_pnode(ring_t *r, uint32_t v, uint32_t pnode)
{
    uint32_t old = r->vnode_pnode[v];

    if (old != RING_NO_PNODE)
        r->pnode_vnodes[old]--;
    r->vnode_pnode[v] = pnode;
    r->pnode_vnodes[pnode]++;
}

int ring_set_vnode_data(ring_t *r, uint32_t v, const char *data, char *err)
{
    char *copy = NULL;
    uint8_t flags = r->vnode_flags[v];

    if (data != NULL) {
        if (strlen(data) > RING_NAME_MAX) {
            ring_err(err, "vnode data must be at most %d bytes", RING_NAME_MAX);
            return -1;
        }
        if (r->vnode_data == NULL && (r->vnode_data = calloc(r->nvnodes, sizeof(char *))) == NULL)
            goto oom;
        if ((copy = strdup(data)) == NULL)
            goto oom;
    }
    if (flags & RING_VNODE_DATA)
        r->ndata--;
    if (flags & RING_VNODE_RO)
        r->nro--;
    if (r->vnode_data != NULL) {
        free(r->vnode_data[v]);
        r->vnode_data[v] = copy;
    }
    flags = 0;
    if (copy != NULL) {
        flags = RING_VNODE_DATA;
        r->ndata++;
        if (strcmp(copy, "ro") == 0) {
            flags |= RING_VNODE_RO;
            r->nro++;
        }
    }
    r->vnode_flags[v] = flags;
    return 0;
oom:
    ring_err(err, "out of memory setting data of vnode %u", v);
    return -1;
}
