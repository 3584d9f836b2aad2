/*
 * ring-tool-read.c - the verbs that only read a ring. Each loads the whole
 * image with ring_load, which closes the database before it returns, so a
 * query never holds the ring's lock while it prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "ring-tool.h"

static int load(const rt_cmd_t *cmd, const char *dir, ring_t **r)
{
    char err[RING_ERRLEN];

    if (ring_load(dir, r, err) < 0)
        return rt_fail(cmd, "%s", err);
    return 0;
}

/* null for no data; data that reads as null or 1 (fash add-data -d null
 * stores the string) is quoted so that it cannot pass for no data. */
static const char *data_str(const ring_t *r, uint32_t v)
{
    const char *d = ring_vnode_data(r, v);

    if (d == NULL)
        return "null";
    if (strcmp(d, "null") == 0)
        return "\"null\"";
    if (strcmp(d, "1") == 0)
        return "\"1\"";
    return d;
}

static void print_vnode(const ring_t *r, uint32_t v)
{
    ring_node_t n;

    ring_vnode_node(r, v, &n);
    printf("%u pnode=%s data=%s\n", v, n.name, data_str(r, v));
}

static int finish(const rt_cmd_t *cmd, ring_t *r, int rc)
{
    ring_free(r);
    if (rc != 0)
        return rc;
    return rt_finish(cmd);
}

static int export_json(const rt_cmd_t *cmd, int fash_form);

/* --fash: the values fash prints, as one line of JSON. A vnode's data is
 * fash's: the number 1 for none, else the string. */
static void put_fash_data(json_buf_t *b, const char *d)
{
    if (d == NULL)
        json_puts(b, "1");
    else
        json_put_str(b, d, strlen(d));
}

/* {"V":{"pnode":P,"vnodeData":D},...}, fash's dataHash. */
static void put_fash_vnodes(json_buf_t *b, const ring_t *r, const uint32_t *list, size_t n)
{
    size_t i;

    json_puts(b, "{");
    for (i = 0; i < n; i++) {
        ring_node_t node;
        ring_vnode_node(r, list[i], &node);
        json_printf(b, "%s\"%u\":{\"pnode\":", i ? "," : "", list[i]);
        json_put_str(b, node.name, strlen(node.name));
        json_puts(b, ",\"vnodeData\":");
        put_fash_data(b, ring_vnode_data(r, list[i]));
        json_puts(b, "}");
    }
    json_puts(b, "}\n");
}

/* Writes b and frees it; an allocation that failed is the verb's error. */
static int flush_json(const rt_cmd_t *cmd, json_buf_t *b)
{
    int rc = 0;

    if (b->oom)
        rc = rt_fail(cmd, "out of memory formatting the output");
    else if (b->len > 0) /* an empty buffer may have no storage at all */
        fwrite(b->buf, 1, b->len, stdout);
    json_buf_free(b);
    return rc;
}

static void put_key_json(json_buf_t *b, const char *key, const ring_node_t *n, const char *data)
{
    json_puts(b, "{\"key\":");
    json_put_str(b, key, strlen(key));
    json_printf(b, ",\"vnode\":%u,\"pnode\":", n->vnode);
    json_put_str(b, n->name, strlen(n->name));
    json_puts(b, ",\"data\":");
    if (data == NULL)
        json_puts(b, "null");
    else
        json_put_str(b, data, strlen(data));
    json_puts(b, "}\n");
}

int rt_get_node(const rt_cmd_t *cmd)
{
    ring_t *r;
    json_buf_t b;
    size_t i;
    int rc = 0;

    if (load(cmd, cmd->dirs[0], &r) != 0)
        return cmd->fail_status;
    json_buf_init(&b);
    for (i = 0; i < cmd->nargs; i++) {
        const char *key = cmd->args[i];
        ring_node_t n;
        ring_lookup(r, key, strlen(key), &n);
        if (cmd->fash) {
            json_puts(&b, "{\"pnode\":");
            json_put_str(&b, n.name, strlen(n.name));
            json_printf(&b, ",\"vnode\":%u,\"data\":", n.vnode);
            put_fash_data(&b, ring_vnode_data(r, n.vnode));
            json_puts(&b, "}\n");
        } else if (!cmd->json) {
            printf("%s vnode=%u pnode=%s data=%s\n", key, n.vnode, n.name, data_str(r, n.vnode));
            continue;
        }
        else
            put_key_json(&b, key, &n, ring_vnode_data(r, n.vnode));
        if (b.oom) {
            rc = rt_fail(cmd, "out of memory formatting key '%s'", key);
            break;
        }
        fwrite(b.buf, 1, b.len, stdout);
        b.len = 0;
    }
    json_buf_free(&b);
    return finish(cmd, r, rc);
}

