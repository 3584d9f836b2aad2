/*
 * ring-tool-write.c - the verbs that store a ring. Everything a verb can
 * refuse is checked before the write, and the write is one LevelDB batch
 * (ring_image_commit), so an error leaves the ring as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring-tool.h"

/* Prints what a stored change did and the generation it made; with -o
 * first the ring as fash's JSON, as fash's -o prints it. */
static int report(const rt_cmd_t *cmd, const char *msg, const ring_t *r)
{
    if (cmd->output) {
        char err[RING_ERRLEN];
        size_t len;
        char *json = ring_export_json(r, 1, &len, err);
        if (json == NULL)
            return rt_fail(cmd, "%s", err);
        fwrite(json, 1, len, stdout);
        fputc('\n', stdout);
        free(json);
    }
    printf("%s\ngeneration %llu\n", msg, (unsigned long long)ring_generation(r));
    return rt_finish(cmd);
}

/* Stores a ring built from scratch (create, import) in a directory that
 * must not hold one yet. */
static int store_new(const rt_cmd_t *cmd, ring_t *r, const char *msg)
{
    char err[RING_ERRLEN];
    ring_image_t *img;
    int rc;

    if (ring_image_open(cmd->dirs[0], 1, &img, err) < 0) {
        ring_free(r);
        return rt_fail(cmd, "%s", err);
    }
    rc = ring_image_commit(img, NULL, r, err);
    ring_image_close(img);
    rc = rc < 0 ? rt_fail(cmd, "%s", err) : report(cmd, msg, r);
    ring_free(r);
    return rc;
}

/* One change to a stored ring: checks it against old and applies it to nw
 * (old's clone); on refusal writes why into err and returns -1, or
 * EDIT_USAGE when the command line does not fit the ring (a vnode out of
 * range). On success writes a one-line summary into msg. */
#define EDIT_USAGE (-2)

typedef int (*edit_fn)(const rt_cmd_t *cmd, const ring_t *old, ring_t *nw, char *msg, char *err);

static int edit(const rt_cmd_t *cmd, edit_fn fn)
{
    char err[RING_ERRLEN], msg[RING_ERRLEN];
    ring_image_t *img = NULL;
    ring_t *old = NULL, *nw = NULL;
    int rc, ok, st = 0;

    ok = ring_image_open(cmd->dirs[0], 0, &img, err) == 0 && ring_image_read(img, &old, err) == 0 &&
         (nw = ring_clone(old, err)) != NULL && (st = fn(cmd, old, nw, msg, err)) == 0 &&
         ring_image_commit(img, old, nw, err) == 0;
    /* Let go of the lock before printing: a script that reads the
     * generation may run the next ring-tool at once. */
    ring_image_close(img);
    ring_free(old);
    rc = ok ? report(cmd, msg, nw) : rt_fail(cmd, "%s", err);
    if (st == EDIT_USAGE)
        rc = RT_EXIT_USAGE;
    ring_free(nw);
    return rc;
}

/* The address check for a pnode name that is new to the ring. */
static int addr_ok(const char *name, char *err)
{
    ring_addr_t addr;
    return ring_pnode_addr(name, &addr, err);
}

/* --- create and import --------------------------------------------------- */

