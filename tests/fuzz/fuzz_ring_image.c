/*
 * fuzz_ring_image.c - libFuzzer target: ring images with arbitrary keys and
 * values, validated by the same scanner that reads LevelDB images. The input
 * is lines "KEY<TAB>VALUE"; the image is those pairs sorted as LevelDB sorts
 * keys (bytewise), the last of equal keys winning. Every image must load or
 * be refused with a one-line error; a loaded ring must be self-consistent.
 *
 * FUZZ_SOURCES: ring/
 */
#include <stdlib.h>
#include <string.h>

#include "ring_int.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

typedef struct {
    const char *k, *v;
    size_t klen, vlen;
    size_t order;
} pair_t;

typedef struct {
    ring_kv_t kv;
    pair_t *pairs;
    size_t n;
} mem_kv_t;

static int keycmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c != 0 ? c : (al > bl) - (al < bl);
}

static int cmp_pair(const void *x, const void *y)
{
    const pair_t *a = x, *b = y;
    int c = keycmp(a->k, a->klen, b->k, b->klen);
    return c != 0 ? c : (a->order > b->order) - (a->order < b->order);
}

static int mem_get(ring_kv_t *kv, const char *key, const char **val, size_t *len, char *err)
{
    mem_kv_t *m = (mem_kv_t *)kv;
    size_t i;

    (void)err;
    *val = NULL;
    *len = 0;
    for (i = 0; i < m->n; i++) {
        if (keycmp(m->pairs[i].k, m->pairs[i].klen, key, strlen(key)) == 0) {
            *val = m->pairs[i].v;
            *len = m->pairs[i].vlen;
            return 0;
        }
    }
    return 0;
}

static void mem_release(ring_kv_t *kv, const char *val)
{
    (void)kv;
    (void)val;
}

static int mem_each(ring_kv_t *kv, ring_kv_fn fn, void *arg, char *err)
{
    mem_kv_t *m = (mem_kv_t *)kv;
    size_t i;

    for (i = 0; i < m->n; i++) {
        if (fn(arg, m->pairs[i].k, m->pairs[i].klen, m->pairs[i].v, m->pairs[i].vlen, err) != 0)
            return -1;
    }
    return 0;
}

static void check_ring(const ring_t *r)
{
    uint32_t v, total = 0;
    size_t i, ndata = 0, nro = 0;

    for (i = 0; i < ring_pnode_count(r); i++)
        total += ring_pnode_vnode_count(r, i);
    if (total != ring_vnode_count(r))
        abort();
    for (v = 0; v < ring_vnode_count(r); v++) {
        ring_node_t node;
        ring_vnode_node(r, v, &node);
        if (node.pnode >= ring_pnode_count(r) || strcmp(node.name, ring_pnode_name(r, node.pnode)) != 0)
            abort();
        if (ring_vnode_data(r, v) != NULL)
            ndata++;
        if (node.flags & RING_VNODE_RO)
            nro++;
    }
    if (ndata != ring_data_count(r) || nro != ring_ro_count(r))
        abort();
    if (ring_hash_vnode(r, "key", 3) >= ring_vnode_count(r))
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    mem_kv_t m = {{mem_get, mem_release, mem_each}, NULL, 0};
    const char *p = (const char *)data, *end = p + size;
    char err[RING_ERRLEN];
    ring_t *r = NULL;
    size_t cap = 0, i, k;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *tab;
        if (nl == NULL)
            nl = end;
        tab = memchr(p, '\t', (size_t)(nl - p));
        if (tab != NULL) {
            if (m.n == cap) {
                cap = cap ? cap * 2 : 16;
                m.pairs = realloc(m.pairs, cap * sizeof(pair_t));
                if (m.pairs == NULL)
                    abort();
            }
            m.pairs[m.n] = (pair_t){p, tab + 1, (size_t)(tab - p), (size_t)(nl - tab - 1), m.n};
            m.n++;
        }
        p = nl + 1;
    }
    if (m.n > 0)
        qsort(m.pairs, m.n, sizeof(pair_t), cmp_pair);
    for (i = 0, k = 0; i < m.n; i++) {
        if (k > 0 && keycmp(m.pairs[k - 1].k, m.pairs[k - 1].klen, m.pairs[i].k, m.pairs[i].klen) == 0)
            m.pairs[k - 1] = m.pairs[i];
        else
            m.pairs[k++] = m.pairs[i];
    }
    m.n = k;
    err[0] = '\0';
    if (ring_image_scan(&m.kv, &r, err) == 0) {
        check_ring(r);
        ring_free(r);
    } else if (err[0] == '\0' || strchr(err, '\n') != NULL) {
        abort(); /* every refusal says why, on one line */
    }
    free(m.pairs);
    return 0;
}