int rt_get_vnode_pnode_and_data(const rt_cmd_t *cmd)
{
    char err[RING_ERRLEN];
    ring_t *r;
    uint32_t *list;
    size_t n, i;

    if (load(cmd, cmd->dirs[0], &r) != 0)
        return cmd->fail_status;
    /* A list that does not fit the ring is a usage error, as -v's syntax is. */
    if (ring_parse_vnode_list(cmd->vnodes, ring_vnode_count(r), &list, &n, err) < 0) {
        rt_fail(cmd, "%s", err);
        return finish(cmd, r, RT_EXIT_USAGE);
    }
    if (cmd->fash) {
        json_buf_t b;
        json_buf_init(&b);
        put_fash_vnodes(&b, r, list, n);
        free(list);
        return finish(cmd, r, flush_json(cmd, &b));
    }
    for (i = 0; i < n; i++)
        print_vnode(r, list[i]);
    free(list);
    return finish(cmd, r, 0);
}

int rt_get_pnodes(const rt_cmd_t *cmd)
{
    ring_t *r;
    size_t i;

    if (load(cmd, cmd->dirs[0], &r) != 0)
        return cmd->fail_status;
    if (cmd->fash) {
        json_buf_t b;
        json_buf_init(&b);
        json_puts(&b, "[");
        for (i = 0; i < ring_pnode_count(r); i++) {
            json_puts(&b, i ? "," : "");
            json_put_str(&b, ring_pnode_name(r, i), strlen(ring_pnode_name(r, i)));
        }
        json_puts(&b, "]\n");
        return finish(cmd, r, flush_json(cmd, &b));
    }
    for (i = 0; i < ring_pnode_count(r); i++)
        printf("%s\n", ring_pnode_name(r, i));
    return finish(cmd, r, 0);
}

int rt_get_vnodes(const rt_cmd_t *cmd)
{
    ring_t *r;
    long p;
    uint32_t v;
    int first;

    if (load(cmd, cmd->dirs[0], &r) != 0)
        return cmd->fail_status;
    p = ring_pnode_find(r, cmd->args[0]);
    if (p < 0)
        return finish(cmd, r, rt_fail(cmd, "pnode '%s' is not in the ring", cmd->args[0]));
    if (cmd->fash)
        fputs("[", stdout);
    for (v = 0, first = 1; v < ring_vnode_count(r); v++) {
        ring_node_t n;
        ring_vnode_node(r, v, &n);
        if (n.pnode != (uint32_t)p)
            continue;
        if (cmd->fash)
            printf(first ? "%u" : ",%u", v);
        else
            printf("%u\n", v);
        first = 0;
    }
    if (cmd->fash)
        fputs("]\n", stdout);
    return finish(cmd, r, 0);
}

int rt_get_data_vnodes(const rt_cmd_t *cmd)
{
    ring_t *r;
    uint32_t *list;
    size_t n, i;

    if (load(cmd, cmd->dirs[0], &r) != 0)
        return cmd->fail_status;
    list = ring_data_vnodes(r, &n);
    if (list == NULL)
        return finish(cmd, r, rt_fail(cmd, "out of memory listing vnodes with data"));
    if (cmd->fash) {
        /* fash: the vnodeArray, then with -v the dataHash. */
        json_buf_t b;
        json_buf_init(&b);
        json_puts(&b, "[");
        for (i = 0; i < n; i++)
            json_printf(&b, i ? ",%u" : "%u", list[i]);
        json_puts(&b, "]\n");
        if (cmd->verbose)
            put_fash_vnodes(&b, r, list, n);
        free(list);
        return finish(cmd, r, flush_json(cmd, &b));
    }
    for (i = 0; i < n; i++)
        print_vnode(r, list[i]);
    free(list);
    return finish(cmd, r, 0);
}

