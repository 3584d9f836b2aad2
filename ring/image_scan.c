/*
 * image_scan.c - builds a ring from the keys and values of an image in
 * node-fash's layout and validates it, naming the first inconsistency.
 * It reads through a ring_kv_t, so the same code checks a LevelDB image
 * (image.c) and the fuzzer's images in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "ring_int.h"

/* A fetched value, released through the source. */
typedef struct {
    const char *v;
    size_t len;
} val_t;

static int kv_get(ring_kv_t *kv, const char *key, val_t *out, char *err)
{
    return kv->get(kv, key, &out->v, &out->len, err);
}

static int bad_json(char *err, const char *key, const char *what)
{
    ring_err(err, "value of %s is not %s", key, what);
    return -1;
}

/* Parses a decimal vnode number that must be < n. */
static int parse_vnode(const char *s, size_t len, uint32_t n, uint32_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (len == 0 || len > 10 || (s[0] == '0' && len > 1))
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v >= n)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* The pnode whose name is exactly s[0..len), or -1. */
static long find_pnode(const ring_t *r, const char *s, size_t len)
{
    long i = ring_pnode_search(r, s, len);
    return i >= 0 ? i : -1;
}

/* The scalar keys, checked in the order that names the most telling
 * problem first. */
static int read_header(ring_kv_t *kv, ring_t **out, char *err)
{
    val_t vc = {0}, alg = {0}, complete = {0}, ver = {0}, gen = {0};
    json_cur_t c;
    uint64_t n = 0, g = 0, one;
    ring_algo_t algo = RING_HASH_SHA256;
    char *name = NULL, *max = NULL, *interval = NULL, *key = NULL, *version = NULL;
    ring_t *r = NULL;
    int more;

    if (kv_get(kv, "COMPLETE", &complete, err) < 0 || kv_get(kv, "VNODE_COUNT", &vc, err) < 0 ||
        kv_get(kv, "ALGORITHM", &alg, err) < 0 || kv_get(kv, "VERSION", &ver, err) < 0 ||
        kv_get(kv, KEY_GENERATION, &gen, err) < 0)
        goto fail;
    if (complete.v == NULL) {
        ring_err(err, "ring image is incomplete: COMPLETE is missing (was its creation interrupted?)");
        goto fail;
    }
    json_init(&c, complete.v, complete.len);
    if (json_uint(&c, &one) < 0 || !json_at_end(&c) || one != 1) {
        bad_json(err, "COMPLETE", "1");
        goto fail;
    }
    if (vc.v == NULL) {
        ring_err(err, "ring image has no VNODE_COUNT");
        goto fail;
    }
    json_init(&c, vc.v, vc.len);
    if (json_uint(&c, &n) < 0 || !json_at_end(&c)) {
        bad_json(err, "VNODE_COUNT", "a non-negative integer");
        goto fail;
    }
    if (n == 0 || n > RING_MAX_VNODES) {
        ring_err(err, "VNODE_COUNT %llu is out of range (1 to %u)", (unsigned long long)n, RING_MAX_VNODES);
        goto fail;
    }
    if (alg.v == NULL) {
        ring_err(err, "ring image has no ALGORITHM");
        goto fail;
    }
    json_init(&c, alg.v, alg.len);
    for (more = json_begin(&c, '{'); more == 1; more = json_next(&c, '}')) {
        char *val = NULL;
        if (json_string(&c, &key, NULL) < 0 || json_expect(&c, ':') < 0) {
            bad_json(err, "ALGORITHM", "a JSON object");
            goto fail;
        }
        if (json_peek(&c) == '"') {
            if (json_string(&c, &val, NULL) < 0) {
                bad_json(err, "ALGORITHM", "a JSON object");
                goto fail;
            }
        } else if (json_skip(&c) < 0) {
            bad_json(err, "ALGORITHM", "a JSON object");
            goto fail;
        }
        if (strcmp(key, "NAME") == 0 && val) { free(name); name = val; }
        else if (strcmp(key, "MAX") == 0 && val) { free(max); max = val; }
        else if (strcmp(key, "VNODE_HASH_INTERVAL") == 0 && val) { free(interval); interval = val; }
        else free(val);
        free(key);
        key = NULL;
    }
    if (more < 0 || !json_at_end(&c)) {
        bad_json(err, "ALGORITHM", "a JSON object");
        goto fail;
    }
    if (name == NULL || max == NULL || interval == NULL) {
        ring_err(err, "ALGORITHM lacks %s", name == NULL ? "NAME" : max == NULL ? "MAX" : "VNODE_HASH_INTERVAL");
        goto fail;
    }
    if (ring_algo_parse(name, &algo) < 0) {
        ring_err(err, "unknown hash algorithm '%s' (known: xxh3, sha256, sha1, md5)", name);
        goto fail;
    }
    r = ring_alloc(algo, (uint32_t)n, err);
    if (r == NULL)
        goto fail;
    {
        char want[72], have[72];
        ring_u256_t iv;
        ring_algo_max_hex(algo, want, sizeof(want));
        if (strcasecmp(max, want) != 0) {
            ring_err(err, "ALGORITHM MAX %s is not the largest %s value", max, name);
            goto fail;
        }
        if (ring_u256_parse_hex(interval, strlen(interval), &iv) < 0 || ring_u256_cmp(&iv, &r->interval) != 0) {
            ring_u256_hex(&r->interval, have, sizeof(have));
            ring_err(err, "VNODE_HASH_INTERVAL %s disagrees with MAX / VNODE_COUNT = %s", interval, have);
            goto fail;
        }
    }
    if (ver.v != NULL) {
        json_init(&c, ver.v, ver.len);
        if (json_string(&c, &version, NULL) < 0 || !json_at_end(&c)) {
            bad_json(err, "VERSION", "a JSON string");
            goto fail;
        }
        snprintf(r->version, sizeof(r->version), "%s", version);
    }
    if (gen.v != NULL) {
        json_init(&c, gen.v, gen.len);
        if (json_uint(&c, &g) < 0 || !json_at_end(&c)) {
            bad_json(err, KEY_GENERATION, "a non-negative integer");
            goto fail;
        }
        r->generation = g;
    }
    *out = r;
    r = NULL;
    free(name); free(max); free(interval); free(version);
    kv->release(kv, vc.v); kv->release(kv, alg.v); kv->release(kv, complete.v);
    kv->release(kv, ver.v); kv->release(kv, gen.v);
    return 0;
fail:
    ring_free(r);
    free(key); free(name); free(max); free(interval); free(version);
    kv->release(kv, vc.v); kv->release(kv, alg.v); kv->release(kv, complete.v);
    kv->release(kv, ver.v); kv->release(kv, gen.v);
    return -1;
}

