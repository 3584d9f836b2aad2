/*
 * image.c - the ring's LevelDB image in node-fash's layout
 * (shared/design/ring-image.md): load and validate it, and store changes as
 * one atomic write batch that bumps our generation key.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <leveldb/c.h>

#include "json.h"
#include "ring_int.h"

/* ringproxy's own key: the generation, bumped by every stored change. */
#define KEY_GENERATION "RINGPROXY_GENERATION"
#define PFX_PNODE "/PNODE/"
#define PFX_VNODE "/VNODE/"
/* Changes of more vnodes than this are compacted right after the write. */
#define COMPACT_AFTER_VNODES 65536

struct ring_image {
    leveldb_t *db;
    leveldb_options_t *opts;
    char *dir;
};

/* LevelDB makes the directory and its LOCK and LOG files even when told
 * not to create a database, so a read of a mistyped path would leave a
 * stray directory behind: look for CURRENT first. */
static int check_exists(const char *dir, char *err)
{
    char path[4096];
    struct stat st;

    if (stat(dir, &st) < 0) {
        ring_err(err, "no ring image at %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        ring_err(err, "no ring image at %s: not a directory", dir);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/CURRENT", dir);
    if (stat(path, &st) < 0) {
        ring_err(err, "no ring image at %s: it has no LevelDB CURRENT file", dir);
        return -1;
    }
    return 0;
}

/* LevelDB's own words for a lock held elsewhere differ between another
 * process ("Resource temporarily unavailable") and this one ("already held
 * by process"); both mean someone else has the image open. */
static int open_db(const char *dir, int create, leveldb_options_t **optsp, leveldb_t **dbp, char *err)
{
    leveldb_options_t *opts = leveldb_options_create();
    char *lerr = NULL;
    leveldb_t *db;

    if (!create && check_exists(dir, err) < 0) {
        leveldb_options_destroy(opts);
        return -1;
    }
    leveldb_options_set_create_if_missing(opts, create);
    leveldb_options_set_compression(opts, leveldb_no_compression);
    if (create)
        leveldb_options_set_write_buffer_size(opts, 64 << 20);
    db = leveldb_open(opts, dir, &lerr);
    if (db == NULL) {
        if (lerr != NULL && strstr(lerr, "lock") != NULL &&
            (strstr(lerr, "unavailable") != NULL || strstr(lerr, "already held") != NULL))
            ring_err(err, "ring image %s is locked by another process (is ring-tool or another writer running?)", dir);
        else if (lerr != NULL && strstr(lerr, "does not exist") != NULL)
            ring_err(err, "no ring image at %s", dir);
        else
            ring_err(err, "cannot open ring image %s: %s", dir, lerr ? lerr : "unknown error");
        leveldb_free(lerr);
        leveldb_options_destroy(opts);
        return -1;
    }
    *optsp = opts;
    *dbp = db;
    return 0;
}

static void close_db(leveldb_options_t *opts, leveldb_t *db)
{
    if (db != NULL)
        leveldb_close(db);
    if (opts != NULL)
        leveldb_options_destroy(opts);
}

/* A fetched value; free with leveldb_free. */
typedef struct {
    char *v;
    size_t len;
} val_t;

static int get(leveldb_t *db, const char *key, val_t *out, char *err)
{
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    char *lerr = NULL;

    out->v = leveldb_get(db, ro, key, strlen(key), &out->len, &lerr);
    leveldb_readoptions_destroy(ro);
    if (lerr != NULL) {
        ring_err(err, "reading %s: %s", key, lerr);
        leveldb_free(lerr);
        return -1;
    }
    return 0;
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
    size_t lo = 0, hi = r->npnodes;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *p = r->pnodes[mid];
        size_t plen = strlen(p);
        int c = memcmp(p, s, plen < len ? plen : len);
        if (c == 0)
            c = plen < len ? -1 : plen > len ? 1 : 0;
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* The scalar keys, checked in the order that names the most telling
 * problem first. */
static int read_header(leveldb_t *db, ring_t **out, char *err)
{
    val_t vc = {0}, alg = {0}, complete = {0}, ver = {0}, gen = {0};
    json_cur_t c;
    uint64_t n = 0, g = 0, one;
    ring_algo_t algo = RING_HASH_SHA256;
    char *name = NULL, *max = NULL, *interval = NULL, *key = NULL, *version = NULL;
    ring_t *r = NULL;
    int more;

    if (get(db, "COMPLETE", &complete, err) < 0 || get(db, "VNODE_COUNT", &vc, err) < 0 ||
        get(db, "ALGORITHM", &alg, err) < 0 || get(db, "VERSION", &ver, err) < 0 ||
        get(db, KEY_GENERATION, &gen, err) < 0)
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
    if (json_expect(&c, '{') < 0) {
        bad_json(err, "ALGORITHM", "a JSON object");
        goto fail;
    }
    if (json_peek(&c) != '}') {
        do {
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
        } while ((more = json_next(&c, '}')) == 1);
        if (more < 0) {
            bad_json(err, "ALGORITHM", "a JSON object");
            goto fail;
        }
    } else {
        c.p++;
    }
    if (!json_at_end(&c)) {
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
    leveldb_free(vc.v); leveldb_free(alg.v); leveldb_free(complete.v);
    leveldb_free(ver.v); leveldb_free(gen.v);
    return 0;
fail:
    ring_free(r);
    free(key); free(name); free(max); free(interval); free(version);
    leveldb_free(vc.v); leveldb_free(alg.v); leveldb_free(complete.v);
    leveldb_free(ver.v); leveldb_free(gen.v);
    return -1;
}

/* /PNODE: the array of pnode names. */
static int read_pnodes(leveldb_t *db, ring_t *r, char *err)
{
    val_t pv = {0};
    json_cur_t c;
    int more, rc = -1;
    char *name = NULL;

    if (get(db, "/PNODE", &pv, err) < 0)
        return -1;
    if (pv.v == NULL) {
        ring_err(err, "ring image has no /PNODE list");
        return -1;
    }
    json_init(&c, pv.v, pv.len);
    if (json_expect(&c, '[') < 0)
        goto bad;
    if (json_peek(&c) == ']') {
        c.p++;
    } else {
        do {
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
        } while ((more = json_next(&c, ']')) == 1);
        if (more < 0)
            goto bad;
    }
    if (!json_at_end(&c))
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
    leveldb_free(pv.v);
    return rc;
}

/* Scratch state of one load: who owns each vnode according to each of the
 * three places the layout records it. */
typedef struct {
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
    if (json_expect(&c, '[') < 0)
        return bad_json(err, keyname(s, k, klen), "a JSON array of vnodes");
    if (json_peek(&c) == ']') {
        c.p++;
    } else {
        do {
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
        } while ((more = json_next(&c, ']')) == 1);
        if (more < 0)
            return bad_json(err, keyname(s, k, klen), "a JSON array of vnodes");
    }
    if (!json_at_end(&c))
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

static int read_vnode_data_list(leveldb_t *db, ring_t *r, scan_t *s, char *err)
{
    val_t dv = {0};
    json_cur_t c;
    uint64_t vn;
    int more, rc = -1;

    if (get(db, "VNODE_DATA", &dv, err) < 0)
        return -1;
    if (dv.v == NULL)
        return 0; /* older fash rings have none; the data keys still say it */
    json_init(&c, dv.v, dv.len);
    if (json_expect(&c, '[') < 0)
        goto bad;
    if (json_peek(&c) == ']') {
        c.p++;
    } else {
        do {
            if (json_uint(&c, &vn) < 0)
                goto bad;
            if (vn >= r->nvnodes) {
                ring_err(err, "VNODE_DATA lists vnode %llu, out of range", (unsigned long long)vn);
                goto out;
            }
            s->listed_data[vn] = 1;
        } while ((more = json_next(&c, ']')) == 1);
        if (more < 0)
            goto bad;
    }
    if (!json_at_end(&c))
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
    leveldb_free(dv.v);
    return rc;
}

static int read_ring(leveldb_t *db, ring_t **out, char *err)
{
    ring_t *r = NULL;
    scan_t s = {0};
    leveldb_readoptions_t *ro = NULL;
    leveldb_iterator_t *it = NULL;
    char *lerr = NULL;
    uint32_t v;
    int rc = -1;

    if (read_header(db, &r, err) < 0 || read_pnodes(db, r, err) < 0)
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

    ro = leveldb_readoptions_create();
    leveldb_readoptions_set_fill_cache(ro, 0);
    it = leveldb_create_iterator(db, ro);
    for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const char *val = leveldb_iter_value(it, &vlen);
        if (scan_key(r, &s, k, klen, val, vlen, err) < 0)
            goto out;
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr != NULL) {
        ring_err(err, "reading the ring image: %s", lerr);
        leveldb_free(lerr);
        goto out;
    }
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
    if (read_vnode_data_list(db, r, &s, err) < 0)
        goto out;
    ring_recount(r);
    *out = r;
    r = NULL;
    rc = 0;
out:
    if (it != NULL)
        leveldb_iter_destroy(it);
    if (ro != NULL)
        leveldb_readoptions_destroy(ro);
    free(s.list_owner);
    free(s.data_owner);
    free(s.listed_data);
    free(s.has_list);
    ring_free(r);
    return rc;
}

int ring_load(const char *dir, ring_t **out, char *err)
{
    leveldb_options_t *opts;
    leveldb_t *db;
    int rc;

    if (open_db(dir, 0, &opts, &db, err) < 0)
        return -1;
    rc = read_ring(db, out, err);
    close_db(opts, db);
    return rc;
}

/* --- writing ------------------------------------------------------------- */

static int dir_is_foreign(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int entries = 0, has_current = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        entries++;
        if (strcmp(e->d_name, "CURRENT") == 0)
            has_current = 1;
    }
    closedir(d);
    return entries > 0 && !has_current;
}

int ring_image_open(const char *dir, int create, ring_image_t **out, char *err)
{
    ring_image_t *img;
    val_t probe = {0};
    struct stat st;

    if (create) {
        if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
            ring_err(err, "%s exists and is not a directory", dir);
            return -1;
        }
        if (dir_is_foreign(dir)) {
            ring_err(err, "%s is not empty and holds no ring: refusing to create a ring there", dir);
            return -1;
        }
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
            ring_err(err, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
    }
    img = calloc(1, sizeof(*img));
    if (img == NULL || (img->dir = strdup(dir)) == NULL) {
        free(img);
        ring_err(err, "out of memory");
        return -1;
    }
    if (open_db(dir, create, &img->opts, &img->db, err) < 0) {
        ring_image_close(img);
        return -1;
    }
    if (create) {
        if (get(img->db, "VNODE_COUNT", &probe, err) < 0) {
            ring_image_close(img);
            return -1;
        }
        if (probe.v != NULL) {
            leveldb_free(probe.v);
            ring_err(err, "%s already holds a ring", dir);
            ring_image_close(img);
            return -1;
        }
    }
    *out = img;
    return 0;
}

int ring_image_read(ring_image_t *img, ring_t **out, char *err)
{
    return read_ring(img->db, out, err);
}

void ring_image_close(ring_image_t *img)
{
    if (img == NULL)
        return;
    close_db(img->opts, img->db);
    free(img->dir);
    free(img);
}

static void put_str(leveldb_writebatch_t *b, const char *key, json_buf_t *val)
{
    leveldb_writebatch_put(b, key, strlen(key), val->buf ? val->buf : "", val->len);
    val->len = 0;
}

static void put_pnode_list(leveldb_writebatch_t *b, const ring_t *r, uint32_t p, json_buf_t *jb, char *key, size_t ksz)
{
    uint32_t v;
    int first = 1;

    json_put(jb, "[", 1);
    for (v = 0; v < r->nvnodes; v++) {
        if (r->vnode_pnode[v] != p)
            continue;
        json_printf(jb, first ? "%u" : ",%u", v);
        first = 0;
    }
    json_put(jb, "]", 1);
    snprintf(key, ksz, PFX_PNODE "%s", r->pnodes[p]);
    put_str(b, key, jb);
}

static void put_data(leveldb_writebatch_t *b, const ring_t *r, uint32_t v, json_buf_t *jb, char *key, size_t ksz)
{
    const char *d = ring_vnode_data(r, v);

    snprintf(key, ksz, PFX_PNODE "%s/%u", r->pnodes[r->vnode_pnode[v]], v);
    if (d == NULL)
        json_put(jb, "1", 1);
    else
        json_put_str(jb, d, strlen(d));
    put_str(b, key, jb);
}

static int same_data(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int ring_image_commit(ring_image_t *img, const ring_t *old, ring_t *nw, char *err)
{
    leveldb_writebatch_t *b = leveldb_writebatch_create();
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    json_buf_t jb;
    char key[RING_NAME_MAX + 64], hex[72], max[72];
    uint8_t *dirty = NULL;
    val_t gen = {0};
    uint64_t g;
    uint32_t v;
    size_t i;
    char *lerr = NULL;
    size_t changed = 0;
    int data_changed = old == NULL, pnodes_changed = old == NULL, rc = -1;

    json_buf_init(&jb);
    if (old != NULL && (old->nvnodes != nw->nvnodes || old->algo != nw->algo)) {
        ring_err(err, "a ring's vnode count and algorithm cannot change");
        goto out;
    }
    dirty = calloc(nw->npnodes ? nw->npnodes : 1, 1);
    if (dirty == NULL) {
        ring_err(err, "out of memory");
        goto out;
    }
    if (old == NULL) {
        json_printf(&jb, "%u", nw->nvnodes);
        put_str(b, "VNODE_COUNT", &jb);
        ring_algo_max_hex(nw->algo, max, sizeof(max));
        ring_u256_hex(&nw->interval, hex, sizeof(hex));
        json_printf(&jb, "{\"NAME\":\"%s\",\"MAX\":\"%s\",\"VNODE_HASH_INTERVAL\":\"%s\"}",
                    ring_algo_name(nw->algo), max, hex);
        put_str(b, "ALGORITHM", &jb);
        json_put_str(&jb, nw->version, strlen(nw->version));
        put_str(b, "VERSION", &jb);
        memset(dirty, 1, nw->npnodes);
        for (v = 0; v < nw->nvnodes; v++) {
            const char *pn = nw->pnodes[nw->vnode_pnode[v]];
            snprintf(key, sizeof(key), PFX_VNODE "%u", v);
            json_put_str(&jb, pn, strlen(pn));
            put_str(b, key, &jb);
            put_data(b, nw, v, &jb, key, sizeof(key));
        }
    } else {
        pnodes_changed = old->npnodes != nw->npnodes;
        for (i = 0; !pnodes_changed && i < nw->npnodes; i++)
            pnodes_changed = strcmp(old->pnodes[i], nw->pnodes[i]) != 0;
        for (i = 0; i < nw->npnodes; i++) {
            if (ring_pnode_find(old, nw->pnodes[i]) < 0)
                dirty[i] = 1;
        }
        for (i = 0; i < old->npnodes; i++) {
            if (ring_pnode_find(nw, old->pnodes[i]) < 0) {
                snprintf(key, sizeof(key), PFX_PNODE "%s", old->pnodes[i]);
                leveldb_writebatch_delete(b, key, strlen(key));
            }
        }
        for (v = 0; v < nw->nvnodes; v++) {
            const char *on = old->pnodes[old->vnode_pnode[v]], *nn = nw->pnodes[nw->vnode_pnode[v]];
            const char *od = ring_vnode_data(old, v), *nd = ring_vnode_data(nw, v);
            if (strcmp(on, nn) != 0) {
                long op = ring_pnode_find(nw, on);
                if (op >= 0)
                    dirty[op] = 1;
                dirty[nw->vnode_pnode[v]] = 1;
                snprintf(key, sizeof(key), PFX_VNODE "%u", v);
                json_put_str(&jb, nn, strlen(nn));
                put_str(b, key, &jb);
                snprintf(key, sizeof(key), PFX_PNODE "%s/%u", on, v);
                leveldb_writebatch_delete(b, key, strlen(key));
                put_data(b, nw, v, &jb, key, sizeof(key));
                changed++;
            } else if (!same_data(od, nd)) {
                put_data(b, nw, v, &jb, key, sizeof(key));
                changed++;
            }
            if ((od == NULL) != (nd == NULL))
                data_changed = 1;
        }
    }
    if (pnodes_changed) {
        json_put(&jb, "[", 1);
        for (i = 0; i < nw->npnodes; i++) {
            if (i > 0)
                json_put(&jb, ",", 1);
            json_put_str(&jb, nw->pnodes[i], strlen(nw->pnodes[i]));
        }
        json_put(&jb, "]", 1);
        put_str(b, "/PNODE", &jb);
    }
    for (i = 0; i < nw->npnodes; i++) {
        if (dirty[i])
            put_pnode_list(b, nw, (uint32_t)i, &jb, key, sizeof(key));
    }
    if (data_changed) {
        int first = 1;
        json_put(&jb, "[", 1);
        for (v = 0; v < nw->nvnodes; v++) {
            if (nw->vnode_flags[v] & RING_VNODE_DATA) {
                json_printf(&jb, first ? "%u" : ",%u", v);
                first = 0;
            }
        }
        json_put(&jb, "]", 1);
        put_str(b, "VNODE_DATA", &jb);
    }
    /* The generation only grows, whatever the caller's copy says. */
    if (get(img->db, KEY_GENERATION, &gen, err) < 0)
        goto out;
    g = nw->generation;
    if (gen.v != NULL) {
        json_cur_t c;
        uint64_t stored;
        json_init(&c, gen.v, gen.len);
        if (json_uint(&c, &stored) == 0 && stored > g)
            g = stored;
    }
    if (old != NULL && old->generation > g)
        g = old->generation;
    g++;
    json_printf(&jb, "%llu", (unsigned long long)g);
    put_str(b, KEY_GENERATION, &jb);
    if (old == NULL) {
        json_put(&jb, "1", 1);
        put_str(b, "COMPLETE", &jb);
    }
    if (jb.oom) {
        ring_err(err, "out of memory building the write batch");
        goto out;
    }
    leveldb_writeoptions_set_sync(wo, 1);
    leveldb_write(img->db, wo, b, &lerr);
    if (lerr != NULL) {
        ring_err(err, "writing the ring image %s: %s", img->dir, lerr);
        leveldb_free(lerr);
        goto out;
    }
    /* A new image, or a large change, sits in LevelDB's log until the next
     * open replays it into tables, which would make the next load (the
     * proxy's reload) several times slower than the others: write the
     * tables now, while we hold the image. A small change replays fast. */
    if (old == NULL || changed >= COMPACT_AFTER_VNODES)
        leveldb_compact_range(img->db, NULL, 0, NULL, 0);
    nw->generation = g;
    rc = 0;
out:
    leveldb_free(gen.v);
    free(dirty);
    json_buf_free(&jb);
    leveldb_writebatch_destroy(b);
    leveldb_writeoptions_destroy(wo);
    return rc;
}
