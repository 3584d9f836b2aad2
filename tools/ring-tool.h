/*
 * ring-tool.h - what the verbs of ring-tool share: the parsed command line,
 * the one path that reports an error, and the verbs themselves.
 */
#ifndef RING_TOOL_H
#define RING_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

/* Exit statuses: a verb that failed, and a command line that makes no
 * sense (diff uses RT_EXIT_USAGE for every failure, as diff(1) does). */
#define RT_EXIT_FAIL 1
#define RT_EXIT_USAGE 2

typedef struct {
    const char *verb;
    const char *dirs[2]; /* -l; only diff takes two */
    size_t ndirs;
    const char *vnodes;  /* -v */
    const char *pnodes;  /* -p */
    const char *algo;    /* -a */
    const char *data;    /* -d */
    const char *file;    /* -f: import's FILE, as fash deserialize-ring takes it */
    int json;            /* --json */
    int fash;            /* --fash: fash's output (or -b, for print-hash) */
    int backend;         /* -b leveldb was given */
    int fash_compatible; /* --fash-compatible: create a ring fash can read */
    int verbose;         /* get-data-vnodes -v (fash's --verbose) */
    int output;          /* -o: print the stored ring as fash's JSON too */
    int fash_stdin;      /* called as deserialize-ring: no FILE reads stdin */
    /* reshard's own flags */
    const char *proxies; /* --proxies */
    const char *split;   /* --split */
    const char *to;      /* --to */
    const char *batch;   /* --batch */
    const char *state;   /* --state */
    int no_proxies, rebalance, dry_run, rollback, hash_tags, dirname_routing;
    char **args;         /* positional arguments */
    size_t nargs;
    int fail_status;     /* what rt_fail returns */
} rt_cmd_t;

/* Prints "ring-tool: <verb>: <message>" on stderr and returns the verb's
 * failure status. Every error of every verb goes through here. */
int rt_fail(const rt_cmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Flushes stdout and returns 0, or reports why it could not. */
int rt_finish(const rt_cmd_t *cmd);
/* Vnodes as "0-9,12,15": at most len bytes, the rest summarised. */
void rt_format_vnodes(const uint32_t *v, size_t n, char *buf, size_t len);
/* Fails unless name is an address a proxy can route to. */
int rt_check_addr(const rt_cmd_t *cmd, const char *name);

/* Read-only verbs (ring-tool-read.c): each loads the ring and lets go. */
int rt_get_node(const rt_cmd_t *cmd);
int rt_get_vnode_pnode_and_data(const rt_cmd_t *cmd);
int rt_get_pnodes(const rt_cmd_t *cmd);
int rt_get_vnodes(const rt_cmd_t *cmd);
int rt_get_data_vnodes(const rt_cmd_t *cmd);
int rt_print_hash(const rt_cmd_t *cmd);
int rt_diff(const rt_cmd_t *cmd);
int rt_verify(const rt_cmd_t *cmd);
int rt_export(const rt_cmd_t *cmd);

/* Verbs that store a ring (ring-tool-write.c): one atomic batch each. */
int rt_create(const rt_cmd_t *cmd);
int rt_import(const rt_cmd_t *cmd);
int rt_remap_vnodes(const rt_cmd_t *cmd);
int rt_add_data(const rt_cmd_t *cmd);
int rt_remove_pnode(const rt_cmd_t *cmd);
int rt_rename_pnode(const rt_cmd_t *cmd);

/* Moves vnodes between live pnodes (ring-tool-reshard.c). */
int rt_reshard(const rt_cmd_t *cmd);

#endif