/* /PNODE: the array of pnode names. */
static int read_pnodes(ring_kv_t *kv, ring_t *r, char *err)
{
    val_t pv = {0};
    json_cur_t c;
    int more, rc = -1;
    char *name = NULL;

    if (kv_get(kv, "/PNODE", &pv, err) < 0)
        return -1;
    if (pv.v == NULL) {
        ring_err(err, "ring image has no /PNODE list");
        return -1;
    }
    json_init(&c, pv.v, pv.len);
    for (more = json_begin(&c, '['); more == 1; more = json_next(&c, ']')) {
        if (json_string(&c, &name, NULL) < 0)
            goto bad;
        if (find_pnode(r, name, strlen(name)) >= 0) {
            ring_err(err, "/PNODE names pnode '%s' twice", name);
            goto out;
        }
        if (ring_add_pnode(r, name, err) < 0)
            goto out;
        free(name);
        name = NULL;
    }
    if (more < 0 || !json_at_end(&c))
        goto bad;
    if (r->npnodes == 0) {
        ring_err(err, "/PNODE is empty: a ring needs at least one pnode");
        goto out;
    }
    rc = 0;
    goto out;
bad:
    bad_json(err, "/PNODE", "a JSON array of strings");
out:
    free(name);
    kv->release(kv, pv.v);
    return rc;
}

/* Scratch state of one load: who owns each vnode according to each of the
 * three places the layout records it. */
typedef struct {
    ring_t *r;
    uint32_t *list_owner; /* from /PNODE/<p> arrays */
    uint32_t *data_owner; /* from /PNODE/<p>/<v> keys */
    uint8_t *listed_data; /* from VNODE_DATA */
    uint8_t *has_list;    /* per pnode: its /PNODE/<p> key exists */
    char key[RING_NAME_MAX + 64];
} scan_t;

static const char *keyname(scan_t *s, const char *k, size_t klen)
{
    size_t n = klen < sizeof(s->key) - 1 ? klen : sizeof(s->key) - 1;
    memcpy(s->key, k, n);
    s->key[n] = '\0';
    return s->key;
}