int rt_print_hash(const rt_cmd_t *cmd)
{
    char hex[72], ranges[512];
    ring_t *r;
    uint32_t *list, nv;
    size_t n, i;

    /* fash print-hash (which always has -b) prints the serialized ring. */
    if (cmd->fash || cmd->backend)
        return export_json(cmd, 1);
    if (load(cmd, cmd->dirs[0], &r) != 0)
        return cmd->fail_status;
    nv = ring_vnode_count(r);
    ring_interval_hex(r, hex, sizeof(hex));
    printf("ring        %s\n", cmd->dirs[0]);
    printf("algorithm   %s%s\n", ring_algo_name(ring_algo(r)),
           ring_algo(r) == RING_HASH_XXH3 ? " (node-fash and electric-moray cannot read this ring)" : "");
    printf("vnodes      %u\n", nv);
    printf("generation  %llu\n", (unsigned long long)ring_generation(r));
    printf("version     %s\n", ring_version(r));
    printf("interval    %s\n", hex);
    printf("pnodes      %zu\n", ring_pnode_count(r));
    for (i = 0; i < ring_pnode_count(r); i++) {
        uint32_t c = ring_pnode_vnode_count(r, i);
        printf("  %-40s %10u vnodes %7.3f%%\n", ring_pnode_name(r, i), c, 100.0 * c / nv);
    }
    list = ring_data_vnodes(r, &n);
    if (list == NULL)
        return finish(cmd, r, rt_fail(cmd, "out of memory listing vnodes with data"));
    printf("data        %zu vnodes (%zu ro)\n", n, ring_ro_count(r));
    if (n > 0) {
        rt_format_vnodes(list, n, ranges, sizeof(ranges));
        printf("  %s\n", ranges);
    }
    free(list);
    return finish(cmd, r, 0);
}

