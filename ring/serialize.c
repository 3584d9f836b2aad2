/*
 * serialize.c - node-fash's serialized ring (fash serialize /
 * deserialize-ring), so rings move between fash and ring-tool:
 * {"vnodes":N,"pnodeToVnodeMap":{"<p>":{"<v>":<data>,...},...},
 *  "algorithm":{"NAME":..,"MAX":..,"VNODE_HASH_INTERVAL":..},"version":".."}
 * <data> is 1 or the data string; empty pnodes appear as {} unless the
 * form is fash's own (ring.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "ring_int.h"

/* fash's serialize walks the vnodes in order and adds a pnode at its
 * first one: pnodes ordered by their lowest vnode, those without absent. */
static size_t fash_order(const ring_t *r, const uint32_t *head, size_t *order)
{
    size_t i, n = 0;
    uint32_t v;

    for (v = 0; v < r->nvnodes; v++) {
        i = r->vnode_pnode[v];
        if (head[i] == v)
            order[n++] = i;
    }
    return n;
}

char *ring_export_json(const ring_t *r, int fash_form, size_t *len, char *err)
{
    json_buf_t b;
    char max[72], hex[72];
    uint32_t *next = NULL, *head = NULL, v;
    size_t i, k, np, *order = NULL;
    char *out;

    /* Vnodes of each pnode in ascending order, without a pass per pnode. */
    next = malloc((size_t)r->nvnodes * sizeof(uint32_t));
    head = malloc((r->npnodes ? r->npnodes : 1) * sizeof(uint32_t));
    order = malloc((r->npnodes ? r->npnodes : 1) * sizeof(size_t));
    if (next == NULL || head == NULL || order == NULL) {
        free(next);
        free(head);
        free(order);
        ring_err(err, "out of memory exporting the ring");
        return NULL;
    }
    memset(head, 0xff, (r->npnodes ? r->npnodes : 1) * sizeof(uint32_t));
    for (v = r->nvnodes; v-- > 0;) {
        next[v] = head[r->vnode_pnode[v]];
        head[r->vnode_pnode[v]] = v;
    }
    if (fash_form) {
        np = fash_order(r, head, order);
    } else {
        for (np = 0; np < r->npnodes; np++)
            order[np] = np;
    }
    json_buf_init(&b);
    json_printf(&b, "{\"vnodes\":%u,\"pnodeToVnodeMap\":{", r->nvnodes);
    for (k = 0; k < np; k++) {
        int first = 1;
        i = order[k];
        if (k > 0)
            json_put(&b, ",", 1);
        json_put_str(&b, r->pnodes[i], strlen(r->pnodes[i]));
        json_put(&b, ":{", 2);
        for (v = head[i]; v != RING_NO_PNODE; v = next[v]) {
            const char *d = ring_vnode_data(r, v);
            json_printf(&b, first ? "\"%u\":" : ",\"%u\":", v);
            first = 0;
            if (d == NULL)
                json_put(&b, "1", 1);
            else
                json_put_str(&b, d, strlen(d));
        }
        json_put(&b, "}", 1);
    }
    ring_algo_max_hex(r->algo, max, sizeof(max));
    ring_u256_hex(&r->interval, hex, sizeof(hex));
    json_printf(&b, "},\"algorithm\":{\"NAME\":\"%s\",\"MAX\":\"%s\",\"VNODE_HASH_INTERVAL\":\"%s\"},\"version\":",
                ring_algo_name(r->algo), max, hex);
    json_put_str(&b, r->version, strlen(r->version));
    json_put(&b, "}", 1);
    free(next);
    free(head);
    free(order);
    out = json_buf_take(&b, len);
    if (out == NULL)
        ring_err(err, "out of memory exporting the ring");
    return out;
}

/* What the JSON says, gathered before the ring can be built (the vnode
 * count may come after the map). */
typedef struct {
    uint64_t nvnodes;
    int have_nvnodes;
    char *name, *max, *interval, *version;
    const char *map;      /* the pnodeToVnodeMap object, in place */
    size_t map_len;
} import_t;