static int parse_count(const char *s, uint32_t *out, char *err)
{
    unsigned long long n = 0;
    const char *p;

    for (p = s; *p >= '0' && *p <= '9' && n <= RING_MAX_VNODES; p++)
        n = n * 10 + (unsigned long long)(*p - '0');
    if (p == s || (*p != '\0' && (*p < '0' || *p > '9'))) {
        snprintf(err, RING_ERRLEN, "vnode count '%s' is not a whole number", s);
        return -1;
    }
    if (*p != '\0' || n == 0 || n > RING_MAX_VNODES) {
        snprintf(err, RING_ERRLEN, "vnode count %s is out of range (1 to %u)", s, RING_MAX_VNODES);
        return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits "P1, P2,P3" or fash's "P1 P2" (it splits on /[, ]+/) into names
 * in buf (modified in place); each name must be an address, and no name
 * may repeat. An empty entry between commas is an error. */
static int split_pnodes(char *buf, char ***out, size_t *n, char *err)
{
    char **names = NULL, **sorted = NULL, *p = buf;
    size_t cnt = 1, k = 0, i;

    for (; *p != '\0'; p++)
        cnt += *p == ',' || *p == ' ' || *p == '\t';
    names = calloc(cnt, sizeof(char *));
    sorted = calloc(cnt, sizeof(char *));
    if (names == NULL || sorted == NULL) {
        snprintf(err, RING_ERRLEN, "out of memory");
        goto fail;
    }
    for (p = buf;;) {
        char *end = strchr(p, ',');
        if (end != NULL)
            *end = '\0';
        p += strspn(p, " \t");
        if (*p == '\0') {
            snprintf(err, RING_ERRLEN, "pnode list has an empty entry (entry %zu)", k + 1);
            goto fail;
        }
        while (*p != '\0') {
            char *w = p;
            p += strcspn(p, " \t");
            if (*p != '\0')
                *p++ = '\0';
            p += strspn(p, " \t");
            if (addr_ok(w, err) < 0)
                goto fail;
            names[k++] = w;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    memcpy(sorted, names, k * sizeof(char *));
    qsort(sorted, k, sizeof(char *), cmp_str);
    for (i = 1; i < k; i++) {
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            snprintf(err, RING_ERRLEN, "pnode '%s' is listed twice", sorted[i]);
            goto fail;
        }
    }
    free(sorted);
    *out = names;
    *n = k;
    return 0;
fail:
    free(names);
    free(sorted);
    return -1;
}

int rt_create(const rt_cmd_t *cmd)
{
    char err[RING_ERRLEN], msg[RING_ERRLEN];
    ring_algo_t algo = RING_HASH_XXH3;
    char *buf, **names = NULL;
    size_t n = 0;
    uint32_t count;
    ring_t *r;

    /* A bad -a, -v or -p is a usage error, as for every verb. */
    if (cmd->algo != NULL && ring_algo_parse(cmd->algo, &algo) < 0) {
        rt_fail(cmd, "unknown hash algorithm '%s' (want xxh3, sha256, sha1 or md5)", cmd->algo);
        return RT_EXIT_USAGE;
    }
    if (parse_count(cmd->vnodes, &count, err) < 0) {
        rt_fail(cmd, "%s", err);
        return RT_EXIT_USAGE;
    }
    if ((buf = strdup(cmd->pnodes)) == NULL)
        return rt_fail(cmd, "out of memory");
    if (split_pnodes(buf, &names, &n, err) < 0) {
        free(buf);
        rt_fail(cmd, "%s", err);
        return RT_EXIT_USAGE;
    }
    r = ring_new(algo, count, (const char *const *)names, n, err);
    free(names);
    free(buf);
    if (r == NULL)
        return rt_fail(cmd, "%s", err);
    snprintf(msg, sizeof(msg), "created %s ring of %u vnodes over %zu pnodes in %s", ring_algo_name(algo), count,
             n, cmd->dirs[0]);
    return store_new(cmd, r, msg);
}

/* The whole of FILE, or of stdin for "-". */
static char *read_all(const char *path, size_t *len, char *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL, *nb;
    size_t cap = 0, n = 0, got;

    if (f == NULL) {
        snprintf(err, RING_ERRLEN, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            if ((nb = realloc(buf, cap)) == NULL) {
                snprintf(err, RING_ERRLEN, "out of memory reading %s", path);
                goto fail;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        snprintf(err, RING_ERRLEN, "cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
fail:
    if (f != stdin)
        fclose(f);
    free(buf);
    return NULL;
}

int rt_import(const rt_cmd_t *cmd)
{
    char err[RING_ERRLEN], msg[RING_ERRLEN];
    const char *path = cmd->file;
    ring_t *r;
    char *json;
    size_t len, i;
    int rc;

    if ((json = read_all(path, &len, err)) == NULL)
        return rt_fail(cmd, "%s", err);
    rc = ring_import_json(json, len, &r, err);
    free(json);
    if (rc < 0)
        return rt_fail(cmd, "%s: %s", strcmp(path, "-") == 0 ? "stdin" : path, err);
    for (i = 0; i < ring_pnode_count(r); i++) {
        if (addr_ok(ring_pnode_name(r, i), err) < 0) {
            ring_free(r);
            return rt_fail(cmd, "%s", err);
        }
    }
    snprintf(msg, sizeof(msg), "imported %s ring of %u vnodes over %zu pnodes into %s",
             ring_algo_name(ring_algo(r)), ring_vnode_count(r), ring_pnode_count(r), cmd->dirs[0]);
    return store_new(cmd, r, msg);
}

/* --- edits of a stored ring ---------------------------------------------- */

static int remap(const rt_cmd_t *cmd, const ring_t *old, ring_t *nw, char *msg, char *err)
{
    char ranges[256];
    uint32_t *list;
    size_t n, i, on = 0;
    long p;

    if (ring_parse_vnode_list(cmd->vnodes, ring_vnode_count(old), &list, &n, err) < 0)
        return EDIT_USAGE;
    if (ring_pnode_find(old, cmd->pnodes) < 0 && addr_ok(cmd->pnodes, err) < 0)
        goto fail;
    if ((p = ring_add_pnode(nw, cmd->pnodes, err)) < 0)
        goto fail;
    /* Gather the vnodes already on the pnode at the front of the list. */
    for (i = 0; i < n; i++) {
        ring_node_t node;
        ring_vnode_node(nw, list[i], &node);
        if (node.pnode == (uint32_t)p)
            list[on++] = list[i];
    }
    if (on > 0) {
        rt_format_vnodes(list, on, ranges, sizeof(ranges));
        snprintf(err, RING_ERRLEN, "%s %s %s already on pnode %s; nothing was remapped",
                 on == 1 ? "vnode" : "vnodes", ranges, on == 1 ? "is" : "are", cmd->pnodes);
        goto fail;
    }
    for (i = 0; i < n; i++)
        ring_set_vnode_pnode(nw, list[i], (uint32_t)p);
    snprintf(msg, RING_ERRLEN, "remapped %zu %s to %s", n, n == 1 ? "vnode" : "vnodes", cmd->pnodes);
    free(list);
    return 0;
fail:
    free(list);
    return -1;
}

int rt_remap_vnodes(const rt_cmd_t *cmd)
{
    return edit(cmd, remap);
}

static int add_data(const rt_cmd_t *cmd, const ring_t *old, ring_t *nw, char *msg, char *err)
{
    const char *d = cmd->data != NULL ? cmd->data : "null", *p;
    uint32_t *list;
    size_t n, i;
    int clear = strcmp(d, "null") == 0;

    if (*d == '\0') {
        snprintf(err, RING_ERRLEN, "data is empty (use -d null, or no -d, to clear it)");
        return -1;
    }
    for (p = d; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(err, RING_ERRLEN, "data contains a control character");
            return -1;
        }
    }
    if (ring_parse_vnode_list(cmd->vnodes, ring_vnode_count(old), &list, &n, err) < 0)
        return EDIT_USAGE;
    for (i = 0; i < n; i++) {
        if (ring_set_vnode_data(nw, list[i], clear ? NULL : d, err) < 0) {
            free(list);
            return -1;
        }
        /* fash prints {"V":"DATA"} per vnode, "1" when it clears. */
        if (cmd->fash)
            printf("{\"%u\":\"%s\"}\n", list[i], clear ? "1" : d);
    }
    free(list);
    if (clear)
        snprintf(msg, RING_ERRLEN, "cleared the data of %zu %s", n, n == 1 ? "vnode" : "vnodes");
    else
        snprintf(msg, RING_ERRLEN, "set the data of %zu %s to %s", n, n == 1 ? "vnode" : "vnodes", d);
    return 0;
}

int rt_add_data(const rt_cmd_t *cmd)
{
    return edit(cmd, add_data);
}

static int remove_pnode(const rt_cmd_t *cmd, const ring_t *old, ring_t *nw, char *msg, char *err)
{
    if (ring_remove_pnode(nw, cmd->pnodes, err) < 0)
        return -1;
    snprintf(msg, RING_ERRLEN, "removed pnode %s", cmd->pnodes);
    return 0;
}

int rt_remove_pnode(const rt_cmd_t *cmd)
{
    return edit(cmd, remove_pnode);
}

static int rename_pnode(const rt_cmd_t *cmd, const ring_t *old, ring_t *nw, char *msg, char *err)
{
    const char *from = cmd->args[0], *to = cmd->args[1];
    long p = ring_pnode_find(old, from);
    uint32_t owned = p >= 0 ? ring_pnode_vnode_count(old, (size_t)p) : 0;

    if (p >= 0 && ring_pnode_find(old, to) < 0 && addr_ok(to, err) < 0)
        return -1;
    if (ring_rename_pnode(nw, from, to, err) < 0)
        return -1;
    snprintf(msg, RING_ERRLEN, "renamed pnode %s to %s (%u %s)", from, to, owned, owned == 1 ? "vnode" : "vnodes");
    return 0;
}

int rt_rename_pnode(const rt_cmd_t *cmd)
{
    return edit(cmd, rename_pnode);
}