static int scan_pnode_list(ring_t *r, scan_t *s, uint32_t p, const char *k, size_t klen,
                           const char *v, size_t vlen, char *err)
{
    json_cur_t c;
    uint64_t vn;
    int more;

    s->has_list[p] = 1;
    json_init(&c, v, vlen);
    for (more = json_begin(&c, '['); more == 1; more = json_next(&c, ']')) {
        if (json_uint(&c, &vn) < 0)
            return bad_json(err, keyname(s, k, klen), "a JSON array of vnodes");
        if (vn >= r->nvnodes) {
            ring_err(err, "%s lists vnode %llu, out of range (VNODE_COUNT %u)", keyname(s, k, klen),
                     (unsigned long long)vn, r->nvnodes);
            return -1;
        }
        if (s->list_owner[vn] != RING_NO_PNODE) {
            ring_err(err, "vnode %llu is listed by /PNODE/%s and by /PNODE/%s", (unsigned long long)vn,
                     r->pnodes[s->list_owner[vn]], r->pnodes[p]);
            return -1;
        }
        s->list_owner[vn] = p;
    }
    if (more < 0 || !json_at_end(&c))
        return bad_json(err, keyname(s, k, klen), "a JSON array of vnodes");
    return 0;
}

static int scan_data(ring_t *r, scan_t *s, uint32_t p, uint32_t vn, const char *k, size_t klen,
                     const char *v, size_t vlen, char *err)
{
    json_cur_t c;
    char *data = NULL;
    int rc;

    if (s->data_owner[vn] != RING_NO_PNODE) {
        ring_err(err, "vnode %u has data under /PNODE/%s and under /PNODE/%s", vn,
                 r->pnodes[s->data_owner[vn]], r->pnodes[p]);
        return -1;
    }
    s->data_owner[vn] = p;
    if (vlen == 1 && v[0] == '1')
        return 0;
    json_init(&c, v, vlen);
    if (json_peek(&c) == '1') {
        uint64_t one;
        if (json_uint(&c, &one) == 0 && one == 1 && json_at_end(&c))
            return 0;
        return bad_json(err, keyname(s, k, klen), "1 or a JSON string");
    }
    if (json_string(&c, &data, NULL) < 0 || !json_at_end(&c)) {
        free(data);
        return bad_json(err, keyname(s, k, klen), "1 or a JSON string");
    }
    rc = ring_set_vnode_data(r, vn, data, err);
    free(data);
    return rc;
}

static int scan_vnode(ring_t *r, scan_t *s, uint32_t vn, const char *k, size_t klen,
                      const char *v, size_t vlen, char *err)
{
    json_cur_t c;
    const char *name;
    char *decoded = NULL;
    size_t nlen;
    long p;

    json_init(&c, v, vlen);
    if (json_string_raw(&c, &name, &nlen) == 0 && json_at_end(&c)) {
        p = find_pnode(r, name, nlen);
    } else {
        json_init(&c, v, vlen);
        if (json_string(&c, &decoded, &nlen) < 0 || !json_at_end(&c)) {
            free(decoded);
            return bad_json(err, keyname(s, k, klen), "a JSON string");
        }
        p = find_pnode(r, decoded, nlen);
        free(decoded);
    }
    if (p < 0) {
        ring_err(err, "%s names a pnode that is not in /PNODE: %.*s", keyname(s, k, klen), (int)vlen, v);
        return -1;
    }
    r->vnode_pnode[vn] = (uint32_t)p;
    return 0;
}

static int scan_key(ring_t *r, scan_t *s, const char *k, size_t klen, const char *v, size_t vlen, char *err)
{
    const size_t pl = sizeof(PFX_PNODE) - 1, vl = sizeof(PFX_VNODE) - 1;
    uint32_t vn;
    long p;

    if (klen > vl && memcmp(k, PFX_VNODE, vl) == 0) {
        if (parse_vnode(k + vl, klen - vl, r->nvnodes, &vn) < 0) {
            ring_err(err, "key %s is not a vnode in range (VNODE_COUNT %u)", keyname(s, k, klen), r->nvnodes);
            return -1;
        }
        if (r->vnode_pnode[vn] != RING_NO_PNODE) {
            ring_err(err, "vnode %u has two /VNODE keys", vn);
            return -1;
        }
        return scan_vnode(r, s, vn, k, klen, v, vlen, err);
    }
    if (klen > pl && memcmp(k, PFX_PNODE, pl) == 0) {
        const char *rest = k + pl, *slash;
        size_t rlen = klen - pl;
        p = find_pnode(r, rest, rlen);
        if (p >= 0)
            return scan_pnode_list(r, s, (uint32_t)p, k, klen, v, vlen, err);
        for (slash = rest + rlen - 1; slash > rest && *slash != '/'; slash--)
            ;
        if (slash == rest) {
            ring_err(err, "key %s names a pnode that is not in /PNODE", keyname(s, k, klen));
            return -1;
        }
        p = find_pnode(r, rest, (size_t)(slash - rest));
        if (p < 0) {
            ring_err(err, "key %s names a pnode that is not in /PNODE", keyname(s, k, klen));
            return -1;
        }
        if (parse_vnode(slash + 1, (size_t)(rest + rlen - slash - 1), r->nvnodes, &vn) < 0) {
            ring_err(err, "key %s is not a vnode in range (VNODE_COUNT %u)", keyname(s, k, klen), r->nvnodes);
            return -1;
        }
        return scan_data(r, s, (uint32_t)p, vn, k, klen, v, vlen, err);
    }
    return 0; /* the scalar keys, read already, and keys of other tools */
}