static int same_data(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Lines for the pnodes only one ring has; returns how many. */
static size_t diff_pnodes(const ring_t *from, const ring_t *to, char mark)
{
    size_t i, n = 0;

    for (i = 0; i < ring_pnode_count(from); i++) {
        if (ring_pnode_find(to, ring_pnode_name(from, i)) < 0) {
            printf("%c pnode %s\n", mark, ring_pnode_name(from, i));
            n++;
        }
    }
    return n;
}

static size_t diff_rings(const ring_t *a, const ring_t *b, char *err)
{
    size_t diffs = 0, i;
    long *a_to_b;
    uint32_t v;

    if (ring_algo(a) != ring_algo(b)) {
        printf("< algorithm %s\n> algorithm %s\n", ring_algo_name(ring_algo(a)), ring_algo_name(ring_algo(b)));
        diffs++;
    }
    if (ring_vnode_count(a) != ring_vnode_count(b)) {
        printf("< vnodes %u\n> vnodes %u\n", ring_vnode_count(a), ring_vnode_count(b));
        diffs++;
    }
    diffs += diff_pnodes(a, b, '<');
    diffs += diff_pnodes(b, a, '>');
    if (ring_algo(a) != ring_algo(b) || ring_vnode_count(a) != ring_vnode_count(b))
        return diffs;
    /* Pnode indices differ between rings: compare through a name map. */
    a_to_b = malloc((ring_pnode_count(a) ? ring_pnode_count(a) : 1) * sizeof(long));
    if (a_to_b == NULL) {
        snprintf(err, RING_ERRLEN, "out of memory comparing the rings");
        return (size_t)-1;
    }
    for (i = 0; i < ring_pnode_count(a); i++)
        a_to_b[i] = ring_pnode_find(b, ring_pnode_name(a, i));
    for (v = 0; v < ring_vnode_count(a); v++) {
        ring_node_t na, nb;
        const char *da = ring_vnode_data(a, v), *db = ring_vnode_data(b, v);
        ring_vnode_node(a, v, &na);
        ring_vnode_node(b, v, &nb);
        if (a_to_b[na.pnode] == (long)nb.pnode && same_data(da, db))
            continue;
        printf("< %u pnode=%s data=%s\n", v, na.name, data_str(a, v));
        printf("> %u pnode=%s data=%s\n", v, nb.name, data_str(b, v));
        diffs++;
    }
    free(a_to_b);
    return diffs;
}

/* The vnodes of ring r outside pnode p of ring o (o == r: all of p's),
 * as a JSON array; returns how many. */
static size_t put_vnodes_not_in(json_buf_t *jb, const ring_t *r, const char *p, const ring_t *o)
{
    long pr = ring_pnode_find(r, p), po = ring_pnode_find(o, p);
    size_t n = 0;
    uint32_t v;

    json_puts(jb, "[");
    for (v = 0; v < ring_vnode_count(r); v++) {
        ring_node_t node, other;
        ring_vnode_node(r, v, &node);
        if (node.pnode != (uint32_t)pr)
            continue;
        if (o != r && po >= 0 && v < ring_vnode_count(o)) {
            ring_vnode_node(o, v, &other);
            if (other.pnode == (uint32_t)po)
                continue;
        }
        json_printf(jb, n++ ? ",%u" : "%u", v);
    }
    json_puts(jb, "]");
    return n;
}

/* fash diff's JSON: {"P":{"removed":[..],"added":[..]}} for each pnode
 * whose vnodes differ, a pnode of one ring only with all of its vnodes
 * (even none, as fash does); nothing when the rings agree. */
static int diff_fash(const rt_cmd_t *cmd, const ring_t *a, const ring_t *b)
{
    json_buf_t jb, rm, ad;
    size_t i, k = 0, na = ring_pnode_count(a);

    json_buf_init(&jb);
    json_buf_init(&rm);
    json_buf_init(&ad);
    for (i = 0; i < na + ring_pnode_count(b); i++) {
        const char *p = i < na ? ring_pnode_name(a, i) : ring_pnode_name(b, i - na);
        int in_a = ring_pnode_find(a, p) >= 0, in_b = ring_pnode_find(b, p) >= 0;
        size_t nrm = 0, nad = 0;
        int show_rm, show_ad;
        if (i >= na && in_a)
            continue;
        rm.len = ad.len = 0;
        if (in_a)
            nrm = put_vnodes_not_in(&rm, a, p, in_b ? b : a);
        if (in_b)
            nad = put_vnodes_not_in(&ad, b, p, in_a ? a : b);
        show_rm = in_a && (!in_b || nrm > 0);
        show_ad = in_b && (!in_a || nad > 0);
        if (!show_rm && !show_ad)
            continue;
        json_puts(&jb, k++ ? "," : "{");
        json_put_str(&jb, p, strlen(p));
        json_puts(&jb, ":{");
        if (show_rm) {
            json_puts(&jb, "\"removed\":");
            json_put(&jb, rm.buf, rm.len);
        }
        if (show_ad) {
            json_puts(&jb, show_rm ? ",\"added\":" : "\"added\":");
            json_put(&jb, ad.buf, ad.len);
        }
        json_puts(&jb, "}");
    }
    if (k > 0)
        json_puts(&jb, "}\n");
    if (rm.oom || ad.oom)
        jb.oom = 1;
    json_buf_free(&rm);
    json_buf_free(&ad);
    return flush_json(cmd, &jb);
}

int rt_diff(const rt_cmd_t *cmd)
{
    char err[RING_ERRLEN];
    const char *dir_a, *dir_b;
    ring_t *a, *b;
    size_t diffs;
    int rc;

    if (cmd->ndirs + cmd->nargs != 2)
        return rt_fail(cmd, "needs two rings: -l DIR_A DIR_B (see 'ring-tool diff --help')");
    /* fash's form names both rings as arguments: diff -b leveldb A B. */
    dir_a = cmd->ndirs > 0 ? cmd->dirs[0] : cmd->args[0];
    dir_b = cmd->ndirs == 2 ? cmd->dirs[1] : cmd->args[cmd->nargs - 1];
    if (load(cmd, dir_a, &a) != 0)
        return cmd->fail_status;
    if (load(cmd, dir_b, &b) != 0) {
        ring_free(a);
        return cmd->fail_status;
    }
    if (cmd->fash || cmd->ndirs == 0) {
        rc = diff_fash(cmd, a, b);
        ring_free(a);
        ring_free(b);
        return rc != 0 ? rc : rt_finish(cmd);
    }
    diffs = diff_rings(a, b, err);
    ring_free(a);
    ring_free(b);
    if (diffs == (size_t)-1)
        return rt_fail(cmd, "%s", err);
    if ((rc = rt_finish(cmd)) != 0)
        return rc;
    return diffs > 0 ? 1 : 0;
}

int rt_verify(const rt_cmd_t *cmd)
{
    ring_t *r;
    size_t i;

    if (load(cmd, cmd->dirs[0], &r) != 0)
        return cmd->fail_status;
    for (i = 0; i < ring_pnode_count(r); i++) {
        if (rt_check_addr(cmd, ring_pnode_name(r, i)) != 0)
            return finish(cmd, r, cmd->fail_status);
    }
    printf("ok %s: %s, %u vnodes, %zu pnodes, %zu with data, generation %llu\n", cmd->dirs[0],
           ring_algo_name(ring_algo(r)), ring_vnode_count(r), ring_pnode_count(r), ring_data_count(r),
           (unsigned long long)ring_generation(r));
    return finish(cmd, r, 0);
}

int rt_export(const rt_cmd_t *cmd)
{
    return export_json(cmd, cmd->fash);
}

static int export_json(const rt_cmd_t *cmd, int fash_form)
{
    char err[RING_ERRLEN];
    ring_t *r;
    char *json;
    size_t len;

    if (load(cmd, cmd->dirs[0], &r) != 0)
        return cmd->fail_status;
    json = ring_export_json(r, fash_form, &len, err);
    if (json == NULL)
        return finish(cmd, r, rt_fail(cmd, "%s", err));
    fwrite(json, 1, len, stdout);
    fputc('\n', stdout);
    free(json);
    return finish(cmd, r, 0);
}