static int bad(char *err, const char *what)
{
    ring_err(err, "ring JSON: %s", what);
    return -1;
}

static int read_algorithm(json_cur_t *c, import_t *im, char *err)
{
    int more;

    for (more = json_begin(c, '{'); more == 1; more = json_next(c, '}')) {
        char *k = NULL, *val = NULL;
        if (json_string(c, &k, NULL) < 0 || json_expect(c, ':') < 0 || json_string(c, &val, NULL) < 0) {
            free(k);
            return bad(err, "\"algorithm\" members must be strings");
        }
        if (strcmp(k, "NAME") == 0) { free(im->name); im->name = val; }
        else if (strcmp(k, "MAX") == 0) { free(im->max); im->max = val; }
        else if (strcmp(k, "VNODE_HASH_INTERVAL") == 0) { free(im->interval); im->interval = val; }
        else free(val);
        free(k);
    }
    return more < 0 ? bad(err, "\"algorithm\" is not an object") : 0;
}

static int read_top(const char *json, size_t len, import_t *im, char *err)
{
    json_cur_t c;
    int more;

    json_init(&c, json, len);
    more = json_begin(&c, '{');
    if (more < 0)
        return bad(err, "not a JSON object");
    if (more == 0)
        return bad(err, "empty object");
    do {
        char *k = NULL;
        int rc = 0;
        if (json_string(&c, &k, NULL) < 0 || json_expect(&c, ':') < 0) {
            free(k);
            return bad(err, "malformed object");
        }
        if (strcmp(k, "vnodes") == 0) {
            rc = json_uint(&c, &im->nvnodes) < 0 ? bad(err, "\"vnodes\" is not a non-negative integer") : 0;
            im->have_nvnodes = 1;
        } else if (strcmp(k, "pnodeToVnodeMap") == 0) {
            json_peek(&c);
            im->map = c.p;
            rc = json_skip(&c) < 0 ? bad(err, "\"pnodeToVnodeMap\" is not valid JSON") : 0;
            im->map_len = (size_t)(c.p - im->map);
        } else if (strcmp(k, "algorithm") == 0) {
            rc = read_algorithm(&c, im, err);
        } else if (strcmp(k, "version") == 0) {
            free(im->version);
            im->version = NULL;
            rc = json_string(&c, &im->version, NULL) < 0 ? bad(err, "\"version\" is not a string") : 0;
        } else {
            rc = json_skip(&c) < 0 ? bad(err, "malformed value") : 0;
        }
        free(k);
        if (rc < 0)
            return -1;
    } while ((more = json_next(&c, '}')) == 1);
    if (more < 0 || !json_at_end(&c))
        return bad(err, "malformed object");
    if (!im->have_nvnodes)
        return bad(err, "\"vnodes\" is missing");
    if (im->map == NULL)
        return bad(err, "\"pnodeToVnodeMap\" is missing");
    if (im->name == NULL || im->max == NULL || im->interval == NULL)
        return bad(err, "\"algorithm\" needs NAME, MAX and VNODE_HASH_INTERVAL");
    return 0;
}