static int scan_cb(void *arg, const char *k, size_t klen, const char *v, size_t vlen, char *err)
{
    scan_t *s = arg;

    return scan_key(s->r, s, k, klen, v, vlen, err);
}

static int read_vnode_data_list(ring_kv_t *kv, ring_t *r, scan_t *s, char *err)
{
    val_t dv = {0};
    json_cur_t c;
    uint64_t vn;
    int more, rc = -1;

    if (kv_get(kv, "VNODE_DATA", &dv, err) < 0)
        return -1;
    if (dv.v == NULL)
        return 0; /* older fash rings have none; the data keys still say it */
    json_init(&c, dv.v, dv.len);
    for (more = json_begin(&c, '['); more == 1; more = json_next(&c, ']')) {
        if (json_uint(&c, &vn) < 0)
            goto bad;
        if (vn >= r->nvnodes) {
            ring_err(err, "VNODE_DATA lists vnode %llu, out of range", (unsigned long long)vn);
            goto out;
        }
        s->listed_data[vn] = 1;
    }
    if (more < 0 || !json_at_end(&c))
        goto bad;
    for (vn = 0; vn < r->nvnodes; vn++) {
        int has = (r->vnode_flags[vn] & RING_VNODE_DATA) != 0;
        if (has != s->listed_data[vn]) {
            ring_err(err, "VNODE_DATA disagrees with the data keys: vnode %llu %s", (unsigned long long)vn,
                     has ? "has data but is not listed" : "is listed but has no data");
            goto out;
        }
    }
    rc = 0;
    goto out;
bad:
    bad_json(err, "VNODE_DATA", "a JSON array of vnodes");
out:
    kv->release(kv, dv.v);
    return rc;
}

int ring_image_scan(ring_kv_t *kv, ring_t **out, char *err)
{
    ring_t *r = NULL;
    scan_t s = {0};
    uint32_t v;
    int rc = -1;

    if (read_header(kv, &r, err) < 0 || read_pnodes(kv, r, err) < 0)
        goto out;
    s.list_owner = malloc((size_t)r->nvnodes * sizeof(uint32_t));
    s.data_owner = malloc((size_t)r->nvnodes * sizeof(uint32_t));
    s.listed_data = calloc(r->nvnodes, 1);
    s.has_list = calloc(r->npnodes, 1);
    if (s.list_owner == NULL || s.data_owner == NULL || s.listed_data == NULL || s.has_list == NULL) {
        ring_err(err, "out of memory loading a ring of %u vnodes", r->nvnodes);
        goto out;
    }
    memset(s.list_owner, 0xff, (size_t)r->nvnodes * sizeof(uint32_t));
    memset(s.data_owner, 0xff, (size_t)r->nvnodes * sizeof(uint32_t));

    s.r = r;
    if (kv->each(kv, scan_cb, &s, err) < 0)
        goto out;
    for (v = 0; v < r->nvnodes; v++) {
        uint32_t p = r->vnode_pnode[v];
        if (p == RING_NO_PNODE) {
            ring_err(err, "vnode %u has no pnode (/VNODE/%u is missing)", v, v);
            goto out;
        }
        /* node-fash's create can finish before every /PNODE/<p> list is
         * written (its callback fires on the first put), so real fash rings
         * lack some lists: a missing list is derived, a wrong one refused. */
        if (s.list_owner[v] != p && (s.has_list[p] || s.list_owner[v] != RING_NO_PNODE)) {
            ring_err(err, "/PNODE/%s list disagrees with /VNODE/%u: vnode %u is %s", r->pnodes[p], v, v,
                     s.list_owner[v] == RING_NO_PNODE ? "in no pnode's list" : "in another pnode's list");
            goto out;
        }
        if (s.data_owner[v] != p) {
            ring_err(err, "vnode %u of pnode %s has no data key /PNODE/%s/%u", v, r->pnodes[p], r->pnodes[p], v);
            goto out;
        }
    }
    if (read_vnode_data_list(kv, r, &s, err) < 0)
        goto out;
    ring_recount(r);
    *out = r;
    r = NULL;
    rc = 0;
out:
    free(s.list_owner);
    free(s.data_owner);
    free(s.listed_data);
    free(s.has_list);
    ring_free(r);
    return rc;
}
