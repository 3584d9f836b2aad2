/*
 * image.c - the ring's LevelDB image in node-fash's layout
 * (shared/design/ring-image.md): open it (never holding it longer than a
 * read or a change), feed it to image_scan.c, and store changes as one
 * atomic write batch that bumps our generation key.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <leveldb/c.h>

#include "json.h"
#include "ring_int.h"

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

/* The image as image_scan.c reads it: point gets and one pass in order. */
typedef struct {
    ring_kv_t kv;
    leveldb_t *db;
} ldb_kv_t;

static int ldb_get(ring_kv_t *kv, const char *key, const char **val, size_t *len, char *err)
{
    val_t v;

    if (get(((ldb_kv_t *)kv)->db, key, &v, err) < 0)
        return -1;
    *val = v.v;
    *len = v.len;
    return 0;
}

static void ldb_release(ring_kv_t *kv, const char *val)
{
    (void)kv;
    leveldb_free((void *)val);
}

static int ldb_each(ring_kv_t *kv, ring_kv_fn fn, void *arg, char *err)
{
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_iterator_t *it;
    char *lerr = NULL;
    int rc = 0;

    /* One pass over the whole image: caching its blocks would only evict
     * what the process has better use for. */
    leveldb_readoptions_set_fill_cache(ro, 0);
    it = leveldb_create_iterator(((ldb_kv_t *)kv)->db, ro);
    for (leveldb_iter_seek_to_first(it); rc == 0 && leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const char *v = leveldb_iter_value(it, &vlen);
        rc = fn(arg, k, klen, v, vlen, err);
    }
    if (rc == 0) {
        leveldb_iter_get_error(it, &lerr);
        if (lerr != NULL) {
            ring_err(err, "reading the ring image: %s", lerr);
            leveldb_free(lerr);
            rc = -1;
        }
    }
    leveldb_iter_destroy(it);
    leveldb_readoptions_destroy(ro);
    return rc < 0 ? -1 : 0;
}

static int read_ring(leveldb_t *db, ring_t **out, char *err)
{
    ldb_kv_t src = {{ldb_get, ldb_release, ldb_each}, db};

    return ring_image_scan(&src.kv, out, err);
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
