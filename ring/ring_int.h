/*
 * ring_int.h - the ring's representation, shared by the files of ring/.
 * Nothing outside ring/ includes this.
 */
#ifndef RING_INT_H
#define RING_INT_H

#include "ring.h"

#define RING_NO_PNODE UINT32_MAX

/* Key names of the image (ring-image.md). KEY_GENERATION is ringproxy's
 * own: bumped by every stored change. */
#define KEY_GENERATION "RINGPROXY_GENERATION"
#define PFX_PNODE "/PNODE/"
#define PFX_VNODE "/VNODE/"
#define RING_NAME_MAX 1024

struct ring {
    ring_algo_t algo;
    uint32_t nvnodes;
    uint64_t generation;
    char version[32];
    ring_u256_t interval;
    /* Exact division by the interval without a bignum: see hash.c. */
    unsigned div_shift;
    uint64_t div_hi;

    uint32_t *vnode_pnode; /* nvnodes entries */
    uint8_t *vnode_flags;  /* nvnodes entries */
    char **vnode_data;     /* nvnodes entries, allocated on first data */
    size_t ndata, nro;

    char **pnodes;         /* sorted as byte strings */
    uint32_t *pnode_vnodes;/* vnodes each pnode owns */
    size_t npnodes, pnode_cap;
};

/* hash.c */
void ring_interval_compute(ring_algo_t algo, uint32_t nvnodes, ring_u256_t *out);
void ring_div_prepare(ring_t *r);
int ring_u256_parse_hex(const char *s, size_t len, ring_u256_t *out);
void ring_u256_hex(const ring_u256_t *v, char *buf, size_t len);
int ring_u256_cmp(const ring_u256_t *a, const ring_u256_t *b);

/* image_scan.c: a ring from an image's keys and values, wherever they are
 * stored. get() yields NULL for an absent key; values stay valid until
 * release(). each() calls fn on every key in byte order and stops at the
 * first non-zero return. */
typedef int (*ring_kv_fn)(void *arg, const char *k, size_t klen, const char *v, size_t vlen, char *err);
typedef struct ring_kv ring_kv_t;
struct ring_kv {
    int (*get)(ring_kv_t *kv, const char *key, const char **val, size_t *len, char *err);
    void (*release)(ring_kv_t *kv, const char *val);
    int (*each)(ring_kv_t *kv, ring_kv_fn fn, void *arg, char *err);
};
int ring_image_scan(ring_kv_t *kv, ring_t **out, char *err);

/* ring.c */
ring_t *ring_alloc(ring_algo_t algo, uint32_t nvnodes, char *err);
int ring_name_valid(const char *name, char *err);
void ring_err(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Binary search over the sorted pnodes for the name's len bytes: the
 * index, or -(insertion point) - 1. */
long ring_pnode_search(const ring_t *r, const char *name, size_t len);
/* Recounts per-pnode vnode counts after a bulk build. */
void ring_recount(ring_t *r);

#endif