/* Pass 1 adds the pnodes; pass 2 (once indices are final) assigns vnodes. */
static int read_map(ring_t *r, const import_t *im, int pass, char *err)
{
    json_cur_t c;
    int more, more2;

    json_init(&c, im->map, im->map_len);
    more = json_begin(&c, '{');
    if (more < 0)
        return bad(err, "\"pnodeToVnodeMap\" is not an object");
    if (more == 0)
        return bad(err, "\"pnodeToVnodeMap\" has no pnodes");
    do {
        char *pn = NULL;
        long p;
        if (json_string(&c, &pn, NULL) < 0 || json_expect(&c, ':') < 0) {
            free(pn);
            return bad(err, "malformed \"pnodeToVnodeMap\"");
        }
        if (pass == 1) {
            if (ring_pnode_find(r, pn) >= 0) {
                ring_err(err, "ring JSON: pnode '%s' appears twice", pn);
                free(pn);
                return -1;
            }
            p = ring_add_pnode(r, pn, err);
            free(pn);
            if (p < 0 || json_skip(&c) < 0)
                return p < 0 ? -1 : bad(err, "malformed \"pnodeToVnodeMap\"");
            continue;
        }
        p = ring_pnode_find(r, pn);
        free(pn);
        more2 = json_begin(&c, '{');
        if (more2 < 0)
            return bad(err, "a pnode's vnodes must be an object");
        for (; more2 == 1; more2 = json_next(&c, '}')) {
            char *vs = NULL, *data = NULL, *end;
            unsigned long vn;
            if (json_string(&c, &vs, NULL) < 0 || json_expect(&c, ':') < 0) {
                free(vs);
                return bad(err, "malformed vnode entry");
            }
            vn = strtoul(vs, &end, 10);
            if (*vs == '\0' || *end != '\0' || vn >= r->nvnodes) {
                ring_err(err, "ring JSON: vnode '%s' is not in range (vnodes %u)", vs, r->nvnodes);
                free(vs);
                return -1;
            }
            free(vs);
            if (r->vnode_pnode[vn] != RING_NO_PNODE) {
                ring_err(err, "ring JSON: vnode %lu belongs to two pnodes", vn);
                return -1;
            }
            r->vnode_pnode[vn] = (uint32_t)p;
            if (json_peek(&c) == '"') {
                if (json_string(&c, &data, NULL) < 0)
                    return bad(err, "malformed vnode data");
                if (ring_set_vnode_data(r, (uint32_t)vn, data, err) < 0) {
                    free(data);
                    return -1;
                }
                free(data);
            } else {
                uint64_t one;
                if (json_uint(&c, &one) < 0 || one != 1)
                    return bad(err, "vnode data must be 1 or a string");
            }
        }
        if (more2 < 0)
            return bad(err, "malformed vnode entry");
    } while ((more = json_next(&c, '}')) == 1);
    return more < 0 ? bad(err, "malformed \"pnodeToVnodeMap\"") : 0;
}

int ring_import_json(const char *json, size_t len, ring_t **out, char *err)
{
    import_t im;
    ring_t *r = NULL;
    ring_algo_t algo;
    ring_u256_t iv;
    char want[72], have[72];
    uint32_t v;
    int rc = -1;

    memset(&im, 0, sizeof(im));
    if (read_top(json, len, &im, err) < 0)
        goto out;
    if (ring_algo_parse(im.name, &algo) < 0) {
        ring_err(err, "ring JSON: unknown hash algorithm '%s'", im.name);
        goto out;
    }
    if (im.nvnodes == 0 || im.nvnodes > RING_MAX_VNODES) {
        ring_err(err, "ring JSON: vnodes %llu out of range (1 to %u)", (unsigned long long)im.nvnodes, RING_MAX_VNODES);
        goto out;
    }
    r = ring_alloc(algo, (uint32_t)im.nvnodes, err);
    if (r == NULL)
        goto out;
    ring_algo_max_hex(algo, want, sizeof(want));
    if (strcasecmp(im.max, want) != 0) {
        ring_err(err, "ring JSON: MAX %s is not the largest %s value", im.max, im.name);
        goto out;
    }
    if (ring_u256_parse_hex(im.interval, strlen(im.interval), &iv) < 0 || ring_u256_cmp(&iv, &r->interval) != 0) {
        ring_u256_hex(&r->interval, have, sizeof(have));
        ring_err(err, "ring JSON: VNODE_HASH_INTERVAL %s disagrees with MAX / vnodes = %s", im.interval, have);
        goto out;
    }
    if (im.version != NULL)
        snprintf(r->version, sizeof(r->version), "%s", im.version);
    if (read_map(r, &im, 1, err) < 0 || read_map(r, &im, 2, err) < 0)
        goto out;
    for (v = 0; v < r->nvnodes; v++) {
        if (r->vnode_pnode[v] == RING_NO_PNODE) {
            ring_err(err, "ring JSON: vnode %u belongs to no pnode", v);
            goto out;
        }
    }
    ring_recount(r);
    *out = r;
    r = NULL;
    rc = 0;
out:
    ring_free(r);
    free(im.name);
    free(im.max);
    free(im.interval);
    free(im.version);
    return rc;
}
